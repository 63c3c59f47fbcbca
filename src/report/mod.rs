//! The report: the structs below *are* the schema of `report.json` (`docs/report.schema.json` is generated from
//! them, and a test keeps the two in step), and one exporter per format turns a report into files.
//!
//! Field names carry their units (`duration_s`, `contact_time_ms`, `width_px`). A report is only ever written
//! whole: see [`crate::output::write_atomically`].

pub mod csv;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, AnalysisSettings, Flag};
use crate::metrics::{MetricId, MetricSummary};
use crate::session::{self, CadenceAgreement, SessionClip, SessionMetric};
use crate::video::VideoInfo;

/// Version of the report's layout; bumped whenever a field changes meaning, is removed or is added. The changes
/// from one version to the next are listed in `docs/sessions.md` ("The report's versions").
///
/// v2 added `metrics` (every metric of the session naming its view and clip), `rear` and `cadence_agreement`
/// (two-view sessions) and `session.notes`; everything a v1 report holds is still there with the same meaning.
pub const REPORT_SCHEMA: &str = "runform-report-v2";

/// Everything runform found in one session: the contents of `report.json`. A session is one clip, or a side clip
/// and a rear clip of the same runner (`runform analyze SIDE --rear REAR`); `input`, `pose` and `analysis` are
/// then the side clip's and `rear` holds the rear clip's, while `metrics` is the session's answer, each metric
/// from the view that can show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The layout version, [`REPORT_SCHEMA`].
    pub schema: String,
    /// The runform version that wrote the report.
    pub runform_version: String,
    /// The input clip (in a two-view session, the side clip).
    pub input: VideoInfo,
    /// Who and when, as the user gave them.
    pub session: SessionInfo,
    /// Everything that changes the report's numbers; a rerun with equal settings on the same clip (same SHA-256)
    /// is skipped by `runform batch`.
    pub settings: ReportSettings,
    /// What the pose stage found in `input`.
    pub pose: PoseSummary,
    /// The analysis of `input` on its own: gait events, per-step values, metric summaries, warnings and flags.
    pub analysis: Analysis,
    /// The session's metrics (since v2): one per metric, each from the clip whose view can show it, naming that
    /// view and clip. For a single clip these are `analysis.metrics` with the clip's view; in a two-view session
    /// the sagittal metrics come from the side clip, the frontal-plane ones (pelvic drop) from the rear clip, and
    /// the rest from the side clip where it measured them. Read this, not `analysis.metrics`, for the session's
    /// values.
    #[serde(default)]
    pub metrics: Vec<SessionMetric>,
    /// The rear clip of a two-view session (since v2), analysed on its own; absent for a single clip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rear: Option<ClipSection>,
    /// Two-view sessions (since v2): the cadence of each clip and whether they agree (the clips need not be
    /// filmed at the same moment, so their frames are not aligned, but their cadences must agree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence_agreement: Option<CadenceAgreement>,
    /// Where the time went (both clips, in a two-view session).
    pub timings: Timings,
}

/// One more clip of a session (the rear clip of a two-view session): what `input`, `pose` and `analysis` are for
/// the first clip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClipSection {
    /// The clip.
    pub input: VideoInfo,
    /// What the pose stage found in it.
    pub pose: PoseSummary,
    /// Its analysis on its own.
    pub analysis: Analysis,
}

impl Report {
    /// The session's clips, the first (side) clip first, as the combination reads them.
    pub fn session_clips(&self) -> Vec<SessionClip<'_>> {
        let mut clips = vec![SessionClip {
            path: &self.input.path,
            analysis: &self.analysis,
        }];
        if let Some(rear) = &self.rear {
            clips.push(SessionClip {
                path: &rear.input.path,
                analysis: &rear.analysis,
            });
        }
        clips
    }

    /// Fills `metrics` (and, with a rear clip, `cadence_agreement`) from the clips' analyses.
    pub fn combine_views(&mut self) {
        self.metrics = session::session_metrics(&self.session_clips());
        self.cadence_agreement = self
            .rear
            .as_ref()
            .map(|rear| session::cadence_agreement(&self.analysis, &rear.analysis));
    }

    /// The session's summary of `metric`: from `metrics`, or from `analysis` in a v1 report, which has none.
    pub fn session_metric(&self, metric: MetricId) -> Option<&MetricSummary> {
        if self.metrics.is_empty() {
            return self.analysis.metric(metric);
        }
        self.metrics
            .iter()
            .find(|m| m.summary.metric == metric)
            .map(|m| &m.summary)
    }

    /// The session's flags: each clip's flags about the metrics the session takes from it.
    pub fn session_flags(&self) -> Vec<&Flag> {
        if self.metrics.is_empty() {
            return self.analysis.flags.iter().collect();
        }
        session::session_flags(&self.session_clips(), &self.metrics)
    }

    /// The session's warnings in plain words: the clip's, or in a two-view session each clip's, named, and the
    /// cadences' disagreement.
    pub fn session_warnings(&self) -> Vec<String> {
        let Some(rear) = &self.rear else {
            return self.analysis.warnings.iter().map(|w| w.message.clone()).collect();
        };
        let mut warnings: Vec<String> = self
            .analysis
            .warnings
            .iter()
            .map(|w| format!("side clip: {}", w.message))
            .collect();
        // The frontal clip is filmed from behind, or from in front where its landmarks say so.
        let role = match rear.analysis.view.used {
            crate::track::View::Front => "front clip",
            _ => "rear clip",
        };
        warnings.extend(rear.analysis.warnings.iter().map(|w| format!("{role}: {}", w.message)));
        if let Some(agreement) = self.cadence_agreement.as_ref().filter(|a| a.agree == Some(false)) {
            warnings.push(agreement.message.clone());
        }
        warnings
    }

    /// Every clip's SHA-256, the first clip first: what a rerun of the session compares against.
    pub fn clip_sha256s(&self) -> Vec<&str> {
        let mut shas = vec![self.input.sha256.as_str()];
        shas.extend(self.rear.as_ref().map(|rear| rear.input.sha256.as_str()));
        shas
    }

    /// Bytes of video in the session (both clips).
    pub fn clip_bytes(&self) -> u64 {
        self.input.file_size_byte + self.rear.as_ref().map_or(0, |rear| rear.input.file_size_byte)
    }
}

