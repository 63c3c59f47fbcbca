//! The web app in a real browser: `runform serve` on 127.0.0.1 and Debian's Chromium driven through WebDriver
//! (chromedriver, from the `chromium-driver` package that scripts/setup installs; the fantoccini client). A PT's
//! day: log in, add an athlete, upload a treadmill clip through the file input, watch the progress reach the
//! report, read cadence and the flags, play the overlay video and seek in it, upload a second session, compare
//! the two, export the athlete and erase them. Screenshots go to target/serve-screenshots/ (two of them are
//! committed under docs/).
//!
//! Needs the fixture clip `treadmill_side_gym_portrait60.mp4` from ../shared/videos and skips without it; the
//! HTTP-level tests (tests/serve.rs) cover the same routes with clips made from samples/demo.mp4.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use common::server::{Server, add_user};

const PASSWORD: &str = "correct horse battery";

/// How long one clip's analysis may take in this test (the full model on a 1080×1920 clip, on 2 busy cores).
const ANALYSIS_LIMIT: Duration = Duration::from_secs(600);

fn chromedriver() -> PathBuf {
    for candidate in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] {
        if Path::new(candidate).is_file() {
            return PathBuf::from(candidate);
        }
    }
    panic!("chromedriver is not installed: run scripts/setup (it installs Debian's chromium-driver package)");
}

/// chromedriver on a free local port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver, profile: &Path, downloads: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            // A closed network: no first-run checks, updates, sync or QUIC, or Chromium's connections are refused.
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1280,1700",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session with Chromium")
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/serve-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(name), png).expect("write screenshot");
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

