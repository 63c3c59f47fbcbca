//! Landmark tracks: the pose stage's per-frame landmarks turned into clean per-landmark time series that the
//! event detector and the metrics can trust.
//!
//! In order, [`build_tracks`] (1) reads every landmark into a time series, treating a missing pose or a
//! landmark below [`MIN_VISIBILITY`] as a gap; (2) repairs left/right label swaps of the legs from temporal
//! continuity (the top complaint about 2D pose tools: BlazePose and OpenPose flip the legs for a few frames
//! when they cross); (3) fills gaps no longer than the configured maximum by linear interpolation, leaving
//! longer gaps as gaps; (4) keeps a low-pass copy filtered with a zero-lag (forward–backward) second-order
//! Butterworth filter, cut-off corrected for the double pass (Winter 2009, *Biomechanics and Motor Control of
//! Human Movement*, 4th ed., §3.4.4.4); (5) detects the view, the runner's facing, the direction of travel and
//! the near-side limbs; and (6) estimates a pixel scale from the runner's height when it is given.
//!
//! The belt line and camera roll need stance phases and so are estimated in [`crate::events`]; the
//! [`BeltFrame`] type that carries them lives here because every angle is measured in it.

use serde::{Deserialize, Serialize};

use crate::landmarks::{LANDMARK_COUNT, LandmarkId, PoseSequence};

/// A landmark whose visibility is below this is treated as missing: BlazePose still places occluded or
/// out-of-frame landmarks, but below ~0.1 the positions are guesses (seen on the feet-out-of-frame fixture).
pub const MIN_VISIBILITY: f64 = 0.1;

/// A landmark whose presence (probability of being inside the frame) is below this is treated as missing.
/// MediaPipe's legacy API reports no presence (NaN), which is not treated as missing.
pub const MIN_PRESENCE: f64 = 0.1;

/// Thigh plus shank length as a fraction of standing height (Winter 2009, Table 4.1: thigh 0.245 H,
/// shank 0.246 H). Used for the pixel scale from `height_cm`.
pub const THIGH_PLUS_SHANK_PER_HEIGHT: f64 = 0.491;

/// The leg-swap repair's cost of relabelling one frame, as a fraction of the leg length (pixels of landmark
/// travel it must save). High enough that jitter where the legs cross does not flip them, far below what a real
/// flip costs (the landmarks of both legs jumping between the legs and back).
pub const SWAP_PENALTY_PER_FRAME_LEG: f64 = 0.1;

/// Shoulder or hip width over torso length below which the view is a side view.
pub const SIDE_VIEW_MAX_WIDTH_RATIO: f64 = 0.3;

/// Shoulder or hip width over torso length above which the view is a rear or front view.
pub const FRONTAL_VIEW_MIN_WIDTH_RATIO: f64 = 0.45;

/// Hip-midpoint speed above which the runner travels across the frame (overground), in leg lengths per second.
pub const TRAVEL_MIN_SPEED_LEG_PER_S: f64 = 0.5;

/// Butterworth cut-off is kept below this fraction of the frame rate (Nyquist is 0.5).
pub const MAX_CUTOFF_PER_FPS: f64 = 0.45;

/// Which of the runner's sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The runner's own left.
    Left,
    /// The runner's own right.
    Right,
}

impl Side {
    /// The other side.
    pub const fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }

    /// This side's entry of a `[left, right]` pair.
    pub const fn of_pair<T>(self, pair: &[T; 2]) -> &T {
        let [left, right] = pair;
        match self {
            Side::Left => left,
            Side::Right => right,
        }
    }

    /// This side's entry of a `[left, right]` pair, mutable.
    pub const fn of_pair_mut<T>(self, pair: &mut [T; 2]) -> &mut T {
        let [left, right] = pair;
        match self {
            Side::Left => left,
            Side::Right => right,
        }
    }
}

/// The camera's view of the runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Sagittal plane: the camera sees the runner's side.
    Side,
    /// Frontal plane from behind.
    Rear,
    /// Frontal plane from in front.
    Front,
    /// Neither clearly side nor frontal (a three-quarter view).
    Oblique,
}

/// Which way the runner faces in the image (side view).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Facing {
    /// Towards the image's right edge.
    Right,
    /// Towards the image's left edge.
    Left,
}

impl Facing {
    /// +1 when facing right (image x grows forward), −1 when facing left.
    pub const fn sign(self) -> f64 {
        match self {
            Facing::Right => 1.0,
            Facing::Left => -1.0,
        }
    }
}

/// How the runner moves through the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Travel {
    /// The hips stay in place (treadmill, or running in place).
    InPlace,
    /// The hips move towards the image's right edge (overground).
    TowardsRight,
    /// The hips move towards the image's left edge (overground).
    TowardsLeft,
}

/// The left/right pairs of leg landmarks whose labels are swapped together when BlazePose flips the legs.
pub const LEG_PAIRS: [(LandmarkId, LandmarkId); 5] = [
    (LandmarkId::LeftHip, LandmarkId::RightHip),
    (LandmarkId::LeftKnee, LandmarkId::RightKnee),
    (LandmarkId::LeftAnkle, LandmarkId::RightAnkle),
    (LandmarkId::LeftHeel, LandmarkId::RightHeel),
    (LandmarkId::LeftFootIndex, LandmarkId::RightFootIndex),
];

