//! Drawing the evidence onto a video frame: the skeleton, the measured angles as arcs against the belt at the
//! joints (trunk, thigh, shank, foot; the pelvis in a rear view), initial-contact and toe-off markers, a gait
//! timeline and a panel with the clip's metrics. Shared by the overlay video and the report's stills.
//!
//! The geometry is kept apart from OpenCV ([`arc_points`], [`belt_up_in_image`], [`belt_forward_in_image`]) so
//! that it can be tested: every arc starts on the belt's reference direction and ends on the segment, so its
//! opening is the angle the metric measured (the belt frame is the image rotated by the camera roll, and a
//! rotation keeps angles).

use opencv::core::{Mat, Point, Rect, Scalar};
use opencv::imgproc;
use opencv::prelude::*;

use crate::analysis::Analysis;
use crate::landmarks::LandmarkId;
use crate::metrics::MetricId;
use crate::metrics::series::LegIds;
use crate::track::{BeltFrame, Side, View};

use super::evidence::Evidence;

/// Left side colour, BGR (the plots' #1f77b4).
pub const LEFT_BGR: (f64, f64, f64) = (180.0, 119.0, 31.0);
/// Right side colour, BGR (the plots' #ff7f0e).
pub const RIGHT_BGR: (f64, f64, f64) = (14.0, 127.0, 255.0);
/// Left side colour for HTML and SVG.
pub const LEFT_CSS: &str = "#1f77b4";
/// Right side colour for HTML and SVG.
pub const RIGHT_CSS: &str = "#ff7f0e";
/// Colour of the angle arcs and their labels, BGR (yellow).
const ARC_BGR: (f64, f64, f64) = (0.0, 230.0, 255.0);
/// Colour of the trunk and the reference lines, BGR.
const NEUTRAL_BGR: (f64, f64, f64) = (240.0, 240.0, 240.0);
/// Frame size (longer side) at which line widths and fonts have their nominal size, pixels.
const NOMINAL_FRAME_PX: f64 = 1280.0;
/// Smallest drawing scale, so that small test clips still get legible marks.
const MIN_DRAW_SCALE: f64 = 0.4;
/// Radius of the angle arcs, fraction of the leg length (thigh + shank).
const ARC_RADIUS_PER_LEG: f64 = 0.16;
/// Length of the dashed reference lines, multiple of the arc radius.
const REFERENCE_LENGTH_PER_RADIUS: f64 = 1.8;
/// Points per arc polyline.
const ARC_POINT_COUNT: usize = 24;
/// How long an initial-contact or toe-off marker stays on screen after the event, seconds.
const EVENT_MARKER_HOLD_S: f64 = 0.12;
/// Height of one side's row of the gait timeline at the nominal frame size, pixels (fits the "L"/"R" label).
const TIMELINE_ROW_PX: f64 = 22.0;
/// Drawing scale, as seen after scaling for display, of stills ([`Annotator::for_display_scale`]).
const STILL_TEXT_SCALE: f64 = 0.85;
/// How much the panel and timeline backgrounds keep of the picture under them, 0..1.
const PANEL_BACKGROUND_KEEP: f64 = 0.35;

/// The skeleton's segments: (from, to, which side's colour; `None` = neutral).
const SKELETON: [(LandmarkId, LandmarkId, Option<Side>); 18] = [
    (LandmarkId::LeftShoulder, LandmarkId::RightShoulder, None),
    (LandmarkId::LeftHip, LandmarkId::RightHip, None),
    (LandmarkId::LeftShoulder, LandmarkId::LeftElbow, Some(Side::Left)),
    (LandmarkId::LeftElbow, LandmarkId::LeftWrist, Some(Side::Left)),
    (LandmarkId::LeftShoulder, LandmarkId::LeftHip, Some(Side::Left)),
    (LandmarkId::LeftHip, LandmarkId::LeftKnee, Some(Side::Left)),
    (LandmarkId::LeftKnee, LandmarkId::LeftAnkle, Some(Side::Left)),
    (LandmarkId::LeftAnkle, LandmarkId::LeftHeel, Some(Side::Left)),
    (LandmarkId::LeftHeel, LandmarkId::LeftFootIndex, Some(Side::Left)),
    (LandmarkId::LeftAnkle, LandmarkId::LeftFootIndex, Some(Side::Left)),
    (LandmarkId::RightShoulder, LandmarkId::RightElbow, Some(Side::Right)),
    (LandmarkId::RightElbow, LandmarkId::RightWrist, Some(Side::Right)),
    (LandmarkId::RightShoulder, LandmarkId::RightHip, Some(Side::Right)),
    (LandmarkId::RightHip, LandmarkId::RightKnee, Some(Side::Right)),
    (LandmarkId::RightKnee, LandmarkId::RightAnkle, Some(Side::Right)),
    (LandmarkId::RightAnkle, LandmarkId::RightHeel, Some(Side::Right)),
    (LandmarkId::RightHeel, LandmarkId::RightFootIndex, Some(Side::Right)),
    (LandmarkId::RightAnkle, LandmarkId::RightFootIndex, Some(Side::Right)),
];

