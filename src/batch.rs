//! Scoring a folder of clips: find every clip below a folder, analyse them in parallel, collect each failure with
//! its reason while the rest carry on, and write a summary over all of them.
//!
//! A batch is resumable and safe to interrupt. Each clip's report is written atomically by the analyze pipeline,
//! so a killed batch leaves whole reports or none; a rerun skips every clip whose report already matches the
//! clip's SHA-256 and the settings, and removes temporary files a killed run left behind.
//!
//! A batch is a list of sessions: each clip below the folder on its own, except that `NAME_side.*` and
//! `NAME_rear.*` in one folder are one two-view session; or the rows of a manifest ([`crate::manifest`]), each
//! with its athlete, date, speed, height and notes, whose bad rows are listed as failed with their line number
//! while the other sessions are scored.
//!
//! A batch can also be split across the tasks of a scheduler ([`crate::shard`]): each task scores one shard of
//! the clips into the shared output folder and leaves its own shard file there, and [`summarize`] later merges
//! the reports and shard files into the one batch summary, naming the clips no shard has finished yet.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::ViewChoice;
use crate::analyze::{self, AnalyzeSettings};
use crate::error::{Exit, HasExit};
use crate::manifest::{self, ManifestError};
use crate::output::{self, OutputError};
use crate::report::{self, Report, ReportSettings, SessionInfo};
use crate::shard::{self, ListingFingerprint, Shard, ShardRecord, ShardState};
use crate::video;

/// File extensions (lower case) taken as clips; anything else in the folder is left alone.
pub const CLIP_EXTENSIONS: [&str; 8] = ["mp4", "mov", "m4v", "avi", "mkv", "webm", "mpg", "3gp"];

/// Name of the batch summary files in the output folder (`.json` and `.csv`).
pub const SUMMARY_STEM: &str = "batch-summary";

/// The name of a clip's report in its output folder; its presence says the clip's outputs are complete.
const REPORT_FILE: &str = "report.json";

/// Clips not finished yet that the text summary names one by one; the rest are counted (the CSV lists them all).
const PENDING_NAMED_IN_TEXT: usize = 20;

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
    /// The manifest cannot be used at all (a bad row is not a `BatchError`: it is recorded and the batch goes on).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The summary could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl HasExit for BatchError {
    fn exit(&self) -> Exit {
        match self {
            BatchError::NotAFolder { .. } => Exit::InputNotFound,
            BatchError::Unlistable { .. } => Exit::InputUnreadable,
            BatchError::Manifest(error) => error.exit(),
            BatchError::Output(error) => error.exit(),
        }
    }
}

/// Validated settings of one batch.
#[derive(Clone, Debug)]
pub struct BatchSettings {
    /// The folder searched (recursively) for clips; with a manifest, the manifest's folder.
    pub root: PathBuf,
    /// The manifest of sessions, when the batch is one (then `root` is not searched).
    pub manifest: Option<PathBuf>,
    /// The output folder; each clip's report goes to `out/<path below root without extension>/`.
    pub out: PathBuf,
    /// Clips analysed at once.
    pub jobs: usize,
    /// Score only this share of the clips (one task of a Slurm array or Kubernetes Indexed Job); `None` scores all.
    pub shard: Option<Shard>,
    /// Settings shared by every clip (the clip and output folder are filled in per clip).
    pub clip_settings: AnalyzeSettings,
}

impl BatchSettings {
    /// What the batch scores, as its summary names it: the manifest, else the folder.
    pub fn source(&self) -> &Path {
        self.manifest.as_deref().unwrap_or(&self.root)
    }
}

/// One session of a batch (one clip, or a side and a rear clip) and the key that names it in every shard,
/// summary and output folder.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipEntry {
    /// Where the clip (the side clip of a two-view session) is read from; for a bad manifest row, the manifest.
    pub path: PathBuf,
    /// The rear clip of a two-view session.
    pub rear: Option<PathBuf>,
    /// The clip's path relative to the batch folder (a pair's: its folder and NAME; a manifest session's: its
    /// output folder; a bad manifest row's: `MANIFEST:line N`): the same on every machine and in every listing
    /// order, so it decides the clip's shard and names the clip in shard files and summaries.
    pub key: PathBuf,
    /// The session's output folder relative to the batch's output folder.
    pub out_key: PathBuf,
    /// Size of the files, bytes (0 where one cannot be read: such a clip fails with its reason when scored). It
    /// balances the shards, and `--summarize` checks a report against it.
    pub size_byte: u64,
    /// Athlete, date and notes (from a manifest).
    pub session: SessionInfo,
    /// Treadmill speed, metres per second, and height, centimetres, where a manifest row gives them (else the
    /// batch's options hold).
    pub speed_mps: Option<f64>,
    /// See `speed_mps`.
    pub height_cm: Option<f64>,
    /// The view of a one-clip session, where a manifest says it (its side or its rear column).
    pub view: Option<ViewChoice>,
    /// Why a manifest row cannot be scored (then nothing else here is used).
    pub bad_row: Option<String>,
}

