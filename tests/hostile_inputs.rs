//! The hostile-input corpus (`scripts/make-bad-inputs`) through `runform analyze` and `runform batch`: every case
//! ends in its expected outcome — a report with the right warnings, or its own error and exit code — with no
//! panic, no hang and no partial output. The table of cases is docs/hostile-inputs.md.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// No single clip of the corpus may take longer than this (the 4K case is the slowest, a few seconds).
const CASE_TIMEOUT: Duration = Duration::from_secs(180);

/// What a case must end in.
enum Expected {
    /// Exit 0 and a report whose warnings include each of these kinds (and none of `absent`).
    Report {
        warnings: &'static [&'static str],
        absent: &'static [&'static str],
    },
    /// This exit code and a message containing this phrase; no report.
    Error { code: i32, phrase: &'static str },
}

use Expected::{Error, Report};

/// Every file case of the corpus and its expected outcome.
const CASES: [(&str, Expected); 27] = [
    (
        "base.mp4",
        Report {
            warnings: &[],
            absent: &["no_runner", "not_upright", "feet_out_of_frame"],
        },
    ),
    (
        "zero-bytes.mp4",
        Error {
            code: 12,
            phrase: "empty",
        },
    ),
    (
        "random-bytes.mp4",
        Error {
            code: 13,
            phrase: "not a video",
        },
    ),
    (
        "truncated-10.mp4",
        Error {
            code: 14,
            phrase: "truncated",
        },
    ),
    (
        "truncated-50.mp4",
        Error {
            code: 14,
            phrase: "truncated",
        },
    ),
    (
        "truncated-90.mp4",
        Error {
            code: 14,
            phrase: "truncated",
        },
    ),
    (
        "truncated-faststart-30.mp4",
        Error {
            code: 14,
            phrase: "too little to measure",
        },
    ),
    (
        "truncated-faststart-80.mp4",
        Report {
            warnings: &["clip_truncated"],
            absent: &["no_runner"],
        },
    ),
    (
        "audio-outlasts-video.mp4",
        Report {
            warnings: &[],
            absent: &["clip_truncated", "no_runner"],
        },
    ),
    (
        "audio-outlasts-video.mkv",
        Report {
            warnings: &[],
            absent: &["clip_truncated", "no_runner"],
        },
    ),
    (
        "corrupt-middle.mp4",
        Error {
            code: 14,
            phrase: "the rest is damaged",
        },
    ),
    (
        "audio-only.mp4",
        Error {
            code: 15,
            phrase: "no video stream",
        },
    ),
    (
        "one-frame.mp4",
        Error {
            code: 16,
            phrase: "1 frame",
        },
    ),
    (
        "two-seconds.mp4",
        Report {
            warnings: &["no_gait_events"],
            absent: &["no_runner"],
        },
    ),
    (
        "4k.mp4",
        Report {
            warnings: &[],
            absent: &["no_runner"],
        },
    ),
    (
        "fps240.mp4",
        Report {
            warnings: &[],
            absent: &["low_frame_rate", "no_runner"],
        },
    ),
    // At 10 fps the walker moves too far between frames for the runner gate: few frames keep a pose.
    (
        "fps10.mp4",
        Report {
            warnings: &["low_frame_rate"],
            absent: &[],
        },
    ),
    (
        "vfr.mp4",
        Report {
            warnings: &[],
            absent: &["no_runner"],
        },
    ),
    (
        "rotated-portrait.mp4",
        Report {
            warnings: &[],
            absent: &["no_runner", "not_upright"],
        },
    ),
    (
        "phone-hevc10-hdr.mov",
        Report {
            warnings: &[],
            absent: &["no_runner", "not_upright"],
        },
    ),
    (
        "upside-down.mp4",
        Report {
            warnings: &["not_upright"],
            absent: &[],
        },
    ),
    (
        "no-person.mp4",
        Report {
            warnings: &["no_runner"],
            absent: &[],
        },
    ),
    (
        "leaves-halfway.mp4",
        Report {
            warnings: &["long_gaps"],
            absent: &["no_runner"],
        },
    ),
    (
        "feet-cropped.mp4",
        Report {
            warnings: &["feet_out_of_frame"],
            absent: &[],
        },
    ),
    // Two half-size walkers side by side: too small for the detector at its 0.5 threshold (docs/hostile-inputs.md).
    (
        "two-people.mp4",
        Report {
            warnings: &[],
            absent: &[],
        },
    ),
    (
        "very-dark.mp4",
        Report {
            warnings: &["no_runner"],
            absent: &[],
        },
    ),
    (
        "with spaces in name.mp4",
        Report {
            warnings: &[],
            absent: &["no_runner"],
        },
    ),
];

