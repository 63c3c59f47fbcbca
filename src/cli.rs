//! The command line: clap definitions only. `main.rs` turns these into validated settings and runs them.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::pose::runner::RunnerHint;

/// Shown after `runform --help`, before the exit-code table.
pub const EXAMPLES: &str = "\
Examples:
  runform analyze samples/demo.mp4                 analyse a clip, write out/demo/report.json
  runform analyze clip.mp4 --out results/          choose the output folder
  runform pose clip.mp4 -o landmarks.json          write the runner's landmarks (blazepose-peer-v1 JSON)
  runform info clip.mp4                            print the clip's metadata as JSON";

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
    /// Find the runner's 33 BlazePose landmarks in every frame and write them as blazepose-peer-v1 JSON (the
    /// format of MediaPipe's reference output, so the two can be compared).
    #[command(after_help = "\
Examples:
  runform pose clip.mp4 -o landmarks.json
  runform pose clip.mp4 -o landmarks.json --model heavy --detect-every-frame
  runform pose clip.mp4 -o landmarks.json --runner-at 0.4,0.6")]
    Pose(PoseArgs),
    /// Print a clip's metadata (size, frame rate, frame count, codec, rotation, SHA-256) as JSON.
    #[command(after_help = "Example:\n  runform info samples/demo.mp4")]
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
    /// Where the runner is, as fractions of the frame's width and height (e.g. 0.4,0.6), when others are in view.
    #[arg(long, value_name = "X,Y")]
    pub runner_at: Option<RunnerHint>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `runform pose`.
#[derive(Debug, clap::Args)]
pub struct PoseArgs {
    /// The video clip.
    pub clip: PathBuf,
    /// The landmark file to write (blazepose-peer-v1 JSON).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// Pose model size: lite is fastest, heavy most accurate.
    #[arg(long, value_enum, default_value_t = ModelChoice::Full)]
    pub model: ModelChoice,
    /// Run the person detector on every frame instead of tracking the runner from frame to frame (slower).
    #[arg(long)]
    pub detect_every_frame: bool,
    /// Track with the crop from the raw auxiliary landmarks (MediaPipe's Tasks API) instead of the smoothed crop
    /// of MediaPipe's pose solution (the default); the output landmarks are unsmoothed either way.
    #[arg(long)]
    pub raw_tracking_crop: bool,
    /// Where the runner is, as fractions of the frame's width and height (e.g. 0.4,0.6), when others are in view.
    #[arg(long, value_name = "X,Y")]
    pub runner_at: Option<RunnerHint>,
    /// ONNX Runtime intra-op threads (default: measured best for this stage).
    #[arg(long, value_name = "N", hide = true)]
    pub threads: Option<usize>,
    /// Let intra-op threads spin while idle (for measuring session options).
    #[arg(long, hide = true)]
    pub spin: bool,
    /// Measure decode-only, inference-only and end-to-end frames/s and print them as JSON instead of writing
    /// landmarks (used by scripts/bench-pose).
    #[arg(long, hide = true)]
    pub bench: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `runform info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The video clip.
    pub clip: PathBuf,
}

/// The BlazePose landmark model presets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelChoice {
    /// pose_landmark_lite (fastest).
    Lite,
    /// pose_landmark_full (the default balance).
    Full,
    /// pose_landmark_heavy (most accurate, about 3× slower than full).
    Heavy,
}
