//! `runform analyze` on bad input: one sentence naming the file and the fix, the documented exit code, no panic
//! and no report left behind. (Foundation issue: "Bad input … each gives one clear sentence … and a distinct,
//! documented exit code.")

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `runform analyze CLIP --out OUT`; returns (exit code, stderr).
fn analyze(clip: &Path, out: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_runform"))
        .arg("analyze")
        .arg(clip)
        .arg("--out")
        .arg(out)
        .output()
        .expect("runform runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Builds each bad input in `dir`: (label, path, expected exit code, a word the message must contain).
fn bad_inputs(dir: &Path) -> Vec<(&'static str, PathBuf, i32, &'static str)> {
    let missing = dir.join("no-such-clip.mp4");
    let folder = dir.join("a-folder.mp4");
    std::fs::create_dir(&folder).expect("mkdir");
    let empty = dir.join("empty.mp4");
    std::fs::write(&empty, b"").expect("write");
    let text = dir.join("notes.mp4");
    std::fs::write(&text, "Monday: 5 km easy, felt good.\n".repeat(50)).expect("write");

    let whole = common::make_clip(dir, "whole.mp4", 320, 240, 90);
    let bytes = std::fs::read(&whole).expect("read");
    let truncated = dir.join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");

    let audio = dir.join("audio-only.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        "-c:a",
        "aac",
        audio.to_str().expect("utf-8"),
    ]);
    let single = common::make_clip(dir, "single-frame.mp4", 320, 240, 1);

    vec![
        ("missing path", missing, 10, "no such file"),
        ("directory", folder, 11, "folder"),
        ("zero bytes", empty, 12, "empty"),
        ("text named .mp4", text, 13, "not a video"),
        ("truncated", truncated, 14, "truncated"),
        ("no video stream", audio, 15, "no video stream"),
        ("single frame", single, 16, "frame"),
    ]
}

#[test]
fn each_bad_input_gives_one_sentence_a_distinct_code_and_no_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    for (label, path, expected_code, phrase) in bad_inputs(dir.path()) {
        let (code, stderr) = analyze(&path, &out);
        let file_name = path.file_name().expect("name").to_string_lossy().into_owned();
        assert_eq!(code, expected_code, "{label}: exit code; stderr: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{label}: one line, got {stderr:?}"
        );
        assert!(stderr.starts_with("runform: error: "), "{label}: {stderr}");
        assert!(
            stderr.contains(&file_name),
            "{label}: message must name the file: {stderr}"
        );
        assert!(
            stderr.to_lowercase().contains(phrase),
            "{label}: message must say {phrase:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{label}: {stderr}");
        let report = out.join(path.file_stem().expect("stem")).join("report.json");
        assert!(!report.exists(), "{label}: no report may be written");
    }
}

#[test]
fn a_good_clip_writes_a_complete_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = common::make_clip(dir.path(), "good.mp4", 320, 240, 30);
    let out = dir.path().join("out");
    let (code, stderr) = analyze(&clip, &out);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("good/report.json")).expect("report written")).expect("JSON");
    assert_eq!(report["input"]["frame_count"], 30);
    assert_eq!(report["input"]["width_px"], 320);
    let leftovers: Vec<_> = std::fs::read_dir(out.join("good"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn help_lists_every_exit_code() {
    let output = Command::new(env!("CARGO_BIN_EXE_runform"))
        .arg("--help")
        .output()
        .expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for (exit, meaning) in runform::error::EXIT_CODES {
        assert!(
            help.contains(&format!("{:>3}  {meaning}", exit.code())),
            "--help lacks exit code {}",
            exit.code()
        );
    }
}

#[test]
fn unusable_output_folder_is_reported_before_any_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = common::make_clip(dir.path(), "good.mp4", 320, 240, 10);
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").expect("write");
    let (code, stderr) = analyze(&clip, &blocker);
    assert_eq!(code, 30, "{stderr}");
    assert!(stderr.contains("not-a-folder"), "{stderr}");
}

#[test]
fn the_lite_model_is_refused_for_analysis_with_its_reason_before_any_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = common::make_clip(dir.path(), "good.mp4", 320, 240, 10);
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_runform"))
        .arg("analyze")
        .arg(&clip)
        .arg("--out")
        .arg(&out)
        .args(["--model", "lite"])
        .output()
        .expect("runform runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not offered for analysis"), "{stderr}");
    assert!(stderr.contains("use auto (the default), full or heavy"), "{stderr}");
    assert!(!out.exists(), "nothing is written");
}
