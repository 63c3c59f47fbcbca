//! Clinical metrics: pure functions over the tracks, the per-frame kinematics and the gait events, one file per
//! metric family. Each family computes its metrics per step; [`summarise`] turns the per-step values into the
//! per-side and both-sides summaries (mean, SD, median, n) with their quality and left/right asymmetry.
//!
//! A step here is one foot's contact and what follows it up to the other foot's next initial contact: its
//! initial contact, toe-off, flight and step time, and every angle taken during it. Steps are computed in
//! parallel (rayon), and so are the summaries of the metrics.

pub mod foot;
pub mod frontal;
pub mod knee_hip;
pub mod oscillation;
pub mod pelvis;
pub mod series;
pub mod temporal;
pub mod trunk;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::events::{EventMethod, FootContact};
use crate::track::{Side, Tracks, View};
use series::Kinematics;

/// Every metric the analysis reports. The serialised name carries the unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricId {
    /// Steps per minute: 60 / step time, computed over whole strides (120 / stride time).
    CadenceStepsPerMin,
    /// Initial contact to the other foot's next initial contact.
    StepTimeMs,
    /// Initial contact to the same foot's next initial contact.
    StrideTimeMs,
    /// Initial contact to toe-off of one foot.
    ContactTimeMs,
    /// Toe-off to the other foot's next initial contact.
    FlightTimeMs,
    /// Contact time over stride time, percent.
    DutyFactorPct,
    /// Treadmill speed × step time (needs the speed).
    StepLengthM,
    /// Treadmill speed × stride time (needs the speed).
    StrideLengthM,
    /// Mean trunk lean over the step.
    TrunkLeanMeanDeg,
    /// Least trunk lean over the step.
    TrunkLeanMinDeg,
    /// Greatest trunk lean over the step.
    TrunkLeanMaxDeg,
    /// Trunk lean at midstance.
    TrunkLeanMidstanceDeg,
    /// Sole angle to the belt at initial contact, positive = toes up.
    FootStrikeAngleDeg,
    /// Shank from vertical at initial contact, positive = ankle ahead of knee.
    TibiaAngleIcDeg,
    /// Heel ahead of the hip midpoint at initial contact, percent of thigh + shank length.
    OverstridePctLegLength,
    /// Heel ahead of the hip midpoint at initial contact, centimetres (needs the runner's height).
    OverstrideCm,
    /// Knee flexion at initial contact.
    KneeFlexionIcDeg,
    /// Peak knee flexion in stance.
    KneeFlexionPeakStanceDeg,
    /// Peak hip extension (thigh behind vertical) in terminal stance.
    HipExtensionPeakDeg,
    /// Hip extension at toe-off.
    HipExtensionToeOffDeg,
    /// Vertical range of the hip midpoint over the step, percent of thigh + shank length.
    VerticalOscillationPctLegLength,
    /// Vertical range of the hip midpoint over the step, centimetres (needs the runner's height).
    VerticalOscillationCm,
    /// Swing-side pelvic drop at midstance (rear or front view).
    PelvicDropMidstanceDeg,
    /// The stance knee's frontal-plane projection angle at midstance, positive = valgus (rear or front view).
    KneeProjectionAngleMidstanceDeg,
    /// Sideways distance between consecutive stance heels, percent of thigh + shank length, negative when they
    /// cross (rear or front view).
    StepWidthPctLegLength,
    /// The same in centimetres (needs the runner's height).
    StepWidthCm,
    /// The stance heel's sideways distance from the midline, percent of thigh + shank length, negative when it
    /// lands across it (crossover; rear or front view).
    FootFromMidlinePctLegLength,
    /// The same in centimetres (needs the runner's height).
    FootFromMidlineCm,
    /// Peak tilt of the toe → heel line in initial swing, positive = medial heel whip (rear view, 60 fps or more).
    HeelWhipDeg,
}

impl MetricId {
    /// Every metric, in report order.
    pub const ALL: [MetricId; 29] = [
        MetricId::CadenceStepsPerMin,
        MetricId::StepTimeMs,
        MetricId::StrideTimeMs,
        MetricId::ContactTimeMs,
        MetricId::FlightTimeMs,
        MetricId::DutyFactorPct,
        MetricId::StepLengthM,
        MetricId::StrideLengthM,
        MetricId::TrunkLeanMeanDeg,
        MetricId::TrunkLeanMinDeg,
        MetricId::TrunkLeanMaxDeg,
        MetricId::TrunkLeanMidstanceDeg,
        MetricId::FootStrikeAngleDeg,
        MetricId::TibiaAngleIcDeg,
        MetricId::OverstridePctLegLength,
        MetricId::OverstrideCm,
        MetricId::KneeFlexionIcDeg,
        MetricId::KneeFlexionPeakStanceDeg,
        MetricId::HipExtensionPeakDeg,
        MetricId::HipExtensionToeOffDeg,
        MetricId::VerticalOscillationPctLegLength,
        MetricId::VerticalOscillationCm,
        MetricId::PelvicDropMidstanceDeg,
        MetricId::KneeProjectionAngleMidstanceDeg,
        MetricId::StepWidthPctLegLength,
        MetricId::StepWidthCm,
        MetricId::FootFromMidlinePctLegLength,
        MetricId::FootFromMidlineCm,
        MetricId::HeelWhipDeg,
    ];

    /// The metric's family (and so the view it needs).
    pub const fn family(self) -> MetricFamily {
        match self {
            MetricId::CadenceStepsPerMin
            | MetricId::StepTimeMs
            | MetricId::StrideTimeMs
            | MetricId::ContactTimeMs
            | MetricId::FlightTimeMs
            | MetricId::DutyFactorPct
            | MetricId::StepLengthM
            | MetricId::StrideLengthM => MetricFamily::Temporal,
            MetricId::TrunkLeanMeanDeg
            | MetricId::TrunkLeanMinDeg
            | MetricId::TrunkLeanMaxDeg
            | MetricId::TrunkLeanMidstanceDeg => MetricFamily::Trunk,
            MetricId::FootStrikeAngleDeg
            | MetricId::TibiaAngleIcDeg
            | MetricId::OverstridePctLegLength
            | MetricId::OverstrideCm => MetricFamily::Foot,
            MetricId::KneeFlexionIcDeg
            | MetricId::KneeFlexionPeakStanceDeg
            | MetricId::HipExtensionPeakDeg
            | MetricId::HipExtensionToeOffDeg => MetricFamily::KneeHip,
            MetricId::VerticalOscillationPctLegLength | MetricId::VerticalOscillationCm => MetricFamily::Oscillation,
            MetricId::PelvicDropMidstanceDeg => MetricFamily::Pelvis,
            MetricId::KneeProjectionAngleMidstanceDeg
            | MetricId::StepWidthPctLegLength
            | MetricId::StepWidthCm
            | MetricId::FootFromMidlinePctLegLength
            | MetricId::FootFromMidlineCm
            | MetricId::HeelWhipDeg => MetricFamily::Frontal,
        }
    }

