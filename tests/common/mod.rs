//! Helpers shared by the integration tests: the fixture folder, and clips made with ffmpeg on the fly.
#![allow(dead_code)] // each test binary uses a different subset

pub mod server;

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/videos` beside the project, or `None` (with a message) where this machine lacks it.
pub fn shared_videos() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/videos");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (it exists only on developer and CI machines)",
            dir.display()
        );
        None
    }
}

/// Runs ffmpeg quietly with `args`; panics with the fix when ffmpeg is missing or fails.
pub fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("ffmpeg could not run ({e}); scripts/setup installs it"));
    assert!(status.success(), "ffmpeg {args:?} failed");
}

/// A small H.264 test clip: `frames` frames at 30 fps, `width`×`height`, black with a white bar down the left
/// quarter (so a rotation shows where the left edge went).
pub fn make_clip(dir: &Path, name: &str, width: u32, height: u32, frames: u32) -> PathBuf {
    let path = dir.join(name);
    let source = format!(
        "color=c=black:s={width}x{height}:r=30,drawbox=x=0:y=0:w={}:h={height}:c=white:t=fill",
        width / 4
    );
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &source,
        "-frames:v",
        &frames.to_string(),
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        path.to_str().expect("utf-8 temp path"),
    ]);
    path
}

/// Every video frame's presentation time as ffprobe reports it, seconds.
pub fn ffprobe_frame_times(path: &Path) -> Vec<f64> {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("ffprobe could not run ({e}); scripts/setup installs it"));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.trim().trim_end_matches(',').parse().ok())
        .collect()
}

/// The parts of a report that do not depend on how fast the machine was.
pub fn without_timings(mut report: serde_json::Value) -> serde_json::Value {
    report.as_object_mut().expect("object").remove("timings");
    for key in ["model_load_s", "run_s", "end_to_end_fps"] {
        report["pose"].as_object_mut().expect("pose").remove(key);
    }
    report
}

/// Every file below `folder` (recursively); none where the folder does not exist (yet).
pub fn files_below(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// Every report below `out`, by path relative to `out`, without timings.
pub fn reports_below(out: &Path) -> std::collections::BTreeMap<std::path::PathBuf, serde_json::Value> {
    // The batch may not have made the folder yet: then there is none.
    files_below(out)
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|n| n == "report.json"))
        .map(|path| {
            let report = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("whole JSON");
            (
                path.strip_prefix(out).expect("below").to_path_buf(),
                without_timings(report),
            )
        })
        .collect()
}

/// The CSV batch summary's rows, sorted, without the columns that differ between runs (status, report path,
/// time).
pub fn summary_rows(out: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(out.join("batch-summary.csv")).expect("batch-summary.csv");
    let header = reader.headers().expect("header").clone();
    let kept: Vec<usize> = (0..header.len())
        .filter(|&i| !["status", "report", "elapsed_s"].contains(&&header[i]))
        .collect();
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|record| {
            let record = record.expect("row");
            kept.iter().map(|&i| record[i].to_owned()).collect()
        })
        .collect();
    rows.sort();
    rows
}

/// The report's JSON Schema, `docs/report.schema.json`, compiled.
pub fn schema_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("schema committed")).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// Fails, listing every error, unless `report` matches `docs/report.schema.json`.
pub fn assert_valid(report: &serde_json::Value) {
    let validator = schema_validator();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match docs/report.schema.json:\n{}",
        errors.join("\n")
    );
}
