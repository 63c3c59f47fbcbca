//! The pose stage: MediaPipe BlazePose on ONNX Runtime. This module is the only user of `ort`.
//!
//! Per frame, as MediaPipe's `PoseLandmarkCpu` graph (see `../shared/docs/blazepose-pipeline.md`):
//! 1. without a ROI from the previous frame, the [`detector`] finds people and one of them is chosen (see
//!    [`runner`]); its keypoints 0 and 1 give the ROI;
//! 2. the [`landmarker`] runs on the rotated crop of the ROI; the pose counts when the pose flag is above 0.5;
//! 3. in tracking mode the auxiliary landmarks 33 and 34 give the next frame's ROI, so the detector runs again
//!    only after a frame whose pose flag fell to 0.5 or below. Per-frame mode runs the detector on every frame.
//!
//! No smoothing happens here: filtering belongs to the analysis stage. [`pipeline`] runs the stage over a clip
//! with decoding on its own thread.

pub mod crop;
pub mod crop_filter;
pub mod detector;
pub mod geometry;
pub mod landmarker;
pub mod models;
pub mod pipeline;
pub mod prune;
pub mod runner;
pub mod runtime;

use opencv::core::Mat;
use opencv::prelude::*;
use thiserror::Error;

use crate::error::{Exit, HasExit};
use crate::landmarks::{Pose, Roi};
use crop_filter::AuxLandmarkFilter;
pub use crop_filter::CropSmoothing;
use detector::{Detection, Detector};
use landmarker::Landmarker;
pub use models::{ModelError, ModelPreset, SessionOptions};
use runner::{RunnerHint, RunnerMemory};

/// A failure of the pose stage.
#[derive(Debug, Error)]
pub enum PoseError {
    /// A model is missing or unusable, or ONNX Runtime is.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// ONNX Runtime failed while running a model.
    #[error("pose inference failed ({0})")]
    Inference(#[from] ort::Error),
    /// OpenCV failed while preparing a model input.
    #[error("preparing a pose model input failed ({0})")]
    OpenCv(#[from] opencv::Error),
    /// A model's outputs do not have the shapes BlazePose's have.
    #[error("the pose model's outputs are not BlazePose's ({0}); run scripts/setup or reinstall runform")]
    ModelShape(String),
}

impl HasExit for PoseError {
    fn exit(&self) -> Exit {
        match self {
            PoseError::Model(error) => error.exit(),
            PoseError::ModelShape(_) => Exit::ModelMissing,
            PoseError::Inference(_) | PoseError::OpenCv(_) => Exit::Internal,
        }
    }
}

/// When the detector runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DetectionMode {
    /// MediaPipe's video mode: the next ROI comes from the landmarks; the detector runs only when tracking is lost.
    #[default]
    Tracking,
    /// The detector on every frame (MediaPipe's image mode); slower, no dependence between frames' crops.
    EveryFrame,
}

/// Settings of the pose stage.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PoseSettings {
    /// The landmark model.
    pub preset: ModelPreset,
    /// When the detector runs.
    pub mode: DetectionMode,
    /// Whether the tracking crop is smoothed (MediaPipe's pose solution) or not (its Tasks API).
    pub crop_smoothing: CropSmoothing,
    /// Where the runner is in the first frames, when the user said so.
    pub runner_hint: Option<RunnerHint>,
    /// ONNX Runtime session options.
    pub session: SessionOptions,
}

/// How often each model ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PoseCounters {
    /// Frames processed.
    pub frames: u64,
    /// Frames with a pose.
    pub frames_with_pose: u64,
    /// Detector runs.
    pub detector_runs: u64,
    /// Landmark model runs.
    pub landmark_runs: u64,
}

/// The pose stage for one clip: the two models, the tracking state and the chosen runner.
pub struct PoseEstimator {
    settings: PoseSettings,
    detector: Detector,
    landmarker: Landmarker,
    detections: Vec<Detection>,
    tracked_roi: Option<Roi>,
    aux_filter: AuxLandmarkFilter,
    runner: Option<RunnerMemory>,
    /// The runner's identity on each frame since the last reset (`None` without a pose).
    identities: Vec<Option<u32>>,
    /// The identity of the person the current ROI follows.
    current_identity: u32,
    /// The number the next new identity gets.
    next_identity: u32,
    /// When the last census ran, seconds (tracking mode).
    last_census_s: f64,
    /// Consecutive censuses a challenger has won.
    challenger_wins: u32,
    /// Identities a census left for a more plausible person.
    superseded: Vec<u32>,
    counters: PoseCounters,
}

impl PoseEstimator {
    /// Loads both models.
    pub fn new(settings: PoseSettings) -> Result<PoseEstimator, PoseError> {
        Ok(PoseEstimator {
            settings,
            detector: Detector::new(settings.session)?,
            landmarker: Landmarker::new(settings.preset, settings.session)?,
            detections: Vec::new(),
            tracked_roi: None,
            aux_filter: AuxLandmarkFilter::default(),
            runner: None,
            identities: Vec::new(),
            current_identity: 0,
            next_identity: 0,
            last_census_s: f64::NEG_INFINITY,
            challenger_wins: 0,
            superseded: Vec::new(),
            counters: PoseCounters::default(),
        })
    }

