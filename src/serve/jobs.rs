//! The analysis workers: `--jobs` threads that take queued jobs from the database, one at a time each, and run
//! runform's own pipeline on them (`analyze::analyze`, then `analyze::write_overlay`). The web app never decodes
//! a frame or runs a model itself; it is a client of the pipeline like the command line.
//!
//! A job's progress (frames through the pose stage) is written to its row a few times a second, so the session
//! page can show it after a reload and the API can poll it. The report is made visible as soon as it is written,
//! before the slower overlay video; the video follows when it is encoded. Jobs live in the database, so a
//! crash or restart re-queues what was running (`Store::requeue_interrupted_jobs`).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};

use crate::analyze::{self, AnalyzeSettings, HEADLINE_METRICS};
use crate::options::{ClipOptions, OptionTexts};
use crate::report::{Report, SessionInfo};
use crate::visual;

use super::AppState;
use super::store::Job;

/// How often a running job writes its frame count to the database.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// How long an idle worker sleeps before looking at the queue again when nobody woke it (a job queued by another
/// process, or a lost wake-up).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// A session's headline numbers and flags, kept with the session so that the athlete page and its trends need no
/// report files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// One entry per headline metric, in `analyze::HEADLINE_METRICS` order.
    pub metrics: Vec<HeadlineValue>,
    /// The flags, in plain words.
    pub flags: Vec<String>,
    /// The warnings, in plain words.
    pub warnings: Vec<String>,
    /// Steps found.
    pub steps: usize,
    /// The metrics past their reference range's limit by less than their uncertainty, so not flagged (the report's
    /// summary names them too). Empty in headlines stored before it was kept.
    #[serde(default)]
    pub past_limit_unflagged: Vec<String>,
    /// The clip shows walking: running's reference ranges, and so the flags, do not apply.
    #[serde(default)]
    pub walking: bool,
    /// The runner sprints: distance running's reference ranges, and so the flags, do not apply.
    #[serde(default)]
    pub sprinting: bool,
    /// The runform build that made the report (`settings.runform_build`); absent in headlines of reports made
    /// before reports named their build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runform_build: Option<String>,
}

/// One headline metric's mean over both sides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadlineValue {
    /// The metric's report name (with its unit).
    pub metric: String,
    /// Short label.
    pub label: String,
    /// Unit.
    pub unit: String,
    /// The mean, where measured.
    pub value: Option<f64>,
}

impl Headline {
    /// Where another runform build than this server's made the report: what to tell the user, in plain words.
    pub fn other_build_note(&self) -> Option<String> {
        if self.runform_build.as_deref() == Some(crate::BUILD) {
            return None;
        }
        Some(format!(
            "This report was made by {}, and this server runs runform {}: the analysis may have changed \
             since. Analyse again to measure this clip with this runform, before comparing it with sessions \
             analysed now.",
            crate::report::made_by(self.runform_build.as_deref()),
            crate::BUILD
        ))
    }

    /// The headline of a report.
    pub fn of(report: &Report) -> Headline {
        let analysis = &report.analysis;
        Headline {
            metrics: HEADLINE_METRICS
                .iter()
                .map(|(metric, label, unit)| HeadlineValue {
                    metric: serde_json::to_value(metric)
                        .ok()
                        .and_then(|value| value.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    label: (*label).to_owned(),
                    unit: (*unit).to_owned(),
                    value: analysis
                        .metric(*metric)
                        .and_then(|summary| summary.both.as_ref())
                        .map(|stats| stats.mean),
                })
                .collect(),
            flags: analysis.flags.iter().map(|flag| flag.message.clone()).collect(),
            warnings: analysis
                .warnings
                .iter()
                .map(|warning| warning.message.clone())
                .collect(),
            steps: analysis.steps.len(),
            past_limit_unflagged: visual::past_limit_unflagged_of(analysis, &report.settings.analysis.thresholds)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            walking: analysis.is_walking(),
            sprinting: analysis.is_sprinting(),
            runform_build: report.settings.runform_build.clone(),
        }
    }
}

/// Wakes the workers when a job is queued.
#[derive(Clone)]
pub struct Wake(Sender<()>);

impl Wake {
    /// Tells one idle worker that there is work.
    pub fn job_queued(&self) {
        let _ = self.0.try_send(());
    }
}

/// A channel to wake the workers with, and its receiving end for [`start`].
pub fn wake_channel() -> (Wake, Receiver<()>) {
    let (sender, receiver) = crossbeam_channel::bounded(1024);
    (Wake(sender), receiver)
}

/// Starts `count` worker threads.
pub fn start(state: Arc<AppState>, count: usize, wake: Receiver<()>) {
    for index in 0..count.max(1) {
        let state = Arc::clone(&state);
        let wake = wake.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("runform-job-{index}"))
            .spawn(move || worker(&state, &wake));
        if let Err(error) = spawned {
            eprintln!("runform serve: could not start analysis worker {index}: {error}");
        }
    }
}

