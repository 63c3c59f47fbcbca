//! Receiving a clip: the multipart form is read field by field and the clip streamed to a temporary file in the
//! data folder, hashed (SHA-256) and counted as it arrives, under the size limit. The clip then goes through the
//! same input checks as `runform analyze` (`analyze::check_clip`) before anything is recorded; only a clip that
//! passes becomes a session with a queued job, in one database transaction. Whatever fails on the way — too
//! large, a full disk, not a video, a dropped connection — leaves nothing stored: the temporary file is removed
//! when the upload is dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::Multipart;
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::analyze;
use crate::config::parse_session_date;
use crate::options::{ClipOptions, OptionTexts};

use super::AppState;
use super::auth;
use super::data;
use super::store::NewSession;

/// The longest text field accepted (notes, options), bytes.
const MAX_FIELD_BYTES: usize = 10_000;

/// The most of a refused upload that is still read (and thrown away) so that the client gets the refusal: an
/// HTTP/1.1 client still sending its body would otherwise see the connection close instead of the answer.
const DRAIN_LIMIT_BYTES: u64 = 256 * 1024 * 1024;

/// Reads and discards what is left of a multipart body, up to 256 MB (`DRAIN_LIMIT_BYTES`).
pub async fn drain(mut multipart: Multipart) {
    let mut drained = 0u64;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            drained += chunk.len() as u64;
            if drained > DRAIN_LIMIT_BYTES {
                return;
            }
        }
    }
}

/// Why an upload was refused, with the status the page or API answers with.
#[derive(Debug, PartialEq)]
pub enum UploadError {
    /// The clip is over the limit (413).
    TooLarge {
        /// The limit, megabytes.
        limit_mb: u64,
    },
    /// The disk filled while the clip was written (507).
    DiskFull,
    /// The form did not carry this login's CSRF token (403).
    Csrf,
    /// A field is missing or refused (422): the sentence says which and why.
    Invalid(String),
    /// The clip failed runform's input checks (422): the CLI's sentence, naming the uploaded file.
    NotAClip(String),
    /// The request broke off or could not be read (400).
    Broken(String),
    /// Anything else (500).
    Internal(String),
}

impl UploadError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            UploadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
            UploadError::Csrf => StatusCode::FORBIDDEN,
            UploadError::Invalid(_) | UploadError::NotAClip(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UploadError::Broken(_) => StatusCode::BAD_REQUEST,
            UploadError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// One sentence for the user.
    pub fn message(&self) -> String {
        match self {
            UploadError::TooLarge { limit_mb } => format!(
                "The clip is larger than this clinic's upload limit of {limit_mb} MB and was not stored; trim it to \
                 the running (10 to 30 seconds are enough) or ask the admin to raise --max-upload-mb."
            ),
            UploadError::DiskFull => "The clinic PC's disk is full: the clip was not stored. Free some space (or \
                                      erase old athletes) and upload it again."
                .to_owned(),
            UploadError::Csrf => "This form has expired or did not come from this site; reload the page and try \
                                  again."
                .to_owned(),
            UploadError::Invalid(message) | UploadError::NotAClip(message) | UploadError::Broken(message) => {
                message.clone()
            }
            UploadError::Internal(message) => format!("Internal error: {message} (please report this)."),
        }
    }
}

/// A file being received; removed when dropped unless [`PartialFile::keep`] moved it into place.
struct PartialFile {
    path: Option<PathBuf>,
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Best effort: a leftover is also removed at the next start (DataDir::remove_leftovers).
            let _ = std::fs::remove_file(path);
        }
    }
}

/// What the form carried.
pub struct ReceivedUpload {
    /// Text fields by name.
    pub fields: HashMap<String, String>,
    clip: Option<ReceivedClip>,
}

struct ReceivedClip {
    file: PartialFile,
    name: String,
    bytes: u64,
    sha256: String,
}

impl ReceivedUpload {
    /// A text field, trimmed, or "".
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |value| value.trim())
    }
}

fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded | std::io::ErrorKind::FileTooLarge
    )
}