    /// Forgets the tracking state and the runner (for a new clip).
    pub fn reset(&mut self) {
        self.tracked_roi = None;
        self.aux_filter.reset();
        self.runner = None;
        self.identities.clear();
        self.current_identity = 0;
        self.next_identity = 0;
        self.last_census_s = f64::NEG_INFINITY;
        self.challenger_wins = 0;
        self.superseded.clear();
        self.counters = PoseCounters::default();
    }

    /// Whom each frame's pose belongs to, since the last reset: see [`runner::keep_one_identity`].
    pub fn identities(&self) -> &[Option<u32>] {
        &self.identities
    }

    /// The identities a census left for a more plausible person, since the last reset.
    pub fn superseded_identities(&self) -> &[u32] {
        &self.superseded
    }

    /// How often each model has run since the last reset.
    pub fn counters(&self) -> PoseCounters {
        self.counters
    }

    /// The runner's pose in one upright BGR frame shown at `timestamp_s`, or `None`.
    pub fn estimate(&mut self, image: &Mat, timestamp_s: f64) -> Result<Option<Pose>, PoseError> {
        let pose = self.estimate_inner(image, timestamp_s)?;
        self.counters.frames += 1;
        let identity = match &pose {
            Some(pose) => {
                self.counters.frames_with_pose += 1;
                let identity = self.current_identity;
                self.runner = Some(RunnerMemory::updated(
                    self.runner.as_ref(),
                    pose.roi,
                    timestamp_s,
                    identity,
                ));
                Some(identity)
            }
            None => None,
        };
        self.identities.push(identity);
        Ok(pose)
    }

    /// Makes `identity` the current one, counting it if it is new.
    fn adopt_identity(&mut self, identity: u32) {
        self.current_identity = identity;
        self.next_identity = self.next_identity.max(identity + 1);
    }

    /// While tracking, every [`runner::CENSUS_INTERVAL_S`] (and never with a hint): runs the detector and, once a
    /// challenger has won [`runner::SWITCH_AFTER_CENSUSES`] censuses in a row, returns the challenger's ROI as a
    /// new identity instead of the tracked one. Returns the ROI to use.
    fn census(
        &mut self,
        image: &Mat,
        tracked: Roi,
        width_px: u32,
        height_px: u32,
        timestamp_s: f64,
    ) -> Result<Option<Roi>, PoseError> {
        let due = timestamp_s - self.last_census_s >= runner::CENSUS_INTERVAL_S;
        let (Some(memory), true, None) = (self.runner, due, self.settings.runner_hint) else {
            return Ok(Some(tracked));
        };
        self.last_census_s = timestamp_s;
        self.counters.detector_runs += 1;
        self.detector.detect(image, &mut self.detections)?;
        // The index is into `self.detections`, so `get` always finds it.
        let challenger = runner::census_challenger(&self.detections, width_px, height_px, &memory)
            .and_then(|index| self.detections.get(index))
            .map(|detection| detection.roi(width_px, height_px));
        let Some(challenger_roi) = challenger else {
            self.challenger_wins = 0;
            return Ok(Some(tracked));
        };
        self.challenger_wins += 1;
        if self.challenger_wins < runner::SWITCH_AFTER_CENSUSES {
            return Ok(Some(tracked));
        }
        self.challenger_wins = 0;
        self.superseded.push(memory.identity);
        self.adopt_identity(self.next_identity);
        self.aux_filter.reset();
        Ok(Some(challenger_roi))
    }

    fn estimate_inner(&mut self, image: &Mat, timestamp_s: f64) -> Result<Option<Pose>, PoseError> {
        let (width_px, height_px) = (image.cols().max(0) as u32, image.rows().max(0) as u32);
        let tracked = match self.settings.mode {
            DetectionMode::Tracking => self.tracked_roi.take(),
            DetectionMode::EveryFrame => None,
        };
        let tracked = match tracked {
            Some(roi) => self.census(image, roi, width_px, height_px, timestamp_s)?,
            None => None,
        };
        let roi = match tracked {
            Some(roi) => roi,
            None => {
                self.counters.detector_runs += 1;
                self.detector.detect(image, &mut self.detections)?;
                let chosen = runner::choose_detection(
                    &self.detections,
                    width_px,
                    height_px,
                    self.runner.as_ref(),
                    self.settings.runner_hint,
                    timestamp_s,
                    self.next_identity,
                );
                // The index is into `self.detections`, so `get` always finds it.
                let chosen = chosen.and_then(|choice| {
                    let detection = self.detections.get(choice.index)?;
                    Some((choice.identity, detection.roi(width_px, height_px)))
                });
                let Some((identity, roi)) = chosen else { return Ok(None) };
                self.adopt_identity(identity);
                roi
            }
        };
        self.counters.landmark_runs += 1;
        let result = self.landmarker.landmarks(image, &roi)?;
        self.tracked_roi = match result.aux_points {
            Some(points) => {
                let points = match self.settings.crop_smoothing {
                    CropSmoothing::AuxOneEuro => self.aux_filter.apply(points, timestamp_s),
                    CropSmoothing::Off => points,
                };
                Some(landmarker::next_roi_from_aux_points(points[0], points[1]))
            }
            None => {
                // Tracking is lost: the next crop comes from a detection, and the filter starts afresh.
                self.aux_filter.reset();
                None
            }
        };
        Ok(result.pose)
    }
}
