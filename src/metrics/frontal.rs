//! The lower limb from behind (rear or front view only), the measures a physical therapist looks at in a runner
//! with hip or knee pain (Souza 2016, PM&R Clin N Am 27:217, posterior view):
//!
//! - **knee frontal-plane projection angle at midstance** (dynamic valgus): the angle between the thigh (hip →
//!   knee) and the shank (knee → ankle) in the picture, positive when the knee is medial of the hip–ankle line
//!   (Willson & Davis 2008, J Orthop Sports Phys Ther 38:606, who measured it in running);
//! - **step width**: the sideways distance between the heels of two consecutive stance feet at their midstances,
//!   positive when each foot is on its own side, negative when they cross (a "scissoring" gait);
//! - **foot placement against the midline**: each stance heel's sideways distance from the runner's midline (the
//!   hip midpoint averaged over the stride around the step), positive on its own side, negative when it lands
//!   across the midline (the crossover sign; Souza 2016: from behind, the feet should not overlap);
//! - **heel whip**: the largest tilt of the toe → heel line from vertical in initial swing, positive when the heel
//!   swings medially (Souza et al. 2015, PM&R 7:823); only where the frame rate can catch it
//!   ([`MIN_FPS_FOR_HEEL_WHIP`]).
//!
//! Angles are measured in the belt frame (camera roll removed). Distances are given as % of the leg length and,
//! with the runner's height, in centimetres. The leg length here is the frontal view's own: in a picture from
//! behind, the thigh and shank look shorter whenever they lean forward or back, so the clip's median
//! (`leg_length_px`) under-reads them; each segment's longest projection around the step (a high quantile over a
//! stride, where it passes through vertical) is its length. Taking it around the step also follows a runner who
//! moves away from the camera and shrinks in the picture.

use super::series::{mean_visibility, sample_at, samples_between};
use super::{MetricId, Step, StepContext};
use crate::landmarks::LandmarkId;
use crate::track::{BeltFrame, Side, Tracks, median};

/// Below this frame rate the heel whip is absent: it rises and falls within about 0.15 s of toe-off, which at
/// 30 fps is four frames, and its peak falls between them (runform default; Souza et al. 2015 filmed at a
/// higher rate \[unverified\]).
pub const MIN_FPS_FOR_HEEL_WHIP: f64 = 60.0;

/// How long after toe-off the heel whip is looked for, seconds: initial swing, about the first third of a
/// running swing.
pub const HEEL_WHIP_WINDOW_S: f64 = 0.15;

/// Which quantile of a segment's projected length over a stride is taken as its length: high, because the
/// projection is never longer than the segment (and passes through its full length twice per stride), but
/// short of the maximum, which a single jittered frame sets.
pub const SEGMENT_LENGTH_QUANTILE: f64 = 0.9;

/// One leg's per-frame frontal-plane series (NaN where a landmark is missing).
#[derive(Clone, Debug, Default)]
pub struct FrontalLegSeries {
    /// The knee's projection angle, degrees, positive = valgus (knee medial of the hip–ankle line).
    pub knee_projection_deg: Vec<f64>,
    /// The heel across the picture (the belt frame's `u`), pixels.
    pub heel_across_px: Vec<f64>,
    /// The toe → heel line's tilt from vertical, degrees, positive when the heel is medial of the toe.
    pub heel_whip_deg: Vec<f64>,
    /// Hip → knee in the picture, pixels.
    pub thigh_px: Vec<f64>,
    /// Knee → ankle in the picture, pixels.
    pub shank_px: Vec<f64>,
}

/// The frontal-plane series of both legs.
#[derive(Clone, Debug, Default)]
pub struct FrontalSeries {
    /// Left and right legs.
    pub legs: [FrontalLegSeries; 2],
    /// The hip midpoint across the picture, pixels.
    pub hip_mid_across_px: Vec<f64>,
    /// Per side, +1 when the leg's own side (away from the midline) is towards larger `u`, −1 when towards
    /// smaller; `None` when the hips were never seen. From behind the runner's left is on the picture's left;
    /// from the front, on its right.
    pub outward_sign: Option<[f64; 2]>,
}

