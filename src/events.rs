//! Gait events: initial contact (IC) and toe-off (TO) of each foot, with sub-frame timing, the belt line and
//! camera roll they imply, and the phases that follow from them (stance, swing, midstance, terminal stance).
//!
//! Side view:
//! 1. **Zeni anchors** (Zeni, Richards & Higginson 2008, Gait Posture 27:710): a peak of the heel's position
//!    ahead of the pelvis along the direction of travel at each initial contact, a trough of the toe's at each
//!    toe-off, and the peak of hip extension (the thigh's most backward angle) near toe-off. Found in the
//!    filtered tracks with parabolic sub-frame interpolation, they segment the clip into strides and are
//!    *precise* — a smooth signal tens of centimetres in amplitude, good to a third of a frame step to step —
//!    but *biased*: the swinging foot starts moving back before it lands (swing-leg retraction), and the toe
//!    keeps moving back after it leaves the belt, by amounts that differ between runners, speeds and legs.
//! 2. **Belt line and camera roll**: the foot's lowest point (heel or toe) in the middle of each stance lies on
//!    the belt. A robust (Theil–Sen) slope with one offset per foot and landmark (the far foot sits higher in
//!    the image when the camera is above the belt) gives the camera roll; everything after is measured in the
//!    belt-aligned [`BeltFrame`].
//! 3. **Foot-height contacts** (after Fellin 2010, J Sci Med Sport 13:646, who time IC from the heel reaching
//!    its lowest level, and De Witt 2010, J Biomech 43:3067, who time treadmill TO from the toe's height): in
//!    each stance the heel's level on the belt and the toe's are measured, and the heel reaching its level (IC)
//!    and the toe rising off its own (TO) are timed by linear interpolation between frames. These are *unbiased*
//!    but *noisy*: a pose model's foot landmarks jitter by several pixels and slip where the legs cross.
//! 4. **Calibration**: each foot's events are its Zeni anchors shifted by that foot's median offset between the
//!    foot-height event and the anchor over the clip's stances ([`SideCalibration`], in the report). The median
//!    keeps the foot-height method's accuracy and the anchors' step-to-step precision; toe-off averages the two
//!    anchors. With too few stances for a median the other foot's offsets are used, and failing that the Zeni
//!    times alone (the event says so).
//!
//! Rear view: the direction of travel is along the camera axis, so Zeni does not apply; stance is where the
//! foot's lowest point is within a contact threshold of the belt (a running lower envelope of both feet) and the
//! same hinge fits time IC and TO.
//!
//! Implausible contacts are rejected with a reason: contact shorter or longer than running allows, and any
//! stance that overlaps the other foot's stance (running has no double support).

use serde::{Deserialize, Serialize};

use crate::landmarks::LandmarkId;
use crate::parts::{self, ClipParts};
use crate::track::{BeltFrame, Side, Tracks, View, median, robust_sd, sample_or_nan};

/// Shortest plausible running contact, milliseconds (sprinters ~80 ms).
pub const MIN_CONTACT_TIME_MS: f64 = 80.0;
/// Longest plausible running contact, milliseconds (slow jogging ~350 ms; walking ~600 ms).
pub const MAX_CONTACT_TIME_MS: f64 = 500.0;
/// Above this share of implausible contacts among those found (see `reject_implausible`), the feet's heights
/// do not show their contacts in the clip, and the contacts that pass come from the same failing reading: a
/// runform default. On the labelled clips whose contact times match the labels 0-3 % are rejected (gym 0 of 17,
/// grass 2 of 60, tiktok 0 of 59); on the overground clip filmed from behind at ground level 3 of 6 were, and the
/// 3 kept read 87-113 ms where the same runner, hand-labelled from the side, is on the ground 233-267 ms. In a
/// side view the contact times are then absent (`analysis`); from behind or in front, where a contact, its foot
/// and its midstance come from the feet's heights alone, the clip gives no events.
pub const MAX_IMPLAUSIBLE_CONTACT_SHARE: f64 = 0.25;
/// Shortest stride searched for, seconds (300 steps/min: sprinters pass 280).
pub const MIN_STRIDE_S: f64 = 0.4;
/// Longest stride searched for, seconds (80 steps/min: walking still gives events, which are then rejected).
pub const MAX_STRIDE_S: f64 = 1.5;
/// Longest stride searched for in a frontal view when no running stride is found, seconds (40 steps/min: slow
/// walking, marching in place, and walking filmed in slow motion). Walking is then measured as walking
/// ([`Gait::Walking`]): its pelvis, knees and foot placement, not running's times.
pub const MAX_WALKING_STRIDE_S: f64 = 3.0;
/// Walking: a foot's swing counts when it rises at least this fraction of the leg length above the belt
/// (smoothed); lower bumps are landmark jitter of a foot on the ground.
pub const SWING_HEIGHT_PER_LEG: f64 = 0.05;
/// Walking: a swing lifts off and lands where the foot is within this fraction of the swing's peak height from the
/// belt (low, so that the swing's lopsided shape — highest early — does not shift its middle).
pub const WALKING_SWING_EDGE: f64 = 0.2;
/// The foot is on the belt when its lowest point is within this fraction of the leg length of the belt line
/// (plus three standard deviations of its stance-phase jitter).
pub const CONTACT_HEIGHT_PER_LEG: f64 = 0.025;
/// From this frame rate up the hinge's approach curve is fitted freely; below it the curve is ballistic,
/// frames per second.
pub const HINGE_FREE_CURVE_MIN_FPS: f64 = 50.0;
/// How much of the swing a ballistic hinge uses, seconds (at least two frames): about the flight time.
pub const HINGE_BALLISTIC_SWING_WINDOW_S: f64 = 0.1;
/// How much of the swing a curved hinge (a quadratic approach) uses, seconds (at least
/// [`HINGE_MIN_SWING_SAMPLES_FOR_CURVE`] frames).
pub const HINGE_CURVED_SWING_WINDOW_S: f64 = 0.05;
/// How much of the stance after IC (before TO) the hinge fit uses, seconds (at least two frames).
pub const HINGE_STANCE_WINDOW_S: f64 = 0.05;
/// How far past the first frame on the belt (before the last) the corner is searched, seconds (at least one
/// frame): the contact threshold is crossed a little before the foot lands.
pub const HINGE_SEARCH_S: f64 = 0.04;
/// Sub-frame resolution of the hinge fit, fractions of a frame.
pub const HINGE_STEPS_PER_FRAME: usize = 20;
/// Two stances of opposite feet may overlap by this much before it counts as double support, milliseconds
/// (one frame of slack is added on top).
pub const DOUBLE_SUPPORT_TOLERANCE_MS: f64 = 10.0;

/// How an event time was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventMethod {
    /// Zeni's anchors shifted by this foot's median offset to its foot-height events ([`SideCalibration`]).
    ZeniCalibratedByFootHeight,
    /// Zeni's anchors shifted by the *other* foot's offsets (this foot had too few stances to calibrate).
    ZeniCalibratedByOtherFoot,
    /// Zeni's anchors alone (no foot-height calibration was possible), shifted by the offsets typical of the
    /// labelled clips ([`TYPICAL_IC_AFTER_HEEL_PEAK_PER_STRIDE`], [`TYPICAL_TO_AFTER_TOE_TROUGH_PER_STRIDE`]).
    Zeni,
    /// Foot height above the belt alone (rear view).
    FootHeight,
}

/// One stance of one foot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FootContact {
    /// Which foot.
    pub side: Side,
    /// Initial contact, seconds from the first frame.
    pub ic_s: f64,
    /// Toe-off, seconds.
    pub to_s: f64,
    /// Midstance (half-way through stance), seconds.
    pub midstance_s: f64,
    /// How IC was timed.
    pub ic_method: EventMethod,
    /// How TO was timed.
    pub to_method: EventMethod,
    /// Mean visibility of the foot, ankle and knee over the stance, 0..1.
    pub landmark_confidence: f64,
}

impl FootContact {
    /// Contact time, milliseconds.
    pub fn contact_time_ms(&self) -> f64 {
        (self.to_s - self.ic_s) * 1000.0
    }

    /// Terminal stance: from midstance to toe-off, seconds.
    pub fn terminal_stance_s(&self) -> (f64, f64) {
        (self.midstance_s, self.to_s)
    }
}

/// A contact the detector found and threw away, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RejectedContact {
    /// Which foot.
    pub side: Side,
    /// Its initial contact, seconds.
    pub ic_s: f64,
    /// What was wrong with it, for counting and filtering.
    pub kind: RejectionKind,
    /// Why it was rejected, in plain words.
    pub reason: String,
}

/// What made a found contact implausible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectionKind {
    /// Shorter than running allows ([`MIN_CONTACT_TIME_MS`]).
    TooShort,
    /// Longer than running allows ([`MAX_CONTACT_TIME_MS`]).
    TooLong,
    /// Starts before the same foot's previous stance ends: the same stance found twice.
    Duplicate,
    /// Lands while the other foot is still on the ground: running has no double support.
    DoubleSupport,
    /// Walking: the other foot's swing is too short to hold this foot's midstance.
    ShortSwing,
}

impl RejectionKind {
    /// Every kind, in the order their counts are worded.
    pub const ALL: [Self; 5] = [
        Self::TooShort,
        Self::TooLong,
        Self::Duplicate,
        Self::DoubleSupport,
        Self::ShortSwing,
    ];

    /// The kind as a count's words: "2 shorter than running allows".
    fn counted(self) -> &'static str {
        match self {
            Self::TooShort => "shorter than running allows",
            Self::TooLong => "longer than running allows",
            Self::Duplicate => "overlapping the same foot's previous stance",
            Self::DoubleSupport => "landing while the other foot is down",
            Self::ShortSwing => "between two swings of the other foot too close to hold a midstance",
        }
    }
}

/// The belt line as the stance feet show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BeltLine {
    /// The belt-aligned frame (camera roll and direction of travel).
    pub frame: BeltFrame,
    /// Camera roll, degrees (belt line's angle in the image; 0 = level).
    pub camera_roll_deg: f64,
    /// Whether the roll was measured (`false`: too few stance points, assumed level).
    pub roll_measured: bool,
    /// Stance-phase foot points the line rests on.
    pub point_count: usize,
    /// How far the line's angle moves with the stances it is measured from, degrees (side view; absent with too
    /// few stances): see [`MAX_UPRIGHT_ROLL_ERROR_DEG`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roll_error_deg: Option<f64>,
}

/// A side view's belt line is taken as the level, for the angles from the vertical, only where its angle moves by at
/// most this between stances (jackknife standard error, degrees): its 95 % interval (±1.96 standard errors) then
/// stays within the 2.3° smallest detectable difference of a 2D running angle (foot strike angle, Dingenen et al.
/// 2018). The gym clip's tripod camera gives 0.27° (0.38-0.55° for its 30 fps and half-size copies, 0.31-1.05° on
/// MediaPipe's landmarks); the grass clip's camera, which follows the runner, 1.7-8.8° in its takes.
pub const MAX_UPRIGHT_ROLL_ERROR_DEG: f64 = 2.3 / 1.96;

/// How one foot's Zeni anchors were shifted onto its foot-height events (side view): the median offsets and how
/// many stances each rests on. Milliseconds, positive = the event comes after its anchor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SideCalibration {
    /// Which foot.
    pub side: Side,
    /// Initial contact after the heel's forward peak (negative: swing-leg retraction makes the peak late).
    pub ic_after_heel_peak_ms: Option<f64>,
    /// Stances the IC offset rests on.
    pub ic_stances: usize,
    /// Toe-off after the toe's backward trough (negative: the toe keeps moving back after it leaves the belt).
    pub to_after_toe_trough_ms: Option<f64>,
    /// Toe-off after the peak of hip extension.
    pub to_after_hip_extension_peak_ms: Option<f64>,
    /// Stances the TO offsets rest on.
    pub to_stances: usize,
    /// How far single stances' foot-height ICs fall from the calibrated IC: their robust SD (1.4826 × the median
    /// absolute deviation), milliseconds. Landmark jitter gives about a frame; much more means the foot landmarks
    /// do not follow the foot (swaps, occlusion), and contact time is then absent
    /// (`events::MAX_EVENT_SCATTER_MS`).
    #[serde(default)]
    pub ic_scatter_ms: Option<f64>,
    /// The same for toe-off, milliseconds.
    #[serde(default)]
    pub to_scatter_ms: Option<f64>,
}

/// Everything the event detector found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GaitEvents {
    /// The belt line and frame.
    pub belt: BeltLine,
    /// Accepted contacts, in order of initial contact.
    pub contacts: Vec<FootContact>,
    /// Rejected contacts.
    pub rejected: Vec<RejectedContact>,
    /// The stride period the detector searched with, seconds; over several measured running parts, their
    /// strides' mean weighted by the parts' lengths (what the contacts' cadence is checked against).
    pub stride_estimate_s: Option<f64>,
    /// Side view: how each foot's anchors were calibrated, per running part (empty for other views).
    pub calibration: Vec<SideCalibration>,
    /// Side view: the running parts the events were found in, and the spans left out.
    pub parts: ClipParts,
    /// Running, or walking (frontal views only: measured as walking, without running's times).
    pub gait: Gait,
}

