//! The visual outputs end to end (issue 6): the overlay video of a synthetic runner is H.264 at the clip's size,
//! rate and frame count; the HTML report has its sections, plots and stills, needs no network, and renders in
//! headless Chromium without console errors (with a screenshot saved under target/); the overlay plays in
//! Chromium; the comparison page renders too. One variant runs on MediaPipe's reference landmarks of
//! treadmill_side_gym_portrait60.mp4 where ../shared is present.
//!
//! Chromium is Debian's `chromium` package, which scripts/setup installs: a missing Chromium fails these tests
//! rather than skipping them, so a render check can never pass by not running.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use runform::analysis::ViewChoice;
use runform::analysis::{Analysis, AnalysisSettings, Thresholds, analyze_sequence};
use runform::landmarks::PoseSequence;
use runform::metrics::{FootStrikeClass, MetricId};
use runform::peer::PeerFile;
use runform::report::{ClipSection, PoseSummary, REPORT_SCHEMA, Report, ReportSettings, SessionInfo, Timings};
use runform::synthetic::{Corruption, SyntheticRunner, SyntheticView};
use runform::video::VideoInfo;
use runform::video::{Frame, VideoReader};
use runform::visual::{self, CompareSession, ReportPage, SessionPage, SessionValue};

/// A synthetic runner small enough to encode in a second: 480×360 at 60 fps for 4 s.
fn small_runner(view: SyntheticView) -> SyntheticRunner {
    SyntheticRunner {
        width_px: 480,
        height_px: 360,
        px_per_m: 170.0,
        fps: 60.0,
        duration_s: 4.0,
        view,
        ..SyntheticRunner::default()
    }
}

/// The runner's landmarks, their analysis, and a plain clip with as many frames to draw them on.
fn synthetic_clip(dir: &Path, view: SyntheticView) -> (PathBuf, PoseSequence, Analysis, AnalysisSettings) {
    let runner = small_runner(view);
    let sequence = runner.generate(&Corruption::default()).sequence;
    let settings = AnalysisSettings::default();
    let analysis = analyze_sequence(&sequence, &settings);
    let clip = dir.join("synthetic.mp4");
    let source = format!("testsrc2=s={}x{}:r={}", runner.width_px, runner.height_px, runner.fps);
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &source,
        "-frames:v",
        &sequence.frames.len().to_string(),
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        clip.to_str().expect("utf-8 temp path"),
    ]);
    (clip, sequence, analysis, settings)
}

/// Checks what every report must hold, whatever the clip.
fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for forbidden in ["<script", "<link", "src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !html.contains(forbidden),
            "the report must need no network: found {forbidden}"
        );
    }
    // The only URLs are SVG namespace declarations.
    assert_eq!(
        html.matches("http://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
}

fn section_ids(html: &str) -> Vec<String> {
    html.match_indices("<section id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Headless Chromium.

/// Debian's Chromium; fails (not skips) when it is missing, since scripts/setup installs it.
fn chromium() -> PathBuf {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).is_file() {
            return PathBuf::from(candidate);
        }
    }
    panic!("Chromium is not installed: run scripts/setup (it installs Debian's chromium package)");
}

/// What one headless Chromium run printed: the page's DOM (with --dump-dom) and its console messages.
struct ChromiumRun {
    stdout: String,
    console: Vec<String>,
}

/// Runs headless Chromium on `page` with the flags this sandbox needs plus `extra`, in a fresh profile.
fn run_chromium(page: &Path, extra: &[&str]) -> ChromiumRun {
    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("file://{}", page.canonicalize().expect("page path").display());
    let output = Command::new("timeout")
        .arg("90")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        // Chromium's Debian wrapper must not see the test's standard input (cargo's probes read theirs).
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    ChromiumRun {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_owned)
            .collect(),
    }
}

/// A script appended to a copy of the report (the report itself has none): after load it checks that every
/// image decoded and every plot has drawn content, and writes the counts into the DOM; a failure is a console
/// error.
const RENDER_CHECK: &str = r#"<script>
window.addEventListener('load', () => {
  const images = [...document.images];
  const broken = images.filter(i => !i.complete || i.naturalWidth === 0).length;
  const plots = [...document.querySelectorAll('svg.plot')];
  const empty = plots.filter(p => p.getBBox().width === 0 || !p.querySelector('.axis')).length;
  if (broken) console.error('broken images: ' + broken);
  if (empty) console.error('empty plots: ' + empty);
  const out = document.createElement('div');
  out.id = 'render-check';
  out.textContent = 'images=' + images.length + ' broken=' + broken + ' plots=' + plots.length + ' empty=' + empty;
  document.body.appendChild(out);
});
</script>"#;

