//! The pages: login, athletes, an athlete's sessions and trends, the new-session form, a session's report, video
//! and downloads, comparison, export and erasure, and the admin's users and audit log. Every page but the login
//! needs a logged-in user; every form that changes something carries the login's CSRF token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Multipart, Path, Query, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::analysis::Thresholds;
use crate::compare;
use crate::options::{ClipOptions, OptionTexts};
use crate::visual;

use super::data::OutputFile;
use super::jobs::Headline;
use super::store::{Job, Session, User, now_s};
use super::templates::{PageError, render, trend_points};
use super::upload::{self, UploadError};
use super::{AppState, auth, export};

/// The most athletes the list shows at once (a search narrows it).
const ATHLETE_LIST_LIMIT: i64 = 500;

/// Audit entries the audit page shows.
const AUDIT_PAGE_ENTRIES: i64 = 500;

type AppRouter = Router<Arc<AppState>>;

/// The page routes.
pub fn routes() -> AppRouter {
    Router::new()
        .route("/", get(|| async { Redirect::to("/athletes") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/athletes", get(athletes_page).post(add_athlete))
        .route("/athletes/{id}", get(athlete_page))
        .route("/athletes/{id}/new-session", get(new_session_page))
        .route("/athletes/{id}/sessions", post(upload_session))
        .route("/athletes/{id}/compare", get(compare_page))
        .route("/athletes/{id}/compare.html", get(compare_html))
        .route("/athletes/{id}/export", post(export_athlete))
        .route("/athletes/{id}/erase", post(erase_athlete))
        .route("/sessions/{id}", get(session_page))
        .route("/sessions/{id}/status", get(session_status))
        .route("/sessions/{id}/files/{name}", get(session_file))
        .route("/sessions/{id}/reanalyse", post(reanalyse))
        .route("/sessions/{id}/delete", post(delete_session))
        .route("/account", get(account_page))
        .route("/account/tokens", post(add_token))
        .route("/admin/users", get(users_page).post(add_user))
        .route("/admin/users/{id}/delete", post(delete_user))
        .route("/admin/audit", get(audit_page))
        .route("/static/app.js", get(app_js))
        .route("/static/style.css", get(style_css))
}

async fn app_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/app.js"),
    )
        .into_response()
}

async fn style_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/style.css"),
    )
        .into_response()
}

/// Today's date (UTC), YYYY-MM-DD: the new-session form's default (the page's script replaces it with the
/// browser's own date).
pub fn today() -> String {
    date_of(now_s())
}

/// The UTC calendar date of a Unix time (Howard Hinnant's `civil_from_days`,
/// <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn date_of(unix_s: i64) -> String {
    let (y, m, d) = civil_from_days(unix_s.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn date_time_of(unix_s: i64) -> String {
    let seconds = unix_s.rem_euclid(86_400);
    format!("{} {:02}:{:02}", date_of(unix_s), seconds / 3600, (seconds % 3600) / 60)
}

// Who is asking ---------------------------------------------------------------------------------------------------

/// A logged-in browser user, from the session cookie. Without one, pages redirect to the login and other
/// requests get 401.
pub struct PageUser {
    /// The account.
    pub user: User,
    /// The login's CSRF token.
    pub csrf: String,
    token_sha256: String,
}

impl PageUser {
    fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), PageError> {
        match form.get("csrf") {
            Some(token) if auth::same_secret(token, &self.csrf) => Ok(()),
            _ => Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this site; reload the page and try again.",
            )),
        }
    }

    fn require_admin(&self) -> Result<(), PageError> {
        if self.user.is_admin {
            Ok(())
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Only an admin can manage users and read the audit log.",
            ))
        }
    }
}

