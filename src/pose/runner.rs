//! Which person is the runner when the detector finds several, and how the stage stays on that person.
//!
//! MediaPipe takes the detector's best-scoring person whenever it runs the detector, so with a bystander in
//! frame it can jump between people from one detection to the next. runform commits to one person instead:
//! - **a hint** (`--runner-at X,Y`, fractions of the frame) picks the person whose ROI contains that point
//!   (nearest ROI centre among them); nobody is followed until such a person is found;
//! - **otherwise the most plausible runner**: the highest detection score × the fraction of the person's body
//!   ROI that lies inside the frame ([`plausibility`]). A runner filmed for a gait assessment is in full view;
//!   bystanders (a coach in the foreground, people at the edge) are often cut off by the frame.
//! - **afterwards**, whenever the detector runs again (tracking lost, or per-frame mode), only people whose ROI
//!   centre lies within a gate around the runner's last ROI are candidates, the nearest wins. The gate is
//!   [`GATE_BASE_ROI_FRACTION`] of the runner's (running average) ROI side and widens by
//!   [`GATE_GROWTH_ROI_FRACTION_PER_S`] per second since the runner was last seen: a person standing beside the
//!   runner is not taken on the frame after a loss.
//! - after [`REACQUIRE_AFTER_S`] without the runner, the stage picks the most plausible person again and counts
//!   them as a **new identity**, unless they are within [`REACQUIRE_SAME_IDENTITY_ROI_FRACTION`] of the runner's
//!   last place (with a hint: the person at the hint again, as the same identity).
//! - **while tracking** (where MediaPipe never runs the detector), a census runs the detector every
//!   [`CENSUS_INTERVAL_S`]: a person [`SWITCH_PLAUSIBILITY_RATIO`] times as plausible as the tracked one (who
//!   counts 0 when the detector misses them) in [`SWITCH_AFTER_CENSUSES`] censuses in a row becomes the tracked
//!   person, as a new identity. Without it, tracking that started on a bystander (the backlit man on the box in
//!   walk_side_sports2d_demo, whom the detector scores below 0.5) stays on him while the walker crosses the
//!   frame. No census runs when the user gave a hint.
//! - when the clip is done, [`keep_one_identity`] keeps the poses of one identity only: the hinted one, otherwise
//!   the one seen in the most frames. So a bystander followed for a while before the runner came into view (or
//!   after they left) is dropped, and the output never hops between people.

use crate::landmarks::Roi;
use crate::pose::detector::Detection;

/// Gate radius around the runner's last ROI centre, as a fraction of that ROI's side, right after losing them.
pub const GATE_BASE_ROI_FRACTION: f32 = 0.15;

/// How fast the gate widens while the runner is not seen, ROI sides per second.
pub const GATE_GROWTH_ROI_FRACTION_PER_S: f32 = 0.5;

/// Weight of the newest ROI side in the runner's running scale (an exponential moving average), so that one
/// undersized detection does not shrink the gate.
pub const SCALE_SMOOTHING: f32 = 0.2;

/// After this long without the runner, the most plausible person is taken again, as a new identity, seconds.
pub const REACQUIRE_AFTER_S: f64 = 0.5;

/// A person reacquired within this fraction of the runner's ROI side from where the runner was last seen is taken
/// to be the runner again (same identity): after a short loss, whoever is found where the runner was is the runner.
pub const REACQUIRE_SAME_IDENTITY_ROI_FRACTION: f32 = 0.75;

/// While tracking, the detector also runs this often to look for a more plausible runner, seconds.
pub const CENSUS_INTERVAL_S: f64 = 1.0 / 3.0;

/// In a census, a detection whose ROI centre lies within this fraction of the runner's ROI side of the tracked ROI
/// is the runner. Generous, because a detection's centre (its hip keypoint) and the tracking ROI's (auxiliary
/// landmark 33) differ more on a fast runner than the reacquisition gate allows: with the tighter gate, a sprinter
/// in overground_side_openpose_overlay_radluy was taken for his own challenger.
pub const CENSUS_SAME_PERSON_ROI_FRACTION: f32 = 0.5;

