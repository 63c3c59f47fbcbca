//! The analysis stage's front door: [`analyze_sequence`] turns a clip's landmarks into an [`Analysis`] — the
//! per-step table, per-metric summaries with their quality, warnings and flags — that goes straight into the
//! JSON report.
//!
//! The stage never fails: a clip without a runner, without visible feet or filmed from the wrong side gives an
//! `Analysis` whose warnings say so and whose metrics are absent with a reason. The pipeline is
//! [`crate::track::build_tracks`] → view choice → [`crate::events::detect_events`] →
//! [`crate::metrics::series::Kinematics`] → [`crate::metrics::compute_steps`] → [`crate::metrics::summarise`]
//! → warnings and flags.
//!
//! Every threshold lives in [`Thresholds`], with its unit in its name, its default and its source; settings
//! derive serde so that a TOML configuration can fill them.

use serde::{Deserialize, Serialize};

use crate::events::{self, GaitEvents, RejectedContact};
use crate::landmarks::{LandmarkId, PoseSequence};
use crate::metrics::series::Kinematics;
use crate::metrics::{self, MetricId, MetricSummary, Step, SummaryOptions};
use crate::track::{self, Facing, Side, TrackOptions, TrackRepairs, Travel, View};

/// Which view the user says the clip is (`--view`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViewChoice {
    /// Side (sagittal) view.
    Side,
    /// Rear (frontal) view.
    Rear,
    /// Detect it from the landmarks.
    #[default]
    Auto,
}

/// A reference range for a metric, with where it comes from. Either bound may be open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceRange {
    /// Values below this are flagged.
    pub low: Option<f64>,
    /// Values above this are flagged.
    pub high: Option<f64>,
    /// The citation; "\[unverified\]" where the figure could not be checked against the source, and "runform
    /// default" where no published cut-off exists.
    pub source: String,
}

impl ReferenceRange {
    fn new(low: Option<f64>, high: Option<f64>, source: &str) -> ReferenceRange {
        ReferenceRange {
            low,
            high,
            source: source.to_owned(),
        }
    }
}

/// Every threshold of the analysis, with documented defaults and sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// A metric should rest on at least this many steps per side (Dingenen 2018, Phys Ther Sport 33:40).
    pub min_steps_per_metric: usize,
    /// Below this frame rate contact and flight times are too coarse to trust, frames per second (runform
    /// default: at 50 fps one frame is 20 ms, a tenth of an elite contact).
    pub min_fps_for_contact_time: f64,
    /// Per-step values whose landmarks' mean visibility is below this are left out, 0..1 (runform default).
    pub min_landmark_confidence: f64,
    /// Feet count as out of frame when more than this fraction of frames has them near the bottom edge or
    /// poorly visible (runform default).
    pub max_feet_out_of_frame_fraction: f64,
    /// Foot strike angle above which the strike is rearfoot, degrees (Altman & Davis 2012 \[unverified\]).
    pub rearfoot_strike_above_deg: f64,
    /// Foot strike angle below which the strike is forefoot, degrees (Altman & Davis 2012 \[unverified\]).
    pub forefoot_strike_below_deg: f64,
    /// Cadence, steps per minute.
    pub cadence_steps_per_min: ReferenceRange,
    /// Ground contact time, milliseconds.
    pub contact_time_ms: ReferenceRange,
    /// Trunk lean at midstance, degrees.
    pub trunk_lean_midstance_deg: ReferenceRange,
    /// Overstride at initial contact, % of thigh + shank length.
    pub overstride_pct_leg_length: ReferenceRange,
    /// Tibia angle at initial contact, degrees.
    pub tibia_angle_ic_deg: ReferenceRange,
    /// Peak knee flexion in stance, degrees.
    pub knee_flexion_peak_stance_deg: ReferenceRange,
    /// Peak hip extension in terminal stance, degrees.
    pub hip_extension_peak_deg: ReferenceRange,
    /// Pelvic drop at midstance, degrees.
    pub pelvic_drop_midstance_deg: ReferenceRange,
    /// Contact-time symmetry index, percent (absolute value).
    pub contact_time_asymmetry_pct: ReferenceRange,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            min_steps_per_metric: 7,
            min_fps_for_contact_time: 50.0,
            min_landmark_confidence: 0.3,
            max_feet_out_of_frame_fraction: 0.3,
            rearfoot_strike_above_deg: 8.0,
            forefoot_strike_below_deg: -1.6,
            cadence_steps_per_min: ReferenceRange::new(
                Some(160.0),
                None,
                "Lieberman 2015, J Exp Biol 218:3406 (~170 steps/min optimal at 3 m/s); Heiderscheit 2011, \
                 MSSE 43:296 (+5-10 % step rate lowers knee and hip loading); the 160 cut-off is a runform default",
            ),
            contact_time_ms: ReferenceRange::new(
                Some(160.0),
                Some(300.0),
                "watch-maker figures: most runners 160-300 ms, elite < 200 ms",
            ),
            trunk_lean_midstance_deg: ReferenceRange::new(
                None,
                Some(15.0),
                "Bramah 2018, AJSM 46:3023 (injured runners lean further forward at midstance); no accepted \
                 normal range, 15 deg is a runform default",
            ),
            overstride_pct_leg_length: ReferenceRange::new(
                None,
                Some(30.0),
                "Bramah 2018 (more extended knee and dorsiflexed ankle at IC in injured runners); no published \
                 cut-off, 30 % of leg length is a runform default",
            ),
            tibia_angle_ic_deg: ReferenceRange::new(
                None,
                Some(10.0),
                "Bramah 2018 (tibia more inclined at IC in injured runners); 10 deg is a runform default \
                 [unverified]",
            ),
            knee_flexion_peak_stance_deg: ReferenceRange::new(
                Some(40.0),
                None,
                "Souza 2016, PM&R Clin N Am 27:217 (peak stance knee flexion < 40 deg linked to patellofemoral \
                 pain subgroups; well under 45 deg may mean poor shock absorption)",
            ),
            hip_extension_peak_deg: ReferenceRange::new(
                Some(5.0),
                None,
                "Souza 2016 (optimal amount elusive, ~10 deg can be fine in a slow compact stride); 5 deg is a \
                 runform default",
            ),
            pelvic_drop_midstance_deg: ReferenceRange::new(
                None,
                Some(6.0),
                "Bramah 2018 (each 1 deg more drop raised the odds of being injured by 80 %, retrospective); \
                 6 deg is a runform default [unverified]",
            ),
            contact_time_asymmetry_pct: ReferenceRange::new(
                Some(-10.0),
                Some(10.0),
                "runform default (no published cut-off for running contact-time asymmetry)",
            ),
        }
    }
}

impl Thresholds {
    /// The reference range `metric` is flagged against, if it has one.
    pub fn range_for(&self, metric: MetricId) -> Option<&ReferenceRange> {
        Some(match metric {
            MetricId::CadenceStepsPerMin => &self.cadence_steps_per_min,
            MetricId::ContactTimeMs => &self.contact_time_ms,
            MetricId::TrunkLeanMidstanceDeg => &self.trunk_lean_midstance_deg,
            MetricId::OverstridePctLegLength => &self.overstride_pct_leg_length,
            MetricId::TibiaAngleIcDeg => &self.tibia_angle_ic_deg,
            MetricId::KneeFlexionPeakStanceDeg => &self.knee_flexion_peak_stance_deg,
            MetricId::HipExtensionPeakDeg => &self.hip_extension_peak_deg,
            MetricId::PelvicDropMidstanceDeg => &self.pelvic_drop_midstance_deg,
            _ => return None,
        })
    }
}

/// Default Butterworth cut-off, Hz: inside the 6-15 Hz Pose2Sim advises for running, high enough to keep the
/// fast foot rotation after initial contact.
pub const DEFAULT_FILTER_CUTOFF_HZ: f64 = 12.0;

/// Default longest gap that is interpolated, seconds (about two frames at 30 fps, six at 60 fps).
pub const DEFAULT_MAX_GAP_FILL_S: f64 = 0.1;

/// The settings of the analysis stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AnalysisSettings {
    /// The view (`--view`).
    pub view: ViewChoice,
    /// The runner's standing height, centimetres (`--height-cm`), for centimetre values.
    pub height_cm: Option<f64>,
    /// Treadmill belt speed, metres per second (`--speed`), for step and stride length.
    pub treadmill_speed_mps: Option<f64>,
    /// Low-pass cut-off, Hz (clamped below the frame rate's Nyquist limit).
    pub filter_cutoff_hz: f64,
    /// Longest landmark gap that is interpolated, seconds.
    pub max_gap_fill_s: f64,
    /// Thresholds and reference ranges.
    pub thresholds: Thresholds,
}

impl AnalysisSettings {
    /// The track-building options these settings imply (also used to redraw the evidence in the visual report).
    pub fn track_options(&self) -> TrackOptions {
        TrackOptions {
            cutoff_hz: self.filter_cutoff_hz,
            max_gap_fill_s: self.max_gap_fill_s,
            height_cm: self.height_cm,
        }
    }
}

impl Default for AnalysisSettings {
    fn default() -> AnalysisSettings {
        AnalysisSettings {
            view: ViewChoice::Auto,
            height_cm: None,
            treadmill_speed_mps: None,
            filter_cutoff_hz: DEFAULT_FILTER_CUTOFF_HZ,
            max_gap_fill_s: DEFAULT_MAX_GAP_FILL_S,
            thresholds: Thresholds::default(),
        }
    }
}

/// What the view detection found and what the analysis used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ViewReport {
    /// What the user asked for.
    pub requested: ViewChoice,
    /// What the landmarks look like.
    pub detected: Option<View>,
    /// What the metrics were computed for.
    pub used: View,
    /// Median shoulder/hip width over torso length (small in a side view).
    pub width_over_torso_ratio: Option<f64>,
}

/// Why a warning was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// No runner (no pose) in the clip.
    NoRunner,
    /// No gait events could be found.
    NoGaitEvents,
    /// Fewer steps than a reliable average needs.
    FewSteps,
    /// The frame rate is too low for contact time.
    LowFrameRate,
    /// The feet are out of frame or hidden.
    FeetOutOfFrame,
    /// The view asked for is not the view filmed, or the view does not suit the metrics.
    WrongView,
    /// The view could not be detected.
    ViewUncertain,
    /// The runner crosses the frame (not a treadmill).
    Overground,
    /// Contacts were rejected as implausible.
    RejectedContacts,
    /// The camera roll could not be measured; angles assume a level camera.
    RollNotMeasured,
    /// Side view: the stance feet do not slide along one line (a camera that moves, or loose foot landmarks), so
    /// the angles from the vertical are measured against the picture, a level camera.
    BeltLineUnsteady,
    /// The runner is small in the frame: a pixel of landmark error is a large angle.
    RunnerSmall,
    /// Side view: the far leg is partly hidden, its landmarks are less reliable.
    FarLegHidden,
    /// The cadence from the gait events disagrees with the cadence from the stride's periodicity.
    CadenceDisagrees,
    /// Many frames had their left/right leg labels swapped back.
    LegSwapsRepaired,
    /// Many landmark samples were missing for longer than can be filled.
    LongGaps,
    /// The picture is upside down or on its side: the head is not above the feet.
    NotUpright,
    /// The file is cut short or damaged part-way: the report covers the part that could be read.
    ClipTruncated,
    /// Only part of the clip is steady running: the report says which seconds it measures and why the rest is
    /// left out.
    PartOfClipMeasured,
    /// Frontal view: the person walks (or the clip is slow motion); running's times are absent and no flag is
    /// raised, the pelvis, knees and foot placement are measured.
    Walking,
    /// The runner sprints (cadence at or above [`SPRINT_CADENCE_STEPS_PER_MIN`]): the reference ranges are distance
    /// running's, so no flag is raised; every number is measured as usual.
    Sprinting,
    /// The full pose model named the legs by their place in the picture, and the heavy model's landmarks, which
    /// measured more steps, are used ([`LEGS_NAMED_BY_PLACE_SHARE`]); or the full model's foot landmarks could not
    /// time the contacts, and the heavy model's, which can, are used.
    HeavyModelUsed,
    /// The pose model files are not the ones this build shipped (`models/SHA256SUMS`), as from
    /// `RUNFORM_MODELS_DIR`: runform's accuracy was measured with the shipped ones.
    OtherPoseModels,
}

