//! Gait events: initial contact (IC) and toe-off (TO) of each foot, with sub-frame timing, the belt line and
//! camera roll they imply, and the phases that follow from them (stance, swing, midstance, terminal stance).
//!
//! Side view, in three passes:
//! 1. **Zeni** (Zeni, Richards & Higginson 2008, Gait Posture 27:710): IC at each peak of the heel's position
//!    ahead of the pelvis along the direction of travel, TO at each trough of the toe's. Peaks are found in the
//!    filtered tracks with parabolic sub-frame interpolation. This is the backbone: it needs no belt line and
//!    segments the clip into strides.
//! 2. **Belt line and camera roll**: the foot's lowest point (heel or toe) in the middle of each Zeni stance lies
//!    on the belt. A least-squares line with one slope and one offset per foot (the far foot may sit higher in the
//!    image when the camera is above the belt) gives the camera roll; everything after is measured in the
//!    belt-aligned [`BeltFrame`].
//! 3. **Refinement by foot height** (after Fellin 2010, J Sci Med Sport 13:646, who time IC from the heel's
//!    lowest point): Zeni's position peaks lead the true IC in running by a frame or two, because the swinging
//!    foot starts moving back before it lands. Around each Zeni event the height of the foot's lowest point
//!    above the belt is fitted with a hinge — a straight descent onto a flat stance for IC, a flat stance then
//!    a straight rise for TO — and the hinge's corner is the event, to a twentieth of a frame. Where the
//!    refinement fails (foot out of frame, no clear contact) the Zeni time is kept and the event says so.
//!
//! Rear view: the direction of travel is along the camera axis, so Zeni does not apply; stance is where the
//! foot's lowest point is within a contact threshold of the belt (a running lower envelope of both feet) and the
//! same hinge fits time IC and TO.
//!
//! Implausible contacts are rejected with a reason: contact shorter or longer than running allows, and any
//! stance that overlaps the other foot's stance (running has no double support).

use serde::{Deserialize, Serialize};

use crate::landmarks::LandmarkId;
use crate::track::{BeltFrame, Side, Tracks, View, median, sample_or_nan};

/// Shortest plausible running contact, milliseconds (sprinters ~80 ms).
pub const MIN_CONTACT_TIME_MS: f64 = 80.0;
/// Longest plausible running contact, milliseconds (slow jogging ~350 ms; walking ~600 ms).
pub const MAX_CONTACT_TIME_MS: f64 = 500.0;
/// Shortest stride searched for, seconds (240 steps/min).
pub const MIN_STRIDE_S: f64 = 0.5;
/// Longest stride searched for, seconds (80 steps/min: walking still gives events, which are then rejected).
pub const MAX_STRIDE_S: f64 = 1.5;
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

/// A contact must stay on the belt at least this long to count (at least two frames), seconds.
pub const SUSTAINED_CONTACT_S: f64 = 0.04;

/// How an event time was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventMethod {
    /// Zeni's position peak, refined by the hinge fit of the foot's height above the belt.
    ZeniRefinedByFootHeight,
    /// Zeni's position peak alone (the refinement failed).
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
    /// Why it was rejected, in plain words.
    pub reason: String,
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
    /// The stride period the detector searched with, seconds.
    pub stride_estimate_s: Option<f64>,
}

/// Why no events could be found at all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NoEvents {
    /// Plain words.
    pub reason: String,
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
}

fn foot_series(tracks: &Tracks, frame: &BeltFrame, side: Side) -> FootSeries {
    let (heel_id, toe_id, _, _) = foot_ids(side);
    let count = tracks.frame_count();
    // Filled by pushing one value per frame, so every series has exactly `count` entries.
    let mut series = FootSeries {
        heel_ahead: Vec::with_capacity(count),
        toe_ahead: Vec::with_capacity(count),
        lowest_up: Vec::with_capacity(count),
        lowest_image: Vec::with_capacity(count),
        heel_up: Vec::with_capacity(count),
        toe_up: Vec::with_capacity(count),
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
        let heel = tracks.raw(heel_id);
        let toe = tracks.raw(toe_id);
        let heel_up = frame.point(heel, f).1;
        let toe_up = frame.point(toe, f).1;
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
    }
    series
}