/// A challenger must be this many times as plausible as the tracked runner to count.
pub const SWITCH_PLAUSIBILITY_RATIO: f32 = 1.5;

/// Consecutive censuses a challenger must win before the stage follows them instead (as a new identity).
pub const SWITCH_AFTER_CENSUSES: u32 = 3;

/// A point the user says the runner is at, as fractions of the frame's width and height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunnerHint {
    /// Fraction of the width, 0 (left) to 1 (right).
    pub x: f32,
    /// Fraction of the height, 0 (top) to 1 (bottom).
    pub y: f32,
}

impl std::str::FromStr for RunnerHint {
    type Err = String;

    /// Parses `X,Y` with both in 0..1.
    fn from_str(text: &str) -> Result<RunnerHint, String> {
        let (x, y) = text
            .split_once(',')
            .ok_or_else(|| format!("{text:?} is not X,Y (two fractions of the frame, e.g. 0.4,0.6)"))?;
        let parse = |v: &str| {
            v.trim()
                .parse::<f32>()
                .ok()
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or_else(|| format!("{v:?} is not a fraction of the frame between 0 and 1"))
        };
        Ok(RunnerHint {
            x: parse(x)?,
            y: parse(y)?,
        })
    }
}

/// What the stage remembers of the runner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunnerMemory {
    /// Where the runner's last pose was: the ROI its auxiliary landmarks give (or the one it was found in).
    pub roi: Roi,
    /// When that pose was seen, seconds.
    pub last_seen_s: f64,
    /// Which identity the runner is (a new one after each reacquisition).
    pub identity: u32,
    /// Running average of the runner's ROI side, pixels (the gate's unit).
    pub scale_px: f32,
}

impl RunnerMemory {
    /// The memory after seeing the runner (of `identity`) at `roi` at `now_s`.
    pub fn updated(previous: Option<&RunnerMemory>, roi: Roi, now_s: f64, identity: u32) -> RunnerMemory {
        let side = roi.width_px.max(roi.height_px);
        let scale_px = match previous {
            Some(memory) if memory.identity == identity => memory.scale_px + SCALE_SMOOTHING * (side - memory.scale_px),
            _ => side,
        };
        RunnerMemory {
            roi,
            last_seen_s: now_s,
            identity,
            scale_px,
        }
    }
}

/// The person chosen among the detections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// Index into the detections.
    pub index: usize,
    /// The identity: the remembered runner's, or a new one.
    pub identity: u32,
}

/// Fraction of a square ROI (taken axis-aligned, its rotation ignored) that lies inside the frame.
pub fn in_frame_fraction(roi: &Roi, width_px: u32, height_px: u32) -> f32 {
    let half = roi.width_px.max(roi.height_px) / 2.0;
    if half <= 0.0 {
        return 0.0;
    }
    let inside = |center: f32, limit: u32| {
        ((center + half).min(limit as f32) - (center - half).max(0.0)).max(0.0) / (2.0 * half)
    };
    inside(roi.center_x_px, width_px) * inside(roi.center_y_px, height_px)
}

fn distance_px(a: &Roi, b: &Roi) -> f32 {
    (a.center_x_px - b.center_x_px).hypot(a.center_y_px - b.center_y_px)
}

