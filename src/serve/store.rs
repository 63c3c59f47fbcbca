//! The web app's database: one SQLite file (bundled SQLite, WAL journal) in the data folder, and the only user of
//! rusqlite. It owns the schema and its versioned migrations, and every query the app makes.
//!
//! One connection serves the whole process behind a mutex: every query here takes well under a millisecond, so
//! queueing them costs nothing measurable and the process can never see "database is locked" from itself. WAL and
//! a busy timeout cover the other writer there may be, `runform user add` run while the server is up.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use thiserror::Error;

/// The database file's name inside the data folder.
pub const DATABASE_FILE: &str = "runform.sqlite3";

/// How long a query waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Times a job may be started (a crash mid-analysis re-queues it) before it is marked failed, so that a clip that
/// crashes the server cannot do so forever.
pub const MAX_JOB_ATTEMPTS: i64 = 3;

/// The schema, one migration per version; `PRAGMA user_version` records how many have run. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: accounts, athletes, sessions, the job queue and the audit log.
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE login_sessions (
        token_sha256 TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE api_tokens (
        token_sha256 TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE login_failures (
        name TEXT NOT NULL COLLATE NOCASE,
        at INTEGER NOT NULL
    );
    CREATE INDEX login_failures_by_name ON login_failures(name, at);
    CREATE TABLE athletes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        height_cm REAL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX athletes_by_name ON athletes(name COLLATE NOCASE);
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        session_date TEXT NOT NULL,
        notes TEXT NOT NULL DEFAULT '',
        clip_name TEXT NOT NULL,
        clip_ext TEXT NOT NULL,
        clip_bytes INTEGER NOT NULL,
        clip_sha256 TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        shown_job_id INTEGER,
        headline_json TEXT
    );
    CREATE INDEX sessions_by_athlete ON sessions(athlete_id, session_date);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        options_json TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        frames_done INTEGER NOT NULL DEFAULT 0,
        frames_total INTEGER NOT NULL DEFAULT 0,
        report_ready INTEGER NOT NULL DEFAULT 0,
        overlay_ready INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        queued_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
    );
    CREATE INDEX jobs_by_state ON jobs(state, id);
    CREATE INDEX jobs_by_session ON jobs(session_id, id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        user_name TEXT NOT NULL,
        action TEXT NOT NULL,
        athlete_id INTEGER,
        session_id INTEGER,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_by_athlete ON audit(athlete_id);",
];

/// A database failure, with the file it concerns.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database cannot be written (a read-only file or folder, a read-only disk).
    #[error(
        "{path}: the database cannot be written ({reason}); runform serve needs to write it: check the file's and \
         its folder's permissions and that the disk is not read-only or full"
    )]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// SQLite's words.
        reason: String,
    },
    /// The database was made by a newer runform.
    #[error("{path}: the database is from a newer runform (schema {found}, this one knows {known}); upgrade runform")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The connection's lock was poisoned by a panic elsewhere.
    #[error("database error: a worker failed while holding the database")]
    Poisoned,
}

/// Seconds since 1970, the timestamps stored.
pub fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// An account.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Whether the account manages users.
    pub is_admin: bool,
}

/// A logged-in browser session.
#[derive(Clone, Debug)]
pub struct LoginSession {
    /// Whose.
    pub user: User,
    /// The token every form of this session must carry.
    pub csrf_token: String,
}

/// An athlete with a count of sessions (the list page).
#[derive(Clone, Debug, Serialize)]
pub struct Athlete {
    /// Row id.
    pub id: i64,
    /// Name as typed.
    pub name: String,
    /// Last height given, centimetres.
    pub height_cm: Option<f64>,
    /// Sessions recorded.
    pub session_count: i64,
    /// Date of the latest session.
    pub last_session: Option<String>,
}

