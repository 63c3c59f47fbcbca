//! The pose stage over a whole clip: decoding on its own thread feeding inference through a bounded queue, so
//! the two overlap, with a fixed set of frame buffers passed back and forth (no per-frame image allocation, and
//! memory bounded whatever the clip's length apart from the landmarks themselves).

use std::path::Path;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use serde::Serialize;
use thiserror::Error;

use crate::error::{Exit, HasExit};
use crate::landmarks::{PoseFrame, PoseSequence};
use crate::pose::{PoseCounters, PoseError, PoseEstimator, PoseSettings, runner};
use crate::video::{Frame, VideoError, VideoInfo, VideoReader};

/// Decoded frames waiting for inference. Two is enough to hide decoding jitter; more only costs memory
/// (a 1080p BGR frame is 6 MB).
pub const DECODE_QUEUE_DEPTH: usize = 2;

/// Frame buffers in circulation: the queue, one being decoded, one being analysed.
const FRAME_BUFFERS: usize = DECODE_QUEUE_DEPTH + 2;

/// The pose stage failed on a clip.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// Decoding.
    #[error(transparent)]
    Video(#[from] VideoError),
    /// Inference.
    #[error(transparent)]
    Pose(#[from] PoseError),
    /// The decoding thread died.
    #[error("internal error: the decoding thread stopped unexpectedly (please report this)")]
    DecoderPanicked,
}

impl HasExit for PipelineError {
    fn exit(&self) -> Exit {
        match self {
            PipelineError::Video(error) => error.exit(),
            PipelineError::Pose(error) => error.exit(),
            PipelineError::DecoderPanicked => Exit::Internal,
        }
    }
}

/// Where the time went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PoseTimings {
    /// Loading both models, seconds.
    pub model_load_s: f64,
    /// From the first frame request to the last pose, seconds (decoding and inference overlapped).
    pub run_s: f64,
    /// Time the inference thread spent in the pose stage proper, seconds.
    pub inference_s: f64,
    /// Time the inference thread waited for decoded frames, seconds.
    pub decode_wait_s: f64,
    /// Frames per second over `run_s`.
    pub end_to_end_fps: f64,
}

/// The pose stage's output for a clip.
#[derive(Clone, Debug)]
pub struct ClipPoses {
    /// The clip.
    pub info: VideoInfo,
    /// One entry per decoded frame.
    pub sequence: PoseSequence,
    /// How often each model ran.
    pub counters: PoseCounters,
    /// Timings.
    pub timings: PoseTimings,
}