impl FromRequestParts<Arc<AppState>> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<PageUser, Response> {
        let session = auth::session_token(&parts.headers).and_then(|token| {
            let token_sha256 = auth::token_sha256(&token);
            state
                .store
                .login_session(&token_sha256)
                .ok()
                .flatten()
                .map(|session| (session, token_sha256))
        });
        match session {
            Some((session, token_sha256)) => Ok(PageUser {
                user: session.user,
                csrf: session.csrf_token,
                token_sha256,
            }),
            None if parts.method == axum::http::Method::GET && accepts_html(&parts.headers) => {
                let next = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
                Err(Redirect::to(&format!("/login?next={}", percent_encode(next))).into_response())
            }
            None => Err((
                StatusCode::UNAUTHORIZED,
                Html("Log in first: <a href=\"/login\">log in</a>."),
            )
                .into_response()),
        }
    }
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_none_or(|accept| accept.contains("text/html") || accept.contains("*/*"))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where to go after logging in: only a path on this site (never `//elsewhere` or a full URL).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/athletes"
    }
}

#[derive(Serialize)]
struct Base<'a> {
    user: &'a User,
    csrf: &'a str,
}

fn base(user: &PageUser) -> Base<'_> {
    Base {
        user: &user.user,
        csrf: &user.csrf,
    }
}

fn audit(state: &AppState, user: &PageUser, action: &str, athlete: Option<i64>, session: Option<i64>, detail: &str) {
    // Best effort: a failed audit write is reported on the console; it does not refuse the page.
    if let Err(error) = state.store.audit(&user.user.name, action, athlete, session, detail) {
        eprintln!("runform serve: audit entry not written: {error}");
    }
}

// Login -----------------------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginQuery {
    next: String,
}

#[derive(Serialize)]
struct LoginPage<'a> {
    user: Option<()>,
    next: &'a str,
    name: &'a str,
    message: Option<String>,
}

async fn login_page(Query(query): Query<LoginQuery>) -> Result<Html<String>, PageError> {
    render(
        "login.html",
        &LoginPage {
            user: None,
            next: safe_next(&query.next),
            name: "",
            message: None,
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let name = form.name.trim().to_owned();
    let refuse = |status: StatusCode, message: String, retry_after: Option<i64>| -> Result<Response, PageError> {
        let page = render(
            "login.html",
            &LoginPage {
                user: None,
                next: safe_next(&form.next),
                name: &name,
                message: Some(message),
            },
        )?;
        let mut response = (status, page).into_response();
        if let Some(seconds) = retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        Ok(response)
    };
    let now = now_s();
    let (failures, last_failure) = state.store.login_failures_since(&name, now - auth::FAILURE_WINDOW_S)?;
    let wait_s = auth::login_wait_s(failures, last_failure, now);
    if wait_s > 0 {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed logins for this account: wait {wait_s} seconds, then try again."),
            Some(wait_s),
        );
    }
    let account = state.store.user_with_hash(&name)?;
    let password = form.password.clone();
    let (user, hash) = match account {
        Some((user, hash)) => (Some(user), hash),
        None => (None, auth::dummy_hash().to_owned()),
    };
    let verified = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(PageError::internal)?;
    let Some(user) = user.filter(|_| verified) else {
        state.store.add_login_failure(&name)?;
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Wrong user name or password.".to_owned(),
            None,
        );
    };
    state.store.clear_login_failures(&name)?;
    let token = auth::new_token();
    state.store.add_login_session(
        &auth::token_sha256(&token),
        user.id,
        &auth::new_token(),
        auth::SESSION_LIFETIME,
    )?;
    let _ = state.store.audit(&user.name, "login", None, None, "");
    let mut response = Redirect::to(safe_next(&form.next)).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::session_cookie(&token, auth::behind_https(&headers))) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn logout(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    user.check_csrf(&form)?;
    state.store.delete_login_session(&user.token_sha256)?;
    audit(&state, &user, "logout", None, None, "");
    let mut response = Redirect::to("/login").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::cleared_cookie(auth::behind_https(&headers))) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

// Athletes --------------------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    q: String,
}

async fn athletes_page(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Query(query): Query<SearchQuery>,
) -> Result<Html<String>, PageError> {
    let search = query.q.trim();
    let athletes = state.store.athletes(search, ATHLETE_LIST_LIMIT + 1)?;
    let more = athletes.len() as i64 > ATHLETE_LIST_LIMIT;
    let shown: Vec<_> = athletes.into_iter().take(ATHLETE_LIST_LIMIT as usize).collect();
    let total = if more {
        state.store.athlete_count()?
    } else {
        shown.len() as i64
    };
    #[derive(Serialize)]
    struct Page<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        q: &'a str,
        athletes: Vec<super::store::Athlete>,
        more: bool,
        total: i64,
    }
    render(
        "athletes.html",
        &Page {
            base: base(&user),
            q: search,
            athletes: shown,
            more,
            total,
        },
    )
}

