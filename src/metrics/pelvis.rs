//! Contralateral pelvic drop at midstance, from a rear (or front) view only: the angle of the line between the
//! hip landmarks from horizontal (belt frame, so camera roll is removed) at midstance of each stance limb,
//! positive when the swing-side hip is lower (Bramah 2018, AJSM 46:3023). A side view cannot show it, and the
//! metric is then absent with that reason rather than guessed.

use super::series::{fit_at, mean_visibility};
use super::{MetricId, Step, StepContext};
use crate::landmarks::LandmarkId;
use crate::track::Side;

/// The obliquity at midstance is read from a parabola fitted over midstance ± this fraction of the stance
/// ([`fit_at`]): the hip landmarks are a hand's width apart from behind, so a few pixels of the pose model's
/// jitter tilt their line by degrees in any one frame; the fit averages it over the middle of the stance
/// without flattening the peak that midstance sits on.
pub const MIDSTANCE_HALF_WINDOW_PER_STANCE: f64 = 0.3;

/// Adds the pelvic drop of one step.
pub fn step_metrics(context: &StepContext, step: &mut Step) {
    let contact = context.contact;
    let kinematics = context.kinematics;
    // Obliquity is positive when the right hip is lower: that is a drop when the left foot is in stance.
    let obliquity = fit_at(
        &kinematics.pelvic_obliquity_deg,
        contact.midstance_s,
        MIDSTANCE_HALF_WINDOW_PER_STANCE * (contact.to_s - contact.ic_s),
        kinematics.fps,
    );
    let drop = obliquity.map(|angle| if contact.side == Side::Left { angle } else { -angle });
    let confidence = mean_visibility(
        context.tracks,
        &[LandmarkId::LeftHip, LandmarkId::RightHip],
        contact.midstance_s,
        contact.midstance_s,
    );
    step.put(MetricId::PelvicDropMidstanceDeg, drop, confidence);
}
