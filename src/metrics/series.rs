//! Per-frame kinematics in the belt frame — segment angles, the pelvis position, the hip line — computed once
//! from the filtered tracks, then sampled at (sub-frame) event times by every metric family.
//!
//! Angle conventions (all degrees, in the belt-aligned frame of [`crate::track::BeltFrame`], `u` forward along
//! the direction of travel, `v` up; the angles from the vertical are measured in the picture's own frame instead
//! where the stance feet do not agree on the belt line, [`crate::parts::ClipParts::upright_frames`]):
//! - segment angle from vertical: `atan2(Δu, −Δv)` of the segment pointing down the limb (hip → knee for the
//!   thigh, knee → ankle for the shank), positive when the distal end is ahead; the trunk uses hip midpoint →
//!   shoulder midpoint and `atan2(Δu, Δv)`, positive = forward lean;
//! - knee flexion = thigh angle − shank angle (= 180° − the included thigh–shank angle);
//! - hip extension = −thigh angle (thigh behind vertical), relative to vertical, not to the trunk;
//! - sole angle = `atan2(Δv, Δu)` of heel → toe, positive = toes up.

use std::borrow::Cow;

use crate::landmarks::LandmarkId;
use crate::track::{BeltFrame, BeltFrames, LandmarkTrack, Side, Tracks};

/// The leg landmarks of one side.
#[derive(Clone, Copy, Debug)]
pub struct LegIds {
    /// Hip.
    pub hip: LandmarkId,
    /// Knee.
    pub knee: LandmarkId,
    /// Ankle.
    pub ankle: LandmarkId,
    /// Heel.
    pub heel: LandmarkId,
    /// Toe tip (`foot_index`).
    pub toe: LandmarkId,
}

impl LegIds {
    /// The landmarks of `side`.
    pub const fn of(side: Side) -> LegIds {
        match side {
            Side::Left => LegIds {
                hip: LandmarkId::LeftHip,
                knee: LandmarkId::LeftKnee,
                ankle: LandmarkId::LeftAnkle,
                heel: LandmarkId::LeftHeel,
                toe: LandmarkId::LeftFootIndex,
            },
            Side::Right => LegIds {
                hip: LandmarkId::RightHip,
                knee: LandmarkId::RightKnee,
                ankle: LandmarkId::RightAnkle,
                heel: LandmarkId::RightHeel,
                toe: LandmarkId::RightFootIndex,
            },
        }
    }

    /// All five, hip to toe.
    pub const fn all(&self) -> [LandmarkId; 5] {
        [self.hip, self.knee, self.ankle, self.heel, self.toe]
    }
}

/// One leg's per-frame angles, degrees (NaN where a landmark is missing).
#[derive(Clone, Debug, Default)]
pub struct LegSeries {
    /// Thigh from vertical, positive = knee ahead of hip.
    pub thigh_deg: Vec<f64>,
    /// Shank from vertical, positive = ankle ahead of knee.
    pub shank_deg: Vec<f64>,
    /// Knee flexion.
    pub knee_flexion_deg: Vec<f64>,
    /// Sole (heel → toe) to the belt, positive = toes up.
    pub sole_deg: Vec<f64>,
    /// Heel ahead of the hip midpoint, pixels.
    pub heel_ahead_px: Vec<f64>,
}

/// The whole body's per-frame kinematics in the belt frame.
#[derive(Clone, Debug)]
pub struct Kinematics {
    /// Frames per second.
    pub fps: f64,
    /// Trunk from vertical, positive = forward.
    pub trunk_lean_deg: Vec<f64>,
    /// Hip midpoint height, pixels (up).
    pub pelvis_up_px: Vec<f64>,
    /// Hip line from horizontal, degrees, positive when the runner's right hip is lower (frontal views).
    pub pelvic_obliquity_deg: Vec<f64>,
    /// Left and right legs.
    pub legs: [LegSeries; 2],
    /// The legs in the frontal plane (rear and front views).
    pub frontal: super::frontal::FrontalSeries,
}

fn angle_from_vertical_down(upper: (f64, f64), lower: (f64, f64)) -> f64 {
    (lower.0 - upper.0).atan2(upper.1 - lower.1).to_degrees()
}

impl Kinematics {
    /// Computes every series from the filtered tracks in `frame`.
    pub fn new(tracks: &Tracks, frame: &BeltFrame) -> Kinematics {
        let frames = BeltFrames::single(*frame);
        Kinematics::in_frames(tracks, &frames, &frames)
    }

