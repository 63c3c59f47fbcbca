//! `runform serve` over HTTP on 127.0.0.1: what must be refused (no login, no CSRF token, too large, not a video,
//! paths out of the data folder, script in a name, a cookie after logout, password guessing), and a clip's way
//! through the JSON API to its report, downloads, video ranges, comparison, export and erasure. The same journey
//! in a real browser is tests/serve_browser.rs; load and faults are tests/serve_faults.rs.

mod common;

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use common::server::{Browser, Server, add_user, api_token, http, small_clip};

const PASSWORD: &str = "correct horse battery";

fn server_with_user(dir: &Path, args: &[&str]) -> (Server, Browser) {
    let data = dir.join("data");
    add_user(&data, "pt", PASSWORD, true);
    let server = Server::start(&data, args);
    let browser = Browser::login(&server.base, "pt", PASSWORD);
    (server, browser)
}

#[test]
fn every_page_and_api_route_needs_a_login() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, browser) = server_with_user(dir.path(), &[]);
    let athlete = browser.add_athlete("A");
    let client = http();
    let pages = [
        "/",
        "/athletes",
        &format!("/athletes/{athlete}"),
        &format!("/athletes/{athlete}/new-session"),
        &format!("/athletes/{athlete}/compare?s=1&s=2"),
        &format!("/athletes/{athlete}/compare.html?s=1&s=2"),
        "/sessions/1",
        "/sessions/1/status",
        "/sessions/1/files/report.json",
        "/sessions/1/files/overlay.mp4",
        "/account",
        "/admin/users",
        "/admin/audit",
    ];
    for page in pages {
        let response = client
            .get(format!("{}{page}", server.base))
            .header("accept", "text/html")
            .send()
            .expect("GET");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            (status == 303 && (location.starts_with("/login") || page == "/")) || status == 401,
            "{page}: {status} {location}"
        );
        if page != "/" && status == 303 {
            assert!(location.starts_with("/login?next="), "{page}: {location}");
        }
    }
    let posts = [
        "/logout",
        "/athletes",
        &format!("/athletes/{athlete}/sessions"),
        &format!("/athletes/{athlete}/export"),
        &format!("/athletes/{athlete}/erase"),
        "/sessions/1/reanalyse",
        "/sessions/1/delete",
        "/account/tokens",
        "/admin/users",
        "/admin/users/1/delete",
    ];
    for path in posts {
        let response = client
            .post(format!("{}{path}", server.base))
            .form(&[("csrf", browser.csrf.as_str()), ("name", "x")])
            .send()
            .expect("POST");
        assert_eq!(response.status(), 401, "POST {path}");
    }
    let api = [
        ("GET", "/api/v1/athletes".to_owned()),
        ("POST", "/api/v1/athletes".to_owned()),
        ("GET", format!("/api/v1/athletes/{athlete}")),
        ("DELETE", format!("/api/v1/athletes/{athlete}")),
        ("POST", format!("/api/v1/athletes/{athlete}/sessions")),
        ("GET", "/api/v1/sessions/1".to_owned()),
        ("DELETE", "/api/v1/sessions/1".to_owned()),
        ("POST", "/api/v1/sessions/1/reanalyse".to_owned()),
        ("GET", "/api/v1/sessions/1/files/report.json".to_owned()),
    ];
    for (method, path) in &api {
        for token in [None, Some("not-a-token")] {
            let mut request = client.request(method.parse().expect("method"), format!("{}{path}", server.base));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            // A browser's session cookie is not an API token either.
            request = request.header("cookie", &browser.cookie);
            let response = request.send().expect("API request");
            assert_eq!(response.status(), 401, "{method} {path} with {token:?}");
            let body: serde_json::Value = response.json().expect("JSON error");
            assert!(body["error"].as_str().is_some_and(|e| e.contains("Bearer")), "{body}");
        }
    }
    // Nothing was changed by any of it.
    assert!(browser.get(&format!("/athletes/{athlete}")).status().is_success());
}

