//! Accounts and who is asking: argon2id password hashes, random login and API tokens stored only as SHA-256
//! hashes, the session cookie, CSRF tokens, and the slow-down after failed logins.
//!
//! Tokens are 32 random bytes from the operating system's generator (hex); the database keeps their SHA-256, so
//! a copy of the database logs nobody in. A login session's cookie is HttpOnly (no script reads it), SameSite
//! Strict (no other site's page sends it), Secure when the browser came through a TLS reverse proxy
//! ([`behind_https`]), and expires after [`SESSION_LIFETIME`]; each login session has its own CSRF token that every
//! form and state-changing request must carry.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "runform_session";

/// How long a login lasts: a working day, so that a PC left logged in overnight asks again in the morning.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Failed logins for one account that are let through at full speed within [`FAILURE_WINDOW_S`].
pub const FREE_FAILURES: i64 = 5;

/// The window over which failed logins count, seconds.
pub const FAILURE_WINDOW_S: i64 = 15 * 60;

/// The longest wait imposed after failed logins, seconds.
pub const MAX_LOGIN_WAIT_S: i64 = 15 * 60;

/// Shortest password `runform user add` and the admin page accept.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A password could not be hashed (only on a broken random generator or absurd input).
#[derive(Debug, thiserror::Error)]
#[error("the password could not be hashed ({0})")]
pub struct HashError(String);

/// The argon2id PHC string of `password`, with a fresh random salt and argon2's default cost.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash to verify against when the account does not exist, so that an unknown name takes as long to refuse as a
/// wrong password (the timing does not tell which names exist).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// A new random token (64 hex characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex(&bytes)
}

/// The SHA-256 of a token, as stored.
pub fn token_sha256(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The session token from the request's cookies.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The bearer token of an API request.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// Whether the browser reached the server over HTTPS: through a TLS reverse proxy that says so in
/// `X-Forwarded-Proto` (runform itself serves plain HTTP). A client that sends the header itself only makes its own
/// cookie HTTPS-only.
pub fn behind_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// The cookie attributes every session cookie carries, with `Secure` (sent back over HTTPS only) when the browser
/// came over HTTPS: a browser drops a `Secure` cookie set over plain HTTP, so it cannot be there by default.
fn cookie_attributes(secure: bool) -> &'static str {
    if secure {
        "HttpOnly; Secure; SameSite=Strict; Path=/"
    } else {
        "HttpOnly; SameSite=Strict; Path=/"
    }
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; {}; Max-Age={}",
        cookie_attributes(secure),
        SESSION_LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value that ends one.
pub fn cleared_cookie(secure: bool) -> String {
    format!("{SESSION_COOKIE}=; {}; Max-Age=0", cookie_attributes(secure))
}

/// How long an account must wait before its next login attempt, after `failures` failed ones within the window
/// (the last at `last_failure_s`): nothing for the first [`FREE_FAILURES`], then 2, 4, 8 … seconds up to
/// [`MAX_LOGIN_WAIT_S`]. Guessing a password then takes years, while a PT who mistypes a few times waits seconds.
pub fn login_wait_s(failures: i64, last_failure_s: i64, now_s: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES + 1).min(20) as u32;
    let wait = 2i64.saturating_pow(doublings).min(MAX_LOGIN_WAIT_S);
    (last_failure_s + wait - now_s).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse").expect("hashes");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct hors", &hash));
        assert_ne!(hash, hash_password("correct horse").expect("hashes"), "salted");
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(token_sha256(&a), a);
        assert_eq!(token_sha256(&a), token_sha256(&a));
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_is_http_only() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            "theme=dark; runform_session=abc123; x=y".parse().expect("header"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc123"));
        let cookie = session_cookie("abc", false);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Max-Age="));
        assert!(!cookie.contains("Secure"));
    }

    #[test]
    fn behind_a_tls_proxy_the_cookie_is_secure() {
        let mut headers = HeaderMap::new();
        assert!(!behind_https(&headers));
        headers.insert("x-forwarded-proto", "http".parse().expect("header"));
        assert!(!behind_https(&headers));
        headers.insert("x-forwarded-proto", "HTTPS, http".parse().expect("header"));
        assert!(behind_https(&headers));
        assert!(session_cookie("abc", true).contains("; Secure;"));
        assert!(cleared_cookie(true).contains("; Secure;"));
        assert!(!cleared_cookie(false).contains("Secure"));
    }

    #[test]
    fn failed_logins_slow_down_doubling_and_capped() {
        assert_eq!(login_wait_s(FREE_FAILURES - 1, 100, 100), 0);
        assert_eq!(login_wait_s(FREE_FAILURES, 100, 100), 2);
        assert_eq!(login_wait_s(FREE_FAILURES + 1, 100, 100), 4);
        assert_eq!(login_wait_s(FREE_FAILURES + 1, 100, 103), 1);
        assert_eq!(login_wait_s(FREE_FAILURES + 1, 100, 200), 0);
        assert_eq!(login_wait_s(1000, 0, 0), MAX_LOGIN_WAIT_S);
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
