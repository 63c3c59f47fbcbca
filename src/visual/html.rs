//! The self-contained HTML report of one clip: summary cards (each metric, its reference range and its flag in
//! plain words), plots over the stride cycle, per-step plots, stills of the key moments, the rear-view section
//! when the clip is a rear view, and a quality section. One file, no network, no script: plots are inline SVG
//! and stills are inline base64 JPEG.
//!
//! Every section is a `<section id=…>` with a fixed id (`summary`, `cycle`, `steps`, `stills`, `rear`,
//! `quality`) so that tests and readers can find it.
//!
//! A two-view session ([`SessionPage`]) gets one page: the session's summary cards, each naming the view and clip
//! it comes from, a `views` section with both clips, the cadence check and the overlay videos, then each clip's
//! evidence with its section ids prefixed by `side-` and `rear-` (`side-cycle`, `rear-pelvis`, `rear-steps`, …).

use std::fmt::Write as _;
use std::path::Path;

use crate::analysis::{self, Analysis, AnalysisSettings, Flag, ReferenceRange, Thresholds};
use crate::landmarks::{LandmarkId, PoseSequence};
use crate::metrics::{Asymmetry, MetricId, MetricSummary, Stats};
use crate::output;
use crate::report::Report;
use crate::track::{Side, View};

use super::VisualError;
use super::draw::{LEFT_CSS, RIGHT_CSS};
use super::evidence::{Evidence, cycle_curve, mean_event_percents, strides_of};
use super::plot::{Axis, Band, Guide, Marker, Plot, Series, SeriesStyle, escape};
use super::stills::{self, Still};

/// What the report of one clip is made from.
pub struct ReportPage<'a> {
    /// Heading, e.g. the clip's file name.
    pub title: &'a str,
    /// The clip, decoded again for the stills; `None` leaves the stills out (with a note).
    pub clip: Option<&'a Path>,
    /// The clip's landmarks.
    pub sequence: &'a PoseSequence,
    /// Their analysis.
    pub analysis: &'a Analysis,
    /// The settings the analysis ran with (filter, reference ranges).
    pub settings: &'a AnalysisSettings,
    /// Where the landmarks came from, e.g. "runform pose stage (BlazePose full)"; shown in the quality section.
    pub landmark_source: &'a str,
}

/// What the report of a two-view session is made from: the session's report and each clip's page.
pub struct SessionPage<'a> {
    /// Heading, e.g. the two clips' file names.
    pub title: &'a str,
    /// The session's report (its `metrics` say which view and clip each metric comes from).
    pub report: &'a Report,
    /// The side clip's page.
    pub side: ReportPage<'a>,
    /// The rear clip's page.
    pub rear: ReportPage<'a>,
    /// The overlay videos written beside the page (file names, side first), shown in the `views` section.
    pub overlays: Vec<String>,
}

/// Renders the report and writes it atomically to `out_html`.
pub fn write_html(page: &ReportPage, out_html: &Path) -> Result<(), VisualError> {
    let html = render_html(page)?;
    output::write_atomically(out_html, html.as_bytes())?;
    Ok(())
}

/// Renders the report of a two-view session and writes it atomically to `out_html`.
pub fn write_session_html(page: &SessionPage, out_html: &Path) -> Result<(), VisualError> {
    let html = render_session_html(page)?;
    output::write_atomically(out_html, html.as_bytes())?;
    Ok(())
}

/// The report as one HTML document.
pub fn render_html(page: &ReportPage) -> Result<String, VisualError> {
    let analysis = page.analysis;
    let mut body = String::new();
    header(&mut body, page);
    let metrics = card_metrics(analysis);
    let flags: Vec<&Flag> = analysis.flags.iter().collect();
    let warnings: Vec<String> = analysis.warnings.iter().map(|w| w.message.clone()).collect();
    summary_section(&mut body, &metrics, &flags, &warnings, &page.settings.thresholds);
    clip_sections(&mut body, page, "")?;
    Ok(document(page.title, &body))
}

/// The report of a two-view session as one HTML document: the session's summary, the clips, then each clip's
/// evidence.
pub fn render_session_html(page: &SessionPage) -> Result<String, VisualError> {
    let report = page.report;
    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>Running form: {}</h1><p>One session filmed from two views: each number below comes from the          view that can show it, and says which.</p></header>",
        escape(page.title)
    );
    let metrics: Vec<CardMetric> = report
        .metrics
        .iter()
        .map(|metric| {
            // The analysis of the view the metric comes from.
            let analysis = match metric.view {
                View::Rear | View::Front => page.rear.analysis,
                _ => page.side.analysis,
            };
            CardMetric {
                ranges_off: RangesOff::of(analysis),
                note: card_note(metric.summary.metric, analysis),
                summary: &metric.summary,
                from: Some(format!(
                    "{} view ({})",
                    view_name(metric.view),
                    Path::new(&metric.source_clip)
                        .file_name()
                        .map_or_else(|| metric.source_clip.clone(), |n| n.to_string_lossy().into_owned())
                )),
            }
        })
        .collect();
    let flags = report.session_flags();
    summary_section(
        &mut body,
        &metrics,
        &flags,
        &report.session_warnings(),
        &page.side.settings.thresholds,
    );
    views_section(&mut body, page);
    // The frontal clip is filmed from behind, or from in front where its landmarks say so.
    let frontal_role = match page.rear.analysis.view.used {
        View::Front => "Front clip",
        _ => "Rear clip",
    };
    for (prefix, clip_page, role) in [("side-", &page.side, "Side clip"), ("rear-", &page.rear, frontal_role)] {
        let _ = write!(
            body,
            "<h2 class=\"clip-title\" id=\"{prefix}clip\">{role}: {}</h2>",
            escape(clip_page.title)
        );
        clip_sections(&mut body, clip_page, prefix)?;
    }
    Ok(document(page.title, &body))
}

/// The evidence of one clip: the stride cycle (side view) or the pelvis (frontal views), steps, stills, quality.
/// `prefix` goes before each section's id (empty on a one-clip page).
fn clip_sections(body: &mut String, page: &ReportPage, prefix: &str) -> Result<(), VisualError> {
    let analysis = page.analysis;
    let evidence = Evidence::new(page.sequence, analysis, page.settings);
    let stills = match page.clip {
        Some(clip) if !analysis.steps.is_empty() => Some(stills::make_stills(clip, &evidence, analysis)?),
        _ => None,
    };
    let frontal = matches!(analysis.view.used, View::Rear | View::Front);
    if frontal {
        // A one-clip page keeps its historical id `rear`; in a session, `rear-pelvis`.
        let id = if prefix.is_empty() {
            "rear".to_owned()
        } else {
            format!("{prefix}pelvis")
        };
        rear_section(body, &id, analysis, &evidence, &page.settings.thresholds);
    } else {
        cycle_section(body, prefix, analysis, &evidence);
    }
    steps_section(body, prefix, analysis, &page.settings.thresholds, frontal);
    stills_section(
        body,
        prefix,
        stills.as_deref(),
        page.clip.is_some(),
        analysis.untrusted_toe_offs(),
    );
    quality_section(body, prefix, page, &evidence);
    Ok(())
}

