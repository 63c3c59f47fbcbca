//! runform turns a treadmill video of a runner into a physical therapist's running-form assessment.
//!
//! The pipeline, in order: [`video`] decodes frames, [`pose`] finds the runner's 33 BlazePose landmarks in each,
//! and the analysis stage turns landmark tracks into gait events and clinical metrics. [`landmarks`] holds the
//! types that pass between the pose and analysis stages; [`error`] maps every failure to a documented exit code.

pub mod analyze;
pub mod cli;
pub mod error;
pub mod events;
pub mod landmarks;
pub mod output;
pub mod peer;
pub mod pose;
pub mod synthetic;
pub mod track;
pub mod video;
