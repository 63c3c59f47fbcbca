//! Fidelity of runform's pose stage against MediaPipe's own landmarks on the shared fixture clips
//! (`../shared/reference`, written by `../shared/tools/mediapipe-peer` with the same full model):
//! - per-frame mode (detector on every frame) against the Tasks API in IMAGE mode (`*.tasks_image_full.json`);
//! - tracking mode against the legacy API with output smoothing off (`*.legacy_nosmooth_full.json`), whose
//!   tracking crop is smoothed internally, as runform's is by default (`CropSmoothing::AuxOneEuro`).
//!
//! Distances are 2D, in pixels, over all 33 landmarks of the frames where both found the same person (mid-hips
//! within [`SAME_PERSON_HIP_FRACTION`] of runform's ROI side). runform decodes with the system's OpenCV/FFmpeg
//! and MediaPipe's peer with opencv-python's: their YUV→BGR conversions differ by about one grey level on half the
//! pixels, and that, not the pipeline, is what the per-frame medians of those clips measure (fed identical frames,
//! walk_side_sports2d_demo's per-frame median is 0.008 px). On clips where both decoders give the same pixels
//! (walk_side_studio_inplace, walk_front_studio_inplace), per-frame mode matches MediaPipe to 0.00–0.01 px, which
//! [`per_frame_mode_is_exact_where_the_decoders_agree`] pins.
//!
//! The three named clips run by default (about a minute on 2 cores); `cargo test --release --test pose_fidelity
//! -- --ignored --nocapture` sweeps every clip and prints the full table.

use std::path::{Path, PathBuf};

use runform::landmarks::{LandmarkId, Pose, PoseSequence};
use runform::peer::PeerFile;
use runform::pose::pipeline::poses_from_clip;
use runform::pose::{DetectionMode, PoseSettings};

/// Two poses are the same person when their mid-hips lie within this fraction of runform's ROI side.
const SAME_PERSON_HIP_FRACTION: f32 = 0.25;

/// The clips the issue names.
const CHECKED_CLIPS: [&str; 3] = [
    "walk_side_sports2d_demo",
    "treadmill_side_gym_portrait60",
    "overground_side_run_sports2d_demo3",
];

fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.join("videos").is_dir() && dir.join("reference").is_dir() {
        return Some(dir);
    }
    eprintln!(
        "skipped: {} is absent (../shared is only on developer and CI machines)",
        dir.display()
    );
    None
}

fn models_present() -> bool {
    match runform::pose::models::find_model(runform::pose::models::DETECTOR_FILE) {
        Ok(_) => true,
        Err(error) => {
            eprintln!("skipped: {error}");
            false
        }
    }
}

/// Agreement of one clip in one mode.
#[derive(Debug)]
struct Fidelity {
    both: usize,
    same_person: usize,
    only_runform: usize,
    only_mediapipe: usize,
    median_px: f32,
    p95_px: f32,
    max_px: f32,
}

fn mid_hip(pose: &Pose) -> (f32, f32) {
    let l = pose.landmark(LandmarkId::LeftHip);
    let r = pose.landmark(LandmarkId::RightHip);
    ((l.x_px + r.x_px) / 2.0, (l.y_px + r.y_px) / 2.0)
}

