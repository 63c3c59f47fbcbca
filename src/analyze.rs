//! The `analyze` pipeline: one session in (one clip, or a side clip and a rear clip), one report folder out. It
//! owns the order of the stages (decode + pose → analysis → report) and the rule that outputs are written only at
//! the end, each atomically, so a failure anywhere leaves no partial report. A two-view session runs the pose
//! stage and the analysis on each clip on its own, exactly as for a single clip, and combines the two analyses
//! only in the report ([`crate::session`]). Also the `pose` command (landmarks only) and its benchmark mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use thiserror::Error;

use crate::analysis::{self, Analysis, AnalysisSettings, ViewChoice};
use crate::cli::PoseArgs;
use crate::config::{self, ConfigError, ConfigFile};
use crate::error::{Exit, HasExit};
use crate::metrics::{MetricId, MetricSummary};
use crate::options::{AnalysisModel, ClipOptions, OptionError};
use crate::output::{self, OutputError};
use crate::peer::PeerFile;
use crate::pose::pipeline::{self, ClipPoses, PipelineError};
use crate::pose::runtime::RuntimeError;
use crate::pose::{CropSmoothing, DetectionMode, ModelPreset, PoseError, PoseSettings, SessionOptions, models};
use crate::report::{self, ClipSection, PoseSummary, Report, ReportSettings, SessionInfo, Timings};
use crate::track::View;
use crate::video::VideoReader;
use crate::visual::{self, VisualError};

