//! The committed models are the ones `models/SHA256SUMS` (and `models/README.md`) describe: a damaged or
//! half-committed model file fails here rather than as strange landmarks.

use std::path::Path;

#[test]
fn every_committed_model_matches_its_pinned_sha256() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let sums = std::fs::read_to_string(models.join("SHA256SUMS")).expect("models/SHA256SUMS is committed");
    let mut checked = Vec::new();
    for line in sums.lines().filter(|line| !line.trim().is_empty()) {
        let (expected, name) = line.split_once("  ").expect("sha256sum format: HASH  NAME");
        let actual = runform::video::file_sha256(&models.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(actual, expected, "{name} does not match models/SHA256SUMS");
        checked.push(name.to_owned());
    }
    checked.sort();
    assert_eq!(
        checked,
        [
            "pose_detection.onnx",
            "pose_landmark_full.onnx",
            "pose_landmark_heavy.onnx",
            "pose_landmark_lite.onnx"
        ]
    );
}
