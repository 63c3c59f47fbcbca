//! `runform batch` through the binary: good clips scored, bad ones named with their reason, non-zero exit,
//! and a rerun that redoes nothing.

mod common;

use std::path::Path;
use std::process::Command;

fn batch(folder: &Path, out: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_runform"))
        .args(["batch", "--jobs", "2"])
        .arg(folder)
        .arg("--out")
        .arg(out)
        .output()
        .expect("runform runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("batch-summary.json")).expect("summary written")).expect("JSON")
}

#[test]
fn bad_clips_are_named_good_ones_scored_and_a_rerun_redoes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(clips.join("tuesday")).expect("mkdir");
    common::make_clip(&clips, "monday.mp4", 160, 120, 20);
    common::make_clip(&clips.join("tuesday"), "monday.mp4", 160, 120, 20); // same name, other folder
    std::fs::write(clips.join("zero.mp4"), b"").expect("write");
    std::fs::write(clips.join("text.mp4"), "not a video\n".repeat(20)).expect("write");
    let whole = std::fs::read(clips.join("monday.mp4")).expect("read");
    std::fs::write(clips.join("truncated.mp4"), &whole[..whole.len() / 2]).expect("write");
    std::fs::write(clips.join("notes.txt"), b"not a clip, ignored").expect("write");
    let out = dir.path().join("out");

    let (code, stdout, stderr) = batch(&clips, &out);
    assert_eq!(code, 40, "some clips failed: {stdout}{stderr}");
    let first = summary(&out);
    assert_eq!(first["clips_found"], 5);
    assert_eq!(first["scored"], 2);
    assert_eq!(first["failed"], 3);
    for bad in ["zero.mp4", "text.mp4", "truncated.mp4"] {
        assert!(stdout.contains(bad), "{bad} must be named: {stdout}");
        let entry = first["clips"]
            .as_array()
            .expect("clips")
            .iter()
            .find(|c| c["clip"] == bad)
            .expect("listed");
        assert_eq!(entry["status"], "failed");
        assert!(entry["reason"].as_str().expect("reason").contains(bad));
    }
    assert!(out.join("monday/report.json").is_file());
    assert!(out.join("tuesday/monday/report.json").is_file());
    let csv = std::fs::read_to_string(out.join("batch-summary.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 6, "header + one row per clip:\n{csv}");

    let (code, _, _) = batch(&clips, &out);
    assert_eq!(code, 40);
    let second = summary(&out);
    assert_eq!(second["scored"], 0, "nothing to redo");
    assert_eq!(second["up_to_date"], 2);
    assert_eq!(second["failed"], 3, "bad clips are tried again and fail again");
}

#[test]
fn two_clips_with_one_name_in_one_folder_both_keep_their_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).expect("mkdir");
    common::make_clip(&clips, "run.mp4", 160, 120, 20);
    common::make_clip(&clips, "run.mov", 160, 120, 25);
    let out = dir.path().join("out");
    let (code, stdout, stderr) = batch(&clips, &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(summary(&out)["scored"], 2);
    // Each report is its own clip's: neither overwrote the other.
    for (folder, frames) in [("run-mp4", 20), ("run-mov", 25)] {
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(folder).join("report.json")).expect("report"))
                .expect("JSON");
        assert_eq!(report["input"]["frame_count"], frames, "{folder}");
    }
    assert!(!out.join("run").exists());
    // A rerun finds both up to date.
    assert_eq!(batch(&clips, &out).0, 0);
    assert_eq!(summary(&out)["up_to_date"], 2);
}

/// A folder in `dir` with one small clip, `run.mp4`, batch-scored once: (the clips, the output folder).
fn one_clip_scored(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let clips = dir.join("clips");
    std::fs::create_dir_all(&clips).expect("mkdir");
    common::make_clip(&clips, "run.mp4", 160, 120, 20);
    let out = dir.join("out");
    assert_eq!(batch(&clips, &out).0, 0);
    (clips, out)
}

#[test]
fn a_changed_clip_is_scored_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (clips, out) = one_clip_scored(dir.path());
    common::make_clip(&clips, "run.mp4", 160, 120, 25); // re-exported: other bytes
    assert_eq!(batch(&clips, &out).0, 0);
    assert_eq!(summary(&out)["scored"], 1);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run/report.json")).expect("report")).expect("JSON");
    assert_eq!(report["input"]["frame_count"], 25);
}

#[test]
fn a_batch_killed_midway_and_rerun_ends_with_the_reports_of_a_clean_run() {
    interrupted_batch_then_rerun("KILL");
}

#[test]
fn a_batch_terminated_midway_and_rerun_ends_with_the_reports_of_a_clean_run() {
    interrupted_batch_then_rerun("TERM");
}

