//! A synthetic runner: a parametric kinematic model of treadmill running that produces the 33 BlazePose
//! landmarks a pose model would report, with gait events and angles known by construction.
//!
//! The model is a planar linkage with Winter's segment proportions (Winter 2009, Table 4.1). Each leg's thigh
//! angle, knee flexion and sole angle are smooth periodic functions of its gait phase (cubic Hermite curves
//! through knots whose values are the model's parameters: tibia angle and knee flexion at initial contact,
//! peak knee flexion in stance, hip extension at toe-off, foot strike angle). Stance is defined physically:
//! between initial contact (phase 0) and toe-off (phase = contact time / stride time) the pelvis is placed so
//! that the stance foot's lowest point is on the belt line; in flight the pelvis follows a ballistic arc. The
//! trunk leans by a set angle with a small twice-per-stride sway, and the pelvis drops on the swing side by a
//! set angle at midstance. In the frontal plane each foot is placed a set distance from the midline (half the
//! step width, negative for a crossover), the stance knee moves medially to a set frontal-plane projection angle
//! at midstance (dynamic valgus), and the heel can whip medially or laterally in initial swing. The side view
//! projects the sagittal plane to pixels (either facing, optional camera roll); the rear view projects the
//! frontal plane, where pelvic drop, the knee's projection angle, step width and heel whip are visible.
//!
//! Corruptions a real pose model adds can be injected: Gaussian pixel noise, frames without a pose,
//! low-visibility landmarks with displaced positions, and left/right leg label swaps for a few frames.
//!
//! Everything is deterministic for a given seed. Public so that tests, benches and examples can use it.

use serde::{Deserialize, Serialize};

use crate::landmarks::{LANDMARK_COUNT, Landmark, LandmarkId, Pose, PoseFrame, PoseSequence, Roi, WorldLandmark};
use crate::track::{Facing, LEG_PAIRS, Side};

/// Thigh length over standing height (Winter 2009).
pub const THIGH_PER_HEIGHT: f64 = 0.245;
/// Shank length over standing height (Winter 2009).
pub const SHANK_PER_HEIGHT: f64 = 0.246;
/// Foot length over standing height (Winter 2009).
pub const FOOT_PER_HEIGHT: f64 = 0.152;
/// Ankle height above the sole over standing height (Winter 2009).
pub const ANKLE_HEIGHT_PER_HEIGHT: f64 = 0.039;
/// Hip joint to shoulder joint over standing height (Winter 2009: 0.818 − 0.530).
pub const TRUNK_PER_HEIGHT: f64 = 0.288;
/// Distance between the hip joint centres over standing height (BlazePose hips sit about this far apart).
pub const HIP_WIDTH_PER_HEIGHT: f64 = 0.11;
/// Shoulder width over standing height.
pub const SHOULDER_WIDTH_PER_HEIGHT: f64 = 0.2;
/// Fraction of the foot length behind the ankle (the heel).
pub const HEEL_FRACTION_OF_FOOT: f64 = 0.25;
/// Where BlazePose puts its toe landmark (`foot_index`): on the forefoot over the ball of the foot, this fraction
/// of the foot length behind the tip of the shoe, not at the tip. So at push-off, while the tip is still on the
/// belt and the foot plantarflexes, the landmark rises: by 0.05-0.06 leg lengths at toe-off on the hand-labelled
/// clips (`tests/labels/`), which this placement reproduces with the model's 30° of plantarflexion at toe-off.
pub const TOE_LANDMARK_FROM_TIP_OF_FOOT: f64 = 0.32;
/// Peak-to-mean trunk-lean sway, twice per stride, degrees.
pub const TRUNK_SWAY_DEG: f64 = 2.0;
/// The heel whip rises and falls over this fraction of the swing, from toe-off (initial swing).
pub const HEEL_WHIP_SWING_FRACTION: f64 = 0.3;
/// Gravity for the flight arc, m/s².
pub const GRAVITY_M_PER_S2: f64 = 9.81;

/// Which plane the synthetic camera films.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyntheticView {
    /// Sagittal plane.
    Side,
    /// Frontal plane from behind.
    Rear,
}

/// The runner and the camera.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyntheticRunner {
    /// Steps per minute.
    pub cadence_steps_per_min: f64,
    /// Initial contact to toe-off, milliseconds.
    pub contact_time_ms: f64,
    /// Mean forward trunk lean from vertical, degrees.
    pub trunk_lean_deg: f64,
    /// Sole angle to the belt at initial contact, degrees, positive toes up.
    pub foot_strike_angle_deg: f64,
    /// Shank angle from vertical at initial contact, degrees, positive ankle ahead of knee.
    pub tibia_angle_ic_deg: f64,
    /// Knee flexion at initial contact, degrees.
    pub knee_flexion_ic_deg: f64,
    /// Peak knee flexion in stance (at 40 % of stance), degrees.
    pub knee_flexion_peak_stance_deg: f64,
    /// Thigh angle behind vertical at toe-off (its peak), degrees.
    pub hip_extension_deg: f64,
    /// Swing-side pelvic drop at midstance, degrees.
    pub pelvic_drop_deg: f64,
    /// The stance knee's frontal-plane projection angle at midstance (rear view), degrees, positive = the knee
    /// medial of the hip–ankle line (dynamic valgus). It grows from 0 at initial contact to this at midstance and
    /// back to 0 at toe-off; the knee is straight in the frontal plane in swing.
    pub knee_valgus_deg: f64,
    /// Sideways distance between the left and right feet's centre lines, metres; each foot lands half of it from
    /// the midline, negative when the feet cross it.
    pub step_width_m: f64,
    /// Peak tilt of the toe → heel line from vertical in the rear view in initial swing, degrees, positive = the
    /// heel medially (a medial heel whip); 0 at toe-off and again a third of the way through swing.
    pub heel_whip_deg: f64,
    /// Standing height, metres.
    pub height_m: f64,
    /// Image scale, pixels per metre.
    pub px_per_m: f64,
    /// Frames per second.
    pub fps: f64,
    /// Clip length, seconds.
    pub duration_s: f64,
    /// Camera view.
    pub view: SyntheticView,
    /// Facing in the image (side view).
    pub facing: Facing,
    /// Camera roll, degrees (the belt line's angle in the image, image y down).
    pub camera_roll_deg: f64,
    /// Frame width, pixels.
    pub width_px: u32,
    /// Frame height, pixels.
    pub height_px: u32,
    /// The left leg's gait phase at time zero, 0..1.
    pub start_phase: f64,
}

