//! Running parts: where in a clip the runner runs steadily, so that the analysis measures that and says what it
//! left out. A clinic clip is rarely all running: the athlete steps onto the belt, holds the rails while it
//! speeds up, slows down to step off; an edited clip joins takes with cuts, or slows some of them down. Gait
//! events and their averages are only meaningful over a stretch of steady running.
//!
//! The clip is first split at **scene cuts** (the whole pose jumps between two frames: most landmarks move
//! further than a leg length's fraction a frame allows, or the trunk jumps or changes size) and at gaps where the
//! runner is lost. In each piece every **swing of each foot** is found as a peak of its heel's position ahead of
//! the pelvis (Zeni's initial-contact marker, robust at any rhythm), and the peaks of both feet are merged in time.
//! A **running part** is a run of at least [`MIN_PART_STEPS`] steps in which the feet alternate, every step lasts
//! from [`MIN_STEP_S`] to [`MAX_STEP_S`] (80–400 steps/min), each step is within [`STEP_TOLERANCE_FRACTION`] of
//! the part's median, and the arms swing (a runner holding the rails keeps the wrists still while the legs move).
//! A part slower than [`MIN_RUNNING_CADENCE_STEPS_PER_MIN`] is walking, not running. Everything else is a skipped
//! span with its reason.
//!
//! The **measured parts** — the ones the report's averages use — are the longest running part and every other
//! part whose cadence is within [`SAME_PACE_FRACTION`] of it (the same running interrupted by a cut or a slow-
//! motion stretch). Slow motion shows as steps too long for running (a sprint at 4× slow motion runs at 67
//! "steps/min"): such spans are skipped, never measured as if they were real time.

use serde::{Deserialize, Serialize};

use crate::events::{self, MAX_STRIDE_S, MIN_STRIDE_S};
use crate::landmarks::LandmarkId;
use crate::track::{BeltFrame, BeltFrames, Side, Tracks, median, sample_or_nan};

/// Shortest step of running, seconds (400 steps/min, beyond any sprinter).
pub const MIN_STEP_S: f64 = 0.5 * MIN_STRIDE_S * 0.75;
/// Longest step of running, seconds (80 steps/min: slower rhythms are walking, or slow motion).
pub const MAX_STEP_S: f64 = 0.5 * MAX_STRIDE_S;
/// A running part needs at least this many steps (two strides: a stride time per foot, so a cadence).
pub const MIN_PART_STEPS: usize = 4;
/// Each step of a part lasts within this fraction of the part's median step.
pub const STEP_TOLERANCE_FRACTION: f64 = 0.3;
/// Below this cadence a part is walking (or slow motion), not running: the low end of the walk-to-run transition's
/// heuristic range, 135-140 steps/min (on a treadmill, cadences of 134, 139 and 141 classified walking and running
/// best, 93 % accurate: Hum Mov Sci 2023;90:103117, doi 10.1016/j.humov.2023.103117). The running detector reads a
/// walking clip's steps as running's and raises running's flags on them (the indoor walking clip on MediaPipe's
/// three kinds of landmarks: parts at 114, 119 and 134 steps/min, and eight flags between them).
pub const MIN_RUNNING_CADENCE_STEPS_PER_MIN: f64 = 135.0;
/// Parts whose cadence is within this fraction of the longest part's are measured with it.
pub const SAME_PACE_FRACTION: f64 = 0.08;
/// A heel swing counts when its peak stands this fraction of the leg length above the troughs around it.
pub const MIN_SWING_PER_LEG: f64 = 0.25;
/// A scene cut: the median landmark moves more than this fraction of the leg length between two frames, beyond
/// the runner's own steady motion across the picture (a running body moves its landmarks a tenth of that).
pub const CUT_MEDIAN_JUMP_PER_LEG: f64 = 0.3;
/// A scene cut: the trunk's centre jumps more than this fraction of the leg length between two frames, beyond the
/// runner's own steady motion across the picture.
pub const CUT_TRUNK_JUMP_PER_LEG: f64 = 0.12;
/// How many of the trunk's last frame-to-frame moves give the motion a cut is a break in (their median).
pub const RECENT_MOVES: usize = 3;
/// A scene cut: the trunk's length changes by more than this factor between two frames (a zoom).
pub const CUT_TRUNK_SCALE: f64 = 1.2;
/// A part ends this many steps after its last swing peak (that stance's initial contact), so that the stance's
/// toe-off is measured too: the toe's trough behind the pelvis, toe-off's anchor, comes 0.9-1.15 steps after the
/// heel's peak on the labelled clips (gym, grass, tiktok), and a trough is only found a third of a step inside the
/// frames measured. At 1.5 steps the tiktok clip lost the last stance of 2 running parts (50 of its 60 labelled
/// stances found, 5 missed without a reason); at 2 steps, with the stances that begin after the last swing and have
/// their troughs cut short by the end of the frames dropped ([`events::CUT_SHORT_TROUGH_FRACTION`]), 52 were found
/// and 3 missed (56 since the rhythm stopped reading two strides as one,
/// [`events::HALF_STRIDE_MIN_SCORE_FRACTION`]), and no other labelled clip's events change.
pub const PART_END_AFTER_LAST_SWING_STEPS: f64 = 2.0;
/// Hands on the rails: both wrists move less than this fraction of the leg length in the picture over a step (a
/// running arm moves them a fifth to a half of one on the labelled clips; hands on the rails, under a tenth).
pub const MIN_ARM_SWING_PER_LEG: f64 = 0.12;

