//! The report: the structs below *are* the schema of `report.json` (`docs/report.schema.json` is generated from
//! them, and a test keeps the two in step), and one exporter per format turns a report into files.
//!
//! Field names carry their units (`duration_s`, `contact_time_ms`, `width_px`). A report is only ever written
//! whole: see [`crate::output::write_atomically`].

pub mod csv;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, AnalysisSettings};
use crate::video::VideoInfo;

/// Version of the report's layout; bumped whenever a field changes meaning or is removed.
pub const REPORT_SCHEMA: &str = "runform-report-v1";

/// Everything runform found in one clip: the contents of `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The layout version, [`REPORT_SCHEMA`].
    pub schema: String,
    /// The runform version that wrote the report.
    pub runform_version: String,
    /// The input clip.
    pub input: VideoInfo,
    /// Who and when, as the user gave them.
    pub session: SessionInfo,
    /// Everything that changes the report's numbers; a rerun with equal settings on the same clip (same SHA-256)
    /// is skipped by `runform batch`.
    pub settings: ReportSettings,
    /// What the pose stage found.
    pub pose: PoseSummary,
    /// Gait events, per-step values, metric summaries, warnings and flags.
    pub analysis: Analysis,
    /// Where the time went.
    pub timings: Timings,
}

/// The athlete and session date, as given on the command line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionInfo {
    /// The athlete's name or code (`--athlete`).
    pub athlete: Option<String>,
    /// The session date, YYYY-MM-DD (`--session-date`).
    pub session_date: Option<String>,
}

/// The settings a report was made with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportSettings {
    /// The runform version (a newer version may measure differently).
    pub runform_version: String,
    /// The landmark model preset: `lite`, `full` or `heavy`.
    pub model: String,
    /// `tracking` (the detector only when the runner is lost) or `every_frame`.
    pub detection_mode: String,
    /// Where the user said the runner is, as fractions of the frame's width and height.
    pub runner_at: Option<[f32; 2]>,
    /// The analysis settings: view, height, treadmill speed, filter, thresholds and reference ranges.
    pub analysis: AnalysisSettings,
}

/// The pose stage's counts and speed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PoseSummary {
    /// Frames decoded and processed.
    pub frames: u64,
    /// Frames in which the runner's pose was found.
    pub frames_with_pose: u64,
    /// Person-detector runs (the rest of the frames were tracked).
    pub detector_runs: u64,
    /// Landmark-model runs.
    pub landmark_runs: u64,
    /// Loading the models, seconds.
    pub model_load_s: f64,
    /// Decoding and inference (overlapped), seconds.
    pub run_s: f64,
    /// Frames per second over `run_s`.
    pub end_to_end_fps: f64,
}

/// Wall-clock time of each stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Timings {
    /// Opening and hashing the clip, decoding and the pose stage, seconds.
    pub decode_and_pose_s: f64,
    /// The analysis stage, seconds.
    pub analysis_s: f64,
    /// The whole run including writing the outputs, seconds.
    pub total_s: f64,
}

/// The JSON Schema of [`Report`], as committed in `docs/report.schema.json`.
pub fn report_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed schema is what the structs generate. To update it after changing a struct:
    /// `UPDATE_SCHEMA=1 cargo test --release report_schema`.
    #[test]
    fn committed_report_schema_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
        let mut generated = serde_json::to_string_pretty(&report_schema()).expect("schema serialises");
        generated.push('\n');
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).expect("write schema");
        }
        let committed = std::fs::read_to_string(&path).expect("docs/report.schema.json is committed");
        assert!(
            committed == generated,
            "docs/report.schema.json is stale: run UPDATE_SCHEMA=1 cargo test --release report_schema"
        );
    }
}
