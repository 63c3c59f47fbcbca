//! Writing output files so that a reader never sees half of one: write a temporary file beside the target,
//! flush it to disk, then rename it over the target (rename is atomic within a file system).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::error::{Exit, HasExit};

/// An output could not be written.
#[derive(Debug, Error)]
#[error("{path}: cannot write ({source}); check that the folder exists, is writable and has free space")]
pub struct OutputError {
    /// The file or folder that could not be written.
    pub path: PathBuf,
    /// The operating system's reason.
    pub source: io::Error,
}

impl HasExit for OutputError {
    fn exit(&self) -> Exit {
        Exit::OutputFailed
    }
}

/// Suffix of the temporary files [`write_atomically`] writes before renaming them into place.
const PARTIAL_SUFFIX: &str = ".partial";

/// Whether `path` is a temporary file left by an interrupted [`write_atomically`] (`.NAME.PID.partial`) or by a
/// writer that needs its extension kept ([`partial_path_keeping_extension`]: `.NAME.PID.partial.EXT`).
pub fn is_partial_file(path: &Path) -> bool {
    path.file_name().and_then(|name| name.to_str()).is_some_and(|name| {
        let without_extension = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        name.starts_with('.') && (name.ends_with(PARTIAL_SUFFIX) || without_extension.ends_with(PARTIAL_SUFFIX))
    })
}

/// The temporary name to write `path` under when the writer picks the format from the extension (OpenCV's
/// video writer): `.NAME.PID.partial.EXT` beside it, to be renamed over `path` when complete.
pub fn partial_path_keeping_extension(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let extension = path
        .extension()
        .map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
    path.with_file_name(format!(".{name}.{}{PARTIAL_SUFFIX}{extension}", std::process::id()))
}

/// Serialises a path as text, with U+FFFD for bytes that are not UTF-8: JSON has no room for such file names,
/// and refusing the whole report over one would lose it (serde's own `Path` impl refuses).
pub fn serialize_path_lossy<S: serde::Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

/// [`serialize_path_lossy`] for an optional path.
pub fn serialize_option_path_lossy<S: serde::Serializer>(
    path: &Option<PathBuf>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => serializer.serialize_some(&path.to_string_lossy()),
        None => serializer.serialize_none(),
    }
}

/// Creates `dir` and its parents if needed.
pub fn create_dir(dir: &Path) -> Result<(), OutputError> {
    fs::create_dir_all(dir).map_err(|source| OutputError {
        path: dir.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `path` atomically: either the whole new file is there afterwards, or the old state is.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let fail = |source| OutputError {
        path: path.to_path_buf(),
        source,
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| fail(io::Error::other("not a file path")))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}{PARTIAL_SUFFIX}", std::process::id()));
    let temp_path = path.with_file_name(temp_name);
    let result = (|| {
        let mut file = File::create(&temp_path)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp_path, path)
    })();
    if let Err(source) = result {
        // Best effort: the temporary file is ours and useless now; the error that matters is the write's.
        let _ = fs::remove_file(&temp_path);
        return Err(fail(source));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("report.json");
        write_atomically(&target, b"first").expect("write");
        write_atomically(&target, b"second").expect("write");
        assert_eq!(fs::read(&target).expect("read"), b"second");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
        assert!(is_partial_file(Path::new("out/.report.json.1234.partial")));
        assert!(!is_partial_file(Path::new("out/report.json")));
        let video = partial_path_keeping_extension(Path::new("out/run.overlay.mp4"));
        assert_eq!(video.extension().and_then(|e| e.to_str()), Some("mp4"));
        assert!(is_partial_file(&video), "{video:?}");
        assert!(!is_partial_file(Path::new("out/run.overlay.mp4")));
    }

    #[test]
    fn failed_write_names_the_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("missing-folder").join("report.json");
        let err = write_atomically(&target, b"x").expect_err("folder does not exist");
        assert!(err.to_string().contains("missing-folder"), "{err}");
        assert_eq!(err.exit(), Exit::OutputFailed);
    }
}
