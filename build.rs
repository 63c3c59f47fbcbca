//! Names the source a runform binary was built from, so that a report says which analysis made its numbers.
//!
//! `RUNFORM_SOURCE_ID` is the first 12 hex digits of a SHA-256 over every file below `src/` (path and bytes, in
//! path order), `Cargo.lock` and `models/SHA256SUMS` (the committed pose models' hashes). The package version stays
//! 0.1.0 from one change of the analysis to the next; this id does not, so a batch resumed after an update re-scores
//! the reports an earlier build made, and a comparison says when two sessions were measured by different builds. It
//! is a hash of the files, not a git commit, so that uncommitted changes count and a source tarball without `.git`
//! builds the same id.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Hex digits of the hash kept in the id (48 bits: a collision between two builds a user runs is not a worry).
const SOURCE_ID_HEX_DIGITS: usize = 12;

fn main() {
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=Cargo.lock");
    println!("cargo::rerun-if-changed=models/SHA256SUMS");
    println!("cargo::rerun-if-changed=build.rs");
    match source_id(
        Path::new("src"),
        &[Path::new("Cargo.lock"), Path::new("models/SHA256SUMS")],
    ) {
        Ok(id) => println!("cargo::rustc-env=RUNFORM_SOURCE_ID={id}"),
        Err(error) => println!("cargo::error=cannot hash runform's source files to name the build: {error}"),
    }
}

/// The hash of every file below `source` and of `others`, as hex.
fn source_id(source: &Path, others: &[&Path]) -> io::Result<String> {
    let mut files = Vec::new();
    files_below(source, &mut files)?;
    files.sort();
    files.extend(others.iter().map(|path| path.to_path_buf()));
    let mut hasher = Sha256::new();
    for file in &files {
        let bytes = fs::read(file)?;
        // The path with `/` on every platform, and the length, so that moving bytes between files changes the id.
        let name = file.to_string_lossy().replace('\\', "/");
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    let digest = hasher.finalize();
    Ok(digest
        .iter()
        .take(SOURCE_ID_HEX_DIGITS / 2)
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

/// Every file below `folder`, recursively.
fn files_below(folder: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            files_below(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}
