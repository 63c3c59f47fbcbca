//! Video decoding: the only user of OpenCV's `videoio`. It turns a clip into upright BGR frames with their true
//! presentation times, one at a time, and describes the clip (size, rate, codec, rotation, hash).
//!
//! Memory stays bounded whatever the clip's length: [`VideoReader::read_into`] decodes into a caller-owned
//! [`Frame`] whose buffer is reused from frame to frame.
//!
//! Bad input is caught before OpenCV sees it where a cheap check can tell what is wrong (missing path, directory,
//! empty file, an MP4 without a video track, an MP4 cut off before its index), because OpenCV itself only says
//! "could not open". Each failure is a [`VideoError`] variant that names the file and the fix.
//!
//! What decodes is trusted: a clip that delivers fewer frames than FFmpeg's *estimate* (duration × rate, which
//! counts a phone's audio running on past the video) is simply that long. An MP4 cut short (see `video::mp4`) is
//! recognised before any decoding: when enough of it remains to measure, its first part is read and
//! [`VideoInfo::truncation`] says how much was lost; otherwise it is refused at once, not after the pose stage.

mod mp4;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use opencv::core::Mat;
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::error::{Exit, HasExit};

/// The fewest frames a clip must hold to be a video at all; a single frame is a still image.
pub const MIN_FRAME_COUNT: u64 = 2;

/// Decoding may end this many frames short of an exact count (from the MP4 sample table) before the shortfall is
/// reported: an edit list can hide a frame or two at either end.
const FRAME_COUNT_SLACK: u64 = 3;

/// A clip cut short is analysed when at least this much of it can still be read, seconds (about three strides:
/// enough for cadence and a few steps a side); with less it is refused.
pub const MIN_READABLE_S: f64 = 2.0;

/// Frame rate assumed for timestamp repair when the container states none.
const FALLBACK_FPS: f64 = 30.0;

/// A decoding failure, with the file it concerns. Each variant's message is one sentence a user can act on.
#[derive(Debug, Error)]
pub enum VideoError {
    /// The path does not exist.
    #[error("{path}: no such file; check the path and the spelling of the file name")]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The path is a directory.
    #[error("{path}: is a folder, not a video file; give the path of one clip inside it")]
    IsDirectory {
        /// The path as given.
        path: PathBuf,
    },
    /// The file has no bytes.
    #[error("{path}: the file is empty (0 bytes); copy or export the clip again")]
    Empty {
        /// The path as given.
        path: PathBuf,
    },
    /// The file cannot be read.
    #[error("{path}: cannot be read ({source}); check its permissions")]
    Unreadable {
        /// The path as given.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The file is not a container OpenCV/FFmpeg can open.
    #[error("{path}: is not a video runform can decode; export the clip as MP4 (H.264) and try again")]
    NotVideo {
        /// The path as given.
        path: PathBuf,
    },
    /// The container ends early or decoding broke off.
    #[error("{path}: the video is truncated or corrupt ({detail}); copy or export the clip again")]
    Truncated {
        /// The path as given.
        path: PathBuf,
        /// What was seen, e.g. "decoding stopped at frame 40 of 388".
        detail: String,
    },
    /// The container has no video stream.
    #[error("{path}: holds no video stream (audio only?); export the clip with its video")]
    NoVideoStream {
        /// The path as given.
        path: PathBuf,
    },
    /// Fewer than [`MIN_FRAME_COUNT`] frames.
    #[error(
        "{path}: holds only {frame_count} frame(s), a still image; record a video of several strides (10 s or more)"
    )]
    TooShort {
        /// The path as given.
        path: PathBuf,
        /// How many frames were found.
        frame_count: u64,
    },
    /// OpenCV failed in a way none of the above explains.
    #[error("{path}: OpenCV failed while decoding ({source})")]
    OpenCv {
        /// The path as given.
        path: PathBuf,
        /// OpenCV's error.
        source: opencv::Error,
    },
}

impl HasExit for VideoError {
    fn exit(&self) -> Exit {
        match self {
            VideoError::NotFound { .. } => Exit::InputNotFound,
            VideoError::IsDirectory { .. } => Exit::InputIsDirectory,
            VideoError::Empty { .. } => Exit::InputEmpty,
            VideoError::Unreadable { .. } => Exit::InputUnreadable,
            VideoError::NotVideo { .. } => Exit::InputNotVideo,
            VideoError::Truncated { .. } => Exit::InputTruncated,
            VideoError::NoVideoStream { .. } => Exit::InputNoVideoStream,
            VideoError::TooShort { .. } => Exit::InputTooShort,
            VideoError::OpenCv { .. } => Exit::Internal,
        }
    }
}

