//! CSV exports for researchers: `steps.csv`, one row per step with one column per metric (the wide, tidy shape
//! that `pandas.read_csv` and R's `read.csv` load as a ready data frame), and a one-row-per-clip summary whose
//! columns are the same for every clip so that a batch's rows stack into one table.
//!
//! Column names carry units (`contact_time_ms`); an empty cell means "not measured for this step or clip", and
//! the reason is beside it: a step's `withheld` column names each metric whose value it holds back and why
//! (`foot_strike_angle_deg=low_confidence`), and the summary's `<metric>_absent_reason` column says why a metric
//! (or one side of it) is absent for the clip.

use std::path::Path;

use crate::analysis::Analysis;
use crate::metrics::MetricId;
use crate::report::{Report, SessionInfo};

/// The first columns of `steps.csv`, before one column per metric.
const STEP_COLUMNS: [&str; 12] = [
    "clip",
    "athlete",
    "session_date",
    "step",
    "side",
    "measured",
    "initial_contact_s",
    "toe_off_s",
    "midstance_s",
    "foot_strike_class",
    "landmark_confidence",
    "withheld",
];

/// The serialised (unit-carrying) name of a metric, e.g. `cadence_steps_per_min`.
pub fn metric_name(metric: MetricId) -> String {
    serde_json::to_value(metric)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{metric:?}"))
}

/// A value for a CSV cell: up to 4 decimals, empty when absent.
fn cell(value: Option<f64>) -> String {
    value.filter(|v| v.is_finite()).map_or_else(String::new, |v| {
        let text = format!("{v:.4}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if text == "-0" { "0".to_owned() } else { text.to_owned() }
    })
}

/// Text of a serde enum value (`left`, `rearfoot`).
pub fn enum_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `steps.csv` for one report: the steps of its first (or only) clip.
pub fn steps_csv(report: &Report) -> Result<Vec<u8>, ::csv::Error> {
    clip_steps_csv(&report.input.path, &report.session, &report.analysis)
}

/// `steps-rear.csv` for a two-view session's report: the steps of its rear clip; `None` for a single clip.
pub fn rear_steps_csv(report: &Report) -> Option<Result<Vec<u8>, ::csv::Error>> {
    let rear = report.rear.as_ref()?;
    Some(clip_steps_csv(&rear.input.path, &report.session, &rear.analysis))
}

/// The per-step table of one clip's analysis.
fn clip_steps_csv(clip: &Path, session: &SessionInfo, analysis: &Analysis) -> Result<Vec<u8>, ::csv::Error> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = STEP_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    header.extend(MetricId::ALL.iter().map(|&m| metric_name(m)));
    writer.write_record(&header)?;
    let clip = clip.to_string_lossy().into_owned();
    for step in &analysis.steps {
        let mut row = vec![
            clip.clone(),
            session.athlete.clone().unwrap_or_default(),
            session.session_date.clone().unwrap_or_default(),
            step.index.to_string(),
            enum_text(&step.side),
            step.measured.to_string(),
            cell(Some(step.ic_s)),
            cell(Some(step.to_s)),
            cell(Some(step.midstance_s)),
            step.foot_strike_class.as_ref().map(enum_text).unwrap_or_default(),
            cell(Some(step.landmark_confidence)),
            step.withheld
                .iter()
                .map(|(metric, why)| format!("{}={}", metric_name(*metric), enum_text(why)))
                .collect::<Vec<_>>()
                .join(";"),
        ];
        row.extend(MetricId::ALL.iter().map(|m| cell(step.values.get(m).copied())));
        writer.write_record(&row)?;
    }
    writer
        .into_inner()
        .map_err(|e| ::csv::Error::from(std::io::Error::other(e.to_string())))
}

/// The one-row-per-clip summary: its column names.
pub fn summary_header() -> Vec<String> {
    let mut header: Vec<String> = [
        "clip",
        "sha256",
        "athlete",
        "session_date",
        "view",
        "pose_model",
        "runform_build",
        "frame_rate_fps",
        "frames",
        "frames_with_pose",
        "steps",
        "warnings",
        "flags",
    ]
    .iter()
    .map(|c| (*c).to_owned())
    .collect();
    for metric in MetricId::ALL {
        let name = metric_name(metric);
        for suffix in [
            "mean",
            "sd",
            "n",
            "left_mean",
            "right_mean",
            "symmetry_index_pct",
            "symmetry_index_uncertainty_pct",
            "left_minus_right_uncertainty",
            "shared_error",
            "absent_reason",
        ] {
            header.push(format!("{name}_{suffix}"));
        }
    }
    for side in ["left", "right"] {
        header.push(format!("{side}_foot_strike_pattern"));
        header.push(format!("{side}_foot_strike_pattern_share"));
        header.push(format!("{side}_foot_strike_on_the_line_with"));
    }
    header
}