/// Picks the runner among `detections` (see the module documentation), or `None` when nobody qualifies. A new
/// identity gets the number `next_identity`.
pub fn choose_detection(
    detections: &[Detection],
    width_px: u32,
    height_px: u32,
    runner: Option<&RunnerMemory>,
    hint: Option<RunnerHint>,
    now_s: f64,
    next_identity: u32,
) -> Option<Choice> {
    let rois = detections.iter().map(|d| d.roi(width_px, height_px));
    let mut identity = next_identity;
    if let Some(memory) = runner {
        // The gate stops widening when reacquisition takes over.
        let gap_s = (now_s - memory.last_seen_s).clamp(0.0, REACQUIRE_AFTER_S);
        let gate_px = memory.scale_px * (GATE_BASE_ROI_FRACTION + GATE_GROWTH_ROI_FRACTION_PER_S * gap_s as f32);
        let nearest = rois
            .clone()
            .enumerate()
            .map(|(index, roi)| (index, distance_px(&roi, &memory.roi)))
            .filter(|&(_, distance)| distance <= gate_px)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((index, _)) = nearest {
            return Some(Choice {
                index,
                identity: memory.identity,
            });
        }
        if now_s - memory.last_seen_s < REACQUIRE_AFTER_S {
            return None;
        }
        if hint.is_some() {
            // The hinted person stays the runner: look for them at the hint again.
            identity = memory.identity;
        }
    }
    if let Some(hint) = hint {
        let point = Roi {
            center_x_px: hint.x * width_px as f32,
            center_y_px: hint.y * height_px as f32,
            ..Roi::default()
        };
        return rois
            .enumerate()
            .filter(|(_, roi)| {
                let half = roi.width_px / 2.0;
                (roi.center_x_px - point.center_x_px).abs() <= half
                    && (roi.center_y_px - point.center_y_px).abs() <= half
            })
            .min_by(|a, b| distance_px(&a.1, &point).total_cmp(&distance_px(&b.1, &point)))
            .map(|(index, _)| Choice { index, identity });
    }
    let (index, roi) = detections
        .iter()
        .zip(rois)
        .map(|(d, roi)| (d.score * in_frame_fraction(&roi, width_px, height_px), roi))
        .enumerate()
        .max_by(|a, b| a.1.0.total_cmp(&b.1.0))
        .map(|(index, (_, roi))| (index, roi))?;
    if let Some(memory) = runner
        && distance_px(&roi, &memory.roi) <= REACQUIRE_SAME_IDENTITY_ROI_FRACTION * memory.scale_px
    {
        identity = memory.identity;
    }
    Some(Choice { index, identity })
}

/// How plausible a detection is as the runner: its score × the fraction of its ROI inside the frame.
pub fn plausibility(detection: &Detection, width_px: u32, height_px: u32) -> f32 {
    detection.score * in_frame_fraction(&detection.roi(width_px, height_px), width_px, height_px)
}

/// A census while tracking: among `detections`, the person outside the runner's gate who is more plausible than
/// the runner by [`SWITCH_PLAUSIBILITY_RATIO`] (the runner counts 0 when the detector does not find them), if any.
/// The stage switches to such a challenger only after [`SWITCH_AFTER_CENSUSES`] censuses in a row.
pub fn census_challenger(
    detections: &[Detection],
    width_px: u32,
    height_px: u32,
    runner: &RunnerMemory,
) -> Option<usize> {
    let gate_px = CENSUS_SAME_PERSON_ROI_FRACTION * runner.scale_px;
    let mut runner_plausibility = 0.0f32;
    let mut challenger: Option<(usize, f32)> = None;
    for (index, detection) in detections.iter().enumerate() {
        let p = plausibility(detection, width_px, height_px);
        if distance_px(&detection.roi(width_px, height_px), &runner.roi) <= gate_px {
            runner_plausibility = runner_plausibility.max(p);
        } else if challenger.is_none_or(|(_, best)| p > best) {
            challenger = Some((index, p));
        }
    }
    challenger
        .filter(|&(_, p)| p > SWITCH_PLAUSIBILITY_RATIO * runner_plausibility)
        .map(|(index, _)| index)
}

