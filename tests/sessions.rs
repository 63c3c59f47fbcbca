//! Sessions (issue 11): one session filmed from the side and from behind gives one report in which every metric
//! names its view and clip, with one overlay per clip and one HTML page; a batch manifest gives one report per
//! session carrying its athlete, date and notes, names its bad rows by line, and `runform compare` over the
//! output groups the sessions by athlete; a folder pairs `NAME_side.*` with `NAME_rear.*`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn runform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runform"))
        .args(args)
        .output()
        .expect("runform runs")
}

fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Checks what every two-view report must hold: one entry per metric of the side clip's analysis, each naming a
/// view and one of the two clips, a frontal-plane metric from the frontal clip, and the cadence check.
fn assert_two_view_report(report: &serde_json::Value, side: &Path, rear: &Path) {
    assert_eq!(report["schema"], "runform-report-v2");
    common::assert_valid(report);
    let metrics = report["metrics"].as_array().expect("session metrics");
    let per_clip = report["analysis"]["metrics"].as_array().expect("clip metrics");
    assert_eq!(metrics.len(), per_clip.len(), "one session entry per metric");
    let (side, rear) = (side.to_string_lossy(), rear.to_string_lossy());
    for metric in metrics {
        let view = metric["view"].as_str().expect("every metric names its view");
        assert!(["side", "rear", "front", "oblique"].contains(&view), "{metric}");
        let clip = metric["source_clip"].as_str().expect("every metric names its clip");
        assert!(clip == side || clip == rear, "{clip} is one of the session's clips");
        if clip == rear {
            assert_eq!(view, report["rear"]["analysis"]["view"]["used"], "{metric}");
        } else {
            assert_eq!(view, report["analysis"]["view"]["used"], "{metric}");
        }
    }
    let pelvic_drop = metrics
        .iter()
        .find(|m| m["metric"] == "pelvic_drop_midstance_deg")
        .expect("pelvic drop");
    assert_eq!(
        pelvic_drop["source_clip"], *rear,
        "pelvic drop comes from the frontal clip"
    );
    assert_eq!(report["rear"]["input"]["path"], *rear);
    let agreement = &report["cadence_agreement"];
    assert!(
        agreement["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{agreement}"
    );
}

#[test]
fn the_studio_pair_is_one_session_whose_metrics_name_their_view() {
    let Some(videos) = common::shared_videos() else {
        return;
    };
    let side = videos.join("walk_side_studio_inplace.mp4");
    let front = videos.join("walk_front_studio_inplace.mp4");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let output = runform(&[
        "analyze",
        text(&side),
        "--rear",
        text(&front),
        "--out",
        text(&out),
        "--html",
        "--athlete",
        "studio",
        "--session-date",
        "2026-11-02",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let folder = out.join("walk_side_studio_inplace");
    let report = read_json(&folder.join("report.json"));
    assert_two_view_report(&report, &side, &front);
    // The frontal clip shows the runner from in front, and says so.
    assert_eq!(report["rear"]["analysis"]["view"]["used"], "front");
    assert_eq!(report["analysis"]["view"]["used"], "side");
    assert!(
        stdout.contains("[side view]") && stdout.contains("[front view]"),
        "{stdout}"
    );
    assert!(stdout.contains("cadence check:"), "{stdout}");
    // One page with both clips' evidence.
    let html = std::fs::read_to_string(folder.join("report.html")).expect("report.html");
    for id in [
        "summary",
        "views",
        "side-cycle",
        "side-steps",
        "rear-pelvis",
        "rear-steps",
        "side-quality",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id} in report.html");
    }
    // Each metric, measured or not, names the view and clip it comes from.
    assert!(
        html.contains("front view (walk_front_studio_inplace.mp4)"),
        "the frontal clip is named"
    );
    assert!(
        html.contains("side view (walk_side_studio_inplace.mp4)"),
        "the side clip is named"
    );
    for file in [
        "steps.csv",
        "steps-rear.csv",
        "landmarks.json",
        "landmarks-rear.json",
        "summary.csv",
    ] {
        assert!(folder.join(file).is_file(), "{file} written");
    }
    // The summary row is the session's: both clips joined, side first.
    let summary = std::fs::read_to_string(folder.join("summary.csv")).expect("summary.csv");
    assert!(summary.contains("walk_side_studio_inplace.mp4+"), "{summary}");
}

#[test]
fn a_pair_named_the_other_way_round_gets_one_overlay_per_clip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let side = common::make_clip(dir.path(), "run-side.mp4", 160, 120, 20);
    let rear = common::make_clip(dir.path(), "run-rear.mp4", 160, 120, 20);
    let out = dir.path().join("out");
    let output = runform(&[
        "analyze",
        text(&rear),
        "--side",
        text(&side),
        "--out",
        text(&out),
        "--overlay",
        "--html",
        "-q",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let folder = out.join("run-side");
    let report = read_json(&folder.join("report.json"));
    assert_two_view_report(&report, &side, &rear);
    for overlay in ["overlay.mp4", "overlay-rear.mp4"] {
        let frames = common::ffprobe_frame_times(&folder.join(overlay));
        assert_eq!(frames.len(), 20, "{overlay} has every frame of its clip");
    }
    let html = std::fs::read_to_string(folder.join("report.html")).expect("report.html");
    assert!(html.contains("src=\"overlay.mp4\"") && html.contains("src=\"overlay-rear.mp4\""));
}

#[test]
fn a_single_clip_report_keeps_its_v1_fields_and_names_its_view() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = common::make_clip(dir.path(), "alone.mp4", 160, 120, 20);
    let out = dir.path().join("out");
    let output = runform(&["analyze", text(&clip), "--out", text(&out), "-q", "--view", "side"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = read_json(&out.join("alone/report.json"));
    common::assert_valid(&report);
    assert!(report.get("rear").is_none() && report.get("cadence_agreement").is_none());
    for field in ["input", "session", "settings", "pose", "analysis", "timings"] {
        assert!(report.get(field).is_some(), "{field} is still there");
    }
    let metrics = report["metrics"].as_array().expect("metrics");
    assert_eq!(
        metrics.len(),
        report["analysis"]["metrics"].as_array().expect("clip metrics").len()
    );
    assert!(
        metrics
            .iter()
            .all(|m| m["view"] == "side" && m["source_clip"] == text(&clip))
    );
}

#[test]
fn a_manifest_gives_one_report_per_session_names_its_bad_row_and_compare_groups_by_athlete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).expect("mkdir");
    for name in [
        "ar-1-side",
        "ar-1-rear",
        "ar-2-side",
        "bk-1-side",
        "bk-1-rear",
        "bk-2-side",
        "bk-2-rear",
    ] {
        common::make_clip(&clips, &format!("{name}.mp4"), 160, 120, 20);
    }
    // Two athletes, two dates each (AR's second session has only a side clip), and one bad row on line 4.
    let manifest = dir.path().join("sessions.csv");
    std::fs::write(
        &manifest,
        "athlete,session_date,side_clip,rear_clip,speed,height_cm,notes\n\
         AR,2026-11-02,clips/ar-1-side.mp4,clips/ar-1-rear.mp4,12km/h,178,first visit\n\
         AR,2026-11-30,clips/ar-2-side.mp4,,12km/h,178,\n\
         BK,2026-11-03,clips/no-such-clip.mp4,,,,\n\
         BK,2026-11-03,clips/bk-1-side.mp4,clips/bk-1-rear.mp4,10km/h,165,\"knee pain, left\"\n\
         BK,2026-12-01,clips/bk-2-side.mp4,clips/bk-2-rear.mp4,10km/h,165,\n",
    )
    .expect("write manifest");
    let out = dir.path().join("out");
    let batch = [
        "batch",
        "--manifest",
        text(&manifest),
        "--out",
        text(&out),
        "--jobs",
        "2",
    ];
    let output = runform(&batch);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(40),
        "the bad row fails the batch: {stdout}{stderr}"
    );
    assert!(
        stdout.contains("sessions.csv line 4"),
        "the bad row is named by its line: {stdout}"
    );
    assert!(stdout.contains("no-such-clip.mp4"), "{stdout}");

    let reports = common::reports_below(&out);
    assert_eq!(reports.len(), 4, "one report per good session: {:?}", reports.keys());
    let ar_first = read_json(&out.join("AR/2026-11-02/ar-1-side/report.json"));
    assert_eq!(ar_first["session"]["athlete"], "AR");
    assert_eq!(ar_first["session"]["notes"], "first visit");
    assert_eq!(ar_first["settings"]["analysis"]["height_cm"], 178.0);
    assert!(ar_first["rear"].is_object(), "a two-view session");
    let ar_second = read_json(&out.join("AR/2026-11-30/ar-2-side/report.json"));
    assert!(ar_second.get("rear").is_none(), "a side clip only");
    assert_eq!(ar_second["analysis"]["view"]["requested"], "side");
    let bk_first = read_json(&out.join("BK/2026-11-03/bk-1-side/report.json"));
    assert_eq!(bk_first["session"]["notes"], "knee pain, left");
    let speed = bk_first["settings"]["analysis"]["treadmill_speed_mps"]
        .as_f64()
        .expect("speed");
    assert!((speed - 10.0 / 3.6).abs() < 1e-9);
    for folder in reports.keys() {
        common::assert_valid(&read_json(&out.join(folder)));
    }

    // The summary lists the sessions grouped by athlete and date, the bad row with them.
    let summary = read_json(&out.join("batch-summary.json"));
    assert_eq!(summary["clips_found"], 5);
    assert_eq!(summary["failed"], 1);
    let listed: Vec<(String, String)> = summary["clips"]
        .as_array()
        .expect("clips")
        .iter()
        .map(|c| {
            (
                c["athlete"].as_str().unwrap_or("").to_owned(),
                c["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let athletes: Vec<&str> = listed.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(athletes, ["AR", "AR", "BK", "BK", ""], "{listed:?}");
    let csv = std::fs::read_to_string(out.join("batch-summary.csv")).expect("csv");
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.starts_with("clip,athlete,session_date,status"))
    );

    // A rerun redoes nothing and still names the bad row.
    let again = runform(&batch);
    assert_eq!(again.status.code(), Some(40));
    assert_eq!(read_json(&out.join("batch-summary.json"))["up_to_date"], 4);

    // compare over the whole output: one comparison per athlete, each athlete's sessions by date.
    let compared = runform(&["compare", text(&out), "--json", "-"]);
    assert!(
        compared.status.success(),
        "{}",
        String::from_utf8_lossy(&compared.stderr)
    );
    let comparison: serde_json::Value = serde_json::from_slice(&compared.stdout).expect("JSON");
    let groups = comparison["athletes"].as_array().expect("grouped by athlete");
    assert_eq!(groups.len(), 2);
    for (group, (athlete, dates)) in groups.iter().zip([
        ("AR", ["2026-11-02", "2026-11-30"]),
        ("BK", ["2026-11-03", "2026-12-01"]),
    ]) {
        assert_eq!(group["athlete"], athlete);
        let sessions: Vec<&str> = group["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .map(|s| s["session_date"].as_str().expect("date"))
            .collect();
        assert_eq!(sessions, dates);
    }
    let table = runform(&["compare", text(&out)]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("athlete AR") && table.contains("athlete BK"), "{table}");
}

#[test]
fn a_manifest_that_is_not_one_is_refused_with_its_exit_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let missing = dir.path().join("missing.csv");
    let output = runform(&["batch", "--manifest", text(&missing), "--out", text(&out)]);
    assert_eq!(output.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.csv"));
    let wrong = dir.path().join("wrong.csv");
    std::fs::write(&wrong, "name,clip\nAR,a.mp4\n").expect("write");
    let output = runform(&["batch", "--manifest", text(&wrong), "--out", text(&out)]);
    assert_eq!(output.status.code(), Some(18));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("wrong.csv") && stderr.contains("athlete,session_date,side_clip"),
        "{stderr}"
    );
    assert!(
        !out.join("batch-summary.json").exists(),
        "nothing written for a manifest that is not one"
    );
}

#[test]
fn a_folder_pairs_side_and_rear_clips_into_one_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).expect("mkdir");
    common::make_clip(&clips, "anna_side.mp4", 160, 120, 20);
    common::make_clip(&clips, "anna_rear.mov", 160, 120, 20);
    common::make_clip(&clips, "ben_side.mp4", 160, 120, 20); // no rear clip: on its own, as before
    let out = dir.path().join("out");
    let output = runform(&["batch", text(&clips), "--out", text(&out), "--jobs", "2", "-q"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reports = common::reports_below(&out);
    assert_eq!(reports.len(), 2, "{:?}", reports.keys());
    let anna = read_json(&out.join("anna/report.json"));
    assert_two_view_report(&anna, &clips.join("anna_side.mp4"), &clips.join("anna_rear.mov"));
    assert!(read_json(&out.join("ben_side/report.json")).get("rear").is_none());
    let summary = read_json(&out.join("batch-summary.json"));
    let keys: Vec<&str> = summary["clips"]
        .as_array()
        .expect("clips")
        .iter()
        .map(|c| c["clip"].as_str().expect("key"))
        .collect();
    assert_eq!(keys, ["anna", "ben_side.mp4"]);
}

#[test]
fn a_manifest_splits_into_shards_and_merges_back_with_its_bad_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["a-side", "a-rear", "b-side", "c-rear"] {
        common::make_clip(dir.path(), &format!("{name}.mp4"), 160, 120, 20);
    }
    let manifest = dir.path().join("sessions.csv");
    std::fs::write(
        &manifest,
        "athlete,session_date,side_clip,rear_clip,speed,height_cm,notes\n\
         A,2026-11-02,a-side.mp4,a-rear.mp4,,,\n\
         A,2026-11-30,b-side.mp4,,,,\n\
         B,2026-11-02,,c-rear.mp4,,,\n\
         B,not a date,b-side.mp4,,,,\n",
    )
    .expect("write manifest");
    let out = dir.path().join("out");
    let mut shard_failures = 0;
    for shard in ["0/2", "1/2"] {
        let output = runform(&[
            "batch",
            "--manifest",
            text(&manifest),
            "--out",
            text(&out),
            "--shard",
            shard,
            "-q",
        ]);
        let shard_file = read_json(&out.join(format!("batch-shard-{}-of-2.json", &shard[..1])));
        shard_failures += shard_file["summary"]["failed"].as_u64().expect("failed count");
        assert!(matches!(output.status.code(), Some(0 | 40)), "{output:?}");
    }
    assert_eq!(shard_failures, 1, "the bad row fails in exactly one shard");
    let merged = runform(&[
        "batch",
        "--manifest",
        text(&manifest),
        "--out",
        text(&out),
        "--summarize",
    ]);
    let stdout = String::from_utf8_lossy(&merged.stdout);
    assert_eq!(merged.status.code(), Some(40), "{stdout}");
    assert!(stdout.contains("sessions.csv line 5: the session date"), "{stdout}");
    let summary = read_json(&out.join("batch-summary.json"));
    assert_eq!(summary["clips_found"], 4);
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["pending"], 0, "every good session merged: {summary}");
    let rear_only = read_json(&out.join("B/2026-11-02/c-rear/report.json"));
    assert_eq!(rear_only["analysis"]["view"]["requested"], "rear");
}
