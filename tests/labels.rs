//! Gait events against hand labels: `runform analyze` (the real pose stage and analysis) on every fixture clip
//! that `tests/labels/` holds hand-labelled foot contacts for, compared stance by stance with the labels. It
//! prints a table per clip — initial contacts (IC) and toe-offs (TO) within ±1 frame, their mean bias, contact
//! time per side against the labels, foot-strike class agreement and the median foot angle per side — and
//! asserts each clip's floor (see `CLIPS`), so that a change that makes the events worse on real footage fails.
//! It also checks that the labels' step-time symmetry index over the measured part lies within the report's index
//! and its uncertainty (`asymmetry.uncertainty_pct`), and the labels' left − right foot strike angle within the
//! report's and its uncertainty (`asymmetry.left_minus_right_uncertainty`).
//! Where `../shared/labels` labels the same clip (another labeller's calls), it prints that table too, without
//! floors, and fails on a flag either labelling contradicts.
//!
//! How the labels were made, and how to redo them, is in `tests/labels/README.md`. A label's IC is the first
//! frame in contact, so the true contact lies between that frame and the one before (`ic_frame − 0.5`); a TO is
//! the last frame in contact (`to_frame + 0.5`); contact frames are `to_frame − ic_frame + 1`.
//!
//! The clips live in `../shared/videos` (never in this repository): the test skips with a message where that
//! folder is absent. The synthetic-runner tests (`analysis_synthetic.rs`) test the same detector everywhere.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A labelled clip and the floors its events must reach.
struct LabelledClip {
    /// File name in `../shared/videos` (and, with `.events.csv`, in `tests/labels`).
    name: &'static str,
    /// Analyse every `decimate`-th frame starting at `phase` (a lower frame rate of the same footage, made with
    /// ffmpeg), or the clip itself with `None`.
    decimate: Option<(u32, u32)>,
    /// Analyse the footage at half its width and height, compressed harder (CRF 28): a phone clip sent on by a
    /// messaging app.
    half_size: bool,
    /// Analyse the footage mirrored left to right: the same runner facing the other way, with the labels' feet
    /// swapped (the near foot keeps its frames, and the pose model names it after the side it now shows). The
    /// pose model does not see a mirrored picture as a mirrored pose, so this is new footage to it.
    mirrored: bool,
    /// Least share of labelled ICs within ±1 frame.
    min_ic_within_one: f64,
    /// Least share of labelled TOs within ±1 frame.
    min_to_within_one: f64,
    /// Largest mean IC and TO bias, frames.
    max_bias_frames: f64,
    /// Largest difference of the per-side mean contact time from the labels, milliseconds.
    max_contact_difference_ms: f64,
    /// Least share of labelled stances found (the rest must be left out with a reason).
    min_found: f64,
    /// Least share of the found stances whose foot strike class agrees with the labelled strike pattern.
    min_strike_agreement: f64,
}

/// The floors of the gym clip at full size and of its 30 fps copies: the issue's goal, with contact time within 30 ms.
const GYM: LabelledClip = LabelledClip {
    name: "treadmill_side_gym_portrait60",
    decimate: None,
    half_size: false,
    mirrored: false,
    min_ic_within_one: 0.9,
    min_to_within_one: 0.9,
    max_bias_frames: 0.5,
    max_contact_difference_ms: 30.0,
    min_found: 0.85,
    min_strike_agreement: 0.9,
};

/// The floors of the grass clip.
const GRASS: LabelledClip = LabelledClip {
    name: "overground_side_grass_pace_overlay",
    min_ic_within_one: 0.85,
    min_to_within_one: 0.8,
    max_contact_difference_ms: 25.0,
    min_found: 0.8,
    min_strike_agreement: 0.2,
    ..GYM
};

/// No floors on events or angles: for a clip with too little running to measure, whose stances are left out with
/// a reason (as in every clip, at most a tenth of them may be missed).
const NOTHING_TO_MEASURE: LabelledClip = LabelledClip {
    name: "",
    decimate: None,
    half_size: false,
    mirrored: false,
    min_ic_within_one: 0.0,
    min_to_within_one: 0.0,
    max_bias_frames: 10.0,
    max_contact_difference_ms: 1000.0,
    min_found: 0.0,
    min_strike_agreement: 0.0,
};

