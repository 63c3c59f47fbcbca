//! A report.json as `runform batch` reads it back (for resuming and for the batch summary): any bytes give a
//! report or an error, and a report always exports to CSV without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runform::report::{Report, csv};

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = serde_json::from_slice::<Report>(data) {
        let _ = csv::summary_row(&report);
        let _ = csv::steps_csv(&report);
        let _ = serde_json::to_vec(&report);
    }
});
