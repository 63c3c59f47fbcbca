//! Model input tensors from a frame: the rotated, corner-to-corner crop of a region of interest, resampled to the
//! model's square input and scaled to its value range, written into a reused `f32` NHWC buffer in RGB order.
//!
//! This is MediaPipe's `ImageToTensorCalculator` OpenCV path (blazepose-pipeline.md §1, §6): `warpPerspective` of
//! the 8-bit image with bilinear interpolation (`INTER_LINEAR`) and the calculator's border mode, then
//! `convertTo(CV_32F, scale, offset)`. Warping the 8-bit image first (not a float one) matters: it reproduces
//! MediaPipe's rounding to whole grey levels.

use opencv::core::{self, Mat, Scalar};
use opencv::imgproc;
use opencv::prelude::*;

use crate::landmarks::Roi;
use crate::pose::geometry::image_from_crop_matrix;

/// Channels of a colour frame and of the models' inputs.
pub const CHANNELS: usize = 3;

/// The largest 8-bit grey level.
const MAX_GREY_LEVEL: f32 = 255.0;

/// What fills crop pixels that fall outside the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Border {
    /// Black (the detector's letterbox: `BORDER_ZERO`).
    Zero,
    /// The nearest edge pixel (the landmark model: `BORDER_REPLICATE`).
    Replicate,
}

/// The value range the 8-bit levels 0..255 are mapped to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueRange {
    /// Value of level 0.
    pub min: f32,
    /// Value of level 255.
    pub max: f32,
}

/// Crops ROIs of frames into one model's input tensor, reusing its buffers from frame to frame.
pub struct Cropper {
    size: usize,
    border: Border,
    scale: f32,
    offset: f32,
    /// The 3×3 inverse map (crop → image), rewritten per frame.
    image_from_crop: Mat,
    /// The warped 8-bit crop, BGR.
    crop_bgr: Mat,
}

impl Cropper {
    /// A cropper for a `size`×`size` model input with the given border and value range.
    pub fn new(size: usize, border: Border, range: ValueRange) -> opencv::Result<Cropper> {
        // GetValueRangeTransformation: scale = (to_max − to_min) / 255, offset = to_min.
        let scale = (range.max - range.min) / MAX_GREY_LEVEL;
        let side = size as i32;
        Ok(Cropper {
            size,
            border,
            scale,
            offset: range.min,
            image_from_crop: Mat::new_rows_cols_with_default(3, 3, core::CV_64F, Scalar::all(0.0))?,
            crop_bgr: Mat::new_rows_cols_with_default(side, side, core::CV_8UC3, Scalar::all(0.0))?,
        })
    }

    /// The side of the square output, pixels.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Number of `f32` values in the output tensor (size × size × 3).
    pub fn tensor_len(&self) -> usize {
        self.size * self.size * CHANNELS
    }