async fn add_athlete(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    user.check_csrf(&form)?;
    let name = form.get("name").map_or("", |n| n.trim());
    if name.is_empty() || name.chars().count() > 200 {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Give the athlete a name or code of 1 to 200 characters.",
        ));
    }
    let height_cm = match form.get("height_cm").map_or("", |h| h.trim()) {
        "" => None,
        text => Some(
            crate::options::parse_height_cm(text)
                .map_err(|reason| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("Height: {reason}.")))?,
        ),
    };
    let id = state.store.add_athlete(name, height_cm)?;
    audit(&state, &user, "athlete_add", Some(id), None, "");
    Ok(Redirect::to(&format!("/athletes/{id}")).into_response())
}

/// One session as a row of the athlete page.
#[derive(Serialize)]
struct SessionRow {
    id: i64,
    date: String,
    status: String,
    values: Vec<String>,
    flags: Vec<String>,
    has_report: bool,
}

#[derive(Serialize)]
struct Trend {
    label: String,
    points: String,
    latest: String,
}

fn headline_of(session: &Session) -> Option<Headline> {
    session
        .headline_json
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
}

fn short_status(job: Option<&Job>) -> String {
    match job {
        None => "no analysis".to_owned(),
        Some(job) => match job.state.as_str() {
            "queued" => "queued".to_owned(),
            "running" if job.report_ready => "making the video".to_owned(),
            "running" if job.frames_total > 0 => {
                format!("analysing {}%", 100 * job.frames_done / job.frames_total.max(1))
            }
            "running" => "analysing".to_owned(),
            "failed" => "failed".to_owned(),
            _ => "done".to_owned(),
        },
    }
}

fn format_value(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

async fn athlete_page(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let athlete = state.store.athlete(id)?.ok_or_else(PageError::not_found)?;
    let sessions = state.store.athlete_sessions(id)?;
    let headlines: Vec<Option<Headline>> = sessions.iter().map(headline_of).collect();
    let labels: Vec<String> = crate::analyze::HEADLINE_METRICS
        .iter()
        .map(|(_, label, unit)| format!("{label} ({unit})"))
        .collect();
    let value_at = |headline: &Option<Headline>, index: usize| {
        headline
            .as_ref()
            .and_then(|h| h.metrics.get(index))
            .and_then(|m| m.value)
    };
    let rows = sessions
        .iter()
        .zip(&headlines)
        .map(|(session, headline)| SessionRow {
            id: session.id,
            date: session.session_date.clone(),
            status: short_status(session.latest_job.as_ref()),
            values: (0..labels.len())
                .map(|index| format_value(value_at(headline, index)))
                .collect(),
            flags: headline.as_ref().map(|h| h.flags.clone()).unwrap_or_default(),
            has_report: session.shown_job_id.is_some(),
        })
        .collect::<Vec<_>>();
    let trends = if sessions.is_empty() {
        Vec::new()
    } else {
        labels
            .iter()
            .enumerate()
            .filter_map(|(index, label)| {
                let values: Vec<Option<f64>> = headlines.iter().map(|h| value_at(h, index)).collect();
                let latest = values.iter().rev().find_map(|v| *v)?;
                Some(Trend {
                    label: label.clone(),
                    points: trend_points(&values),
                    latest: format!("{latest:.1}"),
                })
            })
            .collect()
    };
    #[derive(Serialize)]
    struct Page<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        athlete: super::store::Athlete,
        sessions: &'a [Session],
        rows: Vec<SessionRow>,
        trends: Vec<Trend>,
        headline_labels: Vec<String>,
    }
    audit(&state, &user, "view", Some(id), None, "athlete page");
    render(
        "athlete.html",
        &Page {
            base: base(&user),
            athlete,
            sessions: &sessions,
            rows,
            trends,
            headline_labels: labels,
        },
    )
}