    /// The unit, as written in the report.
    pub const fn unit(self) -> &'static str {
        match self {
            MetricId::CadenceStepsPerMin => "steps/min",
            MetricId::StepTimeMs | MetricId::StrideTimeMs | MetricId::ContactTimeMs | MetricId::FlightTimeMs => "ms",
            MetricId::DutyFactorPct => "%",
            MetricId::StepLengthM | MetricId::StrideLengthM => "m",
            MetricId::OverstridePctLegLength
            | MetricId::VerticalOscillationPctLegLength
            | MetricId::StepWidthPctLegLength
            | MetricId::FootFromMidlinePctLegLength => "% leg length",
            MetricId::OverstrideCm
            | MetricId::VerticalOscillationCm
            | MetricId::StepWidthCm
            | MetricId::FootFromMidlineCm => "cm",
            _ => "deg",
        }
    }

    /// Whether a ratio between sides makes sense (times and lengths); angles get a plain difference.
    pub const fn is_ratio_scale(self) -> bool {
        matches!(
            self,
            MetricId::StepTimeMs
                | MetricId::StrideTimeMs
                | MetricId::ContactTimeMs
                | MetricId::FlightTimeMs
                | MetricId::DutyFactorPct
                | MetricId::StepLengthM
                | MetricId::StrideLengthM
                | MetricId::CadenceStepsPerMin
        )
    }
}

/// Metric families; each is one file of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricFamily {
    /// Cadence, contact, flight, step and stride times, duty factor, lengths ([`temporal`]).
    Temporal,
    /// Trunk lean ([`trunk`]).
    Trunk,
    /// Foot strike, tibia angle and overstride at initial contact ([`foot`]).
    Foot,
    /// Knee flexion and hip extension ([`knee_hip`]).
    KneeHip,
    /// Vertical oscillation of the pelvis ([`oscillation`]).
    Oscillation,
    /// Pelvic drop ([`pelvis`]).
    Pelvis,
    /// The lower limb from behind: knee projection angle, step width, foot placement, heel whip ([`frontal`]).
    Frontal,
}

impl MetricFamily {
    /// Whether the family can be measured honestly from `view`.
    pub const fn measurable_from(self, view: View) -> bool {
        match self {
            MetricFamily::Temporal => true,
            MetricFamily::Pelvis | MetricFamily::Frontal => matches!(view, View::Rear | View::Front),
            _ => matches!(view, View::Side),
        }
    }
}

/// Foot strike pattern from the foot strike angle (Altman & Davis 2012).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FootStrikeClass {
    /// Heel first: angle above the rearfoot threshold.
    Rearfoot,
    /// Flat foot: between the thresholds.
    Midfoot,
    /// Ball of the foot first: angle below the forefoot threshold.
    Forefoot,
}

impl FootStrikeClass {
    /// The class of a foot strike angle, given the (rearfoot above, forefoot below) thresholds in degrees.
    pub fn of(angle_deg: f64, (rearfoot_above_deg, forefoot_below_deg): (f64, f64)) -> Self {
        if angle_deg > rearfoot_above_deg {
            FootStrikeClass::Rearfoot
        } else if angle_deg < forefoot_below_deg {
            FootStrikeClass::Forefoot
        } else {
            FootStrikeClass::Midfoot
        }
    }
}

/// One step: a foot's contact and what follows up to the other foot's next contact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    /// Position in the clip's sequence of accepted contacts, from 0.
    pub index: usize,
    /// Whether the step lies in a measured running part (only those enter the summaries; see
    /// [`crate::parts`]).
    pub measured: bool,
    /// The foot in contact.
    pub side: Side,
    /// Initial contact, seconds.
    pub ic_s: f64,
    /// Toe-off, seconds.
    pub to_s: f64,
    /// Midstance, seconds.
    pub midstance_s: f64,
    /// How the initial contact was timed.
    pub ic_method: EventMethod,
    /// How the toe-off was timed.
    pub to_method: EventMethod,
    /// Foot strike class at initial contact (side view), read against its leg's median where the leg's steps spread no
    /// more than the measurement noise (see [`foot::classify_strikes`]).
    pub foot_strike_class: Option<FootStrikeClass>,
    /// Mean visibility of the stance leg's landmarks over the stance, 0..1.
    pub landmark_confidence: f64,
    /// Every metric this step gives, by name (the name carries the unit). A value the step cannot be trusted for
    /// is not here but in `withheld`, with why.
    pub values: BTreeMap<MetricId, f64>,
    /// Metrics this step measured but whose value is withheld, with why (see [`withhold_untrusted`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub withheld: BTreeMap<MetricId, Withheld>,
    /// Mean visibility of the landmarks each value rests on, 0..1.
    #[serde(skip)]
    pub confidence: BTreeMap<MetricId, f64>,
}

/// Why a step's value of a metric is withheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Withheld {
    /// The metric is absent for the whole clip (its summary says why).
    MetricAbsent,
    /// The landmarks it rests on were below the confidence floor (out of frame or hidden) at this step.
    LowConfidence,
    /// Further from its side's median than a steady runner's steps go (a pose-model glitch; see
    /// [`OUTLIER_MAD_FACTOR`]).
    Outlier,
    /// In a side view, the far leg at an instant when it is hidden behind the near leg
    /// ([`HIDDEN_ON_THE_FAR_LEG`]).
    FarLegHidden,
}

/// Metrics a side view cannot show for the far leg: at the far leg's midstance the near leg swings past it, and
/// its thigh covers the far knee, so the pose model guesses the knee (on the gym treadmill clip the far knee's
/// peak stance flexion read 27° against the near knee's 50°).
pub const HIDDEN_ON_THE_FAR_LEG: [MetricId; 1] = [MetricId::KneeFlexionPeakStanceDeg];

/// Why a far-leg value of [`HIDDEN_ON_THE_FAR_LEG`] is absent.
pub const FAR_LEG_HIDDEN_REASON: &str = "its knee is hidden behind the near leg's thigh at midstance, so its \
     peak stance knee flexion cannot be measured from this side; film the runner from that side to measure it";

/// Withholds the far leg's values of [`HIDDEN_ON_THE_FAR_LEG`] (side view).
pub fn withhold_hidden_far_leg(steps: &mut [Step], far: Side) {
    for step in steps.iter_mut().filter(|step| step.side == far) {
        for metric in HIDDEN_ON_THE_FAR_LEG {
            if step.values.remove(&metric).is_some() {
                step.withheld.insert(metric, Withheld::FarLegHidden);
            }
        }
    }
}

/// What every family needs to compute one step.
pub struct StepContext<'a> {
    /// The tracks.
    pub tracks: &'a Tracks,
    /// The per-frame kinematics.
    pub kinematics: &'a Kinematics,
    /// The view the metrics are computed for.
    pub view: View,
    /// This contact.
    pub contact: &'a FootContact,
    /// The other foot's next contact, when it directly follows (no missed contact in between).
    pub next_other: Option<&'a FootContact>,
    /// The same foot's next contact, when it is the one after `next_other`.
    pub next_same: Option<&'a FootContact>,
    /// Treadmill speed, metres per second, when given.
    pub treadmill_speed_mps: Option<f64>,
    /// Rearfoot/forefoot thresholds, degrees.
    pub strike_thresholds_deg: (f64, f64),
}