impl Default for SyntheticRunner {
    fn default() -> SyntheticRunner {
        SyntheticRunner {
            cadence_steps_per_min: 170.0,
            contact_time_ms: 250.0,
            trunk_lean_deg: 8.0,
            foot_strike_angle_deg: 12.0,
            tibia_angle_ic_deg: 6.0,
            knee_flexion_ic_deg: 15.0,
            knee_flexion_peak_stance_deg: 40.0,
            hip_extension_deg: 12.0,
            pelvic_drop_deg: 5.0,
            knee_valgus_deg: 3.0,
            step_width_m: 0.08,
            heel_whip_deg: 0.0,
            height_m: 1.75,
            px_per_m: 480.0,
            fps: 60.0,
            duration_s: 10.0,
            view: SyntheticView::Side,
            facing: Facing::Right,
            camera_roll_deg: 0.0,
            width_px: 1920,
            height_px: 1080,
            start_phase: 0.13,
        }
    }
}

/// The errors a pose model makes, to inject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Corruption {
    /// Standard deviation of Gaussian noise on every landmark coordinate, pixels.
    pub noise_px: f64,
    /// Fraction of frames with no pose at all.
    pub dropout_frame_fraction: f64,
    /// Fraction of leg landmark samples reported with visibility 0.05 at a displaced position.
    pub low_visibility_fraction: f64,
    /// Number of episodes (2–4 frames each) where the left and right leg labels are swapped.
    pub swap_episode_count: usize,
    /// Random seed.
    pub seed: u64,
}

/// A true foot contact of the model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrueContact {
    /// Which foot.
    pub side: Side,
    /// Initial contact, seconds.
    pub ic_s: f64,
    /// Toe-off, seconds.
    pub to_s: f64,
}

/// What the analysis should find, from the model itself (not from the landmarks).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyntheticTruth {
    /// Every contact whose initial contact and toe-off are inside the clip.
    pub contacts: Vec<TrueContact>,
    /// Steps per minute.
    pub cadence_steps_per_min: f64,
    /// Milliseconds.
    pub contact_time_ms: f64,
    /// Milliseconds.
    pub flight_time_ms: f64,
    /// Mean trunk lean over the stride, degrees.
    pub trunk_lean_mean_deg: f64,
    /// Minimum trunk lean over the stride, degrees.
    pub trunk_lean_min_deg: f64,
    /// Maximum trunk lean over the stride, degrees.
    pub trunk_lean_max_deg: f64,
    /// Trunk lean at midstance, degrees.
    pub trunk_lean_midstance_deg: f64,
    /// Degrees.
    pub foot_strike_angle_deg: f64,
    /// Degrees.
    pub tibia_angle_ic_deg: f64,
    /// Degrees.
    pub knee_flexion_ic_deg: f64,
    /// Degrees.
    pub knee_flexion_peak_stance_deg: f64,
    /// Peak hip extension in stance, degrees (equal to the value at toe-off in this model).
    pub hip_extension_peak_deg: f64,
    /// Hip extension at toe-off, degrees.
    pub hip_extension_to_deg: f64,
    /// Horizontal heel-ahead-of-hip-midpoint distance at initial contact, % of thigh + shank length.
    pub overstride_pct_leg_length: f64,
    /// Vertical range of the hip midpoint per step, % of thigh + shank length.
    pub vertical_oscillation_pct_leg_length: f64,
    /// Degrees.
    pub pelvic_drop_deg: f64,
    /// The stance knee's frontal-plane projection angle at midstance, degrees, positive = valgus.
    pub knee_projection_angle_midstance_deg: f64,
    /// Sideways distance between consecutive feet at midstance, centimetres (negative: crossing).
    pub step_width_cm: f64,
    /// Each foot's sideways distance from the midline at midstance, centimetres (negative: across it).
    pub foot_from_midline_cm: f64,
    /// The peak heel whip in initial swing, degrees, positive medial.
    pub heel_whip_deg: f64,
    /// Thigh + shank length, pixels.
    pub leg_length_px: f64,
}

/// A generated clip and its truth.
#[derive(Clone, Debug)]
pub struct SyntheticClip {
    /// The landmarks, as the pose stage would hand them over.
    pub sequence: PoseSequence,
    /// The model's true values.
    pub truth: SyntheticTruth,
}

/// A periodic knot: phase 0..1, value, slope per unit phase.
#[derive(Clone, Copy, Debug)]
struct Knot {
    phase: f64,
    value: f64,
    slope: f64,
}

