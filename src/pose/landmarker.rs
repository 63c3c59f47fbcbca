//! The landmark model: a rotated 256×256 crop of the ROI in, 39 landmarks, a pose flag, a heatmap and world
//! landmarks out, decoded as MediaPipe's `TensorsToPoseLandmarksAndSegmentation` subgraph does
//! (blazepose-pipeline.md §6–§7): `TensorsToLandmarksCalculator` (÷256, sigmoid visibility and presence),
//! `RefineLandmarksFromHeatmapCalculator` (7×7 window), `LandmarkProjectionCalculator` and
//! `WorldLandmarkProjectionCalculator`.

use opencv::core::Mat;
use ort::memory::Allocator;
use ort::session::{HasSelectedOutputs, OutputSelector, RunOptions, Session};
use ort::value::{Tensor, TensorRef};

use crate::landmarks::{LANDMARK_COUNT, Landmark, Pose, Roi, WorldLandmark};
use crate::pose::PoseError;
use crate::pose::crop::{Border, Cropper, ValueRange};
use crate::pose::detector::sigmoid;
use crate::pose::geometry::{PointPx, image_point_from_roi_point, roi_from_alignment_points};
use crate::pose::models::{self, ModelPreset};

/// Side of the landmark model's square input, pixels.
pub const LANDMARK_INPUT_SIZE: usize = 256;

/// Landmarks the model outputs: the 33 pose landmarks, 2 auxiliary ones for tracking, 4 unused.
pub const MODEL_LANDMARK_COUNT: usize = 39;

/// Values per landmark in `Identity`: x, y, z, visibility logit, presence logit.
const VALUES_PER_LANDMARK: usize = 5;

/// Values per world landmark in `Identity_4`: x, y, z (metres).
const VALUES_PER_WORLD_LANDMARK: usize = 3;

/// Length of `Identity_4`: every model landmark's world x, y, z.
pub const WORLD_VALUE_COUNT: usize = MODEL_LANDMARK_COUNT * VALUES_PER_WORLD_LANDMARK;

/// Auxiliary landmark 33: the next frame's ROI centre.
pub const AUX_LANDMARK_CENTER: usize = 33;

/// Auxiliary landmark 34: the next frame's ROI size and rotation point.
pub const AUX_LANDMARK_SCALE: usize = 34;

/// A pose is present when the pose flag is strictly above this (`ThresholdingCalculator`; also the Tasks API's
/// `min_pose_presence_confidence` and the legacy `min_tracking_confidence`).
pub const MIN_POSE_FLAG: f32 = 0.5;

/// Side of the heatmap, cells.
pub const HEATMAP_SIZE: usize = 64;

/// Side of the refinement window, cells (`kernel_size`).
pub const HEATMAP_KERNEL_SIZE: usize = 7;

/// The window's peak confidence must reach this for a landmark to be moved (`min_confidence_to_refine`).
pub const MIN_CONFIDENCE_TO_REFINE: f32 = 0.5;

/// The landmark model's input range: pixel levels 0..255 map to 0..1.
const LANDMARK_RANGE: ValueRange = ValueRange { min: 0.0, max: 1.0 };

/// The model's name for its input tensor.
const INPUT_NAME: &str = "input_1";

/// The outputs used, with their shapes: landmarks, pose flag, heatmap, world landmarks. They are written into
/// buffers allocated once. The segmentation mask (`Identity_2`, 256×256) is cut out of the graph at load time
/// ([`crate::pose::prune`]): merely not fetching it saves nothing, ONNX Runtime computes every node anyway.
const USED_OUTPUTS: [(&str, &[usize]); 4] = [
    ("Identity", &[1, MODEL_LANDMARK_COUNT * VALUES_PER_LANDMARK]),
    ("Identity_1", &[1, 1]),
    ("Identity_3", &[1, HEATMAP_SIZE, HEATMAP_SIZE, MODEL_LANDMARK_COUNT]),
    ("Identity_4", &[1, MODEL_LANDMARK_COUNT * VALUES_PER_WORLD_LANDMARK]),
];