/// A pose model that tells the legs apart gives its "right" leg the lead in about half the frames of a run; one
/// that names the legs by their place in the picture (the leg ahead is "right", whichever it is) gives it nearly
/// always. From this share of frames on (see [`legs_named_by_place_share`]), `--model auto` runs the heavy model as
/// well. On runform's full-model landmarks of the fixtures (docs/metrics.md, *Pose model size*): the gym, grass and
/// tiktok clips and their copies 0.50-0.58, the other side-view clips 0.52-0.63; the treadmill sprint 0.80 (the
/// heavy model's 0.58), radluy 0.72 and the feet-cropped stock clip 0.91. A runform default.
pub const LEGS_NAMED_BY_PLACE_SHARE: f64 = 0.7;

/// The heels count as one ahead of the other when they are this fraction of the leg apart along the facing.
const LEGS_APART_PER_LEG: f64 = 0.1;

/// Fewer frames with the heels apart than this give no share.
const LEGS_APART_MIN_FRAMES: usize = 30;

/// The share of the frames with the heels apart (by `LEGS_APART_PER_LEG`) in which the leg ahead is the one the
/// pose model names more often for it: about 0.5 when the model tells the legs apart, near 1 when it names them
/// by their place. `None` with fewer than `LEGS_APART_MIN_FRAMES` such frames.
pub fn legs_named_by_place_share(sequence: &PoseSequence, facing: Facing, leg_px: f64) -> Option<f64> {
    let (mut right_ahead, mut counted) = (0_usize, 0_usize);
    for pose in sequence.frames.iter().filter_map(|frame| frame.pose.as_ref()) {
        let x = |id: LandmarkId| f64::from(pose.landmark(id).x_px);
        let right_lead = facing.sign() * (x(LandmarkId::RightHeel) - x(LandmarkId::LeftHeel));
        if right_lead.abs() > LEGS_APART_PER_LEG * leg_px {
            counted += 1;
            right_ahead += usize::from(right_lead > 0.0);
        }
    }
    (counted >= LEGS_APART_MIN_FRAMES).then(|| {
        let share = right_ahead as f64 / counted as f64;
        share.max(1.0 - share)
    })
}

/// `sequence` as a pose model that names the legs by their place would give it: whichever leg is ahead is "right".
#[cfg(test)]
pub(crate) fn named_by_place(sequence: &PoseSequence, facing: Facing) -> PoseSequence {
    let mut by_place = sequence.clone();
    for pose in by_place.frames.iter_mut().filter_map(|frame| frame.pose.as_mut()) {
        let x = |pose: &crate::landmarks::Pose, id: LandmarkId| f64::from(pose.landmark(id).x_px);
        if facing.sign() * (x(pose, LandmarkId::LeftHeel) - x(pose, LandmarkId::RightHeel)) > 0.0 {
            for (left, right) in track::LEG_PAIRS {
                pose.landmarks.swap(left.index(), right.index());
            }
        }
    }
    by_place
}

/// Steps per minute from which a runner sprints and distance running's reference ranges, so the flags, do not
/// apply: a runform default, unverified. The ranges come from runners at about 3 m/s (cadence about 170,
/// `../shared/docs/running-metrics.md`); distance runners are taken to stay under about 210 steps/min even racing,
/// and sprinters run at 250-300 (the labelled treadmill sprint 277-279, the grass clip's 2:10/km take 238).
pub const SPRINT_CADENCE_STEPS_PER_MIN: f64 = 230.0;

/// A warning for the physical therapist, in plain words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Warning {
    /// Machine-readable kind.
    pub kind: WarningKind,
    /// Plain words.
    pub message: String,
}

/// Which side a flag is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagSide {
    /// The left leg.
    Left,
    /// The right leg.
    Right,
    /// Both legs (or the whole body).
    Both,
}

/// A value outside its reference range, in plain words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Flag {
    /// The metric.
    pub metric: MetricId,
    /// Which side.
    pub side: FlagSide,
    /// The threshold's name in [`Thresholds`].
    pub threshold_name: String,
    /// The value that crossed it (the mean over the steps), in the metric's unit.
    pub value: f64,
    /// Steps behind the value.
    pub n: usize,
    /// The reference range, with its source.
    pub reference_range: ReferenceRange,
    /// What it means, in plain words.
    pub message: String,
}

/// The analysis of one clip: the JSON report's analysis section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Analysis {
    /// The view.
    pub view: ViewReport,
    /// Which way the runner faces in the image (side view).
    pub facing: Option<Facing>,
    /// How the runner moves through the frame.
    pub travel: Option<Travel>,
    /// Running or walking, from the contacts (absent when no contacts were found). Walking is only recognised in
    /// frontal views; its running times are absent with the reason and no flag is raised.
    pub gait: Option<events::Gait>,
    /// The side nearer the camera (side view).
    pub near_side: Option<Side>,
    /// Frame rate used, frames per second.
    pub frame_rate_fps: f64,
    /// One frame, milliseconds: the precision of every event time.
    pub frame_interval_ms: f64,
    /// Frames in the clip.
    pub frame_count: usize,
    /// Frames with a pose.
    pub frames_with_pose_count: usize,
    /// Low-pass cut-off used, Hz.
    pub filter_cutoff_hz: f64,
    /// Camera roll (belt line's angle in the image), degrees; angles are measured against the belt.
    pub camera_roll_deg: Option<f64>,
    /// Whether the roll was measured from the stance feet (otherwise the camera is assumed level).
    pub camera_roll_measured: bool,
    /// Thigh + shank length, pixels.
    pub leg_length_px: Option<f64>,
    /// Pixels per centimetre, from `height_cm`.
    pub scale_px_per_cm: Option<f64>,
    /// Cadence from the periodicity of the feet's motion (autocorrelation), independent of the gait events: a
    /// cross-check of `cadence_steps_per_min`, steps per minute.
    pub cadence_check_steps_per_min: Option<f64>,
    /// What the track clean-up changed.
    pub track_repairs: TrackRepairs,
    /// The per-step table.
    pub steps: Vec<Step>,
    /// Contacts thrown away, with reasons.
    pub rejected_contacts: Vec<RejectedContact>,
    /// Side view: how each foot's event anchors were calibrated to its foot-height events.
    pub event_calibration: Vec<events::SideCalibration>,
    /// Side view: the stretches of steady running the metrics are measured over, and what was left out and why.
    pub running_parts: crate::parts::ClipParts,
    /// One summary per metric (absent ones with a reason).
    pub metrics: Vec<MetricSummary>,
    /// Warnings.
    pub warnings: Vec<Warning>,
    /// Values outside their reference ranges.
    pub flags: Vec<Flag>,
    /// Side view: each leg's foot strike pattern over its measured steps (see
    /// [`metrics::foot::classify_strikes`]); empty where the foot strike angle is absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strike_patterns: Vec<metrics::foot::StrikePattern>,
}

impl Analysis {
    /// The summary of `metric`.
    pub fn metric(&self, metric: MetricId) -> Option<&MetricSummary> {
        self.metrics.iter().find(|summary| summary.metric == metric)
    }

    /// Whether the clip shows walking: its numbers are not read against running's reference ranges.
    pub fn is_walking(&self) -> bool {
        self.gait == Some(events::Gait::Walking)
    }

    /// Whether the runner sprints: the numbers are not read against distance running's reference ranges.
    pub fn is_sprinting(&self) -> bool {
        self.has_warning(WarningKind::Sprinting)
    }

    /// Why this running clip's contacts cannot be timed from its feet's landmarks (its contact time is then
    /// absent with this reason): too few stances to calibrate the events, single stances' events scattered, or
    /// too many implausible contacts. `None` where they can, and in a clip that is not running.
    pub fn contact_timing_reason(&self) -> Option<String> {
        (self.gait == Some(events::Gait::Running))
            .then(|| {
                contact_timing_reason(
                    &self.steps,
                    &self.event_calibration,
                    &self.rejected_contacts,
                    &self.running_parts,
                )
            })
            .flatten()
    }

    /// Why the report shows no toe-off (no marks on the stride cycle, no toe-off stills): in running, the reason
    /// contact time is absent (the toe-offs are uncalibrated or scatter, or the feet are hidden), since a shown
    /// toe-off is a number too. `None` where they are shown (walking keeps its toe-offs although its contact time,
    /// a running time, is absent).
    pub fn untrusted_toe_offs(&self) -> Option<&str> {
        if self.is_walking() {
            return None;
        }
        self.metric(MetricId::ContactTimeMs)
            .and_then(|summary| summary.absent_reason.as_deref())
    }

    /// The same analysis with its toe-offs distrusted for `reason` (contact time absent), as the tests of the
    /// outputs that hide untrusted toe-offs need.
    #[cfg(test)]
    pub fn with_toe_offs_distrusted(mut self, reason: &str) -> Analysis {
        for summary in &mut self.metrics {
            if summary.metric == MetricId::ContactTimeMs {
                summary.absent_reason = Some(reason.to_owned());
            }
        }
        self
    }

    /// Whether a warning of `kind` was raised.
    pub fn has_warning(&self, kind: WarningKind) -> bool {
        self.warnings.iter().any(|warning| warning.kind == kind)
    }
}

/// Below this fraction of frames with a pose, the few poses found are taken as false detections, not a runner.
pub const MIN_RUNNER_FRAME_FRACTION: f64 = 0.1;