#[derive(Serialize)]
struct NewSessionPage<'a> {
    #[serde(flatten)]
    base: Base<'a>,
    athlete: super::store::Athlete,
    today: String,
    session_date: String,
    fields: OptionTexts,
    notes: String,
    message: Option<String>,
    max_upload_mb: u64,
}

async fn new_session_page(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let athlete = state.store.athlete(id)?.ok_or_else(PageError::not_found)?;
    let fields = OptionTexts {
        height_cm: athlete.height_cm.map(|h| format!("{h}")).unwrap_or_default(),
        ..OptionTexts::default()
    };
    render(
        "new_session.html",
        &NewSessionPage {
            base: base(&user),
            athlete,
            today: today(),
            session_date: String::new(),
            fields,
            notes: String::new(),
            message: None,
            max_upload_mb: state.settings.max_upload_bytes / 1_000_000,
        },
    )
}

/// Refuses a request whose declared size is already over the upload limit, before reading any of it.
pub fn declared_too_large(headers: &HeaderMap, limit_bytes: u64) -> bool {
    /// Room for the form's other fields and the multipart boundaries.
    const FORM_OVERHEAD_BYTES: u64 = 1_000_000;
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .is_some_and(|length| length > limit_bytes + FORM_OVERHEAD_BYTES)
}

async fn upload_session(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let athlete = state.store.athlete(id)?.ok_or_else(PageError::not_found)?;
    let refused = |error: UploadError, fields: Option<&HashMap<String, String>>| -> Result<Response, PageError> {
        let get = |name: &str| fields.and_then(|f| f.get(name)).cloned().unwrap_or_default();
        let page = render(
            "new_session.html",
            &NewSessionPage {
                base: base(&user),
                athlete: athlete.clone(),
                today: today(),
                session_date: get("session_date"),
                fields: OptionTexts {
                    view: get("view"),
                    height_cm: get("height_cm"),
                    speed: get("speed"),
                    ..OptionTexts::default()
                },
                notes: get("notes"),
                message: Some(error.message()),
                max_upload_mb: state.settings.max_upload_bytes / 1_000_000,
            },
        )?;
        Ok((error.status(), page).into_response())
    };
    if declared_too_large(&headers, state.settings.max_upload_bytes) {
        upload::drain(multipart).await;
        return refused(
            UploadError::TooLarge {
                limit_mb: state.settings.max_upload_bytes / 1_000_000,
            },
            None,
        );
    }
    let header_csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    let upload = match upload::receive(&state, multipart, Some(&user.csrf), header_csrf).await {
        Ok(upload) => upload,
        Err(UploadError::Csrf) => {
            return Err(PageError::new(StatusCode::FORBIDDEN, UploadError::Csrf.message()));
        }
        Err(error) => return refused(error, None),
    };
    let fields = upload.fields.clone();
    match upload::create_session(&state, &user.user.name, id, upload).await {
        Ok((session_id, _)) => Ok(Redirect::to(&format!("/sessions/{session_id}")).into_response()),
        Err(error) => refused(error, Some(&fields)),
    }
}

// Sessions --------------------------------------------------------------------------------------------------------

/// A job's state in one sentence.
pub fn status_text(job: Option<&Job>) -> String {
    match job {
        None => "Not analysed.".to_owned(),
        Some(job) => match job.state.as_str() {
            "queued" => "Queued: the analysis starts when a worker is free.".to_owned(),
            "running" if job.report_ready => "The report is ready; the overlay video is being made.".to_owned(),
            "running" if job.frames_total > 0 => {
                format!("Analysing: {} of {} frames.", job.frames_done, job.frames_total)
            }
            "running" => "Analysing: opening the clip.".to_owned(),
            "failed" => format!("Failed: {}", job.error.as_deref().unwrap_or("unknown reason")),
            _ => "Done.".to_owned(),
        },
    }
}