/// Renders `html` in Chromium: no console errors, every section present, images decoded, plots drawn, and a
/// screenshot at `screenshot`. Returns (images, plots) as the browser counted them.
fn check_in_chromium(html: &str, dir: &Path, sections: &[&str], screenshot: &Path) -> (usize, usize) {
    let checked = dir.join("checked.html");
    std::fs::write(&checked, html.replace("</body>", &format!("{RENDER_CHECK}</body>"))).expect("write page");
    let run = run_chromium(&checked, &["--virtual-time-budget=3000", "--dump-dom"]);
    assert!(run.console.is_empty(), "console messages: {:#?}", run.console);
    for id in sections {
        assert!(
            run.stdout.contains(&format!("<section id=\"{id}\"")),
            "section {id} missing from the DOM"
        );
    }
    let check = run
        .stdout
        .split("<div id=\"render-check\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| {
            panic!(
                "the render check did not run: {}",
                &run.stdout[..run.stdout.len().min(400)]
            )
        });
    let count = |name: &str| -> usize {
        check
            .split_whitespace()
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in {check}"))
    };
    assert_eq!((count("broken"), count("empty")), (0, 0), "{check}");
    // The screenshot is of the report as delivered, without the check script.
    let plain = dir.join("plain.html");
    std::fs::write(&plain, html).expect("write page");
    let shot = run_chromium(
        &plain,
        &[
            "--window-size=1280,4000",
            &format!("--screenshot={}", screenshot.display()),
        ],
    );
    assert!(shot.console.is_empty(), "console messages: {:#?}", shot.console);
    let size = std::fs::metadata(screenshot).expect("screenshot written").len();
    assert!(size > 50_000, "a blank page would be a tiny PNG; got {size} bytes");
    (count("images"), count("plots"))
}

fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

// ---------------------------------------------------------------------------------------------------------------

#[test]
fn chromium_reports_console_errors_so_a_clean_render_means_something() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><script>console.error('deliberate'); missingFunction();</script>",
    )
    .expect("write");
    let run = run_chromium(&page, &["--virtual-time-budget=1000", "--dump-dom"]);
    assert!(
        run.console.iter().any(|l| l.contains("deliberate")),
        "{:#?}",
        run.console
    );
    assert!(
        run.console.iter().any(|l| l.contains("missingFunction")),
        "{:#?}",
        run.console
    );
}