impl FrontalSeries {
    /// Computes the series from the filtered tracks in `frame`.
    pub fn new(tracks: &Tracks, frame: &BeltFrame) -> FrontalSeries {
        let count = tracks.frame_count();
        let point = |id: LandmarkId, f: usize| frame.point(tracks.smooth(id), f);
        let hip_gaps: Vec<f64> = (0..count)
            .map(|f| point(LandmarkId::LeftHip, f).0 - point(LandmarkId::RightHip, f).0)
            .filter(|gap| gap.is_finite())
            .collect();
        let outward_sign = median(&hip_gaps)
            .filter(|gap| *gap != 0.0)
            .map(|gap| [gap.signum(), -gap.signum()]);
        let hip_mid_across_px = (0..count)
            .map(|f| 0.5 * (point(LandmarkId::LeftHip, f).0 + point(LandmarkId::RightHip, f).0))
            .collect();
        let legs = [Side::Left, Side::Right].map(|side| {
            let ids = super::series::LegIds::of(side);
            // Medial is against the leg's outward direction; NaN when it is unknown.
            let outward = outward_sign.map_or(f64::NAN, |signs| *side.of_pair(&signs));
            // A segment's angle from vertical, positive when its lower end is medial of its upper end.
            let medial_tilt = |upper: (f64, f64), lower: (f64, f64)| {
                (-(lower.0 - upper.0) * outward).atan2(upper.1 - lower.1).to_degrees()
            };
            let mut series = FrontalLegSeries::default();
            for f in 0..count {
                let hip = point(ids.hip, f);
                let knee = point(ids.knee, f);
                let ankle = point(ids.ankle, f);
                let heel = point(ids.heel, f);
                let toe = point(ids.toe, f);
                series
                    .knee_projection_deg
                    .push(medial_tilt(hip, knee) - medial_tilt(knee, ankle));
                series.heel_across_px.push(heel.0);
                // The toe → heel line, read like a segment hanging from the heel: positive when the heel is
                // medial of the toe.
                series.heel_whip_deg.push(-medial_tilt(heel, toe));
                series.thigh_px.push((knee.0 - hip.0).hypot(knee.1 - hip.1));
                series.shank_px.push((ankle.0 - knee.0).hypot(ankle.1 - knee.1));
            }
            series
        });
        FrontalSeries {
            legs,
            hip_mid_across_px,
            outward_sign,
        }
    }
}

/// The `q` quantile (0..1) of the finite values, linearly interpolated; `None` if there are none.
fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    finite.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * finite.len().checked_sub(1)? as f64;
    let below = position.floor() as usize;
    let low = *finite.get(below)?;
    let high = finite.get(below + 1).copied().unwrap_or(low);
    Some(low + (position - below as f64) * (high - low))
}

/// The frontal view's leg length (thigh + shank) around `time_s`, pixels: each segment's
/// [`SEGMENT_LENGTH_QUANTILE`] over `time_s ± half_window_s`, both legs.
fn frontal_leg_length_px(series: &FrontalSeries, time_s: f64, half_window_s: f64, fps: f64) -> Option<f64> {
    let segment = |pick: fn(&FrontalLegSeries) -> &Vec<f64>| {
        let values: Vec<f64> = series
            .legs
            .iter()
            .flat_map(|leg| samples_between(pick(leg), time_s - half_window_s, time_s + half_window_s, fps))
            .collect();
        quantile(&values, SEGMENT_LENGTH_QUANTILE)
    };
    let length = segment(|leg| &leg.thigh_px)? + segment(|leg| &leg.shank_px)?;
    (length > 1.0).then_some(length)
}

/// The most extreme value of `series` (largest magnitude) from `start_s` to `end_s`, refined by a parabola
/// through its neighbours.
fn extreme_between(series: &[f64], start_s: f64, end_s: f64, fps: f64) -> Option<f64> {
    let first = (start_s * fps).ceil().max(0.0) as usize;
    let last = ((end_s * fps).floor().max(0.0) as usize).min(series.len().saturating_sub(1));
    let (index, value) = (first..=last)
        .filter_map(|f| series.get(f).map(|v| (f, *v)))
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    let neighbours = (
        index.checked_sub(1).and_then(|f| series.get(f)).copied(),
        series.get(index + 1).copied(),
    );
    let (Some(before), Some(after)) = neighbours else {
        return Some(value);
    };
    let curvature = before - 2.0 * value + after;
    if !before.is_finite() || !after.is_finite() || curvature == 0.0 {
        return Some(value);
    }
    let offset = (0.5 * (before - after) / curvature).clamp(-0.5, 0.5);
    Some(value - 0.25 * (before - after) * offset)
}

