//! The smoothing of the tracking crop: MediaPipe's pose graph (the `@mediapipe/pose` solution this stage
//! follows, blazepose-pipeline.md §8) filters the auxiliary landmarks 33 and 34 with a One-Euro filter before it
//! derives the next frame's ROI from them, "to make the ROI crop very stable when the object is not moving but
//! responsive enough in case of sudden movements" (upstream comment). This happens even with
//! `smooth_landmarks=false`, which only turns off the smoothing of the *output* landmarks.
//!
//! Only the crop is smoothed: the landmarks this stage outputs are the model's, unfiltered. [`CropSmoothing::Off`]
//! reproduces the Tasks API instead, whose video mode crops from the raw auxiliary landmarks.
//!
//! Upstream: `mediapipe/util/filtering/one_euro_filter.cc`, `low_pass_filter.cc`, and
//! `landmarks_smoothing_calculator_utils.cc` (normalised landmarks filtered in pixels, value scale = 1 / object
//! scale, object scale = mean of the landmarks' bounding-box width and height).

use crate::pose::geometry::PointPx;

/// One-Euro `min_cutoff` of the auxiliary landmarks, hertz.
pub const AUX_MIN_CUTOFF_HZ: f64 = 0.01;

/// One-Euro `beta` of the auxiliary landmarks (cutoff increase per unit of scaled speed).
pub const AUX_BETA: f64 = 10.0;

/// One-Euro `derivate_cutoff` of the auxiliary landmarks, hertz.
pub const AUX_DERIVATE_CUTOFF_HZ: f64 = 1.0;

/// Sampling rate assumed before two timestamps are known (the filter option's default), hertz.
const DEFAULT_FREQUENCY_HZ: f64 = 30.0;

/// Below this object scale (pixels) upstream leaves the landmarks unfiltered.
const MIN_ALLOWED_OBJECT_SCALE_PX: f32 = 1e-6;

/// Whether the tracking crop is smoothed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CropSmoothing {
    /// As MediaPipe's pose solution (legacy graph, `@mediapipe/pose`): One-Euro on auxiliary landmarks 33/34.
    #[default]
    AuxOneEuro,
    /// As the Tasks API's video mode: the raw auxiliary landmarks.
    Off,
}

/// MediaPipe's `LowPassFilter` (single precision, like upstream).
#[derive(Clone, Copy, Debug, Default)]
struct LowPassFilter {
    initialized: bool,
    raw_value: f32,
    stored_value: f32,
}

impl LowPassFilter {
    fn apply_with_alpha(&mut self, value: f32, alpha: f32) -> f32 {
        let result = if self.initialized {
            alpha * value + (1.0 - alpha) * self.stored_value
        } else {
            self.initialized = true;
            value
        };
        self.raw_value = value;
        self.stored_value = result;
        result
    }
}

/// MediaPipe's `OneEuroFilter` for one coordinate.
#[derive(Clone, Copy, Debug)]
pub struct OneEuroFilter {
    frequency_hz: f64,
    min_cutoff_hz: f64,
    beta: f64,
    derivate_cutoff_hz: f64,
    x: LowPassFilter,
    dx: LowPassFilter,
    last_time_ns: i64,
}

impl OneEuroFilter {
    /// A filter with the given parameters, assuming 30 Hz until two timestamps give the real rate.
    pub fn new(min_cutoff_hz: f64, beta: f64, derivate_cutoff_hz: f64) -> OneEuroFilter {
        OneEuroFilter {
            frequency_hz: DEFAULT_FREQUENCY_HZ,
            min_cutoff_hz,
            beta,
            derivate_cutoff_hz,
            x: LowPassFilter::default(),
            dx: LowPassFilter::default(),
            last_time_ns: 0,
        }
    }

    fn alpha(&self, cutoff_hz: f64) -> f32 {
        let te = 1.0 / self.frequency_hz;
        let tau = 1.0 / (2.0 * std::f64::consts::PI * cutoff_hz);
        (1.0 / (1.0 + tau / te)) as f32
    }