/// One landmark over time. Missing samples are NaN in both coordinates.
#[derive(Clone, Debug, Default)]
pub struct LandmarkTrack {
    /// Image x, pixels, per frame.
    pub x_px: Vec<f64>,
    /// Image y (down), pixels, per frame.
    pub y_px: Vec<f64>,
    /// Depth relative to the hips, pixels, per frame (negative = nearer the camera).
    pub z_px: Vec<f64>,
    /// The model's visibility, 0..1, per frame (0 where missing).
    pub visibility: Vec<f64>,
}

impl LandmarkTrack {
    fn with_len(frame_count: usize) -> LandmarkTrack {
        LandmarkTrack {
            x_px: vec![f64::NAN; frame_count],
            y_px: vec![f64::NAN; frame_count],
            z_px: vec![f64::NAN; frame_count],
            visibility: vec![0.0; frame_count],
        }
    }

    /// Whether frame `frame` has a position.
    pub fn has(&self, frame: usize) -> bool {
        let (x_px, y_px) = self.xy(frame);
        x_px.is_finite() && y_px.is_finite()
    }

    /// The image position at `frame`, pixels; NaN where missing or past the end.
    pub fn xy(&self, frame: usize) -> (f64, f64) {
        (sample_or_nan(&self.x_px, frame), sample_or_nan(&self.y_px, frame))
    }

    /// Stores one sample; a frame past the end is ignored (every track is `frame_count` long).
    fn set_sample(&mut self, frame: usize, x_px: f64, y_px: f64, z_px: f64, visibility: f64) {
        for (series, value) in [
            (&mut self.x_px, x_px),
            (&mut self.y_px, y_px),
            (&mut self.z_px, z_px),
            (&mut self.visibility, visibility),
        ] {
            if let Some(slot) = series.get_mut(frame) {
                *slot = value;
            }
        }
    }

    /// A copy without spikes: every sample further than `limit_px` from the median position of the
    /// [`SPIKE_WINDOW_FRAMES`] frames centred on it is replaced by the straight line between its neighbours. A
    /// spike can be at most two frames long (three outliers in five would be the median); a landmark moving
    /// steadily, however fast, is never one (its median is its own position). Near the clip's ends the window
    /// shrinks to stay centred, and the first and last frames are kept as they are.
    pub(crate) fn without_spikes(&self, limit_px: f64) -> LandmarkTrack {
        let count = self.x_px.len();
        let half = SPIKE_WINDOW_FRAMES / 2;
        let spikes: Vec<usize> = (0..count)
            .filter(|&f| self.has(f))
            .filter(|&f| {
                let reach = half.min(f).min(count - 1 - f);
                let window: Vec<usize> = (f - reach..=f + reach).filter(|&g| self.has(g)).collect();
                let coordinate =
                    |series: &[f64]| median(&window.iter().map(|&g| sample_or_nan(series, g)).collect::<Vec<f64>>());
                match (window.len() > reach, coordinate(&self.x_px), coordinate(&self.y_px)) {
                    (true, Some(x), Some(y)) => {
                        let (at_x, at_y) = self.xy(f);
                        (at_x - x).hypot(at_y - y) > limit_px
                    }
                    _ => false,
                }
            })
            .collect();
        self.bridged_over(&spikes, half)
    }

    /// A copy with the samples at `frames` replaced by the straight line between their neighbours, where the
    /// gap this leaves is at most `max_gap_frames` long (longer gaps are left missing).
    pub(crate) fn bridged_over(&self, frames: &[usize], max_gap_frames: usize) -> LandmarkTrack {
        let mut clean = self.clone();
        for &f in frames {
            clean.set_sample(f, f64::NAN, f64::NAN, f64::NAN, 0.0);
        }
        fill_short_gaps(&mut clean, max_gap_frames);
        clean
    }

    /// The track low-pass filtered at `cutoff_hz` with [`butterworth_zero_lag`] (visibility as it is).
    pub(crate) fn low_pass(&self, cutoff_hz: f64, fps: f64) -> LandmarkTrack {
        LandmarkTrack {
            x_px: butterworth_zero_lag(&self.x_px, cutoff_hz, fps),
            y_px: butterworth_zero_lag(&self.y_px, cutoff_hz, fps),
            z_px: butterworth_zero_lag(&self.z_px, cutoff_hz, fps),
            visibility: self.visibility.clone(),
        }
    }

    fn swap_with(&mut self, other: &mut LandmarkTrack, frame: usize) {
        for (mine, theirs) in [
            (&mut self.x_px, &mut other.x_px),
            (&mut self.y_px, &mut other.y_px),
            (&mut self.z_px, &mut other.z_px),
            (&mut self.visibility, &mut other.visibility),
        ] {
            if let (Some(a), Some(b)) = (mine.get_mut(frame), theirs.get_mut(frame)) {
                std::mem::swap(a, b);
            }
        }
    }
}

/// `series[frame]`, or NaN past the end (so every comparison with it is false, as with a missing sample).
pub(crate) fn sample_or_nan(series: &[f64], frame: usize) -> f64 {
    series.get(frame).copied().unwrap_or(f64::NAN)
}

/// A track with no samples: what [`track_of`] answers for an id with no track, so it reads as missing.
static EMPTY_TRACK: LandmarkTrack = LandmarkTrack {
    x_px: Vec::new(),
    y_px: Vec::new(),
    z_px: Vec::new(),
    visibility: Vec::new(),
};