impl Step {
    /// Records `value` with the confidence of the landmarks it rests on, if it is finite.
    pub fn put(&mut self, metric: MetricId, value: Option<f64>, confidence: f64) {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            self.values.insert(metric, value);
            self.confidence.insert(metric, confidence);
        }
    }
}

/// Computes every step's metrics, in parallel over steps.
pub fn compute_steps(
    tracks: &Tracks,
    kinematics: &Kinematics,
    view: View,
    contacts: &[FootContact],
    treadmill_speed_mps: Option<f64>,
    strike_thresholds_deg: (f64, f64),
    stride_estimate_s: Option<f64>,
) -> Vec<Step> {
    // A following contact belongs to this step only if nothing was missed in between.
    let max_step_s = stride_estimate_s.map_or(1.0, |stride| 0.75 * stride);
    contacts
        .par_iter()
        .enumerate()
        .map(|(index, contact)| {
            let next_other = contacts
                .get(index + 1)
                .filter(|next| next.side != contact.side && next.ic_s - contact.ic_s < max_step_s);
            let next_same = next_other.and(
                contacts
                    .get(index + 2)
                    .filter(|next| next.side == contact.side && next.ic_s - contact.ic_s < 2.0 * max_step_s),
            );
            let context = StepContext {
                tracks,
                kinematics,
                view,
                contact,
                next_other,
                next_same,
                treadmill_speed_mps,
                strike_thresholds_deg,
            };
            let mut step = Step {
                index,
                measured: true,
                side: contact.side,
                ic_s: contact.ic_s,
                to_s: contact.to_s,
                midstance_s: contact.midstance_s,
                ic_method: contact.ic_method,
                to_method: contact.to_method,
                foot_strike_class: None,
                landmark_confidence: contact.landmark_confidence,
                values: BTreeMap::new(),
                withheld: BTreeMap::new(),
                confidence: BTreeMap::new(),
            };
            temporal::step_metrics(&context, &mut step);
            if MetricFamily::Trunk.measurable_from(view) {
                trunk::step_metrics(&context, &mut step);
            }
            if MetricFamily::Foot.measurable_from(view) {
                foot::step_metrics(&context, &mut step);
            }
            if MetricFamily::KneeHip.measurable_from(view) {
                knee_hip::step_metrics(&context, &mut step);
            }
            if MetricFamily::Oscillation.measurable_from(view) {
                oscillation::step_metrics(&context, &mut step);
            }
            if MetricFamily::Pelvis.measurable_from(view) {
                pelvis::step_metrics(&context, &mut step);
            }
            if MetricFamily::Frontal.measurable_from(view) {
                frontal::step_metrics(&context, &mut step);
            }
            step
        })
        .collect()
}

/// Mean, standard deviation, median and count of a set of per-step values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Stats {
    /// Arithmetic mean (for cadence: 120 000 / mean stride time in ms, i.e. 60 / mean step time over whole
    /// strides).
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for a single value.
    pub sd: f64,
    /// Median.
    pub median: f64,
    /// Number of steps.
    pub n: usize,
}

impl Stats {
    /// The statistics of `values`, `None` when empty.
    pub fn of(values: &[f64]) -> Option<Stats> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Stats {
            mean,
            sd,
            median: crate::track::median(values).unwrap_or(mean),
            n,
        })
    }
}

/// How much a summary can be trusted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MetricQuality {
    /// Steps the summary rests on (both sides).
    pub steps_used: usize,
    /// Steps left out because their landmarks were below the confidence floor.
    pub steps_excluded_low_confidence: usize,
    /// Steps left out as outliers: further than [`OUTLIER_MAD_FACTOR`] robust standard deviations from their
    /// side's median (a pose-model glitch, not a different step).
    pub steps_excluded_outlier: usize,
    /// Mean landmark visibility over the steps used, 0..1.
    pub mean_landmark_confidence: Option<f64>,
    /// Whether each reported side rests on at least the minimum number of steps.
    pub enough_steps: bool,
}

/// Left/right asymmetry of a metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Asymmetry {
    /// Left mean − right mean, in the metric's unit.
    pub left_minus_right: f64,
    /// Symmetry index: 100 × (L − R) / ((L + R) / 2), for times and lengths only.
    pub symmetry_index_pct: Option<f64>,
    /// How far the symmetry index can be off, percentage points: the error the two feet's contacts do not share
    /// (each foot's events are timed to its own landmarks, so a foot the pose model sees worse has all its events
    /// shifted) plus 1.645 standard errors of the left − right difference, as a share of the mean. An index
    /// within it is not told apart from none. Set for the times from the contacts, the lengths made from them and
    /// cadence, where each side has at least two steps; see `analysis::unshared_event_frames`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty_pct: Option<f64>,
    /// How far left − right can be off, in the metric's unit, for the side-view angles and the shares of the leg
    /// (measures without a symmetry index): the most the same runner's left − right moved between copies of one
    /// labelled clip at other frame rates, at half size and mirrored (the two legs' landmarks err differently,
    /// and a copy's change shows at least that much of it), plus 1.645 standard errors of the difference. A
    /// difference within it is not told apart from none. Set where each side has at least two steps; see
    /// `analysis::unshared_side_difference`. Absent in reports written before 2026-12-05.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_minus_right_uncertainty: Option<f64>,
}

impl Asymmetry {
    /// Whether the symmetry index is further from zero than its uncertainty (`false` without either).
    pub fn beyond_uncertainty(&self) -> bool {
        matches!((self.symmetry_index_pct, self.uncertainty_pct), (Some(index), Some(u)) if index.abs() > u)
    }

    /// Whether left − right is further from zero than its uncertainty (`false` without one).
    pub fn difference_beyond_uncertainty(&self) -> bool {
        self.left_minus_right_uncertainty
            .is_some_and(|u| self.left_minus_right.abs() > u)
    }
}

/// One metric over the clip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MetricSummary {
    /// Which metric (the name carries the unit).
    pub metric: MetricId,
    /// The unit, spelled out.
    pub unit: String,
    /// Steps of the left foot.
    pub left: Option<Stats>,
    /// Steps of the right foot.
    pub right: Option<Stats>,
    /// All steps.
    pub both: Option<Stats>,
    /// Left/right asymmetry, when both sides have values.
    pub asymmetry: Option<Asymmetry>,
    /// How much to trust it.
    pub quality: MetricQuality,
    /// Why the metric is absent, when it is.
    pub absent_reason: Option<String>,
    /// Why one side has no value while the other has (in a side view, the far leg's knee at midstance is hidden
    /// behind the near leg), when so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_absent_reason: Option<String>,
    /// How far every step's value can be off together, in the metric's unit: the error the steps all share, which
    /// their spread does not show (a frame for contact and flight times, the level's error for angles against it,
    /// how far a measure sampled at initial contact moves within the contact's timing error, and hip extension
    /// within the toe-off's). Flags and
    /// `runform compare` allow for it. Absent where none is known: cadence, step and stride time (a bias every
    /// contact shares cancels between contacts), lengths and frontal-view measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_error: Option<f64>,
}