/// Keeps the poses of one identity (`identities[i]` is frame i's, `None` without a pose) and clears the others:
/// identity 0 when `keep_first` (the hinted runner), otherwise the identity with the most frames (the earliest on
/// a tie) among those not `superseded` (left for a more plausible person by a census), if any remains. Returns how
/// many poses were cleared.
pub fn keep_one_identity<T>(
    poses: &mut [Option<T>],
    identities: &[Option<u32>],
    keep_first: bool,
    superseded: &[u32],
) -> usize {
    let mut counts: Vec<usize> = Vec::new();
    for identity in identities.iter().flatten() {
        let i = *identity as usize;
        if counts.len() <= i {
            counts.resize(i + 1, 0);
        }
        // Always there: just resized to hold `i`.
        if let Some(count) = counts.get_mut(i) {
            *count += 1;
        }
    }
    let most_frames = |eligible: &dyn Fn(u32) -> bool| {
        counts
            .iter()
            .enumerate()
            .filter(|&(i, &count)| count > 0 && eligible(i as u32))
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i as u32)
    };
    let keep = if keep_first {
        0
    } else {
        most_frames(&|i| !superseded.contains(&i))
            .or_else(|| most_frames(&|_| true))
            .unwrap_or(0)
    };
    let mut cleared = 0;
    for (pose, identity) in poses.iter_mut().zip(identities) {
        if pose.is_some() && *identity != Some(keep) {
            *pose = None;
            cleared += 1;
        }
    }
    cleared
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::detector::{DETECTOR_KEYPOINT_COUNT, NormPoint};

    /// A detection whose ROI is centred at (x, y) (normalised) with side 1.25 × 2 × `half_body` (normalised, in a
    /// 1000×1000 frame).
    fn person(score: f32, x: f32, y: f32, half_body: f32) -> Detection {
        let mut keypoints = [NormPoint::default(); DETECTOR_KEYPOINT_COUNT];
        keypoints[0] = NormPoint { x, y };
        keypoints[1] = NormPoint { x, y: y - half_body };
        Detection {
            score,
            keypoints,
            ..Detection::default()
        }
    }

    #[test]
    fn hint_parses_fractions_only() {
        assert_eq!("0.25, 0.5".parse::<RunnerHint>(), Ok(RunnerHint { x: 0.25, y: 0.5 }));
        assert!("0.5".parse::<RunnerHint>().is_err());
        assert!("1.5,0.2".parse::<RunnerHint>().is_err());
    }

    #[test]
    fn plausibility_prefers_a_person_in_full_view_over_a_cut_off_one() {
        // A bystander with a higher score whose ROI hangs below the frame, and a runner fully in view.
        let bystander = person(0.95, 0.8, 0.9, 0.2);
        let runner = person(0.8, 0.4, 0.5, 0.15);
        let first = |index| Some(Choice { index, identity: 0 });
        assert_eq!(
            choose_detection(&[bystander, runner], 1000, 1000, None, None, 0.0, 0),
            first(1)
        );
        // One person: MediaPipe's choice.
        assert_eq!(choose_detection(&[runner], 1000, 1000, None, None, 0.0, 0), first(0));
        assert_eq!(choose_detection(&[], 1000, 1000, None, None, 0.0, 0), None);
    }

    #[test]
    fn hint_picks_the_person_it_points_at() {
        let a = person(0.95, 0.3, 0.5, 0.1);
        let b = person(0.7, 0.7, 0.5, 0.1);
        let hint = Some(RunnerHint { x: 0.72, y: 0.4 });
        assert_eq!(
            choose_detection(&[a, b], 1000, 1000, None, hint, 0.0, 0),
            Some(Choice { index: 1, identity: 0 })
        );
        let nowhere = Some(RunnerHint { x: 0.05, y: 0.05 });
        assert_eq!(choose_detection(&[a, b], 1000, 1000, None, nowhere, 0.0, 0), None);
    }

    #[test]
    fn after_a_loss_only_people_near_the_runner_qualify_until_reacquisition() {
        let runner = person(0.6, 0.3, 0.5, 0.1);
        let memory = RunnerMemory::updated(None, runner.roi(1000, 1000), 1.0, 3);
        // ROI side = 2 × 100 px × 1.25 = 250 px; the gate right after the loss is 0.15 × 250 ≈ 38 px.
        let bystander = person(0.99, 0.7, 0.5, 0.1); // 400 px away
        let moved = person(0.5, 0.33, 0.5, 0.1); // 30 px away
        let same = Some(Choice { index: 1, identity: 3 });
        assert_eq!(
            choose_detection(&[bystander, moved], 1000, 1000, Some(&memory), None, 1.03, 4),
            same
        );
        assert_eq!(
            choose_detection(&[bystander], 1000, 1000, Some(&memory), None, 1.03, 4),
            None
        );
        assert_eq!(
            choose_detection(&[bystander], 1000, 1000, Some(&memory), None, 1.4, 4),
            None
        );
        // After half a second without the runner, the most plausible person is taken as a new identity…
        let new = Some(Choice { index: 0, identity: 4 });
        assert_eq!(
            choose_detection(&[bystander], 1000, 1000, Some(&memory), None, 1.6, 4),
            new
        );
        // …but someone found where the runner was is the runner.
        let returned = person(0.9, 0.45, 0.5, 0.1); // 150 px away, within 0.75 × 250 px
        assert_eq!(
            choose_detection(&[returned], 1000, 1000, Some(&memory), None, 1.6, 4),
            Some(Choice { index: 0, identity: 3 })
        );
        // …unless the user pointed at the runner: then only someone at the hint will do, as the same identity.
        let hint = Some(RunnerHint { x: 0.3, y: 0.5 });
        assert_eq!(
            choose_detection(&[bystander], 1000, 1000, Some(&memory), hint, 9.0, 4),
            None
        );
        let back = person(0.9, 0.32, 0.5, 0.1);
        let same = Some(Choice { index: 1, identity: 3 });
        assert_eq!(
            choose_detection(&[bystander, back], 1000, 1000, Some(&memory), hint, 9.0, 4),
            same
        );
    }

    #[test]
    fn one_small_roi_does_not_shrink_the_gate() {
        let roi = |side: f32| Roi {
            width_px: side,
            height_px: side,
            ..Roi::default()
        };
        let first = RunnerMemory::updated(None, roi(500.0), 0.0, 0);
        let after_small = RunnerMemory::updated(Some(&first), roi(100.0), 0.03, 0);
        assert!((after_small.scale_px - 420.0).abs() < 1e-3);
        let other = RunnerMemory::updated(Some(&after_small), roi(100.0), 2.0, 1);
        assert_eq!(other.scale_px, 100.0, "a new identity starts afresh");
    }

    #[test]
    fn census_counts_a_missed_runner_as_zero_and_needs_a_clear_margin() {
        let runner = person(0.9, 0.3, 0.5, 0.1);
        let memory = RunnerMemory::updated(None, runner.roi(1000, 1000), 1.0, 0);
        let walker = person(0.9, 0.7, 0.5, 0.1);
        // The tracked person is not detected: anyone plausible elsewhere challenges.
        assert_eq!(census_challenger(&[walker], 1000, 1000, &memory), Some(0));
        // Both detected with similar plausibility: no challenge.
        assert_eq!(census_challenger(&[runner, walker], 1000, 1000, &memory), None);
        // A cut-off bystander with a higher score does not beat a runner in full view.
        let coach = person(0.95, 0.8, 0.9, 0.2);
        assert_eq!(census_challenger(&[runner, coach], 1000, 1000, &memory), None);
    }

    #[test]
    fn only_the_main_identity_is_kept() {
        let mut poses = [Some('a'), Some('a'), None, Some('b'), Some('b'), Some('b'), None];
        let identities = [Some(0), Some(0), None, Some(1), Some(1), Some(1), None];
        assert_eq!(keep_one_identity(&mut poses, &identities, false, &[]), 2);
        assert_eq!(poses, [None, None, None, Some('b'), Some('b'), Some('b'), None]);
        let mut poses = [Some('a'), Some('b'), Some('b')];
        assert_eq!(
            keep_one_identity(&mut poses, &[Some(0), Some(1), Some(1)], true, &[]),
            2
        );
        assert_eq!(poses, [Some('a'), None, None]);
        // A census left `a` for `b`: `b` is kept although seen less.
        let mut poses = [Some('a'), Some('a'), Some('a'), Some('b')];
        let identities = [Some(0), Some(0), Some(0), Some(1)];
        assert_eq!(keep_one_identity(&mut poses, &identities, false, &[0]), 3);
        assert_eq!(poses, [None, None, None, Some('b')]);
    }

    #[test]
    fn in_frame_fraction_of_a_half_outside_roi() {
        let roi = Roi {
            center_x_px: 0.0,
            center_y_px: 50.0,
            width_px: 100.0,
            height_px: 100.0,
            rotation_rad: 0.0,
        };
        assert!((in_frame_fraction(&roi, 200, 200) - 0.5).abs() < 1e-6);
    }
}