/// A landmark in the crop's normalised units (0..1 across the 256-pixel input), before projection.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CropLandmark {
    /// Fraction of the crop's width.
    pub x: f32,
    /// Fraction of the crop's height.
    pub y: f32,
    /// Depth, on the scale of `x`.
    pub z: f32,
    /// Sigmoid visibility.
    pub visibility: f32,
    /// Sigmoid presence.
    pub presence: f32,
}

/// Decodes `Identity` (39×5, pixels of the 256-pixel input, logits) into crop-normalised landmarks.
pub fn crop_landmarks_from_tensor(raw: &[f32], out: &mut [CropLandmark; MODEL_LANDMARK_COUNT]) {
    let scale = LANDMARK_INPUT_SIZE as f32;
    for (landmark, [x, y, z, visibility, presence]) in out.iter_mut().zip(raw.as_chunks::<VALUES_PER_LANDMARK>().0) {
        *landmark = CropLandmark {
            x: x / scale,
            y: y / scale,
            z: z / scale,
            visibility: sigmoid(*visibility),
            presence: sigmoid(*presence),
        };
    }
}

/// Moves each landmark to the confidence-weighted mean cell of the 7×7 heatmap window around it, where the
/// window's peak confidence reaches [`MIN_CONFIDENCE_TO_REFINE`]. `heatmap` is HWC logits, `size`×`size`×`channels`.
///
/// Integer cell indices (no +½) and the window clipped at the map's edges, as upstream. Upstream also checks
/// `col >= height` where it means `row >= height`; that slip is reproduced: a landmark just below the map is
/// still refined from the rows it overlaps.
///
/// A heatmap shorter than `size`×`size`×`channels` leaves the landmarks unrefined (the landmark model checks the
/// output's shape before calling this, so that only guards direct callers).
pub fn refine_landmarks_from_heatmap(landmarks: &mut [CropLandmark], heatmap: &[f32], size: usize, channels: usize) {
    if heatmap.len() < size * size * channels {
        return;
    }
    let size_i = size as i32;
    let offset = (HEATMAP_KERNEL_SIZE as i32 - 1) / 2;
    for (channel, landmark) in landmarks.iter_mut().enumerate().take(channels) {
        // C++ float → int conversion truncates toward zero, as `as` does.
        let center_col = (landmark.x * size as f32) as i32;
        let center_row = (landmark.y * size as f32) as i32;
        // Upstream's bounds check, slip included (`col` twice): keep it verbatim.
        #[allow(clippy::nonminimal_bool)]
        let outside = center_col < 0 || center_col >= size_i || center_row < 0 || center_col >= size_i;
        if outside {
            continue;
        }
        let begin_col = (center_col - offset).max(0);
        let end_col = (center_col + offset + 1).min(size_i);
        let begin_row = (center_row - offset).max(0);
        let end_row = (center_row + offset + 1).min(size_i);
        let (mut sum, mut weighted_col, mut weighted_row, mut max_value) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for row in begin_row..end_row {
            // HWC: this row's window cells in `channel` are `channels` values apart. `channel < channels` (the
            // `take` above), so the step is never 0; the window lies inside the map (its length checked above).
            let first = (row as usize * size + begin_col as usize) * channels + channel;
            let logits = heatmap.iter().skip(first).step_by(channels);
            for (col, &logit) in (begin_col..end_col).zip(logits) {
                let confidence = sigmoid(logit);
                sum += confidence;
                max_value = max_value.max(confidence);
                weighted_col += col as f32 * confidence;
                weighted_row += row as f32 * confidence;
            }
        }
        if max_value >= MIN_CONFIDENCE_TO_REFINE && sum > 0.0 {
            landmark.x = weighted_col / size as f32 / sum;
            landmark.y = weighted_row / size as f32 / sum;
        }
    }
}

