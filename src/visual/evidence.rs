//! The per-frame evidence behind the report's numbers, rebuilt from the landmarks: the cleaned landmark tracks
//! (what the skeleton is drawn from), the per-frame angles in the belt frame (what the metrics sample), and the
//! stride-normalised curves the HTML plots.
//!
//! The analysis keeps only its per-step table, so the tracks and angles are rebuilt here with the same settings
//! ([`crate::track::build_tracks`] and [`crate::metrics::series::Kinematics`]); the belt frame comes from the
//! roll and facing the analysis reported, so every angle drawn is the angle the metrics measured.

use crate::analysis::{Analysis, AnalysisSettings};
use crate::landmarks::{LandmarkId, PoseSequence};
use crate::metrics::Step;
use crate::metrics::series::{Kinematics, sample_at};
use crate::track::{self, BeltFrame, BeltFrames, Side, Tracks, View};

/// Samples per stride-normalised curve: 0, 1, …, 100 % of the stride.
pub const CYCLE_SAMPLE_COUNT: usize = 101;

/// A stride is kept for the cycle curves only when its duration is within this fraction of the side's median
/// stride (a missed contact makes a stride twice as long, which would smear the average).
pub const STRIDE_DURATION_TOLERANCE_FRACTION: f64 = 0.3;

/// The cleaned tracks and per-frame angles of one clip.
pub struct Evidence {
    /// The landmark tracks (left/right swaps repaired, short gaps filled, low-pass filtered).
    pub tracks: Tracks,
    /// Per-frame angles in the belt frame.
    pub kinematics: Kinematics,
    /// The belt frames the angles are measured in (one per running part with its own camera roll).
    pub belt: BeltFrames,
    /// The frames the angles from the vertical (trunk, thigh, shank) are measured in: `belt`, or the picture where
    /// the stance feet do not agree on the belt line ([`crate::parts::ClipParts::upright_frames`]).
    pub upright: BeltFrames,
    /// The view the metrics were computed for.
    pub view: View,
    /// Frame rate, frames per second (event times × this = frame positions).
    pub fps: f64,
}

impl Evidence {
    /// Rebuilds the tracks and angles with the settings the analysis used.
    pub fn new(sequence: &PoseSequence, analysis: &Analysis, settings: &AnalysisSettings) -> Evidence {
        let tracks = track::build_tracks(sequence, &settings.track_options());
        let view = analysis.view.used;
        // As in `events::detect_events`: side views measure forward along the facing, frontal views use +x.
        let forward_sign = match view {
            View::Side | View::Oblique => analysis.facing.map_or(1.0, |facing| facing.sign()),
            View::Rear | View::Front => 1.0,
        };
        let belt = BeltFrame {
            roll_rad: analysis.camera_roll_deg.unwrap_or(0.0).to_radians(),
            forward_sign,
        };
        let upright = analysis.running_parts.upright_frames(tracks.fps, belt);
        let belt = analysis.running_parts.belt_frames(tracks.fps, belt);
        let kinematics = Kinematics::in_frames(&tracks, &belt, &upright);
        let fps = tracks.fps;
        Evidence {
            tracks,
            kinematics,
            belt,
            upright,
            view,
            fps,
        }
    }

    /// How many frames the tracks cover.
    pub fn frame_count(&self) -> usize {
        self.tracks.frame_count()
    }

    /// Where landmark `id` is drawn in frame `frame`, image pixels: the filtered position, else the raw one.
    pub fn point(&self, id: LandmarkId, frame: usize) -> Option<(f64, f64)> {
        [self.tracks.smooth(id), self.tracks.raw(id)]
            .into_iter()
            .filter(|track| track.has(frame))
            .find_map(|track| Some((*track.x_px.get(frame)?, *track.y_px.get(frame)?)))
    }

    /// The nearest frame to time `time_s` (event times are frame positions / fps).
    pub fn frame_at(&self, time_s: f64) -> usize {
        (time_s * self.fps).round().max(0.0) as usize
    }
}

/// One stride of one foot: initial contact, toe-off, and the same foot's next initial contact, seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stride {
    /// The foot.
    pub side: Side,
    /// Initial contact, seconds.
    pub ic_s: f64,
    /// Toe-off, seconds.
    pub to_s: f64,
    /// The same foot's next initial contact, seconds.
    pub next_ic_s: f64,
    /// The other foot's initial contact inside the stride, seconds, when one was found.
    pub opposite_ic_s: Option<f64>,
}

