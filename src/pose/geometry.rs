//! Geometry shared by the detector and the landmark model: regions of interest (ROIs) from two alignment points,
//! the crop that maps a rotated ROI onto a model's square input, and the projection of crop coordinates back into
//! the image.
//!
//! Everything follows MediaPipe's calculators to the letter (see `../shared/docs/blazepose-pipeline.md` §1, §5,
//! §7), in image pixels rather than MediaPipe's normalised units; for square ROIs the two are the same maths.
//! - ROI: `AlignmentPointsRectsCalculator` + `RectTransformationCalculator` (scale 1.25, `square_long`).
//! - Crop: `ImageToTensorCalculator`'s OpenCV path: `cv::boxPoints` of the rotated rectangle mapped corner to
//!   corner onto the output (`getPerspectiveTransform` + `warpPerspective`).
//! - Projection: `LandmarkProjectionCalculator` and `WorldLandmarkProjectionCalculator`.

use std::f32::consts::PI;

use crate::landmarks::Roi;

/// `rotation_vector_target_angle_degrees` of MediaPipe's alignment-point ROI: the body axis points up.
pub const ROI_TARGET_ANGLE_RAD: f32 = PI / 2.0;

/// `RectTransformationCalculator` scale applied to the alignment-point square (both axes).
pub const ROI_SCALE: f32 = 1.25;

/// A point in image pixels (x right, y down).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PointPx {
    /// Pixels from the left edge.
    pub x: f32,
    /// Pixels from the top edge.
    pub y: f32,
}

/// Wraps an angle into [-π, π), as MediaPipe's `NormalizeRadians`.
pub fn normalized_radians(angle_rad: f32) -> f32 {
    angle_rad - 2.0 * PI * ((angle_rad + PI) / (2.0 * PI)).floor()
}

/// The landmark model's ROI from two alignment points: `center` (detector keypoint 0 or auxiliary landmark 33)
/// and `scale_point` (keypoint 1 or landmark 34).
///
/// Centre = `center`; side = 2·|scale_point − center| then ×[`ROI_SCALE`] (square_long of a square is itself);
/// rotation = normalize(π/2 − atan2(−(y1−y0), x1−x0)).
pub fn roi_from_alignment_points(center: PointPx, scale_point: PointPx) -> Roi {
    let dx = scale_point.x - center.x;
    let dy = scale_point.y - center.y;
    let box_size_px = (dx * dx + dy * dy).sqrt() * 2.0;
    let rotation_rad = normalized_radians(ROI_TARGET_ANGLE_RAD - (-dy).atan2(dx));
    let side_px = box_size_px * ROI_SCALE;
    Roi {
        center_x_px: center.x,
        center_y_px: center.y,
        width_px: side_px,
        height_px: side_px,
        rotation_rad,
    }
}

/// The four corners of a rotated rectangle exactly as OpenCV's `RotatedRect::points` computes them (in `f32`, from
/// the angle in degrees): bottom-left, top-left, top-right, bottom-right of the unrotated rectangle.
pub fn box_points_from_roi(roi: &Roi) -> [PointPx; 4] {
    // MediaPipe passes the angle in degrees to cv::RotatedRect; OpenCV converts it back in double.
    let angle_deg = roi.rotation_rad * 180.0 / PI;
    let angle = f64::from(angle_deg) * std::f64::consts::PI / 180.0;
    let b = angle.cos() as f32 * 0.5;
    let a = angle.sin() as f32 * 0.5;
    let (cx, cy) = (roi.center_x_px, roi.center_y_px);
    let (w, h) = (roi.width_px, roi.height_px);
    let p0 = PointPx {
        x: cx - a * h - b * w,
        y: cy + b * h - a * w,
    };
    let p1 = PointPx {
        x: cx + a * h - b * w,
        y: cy - b * h - a * w,
    };
    let p2 = PointPx {
        x: 2.0 * cx - p0.x,
        y: 2.0 * cy - p0.y,
    };
    let p3 = PointPx {
        x: 2.0 * cx - p1.x,
        y: 2.0 * cy - p1.y,
    };
    [p0, p1, p2, p3]
}

/// The affine map from output (crop) pixel coordinates to image pixel coordinates for a `size`×`size` crop of
/// `roi`, as a row-major 3×3 matrix (last row 0 0 1), in `f64` for OpenCV's `WARP_INVERSE_MAP`.
///
/// Corner to corner: crop point (0,0) is the ROI's top-left corner and (size,size) its bottom-right one, so crop
/// pixel (u,v) samples image point c + R(θ)·((u/size − ½)·w, (v/size − ½)·h).
pub fn image_from_crop_matrix(roi: &Roi, size: usize) -> [f64; 9] {
    let [bottom_left, top_left, top_right, _] = box_points_from_roi(roi);
    let s = size as f64;
    let x_axis = (
        (f64::from(top_right.x) - f64::from(top_left.x)) / s,
        (f64::from(top_right.y) - f64::from(top_left.y)) / s,
    );
    let y_axis = (
        (f64::from(bottom_left.x) - f64::from(top_left.x)) / s,
        (f64::from(bottom_left.y) - f64::from(top_left.y)) / s,
    );
    [
        x_axis.0,
        y_axis.0,
        f64::from(top_left.x),
        x_axis.1,
        y_axis.1,
        f64::from(top_left.y),
        0.0,
        0.0,
        1.0,
    ]
}

