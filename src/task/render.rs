//! Episode rendering: strips of frames, as SVG, that a person can look at.
//!
//! A strip is a row of frames, one for each selected step of an episode, each showing the
//! task's scene and the step number. The input is the episode's internal states as
//! [`Task::state`](super::Task::state) returns them, `states[t]` being the state after `t` steps
//! (`states[0]` right after the reset). The SVG is written by hand, with coordinates rounded to
//! 0.1 px, so the same states always give the same text.
//!
//! ```
//! use synaptogen::rng::{stream, Purpose};
//! use synaptogen::task::{by_name, render};
//!
//! let mut task = by_name("CartPole-v1").unwrap();
//! let mut observation = [0.0; 4];
//! task.reset(&mut stream(1, Purpose::Evaluation, 0), &mut observation);
//! let mut states = vec![task.state()];
//! for t in 0..20 {
//!     task.step(t % 2, &mut observation);
//!     states.push(task.state());
//! }
//! let svg = render::cartpole_strip(&states, &render::evenly_spaced(states.len(), 5)).unwrap();
//! assert!(svg.starts_with("<svg"));
//! ```

use super::acrobot::{LINK_LENGTH_1, LINK_LENGTH_2};
use super::cartpole::POSITION_LIMIT;
use super::mountain_car::{GOAL_POSITION, MAX_POSITION, MIN_POSITION};
use super::{Acrobot, CartPole, MountainCar};
use std::fmt::{self, Display, Write};
use thiserror::Error;

/// Height of every frame (px).
const FRAME_HEIGHT: f64 = 160.0;
/// Space kept free at the sides of a frame's scene (px).
const MARGIN: f64 = 12.0;
/// Height of the label line at the top of a frame (px).
const LABEL_HEIGHT: f64 = 18.0;
/// Height of the caption line at the bottom of a frame (px).
const CAPTION_HEIGHT: f64 = 16.0;

/// Why a strip could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RenderError {
    /// No steps were selected.
    #[error("no steps selected to draw")]
    NoSteps,
    /// A selected step is past the end of the episode.
    #[error("step {step} is past the end of the episode, which has {states} states")]
    StepOutOfRange {
        /// The selected step.
        step: usize,
        /// Number of states given.
        states: usize,
    },
    /// A selected state does not have the task's state length.
    #[error("the state at step {step} has {found} values, but a state of {task} has {expected}")]
    StateLength {
        /// Name of the task drawn.
        task: &'static str,
        /// The step whose state is wrong.
        step: usize,
        /// The task's state length.
        expected: usize,
        /// Length of the state given.
        found: usize,
    },
    /// There is no drawing for the task.
    #[error("no drawing for task `{task}`; the tasks drawn are {}", super::NAMES.join(", "))]
    NoDrawing {
        /// The task's name.
        task: String,
    },
}

/// `count` steps spread evenly over an episode of `states` states, always including the first
/// and the last: `round(i (states - 1) / (count - 1))` for `i = 0..count`, without repeats.
///
/// Gives every step when `count >= states`, and nothing when `states` or `count` is zero.
pub fn evenly_spaced(states: usize, count: usize) -> Vec<usize> {
    if states == 0 || count == 0 {
        return Vec::new();
    }
    if count == 1 {
        return vec![0];
    }
    let last = (states - 1) as f64;
    let mut steps: Vec<usize> =
        (0..count).map(|i| (i as f64 * last / (count - 1) as f64).round() as usize).collect();
    steps.dedup();
    steps
}

/// The strip of the built-in task called `task` (one of [`super::NAMES`]).
///
/// # Errors
///
/// [`RenderError::NoDrawing`] for other tasks, and the errors of the task's own strip function.
pub fn strip<S: AsRef<[f64]>>(
    task: &str,
    states: &[S],
    steps: &[usize],
) -> Result<String, RenderError> {
    match task {
        CartPole::NAME => cartpole_strip(states, steps),
        MountainCar::NAME => mountain_car_strip(states, steps),
        Acrobot::NAME => acrobot_strip(states, steps),
        _ => Err(RenderError::NoDrawing { task: task.to_owned() }),
    }
}

