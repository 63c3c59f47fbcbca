//! The annotated overlay video: every frame of the clip with the skeleton, the measured angles, the gait events,
//! a gait timeline and the metrics panel drawn on it, as H.264 MP4 at the clip's size and frame rate.
//!
//! Encoding is the slow part, so the overlay is made in two threads: one decodes the clip again (the only OpenCV
//! decode user stays `video.rs`) and hands frames over, the other draws on each and passes it to the encoder. The
//! encoder is FFmpeg's command-line tool with libx264's `ultrafast` preset, fed raw BGR frames through a pipe
//! ([`OverlayEncoder::FfmpegCli`]): OpenCV 4.6's `VideoWriter` always uses libx264's default `medium` preset (it
//! passes no encoder options), which made the overlay about ten times slower than the clip plays at 1080p on two cores.
//! Where the `ffmpeg` tool is missing, OpenCV's writer is used as before ([`OverlayEncoder::OpenCv`]);
//! `scripts/bench-overlay` measures both.
//!
//! Either way the frames go to a temporary `.NAME.PID.partial.mp4` beside the target (FFmpeg chooses the container
//! from the extension; `output::is_partial_file` knows the pattern, so `runform batch` clears one left by a killed
//! run), renamed over the target at the end, so a reader never sees half a video. The MP4 index goes at the front
//! (`+faststart`), so a browser starts playing before it has the whole file.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Instant;

use opencv::core::Size;
use opencv::imgproc;
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

/// libx264's preset for the overlay. `ultrafast` takes about a seventh of the default `medium`'s CPU time on a
/// 1080×1920 clip (3 s against 22 s for 388 frames, measured on the 2-core development machine), which is what
/// lets a 2-core clinic PC make the overlay at least as fast as the clip plays; the price is a file about twice
/// as large (7 MB instead of 3.5 MB for 6.5 s), which a browser on the clinic's network does not notice.
pub const X264_PRESET: &str = "ultrafast";

/// libx264's constant quality (its default): lines and text of the overlay stay sharp.
pub const X264_CRF: &str = "23";

/// Environment variable naming the `ffmpeg` program to use (default: `ffmpeg` on the `PATH`).
pub const FFMPEG_ENV: &str = "RUNFORM_FFMPEG";

/// Decoded frames waiting to be drawn and encoded: enough to keep the encoder busy while the decoder is briefly
/// slower, few enough that memory stays small (a 1080p frame is 6 MB).
const FRAMES_IN_FLIGHT: usize = 4;

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
    /// The encoder used.
    pub encoder: OverlayEncoder,
}

/// Which encoder writes the overlay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverlayEncoder {
    /// FFmpeg's command-line tool, libx264 with [`X264_PRESET`], fed raw frames through a pipe.
    FfmpegCli,
    /// OpenCV's `VideoWriter`: libx264 with its default `medium` preset (OpenCV 4.6 cannot change it).
    OpenCv,
}

impl OverlayEncoder {
    /// The FFmpeg tool when it runs here, else OpenCV's writer.
    pub fn available() -> OverlayEncoder {
        let runs = Command::new(ffmpeg_program())
            .arg("-version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if runs {
            OverlayEncoder::FfmpegCli
        } else {
            OverlayEncoder::OpenCv
        }
    }
}

fn ffmpeg_program() -> PathBuf {
    std::env::var_os(FFMPEG_ENV).map_or_else(|| PathBuf::from("ffmpeg"), PathBuf::from)
}

/// Decodes `clip` again and writes the annotated overlay to `out_mp4` (H.264 MP4, same size and frame rate) with
/// the best encoder available here.
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
    write_overlay_with(clip, sequence, analysis, settings, out_mp4, OverlayEncoder::available())
}

