//! Profiles the full landmark model in ONNX Runtime (one intra-op thread, 30 runs on a constant input) and writes
//! ONNX Runtime's per-node profile, the measurement behind `src/pose/prune.rs` (the segmentation decoder's
//! 256×256 nodes took 6.7 of 15.5 ms per run before pruning).
//!
//! `cargo run --release --example profile_landmark -- [PROFILE_PREFIX]` (default `/tmp/runform-landmark-profile`);
//! sum the `*_kernel_time` events by node name to read it.

use ort::session::Session;
use ort::value::TensorRef;
use runform::pose::models::{self, ModelPreset};
use runform::pose::runtime;

/// Runs profiled.
const RUNS: usize = 30;

fn main() -> ort::Result<()> {
    let prefix = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/runform-landmark-profile".into());
    let environment = runtime::environment().map_err(|error| ort::Error::new(error.to_string()))?;
    let path =
        models::find_model(ModelPreset::Full.landmark_file()).map_err(|error| ort::Error::new(error.to_string()))?;
    let mut session = Session::builder(environment)?
        .with_intra_threads(1)?
        .with_profiling(&prefix)?
        .commit_from_file(path)?;
    let input = vec![0.5f32; 256 * 256 * 3];
    for _ in 0..RUNS {
        let tensor = TensorRef::from_array_view(([1usize, 256, 256, 3], input.as_slice()))?;
        session.run(ort::inputs!["input_1" => tensor])?;
    }
    let file = session.end_profiling()?;
    println!("profile written to {file}");
    Ok(())
}
