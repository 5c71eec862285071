//! CartPole-v1: balance a pole on a cart that is pushed left or right.

use super::{StateError, Step, Task, float32, state_array, uniform};
use crate::rng::Stream;
use std::f64::consts::PI;

/// Gravitational acceleration g (m/s²).
const GRAVITY: f64 = 9.8;
/// Mass of the cart m_c (kg).
const CART_MASS: f64 = 1.0;
/// Mass of the pole m_p (kg).
const POLE_MASS: f64 = 0.1;
/// m = m_c + m_p.
const TOTAL_MASS: f64 = POLE_MASS + CART_MASS;
/// Half the pole's length l (m): the distance from the pivot to the pole's centre of mass.
const HALF_LENGTH: f64 = 0.5;
/// m_p · l.
const POLE_MASS_LENGTH: f64 = POLE_MASS * HALF_LENGTH;
/// Magnitude of the force F pushing the cart (N).
const FORCE: f64 = 10.0;
/// Time step τ of the Euler integrator (s).
const TAU: f64 = 0.02;
/// The episode terminates when |θ| exceeds 12° (in radians, computed as Gymnasium does).
const ANGLE_LIMIT: f64 = 12.0 * 2.0 * PI / 360.0;
/// The episode terminates when |x| exceeds 2.4 m.
pub(super) const POSITION_LIMIT: f64 = 2.4;
/// Episode length limit of CartPole-v1.
const MAX_STEPS: usize = 500;

/// Gymnasium's CartPole-v1 (Barto, Sutton & Anderson 1983, doi:10.1109/TSMC.1983.6313077).
///
/// **State** `s = (x, ẋ, θ, θ̇)`: cart position (m) and velocity, pole angle from upright
/// (rad, positive leaning towards +x) and angular velocity. The observation is `s` rounded to
/// `f32`.
///
/// **Actions** `0` pushes the cart left (`F = -10 N`), `1` pushes it right (`F = +10 N`).
///
/// **Dynamics** with g = 9.8, m_c = 1, m_p = 0.1, m = m_c + m_p, l = 0.5:
///
/// ```text
/// t  = (F + m_p l θ̇² sin θ) / m
/// θ̈  = (g sin θ - t cos θ) / (l (4/3 - m_p cos² θ / m))
/// ẍ  = t - m_p l θ̈ cos θ / m
/// ```
///
/// then one explicit Euler step of τ = 0.02 s, every new value computed from the old state:
/// `x += τ ẋ, ẋ += τ ẍ, θ += τ θ̇, θ̇ += τ θ̈`. The operations are done in Gymnasium's order
/// (squares as products, like its `np.square`), so the results agree to the last bit whenever
/// `sin` and `cos` do.
///
/// **Reset** draws each of the four state values uniformly from `[-0.05, 0.05)`.
///
/// **Termination** when `|x| > 2.4` or `|θ| > 12°`; **truncation** at 500 steps.
///
/// **Reward** +1 for every step, including the terminating one; like Gymnasium, steps taken
/// after termination (without a reset) earn 0. Solved at a mean return of 475.
#[derive(Debug, Clone, PartialEq)]
pub struct CartPole {
    /// `(x, ẋ, θ, θ̇)`.
    state: [f64; 4],
    /// Steps since the episode started.
    elapsed: usize,
    /// A terminating step has been returned; later steps earn nothing.
    terminated: bool,
}

impl CartPole {
    /// The name [`super::by_name`] knows this task by.
    pub const NAME: &'static str = "CartPole-v1";

