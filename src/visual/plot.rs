//! Line, scatter and error-bar plots as inline SVG, with axes, tick labels, units and a legend.
//!
//! Hand-written rather than drawn with the `plotters` crate: the report needs a handful of plot shapes (curves
//! with a ±SD band, per-step scatter, session means with error bars, vertical event markers, a shaded reference
//! range), all of which are a few SVG elements each, and text stays text (selectable, sharp at any zoom,
//! searchable in the DOM) without pulling a font stack into the build. Coordinates are data units until
//! [`Scale`] maps them to pixels; a NaN breaks a line rather than drawing through the gap.

use std::fmt::Write as _;

/// Width of every plot, SVG pixels (the HTML scales it to the column width).
pub const PLOT_WIDTH_PX: f64 = 560.0;
/// Height of every plot, SVG pixels.
pub const PLOT_HEIGHT_PX: f64 = 300.0;
/// Space left of the plot area for the y tick labels and axis title, pixels.
const MARGIN_LEFT_PX: f64 = 62.0;
/// Space right of the plot area, pixels.
const MARGIN_RIGHT_PX: f64 = 14.0;
/// Space above the plot area for the title and legend, pixels.
const MARGIN_TOP_PX: f64 = 58.0;
/// Baseline of the first legend row, pixels from the top.
const LEGEND_FIRST_ROW_Y_PX: f64 = 34.0;
/// Height of a legend row (a legend wraps to a second row at most before it meets the plot area), pixels.
const LEGEND_ROW_PX: f64 = 15.0;
/// Space below the plot area for the x tick labels and axis title, pixels.
const MARGIN_BOTTOM_PX: f64 = 46.0;
/// How many ticks an axis aims for (the "nice" step gives 4 to 10).
const TARGET_TICK_COUNT: usize = 6;
/// Extra room around the data range, fraction of the range, so points do not sit on the frame.
const RANGE_PADDING_FRACTION: f64 = 0.05;
/// Width of one legend character at 11 px, pixels (a generous average, so entries never touch).
const LEGEND_CHAR_PX: f64 = 6.6;
/// Vertical offset between the labels of successive event markers, pixels.
const MARKER_LABEL_ROW_PX: f64 = 12.0;
/// Radius of scatter markers, pixels.
const MARKER_RADIUS_PX: f64 = 3.5;

/// An axis: what it shows and in which unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// What is plotted, e.g. "Knee flexion".
    pub label: String,
    /// The unit, e.g. "deg"; written in brackets after the label.
    pub unit: String,
    /// Fixed range (low, high); `None` fits the data.
    pub range: Option<(f64, f64)>,
    /// The least span a fitted range may have, in the axis unit, so that step-to-step noise of a tenth of a
    /// degree is not blown up to fill the plot; `None` lets the data decide.
    pub min_span: Option<f64>,
}

impl Axis {
    /// An axis that fits the data.
    pub fn new(label: &str, unit: &str) -> Axis {
        Axis {
            label: label.to_owned(),
            unit: unit.to_owned(),
            range: None,
            min_span: None,
        }
    }

    /// The same axis with a least span for its fitted range.
    pub fn with_min_span(mut self, span: f64) -> Axis {
        self.min_span = Some(span);
        self
    }

    /// The same axis with a fixed range.
    pub fn with_range(mut self, low: f64, high: f64) -> Axis {
        self.range = Some((low, high));
        self
    }

    fn title(&self) -> String {
        if self.unit.is_empty() {
            self.label.clone()
        } else {
            format!("{} ({})", self.label, self.unit)
        }
    }
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesStyle {
    /// A polyline (broken at NaN).
    Line,
    /// A dashed polyline.
    DashedLine,
    /// Round markers.
    Points,
    /// Square markers.
    Squares,
}

/// One named data series.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// CSS colour.
    pub color: String,
    /// How it is drawn.
    pub style: SeriesStyle,
    /// (x, y) in data units; NaN y breaks a line.
    pub points: Vec<(f64, f64)>,
    /// Optional shaded band (x, low, high), e.g. mean ± 1 SD.
    pub band: Vec<(f64, f64, f64)>,
    /// Optional symmetric error bar per point (same order as `points`), in y units.
    pub error_bars: Vec<f64>,
}

