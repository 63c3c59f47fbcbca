//! What a physical therapist looks at instead of reading: the annotated overlay video ([`write_overlay`]), the
//! self-contained HTML report of one clip ([`write_html`]) and the HTML comparison of sessions
//! ([`write_compare_html`]).
//!
//! Everything drawn is rebuilt from the landmarks and the analysis ([`evidence`]), so the pictures show the very
//! angles and events behind each number. The HTML needs no network: plots are inline SVG ([`plot`]), stills are
//! inline base64 JPEG ([`stills`]), and there is no script. The overlay is H.264 in MP4, which browsers play.

pub mod compare;
pub mod draw;
pub mod evidence;
pub mod html;
pub mod overlay;
pub mod plot;
pub mod stills;

use std::path::PathBuf;

use thiserror::Error;

use crate::error::{Exit, HasExit};
use crate::output::OutputError;
use crate::video::VideoError;

pub use compare::{
    CompareSession, SessionValue, render_compare_groups_html, render_compare_html, write_compare_groups_html,
    write_compare_html,
};
pub use html::{
    ReportPage, SessionPage, past_limit_unflagged_of, render_html, render_session_html, write_html, write_session_html,
};
pub use overlay::{OverlayEncoder, write_overlay, write_overlay_with};

/// A visual output could not be made.
#[derive(Debug, Error)]
pub enum VisualError {
    /// The clip could not be decoded again.
    #[error(transparent)]
    Video(#[from] VideoError),
    /// A file could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// This OpenCV build cannot encode H.264 MP4.
    #[error(
        "{path}: OpenCV could not open an H.264 (avc1) MP4 writer; install OpenCV with FFmpeg and libx264 \
         (scripts/setup does) or leave out --overlay"
    )]
    EncoderUnavailable {
        /// The file that was to be written.
        path: PathBuf,
    },
    /// FFmpeg's encoder failed while writing the overlay.
    #[error("{path}: FFmpeg could not encode the overlay video ({detail})")]
    Encoder {
        /// The file that was to be written.
        path: PathBuf,
        /// FFmpeg's last words.
        detail: String,
    },
    /// The landmarks do not belong to this clip.
    #[error(
        "{path}: the clip has {clip_frames} frames but the landmarks have {landmark_frames}; the landmarks come \
         from another clip"
    )]
    FrameCountMismatch {
        /// The clip.
        path: PathBuf,
        /// Frames decoded from the clip.
        clip_frames: u64,
        /// Frames in the landmark sequence.
        landmark_frames: usize,
    },
    /// OpenCV failed while drawing, encoding or resizing.
    #[error("{path}: OpenCV failed while {doing} ({source})")]
    OpenCv {
        /// The file being made.
        path: PathBuf,
        /// What was being done.
        doing: &'static str,
        /// OpenCV's error.
        source: opencv::Error,
    },
}

impl HasExit for VisualError {
    fn exit(&self) -> Exit {
        match self {
            VisualError::Video(error) => error.exit(),
            VisualError::Output(error) => error.exit(),
            VisualError::EncoderUnavailable { .. } | VisualError::Encoder { .. } => Exit::OutputFailed,
            VisualError::FrameCountMismatch { .. } => Exit::Internal,
            VisualError::OpenCv { .. } => Exit::Internal,
        }
    }
}

/// Standard base64 (RFC 4648, with padding), for `data:` URLs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        // The last chunk may be short: its missing bytes count as zero and their symbols become padding.
        let [b0, b1, b2] = [0, 1, 2].map(|i| chunk.get(i).copied().unwrap_or(0));
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for k in 0..4 {
            if k <= chunk.len() {
                // `& 63` keeps the index within the 64 symbols, so `get` always finds one.
                out.extend(
                    ALPHABET
                        .get((n >> (18 - 6 * k)) as usize & 63)
                        .map(|&symbol| char::from(symbol)),
                );
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }
}