/// Analyses one clip's landmarks. Never panics and never fails: an unusable clip gives warnings and absent
/// metrics with reasons (see [`WarningKind::NoRunner`]).
pub fn analyze_sequence(sequence: &PoseSequence, settings: &AnalysisSettings) -> Analysis {
    let thresholds = &settings.thresholds;
    let tracks = track::build_tracks(sequence, &settings.track_options());
    let frames_with_pose_count = sequence.frames.iter().filter(|frame| frame.pose.is_some()).count();
    let detection = tracks.detection.clone();
    let mut warnings = Vec::new();
    let used_view = choose_view(settings.view, detection.view, &mut warnings);
    let mut analysis = Analysis {
        view: ViewReport {
            requested: settings.view,
            detected: detection.view,
            used: used_view,
            width_over_torso_ratio: detection.width_over_torso_ratio,
        },
        facing: detection.facing,
        travel: detection.travel,
        near_side: detection.near_side,
        gait: None,
        frame_rate_fps: tracks.fps,
        frame_interval_ms: 1000.0 / tracks.fps,
        frame_count: sequence.frames.len(),
        frames_with_pose_count,
        filter_cutoff_hz: tracks.cutoff_hz,
        camera_roll_deg: None,
        camera_roll_measured: false,
        leg_length_px: tracks.leg_length_px,
        scale_px_per_cm: tracks.px_per_cm,
        cadence_check_steps_per_min: None,
        track_repairs: tracks.repairs.clone(),
        steps: Vec::new(),
        rejected_contacts: Vec::new(),
        event_calibration: Vec::new(),
        running_parts: crate::parts::ClipParts::default(),
        metrics: Vec::new(),
        warnings: Vec::new(),
        flags: Vec::new(),
        strike_patterns: Vec::new(),
    };
    let mut summary_options = SummaryOptions {
        view: used_view,
        min_landmark_confidence: thresholds.min_landmark_confidence,
        min_steps_per_metric: thresholds.min_steps_per_metric,
        speed_given: settings.treadmill_speed_mps.is_some(),
        scale_given: tracks.px_per_cm.is_some(),
        no_events_reason: None,
        not_running_reason: None,
        contact_timing_reason: None,
        feet_unreliable_reason: None,
        frame_rate_fps: tracks.fps,
    };
    let too_few_poses = (frames_with_pose_count as f64) < MIN_RUNNER_FRAME_FRACTION * sequence.frames.len() as f64;
    if frames_with_pose_count == 0 || too_few_poses || tracks.leg_length_px.is_none() {
        warnings.push(Warning {
            kind: WarningKind::NoRunner,
            message: if frames_with_pose_count == 0 || tracks.leg_length_px.is_none() {
                "no runner was found in the clip: no frame has a usable pose, so nothing can be measured".into()
            } else {
                format!(
                    "no runner was found in the clip: a pose was found in only {frames_with_pose_count} of {} \
                     frames, too few to be a runner in view, so nothing is measured",
                    sequence.frames.len()
                )
            },
        });
        // The frame rate matters for the next recording even when nothing could be measured in this one.
        warnings.extend(frame_rate_warning(tracks.fps, thresholds));
        summary_options.no_events_reason = Some("no runner was found in the clip".into());
        analysis.metrics = metrics::summarise(&[], &summary_options);
        analysis.warnings = warnings;
        return analysis;
    }
    summary_options.feet_unreliable_reason = clip_warnings(sequence, &tracks, &detection, thresholds, &mut warnings);
    let events = match events::detect_events(&tracks, used_view) {
        Ok(events) => events,
        Err(failure) => {
            warnings.push(Warning {
                kind: WarningKind::NoGaitEvents,
                message: format!("no gait events could be found: {}", failure.reason),
            });
            summary_options.no_events_reason = Some(failure.reason);
            analysis.running_parts = failure.parts;
            analysis.metrics = metrics::summarise(&[], &summary_options);
            analysis.warnings = warnings;
            return analysis;
        }
    };
    event_warnings(&events, used_view, &mut warnings);
    analysis.gait = Some(events.gait);
    if events.gait == events::Gait::Walking {
        let reason = walking_reason(events.stride_estimate_s);
        warnings.push(Warning {
            kind: WarningKind::Walking,
            message: format!(
                "{reason}: cadence and the contact, flight, step and stride times are left out, and no flag is \
                 raised (the reference ranges are running's); the pelvis, knees and foot placement are measured \
                 at the middle of each single support"
            ),
        });
        summary_options.not_running_reason = Some(reason);
    }
    let kinematics = Kinematics::in_frames(
        &tracks,
        &events.parts.belt_frames(tracks.fps, events.belt.frame),
        &events.parts.upright_frames(tracks.fps, events.belt.frame),
    );
    let mut steps = metrics::compute_steps(
        &tracks,
        &kinematics,
        used_view,
        &events.contacts,
        settings.treadmill_speed_mps,
        (
            thresholds.rearfoot_strike_above_deg,
            thresholds.forefoot_strike_below_deg,
        ),
        events.stride_estimate_s,
    );
    for step in &mut steps {
        step.measured = events.parts.is_measured(step.ic_s);
    }
    // In a side view the far leg is partly hidden behind the near one: say so, and say it on its flags.
    let far_side = (used_view == View::Side)
        .then(|| detection.near_side.map(Side::other))
        .flatten();
    if let Some(far) = far_side {
        metrics::withhold_hidden_far_leg(&mut steps, far);
    }
    let measured_steps: Vec<metrics::Step> = steps.iter().filter(|step| step.measured).cloned().collect();
    summary_options.contact_timing_reason =
        contact_timing_reason(&steps, &events.calibration, &events.rejected, &events.parts);
    let mut summaries = metrics::summarise(&measured_steps, &summary_options);
    if let Some(far) = far_side {
        for summary in &mut summaries {
            if metrics::HIDDEN_ON_THE_FAR_LEG.contains(&summary.metric) && summary.absent_reason.is_none() {
                summary.side_absent_reason = Some(format!(
                    "{} leg (the far side): {}",
                    side_name(far),
                    metrics::FAR_LEG_HIDDEN_REASON
                ));
            }
        }
    }
    step_count_warning(&measured_steps, thresholds, &mut warnings);
    warnings.extend(parts_warning(&events.parts));
    // Walking's rhythm is not a running cadence to check against (and is absent, with cadence).
    analysis.cadence_check_steps_per_min = events
        .stride_estimate_s
        .filter(|_| events.gait == events::Gait::Running)
        .map(|stride_s| 120.0 / stride_s);
    withhold_disagreeing_cadence(&mut summaries, analysis.cadence_check_steps_per_min, &mut warnings);
    metrics::withhold_untrusted(&mut steps, &summaries, thresholds.min_landmark_confidence);
    let strike_thresholds_deg = (
        thresholds.rearfoot_strike_above_deg,
        thresholds.forefoot_strike_below_deg,
    );
    metrics::foot::classify_strikes(&mut steps, strike_thresholds_deg);
    analysis.strike_patterns = metrics::foot::strike_patterns(&steps, strike_thresholds_deg);
    analysis.camera_roll_deg = Some(events.belt.camera_roll_deg);
    analysis.camera_roll_measured = events.belt.roll_measured;
    if let Some(far) = far_side {
        warnings.push(Warning {
            kind: WarningKind::FarLegHidden,
            message: format!(
                "the {} leg is on the far side of the camera and partly hidden behind the near leg: its knee and \
                 foot landmarks are less reliable, so compare left and right with care",
                side_name(far)
            ),
        });
    }
    let event_timing = EventTiming::of(&steps, &kinematics, tracks.leg_length_px);
    let shared = SharedErrors {
        frame_interval_ms: analysis.frame_interval_ms,
        stride_ms: summaries
            .iter()
            .find(|summary| summary.metric == MetricId::StrideTimeMs)
            .and_then(|summary| summary.both.as_ref().map(|stats| stats.mean)),
        event_timing: &event_timing,
    };
    for summary in summaries.iter_mut().filter(|summary| summary.both.is_some()) {
        summary.shared_error = shared.of(summary.metric, FlagSide::Both);
        let uncertainty = shared.asymmetry_uncertainty_pct(summary);
        let difference_uncertainty = side_difference_uncertainty(summary);
        if let Some(asymmetry) = &mut summary.asymmetry {
            asymmetry.uncertainty_pct = uncertainty;
            asymmetry.left_minus_right_uncertainty = difference_uncertainty;
        }
    }
    let sprint_cadence = summaries
        .iter()
        .find(|summary| summary.metric == MetricId::CadenceStepsPerMin)
        .and_then(|summary| summary.both.as_ref().map(|stats| stats.mean))
        .or_else(|| events.parts.measured_cadence())
        .filter(|&cadence| cadence >= SPRINT_CADENCE_STEPS_PER_MIN);
    if let (events::Gait::Running, Some(cadence)) = (events.gait, sprint_cadence) {
        warnings.push(Warning {
            kind: WarningKind::Sprinting,
            message: format!(
                "the runner sprints ({cadence:.0} steps/min): the reference ranges are distance running's, so no \
                 flag is raised; the numbers are measured as usual"
            ),
        });
    } else if events.gait == events::Gait::Running {
        analysis.flags = flags(&summaries, thresholds, far_side, shared);
    }
    analysis.steps = steps;
    analysis.rejected_contacts = events.rejected;
    analysis.event_calibration = events.calibration;
    analysis.running_parts = events.parts;
    analysis.metrics = summaries;
    analysis.warnings = warnings;
    analysis
}

fn choose_view(requested: ViewChoice, detected: Option<View>, warnings: &mut Vec<Warning>) -> View {
    match (requested, detected) {
        (ViewChoice::Auto, Some(view)) => {
            if view == View::Oblique {
                warnings.push(Warning {
                    kind: WarningKind::WrongView,
                    message: "the camera films the runner from a three-quarter angle: side-view angles are \
                              foreshortened and pelvic drop cannot be measured; film square from the side or from \
                              behind"
                        .into(),
                });
            }
            view
        }
        (ViewChoice::Auto, None) => {
            warnings.push(Warning {
                kind: WarningKind::ViewUncertain,
                message: "the view could not be detected; a side view is assumed".into(),
            });
            View::Side
        }
        (ViewChoice::Side, detected) => {
            if matches!(detected, Some(View::Rear | View::Front)) {
                warnings.push(Warning {
                    kind: WarningKind::WrongView,
                    message: "a side view was asked for, but the runner is filmed from behind or in front: side-view \
                              angles will be wrong"
                        .into(),
                });
            }
            View::Side
        }
        (ViewChoice::Rear, detected) => {
            if matches!(detected, Some(View::Side)) {
                warnings.push(Warning {
                    kind: WarningKind::WrongView,
                    message: "a rear view was asked for, but the runner is filmed from the side: pelvic drop cannot \
                              be measured from a side view"
                        .into(),
                });
            }
            View::Rear
        }
    }
}

/// Foot landmarks checked for being in frame.
const FOOT_LANDMARKS: [LandmarkId; 4] = [
    LandmarkId::LeftHeel,
    LandmarkId::RightHeel,
    LandmarkId::LeftFootIndex,
    LandmarkId::RightFootIndex,
];

/// A foot landmark this close to the bottom edge counts as out of frame, fraction of the frame height.
pub const FOOT_EDGE_MARGIN_FRACTION: f64 = 0.02;

/// Below this thigh + shank length the runner is too small in the frame for angles to the degree, pixels.
pub const MIN_LEG_LENGTH_PX: f64 = 150.0;

/// Feet whose mean visibility is below this count as hidden, 0..1.
pub const FOOT_MIN_VISIBILITY: f64 = 0.5;

/// The low-frame-rate warning, when `fps` is below the threshold for contact times.
fn frame_rate_warning(fps: f64, thresholds: &Thresholds) -> Option<Warning> {
    (fps < thresholds.min_fps_for_contact_time).then(|| Warning {
        kind: WarningKind::LowFrameRate,
        message: format!(
            "the clip is {fps:.0} fps: one frame is {:.0} ms, so contact and flight times are only good to about \
             that; film at {:.0} fps or more",
            1000.0 / fps,
            thresholds.min_fps_for_contact_time
        ),
    })
}

/// Below this fraction of frames with the head above the feet, the picture is taken to be rotated.
pub const MIN_UPRIGHT_FRACTION: f64 = 0.5;

/// The fraction of frames with a pose in which the nose is above both ankles in the image (y down), or `None`
/// without poses. A runner is upright in every frame, whatever the stride phase.
fn upright_fraction(sequence: &PoseSequence) -> Option<f64> {
    let (mut poses, mut upright) = (0usize, 0usize);
    for pose in sequence.frames.iter().filter_map(|frame| frame.pose.as_ref()) {
        poses += 1;
        let nose_y = pose.landmark(LandmarkId::Nose).y_px;
        if nose_y < pose.landmark(LandmarkId::LeftAnkle).y_px && nose_y < pose.landmark(LandmarkId::RightAnkle).y_px {
            upright += 1;
        }
    }
    (poses > 0).then(|| upright as f64 / poses as f64)
}

fn clip_warnings(
    sequence: &PoseSequence,
    tracks: &track::Tracks,
    detection: &track::ViewDetection,
    thresholds: &Thresholds,
    warnings: &mut Vec<Warning>,
) -> Option<String> {
    let bottom_px = f64::from(sequence.height_px) * (1.0 - FOOT_EDGE_MARGIN_FRACTION);
    let mut with_pose = 0usize;
    let mut feet_out = 0usize;
    for pose in sequence.frames.iter().filter_map(|frame| frame.pose.as_ref()) {
        with_pose += 1;
        let landmarks = FOOT_LANDMARKS.map(|id| pose.landmark(id));
        let mean_visibility =
            landmarks.iter().map(|l| f64::from(l.visibility)).sum::<f64>() / FOOT_LANDMARKS.len() as f64;
        let at_edge = landmarks.iter().any(|l| f64::from(l.y_px) >= bottom_px);
        if at_edge || mean_visibility < FOOT_MIN_VISIBILITY {
            feet_out += 1;
        }
    }
    let feet_out_fraction = feet_out as f64 / with_pose.max(1) as f64;
    if let Some(upright_fraction) = upright_fraction(sequence)
        && upright_fraction < MIN_UPRIGHT_FRACTION
    {
        warnings.push(Warning {
            kind: WarningKind::NotUpright,
            message: format!(
                "the runner is upright in only {:.0} % of frames (the head is not above the feet): the picture is \
                 upside down or on its side; rotate the clip upright and analyse it again",
                100.0 * upright_fraction
            ),
        });
    }
    let feet_unreliable_reason = (feet_out_fraction > thresholds.max_feet_out_of_frame_fraction).then(|| {
        format!(
            "the feet are out of frame or hidden in {:.0} % of frames, so their contacts and angles cannot be \
             measured; film the whole body including the feet",
            100.0 * feet_out_fraction
        )
    });
    if let Some(reason) = &feet_unreliable_reason {
        warnings.push(Warning {
            kind: WarningKind::FeetOutOfFrame,
            message: format!(
                "{reason}: foot strike, contact times and every metric timed by the feet's contacts are left out"
            ),
        });
    }
    warnings.extend(frame_rate_warning(tracks.fps, thresholds));
    if matches!(detection.travel, Some(Travel::TowardsLeft | Travel::TowardsRight)) {
        warnings.push(Warning {
            kind: WarningKind::Overground,
            message: "the runner moves across the frame (overground, not a treadmill): events are timed relative to \
                      the pelvis, but the camera sees each step from a different angle"
                .into(),
        });
    }
    if let Some(leg_px) = tracks.leg_length_px
        && leg_px < MIN_LEG_LENGTH_PX
    {
        warnings.push(Warning {
            kind: WarningKind::RunnerSmall,
            message: format!(
                "the runner is small in the frame (thigh + shank {leg_px:.0} px): a pixel of landmark error is about \
                 {:.1} deg on the thigh, and more across the hips; film closer",
                (2.0 / leg_px).atan().to_degrees()
            ),
        });
    }
    let frame_count = tracks.frame_count().max(1);
    if tracks.repairs.swapped_frame_count * 20 > frame_count {
        warnings.push(Warning {
            kind: WarningKind::LegSwapsRepaired,
            message: format!(
                "the pose model swapped the left and right legs in {} frames; they were swapped back from the \
                 motion's continuity, but check the per-side values",
                tracks.repairs.swapped_frame_count
            ),
        });
    }
    let leg_samples = 10 * frame_count;
    let leg_unfilled: usize = track::LEG_PAIRS
        .iter()
        .flat_map(|(left, right)| [left, right])
        .map(|id| tracks.raw(*id).x_px.iter().filter(|x| !x.is_finite()).count())
        .sum();
    if leg_unfilled * 10 > leg_samples {
        warnings.push(Warning {
            kind: WarningKind::LongGaps,
            message: format!(
                "{:.0} % of leg landmark samples are missing for longer than can be filled",
                100.0 * leg_unfilled as f64 / leg_samples as f64
            ),
        });
    }
    feet_unreliable_reason
}

