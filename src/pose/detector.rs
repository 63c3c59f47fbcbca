//! The person detector: BlazePose's SSD on a letterboxed 224×224 view of the whole frame, decoded into scored
//! boxes with four keypoints, merged by weighted non-maximum suppression, and mapped back to the frame.
//!
//! Every constant below is from MediaPipe's `PoseDetectionGpu` subgraph as shipped in `@mediapipe/pose`
//! 0.5.1675469404 (blazepose-pipeline.md §1–§4): `SsdAnchorsCalculator`, `TensorsToDetectionsCalculator`,
//! `NonMaxSuppressionCalculator` (weighted, IoU > 0.3), `DetectionLetterboxRemovalCalculator`.

use opencv::core::Mat;
use opencv::prelude::*;
use ort::memory::Allocator;
use ort::session::{HasSelectedOutputs, OutputSelector, RunOptions, Session};
use ort::value::{Tensor, TensorRef};

use crate::landmarks::Roi;
use crate::pose::crop::{Border, Cropper, ValueRange};
use crate::pose::geometry::{PointPx, letterbox_roi_from_image_size, roi_from_alignment_points};
use crate::pose::{PoseError, models};

/// Side of the detector's square input, pixels.
pub const DETECTOR_INPUT_SIZE: usize = 224;

/// Number of SSD anchors (28²·2 + 14²·2 + 7²·6).
pub const ANCHOR_COUNT: usize = 2254;

/// Values per anchor in the regressor output: box (4) and four keypoints (8).
const COORDS_PER_ANCHOR: usize = 12;

/// Number of detector keypoints.
pub const DETECTOR_KEYPOINT_COUNT: usize = 4;

/// Keypoint 0: the mid-hip centre (the ROI centre).
pub const KEYPOINT_HIP_CENTER: usize = 0;

/// Keypoint 1: the full-body size and rotation point.
pub const KEYPOINT_FULL_BODY_SCALE: usize = 1;

/// Strides of the anchor layers (`SsdAnchorsCalculator.strides`); equal consecutive strides share a grid.
const ANCHOR_STRIDES: [usize; 5] = [8, 16, 32, 32, 32];

/// Anchors per grid cell per layer: one aspect ratio (1.0) plus the interpolated scale.
const ANCHORS_PER_LAYER_PER_CELL: usize = 2;

/// Centre offset of an anchor within its cell (`anchor_offset_x/y`).
const ANCHOR_OFFSET: f32 = 0.5;

/// `x/y/w/h_scale` of the box decoding: the input size in pixels.
const BOX_SCALE: f32 = 224.0;

/// Logits are clipped to ±this before the sigmoid (`score_clipping_thresh`).
const SCORE_CLIPPING_THRESH: f32 = 100.0;

/// Lowest detection score kept (`min_score_thresh`, also the Tasks API's `min_pose_detection_confidence`).
pub const MIN_DETECTION_SCORE: f32 = 0.5;

/// Boxes whose IoU with the cluster's best box is strictly above this are merged into it.
pub const NMS_MIN_SUPPRESSION_IOU: f32 = 0.3;

/// The detector's input range: pixel levels 0..255 map to −1..1.
const DETECTOR_RANGE: ValueRange = ValueRange { min: -1.0, max: 1.0 };

/// The detector's name for its input tensor.
const INPUT_NAME: &str = "input_1";

/// An SSD anchor, in input-normalised units (width and height are 1: `fixed_anchor_size`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Anchor {
    /// Centre x, 0..1.
    pub x_center: f32,
    /// Centre y, 0..1.
    pub y_center: f32,
}

/// A point in normalised units: 0..1 across the frame (or across the letterboxed input before removal).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NormPoint {
    /// Fraction of the width.
    pub x: f32,
    /// Fraction of the height.
    pub y: f32,
}

/// One detected person: a score, a (face) box and four body keypoints, in normalised units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Detection {
    /// Sigmoid score, 0..1.
    pub score: f32,
    /// Left edge of the box.
    pub xmin: f32,
    /// Top edge of the box.
    pub ymin: f32,
    /// Box width.
    pub width: f32,
    /// Box height.
    pub height: f32,
    /// Keypoints: hip centre, full-body point, shoulder centre, upper-body point.
    pub keypoints: [NormPoint; DETECTOR_KEYPOINT_COUNT],
}

