//! What to analyse and how: [`ClipOptions`], the one description of an analysis that the command line, the
//! batch, and the web app's forms and JSON API all build and check the same way before the pipeline runs.
//!
//! Every value that comes in as text (a form field, a JSON string, a command-line argument) goes through the
//! parsers here, so "12km/h", an out-of-range height or an unknown model name is accepted or refused with the
//! same sentence wherever it was typed. `analyze::AnalyzeSettings::new` turns validated options into the
//! pipeline's settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::ViewChoice;
use crate::config::{TreadmillSpeed, parse_speed};
use crate::pose::runner::RunnerHint;
use crate::pose::{DetectionMode, ModelPreset};

/// Shortest and tallest plausible standing heights, centimetres.
pub const HEIGHT_RANGE_CM: (f64, f64) = (80.0, 250.0);

/// Everything about one analysis that changes its numbers, as the user chose it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClipOptions {
    /// The landmark model.
    pub model: AnalysisModel,
    /// The camera view (or auto-detection).
    pub view: ViewChoice,
    /// The runner's standing height, centimetres.
    pub height_cm: Option<f64>,
    /// The treadmill belt speed.
    pub speed: Option<TreadmillSpeed>,
    /// A TOML file of thresholds and reference ranges (`docs/runform.toml` lists every key).
    pub config: Option<PathBuf>,
    /// When the person detector runs.
    pub detection: DetectionMode,
    /// Where the runner is in the first frames, when others are in view.
    pub runner_at: Option<RunnerHint>,
}

/// One option's value was refused: which option, and why (one sentence the user can act on).
#[derive(Clone, Debug, Error, PartialEq)]
#[error("{field}: {reason}")]
pub struct OptionError {
    /// The option's name as forms and the API spell it (`height_cm`, `speed`, …).
    pub field: &'static str,
    /// What is wrong and what to write instead.
    pub reason: String,
}

/// The options as text fields, the way an HTML form or a JSON request carries them. Empty text means "not given".
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct OptionTexts {
    /// `auto`, `full` or `heavy`.
    pub model: String,
    /// `side`, `rear` or `auto`.
    pub view: String,
    /// Centimetres, e.g. `178`.
    pub height_cm: String,
    /// With its unit, e.g. `12km/h`.
    pub speed: String,
    /// `true`/`on` to run the detector on every frame.
    pub detect_every_frame: String,
    /// `X,Y` fractions of the frame, e.g. `0.4,0.6`.
    pub runner_at: String,
}

impl ClipOptions {
    /// Checks the values that arrive already typed (from code rather than text): the same limits the text
    /// parsers apply.
    pub fn validate(&self) -> Result<(), OptionError> {
        if let Some(height_cm) = self.height_cm {
            parse_height_cm(&height_cm.to_string()).map_err(|reason| OptionError {
                field: "height_cm",
                reason,
            })?;
        }
        if let Some(speed) = self.speed {
            parse_speed(&format!("{}m/s", speed.mps)).map_err(|reason| OptionError { field: "speed", reason })?;
        }
        if self.model == AnalysisModel::Only(ModelPreset::Lite) {
            return Err(OptionError {
                field: "model",
                reason: LITE_REFUSED.to_owned(),
            });
        }
        if let Some(hint) = self.runner_at {
            format!("{},{}", hint.x, hint.y)
                .parse::<RunnerHint>()
                .map_err(|reason| OptionError {
                    field: "runner_at",
                    reason,
                })?;
        }
        Ok(())
    }

