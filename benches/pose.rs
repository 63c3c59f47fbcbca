//! Benchmarks of the pose stage, per frame, with throughput in frames: the preprocessing (the detector's
//! letterboxed 224×224 crop of a 1768×994 frame, the landmark model's rotated 256×256 crop), the decoding of the
//! models' outputs (anchors → detections → weighted NMS; landmarks + 7×7 heatmap refinement + projection), and,
//! where the models are present, each model's inference under the session options being compared (intra-op
//! threads 1 and 2, spinning off and on), which is how `SessionOptions::default` was chosen.
//!
//! `cargo bench --bench pose` (add `-- preprocess` etc. to filter).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opencv::core::{self, Mat, Scalar};
use opencv::prelude::*;
use runform::landmarks::Roi;
use runform::pose::crop::{Border, Cropper, ValueRange};
use runform::pose::detector::{
    ANCHOR_COUNT, Detection, Detector, NmsScratch, detections_from_tensors, ssd_anchors, weighted_non_max_suppression,
};
use runform::pose::landmarker::{
    CropLandmark, HEATMAP_SIZE, Landmarker, MODEL_LANDMARK_COUNT, WORLD_VALUE_COUNT, crop_landmarks_from_tensor,
    pose_from_crop_landmarks, refine_landmarks_from_heatmap,
};
use runform::pose::models::{self, ModelPreset, SessionOptions};

/// A 1768×994 BGR frame (the size of the demo clip) with a smooth pattern, so interpolation does real work.
fn synthetic_frame() -> Mat {
    let (width, height) = (1768, 994);
    let mut image = Mat::new_rows_cols_with_default(height, width, core::CV_8UC3, Scalar::all(0.0)).expect("mat");
    let bytes = image.data_bytes_mut().expect("bytes");
    for (i, pixel) in bytes.chunks_exact_mut(3).enumerate() {
        let (x, y) = (i % width as usize, i / width as usize);
        pixel[0] = (x % 256) as u8;
        pixel[1] = (y % 256) as u8;
        pixel[2] = ((x + y) % 256) as u8;
    }
    image
}

/// A tilted ROI around the middle of the frame, as tracking gives for a runner.
fn runner_roi() -> Roi {
    Roi {
        center_x_px: 900.0,
        center_y_px: 520.0,
        width_px: 700.0,
        height_px: 700.0,
        rotation_rad: 0.2,
    }
}

fn preprocess(c: &mut Criterion) {
    let frame = synthetic_frame();
    let mut group = c.benchmark_group("preprocess");
    group.throughput(Throughput::Elements(1));
    let mut detector_crop = Cropper::new(224, Border::Zero, ValueRange { min: -1.0, max: 1.0 }).expect("cropper");
    let mut detector_tensor = vec![0.0; detector_crop.tensor_len()];
    let (letterbox, _) = runform::pose::geometry::letterbox_roi_from_image_size(1768, 994);
    group.bench_function("detector_letterbox_224", |b| {
        b.iter(|| {
            detector_crop
                .crop_into(black_box(&frame), &letterbox, &mut detector_tensor)
                .expect("crop")
        })
    });
    let mut landmark_crop = Cropper::new(256, Border::Replicate, ValueRange { min: 0.0, max: 1.0 }).expect("cropper");
    let mut landmark_tensor = vec![0.0; landmark_crop.tensor_len()];
    let roi = runner_roi();
    group.bench_function("landmark_rotated_crop_256", |b| {
        b.iter(|| {
            landmark_crop
                .crop_into(black_box(&frame), &roi, &mut landmark_tensor)
                .expect("crop")
        })
    });
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    // Detector: a person-like cluster of 12 anchors above threshold among 2254 background ones.
    let anchors = ssd_anchors();
    let mut regressors = vec![0.0f32; ANCHOR_COUNT * 12];
    let mut logits = vec![-8.0f32; ANCHOR_COUNT];
    for (k, logit) in logits.iter_mut().enumerate().skip(1700).take(12) {
        *logit = 2.0 + k as f32 * 0.01;
        regressors[k * 12 + 2] = 40.0;
        regressors[k * 12 + 3] = 40.0;
    }
    let (mut decoded, mut kept, mut scratch) = (Vec::<Detection>::new(), Vec::new(), NmsScratch::default());
    group.bench_function("detections_and_weighted_nms", |b| {
        b.iter(|| {
            detections_from_tensors(black_box(&regressors), black_box(&logits), &anchors, 0.5, &mut decoded);
            weighted_non_max_suppression(&decoded, &mut scratch, &mut kept);
            black_box(kept.len())
        })
    });
    // Landmarks: 39×5 raw values near the crop centre and a 64×64×39 heatmap with a peak per landmark.
    let raw: Vec<f32> = (0..MODEL_LANDMARK_COUNT * 5).map(|i| 100.0 + (i % 50) as f32).collect();
    let world = [0.1f32; WORLD_VALUE_COUNT];
    let mut heatmap = vec![-6.0f32; HEATMAP_SIZE * HEATMAP_SIZE * MODEL_LANDMARK_COUNT];
    for channel in 0..MODEL_LANDMARK_COUNT {
        heatmap[(30 * HEATMAP_SIZE + 30) * MODEL_LANDMARK_COUNT + channel] = 3.0;
    }
    let mut crop = [CropLandmark::default(); MODEL_LANDMARK_COUNT];
    let roi = runner_roi();
    group.bench_function("landmarks_heatmap_projection", |b| {
        b.iter(|| {
            crop_landmarks_from_tensor(black_box(&raw), &mut crop);
            refine_landmarks_from_heatmap(&mut crop, black_box(&heatmap), HEATMAP_SIZE, MODEL_LANDMARK_COUNT);
            black_box(pose_from_crop_landmarks(&crop, &world, &roi, 0.9))
        })
    });
    group.finish();
}

fn inference(c: &mut Criterion) {
    if let Err(error) = models::find_model(models::DETECTOR_FILE) {
        eprintln!("inference benchmarks skipped: {error}");
        return;
    }
    let frame = synthetic_frame();
    let roi = runner_roi();
    let mut group = c.benchmark_group("inference");
    group.throughput(Throughput::Elements(1));
    group.sample_size(30);
    for (threads, spinning) in [(1, false), (2, false), (2, true)] {
        let options = SessionOptions {
            intra_threads: threads,
            spinning,
            ..SessionOptions::default()
        };
        let label = format!("threads{threads}_spin{}", u8::from(spinning));
        let mut detector = Detector::new(options).expect("detector");
        let mut detections = Vec::new();
        group.bench_function(format!("detector_{label}"), |b| {
            b.iter(|| detector.detect(black_box(&frame), &mut detections).expect("detect"))
        });
        let mut landmarker = Landmarker::new(ModelPreset::Full, options).expect("landmarker");
        group.bench_function(format!("landmark_full_{label}"), |b| {
            b.iter(|| landmarker.landmarks(black_box(&frame), &roi).expect("landmarks"))
        });
    }
    group.finish();
}

criterion_group!(benches, preprocess, decode, inference);
criterion_main!(benches);