/// [`write_overlay`] with a chosen encoder (the benchmark compares them).
pub fn write_overlay_with(
    clip: &Path,
    sequence: &PoseSequence,
    analysis: &Analysis,
    settings: &AnalysisSettings,
    out_mp4: &Path,
    encoder: OverlayEncoder,
) -> Result<OverlaySummary, VisualError> {
    let started = Instant::now();
    let reader = VideoReader::open(clip)?;
    let info = reader.info().clone();
    let (width_px, height_px) = (info.width_px as i32, info.height_px as i32);
    let evidence = Evidence::new(sequence, analysis, settings);
    let annotator = Annotator::new(&evidence, analysis, width_px, height_px);
    let temp = output::partial_path_keeping_extension(out_mp4);
    if out_mp4
        .parent()
        .is_some_and(|dir| !dir.as_os_str().is_empty() && !dir.is_dir())
    {
        return Err(VisualError::Output(OutputError {
            path: out_mp4.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "the folder does not exist"),
        }));
    }
    let mut sink = Sink::open(encoder, &temp, out_mp4, info.fps, width_px, height_px)?;
    let result = (|| {
        let frame_count = draw_and_encode(reader, &annotator, &mut sink, out_mp4)?;
        sink.finish()?;
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
            encoder,
        }),
        Err(error) => {
            // Best effort: the partial video is ours and useless; the error that matters is the one above.
            sink.abandon();
            let _ = fs::remove_file(&temp);
            Err(error)
        }
    }
}

/// Decodes on a second thread while this one draws and encodes; returns the frames written.
fn draw_and_encode(
    mut reader: VideoReader,
    annotator: &Annotator<'_>,
    sink: &mut Sink,
    out_mp4: &Path,
) -> Result<u64, VisualError> {
    let (frames, decoded) = crossbeam_channel::bounded::<Frame>(FRAMES_IN_FLIGHT);
    // Drawn frames go back to the decoder to be reused, so no frame buffer is allocated per frame.
    let (recycle, recycled) = crossbeam_channel::bounded::<Frame>(FRAMES_IN_FLIGHT + 2);
    let options = DrawOptions {
        panel: true,
        timeline: true,
    };
    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || -> Result<(), VisualError> {
            loop {
                let mut frame = recycled.try_recv().unwrap_or_default();
                if !reader.read_into(&mut frame)? {
                    return Ok(());
                }
                if frames.send(frame).is_err() {
                    // The drawing side stopped (an error there); it reports why.
                    return Ok(());
                }
            }
        });
        let mut frame_count = 0u64;
        let mut drawing = || -> Result<(), VisualError> {
            for mut frame in decoded.iter() {
                annotator
                    .draw(&mut frame.image, frame.index as usize, options)
                    .map_err(|source| VisualError::OpenCv {
                        path: out_mp4.to_path_buf(),
                        doing: "drawing",
                        source,
                    })?;
                sink.write(&frame.image)?;
                frame_count += 1;
                let _ = recycle.try_send(frame);
            }
            Ok(())
        };
        let drawn = drawing();
        // Unblock the decoder if drawing stopped early, then collect its result.
        drop(decoded);
        let decoded = decoder.join().unwrap_or_else(|_| {
            Err(VisualError::OpenCv {
                path: out_mp4.to_path_buf(),
                doing: "decoding",
                source: opencv::Error::new(opencv::core::StsError, "the decoding thread panicked"),
            })
        });
        drawn.and(decoded).map(|()| frame_count)
    })
}

/// Where drawn frames go.
enum Sink {
    Ffmpeg {
        child: Child,
        stdin: Option<ChildStdin>,
        target: PathBuf,
        /// The frame padded to even sizes (only for odd-sized clips), reused.
        padded: Mat,
        /// The frame as planar YUV 4:2:0, reused: converting here with OpenCV's SIMD code halves the bytes piped
        /// and spares FFmpeg its slower scaler.
        yuv: Mat,
    },
    OpenCv {
        writer: VideoWriter,
        target: PathBuf,
    },
}

