//! The command line: clap definitions only. `main.rs` turns these into validated settings and runs them.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::ViewChoice;
use crate::config::{TreadmillSpeed, parse_session_date, parse_speed};
use crate::options::{AnalysisModel, ClipOptions, parse_height_cm};
use crate::pose::runner::RunnerHint;
use crate::pose::{DetectionMode, ModelPreset};
use crate::shard::Shard;

/// Shown after `runform --help`, before the exit-code table.
pub const EXAMPLES: &str = "\
Examples:
  runform analyze samples/demo.mp4                 analyse a clip, write out/demo/report.json and more
  runform analyze clip.mp4 --speed 12km/h --height-cm 178 --athlete AR --session-date 2026-11-28
  runform analyze rear.mp4 --view rear             pelvic drop from a rear-view clip
  runform analyze side.mp4 --rear rear.mp4 --html  one session filmed from the side and from behind
  runform batch clips/                             score every clip below clips/, resumably
  runform batch --manifest sessions.csv            score the sessions a manifest lists (athlete, date, clips)
  runform compare out/                             compare the sessions whose reports are below out/
  runform pose clip.mp4 -o landmarks.json          write the runner's landmarks (blazepose-peer-v1 JSON)
  runform info clip.mp4 --decode                   print the clip's metadata and decode every frame
  runform serve                                    the clinic's web app on http://127.0.0.1:8080/";

/// runform: a physical therapist's running-form assessment from a treadmill video.
#[derive(Debug, Parser)]
#[command(name = "runform", version = crate::BUILD, about, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse one clip, or one session filmed from the side and from behind (--rear): landmarks, gait events,
    /// metrics, flags; writes report.json, steps.csv, summary.csv and landmarks.json into `OUT/<clip name>/`.
    #[command(after_help = "\
Examples:
  runform analyze samples/demo.mp4
  runform analyze clip.mp4 --out results/ --model heavy --speed 12km/h --height-cm 178
  runform analyze clip.mp4 --html --overlay        also report.html and overlay.mp4
  runform analyze clip.mp4 --json - --quiet        the report on standard output
  runform analyze rear.mp4 --view rear --athlete AR --session-date 2026-11-28
  runform analyze side.mp4 --rear rear.mp4 --html --overlay   one session, two views, one report
  runform analyze rear.mp4 --side side.mp4         the same session, the clips named the other way round
In a two-view session each metric comes from the view that can show it (pelvic drop from the rear clip,
the sagittal ones from the side clip) and names it; cadence is measured in both and compared.")]
    Analyze(AnalyzeArgs),
    /// Analyse every clip below a folder, or every session of a manifest, in parallel; resumable, and one bad
    /// clip (or manifest row) never stops the rest.
    #[command(after_help = "\
Examples:
  runform batch clinic-clips/                      reports under out/, plus out/batch-summary.{json,csv}
  runform batch --manifest sessions.csv            one session per row: athlete,session_date,side,rear,speed,
                                                   height_cm,notes (clip paths relative to the manifest)
  runform batch clinic-clips/ --out scored/ --jobs 2
  runform batch clips/ --out /shared/out --shard 3/8   shard 3 of 8 (one task of a Slurm array)
  runform batch clips/ --out /shared/out --summarize   merge the shards' reports into one summary

In a folder, NAME_side.* and NAME_rear.* are paired into one two-view session (report folder NAME).
A rerun skips clips whose report matches the clip (SHA-256) and the settings, so an interrupted
batch resumes where it stopped. Exit code 40 means some clips failed (with --summarize, also that
some are not finished yet): each is named, with its reason, in the summary. A manifest row that
cannot be used is named with its line number and the rest carries on (exit code 40 at the end);
a manifest that cannot be used at all exits with 10 (missing), 17 (unreadable) or 18 (not a
manifest: no such columns, or no rows). Manifests: docs/sessions.md. Slurm and Kubernetes:
docs/scale-out.md.")]
    Batch(BatchArgs),
    /// Compare each athlete's sessions: per metric each value, the change, its 95 % interval and effect size.
    #[command(after_help = "\