/// Reads the multipart form, streaming the `clip` field to disk. With `csrf` set (a browser's form), the form's
/// `csrf` field — or the `X-CSRF-Token` header, given as `header_csrf` — must match it before the clip is read.
pub async fn receive(
    state: &AppState,
    mut multipart: Multipart,
    csrf: Option<&str>,
    header_csrf: Option<&str>,
) -> Result<ReceivedUpload, UploadError> {
    let received = receive_fields(state, &mut multipart, csrf, header_csrf).await;
    if matches!(
        received,
        Err(UploadError::TooLarge { .. } | UploadError::Csrf | UploadError::Invalid(_) | UploadError::DiskFull)
    ) {
        // Let the client finish sending, so that it reads the refusal rather than a closed connection.
        drain(multipart).await;
    }
    received
}

async fn receive_fields(
    state: &AppState,
    multipart: &mut Multipart,
    csrf: Option<&str>,
    header_csrf: Option<&str>,
) -> Result<ReceivedUpload, UploadError> {
    let limit = state.settings.max_upload_bytes;
    let limit_mb = limit / 1_000_000;
    let mut fields = HashMap::new();
    let mut clip = None;
    let broken = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            UploadError::TooLarge { limit_mb }
        } else {
            UploadError::Broken(format!(
                "The upload broke off before it was complete ({error}); try again."
            ))
        }
    };
    let csrf_ok = |fields: &HashMap<String, String>| match csrf {
        None => true,
        Some(expected) => {
            header_csrf.is_some_and(|token| auth::same_secret(token, expected))
                || fields
                    .get("csrf")
                    .is_some_and(|token| auth::same_secret(token, expected))
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "clip" {
            if !csrf_ok(&fields) {
                return Err(UploadError::Csrf);
            }
            let original = field.file_name().unwrap_or("clip.mp4").to_owned();
            let path = state.data.new_upload();
            let file = PartialFile {
                path: Some(path.clone()),
            };
            let mut out = tokio::fs::File::create(&path).await.map_err(|error| {
                if is_disk_full(&error) {
                    UploadError::DiskFull
                } else {
                    UploadError::Internal(format!("the upload could not be written ({error})"))
                }
            })?;
            let mut hasher = Sha256::new();
            let mut bytes = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(broken)? {
                bytes += chunk.len() as u64;
                if bytes > limit {
                    return Err(UploadError::TooLarge { limit_mb });
                }
                hasher.update(&chunk);
                out.write_all(&chunk).await.map_err(|error| {
                    if is_disk_full(&error) {
                        UploadError::DiskFull
                    } else {
                        UploadError::Internal(format!("the upload could not be written ({error})"))
                    }
                })?;
            }
            out.sync_all().await.map_err(|error| {
                if is_disk_full(&error) {
                    UploadError::DiskFull
                } else {
                    UploadError::Internal(format!("the upload could not be written ({error})"))
                }
            })?;
            if bytes == 0 && original.is_empty() {
                // A file input left empty sends a part with no name and no bytes.
                continue;
            }
            clip = Some(ReceivedClip {
                file,
                name: display_name(&original),
                bytes,
                sha256: hasher.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            });
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(broken)? {
                value.extend_from_slice(&chunk);
                if value.len() > MAX_FIELD_BYTES {
                    return Err(UploadError::Invalid(format!(
                        "The field {name} is longer than {MAX_FIELD_BYTES} bytes; shorten it."
                    )));
                }
            }
            fields.insert(name, String::from_utf8_lossy(&value).into_owned());
        }
    }
    if !csrf_ok(&fields) {
        return Err(UploadError::Csrf);
    }
    Ok(ReceivedUpload { fields, clip })
}

/// The uploaded file's name for display: its last path component, without control characters, at most 200
/// characters. It is shown (escaped) and never used as a path.
fn display_name(original: &str) -> String {
    let last = original.rsplit(['/', '\\']).next().unwrap_or(original);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.is_empty() { "clip".to_owned() } else { clean }
}

/// Analysis options and session fields from an upload's (or a re-analysis's) text fields.
pub fn options_from_fields(fields: &HashMap<String, String>) -> Result<ClipOptions, UploadError> {
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let texts = OptionTexts {
        model: get("model"),
        view: get("view"),
        height_cm: get("height_cm"),
        speed: get("speed"),
        detect_every_frame: get("detect_every_frame"),
        runner_at: get("runner_at"),
    };
    ClipOptions::from_texts(&texts)
        .map_err(|error| UploadError::Invalid(format!("{}: {}.", field_label(error.field), error.reason)))
}