/// One recorded session with the state of its latest analysis.
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    /// Row id.
    pub id: i64,
    /// Whose.
    pub athlete_id: i64,
    /// The athlete's name.
    pub athlete_name: String,
    /// YYYY-MM-DD.
    pub session_date: String,
    /// Free text.
    pub notes: String,
    /// The file name the clip was uploaded with (display only; never used as a path).
    pub clip_name: String,
    /// The stored clip's extension (one of `batch::CLIP_EXTENSIONS`).
    pub clip_ext: String,
    /// The clip's size, bytes.
    pub clip_bytes: i64,
    /// The clip's SHA-256, hashed as it arrived.
    pub clip_sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// The job whose outputs are shown (the latest with a report).
    pub shown_job_id: Option<i64>,
    /// Headline numbers and flags of the shown report (JSON, see `jobs::Headline`).
    pub headline_json: Option<String>,
    /// The latest job.
    pub latest_job: Option<Job>,
}

/// One analysis of a session's clip.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// Which session.
    pub session_id: i64,
    /// The analysis options as text fields (`options::OptionTexts` JSON).
    pub options_json: String,
    /// queued, running, done or failed.
    pub state: String,
    /// Starts so far.
    pub attempts: i64,
    /// Frames through the pose stage.
    pub frames_done: i64,
    /// Frames in the clip (as its header says).
    pub frames_total: i64,
    /// The report is written.
    pub report_ready: bool,
    /// The overlay video is written.
    pub overlay_ready: bool,
    /// The one-sentence reason of a failure.
    pub error: Option<String>,
}

/// One audit entry.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    /// Seconds since 1970.
    pub at: i64,
    /// Who.
    pub user_name: String,
    /// What (`upload`, `view`, `export`, `erase`, …).
    pub action: String,
    /// Which athlete, by id.
    pub athlete_id: Option<i64>,
    /// Which session, by id.
    pub session_id: Option<i64>,
    /// More, never personal data.
    pub detail: String,
}

/// What a new session records.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    /// Whose.
    pub athlete_id: i64,
    /// YYYY-MM-DD.
    pub session_date: &'a str,
    /// Free text.
    pub notes: &'a str,
    /// The uploaded file's name, for display.
    pub clip_name: &'a str,
    /// The stored extension.
    pub clip_ext: &'a str,
    /// Bytes.
    pub clip_bytes: i64,
    /// SHA-256.
    pub clip_sha256: &'a str,
    /// Who uploaded it.
    pub uploaded_by: &'a str,
    /// The first job's options (`OptionTexts` JSON).
    pub options_json: &'a str,
    /// The height to remember for the athlete.
    pub height_cm: Option<f64>,
}

/// The database.
pub struct Store {
    path: PathBuf,
    connection: Mutex<Connection>,
}

const JOB_COLUMNS: &str = "id, session_id, options_json, state, attempts, frames_done, frames_total, report_ready, \
                           overlay_ready, error";