/// Periodic cubic Hermite curve through knots sorted by phase in [0, 1).
fn hermite(knots: &[Knot], phase: f64) -> f64 {
    let phase = phase.rem_euclid(1.0);
    // The segment starts at the last knot at or before `phase`; before the first knot it is the last one's,
    // which wraps round the cycle.
    let index = knots
        .iter()
        .rposition(|knot| knot.phase <= phase)
        .unwrap_or(knots.len().saturating_sub(1));
    // No knots, no curve (every caller passes a fixed, non-empty table).
    let (Some(&first), Some(&start)) = (knots.first(), knots.get(index)) else {
        return f64::NAN;
    };
    let (end, end_phase) = match knots.get(index + 1) {
        Some(&next) => (next, next.phase),
        None => (first, first.phase + 1.0),
    };
    let mut offset = phase - start.phase;
    if offset < 0.0 {
        offset += 1.0;
    }
    let span = end_phase - start.phase;
    let s = offset / span;
    let (s2, s3) = (s * s, s * s * s);
    (2.0 * s3 - 3.0 * s2 + 1.0) * start.value
        + (s3 - 2.0 * s2 + s) * span * start.slope
        + (-2.0 * s3 + 3.0 * s2) * end.value
        + (s3 - s2) * span * end.slope
}

/// A 2D point in the sagittal (forward, up) or frontal plane, metres.
#[derive(Clone, Copy, Debug, Default)]
struct Planar {
    forward_m: f64,
    up_m: f64,
}

/// One leg's landmarks' distances outwards from the midline (towards the leg's own side), metres.
#[derive(Clone, Copy, Debug, Default)]
struct LegFrontal {
    knee_out: f64,
    ankle_out: f64,
    heel_out: f64,
    toe_out: f64,
}

/// One leg's joint positions relative to its hip joint, metres.
#[derive(Clone, Copy, Debug, Default)]
struct LegPose {
    knee: Planar,
    ankle: Planar,
    /// The back of the sole (and BlazePose's heel landmark).
    heel: Planar,
    /// The tip of the sole.
    toe: Planar,
    /// BlazePose's toe landmark, over the ball of the foot (see [`TOE_LANDMARK_FROM_TIP_OF_FOOT`]).
    toe_landmark: Planar,
}

impl LegPose {
    /// How far the foot's lowest point is below the hip joint, metres (positive).
    fn extent_m(&self) -> f64 {
        -(self.heel.up_m.min(self.toe.up_m))
    }
}

struct Model<'a> {
    runner: &'a SyntheticRunner,
    stride_s: f64,
    duty: f64,
    thigh_knots: Vec<Knot>,
    knee_knots: Vec<Knot>,
    foot_knots: Vec<Knot>,
}

