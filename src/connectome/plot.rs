//! Small hand-made SVG figures: panels side by side, each with axes, ticks, a title and a
//! legend, holding lines with error bands, dots, or a density of points.
//!
//! The output is plain SVG 1.1 text with no scripts or external resources, byte-stable for the
//! same input.

use std::fmt::Write;

/// How data values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisScale {
    /// Position proportional to the value.
    Linear,
    /// Position proportional to `log10(value)`; values `≤ 0` are not drawn.
    Log10,
    /// Position proportional to `ln(1 + value)`, for counts with zeros.
    Log1p,
}

/// An axis: its label, its range (in data units) and its scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The label under (x) or beside (y) the axis.
    pub label: String,
    /// The smallest value shown.
    pub min: f64,
    /// The largest value shown.
    pub max: f64,
    /// The scale.
    pub scale: AxisScale,
    /// Tick values; `None` chooses round numbers.
    pub ticks: Option<Vec<f64>>,
}

impl Axis {
    /// An axis with automatic ticks.
    pub fn new(label: &str, min: f64, max: f64, scale: AxisScale) -> Self {
        Axis { label: label.into(), min, max, scale, ticks: None }
    }

    /// The axis with ticks at `values`.
    pub fn with_ticks(self, values: Vec<f64>) -> Self {
        Axis { ticks: Some(values), ..self }
    }

    fn transform(&self, value: f64) -> Option<f64> {
        match self.scale {
            AxisScale::Linear => Some(value),
            AxisScale::Log10 => (value > 0.0).then(|| value.log10()),
            AxisScale::Log1p => (value > -1.0).then(|| value.ln_1p()),
        }
    }

    /// The position of `value` in `[0, 1]` along the axis (outside for values out of range).
    fn fraction(&self, value: f64) -> Option<f64> {
        let (lo, hi) = (self.transform(self.min)?, self.transform(self.max)?);
        let t = self.transform(value)?;
        Some(if hi > lo { (t - lo) / (hi - lo) } else { 0.5 })
    }

    /// Tick values and their labels.
    fn ticks(&self) -> Vec<(f64, String)> {
        let inside = |v: &f64| *v >= self.min - 1e-12 && *v <= self.max + 1e-12;
        let values: Vec<f64> = match (&self.ticks, self.scale) {
            (Some(values), _) => values.clone(),
            (None, scale) => Self::round_ticks(scale, self.min, self.max, inside),
        };
        values.into_iter().filter(inside).map(|v| (v, format_tick(v))).collect()
    }

    /// Round tick values for a range.
    fn round_ticks(
        scale: AxisScale,
        min: f64,
        max: f64,
        inside: impl Fn(&f64) -> bool,
    ) -> Vec<f64> {
        match scale {
            AxisScale::Linear => {
                let span = (max - min).abs().max(1e-12);
                let raw = span / 5.0;
                let magnitude = 10f64.powf(raw.log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .iter()
                    .map(|m| m * magnitude)
                    .find(|s| span / s <= 6.0)
                    .unwrap_or(10.0 * magnitude);
                let first = (min / step).ceil() as i64;
                let last = (max / step).floor() as i64;
                (first..=last).map(|k| k as f64 * step).collect()
            }
            AxisScale::Log10 => {
                let (lo, hi) = (min.max(1e-300).log10().floor(), max.log10().ceil());
                (lo as i32..=hi as i32).map(|p| 10f64.powi(p)).filter(inside).collect()
            }
            AxisScale::Log1p => [0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3]
                .into_iter()
                .filter(inside)
                .collect(),
        }
    }
}

fn format_tick(value: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else if value.abs() >= 1e4 || value.abs() < 1e-3 {
        format!("{value:.0e}")
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').into()
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A polyline through the points.
    Line,
    /// A dot at each point.
    Dots,
    /// Both.
    LineAndDots,
    /// A dashed polyline.
    Dashed,
}

/// One series of a line panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The name in the legend.
    pub name: String,
    /// An SVG colour.
    pub color: String,
    /// The points `(x, y)`.
    pub points: Vec<(f64, f64)>,
    /// A symmetric spread around each `y` (a standard deviation), drawn as a band.
    pub spread: Option<Vec<f64>>,
    /// How it is drawn.
    pub style: Style,
}

/// What a panel holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Series of points.
    Series(Vec<Series>),
    /// A two-dimensional histogram of points `(x, y)`, in `bins x bins` cells, shaded by the
    /// logarithm of their count; the diagonal `y = x` is drawn for reference.
    Density {
        /// The points.
        points: Vec<(f64, f64)>,
        /// Cells per side.
        bins: usize,
        /// The colour of the densest cell.
        color: String,
    },
}