    /// Crops `roi` of the 8-bit BGR `image` into `tensor` (RGB, NHWC, `tensor_len` values).
    pub fn crop_into(&mut self, image: &Mat, roi: &Roi, tensor: &mut [f32]) -> opencv::Result<()> {
        let matrix = image_from_crop_matrix(roi, self.size);
        self.image_from_crop.data_typed_mut::<f64>()?.copy_from_slice(&matrix);
        let (border_mode, border_value) = match self.border {
            Border::Zero => (core::BORDER_CONSTANT, Scalar::all(0.0)),
            Border::Replicate => (core::BORDER_REPLICATE, Scalar::all(0.0)),
        };
        let side = self.size as i32;
        imgproc::warp_perspective(
            image,
            &mut self.crop_bgr,
            &self.image_from_crop,
            core::Size::new(side, side),
            imgproc::INTER_LINEAR | imgproc::WARP_INVERSE_MAP,
            border_mode,
            border_value,
        )?;
        let bgr = self.crop_bgr.data_bytes()?;
        if tensor.len() != bgr.len() {
            return Err(opencv::Error::new(
                core::StsBadSize,
                format!("tensor holds {} values, the crop {}", tensor.len(), bgr.len()),
            ));
        }
        let (scale, offset) = (self.scale, self.offset);
        let pixels_out = tensor.as_chunks_mut::<CHANNELS>().0;
        for (rgb_out, &[b, g, r]) in pixels_out.iter_mut().zip(bgr.as_chunks::<CHANNELS>().0) {
            *rgb_out = [r, g, b].map(|level| f32::from(level) * scale + offset);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64×48 BGR image whose red channel is the column index ×2, green the row index ×4, blue 7.
    fn gradient_image() -> Mat {
        let mut image = Mat::new_rows_cols_with_default(48, 64, core::CV_8UC3, Scalar::all(0.0)).expect("mat");
        let bytes = image.data_bytes_mut().expect("bytes");
        for row in 0..48 {
            for col in 0..64 {
                let i = (row * 64 + col) * 3;
                bytes[i] = 7;
                bytes[i + 1] = (row * 4) as u8;
                bytes[i + 2] = (col * 2) as u8;
            }
        }
        image
    }

    #[test]
    fn axis_aligned_crop_samples_corner_to_corner_in_rgb_order() {
        let image = gradient_image();
        let mut cropper = Cropper::new(16, Border::Replicate, ValueRange { min: 0.0, max: 255.0 }).expect("cropper");
        // A 16×16 ROI centred at (24, 20): crop pixel (u, v) samples image point (16 + u, 12 + v) exactly.
        let roi = Roi {
            center_x_px: 24.0,
            center_y_px: 20.0,
            width_px: 16.0,
            height_px: 16.0,
            rotation_rad: 0.0,
        };
        let mut tensor = vec![0.0; cropper.tensor_len()];
        cropper.crop_into(&image, &roi, &mut tensor).expect("crop");
        for (u, v) in [(0usize, 0usize), (5, 9), (15, 15)] {
            let px = &tensor[(v * 16 + u) * 3..][..3];
            assert_eq!(px, &[((16 + u) * 2) as f32, ((12 + v) * 4) as f32, 7.0], "at {u},{v}");
        }
    }

    #[test]
    fn borders_are_zero_or_replicated_and_range_is_applied() {
        let image = gradient_image();
        // A ROI twice the image's width centred on it: the left quarter of the crop lies outside the image.
        let roi = Roi {
            center_x_px: 32.0,
            center_y_px: 24.0,
            width_px: 128.0,
            height_px: 128.0,
            rotation_rad: 0.0,
        };
        let mut zero = Cropper::new(32, Border::Zero, ValueRange { min: -1.0, max: 1.0 }).expect("cropper");
        let mut tensor = vec![0.0; zero.tensor_len()];
        zero.crop_into(&image, &roi, &mut tensor).expect("crop");
        assert_eq!(&tensor[..3], &[-1.0, -1.0, -1.0], "outside is black → −1");
        let mut replicate = Cropper::new(32, Border::Replicate, ValueRange { min: 0.0, max: 1.0 }).expect("cropper");
        let mut tensor = vec![0.0; replicate.tensor_len()];
        replicate.crop_into(&image, &roi, &mut tensor).expect("crop");
        // Top-left of the crop replicates the image's top-left pixel (red 0, green 0, blue 7).
        assert_eq!(&tensor[..2], &[0.0, 0.0]);
        assert!((tensor[2] - 7.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn rotated_crop_turns_the_image() {
        let image = gradient_image();
        let mut cropper = Cropper::new(16, Border::Replicate, ValueRange { min: 0.0, max: 255.0 }).expect("cropper");
        // Rotated by +90°: moving right in the crop moves down in the image.
        let roi = Roi {
            center_x_px: 32.0,
            center_y_px: 24.0,
            width_px: 16.0,
            height_px: 16.0,
            rotation_rad: std::f32::consts::FRAC_PI_2,
        };
        let mut tensor = vec![0.0; cropper.tensor_len()];
        cropper.crop_into(&image, &roi, &mut tensor).expect("crop");
        let green_at = |u: usize, v: usize| tensor[(v * 16 + u) * 3 + 1];
        let red_at = |u: usize, v: usize| tensor[(v * 16 + u) * 3];
        assert!(green_at(10, 8) > green_at(4, 8), "rows grow along crop x");
        assert!(red_at(8, 10) < red_at(8, 4), "columns shrink along crop y");
    }
}