impl Detection {
    /// The landmark model's ROI for this detection in a `width_px`×`height_px` frame (from keypoints 0 and 1).
    pub fn roi(&self, width_px: u32, height_px: u32) -> Roi {
        let (w, h) = (width_px as f32, height_px as f32);
        let point = |k: NormPoint| PointPx { x: k.x * w, y: k.y * h };
        roi_from_alignment_points(
            point(self.keypoints[KEYPOINT_HIP_CENTER]),
            point(self.keypoints[KEYPOINT_FULL_BODY_SCALE]),
        )
    }
}

/// The 2254 SSD anchors in the model's output order: grid groups by stride, then row, column, anchor.
pub fn ssd_anchors() -> Vec<Anchor> {
    let mut anchors = Vec::with_capacity(ANCHOR_COUNT);
    // Consecutive layers with the same stride share one grid (SsdAnchorsCalculator).
    for same_stride in ANCHOR_STRIDES.chunk_by(|a, b| a == b) {
        let Some(&stride) = same_stride.first() else { continue };
        let anchors_per_cell = ANCHORS_PER_LAYER_PER_CELL * same_stride.len();
        let feature_map = DETECTOR_INPUT_SIZE.div_ceil(stride);
        for y in 0..feature_map {
            for x in 0..feature_map {
                for _ in 0..anchors_per_cell {
                    anchors.push(Anchor {
                        x_center: (x as f32 + ANCHOR_OFFSET) / feature_map as f32,
                        y_center: (y as f32 + ANCHOR_OFFSET) / feature_map as f32,
                    });
                }
            }
        }
    }
    anchors
}

/// The logistic function.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Decodes the raw outputs (`regressors`: anchors × 12, `logits`: anchors) into `out` (cleared first): every
/// anchor whose clipped-sigmoid score reaches `min_score`, with a box of non-negative size.
pub fn detections_from_tensors(
    regressors: &[f32],
    logits: &[f32],
    anchors: &[Anchor],
    min_score: f32,
    out: &mut Vec<Detection>,
) {
    out.clear();
    let (per_anchor, _) = regressors.as_chunks::<COORDS_PER_ANCHOR>();
    for ((raw, &logit), anchor) in per_anchor.iter().zip(logits).zip(anchors) {
        let score = sigmoid(logit.clamp(-SCORE_CLIPPING_THRESH, SCORE_CLIPPING_THRESH));
        if score < min_score {
            continue;
        }
        // reverse_output_order: x, y, w, h; anchors have unit size (fixed_anchor_size).
        let [dx, dy, dw, dh, keypoint_values @ ..] = raw;
        let x_center = dx / BOX_SCALE + anchor.x_center;
        let y_center = dy / BOX_SCALE + anchor.y_center;
        let width = dw / BOX_SCALE;
        let height = dh / BOX_SCALE;
        if width < 0.0 || height < 0.0 {
            continue;
        }
        // The remaining eight values are the four keypoints' (x, y).
        let mut keypoints = [NormPoint::default(); DETECTOR_KEYPOINT_COUNT];
        for (keypoint, [kx, ky]) in keypoints.iter_mut().zip(keypoint_values.as_chunks::<2>().0) {
            *keypoint = NormPoint {
                x: kx / BOX_SCALE + anchor.x_center,
                y: ky / BOX_SCALE + anchor.y_center,
            };
        }
        out.push(Detection {
            score,
            xmin: x_center - width / 2.0,
            ymin: y_center - height / 2.0,
            width,
            height,
            keypoints,
        });
    }
}

/// Intersection over union of two boxes (0 when they do not overlap), as MediaPipe's `OverlapSimilarity`.
pub fn intersection_over_union(a: &Detection, b: &Detection) -> f32 {
    let left = a.xmin.max(b.xmin);
    let top = a.ymin.max(b.ymin);
    let right = (a.xmin + a.width).min(b.xmin + b.width);
    let bottom = (a.ymin + a.height).min(b.ymin + b.height);
    if left > right || top > bottom {
        return 0.0;
    }
    let intersection = (right - left) * (bottom - top);
    let union = a.width * a.height + b.width * b.height - intersection;
    if union > 0.0 { intersection / union } else { 0.0 }
}

