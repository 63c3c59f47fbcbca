//! Writes seed inputs for the fuzz targets (scripts/fuzz): a short synthetic runner as a blazepose-peer-v1 landmark
//! file, and the report runform makes of it, so the fuzzers start from valid files instead of from nothing.
//!
//! usage: fuzz_seeds OUT_DIR   (writes OUT_DIR/<target>/… for peer_landmarks, report_json and compare_reports)
use std::path::PathBuf;

use runform::analysis::{AnalysisSettings, analyze_sequence};
use runform::peer::PeerFile;
use runform::report::{PoseSummary, REPORT_SCHEMA, Report, ReportSettings, SessionInfo, Timings};
use runform::synthetic::{Corruption, SyntheticRunner};
use runform::video::VideoInfo;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args_os().nth(1).ok_or("usage: fuzz_seeds OUT_DIR")?);
    // 1.2 s at 30 fps: two strides, small enough for the fuzzers' 64 kB input limit.
    let runner = SyntheticRunner {
        fps: 30.0,
        duration_s: 1.2,
        ..SyntheticRunner::default()
    };
    let clip = runner.generate(&Corruption::default());
    let peer = PeerFile::from_sequence(&clip.sequence, serde_json::Map::new());
    std::fs::create_dir_all(out.join("peer_landmarks"))?;
    std::fs::write(out.join("peer_landmarks/runner.json"), serde_json::to_vec(&peer)?)?;
    let settings = AnalysisSettings::default();
    let analysis = analyze_sequence(&clip.sequence, &settings);
    let mut report = Report {
        schema: REPORT_SCHEMA.to_owned(),
        runform_version: env!("CARGO_PKG_VERSION").to_owned(),
        input: VideoInfo {
            path: "synthetic.mp4".into(),
            file_size_byte: 0,
            sha256: String::new(),
            width_px: runner.width_px,
            height_px: runner.height_px,
            fps: runner.fps,
            frame_count: clip.sequence.frames.len() as u64,
            frame_count_exact: true,
            duration_s: runner.duration_s,
            codec: "none".into(),
            rotation_deg: 0,
            truncation: None,
        },
        session: SessionInfo::default(),
        settings: ReportSettings {
            runform_version: env!("CARGO_PKG_VERSION").to_owned(),
            runform_build: Some(runform::BUILD.to_owned()),
            model: "full".into(),
            model_files: None,
            detection_mode: "tracking".into(),
            runner_at: None,
            analysis: settings,
        },
        pose: PoseSummary {
            frames: clip.sequence.frames.len() as u64,
            frames_with_pose: clip.sequence.frames.len() as u64,
            detector_runs: 1,
            landmark_runs: clip.sequence.frames.len() as u64,
            model_load_s: 0.0,
            run_s: 0.0,
            end_to_end_fps: 0.0,
            model: Some("full".into()),
            model_choice: None,
        },
        analysis,
        metrics: Vec::new(),
        rear: None,
        cadence_agreement: None,
        timings: Timings {
            decode_and_pose_s: 0.0,
            analysis_s: 0.0,
            total_s: 0.0,
        },
    };
    report.combine_views();
    for target in ["report_json", "compare_reports"] {
        std::fs::create_dir_all(out.join(target))?;
        std::fs::write(out.join(target).join("report.json"), serde_json::to_vec(&report)?)?;
    }
    Ok(())
}
