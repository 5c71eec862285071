//! Acrobot-v1: swing up a two-link pendulum that is actuated only at the elbow.

use super::{StateError, Step, Task, float32, state_array, uniform};
use crate::rng::Stream;
use std::f64::consts::{FRAC_PI_2, PI};

/// Time step of one action (s), integrated by a single RK4 step.
const DT: f64 = 0.2;
/// Length of the first link l₁ (m).
pub(super) const LINK_LENGTH_1: f64 = 1.0;
/// Length of the second link (m).
pub(super) const LINK_LENGTH_2: f64 = 1.0;
/// Mass of the first link m₁ (kg).
const LINK_MASS_1: f64 = 1.0;
/// Mass of the second link m₂ (kg).
const LINK_MASS_2: f64 = 1.0;
/// Position of the first link's centre of mass l_c1 (m).
const LINK_COM_1: f64 = 0.5;
/// Position of the second link's centre of mass l_c2 (m).
const LINK_COM_2: f64 = 0.5;
/// Moment of inertia I of either link.
const LINK_MOI: f64 = 1.0;
/// Gravitational acceleration g (m/s²).
const GRAVITY: f64 = 9.8;
/// Bound on |θ̇₁|.
const MAX_VELOCITY_1: f64 = 4.0 * PI;
/// Bound on |θ̇₂|.
const MAX_VELOCITY_2: f64 = 9.0 * PI;
/// Torque at the elbow for each action.
const TORQUES: [f64; 3] = [-1.0, 0.0, 1.0];
/// Episode length limit of Acrobot-v1.
const MAX_STEPS: usize = 500;

/// Gymnasium's Acrobot-v1 (Sutton 1996, "Generalization in reinforcement learning: successful
/// examples using sparse coarse coding", NIPS 8), with the dynamics of Sutton & Barto's book.
///
/// **State** `s = (θ₁, θ₂, θ̇₁, θ̇₂)`: the angle of the first link from hanging straight down,
/// the angle of the second link relative to the first, and their angular velocities. The
/// observation is `(cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂)` rounded to `f32`.
///
/// **Actions** `0, 1, 2` apply a torque `a` of -1, 0 or +1 at the joint between the links.
///
/// **Dynamics** (m₁ = m₂ = 1, l₁ = 1, l_c1 = l_c2 = 0.5, I₁ = I₂ = 1, g = 9.8):
///
/// ```text
/// d₁ = m₁ l_c1² + m₂ (l₁² + l_c2² + 2 l₁ l_c2 cos θ₂) + I₁ + I₂
/// d₂ = m₂ (l_c2² + l₁ l_c2 cos θ₂) + I₂
/// φ₂ = m₂ l_c2 g cos(θ₁ + θ₂ - π/2)
/// φ₁ = -m₂ l₁ l_c2 θ̇₂² sin θ₂ - 2 m₂ l₁ l_c2 θ̇₂ θ̇₁ sin θ₂
///      + (m₁ l_c1 + m₂ l₁) g cos(θ₁ - π/2) + φ₂
/// θ̈₂ = (a + d₂/d₁ φ₁ - m₂ l₁ l_c2 θ̇₁² sin θ₂ - φ₂) / (m₂ l_c2² + I₂ - d₂²/d₁)
/// θ̈₁ = -(d₂ θ̈₂ + φ₁) / d₁
/// ```
///
/// integrated over 0.2 s by one classical Runge-Kutta step; then both angles are wrapped into
/// `[-π, π]` (by repeatedly adding or subtracting 2π, as Gymnasium's `wrap` does) and the
/// velocities clamped to `|θ̇₁| ≤ 4π`, `|θ̇₂| ≤ 9π`. The operations are done in Gymnasium's order,
/// and its squares `x**2` go through the C library's `pow` as in Python, which is not always the
/// correctly rounded `x · x`: one last-bit difference grows to 1e-12 within a hundred steps.
///
/// **Reset** draws each of the four state values uniformly from `[-0.1, 0.1)` and rounds it to
/// `f32`, as Gymnasium stores the reset state as `float32`.
///
/// **Termination** when the tip rises above the bar one link length over the pivot:
/// `-cos θ₁ - cos(θ₁ + θ₂) > 1`; **truncation** at 500 steps.
///
/// **Reward** -1 for every step that does not terminate, 0 for the one that does. Solved at a
/// mean return of -100.
#[derive(Debug, Clone, PartialEq)]
pub struct Acrobot {
    /// `(θ₁, θ₂, θ̇₁, θ̇₂)`.
    state: [f64; 4],
    /// Steps since the episode started.
    elapsed: usize,
}

impl Acrobot {
    /// The name [`super::by_name`] knows this task by.
    pub const NAME: &'static str = "Acrobot-v1";

