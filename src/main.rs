//! The `runform` binary: parses the command line, runs one pipeline, prints any error as one sentence and exits
//! with the documented code (see `runform --help` and `error::EXIT_CODES`).

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use runform::analyze::{self, AnalyzeSettings, PoseRunSettings, RunError};
use runform::cli::{Cli, Command, EXAMPLES};
use runform::error::{Exit, HasExit, exit_code_table};

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
        Err(error) => {
            eprintln!("runform: error: {error}");
            ExitCode::from(error.exit().code())
        }
    }
}

fn run(cli: Cli) -> Result<(), RunError> {
    match cli.command {
        Command::Analyze(args) => {
            let settings = AnalyzeSettings::from_args(&args);
            let outcome = analyze::analyze(&settings)?;
            if !args.quiet {
                println!("{}", outcome.summary());
            }
            Ok(())
        }
        Command::Pose(args) => {
            let settings = PoseRunSettings::from_args(&args);
            let summary = if args.bench {
                analyze::bench_pose(&settings)?
            } else {
                analyze::pose(&settings)?
            };
            if !args.quiet {
                println!("{summary}");
            }
            Ok(())
        }
        Command::Info(args) => {
            let info = analyze::probe(&args.clip)?;
            let json = serde_json::to_string_pretty(&info).map_err(RunError::internal)?;
            println!("{json}");
            Ok(())
        }
    }
}
