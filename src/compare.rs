//! Comparing one athlete's sessions: per metric each session's value, the change from the first session, its
//! uncertainty, and whether the change is likely real. Reports of several athletes (a batch's output folder) are
//! grouped by athlete first ([`compare_reports_by_athlete`]), each athlete's sessions ordered by date.
//!
//! A two-view report (`runform-report-v2`) is read through its session `metrics`, each from the view that can
//! show it; a single-clip report of either version through its clip's metrics.
//!
//! A change is judged against three yardsticks. Where the literature gives a smallest detectable difference (SDD)
//! for the 2D measurement, the change must exceed it. Everywhere, the change must stand out from the
//! step-to-step spread: its 95 % interval, from the two sessions' step SDs and step counts, must exclude zero,
//! and its effect size (change over the pooled step SD, Cohen's d) must be at least medium. And where the reports
//! give the error every step of a session shares (`shared_error`: the level's for angles, a frame for contact
//! times), the interval must exclude zero by more than the larger of the two. The SDDs are in docs/metrics.md with
//! their sources. A later session that shows the runner facing the other way from the first, is measured on another
//! pose model's landmarks or other model files, or was analysed by another runform build is noted.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::{Exit, HasExit};
use crate::pose::ModelPreset;

/// z for a two-sided 95 % interval. With the ≥ 7 steps a summary needs, a t quantile would widen it by ≤ 20 %.
const Z_95: f64 = 1.96;

/// Cohen's d from which a change counts as at least medium (Cohen 1988).
const MEDIUM_EFFECT_SIZE: f64 = 0.5;

/// Smallest detectable differences of 2D running measurements (Dingenen et al. 2018, Phys Ther Sport 33:40;
/// the upper end of each reported range, to stay conservative), by metric name.
pub const SMALLEST_DETECTABLE_DIFFERENCES: [(&str, f64); 3] = [
    ("foot_strike_angle_deg", 2.3),
    ("tibia_angle_ic_deg", 4.8),
    ("pelvic_drop_midstance_deg", 2.8),
];

/// Reports could not be compared.
#[derive(Debug, Error)]
pub enum CompareError {
    /// A report could not be read.
    #[error("{path}: cannot be read ({source})")]
    Unreadable {
        /// The report.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not a runform report.
    #[error("{path}: is not a runform report ({reason}); give the report.json files that runform analyze wrote")]
    NotAReport {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Fewer than two sessions.
    #[error("compare needs at least two reports, found {found}; give two or more report.json files or a folder")]
    TooFew {
        /// How many were found.
        found: usize,
    },
}

impl HasExit for CompareError {
    fn exit(&self) -> Exit {
        match self {
            CompareError::Unreadable { .. } => Exit::InputUnreadable,
            CompareError::NotAReport { .. } => Exit::InputNotReport,
            CompareError::TooFew { .. } => Exit::Usage,
        }
    }
}

/// Step statistics of one metric in one session, as a report stores them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    /// Mean over the steps.
    pub mean: f64,
    /// Sample standard deviation over the steps.
    pub sd: f64,
    /// Number of steps.
    pub n: usize,
}

/// The parts of a report that a comparison reads; anything else in the file is ignored.
#[derive(Clone, Debug, Deserialize)]
struct ReportView {
    input: InputView,
    #[serde(default)]
    session: SessionView,
    analysis: AnalysisView,
    /// The session's metrics (v2 reports).
    #[serde(default)]
    metrics: Vec<MetricView>,
    #[serde(default)]
    pose: ModelView,
    #[serde(default)]
    settings: SettingsView,
}

/// The settings of a report that a comparison reads.
#[derive(Clone, Debug, Default, Deserialize)]
struct SettingsView {
    /// `full` or `heavy` before `--model auto` existed; `auto` since.
    #[serde(default)]
    model: Option<String>,
    /// The runform build that made the report (reports since 2026-12-05).
    #[serde(default)]
    runform_build: Option<String>,
    /// The pose model files, each with the first hex digits of its SHA-256 (reports since 2026-12-05).
    #[serde(default)]
    model_files: Option<std::collections::BTreeMap<String, String>>,
}

/// The pose model of a report's landmarks, `pose.model` (reports since 2026-12-05; older ones name it in
/// `settings.model`, [`SettingsView`]).
#[derive(Clone, Debug, Default, Deserialize)]
struct ModelView {
    #[serde(default)]
    model: Option<String>,
}

impl ReportView {
    /// The session's metrics: `metrics` in a v2 report, the clip's in a v1 report.
    fn session_metrics(&self) -> &[MetricView] {
        if self.metrics.is_empty() {
            &self.analysis.metrics
        } else {
            &self.metrics
        }
    }