/// A CartPole-v1 strip: for each selected step, the track with its limits at x = ±2.4 m (dashed
/// red), the cart, the pole (1 m long, drawn at angle θ from upright), and the step number with
/// x and θ (in degrees).
///
/// # Errors
///
/// [`RenderError`] when `steps` is empty, a step is out of range, or a selected state does not
/// have 4 values.
pub fn cartpole_strip<S: AsRef<[f64]>>(
    states: &[S],
    steps: &[usize],
) -> Result<String, RenderError> {
    let width = 240.0;
    let scale = (width - 2.0 * MARGIN) / (2.0 * POSITION_LIMIT + 0.4);
    let centre = width / 2.0;
    let track = FRAME_HEIGHT - CAPTION_HEIGHT - 14.0;
    let (cart_width, cart_height) = (0.4 * scale, 0.24 * scale);
    let pole_length = 1.0 * scale;

    let frames = selected::<4, S>(CartPole::NAME, states, steps)?;
    Ok(draw_strip(CartPole::NAME, width, &frames, |svg, [x, _, theta, _]| {
        let track_y = Px(track);
        empty(
            svg,
            "line",
            &[
                ("class", &"track"),
                ("x1", &Px(MARGIN / 2.0)),
                ("y1", &track_y),
                ("x2", &Px(width - MARGIN / 2.0)),
                ("y2", &track_y),
                ("stroke", &"#444"),
            ],
        );
        for limit in [-POSITION_LIMIT, POSITION_LIMIT] {
            let x = Px(centre + limit * scale);
            empty(
                svg,
                "line",
                &[
                    ("class", &"limit"),
                    ("x1", &x),
                    ("y1", &Px(LABEL_HEIGHT + 6.0)),
                    ("x2", &x),
                    ("y2", &Px(track + 8.0)),
                    ("stroke", &"#c33"),
                    ("stroke-dasharray", &"4 3"),
                ],
            );
        }

        // Cart centred on x, its top carrying the pole's pivot.
        let (cart_x, pivot_y) = (centre + x * scale, track - cart_height);
        let tip = (cart_x + pole_length * theta.sin(), pivot_y - pole_length * theta.cos());
        empty(
            svg,
            "rect",
            &[
                ("class", &"cart"),
                ("x", &Px(cart_x - cart_width / 2.0)),
                ("y", &Px(pivot_y)),
                ("width", &Px(cart_width)),
                ("height", &Px(cart_height)),
                ("fill", &"#222"),
            ],
        );
        empty(
            svg,
            "line",
            &[
                ("class", &"pole"),
                ("x1", &Px(cart_x)),
                ("y1", &Px(pivot_y)),
                ("x2", &Px(tip.0)),
                ("y2", &Px(tip.1)),
                ("stroke", &"#ca9865"),
                ("stroke-width", &5),
                ("stroke-linecap", &"round"),
            ],
        );
        empty(
            svg,
            "circle",
            &[
                ("class", &"axle"),
                ("cx", &Px(cart_x)),
                ("cy", &Px(pivot_y)),
                ("r", &2.5),
                ("fill", &"#8184cb"),
            ],
        );
        format!("x {x:+.2} m, θ {:+.1}°", theta.to_degrees())
    }))
}

/// A MountainCar-v0 strip: for each selected step, the hill `0.45 sin(3p) + 0.55` over
/// `[-1.2, 0.6]`, the flag at the goal `p = 0.5`, the car, and the step number with p and v.
///
/// # Errors
///
/// [`RenderError`] when `steps` is empty, a step is out of range, or a selected state does not
/// have 2 values.
pub fn mountain_car_strip<S: AsRef<[f64]>>(
    states: &[S],
    steps: &[usize],
) -> Result<String, RenderError> {
    // The hill rises to a height of 1 and the flag stands 24 px above it.
    let width = 240.0;
    let scale = FRAME_HEIGHT - LABEL_HEIGHT - CAPTION_HEIGHT - 24.0;
    let left = (width - (MAX_POSITION - MIN_POSITION) * scale) / 2.0;
    let ground = FRAME_HEIGHT - CAPTION_HEIGHT;
    let point = |p: f64| {
        let height = 0.45 * (3.0 * p).sin() + 0.55;
        (left + (p - MIN_POSITION) * scale, ground - height * scale)
    };
    let hill: Vec<String> = (0..=60)
        .map(|i| {
            let (x, y) = point(MIN_POSITION + (MAX_POSITION - MIN_POSITION) * i as f64 / 60.0);
            format!("{},{}", Px(x), Px(y))
        })
        .collect();
    let hill = hill.join(" ");

    let frames = selected::<2, S>(MountainCar::NAME, states, steps)?;
    Ok(draw_strip(MountainCar::NAME, width, &frames, |svg, [position, velocity]| {
        empty(
            svg,
            "polyline",
            &[("class", &"hill"), ("points", &hill), ("fill", &"none"), ("stroke", &"#444")],
        );

        // A pennant on a 24 px pole at the goal.
        let (flag_x, flag_y) = point(GOAL_POSITION);
        let outline = format!("M{},{} v-24 l14,4 l-14,4", Px(flag_x), Px(flag_y));
        empty(
            svg,
            "path",
            &[("class", &"flag"), ("d", &outline), ("fill", &"#cc0"), ("stroke", &"#000")],
        );

        let (car_x, car_y) = point(position);
        empty(
            svg,
            "circle",
            &[
                ("class", &"car"),
                ("cx", &Px(car_x)),
                ("cy", &Px(car_y - 6.0)),
                ("r", &6),
                ("fill", &"#222"),
            ],
        );
        format!("p {position:+.3}, v {velocity:+.4}")
    }))
}

