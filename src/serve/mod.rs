//! `runform serve`: the clinic's web app, in the same binary. One process holds an embedded SQLite database and a
//! data folder ([`data`]); PTs log in from any browser on the clinic's network, record athletes and sessions,
//! upload clips, and see each report, its overlay video and each athlete's trends. A small JSON API ([`api`],
//! documented in `docs/api.md`) lets the clinic's other software do the same.
//!
//! The parts: [`store`] is the database (the only SQLite user), [`auth`] the accounts, tokens and CSRF, [`data`]
//! the folder layout, [`upload`] receives clips, [`jobs`] runs the analysis pipeline on them, [`pages`] and
//! [`api`] answer requests, [`export`] writes an athlete's zip, [`templates`] renders pages (minijinja, HTML
//! escaped by default). Everything stays on this machine: pages load nothing from elsewhere and the server makes
//! no outgoing request.

pub mod api;
pub mod auth;
pub mod data;
pub mod export;
pub mod jobs;
pub mod pages;
pub mod store;
pub mod templates;
pub mod upload;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use thiserror::Error;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::{Exit, HasExit};

use self::data::DataDir;
use self::store::{Store, StoreError};

/// The address `runform serve` listens on unless told otherwise: this machine only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The largest clip accepted by default, megabytes. A gait analysis needs 10–30 s of video; a phone's 4K 60 fps
/// clip of 30 s is about 400 MB, so 1 GB takes any sensible clip (even a couple of minutes of 4K) while a
/// mistaken upload — a whole film, a disk image — is refused before it fills the clinic PC's disk.
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 1024;

/// The pages' Content Security Policy: everything from this server only (no outside fonts, scripts or
/// trackers); inline styles for the reports' self-contained HTML and `data:` images for their stills.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; media-src 'self'; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'self'; form-action 'self'; \
     base-uri 'none'; connect-src 'self'";

/// Validated settings of `runform serve`.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    /// The data folder (database, clips, outputs).
    pub data_dir: PathBuf,
    /// Where to listen.
    pub bind: SocketAddr,
    /// Clips analysed at once.
    pub jobs: usize,
    /// The largest upload accepted, bytes.
    pub max_upload_bytes: u64,
}

/// `runform serve` or `runform user` could not start or finish.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The data folder cannot be created or written.
    #[error("{path}: the data folder cannot be used ({source}); give a folder this user can write with --data")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address cannot be listened on.
    #[error("cannot listen on {address} ({source}); is another runform serve running? Choose another with --bind")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A user command was refused.
    #[error("{0}")]
    User(String),
    /// Anything else.
    #[error("internal error: {0} (please report this)")]
    Internal(String),
}

impl HasExit for ServeError {
    fn exit(&self) -> Exit {
        match self {
            ServeError::DataDir { .. } | ServeError::Store(_) => Exit::OutputFailed,
            ServeError::Bind { .. } => Exit::ServeFailed,
            ServeError::User(_) => Exit::Usage,
            ServeError::Internal(_) => Exit::Internal,
        }
    }
}

/// What every request handler and worker shares.
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The data folder.
    pub data: DataDir,
    /// The settings the server was started with.
    pub settings: ServeSettings,
    /// Wakes the analysis workers.
    pub wake: jobs::Wake,
}

impl AppState {
    /// A pipeline message made for the user: the stored clip's internal path becomes the name it was uploaded
    /// with, and the data folder is not spelled out.
    pub fn user_words(&self, message: &str, session: &store::Session) -> String {
        let clip = self.data.clip(session.id, &session.clip_ext);
        message
            .replace(&clip.display().to_string(), &session.clip_name)
            .replace(&self.data.root().display().to_string(), "the data folder")
    }
}

/// The warning printed when the server listens beyond this machine.
pub fn bind_warning(address: &SocketAddr) -> Option<String> {
    (!address.ip().is_loopback()).then(|| {
        format!(
            "warning: listening on {address}, not only on this machine: anyone who can reach it over the network \
             gets the login page, and pages, clips and reports (patients' health data) cross the network \
             unencrypted (plain HTTP). Use the default 127.0.0.1 unless the clinic's network is trusted, or put a \
             TLS reverse proxy in front."
        )
    })
}