impl Stride {
    /// Duration, seconds.
    pub fn duration_s(&self) -> f64 {
        self.next_ic_s - self.ic_s
    }

    /// Where `time_s` falls in the stride, percent.
    pub fn percent_of(&self, time_s: f64) -> f64 {
        100.0 * (time_s - self.ic_s) / self.duration_s()
    }
}

/// The strides of `side` in the measured running parts (those the summaries use: a clip's other paces, and the
/// seconds around a cut, stay out of its stride curves as they do out of its numbers): consecutive measured
/// initial contacts of that foot, without those whose duration is off the side's median by more than
/// [`STRIDE_DURATION_TOLERANCE_FRACTION`] (a missed or spurious contact).
pub fn strides_of(steps: &[Step], side: Side) -> Vec<Stride> {
    let measured: Vec<&Step> = steps.iter().filter(|s| s.measured).collect();
    let own: Vec<&Step> = measured.iter().copied().filter(|s| s.side == side).collect();
    let candidates: Vec<Stride> = own
        .iter()
        .zip(own.iter().skip(1))
        .map(|(step, next)| Stride {
            side,
            ic_s: step.ic_s,
            to_s: step.to_s,
            next_ic_s: next.ic_s,
            opposite_ic_s: measured
                .iter()
                .find(|s| s.side != side && s.ic_s > step.ic_s && s.ic_s < next.ic_s)
                .map(|s| s.ic_s),
        })
        .filter(|stride| stride.duration_s() > 0.0)
        .collect();
    let durations: Vec<f64> = candidates.iter().map(Stride::duration_s).collect();
    let Some(median) = track::median(&durations) else {
        return Vec::new();
    };
    candidates
        .into_iter()
        .filter(|stride| (stride.duration_s() - median).abs() <= STRIDE_DURATION_TOLERANCE_FRACTION * median)
        .collect()
}

/// A per-frame series averaged over strides, on [`CYCLE_SAMPLE_COUNT`] points from 0 to 100 % of the stride.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleCurve {
    /// Mean at each percent (NaN where no stride had a value).
    pub mean: Vec<f64>,
    /// Sample standard deviation at each percent (0 with one stride).
    pub sd: Vec<f64>,
    /// Strides averaged.
    pub stride_count: usize,
}

impl CycleCurve {
    /// (percent, mean) pairs, for plotting.
    pub fn mean_points(&self) -> Vec<(f64, f64)> {
        self.mean.iter().enumerate().map(|(i, m)| (percent(i), *m)).collect()
    }

    /// (percent, mean − SD, mean + SD) triples, for plotting.
    pub fn sd_band(&self) -> Vec<(f64, f64, f64)> {
        self.mean
            .iter()
            .zip(&self.sd)
            .enumerate()
            .map(|(i, (m, s))| (percent(i), m - s, m + s))
            .collect()
    }
}

fn percent(index: usize) -> f64 {
    100.0 * index as f64 / (CYCLE_SAMPLE_COUNT - 1) as f64
}