async fn session_page(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let session = state.store.session(id)?.ok_or_else(PageError::not_found)?;
    let job = session.latest_job.clone();
    let shown_job = match session.shown_job_id {
        Some(job_id) => state.store.job(job_id)?,
        None => None,
    };
    let options: OptionTexts = job
        .as_ref()
        .and_then(|job| serde_json::from_str(&job.options_json).ok())
        .unwrap_or_default();
    let overlay_ready = shown_job.as_ref().is_some_and(|job| job.overlay_ready);
    let downloads: Vec<&str> = OutputFile::ALL
        .iter()
        .filter(|file| **file != OutputFile::Overlay || overlay_ready)
        .map(|file| file.name())
        .collect();
    #[derive(Serialize)]
    struct Page<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        session: &'a Session,
        job: Option<Job>,
        shown: bool,
        headline: Option<Headline>,
        overlay_ready: bool,
        downloads: Vec<&'a str>,
        options: OptionTexts,
        status_text: String,
        clip_mb: String,
        build_note: Option<String>,
    }
    let headline = headline_of(&session);
    audit(
        &state,
        &user,
        "view",
        Some(session.athlete_id),
        Some(id),
        "session page",
    );
    render(
        "session.html",
        &Page {
            base: base(&user),
            session: &session,
            status_text: status_text(job.as_ref()),
            job,
            shown: shown_job.is_some(),
            build_note: headline.as_ref().and_then(Headline::other_build_note),
            headline,
            overlay_ready,
            downloads,
            options,
            clip_mb: format!("{:.1}", session.clip_bytes as f64 / 1e6),
        },
    )
}

/// A session's analysis state as JSON (the session page polls it; the API answers the same).
#[derive(Serialize)]
pub struct SessionStatus {
    /// queued, running, done or failed.
    pub state: String,
    /// Frames through the pose stage.
    pub frames_done: i64,
    /// Frames in the clip.
    pub frames_total: i64,
    /// The latest analysis's report is written.
    pub report_ready: bool,
    /// Its overlay video is written.
    pub overlay_ready: bool,
    /// The failure's one sentence.
    pub error: Option<String>,
    /// The state in words.
    pub status_text: String,
}

impl SessionStatus {
    /// The status of a session's latest job.
    pub fn of(session: &Session) -> SessionStatus {
        let job = session.latest_job.as_ref();
        SessionStatus {
            state: job.map_or_else(|| "none".to_owned(), |job| job.state.clone()),
            frames_done: job.map_or(0, |job| job.frames_done),
            frames_total: job.map_or(0, |job| job.frames_total),
            report_ready: job.is_some_and(|job| job.report_ready),
            overlay_ready: job.is_some_and(|job| job.overlay_ready),
            error: job.and_then(|job| job.error.clone()),
            status_text: status_text(job),
        }
    }
}

async fn session_status(
    State(state): State<Arc<AppState>>,
    _user: PageUser,
    Path(id): Path<i64>,
) -> Result<Json<SessionStatus>, PageError> {
    let session = state.store.session(id)?.ok_or_else(PageError::not_found)?;
    Ok(Json(SessionStatus::of(&session)))
}

/// Serves one output of a session's shown analysis, with range requests (the video seeks).
pub async fn serve_output(
    state: &AppState,
    session: &Session,
    file: OutputFile,
    request: Request,
) -> Result<Response, PageError> {
    let job_id = session.shown_job_id.ok_or_else(PageError::not_found)?;
    if file == OutputFile::Overlay && !state.store.job(job_id)?.is_some_and(|job| job.overlay_ready) {
        return Err(PageError::not_found());
    }
    let path = state.data.job_outputs(session.id, job_id).join(file.name());
    let mut response = ServeFile::new(&path)
        .oneshot(request)
        .await
        .map_err(PageError::internal)?
        .into_response();
    if response.status() == StatusCode::NOT_FOUND {
        return Err(PageError::not_found());
    }
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type()));
    if file == OutputFile::Overlay {
        // The video may be cached by the browser while it seeks; it only changes with a new analysis (new URL
        // contents are then re-fetched because the page reloads).
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
    }
    Ok(response)
}

async fn session_file(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path((id, name)): Path<(i64, String)>,
    request: Request,
) -> Result<Response, PageError> {
    let file = OutputFile::from_name(&name).ok_or_else(PageError::not_found)?;
    let session = state.store.session(id)?.ok_or_else(PageError::not_found)?;
    // A video is fetched in many ranges as it plays; one audit entry per download of the other files.
    if file != OutputFile::Overlay || !request.headers().contains_key(header::RANGE) {
        audit(&state, &user, "view", Some(session.athlete_id), Some(id), file.name());
    }
    serve_output(&state, &session, file, request).await
}

