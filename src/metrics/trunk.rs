//! Trunk (torso) forward lean: the hip-midpoint → shoulder-midpoint segment from vertical in the belt frame,
//! positive forward; its mean, least and greatest value over the step, and its value at midstance
//! (Bramah 2018, AJSM 46:3023: injured runners lean further forward at midstance).

use super::series::{mean_visibility, sample_at, samples_between};
use super::{MetricId, Step, StepContext};
use crate::landmarks::LandmarkId;

const TRUNK_LANDMARKS: [LandmarkId; 4] = [
    LandmarkId::LeftShoulder,
    LandmarkId::RightShoulder,
    LandmarkId::LeftHip,
    LandmarkId::RightHip,
];

/// Adds the trunk metrics of one step.
pub fn step_metrics(context: &StepContext, step: &mut Step) {
    let kinematics = context.kinematics;
    let contact = context.contact;
    let lean = &kinematics.trunk_lean_deg;
    let midstance_confidence = mean_visibility(
        context.tracks,
        &TRUNK_LANDMARKS,
        contact.midstance_s,
        contact.midstance_s,
    );
    step.put(
        MetricId::TrunkLeanMidstanceDeg,
        sample_at(lean, contact.midstance_s, kinematics.fps),
        midstance_confidence,
    );
    let Some(next) = context.next_other else {
        return;
    };
    let values = samples_between(lean, contact.ic_s, next.ic_s, kinematics.fps);
    if values.len() < 3 {
        return;
    }
    let confidence = mean_visibility(context.tracks, &TRUNK_LANDMARKS, contact.ic_s, next.ic_s);
    // The step's samples are uniform in time except for the interpolated ends: a plain mean is fine.
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    step.put(MetricId::TrunkLeanMeanDeg, Some(mean), confidence);
    step.put(MetricId::TrunkLeanMinDeg, Some(min), confidence);
    step.put(MetricId::TrunkLeanMaxDeg, Some(max), confidence);
}