Examples:
  runform compare out/jan/report.json out/mar/report.json
  runform compare out/ --csv changes.csv --json changes.json --html changes.html

Sessions are ordered by session date where every report has one, else as given. A change is
'likely real' when it exceeds the metric's smallest detectable difference (where published) and its
95 % interval excludes zero with at least a medium effect size (docs/metrics.md).")]
    Compare(CompareArgs),
    /// Find the runner's 33 BlazePose landmarks in every frame and write them as blazepose-peer-v1 JSON (the
    /// format of MediaPipe's reference output, so the two can be compared).
    #[command(after_help = "\
Examples:
  runform pose clip.mp4 -o landmarks.json
  runform pose clip.mp4 -o landmarks.json --model heavy --detect-every-frame
  runform pose clip.mp4 -o landmarks.json --runner-at 0.4,0.6")]
    Pose(PoseArgs),
    /// Run the clinic's web app: PTs log in from any browser, upload clips and follow each athlete over time.
    #[command(after_help = "\
Examples:
  runform user add alex --admin                    first, an account (the password is prompted)
  runform serve                                    then open http://127.0.0.1:8080/
  runform serve --data /srv/runform --jobs 2 --bind 0.0.0.0:8080

Everything (database, clips, reports) stays in the data folder on this machine. It listens on this
machine only unless --bind says otherwise.")]
    Serve(ServeArgs),
    /// Manage the web app's accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print a clip's metadata (size, frame rate, frame count, codec, rotation, SHA-256) as JSON.
    #[command(after_help = "Examples:\n  runform info samples/demo.mp4\n  runform info samples/demo.mp4 --decode")]
    Info(InfoArgs),
}

/// Options shared by `analyze` and `batch`: everything that changes the numbers.
#[derive(Debug, clap::Args)]
pub struct AnalysisOptions {
    /// Pose model: auto (the default) runs full, the one runform's event timing is checked against hand labels
    /// with, and heavy as well where full names the legs by their place in the picture (a sprint filmed at an
    /// angle), keeping heavy's landmarks when they measure more steps, or where full's foot landmarks cannot time
    /// the contacts, keeping heavy's when they can; heavy alone is 2.75× slower, and times the far foot's toe-off
    /// worse on a side view (docs/metrics.md, *Pose model size*). lite is refused: its contacts and foot angles
    /// are too far off.
    #[arg(long, value_enum, default_value_t = AnalysisModelChoice::Auto)]
    pub model: AnalysisModelChoice,
    /// Camera view: side (sagittal) for cadence, angles and contact times; rear for pelvic drop; auto detects it.
    #[arg(long, value_enum, default_value_t = ViewArg::Auto)]
    pub view: ViewArg,
    /// The runner's standing height, centimetres: gives overstride and oscillation in cm.
    #[arg(long, value_name = "CM", value_parser = parse_height_cm)]
    pub height_cm: Option<f64>,
    /// Treadmill belt speed with its unit (12km/h, 7.5mph, 3.3m/s): gives step and stride length.
    #[arg(long, value_name = "SPEED", value_parser = parse_speed)]
    pub speed: Option<TreadmillSpeed>,
    /// TOML file with thresholds and reference ranges (every key, its default and source: docs/runform.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run the person detector on every frame instead of tracking the runner (slower).
    #[arg(long)]
    pub detect_every_frame: bool,
    /// Where the runner is, as fractions of the frame's width and height (e.g. 0.4,0.6), when others are in view.
    #[arg(long, value_name = "X,Y")]
    pub runner_at: Option<RunnerHint>,
}