/// The one-row-per-clip summary: the row of one report (same order as [`summary_header`]). In a two-view
/// session the row is the session's: the clips, hashes, views, frame counts and steps of both joined with `+`
/// (side first), each metric from the view that can show it, and the warnings of both clips.
pub fn summary_row(report: &Report) -> Vec<String> {
    let clips = report.session_clips();
    let sections: Vec<(&crate::video::VideoInfo, &crate::report::PoseSummary)> =
        std::iter::once((&report.input, &report.pose))
            .chain(report.rear.as_ref().map(|rear| (&rear.input, &rear.pose)))
            .collect();
    let joined = |texts: Vec<String>| texts.join("+");
    let mut warnings: Vec<String> = clips
        .iter()
        .flat_map(|clip| clip.analysis.warnings.iter().map(|w| enum_text(&w.kind)))
        .collect();
    if report
        .cadence_agreement
        .as_ref()
        .is_some_and(|a| a.agree == Some(false))
    {
        warnings.push("cadences_disagree".to_owned());
    }
    let mut row = vec![
        joined(
            sections
                .iter()
                .map(|(input, _)| input.path.to_string_lossy().into_owned())
                .collect(),
        ),
        joined(sections.iter().map(|(input, _)| input.sha256.clone()).collect()),
        report.session.athlete.clone().unwrap_or_default(),
        report.session.session_date.clone().unwrap_or_default(),
        joined(clips.iter().map(|clip| enum_text(&clip.analysis.view.used)).collect()),
        // The model whose landmarks each clip's numbers rest on (`--model auto` may have used heavy's); reports
        // written before `pose.model` existed ran the one model `settings.model` names.
        joined(
            sections
                .iter()
                .map(|(_, pose)| pose.model.clone().unwrap_or_else(|| report.settings.model.clone()))
                .collect(),
        ),
        // Which runform made the numbers (empty for reports written before reports named their build).
        report.settings.runform_build.clone().unwrap_or_default(),
        joined(
            clips
                .iter()
                .map(|clip| cell(Some(clip.analysis.frame_rate_fps)))
                .collect(),
        ),
        joined(sections.iter().map(|(_, pose)| pose.frames.to_string()).collect()),
        joined(
            sections
                .iter()
                .map(|(_, pose)| pose.frames_with_pose.to_string())
                .collect(),
        ),
        joined(clips.iter().map(|clip| clip.analysis.steps.len().to_string()).collect()),
        warnings.join(";"),
        report
            .session_flags()
            .iter()
            .map(|f| f.threshold_name.clone())
            .collect::<Vec<_>>()
            .join(";"),
    ];
    for metric in MetricId::ALL {
        let summary = report.session_metric(metric);
        let both = summary.and_then(|s| s.both.as_ref());
        row.push(cell(both.map(|s| s.mean)));
        row.push(cell(both.map(|s| s.sd)));
        row.push(both.map_or_else(String::new, |s| s.n.to_string()));
        row.push(cell(summary.and_then(|s| s.left.as_ref()).map(|s| s.mean)));
        row.push(cell(summary.and_then(|s| s.right.as_ref()).map(|s| s.mean)));
        let asymmetry = summary.and_then(|s| s.asymmetry.as_ref());
        row.push(cell(asymmetry.and_then(|a| a.symmetry_index_pct)));
        row.push(cell(asymmetry.and_then(|a| a.uncertainty_pct)));
        row.push(cell(asymmetry.and_then(|a| a.left_minus_right_uncertainty)));
        row.push(cell(summary.and_then(|s| s.shared_error)));
        // Why the metric, or one side of it, is absent.
        row.push(
            summary
                .and_then(|s| s.absent_reason.clone().or_else(|| s.side_absent_reason.clone()))
                .unwrap_or_default(),
        );
    }
    // Each leg's strike pattern (its commonest class), the share of its classed steps that have it, and the class
    // across the line its median is within its uncertainty of, from the clip that measures the foot strike (the
    // side view).
    let patterns = clips
        .iter()
        .map(|clip| &clip.analysis.strike_patterns)
        .find(|patterns| !patterns.is_empty());
    for side in [crate::track::Side::Left, crate::track::Side::Right] {
        let pattern = patterns.and_then(|patterns| patterns.iter().find(|p| p.side == side));
        row.push(pattern.map_or_else(String::new, |p| enum_text(&p.class)));
        row.push(cell(pattern.map(|p| p.steps as f64 / p.of.max(1) as f64)));
        row.push(
            pattern
                .and_then(|p| p.on_the_line_with.as_ref())
                .map_or_else(String::new, enum_text),
        );
    }
    row
}

/// `summary.csv` for one report: the header and its row.
pub fn summary_csv(report: &Report) -> Result<Vec<u8>, ::csv::Error> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(summary_header())?;
    writer.write_record(summary_row(report))?;
    writer
        .into_inner()
        .map_err(|e| ::csv::Error::from(std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_compact_and_empty_when_absent() {
        assert_eq!(cell(Some(171.25)), "171.25");
        assert_eq!(cell(Some(3.0)), "3");
        assert_eq!(cell(Some(-0.00001)), "0");
        assert_eq!(cell(None), "");
        assert_eq!(cell(Some(f64::NAN)), "");
    }

    #[test]
    fn metric_columns_carry_units() {
        assert_eq!(metric_name(MetricId::CadenceStepsPerMin), "cadence_steps_per_min");
        assert_eq!(metric_name(MetricId::ContactTimeMs), "contact_time_ms");
        let header = summary_header();
        assert!(header.contains(&"contact_time_ms_mean".to_owned()));
        assert_eq!(header.len(), 13 + 10 * MetricId::ALL.len() + 6);
        assert!(header.contains(&"pose_model".to_owned()));
        assert!(header.contains(&"runform_build".to_owned()));
        assert!(header.contains(&"step_time_ms_symmetry_index_uncertainty_pct".to_owned()));
        assert!(header.contains(&"foot_strike_angle_deg_left_minus_right_uncertainty".to_owned()));
        assert!(header.contains(&"tibia_angle_ic_deg_shared_error".to_owned()));
        assert!(header.contains(&"left_foot_strike_pattern".to_owned()));
        assert!(header.contains(&"foot_strike_angle_deg_absent_reason".to_owned()));
    }
}