/// `series` (one value per frame) resampled over each stride and averaged, `None` without strides.
pub fn cycle_curve(series: &[f64], strides: &[Stride], fps: f64) -> Option<CycleCurve> {
    if strides.is_empty() {
        return None;
    }
    let mut mean = vec![f64::NAN; CYCLE_SAMPLE_COUNT];
    let mut sd = vec![f64::NAN; CYCLE_SAMPLE_COUNT];
    let mut stride_count = 0;
    let resampled: Vec<Vec<Option<f64>>> = strides
        .iter()
        .map(|stride| {
            (0..CYCLE_SAMPLE_COUNT)
                .map(|i| sample_at(series, stride.ic_s + percent(i) / 100.0 * stride.duration_s(), fps))
                .collect()
        })
        .collect();
    for row in &resampled {
        if row.iter().any(Option::is_some) {
            stride_count += 1;
        }
    }
    for (i, (mean_i, sd_i)) in mean.iter_mut().zip(&mut sd).enumerate() {
        // Every row has CYCLE_SAMPLE_COUNT samples, so `get` finds sample `i` in each.
        let values: Vec<f64> = resampled
            .iter()
            .filter_map(|row| row.get(i).copied().flatten())
            .collect();
        if values.is_empty() {
            continue;
        }
        let n = values.len() as f64;
        let m = values.iter().sum::<f64>() / n;
        *mean_i = m;
        *sd_i = if values.len() > 1 {
            (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
    }
    (stride_count > 0).then_some(CycleCurve { mean, sd, stride_count })
}

/// Mean toe-off and opposite initial contact positions over `strides`, percent of the stride.
pub fn mean_event_percents(strides: &[Stride]) -> (Option<f64>, Option<f64>) {
    let mean = |values: Vec<f64>| (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
    let toe_off = mean(strides.iter().map(|s| s.percent_of(s.to_s)).collect());
    let opposite = mean(
        strides
            .iter()
            .filter_map(|s| s.opposite_ic_s.map(|t| s.percent_of(t)))
            .collect(),
    );
    (toe_off, opposite)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventMethod;
    use std::collections::BTreeMap;

    fn step(side: Side, ic_s: f64) -> Step {
        Step {
            index: 0,
            measured: true,
            side,
            ic_s,
            to_s: ic_s + 0.25,
            midstance_s: ic_s + 0.1,
            ic_method: EventMethod::Zeni,
            to_method: EventMethod::Zeni,
            foot_strike_class: None,
            landmark_confidence: 1.0,
            values: BTreeMap::new(),
            withheld: BTreeMap::new(),
            confidence: BTreeMap::new(),
        }
    }

    #[test]
    fn strides_pair_contacts_and_drop_those_with_a_missed_contact() {
        // Left contacts every 0.7 s, but the one at 2.1 s was missed: the 1.4 s stride is dropped.
        let steps: Vec<Step> = [0.0, 0.7, 1.4, 2.8, 3.5]
            .iter()
            .map(|&t| step(Side::Left, t))
            .chain([0.35, 1.05].iter().map(|&t| step(Side::Right, t)))
            .collect();
        let strides = strides_of(&steps, Side::Left);
        assert_eq!(strides.len(), 3);
        assert!(strides.iter().all(|s| (s.duration_s() - 0.7).abs() < 1e-9));
        assert_eq!(strides[0].opposite_ic_s, Some(0.35));
        let (to_pct, opposite_pct) = mean_event_percents(&strides);
        assert!((to_pct.expect("toe-off") - 100.0 * 0.25 / 0.7).abs() < 1e-9);
        assert!((opposite_pct.expect("opposite") - 50.0).abs() < 1e-9);
    }

    #[test]
    fn strides_leave_out_steps_outside_the_measured_parts() {
        // The same runner at another pace after 3 s (a part the summaries leave out): its strides are not averaged
        // with the measured ones.
        let steps: Vec<Step> = [0.0, 0.7, 1.4, 2.1, 3.0, 3.75, 4.5, 5.25]
            .iter()
            .map(|&t| Step {
                measured: t < 2.5,
                ..step(Side::Left, t)
            })
            .collect();
        let strides = strides_of(&steps, Side::Left);
        assert_eq!(strides.len(), 3);
        assert!(strides.iter().all(|s| s.next_ic_s < 2.5));
    }

    #[test]
    fn cycle_curves_average_strides_on_a_percent_axis() {
        // A ramp that restarts at every contact: each stride sees the same 0..70 ramp, so the SD is 0.
        let fps = 100.0;
        let series: Vec<f64> = (0..300).map(|f| (f % 70) as f64).collect();
        let strides: Vec<Stride> = [0.0, 0.7, 1.4]
            .iter()
            .map(|&t| Stride {
                side: Side::Right,
                ic_s: t,
                to_s: t + 0.2,
                next_ic_s: t + 0.7,
                opposite_ic_s: None,
            })
            .collect();
        let curve = cycle_curve(&series, &strides, fps).expect("curve");
        assert_eq!(curve.stride_count, 3);
        assert_eq!(curve.mean.len(), CYCLE_SAMPLE_COUNT);
        assert!((curve.mean[50] - 35.0).abs() < 1e-9, "{}", curve.mean[50]);
        assert!(curve.sd[50].abs() < 1e-9);
        assert_eq!(curve.mean_points()[100].0, 100.0);
        assert!(cycle_curve(&series, &[], fps).is_none());
    }
}