fn worker(state: &AppState, wake: &Receiver<()>) {
    loop {
        match state.store.claim_job() {
            Ok(Some(job)) => {
                let job_id = job.id;
                // A panic in the pipeline is a bug; it fails this job with a clear reason and the worker goes on.
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| run_job(state, &job)));
                if outcome.is_err() {
                    let _ = state.store.fail_job(
                        job_id,
                        "internal error: the analysis stopped unexpectedly (please report this with the clip)",
                    );
                }
            }
            Ok(None) => {
                let _ = wake.recv_timeout(IDLE_POLL);
            }
            Err(error) => {
                eprintln!("runform serve: {error}");
                std::thread::sleep(IDLE_POLL);
            }
        }
    }
}

fn run_job(state: &AppState, job: &Job) {
    let store = &state.store;
    let Ok(Some(session)) = store.session(job.session_id) else {
        return;
    };
    let fail = |reason: String| {
        let _ = store.fail_job(job.id, &reason);
    };
    let texts: OptionTexts = serde_json::from_str(&job.options_json).unwrap_or_default();
    let options = match ClipOptions::from_texts(&texts) {
        Ok(options) => options,
        Err(error) => return fail(error.to_string()),
    };
    let clip = state.data.clip(session.id, &session.clip_ext);
    let out_dir = state.data.job_outputs(session.id, job.id);
    let info = SessionInfo {
        athlete: Some(session.athlete_name.clone()),
        session_date: Some(session.session_date.clone()),
        notes: None,
    };
    let mut settings = match AnalyzeSettings::new(&clip, &out_dir, &options, info) {
        Ok(settings) => settings,
        Err(error) => return fail(state.user_words(&error.to_string(), &session)),
    };
    settings.html = true;
    settings.overlay = false;
    if state.settings.jobs > 1 {
        // As in `runform batch`: several clips at once each get one inference thread.
        settings.pose.session.intra_threads = 1;
    }
    // A job re-queued after a crash starts clean: nothing of the interrupted run (a half video) is kept.
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut last_progress = Instant::now() - PROGRESS_INTERVAL;
    let outcome = analyze::analyze(&settings, |done, total| {
        if last_progress.elapsed() >= PROGRESS_INTERVAL || done == total {
            last_progress = Instant::now();
            let _ = store.set_progress(job.id, done, total);
        }
    });
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => return fail(state.user_words(&error.to_string(), &session)),
    };
    let headline = serde_json::to_string(&Headline::of(&outcome.report)).unwrap_or_default();
    match store.report_ready(job.id, &headline) {
        Ok(Some(previous)) => {
            if let Some(previous) = previous {
                // Best effort: the outputs of the analysis shown before this one are no longer reachable.
                let _ = std::fs::remove_dir_all(state.data.job_outputs(session.id, previous));
            }
        }
        Ok(None) | Err(_) => {
            // The session was deleted or erased while it was analysed: its outputs must not outlive it.
            let _ = std::fs::remove_dir_all(state.data.session_outputs(session.id));
            return;
        }
    }
    let overlay = analyze::write_overlay(&settings, &outcome.poses, &outcome.report);
    let error = overlay.as_ref().err().map(|error| {
        format!(
            "the overlay video could not be made: {}",
            state.user_words(&error.to_string(), &session)
        )
    });
    let _ = store.finish_job(job.id, overlay.is_ok(), error.as_deref());
    if store.session(session.id).ok().flatten().is_none() {
        let _ = std::fs::remove_dir_all(state.data.session_outputs(session.id));
    }
}