fn percentile(sorted: &[f32], q: f32) -> f32 {
    if sorted.is_empty() {
        return f32::NAN;
    }
    let rank = (q * (sorted.len() - 1) as f32).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn fidelity(ours: &PoseSequence, reference: &PoseSequence) -> Fidelity {
    let (mut both, mut same_person, mut only_runform, mut only_mediapipe) = (0, 0, 0, 0);
    let mut distances = Vec::new();
    for (a, b) in ours.frames.iter().zip(&reference.frames) {
        match (&a.pose, &b.pose) {
            (Some(a), Some(b)) => {
                both += 1;
                let ((ax, ay), (bx, by)) = (mid_hip(a), mid_hip(b));
                if (ax - bx).hypot(ay - by) > SAME_PERSON_HIP_FRACTION * a.roi.width_px {
                    continue;
                }
                same_person += 1;
                for (la, lb) in a.landmarks.iter().zip(&b.landmarks) {
                    distances.push((la.x_px - lb.x_px).hypot(la.y_px - lb.y_px));
                }
            }
            (Some(_), None) => only_runform += 1,
            (None, Some(_)) => only_mediapipe += 1,
            (None, None) => {}
        }
    }
    distances.sort_by(f32::total_cmp);
    Fidelity {
        both,
        same_person,
        only_runform,
        only_mediapipe,
        median_px: percentile(&distances, 0.5),
        p95_px: percentile(&distances, 0.95),
        max_px: distances.last().copied().unwrap_or(f32::NAN),
    }
}

fn measure(shared: &Path, clip: &str, mode: DetectionMode) -> Fidelity {
    let video = shared.join("videos").join(format!("{clip}.mp4"));
    let suffix = match mode {
        DetectionMode::EveryFrame => "tasks_image_full",
        DetectionMode::Tracking => "legacy_nosmooth_full",
    };
    let reference = PeerFile::read(&shared.join("reference").join(format!("{clip}.{suffix}.json")))
        .expect("reference parses")
        .to_sequence();
    let settings = PoseSettings {
        mode,
        ..PoseSettings::default()
    };
    let ours = poses_from_clip(&video, &settings, |_| {}).expect("pose stage runs");
    assert_eq!(
        ours.sequence.frames.len(),
        reference.frames.len(),
        "{clip}: frame counts differ"
    );
    let result = fidelity(&ours.sequence, &reference);
    println!(
        "| {clip} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.1} |",
        match mode {
            DetectionMode::EveryFrame => "per-frame",
            DetectionMode::Tracking => "tracking",
        },
        result.both,
        result.same_person,
        result.only_runform,
        result.only_mediapipe,
        result.median_px,
        result.p95_px,
        result.max_px
    );
    result
}

fn print_header() {
    println!("| clip | mode | both | same person | only runform | only MediaPipe | median px | p95 px | max px |");
    println!("|---|---|---|---|---|---|---|---|---|");
}

/// Per-frame medians asserted, per clip of [`CHECKED_CLIPS`]: measured 2.19, 2.90 and 0.38 px, plus a margin
/// (the 0.5 px for the third). The first two are bound by the decoders' colour conversion, not by the
/// pipeline (module documentation).
const PER_FRAME_MEDIAN_LIMIT_PX: [f32; 3] = [3.0, 4.0, 0.5];
/// Tracking medians asserted: measured 2.05 (31 frames on the same person), 4.93 and 1.10 px, plus a margin (the 3 px for the first and
/// third). Tracking feeds each frame's landmarks into the next frame's crop, so any difference grows: the legacy
/// build (opencv-python 4.11, TFLite 0.10.21) already differs from the Tasks build by 0.07 px on the first frame of
/// treadmill_side_cropped_feet_stock, where runform's per-frame mode matches the Tasks API to 0.01 px, and the
/// tracking medians there end at 4–5 px.
const TRACKING_MEDIAN_LIMIT_PX: [f32; 3] = [3.0, 6.5, 2.0];

#[test]
fn landmarks_match_mediapipe_on_the_named_clips() {
    let Some(shared) = shared_dir() else { return };
    if !models_present() {
        return;
    }
    print_header();
    for (i, clip) in CHECKED_CLIPS.iter().enumerate() {
        for (mode, limit) in [
            (DetectionMode::EveryFrame, PER_FRAME_MEDIAN_LIMIT_PX[i]),
            (DetectionMode::Tracking, TRACKING_MEDIAN_LIMIT_PX[i]),
        ] {
            let f = measure(&shared, clip, mode);
            // In walk_side_sports2d_demo MediaPipe's tracking stays on the man on the box; runform's census moves
            // to the walker once she is in view (src/pose/runner.rs), so fewer frames follow the same person there.
            let same_person_share = if *clip == "walk_side_sports2d_demo" && mode == DetectionMode::Tracking {
                0.25
            } else {
                0.8
            };
            assert!(
                f.same_person as f64 >= same_person_share * f.both as f64 && f.same_person > 0,
                "{clip} {mode:?}: too few frames on the same person: {f:?}"
            );
            assert!(
                f.median_px <= limit,
                "{clip} {mode:?}: median {} px > {limit} px: {f:?}",
                f.median_px
            );
        }
    }
}

/// A clip both decoders decode to the same pixels: per-frame landmarks must match MediaPipe's to the
/// conversion's rounding (measured: median 0.00 px, p95 0.01 px, max 1.6 px over 380 frames).
#[test]
fn per_frame_mode_is_exact_where_the_decoders_agree() {
    let Some(shared) = shared_dir() else { return };
    if !models_present() {
        return;
    }
    print_header();
    let f = measure(&shared, "walk_side_studio_inplace", DetectionMode::EveryFrame);
    assert_eq!((f.only_runform, f.only_mediapipe), (0, 0), "{f:?}");
    assert!(f.same_person == f.both && f.both > 350, "{f:?}");
    assert!(f.median_px <= 0.05 && f.p95_px <= 0.1, "{f:?}");
}

#[test]
#[ignore = "sweeps every fixture clip in both modes (several minutes); run with --ignored --nocapture"]
fn fidelity_table_for_every_clip() {
    let Some(shared) = shared_dir() else { return };
    if !models_present() {
        return;
    }
    let mut clips: Vec<String> = std::fs::read_dir(shared.join("videos"))
        .expect("videos")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".mp4").map(str::to_owned))
        .collect();
    clips.sort();
    print_header();
    for clip in &clips {
        for mode in [DetectionMode::EveryFrame, DetectionMode::Tracking] {
            measure(&shared, clip, mode);
        }
    }
}
