//! Stills of the key moments of a typical step per foot (initial contact, midstance, toe-off) with the measured
//! angles drawn on them, as JPEG for the HTML report, and a strip of overlay frames across one stride (a PNG for
//! documentation).
//!
//! Frames are not held from the analysis pass: the clip is decoded again and only the few frames wanted are
//! kept, which costs one decode and keeps memory flat whatever the clip's length.

use std::collections::BTreeMap;
use std::path::Path;

use opencv::core::{Mat, Rect, Size, Vector};
use opencv::imgcodecs;
use opencv::imgproc;
use opencv::prelude::*;

use crate::analysis::Analysis;
use crate::landmarks::LandmarkId;
use crate::metrics::{MetricId, Step, Withheld};
use crate::output;
use crate::track::{self, Side, View};
use crate::video::{Frame, VideoReader};

use super::VisualError;
use super::draw::{Annotator, DrawOptions};
use super::evidence::{Evidence, strides_of};

/// Height the stills are scaled to, pixels.
pub const STILL_HEIGHT_PX: i32 = 480;
/// JPEG quality of the stills, 0..100.
pub const STILL_JPEG_QUALITY: i32 = 82;
/// Margin around the runner when a still is cropped, fraction of the runner's height in the image.
const CROP_MARGIN_PER_BODY: f64 = 0.14;
/// Margin left and right of the runner when a still is cropped, fraction of the runner's height (room for
/// the angle labels, which stills draw large).
const STILL_LABEL_ROOM_PER_BODY: f64 = 0.3;
/// The same for the overlay strip, whose labels are drawn at the video's size.
const STRIP_LABEL_ROOM_PER_BODY: f64 = 0.12;

/// A key moment of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Moment {
    /// The foot touches down.
    InitialContact,
    /// The middle of the stance.
    Midstance,
    /// The foot leaves the belt.
    ToeOff,
}

impl Moment {
    /// Plain words.
    pub const fn name(self) -> &'static str {
        match self {
            Moment::InitialContact => "initial contact",
            Moment::Midstance => "midstance",
            Moment::ToeOff => "toe-off",
        }
    }
}

/// One still: which moment, where in the clip, the picture and a caption with the step's values.
#[derive(Clone, Debug, PartialEq)]
pub struct Still {
    /// The foot.
    pub side: Side,
    /// The moment.
    pub moment: Moment,
    /// Frame index in decode order.
    pub frame: usize,
    /// Time, seconds.
    pub time_s: f64,
    /// JPEG bytes.
    pub jpeg: Vec<u8>,
    /// What the still shows, in plain words with the step's values.
    pub caption: String,
}

/// The metric whose median picks the "typical" step: the first of these a step has.
const TYPICAL_BY: [MetricId; 3] = [
    MetricId::FootStrikeAngleDeg,
    MetricId::PelvicDropMidstanceDeg,
    MetricId::ContactTimeMs,
];

/// The step of `side` closest to that side's median of the first metric it has among foot strike angle, pelvic drop
/// and contact time: a typical step. It is taken from the steps in the measured running parts whose landmarks held
/// throughout (no value withheld as an outlier or for low confidence) when there are any, else from the measured
/// steps, else from all: a still of a step the numbers leave out, or of one whose landmarks the pose model mixed up
/// (on the gym treadmill clip the near foot's median step had the legs swapped at midstance, drawn as a swinging leg
/// with 76° of knee flexion), would not show what the numbers measured.
pub fn typical_step(steps: &[Step], side: Side) -> Option<&Step> {
    let own: Vec<&Step> = steps.iter().filter(|s| s.side == side).collect();
    let measured: Vec<&Step> = own.iter().copied().filter(|s| s.measured).collect();
    let held: Vec<&Step> = measured.iter().copied().filter(|s| landmarks_held(s)).collect();
    let candidates = [held, measured, own].into_iter().find(|steps| !steps.is_empty())?;
    for metric in TYPICAL_BY {
        let values: Vec<f64> = candidates
            .iter()
            .filter_map(|s| s.values.get(&metric).copied())
            .collect();
        if let Some(median) = track::median(&values) {
            return candidates
                .iter()
                .filter_map(|s| s.values.get(&metric).map(|v| (*s, (v - median).abs())))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(s, _)| s);
        }
    }
    candidates.get(candidates.len() / 2).copied()
}

/// Whether no value of `step` is withheld for its own landmarks (an outlier or low confidence); values absent for
/// the whole clip, or hidden on the far leg at every step, say nothing about this step.
fn landmarks_held(step: &Step) -> bool {
    step.withheld
        .values()
        .all(|why| matches!(why, Withheld::MetricAbsent | Withheld::FarLegHidden))
}