impl Sink {
    fn open(
        encoder: OverlayEncoder,
        temp: &Path,
        target: &Path,
        fps: f64,
        width_px: i32,
        height_px: i32,
    ) -> Result<Sink, VisualError> {
        match encoder {
            OverlayEncoder::FfmpegCli => {
                // yuv420p (what browsers play) needs even sizes: an odd edge gets one black pixel more.
                let (even_width, even_height) = (width_px + width_px % 2, height_px + height_px % 2);
                let mut child = Command::new(ffmpeg_program())
                    .args([
                        "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s",
                    ])
                    .arg(format!("{even_width}x{even_height}"))
                    .arg("-r")
                    .arg(format!("{fps}"))
                    .args([
                        "-i",
                        "pipe:0",
                        "-an",
                        "-c:v",
                        "libx264",
                        "-preset",
                        X264_PRESET,
                        "-crf",
                        X264_CRF,
                    ])
                    .args(["-movflags", "+faststart", "-f", "mp4"])
                    .arg(temp)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|error| VisualError::Encoder {
                        path: target.to_path_buf(),
                        detail: format!("{} could not start: {error}", ffmpeg_program().display()),
                    })?;
                let stdin = child.stdin.take();
                Ok(Sink::Ffmpeg {
                    child,
                    stdin,
                    target: target.to_path_buf(),
                    padded: Mat::default(),
                    yuv: Mat::default(),
                })
            }
            OverlayEncoder::OpenCv => {
                let opencv_error = |doing: &'static str| {
                    let path = target.to_path_buf();
                    move |source| VisualError::OpenCv { path, doing, source }
                };
                let [a, b, c, d] = OVERLAY_FOURCC;
                let fourcc = VideoWriter::fourcc(a, b, c, d).map_err(opencv_error("choosing the codec"))?;
                let temp_text = temp.to_str().ok_or_else(|| {
                    VisualError::Output(OutputError {
                        path: target.to_path_buf(),
                        source: std::io::Error::other("OpenCV needs a UTF-8 path for the video it writes"),
                    })
                })?;
                let writer = VideoWriter::new(temp_text, fourcc, fps, Size::new(width_px, height_px), true)
                    .map_err(opencv_error("opening the video writer"))?;
                if !writer.is_opened().unwrap_or(false) {
                    // Best effort: an unopened writer may still have created an empty file.
                    let _ = fs::remove_file(temp);
                    return Err(VisualError::EncoderUnavailable {
                        path: target.to_path_buf(),
                    });
                }
                Ok(Sink::OpenCv {
                    writer,
                    target: target.to_path_buf(),
                })
            }
        }
    }

    fn write(&mut self, image: &Mat) -> Result<(), VisualError> {
        match self {
            Sink::Ffmpeg {
                stdin,
                target,
                padded,
                yuv,
                ..
            } => {
                let opencv_error = |doing: &'static str| {
                    let path = target.clone();
                    move |source| VisualError::OpenCv { path, doing, source }
                };
                let source = if image.cols() % 2 == 1 || image.rows() % 2 == 1 {
                    opencv::core::copy_make_border(
                        image,
                        padded,
                        0,
                        image.rows() % 2,
                        0,
                        image.cols() % 2,
                        opencv::core::BORDER_CONSTANT,
                        opencv::core::Scalar::all(0.0),
                    )
                    .map_err(opencv_error("padding a frame"))?;
                    &*padded
                } else {
                    image
                };
                imgproc::cvt_color(source, yuv, imgproc::COLOR_BGR2YUV_I420, 0)
                    .map_err(opencv_error("converting a frame to YUV"))?;
                let data = yuv.data_bytes().map_err(opencv_error("reading a converted frame"))?;
                let Some(pipe) = stdin.as_mut() else {
                    return Err(VisualError::Encoder {
                        path: target.clone(),
                        detail: "its input was already closed".to_owned(),
                    });
                };
                pipe.write_all(data).map_err(|error| VisualError::Encoder {
                    path: target.clone(),
                    detail: format!("it stopped reading frames ({error})"),
                })
            }
            Sink::OpenCv { writer, target } => writer.write(image).map_err(|source| VisualError::OpenCv {
                path: target.clone(),
                doing: "encoding",
                source,
            }),
        }
    }

    fn finish(&mut self) -> Result<(), VisualError> {
        match self {
            Sink::Ffmpeg {
                child, stdin, target, ..
            } => {
                // Closing its input tells FFmpeg the clip is over.
                drop(stdin.take());
                let mut messages = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut messages);
                }
                let status = child.wait().map_err(|error| VisualError::Encoder {
                    path: target.clone(),
                    detail: error.to_string(),
                })?;
                if status.success() {
                    Ok(())
                } else {
                    Err(VisualError::Encoder {
                        path: target.clone(),
                        detail: messages
                            .lines()
                            .rev()
                            .find(|line| !line.trim().is_empty())
                            .map_or_else(|| status.to_string(), str::to_owned),
                    })
                }
            }
            Sink::OpenCv { writer, target } => writer.release().map_err(|source| VisualError::OpenCv {
                path: target.clone(),
                doing: "finishing the video",
                source,
            }),
        }
    }

    /// Stops the encoder after a failure (what it wrote is removed by the caller).
    fn abandon(&mut self) {
        if let Sink::Ffmpeg { child, stdin, .. } = self {
            drop(stdin.take());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