#[test]
fn synthetic_side_view_overlay_and_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (clip, sequence, analysis, settings) = synthetic_clip(dir.path(), SyntheticView::Side);
    assert!(
        analysis.steps.len() >= 10,
        "the synthetic runner gives steps: {:?}",
        analysis.warnings
    );
    // It lands heel first (12°) on both feet, and every step says so.
    for pattern in &analysis.strike_patterns {
        assert_eq!(pattern.class, FootStrikeClass::Rearfoot, "{pattern:?}");
        assert_eq!(pattern.steps, pattern.of, "{pattern:?}");
    }
    assert_eq!(analysis.strike_patterns.len(), 2);

    // Overlay: same size, rate and frame count, H.264 yuv420p, no temporary left behind.
    let overlay = dir.path().join("overlay.mp4");
    let summary = visual::write_overlay(&clip, &sequence, &analysis, &settings, &overlay).expect("overlay");
    assert_eq!(summary.frame_count as usize, sequence.frames.len());
    let mut reader = VideoReader::open(&overlay).expect("overlay decodes");
    let info = reader.info().clone();
    assert_eq!((info.width_px, info.height_px), (480, 360));
    assert!((info.fps - 60.0).abs() < 1e-6, "fps {}", info.fps);
    assert_eq!(info.codec, "h264");
    let mut frame = Frame::default();
    let mut decoded = 0;
    while reader.read_into(&mut frame).expect("decode") {
        decoded += 1;
    }
    assert_eq!(decoded, sequence.frames.len());
    let pix_fmt = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "stream=pix_fmt",
            "-of",
            "csv=p=0",
        ])
        .arg(&overlay)
        .output()
        .expect("ffprobe");
    assert_eq!(
        String::from_utf8_lossy(&pix_fmt.stdout).trim(),
        "yuv420p",
        "browsers need 4:2:0"
    );

    // Landmarks of another clip (fewer frames) are refused, and nothing is left behind.
    let mut short = sequence.clone();
    short.frames.truncate(sequence.frames.len() / 2);
    let refused = dir.path().join("refused.mp4");
    let error = visual::write_overlay(&clip, &short, &analysis, &settings, &refused).expect_err("mismatch");
    assert!(error.to_string().contains("from another clip"), "{error}");
    assert!(!refused.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");

    // The overlay plays in Chromium (H.264 in MP4 is what browsers decode).
    let player = dir.path().join("play.html");
    std::fs::write(
        &player,
        r#"<!DOCTYPE html><video id="v" src="overlay.mp4" muted></video><div id="out">pending</div><script>
const v = document.getElementById('v'), out = document.getElementById('out');
v.addEventListener('loadeddata', () => { out.textContent = 'loaded ' + v.videoWidth + 'x' + v.videoHeight; });
v.addEventListener('error', () => { out.textContent = 'error ' + (v.error && v.error.code); });
</script>"#,
    )
    .expect("write player");
    let run = run_chromium(
        &player,
        &[
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ],
    );
    assert!(
        run.stdout.contains("<div id=\"out\">loaded 480x360</div>"),
        "{}",
        run.stdout
    );

    // Report: sections, plots, stills, no network; then the browser.
    let page = ReportPage {
        title: "synthetic runner",
        clip: Some(&clip),
        sequence: &sequence,
        analysis: &analysis,
        settings: &settings,
        landmark_source: "runform::synthetic",
    };
    let html_path = dir.path().join("report.html");
    visual::write_html(&page, &html_path).expect("html");
    let html = std::fs::read_to_string(&html_path).expect("read html");
    assert_self_contained(&html);
    assert_eq!(section_ids(&html), ["summary", "cycle", "steps", "stills", "quality"]);
    for plot in [
        "Trunk lean",
        "Hip (thigh angle)",
        "Knee flexion",
        "Foot angle to the belt",
        "Foot strike angle by step",
    ] {
        assert!(html.contains(&format!("<title>{plot}</title>")), "plot {plot} missing");
    }
    assert!(html.contains("Stride, from initial contact (%)") && html.contains("Knee flexion (deg)"));
    assert!(
        html.contains(">TO L</text>") && html.contains(">TO R</text>"),
        "toe-offs marked"
    );
    assert_eq!(
        html.matches("data:image/jpeg;base64,").count(),
        6,
        "three key moments per foot"
    );
    assert!(html.contains("data-metric=\"cadence_steps_per_min\""));
    // The synthetic runner lands heel first (12°) on both feet: the foot strike card says each leg's pattern.
    assert!(
        html.contains("Strike: left rearfoot on") && html.contains(", right rearfoot on"),
        "the strike pattern under the foot strike card"
    );
    let (images, plots) = check_in_chromium(
        &html,
        dir.path(),
        &["summary", "cycle", "steps", "stills", "quality"],
        &screenshot_path("report-synthetic-side.png"),
    );
    assert_eq!(images, 6);
    assert!(plots >= 10, "{plots} plots");
}

/// The HTML report of `runner`'s clean landmarks, analysed with the default settings and made without a video.
fn synthetic_page_html(runner: &SyntheticRunner, title: &str) -> String {
    let sequence = runner.generate(&Corruption::default()).sequence;
    let settings = AnalysisSettings::default();
    let analysis = analyze_sequence(&sequence, &settings);
    let page = ReportPage {
        title,
        clip: None,
        sequence: &sequence,
        analysis: &analysis,
        settings: &settings,
        landmark_source: "runform::synthetic",
    };
    visual::render_html(&page).expect("html")
}

#[test]
fn synthetic_rear_view_report_has_the_pelvis_section() {
    let html = synthetic_page_html(&small_runner(SyntheticView::Rear), "synthetic runner from behind");
    assert_self_contained(&html);
    assert_eq!(section_ids(&html), ["summary", "rear", "steps", "stills", "quality"]);
    assert!(html.contains("<title>Pelvic obliquity over the stride</title>"));
    assert!(html.contains("<title>Pelvic drop at midstance by step</title>"));
    assert!(
        html.contains("made without the video"),
        "no clip: the stills section says why it is empty"
    );
}