/// Every labelled clip. The floors are what the detector reaches today, rounded down: the closing note of issue
/// 10 gives the measured values, and where they fall short of the issue's goal (90 % within ±1 frame, bias
/// within ±0.5 frame, contact time within a frame) and why.
const CLIPS: [LabelledClip; 14] = [
    GYM,
    // The same footage at 30 fps (even and odd frames): the frame rate of most phone clips.
    LabelledClip {
        decimate: Some((2, 0)),
        ..GYM
    },
    LabelledClip {
        decimate: Some((2, 1)),
        ..GYM
    },
    // The same footage at half size and CRF 28 (x264 `fast`), at 60 fps and at 30 fps (even frames): what image
    // quality costs. At 60 fps the toe-offs come 0.8 frame early. At 30 fps the events hold, but the near foot's
    // contacts come half a frame early, while its sole still turns up by 10-20° a frame, and its angles read 4-6°
    // low: half its steps read forefoot where the labels say midfoot. See docs/metrics.md, *Accuracy*.
    LabelledClip {
        half_size: true,
        min_to_within_one: 0.55,
        max_bias_frames: 0.8,
        ..GYM
    },
    LabelledClip {
        decimate: Some((2, 0)),
        half_size: true,
        min_strike_agreement: 0.5,
        ..GYM
    },
    // The same footage mirrored, at 60 and 30 fps: the runner faces image-left. The ICs hold; the toe-offs fall
    // far short of the goal, and the floors are what the detector reaches today: in the mirrored picture the pose
    // model's toe lifts 2-4 frames before the shoe leaves the belt, so contacts read up to 60 ms short. See
    // docs/metrics.md, *Accuracy*.
    LabelledClip {
        mirrored: true,
        min_to_within_one: 0.0,
        max_bias_frames: 3.6,
        max_contact_difference_ms: 75.0,
        ..GYM
    },
    LabelledClip {
        decimate: Some((2, 0)),
        mirrored: true,
        min_to_within_one: 0.3,
        max_bias_frames: 1.6,
        max_contact_difference_ms: 75.0,
        min_strike_agreement: 0.45,
        ..GYM
    },
    // Five takes joined by cuts, one pace each: every take's steps are found, the summary measures one pace.
    GRASS,
    // The same mirrored: the runner runs to image-left.
    LabelledClip {
        mirrored: true,
        min_ic_within_one: 0.8,
        min_to_within_one: 0.75,
        ..GRASS
    },
    // Front three-quarter view at 25 fps converted from 30 (uneven frame times), a small runner: short of the
    // goal, see the closing note. The full model's foot landmarks cannot time its contacts (toe-offs scattered):
    // `--model auto` runs the heavy model as well and keeps its landmarks (2026-12-05: 53 of 60 stances, the
    // near foot's ICs 0.9 frame early, its contacts 35 ms long).
    LabelledClip {
        name: "treadmill_oblique_tiktok",
        min_ic_within_one: 0.65,
        min_to_within_one: 0.75,
        max_bias_frames: 1.0,
        max_contact_difference_ms: 40.0,
        min_found: 0.85,
        min_strike_agreement: 0.85,
        ..GYM
    },
    // A sprint at 30 fps (contacts of 3-4 frames), seen obliquely from behind, mostly in 4x slow motion: its two
    // real-time stretches are measured, from the heavy model's landmarks (the full model names its legs by their
    // place: `--model auto`); the rail-holding start and the slow motion are left out with their reasons.
    LabelledClip {
        name: "treadmill_oblique_sprint_with_coach",
        min_ic_within_one: 0.85,
        min_to_within_one: 0.85,
        max_bias_frames: 0.5,
        max_contact_difference_ms: 25.0,
        // 12 of 22 (2026-12-05): the rest are on the rails, in slow motion, or rejected with their reasons.
        min_found: 0.5,
        min_strike_agreement: 0.85,
        ..GYM
    },
    // Labelled after the detector was built, and never tuned on (see the closing note): overground, static
    // cameras, the runner crossing the picture in under two seconds.
    // Too few stances to calibrate the events, so they take the offsets typical of the labelled clips (fitted on
    // the gym and grass clips only): its contact times are absent from the summary, which this test checks below;
    // the per-step events are scored as they are.
    LabelledClip {
        name: "overground_side_openpose_overlay_radluy",
        min_ic_within_one: 0.6,
        min_to_within_one: 0.3,
        max_bias_frames: 1.0,
        max_contact_difference_ms: 120.0,
        min_found: 0.6,
        min_strike_agreement: 0.0,
        ..GYM
    },
    // Under two seconds of running (three stances; the runner leaves the picture), and 15 frames of real-time
    // running before a pause and slow motion: too little to measure, so every stance is left out with a reason.
    LabelledClip {
        name: "overground_side_run_sports2d_demo3",
        ..NOTHING_TO_MEASURE
    },
    LabelledClip {
        name: "overground_side_track_screenrec",
        ..NOTHING_TO_MEASURE
    },
];

