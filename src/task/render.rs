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
use std::fmt::Write;
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
    #[error("no drawing for task `{task}`; tasks that can be drawn are {}", super::NAMES.join(", "))]
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
        let left = centre - POSITION_LIMIT * scale;
        let right = centre + POSITION_LIMIT * scale;
        let _ = write!(
            svg,
            r##"<line class="track" x1="{:.1}" y1="{track:.1}" x2="{:.1}" y2="{track:.1}" stroke="#444"/>"##,
            MARGIN / 2.0,
            width - MARGIN / 2.0,
        );
        for limit in [left, right] {
            let _ = write!(
                svg,
                r##"<line class="limit" x1="{limit:.1}" y1="{:.1}" x2="{limit:.1}" y2="{:.1}" stroke="#c33" stroke-dasharray="4 3"/>"##,
                LABEL_HEIGHT + 6.0,
                track + 8.0,
            );
        }

        // Cart centred on x, its top carrying the pole's pivot.
        let cart_x = centre + x * scale;
        let pivot_y = track - cart_height;
        let tip_x = cart_x + pole_length * theta.sin();
        let tip_y = pivot_y - pole_length * theta.cos();
        let _ = write!(
            svg,
            r##"<rect class="cart" x="{:.1}" y="{pivot_y:.1}" width="{cart_width:.1}" height="{cart_height:.1}" fill="#222"/>"##,
            cart_x - cart_width / 2.0,
        );
        let _ = write!(
            svg,
            r##"<line class="pole" x1="{cart_x:.1}" y1="{pivot_y:.1}" x2="{tip_x:.1}" y2="{tip_y:.1}" stroke="#ca9865" stroke-width="5" stroke-linecap="round"/>"##,
        );
        let _ = write!(
            svg,
            r##"<circle class="axle" cx="{cart_x:.1}" cy="{pivot_y:.1}" r="2.5" fill="#8184cb"/>"##,
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

    let frames = selected::<2, S>(MountainCar::NAME, states, steps)?;
    Ok(draw_strip(MountainCar::NAME, width, &frames, |svg, [position, velocity]| {
        let hill: Vec<String> = (0..=60)
            .map(|i| {
                let (x, y) = point(MIN_POSITION + (MAX_POSITION - MIN_POSITION) * i as f64 / 60.0);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            svg,
            r##"<polyline class="hill" points="{}" fill="none" stroke="#444"/>"##,
            hill.join(" ")
        );

        let (flag_x, flag_y) = point(GOAL_POSITION);
        let _ = write!(
            svg,
            r##"<path class="flag" d="M{flag_x:.1},{flag_y:.1} v-24 l14,4 l-14,4" fill="#cc0" stroke="#000"/>"##,
        );

        let (car_x, car_y) = point(position);
        let _ = write!(
            svg,
            r##"<circle class="car" cx="{car_x:.1}" cy="{:.1}" r="6" fill="#222"/>"##,
            car_y - 6.0,
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
        let bar_y = pivot_y - LINK_LENGTH_1 * scale;
        let _ = write!(
            svg,
            r##"<line class="goal" x1="{:.1}" y1="{bar_y:.1}" x2="{:.1}" y2="{bar_y:.1}" stroke="#444" stroke-dasharray="4 3"/>"##,
            pivot_x - reach * scale,
            pivot_x + reach * scale,
        );

        // Hanging down is θ₁ = 0; the elbow and the tip, with y growing downwards.
        let elbow_x = pivot_x + LINK_LENGTH_1 * scale * theta1.sin();
        let elbow_y = pivot_y + LINK_LENGTH_1 * scale * theta1.cos();
        let tip_x = elbow_x + LINK_LENGTH_2 * scale * (theta1 + theta2).sin();
        let tip_y = elbow_y + LINK_LENGTH_2 * scale * (theta1 + theta2).cos();
        let _ = write!(
            svg,
            r##"<polyline class="links" points="{pivot_x:.1},{pivot_y:.1} {elbow_x:.1},{elbow_y:.1} {tip_x:.1},{tip_y:.1}" fill="none" stroke="#0cc" stroke-width="5" stroke-linejoin="round" stroke-linecap="round"/>"##,
        );
        for (x, y) in [(pivot_x, pivot_y), (elbow_x, elbow_y)] {
            let _ = write!(
                svg,
                r##"<circle class="joint" cx="{x:.1}" cy="{y:.1}" r="3" fill="#cc0"/>"##,
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
    let width = frame_width * frames.len() as f64;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{FRAME_HEIGHT:.0}" viewBox="0 0 {width:.0} {FRAME_HEIGHT:.0}" font-family="sans-serif" font-size="11">"##,
    );
    let steps: Vec<String> = frames.iter().map(|(step, _)| step.to_string()).collect();
    let _ = writeln!(svg, "<title>{task}, steps {}</title>", steps.join(", "));
    let _ = writeln!(svg, r##"<rect width="{width:.0}" height="{FRAME_HEIGHT:.0}" fill="#fff"/>"##);

    for (index, &(step, state)) in frames.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<g class="frame" transform="translate({:.1},0)">"##,
            index as f64 * frame_width
        );
        let _ = write!(
            svg,
            r##"<rect class="border" x="0.5" y="0.5" width="{:.1}" height="{:.1}" fill="none" stroke="#bbb"/>"##,
            frame_width - 1.0,
            FRAME_HEIGHT - 1.0,
        );
        let caption = scene(&mut svg, state);
        let _ = write!(svg, r##"<text class="step" x="6" y="14">step {step}</text>"##);
        let _ = write!(
            svg,
            r##"<text class="caption" x="6" y="{:.1}" fill="#555">{caption}</text>"##,
            FRAME_HEIGHT - 6.0
        );
        let _ = writeln!(svg, "</g>");
    }
    svg.push_str("</svg>\n");
    svg
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
