//! Small, dependency-free SVG figures for run reports: scatter and strip plots, lines,
//! reference lines and bars on linear axes with readable ticks.
//!
//! The output is plain SVG 1.1 text, byte-stable for the same input (so reports can be
//! diffed), readable in any browser.

use std::fmt::Write;

/// Colours for successive series (colour-blind-safe palette of Okabe and Ito).
pub const PALETTE: [&str; 8] =
    ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];

#[derive(Debug, Clone)]
enum Mark {
    Points { xs: Vec<f64>, ys: Vec<f64>, color: String, radius: f64, opacity: f64 },
    Line { xs: Vec<f64>, ys: Vec<f64>, color: String, width: f64, dashed: bool },
    Segment { x0: f64, x1: f64, y: f64, color: String, width: f64 },
    Bars { lefts: Vec<f64>, width: f64, heights: Vec<f64>, color: String, opacity: f64 },
}

/// A figure with one pair of linear axes.
#[derive(Debug, Clone)]
pub struct Figure {
    title: String,
    x_label: String,
    y_label: String,
    width: f64,
    height: f64,
    marks: Vec<Mark>,
    legend: Vec<(String, String, bool)>,
    categories: Vec<String>,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
}

/// "Nice" tick positions covering `[lo, hi]`: steps of 1, 2 or 5 times a power of ten.
pub fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn label(value: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else if value.abs() >= 1e5 || value.abs() < 1e-3 {
        format!("{value:.0e}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Figure {
    /// An empty figure of 720 x 440 pixels.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Figure {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            width: 720.0,
            height: 440.0,
            marks: Vec::new(),
            legend: Vec::new(),
            categories: Vec::new(),
            x_range: None,
            y_range: None,
        }
    }

    /// Names the integer x positions `0, 1, ...` (a strip plot of categories).
    pub fn categories(mut self, names: &[String]) -> Self {
        self.categories = names.to_vec();
        self.x_range = Some((-0.5, names.len() as f64 - 0.5));
        self
    }

    /// Fixes the y range instead of fitting it to the data.
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Adds points; `legend` names the series if given.
    pub fn points(
        &mut self,
        xs: &[f64],
        ys: &[f64],
        color: &str,
        legend: Option<&str>,
    ) -> &mut Self {
        self.marks.push(Mark::Points {
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            color: color.into(),
            radius: 3.0,
            opacity: 0.55,
        });
        if let Some(name) = legend {
            self.legend.push((name.into(), color.into(), false));
        }
        self
    }

    /// Adds a polyline.
    pub fn line(&mut self, xs: &[f64], ys: &[f64], color: &str, legend: Option<&str>) -> &mut Self {
        self.marks.push(Mark::Line {
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            color: color.into(),
            width: 2.0,
            dashed: false,
        });
        if let Some(name) = legend {
            self.legend.push((name.into(), color.into(), false));
        }
        self
    }

    /// Adds a dashed horizontal reference line across the plot.
    pub fn reference(&mut self, y: f64, color: &str, legend: Option<&str>) -> &mut Self {
        self.marks.push(Mark::Line {
            xs: vec![f64::NEG_INFINITY, f64::INFINITY],
            ys: vec![y, y],
            color: color.into(),
            width: 1.5,
            dashed: true,
        });
        if let Some(name) = legend {
            self.legend.push((name.into(), color.into(), true));
        }
        self
    }

    /// Adds a short horizontal bar from `x0` to `x1` at height `y` (a mean marker).
    pub fn segment(&mut self, x0: f64, x1: f64, y: f64, color: &str) -> &mut Self {
        self.marks.push(Mark::Segment { x0, x1, y, color: color.into(), width: 3.0 });
        self
    }

    /// Adds bars of equal width starting at `lefts` (a histogram).
    pub fn bars(
        &mut self,
        lefts: &[f64],
        width: f64,
        heights: &[f64],
        color: &str,
        legend: Option<&str>,
    ) -> &mut Self {
        self.marks.push(Mark::Bars {
            lefts: lefts.to_vec(),
            width,
            heights: heights.to_vec(),
            color: color.into(),
            opacity: 0.5,
        });
        if let Some(name) = legend {
            self.legend.push((name.into(), color.into(), false));
        }
        self
    }

    /// The data range of all marks on one axis, finite values only.
    fn extent(&self, vertical: bool) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let mut take = |v: f64| {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        };
        for mark in &self.marks {
            match mark {
                Mark::Points { xs, ys, .. } | Mark::Line { xs, ys, .. } => {
                    (if vertical { ys } else { xs }).iter().for_each(|&v| take(v))
                }
                Mark::Segment { x0, x1, y, .. } => {
                    if vertical {
                        take(*y)
                    } else {
                        take(*x0);
                        take(*x1)
                    }
                }
                Mark::Bars { lefts, width, heights, .. } => {
                    if vertical {
                        take(0.0);
                        heights.iter().for_each(|&h| take(h));
                    } else {
                        lefts.iter().for_each(|&l| {
                            take(l);
                            take(l + width)
                        });
                    }
                }
            }
        }
        if lo > hi {
            return (0.0, 1.0);
        }
        if lo == hi {
            return (lo - 1.0, hi + 1.0);
        }
        let pad = (hi - lo) * 0.04;
        (lo - pad, hi + pad)
    }

    /// The figure as SVG text.
    pub fn to_svg(&self) -> String {
        let (left, right, top, bottom) = (72.0, 24.0, 40.0, 56.0);
        let (w, h) = (self.width, self.height);
        let (x0, x1) = self.x_range.unwrap_or_else(|| self.extent(false));
        let (y0, y1) = self.y_range.unwrap_or_else(|| self.extent(true));
        let px = |x: f64| left + (x.clamp(x0, x1) - x0) / (x1 - x0) * (w - left - right);
        let py = |y: f64| h - bottom - (y.clamp(y0, y1) - y0) / (y1 - y0) * (h - top - bottom);
        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>",
            w / 2.0,
            escape(&self.title)
        );

        // Axes, grid and ticks.
        let _ = writeln!(svg, "<g class=\"axes\" stroke=\"#444\">");
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            h - bottom,
            w - right,
            h - bottom
        );
        let _ =
            writeln!(svg, "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\"/>", h - bottom);
        let _ = writeln!(svg, "</g>");
        let _ = writeln!(svg, "<g class=\"ticks\">");
        for y in ticks(y0, y1, 6) {
            let yy = py(y);
            let _ = writeln!(
                svg,
                "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>",
                w - right
            );
            let _ = writeln!(
                svg,
                "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 6.0,
                yy + 4.0,
                label(y)
            );
        }
        if self.categories.is_empty() {
            for x in ticks(x0, x1, 8) {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                    px(x),
                    h - bottom + 18.0,
                    label(x)
                );
            }
        } else {
            for (i, name) in self.categories.iter().enumerate() {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                    px(i as f64),
                    h - bottom + 18.0,
                    escape(name)
                );
            }
        }
        let _ = writeln!(svg, "</g>");
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            (left + w - right) / 2.0,
            h - 14.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            svg,
            "<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            (top + h - bottom) / 2.0,
            escape(&self.y_label)
        );

        // Marks, in the order added.
        for mark in &self.marks {
            match mark {
                Mark::Points { xs, ys, color, radius, opacity } => {
                    let _ = writeln!(
                        svg,
                        "<g class=\"points\" fill=\"{color}\" fill-opacity=\"{opacity}\">"
                    );
                    for (&x, &y) in
                        xs.iter().zip(ys).filter(|(x, y)| x.is_finite() && y.is_finite())
                    {
                        let _ = writeln!(
                            svg,
                            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius}\"/>",
                            px(x),
                            py(y)
                        );
                    }
                    let _ = writeln!(svg, "</g>");
                }
                Mark::Line { xs, ys, color, width, dashed } => {
                    let points: Vec<String> = xs
                        .iter()
                        .zip(ys)
                        .filter(|(_, y)| y.is_finite())
                        .map(|(&x, &y)| format!("{:.1},{:.1}", px(x), py(y)))
                        .collect();
                    let dash = if *dashed { " stroke-dasharray=\"6 4\"" } else { "" };
                    let _ = writeln!(
                        svg,
                        "<polyline class=\"line\" fill=\"none\" stroke=\"{color}\" \
                         stroke-width=\"{width}\"{dash} points=\"{}\"/>",
                        points.join(" ")
                    );
                }
                Mark::Segment { x0: a, x1: b, y, color, width } => {
                    let _ = writeln!(
                        svg,
                        "<line class=\"marker\" x1=\"{:.1}\" y1=\"{:.1}\" \
                         x2=\"{:.1}\" y2=\"{:.1}\" \
                         stroke=\"{color}\" stroke-width=\"{width}\"/>",
                        px(*a),
                        py(*y),
                        px(*b),
                        py(*y)
                    );
                }
                Mark::Bars { lefts, width, heights, color, opacity } => {
                    let _ = writeln!(
                        svg,
                        "<g class=\"bars\" fill=\"{color}\" fill-opacity=\"{opacity}\">"
                    );
                    for (&l, &hgt) in lefts.iter().zip(heights) {
                        let (xa, xb, ya, yb) = (px(l), px(l + width), py(hgt), py(0f64.max(y0)));
                        let _ = writeln!(
                            svg,
                            "<rect x=\"{xa:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/>",
                            ya.min(yb),
                            (xb - xa).max(0.5),
                            (yb - ya).abs()
                        );
                    }
                    let _ = writeln!(svg, "</g>");
                }
            }
        }

        // Legend, top right.
        if !self.legend.is_empty() {
            let _ = writeln!(svg, "<g class=\"legend\">");
            for (i, (name, color, dashed)) in self.legend.iter().enumerate() {
                let y = top + 8.0 + i as f64 * 16.0;
                let x = w - right - 170.0;
                let dash = if *dashed { " stroke-dasharray=\"6 4\"" } else { "" };
                let _ = writeln!(
                    svg,
                    "<line x1=\"{x}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{color}\" \
                     stroke-width=\"3\"{dash}/>",
                    x + 20.0
                );
                let _ = writeln!(
                    svg,
                    "<text x=\"{}\" y=\"{}\">{}</text>",
                    x + 26.0,
                    y + 4.0,
                    escape(name)
                );
            }
            let _ = writeln!(svg, "</g>");
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 500.0, 5), vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0]);
        assert_eq!(ticks(-0.3, 0.9, 6), vec![-0.2, 0.0, 0.2, 0.4, 0.6000000000000001, 0.8]);
        assert_eq!(ticks(3.0, 3.0, 5), vec![3.0]);
    }

    #[test]
    fn figure_has_every_mark_and_label() {
        let mut figure = Figure::new("Rewards <per family>", "family", "mean return")
            .categories(&["trained".into(), "sampled".into()]);
        figure.points(&[0.0, 1.0, 1.1], &[500.0, 480.0, 20.0], PALETTE[0], Some("networks"));
        figure.segment(0.7, 1.3, 250.0, "#000");
        figure.reference(475.0, "#888", Some("solved"));
        let svg = figure.to_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("stroke-dasharray") && svg.contains("class=\"marker\""));
        assert!(svg.contains("Rewards &lt;per family&gt;") && svg.contains(">sampled<"));
        assert_eq!(svg, figure.to_svg(), "the same figure gives the same bytes");
    }
}