/// Starts a batch of sample copies, sends `signal` once the first report exists, reruns, and compares the reports
/// with those of a clean run.
fn interrupted_batch_then_rerun(signal: &str) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.mp4");
    assert!(sample.is_file(), "{} is missing: run scripts/setup", sample.display());
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).expect("mkdir");
    for name in ["a", "b", "c", "d"] {
        std::fs::copy(&sample, clips.join(format!("{name}.mp4"))).expect("copy");
    }

    let killed_out = dir.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_runform"))
        .args(["batch", "--jobs", "2", "-q"])
        .arg(&clips)
        .arg("--out")
        .arg(&killed_out)
        .spawn()
        .expect("starts");
    // Kill it once the first report is written and before the last (each clip takes seconds).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while common::reports_below(&killed_out).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let sent = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "SIG{signal} sent");
    let _ = child.wait();
    let survived = common::reports_below(&killed_out).len();
    assert!((1..4).contains(&survived), "killed midway: {survived} of 4 reports");

    let (code, _, stderr) = batch(&clips, &killed_out);
    assert_eq!(code, 0, "{stderr}");
    let resumed = summary(&killed_out);
    assert_eq!(
        resumed["up_to_date"].as_u64(),
        Some(survived as u64),
        "finished clips are not redone"
    );
    let leftovers: Vec<_> = walk_names(&killed_out)
        .into_iter()
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let clean_out = dir.path().join("clean");
    assert_eq!(batch(&clips, &clean_out).0, 0);
    assert_eq!(common::reports_below(&killed_out), common::reports_below(&clean_out));
}

fn walk_names(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("list").flatten() {
            if entry.path().is_dir() {
                folders.push(entry.path());
            } else {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    names
}

#[test]
fn an_output_folder_removed_mid_batch_loses_nothing_that_a_rerun_cannot_redo() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.mp4");
    assert!(sample.is_file(), "{} is missing: run scripts/setup", sample.display());
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).expect("mkdir");
    for name in ["a", "b", "c"] {
        std::fs::copy(&sample, clips.join(format!("{name}.mp4"))).expect("copy");
    }
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_runform"))
        .args(["batch", "--jobs", "1", "-q"])
        .arg(&clips)
        .arg("--out")
        .arg(&out)
        .spawn()
        .expect("starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while common::reports_below(&out).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The batch may be writing into the folder while it is removed, so a removal can meet a file
    // created after it listed the folder (ENOTEMPTY); try again until the folder is gone.
    let mut attempt = 0;
    while let Err(err) = std::fs::remove_dir_all(&out) {
        attempt += 1;
        if err.kind() == std::io::ErrorKind::NotFound {
            break;
        }
        assert!(attempt < 100, "remove the output folder mid-batch: {err}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let status = child.wait().expect("batch ends");
    assert!(
        matches!(status.code(), Some(0 | 40)),
        "the batch carries on and ends normally: {status:?}"
    );
    assert!(out.join("batch-summary.json").is_file(), "the summary is still written");
    for report in common::reports_below(&out).values() {
        assert!(report["analysis"].is_object(), "every report left is whole");
    }
    let (code, _, stderr) = batch(&clips, &out);
    assert_eq!(code, 0, "the rerun completes: {stderr}");
    assert_eq!(common::reports_below(&out).len(), 3);
}

#[test]
fn a_report_made_by_another_runform_build_is_scored_again_and_said_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (clips, out) = one_clip_scored(dir.path());
    let path = out.join("run/report.json");
    let report = |path: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).expect("report")).expect("JSON")
    };
    assert_eq!(report(&path)["settings"]["runform_build"], runform::BUILD);
    // As an earlier build left it (the same settings otherwise), an earlier version, and a build from before
    // reports named theirs.
    // The last two also come from before reports named their model files: what they are told is the build.
    for (version, earlier, said, names_model_files) in [
        (
            "0.1.0",
            Some("0.1.0+src.000000000000"),
            "made by runform 0.1.0+src.000000000000",
            true,
        ),
        (
            "0.0.9",
            Some("0.0.9+src.000000000000"),
            "made by runform 0.0.9+src.000000000000",
            false,
        ),
        (
            "0.1.0",
            None,
            "made by a runform from before reports named their build",
            false,
        ),
    ] {
        let mut old = report(&path);
        old["settings"]["runform_version"] = version.into();
        if !names_model_files {
            old["settings"].as_object_mut().expect("settings").remove("model_files");
        }
        match earlier {
            Some(build) => old["settings"]["runform_build"] = build.into(),
            None => {
                old["settings"]
                    .as_object_mut()
                    .expect("settings")
                    .remove("runform_build");
            }
        }
        std::fs::write(&path, serde_json::to_vec(&old).expect("JSON")).expect("write");
        let (code, stdout, stderr) = batch(&clips, &out);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let resumed = summary(&out);
        assert_eq!(
            (resumed["scored"].as_u64(), resumed["up_to_date"].as_u64()),
            (Some(1), Some(0))
        );
        let reason = resumed["clips"][0]["reason"].as_str().expect("why it was scored again");
        assert!(
            reason.contains("run.mp4: scored again, since its report was") && reason.contains(said),
            "{reason}"
        );
        assert!(
            stdout.contains("1 clip(s) had a report made by another runform build and were scored again"),
            "{stdout}"
        );
        assert_eq!(
            report(&path)["settings"]["runform_build"],
            runform::BUILD,
            "rewritten by this build"
        );
    }
    // This build's report is left alone.
    assert_eq!(batch(&clips, &out).0, 0);
    assert_eq!(summary(&out)["up_to_date"], 1);
}

