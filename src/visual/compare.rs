//! The HTML comparison of sessions: for each metric, its value ± spread in every session plotted in order with
//! the reference range, and a table with the change from the first session to the last.
//!
//! It takes a plain list of [`CompareSession`]s (label, date, per-metric value ± spread) rather than reports, so
//! that `runform compare` can map whatever report version it reads onto it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::Thresholds;
use crate::metrics::MetricId;
use crate::output;

use super::VisualError;
use super::html::{document, metric_name, range_band, range_text, reference_range};
use super::plot::{Axis, Plot, Series, SeriesStyle, escape};

/// One metric's value in one session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionValue {
    /// The metric (its unit is [`MetricId::unit`]).
    pub metric: MetricId,
    /// The session's value (the mean over its steps).
    pub value: f64,
    /// Spread around it (the SD over its steps), same unit; `None` when unknown.
    pub spread: Option<f64>,
    /// Steps behind the value.
    pub n: usize,
    /// Plain words on this session's change against the first, e.g. "likely real (d = 0.9)" or "within
    /// noise"; shown beside the value. `None` for the first session or where no verdict was made.
    pub verdict: Option<String>,
}

/// One session to compare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareSession {
    /// Short name shown on the plots' x axis, e.g. "before" or the clip's name.
    pub label: String,
    /// When it was filmed, as text (e.g. "2026-11-28"); may be empty.
    pub date: String,
    /// What to keep in mind comparing it with the first session (filmed from the other side), where anything.
    #[serde(default)]
    pub note: Option<String>,
    /// Its metrics; a metric missing here is shown as a gap.
    pub values: Vec<SessionValue>,
}

impl CompareSession {
    fn value(&self, metric: MetricId) -> Option<&SessionValue> {
        self.values.iter().find(|v| v.metric == metric && v.value.is_finite())
    }
}

/// Colour of the session means on the comparison plots.
const SESSION_CSS: &str = "#37474f";

/// Renders the comparison and writes it atomically to `out_html`.
pub fn write_compare_html(
    title: &str,
    sessions: &[CompareSession],
    thresholds: &Thresholds,
    out_html: &Path,
) -> Result<(), VisualError> {
    let html = render_compare_html(title, sessions, thresholds);
    output::write_atomically(out_html, html.as_bytes())?;
    Ok(())
}

/// The comparison as one HTML document (sessions in the order given).
pub fn render_compare_html(title: &str, sessions: &[CompareSession], thresholds: &Thresholds) -> String {
    let mut body = String::new();
    comparison_body(&mut body, title, sessions, thresholds, "", "h1");
    document(title, &body)
}

/// Renders the comparisons of several athletes (each a heading and its sessions) and writes them atomically to
/// `out_html` as one page.
pub fn write_compare_groups_html(
    title: &str,
    groups: &[(String, Vec<CompareSession>)],
    thresholds: &Thresholds,
    out_html: &Path,
) -> Result<(), VisualError> {
    let html = render_compare_groups_html(title, groups, thresholds);
    output::write_atomically(out_html, html.as_bytes())?;
    Ok(())
}

/// Several athletes' comparisons as one HTML document: one part per athlete, its section ids prefixed with
/// `athlete-N-` (N from 1).
pub fn render_compare_groups_html(
    title: &str,
    groups: &[(String, Vec<CompareSession>)],
    thresholds: &Thresholds,
) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>{}</h1><p>{} athletes</p></header>",
        escape(title),
        groups.len()
    );
    for (index, (heading, sessions)) in groups.iter().enumerate() {
        let prefix = format!("athlete-{}-", index + 1);
        let _ = write!(body, "<article id=\"athlete-{}\">", index + 1);
        comparison_body(&mut body, heading, sessions, thresholds, &prefix, "h2");
        body.push_str("</article>");
    }
    document(title, &body)
}

/// One comparison's heading and sections, the section ids prefixed with `prefix` and the heading at `level`.
fn comparison_body(
    body: &mut String,
    title: &str,
    sessions: &[CompareSession],
    thresholds: &Thresholds,
    prefix: &str,
    level: &str,
) {
    let metrics: BTreeSet<MetricId> = sessions
        .iter()
        .flat_map(|s| s.values.iter().filter(|v| v.value.is_finite()).map(|v| v.metric))
        .collect();
    let _ = write!(
        body,
        "<header><{level}>{}</{level}><p>{} sessions · {} metrics</p></header>",
        escape(title),
        sessions.len(),
        metrics.len()
    );
    let _ = write!(
        body,
        "<section id=\"{prefix}sessions\"><h2>Sessions</h2><table><tr><th>#</th><th>Label</th><th>Date</th>\
         <th>Note</th></tr>"
    );
    for (index, session) in sessions.iter().enumerate() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            index + 1,
            escape(&session.label),
            escape(&session.date),
            escape(session.note.as_deref().unwrap_or(""))
        );
    }
    body.push_str("</table></section>");
    let _ = write!(
        body,
        "<section id=\"{prefix}changes\"><h2>Changes</h2><table><tr><th>Metric</th><th>First</th><th>Last</th>\
         <th>Change</th><th>Reference</th></tr>",
    );
    for &metric in &metrics {
        let first = sessions.iter().find_map(|s| s.value(metric));
        let last = sessions.iter().rev().find_map(|s| s.value(metric));
        let change = match (first, last) {
            (Some(a), Some(b)) if sessions.len() > 1 => format!("{:+.1} {}", b.value - a.value, metric.unit()),
            _ => "–".into(),
        };
        let show = |v: Option<&SessionValue>| {
            v.map_or("–".into(), |v| match v.spread {
                Some(spread) => format!("{:.1} ± {:.1}", v.value, spread),
                None => format!("{:.1}", v.value),
            })
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            metric_name(metric),
            show(first),
            show(last),
            escape(&change),
            reference_range(thresholds, metric).map_or("–".into(), |r| escape(&range_text(r, metric.unit())))
        );
    }
    body.push_str("</table></section>");
    all_values_table(body, prefix, sessions, &metrics);
    let _ = write!(
        body,
        "<section id=\"{prefix}plots\"><h2>Over the sessions</h2><div class=\"plots\">"
    );
    for &metric in &metrics {
        body.push_str(&session_plot(sessions, thresholds, metric).to_svg());
    }
    body.push_str("</div></section>");
}

