//! A landmark file (blazepose-peer-v1 JSON, as `runform pose` writes and MediaPipe's tools write) read back and
//! run through the whole analysis stage: neither may panic, whatever the numbers in the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runform::analysis::{AnalysisSettings, analyze_sequence};
use runform::peer::PeerFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(file) = PeerFile::parse(text) {
        let sequence = file.to_sequence();
        // Bound the work per input: the analysis is linear in frames, but libFuzzer wants fast iterations.
        if sequence.frames.len() <= 2_000 {
            let _ = analyze_sequence(&sequence, &AnalysisSettings::default());
        }
    }
});
