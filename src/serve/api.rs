//! The JSON API behind the pages, for the clinic's other software (documented in `docs/api.md`). Requests carry
//! an API token as `Authorization: Bearer TOKEN` (made on the account page or with `runform user token`); there
//! is no cookie, so no CSRF token is needed. Errors are `{"error": "one sentence"}` with a fitting status.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Multipart, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::options::{ClipOptions, OptionTexts};

use super::data::OutputFile;
use super::jobs::Headline;
use super::pages::{SessionStatus, declared_too_large, serve_output};
use super::store::{Athlete, User};
use super::templates::PageError;
use super::upload::{self, UploadError};
use super::{AppState, auth};

/// The API routes (nested under `/api/v1`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/athletes", get(list_athletes).post(add_athlete))
        .route("/athletes/{id}", get(athlete).delete(erase_athlete))
        .route("/athletes/{id}/sessions", post(upload_session))
        .route("/sessions/{id}", get(session).delete(delete_session))
        .route("/sessions/{id}/reanalyse", post(reanalyse))
        .route("/sessions/{id}/files/{name}", get(session_file))
}

/// An API error: status and one sentence.
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("there is no such {what}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
        }
        (self.status, Json(Body { error: self.message })).into_response()
    }
}

impl From<PageError> for ApiError {
    fn from(error: PageError) -> ApiError {
        ApiError::new(error.status, error.message)
    }
}

impl From<super::store::StoreError> for ApiError {
    fn from(error: super::store::StoreError) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> ApiError {
        ApiError::new(error.status(), error.message())
    }
}

/// The account of an API token.
pub struct ApiUser(pub User);

impl FromRequestParts<Arc<AppState>> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<ApiUser, ApiError> {
        let user = auth::bearer_token(&parts.headers)
            .and_then(|token| state.store.api_token_user(&auth::token_sha256(&token)).ok().flatten());
        user.map(ApiUser).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "send an API token as 'Authorization: Bearer TOKEN' (make one on the account page)",
            )
        })
    }
}

fn audit(state: &AppState, user: &User, action: &str, athlete: Option<i64>, session: Option<i64>, detail: &str) {
    if let Err(error) = state.store.audit(&user.name, action, athlete, session, detail) {
        eprintln!("runform serve: audit entry not written: {error}");
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    q: String,
    limit: Option<i64>,
}

async fn list_athletes(
    State(state): State<Arc<AppState>>,
    ApiUser(_user): ApiUser,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<Athlete>>, ApiError> {
    let limit = query.limit.unwrap_or(1000).clamp(1, 10_000);
    Ok(Json(state.store.athletes(query.q.trim(), limit)?))
}

#[derive(Deserialize)]
struct NewAthlete {
    name: String,
    #[serde(default)]
    height_cm: Option<f64>,
}

async fn add_athlete(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Json(new): Json<NewAthlete>,
) -> Result<(StatusCode, Json<Athlete>), ApiError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name: give 1 to 200 characters",
        ));
    }
    let options = ClipOptions {
        height_cm: new.height_cm,
        ..ClipOptions::default()
    };
    options
        .validate()
        .map_err(|error| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()))?;
    let id = state.store.add_athlete(name, new.height_cm)?;
    audit(&state, &user, "athlete_add", Some(id), None, "api");
    let athlete = state.store.athlete(id)?.ok_or_else(|| ApiError::not_found("athlete"))?;
    Ok((StatusCode::CREATED, Json(athlete)))
}

/// A session as the API shows it.
#[derive(Serialize)]
struct SessionView {
    id: i64,
    athlete_id: i64,
    session_date: String,
    notes: String,
    clip_name: String,
    clip_bytes: i64,
    clip_sha256: String,
    uploaded_by: String,
    options: OptionTexts,
    status: SessionStatus,
    headline: Option<Headline>,
    files: Vec<String>,
}