/// The key moments to show: initial contact, midstance and toe-off of a typical step of each foot (no toe-off
/// where the toe-offs cannot be trusted: [`Analysis::untrusted_toe_offs`]).
pub fn key_moments(analysis: &Analysis, fps: f64) -> Vec<(Side, Moment, usize, &Step)> {
    let mut moments = Vec::new();
    for side in [Side::Left, Side::Right] {
        let Some(step) = typical_step(&analysis.steps, side) else {
            continue;
        };
        let toe_off = analysis
            .untrusted_toe_offs()
            .is_none()
            .then_some((Moment::ToeOff, step.to_s));
        for (moment, time_s) in [
            (Moment::InitialContact, step.ic_s),
            (Moment::Midstance, step.midstance_s),
        ]
        .into_iter()
        .chain(toe_off)
        {
            moments.push((side, moment, (time_s * fps).round().max(0.0) as usize, step));
        }
    }
    moments
}

/// Decodes `clip` and keeps copies of the frames in `wanted` (by decode index).
pub fn grab_frames(clip: &Path, wanted: &[usize]) -> Result<BTreeMap<usize, Mat>, VisualError> {
    let mut reader = VideoReader::open(clip)?;
    let mut frame = Frame::default();
    let mut frames = BTreeMap::new();
    let last = wanted.iter().copied().max();
    while let Some(last) = last {
        if !reader.read_into(&mut frame)? {
            break;
        }
        let index = frame.index as usize;
        if wanted.contains(&index) {
            let copy = frame.image.try_clone().map_err(|source| VisualError::OpenCv {
                path: clip.to_path_buf(),
                doing: "copying a frame",
                source,
            })?;
            frames.insert(index, copy);
        }
        if index >= last {
            break;
        }
    }
    Ok(frames)
}

fn caption(side: Side, moment: Moment, time_s: f64, frame: usize, step: &Step, evidence: &Evidence) -> String {
    let side_name = match side {
        Side::Left => "Left",
        Side::Right => "Right",
    };
    let value = |metric: MetricId| step.values.get(&metric).copied();
    let mut parts: Vec<String> = Vec::new();
    let mut push = |name: &str, v: Option<f64>, unit: &str| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            parts.push(format!("{name} {v:.1} {unit}"));
        }
    };
    let at_frame = |series: &[f64]| series.get(frame).copied();
    let leg = evidence.kinematics.leg(side);
    match (evidence.view, moment) {
        (View::Rear | View::Front, _) => {
            push(
                "pelvic obliquity",
                at_frame(&evidence.kinematics.pelvic_obliquity_deg),
                "deg",
            );
            if moment == Moment::Midstance {
                push(
                    "pelvic drop (this step)",
                    value(MetricId::PelvicDropMidstanceDeg),
                    "deg",
                );
            }
        }
        (_, Moment::InitialContact) => {
            push("foot strike", value(MetricId::FootStrikeAngleDeg), "deg");
            push("tibia", value(MetricId::TibiaAngleIcDeg), "deg");
            push("overstride", value(MetricId::OverstridePctLegLength), "% leg length");
            push("knee flexion", value(MetricId::KneeFlexionIcDeg), "deg");
        }
        (_, Moment::Midstance) => {
            push("trunk lean", value(MetricId::TrunkLeanMidstanceDeg), "deg");
            push("knee flexion", at_frame(&leg.knee_flexion_deg), "deg");
            push(
                "peak stance knee flexion (this step)",
                value(MetricId::KneeFlexionPeakStanceDeg),
                "deg",
            );
        }
        (_, Moment::ToeOff) => {
            push("hip extension", value(MetricId::HipExtensionToeOffDeg), "deg");
            push("trunk lean", at_frame(&evidence.kinematics.trunk_lean_deg), "deg");
            push("contact time (this step)", value(MetricId::ContactTimeMs), "ms");
        }
    }
    let values = if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    };
    format!("{side_name} {}, t {time_s:.2} s (frame {frame}){values}", moment.name())
}