/// The joints marked with a dot (hands and face points other than the nose would clutter the picture).
const JOINTS: [LandmarkId; 16] = [
    LandmarkId::LeftShoulder,
    LandmarkId::RightShoulder,
    LandmarkId::LeftElbow,
    LandmarkId::RightElbow,
    LandmarkId::LeftWrist,
    LandmarkId::RightWrist,
    LandmarkId::LeftHip,
    LandmarkId::RightHip,
    LandmarkId::LeftKnee,
    LandmarkId::RightKnee,
    LandmarkId::LeftAnkle,
    LandmarkId::RightAnkle,
    LandmarkId::LeftHeel,
    LandmarkId::RightHeel,
    LandmarkId::LeftFootIndex,
    LandmarkId::RightFootIndex,
];

/// The panel's last line: how to read the drawing.
const PANEL_KEY: &str = "angles in deg vs belt; ! = flagged";

/// The panel's line where the toe-offs cannot be trusted (the HTML report gives the reason).
const UNTRUSTED_TOE_OFFS_LINE: &str = "Toe-offs not marked: untrusted";

/// The metrics the panel lists, with short names, in order.
const PANEL_METRICS: [(MetricId, &str); 10] = [
    (MetricId::CadenceStepsPerMin, "Cadence"),
    (MetricId::ContactTimeMs, "Contact"),
    (MetricId::TrunkLeanMidstanceDeg, "Trunk lean MS"),
    (MetricId::FootStrikeAngleDeg, "Foot strike"),
    (MetricId::TibiaAngleIcDeg, "Tibia at IC"),
    (MetricId::OverstridePctLegLength, "Overstride"),
    (MetricId::KneeFlexionPeakStanceDeg, "Knee flex peak"),
    (MetricId::HipExtensionPeakDeg, "Hip ext peak"),
    (MetricId::VerticalOscillationPctLegLength, "Vert. osc."),
    (MetricId::PelvicDropMidstanceDeg, "Pelvic drop"),
];

/// The belt's "up" direction in image coordinates (y down), unit length.
pub fn belt_up_in_image(belt: &BeltFrame) -> (f64, f64) {
    let (sin, cos) = belt.roll_rad.sin_cos();
    (sin, -cos)
}

/// The runner's forward direction along the belt in image coordinates, unit length.
pub fn belt_forward_in_image(belt: &BeltFrame) -> (f64, f64) {
    let (sin, cos) = belt.roll_rad.sin_cos();
    (belt.forward_sign * cos, belt.forward_sign * sin)
}

/// Points of the arc centred on `vertex` with `radius`, from direction `from` to direction `to` the short way
/// round (directions need not be unit length). Empty when either direction is zero or not finite.
pub fn arc_points(vertex: (f64, f64), from: (f64, f64), to: (f64, f64), radius: f64, count: usize) -> Vec<(f64, f64)> {
    let start = from.1.atan2(from.0);
    let end = to.1.atan2(to.0);
    let lengths_ok = [from, to]
        .iter()
        .all(|d| d.0.is_finite() && d.1.is_finite() && d.0.hypot(d.1) > 0.0);
    if !lengths_ok || count < 2 {
        return Vec::new();
    }
    let mut delta = end - start;
    while delta > std::f64::consts::PI {
        delta -= std::f64::consts::TAU;
    }
    while delta <= -std::f64::consts::PI {
        delta += std::f64::consts::TAU;
    }
    (0..count)
        .map(|k| {
            let angle = start + delta * k as f64 / (count - 1) as f64;
            (vertex.0 + radius * angle.cos(), vertex.1 + radius * angle.sin())
        })
        .collect()
}

/// The opening of the arc between two directions, degrees (0..180).
pub fn opening_deg(from: (f64, f64), to: (f64, f64)) -> f64 {
    let dot = from.0 * to.0 + from.1 * to.1;
    let cross = from.0 * to.1 - from.1 * to.0;
    cross.atan2(dot).abs().to_degrees()
}

fn bgr((b, g, r): (f64, f64, f64)) -> Scalar {
    Scalar::new(b, g, r, 0.0)
}

fn side_bgr(side: Option<Side>) -> Scalar {
    match side {
        Some(Side::Left) => bgr(LEFT_BGR),
        Some(Side::Right) => bgr(RIGHT_BGR),
        None => bgr(NEUTRAL_BGR),
    }
}

fn pt(p: (f64, f64)) -> Point {
    Point::new(p.0.round() as i32, p.1.round() as i32)
}

fn sub(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (a.0 - b.0, a.1 - b.1)
}

fn mid(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (0.5 * (a.0 + b.0), 0.5 * (a.1 + b.1))
}

fn unit(d: (f64, f64)) -> (f64, f64) {
    let length = d.0.hypot(d.1);
    if length > 0.0 { (d.0 / length, d.1 / length) } else { d }
}

/// What to draw besides the skeleton and angles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawOptions {
    /// The metrics panel (top left).
    pub panel: bool,
    /// The gait timeline (bottom).
    pub timeline: bool,
}

