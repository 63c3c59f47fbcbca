//! Two report files as `runform compare` reads them: any bytes give a comparison or an error, never a panic.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use runform::compare::compare_report_texts;

fuzz_target!(|data: &[u8]| {
    // Split the input in two reports at the first NUL (or use it twice).
    let (a, b) = match data.iter().position(|&byte| byte == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, data),
    };
    let texts = vec![(PathBuf::from("a.json"), a.to_vec()), (PathBuf::from("b.json"), b.to_vec())];
    if let Ok(comparison) = compare_report_texts(&texts) {
        let _ = comparison.text();
        let _ = comparison.csv();
        let _ = comparison.html_sessions();
    }
});