impl<'a> Model<'a> {
    fn new(runner: &'a SyntheticRunner) -> Model<'a> {
        let stride_s = 120.0 / runner.cadence_steps_per_min;
        let duty = (runner.contact_time_ms / 1000.0 / stride_s).clamp(0.1, 0.49);
        let thigh_ic = runner.tibia_angle_ic_deg + runner.knee_flexion_ic_deg;
        let thigh_slope = -(thigh_ic + runner.hip_extension_deg) / duty;
        let thigh_max = (thigh_ic + 15.0).max(35.0);
        let thigh_knots = vec![
            Knot {
                phase: 0.0,
                value: thigh_ic,
                slope: thigh_slope,
            },
            Knot {
                phase: duty,
                value: -runner.hip_extension_deg,
                slope: 0.0,
            },
            Knot {
                phase: duty + 0.6 * (1.0 - duty),
                value: thigh_max,
                slope: 0.0,
            },
        ];
        let knee_ic = runner.knee_flexion_ic_deg;
        let knee_peak = runner.knee_flexion_peak_stance_deg.max(knee_ic + 5.0);
        // The knee is nearly straight again at push-off (Novacheck 1998, Gait Posture 7:77).
        let knee_to = knee_ic + 0.25 * (knee_peak - knee_ic);
        let knee_swing = 100.0;
        let knee_knots = vec![
            Knot {
                phase: 0.0,
                value: knee_ic,
                slope: 1.5 * (knee_peak - knee_ic) / (0.4 * duty),
            },
            Knot {
                phase: 0.4 * duty,
                value: knee_peak,
                slope: 0.0,
            },
            Knot {
                phase: duty,
                value: knee_to,
                slope: (knee_swing - knee_to) / (0.35 * (1.0 - duty)),
            },
            Knot {
                phase: duty + 0.35 * (1.0 - duty),
                value: knee_swing,
                slope: 0.0,
            },
            Knot {
                phase: 0.95,
                value: (knee_ic - 4.0).max(2.0),
                slope: 0.0,
            },
        ];
        let strike = runner.foot_strike_angle_deg;
        let foot_knots = vec![
            Knot {
                phase: 0.0,
                value: strike,
                slope: 0.0,
            },
            Knot {
                phase: 0.25 * duty,
                value: 0.0,
                slope: 0.0,
            },
            Knot {
                phase: 0.55 * duty,
                value: 0.0,
                slope: 0.0,
            },
            Knot {
                phase: duty,
                value: -30.0,
                slope: 0.0,
            },
            Knot {
                phase: duty + 0.35 * (1.0 - duty),
                value: -10.0,
                slope: 60.0,
            },
            Knot {
                phase: 0.9,
                value: strike,
                slope: 0.0,
            },
        ];
        Model {
            runner,
            stride_s,
            duty,
            thigh_knots,
            knee_knots,
            foot_knots,
        }
    }

    fn phase(&self, side: Side, time_s: f64) -> f64 {
        let offset = match side {
            Side::Left => 0.0,
            Side::Right => 0.5,
        };
        (time_s / self.stride_s + self.runner.start_phase + offset).rem_euclid(1.0)
    }

    fn thigh_deg(&self, phase: f64) -> f64 {
        hermite(&self.thigh_knots, phase)
    }

    fn knee_deg(&self, phase: f64) -> f64 {
        hermite(&self.knee_knots, phase)
    }

    fn foot_deg(&self, phase: f64) -> f64 {
        hermite(&self.foot_knots, phase)
    }

    fn leg(&self, phase: f64) -> LegPose {
        let h = self.runner.height_m;
        let thigh = self.thigh_deg(phase).to_radians();
        let shank = thigh - self.knee_deg(phase).to_radians();
        let foot = self.foot_deg(phase).to_radians();
        let knee = Planar {
            forward_m: THIGH_PER_HEIGHT * h * thigh.sin(),
            up_m: -THIGH_PER_HEIGHT * h * thigh.cos(),
        };
        let ankle = Planar {
            forward_m: knee.forward_m + SHANK_PER_HEIGHT * h * shank.sin(),
            up_m: knee.up_m - SHANK_PER_HEIGHT * h * shank.cos(),
        };
        let rotate = |forward: f64, up: f64| Planar {
            forward_m: ankle.forward_m + forward * foot.cos() - up * foot.sin(),
            up_m: ankle.up_m + forward * foot.sin() + up * foot.cos(),
        };
        let foot_length = FOOT_PER_HEIGHT * h;
        let ankle_height = ANKLE_HEIGHT_PER_HEIGHT * h;
        LegPose {
            knee,
            ankle,
            heel: rotate(-HEEL_FRACTION_OF_FOOT * foot_length, -ankle_height),
            toe: rotate((1.0 - HEEL_FRACTION_OF_FOOT) * foot_length, -ankle_height),
            toe_landmark: rotate(
                (1.0 - HEEL_FRACTION_OF_FOOT - TOE_LANDMARK_FROM_TIP_OF_FOOT) * foot_length,
                -ankle_height,
            ),
        }
    }

    fn in_stance(&self, phase: f64) -> bool {
        phase < self.duty
    }

    /// Swing-side pelvic drop at this time, radians: a bump peaking at midstance of either leg.
    fn pelvic_drop_rad(&self, phase: f64) -> f64 {
        let bump = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * phase / self.duty).cos());
        self.runner.pelvic_drop_deg.to_radians() * bump
    }

    /// The knee's frontal-plane projection angle at this phase, radians: a bump over stance peaking at midstance.
    fn knee_valgus_rad(&self, phase: f64) -> f64 {
        if !self.in_stance(phase) {
            return 0.0;
        }
        let bump = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * phase / self.duty).cos());
        self.runner.knee_valgus_deg.to_radians() * bump
    }

    /// The heel whip at this phase, radians: a bump over the first [`HEEL_WHIP_SWING_FRACTION`] of swing.
    fn heel_whip_rad(&self, phase: f64) -> f64 {
        let into_swing = (phase - self.duty) / ((1.0 - self.duty) * HEEL_WHIP_SWING_FRACTION);
        if !(0.0..=1.0).contains(&into_swing) {
            return 0.0;
        }
        let bump = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * into_swing).cos());
        self.runner.heel_whip_deg.to_radians() * bump
    }

    /// One leg's frontal-plane placement at this phase: each landmark's distance outwards from the midline,
    /// metres. The foot is half the step width out; the knee sits where the thigh and shank, at their sagittal
    /// heights, meet at the set projection angle; the heel is shifted so that the toe → heel line tilts by the
    /// whip.
    fn leg_frontal(&self, phase: f64, leg: &LegPose) -> LegFrontal {
        let hip_out = 0.5 * HIP_WIDTH_PER_HEIGHT * self.runner.height_m;
        let ankle_out = 0.5 * self.runner.step_width_m;
        let thigh_drop = -leg.knee.up_m;
        let shank_drop = leg.knee.up_m - leg.ankle.up_m;
        let valgus = self.knee_valgus_rad(phase);
        // Thigh and shank angles from vertical, positive when the lower end is medial: the thigh's θ solves
        // thigh_drop·tan θ + shank_drop·tan(θ − valgus) = hip_out − ankle_out (monotonic in θ: bisection), and
        // the projection angle θ_thigh − θ_shank is then `valgus`.
        let inward =
            |theta: f64| thigh_drop * theta.tan() + shank_drop * (theta - valgus).tan() - (hip_out - ankle_out);
        let (mut low, mut high) = (-1.2f64, 1.2f64);
        for _ in 0..60 {
            let middle = 0.5 * (low + high);
            if inward(middle) > 0.0 {
                high = middle;
            } else {
                low = middle;
            }
        }
        let thigh_theta = 0.5 * (low + high);
        let knee_out = hip_out - thigh_drop * thigh_theta.tan();
        let whip = self.heel_whip_rad(phase);
        LegFrontal {
            knee_out,
            ankle_out,
            toe_out: ankle_out,
            heel_out: ankle_out - whip.tan() * (leg.heel.up_m - leg.toe_landmark.up_m),
        }
    }

    /// The stance hip joint's height above the belt, metres, and which leg is in stance.
    fn stance_hip_height_m(&self, time_s: f64) -> (f64, Option<Side>) {
        for side in [Side::Left, Side::Right] {
            let phase = self.phase(side, time_s);
            if self.in_stance(phase) {
                return (self.leg(phase).extent_m(), Some(side));
            }
        }
        // Flight: a ballistic arc from the last toe-off to the next initial contact.
        let mut last_to = (f64::NEG_INFINITY, 0.0);
        let mut next_ic = (f64::INFINITY, 0.0);
        for side in [Side::Left, Side::Right] {
            let phase = self.phase(side, time_s);
            let since_to_s = (phase - self.duty) * self.stride_s;
            let to_s = time_s - since_to_s;
            if to_s > last_to.0 {
                last_to = (to_s, self.leg(self.duty).extent_m());
            }
            let ic_s = time_s + (1.0 - phase) * self.stride_s;
            if ic_s < next_ic.0 {
                next_ic = (ic_s, self.leg(0.0).extent_m());
            }
        }
        let flight_s = next_ic.0 - last_to.0;
        let elapsed_s = time_s - last_to.0;
        let start_velocity = (next_ic.1 - last_to.1) / flight_s + 0.5 * GRAVITY_M_PER_S2 * flight_s;
        (
            last_to.1 + start_velocity * elapsed_s - 0.5 * GRAVITY_M_PER_S2 * elapsed_s * elapsed_s,
            None,
        )
    }

    fn trunk_lean_deg(&self, time_s: f64) -> f64 {
        let phase = self.phase(Side::Left, time_s);
        self.runner.trunk_lean_deg + TRUNK_SWAY_DEG * (4.0 * std::f64::consts::PI * phase).cos()
    }
}

