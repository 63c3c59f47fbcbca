//! ONNX Runtime: finding the shared library, loading it once, and building sessions for the pose models.
//!
//! runform links no ONNX Runtime at build time: ort's `load-dynamic` loads `libonnxruntime.so` when the first
//! session is needed, so a missing or wrong library is an error message, not a failed start. `scripts/setup` puts
//! the library from the PyPI wheel `onnxruntime==1.31.1` under `vendor/onnxruntime/`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use thiserror::Error;

use crate::error::{Exit, HasExit};

/// File name of the ONNX Runtime release runform is built and tested against.
pub const ORT_LIBRARY_FILE: &str = "libonnxruntime.so.1.31.1";

/// Environment variable that names the ONNX Runtime library to load, overriding the search.
pub const ORT_LIBRARY_ENV: &str = "RUNFORM_ORT_LIB";

/// Where `scripts/setup` installs the library, relative to the project root.
const VENDORED_LIBRARY_DIR: &str = "vendor/onnxruntime";

/// ONNX Runtime could not be loaded.
#[derive(Clone, Debug, Error)]
pub enum RuntimeError {
    /// No candidate path holds the library.
    #[error(
        "the ONNX Runtime library {ORT_LIBRARY_FILE} was not found (looked in: {searched}); run scripts/setup, or set {ORT_LIBRARY_ENV} to its path"
    )]
    NotFound {
        /// The places searched, comma-separated.
        searched: String,
    },
    /// The file exists but is not a usable ONNX Runtime.
    #[error("{path}: is not a usable ONNX Runtime library ({reason}); run scripts/setup to install {ORT_LIBRARY_FILE}")]
    Unusable {
        /// The library that was tried.
        path: PathBuf,
        /// What the loader said.
        reason: String,
    },
    /// Creating the ONNX Runtime environment failed.
    #[error("ONNX Runtime failed to start ({0})")]
    Environment(String),
}

impl HasExit for RuntimeError {
    fn exit(&self) -> Exit {
        Exit::RuntimeMissing
    }
}

/// The places searched for the library, in order: the environment variable, beside the executable, the
/// project's `vendor/onnxruntime` found from the executable (`target/<profile>/runform`), and the `vendor` folder
/// of the source tree this binary was built from.
pub fn library_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os(ORT_LIBRARY_ENV) {
        candidates.push(PathBuf::from(path));
        return candidates;
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        candidates.push(exe_dir.join(ORT_LIBRARY_FILE));
        for ancestor in exe_dir.ancestors().skip(1).take(3) {
            candidates.push(ancestor.join(VENDORED_LIBRARY_DIR).join(ORT_LIBRARY_FILE));
        }
    }
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(VENDORED_LIBRARY_DIR)
            .join(ORT_LIBRARY_FILE),
    );
    candidates.dedup();
    candidates
}

/// The process-wide result of loading the library: its path and the ONNX Runtime environment.
///
/// The environment lives for the whole process: ort keeps only a weak reference to it, and sessions created
/// after it was dropped would silently build a default one.
static LOADED: OnceLock<Result<(PathBuf, ort::environment::Environment), RuntimeError>> = OnceLock::new();

/// Loads ONNX Runtime once per process and returns the library's path. Later calls return the first result.
pub fn init_runtime() -> Result<PathBuf, RuntimeError> {
    match LOADED.get_or_init(load_first_candidate) {
        Ok((path, _environment)) => Ok(path.clone()),
        Err(error) => Err(error.clone()),
    }
}

/// The ONNX Runtime environment that sessions are built in, loading the library first if needed.
pub fn environment() -> Result<&'static ort::environment::Environment, RuntimeError> {
    match LOADED.get_or_init(load_first_candidate) {
        Ok((_path, environment)) => Ok(environment),
        Err(error) => Err(error.clone()),
    }
}

fn load_first_candidate() -> Result<(PathBuf, ort::environment::Environment), RuntimeError> {
    let candidates = library_candidates();
    let Some(path) = candidates.iter().find(|path| path.is_file()) else {
        let searched = candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(RuntimeError::NotFound { searched });
    };
    let builder = ort::init_from(path).map_err(|error| RuntimeError::Unusable {
        path: path.clone(),
        reason: error.to_string(),
    })?;
    let environment = builder
        .with_name("runform")
        .build()
        .map_err(|error| RuntimeError::Environment(error.to_string()))?;
    Ok((path.clone(), environment))
}