#[test]
fn forms_without_their_csrf_token_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, browser) = server_with_user(dir.path(), &[]);
    let athlete = browser.add_athlete("B");
    for path in [
        "/logout".to_owned(),
        "/athletes".to_owned(),
        format!("/athletes/{athlete}/export"),
        format!("/athletes/{athlete}/erase"),
        "/account/tokens".to_owned(),
        "/admin/users".to_owned(),
    ] {
        let response = browser.post(
            &path,
            &[("name", "x"), ("label", "x"), ("password", "long enough")],
            false,
        );
        assert_eq!(response.status(), 403, "POST {path} without a token");
        let wrong = browser.post(&path, &[("name", "x"), ("csrf", &"0".repeat(64))], false);
        assert_eq!(wrong.status(), 403, "POST {path} with another token");
    }
    let clip = small_clip(dir.path(), "run.mp4", 0.5);
    let upload = browser.upload(athlete, &clip, &[("session_date", "2026-01-05")], false);
    assert_eq!(upload.status(), 403);
    // Still logged in, the athlete still there, nothing uploaded or queued.
    let athlete_page = browser.get(&format!("/athletes/{athlete}")).text().expect("page");
    assert!(athlete_page.contains("No sessions yet."), "{athlete_page}");
    assert!(common::files_below(&dir.path().join("data/clips")).is_empty());
    assert!(common::files_below(&dir.path().join("data/uploads")).is_empty());
    drop(server);
}

#[test]
fn an_upload_over_the_limit_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_server, browser) = server_with_user(dir.path(), &["--max-upload-mb", "1"]);
    let athlete = browser.add_athlete("C");
    let big = dir.path().join("big.mp4");
    std::fs::write(&big, vec![7u8; 3_000_000]).expect("write");
    let response = browser.upload(athlete, &big, &[("session_date", "2026-01-05")], true);
    assert_eq!(response.status(), 413);
    let page = response.text().expect("page");
    assert!(page.contains("upload limit of 1 MB"), "{page}");
    // Over the limit but declared within the overhead allowance: refused while streaming.
    let just_over = dir.path().join("just-over.mp4");
    std::fs::write(&just_over, vec![7u8; 1_500_000]).expect("write");
    let response = browser.upload(athlete, &just_over, &[], true);
    assert_eq!(response.status(), 413);
    assert!(common::files_below(&dir.path().join("data/uploads")).is_empty());
    assert!(common::files_below(&dir.path().join("data/clips")).is_empty());
    let athlete_page = browser.get(&format!("/athletes/{athlete}")).text().expect("page");
    assert!(athlete_page.contains("No sessions yet."));
}

#[test]
fn a_text_file_named_mp4_gets_the_clis_message_on_the_page_and_nothing_is_queued() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_server, browser) = server_with_user(dir.path(), &[]);
    let athlete = browser.add_athlete("D");
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "these are notes, not a video\n").expect("write");
    let response = browser.upload(
        athlete,
        &text,
        &[("session_date", "2026-01-05"), ("notes", "kept")],
        true,
    );
    assert_eq!(response.status(), 422);
    let page = response.text().expect("page");
    // The CLI's own sentence for this file (exit code 13), naming the file as it was uploaded.
    let cli = std::process::Command::new(common::server::runform())
        .args(["analyze"])
        .arg(&text)
        .arg("--out")
        .arg(dir.path().join("cli-out"))
        .output()
        .expect("runform analyze");
    assert_eq!(cli.status.code(), Some(13));
    let sentence = String::from_utf8_lossy(&cli.stderr)
        .trim()
        .trim_start_matches("runform: error: ")
        .replace(&text.display().to_string(), "notes.mp4");
    assert!(page.contains(&sentence), "page lacks «{sentence}»: {page}");
    // The form keeps what was typed.
    assert!(page.contains(">kept</textarea>"));
    assert!(common::files_below(&dir.path().join("data/uploads")).is_empty());
    assert!(common::files_below(&dir.path().join("data/clips")).is_empty());
    assert!(
        browser
            .get(&format!("/athletes/{athlete}"))
            .text()
            .expect("page")
            .contains("No sessions yet.")
    );
}