/// `items` as a list in words: "a", "a and b", "a, b and c".
fn list_in_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Says which seconds the report measures and what it left out, when it left anything out.
fn parts_warning(parts: &crate::parts::ClipParts) -> Option<Warning> {
    if parts.skipped.is_empty() {
        return None;
    }
    let span = |start: f64, end: f64| format!("{start:.1}–{end:.1} s");
    // Parts of one shot overlap by their margins (half a step before, two steps after): say them as one.
    let mut measured_spans: Vec<(f64, f64)> = Vec::new();
    for part in parts.parts.iter().filter(|part| part.measured) {
        match measured_spans.last_mut() {
            Some(last) if part.start_s < last.1 => last.1 = last.1.max(part.end_s),
            _ => measured_spans.push((part.start_s, part.end_s)),
        }
    }
    let measured: Vec<String> = measured_spans.iter().map(|&(start, end)| span(start, end)).collect();
    // Measured parts run within 8 % of one pace (parts::SAME_PACE_FRACTION): a range where they differ.
    let cadence = parts.measured_cadence_range().map(|(low, high)| {
        if low.round() == high.round() {
            format!(" (steady running at about {high:.0} steps/min)")
        } else {
            format!(" (steady running at {low:.0}–{high:.0} steps/min)")
        }
    });
    // Spans left out for the same reason are said together, in the order of the first of each ("0.0–1.3 s, 1.5–2.0 s
    // and 3.4–10.2 s (no steady running: …)"), so that a long reason is read once.
    let mut reasons: Vec<(&str, Vec<String>)> = Vec::new();
    for skipped in &parts.skipped {
        let text = span(skipped.start_s, skipped.end_s);
        match reasons.iter_mut().find(|(reason, _)| *reason == skipped.reason) {
            Some((_, spans)) => spans.push(text),
            None => reasons.push((&skipped.reason, vec![text])),
        }
    }
    let left_out: Vec<String> = reasons
        .iter()
        .map(|(reason, spans)| format!("{} ({reason})", list_in_words(spans)))
        .collect();
    Some(Warning {
        kind: WarningKind::PartOfClipMeasured,
        message: format!(
            "the report measures {}{}; left out: {}",
            list_in_words(&measured),
            cadence.unwrap_or_default(),
            left_out.join("; ")
        ),
    })
}

fn event_warnings(events: &GaitEvents, view: View, warnings: &mut Vec<Warning>) {
    if !events.rejected.is_empty() {
        let double_support = events
            .rejected
            .iter()
            .filter(|r| r.kind == events::RejectionKind::DoubleSupport)
            .count();
        let mut message = format!(
            "{} of {} foot contacts were rejected as implausible (see rejected_contacts)",
            events.rejected.len(),
            events.rejected.len() + events.contacts.len()
        );
        if double_support * 2 > events.rejected.len() + events.contacts.len() {
            message.push_str("; most overlap the other foot's stance, which looks like walking, not running");
        }
        warnings.push(Warning {
            kind: WarningKind::RejectedContacts,
            message,
        });
    }
    if view == View::Side && !events.belt.roll_measured {
        warnings.push(Warning {
            kind: WarningKind::RollNotMeasured,
            message: "the belt line could not be measured from the stance feet; angles assume a level camera".into(),
        });
    }
    if let Some(error_deg) = events.parts.unsteady_belt_line_deg() {
        warnings.push(Warning {
            kind: WarningKind::BeltLineUnsteady,
            message: format!(
                "the stance feet do not slide along one line (its angle moves by ±{error_deg:.1} deg between \
                 steps: a camera that moves, or loose foot landmarks), so it is not taken as the level: trunk, \
                 thigh and shank angles are measured against the picture's vertical (a level camera), the foot \
                 angle and overstride against the stance feet's line; film from a tripod, level"
            ),
        });
    }
    if matches!(view, View::Rear | View::Front) && !events.belt.roll_measured && !events.contacts.is_empty() {
        warnings.push(Warning {
            kind: WarningKind::RollNotMeasured,
            message: format!(
                "the belt line could not be measured from the stance feet (they land too close together or too \
                 few steps were seen); frontal-plane angles take the trunk's mean axis as upright ({:+.1} deg roll)",
                events.belt.camera_roll_deg
            ),
        });
    }
}

/// Event cadence and periodicity cadence may differ by this fraction before a warning (the periodicity is
/// measured to about a tenth of a frame per stride, the events to about a frame).
pub const CADENCE_CHECK_TOLERANCE_FRACTION: f64 = 0.03;

/// The metrics that rest on the count of contacts: absent when that count disagrees with the feet's rhythm.
const CONTACT_COUNT_METRICS: [MetricId; 5] = [
    MetricId::CadenceStepsPerMin,
    MetricId::StepTimeMs,
    MetricId::StrideTimeMs,
    MetricId::StepLengthM,
    MetricId::StrideLengthM,
];

/// Why the contacts of the measured `steps` cannot be timed from the feet's landmarks: uncalibrated, scattered
/// or implausible foot events (each below), in that order; `None` where they can.
fn contact_timing_reason(
    steps: &[metrics::Step],
    calibration: &[events::SideCalibration],
    rejected: &[RejectedContact],
    parts: &crate::parts::ClipParts,
) -> Option<String> {
    let measured: Vec<&metrics::Step> = steps.iter().filter(|step| step.measured).collect();
    let rejected_measured = rejected
        .iter()
        .filter(|rejected| parts.is_measured(rejected.ic_s))
        .count();
    uncalibrated_timing_reason(&measured)
        .or_else(|| scattered_timing_reason(calibration))
        .or_else(|| implausible_timing_reason(rejected_measured, measured.len()))
}

/// Why contact times cannot be trusted, when most measured steps' events come from Zeni's pelvis-relative
/// markers alone: with too few stances showing the foot reach the ground, they could not be calibrated to this
/// runner, and with the offsets typical of the labelled clips single toe-offs still miss by up to two frames
/// (`docs/metrics.md`, *Honest absence*).
fn uncalibrated_timing_reason(steps: &[&metrics::Step]) -> Option<String> {
    let uncalibrated = steps
        .iter()
        .filter(|step| step.ic_method == events::EventMethod::Zeni || step.to_method == events::EventMethod::Zeni)
        .count();
    (2 * uncalibrated > steps.len()).then(|| {
        format!(
            "{uncalibrated} of {} contacts are timed by the pelvis-relative markers with offsets typical of other \
             runners (too few stances showed the foot reaching the ground to calibrate them to this one), and \
             those miss single toe-offs by up to two frames",
            steps.len()
        )
    })
}

/// Why contact times cannot be trusted, when a foot's contacts or toe-offs, read stance by stance from its
/// landmarks' heights, scatter around their calibrated times by more than [`events::MAX_EVENT_SCATTER_MS`]: the
/// landmarks do not follow that foot (swaps, occlusion where the legs cross), so the calibration rests on noise.
fn scattered_timing_reason(calibration: &[events::SideCalibration]) -> Option<String> {
    calibration.iter().find_map(|side| {
        let (event, scatter_ms) = [("landings", side.ic_scatter_ms), ("toe-offs", side.to_scatter_ms)]
            .into_iter()
            .find_map(|(event, scatter)| {
                scatter
                    .filter(|&ms| ms > events::MAX_EVENT_SCATTER_MS)
                    .map(|ms| (event, ms))
            })?;
        Some(format!(
            "the {} foot's {event}, read from its landmarks stance by stance, scatter by ±{scatter_ms:.0} ms \
             (more than {:.0} ms): its landmarks do not follow the foot closely enough to time its contacts",
            side_name(side.side),
            events::MAX_EVENT_SCATTER_MS
        ))
    })
}

/// Why contact times cannot be trusted, when too many of the contacts found in the measured span were rejected as
/// implausible for running ([`events::too_many_implausible`]): the feet's heights do not show their contacts in
/// this clip, and the contacts that pass those limits come from the same failing reading.
fn implausible_timing_reason(rejected: usize, kept: usize) -> Option<String> {
    events::too_many_implausible(rejected, kept).then(|| {
        format!(
            "{rejected} of the {} foot contacts found were implausible for running (see rejected_contacts): the \
             feet's heights do not show their contacts in this clip, so the times of the others cannot be trusted \
             either",
            rejected + kept
        )
    })
}

/// Why running's times are absent in a walking clip: what showed that the person walks.
fn walking_reason(stride_s: Option<f64>) -> String {
    match stride_s {
        Some(stride_s) if stride_s > events::MAX_STRIDE_S => format!(
            "the person walks in this clip, or it is slow motion: a stride of {stride_s:.1} s is longer than \
             running's ({:.1} s at most), and one foot is down while the other swings",
            events::MAX_STRIDE_S
        ),
        _ => "the person walks in this clip: most contacts overlap the other foot's (double support), which \
              running never has"
            .into(),
    }
}

/// When the cadence from the foot contacts disagrees with the rhythm of the feet's motion, contacts were missed
/// or mistimed: cadence, step and stride times and lengths are absent with that reason (and a warning says so),
/// not numbers beside a warning.
fn withhold_disagreeing_cadence(summaries: &mut [MetricSummary], check: Option<f64>, warnings: &mut Vec<Warning>) {
    let events = summaries
        .iter()
        .find(|s| s.metric == MetricId::CadenceStepsPerMin)
        .and_then(|s| s.both.as_ref())
        .map(|stats| stats.mean);
    let (Some(events), Some(check)) = (events, check) else {
        return;
    };
    if (events - check).abs() <= CADENCE_CHECK_TOLERANCE_FRACTION * check {
        return;
    }
    let reason = format!(
        "the cadence from the foot contacts ({events:.1} steps/min) disagrees with the rhythm of the feet's motion \
         ({check:.1} steps/min): some contacts were missed or mistimed"
    );
    for summary in summaries
        .iter_mut()
        .filter(|s| CONTACT_COUNT_METRICS.contains(&s.metric))
    {
        summary.left = None;
        summary.right = None;
        summary.both = None;
        summary.asymmetry = None;
        summary.absent_reason.get_or_insert_with(|| reason.clone());
    }
    warnings.push(Warning {
        kind: WarningKind::CadenceDisagrees,
        message: format!("{reason}, so cadence and step and stride times are left out"),
    });
}