/// Draws one clip's evidence onto its frames.
pub struct Annotator<'a> {
    evidence: &'a Evidence,
    analysis: &'a Analysis,
    panel_lines: Vec<(String, bool)>,
    /// The events marked, see [`shown_events`].
    events: Vec<(f64, Side, Event)>,
    /// The stances on the timeline, see [`stance_spans`].
    stances: Vec<(Side, f64, Option<f64>)>,
    scale: f64,
    arc_radius_px: f64,
}

impl<'a> Annotator<'a> {
    /// An annotator for frames of `width_px` × `height_px`.
    pub fn new(evidence: &'a Evidence, analysis: &'a Analysis, width_px: i32, height_px: i32) -> Annotator<'a> {
        let scale = (f64::from(width_px.max(height_px)) / NOMINAL_FRAME_PX).max(MIN_DRAW_SCALE);
        let arc_radius_px = analysis
            .leg_length_px
            .map_or(40.0 * scale, |leg| ARC_RADIUS_PER_LEG * leg);
        Annotator {
            evidence,
            analysis,
            panel_lines: panel_lines(analysis),
            events: shown_events(analysis),
            stances: stance_spans(analysis),
            scale,
            arc_radius_px,
        }
    }

    /// The same annotator with line widths and fonts sized for a picture that will be shown scaled by
    /// `shown_per_drawn` (a still cropped and scaled down draws bolder so that it reads at its shown size).
    pub fn for_display_scale(mut self, shown_per_drawn: f64) -> Annotator<'a> {
        if shown_per_drawn.is_finite() && shown_per_drawn > 0.0 {
            self.scale = (STILL_TEXT_SCALE / shown_per_drawn).max(MIN_DRAW_SCALE);
        }
        self
    }

    fn thickness(&self, nominal: f64) -> i32 {
        (nominal * self.scale).round().max(1.0) as i32
    }

    fn font_scale(&self) -> f64 {
        0.62 * self.scale
    }

    /// The leg whose angles are drawn at `frame`: the foot that last touched down (its stance and the swing
    /// after it), else the side nearer the camera.
    pub fn active_side(&self, frame: usize) -> Option<Side> {
        let time_s = frame as f64 / self.evidence.fps;
        self.analysis
            .steps
            .iter()
            .filter(|step| step.ic_s <= time_s + 0.5 / self.evidence.fps)
            .max_by(|a, b| a.ic_s.total_cmp(&b.ic_s))
            .map(|step| step.side)
            .or(self.analysis.near_side)
    }

    /// Draws everything for decoded frame `frame` onto `image` (8-bit BGR).
    pub fn draw(&self, image: &mut Mat, frame: usize, options: DrawOptions) -> opencv::Result<()> {
        self.draw_with(image, frame, options, self.active_side(frame))
    }

    /// Draws the skeleton, the angles of `side`'s leg and the events (no panel, no timeline): a still.
    pub fn draw_for_side(&self, image: &mut Mat, frame: usize, side: Side) -> opencv::Result<()> {
        let options = DrawOptions {
            panel: false,
            timeline: false,
        };
        self.draw_with(image, frame, options, Some(side))
    }

    fn draw_with(
        &self,
        image: &mut Mat,
        frame: usize,
        options: DrawOptions,
        active: Option<Side>,
    ) -> opencv::Result<()> {
        if frame < self.evidence.frame_count() {
            self.draw_skeleton(image, frame, active)?;
            match self.evidence.view {
                View::Side | View::Oblique => self.draw_side_angles(image, frame, active)?,
                View::Rear | View::Front => self.draw_pelvis(image, frame)?,
            }
            self.draw_events(image, frame)?;
        }
        if options.timeline {
            self.draw_timeline(image, frame)?;
        }
        if options.panel {
            self.draw_panel(image, frame)?;
        }
        Ok(())
    }

    fn draw_skeleton(&self, image: &mut Mat, frame: usize, active: Option<Side>) -> opencv::Result<()> {
        for (from, to, side) in SKELETON {
            let (Some(a), Some(b)) = (self.evidence.point(from, frame), self.evidence.point(to, frame)) else {
                continue;
            };
            // The leg being measured is drawn bolder than the other.
            let nominal = if side.is_some() && side == active { 4.0 } else { 2.5 };
            imgproc::line(
                image,
                pt(a),
                pt(b),
                side_bgr(side),
                self.thickness(nominal),
                imgproc::LINE_AA,
                0,
            )?;
        }
        for id in JOINTS {
            if let Some(p) = self.evidence.point(id, frame) {
                imgproc::circle(
                    image,
                    pt(p),
                    self.thickness(3.5),
                    bgr(NEUTRAL_BGR),
                    -1,
                    imgproc::LINE_AA,
                    0,
                )?;
            }
        }
        if let Some(nose) = self.evidence.point(LandmarkId::Nose, frame) {
            imgproc::circle(
                image,
                pt(nose),
                self.thickness(5.0),
                bgr(NEUTRAL_BGR),
                -1,
                imgproc::LINE_AA,
                0,
            )?;
        }
        Ok(())
    }

    /// One angle: a dashed reference line from `vertex` along `reference`, an arc to `segment`, and a label.
    fn draw_angle(
        &self,
        image: &mut Mat,
        vertex: (f64, f64),
        reference: (f64, f64),
        segment: (f64, f64),
        label: &str,
    ) -> opencv::Result<()> {
        let radius = self.arc_radius_px;
        let reference = unit(reference);
        let length = REFERENCE_LENGTH_PER_RADIUS * radius;
        draw_dashed(
            image,
            vertex,
            (vertex.0 + length * reference.0, vertex.1 + length * reference.1),
            bgr(NEUTRAL_BGR),
            self.thickness(1.5),
            self.thickness(8.0),
        )?;
        let arc = arc_points(vertex, reference, segment, radius, ARC_POINT_COUNT);
        for (&from, &to) in arc.iter().zip(arc.iter().skip(1)) {
            imgproc::line(
                image,
                pt(from),
                pt(to),
                bgr(ARC_BGR),
                self.thickness(2.5),
                imgproc::LINE_AA,
                0,
            )?;
        }
        // The label sits outside the arc, on its bisector.
        let bisector = unit((unit(segment).0 + reference.0, unit(segment).1 + reference.1));
        let bisector = if bisector.0.hypot(bisector.1) > 0.5 {
            bisector
        } else {
            reference
        };
        let anchor = (
            vertex.0 + 1.35 * radius * bisector.0,
            vertex.1 + 1.35 * radius * bisector.1,
        );
        self.draw_text(image, label, anchor, bgr(ARC_BGR), true)
    }

    fn draw_side_angles(&self, image: &mut Mat, frame: usize, active: Option<Side>) -> opencv::Result<()> {
        // The trunk, thigh and shank are drawn against the vertical they are measured from, the foot against the
        // belt line.
        let up = belt_up_in_image(self.evidence.upright.at(frame));
        let down = (-up.0, -up.1);
        let forward = belt_forward_in_image(self.evidence.belt.at(frame));
        let kinematics = &self.evidence.kinematics;
        let point = |id| self.evidence.point(id, frame);
        if let (Some(ls), Some(rs), Some(lh), Some(rh)) = (
            point(LandmarkId::LeftShoulder),
            point(LandmarkId::RightShoulder),
            point(LandmarkId::LeftHip),
            point(LandmarkId::RightHip),
        ) {
            let (shoulder, hip) = (mid(ls, rs), mid(lh, rh));
            imgproc::line(
                image,
                pt(hip),
                pt(shoulder),
                bgr(NEUTRAL_BGR),
                self.thickness(4.0),
                imgproc::LINE_AA,
                0,
            )?;
            if let Some(lean) = kinematics.trunk_lean_deg.get(frame).filter(|v| v.is_finite()) {
                self.draw_angle(image, hip, up, sub(shoulder, hip), &format!("trunk {}", whole(*lean)))?;
            }
        }
        let Some(side) = active else {
            return Ok(());
        };
        let ids = LegIds::of(side);
        let leg = kinematics.leg(side);
        let value = |series: &[f64]| series.get(frame).copied().filter(|v| v.is_finite());
        if let (Some(hip), Some(knee), Some(thigh)) = (point(ids.hip), point(ids.knee), value(&leg.thigh_deg)) {
            self.draw_angle(image, hip, down, sub(knee, hip), &format!("thigh {}", whole(thigh)))?;
        }
        if let (Some(knee), Some(ankle), Some(shank)) = (point(ids.knee), point(ids.ankle), value(&leg.shank_deg)) {
            let flexion = value(&leg.knee_flexion_deg).map_or(String::new(), |k| format!(" knee {}", whole(k)));
            self.draw_angle(
                image,
                knee,
                down,
                sub(ankle, knee),
                &format!("shank {}{flexion}", whole(shank)),
            )?;
        }
        if let (Some(heel), Some(toe), Some(sole)) = (point(ids.heel), point(ids.toe), value(&leg.sole_deg)) {
            self.draw_angle(image, heel, forward, sub(toe, heel), &format!("foot {}", whole(sole)))?;
        }
        Ok(())
    }

    fn draw_pelvis(&self, image: &mut Mat, frame: usize) -> opencv::Result<()> {
        let point = |id| self.evidence.point(id, frame);
        let (Some(left), Some(right)) = (point(LandmarkId::LeftHip), point(LandmarkId::RightHip)) else {
            return Ok(());
        };
        let forward = belt_forward_in_image(self.evidence.belt.at(frame));
        // Measure from the hip midpoint towards whichever hip lies in the +x direction of the belt.
        let centre = mid(left, right);
        let towards = if sub(right, left).0 * forward.0 >= 0.0 {
            sub(right, centre)
        } else {
            sub(left, centre)
        };
        imgproc::line(
            image,
            pt(left),
            pt(right),
            bgr(NEUTRAL_BGR),
            self.thickness(4.0),
            imgproc::LINE_AA,
            0,
        )?;
        if let Some(obliquity) = self
            .evidence
            .kinematics
            .pelvic_obliquity_deg
            .get(frame)
            .filter(|v| v.is_finite())
        {
            self.draw_angle(image, centre, forward, towards, &format!("pelvis {obliquity:.1}"))?;
        }
        Ok(())
    }

    fn draw_events(&self, image: &mut Mat, frame: usize) -> opencv::Result<()> {
        let fps = self.evidence.fps;
        let hold = EVENT_MARKER_HOLD_S * fps;
        for &(time_s, side, event) in &self.events {
            let ids = LegIds::of(side);
            let color = side_bgr(Some(side));
            let side_letter = side_letter(side);
            let (landmark, name) = match event {
                Event::InitialContact => (ids.heel, "IC"),
                Event::ToeOff => (ids.toe, "TO"),
            };
            let since = frame as f64 - time_s * fps;
            if !(-0.5..hold).contains(&since) {
                continue;
            }
            let Some(p) = self.evidence.point(landmark, frame) else {
                continue;
            };
            let radius = self.thickness(16.0);
            imgproc::circle(image, pt(p), radius, color, self.thickness(3.0), imgproc::LINE_AA, 0)?;
            let label = format!("{name} {side_letter}");
            self.draw_text(
                image,
                &label,
                (p.0 + 1.3 * f64::from(radius), p.1 + 1.8 * f64::from(radius)),
                color,
                true,
            )?;
        }
        Ok(())
    }

    fn draw_timeline(&self, image: &mut Mat, frame: usize) -> opencv::Result<()> {
        let (width, height) = (image.cols(), image.rows());
        let frame_count = self.evidence.frame_count().max(1) as f64;
        let row_px = (TIMELINE_ROW_PX * self.scale).round().max(8.0) as i32;
        let margin = (10.0 * self.scale).round() as i32;
        let label_px = (24.0 * self.scale).round() as i32;
        let top = height - margin - 2 * row_px - margin;
        let area = Rect::new(0, top - margin / 2, width, height - (top - margin / 2));
        darken(image, area)?;
        let left_x = margin + label_px;
        let right_x = width - margin;
        let x_of = |f: f64| left_x + ((f / frame_count) * f64::from(right_x - left_x)).round() as i32;
        for (row, side) in [Side::Left, Side::Right].into_iter().enumerate() {
            let y = top + row as i32 * row_px;
            self.draw_text(
                image,
                side_letter(side),
                (f64::from(margin), f64::from(y) + 0.85 * f64::from(row_px)),
                side_bgr(Some(side)),
                false,
            )?;
            for &(_, ic_s, to_s) in self.stances.iter().filter(|(foot, _, _)| *foot == side) {
                let x0 = x_of(ic_s * self.evidence.fps);
                // A contact whose toe-off is not shown is a tick, not a bar.
                let x1 = to_s.map_or(x0 + self.thickness(3.0), |to_s| {
                    x_of(to_s * self.evidence.fps).max(x0 + 1)
                });
                let bar = Rect::new(x0, y + row_px / 4, x1 - x0, (row_px / 2).max(1));
                imgproc::rectangle(image, bar, side_bgr(Some(side)), -1, imgproc::LINE_8, 0)?;
            }
        }
        let cursor = x_of(frame as f64);
        imgproc::line(
            image,
            Point::new(cursor, top - 2),
            Point::new(cursor, top + 2 * row_px + 2),
            bgr(NEUTRAL_BGR),
            self.thickness(2.0),
            imgproc::LINE_8,
            0,
        )?;
        Ok(())
    }

    fn draw_panel(&self, image: &mut Mat, frame: usize) -> opencv::Result<()> {
        let line_px = (26.0 * self.scale).round().max(10.0);
        let margin = (12.0 * self.scale).round().max(4.0);
        let time_s = frame as f64 / self.evidence.fps;
        let header = format!("t {time_s:.2} s  frame {frame}");
        // (text, flagged): the clock, the clip's metrics, and how to read the drawing.
        let lines = std::iter::once((header.as_str(), false))
            .chain(self.panel_lines.iter().map(|(text, flagged)| (text.as_str(), *flagged)))
            .chain(std::iter::once((PANEL_KEY, false)));
        let mut widest = 0;
        let mut count = 0;
        for (text, _) in lines.clone() {
            let mut baseline = 0;
            let size = imgproc::get_text_size(
                text,
                imgproc::FONT_HERSHEY_SIMPLEX,
                self.font_scale(),
                self.thickness(1.6),
                &mut baseline,
            )?;
            widest = widest.max(size.width);
            count += 1;
        }
        let width = (f64::from(widest) + 2.0 * margin) as i32;
        let height = (f64::from(count) * line_px + margin) as i32;
        darken(
            image,
            Rect::new(0, 0, width.min(image.cols()), height.min(image.rows())),
        )?;
        for (index, (text, flagged)) in lines.enumerate() {
            let color = if flagged {
                Scalar::new(80.0, 80.0, 255.0, 0.0)
            } else {
                bgr(NEUTRAL_BGR)
            };
            self.draw_text(
                image,
                text,
                (margin, margin + line_px * (index as f64 + 0.75)),
                color,
                false,
            )?;
        }
        Ok(())
    }

    fn draw_text(
        &self,
        image: &mut Mat,
        text: &str,
        origin: (f64, f64),
        color: Scalar,
        outline: bool,
    ) -> opencv::Result<()> {
        let font = imgproc::FONT_HERSHEY_SIMPLEX;
        let scale = self.font_scale();
        let thickness = self.thickness(1.6);
        // Keep the whole label inside the picture: a joint near the edge gets its label pulled in.
        let mut baseline = 0;
        let size = imgproc::get_text_size(text, font, scale, thickness, &mut baseline)?;
        let origin = clamp_text_origin(origin, (size.width, size.height), (image.cols(), image.rows()));
        if outline {
            imgproc::put_text(
                image,
                text,
                pt(origin),
                font,
                scale,
                Scalar::all(0.0),
                thickness + self.thickness(2.5),
                imgproc::LINE_AA,
                false,
            )?;
        }
        imgproc::put_text(
            image,
            text,
            pt(origin),
            font,
            scale,
            color,
            thickness,
            imgproc::LINE_AA,
            false,
        )
    }
}