/// The box around the runner in `frame`, with a margin, inside the image; the whole image when no pose.
fn runner_box(evidence: &Evidence, frame: usize, (width, height): (i32, i32), label_room_per_body: f64) -> Rect {
    let ids = [
        LandmarkId::Nose,
        LandmarkId::LeftShoulder,
        LandmarkId::RightShoulder,
        LandmarkId::LeftWrist,
        LandmarkId::RightWrist,
        LandmarkId::LeftHip,
        LandmarkId::RightHip,
        LandmarkId::LeftKnee,
        LandmarkId::RightKnee,
        LandmarkId::LeftHeel,
        LandmarkId::RightHeel,
        LandmarkId::LeftFootIndex,
        LandmarkId::RightFootIndex,
    ];
    let points: Vec<(f64, f64)> = ids.iter().filter_map(|id| evidence.point(*id, frame)).collect();
    let full = Rect::new(0, 0, width, height);
    if points.len() < 4 {
        return full;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in points {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let body = (y1 - y0).max(x1 - x0);
    let margin_y = CROP_MARGIN_PER_BODY * body;
    // The angle labels sit beside the joints: more room left and right than above and below.
    let margin_x = label_room_per_body * body;
    let rect = Rect::new(
        (x0 - margin_x) as i32,
        (y0 - margin_y) as i32,
        (x1 - x0 + 2.0 * margin_x) as i32,
        (y1 - y0 + 2.0 * margin_y) as i32,
    ) & full;
    if rect.width < 16 || rect.height < 16 {
        full
    } else {
        rect
    }
}

fn scaled(image: &Mat, rect: Rect, height_px: i32) -> opencv::Result<Mat> {
    let cropped = Mat::roi(image, rect)?.try_clone()?;
    let width = (f64::from(rect.width) * f64::from(height_px) / f64::from(rect.height))
        .round()
        .max(1.0) as i32;
    let mut out = Mat::default();
    imgproc::resize(
        &cropped,
        &mut out,
        Size::new(width, height_px),
        0.0,
        0.0,
        imgproc::INTER_AREA,
    )?;
    Ok(out)
}

/// Decodes `clip` and makes the stills of [`key_moments`], cropped to the runner, angles drawn.
pub fn make_stills(clip: &Path, evidence: &Evidence, analysis: &Analysis) -> Result<Vec<Still>, VisualError> {
    let moments = key_moments(analysis, evidence.fps);
    let wanted: Vec<usize> = moments.iter().map(|m| m.2).collect();
    let frames = grab_frames(clip, &wanted)?;
    let opencv_error = |doing: &'static str| {
        let path = clip.to_path_buf();
        move |source| VisualError::OpenCv { path, doing, source }
    };
    // One crop box per foot, around the runner in all three moments, so the three stills line up.
    let mut boxes: BTreeMap<Side, Rect> = BTreeMap::new();
    for (side, _, frame, _) in &moments {
        if let Some(image) = frames.get(frame) {
            let rect = runner_box(
                evidence,
                *frame,
                (image.cols(), image.rows()),
                STILL_LABEL_ROOM_PER_BODY,
            );
            boxes.entry(*side).and_modify(|b| *b |= rect).or_insert(rect);
        }
    }
    let mut stills = Vec::new();
    for (side, moment, frame, step) in moments {
        let (Some(image), Some(rect)) = (frames.get(&frame), boxes.get(&side).copied()) else {
            continue;
        };
        let mut image = image.try_clone().map_err(opencv_error("copying a frame"))?;
        let annotator = Annotator::new(evidence, analysis, image.cols(), image.rows())
            .for_display_scale(f64::from(STILL_HEIGHT_PX) / f64::from(rect.height.max(1)));
        annotator
            .draw_for_side(&mut image, frame, side)
            .map_err(opencv_error("drawing a still"))?;
        let small = scaled(&image, rect, STILL_HEIGHT_PX).map_err(opencv_error("scaling a still"))?;
        let mut jpeg = Vector::<u8>::new();
        let params = Vector::<i32>::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, STILL_JPEG_QUALITY]);
        imgcodecs::imencode(".jpg", &small, &mut jpeg, &params).map_err(opencv_error("encoding a still"))?;
        let time_s = frame as f64 / evidence.fps;
        stills.push(Still {
            side,
            moment,
            frame,
            time_s,
            jpeg: jpeg.to_vec(),
            caption: caption(side, moment, time_s, frame, step, evidence),
        });
    }
    Ok(stills)
}

