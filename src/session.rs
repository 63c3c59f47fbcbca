//! One session filmed from two views: a side clip and a rear clip of the same runner on the same day, combined
//! into one answer per metric.
//!
//! Each clip is analysed on its own, exactly as a single clip is ([`crate::analysis::analyze_sequence`]); this
//! module only combines the results. Every metric is taken from the clip whose view can show it
//! ([`crate::metrics::MetricFamily::measurable_from`]), the side clip first where both can (its events are the ones calibrated
//! against hand labels), the rear clip where only it can (pelvic drop and the other frontal-plane measures), and
//! each combined metric names its view and its clip ([`SessionMetric`]). Cadence is measured in both clips: the
//! two clips need not be filmed at the same moment, so their frames are never aligned, but at one treadmill
//! speed a runner's cadence barely changes, so the two cadences must agree ([`CadenceAgreement`]) — when they do
//! not, the clips are of different speeds or one clip's contacts are miscounted, and the report says so.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, Flag};
use crate::metrics::{MetricId, MetricSummary};
use crate::track::View;

/// The two session cadences may differ by this fraction of their mean before the report says they disagree.
/// runform default: a runner's cadence at one treadmill speed varies by about 1-2 % from bout to bout, and each
/// clip's cadence is good to about a frame per stride; 3 % is also the tolerance of the in-clip cadence
/// cross-check ([`crate::analysis::CADENCE_CHECK_TOLERANCE_FRACTION`]).
pub const CADENCE_AGREEMENT_TOLERANCE_FRACTION: f64 = 0.03;

/// One clip of a session, as the combination reads it.
#[derive(Clone, Copy, Debug)]
pub struct SessionClip<'a> {
    /// The clip's path, as given.
    pub path: &'a Path,
    /// Its analysis.
    pub analysis: &'a Analysis,
}

/// A metric of the session: the summary from the clip that can show it, with that clip's view and path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SessionMetric {
    /// The summary, exactly as the clip's own analysis gives it.
    #[serde(flatten)]
    pub summary: MetricSummary,
    /// The view the value comes from: the view its clip was analysed as.
    pub view: View,
    /// The clip the value comes from, its path as given (`input.path`, or `rear.input.path` in a two-view
    /// session).
    pub source_clip: String,
}

/// How the two clips' cadences compare (two-view sessions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CadenceAgreement {
    /// Cadence from the side clip, steps per minute, where it was measured.
    pub side_steps_per_min: Option<f64>,
    /// Cadence from the rear clip, steps per minute, where it was measured.
    pub rear_steps_per_min: Option<f64>,
    /// Rear − side, steps per minute, where both were measured.
    pub difference_steps_per_min: Option<f64>,
    /// The largest difference taken as agreement, as a fraction of the two cadences' mean.
    pub tolerance_fraction: f64,
    /// Whether they agree; `None` where one of them is missing (then nothing can be checked).
    pub agree: Option<bool>,
    /// What it means, in plain words.
    pub message: String,
}

/// The session's metrics, one per metric of [`MetricId::ALL`], each from the first of `clips` whose view can
/// show it and has a value; a metric no clip measured comes from the first clip whose view can show it, with its
/// reason for being absent (and from the first clip when no view can, with that clip's reason). `clips` are in
/// order of preference: the side clip first.
pub fn session_metrics<'a>(clips: &[SessionClip<'a>]) -> Vec<SessionMetric> {
    MetricId::ALL
        .iter()
        .filter_map(|&metric| {
            let found = |clip: &SessionClip<'a>| clip.analysis.metric(metric).map(|summary| (*clip, summary));
            let able: Vec<(SessionClip<'a>, &'a MetricSummary)> = clips
                .iter()
                .filter(|clip| metric.family().measurable_from(clip.analysis.view.used))
                .filter_map(found)
                .collect();
            let (clip, summary) = able
                .iter()
                .find(|(_, summary)| summary.both.is_some())
                .or_else(|| able.first())
                .copied()
                .or_else(|| clips.first().and_then(found))?;
            Some(SessionMetric {
                summary: summary.clone(),
                view: clip.analysis.view.used,
                source_clip: clip.path.to_string_lossy().into_owned(),
            })
        })
        .collect()
}

/// The flags of the session: each clip's flags about the metrics the session takes from that clip.
pub fn session_flags<'a>(clips: &[SessionClip<'a>], metrics: &[SessionMetric]) -> Vec<&'a Flag> {
    clips
        .iter()
        .flat_map(|clip| {
            let source = clip.path.to_string_lossy().into_owned();
            clip.analysis.flags.iter().filter(move |flag| {
                metrics
                    .iter()
                    .any(|m| m.summary.metric == flag.metric && m.source_clip == source)
            })
        })
        .collect()
}