/// The track of `id` in a per-landmark list indexed by [`LandmarkId::index`]. The lists built here hold
/// [`LANDMARK_COUNT`] tracks, so the empty fallback is only reached by a list built elsewhere that is short.
fn track_of(tracks: &[LandmarkTrack], id: LandmarkId) -> &LandmarkTrack {
    tracks.get(id.index()).unwrap_or(&EMPTY_TRACK)
}

/// What the track clean-up changed, for the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TrackRepairs {
    /// Frames whose leg labels were swapped back (left/right flips repaired).
    pub swapped_frame_count: usize,
    /// Landmark samples filled by interpolation across short gaps.
    pub filled_sample_count: usize,
    /// Landmark samples left missing because their gap was too long.
    pub unfilled_sample_count: usize,
    /// Frames without any pose.
    pub frames_without_pose_count: usize,
}

/// The camera geometry the view detection found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ViewDetection {
    /// The detected view, or `None` when there was nothing to look at.
    pub view: Option<View>,
    /// Median shoulder/hip width over torso length (small in a side view).
    pub width_over_torso_ratio: Option<f64>,
    /// Which way the runner faces (side view).
    pub facing: Option<Facing>,
    /// How the runner moves through the frame.
    pub travel: Option<Travel>,
    /// The side nearer the camera (side view), from the model's depth.
    pub near_side: Option<Side>,
}

/// Clean landmark time series for one clip.
#[derive(Clone, Debug)]
pub struct Tracks {
    /// Frame rate used for timing, frames per second.
    pub fps: f64,
    /// Time of each frame, seconds (uniform, from the frame rate).
    pub time_s: Vec<f64>,
    /// Frame width, pixels.
    pub width_px: f64,
    /// Frame height, pixels.
    pub height_px: f64,
    /// Swap-repaired, gap-filled, unfiltered tracks, indexed by [`LandmarkId::index`].
    pub raw: Vec<LandmarkTrack>,
    /// The same, low-pass filtered.
    pub smooth: Vec<LandmarkTrack>,
    /// The Butterworth cut-off actually used, Hz (after clamping to the frame rate).
    pub cutoff_hz: f64,
    /// Median thigh + shank length, pixels (the "leg length" that normalises distances without a scale).
    pub leg_length_px: Option<f64>,
    /// Pixels per centimetre, from the runner's height, when given.
    pub px_per_cm: Option<f64>,
    /// What the clean-up changed.
    pub repairs: TrackRepairs,
    /// The detected camera geometry.
    pub detection: ViewDetection,
}

impl Tracks {
    /// The unfiltered track of `id`.
    pub fn raw(&self, id: LandmarkId) -> &LandmarkTrack {
        track_of(&self.raw, id)
    }

    /// The filtered track of `id`.
    pub fn smooth(&self, id: LandmarkId) -> &LandmarkTrack {
        track_of(&self.smooth, id)
    }

    /// Number of frames.
    pub fn frame_count(&self) -> usize {
        self.time_s.len()
    }

    /// Frames `start..end` as tracks of their own, times from 0: one running part of a clip, analysed on its
    /// own. The low-pass copies are filtered anew within the part, so that nothing leaks across a scene cut.
    pub fn slice(&self, start: usize, end: usize) -> Tracks {
        let end = end.min(self.frame_count());
        let start = start.min(end);
        let cut = |series: &[f64]| series.get(start..end).map(<[f64]>::to_vec).unwrap_or_default();
        let raw: Vec<LandmarkTrack> = self
            .raw
            .iter()
            .map(|track| LandmarkTrack {
                x_px: cut(&track.x_px),
                y_px: cut(&track.y_px),
                z_px: cut(&track.z_px),
                visibility: cut(&track.visibility),
            })
            .collect();
        let smooth = raw
            .iter()
            .map(|track| track.low_pass(self.cutoff_hz, self.fps))
            .collect();
        Tracks {
            fps: self.fps,
            time_s: (0..end - start).map(|i| i as f64 / self.fps).collect(),
            width_px: self.width_px,
            height_px: self.height_px,
            raw,
            smooth,
            cutoff_hz: self.cutoff_hz,
            leg_length_px: self.leg_length_px,
            px_per_cm: self.px_per_cm,
            repairs: self.repairs.clone(),
            detection: self.detection.clone(),
        }
    }
}

/// The options of [`build_tracks`].
#[derive(Clone, Copy, Debug)]
pub struct TrackOptions {
    /// Butterworth low-pass cut-off, Hz.
    pub cutoff_hz: f64,
    /// Gaps up to this long are interpolated, seconds.
    pub max_gap_fill_s: f64,
    /// The runner's standing height, centimetres, for a pixel scale.
    pub height_cm: Option<f64>,
}