impl Series {
    /// A series with no band and no error bars.
    pub fn new(name: &str, color: &str, style: SeriesStyle, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.to_owned(),
            color: color.to_owned(),
            style,
            points,
            band: Vec::new(),
            error_bars: Vec::new(),
        }
    }
}

/// A vertical line at an x position, e.g. a toe-off.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Position, x units.
    pub x: f64,
    /// Short label written at the top of the line.
    pub label: String,
    /// CSS colour.
    pub color: String,
}

/// A horizontal line at a y value, e.g. a classification threshold, with its label at the right end.
#[derive(Clone, Debug, PartialEq)]
pub struct Guide {
    /// Position, y units.
    pub y: f64,
    /// Short label.
    pub label: String,
    /// CSS colour.
    pub color: String,
}

/// A shaded horizontal range of y, e.g. a metric's reference range; an open bound extends to the plot edge.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    /// Lower bound, y units.
    pub low: Option<f64>,
    /// Upper bound, y units.
    pub high: Option<f64>,
    /// Legend text.
    pub label: String,
}

/// A plot: axes, series, markers, an optional reference band and optional category names for x.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// Title above the plot.
    pub title: String,
    /// The x axis.
    pub x: Axis,
    /// The y axis.
    pub y: Axis,
    /// Data series, drawn in order.
    pub series: Vec<Series>,
    /// Vertical markers.
    pub markers: Vec<Marker>,
    /// Horizontal guide lines, e.g. the foot-strike class thresholds.
    pub guides: Vec<Guide>,
    /// Reference range.
    pub band: Option<Band>,
    /// When set, x ticks sit at 0, 1, 2… with these names (sessions in a comparison).
    pub x_categories: Vec<String>,
}

impl Plot {
    /// An empty plot with two axes.
    pub fn new(title: &str, x: Axis, y: Axis) -> Plot {
        Plot {
            title: title.to_owned(),
            x,
            y,
            series: Vec::new(),
            markers: Vec::new(),
            guides: Vec::new(),
            band: None,
            x_categories: Vec::new(),
        }
    }

    /// Whether any series has a finite point.
    pub fn has_data(&self) -> bool {
        self.series
            .iter()
            .any(|s| s.points.iter().any(|(x, y)| x.is_finite() && y.is_finite()))
    }