/// What [`summarise`] needs besides the steps.
pub struct SummaryOptions {
    /// The view the metrics were computed for (for absence reasons).
    pub view: View,
    /// Values whose landmark confidence is below this are left out.
    pub min_landmark_confidence: f64,
    /// A side needs this many steps for `enough_steps`.
    pub min_steps_per_metric: usize,
    /// Whether a treadmill speed was given.
    pub speed_given: bool,
    /// Whether a pixel scale was available.
    pub scale_given: bool,
    /// Why the clip gave no gait events at all, when it gave none: every event-based metric's absence reason.
    pub no_events_reason: Option<String>,
    /// Why the contacts are not running's (the person walks), when so: the reason every running time (the
    /// temporal family) is absent.
    pub not_running_reason: Option<String>,
    /// Why the contacts' toe-offs cannot be trusted (timed by Zeni's markers alone), when so: the reason the
    /// contact-phase times ([`CONTACT_PHASE_METRICS`]) are absent.
    pub contact_timing_reason: Option<String>,
    /// Why the feet cannot be trusted in this clip (out of frame or hidden in most frames), when so: the reason
    /// every metric that rests on the feet or on their contacts is absent.
    pub feet_unreliable_reason: Option<String>,
    /// The clip's frame rate, frames per second (some metrics need a fast camera).
    pub frame_rate_fps: f64,
}

impl MetricId {
    /// Whether the metric rests on the feet's landmarks or on the timing of their contacts (all but the trunk's
    /// lean through the stride and the pelvis's oscillation, which only need the steps' rough windows).
    pub const fn rests_on_the_feet(self) -> bool {
        !matches!(
            self,
            MetricId::TrunkLeanMeanDeg
                | MetricId::TrunkLeanMinDeg
                | MetricId::TrunkLeanMaxDeg
                | MetricId::VerticalOscillationPctLegLength
                | MetricId::VerticalOscillationCm
        )
    }

    /// The largest step-to-step standard deviation (per side) a steady runner's values show, in the metric's
    /// unit (for contact time, as a fraction of the mean): beyond it the steps disagree more than running allows,
    /// and the metric is absent with that reason rather than averaged. `None`: no such check. runform defaults:
    /// about three times the stride-to-stride variability of a steady runner's 2D sagittal angles (1-3°), which
    /// leaves room for a pose model's jitter; see docs/metrics.md.
    pub const fn max_step_spread(self) -> Option<f64> {
        match self {
            MetricId::FootStrikeAngleDeg => Some(8.0),
            MetricId::TibiaAngleIcDeg | MetricId::HipExtensionPeakDeg | MetricId::HipExtensionToeOffDeg => Some(6.0),
            MetricId::KneeFlexionIcDeg | MetricId::KneeFlexionPeakStanceDeg => Some(8.0),
            MetricId::TrunkLeanMeanDeg
            | MetricId::TrunkLeanMinDeg
            | MetricId::TrunkLeanMaxDeg
            | MetricId::TrunkLeanMidstanceDeg
            | MetricId::PelvicDropMidstanceDeg => Some(5.0),
            MetricId::KneeProjectionAngleMidstanceDeg => Some(6.0),
            MetricId::HeelWhipDeg => Some(8.0),
            MetricId::StepWidthPctLegLength | MetricId::FootFromMidlinePctLegLength => Some(6.0),
            MetricId::StepWidthCm | MetricId::FootFromMidlineCm => Some(5.0),
            MetricId::OverstridePctLegLength => Some(10.0),
            MetricId::ContactTimeMs => Some(0.2),
            _ => None,
        }
    }
}

/// Steps of a side whose values were left out (landmarks out of frame or hidden) outnumber those used by this
/// factor or more: the metric is absent, not an average of the few steps that happened to be visible.
pub const MAX_EXCLUDED_TO_USED: usize = 1;

/// Summarises every metric over the steps, in parallel over metrics.
pub fn summarise(steps: &[Step], options: &SummaryOptions) -> Vec<MetricSummary> {
    MetricId::ALL
        .par_iter()
        .map(|&metric| summarise_metric(steps, metric, options))
        .collect()
}

/// The times that rest on both a contact's IC and its TO (step and stride times rest on ICs alone).
pub const CONTACT_PHASE_METRICS: [MetricId; 3] =
    [MetricId::ContactTimeMs, MetricId::FlightTimeMs, MetricId::DutyFactorPct];

/// The angles read up to each toe-off: the knee's peak over IC → TO and the hip's extension over terminal stance
/// and at TO. Where the toe-offs cannot be trusted (the reason the [`CONTACT_PHASE_METRICS`] are absent), they are
/// absent too: a toe-off frames late lets the stance window run into swing, where the knee flexes to 90° and
/// more (the sprint clip read a peak stance knee flexion of 88°).
pub const TOE_OFF_METRICS: [MetricId; 3] = [
    MetricId::KneeFlexionPeakStanceDeg,
    MetricId::HipExtensionPeakDeg,
    MetricId::HipExtensionToeOffDeg,
];

fn summarise_metric(steps: &[Step], metric: MetricId, options: &SummaryOptions) -> MetricSummary {
    let mut per_side: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut confidences = Vec::new();
    let mut excluded = 0;
    for step in steps {
        let Some(&value) = step.values.get(&metric) else {
            continue;
        };
        let confidence = step.confidence.get(&metric).copied().unwrap_or(0.0);
        if confidence < options.min_landmark_confidence {
            excluded += 1;
            continue;
        }
        step.side.of_pair_mut(&mut per_side).push(value);
        confidences.push(confidence);
    }
    let mut outliers = 0;
    for values in &mut per_side {
        outliers += drop_outliers(values, metric);
    }
    let all: Vec<f64> = per_side.iter().flatten().copied().collect();
    let stats = |values: &[f64]| {
        if metric == MetricId::CadenceStepsPerMin {
            cadence_stats(values)
        } else {
            Stats::of(values)
        }
    };
    let left = stats(&per_side[0]);
    let right = stats(&per_side[1]);
    let both = stats(&all);
    let asymmetry = match (&left, &right) {
        (Some(l), Some(r)) => Some(Asymmetry {
            left_minus_right: l.mean - r.mean,
            symmetry_index_pct: (metric.is_ratio_scale() && (l.mean + r.mean).abs() > 0.0)
                .then(|| 100.0 * (l.mean - r.mean) / (0.5 * (l.mean + r.mean))),
            uncertainty_pct: None,
            left_minus_right_uncertainty: None,
        }),
        _ => None,
    };
    let enough_steps = [&left, &right]
        .iter()
        .all(|side| side.as_ref().is_none_or(|s| s.n >= options.min_steps_per_metric))
        && both.is_some();
    let mut absent_reason = both.is_none().then(|| absence_reason(metric, options, excluded));
    if absent_reason.is_none()
        && metric.family() == MetricFamily::Temporal
        && let Some(reason) = &options.not_running_reason
    {
        absent_reason = Some(reason.clone());
    }
    if absent_reason.is_none()
        && let Some(reason) = &options.contact_timing_reason
    {
        if CONTACT_PHASE_METRICS.contains(&metric) {
            absent_reason = Some(reason.clone());
        } else if TOE_OFF_METRICS.contains(&metric) {
            absent_reason = Some(format!(
                "it is read up to each toe-off, and the toe-offs cannot be trusted: {reason}"
            ));
        }
    }
    // A number the clip cannot show is absent with its reason, never a number with a warning beside it.
    if absent_reason.is_none() {
        absent_reason = unreliable_reason(metric, options, excluded, all.len(), [&left, &right]);
    }
    let (left, right, both, asymmetry) = if absent_reason.is_some() {
        (None, None, None, None)
    } else {
        (left, right, both, asymmetry)
    };
    MetricSummary {
        metric,
        unit: metric.unit().to_owned(),
        left,
        right,
        both,
        asymmetry,
        quality: MetricQuality {
            steps_used: all.len(),
            steps_excluded_low_confidence: excluded,
            steps_excluded_outlier: outliers,
            mean_landmark_confidence: (!confidences.is_empty())
                .then(|| confidences.iter().sum::<f64>() / confidences.len() as f64),
            enough_steps,
        },
        absent_reason,
        side_absent_reason: None,
        shared_error: None,
    }
}

