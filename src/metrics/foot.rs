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
        let angles = measured_angles(steps, side);
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

/// The foot strike angles of `side`'s measured steps that have one.
fn measured_angles(steps: &[Step], side: Side) -> Vec<f64> {
    steps
        .iter()
        .filter(|step| step.side == side && step.measured)
        .filter_map(|step| step.values.get(&MetricId::FootStrikeAngleDeg).copied())
        .collect()
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
    /// The median of its measured steps' foot strike angles, degrees.
    pub median_deg: f64,
    /// The class across the nearest class line, when the median is within its uncertainty of that line: the
    /// one-sided 95 % z times the median's standard error, [`MEDIAN_SE_FACTOR`] × SD / √n with the SD at least
    /// [`FOOT_ANGLE_STEP_NOISE_DEG`]. The leg lands on the line between the two classes, and its class could be
    /// either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_the_line_with: Option<FootStrikeClass>,
}

/// The standard error of a median of n normal values is this many times SD / √n.
pub const MEDIAN_SE_FACTOR: f64 = 1.2533;

/// Each leg's foot strike pattern over its measured steps (legs without a classed step are left out), given the
/// (rearfoot above, forefoot below) thresholds in degrees.
pub fn strike_patterns(steps: &[Step], thresholds_deg: (f64, f64)) -> Vec<StrikePattern> {
    [Side::Left, Side::Right]
        .into_iter()
        .filter_map(|side| {
            let classes: Vec<FootStrikeClass> = steps
                .iter()
                .filter(|step| step.side == side && step.measured)
                .filter_map(|step| step.foot_strike_class)
                .collect();
            let angles = measured_angles(steps, side);
            let count = |class: FootStrikeClass| classes.iter().filter(|&&c| c == class).count();
            let median_deg = crate::track::median(&angles)?;
            // A tie goes to the median's class.
            let median_class = FootStrikeClass::of(median_deg, thresholds_deg);
            let class = [
                FootStrikeClass::Rearfoot,
                FootStrikeClass::Midfoot,
                FootStrikeClass::Forefoot,
            ]
            .into_iter()
            .max_by_key(|&class| (count(class), class == median_class))
            .filter(|_| !classes.is_empty())?;
            // The steps' spread, but never less than the pose model's own step-to-step noise: a few steps can
            // agree by chance.
            let sd = super::Stats::of(&angles).map_or(0.0, |stats| stats.sd.max(FOOT_ANGLE_STEP_NOISE_DEG));
            let se = MEDIAN_SE_FACTOR * sd / (angles.len() as f64).sqrt();
            let (rearfoot_above, forefoot_below) = thresholds_deg;
            let margin = crate::analysis::FLAG_CONFIDENCE_Z * se;
            let on_the_line_with = match class {
                FootStrikeClass::Rearfoot => {
                    (median_deg - rearfoot_above <= margin).then_some(FootStrikeClass::Midfoot)
                }
                FootStrikeClass::Forefoot => {
                    (forefoot_below - median_deg <= margin).then_some(FootStrikeClass::Midfoot)
                }
                FootStrikeClass::Midfoot => {
                    if rearfoot_above - median_deg <= margin {
                        Some(FootStrikeClass::Rearfoot)
                    } else if median_deg - forefoot_below <= margin {
                        Some(FootStrikeClass::Forefoot)
                    } else {
                        None
                    }
                }
            };
            Some(StrikePattern {
                side,
                class,
                steps: count(class),
                of: classes.len(),
                median_deg,
                on_the_line_with,
            })
        })
        .collect()
}