/// One labelled stance.
#[derive(Debug)]
struct Stance {
    side: String,
    /// Cut by the clip's start or end: runform reports only whole stances (a step needs its contact and its
    /// toe-off), so a partial one it does not find is left out for that reason.
    partial: bool,
    ic_frame: Option<f64>,
    to_frame: Option<f64>,
    strike: Option<String>,
    foot_angle_deg: Option<f64>,
}

/// Reads a label file: ours (`tests/labels/`, with a `status` per stance) or `../shared/labels/`'s (its foot angle
/// is `foot_angle_deg_estimate`, and a stance cut by the clip's start or end has no IC or no TO).
fn read_labels(path: &Path) -> Vec<Stance> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().expect("header").clone();
    let optional = |names: &[&str]| headers.iter().position(|h| names.contains(&h));
    let column = |name: &str| optional(&[name]).unwrap_or_else(|| panic!("{}: no {name}", path.display()));
    let (foot, ic, to, strike) = (
        column("foot"),
        column("ic_frame"),
        column("to_frame"),
        column("strike_pattern"),
    );
    let angle = optional(&["foot_angle_deg", "foot_angle_deg_estimate"])
        .unwrap_or_else(|| panic!("{}: no foot angle", path.display()));
    let status = optional(&["status"]);
    let number = |text: &str| text.trim().parse::<f64>().ok();
    reader
        .records()
        .map(|record| record.expect("a CSV row"))
        .filter(|record| status.and_then(|status| record.get(status)) != Some("excluded"))
        .map(|record| {
            let (ic_frame, to_frame) = (record.get(ic).and_then(number), record.get(to).and_then(number));
            Stance {
                side: record.get(foot).unwrap_or("").to_owned(),
                partial: match status {
                    Some(status) => record.get(status) == Some("partial"),
                    None => ic_frame.is_none() || to_frame.is_none(),
                },
                ic_frame,
                to_frame,
                strike: record.get(strike).filter(|s| !s.is_empty()).map(str::to_owned),
                foot_angle_deg: record.get(angle).and_then(number),
            }
        })
        .collect()
}

/// The mirrored footage's labels: the pose model names the near foot after the side it now shows.
fn mirror(labels: &mut [Stance]) {
    for stance in labels {
        stance.side = match stance.side.as_str() {
            "left" => "right".to_owned(),
            "right" => "left".to_owned(),
            other => other.to_owned(),
        };
    }
}

/// The clip to analyse: the fixture itself, or a copy of it in `dir` (decimated, smaller or mirrored).
fn clip_to_analyse(videos: &Path, clip: &LabelledClip, dir: &Path) -> PathBuf {
    let source = videos.join(format!("{}.mp4", clip.name));
    if clip.decimate.is_none() && !clip.half_size && !clip.mirrored {
        return source;
    }
    let mut filters = Vec::new();
    let mut name = clip.name.to_owned();
    if clip.mirrored {
        filters.push("hflip".to_owned());
        name.push_str("_mirrored");
    }
    if let Some((every, phase)) = clip.decimate {
        filters.push(format!("select='eq(mod(n\\,{every})\\,{phase})',setpts=N/(30*TB)"));
        name.push_str(&format!("_every{every}_from{phase}"));
    }
    if clip.half_size {
        filters.push("scale=iw/2:ih/2".to_owned());
        name.push_str("_half");
    }
    let derived = dir.join(format!("{name}.mp4"));
    let mut args = vec![
        "-i".to_owned(),
        source.to_str().expect("utf-8").to_owned(),
        "-vf".to_owned(),
        filters.join(","),
    ];
    if clip.decimate.is_some() {
        args.extend(["-r".to_owned(), "30".to_owned()]);
    }
    let crf = if clip.half_size { "28" } else { "14" };
    args.extend(
        ["-an", "-c:v", "libx264", "-crf", crf, "-preset", "fast"]
            .iter()
            .map(|a| (*a).to_owned()),
    );
    args.push(derived.to_str().expect("utf-8").to_owned());
    common::ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
    derived
}