#[test]
fn ids_and_file_names_cannot_leave_the_data_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, browser) = server_with_user(dir.path(), &[]);
    let athlete = browser.add_athlete("E");
    // A bait file beside the data folder, and the database inside it.
    std::fs::write(dir.path().join("secret.txt"), "BAIT-CONTENT-42").expect("write");
    for path in [
        "/sessions/1/files/..%2F..%2F..%2Fsecret.txt",
        "/sessions/1/files/..%2Frunform.sqlite3",
        "/sessions/1/files/%2e%2e%2f%2e%2e%2frunform.sqlite3",
        "/sessions/1/files/....%2F%2Fsecret.txt",
        "/sessions/..%2F..%2Fsecret.txt/files/report.json",
        "/sessions/-1/files/report.json",
        "/sessions/99999999999999999999999/files/report.json",
        "/athletes/1%2F..%2F..%2Fsecret.txt",
        "/static/..%2F..%2FCargo.toml",
        "/sessions/1/files/report.json%00.txt",
    ] {
        let response = browser.get(path);
        let status = response.status().as_u16();
        let body = response.text().unwrap_or_default();
        assert!(matches!(status, 400 | 404), "{path}: {status}");
        assert!(
            !body.contains("BAIT-CONTENT") && !body.contains("SQLite format"),
            "{path} leaked: {body}"
        );
    }
    // An uploaded file name with folders in it is only a label: the clip is stored under its session id.
    let clip = small_clip(dir.path(), "run.mp4", 0.5);
    let bytes = std::fs::read(&clip).expect("read");
    let form = reqwest::blocking::multipart::Form::new()
        .text("csrf", browser.csrf.clone())
        .text("model", "heavy")
        .part(
            "clip",
            reqwest::blocking::multipart::Part::bytes(bytes)
                .file_name("../../../escaped.mp4")
                .mime_str("video/mp4")
                .expect("mime"),
        );
    let response = http()
        .post(format!("{}/athletes/{athlete}/sessions", server.base))
        .header("cookie", &browser.cookie)
        .multipart(form)
        .send()
        .expect("upload");
    assert_eq!(response.status(), 303);
    assert!(!dir.path().join("escaped.mp4").exists() && !Path::new("/escaped.mp4").exists());
    let stored = common::files_below(&dir.path().join("data/clips"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].ends_with("clips/1.mp4"), "{stored:?}");
    let page = browser.get("/sessions/1").text().expect("page");
    assert!(
        page.contains("Clip escaped.mp4"),
        "the label is the last path component"
    );
}

#[test]
fn an_athlete_named_like_a_script_is_stored_as_typed_and_shown_as_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, browser) = server_with_user(dir.path(), &[]);
    let name = "<script>alert(1)</script>";
    let athlete = browser.add_athlete(name);
    for path in [
        "/athletes".to_owned(),
        format!("/athletes/{athlete}"),
        format!("/athletes/{athlete}/new-session"),
    ] {
        let page = browser.get(&path).text().expect("page");
        assert!(!page.contains(name), "{path} shows the name as markup");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;"),
            "{path} does not show the name as text"
        );
    }
    let token = api_token(&dir.path().join("data"), "pt");
    let athletes: serde_json::Value = http()
        .get(format!("{}/api/v1/athletes", server.base))
        .bearer_auth(&token)
        .send()
        .expect("API")
        .json()
        .expect("JSON");
    assert_eq!(athletes[0]["name"], name, "stored exactly as typed");
    let search: serde_json::Value = http()
        .get(format!("{}/api/v1/athletes", server.base))
        .query(&[("q", "%")])
        .bearer_auth(&token)
        .send()
        .expect("API")
        .json()
        .expect("JSON");
    assert_eq!(search.as_array().map(Vec::len), Some(0), "% is searched for literally");
}

