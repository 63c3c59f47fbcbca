//! The `blazepose-peer-v1` landmark file format, read and written, so that runform's landmarks can be compared
//! with MediaPipe's own (`../shared/tools/mediapipe-peer` writes the same format) and so that the analysis stage
//! can run on landmarks from either.
//!
//! Image landmarks are stored normalised (x by the frame width, y by its height, z by the width, as MediaPipe
//! does); [`crate::landmarks`] keeps pixels. World landmarks are metres in both.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::landmarks::{LANDMARK_COUNT, LANDMARK_NAMES, Landmark, Pose, PoseFrame, PoseSequence, Roi, WorldLandmark};

/// The format tag of the file.
pub const PEER_FORMAT: &str = "blazepose-peer-v1";

/// A landmark file could not be read.
#[derive(Debug, Error)]
pub enum PeerError {
    /// The file could not be read.
    #[error("{path}: cannot be read ({source})")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid JSON of this format.
    #[error("{path}: is not a {PEER_FORMAT} landmark file ({reason})")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The whole file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerFile {
    /// Always [`PEER_FORMAT`].
    pub format: String,
    /// What produced the file; `width`, `height` and `fps` are required, the rest is free-form.
    pub meta: PeerMeta,
    /// The 33 landmark names in order.
    pub landmark_names: Vec<String>,
    /// One entry per frame.
    pub frames: Vec<PeerFrame>,
}

/// The file's metadata. Only the frame geometry is needed to read it back; everything else is kept as given.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerMeta {
    /// Frame width, pixels.
    pub width: u32,
    /// Frame height, pixels.
    pub height: u32,
    /// Frame rate, frames per second.
    pub fps: f64,
    /// Any other fields (producer, model, timing…).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One frame.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerFrame {
    /// Frame index.
    pub i: u64,
    /// Timestamp, milliseconds.
    pub t_ms: f64,
    /// Poses found (runform writes at most one).
    pub poses: Vec<PeerPose>,
}

/// One row: `[x, y, z, visibility, presence]`. MediaPipe's legacy API reports no presence and writes `null`; a
/// `null` reads as NaN ("not reported") and NaN is written as `null`.
pub type PeerRow = [Option<f32>; 5];

/// One pose: 33 rows of [`PeerRow`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerPose {
    /// Normalised image landmarks.
    pub landmarks: Vec<PeerRow>,
    /// World landmarks, metres.
    pub world_landmarks: Vec<PeerRow>,
}

fn row_from_values(values: [f32; 5]) -> PeerRow {
    values.map(|v| if v.is_nan() { None } else { Some(v) })
}

fn values_from_row(row: &PeerRow) -> [f32; 5] {
    row.map(|v| v.unwrap_or(f32::NAN))
}

/// The values of landmark `k` among `rows`. [`PeerFile::parse`] checks that a pose has all of them; a row missing
/// from a file built otherwise reads as missing values, like a row of nulls.
fn row_values(rows: &[PeerRow], k: usize) -> [f32; 5] {
    rows.get(k).map_or([f32::NAN; 5], values_from_row)
}