/// Per-clip results.
#[derive(Debug, Default)]
struct Score {
    labelled: usize,
    found: usize,
    left_out: usize,
    missed: usize,
    /// Per foot: (IC errors, TO errors), frames.
    side_errors: BTreeMap<String, (Vec<f64>, Vec<f64>)>,
    /// The foot nearer the camera, as the report says.
    near_side: Option<String>,
    contact_ms: BTreeMap<String, (Vec<f64>, Vec<f64>)>,
    strike_agreement: Vec<bool>,
    /// Against the class the labelled angle gives by runform's thresholds (where the labeller's call rests on
    /// something else, e.g. which end of the foot touched first at 30 fps).
    strike_agreement_by_angle: Vec<bool>,
    angles: BTreeMap<String, (Vec<f64>, Vec<f64>)>,
    /// The labelled ICs (side, seconds) of the stances matched to a measured step: the labels' own step times over
    /// the part runform measured.
    measured_label_ics: Vec<(String, f64)>,
}

impl Score {
    /// The labelled step-time symmetry index over the measured part, percent: 100 × (L − R) / ((L + R) / 2) of the
    /// mean step time from each foot's labelled IC to the other foot's next (steps under 0.6 s, so a stance the
    /// labels miss does not make one of two).
    fn labelled_step_symmetry_pct(&self) -> Option<f64> {
        let mut ics = self.measured_label_ics.clone();
        ics.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut steps: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for pair in ics.windows(2) {
            let ((side, from), (next_side, to)) = (&pair[0], &pair[1]);
            if side != next_side && to - from < 0.6 {
                steps.entry(side.as_str()).or_default().push(to - from);
            }
        }
        let (left, right) = (steps.get("left")?, steps.get("right")?);
        let (left, right) = (mean(left), mean(right));
        Some(100.0 * (left - right) / (0.5 * (left + right)))
    }

    /// Both feet's IC errors, frames.
    fn ic_errors(&self) -> Vec<f64> {
        self.side_errors
            .values()
            .flat_map(|(ic, _)| ic.iter().copied())
            .collect()
    }

    /// Both feet's TO errors, frames.
    fn to_errors(&self) -> Vec<f64> {
        self.side_errors
            .values()
            .flat_map(|(_, to)| to.iter().copied())
            .collect()
    }
}

/// Altman & Davis 2012's foot-strike thresholds on the sole-to-ground angle at contact, degrees (runform's
/// defaults; `docs/metrics.md`).
const REARFOOT_ABOVE_DEG: f64 = 8.0;
const FOREFOOT_BELOW_DEG: f64 = -1.6;

/// The strike class a labelled foot angle gives by [`REARFOOT_ABOVE_DEG`] and [`FOREFOOT_BELOW_DEG`].
fn strike_class_of(angle_deg: f64) -> &'static str {
    if angle_deg > REARFOOT_ABOVE_DEG {
        "rearfoot"
    } else if angle_deg < FOREFOOT_BELOW_DEG {
        "forefoot"
    } else {
        "midfoot"
    }
}

fn share_within_one(errors: &[f64]) -> f64 {
    errors.iter().filter(|e| e.abs() <= 1.0).count() as f64 / errors.len().max(1) as f64
}