/// Moves a text origin (bottom left) so that a text of `size` lies inside an image of `image_size`.
pub fn clamp_text_origin(origin: (f64, f64), size: (i32, i32), image_size: (i32, i32)) -> (f64, f64) {
    let max_x = f64::from((image_size.0 - size.0).max(0));
    let max_y = f64::from(image_size.1.max(size.1));
    (origin.0.clamp(0.0, max_x), origin.1.clamp(f64::from(size.1), max_y))
}

/// `value` rounded to a whole number, without the "-0" that a small negative value would print.
pub fn whole(value: f64) -> String {
    let rounded = value.round();
    if rounded == 0.0 {
        "0".into()
    } else {
        format!("{rounded:.0}")
    }
}

fn side_letter(side: Side) -> &'static str {
    match side {
        Side::Left => "L",
        Side::Right => "R",
    }
}

/// A gait event the overlay marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    InitialContact,
    ToeOff,
}

/// The events the overlay marks, (time in seconds, foot, event): every initial contact, and every toe-off unless
/// the toe-offs cannot be trusted ([`Analysis::untrusted_toe_offs`]) — a marked toe-off is a number too.
fn shown_events(analysis: &Analysis) -> Vec<(f64, Side, Event)> {
    let toe_offs = analysis.untrusted_toe_offs().is_none();
    analysis
        .steps
        .iter()
        .flat_map(|step| {
            let toe_off = toe_offs.then_some((step.to_s, step.side, Event::ToeOff));
            std::iter::once((step.ic_s, step.side, Event::InitialContact)).chain(toe_off)
        })
        .collect()
}