/// Reads, repairs, fills, filters and inspects the landmark tracks of `sequence`.
pub fn build_tracks(sequence: &PoseSequence, options: &TrackOptions) -> Tracks {
    let frame_count = sequence.frames.len();
    let fps = frame_rate(sequence);
    let time_s: Vec<f64> = (0..frame_count).map(|i| i as f64 / fps).collect();
    let mut raw: Vec<LandmarkTrack> = (0..LANDMARK_COUNT)
        .map(|_| LandmarkTrack::with_len(frame_count))
        .collect();
    let mut repairs = TrackRepairs::default();
    for (frame_index, frame) in sequence.frames.iter().enumerate() {
        let Some(pose) = &frame.pose else {
            repairs.frames_without_pose_count += 1;
            continue;
        };
        for (track, landmark) in raw.iter_mut().zip(&pose.landmarks) {
            let visibility = f64::from(landmark.visibility);
            let presence = f64::from(landmark.presence);
            let usable = landmark.x_px.is_finite()
                && landmark.y_px.is_finite()
                && (visibility.is_nan() || visibility >= MIN_VISIBILITY)
                && (presence.is_nan() || presence >= MIN_PRESENCE);
            if usable {
                track.set_sample(
                    frame_index,
                    f64::from(landmark.x_px),
                    f64::from(landmark.y_px),
                    f64::from(landmark.z_px),
                    if visibility.is_nan() { 1.0 } else { visibility },
                );
            }
        }
    }
    let leg_length_px = leg_length(&raw);
    if let Some(leg) = leg_length_px {
        repairs.swapped_frame_count = repair_leg_swaps(&mut raw, leg);
    }
    let max_gap_frames = (options.max_gap_fill_s * fps).round().max(0.0) as usize;
    for track in &mut raw {
        let (filled, unfilled) = fill_short_gaps(track, max_gap_frames);
        repairs.filled_sample_count += filled;
        repairs.unfilled_sample_count += unfilled;
    }
    let cutoff_hz = options
        .cutoff_hz
        .clamp(0.1, MAX_CUTOFF_PER_FPS * fps * DOUBLE_PASS_CORRECTION);
    let smooth: Vec<LandmarkTrack> = raw.iter().map(|track| track.low_pass(cutoff_hz, fps)).collect();
    let px_per_cm = match (options.height_cm, leg_length_px) {
        (Some(height_cm), Some(leg)) if height_cm > 0.0 => Some(leg / (THIGH_PLUS_SHANK_PER_HEIGHT * height_cm)),
        _ => None,
    };
    let detection = detect_view(&raw, &time_s, leg_length_px);
    Tracks {
        fps,
        time_s,
        width_px: f64::from(sequence.width_px),
        height_px: f64::from(sequence.height_px),
        raw,
        smooth,
        cutoff_hz,
        leg_length_px,
        px_per_cm,
        repairs,
        detection,
    }
}

/// The frame rate: the container's when plausible, else from the timestamps, else 30.
fn frame_rate(sequence: &PoseSequence) -> f64 {
    if sequence.fps.is_finite() && sequence.fps >= 1.0 && sequence.fps <= 2000.0 {
        return sequence.fps;
    }
    let frames = &sequence.frames;
    if frames.len() >= 2
        && let (Some(first), Some(last)) = (frames.first(), frames.last())
    {
        let span_s = last.timestamp_s - first.timestamp_s;
        if span_s > 0.0 {
            return (frames.len() - 1) as f64 / span_s;
        }
    }
    30.0
}

/// Median of the finite values, `None` if there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    let middle = finite.len() / 2;
    // Not empty, so `middle` is in range, and so is `middle - 1` when the count is even.
    let upper = *finite.get(middle)?;
    Some(if finite.len().is_multiple_of(2) {
        0.5 * (*finite.get(middle - 1)? + upper)
    } else {
        upper
    })
}

/// The robust standard deviation of the finite `values`: 1.4826 × their median absolute deviation from their
/// median (equal to the SD for normal data, and not moved by a few wild values). `None` when none are finite.
pub fn robust_sd(values: &[f64]) -> Option<f64> {
    let centre = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|v| (v - centre).abs()).collect();
    median(&deviations).map(|mad| 1.4826 * mad)
}

fn distance(track_a: &LandmarkTrack, track_b: &LandmarkTrack, frame: usize) -> f64 {
    let ((ax, ay), (bx, by)) = (track_a.xy(frame), track_b.xy(frame));
    (ax - bx).hypot(ay - by)
}

/// Median over frames and both legs of hip→knee + knee→ankle, pixels.
fn leg_length(raw: &[LandmarkTrack]) -> Option<f64> {
    let mut lengths = Vec::new();
    for (hip, knee, ankle) in [
        (LandmarkId::LeftHip, LandmarkId::LeftKnee, LandmarkId::LeftAnkle),
        (LandmarkId::RightHip, LandmarkId::RightKnee, LandmarkId::RightAnkle),
    ] {
        let (hip, knee, ankle) = (track_of(raw, hip), track_of(raw, knee), track_of(raw, ankle));
        for frame in 0..hip.x_px.len() {
            let length = distance(hip, knee, frame) + distance(knee, ankle, frame);
            if length.is_finite() {
                lengths.push(length);
            }
        }
    }
    median(&lengths).filter(|leg| *leg > 1.0)
}

