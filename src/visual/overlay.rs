//! The annotated overlay video: every frame of the clip with the skeleton, the measured angles, the gait events,
//! a gait timeline and the metrics panel drawn on it, as H.264 MP4 at the clip's size and frame rate.
//!
//! Encoding goes through OpenCV's `VideoWriter` with the `avc1` FourCC: OpenCV's FFmpeg backend then picks
//! FFmpeg's default H.264 encoder (libx264 on Debian) and writes yuv420p, which every current browser plays.
//! The frames are written to a temporary `.NAME.PID.partial.mp4` beside the target (FFmpeg chooses the container
//! from the extension, so the temporary name must end in `.mp4`; `output::is_partial_file` knows the pattern, so
//! `runform batch` clears one left by a killed run) and renamed over the target at the end, so a reader never
//! sees half a video.

use std::fs;
use std::path::Path;
use std::time::Instant;

use opencv::core::Size;
use opencv::prelude::*;
use opencv::videoio::VideoWriter;

use crate::analysis::{Analysis, AnalysisSettings};
use crate::landmarks::PoseSequence;
use crate::output::{self, OutputError};
use crate::video::{Frame, VideoReader};

use super::VisualError;
use super::draw::{Annotator, DrawOptions};
use super::evidence::Evidence;

/// The FourCC asked of OpenCV: H.264 in an MP4 (`avc1` is the MP4 sample entry browsers expect).
pub const OVERLAY_FOURCC: [char; 4] = ['a', 'v', 'c', '1'];

/// What [`write_overlay`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlaySummary {
    /// Frames written (the clip's decoded frames).
    pub frame_count: u64,
    /// Frame width, pixels.
    pub width_px: i32,
    /// Frame height, pixels.
    pub height_px: i32,
    /// Frame rate written, frames per second (the clip's).
    pub fps: f64,
    /// Wall-clock time of decoding, drawing and encoding, seconds.
    pub elapsed_s: f64,
}

/// Decodes `clip` again and writes the annotated overlay to `out_mp4` (H.264 MP4, same size and frame rate).
///
/// `sequence` must be the landmarks of this clip (one entry per decoded frame) and `analysis` their analysis
/// with `settings`. The target appears only when the whole video is written.
pub fn write_overlay(
    clip: &Path,
    sequence: &PoseSequence,
    analysis: &Analysis,
    settings: &AnalysisSettings,
    out_mp4: &Path,
) -> Result<OverlaySummary, VisualError> {
    let started = Instant::now();
    let mut reader = VideoReader::open(clip)?;
    let info = reader.info().clone();
    let (width_px, height_px) = (info.width_px as i32, info.height_px as i32);
    let evidence = Evidence::new(sequence, analysis, settings);
    let annotator = Annotator::new(&evidence, analysis, width_px, height_px);
    let temp = output::partial_path_keeping_extension(out_mp4);
    let opencv_error = |doing: &'static str| {
        let path = out_mp4.to_path_buf();
        move |source| VisualError::OpenCv { path, doing, source }
    };
    let [a, b, c, d] = OVERLAY_FOURCC;
    let fourcc = VideoWriter::fourcc(a, b, c, d).map_err(opencv_error("choosing the codec"))?;
    let temp_text = temp.to_str().ok_or_else(|| {
        VisualError::Output(OutputError {
            path: out_mp4.to_path_buf(),
            source: std::io::Error::other("OpenCV needs a UTF-8 path for the video it writes"),
        })
    })?;
    let mut writer = VideoWriter::new(temp_text, fourcc, info.fps, Size::new(width_px, height_px), true)
        .map_err(opencv_error("opening the video writer"))?;
    if !writer.is_opened().unwrap_or(false) {
        // Best effort: an unopened writer may still have created an empty file.
        let _ = fs::remove_file(&temp);
        if out_mp4
            .parent()
            .is_some_and(|dir| !dir.as_os_str().is_empty() && !dir.is_dir())
        {
            return Err(VisualError::Output(OutputError {
                path: out_mp4.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "the folder does not exist"),
            }));
        }
        return Err(VisualError::EncoderUnavailable {
            path: out_mp4.to_path_buf(),
        });
    }
    let result = (|| {
        let mut frame = Frame::default();
        let mut frame_count = 0u64;
        let options = DrawOptions {
            panel: true,
            timeline: true,
        };
        while reader.read_into(&mut frame)? {
            annotator
                .draw(&mut frame.image, frame.index as usize, options)
                .map_err(opencv_error("drawing"))?;
            writer.write(&frame.image).map_err(opencv_error("encoding"))?;
            frame_count += 1;
        }
        writer.release().map_err(opencv_error("finishing the video"))?;
        if frame_count as usize != sequence.frames.len() {
            return Err(VisualError::FrameCountMismatch {
                path: clip.to_path_buf(),
                clip_frames: frame_count,
                landmark_frames: sequence.frames.len(),
            });
        }
        fs::File::open(&temp)
            .and_then(|file| file.sync_all())
            .and_then(|()| fs::rename(&temp, out_mp4))
            .map_err(|source| {
                VisualError::Output(OutputError {
                    path: out_mp4.to_path_buf(),
                    source,
                })
            })?;
        Ok(frame_count)
    })();
    match result {
        Ok(frame_count) => Ok(OverlaySummary {
            frame_count,
            width_px,
            height_px,
            fps: info.fps,
            elapsed_s: started.elapsed().as_secs_f64(),
        }),
        Err(error) => {
            // Best effort: the partial video is ours and useless; the error that matters is the one above.
            drop(writer);
            let _ = fs::remove_file(&temp);
            Err(error)
        }
    }
}