/// A view's name in plain words.
fn view_name(view: View) -> &'static str {
    match view {
        View::Side => "side",
        View::Rear => "rear",
        View::Front => "front",
        View::Oblique => "oblique",
    }
}

/// The session's clips side by side: what each is, the cadence check between them, and the overlay videos.
fn views_section(out: &mut String, page: &SessionPage) {
    out.push_str(
        "<section id=\"views\"><h2>The two views</h2><table><tr><th>Clip</th><th>View</th><th>Frame rate</th>\
         <th>Frames with a pose</th><th>Steps</th><th>Cadence</th></tr>",
    );
    for clip in [&page.side, &page.rear] {
        let analysis = clip.analysis;
        let cadence = analysis
            .metric(MetricId::CadenceStepsPerMin)
            .and_then(|s| s.both.as_ref())
            .map_or_else(
                || "not measured".to_owned(),
                |stats| format!("{:.1} steps/min", stats.mean),
            );
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.0} fps</td><td>{} of {}</td><td>{}</td><td>{}</td></tr>",
            escape(clip.title),
            view_name(analysis.view.used),
            analysis.frame_rate_fps,
            analysis.frames_with_pose_count,
            analysis.frame_count,
            analysis.steps.len(),
            escape(&cadence)
        );
    }
    out.push_str("</table>");
    if let Some(agreement) = &page.report.cadence_agreement {
        let class = match agreement.agree {
            Some(false) => "warnings",
            _ => "checks",
        };
        let _ = write!(
            out,
            "<h3>Cadence check</h3><ul class=\"{class}\"><li>{}</li></ul><p class=\"note\">The clips need not be \
             filmed at the same moment, so their frames are not matched; at one treadmill speed their cadences \
             should agree.</p>",
            escape(&agreement.message)
        );
    }
    if !page.overlays.is_empty() {
        out.push_str("<h3>Overlay videos</h3><div class=\"stills\">");
        for name in &page.overlays {
            let _ = write!(
                out,
                "<figure><video controls preload=\"metadata\" src=\"{0}\"></video><figcaption><a \
                 href=\"{0}\">{0}</a></figcaption></figure>",
                escape(name)
            );
        }
        out.push_str("</div>");
    }
    out.push_str("</section>");
}

/// Wraps `body` in the page skeleton with the stylesheet.
pub(crate) fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLESHEET}</style></head>\
         <body><main>{body}</main><footer>Made by runform {}. Angles are measured against the treadmill belt in \
         the image; they are 2D projections, not 3D joint angles.</footer></body></html>\n",
        escape(title),
        crate::BUILD
    )
}

/// The page's CSS: system fonts only, printable, no external resources.
const STYLESHEET: &str = "\
:root{--left:#1f77b4;--right:#ff7f0e;--flag:#c62828;--ok:#2e7d32;--muted:#666}\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;background:#f6f7f9;color:#1b1b1b}\
main{max-width:1200px;margin:0 auto;padding:16px 24px}\
header h1{margin:8px 0 4px;font-size:26px}header p{margin:2px 0;color:var(--muted)}\
section{background:#fff;border-radius:8px;padding:12px 18px 18px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}\
h2{font-size:20px;margin:6px 0 10px}h3{font-size:15px;margin:10px 0 6px}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px}\
.card{border:1px solid #ddd;border-left:6px solid var(--ok);border-radius:6px;padding:8px 12px}\
.card.flagged{border-left-color:var(--flag)}.card.no-range{border-left-color:#999}.card.near{border-left-color:#8a5300}\
.card .name{font-weight:600}.card .value{font-size:24px;margin:4px 0}.card .unit{font-size:14px;color:var(--muted)}\
.card .sides,.card .range,.card .n{font-size:13px;color:var(--muted)}.card .verdict{font-size:14px;margin-top:4px}\
.card.flagged .verdict{color:var(--flag)}.card .verdict.ok{color:var(--ok)}.card .verdict.near{color:#8a5300}\
.left{color:var(--left);font-weight:600}.right{color:var(--right);font-weight:600}\
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}\
svg.plot{width:100%;height:auto;background:#fff;font-family:inherit}\
.stills{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;max-width:360px}figure img,figure video{max-width:100%;border-radius:4px}\
figcaption{font-size:13px;color:#333}\
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #e5e5e5;padding:4px 8px;text-align:left}\
ul.flags li{color:var(--flag)}ul.warnings li{color:#8a5300}.note{color:var(--muted);font-size:13px}\
footer{max-width:1200px;margin:0 auto 24px;padding:0 24px;color:var(--muted);font-size:12px}";

/// The metric's name in plain words.
pub fn metric_name(metric: MetricId) -> &'static str {
    match metric {
        MetricId::CadenceStepsPerMin => "Cadence",
        MetricId::StepTimeMs => "Step time",
        MetricId::StrideTimeMs => "Stride time",
        MetricId::ContactTimeMs => "Ground contact time",
        MetricId::FlightTimeMs => "Flight time",
        MetricId::DutyFactorPct => "Duty factor",
        MetricId::StepLengthM => "Step length",
        MetricId::StrideLengthM => "Stride length",
        MetricId::TrunkLeanMeanDeg => "Trunk lean (mean over the step)",
        MetricId::TrunkLeanMinDeg => "Trunk lean (least)",
        MetricId::TrunkLeanMaxDeg => "Trunk lean (greatest)",
        MetricId::TrunkLeanMidstanceDeg => "Trunk lean at midstance",
        MetricId::FootStrikeAngleDeg => "Foot strike angle",
        MetricId::TibiaAngleIcDeg => "Tibia angle at initial contact",
        MetricId::OverstridePctLegLength => "Overstride (heel ahead of hips)",
        MetricId::OverstrideCm => "Overstride (cm)",
        MetricId::KneeFlexionIcDeg => "Knee flexion at initial contact",
        MetricId::KneeFlexionPeakStanceDeg => "Peak knee flexion in stance",
        MetricId::HipExtensionPeakDeg => "Peak hip extension",
        MetricId::HipExtensionToeOffDeg => "Hip extension at toe-off",
        MetricId::VerticalOscillationPctLegLength => "Vertical oscillation",
        MetricId::VerticalOscillationCm => "Vertical oscillation (cm)",
        MetricId::PelvicDropMidstanceDeg => "Pelvic drop at midstance",
        MetricId::KneeProjectionAngleMidstanceDeg => "Knee projection angle at midstance (valgus +)",
        MetricId::StepWidthPctLegLength => "Step width",
        MetricId::StepWidthCm => "Step width (cm)",
        MetricId::FootFromMidlinePctLegLength => "Foot from the midline (crossover −)",
        MetricId::FootFromMidlineCm => "Foot from the midline (cm)",
        MetricId::HeelWhipDeg => "Heel whip in initial swing (medial +)",
    }
}

/// The reference range the analysis flags `metric` against, if it has one.
pub fn reference_range(thresholds: &Thresholds, metric: MetricId) -> Option<&ReferenceRange> {
    thresholds.range_for(metric)
}