fn step_count_warning(steps: &[Step], thresholds: &Thresholds, warnings: &mut Vec<Warning>) {
    let left = steps.iter().filter(|s| s.side == Side::Left).count();
    let right = steps.len() - left;
    let minimum = thresholds.min_steps_per_metric;
    if left < minimum || right < minimum {
        warnings.push(Warning {
            kind: WarningKind::FewSteps,
            message: format!(
                "only {left} left and {right} right steps were found: averages need at least {minimum} steps per \
                 side to be reliable (Dingenen 2018); film a longer clip"
            ),
        });
    }
}

/// A flag rule: which summary, which threshold, and the plain words for each side of the range.
struct FlagRule {
    metric: MetricId,
    threshold_name: &'static str,
    low_message: &'static str,
    high_message: &'static str,
}

const FLAG_RULES: [FlagRule; 8] = [
    FlagRule {
        metric: MetricId::CadenceStepsPerMin,
        threshold_name: "cadence_steps_per_min",
        low_message: "the step rate is low: a 5-10 % higher cadence reduces knee and hip loading",
        high_message: "the step rate is unusually high",
    },
    FlagRule {
        metric: MetricId::ContactTimeMs,
        threshold_name: "contact_time_ms",
        low_message: "the foot spends very little time on the ground",
        high_message: "the foot stays on the ground long: a long, heavy contact",
    },
    FlagRule {
        metric: MetricId::TrunkLeanMidstanceDeg,
        threshold_name: "trunk_lean_midstance_deg",
        low_message: "the trunk leans back at midstance",
        high_message: "the trunk leans far forward at midstance",
    },
    FlagRule {
        metric: MetricId::OverstridePctLegLength,
        threshold_name: "overstride_pct_leg_length",
        low_message: "the foot lands under or behind the hips",
        high_message: "the foot lands well ahead of the hips (overstriding)",
    },
    FlagRule {
        metric: MetricId::TibiaAngleIcDeg,
        threshold_name: "tibia_angle_ic_deg",
        low_message: "the shin leans back at landing",
        high_message: "the shin is angled well forward at landing: the foot reaches out ahead of the knee",
    },
    FlagRule {
        metric: MetricId::KneeFlexionPeakStanceDeg,
        threshold_name: "knee_flexion_peak_stance_deg",
        low_message: "the knee bends little in stance: little shock absorption",
        high_message: "the knee bends a lot in stance",
    },
    FlagRule {
        metric: MetricId::HipExtensionPeakDeg,
        threshold_name: "hip_extension_peak_deg",
        low_message: "the hip barely extends behind the body at push-off",
        high_message: "the hip extends far behind the body at push-off",
    },
    FlagRule {
        metric: MetricId::PelvicDropMidstanceDeg,
        threshold_name: "pelvic_drop_midstance_deg",
        low_message: "the swing-side hip rises at midstance",
        high_message: "the pelvis drops on the swing side at midstance",
    },
];

/// Whether `value` is outside `range` by more than `margin` (`Some(true)` above it, `Some(false)` below it).
pub(crate) fn outside_by(range: &ReferenceRange, value: f64, margin: f64) -> Option<bool> {
    if range.low.is_some_and(|low| value < low - margin) {
        Some(false)
    } else if range.high.is_some_and(|high| value > high + margin) {
        Some(true)
    } else {
        None
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Left => "left",
        Side::Right => "right",
    }
}

/// Said after a flag that rests on fewer steps than a reliable average needs: a PT should see it, but as a hint.
fn tentative_words(n: usize, min_steps: usize) -> String {
    if n < min_steps {
        format!(" (tentative: only {n} step{})", if n == 1 { "" } else { "s" })
    } else {
        String::new()
    }
}

/// One-sided 95 % normal quantile: a mean is past a limit with 95 % confidence when it is past it by this many
/// standard errors.
pub const FLAG_CONFIDENCE_Z: f64 = 1.645;

/// How many frame intervals a foot's contact time can be off from the other foot's, beyond their steps' spread: the
/// allowance of the contact-time asymmetry flag. Each foot's toe-offs are calibrated to that foot's own landmarks, so
/// a pose model that places one foot's toe worse (the far foot, partly hidden) shifts that foot's contacts as a
/// whole, and the steps' spread does not show it. Against the hand labels (`tests/labels.rs`, the default model) the
/// left − right difference of contact time was off by up to 1.7 frames (the gym clip mirrored, at 30 fps: 57 ms, a
/// 24.6 % asymmetry where the labels give −0.4 %), and by 0.2-1.3 frames on the other copies and the grass clip.
pub const CONTACT_ASYMMETRY_FRAMES: f64 = 2.0;

/// How far the level that angles from the vertical are measured against can be from the true level, degrees: the
/// largest error measured against a level in the picture. On the gym treadmill clip the stance feet's belt line is
/// 1.45° from the treadmill rail's line, and 3.1° on the same footage mirrored; on the grass clip, whose angles are
/// taken against the picture's vertical, the horizon tilts by 0-3° (docs/metrics.md, *Accuracy*). Every step of a
/// clip shares this error, so it does not shrink with the number of steps.
pub const LEVEL_ERROR_DEG: f64 = 3.1;

/// How far the mean initial contact can be from the true one, frames: on the labelled clips the mean IC bias is
/// within ±0.45 frame on every side-view copy but the oblique tiktok clip's (−0.7), and issue 10 asks for ±0.5
/// (docs/metrics.md, *Accuracy*). Every step shares it, so it does not shrink with the number of steps.
pub const IC_TIMING_FRAMES: f64 = 0.5;

/// The measures sampled at initial contact, which move fast there: the shank turns, the heel closes on the hips,
/// the sole turns down and the knee bends, so the contact's timing error moves them too.
const SAMPLED_AT_CONTACT: [MetricId; 4] = [
    MetricId::TibiaAngleIcDeg,
    MetricId::OverstridePctLegLength,
    MetricId::FootStrikeAngleDeg,
    MetricId::KneeFlexionIcDeg,
];

/// Whether `metric` is a measure sampled at initial contact, whose flag (tibia angle, overstride) and shared error
/// allow for the contact's timing.
pub fn is_sampled_at_contact(metric: MetricId) -> bool {
    SAMPLED_AT_CONTACT.contains(&metric)
}

/// How far a foot's mean toe-off can be from the true one, frames: each foot's mean TO bias over its stances is within
/// ±0.7 frame on the labelled gym, grass and tiktok clips and their copies but the half-size 60 fps copy's near foot
/// (−1.08) and the gym clip mirrored (up to −4.0; docs/metrics.md, *A runner facing the other way*), as contact
/// time's shared frame already allows (the sprint and radluy clips' single measured stances a foot miss by up to 2
/// frames). Every step shares it, so it does not shrink with the number of steps.
pub const TO_TIMING_FRAMES: f64 = 1.0;

/// The measures read up to or at toe-off while they still move fast: the thigh is still extending when the toe
/// leaves (on runform's landmarks 2.8 deg a frame at the gym clip's toe-offs at 60 fps, 15.9 on the grass clip at
/// 30 fps), so the toe-off's timing error moves them too.
const SAMPLED_AT_TOE_OFF: [MetricId; 2] = [MetricId::HipExtensionPeakDeg, MetricId::HipExtensionToeOffDeg];

/// Whether `metric` is a measure read up to or at toe-off, whose flag (hip extension) and shared error allow for the
/// toe-off's timing.
pub fn is_sampled_at_toe_off(metric: MetricId) -> bool {
    SAMPLED_AT_TOE_OFF.contains(&metric)
}

/// How much each measure sampled at initial contact moves within [`IC_TIMING_FRAMES`] of it, and each measure read
/// at toe-off within [`TO_TIMING_FRAMES`] of it, per leg, in the measure's unit: the median over the leg's measured
/// steps of its rate of change at the step's event (central difference over a frame either side, on the same series
/// the value is sampled from).
#[derive(Clone, Debug, Default)]
struct EventTiming {
    /// (measure, leg, how much it moves).
    moves: Vec<(MetricId, Side, f64)>,
}

impl EventTiming {
    fn of(steps: &[metrics::Step], kinematics: &Kinematics, leg_px: Option<f64>) -> EventTiming {
        let fps = kinematics.fps;
        let mut moves = Vec::new();
        for metric in SAMPLED_AT_CONTACT.into_iter().chain(SAMPLED_AT_TOE_OFF) {
            for side in [Side::Left, Side::Right] {
                let leg = kinematics.leg(side);
                // The series the value is sampled from, and its unit per the series' unit.
                let (series, scale) = match (metric, leg_px) {
                    (MetricId::TibiaAngleIcDeg, _) => (&leg.shank_deg, 1.0),
                    (MetricId::OverstridePctLegLength, Some(leg_px)) => (&leg.heel_ahead_px, 100.0 / leg_px),
                    (MetricId::FootStrikeAngleDeg, _) => (&leg.sole_deg, 1.0),
                    (MetricId::KneeFlexionIcDeg, _) => (&leg.knee_flexion_deg, 1.0),
                    (MetricId::HipExtensionPeakDeg | MetricId::HipExtensionToeOffDeg, _) => (&leg.thigh_deg, 1.0),
                    _ => continue,
                };
                let (event_s, frames): (fn(&metrics::Step) -> f64, f64) = if is_sampled_at_toe_off(metric) {
                    (|step| step.to_s, TO_TIMING_FRAMES)
                } else {
                    (|step| step.ic_s, IC_TIMING_FRAMES)
                };
                let rates: Vec<f64> = steps
                    .iter()
                    .filter(|step| step.side == side && step.measured && step.values.contains_key(&metric))
                    .filter_map(|step| {
                        let before = metrics::series::sample_at(series, event_s(step) - 1.0 / fps, fps)?;
                        let after = metrics::series::sample_at(series, event_s(step) + 1.0 / fps, fps)?;
                        Some(scale * (after - before).abs() * fps / 2.0)
                    })
                    .collect();
                if let Some(rate) = crate::track::median(&rates) {
                    moves.push((metric, side, rate * frames / fps));
                }
            }
        }
        EventTiming { moves }
    }

    /// How much `metric` moves within its event's timing error on `side` (on both legs: the larger), 0 where it is
    /// not sampled at an event.
    fn margin(&self, metric: MetricId, side: FlagSide) -> f64 {
        self.moves
            .iter()
            .filter(|(m, leg, _)| {
                *m == metric
                    && match side {
                        FlagSide::Left => *leg == Side::Left,
                        FlagSide::Right => *leg == Side::Right,
                        FlagSide::Both => true,
                    }
            })
            .map(|(_, _, amount)| *amount)
            .fold(0.0, f64::max)
    }
}

/// How far past its limit a mean must be before it is flagged: its standard error's one-sided 95 % share (a mean
/// of few, scattered steps past the limit by less is as likely inside it), plus the error every step shares
/// ([`SharedErrors::of`]): one frame for contact time (good to about a frame against the hand labels,
/// `tests/labels.rs`), [`LEVEL_ERROR_DEG`] for angles from the vertical, and for a measure sampled at initial
/// contact or read at toe-off, how much it moves within that event's timing error ([`EventTiming`]). So a number
/// within its uncertainty of the limit is not called abnormal.
fn flag_margin(metric: MetricId, stats: &metrics::Stats, shared: SharedErrors, side: FlagSide) -> f64 {
    shared.of(metric, side).unwrap_or(0.0) + FLAG_CONFIDENCE_Z * stats.sd / (stats.n.max(1) as f64).sqrt()
}

/// What a metric's shared error ([`metrics::MetricSummary::shared_error`]) is made of in one analysis.
#[derive(Clone, Copy)]
struct SharedErrors<'a> {
    frame_interval_ms: f64,
    /// The mean stride, milliseconds, where measured (duty factor's share of a frame).
    stride_ms: Option<f64>,
    event_timing: &'a EventTiming,
}