fn session_view(state: &AppState, session: &super::store::Session) -> Result<SessionView, ApiError> {
    let overlay_ready = match session.shown_job_id {
        Some(job) => state.store.job(job)?.is_some_and(|job| job.overlay_ready),
        None => false,
    };
    let files = if session.shown_job_id.is_some() {
        OutputFile::ALL
            .iter()
            .filter(|file| **file != OutputFile::Overlay || overlay_ready)
            .map(|file| format!("/api/v1/sessions/{}/files/{}", session.id, file.name()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(SessionView {
        id: session.id,
        athlete_id: session.athlete_id,
        session_date: session.session_date.clone(),
        notes: session.notes.clone(),
        clip_name: session.clip_name.clone(),
        clip_bytes: session.clip_bytes,
        clip_sha256: session.clip_sha256.clone(),
        uploaded_by: session.uploaded_by.clone(),
        options: session
            .latest_job
            .as_ref()
            .and_then(|job| serde_json::from_str(&job.options_json).ok())
            .unwrap_or_default(),
        status: SessionStatus::of(session),
        headline: session
            .headline_json
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok()),
        files,
    })
}

#[derive(Serialize)]
struct AthleteView {
    #[serde(flatten)]
    athlete: Athlete,
    sessions: Vec<SessionView>,
}

async fn athlete(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<AthleteView>, ApiError> {
    let athlete = state.store.athlete(id)?.ok_or_else(|| ApiError::not_found("athlete"))?;
    let sessions = state
        .store
        .athlete_sessions(id)?
        .iter()
        .map(|session| session_view(&state, session))
        .collect::<Result<_, _>>()?;
    audit(&state, &user, "view", Some(id), None, "api: athlete");
    Ok(Json(AthleteView { athlete, sessions }))
}

async fn erase_athlete(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    super::pages::erase(&state, id, &user.name)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct Created {
    session_id: i64,
    job_id: i64,
    session_url: String,
}

async fn upload_session(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    state.store.athlete(id)?.ok_or_else(|| ApiError::not_found("athlete"))?;
    if declared_too_large(&headers, state.settings.max_upload_bytes) {
        upload::drain(multipart).await;
        return Err(UploadError::TooLarge {
            limit_mb: state.settings.max_upload_bytes / 1_000_000,
        }
        .into());
    }
    let upload = upload::receive(&state, multipart, None, None).await?;
    let (session_id, job_id) = upload::create_session(&state, &user.name, id, upload).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Created {
            session_id,
            job_id,
            session_url: format!("/api/v1/sessions/{session_id}"),
        }),
    ))
}

async fn session(
    State(state): State<Arc<AppState>>,
    ApiUser(_user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<SessionView>, ApiError> {
    let session = state.store.session(id)?.ok_or_else(|| ApiError::not_found("session"))?;
    Ok(Json(session_view(&state, &session)?))
}

async fn delete_session(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let session = state.store.session(id)?.ok_or_else(|| ApiError::not_found("session"))?;
    state.store.delete_session(id, &user.name)?;
    super::pages::remove_session_files(&state, &session);
    Ok(StatusCode::NO_CONTENT)
}

async fn reanalyse(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    Json(texts): Json<OptionTexts>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let session = state.store.session(id)?.ok_or_else(|| ApiError::not_found("session"))?;
    let options = ClipOptions::from_texts(&texts)
        .map_err(|error| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()))?;
    let json = serde_json::to_string(&options.texts())
        .map_err(|error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))?;
    let job_id = state.store.add_job(id, &json)?;
    state.wake.job_queued();
    audit(&state, &user, "reanalyse", Some(session.athlete_id), Some(id), "api");
    Ok((
        StatusCode::ACCEPTED,
        Json(Created {
            session_id: id,
            job_id,
            session_url: format!("/api/v1/sessions/{id}"),
        }),
    ))
}

async fn session_file(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Path((id, name)): Path<(i64, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let file = OutputFile::from_name(&name).ok_or_else(|| ApiError::not_found("file"))?;
    let session = state.store.session(id)?.ok_or_else(|| ApiError::not_found("session"))?;
    audit(
        &state,
        &user,
        "view",
        Some(session.athlete_id),
        Some(id),
        &format!("api: {}", file.name()),
    );
    serve_output(&state, &session, file, request)
        .await
        .map_err(|_| ApiError::not_found("file (the analysis may not have written it yet)"))
}