/// Projects a point given in ROI-normalised units (0..1 across the crop) back into image pixels
/// (`LandmarkProjectionCalculator`).
pub fn image_point_from_roi_point(roi: &Roi, x_in_roi: f32, y_in_roi: f32) -> PointPx {
    let dx = x_in_roi - 0.5;
    let dy = y_in_roi - 0.5;
    let (sin, cos) = roi.rotation_rad.sin_cos();
    PointPx {
        x: (cos * dx - sin * dy) * roi.width_px + roi.center_x_px,
        y: (sin * dx + cos * dy) * roi.height_px + roi.center_y_px,
    }
}

/// The square ROI that covers the whole image with letterbox padding on the short side (`PadRoi` of the
/// detector's `ImageToTensorCalculator`), and the padding as fractions of the padded square:
/// `[left, top, right, bottom]`.
pub fn letterbox_roi_from_image_size(width_px: u32, height_px: u32) -> (Roi, [f32; 4]) {
    let (w, h) = (width_px as f32, height_px as f32);
    // PadRoi with a square output: tensor aspect ratio 1.
    let roi_aspect_ratio = h / w;
    let (side_w, side_h, horizontal, vertical) = if 1.0 > roi_aspect_ratio {
        (w, w, 0.0, (1.0 - roi_aspect_ratio) / 2.0)
    } else {
        (h, h, (1.0 - 1.0 / roi_aspect_ratio) / 2.0, 0.0)
    };
    let roi = Roi {
        center_x_px: 0.5 * w,
        center_y_px: 0.5 * h,
        width_px: side_w,
        height_px: side_h,
        rotation_rad: 0.0,
    };
    (roi, [horizontal, vertical, horizontal, vertical])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32, tolerance: f32) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn normalized_radians_wraps_into_half_open_range() {
        assert!(close(normalized_radians(3.0 * PI / 2.0), -PI / 2.0, 1e-6));
        assert!(close(normalized_radians(-PI), -PI, 1e-6));
        assert!(close(normalized_radians(PI), -PI, 1e-6));
        assert!(close(normalized_radians(0.25), 0.25, 1e-7));
    }

    #[test]
    fn upright_body_gives_unrotated_roi_of_two_and_a_half_lengths() {
        // Hip centre at (100, 200), the full-body point straight above it: the body points up, rotation 0.
        let roi = roi_from_alignment_points(PointPx { x: 100.0, y: 200.0 }, PointPx { x: 100.0, y: 120.0 });
        assert!(close(roi.rotation_rad, 0.0, 1e-6), "{roi:?}");
        assert!(close(roi.width_px, 2.5 * 80.0, 1e-4) && roi.width_px == roi.height_px);
        assert_eq!((roi.center_x_px, roi.center_y_px), (100.0, 200.0));
        // Lying to the right (scale point to the right of the centre): the crop must turn by +90°.
        let roi = roi_from_alignment_points(PointPx { x: 100.0, y: 200.0 }, PointPx { x: 180.0, y: 200.0 });
        assert!(close(roi.rotation_rad, PI / 2.0, 1e-6), "{roi:?}");
    }

    #[test]
    fn crop_corners_map_to_roi_corners_and_projection_inverts_the_crop() {
        let roi = Roi {
            center_x_px: 300.0,
            center_y_px: 200.0,
            width_px: 128.0,
            height_px: 128.0,
            rotation_rad: 0.3,
        };
        let m = image_from_crop_matrix(&roi, 256);
        let apply = |u: f64, v: f64| (m[0] * u + m[1] * v + m[2], m[3] * u + m[4] * v + m[5]);
        let corners = box_points_from_roi(&roi);
        let (x, y) = apply(0.0, 0.0);
        assert!(close(x as f32, corners[1].x, 1e-3) && close(y as f32, corners[1].y, 1e-3));
        let (x, y) = apply(256.0, 256.0);
        assert!(close(x as f32, corners[3].x, 1e-3) && close(y as f32, corners[3].y, 1e-3));
        // Round trip: a crop position, projected with the landmark projection, lands where the crop sampled it.
        for (u, v) in [(0.0, 0.0), (64.0, 200.0), (128.0, 128.0), (250.0, 10.0)] {
            let (x, y) = apply(u, v);
            let p = image_point_from_roi_point(&roi, (u / 256.0) as f32, (v / 256.0) as f32);
            assert!(
                close(p.x, x as f32, 1e-3) && close(p.y, y as f32, 1e-3),
                "{u},{v}: {p:?} vs {x},{y}"
            );
        }
        // The ROI centre is the crop centre.
        let c = image_point_from_roi_point(&roi, 0.5, 0.5);
        assert!(close(c.x, 300.0, 1e-4) && close(c.y, 200.0, 1e-4));
    }

    #[test]
    fn letterbox_pads_the_short_side() {
        let (roi, padding) = letterbox_roi_from_image_size(1768, 994);
        assert_eq!((roi.width_px, roi.height_px), (1768.0, 1768.0));
        assert!(close(padding[1], (1.0 - 994.0 / 1768.0) / 2.0, 1e-6) && padding[0] == 0.0);
        let (roi, padding) = letterbox_roi_from_image_size(1080, 1920);
        assert_eq!(roi.width_px, 1920.0);
        assert!(close(padding[0], (1.0 - 1080.0 / 1920.0) / 2.0, 1e-6) && padding[1] == 0.0);
    }
}
