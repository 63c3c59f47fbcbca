//! Measures `runform serve` (scripts/bench-serve runs it):
//!
//! 1. Page times with 1,000 athletes and 10,000 sessions in the database: the athlete list, a search, an
//!    athlete's page with its sessions and trends, and a session page (median and worst of 20 requests each).
//! 2. The server's memory (resident set) idle, and while `--jobs` clips are analysed.
//! 3. The time from the end of an upload to the report on the page, and to the overlay video, against
//!    `runform analyze` on the same clip (with `--html`, and with `--html --overlay`).
//!
//! ```text
//! cargo run --release --example bench_serve -- CLIP [JOBS]
//! ```

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, multipart};
use reqwest::redirect::Policy;
use runform::serve::jobs::{Headline, HeadlineValue};
use runform::serve::store::{NewSession, Store};

const ATHLETES: usize = 1_000;
const SESSIONS_PER_ATHLETE: usize = 10;
const REQUESTS: usize = 20;
const PASSWORD: &str = "benchmark password";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(clip) = args.first().map(PathBuf::from) else {
        eprintln!("usage: bench_serve CLIP [JOBS]");
        std::process::exit(2);
    };
    let jobs: usize = args.get(1).and_then(|j| j.parse().ok()).unwrap_or(2);
    let runform = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("runform")))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("target/release/runform"));
    let scratch = tempfile::tempdir().expect("temp dir");

    // 1. A large database, made through the app's own store.
    let data = scratch.path().join("large");
    let started = Instant::now();
    fill(&data);
    println!(
        "filled {ATHLETES} athletes and {} sessions in {:.1} s",
        ATHLETES * SESSIONS_PER_ATHLETE,
        started.elapsed().as_secs_f64()
    );
    add_user(&runform, &data);
    let server = start(&runform, &data, 1);
    let browser = login(&server.base);
    for (what, path) in [
        ("athlete list (first 500 of 1,000)", "/athletes".to_owned()),
        ("search 'Athlete 0042'", "/athletes?q=Athlete+0042".to_owned()),
        ("athlete page (10 sessions, trends)", "/athletes/500".to_owned()),
        ("session page", "/sessions/5000".to_owned()),
        ("status JSON (polled each second)", "/sessions/5000/status".to_owned()),
    ] {
        let mut times: Vec<f64> = (0..REQUESTS)
            .map(|_| {
                let started = Instant::now();
                let response = browser.get(&path);
                assert!(response.status().is_success(), "{path}: {}", response.status());
                let _ = response.bytes();
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{what:<38} median {:>6.1} ms, worst {:>6.1} ms",
            times[REQUESTS / 2],
            times[REQUESTS - 1]
        );
    }
    println!("server memory idle with the large database: {}", memory(&server.child));
    drop(server);

    // 2. A fresh server with one job (as the CLI, one clip with all the cores): upload-to-report time, against the
    // CLI run just before and just after it.
    let data = scratch.path().join("timing");
    add_user(&runform, &data);
    let server = start(&runform, &data, 1);
    println!("server memory idle, fresh: {}", memory(&server.child));
    let browser = login(&server.base);
    let athlete = browser.add_athlete();
    let cli_html = time_cli(&runform, &clip, scratch.path(), &["--html"]);
    let (to_report, to_overlay) = upload_and_wait(&browser, athlete, &clip);
    let cli_both = time_cli(&runform, &clip, scratch.path(), &["--html", "--overlay"]);
    println!("upload end -> report on the page: {to_report:.1} s; -> overlay video: {to_overlay:.1} s");
    println!(
        "runform analyze --html: {cli_html:.1} s (server/CLI {:.2}); --html --overlay: {cli_both:.1} s (server/CLI {:.2})",
        to_report / cli_html,
        to_overlay / cli_both
    );
    drop(server);

    // 3. Memory with `jobs` clips in analysis at once.
    let data = scratch.path().join("memory");
    add_user(&runform, &data);
    let server = start(&runform, &data, jobs);
    let browser = login(&server.base);
    let athlete = browser.add_athlete();
    let sessions: Vec<i64> = (0..jobs).map(|_| browser.upload(athlete, &clip)).collect();
    let mut peak = 0u64;
    loop {
        peak = peak.max(rss_kb(&server.child));
        let done = sessions
            .iter()
            .all(|session| browser.status(*session)["state"] == "done");
        if done {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "server memory with {jobs} clip(s) in analysis at once: peak resident {:.0} MB (sampled every 0.2 s; {})",
        peak as f64 / 1024.0,
        memory(&server.child)
    );
}

fn fill(data: &Path) {
    std::fs::create_dir_all(data).expect("data folder");
    let store = Store::open(data).expect("database");
    for a in 0..ATHLETES {
        let athlete = store
            .add_athlete(&format!("Athlete {a:04}"), Some(160.0 + (a % 40) as f64))
            .expect("athlete");
        for s in 0..SESSIONS_PER_ATHLETE {
            let date = format!("2026-{:02}-{:02}", 1 + s, 1 + a % 28);
            let new = NewSession {
                athlete_id: athlete,
                session_date: &date,
                notes: "",
                clip_name: "clip.mp4",
                clip_ext: "mp4",
                clip_bytes: 4_000_000,
                clip_sha256: "0",
                uploaded_by: "bench",
                options_json: "{}",
                height_cm: None,
            };
            let (_, job) = store
                .add_session(&new, |_| Ok::<(), ()>(()))
                .expect("database")
                .expect("stored");
            let headline = Headline {
                metrics: runform::analyze::HEADLINE_METRICS
                    .iter()
                    .enumerate()
                    .map(|(m, (_, label, unit))| HeadlineValue {
                        metric: format!("metric_{m}"),
                        label: (*label).to_owned(),
                        unit: (*unit).to_owned(),
                        value: Some(150.0 + (s * 3 + m) as f64),
                    })
                    .collect(),
                flags: vec!["a flag in plain words".to_owned()],
                warnings: Vec::new(),
                steps: 20,
                ..Headline::default()
            };
            store
                .report_ready(job, &serde_json::to_string(&headline).expect("json"))
                .expect("report");
            store.finish_job(job, true, None).expect("finish");
        }
    }
}

fn add_user(runform: &Path, data: &Path) {
    let mut child = Command::new(runform)
        .args(["user", "add", "bench", "--data"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("runform user add");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("password");
    assert!(child.wait().expect("waits").success());
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(runform: &Path, data: &Path, jobs: usize) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(runform)
        .arg("serve")
        .arg("--data")
        .arg(data)
        .args(["--bind", "127.0.0.1:0", "--jobs", &jobs.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("runform serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("runform serve: http://")
                .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
        })
        .expect("the server's address");
    std::thread::spawn(move || lines.for_each(drop));
    Server {
        child,
        base: format!("http://{address}"),
    }
}

struct Browser {
    http: Client,
    base: String,
    cookie: String,
    csrf: String,
}

fn login(base: &str) -> Browser {
    let http = Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let response = http
        .post(format!("{base}/login"))
        .form(&[("name", "bench"), ("password", PASSWORD)])
        .send()
        .expect("login");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .split(';')
        .next()
        .expect("cookie")
        .to_owned();
    let mut browser = Browser {
        http,
        base: base.to_owned(),
        cookie,
        csrf: String::new(),
    };
    let page = browser.get("/athletes").text().expect("page");
    let at = page.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    browser.csrf = page[at..at + 64].to_owned();
    browser
}

impl Browser {
    fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .expect("GET")
    }

    fn add_athlete(&self) -> i64 {
        let response = self
            .http
            .post(format!("{}/athletes", self.base))
            .header("cookie", &self.cookie)
            .form(&[("csrf", self.csrf.as_str()), ("name", "Timing")])
            .send()
            .expect("POST");
        response.headers()["location"].to_str().expect("text")["/athletes/".len()..]
            .parse()
            .expect("id")
    }

    fn upload(&self, athlete: i64, clip: &Path) -> i64 {
        let form = multipart::Form::new()
            .text("csrf", self.csrf.clone())
            .text("speed", "12km/h")
            .file("clip", clip)
            .expect("clip");
        let response = self
            .http
            .post(format!("{}/athletes/{athlete}/sessions", self.base))
            .header("cookie", &self.cookie)
            .multipart(form)
            .send()
            .expect("upload");
        assert_eq!(response.status(), 303, "{:?}", response.text());
        response.headers()["location"].to_str().expect("text")["/sessions/".len()..]
            .parse()
            .expect("id")
    }

    fn status(&self, session: i64) -> serde_json::Value {
        self.get(&format!("/sessions/{session}/status")).json().expect("json")
    }
}

/// Seconds from the upload's answer to the report's and then the overlay's being ready (polled every 50 ms).
fn upload_and_wait(browser: &Browser, athlete: i64, clip: &Path) -> (f64, f64) {
    let session = browser.upload(athlete, clip);
    let uploaded = Instant::now();
    let mut report = None;
    loop {
        let status = browser.status(session);
        assert_ne!(status["state"], "failed", "{status}");
        if report.is_none() && status["report_ready"] == true {
            report = Some(uploaded.elapsed().as_secs_f64());
        }
        if status["state"] == "done" {
            return (report.unwrap_or_default(), uploaded.elapsed().as_secs_f64());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn time_cli(runform: &Path, clip: &Path, scratch: &Path, flags: &[&str]) -> f64 {
    let started = Instant::now();
    let status = Command::new(runform)
        .arg("analyze")
        .arg(clip)
        .arg("--out")
        .arg(scratch.join("cli"))
        .args(["--speed", "12km/h", "--quiet"])
        .args(flags)
        .status()
        .expect("runform analyze");
    assert!(status.success());
    started.elapsed().as_secs_f64()
}

fn rss_kb(child: &Child) -> u64 {
    status_field(child, "VmRSS:")
}

fn status_field(child: &Child, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn memory(child: &Child) -> String {
    format!(
        "resident {:.0} MB, peak resident {:.0} MB",
        status_field(child, "VmRSS:") as f64 / 1024.0,
        status_field(child, "VmHWM:") as f64 / 1024.0
    )
}