#[test]
fn a_session_cookie_stops_working_after_logout_and_logins_slow_down_after_failures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, first) = server_with_user(dir.path(), &[]);
    add_user(&dir.path().join("data"), "other", PASSWORD, false);
    let other = Browser::login(&server.base, "other", PASSWORD);
    assert_eq!(first.post("/logout", &[], true).status(), 303);
    let after = first.get("/athletes");
    assert_eq!(after.status(), 303, "the logged-out cookie still works");
    assert!(
        after.headers()["location"]
            .to_str()
            .expect("text")
            .starts_with("/login")
    );
    // The other user is unaffected, and admin pages stay closed to a non-admin.
    assert_eq!(other.get("/athletes").status(), 200);
    assert_eq!(other.get("/admin/users").status(), 403);

    let client = http();
    let try_login = |password: &str| {
        client
            .post(format!("{}/login", server.base))
            .form(&[("name", "other"), ("password", password)])
            .send()
            .expect("login")
    };
    for attempt in 0..5 {
        assert_eq!(try_login("guess").status(), 401, "attempt {attempt}");
    }
    let slowed = try_login(PASSWORD);
    assert_eq!(
        slowed.status(),
        429,
        "even the right password waits after five failures"
    );
    let wait_s: u64 = slowed.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&wait_s), "{wait_s}");
    std::thread::sleep(Duration::from_secs(wait_s + 1));
    let plain = try_login(PASSWORD);
    assert_eq!(plain.status(), 303, "after the wait the right password works");
    let cookie_of =
        |response: &reqwest::blocking::Response| response.headers()["set-cookie"].to_str().expect("text").to_owned();
    // Over plain HTTP the cookie cannot be Secure (the browser would drop it); behind a TLS reverse proxy that says
    // so, it is.
    assert!(!cookie_of(&plain).contains("Secure"), "{}", cookie_of(&plain));
    let proxied = client
        .post(format!("{}/login", server.base))
        .header("x-forwarded-proto", "https")
        .form(&[("name", "other"), ("password", PASSWORD)])
        .send()
        .expect("login");
    assert_eq!(proxied.status(), 303);
    assert!(cookie_of(&proxied).contains("; Secure;"), "{}", cookie_of(&proxied));
}