impl ClipEntry {
    /// One clip on its own, `key` its path below the batch folder.
    pub fn clip(path: PathBuf, key: PathBuf, size_byte: u64) -> ClipEntry {
        ClipEntry {
            rear: None,
            out_key: key.with_extension(""),
            key,
            size_byte,
            session: SessionInfo::default(),
            speed_mps: None,
            height_cm: None,
            view: None,
            bad_row: None,
            path,
        }
    }

    /// The clip's output folder relative to the batch's output folder (for one clip: its key without the
    /// extension).
    pub fn output_key(&self) -> PathBuf {
        self.out_key.clone()
    }

    /// The clip's output folder.
    pub fn out_dir(&self, out: &Path) -> PathBuf {
        out.join(self.output_key())
    }
}

/// What happened to one clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipStatus {
    /// Analysed now; its report was written.
    Scored,
    /// Its report from an earlier run matches the clip and the settings; nothing was redone.
    UpToDate,
    /// It could not be analysed; `reason` says why.
    Failed,
    /// Not finished yet: no shard has written its report (in a shard file: the shard has not reached it yet).
    Pending,
}

impl ClipStatus {
    /// The status as the CSV summary writes it.
    pub fn name(self) -> &'static str {
        match self {
            ClipStatus::Scored => "scored",
            ClipStatus::UpToDate => "up_to_date",
            ClipStatus::Failed => "failed",
            ClipStatus::Pending => "pending",
        }
    }
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
    /// The exit code `runform analyze` would give for this clip (40 for a clip not finished yet).
    pub exit_code: u8,
    /// The one-sentence error, for a failed clip; why it is not finished, for a pending one; why it was scored
    /// again, for a scored clip whose report another runform build had made.
    pub reason: Option<String>,
    /// Wall-clock time spent on the clip, seconds.
    pub elapsed_s: f64,
    /// The athlete, where a manifest names one (the summary groups by athlete and date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athlete: Option<String>,
    /// The session date, where a manifest gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_date: Option<String>,
}

impl ClipResult {
    fn pending(clip: &ClipEntry, reason: Option<String>) -> ClipResult {
        ClipResult {
            athlete: clip.session.athlete.clone(),
            session_date: clip.session.session_date.clone(),
            clip: clip.key.clone(),
            status: ClipStatus::Pending,
            report: None,
            exit_code: Exit::BatchIncomplete.code(),
            reason,
            elapsed_s: 0.0,
        }
    }
}

/// The whole batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchSummary {
    /// The folder scored (the manifest, for a batch of a manifest).
    #[serde(serialize_with = "output::serialize_path_lossy")]
    pub root: PathBuf,
    /// Clips found (for a shard: the clips of this shard).
    pub clips_found: usize,
    /// Clips analysed in this run.
    pub scored: usize,
    /// Clips skipped because their report was up to date.
    pub up_to_date: usize,
    /// Clips that failed.
    pub failed: usize,
    /// Clips not finished yet (only `--summarize` and a running shard's file have any).
    #[serde(default)]
    pub pending: usize,
    /// Clips analysed at once (absent from a merged summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
    /// Wall-clock time of the batch, seconds (of the merge, for a merged summary).
    pub elapsed_s: f64,
    /// What `--summarize` found of the shards (absent from an ordinary batch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeNotes>,
    /// One entry per clip, in path order.
    pub clips: Vec<ClipResult>,
}

/// What `runform batch --summarize` found in the output folder besides the reports.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MergeNotes {
    /// The shard files found, oldest start first.
    pub shards: Vec<ShardSeen>,
    /// N of the newest shard file: `unfinished_shards` are shards of this split. Absent without shard files.
    pub shard_count: Option<usize>,
    /// The shards (of `shard_count`) that hold clips not finished yet: the ones to resubmit.
    pub unfinished_shards: Vec<usize>,
    /// Anything else to know: shard files that could not be read, shards that split another clip list, reports
    /// made with other settings.
    pub notes: Vec<String>,
}

/// One shard file, as `--summarize` saw it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardSeen {
    /// Which shard.
    pub shard: Shard,
    /// Running (or killed before it finished) or finished.
    pub state: ShardState,
    /// The machine it ran on.
    pub host: String,
    /// When it started, seconds since 1970-01-01 UTC.
    pub started_unix_s: u64,
    /// Its clips.
    pub clips: usize,
    /// Its clips that failed.
    pub failed: usize,
    /// Its wall-clock time, seconds (0 while running).
    pub elapsed_s: f64,
}

impl BatchSummary {
    fn from_results(root: &Path, jobs: Option<usize>, started: Instant, clips: Vec<ClipResult>) -> BatchSummary {
        let count = |status: ClipStatus| clips.iter().filter(|c| c.status == status).count();
        BatchSummary {
            root: root.to_path_buf(),
            clips_found: clips.len(),
            scored: count(ClipStatus::Scored),
            up_to_date: count(ClipStatus::UpToDate),
            failed: count(ClipStatus::Failed),
            pending: count(ClipStatus::Pending),
            jobs,
            elapsed_s: started.elapsed().as_secs_f64(),
            merged: None,
            clips,
        }
    }

