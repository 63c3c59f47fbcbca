//! The `analyze` pipeline: one clip in, one report folder out. It owns the order of the stages and the rule that
//! outputs are written only at the end, atomically, so a failure anywhere leaves no partial report.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use thiserror::Error;

use crate::cli::{AnalyzeArgs, ModelChoice};
use crate::error::{Exit, HasExit};
use crate::output::{self, OutputError};
use crate::pose::runtime::RuntimeError;
use crate::video::{DecodeSummary, VideoError, VideoInfo, VideoReader};

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
    /// Writing outputs.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A bug or an unexpected failure.
    #[error("internal error: {0} (please report this)")]
    Internal(String),
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
    /// The landmark model preset.
    pub model: ModelChoice,
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
            model: args.model,
        }
    }

    /// Everything that changes a report's numbers: a report made with the same fingerprint from the same clip
    /// (same SHA-256) needs no redoing.
    pub fn fingerprint(&self) -> ReportSettings {
        ReportSettings {
            runform_version: env!("CARGO_PKG_VERSION").to_owned(),
            model: self.model,
        }
    }

    /// Where the JSON report goes.
    pub fn report_path(&self) -> PathBuf {
        self.out_dir.join("report.json")
    }
}

/// The settings a report was made with (see [`AnalyzeSettings::fingerprint`]).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ReportSettings {
    /// The runform version.
    pub runform_version: String,
    /// The landmark model preset.
    pub model: ModelChoice,
}

/// Wall-clock time of each stage.
#[derive(Clone, Debug, Serialize)]
pub struct Timings {
    /// Opening, hashing and decoding the clip, seconds.
    pub decode_s: f64,
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
    /// The settings the report was made with.
    pub settings: ReportSettings,
    /// The decoding pass.
    pub decode: DecodeSummary,
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
            "{}: {}x{} {} at {:.2} fps, {} frames decoded ({:.2} s)\nreport: {}",
            input.path.display(),
            input.width_px,
            input.height_px,
            input.codec,
            input.fps,
            self.report.decode.frames_decoded,
            self.report.timings.total_s,
            self.report_path.display()
        )
    }
}

/// Runs the pipeline on one clip and writes its report.
pub fn analyze(settings: &AnalyzeSettings) -> Result<AnalyzeOutcome, RunError> {
    let started = Instant::now();
    let mut reader = VideoReader::open(&settings.clip)?;
    // Fail on an unwritable output folder now, not after minutes of work.
    output::create_dir(&settings.out_dir)?;

    let decode = reader.decode_all()?;
    let decode_s = started.elapsed().as_secs_f64();

    let report = Report {
        schema: REPORT_SCHEMA,
        runform_version: env!("CARGO_PKG_VERSION"),
        input: reader.info().clone(),
        settings: settings.fingerprint(),
        decode,
        timings: Timings {
            decode_s,
            total_s: started.elapsed().as_secs_f64(),
        },
    };
    let report_path = settings.report_path();
    let json = serde_json::to_vec_pretty(&report).map_err(RunError::internal)?;
    output::write_atomically(&report_path, &json)?;
    Ok(AnalyzeOutcome { report_path, report })
}
