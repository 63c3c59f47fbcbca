//! Makes the visual outputs of one clip from a `blazepose-peer-v1` landmark file (MediaPipe's reference output
//! or runform's own): the HTML report, the overlay video and a strip of overlay frames. The tool behind the
//! pictures in docs/ until `runform analyze --html --overlay` is wired.
//!
//! ```text
//! cargo run --release --example visual_report -- LANDMARKS.json CLIP.mp4 OUT_DIR [--no-overlay]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use runform::analysis::{AnalysisSettings, analyze_sequence};
use runform::peer::PeerFile;
use runform::visual::{self, ReportPage, evidence::Evidence, stills};

/// Frames in the overlay strip.
const STRIP_FRAME_COUNT: usize = 6;
/// Height of each frame of the strip, pixels (six portrait frames stay under 1 MB as PNG).
const STRIP_FRAME_HEIGHT_PX: i32 = 440;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let overlay = !args.iter().any(|a| a == "--no-overlay");
    let paths: Vec<PathBuf> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    let [landmarks, clip, out_dir] = paths.as_slice() else {
        eprintln!("usage: visual_report LANDMARKS.json CLIP.mp4 OUT_DIR [--no-overlay]");
        return ExitCode::from(2);
    };
    let file = match PeerFile::read(landmarks) {
        Ok(file) => file,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(1);
        }
    };
    // runform writes its name in meta.producer; MediaPipe's reference files have none.
    let producer = file
        .meta
        .extra
        .get("producer")
        .and_then(|p| p.as_str())
        .unwrap_or("MediaPipe reference")
        .to_owned();
    let sequence = file.to_sequence();
    let settings = AnalysisSettings::default();
    let analysis = analyze_sequence(&sequence, &settings);
    let title = clip
        .file_name()
        .map_or_else(|| "clip".into(), |n| n.to_string_lossy().into_owned());
    let source = format!(
        "{} ({producer} landmarks, read with runform::peer)",
        landmarks
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    );
    let page = ReportPage {
        title: &title,
        clip: Some(clip),
        sequence: &sequence,
        analysis: &analysis,
        settings: &settings,
        landmark_source: &source,
    };
    let run = || -> Result<(), visual::VisualError> {
        let started = std::time::Instant::now();
        visual::write_html(&page, &out_dir.join("report.html"))?;
        eprintln!("report.html in {:.1} s", started.elapsed().as_secs_f64());
        let evidence = Evidence::new(&sequence, &analysis, &settings);
        let frames = stills::write_overlay_strip(
            clip,
            &evidence,
            &analysis,
            STRIP_FRAME_COUNT,
            STRIP_FRAME_HEIGHT_PX,
            &out_dir.join("overlay-strip.png"),
        )?;
        eprintln!("overlay-strip.png: frames {frames:?}");
        if overlay {
            let summary = visual::write_overlay(clip, &sequence, &analysis, &settings, &out_dir.join("overlay.mp4"))?;
            eprintln!("overlay.mp4: {summary:?}");
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(1)
        }
    }
}