/// Every metric in every session, with the verdict on its change where one was given.
fn all_values_table(body: &mut String, prefix: &str, sessions: &[CompareSession], metrics: &BTreeSet<MetricId>) {
    let _ = write!(
        body,
        "<section id=\"{prefix}values\"><h2>Every session</h2><table><tr><th>Metric</th>"
    );
    for session in sessions {
        let _ = write!(body, "<th>{}</th>", escape(&session.label));
    }
    body.push_str("</tr>");
    for &metric in metrics {
        let _ = write!(body, "<tr><td>{} ({})</td>", metric_name(metric), escape(metric.unit()));
        for session in sessions {
            let cell = session.value(metric).map_or("–".into(), |v| {
                let spread = v.spread.map_or(String::new(), |s| format!(" ± {s:.1}"));
                let verdict = v.verdict.as_ref().map_or(String::new(), |t| format!(" ({t})"));
                format!("{:.1}{spread}, n {}{verdict}", v.value, v.n)
            });
            let _ = write!(body, "<td>{}</td>", escape(&cell));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table></section>");
}

/// One metric across sessions: mean ± spread per session, in order, with the reference range.
pub fn session_plot(sessions: &[CompareSession], thresholds: &Thresholds, metric: MetricId) -> Plot {
    let mut plot = Plot::new(
        metric_name(metric),
        Axis::new("Session", ""),
        Axis::new(metric_name(metric), metric.unit()),
    );
    plot.x_categories = sessions.iter().map(|s| s.label.clone()).collect();
    let values: Vec<Option<&SessionValue>> = sessions.iter().map(|s| s.value(metric)).collect();
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64, v.map_or(f64::NAN, |v| v.value)))
        .collect();
    plot.series.push(Series::new(
        "change",
        SESSION_CSS,
        SeriesStyle::DashedLine,
        points.clone(),
    ));
    let mut means = Series::new("value ± spread", SESSION_CSS, SeriesStyle::Points, points);
    means.error_bars = values.iter().map(|v| v.and_then(|v| v.spread).unwrap_or(0.0)).collect();
    plot.series.push(means);
    if let Some(range) = reference_range(thresholds, metric) {
        plot.band = Some(range_band(range, metric.unit()));
    }
    plot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(label: &str, cadence: f64, contact: Option<f64>) -> CompareSession {
        let mut values = vec![SessionValue {
            metric: MetricId::CadenceStepsPerMin,
            value: cadence,
            spread: Some(3.0),
            n: 20,
            verdict: (label == "after").then(|| "likely real".to_owned()),
        }];
        values.extend(contact.map(|value| SessionValue {
            metric: MetricId::ContactTimeMs,
            value,
            spread: None,
            n: 20,
            verdict: None,
        }));
        CompareSession {
            label: label.into(),
            date: "2026-11-28".into(),
            note: None,
            values,
        }
    }

    #[test]
    fn comparison_lists_every_metric_with_its_change_and_plot() {
        let sessions = [
            session("before", 158.0, Some(280.0)),
            session("mid <2>", 164.0, None),
            session("after", 171.0, Some(250.0)),
        ];
        let html = render_compare_html("Runner A", &sessions, &Thresholds::default());
        assert!(html.contains("id=\"changes\"") && html.contains("id=\"plots\""));
        assert!(html.contains("+13.0 steps/min"), "change from first to last");
        assert!(html.contains("−30.0 ms") || html.contains("-30.0 ms"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(html.contains("mid &lt;2&gt;"), "labels are escaped");
        assert!(
            html.contains("171.0 ± 3.0, n 20 (likely real)"),
            "verdicts are shown beside the values"
        );
        assert!(!html.contains("http://") || html.matches("http://").count() == html.matches("xmlns=").count());
    }

    #[test]
    fn session_plots_leave_a_gap_where_a_session_lacks_the_metric() {
        let sessions = [
            session("a", 160.0, Some(280.0)),
            session("b", 165.0, None),
            session("c", 170.0, Some(260.0)),
        ];
        let plot = session_plot(&sessions, &Thresholds::default(), MetricId::ContactTimeMs);
        assert!(plot.series[1].points[1].1.is_nan());
        let svg = plot.to_svg();
        assert_eq!(svg.matches("class=\"point\"").count(), 2);
        assert!(svg.contains("reference 160 – 300 ms"));
    }
}