impl PeerFile {
    /// Builds the file from runform's landmarks; `extra` fills `meta` beyond the frame geometry.
    pub fn from_sequence(sequence: &PoseSequence, extra: serde_json::Map<String, serde_json::Value>) -> PeerFile {
        let width = sequence.width_px as f32;
        let height = sequence.height_px as f32;
        let frames = sequence
            .frames
            .iter()
            .map(|frame| PeerFrame {
                i: frame.index,
                t_ms: (frame.timestamp_s * 1000.0 * 1000.0).round() / 1000.0,
                poses: frame
                    .pose
                    .iter()
                    .map(|pose| PeerPose {
                        landmarks: pose
                            .landmarks
                            .iter()
                            .map(|l| {
                                row_from_values([
                                    l.x_px / width,
                                    l.y_px / height,
                                    l.z_px / width,
                                    l.visibility,
                                    l.presence,
                                ])
                            })
                            .collect(),
                        world_landmarks: pose
                            .world_landmarks
                            .iter()
                            .map(|w| row_from_values([w.x_m, w.y_m, w.z_m, w.visibility, w.presence]))
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        PeerFile {
            format: PEER_FORMAT.to_owned(),
            meta: PeerMeta {
                width: sequence.width_px,
                height: sequence.height_px,
                fps: sequence.fps,
                extra,
            },
            landmark_names: LANDMARK_NAMES.iter().map(|name| (*name).to_owned()).collect(),
            frames,
        }
    }

    /// Reads and checks a file.
    pub fn read(path: &Path) -> Result<PeerFile, PeerError> {
        let text = std::fs::read_to_string(path).map_err(|source| PeerError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|reason| PeerError::Format {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Parses and checks the text of a file.
    pub fn parse(text: &str) -> Result<PeerFile, String> {
        let file: PeerFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.format != PEER_FORMAT {
            return Err(format!("format is {:?}", file.format));
        }
        if file.meta.width == 0 || file.meta.height == 0 {
            return Err("meta.width and meta.height must be positive".into());
        }
        for frame in &file.frames {
            for pose in &frame.poses {
                if pose.landmarks.len() != LANDMARK_COUNT || pose.world_landmarks.len() != LANDMARK_COUNT {
                    return Err(format!(
                        "frame {} has a pose without {LANDMARK_COUNT} landmarks",
                        frame.i
                    ));
                }
            }
        }
        Ok(file)
    }

    /// runform's landmarks from the file, taking the first pose of each frame. The ROI and score are not
    /// stored in the format: they come back as zero.
    pub fn to_sequence(&self) -> PoseSequence {
        let width = self.meta.width as f32;
        let height = self.meta.height as f32;
        let frames = self
            .frames
            .iter()
            .map(|frame| PoseFrame {
                index: frame.i,
                timestamp_s: frame.t_ms / 1000.0,
                pose: frame.poses.first().map(|pose| Pose {
                    landmarks: std::array::from_fn(|k| {
                        let [x, y, z, visibility, presence] = row_values(&pose.landmarks, k);
                        Landmark {
                            x_px: x * width,
                            y_px: y * height,
                            z_px: z * width,
                            visibility,
                            presence,
                        }
                    }),
                    world_landmarks: std::array::from_fn(|k| {
                        let [x_m, y_m, z_m, visibility, presence] = row_values(&pose.world_landmarks, k);
                        WorldLandmark {
                            x_m,
                            y_m,
                            z_m,
                            visibility,
                            presence,
                        }
                    }),
                    score: 0.0,
                    roi: Roi::default(),
                }),
            })
            .collect();
        PoseSequence {
            width_px: self.meta.width,
            height_px: self.meta.height,
            fps: self.meta.fps,
            frames,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_round_trips_through_the_format() {
        let mut pose = Pose {
            landmarks: [Landmark::default(); LANDMARK_COUNT],
            world_landmarks: [WorldLandmark::default(); LANDMARK_COUNT],
            score: 0.0,
            roi: Roi::default(),
        };
        pose.landmarks[23] = Landmark {
            x_px: 320.0,
            y_px: 120.0,
            z_px: -64.0,
            visibility: 0.9,
            presence: 0.8,
        };
        let sequence = PoseSequence {
            width_px: 640,
            height_px: 480,
            fps: 30.0,
            frames: vec![
                PoseFrame {
                    index: 0,
                    timestamp_s: 0.0,
                    pose: None,
                },
                PoseFrame {
                    index: 1,
                    timestamp_s: 1.0 / 30.0,
                    pose: Some(pose),
                },
            ],
        };
        let file = PeerFile::from_sequence(&sequence, serde_json::Map::new());
        assert_eq!(file.frames[1].poses[0].landmarks[23][0], Some(0.5));
        let text = serde_json::to_string(&file).expect("serialise");
        let back = PeerFile::parse(&text).expect("parse").to_sequence();
        let landmark = back.frames[1].pose.as_ref().expect("pose").landmarks[23];
        assert!((landmark.x_px - 320.0).abs() < 1e-3 && (landmark.z_px + 64.0).abs() < 1e-3);
        assert!(back.frames[0].pose.is_none());
        assert!((back.frames[1].timestamp_s - 1.0 / 30.0).abs() < 1e-6);
    }

    #[test]
    fn wrong_format_and_short_poses_are_rejected() {
        assert!(
            PeerFile::parse(r#"{"format":"x","meta":{"width":1,"height":1,"fps":30},"landmark_names":[],"frames":[]}"#)
                .is_err()
        );
        let short = r#"{"format":"blazepose-peer-v1","meta":{"width":1,"height":1,"fps":30},"landmark_names":[],
            "frames":[{"i":0,"t_ms":0,"poses":[{"landmarks":[[0,0,0,0,0]],"world_landmarks":[]}]}]}"#;
        assert!(PeerFile::parse(short).unwrap_err().contains("33 landmarks"));
    }

    #[test]
    fn mediapipe_reference_files_parse_when_shared_is_present() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/treadmill_side_gym_portrait60.legacy_nosmooth_full.json");
        if !path.exists() {
            eprintln!(
                "skipped: {} is absent (../shared is only on developer and CI machines)",
                path.display()
            );
            return;
        }
        let sequence = PeerFile::read(&path).expect("reference parses").to_sequence();
        assert_eq!((sequence.width_px, sequence.height_px), (1080, 1920));
        assert_eq!(sequence.frames.len(), 388);
        assert!(sequence.frames.iter().filter(|f| f.pose.is_some()).count() > 300);
        let first = sequence.frames.iter().find_map(|f| f.pose.as_ref()).expect("a pose");
        assert!(
            first.landmarks[0].presence.is_nan(),
            "the legacy API reports no presence"
        );
    }
}