/// "≥ 160", "≤ 15", "160 – 300" (with the unit).
pub fn range_text(range: &ReferenceRange, unit: &str) -> String {
    match (range.low, range.high) {
        (Some(low), Some(high)) => format!("{low} – {high} {unit}"),
        (Some(low), None) => format!("≥ {low} {unit}"),
        (None, Some(high)) => format!("≤ {high} {unit}"),
        (None, None) => "none".into(),
    }
}

/// A card's asymmetry: the symmetry index with its uncertainty where known, and in words when the index is within
/// it (for the times each foot's contacts time on their own, saying so: a small index may be the pose model's, not
/// the runner's); the left − right difference for angles, likewise.
fn asymmetry_text(metric: MetricId, asymmetry: &Asymmetry) -> String {
    match (asymmetry.symmetry_index_pct, asymmetry.uncertainty_pct) {
        (Some(index), Some(uncertainty)) if asymmetry.beyond_uncertainty() => {
            format!(" · asymmetry {index:+.1} ± {uncertainty:.1} %")
        }
        (Some(index), Some(uncertainty)) => {
            let why = if analysis::unshared_event_frames(metric).is_some_and(|frames| frames > 0.0) {
                " (each foot's contacts are timed to its own landmarks)"
            } else {
                ""
            };
            format!(" · asymmetry {index:+.1} ± {uncertainty:.1} %: not told apart from none{why}")
        }
        (Some(index), None) => format!(" · asymmetry {index:+.1} % (its uncertainty unknown)"),
        (None, _) => {
            let difference = asymmetry.left_minus_right;
            match asymmetry.left_minus_right_uncertainty {
                Some(uncertainty) if asymmetry.difference_beyond_uncertainty() => {
                    format!(" · L − R {difference:+.1} ± {uncertainty:.1}")
                }
                Some(uncertainty) => format!(
                    " · L − R {difference:+.1} ± {uncertainty:.1}: not told apart from none (each leg's landmarks \
                     err in their own way)"
                ),
                None => format!(" · L − R {difference:+.1}"),
            }
        }
    }
}

/// A reference range as a plot band.
pub(crate) fn range_band(range: &ReferenceRange, unit: &str) -> Band {
    Band {
        low: range.low,
        high: range.high,
        label: format!("reference {}", range_text(range, unit)),
    }
}

fn fmt_value(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A mean and its SD; a single step's value alone (one step has no spread to give, and "± 0" would say it has none).
fn stats_text(stats: &Stats) -> String {
    if stats.n < 2 {
        return format!("{} (1 step)", fmt_value(stats.mean));
    }
    format!("{} ± {}", fmt_value(stats.mean), fmt_value(stats.sd))
}

fn header(out: &mut String, page: &ReportPage) {
    let analysis = page.analysis;
    let view = format!("{:?}", analysis.view.used).to_lowercase();
    // Facing means something only in a side view.
    let facing = match (analysis.view.used, analysis.facing) {
        (View::Side | View::Oblique, Some(f)) => format!(", runner facing {}", format!("{f:?}").to_lowercase()),
        _ => String::new(),
    };
    let _ = write!(
        out,
        "<header><h1>Running form: {}</h1><p>{view} view{facing} · {:.0} fps · {} frames ({:.1} s) · {} steps \
         ({} left, {} right)</p></header>",
        escape(page.title),
        analysis.frame_rate_fps,
        analysis.frame_count,
        analysis.frame_count as f64 / analysis.frame_rate_fps.max(1.0),
        analysis.steps.len(),
        analysis.steps.iter().filter(|s| s.side == Side::Left).count(),
        analysis.steps.iter().filter(|s| s.side == Side::Right).count(),
    );
}

/// A metric on a summary card: its summary and, in a two-view session, the view and clip it comes from.
struct CardMetric<'a> {
    summary: &'a MetricSummary,
    from: Option<String>,
    /// The clip it comes from shows walking or a sprint, where distance running's reference ranges do not apply.
    ranges_off: Option<RangesOff>,
    /// A line under the numbers (the foot strike angle's per-leg strike pattern).
    note: Option<String>,
}

/// Why a clip's numbers are not read against the reference ranges, and no flag is raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RangesOff {
    /// The clip shows walking.
    Walking,
    /// The runner sprints (`analysis::SPRINT_CADENCE_STEPS_PER_MIN`).
    Sprinting,
}

impl RangesOff {
    fn of(analysis: &Analysis) -> Option<RangesOff> {
        if analysis.is_walking() {
            Some(RangesOff::Walking)
        } else if analysis.is_sprinting() {
            Some(RangesOff::Sprinting)
        } else {
            None
        }
    }

    /// The summary's sentence.
    fn summary_words(self) -> &'static str {
        match self {
            RangesOff::Walking => "No flag is raised on walking: the reference ranges are running's.",
            RangesOff::Sprinting => "No flag is raised on a sprint: the reference ranges are distance running's.",
        }
    }

    /// Said on a card instead of a reference range.
    fn card_words(self) -> &'static str {
        match self {
            RangesOff::Walking => "Running's reference range not applied: the clip shows walking",
            RangesOff::Sprinting => "Distance running's reference range not applied: the runner sprints",
        }
    }
}

/// The cards of one clip's analysis.
fn card_metrics(analysis: &Analysis) -> Vec<CardMetric<'_>> {
    analysis
        .metrics
        .iter()
        .map(|summary| CardMetric {
            summary,
            from: None,
            ranges_off: RangesOff::of(analysis),
            note: card_note(summary.metric, analysis),
        })
        .collect()
}

/// The names of the metrics whose mean is past their reference range's limit but not flagged: past it by less than
/// its uncertainty (`analysis::flag_margin`).
fn past_limit_unflagged(metrics: &[CardMetric], flags: &[&Flag], thresholds: &Thresholds) -> Vec<&'static str> {
    metrics
        .iter()
        .filter(|m| !flags.iter().any(|flag| flag.metric == m.summary.metric) && past_its_limit(m, thresholds))
        .map(|m| metric_name(m.summary.metric))
        .collect()
}

/// The same for one clip's analysis, for pages that show a report's summary elsewhere (the web app's session page):
/// what the report's own summary names as past the limit by less than its uncertainty.
pub fn past_limit_unflagged_of(analysis: &Analysis, thresholds: &Thresholds) -> Vec<&'static str> {
    let flags: Vec<&Flag> = analysis.flags.iter().collect();
    past_limit_unflagged(&card_metrics(analysis), &flags, thresholds)
}

/// The note a metric's card carries, from the analysis it comes from: each leg's strike pattern under
/// the foot strike angle.
fn card_note(metric: MetricId, analysis: &Analysis) -> Option<String> {
    (metric == MetricId::FootStrikeAngleDeg)
        .then(|| crate::metrics::foot::strike_pattern_words(&analysis.strike_patterns))
        .filter(|words| !words.is_empty())
        .map(|words| format!("Strike: {words}"))
}

