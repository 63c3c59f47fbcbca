//! The pose model files: the presets, where the files are found, and the ONNX Runtime sessions built from them.
//!
//! Models are searched like the runtime library (see [`crate::pose::runtime`]): the folder named by
//! [`MODELS_DIR_ENV`], then `models/` in the ancestors of the executable's folder (`target/release/runform` →
//! `models/` of the checkout), then the `models/` folder of the source tree the binary was built from.
//!
//! Session options were chosen by measurement on the 2-core development machine (see [`SessionOptions`]).

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use thiserror::Error;

use crate::error::{Exit, HasExit};
use crate::pose::prune;
use crate::pose::runtime::{self, RuntimeError};

/// Environment variable naming the folder that holds the ONNX models, overriding the search.
pub const MODELS_DIR_ENV: &str = "RUNFORM_MODELS_DIR";

/// File name of the person detector (BlazePose detector, SSD, 224×224 input).
pub const DETECTOR_FILE: &str = "pose_detection.onnx";

/// Where the models live relative to the project root.
const MODELS_DIR: &str = "models";

/// How many folders above the executable's folder are searched for `models/`.
const EXECUTABLE_ANCESTOR_DEPTH: usize = 3;

/// The BlazePose landmark model presets (MediaPipe's `model_complexity` 0, 1, 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ModelPreset {
    /// `pose_landmark_lite` (complexity 0): fastest.
    Lite,
    /// `pose_landmark_full` (complexity 1): MediaPipe's default.
    #[default]
    Full,
    /// `pose_landmark_heavy` (complexity 2): a larger network, 2.75× slower than full; on the hand-labelled clips
    /// it times the far foot's toe-offs worse than full on a side view (docs/metrics.md, *Pose model size*).
    Heavy,
}

impl ModelPreset {
    /// The ONNX file of the preset's landmark model.
    pub const fn landmark_file(self) -> &'static str {
        match self {
            ModelPreset::Lite => "pose_landmark_lite.onnx",
            ModelPreset::Full => "pose_landmark_full.onnx",
            ModelPreset::Heavy => "pose_landmark_heavy.onnx",
        }
    }

    /// The preset's short name, as on the command line (`lite`, `full`, `heavy`).
    pub const fn name(self) -> &'static str {
        match self {
            ModelPreset::Lite => "lite",
            ModelPreset::Full => "full",
            ModelPreset::Heavy => "heavy",
        }
    }
}

/// A model could not be found or loaded.
#[derive(Debug, Error)]
pub enum ModelError {
    /// No searched folder holds the file.
    #[error(
        "the pose model {file} was not found (looked in: {searched}); run scripts/setup or reinstall runform, or set {MODELS_DIR_ENV} to the folder that holds it"
    )]
    NotFound {
        /// The file name.
        file: &'static str,
        /// The folders searched, comma-separated.
        searched: String,
    },
    /// ONNX Runtime rejected the file.
    #[error("{path}: is not a usable pose model ({reason}); run scripts/setup or reinstall runform to restore it")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What ONNX Runtime said.
        reason: String,
    },
    /// The runtime library itself is missing.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl HasExit for ModelError {
    fn exit(&self) -> Exit {
        match self {
            ModelError::NotFound { .. } | ModelError::Unusable { .. } => Exit::ModelMissing,
            ModelError::Runtime(error) => error.exit(),
        }
    }
}

/// The folders searched for models, in order (see the module documentation).
pub fn model_dir_candidates() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os(MODELS_DIR_ENV) {
        return vec![PathBuf::from(dir)];
    }
    let mut candidates = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        for ancestor in exe_dir.ancestors().skip(1).take(EXECUTABLE_ANCESTOR_DEPTH) {
            candidates.push(ancestor.join(MODELS_DIR));
        }
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(MODELS_DIR));
    candidates.dedup();
    candidates
}

