//! The command line: clap definitions only. `main.rs` turns these into validated settings and runs them.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Shown after `runform --help`, before the exit-code table.
pub const EXAMPLES: &str = "\
Examples:
  runform analyze samples/demo.mp4                 analyse a clip, write out/demo/report.json
  runform analyze clip.mp4 --out results/          choose the output folder
  runform batch clips/                             score every clip below clips/, resumably
  runform info clip.mp4                            print the clip's metadata as JSON
  runform info clip.mp4 --decode                   ... and decode every frame (frame count, speed)";

/// runform: a physical therapist's running-form assessment from a treadmill video.
#[derive(Debug, Parser)]
#[command(name = "runform", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse one clip and write its report.
    #[command(after_help = "\
Examples:
  runform analyze samples/demo.mp4
  runform analyze clip.mp4 --out results/ --model heavy")]
    Analyze(AnalyzeArgs),
    /// Analyse every clip below a folder, in parallel; resumable, and one bad clip never stops the rest.
    #[command(after_help = "\
Examples:
  runform batch clinic-clips/                      reports under out/, plus out/batch-summary.{json,csv}
  runform batch clinic-clips/ --out scored/ --jobs 2

A rerun skips clips whose report matches the clip (SHA-256) and the settings, so an interrupted batch
resumes where it stopped. Exit code 40 means some clips failed: each is named, with its reason, in the
summary.")]
    Batch(BatchArgs),
    /// Compare one athlete's sessions: per metric each value, the change, its 95 % interval and effect size.
    #[command(after_help = "\
Examples:
  runform compare out/jan/report.json out/mar/report.json
  runform compare out/ --csv changes.csv --json changes.json

Sessions are ordered by session date where every report has one, else as given. A change is
'likely real' when it exceeds the metric's smallest detectable difference (where published) and its
95 % interval excludes zero with at least a medium effect size (docs/metrics.md).")]
    Compare(CompareArgs),
    /// Print a clip's metadata (size, frame rate, frame count, codec, rotation, SHA-256) as JSON.
    #[command(after_help = "Examples:\n  runform info samples/demo.mp4\n  runform info samples/demo.mp4 --decode")]
    Info(InfoArgs),
}

/// Arguments of `runform analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The video clip of the runner (MP4, MOV, WebM, …).
    pub clip: PathBuf,
    /// Folder for the outputs; each clip gets a subfolder named after it.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Pose model size: lite is fastest, heavy most accurate.
    #[arg(long, value_enum, default_value_t = ModelChoice::Full)]
    pub model: ModelChoice,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `runform batch`.
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// The folder of clips (searched recursively for .mp4 .mov .m4v .avi .mkv .webm .mpg .3gp).
    pub folder: PathBuf,
    /// Folder for the reports and the batch summary; each clip's report folder mirrors its path below FOLDER.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Clips analysed at once (default: one per CPU core).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Pose model size: lite is fastest, heavy most accurate.
    #[arg(long, value_enum, default_value_t = ModelChoice::Full)]
    pub model: ModelChoice,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `runform compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Reports (report.json) or folders holding them.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Also write the comparison as JSON to this file (`-` for standard output instead of the table).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write the comparison as CSV (one row per metric and session) to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// Arguments of `runform info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The video clip.
    pub clip: PathBuf,
    /// Also decode every frame: counts the frames, checks the clip is complete and measures decoding speed.
    #[arg(long)]
    pub decode: bool,
}

/// The BlazePose landmark model presets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelChoice {
    /// pose_landmark_lite (fastest).
    Lite,
    /// pose_landmark_full (the default balance).
    Full,
    /// pose_landmark_heavy (most accurate, about 3× slower than full).
    Heavy,
}
