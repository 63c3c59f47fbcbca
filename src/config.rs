//! Validated settings built once from the command line and the optional TOML file: treadmill speed with its
//! unit, session dates, and the analysis thresholds and reference ranges (`--config FILE`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::{AnalysisSettings, Thresholds};
use crate::error::{Exit, HasExit};

/// Metres per second in one km/h.
const MPS_PER_KMH: f64 = 1000.0 / 3600.0;
/// Metres per second in one mile per hour.
const MPS_PER_MPH: f64 = 1609.344 / 3600.0;
/// The fastest treadmill speed accepted, m/s (about 40 km/h; sprint treadmills top out near 45 km/h).
const MAX_TREADMILL_SPEED_MPS: f64 = 12.5;

/// A setting could not be understood.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("{path}: cannot be read ({source})")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid.
    #[error("{path}: is not a valid runform config ({reason}); docs/runform.toml lists every key")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl HasExit for ConfigError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// A treadmill belt speed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreadmillSpeed {
    /// Metres per second.
    pub mps: f64,
}

/// Parses a speed with its unit, as `--speed` takes it: `12km/h`, `12 kmh`, `12kph`, `7.5mph`, `3.3m/s`.
pub fn parse_speed(text: &str) -> Result<TreadmillSpeed, String> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a number; write e.g. 12km/h or 7.5mph"))?;
    let factor = match unit.trim() {
        "km/h" | "kmh" | "kph" => MPS_PER_KMH,
        "mph" => MPS_PER_MPH,
        "m/s" | "mps" => 1.0,
        "" => return Err(format!("'{text}' has no unit; write e.g. {value}km/h or {value}mph")),
        other => return Err(format!("unknown speed unit '{other}'; use km/h, mph or m/s")),
    };
    let mps = value * factor;
    if !(mps > 0.0 && mps <= MAX_TREADMILL_SPEED_MPS) {
        return Err(format!(
            "{text} is not a treadmill speed (0 to {:.0} km/h)",
            MAX_TREADMILL_SPEED_MPS / MPS_PER_KMH
        ));
    }
    Ok(TreadmillSpeed { mps })
}

/// Checks a session date written as `YYYY-MM-DD` (so that sessions sort by date as text).
pub fn parse_session_date(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split('-').collect();
    let valid = match parts.as_slice() {
        [year, month, day] => {
            let digits = parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()));
            let (year, month, day) = (
                year.parse::<u32>().unwrap_or(0),
                month.parse::<u32>().unwrap_or(0),
                day.parse::<u32>().unwrap_or(0),
            );
            digits && parts.iter().map(|p| p.len()).eq([4, 2, 2]) && (1..=days_in_month(year, month)).contains(&day)
        }
        _ => false,
    };
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!("'{text}' is not a date written YYYY-MM-DD"))
    }
}

/// The days in `month` (1–12) of `year` (Gregorian); 0 for a month that does not exist.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The `--config` file: every key optional; what is left out keeps its documented default
/// (`docs/runform.toml` lists them all).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    /// Low-pass cut-off of the landmark tracks, Hz.
    pub filter_cutoff_hz: Option<f64>,
    /// The longest gap in a landmark track that is filled by interpolation, seconds.
    pub max_gap_fill_s: Option<f64>,
    /// Thresholds and reference ranges; each range needs its `source`.
    pub thresholds: Option<Thresholds>,
}

impl ConfigFile {
    /// The file that spells out every default.
    pub fn defaults() -> ConfigFile {
        let analysis = AnalysisSettings::default();
        ConfigFile {
            filter_cutoff_hz: Some(analysis.filter_cutoff_hz),
            max_gap_fill_s: Some(analysis.max_gap_fill_s),
            thresholds: Some(analysis.thresholds),
        }
    }

    /// Applies the file's values to `settings`, checking that they make sense.
    pub fn apply(self, path: &Path, settings: &mut AnalysisSettings) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(cutoff_hz) = self.filter_cutoff_hz {
            if !(cutoff_hz > 0.0 && cutoff_hz.is_finite()) {
                return Err(invalid(format!("filter_cutoff_hz must be above 0, not {cutoff_hz}")));
            }
            settings.filter_cutoff_hz = cutoff_hz;
        }
        if let Some(gap_s) = self.max_gap_fill_s {
            if !(gap_s >= 0.0 && gap_s.is_finite()) {
                return Err(invalid(format!("max_gap_fill_s must be 0 or more, not {gap_s}")));
            }
            settings.max_gap_fill_s = gap_s;
        }
        if let Some(thresholds) = self.thresholds {
            settings.thresholds = thresholds;
        }
        Ok(())
    }
}

