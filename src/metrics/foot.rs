//! Foot and shank at initial contact: the foot strike angle (sole to belt, positive toes up) with its
//! rearfoot/midfoot/forefoot class (Altman & Davis 2012 thresholds, configurable), the tibia angle (shank from
//! vertical, positive when the ankle is ahead of the knee), and overstride (heel ahead of the hip midpoint,
//! as % of thigh + shank length, and in centimetres when a scale is known).
//!
//! BlazePose's heel and toe (`foot_index`) landmarks stand in for the sole, and the angle is their line against the
//! belt at initial contact, with no reference subtracted. Altman & Davis measure the angle relative to a standing
//! trial, which a running clip lacks; an earlier version subtracted each foot's own landmark angle at midstance
//! (where a running foot is flat) as a stand-in, but BlazePose's foot landmarks are not a rigid sole: in flat
//! stance its toe landmark sits 12-20° below the heel's line on the labelled clips, while at contact the
//! landmark line matches the hand-measured sole angle to a few degrees (`tests/labels/`, docs/metrics.md). So
//! the subtraction added 12-25° to every step.

use serde::{Deserialize, Serialize};

use super::series::{LegIds, mean_visibility, sample_at};
use super::{FootStrikeClass, MetricId, Step, StepContext};
use crate::track::Side;

/// BlazePose's step-to-step error in the foot strike angle, degrees (SD). On the hand-labelled gym treadmill clip
/// (`tests/labels/`) the labelled angles of a leg vary by SD 1.7° (near foot) and 2.7° (far foot) from step to
/// step, while runform's per-step angles vary by 5.0° and 3.5° at 60 fps and 5.8–6.1° and 4.4° at 30 fps: the
/// part of the spread a steady runner does not make is 2–6°. Used by [`classify_strikes`].
pub const FOOT_ANGLE_STEP_NOISE_DEG: f64 = 5.0;

/// A side needs at least this many measured foot strike angles for [`classify_strikes`] to read its steps'
/// classes against the side's median; with fewer, each step's class is its own angle's.
pub const CLASSIFY_MIN_STEPS: usize = 3;

/// Sets each measured step's foot strike class from its angle shrunk toward its side's median by the share of the
/// side's step-to-step spread that is measurement noise ([`FOOT_ANGLE_STEP_NOISE_DEG`]), the empirical-Bayes
/// estimate of the step's true angle: `median + k × (angle − median)` with `k = max(0, s² − σ²) / s²`, where `s` is
/// the side's SD of per-step angles and `σ` the noise.
///
/// A class decided from one noisy angle flips between rearfoot, midfoot and forefoot from step to step when a
/// runner lands near a class line, although the runner does not change (the gym clip's near foot lands at about
/// 2°, in a midfoot band 9.6° wide, and its raw angles put 4 of its 8 steps outside it). Where a side's steps
/// spread no more than the noise, every step gets the class of the side's median; where they spread much more (a
/// runner who mixes patterns), each keeps nearly its own angle's class. The per-step angles themselves are left as
/// measured. Steps outside the measured running parts, and sides with fewer than [`CLASSIFY_MIN_STEPS`] angles,
/// keep their own angle's class.
pub fn classify_strikes(steps: &mut [Step], thresholds_deg: (f64, f64)) {
    for side in [Side::Left, Side::Right] {
        let angles: Vec<f64> = steps
            .iter()
            .filter(|step| step.side == side && step.measured)
            .filter_map(|step| step.values.get(&MetricId::FootStrikeAngleDeg).copied())
            .collect();
        if angles.len() < CLASSIFY_MIN_STEPS {
            continue;
        }
        let Some(median) = crate::track::median(&angles) else {
            continue;
        };
        let Some(stats) = super::Stats::of(&angles) else {
            continue;
        };
        let variance = stats.sd * stats.sd;
        let noise = FOOT_ANGLE_STEP_NOISE_DEG * FOOT_ANGLE_STEP_NOISE_DEG;
        let keep = if variance > noise {
            (variance - noise) / variance
        } else {
            0.0
        };
        for step in steps.iter_mut().filter(|step| step.side == side && step.measured) {
            if let Some(&angle) = step.values.get(&MetricId::FootStrikeAngleDeg) {
                step.foot_strike_class = Some(FootStrikeClass::of(median + keep * (angle - median), thresholds_deg));
            }
        }
    }
}