/// One panel of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The title above the panel.
    pub title: String,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
    /// What is drawn.
    pub content: Content,
}

const PANEL_WIDTH: f64 = 300.0;
const PANEL_HEIGHT: f64 = 300.0;
const MARGIN_LEFT: f64 = 58.0;
const MARGIN_RIGHT: f64 = 14.0;
const MARGIN_TOP: f64 = 30.0;
const MARGIN_BOTTOM: f64 = 44.0;
const LEGEND_LINE: f64 = 15.0;

/// The plotting area of a panel in pixels: left, top, width, height.
#[derive(Clone, Copy)]
struct Area {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Area {
    fn point(&self, panel: &Panel, x: f64, y: f64) -> Option<(f64, f64)> {
        let (fx, fy) = (panel.x.fraction(x)?, panel.y.fraction(y)?);
        Some((self.left + fx * self.width, self.top + (1.0 - fy) * self.height))
    }
}

/// An SVG element being written: `Element::new("line").px("x1", 3.0).put(&mut svg)`.
struct Element {
    name: &'static str,
    text: String,
}

impl Element {
    fn new(name: &'static str) -> Self {
        Element { name, text: format!("<{name}") }
    }

    /// An attribute.
    fn attr(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        let _ = write!(self.text, r#" {key}="{value}""#);
        self
    }

    /// A coordinate or length in pixels, to a tenth.
    fn px(self, key: &str, value: f64) -> Self {
        self.attr(key, format_args!("{value:.1}"))
    }

    /// Writes the element without content.
    fn put(self, svg: &mut String) {
        svg.push_str(&self.text);
        svg.push_str("/>\n");
    }

    /// Writes the element around escaped text.
    fn put_text(self, svg: &mut String, text: &str) {
        let _ = writeln!(svg, "{}>{}</{}>", self.text, escape(text), self.name);
    }
}

/// Points as an SVG `points` list.
fn point_list(points: impl Iterator<Item = (f64, f64)>) -> String {
    let pairs: Vec<String> = points.map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    pairs.join(" ")
}

/// A figure of `panels` side by side, with a title over them all.
pub fn figure(title: &str, panels: &[Panel]) -> String {
    let legend_lines = panels
        .iter()
        .map(|p| match &p.content {
            Content::Series(series) => series.len(),
            Content::Density { .. } => 0,
        })
        .max()
        .unwrap_or(0);
    let width = PANEL_WIDTH * panels.len().max(1) as f64;
    let height = PANEL_HEIGHT + 24.0 + legend_lines as f64 * LEGEND_LINE;

    // The canvas and the title.
    let mut svg = Element::new("svg")
        .attr("xmlns", "http://www.w3.org/2000/svg")
        .attr("width", width)
        .attr("height", height)
        .attr("viewBox", format_args!("0 0 {width} {height}"))
        .attr("font-family", "sans-serif")
        .attr("font-size", 11)
        .text;
    svg.push_str(">\n");
    Element::new("rect")
        .attr("width", width)
        .attr("height", height)
        .attr("fill", "white")
        .put(&mut svg);
    Element::new("text")
        .px("x", width / 2.0)
        .px("y", 16.0)
        .attr("text-anchor", "middle")
        .attr("font-size", 13)
        .attr("font-weight", "bold")
        .put_text(&mut svg, title);

    // The panels, left to right.
    for (k, panel) in panels.iter().enumerate() {
        let area = Area {
            left: k as f64 * PANEL_WIDTH + MARGIN_LEFT,
            top: 24.0 + MARGIN_TOP,
            width: PANEL_WIDTH - MARGIN_LEFT - MARGIN_RIGHT,
            height: PANEL_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
        };
        draw_panel(&mut svg, panel, area);
    }
    svg.push_str("</svg>\n");
    svg
}

fn draw_panel(svg: &mut String, panel: &Panel, area: Area) {
    let Area { left, top, width, height } = area;
    let (right, bottom) = (left + width, top + height);

    // Title, frame and axis labels.
    let centred =
        |x: f64, y: f64| Element::new("text").px("x", x).px("y", y).attr("text-anchor", "middle");
    centred(left + width / 2.0, top - 10.0).attr("font-weight", "bold").put_text(svg, &panel.title);
    Element::new("rect")
        .px("x", left)
        .px("y", top)
        .px("width", width)
        .px("height", height)
        .attr("fill", "none")
        .attr("stroke", "#444")
        .put(svg);
    centred(left + width / 2.0, bottom + 32.0).put_text(svg, &panel.x.label);
    Element::new("text")
        .attr(
            "transform",
            format_args!("translate({:.1},{:.1}) rotate(-90)", left - 44.0, top + height / 2.0),
        )
        .attr("text-anchor", "middle")
        .put_text(svg, &panel.y.label);

    // Ticks with faint grid lines.
    let grid = |x1: f64, y1: f64, x2: f64, y2: f64| {
        Element::new("line")
            .px("x1", x1)
            .px("y1", y1)
            .px("x2", x2)
            .px("y2", y2)
            .attr("stroke", "#eee")
    };
    for (value, label) in panel.x.ticks() {
        if let Some(f) = panel.x.fraction(value) {
            let x = left + f * width;
            grid(x, top, x, bottom).put(svg);
            centred(x, bottom + 14.0).put_text(svg, &label);
        }
    }
    for (value, label) in panel.y.ticks() {
        if let Some(f) = panel.y.fraction(value) {
            let y = top + (1.0 - f) * height;
            grid(left, y, right, y).put(svg);
            let tick = Element::new("text").px("x", left - 4.0).px("y", y + 4.0);
            tick.attr("text-anchor", "end").put_text(svg, &label);
        }
    }

    match &panel.content {
        Content::Series(series) => {
            for s in series {
                draw_series(svg, panel, area, s);
            }
            draw_legend(svg, area, series);
        }
        Content::Density { points, bins, color } => {
            draw_density(svg, panel, area, points, *bins, color)
        }
    }
}

fn inside(area: Area, (x, y): (f64, f64)) -> bool {
    let eps = 0.5;
    x >= area.left - eps
        && x <= area.left + area.width + eps
        && y >= area.top - eps
        && y <= area.top + area.height + eps
}

fn clamp(area: Area, x: f64, y: f64) -> (f64, f64) {
    (x.clamp(area.left, area.left + area.width), y.clamp(area.top, area.top + area.height))
}

fn draw_series(svg: &mut String, panel: &Panel, area: Area, series: &Series) {
    let color = series.color.as_str();

    // The band of ± one spread, as a closed polygon.
    if let Some(spread) = &series.spread {
        let with_spread = series.points.iter().zip(spread);
        let upper: Vec<(f64, f64)> =
            with_spread.clone().filter_map(|(&(x, y), s)| area.point(panel, x, y + s)).collect();
        let lower: Vec<(f64, f64)> = with_spread
            .rev()
            .filter_map(|(&(x, y), s)| area.point(panel, x, (y - s).max(panel.y.min)))
            .collect();
        if upper.len() + lower.len() >= 3 {
            let outline = upper.iter().chain(&lower).map(|&(x, y)| clamp(area, x, y));
            Element::new("polygon")
                .attr("points", point_list(outline))
                .attr("fill", color)
                .attr("fill-opacity", 0.18)
                .attr("stroke", "none")
                .put(svg);
        }
    }

    // The line, the dots, or both.
    let pixels: Vec<(f64, f64)> = series
        .points
        .iter()
        .filter_map(|&(x, y)| area.point(panel, x, y))
        .filter(|&p| inside(area, p))
        .collect();
    let lined = matches!(series.style, Style::Line | Style::LineAndDots | Style::Dashed);
    if lined && pixels.len() > 1 {
        let line = Element::new("polyline")
            .attr("points", point_list(pixels.iter().copied()))
            .attr("fill", "none")
            .attr("stroke", color)
            .attr("stroke-width", 1.8);
        dashed(line, series.style).put(svg);
    }
    if matches!(series.style, Style::Dots | Style::LineAndDots) {
        for (x, y) in pixels {
            Element::new("circle")
                .px("cx", x)
                .px("cy", y)
                .attr("r", 2.6)
                .attr("fill", color)
                .put(svg);
        }
    }
}

fn dashed(element: Element, style: Style) -> Element {
    if style == Style::Dashed { element.attr("stroke-dasharray", "5,3") } else { element }
}

fn draw_legend(svg: &mut String, area: Area, series: &[Series]) {
    for (k, s) in series.iter().enumerate() {
        let y = area.top + area.height + MARGIN_BOTTOM + 4.0 + k as f64 * LEGEND_LINE;
        let x = area.left;
        let swatch = Element::new("line")
            .px("x1", x)
            .px("y1", y)
            .px("x2", x + 18.0)
            .px("y2", y)
            .attr("stroke", &s.color)
            .attr("stroke-width", 2.5);
        dashed(swatch, s.style).put(svg);
        Element::new("text").px("x", x + 24.0).px("y", y + 4.0).put_text(svg, &s.name);
    }
}

fn draw_density(
    svg: &mut String,
    panel: &Panel,
    area: Area,
    points: &[(f64, f64)],
    bins: usize,
    color: &str,
) {
    // Count the points per cell.
    let bins = bins.max(1);
    let mut counts = vec![0usize; bins * bins];
    for &(x, y) in points {
        if let (Some(fx), Some(fy)) = (panel.x.fraction(x), panel.y.fraction(y))
            && (0.0..=1.0).contains(&fx)
            && (0.0..=1.0).contains(&fy)
        {
            let column = ((fx * bins as f64) as usize).min(bins - 1);
            let row = ((fy * bins as f64) as usize).min(bins - 1);
            counts[row * bins + column] += 1;
        }
    }

    // Shade each occupied cell by ln(1 + count) relative to the densest.
    let densest = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (cell_width, cell_height) = (area.width / bins as f64, area.height / bins as f64);
    for row in 0..bins {
        for column in 0..bins {
            let count = counts[row * bins + column];
            if count == 0 {
                continue;
            }
            let opacity = 0.12 + 0.88 * (count as f64).ln_1p() / densest.ln_1p();
            Element::new("rect")
                .px("x", area.left + column as f64 * cell_width)
                .px("y", area.top + area.height - (row + 1) as f64 * cell_height)
                .px("width", cell_width)
                .px("height", cell_height)
                .attr("fill", color)
                .attr("fill-opacity", format_args!("{opacity:.3}"))
                .put(svg);
        }
    }

    // The diagonal y = x where both axes share a range.
    let low = panel.x.min.max(panel.y.min);
    let high = panel.x.max.min(panel.y.max);
    if let (Some(a), Some(b)) = (area.point(panel, low, low), area.point(panel, high, high)) {
        Element::new("line")
            .px("x1", a.0)
            .px("y1", a.1)
            .px("x2", b.0)
            .px("y2", b.1)
            .attr("stroke", "#333")
            .attr("stroke-dasharray", "4,3")
            .put(svg);
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, tag: &str) -> usize {
        svg.matches(&format!("<{tag} ")).count()
    }

    #[test]
    fn a_line_figure_has_its_panels_series_and_legend() {
        let series = |name: &str, style| Series {
            name: name.into(),
            color: "#1b6ca8".into(),
            points: vec![(2.0, 0.8), (4.0, 0.85), (8.0, 0.9)],
            spread: Some(vec![0.01, 0.02, 0.01]),
            style,
        };
        let panel = |title: &str| Panel {
            title: title.into(),
            x: Axis::new("genes g", 1.0, 10.0, AxisScale::Log10),
            y: Axis::new("AUC", 0.5, 1.0, AxisScale::Linear),
            content: Content::Series(vec![
                series("genetic", Style::LineAndDots),
                series("null <a & b>", Style::Dashed),
            ]),
        };
        let svg = figure("fit & genes", &[panel("AUC"), panel("deviance")]);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(count(&svg, "polyline"), 4);
        assert_eq!(count(&svg, "polygon"), 4);
        assert_eq!(count(&svg, "circle"), 6);
        assert!(svg.contains("null &lt;a &amp; b&gt;") && svg.contains("fit &amp; genes"));
        assert!(svg.contains(">0.5</text>") && svg.contains(">1</text>"));
        assert!(svg.contains(">10</text>"));
    }

    #[test]
    fn a_density_panel_shades_occupied_cells_only() {
        let points = vec![(0.0, 0.0), (0.0, 0.0), (9.0, 9.0), (50.0, 1.0)];
        let panel = Panel {
            title: "predicted vs observed".into(),
            x: Axis::new("predicted", 0.0, 100.0, AxisScale::Log1p),
            y: Axis::new("observed", 0.0, 100.0, AxisScale::Log1p),
            content: Content::Density { points, bins: 20, color: "#1b6ca8".into() },
        };
        let svg = figure("density", &[panel]);
        // Three occupied cells plus the white background and the frame.
        assert_eq!(count(&svg, "rect"), 3 + 2);
        assert!(svg.contains(r#"stroke-dasharray="4,3""#), "the diagonal is drawn");
    }

    #[test]
    fn ticks_are_round_numbers_inside_the_range() {
        let linear = Axis::new("", 0.13, 0.97, AxisScale::Linear).ticks();
        let values: Vec<f64> = linear.iter().map(|t| t.0).collect();
        assert_eq!(values, [0.2, 0.4, 0.6000000000000001, 0.8]);
        assert_eq!(linear[2].1, "0.6");
        let log = Axis::new("", 1.0, 500.0, AxisScale::Log10).ticks();
        assert_eq!(log.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), ["1", "10", "100"]);
    }
}