/// The stride period from the autocorrelation of a periodic signal, seconds.
fn stride_period_s(signals: &[&[f64]], fps: f64) -> Option<f64> {
    let min_lag = (MIN_STRIDE_S * fps).floor() as usize;
    let max_lag = (MAX_STRIDE_S * fps).ceil() as usize;
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
    let index = scores.iter().enumerate().position(|(k, &(_, here))| {
        let previous = score_before(k).map_or(f64::NEG_INFINITY, |s| s.1);
        let next = scores.get(k + 1).map_or(f64::NEG_INFINITY, |s| s.1);
        here >= 0.85 * best && here >= previous && here >= next
    })?;
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
/// position, as fractional frame indices.
fn peaks(signal: &[f64], half_window: usize) -> Vec<f64> {
    let mut found = Vec::new();
    // Every frame but the first and last, with both neighbours: window `k` holds frames k, k + 1 and k + 2.
    for (k, window) in signal.windows(3).enumerate() {
        let &[a, value, c] = window else {
            continue;
        };
        let f = k + 1;
        if !value.is_finite() {
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
        // A peak at the clip's edge may be a truncated rise: require the window to be inside the clip.
        if is_peak && f >= half_window / 2 && f + half_window / 2 < signal.len() {
            let b = value;
            let denominator = a - 2.0 * b + c;
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
        });
    };
    match view {
        View::Side | View::Oblique => detect_side_view(tracks, leg_px),
        View::Rear | View::Front => detect_frontal_view(tracks, leg_px),
    }
}

/// Coarse Zeni events of one foot: (IC, TO) as fractional frames, in pairs.
fn zeni_stances(series: &FootSeries, stride_frames: f64) -> Vec<(f64, f64)> {
    let half_window = (0.3 * stride_frames).round() as usize;
    let ics = peaks(&series.heel_ahead, half_window);
    let negated: Vec<f64> = series.toe_ahead.iter().map(|v| -v).collect();
    let tos = peaks(&negated, half_window);
    ics.iter()
        .filter_map(|&ic| {
            tos.iter()
                .copied()
                .find(|&to| to > ic && to < ic + 0.8 * stride_frames)
                .map(|to| (ic, to))
        })
        .collect()
}

fn detect_side_view(tracks: &Tracks, leg_px: f64) -> Result<GaitEvents, NoEvents> {
    let forward_sign = tracks.detection.facing.map_or(1.0, |facing| facing.sign());
    let level = BeltFrame::level(forward_sign);
    let series = [Side::Left, Side::Right].map(|side| foot_series(tracks, &level, side));
    let stride_s =
        stride_period_s(&[&series[0].heel_ahead, &series[1].heel_ahead], tracks.fps).ok_or_else(|| NoEvents {
            reason: "no repeating stride was found in the foot positions (no running, or the feet are not tracked)"
                .into(),
        })?;
    let stride_frames = stride_s * tracks.fps;
    let zeni = [
        zeni_stances(&series[0], stride_frames),
        zeni_stances(&series[1], stride_frames),
    ];
    // Belt line: the lowest foot points in the middle of each stance lie on it. The first pass takes the
    // stances from Zeni's events (which lead the true contact), the later ones from the refined events; each
    // pass also re-picks the lowest point (heel or toe) in the last pass's frame.
    let mut stances = zeni.clone();
    let mut roll_rad = 0.0;
    let mut roll_measured = false;
    let mut point_count = 0;
    let mut contacts = Vec::new();
    let mut frame = BeltFrame::level(forward_sign);
    let mut flight_frames = None;
    for pass in 0..BELT_FIT_PASSES {
        let lowest = [Side::Left, Side::Right].map(|side| foot_series(tracks, &frame, side).lowest_image);
        // Zeni's stances lead the true ones, so only their middle is surely on the belt; the refined stances
        // are on the belt from end to end.
        let fraction = if pass == 0 { (0.3, 0.7) } else { (0.1, 0.9) };
        let points = stance_points(&lowest, &stances, fraction);
        point_count = points.len();
        if let Some(slope) = belt_slope(&points, leg_px) {
            roll_rad = slope.atan();
            roll_measured = true;
        }
        frame = BeltFrame { roll_rad, forward_sign };
        contacts = refined_contacts(tracks, &frame, &zeni, &stances, stride_frames, leg_px, flight_frames);
        flight_frames = median_flight_frames(&contacts, tracks.fps);
        stances = [Side::Left, Side::Right].map(|side| {
            contacts
                .iter()
                .filter(|c| c.side == side && c.ic_method == EventMethod::ZeniRefinedByFootHeight)
                .map(|c| (c.ic_s * tracks.fps, c.to_s * tracks.fps))
                .collect()
        });
    }
    let mut rejected = Vec::new();
    let contacts = reject_implausible(contacts, tracks.fps, &mut rejected);
    Ok(GaitEvents {
        belt: BeltLine {
            frame,
            camera_roll_deg: roll_rad.to_degrees(),
            roll_measured,
            point_count,
        },
        contacts,
        rejected,
        stride_estimate_s: Some(stride_s),
    })
}

/// Passes of the belt-line fit and event refinement (the first from Zeni's stances, then from refined ones).
pub const BELT_FIT_PASSES: usize = 3;

/// The median flight time between consecutive contacts of opposite feet, frames.
fn median_flight_frames(contacts: &[FootContact], fps: f64) -> Option<f64> {
    let mut sorted: Vec<&FootContact> = contacts.iter().collect();
    sorted.sort_by(|a, b| a.ic_s.total_cmp(&b.ic_s));
    let flights: Vec<f64> = sorted
        .iter()
        .zip(sorted.iter().skip(1))
        .filter(|(earlier, later)| earlier.side != later.side)
        .map(|(earlier, later)| (later.ic_s - earlier.to_s) * fps)
        .filter(|flight| *flight > 0.0)
        .collect();
    median(&flights)
}

/// Every Zeni stance refined by the foot height in `frame`; `stances` say where the feet are on the belt.
fn refined_contacts(
    tracks: &Tracks,
    frame: &BeltFrame,
    zeni: &[Vec<(f64, f64)>; 2],
    stances: &[Vec<(f64, f64)>; 2],
    stride_frames: f64,
    leg_px: f64,
    flight_frames: Option<f64>,
) -> Vec<FootContact> {
    let scale = HingeScale::of(tracks, leg_px, flight_frames);
    let series = [Side::Left, Side::Right].map(|side| foot_series(tracks, frame, side));
    let mut contacts = Vec::new();
    for side in [Side::Left, Side::Right] {
        let stances = side.of_pair(stances);
        let heights = heights_above_belt(side.of_pair(&series), stances);
        let threshold = contact_threshold(&heights, stances, leg_px);
        for &(zeni_ic, zeni_to) in side.of_pair(zeni) {
            let refined_ic = refine_ic(&heights, zeni_ic, stride_frames, threshold, &scale);
            let (ic_frame, ic_method) = match refined_ic {
                Some(ic) => (ic, EventMethod::ZeniRefinedByFootHeight),
                None => (zeni_ic, EventMethod::Zeni),
            };
            let refined_to = refine_to(&heights, ic_frame, stride_frames, threshold, &scale);
            let (to_frame, to_method) = match refined_to {
                Some(to) if to > ic_frame => (to, EventMethod::ZeniRefinedByFootHeight),
                _ => (zeni_to, EventMethod::Zeni),
            };
            contacts.push(make_contact(tracks, side, ic_frame, to_frame, ic_method, to_method));
        }
    }
    contacts
}

/// The image positions of each foot's lowest point over the `(start, end)` fraction of each stance, grouped by
/// foot and landmark (heel or toe: their landmarks sit at different heights on the same flat foot).
fn stance_points(
    lowest: &[Vec<(f64, f64, usize)>; 2],
    stances: &[Vec<(f64, f64)>; 2],
    fraction: (f64, f64),
) -> Vec<(usize, f64, f64)> {
    let mut points = Vec::new();
    for (side_index, (stances, lowest)) in stances.iter().zip(lowest).enumerate() {
        for &(ic, to) in stances {
            let (from, until) = (ic + fraction.0 * (to - ic), ic + fraction.1 * (to - ic));
            for f in (from.ceil() as usize)..=(until.floor() as usize) {
                if let Some(&(x, y, landmark)) = lowest.get(f)
                    && x.is_finite()
                    && y.is_finite()
                {
                    points.push((2 * side_index + landmark, x, y));
                }
            }
        }
    }
    points
}

/// Least-squares slope dy/dx through points with a separate offset per group (foot × landmark); `None` when the points span
/// too little of the image to tell.
fn belt_slope(points: &[(usize, f64, f64)], leg_px: f64) -> Option<f64> {
    // Theil–Sen: the median of the slopes between pairs of points of the same group that are far enough apart
    // along the belt, robust to the pose model's occasional wild foot landmark.
    let min_dx = MIN_BELT_PAIR_SPAN_PER_LEG * leg_px;
    let mut slopes = Vec::new();
    let mut x_min = f64::INFINITY;
    let mut x_max = f64::NEG_INFINITY;
    for group in 0..4 {
        let members: Vec<(f64, f64)> = points.iter().filter(|p| p.0 == group).map(|p| (p.1, p.2)).collect();
        for (k, a) in members.iter().enumerate() {
            x_min = x_min.min(a.0);
            x_max = x_max.max(a.0);
            for b in members.iter().skip(k + 1) {
                let dx = b.0 - a.0;
                if dx.abs() >= min_dx {
                    slopes.push((b.1 - a.1) / dx);
                }
            }
        }
    }
    if slopes.len() < MIN_BELT_SLOPE_PAIRS || x_max - x_min < MIN_BELT_SPAN_PER_LEG * leg_px {
        return None;
    }
    median(&slopes)
}

/// Two stance points enter the belt fit as a pair only when this fraction of the leg length apart along it.
pub const MIN_BELT_PAIR_SPAN_PER_LEG: f64 = 0.15;

/// The belt slope needs at least this many point pairs.
pub const MIN_BELT_SLOPE_PAIRS: usize = 10;

/// The stance feet must span at least this fraction of the leg length along the belt to measure its slope.
pub const MIN_BELT_SPAN_PER_LEG: f64 = 0.2;

/// Height of the foot above the belt, pixels: the lower of heel and toe, each relative to its own level on the
/// belt. Each landmark's level is a low quantile of its height over the middle of the Zeni stances (the heel
/// and toe landmarks of a flat foot need not be equally high in the image: the near foot's toe landmark of a
/// low camera sits well below its heel).
fn heights_above_belt(series: &FootSeries, stances: &[(f64, f64)]) -> Vec<f64> {
    let level = |heights: &[f64]| {
        let mut stance = Vec::new();
        for &(ic, to) in stances {
            let (from, until) = (ic + 0.2 * (to - ic), ic + 0.8 * (to - ic));
            for f in (from.ceil() as usize)..=(until.floor() as usize) {
                if let Some(&h) = heights.get(f).filter(|h| h.is_finite()) {
                    stance.push(h);
                }
            }
        }
        stance.sort_by(f64::total_cmp);
        stance
            .get((BELT_LEVEL_QUANTILE * stance.len() as f64) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let heel_level = level(&series.heel_up);
    let toe_level = level(&series.toe_up);
    series
        .heel_up
        .iter()
        .zip(&series.toe_up)
        .map(|(heel, toe)| (heel - heel_level).min(toe - toe_level))
        .collect()
}

/// Which quantile of a landmark's stance-phase heights is its level on the belt (low: the foot is on the
/// belt for only part of the window, and lifts off it, never sinks below it).
pub const BELT_LEVEL_QUANTILE: f64 = 0.2;

/// The contact threshold, pixels: a fraction of the leg plus three times the stance jitter.
fn contact_threshold(heights: &[f64], stances: &[(f64, f64)], leg_px: f64) -> f64 {
    let mut mid: Vec<f64> = Vec::new();
    for &(ic, to) in stances {
        let (from, until) = (ic + 0.3 * (to - ic), ic + 0.7 * (to - ic));
        for f in (from.ceil() as usize)..=(until.floor() as usize) {
            if let Some(&h) = heights.get(f) {
                mid.push(h.abs());
            }
        }
    }
    // Median absolute deviation → standard deviation for Gaussian jitter.
    let jitter = median(&mid).unwrap_or(0.0) * 1.4826;
    CONTACT_HEIGHT_PER_LEG * leg_px + 3.0 * jitter
}

fn refine_ic(heights: &[f64], zeni_ic: f64, stride_frames: f64, threshold: f64, scale: &HingeScale) -> Option<f64> {
    let fps = scale.fps;
    let from = (zeni_ic - 0.15 * stride_frames).max(1.0) as usize;
    let until = ((zeni_ic + 0.3 * stride_frames) as usize).min(heights.len().saturating_sub(1));
    // Runs on the belt after a frame clearly off it, single-frame blips above the threshold bridged (pose
    // jitter). A swinging foot may dip close to the belt for a frame or two before it lands, so the stance is
    // the earliest run at least half as long as the longest one.
    let sustain = ((SUSTAINED_CONTACT_S * fps).round() as usize).max(2);
    let below = |g: usize| heights.get(g).is_some_and(|h| *h < threshold);
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut f = from;
    while f <= until {
        if below(f) && !below(f - 1) {
            let start = f;
            // A blip is bridged only inside an established run, never between a dip and the landing.
            while below(f) || (f - start >= sustain && below(f + 1)) {
                f += 1;
            }
            runs.push((start, f - start));
        } else {
            f += 1;
        }
    }
    let longest = runs.iter().map(|run| run.1).max()?;
    let (first_on, _) = runs.into_iter().find(|run| run.1 >= sustain && 2 * run.1 >= longest)?;
    let reach = (HINGE_SEARCH_S * fps).max(1.0);
    let corner = hinge_corner(
        heights,
        (first_on as f64 - 1.0, first_on as f64 + reach),
        scale,
        Hinge::Landing,
    )?;
    (corner > from as f64 - 1.0 && corner < until as f64 + 1.0).then_some(corner)
}

fn refine_to(heights: &[f64], ic_frame: f64, stride_frames: f64, threshold: f64, scale: &HingeScale) -> Option<f64> {
    let fps = scale.fps;
    let start = ic_frame.ceil() as usize;
    let until = ((ic_frame + 0.6 * stride_frames) as usize).min(heights.len().saturating_sub(1));
    // The last frame on the belt: skip single-frame blips above the threshold.
    let mut last_on = None;
    let mut f = start;
    while f <= until {
        if sample_or_nan(heights, f) < threshold || (f < until && sample_or_nan(heights, f + 1) < threshold) {
            last_on = Some(f);
            f += 1;
        } else {
            break;
        }
    }
    let last_on = last_on?;
    if last_on >= until {
        return None;
    }
    let reach = (HINGE_SEARCH_S * fps).max(1.0);
    hinge_corner(
        heights,
        (last_on as f64 - reach, last_on as f64 + 1.0),
        scale,
        Hinge::LiftOff,
    )
}

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

/// Drops contacts whose duration is implausible or that overlap the other foot's stance.
fn reject_implausible(
    mut contacts: Vec<FootContact>,
    fps: f64,
    rejected: &mut Vec<RejectedContact>,
) -> Vec<FootContact> {
    contacts.sort_by(|a, b| a.ic_s.total_cmp(&b.ic_s));
    let mut kept: Vec<FootContact> = Vec::new();
    let slack_s = DOUBLE_SUPPORT_TOLERANCE_MS / 1000.0 + 1.0 / fps;
    for contact in contacts {
        let contact_ms = contact.contact_time_ms();
        let reason = if contact_ms < MIN_CONTACT_TIME_MS {
            Some(format!(
                "contact of {contact_ms:.0} ms is shorter than running allows ({MIN_CONTACT_TIME_MS:.0} ms)"
            ))
        } else if contact_ms > MAX_CONTACT_TIME_MS {
            Some(format!(
                "contact of {contact_ms:.0} ms is longer than running allows ({MAX_CONTACT_TIME_MS:.0} ms): walking?"
            ))
        } else if let Some(previous) = kept.last() {
            if previous.side == contact.side && contact.ic_s < previous.to_s {
                Some("overlaps the same foot's previous stance (a duplicate)".into())
            } else if previous.side != contact.side && contact.ic_s < previous.to_s - slack_s {
                Some(format!(
                    "lands {:.0} ms before the other foot leaves the belt: running has no double support",
                    (previous.to_s - contact.ic_s) * 1000.0
                ))
            } else {
                None
            }
        } else {
            None
        };
        match reason {
            Some(reason) => rejected.push(RejectedContact {
                side: contact.side,
                ic_s: contact.ic_s,
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
    let stride_s =
        stride_period_s(&[&left_series.lowest_up, &right_series.lowest_up], fps).ok_or_else(|| NoEvents {
            reason: "no repeating stride was found in the foot heights (no running, or the feet are not tracked)"
                .into(),
        })?;
    let stride_frames = stride_s * fps;
    let mut contacts = Vec::new();
    for side in [Side::Left, Side::Right] {
        let heights: Vec<f64> = side
            .of_pair(&series)
            .lowest_up
            .iter()
            .zip(&belt)
            .map(|(lowest, belt)| lowest - belt)
            .collect();
        let threshold = CONTACT_HEIGHT_PER_LEG * leg_px * 2.0;
        // `f` stays below `count`, the length of `heights`, wherever a height is read.
        let height = |f: usize| sample_or_nan(&heights, f);
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
                let ic = hinge_corner(&heights, (on as f64 - 1.0, on as f64 + reach), &scale, Hinge::Landing)
                    .unwrap_or(on as f64 - 0.5);
                let to = hinge_corner(
                    &heights,
                    (last_on as f64 - reach, last_on as f64 + 1.0),
                    &scale,
                    Hinge::LiftOff,
                )
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
    let contacts = reject_implausible(contacts, fps, &mut rejected);
    // Roll: slope between consecutive opposite stance feet (same distance from the camera, lateral apart).
    let mut slopes = Vec::new();
    for (earlier, later) in contacts.iter().zip(contacts.iter().skip(1)) {
        if earlier.side == later.side {
            continue;
        }
        let point = |contact: &FootContact| {
            let index = (contact.midstance_s * fps).round().max(0.0) as usize;
            contact.side.of_pair(&series).lowest_image.get(index).copied()
        };
        if let (Some(a), Some(b)) = (point(earlier), point(later))
            && (b.0 - a.0).abs() > MIN_REAR_FOOT_SPREAD_PER_LEG * leg_px
        {
            slopes.push((b.1 - a.1) / (b.0 - a.0));
        }
    }
    let slope = median(&slopes);
    let roll_rad = slope.map_or(0.0, f64::atan);
    Ok(GaitEvents {
        belt: BeltLine {
            frame: BeltFrame {
                roll_rad,
                forward_sign: 1.0,
            },
            camera_roll_deg: roll_rad.to_degrees(),
            roll_measured: slope.is_some(),
            point_count: slopes.len(),
        },
        contacts,
        rejected,
        stride_estimate_s: Some(stride_s),
    })
}

/// In a rear view, stance feet must be at least this fraction of the leg length apart sideways to measure roll.
pub const MIN_REAR_FOOT_SPREAD_PER_LEG: f64 = 0.08;

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_SCALE: HingeScale = HingeScale {
        fps: 60.0,
        gravity_px_per_frame2: 1.0,
        flight_frames: None,
    };

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
}