#[test]
fn a_clip_goes_through_the_api_to_its_report_downloads_comparison_export_and_erasure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let (server, browser) = server_with_user(dir.path(), &["--jobs", "1"]);
    let token = api_token(&data, "pt");
    let client = http();
    let api = |path: &str| format!("{}/api/v1{path}", server.base);
    let athlete: serde_json::Value = client
        .post(api("/athletes"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "API Runner", "height_cm": 171}))
        .send()
        .expect("create")
        .json()
        .expect("JSON");
    let athlete_id = athlete["id"].as_i64().expect("id");
    let clip = small_clip(dir.path(), "run.mp4", 1.0);
    let mut sessions = Vec::new();
    for date in ["2026-01-05", "2026-02-09"] {
        let form = reqwest::blocking::multipart::Form::new()
            .text("session_date", date)
            .text("speed", "11km/h")
            .text("model", "heavy")
            .file("clip", &clip)
            .expect("clip");
        let response = client
            .post(api(&format!("/athletes/{athlete_id}/sessions")))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .expect("upload");
        assert_eq!(response.status(), 202);
        let created: serde_json::Value = response.json().expect("JSON");
        sessions.push(created["session_id"].as_i64().expect("id"));
    }
    let reanalyse = |options: serde_json::Value| {
        client
            .post(api(&format!("/sessions/{}/reanalyse", sessions[0])))
            .bearer_auth(&token)
            .json(&options)
            .send()
            .expect("reanalyse")
    };
    // A refused option is named.
    let bad = reanalyse(serde_json::json!({"speed": "11"}));
    assert_eq!(bad.status(), 422);
    assert!(bad.text().expect("text").contains("speed"));
    // So is the lite model, with why it is refused.
    let lite = reanalyse(serde_json::json!({"model": "lite"}));
    assert_eq!(lite.status(), 422);
    let text = lite.text().expect("text");
    assert!(
        text.contains("model") && text.contains("not offered for analysis"),
        "{text}"
    );
    for session in &sessions {
        let status = common::server::wait_for_status(Duration::from_secs(300), || {
            client
                .get(api(&format!("/sessions/{session}")))
                .bearer_auth(&token)
                .send()
                .expect("status")
                .json::<serde_json::Value>()
                .expect("JSON")["status"]
                .clone()
        });
        assert_eq!(status["state"], "done", "{status}");
        assert_eq!(status["overlay_ready"], true, "{status}");
    }
    let view: serde_json::Value = client
        .get(api(&format!("/sessions/{}", sessions[0])))
        .bearer_auth(&token)
        .send()
        .expect("view")
        .json()
        .expect("JSON");
    assert_eq!(view["options"]["speed"], "11km/h");
    assert_eq!(view["files"].as_array().map(Vec::len), Some(6), "{view}");
    assert_eq!(view["headline"]["metrics"][0]["metric"], "cadence_steps_per_min");
    // The session page says when another runform build made the report it shows (and only then).
    assert_eq!(view["headline"]["runform_build"], runform::BUILD);
    let page = |session: i64| browser.get(&format!("/sessions/{session}")).text().expect("page");
    assert!(!page(sessions[1]).contains("id=\"build-note\""));
    let database = rusqlite::Connection::open(data.join("runform.sqlite3")).expect("database");
    database
        .execute(
            "UPDATE sessions SET headline_json = json_set(headline_json, '$.runform_build', ?1) WHERE id = ?2",
            ("0.1.0+src.000000000000", sessions[1]),
        )
        .expect("update");
    let earlier = page(sessions[1]);
    assert!(
        earlier.contains(&format!(
            "This report was made by runform 0.1.0+src.000000000000, and this server runs runform {}",
            runform::BUILD
        )),
        "{earlier}"
    );
    let report: serde_json::Value = client
        .get(api(&format!("/sessions/{}/files/report.json", sessions[0])))
        .bearer_auth(&token)
        .send()
        .expect("report")
        .json()
        .expect("report JSON");
    assert_eq!(report["session"]["session_date"], "2026-01-05");
    assert_eq!(report["session"]["athlete"], "API Runner");
    assert!(
        (report["settings"]["analysis"]["treadmill_speed_mps"]
            .as_f64()
            .expect("speed")
            - 11.0 / 3.6)
            .abs()
            < 1e-9
    );
    let steps = client
        .get(api(&format!("/sessions/{}/files/steps.csv", sessions[0])))
        .bearer_auth(&token)
        .send()
        .expect("steps")
        .text()
        .expect("text");
    assert!(
        steps.starts_with("clip,") || steps.contains("contact_time_ms"),
        "{steps}"
    );
    // The video answers range requests, as seeking needs.
    let range = browser
        .http
        .get(format!("{}/sessions/{}/files/overlay.mp4", server.base, sessions[0]))
        .header("cookie", &browser.cookie)
        .header("range", "bytes=100-199")
        .send()
        .expect("range");
    assert_eq!(range.status(), 206);
    assert_eq!(range.headers()["content-type"], "video/mp4");
    assert!(
        range.headers()["content-range"]
            .to_str()
            .expect("text")
            .starts_with("bytes 100-199/")
    );
    assert_eq!(range.bytes().expect("bytes").len(), 100);

    // Compare the two sessions: runform compare's own page.
    let compared = browser
        .get(&format!(
            "/athletes/{athlete_id}/compare.html?s={}&s={}",
            sessions[0], sessions[1]
        ))
        .text()
        .expect("page");
    assert!(
        compared.contains("2026-01-05") && compared.contains("2026-02-09"),
        "{compared}"
    );
    let athlete_page = browser.get(&format!("/athletes/{athlete_id}")).text().expect("page");
    assert!(
        athlete_page.contains("<polyline") || athlete_page.contains("–"),
        "trends or dashes"
    );

    // Export: a zip with the index, both clips and every output.
    let export = browser.post(&format!("/athletes/{athlete_id}/export"), &[], true);
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "application/zip");
    let bytes = export.bytes().expect("zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let names: Vec<String> = zip
        .file_names()
        .map(|name| name.expect("entry name").into_owned())
        .collect();
    for expected in [
        "athlete.json".to_owned(),
        format!("sessions/2026-01-05-{}/clip.mp4", sessions[0]),
        format!("sessions/2026-02-09-{}/report.json", sessions[1]),
        format!("sessions/2026-02-09-{}/overlay.mp4", sessions[1]),
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let mut index = String::new();
    zip.by_name("athlete.json")
        .expect("index")
        .read_to_string(&mut index)
        .expect("text");
    assert!(index.contains("API Runner"));
    assert!(
        common::files_below(&data.join("exports")).is_empty(),
        "the export leaves nothing behind"
    );

    // Erase: rows, clips and outputs go; the audit log keeps one entry without the name.
    let erased = browser.post(&format!("/athletes/{athlete_id}/erase"), &[], true);
    assert_eq!(erased.status(), 303);
    assert_eq!(browser.get(&format!("/athletes/{athlete_id}")).status(), 404);
    assert!(common::files_below(&data.join("clips")).is_empty());
    assert!(common::files_below(&data.join("outputs")).is_empty());
    let audit = browser.get("/admin/audit").text().expect("audit page");
    assert!(!audit.contains("API Runner"));
    assert!(audit.contains("athlete and 2 session(s) erased"), "{audit}");
    // Not even the database's free pages or its write-ahead log keep the name (secure_delete + a checkpoint).
    for file in ["runform.sqlite3", "runform.sqlite3-wal"] {
        let bytes = std::fs::read(data.join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(10).any(|w| w == b"API Runner"),
            "{file} still holds the name"
        );
    }
    let rows: serde_json::Value = client
        .get(api("/athletes"))
        .bearer_auth(&token)
        .send()
        .expect("list")
        .json()
        .expect("JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(0));
}

#[test]
fn a_clip_that_fails_in_analysis_shows_the_clis_sentence_on_its_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let (_server, browser) = server_with_user(dir.path(), &["--jobs", "1"]);
    let athlete = browser.add_athlete("F");
    // The first clip keeps the only worker busy while the second one's stored clip disappears (a disk fault, a
    // careless clean-up): its analysis then fails the way `runform analyze` fails on a missing file.
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.mp4");
    let busy = browser.upload(athlete, &demo, &[], true);
    assert_eq!(busy.status(), 303);
    let clip = small_clip(dir.path(), "lost.mp4", 0.5);
    let response = browser.upload(athlete, &clip, &[("model", "heavy")], true);
    assert_eq!(response.status(), 303);
    let session = common::server::location_id(&response, "/sessions/");
    assert_eq!(
        browser.status(session)["state"],
        "queued",
        "the worker should still be busy with the first clip"
    );
    std::fs::remove_file(data.join(format!("clips/{session}.mp4"))).expect("remove the stored clip");
    let status = browser.wait_done(session, Duration::from_secs(600));
    assert_eq!(status["state"], "failed", "{status}");
    let reason = status["error"].as_str().expect("a reason");
    assert_eq!(
        reason,
        "lost.mp4: no such file; check the path and the spelling of the file name"
    );
    let page = browser.get(&format!("/sessions/{session}")).text().expect("page");
    assert!(page.contains("id=\"job-error\"") && page.contains(reason), "{page}");
    assert!(
        !page.contains(&data.display().to_string()),
        "the page does not spell out the data folder"
    );
}