/// Reused buffers of [`weighted_non_max_suppression`]. They hold copies of the (small, `Copy`) detections rather
/// than indices into the input, so nothing needs indexing.
#[derive(Default)]
pub struct NmsScratch {
    remaining: Vec<Detection>,
    next: Vec<Detection>,
    cluster: Vec<Detection>,
}

/// MediaPipe's weighted NMS: repeatedly take the best remaining detection, gather every remaining one whose IoU
/// with it is above [`NMS_MIN_SUPPRESSION_IOU`] (itself included), and output the best score with the
/// score-weighted mean of the cluster's box corners and keypoints. `out` is cleared first; it ends sorted by score.
pub fn weighted_non_max_suppression(detections: &[Detection], scratch: &mut NmsScratch, out: &mut Vec<Detection>) {
    out.clear();
    scratch.remaining.clear();
    scratch.remaining.extend_from_slice(detections);
    // Stable, as the sort of indices it replaces: equal scores keep their input order.
    scratch.remaining.sort_by(|a, b| b.score.total_cmp(&a.score));
    while let Some(&best) = scratch.remaining.first() {
        scratch.cluster.clear();
        scratch.next.clear();
        for detection in &scratch.remaining {
            if intersection_over_union(detection, &best) > NMS_MIN_SUPPRESSION_IOU {
                scratch.cluster.push(*detection);
            } else {
                scratch.next.push(*detection);
            }
        }
        let mut total_score = 0.0;
        let (mut xmin, mut ymin, mut xmax, mut ymax) = (0.0, 0.0, 0.0, 0.0);
        let mut keypoints = [NormPoint::default(); DETECTOR_KEYPOINT_COUNT];
        for d in &scratch.cluster {
            total_score += d.score;
            xmin += d.xmin * d.score;
            ymin += d.ymin * d.score;
            xmax += (d.xmin + d.width) * d.score;
            ymax += (d.ymin + d.height) * d.score;
            for (sum, k) in keypoints.iter_mut().zip(&d.keypoints) {
                sum.x += k.x * d.score;
                sum.y += k.y * d.score;
            }
        }
        let mut merged = best;
        if total_score > 0.0 {
            merged.xmin = xmin / total_score;
            merged.ymin = ymin / total_score;
            merged.width = (xmax - xmin) / total_score;
            merged.height = (ymax - ymin) / total_score;
            for k in &mut keypoints {
                k.x /= total_score;
                k.y /= total_score;
            }
            merged.keypoints = keypoints;
        }
        out.push(merged);
        if scratch.next.len() == scratch.remaining.len() {
            break;
        }
        std::mem::swap(&mut scratch.remaining, &mut scratch.next);
    }
}

/// Maps a detection from the letterboxed input back to the frame; `padding` is `[left, top, right, bottom]`.
pub fn detection_without_letterbox(detection: &Detection, padding: [f32; 4]) -> Detection {
    let [left, top, right, bottom] = padding;
    let x_scale = 1.0 - left - right;
    let y_scale = 1.0 - top - bottom;
    Detection {
        score: detection.score,
        xmin: (detection.xmin - left) / x_scale,
        ymin: (detection.ymin - top) / y_scale,
        width: detection.width / x_scale,
        height: detection.height / y_scale,
        keypoints: detection.keypoints.map(|k| NormPoint {
            x: (k.x - left) / x_scale,
            y: (k.y - top) / y_scale,
        }),
    }
}

/// The detector: its session, anchors and reused buffers.
pub struct Detector {
    session: Session,
    /// Holds the two output buffers, allocated once and reused from run to run.
    run_options: RunOptions<HasSelectedOutputs>,
    anchors: Vec<Anchor>,
    cropper: Cropper,
    input: Vec<f32>,
    decoded: Vec<Detection>,
    nms: NmsScratch,
}

impl Detector {
    /// Loads the detector model.
    pub fn new(options: models::SessionOptions) -> Result<Detector, PoseError> {
        let session = models::load_session(models::DETECTOR_FILE, options, None)?;
        let cropper = Cropper::new(DETECTOR_INPUT_SIZE, Border::Zero, DETECTOR_RANGE)?;
        let input = vec![0.0; cropper.tensor_len()];
        let run_options = preallocated_run_options()?;
        Ok(Detector {
            session,
            run_options,
            anchors: ssd_anchors(),
            cropper,
            input,
            decoded: Vec::new(),
            nms: NmsScratch::default(),
        })
    }