    /// Computes every series from the filtered tracks, each frame in its own belt frame (a clip joined from takes
    /// filmed at different camera rolls: [`crate::parts::ClipParts::belt_frames`]). The angles from the vertical
    /// (trunk, thigh, shank, and so knee flexion) are measured in `upright` instead, which is `frames` except where
    /// the belt line is not the level ([`crate::parts::ClipParts::upright_frames`]); the sole angle, the heel ahead
    /// of the hips and the pelvis height stay against the belt, the ground the foot stands on. The frontal-plane
    /// series, for rear and front views (which are not split into parts), are in the clip's frame.
    pub fn in_frames(tracks: &Tracks, frames: &BeltFrames, upright: &BeltFrames) -> Kinematics {
        let count = tracks.frame_count();
        let point = |track: &LandmarkTrack, f: usize| frames.at(f).point(track, f);
        let upright_point = |track: &LandmarkTrack, f: usize| upright.at(f).point(track, f);
        let smooth = |id: LandmarkId| tracks.smooth(id);
        // Filled by pushing one value per frame, so every series has exactly `count` entries.
        let mut trunk_lean_deg = Vec::with_capacity(count);
        let mut pelvis_up_px = Vec::with_capacity(count);
        let mut pelvic_obliquity_deg = Vec::with_capacity(count);
        let mut hip_mid_u = Vec::with_capacity(count);
        let midpoint = |a: (f64, f64), b: (f64, f64)| (0.5 * (a.0 + b.0), 0.5 * (a.1 + b.1));
        for f in 0..count {
            let left_hip = point(smooth(LandmarkId::LeftHip), f);
            let right_hip = point(smooth(LandmarkId::RightHip), f);
            let hip = midpoint(left_hip, right_hip);
            let upright_hip = midpoint(
                upright_point(smooth(LandmarkId::LeftHip), f),
                upright_point(smooth(LandmarkId::RightHip), f),
            );
            let shoulder = midpoint(
                upright_point(smooth(LandmarkId::LeftShoulder), f),
                upright_point(smooth(LandmarkId::RightShoulder), f),
            );
            trunk_lean_deg.push(
                (shoulder.0 - upright_hip.0)
                    .atan2(shoulder.1 - upright_hip.1)
                    .to_degrees(),
            );
            pelvis_up_px.push(hip.1);
            hip_mid_u.push(hip.0);
            // Frontal views: `u` runs across the image; the sign of the width does not matter.
            pelvic_obliquity_deg.push(
                (left_hip.1 - right_hip.1)
                    .atan2((right_hip.0 - left_hip.0).abs())
                    .to_degrees(),
            );
        }
        let legs = [Side::Left, Side::Right].map(|side| {
            let ids = LegIds::of(side);
            let mut series = LegSeries {
                thigh_deg: Vec::with_capacity(count),
                shank_deg: Vec::with_capacity(count),
                knee_flexion_deg: Vec::with_capacity(count),
                sole_deg: Vec::with_capacity(count),
                heel_ahead_px: Vec::with_capacity(count),
            };
            let (sole_heel, sole_toe) = sole_tracks(tracks, &ids);
            for (f, &hip_u) in hip_mid_u.iter().enumerate() {
                let hip = upright_point(smooth(ids.hip), f);
                let knee = upright_point(smooth(ids.knee), f);
                let ankle = upright_point(smooth(ids.ankle), f);
                let heel = point(&sole_heel, f);
                let toe = point(&sole_toe, f);
                let thigh = angle_from_vertical_down(hip, knee);
                let shank = angle_from_vertical_down(knee, ankle);
                series.thigh_deg.push(thigh);
                series.shank_deg.push(shank);
                series.knee_flexion_deg.push(thigh - shank);
                series
                    .sole_deg
                    .push((toe.1 - heel.1).atan2(toe.0 - heel.0).to_degrees());
                series.heel_ahead_px.push(heel.0 - hip_u);
            }
            series
        });
        Kinematics {
            fps: tracks.fps,
            trunk_lean_deg,
            pelvis_up_px,
            pelvic_obliquity_deg,
            legs,
            frontal: super::frontal::FrontalSeries::new(tracks, &frames.clip),
        }
    }

    /// The leg series of `side`.
    pub fn leg(&self, side: Side) -> &LegSeries {
        side.of_pair(&self.legs)
    }
}

/// A frame whose heel landmark sits closer to its ankle than this share of the leg's median heel-to-ankle
/// distance has the heel pulled onto the ankle: a one-frame BlazePose glitch that also lifts the toe. The
/// heel-to-ankle distance of a side view hardly changes as the foot turns, and on the labelled clips it stays
/// above 0.6 of its median in all but 0-12 frames a leg (of 194-667); at 2 of the 8 near-foot contacts of the gym
/// clip's half-size 30 fps copy the heel sat at 0.33-0.39 of it, and the sole angle read -20° and -24° where the
/// hand-measured soles were 0-1° (docs/metrics.md, *A heel pulled onto the ankle*).
pub const HEEL_ON_ANKLE_RATIO: f64 = 0.5;

/// The longest run of frames with the heel on the ankle that is bridged for the sole angle; over a longer run
/// the sole angle is missing.
pub const SOLE_BRIDGE_MAX_FRAMES: usize = 2;