/// What a clip is: the facts a report records about its input.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct VideoInfo {
    /// The path as given. JSON has no room for file names that are not UTF-8: those are written with U+FFFD in
    /// place of the bytes that are not.
    #[serde(serialize_with = "crate::output::serialize_path_lossy")]
    pub path: PathBuf,
    /// Size of the file, bytes.
    pub file_size_byte: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Width of the upright frames, pixels (after applying the rotation metadata).
    pub width_px: u32,
    /// Height of the upright frames, pixels.
    pub height_px: u32,
    /// Average frame rate from the container, frames per second.
    pub fps: f64,
    /// Frames in the clip: exact from an MP4's sample table (after a full decode: the frames decoded), otherwise
    /// FFmpeg's estimate from the container's duration × rate.
    pub frame_count: u64,
    /// Whether `frame_count` is exact (an MP4 sample table, or counted by decoding) rather than an estimate.
    pub frame_count_exact: bool,
    /// Duration, seconds (frame count / average rate).
    pub duration_s: f64,
    /// Codec name, e.g. "h264", "hevc", "vp9", or the raw FourCC.
    pub codec: String,
    /// Clockwise rotation from the container's display matrix, degrees (0, 90, 180, 270); frames come out upright.
    pub rotation_deg: i32,
    /// The file is cut short or decoding broke off: what was read and what was lost. `None` for a whole clip.
    pub truncation: Option<Truncation>,
}

/// How much of a clip that is cut short (or damaged part-way) could be read.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Truncation {
    /// Frames that could be read (the report covers these).
    pub frames_read: u64,
    /// Frames the file declares.
    pub frames_declared: u64,
    /// Seconds that could be read.
    pub read_s: f64,
    /// Seconds the file declares.
    pub declared_s: f64,
    /// What was seen, in plain words.
    pub detail: String,
}

impl Truncation {
    /// One sentence for the report's warnings.
    pub fn message(&self) -> String {
        format!(
            "the clip is cut short: only the first {:.1} s of {:.1} s ({} of {} frames) could be read ({}); this \
             report covers that part — copy or export the clip again for a report of all of it",
            self.read_s, self.declared_s, self.frames_read, self.frames_declared, self.detail
        )
    }
}

/// What a full decoding pass found.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct DecodeSummary {
    /// Frames decoded.
    pub frames_decoded: u64,
    /// Presentation time of the first frame, seconds.
    pub first_timestamp_s: f64,
    /// Presentation time of the last frame, seconds.
    pub last_timestamp_s: f64,
    /// The longest gap between consecutive frames, seconds (a variable-frame-rate clip shows it here).
    pub largest_frame_interval_s: f64,
    /// Frames whose container timestamp did not advance and was estimated from the average rate.
    pub estimated_timestamps: u64,
    /// Wall-clock time of the pass, seconds.
    pub decode_s: f64,
    /// Frames decoded per second of wall-clock time.
    pub decode_fps: f64,
}

/// One decoded frame: an upright BGR image and when it is shown.
pub struct Frame {
    /// Index in decode order, from 0.
    pub index: u64,
    /// Presentation time from the container, seconds from the first frame.
    pub timestamp_s: f64,
    /// The image, 8-bit BGR, upright.
    pub image: Mat,
}

impl Default for Frame {
    fn default() -> Self {
        Frame {
            index: 0,
            timestamp_s: 0.0,
            image: Mat::default(),
        }
    }
}

/// A clip opened for decoding.
pub struct VideoReader {
    info: VideoInfo,
    capture: VideoCapture,
    frames_read: u64,
    origin_s: Option<f64>,
    last_timestamp_s: Option<f64>,
    estimated_timestamps: u64,
    /// Keeps the file open while OpenCV reads it through `/proc/self/fd` (paths that are not UTF-8).
    _held_file: Option<File>,
}