    /// Fills the input tensor from a BGR frame and returns the letterbox padding (`[l, t, r, b]`).
    pub fn preprocess(&mut self, image: &Mat, width_px: u32, height_px: u32) -> Result<[f32; 4], PoseError> {
        let (roi, padding) = letterbox_roi_from_image_size(width_px, height_px);
        self.cropper.crop_into(image, &roi, &mut self.input)?;
        Ok(padding)
    }

    /// Detects the people in a BGR frame: `out` receives them in frame-normalised units, best first.
    pub fn detect(&mut self, image: &Mat, out: &mut Vec<Detection>) -> Result<(), PoseError> {
        let (width_px, height_px) = (image.cols().max(0) as u32, image.rows().max(0) as u32);
        let padding = self.preprocess(image, width_px, height_px)?;
        let side = DETECTOR_INPUT_SIZE;
        let input = TensorRef::from_array_view(([1, side, side, 3], self.input.as_slice()))?;
        let outputs = self
            .session
            .run_with_options(ort::inputs![INPUT_NAME => input], &self.run_options)?;
        let output = |name: &str| {
            outputs
                .get(name)
                .ok_or_else(|| PoseError::ModelShape(format!("detector has no output {name}")))
        };
        let (_, regressors) = output("Identity")?.try_extract_tensor::<f32>()?;
        let (_, logits) = output("Identity_1")?.try_extract_tensor::<f32>()?;
        if regressors.len() != ANCHOR_COUNT * COORDS_PER_ANCHOR || logits.len() != ANCHOR_COUNT {
            return Err(PoseError::ModelShape(format!(
                "detector returned {} regressors and {} scores for {ANCHOR_COUNT} anchors",
                regressors.len(),
                logits.len()
            )));
        }
        detections_from_tensors(
            regressors,
            logits,
            &self.anchors,
            MIN_DETECTION_SCORE,
            &mut self.decoded,
        );
        weighted_non_max_suppression(&self.decoded, &mut self.nms, out);
        for detection in out.iter_mut() {
            *detection = detection_without_letterbox(detection, padding);
        }
        Ok(())
    }
}