#[cfg(test)]
impl MetricSummary {
    /// A present summary of `metric` with these per-side and pooled statistics (tests of what reads summaries).
    pub(crate) fn of_stats(metric: MetricId, left: Stats, right: Stats, both: Stats) -> MetricSummary {
        MetricSummary {
            metric,
            unit: metric.unit().to_owned(),
            quality: MetricQuality {
                steps_used: both.n,
                steps_excluded_low_confidence: 0,
                steps_excluded_outlier: 0,
                mean_landmark_confidence: Some(0.9),
                enough_steps: true,
            },
            left: Some(left),
            right: Some(right),
            both: Some(both),
            asymmetry: None,
            absent_reason: None,
            side_absent_reason: None,
            shared_error: None,
        }
    }
}

/// A per-step value further than this many robust standard deviations (1.4826 × the median absolute
/// deviation) from its side's median is an outlier.
pub const OUTLIER_MAD_FACTOR: f64 = 4.0;

/// Fewest values a side needs before outliers are looked for.
pub const OUTLIER_MIN_VALUES: usize = 5;

/// The outlier cut never comes closer to the median than this fraction of it (times, lengths, cadence), so
/// that frame-quantised times with a tiny spread keep their honest neighbours.
pub const OUTLIER_MIN_CUT_FRACTION: f64 = 0.1;

/// The outlier cut never comes closer to the median than this, for angles and % values.
pub const OUTLIER_MIN_CUT_UNITS: f64 = 3.0;

/// Removes outliers from `values` and returns how many there were.
fn drop_outliers(values: &mut Vec<f64>, metric: MetricId) -> usize {
    let Some((low, high)) = inlier_range(values, metric) else {
        return 0;
    };
    let before = values.len();
    values.retain(|v| (low..=high).contains(v));
    before - values.len()
}

/// The range of values that are not outliers among `values` (one side's steps), `None` when there are too few
/// to tell.
fn inlier_range(values: &[f64], metric: MetricId) -> Option<(f64, f64)> {
    if values.len() < OUTLIER_MIN_VALUES {
        return None;
    }
    let median = crate::track::median(values)?;
    let robust_sd = crate::track::robust_sd(values).unwrap_or(0.0);
    let floor = if metric.is_ratio_scale() {
        OUTLIER_MIN_CUT_FRACTION * median.abs()
    } else {
        OUTLIER_MIN_CUT_UNITS
    };
    let cut = (OUTLIER_MAD_FACTOR * robust_sd).max(floor);
    Some((median - cut, median + cut))
}

/// Withholds every per-step value the summaries did not trust, so that no output shows a number the clip cannot
/// show: all of a metric's values when the metric is absent, and each value whose landmarks were below the
/// confidence floor or that was an outlier among its side's measured steps. The foot strike class goes with the
/// foot strike angle.
pub fn withhold_untrusted(steps: &mut [Step], summaries: &[MetricSummary], min_landmark_confidence: f64) {
    for summary in summaries {
        let metric = summary.metric;
        let trusted = |step: &Step| step.confidence.get(&metric).copied().unwrap_or(0.0) >= min_landmark_confidence;
        let ranges = [Side::Left, Side::Right].map(|side| {
            let values: Vec<f64> = steps
                .iter()
                .filter(|step| step.side == side && step.measured && trusted(step))
                .filter_map(|step| step.values.get(&metric).copied())
                .collect();
            inlier_range(&values, metric)
        });
        for step in steps.iter_mut() {
            let Some(&value) = step.values.get(&metric) else {
                continue;
            };
            let reason = if summary.absent_reason.is_some() {
                Some(Withheld::MetricAbsent)
            } else if !trusted(step) {
                Some(Withheld::LowConfidence)
            } else if step.measured
                && step
                    .side
                    .of_pair(&ranges)
                    .as_ref()
                    .is_some_and(|&(low, high)| !(low..=high).contains(&value))
            {
                Some(Withheld::Outlier)
            } else {
                None
            };
            if let Some(reason) = reason {
                step.values.remove(&metric);
                step.withheld.insert(metric, reason);
                if metric == MetricId::FootStrikeAngleDeg {
                    step.foot_strike_class = None;
                }
            }
        }
    }
}

/// Cadence is 120 / mean stride time (60 / mean step time), not the mean of per-stride cadences; SD and median
/// are of per-stride cadence.
fn cadence_stats(per_step_cadence: &[f64]) -> Option<Stats> {
    let mut stats = Stats::of(per_step_cadence)?;
    let mean_step_min = per_step_cadence.iter().map(|c| 1.0 / c).sum::<f64>() / per_step_cadence.len() as f64;
    stats.mean = 1.0 / mean_step_min;
    Some(stats)
}

/// Why a metric that has values must still be absent: the feet cannot be trusted in this clip, most of its
/// steps' landmarks were out of frame or hidden, or its steps disagree beyond what a steady runner shows.
/// Two steps give only a rough standard deviation: a side with two steps is called unreliable when their SD is
/// beyond this many times a steady runner's limit (two foot-strike angles more than 23° apart, say).
pub const TWO_STEP_SPREAD_FACTOR: f64 = 2.0;

fn unreliable_reason(
    metric: MetricId,
    options: &SummaryOptions,
    excluded: usize,
    used: usize,
    sides: [&Option<Stats>; 2],
) -> Option<String> {
    if metric.rests_on_the_feet()
        && let Some(reason) = &options.feet_unreliable_reason
    {
        return Some(reason.clone());
    }
    if excluded > 0 && excluded >= MAX_EXCLUDED_TO_USED * used {
        return Some(format!(
            "the landmarks it needs were out of frame or hidden in {excluded} of {} steps: too few visible steps to \
             stand for the clip",
            excluded + used
        ));
    }
    let limit = metric.max_step_spread()?;
    let spreads: Vec<String> = [Side::Left, Side::Right]
        .into_iter()
        .zip(sides)
        .filter_map(|(side, stats)| {
            let stats = stats.as_ref()?;
            let (spread, allowed) = if metric == MetricId::ContactTimeMs {
                (stats.sd / stats.mean.abs().max(f64::EPSILON), limit)
            } else {
                (stats.sd, limit)
            };
            let disagree = match stats.n {
                0 | 1 => false,
                2 => spread > TWO_STEP_SPREAD_FACTOR * allowed,
                _ => spread > allowed,
            };
            disagree.then(|| {
                let side = if side == Side::Left { "left" } else { "right" };
                if metric == MetricId::ContactTimeMs {
                    format!("{side} SD {:.0} % of the mean", 100.0 * spread)
                } else {
                    format!("{side} SD {spread:.1} {}", metric.unit())
                }
            })
        })
        .collect();
    (!spreads.is_empty()).then(|| {
        let allowed = if metric == MetricId::ContactTimeMs {
            format!("{:.0} % of the mean", 100.0 * limit)
        } else {
            format!("{limit:.0} {}", metric.unit())
        };
        format!(
            "its steps disagree beyond what a steady runner shows ({}; a steady runner stays within {allowed}): \
             the landmarks it rests on are unreliable in this clip",
            spreads.join(", ")
        )
    })
}