impl VideoReader {
    /// Opens `path`, checks that it is a decodable video, and reads its metadata and hash.
    pub fn open(path: &Path) -> Result<VideoReader, VideoError> {
        let file_size_byte = check_file(path)?;
        let container = inspect_container(path, file_size_byte)?;
        if let Container::Mp4(layout) = &container {
            if let Some(detail) = &layout.truncated {
                let readable = layout.video_frames.map_or(0, |frames| frames.complete);
                if readable == 0 {
                    return Err(VideoError::Truncated {
                        path: path.to_path_buf(),
                        detail: if layout.video_frames.is_none() {
                            format!("{detail}, before its index of frames, so no frame can be read")
                        } else {
                            format!("{detail}, before its first frame")
                        },
                    });
                }
            }
            if layout.has_tracks && !layout.has_video_track {
                return Err(VideoError::NoVideoStream {
                    path: path.to_path_buf(),
                });
            }
        }
        let sha256 = sha256_of_file(path)?;

        let (capture_path, held_file) = opencv_path(path)?;
        let opencv_err = |source| VideoError::OpenCv {
            path: path.to_path_buf(),
            source,
        };
        let mut capture = VideoCapture::from_file(&capture_path, videoio::CAP_FFMPEG).map_err(opencv_err)?;
        if !capture.is_opened().map_err(opencv_err)? {
            return Err(match container {
                Container::Unknown => VideoError::NotVideo {
                    path: path.to_path_buf(),
                },
                Container::Mp4(_) | Container::Other => VideoError::Truncated {
                    path: path.to_path_buf(),
                    detail: "FFmpeg could not open the container".into(),
                },
            });
        }
        // Phone clips store frames sideways with a display matrix; have FFmpeg turn them upright. OpenCV then
        // also reports the upright width and height.
        capture
            .set(videoio::CAP_PROP_ORIENTATION_AUTO, 1.0)
            .map_err(opencv_err)?;
        let get = |prop| capture.get(prop).map_err(opencv_err);
        let width_px = get(videoio::CAP_PROP_FRAME_WIDTH)?.max(0.0) as u32;
        let height_px = get(videoio::CAP_PROP_FRAME_HEIGHT)?.max(0.0) as u32;
        if width_px == 0 || height_px == 0 {
            // FFmpeg's probing accepts almost anything as *some* format; with no picture size and no container
            // magic the file is simply not a video.
            return Err(match container {
                Container::Unknown => VideoError::NotVideo {
                    path: path.to_path_buf(),
                },
                Container::Mp4(_) | Container::Other => VideoError::NoVideoStream {
                    path: path.to_path_buf(),
                },
            });
        }
        let fps = get(videoio::CAP_PROP_FPS)?;
        let estimated_frame_count = get(videoio::CAP_PROP_FRAME_COUNT)?.max(0.0).round() as u64;
        let codec = codec_name(get(videoio::CAP_PROP_FOURCC)?);
        let rotation_deg = normalise_rotation(get(videoio::CAP_PROP_ORIENTATION_META)?);
        let sample_table = match &container {
            Container::Mp4(layout) => layout.video_frames.filter(|frames| frames.declared > 0),
            _ => None,
        };
        let (frame_count, frame_count_exact) = match sample_table {
            Some(frames) => (frames.declared, true),
            None => (estimated_frame_count, false),
        };
        if frame_count > 0 && frame_count < MIN_FRAME_COUNT {
            return Err(VideoError::TooShort {
                path: path.to_path_buf(),
                frame_count,
            });
        }
        let seconds = |frames: u64| if fps > 0.0 { frames as f64 / fps } else { 0.0 };
        let truncation = match (&container, sample_table) {
            (
                Container::Mp4(mp4::Mp4Layout {
                    truncated: Some(detail),
                    ..
                }),
                Some(frames),
            ) if frames.complete < frames.declared => Some(Truncation {
                frames_read: frames.complete,
                frames_declared: frames.declared,
                read_s: seconds(frames.complete),
                declared_s: seconds(frames.declared),
                detail: detail.clone(),
            }),
            _ => None,
        };
        if let Some(cut) = &truncation
            && cut.read_s < MIN_READABLE_S
        {
            return Err(VideoError::Truncated {
                path: path.to_path_buf(),
                detail: too_little_left(cut),
            });
        }
        let info = VideoInfo {
            path: path.to_path_buf(),
            file_size_byte,
            sha256,
            width_px,
            height_px,
            fps,
            frame_count,
            frame_count_exact,
            duration_s: seconds(frame_count),
            codec,
            rotation_deg,
            truncation,
        };
        Ok(VideoReader {
            info,
            capture,
            frames_read: 0,
            origin_s: None,
            last_timestamp_s: None,
            estimated_timestamps: 0,
            _held_file: held_file,
        })
    }

