//! Temporal metrics: cadence, step and stride time, contact and flight time, duty factor, and step and stride
//! length when the treadmill speed is given.
//!
//! Definitions (../shared/docs/running-metrics.md): cadence = 60 / step time, step = initial contact to the
//! other foot's initial contact. Cadence is computed over whole strides, 2 × 60 / stride time (same foot IC to
//! IC): over a stride this is the same number of steps per minute, but a constant timing offset between the
//! feet (the far foot, partly hidden, is often timed a frame or two later) cancels instead of alternating
//! short and long steps; contact = IC → TO of one foot; flight = TO → the other foot's IC; duty factor
//! = contact / stride time. On a treadmill, stride length = belt speed × stride time. Precision is about one
//! frame per event (the report states the frame interval).

use super::{MetricId, Step, StepContext};

/// Adds the temporal metrics of one step.
pub fn step_metrics(context: &StepContext, step: &mut Step) {
    let contact = context.contact;
    let confidence = contact.landmark_confidence;
    step.put(MetricId::ContactTimeMs, Some(contact.contact_time_ms()), confidence);
    if let Some(next) = context.next_other {
        let step_ms = (next.ic_s - contact.ic_s) * 1000.0;
        let pair_confidence = 0.5 * (confidence + next.landmark_confidence);
        step.put(MetricId::StepTimeMs, Some(step_ms), pair_confidence);
        step.put(
            MetricId::FlightTimeMs,
            Some((next.ic_s - contact.to_s) * 1000.0),
            pair_confidence,
        );
        if let Some(speed) = context.treadmill_speed_mps {
            step.put(MetricId::StepLengthM, Some(speed * step_ms / 1000.0), pair_confidence);
        }
    }
    if let Some(next) = context.next_same {
        let stride_ms = (next.ic_s - contact.ic_s) * 1000.0;
        step.put(MetricId::StrideTimeMs, Some(stride_ms), confidence);
        step.put(MetricId::CadenceStepsPerMin, Some(120_000.0 / stride_ms), confidence);
        step.put(
            MetricId::DutyFactorPct,
            Some(100.0 * contact.contact_time_ms() / stride_ms),
            confidence,
        );
        if let Some(speed) = context.treadmill_speed_mps {
            step.put(MetricId::StrideLengthM, Some(speed * stride_ms / 1000.0), confidence);
        }
    }
}
