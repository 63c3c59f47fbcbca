//! `runform analyze` end to end on real clips: the report validates against the committed JSON Schema
//! (docs/report.schema.json), the CSV tables load, and `--json -` prints the same report.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn runform(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_runform"))
        .args(args)
        .output()
        .expect("runform runs")
}

/// Analyses `clip` into `out` with `extra` arguments; returns the report as JSON.
fn analyze(clip: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "analyze",
        clip.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "-q",
    ];
    args.extend_from_slice(extra);
    let output = runform(&args);
    assert!(
        output.status.success(),
        "analyze failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stem = clip.file_stem().expect("stem");
    serde_json::from_slice(&std::fs::read(out.join(stem).join("report.json")).expect("report")).expect("JSON")
}

fn sample_clip() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.mp4");
    assert!(path.is_file(), "{} is missing: run scripts/setup", path.display());
    path
}

#[test]
fn sample_clip_report_validates_and_its_tables_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = analyze(
        &sample_clip(),
        dir.path(),
        &["--athlete", "sample", "--session-date", "2026-01-15"],
    );
    common::assert_valid(&report);
    // The schema really constrains: a wrong type or a missing section is caught.
    let mut broken = report.clone();
    broken["input"]["frame_count"] = "many".into();
    assert!(
        !common::schema_validator().is_valid(&broken),
        "a string frame count must fail validation"
    );
    let mut broken = report.clone();
    broken.as_object_mut().expect("object").remove("analysis");
    assert!(
        !common::schema_validator().is_valid(&broken),
        "a report without analysis must fail validation"
    );
    assert_eq!(report["schema"], "runform-report-v2");
    assert_eq!(report["session"]["athlete"], "sample");
    assert_eq!(report["input"]["frame_count"], 230);
    // The walker is followed once she is the more plausible of the two people (about a third of the clip; the
    // man on the box before that is a bystander and his frames are dropped).
    assert!(
        report["pose"]["frames_with_pose"].as_u64().expect("count") > 60,
        "the walker is found"
    );
    let folder = dir.path().join("demo");
    for name in ["landmarks.json", "steps.csv", "summary.csv"] {
        assert!(folder.join(name).is_file(), "{name} written");
    }
    // Absence reasons hold commas: read it as CSV, as pandas or R would.
    let mut reader = csv::Reader::from_path(folder.join("summary.csv")).expect("summary");
    let header_columns = reader.headers().expect("header").len();
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("row")).collect();
    assert_eq!(rows.len(), 1, "one row per clip");
    assert_eq!(rows[0].len(), header_columns);
    // `--model auto` (the default) runs full; the report and the summary name the model the numbers rest on.
    assert_eq!(
        (&report["settings"]["model"], &report["pose"]["model"]),
        (&serde_json::json!("auto"), &serde_json::json!("full"))
    );
    let pose_model = reader.headers().expect("header").iter().position(|c| c == "pose_model");
    assert_eq!(pose_model.and_then(|i| rows[0].get(i)), Some("full"));
    let build = reader
        .headers()
        .expect("header")
        .iter()
        .position(|c| c == "runform_build");
    assert_eq!(build.and_then(|i| rows[0].get(i)), Some(runform::BUILD));
}