impl SharedErrors<'_> {
    /// How far every step's value of `metric` on `side` can be off together: a frame for contact and flight times
    /// (their ICs and TOs are each good to about a frame against the hand labels, and the two do not cancel), the
    /// level's error for angles against it, and how far a measure sampled at initial contact or read at toe-off
    /// moves within that event's timing error; `None` where none is known.
    fn of(self, metric: MetricId, side: FlagSide) -> Option<f64> {
        let timing = match metric {
            MetricId::DutyFactorPct => self.stride_share_pct(self.frame_interval_ms),
            _ => is_timed_by_both_events(metric).then_some(self.frame_interval_ms),
        };
        let level = is_angle_against_the_level(metric).then_some(LEVEL_ERROR_DEG);
        let at_event = (is_sampled_at_contact(metric) || is_sampled_at_toe_off(metric))
            .then(|| self.event_timing.margin(metric, side));
        let parts = [timing, level, at_event];
        parts.iter().any(Option::is_some).then(|| parts.iter().flatten().sum())
    }

    /// `ms` as a share of the mean stride, percent (duty factor's unit); `None` where no stride was measured.
    fn stride_share_pct(self, ms: f64) -> Option<f64> {
        self.stride_ms.map(|stride| 100.0 * ms / stride)
    }

    /// How far `summary`'s symmetry index can be off, percentage points: [`unshared_event_frames`] frame intervals
    /// (for duty factor, their share of the stride) plus [`FLAG_CONFIDENCE_Z`] standard errors of the left − right
    /// difference, as a share of the mean; `None` for a metric without a symmetry index or a known error, and where
    /// a side has a single step (its spread, and so the difference's standard error, is unknown, not zero).
    fn asymmetry_uncertainty_pct(self, summary: &MetricSummary) -> Option<f64> {
        summary.asymmetry.as_ref()?.symmetry_index_pct?;
        let (left, right, both) = (summary.left.as_ref()?, summary.right.as_ref()?, summary.both.as_ref()?);
        let frames = unshared_event_frames(summary.metric)?;
        let unshared = match summary.metric {
            MetricId::DutyFactorPct => self.stride_share_pct(frames * self.frame_interval_ms)?,
            // A length is a time times the belt's speed: the same share of it (a step is half a stride).
            MetricId::StepLengthM => frames * self.frame_interval_ms * both.mean / (0.5 * self.stride_ms?),
            MetricId::StrideLengthM => frames * self.frame_interval_ms * both.mean / self.stride_ms?,
            _ => frames * self.frame_interval_ms,
        };
        side_difference_margin(left, right, unshared).map(|margin| 100.0 * margin / both.mean.abs().max(f64::EPSILON))
    }
}

/// How many frame intervals the left − right difference of `metric` can be off by although every step of each foot
/// is timed alike: each foot's ICs and TOs are calibrated to that foot's own landmarks, so a foot the pose model sees
/// worse has all its events shifted, which the steps' spread does not show. Measured against the hand labels
/// (`tests/labels.rs`; the feet's mean IC and TO biases on runform's landmarks of the labelled clips and copies,
/// 2026-12-05), the left − right difference was off by up to 1.7 frames for contact time (the gym clip mirrored at
/// 30 fps; [`CONTACT_ASYMMETRY_FRAMES`]), 2.5 for flight time and 3.8 for step time (the oblique tiktok clip, whose
/// near foot's ICs come 1.6 frames early: its step times read 316 / 404 ms, a −24.5 % asymmetry, where the labels give
/// 392 / 328 ms, +17.6 %). A step runs from one foot's IC to the other's, so the feet's IC biases enter it twice, with
/// opposite signs on the two sides; a stride runs from one foot's IC to the same foot's, so they cancel (cadence is
/// read from strides). `None`: no symmetry index, or no known error.
pub fn unshared_event_frames(metric: MetricId) -> Option<f64> {
    match metric {
        MetricId::ContactTimeMs | MetricId::DutyFactorPct => Some(CONTACT_ASYMMETRY_FRAMES),
        MetricId::FlightTimeMs => Some(3.0),
        MetricId::StepTimeMs | MetricId::StepLengthM => Some(4.0),
        MetricId::StrideTimeMs | MetricId::StrideLengthM | MetricId::CadenceStepsPerMin => Some(0.0),
        _ => None,
    }
}

/// How far the left − right difference of a side-view angle or share of the leg can be off although every step of
/// each leg is measured alike, in the metric's unit: the most the same runner's far − near difference moved between
/// the labelled gym clip at 60 fps and its copies (30 fps even and odd frames, half size at 60 and 30 fps, mirrored
/// at 60 and 30 fps), and between the grass clip and its mirrored copy, rounded up (runform's landmarks of each copy
/// through `examples/analyze_landmarks`, 2026-12-05; docs/metrics.md, *Left and right angles*). The true difference is
/// the same in every copy, so each change is an error of at least one of them: a lower bound of the legs' unshared
/// error, which the steps' spread does not show. Every largest move came from a mirrored copy (the pose model does
/// not see a runner facing left as it sees one facing right); the foot strike angle's (9.4°, the mirrored 30 fps
/// copy) is also checked against the hand labels, which that copy's difference misses by 7.5°. `None`: a measure
/// with a symmetry index, or no measured error.
pub fn unshared_side_difference(metric: MetricId) -> Option<f64> {
    match metric {
        MetricId::TrunkLeanMeanDeg
        | MetricId::TrunkLeanMinDeg
        | MetricId::TrunkLeanMaxDeg
        | MetricId::TrunkLeanMidstanceDeg => Some(1.5),
        MetricId::VerticalOscillationPctLegLength => Some(2.0),
        MetricId::TibiaAngleIcDeg => Some(7.0),
        MetricId::OverstridePctLegLength | MetricId::KneeFlexionIcDeg => Some(8.0),
        MetricId::FootStrikeAngleDeg => Some(10.0),
        MetricId::HipExtensionPeakDeg | MetricId::HipExtensionToeOffDeg => Some(11.0),
        _ => None,
    }
}

/// How far `summary`'s left − right difference can be off, in its unit: [`unshared_side_difference`] plus
/// [`FLAG_CONFIDENCE_Z`] standard errors of the difference; `None` for a metric without a known unshared error, and
/// where a side has a single step (its spread is unknown, not zero).
fn side_difference_uncertainty(summary: &MetricSummary) -> Option<f64> {
    let (left, right) = (summary.left.as_ref()?, summary.right.as_ref()?);
    side_difference_margin(left, right, unshared_side_difference(summary.metric)?)
}

/// How far a left − right difference of means can be off: `unshared` (the error each side's steps share but the two
/// sides do not) plus [`FLAG_CONFIDENCE_Z`] standard errors of the difference; `None` where a side has a single step
/// (its spread, and so the difference's standard error, is unknown, not zero).
fn side_difference_margin(left: &metrics::Stats, right: &metrics::Stats, unshared: f64) -> Option<f64> {
    (left.n >= 2 && right.n >= 2).then(|| unshared + FLAG_CONFIDENCE_Z * difference_standard_error(left, right))
}

/// What `metric`'s shared error is made of, in words: "a frame", "the level's error", "the contact's timing", "the
/// toe-off's timing"; none where it has none.
pub fn shared_error_parts(metric: MetricId) -> Vec<&'static str> {
    [
        (is_timed_by_both_events(metric), "a frame"),
        (is_angle_against_the_level(metric), "the level's error"),
        (is_sampled_at_contact(metric), "the contact's timing"),
        (is_sampled_at_toe_off(metric), "the toe-off's timing"),
    ]
    .into_iter()
    .filter_map(|(applies, words)| applies.then_some(words))
    .collect()
}

/// Whether `metric` is timed from one event to the other (IC to TO, TO to IC), so that neither's error cancels:
/// contact and flight time, and duty factor (contact over stride).
fn is_timed_by_both_events(metric: MetricId) -> bool {
    matches!(
        metric,
        MetricId::ContactTimeMs | MetricId::FlightTimeMs | MetricId::DutyFactorPct
    )
}

/// Whether `metric` is a side-view angle against the level: trunk, thigh or shank from the belt line's upright (or
/// the picture's vertical), or the sole's angle to the belt line. The level's own error enters each whole.
fn is_angle_against_the_level(metric: MetricId) -> bool {
    matches!(
        metric,
        MetricId::TrunkLeanMeanDeg
            | MetricId::TrunkLeanMinDeg
            | MetricId::TrunkLeanMaxDeg
            | MetricId::TrunkLeanMidstanceDeg
            | MetricId::TibiaAngleIcDeg
            | MetricId::HipExtensionPeakDeg
            | MetricId::HipExtensionToeOffDeg
            | MetricId::FootStrikeAngleDeg
    )
}

/// The standard error of the difference between two sides' means.
fn difference_standard_error(left: &metrics::Stats, right: &metrics::Stats) -> f64 {
    let variance_of_mean = |stats: &metrics::Stats| stats.sd * stats.sd / (stats.n.max(1) as f64);
    (variance_of_mean(left) + variance_of_mean(right)).sqrt()
}