/// A slow gait from behind (a 2 s stride) is measured as walking: the page reads none of its numbers against
/// running's reference ranges, and says so, while a runner's page does.
#[test]
fn a_walking_report_reads_nothing_against_runnings_ranges() {
    let pages = [(60.0, 900.0, true), (170.0, 250.0, false)].map(|(cadence, contact_ms, walks)| {
        let runner = SyntheticRunner {
            cadence_steps_per_min: cadence,
            contact_time_ms: contact_ms,
            pelvic_drop_deg: 3.0,
            duration_s: 12.0,
            ..small_runner(SyntheticView::Rear)
        };
        (walks, synthetic_page_html(&runner, "synthetic gait from behind"))
    });
    for (walks, html) in pages {
        assert_self_contained(&html);
        assert_eq!(html.contains("the clip shows walking"), walks);
        assert_eq!(html.contains("No flag is raised on walking"), walks);
        assert_eq!(html.contains("Within the reference range"), !walks);
    }
}

/// What a report says of a clip that was never a file (the synthetic runner).
fn synthetic_input(name: &str, runner: &SyntheticRunner, frames: usize) -> (VideoInfo, PoseSummary) {
    let input = VideoInfo {
        path: name.into(),
        file_size_byte: 0,
        sha256: String::new(),
        width_px: runner.width_px,
        height_px: runner.height_px,
        fps: runner.fps,
        frame_count: frames as u64,
        frame_count_exact: true,
        duration_s: runner.duration_s,
        codec: "none".into(),
        rotation_deg: 0,
        truncation: None,
    };
    let pose = PoseSummary {
        frames: frames as u64,
        frames_with_pose: frames as u64,
        detector_runs: 1,
        landmark_runs: frames as u64,
        model_load_s: 0.0,
        run_s: 0.0,
        end_to_end_fps: 0.0,
        model: Some("full".into()),
        model_choice: None,
    };
    (input, pose)
}

#[test]
fn a_two_view_session_page_names_each_metrics_view_and_renders_in_chromium() {
    let dir = tempfile::tempdir().expect("temp dir");
    let side_runner = small_runner(SyntheticView::Side);
    let rear_runner = small_runner(SyntheticView::Rear);
    let side_sequence = side_runner.generate(&Corruption::default()).sequence;
    let rear_sequence = rear_runner.generate(&Corruption::default()).sequence;
    let side_settings = AnalysisSettings {
        view: ViewChoice::Side,
        ..AnalysisSettings::default()
    };
    let rear_settings = AnalysisSettings {
        view: ViewChoice::Rear,
        ..AnalysisSettings::default()
    };
    let side_analysis = analyze_sequence(&side_sequence, &side_settings);
    let rear_analysis = analyze_sequence(&rear_sequence, &rear_settings);
    let (input, pose) = synthetic_input("side.mp4", &side_runner, side_sequence.frames.len());
    let (rear_input, rear_pose) = synthetic_input("rear.mp4", &rear_runner, rear_sequence.frames.len());
    let mut report = Report {
        schema: REPORT_SCHEMA.to_owned(),
        runform_version: env!("CARGO_PKG_VERSION").to_owned(),
        input,
        session: SessionInfo::default(),
        settings: ReportSettings {
            runform_version: env!("CARGO_PKG_VERSION").to_owned(),
            runform_build: Some(runform::BUILD.to_owned()),
            model: "full".into(),
            model_files: None,
            detection_mode: "tracking".into(),
            runner_at: None,
            analysis: side_settings.clone(),
        },
        pose,
        analysis: side_analysis.clone(),
        metrics: Vec::new(),
        rear: Some(ClipSection {
            input: rear_input,
            pose: rear_pose,
            analysis: rear_analysis.clone(),
        }),
        cadence_agreement: None,
        timings: Timings {
            decode_and_pose_s: 0.0,
            analysis_s: 0.0,
            total_s: 0.0,
        },
    };
    report.combine_views();
    assert_eq!(
        report.cadence_agreement.as_ref().and_then(|a| a.agree),
        Some(true),
        "one runner, one cadence"
    );
    let page = |title, sequence, analysis, settings| ReportPage {
        title,
        clip: None,
        sequence,
        analysis,
        settings,
        landmark_source: "runform::synthetic",
    };
    let session = SessionPage {
        title: "synthetic runner from the side and from behind",
        report: &report,
        side: page("side.mp4", &side_sequence, &side_analysis, &side_settings),
        rear: page("rear.mp4", &rear_sequence, &rear_analysis, &rear_settings),
        overlays: Vec::new(),
    };
    let html = visual::render_session_html(&session).expect("html");
    assert_self_contained(&html);
    assert_eq!(
        section_ids(&html),
        [
            "summary",
            "views",
            "side-cycle",
            "side-steps",
            "side-stills",
            "side-quality",
            "rear-pelvis",
            "rear-steps",
            "rear-stills",
            "rear-quality"
        ]
    );
    // Each card names its view and clip: pelvic drop from behind, cadence and the angles from the side.
    assert!(html.contains("From the rear view (rear.mp4)"), "pelvic drop's card");
    assert!(
        html.contains("From the side view (side.mp4)"),
        "the side metrics' cards"
    );
    assert!(html.contains("agree within 3 %"), "the cadence check");
    let (_, plots) = check_in_chromium(
        &html,
        dir.path(),
        &["summary", "views", "side-cycle", "rear-pelvis"],
        &screenshot_path("session-synthetic.png"),
    );
    assert!(plots >= 10, "{plots} plots");
}