/// The share of `agreements` that are true, 0 when there are none.
fn share(agreements: &[bool]) -> f64 {
    agreements.iter().filter(|a| **a).count() as f64 / agreements.len().max(1) as f64
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

fn score(report: &serde_json::Value, labels: &[Stance], clip: &LabelledClip) -> Score {
    let analysis = &report["analysis"];
    let fps = analysis["frame_rate_fps"].as_f64().expect("fps");
    // Label frames are the original clip's; a decimated copy shows every `every`-th of them.
    let (every, phase) = clip.decimate.map_or((1.0, 0.0), |(e, p)| (f64::from(e), f64::from(p)));
    let label_s = |frame: f64| (frame - phase) / (fps * every);
    let steps = analysis["steps"].as_array().expect("steps");
    let skipped: Vec<(f64, f64)> = analysis["running_parts"]["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|span| {
            (
                span["start_s"].as_f64().unwrap_or(0.0),
                span["end_s"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    let rejected: Vec<f64> = analysis["rejected_contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["ic_s"].as_f64())
        .collect();
    let mut score = Score {
        near_side: analysis["near_side"].as_str().map(str::to_owned),
        ..Score::default()
    };
    for stance in labels {
        let ic_s = stance.ic_frame.map(|f| label_s(f - 0.5));
        let to_s = stance.to_frame.map(|f| label_s(f + 0.5));
        let Some(reference_s) = ic_s.or(to_s) else { continue };
        score.labelled += 1;
        let key = if ic_s.is_some() { "ic_s" } else { "to_s" };
        let matched = steps
            .iter()
            .filter(|step| step["side"].as_str() == Some(stance.side.as_str()))
            .filter_map(|step| step[key].as_f64().map(|t| (t - reference_s, step)))
            .filter(|(difference, _)| difference.abs() < 0.12)
            .min_by(|a, b| a.0.abs().total_cmp(&b.0.abs()));
        let Some((_, step)) = matched else {
            let explained = stance.partial
                || skipped
                    .iter()
                    .any(|(start, end)| reference_s >= start - 0.1 && reference_s <= end + 0.1)
                || rejected.iter().any(|t| (t - reference_s).abs() < 0.12);
            if explained {
                score.left_out += 1;
            } else {
                score.missed += 1;
            }
            continue;
        };
        score.found += 1;
        if let (Some(ic), Some(true)) = (ic_s, step["measured"].as_bool()) {
            score.measured_label_ics.push((stance.side.clone(), ic));
        }
        let (step_ic, step_to) = (
            step["ic_s"].as_f64().unwrap_or(f64::NAN),
            step["to_s"].as_f64().unwrap_or(f64::NAN),
        );
        let side_errors = score.side_errors.entry(stance.side.clone()).or_default();
        if let Some(ic) = ic_s {
            side_errors.0.push((step_ic - ic) * fps);
        }
        if let Some(to) = to_s {
            side_errors.1.push((step_to - to) * fps);
        }
        if let (Some(ic), Some(to)) = (ic_s, to_s) {
            let entry = score.contact_ms.entry(stance.side.clone()).or_default();
            entry.0.push((step_to - step_ic) * 1000.0);
            entry.1.push((to - ic) * 1000.0);
        }
        if let (Some(label), Some(class)) = (&stance.strike, step["foot_strike_class"].as_str()) {
            score.strike_agreement.push(label == class);
        }
        if let (Some(angle), Some(class)) = (stance.foot_angle_deg, step["foot_strike_class"].as_str()) {
            score.strike_agreement_by_angle.push(strike_class_of(angle) == class);
        }
        if let (Some(label), Some(angle)) = (stance.foot_angle_deg, step["values"]["foot_strike_angle_deg"].as_f64()) {
            let entry = score.angles.entry(stance.side.clone()).or_default();
            entry.0.push(angle);
            entry.1.push(label);
        }
    }
    score
}

/// The report's contact-time flags that the labels contradict: a flag whose labelled value (the labelled
/// stances' mean contact time on that side, or the labelled left/right symmetry index) lies inside the flag's own
/// reference range. A PT who checks the video would see that such a flag is false.
fn contradicted_flags(report: &serde_json::Value, score: &Score) -> Vec<String> {
    let labelled_mean = |side: &str| -> Option<f64> {
        let values: Vec<f64> = score
            .contact_ms
            .iter()
            .filter(|(s, _)| side == "both" || s.as_str() == side)
            .flat_map(|(_, (_, labels))| labels.iter().copied())
            .collect();
        (!values.is_empty()).then(|| mean(&values))
    };
    let flags = report["analysis"]["flags"].as_array().cloned().unwrap_or_default();
    flags
        .iter()
        .filter_map(|flag| {
            let side = flag["side"].as_str().unwrap_or("both");
            // The asymmetry flag's metric is contact time; its threshold names what it measures.
            let labelled = match flag["threshold_name"].as_str()? {
                "contact_time_ms" => labelled_mean(side)?,
                "contact_time_asymmetry_pct" => {
                    let (left, right) = (labelled_mean("left")?, labelled_mean("right")?);
                    100.0 * (left - right) / (0.5 * (left + right))
                }
                _ => return None,
            };
            let range = &flag["reference_range"];
            let inside = range["low"].as_f64().is_none_or(|low| labelled >= low)
                && range["high"].as_f64().is_none_or(|high| labelled <= high);
            inside.then(|| {
                format!(
                    "flag \"{}\" is contradicted by the labels ({labelled:.0} is inside its range)",
                    flag["message"].as_str().unwrap_or_default()
                )
            })
        })
        .collect()
}

fn print_table(title: &str, score: &Score) {
    println!(
        "{title}: {} labelled stances, {} found, {} left out with a reason, {} missed",
        score.labelled, score.found, score.left_out, score.missed
    );
    let (ic_errors, to_errors) = (score.ic_errors(), score.to_errors());
    println!(
        "  IC within ±1 frame {:>4.0} % (n {}, bias {:+.2} frames) | TO within ±1 frame {:>4.0} % (n {}, bias {:+.2} frames)",
        100.0 * share_within_one(&ic_errors),
        ic_errors.len(),
        mean(&ic_errors),
        100.0 * share_within_one(&to_errors),
        to_errors.len(),
        mean(&to_errors)
    );
    for (side, (ic, to)) in &score.side_errors {
        let near = match &score.near_side {
            Some(near) if near == side => " (near)",
            Some(_) => " (far)",
            None => "",
        };
        println!(
            "  {side:<5}{near:<7} IC bias {:+.2} frames (n {}), TO bias {:+.2} frames (n {})",
            mean(ic),
            ic.len(),
            mean(to),
            to.len()
        );
    }
    for (side, (runform, labels)) in &score.contact_ms {
        println!(
            "  contact {side:<5} runform {:>5.0} ms, labels {:>5.0} ms ({:+.0} ms, n {})",
            mean(runform),
            mean(labels),
            mean(runform) - mean(labels),
            runform.len()
        );
    }
    if !score.strike_agreement.is_empty() {
        println!(
            "  strike class agrees on {:.0} % of {} steps",
            100.0 * share(&score.strike_agreement),
            score.strike_agreement.len()
        );
    }
    if !score.strike_agreement_by_angle.is_empty() {
        println!(
            "  strike class agrees on {:.0} % of {} steps with the class of the labelled angle (rearfoot > {REARFOOT_ABOVE_DEG}°, forefoot < {FOREFOOT_BELOW_DEG}°)",
            100.0 * share(&score.strike_agreement_by_angle),
            score.strike_agreement_by_angle.len()
        );
    }
    for (side, (runform, labels)) in &score.angles {
        println!(
            "  foot angle {side:<5} median runform {:+5.1}°, labels {:+5.1}° (n {})",
            median(runform),
            median(labels),
            runform.len()
        );
    }
}

#[test]
fn events_match_the_hand_labels_on_real_clips() {
    let Some(videos) = common::shared_videos() else {
        return;
    };
    let labels_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/labels");
    let shared_labels_dir = videos.parent().expect("../shared").join("labels");
    // RUNFORM_LABELS_MODEL=full or heavy prints the same table for one pose model alone (docs/metrics.md, *Pose
    // model size*; `analyze` refuses lite since commit dab54f5, and lite's table there was printed at cd8991d); the
    // accuracy floors below are the default's (`auto`), so then only the flags the labels contradict fail.
    let model = std::env::var("RUNFORM_LABELS_MODEL")
        .ok()
        .filter(|model| model != "auto");
    if let Some(model) = &model {
        println!("pose model: {model} (accuracy floors not checked: they are --model auto's)");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for clip in &CLIPS {
        let mut labels = read_labels(&labels_dir.join(format!("{}.events.csv", clip.name)));
        // Another labeller's calls on the same clip, where `../shared/labels` has them.
        let shared_path = shared_labels_dir.join(format!("{}.events.csv", clip.name));
        let mut shared_labels = shared_path.is_file().then(|| read_labels(&shared_path));
        if clip.mirrored {
            mirror(&mut labels);
            shared_labels.iter_mut().for_each(|labels| mirror(labels));
        }
        let input = clip_to_analyse(&videos, clip, dir.path());
        let out = dir.path().join("out");
        let output = Command::new(env!("CARGO_BIN_EXE_runform"))
            .args(["analyze", input.to_str().expect("utf-8"), "--out"])
            .arg(&out)
            .arg("-q")
            .args(model.iter().flat_map(|model| ["--model", model.as_str()]))
            .output()
            .expect("runform runs");
        assert!(
            output.status.success(),
            "{}: {}",
            input.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let stem = input.file_stem().expect("stem").to_string_lossy().into_owned();
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(&stem).join("report.json")).expect("report")).expect("JSON");
        let scored = score(&report, &labels, clip);
        let mut title = match clip.decimate {
            Some((every, phase)) => format!("{} (1 frame in {every}, from frame {phase})", clip.name),
            None => clip.name.to_owned(),
        };
        if clip.half_size {
            title.push_str(" at half size, CRF 28");
        }
        if clip.mirrored {
            title.push_str(" mirrored (facing left)");
        }
        print_table(&title, &scored);
        // `floor`: a check of the accuracy this test holds the default model to.
        let mut check = |floor: bool, ok: bool, what: String| {
            if !ok && (!floor || model.is_none()) {
                failures.push(format!("{title}: {what}"));
            }
        };
        let (ic_errors, to_errors) = (scored.ic_errors(), scored.to_errors());
        let (ic, to) = (share_within_one(&ic_errors), share_within_one(&to_errors));
        check(
            true,
            ic >= clip.min_ic_within_one,
            format!("IC within ±1 frame {ic:.2} < {}", clip.min_ic_within_one),
        );
        check(
            true,
            to >= clip.min_to_within_one,
            format!("TO within ±1 frame {to:.2} < {}", clip.min_to_within_one),
        );
        for (what, errors) in [("IC", &ic_errors), ("TO", &to_errors)] {
            let bias = mean(errors);
            check(
                true,
                errors.is_empty() || bias.abs() <= clip.max_bias_frames,
                format!("{what} bias {bias:+.2} frames beyond ±{}", clip.max_bias_frames),
            );
        }
        for (side, (runform, labels)) in &scored.contact_ms {
            let difference = mean(runform) - mean(labels);
            check(
                true,
                difference.abs() <= clip.max_contact_difference_ms,
                format!("{side} contact {difference:+.0} ms from the labels"),
            );
        }
        let found = scored.found as f64 / scored.labelled.max(1) as f64;
        check(
            true,
            found >= clip.min_found,
            format!("found {found:.2} of the labelled stances"),
        );
        let strike = share(&scored.strike_agreement);
        check(
            true,
            strike >= clip.min_strike_agreement,
            format!("strike class agrees on {strike:.2} < {}", clip.min_strike_agreement),
        );
        check(
            true,
            scored.missed * 10 <= scored.labelled,
            format!("{} labelled stances missed without a reason", scored.missed),
        );
        let metric = |name: &str| {
            report["analysis"]["metrics"]
                .as_array()
                .and_then(|metrics| metrics.iter().find(|m| m["metric"] == name))
                .cloned()
                .unwrap_or_default()
        };
        for contradiction in contradicted_flags(&report, &scored) {
            check(false, false, contradiction);
        }
        // Prints runform's value with its uncertainty beside the labels', and checks the labels' lies within it.
        let within = |check: &mut dyn FnMut(bool, bool, String),
                      what: &str,
                      unit: &str,
                      runform: f64,
                      uncertainty: f64,
                      labelled: f64| {
            println!("  {what}: runform {runform:+.1} ± {uncertainty:.1}{unit}, labels {labelled:+.1}{unit}");
            check(
                true,
                (runform - labelled).abs() <= uncertainty,
                format!("{what} {runform:+.1} ± {uncertainty:.1}{unit} misses the labels' {labelled:+.1}{unit}"),
            );
        };
        // A step runs from one foot's IC to the other's, so the feet's IC biases do not cancel in the left − right
        // difference of step time: the report gives its symmetry index an uncertainty for that, and the labels'
        // index lies within it.
        // With a single step on a side the spread, and so the uncertainty, is unknown: nothing to check.
        let step_times = metric("step_time_ms");
        let step_time = &step_times["asymmetry"];
        let steps_a_side = |side: &str| step_times[side]["n"].as_u64().unwrap_or(0);
        if let (Some(index), Some(labelled), true) = (
            step_time["symmetry_index_pct"].as_f64(),
            scored.labelled_step_symmetry_pct(),
            steps_a_side("left") >= 2 && steps_a_side("right") >= 2,
        ) {
            let uncertainty = step_time["uncertainty_pct"].as_f64().unwrap_or(0.0);
            within(
                &mut check,
                "step time symmetry index",
                " %",
                index,
                uncertainty,
                labelled,
            );
        }
        // Each leg's angles rest on its own landmarks: the report gives the left − right difference of the foot
        // strike angle an uncertainty for that, and the labels' difference over the matched steps lies within it.
        let foot_angles = metric("foot_strike_angle_deg");
        let foot = &foot_angles["asymmetry"];
        let labelled_difference = match (scored.angles.get("left"), scored.angles.get("right")) {
            (Some((_, left)), Some((_, right))) if !left.is_empty() && !right.is_empty() => {
                Some(mean(left) - mean(right))
            }
            _ => None,
        };
        let steps_a_side = |side: &str| foot_angles[side]["n"].as_u64().unwrap_or(0);
        if let (Some(difference), Some(labelled), true, true) = (
            foot["left_minus_right"].as_f64(),
            labelled_difference,
            steps_a_side("left") >= 2 && steps_a_side("right") >= 2,
            foot_angles["absent_reason"].is_null(),
        ) {
            let uncertainty = foot["left_minus_right_uncertainty"].as_f64().unwrap_or(0.0);
            within(
                &mut check,
                "foot strike angle L − R",
                "°",
                difference,
                uncertainty,
                labelled,
            );
        }
        if let Some(shared_labels) = &shared_labels {
            // Printed for comparison, with no floors: the two labellings differ by about a frame in their TO
            // convention and by 6.6° on the near foot's angle (tests/labels/README.md). A flag contradicted by
            // either labelling fails.
            let shared_score = score(&report, shared_labels, clip);
            print_table(&format!("{title}, against ../shared/labels"), &shared_score);
            for contradiction in contradicted_flags(&report, &shared_score) {
                check(false, false, format!("against ../shared/labels: {contradiction}"));
            }
        }
        if clip.name == "treadmill_side_gym_portrait60" {
            // A steady runner on a clean side view, at any of its frame rates and sizes: the foot and shank angles
            // at contact do not swing from step to step (they would be absent, with the spread in the reason, if
            // they did). At half size and 30 fps the heel is pulled onto the ankle at 2 of the near foot's 8
            // landings, which swung its foot angles by SD 9.8° until those frames were bridged.
            for name in ["foot_strike_angle_deg", "tibia_angle_ic_deg"] {
                let summary = metric(name);
                check(
                    true,
                    summary["both"].is_object(),
                    format!("{name} absent: {}", summary["absent_reason"]),
                );
                for side in ["left", "right"] {
                    let sd = summary[side]["sd"].as_f64().unwrap_or(f64::NAN);
                    let limit = if name == "foot_strike_angle_deg" { 8.0 } else { 6.0 };
                    check(true, sd <= limit, format!("{name} {side} SD {sd:.1} beyond {limit}"));
                }
            }
        }
        // The pose model whose landmarks the report uses (`--model auto`, the default, may switch to heavy).
        let model_used = report["pose"]["model"].as_str().unwrap_or("full");
        // Contact times this clip cannot give are absent, with the reason that says why.
        let absent_because = match clip.name {
            // Its toe-offs could not be calibrated to the foot heights.
            "overground_side_openpose_overlay_radluy" => Some("pelvis-relative"),
            // With the full model: where the legs cross, its foot landmarks swap, single stances' toe-offs
            // scatter by over 100 ms, and its contact times would read 34-73 ms long.
            "treadmill_oblique_tiktok" if model_used == "full" => Some("do not follow the foot"),
            // With the full model, too few of its stances show the foot reaching the ground; its toe-offs came
            // 1.2 frames late, and the knee's peak over each stance window read 88° (swing, not stance).
            "treadmill_oblique_sprint_with_coach" if model_used == "full" => Some("pelvis-relative"),
            _ => None,
        };
        if let Some(words) = absent_because {
            // So are the angles read up to each toe-off.
            for name in [
                "contact_time_ms",
                "knee_flexion_peak_stance_deg",
                "hip_extension_toe_off_deg",
            ] {
                let summary = metric(name);
                let reason = summary["absent_reason"].as_str().unwrap_or_default();
                check(
                    true,
                    summary["both"].is_null() && reason.contains(words),
                    format!("{name} should be absent ({words}): {summary}"),
                );
            }
        }
        // The full model names the sprint's legs by their place in the picture, and cannot time the tiktok clip's
        // contacts: `--model auto` runs the heavy model as well and keeps its landmarks (docs/metrics.md).
        if model.is_none()
            && matches!(
                clip.name,
                "treadmill_oblique_sprint_with_coach" | "treadmill_oblique_tiktok"
            )
        {
            let warned = report["analysis"]["warnings"]
                .as_array()
                .is_some_and(|warnings| warnings.iter().any(|w| w["kind"] == "heavy_model_used"));
            check(
                true,
                model_used == "heavy" && warned,
                format!("the report uses the {model_used} model's landmarks (heavy expected, warned)"),
            );
        }
        if clip.name == "treadmill_oblique_sprint_with_coach" {
            // The sprint is measured on its running part, at a sprinter's cadence, and the rails are said.
            let cadence = metric("cadence_steps_per_min")["both"]["mean"]
                .as_f64()
                .unwrap_or(f64::NAN);
            check(
                true,
                (240.0..300.0).contains(&cadence),
                format!("sprint cadence {cadence:.0}"),
            );
            let rails = report["analysis"]["running_parts"]["skipped"]
                .as_array()
                .is_some_and(|spans| {
                    spans
                        .iter()
                        .any(|s| s["reason"].as_str().is_some_and(|r| r.contains("rails")))
                });
            check(true, rails, "the rail-holding start is not said".into());
        }
    }
    assert!(
        failures.is_empty(),
        "events against the hand labels:\n{}",
        failures.join("\n")
    );
}