fn flags(
    summaries: &[MetricSummary],
    thresholds: &Thresholds,
    far_side: Option<Side>,
    shared: SharedErrors,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    for rule in &FLAG_RULES {
        let (Some(summary), Some(range)) = (
            summaries.iter().find(|s| s.metric == rule.metric),
            thresholds.range_for(rule.metric),
        ) else {
            continue;
        };
        let outside = |stats: &metrics::Stats, side: FlagSide| {
            outside_by(range, stats.mean, flag_margin(rule.metric, stats, shared, side))
        };
        let sides = [(FlagSide::Left, &summary.left), (FlagSide::Right, &summary.right)];
        let out: Vec<(FlagSide, f64, usize, bool)> = sides
            .iter()
            .filter_map(|(side, stats)| {
                let stats = stats.as_ref()?;
                outside(stats, *side).map(|high| (*side, stats.mean, stats.n, high))
            })
            .collect();
        let both_out = summary
            .both
            .as_ref()
            .and_then(|stats| outside(stats, FlagSide::Both).map(|high| (FlagSide::Both, stats.mean, stats.n, high)));
        let chosen: Vec<(FlagSide, f64, usize, bool)> = match (out.len(), both_out) {
            (2, Some(both)) | (0, Some(both)) => vec![both],
            _ => out,
        };
        for (side, value, n, high) in chosen {
            let words = if high { rule.high_message } else { rule.low_message };
            let flagged_side = match side {
                FlagSide::Left => Some(Side::Left),
                FlagSide::Right => Some(Side::Right),
                FlagSide::Both => None,
            };
            let side_words = match (flagged_side, far_side) {
                (Some(flagged), Some(far)) if flagged == far => {
                    format!(
                        " ({} leg, the far side: partly hidden, check on the video)",
                        side_name(flagged)
                    )
                }
                (Some(flagged), _) => format!(" ({} leg)", side_name(flagged)),
                (None, _) => String::new(),
            };
            flags.push(Flag {
                metric: rule.metric,
                side,
                threshold_name: rule.threshold_name.to_owned(),
                value,
                n,
                reference_range: range.clone(),
                message: format!(
                    "{words}{side_words}: {value:.1} {}{}",
                    rule.metric.unit(),
                    tentative_words(n, thresholds.min_steps_per_metric)
                ),
            });
        }
    }
    // The same for the asymmetry of contact time, against its uncertainty ([`CONTACT_ASYMMETRY_FRAMES`] frames'
    // share of the mean contact, plus the standard error of the left − right difference as a share of it).
    if let Some(summary) = summaries.iter().find(|s| s.metric == MetricId::ContactTimeMs)
        && let Some(index) = summary.asymmetry.as_ref().and_then(|a| a.symmetry_index_pct)
        && let Some(uncertainty) = shared.asymmetry_uncertainty_pct(summary)
        && outside_by(&thresholds.contact_time_asymmetry_pct, index, uncertainty).is_some()
    {
        let longer = if index > 0.0 { "left" } else { "right" };
        flags.push(Flag {
            metric: MetricId::ContactTimeMs,
            side: FlagSide::Both,
            threshold_name: "contact_time_asymmetry_pct".into(),
            value: index,
            n: summary.both.as_ref().map_or(0, |s| s.n),
            reference_range: thresholds.contact_time_asymmetry_pct.clone(),
            message: format!("the {longer} foot stays on the ground longer than the other: {index:+.1} % asymmetry"),
        });
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared errors at `fps`, with no stride measured and `event_timing` as the measures' moves at their events.
    fn shared_errors(fps: f64, event_timing: &EventTiming) -> SharedErrors<'_> {
        SharedErrors {
            frame_interval_ms: 1000.0 / fps,
            stride_ms: None,
            event_timing,
        }
    }

    #[test]
    fn legs_named_by_their_place_are_told_from_legs_told_apart() {
        let clip = crate::synthetic::SyntheticRunner::default().generate(&crate::synthetic::Corruption::default());
        let analysis = analyze_sequence(&clip.sequence, &AnalysisSettings::default());
        let (facing, leg_px) = (analysis.facing.expect("facing"), analysis.leg_length_px.expect("leg"));
        let told_apart = legs_named_by_place_share(&clip.sequence, facing, leg_px).expect("share");
        assert!((told_apart - 0.5).abs() < 0.1, "{told_apart}");
        let mut by_place = named_by_place(&clip.sequence, facing);
        let named_by_place = legs_named_by_place_share(&by_place, facing, leg_px).expect("share");
        assert!(named_by_place >= LEGS_NAMED_BY_PLACE_SHARE, "{named_by_place}");
        assert!((named_by_place - 1.0).abs() < 1e-9, "{named_by_place}");
        // Too few frames give no share.
        by_place.frames.truncate(LEGS_APART_MIN_FRAMES / 2);
        assert_eq!(legs_named_by_place_share(&by_place, facing, leg_px), None);
    }

    #[test]
    fn an_empty_clip_reports_no_runner_without_panicking() {
        let sequence = PoseSequence {
            width_px: 640,
            height_px: 480,
            fps: 30.0,
            frames: Vec::new(),
        };
        let analysis = analyze_sequence(&sequence, &AnalysisSettings::default());
        assert!(analysis.has_warning(WarningKind::NoRunner));
        assert!(analysis.steps.is_empty());
        let cadence = analysis.metric(MetricId::CadenceStepsPerMin).expect("listed");
        assert!(cadence.both.is_none() && cadence.absent_reason.is_some());
    }

    #[test]
    fn a_mean_is_flagged_only_when_it_is_past_its_limit_by_more_than_its_uncertainty() {
        // Overstride's limit is 30 % of the leg length; steps spread by 3 % (SE 1.06 over 8 steps per side).
        let stats = |mean: f64, n: usize| metrics::Stats {
            mean,
            sd: 3.0,
            median: mean,
            n,
        };
        let summary = |mean: f64| {
            MetricSummary::of_stats(
                MetricId::OverstridePctLegLength,
                stats(mean, 8),
                stats(mean, 8),
                stats(mean, 16),
            )
        };
        let thresholds = Thresholds::default();
        // Flags at `fps` with no measure moving at contact.
        let still = EventTiming::default();
        let flags_at =
            |summary: MetricSummary, fps: f64| flags(&[summary], &thresholds, None, shared_errors(fps, &still));
        let raised = |mean: f64| flags_at(summary(mean), 60.0);
        // 30.9 is past 30 by less than 1.645 standard errors of either side or both (1.74, 1.23): as likely
        // inside the range.
        assert!(raised(30.9).is_empty());
        // 32.5 is past it by more than either: flagged once, for both sides.
        let flagged = raised(32.5);
        assert_eq!(flagged.len(), 1, "{flagged:?}");
        assert_eq!(flagged[0].side, FlagSide::Both);
        // A time also needs a frame: 310 ms of contact against 300 with no spread is within a 30 fps frame,
        // and past a 120 fps one.
        let still = |mean: f64, n: usize| metrics::Stats {
            sd: 0.0,
            ..stats(mean, n)
        };
        let contact = |mean: f64| {
            MetricSummary::of_stats(MetricId::ContactTimeMs, still(mean, 8), still(mean, 8), still(mean, 16))
        };
        assert!(flags_at(contact(310.0), 30.0).is_empty());
        assert_eq!(flags_at(contact(310.0), 120.0).len(), 1);
        // Left 300 ms, right 230 ms: a 26.4 % asymmetry. With 8 steps a side spread by 30 ms the difference's
        // standard error is 15 ms, and the limit becomes 10 % + (2 frames + 1.645 × 15 ms) / 265 ms = 31.9 % at
        // 60 fps: not flagged. Spread by 5 ms it is 10 % + 14.1 %: flagged. At 30 fps two frames are 67 ms, and
        // the limit 36.7 %: not flagged (the labelled gym clip mirrored at 30 fps read 24.6 % where it has none).
        let asymmetric = |sd: f64| MetricSummary {
            left: Some(metrics::Stats { sd, ..stats(300.0, 8) }),
            right: Some(metrics::Stats { sd, ..stats(230.0, 8) }),
            both: Some(metrics::Stats { sd, ..stats(265.0, 16) }),
            asymmetry: Some(metrics::Asymmetry {
                left_minus_right: 70.0,
                symmetry_index_pct: Some(100.0 * 70.0 / 265.0),
                uncertainty_pct: None,
                left_minus_right_uncertainty: None,
            }),
            ..contact(265.0)
        };
        let asymmetry_flags = |sd: f64, fps: f64| {
            flags_at(asymmetric(sd), fps)
                .into_iter()
                .filter(|flag| flag.threshold_name == "contact_time_asymmetry_pct")
                .count()
        };
        assert_eq!(asymmetry_flags(30.0, 60.0), 0);
        assert_eq!(asymmetry_flags(5.0, 60.0), 1);
        assert_eq!(asymmetry_flags(5.0, 30.0), 0);
        // An angle from the vertical also needs the level's error: a tibia angle of 12.3° over 17 steps spread by
        // 2° (the gym clip) is past the 10° limit by less than 0.8° + 3.1°; at 14.5° it is flagged.
        let tibia = |mean: f64| {
            MetricSummary::of_stats(
                MetricId::TibiaAngleIcDeg,
                metrics::Stats {
                    sd: 2.0,
                    ..stats(mean, 9)
                },
                metrics::Stats {
                    sd: 2.0,
                    ..stats(mean, 8)
                },
                metrics::Stats {
                    sd: 2.0,
                    ..stats(mean, 17)
                },
            )
        };
        assert!(flags_at(tibia(12.3), 60.0).is_empty());
        assert_eq!(flags_at(tibia(14.5), 60.0).len(), 1);
        // Sampled at initial contact, it also needs how far the shank turns within the contact's timing error: the
        // gym clip's near shank turns about 240 deg/s there, 4 deg in half a frame at 30 fps. The larger leg's
        // counts for both legs together.
        let turning = |left: f64, right: f64| EventTiming {
            moves: vec![
                (MetricId::TibiaAngleIcDeg, Side::Left, left),
                (MetricId::TibiaAngleIcDeg, Side::Right, right),
            ],
        };
        let (fast, slow) = (turning(0.5, 4.0), turning(0.5, 0.3));
        assert!(flags(&[tibia(14.5)], &thresholds, None, shared_errors(30.0, &fast)).is_empty());
        assert_eq!(
            flags(&[tibia(14.5)], &thresholds, None, shared_errors(30.0, &slow)).len(),
            1
        );
        // Other measures are not moved by it.
        assert_eq!(
            turning(0.5, 4.0).margin(MetricId::TrunkLeanMidstanceDeg, FlagSide::Both),
            0.0
        );
    }

    #[test]
    fn overlapping_measured_parts_are_said_as_one_span() {
        use crate::parts::{ClipParts, RunningPart, SkippedSpan};
        let part = |start_s: f64, end_s: f64| RunningPart {
            start_s,
            end_s,
            cadence_steps_per_min: 170.0,
            step_count: 10,
            measured: true,
            camera_roll_deg: None,
            camera_roll_error_deg: None,
        };
        let skipped = |start_s: f64, end_s: f64, reason: &str| SkippedSpan {
            start_s,
            end_s,
            reason: reason.into(),
        };
        let parts = ClipParts {
            parts: vec![part(0.0, 3.3), part(4.4, 8.9), part(9.3, 15.9), part(15.5, 21.5)],
            skipped: vec![
                skipped(3.3, 4.4, "no steady running"),
                skipped(8.9, 9.1, "holding the rails"),
                skipped(9.1, 9.3, "no steady running"),
            ],
        };
        let warning = parts_warning(&parts).expect("something left out");
        assert!(
            warning
                .message
                .starts_with("the report measures 0.0–3.3 s, 4.4–8.9 s and 9.3–21.5 s (steady"),
            "{}",
            warning.message
        );
        // Spans left out for the same reason are said together, the reason once.
        assert!(
            warning
                .message
                .ends_with("left out: 3.3–4.4 s and 9.1–9.3 s (no steady running); 8.9–9.1 s (holding the rails)"),
            "{}",
            warning.message
        );
    }

    #[test]
    fn contact_times_need_foot_height_events_that_agree() {
        let side = |side: Side, ic_scatter_ms: f64, to_scatter_ms: f64| events::SideCalibration {
            side,
            ic_after_heel_peak_ms: Some(30.0),
            ic_stances: 12,
            to_after_toe_trough_ms: Some(-60.0),
            to_after_hip_extension_peak_ms: Some(0.0),
            to_stances: 12,
            ic_scatter_ms: Some(ic_scatter_ms),
            to_scatter_ms: Some(to_scatter_ms),
        };
        // Landmark jitter (the labelled clips: 8-45 ms) leaves contact time in.
        let steady = [side(Side::Left, 20.0, 35.0), side(Side::Right, 45.0, 30.0)];
        assert_eq!(scattered_timing_reason(&steady), None);
        // Swapped or lost foot landmarks scatter toe-offs by over 100 ms: contact time is out, and the reason
        // names the foot and the event.
        let swapped = [side(Side::Left, 20.0, 35.0), side(Side::Right, 40.0, 120.0)];
        let reason = scattered_timing_reason(&swapped).expect("scattered toe-offs");
        assert!(
            reason.contains("right foot's toe-offs") && reason.contains("±120 ms"),
            "{reason}"
        );
        let uncalibrated = [events::SideCalibration {
            ic_scatter_ms: None,
            to_scatter_ms: None,
            ..side(Side::Left, 0.0, 0.0)
        }];
        assert_eq!(scattered_timing_reason(&uncalibrated), None);
    }

    #[test]
    fn a_step_time_asymmetry_is_told_apart_from_none_only_beyond_the_feet_unshared_timing_error() {
        // The oblique tiktok clip at 25 fps: step times 316 ms (SD 26.3, 27 steps) and 404 ms (SD 33.0, 26 steps),
        // a −24.5 % symmetry index, where the labels give +17.6 %: its near foot's ICs are 1.6 frames early.
        let side = |mean: f64, sd: f64, n: usize| metrics::Stats {
            mean,
            sd,
            median: mean,
            n,
        };
        let step_time = |left: f64, right: f64, sd: f64| {
            let mut summary = MetricSummary::of_stats(
                MetricId::StepTimeMs,
                side(left, sd, 27),
                side(right, sd, 26),
                side(0.5 * (left + right), sd, 53),
            );
            summary.asymmetry = Some(metrics::Asymmetry {
                left_minus_right: left - right,
                symmetry_index_pct: Some(100.0 * (left - right) / (0.5 * (left + right))),
                uncertainty_pct: None,
                left_minus_right_uncertainty: None,
            });
            summary
        };
        let still = EventTiming::default();
        let shared = SharedErrors {
            stride_ms: Some(720.0),
            ..shared_errors(25.0, &still)
        };
        let uncertainty = |summary: &MetricSummary| shared.asymmetry_uncertainty_pct(summary).expect("uncertainty");
        // 4 frames of 40 ms and 1.645 standard errors of the difference (8.1 ms), over the 360 ms mean step.
        let tiktok = step_time(316.0, 404.0, 30.0);
        let expected = 100.0 * (160.0 + 1.645 * (900.0_f64 / 27.0 + 900.0 / 26.0).sqrt()) / 360.0;
        assert!((uncertainty(&tiktok) - expected).abs() < 1e-9);
        let mut asymmetry = tiktok.asymmetry.clone().expect("asymmetry");
        asymmetry.uncertainty_pct = Some(uncertainty(&tiktok));
        assert!(!asymmetry.beyond_uncertainty());
        // A limp of 250 against 450 ms (−57 %) is beyond it.
        let limp = step_time(250.0, 450.0, 30.0);
        asymmetry = limp.asymmetry.clone().expect("asymmetry");
        asymmetry.uncertainty_pct = Some(uncertainty(&limp));
        assert!(asymmetry.beyond_uncertainty());
        // A stride runs from one foot's IC to its own next one, so the feet's timing errors cancel: only the standard
        // error is left. Angles have no symmetry index, so no uncertainty.
        let stride = MetricSummary {
            metric: MetricId::StrideTimeMs,
            ..step_time(716.0, 722.0, 20.0)
        };
        assert!(uncertainty(&stride) < 2.0);
        let angle = MetricSummary {
            metric: MetricId::TibiaAngleIcDeg,
            ..step_time(10.0, 12.0, 2.0)
        };
        assert_eq!(shared.asymmetry_uncertainty_pct(&angle), None);
        // One stride a side (the sprint clip's measured part) has no spread to tell: no uncertainty, not ±0.
        let one_each = MetricSummary {
            left: Some(side(434.0, 0.0, 1)),
            right: Some(side(425.0, 0.0, 1)),
            ..stride
        };
        assert_eq!(shared.asymmetry_uncertainty_pct(&one_each), None);
    }

    #[test]
    fn an_angles_left_minus_right_is_told_apart_from_none_only_beyond_the_legs_unshared_error() {
        let side = |mean: f64, sd: f64, n: usize| metrics::Stats {
            mean,
            sd,
            median: mean,
            n,
        };
        let summary = |metric: MetricId, left: f64, right: f64, n: usize| {
            let mut summary =
                MetricSummary::of_stats(metric, side(left, 6.0, n), side(right, 2.0, n), side(0.0, 1.0, 2 * n));
            summary.asymmetry = Some(metrics::Asymmetry {
                left_minus_right: left - right,
                symmetry_index_pct: None,
                uncertainty_pct: None,
                left_minus_right_uncertainty: side_difference_uncertainty(&summary),
            });
            summary
        };
        // The grass clip's foot strike angle: far (left) 16.2° over 9 steps, SD 6.0°, near 8.2°, SD 2.0°, where the
        // labels give 9.0° and 7.0°. The legs' unshared 10° and 1.645 standard errors of the difference.
        let grass = summary(MetricId::FootStrikeAngleDeg, 16.2, 8.2, 9);
        let expected = 10.0 + 1.645 * (36.0_f64 / 9.0 + 4.0 / 9.0).sqrt();
        let asymmetry = grass.asymmetry.expect("asymmetry");
        assert!((asymmetry.left_minus_right_uncertainty.expect("uncertainty") - expected).abs() < 1e-9);
        assert!(!asymmetry.difference_beyond_uncertainty());
        // A forefoot striker's far foot against a rearfoot near foot is beyond it.
        let apart = summary(MetricId::FootStrikeAngleDeg, -8.0, 15.0, 9)
            .asymmetry
            .expect("asymmetry");
        assert!(apart.difference_beyond_uncertainty());
        // One step a side has no spread to tell; times carry their uncertainty on the symmetry index instead.
        let single = summary(MetricId::FootStrikeAngleDeg, 16.2, 8.2, 1)
            .asymmetry
            .expect("asymmetry");
        assert_eq!(single.left_minus_right_uncertainty, None);
        let times = summary(MetricId::ContactTimeMs, 250.0, 240.0, 9)
            .asymmetry
            .expect("asymmetry");
        assert_eq!(times.left_minus_right_uncertainty, None);
    }

    #[test]
    fn a_measure_at_contact_moves_with_the_contacts_timing() {
        use crate::synthetic::{Corruption, SyntheticRunner};
        use crate::track::build_tracks;
        let moved = |fps: f64| {
            let clip = SyntheticRunner {
                fps,
                ..SyntheticRunner::default()
            }
            .generate(&Corruption::default());
            let settings = AnalysisSettings::default();
            let analysis = analyze_sequence(&clip.sequence, &settings);
            let tracks = build_tracks(&clip.sequence, &settings.track_options());
            let kinematics = Kinematics::new(&tracks, &crate::track::BeltFrame::level(1.0));
            let timing = EventTiming::of(&analysis.steps, &kinematics, tracks.leg_length_px);
            [
                MetricId::TibiaAngleIcDeg,
                MetricId::OverstridePctLegLength,
                MetricId::TrunkLeanMidstanceDeg,
            ]
            .map(|metric| timing.margin(metric, FlagSide::Both))
        };
        let (at_60, at_30) = (moved(60.0), moved(30.0));
        // The synthetic runner's shank turns and its heel closes on the hips at contact, as a real runner's do
        // (the gym clip: 140-260 deg/s, 2.3-6.1 leg lengths a second): degrees and per cent of the leg in half a
        // frame, twice as much in a frame twice as long.
        for (metric, (a, b)) in ["tibia", "overstride"].iter().zip(at_60.iter().zip(&at_30)) {
            assert!(*a > 0.3 && *a < 8.0, "{metric}: {a} at 60 fps");
            assert!((b / a - 2.0).abs() < 0.5, "{metric}: {b} at 30 fps, {a} at 60");
        }
        // A measure sampled at neither event is not moved by their timing.
        assert_eq!((at_60[2], at_30[2]), (0.0, 0.0));
    }

    #[test]
    fn hip_extension_moves_with_the_toe_offs_timing() {
        use crate::synthetic::{Corruption, SyntheticRunner};
        use crate::track::build_tracks;
        let clip = SyntheticRunner {
            fps: 60.0,
            ..SyntheticRunner::default()
        }
        .generate(&Corruption::default());
        let settings = AnalysisSettings::default();
        let analysis = analyze_sequence(&clip.sequence, &settings);
        let tracks = build_tracks(&clip.sequence, &settings.track_options());
        let mut kinematics = Kinematics::new(&tracks, &crate::track::BeltFrame::level(1.0));
        let timing = |kinematics: &Kinematics, metric: MetricId| {
            EventTiming::of(&analysis.steps, kinematics, tracks.leg_length_px).margin(metric, FlagSide::Both)
        };
        let tibia = timing(&kinematics, MetricId::TibiaAngleIcDeg);
        // The synthetic thigh is at its most extended when the toe leaves; a real runner's still extends there
        // (the gym clip's about 170 deg/s): a thigh turning 150 deg/s, 2.5 deg a frame at 60 fps, moves both hip
        // extension measures by that much within the toe-off's timing error.
        for leg in &mut kinematics.legs {
            leg.thigh_deg = (0..leg.thigh_deg.len()).map(|frame| -2.5 * frame as f64).collect();
        }
        for metric in [MetricId::HipExtensionToeOffDeg, MetricId::HipExtensionPeakDeg] {
            let moved = timing(&kinematics, metric);
            assert!((moved - 2.5 * TO_TIMING_FRAMES).abs() < 1e-6, "{metric:?}: {moved}");
        }
        // The contact's measures do not follow the thigh.
        assert_eq!(timing(&kinematics, MetricId::TibiaAngleIcDeg), tibia);
    }

    #[test]
    fn contact_times_need_a_detector_that_finds_plausible_contacts() {
        // The labelled clips whose contact times match the labels reject a few contacts or none.
        assert_eq!(implausible_timing_reason(0, 17), None);
        assert_eq!(implausible_timing_reason(2, 58), None);
        // A quarter is the limit, and is allowed.
        assert_eq!(implausible_timing_reason(1, 3), None);
        assert_eq!(implausible_timing_reason(0, 0), None);
        // Half the contacts implausible: the others are not trusted either.
        let reason = implausible_timing_reason(3, 3).expect("half the contacts implausible");
        assert!(
            reason.starts_with("3 of the 6 foot contacts") && reason.contains("rejected_contacts"),
            "{reason}"
        );
        assert!(implausible_timing_reason(2, 4).is_some());
    }

    #[test]
    fn contact_times_need_calibrated_toe_offs() {
        use crate::synthetic::{Corruption, SyntheticRunner};
        let clip = SyntheticRunner::default().generate(&Corruption::default());
        let analysis = analyze_sequence(&clip.sequence, &AnalysisSettings::default());
        // The synthetic runner's contacts are calibrated to its foot heights.
        let all: Vec<&metrics::Step> = analysis.steps.iter().collect();
        assert_eq!(uncalibrated_timing_reason(&all), None);
        let uncalibrated = |count: usize| {
            let mut steps = analysis.steps.clone();
            for step in steps.iter_mut().take(count) {
                step.to_method = events::EventMethod::Zeni;
            }
            uncalibrated_timing_reason(&steps.iter().collect::<Vec<_>>())
        };
        let (n, half) = (analysis.steps.len(), analysis.steps.len() / 2);
        assert!(n >= 10, "{n} steps");
        // Half of them (or fewer) is not most.
        assert_eq!(uncalibrated(half), None);
        let reason = uncalibrated(half + 1).expect("most toe-offs uncalibrated");
        assert!(reason.starts_with(&format!("{} of {n}", half + 1)), "{reason}");
    }

    #[test]
    fn a_sprint_raises_no_flag_and_says_why() {
        use crate::synthetic::{Corruption, SyntheticRunner};
        // A forward lean of 22° is past the 15° limit: flagged at a distance runner's cadence, not on a sprint.
        let runner = |cadence_steps_per_min: f64, contact_time_ms: f64| {
            let clip = SyntheticRunner {
                cadence_steps_per_min,
                contact_time_ms,
                trunk_lean_deg: 22.0,
                ..SyntheticRunner::default()
            }
            .generate(&Corruption::default());
            analyze_sequence(&clip.sequence, &AnalysisSettings::default())
        };
        let distance = runner(170.0, 250.0);
        assert!(!distance.is_sprinting());
        assert!(
            distance
                .flags
                .iter()
                .any(|flag| flag.metric == MetricId::TrunkLeanMidstanceDeg),
            "{:?}",
            distance.flags
        );
        let sprint = runner(260.0, 120.0);
        let cadence = sprint
            .metric(MetricId::CadenceStepsPerMin)
            .and_then(|m| m.both.as_ref())
            .map(|stats| stats.mean)
            .expect("the sprint has a cadence");
        assert!((cadence - 260.0).abs() < 5.0, "cadence {cadence:.1}");
        assert!(sprint.is_sprinting());
        assert!(sprint.flags.is_empty(), "{:?}", sprint.flags);
        let lean = sprint
            .metric(MetricId::TrunkLeanMidstanceDeg)
            .and_then(|m| m.both.as_ref())
            .expect("measured as usual");
        assert!(lean.mean > 15.0, "lean {:.1}", lean.mean);
    }

    #[test]
    fn contact_counts_are_withheld_when_the_rhythm_disagrees() {
        use crate::synthetic::{Corruption, SyntheticRunner};
        let clip = SyntheticRunner::default().generate(&Corruption::default());
        let analysis = analyze_sequence(&clip.sequence, &AnalysisSettings::default());
        let cadence = analysis
            .metric(MetricId::CadenceStepsPerMin)
            .and_then(|m| m.both.as_ref())
            .map(|stats| stats.mean)
            .expect("the synthetic runner has a cadence");

        // Within the tolerance: nothing changes.
        let mut summaries = analysis.metrics.clone();
        let mut warnings = Vec::new();
        withhold_disagreeing_cadence(&mut summaries, Some(cadence * 1.02), &mut warnings);
        assert_eq!(summaries, analysis.metrics);
        assert!(warnings.is_empty());

        // Beyond it: every metric that rests on the contact count is absent with the reason, and a warning says so.
        withhold_disagreeing_cadence(&mut summaries, Some(cadence * 1.10), &mut warnings);
        let mut withheld = 0;
        for (summary, before) in summaries.iter().zip(&analysis.metrics) {
            if CONTACT_COUNT_METRICS.contains(&summary.metric) {
                assert!(summary.both.is_none() && summary.left.is_none() && summary.right.is_none());
                let reason = summary.absent_reason.as_deref().unwrap_or_default();
                if before.both.is_some() {
                    // Measured before: now absent for the disagreement. (Absent before: its own reason stays.)
                    assert!(
                        reason.contains("disagrees with the rhythm"),
                        "{:?}: {reason}",
                        summary.metric
                    );
                    withheld += 1;
                } else {
                    assert_eq!(summary.absent_reason, before.absent_reason);
                }
            }
        }
        assert!(
            withheld >= 3,
            "cadence, step and stride time were measured, then withheld"
        );
        let contact = summaries
            .iter()
            .find(|s| s.metric == MetricId::ContactTimeMs)
            .expect("listed");
        assert!(
            contact.both.is_some(),
            "contact time does not rest on the count of contacts"
        );
        assert!(warnings.iter().any(|w| w.kind == WarningKind::CadenceDisagrees));
    }

    #[test]
    fn settings_round_trip_through_serde() {
        let settings = AnalysisSettings::default();
        let text = serde_json::to_string(&settings).expect("serialise");
        let back: AnalysisSettings = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back, settings);
    }
}