    /// Filters `value` seen at `time_ns`; `value_scale` turns its speed into object-relative units.
    pub fn apply(&mut self, time_ns: i64, value_scale: f64, value: f32) -> f32 {
        if self.last_time_ns >= time_ns {
            return value; // upstream: "New timestamp is equal or less than the last one."
        }
        if self.last_time_ns != 0 && time_ns != 0 {
            self.frequency_hz = 1.0 / ((time_ns - self.last_time_ns) as f64 * 1e-9);
        }
        self.last_time_ns = time_ns;
        let dvalue = if self.x.initialized {
            (f64::from(value) - f64::from(self.x.raw_value)) * value_scale * self.frequency_hz
        } else {
            0.0
        };
        let edvalue = self
            .dx
            .apply_with_alpha(dvalue as f32, self.alpha(self.derivate_cutoff_hz));
        let cutoff = self.min_cutoff_hz + self.beta * f64::from(edvalue).abs();
        self.x.apply_with_alpha(value, self.alpha(cutoff))
    }
}

/// The One-Euro filters of the two auxiliary landmarks (x and y of each; z plays no part in the ROI).
#[derive(Clone, Debug)]
pub struct AuxLandmarkFilter {
    filters: [OneEuroFilter; 4],
}

impl Default for AuxLandmarkFilter {
    fn default() -> Self {
        AuxLandmarkFilter {
            filters: [OneEuroFilter::new(AUX_MIN_CUTOFF_HZ, AUX_BETA, AUX_DERIVATE_CUTOFF_HZ); 4],
        }
    }
}

impl AuxLandmarkFilter {
    /// Forgets the past (tracking was lost).
    pub fn reset(&mut self) {
        *self = AuxLandmarkFilter::default();
    }

    /// Filters the auxiliary landmarks (pixels) seen at `timestamp_s`.
    pub fn apply(&mut self, points: [PointPx; 2], timestamp_s: f64) -> [PointPx; 2] {
        // Upstream converts its microsecond timestamps to nanoseconds; a first frame at t = 0 counts as "no time".
        let time_ns = (timestamp_s * 1e6).round() as i64 * 1000;
        let object_scale = ((points[0].x - points[1].x).abs() + (points[0].y - points[1].y).abs()) / 2.0;
        if object_scale < MIN_ALLOWED_OBJECT_SCALE_PX {
            return points;
        }
        let value_scale = 1.0 / f64::from(object_scale);
        let [fx0, fy0, fx1, fy1] = &mut self.filters;
        [
            PointPx {
                x: fx0.apply(time_ns, value_scale, points[0].x),
                y: fy0.apply(time_ns, value_scale, points[0].y),
            },
            PointPx {
                x: fx1.apply(time_ns, value_scale, points[1].x),
                y: fy1.apply(time_ns, value_scale, points[1].y),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_passes_and_a_still_object_stays_put() {
        let mut filter = OneEuroFilter::new(AUX_MIN_CUTOFF_HZ, AUX_BETA, AUX_DERIVATE_CUTOFF_HZ);
        assert_eq!(filter.apply(1_000_000, 0.01, 100.0), 100.0);
        for k in 2..10 {
            assert!((filter.apply(k * 33_333_000, 0.01, 100.0) - 100.0).abs() < 1e-4);
        }
    }

    #[test]
    fn small_jitter_is_smoothed_and_a_large_move_is_followed() {
        let mut filter = OneEuroFilter::new(AUX_MIN_CUTOFF_HZ, AUX_BETA, AUX_DERIVATE_CUTOFF_HZ);
        filter.apply(33_333_000, 1.0 / 200.0, 100.0);
        // 1 px of jitter on a 200-px object: speed 0.15/s → cutoff ≈ 0.01 + 10 × (smoothed speed): strong smoothing.
        let jitter = filter.apply(66_666_000, 1.0 / 200.0, 101.0);
        assert!(jitter > 100.0 && jitter < 100.6, "{jitter}");
        // A jump of a whole object size is followed most of the way at once.
        let jump = filter.apply(99_999_000, 1.0 / 200.0, 300.0);
        assert!(jump > 200.0, "{jump}");
    }

    #[test]
    fn repeated_timestamps_pass_values_through() {
        let mut filter = OneEuroFilter::new(AUX_MIN_CUTOFF_HZ, AUX_BETA, AUX_DERIVATE_CUTOFF_HZ);
        filter.apply(5, 1.0, 1.0);
        assert_eq!(filter.apply(5, 1.0, 7.0), 7.0);
    }
}
