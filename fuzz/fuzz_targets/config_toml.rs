//! A `--config` TOML file: any text parses into settings or gives an error naming the file, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use runform::analysis::AnalysisSettings;
use runform::config::{ConfigFile, parse_toml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = parse_toml::<ConfigFile>(text, Path::new("fuzz.toml")) {
        let mut settings = AnalysisSettings::default();
        let _ = config.apply(Path::new("fuzz.toml"), &mut settings);
    }
});
