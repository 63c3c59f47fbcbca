//! Reads a `blazepose-peer-v1` landmark file (MediaPipe's reference output or runform's own) and prints the
//! analysis stage's result as JSON: the tool for checking the analysis on real clips without the pose stage.
//!
//! ```text
//! cargo run --release --example analyze_landmarks -- LANDMARKS.json [--view side|rear|auto]
//!     [--height-cm CM] [--speed M_PER_S] [--summary]
//! ```
//! `--summary` prints a short table (metric, side, mean, SD, median, n) instead of the whole JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use runform::analysis::{AnalysisSettings, ViewChoice, analyze_sequence, legs_named_by_place_share};
use runform::peer::PeerFile;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut path: Option<PathBuf> = None;
    let mut settings = AnalysisSettings::default();
    let mut summary = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Option<f64> {
            let parsed = args.next().and_then(|v| v.parse().ok());
            if parsed.is_none() {
                eprintln!("{name} needs a number");
            }
            parsed
        };
        match arg.as_str() {
            "--view" => {
                settings.view = match args.next().as_deref() {
                    Some("side") => ViewChoice::Side,
                    Some("rear") => ViewChoice::Rear,
                    Some("auto") => ViewChoice::Auto,
                    other => {
                        eprintln!("--view must be side, rear or auto, not {other:?}");
                        return ExitCode::from(2);
                    }
                }
            }
            "--height-cm" => match value("--height-cm") {
                Some(v) => settings.height_cm = Some(v),
                None => return ExitCode::from(2),
            },
            "--speed" => match value("--speed") {
                Some(v) => settings.treadmill_speed_mps = Some(v),
                None => return ExitCode::from(2),
            },
            "--summary" => summary = true,
            _ => path = Some(PathBuf::from(arg)),
        }
    }
    let Some(path) = path else {
        eprintln!(
            "usage: analyze_landmarks LANDMARKS.json [--view side|rear|auto] [--height-cm CM] [--speed M_PER_S] [--summary]"
        );
        return ExitCode::from(2);
    };
    let sequence = match PeerFile::read(&path) {
        Ok(file) => file.to_sequence(),
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(1);
        }
    };
    let analysis = analyze_sequence(&sequence, &settings);
    if summary {
        // `--model auto` runs the heavy model as well from LEGS_NAMED_BY_PLACE_SHARE on (side and oblique views).
        let legs_named_by_place = analysis
            .facing
            .zip(analysis.leg_length_px)
            .and_then(|(facing, leg_px)| legs_named_by_place_share(&sequence, facing, leg_px));
        println!(
            "view {:?} (detected {:?}), facing {:?}, travel {:?}, roll {:?} deg, {} steps, {} rejected, legs named \
             by place {:?}",
            analysis.view.used,
            analysis.view.detected,
            analysis.facing,
            analysis.travel,
            analysis.camera_roll_deg.map(|r| (r * 100.0).round() / 100.0),
            analysis.steps.len(),
            analysis.rejected_contacts.len(),
            legs_named_by_place.map(|share| (share * 100.0).round() / 100.0)
        );
        for metric in &analysis.metrics {
            let name = serde_json::to_string(&metric.metric).unwrap_or_default();
            match (&metric.both, &metric.absent_reason) {
                (Some(_), _) => {
                    for (side, stats) in [("left", &metric.left), ("right", &metric.right), ("both", &metric.both)] {
                        if let Some(s) = stats {
                            println!(
                                "{name:40} {side:5} mean {:8.2} sd {:6.2} median {:8.2} n {:3}",
                                s.mean, s.sd, s.median, s.n
                            );
                        }
                    }
                }
                (None, Some(reason)) => println!("{name:40} absent: {reason}"),
                (None, None) => println!("{name:40} absent"),
            }
        }
        for warning in &analysis.warnings {
            println!("warning {:?}: {}", warning.kind, warning.message);
        }
        for flag in &analysis.flags {
            println!("flag {}: {}", flag.threshold_name, flag.message);
        }
        return ExitCode::SUCCESS;
    }
    match serde_json::to_string_pretty(&analysis) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot serialise the analysis: {error}");
            ExitCode::from(1)
        }
    }
}