/// Adds the frontal-plane lower-limb metrics of one step.
pub fn step_metrics(context: &StepContext, step: &mut Step) {
    let contact = context.contact;
    let kinematics = context.kinematics;
    let frontal = &kinematics.frontal;
    let fps = kinematics.fps;
    let side = contact.side;
    let ids = super::series::LegIds::of(side);
    let leg = side.of_pair(&frontal.legs);
    let midstance = contact.midstance_s;
    let knee_confidence = mean_visibility(context.tracks, &[ids.hip, ids.knee, ids.ankle], midstance, midstance);
    step.put(
        MetricId::KneeProjectionAngleMidstanceDeg,
        sample_at(&leg.knee_projection_deg, midstance, fps),
        knee_confidence,
    );
    if fps >= MIN_FPS_FOR_HEEL_WHIP {
        let heel_confidence = mean_visibility(
            context.tracks,
            &[ids.heel, ids.toe],
            contact.to_s,
            contact.to_s + HEEL_WHIP_WINDOW_S,
        );
        step.put(
            MetricId::HeelWhipDeg,
            extreme_between(&leg.heel_whip_deg, contact.to_s, contact.to_s + HEEL_WHIP_WINDOW_S, fps),
            heel_confidence,
        );
    }
    // Foot placement needs the next step (for its width and for a stride around this one) and the sides' order.
    let (Some(next), Some(outward)) = (context.next_other, frontal.outward_sign) else {
        return;
    };
    let step_s = next.ic_s - contact.ic_s;
    let Some(leg_px) = frontal_leg_length_px(frontal, midstance, step_s, fps) else {
        return;
    };
    let outward = *side.of_pair(&outward);
    let heel = sample_at(&leg.heel_across_px, midstance, fps);
    let next_heel = sample_at(&next.side.of_pair(&frontal.legs).heel_across_px, next.midstance_s, fps);
    let midline = samples_between(&frontal.hip_mid_across_px, midstance - step_s, midstance + step_s, fps);
    let midline = (!midline.is_empty()).then(|| midline.iter().sum::<f64>() / midline.len() as f64);
    let from_midline_px = heel.zip(midline).map(|(heel, midline)| (heel - midline) * outward);
    let width_px = heel.zip(next_heel).map(|(heel, next)| (heel - next) * outward);
    let next_ids = super::series::LegIds::of(next.side);
    let placement_confidence = 0.5
        * (mean_visibility(context.tracks, &[ids.heel, ids.hip], midstance, midstance)
            + mean_visibility(
                context.tracks,
                &[next_ids.heel, next_ids.hip],
                next.midstance_s,
                next.midstance_s,
            ));
    let pct = |px: Option<f64>| px.map(|px| 100.0 * px / leg_px);
    step.put(MetricId::StepWidthPctLegLength, pct(width_px), placement_confidence);
    step.put(
        MetricId::FootFromMidlinePctLegLength,
        pct(from_midline_px),
        placement_confidence,
    );
    // Centimetres: the clip's leg length in centimetres (from the height) over this step's leg length in pixels.
    if let (Some(clip_leg_px), Some(px_per_cm)) = (context.tracks.leg_length_px, context.tracks.px_per_cm) {
        let leg_cm = clip_leg_px / px_per_cm;
        let cm = |px: Option<f64>| px.map(|px| px / leg_px * leg_cm);
        step.put(MetricId::StepWidthCm, cm(width_px), placement_confidence);
        step.put(MetricId::FootFromMidlineCm, cm(from_midline_px), placement_confidence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extreme_is_refined_between_frames() {
        // A parabola peaking at −4 at frame 5.3.
        let series: Vec<f64> = (0..10).map(|f| -4.0 + 0.5 * (f as f64 - 5.3).powi(2)).collect();
        let extreme = extreme_between(&series, 4.0 / 10.0, 7.0 / 10.0, 10.0).expect("an extreme");
        assert!((extreme + 4.0).abs() < 1e-9, "{extreme}");
    }
}