/// The sagittal and frontal geometry of the whole body at one instant, metres, belt at up = 0,
/// pelvis centre at forward = 0.
struct Body {
    hip: [Planar; 2],
    legs: [LegPose; 2],
    frontal: [LegFrontal; 2],
    shoulder: Planar,
    trunk_lean_rad: f64,
    left_phase: f64,
}

impl Model<'_> {
    fn body(&self, time_s: f64) -> Body {
        let h = self.runner.height_m;
        let (stance_hip_up_m, stance_side) = self.stance_hip_height_m(time_s);
        let half_width = 0.5 * HIP_WIDTH_PER_HEIGHT * h;
        // Obliquity: positive when the right hip is lower than the left.
        let (drop_rad, obliquity_rad) = match stance_side {
            Some(side) => {
                let drop = self.pelvic_drop_rad(self.phase(side, time_s));
                (drop, if side == Side::Left { drop } else { -drop })
            }
            None => (0.0, 0.0),
        };
        let pelvis_up_m = stance_hip_up_m - half_width * drop_rad.sin();
        let hip_left_up = pelvis_up_m + half_width * obliquity_rad.sin();
        let hip_right_up = pelvis_up_m - half_width * obliquity_rad.sin();
        let lean = self.trunk_lean_deg(time_s).to_radians();
        let trunk = TRUNK_PER_HEIGHT * h;
        let phases = [self.phase(Side::Left, time_s), self.phase(Side::Right, time_s)];
        let legs = phases.map(|phase| self.leg(phase));
        let frontal = [0, 1].map(|k| match (phases.get(k), legs.get(k)) {
            (Some(&phase), Some(leg)) => self.leg_frontal(phase, leg),
            _ => LegFrontal::default(),
        });
        Body {
            hip: [
                Planar {
                    forward_m: 0.0,
                    up_m: hip_left_up,
                },
                Planar {
                    forward_m: 0.0,
                    up_m: hip_right_up,
                },
            ],
            legs,
            frontal,
            shoulder: Planar {
                forward_m: trunk * lean.sin(),
                up_m: pelvis_up_m + trunk * lean.cos(),
            },
            trunk_lean_rad: lean,
            left_phase: self.phase(Side::Left, time_s),
        }
    }
}

/// A landmark's position in metres: sagittal (forward, up) plus lateral (towards the runner's right).
#[derive(Clone, Copy, Debug, Default)]
struct Point3 {
    forward_m: f64,
    up_m: f64,
    right_m: f64,
}

