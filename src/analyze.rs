//! The `analyze` pipeline: one clip in, one report folder out. It owns the order of the stages and the rule that
//! outputs are written only at the end, atomically, so a failure anywhere leaves no partial report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use thiserror::Error;

use crate::cli::{AnalyzeArgs, ModelChoice, PoseArgs};
use crate::error::{Exit, HasExit};
use crate::output::{self, OutputError};
use crate::peer::PeerFile;
use crate::pose::pipeline::{self, ClipPoses, PipelineError, PoseTimings};
use crate::pose::runtime::RuntimeError;
use crate::pose::{CropSmoothing, DetectionMode, ModelPreset, PoseCounters, PoseError, PoseSettings, SessionOptions};
use crate::video::{VideoError, VideoInfo, VideoReader};

/// Version of the report's layout; bumped whenever a field changes meaning or is removed.
pub const REPORT_SCHEMA: &str = "runform-report-v0";

/// Any failure of a pipeline, with the exit code it ends the program with.
#[derive(Debug, Error)]
pub enum RunError {
    /// The input clip.
    #[error(transparent)]
    Video(#[from] VideoError),
    /// ONNX Runtime.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The pose stage.
    #[error(transparent)]
    Pose(#[from] PoseError),
    /// Writing outputs.
    #[error(transparent)]
    Output(#[from] OutputError),
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
            RunError::Internal(_) => Exit::Internal,
        }
    }
}

/// Validated settings of one `analyze` run.
#[derive(Clone, Debug)]
pub struct AnalyzeSettings {
    /// The clip.
    pub clip: PathBuf,
    /// The clip's own output folder (`--out` joined with the clip's file stem).
    pub out_dir: PathBuf,
    /// The pose stage's settings (model preset, detection mode, runner hint).
    pub pose: PoseSettings,
}

impl From<ModelChoice> for ModelPreset {
    fn from(choice: ModelChoice) -> ModelPreset {
        match choice {
            ModelChoice::Lite => ModelPreset::Lite,
            ModelChoice::Full => ModelPreset::Full,
            ModelChoice::Heavy => ModelPreset::Heavy,
        }
    }
}

impl AnalyzeSettings {
    /// Builds the settings from the command line.
    pub fn from_args(args: &AnalyzeArgs) -> AnalyzeSettings {
        let stem = args
            .clip
            .file_stem()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("clip"));
        AnalyzeSettings {
            clip: args.clip.clone(),
            out_dir: args.out.join(stem),
            pose: PoseSettings {
                preset: args.model.into(),
                mode: DetectionMode::Tracking,
                crop_smoothing: CropSmoothing::default(),
                runner_hint: args.runner_at,
                session: SessionOptions::default(),
            },
        }
    }

    /// Where the landmarks go (blazepose-peer-v1 JSON).
    pub fn landmarks_path(&self) -> PathBuf {
        self.out_dir.join("landmarks.json")
    }

    /// Where the JSON report goes.
    pub fn report_path(&self) -> PathBuf {
        self.out_dir.join("report.json")
    }
}

/// What decoding the clip found.
#[derive(Clone, Debug, Serialize)]
pub struct DecodeSummary {
    /// Frames decoded.
    pub frames_decoded: u64,
    /// Presentation time of the first frame, seconds.
    pub first_timestamp_s: f64,
    /// Presentation time of the last frame, seconds.
    pub last_timestamp_s: f64,
}

/// What the pose stage found and how it ran.
#[derive(Clone, Debug, Serialize)]
pub struct PoseSummary {
    /// The landmark model preset (`lite`, `full`, `heavy`).
    pub model: &'static str,
    /// Whether the detector ran on every frame (`every_frame`) or only when tracking was lost (`tracking`).
    pub detection_mode: &'static str,
    /// Frames with the runner's pose, detector and landmark-model runs.
    pub counters: PoseCounters,
    /// Model loading and the overlapped decode + inference pass.
    pub timings: PoseTimings,
}

impl PoseSummary {
    fn from_poses(settings: &PoseSettings, poses: &ClipPoses) -> PoseSummary {
        PoseSummary {
            model: settings.preset.name(),
            detection_mode: match settings.mode {
                DetectionMode::Tracking => "tracking",
                DetectionMode::EveryFrame => "every_frame",
            },
            counters: poses.counters,
            timings: poses.timings,
        }
    }
}

/// Wall-clock time of each stage.
#[derive(Clone, Debug, Serialize)]
pub struct Timings {
    /// Opening, hashing, decoding the clip and the pose stage (decoding overlaps inference), seconds.
    pub decode_and_pose_s: f64,
    /// The whole run, seconds.
    pub total_s: f64,
}