/// A stretch of steady running.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunningPart {
    /// Start, seconds from the first frame.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Steps per minute over the part, from its heel swings.
    pub cadence_steps_per_min: f64,
    /// Steps found in it.
    pub step_count: usize,
    /// Whether the report's averages use it.
    pub measured: bool,
    /// The camera roll its stance feet show, degrees (as the analysis's `camera_roll_deg`). A clip joined from
    /// several takes can be filmed at a different roll in each, so every part's angles are measured against its
    /// own belt line. Absent where the part's roll was not measured (too few stance points): its angles are then
    /// measured against the clip's belt line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_roll_deg: Option<f64>,
    /// How far that roll moves with the stances it is measured from, degrees (jackknife standard error); absent
    /// with too few stances. Above [`events::MAX_UPRIGHT_ROLL_ERROR_DEG`] the stance feet do not slide along one
    /// line (a camera that moves, or loose foot landmarks), and the angles from the vertical are measured against
    /// the picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_roll_error_deg: Option<f64>,
}

/// A stretch the analysis left out, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SkippedSpan {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Why, in plain words.
    pub reason: String,
}

/// The clip divided into running parts and skipped spans.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClipParts {
    /// The running parts, in time order.
    pub parts: Vec<RunningPart>,
    /// What was left out, in time order.
    pub skipped: Vec<SkippedSpan>,
}

impl ClipParts {
    /// Frame ranges (`start..end`) of the running parts, with whether each is measured.
    pub fn frame_ranges(&self, fps: f64) -> Vec<(usize, usize, bool)> {
        self.parts
            .iter()
            .map(|part| {
                (
                    (part.start_s * fps).round().max(0.0) as usize,
                    (part.end_s * fps).round().max(0.0) as usize,
                    part.measured,
                )
            })
            .collect()
    }

    /// The belt frame of every frame: `clip`'s, and within each running part whose camera roll was measured,
    /// that part's.
    pub fn belt_frames(&self, fps: f64, clip: BeltFrame) -> BeltFrames {
        let parts = self
            .frame_ranges(fps)
            .into_iter()
            .zip(&self.parts)
            .filter_map(|((start, end, _), part)| {
                part.camera_roll_deg.map(|roll_deg| {
                    let frame = BeltFrame {
                        roll_rad: roll_deg.to_radians(),
                        forward_sign: clip.forward_sign,
                    };
                    (start, end, frame)
                })
            })
            .collect();
        BeltFrames { clip, parts }
    }

    /// The largest [`RunningPart::camera_roll_error_deg`] (set only where the part's roll was measured) of the
    /// measured parts that is above [`events::MAX_UPRIGHT_ROLL_ERROR_DEG`]: where the stance feet of a measured part
    /// do not slide along one line, that part's belt line is no level, nor is the clip's. `None` where every
    /// measured part's line holds.
    pub fn unsteady_belt_line_deg(&self) -> Option<f64> {
        self.parts
            .iter()
            .filter(|part| part.measured)
            .filter_map(|part| part.camera_roll_error_deg)
            .filter(|&error| error > events::MAX_UPRIGHT_ROLL_ERROR_DEG)
            .max_by(f64::total_cmp)
    }

    /// The frames the angles from the vertical (trunk, thigh, shank) are measured in: the belt frames
    /// ([`ClipParts::belt_frames`]) where the stance feet slide along one line, otherwise the picture itself (a
    /// level camera) for the whole clip, in the direction of travel of `clip`.
    pub fn upright_frames(&self, fps: f64, clip: BeltFrame) -> BeltFrames {
        if self.unsteady_belt_line_deg().is_some() {
            BeltFrames::single(BeltFrame::level(clip.forward_sign))
        } else {
            self.belt_frames(fps, clip)
        }
    }