    /// Builds options from text fields (a form or the JSON API); an empty field keeps its default.
    pub fn from_texts(texts: &OptionTexts) -> Result<ClipOptions, OptionError> {
        let given = |text: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_owned())
        };
        let field = |field: &'static str| move |reason: String| OptionError { field, reason };
        let options = ClipOptions {
            model: match given(&texts.model) {
                Some(text) => parse_model(&text).map_err(field("model"))?,
                None => AnalysisModel::default(),
            },
            view: match given(&texts.view) {
                Some(text) => parse_view(&text).map_err(field("view"))?,
                None => ViewChoice::default(),
            },
            height_cm: given(&texts.height_cm)
                .map(|text| parse_height_cm(&text))
                .transpose()
                .map_err(field("height_cm"))?,
            speed: given(&texts.speed)
                .map(|text| parse_speed(&text))
                .transpose()
                .map_err(field("speed"))?,
            config: None,
            detection: match given(&texts.detect_every_frame).as_deref() {
                None | Some("false" | "off" | "0" | "no") => DetectionMode::Tracking,
                Some("true" | "on" | "1" | "yes") => DetectionMode::EveryFrame,
                Some(other) => {
                    return Err(OptionError {
                        field: "detect_every_frame",
                        reason: format!("'{other}' is not true or false"),
                    });
                }
            },
            runner_at: given(&texts.runner_at)
                .map(|text| text.parse::<RunnerHint>())
                .transpose()
                .map_err(field("runner_at"))?,
        };
        Ok(options)
    }

    /// The options written back as text fields (what a form shows to re-analyse with the same settings).
    pub fn texts(&self) -> OptionTexts {
        OptionTexts {
            model: self.model.name().to_owned(),
            view: view_name(self.view).to_owned(),
            height_cm: self.height_cm.map(|h| format!("{h}")).unwrap_or_default(),
            speed: self
                .speed
                .map(|s| format!("{}km/h", round_to(s.mps * 3.6, 2)))
                .unwrap_or_default(),
            detect_every_frame: (self.detection == DetectionMode::EveryFrame).to_string(),
            runner_at: self.runner_at.map(|h| format!("{},{}", h.x, h.y)).unwrap_or_default(),
        }
    }
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Parses a standing height in centimetres, as `--height-cm` and the forms take it.
pub fn parse_height_cm(text: &str) -> Result<f64, String> {
    let height: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of centimetres"))?;
    if (HEIGHT_RANGE_CM.0..=HEIGHT_RANGE_CM.1).contains(&height) {
        Ok(height)
    } else {
        Err(format!(
            "{height} cm is not a runner's height ({} to {} cm)",
            HEIGHT_RANGE_CM.0, HEIGHT_RANGE_CM.1
        ))
    }
}

/// Why an analysis refuses the lite pose model (`runform pose` still writes its landmarks). Against the hand labels
/// (`RUNFORM_LABELS_MODEL=lite cargo test --release --test labels` at commit cd8991d, before this refusal) its toe-offs
/// came 1.5-3.4 frames early on six of the gym clip's seven copies (one foot's contacts 50-104 ms short), its foot
/// angles up to 20° off, and on the oblique clip it found 13 of 60 stances and raised two flags that the labels
/// contradict.
pub const LITE_REFUSED: &str = "the lite pose model is not offered for analysis: against hand-labelled clips it timed \
                                toe-offs up to 3.4 frames early and read foot angles up to 20° off, and raised false \
                                flags (docs/metrics.md, Pose model size); use auto (the default), full or heavy";

/// The pose model an analysis runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AnalysisModel {
    /// The full model, and the heavy one as well where full names the legs by their place in the picture rather
    /// than by which leg each is (the heavy model's landmarks are kept when they measure more steps:
    /// [`crate::analysis::LEGS_NAMED_BY_PLACE_SHARE`]), or where full's foot landmarks cannot time the running
    /// contacts (heavy's are kept when they can, on most of the steps: `HEAVY_TIMED_MIN_STEP_SHARE`).
    #[default]
    Auto,
    /// This model only.
    Only(ModelPreset),
}

impl AnalysisModel {
    /// The name, as the command line and forms spell it (`auto`, `full`, `heavy`).
    pub const fn name(self) -> &'static str {
        match self {
            AnalysisModel::Auto => "auto",
            AnalysisModel::Only(preset) => preset.name(),
        }
    }

    /// The landmark models a run may use: `auto` runs the heavy model as well on some clips.
    pub fn presets(self) -> Vec<ModelPreset> {
        match self {
            AnalysisModel::Auto => vec![ModelPreset::Full, ModelPreset::Heavy],
            AnalysisModel::Only(preset) => vec![preset],
        }
    }

    /// The model the pose stage runs first.
    pub const fn first_preset(self) -> ModelPreset {
        match self {
            AnalysisModel::Auto => ModelPreset::Full,
            AnalysisModel::Only(preset) => preset,
        }
    }
}