async fn reanalyse(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    user.check_csrf(&form)?;
    let session = state.store.session(id)?.ok_or_else(PageError::not_found)?;
    let options: ClipOptions =
        upload::options_from_fields(&form).map_err(|error| PageError::new(error.status(), error.message()))?;
    let json = serde_json::to_string(&options.texts()).map_err(PageError::internal)?;
    state.store.add_job(id, &json)?;
    state.wake.job_queued();
    audit(&state, &user, "reanalyse", Some(session.athlete_id), Some(id), "");
    Ok(Redirect::to(&format!("/sessions/{id}")).into_response())
}

/// Removes a session's clip and outputs (after its rows are gone).
pub fn remove_session_files(state: &AppState, session: &Session) {
    // Best effort: what cannot be removed now is removed at the next start (no row points at it).
    let _ = std::fs::remove_file(state.data.clip(session.id, &session.clip_ext));
    let _ = std::fs::remove_dir_all(state.data.session_outputs(session.id));
}

async fn delete_session(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    user.check_csrf(&form)?;
    let session = state.store.session(id)?.ok_or_else(PageError::not_found)?;
    let athlete = state
        .store
        .delete_session(id, &user.user.name)?
        .ok_or_else(PageError::not_found)?;
    remove_session_files(&state, &session);
    Ok(Redirect::to(&format!("/athletes/{athlete}")).into_response())
}

// Compare, export, erase ------------------------------------------------------------------------------------------

fn chosen_sessions(query: Option<&str>) -> Vec<i64> {
    query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("s="))
        .filter_map(|id| id.parse().ok())
        .collect()
}

async fn compare_page(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, PageError> {
    let athlete = state.store.athlete(id)?.ok_or_else(PageError::not_found)?;
    let chosen = chosen_sessions(query.as_deref());
    if chosen.len() < 2 {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Tick at least two analysed sessions to compare them.",
        ));
    }
    let query = chosen.iter().map(|s| format!("s={s}")).collect::<Vec<_>>().join("&");
    #[derive(Serialize)]
    struct Page<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        athlete: super::store::Athlete,
        query: String,
    }
    render(
        "compare.html",
        &Page {
            base: base(&user),
            athlete,
            query,
        },
    )
}

/// The comparison of some of an athlete's sessions as runform compare's own HTML page.
pub fn comparison_html(state: &AppState, athlete_id: i64, chosen: &[i64]) -> Result<String, PageError> {
    let mut texts = Vec::new();
    for session in state.store.athlete_sessions(athlete_id)? {
        if !chosen.contains(&session.id) {
            continue;
        }
        let Some(job_id) = session.shown_job_id else { continue };
        let path = state
            .data
            .job_outputs(session.id, job_id)
            .join(OutputFile::ReportJson.name());
        let bytes = std::fs::read(&path).map_err(PageError::internal)?;
        texts.push((std::path::PathBuf::from(format!("session {}", session.id)), bytes));
    }
    let comparison = compare::compare_report_texts(&texts)
        .map_err(|error| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("{error}.")))?;
    Ok(visual::render_compare_html(
        "Sessions compared",
        &comparison.html_sessions(),
        &Thresholds::default(),
    ))
}

async fn compare_html(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, PageError> {
    state.store.athlete(id)?.ok_or_else(PageError::not_found)?;
    let chosen = chosen_sessions(query.as_deref());
    let html = comparison_html(&state, id, &chosen)?;
    audit(
        &state,
        &user,
        "view",
        Some(id),
        None,
        &format!("comparison of sessions {chosen:?}"),
    );
    Ok(Html(html))
}

async fn export_athlete(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    user.check_csrf(&form)?;
    state.store.athlete(id)?.ok_or_else(PageError::not_found)?;
    audit(&state, &user, "export", Some(id), None, "zip of every session");
    export::athlete_zip_response(&state, id).await
}

async fn erase_athlete(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    user.check_csrf(&form)?;
    erase(&state, id, &user.user.name)?;
    Ok(Redirect::to("/athletes").into_response())
}

/// Erases an athlete: rows, clips and outputs; the audit log keeps one entry without personal data.
pub fn erase(state: &AppState, athlete_id: i64, user_name: &str) -> Result<(), PageError> {
    let sessions = state.store.athlete_sessions(athlete_id)?;
    state
        .store
        .erase_athlete(athlete_id, user_name)?
        .ok_or_else(PageError::not_found)?;
    for session in &sessions {
        remove_session_files(state, session);
    }
    Ok(())
}

// Account and admin -----------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct AccountPage<'a> {
    #[serde(flatten)]
    base: Base<'a>,
    token: Option<String>,
}