    /// Whether time `t_s` lies in a measured part; everywhere in a clip not divided into parts (a rear or front
    /// view, whose events are not split into running parts).
    pub fn is_measured(&self, t_s: f64) -> bool {
        self.parts.is_empty()
            || self
                .parts
                .iter()
                .any(|part| part.measured && t_s >= part.start_s && t_s <= part.end_s)
    }

    /// The slowest and the fastest of the measured parts' rhythm cadences, steps per minute.
    pub fn measured_cadence_range(&self) -> Option<(f64, f64)> {
        self.parts
            .iter()
            .filter(|part| part.measured)
            .map(|part| part.cadence_steps_per_min)
            .fold(None, |range, cadence| match range {
                None => Some((cadence, cadence)),
                Some((low, high)) => Some((f64::min(low, cadence), f64::max(high, cadence))),
            })
    }

    /// The rhythm's cadence of the first measured part, steps per minute (the measured parts share a pace, within
    /// [`SAME_PACE_FRACTION`]).
    pub fn measured_cadence(&self) -> Option<f64> {
        self.parts
            .iter()
            .find(|part| part.measured)
            .map(|part| part.cadence_steps_per_min)
    }
}

/// One heel swing peak: the frame (fractional) and which foot.
#[derive(Clone, Copy, Debug)]
struct Swing {
    frame: f64,
    side: Side,
}

/// Finds the running parts of a side-view clip.
pub fn find_running_parts(tracks: &Tracks) -> ClipParts {
    let Some(leg_px) = tracks.leg_length_px else {
        return ClipParts::default();
    };
    let fps = tracks.fps;
    let count = tracks.frame_count();
    let forward_sign = tracks.detection.facing.map_or(1.0, |facing| facing.sign());
    let frame = BeltFrame::level(forward_sign);
    let pieces = cut_free_pieces(tracks, leg_px);
    let mut runs: Vec<(Vec<Swing>, usize)> = Vec::new();
    let mut skipped = Vec::new();
    let mut all_swings = Vec::new();
    let time = |f: f64| f / fps;
    for &(start, end) in &pieces {
        let (swings, heel_ahead) = heel_swings(tracks, &frame, start, end, leg_px);
        let (piece_runs, piece_skipped) = steady_runs(tracks, &frame, &swings, &heel_ahead, leg_px);
        runs.extend(piece_runs);
        skipped.extend(piece_skipped);
        all_swings.extend(swings);
    }
    // Parts: from half a step before the first swing peak to [`PART_END_AFTER_LAST_SWING_STEPS`] after the last
    // (the last stance and its toe-off), inside the piece.
    let parts: Vec<RunningPart> = runs
        .iter()
        .filter_map(|(run, steps)| {
            let (first, last) = (run.first()?, run.last()?);
            let step_frames = (last.frame - first.frame) / (*steps).max(1) as f64;
            let piece = pieces
                .iter()
                .find(|(start, end)| first.frame >= *start as f64 && first.frame < *end as f64)?;
            let start = (first.frame - 0.5 * step_frames).max(piece.0 as f64);
            let end = (last.frame + PART_END_AFTER_LAST_SWING_STEPS * step_frames).min(piece.1 as f64);
            Some(RunningPart {
                start_s: time(start),
                end_s: time(end),
                cadence_steps_per_min: 60.0 * fps / step_frames,
                step_count: *steps,
                measured: false,
                camera_roll_deg: None,
                camera_roll_error_deg: None,
            })
        })
        .collect();
    let mut skipped = outside_parts(skipped, &parts);
    let (walking, mut parts): (Vec<RunningPart>, Vec<RunningPart>) = parts
        .into_iter()
        .partition(|part| part.cadence_steps_per_min < MIN_RUNNING_CADENCE_STEPS_PER_MIN);
    skipped.extend(walking.iter().map(|part| SkippedSpan {
        start_s: part.start_s,
        end_s: part.end_s,
        reason: format!(
            "steps at {:.0} steps/min, a walking pace (adults change from walking to running at 135-140 steps/min), \
             or slow motion",
            part.cadence_steps_per_min
        ),
    }));
    if let Some(longest) = parts
        .iter()
        .map(|part| (part.end_s - part.start_s, part.cadence_steps_per_min))
        .max_by(|a, b| a.0.total_cmp(&b.0))
    {
        for part in &mut parts {
            part.measured = (part.cadence_steps_per_min / longest.1 - 1.0).abs() <= SAME_PACE_FRACTION;
        }
    }
    for part in parts.iter().filter(|part| !part.measured) {
        skipped.push(SkippedSpan {
            start_s: part.start_s,
            end_s: part.end_s,
            reason: format!(
                "running at {:.0} steps/min, a different pace from the measured part",
                part.cadence_steps_per_min
            ),
        });
    }
    // Frames outside every part and every span already explained: no steady running was found there.
    let mut covered: Vec<(f64, f64)> = parts
        .iter()
        .map(|p| (p.start_s, p.end_s))
        .chain(skipped.iter().map(|s| (s.start_s, s.end_s)))
        .collect();
    covered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut cursor = 0.0;
    let clip_end = time(count as f64);
    let mut gaps = Vec::new();
    for (start, end) in covered.iter().chain(std::iter::once(&(clip_end, clip_end))) {
        if *start - cursor > 1.5 / fps {
            let rails =
                still_arm_steps(tracks, &frame, &all_swings, (cursor * fps, *start * fps), leg_px) >= MIN_RAIL_STEPS;
            gaps.push(SkippedSpan {
                start_s: cursor,
                end_s: *start,
                reason: if rails {
                    "no steady running: the feet step while the arms are still, the runner holding the rails \
                     (getting on or off, or finding the pace)"
                } else {
                    "no steady running: the feet do not swing in a running rhythm (standing, walking, getting on \
                     or off, slow motion, the runner out of view, or legs the pose model mixes up)"
                }
                .into(),
            });
        }
        cursor = cursor.max(*end);
    }
    skipped.extend(gaps);
    skipped.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    ClipParts { parts, skipped }
}