/// Run options with the detector's outputs preallocated.
fn preallocated_run_options() -> ort::Result<RunOptions<HasSelectedOutputs>> {
    let regressors = Tensor::<f32>::new(&Allocator::default(), [1, ANCHOR_COUNT, COORDS_PER_ANCHOR])?;
    let scores = Tensor::<f32>::new(&Allocator::default(), [1, ANCHOR_COUNT, 1])?;
    let selector = OutputSelector::default()
        .preallocate("Identity", regressors)
        .preallocate("Identity_1", scores);
    Ok(RunOptions::new()?.with_outputs(selector))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(score: f32, xmin: f32, ymin: f32, size: f32) -> Detection {
        Detection {
            score,
            xmin,
            ymin,
            width: size,
            height: size,
            keypoints: [NormPoint { x: xmin, y: ymin }; DETECTOR_KEYPOINT_COUNT],
        }
    }

    #[test]
    fn anchors_have_the_documented_count_and_order() {
        let anchors = ssd_anchors();
        assert_eq!(anchors.len(), ANCHOR_COUNT);
        // First grid: 28×28, two anchors per cell, row-major.
        assert_eq!(anchors[0], anchors[1]);
        assert_eq!(anchors[0].x_center, 0.5 / 28.0);
        assert_eq!(anchors[2].x_center, 1.5 / 28.0);
        assert_eq!(anchors[2 * 28].y_center, 1.5 / 28.0);
        // Second grid starts at 1568 with 14×14 cells.
        assert_eq!(anchors[1568].x_center, 0.5 / 14.0);
        // Third grid (three stride-32 layers merged): six anchors per 7×7 cell.
        assert_eq!(anchors[1568 + 392].x_center, 0.5 / 7.0);
        assert_eq!(anchors[1568 + 392 + 5], anchors[1568 + 392]);
        assert_eq!(anchors[1568 + 392 + 6].x_center, 1.5 / 7.0);
        assert_eq!(anchors[ANCHOR_COUNT - 1].y_center, 6.5 / 7.0);
    }

    #[test]
    fn decoding_offsets_from_anchors_and_applies_threshold() {
        let anchors = [
            Anchor {
                x_center: 0.5,
                y_center: 0.25,
            },
            Anchor {
                x_center: 0.1,
                y_center: 0.1,
            },
        ];
        let mut regressors = [0.0; 24];
        regressors[..4].copy_from_slice(&[22.4, -22.4, 44.8, 89.6]);
        regressors[4] = 11.2; // keypoint 0 x
        let logits = [2.0, -2.0];
        let mut out = Vec::new();
        detections_from_tensors(&regressors, &logits, &anchors, 0.5, &mut out);
        assert_eq!(out.len(), 1, "the second anchor scores σ(−2) < 0.5");
        let d = out[0];
        assert!((d.score - sigmoid(2.0)).abs() < 1e-6);
        assert!((d.xmin - (0.6 - 0.1)).abs() < 1e-6 && (d.ymin - (0.15 - 0.2)).abs() < 1e-6);
        assert!((d.width - 0.2).abs() < 1e-6 && (d.height - 0.4).abs() < 1e-6);
        assert!((d.keypoints[0].x - 0.55).abs() < 1e-6 && (d.keypoints[1].y - 0.25).abs() < 1e-6);
        // A huge logit is clipped, not overflowed.
        detections_from_tensors(&regressors, &[1e9, -1e9], &anchors, 0.5, &mut out);
        assert_eq!(out[0].score, 1.0);
    }

    #[test]
    fn weighted_nms_merges_overlaps_and_keeps_separate_boxes() {
        let detections = [
            boxed(0.9, 0.10, 0.10, 0.20),
            boxed(0.6, 0.12, 0.10, 0.20), // IoU with the first ≈ 0.82: merged
            boxed(0.8, 0.60, 0.60, 0.20), // elsewhere: its own cluster
            boxed(0.7, 0.25, 0.10, 0.20), // IoU 0.14 with the first: kept apart, merged with nothing
        ];
        let mut out = Vec::new();
        weighted_non_max_suppression(&detections, &mut NmsScratch::default(), &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].score, 0.9);
        let expected_xmin = (0.10 * 0.9 + 0.12 * 0.6) / 1.5;
        assert!((out[0].xmin - expected_xmin).abs() < 1e-6, "{:?}", out[0]);
        assert!((out[0].width - 0.20).abs() < 1e-6);
        assert!((out[0].keypoints[0].x - expected_xmin).abs() < 1e-6);
        assert_eq!((out[1].score, out[1].xmin), (0.8, 0.60));
        assert_eq!((out[2].score, out[2].xmin), (0.7, 0.25));
    }

    #[test]
    fn iou_threshold_is_strict() {
        // Two boxes with IoU exactly 1/3 > 0.3 merge; touching boxes (IoU 0) do not.
        let a = boxed(0.9, 0.0, 0.0, 0.5);
        let b = Detection {
            xmin: 0.25,
            ..boxed(0.8, 0.0, 0.0, 0.5)
        };
        assert!((intersection_over_union(&a, &b) - 1.0 / 3.0).abs() < 1e-6);
        let c = boxed(0.8, 0.5, 0.0, 0.5);
        assert_eq!(intersection_over_union(&a, &c), 0.0);
    }

    #[test]
    fn letterbox_removal_maps_padded_coordinates_to_the_frame() {
        let padding = [0.0, 0.2, 0.0, 0.2];
        let d = boxed(0.9, 0.5, 0.2, 0.3);
        let back = detection_without_letterbox(&d, padding);
        assert!((back.ymin - 0.0).abs() < 1e-6 && (back.height - 0.5).abs() < 1e-6);
        assert_eq!(back.xmin, 0.5);
        assert!((back.keypoints[0].y - 0.0).abs() < 1e-6);
        // The ROI from keypoints 0 (centre) and 1 (scale point) in pixels.
        let mut d = boxed(0.9, 0.0, 0.0, 0.1);
        d.keypoints[0] = NormPoint { x: 0.5, y: 0.5 };
        d.keypoints[1] = NormPoint { x: 0.5, y: 0.25 };
        let roi = d.roi(200, 400);
        assert_eq!((roi.center_x_px, roi.center_y_px), (100.0, 200.0));
        assert!((roi.width_px - 2.5 * 100.0).abs() < 1e-3 && roi.rotation_rad.abs() < 1e-6);
    }
}