fn body_points(body: &Body, height_m: f64) -> [Point3; LANDMARK_COUNT] {
    let mut points = [Point3::default(); LANDMARK_COUNT];
    let half_hip = 0.5 * HIP_WIDTH_PER_HEIGHT * height_m;
    let half_shoulder = 0.5 * SHOULDER_WIDTH_PER_HEIGHT * height_m;
    let lean = body.trunk_lean_rad;
    let along_trunk = |distance: f64, forward: f64| Point3 {
        forward_m: body.shoulder.forward_m + distance * lean.sin() + forward * lean.cos(),
        up_m: body.shoulder.up_m + distance * lean.cos() - forward * lean.sin(),
        right_m: 0.0,
    };
    let head = 0.09 * height_m;
    let set = |points: &mut [Point3; LANDMARK_COUNT], id: LandmarkId, point: Point3, right_m: f64| {
        place(points, id, Point3 { right_m, ..point });
    };
    let nose = along_trunk(head, 0.06 * height_m);
    set(&mut points, LandmarkId::Nose, nose, 0.0);
    for (id, right) in [
        (LandmarkId::LeftEyeInner, -0.015),
        (LandmarkId::LeftEye, -0.03),
        (LandmarkId::LeftEyeOuter, -0.045),
        (LandmarkId::RightEyeInner, 0.015),
        (LandmarkId::RightEye, 0.03),
        (LandmarkId::RightEyeOuter, 0.045),
    ] {
        set(&mut points, id, along_trunk(head + 0.025, 0.05 * height_m), right);
    }
    set(&mut points, LandmarkId::LeftEar, along_trunk(head + 0.01, 0.0), -0.07);
    set(&mut points, LandmarkId::RightEar, along_trunk(head + 0.01, 0.0), 0.07);
    set(
        &mut points,
        LandmarkId::MouthLeft,
        along_trunk(head - 0.03, 0.05 * height_m),
        -0.025,
    );
    set(
        &mut points,
        LandmarkId::MouthRight,
        along_trunk(head - 0.03, 0.05 * height_m),
        0.025,
    );
    let shoulder = Point3 {
        forward_m: body.shoulder.forward_m,
        up_m: body.shoulder.up_m,
        right_m: 0.0,
    };
    set(&mut points, LandmarkId::LeftShoulder, shoulder, -half_shoulder);
    set(&mut points, LandmarkId::RightShoulder, shoulder, half_shoulder);
    // Arms swing opposite to the legs.
    let upper_arm = 0.186 * height_m;
    let forearm = 0.146 * height_m;
    for (side, sign, elbow_id, wrist_id, hand_ids) in [
        (
            Side::Left,
            -1.0,
            LandmarkId::LeftElbow,
            LandmarkId::LeftWrist,
            [LandmarkId::LeftPinky, LandmarkId::LeftIndex, LandmarkId::LeftThumb],
        ),
        (
            Side::Right,
            1.0,
            LandmarkId::RightElbow,
            LandmarkId::RightWrist,
            [LandmarkId::RightPinky, LandmarkId::RightIndex, LandmarkId::RightThumb],
        ),
    ] {
        let leg_phase = body.left_phase + if side == Side::Right { 0.5 } else { 0.0 };
        let swing = (-30f64).to_radians() * (2.0 * std::f64::consts::PI * leg_phase).cos();
        let elbow = Point3 {
            forward_m: shoulder.forward_m + upper_arm * swing.sin(),
            up_m: shoulder.up_m - upper_arm * swing.cos(),
            right_m: sign * half_shoulder,
        };
        let forearm_angle = swing + 80f64.to_radians();
        let wrist = Point3 {
            forward_m: elbow.forward_m + forearm * forearm_angle.sin(),
            up_m: elbow.up_m - forearm * forearm_angle.cos(),
            right_m: sign * half_shoulder * 0.8,
        };
        place(&mut points, elbow_id, elbow);
        place(&mut points, wrist_id, wrist);
        for (k, id) in hand_ids.into_iter().enumerate() {
            let hand = Point3 {
                forward_m: wrist.forward_m + 0.03 + 0.01 * k as f64,
                up_m: wrist.up_m - 0.02,
                ..wrist
            };
            place(&mut points, id, hand);
        }
    }
    for (side, hip_id, knee_id, ankle_id, heel_id, toe_id) in [
        (
            Side::Left,
            LandmarkId::LeftHip,
            LandmarkId::LeftKnee,
            LandmarkId::LeftAnkle,
            LandmarkId::LeftHeel,
            LandmarkId::LeftFootIndex,
        ),
        (
            Side::Right,
            LandmarkId::RightHip,
            LandmarkId::RightKnee,
            LandmarkId::RightAnkle,
            LandmarkId::RightHeel,
            LandmarkId::RightFootIndex,
        ),
    ] {
        let sign = if side == Side::Left { -1.0 } else { 1.0 };
        let hip = *side.of_pair(&body.hip);
        let leg = *side.of_pair(&body.legs);
        let frontal = *side.of_pair(&body.frontal);
        let at = |p: Planar, lateral: f64| Point3 {
            forward_m: hip.forward_m + p.forward_m,
            up_m: hip.up_m + p.up_m,
            right_m: sign * lateral,
        };
        let hip_point = Point3 {
            forward_m: hip.forward_m,
            up_m: hip.up_m,
            right_m: sign * half_hip,
        };
        place(&mut points, hip_id, hip_point);
        place(&mut points, knee_id, at(leg.knee, frontal.knee_out));
        place(&mut points, ankle_id, at(leg.ankle, frontal.ankle_out));
        place(&mut points, heel_id, at(leg.heel, frontal.heel_out));
        place(&mut points, toe_id, at(leg.toe_landmark, frontal.toe_out));
    }
    points
}

/// Writes `point` into `id`'s slot of `points`. Every `LandmarkId::index` is below `LANDMARK_COUNT`, so the
/// slot always exists; `get_mut` keeps that a fact of the types rather than a panic path.
fn place(points: &mut [Point3; LANDMARK_COUNT], id: LandmarkId, point: Point3) {
    if let Some(slot) = points.get_mut(id.index()) {
        *slot = point;
    }
}

/// SplitMix64: a small, good, deterministic generator (Steele, Lea & Flood 2014).
struct Random(u64);

impl Random {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

impl SyntheticRunner {
    /// The stride time, seconds.
    pub fn stride_s(&self) -> f64 {
        120.0 / self.cadence_steps_per_min
    }