/// The athlete, session date and notes, as given on the command line or in a batch manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionInfo {
    /// The athlete's name or code (`--athlete`, or the manifest's `athlete` column).
    pub athlete: Option<String>,
    /// The session date, YYYY-MM-DD (`--session-date`, or the manifest's `session_date` column).
    pub session_date: Option<String>,
    /// Free text about the session (since v2: the manifest's `notes` column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The settings a report was made with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportSettings {
    /// The runform version (a newer version may measure differently).
    pub runform_version: String,
    /// The build: the version and a hash of the source it was built from, as `0.1.0+src.1a2b3c4d5e6f` (what
    /// `runform --version` prints). The version stays the same from one change of the analysis to the next and the
    /// build does not, so a batch re-scores a clip whose report another build made. Absent in reports written
    /// before 2026-12-05.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runform_build: Option<String>,
    /// The landmark model preset: `lite`, `full` or `heavy`.
    pub model: String,
    /// The pose model files a run with these settings loads, each with the first 12 hex digits of its SHA-256 (as in
    /// `models/SHA256SUMS`): the person detector and the landmark model(s) `model` may use (`auto`: full and heavy).
    /// Model files other than the ones this build shipped (from `RUNFORM_MODELS_DIR`) are other settings: a batch
    /// scores the clip again, and the report warns (`other_pose_models`). Absent in reports written before
    /// 2026-12-05.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_files: Option<BTreeMap<String, String>>,
    /// `tracking` (the detector only when the runner is lost) or `every_frame`.
    pub detection_mode: String,
    /// Where the user said the runner is, as fractions of the frame's width and height.
    pub runner_at: Option<[f32; 2]>,
    /// The analysis settings: view, height, treadmill speed, filter, thresholds and reference ranges.
    pub analysis: AnalysisSettings,
}

impl ReportSettings {
    /// Whether these settings and `other` are the same apart from which runform made the reports (`runform_version`,
    /// `runform_build`). Model files count where both reports name them; a report made before reports named them
    /// was made by another build anyway, which is what its reader is told.
    pub fn same_apart_from_build(&self, other: &ReportSettings) -> bool {
        let both_name_model_files = self.model_files.is_some() && other.model_files.is_some();
        let comparable = |settings: &ReportSettings| ReportSettings {
            runform_version: String::new(),
            runform_build: None,
            model_files: settings.model_files.clone().filter(|_| both_name_model_files),
            ..settings.clone()
        };
        comparable(self) == comparable(other)
    }
}

/// Which runform made a report, in words, from its `settings.runform_build` (`None` in reports made before reports
/// named their build).
pub fn made_by(build: Option<&str>) -> String {
    build.map_or_else(
        || "a runform from before reports named their build".to_owned(),
        |build| format!("runform {build}"),
    )
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
    /// The pose model whose landmarks the report uses (`full`, `heavy`); absent in reports written before
    /// 2026-12-05, where it is `settings.model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Why `model` was chosen, where `--model auto` ran the heavy model as well (the full model named the legs by
    /// their place in the picture), and how many steps each measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_choice: Option<String>,
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

    #[test]
    fn settings_are_the_same_apart_from_the_build_only_when_their_model_files_are() {
        let settings = ReportSettings {
            runform_version: "0.1.0".to_owned(),
            runform_build: Some("0.1.0+src.111111111111".to_owned()),
            model: "auto".to_owned(),
            model_files: Some(BTreeMap::from([(
                "pose_landmark_full.onnx".to_owned(),
                "544ad624e795".to_owned(),
            )])),
            detection_mode: "tracking".to_owned(),
            runner_at: None,
            analysis: AnalysisSettings::default(),
        };
        let other_build = ReportSettings {
            runform_version: "0.0.9".to_owned(),
            runform_build: Some("0.0.9+src.222222222222".to_owned()),
            ..settings.clone()
        };
        assert!(settings.same_apart_from_build(&other_build));
        let other_files = ReportSettings {
            model_files: Some(BTreeMap::from([(
                "pose_landmark_full.onnx".to_owned(),
                "069210a0fe67".to_owned(),
            )])),
            ..settings.clone()
        };
        assert!(!settings.same_apart_from_build(&other_files));
        // A report from before reports named their model files differs in its build, which its reader is told.
        let before = ReportSettings {
            model_files: None,
            runform_build: None,
            ..settings.clone()
        };
        assert!(settings.same_apart_from_build(&before) && before.same_apart_from_build(&settings));
        let other_model = ReportSettings {
            model: "full".to_owned(),
            ..before
        };
        assert!(!settings.same_apart_from_build(&other_model));
    }

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