    /// The clip's metadata.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// Decodes the next frame into `frame`, reusing its buffer. Returns `Ok(false)` at the end of the clip.
    ///
    /// At the end it checks that the clip delivered what its container promised: far fewer frames than the
    /// container's count means a truncated or corrupt file, and fewer than [`MIN_FRAME_COUNT`] a still image.
    pub fn read_into(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
        let path = &self.info.path;
        let opencv_err = |source| VideoError::OpenCv {
            path: path.clone(),
            source,
        };
        if self.capture.read(&mut frame.image).map_err(opencv_err)? && !frame.image.empty() {
            let pts_s = self.capture.get(videoio::CAP_PROP_POS_MSEC).map_err(opencv_err)? / 1000.0;
            // Times count from the first frame: edit lists can start a stream at a negative time.
            let container_s = pts_s - *self.origin_s.get_or_insert(pts_s);
            frame.index = self.frames_read;
            frame.timestamp_s = match self.last_timestamp_s {
                // Frames drained from the decoder at the end of the stream come back without a timestamp (OpenCV
                // reports 0); any time that does not advance is replaced by one nominal frame interval.
                Some(last_s) if container_s <= last_s => {
                    self.estimated_timestamps += 1;
                    last_s + self.nominal_interval_s()
                }
                _ => container_s,
            };
            self.last_timestamp_s = Some(frame.timestamp_s);
            self.frames_read += 1;
            return Ok(true);
        }
        self.check_complete()?;
        Ok(false)
    }

    /// Decodes every remaining frame and summarises the pass: a decode-only run, for `runform info --decode` and
    /// for measuring the decoder's speed.
    pub fn decode_all(&mut self) -> Result<DecodeSummary, VideoError> {
        let started = std::time::Instant::now();
        let mut frame = Frame::default();
        let mut first_timestamp_s = None;
        let mut last_timestamp_s = 0.0;
        let mut largest_step_s: f64 = 0.0;
        while self.read_into(&mut frame)? {
            if first_timestamp_s.is_some() {
                largest_step_s = largest_step_s.max(frame.timestamp_s - last_timestamp_s);
            }
            first_timestamp_s.get_or_insert(frame.timestamp_s);
            last_timestamp_s = frame.timestamp_s;
        }
        let decode_s = started.elapsed().as_secs_f64();
        Ok(DecodeSummary {
            frames_decoded: self.frames_read,
            first_timestamp_s: first_timestamp_s.unwrap_or(0.0),
            last_timestamp_s,
            largest_frame_interval_s: largest_step_s,
            estimated_timestamps: self.estimated_timestamps,
            decode_s,
            decode_fps: self.frames_read as f64 / decode_s.max(f64::EPSILON),
        })
    }

    /// How many frames got an estimated timestamp because the container's did not advance (see `read_into`).
    pub fn estimated_timestamps(&self) -> u64 {
        self.estimated_timestamps
    }

    /// One frame at the container's average rate, seconds (1/30 s when the rate is unknown).
    fn nominal_interval_s(&self) -> f64 {
        if self.info.fps > 0.0 {
            1.0 / self.info.fps
        } else {
            1.0 / FALLBACK_FPS
        }
    }