    /// The plot as one `<svg>` element (no XML prolog), `role="img"` with the title as its accessible name.
    pub fn to_svg(&self) -> String {
        let (x_low, x_high) = self.x_range();
        let (y_low, y_high) = self.y_range();
        let x_ticks = if self.x_categories.is_empty() {
            nice_ticks(x_low, x_high, TARGET_TICK_COUNT)
        } else {
            (0..self.x_categories.len()).map(|i| i as f64).collect()
        };
        let y_ticks = nice_ticks(y_low, y_high, TARGET_TICK_COUNT);
        // Axes end on ticks, so the extremes are labelled.
        let x_span = if self.x_categories.is_empty() {
            (
                x_ticks.first().copied().unwrap_or(x_low),
                x_ticks.last().copied().unwrap_or(x_high),
            )
        } else {
            (x_low, x_high)
        };
        let y_span = (
            y_ticks.first().copied().unwrap_or(y_low),
            y_ticks.last().copied().unwrap_or(y_high),
        );
        let area_left = MARGIN_LEFT_PX;
        let area_right = PLOT_WIDTH_PX - MARGIN_RIGHT_PX;
        let area_top = MARGIN_TOP_PX;
        let area_bottom = PLOT_HEIGHT_PX - MARGIN_BOTTOM_PX;
        let x_scale = Scale::new(x_span, (area_left, area_right));
        let y_scale = Scale::new(y_span, (area_bottom, area_top));
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PLOT_WIDTH_PX} {PLOT_HEIGHT_PX}" role="img" aria-label="{title}"><title>{title}</title>"#,
            title = escape(&self.title)
        );
        let _ = write!(
            svg,
            r##"<text class="plot-title" x="{}" y="16" text-anchor="middle" font-size="14" font-weight="600">{}</text>"##,
            PLOT_WIDTH_PX / 2.0,
            escape(&self.title)
        );
        // Reference band first, under everything.
        if let Some(band) = &self.band {
            let top = y_scale.px(band.high.unwrap_or(y_span.1).min(y_span.1));
            let bottom = y_scale.px(band.low.unwrap_or(y_span.0).max(y_span.0));
            if bottom > top {
                let _ = write!(
                    svg,
                    r##"<rect class="reference-band" x="{area_left:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="#2e7d32" fill-opacity="0.10"/>"##,
                    area_right - area_left,
                    bottom - top
                );
            }
        }
        // Grid and tick labels.
        for &tick in &y_ticks {
            let y = y_scale.px(tick);
            let _ = write!(
                svg,
                r##"<line x1="{area_left:.1}" y1="{y:.1}" x2="{area_right:.1}" y2="{y:.1}" stroke="#e0e0e0"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
                area_left - 5.0,
                y + 4.0,
                format_tick(tick, &y_ticks)
            );
        }
        for (index, &tick) in x_ticks.iter().enumerate() {
            let x = x_scale.px(tick);
            let label = if self.x_categories.is_empty() {
                format_tick(tick, &x_ticks)
            } else {
                // A category axis has one tick per category.
                self.x_categories.get(index).map(|c| escape(c)).unwrap_or_default()
            };
            let _ = write!(
                svg,
                r##"<line x1="{x:.1}" y1="{area_top:.1}" x2="{x:.1}" y2="{area_bottom:.1}" stroke="#f0f0f0"/><line x1="{x:.1}" y1="{area_bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11">{label}</text>"##,
                area_bottom + 4.0,
                area_bottom + 16.0
            );
        }
        // Axis lines and titles.
        let _ = write!(
            svg,
            r##"<line class="axis x-axis" x1="{area_left:.1}" y1="{area_bottom:.1}" x2="{area_right:.1}" y2="{area_bottom:.1}" stroke="#333"/><line class="axis y-axis" x1="{area_left:.1}" y1="{area_top:.1}" x2="{area_left:.1}" y2="{area_bottom:.1}" stroke="#333"/>"##
        );
        let _ = write!(
            svg,
            r##"<text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12">{}</text>"##,
            (area_left + area_right) / 2.0,
            PLOT_HEIGHT_PX - 8.0,
            escape(&self.x.title())
        );
        let _ = write!(
            svg,
            r##"<text class="axis-title" transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle" font-size="12">{}</text>"##,
            (area_top + area_bottom) / 2.0,
            escape(&self.y.title())
        );
        // Clip data to the plot area.
        let clip_id = format!("clip{:x}", fingerprint(&self.title));
        let _ = write!(
            svg,
            r#"<clipPath id="{clip_id}"><rect x="{area_left:.1}" y="{area_top:.1}" width="{:.1}" height="{:.1}"/></clipPath><g clip-path="url(#{clip_id})">"#,
            area_right - area_left,
            area_bottom - area_top
        );
        for guide in &self.guides {
            if !(y_span.0..=y_span.1).contains(&guide.y) {
                continue;
            }
            let y = y_scale.px(guide.y);
            let _ = write!(
                svg,
                r#"<line class="guide" x1="{area_left:.1}" y1="{y:.1}" x2="{area_right:.1}" y2="{y:.1}" stroke="{}" stroke-dasharray="2 3"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10" fill="{}">{}</text>"#,
                guide.color,
                area_right - 3.0,
                y - 3.0,
                guide.color,
                escape(&guide.label)
            );
        }
        for (index, marker) in self.markers.iter().enumerate() {
            if !(x_span.0..=x_span.1).contains(&marker.x) {
                continue;
            }
            // Labels of nearby markers would overlap: each sits one row lower than the one before.
            let label_y = area_top + 11.0 + MARKER_LABEL_ROW_PX * (index % 3) as f64;
            let x = x_scale.px(marker.x);
            let _ = write!(
                svg,
                r#"<line class="event-marker" x1="{x:.1}" y1="{area_top:.1}" x2="{x:.1}" y2="{area_bottom:.1}" stroke="{}" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="{}">{}</text>"#,
                marker.color,
                x + 3.0,
                label_y,
                marker.color,
                escape(&marker.label)
            );
        }
        for series in &self.series {
            draw_series(&mut svg, series, &x_scale, &y_scale);
        }
        svg.push_str("</g>");
        draw_legend(&mut svg, self);
        svg.push_str("</svg>");
        svg
    }

    fn x_range(&self) -> (f64, f64) {
        if let Some(range) = self.x.range {
            return range;
        }
        if !self.x_categories.is_empty() {
            return (-0.5, self.x_categories.len() as f64 - 0.5);
        }
        let values = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(self.markers.iter().map(|m| m.x));
        padded(data_range(values), 0.0)
    }

    fn y_range(&self) -> (f64, f64) {
        if let Some(range) = self.y.range {
            return range;
        }
        let mut values: Vec<f64> = Vec::new();
        for series in &self.series {
            for (index, point) in series.points.iter().enumerate() {
                let bar = series.error_bars.get(index).copied().unwrap_or(0.0);
                values.extend([point.1 - bar, point.1 + bar]);
            }
            values.extend(series.band.iter().flat_map(|b| [b.1, b.2]));
        }
        values.extend(self.guides.iter().map(|g| g.y));
        if let Some(band) = &self.band {
            values.extend(band.low);
            values.extend(band.high);
        }
        let (low, high) = padded(data_range(values.into_iter()), RANGE_PADDING_FRACTION);
        match self.y.min_span {
            Some(span) if high - low < span => {
                let centre = 0.5 * (low + high);
                (centre - 0.5 * span, centre + 0.5 * span)
            }
            _ => (low, high),
        }
    }
}