    /// One metric's value over all steps and its shared error, where the report gives them.
    fn measured(&self, name: &str) -> (Option<StepStats>, Option<f64>) {
        self.session_metrics()
            .iter()
            .find(|m| m.metric == name)
            .map_or((None, None), |m| (m.both.clone(), m.shared_error))
    }
}

#[derive(Clone, Debug, Deserialize)]
struct InputView {
    path: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct SessionView {
    athlete: Option<String>,
    session_date: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
struct AnalysisView {
    metrics: Vec<MetricView>,
    /// Which way the runner faces in a side view ("left" or "right").
    #[serde(default)]
    facing: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
struct MetricView {
    metric: String,
    unit: String,
    both: Option<StepStats>,
    /// How far every step can be off together (reports since 2026-12-04; absent in older ones).
    #[serde(default)]
    shared_error: Option<f64>,
}

/// One session in a comparison.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    /// The report file.
    #[serde(serialize_with = "crate::output::serialize_path_lossy")]
    pub report: PathBuf,
    /// The clip the report was made from.
    pub clip: String,
    /// The athlete, where the report names one.
    pub athlete: Option<String>,
    /// The session date, where the report gives one.
    pub session_date: Option<String>,
    /// A short label: the date, else the clip's file name.
    pub label: String,
    /// Which way the runner faces in a side view, where the report says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facing: Option<String>,
    /// The pose model whose landmarks the report is from (`full`, `heavy`), where the report says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The runform build that made the report, where the report says ([`crate::BUILD`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runform_build: Option<String>,
    /// The model files its landmarks come from (the detector and `model`'s landmark model), each with the first
    /// hex digits of its SHA-256, where the report says (`settings.model_files`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_files: Option<String>,
}

/// Whether a change is likely real.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Larger than the SDD (where known) and clear of the step-to-step spread.
    LikelyReal,
    /// Within the measurement's noise.
    WithinNoise,
    /// Too few steps in one of the sessions to tell.
    CannotTell,
}

/// One metric in one later session, against the first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    /// Label of the session.
    pub session: String,
    /// The session's step statistics, or `None` where the metric is absent.
    pub value: Option<StepStats>,
    /// Session − first session, in the metric's unit.
    pub change: Option<f64>,
    /// 95 % interval of the change: (low, high).
    pub change_95ci: Option<(f64, f64)>,
    /// Change over the pooled step SD (Cohen's d).
    pub effect_size_d: Option<f64>,
    /// How much of the change the sessions' shared errors could make, in the metric's unit: the larger of the two
    /// reports' `shared_error` (the error every step of a session shares, which the step SDs do not show: the
    /// level's error for angles, a frame for contact times). `None` where neither report gives one.
    #[serde(default)]
    pub shared_error: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
}

/// One metric across the sessions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetricComparison {
    /// The metric's name (it carries the unit).
    pub metric: String,
    /// The unit, spelled out.
    pub unit: String,
    /// The smallest detectable difference, where the literature gives one.
    pub smallest_detectable_difference: Option<f64>,
    /// The first session's value (the baseline).
    pub baseline: Option<StepStats>,
    /// Each later session against the baseline.
    pub changes: Vec<Change>,
}

/// The whole comparison (of one athlete's sessions).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comparison {
    /// The athlete the sessions belong to, where their reports name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athlete: Option<String>,
    /// The sessions, in order (by date where every report has one, else as given).
    pub sessions: Vec<Session>,
    /// One entry per metric present in any session.
    pub metrics: Vec<MetricComparison>,
    /// What to keep in mind reading the changes: a later session filmed from the other side than the first,
    /// measured on another pose model's landmarks, or analysed by another runform build.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The note on a session whose runner faces the other way from the first session's.
fn other_side_note(baseline: &Session, session: &Session) -> Option<String> {
    let (first, later) = (baseline.facing.as_deref()?, session.facing.as_deref()?);
    (first != later).then(|| {
        format!(
            "{} films the runner facing {later} and {} facing {first}: the pose model sees the two sides \
             differently, and the same run filmed both ways read contacts 47 ms shorter and trunk lean 4.5° greater, \
             beyond the shared errors (docs/metrics.md, Comparing sessions); compare sessions filmed from the same side",
            session.label, baseline.label
        )
    })
}

/// The note on a session whose landmarks come from another pose model than the first session's.
fn other_model_note(baseline: &Session, session: &Session) -> Option<String> {
    let (first, later) = (baseline.model.as_deref()?, session.model.as_deref()?);
    (first != later).then(|| {
        format!(
            "{} is measured on the {later} pose model's landmarks and {} on the {first} model's: the two models place \
             the feet differently (on the labelled gym clip the heavy model's far-foot contacts read 45 ms shorter \
             than the full model's; docs/metrics.md, Pose model size), so a change between them may be the models'; \
             analyse both with the same --model (full or heavy)",
            session.label, baseline.label
        )
    })
}

/// The note on a session whose landmarks come from other model files than the first session's, the same pose model
/// preset otherwise (a user's own models, `RUNFORM_MODELS_DIR`).
fn other_model_files_note(baseline: &Session, session: &Session) -> Option<String> {
    let (first, later) = (baseline.model_files.as_deref()?, session.model_files.as_deref()?);
    (first != later).then(|| {
        format!(
            "{}'s landmarks come from other pose model files ({later}) than {}'s ({first}): a change between them \
             may be the models'; analyse both clips with the same model files",
            session.label, baseline.label
        )
    })
}

/// The note on a session whose report another runform build made than the first session's. A report that names
/// no build was made before reports named theirs (2026-12-05), so by another build than any report that names one;
/// two such reports may or may not share a build, and get no note.
fn other_build_note(baseline: &Session, session: &Session) -> Option<String> {
    let (first, later) = (baseline.runform_build.as_deref(), session.runform_build.as_deref());
    if first == later {
        return None;
    }
    let (first, later) = (crate::report::made_by(first), crate::report::made_by(later));
    Some(format!(
        "{} was analysed by {later} and {} by {first}: the analysis may have changed between \
             the two builds, so a change between them may be runform's; analyse both clips with one runform (in \
             the web app, Analyse again on each session; on the command line, runform analyze or runform batch) to \
             compare the runner",
        session.label, baseline.label
    ))
}