/// Repairs left/right leg label swaps in place and returns how many frames were swapped back.
///
/// Each frame's labels are either kept or swapped; the labelling of the whole clip is chosen by dynamic
/// programming (Viterbi) to minimise the total frame-to-frame travel of the leg landmarks plus a penalty for
/// every swapped frame. A true swap (BlazePose flipping the legs for a few frames) makes the landmarks jump
/// between the legs and back, which costs far more than the penalty; noise where the legs cross costs little
/// either way, and the penalty keeps the model's own labels there. Unlike a frame-by-frame rule, one
/// ambiguous frame cannot flip the labels for the rest of the clip.
fn repair_leg_swaps(raw: &mut [LandmarkTrack], leg_length_px: f64) -> usize {
    let frame_count = raw.first().map_or(0, |track| track.x_px.len());
    let penalty_px = SWAP_PENALTY_PER_FRAME_LEG * leg_length_px;
    let has_legs = |raw: &[LandmarkTrack], f: usize| {
        LEG_PAIRS
            .iter()
            .any(|(left, right)| track_of(raw, *left).has(f) && track_of(raw, *right).has(f))
    };
    let frames: Vec<usize> = (0..frame_count).filter(|&f| has_legs(raw, f)).collect();
    if frames.len() < 2 {
        return 0;
    }
    // travel[previous_state][state] between consecutive usable frames.
    let travel = |raw: &[LandmarkTrack], a: usize, b: usize| -> [[f64; 2]; 2] {
        let mut cost = [[0.0; 2]; 2];
        for (left, right) in LEG_PAIRS {
            let (l, r) = (track_of(raw, left), track_of(raw, right));
            if !(l.has(a) && r.has(a) && l.has(b) && r.has(b)) {
                continue;
            }
            let at = |track: &LandmarkTrack, f: usize| track.xy(f);
            let gap = |p: (f64, f64), q: (f64, f64)| (p.0 - q.0).hypot(p.1 - q.1);
            let straight = gap(at(l, a), at(l, b)) + gap(at(r, a), at(r, b));
            let crossed = gap(at(l, a), at(r, b)) + gap(at(r, a), at(l, b));
            cost[0][0] += straight;
            cost[1][1] += straight;
            cost[0][1] += crossed;
            cost[1][0] += crossed;
        }
        cost
    };
    let mut total = [0.0, penalty_px];
    let mut back: Vec<[usize; 2]> = Vec::with_capacity(frames.len());
    back.push([0, 1]);
    for (&a, &b) in frames.iter().zip(frames.iter().skip(1)) {
        let [[kept_to_kept, kept_to_swapped], [swapped_to_kept, swapped_to_swapped]] = travel(raw, a, b);
        // The cheaper way into a state: from the kept (0) or the swapped (1) state of the previous frame.
        let cheaper = |via_kept: f64, via_swapped: f64| {
            if via_kept <= via_swapped {
                (0, via_kept)
            } else {
                (1, via_swapped)
            }
        };
        let (into_kept, kept_total) = cheaper(total[0] + kept_to_kept, total[1] + swapped_to_kept);
        let (into_swapped, swapped_total) = cheaper(total[0] + kept_to_swapped, total[1] + swapped_to_swapped);
        total = [kept_total, swapped_total + penalty_px];
        back.push([into_kept, into_swapped]);
    }
    let mut state = if total[0] <= total[1] { 0 } else { 1 };
    let mut swapped = 0;
    // `back` has one entry per usable frame: the first pushed before the loop, one per consecutive pair.
    for (&frame, &[from_kept, from_swapped]) in frames.iter().zip(&back).rev() {
        if state == 1 {
            for (left, right) in LEG_PAIRS {
                if let Ok([left_track, right_track]) = raw.get_disjoint_mut([left.index(), right.index()]) {
                    left_track.swap_with(right_track, frame);
                }
            }
            swapped += 1;
        }
        state = if state == 1 { from_swapped } else { from_kept };
    }
    swapped
}

/// The window `LandmarkTrack::without_spikes` takes its median over, frames.
pub const SPIKE_WINDOW_FRAMES: usize = 5;

/// Linearly interpolates gaps of at most `max_gap_frames` inside the track; returns (filled, left missing).
fn fill_short_gaps(track: &mut LandmarkTrack, max_gap_frames: usize) -> (usize, usize) {
    let frame_count = track.x_px.len();
    let (mut filled, mut unfilled) = (0, 0);
    let mut frame = 0;
    while frame < frame_count {
        if track.has(frame) {
            frame += 1;
            continue;
        }
        let start = frame;
        while frame < frame_count && !track.has(frame) {
            frame += 1;
        }
        let gap = frame - start;
        let bounded = start > 0 && frame < frame_count;
        if bounded && gap <= max_gap_frames {
            let (before, after) = (start - 1, frame);
            for missing in start..frame {
                let weight = (missing - before) as f64 / (after - before) as f64;
                let lerp = |v: &[f64]| {
                    let (from, to) = (sample_or_nan(v, before), sample_or_nan(v, after));
                    from + weight * (to - from)
                };
                let visibility =
                    0.5 * (sample_or_nan(&track.visibility, before).min(sample_or_nan(&track.visibility, after)));
                track.set_sample(
                    missing,
                    lerp(&track.x_px),
                    lerp(&track.y_px),
                    lerp(&track.z_px),
                    visibility,
                );
            }
            filled += gap;
        } else {
            unfilled += gap;
        }
    }
    (filled, unfilled)
}

/// Cut-off correction for a second-order Butterworth run forwards and backwards, so that the combined filter
/// is −3 dB at the requested cut-off: (√2 − 1)^(1/4) (Winter 2009, §3.4.4.4).
pub const DOUBLE_PASS_CORRECTION: f64 = 0.802;