    /// Generates the clip: landmarks with the corruptions, and the model's truth.
    pub fn generate(&self, corruption: &Corruption) -> SyntheticClip {
        let model = Model::new(self);
        let frame_count = (self.duration_s * self.fps).round().max(1.0) as usize;
        let ppm = self.px_per_m;
        let centre_x = f64::from(self.width_px) / 2.0;
        let centre_y = f64::from(self.height_px) / 2.0;
        let belt_y = f64::from(self.height_px) * 0.93;
        let (roll_sin, roll_cos) = self.camera_roll_deg.to_radians().sin_cos();
        let mut random = Random(corruption.seed ^ 0x5EED);
        let mut frames = Vec::with_capacity(frame_count);
        for index in 0..frame_count {
            let time_s = index as f64 / self.fps;
            let body = model.body(time_s);
            let points = body_points(&body, self.height_m);
            let mut landmarks = [Landmark::default(); LANDMARK_COUNT];
            for (landmark, point) in landmarks.iter_mut().zip(&points) {
                let (x_level, depth) = match self.view {
                    SyntheticView::Side => (
                        centre_x + self.facing.sign() * point.forward_m * ppm,
                        // Facing right, the runner's right side is towards the camera.
                        -self.facing.sign() * point.right_m * ppm,
                    ),
                    SyntheticView::Rear => (centre_x + point.right_m * ppm, point.forward_m * ppm),
                };
                let y_level = belt_y - point.up_m * ppm;
                let (dx, dy) = (x_level - centre_x, y_level - centre_y);
                let x = centre_x + roll_cos * dx - roll_sin * dy;
                let y = centre_y + roll_sin * dx + roll_cos * dy;
                let near = depth <= 0.0;
                *landmark = Landmark {
                    x_px: (x + corruption.noise_px * random.normal()) as f32,
                    y_px: (y + corruption.noise_px * random.normal()) as f32,
                    z_px: depth as f32,
                    visibility: if near || self.view == SyntheticView::Rear {
                        0.98
                    } else {
                        0.8
                    },
                    presence: 0.99,
                };
            }
            for (left, right) in LEG_PAIRS {
                for id in [left, right] {
                    if random.uniform() < corruption.low_visibility_fraction
                        && let Some(landmark) = landmarks.get_mut(id.index())
                    {
                        landmark.visibility = 0.05;
                        landmark.x_px += (40.0 * (random.uniform() - 0.5)) as f32;
                        landmark.y_px += (40.0 * (random.uniform() - 0.5)) as f32;
                    }
                }
            }
            frames.push(PoseFrame {
                index: index as u64,
                timestamp_s: time_s,
                pose: Some(Pose {
                    landmarks,
                    world_landmarks: [WorldLandmark::default(); LANDMARK_COUNT],
                    score: 0.99,
                    roi: Roi::default(),
                }),
            });
        }
        for _ in 0..corruption.swap_episode_count {
            let start = (random.uniform() * frame_count as f64) as usize;
            let length = 2 + (random.uniform() * 3.0) as usize;
            for frame in frames.iter_mut().skip(start).take(length) {
                if let Some(pose) = &mut frame.pose {
                    for (left, right) in LEG_PAIRS {
                        pose.landmarks.swap(left.index(), right.index());
                    }
                }
            }
        }
        let dropouts = (corruption.dropout_frame_fraction * frame_count as f64).round() as usize;
        for _ in 0..dropouts {
            let frame = (random.uniform() * frame_count as f64) as usize;
            if let Some(frame) = frames.get_mut(frame) {
                frame.pose = None;
            }
        }
        SyntheticClip {
            sequence: PoseSequence {
                width_px: self.width_px,
                height_px: self.height_px,
                fps: self.fps,
                frames,
            },
            truth: self.truth(&model),
        }
    }

    fn truth(&self, model: &Model) -> SyntheticTruth {
        let stride_s = model.stride_s;
        let contact_s = model.duty * stride_s;
        let mut contacts = Vec::new();
        for side in [Side::Left, Side::Right] {
            let offset = if side == Side::Left { 0.0 } else { 0.5 };
            let first = -(self.start_phase + offset);
            let mut k = 0.0;
            loop {
                let ic_s = (first + k) * stride_s;
                k += 1.0;
                if ic_s < 0.0 {
                    continue;
                }
                let to_s = ic_s + contact_s;
                if to_s > self.duration_s - 1.0 / self.fps {
                    break;
                }
                contacts.push(TrueContact { side, ic_s, to_s });
            }
        }
        contacts.sort_by(|a, b| a.ic_s.total_cmp(&b.ic_s));
        // Dense samples over one stride for the means, extremes and oscillation.
        let samples = 2000;
        let t0 = 2.0 * stride_s;
        let mut lean_sum = 0.0;
        let mut lean_min = f64::INFINITY;
        let mut lean_max = f64::NEG_INFINITY;
        let mut pelvis_min = f64::INFINITY;
        let mut pelvis_max = f64::NEG_INFINITY;
        // One step: from a left initial contact to the next right one.
        let left_ic_s = (2.0 - self.start_phase) * stride_s;
        for k in 0..samples {
            let t = t0 + stride_s * k as f64 / samples as f64;
            let lean = model.trunk_lean_deg(t);
            lean_sum += lean;
            lean_min = lean_min.min(lean);
            lean_max = lean_max.max(lean);
            let step_t = left_ic_s + 0.5 * stride_s * k as f64 / samples as f64;
            let body = model.body(step_t);
            let pelvis = 0.5 * (body.hip[0].up_m + body.hip[1].up_m);
            pelvis_min = pelvis_min.min(pelvis);
            pelvis_max = pelvis_max.max(pelvis);
        }
        let leg_m = (THIGH_PER_HEIGHT + SHANK_PER_HEIGHT) * self.height_m;
        let ic_leg = model.leg(0.0);
        let knee_peak = (0..=400)
            .map(|k| model.knee_deg(model.duty * k as f64 / 400.0))
            .fold(f64::NEG_INFINITY, f64::max);
        let hip_ext_peak = (0..=400)
            .map(|k| -model.thigh_deg(model.duty * k as f64 / 400.0))
            .fold(f64::NEG_INFINITY, f64::max);
        let midstance_s = left_ic_s + 0.5 * contact_s;
        SyntheticTruth {
            contacts,
            cadence_steps_per_min: self.cadence_steps_per_min,
            contact_time_ms: contact_s * 1000.0,
            flight_time_ms: (0.5 * stride_s - contact_s) * 1000.0,
            trunk_lean_mean_deg: lean_sum / samples as f64,
            trunk_lean_min_deg: lean_min,
            trunk_lean_max_deg: lean_max,
            trunk_lean_midstance_deg: model.trunk_lean_deg(midstance_s),
            foot_strike_angle_deg: model.foot_deg(0.0),
            tibia_angle_ic_deg: model.thigh_deg(0.0) - model.knee_deg(0.0),
            knee_flexion_ic_deg: model.knee_deg(0.0),
            knee_flexion_peak_stance_deg: knee_peak,
            hip_extension_peak_deg: hip_ext_peak,
            hip_extension_to_deg: -model.thigh_deg(model.duty),
            overstride_pct_leg_length: 100.0 * ic_leg.heel.forward_m / leg_m,
            vertical_oscillation_pct_leg_length: 100.0 * (pelvis_max - pelvis_min) / leg_m,
            pelvic_drop_deg: self.pelvic_drop_deg,
            knee_projection_angle_midstance_deg: self.knee_valgus_deg,
            step_width_cm: 100.0 * self.step_width_m,
            foot_from_midline_cm: 50.0 * self.step_width_m,
            heel_whip_deg: self.heel_whip_deg,
            leg_length_px: leg_m * self.px_per_m,
        }
    }