/// Writes a PNG strip of `count` overlay frames spread over one stride of the near-side foot (the middle one of
/// the clip), each `frame_height_px` high and cropped to the runner: documentation of what the overlay
/// shows. Returns the frame indices used.
pub fn write_overlay_strip(
    clip: &Path,
    evidence: &Evidence,
    analysis: &Analysis,
    count: usize,
    frame_height_px: i32,
    out_png: &Path,
) -> Result<Vec<usize>, VisualError> {
    let side = analysis.near_side.unwrap_or(Side::Left);
    let strides = strides_of(&analysis.steps, side);
    let frames: Vec<usize> = match strides.get(strides.len() / 2) {
        Some(stride) => (0..count)
            .map(|k| {
                let t = stride.ic_s + stride.duration_s() * k as f64 / count as f64;
                (t * evidence.fps).round() as usize
            })
            .collect(),
        None => {
            let total = evidence.frame_count().max(1);
            (0..count).map(|k| k * total / count.max(1)).collect()
        }
    };
    let grabbed = grab_frames(clip, &frames)?;
    let opencv_error = |doing: &'static str| {
        let path = out_png.to_path_buf();
        move |source| VisualError::OpenCv { path, doing, source }
    };
    // One crop box for the whole strip, so the runner does not jump between panels.
    let mut union: Option<Rect> = None;
    let mut tiles = Vec::new();
    for frame in &frames {
        if let Some(image) = grabbed.get(frame) {
            let rect = runner_box(
                evidence,
                *frame,
                (image.cols(), image.rows()),
                STRIP_LABEL_ROOM_PER_BODY,
            );
            union = Some(union.map_or(rect, |u| u | rect));
        }
    }
    for frame in &frames {
        let Some(image) = grabbed.get(frame) else {
            continue;
        };
        let mut image = image.try_clone().map_err(opencv_error("copying a frame"))?;
        let annotator = Annotator::new(evidence, analysis, image.cols(), image.rows());
        annotator
            .draw(
                &mut image,
                *frame,
                DrawOptions {
                    panel: false,
                    timeline: false,
                },
            )
            .map_err(opencv_error("drawing"))?;
        let rect = union.unwrap_or_else(|| Rect::new(0, 0, image.cols(), image.rows()));
        tiles.push(scaled(&image, rect, frame_height_px).map_err(opencv_error("scaling"))?);
    }
    let mut strip = Mat::default();
    let tiles: Vector<Mat> = tiles.into_iter().collect();
    opencv::core::hconcat(&tiles, &mut strip).map_err(opencv_error("joining the strip"))?;
    let mut png = Vector::<u8>::new();
    let params = Vector::<i32>::from_slice(&[imgcodecs::IMWRITE_PNG_COMPRESSION, 9]);
    imgcodecs::imencode(".png", &strip, &mut png, &params).map_err(opencv_error("encoding the strip"))?;
    output::write_atomically(out_png, png.as_slice())?;
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventMethod;

    fn step(index: usize, side: Side, angle: f64) -> Step {
        Step {
            index,
            measured: true,
            side,
            ic_s: index as f64 * 0.35,
            to_s: index as f64 * 0.35 + 0.25,
            midstance_s: index as f64 * 0.35 + 0.125,
            ic_method: EventMethod::ZeniCalibratedByFootHeight,
            to_method: EventMethod::ZeniCalibratedByFootHeight,
            foot_strike_class: None,
            landmark_confidence: 0.9,
            values: BTreeMap::from([(MetricId::FootStrikeAngleDeg, angle)]),
            withheld: BTreeMap::new(),
            confidence: BTreeMap::new(),
        }
    }

    #[test]
    fn the_typical_step_is_a_measured_one_whose_landmarks_held() {
        let mut steps: Vec<Step> = [2.0, 5.0, 8.0, 3.0, 4.0, 4.6, 0.0]
            .iter()
            .enumerate()
            .map(|(i, angle)| step(i, Side::Right, *angle))
            .collect();
        // Of all seven the median is 4°, of the measured ones 4.6°; but those two had a value withheld as a
        // pose-model glitch, and steps 3 and 6 lie outside the measured running: the typical step is the median
        // (5°) of the three measured steps that held.
        let withhold = |steps: &mut Vec<Step>, held: [(usize, MetricId, Withheld); 2]| {
            for (index, metric, why) in held {
                steps[index].withheld.insert(metric, why);
            }
        };
        withhold(
            &mut steps,
            [
                (4, MetricId::KneeFlexionPeakStanceDeg, Withheld::Outlier),
                (5, MetricId::FootStrikeAngleDeg, Withheld::LowConfidence),
            ],
        );
        steps[3].measured = false;
        steps[6].measured = false;
        assert_eq!(typical_step(&steps, Side::Right).map(|s| s.index), Some(1));
        // Values absent for the whole clip or hidden on the far leg say nothing about the step's own landmarks.
        withhold(
            &mut steps,
            [
                (1, MetricId::ContactTimeMs, Withheld::MetricAbsent),
                (1, MetricId::KneeFlexionPeakStanceDeg, Withheld::FarLegHidden),
            ],
        );
        assert_eq!(typical_step(&steps, Side::Right).map(|s| s.index), Some(1));
        // With no step that held, the measured ones serve; with none measured, all of them.
        for s in &mut steps {
            s.withheld.insert(MetricId::KneeFlexionIcDeg, Withheld::LowConfidence);
        }
        assert_eq!(typical_step(&steps, Side::Right).map(|s| s.index), Some(5));
        for s in &mut steps {
            s.measured = false;
        }
        assert_eq!(typical_step(&steps, Side::Right).map(|s| s.index), Some(4));
        assert!(typical_step(&steps, Side::Left).is_none());
    }
}
