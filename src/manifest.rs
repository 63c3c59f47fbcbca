//! Batch manifests: a CSV file with one row per session, saying whose session it is, when, which clips (a side
//! clip, a rear clip, or both) and the treadmill speed, height and notes that go with it.
//!
//! ```text
//! athlete,session_date,side_clip,rear_clip,speed,height_cm,notes
//! AR,2026-11-02,ar/nov-side.mp4,ar/nov-rear.mp4,12km/h,178,first visit
//! AR,2026-11-30,ar/dec-side.mp4,,12km/h,178,
//! ```
//!
//! The header names the columns (in any order; `athlete`, `session_date`, `side_clip` and `rear_clip` are
//! required, `speed`, `height_cm` and `notes` optional; `side` and `rear` are accepted for the clip columns and
//! `height` for `height_cm`). Clip paths are relative to the manifest's folder unless absolute. A row that
//! cannot be used (no clip, a clip that does not exist, a date or speed that does not parse) is a [`BadRow`]
//! named with its line number; the other rows are scored as usual. A file that is not a manifest at all is a
//! [`ManifestError`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::config::{TreadmillSpeed, parse_session_date, parse_speed};
use crate::error::{Exit, HasExit};
use crate::options::parse_height_cm;
use crate::report::SessionInfo;

/// The columns a manifest must have.
pub const REQUIRED_COLUMNS: [&str; 4] = ["athlete", "session_date", "side_clip", "rear_clip"];

/// The whole manifest cannot be used.
#[derive(Debug, Error)]
pub enum ManifestError {
    /// The file does not exist.
    #[error("{path}: the manifest does not exist; give the CSV file that lists the sessions")]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// The file cannot be read.
    #[error("{path}: the manifest cannot be read ({reason})")]
    Unreadable {
        /// The manifest.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not a manifest: a required column is missing from its header, or it holds no rows.
    #[error(
        "{path}: is not a session manifest ({reason}); its first line must be \
         athlete,session_date,side_clip,rear_clip,speed,height_cm,notes"
    )]
    NotAManifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl HasExit for ManifestError {
    fn exit(&self) -> Exit {
        match self {
            ManifestError::Missing { .. } => Exit::InputNotFound,
            ManifestError::Unreadable { .. } => Exit::InputUnreadable,
            ManifestError::NotAManifest { .. } => Exit::InputNotReport,
        }
    }
}

/// One usable row of a manifest: one session.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestSession {
    /// The row's line number in the file (the header is line 1).
    pub line: u64,
    /// The side clip, resolved against the manifest's folder.
    pub side_clip: Option<PathBuf>,
    /// The rear clip, resolved against the manifest's folder.
    pub rear_clip: Option<PathBuf>,
    /// Athlete, date and notes.
    pub session: SessionInfo,
    /// The treadmill speed, where given.
    pub speed: Option<TreadmillSpeed>,
    /// The runner's height, centimetres, where given.
    pub height_cm: Option<f64>,
    /// The session's output folder below the batch's output folder: `ATHLETE/DATE/<clip name>`, made unique.
    pub out_key: PathBuf,
}

/// A row that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// The row's line number in the file.
    pub line: u64,
    /// One sentence naming the manifest, the line and the fix.
    pub reason: String,
}

/// A manifest read: its sessions and its bad rows, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    /// The usable rows.
    pub sessions: Vec<ManifestSession>,
    /// The rows that cannot be used.
    pub bad_rows: Vec<BadRow>,
}

