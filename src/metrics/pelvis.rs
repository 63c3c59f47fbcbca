//! Contralateral pelvic drop at midstance, from a rear (or front) view only: the angle of the line between the
//! hip landmarks from horizontal (belt frame, so camera roll is removed) at midstance of each stance limb,
//! positive when the swing-side hip is lower (Bramah 2018, AJSM 46:3023). A side view cannot show it, and the
//! metric is then absent with that reason rather than guessed.

use super::series::{mean_visibility, sample_at};
use super::{MetricId, Step, StepContext};
use crate::landmarks::LandmarkId;
use crate::track::Side;

/// Adds the pelvic drop of one step.
pub fn step_metrics(context: &StepContext, step: &mut Step) {
    let contact = context.contact;
    let kinematics = context.kinematics;
    // Obliquity is positive when the right hip is lower: that is a drop when the left foot is in stance.
    let obliquity = sample_at(&kinematics.pelvic_obliquity_deg, contact.midstance_s, kinematics.fps);
    let drop = obliquity.map(|angle| if contact.side == Side::Left { angle } else { -angle });
    let confidence = mean_visibility(
        context.tracks,
        &[LandmarkId::LeftHip, LandmarkId::RightHip],
        contact.midstance_s,
        contact.midstance_s,
    );
    step.put(MetricId::PelvicDropMidstanceDeg, drop, confidence);
}