/// The stances on the timeline, (foot, IC, TO) in seconds, with no TO where the toe-offs cannot be trusted.
fn stance_spans(analysis: &Analysis) -> Vec<(Side, f64, Option<f64>)> {
    let toe_offs = analysis.untrusted_toe_offs().is_none();
    analysis
        .steps
        .iter()
        .map(|step| (step.side, step.ic_s, toe_offs.then_some(step.to_s)))
        .collect()
}

/// The panel's metric lines: (text, whether a flag was raised on the metric), and a line saying that toe-offs
/// are not marked where they cannot be trusted.
fn panel_lines(analysis: &Analysis) -> Vec<(String, bool)> {
    let mut lines = Vec::new();
    for (metric, name) in PANEL_METRICS {
        let Some(summary) = analysis.metric(metric) else {
            continue;
        };
        let Some(both) = &summary.both else {
            continue;
        };
        let unit = if metric.unit() == "% leg length" {
            "% leg"
        } else {
            metric.unit()
        };
        let text = match (&summary.left, &summary.right) {
            (Some(left), Some(right)) if metric != MetricId::CadenceStepsPerMin => {
                format!("{name}  L {}  R {} {unit}", whole(left.mean), whole(right.mean))
            }
            _ => format!("{name}  {} {unit}", whole(both.mean)),
        };
        let flagged = analysis.flags.iter().any(|flag| flag.metric == metric);
        lines.push((if flagged { format!("{text}  !") } else { text }, flagged));
    }
    if analysis.untrusted_toe_offs().is_some() {
        lines.push((UNTRUSTED_TOE_OFFS_LINE.to_owned(), false));
    }
    lines
}