/// The report written to `report.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// The runform version that wrote it.
    pub runform_version: &'static str,
    /// The input clip.
    pub input: VideoInfo,
    /// The decoding pass.
    pub decode: DecodeSummary,
    /// The pose stage.
    pub pose: PoseSummary,
    /// Stage timings.
    pub timings: Timings,
}

/// The result of a successful `analyze`.
#[derive(Clone, Debug)]
pub struct AnalyzeOutcome {
    /// Where the report was written.
    pub report_path: PathBuf,
    /// The report.
    pub report: Report,
}

impl AnalyzeOutcome {
    /// A short human summary for the terminal.
    pub fn summary(&self) -> String {
        let input = &self.report.input;
        format!(
            "{}: {}x{} {} at {:.2} fps, {} frames decoded, runner found in {} ({:.2} s)\nreport: {}",
            input.path.display(),
            input.width_px,
            input.height_px,
            input.codec,
            input.fps,
            self.report.decode.frames_decoded,
            self.report.pose.counters.frames_with_pose,
            self.report.timings.total_s,
            self.report_path.display()
        )
    }
}

/// Reads a clip's metadata without decoding it.
pub fn probe(clip: &Path) -> Result<VideoInfo, RunError> {
    Ok(VideoReader::open(clip)?.info().clone())
}

/// Runs the pipeline on one clip and writes its report and landmarks.
pub fn analyze(settings: &AnalyzeSettings) -> Result<AnalyzeOutcome, RunError> {
    let started = Instant::now();
    // Fail on an unreadable clip or an unwritable output folder now, not after minutes of work.
    VideoReader::open(&settings.clip)?;
    output::create_dir(&settings.out_dir)?;

    let poses = pipeline::poses_from_clip(&settings.clip, &settings.pose, |_| {})?;
    let decode_and_pose_s = started.elapsed().as_secs_f64();
    let frames = &poses.sequence.frames;

    let report = Report {
        schema: REPORT_SCHEMA,
        runform_version: env!("CARGO_PKG_VERSION"),
        input: poses.info.clone(),
        decode: DecodeSummary {
            frames_decoded: frames.len() as u64,
            first_timestamp_s: frames.first().map_or(0.0, |f| f.timestamp_s),
            last_timestamp_s: frames.last().map_or(0.0, |f| f.timestamp_s),
        },
        pose: PoseSummary::from_poses(&settings.pose, &poses),
        timings: Timings {
            decode_and_pose_s,
            total_s: started.elapsed().as_secs_f64(),
        },
    };
    let landmarks = landmark_file_json(&poses, &settings.pose)?;
    output::write_atomically(&settings.landmarks_path(), &landmarks)?;
    let report_path = settings.report_path();
    let json = serde_json::to_vec_pretty(&report).map_err(RunError::internal)?;
    output::write_atomically(&report_path, &json)?;
    Ok(AnalyzeOutcome { report_path, report })
}

/// The clip's landmarks as blazepose-peer-v1 JSON, with runform's settings and timings in `meta`.
fn landmark_file_json(poses: &ClipPoses, settings: &PoseSettings) -> Result<Vec<u8>, RunError> {
    let summary = PoseSummary::from_poses(settings, poses);
    let mut meta = serde_json::Map::new();
    meta.insert(
        "producer".into(),
        format!("runform {}", env!("CARGO_PKG_VERSION")).into(),
    );
    meta.insert("video".into(), poses.info.path.display().to_string().into());
    meta.insert("video_sha256".into(), poses.info.sha256.clone().into());
    meta.insert("n_frames".into(), poses.sequence.frames.len().into());
    meta.insert("variant".into(), summary.model.into());
    meta.insert("running_mode".into(), summary.detection_mode.into());
    meta.insert("smoothing".into(), "none".into());
    meta.insert(
        "counters".into(),
        serde_json::to_value(summary.counters).map_err(RunError::internal)?,
    );
    meta.insert(
        "timing".into(),
        serde_json::to_value(summary.timings).map_err(RunError::internal)?,
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
    let mut json = serde_json::to_value(rates).map_err(RunError::internal)?;
    json["model"] = settings.pose.preset.name().into();
    json["intra_threads"] = settings.pose.session.intra_threads.into();
    json["spinning"] = settings.pose.session.spinning.into();
    serde_json::to_string(&json).map_err(RunError::internal)
}

/// Runs the pose stage on one clip and writes its landmarks; returns a one-line summary.
pub fn pose(settings: &PoseRunSettings) -> Result<String, RunError> {
    let poses = pipeline::poses_from_clip(&settings.clip, &settings.pose, |_| {})?;
    let json = landmark_file_json(&poses, &settings.pose)?;
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