    /// A cart pole at rest in the upright position; call [`Task::reset`] to start an episode.
    pub fn new() -> Self {
        Self { state: [0.0; 4], elapsed: 0, terminated: false }
    }
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl Task for CartPole {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn observation_size(&self) -> usize {
        4
    }

    fn actions(&self) -> usize {
        2
    }

    fn max_steps(&self) -> usize {
        MAX_STEPS
    }

    fn solved_at(&self) -> f64 {
        475.0
    }

    fn reset(&mut self, rng: &mut Stream, observation: &mut [f64]) {
        for value in &mut self.state {
            *value = uniform(rng, -0.05, 0.05);
        }
        self.elapsed = 0;
        self.terminated = false;
        self.observe(observation);
    }

    fn step(&mut self, action: usize, observation: &mut [f64]) -> Step {
        assert!(action < 2, "CartPole-v1 has actions 0 and 1, got {action}");
        let [x, x_dot, theta, theta_dot] = self.state;

        // Accelerations from the equations of motion.
        let force = if action == 1 { FORCE } else { -FORCE };
        let (sin, cos) = theta.sin_cos();
        let temp = (force + POLE_MASS_LENGTH * (theta_dot * theta_dot) * sin) / TOTAL_MASS;
        let theta_acc = (GRAVITY * sin - cos * temp)
            / (HALF_LENGTH * (4.0 / 3.0 - POLE_MASS * (cos * cos) / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;

        // Explicit Euler step.
        let x = x + TAU * x_dot;
        let x_dot = x_dot + TAU * x_acc;
        let theta = theta + TAU * theta_dot;
        let theta_dot = theta_dot + TAU * theta_acc;
        self.state = [x, x_dot, theta, theta_dot];
        self.observe(observation);

        // Termination, reward and time limit.
        #[allow(
            clippy::manual_range_contains,
            reason = "Gymnasium's comparisons: a NaN state does not terminate, `!contains` would"
        )]
        let terminated = x < -POSITION_LIMIT
            || x > POSITION_LIMIT
            || theta < -ANGLE_LIMIT
            || theta > ANGLE_LIMIT;
        let reward = if terminated && self.terminated { 0.0 } else { 1.0 };
        self.terminated |= terminated;
        self.elapsed += 1;
        Step { reward, terminated, truncated: self.elapsed >= MAX_STEPS }
    }

    fn observe(&self, observation: &mut [f64]) {
        for (observed, value) in observation[..4].iter_mut().zip(self.state) {
            *observed = float32(value);
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64], elapsed: usize) -> Result<(), StateError> {
        self.state = state_array(Self::NAME, state)?;
        self.elapsed = elapsed;
        self.terminated = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn reset_is_uniform_on_the_gymnasium_range() {
        let mut task = CartPole::new();
        let mut observation = [0.0; 4];
        let mut rng = stream(11, Purpose::Evaluation, 0);
        let resets = 20_000;
        let mut sums = [0.0; 4];
        let mut squares = [0.0; 4];
        for _ in 0..resets {
            task.reset(&mut rng, &mut observation);
            for (i, value) in task.state.into_iter().enumerate() {
                assert!((-0.05..0.05).contains(&value), "{value}");
                sums[i] += value;
                squares[i] += value * value;
            }
        }

        // Uniform on [a, b): mean (a + b) / 2, variance (b - a)² / 12, fourth central moment
        // (b - a)⁴ / 80; allow five standard errors of each estimate.
        let n = resets as f64;
        let width: f64 = 0.1;
        let variance = width.powi(2) / 12.0;
        let mean_tolerance = 5.0 * (variance / n).sqrt();
        let variance_tolerance = 5.0 * ((width.powi(4) / 80.0 - variance.powi(2)) / n).sqrt();
        for i in 0..4 {
            let mean = sums[i] / n;
            assert!(mean.abs() < mean_tolerance, "component {i}: mean {mean}");
            let sample_variance = squares[i] / n - mean * mean;
            assert!(
                (sample_variance - variance).abs() < variance_tolerance,
                "component {i}: variance {sample_variance}, expected {variance}"
            );
        }
    }

    #[test]
    fn reset_is_reproducible_from_the_stream() {
        let mut first = CartPole::new();
        let mut second = CartPole::new();
        let mut observation = [0.0; 4];
        first.reset(&mut stream(3, Purpose::Evaluation, 9), &mut observation);
        second.reset(&mut stream(3, Purpose::Evaluation, 9), &mut observation);
        assert_eq!(first, second);
        assert_eq!(observation, first.state.map(float32));
    }

    #[test]
    fn observations_are_the_state_rounded_to_f32() {
        let mut task = CartPole::new();
        let state = [0.1, -0.2, 0.03, 0.4];
        task.set_state(&state, 0).unwrap();
        let mut observation = [0.0; 4];
        task.step(1, &mut observation);
        for (observed, value) in observation.iter().zip(task.state) {
            assert_ne!(*observed, value);
            assert_eq!(*observed, value as f32 as f64);
        }
    }

    #[test]
    fn steps_after_termination_earn_nothing() {
        let mut task = CartPole::new();
        let mut observation = [0.0; 4];
        task.set_state(&[2.39, 1.0, 0.0, 0.0], 0).unwrap();
        let first = task.step(1, &mut observation);
        assert_eq!(first, Step { reward: 1.0, terminated: true, truncated: false });
        let second = task.step(1, &mut observation);
        assert_eq!(second, Step { reward: 0.0, terminated: true, truncated: false });
    }

    #[test]
    fn one_step_from_rest_follows_the_equations() {
        // Upright and at rest, the push accelerates the cart by F / m and tilts the pole the
        // other way by F / (m l (4/3 - m_p / m)); only velocities change in the first step.
        let mut task = CartPole::new();
        let mut observation = [0.0; 4];
        task.step(1, &mut observation);
        let theta_acc = -FORCE / TOTAL_MASS / (HALF_LENGTH * (4.0 / 3.0 - POLE_MASS / TOTAL_MASS));
        let x_acc = FORCE / TOTAL_MASS - POLE_MASS_LENGTH * theta_acc / TOTAL_MASS;
        let expected = [0.0, TAU * x_acc, 0.0, TAU * theta_acc];
        for (value, expected) in task.state.iter().zip(expected) {
            approx::assert_relative_eq!(*value, expected, max_relative = 1e-15);
        }
    }
}