fn absence_reason(metric: MetricId, options: &SummaryOptions, excluded: usize) -> String {
    let family = metric.family();
    if !family.measurable_from(options.view) {
        return match family {
            MetricFamily::Pelvis => format!(
                "pelvic drop is a frontal-plane angle and needs a rear view; this clip is {} view, where it \
                 cannot be measured honestly{}",
                view_name(options.view),
                if options.view == View::Side {
                    PELVIC_DROP_FROM_THE_SIDE_STUDY
                } else {
                    ""
                }
            ),
            MetricFamily::Frontal => format!(
                "this is a frontal-plane measure of the leg and needs a rear view; this clip is {} view",
                view_name(options.view)
            ),
            _ => format!(
                "this is a sagittal-plane measure and needs a side view; this clip is {} view",
                view_name(options.view)
            ),
        };
    }
    if matches!(metric, MetricId::StepLengthM | MetricId::StrideLengthM) && !options.speed_given {
        return "needs the treadmill speed (--speed)".into();
    }
    if metric == MetricId::HeelWhipDeg && options.frame_rate_fps < frontal::MIN_FPS_FOR_HEEL_WHIP {
        return format!(
            "the heel whips within about {:.2} s of toe-off, {:.0} frames at {:.0} fps: too few to catch its peak; \
             film at {:.0} fps or more",
            frontal::HEEL_WHIP_WINDOW_S,
            frontal::HEEL_WHIP_WINDOW_S * options.frame_rate_fps,
            options.frame_rate_fps,
            frontal::MIN_FPS_FOR_HEEL_WHIP
        );
    }
    // Without gait events or with the feet out of frame the % leg length value is absent too, for that reason.
    // The events are found from the feet's swings, so with the feet out of frame that is why there are none: the
    // stride search's own words ("walking, standing, the runner holding the rails", on a stock clip of a runner
    // whose feet are cropped off) would blame the running; the `no_gait_events` warning still gives them.
    if let Some(reason) = &options.no_events_reason {
        return match &options.feet_unreliable_reason {
            Some(feet) => format!("no gait events: {feet}"),
            None => format!("no gait events: {reason}"),
        };
    }
    if metric.rests_on_the_feet()
        && let Some(reason) = &options.feet_unreliable_reason
    {
        return reason.clone();
    }
    if matches!(
        metric,
        MetricId::OverstrideCm | MetricId::VerticalOscillationCm | MetricId::StepWidthCm | MetricId::FootFromMidlineCm
    ) && !options.scale_given
    {
        return "needs the runner's height (--height-cm) for a centimetre scale; see the % leg length value".into();
    }
    if excluded > 0 {
        return format!("the landmarks it needs were out of frame or hidden in all {excluded} steps");
    }
    "no step gave a usable value (the landmarks it needs were missing)".into()
}

/// Said after the side-view absence of pelvic drop: why BlazePose's depth estimate does not stand in for a
/// rear view (docs/pelvic-drop-from-the-side.md, `scripts/pelvic-obliquity-study`).
pub const PELVIC_DROP_FROM_THE_SIDE_STUDY: &str = ": estimated from the pose model's depth in a side view, it \
     disagreed with the frontal-view measurement of the same session step by step (95 % limits of agreement −8.2 \
     to +7.1 deg, r = −0.57), far beyond the 2.8 deg smallest detectable difference (docs/pelvic-drop-from-the-side.md); \
     film from behind to measure it";