/// Whether the contacts are running's or walking's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gait {
    /// A flight phase between stances: the contacts are running's.
    #[default]
    Running,
    /// Double support, or a stride longer than running's: the person walks (or the clip is slow motion). Only
    /// found in frontal views, where the pelvis, knees and foot placement are still measured, each at the
    /// middle of single support.
    Walking,
}

/// Why no events could be found at all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NoEvents {
    /// Plain words.
    pub reason: String,
    /// Side view: the spans left out and why (empty where the clip was never split into parts).
    pub parts: ClipParts,
}

fn foot_ids(side: Side) -> (LandmarkId, LandmarkId, LandmarkId, LandmarkId) {
    match side {
        Side::Left => (
            LandmarkId::LeftHeel,
            LandmarkId::LeftFootIndex,
            LandmarkId::LeftAnkle,
            LandmarkId::LeftKnee,
        ),
        Side::Right => (
            LandmarkId::RightHeel,
            LandmarkId::RightFootIndex,
            LandmarkId::RightAnkle,
            LandmarkId::RightKnee,
        ),
    }
}

/// The foot heights the contacts are timed from skip a heel or toe landmark that lies further than this fraction
/// of the leg length from its median over 5 frames (`LandmarkTrack::without_spikes`), bridging it
/// from its neighbours. At the far foot's landing BlazePose pulls both legs' foot landmarks towards the middle of
/// the picture for 1-2 frames (7 of the 9 far-foot landings on the gym clip, 0.4-0.5 leg length; docs/metrics.md,
/// *Accuracy*), and a landing still on its way down is then read 2-3 frames late. A limit too tight also cuts
/// real motion at the swing's turning points: at 0.2 the grass clip's ICs within a frame fall from 91 to 86 %, at
/// 0.15 the gym clip's TOs from 94 to 82 %. At 0.3 no labelled clip's events get worse, and on the gym footage at
/// half size the ICs within a frame go from 76 to 94 % and the far foot's angle from 7.8° to 14.2° (labels 14°).
/// The filtered tracks (the Zeni anchors, the angles) keep every sample: the toe-off anchor depends on the glitch
/// (docs/metrics.md).
pub const FOOT_SPIKE_PER_LEG: f64 = 0.3;

/// Per-frame series in the belt frame, for one foot.
struct FootSeries {
    /// Heel ahead of the pelvis, pixels (filtered).
    heel_ahead: Vec<f64>,
    /// Toe ahead of the pelvis, pixels (filtered).
    toe_ahead: Vec<f64>,
    /// Height of the foot's lowest point, pixels (unfiltered), not yet relative to the belt.
    lowest_up: Vec<f64>,
    /// Image position of the lowest point (unfiltered) and which landmark it is (0 heel, 1 toe).
    lowest_image: Vec<(f64, f64, usize)>,
    /// Heel height, pixels (unfiltered), not yet relative to the belt.
    heel_up: Vec<f64>,
    /// Toe height, pixels (unfiltered), not yet relative to the belt.
    toe_up: Vec<f64>,
    /// Heel position along the belt, pixels (unfiltered).
    heel_u: Vec<f64>,
    /// Toe position along the belt, pixels (unfiltered).
    toe_u: Vec<f64>,
}

fn foot_series(tracks: &Tracks, frame: &BeltFrame, side: Side) -> FootSeries {
    let (heel_id, toe_id, _, _) = foot_ids(side);
    let count = tracks.frame_count();
    let [heel_track, toe_track] = [heel_id, toe_id].map(|id| match tracks.leg_length_px {
        Some(leg_px) => tracks.raw(id).without_spikes(FOOT_SPIKE_PER_LEG * leg_px),
        None => tracks.raw(id).clone(),
    });
    // Filled by pushing one value per frame, so every series has exactly `count` entries.
    let mut series = FootSeries {
        heel_ahead: Vec::with_capacity(count),
        toe_ahead: Vec::with_capacity(count),
        lowest_up: Vec::with_capacity(count),
        lowest_image: Vec::with_capacity(count),
        heel_up: Vec::with_capacity(count),
        toe_up: Vec::with_capacity(count),
        heel_u: Vec::with_capacity(count),
        toe_u: Vec::with_capacity(count),
    };
    for f in 0..count {
        let pelvis_u = 0.5
            * (frame.point(tracks.smooth(LandmarkId::LeftHip), f).0
                + frame.point(tracks.smooth(LandmarkId::RightHip), f).0);
        series
            .heel_ahead
            .push(frame.point(tracks.smooth(heel_id), f).0 - pelvis_u);
        series
            .toe_ahead
            .push(frame.point(tracks.smooth(toe_id), f).0 - pelvis_u);
        let (heel, toe) = (&heel_track, &toe_track);
        let (heel_u, heel_up) = frame.point(heel, f);
        let (toe_u, toe_up) = frame.point(toe, f);
        let (up, image) = if heel_up <= toe_up || toe_up.is_nan() {
            let (x, y) = heel.xy(f);
            (heel_up, (x, y, 0))
        } else {
            let (x, y) = toe.xy(f);
            (toe_up, (x, y, 1))
        };
        series.lowest_up.push(up);
        series.lowest_image.push(image);
        series.heel_up.push(heel_up);
        series.toe_up.push(toe_up);
        series.heel_u.push(heel_u);
        series.toe_u.push(toe_u);
    }
    series
}

/// The stride period from the autocorrelation of a periodic signal, seconds, between running's
/// [`MIN_STRIDE_S`] and [`MAX_STRIDE_S`].
pub(crate) fn stride_period_s(signals: &[&[f64]], fps: f64) -> Option<f64> {
    stride_period_between(signals, fps, (MIN_STRIDE_S, MAX_STRIDE_S))
}

/// The autocorrelation's local maximum at half the lag of the best-scoring one is taken as the stride when it scores
/// at least this fraction of the best (one foot's signal scores positive at its stride and negative at half of it:
/// swing against stance). On the tiktok clip the 3-second windows around 3.3-3.9 s, where BlazePose mixes up the
/// feet for a few frames, scored two strides (36 frames) 0.54-0.58 and one stride (18) 0.36-0.44, 0.67-0.76 of it:
/// the rhythm then read a step of 18 frames, the next step's swing was dropped as too soon, and running was split
/// there.
pub const HALF_STRIDE_MIN_SCORE_FRACTION: f64 = 0.5;

