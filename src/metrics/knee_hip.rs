//! Knee flexion (180° − the thigh–shank included angle) at initial contact and its peak in stance, and hip
//! extension (thigh behind vertical, relative to vertical, not to the trunk) at its peak in terminal stance
//! (midstance → toe-off) and at toe-off (Souza 2016, PM&R Clin N Am 27:217).

use super::series::{LegIds, mean_visibility, sample_at, samples_between};
use super::{MetricId, Step, StepContext};

/// Adds the knee and hip metrics of one step.
pub fn step_metrics(context: &StepContext, step: &mut Step) {
    let contact = context.contact;
    let kinematics = context.kinematics;
    let leg = kinematics.leg(contact.side);
    let ids = LegIds::of(contact.side);
    let fps = kinematics.fps;
    let landmarks = [ids.hip, ids.knee, ids.ankle];
    let ic_confidence = mean_visibility(context.tracks, &landmarks, contact.ic_s, contact.ic_s);
    step.put(
        MetricId::KneeFlexionIcDeg,
        sample_at(&leg.knee_flexion_deg, contact.ic_s, fps),
        ic_confidence,
    );
    let stance_confidence = mean_visibility(context.tracks, &landmarks, contact.ic_s, contact.to_s);
    let stance = samples_between(&leg.knee_flexion_deg, contact.ic_s, contact.to_s, fps);
    step.put(
        MetricId::KneeFlexionPeakStanceDeg,
        stance.iter().copied().reduce(f64::max),
        stance_confidence,
    );
    let (terminal_start_s, terminal_end_s) = contact.terminal_stance_s();
    let extension: Vec<f64> = samples_between(&leg.thigh_deg, terminal_start_s, terminal_end_s, fps)
        .into_iter()
        .map(|thigh| -thigh)
        .collect();
    let terminal_confidence = mean_visibility(context.tracks, &[ids.hip, ids.knee], terminal_start_s, terminal_end_s);
    step.put(
        MetricId::HipExtensionPeakDeg,
        extension.iter().copied().reduce(f64::max),
        terminal_confidence,
    );
    let to_confidence = mean_visibility(context.tracks, &[ids.hip, ids.knee], contact.to_s, contact.to_s);
    step.put(
        MetricId::HipExtensionToeOffDeg,
        sample_at(&leg.thigh_deg, contact.to_s, fps).map(|thigh| -thigh),
        to_confidence,
    );
}