/// Reads a manifest file.
pub fn read_manifest(path: &Path) -> Result<Manifest, ManifestError> {
    if !path.exists() {
        return Err(ManifestError::Missing {
            path: path.to_path_buf(),
        });
    }
    let bytes = std::fs::read(path).map_err(|error| ManifestError::Unreadable {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse_manifest(path, &bytes, base)
}

/// Parses a manifest's contents; `name` names it in messages and `base` is the folder clip paths are relative to.
pub fn parse_manifest(name: &Path, bytes: &[u8], base: &Path) -> Result<Manifest, ManifestError> {
    let not_a_manifest = |reason: String| ManifestError::NotAManifest {
        path: name.to_path_buf(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| not_a_manifest(format!("its header cannot be read: {error}")))?
        .iter()
        .map(|column| canonical_column(&column.to_ascii_lowercase()).to_owned())
        .collect();
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|column| !header.iter().any(|c| c == column))
        .collect();
    if !missing.is_empty() {
        return Err(not_a_manifest(format!("no {} column", missing.join(", no "))));
    }
    let column = |name: &str| header.iter().position(|c| c == name);
    let columns = Columns {
        athlete: column("athlete"),
        session_date: column("session_date"),
        side_clip: column("side_clip"),
        rear_clip: column("rear_clip"),
        speed: column("speed"),
        height_cm: column("height_cm"),
        notes: column("notes"),
    };

    let mut manifest = Manifest::default();
    let mut out_keys: HashSet<PathBuf> = HashSet::new();
    let mut rows = 0;
    for record in reader.records() {
        rows += 1;
        let (line, result) = match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                (line, session_of_row(&record, &columns, base))
            }
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                (line, Err(format!("it cannot be read as CSV ({error})")))
            }
        };
        match result {
            Ok(mut session) => {
                session.line = line;
                if !out_keys.insert(session.out_key.clone()) {
                    // Two sessions of one athlete on one day from clips of the same name: keep both apart.
                    let name = session.out_key.file_name().unwrap_or_default().to_string_lossy();
                    session.out_key = session.out_key.with_file_name(format!("{name}-line{line}"));
                    out_keys.insert(session.out_key.clone());
                }
                manifest.sessions.push(session);
            }
            Err(why) => manifest.bad_rows.push(BadRow {
                line,
                reason: format!("{} line {line}: {why}", name.display()),
            }),
        }
    }
    if rows == 0 {
        return Err(not_a_manifest("it lists no sessions".to_owned()));
    }
    Ok(manifest)
}

/// Where each column is in the header.
struct Columns {
    athlete: Option<usize>,
    session_date: Option<usize>,
    side_clip: Option<usize>,
    rear_clip: Option<usize>,
    speed: Option<usize>,
    height_cm: Option<usize>,
    notes: Option<usize>,
}

/// The column's name as the manifest documentation spells it.
fn canonical_column(name: &str) -> &str {
    match name {
        "side" => "side_clip",
        "rear" => "rear_clip",
        "height" => "height_cm",
        "date" => "session_date",
        other => other,
    }
}

/// One row as a session, or why it cannot be one (a phrase that follows "line N: ").
fn session_of_row(record: &csv::StringRecord, columns: &Columns, base: &Path) -> Result<ManifestSession, String> {
    let cell = |index: Option<usize>| {
        index
            .and_then(|i| record.get(i))
            .map(str::trim)
            .filter(|text| !text.is_empty())
    };
    let athlete = cell(columns.athlete).ok_or("the athlete is empty; name the athlete (a name or a code)")?;
    let date_text = cell(columns.session_date).ok_or("the session date is empty; write it as YYYY-MM-DD")?;
    let session_date = parse_session_date(date_text).map_err(|why| format!("the session date {why}"))?;
    let clip = |index: Option<usize>, role: &str| -> Result<Option<PathBuf>, String> {
        let Some(text) = cell(index) else {
            return Ok(None);
        };
        let path = base.join(text);
        if path.is_file() {
            Ok(Some(path))
        } else {
            Err(format!(
                "the {role} clip {} does not exist; fix its path (relative to the manifest's folder)",
                path.display()
            ))
        }
    };
    let side_clip = clip(columns.side_clip, "side")?;
    let rear_clip = clip(columns.rear_clip, "rear")?;
    let speed = cell(columns.speed)
        .map(parse_speed)
        .transpose()
        .map_err(|why| format!("the speed: {why}"))?;
    let height_cm = cell(columns.height_cm)
        .map(parse_height_cm)
        .transpose()
        .map_err(|why| format!("the height: {why}"))?;
    let notes = cell(columns.notes).map(str::to_owned);
    let Some(named_clip) = side_clip.as_deref().or(rear_clip.as_deref()) else {
        return Err("both clips are empty; give a side clip, a rear clip or both".to_owned());
    };
    let stem = named_clip.file_stem().unwrap_or_default().to_string_lossy();
    let out_key = PathBuf::from(folder_name(athlete))
        .join(folder_name(&session_date))
        .join(folder_name(&stem));
    Ok(ManifestSession {
        line: 0,
        side_clip,
        rear_clip,
        session: SessionInfo {
            athlete: Some(athlete.to_owned()),
            session_date: Some(session_date),
            notes,
        },
        speed,
        height_cm,
        out_key,
    })
}