/// Adds the foot metrics of one step.
pub fn step_metrics(context: &StepContext, step: &mut Step) {
    let contact = context.contact;
    let kinematics = context.kinematics;
    let leg = kinematics.leg(contact.side);
    let ids = LegIds::of(contact.side);
    let fps = kinematics.fps;
    let ic = contact.ic_s;
    let foot_confidence = mean_visibility(context.tracks, &[ids.heel, ids.toe], ic, ic);
    let strike = sample_at(&leg.sole_deg, ic, fps);
    step.put(MetricId::FootStrikeAngleDeg, strike, foot_confidence);
    step.foot_strike_class = strike.map(|angle| FootStrikeClass::of(angle, context.strike_thresholds_deg));
    let shank_confidence = mean_visibility(context.tracks, &[ids.knee, ids.ankle], ic, ic);
    step.put(
        MetricId::TibiaAngleIcDeg,
        sample_at(&leg.shank_deg, ic, fps),
        shank_confidence,
    );
    let heel_ahead_px = sample_at(&leg.heel_ahead_px, ic, fps);
    let overstride_confidence = mean_visibility(context.tracks, &[ids.heel, ids.hip], ic, ic);
    if let Some(leg_px) = context.tracks.leg_length_px {
        step.put(
            MetricId::OverstridePctLegLength,
            heel_ahead_px.map(|px| 100.0 * px / leg_px),
            overstride_confidence,
        );
    }
    if let Some(px_per_cm) = context.tracks.px_per_cm {
        step.put(
            MetricId::OverstrideCm,
            heel_ahead_px.map(|px| px / px_per_cm),
            overstride_confidence,
        );
    }
}

/// One leg's foot strike pattern over its measured steps: the commonest class among its steps' classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StrikePattern {
    /// The leg.
    pub side: Side,
    /// Its commonest foot strike class.
    pub class: FootStrikeClass,
    /// How many of its measured steps have that class.
    pub steps: usize,
    /// How many of its measured steps have a class.
    pub of: usize,
}

/// Each leg's foot strike pattern over its measured steps (legs without a classed step are left out).
pub fn strike_patterns(steps: &[Step]) -> Vec<StrikePattern> {
    [Side::Left, Side::Right]
        .into_iter()
        .filter_map(|side| {
            let classes: Vec<FootStrikeClass> = steps
                .iter()
                .filter(|step| step.side == side && step.measured)
                .filter_map(|step| step.foot_strike_class)
                .collect();
            let count = |class: FootStrikeClass| classes.iter().filter(|&&c| c == class).count();
            let class = [
                FootStrikeClass::Rearfoot,
                FootStrikeClass::Midfoot,
                FootStrikeClass::Forefoot,
            ]
            .into_iter()
            .max_by_key(|&class| count(class))
            .filter(|_| !classes.is_empty())?;
            Some(StrikePattern {
                side,
                class,
                steps: count(class),
                of: classes.len(),
            })
        })
        .collect()
}

/// Each leg's foot strike pattern in words: "left rearfoot on 9 of 9 steps, right midfoot on 8 of 8 steps".
pub fn strike_pattern_words(patterns: &[StrikePattern]) -> String {
    patterns
        .iter()
        .map(|pattern| {
            format!(
                "{} {} on {} of {} step{}",
                crate::report::csv::enum_text(&pattern.side),
                crate::report::csv::enum_text(&pattern.class),
                pattern.steps,
                pattern.of,
                if pattern.of == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::events::EventMethod;

    fn step(side: Side, class: Option<FootStrikeClass>, measured: bool) -> Step {
        Step {
            index: 0,
            measured,
            side,
            ic_s: 0.0,
            to_s: 0.25,
            midstance_s: 0.12,
            ic_method: EventMethod::ZeniCalibratedByFootHeight,
            to_method: EventMethod::ZeniCalibratedByFootHeight,
            foot_strike_class: class,
            landmark_confidence: 0.9,
            values: BTreeMap::new(),
            withheld: BTreeMap::new(),
            confidence: BTreeMap::new(),
        }
    }

    #[test]
    fn the_strike_pattern_is_each_legs_commonest_class_over_its_measured_steps() {
        use FootStrikeClass::{Forefoot, Midfoot, Rearfoot};
        let steps = [
            step(Side::Left, Some(Rearfoot), true),
            step(Side::Left, Some(Rearfoot), true),
            step(Side::Left, Some(Midfoot), true),
            step(Side::Left, Some(Forefoot), false),
            step(Side::Left, Some(Forefoot), false),
            step(Side::Right, Some(Midfoot), true),
            step(Side::Right, None, true),
        ];
        assert_eq!(
            strike_pattern_words(&strike_patterns(&steps)),
            "left rearfoot on 2 of 3 steps, right midfoot on 1 of 1 step"
        );
        assert_eq!(
            strike_pattern_words(&strike_patterns(&steps[5..6])),
            "right midfoot on 1 of 1 step"
        );
        assert_eq!(strike_pattern_words(&strike_patterns(&steps[6..])), "");
    }
}