    /// The lowest point of each foot above the belt, metres, at `time_s` (for checking the model: a stance
    /// foot is at 0, a swing foot above).
    pub fn foot_heights_m(&self, time_s: f64) -> [f64; 2] {
        let model = Model::new(self);
        let body = model.body(time_s);
        [Side::Left, Side::Right].map(|side| side.of_pair(&body.hip).up_m - side.of_pair(&body.legs).extent_m())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A swinging foot must clear the belt by this much except within 50 ms of its own contact, metres.
    const MIN_SWING_CLEARANCE_M: f64 = 0.01;

    #[test]
    fn stance_foot_is_on_the_belt_and_swing_foot_clears_it() {
        let runners = [
            SyntheticRunner::default(),
            SyntheticRunner {
                cadence_steps_per_min: 184.0,
                contact_time_ms: 205.0,
                foot_strike_angle_deg: -5.0,
                tibia_angle_ic_deg: 2.0,
                knee_flexion_ic_deg: 12.0,
                knee_flexion_peak_stance_deg: 45.0,
                hip_extension_deg: 16.0,
                ..SyntheticRunner::default()
            },
            SyntheticRunner {
                cadence_steps_per_min: 156.0,
                contact_time_ms: 295.0,
                foot_strike_angle_deg: 20.0,
                tibia_angle_ic_deg: 10.0,
                knee_flexion_ic_deg: 10.0,
                knee_flexion_peak_stance_deg: 35.0,
                hip_extension_deg: 8.0,
                ..SyntheticRunner::default()
            },
        ];
        for runner in runners {
            let truth = runner.generate(&Corruption::default()).truth;
            let stride = runner.stride_s();
            for k in 0..1000 {
                let t = 1.0 + stride * k as f64 / 1000.0;
                let heights = runner.foot_heights_m(t);
                for (side, height) in [Side::Left, Side::Right].into_iter().zip(heights) {
                    let in_stance = truth
                        .contacts
                        .iter()
                        .any(|c| c.side == side && c.ic_s <= t && t <= c.to_s);
                    let near_contact = truth
                        .contacts
                        .iter()
                        .any(|c| c.side == side && (c.ic_s - t).abs().min((c.to_s - t).abs()) < 0.05);
                    if in_stance {
                        assert!(height.abs() < 1e-6, "stance foot at {height} m at {t}");
                    } else if near_contact {
                        assert!(height > -1e-6, "swing foot below the belt ({height} m) at {t}");
                    } else {
                        assert!(
                            height > MIN_SWING_CLEARANCE_M,
                            "swing foot only {height:.3} m above the belt at {t} ({} steps/min)",
                            runner.cadence_steps_per_min
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn truth_matches_parameters() {
        let runner = SyntheticRunner::default();
        let truth = runner.generate(&Corruption::default()).truth;
        assert!((truth.tibia_angle_ic_deg - runner.tibia_angle_ic_deg).abs() < 1e-9);
        assert!((truth.hip_extension_to_deg - runner.hip_extension_deg).abs() < 1e-9);
        assert!((truth.hip_extension_peak_deg - runner.hip_extension_deg).abs() < 1e-6);
        assert!((truth.contact_time_ms - runner.contact_time_ms).abs() < 1e-6);
        let steps = truth.contacts.len() as f64;
        assert!(
            steps > 2.0 * runner.duration_s,
            "about 28 contacts in 10 s, got {steps}"
        );
        assert!(truth.vertical_oscillation_pct_leg_length > 2.0 && truth.vertical_oscillation_pct_leg_length < 15.0);
    }
}
