//! Scoring a folder of clips: find every clip below a folder, analyse them in parallel, collect each failure with
//! its reason while the rest carry on, and write a summary over all of them.
//!
//! A batch is resumable and safe to interrupt. Each clip's report is written atomically by the analyze pipeline,
//! so a killed batch leaves whole reports or none; a rerun skips every clip whose report already matches the
//! clip's SHA-256 and the settings, and removes temporary files a killed run left behind.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analyze::{self, AnalyzeSettings};
use crate::error::{Exit, HasExit};
use crate::output::{self, OutputError};
use crate::report::{self, Report};
use crate::video;

/// File extensions (lower case) taken as clips; anything else in the folder is left alone.
pub const CLIP_EXTENSIONS: [&str; 8] = ["mp4", "mov", "m4v", "avi", "mkv", "webm", "mpg", "3gp"];

/// Name of the batch summary files in the output folder (`.json` and `.csv`).
pub const SUMMARY_STEM: &str = "batch-summary";

/// A batch could not run at all (a single clip's failure is not a `BatchError`: it is recorded and the batch goes on).
#[derive(Debug, Error)]
pub enum BatchError {
    /// The folder to score is missing or not a folder.
    #[error("{path}: is not a folder of clips; give the folder that holds the videos")]
    NotAFolder {
        /// The path given.
        path: PathBuf,
    },
    /// Listing the folder failed.
    #[error("{path}: cannot be listed ({source})")]
    Unlistable {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The summary could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl HasExit for BatchError {
    fn exit(&self) -> Exit {
        match self {
            BatchError::NotAFolder { .. } => Exit::InputNotFound,
            BatchError::Unlistable { .. } => Exit::InputUnreadable,
            BatchError::Output(error) => error.exit(),
        }
    }
}

/// Validated settings of one batch.
#[derive(Clone, Debug)]
pub struct BatchSettings {
    /// The folder searched (recursively) for clips.
    pub root: PathBuf,
    /// The output folder; each clip's report goes to `out/<path below root without extension>/`.
    pub out: PathBuf,
    /// Clips analysed at once.
    pub jobs: usize,
    /// Settings shared by every clip (the clip and output folder are filled in per clip).
    pub clip_settings: AnalyzeSettings,
}

/// What happened to one clip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipStatus {
    /// Analysed now; its report was written.
    Scored,
    /// Its report from an earlier run matches the clip and the settings; nothing was redone.
    UpToDate,
    /// It could not be analysed; `reason` says why.
    Failed,
}

/// One clip's line in the summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClipResult {
    /// The clip, relative to the batch folder.
    #[serde(serialize_with = "output::serialize_path_lossy")]
    pub clip: PathBuf,
    /// What happened.
    pub status: ClipStatus,
    /// The report, where there is one.
    #[serde(serialize_with = "output::serialize_option_path_lossy")]
    pub report: Option<PathBuf>,
    /// The exit code `runform analyze` would give for this clip.
    pub exit_code: u8,
    /// The one-sentence error, for a failed clip.
    pub reason: Option<String>,
    /// Wall-clock time spent on the clip, seconds.
    pub elapsed_s: f64,
}

/// The whole batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchSummary {
    /// The folder scored.
    #[serde(serialize_with = "output::serialize_path_lossy")]
    pub root: PathBuf,
    /// Clips found.
    pub clips_found: usize,
    /// Clips analysed in this run.
    pub scored: usize,
    /// Clips skipped because their report was up to date.
    pub up_to_date: usize,
    /// Clips that failed.
    pub failed: usize,
    /// Clips analysed at once.
    pub jobs: usize,
    /// Wall-clock time of the batch, seconds.
    pub elapsed_s: f64,
    /// One entry per clip, in path order.
    pub clips: Vec<ClipResult>,
}

impl BatchSummary {
    /// The exit status of the batch: success only when no clip failed.
    pub fn exit(&self) -> Exit {
        if self.failed == 0 {
            Exit::Success
        } else {
            Exit::BatchIncomplete
        }
    }

    /// A short human summary, naming every failed clip and its reason.
    pub fn text(&self) -> String {
        let mut text = format!(
            "{} clip(s) in {}: {} scored, {} already up to date, {} failed ({:.1} s, {} at a time)",
            self.clips_found,
            self.root.display(),
            self.scored,
            self.up_to_date,
            self.failed,
            self.elapsed_s,
            self.jobs
        );
        for clip in self.clips.iter().filter(|c| c.status == ClipStatus::Failed) {
            text.push_str(&format!(
                "\n  failed: {}",
                clip.reason.as_deref().unwrap_or("unknown reason")
            ));
        }
        text
    }
}