#[test]
fn treadmill_fixture_report_validates_with_metrics_steps_and_units() {
    let Some(videos) = common::shared_videos() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = videos.join("treadmill_side_gym_portrait60.mp4");
    let report = analyze(&clip, dir.path(), &["--speed", "10km/h", "--height-cm", "175"]);
    common::assert_valid(&report);
    assert_eq!(report["analysis"]["view"]["used"], "side");
    let steps = report["analysis"]["steps"].as_array().expect("steps");
    assert!(steps.len() >= 12, "{} steps in 6.5 s of running", steps.len());
    let cadence = report["analysis"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["metric"] == "cadence_steps_per_min")
        .expect("cadence");
    let mean = cadence["both"]["mean"].as_f64().expect("cadence measured");
    // A pose-free motion check puts this clip's cadence near 168.5 steps/min (../shared/videos/PROVENANCE.md).
    assert!((160.0..178.0).contains(&mean), "cadence {mean}");

    let csv = std::fs::read_to_string(dir.path().join("treadmill_side_gym_portrait60/steps.csv")).expect("csv");
    assert_eq!(csv.lines().count(), steps.len() + 1, "one row per step");
    assert!(csv.lines().next().expect("header").contains("contact_time_ms"));

    let stdout = runform(&[
        "analyze",
        clip.to_str().expect("utf-8"),
        "--out",
        dir.path().to_str().expect("utf-8"),
        "--speed",
        "10km/h",
        "--height-cm",
        "175",
        "--json",
        "-",
        "-q",
    ]);
    let printed: serde_json::Value = serde_json::from_slice(&stdout.stdout).expect("--json - prints the report");
    assert_eq!(
        printed["analysis"]["steps"], report["analysis"]["steps"],
        "same landmarks, same analysis"
    );
    // Both labellers of this clip (tests/labels, ../shared/labels) call every far-foot (left) landing rearfoot:
    // the report's strike pattern says so in the JSON and in summary.csv.
    let left = report["analysis"]["strike_patterns"]
        .as_array()
        .and_then(|patterns| patterns.iter().find(|p| p["side"] == "left"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(left["class"], "rearfoot", "{left}");
    // Both put it at 14-15°, far past the 8° line: not on the line with midfoot.
    assert!(left["on_the_line_with"].is_null(), "{left}");
    let mut summary =
        csv::Reader::from_path(dir.path().join("treadmill_side_gym_portrait60/summary.csv")).expect("summary.csv");
    let header = summary.headers().expect("header").clone();
    let row = summary.records().next().expect("a row").expect("row");
    let column = header
        .iter()
        .position(|h| h == "left_foot_strike_pattern")
        .expect("column");
    assert_eq!(&row[column], "rearfoot");
}

#[test]
fn a_config_file_changes_thresholds_and_a_typo_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("clinic.toml");
    std::fs::write(&config, "[thresholds]\nmin_steps_per_metric = 3\n").expect("write");
    let clip = common::make_clip(dir.path(), "clip.mp4", 160, 120, 20);
    let report = analyze(
        &clip,
        &dir.path().join("out"),
        &["--config", config.to_str().expect("utf-8")],
    );
    assert_eq!(report["settings"]["analysis"]["thresholds"]["min_steps_per_metric"], 3);
    assert_eq!(
        report["settings"]["analysis"]["thresholds"]["min_landmark_confidence"], 0.3,
        "others keep defaults"
    );

    std::fs::write(&config, "[thresholds]\nmin_step_per_metric = 3\n").expect("write");
    let output = runform(&[
        "analyze",
        clip.to_str().expect("utf-8"),
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("clinic.toml") && stderr.contains("min_step_per_metric"),
        "{stderr}"
    );
}

/// A clip whose feet are out of frame: no foot strike, tibia or overstride number in any output, each with its
/// reason — the JSON, `steps.csv`, `summary.csv` and the HTML page (issue 10).
#[test]
fn feet_out_of_frame_leave_no_foot_numbers_in_any_output() {
    let Some(videos) = common::shared_videos() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = videos.join("treadmill_side_cropped_feet_stock.mp4");
    let report = analyze(&clip, dir.path(), &["--html"]);
    common::assert_valid(&report);
    let folder = dir.path().join("treadmill_side_cropped_feet_stock");
    let foot_metrics = [
        "foot_strike_angle_deg",
        "tibia_angle_ic_deg",
        "overstride_pct_leg_length",
    ];
    let metrics = report["analysis"]["metrics"].as_array().expect("metrics");
    for name in foot_metrics {
        let metric = metrics.iter().find(|m| m["metric"] == name).expect("listed");
        assert!(metric["both"].is_null() && metric["left"].is_null(), "{name}: {metric}");
        // The reason is the feet, not the running: the stride search alone blamed walking or rails held.
        assert!(
            metric["absent_reason"]
                .as_str()
                .is_some_and(|r| r.contains("the feet are out of frame or hidden in")),
            "{name}: {metric}"
        );
    }
    for step in report["analysis"]["steps"].as_array().expect("steps") {
        for name in foot_metrics {
            assert!(step["values"][name].is_null(), "a step holds {name}: {step}");
        }
        assert!(step["foot_strike_class"].is_null(), "{step}");
    }

    let mut steps = csv::Reader::from_path(folder.join("steps.csv")).expect("steps.csv");
    let header = steps.headers().expect("header").clone();
    for row in steps.records() {
        let row = row.expect("row");
        for name in foot_metrics.iter().chain(&["foot_strike_class"]) {
            let column = header.iter().position(|h| h == *name).expect("column");
            assert_eq!(row.get(column), Some(""), "steps.csv holds {name}");
        }
    }
    let mut summary = csv::Reader::from_path(folder.join("summary.csv")).expect("summary.csv");
    let header = summary.headers().expect("header").clone();
    let row = summary.records().next().expect("a row").expect("row");
    for name in foot_metrics {
        let cell = |suffix: &str| {
            let column = header
                .iter()
                .position(|h| h == format!("{name}_{suffix}"))
                .expect("column");
            row.get(column).unwrap_or_default().to_owned()
        };
        assert_eq!(cell("mean"), "", "summary.csv holds {name}");
        assert!(
            !cell("absent_reason").is_empty(),
            "summary.csv gives no reason for {name}"
        );
    }

    let html = std::fs::read_to_string(folder.join("report.html")).expect("report.html");
    let not_measured = html.split("Not measured").nth(1).expect("a Not measured table");
    for label in ["Foot strike angle", "Tibia angle", "Overstride"] {
        assert!(
            not_measured.to_lowercase().contains(&label.to_lowercase()),
            "{label} is not in the HTML's Not measured table"
        );
    }
    assert!(
        !html.contains("data-metric=\"foot_strike_angle_deg\""),
        "the HTML shows a foot strike card"
    );
}

#[test]
fn a_rerun_without_html_or_overlay_leaves_no_earlier_html_or_overlay_beside_its_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = common::make_clip(dir.path(), "run.mp4", 160, 120, 20);
    let out = dir.path().join("out");
    let folder = out.join("run");
    analyze(&clip, &out, &["--html", "--overlay"]);
    assert!(folder.join("report.html").is_file() && folder.join("overlay.mp4").is_file());
    // A file of the user's in the folder is not runform's to remove.
    std::fs::write(folder.join("notes.txt"), "mine").expect("write");
    analyze(&clip, &out, &["--session-date", "2026-02-01"]);
    assert!(
        !folder.join("report.html").exists() && !folder.join("overlay.mp4").exists(),
        "the earlier run's page and video would show as this report's"
    );
    assert!(folder.join("report.json").is_file() && folder.join("notes.txt").is_file());
}