/// `spans` cut back where they overlap a part (a part reaches past its last swing into the span after it, to
/// measure its last stance), and dropped where nothing is left of them.
fn outside_parts(spans: Vec<SkippedSpan>, parts: &[RunningPart]) -> Vec<SkippedSpan> {
    spans
        .into_iter()
        .filter_map(|mut span| {
            for part in parts {
                if span.start_s >= part.start_s && span.start_s < part.end_s {
                    span.start_s = part.end_s;
                }
                if span.end_s > part.start_s && span.end_s <= part.end_s {
                    span.end_s = part.start_s;
                }
            }
            (span.end_s > span.start_s).then_some(span)
        })
        .collect()
}

/// The clip's frame ranges between scene cuts and losses of the runner.
fn cut_free_pieces(tracks: &Tracks, leg_px: f64) -> Vec<(usize, usize)> {
    let count = tracks.frame_count();
    let trunk_ids = [
        LandmarkId::LeftShoulder,
        LandmarkId::RightShoulder,
        LandmarkId::LeftHip,
        LandmarkId::RightHip,
    ];
    let trunk = |f: usize| -> Option<((f64, f64), f64)> {
        let points: Vec<(f64, f64)> = trunk_ids.iter().map(|id| tracks.raw(*id).xy(f)).collect();
        if points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
            return None;
        }
        let centre = (
            points.iter().map(|p| p.0).sum::<f64>() / 4.0,
            points.iter().map(|p| p.1).sum::<f64>() / 4.0,
        );
        let [ls, rs, lh, rh] = [points.first()?, points.get(1)?, points.get(2)?, points.get(3)?];
        let length = (0.5 * (ls.0 + rs.0) - 0.5 * (lh.0 + rh.0)).hypot(0.5 * (ls.1 + rs.1) - 0.5 * (lh.1 + rh.1));
        Some((centre, length))
    };
    let mut pieces = Vec::new();
    let mut start: Option<usize> = None;
    // The trunk's last few frame-to-frame moves across the picture within the current piece: a runner crossing
    // the picture moves steadily (a fast one by more than the jump limits every frame), so jumps are measured
    // against the median of these, and only a break in that motion is a cut.
    let mut recent_moves: Vec<f64> = Vec::new();
    for f in 0..count {
        let present = trunk(f).is_some();
        let cut = f > 0
            && present
            && match (trunk(f - 1), trunk(f)) {
                (Some((a, la)), Some((b, lb))) => {
                    // Across the picture only: up and down, the trunk bounces with every step and turns sharply
                    // at each landing, which a median of recent moves does not follow.
                    let expected = (median(&recent_moves).unwrap_or(0.0), 0.0);
                    let jumps: Vec<f64> = tracks
                        .raw
                        .iter()
                        .map(|track| {
                            let ((x0, y0), (x1, y1)) = (track.xy(f - 1), track.xy(f));
                            (x1 - x0 - expected.0).hypot(y1 - y0 - expected.1)
                        })
                        .collect();
                    let median_jump = median(&jumps).unwrap_or(0.0);
                    let scale = if la > 0.0 && lb > 0.0 {
                        (lb / la).max(la / lb)
                    } else {
                        1.0
                    };
                    let trunk_jump = (b.0 - a.0 - expected.0).hypot(b.1 - a.1 - expected.1);
                    // The first move of a piece sets its motion: only a change of size can cut there.
                    let jumped = !recent_moves.is_empty()
                        && (median_jump > CUT_MEDIAN_JUMP_PER_LEG * leg_px
                            || trunk_jump > CUT_TRUNK_JUMP_PER_LEG * leg_px);
                    let cut = jumped || scale > CUT_TRUNK_SCALE;
                    if cut {
                        recent_moves.clear();
                    } else {
                        recent_moves.push(b.0 - a.0);
                        if recent_moves.len() > RECENT_MOVES {
                            recent_moves.remove(0);
                        }
                    }
                    cut
                }
                _ => {
                    recent_moves.clear();
                    false
                }
            };
        match (start, present, cut) {
            (None, true, _) => start = Some(f),
            (Some(s), false, _) => {
                pieces.push((s, f));
                start = None;
            }
            (Some(s), true, true) => {
                pieces.push((s, f));
                start = Some(f);
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        pieces.push((s, count));
    }
    pieces
}

/// Every heel swing peak in frames `start..end`, both feet, in time order.
fn heel_swings(
    tracks: &Tracks,
    frame: &BeltFrame,
    start: usize,
    end: usize,
    leg_px: f64,
) -> (Vec<Swing>, [Vec<f64>; 2]) {
    let piece = tracks.slice(start, end);
    let fps = tracks.fps;
    // Peaks at least this far apart: a third of the shortest step.
    let half_window = ((MIN_STEP_S * fps) / 3.0).round().max(1.0) as usize;
    let mut swings = Vec::new();
    let mut both: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for side in [Side::Left, Side::Right] {
        let (heel_id, _) = heel_and_wrist(side);
        let heel_ahead: Vec<f64> = (0..piece.frame_count())
            .map(|f| {
                let pelvis_u = 0.5
                    * (frame.point(piece.smooth(LandmarkId::LeftHip), f).0
                        + frame.point(piece.smooth(LandmarkId::RightHip), f).0);
                frame.point(piece.smooth(heel_id), f).0 - pelvis_u
            })
            .collect();
        for peak in events::local_peaks(&heel_ahead, half_window, 0) {
            // Prominence: the peak stands well above the lowest point within a step's reach on each side.
            let reach = (MAX_STEP_S * fps).round() as usize;
            let f = peak.round() as usize;
            let lowest = |range: std::ops::Range<usize>| {
                range
                    .filter_map(|g| heel_ahead.get(g).copied())
                    .filter(|v| v.is_finite())
                    .fold(f64::INFINITY, f64::min)
            };
            let value = sample_or_nan(&heel_ahead, f);
            let before = lowest(f.saturating_sub(reach)..f);
            let after = lowest(f..(f + reach).min(heel_ahead.len()));
            if value - before.max(after) >= MIN_SWING_PER_LEG * leg_px
                || (before.is_finite() != after.is_finite() && value - before.min(after) >= MIN_SWING_PER_LEG * leg_px)
            {
                swings.push(Swing {
                    frame: start as f64 + peak,
                    side,
                });
            }
        }
        *side.of_pair_mut(&mut both) = heel_ahead;
    }
    swings.sort_by(|a, b| a.frame.total_cmp(&b.frame));
    // The heel series as frames of the whole clip (NaN outside the piece), so swings index them directly.
    let whole = both.map(|series| {
        let mut padded = vec![f64::NAN; start];
        padded.extend(series);
        padded
    });
    (swings, whole)
}

fn heel_and_wrist(side: Side) -> (LandmarkId, LandmarkId) {
    match side {
        Side::Left => (LandmarkId::LeftHeel, LandmarkId::LeftWrist),
        Side::Right => (LandmarkId::RightHeel, LandmarkId::RightWrist),
    }
}

/// Splits a piece's swings into steady running runs; what does not qualify becomes a skipped span. The expected
/// step at each swing comes from the rhythm around it (the autocorrelation of both heels' swings over
/// ± [`RHYTHM_WINDOW_S`], as for the whole clip in [`crate::events`]), which a pose model's misses and slips
/// hardly move: a run takes the swings that fall a step (or, the far foot missed, two) after the last, skips
/// spurious ones that come too soon, and ends where the rhythm breaks.
fn steady_runs(
    tracks: &Tracks,
    frame: &BeltFrame,
    swings: &[Swing],
    heel_ahead: &[Vec<f64>; 2],
    leg_px: f64,
) -> (Vec<(Vec<Swing>, usize)>, Vec<SkippedSpan>) {
    let fps = tracks.fps;
    let half = (RHYTHM_WINDOW_S * fps).round() as usize;
    let expected_step_frames = |at: f64| -> Option<f64> {
        let f = at.round().max(0.0) as usize;
        let (from, to) = (f.saturating_sub(half), f + half);
        let [left, right] = heel_ahead;
        let (left, right) = (
            left.get(from..to.min(left.len()))?,
            right.get(from..to.min(right.len()))?,
        );
        crate::events::stride_period_s(&[left, right], fps).map(|stride_s| 0.5 * stride_s * fps)
    };
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    let mut current: Vec<Swing> = Vec::new();
    let mut steps_in_current = 0usize;
    let mut reason: Option<String> = None;
    let hands_on_rails =
        |a: &Swing, b: &Swing| arm_swing_px(tracks, frame, a.frame, b.frame) < MIN_ARM_SWING_PER_LEG * leg_px;
    let flush = |current: &mut Vec<Swing>,
                 steps: usize,
                 reason: Option<String>,
                 runs: &mut Vec<(Vec<Swing>, usize)>,
                 skipped: &mut Vec<SkippedSpan>| {
        if steps >= MIN_PART_STEPS {
            runs.push((std::mem::take(current), steps));
        } else {
            if let (Some(first), Some(last)) = (current.first(), current.last())
                && current.len() >= 2
            {
                skipped.push(SkippedSpan {
                    start_s: first.frame / fps,
                    end_s: last.frame / fps,
                    reason: reason.unwrap_or_else(|| {
                        let noun = if steps == 1 { "step" } else { "steps" };
                        format!("only {steps} {noun} of running in a row, too few to measure")
                    }),
                });
            }
            current.clear();
        }
    };
    for swing in swings {
        let expected =
            expected_step_frames(swing.frame).filter(|step| (MIN_STEP_S * fps..=MAX_STEP_S * fps).contains(step));
        let Some(last) = current.last().copied() else {
            if expected.is_some() {
                current.push(*swing);
                steps_in_current = 0;
            }
            continue;
        };
        let step = swing.frame - last.frame;
        let close = |target: f64| (step / target - 1.0).abs() <= STEP_TOLERANCE_FRACTION;
        let verdict = match expected {
            Some(expected) if swing.side != last.side && close(expected) => Some(1),
            Some(expected) if swing.side == last.side && close(2.0 * expected) => Some(2),
            // Too soon for the next step: a spurious swing, skipped.
            Some(expected) if step < (1.0 - STEP_TOLERANCE_FRACTION) * expected => continue,
            _ => None,
        };
        let rails = verdict.is_some() && hands_on_rails(&last, swing);
        if let (Some(steps), false) = (verdict, rails) {
            current.push(*swing);
            steps_in_current += steps;
            continue;
        }
        let why = if rails {
            Some("the arms are still: the runner is holding the rails".to_owned())
        } else if expected.is_none() {
            Some(format!(
                "no running rhythm (steps of {:.1} s: walking, standing, a slow-motion stretch, or legs the pose model \
                 mixes up)",
                step / fps
            ))
        } else {
            None
        };
        flush(
            &mut current,
            steps_in_current,
            reason.take().or(why.clone()),
            &mut runs,
            &mut skipped,
        );
        reason = why;
        steps_in_current = 0;
        if expected.is_some() {
            current.push(*swing);
        }
    }
    flush(&mut current, steps_in_current, reason, &mut runs, &mut skipped);
    (runs, skipped)
}

/// Half-width of the window the local running rhythm is measured over, seconds.
pub const RHYTHM_WINDOW_S: f64 = 1.5;

/// A span with no steady running is said to be the runner holding the rails when at least this many of its steps
/// (see `still_arm_steps`) have the arms still. The heavy model's landmarks of the labelled sprint clip find no
/// running rhythm in its first 2 s, where the runner steps onto the belt and runs with both hands on the rails,
/// and the full model's found the rails only over 0.2 s of it.
pub const MIN_RAIL_STEPS: usize = 2;

/// The steps within `frames` (from a heel's swing to the other heel's next, a running or walking step's time
/// apart: [`MIN_STEP_S`] to [`MAX_STEP_S`]) over which both wrists move less than [`MIN_ARM_SWING_PER_LEG`].
fn still_arm_steps(tracks: &Tracks, frame: &BeltFrame, swings: &[Swing], frames: (f64, f64), leg_px: f64) -> usize {
    let fps = tracks.fps;
    let within: Vec<&Swing> = swings
        .iter()
        .filter(|swing| (frames.0..=frames.1).contains(&swing.frame))
        .collect();
    within
        .windows(2)
        .filter(|pair| match pair {
            [a, b] => {
                a.side != b.side
                    && (MIN_STEP_S * fps..=MAX_STEP_S * fps).contains(&(b.frame - a.frame))
                    && arm_swing_px(tracks, frame, a.frame, b.frame) < MIN_ARM_SWING_PER_LEG * leg_px
            }
            _ => false,
        })
        .count()
}

/// How far the wrists move in the image between two frames, pixels (the larger of the two wrists' ranges in x
/// or y). A runner holding the treadmill's rails keeps them still in the picture while the body bobs; a runner
/// swinging the arms, or even running with the arms held up, moves them with the trunk.
fn arm_swing_px(tracks: &Tracks, _frame: &BeltFrame, from: f64, until: f64) -> f64 {
    let mut widest: f64 = 0.0;
    let mut seen = false;
    for side in [Side::Left, Side::Right] {
        let (_, wrist) = heel_and_wrist(side);
        let track = tracks.raw(wrist);
        let (mut x_range, mut y_range) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
        for f in (from.floor().max(0.0) as usize)..=(until.ceil().max(0.0) as usize) {
            let (x, y) = track.xy(f);
            if x.is_finite() && y.is_finite() {
                x_range = (x_range.0.min(x), x_range.1.max(x));
                y_range = (y_range.0.min(y), y_range.1.max(y));
            }
        }
        if x_range.1 >= x_range.0 {
            seen = true;
            widest = widest.max(x_range.1 - x_range.0).max(y_range.1 - y_range.0);
        }
    }
    // Wrists never found: nothing says the arms are still.
    if seen { widest } else { f64::INFINITY }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::AnalysisSettings;
    use crate::landmarks::PoseSequence;
    use crate::synthetic::{Corruption, SyntheticRunner};
    use crate::track::build_tracks;

    /// Frames of the synthetic clip: two seconds at 30 fps.
    const FRAMES: usize = 60;

    /// A small synthetic runner's landmarks, each frame shifted sideways by `shift(frame, leg_px)` pixels, and
    /// its leg length in pixels.
    fn shifted(shift: impl Fn(usize, f64) -> f64) -> (PoseSequence, f64) {
        let runner = SyntheticRunner {
            duration_s: 2.0,
            fps: 30.0,
            px_per_m: 100.0,
            ..SyntheticRunner::default()
        };
        let clip = runner.generate(&Corruption::default());
        let leg_px = clip.truth.leg_length_px;
        let mut sequence = clip.sequence;
        for (f, frame) in sequence.frames.iter_mut().enumerate() {
            if let Some(pose) = frame.pose.as_mut() {
                for landmark in &mut pose.landmarks {
                    landmark.x_px += shift(f, leg_px) as f32;
                }
            }
        }
        (sequence, leg_px)
    }

    fn pieces_of((sequence, leg_px): (PoseSequence, f64)) -> Vec<(usize, usize)> {
        let tracks = build_tracks(&sequence, &AnalysisSettings::default().track_options());
        cut_free_pieces(&tracks, leg_px)
    }

    #[test]
    fn steps_with_still_arms_are_counted_only_where_the_wrists_stay_put() {
        // The same runner's first second with the wrists held still (hands on the rails), the second free.
        let (mut sequence, leg_px) = shifted(|_, _| 0.0);
        let held = FRAMES / 2;
        let first = sequence
            .frames
            .first()
            .and_then(|frame| frame.pose.clone())
            .expect("pose");
        for frame in sequence.frames.iter_mut().take(held) {
            if let Some(pose) = frame.pose.as_mut() {
                for wrist in [LandmarkId::LeftWrist, LandmarkId::RightWrist] {
                    pose.landmarks[wrist.index()] = first.landmarks[wrist.index()];
                }
            }
        }
        let tracks = build_tracks(&sequence, &AnalysisSettings::default().track_options());
        let frame = BeltFrame::level(tracks.detection.facing.map_or(1.0, |facing| facing.sign()));
        let (swings, _) = heel_swings(&tracks, &frame, 0, FRAMES, leg_px);
        let steps =
            |from: usize, to: usize| still_arm_steps(&tracks, &frame, &swings, (from as f64, to as f64), leg_px);
        // About 170 steps/min: 2-3 steps a second, every one of them with still arms where the wrists are held.
        assert!(steps(0, held) >= MIN_RAIL_STEPS, "{} of {swings:?}", steps(0, held));
        assert_eq!(steps(held, FRAMES), 0);
    }

    #[test]
    fn a_runner_crossing_the_picture_fast_is_one_piece_and_a_jump_cuts_it() {
        // Crossing at a fifth of a leg length a frame (a 4.5 m/s runner filmed at 25 fps): faster than the
        // jump limits, but steady, so no cut.
        let crossing = |f: usize, leg_px: f64| 0.2 * leg_px * f as f64 - 500.0;
        assert_eq!(pieces_of(shifted(crossing)), vec![(0, FRAMES)]);
        // A jump of a leg length half-way (a cut between two takes): two pieces, on a treadmill or crossing.
        let jump = |f: usize, leg_px: f64| if f >= FRAMES / 2 { leg_px } else { 0.0 };
        let halves = vec![(0, FRAMES / 2), (FRAMES / 2, FRAMES)];
        assert_eq!(pieces_of(shifted(jump)), halves);
        assert_eq!(
            pieces_of(shifted(|f, leg_px| crossing(f, leg_px) + jump(f, leg_px))),
            halves
        );
    }

    #[test]
    fn the_angles_from_the_vertical_leave_a_belt_line_the_stance_feet_do_not_agree_on() {
        let part = |start_s: f64, measured: bool, roll_deg: f64, error_deg: f64| RunningPart {
            start_s,
            end_s: start_s + 2.0,
            cadence_steps_per_min: 170.0,
            step_count: 8,
            measured,
            camera_roll_deg: Some(roll_deg),
            camera_roll_error_deg: Some(error_deg),
        };
        let clip = BeltFrame {
            roll_rad: 4f64.to_radians(),
            forward_sign: -1.0,
        };
        let fps = 30.0;
        let roll_at = |parts: &ClipParts, f: usize| parts.upright_frames(fps, clip).at(f).roll_rad.to_degrees();
        // Every measured part's stance feet agree: the angles from the vertical use each part's belt line.
        let steady = ClipParts {
            parts: vec![part(0.0, true, 4.0, 0.3), part(3.0, false, -9.0, 5.0)],
            skipped: Vec::new(),
        };
        assert_eq!(steady.unsteady_belt_line_deg(), None);
        assert!((roll_at(&steady, 30) - 4.0).abs() < 1e-9);
        assert!((roll_at(&steady, 120) + 9.0).abs() < 1e-9);
        // A measured part's do not: the picture's vertical everywhere, facing the same way.
        let unsteady = ClipParts {
            parts: vec![part(0.0, true, 4.0, 0.3), part(3.0, true, -9.0, 2.5)],
            skipped: Vec::new(),
        };
        assert_eq!(unsteady.unsteady_belt_line_deg(), Some(2.5));
        for f in [30, 120, 200] {
            assert_eq!(roll_at(&unsteady, f), 0.0);
        }
        assert_eq!(unsteady.upright_frames(fps, clip).clip.forward_sign, -1.0);
        // The belt frames themselves, for the foot angle and overstride, stay each part's belt line.
        assert!((unsteady.belt_frames(fps, clip).at(120).roll_rad.to_degrees() + 9.0).abs() < 1e-9);
    }

    #[test]
    fn a_span_left_out_starts_where_the_part_before_it_ends() {
        let part = |start_s: f64, end_s: f64| RunningPart {
            start_s,
            end_s,
            cadence_steps_per_min: 170.0,
            step_count: 8,
            measured: true,
            camera_roll_deg: None,
            camera_roll_error_deg: None,
        };
        let span = |start_s: f64, end_s: f64| SkippedSpan {
            start_s,
            end_s,
            reason: "the arms are still: the runner is holding the rails".into(),
        };
        let parts = [part(1.0, 3.4), part(5.0, 8.0)];
        let spans = vec![span(0.2, 1.1), span(3.3, 3.8), span(3.5, 4.9), span(7.0, 7.9)];
        let kept: Vec<(f64, f64)> = outside_parts(spans, &parts)
            .iter()
            .map(|span| (span.start_s, span.end_s))
            .collect();
        // Cut back at either end where a part overlaps it, kept whole between parts, dropped inside one.
        assert_eq!(kept, vec![(0.2, 1.0), (3.4, 3.8), (3.5, 4.9)]);
    }
}
