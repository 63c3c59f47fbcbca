//! The `runform` binary: parses the command line, runs one pipeline, prints any error as one sentence and exits
//! with the documented code (see `runform --help` and `error::EXIT_CODES`).

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::todo,
    clippy::unimplemented
)]

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use runform::analyze::{self, AnalyzeSettings, PoseRunSettings};
use runform::batch::{self, BatchProgress, BatchSettings, ClipResult, ClipStatus};
use runform::cli::{AnalyzeArgs, BatchArgs, Cli, Command, CompareArgs, EXAMPLES, ServeArgs, UserCommand};
use runform::compare;
use runform::error::{Exit, HasExit, exit_code_table};
use runform::output;
use runform::report::SessionInfo;
use runform::serve::{self, ServeSettings};
use runform::video::VideoReader;
use runform::visual;

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
    let result = match cli.command {
        Command::Analyze(args) => run_analyze(&args),
        Command::Batch(args) => run_batch(&args),
        Command::Compare(args) => run_compare(&args),
        Command::Pose(args) => {
            let settings = PoseRunSettings::from_args(&args);
            let summary = if args.bench {
                analyze::bench_pose(&settings)
            } else {
                analyze::pose(&settings)
            }
            .map_err(Failure::from);
            summary.map(|summary| {
                if !args.quiet {
                    println!("{summary}");
                }
            })
        }
        Command::Info(args) => run_info(&args.clip, args.decode),
        Command::Serve(args) => run_serve(&args),
        Command::User(command) => run_user(&command),
    };
    match result {
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

fn internal(error: impl std::fmt::Display) -> Failure {
    Failure {
        exit: Exit::Internal,
        message: format!("internal error: {error} (please report this)"),
    }
}

fn run_analyze(args: &AnalyzeArgs) -> Result<(), Failure> {
    // `CLIP --side SIDE` is the session `SIDE --rear CLIP`; the session's folder is named after its side clip.
    let (clip, rear) = match (&args.rear, &args.side) {
        (Some(rear), _) => (&args.clip, Some(rear)),
        (None, Some(side)) => (side, Some(&args.clip)),
        (None, None) => (&args.clip, None),
    };
    let stem = clip.file_stem().map_or_else(|| PathBuf::from("clip"), PathBuf::from);
    let session = SessionInfo {
        athlete: args.athlete.clone(),
        session_date: args.session_date.clone(),
        notes: None,
    };
    let mut settings = AnalyzeSettings::new(clip, &args.out.join(stem), &(&args.options).into(), session)?;
    if let Some(rear) = rear {
        settings = settings.with_rear_clip(rear);
    }
    settings.overlay = args.overlay;
    settings.html = args.html;
    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    let bar = frame_progress_bar(args.quiet);
    let outcome = analyze::analyze(&settings, |done, total| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    if let Some(path) = args.json.as_deref() {
        let json = analyze::report_json(&outcome.report)?;
        if json_to_stdout {
            print!("{}", String::from_utf8_lossy(&json));
        } else {
            output::write_atomically(path, &json)?;
        }
    }
    if !args.quiet && !json_to_stdout {
        println!("{}", outcome.summary());
    }
    Ok(())
}

/// A frame-count progress bar on stderr, hidden off a terminal or with `--quiet`.
fn frame_progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("pose [{bar:30}] {pos}/{len} frames, {per_sec}, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn run_batch(args: &BatchArgs) -> Result<(), Failure> {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let mut clip_settings = AnalyzeSettings::new(
        Path::new(""),
        Path::new(""),
        &(&args.options).into(),
        SessionInfo::default(),
    )?;
    if jobs > 1 {
        // Several clips at once each get one inference thread: the clips keep the cores busy, and ONNX Runtime's
        // intra-op threads would only compete with the other clips' (see `runform batch --help`).
        clip_settings.pose.session.intra_threads = 1;
    }
    let root = match (&args.folder, &args.manifest) {
        (_, Some(manifest)) => manifest
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        (Some(folder), None) => folder.clone(),
        (None, None) => PathBuf::from("."), // clap requires one of them
    };
    let settings = BatchSettings {
        root,
        manifest: args.manifest.clone(),
        out: args.out.clone(),
        jobs,
        shard: args.shard,
        clip_settings,
    };
    let summary = if args.summarize {
        batch::summarize(&settings)?
    } else {
        let progress = TerminalProgress::new(args.quiet);
        let summary = batch::run_batch(&settings, &progress)?;
        progress.finish();
        summary
    };
    let (shard_prefix, written) = match args.shard {
        Some(shard) => (format!("shard {shard}: "), args.out.join(shard.file_name())),
        None => (String::new(), args.out.join(format!("{}.csv", batch::SUMMARY_STEM))),
    };
    if !args.quiet {
        println!("{shard_prefix}{}", summary.text());
    }
    match summary.exit() {
        Exit::Success => Ok(()),
        exit => Err(Failure {
            exit,
            message: match (summary.failed, summary.pending) {
                (failed, 0) => format!(
                    "{shard_prefix}{failed} of {} clips failed; see {}",
                    summary.clips_found,
                    written.display()
                ),
                (0, pending) => format!(
                    "{pending} of {} clips not finished yet; see {}",
                    summary.clips_found,
                    written.display()
                ),
                (failed, pending) => format!(
                    "{failed} of {} clips failed and {pending} not finished yet; see {}",
                    summary.clips_found,
                    written.display()
                ),
            },
        }),
    }
}

fn run_compare(args: &CompareArgs) -> Result<(), Failure> {
    let reports = compare::collect_reports(&args.reports)?;
    let grouped = compare::compare_reports_by_athlete(&reports)?;
    // One athlete's sessions give the comparison as before; several athletes' one comparison each.
    let one = match (grouped.athletes.as_slice(), grouped.single_sessions.is_empty()) {
        ([comparison], true) => Some(comparison),
        _ => None,
    };
    let json = match one {
        Some(comparison) => serde_json::to_vec_pretty(comparison),
        None => serde_json::to_vec_pretty(&grouped),
    }
    .map_err(internal)?;
    let text = one.map_or_else(|| grouped.text(), compare::Comparison::text);
    match args.json.as_deref() {
        Some(path) if path == Path::new("-") => println!("{}", String::from_utf8_lossy(&json)),
        Some(path) => {
            output::write_atomically(path, &json)?;
            print!("{text}");
        }
        None => print!("{text}"),
    }
    if let Some(path) = &args.csv {
        output::write_atomically(path, &grouped.csv().map_err(internal)?)?;
    }
    if let Some(path) = &args.html {
        let thresholds = runform::analysis::Thresholds::default();
        match one {
            Some(comparison) => {
                visual::write_compare_html("Sessions compared", &comparison.html_sessions(), &thresholds, path)?;
            }
            None => {
                let groups: Vec<(String, Vec<visual::CompareSession>)> = grouped
                    .athletes
                    .iter()
                    .map(|comparison| {
                        let name = comparison.athlete.as_deref().unwrap_or("athlete not named");
                        (format!("Sessions of {name}"), comparison.html_sessions())
                    })
                    .collect();
                visual::write_compare_groups_html("Sessions compared, by athlete", &groups, &thresholds, path)?;
            }
        }
    }
    Ok(())
}

fn run_serve(args: &ServeArgs) -> Result<(), Failure> {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() / 2))
        .max(1);
    serve::run(ServeSettings {
        data_dir: args.data.clone(),
        bind: args.bind,
        jobs,
        max_upload_bytes: args.max_upload_mb.saturating_mul(1_000_000),
    })?;
    Ok(())
}