async fn account_page(user: PageUser) -> Result<Html<String>, PageError> {
    render(
        "account.html",
        &AccountPage {
            base: base(&user),
            token: None,
        },
    )
}

async fn add_token(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    user.check_csrf(&form)?;
    let label = form.get("label").map_or("", |l| l.trim());
    let token = auth::new_token();
    state
        .store
        .add_api_token(&auth::token_sha256(&token), user.user.id, label)?;
    audit(&state, &user, "api_token", None, None, "token created");
    render(
        "account.html",
        &AccountPage {
            base: base(&user),
            token: Some(token),
        },
    )
}

async fn users_page(State(state): State<Arc<AppState>>, user: PageUser) -> Result<Html<String>, PageError> {
    user.require_admin()?;
    users_page_with(&state, &user, None)
}

fn users_page_with(state: &AppState, user: &PageUser, message: Option<String>) -> Result<Html<String>, PageError> {
    #[derive(Serialize)]
    struct Page<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        users: Vec<User>,
        message: Option<String>,
    }
    render(
        "users.html",
        &Page {
            base: base(user),
            users: state.store.users()?,
            message,
        },
    )
}

async fn add_user(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    user.check_csrf(&form)?;
    user.require_admin()?;
    let name = form.get("name").map_or("", |n| n.trim()).to_owned();
    let password = form.get("password").cloned().unwrap_or_default();
    let is_admin = form.get("admin").is_some_and(|v| v == "true");
    let data_dir = state.data.root().to_path_buf();
    let added = tokio::task::spawn_blocking(move || super::add_user(&data_dir, &name, &password, is_admin))
        .await
        .map_err(PageError::internal)?;
    match added {
        Ok(_) => {
            audit(&state, &user, "user_add", None, None, "account added");
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(error) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            users_page_with(&state, &user, Some(error.to_string()))?,
        )
            .into_response()),
    }
}

async fn delete_user(
    State(state): State<Arc<AppState>>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    user.check_csrf(&form)?;
    user.require_admin()?;
    if id == user.user.id {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "You cannot remove your own account.",
        ));
    }
    if let Some(name) = state.store.delete_user(id)? {
        audit(
            &state,
            &user,
            "user_delete",
            None,
            None,
            &format!("account {name} removed"),
        );
    }
    Ok(Redirect::to("/admin/users").into_response())
}

async fn audit_page(State(state): State<Arc<AppState>>, user: PageUser) -> Result<Html<String>, PageError> {
    user.require_admin()?;
    #[derive(Serialize)]
    struct Entry {
        when: String,
        #[serde(flatten)]
        entry: super::store::AuditEntry,
    }
    #[derive(Serialize)]
    struct Page<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        entries: Vec<Entry>,
    }
    let entries = state
        .store
        .audit_entries(AUDIT_PAGE_ENTRIES)?
        .into_iter()
        .map(|entry| Entry {
            when: date_time_of(entry.at),
            entry,
        })
        .collect();
    render(
        "audit.html",
        &Page {
            base: base(&user),
            entries,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400), "2000-02-29");
        assert_eq!(date_of(1_798_675_200), "2026-12-31");
        assert_eq!(date_time_of(1_798_675_200 + 3_723), "2026-12-31 01:02");
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next("/sessions/3"), "/sessions/3");
        for bad in ["//evil.example/", "https://evil.example/", "", "/\\evil"] {
            assert_eq!(safe_next(bad), "/athletes", "{bad}");
        }
    }

    #[test]
    fn chosen_sessions_are_integers_only() {
        assert_eq!(chosen_sessions(Some("s=3&s=x&t=4&s=12")), vec![3, 12]);
        assert!(chosen_sessions(None).is_empty());
    }
}