fn job_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: row.get(0)?,
        session_id: row.get(1)?,
        options_json: row.get(2)?,
        state: row.get(3)?,
        attempts: row.get(4)?,
        frames_done: row.get(5)?,
        frames_total: row.get(6)?,
        report_ready: row.get(7)?,
        overlay_ready: row.get(8)?,
        error: row.get(9)?,
    })
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, checks it can be written, and migrates it.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        let read_only = |error: rusqlite::Error| match &error {
            rusqlite::Error::SqliteFailure(code, message)
                if matches!(
                    code.code,
                    rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::DiskFull
                ) =>
            {
                StoreError::ReadOnly {
                    path: path.clone(),
                    reason: message.clone().unwrap_or_else(|| code.to_string()),
                }
            }
            _ => StoreError::Sqlite(error),
        };
        let mut connection = Connection::open(&path).map_err(read_only)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(read_only)?;
        // WAL lets readers go on while a writer commits; it is also the first write, so a read-only file or
        // folder is found here, at start, rather than at the first upload.
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(read_only)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::ReadOnly {
                path,
                reason: format!("SQLite kept the {mode} journal"),
            });
        }
        connection
            // secure_delete: deleted rows are overwritten, so an erased athlete does not linger in free pages.
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;")
            .map_err(read_only)?;
        let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path,
                found: version,
                known,
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(read_only)?;
            transaction.execute_batch(migration).map_err(read_only)?;
            transaction
                .pragma_update(None, "user_version", index as i64 + 1)
                .map_err(read_only)?;
            transaction.commit().map_err(read_only)?;
        }
        // A write that changes nothing: proves the file is writable even when there was nothing to migrate.
        connection
            .execute("DELETE FROM login_sessions WHERE expires_at < ?1", [now_s()])
            .map_err(read_only)?;
        Ok(Store {
            path,
            connection: Mutex::new(connection),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.connection.lock().map_err(|_| StoreError::Poisoned)
    }

    // Accounts --------------------------------------------------------------------------------------------------

    /// Adds an account; `Ok(None)` when the name is taken.
    pub fn add_user(&self, name: &str, password_hash: &str, is_admin: bool) -> Result<Option<i64>, StoreError> {
        let db = self.lock()?;
        let inserted = db.execute(
            "INSERT INTO users (name, password_hash, is_admin, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO NOTHING",
            params![name, password_hash, is_admin, now_s()],
        )?;
        Ok((inserted == 1).then(|| db.last_insert_rowid()))
    }

    /// The account and its password hash, by name.
    pub fn user_with_hash(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
        let db = self.lock()?;
        Ok(db
            .query_row(
                "SELECT id, name, is_admin, password_hash FROM users WHERE name = ?1",
                [name],
                |row| {
                    Ok((
                        User {
                            id: row.get(0)?,
                            name: row.get(1)?,
                            is_admin: row.get(2)?,
                        },
                        row.get(3)?,
                    ))
                },
            )
            .optional()?)
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let db = self.lock()?;
        let mut statement = db.prepare("SELECT id, name, is_admin FROM users ORDER BY name")?;
        let users = statement
            .query_map([], |row| {
                Ok(User {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    is_admin: row.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(users)
    }

    /// Deletes an account with its sessions and tokens; returns its name.
    pub fn delete_user(&self, id: i64) -> Result<Option<String>, StoreError> {
        let db = self.lock()?;
        Ok(db
            .query_row("DELETE FROM users WHERE id = ?1 RETURNING name", [id], |row| row.get(0))
            .optional()?)
    }

    /// Records a login session (the token's hash, never the token).
    pub fn add_login_session(
        &self,
        token_sha256: &str,
        user_id: i64,
        csrf_token: &str,
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        let now = now_s();
        self.lock()?.execute(
            "INSERT INTO login_sessions (token_sha256, user_id, csrf_token, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_sha256, user_id, csrf_token, now, now + lifetime.as_secs() as i64],
        )?;
        Ok(())
    }

    /// The unexpired login session with this token hash.
    pub fn login_session(&self, token_sha256: &str) -> Result<Option<LoginSession>, StoreError> {
        let db = self.lock()?;
        Ok(db
            .query_row(
                "SELECT u.id, u.name, u.is_admin, s.csrf_token FROM login_sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_sha256 = ?1 AND s.expires_at > ?2",
                params![token_sha256, now_s()],
                |row| {
                    Ok(LoginSession {
                        user: User {
                            id: row.get(0)?,
                            name: row.get(1)?,
                            is_admin: row.get(2)?,
                        },
                        csrf_token: row.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Ends a login session.
    pub fn delete_login_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        self.lock()?
            .execute("DELETE FROM login_sessions WHERE token_sha256 = ?1", [token_sha256])?;
        Ok(())
    }

    /// Records an API token (its hash).
    pub fn add_api_token(&self, token_sha256: &str, user_id: i64, label: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT INTO api_tokens (token_sha256, user_id, label, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_sha256, user_id, label, now_s()],
        )?;
        Ok(())
    }

    /// The account an API token belongs to.
    pub fn api_token_user(&self, token_sha256: &str) -> Result<Option<User>, StoreError> {
        let db = self.lock()?;
        Ok(db
            .query_row(
                "SELECT u.id, u.name, u.is_admin FROM api_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_sha256 = ?1",
                [token_sha256],
                |row| {
                    Ok(User {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        is_admin: row.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records a failed login for `name`.
    pub fn add_login_failure(&self, name: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT INTO login_failures (name, at) VALUES (?1, ?2)",
            params![name, now_s()],
        )?;
        Ok(())
    }

    /// Failed logins for `name` since `since_s`, and the time of the last.
    pub fn login_failures_since(&self, name: &str, since_s: i64) -> Result<(i64, i64), StoreError> {
        let db = self.lock()?;
        Ok(db.query_row(
            "SELECT count(*), coalesce(max(at), 0) FROM login_failures WHERE name = ?1 AND at >= ?2",
            params![name, since_s],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?)
    }

    /// Forgets the failed logins of `name` (after a successful one).
    pub fn clear_login_failures(&self, name: &str) -> Result<(), StoreError> {
        self.lock()?
            .execute("DELETE FROM login_failures WHERE name = ?1", [name])?;
        Ok(())
    }

    // Athletes --------------------------------------------------------------------------------------------------

    /// Adds an athlete.
    pub fn add_athlete(&self, name: &str, height_cm: Option<f64>) -> Result<i64, StoreError> {
        let db = self.lock()?;
        db.execute(
            "INSERT INTO athletes (name, height_cm, created_at) VALUES (?1, ?2, ?3)",
            params![name, height_cm, now_s()],
        )?;
        Ok(db.last_insert_rowid())
    }

    /// Athletes whose name contains `search` (all when empty), by name, at most `limit`.
    pub fn athletes(&self, search: &str, limit: i64) -> Result<Vec<Athlete>, StoreError> {
        let db = self.lock()?;
        let pattern = format!(
            "%{}%",
            search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        );
        let mut statement = db.prepare_cached(
            "SELECT a.id, a.name, a.height_cm,
                    (SELECT count(*) FROM sessions s WHERE s.athlete_id = a.id),
                    (SELECT max(session_date) FROM sessions s WHERE s.athlete_id = a.id)
             FROM athletes a WHERE a.name LIKE ?1 ESCAPE '\\' ORDER BY a.name COLLATE NOCASE, a.id LIMIT ?2",
        )?;
        let athletes = statement
            .query_map(params![pattern, limit], |row| {
                Ok(Athlete {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    height_cm: row.get(2)?,
                    session_count: row.get(3)?,
                    last_session: row.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(athletes)
    }

    /// Number of athletes.
    pub fn athlete_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .lock()?
            .query_row("SELECT count(*) FROM athletes", [], |row| row.get(0))?)
    }

    /// One athlete.
    pub fn athlete(&self, id: i64) -> Result<Option<Athlete>, StoreError> {
        let db = self.lock()?;
        Ok(db
            .query_row(
                "SELECT a.id, a.name, a.height_cm,
                        (SELECT count(*) FROM sessions s WHERE s.athlete_id = a.id),
                        (SELECT max(session_date) FROM sessions s WHERE s.athlete_id = a.id)
                 FROM athletes a WHERE a.id = ?1",
                [id],
                |row| {
                    Ok(Athlete {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        height_cm: row.get(2)?,
                        session_count: row.get(3)?,
                        last_session: row.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Deletes an athlete, their sessions and jobs, and every audit entry about them, then records one entry
    /// without personal data; returns the deleted sessions' ids (whose files the caller removes).
    pub fn erase_athlete(&self, id: i64, user_name: &str) -> Result<Option<Vec<i64>>, StoreError> {
        let mut db = self.lock()?;
        let transaction = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = transaction
            .query_row("SELECT id FROM athletes WHERE id = ?1", [id], |row| row.get(0))
            .optional()?;
        if exists.is_none() {
            return Ok(None);
        }
        let sessions: Vec<i64> = {
            let mut statement = transaction.prepare("SELECT id FROM sessions WHERE athlete_id = ?1")?;
            statement.query_map([id], |row| row.get(0))?.collect::<Result<_, _>>()?
        };
        transaction.execute(
            "DELETE FROM audit WHERE athlete_id = ?1 OR session_id IN (SELECT id FROM sessions WHERE athlete_id = ?1)",
            [id],
        )?;
        transaction.execute("DELETE FROM athletes WHERE id = ?1", [id])?;
        transaction.execute(
            "INSERT INTO audit (at, user_name, action, athlete_id, detail) VALUES (?1, ?2, 'erase', ?3, ?4)",
            params![
                now_s(),
                user_name,
                id,
                format!("athlete and {} session(s) erased", sessions.len())
            ],
        )?;
        transaction.commit()?;
        // Copy the overwritten pages into the database file and empty the write-ahead log, which still holds
        // the rows as they were before.
        db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(Some(sessions))
    }

    // Sessions and jobs -----------------------------------------------------------------------------------------

    /// Records a new session and queues its analysis, in one transaction; `store_clip(session_id)` moves the
    /// uploaded clip into place inside it, so a failure there leaves no row and a crash leaves no half session.
    pub fn add_session<E>(
        &self,
        new: &NewSession<'_>,
        store_clip: impl FnOnce(i64) -> Result<(), E>,
    ) -> Result<Result<(i64, i64), E>, StoreError> {
        let mut db = self.lock()?;
        let transaction = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_s();
        transaction.execute(
            "INSERT INTO sessions (athlete_id, session_date, notes, clip_name, clip_ext, clip_bytes, clip_sha256,
                                   uploaded_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                new.athlete_id,
                new.session_date,
                new.notes,
                new.clip_name,
                new.clip_ext,
                new.clip_bytes,
                new.clip_sha256,
                new.uploaded_by,
                now
            ],
        )?;
        let session_id = transaction.last_insert_rowid();
        transaction.execute(
            "INSERT INTO jobs (session_id, options_json, state, queued_at) VALUES (?1, ?2, 'queued', ?3)",
            params![session_id, new.options_json, now],
        )?;
        let job_id = transaction.last_insert_rowid();
        if let Some(height_cm) = new.height_cm {
            transaction.execute(
                "UPDATE athletes SET height_cm = ?1 WHERE id = ?2",
                params![height_cm, new.athlete_id],
            )?;
        }
        if let Err(error) = store_clip(session_id) {
            return Ok(Err(error));
        }
        transaction.commit()?;
        Ok(Ok((session_id, job_id)))
    }

    /// Queues another analysis of a session's clip.
    pub fn add_job(&self, session_id: i64, options_json: &str) -> Result<i64, StoreError> {
        let db = self.lock()?;
        db.execute(
            "INSERT INTO jobs (session_id, options_json, state, queued_at) VALUES (?1, ?2, 'queued', ?3)",
            params![session_id, options_json, now_s()],
        )?;
        Ok(db.last_insert_rowid())
    }

    fn session_query(where_clause: &str) -> String {
        format!(
            "SELECT s.id, s.athlete_id, a.name, s.session_date, s.notes, s.clip_name, s.clip_ext, s.clip_bytes,
                    s.clip_sha256, s.uploaded_by, s.shown_job_id, s.headline_json,
                    (SELECT max(j.id) FROM jobs j WHERE j.session_id = s.id)
             FROM sessions s JOIN athletes a ON a.id = s.athlete_id {where_clause}"
        )
    }

    fn sessions_where(&self, where_clause: &str, id: i64) -> Result<Vec<Session>, StoreError> {
        let db = self.lock()?;
        let mut statement = db.prepare_cached(&Self::session_query(where_clause))?;
        let rows: Vec<(Session, Option<i64>)> = statement
            .query_map([id], |row| {
                Ok((
                    Session {
                        id: row.get(0)?,
                        athlete_id: row.get(1)?,
                        athlete_name: row.get(2)?,
                        session_date: row.get(3)?,
                        notes: row.get(4)?,
                        clip_name: row.get(5)?,
                        clip_ext: row.get(6)?,
                        clip_bytes: row.get(7)?,
                        clip_sha256: row.get(8)?,
                        uploaded_by: row.get(9)?,
                        shown_job_id: row.get(10)?,
                        headline_json: row.get(11)?,
                        latest_job: None,
                    },
                    row.get(12)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut job_statement = db.prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"))?;
        let mut sessions = Vec::with_capacity(rows.len());
        for (mut session, latest_job_id) in rows {
            if let Some(job_id) = latest_job_id {
                session.latest_job = job_statement.query_row([job_id], job_from_row).optional()?;
            }
            sessions.push(session);
        }
        Ok(sessions)
    }

    /// One session.
    pub fn session(&self, id: i64) -> Result<Option<Session>, StoreError> {
        Ok(self.sessions_where("WHERE s.id = ?1", id)?.into_iter().next())
    }

    /// An athlete's sessions, oldest first.
    pub fn athlete_sessions(&self, athlete_id: i64) -> Result<Vec<Session>, StoreError> {
        self.sessions_where("WHERE s.athlete_id = ?1 ORDER BY s.session_date, s.id", athlete_id)
    }

    /// Deletes a session and its jobs; returns the athlete it belonged to.
    pub fn delete_session(&self, id: i64, user_name: &str) -> Result<Option<i64>, StoreError> {
        let mut db = self.lock()?;
        let transaction = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let athlete: Option<i64> = transaction
            .query_row("DELETE FROM sessions WHERE id = ?1 RETURNING athlete_id", [id], |row| {
                row.get(0)
            })
            .optional()?;
        if let Some(athlete_id) = athlete {
            transaction.execute("DELETE FROM audit WHERE session_id = ?1", [id])?;
            transaction.execute(
                "INSERT INTO audit (at, user_name, action, athlete_id, detail) VALUES (?1, ?2, 'delete', ?3, ?4)",
                params![now_s(), user_name, athlete_id, format!("session {id} deleted")],
            )?;
        }
        transaction.commit()?;
        Ok(athlete)
    }

    /// One job.
    pub fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        let db = self.lock()?;
        Ok(db
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                [id],
                job_from_row,
            )
            .optional()?)
    }

    /// Takes the oldest queued job and marks it running.
    pub fn claim_job(&self) -> Result<Option<Job>, StoreError> {
        let db = self.lock()?;
        Ok(db
            .query_row(
                &format!(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?1, frames_done = 0,
                                     report_ready = 0, overlay_ready = 0, error = NULL
                     WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1)
                     RETURNING {JOB_COLUMNS}"
                ),
                [now_s()],
                job_from_row,
            )
            .optional()?)
    }

    /// Re-queues the jobs that were running when the server stopped (a crash, a kill, a power cut); a job that
    /// has already been started `MAX_JOB_ATTEMPTS` times is failed instead. Returns how many were re-queued.
    pub fn requeue_interrupted_jobs(&self) -> Result<usize, StoreError> {
        let db = self.lock()?;
        db.execute(
            "UPDATE jobs SET state = 'failed', finished_at = ?1,
                    error = 'the analysis of this clip was interrupted ' || attempts || ' times (the server stopped \
                             each time); analyse it again, or try it with runform analyze'
             WHERE state = 'running' AND attempts >= ?2",
            params![now_s(), MAX_JOB_ATTEMPTS],
        )?;
        Ok(db.execute(
            "UPDATE jobs SET state = 'queued', frames_done = 0, report_ready = 0, overlay_ready = 0
             WHERE state = 'running'",
            [],
        )?)
    }

    /// Records a running job's progress; `false` when the job is gone (its session was deleted).
    pub fn set_progress(&self, job_id: i64, frames_done: u64, frames_total: u64) -> Result<bool, StoreError> {
        Ok(self.lock()?.execute(
            "UPDATE jobs SET frames_done = ?1, frames_total = ?2 WHERE id = ?3",
            params![frames_done as i64, frames_total as i64, job_id],
        )? == 1)
    }

    /// The job's report is written: the session now shows it. Returns the job shown before (whose outputs the
    /// caller removes), or `Err`-free `None` when the job is gone.
    pub fn report_ready(&self, job_id: i64, headline_json: &str) -> Result<Option<Option<i64>>, StoreError> {
        let mut db = self.lock()?;
        let transaction = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let session: Option<(i64, Option<i64>)> = transaction
            .query_row(
                "SELECT s.id, s.shown_job_id FROM jobs j JOIN sessions s ON s.id = j.session_id WHERE j.id = ?1",
                [job_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((session_id, previous)) = session else {
            return Ok(None);
        };
        transaction.execute("UPDATE jobs SET report_ready = 1 WHERE id = ?1", [job_id])?;
        transaction.execute(
            "UPDATE sessions SET shown_job_id = ?1, headline_json = ?2 WHERE id = ?3",
            params![job_id, headline_json, session_id],
        )?;
        transaction.commit()?;
        Ok(Some(previous.filter(|previous| *previous != job_id)))
    }

    /// The job is finished (`overlay_ready` when its video was written).
    pub fn finish_job(&self, job_id: i64, overlay_ready: bool, error: Option<&str>) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE jobs SET state = 'done', overlay_ready = ?1, error = ?2, finished_at = ?3 WHERE id = ?4",
            params![overlay_ready, error, now_s(), job_id],
        )?;
        Ok(())
    }

    /// The job failed, with the one-sentence reason.
    pub fn fail_job(&self, job_id: i64, reason: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE jobs SET state = 'failed', error = ?1, finished_at = ?2 WHERE id = ?3",
            params![reason, now_s(), job_id],
        )?;
        Ok(())
    }

    /// Jobs per state (for the status line and tests).
    pub fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let db = self.lock()?;
        let mut statement = db.prepare("SELECT state, count(*) FROM jobs GROUP BY state ORDER BY state")?;
        let counts = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(counts)
    }

    /// Every session id and job id that has rows (to find files that belong to nothing).
    pub fn known_ids(&self) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
        let db = self.lock()?;
        let sessions = db
            .prepare("SELECT id FROM sessions")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let jobs = db
            .prepare("SELECT id FROM jobs")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok((sessions, jobs))
    }

    // Audit -----------------------------------------------------------------------------------------------------

    /// Records who did what to which athlete or session. `detail` must hold no personal data.
    pub fn audit(
        &self,
        user_name: &str,
        action: &str,
        athlete_id: Option<i64>,
        session_id: Option<i64>,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT INTO audit (at, user_name, action, athlete_id, session_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![now_s(), user_name, action, athlete_id, session_id, detail],
        )?;
        Ok(())
    }

    /// The latest audit entries, newest first.
    pub fn audit_entries(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let db = self.lock()?;
        let mut statement = db.prepare(
            "SELECT at, user_name, action, athlete_id, session_id, detail FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let entries = statement
            .query_map([limit], |row| {
                Ok(AuditEntry {
                    at: row.get(0)?,
                    user_name: row.get(1)?,
                    action: row.get(2)?,
                    athlete_id: row.get(3)?,
                    session_id: row.get(4)?,
                    detail: row.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-byte clip's session for `athlete`, uploaded by "pt".
    fn session_of(athlete: i64, height_cm: Option<f64>) -> NewSession<'static> {
        NewSession {
            athlete_id: athlete,
            session_date: "2026-01-02",
            notes: "",
            clip_name: "run.mp4",
            clip_ext: "mp4",
            clip_bytes: 1,
            clip_sha256: "00",
            uploaded_by: "pt",
            options_json: "{}",
            height_cm,
        }
    }

    #[test]
    fn migrations_run_once_and_reopening_keeps_the_data() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("opens");
        let id = store.add_athlete("A. Runner", Some(170.0)).expect("adds");
        drop(store);
        let store = Store::open(dir.path()).expect("reopens");
        assert_eq!(store.athlete(id).expect("reads").expect("there").name, "A. Runner");
        let version: i64 = store
            .lock()
            .expect("lock")
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_job_left_running_is_requeued_and_fails_after_too_many_starts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("opens");
        let athlete = store.add_athlete("B", None).expect("athlete");
        let new = session_of(athlete, Some(180.0));
        let (_, job) = store
            .add_session(&new, |_| Ok::<(), ()>(()))
            .expect("db")
            .expect("stored");
        assert_eq!(
            store.athlete(athlete).expect("db").expect("there").height_cm,
            Some(180.0)
        );
        for attempt in 1..=MAX_JOB_ATTEMPTS {
            assert_eq!(store.claim_job().expect("db").expect("queued").id, job);
            assert_eq!(store.job(job).expect("db").expect("job").attempts, attempt);
            store.requeue_interrupted_jobs().expect("requeue");
        }
        let job = store.job(job).expect("db").expect("job");
        assert_eq!(job.state, "failed");
        assert!(job.error.expect("reason").contains("interrupted 3 times"));
        assert!(store.claim_job().expect("db").is_none());
    }

    #[test]
    fn a_failed_clip_move_leaves_no_session() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("opens");
        let athlete = store.add_athlete("C", None).expect("athlete");
        let new = session_of(athlete, None);
        let outcome = store.add_session(&new, |_| Err("disk full")).expect("db");
        assert_eq!(outcome, Err("disk full"));
        assert!(store.athlete_sessions(athlete).expect("db").is_empty());
        assert!(store.claim_job().expect("db").is_none());
    }
}