fn run_user(command: &UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Add(args) => {
            let password = read_password(&args.name)?;
            println!("{}", serve::add_user(&args.data, &args.name, &password, args.admin)?);
        }
        UserCommand::Token(args) => {
            let token = serve::add_api_token(&args.data, &args.name, &args.label)?;
            println!("{token}");
        }
    }
    Ok(())
}

/// The new account's password: prompted twice without echo on a terminal, else the first line of standard input.
fn read_password(name: &str) -> Result<String, Failure> {
    let usage = |message: String| Failure {
        exit: Exit::Usage,
        message,
    };
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("password for {name}: "))
            .map_err(|error| usage(format!("the password could not be read ({error})")))?;
        let again = rpassword::prompt_password("the same again: ")
            .map_err(|error| usage(format!("the password could not be read ({error})")))?;
        if first != again {
            return Err(usage("the two passwords differ; run the command again".to_owned()));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|error| usage(format!("the password could not be read from standard input ({error})")))?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}

fn run_info(clip: &Path, decode: bool) -> Result<(), Failure> {
    let mut reader = VideoReader::open(clip)?;
    let decode = if decode { Some(reader.decode_all()?) } else { None };
    let info = serde_json::json!({ "input": reader.info(), "decode": decode });
    println!("{}", serde_json::to_string_pretty(&info).map_err(internal)?);
    Ok(())
}

/// Batch progress on the terminal: an overall bar and a spinner per clip in flight. Hidden when stderr is not a
/// terminal or with `--quiet`.
struct TerminalProgress {
    bars: MultiProgress,
    overall: ProgressBar,
    in_flight: Mutex<Vec<(PathBuf, ProgressBar)>>,
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
            in_flight: Mutex::new(Vec::new()),
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