    /// The exit status of the batch: success only when every clip is finished and none failed.
    pub fn exit(&self) -> Exit {
        if self.failed == 0 && self.pending == 0 {
            Exit::Success
        } else {
            Exit::BatchIncomplete
        }
    }

    /// A short human summary, naming every failed clip and its reason (and, for a merged summary, the clips not
    /// finished yet and the shards to resubmit).
    pub fn text(&self) -> String {
        let mut text = match &self.merged {
            None => format!(
                "{} clip(s) in {}: {} scored, {} already up to date, {} failed ({:.1} s, {} at a time)",
                self.clips_found,
                self.root.display(),
                self.scored,
                self.up_to_date,
                self.failed,
                self.elapsed_s,
                self.jobs.unwrap_or(1)
            ),
            Some(merged) => format!(
                "{} clip(s) in {}: {} finished, {} failed, {} not finished yet (merged from {} shard file(s) in \
                 {:.1} s)",
                self.clips_found,
                self.root.display(),
                self.scored + self.up_to_date,
                self.failed,
                self.pending,
                merged.shards.len(),
                self.elapsed_s
            ),
        };
        let redone = self
            .clips
            .iter()
            .filter(|c| c.status == ClipStatus::Scored && c.reason.is_some())
            .count();
        if redone > 0 {
            text.push_str(&format!(
                "\n  {redone} clip(s) had a report made by another runform build and were scored again with this one \
                 ({}; batch-summary.csv names them)",
                crate::BUILD
            ));
        }
        for clip in self.clips.iter().filter(|c| c.status == ClipStatus::Failed) {
            text.push_str(&format!(
                "\n  failed: {}",
                clip.reason.as_deref().unwrap_or("unknown reason")
            ));
        }
        let pending: Vec<&ClipResult> = self.clips.iter().filter(|c| c.status == ClipStatus::Pending).collect();
        for clip in pending.iter().take(PENDING_NAMED_IN_TEXT) {
            text.push_str(&format!(
                "\n  not finished: {}",
                clip.reason.as_deref().unwrap_or("no shard has finished it yet")
            ));
        }
        if pending.len() > PENDING_NAMED_IN_TEXT {
            text.push_str(&format!(
                "\n  … and {} more not finished (batch-summary.csv lists every clip)",
                pending.len() - PENDING_NAMED_IN_TEXT
            ));
        }
        if let Some(merged) = &self.merged {
            for note in &merged.notes {
                text.push_str(&format!("\n  note: {note}"));
            }
            if let (Some(count), false) = (merged.shard_count, merged.unfinished_shards.is_empty()) {
                let list: Vec<String> = merged.unfinished_shards.iter().map(ToString::to_string).collect();
                text.push_str(&format!(
                    "\n  resubmit shard(s) {} of {count} (Slurm: sbatch --array={} ...)",
                    list.join(", "),
                    list.join(",")
                ));
            }
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

/// The stem endings that pair two clips of one folder into one two-view session (`NAME_side.mp4` with
/// `NAME_rear.mov`), compared without regard to case.
pub const PAIR_SUFFIXES: (&str, &str) = ("_side", "_rear");

/// The sessions of a batch, with their keys and sizes, sorted by key: the one place that decides which sessions a
/// batch holds. Every shard and `--summarize` call it and must see the same list. A folder gives one session per
/// clip, `NAME_side.*` and `NAME_rear.*` paired into one; a manifest gives one per row, its bad rows included
/// (they fail with their reason when scored).
pub fn list_clips(settings: &BatchSettings) -> Result<Vec<ClipEntry>, BatchError> {
    let mut entries = match &settings.manifest {
        Some(path) => manifest_entries(path)?,
        None => folder_entries(&settings.root, find_clips(&settings.root, &settings.out)?),
    };
    // By key (a manifest's keys begin ATHLETE/DATE, so its sessions group by athlete and date), bad rows last.
    entries.sort_by(|a, b| (a.bad_row.is_some(), &a.key).cmp(&(b.bad_row.is_some(), &b.key)));
    Ok(entries)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The sessions of a folder's clips: each clip on its own, but `NAME_side.*` with `NAME_rear.*` of the same folder
/// as one two-view session keyed by the folder and NAME.
fn folder_entries(root: &Path, clips: Vec<PathBuf>) -> Vec<ClipEntry> {
    let stem_lower = |path: &Path| path.file_stem().map(|s| s.to_string_lossy().to_lowercase());
    let (side_suffix, rear_suffix) = PAIR_SUFFIXES;
    let mut paired: HashSet<PathBuf> = HashSet::new();
    let mut entries = Vec::new();
    for side in &clips {
        let Some(name) = stem_lower(side).and_then(|stem| stem.strip_suffix(side_suffix).map(str::to_owned)) else {
            continue;
        };
        let rear = clips.iter().find(|other| {
            other.parent() == side.parent() && stem_lower(other).as_deref() == Some(&format!("{name}{rear_suffix}"))
        });
        let Some(rear) = rear else { continue };
        if paired.contains(rear) {
            continue; // NAME_side.mp4 and NAME_side.mov: the second side clip stays on its own
        }
        paired.insert(side.clone());
        paired.insert(rear.clone());
        // The session's key keeps the side clip's spelling of NAME.
        let side_stem = side.file_stem().unwrap_or_default().to_string_lossy();
        let name = side_stem
            .get(..side_stem.len().saturating_sub(side_suffix.len()))
            .unwrap_or(&side_stem);
        let key = side.strip_prefix(root).unwrap_or(side).with_file_name(name);
        let mut entry = ClipEntry::clip(side.clone(), key.clone(), file_size(side) + file_size(rear));
        entry.out_key = key;
        entry.rear = Some(rear.clone());
        entries.push(entry);
    }
    for path in clips {
        if !paired.contains(&path) {
            let key = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            let size = file_size(&path);
            entries.push(ClipEntry::clip(path, key, size));
        }
    }
    separate_output_folders(&mut entries);
    entries
}

/// Gives every session its own output folder. A folder's `run.mp4` and `run.mov` (or a pair `run_side` +
/// `run_rear` next to a `run.mp4`) would share `run/`, and one report would overwrite the other: each clip of such a
/// group keeps its extension in its folder's name (`run-mp4/`, `run-mov/`). Folder names are compared without
/// regard to case (a case-insensitive disk would merge them), and the result depends only on the list of clips, so
/// every shard agrees on it.
fn separate_output_folders(entries: &mut [ClipEntry]) {
    let folded = |key: &Path| key.to_string_lossy().to_lowercase();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for entry in entries.iter() {
        *counts.entry(folded(&entry.out_key)).or_default() += 1;
    }
    for entry in entries.iter_mut() {
        let shared = counts.get(&folded(&entry.out_key)).is_some_and(|&count| count > 1);
        if let (true, Some(extension)) = (shared, entry.key.extension()) {
            let name = entry
                .out_key
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let renamed = format!("{name}-{}", extension.to_string_lossy());
            entry.out_key = entry.out_key.with_file_name(renamed);
        }
    }
    // A clip whose own name already ends so (`run-mp4.avi`) could still meet one: number the later ones, in key
    // order.
    let mut in_key_order: Vec<&mut ClipEntry> = entries.iter_mut().collect();
    in_key_order.sort_by(|a, b| a.key.cmp(&b.key));
    let mut taken: HashSet<String> = HashSet::new();
    for entry in in_key_order {
        let base = entry.out_key.clone();
        let mut number = 1;
        while !taken.insert(folded(&entry.out_key)) {
            number += 1;
            let name = base.file_name().unwrap_or_default().to_string_lossy();
            entry.out_key = base.with_file_name(format!("{name}-{number}"));
        }
    }
}

/// The sessions of a manifest, its bad rows included.
fn manifest_entries(path: &Path) -> Result<Vec<ClipEntry>, BatchError> {
    let read = manifest::read_manifest(path)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let mut entries: Vec<ClipEntry> = read
        .sessions
        .into_iter()
        .filter_map(|session| {
            let (main, rear, view) = match (session.side_clip, session.rear_clip) {
                (Some(side), rear @ Some(_)) => (side, rear, None),
                (Some(side), None) => (side, None, Some(ViewChoice::Side)),
                (None, Some(rear)) => (rear, None, Some(ViewChoice::Rear)),
                (None, None) => return None, // the manifest makes such a row a bad row
            };
            let size = file_size(&main) + rear.as_deref().map_or(0, file_size);
            let mut entry = ClipEntry::clip(main, session.out_key.clone(), size);
            entry.out_key = session.out_key;
            entry.rear = rear;
            entry.view = view;
            entry.session = session.session;
            entry.speed_mps = session.speed.map(|speed| speed.mps);
            entry.height_cm = session.height_cm;
            Some(entry)
        })
        .collect();
    for bad in read.bad_rows {
        // Zero-padded so that bad rows sort by line; never a folder (no report is written for them).
        let key = PathBuf::from(format!("{name}:line {:06}", bad.line));
        let mut entry = ClipEntry::clip(path.to_path_buf(), key.clone(), 0);
        entry.out_key = key;
        entry.bad_row = Some(bad.reason);
        entries.push(entry);
    }
    Ok(entries)
}

/// The settings one session of a batch is analysed with: the batch's, with the session's clips, output folder,
/// athlete, date, notes, speed, height and view.
pub fn session_settings(settings: &BatchSettings, clip: &ClipEntry) -> AnalyzeSettings {
    let mut session = AnalyzeSettings {
        clip: clip.path.clone(),
        out_dir: clip.out_dir(&settings.out),
        session: clip.session.clone(),
        ..settings.clip_settings.clone()
    };
    if let Some(speed) = clip.speed_mps {
        session.analysis.treadmill_speed_mps = Some(speed);
    }
    if let Some(height) = clip.height_cm {
        session.analysis.height_cm = Some(height);
    }
    if let Some(view) = clip.view {
        session.analysis.view = view;
    }
    match &clip.rear {
        Some(rear) => session.with_rear_clip(rear),
        None => session,
    }
}

/// Where a clip's report folder goes: the clip's path below the batch folder, without its extension, below `out`.
pub fn clip_out_dir(root: &Path, out: &Path, clip: &Path) -> PathBuf {
    let relative = clip.strip_prefix(root).unwrap_or(clip);
    out.join(relative.with_extension(""))
}

/// What a batch finds where a clip's report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExistingReport {
    /// No report, or one of another clip or made with other settings: the clip is scored.
    Stale,
    /// A report of this clip with these settings, made by another runform build (`None`: a build from before
    /// reports named theirs): the clip is scored again, since the analysis may have changed.
    OtherBuild(Option<String>),
    /// A report of this clip with these settings by this build: nothing to do.
    UpToDate,
}

/// Whether the report in `out_dir` was made from exactly this clip, with exactly these settings, by this build.
pub fn existing_report(settings: &AnalyzeSettings) -> ExistingReport {
    let Ok(bytes) = std::fs::read(settings.report_path()) else {
        return ExistingReport::Stale;
    };
    let Ok(report) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return ExistingReport::Stale;
    };
    let Ok(sha256) = video::file_sha256(&settings.clip) else {
        return ExistingReport::Stale;
    };
    let rear_sha256 = match &settings.rear_clip {
        Some(rear) => match video::file_sha256(rear) {
            Ok(sha) => Some(sha),
            Err(_) => return ExistingReport::Stale,
        },
        None => None,
    };
    // Settings that do not read as settings (a report of another layout) are not these settings.
    let Some(settings_in_report) = report
        .get("settings")
        .and_then(|value| serde_json::from_value::<ReportSettings>(value.clone()).ok())
    else {
        return ExistingReport::Stale;
    };
    // A missing key reads as null, as indexing a `Value` would.
    let session_in_report = report.get("session").unwrap_or(&serde_json::Value::Null);
    let same_inputs = report.pointer("/input/sha256").and_then(serde_json::Value::as_str) == Some(sha256.as_str())
        && report.pointer("/rear/input/sha256").and_then(serde_json::Value::as_str) == rear_sha256.as_deref()
        && settings_in_report.same_apart_from_build(&settings.fingerprint())
        && *session_in_report == serde_json::to_value(&settings.session).unwrap_or_default();
    match (same_inputs, settings_in_report.runform_build) {
        (false, _) => ExistingReport::Stale,
        (true, Some(build)) if build == crate::BUILD => ExistingReport::UpToDate,
        (true, build) => ExistingReport::OtherBuild(build),
    }
}

/// Why a clip failed, and where its folder still holds a report (of the clip's earlier bytes, other settings or
/// another build: the clip was scored again because that report did not match), that it is not this run's.
fn failure_reason(error: &str, report: &Path) -> String {
    if report.is_file() {
        format!(
            "{error}; {} is an earlier analysis's report, kept as it was and left out of this summary",
            report.display()
        )
    } else {
        error.to_owned()
    }
}

/// Why a clip whose report `build` made is scored again, in words.
fn other_build_reason(clip: &Path, build: Option<&str>) -> String {
    format!(
        "{}: scored again, since its report was made by {} and this is runform {}",
        clip.display(),
        report::made_by(build),
        crate::BUILD
    )
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

/// Scores every clip below `settings.root`, or the clips of `settings.shard`. A whole batch writes
/// `batch-summary.json` and `.csv` into `settings.out`; a shard writes only its clips' outputs and its own
/// `batch-shard-K-of-N.json` (when it starts, then when it ends), so shards running at once never write the same
/// file.
pub fn run_batch(settings: &BatchSettings, progress: &dyn BatchProgress) -> Result<BatchSummary, BatchError> {
    let started = Instant::now();
    let started_unix_s = unix_time_s();
    let listing = list_clips(settings)?;
    output::create_dir(&settings.out)?;
    let clips = match settings.shard {
        None => {
            remove_stale_partials(&settings.out);
            listing.clone()
        }
        Some(shard) => {
            let mine = shard::clips_of_shard(&listing, shard);
            // Only this shard's own leftovers: another shard's temporary files are its writes in progress.
            for clip in &mine {
                remove_stale_partials_in(&clip.out_dir(&settings.out));
            }
            let pending = mine.iter().map(|clip| ClipResult::pending(clip, None)).collect();
            let summary = BatchSummary::from_results(settings.source(), Some(settings.jobs), started, pending);
            shard_record(shard, ShardState::Running, started_unix_s, &listing, summary).write(&settings.out)?;
            mine
        }
    };
    progress.clips_found(clips.len());

    let pool = thread_pool(settings)?;
    let results: Vec<ClipResult> = pool.install(|| {
        clips
            .par_iter()
            .map(|clip| {
                progress.clip_started(&clip.path);
                let result = score_clip(settings, clip);
                progress.clip_finished(&clip.path, &result);
                result
            })
            .collect()
    });
    let summary = BatchSummary::from_results(settings.source(), Some(settings.jobs), started, results);

    match settings.shard {
        None => {
            let rows = pool.install(|| summary.clips.par_iter().map(summary_row_of).collect::<Vec<_>>());
            write_summary(&settings.out, &summary, &rows)?;
        }
        Some(shard) => {
            // The folder may have been removed while the shard ran; its record still belongs there.
            output::create_dir(&settings.out)?;
            shard_record(shard, ShardState::Finished, started_unix_s, &listing, summary.clone())
                .write(&settings.out)?;
        }
    }
    Ok(summary)
}

fn shard_record(
    shard: Shard,
    state: ShardState,
    started_unix_s: u64,
    listing: &[ClipEntry],
    summary: BatchSummary,
) -> ShardRecord {
    ShardRecord {
        shard,
        state,
        host: shard::host_name(),
        started_unix_s,
        listing: ListingFingerprint::of(listing),
        summary,
    }
}

fn thread_pool(settings: &BatchSettings) -> Result<rayon::ThreadPool, BatchError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs.max(1))
        .build()
        .map_err(|e| {
            BatchError::Output(OutputError {
                path: settings.out.clone(),
                source: std::io::Error::other(e.to_string()),
            })
        })
}

fn unix_time_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn score_clip(settings: &BatchSettings, clip: &ClipEntry) -> ClipResult {
    let started = Instant::now();
    if let Some(reason) = &clip.bad_row {
        return bad_row_result(clip, reason);
    }
    let clip_settings = session_settings(settings, clip);
    let existing = existing_report(&clip_settings);
    let (status, exit_code, reason) = if existing == ExistingReport::UpToDate {
        (ClipStatus::UpToDate, Exit::Success.code(), None)
    } else {
        let scored_again = match existing {
            ExistingReport::OtherBuild(build) => Some(other_build_reason(&clip.path, build.as_deref())),
            _ => None,
        };
        match analyze::analyze(&clip_settings, |_, _| {}) {
            Ok(_) => (ClipStatus::Scored, Exit::Success.code(), scored_again),
            Err(error) => (
                ClipStatus::Failed,
                error.exit().code(),
                Some(failure_reason(&error.to_string(), &clip_settings.report_path())),
            ),
        }
    };
    let report = (status != ClipStatus::Failed).then(|| clip_settings.report_path());
    ClipResult {
        clip: clip.key.clone(),
        status,
        report,
        exit_code,
        reason,
        elapsed_s: started.elapsed().as_secs_f64(),
        athlete: clip.session.athlete.clone(),
        session_date: clip.session.session_date.clone(),
    }
}

/// The failed result of a manifest row that cannot be scored.
fn bad_row_result(clip: &ClipEntry, reason: &str) -> ClipResult {
    ClipResult {
        clip: clip.key.clone(),
        status: ClipStatus::Failed,
        report: None,
        exit_code: Exit::InputNotReport.code(),
        reason: Some(reason.to_owned()),
        elapsed_s: 0.0,
        athlete: None,
        session_date: None,
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

/// [`remove_stale_partials`] for the files directly in one clip's output folder (its subfolders belong to the
/// clips of the folder of the same name).
fn remove_stale_partials_in(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|kind| kind.is_file()) && output::is_partial_file(&path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// A report written by runform, or `None` when it cannot be read back.
fn read_report(path: &Path) -> Option<Report> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The clip's one-row report summary for the CSV, where its report can be read.
fn summary_row_of(clip: &ClipResult) -> Option<Vec<String>> {
    let report = read_report(clip.report.as_deref()?)?;
    Some(report::csv::summary_row(&report))
}

/// A report found for a clip when merging.
enum FoundReport {
    /// There is none.
    Missing,
    /// There is one, but it cannot be read as a report.
    Unreadable,
    /// There is one.
    Read(Box<Report>),
}

/// Builds `batch-summary.json` and `.csv` from what the shards (or earlier batches) left in `settings.out`,
/// without scoring anything: every clip of the batch with its report, its failure from the newest shard file
/// that tried it, or as not finished yet. A report counts only where it was made with these settings from a
/// file of the clip's size (hashing every clip again would take far longer than the merge).
pub fn summarize(settings: &BatchSettings) -> Result<BatchSummary, BatchError> {
    let started = Instant::now();
    let clips = list_clips(settings)?;
    let (records, unreadable) = shard::read_shard_records(&settings.out);
    let mut notes: Vec<String> = unreadable
        .iter()
        .map(|file| format!("{}: skipped, not a shard file ({})", file.path.display(), file.reason))
        .collect();

    // The newest word of any shard on each clip: records are oldest first, so later ones overwrite.
    let mut latest: HashMap<&Path, &ClipResult> = HashMap::new();
    for record in &records {
        for clip in record.summary.clips.iter().filter(|c| c.status != ClipStatus::Pending) {
            latest.insert(clip.clip.as_path(), clip);
        }
    }
    let running: HashMap<Shard, &ShardRecord> = records
        .iter()
        .filter(|record| record.state == ShardState::Running)
        .map(|record| (record.shard, record))
        .collect();
    let shard_count = records.last().map(|record| record.shard.count);
    let mut counts: Vec<usize> = records.iter().map(|record| record.shard.count).collect();
    counts.sort_unstable();
    counts.dedup();
    if let (Some(newest), true) = (shard_count, counts.len() > 1) {
        let counts: Vec<String> = counts.iter().map(ToString::to_string).collect();
        notes.push(format!(
            "shard files of several splits are here (N = {}); shard numbers refer to N = {newest}, the newest",
            counts.join(", ")
        ));
    }
    let shard_of_clip = shard_count.map(|count| shard::assign_shards(&clips, count));
    let listing = ListingFingerprint::of(&clips);
    let other_listings: Vec<String> = records
        .iter()
        .filter(|record| record.listing != listing)
        .map(|record| record.shard.to_string())
        .collect();
    if !other_listings.is_empty() {
        notes.push(format!(
            "shard(s) {} split another list of clips than the folder holds now (clips added, removed or changed \
             since they started); this summary is of the folder as it is now",
            other_listings.join(", ")
        ));
    }

    let pool = thread_pool(settings)?;
    let merged: Vec<(ClipResult, Option<Vec<String>>)> = pool.install(|| {
        clips
            .par_iter()
            .enumerate()
            .map(|(position, clip)| {
                let shard = shard_count.zip(shard_of_clip.as_ref().and_then(|of| of.get(position).copied()));
                let shard = shard.map(|(count, index)| Shard { index, count });
                merge_clip(settings, clip, latest.get(clip.key.as_path()).copied(), shard, &running)
            })
            .collect()
    });
    let (results, rows): (Vec<ClipResult>, Vec<Option<Vec<String>>>) = merged.into_iter().unzip();

    let stale = results
        .iter()
        .filter(|r| {
            r.reason
                .as_deref()
                .is_some_and(|reason| reason.contains(OTHER_SETTINGS))
        })
        .count();
    if stale > 0 {
        notes.push(format!(
            "{stale} report(s) were made {OTHER_SETTINGS} than these; give --summarize the options the shards ran with"
        ));
    }
    let other_build = results
        .iter()
        .filter(|r| r.reason.as_deref().is_some_and(|reason| reason.contains(OTHER_BUILD)))
        .count();
    if other_build > 0 {
        notes.push(format!(
            "{other_build} report(s) were made {OTHER_BUILD} than this one ({}); summarize with the runform the shards \
             ran, or run their shards again with this one",
            crate::BUILD
        ));
    }
    let mut unfinished_shards: Vec<usize> = Vec::new();
    if let Some(of) = &shard_of_clip {
        for (result, index) in results.iter().zip(of) {
            if result.status == ClipStatus::Pending && !unfinished_shards.contains(index) {
                unfinished_shards.push(*index);
            }
        }
    }
    unfinished_shards.sort_unstable();

    let mut summary = BatchSummary::from_results(settings.source(), None, started, results);
    summary.merged = Some(MergeNotes {
        shards: records.iter().map(shard_seen).collect(),
        shard_count,
        unfinished_shards,
        notes,
    });
    write_summary(&settings.out, &summary, &rows)?;
    Ok(summary)
}

/// How a pending clip's reason says its report was made with other settings (also counted in the notes).
const OTHER_SETTINGS: &str = "with other settings (model or options)";
/// How a pending clip's reason says another runform build (or version) made its report (also counted in the notes).
const OTHER_BUILD: &str = "by another runform build";

fn merge_clip(
    settings: &BatchSettings,
    clip: &ClipEntry,
    latest: Option<&ClipResult>,
    shard: Option<Shard>,
    running: &HashMap<Shard, &ShardRecord>,
) -> (ClipResult, Option<Vec<String>>) {
    if let Some(reason) = &clip.bad_row {
        return (bad_row_result(clip, reason), None);
    }
    let fingerprint = &session_settings(settings, clip).fingerprint();
    let report_path = clip.out_dir(&settings.out).join(REPORT_FILE);
    let found = match std::fs::read(&report_path) {
        Err(_) => FoundReport::Missing,
        Ok(bytes) => serde_json::from_slice::<Report>(&bytes)
            .map_or(FoundReport::Unreadable, |report| FoundReport::Read(Box::new(report))),
    };
    let why_not = match found {
        FoundReport::Read(report) if report.clip_bytes() == clip.size_byte && report.settings == *fingerprint => {
            let status = match latest.map(|r| r.status) {
                Some(ClipStatus::UpToDate) => ClipStatus::UpToDate,
                _ => ClipStatus::Scored,
            };
            let elapsed_s = latest
                .filter(|r| r.status == status)
                .map_or(report.timings.total_s, |r| r.elapsed_s);
            let row = report::csv::summary_row(&report);
            let result = ClipResult {
                clip: clip.key.clone(),
                status,
                report: Some(report_path),
                exit_code: Exit::Success.code(),
                reason: None,
                elapsed_s,
                athlete: clip.session.athlete.clone(),
                session_date: clip.session.session_date.clone(),
            };
            return (result, Some(row));
        }
        FoundReport::Read(report) if report.clip_bytes() != clip.size_byte => {
            "its report is of another version of the file (another size)".to_owned()
        }
        FoundReport::Read(report) if report.settings.same_apart_from_build(fingerprint) => {
            format!(
                "its report was made {OTHER_BUILD} ({})",
                report
                    .settings
                    .runform_build
                    .as_deref()
                    .unwrap_or("one from before reports named their build")
            )
        }
        FoundReport::Read(_) => format!("its report was made {OTHER_SETTINGS}"),
        FoundReport::Unreadable => "its report cannot be read as a runform report".to_owned(),
        FoundReport::Missing => match shard.and_then(|shard| running.get(&shard)) {
            Some(record) => format!(
                "its shard started on {} and has not finished: still running, or cancelled or killed",
                if record.host.is_empty() {
                    "an unnamed host"
                } else {
                    &record.host
                }
            ),
            None if latest.is_some_and(|r| r.status != ClipStatus::Failed) => {
                "its report is gone, though a shard finished it (removed since?)".to_owned()
            }
            None => "no shard has finished it yet".to_owned(),
        },
    };
    if let Some(failed) = latest.filter(|r| r.status == ClipStatus::Failed) {
        return (failed.clone(), None);
    }
    let in_shard = shard.map_or_else(String::new, |shard| format!(" (shard {shard})"));
    let reason = format!("{}: {why_not}{in_shard}", clip.path.display());
    (ClipResult::pending(clip, Some(reason)), None)
}

fn shard_seen(record: &ShardRecord) -> ShardSeen {
    ShardSeen {
        shard: record.shard,
        state: record.state,
        host: record.host.clone(),
        started_unix_s: record.started_unix_s,
        clips: record.summary.clips_found,
        failed: record.summary.failed,
        elapsed_s: match record.state {
            ShardState::Running => 0.0,
            ShardState::Finished => record.summary.elapsed_s,
        },
    }
}

/// Writes `batch-summary.json` and `.csv`; `rows[i]` is clip i's one-row report summary, where it has a report.
fn write_summary(out: &Path, summary: &BatchSummary, rows: &[Option<Vec<String>>]) -> Result<(), BatchError> {
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
    let mut header: Vec<String> = [
        "clip",
        "athlete",
        "session_date",
        "status",
        "exit_code",
        "reason",
        "report",
        "elapsed_s",
    ]
    .iter()
    .map(|c| (*c).to_owned())
    .collect();
    let summary_header = report::csv::summary_header();
    header.extend(summary_header.iter().skip(1).map(|c| format!("report_{c}")));
    writer.write_record(&header).map_err(csv_error)?;
    for (position, clip) in summary.clips.iter().enumerate() {
        let mut row = vec![
            clip.clip.display().to_string(),
            clip.athlete.clone().unwrap_or_default(),
            clip.session_date.clone().unwrap_or_default(),
            clip.status.name().to_owned(),
            clip.exit_code.to_string(),
            clip.reason.clone().unwrap_or_default(),
            clip.report
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            format!("{:.3}", clip.elapsed_s),
        ];
        match rows.get(position).cloned().flatten() {
            Some(report_row) => row.extend(report_row.into_iter().skip(1)),
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
    fn clips_that_would_share_an_output_folder_each_get_their_own() {
        let root = Path::new("/clips");
        let clips = [
            "mon/run.mp4",
            "mon/run.MOV",
            "mon/walk.mp4",
            "tue/run.mp4",
            "wed/a_side.mp4",
            "wed/a_rear.mp4",
            "wed/a.mp4",
            "thu/x.mp4",
            "thu/x.avi",
            "thu/x-mp4.mkv",
        ]
        .map(|name| root.join(name))
        .to_vec();
        let entries = folder_entries(root, clips);
        let out_key = |key: &str| {
            entries
                .iter()
                .find(|entry| entry.key == Path::new(key))
                .map(|entry| entry.out_key.to_string_lossy().into_owned())
                .unwrap_or_else(|| panic!("{key} listed"))
        };
        assert_eq!(out_key("mon/run.mp4"), "mon/run-mp4");
        assert_eq!(out_key("mon/run.MOV"), "mon/run-MOV");
        // Alone in its folder's names: unchanged.
        assert_eq!(out_key("mon/walk.mp4"), "mon/walk");
        assert_eq!(out_key("tue/run.mp4"), "tue/run");
        // A two-view session keeps NAME; the lone clip called NAME takes its extension.
        assert_eq!(out_key("wed/a"), "wed/a");
        assert_eq!(out_key("wed/a.mp4"), "wed/a-mp4");
        // x.mp4 becomes x-mp4, which x-mp4.mkv already is: numbered in key order.
        assert_eq!(out_key("thu/x.avi"), "thu/x-avi");
        assert_eq!(out_key("thu/x-mp4.mkv"), "thu/x-mp4");
        assert_eq!(out_key("thu/x.mp4"), "thu/x-mp4-2");
        let mut folders: Vec<String> = entries
            .iter()
            .map(|e| e.out_key.to_string_lossy().to_lowercase())
            .collect();
        folders.sort();
        folders.dedup();
        assert_eq!(folders.len(), entries.len(), "every session has its own folder");
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
