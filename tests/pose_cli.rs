//! `runform pose` end to end: the binary on a real clip writes a blazepose-peer-v1 file MediaPipe's tools can
//! read, and a missing model ends the run with exit code 21 and a sentence naming the file and the fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use runform::peer::PeerFile;

fn shared_clip(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/videos")
        .join(name);
    if path.is_file() {
        return Some(path);
    }
    eprintln!(
        "skipped: {} is absent (../shared is only on developer and CI machines)",
        path.display()
    );
    None
}

fn runtime_present() -> bool {
    let present = runform::pose::runtime::init_runtime().is_ok();
    if !present {
        eprintln!("skipped: the ONNX Runtime library is absent (run scripts/setup)");
    }
    present
}

#[test]
fn pose_writes_a_peer_file_with_the_runner_on_most_frames() {
    let Some(clip) = shared_clip("overground_side_run_sports2d_demo3.mp4") else {
        return;
    };
    if !runtime_present() || runform::pose::models::find_model(runform::pose::models::DETECTOR_FILE).is_err() {
        eprintln!("skipped: models or runtime absent");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("landmarks.json");
    let status = Command::new(env!("CARGO_BIN_EXE_runform"))
        .args(["pose", "-q", "-o"])
        .arg(&out)
        .arg(&clip)
        .status()
        .expect("runform runs");
    assert!(status.success(), "{status}");
    let file = PeerFile::read(&out).expect("a blazepose-peer-v1 file");
    assert_eq!(file.meta.extra["variant"], "full");
    let sequence = file.to_sequence();
    assert_eq!(sequence.frames.len(), 47);
    let with_pose = sequence.frames.iter().filter(|f| f.pose.is_some()).count();
    assert!(with_pose >= 30, "runner on {with_pose} of 47 frames");
}

#[test]
fn missing_model_exits_21_naming_the_file_and_the_fix() {
    let Some(clip) = shared_clip("overground_side_run_sports2d_demo3.mp4") else {
        return;
    };
    if !runtime_present() {
        return;
    }
    let empty = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_runform"))
        .env("RUNFORM_MODELS_DIR", empty.path())
        .args(["pose", "-o"])
        .arg(empty.path().join("out.json"))
        .arg(&clip)
        .output()
        .expect("runform runs");
    assert_eq!(output.status.code(), Some(21));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pose_detection.onnx") && stderr.contains("scripts/setup") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert!(!empty.path().join("out.json").exists(), "no partial output");
}