/// Projects crop landmarks and world landmarks into a [`Pose`] on `roi`; also returns the auxiliary landmarks 33
/// and 34 in image pixels (the next frame's ROI comes from them: [`next_roi_from_aux_points`]).
pub fn pose_from_crop_landmarks(
    crop: &[CropLandmark; MODEL_LANDMARK_COUNT],
    world_raw: &[f32; WORLD_VALUE_COUNT],
    roi: &Roi,
    pose_flag: f32,
) -> (Pose, [PointPx; 2]) {
    // The zips stop at the 33 pose landmarks; the model's extra ones (aux and unused) are not part of a pose.
    let mut landmarks = [Landmark::default(); LANDMARK_COUNT];
    for (landmark, c) in landmarks.iter_mut().zip(crop) {
        let p = image_point_from_roi_point(roi, c.x, c.y);
        *landmark = Landmark {
            x_px: p.x,
            y_px: p.y,
            z_px: c.z * roi.width_px,
            visibility: c.visibility,
            presence: c.presence,
        };
    }
    let (sin, cos) = roi.rotation_rad.sin_cos();
    let mut world_landmarks = [WorldLandmark::default(); LANDMARK_COUNT];
    let world_points = world_raw.as_chunks::<VALUES_PER_WORLD_LANDMARK>().0;
    for ((world, [x, y, z]), c) in world_landmarks.iter_mut().zip(world_points).zip(crop) {
        *world = WorldLandmark {
            x_m: cos * x - sin * y,
            y_m: sin * x + cos * y,
            z_m: *z,
            visibility: c.visibility,
            presence: c.presence,
        };
    }
    let aux = |c: CropLandmark| image_point_from_roi_point(roi, c.x, c.y);
    let aux_points = [aux(crop[AUX_LANDMARK_CENTER]), aux(crop[AUX_LANDMARK_SCALE])];
    let pose = Pose {
        landmarks,
        world_landmarks,
        score: pose_flag,
        roi: *roi,
    };
    (pose, aux_points)
}

/// The tracking ROI from the auxiliary landmarks (same calculators and options as from a detection).
pub fn next_roi_from_aux_points(center: PointPx, scale_point: PointPx) -> Roi {
    roi_from_alignment_points(center, scale_point)
}

/// What the landmark model found in one ROI.
#[derive(Clone, Debug)]
pub struct LandmarkResult {
    /// The pose flag after the model's own sigmoid, 0..1.
    pub pose_flag: f32,
    /// The pose, when the flag is above [`MIN_POSE_FLAG`].
    pub pose: Option<Pose>,
    /// The auxiliary landmarks 33 and 34 in image pixels, for the next frame's ROI (when a pose was found).
    pub aux_points: Option<[PointPx; 2]>,
}

/// The landmark model: its session and reused buffers.
pub struct Landmarker {
    session: Session,
    /// Selects the used outputs and holds their buffers, reused from run to run.
    run_options: RunOptions<HasSelectedOutputs>,
    cropper: Cropper,
    input: Vec<f32>,
    crop_landmarks: [CropLandmark; MODEL_LANDMARK_COUNT],
}

impl Landmarker {
    /// Loads the preset's landmark model.
    pub fn new(preset: ModelPreset, options: models::SessionOptions) -> Result<Landmarker, PoseError> {
        let used: Vec<&str> = USED_OUTPUTS.iter().map(|(name, _)| *name).collect();
        let session = models::load_session(preset.landmark_file(), options, Some(&used))?;
        let cropper = Cropper::new(LANDMARK_INPUT_SIZE, Border::Replicate, LANDMARK_RANGE)?;
        let input = vec![0.0; cropper.tensor_len()];
        let run_options = used_outputs_run_options()?;
        Ok(Landmarker {
            session,
            run_options,
            cropper,
            input,
            crop_landmarks: [CropLandmark::default(); MODEL_LANDMARK_COUNT],
        })
    }

    /// Fills the input tensor with the crop of `roi` from a BGR frame.
    pub fn preprocess(&mut self, image: &Mat, roi: &Roi) -> Result<(), PoseError> {
        self.cropper.crop_into(image, roi, &mut self.input)?;
        Ok(())
    }