fn field_label(field: &str) -> &str {
    match field {
        "height_cm" => "Height",
        "speed" => "Treadmill speed",
        "view" => "View",
        "model" => "Model",
        "runner_at" => "Runner at",
        "detect_every_frame" => "Detect in every frame",
        other => other,
    }
}

/// Checks a received upload and records it as a new session of `athlete_id` with its analysis queued. Returns
/// the session and job ids.
pub async fn create_session(
    state: &Arc<AppState>,
    user_name: &str,
    athlete_id: i64,
    upload: ReceivedUpload,
) -> Result<(i64, i64), UploadError> {
    let session_date = match upload.field("session_date") {
        "" => super::pages::today(),
        text => parse_session_date(text).map_err(|reason| UploadError::Invalid(format!("Date: {reason}.")))?,
    };
    let notes: String = upload.field("notes").to_owned();
    let options = options_from_fields(&upload.fields)?;
    let Some(clip) = upload.clip else {
        return Err(UploadError::Invalid(
            "No clip was chosen; choose or film one.".to_owned(),
        ));
    };
    let Some(partial_path) = clip.file.path.clone() else {
        return Err(UploadError::Internal("the upload vanished".to_owned()));
    };
    // The CLI's own input checks, off the async threads (they read and hash the file).
    let checked = {
        let path = partial_path.clone();
        tokio::task::spawn_blocking(move || analyze::check_clip(&path))
            .await
            .map_err(|error| UploadError::Internal(error.to_string()))?
    };
    if let Err(error) = checked {
        let message = error
            .to_string()
            .replace(&partial_path.display().to_string(), &clip.name);
        return Err(UploadError::NotAClip(message));
    }
    let ext = data::clip_extension(&clip.name);
    let options_json =
        serde_json::to_string(&options.texts()).map_err(|error| UploadError::Internal(error.to_string()))?;
    let new = NewSession {
        athlete_id,
        session_date: &session_date,
        notes: &notes,
        clip_name: &clip.name,
        clip_ext: ext,
        clip_bytes: clip.bytes as i64,
        clip_sha256: &clip.sha256,
        uploaded_by: user_name,
        options_json: &options_json,
        height_cm: options.height_cm,
    };
    let data = &state.data;
    let stored = state
        .store
        .add_session(&new, |session_id| {
            move_into_place(&partial_path, &data.clip(session_id, ext))
        })
        .map_err(|error| UploadError::Internal(error.to_string()))?;
    let (session_id, job_id) = stored.map_err(|error| {
        if is_disk_full(&error) {
            UploadError::DiskFull
        } else {
            UploadError::Internal(format!("the clip could not be stored ({error})"))
        }
    })?;
    let mut file = clip.file;
    // The clip is in place and recorded; the temporary path no longer exists.
    file.path = None;
    let _ = state.store.audit(
        user_name,
        "upload",
        Some(athlete_id),
        Some(session_id),
        &format!("{} bytes, sha256 {}", clip.bytes, clip.sha256),
    );
    state.wake.job_queued();
    Ok((session_id, job_id))
}

fn move_into_place(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::rename(from, to)?;
    // The rename must survive a power cut before the row that points at it is committed.
    if let Some(folder) = to.parent() {
        std::fs::File::open(folder)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_lose_their_folders_and_control_characters() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\clips\\run 1.mp4"), "run 1.mp4");
        assert_eq!(display_name("a\u{0}b\nc.mp4"), "abc.mp4");
        assert_eq!(display_name(""), "clip");
    }

    #[test]
    fn option_fields_are_checked_like_the_command_line() {
        let mut fields = HashMap::new();
        fields.insert("speed".to_owned(), "12".to_owned());
        let error = options_from_fields(&fields).expect_err("no unit");
        assert!(error.message().starts_with("Treadmill speed:"), "{error:?}");
        fields.insert("speed".to_owned(), "12km/h".to_owned());
        assert!(options_from_fields(&fields).is_ok());
    }
}