/// Waits for `css` to appear; the session page reloads itself as the analysis goes on.
async fn wait_for(client: &Client, css: &str, limit: Duration) {
    let started = Instant::now();
    loop {
        if client.find(Locator::Css(css)).await.is_ok() {
            return;
        }
        if let Ok(error) = client.find(Locator::Css("#job-error")).await {
            panic!("the analysis failed: {}", error.text().await.unwrap_or_default());
        }
        assert!(started.elapsed() < limit, "{css} did not appear within {limit:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn upload_session(client: &Client, base: &str, athlete_url: &str, clip: &Path, date: &str) -> String {
    client.goto(athlete_url).await.expect("athlete page");
    client
        .find(Locator::Css("#new-session"))
        .await
        .expect("link")
        .click()
        .await
        .expect("click");
    // The date is today by default; this test sets its own.
    client
        .execute(
            "document.getElementById('session-date').value = arguments[0];",
            vec![json!(date)],
        )
        .await
        .expect("set date");
    client
        .find(Locator::Css("#speed"))
        .await
        .expect("speed")
        .send_keys("12km/h")
        .await
        .expect("type");
    client
        .find(Locator::Css("#view"))
        .await
        .expect("view")
        .select_by_value("side")
        .await
        .expect("select");
    let accept = client
        .find(Locator::Css("#clip"))
        .await
        .expect("file input")
        .attr("accept")
        .await
        .expect("attr");
    assert_eq!(
        accept.as_deref(),
        Some("video/*"),
        "a phone's browser offers its camera"
    );
    client
        .find(Locator::Css("#clip"))
        .await
        .expect("file input")
        .send_keys(&clip.display().to_string())
        .await
        .expect("choose the clip");
    client
        .find(Locator::Css("#upload"))
        .await
        .expect("button")
        .click()
        .await
        .expect("upload");
    // The page's script uploads with a progress bar, then goes to the new session.
    let started = Instant::now();
    loop {
        let url = client.current_url().await.expect("url").to_string();
        if url.starts_with(&format!("{base}/sessions/")) {
            return url;
        }
        if let Ok(error) = client.find(Locator::Css("#upload-error")).await {
            panic!("the upload was refused: {}", error.text().await.unwrap_or_default());
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the upload did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pt_uploads_two_sessions_reads_the_report_plays_the_video_compares_exports_and_erases() {
    let Some(videos) = common::shared_videos() else { return };
    // chromedriver takes only canonical paths for a file input.
    let clip = videos
        .join("treadmill_side_gym_portrait60.mp4")
        .canonicalize()
        .expect("the fixture clip");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    add_user(&data, "alex", PASSWORD, true);
    let server = Server::start(&data, &["--jobs", "1"]);
    let base = server.base.clone();
    let driver = Driver::start();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).expect("mkdir");
    let client = browser(&driver, &dir.path().join("profile"), &downloads).await;

    // Log in: every page sends a stranger to the login first.
    client.goto(&format!("{base}/athletes")).await.expect("open");
    assert!(client.current_url().await.expect("url").path().starts_with("/login"));
    client
        .find(Locator::Css("#name"))
        .await
        .expect("name")
        .send_keys("alex")
        .await
        .expect("type");
    client
        .find(Locator::Css("#password"))
        .await
        .expect("pw")
        .send_keys(PASSWORD)
        .await
        .expect("type");
    client
        .find(Locator::Css("#login"))
        .await
        .expect("button")
        .click()
        .await
        .expect("log in");
    wait_for(&client, "#new-athlete", Duration::from_secs(10)).await;

    // A new athlete.
    client
        .find(Locator::Css("#athlete-name"))
        .await
        .expect("field")
        .send_keys("Ada Runner")
        .await
        .expect("type");
    client
        .find(Locator::Css("#athlete-height"))
        .await
        .expect("field")
        .send_keys("168")
        .await
        .expect("type");
    client
        .find(Locator::Css("#add-athlete"))
        .await
        .expect("button")
        .click()
        .await
        .expect("add");
    wait_for(&client, "#athlete-title", Duration::from_secs(10)).await;
    assert_eq!(text_of(&client, "#athlete-title").await, "Ada Runner");
    let athlete_url = client.current_url().await.expect("url").to_string();

    // First session: upload, progress, report.
    let first = upload_session(&client, &base, &athlete_url, &clip, "2026-11-02").await;
    let progress_seen = client.find(Locator::Css("#job-progress")).await.is_ok()
        || client.find(Locator::Css("#headline")).await.is_ok();
    assert!(
        progress_seen,
        "the session page shows the progress (or, already, the report)"
    );
    wait_for(&client, "#headline", ANALYSIS_LIMIT).await;
    let cadence = text_of(&client, "[data-metric=cadence_steps_per_min]").await;
    assert!(cadence.contains("steps/min"), "{cadence}");
    let value: f64 = cadence
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .expect("a cadence number");
    assert!((120.0..220.0).contains(&value), "a running cadence: {value}");
    let flags = text_of(&client, "#flags").await;
    assert!(!flags.is_empty(), "the flags (or that there are none) are shown");
    // The report is in the page (its own frame), from this server only.
    let report_text = client
        .execute(
            "return document.getElementById('report').contentDocument.body.innerText;",
            vec![],
        )
        .await
        .expect("report frame");
    assert!(
        report_text
            .as_str()
            .is_some_and(|t| t.contains("Cadence") || t.contains("cadence"))
    );

    // The overlay video plays and seeks (range requests).
    wait_for(&client, "#overlay", ANALYSIS_LIMIT).await;
    let video = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const video = document.getElementById('overlay');
             video.muted = true;
             const report = () => done({readyState: video.readyState, duration: video.duration,
                                       time: video.currentTime, error: video.error && video.error.code});
             video.addEventListener('seeked', report, {once: true});
             video.addEventListener('error', report, {once: true});
             video.play().then(() => { video.currentTime = 3.0; }).catch((e) => done({error: String(e)}));",
            vec![],
        )
        .await
        .expect("the video script");
    assert!(video["error"].is_null(), "{video}");
    assert!(
        video["readyState"].as_i64().unwrap_or(0) >= 2,
        "the video has data: {video}"
    );
    assert!((video["duration"].as_f64().unwrap_or(0.0) - 6.5).abs() < 0.3, "{video}");
    assert!(
        (video["time"].as_f64().unwrap_or(0.0) - 3.0).abs() < 0.2,
        "seeked: {video}"
    );
    client.execute("window.scrollTo(0, 0);", vec![]).await.expect("scroll");
    save_screenshot(&client, "session.png").await;

    // A second session, then the comparison of the two.
    let second = upload_session(&client, &base, &athlete_url, &clip, "2026-11-30").await;
    assert_ne!(first, second);
    wait_for(&client, "#headline", ANALYSIS_LIMIT).await;
    wait_for(&client, "#overlay", ANALYSIS_LIMIT).await;
    client.goto(&athlete_url).await.expect("athlete page");
    let boxes = client
        .find_all(Locator::Css("input[name=s]"))
        .await
        .expect("checkboxes");
    assert_eq!(boxes.len(), 2, "both sessions can be compared");
    for checkbox in &boxes {
        checkbox.click().await.expect("tick");
    }
    // A shorter window for this picture: the page is short.
    client.set_window_size(1280, 760).await.expect("resize");
    save_screenshot(&client, "athlete.png").await;
    client.set_window_size(1280, 1700).await.expect("resize");
    client
        .find(Locator::Css("#compare"))
        .await
        .expect("button")
        .click()
        .await
        .expect("compare");
    wait_for(&client, "#comparison", Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let compared = client
        .execute(
            "return document.getElementById('comparison').contentDocument.body.innerText;",
            vec![],
        )
        .await
        .expect("comparison frame");
    let compared = compared.as_str().unwrap_or_default();
    assert!(
        compared.contains("2026-11-02") && compared.contains("2026-11-30"),
        "{compared}"
    );
    save_screenshot(&client, "compare.png").await;

    // Export: the browser downloads the athlete's zip.
    client.goto(&athlete_url).await.expect("athlete page");
    client
        .find(Locator::Css("#export"))
        .await
        .expect("button")
        .click()
        .await
        .expect("export");
    let started = Instant::now();
    let zip = loop {
        let done: Vec<PathBuf> = std::fs::read_dir(&downloads)
            .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|path| path.extension().is_some_and(|ext| ext == "zip"))
            .collect();
        if let Some(zip) = done.into_iter().next() {
            break zip;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no zip was downloaded");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let archive = zip::ZipArchive::new(std::fs::File::open(&zip).expect("zip")).expect("a zip");
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.expect("entry name").into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "athlete.json"), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.ends_with("/clip.mp4")).count(),
        2,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| n.ends_with("/overlay.mp4")).count(),
        2,
        "{names:?}"
    );

    // Erase: confirm the dialog; the athlete is gone from the list.
    client
        .find(Locator::Css("#erase"))
        .await
        .expect("button")
        .click()
        .await
        .expect("erase");
    client.accept_alert().await.expect("confirm the erasure");
    wait_for(&client, "#new-athlete", Duration::from_secs(10)).await;
    let list = text_of(&client, "#athletes").await;
    assert!(
        !list.contains("Ada Runner") && list.contains("No athletes yet"),
        "{list}"
    );
    assert!(std::fs::read_dir(data.join("clips")).expect("clips").next().is_none());

    client.close().await.expect("close the browser");
    drop(server);
}
