//! The `runform` binary: parses the command line, runs one pipeline, prints any error as one sentence and exits
//! with the documented code (see `runform --help` and `error::EXIT_CODES`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use runform::analyze::{self, AnalyzeSettings};
use runform::batch::{self, BatchProgress, BatchSettings, ClipResult, ClipStatus};
use runform::cli::{Cli, Command, EXAMPLES};
use runform::compare;
use runform::error::{Exit, HasExit, exit_code_table};
use runform::output;
use runform::video::VideoReader;

/// FFmpeg's log level for OpenCV's decoder (AV_LOG_QUIET): runform reports decoding problems itself, in one
/// sentence, so FFmpeg's own lines would only be noise.
const FFMPEG_LOG_LEVEL_QUIET: &str = "-8";

fn main() -> ExitCode {
    if std::env::var_os("OPENCV_FFMPEG_LOGLEVEL").is_none() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("OPENCV_FFMPEG_LOGLEVEL", FFMPEG_LOG_LEVEL_QUIET) };
    }
    let command = Cli::command().after_long_help(format!("{EXAMPLES}\n\n{}", exit_code_table()));
    let cli = match command
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout with status 0, and usage errors to stderr with status 2.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { Exit::Usage.code() } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("runform: error: {}", failure.message);
            ExitCode::from(failure.exit.code())
        }
    }
}

/// A failed run: the sentence to print and the code to exit with.
struct Failure {
    exit: Exit,
    message: String,
}

impl<E: HasExit + std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure {
            exit: error.exit(),
            message: error.to_string(),
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Analyze(args) => {
            let settings = AnalyzeSettings::from_args(&args);
            let outcome = analyze::analyze(&settings)?;
            if !args.quiet {
                println!("{}", outcome.summary());
            }
            Ok(())
        }
        Command::Batch(args) => {
            let jobs = args
                .jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let settings = BatchSettings {
                root: args.folder.clone(),
                out: args.out.clone(),
                jobs,
                clip_settings: AnalyzeSettings {
                    clip: PathBuf::new(),
                    out_dir: PathBuf::new(),
                    model: args.model,
                },
            };
            let progress = TerminalProgress::new(args.quiet);
            let summary = batch::run_batch(&settings, &progress)?;
            progress.finish();
            if !args.quiet {
                println!("{}", summary.text());
            }
            match summary.exit() {
                Exit::Success => Ok(()),
                exit => Err(Failure {
                    exit,
                    message: format!(
                        "{} of {} clips failed; see {}",
                        summary.failed,
                        summary.clips_found,
                        args.out.join(format!("{}.csv", batch::SUMMARY_STEM)).display()
                    ),
                }),
            }
        }
        Command::Compare(args) => {
            let reports = compare::collect_reports(&args.reports)?;
            let comparison = compare::compare_reports(&reports)?;
            let internal = |e: &dyn std::fmt::Display| Failure {
                exit: Exit::Internal,
                message: e.to_string(),
            };
            let json = serde_json::to_vec_pretty(&comparison).map_err(|e| internal(&e))?;
            match args.json.as_deref() {
                Some(path) if path == Path::new("-") => println!("{}", String::from_utf8_lossy(&json)),
                Some(path) => {
                    output::write_atomically(path, &json)?;
                    print!("{}", comparison.text());
                }
                None => print!("{}", comparison.text()),
            }
            if let Some(path) = &args.csv {
                output::write_atomically(path, &comparison.csv().map_err(|e| internal(&e))?)?;
            }
            Ok(())
        }
        Command::Info(args) => {
            let mut reader = VideoReader::open(&args.clip)?;
            let decode = if args.decode { Some(reader.decode_all()?) } else { None };
            let info = serde_json::json!({ "input": reader.info(), "decode": decode });
            let json = serde_json::to_string_pretty(&info).map_err(|e| Failure {
                exit: Exit::Internal,
                message: e.to_string(),
            })?;
            println!("{json}");
            Ok(())
        }
    }
}

/// Batch progress on the terminal: an overall bar and a spinner per clip in flight. Hidden when stderr is not a
/// terminal or with `--quiet`.
struct TerminalProgress {
    bars: MultiProgress,
    overall: ProgressBar,
    in_flight: std::sync::Mutex<Vec<(PathBuf, ProgressBar)>>,
}

impl TerminalProgress {
    fn new(quiet: bool) -> TerminalProgress {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bars = MultiProgress::with_draw_target(target);
        let overall = bars.add(ProgressBar::no_length());
        overall.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} clips, {elapsed} ({eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        overall.set_prefix("batch");
        TerminalProgress {
            bars,
            overall,
            in_flight: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn finish(&self) {
        self.overall.finish_and_clear();
    }
}

impl BatchProgress for TerminalProgress {
    fn clips_found(&self, count: usize) {
        self.overall.set_length(count as u64);
    }

    fn clip_started(&self, clip: &Path) {
        let spinner = self.bars.add(ProgressBar::new_spinner());
        spinner.set_message(clip.display().to_string());
        spinner.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.push((clip.to_path_buf(), spinner));
        }
    }

    fn clip_finished(&self, clip: &Path, result: &ClipResult) {
        if let Ok(mut in_flight) = self.in_flight.lock()
            && let Some(at) = in_flight.iter().position(|(path, _)| path == clip)
        {
            let (_, spinner) = in_flight.remove(at);
            spinner.finish_and_clear();
            self.bars.remove(&spinner);
        }
        if result.status == ClipStatus::Failed {
            let _ = self
                .bars
                .println(format!("failed: {}", result.reason.as_deref().unwrap_or("")));
        }
        self.overall.inc(1);
    }
}