    /// An acrobot hanging still; call [`Task::reset`] to start an episode.
    pub fn new() -> Self {
        Self { state: [0.0; 4], elapsed: 0 }
    }
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

/// `x²` as Gymnasium's `x**2` computes it: through the C library's `pow`.
///
/// glibc's `pow` is accurate to 0.52 ulp but not always correctly rounded, so it can differ from
/// `x * x` in the last bit; in a chaotic system such a bit grows to 1e-12 within a hundred steps.
/// The exponent is hidden from the optimiser, which would otherwise turn `pow(x, 2)` into `x * x`.
fn pow2(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// Time derivative `(θ̇₁, θ̇₂, θ̈₁, θ̈₂)` of the state `s` under the elbow torque `torque`.
///
/// Products of constants are exact in binary here (all are 0.5, 1 or 2 apart from g), so only
/// the order of operations on state-dependent values matters; it follows Gymnasium's `_dsdt`,
/// including its squares by `pow` ([`pow2`]).
fn derivatives(s: [f64; 4], torque: f64) -> [f64; 4] {
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let (m1, m2, l1) = (LINK_MASS_1, LINK_MASS_2, LINK_LENGTH_1);
    let (lc1, lc2, i1, i2) = (LINK_COM_1, LINK_COM_2, LINK_MOI, LINK_MOI);
    let (sin2, cos2) = theta2.sin_cos();

    let d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * cos2) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + i2;
    let phi2 = m2 * lc2 * GRAVITY * (theta1 + theta2 - FRAC_PI_2).cos();
    let phi1 = -m2 * l1 * lc2 * pow2(dtheta2) * sin2
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2
        + (m1 * lc1 + m2 * l1) * GRAVITY * (theta1 - FRAC_PI_2).cos()
        + phi2;
    let ddtheta2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * pow2(dtheta1) * sin2 - phi2)
        / (m2 * (lc2 * lc2) + i2 - pow2(d2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// One classical Runge-Kutta step of length [`DT`] from `y` with the torque held constant:
///
/// ```text
/// k₁ = f(y), k₂ = f(y + h/2 k₁), k₃ = f(y + h/2 k₂), k₄ = f(y + h k₃)
/// y' = y + h/6 (k₁ + 2k₂ + 2k₃ + k₄)
/// ```
///
/// Gymnasium appends the torque to the state with a zero derivative; carrying it as a constant
/// gives the same numbers, since `torque + c · 0` is `torque`.
fn rk4(y: [f64; 4], torque: f64) -> [f64; 4] {
    let h = DT;
    let half = h / 2.0;
    let along = |k: [f64; 4], scale: f64| std::array::from_fn(|i| y[i] + scale * k[i]);

    let k1 = derivatives(y, torque);
    let k2 = derivatives(along(k1, half), torque);
    let k3 = derivatives(along(k2, half), torque);
    let k4 = derivatives(along(k3, h), torque);
    std::array::from_fn(|i| y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// `x` moved into `[low, high]` by whole periods `high - low`, one period at a time as
/// Gymnasium's `wrap` does (non-finite values are returned unchanged instead of looping).
fn wrap(mut x: f64, low: f64, high: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let period = high - low;
    while x > high {
        x -= period;
    }
    while x < low {
        x += period;
    }
    x
}

/// `min(max(x, low), high)` with Python's `min` and `max`, which pass NaN through.
fn bound(x: f64, low: f64, high: f64) -> f64 {
    let x = if low > x { low } else { x };
    if high < x { high } else { x }
}

impl Task for Acrobot {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn observation_size(&self) -> usize {
        6
    }

    fn actions(&self) -> usize {
        3
    }

    fn max_steps(&self) -> usize {
        MAX_STEPS
    }

    fn solved_at(&self) -> f64 {
        -100.0
    }

    fn reset(&mut self, rng: &mut Stream, observation: &mut [f64]) {
        for value in &mut self.state {
            *value = float32(uniform(rng, -0.1, 0.1));
        }
        self.elapsed = 0;
        self.observe(observation);
    }

    fn step(&mut self, action: usize, observation: &mut [f64]) -> Step {
        let torque = TORQUES[action];
        let [theta1, theta2, dtheta1, dtheta2] = rk4(self.state, torque);
        self.state = [
            wrap(theta1, -PI, PI),
            wrap(theta2, -PI, PI),
            bound(dtheta1, -MAX_VELOCITY_1, MAX_VELOCITY_1),
            bound(dtheta2, -MAX_VELOCITY_2, MAX_VELOCITY_2),
        ];
        self.observe(observation);

        let [theta1, theta2, ..] = self.state;
        let terminated = -theta1.cos() - (theta2 + theta1).cos() > 1.0;
        self.elapsed += 1;
        Step {
            reward: if terminated { 0.0 } else { -1.0 },
            terminated,
            truncated: self.elapsed >= MAX_STEPS,
        }
    }

    fn observe(&self, observation: &mut [f64]) {
        let [theta1, theta2, dtheta1, dtheta2] = self.state;
        let (sin1, cos1) = theta1.sin_cos();
        let (sin2, cos2) = theta2.sin_cos();
        let values = [cos1, sin1, cos2, sin2, dtheta1, dtheta2];
        for (observed, value) in observation[..6].iter_mut().zip(values) {
            *observed = float32(value);
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64], elapsed: usize) -> Result<(), StateError> {
        self.state = state_array(Self::NAME, state)?;
        self.elapsed = elapsed;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn reset_is_uniform_on_the_gymnasium_range_in_f32() {
        let mut task = Acrobot::new();
        let mut observation = [0.0; 6];
        let mut rng = stream(13, Purpose::Evaluation, 0);
        let resets = 20_000;
        let bound = float32(0.1);
        let mut sums = [0.0; 4];
        let mut squares = [0.0; 4];
        for _ in 0..resets {
            task.reset(&mut rng, &mut observation);
            for (i, value) in task.state.into_iter().enumerate() {
                assert!((-bound..=bound).contains(&value), "{value}");
                assert_eq!(value, float32(value), "not an f32 value: {value}");
                sums[i] += value;
                squares[i] += value * value;
            }
        }

        // Uniform on [-0.1, 0.1): mean 0, variance 0.2² / 12; five standard errors.
        let n = resets as f64;
        let width: f64 = 0.2;
        let variance = width.powi(2) / 12.0;
        let variance_tolerance = 5.0 * ((width.powi(4) / 80.0 - variance.powi(2)) / n).sqrt();
        for i in 0..4 {
            let mean = sums[i] / n;
            assert!(mean.abs() < 5.0 * (variance / n).sqrt(), "component {i}: mean {mean}");
            let sample_variance = squares[i] / n - mean * mean;
            assert!(
                (sample_variance - variance).abs() < variance_tolerance,
                "component {i}: variance {sample_variance}"
            );
        }
    }

    #[test]
    fn observation_holds_cosines_sines_and_velocities() {
        let mut task = Acrobot::new();
        task.set_state(&[0.3, -1.2, 0.5, -2.0], 0).unwrap();
        let mut observation = [0.0; 6];
        task.observe(&mut observation);
        let expected = [0.3f64.cos(), 0.3f64.sin(), 1.2f64.cos(), -(1.2f64.sin()), 0.5, -2.0];
        assert_eq!(observation, expected.map(float32));
    }

    #[test]
    fn wrap_moves_by_whole_periods() {
        assert_eq!(wrap(PI + 0.5, -PI, PI), PI + 0.5 - 2.0 * PI);
        assert_eq!(wrap(-PI - 0.5, -PI, PI), -PI - 0.5 + 2.0 * PI);
        assert_eq!(wrap(1.0, -PI, PI), 1.0);
        assert_eq!(wrap(PI, -PI, PI), PI);
        assert!(wrap(f64::NAN, -PI, PI).is_nan());
        assert_eq!(wrap(f64::INFINITY, -PI, PI), f64::INFINITY);
    }

    #[test]
    fn bound_clamps_and_passes_nan() {
        assert_eq!(bound(20.0, -MAX_VELOCITY_1, MAX_VELOCITY_1), MAX_VELOCITY_1);
        assert_eq!(bound(-20.0, -MAX_VELOCITY_1, MAX_VELOCITY_1), -MAX_VELOCITY_1);
        assert_eq!(bound(1.5, -MAX_VELOCITY_1, MAX_VELOCITY_1), 1.5);
        assert!(bound(f64::NAN, -1.0, 1.0).is_nan());
    }

    #[test]
    fn hanging_still_stays_still() {
        let mut task = Acrobot::new();
        let mut observation = [0.0; 6];
        let step = task.step(1, &mut observation);
        // Not exactly still: cos(-π/2) is 6e-17 in floating point, in Gymnasium as here.
        assert!(task.state.iter().all(|value| value.abs() < 1e-15), "{:?}", task.state);
        assert_eq!(step, Step { reward: -1.0, terminated: false, truncated: false });
    }

    #[test]
    fn energy_is_nearly_conserved_without_torque() {
        // Without torque the book's equations conserve T + V, with
        // T = d₁ θ̇₁² / 2 + d₂ θ̇₁ θ̇₂ + (m₂ l_c2² + I₂) θ̇₂² / 2 and
        // V = -(m₁ l_c1 + m₂ l₁) g cos θ₁ - m₂ l_c2 g cos(θ₁ + θ₂);
        // RK4 with h = 0.2 keeps the drift small over a few swings.
        let energy = |[theta1, theta2, dtheta1, dtheta2]: [f64; 4]| {
            let d1 = 3.5 + theta2.cos();
            let d2 = 1.25 + 0.5 * theta2.cos();
            let kinetic =
                0.5 * d1 * dtheta1 * dtheta1 + d2 * dtheta1 * dtheta2 + 0.625 * dtheta2 * dtheta2;
            let potential = -1.5 * GRAVITY * theta1.cos() - 0.5 * GRAVITY * (theta1 + theta2).cos();
            kinetic + potential
        };
        let mut task = Acrobot::new();
        let mut observation = [0.0; 6];
        task.set_state(&[0.8, -0.4, 0.0, 0.0], 0).unwrap();
        let initial = energy(task.state);
        for _ in 0..20 {
            task.step(1, &mut observation);
        }
        let drift = (energy(task.state) - initial).abs() / initial.abs();
        assert!(drift < 0.01, "relative energy drift {drift}");
    }
}