    /// How many frames have been decoded so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// At the end of the clip: trusts what decoded. No frame, or a single one, is an error; an estimated count
    /// that was not reached is simply corrected; decoding that stops well short of an exact count is a
    /// truncation, reported with the report of what was read — unless too little was read to measure.
    fn check_complete(&mut self) -> Result<(), VideoError> {
        let path = self.info.path.clone();
        if self.frames_read == 0 {
            return Err(VideoError::Truncated {
                path,
                detail: "no frame could be decoded".into(),
            });
        }
        if self.frames_read < MIN_FRAME_COUNT {
            return Err(VideoError::TooShort {
                path,
                frame_count: self.frames_read,
            });
        }
        let expected = self
            .info
            .truncation
            .as_ref()
            .map_or(self.info.frame_count, |cut| cut.frames_read);
        if self.info.frame_count_exact && self.frames_read + FRAME_COUNT_SLACK < expected {
            let fps = if self.info.fps > 0.0 {
                self.info.fps
            } else {
                FALLBACK_FPS
            };
            let cut = Truncation {
                frames_read: self.frames_read,
                frames_declared: self.info.frame_count,
                read_s: self.frames_read as f64 / fps,
                declared_s: self.info.frame_count as f64 / fps,
                detail: format!(
                    "decoding stopped after frame {} of {}: the rest is damaged",
                    self.frames_read, self.info.frame_count
                ),
            };
            if cut.read_s < MIN_READABLE_S {
                return Err(VideoError::Truncated {
                    path,
                    detail: too_little_left(&cut),
                });
            }
            self.info.truncation = Some(cut);
        }
        if let Some(cut) = self.info.truncation.as_mut() {
            // The report covers exactly what decoded.
            let fps = if self.info.fps > 0.0 {
                self.info.fps
            } else {
                FALLBACK_FPS
            };
            cut.frames_read = self.frames_read;
            cut.read_s = self.frames_read as f64 / fps;
        }
        if !self.info.frame_count_exact || self.info.truncation.is_none() {
            // What decoded is the clip: the count is now exact.
            self.info.frame_count = self.frames_read;
            self.info.frame_count_exact = true;
            self.info.duration_s = self.frames_read as f64
                / if self.info.fps > 0.0 {
                    self.info.fps
                } else {
                    FALLBACK_FPS
                };
        }
        Ok(())
    }
}

/// The detail of a clip refused because too little of it can be read.
fn too_little_left(cut: &Truncation) -> String {
    format!(
        "{}; only the first {:.1} s of {:.1} s can be read, too little to measure ({MIN_READABLE_S:.0} s needed)",
        cut.detail, cut.read_s, cut.declared_s
    )
}

/// Checks the path names a readable, non-empty file; returns its size in bytes.
fn check_file(path: &Path) -> Result<u64, VideoError> {
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => VideoError::NotFound {
            path: path.to_path_buf(),
        },
        _ => VideoError::Unreadable {
            path: path.to_path_buf(),
            source,
        },
    })?;
    if meta.is_dir() {
        return Err(VideoError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if meta.len() == 0 {
        return Err(VideoError::Empty {
            path: path.to_path_buf(),
        });
    }
    File::open(path).map_err(|source| VideoError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(meta.len())
}

/// SHA-256 of the whole file, lowercase hex.
fn sha256_of_file(path: &Path) -> Result<String, VideoError> {
    file_sha256(path).map_err(|source| VideoError::Unreadable {
        path: path.to_path_buf(),
        source,
    })
}

/// SHA-256 of a file's bytes, lowercase hex (the `input.sha256` of a report).
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        // `read` never reports more bytes than the buffer holds, so `get` only comes back empty at the end.
        match buffer.get(..n) {
            Some(chunk) if n > 0 => hasher.update(chunk),
            _ => break,
        }
    }
    Ok(hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect())
}