/// Reads and parses a TOML file into `T`, rejecting unknown keys so that a typo is an error, not a silent default.
pub fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse_toml(&text, path)
}

/// Parses TOML text into `T`; `path` names the file in the error.
pub fn parse_toml<T: for<'de> Deserialize<'de>>(text: &str, path: &Path) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|error| ConfigError::Invalid {
        path: path.to_path_buf(),
        reason: error.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_parse_with_their_units() {
        let kmh = parse_speed("12km/h").expect("km/h");
        assert!((kmh.mps - 12.0 / 3.6).abs() < 1e-12);
        assert!((parse_speed("7.5 mph").expect("mph").mps - 3.35280).abs() < 1e-5);
        assert!((parse_speed("3.3m/s").expect("m/s").mps - 3.3).abs() < 1e-12);
        assert_eq!(parse_speed("12 KPH").expect("kph"), kmh);
    }

    #[test]
    fn speeds_without_unit_or_out_of_range_are_refused() {
        assert!(parse_speed("12").unwrap_err().contains("no unit"));
        assert!(parse_speed("fast").unwrap_err().contains("number"));
        assert!(parse_speed("12 knots").unwrap_err().contains("unknown speed unit"));
        assert!(parse_speed("0km/h").is_err());
        assert!(parse_speed("90km/h").is_err());
    }

    #[test]
    fn session_dates_must_be_iso() {
        assert_eq!(parse_session_date("2026-11-28").expect("iso"), "2026-11-28");
        assert!(parse_session_date("2024-02-29").is_ok(), "a leap day");
        for bad in [
            "28/11/2026",
            "2026-13-01",
            "2026-1-1",
            "yesterday",
            "2026-11-28x",
            "2026-11-31",
            "2026-02-29",
            "2100-02-29",
            "2026-00-10",
        ] {
            assert!(parse_session_date(bad).is_err(), "{bad}");
        }
    }

    /// docs/runform.toml spells out every default; it is generated from the code so it cannot drift.
    /// To update it: `UPDATE_CONFIG_DOC=1 cargo test --release defaults_file`.
    #[test]
    fn committed_defaults_file_is_current_and_reads_back() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/runform.toml");
        let generated = format!(
            "# runform's defaults: every key that --config FILE accepts, with its default value.\n\
             # Copy the keys you want to change into your own file; leave the rest out.\n\
             # Generated from src/analysis.rs by a test (UPDATE_CONFIG_DOC=1 cargo test --release defaults_file).\n\n{}",
            toml::to_string(&ConfigFile::defaults()).expect("defaults serialise")
        );
        if std::env::var_os("UPDATE_CONFIG_DOC").is_some() {
            std::fs::write(&path, &generated).expect("write");
        }
        let committed = std::fs::read_to_string(&path).expect("docs/runform.toml is committed");
        assert!(
            committed == generated,
            "docs/runform.toml is stale: UPDATE_CONFIG_DOC=1 cargo test --release defaults_file"
        );
        let read_back: ConfigFile = read_toml(&path).expect("the defaults file is itself a valid config");
        assert_eq!(read_back, ConfigFile::defaults());
    }

    #[test]
    fn toml_with_an_unknown_key_is_an_error_naming_the_file() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Sample {
            cutoff_hz: f64,
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "cutoff_hz = 8.0\n").expect("write");
        assert_eq!(read_toml::<Sample>(&good).expect("parses").cutoff_hz, 8.0);
        let typo = dir.path().join("typo.toml");
        std::fs::write(&typo, "cutof_hz = 8.0\n").expect("write");
        let err = read_toml::<Sample>(&typo).expect_err("typo");
        assert!(
            err.to_string().contains("typo.toml") && err.to_string().contains("cutof_hz"),
            "{err}"
        );
    }
}