/// Every clip below `root`, sorted by path. Hidden files and folders and the output folder are skipped.
pub fn find_clips(root: &Path, out: &Path) -> Result<Vec<PathBuf>, BatchError> {
    if !root.is_dir() {
        return Err(BatchError::NotAFolder {
            path: root.to_path_buf(),
        });
    }
    let out = out.canonicalize().ok();
    let mut clips = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|source| BatchError::Unlistable {
            path: folder.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if out.is_none() || path.canonicalize().ok() != out {
                    folders.push(path);
                }
            } else if is_clip(&path) {
                clips.push(path);
            }
        }
    }
    clips.sort();
    Ok(clips)
}

fn is_clip(path: &Path) -> bool {
    path.extension()
        .and_then(OsStr::to_str)
        .is_some_and(|ext| CLIP_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Where a clip's report folder goes: the clip's path below the batch folder, without its extension, below `out`.
pub fn clip_out_dir(root: &Path, out: &Path, clip: &Path) -> PathBuf {
    let relative = clip.strip_prefix(root).unwrap_or(clip);
    out.join(relative.with_extension(""))
}

/// Whether the report in `out_dir` was made from exactly this clip with exactly these settings.
pub fn report_is_up_to_date(settings: &AnalyzeSettings) -> bool {
    let Ok(bytes) = std::fs::read(settings.report_path()) else {
        return false;
    };
    let Ok(report) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return false;
    };
    let Ok(sha256) = video::file_sha256(&settings.clip) else {
        return false;
    };
    // A missing key reads as null, as indexing a `Value` would.
    let settings_in_report = report.get("settings").unwrap_or(&serde_json::Value::Null);
    report.pointer("/input/sha256").and_then(serde_json::Value::as_str) == Some(sha256.as_str())
        && *settings_in_report == serde_json::to_value(settings.fingerprint()).unwrap_or_default()
}

/// Callbacks for progress display; all are called from worker threads.
pub trait BatchProgress: Sync {
    /// The folder was searched: this many clips will be processed.
    fn clips_found(&self, count: usize);
    /// A clip is starting.
    fn clip_started(&self, clip: &Path);
    /// A clip is done (scored, up to date or failed).
    fn clip_finished(&self, clip: &Path, result: &ClipResult);
}

/// Progress that shows nothing.
pub struct NoProgress;

impl BatchProgress for NoProgress {
    fn clips_found(&self, _count: usize) {}
    fn clip_started(&self, _clip: &Path) {}
    fn clip_finished(&self, _clip: &Path, _result: &ClipResult) {}
}

/// Scores every clip below `settings.root` and writes `batch-summary.json` and `.csv` into `settings.out`.
pub fn run_batch(settings: &BatchSettings, progress: &dyn BatchProgress) -> Result<BatchSummary, BatchError> {
    let started = Instant::now();
    let clips = find_clips(&settings.root, &settings.out)?;
    output::create_dir(&settings.out)?;
    remove_stale_partials(&settings.out);
    progress.clips_found(clips.len());

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs.max(1))
        .build()
        .map_err(|e| OutputError {
            path: settings.out.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    let results: Vec<ClipResult> = pool.install(|| {
        clips
            .par_iter()
            .map(|clip| {
                progress.clip_started(clip);
                let result = score_clip(settings, clip);
                progress.clip_finished(clip, &result);
                result
            })
            .collect()
    });

    let count = |status: ClipStatus| results.iter().filter(|r| r.status == status).count();
    let summary = BatchSummary {
        root: settings.root.clone(),
        clips_found: clips.len(),
        scored: count(ClipStatus::Scored),
        up_to_date: count(ClipStatus::UpToDate),
        failed: count(ClipStatus::Failed),
        jobs: settings.jobs,
        elapsed_s: started.elapsed().as_secs_f64(),
        clips: results,
    };
    write_summary(&settings.out, &summary)?;
    Ok(summary)
}

fn score_clip(settings: &BatchSettings, clip: &Path) -> ClipResult {
    let started = Instant::now();
    let clip_settings = AnalyzeSettings {
        clip: clip.to_path_buf(),
        out_dir: clip_out_dir(&settings.root, &settings.out, clip),
        ..settings.clip_settings.clone()
    };
    let relative = clip.strip_prefix(&settings.root).unwrap_or(clip).to_path_buf();
    let (status, exit_code, reason) = if report_is_up_to_date(&clip_settings) {
        (ClipStatus::UpToDate, Exit::Success.code(), None)
    } else {
        match analyze::analyze(&clip_settings, |_, _| {}) {
            Ok(_) => (ClipStatus::Scored, Exit::Success.code(), None),
            Err(error) => (ClipStatus::Failed, error.exit().code(), Some(error.to_string())),
        }
    };
    let report = (status != ClipStatus::Failed).then(|| clip_settings.report_path());
    ClipResult {
        clip: relative,
        status,
        report,
        exit_code,
        reason,
        elapsed_s: started.elapsed().as_secs_f64(),
    }
}

/// Deletes the temporary files of atomic writes that a killed run left behind (`.NAME.PID.partial`).
fn remove_stale_partials(out: &Path) {
    let mut folders = vec![out.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                folders.push(path);
            } else if output::is_partial_file(&path) {
                // Best effort: a leftover we cannot delete is harmless (it is never read).
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// A report written by runform, or `None` when it cannot be read back.
fn read_report(path: &Path) -> Option<Report> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn write_summary(out: &Path, summary: &BatchSummary) -> Result<(), BatchError> {
    // The folder may have been removed while the batch ran; the summary of what happened still belongs there.
    output::create_dir(out)?;
    let json_path = out.join(format!("{SUMMARY_STEM}.json"));
    let json = serde_json::to_vec_pretty(summary).map_err(|e| OutputError {
        path: json_path.clone(),
        source: std::io::Error::other(e),
    })?;
    output::write_atomically(&json_path, &json)?;

    let csv_path = out.join(format!("{SUMMARY_STEM}.csv"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| OutputError {
        path: csv_path.clone(),
        source: std::io::Error::other(e),
    };
    // Status columns, then the clip's one-row summary (empty for a failed clip) so that the rows stack into one
    // table of every clip's metrics.
    let mut header: Vec<String> = ["clip", "status", "exit_code", "reason", "report", "elapsed_s"]
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let summary_header = report::csv::summary_header();
    header.extend(summary_header.iter().skip(1).map(|c| format!("report_{c}")));
    writer.write_record(&header).map_err(csv_error)?;
    for clip in &summary.clips {
        let status = match clip.status {
            ClipStatus::Scored => "scored",
            ClipStatus::UpToDate => "up_to_date",
            ClipStatus::Failed => "failed",
        };
        let mut row = vec![
            clip.clip.display().to_string(),
            status.to_owned(),
            clip.exit_code.to_string(),
            clip.reason.clone().unwrap_or_default(),
            clip.report
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            format!("{:.3}", clip.elapsed_s),
        ];
        match clip.report.as_deref().and_then(read_report) {
            Some(report) => row.extend(report::csv::summary_row(&report).into_iter().skip(1)),
            None => row.extend(std::iter::repeat_n(String::new(), summary_header.len() - 1)),
        }
        writer.write_record(&row).map_err(csv_error)?;
    }
    let bytes = writer.into_inner().map_err(|e| OutputError {
        path: csv_path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    output::write_atomically(&csv_path, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_are_found_recursively_by_extension_and_the_output_folder_is_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        for name in [
            "a.mp4",
            "sub/b.MOV",
            "sub/deeper/c.webm",
            "notes.txt",
            ".hidden.mp4",
            "out/old.mp4",
        ] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, b"x").expect("write");
        }
        let clips = find_clips(root, &root.join("out")).expect("lists");
        let names: Vec<_> = clips
            .iter()
            .map(|p| p.strip_prefix(root).expect("below root").to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("a.mp4"),
                PathBuf::from("sub/b.MOV"),
                PathBuf::from("sub/deeper/c.webm")
            ]
        );
    }

    #[test]
    fn clip_output_folders_mirror_the_tree_so_equal_names_do_not_collide() {
        let root = Path::new("/clips");
        let out = Path::new("/out");
        assert_eq!(
            clip_out_dir(root, out, Path::new("/clips/mon/run.mp4")),
            PathBuf::from("/out/mon/run")
        );
        assert_eq!(
            clip_out_dir(root, out, Path::new("/clips/tue/run.mp4")),
            PathBuf::from("/out/tue/run")
        );
    }

    #[test]
    fn a_missing_folder_is_an_error_not_an_empty_batch() {
        let err = find_clips(Path::new("/no/such/folder"), Path::new("/tmp")).expect_err("missing");
        assert_eq!(err.exit(), Exit::InputNotFound);
    }
}