/// Parses the name of a pose model an analysis can use: `auto`, `full` or `heavy` (`lite` is refused with
/// [`LITE_REFUSED`]).
pub fn parse_model(text: &str) -> Result<AnalysisModel, String> {
    [
        AnalysisModel::Auto,
        AnalysisModel::Only(ModelPreset::Lite),
        AnalysisModel::Only(ModelPreset::Full),
        AnalysisModel::Only(ModelPreset::Heavy),
    ]
    .into_iter()
    .find(|model| model.name().eq_ignore_ascii_case(text.trim()))
    .map_or_else(
        || Err(format!("'{text}' is not a model; use auto, full or heavy")),
        |model| match model {
            AnalysisModel::Only(ModelPreset::Lite) => Err(LITE_REFUSED.to_owned()),
            model => Ok(model),
        },
    )
}

/// Parses a view: `side`, `rear` or `auto`.
pub fn parse_view(text: &str) -> Result<ViewChoice, String> {
    [ViewChoice::Side, ViewChoice::Rear, ViewChoice::Auto]
        .into_iter()
        .find(|view| view_name(*view).eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| format!("'{text}' is not a view; use side, rear or auto"))
}

/// A view's name as the command line and forms spell it.
pub const fn view_name(view: ViewChoice) -> &'static str {
    match view {
        ViewChoice::Side => "side",
        ViewChoice::Rear => "rear",
        ViewChoice::Auto => "auto",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pairs: &[(&str, &str)]) -> OptionTexts {
        let mut texts = OptionTexts::default();
        for (key, value) in pairs {
            let value = (*value).to_owned();
            match *key {
                "model" => texts.model = value,
                "view" => texts.view = value,
                "height_cm" => texts.height_cm = value,
                "speed" => texts.speed = value,
                "detect_every_frame" => texts.detect_every_frame = value,
                "runner_at" => texts.runner_at = value,
                other => panic!("unknown key {other}"),
            }
        }
        texts
    }

    #[test]
    fn empty_texts_give_the_command_lines_defaults() {
        assert_eq!(
            ClipOptions::from_texts(&OptionTexts::default()),
            Ok(ClipOptions::default())
        );
    }

    #[test]
    fn texts_parse_like_the_command_line() {
        let options = ClipOptions::from_texts(&texts(&[
            ("model", "heavy"),
            ("view", "Rear"),
            ("height_cm", " 178 "),
            ("speed", "12km/h"),
            ("detect_every_frame", "on"),
            ("runner_at", "0.4,0.6"),
        ]))
        .expect("valid");
        assert_eq!(options.model, AnalysisModel::Only(ModelPreset::Heavy));
        assert_eq!(options.view, ViewChoice::Rear);
        assert_eq!(options.height_cm, Some(178.0));
        assert!((options.speed.expect("speed").mps - 12.0 / 3.6).abs() < 1e-12);
        assert_eq!(options.detection, DetectionMode::EveryFrame);
        assert_eq!(options.runner_at, Some(RunnerHint { x: 0.4, y: 0.6 }));
        assert!(options.validate().is_ok());
        // Written back and read again, the options are the same.
        assert_eq!(ClipOptions::from_texts(&options.texts()), Ok(options));
    }

    #[test]
    fn a_bad_field_is_named_with_the_reason() {
        for (key, value, words) in [
            ("height_cm", "17", "not a runner's height"),
            ("height_cm", "tall", "not a number"),
            ("speed", "12", "no unit"),
            ("model", "huge", "use auto, full or heavy"),
            ("model", "lite", "not offered for analysis"),
            ("view", "front", "side, rear or auto"),
            ("detect_every_frame", "maybe", "true or false"),
            ("runner_at", "2,2", "between 0 and 1"),
        ] {
            let error = ClipOptions::from_texts(&texts(&[(key, value)])).expect_err(value);
            assert_eq!(error.field, key);
            assert!(error.reason.contains(words), "{key}={value}: {error}");
        }
    }

    #[test]
    fn typed_values_are_checked_against_the_same_limits() {
        let too_tall = ClipOptions {
            height_cm: Some(300.0),
            ..ClipOptions::default()
        };
        assert_eq!(too_tall.validate().expect_err("300 cm").field, "height_cm");
        // The lite model, which `runform pose` still takes, is refused for an analysis, with its reason.
        let lite = ClipOptions {
            model: AnalysisModel::Only(ModelPreset::Lite),
            ..ClipOptions::default()
        };
        let error = lite.validate().expect_err("lite");
        assert_eq!((error.field, error.reason.as_str()), ("model", LITE_REFUSED));
        let too_fast = ClipOptions {
            speed: Some(TreadmillSpeed { mps: 30.0 }),
            ..ClipOptions::default()
        };
        assert_eq!(too_fast.validate().expect_err("30 m/s").field, "speed");
    }
}
