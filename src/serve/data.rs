//! The data folder: where clips, analysis outputs and uploads in progress live. Every path the web app touches is
//! made here from integer ids and fixed names, never from anything a request says, so no request can name a file
//! outside the folder.
//!
//! ```text
//! DATA/runform.sqlite3            the database (store.rs)
//! DATA/clips/<session>.<ext>      each session's clip, as uploaded
//! DATA/outputs/<session>/<job>/   each analysis's outputs (report.json, report.html, overlay.mp4, …)
//! DATA/uploads/<random>.partial   uploads being received (removed at start: an interrupted upload was never accepted)
//! DATA/exports/<random>.zip       athlete exports being built
//! ```

use std::io;
use std::path::{Path, PathBuf};

use crate::batch::CLIP_EXTENSIONS;

use super::auth;

/// A file of an analysis that can be downloaded, by its fixed name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFile {
    /// report.json
    ReportJson,
    /// report.html
    ReportHtml,
    /// steps.csv
    StepsCsv,
    /// summary.csv
    SummaryCsv,
    /// landmarks.json
    Landmarks,
    /// overlay.mp4
    Overlay,
}

impl OutputFile {
    /// Every output, in the order the downloads list shows them.
    pub const ALL: [OutputFile; 6] = [
        OutputFile::ReportJson,
        OutputFile::StepsCsv,
        OutputFile::SummaryCsv,
        OutputFile::Landmarks,
        OutputFile::ReportHtml,
        OutputFile::Overlay,
    ];

    /// The file's name in the output folder (what `analyze::AnalyzeSettings` writes).
    pub const fn name(self) -> &'static str {
        match self {
            OutputFile::ReportJson => "report.json",
            OutputFile::ReportHtml => "report.html",
            OutputFile::StepsCsv => "steps.csv",
            OutputFile::SummaryCsv => "summary.csv",
            OutputFile::Landmarks => "landmarks.json",
            OutputFile::Overlay => "overlay.mp4",
        }
    }

    /// The output with this exact name; anything else (`../x`, `%2e%2e`, another file) is `None`.
    pub fn from_name(name: &str) -> Option<OutputFile> {
        OutputFile::ALL.into_iter().find(|file| file.name() == name)
    }

    /// Its MIME type.
    pub const fn content_type(self) -> &'static str {
        match self {
            OutputFile::ReportJson | OutputFile::Landmarks => "application/json",
            OutputFile::ReportHtml => "text/html; charset=utf-8",
            OutputFile::StepsCsv | OutputFile::SummaryCsv => "text/csv; charset=utf-8",
            OutputFile::Overlay => "video/mp4",
        }
    }
}

/// The stored extension for an uploaded file name: its own when it is a clip extension runform reads, else `mp4`
/// (the container is found from the bytes, not the name).
pub fn clip_extension(file_name: &str) -> &'static str {
    let ext = Path::new(file_name)
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    CLIP_EXTENSIONS
        .iter()
        .find(|known| **known == ext)
        .copied()
        .unwrap_or("mp4")
}