/// Opens the data folder and database (creating them on first run).
pub fn open(data_dir: &Path) -> Result<(DataDir, Store), ServeError> {
    let data = DataDir::create(data_dir).map_err(|source| ServeError::DataDir {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let store = Store::open(data_dir)?;
    Ok((data, store))
}

/// Runs the server until it is stopped (Ctrl-C or a signal); returns only on an error at start.
pub fn run(settings: ServeSettings) -> Result<(), ServeError> {
    let (data, store) = open(&settings.data_dir)?;
    let requeued = store.requeue_interrupted_jobs()?;
    let (sessions, jobs_known) = store.known_ids()?;
    let removed = data.remove_leftovers(&sessions, &jobs_known);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| ServeError::Internal(error.to_string()))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(settings.bind))
        .map_err(|source| ServeError::Bind {
            address: settings.bind,
            source,
        })?;
    let address = listener.local_addr().unwrap_or(settings.bind);
    let (wake, wake_receiver) = jobs::wake_channel();
    let job_count = settings.jobs;
    let state = Arc::new(AppState {
        store,
        data,
        settings,
        wake,
    });
    jobs::start(Arc::clone(&state), job_count, wake_receiver);
    println!(
        "runform serve: http://{address}/ (data in {}, {job_count} clip(s) analysed at once)",
        state.data.root().display()
    );
    if address.ip().is_loopback() {
        println!("runform serve: listening on this machine only (--bind 0.0.0.0:8080 to let other devices in)");
    }
    if let Some(warning) = bind_warning(&address) {
        eprintln!("runform serve: {warning}");
    }
    if requeued > 0 {
        println!("runform serve: {requeued} analysis(es) interrupted by the last stop are queued again");
    }
    if removed > 0 {
        println!("runform serve: removed {removed} leftover file(s) of interrupted uploads or deleted sessions");
    }
    let app = router(Arc::clone(&state));
    runtime
        .block_on(async {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
        })
        .map_err(|error| ServeError::Internal(error.to_string()))
}

/// Every route, with the security headers every response carries.
pub fn router(state: Arc<AppState>) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        // Uploads stream to disk under their own limit (upload.rs); the default 2 MB cap would refuse every clip.
        .layer(DefaultBodyLimit::disable())
        .layer(set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(header::X_FRAME_OPTIONS, "SAMEORIGIN"))
        .layer(set(header::CACHE_CONTROL, "no-store"))
        .with_state(state)
}

/// `runform user add`: creates an account in the data folder's database.
pub fn add_user(data_dir: &Path, name: &str, password: &str, is_admin: bool) -> Result<String, ServeError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(ServeError::User(format!(
            "'{name}' is not a user name: use 1 to 64 printable characters"
        )));
    }
    if password.chars().count() < auth::MIN_PASSWORD_CHARS {
        return Err(ServeError::User(format!(
            "the password is too short: use at least {} characters",
            auth::MIN_PASSWORD_CHARS
        )));
    }
    let (_, store) = open(data_dir)?;
    let hash = auth::hash_password(password).map_err(|error| ServeError::Internal(error.to_string()))?;
    match store.add_user(name, &hash, is_admin)? {
        Some(_) => {
            store.audit(
                "(command line)",
                "user_add",
                None,
                None,
                &format!("account {name}{}", if is_admin { " (admin)" } else { "" }),
            )?;
            Ok(format!(
                "added {}user {name} to {}",
                if is_admin { "admin " } else { "" },
                store.path().display()
            ))
        }
        None => Err(ServeError::User(format!(
            "there is already a user {name}; choose another name"
        ))),
    }
}

/// `runform user token`: creates an API token for an account and returns it (it is shown once, stored hashed).
pub fn add_api_token(data_dir: &Path, name: &str, label: &str) -> Result<String, ServeError> {
    let (_, store) = open(data_dir)?;
    let Some((user, _)) = store.user_with_hash(name.trim())? else {
        return Err(ServeError::User(format!(
            "there is no user {name}; add one with runform user add"
        )));
    };
    let token = auth::new_token();
    store.add_api_token(&auth::token_sha256(&token), user.id, label)?;
    store.audit(&user.name, "api_token", None, None, &format!("token '{label}' created"))?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_beyond_this_machine_get_a_warning() {
        assert!(bind_warning(&"127.0.0.1:8080".parse().expect("addr")).is_none());
        assert!(bind_warning(&"[::1]:8080".parse().expect("addr")).is_none());
        let warning = bind_warning(&"0.0.0.0:8080".parse().expect("addr")).expect("warns");
        assert!(warning.contains("unencrypted"), "{warning}");
    }

    #[test]
    fn user_names_and_passwords_are_checked() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(add_user(dir.path(), "pt", "short", false).is_err());
        assert!(add_user(dir.path(), "", "long enough", false).is_err());
        assert!(add_user(dir.path(), "pt", "long enough", true).is_ok());
        let again = add_user(dir.path(), "PT", "long enough", false).expect_err("taken");
        assert!(again.to_string().contains("already"), "{again}");
        assert!(add_api_token(dir.path(), "nobody", "x").is_err());
        assert_eq!(add_api_token(dir.path(), "pt", "x").expect("token").len(), 64);
    }
}