/// The view's name with its article, as in "this clip is an oblique view".
fn view_name(view: View) -> &'static str {
    match view {
        View::Side => "a side",
        View::Rear => "a rear",
        View::Front => "a front",
        View::Oblique => "an oblique",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_and_cadence_follow_their_definitions() {
        let stats = Stats::of(&[1.0, 2.0, 3.0, 10.0]).expect("stats");
        assert_eq!((stats.mean, stats.median, stats.n), (4.0, 2.5, 4));
        assert!((stats.sd - 4.0826).abs() < 1e-3);
        // Steps of 0.3 s and 0.4 s: mean step 0.35 s → 171.43 steps/min (not the mean of 200 and 150).
        let cadence = cadence_stats(&[200.0, 150.0]).expect("cadence");
        assert!((cadence.mean - 60.0 / 0.35).abs() < 1e-9);
        assert_eq!(MetricId::ALL.len(), 29);
    }

    fn options() -> SummaryOptions {
        SummaryOptions {
            view: View::Side,
            min_landmark_confidence: 0.3,
            min_steps_per_metric: 3,
            speed_given: false,
            scale_given: false,
            no_events_reason: None,
            not_running_reason: None,
            contact_timing_reason: None,
            feet_unreliable_reason: None,
            frame_rate_fps: 60.0,
        }
    }

    /// Eight alternating steps with these foot strike angles and landmark confidences.
    fn steps(angles: &[f64], confidences: &[f64]) -> Vec<Step> {
        angles
            .iter()
            .zip(confidences)
            .enumerate()
            .map(|(index, (&angle, &confidence))| Step {
                index,
                measured: true,
                side: if index % 2 == 0 { Side::Left } else { Side::Right },
                ic_s: 0.35 * index as f64,
                to_s: 0.35 * index as f64 + 0.25,
                midstance_s: 0.35 * index as f64 + 0.12,
                ic_method: EventMethod::ZeniCalibratedByFootHeight,
                to_method: EventMethod::ZeniCalibratedByFootHeight,
                foot_strike_class: Some(FootStrikeClass::Rearfoot),
                landmark_confidence: confidence,
                values: BTreeMap::from([(MetricId::FootStrikeAngleDeg, angle)]),
                withheld: BTreeMap::new(),
                confidence: BTreeMap::from([(MetricId::FootStrikeAngleDeg, confidence)]),
            })
            .collect()
    }

    /// The foot strike classes after [`foot::classify_strikes`] with the default thresholds, left then right.
    fn classes_after_classifying(steps: &mut [Step]) -> [Vec<FootStrikeClass>; 2] {
        foot::classify_strikes(steps, (8.0, -1.6));
        [Side::Left, Side::Right].map(|side| {
            steps
                .iter()
                .filter(|step| step.side == side)
                .filter_map(|step| step.foot_strike_class)
                .collect()
        })
    }

    fn interleave(left: &[f64], right: &[f64]) -> Vec<f64> {
        left.iter().zip(right).flat_map(|(&l, &r)| [l, r]).collect()
    }

    #[test]
    fn a_steady_leg_near_a_class_line_gets_its_medians_class_on_every_step() {
        // The gym clip's per-step angles: a far foot landing heel first (labels 9-17°) and a near foot landing flat
        // (labels 0-4°) whose raw readings put 4 of 8 steps outside the midfoot band.
        let left = [12.0, 17.3, 22.3, 15.5, 17.4, 16.5, 10.2, 13.5];
        let right = [-3.8, 1.2, -6.4, 8.7, 3.1, -0.0, -2.3, 5.5];
        let mut steps = steps(&interleave(&left, &right), &[0.9; 16]);
        let raw: Vec<FootStrikeClass> = right.iter().map(|&a| FootStrikeClass::of(a, (8.0, -1.6))).collect();
        assert_eq!(raw.iter().filter(|&&c| c == FootStrikeClass::Midfoot).count(), 4);
        let [left_classes, right_classes] = classes_after_classifying(&mut steps);
        assert_eq!(left_classes, vec![FootStrikeClass::Rearfoot; 8]);
        assert_eq!(right_classes, vec![FootStrikeClass::Midfoot; 8]);
        // The angles themselves stay as measured.
        assert_eq!(steps[5].values[&MetricId::FootStrikeAngleDeg], -6.4);
    }

    #[test]
    fn a_leg_that_mixes_patterns_keeps_each_steps_class() {
        // Spread far beyond the noise: heel strikes at 18-20° and forefoot strikes at -8 to -10°.
        let left = [18.0, -8.0, 20.0, -10.0, 19.0, -9.0];
        let right = [12.0; 6];
        let mut steps = steps(&interleave(&left, &right), &[0.9; 12]);
        let [left_classes, _] = classes_after_classifying(&mut steps);
        let expected: Vec<FootStrikeClass> = left.iter().map(|&a| FootStrikeClass::of(a, (8.0, -1.6))).collect();
        assert_eq!(left_classes, expected);
    }

    #[test]
    fn few_steps_and_unmeasured_steps_keep_their_own_angles_class() {
        // Two steps a side: each keeps the class set from its own angle.
        let mut few = steps(&[9.0, 0.0, 30.0, -5.0], &[0.9; 4]);
        for step in &mut few {
            step.foot_strike_class = Some(FootStrikeClass::of(
                step.values[&MetricId::FootStrikeAngleDeg],
                (8.0, -1.6),
            ));
        }
        let before: Vec<_> = few.iter().map(|step| step.foot_strike_class).collect();
        classes_after_classifying(&mut few);
        assert_eq!(
            few.iter().map(|step| step.foot_strike_class).collect::<Vec<_>>(),
            before
        );
        // A step outside the measured running part is not pulled toward the running steps' median.
        let mut steps = steps(&interleave(&[12.0, 13.0, 12.5, 0.0], &[3.0; 4]), &[0.9; 8]);
        steps[6].measured = false;
        steps[6].foot_strike_class = Some(FootStrikeClass::Midfoot);
        classes_after_classifying(&mut steps);
        assert_eq!(steps[6].foot_strike_class, Some(FootStrikeClass::Midfoot));
    }

    fn foot_strike(steps: &[Step], options: &SummaryOptions) -> MetricSummary {
        summarise_metric(steps, MetricId::FootStrikeAngleDeg, options)
    }

    #[test]
    fn steady_steps_give_a_number_and_keep_their_values() {
        let angles = [12.0, 3.0, 13.0, 2.0, 11.5, 3.5, 12.5, 2.5, 12.0, 3.0, 11.0, 2.0];
        let mut steps = steps(&angles, &[0.9; 12]);
        let summary = foot_strike(&steps, &options());
        assert!(summary.absent_reason.is_none(), "{:?}", summary.absent_reason);
        assert!((summary.left.as_ref().expect("left").mean - 12.0).abs() < 1e-9);
        withhold_untrusted(&mut steps, &[summary], 0.3);
        assert!(
            steps
                .iter()
                .all(|step| step.withheld.is_empty() && step.values.len() == 1)
        );
    }

    #[test]
    fn trunk_lean_through_the_step_follows_the_same_steadiness_limit_as_at_midstance() {
        // A runner who leans 20° for half the clip and 2° for the rest (an acted form change): left SD 9.9°.
        let leans = [2.0, 3.0, 2.5, 2.0, 3.0, 2.5, 20.0, 21.0, 20.5, 20.0, 21.0, 20.5];
        let mut steps = steps(&[10.0; 12], &[0.9; 12]);
        for (step, lean) in steps.iter_mut().zip(leans) {
            for metric in [
                MetricId::TrunkLeanMeanDeg,
                MetricId::TrunkLeanMinDeg,
                MetricId::TrunkLeanMaxDeg,
                MetricId::TrunkLeanMidstanceDeg,
            ] {
                step.values.insert(metric, lean);
                step.confidence.insert(metric, 0.9);
            }
        }
        for metric in [
            MetricId::TrunkLeanMeanDeg,
            MetricId::TrunkLeanMinDeg,
            MetricId::TrunkLeanMaxDeg,
            MetricId::TrunkLeanMidstanceDeg,
        ] {
            let summary = summarise_metric(&steps, metric, &options());
            let reason = summary.absent_reason.as_deref().unwrap_or_default();
            assert!(
                reason.starts_with("its steps disagree beyond what a steady runner shows"),
                "{metric:?}: {reason}"
            );
            assert!(summary.both.is_none());
        }
        // A steady lean (SD under 1°) is reported.
        for (step, lean) in steps.iter_mut().zip(leans) {
            step.values.insert(MetricId::TrunkLeanMeanDeg, lean.min(3.0));
        }
        let steady = summarise_metric(&steps, MetricId::TrunkLeanMeanDeg, &options());
        assert!(steady.absent_reason.is_none(), "{:?}", steady.absent_reason);
    }

    #[test]
    fn walking_leaves_out_the_running_times_but_keeps_the_angles() {
        let mut steps = steps_with_contact();
        let walking = SummaryOptions {
            not_running_reason: Some("the person walks".into()),
            ..options()
        };
        let contact = summarise_metric(&steps, MetricId::ContactTimeMs, &walking);
        assert_eq!(contact.absent_reason.as_deref(), Some("the person walks"));
        assert!(contact.both.is_none() && contact.left.is_none());
        let angle = foot_strike(&steps, &walking);
        assert!(angle.absent_reason.is_none(), "{:?}", angle.absent_reason);
        withhold_untrusted(&mut steps, &[contact], 0.3);
        assert!(steps.iter().all(|step| {
            step.values.contains_key(&MetricId::FootStrikeAngleDeg)
                && step.withheld.get(&MetricId::ContactTimeMs) == Some(&Withheld::MetricAbsent)
        }));
        // Running keeps them.
        let running = summarise_metric(&steps_with_contact(), MetricId::ContactTimeMs, &options());
        assert!(running.absent_reason.is_none(), "{:?}", running.absent_reason);
    }

    #[test]
    fn untrusted_toe_offs_leave_out_the_times_and_the_angles_read_up_to_them() {
        let mut steps = steps_with_contact();
        for step in &mut steps {
            step.values.insert(MetricId::KneeFlexionPeakStanceDeg, 45.0);
            step.confidence.insert(MetricId::KneeFlexionPeakStanceDeg, 0.9);
        }
        let untrusted = SummaryOptions {
            contact_timing_reason: Some("the toe-offs are uncalibrated".into()),
            ..options()
        };
        let contact = summarise_metric(&steps, MetricId::ContactTimeMs, &untrusted);
        assert_eq!(contact.absent_reason.as_deref(), Some("the toe-offs are uncalibrated"));
        let knee = summarise_metric(&steps, MetricId::KneeFlexionPeakStanceDeg, &untrusted);
        let reason = knee.absent_reason.expect("absent");
        assert!(
            reason.starts_with("it is read up to each toe-off") && reason.ends_with("uncalibrated"),
            "{reason}"
        );
        assert!(knee.both.is_none());
        // The angles at contact do not rest on the toe-offs.
        assert!(foot_strike(&steps, &untrusted).absent_reason.is_none());
        // Trusted toe-offs keep the knee.
        let trusted = summarise_metric(&steps, MetricId::KneeFlexionPeakStanceDeg, &options());
        assert!(trusted.absent_reason.is_none(), "{:?}", trusted.absent_reason);
    }

    /// Eight steady steps with a contact time each.
    fn steps_with_contact() -> Vec<Step> {
        let mut steps = steps(&[12.0, 3.0, 13.0, 2.0, 11.5, 3.5, 12.5, 2.5], &[0.9; 8]);
        for step in &mut steps {
            step.values.insert(MetricId::ContactTimeMs, 250.0);
            step.confidence.insert(MetricId::ContactTimeMs, 0.9);
        }
        steps
    }

    #[test]
    fn two_steps_far_apart_are_unreliable_and_two_close_ones_are_not() {
        // Left: +12° then -30° (a glitched landing), 42° apart; right steady.
        let glitched = foot_strike(&steps(&[12.0, 3.0, -30.0, 4.0], &[0.9; 4]), &options());
        let reason = glitched.absent_reason.expect("absent");
        assert!(reason.contains("left SD") && !reason.contains("right SD"), "{reason}");
        // 8° apart: two steps are too few to call that unsteady.
        let close = foot_strike(&steps(&[12.0, 3.0, 20.0, 4.0], &[0.9; 4]), &options());
        assert!(close.absent_reason.is_none(), "{:?}", close.absent_reason);
    }

    #[test]
    fn steps_that_disagree_beyond_a_runner_make_the_metric_absent_everywhere() {
        // The right foot's angles scatter over 40°: landmarks, not a runner.
        let angles = [12.0, -10.0, 13.0, 25.0, 11.5, 0.0, 12.5, 30.0, 12.0, -5.0, 11.0, 15.0];
        let mut steps = steps(&angles, &[0.9; 12]);
        let summary = foot_strike(&steps, &options());
        let reason = summary.absent_reason.clone().expect("absent");
        assert!(reason.contains("right SD") && !reason.contains("left SD"), "{reason}");
        assert!(summary.both.is_none() && summary.left.is_none() && summary.right.is_none());
        withhold_untrusted(&mut steps, &[summary], 0.3);
        for step in &steps {
            assert!(step.values.is_empty() && step.foot_strike_class.is_none());
            assert_eq!(
                step.withheld.get(&MetricId::FootStrikeAngleDeg),
                Some(&Withheld::MetricAbsent)
            );
        }
    }

    #[test]
    fn hidden_or_glitched_steps_are_withheld_and_mostly_hidden_feet_make_the_metric_absent() {
        let angles = [12.0, 3.0, 13.0, 2.0, 11.5, 3.5, 12.5, 2.5, 12.0, 3.0, 40.0, 2.0];
        let mut confidences = [0.9; 12];
        confidences[1] = 0.1;
        let mut few_hidden = steps(&angles, &confidences);
        let summary = foot_strike(&few_hidden, &options());
        assert!(summary.absent_reason.is_none(), "{:?}", summary.absent_reason);
        assert_eq!(summary.quality.steps_excluded_outlier, 1);
        withhold_untrusted(&mut few_hidden, &[summary], 0.3);
        assert_eq!(
            few_hidden[1].withheld.get(&MetricId::FootStrikeAngleDeg),
            Some(&Withheld::LowConfidence)
        );
        assert_eq!(
            few_hidden[10].withheld.get(&MetricId::FootStrikeAngleDeg),
            Some(&Withheld::Outlier)
        );
        assert_eq!(few_hidden.iter().filter(|step| step.values.is_empty()).count(), 2);

        let mostly_hidden = steps(&angles, &[0.1, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1, 0.9, 0.1]);
        let summary = foot_strike(&mostly_hidden, &options());
        assert!(
            summary
                .absent_reason
                .as_deref()
                .is_some_and(|r| r.contains("8 of 12 steps")),
            "{:?}",
            summary.absent_reason
        );
    }

    #[test]
    fn unreliable_feet_or_no_events_give_their_reason() {
        let steady = steps(&[12.0, 3.0, 13.0, 2.0, 11.5, 3.5], &[0.9; 6]);
        let feet_out = SummaryOptions {
            feet_unreliable_reason: Some("the feet are out of frame in 60 % of frames".into()),
            ..options()
        };
        let summary = foot_strike(&steady, &feet_out);
        assert_eq!(
            summary.absent_reason.as_deref(),
            Some("the feet are out of frame in 60 % of frames")
        );
        // Trunk lean over the step does not rest on the feet.
        assert!(!MetricId::TrunkLeanMeanDeg.rests_on_the_feet());
        let no_events = SummaryOptions {
            no_events_reason: Some("no steady running was found".into()),
            ..options()
        };
        let summary = foot_strike(&[], &no_events);
        assert_eq!(
            summary.absent_reason.as_deref(),
            Some("no gait events: no steady running was found")
        );
        // A centimetre value without the runner's height (none of these options gives one) points to the % leg
        // length value, unless that is absent too for a reason of its own (the feet cropped out of a stock
        // treadmill clip: it said "see the % leg length value" beside an absent one).
        assert!(absence_reason(MetricId::OverstrideCm, &options(), 0).contains("--height-cm"));
        assert_eq!(
            absence_reason(MetricId::OverstrideCm, &feet_out, 0),
            "the feet are out of frame in 60 % of frames"
        );
        assert_eq!(
            absence_reason(MetricId::VerticalOscillationCm, &no_events, 0),
            "no gait events: no steady running was found"
        );
        // No events with the feet out of frame: the feet are why, for every event-timed metric.
        let no_events_feet_out = SummaryOptions {
            no_events_reason: Some("no steady running was found".into()),
            feet_unreliable_reason: Some("the feet are out of frame in 83 % of frames".into()),
            ..options()
        };
        for metric in [
            MetricId::CadenceStepsPerMin,
            MetricId::TrunkLeanMidstanceDeg,
            MetricId::FootStrikeAngleDeg,
        ] {
            assert_eq!(
                absence_reason(metric, &no_events_feet_out, 0),
                "no gait events: the feet are out of frame in 83 % of frames",
                "{metric:?}"
            );
        }
    }
}