/// `text` as one folder name: letters, digits, `-`, `_` and `.` kept, anything else (a `/`, a space) as `_`,
/// and never `.` or `..`.
fn folder_name(text: &str) -> String {
    let name: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.chars().all(|c| c == '.') {
        name.replace('.', "_")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_sessions_and_bad_rows_are_named_by_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["a-side.mp4", "a-rear.mp4", "b.mp4"] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        let text = "athlete,session_date,side_clip,rear_clip,speed,height_cm,notes\n\
                    AR,2026-11-02,a-side.mp4,a-rear.mp4,12km/h,178,first visit\n\
                    AR,2026-11-30,b.mp4,,,,\n\
                    BK,2026-13-01,b.mp4,,,,\n\
                    BK,2026-11-03,,,,,\n\
                    BK,2026-11-04,missing.mp4,,,,\n\
                    CM,2026-11-05,,b.mp4,fast,,\n";
        let manifest = parse_manifest(Path::new("sessions.csv"), text.as_bytes(), dir.path()).expect("a manifest");
        assert_eq!(manifest.sessions.len(), 2);
        let first = &manifest.sessions[0];
        assert_eq!(first.line, 2);
        assert_eq!(first.session.athlete.as_deref(), Some("AR"));
        assert_eq!(first.session.notes.as_deref(), Some("first visit"));
        assert!(first.rear_clip.is_some() && first.side_clip.is_some());
        assert!((first.speed.expect("speed").mps - 12.0 / 3.6).abs() < 1e-9);
        assert_eq!(first.height_cm, Some(178.0));
        assert_eq!(first.out_key, PathBuf::from("AR/2026-11-02/a-side"));
        let lines: Vec<u64> = manifest.bad_rows.iter().map(|row| row.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7]);
        assert!(
            manifest.bad_rows[0]
                .reason
                .starts_with("sessions.csv line 4: the session date")
        );
        assert!(manifest.bad_rows[1].reason.contains("both clips are empty"));
        assert!(manifest.bad_rows[2].reason.contains("missing.mp4 does not exist"));
        assert!(manifest.bad_rows[3].reason.contains("the speed"));
    }

    #[test]
    fn a_file_without_the_columns_or_rows_is_not_a_manifest() {
        let base = Path::new("/");
        let err = parse_manifest(Path::new("m.csv"), b"name,clip\nx,y\n", base).expect_err("no columns");
        assert_eq!(err.exit(), Exit::InputNotReport);
        assert!(err.to_string().contains("no athlete"), "{err}");
        let header_only = b"athlete,session_date,side_clip,rear_clip\n";
        let err = parse_manifest(Path::new("m.csv"), header_only, base).expect_err("no rows");
        assert!(err.to_string().contains("lists no sessions"), "{err}");
        let err = read_manifest(Path::new("/no/such/manifest.csv")).expect_err("missing");
        assert_eq!(err.exit(), Exit::InputNotFound);
    }

    #[test]
    fn folder_names_stay_one_folder() {
        assert_eq!(folder_name("A. Runner/2"), "A._Runner_2");
        assert_eq!(folder_name(".."), "__");
    }
}