fn draw_series(svg: &mut String, series: &Series, x_scale: &Scale, y_scale: &Scale) {
    let color = &series.color;
    if !series.band.is_empty() {
        // One polygon per run of finite samples.
        for run in finite_runs(&series.band, |b| b.1.is_finite() && b.2.is_finite()) {
            let mut points = String::new();
            for b in run {
                let _ = write!(points, "{:.1},{:.1} ", x_scale.px(b.0), y_scale.px(b.2));
            }
            for b in run.iter().rev() {
                let _ = write!(points, "{:.1},{:.1} ", x_scale.px(b.0), y_scale.px(b.1));
            }
            let _ = write!(
                svg,
                r#"<polygon class="sd-band" points="{}" fill="{color}" fill-opacity="0.15" stroke="none"/>"#,
                points.trim_end()
            );
        }
    }
    match series.style {
        SeriesStyle::Line | SeriesStyle::DashedLine => {
            let dash = if series.style == SeriesStyle::DashedLine {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            for run in finite_runs(&series.points, |p| p.0.is_finite() && p.1.is_finite()) {
                let mut points = String::new();
                for p in run {
                    let _ = write!(points, "{:.1},{:.1} ", x_scale.px(p.0), y_scale.px(p.1));
                }
                let _ = write!(
                    svg,
                    r#"<polyline class="series" points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
                    points.trim_end()
                );
            }
        }
        SeriesStyle::Points | SeriesStyle::Squares => {
            for (index, p) in series.points.iter().enumerate() {
                if !(p.0.is_finite() && p.1.is_finite()) {
                    continue;
                }
                let (x, y) = (x_scale.px(p.0), y_scale.px(p.1));
                if let Some(bar) = series.error_bars.get(index).filter(|b| b.is_finite() && **b > 0.0) {
                    let (top, bottom) = (y_scale.px(p.1 + bar), y_scale.px(p.1 - bar));
                    let _ = write!(
                        svg,
                        r#"<path class="error-bar" d="M{x:.1} {top:.1}V{bottom:.1}M{:.1} {top:.1}h8M{:.1} {bottom:.1}h8" stroke="{color}" fill="none"/>"#,
                        x - 4.0,
                        x - 4.0
                    );
                }
                if series.style == SeriesStyle::Points {
                    let _ = write!(
                        svg,
                        r#"<circle class="point" cx="{x:.1}" cy="{y:.1}" r="{MARKER_RADIUS_PX}" fill="{color}"/>"#
                    );
                } else {
                    let _ = write!(
                        svg,
                        r#"<rect class="point" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"/>"#,
                        x - MARKER_RADIUS_PX,
                        y - MARKER_RADIUS_PX,
                        2.0 * MARKER_RADIUS_PX,
                        2.0 * MARKER_RADIUS_PX
                    );
                }
            }
        }
    }
}

fn draw_legend(svg: &mut String, plot: &Plot) {
    // (name, colour, style, opacity of the swatch)
    let mut entries: Vec<(String, String, SeriesStyle, f64)> = plot
        .series
        .iter()
        .map(|s| (s.name.clone(), s.color.clone(), s.style, 1.0))
        .collect();
    if let Some(band) = &plot.band {
        entries.push((band.label.clone(), "#2e7d32".into(), SeriesStyle::Squares, 0.3));
    }
    svg.push_str(r#"<g class="legend">"#);
    let mut x = MARGIN_LEFT_PX;
    let mut y = LEGEND_FIRST_ROW_Y_PX;
    for (name, color, style, opacity) in entries {
        let width = 28.0 + LEGEND_CHAR_PX * name.chars().count() as f64;
        if x + width > PLOT_WIDTH_PX - MARGIN_RIGHT_PX && x > MARGIN_LEFT_PX {
            x = MARGIN_LEFT_PX;
            y += LEGEND_ROW_PX;
        }
        let swatch = match style {
            SeriesStyle::Line => {
                format!(
                    r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"/>"#,
                    y - 4.0,
                    x + 16.0,
                    y - 4.0
                )
            }
            SeriesStyle::DashedLine => format!(
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2" stroke-dasharray="5 3"/>"#,
                y - 4.0,
                x + 16.0,
                y - 4.0
            ),
            SeriesStyle::Points => format!(
                r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{color}"/>"#,
                x + 8.0,
                y - 4.0
            ),
            SeriesStyle::Squares => format!(
                r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{color}" fill-opacity="{opacity}"/>"#,
                x + 3.0,
                y - 9.0
            ),
        };
        let _ = write!(
            svg,
            r#"{swatch}<text class="legend-entry" x="{:.1}" y="{y:.1}" font-size="11">{}</text>"#,
            x + 20.0,
            escape(&name)
        );
        x += width;
    }
    svg.push_str("</g>");
}

/// A linear map from a data range to a pixel range (either may run backwards, as y does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    data: (f64, f64),
    pixels: (f64, f64),
}

impl Scale {
    /// Maps `data.0` to `pixels.0` and `data.1` to `pixels.1`; an empty data range is widened by ±1.
    pub fn new(data: (f64, f64), pixels: (f64, f64)) -> Scale {
        let data = if (data.1 - data.0).abs() < f64::EPSILON {
            (data.0 - 1.0, data.1 + 1.0)
        } else {
            data
        };
        Scale { data, pixels }
    }

    /// The pixel position of `value`.
    pub fn px(&self, value: f64) -> f64 {
        self.pixels.0 + (value - self.data.0) / (self.data.1 - self.data.0) * (self.pixels.1 - self.pixels.0)
    }
}

/// Round tick positions covering `low..=high`: a step of 1, 2 or 5 × 10^k giving about `target` ticks, the
/// first tick at or below `low` and the last at or above `high`.
pub fn nice_ticks(low: f64, high: f64, target: usize) -> Vec<f64> {
    if !(low.is_finite() && high.is_finite()) {
        return vec![0.0, 1.0];
    }
    let (low, high) = if high - low < 1e-9 {
        (low - 1.0, high + 1.0)
    } else {
        (low, high)
    };
    let raw_step = (high - low) / target.max(2) as f64;
    let magnitude = 10f64.powf(raw_step.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw_step)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).floor() as i64;
    let last = (high / step).ceil() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick label with as many decimals as the step needs.
fn format_tick(value: f64, ticks: &[f64]) -> String {
    let step = match ticks {
        [first, second, ..] => (second - first).abs(),
        _ => 1.0,
    };
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let text = format!("{value:.decimals$}");
    // "-0" reads as a mistake.
    if text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        text.trim_start_matches('-').to_owned()
    } else {
        text.replace('-', "−")
    }
}