#[test]
fn comparison_page_renders_in_chromium() {
    let dir = tempfile::tempdir().expect("temp dir");
    let session = |label: &str, cadence: f64, contact: f64, drop: Option<f64>| CompareSession {
        label: label.into(),
        date: "2026-11-28".into(),
        note: None,
        values: [
            Some((MetricId::CadenceStepsPerMin, cadence, 4.0)),
            Some((MetricId::ContactTimeMs, contact, 12.0)),
            drop.map(|d| (MetricId::PelvicDropMidstanceDeg, d, 1.5)),
        ]
        .into_iter()
        .flatten()
        .map(|(metric, value, spread)| SessionValue {
            metric,
            value,
            spread: Some(spread),
            n: 24,
            verdict: None,
        })
        .collect(),
    };
    let sessions = [
        session("week 0", 158.0, 285.0, Some(7.5)),
        session("week 4", 165.0, 270.0, None),
        session("week 8", 172.0, 255.0, Some(5.0)),
    ];
    let out = dir.path().join("compare.html");
    visual::write_compare_html("Runner A over 8 weeks", &sessions, &Thresholds::default(), &out).expect("write");
    let html = std::fs::read_to_string(&out).expect("read");
    assert_self_contained(&html);
    let (_, plots) = check_in_chromium(
        &html,
        dir.path(),
        &["sessions", "changes", "values", "plots"],
        &screenshot_path("compare-synthetic.png"),
    );
    assert_eq!(plots, 3);
}

#[test]
fn reference_landmarks_of_the_portrait_treadmill_clip_give_a_full_report() {
    let Some(videos) = common::shared_videos() else {
        return;
    };
    let clip = videos.join("treadmill_side_gym_portrait60.mp4");
    let landmarks = videos.join("../reference/treadmill_side_gym_portrait60.legacy_nosmooth_full.json");
    let sequence = PeerFile::read(&landmarks).expect("reference landmarks").to_sequence();
    let settings = AnalysisSettings::default();
    let analysis = analyze_sequence(&sequence, &settings);
    let page = ReportPage {
        title: "treadmill_side_gym_portrait60.mp4",
        clip: Some(&clip),
        sequence: &sequence,
        analysis: &analysis,
        settings: &settings,
        landmark_source: "MediaPipe reference landmarks (legacy, no smoothing, full model)",
    };
    let html = visual::render_html(&page).expect("html");
    assert_self_contained(&html);
    let dir = tempfile::tempdir().expect("temp dir");
    let sections = ["summary", "cycle", "steps", "stills", "quality"];
    let (images, plots) = check_in_chromium(&html, dir.path(), &sections, &screenshot_path("report-portrait60.png"));
    assert_eq!(images, 6);
    assert!(plots >= 10, "{plots} plots");
}