/// The heel and toe tracks the sole angle is measured on: the filtered tracks, except that frames with the heel
/// pulled onto the ankle ([`HEEL_ON_ANKLE_RATIO`]) are bridged in both raw tracks from their neighbours, and
/// the two are filtered anew. The other angles keep the filtered tracks as they are.
fn sole_tracks<'a>(tracks: &'a Tracks, ids: &LegIds) -> (Cow<'a, LandmarkTrack>, Cow<'a, LandmarkTrack>) {
    let (ankle, heel, toe) = (tracks.raw(ids.ankle), tracks.raw(ids.heel), tracks.raw(ids.toe));
    let distances: Vec<f64> = (0..tracks.frame_count())
        .map(|f| {
            let (a, h) = (ankle.xy(f), heel.xy(f));
            (a.0 - h.0).hypot(a.1 - h.1)
        })
        .collect();
    let glitches: Vec<usize> = crate::track::median(&distances)
        .map(|median| {
            distances
                .iter()
                .enumerate()
                .filter(|(_, d)| **d < HEEL_ON_ANKLE_RATIO * median)
                .map(|(f, _)| f)
                .collect()
        })
        .unwrap_or_default();
    if glitches.is_empty() {
        return (
            Cow::Borrowed(tracks.smooth(ids.heel)),
            Cow::Borrowed(tracks.smooth(ids.toe)),
        );
    }
    let clean = |track: &LandmarkTrack| {
        Cow::Owned(
            track
                .bridged_over(&glitches, SOLE_BRIDGE_MAX_FRAMES)
                .low_pass(tracks.cutoff_hz, tracks.fps),
        )
    };
    (clean(heel), clean(toe))
}

/// `series` at time `time_s`, interpolated between frames with a Catmull-Rom cubic (linear where a neighbour
/// is missing): at 30 fps a linear interpolation cuts the corner off the peaks that sit near gait events.
/// `None` outside the clip or where missing.
pub fn sample_at(series: &[f64], time_s: f64, fps: f64) -> Option<f64> {
    let position = time_s * fps;
    if position < 0.0 {
        return None;
    }
    let before = position.floor() as usize;
    let weight = position - before as f64;
    let a = *series.get(before)?;
    if weight == 0.0 {
        return a.is_finite().then_some(a);
    }
    let b = *series.get(before + 1)?;
    let linear = a + weight * (b - a);
    let previous = before.checked_sub(1).and_then(|f| series.get(f)).copied();
    let next = series.get(before + 2).copied();
    let value = match (previous, next) {
        (Some(p), Some(n)) if p.is_finite() && n.is_finite() => {
            let w = weight;
            0.5 * ((2.0 * a)
                + (-p + b) * w
                + (2.0 * p - 5.0 * a + 4.0 * b - n) * w * w
                + (-p + 3.0 * a - 3.0 * b + n) * w * w * w)
        }
        _ => linear,
    };
    value.is_finite().then_some(value)
}

/// The samples of `series` from `start_s` to `end_s` (both ends interpolated, whole frames between).
pub fn samples_between(series: &[f64], start_s: f64, end_s: f64, fps: f64) -> Vec<f64> {
    let mut values = Vec::new();
    values.extend(sample_at(series, start_s, fps));
    let first = (start_s * fps).floor() as i64 + 1;
    let last = (end_s * fps).ceil() as i64 - 1;
    for f in first.max(0)..=last {
        if let Some(value) = series.get(f as usize).filter(|v| v.is_finite()) {
            values.push(*value);
        }
    }
    values.extend(sample_at(series, end_s, fps));
    values
}

/// Mean visibility of `ids` over frames `start_s..=end_s`, 0..1.
pub fn mean_visibility(tracks: &Tracks, ids: &[LandmarkId], start_s: f64, end_s: f64) -> f64 {
    let first = (start_s * tracks.fps).floor().max(0.0) as usize;
    let last = ((end_s * tracks.fps).ceil().max(0.0) as usize).min(tracks.frame_count().saturating_sub(1));
    let mut sum = 0.0;
    let mut count = 0;
    for f in first..=last {
        for id in ids {
            sum += tracks.raw(*id).visibility.get(f).copied().unwrap_or(0.0);
            count += 1;
        }
    }
    if count == 0 { 0.0 } else { sum / count as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_interpolates_and_refuses_gaps() {
        let series = [0.0, 10.0, f64::NAN, 30.0];
        assert_eq!(sample_at(&series, 0.5 / 10.0, 10.0), Some(5.0));
        assert_eq!(sample_at(&series, 1.5 / 10.0, 10.0), None);
        assert_eq!(sample_at(&series, 3.0 / 10.0, 10.0), Some(30.0));
        assert_eq!(sample_at(&series, 5.0, 10.0), None);
        assert_eq!(
            samples_between(&[1.0, 2.0, 3.0, 4.0], 0.05, 0.25, 10.0),
            vec![1.5, 2.0, 3.0, 3.5]
        );
    }

    #[test]
    fn segment_angles_follow_the_conventions() {
        // Knee 10 px ahead of and 100 px below the hip: thigh flexed forward by atan(0.1).
        let thigh = angle_from_vertical_down((0.0, 0.0), (10.0, -100.0));
        assert!((thigh - 0.1f64.atan().to_degrees()).abs() < 1e-9);
        let behind = angle_from_vertical_down((0.0, 0.0), (-10.0, -100.0));
        assert!(behind < 0.0);
    }
}