/// The stride period from the autocorrelation of a periodic signal, seconds, searched between `range` (seconds).
fn stride_period_between(signals: &[&[f64]], fps: f64, range: (f64, f64)) -> Option<f64> {
    let min_lag = (range.0 * fps).floor() as usize;
    let max_lag = (range.1 * fps).ceil() as usize;
    let mut scores = Vec::new();
    for lag in min_lag.max(1)..=max_lag {
        let mut sum = 0.0;
        let mut norm_a = 0.0;
        let mut norm_b = 0.0;
        let mut pairs = 0;
        for signal in signals {
            let mean = {
                let finite: Vec<f64> = signal.iter().copied().filter(|v| v.is_finite()).collect();
                if finite.is_empty() {
                    continue;
                }
                finite.iter().sum::<f64>() / finite.len() as f64
            };
            for (a, b) in signal.iter().zip(signal.iter().skip(lag)) {
                let (a, b) = (a - mean, b - mean);
                if a.is_finite() && b.is_finite() {
                    sum += a * b;
                    norm_a += a * a;
                    norm_b += b * b;
                    pairs += 1;
                }
            }
        }
        if pairs > (fps as usize) && norm_a > 0.0 && norm_b > 0.0 {
            scores.push((lag, sum / (norm_a * norm_b).sqrt()));
        }
    }
    let best = scores.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    if best < 0.3 {
        return None;
    }
    // The first local maximum close to the best: multiples of the stride score nearly as high.
    let score_before = |k: usize| k.checked_sub(1).and_then(|before| scores.get(before)).copied();
    // A true local maximum: the first lag of the range is not one (the autocorrelation may still be falling
    // from lag 0 there), nor is the last.
    let local_maximum = |k: usize| {
        let (Some(previous), Some(next), Some(here)) = (score_before(k), scores.get(k + 1), scores.get(k)) else {
            return false;
        };
        here.1 >= previous.1 && here.1 >= next.1
    };
    // The first local maximum whose (lag, score) passes `accept`.
    let first_peak = |accept: &dyn Fn(&(usize, f64)) -> bool| {
        (0..scores.len()).position(|k| local_maximum(k) && scores.get(k).is_some_and(accept))
    };
    let found = first_peak(&|&(_, score)| score >= 0.85 * best)?;
    // Half the lag found repeats too: that lag is two strides, found because a short window's autocorrelation
    // can score the second stride above the first. One foot's signal half a stride on is anti-correlated (the
    // foot in swing against in stance), so no lag that is only half the stride scores positive at all.
    let &(found_lag, _) = scores.get(found)?;
    let index = first_peak(&|&(lag, score)| {
        (2 * lag).abs_diff(found_lag) <= 2 && score >= HALF_STRIDE_MIN_SCORE_FRACTION * best
    })
    .unwrap_or(found);
    let &(lag, score) = scores.get(index)?;
    // Parabolic interpolation between the neighbouring lags gives a sub-frame period.
    let offset = match (score_before(index), scores.get(index + 1)) {
        (Some((before_lag, before)), Some(&(after_lag, after))) if before_lag + 1 == lag && after_lag == lag + 1 => {
            let curvature = before - 2.0 * score + after;
            if curvature < 0.0 {
                (0.5 * (before - after) / curvature).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        }
        _ => 0.0,
    };
    Some((lag as f64 + offset) / fps)
}

/// Local maxima of `signal` (the highest value within ± `half_window` frames), with parabolic sub-frame
/// position, as fractional frame indices. A peak at the clip's edge may be a truncated rise: only peaks at least
/// `half_window / 2` frames inside the clip are kept.
fn peaks(signal: &[f64], half_window: usize) -> Vec<f64> {
    local_peaks(signal, half_window, half_window / 2)
}

/// Local maxima of `signal` (the highest value within ± `half_window` frames) at least `edge_margin` frames
/// inside it, with parabolic sub-frame position, as fractional frame indices.
pub(crate) fn local_peaks(signal: &[f64], half_window: usize, edge_margin: usize) -> Vec<f64> {
    let mut found = Vec::new();
    // Every frame but the first and last, with both neighbours: window `k` holds frames k, k + 1 and k + 2.
    for (k, window) in signal.windows(3).enumerate() {
        let &[a, value, c] = window else {
            continue;
        };
        let f = k + 1;
        if !value.is_finite() || f < edge_margin || f + edge_margin >= signal.len() {
            continue;
        }
        let start = f.saturating_sub(half_window);
        let end = (f + half_window + 1).min(signal.len());
        // The highest in the window; on a tie the first of equal values wins. NaN neighbours do not count.
        let is_peak = signal
            .iter()
            .enumerate()
            .take(end)
            .skip(start)
            .all(|(g, &other)| g == f || other < value || (other == value && g > f) || other.is_nan());
        if is_peak {
            let denominator = a - 2.0 * value + c;
            let offset = if a.is_finite() && c.is_finite() && denominator < 0.0 {
                (0.5 * (a - c) / denominator).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            found.push(f as f64 + offset);
        }
    }
    found
}

/// Which way a hinge bends: a descent onto the belt (IC) or a rise off it (TO).
#[derive(Clone, Copy, PartialEq)]
enum Hinge {
    Landing,
    LiftOff,
}

/// Fits `height = c + s · max(0, ±(t_c − t))` with the corner `t_c` searched between `search` (fractional
/// frames); the data run from a short stretch before the corner's range (the curved part of the swing is left
/// out) to a longer stretch of flat stance after it, mirrored for toe-off. Returns the corner as a fractional
/// frame index, or `None` when the fit has no descent/rise.
fn hinge_corner(heights: &[f64], search: (f64, f64), scale: &HingeScale, hinge: Hinge) -> Option<f64> {
    let fps = scale.fps;
    // At high frame rates the approach is sampled densely enough to fit its curve freely; at low ones it is
    // sampled two or three times, and its curve is taken from physics: in flight the body falls (and after
    // toe-off rises) ballistically, so the foot's height bends by −g/2 · r² (the leg's own motion is small
    // beside it over the last frames).
    let approach = if fps >= HINGE_FREE_CURVE_MIN_FPS {
        Approach::Free
    } else {
        Approach::Ballistic(-0.5 * scale.gravity_px_per_frame2)
    };
    let swing_side = match approach {
        Approach::Free => {
            ((HINGE_CURVED_SWING_WINDOW_S * fps).round() as usize).max(HINGE_MIN_SWING_SAMPLES_FOR_CURVE) as f64
        }
        // Only the flight is ballistic: before it the other foot is still pushing.
        Approach::Ballistic(_) => (HINGE_BALLISTIC_SWING_WINDOW_S * fps)
            .min(scale.flight_frames.unwrap_or(f64::INFINITY))
            .round()
            .max(2.0),
    };
    let stance_side = ((HINGE_STANCE_WINDOW_S * fps).round() as usize).max(2) as f64;
    let (first, last) = match hinge {
        Hinge::Landing => (search.0 - swing_side, search.1 + stance_side),
        Hinge::LiftOff => (search.0 - stance_side, search.1 + swing_side),
    };
    let start = first.ceil().max(0.0) as usize;
    let end = ((last.floor() + 1.0).max(0.0) as usize).min(heights.len());
    let samples: Vec<(f64, f64)> = heights
        .iter()
        .enumerate()
        .take(end)
        .skip(start)
        .filter(|(_, h)| h.is_finite())
        .map(|(f, &h)| (f as f64, h))
        .collect();
    if samples.len() < 4 {
        return None;
    }
    let (search_start, search_end) = search;
    let steps = (((search_end - search_start) * HINGE_STEPS_PER_FRAME as f64).ceil() as usize).max(1);
    let mut best: Option<(f64, f64)> = None;
    for k in 0..=steps {
        let corner = search_start + (search_end - search_start) * k as f64 / steps as f64;
        let ramp = |t: f64| match hinge {
            Hinge::Landing => (corner - t).max(0.0),
            Hinge::LiftOff => (t - corner).max(0.0),
        };
        let Some((error, slope)) = fit_ramp(&samples, ramp, approach) else {
            continue;
        };
        if slope <= 0.0 {
            continue;
        }
        if best.is_none_or(|(_, best_error)| error < best_error) {
            best = Some((corner, error));
        }
    }
    best.map(|(corner, _)| corner)
}

/// Fewest samples on the swing side of a curved hinge.
pub const HINGE_MIN_SWING_SAMPLES_FOR_CURVE: usize = 4;

/// How the foot's height bends on the swing side of a hinge.
#[derive(Clone, Copy)]
enum Approach {
    /// A free quadratic term (enough samples to fit it).
    Free,
    /// A fixed quadratic term, pixels per frame² (ballistic flight).
    Ballistic(f64),
}

/// Image scale and frame rate for the hinge fit.
pub struct HingeScale {
    /// Frames per second.
    pub fps: f64,
    /// Gravity in pixels per frame², from the pixel scale (or a nominal leg length).
    pub gravity_px_per_frame2: f64,
    /// Typical flight time, frames, once a first pass of events has measured it.
    pub flight_frames: Option<f64>,
}

impl HingeScale {
    /// The scale of `tracks`: their pixel scale when the runner's height is known, else the leg length over
    /// [`NOMINAL_LEG_LENGTH_M`] (a tenth off moves an event by well under a millisecond).
    pub fn of(tracks: &Tracks, leg_px: f64, flight_frames: Option<f64>) -> HingeScale {
        let px_per_m = tracks
            .px_per_cm
            .map_or(leg_px / NOMINAL_LEG_LENGTH_M, |px_per_cm| 100.0 * px_per_cm);
        HingeScale {
            fps: tracks.fps,
            gravity_px_per_frame2: GRAVITY_M_PER_S2 * px_per_m / (tracks.fps * tracks.fps),
            flight_frames,
        }
    }
}

/// Standard gravity, m/s².
pub const GRAVITY_M_PER_S2: f64 = 9.81;

/// Thigh + shank of a 1.75 m adult (0.491 × height, Winter 2009), metres: the scale when no height is given.
pub const NOMINAL_LEG_LENGTH_M: f64 = 0.86;

/// Least squares of `h = c + s·r + q·r²` with `r = ramp(t)` (`q` free or fixed): the residual sum of squares
/// and the slope `s` at the corner.
fn fit_ramp(samples: &[(f64, f64)], ramp: impl Fn(f64) -> f64, approach: Approach) -> Option<(f64, f64)> {
    let (curved, fixed_q) = match approach {
        Approach::Free => (true, 0.0),
        Approach::Ballistic(q) => (false, q),
    };
    // Normal equations for the basis [1, r, r²] (or [1, r] with the fixed r² term moved to the left).
    let size = if curved { 3 } else { 2 };
    let mut normal = [[0.0f64; 3]; 3];
    let mut right = [0.0f64; 3];
    for &(t, h) in samples {
        let r = ramp(t);
        let h = h - fixed_q * r * r;
        let basis = [1.0, r, r * r];
        for ((normal_row, right_entry), basis_i) in normal.iter_mut().zip(&mut right).zip(basis).take(size) {
            for (entry, basis_j) in normal_row.iter_mut().zip(basis).take(size) {
                *entry += basis_i * basis_j;
            }
            *right_entry += basis_i * h;
        }
    }
    let coefficients = solve_small(&normal, &right, size)?;
    let error = samples
        .iter()
        .map(|&(t, h)| {
            let r = ramp(t);
            let model = coefficients[0]
                + coefficients[1] * r
                + if curved {
                    coefficients[2] * r * r
                } else {
                    fixed_q * r * r
                };
            (h - model).powi(2)
        })
        .sum();
    Some((error, coefficients[1]))
}

/// Solves the `size`×`size` system by Gaussian elimination with partial pivoting.
// Every index is below `size`, which is at most 3, the arrays' length; the indexed form keeps the textbook
// elimination readable.
#[allow(clippy::indexing_slicing)]
fn solve_small(matrix: &[[f64; 3]; 3], right: &[f64; 3], size: usize) -> Option<[f64; 3]> {
    let mut a = *matrix;
    let mut b = *right;
    for column in 0..size {
        let pivot = (column..size).max_by(|&i, &j| a[i][column].abs().total_cmp(&a[j][column].abs()))?;
        if a[pivot][column].abs() < 1e-9 {
            return None;
        }
        a.swap(column, pivot);
        b.swap(column, pivot);
        let pivot_row = a[column];
        for row in column + 1..size {
            let factor = a[row][column] / pivot_row[column];
            for (entry, pivot_entry) in a[row].iter_mut().zip(pivot_row.iter()).take(size).skip(column) {
                *entry -= factor * pivot_entry;
            }
            b[row] -= factor * b[column];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..size).rev() {
        let sum: f64 = (row + 1..size).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - sum) / a[row][row];
    }
    Some(x)
}

/// Finds the gait events of the clip seen from `view`.
pub fn detect_events(tracks: &Tracks, view: View) -> Result<GaitEvents, NoEvents> {
    let Some(leg_px) = tracks.leg_length_px else {
        return Err(NoEvents {
            reason: "the legs were never found, so there is no leg length to work with".into(),
            parts: ClipParts::default(),
        });
    };
    match view {
        View::Side | View::Oblique => detect_side_view_in_parts(tracks, leg_px),
        View::Rear | View::Front => detect_frontal_view(tracks, leg_px),
    }
}

/// Side view: the clip's running parts ([`parts`]), each analysed on its own (its own stride period, belt line
/// and calibration), their events put back on the clip's time line.
fn detect_side_view_in_parts(tracks: &Tracks, leg_px: f64) -> Result<GaitEvents, NoEvents> {
    let mut clip_parts = parts::find_running_parts(tracks);
    if clip_parts.parts.is_empty() {
        let reasons: Vec<String> = clip_parts
            .skipped
            .iter()
            .map(|span| span.reason.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        return Err(NoEvents {
            reason: if reasons.is_empty() {
                "no steady running was found (no running, or the feet are not tracked)".into()
            } else if reasons.iter().any(|reason| reason.starts_with("no steady running")) {
                // One of the reasons already says it; do not say it twice.
                reasons.join("; ")
            } else {
                format!("no steady running was found: {}", reasons.join("; "))
            },
            parts: clip_parts,
        });
    }
    // Measure every part, then calibrate: a part's own offsets when it has enough stances for a steady median,
    // otherwise the offsets pooled over the measured parts (the same runner at the same pace).
    let mut measured_parts = Vec::new();
    let mut failures = Vec::new();
    for (index, (start, end, measured)) in clip_parts.frame_ranges(tracks.fps).into_iter().enumerate() {
        let part_tracks = tracks.slice(start, end);
        match measure_side_view(&part_tracks, leg_px) {
            Ok(part) => {
                if let Some(running_part) = clip_parts.parts.get_mut(index) {
                    running_part.camera_roll_deg = part.belt.roll_measured.then_some(part.belt.camera_roll_deg);
                    running_part.camera_roll_error_deg =
                        part.belt.roll_measured.then_some(part.belt.roll_error_deg).flatten();
                }
                measured_parts.push((start, measured, part_tracks, part));
            }
            Err(failure) => failures.push(failure.reason),
        }
    }
    let pooled = [Side::Left, Side::Right].map(|side| {
        let stances: Vec<StanceTimes> = measured_parts
            .iter()
            .filter(|(_, measured, _, _)| *measured)
            .flat_map(|(_, _, _, part)| side.of_pair(&part.times).iter().copied())
            .collect();
        Offsets::of(&stances)
    });
    // The measured parts first, the longest first: the belt line reported is theirs.
    measured_parts.sort_by_key(|(start, measured, part_tracks, _)| {
        (!*measured, std::cmp::Reverse(part_tracks.frame_count()), *start)
    });
    let mut combined: Option<GaitEvents> = None;
    // The stride the contacts' cadence is checked against: the measured parts' strides, each weighted by its
    // length, as the cadence averages over the steps of every measured part. The longest part's stride alone
    // withheld the cadence of a sprint whose two parts ran at 277 and 262 steps/min (its contacts' 268.9 against
    // the longer part's rhythm, 260.7).
    let mut measured_strides = Vec::new();
    for (start, measured, part_tracks, part) in measured_parts {
        let own = part.times.each_ref().map(|stances| Offsets::of(stances));
        let offsets = if own
            .iter()
            .all(|offsets| offsets.ic_stances.min(offsets.to_stances) >= OWN_CALIBRATION_STANCES)
        {
            own
        } else {
            pooled
        };
        if measured {
            measured_strides.push((part.stride_s, part_tracks.frame_count()));
        }
        let mut events = part_events(&part_tracks, part, &offsets);
        let offset_s = start as f64 / tracks.fps;
        for contact in &mut events.contacts {
            contact.ic_s += offset_s;
            contact.to_s += offset_s;
            contact.midstance_s += offset_s;
        }
        for rejected in &mut events.rejected {
            rejected.ic_s += offset_s;
        }
        match combined.as_mut() {
            None => combined = Some(events),
            Some(all) => {
                all.contacts.extend(events.contacts);
                all.rejected.extend(events.rejected);
                all.calibration.extend(events.calibration);
            }
        }
    }
    let mut events = combined.ok_or_else(|| NoEvents {
        reason: failures
            .first()
            .cloned()
            .unwrap_or_else(|| "no gait events were found".into()),
        parts: clip_parts.clone(),
    })?;
    events.stride_estimate_s = weighted_stride_s(&measured_strides).or(events.stride_estimate_s);
    events.contacts.sort_by(|a, b| a.ic_s.total_cmp(&b.ic_s));
    events.contacts = without_repeated_stances(std::mem::take(&mut events.contacts));
    events.rejected.sort_by(|a, b| a.ic_s.total_cmp(&b.ic_s));
    // Parts calibrated on the pooled offsets all report the same calibration: list each once.
    let mut calibration: Vec<SideCalibration> = Vec::new();
    for entry in std::mem::take(&mut events.calibration) {
        if !calibration.contains(&entry) {
            calibration.push(entry);
        }
    }
    events.calibration = calibration;
    events.parts = clip_parts;
    Ok(events)
}

/// The mean of the parts' strides (seconds), each weighted by its number of frames; `None` without one.
fn weighted_stride_s(strides: &[(f64, usize)]) -> Option<f64> {
    let frames: usize = strides.iter().map(|&(_, frames)| frames).sum();
    let weighted: f64 = strides.iter().map(|&(stride_s, frames)| stride_s * frames as f64).sum();
    (frames > 0).then(|| weighted / frames as f64)
}

/// `contacts` (in order of IC) with each stance once: running parts reach half a step before their first swing
/// and two steps past their last ([`crate::parts::PART_END_AFTER_LAST_SWING_STEPS`]), so two parts of one shot can
/// overlap, and a stance in the overlap is found by both. The first found is kept.
fn without_repeated_stances(contacts: Vec<FootContact>) -> Vec<FootContact> {
    let mut kept: Vec<FootContact> = Vec::with_capacity(contacts.len());
    for contact in contacts {
        let repeated = kept
            .iter()
            .any(|k| k.side == contact.side && contact.ic_s < k.to_s && k.ic_s < contact.to_s);
        if !repeated {
            kept.push(contact);
        }
    }
    kept
}

/// Coarse Zeni events of one foot: (IC, TO) as fractional frames, in pairs.
fn zeni_stances(series: &FootSeries, stride_frames: f64) -> Vec<(f64, f64)> {
    let half_window = (0.3 * stride_frames).round() as usize;
    let ics = peaks(&series.heel_ahead, half_window);
    let negated: Vec<f64> = series.toe_ahead.iter().map(|v| -v).collect();
    let tos = peaks(&negated, half_window);
    let pairs: Vec<(f64, f64)> = ics
        .iter()
        .filter_map(|&ic| {
            tos.iter()
                .copied()
                .find(|&to| to > ic && to < ic + 0.8 * stride_frames)
                .map(|to| (ic, to))
        })
        .collect();
    // Near the end of the frames the toe may still be moving back, and the last frame a trough can be found at
    // passes for it: such a trough comes far sooner after its heel peak than the foot's others.
    let last_frame = negated.len().saturating_sub(1) as f64;
    let typical = median(&pairs.iter().map(|(ic, to)| to - ic).collect::<Vec<f64>>());
    pairs
        .into_iter()
        .filter(|&(ic, to)| {
            let cut_short = typical.is_some_and(|typical| to - ic < CUT_SHORT_TROUGH_FRACTION * typical);
            !(cut_short && to + half_window as f64 > last_frame)
        })
        .collect()
}

/// A toe trough within a peak window of the end of the frames, and sooner after its heel peak than this fraction of
/// the foot's median, is taken for the end of the frames, not the trough. On the tiktok clip two such troughs came
/// 0.41 and 0.60 of the median after their heel peaks and gave toe-offs 5 frames early; the other 135 stances of the
/// gym, grass, tiktok and sprint clips have theirs 0.75-1.55 of the median after (all but 3 within 0.8-1.25).
pub const CUT_SHORT_TROUGH_FRACTION: f64 = 0.75;

/// A stretch of side-view running measured: its belt line, stride and every Zeni stance's anchors and
/// foot-height events, not yet calibrated.
struct MeasuredPart {
    belt: BeltLine,
    stride_s: f64,
    times: [Vec<StanceTimes>; 2],
}

/// Measures `tracks` (a whole clip or one running part) in the side view.
fn measure_side_view(tracks: &Tracks, leg_px: f64) -> Result<MeasuredPart, NoEvents> {
    let forward_sign = tracks.detection.facing.map_or(1.0, |facing| facing.sign());
    let level = BeltFrame::level(forward_sign);
    let series = [Side::Left, Side::Right].map(|side| foot_series(tracks, &level, side));
    let [left_series, right_series] = &series;
    let stride_s =
        stride_period_s(&[&left_series.heel_ahead, &right_series.heel_ahead], tracks.fps).ok_or_else(|| NoEvents {
            reason: "no repeating stride was found in the foot positions (no running, or the feet are not tracked)"
                .into(),
            parts: ClipParts::default(),
        })?;
    let stride_frames = stride_s * tracks.fps;
    let zeni = series.each_ref().map(|series| zeni_stances(series, stride_frames));
    // Belt line: the lowest foot points in the middle of each stance lie on it. The first pass takes the
    // stances from Zeni's anchors (which lead the true contact), the later ones from the calibrated events;
    // each pass also re-picks the lowest point (heel or toe) in the last pass's frame.
    let mut stances = zeni.clone();
    let mut belt = BeltLine {
        frame: level,
        camera_roll_deg: 0.0,
        roll_measured: false,
        point_count: 0,
        roll_error_deg: None,
    };
    let mut times = [Vec::new(), Vec::new()];
    for pass in 0..BELT_FIT_PASSES {
        let lowest = [Side::Left, Side::Right].map(|side| foot_series(tracks, &belt.frame, side).lowest_image);
        // Zeni's stances lead the true ones, so only their middle is surely on the belt; the calibrated stances
        // are on the belt from end to end.
        let fraction = if pass == 0 { (0.3, 0.7) } else { (0.1, 0.9) };
        let points = stance_points(&lowest, &stances, fraction);
        belt.point_count = points.len();
        // Only the last pass's line is kept, and so only its spread is measured.
        belt.roll_error_deg = if pass + 1 == BELT_FIT_PASSES {
            belt_roll_error_deg(&points, leg_px)
        } else {
            None
        };
        if let Some(slope) = belt_slope(&points, leg_px) {
            belt.frame = BeltFrame {
                roll_rad: slope.atan(),
                forward_sign,
            };
            belt.camera_roll_deg = slope.atan().to_degrees();
            belt.roll_measured = true;
        }
        times = stance_times(tracks, &belt.frame, &zeni, stride_frames, leg_px);
        let offsets = times.each_ref().map(|stances| Offsets::of(stances));
        let calibrated = calibrated_contacts(tracks, &times, &offsets, stride_frames);
        stances = [Side::Left, Side::Right].map(|side| {
            calibrated
                .contacts
                .iter()
                .filter(|c| c.side == side && c.ic_method != EventMethod::Zeni)
                .map(|c| (c.ic_s * tracks.fps, c.to_s * tracks.fps))
                .collect()
        });
    }
    Ok(MeasuredPart { belt, stride_s, times })
}

/// The events of a measured part, calibrated with `offsets`.
fn part_events(tracks: &Tracks, part: MeasuredPart, offsets: &[Offsets; 2]) -> GaitEvents {
    let calibrated = calibrated_contacts(tracks, &part.times, offsets, part.stride_s * tracks.fps);
    let mut rejected = Vec::new();
    let contacts = reject_implausible(calibrated.contacts, tracks.fps, &mut rejected);
    GaitEvents {
        belt: part.belt,
        contacts,
        rejected,
        stride_estimate_s: Some(part.stride_s),
        calibration: calibrated.calibration,
        parts: ClipParts::default(),
        gait: Gait::Running,
    }
}

/// A running part is calibrated on its own stances when each foot has at least this many with foot-height
/// events; with fewer, on the stances pooled over the measured parts.
pub const OWN_CALIBRATION_STANCES: usize = 100;

/// Passes of the belt-line fit and event calibration (the first from Zeni's stances, then from calibrated ones).
pub const BELT_FIT_PASSES: usize = 3;

/// The heel is on the belt when it is within this many standard deviations of its stance-phase jitter of its
/// stance level. BlazePose's heel landmark jitters by 1-2 % of the leg length in stance (measured on the
/// labelled clips), and it comes down onto the belt slowly over its last centimetres: the hand-labelled first
/// contacts (`tests/labels/`) fall where it is within about this much of its level. On clean landmarks the
/// threshold shrinks to nothing and the contact is where the heel reaches its level.
pub const IC_HEEL_NOISE_FACTOR: f64 = 1.5;

/// The toe has left the belt when it is this fraction of the leg length above its stance level (6 cm on an
/// adult). BlazePose's toe landmark (`foot_index`) sits on top of the forefoot, behind the point the foot
/// pivots on at push-off, so it rises several centimetres while the tip of the shoe is still on the belt; the
/// hand-labelled toe-offs (`tests/labels/`) fall where it has risen this far.
pub const TO_TOE_HEIGHT_PER_LEG: f64 = 0.06;

/// Contact times are absent when a foot's landings or toe-offs, read stance by stance from its landmarks' heights,
/// scatter around their calibrated times by more than this (robust SD), milliseconds. BlazePose's foot jitter
/// scatters them by 8-45 ms on the labelled clips whose contact times match the labels (`docs/metrics.md`,
/// *Accuracy*); where the landmarks swap feet or lose the foot behind the other leg they scatter by over 100 ms, and
/// the median the calibration takes is then not the foot's (the oblique clip: contact 34-73 ms too long).
pub const MAX_EVENT_SCATTER_MS: f64 = 60.0;

/// Where neither foot can be calibrated, IC is the heel peak shifted by this fraction of the stride: the median
/// of the calibrated feet's offsets on the labelled clips (gym treadmill 60 fps: +0.029 and +0.036 of a 713 ms
/// stride; grass overground 30 fps: +0.056 and +0.059 of 620 ms). Zeni's heel peak comes a little before the
/// foot lands, by about the same part of the stride at any pace.
pub const TYPICAL_IC_AFTER_HEEL_PEAK_PER_STRIDE: f64 = 0.046;

/// Where neither foot can be calibrated, TO is the toe's trough (its most backward point relative to the pelvis)
/// shifted by this fraction of the stride: the median of the calibrated feet's offsets on the same clips (gym:
/// −0.154 and −0.116; grass: −0.164 and −0.143). The foot goes on moving back after it leaves the belt, so the
/// trough comes late; as a fraction of the stride the lag holds from 620 to 713 ms strides. Contact times stay
/// absent under these offsets (`analysis::uncalibrated_timing_reason`): they are typical, not this runner's.
pub const TYPICAL_TO_AFTER_TOE_TROUGH_PER_STRIDE: f64 = -0.149;

/// A foot's offsets need the foot-height events of at least this many stances (otherwise the other foot's, or
/// none, are used).
pub const MIN_CALIBRATION_STANCES: usize = 3;

/// Which quantile of a landmark's heights over part of a stance is its level on the belt (low: the foot lifts
/// off the belt, never sinks below it).
pub const BELT_LEVEL_QUANTILE: f64 = 0.2;

/// The contacts of one pass and how they were calibrated.
#[derive(Default)]
struct Calibrated {
    contacts: Vec<FootContact>,
    calibration: Vec<SideCalibration>,
}

/// One Zeni stance's anchors and foot-height events, fractional frames.
#[derive(Clone, Copy, Debug)]
struct StanceTimes {
    heel_peak: f64,
    toe_trough: f64,
    hip_extension_peak: Option<f64>,
    heel_contact: Option<f64>,
    toe_off: Option<f64>,
}

/// Median offsets from the anchors to the foot-height events, frames.
#[derive(Clone, Copy, Debug, Default)]
struct Offsets {
    ic_after_heel_peak: Option<f64>,
    ic_stances: usize,
    to_after_toe_trough: Option<f64>,
    to_after_hip_extension_peak: Option<f64>,
    to_stances: usize,
    /// How far single stances' foot-height events fall from the calibrated events (robust SD, frames).
    ic_scatter: Option<f64>,
    to_scatter: Option<f64>,
}

impl Offsets {
    fn of(stances: &[StanceTimes]) -> Offsets {
        let ic: Vec<f64> = stances
            .iter()
            .filter_map(|s| s.heel_contact.map(|ic| ic - s.heel_peak))
            .collect();
        let to_trough: Vec<f64> = stances
            .iter()
            .filter_map(|s| s.toe_off.map(|to| to - s.toe_trough))
            .collect();
        let to_hip: Vec<f64> = stances
            .iter()
            .filter_map(|s| Some(s.toe_off? - s.hip_extension_peak?))
            .collect();
        let enough = |values: &[f64]| {
            (values.len() >= MIN_CALIBRATION_STANCES)
                .then(|| median(values))
                .flatten()
        };
        let mut offsets = Offsets {
            ic_after_heel_peak: enough(&ic),
            ic_stances: ic.len(),
            to_after_toe_trough: enough(&to_trough),
            to_after_hip_extension_peak: enough(&to_hip),
            to_stances: to_trough.len(),
            ic_scatter: None,
            to_scatter: None,
        };
        // IC is its anchor plus the median offset, so the ICs' scatter is the offsets' own (robust SD ignores a
        // shift); toe-off averages two anchors, so its residuals are taken from the calibrated toe-offs.
        offsets.ic_scatter = offsets.ic_after_heel_peak.and_then(|_| robust_sd(&ic));
        let to_residuals: Vec<f64> = stances
            .iter()
            .filter_map(|s| Some(s.toe_off? - offsets.toe_off(s)?))
            .collect();
        offsets.to_scatter = robust_sd(&to_residuals);
        offsets
    }

    fn report(&self, side: Side, fps: f64) -> SideCalibration {
        let ms = |frames: Option<f64>| frames.map(|f| 1000.0 * f / fps);
        SideCalibration {
            side,
            ic_after_heel_peak_ms: ms(self.ic_after_heel_peak),
            ic_stances: self.ic_stances,
            to_after_toe_trough_ms: ms(self.to_after_toe_trough),
            to_after_hip_extension_peak_ms: ms(self.to_after_hip_extension_peak),
            to_stances: self.to_stances,
            ic_scatter_ms: ms(self.ic_scatter),
            to_scatter_ms: ms(self.to_scatter),
        }
    }

    /// The toe-off of a stance: the mean of its anchors shifted by their offsets.
    fn toe_off(&self, stance: &StanceTimes) -> Option<f64> {
        let estimates: Vec<f64> = [
            self.to_after_toe_trough.map(|offset| stance.toe_trough + offset),
            self.to_after_hip_extension_peak
                .zip(stance.hip_extension_peak)
                .map(|(offset, peak)| peak + offset),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!estimates.is_empty()).then(|| estimates.iter().sum::<f64>() / estimates.len() as f64)
    }
}

/// Every Zeni stance's anchors and foot-height events in `frame`.
fn stance_times(
    tracks: &Tracks,
    frame: &BeltFrame,
    zeni: &[Vec<(f64, f64)>; 2],
    stride_frames: f64,
    leg_px: f64,
) -> [Vec<StanceTimes>; 2] {
    [Side::Left, Side::Right].map(|side| {
        let series = foot_series(tracks, frame, side);
        let thigh_deg = thigh_angle_series(tracks, frame, side);
        let stances = side.of_pair(zeni);
        let heel_above = height_above_belt(&series.heel_up, &series.heel_u, stances, HEEL_LEVEL_WINDOW);
        let toe_above = height_above_belt(&series.toe_up, &series.toe_u, stances, TOE_LEVEL_WINDOW);
        let heel_threshold_px = IC_HEEL_NOISE_FACTOR * on_belt_jitter_px(&heel_above, leg_px);
        let toe_threshold_px = IC_HEEL_NOISE_FACTOR * on_belt_jitter_px(&toe_above, leg_px);
        stances
            .iter()
            .map(|&(heel_peak, toe_trough)| {
                // Contact begins when the first part of the foot reaches the belt: the heel in a rearfoot strike,
                // the ball of the foot in a forefoot strike, whichever comes first in a midfoot strike.
                let heel_contact = first_of(
                    foot_contact(&heel_above, heel_peak, stride_frames, heel_threshold_px),
                    foot_contact(&toe_above, heel_peak, stride_frames, toe_threshold_px),
                );
                StanceTimes {
                    heel_peak,
                    toe_trough,
                    hip_extension_peak: hip_extension_peak(&thigh_deg, heel_peak, toe_trough, stride_frames),
                    heel_contact,
                    toe_off: toe_off(&toe_above, (heel_peak, toe_trough), stride_frames, leg_px),
                }
            })
            .collect()
    })
}

/// The contacts of stances whose anchors are shifted by `offsets` (each foot's own, or the other foot's where
/// its own are missing), with the calibration each foot used.
fn calibrated_contacts(
    tracks: &Tracks,
    times: &[Vec<StanceTimes>; 2],
    offsets: &[Offsets; 2],
    stride_frames: f64,
) -> Calibrated {
    let mut calibrated = Calibrated::default();
    for side in [Side::Left, Side::Right] {
        let own = side.of_pair(offsets);
        let other = side.other().of_pair(offsets);
        calibrated.calibration.push(own.report(side, tracks.fps));
        for stance in side.of_pair(times) {
            let (ic_frame, ic_method) = match (own.ic_after_heel_peak, other.ic_after_heel_peak) {
                (Some(offset), _) => (stance.heel_peak + offset, EventMethod::ZeniCalibratedByFootHeight),
                (None, Some(offset)) => (stance.heel_peak + offset, EventMethod::ZeniCalibratedByOtherFoot),
                (None, None) => (
                    stance.heel_peak + TYPICAL_IC_AFTER_HEEL_PEAK_PER_STRIDE * stride_frames,
                    EventMethod::Zeni,
                ),
            };
            let (to_frame, to_method) = match (own.toe_off(stance), other.toe_off(stance)) {
                (Some(to), _) => (to, EventMethod::ZeniCalibratedByFootHeight),
                (None, Some(to)) => (to, EventMethod::ZeniCalibratedByOtherFoot),
                (None, None) => (
                    stance.toe_trough + TYPICAL_TO_AFTER_TOE_TROUGH_PER_STRIDE * stride_frames,
                    EventMethod::Zeni,
                ),
            };
            if to_frame > ic_frame {
                calibrated
                    .contacts
                    .push(make_contact(tracks, side, ic_frame, to_frame, ic_method, to_method));
            }
        }
    }
    calibrated
}

/// The thigh's angle from vertical in `frame`, degrees, positive when the knee is ahead of the hip (filtered
/// tracks); its minimum near toe-off is the peak of hip extension.
fn thigh_angle_series(tracks: &Tracks, frame: &BeltFrame, side: Side) -> Vec<f64> {
    let (hip, knee) = match side {
        Side::Left => (LandmarkId::LeftHip, LandmarkId::LeftKnee),
        Side::Right => (LandmarkId::RightHip, LandmarkId::RightKnee),
    };
    (0..tracks.frame_count())
        .map(|f| {
            let (hip_u, hip_v) = frame.point(tracks.smooth(hip), f);
            let (knee_u, knee_v) = frame.point(tracks.smooth(knee), f);
            (knee_u - hip_u).atan2(hip_v - knee_v).to_degrees()
        })
        .collect()
}

/// The peak of hip extension (the thigh's least angle) from the middle of the stance to a little past the toe's
/// trough, fractional frame.
fn hip_extension_peak(thigh_deg: &[f64], heel_peak: f64, toe_trough: f64, stride_frames: f64) -> Option<f64> {
    let from = heel_peak + 0.3 * (toe_trough - heel_peak);
    let until = toe_trough + 0.2 * stride_frames;
    extremum_between(thigh_deg, from, until, |a, b| a < b)
}

/// The index of the most extreme finite value of `signal` between `from` and `until` (`better(a, b)`: `a` is
/// more extreme than `b`), parabolically interpolated; `None` at the window's edge (a truncated extremum).
fn extremum_between(signal: &[f64], from: f64, until: f64, better: impl Fn(f64, f64) -> bool) -> Option<f64> {
    let first = from.ceil().max(1.0) as usize;
    let last = (until.floor().max(0.0) as usize).min(signal.len().saturating_sub(2));
    let mut best: Option<(usize, f64)> = None;
    for f in first..=last {
        let value = sample_or_nan(signal, f);
        if value.is_finite() && best.is_none_or(|(_, b)| better(value, b)) {
            best = Some((f, value));
        }
    }
    let (f, value) = best?;
    if f == first || f == last {
        return None;
    }
    let (before, after) = (sample_or_nan(signal, f - 1), sample_or_nan(signal, f + 1));
    let denominator = before - 2.0 * value + after;
    let offset = if before.is_finite() && after.is_finite() && denominator != 0.0 {
        (0.5 * (before - after) / denominator).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(f as f64 + offset)
}

/// A foot landmark's height above the belt, frame by frame, for timing its contacts. The camera roll measured
/// from the stance feet is only good to a degree or two, and as a foot travels back with the belt that error
/// tilts its heights by pixels — as much as the last centimetres of a landing. So in each stance the landmark's
/// heights over `window` (fractions of the Zeni stance) get their own straight belt line along the belt
/// (Theil–Sen, robust to a slipped landmark), lowered to a low quantile of the residuals (the foot lifts off the
/// belt, never sinks into it); that stance's line holds from half-way back to the previous stance to half-way
/// on to the next. NaN where no line could be fitted.
fn height_above_belt(heights: &[f64], along: &[f64], stances: &[(f64, f64)], window: (f64, f64)) -> Vec<f64> {
    let count = heights.len();
    let mut above = vec![f64::NAN; count];
    let starts: Vec<f64> = stances.iter().map(|&(heel_peak, _)| heel_peak).collect();
    for (k, &(heel_peak, toe_trough)) in stances.iter().enumerate() {
        let contact = toe_trough - heel_peak;
        let points = points_between(
            heights,
            along,
            heel_peak + window.0 * contact,
            heel_peak + window.1 * contact,
        );
        let (Some(slope), Some(u_mid)) = (
            theil_sen_slope(&points),
            median(&points.iter().map(|p| p.0).collect::<Vec<f64>>()),
        ) else {
            continue;
        };
        let mut residuals: Vec<f64> = points.iter().map(|(u, h)| h - slope * (u - u_mid)).collect();
        residuals.sort_by(f64::total_cmp);
        let Some(&level) = residuals.get((BELT_LEVEL_QUANTILE * residuals.len() as f64) as usize) else {
            continue;
        };
        let from = k
            .checked_sub(1)
            .and_then(|previous| starts.get(previous))
            .map_or(0.0, |&previous| 0.5 * (previous + heel_peak));
        let until = starts.get(k + 1).map_or(count as f64, |&next| 0.5 * (heel_peak + next));
        for f in (from.ceil().max(0.0) as usize)..(until.ceil().max(0.0) as usize).min(count) {
            if let Some(slot) = above.get_mut(f) {
                *slot = sample_or_nan(heights, f) - level - slope * (sample_or_nan(along, f) - u_mid);
            }
        }
    }
    above
}

/// The (along the belt, height) samples of a landmark between two fractional frames.
fn points_between(heights: &[f64], along: &[f64], from: f64, until: f64) -> Vec<(f64, f64)> {
    (from.ceil().max(0.0) as usize..=until.floor().max(0.0) as usize)
        .map(|f| (sample_or_nan(along, f), sample_or_nan(heights, f)))
        .filter(|(u, h)| u.is_finite() && h.is_finite())
        .collect()
}

/// The median of the slopes between every pair of points (Theil–Sen), `None` with fewer than
/// [`MIN_LEVEL_SAMPLES`] points.
fn theil_sen_slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < MIN_LEVEL_SAMPLES {
        return None;
    }
    let mut slopes = Vec::new();
    for (k, a) in points.iter().enumerate() {
        for b in points.iter().skip(k + 1) {
            if (b.0 - a.0).abs() > f64::EPSILON {
                slopes.push((b.1 - a.1) / (b.0 - a.0));
            }
        }
    }
    median(&slopes)
}

/// Fewest samples a stance level (or its slope) is measured from.
pub const MIN_LEVEL_SAMPLES: usize = 3;

/// Where in a Zeni stance (fractions from the heel's peak to the toe's trough, which spans the contact and some
/// 40 % more) the heel's level on the belt is read: from about contact to before the heel lifts.
pub const HEEL_LEVEL_WINDOW: (f64, f64) = (0.0, 0.5);

/// Where in a Zeni stance the toe's level on the belt is read: the foot flat, before push-off.
pub const TOE_LEVEL_WINDOW: (f64, f64) = (0.2, 0.6);

/// Where `heights` first crosses `threshold` between frames `from` and `until` (downwards for a landing,
/// upwards for a lift-off), linearly interpolated between the two frames.
fn first_crossing(heights: &[f64], from: f64, until: f64, threshold: f64, hinge: Hinge) -> Option<f64> {
    let first = from.floor().max(1.0) as usize;
    let last = (until.ceil().max(0.0) as usize).min(heights.len().saturating_sub(1));
    (first..=last).find_map(|f| {
        let (before, at) = (sample_or_nan(heights, f - 1), sample_or_nan(heights, f));
        let crosses = match hinge {
            Hinge::Landing => before > threshold && at <= threshold,
            Hinge::LiftOff => before <= threshold && at > threshold,
        };
        crosses.then(|| (f - 1) as f64 + (before - threshold) / (before - at))
    })
}

/// The foot's landing: the first frame, around the heel's forward peak, where its lowest point comes down to
/// within `threshold_px` of the belt.
fn foot_contact(above: &[f64], heel_peak: f64, stride_frames: f64, threshold_px: f64) -> Option<f64> {
    first_crossing(
        above,
        heel_peak - 0.2 * stride_frames,
        heel_peak + 0.3 * stride_frames,
        threshold_px,
        Hinge::Landing,
    )
}

/// The earlier of two event times, or the one that exists.
fn first_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The toe leaving the belt: the first frame after mid-stance where the toe rises [`TO_TOE_HEIGHT_PER_LEG`]
/// above its level.
fn toe_off(toe_above: &[f64], (heel_peak, toe_trough): (f64, f64), stride_frames: f64, leg_px: f64) -> Option<f64> {
    first_crossing(
        toe_above,
        heel_peak + 0.5 * (toe_trough - heel_peak),
        toe_trough + 0.1 * stride_frames,
        TO_TOE_HEIGHT_PER_LEG * leg_px,
        Hinge::LiftOff,
    )
}

/// A height series' frame-to-frame jitter while the foot is on the belt, pixels: the robust standard deviation
/// of its second difference (`h[f] − (h[f−1] + h[f+1]) / 2` has √1.5 times the noise of one sample) over the
/// frames within [`ON_BELT_PER_LEG`] of the belt. A foot resting on the belt leaves it near zero; a pose model's
/// jitter does not.
fn on_belt_jitter_px(above: &[f64], leg_px: f64) -> f64 {
    let on_belt = |h: f64| h.abs() < ON_BELT_PER_LEG * leg_px;
    let second_differences: Vec<f64> = above
        .windows(3)
        .filter_map(|window| match *window {
            [before, at, after] if on_belt(before) && on_belt(at) && on_belt(after) => {
                Some(at - 0.5 * (before + after))
            }
            _ => None,
        })
        .collect();
    robust_sd(&second_differences).map_or(0.0, |sd| sd / 1.5f64.sqrt())
}

/// A foot landmark within this fraction of the leg length of its level counts as on the belt when its jitter
/// is measured (a generous bound: the jitter itself is 1-2 %).
pub const ON_BELT_PER_LEG: f64 = 0.05;

/// One stance foot's lowest point in the image, with its group (foot × landmark: the heel and toe landmarks sit at
/// different heights on the same flat foot) and the stance it belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
struct StancePoint {
    group: usize,
    stance: usize,
    x: f64,
    y: f64,
}

/// The image positions of each foot's lowest point over the `(start, end)` fraction of each stance.
fn stance_points(
    lowest: &[Vec<(f64, f64, usize)>; 2],
    stances: &[Vec<(f64, f64)>; 2],
    fraction: (f64, f64),
) -> Vec<StancePoint> {
    let mut points = Vec::new();
    let mut stance = 0;
    for (side_index, (stances, lowest)) in stances.iter().zip(lowest).enumerate() {
        for &(ic, to) in stances {
            let (from, until) = (ic + fraction.0 * (to - ic), ic + fraction.1 * (to - ic));
            for f in (from.ceil() as usize)..=(until.floor() as usize) {
                if let Some(&(x, y, landmark)) = lowest.get(f)
                    && x.is_finite()
                    && y.is_finite()
                {
                    points.push(StancePoint {
                        group: 2 * side_index + landmark,
                        stance,
                        x,
                        y,
                    });
                }
            }
            stance += 1;
        }
    }
    points
}

/// Least-squares slope dy/dx through points with a separate offset per group (foot × landmark); `None` when the points span
/// too little of the image to tell.
fn belt_slope(points: &[StancePoint], leg_px: f64) -> Option<f64> {
    // Theil–Sen: the median of the slopes between pairs of points of the same group that are far enough apart
    // along the belt, robust to the pose model's occasional wild foot landmark.
    let min_dx = MIN_BELT_PAIR_SPAN_PER_LEG * leg_px;
    let mut slopes = Vec::new();
    let mut x_min = f64::INFINITY;
    let mut x_max = f64::NEG_INFINITY;
    for group in 0..4 {
        let members: Vec<&StancePoint> = points.iter().filter(|p| p.group == group).collect();
        for (k, a) in members.iter().enumerate() {
            x_min = x_min.min(a.x);
            x_max = x_max.max(a.x);
            for b in members.iter().skip(k + 1) {
                let dx = b.x - a.x;
                if dx.abs() >= min_dx {
                    slopes.push((b.y - a.y) / dx);
                }
            }
        }
    }
    if slopes.len() < MIN_BELT_SLOPE_PAIRS || x_max - x_min < MIN_BELT_SPAN_PER_LEG * leg_px {
        return None;
    }
    median(&slopes)
}

/// How far the belt line's angle moves with the stances it is measured from, degrees: the jackknife standard error
/// of [`belt_slope`]'s angle, leaving out one stance at a time (one group of every [`ROLL_JACKKNIFE_GROUPS`]th stance
/// at a time where there are more, so that a long clip costs no more than that many fits). A camera that stands
/// still sees every stance foot slide back along the same line, the belt; a camera that follows the runner and
/// bobs, or loose foot landmarks, put each stance on a line of its own. (A camera that pans at a steady rate moves
/// every stance along the same tilted line, and is not told apart.) `None` with fewer than
/// [`MIN_CALIBRATION_STANCES`] stances.
fn belt_roll_error_deg(points: &[StancePoint], leg_px: f64) -> Option<f64> {
    let stances: Vec<usize> = points
        .iter()
        .map(|p| p.stance)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let groups = stances.len().min(ROLL_JACKKNIFE_GROUPS);
    // Every stance point's stance is in `stances`, and `group_of` is only called when there is a group.
    let group_of = |stance: usize| stances.binary_search(&stance).map_or(0, |rank| rank % groups);
    let angles: Vec<f64> = (0..groups)
        .filter_map(|left_out| {
            let rest: Vec<StancePoint> = points
                .iter()
                .copied()
                .filter(|p| group_of(p.stance) != left_out)
                .collect();
            belt_slope(&rest, leg_px).map(|slope| slope.atan().to_degrees())
        })
        .collect();
    if angles.len() < MIN_CALIBRATION_STANCES {
        return None;
    }
    let n = angles.len() as f64;
    let mean = angles.iter().sum::<f64>() / n;
    let squares: f64 = angles.iter().map(|angle| (angle - mean).powi(2)).sum();
    Some(((n - 1.0) / n * squares).sqrt())
}

/// The belt line's jackknife leaves out at most this many groups of stances in turn.
pub const ROLL_JACKKNIFE_GROUPS: usize = 10;

/// Two stance points enter the belt fit as a pair only when this fraction of the leg length apart along it.
pub const MIN_BELT_PAIR_SPAN_PER_LEG: f64 = 0.15;

/// The belt slope needs at least this many point pairs.
pub const MIN_BELT_SLOPE_PAIRS: usize = 10;

/// The stance feet must span at least this fraction of the leg length along the belt to measure its slope.
pub const MIN_BELT_SPAN_PER_LEG: f64 = 0.2;

fn time_of(frame: f64, fps: f64) -> f64 {
    frame / fps
}

fn make_contact(
    tracks: &Tracks,
    side: Side,
    ic_frame: f64,
    to_frame: f64,
    ic_method: EventMethod,
    to_method: EventMethod,
) -> FootContact {
    let (heel, toe, ankle, knee) = foot_ids(side);
    let mut confidence_sum = 0.0;
    let mut confidence_count = 0;
    for f in
        (ic_frame.floor().max(0.0) as usize)..=(to_frame.ceil() as usize).min(tracks.frame_count().saturating_sub(1))
    {
        for id in [heel, toe, ankle, knee] {
            if let Some(visibility) = tracks.raw(id).visibility.get(f) {
                confidence_sum += visibility;
                confidence_count += 1;
            }
        }
    }
    let ic_s = time_of(ic_frame, tracks.fps);
    let to_s = time_of(to_frame, tracks.fps);
    FootContact {
        side,
        ic_s,
        to_s,
        midstance_s: 0.5 * (ic_s + to_s),
        ic_method,
        to_method,
        landmark_confidence: if confidence_count > 0 {
            confidence_sum / confidence_count as f64
        } else {
            0.0
        },
    }
}

/// How far a landing may come before the other foot's toe-off and still count as running (one frame of timing, plus
/// [`DOUBLE_SUPPORT_TOLERANCE_MS`]), seconds.
fn double_support_slack_s(fps: f64) -> f64 {
    DOUBLE_SUPPORT_TOLERANCE_MS / 1000.0 + 1.0 / fps
}

/// Whether more than [`MAX_IMPLAUSIBLE_CONTACT_SHARE`] of the contacts found, `rejected` of them as implausible and
/// `kept` not, were rejected.
pub fn too_many_implausible(rejected: usize, kept: usize) -> bool {
    let found = rejected + kept;
    found > 0 && rejected as f64 > MAX_IMPLAUSIBLE_CONTACT_SHARE * found as f64
}

/// What was wrong with the rejected contacts, counted by kind: "2 shorter than running allows, 1 landing while the
/// other foot is down".
fn rejection_kinds(rejected: &[RejectedContact]) -> String {
    RejectionKind::ALL
        .into_iter()
        .map(|kind| (rejected.iter().filter(|r| r.kind == kind).count(), kind))
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{n} {}", kind.counted()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Drops contacts whose duration is implausible or that overlap the other foot's stance.
fn reject_implausible(
    mut contacts: Vec<FootContact>,
    fps: f64,
    rejected: &mut Vec<RejectedContact>,
) -> Vec<FootContact> {
    contacts.sort_by(|a, b| a.ic_s.total_cmp(&b.ic_s));
    let mut kept: Vec<FootContact> = Vec::new();
    let slack_s = double_support_slack_s(fps);
    for contact in contacts {
        let contact_ms = contact.contact_time_ms();
        let reason = if contact_ms < MIN_CONTACT_TIME_MS {
            Some((
                RejectionKind::TooShort,
                format!("contact of {contact_ms:.0} ms is shorter than running allows ({MIN_CONTACT_TIME_MS:.0} ms)"),
            ))
        } else if contact_ms > MAX_CONTACT_TIME_MS {
            Some((
                RejectionKind::TooLong,
                format!(
                    "contact of {contact_ms:.0} ms is longer than running allows ({MAX_CONTACT_TIME_MS:.0} ms): walking?"
                ),
            ))
        } else if let Some(previous) = kept.last() {
            if previous.side == contact.side && contact.ic_s < previous.to_s {
                Some((
                    RejectionKind::Duplicate,
                    "overlaps the same foot's previous stance (a duplicate)".into(),
                ))
            } else if previous.side != contact.side && contact.ic_s < previous.to_s - slack_s {
                Some((
                    RejectionKind::DoubleSupport,
                    format!(
                        "lands {:.0} ms before the other foot leaves the belt: running has no double support",
                        (previous.to_s - contact.ic_s) * 1000.0
                    ),
                ))
            } else {
                None
            }
        } else {
            None
        };
        match reason {
            Some((kind, reason)) => rejected.push(RejectedContact {
                side: contact.side,
                ic_s: contact.ic_s,
                kind,
                reason,
            }),
            None => kept.push(contact),
        }
    }
    kept
}

fn detect_frontal_view(tracks: &Tracks, leg_px: f64) -> Result<GaitEvents, NoEvents> {
    let level = BeltFrame::level(1.0);
    let series = [Side::Left, Side::Right].map(|side| foot_series(tracks, &level, side));
    let count = tracks.frame_count();
    let fps = tracks.fps;
    let scale = HingeScale::of(tracks, leg_px, None);
    // The belt: a running lower envelope of both feet over about a second (follows a runner moving away).
    let half_window = (0.6 * fps).round() as usize;
    let [left_series, right_series] = &series;
    let belt: Vec<f64> = (0..count)
        .map(|f| {
            let (start, end) = (f.saturating_sub(half_window), (f + half_window + 1).min(count));
            left_series
                .lowest_up
                .iter()
                .zip(&right_series.lowest_up)
                .take(end)
                .skip(start)
                .flat_map(|(left, right)| [*left, *right])
                .filter(|h| h.is_finite())
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let signals = [&left_series.lowest_up[..], &right_series.lowest_up[..]];
    // A stride longer than running's is walking (or a clip in slow motion), measured as such.
    let (stride_s, long_stride) = match stride_period_s(&signals, fps) {
        Some(stride_s) => (stride_s, false),
        None => (
            stride_period_between(&signals, fps, (MAX_STRIDE_S, MAX_WALKING_STRIDE_S)).ok_or_else(|| NoEvents {
                reason: "no repeating stride was found in the foot heights (no running or walking, or the feet \
                         are not tracked)"
                    .into(),
                parts: ClipParts::default(),
            })?,
            true,
        ),
    };
    let stride_frames = stride_s * fps;
    // Each foot's lowest point above the belt, pixels.
    let heights_of = [Side::Left, Side::Right].map(|side| -> Vec<f64> {
        side.of_pair(&series)
            .lowest_up
            .iter()
            .zip(&belt)
            .map(|(lowest, belt)| lowest - belt)
            .collect()
    });
    let mut contacts = Vec::new();
    for side in [Side::Left, Side::Right] {
        let heights = side.of_pair(&heights_of);
        let threshold = CONTACT_HEIGHT_PER_LEG * leg_px * 2.0;
        // `f` stays below `count`, the length of `heights`, wherever a height is read.
        let height = |f: usize| sample_or_nan(heights, f);
        let mut f = 1;
        while f < count {
            if height(f) < threshold && height(f - 1) >= threshold {
                let on = f;
                while f < count && height(f) < threshold {
                    f += 1;
                }
                if f >= count {
                    break;
                }
                let last_on = f - 1;
                let reach = (HINGE_SEARCH_S * fps).max(1.0);
                let ic = hinge_corner(heights, (on as f64 - 1.0, on as f64 + reach), &scale, Hinge::Landing)
                    .unwrap_or(on as f64 - 0.5);
                // Toe-off as in the side view: BlazePose's toe landmark sits over the ball of the foot and rises
                // while the tip of the shoe is still on the belt, so the stance ends where the toe has risen
                // [`TO_TOE_HEIGHT_PER_LEG`] above the belt, not where the foot's lowest landmark leaves it.
                let toe_height: Vec<f64> = side
                    .of_pair(&series)
                    .toe_up
                    .iter()
                    .zip(&belt)
                    .map(|(toe, belt)| toe - belt)
                    .collect();
                let to = first_crossing(
                    &toe_height,
                    last_on as f64 - reach,
                    last_on as f64 + 0.5 * stride_frames,
                    TO_TOE_HEIGHT_PER_LEG * leg_px,
                    Hinge::LiftOff,
                )
                .or_else(|| {
                    hinge_corner(
                        heights,
                        (last_on as f64 - reach, last_on as f64 + 1.0),
                        &scale,
                        Hinge::LiftOff,
                    )
                })
                .unwrap_or(last_on as f64 + 0.5);
                if to > ic && (to - ic) < 0.8 * stride_frames {
                    contacts.push(make_contact(
                        tracks,
                        side,
                        ic,
                        to,
                        EventMethod::FootHeight,
                        EventMethod::FootHeight,
                    ));
                }
            } else {
                f += 1;
            }
        }
    }
    let mut rejected = Vec::new();
    let gait = if long_stride || looks_like_walking(&mut contacts, fps) {
        Gait::Walking
    } else {
        Gait::Running
    };
    let contacts = match gait {
        Gait::Running => reject_implausible(contacts, fps, &mut rejected),
        Gait::Walking => walking_contacts(tracks, &heights_of, stride_frames, leg_px, &mut rejected),
    };
    // A contact, its foot and its midstance come from the feet's heights alone here: where those give
    // implausible contacts, the others are no better, and every measure would be timed by them.
    if gait == Gait::Running && too_many_implausible(rejected.len(), contacts.len()) {
        return Err(NoEvents {
            reason: format!(
                "{} of the {} contacts the feet's heights give are implausible for running ({}): from this camera \
                 they do not show the feet's contacts",
                rejected.len(),
                rejected.len() + contacts.len(),
                rejection_kinds(&rejected)
            ),
            parts: ClipParts::default(),
        });
    }
    // Roll: the line through consecutive opposite stance feet (same distance from the camera, lateral apart).
    // Each foot's heel, toe and ankle are averaged over the middle half of its stance (the same three landmarks
    // on both feet, so their heights above the belt cancel), and the pairs are pooled into one
    // least-squares slope (Σ dx·dy / Σ dx²), so a pair whose feet land close together, where a few pixels of
    // jitter would tilt their line by degrees, counts for little.
    let stance_point = |contact: &FootContact| {
        let quarter = 0.25 * (contact.to_s - contact.ic_s);
        let first = ((contact.ic_s + quarter) * fps).ceil().max(0.0) as usize;
        let last = ((contact.to_s - quarter) * fps).floor().max(0.0) as usize;
        let (heel, toe, ankle, _) = foot_ids(contact.side);
        let points: Vec<(f64, f64)> = (first..=last)
            .flat_map(|f| [heel, toe, ankle].map(|id| tracks.raw(id).xy(f)))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        let n = points.len() as f64;
        (n > 0.0).then(|| {
            let (x, y) = points.iter().fold((0.0, 0.0), |sum, p| (sum.0 + p.0, sum.1 + p.1));
            (x / n, y / n)
        })
    };
    let mut differences = Vec::new();
    for (earlier, later) in contacts.iter().zip(contacts.iter().skip(1)) {
        if earlier.side == later.side {
            continue;
        }
        if let (Some(a), Some(b)) = (stance_point(earlier), stance_point(later)) {
            differences.push((b.0 - a.0, b.1 - a.1));
        }
    }
    let pairs = differences.len();
    let slope = rear_belt_slope(&differences);
    // Where the feet cannot give it, the trunk's mean axis over the clip is taken as vertical (a steady runner's
    // side-to-side trunk lean evens out over each stride).
    let roll_rad = slope.map_or_else(|| trunk_roll_rad(tracks), f64::atan);
    Ok(GaitEvents {
        belt: BeltLine {
            frame: BeltFrame {
                roll_rad,
                forward_sign: 1.0,
            },
            camera_roll_deg: roll_rad.to_degrees(),
            roll_measured: slope.is_some(),
            point_count: pairs,
            roll_error_deg: None,
        },
        contacts,
        rejected,
        stride_estimate_s: Some(stride_s),
        calibration: Vec::new(),
        parts: ClipParts::default(),
        gait,
    })
}

/// Whether most contacts are walking's: longer than running allows, or overlapping the other foot's stance
/// (double support). Sorts `contacts` by initial contact.
fn looks_like_walking(contacts: &mut [FootContact], fps: f64) -> bool {
    contacts.sort_by(|a, b| a.ic_s.total_cmp(&b.ic_s));
    let slack_s = double_support_slack_s(fps);
    let walking = contacts
        .iter()
        .enumerate()
        .filter(|&(k, contact)| {
            let overlaps = contacts
                .iter()
                .skip(k + 1)
                .find(|next| next.side != contact.side)
                .is_some_and(|next| next.ic_s < contact.to_s - slack_s);
            overlaps || contact.contact_time_ms() > MAX_CONTACT_TIME_MS
        })
        .count();
    contacts.len() >= 2 && 2 * walking > contacts.len()
}

/// Walking's contacts, from the swings. Each foot's swing is a peak of its height above the belt (smoothed over
/// a tenth of the stride, at least [`SWING_HEIGHT_PER_LEG`] of the leg high, one per stride); it lifts off and
/// lands where it is within [`WALKING_SWING_EDGE`] of its peak's height from the belt. That swing is the other
/// foot's single support, and its middle is that foot's midstance (a walking foot is highest early in its swing,
/// so the peak itself would sample too early). The stance foot's IC is where its own previous swing landed and
/// its TO where its next swing lifts off, when those lie within 30 % of a stride outside the single support (10 %
/// inside it); otherwise the single support's own edges stand in.
/// Walking has double support, so stances overlap. `heights_of`: per side, pixels above the belt.
fn walking_contacts(
    tracks: &Tracks,
    heights_of: &[Vec<f64>; 2],
    stride_frames: f64,
    leg_px: f64,
    rejected: &mut Vec<RejectedContact>,
) -> Vec<FootContact> {
    let fps = tracks.fps;
    let smoothed = heights_of
        .each_ref()
        .map(|heights| moving_mean(heights, (0.05 * stride_frames).round() as usize));
    let lowest_swing = SWING_HEIGHT_PER_LEG * leg_px;
    let half_window = (0.4 * stride_frames).round().max(1.0) as usize;
    let reach = 0.6 * stride_frames;
    // Per side, each swing as (lift-off, landing), fractional frames.
    let swings = smoothed.each_ref().map(|heights| {
        local_peaks(heights, half_window, 1)
            .into_iter()
            .filter_map(|peak| {
                let height = sample_or_nan(heights, peak.round() as usize);
                if height.is_nan() || height < lowest_swing {
                    return None;
                }
                swing_edges(heights, peak, reach, WALKING_SWING_EDGE * height)
            })
            .collect::<Vec<(f64, f64)>>()
    });
    let mut contacts = Vec::new();
    for swing_side in [Side::Left, Side::Right] {
        let stance_side = swing_side.other();
        let own_swings = stance_side.of_pair(&swings);
        for &(lift, land) in swing_side.of_pair(&swings) {
            let middle = 0.5 * (lift + land);
            // The stance foot lands a little before the other lifts off (double support) and lifts off a
            // little after it lands; where its own swing is not found there, single support's edge stands in.
            let (early, late) = (0.3 * stride_frames, 0.1 * stride_frames);
            let ic = own_swings
                .iter()
                .rev()
                .map(|own| own.1)
                .find(|&landing| (lift - early..=lift + late).contains(&landing))
                .unwrap_or(lift);
            let to = own_swings
                .iter()
                .map(|own| own.0)
                .find(|&lifting| (land - late..=land + early).contains(&lifting))
                .unwrap_or(land);
            if !(ic < middle && middle < to) {
                rejected.push(RejectedContact {
                    side: stance_side,
                    ic_s: time_of(lift, fps),
                    kind: RejectionKind::ShortSwing,
                    reason: "the other foot's swing is too short to hold a midstance: a tracking glitch".into(),
                });
                continue;
            }
            let mut contact = make_contact(
                tracks,
                stance_side,
                ic,
                to,
                EventMethod::FootHeight,
                EventMethod::FootHeight,
            );
            contact.midstance_s = time_of(middle, fps);
            contacts.push(contact);
        }
    }
    contacts.sort_by(|a, b| a.ic_s.total_cmp(&b.ic_s));
    contacts
}

/// A swing's lift-off and landing around its peak (fractional frames): where `heights` comes down through `level`
/// going back from the peak and going on from it, each within `reach` frames ([`first_crossing`] both ways, the
/// way back on the reversed series). `None` where the foot stays above `level` within reach.
fn swing_edges(heights: &[f64], peak: f64, reach: f64, level: f64) -> Option<(f64, f64)> {
    let at_peak = peak.round() as usize;
    let before: Vec<f64> = heights.iter().take(at_peak + 1).rev().copied().collect();
    let back = first_crossing(&before, 0.0, reach, level, Hinge::Landing)?;
    let land = first_crossing(heights, peak, peak + reach, level, Hinge::Landing)?;
    Some((at_peak as f64 - back, land))
}

/// The mean of `signal` over ± `half_window` samples, ignoring NaN (NaN where the window holds no number).
fn moving_mean(signal: &[f64], half_window: usize) -> Vec<f64> {
    (0..signal.len())
        .map(|f| {
            let finite: Vec<f64> = signal
                .iter()
                .take(f + half_window + 1)
                .skip(f.saturating_sub(half_window))
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if finite.is_empty() {
                f64::NAN
            } else {
                finite.iter().sum::<f64>() / finite.len() as f64
            }
        })
        .collect()
}

/// The rear view's belt slope from the differences (dx, dy) between consecutive opposite stance feet, image
/// pixels: the least-squares slope through the origin (Σ dx·dy / Σ dx²), so that pairs whose feet land close
/// together count for little. `None` when its standard error is above [`MAX_REAR_ROLL_ERROR_DEG`] (feet that
/// land close together or cross, and jitter) or there are too few pairs.
fn rear_belt_slope(differences: &[(f64, f64)]) -> Option<f64> {
    if differences.len() < MIN_REAR_ROLL_PAIRS {
        return None;
    }
    let sum_xx: f64 = differences.iter().map(|(dx, _)| dx * dx).sum();
    if sum_xx <= 0.0 {
        return None;
    }
    let slope = differences.iter().map(|(dx, dy)| dx * dy).sum::<f64>() / sum_xx;
    let residual: f64 = differences.iter().map(|(dx, dy)| (dy - slope * dx).powi(2)).sum();
    let standard_error = (residual / (differences.len() - 1) as f64 / sum_xx).sqrt();
    (standard_error.atan().to_degrees() <= MAX_REAR_ROLL_ERROR_DEG).then_some(slope)
}

/// The camera roll that makes the trunk's mean axis (hip midpoint → shoulder midpoint, image) vertical, radians;
/// 0 when the trunk is not seen.
fn trunk_roll_rad(tracks: &Tracks) -> f64 {
    let (mut dx, mut dy) = (0.0, 0.0);
    for f in 0..tracks.frame_count() {
        let mid = |a: LandmarkId, b: LandmarkId| {
            let (pa, pb) = (tracks.smooth(a).xy(f), tracks.smooth(b).xy(f));
            (0.5 * (pa.0 + pb.0), 0.5 * (pa.1 + pb.1))
        };
        let hip = mid(LandmarkId::LeftHip, LandmarkId::RightHip);
        let shoulder = mid(LandmarkId::LeftShoulder, LandmarkId::RightShoulder);
        let (x, y) = (shoulder.0 - hip.0, hip.1 - shoulder.1);
        if x.is_finite() && y.is_finite() && y > 0.0 {
            dx += x;
            dy += y;
        }
    }
    // The belt's direction (1, tan roll) in image coordinates (y down) is square to the upright (tan roll, −1):
    // an upright trunk leans to the image right by tan roll per pixel of height.
    if dy > 0.0 { (dx / dy).atan() } else { 0.0 }
}

/// At least this many pairs of consecutive stance feet to measure the roll in a rear view.
pub const MIN_REAR_ROLL_PAIRS: usize = 4;

/// The rear view's roll from the stance feet is used only when its standard error is at most this, degrees (a
/// quarter of the ±2° a rear-view angle must hold; runform default).
pub const MAX_REAR_ROLL_ERROR_DEG: f64 = 0.5;

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_SCALE: HingeScale = HingeScale {
        fps: 60.0,
        gravity_px_per_frame2: 1.0,
        flight_frames: None,
    };

    /// Alternating contacts every `step_s` seconds, each `contact_s` long.
    fn alternating(step_s: f64, contact_s: f64) -> Vec<FootContact> {
        (0..8)
            .map(|k| {
                let ic_s = step_s * k as f64;
                FootContact {
                    side: if k % 2 == 0 { Side::Left } else { Side::Right },
                    ic_s,
                    to_s: ic_s + contact_s,
                    midstance_s: ic_s + 0.5 * contact_s,
                    ic_method: EventMethod::FootHeight,
                    to_method: EventMethod::FootHeight,
                    landmark_confidence: 0.9,
                }
            })
            .collect()
    }

    #[test]
    fn uncalibrated_events_are_the_anchors_shifted_by_the_typical_share_of_the_stride() {
        use crate::synthetic::{Corruption, SyntheticRunner};
        let sequence = SyntheticRunner {
            duration_s: 6.0,
            ..SyntheticRunner::default()
        }
        .generate(&Corruption::default())
        .sequence;
        let settings = crate::analysis::AnalysisSettings::default();
        let tracks = crate::track::build_tracks(&sequence, &settings.track_options());
        let leg_px = tracks.leg_length_px.expect("leg length");
        let part = measure_side_view(&tracks, leg_px).expect("a running part");
        let stride_frames = part.stride_s * tracks.fps;
        // No foot calibrated: every stance's events are its anchors shifted by the typical offsets. (They are
        // not compared with the synthetic runner's calibrated events: its toe and heel points are drawn, not a
        // pose model's, and sit differently at contact; the typical offsets are checked on real footage, in
        // tests/labels.rs.)
        let typical = calibrated_contacts(&tracks, &part.times, &[Offsets::default(); 2], stride_frames);
        assert!(typical.contacts.len() >= 12, "{} contacts", typical.contacts.len());
        let stances: Vec<&StanceTimes> = part.times.iter().flatten().collect();
        assert_eq!(typical.contacts.len(), stances.len());
        for (contact, stance) in typical.contacts.iter().zip(stances) {
            assert_eq!(
                (contact.ic_method, contact.to_method),
                (EventMethod::Zeni, EventMethod::Zeni)
            );
            let ic_shift = contact.ic_s * tracks.fps - stance.heel_peak;
            let to_shift = contact.to_s * tracks.fps - stance.toe_trough;
            assert!((ic_shift - TYPICAL_IC_AFTER_HEEL_PEAK_PER_STRIDE * stride_frames).abs() < 1e-6);
            assert!((to_shift - TYPICAL_TO_AFTER_TOE_TROUGH_PER_STRIDE * stride_frames).abs() < 1e-6);
        }
        // One foot calibrated: the other foot takes its offsets, not the typical ones.
        let own = Offsets::of(part.times.first().expect("left stances"));
        let by_other = calibrated_contacts(&tracks, &part.times, &[own, Offsets::default()], stride_frames);
        assert!(
            by_other
                .contacts
                .iter()
                .filter(|contact| contact.side == Side::Right)
                .all(|contact| contact.ic_method == EventMethod::ZeniCalibratedByOtherFoot)
        );
    }

    #[test]
    fn a_stance_found_by_two_overlapping_parts_is_kept_once() {
        let contacts = alternating(0.35, 0.25);
        let mut twice = contacts.clone();
        // The second part finds the fourth stance again, a little differently timed.
        let mut again = contacts[3].clone();
        again.ic_s += 0.01;
        again.to_s += 0.02;
        twice.insert(4, again);
        assert_eq!(without_repeated_stances(twice), contacts);
        // The other foot's stance overlapping in time (double support) is not a repeat.
        assert_eq!(without_repeated_stances(alternating(0.545, 0.65)).len(), 8);
    }

    #[test]
    fn each_implausible_contact_is_rejected_with_its_kind() {
        // 170 steps/min, 250 ms contacts, then one of each kind of implausible contact (60 fps).
        let mut contacts = alternating(0.353, 0.25);
        let contact = |side, ic_s: f64, contact_s: f64| FootContact {
            side,
            ic_s,
            to_s: ic_s + contact_s,
            midstance_s: ic_s + 0.5 * contact_s,
            ..contacts[0].clone()
        };
        let (left, right) = (Side::Left, Side::Right);
        contacts.extend([
            contact(left, 10.0, 0.05),
            contact(right, 11.0, 0.6),
            // A left stance, the same stance found again, and a right foot landing 100 ms before it leaves.
            contact(left, 12.0, 0.25),
            contact(left, 12.1, 0.25),
            contact(right, 12.15, 0.25),
        ]);
        let mut rejected = Vec::new();
        let kept = reject_implausible(contacts, 60.0, &mut rejected);
        assert_eq!(kept.len(), 9);
        let kinds: Vec<RejectionKind> = rejected.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                RejectionKind::TooShort,
                RejectionKind::TooLong,
                RejectionKind::Duplicate,
                RejectionKind::DoubleSupport
            ]
        );
        assert!(
            rejected[3].reason.contains("100 ms before the other foot leaves"),
            "{}",
            rejected[3].reason
        );
        assert_eq!(
            rejection_kinds(&rejected),
            "1 shorter than running allows, 1 longer than running allows, 1 overlapping the same foot's previous \
             stance, 1 landing while the other foot is down"
        );
    }

    #[test]
    fn implausible_contacts_are_counted_by_kind() {
        let rejected = |kind| RejectedContact {
            side: Side::Left,
            ic_s: 1.0,
            kind,
            reason: "its reason".into(),
        };
        let list = [
            rejected(RejectionKind::TooShort),
            rejected(RejectionKind::DoubleSupport),
            rejected(RejectionKind::TooShort),
        ];
        assert_eq!(
            rejection_kinds(&list),
            "2 shorter than running allows, 1 landing while the other foot is down"
        );
        // Half of six is too many, a quarter is not, nor are the few a clean clip rejects.
        assert!(too_many_implausible(3, 3));
        assert!(!too_many_implausible(1, 3));
        assert!(!too_many_implausible(2, 58));
        assert!(!too_many_implausible(0, 0));
    }

    #[test]
    fn double_support_is_walking_and_a_flight_phase_is_running() {
        // Running: 170 steps/min, 250 ms contacts, a flight between them.
        assert!(!looks_like_walking(&mut alternating(0.353, 0.25), 60.0));
        // Walking at 110 steps/min: 650 ms contacts, each overlapping the next by about 100 ms.
        assert!(looks_like_walking(&mut alternating(0.545, 0.65), 60.0));
        // A slow jog with short contacts, none overlapping: running.
        assert!(!looks_like_walking(&mut alternating(0.5, 0.45), 30.0));
    }

    #[test]
    fn a_swing_lifts_off_and_lands_where_it_crosses_the_level_either_way() {
        let signal = [0.0, 1.0, 4.0, 9.0, 4.0, 1.0, 0.0];
        // Back from the peak at 3: 4 → 1 passes 2 a third of the way from frame 2 to 1; on: from 4 to 5.
        let (lift, land) = swing_edges(&signal, 3.0, 3.0, 2.0).expect("a swing");
        assert!((lift - (2.0 - 2.0 / 3.0)).abs() < 1e-12, "{lift}");
        assert!((land - (4.0 + 2.0 / 3.0)).abs() < 1e-12, "{land}");
        // Never below the level within reach: no swing.
        assert_eq!(swing_edges(&signal, 3.0, 3.0, -1.0), None);
        assert_eq!(swing_edges(&signal, 3.0, 1.0, 2.0), None);
    }

    #[test]
    fn the_rear_belt_slope_pools_pairs_and_refuses_an_uncertain_one() {
        // Feet 40 px apart, alternating sides, on a belt rolled by 2°: exact.
        let slope = 2f64.to_radians().tan();
        let exact: Vec<(f64, f64)> = (0..10)
            .map(|k| {
                let dx = if k % 2 == 0 { 40.0 } else { -40.0 };
                (dx, slope * dx)
            })
            .collect();
        let found = rear_belt_slope(&exact).expect("a slope");
        assert!((found - slope).abs() < 1e-12, "{found}");
        // Feet 10 px apart with ±1 px of jitter on each pair: the slope's standard error is degrees, so no slope.
        let crossing: Vec<(f64, f64)> = (0..10)
            .map(|k| {
                let dx = if k % 2 == 0 { 10.0 } else { -10.0 };
                (dx, slope * dx + if k % 3 == 0 { 1.0 } else { -1.0 })
            })
            .collect();
        assert_eq!(rear_belt_slope(&crossing), None);
        // Too few pairs.
        assert_eq!(rear_belt_slope(exact.get(..3).unwrap_or_default()), None);
    }

    /// Twelve stances, alternating feet, each foot's lowest point sliding back 150 px over 11 frames; stance `k`
    /// slides along a line tilted by `tilt_deg(k)`, at its own height, with ±0.5 px of jitter.
    fn stance_tracks(tilt_deg: impl Fn(usize) -> f64) -> Vec<StancePoint> {
        let mut points = Vec::new();
        for stance in 0..12 {
            let slope = tilt_deg(stance).to_radians().tan();
            for f in 0..11 {
                let x = 400.0 - 15.0 * f as f64;
                let jitter = if (stance + f) % 2 == 0 { 0.5 } else { -0.5 };
                points.push(StancePoint {
                    group: 2 * (stance % 2),
                    stance,
                    x,
                    y: 600.0 + 3.0 * stance as f64 + slope * x + jitter,
                });
            }
        }
        points
    }

    #[test]
    fn a_still_cameras_stance_feet_agree_on_the_belt_line_and_a_following_cameras_do_not() {
        let leg_px = 300.0;
        // A camera on a tripod rolled by 3°: every stance foot slides along the belt.
        let still = stance_tracks(|_| 3.0);
        let roll = belt_slope(&still, leg_px).expect("a belt line").atan().to_degrees();
        assert!((roll - 3.0).abs() < 0.1, "{roll}");
        let error = belt_roll_error_deg(&still, leg_px).expect("enough stances");
        assert!(error < 0.1, "{error}");
        // A camera that follows the runner: each stance's track is the camera's path, tilted anew each time
        // (-5° to +11° around the same 3°).
        let following = stance_tracks(|stance| 3.0 + 8.0 * (stance as f64 * 1.3).sin());
        let error = belt_roll_error_deg(&following, leg_px).expect("enough stances");
        assert!(error > MAX_UPRIGHT_ROLL_ERROR_DEG, "{error}");
        // Too few stances to tell.
        let two: Vec<StancePoint> = still.iter().copied().filter(|p| p.stance < 2).collect();
        assert_eq!(belt_roll_error_deg(&two, leg_px), None);
    }

    #[test]
    fn hinge_finds_a_sub_frame_landing() {
        // Descends at 3 px/frame onto the belt at frame 10.4.
        let heights: Vec<f64> = (0..20).map(|f| (3.0 * (10.4 - f as f64)).max(0.0)).collect();
        let corner = hinge_corner(&heights, (9.0, 12.0), &TEST_SCALE, Hinge::Landing).expect("a corner");
        assert!((corner - 10.4).abs() < 0.06, "{corner}");
        let rising: Vec<f64> = (0..20).map(|f| (2.0 * (f as f64 - 7.3)).max(0.0)).collect();
        let corner = hinge_corner(&rising, (5.0, 9.0), &TEST_SCALE, Hinge::LiftOff).expect("a corner");
        assert!((corner - 7.3).abs() < 0.06, "{corner}");
    }

    #[test]
    fn peaks_are_interpolated_between_frames() {
        let signal: Vec<f64> = (0..100)
            .map(|f| (2.0 * std::f64::consts::PI * (f as f64 - 0.3) / 40.0).cos())
            .collect();
        let found = peaks(&signal, 12);
        assert!(found.iter().any(|p| (p - 40.3).abs() < 0.05), "{found:?}");
    }

    #[test]
    fn a_toe_trough_cut_short_by_the_end_of_the_frames_is_no_stance() {
        // Stride of 20 frames: the heel's forward peaks at 5, 25, 45 …, the toe's backward troughs 10 frames later.
        let ahead = |f: usize| (2.0 * std::f64::consts::PI * f as f64 / 20.0).sin();
        let series = |toe_ahead: Vec<f64>| FootSeries {
            heel_ahead: (0..toe_ahead.len()).map(ahead).collect(),
            toe_ahead,
            lowest_up: Vec::new(),
            lowest_image: Vec::new(),
            heel_up: Vec::new(),
            toe_up: Vec::new(),
            heel_u: Vec::new(),
            toe_u: Vec::new(),
        };
        let whole: Vec<(f64, f64)> = zeni_stances(&series((0..72).map(ahead).collect()), 20.0);
        let rounded = |stances: &[(f64, f64)]| -> Vec<(i64, i64)> {
            stances
                .iter()
                .map(|(ic, to)| (ic.round() as i64, to.round() as i64))
                .collect()
        };
        assert_eq!(rounded(&whole), vec![(5, 15), (25, 35), (45, 55)]);
        // The frames end at 54 with the toe half-way back, held still from frame 50 on (hidden, or a glitch): frame
        // 50 passes for a trough half as far after the heel's peak as the others, and that stance is dropped.
        let held: Vec<f64> = (0..54).map(|f| ahead(f.min(50))).collect();
        assert_eq!(rounded(&zeni_stances(&series(held), 20.0)), vec![(5, 15), (25, 35)]);
    }

    #[test]
    fn a_stride_is_not_read_as_two_when_the_second_scores_higher() {
        // 25 fps, a stride of 18 frames, and a component that repeats only every two strides (as where the pose model
        // mixes up the feet for a few frames of one stride): the autocorrelation scores lag 36 at 1.0 and lag 18 at
        // (1 - 0.5²) / (1 + 0.5²) = 0.6, under the 0.85 of the best that the first stride needed before.
        let signal: Vec<f64> = (0..300)
            .map(|f| {
                let phase = 2.0 * std::f64::consts::PI * f as f64 / 18.0;
                phase.sin() + 0.5 * (0.5 * phase).sin()
            })
            .collect();
        let stride_frames = |signal: &[f64]| 25.0 * stride_period_s(&[signal], 25.0).expect("a stride");
        let stride = stride_frames(&signal);
        assert!((stride - 18.0).abs() < 0.5, "stride {stride:.1} frames");
        // A signal that only repeats every 36 frames scores negative at 18 and keeps its stride.
        let slow: Vec<f64> = (0..300)
            .map(|f| (2.0 * std::f64::consts::PI * f as f64 / 36.0).sin())
            .collect();
        let stride = stride_frames(&slow);
        assert!((stride - 36.0).abs() < 0.5, "stride {stride:.1} frames");
    }
}