/// What to keep in mind reading `session` against `baseline`: another side filmed, another pose model, another
/// runform build.
fn session_notes(baseline: &Session, session: &Session) -> Vec<String> {
    [
        other_side_note(baseline, session),
        other_model_note(baseline, session),
        other_model_files_note(baseline, session),
        other_build_note(baseline, session),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The model files a report's landmarks come from, as `pose_detection.onnx adfb61c6d72f, pose_landmark_full.onnx
/// 544ad624e795`: the detector and the landmark model of the pose model it names.
fn model_files_used(report: &ReportView) -> Option<String> {
    let files = report.settings.model_files.as_ref()?;
    let model = report.pose.model.as_deref().or(report.settings.model.as_deref())?;
    let landmark_file = [ModelPreset::Lite, ModelPreset::Full, ModelPreset::Heavy]
        .into_iter()
        .find(|preset| preset.name() == model)
        .map(ModelPreset::landmark_file);
    let used: Vec<String> = std::iter::once(crate::pose::models::DETECTOR_FILE)
        .chain(landmark_file)
        .filter_map(|file| files.get(file).map(|sha256| format!("{file} {sha256}")))
        .collect();
    (!used.is_empty()).then(|| used.join(", "))
}

/// The reports named by `paths`: files as given, folders searched recursively for `report.json`.
pub fn collect_reports(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CompareError> {
    let mut reports = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            let mut folders = vec![path.clone()];
            while let Some(folder) = folders.pop() {
                let entries = std::fs::read_dir(&folder).map_err(|source| CompareError::Unreadable {
                    path: folder.clone(),
                    source,
                })?;
                for entry in entries.flatten() {
                    let child = entry.path();
                    if child.is_dir() {
                        folders.push(child);
                    } else if child.file_name().is_some_and(|name| name == "report.json") {
                        found.push(child);
                    }
                }
            }
            found.sort();
            reports.extend(found);
        } else {
            reports.push(path.clone());
        }
    }
    Ok(reports)
}

/// Reads the reports and compares them.
pub fn compare_reports(paths: &[PathBuf]) -> Result<Comparison, CompareError> {
    compare_report_texts(&read_reports(paths)?)
}

/// The bytes of each report, with its path.
fn read_reports(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<u8>)>, CompareError> {
    paths
        .iter()
        .map(|path| {
            std::fs::read(path)
                .map(|bytes| (path.clone(), bytes))
                .map_err(|source| CompareError::Unreadable {
                    path: path.clone(),
                    source,
                })
        })
        .collect()
}

/// Several athletes' comparisons: what `runform compare` gives for reports of more than one athlete.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AthleteComparisons {
    /// One comparison per athlete with two or more sessions, by athlete name (reports naming no athlete last).
    pub athletes: Vec<Comparison>,
    /// The sessions of athletes with only one session: nothing to compare them with.
    pub single_sessions: Vec<Session>,
}

impl AthleteComparisons {
    /// A text table for the terminal: each athlete's comparison under its name.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for comparison in &self.athletes {
            text.push_str(&format!("athlete {}\n", athlete_name(comparison.athlete.as_deref())));
            text.push_str(&comparison.text());
            text.push('\n');
        }
        for session in &self.single_sessions {
            text.push_str(&format!(
                "athlete {}: one session only ({}, {}), nothing to compare it with\n",
                athlete_name(session.athlete.as_deref()),
                session.label,
                session.clip
            ));
        }
        text
    }

    /// Every athlete's comparison as one CSV table (its `athlete` column tells them apart).
    pub fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut all: Vec<u8> = Vec::new();
        for (index, comparison) in self.athletes.iter().enumerate() {
            let table = comparison.csv()?;
            // The header once, from the first table.
            let skip = if index == 0 {
                0
            } else {
                table.iter().position(|&b| b == b'\n').map_or(table.len(), |at| at + 1)
            };
            all.extend(table.get(skip..).unwrap_or_default());
        }
        Ok(all)
    }
}

/// An athlete's name in words, "not named" where the reports give none.
fn athlete_name(athlete: Option<&str>) -> String {
    athlete.map_or_else(|| "not named".to_owned(), |name| name.to_owned())
}

/// Reads the reports and compares each athlete's sessions: one [`Comparison`] per athlete with two or more
/// sessions. Errors when no athlete has two.
pub fn compare_reports_by_athlete(paths: &[PathBuf]) -> Result<AthleteComparisons, CompareError> {
    let loaded = parse_reports(&read_reports(paths)?)?;
    let mut groups: Vec<AthleteReports> = Vec::new();
    for (path, report) in loaded {
        let athlete = report.session.athlete.clone();
        match groups.iter_mut().find(|(name, _)| *name == athlete) {
            Some((_, reports)) => reports.push((path, report)),
            None => groups.push((athlete, vec![(path, report)])),
        }
    }
    // By name, reports naming no athlete last.
    groups.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
    let mut comparisons = AthleteComparisons {
        athletes: Vec::new(),
        single_sessions: Vec::new(),
    };
    for (athlete, reports) in groups {
        if reports.len() < 2 {
            comparisons.single_sessions.extend(compare_loaded(reports).sessions);
            continue;
        }
        let mut comparison = compare_loaded(reports);
        comparison.athlete = athlete;
        comparisons.athletes.push(comparison);
    }
    if comparisons.athletes.is_empty() {
        return Err(CompareError::TooFew {
            found: comparisons.single_sessions.len().min(1),
        });
    }
    Ok(comparisons)
}

/// One athlete (`None`: reports naming none) and their parsed reports.
type AthleteReports = (Option<String>, Vec<(PathBuf, ReportView)>);

/// Parses reports given as (name, file contents).
fn parse_reports(texts: &[(PathBuf, Vec<u8>)]) -> Result<Vec<(PathBuf, ReportView)>, CompareError> {
    let mut loaded = Vec::new();
    for (path, bytes) in texts {
        let report: ReportView = serde_json::from_slice(bytes).map_err(|error| CompareError::NotAReport {
            path: path.clone(),
            reason: error.to_string(),
        })?;
        loaded.push((path.clone(), report));
    }
    Ok(loaded)
}