fn data_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut low = f64::INFINITY;
    let mut high = f64::NEG_INFINITY;
    for value in values.filter(|v| v.is_finite()) {
        low = low.min(value);
        high = high.max(value);
    }
    if low.is_finite() { (low, high) } else { (0.0, 1.0) }
}

fn padded((low, high): (f64, f64), fraction: f64) -> (f64, f64) {
    let pad = (high - low) * fraction;
    (low - pad, high + pad)
}

/// Maximal runs of consecutive items for which `keep` holds.
fn finite_runs<T>(items: &[T], keep: impl Fn(&T) -> bool) -> Vec<&[T]> {
    items
        .chunk_by(|a, b| keep(a) == keep(b))
        .filter(|run| run.first().is_some_and(&keep))
        .collect()
}

/// Escapes text for HTML and SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A stable short hash for element ids (FNV-1a), so two plots in one page never share a clip path id.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_cover_the_range_with_round_steps() {
        let ticks = nice_ticks(-3.2, 47.9, 6);
        assert!(ticks[0] <= -3.2 && *ticks.last().expect("ticks") >= 47.9, "{ticks:?}");
        assert_eq!(ticks[1] - ticks[0], 10.0);
        assert!((4..=10).contains(&ticks.len()), "{ticks:?}");
        let small = nice_ticks(0.12, 0.31, 6);
        assert!((small[1] - small[0] - 0.05).abs() < 1e-12, "{small:?}");
        // Degenerate and non-finite ranges still give two ticks or more.
        assert!(nice_ticks(5.0, 5.0, 6).len() >= 2);
        assert_eq!(nice_ticks(f64::NAN, 1.0, 6), vec![0.0, 1.0]);
    }

    #[test]
    fn scales_map_range_ends_to_pixel_ends_and_flip_y() {
        let x = Scale::new((0.0, 100.0), (62.0, 546.0));
        assert_eq!(x.px(0.0), 62.0);
        assert_eq!(x.px(100.0), 546.0);
        assert_eq!(x.px(50.0), 304.0);
        let y = Scale::new((-10.0, 30.0), (254.0, 50.0));
        assert_eq!(y.px(-10.0), 254.0);
        assert_eq!(y.px(30.0), 50.0);
        assert!(y.px(20.0) < y.px(10.0), "larger values are higher up");
        // An empty range does not divide by zero.
        assert!(Scale::new((3.0, 3.0), (0.0, 10.0)).px(3.0).is_finite());
    }

    #[test]
    fn tick_labels_use_the_decimals_the_step_needs() {
        assert_eq!(format_tick(0.15, &[0.1, 0.15]), "0.15");
        assert_eq!(format_tick(20.0, &[0.0, 10.0]), "20");
        assert_eq!(format_tick(-10.0, &[-10.0, 0.0]), "−10");
        assert_eq!(format_tick(-0.0, &[-10.0, 0.0]), "0");
    }

    #[test]
    fn svg_has_axes_units_legend_markers_and_breaks_lines_at_gaps() {
        let mut plot = Plot::new(
            "Knee <flexion>",
            Axis::new("Stride", "%"),
            Axis::new("Knee flexion", "deg"),
        );
        plot.series.push(Series::new(
            "Left",
            "#1f77b4",
            SeriesStyle::Line,
            vec![(0.0, 10.0), (25.0, 40.0), (50.0, f64::NAN), (75.0, 60.0), (100.0, 12.0)],
        ));
        plot.markers.push(Marker {
            x: 40.0,
            label: "TO L".into(),
            color: "#1f77b4".into(),
        });
        plot.band = Some(Band {
            low: Some(40.0),
            high: None,
            label: "reference".into(),
        });
        assert!(plot.has_data());
        let svg = plot.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Stride (%)") && svg.contains("Knee flexion (deg)"));
        assert!(svg.contains("Knee &lt;flexion&gt;"), "titles are escaped");
        assert_eq!(
            svg.matches("class=\"series\"").count(),
            2,
            "the NaN splits the line in two"
        );
        assert_eq!(svg.matches("class=\"event-marker\"").count(), 1);
        assert!(svg.contains("class=\"reference-band\""));
        plot.guides.push(Guide {
            y: 8.0,
            label: "rearfoot above".into(),
            color: "#555".into(),
        });
        let svg = plot.to_svg();
        assert_eq!(
            svg.matches("class=\"guide\"").count(),
            1,
            "the guide widens the range to be seen"
        );
        assert!(svg.contains(">Left</text>") && svg.contains(">reference</text>"));
        assert_eq!(svg.matches("class=\"axis ").count(), 2);
    }

    #[test]
    fn category_plots_label_sessions_and_draw_error_bars() {
        let mut plot = Plot::new("Cadence", Axis::new("Session", ""), Axis::new("Cadence", "steps/min"));
        plot.x_categories = vec!["Jan".into(), "Feb".into(), "Mar".into()];
        let mut series = Series::new(
            "mean ± SD",
            "#333",
            SeriesStyle::Points,
            vec![(0.0, 160.0), (1.0, 166.0), (2.0, 171.0)],
        );
        series.error_bars = vec![2.0, 3.0, 0.0];
        plot.series.push(series);
        let svg = plot.to_svg();
        assert!(svg.contains(">Jan</text>") && svg.contains(">Mar</text>"));
        assert_eq!(
            svg.matches("class=\"error-bar\"").count(),
            2,
            "a zero spread draws no bar"
        );
        assert_eq!(svg.matches("class=\"point\"").count(), 3);
    }

    #[test]
    fn a_least_span_keeps_small_noise_flat() {
        let points = vec![(0.0, 11.6), (1.0, 11.9), (2.0, 11.7)];
        let mut plot = Plot::new("Foot strike", Axis::new("Time", "s"), Axis::new("Angle", "deg"));
        plot.series
            .push(Series::new("Left", "#000", SeriesStyle::Points, points.clone()));
        let (low, high) = plot.y_range();
        assert!(high - low < 1.0, "fitted to the data without a least span");
        plot.y = plot.y.clone().with_min_span(10.0);
        let (low, high) = plot.y_range();
        assert!(
            (high - low - 10.0).abs() < 1e-9 && low < 11.6 && high > 11.9,
            "{low}..{high}"
        );
    }

    #[test]
    fn finite_runs_split_at_gaps() {
        let values = [1.0, f64::NAN, 2.0, 3.0, f64::NAN];
        let runs = finite_runs(&values, |v| v.is_finite());
        assert_eq!(runs, vec![&[1.0][..], &[2.0, 3.0][..]]);
    }
}
