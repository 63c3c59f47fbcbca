//! runform turns a treadmill video of a runner into a physical therapist's running-form assessment.
//!
//! The pipeline, in order: [`video`] decodes frames, [`pose`] finds the runner's 33 BlazePose landmarks in each,
//! and the analysis stage turns landmark tracks into gait events and clinical metrics: [`track`] cleans the
//! landmark time series, [`parts`] finds where the runner runs steadily, [`events`] finds initial contacts and toe-offs, [`metrics`] computes the clinical
//! numbers, and [`analysis`] ties them together with warnings and flags. [`synthetic`] is a kinematic running
//! model with known answers for testing the analysis. [`landmarks`] holds the
//! types that pass between the pose and analysis stages; [`options`] is what to analyse, as the command line,
//! the batch and the web app all say it; [`session`] combines the side and rear clips of one session into one
//! report; [`serve`] is the clinic's web app, a client of the pipeline; [`error`] maps every failure to a
//! documented exit code.

// Library code reports failures as errors, never by panicking (STYLE.md rule 5): no unwrap, expect, panic or
// indexing that can go out of bounds; tests may.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented
    )
)]

/// Which runform made a report: the package version and a hash of the source it was built from (`build.rs`), as
/// `0.1.0+src.1a2b3c4d5e6f`. The version alone stays the same from one change of the analysis to the next.
pub const BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), "+src.", env!("RUNFORM_SOURCE_ID"));

pub mod analysis;
pub mod analyze;
pub mod batch;
pub mod cli;
pub mod compare;
pub mod config;
pub mod error;
pub mod events;
pub mod landmarks;
pub mod manifest;
pub mod metrics;
pub mod options;
pub mod output;
pub mod parts;
pub mod peer;
pub mod pose;
pub mod report;
pub mod serve;
pub mod session;
pub mod shard;
pub mod synthetic;
pub mod track;
pub mod video;
pub mod visual;
