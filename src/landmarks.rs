//! The data that flows from the pose stage to the analysis stage: BlazePose's 33 landmarks per frame.
//!
//! The pose stage (`crate::pose`) produces a [`PoseSequence`]; the analysis stage (`crate::track` onwards)
//! reads it and never sees images or models. Keeping these types here, outside both stages, lets the analysis
//! be built and tested on synthetic runners without ONNX Runtime.
//!
//! Coordinates follow MediaPipe: image landmarks are in pixels of the upright frame, x to the right, y down;
//! `z` is depth relative to the hip midpoint on the same scale as x (pixels), smaller = nearer the camera.
//! World landmarks are metres with the origin at the hip midpoint.

use serde::{Deserialize, Serialize};

/// How many pose landmarks BlazePose GHUM reports (the model's 39 outputs less its 6 auxiliary ones).
pub const LANDMARK_COUNT: usize = 33;

/// MediaPipe's landmark names, in model output order (`mediapipe.solutions.pose.PoseLandmark`).
pub const LANDMARK_NAMES: [&str; LANDMARK_COUNT] = [
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
];

/// One of the 33 BlazePose landmarks; the discriminant is its index in the model output.
///
/// "Left" and "right" are the person's own sides, as the model labels them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum LandmarkId {
    Nose = 0,
    LeftEyeInner = 1,
    LeftEye = 2,
    LeftEyeOuter = 3,
    RightEyeInner = 4,
    RightEye = 5,
    RightEyeOuter = 6,
    LeftEar = 7,
    RightEar = 8,
    MouthLeft = 9,
    MouthRight = 10,
    LeftShoulder = 11,
    RightShoulder = 12,
    LeftElbow = 13,
    RightElbow = 14,
    LeftWrist = 15,
    RightWrist = 16,
    LeftPinky = 17,
    RightPinky = 18,
    LeftIndex = 19,
    RightIndex = 20,
    LeftThumb = 21,
    RightThumb = 22,
    LeftHip = 23,
    RightHip = 24,
    LeftKnee = 25,
    RightKnee = 26,
    LeftAnkle = 27,
    RightAnkle = 28,
    LeftHeel = 29,
    RightHeel = 30,
    LeftFootIndex = 31,
    RightFootIndex = 32,
}

impl LandmarkId {
    /// The landmark's index in the model output and in [`Pose::landmarks`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// MediaPipe's snake_case name of the landmark.
    // Every discriminant is below LANDMARK_COUNT, the names' length; `get` is not available in a const fn.
    #[allow(clippy::indexing_slicing)]
    pub const fn name(self) -> &'static str {
        LANDMARK_NAMES[self as usize]
    }
}

/// A landmark in the image: pixel position in the upright frame, depth, and the model's confidences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Landmark {
    /// Horizontal position, pixels from the left edge (may fall outside the frame).
    pub x_px: f32,
    /// Vertical position, pixels from the top edge, downwards (may fall outside the frame).
    pub y_px: f32,
    /// Depth relative to the hip midpoint, on the scale of `x_px`; negative = nearer the camera.
    pub z_px: f32,
    /// Probability that the landmark is visible (not occluded), 0..1.
    pub visibility: f32,
    /// Probability that the landmark is inside the frame, 0..1.
    pub presence: f32,
}

/// A landmark in metric 3D space, origin at the hip midpoint (the model's "world" output).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorldLandmark {
    /// Metres, along the image x axis (rotated upright with the region of interest).
    pub x_m: f32,
    /// Metres, along the image y axis (down).
    pub y_m: f32,
    /// Metres, depth; negative = nearer the camera.
    pub z_m: f32,
    /// Copied from the image landmark.
    pub visibility: f32,
    /// Copied from the image landmark.
    pub presence: f32,
}

/// A rotated square region of the image, in pixels: where the landmark model looked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Roi {
    /// Centre, pixels from the left edge.
    pub center_x_px: f32,
    /// Centre, pixels from the top edge.
    pub center_y_px: f32,
    /// Side along the rotated x axis, pixels.
    pub width_px: f32,
    /// Side along the rotated y axis, pixels.
    pub height_px: f32,
    /// Rotation, radians, clockwise in image coordinates (y down), in [-π, π).
    pub rotation_rad: f32,
}

/// One person's pose in one frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// The 33 image landmarks, indexed by [`LandmarkId::index`].
    #[serde(with = "serde_big_array::BigArray")]
    pub landmarks: [Landmark; LANDMARK_COUNT],
    /// The 33 world landmarks, same order.
    #[serde(with = "serde_big_array::BigArray")]
    pub world_landmarks: [WorldLandmark; LANDMARK_COUNT],
    /// The landmark model's pose-presence score (after sigmoid), 0..1.
    pub score: f32,
    /// The region the landmark model was run on.
    pub roi: Roi,
}

impl Pose {
    /// The image landmark `id`.
    // Every LandmarkId's index is below LANDMARK_COUNT, the array's length.
    #[allow(clippy::indexing_slicing)]
    pub fn landmark(&self, id: LandmarkId) -> &Landmark {
        &self.landmarks[id.index()]
    }
}

/// The pose stage's result for one decoded frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoseFrame {
    /// Frame index in decode order, from 0.
    pub index: u64,
    /// Presentation time from the container, seconds from the first frame.
    pub timestamp_s: f64,
    /// The runner's pose, or `None` where no pose was found.
    pub pose: Option<Pose>,
}

/// Everything the analysis stage needs from a clip: its frames' poses and the frame geometry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoseSequence {
    /// Width of the upright frame, pixels.
    pub width_px: u32,
    /// Height of the upright frame, pixels.
    pub height_px: u32,
    /// Nominal frame rate from the container, frames per second.
    pub fps: f64,
    /// One entry per decoded frame, in order.
    pub frames: Vec<PoseFrame>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landmark_ids_match_mediapipe_names() {
        assert_eq!(LandmarkId::Nose.name(), "nose");
        assert_eq!(LandmarkId::LeftHip.index(), 23);
        assert_eq!(LandmarkId::RightHeel.name(), "right_heel");
        assert_eq!(LandmarkId::RightFootIndex.index(), LANDMARK_COUNT - 1);
        assert_eq!(LandmarkId::RightFootIndex.name(), "right_foot_index");
    }
}