/// Compares reports given as (name, file contents) as one athlete's sessions: the parsing half of
/// [`compare_reports`] (and a fuzz target).
pub fn compare_report_texts(texts: &[(PathBuf, Vec<u8>)]) -> Result<Comparison, CompareError> {
    let loaded = parse_reports(texts)?;
    if loaded.len() < 2 {
        return Err(CompareError::TooFew { found: loaded.len() });
    }
    let mut comparison = compare_loaded(loaded);
    let mut athletes: Vec<&Option<String>> = comparison.sessions.iter().map(|s| &s.athlete).collect();
    athletes.dedup();
    if let [athlete] = athletes.as_slice() {
        comparison.athlete = (*athlete).clone();
    }
    Ok(comparison)
}

/// Compares parsed reports as one athlete's sessions (one session gives its session and no changes), ordered by date where all have one.
fn compare_loaded(mut loaded: Vec<(PathBuf, ReportView)>) -> Comparison {
    if loaded.iter().all(|(_, report)| report.session.session_date.is_some()) {
        // ISO dates sort as text; a stable sort keeps the given order for equal dates.
        loaded.sort_by(|a, b| a.1.session.session_date.cmp(&b.1.session.session_date));
    }
    let sessions: Vec<Session> = loaded
        .iter()
        .map(|(path, report)| Session {
            report: path.clone(),
            clip: report.input.path.clone(),
            athlete: report.session.athlete.clone(),
            session_date: report.session.session_date.clone(),
            label: report.session.session_date.clone().unwrap_or_else(|| {
                Path::new(&report.input.path)
                    .file_name()
                    .map_or_else(|| report.input.path.clone(), |name| name.to_string_lossy().into_owned())
            }),
            facing: report.analysis.facing.clone(),
            model: report
                .pose
                .model
                .clone()
                .or_else(|| report.settings.model.clone().filter(|model| model != "auto")),
            runform_build: report.settings.runform_build.clone(),
            model_files: model_files_used(report),
        })
        .collect();
    let notes = sessions
        .split_first()
        .map(|(baseline, later)| later.iter().flat_map(|s| session_notes(baseline, s)).collect())
        .unwrap_or_default();

    let mut names: Vec<(String, String)> = Vec::new();
    for (_, report) in &loaded {
        for metric in report.session_metrics() {
            if metric.both.is_some() && !names.iter().any(|(name, _)| name == &metric.metric) {
                names.push((metric.metric.clone(), metric.unit.clone()));
            }
        }
    }
    let metrics = names
        .into_iter()
        .map(|(name, unit)| {
            let sdd = smallest_detectable_difference(&name);
            let (baseline, baseline_shared) = loaded
                .first()
                .map_or((None, None), |(_, report)| report.measured(&name));
            let changes = loaded
                .iter()
                .zip(&sessions)
                .skip(1)
                .map(|((_, report), session)| {
                    let (value, session_shared) = report.measured(&name);
                    let shared = [baseline_shared, session_shared].into_iter().flatten().reduce(f64::max);
                    let yardsticks = Yardsticks { sdd, shared };
                    change_between(baseline.as_ref(), value, yardsticks, &session.label)
                })
                .collect();
            MetricComparison {
                metric: name,
                unit,
                smallest_detectable_difference: sdd,
                baseline,
                changes,
            }
        })
        .collect();
    Comparison {
        athlete: None,
        sessions,
        metrics,
        notes,
    }
}

/// The SDD of a metric, where known.
pub fn smallest_detectable_difference(metric: &str) -> Option<f64> {
    SMALLEST_DETECTABLE_DIFFERENCES
        .iter()
        .find(|(name, _)| *name == metric)
        .map(|(_, sdd)| *sdd)
}

/// What a change is judged against besides the steps' spread.
#[derive(Clone, Copy, Debug, Default)]
pub struct Yardsticks {
    /// The metric's smallest detectable difference, where the literature gives one.
    pub sdd: Option<f64>,
    /// The larger of the two sessions' shared errors, where known.
    pub shared: Option<f64>,
}

/// The change from `baseline` to `value`, its interval, effect size and verdict. It is likely real when it exceeds
/// the SDD (where known), its 95 % interval widened on both sides by the shared error excludes zero (the step SDs
/// do not show an error every step of a session shares), and its effect size is at least medium.
pub fn change_between(
    baseline: Option<&StepStats>,
    value: Option<StepStats>,
    yardsticks: Yardsticks,
    label: &str,
) -> Change {
    let cannot_tell = |value| Change {
        session: label.to_owned(),
        value,
        change: None,
        change_95ci: None,
        effect_size_d: None,
        shared_error: yardsticks.shared,
        verdict: Verdict::CannotTell,
    };
    let (Some(a), Some(b)) = (baseline, value.clone()) else {
        return cannot_tell(value);
    };
    if a.n < 2 || b.n < 2 {
        return Change {
            change: Some(b.mean - a.mean),
            ..cannot_tell(value)
        };
    }
    let change = b.mean - a.mean;
    let standard_error = (a.sd.powi(2) / a.n as f64 + b.sd.powi(2) / b.n as f64).sqrt();
    let ci = (change - Z_95 * standard_error, change + Z_95 * standard_error);
    let pooled_sd =
        (((a.n - 1) as f64 * a.sd.powi(2) + (b.n - 1) as f64 * b.sd.powi(2)) / (a.n + b.n - 2) as f64).sqrt();
    let effect_size_d = (pooled_sd > 0.0).then(|| change / pooled_sd);
    let shared = yardsticks.shared.unwrap_or(0.0);
    let clear_of_spread =
        (ci.0 > shared || ci.1 < -shared) && effect_size_d.is_none_or(|d| d.abs() >= MEDIUM_EFFECT_SIZE);
    let beyond_sdd = yardsticks.sdd.is_none_or(|sdd| change.abs() > sdd);
    Change {
        session: label.to_owned(),
        value,
        change: Some(change),
        change_95ci: Some(ci),
        effect_size_d,
        shared_error: yardsticks.shared,
        verdict: if clear_of_spread && beyond_sdd {
            Verdict::LikelyReal
        } else {
            Verdict::WithinNoise
        },
    }
}

