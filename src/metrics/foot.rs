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

use super::series::{LegIds, mean_visibility, sample_at};
use super::{FootStrikeClass, MetricId, Step, StepContext};

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
    let (rearfoot_above_deg, forefoot_below_deg) = context.strike_thresholds_deg;
    step.foot_strike_class = strike.map(|angle| {
        if angle > rearfoot_above_deg {
            FootStrikeClass::Rearfoot
        } else if angle < forefoot_below_deg {
            FootStrikeClass::Forefoot
        } else {
            FootStrikeClass::Midfoot
        }
    });
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