/// Any failure of a pipeline, with the exit code it ends the program with.
#[derive(Debug, Error)]
pub enum RunError {
    /// The input clip.
    #[error(transparent)]
    Video(#[from] crate::video::VideoError),
    /// ONNX Runtime.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The pose stage.
    #[error(transparent)]
    Pose(#[from] PoseError),
    /// Writing outputs.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The settings file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The overlay video or the HTML report.
    #[error(transparent)]
    Visual(#[from] VisualError),
    /// An analysis option was refused.
    #[error(transparent)]
    Option(#[from] OptionError),
    /// A bug or an unexpected failure.
    #[error("internal error: {0} (please report this)")]
    Internal(String),
}

impl From<PipelineError> for RunError {
    fn from(error: PipelineError) -> RunError {
        match error {
            PipelineError::Video(error) => RunError::Video(error),
            PipelineError::Pose(error) => RunError::Pose(error),
            PipelineError::DecoderPanicked => RunError::internal(error),
        }
    }
}

impl RunError {
    /// Wraps an unexpected error.
    pub fn internal(error: impl std::fmt::Display) -> RunError {
        RunError::Internal(error.to_string())
    }
}

impl HasExit for RunError {
    fn exit(&self) -> Exit {
        match self {
            RunError::Video(error) => error.exit(),
            RunError::Runtime(error) => error.exit(),
            RunError::Pose(error) => error.exit(),
            RunError::Output(error) => error.exit(),
            RunError::Config(error) => error.exit(),
            RunError::Visual(error) => error.exit(),
            RunError::Option(_) => Exit::Usage,
            RunError::Internal(_) => Exit::Internal,
        }
    }
}

/// Validated settings of one `analyze` run.
#[derive(Clone, Debug)]
pub struct AnalyzeSettings {
    /// The clip (in a two-view session, the side clip).
    pub clip: PathBuf,
    /// The rear clip of a two-view session (see [`AnalyzeSettings::with_rear_clip`]); `None` for one clip.
    pub rear_clip: Option<PathBuf>,
    /// The clip's own output folder.
    pub out_dir: PathBuf,
    /// The pose stage's settings (its `preset` is the model run first: [`AnalysisModel::first_preset`]).
    pub pose: PoseSettings,
    /// The pose model choice, `auto` or one model.
    pub model: AnalysisModel,
    /// The analysis stage's settings.
    pub analysis: AnalysisSettings,
    /// Athlete and session date.
    pub session: SessionInfo,
    /// Whether to write the annotated video (`overlay.mp4`).
    pub overlay: bool,
    /// Whether to write the HTML report (`report.html`).
    pub html: bool,
}

impl AnalyzeSettings {
    /// Builds the pipeline's settings for `clip` from validated options, reading their `config` file: the one
    /// way the command line, the batch and the web app say what to analyse.
    pub fn new(
        clip: &Path,
        out_dir: &Path,
        options: &ClipOptions,
        session: SessionInfo,
    ) -> Result<AnalyzeSettings, RunError> {
        options.validate()?;
        let mut analysis = AnalysisSettings {
            view: options.view,
            height_cm: options.height_cm,
            treadmill_speed_mps: options.speed.map(|speed| speed.mps),
            ..AnalysisSettings::default()
        };
        if let Some(path) = &options.config {
            config::read_toml::<ConfigFile>(path)?.apply(path, &mut analysis)?;
        }
        Ok(AnalyzeSettings {
            clip: clip.to_path_buf(),
            rear_clip: None,
            out_dir: out_dir.to_path_buf(),
            pose: PoseSettings {
                preset: options.model.first_preset(),
                mode: options.detection,
                crop_smoothing: CropSmoothing::default(),
                runner_hint: options.runner_at,
                session: SessionOptions::default(),
            },
            model: options.model,
            analysis,
            session,
            overlay: false,
            html: false,
        })
    }

    /// Makes these the settings of a two-view session: `clip` is analysed as the side view and `rear` as the
    /// frontal view (filmed from behind, or from in front when its landmarks say so).
    pub fn with_rear_clip(mut self, rear: &Path) -> AnalyzeSettings {
        self.rear_clip = Some(rear.to_path_buf());
        self.analysis.view = ViewChoice::Side;
        self
    }

    /// Everything that changes a report's numbers: a report with the same settings from the same clips (same
    /// SHA-256) needs no redoing.
    pub fn fingerprint(&self) -> ReportSettings {
        ReportSettings {
            runform_version: env!("CARGO_PKG_VERSION").to_owned(),
            runform_build: Some(crate::BUILD.to_owned()),
            model: self.model.name().to_owned(),
            model_files: Some(model_files(self.model)),
            detection_mode: detection_mode_name(self.pose.mode).to_owned(),
            runner_at: self.pose.runner_hint.map(|hint| [hint.x, hint.y]),
            analysis: self.analysis.clone(),
        }
    }

    /// Where the JSON report goes.
    pub fn report_path(&self) -> PathBuf {
        self.out_dir.join("report.json")
    }

    /// Where the landmarks go (blazepose-peer-v1 JSON).
    pub fn landmarks_path(&self) -> PathBuf {
        self.out_dir.join("landmarks.json")
    }

    /// Where the per-step table goes.
    pub fn steps_csv_path(&self) -> PathBuf {
        self.out_dir.join("steps.csv")
    }

    /// Where the annotated video goes.
    pub fn overlay_path(&self) -> PathBuf {
        self.out_dir.join("overlay.mp4")
    }

    /// Where the HTML report goes.
    pub fn html_path(&self) -> PathBuf {
        self.out_dir.join("report.html")
    }

    /// Where the one-row summary goes.
    pub fn summary_csv_path(&self) -> PathBuf {
        self.out_dir.join("summary.csv")
    }

    /// Where the rear clip's landmarks go (two-view sessions).
    pub fn rear_landmarks_path(&self) -> PathBuf {
        self.out_dir.join("landmarks-rear.json")
    }

    /// Where the rear clip's per-step table goes (two-view sessions).
    pub fn rear_steps_csv_path(&self) -> PathBuf {
        self.out_dir.join("steps-rear.csv")
    }

    /// Where the rear clip's annotated video goes (two-view sessions).
    pub fn rear_overlay_path(&self) -> PathBuf {
        self.out_dir.join("overlay-rear.mp4")
    }

    /// Every clip of the session, the side (or only) clip first.
    pub fn clips(&self) -> Vec<&Path> {
        let mut clips = vec![self.clip.as_path()];
        clips.extend(self.rear_clip.as_deref());
        clips
    }
}

/// The model files a run with the landmark models `presets` loads, as found and hashed: the detector, then each
/// preset's landmark model. A file not found is left out: the run stops on it with its own error.
fn model_file_ids(presets: impl IntoIterator<Item = ModelPreset>) -> impl Iterator<Item = models::ModelFileId> {
    std::iter::once(models::DETECTOR_FILE)
        .chain(presets.into_iter().map(ModelPreset::landmark_file))
        .filter_map(models::model_file_id)
}

/// The model files a run with `model` may load, each with the first hex digits of its SHA-256.
fn model_files(model: AnalysisModel) -> BTreeMap<String, String> {
    model_file_ids(model.presets())
        .map(|id| (id.file.to_owned(), id.short_sha256().to_owned()))
        .collect()
}

/// The warning for a report whose landmarks come from model files other than the ones this build shipped: the
/// detector and `preset`'s landmark model, as loaded.
fn other_pose_models_warning(preset: ModelPreset) -> Option<analysis::Warning> {
    let others: Vec<String> = model_file_ids([preset])
        .filter(|id| !id.is_shipped())
        .map(|id| {
            let shipped = models::shipped_sha256(id.file)
                .and_then(|sha256| sha256.get(..models::MODEL_ID_HEX_DIGITS))
                .unwrap_or("none");
            format!(
                "{} (SHA-256 {}…, the shipped one's {shipped}…)",
                id.path.display(),
                id.short_sha256()
            )
        })
        .collect();
    (!others.is_empty()).then(|| analysis::Warning {
        kind: analysis::WarningKind::OtherPoseModels,
        message: format!(
            "{} {} not what this runform shipped: its accuracy (docs/metrics.md) was measured with the shipped pose \
             models, so read these numbers with care; unset {} or run scripts/setup to use those",
            others.join(" and "),
            if others.len() > 1 { "are" } else { "is" },
            models::MODELS_DIR_ENV
        ),
    })
}

fn detection_mode_name(mode: DetectionMode) -> &'static str {
    match mode {
        DetectionMode::Tracking => "tracking",
        DetectionMode::EveryFrame => "every_frame",
    }
}

/// The result of a successful `analyze`.
#[derive(Clone, Debug)]
pub struct AnalyzeOutcome {
    /// Where the report was written.
    pub report_path: PathBuf,
    /// The report.
    pub report: Report,
    /// The runner's landmarks, for the visual outputs.
    pub poses: ClipPoses,
    /// The rear clip's landmarks and the settings its analysis ran with (two-view sessions).
    pub rear: Option<(ClipPoses, AnalysisSettings)>,
}

impl AnalyzeOutcome {
    /// A short human summary for the terminal: the headline numbers, warnings and flags.
    pub fn summary(&self) -> String {
        summary_text(&self.report, &self.report_path)
    }
}

/// The headline metrics a summary shows, with their label and unit (the terminal summary, the web app's
/// athlete page).
pub const HEADLINE_METRICS: [(MetricId, &str, &str); 7] = [
    (MetricId::CadenceStepsPerMin, "cadence", "steps/min"),
    (MetricId::ContactTimeMs, "contact time", "ms"),
    (MetricId::TrunkLeanMidstanceDeg, "trunk lean at midstance", "°"),
    (MetricId::FootStrikeAngleDeg, "foot strike angle", "°"),
    (MetricId::TibiaAngleIcDeg, "tibia angle at contact", "°"),
    (MetricId::HipExtensionPeakDeg, "peak hip extension", "°"),
    (MetricId::PelvicDropMidstanceDeg, "pelvic drop at midstance", "°"),
];

/// A short human summary of a report.
pub fn summary_text(report: &Report, report_path: &Path) -> String {
    let clip_line = |input: &crate::video::VideoInfo, pose: &PoseSummary, analysis: &Analysis| {
        format!(
            "{}: {}x{} at {:.0} fps, {:.1} s; runner found in {} of {} frames; {} view, {} steps\n",
            input.path.display(),
            input.width_px,
            input.height_px,
            input.fps,
            input.duration_s,
            pose.frames_with_pose,
            pose.frames,
            crate::report::csv::enum_text(&analysis.view.used),
            analysis.steps.len()
        )
    };
    let mut text = clip_line(&report.input, &report.pose, &report.analysis);
    if let Some(rear) = &report.rear {
        text.push_str(&clip_line(&rear.input, &rear.pose, &rear.analysis));
    }
    let two_views = report.rear.is_some();
    for (metric, label, unit) in HEADLINE_METRICS {
        let Some(summary) = report.session_metric(metric) else {
            continue;
        };
        // In a two-view session each number says which view it comes from.
        let from = report
            .metrics
            .iter()
            .find(|m| m.summary.metric == metric)
            .filter(|_| two_views)
            .map_or_else(String::new, |m| {
                format!(" [{} view]", crate::report::csv::enum_text(&m.view))
            });
        text.push_str(&metric_line(label, unit, summary, &from));
        if metric == MetricId::FootStrikeAngleDeg && summary.both.is_some() {
            text.push_str(&format!(
                "  {:<26} {}\n",
                "foot strike",
                crate::metrics::foot::strike_pattern_words(&report.analysis.strike_patterns)
            ));
        }
    }
    if let Some(agreement) = &report.cadence_agreement {
        text.push_str(&format!("  cadence check: {}\n", agreement.message));
    }
    for warning in report.session_warnings() {
        text.push_str(&format!("  warning: {warning}\n"));
    }
    for flag in report.session_flags() {
        text.push_str(&format!("  flag: {}\n", flag.message));
    }
    text.push_str(&format!("report: {}", report_path.display()));
    text
}

/// One metric's line of the terminal summary: the mean over both feet with its spread, and each foot's mean, since
/// the two legs can differ (the gym clip's far foot lands rearfoot at 15°, its near foot flat at 1°: 8.5° over both
/// describes neither); or why it is not measured.
fn metric_line(label: &str, unit: &str, summary: &MetricSummary, from: &str) -> String {
    let Some(both) = &summary.both else {
        return format!(
            "  {label:<26} not measured{from}: {}\n",
            summary.absent_reason.as_deref().unwrap_or("no value")
        );
    };
    let sides = match (&summary.left, &summary.right) {
        (Some(left), Some(right)) => format!("; left {:.1}, right {:.1}", left.mean, right.mean),
        (Some(left), None) => format!("; left {:.1}, right not measured", left.mean),
        (None, Some(right)) => format!("; left not measured, right {:.1}", right.mean),
        (None, None) => String::new(),
    };
    format!(
        "  {label:<26} {:>7.1} {unit} (SD {:.1}, n = {}{sides}){from}\n",
        both.mean, both.sd, both.n
    )
}

/// Runs the pipeline on one session (one clip, or a side and a rear clip) and writes its report, landmarks and
/// CSV tables. `on_frame(done, total)` is called after each frame of the pose stage (progress, over both clips).
pub fn analyze(settings: &AnalyzeSettings, on_frame: impl FnMut(u64, u64)) -> Result<AnalyzeOutcome, RunError> {
    // Fail on an unreadable clip or an unwritable output folder now, not after minutes of work.
    // A clip cut short is refused here, before the pose stage, when too little of it can be read.
    let mut total_frames = 0;
    for clip in settings.clips() {
        let reader = VideoReader::open(clip)?;
        let info = reader.info();
        total_frames += info.truncation.as_ref().map_or(info.frame_count, |cut| cut.frames_read);
    }
    let created_out_dir = !settings.out_dir.exists();
    output::create_dir(&settings.out_dir)?;
    let result = run_stages(settings, total_frames, on_frame);
    if result.is_err() && created_out_dir {
        // Best effort: leave nothing behind for a clip that failed; a folder that is not empty stays.
        let _ = std::fs::remove_dir(&settings.out_dir);
    }
    result
}

fn run_stages(
    settings: &AnalyzeSettings,
    total_frames: u64,
    mut on_frame: impl FnMut(u64, u64),
) -> Result<AnalyzeOutcome, RunError> {
    let started = Instant::now();
    let mut frames_done = 0;
    // A second look with the heavy model adds the side clip's frames to the total.
    let total = std::cell::Cell::new(total_frames);
    let mut progress = |_: &crate::landmarks::PoseFrame| {
        frames_done += 1;
        on_frame(frames_done, total.get());
    };
    let poses = pipeline::poses_from_clip(&settings.clip, &settings.pose, &mut progress)?;
    let rear_poses = match &settings.rear_clip {
        Some(rear) => Some(pipeline::poses_from_clip(rear, &settings.pose, &mut progress)?),
        None => None,
    };
    let mut analysis_s = 0.0;
    let mut timed_analysis = |poses: &ClipPoses| {
        let analysis_started = Instant::now();
        let analysis = analyze_clip(poses, &settings.analysis);
        analysis_s += analysis_started.elapsed().as_secs_f64();
        analysis
    };
    let analysis = timed_analysis(&poses);
    let chosen = match heavy_second_look(settings, &poses, &analysis) {
        Some(look) => {
            total.set(total.get() + poses.sequence.frames.len() as u64);
            let heavy_settings = PoseSettings {
                preset: ModelPreset::Heavy,
                ..settings.pose
            };
            match pipeline::poses_from_clip(&settings.clip, &heavy_settings, &mut progress) {
                Ok(heavy_poses) => {
                    let heavy_analysis = timed_analysis(&heavy_poses);
                    choose_model(&look, (poses, analysis), (heavy_poses, heavy_analysis))
                }
                // The clip decoded once already: what fails is the heavy model (a missing or damaged file). The
                // full model's report stands, and says why it has no second look.
                Err(error) => ChosenModel {
                    preset: settings.pose.preset,
                    poses,
                    analysis,
                    choice: Some(format!(
                        "{}; the heavy model could not be run ({}), so the full model's landmarks are kept",
                        look.describe(),
                        RunError::from(error)
                    )),
                },
            }
        }
        None => ChosenModel {
            preset: settings.pose.preset,
            poses,
            analysis,
            choice: None,
        },
    };
    let decode_and_pose_s = started.elapsed().as_secs_f64() - analysis_s;

    let analysis_started = Instant::now();
    let rear = rear_poses.map(|rear_poses| {
        let (analysis, rear_settings) = analyze_frontal_clip(&rear_poses, &settings.analysis);
        let section = ClipSection {
            input: rear_poses.info.clone(),
            pose: pose_summary(&rear_poses, settings.pose.preset, None),
            analysis,
        };
        (section, rear_poses, rear_settings)
    });
    let analysis_s = analysis_s + analysis_started.elapsed().as_secs_f64();
    let ChosenModel {
        preset,
        poses,
        analysis,
        choice,
    } = chosen;

    let (rear_section, rear) = match rear {
        Some((section, poses, settings)) => (Some(section), Some((poses, settings))),
        None => (None, None),
    };
    let mut report = Report {
        schema: report::REPORT_SCHEMA.to_owned(),
        runform_version: env!("CARGO_PKG_VERSION").to_owned(),
        input: poses.info.clone(),
        session: settings.session.clone(),
        settings: settings.fingerprint(),
        pose: pose_summary(&poses, preset, choice),
        analysis,
        metrics: Vec::new(),
        rear: rear_section,
        cadence_agreement: None,
        timings: Timings {
            decode_and_pose_s,
            analysis_s,
            total_s: 0.0,
        },
    };
    // First: it bears on every number below it.
    if let Some(warning) = other_pose_models_warning(preset) {
        report.analysis.warnings.insert(0, warning);
    }
    report.combine_views();
    let landmarks = landmark_file_json(&poses, preset, settings.pose.mode)?;
    let steps_csv = report::csv::steps_csv(&report).map_err(RunError::internal)?;
    let summary_csv = report::csv::summary_csv(&report).map_err(RunError::internal)?;
    output::write_atomically(&settings.landmarks_path(), &landmarks)?;
    output::write_atomically(&settings.steps_csv_path(), &steps_csv)?;
    output::write_atomically(&settings.summary_csv_path(), &summary_csv)?;
    if let (Some((rear_poses, _)), Some(rear_csv)) = (&rear, report::csv::rear_steps_csv(&report)) {
        output::write_atomically(
            &settings.rear_landmarks_path(),
            &landmark_file_json(rear_poses, settings.pose.preset, settings.pose.mode)?,
        )?;
        output::write_atomically(&settings.rear_steps_csv_path(), &rear_csv.map_err(RunError::internal)?)?;
    }
    let outcome = AnalyzeOutcome {
        report_path: settings.report_path(),
        report,
        poses,
        rear,
    };
    if settings.overlay {
        write_overlays(settings, &outcome)?;
    }
    if settings.html {
        write_report_html(settings, &outcome)?;
    }
    remove_earlier_outputs(settings, outcome.rear.is_some())?;
    // The report goes last: its presence says the session's outputs are complete (batch resumes on it).
    let mut outcome = outcome;
    outcome.report.timings.total_s = started.elapsed().as_secs_f64();
    output::write_atomically(&outcome.report_path, &report_json(&outcome.report)?)?;
    Ok(outcome)
}

/// Removes what an earlier run left in the output folder that this run does not write (an HTML report or overlay
/// of a run with `--html` or `--overlay`, a rear clip's files): beside this run's report they would show an earlier
/// analysis as this one's. Called before the report is written, so that a folder with a report holds one run's
/// outputs.
fn remove_earlier_outputs(settings: &AnalyzeSettings, has_rear: bool) -> Result<(), OutputError> {
    let not_written = [
        (settings.html_path(), settings.html),
        (settings.overlay_path(), settings.overlay),
        (settings.rear_overlay_path(), settings.overlay && has_rear),
        (settings.rear_landmarks_path(), has_rear),
        (settings.rear_steps_csv_path(), has_rear),
    ];
    for (path, written) in not_written {
        if written {
            continue;
        }
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(OutputError { path, source: error });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The side clip's landmarks and analysis a report uses, from the model that made them.
struct ChosenModel {
    preset: ModelPreset,
    poses: ClipPoses,
    analysis: Analysis,
    /// Why, where the heavy model was run as well.
    choice: Option<String>,
}

/// Why the full model's landmarks call for a second look with the heavy model.
#[derive(Clone, Debug, PartialEq)]
enum SecondLook {
    /// The full model named the legs by their place in the picture in this share of frames
    /// ([`analysis::legs_named_by_place_share`]).
    LegsNamedByPlace(f64),
    /// The full model's foot landmarks could not time the running contacts, for this reason
    /// ([`Analysis::contact_timing_reason`]).
    UntimedContacts(String),
}

impl SecondLook {
    /// What the full model's landmarks showed, as a report's sentence begins.
    fn describe(&self) -> String {
        match self {
            SecondLook::LegsNamedByPlace(share) => format!(
                "the full pose model named the legs by their place in the picture (one leg ahead under the same name \
                 in {:.0} % of frames, where a model that tells them apart gives about half)",
                100.0 * share
            ),
            SecondLook::UntimedContacts(reason) => {
                format!("the full pose model's foot landmarks could not time the contacts: {reason}")
            }
        }
    }
}

/// With `--model auto`, whether the full model's landmarks call for a second look with the heavy model: a side
/// or oblique view with the feet in the picture, in which the full model named the legs by their place in the
/// picture, or, in running, could not time the contacts from the feet.
fn heavy_second_look(settings: &AnalyzeSettings, poses: &ClipPoses, analysis: &Analysis) -> Option<SecondLook> {
    if settings.model != AnalysisModel::Auto
        || !matches!(analysis.view.used, View::Side | View::Oblique)
        // No model finds contacts of feet out of the picture (the feet-cropped stock clip: 0 steps with either).
        || analysis.has_warning(analysis::WarningKind::FeetOutOfFrame)
    {
        return None;
    }
    let share = analysis
        .facing
        .zip(analysis.leg_length_px)
        .and_then(|(facing, leg_px)| analysis::legs_named_by_place_share(&poses.sequence, facing, leg_px));
    match share {
        Some(share) if share >= analysis::LEGS_NAMED_BY_PLACE_SHARE => Some(SecondLook::LegsNamedByPlace(share)),
        _ => analysis.contact_timing_reason().map(SecondLook::UntimedContacts),
    }
}

/// The heavy model, run for contacts the full model could not time, must measure at least this share of the full
/// model's steps for its landmarks to be kept (on the tiktok clip, the one fixture this applies to, it measures 55
/// against 59). A runform default.
pub const HEAVY_TIMED_MIN_STEP_SHARE: f64 = 0.75;

/// Which model's landmarks the report uses, and why. Where the full model named the legs by their place, the
/// heavy model's are kept when they measure more steps; where the full model could not time the contacts, when
/// the heavy model's can and measure at least [`HEAVY_TIMED_MIN_STEP_SHARE`] of the full model's steps. The full
/// model's otherwise.
fn choose_model(look: &SecondLook, full: (ClipPoses, Analysis), heavy: (ClipPoses, Analysis)) -> ChosenModel {
    let measured = |analysis: &Analysis| analysis.steps.iter().filter(|step| step.measured).count();
    let (full_steps, heavy_steps) = (measured(&full.1), measured(&heavy.1));
    // A heavy model that measures no step times nothing, whatever its (empty) events say.
    let heavy_timing = (heavy_steps > 0).then(|| heavy.1.contact_timing_reason());
    let (why, heavy_better) = match look {
        SecondLook::LegsNamedByPlace(_) => (
            format!(
                "{}, so the heavy model was run as well: it measured {heavy_steps} steps, the full model {full_steps}",
                look.describe()
            ),
            heavy_steps > full_steps,
        ),
        SecondLook::UntimedContacts(_) => (
            format!(
                "{}. So the heavy model was run as well: it measured {heavy_steps} steps, the full model \
                 {full_steps}{}",
                look.describe(),
                match &heavy_timing {
                    None => String::new(),
                    Some(None) => ", and its landmarks time the contacts".to_owned(),
                    Some(Some(reason)) => format!(", and its landmarks cannot time them either: {reason}"),
                }
            ),
            heavy_timing == Some(None) && heavy_steps as f64 >= HEAVY_TIMED_MIN_STEP_SHARE * full_steps as f64,
        ),
    };
    if heavy_better {
        let (poses, mut analysis) = heavy;
        analysis.warnings.push(analysis::Warning {
            kind: analysis::WarningKind::HeavyModelUsed,
            message: format!("{why}, so this report uses the heavy model's landmarks"),
        });
        ChosenModel {
            preset: ModelPreset::Heavy,
            poses,
            analysis,
            choice: Some(format!("{why}; the heavy model's landmarks are used")),
        }
    } else {
        let (poses, analysis) = full;
        ChosenModel {
            preset: ModelPreset::Full,
            poses,
            analysis,
            choice: Some(format!("{why}; the full model's landmarks are kept")),
        }
    }
}

/// Analyses one clip's landmarks on their own, saying first when the clip was cut short.
fn analyze_clip(poses: &ClipPoses, settings: &AnalysisSettings) -> Analysis {
    let mut analysis = analysis::analyze_sequence(&poses.sequence, settings);
    if let Some(cut) = &poses.info.truncation {
        analysis.warnings.insert(
            0,
            analysis::Warning {
                kind: analysis::WarningKind::ClipTruncated,
                message: cut.message(),
            },
        );
    }
    analysis
}

/// Analyses the frontal-plane clip of a two-view session: as the view its landmarks show when that is a rear or
/// a front view (a clinic may film from in front), else as a rear view, as the user said (the analysis then
/// warns that the landmarks look otherwise). Returns the analysis and the settings it ran with.
fn analyze_frontal_clip(poses: &ClipPoses, settings: &AnalysisSettings) -> (Analysis, AnalysisSettings) {
    let detected = AnalysisSettings {
        view: ViewChoice::Auto,
        ..settings.clone()
    };
    let analysis = analyze_clip(poses, &detected);
    if matches!(analysis.view.used, View::Rear | View::Front) {
        return (analysis, detected);
    }
    let rear = AnalysisSettings {
        view: ViewChoice::Rear,
        ..settings.clone()
    };
    (analyze_clip(poses, &rear), rear)
}

/// Writes the annotated overlay of every clip of an analysed session: `overlay.mp4`, and `overlay-rear.mp4` for
/// a rear clip.
pub fn write_overlays(settings: &AnalyzeSettings, outcome: &AnalyzeOutcome) -> Result<(), RunError> {
    write_overlay(settings, &outcome.poses, &outcome.report)?;
    if let (Some((poses, rear_settings)), Some(rear), Some(clip)) =
        (&outcome.rear, &outcome.report.rear, &settings.rear_clip)
    {
        visual::write_overlay(
            clip,
            &poses.sequence,
            &rear.analysis,
            rear_settings,
            &settings.rear_overlay_path(),
        )?;
    }
    Ok(())
}

/// Writes `report.html`: one clip's report, or one page for a two-view session with both clips' evidence.
pub fn write_report_html(settings: &AnalyzeSettings, outcome: &AnalyzeOutcome) -> Result<(), RunError> {
    let file_name = |clip: &Path| {
        clip.file_name()
            .map_or_else(|| "clip".into(), |n| n.to_string_lossy().into_owned())
    };
    let report = &outcome.report;
    // Each clip's landmarks come from the model its pose summary names (`--model auto` may have used heavy's).
    let source_of = |pose: &PoseSummary| {
        let model = pose.model.as_deref().unwrap_or(settings.pose.preset.name());
        format!("runform pose stage (BlazePose {model})")
    };
    let source = source_of(&report.pose);
    let side_title = file_name(&settings.clip);
    let page = visual::ReportPage {
        title: &side_title,
        clip: Some(&settings.clip),
        sequence: &outcome.poses.sequence,
        analysis: &report.analysis,
        settings: &settings.analysis,
        landmark_source: &source,
    };
    let (Some((rear_poses, rear_settings)), Some(rear), Some(rear_clip)) =
        (&outcome.rear, &report.rear, &settings.rear_clip)
    else {
        visual::write_html(&page, &settings.html_path())?;
        return Ok(());
    };
    let rear_title = file_name(rear_clip);
    let rear_source = source_of(&rear.pose);
    let rear_page = visual::ReportPage {
        title: &rear_title,
        clip: Some(rear_clip),
        sequence: &rear_poses.sequence,
        analysis: &rear.analysis,
        settings: rear_settings,
        landmark_source: &rear_source,
    };
    let title = format!("{side_title} + {rear_title}");
    let session = visual::SessionPage {
        title: &title,
        report,
        side: page,
        rear: rear_page,
        overlays: [settings.overlay_path(), settings.rear_overlay_path()]
            .into_iter()
            .filter(|path| settings.overlay && path.is_file())
            .filter_map(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
            .collect(),
    };
    visual::write_session_html(&session, &settings.html_path())?;
    Ok(())
}

/// Writes the annotated overlay video of an analysed clip (`overlay.mp4` in its output folder). `analyze` calls
/// it when `settings.overlay` is set; the web app calls it after the report is out, so that the report shows
/// while the slower video is encoded.
pub fn write_overlay(settings: &AnalyzeSettings, poses: &ClipPoses, report: &Report) -> Result<(), RunError> {
    visual::write_overlay(
        &settings.clip,
        &poses.sequence,
        &report.analysis,
        &settings.analysis,
        &settings.overlay_path(),
    )?;
    Ok(())
}

/// The input checks `analyze` makes before any work (the file exists, is a complete, decodable video with a
/// picture and more than one frame), without analysing: what the web app runs on an upload before queueing it.
pub fn check_clip(clip: &Path) -> Result<crate::video::VideoInfo, RunError> {
    Ok(VideoReader::open(clip)?.info().clone())
}

/// The report as pretty JSON.
pub fn report_json(report: &Report) -> Result<Vec<u8>, RunError> {
    let mut json = serde_json::to_vec_pretty(report).map_err(RunError::internal)?;
    json.push(b'\n');
    Ok(json)
}

fn pose_summary(poses: &ClipPoses, preset: ModelPreset, model_choice: Option<String>) -> PoseSummary {
    PoseSummary {
        frames: poses.counters.frames,
        frames_with_pose: poses.counters.frames_with_pose,
        detector_runs: poses.counters.detector_runs,
        landmark_runs: poses.counters.landmark_runs,
        model_load_s: poses.timings.model_load_s,
        run_s: poses.timings.run_s,
        end_to_end_fps: poses.timings.end_to_end_fps,
        model: Some(preset.name().to_owned()),
        model_choice,
    }
}

/// The clip's landmarks as blazepose-peer-v1 JSON, with runform's settings and timings in `meta`.
fn landmark_file_json(poses: &ClipPoses, preset: ModelPreset, mode: DetectionMode) -> Result<Vec<u8>, RunError> {
    let mut meta = serde_json::Map::new();
    meta.insert("producer".into(), format!("runform {}", crate::BUILD).into());
    meta.insert("video".into(), poses.info.path.to_string_lossy().into_owned().into());
    meta.insert("video_sha256".into(), poses.info.sha256.clone().into());
    meta.insert("n_frames".into(), poses.sequence.frames.len().into());
    meta.insert("variant".into(), preset.name().into());
    meta.insert("running_mode".into(), detection_mode_name(mode).into());
    meta.insert("smoothing".into(), "none".into());
    meta.insert(
        "counters".into(),
        serde_json::to_value(poses.counters).map_err(RunError::internal)?,
    );
    meta.insert(
        "timing".into(),
        serde_json::to_value(poses.timings).map_err(RunError::internal)?,
    );
    let file = PeerFile::from_sequence(&poses.sequence, meta);
    serde_json::to_vec(&file).map_err(RunError::internal)
}

/// Validated settings of one `pose` run.
#[derive(Clone, Debug)]
pub struct PoseRunSettings {
    /// The clip.
    pub clip: PathBuf,
    /// The landmark file to write.
    pub output: PathBuf,
    /// The pose stage's settings.
    pub pose: PoseSettings,
}

impl PoseRunSettings {
    /// Builds the settings from the command line.
    pub fn from_args(args: &PoseArgs) -> PoseRunSettings {
        let mut session = SessionOptions::default();
        if let Some(threads) = args.threads {
            session.intra_threads = threads.max(1);
        }
        session.spinning = args.spin;
        PoseRunSettings {
            clip: args.clip.clone(),
            output: args.output.clone(),
            pose: PoseSettings {
                preset: args.model.into(),
                mode: if args.detect_every_frame {
                    DetectionMode::EveryFrame
                } else {
                    DetectionMode::Tracking
                },
                crop_smoothing: if args.raw_tracking_crop {
                    CropSmoothing::Off
                } else {
                    CropSmoothing::AuxOneEuro
                },
                runner_hint: args.runner_at,
                session,
            },
        }
    }
}

/// Measures the pose stage's decode-only, inference-only and end-to-end rates on one clip, as JSON.
pub fn bench_pose(settings: &PoseRunSettings) -> Result<String, RunError> {
    let rates = pipeline::stage_rates(&settings.clip, &settings.pose, None)?;
    let serde_json::Value::Object(mut json) = serde_json::to_value(rates).map_err(RunError::internal)? else {
        return Err(RunError::internal("the stage rates did not serialise to a JSON object"));
    };
    json.insert("model".into(), settings.pose.preset.name().into());
    json.insert("intra_threads".into(), settings.pose.session.intra_threads.into());
    json.insert("spinning".into(), settings.pose.session.spinning.into());
    serde_json::to_string(&json).map_err(RunError::internal)
}

/// Runs the pose stage on one clip and writes its landmarks; returns a one-line summary.
pub fn pose(settings: &PoseRunSettings) -> Result<String, RunError> {
    let poses = pipeline::poses_from_clip(&settings.clip, &settings.pose, |_| {})?;
    let json = landmark_file_json(&poses, settings.pose.preset, settings.pose.mode)?;
    output::write_atomically(&settings.output, &json)?;
    let t = &poses.timings;
    Ok(format!(
        "{}: runner found in {} of {} frames ({} detector runs), {:.1} frames/s end to end\nlandmarks: {}",
        settings.clip.display(),
        poses.counters.frames_with_pose,
        poses.counters.frames,
        poses.counters.detector_runs,
        t.end_to_end_fps,
        settings.output.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{MetricQuality, Stats};

    /// A synthetic runner's landmarks as the pose stage would give them, and their analysis.
    fn synthetic_poses() -> (ClipPoses, Analysis) {
        let runner = crate::synthetic::SyntheticRunner::default();
        let clip = runner.generate(&crate::synthetic::Corruption::default());
        let frames = clip.sequence.frames.len() as u64;
        let poses = ClipPoses {
            info: crate::video::VideoInfo {
                path: "run.mp4".into(),
                file_size_byte: 0,
                sha256: String::new(),
                width_px: runner.width_px,
                height_px: runner.height_px,
                fps: runner.fps,
                frame_count: frames,
                frame_count_exact: true,
                duration_s: runner.duration_s,
                codec: "none".into(),
                rotation_deg: 0,
                truncation: None,
            },
            sequence: clip.sequence,
            counters: crate::pose::PoseCounters::default(),
            timings: pipeline::PoseTimings::default(),
        };
        let analysis = analyze_clip(&poses, &AnalysisSettings::default());
        (poses, analysis)
    }

    #[test]
    fn the_heavy_models_landmarks_are_kept_only_where_they_measure_more_steps() {
        let (poses, analysis) = synthetic_poses();
        let steps = analysis.steps.len();
        assert!(steps > 10, "{steps} steps");
        let by_place = SecondLook::LegsNamedByPlace(0.8);
        let mut fewer = analysis.clone();
        fewer.steps.truncate(4);
        // Heavy measures more: its landmarks, said in a warning and in the pose summary's choice.
        let chosen = choose_model(
            &by_place,
            (poses.clone(), fewer.clone()),
            (poses.clone(), analysis.clone()),
        );
        assert_eq!(chosen.preset, ModelPreset::Heavy);
        assert!(chosen.analysis.has_warning(analysis::WarningKind::HeavyModelUsed));
        let choice = chosen.choice.expect("choice");
        assert!(choice.contains("80 %") && choice.contains(&format!("measured {steps} steps, the full model 4")));
        assert!(choice.ends_with("the heavy model's landmarks are used"), "{choice}");
        // Heavy measures fewer, or as many: full's are kept, with no warning.
        for heavy in [fewer, analysis.clone()] {
            let chosen = choose_model(&by_place, (poses.clone(), analysis.clone()), (poses.clone(), heavy));
            assert_eq!(chosen.preset, ModelPreset::Full);
            assert!(!chosen.analysis.has_warning(analysis::WarningKind::HeavyModelUsed));
            assert!(
                chosen
                    .choice
                    .expect("choice")
                    .ends_with("the full model's landmarks are kept")
            );
        }
    }

    /// `analysis` with its first foot's toe-offs scattered past the limit: its contacts cannot be timed.
    fn with_scattered_toe_offs(analysis: &Analysis) -> Analysis {
        let mut scattered = analysis.clone();
        scattered.event_calibration[0].to_scatter_ms = Some(137.0);
        scattered
    }

    #[test]
    fn for_untimed_contacts_the_heavy_models_landmarks_are_kept_where_they_time_most_of_the_steps() {
        let (poses, analysis) = synthetic_poses();
        assert_eq!(analysis.contact_timing_reason(), None);
        let scattered = with_scattered_toe_offs(&analysis);
        let reason = scattered.contact_timing_reason().expect("untimed contacts");
        assert!(reason.contains("scatter by ±137 ms"), "{reason}");
        let look = SecondLook::UntimedContacts(reason);
        // Heavy times them, with as many steps: its landmarks, said in a warning and in the choice.
        let chosen = choose_model(
            &look,
            (poses.clone(), scattered.clone()),
            (poses.clone(), analysis.clone()),
        );
        assert_eq!(chosen.preset, ModelPreset::Heavy);
        assert!(chosen.analysis.has_warning(analysis::WarningKind::HeavyModelUsed));
        let choice = chosen.choice.expect("choice");
        assert!(choice.starts_with("the full pose model's foot landmarks could not time the contacts"));
        assert!(choice.contains("and its landmarks time the contacts; the heavy model's landmarks are used"));
        // Heavy cannot time them either, times them on too few steps, or measures none: full's are kept.
        let mut few = analysis.clone();
        let keep = (HEAVY_TIMED_MIN_STEP_SHARE * analysis.steps.len() as f64).ceil() as usize - 1;
        few.steps.truncate(keep);
        let mut none = analysis.clone();
        none.steps.clear();
        for heavy in [scattered.clone(), few, none.clone()] {
            let chosen = choose_model(&look, (poses.clone(), scattered.clone()), (poses.clone(), heavy));
            assert_eq!(chosen.preset, ModelPreset::Full);
            assert!(!chosen.analysis.has_warning(analysis::WarningKind::HeavyModelUsed));
        }
        // Neither measures a step: nothing is timed, and the full model's (empty) report stands.
        let chosen = choose_model(
            &look,
            (poses.clone(), with_scattered_toe_offs(&none)),
            (poses.clone(), none),
        );
        assert_eq!(chosen.preset, ModelPreset::Full);
        assert!(
            chosen
                .choice
                .expect("choice")
                .contains("it measured 0 steps, the full model 0; the full")
        );
    }

    #[test]
    fn only_auto_looks_again_and_only_where_the_legs_are_named_by_place_or_the_contacts_untimed() {
        let (poses, analysis) = synthetic_poses();
        let settings = |model: AnalysisModel| {
            let options = ClipOptions {
                model,
                ..ClipOptions::default()
            };
            AnalyzeSettings::new(Path::new("run.mp4"), Path::new("out"), &options, SessionInfo::default())
                .expect("settings")
        };
        // A model that tells the legs apart: no second look.
        assert_eq!(
            heavy_second_look(&settings(AnalysisModel::Auto), &poses, &analysis),
            None
        );
        // One that calls whichever leg is ahead "right": a second look with auto, none with one model chosen.
        let by_place = ClipPoses {
            sequence: analysis::named_by_place(&poses.sequence, analysis.facing.expect("facing")),
            ..poses.clone()
        };
        let look = heavy_second_look(&settings(AnalysisModel::Auto), &by_place, &analysis).expect("second look");
        assert!(
            matches!(look, SecondLook::LegsNamedByPlace(share) if share >= analysis::LEGS_NAMED_BY_PLACE_SHARE),
            "{look:?}"
        );
        for model in [ModelPreset::Full, ModelPreset::Heavy] {
            assert_eq!(
                heavy_second_look(&settings(AnalysisModel::Only(model)), &by_place, &analysis),
                None
            );
        }
        // Contacts the full model's landmarks cannot time: a second look with auto only.
        let scattered = with_scattered_toe_offs(&analysis);
        assert!(matches!(
            heavy_second_look(&settings(AnalysisModel::Auto), &poses, &scattered),
            Some(SecondLook::UntimedContacts(_))
        ));
        assert_eq!(
            heavy_second_look(&settings(AnalysisModel::Only(ModelPreset::Full)), &poses, &scattered),
            None
        );
    }

    fn summary(left: &[f64], right: &[f64]) -> MetricSummary {
        let both: Vec<f64> = left.iter().chain(right).copied().collect();
        MetricSummary {
            metric: MetricId::FootStrikeAngleDeg,
            unit: "deg".into(),
            left: Stats::of(left),
            right: Stats::of(right),
            both: Stats::of(&both),
            asymmetry: None,
            quality: MetricQuality {
                steps_used: both.len(),
                steps_excluded_low_confidence: 0,
                steps_excluded_outlier: 0,
                mean_landmark_confidence: None,
                enough_steps: false,
            },
            absent_reason: (both.is_empty()).then(|| "the feet are out of the picture".to_owned()),
            side_absent_reason: None,
            shared_error: None,
        }
    }

    #[test]
    fn a_summary_line_gives_each_foot_as_well_as_both() {
        // A rearfoot far foot and a flat near foot, as on the gym clip: the mean over both describes neither.
        let line = metric_line("foot strike angle", "°", &summary(&[14.0, 16.0], &[1.0, 2.0]), "");
        assert_eq!(
            line,
            "  foot strike angle              8.2 ° (SD 7.8, n = 4; left 15.0, right 1.5)\n"
        );
        let one_side = metric_line("foot strike angle", "°", &summary(&[14.0, 16.0], &[]), "");
        assert!(
            one_side.ends_with("(SD 1.4, n = 2; left 15.0, right not measured)\n"),
            "{one_side}"
        );
        let absent = metric_line("foot strike angle", "°", &summary(&[], &[]), "");
        assert_eq!(
            absent,
            "  foot strike angle          not measured: the feet are out of the picture\n"
        );
    }
}