/// Zero-lag second-order Butterworth low-pass (forward–backward), applied to each run of finite samples;
/// NaN samples stay NaN. Runs shorter than [`MIN_FILTER_RUN`] samples are returned unfiltered.
pub fn butterworth_zero_lag(samples: &[f64], cutoff_hz: f64, fps: f64) -> Vec<f64> {
    let mut out = samples.to_vec();
    let corrected_hz = (cutoff_hz / DOUBLE_PASS_CORRECTION).min(MAX_CUTOFF_PER_FPS * fps);
    let warped = (std::f64::consts::PI * corrected_hz / fps).tan();
    let sqrt2 = std::f64::consts::SQRT_2;
    let norm = 1.0 / (1.0 + sqrt2 * warped + warped * warped);
    let b0 = warped * warped * norm;
    let coefficients = BiquadCoefficients {
        b: [b0, 2.0 * b0, b0],
        a1: 2.0 * (warped * warped - 1.0) * norm,
        a2: (1.0 - sqrt2 * warped + warped * warped) * norm,
    };
    // `out` starts as a copy of `samples`, so its runs of finite values are the samples' runs.
    for run in out.chunk_by_mut(|a, b| a.is_finite() == b.is_finite()) {
        if run.len() >= MIN_FILTER_RUN && run.first().is_some_and(|v| v.is_finite()) {
            let filtered = filtfilt(run, &coefficients);
            run.copy_from_slice(&filtered);
        }
    }
    out
}

/// Shortest run of samples that is filtered.
pub const MIN_FILTER_RUN: usize = 8;

struct BiquadCoefficients {
    b: [f64; 3],
    a1: f64,
    a2: f64,
}

fn filtfilt(run: &[f64], c: &BiquadCoefficients) -> Vec<f64> {
    // Odd (point-symmetric) extension at both ends, as scipy's filtfilt does, so the ends do not droop.
    let (Some(&first), Some(&last)) = (run.first(), run.last()) else {
        return Vec::new();
    };
    let pad = (run.len() - 1).min(3 * MIN_FILTER_RUN);
    let mut extended = Vec::with_capacity(run.len() + 2 * pad);
    // run[pad], …, run[1] reflected through the first sample; run[len-2], …, run[len-1-pad] through the last.
    extended.extend(run.iter().skip(1).take(pad).rev().map(|v| 2.0 * first - v));
    extended.extend_from_slice(run);
    extended.extend(run.iter().rev().skip(1).take(pad).map(|v| 2.0 * last - v));
    let forward = biquad(&extended, c);
    let mut backward: Vec<f64> = forward.into_iter().rev().collect();
    backward = biquad(&backward, c);
    backward.reverse();
    backward.into_iter().skip(pad).take(run.len()).collect()
}

fn biquad(input: &[f64], c: &BiquadCoefficients) -> Vec<f64> {
    let mut output = Vec::with_capacity(input.len());
    let Some(&first) = input.first() else {
        return output;
    };
    // Start in the steady state of the first sample.
    let (mut x1, mut x2, mut y1, mut y2) = (first, first, first, first);
    for &x in input {
        let y = c.b[0] * x + c.b[1] * x1 + c.b[2] * x2 - c.a1 * y1 - c.a2 * y2;
        output.push(y);
        (x2, x1, y2, y1) = (x1, x, y1, y);
    }
    output
}

fn midpoint_series(a: &LandmarkTrack, b: &LandmarkTrack) -> (Vec<f64>, Vec<f64>) {
    let x = a.x_px.iter().zip(&b.x_px).map(|(p, q)| 0.5 * (p + q)).collect();
    let y = a.y_px.iter().zip(&b.y_px).map(|(p, q)| 0.5 * (p + q)).collect();
    (x, y)
}