#[test]
fn a_batch_run_with_other_model_files_scores_its_clips_again_and_each_report_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (clips, out) = one_clip_scored(dir.path());
    let path = out.join("run/report.json");
    let report =
        || -> serde_json::Value { serde_json::from_slice(&std::fs::read(&path).expect("report")).expect("JSON") };
    let shipped = report()["settings"]["model_files"].clone();
    assert_eq!(
        shipped["pose_landmark_full.onnx"], "544ad624e795",
        "as in models/SHA256SUMS"
    );
    assert_eq!(shipped["pose_detection.onnx"], "adfb61c6d72f");
    assert!(
        !report()["analysis"]["warnings"]
            .to_string()
            .contains("other_pose_models")
    );

    // A user's own landmark model: here the heavy network under the full model's name, a real model that runs.
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let own = dir.path().join("own-models");
    std::fs::create_dir_all(&own).expect("mkdir");
    for (from, to) in [
        ("pose_detection.onnx", "pose_detection.onnx"),
        ("pose_landmark_heavy.onnx", "pose_landmark_full.onnx"),
        ("pose_landmark_heavy.onnx", "pose_landmark_heavy.onnx"),
    ] {
        std::fs::copy(models.join(from), own.join(to)).expect("copy model");
    }
    let batch_with_own_models = || {
        let output = Command::new(env!("CARGO_BIN_EXE_runform"))
            .args(["batch", "--jobs", "2"])
            .arg(&clips)
            .arg("--out")
            .arg(&out)
            .env("RUNFORM_MODELS_DIR", &own)
            .output()
            .expect("runform runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        summary(&out)
    };
    let resumed = batch_with_own_models();
    assert_eq!(
        (resumed["scored"].as_u64(), resumed["up_to_date"].as_u64()),
        (Some(1), Some(0))
    );
    let own_report = report();
    assert_eq!(
        own_report["settings"]["model_files"]["pose_landmark_full.onnx"],
        "069210a0fe67"
    );
    assert_eq!(
        own_report["settings"]["model_files"]["pose_detection.onnx"],
        "adfb61c6d72f"
    );
    let warning = own_report["analysis"]["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .find(|warning| warning["kind"] == "other_pose_models")
        .expect("the report warns")["message"]
        .as_str()
        .expect("words")
        .to_owned();
    assert!(
        warning.contains("own-models/pose_landmark_full.onnx (SHA-256 069210a0fe67…, the shipped one's 544ad624e795…)")
            && !warning.contains("pose_detection.onnx")
            && warning.contains("RUNFORM_MODELS_DIR"),
        "{warning}"
    );
    // Again with the same models: nothing to do; with the shipped ones: scored again.
    assert_eq!(batch_with_own_models()["up_to_date"], 1);
    assert_eq!(batch(&clips, &out).0, 0);
    assert_eq!(summary(&out)["scored"], 1);
    assert_eq!(report()["settings"]["model_files"], shipped);
}

#[test]
fn a_clip_that_now_fails_says_its_earlier_report_is_not_this_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (clips, out) = one_clip_scored(dir.path());
    let earlier = std::fs::read(out.join("run/report.json")).expect("report");
    std::fs::write(clips.join("run.mp4"), b"not a video any more").expect("overwrite the clip");
    let (code, stdout, stderr) = batch(&clips, &out);
    assert_eq!(code, 40, "{stdout}{stderr}");
    let summary = summary(&out);
    assert_eq!(summary["failed"], 1);
    let reason = summary["clips"][0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("run.mp4") && reason.contains("run/report.json is an earlier analysis's report"),
        "{reason}"
    );
    assert_eq!(summary["clips"][0]["report"], serde_json::Value::Null);
    // Kept: nothing is lost.
    assert_eq!(std::fs::read(out.join("run/report.json")).expect("report"), earlier);
}