    /// Runs the model on `roi` of a BGR frame and decodes its outputs.
    pub fn landmarks(&mut self, image: &Mat, roi: &Roi) -> Result<LandmarkResult, PoseError> {
        self.preprocess(image, roi)?;
        let side = LANDMARK_INPUT_SIZE;
        let input = TensorRef::from_array_view(([1, side, side, 3], self.input.as_slice()))?;
        let outputs = self
            .session
            .run_with_options(ort::inputs![INPUT_NAME => input], &self.run_options)?;
        let output = |name: &str| {
            outputs
                .get(name)
                .ok_or_else(|| PoseError::ModelShape(format!("landmark model has no output {name}")))
        };
        let (_, raw) = output("Identity")?.try_extract_tensor::<f32>()?;
        let (_, flag) = output("Identity_1")?.try_extract_tensor::<f32>()?;
        let (_, heatmap) = output("Identity_3")?.try_extract_tensor::<f32>()?;
        let (_, world) = output("Identity_4")?.try_extract_tensor::<f32>()?;
        // The shapes are checked once here; from then on the decoders see slices of exactly these lengths.
        let shapes_fit = raw.len() == MODEL_LANDMARK_COUNT * VALUES_PER_LANDMARK
            && heatmap.len() == HEATMAP_SIZE * HEATMAP_SIZE * MODEL_LANDMARK_COUNT;
        let (Some(&pose_flag), Ok(world), true) =
            (flag.first(), <&[f32; WORLD_VALUE_COUNT]>::try_from(world), shapes_fit)
        else {
            return Err(PoseError::ModelShape(format!(
                "landmark model returned {} landmark values, {} flags, {} heatmap values, {} world values",
                raw.len(),
                flag.len(),
                heatmap.len(),
                world.len()
            )));
        };
        if pose_flag <= MIN_POSE_FLAG {
            return Ok(LandmarkResult {
                pose_flag,
                pose: None,
                aux_points: None,
            });
        }
        crop_landmarks_from_tensor(raw, &mut self.crop_landmarks);
        refine_landmarks_from_heatmap(&mut self.crop_landmarks, heatmap, HEATMAP_SIZE, MODEL_LANDMARK_COUNT);
        let (pose, aux_points) = pose_from_crop_landmarks(&self.crop_landmarks, world, roi, pose_flag);
        Ok(LandmarkResult {
            pose_flag,
            pose: Some(pose),
            aux_points: Some(aux_points),
        })
    }
}

