//! Helpers for the web app's tests: start `runform serve` on 127.0.0.1 with a fresh data folder, add accounts,
//! and talk to it as a logged-in browser (session cookie + CSRF token) or as an API client (bearer token).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response, multipart};
use reqwest::redirect::Policy;

/// The runform binary under test.
pub fn runform() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_runform"))
}

/// A running `runform serve`; killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Everything it printed on standard output up to the address line.
    pub banner: String,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `runform serve --data DATA --bind 127.0.0.1:0 ARGS…` and waits for it to listen.
    pub fn start(data: &Path, args: &[&str]) -> Server {
        let mut command = Command::new(runform());
        command
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--bind", "127.0.0.1:0"])
            .args(args);
        Server::spawn(command)
    }

    /// Starts a prepared command that ends by running `runform serve` (e.g. inside `unshare`).
    pub fn spawn(mut command: Command) -> Server {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runform serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let collected = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                if let Ok(mut text) = collected.lock() {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        });
        let (sender, receiver) = std::sync::mpsc::channel();
        let stdout_text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let all_stdout = std::sync::Arc::clone(&stdout_text);
        std::thread::spawn(move || {
            let mut banner = String::new();
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                banner.push_str(&line);
                banner.push('\n');
                if let Ok(mut text) = all_stdout.lock() {
                    text.push_str(&line);
                    text.push('\n');
                }
                if !sent && let Some(rest) = line.strip_prefix("runform serve: http://") {
                    let address = rest.split('/').next().unwrap_or_default().to_owned();
                    let _ = sender.send((address, banner.clone()));
                    sent = true;
                }
            }
        });
        match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok((address, banner)) => Server {
                child,
                base: format!("http://{address}"),
                banner,
                stdout: stdout_text,
                stderr,
            },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "runform serve did not start: {}",
                    stderr.lock().map(|s| s.clone()).unwrap_or_default()
                );
            }
        }
    }

    /// Waits up to two seconds for a line of standard output containing `words`; returns all of it.
    pub fn stdout_with(&self, words: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.stdout.lock().map(|text| text.clone()).unwrap_or_default();
            if text.contains(words) || started.elapsed() > Duration::from_secs(2) {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What it has printed on standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|text| text.clone()).unwrap_or_default()
    }

    /// `kill -9`: no chance to clean up.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `runform user add NAME [--admin] --data DATA` with the password on standard input.
pub fn add_user(data: &Path, name: &str, password: &str, admin: bool) {
    let mut command = Command::new(runform());
    command.args(["user", "add", name, "--data"]).arg(data);
    if admin {
        command.arg("--admin");
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runform user add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password");
    let output = child.wait_with_output().expect("runs");
    assert!(
        output.status.success(),
        "user add failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `runform user token NAME --data DATA`: a new API token.
pub fn api_token(data: &Path, name: &str) -> String {
    let output = Command::new(runform())
        .args(["user", "token", name, "--data"])
        .arg(data)
        .output()
        .expect("runform user token");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// An HTTP client that follows no redirects (the tests look at them).
pub fn http() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// A logged-in browser session: its cookie and CSRF token.
pub struct Browser {
    /// The client.
    pub http: Client,
    /// The server's base URL.
    pub base: String,
    /// `runform_session=…`.
    pub cookie: String,
    /// The login's CSRF token, read from a page.
    pub csrf: String,
}

impl Browser {
    /// Logs in through the login form.
    pub fn login(base: &str, name: &str, password: &str) -> Browser {
        let http = http();
        let response = http
            .post(format!("{base}/login"))
            .form(&[("name", name), ("password", password), ("next", "/athletes")])
            .send()
            .expect("login");
        assert_eq!(response.status(), 303, "login of {name} refused");
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let mut browser = Browser {
            http,
            base: base.to_owned(),
            cookie,
            csrf: String::new(),
        };
        let page = browser.get("/athletes").text().expect("page");
        browser.csrf = csrf_of(&page).expect("a CSRF token on the page");
        browser
    }

    /// GET with the cookie.
    pub fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .expect("GET")
    }

    /// POST a form with the cookie and (unless `with_csrf` is false) the CSRF token.
    pub fn post(&self, path: &str, fields: &[(&str, &str)], with_csrf: bool) -> Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if with_csrf {
            form.push(("csrf", &self.csrf));
        }
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .expect("POST")
    }

    /// Adds an athlete; returns its id.
    pub fn add_athlete(&self, name: &str) -> i64 {
        let response = self.post("/athletes", &[("name", name)], true);
        assert_eq!(response.status(), 303);
        location_id(&response, "/athletes/")
    }

    /// Uploads a clip as the new-session form does (CSRF first, the clip last).
    pub fn upload(&self, athlete: i64, clip: &Path, fields: &[(&str, &str)], with_csrf: bool) -> Response {
        let mut form = multipart::Form::new();
        if with_csrf {
            form = form.text("csrf", self.csrf.clone());
        }
        for (name, value) in fields {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        let form = form.file("clip", clip).expect("clip readable");
        self.http
            .post(format!("{}/athletes/{athlete}/sessions", self.base))
            .header("cookie", &self.cookie)
            .multipart(form)
            .send()
            .expect("upload")
    }

    /// The session's status JSON.
    pub fn status(&self, session: i64) -> serde_json::Value {
        self.get(&format!("/sessions/{session}/status"))
            .json()
            .expect("status JSON")
    }

    /// Waits until the session's latest analysis is done (report and overlay written) or failed.
    pub fn wait_done(&self, session: i64, limit: Duration) -> serde_json::Value {
        wait_for_status(limit, || self.status(session))
    }
}

/// Polls `status` until its state is done or failed.
pub fn wait_for_status(limit: Duration, mut status: impl FnMut() -> serde_json::Value) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let now = status();
        if now["state"] == "done" || now["state"] == "failed" {
            return now;
        }
        assert!(
            started.elapsed() < limit,
            "analysis not finished after {limit:?}: {now}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The id at the end of a redirect's `Location` after `prefix`.
pub fn location_id(response: &Response, prefix: &str) -> i64 {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(prefix))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix}ID redirect: {:?}", response.headers().get("location")))
}

/// The CSRF token in a page's hidden field.
pub fn csrf_of(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    page.get(at..at + 64).map(str::to_owned)
}

/// A short, small clip cut from samples/demo.mp4 (fetched by scripts/setup): `seconds` long, 480 px wide.
pub fn small_clip(dir: &Path, name: &str, seconds: f64) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.mp4");
    assert!(demo.is_file(), "samples/demo.mp4 is missing: run scripts/setup");
    let out = dir.join(name);
    super::ffmpeg(&[
        "-ss",
        "1",
        "-t",
        &seconds.to_string(),
        "-i",
        demo.to_str().expect("utf-8 path"),
        "-an",
        "-vf",
        "scale=480:-2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        out.to_str().expect("utf-8 path"),
    ]);
    out
}