/// Runs runform with `args`, killing it after [`CASE_TIMEOUT`]; returns (exit code, stderr).
fn run_bounded(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let stderr_path = tempfile::NamedTempFile::new().expect("temp file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_runform"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(stderr_path.reopen().expect("reopen"))
        .spawn()
        .expect("runform starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > CASE_TIMEOUT {
            let _ = child.kill();
            panic!("runform {args:?} hung for more than {CASE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(stderr_path.path()).unwrap_or_default();
    (status.code().unwrap_or(-1), stderr)
}

fn make_corpus(dir: &Path) -> PathBuf {
    let corpus = dir.join("corpus");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-bad-inputs");
    let status = Command::new(&script)
        .arg(&corpus)
        .stdout(Stdio::null())
        .status()
        .expect("script runs");
    assert!(
        status.success(),
        "scripts/make-bad-inputs failed (did scripts/setup run?)"
    );
    std::fs::remove_file(corpus.join("cases.tsv")).expect("the case list is not a clip");
    corpus
}

fn warnings_of(report: &Path) -> Vec<String> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).expect("report written")).expect("whole JSON");
    report["analysis"]["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn every_hostile_input_ends_in_its_expected_outcome_through_analyze_and_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = make_corpus(dir.path());
    let out = dir.path().join("out");
    let mut failures = Vec::new();
    for (name, expected) in &CASES {
        let clip = corpus.join(name);
        let (code, stderr) = run_bounded(&["analyze".as_ref(), clip.as_os_str(), "--out".as_ref(), out.as_os_str()]);
        let report = out.join(Path::new(name).with_extension("")).join("report.json");
        if stderr.contains("panicked") {
            failures.push(format!("{name}: panicked: {stderr}"));
            continue;
        }
        match expected {
            Report { warnings, absent } => {
                if code != 0 {
                    failures.push(format!("{name}: expected a report, got exit {code}: {stderr}"));
                    continue;
                }
                let found = warnings_of(&report);
                for kind in *warnings {
                    if !found.iter().any(|k| k == kind) {
                        failures.push(format!("{name}: expected warning {kind}, got {found:?}"));
                    }
                }
                for kind in *absent {
                    if found.iter().any(|k| k == kind) {
                        failures.push(format!("{name}: unexpected warning {kind} in {found:?}"));
                    }
                }
            }
            Error {
                code: expected_code,
                phrase,
            } => {
                if code != *expected_code || !stderr.contains(phrase) || stderr.trim_end().lines().count() != 1 {
                    failures.push(format!(
                        "{name}: expected exit {expected_code} with '{phrase}', got {code}: {stderr}"
                    ));
                }
                if report.exists() || report.parent().is_some_and(Path::exists) {
                    failures.push(format!("{name}: a failed clip must leave no output folder"));
                }
            }
        }
    }

    // A file name that is not UTF-8 (made by the script; Rust test code cannot spell it portably).
    let odd = std::fs::read_dir(&corpus)
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_str().is_none()))
        .expect("the corpus has a non-UTF-8 name");
    let (code, stderr) = run_bounded(&["analyze".as_ref(), odd.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    if code != 0 {
        failures.push(format!("non-UTF-8 name: exit {code}: {stderr}"));
    }
    assert!(failures.is_empty(), "hostile inputs:\n{}", failures.join("\n"));
    assert!(
        partial_files(&out).is_empty(),
        "partial files left: {:?}",
        partial_files(&out)
    );

    // The same corpus as one batch: every bad clip named, every good one scored, exit 40.
    let batch_out = dir.path().join("batch");
    let (code, stderr) = run_bounded(&[
        "batch".as_ref(),
        corpus.as_os_str(),
        "--out".as_ref(),
        batch_out.as_os_str(),
        "-q".as_ref(),
    ]);
    assert_eq!(code, 40, "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(batch_out.join("batch-summary.json")).expect("summary")).expect("JSON");
    let errors = CASES.iter().filter(|(_, e)| matches!(e, Error { .. })).count();
    assert_eq!(summary["failed"].as_u64(), Some(errors as u64));
    assert_eq!(
        summary["scored"].as_u64(),
        Some((CASES.len() - errors + 1) as u64),
        "reports + the non-UTF-8 name"
    );
    assert!(partial_files(&batch_out).is_empty());
}

/// Mounts a tmpfs of `size` (with `ro` for read-only) at `dir`; `false` where this user may not mount.
fn mount_tmpfs(dir: &Path, options: &str) -> bool {
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn unmount(dir: &Path) {
    let _ = Command::new("umount").arg(dir).status();
}

#[test]
fn a_read_only_or_full_output_folder_is_exit_30_with_nothing_half_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.mp4");
    assert!(clip.is_file(), "{} is missing: run scripts/setup", clip.display());
    for (label, options) in [("read-only", "ro,size=1m"), ("full", "size=200k")] {
        let out = dir.path().join(label);
        std::fs::create_dir_all(&out).expect("mkdir");
        if !mount_tmpfs(&out, options) {
            eprintln!("skipped the {label} output folder: this user cannot mount a tmpfs (CI runs as root)");
            continue;
        }
        let (code, stderr) = run_bounded(&["analyze".as_ref(), clip.as_os_str(), "--out".as_ref(), out.as_os_str()]);
        let leftovers = partial_files(&out);
        let report_exists = out.join("demo/report.json").exists();
        unmount(&out);
        assert_eq!(code, 30, "{label}: {stderr}");
        assert!(
            stderr.contains(out.to_str().expect("utf-8")),
            "{label}: the message names the folder: {stderr}"
        );
        assert!(
            leftovers.is_empty() && !report_exists,
            "{label}: nothing half-written: {leftovers:?}"
        );
    }
}

fn partial_files(dir: &Path) -> Vec<PathBuf> {
    common::files_below(dir)
        .into_iter()
        .filter(|path| runform::output::is_partial_file(path))
        .collect()
}