/// Opens `clip` and runs the pose stage on every frame. `on_frame` is called after each frame (progress; the
/// pose it sees may still be dropped at the end if it turns out to belong to someone other than the runner).
pub fn poses_from_clip(
    clip: &Path,
    settings: &PoseSettings,
    mut on_frame: impl FnMut(&PoseFrame),
) -> Result<ClipPoses, PipelineError> {
    let reader = VideoReader::open(clip)?;
    let info = reader.info().clone();
    let load_started = Instant::now();
    let mut estimator = PoseEstimator::new(*settings)?;
    let model_load_s = load_started.elapsed().as_secs_f64();
    let mut frames = Vec::with_capacity(info.frame_count as usize);
    let started = Instant::now();
    let (mut inference, mut decode_wait) = (Duration::ZERO, Duration::ZERO);

    let (decoded_tx, decoded_rx) = bounded::<Frame>(DECODE_QUEUE_DEPTH);
    let (free_tx, free_rx) = bounded::<Frame>(FRAME_BUFFERS);
    for _ in 0..FRAME_BUFFERS {
        // Cannot fail: the channel has room for every buffer.
        let _ = free_tx.send(Frame::default());
    }
    let outcome = std::thread::scope(|scope| {
        // The decoder hands back the clip's description as decoding left it (the frame count it counted, any
        // truncation it found at the end).
        let decoder = scope.spawn(move || -> Result<Option<VideoInfo>, VideoError> {
            let mut reader = reader;
            while let Ok(mut frame) = free_rx.recv() {
                if !reader.read_into(&mut frame)? {
                    return Ok(Some(reader.info().clone()));
                }
                if decoded_tx.send(frame).is_err() {
                    break; // the inference side stopped (an error): nothing more to do
                }
            }
            Ok(None)
        });
        let mut result = Ok(());
        loop {
            let waited = Instant::now();
            let Ok(frame) = decoded_rx.recv() else { break };
            decode_wait += waited.elapsed();
            let began = Instant::now();
            match estimator.estimate(&frame.image, frame.timestamp_s) {
                Ok(pose) => {
                    inference += began.elapsed();
                    let pose_frame = PoseFrame {
                        index: frame.index,
                        timestamp_s: frame.timestamp_s,
                        pose,
                    };
                    on_frame(&pose_frame);
                    frames.push(pose_frame);
                    // The decoder may already have finished: a closed channel is fine.
                    let _ = free_tx.send(frame);
                }
                Err(error) => {
                    result = Err(PipelineError::from(error));
                    break;
                }
            }
        }
        // Unblock a decoder waiting for a free buffer or a queue slot, then collect its verdict.
        drop(free_tx);
        drop(decoded_rx);
        match decoder.join() {
            Ok(Ok(decoded_info)) => result.map(|()| decoded_info),
            Ok(Err(video_error)) => result.and(Err(PipelineError::Video(video_error))),
            Err(_) => Err(PipelineError::DecoderPanicked),
        }
    });
    let info = outcome?.unwrap_or(info);
    // One runner in the output: drop the poses of anyone else the stage followed for a while (see `runner`).
    let mut poses: Vec<_> = frames.iter_mut().map(|f| f.pose.take()).collect();
    runner::keep_one_identity(
        &mut poses,
        estimator.identities(),
        settings.runner_hint.is_some(),
        estimator.superseded_identities(),
    );
    for (frame, pose) in frames.iter_mut().zip(poses) {
        frame.pose = pose;
    }
    let run_s = started.elapsed().as_secs_f64();
    let frame_count = frames.len();
    let mut counters = estimator.counters();
    counters.frames_with_pose = frames.iter().filter(|f| f.pose.is_some()).count() as u64;
    Ok(ClipPoses {
        sequence: PoseSequence {
            width_px: info.width_px,
            height_px: info.height_px,
            fps: info.fps,
            frames,
        },
        counters,
        timings: PoseTimings {
            model_load_s,
            run_s,
            inference_s: inference.as_secs_f64(),
            decode_wait_s: decode_wait.as_secs_f64(),
            end_to_end_fps: if run_s > 0.0 { frame_count as f64 / run_s } else { 0.0 },
        },
        info,
    })
}

/// Throughput of the pose stage's parts on one clip, frames per second (for `scripts/bench-pose`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct StageRates {
    /// Frames measured.
    pub frames: u64,
    /// Decoding alone, one thread.
    pub decode_only_fps: f64,
    /// The pose stage alone, on frames decoded beforehand (held in memory).
    pub inference_only_fps: f64,
    /// Decoding and pose stage overlapped, as `runform pose` runs them.
    pub end_to_end_fps: f64,
}

/// Measures [`StageRates`] on the first `max_frames` frames of `clip` (all of them when `None`).
pub fn stage_rates(clip: &Path, settings: &PoseSettings, max_frames: Option<u64>) -> Result<StageRates, PipelineError> {
    let limit = max_frames.unwrap_or(u64::MAX);
    // Decode-only, keeping the frames for the inference-only pass.
    let mut reader = VideoReader::open(clip)?;
    let mut decoded = Vec::new();
    let started = Instant::now();
    let mut frame = Frame::default();
    while (decoded.len() as u64) < limit && reader.read_into(&mut frame)? {
        decoded.push(std::mem::take(&mut frame));
    }
    let decode_s = started.elapsed().as_secs_f64();
    let mut estimator = PoseEstimator::new(*settings)?;
    let started = Instant::now();
    for frame in &decoded {
        estimator.estimate(&frame.image, frame.timestamp_s)?;
    }
    let inference_s = started.elapsed().as_secs_f64();
    let frames = decoded.len() as u64;
    drop(decoded);
    let end_to_end = poses_from_clip(clip, settings, |_| {})?;
    let rate = |seconds: f64| if seconds > 0.0 { frames as f64 / seconds } else { 0.0 };
    Ok(StageRates {
        frames,
        decode_only_fps: rate(decode_s),
        inference_only_fps: rate(inference_s),
        end_to_end_fps: end_to_end.timings.end_to_end_fps,
    })
}