/// Run options that request only [`USED_OUTPUTS`], each into a preallocated tensor.
fn used_outputs_run_options() -> ort::Result<RunOptions<HasSelectedOutputs>> {
    let mut selector = OutputSelector::no_default();
    for (name, shape) in USED_OUTPUTS {
        let buffer = Tensor::<f32>::new(&Allocator::default(), shape.to_vec())?;
        selector = selector.with(name).preallocate(name, buffer);
    }
    Ok(RunOptions::new()?.with_outputs(selector))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: usize = 64;
    const CHANNELS: usize = 2;

    /// A heatmap of very negative logits (confidence ≈ 0) with `peaks` set to logit 4 (confidence ≈ 0.98).
    fn heatmap_with(peaks: &[(usize, usize, usize)]) -> Vec<f32> {
        let mut map = vec![-30.0; SIZE * SIZE * CHANNELS];
        for &(row, col, channel) in peaks {
            map[(row * SIZE + col) * CHANNELS + channel] = 4.0;
        }
        map
    }

    fn at(x: f32, y: f32) -> CropLandmark {
        CropLandmark {
            x,
            y,
            ..CropLandmark::default()
        }
    }

    #[test]
    fn heatmap_refinement_moves_to_weighted_integer_cells() {
        // Channel 0: two equal peaks at cells (row 10, col 20) and (row 12, col 22) → mean cell (11, 21), no +½.
        // Channel 1: one peak outside the 7×7 window → left as is.
        let map = heatmap_with(&[(10, 20, 0), (12, 22, 0), (40, 40, 1)]);
        let mut landmarks = [at(21.3 / 64.0, 11.7 / 64.0), at(0.25, 0.25)];
        refine_landmarks_from_heatmap(&mut landmarks, &map, SIZE, CHANNELS);
        assert!((landmarks[0].x - 21.0 / 64.0).abs() < 1e-4, "{:?}", landmarks[0]);
        assert!((landmarks[0].y - 11.0 / 64.0).abs() < 1e-4);
        assert_eq!((landmarks[1].x, landmarks[1].y), (0.25, 0.25));
    }

    #[test]
    fn heatmap_refinement_skips_points_left_of_or_beyond_the_map_and_keeps_upstream_row_slip() {
        let map = heatmap_with(&[(63, 5, 0), (0, 0, 1)]);
        // Left of the map: skipped. (−0.5/64 truncates to cell 0 and is refined, as in C++.)
        let mut left = [at(-2.0 / 64.0, 0.5), at(-0.5 / 64.0, 0.5 / 64.0)];
        refine_landmarks_from_heatmap(&mut left, &map, SIZE, CHANNELS);
        assert_eq!(left[0].x, -2.0 / 64.0);
        assert!(left[1].x.abs() < 1e-6 && left[1].y.abs() < 1e-6, "{:?}", left[1]);
        // Row 65 (just below the map): upstream's `col >= height` slip lets it refine from rows 62..63.
        let mut below = [at(5.0 / 64.0, 65.2 / 64.0)];
        refine_landmarks_from_heatmap(&mut below, &map, SIZE, CHANNELS);
        assert!((below[0].y - 63.0 / 64.0).abs() < 1e-4 && (below[0].x - 5.0 / 64.0).abs() < 1e-4);
    }

    #[test]
    fn projection_and_world_rotation_follow_the_roi() {
        let mut crop = [CropLandmark::default(); MODEL_LANDMARK_COUNT];
        crop[0] = CropLandmark {
            x: 0.75,
            y: 0.5,
            z: 0.1,
            visibility: 0.9,
            presence: 0.8,
        };
        crop[AUX_LANDMARK_CENTER] = at(0.5, 0.5);
        crop[AUX_LANDMARK_SCALE] = at(0.5, 0.25);
        let mut world = [0.0; WORLD_VALUE_COUNT];
        world[..3].copy_from_slice(&[1.0, 0.0, 0.5]);
        let roi = Roi {
            center_x_px: 100.0,
            center_y_px: 200.0,
            width_px: 80.0,
            height_px: 80.0,
            rotation_rad: std::f32::consts::FRAC_PI_2,
        };
        let (pose, aux) = pose_from_crop_landmarks(&crop, &world, &roi, 0.9);
        let next = next_roi_from_aux_points(aux[0], aux[1]);
        // +90°: crop x points down the image.
        let nose = pose.landmarks[0];
        assert!(
            (nose.x_px - 100.0).abs() < 1e-3 && (nose.y_px - 220.0).abs() < 1e-3,
            "{nose:?}"
        );
        assert!((nose.z_px - 8.0).abs() < 1e-4 && nose.visibility == 0.9 && nose.presence == 0.8);
        let w = pose.world_landmarks[0];
        assert!(w.x_m.abs() < 1e-6 && (w.y_m - 1.0).abs() < 1e-6 && w.z_m == 0.5 && w.visibility == 0.9);
        // Aux 33 at the crop centre, 34 a quarter crop "up" the rotated crop (image −x): the next ROI keeps
        // the centre, turns the same way and spans 2 × 20 px × 1.25.
        assert!((next.center_x_px - 100.0).abs() < 1e-3 && (next.center_y_px - 200.0).abs() < 1e-3);
        assert!(
            (next.rotation_rad - std::f32::consts::FRAC_PI_2).abs() < 1e-5,
            "{next:?}"
        );
        assert!((next.width_px - 50.0).abs() < 1e-3);
        assert_eq!(pose.roi, roi);
    }

    #[test]
    fn raw_landmarks_are_scaled_and_activated() {
        let mut raw = vec![0.0; MODEL_LANDMARK_COUNT * 5];
        raw[..5].copy_from_slice(&[128.0, 64.0, -25.6, 0.0, 100.0]);
        let mut out = [CropLandmark::default(); MODEL_LANDMARK_COUNT];
        crop_landmarks_from_tensor(&raw, &mut out);
        assert_eq!((out[0].x, out[0].y), (0.5, 0.25));
        assert!((out[0].z + 0.1).abs() < 1e-6 && out[0].visibility == 0.5 && out[0].presence == 1.0);
    }
}