/// The path of model `file`, from the first folder of [`model_dir_candidates`] that holds it.
pub fn find_model(file: &'static str) -> Result<PathBuf, ModelError> {
    let candidates = model_dir_candidates();
    if let Some(path) = candidates.iter().map(|dir| dir.join(file)).find(|path| path.is_file()) {
        return Ok(path);
    }
    let searched = candidates
        .iter()
        .map(|dir| dir.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Err(ModelError::NotFound { file, searched })
}

/// The SHA-256 of each model file this build was made and checked with (`models/SHA256SUMS`, `sha256sum` lines).
const SHIPPED_SHA256SUMS: &str = include_str!("../../models/SHA256SUMS");

/// How many hex digits of a model file's SHA-256 a report gives (enough to tell files apart, and to find the line
/// in `models/SHA256SUMS`).
pub const MODEL_ID_HEX_DIGITS: usize = 12;

/// The SHA-256 (hex) of `file` as this build shipped it, if it did.
pub fn shipped_sha256(file: &str) -> Option<&'static str> {
    SHIPPED_SHA256SUMS.lines().find_map(|line| {
        let (sha256, name) = line.split_once(char::is_whitespace)?;
        (name.trim_start_matches([' ', '*']) == file).then_some(sha256)
    })
}

/// A model file as a run would load it: where [`find_model`] finds it and its SHA-256 (hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelFileId {
    /// The file name, as [`DETECTOR_FILE`] or [`ModelPreset::landmark_file`].
    pub file: &'static str,
    /// Where it was found.
    pub path: PathBuf,
    /// Its SHA-256, hex.
    pub sha256: String,
}

impl ModelFileId {
    /// The first [`MODEL_ID_HEX_DIGITS`] of the SHA-256, as reports give it.
    pub fn short_sha256(&self) -> &str {
        self.sha256.get(..MODEL_ID_HEX_DIGITS).unwrap_or(&self.sha256)
    }

    /// Whether this is the file this build shipped (same bytes).
    pub fn is_shipped(&self) -> bool {
        shipped_sha256(self.file) == Some(self.sha256.as_str())
    }
}

/// Finds model `file` and hashes it. A file is hashed once per process while its size and modification time stay
/// the same, so a batch or the web app can ask for every clip.
pub fn model_file_id(file: &'static str) -> Option<ModelFileId> {
    type Key = (PathBuf, u64, Option<std::time::SystemTime>);
    static HASHED: std::sync::Mutex<Vec<(Key, String)>> = std::sync::Mutex::new(Vec::new());
    let path = find_model(file).ok()?;
    let metadata = std::fs::metadata(&path).ok()?;
    let key = (path.clone(), metadata.len(), metadata.modified().ok());
    let cached = HASHED.lock().ok().and_then(|hashed| {
        hashed
            .iter()
            .find(|(hashed_key, _)| *hashed_key == key)
            .map(|(_, sha256)| sha256.clone())
    });
    let sha256 = match cached {
        Some(sha256) => sha256,
        None => {
            let sha256 = crate::video::file_sha256(&path).ok()?;
            if let Ok(mut hashed) = HASHED.lock() {
                hashed.push((key, sha256.clone()));
            }
            sha256
        }
    };
    Some(ModelFileId { file, path, sha256 })
}

/// ONNX Runtime session settings for the pose models.
///
/// Defaults measured on the 2-core development machine (shared with other builds, so each comparison alternated
/// the settings run by run; `runform pose --bench --threads N [--spin]` on walk_side_sports2d_demo, full model):
/// - two intra-op threads beat one end to end in every pair (76 vs 73, 81 vs 73, 126 vs 113 frames/s): decoding
///   leaves part of its core idle, and a second inference thread uses it;
/// - spinning threads cost about 3 s more CPU per 230 frames (7.6–8.5 s user against 4.7–5.4 s) and were slower
///   end to end whenever the machine was busy, since they steal the decoder's core;
/// - graph optimisation `Level3` (everything, including the NCHWc layout rewrites the profile shows) is kept;
///   its effect is inside the noise of this machine, and it is ONNX Runtime's recommendation for CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    /// Intra-op threads per session.
    pub intra_threads: usize,
    /// Whether idle intra-op threads spin waiting for work (lower latency, burns a core).
    pub spinning: bool,
    /// Graph optimisation level, 0 (off) to 3 (all).
    pub optimization_level: u8,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            intra_threads: 2,
            spinning: false,
            optimization_level: 3,
        }
    }
}