impl Comparison {
    /// The sessions as the compare HTML page takes them: each metric's value, spread and verdict in words.
    pub fn html_sessions(&self) -> Vec<crate::visual::CompareSession> {
        use crate::visual::{CompareSession, SessionValue};
        let metric_id = |name: &str| serde_json::from_value(serde_json::Value::String(name.to_owned())).ok();
        self.sessions
            .iter()
            .enumerate()
            .map(|(index, session)| CompareSession {
                label: session.label.clone(),
                date: session.session_date.clone().unwrap_or_default(),
                note: self
                    .sessions
                    .first()
                    .map(|first| session_notes(first, session).join(" "))
                    .filter(|note| !note.is_empty()),
                values: self
                    .metrics
                    .iter()
                    .filter_map(|metric| {
                        let id = metric_id(&metric.metric)?;
                        let (stats, verdict) = if index == 0 {
                            (metric.baseline.as_ref()?, None)
                        } else {
                            let change = metric.changes.get(index - 1)?;
                            (change.value.as_ref()?, Some(change.words()))
                        };
                        Some(SessionValue {
                            metric: id,
                            value: stats.mean,
                            spread: Some(stats.sd),
                            n: stats.n,
                            verdict,
                        })
                    })
                    .collect(),
            })
            .collect()
    }

    /// A text table for the terminal: one line per metric and later session.
    pub fn text(&self) -> String {
        let mut text = String::from("sessions:\n");
        for (i, session) in self.sessions.iter().enumerate() {
            text.push_str(&format!("  {}: {} ({})\n", i + 1, session.label, session.clip));
        }
        for note in &self.notes {
            text.push_str(&format!("note: {note}\n"));
        }
        text.push_str(&format!(
            "\n{:<34} {:>16} {:>16} {:>9} {:>20} {:>7} {:>7}  {}\n",
            "metric", "baseline", "session", "change", "95% interval", "d", "shared", "verdict"
        ));
        let stats = |s: &Option<StepStats>| {
            s.as_ref().map_or_else(
                || "absent".to_owned(),
                |s| format!("{:.1} ± {:.1} (n={})", s.mean, s.sd, s.n),
            )
        };
        for metric in &self.metrics {
            for change in &metric.changes {
                let verdict = match change.verdict {
                    Verdict::LikelyReal => "likely real",
                    Verdict::WithinNoise => "within noise",
                    Verdict::CannotTell => "cannot tell",
                };
                text.push_str(&format!(
                    "{:<34} {:>16} {:>16} {:>9} {:>20} {:>7} {:>7}  {verdict}\n",
                    metric.metric,
                    stats(&metric.baseline),
                    stats(&change.value),
                    change.change.map_or_else(String::new, |c| format!("{c:+.1}")),
                    change
                        .change_95ci
                        .map_or_else(String::new, |(lo, hi)| format!("[{lo:+.1}, {hi:+.1}]")),
                    change.effect_size_d.map_or_else(String::new, |d| format!("{d:+.2}")),
                    change.shared_error.map_or_else(String::new, |e| format!("±{e:.1}")),
                ));
            }
        }
        text
    }

    /// The comparison as CSV, one row per metric and session (the baseline's row has no change).
    pub fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record([
            "athlete",
            "metric",
            "unit",
            "session",
            "mean",
            "sd",
            "n",
            "change",
            "change_ci95_low",
            "change_ci95_high",
            "effect_size_d",
            "smallest_detectable_difference",
            "shared_error",
            "verdict",
        ])?;
        let number = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
        for metric in &self.metrics {
            let baseline_label = self.sessions.first().map_or("", |s| s.label.as_str());
            let mut rows = vec![(baseline_label.to_owned(), metric.baseline.clone(), None)];
            rows.extend(
                metric
                    .changes
                    .iter()
                    .map(|c| (c.session.clone(), c.value.clone(), Some(c))),
            );
            for (session, value, change) in rows {
                writer.write_record([
                    self.athlete.clone().unwrap_or_default(),
                    metric.metric.clone(),
                    metric.unit.clone(),
                    session,
                    number(value.as_ref().map(|v| v.mean)),
                    number(value.as_ref().map(|v| v.sd)),
                    value.as_ref().map_or_else(String::new, |v| v.n.to_string()),
                    number(change.and_then(|c| c.change)),
                    number(change.and_then(|c| c.change_95ci.map(|ci| ci.0))),
                    number(change.and_then(|c| c.change_95ci.map(|ci| ci.1))),
                    number(change.and_then(|c| c.effect_size_d)),
                    number(metric.smallest_detectable_difference),
                    number(change.and_then(|c| c.shared_error)),
                    change.map_or_else(|| "baseline".to_owned(), |c| format!("{:?}", c.verdict).to_lowercase()),
                ])?;
            }
        }
        writer
            .into_inner()
            .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
    }
}