/// The data folder.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates the folder and its subfolders where needed and checks that it can be written.
    pub fn create(root: &Path) -> io::Result<DataDir> {
        let data = DataDir {
            root: root.to_path_buf(),
        };
        for folder in [
            data.root.clone(),
            data.clips(),
            data.outputs_root(),
            data.uploads(),
            data.exports(),
        ] {
            std::fs::create_dir_all(&folder)?;
        }
        let probe = data.uploads().join(format!(".probe-{}", std::process::id()));
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)?;
        Ok(data)
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn clips(&self) -> PathBuf {
        self.root.join("clips")
    }

    fn outputs_root(&self) -> PathBuf {
        self.root.join("outputs")
    }

    fn uploads(&self) -> PathBuf {
        self.root.join("uploads")
    }

    fn exports(&self) -> PathBuf {
        self.root.join("exports")
    }

    /// A session's clip.
    pub fn clip(&self, session_id: i64, ext: &str) -> PathBuf {
        // `ext` is one of CLIP_EXTENSIONS (it went through `clip_extension` before it was stored).
        let ext = CLIP_EXTENSIONS
            .iter()
            .find(|known| **known == ext)
            .copied()
            .unwrap_or("mp4");
        self.clips().join(format!("{session_id}.{ext}"))
    }

    /// All outputs of a session.
    pub fn session_outputs(&self, session_id: i64) -> PathBuf {
        self.outputs_root().join(session_id.to_string())
    }

    /// One analysis's output folder.
    pub fn job_outputs(&self, session_id: i64, job_id: i64) -> PathBuf {
        self.session_outputs(session_id).join(job_id.to_string())
    }

    /// A fresh path for an upload being received.
    pub fn new_upload(&self) -> PathBuf {
        self.uploads().join(format!("{}.partial", auth::new_token()))
    }

    /// A fresh path for an export being built.
    pub fn new_export(&self) -> PathBuf {
        self.exports().join(format!("{}.zip", auth::new_token()))
    }

    /// Removes what a stopped server left behind: uploads and exports in progress, and clips and outputs whose
    /// session or job has no row (a session deleted while its analysis ran). Returns how many were removed.
    pub fn remove_leftovers(&self, sessions: &[i64], jobs: &[i64]) -> usize {
        let mut removed = 0;
        let mut remove = |path: &Path| {
            let result = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
            if result.is_ok() {
                removed += 1;
            }
        };
        for folder in [self.uploads(), self.exports()] {
            for entry in entries(&folder) {
                remove(&entry);
            }
        }
        let id_of = |path: &Path| {
            path.file_stem()
                .and_then(|stem| stem.to_str())
                .and_then(|stem| stem.parse::<i64>().ok())
        };
        for clip in entries(&self.clips()) {
            if !id_of(&clip).is_some_and(|id| sessions.contains(&id)) {
                remove(&clip);
            }
        }
        for session in entries(&self.outputs_root()) {
            if !id_of(&session).is_some_and(|id| sessions.contains(&id)) {
                remove(&session);
                continue;
            }
            for job in entries(&session) {
                if !id_of(&job).is_some_and(|id| jobs.contains(&id)) {
                    remove(&job);
                }
            }
        }
        removed
    }
}

fn entries(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_fixed_output_names_are_files() {
        assert_eq!(OutputFile::from_name("report.json"), Some(OutputFile::ReportJson));
        for bad in [
            "../report.json",
            "..",
            "report.json/",
            "%2e%2e",
            "runform.sqlite3",
            "",
            "REPORT.JSON",
        ] {
            assert_eq!(OutputFile::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn stored_extensions_come_from_a_fixed_list() {
        assert_eq!(clip_extension("Run.MOV"), "mov");
        assert_eq!(clip_extension("../../etc/passwd"), "mp4");
        assert_eq!(clip_extension("x.sh"), "mp4");
        let data = DataDir {
            root: PathBuf::from("/data"),
        };
        assert_eq!(data.clip(7, "../../x"), PathBuf::from("/data/clips/7.mp4"));
    }

    #[test]
    fn leftovers_without_rows_are_removed_and_the_rest_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::create(dir.path()).expect("creates");
        std::fs::write(data.clip(1, "mp4"), b"kept").expect("write");
        std::fs::write(data.clip(2, "mp4"), b"orphan").expect("write");
        std::fs::create_dir_all(data.job_outputs(1, 10)).expect("mkdir");
        std::fs::create_dir_all(data.job_outputs(1, 11)).expect("mkdir");
        std::fs::write(data.new_upload(), b"half").expect("write");
        assert_eq!(data.remove_leftovers(&[1], &[10]), 3);
        assert!(data.clip(1, "mp4").exists() && !data.clip(2, "mp4").exists());
        assert!(data.job_outputs(1, 10).exists() && !data.job_outputs(1, 11).exists());
        assert!(entries(&data.uploads()).is_empty());
    }
}