/// Compares the cadence of the side clip with that of the rear clip.
pub fn cadence_agreement(side: &Analysis, rear: &Analysis) -> CadenceAgreement {
    let cadence = |analysis: &Analysis| {
        analysis
            .metric(MetricId::CadenceStepsPerMin)
            .and_then(|summary| summary.both.as_ref())
            .map(|stats| stats.mean)
    };
    let (side_cadence, rear_cadence) = (cadence(side), cadence(rear));
    let tolerance = CADENCE_AGREEMENT_TOLERANCE_FRACTION;
    let (difference, agree, message) = match (side_cadence, rear_cadence) {
        (Some(s), Some(r)) => {
            let difference = r - s;
            let fraction = difference.abs() / ((s + r) / 2.0);
            let agree = fraction <= tolerance;
            let message = if agree {
                format!(
                    "the side clip's cadence ({s:.1} steps/min) and the rear clip's ({r:.1}) agree within {:.0} %",
                    100.0 * tolerance
                )
            } else {
                format!(
                    "the side clip's cadence ({s:.1} steps/min) and the rear clip's ({r:.1}) differ by {:.1} %, more \
                     than the {:.0} % a runner's cadence varies at one speed: the clips may be of different speeds \
                     or runners, or one clip's contacts are miscounted; check both before reading the two views \
                     together",
                    100.0 * fraction,
                    100.0 * tolerance
                )
            };
            (Some(difference), Some(agree), message)
        }
        (Some(s), None) => (
            None,
            None,
            format!(
                "only the side clip gave a cadence ({s:.1} steps/min); the rear clip's could not be measured, so the \
                 two clips cannot be checked against each other"
            ),
        ),
        (None, Some(r)) => (
            None,
            None,
            format!(
                "only the rear clip gave a cadence ({r:.1} steps/min); the side clip's could not be measured, so the \
                 two clips cannot be checked against each other"
            ),
        ),
        (None, None) => (
            None,
            None,
            "neither clip gave a cadence, so the two clips cannot be checked against each other".to_owned(),
        ),
    };
    CadenceAgreement {
        side_steps_per_min: side_cadence,
        rear_steps_per_min: rear_cadence,
        difference_steps_per_min: difference,
        tolerance_fraction: tolerance,
        agree,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{AnalysisSettings, ViewChoice, analyze_sequence};
    use crate::metrics::MetricFamily;
    use crate::synthetic::{Corruption, SyntheticRunner, SyntheticView};

    fn analysed(view: SyntheticView, cadence: f64) -> Analysis {
        let runner = SyntheticRunner {
            view,
            cadence_steps_per_min: cadence,
            duration_s: 8.0,
            ..SyntheticRunner::default()
        };
        let settings = AnalysisSettings {
            view: match view {
                SyntheticView::Side => ViewChoice::Side,
                SyntheticView::Rear => ViewChoice::Rear,
            },
            ..AnalysisSettings::default()
        };
        analyze_sequence(&runner.generate(&Corruption::default()).sequence, &settings)
    }

    #[test]
    fn each_metric_comes_from_a_view_that_can_show_it_and_cadences_are_compared() {
        let side = analysed(SyntheticView::Side, 170.0);
        let rear = analysed(SyntheticView::Rear, 170.0);
        let clips = [
            SessionClip {
                path: Path::new("side.mp4"),
                analysis: &side,
            },
            SessionClip {
                path: Path::new("rear.mp4"),
                analysis: &rear,
            },
        ];
        let metrics = session_metrics(&clips);
        assert_eq!(metrics.len(), MetricId::ALL.len(), "one entry per metric");
        for metric in &metrics {
            let family = metric.summary.metric.family();
            assert!(
                family.measurable_from(metric.view),
                "{:?} from a {:?} view",
                metric.summary.metric,
                metric.view
            );
            let expected_clip = if family.measurable_from(View::Side) {
                "side.mp4"
            } else {
                "rear.mp4"
            };
            if metric.summary.both.is_some() || family != MetricFamily::Temporal {
                assert_eq!(metric.source_clip, expected_clip, "{:?}", metric.summary.metric);
            }
        }
        let drop = metrics
            .iter()
            .find(|m| m.summary.metric == MetricId::PelvicDropMidstanceDeg)
            .expect("pelvic drop");
        assert_eq!(drop.view, View::Rear);
        assert!(drop.summary.both.is_some(), "{:?}", drop.summary.absent_reason);
        let agreement = cadence_agreement(&side, &rear);
        assert_eq!(agreement.agree, Some(true), "{}", agreement.message);

        let faster = analysed(SyntheticView::Rear, 185.0);
        let disagreement = cadence_agreement(&side, &faster);
        assert_eq!(disagreement.agree, Some(false), "{}", disagreement.message);
        assert!(disagreement.message.contains("differ by"), "{}", disagreement.message);
    }

    #[test]
    fn a_metric_absent_in_the_preferred_clip_comes_from_the_other_view_that_can_show_it() {
        let side = analysed(SyntheticView::Side, 170.0);
        let mut side_without_cadence = side.clone();
        for summary in &mut side_without_cadence.metrics {
            if summary.metric == MetricId::CadenceStepsPerMin {
                summary.both = None;
                summary.absent_reason = Some("test: not measured".into());
            }
        }
        let rear = analysed(SyntheticView::Rear, 170.0);
        let clips = [
            SessionClip {
                path: Path::new("side.mp4"),
                analysis: &side_without_cadence,
            },
            SessionClip {
                path: Path::new("rear.mp4"),
                analysis: &rear,
            },
        ];
        let metrics = session_metrics(&clips);
        let cadence = metrics
            .iter()
            .find(|m| m.summary.metric == MetricId::CadenceStepsPerMin)
            .expect("cadence");
        assert_eq!(cadence.source_clip, "rear.mp4");
        assert_eq!(cadence.view, View::Rear);
        assert!(cadence.summary.both.is_some());
    }
}
