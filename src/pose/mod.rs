//! The pose stage: MediaPipe BlazePose on ONNX Runtime. This module is the only user of `ort`.

pub mod runtime;