impl Change {
    /// The verdict in plain words, with the change and its interval.
    pub fn words(&self) -> String {
        let verdict = match self.verdict {
            Verdict::LikelyReal => "likely real",
            Verdict::WithinNoise => "within noise",
            Verdict::CannotTell => "cannot tell",
        };
        let shared = self
            .shared_error
            .map_or_else(String::new, |e| format!("; shared error ±{e:.1}"));
        match (self.change, self.change_95ci) {
            (Some(change), Some((low, high))) => {
                format!("{verdict}: {change:+.1} (95 % CI {low:+.1} to {high:+.1}{shared})")
            }
            (Some(change), None) => format!("{verdict}: {change:+.1}"),
            _ => verdict.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(mean: f64, sd: f64, n: usize) -> StepStats {
        StepStats { mean, sd, n }
    }

    #[test]
    fn a_large_change_with_tight_steps_is_likely_real() {
        let change = change_between(
            Some(&stats(160.0, 2.0, 20)),
            Some(stats(170.0, 2.0, 20)),
            Yardsticks::default(),
            "b",
        );
        assert_eq!(change.verdict, Verdict::LikelyReal);
        assert!((change.change.expect("change") - 10.0).abs() < 1e-9);
        let (lo, hi) = change.change_95ci.expect("interval");
        assert!(lo > 8.0 && hi < 12.0, "[{lo}, {hi}]");
        assert!((change.effect_size_d.expect("d") - 5.0).abs() < 1e-9);
    }

    #[test]
    fn a_change_inside_the_spread_or_below_the_sdd_is_noise() {
        let noisy = change_between(
            Some(&stats(10.0, 6.0, 8)),
            Some(stats(12.0, 6.0, 8)),
            Yardsticks::default(),
            "b",
        );
        assert_eq!(noisy.verdict, Verdict::WithinNoise);
        // Clear of the spread, but smaller than the foot strike angle's SDD of 2.3°.
        let sdd = Yardsticks {
            sdd: smallest_detectable_difference("foot_strike_angle_deg"),
            shared: None,
        };
        let small = change_between(Some(&stats(10.0, 0.5, 30)), Some(stats(12.0, 0.5, 30)), sdd, "b");
        assert_eq!(small.verdict, Verdict::WithinNoise);
        let large = change_between(Some(&stats(10.0, 0.5, 30)), Some(stats(13.0, 0.5, 30)), sdd, "b");
        assert_eq!(large.verdict, Verdict::LikelyReal);
    }

    #[test]
    fn a_change_within_the_sessions_shared_error_is_noise() {
        // The gym clip's 60 fps footage against its own odd frames at 30 fps: the same run, whose trunk lean at
        // midstance read 1.9° apart (17 steps, SD 1.0 each), well clear of the steps' spread; but the level each is
        // measured against can be 3.1° off in either.
        let level = Yardsticks {
            sdd: None,
            shared: Some(3.1),
        };
        let same_run = change_between(Some(&stats(1.0, 1.0, 17)), Some(stats(-0.9, 1.0, 17)), level, "b");
        assert_eq!(same_run.verdict, Verdict::WithinNoise);
        assert_eq!(same_run.shared_error, Some(3.1));
        assert!(same_run.words().contains("shared error ±3.1"), "{}", same_run.words());
        let without = change_between(
            Some(&stats(1.0, 1.0, 17)),
            Some(stats(-0.9, 1.0, 17)),
            Yardsticks::default(),
            "b",
        );
        assert_eq!(without.verdict, Verdict::LikelyReal);
        // A runner who leans 5° further forward has changed.
        let leaning = change_between(Some(&stats(1.0, 1.0, 17)), Some(stats(6.0, 1.0, 17)), level, "b");
        assert_eq!(leaning.verdict, Verdict::LikelyReal);
    }

    #[test]
    fn missing_values_or_single_steps_cannot_be_judged() {
        assert_eq!(
            change_between(None, Some(stats(1.0, 0.0, 9)), Yardsticks::default(), "b").verdict,
            Verdict::CannotTell
        );
        assert_eq!(
            change_between(Some(&stats(1.0, 0.0, 9)), None, Yardsticks::default(), "b").verdict,
            Verdict::CannotTell
        );
        let single = change_between(
            Some(&stats(1.0, 0.0, 1)),
            Some(stats(5.0, 0.0, 9)),
            Yardsticks::default(),
            "b",
        );
        assert_eq!(single.verdict, Verdict::CannotTell);
        assert_eq!(single.change, Some(4.0));
    }

    fn write_report(dir: &Path, name: &str, date: &str, cadence: f64) -> PathBuf {
        let report = serde_json::json!({
            "input": {"path": format!("{name}.mp4"), "sha256": "00"},
            "session": {"athlete": "A. Runner", "session_date": date},
            "analysis": {"metrics": [
                {"metric": "cadence_steps_per_min", "unit": "steps/min",
                 "both": {"mean": cadence, "sd": 1.5, "median": cadence, "n": 16}},
                {"metric": "pelvic_drop_midstance_deg", "unit": "degrees", "both": null,
                 "absent_reason": "needs a rear view"}
            ]}
        });
        let path = dir.join(name).join("report.json");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, serde_json::to_vec(&report).expect("json")).expect("write");
        path
    }

    #[test]
    fn reports_in_a_folder_are_ordered_by_date_and_compared() {
        let dir = tempfile::tempdir().expect("temp dir");
        write_report(dir.path(), "march", "2026-03-01", 172.0);
        write_report(dir.path(), "january", "2026-01-10", 160.0);
        let reports = collect_reports(&[dir.path().to_path_buf()]).expect("found");
        let comparison = compare_reports(&reports).expect("compares");
        assert_eq!(comparison.sessions[0].label, "2026-01-10");
        assert_eq!(comparison.metrics.len(), 1, "absent metrics are left out");
        let cadence = &comparison.metrics[0];
        assert_eq!(cadence.changes[0].verdict, Verdict::LikelyReal);
        assert_eq!(cadence.changes[0].change, Some(12.0));
        let csv = String::from_utf8(comparison.csv().expect("csv")).expect("utf-8");
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(comparison.text().contains("likely real"));
    }

    #[test]
    fn the_reports_shared_errors_and_the_runners_facing_enter_the_comparison() {
        // Trunk lean 1.9° apart, clear of the steps' spread; the reports' shared errors are 3.1° each.
        let report = |date: &str, trunk: f64, facing: &str| {
            let json = serde_json::json!({
                "input": {"path": format!("{date}.mp4")},
                "session": {"session_date": date},
                "analysis": {"facing": facing, "metrics": [
                    {"metric": "trunk_lean_midstance_deg", "unit": "deg", "shared_error": 3.1,
                     "both": {"mean": trunk, "sd": 1.0, "median": trunk, "n": 17}}
                ]}
            });
            (PathBuf::from(date), serde_json::to_vec(&json).expect("json"))
        };
        let same_side =
            compare_report_texts(&[report("2026-01-10", 1.0, "right"), report("2026-03-01", -0.9, "right")])
                .expect("compares");
        let change = &same_side.metrics[0].changes[0];
        assert_eq!((change.shared_error, change.verdict), (Some(3.1), Verdict::WithinNoise));
        assert!(same_side.notes.is_empty());
        assert!(same_side.text().contains("±3.1"), "{}", same_side.text());
        let csv = String::from_utf8(same_side.csv().expect("csv")).expect("utf-8");
        assert!(
            csv.lines().next().is_some_and(|header| header.contains("shared_error")),
            "{csv}"
        );
        // Filmed from the other side: said once, in every output.
        let other_side = compare_report_texts(&[report("2026-01-10", 1.0, "right"), report("2026-03-01", 5.5, "left")])
            .expect("compares");
        assert_eq!(other_side.metrics[0].changes[0].verdict, Verdict::LikelyReal);
        assert_eq!(other_side.notes.len(), 1);
        assert!(
            other_side.notes[0].starts_with("2026-03-01 films the runner facing left and 2026-01-10 facing right"),
            "{}",
            other_side.notes[0]
        );
        assert!(other_side.text().contains("note: 2026-03-01 films"));
        let sessions = other_side.html_sessions();
        assert_eq!((sessions[0].note.is_none(), sessions[1].note.is_some()), (true, true));
    }

    #[test]
    fn sessions_analysed_by_other_runform_builds_are_said_to_be() {
        let report = |date: &str, build: Option<&str>| {
            let mut json = serde_json::json!({
                "input": {"path": format!("{date}.mp4")},
                "session": {"session_date": date},
                "settings": {"model": "auto", "runform_version": "0.1.0"},
                "analysis": {"metrics": [
                    {"metric": "contact_time_ms", "unit": "ms", "both": {"mean": 250.0, "sd": 10.0, "median": 250.0, "n": 17}}
                ]}
            });
            if let Some(build) = build {
                json["settings"]["runform_build"] = build.into();
            }
            (PathBuf::from(date), serde_json::to_vec(&json).expect("json"))
        };
        let notes = |reports: &[(PathBuf, Vec<u8>)]| compare_report_texts(reports).expect("compares").notes;
        let (a, b) = ("0.1.0+src.aaaaaaaaaaaa", "0.1.0+src.bbbbbbbbbbbb");
        // One build, or two reports that do not say: no note.
        assert!(notes(&[report("2026-01-10", Some(a)), report("2026-03-01", Some(a))]).is_empty());
        assert!(notes(&[report("2026-01-10", None), report("2026-03-01", None)]).is_empty());
        // A report from before reports named their build, against one that names it: another build.
        let older = notes(&[report("2026-01-10", None), report("2026-03-01", Some(b))]);
        assert_eq!(older.len(), 1);
        assert!(
            older[0].starts_with(
                "2026-03-01 was analysed by runform 0.1.0+src.bbbbbbbbbbbb and 2026-01-10 by a runform from before \
                 reports named their build"
            ),
            "{}",
            older[0]
        );
        // Two builds: said, in the text and the HTML too.
        let comparison =
            compare_report_texts(&[report("2026-01-10", Some(a)), report("2026-03-01", Some(b))]).expect("compares");
        assert_eq!(comparison.notes.len(), 1);
        assert!(
            comparison.notes[0].starts_with(
                "2026-03-01 was analysed by runform 0.1.0+src.bbbbbbbbbbbb and 2026-01-10 by runform \
                 0.1.0+src.aaaaaaaaaaaa: the analysis may have changed"
            ),
            "{}",
            comparison.notes[0]
        );
        assert!(comparison.text().contains("note: 2026-03-01 was analysed by runform"));
        assert!(comparison.html_sessions()[1].note.is_some());
    }

    #[test]
    fn sessions_measured_on_another_pose_models_landmarks_are_said_to_be() {
        // `pose.model` since --model auto; `settings.model` in older reports, where "auto" says nothing.
        let report = |date: &str, pose: Option<&str>, settings: &str| {
            let mut json = serde_json::json!({
                "input": {"path": format!("{date}.mp4")},
                "session": {"session_date": date},
                "settings": {"model": settings, "runform_version": "0.1.0"},
                "analysis": {"facing": "left", "metrics": [
                    {"metric": "contact_time_ms", "unit": "ms", "both": {"mean": 250.0, "sd": 10.0, "median": 250.0, "n": 17}}
                ]}
            });
            if let Some(model) = pose {
                json["pose"] = serde_json::json!({"model": model, "frames": 100});
            }
            (PathBuf::from(date), serde_json::to_vec(&json).expect("json"))
        };
        let notes = |reports: &[(PathBuf, Vec<u8>)]| compare_report_texts(reports).expect("compares").notes;
        // The same model, told either way: no note.
        assert!(
            notes(&[
                report("2026-01-10", None, "full"),
                report("2026-03-01", Some("full"), "auto")
            ])
            .is_empty()
        );
        assert!(
            notes(&[
                report("2026-01-10", None, "auto"),
                report("2026-03-01", Some("heavy"), "auto")
            ])
            .is_empty()
        );
        // Full's landmarks, then heavy's: said, in every output.
        let other = [
            report("2026-01-10", None, "full"),
            report("2026-03-01", Some("heavy"), "auto"),
        ];
        let comparison = compare_report_texts(&other).expect("compares");
        assert_eq!(comparison.notes.len(), 1);
        assert!(
            comparison.notes[0].starts_with(
                "2026-03-01 is measured on the heavy pose model's landmarks and 2026-01-10 on the full model's"
            ),
            "{}",
            comparison.notes[0]
        );
        assert!(comparison.text().contains("note: 2026-03-01 is measured on the heavy"));
        let sessions = comparison.html_sessions();
        assert!(
            sessions[1]
                .note
                .as_deref()
                .is_some_and(|note| note.contains("same --model"))
        );
    }

    #[test]
    fn sessions_measured_with_other_model_files_are_said_to_be() {
        let report = |date: &str, full: Option<&str>| {
            let mut json = serde_json::json!({
                "input": {"path": format!("{date}.mp4")},
                "session": {"session_date": date},
                "settings": {"model": "auto", "runform_version": "0.1.0"},
                "pose": {"model": "full", "frames": 100},
                "analysis": {"metrics": [
                    {"metric": "contact_time_ms", "unit": "ms", "both": {"mean": 250.0, "sd": 10.0, "median": 250.0, "n": 17}}
                ]}
            });
            if let Some(full) = full {
                json["settings"]["model_files"] = serde_json::json!({
                    "pose_detection.onnx": "adfb61c6d72f",
                    "pose_landmark_full.onnx": full,
                    "pose_landmark_heavy.onnx": "069210a0fe67",
                });
            }
            (PathBuf::from(date), serde_json::to_vec(&json).expect("json"))
        };
        let notes = |reports: &[(PathBuf, Vec<u8>)]| compare_report_texts(reports).expect("compares").notes;
        assert!(
            notes(&[
                report("2026-01-10", Some("544ad624e795")),
                report("2026-03-01", Some("544ad624e795"))
            ])
            .is_empty()
        );
        // A report from before reports named their files says nothing either way.
        assert!(notes(&[report("2026-01-10", None), report("2026-03-01", Some("0123456789ab"))]).is_empty());
        let other = notes(&[
            report("2026-01-10", Some("544ad624e795")),
            report("2026-03-01", Some("0123456789ab")),
        ]);
        assert_eq!(
            other,
            vec![
                "2026-03-01's landmarks come from other pose model files (pose_detection.onnx adfb61c6d72f, \
                 pose_landmark_full.onnx 0123456789ab) than 2026-01-10's (pose_detection.onnx adfb61c6d72f, \
                 pose_landmark_full.onnx 544ad624e795): a change between them may be the models'; analyse both \
                 clips with the same model files"
                    .to_owned()
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_a_report_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = write_report(dir.path(), "a", "2026-01-01", 160.0);
        let bad = dir.path().join("notes.json");
        std::fs::write(&bad, br#"{"hello": 1}"#).expect("write");
        let err = compare_reports(&[good.clone(), bad]).expect_err("not a report");
        assert!(err.to_string().contains("notes.json"), "{err}");
        assert!(matches!(
            compare_reports(&[good]),
            Err(CompareError::TooFew { found: 1 })
        ));
    }

    #[test]
    fn reports_of_several_athletes_are_compared_per_athlete_through_their_session_metrics() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |folder: &str, athlete: &str, date: &str, drop_deg: f64| {
            // A two-view (v2) report: the session's pelvic drop is in `metrics`, from the rear clip; the side
            // clip's own analysis has none.
            let report = serde_json::json!({
                "input": {"path": format!("{folder}-side.mp4")},
                "session": {"athlete": athlete, "session_date": date},
                "analysis": {"metrics": [{"metric": "pelvic_drop_midstance_deg", "unit": "degrees", "both": null}]},
                "metrics": [{"metric": "pelvic_drop_midstance_deg", "unit": "degrees", "view": "rear",
                             "source_clip": format!("{folder}-rear.mp4"),
                             "both": {"mean": drop_deg, "sd": 1.0, "median": drop_deg, "n": 20}}]
            });
            let path = dir.path().join(folder).join("report.json");
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, serde_json::to_vec(&report).expect("json")).expect("write");
        };
        write("b2", "BK", "2026-12-01", 4.0);
        write("a1", "AR", "2026-11-02", 8.0);
        write("b1", "BK", "2026-11-03", 9.0);
        write("a2", "AR", "2026-11-30", 7.5);
        write("c1", "CM", "2026-11-05", 6.0);
        let reports = collect_reports(&[dir.path().to_path_buf()]).expect("found");
        let grouped = compare_reports_by_athlete(&reports).expect("compares");
        let athletes: Vec<Option<&str>> = grouped.athletes.iter().map(|c| c.athlete.as_deref()).collect();
        assert_eq!(athletes, [Some("AR"), Some("BK")]);
        let bk = &grouped.athletes[1];
        assert_eq!(
            bk.sessions[0].session_date.as_deref(),
            Some("2026-11-03"),
            "by date within an athlete"
        );
        let drop = &bk.metrics[0];
        assert_eq!(drop.metric, "pelvic_drop_midstance_deg");
        assert_eq!(drop.changes[0].change, Some(-5.0));
        assert_eq!(drop.changes[0].verdict, Verdict::LikelyReal);
        assert_eq!(grouped.single_sessions.len(), 1, "CM has one session");
        let text = grouped.text();
        assert!(
            text.contains("athlete AR") && text.contains("athlete CM: one session only"),
            "{text}"
        );
        let csv = String::from_utf8(grouped.csv().expect("csv")).expect("utf-8");
        assert_eq!(
            csv.lines().filter(|l| l.starts_with("athlete,")).count(),
            1,
            "one header: {csv}"
        );
        assert_eq!(csv.lines().count(), 5, "{csv}");
    }
}