/// An Acrobot-v1 strip: for each selected step, the pivot, both links (θ₁ measured from
/// hanging down, θ₂ relative to the first link), the goal bar one link length above the
/// pivot, and the step number with both angles in degrees.
///
/// # Errors
///
/// [`RenderError`] when `steps` is empty, a step is out of range, or a selected state does not
/// have 4 values.
pub fn acrobot_strip<S: AsRef<[f64]>>(
    states: &[S],
    steps: &[usize],
) -> Result<String, RenderError> {
    let width = FRAME_HEIGHT;
    let reach = LINK_LENGTH_1 + LINK_LENGTH_2 + 0.2;
    let scale = (FRAME_HEIGHT - LABEL_HEIGHT - CAPTION_HEIGHT) / (2.0 * reach);
    let (pivot_x, pivot_y) = (width / 2.0, LABEL_HEIGHT + reach * scale);

    let frames = selected::<4, S>(Acrobot::NAME, states, steps)?;
    Ok(draw_strip(Acrobot::NAME, width, &frames, |svg, [theta1, theta2, _, _]| {
        let bar_y = Px(pivot_y - LINK_LENGTH_1 * scale);
        empty(
            svg,
            "line",
            &[
                ("class", &"goal"),
                ("x1", &Px(pivot_x - reach * scale)),
                ("y1", &bar_y),
                ("x2", &Px(pivot_x + reach * scale)),
                ("y2", &bar_y),
                ("stroke", &"#444"),
                ("stroke-dasharray", &"4 3"),
            ],
        );

        // Hanging down is θ₁ = 0; the elbow and the tip, with y growing downwards.
        let elbow_x = pivot_x + LINK_LENGTH_1 * scale * theta1.sin();
        let elbow_y = pivot_y + LINK_LENGTH_1 * scale * theta1.cos();
        let tip_x = elbow_x + LINK_LENGTH_2 * scale * (theta1 + theta2).sin();
        let tip_y = elbow_y + LINK_LENGTH_2 * scale * (theta1 + theta2).cos();
        let points = [(pivot_x, pivot_y), (elbow_x, elbow_y), (tip_x, tip_y)]
            .map(|(x, y)| format!("{},{}", Px(x), Px(y)))
            .join(" ");
        empty(
            svg,
            "polyline",
            &[
                ("class", &"links"),
                ("points", &points),
                ("fill", &"none"),
                ("stroke", &"#0cc"),
                ("stroke-width", &5),
                ("stroke-linejoin", &"round"),
                ("stroke-linecap", &"round"),
            ],
        );

        // The fixed pivot dark, the actuated elbow yellow.
        for (x, y, colour) in [(pivot_x, pivot_y, "#444"), (elbow_x, elbow_y, "#cc0")] {
            empty(
                svg,
                "circle",
                &[
                    ("class", &"joint"),
                    ("cx", &Px(x)),
                    ("cy", &Px(y)),
                    ("r", &3),
                    ("fill", &colour),
                ],
            );
        }
        format!("θ₁ {:+.0}°, θ₂ {:+.0}°", theta1.to_degrees(), theta2.to_degrees())
    }))
}

/// The states at `steps`, checked to exist and to have `N` values each.
fn selected<const N: usize, S: AsRef<[f64]>>(
    task: &'static str,
    states: &[S],
    steps: &[usize],
) -> Result<Vec<(usize, [f64; N])>, RenderError> {
    if steps.is_empty() {
        return Err(RenderError::NoSteps);
    }
    steps
        .iter()
        .map(|&step| {
            let state = states
                .get(step)
                .ok_or(RenderError::StepOutOfRange { step, states: states.len() })?
                .as_ref();
            let state = state.try_into().map_err(|_| RenderError::StateLength {
                task,
                step,
                expected: N,
                found: state.len(),
            })?;
            Ok((step, state))
        })
        .collect()
}

