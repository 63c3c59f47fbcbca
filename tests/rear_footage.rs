//! Pelvic drop on real footage from behind and in front: `runform analyze` (the real pose stage and analysis)
//! on the frontal-view fixture clips. Before the rear-view work, `walk_rear_forest_pexels.mp4` read −0.2 ± 12.4°
//! per step, a spread no pelvis has: its events from behind were wrong, not its hips (the hip line jitters by
//! about 0.6° from frame to frame there). Every pelvic drop such a clip reports must now be one a steady gait
//! can show: per side, steps within the 2.8° smallest detectable difference of 2D pelvic drop of each other
//! (standard deviation; Dingenen et al. 2018, Phys Ther Sport 33:40), or absent with a reason.
//!
//! The clips live in `../shared/videos` (never in this repository): the test skips with a message where that
//! folder is absent. The synthetic runner seen from behind (`analysis_synthetic.rs`) tests the same measures
//! everywhere.

mod common;

use std::process::Command;

/// Largest per-side standard deviation of a clip's per-step pelvic drop, degrees: the smallest detectable
/// difference of 2D pelvic drop between sessions (Dingenen et al. 2018), which a steady runner's steps within
/// one session stay inside.
const MAX_PER_STEP_SD_DEG: f64 = 2.8;

/// The frontal-view fixtures: walking from behind in a forest (slow motion), running away from a camera on the
/// ground, and walking in place facing the camera.
const CLIPS: [&str; 3] = [
    "walk_rear_forest_pexels",
    "rear_overground_openpose_overlay_radluy",
    "walk_front_studio_inplace",
];

fn sd(values: &[f64]) -> f64 {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

#[test]
fn pelvic_drop_on_real_frontal_footage_is_steady_or_absent_with_a_reason() {
    let Some(videos) = common::shared_videos() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for name in CLIPS {
        let clip = videos.join(format!("{name}.mp4"));
        let output = Command::new(env!("CARGO_BIN_EXE_runform"))
            .args(["analyze", clip.to_str().expect("utf-8"), "--out"])
            .arg(dir.path())
            .arg("-q")
            .output()
            .expect("runform runs");
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(name).join("report.json")).expect("report"))
                .expect("JSON");
        let analysis = &report["analysis"];
        assert!(
            matches!(analysis["view"]["used"].as_str(), Some("rear" | "front")),
            "{name}: {}",
            analysis["view"]
        );
        let summary = analysis["metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .find(|m| m["metric"] == "pelvic_drop_midstance_deg")
            .expect("pelvic drop listed");
        let steps = analysis["steps"].as_array().expect("steps");
        for side in ["left", "right"] {
            let values: Vec<f64> = steps
                .iter()
                .filter(|step| step["side"] == side && step["measured"] == true)
                .filter_map(|step| step["values"]["pelvic_drop_midstance_deg"].as_f64())
                .collect();
            eprintln!("{name} {side}: {} steps with a pelvic drop {values:.1?}", values.len());
            if values.len() >= 2 {
                let spread = sd(&values);
                assert!(
                    spread <= MAX_PER_STEP_SD_DEG,
                    "{name} {side}: per-step pelvic drop SD {spread:.1} deg > {MAX_PER_STEP_SD_DEG}: {values:?}"
                );
            }
        }
        if summary["both"].is_null() {
            let reason = summary["absent_reason"].as_str().unwrap_or_default();
            eprintln!("{name}: pelvic drop absent: {reason}");
            assert!(!reason.is_empty(), "{name}: absent without a reason");
        }
    }
}