/// Dims the picture inside `area` so that text on it is readable.
fn darken(image: &mut Mat, area: Rect) -> opencv::Result<()> {
    let area = area & Rect::new(0, 0, image.cols(), image.rows());
    if area.width <= 0 || area.height <= 0 {
        return Ok(());
    }
    let channels = image.channels() as usize;
    if !image.is_continuous() || image.depth() != opencv::core::CV_8U {
        return imgproc::rectangle(image, area, Scalar::all(0.0), -1, imgproc::LINE_8, 0);
    }
    let row_bytes = image.cols() as usize * channels;
    if row_bytes == 0 {
        return Ok(());
    }
    let (span_start, span_end) = (area.x as usize * channels, (area.x + area.width) as usize * channels);
    let data = image.data_bytes_mut()?;
    let rows = data
        .chunks_exact_mut(row_bytes)
        .skip(area.y as usize)
        .take(area.height as usize);
    for row in rows {
        // The area was clipped to the image above, so its span always lies within the row.
        for byte in row.get_mut(span_start..span_end).unwrap_or_default() {
            *byte = (f64::from(*byte) * PANEL_BACKGROUND_KEEP) as u8;
        }
    }
    Ok(())
}

/// A dashed line (OpenCV draws only solid ones).
fn draw_dashed(
    image: &mut Mat,
    from: (f64, f64),
    to: (f64, f64),
    color: Scalar,
    thickness: i32,
    dash_px: i32,
) -> opencv::Result<()> {
    let length = (to.0 - from.0).hypot(to.1 - from.1);
    let dash = f64::from(dash_px.max(2));
    let count = (length / dash).floor() as usize;
    for k in (0..count).step_by(2) {
        let a = k as f64 / count as f64;
        let b = ((k + 1) as f64 / count as f64).min(1.0);
        let p = (from.0 + a * (to.0 - from.0), from.1 + a * (to.1 - from.1));
        let q = (from.0 + b * (to.0 - from.0), from.1 + b * (to.1 - from.1));
        imgproc::line(image, pt(p), pt(q), color, thickness, imgproc::LINE_AA, 0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{AnalysisSettings, analyze_sequence};
    use crate::synthetic::{Corruption, SyntheticRunner};
    use crate::track::Facing;
    use opencv::core::{CV_8UC3, Vec3b};

    /// `runner`'s clean clip analysed with the default settings, and its evidence.
    fn analysed(runner: &SyntheticRunner) -> (Analysis, Evidence) {
        let sequence = runner.generate(&Corruption::default()).sequence;
        let settings = AnalysisSettings::default();
        let analysis = analyze_sequence(&sequence, &settings);
        let evidence = Evidence::new(&sequence, &analysis, &settings);
        (analysis, evidence)
    }

    #[test]
    fn drawn_arcs_sit_at_the_joints_of_a_rolled_left_facing_runner() {
        let runner = SyntheticRunner {
            facing: Facing::Left,
            camera_roll_deg: 4.0,
            width_px: 640,
            height_px: 480,
            px_per_m: 230.0,
            duration_s: 3.0,
            ..SyntheticRunner::default()
        };
        let (analysis, evidence) = analysed(&runner);
        assert!(
            (evidence.belt.clip.roll_rad.to_degrees() - 4.0).abs() < 1.5,
            "roll {}",
            evidence.belt.clip.roll_rad
        );
        assert_eq!(evidence.belt.clip.forward_sign, -1.0);
        let frame = 90;
        let mut image = Mat::new_rows_cols_with_default(480, 640, CV_8UC3, Scalar::all(0.0)).expect("image");
        let annotator = Annotator::new(&evidence, &analysis, 640, 480);
        let side = annotator.active_side(frame).expect("a leg is active");
        annotator.draw_for_side(&mut image, frame, side).expect("draw");
        // Arc pixels (yellow) must lie on the circle of the arc radius around the knee, on the shank's side.
        let ids = LegIds::of(side);
        let knee = evidence.point(ids.knee, frame).expect("knee");
        let ankle = evidence.point(ids.ankle, frame).expect("ankle");
        let radius = annotator.arc_radius_px;
        let mut on_circle = 0;
        for y in 0..480 {
            for x in 0..640 {
                let pixel = image.at_2d::<Vec3b>(y, x).expect("pixel");
                let yellow = pixel[0] < 60 && pixel[1] > 180 && pixel[2] > 200;
                let distance = (f64::from(x) - knee.0).hypot(f64::from(y) - knee.1);
                if yellow && (distance - radius).abs() < 2.5 {
                    on_circle += 1;
                }
            }
        }
        assert!(
            on_circle > 5,
            "no arc around the knee ({on_circle} pixels, radius {radius:.1})"
        );
        // The arc's far end points along the shank: a yellow pixel sits where the shank crosses the circle.
        let shank = unit(sub(ankle, knee));
        let end = (knee.0 + radius * shank.0, knee.1 + radius * shank.1);
        let near_end = (-3..=3)
            .flat_map(|dy| (-3..=3).map(move |dx| (dx, dy)))
            .any(|(dx, dy)| {
                let (x, y) = (end.0.round() as i32 + dx, end.1.round() as i32 + dy);
                image
                    .at_2d::<Vec3b>(y, x)
                    .is_ok_and(|p| p[0] < 60 && p[1] > 180 && p[2] > 200)
            });
        assert!(near_end, "the arc does not reach the shank at {end:?}");
    }

    #[test]
    fn the_overlay_marks_toe_offs_and_stance_bars_only_where_the_toe_offs_are_trusted() {
        let runner = SyntheticRunner {
            width_px: 640,
            height_px: 480,
            duration_s: 4.0,
            ..SyntheticRunner::default()
        };
        let (analysis, evidence) = analysed(&runner);
        // (toe-offs marked, left-foot pixels on the timeline, whether the panel says the toe-offs are not marked)
        let shown = |analysis: &Analysis| {
            let toe_offs = shown_events(analysis)
                .iter()
                .filter(|(_, _, event)| *event == Event::ToeOff)
                .count();
            let mut image = Mat::new_rows_cols_with_default(480, 640, CV_8UC3, Scalar::all(0.0)).expect("image");
            Annotator::new(&evidence, analysis, 640, 480)
                .draw_timeline(&mut image, 0)
                .expect("timeline");
            let left = side_bgr(Some(Side::Left));
            let left_pixels = (0..480)
                .flat_map(|y| (0..640).map(move |x| (y, x)))
                .filter(|&(y, x)| {
                    let pixel = image.at_2d::<Vec3b>(y, x).expect("pixel");
                    (0..3).all(|channel| f64::from(pixel[channel]) == left[channel])
                })
                .count();
            let noted = panel_lines(analysis)
                .iter()
                .any(|(text, _)| text == UNTRUSTED_TOE_OFFS_LINE);
            (toe_offs, left_pixels, noted)
        };
        let (toe_offs, trusted_pixels, noted) = shown(&analysis);
        assert_eq!(toe_offs, analysis.steps.len());
        assert!(!noted);
        let analysis = analysis.with_toe_offs_distrusted("the toe-offs are uncalibrated");
        let (toe_offs, untrusted_pixels, noted) = shown(&analysis);
        assert_eq!(toe_offs, 0);
        assert!(noted);
        // Stance bars cover about a third of the row; ticks of 3 px (at this scale 1 px) a small part of it.
        assert!(
            3 * untrusted_pixels < trusted_pixels,
            "{untrusted_pixels} left pixels with ticks against {trusted_pixels} with bars"
        );
    }

    #[test]
    fn belt_directions_agree_with_the_belt_frame() {
        // Whatever the roll and facing, a step along "up" in the image is a step up in the belt frame, and a
        // step along "forward" is a step forward.
        for roll_deg in [-7.0f64, 0.0, 4.0] {
            for forward_sign in [1.0, -1.0] {
                let belt = BeltFrame {
                    roll_rad: roll_deg.to_radians(),
                    forward_sign,
                };
                let origin = belt.belt_from_image(100.0, 200.0);
                let up = belt_up_in_image(&belt);
                let moved = belt.belt_from_image(100.0 + up.0, 200.0 + up.1);
                assert!((moved.0 - origin.0).abs() < 1e-9 && (moved.1 - origin.1 - 1.0).abs() < 1e-9);
                let forward = belt_forward_in_image(&belt);
                let moved = belt.belt_from_image(100.0 + forward.0, 200.0 + forward.1);
                assert!((moved.0 - origin.0 - 1.0).abs() < 1e-9 && (moved.1 - origin.1).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn whole_numbers_never_read_minus_zero() {
        assert_eq!(whole(-0.3), "0");
        assert_eq!(whole(-0.6), "-1");
        assert_eq!(whole(12.5), "13");
    }

    #[test]
    fn labels_near_an_edge_are_pulled_inside_the_picture() {
        assert_eq!(
            clamp_text_origin((1050.0, 500.0), (100, 20), (1080, 1920)),
            (980.0, 500.0)
        );
        assert_eq!(clamp_text_origin((-5.0, 10.0), (100, 20), (1080, 1920)), (0.0, 20.0));
        assert_eq!(
            clamp_text_origin((10.0, 1950.0), (100, 20), (1080, 1920)),
            (10.0, 1920.0)
        );
    }

    #[test]
    fn arcs_run_from_the_reference_to_the_segment_the_short_way() {
        let vertex = (50.0, 50.0);
        // Reference straight down (image y grows down), shank 20 degrees forward of it (towards +x).
        let down = (0.0, 1.0);
        let shank = (20f64.to_radians().sin(), 20f64.to_radians().cos());
        let arc = arc_points(vertex, down, shank, 10.0, 21);
        assert_eq!(arc.len(), 21);
        assert!(
            (arc[0].0 - 50.0).abs() < 1e-9 && (arc[0].1 - 60.0).abs() < 1e-9,
            "starts on the reference"
        );
        let end = arc[20];
        assert!((end.0 - (50.0 + 10.0 * shank.0)).abs() < 1e-9 && (end.1 - (50.0 + 10.0 * shank.1)).abs() < 1e-9);
        // Every point is on the circle and the middle one halves the angle.
        assert!(arc.iter().all(|p| ((p.0 - 50.0).hypot(p.1 - 50.0) - 10.0).abs() < 1e-9));
        let middle = sub(arc[10], vertex);
        assert!((opening_deg(down, middle) - 10.0).abs() < 1e-9);
        assert!((opening_deg(down, shank) - 20.0).abs() < 1e-9);
        // Across the ±180° seam the arc still takes the short way (a 20° arc, not 340°).
        let left = (-1.0, 0.05);
        let left_below = (-1.0, -0.3);
        let arc = arc_points((0.0, 0.0), left, left_below, 1.0, 11);
        let swept: f64 = arc.windows(2).map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1)).sum();
        assert!(swept < 0.4, "swept {swept}");
        assert!(arc_points(vertex, (0.0, 0.0), shank, 10.0, 5).is_empty());
    }
}