/// A row of frames `frame_width` wide, each with a border, the scene that `scene` writes for
/// its state, and a label: the step number and the caption `scene` returns.
fn draw_strip<const N: usize>(
    task: &str,
    frame_width: f64,
    frames: &[(usize, [f64; N])],
    mut scene: impl FnMut(&mut String, [f64; N]) -> String,
) -> String {
    let (width, height) = (Px(frame_width * frames.len() as f64), Px(FRAME_HEIGHT));
    let view_box = format!("0 0 {width} {height}");
    let mut svg = String::new();
    open(
        &mut svg,
        "svg",
        &[
            ("xmlns", &"http://www.w3.org/2000/svg"),
            ("width", &width),
            ("height", &height),
            ("viewBox", &view_box),
            ("font-family", &"sans-serif"),
            ("font-size", &11),
        ],
    );
    svg.push('\n');
    let steps: Vec<String> = frames.iter().map(|(step, _)| step.to_string()).collect();
    let title = format!("{task}, steps {}", steps.join(", "));
    with_text(&mut svg, "title", &[], &title);
    empty(&mut svg, "rect", &[("width", &width), ("height", &height), ("fill", &"#fff")]);
    svg.push('\n');

    for (index, &(step, state)) in frames.iter().enumerate() {
        let shift = format!("translate({},0)", Px(index as f64 * frame_width));
        open(&mut svg, "g", &[("class", &"frame"), ("transform", &shift)]);
        empty(
            &mut svg,
            "rect",
            &[
                ("class", &"border"),
                ("x", &0.5),
                ("y", &0.5),
                ("width", &Px(frame_width - 1.0)),
                ("height", &Px(FRAME_HEIGHT - 1.0)),
                ("fill", &"none"),
                ("stroke", &"#bbb"),
                ("stroke-width", &1),
            ],
        );
        let caption = scene(&mut svg, state);
        with_text(
            &mut svg,
            "text",
            &[("class", &"step"), ("x", &6), ("y", &14)],
            &format!("step {step}"),
        );
        let bottom = Px(FRAME_HEIGHT - 6.0);
        with_text(
            &mut svg,
            "text",
            &[("class", &"caption"), ("x", &6), ("y", &bottom), ("fill", &"#555")],
            &caption,
        );
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// A length in pixels, written with one decimal.
struct Px(f64);

impl Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// Attributes of an element as `(key, value)` pairs, written in order.
type Attributes<'a> = [(&'a str, &'a dyn Display)];

/// Writes the attributes ` key="value"` in order.
fn write_attributes(svg: &mut String, attributes: &Attributes) {
    for (key, value) in attributes {
        let _ = write!(svg, r#" {key}="{value}""#);
    }
}

/// Writes the start tag `<name …>` of an element whose children follow.
fn open(svg: &mut String, name: &str, attributes: &Attributes) {
    svg.push('<');
    svg.push_str(name);
    write_attributes(svg, attributes);
    svg.push('>');
}

/// Writes the empty element `<name …/>`.
fn empty(svg: &mut String, name: &str, attributes: &Attributes) {
    svg.push('<');
    svg.push_str(name);
    write_attributes(svg, attributes);
    svg.push_str("/>");
}

/// Writes the element `<name …>content</name>`, with `&`, `<` and `>` in `content` escaped.
fn with_text(svg: &mut String, name: &str, attributes: &Attributes, content: &str) {
    open(svg, name, attributes);
    for character in content.chars() {
        match character {
            '&' => svg.push_str("&amp;"),
            '<' => svg.push_str("&lt;"),
            '>' => svg.push_str("&gt;"),
            _ => svg.push(character),
        }
    }
    let _ = write!(svg, "</{name}>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_spaced_includes_both_ends() {
        assert_eq!(evenly_spaced(11, 3), [0, 5, 10]);
        assert_eq!(evenly_spaced(3, 10), [0, 1, 2]);
        assert_eq!(evenly_spaced(5, 1), [0]);
        assert!(evenly_spaced(0, 4).is_empty());
        assert!(evenly_spaced(4, 0).is_empty());
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let states = vec![vec![0.0; 4]; 3];
        assert_eq!(cartpole_strip(&states, &[]), Err(RenderError::NoSteps));
        assert_eq!(
            cartpole_strip(&states, &[0, 3]),
            Err(RenderError::StepOutOfRange { step: 3, states: 3 })
        );
        assert_eq!(
            mountain_car_strip(&states, &[1]),
            Err(RenderError::StateLength {
                task: MountainCar::NAME,
                step: 1,
                expected: 2,
                found: 4
            })
        );
        assert!(matches!(strip("Pong", &states, &[0]), Err(RenderError::NoDrawing { .. })));
    }

    #[test]
    fn every_builtin_task_can_be_drawn() {
        for name in super::super::NAMES {
            let task = super::super::by_name(name).unwrap();
            let states = vec![task.state(); 2];
            let svg = strip(name, &states, &[0, 1]).unwrap();
            assert_eq!(svg.matches(r#"<g class="frame""#).count(), 2, "{name}");
            assert!(svg.contains(name));
        }
    }
}