/// Detects the view, facing, travel and near side from the unfiltered tracks.
fn detect_view(raw: &[LandmarkTrack], time_s: &[f64], leg_length_px: Option<f64>) -> ViewDetection {
    // Every per-frame series below is zipped from tracks `time_s.len()` frames long.
    let track = |id: LandmarkId| track_of(raw, id);
    let (shoulder_x, shoulder_y) = midpoint_series(track(LandmarkId::LeftShoulder), track(LandmarkId::RightShoulder));
    let (hip_x, hip_y) = midpoint_series(track(LandmarkId::LeftHip), track(LandmarkId::RightHip));
    let torso: Vec<f64> = shoulder_x
        .iter()
        .zip(&hip_x)
        .zip(shoulder_y.iter().zip(&hip_y))
        .map(|((sx, hx), (sy, hy))| (sx - hx).hypot(sy - hy))
        .collect();
    let signed_width = |left: LandmarkId, right: LandmarkId| -> Vec<f64> {
        track(right)
            .x_px
            .iter()
            .zip(&track(left).x_px)
            .map(|(r, l)| r - l)
            .collect::<Vec<f64>>()
    };
    let shoulder_width = signed_width(LandmarkId::LeftShoulder, LandmarkId::RightShoulder);
    let hip_width = signed_width(LandmarkId::LeftHip, LandmarkId::RightHip);
    let ratio = median(
        &shoulder_width
            .iter()
            .zip(&hip_width)
            .zip(&torso)
            .map(|((shoulder, hip), torso)| shoulder.abs().max(hip.abs()) / torso)
            .collect::<Vec<f64>>(),
    );
    let view = ratio.map(|ratio| {
        if ratio < SIDE_VIEW_MAX_WIDTH_RATIO {
            View::Side
        } else if ratio > FRONTAL_VIEW_MIN_WIDTH_RATIO {
            // From behind, the runner's left is on the image's left: right-minus-left x is positive.
            let signed = median(
                &shoulder_width
                    .iter()
                    .zip(&hip_width)
                    .map(|(shoulder, hip)| shoulder + hip)
                    .collect::<Vec<f64>>(),
            );
            if signed.unwrap_or(0.0) > 0.0 {
                View::Rear
            } else {
                View::Front
            }
        } else {
            View::Oblique
        }
    });
    // Facing: the toes are ahead of the heels, the nose ahead of the ears.
    let mut votes = Vec::new();
    for (heel, toe) in [
        (LandmarkId::LeftHeel, LandmarkId::LeftFootIndex),
        (LandmarkId::RightHeel, LandmarkId::RightFootIndex),
    ] {
        votes.extend(
            track(toe)
                .x_px
                .iter()
                .zip(&track(heel).x_px)
                .map(|(toe, heel)| toe - heel),
        );
    }
    let (ear_x, _) = midpoint_series(track(LandmarkId::LeftEar), track(LandmarkId::RightEar));
    votes.extend(
        track(LandmarkId::Nose)
            .x_px
            .iter()
            .zip(&ear_x)
            .map(|(nose, ear)| nose - ear),
    );
    let facing = median(&votes).and_then(|vote| {
        if vote > 0.0 {
            Some(Facing::Right)
        } else if vote < 0.0 {
            Some(Facing::Left)
        } else {
            None
        }
    });
    let travel = travel_from_hips(&hip_x, time_s, leg_length_px);
    let depth_difference = median(
        &[
            (LandmarkId::LeftHip, LandmarkId::RightHip),
            (LandmarkId::LeftKnee, LandmarkId::RightKnee),
            (LandmarkId::LeftAnkle, LandmarkId::RightAnkle),
        ]
        .iter()
        .flat_map(|(left, right)| track(*left).z_px.iter().zip(&track(*right).z_px).map(|(l, r)| l - r))
        .collect::<Vec<f64>>(),
    );
    let near_side = depth_difference.map(|d| if d < 0.0 { Side::Left } else { Side::Right });
    ViewDetection {
        view,
        width_over_torso_ratio: ratio,
        facing,
        travel,
        near_side,
    }
}

/// Least-squares slope of the hip midpoint's x over time, in leg lengths per second, classified.
fn travel_from_hips(hip_x: &[f64], time_s: &[f64], leg_length_px: Option<f64>) -> Option<Travel> {
    let leg = leg_length_px?;
    let points: Vec<(f64, f64)> = time_s
        .iter()
        .zip(hip_x)
        .filter(|(_, x)| x.is_finite())
        .map(|(t, x)| (*t, *x))
        .collect();
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_x = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_x)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    if variance <= 0.0 {
        return None;
    }
    let speed_leg_per_s = covariance / variance / leg;
    Some(if speed_leg_per_s > TRAVEL_MIN_SPEED_LEG_PER_S {
        Travel::TowardsRight
    } else if speed_leg_per_s < -TRAVEL_MIN_SPEED_LEG_PER_S {
        Travel::TowardsLeft
    } else {
        Travel::InPlace
    })
}

/// The belt-aligned frame every angle is measured in: image coordinates rotated by the camera roll so the
/// belt (or floor) line is horizontal, with `u` pointing in the runner's direction of travel and `v` up.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BeltFrame {
    /// Camera roll: the belt line's angle in the image, radians (positive = belt rises to the image right,
    /// in image coordinates with y down it is the angle whose tangent is dy/dx).
    pub roll_rad: f64,
    /// +1 when forward is the image's right, −1 when it is the image's left.
    pub forward_sign: f64,
}

impl BeltFrame {
    /// A level camera looking at a runner facing `forward_sign`.
    pub const fn level(forward_sign: f64) -> BeltFrame {
        BeltFrame {
            roll_rad: 0.0,
            forward_sign,
        }
    }

    /// A point's (forward, up) coordinates in the belt frame, pixels, from image pixels.
    pub fn belt_from_image(&self, x_px: f64, y_px: f64) -> (f64, f64) {
        let (sin, cos) = self.roll_rad.sin_cos();
        // Rotate by −roll in image coordinates (y down), then flip y to point up.
        let x_level = cos * x_px + sin * y_px;
        let y_level = -sin * x_px + cos * y_px;
        (self.forward_sign * x_level, -y_level)
    }

    /// The (forward, up) position of `track` at `frame`, or NaN.
    pub fn point(&self, track: &LandmarkTrack, frame: usize) -> (f64, f64) {
        let (x_px, y_px) = track.xy(frame);
        self.belt_from_image(x_px, y_px)
    }
}

/// The belt frame of every frame of a clip: the clip's own, and within each running part whose camera roll was
/// measured, that part's (an edited clip joins takes filmed at different rolls).
#[derive(Clone, Debug, PartialEq)]
pub struct BeltFrames {
    /// The clip's belt frame (its longest measured part's), used outside the parts.
    pub clip: BeltFrame,
    /// `(start, end, frame)`: frames `start..end` are measured in `frame`; the first part that holds a frame wins.
    pub parts: Vec<(usize, usize, BeltFrame)>,
}