fn summary_section(
    out: &mut String,
    metrics: &[CardMetric],
    flags: &[&Flag],
    warnings: &[String],
    thresholds: &Thresholds,
) {
    out.push_str("<section id=\"summary\"><h2>Summary</h2>");
    let ranges_off = metrics
        .iter()
        .filter(|m| m.summary.both.is_some())
        .find_map(|m| m.ranges_off);
    if let (true, Some(ranges_off)) = (flags.is_empty(), ranges_off) {
        let _ = write!(out, "<p>{}</p>", ranges_off.summary_words());
    } else if flags.is_empty() {
        let near = past_limit_unflagged(metrics, flags, thresholds);
        if metrics.iter().all(|m| m.summary.both.is_none()) {
            out.push_str("<p>Nothing could be measured in this clip, so nothing is flagged: see why below.</p>");
        } else if near.is_empty() {
            out.push_str("<p>No value is outside its reference range.</p>");
        } else {
            let _ = write!(
                out,
                "<p>No value is outside its reference range by more than its uncertainty. Past the limit by less, \
                 and not flagged (amber below): {}.</p>",
                escape(&near.join(", "))
            );
        }
    } else {
        out.push_str("<h3>What stands out</h3><ul class=\"flags\">");
        for flag in flags {
            let _ = write!(out, "<li>{}</li>", escape(&flag.message));
        }
        out.push_str("</ul>");
    }
    if !warnings.is_empty() {
        out.push_str("<h3>Read with care</h3><ul class=\"warnings\">");
        for warning in warnings {
            let _ = write!(out, "<li>{}</li>", escape(warning));
        }
        out.push_str("</ul>");
    }
    out.push_str("<div class=\"cards\">");
    // Flagged metrics first, then those with a reference range, then the rest, each group in report order.
    let mut shown: Vec<&CardMetric> = metrics.iter().filter(|m| m.summary.both.is_some()).collect();
    shown.sort_by_key(|m| {
        let flagged = flags.iter().any(|f| f.metric == m.summary.metric);
        (
            !flagged,
            m.ranges_off.is_some() || reference_range(thresholds, m.summary.metric).is_none(),
        )
    });
    for metric in shown {
        card(out, metric, flags, thresholds);
    }
    out.push_str("</div>");
    // Metrics absent for the same reason share a row (a rear view lacks every sagittal metric at once).
    let mut absent: Vec<(Vec<&'static str>, String)> = Vec::new();
    for metric in metrics.iter().filter(|m| m.summary.both.is_none()) {
        let reason = metric.summary.absent_reason.as_deref().unwrap_or("no value");
        let reason = match &metric.from {
            Some(from) => format!("{from}: {reason}"),
            None => reason.to_owned(),
        };
        let name = metric_name(metric.summary.metric);
        match absent.iter_mut().find(|(_, r)| *r == reason) {
            Some((names, _)) => names.push(name),
            None => absent.push((vec![name], reason)),
        }
    }
    if !absent.is_empty() {
        out.push_str("<h3>Not measured</h3><table><tr><th>Metric</th><th>Why</th></tr>");
        for (names, reason) in absent {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(&names.join(", ")),
                escape(&reason)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

/// Whether a metric's mean (of both sides or of one) is past the limit of its reference range at all, flagged or
/// not. Walking and sprinting have no distance-running range.
fn past_its_limit(card_metric: &CardMetric, thresholds: &Thresholds) -> bool {
    let summary = card_metric.summary;
    reference_range(thresholds, summary.metric)
        .filter(|_| card_metric.ranges_off.is_none())
        .is_some_and(|range| {
            [summary.both.as_ref(), summary.left.as_ref(), summary.right.as_ref()]
                .into_iter()
                .flatten()
                .any(|stats| crate::analysis::outside_by(range, stats.mean, 0.0).is_some())
        })
}

fn card(out: &mut String, card_metric: &CardMetric, flags: &[&Flag], thresholds: &Thresholds) {
    let (summary, from) = (card_metric.summary, card_metric.from.as_deref());
    let Some(both) = &summary.both else {
        return;
    };
    let metric = summary.metric;
    let flags: Vec<_> = flags.iter().filter(|f| f.metric == metric).collect();
    let range = reference_range(thresholds, metric).filter(|_| card_metric.ranges_off.is_none());
    // A mean past its limit by less than its uncertainty raises no flag (`analysis::flag_margin`): say so.
    let near_limit = flags.is_empty() && past_its_limit(card_metric, thresholds);
    let class = if !flags.is_empty() {
        "card flagged"
    } else if range.is_none() {
        "card no-range"
    } else if near_limit {
        "card near"
    } else {
        "card"
    };
    let _ = write!(
        out,
        "<div class=\"{class}\" data-metric=\"{}\"><div class=\"name\">{}</div><div class=\"value\">{} \
         <span class=\"unit\">{}</span></div>",
        serde_json::to_value(metric)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        metric_name(metric),
        stats_text(both),
        escape(metric.unit())
    );
    if let (Some(left), Some(right)) = (&summary.left, &summary.right) {
        let asymmetry = summary
            .asymmetry
            .as_ref()
            .map_or(String::new(), |a| asymmetry_text(metric, a));
        let _ = write!(
            out,
            "<div class=\"sides\"><span class=\"left\">L</span> {} · <span class=\"right\">R</span> {}{asymmetry}</div>",
            stats_text(left),
            stats_text(right)
        );
    }
    if let Some(reason) = &summary.side_absent_reason {
        let _ = write!(out, "<div class=\"sides\">Only one side: {}</div>", escape(reason));
    }
    let enough = if summary.quality.enough_steps {
        ""
    } else {
        " (too few for a reliable average)"
    };
    let _ = write!(out, "<div class=\"n\">{} steps{enough}</div>", both.n);
    if let Some(shared) = summary.shared_error.filter(|e| *e > 0.0) {
        let _ = write!(
            out,
            "<div class=\"n shared\">All steps may be off together by up to ±{shared:.1} {} ({})</div>",
            escape(metric.unit()),
            escape(&crate::analysis::shared_error_parts(metric).join(" and "))
        );
    }
    if let Some(note) = &card_metric.note {
        let _ = write!(out, "<div class=\"n note\">{}</div>", escape(note));
    }
    if let Some(from) = from {
        let _ = write!(out, "<div class=\"n from\">From the {}</div>", escape(from));
    }
    match range {
        Some(range) => {
            let _ = write!(
                out,
                "<div class=\"range\" title=\"{}\">Reference: {}</div>",
                escape(&range.source),
                escape(&range_text(range, metric.unit()))
            );
        }
        None if let Some(ranges_off) = card_metric.ranges_off
            && reference_range(thresholds, metric).is_some() =>
        {
            let _ = write!(out, "<div class=\"range\">{}</div>", ranges_off.card_words());
        }
        None => out.push_str("<div class=\"range\">No reference range: shown for context</div>"),
    }
    if flags.is_empty() {
        if near_limit {
            let also = match crate::analysis::shared_error_parts(metric).as_slice() {
                [] => String::new(),
                [one] => format!(", and {one}"),
                several => format!(", {}", several.join(" and ")),
            };
            let _ = write!(
                out,
                "<div class=\"verdict near\">Past the limit by less than its uncertainty (the steps' spread{also}): \
                 not flagged</div>"
            );
        } else if range.is_some() {
            out.push_str("<div class=\"verdict ok\">Within the reference range</div>");
        }
    } else {
        // The flag's message already names the side.
        for flag in flags {
            let _ = write!(out, "<div class=\"verdict\">⚑ {}</div>", escape(&flag.message));
        }
    }
    out.push_str("</div>");
}

/// Left and right mean ± SD curves of one per-frame series over the stride, with the events marked.
fn cycle_plot(title: &str, y: Axis, series: [&[f64]; 2], analysis: &Analysis, evidence: &Evidence) -> Plot {
    let mut plot = Plot::new(
        title,
        Axis::new("Stride, from initial contact", "%").with_range(0.0, 100.0),
        y,
    );
    for (side, side_series) in [Side::Left, Side::Right].into_iter().zip(series) {
        let strides = strides_of(&analysis.steps, side);
        let (name, color) = side_style(side);
        let Some(curve) = cycle_curve(side_series, &strides, evidence.fps) else {
            continue;
        };
        let mut line = Series::new(
            &format!("{name} (mean ± SD, {} strides)", curve.stride_count),
            color,
            SeriesStyle::Line,
            curve.mean_points(),
        );
        line.band = curve.sd_band();
        plot.series.push(line);
        let (toe_off, opposite) = mean_event_percents(&strides);
        if let Some(x) = toe_off.filter(|_| analysis.untrusted_toe_offs().is_none()) {
            plot.markers.push(Marker {
                x,
                label: format!("TO {}", &name[..1]),
                color: color.into(),
            });
        }
        if let Some(x) = opposite.filter(|_| side == Side::Left) {
            plot.markers.push(Marker {
                x,
                label: "IC other".into(),
                color: "#555".into(),
            });
        }
    }
    plot
}

fn side_style(side: Side) -> (&'static str, &'static str) {
    match side {
        Side::Left => ("Left", LEFT_CSS),
        Side::Right => ("Right", RIGHT_CSS),
    }
}

fn push_plot(out: &mut String, plot: &Plot, empty_note: &str) {
    if plot.has_data() {
        out.push_str(&plot.to_svg());
    } else {
        let _ = write!(
            out,
            "<p class=\"note\">{}: {}</p>",
            escape(&plot.title),
            escape(empty_note)
        );
    }
}

fn cycle_section(out: &mut String, prefix: &str, analysis: &Analysis, evidence: &Evidence) {
    let _ = write!(out, "<section id=\"{prefix}cycle\">");
    out.push_str(
        "<h2>Over the stride cycle</h2><p class=\"note\">Each curve is one foot's strides \
         averaged from its initial contact (0 %) to its next (100 %); the band is ±1 SD. Dashed lines: that foot's \
         mean toe-off (TO) and the other foot's initial contact.",
    );
    if let Some(reason) = analysis.untrusted_toe_offs() {
        let _ = write!(out, " Toe-offs are not marked: {}.", escape(reason));
    }
    out.push_str("</p><div class=\"plots\">");
    let k = &evidence.kinematics;
    let trunk: &[f64] = &k.trunk_lean_deg;
    let plots = [
        cycle_plot(
            "Trunk lean",
            Axis::new("Trunk from vertical, + forward", "deg"),
            [trunk, trunk],
            analysis,
            evidence,
        ),
        cycle_plot(
            "Hip (thigh angle)",
            Axis::new("Thigh from vertical, + flexion, − extension", "deg"),
            [&k.legs[0].thigh_deg, &k.legs[1].thigh_deg],
            analysis,
            evidence,
        ),
        cycle_plot(
            "Knee flexion",
            Axis::new("Knee flexion", "deg"),
            [&k.legs[0].knee_flexion_deg, &k.legs[1].knee_flexion_deg],
            analysis,
            evidence,
        ),
        cycle_plot(
            "Foot angle to the belt",
            Axis::new("Sole to belt, + toes up", "deg"),
            [&k.legs[0].sole_deg, &k.legs[1].sole_deg],
            analysis,
            evidence,
        ),
    ];
    for plot in &plots {
        push_plot(out, plot, "no complete stride was found");
    }
    out.push_str("</div></section>");
}

/// One metric's per-step values, left and right, over the clip, with its reference band.
fn step_plot(analysis: &Analysis, thresholds: &Thresholds, metric: MetricId) -> Plot {
    let mut plot = Plot::new(
        &format!("{} by step", metric_name(metric)),
        Axis::new("Initial contact time", "s"),
        Axis::new(metric_name(metric), metric.unit()).with_min_span(least_span(metric)),
    );
    for measured in [true, false] {
        for side in [Side::Left, Side::Right] {
            let (name, color) = side_style(side);
            let points: Vec<(f64, f64)> = analysis
                .steps
                .iter()
                .filter(|s| s.side == side && s.measured == measured)
                .filter_map(|s| s.values.get(&metric).map(|v| (s.ic_s, *v)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let style = if side == Side::Left {
                SeriesStyle::Points
            } else {
                SeriesStyle::Squares
            };
            // Steps outside the measured running parts (another pace, a warm-up) are shown, greyed: the numbers
            // above leave them out.
            let series = if measured {
                Series::new(name, color, style, points)
            } else {
                Series::new(&format!("{name}, not measured"), UNMEASURED_CSS, style, points)
            };
            plot.series.push(series);
        }
    }
    if let Some(range) = reference_range(thresholds, metric).filter(|_| RangesOff::of(analysis).is_none()) {
        plot.band = Some(range_band(range, metric.unit()));
    }
    if metric == MetricId::FootStrikeAngleDeg {
        // The strike classes' cut-offs (Altman & Davis 2012), as the analysis classifies each step.
        plot.guides = vec![
            Guide {
                y: thresholds.rearfoot_strike_above_deg,
                label: "rearfoot above".into(),
                color: GUIDE_CSS.into(),
            },
            Guide {
                y: thresholds.forefoot_strike_below_deg,
                label: "forefoot below".into(),
                color: GUIDE_CSS.into(),
            },
        ];
    }
    plot
}

/// Colour of guide lines (classification thresholds).
const GUIDE_CSS: &str = "#6d4c41";

/// Colour of the steps outside the measured running parts in the per-step plots.
const UNMEASURED_CSS: &str = "#b0b0b0";

/// The least y span of a per-step plot, in the metric's unit: about the smallest change a PT would act on, so
/// that noise below it stays flat on the plot.
fn least_span(metric: MetricId) -> f64 {
    match metric.unit() {
        "ms" => 50.0,
        "steps/min" => 10.0,
        "m" => 0.2,
        "cm" => 5.0,
        _ => 10.0,
    }
}

/// The per-step plots shown, in order, for side views.
const SIDE_STEP_METRICS: [MetricId; 8] = [
    MetricId::FootStrikeAngleDeg,
    MetricId::ContactTimeMs,
    MetricId::TibiaAngleIcDeg,
    MetricId::OverstridePctLegLength,
    MetricId::KneeFlexionPeakStanceDeg,
    MetricId::HipExtensionPeakDeg,
    MetricId::TrunkLeanMidstanceDeg,
    MetricId::VerticalOscillationPctLegLength,
];

/// The per-step plots shown for rear and front views.
const FRONTAL_STEP_METRICS: [MetricId; 8] = [
    MetricId::PelvicDropMidstanceDeg,
    MetricId::KneeProjectionAngleMidstanceDeg,
    MetricId::StepWidthPctLegLength,
    MetricId::FootFromMidlinePctLegLength,
    MetricId::HeelWhipDeg,
    MetricId::ContactTimeMs,
    MetricId::FlightTimeMs,
    MetricId::StepTimeMs,
];

fn steps_section(out: &mut String, prefix: &str, analysis: &Analysis, thresholds: &Thresholds, frontal: bool) {
    let _ = write!(out, "<section id=\"{prefix}steps\">");
    out.push_str(
        "<h2>Step by step</h2><p class=\"note\">Each point is one step, at the time of its \
         initial contact; the green band is the reference range. A drift or a lone outlier shows here. Grey \
         points are steps outside the measured running parts, left out of the numbers above.</p>\
         <div class=\"plots\">",
    );
    let metrics: &[MetricId] = if frontal {
        &FRONTAL_STEP_METRICS
    } else {
        &SIDE_STEP_METRICS
    };
    let mut shown = 0;
    for &metric in metrics {
        let plot = step_plot(analysis, thresholds, metric);
        if plot.has_data() {
            out.push_str(&plot.to_svg());
            shown += 1;
        }
    }
    out.push_str("</div>");
    if shown == 0 {
        out.push_str("<p class=\"note\">No step gave a value to plot.</p>");
    }
    out.push_str("</section>");
}

/// `no_toe_off`: why the stills have no toe-off, when they have none.
fn stills_section(
    out: &mut String,
    prefix: &str,
    stills: Option<&[Still]>,
    clip_given: bool,
    no_toe_off: Option<&str>,
) {
    let _ = write!(out, "<section id=\"{prefix}stills\">");
    out.push_str(
        "<h2>Key moments</h2><p class=\"note\">A typical step of each foot (of the steps measured whose \
         landmarks held, the one closest to that foot's median), with the measured angles drawn against the belt: \
         dashed line = reference (vertical or belt), yellow arc = the angle.</p>",
    );
    match stills {
        Some(stills) if !stills.is_empty() => {
            for side in [Side::Left, Side::Right] {
                let own: Vec<&Still> = stills.iter().filter(|s| s.side == side).collect();
                if own.is_empty() {
                    continue;
                }
                let (name, _) = side_style(side);
                let _ = write!(out, "<h3>{name} foot</h3><div class=\"stills\">");
                for still in own {
                    let _ = write!(
                        out,
                        "<figure><img alt=\"{}\" src=\"data:image/jpeg;base64,{}\"><figcaption>{}</figcaption></figure>",
                        escape(&still.caption),
                        super::base64(&still.jpeg),
                        escape(&still.caption)
                    );
                }
                out.push_str("</div>");
            }
        }
        _ if !clip_given => out.push_str("<p class=\"note\">No stills: the report was made without the video.</p>"),
        _ => out.push_str("<p class=\"note\">No stills: no step was found.</p>"),
    }
    if let Some(reason) = no_toe_off.filter(|_| stills.is_some_and(|stills| !stills.is_empty())) {
        let _ = write!(out, "<p class=\"note\">No toe-off stills: {}.</p>", escape(reason));
    }
    out.push_str("</section>");
}

fn rear_section(out: &mut String, id: &str, analysis: &Analysis, evidence: &Evidence, thresholds: &Thresholds) {
    let heading = match analysis.view.used {
        View::Front => "Front view: pelvis",
        _ => "Rear view: pelvis",
    };
    let _ = write!(out, "<section id=\"{id}\"><h2>{heading}</h2>");
    let metric = MetricId::PelvicDropMidstanceDeg;
    if let Some(summary) = analysis.metric(metric).filter(|s| s.both.is_some()) {
        out.push_str("<div class=\"cards\">");
        let flags: Vec<&Flag> = analysis.flags.iter().collect();
        let card_metric = CardMetric {
            summary,
            from: None,
            ranges_off: RangesOff::of(analysis),
            note: None,
        };
        card(out, &card_metric, &flags, thresholds);
        out.push_str("</div>");
    } else if let Some(reason) = analysis.metric(metric).and_then(|s| s.absent_reason.as_deref()) {
        let _ = write!(
            out,
            "<p class=\"note\">Pelvic drop not measured: {}</p>",
            escape(reason)
        );
    }
    out.push_str("<div class=\"plots\">");
    let obliquity: &[f64] = &evidence.kinematics.pelvic_obliquity_deg;
    let cycle = cycle_plot(
        "Pelvic obliquity over the stride",
        Axis::new("Hip line from horizontal, + right hip lower", "deg"),
        [obliquity, obliquity],
        analysis,
        evidence,
    );
    push_plot(out, &cycle, "no complete stride was found");
    push_plot(out, &step_plot(analysis, thresholds, metric), "no step gave a value");
    out.push_str("</div></section>");
}

/// A view as the report's JSON names it (`side`, `auto`), or a dash where there is none (not detected).
fn view_word<T: serde::Serialize>(view: &T) -> String {
    Some(crate::report::csv::enum_text(view))
        .filter(|word| !word.is_empty())
        .unwrap_or_else(|| "–".into())
}

fn quality_section(out: &mut String, prefix: &str, page: &ReportPage, evidence: &Evidence) {
    let analysis = page.analysis;
    let _ = write!(out, "<section id=\"{prefix}quality\"><h2>Quality</h2><table>");
    let mut row = |name: &str, value: String| {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(name), escape(&value));
    };
    row("Landmarks from", page.landmark_source.to_owned());
    row(
        "Frames with a pose",
        format!(
            "{} of {} ({:.0} %)",
            analysis.frames_with_pose_count,
            analysis.frame_count,
            100.0 * analysis.frames_with_pose_count as f64 / analysis.frame_count.max(1) as f64
        ),
    );
    row(
        "Frame rate",
        format!(
            "{:.2} fps (events good to ±{:.1} ms)",
            analysis.frame_rate_fps,
            analysis.frame_interval_ms / 2.0
        ),
    );
    row(
        "View",
        format!(
            "used {}, detected {}, asked {} (shoulder/hip width over torso {})",
            view_word(&analysis.view.used),
            view_word(&analysis.view.detected),
            view_word(&analysis.view.requested),
            analysis
                .view
                .width_over_torso_ratio
                .map_or("–".into(), |r| format!("{r:.2}"))
        ),
    );
    let roll = match analysis.camera_roll_deg {
        Some(roll) if analysis.camera_roll_measured => format!("{roll:.1} deg, measured from the stance feet"),
        Some(roll) => format!("{roll:.1} deg, assumed (not measured)"),
        None => "not measured".into(),
    };
    row(
        "Camera roll",
        match analysis.running_parts.unsteady_belt_line_deg() {
            Some(error) => format!(
                "{roll}; the stance feet's line moves by ±{error:.1} deg from step to step, so trunk, thigh and shank \
                 angles are measured against the picture's vertical"
            ),
            None => roll,
        },
    );
    row(
        "Low-pass filter",
        format!("{:.1} Hz zero-lag Butterworth", analysis.filter_cutoff_hz),
    );
    row(
        "Leg length in the image",
        analysis
            .leg_length_px
            .map_or("–".into(), |l| format!("{l:.0} px (thigh + shank)")),
    );
    let repairs = &analysis.track_repairs;
    row(
        "Track repairs",
        format!(
            "{} frames with legs swapped back, {} samples filled, {} left missing, {} frames without a pose",
            repairs.swapped_frame_count,
            repairs.filled_sample_count,
            repairs.unfilled_sample_count,
            repairs.frames_without_pose_count
        ),
    );
    row("Contacts rejected", analysis.rejected_contacts.len().to_string());
    out.push_str("</table>");
    if !analysis.rejected_contacts.is_empty() {
        out.push_str("<h3>Rejected contacts</h3><ul>");
        for rejected in &analysis.rejected_contacts {
            let _ = write!(
                out,
                "<li>{:?} foot at {:.2} s: {}</li>",
                rejected.side,
                rejected.ic_s,
                escape(&rejected.reason)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("<h3>Per metric</h3><table><tr><th>Metric</th><th>Steps used</th><th>Left out (low confidence)</th><th>Mean landmark confidence</th><th>Enough steps</th></tr>");
    for summary in analysis.metrics.iter().filter(|s| s.both.is_some()) {
        let q = &summary.quality;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            metric_name(summary.metric),
            q.steps_used,
            q.steps_excluded_low_confidence,
            q.mean_landmark_confidence.map_or("–".into(), |c| format!("{c:.2}")),
            if q.enough_steps { "yes" } else { "no" }
        );
    }
    out.push_str("</table><div class=\"plots\">");
    push_plot(
        out,
        &visibility_plot(evidence, page.settings.thresholds.min_landmark_confidence),
        "no landmarks",
    );
    out.push_str("</div></section>");
}

/// Mean visibility of each leg's landmarks per frame, with the initial contacts marked.
fn visibility_plot(evidence: &Evidence, confidence_floor: f64) -> Plot {
    let mut plot = Plot::new(
        "Leg landmark visibility over the clip",
        Axis::new("Time", "s"),
        Axis::new("Mean visibility", "0–1").with_range(0.0, 1.0),
    );
    for side in [Side::Left, Side::Right] {
        let ids: [LandmarkId; 5] = crate::metrics::series::LegIds::of(side).all();
        let points: Vec<(f64, f64)> = (0..evidence.frame_count())
            .map(|f| {
                // Every track holds frame_count values; were one short, the frame would be a gap (NaN), not a panic.
                let visibility = |id: &LandmarkId| evidence.tracks.raw(*id).visibility.get(f).copied();
                let sum: f64 = ids.iter().map(|id| visibility(id).unwrap_or(f64::NAN)).sum();
                (f as f64 / evidence.fps, sum / ids.len() as f64)
            })
            .collect();
        let (name, color) = side_style(side);
        plot.series
            .push(Series::new(&format!("{name} leg"), color, SeriesStyle::Line, points));
    }
    plot.band = Some(Band {
        low: Some(confidence_floor),
        high: None,
        label: "above the confidence floor".into(),
    });
    plot
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze_sequence;

    #[test]
    fn a_clip_without_a_runner_still_gives_a_report_that_says_why() {
        let sequence = PoseSequence {
            width_px: 640,
            height_px: 480,
            fps: 30.0,
            frames: Vec::new(),
        };
        let settings = AnalysisSettings::default();
        let analysis = analyze_sequence(&sequence, &settings);
        let page = ReportPage {
            title: "empty",
            clip: None,
            sequence: &sequence,
            analysis: &analysis,
            settings: &settings,
            landmark_source: "none",
        };
        let html = render_html(&page).expect("renders");
        assert!(html.contains("no runner was found"), "the warning is shown");
        assert!(html.contains("<h3>Not measured</h3>"));
        assert!(
            html.contains("no complete stride was found"),
            "empty plots say why instead of drawing nothing"
        );
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn a_card_past_its_limit_without_a_flag_says_so_instead_of_within_range() {
        let stats = |mean: f64| Stats {
            mean,
            sd: 3.0,
            median: mean,
            n: 8,
        };
        let summary = |mean: f64| {
            MetricSummary::of_stats(
                MetricId::OverstridePctLegLength,
                stats(mean),
                stats(mean - 1.0),
                stats(mean - 0.5),
            )
        };
        let render_summary = |summary: &MetricSummary| {
            let mut out = String::new();
            let card_metric = CardMetric {
                summary,
                from: None,
                ranges_off: None,
                note: None,
            };
            card(&mut out, &card_metric, &[], &Thresholds::default());
            out
        };
        let render = |mean: f64| render_summary(&summary(mean));
        // Left at 30.9 against a limit of 30, not flagged: not "within".
        let near = render(30.9);
        assert!(
            near.contains("card near") && near.contains("less than its uncertainty"),
            "{near}"
        );
        assert!(!near.contains("Within the reference range"), "{near}");
        assert!(near.contains("(the steps' spread, and the contact's timing)"), "{near}");
        // The error every step shares is on the card where the report gives one.
        assert!(!near.contains("off together"), "{near}");
        let with_shared = render_summary(&MetricSummary {
            shared_error: Some(5.1),
            ..summary(30.9)
        });
        assert!(
            with_shared.contains("off together by up to ±5.1 % leg length (the contact&#39;s timing)"),
            "{with_shared}"
        );
        let inside = render(28.0);
        assert!(
            inside.contains("Within the reference range") && !inside.contains("card near"),
            "{inside}"
        );
        // The summary above the cards does not say that no value is outside its range when one is, unflagged.
        let summary_of = |mean: f64| {
            let summary = summary(mean);
            let card_metric = CardMetric {
                summary: &summary,
                from: None,
                ranges_off: None,
                note: None,
            };
            let mut out = String::new();
            summary_section(&mut out, &[card_metric], &[], &[], &Thresholds::default());
            out
        };
        let near = summary_of(30.9);
        assert!(
            near.contains("by more than its uncertainty")
                && near.contains(metric_name(MetricId::OverstridePctLegLength)),
            "{near}"
        );
        assert!(summary_of(28.0).contains("No value is outside its reference range.</p>"));
        // With nothing measured, nothing is said to be within its range.
        let nothing = {
            let mut out = String::new();
            summary_section(&mut out, &[], &[], &[], &Thresholds::default());
            out
        };
        assert!(
            nothing.contains("Nothing could be measured") && !nothing.contains("No value is outside"),
            "{nothing}"
        );
        // The quality table names views as the JSON does.
        assert_eq!(view_word(&View::Rear), "rear");
        assert_eq!(view_word(&None::<View>), "–");
        // On a sprint the ranges are not applied: the summary says so rather than naming a value past its limit.
        let sprint = {
            let summary = summary(34.0);
            let card_metric = CardMetric {
                summary: &summary,
                from: None,
                ranges_off: Some(RangesOff::Sprinting),
                note: None,
            };
            let mut out = String::new();
            summary_section(&mut out, &[card_metric], &[], &[], &Thresholds::default());
            out
        };
        assert!(
            sprint.contains("No flag is raised on a sprint")
                && sprint.contains("Distance running's reference range not applied: the runner sprints")
                && !sprint.contains("uncertainty"),
            "{sprint}"
        );
        // The same names for the web app's session page; a flagged metric is not among them.
        let past = summary(30.9);
        let card_metric = CardMetric {
            summary: &past,
            from: None,
            ranges_off: None,
            note: None,
        };
        let name = metric_name(MetricId::OverstridePctLegLength);
        let thresholds = Thresholds::default();
        assert_eq!(
            past_limit_unflagged(std::slice::from_ref(&card_metric), &[], &thresholds),
            [name]
        );
        let flag = Flag {
            metric: MetricId::OverstridePctLegLength,
            side: crate::analysis::FlagSide::Left,
            threshold_name: "overstride_pct_leg_length".to_owned(),
            value: 34.0,
            n: 8,
            reference_range: ReferenceRange {
                low: None,
                high: Some(30.0),
                source: String::new(),
            },
            message: "overstriding".to_owned(),
        };
        assert!(past_limit_unflagged(&[card_metric], &[&flag], &thresholds).is_empty());
    }

    #[test]
    fn steps_outside_the_measured_parts_are_greyed_in_the_step_plots() {
        let runner = crate::synthetic::SyntheticRunner {
            duration_s: 4.0,
            ..Default::default()
        };
        let sequence = runner.generate(&crate::synthetic::Corruption::default()).sequence;
        let mut analysis = analyze_sequence(&sequence, &AnalysisSettings::default());
        assert!(analysis.steps.len() >= 6, "{} steps", analysis.steps.len());
        for step in analysis.steps.iter_mut().take(2) {
            step.measured = false;
        }
        let metric = MetricId::ContactTimeMs;
        let with_value = |measured: bool| {
            analysis
                .steps
                .iter()
                .filter(|s| s.measured == measured && s.values.contains_key(&metric))
                .count()
        };
        let plot = step_plot(&analysis, &Thresholds::default(), metric);
        let points = |grey: bool| -> usize {
            plot.series
                .iter()
                .filter(|s| (s.color == UNMEASURED_CSS) == grey)
                .map(|s| s.points.len())
                .sum()
        };
        assert!(with_value(false) > 0);
        assert_eq!(points(true), with_value(false));
        assert_eq!(points(false), with_value(true));
        assert!(
            plot.series
                .iter()
                .filter(|s| s.color == UNMEASURED_CSS)
                .all(|s| s.name.ends_with(", not measured"))
        );
    }

    #[test]
    fn toe_offs_are_marked_and_shown_only_where_they_are_trusted() {
        let runner = crate::synthetic::SyntheticRunner {
            duration_s: 4.0,
            ..Default::default()
        };
        let sequence = runner.generate(&crate::synthetic::Corruption::default()).sequence;
        let analysis = analyze_sequence(&sequence, &AnalysisSettings::default());
        let toe_off_markers = |analysis: &Analysis| {
            let evidence = Evidence::new(&sequence, analysis, &AnalysisSettings::default());
            let trunk: &[f64] = &evidence.kinematics.trunk_lean_deg;
            cycle_plot("Trunk", Axis::new("Trunk", "deg"), [trunk, trunk], analysis, &evidence)
                .markers
                .iter()
                .filter(|marker| marker.label.starts_with("TO "))
                .count()
        };
        let toe_off_stills = |analysis: &Analysis| {
            stills::key_moments(analysis, runner.fps)
                .iter()
                .filter(|(_, moment, _, _)| *moment == stills::Moment::ToeOff)
                .count()
        };
        assert_eq!(toe_off_markers(&analysis), 2);
        assert_eq!(toe_off_stills(&analysis), 2);
        let analysis = analysis.with_toe_offs_distrusted("the toe-offs are uncalibrated");
        assert_eq!(toe_off_markers(&analysis), 0);
        assert_eq!(toe_off_stills(&analysis), 0);
        assert_eq!(analysis.untrusted_toe_offs(), Some("the toe-offs are uncalibrated"));
    }

    #[test]
    fn reference_ranges_read_in_plain_notation() {
        let thresholds = Thresholds::default();
        let cadence = reference_range(&thresholds, MetricId::CadenceStepsPerMin).expect("range");
        assert_eq!(range_text(cadence, "steps/min"), "≥ 160 steps/min");
        let contact = reference_range(&thresholds, MetricId::ContactTimeMs).expect("range");
        assert_eq!(range_text(contact, "ms"), "160 – 300 ms");
        assert!(reference_range(&thresholds, MetricId::FlightTimeMs).is_none());
    }

    #[test]
    fn a_cards_asymmetry_within_its_uncertainty_is_not_told_apart_from_none() {
        let asymmetry = |index: Option<f64>, uncertainty: Option<f64>| Asymmetry {
            left_minus_right: -88.0,
            symmetry_index_pct: index,
            uncertainty_pct: uncertainty,
            left_minus_right_uncertainty: None,
        };
        let step = MetricId::StepTimeMs;
        assert_eq!(
            asymmetry_text(step, &asymmetry(Some(-24.5), Some(48.3))),
            " · asymmetry -24.5 ± 48.3 %: not told apart from none (each foot's contacts are timed to its own \
             landmarks)"
        );
        assert_eq!(
            asymmetry_text(step, &asymmetry(Some(-57.1), Some(48.3))),
            " · asymmetry -57.1 ± 48.3 %"
        );
        assert_eq!(
            asymmetry_text(step, &asymmetry(Some(-24.5), None)),
            " · asymmetry -24.5 % (its uncertainty unknown)"
        );
        // A stride's feet's errors cancel: only the steps' spread is left to say.
        assert_eq!(
            asymmetry_text(MetricId::StrideTimeMs, &asymmetry(Some(0.4), Some(2.1))),
            " · asymmetry +0.4 ± 2.1 %: not told apart from none"
        );
        assert_eq!(
            asymmetry_text(MetricId::TibiaAngleIcDeg, &asymmetry(None, None)),
            " · L − R -88.0"
        );
        // An angle's difference within its uncertainty (the grass clip's foot strike angle, whose labels give
        // +2.0°), and one beyond it.
        let difference = |left_minus_right: f64| Asymmetry {
            left_minus_right,
            left_minus_right_uncertainty: Some(12.1),
            ..asymmetry(None, None)
        };
        let foot = MetricId::FootStrikeAngleDeg;
        assert_eq!(
            asymmetry_text(foot, &difference(8.0)),
            " · L − R +8.0 ± 12.1: not told apart from none (each leg's landmarks err in their own way)"
        );
        assert_eq!(asymmetry_text(foot, &difference(-13.8)), " · L − R -13.8 ± 12.1");
    }

    #[test]
    fn a_single_step_shows_no_spread() {
        let stats = |n: usize| Stats {
            mean: 216.2,
            sd: 0.0,
            median: 216.2,
            n,
        };
        assert_eq!(stats_text(&stats(1)), "216 (1 step)");
        assert_eq!(stats_text(&stats(2)), "216 ± 0.0");
    }
}
