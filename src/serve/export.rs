//! One athlete's data as a zip: `athlete.json` (the athlete, every session with its analysis options and
//! headline, and the audit entries about them) and, per session, the clip and every output of its shown
//! analysis. The zip is built in the data folder's `exports/` and streamed from an unlinked file, so nothing of it
//! stays on disk after the download.

use std::fs::File;
use std::io::{self, Write};

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::AppState;
use super::data::OutputFile;
use super::store::{Athlete, Session};
use super::templates::PageError;

/// The export's index.
#[derive(Serialize)]
struct AthleteExport<'a> {
    /// What this file is.
    format: &'static str,
    athlete: &'a Athlete,
    sessions: Vec<SessionExport<'a>>,
}

#[derive(Serialize)]
struct SessionExport<'a> {
    #[serde(flatten)]
    session: &'a Session,
    /// The folder of this session in the zip.
    folder: String,
}

/// Writes the zip of `athlete_id` to a new file in the exports folder and returns it, open and already unlinked.
pub fn write_athlete_zip(state: &AppState, athlete_id: i64) -> Result<Option<File>, io::Error> {
    let Some(athlete) = state.store.athlete(athlete_id).map_err(io::Error::other)? else {
        return Ok(None);
    };
    let sessions = state.store.athlete_sessions(athlete_id).map_err(io::Error::other)?;
    let path = state.data.new_export();
    let file = File::options().read(true).write(true).create_new(true).open(&path)?;
    // Unlinked at once: the open handle keeps the data for the download, and nothing stays behind after it.
    std::fs::remove_file(&path)?;
    let mut zip = zip::ZipWriter::new(file);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    // Videos are already compressed; deflating them again only costs time.
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(true);
    let folder_of = |session: &Session| format!("sessions/{}-{}", session.session_date, session.id);
    let index = AthleteExport {
        format: "runform-athlete-export-v1",
        athlete: &athlete,
        sessions: sessions
            .iter()
            .map(|session| SessionExport {
                session,
                folder: folder_of(session),
            })
            .collect(),
    };
    zip.start_file("athlete.json", deflated).map_err(io::Error::other)?;
    zip.write_all(&serde_json::to_vec_pretty(&index).map_err(io::Error::other)?)?;
    for session in &sessions {
        let folder = folder_of(session);
        let clip = state.data.clip(session.id, &session.clip_ext);
        if clip.is_file() {
            zip.start_file(format!("{folder}/clip.{}", session.clip_ext), stored)
                .map_err(io::Error::other)?;
            io::copy(&mut File::open(&clip)?, &mut zip)?;
        }
        let Some(job_id) = session.shown_job_id else { continue };
        let outputs = state.data.job_outputs(session.id, job_id);
        for output in OutputFile::ALL {
            let path = outputs.join(output.name());
            if !path.is_file() {
                continue;
            }
            let options = if output == OutputFile::Overlay {
                stored
            } else {
                deflated
            };
            zip.start_file(format!("{folder}/{}", output.name()), options)
                .map_err(io::Error::other)?;
            io::copy(&mut File::open(&path)?, &mut zip)?;
        }
    }
    let mut file = zip.finish().map_err(io::Error::other)?;
    io::Seek::rewind(&mut file)?;
    Ok(Some(file))
}

/// The zip as a download.
pub async fn athlete_zip_response(state: &std::sync::Arc<AppState>, athlete_id: i64) -> Result<Response, PageError> {
    let builder = std::sync::Arc::clone(state);
    let file = tokio::task::spawn_blocking(move || write_athlete_zip(&builder, athlete_id))
        .await
        .map_err(PageError::internal)?
        .map_err(|error| {
            if error.kind() == io::ErrorKind::StorageFull {
                PageError::new(
                    axum::http::StatusCode::INSUFFICIENT_STORAGE,
                    "The clinic PC's disk is too full to build the export; free some space and try again.",
                )
            } else {
                PageError::internal(error)
            }
        })?
        .ok_or_else(PageError::not_found)?;
    let length = file.metadata().map(|m| m.len()).ok();
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"athlete-{athlete_id}.zip\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Some(length) = length.and_then(|l| HeaderValue::from_str(&l.to_string()).ok()) {
        headers.insert(header::CONTENT_LENGTH, length);
    }
    Ok(response)
}