impl BeltFrames {
    /// One belt frame for the whole clip.
    pub fn single(clip: BeltFrame) -> BeltFrames {
        BeltFrames {
            clip,
            parts: Vec::new(),
        }
    }

    /// The belt frame frame `frame` is measured in.
    pub fn at(&self, frame: usize) -> &BeltFrame {
        self.parts
            .iter()
            .find(|(start, end, _)| (*start..*end).contains(&frame))
            .map_or(&self.clip, |(_, _, part)| part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn butterworth_passes_slow_signals_and_removes_fast_ones() {
        let fps = 60.0;
        let slow: Vec<f64> = (0..240)
            .map(|i| (2.0 * std::f64::consts::PI * 2.0 * i as f64 / fps).sin())
            .collect();
        let fast: Vec<f64> = (0..240)
            .map(|i| (2.0 * std::f64::consts::PI * 25.0 * i as f64 / fps).sin())
            .collect();
        let slow_out = butterworth_zero_lag(&slow, 12.0, fps);
        let fast_out = butterworth_zero_lag(&fast, 12.0, fps);
        let max_error = slow
            .iter()
            .zip(&slow_out)
            .skip(20)
            .take(200)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(max_error < 0.03, "2 Hz passes with no lag: {max_error}");
        let max_fast = fast_out.iter().skip(20).take(200).map(|v| v.abs()).fold(0.0, f64::max);
        assert!(max_fast < 0.1, "25 Hz is removed: {max_fast}");
    }

    #[test]
    fn a_two_frame_spike_is_bridged_and_fast_steady_motion_is_kept() {
        let mut track = LandmarkTrack::with_len(12);
        for f in 0..12 {
            // 40 px a frame along x: fast, but steady.
            track.set_sample(f, 40.0 * f as f64, 100.0, 0.0, 1.0);
        }
        assert_eq!(track.without_spikes(30.0).x_px, track.x_px);
        // Frames 5-6 jump 120 px down and come back.
        track.set_sample(5, 200.0, 220.0, 0.0, 1.0);
        track.set_sample(6, 240.0, 220.0, 0.0, 1.0);
        let clean = track.without_spikes(30.0);
        assert_eq!(&clean.y_px[4..8], &[100.0, 100.0, 100.0, 100.0]);
        assert_eq!(&clean.x_px[4..8], &[160.0, 200.0, 240.0, 280.0]);
        // Below the limit, nothing changes.
        assert_eq!(track.without_spikes(200.0).y_px, track.y_px);
    }

    #[test]
    fn nan_runs_stay_nan_and_short_gaps_fill() {
        let mut track = LandmarkTrack::with_len(10);
        for f in [0, 1, 2, 5, 6, 9] {
            track.x_px[f] = f as f64;
            track.y_px[f] = 0.0;
            track.z_px[f] = 0.0;
            track.visibility[f] = 1.0;
        }
        let (filled, unfilled) = fill_short_gaps(&mut track, 2);
        assert_eq!((filled, unfilled), (4, 0));
        assert!((track.x_px[3] - 3.0).abs() < 1e-9);
        let mut long = LandmarkTrack::with_len(10);
        long.x_px[0] = 0.0;
        long.y_px[0] = 0.0;
        long.x_px[9] = 9.0;
        long.y_px[9] = 0.0;
        assert_eq!(fill_short_gaps(&mut long, 3), (0, 8));
        assert!(long.x_px[4].is_nan());
    }

    #[test]
    fn leg_swaps_are_repaired_exactly_and_clean_legs_left_alone() {
        use crate::synthetic::{Corruption, SyntheticRunner};
        let options = TrackOptions {
            cutoff_hz: 12.0,
            max_gap_fill_s: 0.1,
            height_cm: None,
        };
        for fps in [30.0, 60.0] {
            let clean = SyntheticRunner {
                fps,
                ..SyntheticRunner::default()
            }
            .generate(&Corruption {
                noise_px: 2.0,
                seed: 3,
                ..Corruption::default()
            })
            .sequence;
            let reference = build_tracks(&clean, &options);
            assert_eq!(
                reference.repairs.swapped_frame_count, 0,
                "no swaps invented at {fps} fps"
            );
            let mut swapped = clean.clone();
            let flipped: Vec<usize> = (100..104).chain(150..152).chain(200..203).collect();
            for &frame in &flipped {
                if let Some(pose) = swapped.frames[frame].pose.as_mut() {
                    for (left, right) in LEG_PAIRS {
                        pose.landmarks.swap(left.index(), right.index());
                    }
                }
            }
            let repaired = build_tracks(&swapped, &options);
            assert_eq!(repaired.repairs.swapped_frame_count, flipped.len(), "{fps} fps");
            for (left, _) in LEG_PAIRS {
                assert_eq!(repaired.raw(left).x_px, reference.raw(left).x_px, "{fps} fps");
            }
        }
    }

    #[test]
    fn belt_frame_undoes_roll_and_facing() {
        let roll = 5f64.to_radians();
        let frame = BeltFrame {
            roll_rad: roll,
            forward_sign: -1.0,
        };
        // A point 100 px along the rolled belt line towards the image left is 100 px forward, 0 up.
        let (u, v) = frame.belt_from_image(-100.0 * roll.cos(), -100.0 * roll.sin());
        assert!((u - 100.0).abs() < 1e-9 && v.abs() < 1e-9, "{u} {v}");
    }
}