/// Arguments of `runform analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The video clip of the runner (MP4, MOV, WebM, …).
    pub clip: PathBuf,
    /// The rear-view clip of the same session: CLIP is then the side view, and the report is the session's, each
    /// metric from the view that can show it.
    #[arg(long, value_name = "REAR_CLIP", conflicts_with_all = ["side", "view"])]
    pub rear: Option<PathBuf>,
    /// The side-view clip of the same session: CLIP is then the rear view (the same as `SIDE_CLIP --rear CLIP`).
    #[arg(long, value_name = "SIDE_CLIP", conflicts_with = "view")]
    pub side: Option<PathBuf>,
    /// Folder for the outputs; the clip (the side clip of a session) gets a subfolder named after it.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// What changes the numbers.
    #[command(flatten)]
    pub options: AnalysisOptions,
    /// The athlete's name or code, recorded in the report.
    #[arg(long)]
    pub athlete: Option<String>,
    /// The session date, YYYY-MM-DD, recorded in the report (compare orders sessions by it).
    #[arg(long, value_name = "DATE", value_parser = parse_session_date)]
    pub session_date: Option<String>,
    /// Also write overlay.mp4: the clip with the skeleton, the measured angles, contact and toe-off markers and a
    /// metrics panel (H.264, plays in browsers).
    #[arg(long)]
    pub overlay: bool,
    /// Also write report.html: one self-contained page with the metrics, their reference ranges and flags, plots
    /// over the stride and by step, stills of the key moments and the quality section.
    #[arg(long)]
    pub html: bool,
    /// Also write the report JSON to this file; `-` writes it to standard output instead of the summary.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Print nothing but errors (and the JSON with `--json -`).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `runform batch`.
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// The folder of clips (searched recursively for .mp4 .mov .m4v .avi .mkv .webm .mpg .3gp); not with
    /// --manifest.
    #[arg(required_unless_present = "manifest", conflicts_with = "manifest")]
    pub folder: Option<PathBuf>,
    /// A CSV manifest of sessions, one per row, with the header
    /// `athlete,session_date,side_clip,rear_clip,speed,height_cm,notes` (either clip may be empty; clip paths are
    /// relative to the manifest's folder). Each report carries the row's athlete, date and notes.
    #[arg(long, value_name = "CSV")]
    pub manifest: Option<PathBuf>,
    /// Folder for the reports and the batch summary; each clip's report folder mirrors its path below FOLDER
    /// (with a manifest: `ATHLETE/DATE/<side clip name>`).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Clips analysed at once (default: one per CPU core, each with one inference thread).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Score only shard K of N, counting K from 0 (a Slurm array index or a Kubernetes completion index): a share
    /// of the clips, balanced by size, that is the same on every machine. Writes that share's reports and
    /// OUT/batch-shard-K-of-N.json; run --summarize when the shards are done.
    #[arg(long, value_name = "K/N", conflicts_with = "summarize")]
    pub shard: Option<Shard>,
    /// Score nothing: merge the reports and shard files already in OUT into batch-summary.json and .csv, naming
    /// the clips no shard has finished yet and the shards to resubmit. Give it the shards' analysis options.
    #[arg(long)]
    pub summarize: bool,
    /// What changes the numbers.
    #[command(flatten)]
    pub options: AnalysisOptions,
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
    /// Also write the comparison as one self-contained HTML page with the changes plotted.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Arguments of `runform pose`.
#[derive(Debug, clap::Args)]
pub struct PoseArgs {
    /// The video clip.
    pub clip: PathBuf,
    /// The landmark file to write (blazepose-peer-v1 JSON).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// Pose model size: lite is fastest (its landmarks are not good enough for `analyze`); full (the default) is
    /// the one runform's event timing is checked against hand labels with; heavy is 2.75× slower (docs/metrics.md,
    /// *Pose model size*).
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

/// Arguments of `runform serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The data folder: database, clips and reports (created on first run).
    #[arg(long, default_value = "runform-data", value_name = "DIR")]
    pub data: PathBuf,
    /// Address and port to listen on; the default serves this machine only.
    #[arg(long, default_value = crate::serve::DEFAULT_BIND, value_name = "ADDRESS:PORT")]
    pub bind: std::net::SocketAddr,
    /// Clips analysed at once (default: one per two CPU cores, at least one).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// The largest clip accepted, megabytes (default 1024: a couple of minutes of 4K phone video).
    #[arg(long, value_name = "MB", default_value_t = crate::serve::DEFAULT_MAX_UPLOAD_MB)]
    pub max_upload_mb: u64,
}

