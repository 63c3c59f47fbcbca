//! Vertical oscillation: the vertical range of the hip midpoint over the step (initial contact to the other
//! foot's initial contact), as % of thigh + shank length and in centimetres when a scale is known. Watches
//! report the torso's range per step; the hip midpoint is the nearest landmark to the body's centre of mass.

use super::series::{mean_visibility, samples_between};
use super::{MetricId, Step, StepContext};
use crate::landmarks::LandmarkId;

/// Adds the vertical oscillation of one step.
pub fn step_metrics(context: &StepContext, step: &mut Step) {
    let Some(next) = context.next_other else {
        return;
    };
    let kinematics = context.kinematics;
    let heights = samples_between(
        &kinematics.pelvis_up_px,
        context.contact.ic_s,
        next.ic_s,
        kinematics.fps,
    );
    if heights.len() < 3 {
        return;
    }
    let range_px = heights.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - heights.iter().copied().fold(f64::INFINITY, f64::min);
    let confidence = mean_visibility(
        context.tracks,
        &[LandmarkId::LeftHip, LandmarkId::RightHip],
        context.contact.ic_s,
        next.ic_s,
    );
    if let Some(leg_px) = context.tracks.leg_length_px {
        step.put(
            MetricId::VerticalOscillationPctLegLength,
            Some(100.0 * range_px / leg_px),
            confidence,
        );
    }
    if let Some(px_per_cm) = context.tracks.px_per_cm {
        step.put(MetricId::VerticalOscillationCm, Some(range_px / px_per_cm), confidence);
    }
}