/// Builds a session for the model `bytes` (ort errors do not convert into anyhow: see model-conversion.md).
fn session_from_bytes(bytes: &[u8], options: SessionOptions) -> ort::Result<Session> {
    let environment = runtime::environment().map_err(|error| ort::Error::new(error.to_string()))?;
    let level = match options.optimization_level {
        0 => GraphOptimizationLevel::Disable,
        1 => GraphOptimizationLevel::Level1,
        2 => GraphOptimizationLevel::Level2,
        _ => GraphOptimizationLevel::Level3,
    };
    Session::builder(environment)?
        .with_intra_threads(options.intra_threads)?
        .with_inter_threads(1)?
        .with_intra_op_spinning(options.spinning)?
        .with_inter_op_spinning(false)?
        .with_optimization_level(level)?
        .commit_from_memory(bytes)
}

/// Finds model `file` and builds its session. With `only_outputs`, the graph is first cut down to the nodes those
/// outputs need ([`prune`]); a model that cannot be cut is loaded whole.
pub fn load_session(
    file: &'static str,
    options: SessionOptions,
    only_outputs: Option<&[&str]>,
) -> Result<Session, ModelError> {
    // Load the library first so that a missing runtime is reported as such, not as an unusable model.
    runtime::init_runtime()?;
    let path = find_model(file)?;
    let unusable = |reason: String| ModelError::Unusable {
        path: path.clone(),
        reason,
    };
    let bytes = std::fs::read(&path).map_err(|error| unusable(error.to_string()))?;
    let bytes = match only_outputs {
        Some(outputs) => prune::model_with_only_outputs(&bytes, outputs).unwrap_or(bytes),
        None => bytes,
    };
    session_from_bytes(&bytes, options).map_err(|error| unusable(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_name_their_files() {
        assert_eq!(ModelPreset::default(), ModelPreset::Full);
        assert_eq!(ModelPreset::Lite.landmark_file(), "pose_landmark_lite.onnx");
        assert_eq!(ModelPreset::Heavy.name(), "heavy");
    }

    #[test]
    fn the_shipped_sums_name_every_model_file() {
        for file in [
            DETECTOR_FILE,
            ModelPreset::Lite.landmark_file(),
            ModelPreset::Full.landmark_file(),
            ModelPreset::Heavy.landmark_file(),
        ] {
            let sha256 = shipped_sha256(file).unwrap_or_default();
            assert_eq!(sha256.len(), 64, "{file}: {sha256:?}");
        }
        assert_eq!(shipped_sha256("no_such_model.onnx"), None);
    }

    #[test]
    fn a_model_file_is_named_by_its_bytes() {
        // The checkout's own models are the shipped ones (scripts/setup verifies them against SHA256SUMS).
        if std::env::var_os(MODELS_DIR_ENV).is_some() {
            eprintln!("skipped: {MODELS_DIR_ENV} names other models");
            return;
        }
        let Some(detector) = model_file_id(DETECTOR_FILE) else {
            eprintln!("skipped: {DETECTOR_FILE} not found (run scripts/setup)");
            return;
        };
        assert!(detector.is_shipped(), "{detector:?}");
        assert_eq!(detector.short_sha256().len(), MODEL_ID_HEX_DIGITS);
        let other = ModelFileId {
            sha256: "0".repeat(64),
            ..detector.clone()
        };
        assert!(!other.is_shipped());
        // Asked again, the same answer (from the cache).
        assert_eq!(model_file_id(DETECTOR_FILE), Some(detector));
    }

    #[test]
    fn missing_model_is_one_sentence_with_exit_21() {
        let error = find_model("no_such_model.onnx").expect_err("absent");
        let text = error.to_string();
        assert!(
            text.contains("no_such_model.onnx") && text.contains("scripts/setup"),
            "{text}"
        );
        assert_eq!(error.exit(), Exit::ModelMissing);
    }
}