/// `runform user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; the password is prompted, or read from standard input when it is not a terminal.
    #[command(after_help = "Examples:\n  runform user add alex --admin\n  echo \"$PASSWORD\" | runform user add sam")]
    Add(UserAddArgs),
    /// Make an API token for an account (printed once; docs/api.md says how to use it).
    Token(UserTokenArgs),
}

/// Arguments of `runform user add`.
#[derive(Debug, clap::Args)]
pub struct UserAddArgs {
    /// The login name.
    pub name: String,
    /// The account manages users and reads the audit log.
    #[arg(long)]
    pub admin: bool,
    /// The web app's data folder.
    #[arg(long, default_value = "runform-data", value_name = "DIR")]
    pub data: PathBuf,
}

/// Arguments of `runform user token`.
#[derive(Debug, clap::Args)]
pub struct UserTokenArgs {
    /// The account.
    pub name: String,
    /// What the token is for.
    #[arg(long, default_value = "api")]
    pub label: String,
    /// The web app's data folder.
    #[arg(long, default_value = "runform-data", value_name = "DIR")]
    pub data: PathBuf,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelChoice {
    /// pose_landmark_lite (fastest).
    Lite,
    /// pose_landmark_full (the default balance).
    Full,
    /// pose_landmark_heavy (a larger network, 2.75× slower than full; not better for runform's events on a side view).
    Heavy,
}

/// The pose models an analysis can use, as `--model` takes them. `lite` is accepted here only to be refused with
/// its reason ([`crate::options::LITE_REFUSED`]) by the options' check, which the batch and the web app share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AnalysisModelChoice {
    /// pose_landmark_full, and pose_landmark_heavy as well where full names the legs by their place or cannot
    /// time the contacts (the default).
    Auto,
    /// pose_landmark_full only.
    Full,
    /// pose_landmark_heavy (a larger network, 2.75× slower than full; not better for runform's events on a side view).
    Heavy,
    /// Refused (hidden from the help).
    #[value(hide = true)]
    Lite,
}

impl From<AnalysisModelChoice> for AnalysisModel {
    fn from(choice: AnalysisModelChoice) -> AnalysisModel {
        match choice {
            AnalysisModelChoice::Auto => AnalysisModel::Auto,
            AnalysisModelChoice::Lite => AnalysisModel::Only(ModelPreset::Lite),
            AnalysisModelChoice::Full => AnalysisModel::Only(ModelPreset::Full),
            AnalysisModelChoice::Heavy => AnalysisModel::Only(ModelPreset::Heavy),
        }
    }
}

/// The camera view, as `--view` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ViewArg {
    /// Side view (sagittal plane).
    Side,
    /// Rear view (frontal plane): pelvic drop.
    Rear,
    /// Detect it from the landmarks.
    Auto,
}

impl From<ViewArg> for ViewChoice {
    fn from(view: ViewArg) -> ViewChoice {
        match view {
            ViewArg::Side => ViewChoice::Side,
            ViewArg::Rear => ViewChoice::Rear,
            ViewArg::Auto => ViewChoice::Auto,
        }
    }
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

impl From<&AnalysisOptions> for ClipOptions {
    fn from(options: &AnalysisOptions) -> ClipOptions {
        ClipOptions {
            model: options.model.into(),
            view: options.view.into(),
            height_cm: options.height_cm,
            speed: options.speed,
            config: options.config.clone(),
            detection: if options.detect_every_frame {
                DetectionMode::EveryFrame
            } else {
                DetectionMode::Tracking
            },
            runner_at: options.runner_at,
        }
    }
}