/// OpenCV takes file names as UTF-8 strings. A path that is not UTF-8 is opened here and handed to OpenCV as
/// `/proc/self/fd/N`, which stays valid while the returned `File` lives.
fn opencv_path(path: &Path) -> Result<(String, Option<File>), VideoError> {
    if let Some(text) = path.to_str() {
        return Ok((text.to_owned(), None));
    }
    let file = File::open(path).map_err(|source| VideoError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    use std::os::fd::AsRawFd;
    Ok((format!("/proc/self/fd/{}", file.as_raw_fd()), Some(file)))
}

/// The codec's common name from OpenCV's FourCC property.
fn codec_name(fourcc: f64) -> String {
    let code = fourcc as u32;
    let raw: String = code
        .to_le_bytes()
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    match raw.to_ascii_lowercase().as_str() {
        "avc1" | "h264" | "x264" | "avc3" => "h264".into(),
        "hvc1" | "hev1" | "hevc" | "h265" => "hevc".into(),
        "vp09" | "vp90" => "vp9".into(),
        "vp08" | "vp80" => "vp8".into(),
        "av01" => "av1".into(),
        "mp4v" | "fmp4" => "mpeg4".into(),
        "mjpg" => "mjpeg".into(),
        _ => raw,
    }
}

/// Rotation metadata as 0, 90, 180 or 270 degrees clockwise.
fn normalise_rotation(degrees: f64) -> i32 {
    let quarter_turns = (degrees / 90.0).round() as i32;
    quarter_turns.rem_euclid(4) * 90
}

/// What the first bytes say about the container.
#[derive(Debug)]
enum Container {
    /// ISO base media (MP4, MOV, 3GP): its box layout was read.
    Mp4(mp4::Mp4Layout),
    /// Another video container recognised by its magic bytes (Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg, ASF).
    Other,
    /// Nothing recognised: most likely not a video.
    Unknown,
}

/// Top-level MP4 box types; a file whose first box is one of these is ISO base media.
const MP4_TOP_LEVEL_BOXES: [&[u8; 4]; 7] = [b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"];

fn inspect_container(path: &Path, file_len: u64) -> Result<Container, VideoError> {
    let unreadable = |source| VideoError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(unreadable)?;
    let mut head = [0u8; 12];
    let head = mp4::read_up_to(&mut file, &mut head).map_err(unreadable)?;
    let box_type = head.get(4..8);
    if MP4_TOP_LEVEL_BOXES.iter().any(|b| box_type == Some(b.as_slice())) {
        return Ok(Container::Mp4(mp4::layout(&mut file, file_len).map_err(unreadable)?));
    }
    let other = head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) // Matroska / WebM (EBML)
        || (head.starts_with(b"RIFF") && head.get(8..12) == Some(b"AVI ".as_slice()))
        || head.starts_with(&[0x47]) // MPEG-TS sync byte
        || head.starts_with(&[0x00, 0x00, 0x01, 0xBA]) // MPEG-PS pack header
        || head.starts_with(b"FLV")
        || head.starts_with(b"OggS")
        || head.starts_with(&[0x30, 0x26, 0xB2, 0x75]); // ASF / WMV
    Ok(if other { Container::Other } else { Container::Unknown })
}

#[cfg(test)]
mod tests {
    use super::mp4::tests::mp4_box;
    use super::*;

    fn track(handler: &[u8; 4]) -> Vec<u8> {
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0u8; 12]);
        mp4_box(b"trak", &mp4_box(b"mdia", &mp4_box(b"hdlr", &hdlr)))
    }

    #[test]
    fn codec_names_come_from_fourcc() {
        let fourcc = |s: &[u8; 4]| f64::from(u32::from_le_bytes(*s));
        assert_eq!(codec_name(fourcc(b"avc1")), "h264");
        assert_eq!(codec_name(fourcc(b"vp09")), "vp9");
        assert_eq!(codec_name(fourcc(b"abcd")), "abcd");
    }

    #[test]
    fn rotation_is_a_quarter_turn_clockwise() {
        assert_eq!(normalise_rotation(0.0), 0);
        assert_eq!(normalise_rotation(90.0), 90);
        assert_eq!(normalise_rotation(-90.0), 270);
        assert_eq!(normalise_rotation(180.0), 180);
        assert_eq!(normalise_rotation(270.0), 270);
    }

    #[test]
    fn audio_only_and_truncated_mp4_layouts_are_recognised() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut bytes = mp4_box(b"ftyp", b"isom\0\0\0\0");
        bytes.extend(mp4_box(b"moov", &track(b"soun")));
        let audio = dir.path().join("audio.mp4");
        std::fs::write(&audio, &bytes).expect("write");
        let err = VideoReader::open(&audio).err().expect("audio-only must fail");
        assert!(matches!(err, VideoError::NoVideoStream { .. }), "{err}");

        bytes.extend(mp4_box(b"mdat", &[0u8; 1000]));
        bytes.truncate(bytes.len() - 500);
        let truncated = dir.path().join("truncated.mp4");
        std::fs::write(&truncated, &bytes).expect("write");
        let err = VideoReader::open(&truncated).err().expect("truncated must fail");
        assert!(matches!(err, VideoError::Truncated { .. }), "{err}");
        assert_eq!(err.exit(), Exit::InputTruncated);
    }

    #[test]
    fn missing_directory_empty_and_text_inputs_give_their_own_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("nope.mp4");
        let empty = dir.path().join("empty.mp4");
        let text = dir.path().join("notes.mp4");
        std::fs::write(&empty, b"").expect("write");
        std::fs::write(&text, b"these are my running notes, not a video\n").expect("write");
        let exit_of = |path: &Path| VideoReader::open(path).err().map(|e| e.exit());
        assert_eq!(exit_of(&missing), Some(Exit::InputNotFound));
        assert_eq!(exit_of(dir.path()), Some(Exit::InputIsDirectory));
        assert_eq!(exit_of(&empty), Some(Exit::InputEmpty));
        assert_eq!(exit_of(&text), Some(Exit::InputNotVideo));
    }
}
