//! Measures the overlay video's making on one clip: decoding alone, decoding and drawing, and the whole overlay
//! with each encoder (OpenCV's writer, as before, and the FFmpeg tool with libx264's ultrafast preset), as frames
//! per second and as a multiple of real time (1.0 = as fast as the clip plays). `scripts/bench-overlay` runs it.
//!
//! ```text
//! cargo run --release --example bench_overlay -- LANDMARKS.json CLIP.mp4 [--only=opencv|ffmpeg]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use runform::analysis::{AnalysisSettings, analyze_sequence};
use runform::peer::PeerFile;
use runform::video::{Frame, VideoReader};
use runform::visual::draw::{Annotator, DrawOptions};
use runform::visual::evidence::Evidence;
use runform::visual::{OverlayEncoder, write_overlay_with};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = args.iter().find_map(|a| a.strip_prefix("--only=")).map(str::to_owned);
    let paths: Vec<PathBuf> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    let [landmarks, clip] = paths.as_slice() else {
        eprintln!("usage: bench_overlay LANDMARKS.json CLIP.mp4 [--only=opencv|ffmpeg]");
        return ExitCode::from(2);
    };
    match run(landmarks, clip, only.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench_overlay: {error}");
            ExitCode::from(1)
        }
    }
}

/// CPU time of this process and its waited-for children (the ffmpeg encoder), seconds: /proc/self/stat's utime,
/// stime, cutime and cstime, in clock ticks of 1/100 s (Linux's USER_HZ).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (in parentheses; it may hold spaces) start with field 3, the state; utime is
    // field 14 overall.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields
        .iter()
        .skip(14 - 3)
        .take(4)
        .filter_map(|field| field.parse::<f64>().ok())
        .sum::<f64>()
        / 100.0
}

fn run(landmarks: &Path, clip: &Path, only: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
    let sequence = PeerFile::read(landmarks)?.to_sequence();
    let settings = AnalysisSettings::default();
    let analysis = analyze_sequence(&sequence, &settings);
    let info = VideoReader::open(clip)?.info().clone();
    let clip_s = info.frame_count as f64 / info.fps;
    let mut cpu_before = cpu_s();
    let mut report = |what: &str, frames: u64, seconds: f64| {
        let cpu = cpu_s() - cpu_before;
        println!(
            "{what:<34} {frames:>5} frames in {seconds:>6.2} s = {:>6.1} frames/s = {:>5.2}x real time \
             (CPU {cpu:>5.1} s)",
            frames as f64 / seconds,
            clip_s / seconds
        );
        cpu_before = cpu_s();
    };
    println!(
        "{}: {}x{} at {:.0} fps, {} frames ({clip_s:.1} s)",
        clip.display(),
        info.width_px,
        info.height_px,
        info.fps,
        info.frame_count
    );

    let started = Instant::now();
    let mut reader = VideoReader::open(clip)?;
    let mut frame = Frame::default();
    let mut frames = 0;
    while reader.read_into(&mut frame)? {
        frames += 1;
    }
    report("decode", frames, started.elapsed().as_secs_f64());

    let evidence = Evidence::new(&sequence, &analysis, &settings);
    let annotator = Annotator::new(&evidence, &analysis, info.width_px as i32, info.height_px as i32);
    let options = DrawOptions {
        panel: true,
        timeline: true,
    };
    let started = Instant::now();
    let mut reader = VideoReader::open(clip)?;
    let mut frames = 0;
    while reader.read_into(&mut frame)? {
        annotator.draw(&mut frame.image, frame.index as usize, options)?;
        frames += 1;
    }
    report("decode + draw", frames, started.elapsed().as_secs_f64());

    let dir = tempfile::tempdir()?;
    for (name, encoder) in [
        ("overlay, OpenCV writer (before)", OverlayEncoder::OpenCv),
        ("overlay, ffmpeg ultrafast (after)", OverlayEncoder::FfmpegCli),
    ] {
        if only.is_some_and(|only| !format!("{encoder:?}").to_ascii_lowercase().contains(only)) {
            continue;
        }
        let out = dir.path().join(format!("{encoder:?}.mp4"));
        let summary = write_overlay_with(clip, &sequence, &analysis, &settings, &out, encoder)?;
        let size_mb = std::fs::metadata(&out)?.len() as f64 / 1e6;
        report(name, summary.frame_count, summary.elapsed_s);
        println!("{:<34} {size_mb:.1} MB", "");
    }
    Ok(())
}