/// Each leg's foot strike pattern in words: "left rearfoot on 9 of 9 steps, right midfoot on 8 of 8 steps", with
/// "(median 8.2°: on the line with midfoot)" after a leg whose median is within its uncertainty of a class line.
pub fn strike_pattern_words(patterns: &[StrikePattern]) -> String {
    patterns
        .iter()
        .map(|pattern| {
            let line = pattern.on_the_line_with.map_or_else(String::new, |other| {
                format!(
                    " (median {:.1}°: on the line with {})",
                    pattern.median_deg,
                    crate::report::csv::enum_text(&other)
                )
            });
            format!(
                "{} {} on {} of {} step{}{line}",
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

    const THRESHOLDS: (f64, f64) = (8.0, -1.6);

    /// A step of `side` with this foot strike angle (and its own angle's class), or none.
    fn step(side: Side, angle: Option<f64>, measured: bool) -> Step {
        Step {
            index: 0,
            measured,
            side,
            ic_s: 0.0,
            to_s: 0.25,
            midstance_s: 0.12,
            ic_method: EventMethod::ZeniCalibratedByFootHeight,
            to_method: EventMethod::ZeniCalibratedByFootHeight,
            foot_strike_class: angle.map(|a| FootStrikeClass::of(a, THRESHOLDS)),
            landmark_confidence: 0.9,
            values: angle
                .map(|a| BTreeMap::from([(MetricId::FootStrikeAngleDeg, a)]))
                .unwrap_or_default(),
            withheld: BTreeMap::new(),
            confidence: BTreeMap::new(),
        }
    }

    fn words(steps: &[Step]) -> String {
        strike_pattern_words(&strike_patterns(steps, THRESHOLDS))
    }

    #[test]
    fn the_strike_pattern_is_each_legs_commonest_class_over_its_measured_steps() {
        let steps = [
            step(Side::Left, Some(15.0), true),
            step(Side::Left, Some(16.0), true),
            step(Side::Left, Some(17.0), true),
            step(Side::Left, Some(2.0), true),
            step(Side::Left, Some(-10.0), false),
            step(Side::Left, Some(-12.0), false),
            step(Side::Right, Some(3.0), true),
            step(Side::Right, None, true),
        ];
        // One step's median is no better than one reading: within its uncertainty of both lines.
        assert_eq!(
            words(&steps),
            "left rearfoot on 3 of 4 steps, right midfoot on 1 of 1 step (median 3.0°: on the line with rearfoot)"
        );
        assert_eq!(words(&steps[..3]), "left rearfoot on 3 of 3 steps");
        // A tie goes to the class of the median (9.0°: rearfoot).
        let tie = [step(Side::Left, Some(2.0), true), step(Side::Left, Some(16.0), true)];
        assert!(
            words(&tie).starts_with("left rearfoot on 1 of 2 steps"),
            "{}",
            words(&tie)
        );
        assert_eq!(words(&steps[7..]), "");
    }

    #[test]
    fn a_legs_median_within_its_uncertainty_of_a_class_line_is_said_to_be_on_the_line() {
        // The sprint's right leg: 6.8°, 8.2° and 11.8°, all read as rearfoot against their median, 0.2° past the
        // line; the gym clip's far foot, 15.5° with SD 3.5°, is rearfoot beyond doubt.
        let mut steps: Vec<Step> = [6.8, 8.2, 11.8]
            .iter()
            .map(|&a| step(Side::Right, Some(a), true))
            .chain(
                [12.0, 17.3, 22.3, 15.5, 17.4, 16.5, 10.2, 13.5]
                    .iter()
                    .map(|&a| step(Side::Left, Some(a), true)),
            )
            .collect();
        classify_strikes(&mut steps, THRESHOLDS);
        let patterns = strike_patterns(&steps, THRESHOLDS);
        let right = patterns.iter().find(|p| p.side == Side::Right).expect("right");
        assert_eq!(
            (right.class, right.steps, right.on_the_line_with),
            (FootStrikeClass::Rearfoot, 3, Some(FootStrikeClass::Midfoot))
        );
        let left = patterns.iter().find(|p| p.side == Side::Left).expect("left");
        assert_eq!((left.class, left.on_the_line_with), (FootStrikeClass::Rearfoot, None));
        assert_eq!(
            strike_pattern_words(&patterns),
            "left rearfoot on 8 of 8 steps, right rearfoot on 3 of 3 steps (median 8.2°: on the line with midfoot)"
        );
        // A flat-footed leg close to the forefoot line is on that line.
        let flat: Vec<Step> = [-1.0, 0.5, -2.5, 1.0]
            .iter()
            .map(|&a| step(Side::Left, Some(a), true))
            .collect();
        let pattern = &strike_patterns(&flat, THRESHOLDS)[0];
        assert_eq!(pattern.on_the_line_with, Some(FootStrikeClass::Forefoot));
    }
}
