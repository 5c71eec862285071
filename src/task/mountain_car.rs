//! MountainCar-v0: drive an underpowered car out of a valley by swinging back and forth.

use super::{StateError, Step, Task, float32, state_array, uniform};
use crate::rng::Stream;

/// Left end of the track, an inelastic wall.
pub(super) const MIN_POSITION: f64 = -1.2;
/// Right end of the track.
pub(super) const MAX_POSITION: f64 = 0.6;
/// Bound on the speed |v|.
const MAX_SPEED: f64 = 0.07;
/// Position of the flag; reaching it (with v ≥ 0) ends the episode.
pub(super) const GOAL_POSITION: f64 = 0.5;
/// Smallest velocity that counts at the goal.
const GOAL_VELOCITY: f64 = 0.0;
/// Acceleration per unit of action.
const FORCE: f64 = 0.001;
/// Scale of the slope's pull.
const GRAVITY: f64 = 0.0025;
/// Episode length limit of MountainCar-v0.
const MAX_STEPS: usize = 200;

/// Gymnasium's MountainCar-v0 (Moore 1990, University of Cambridge TR-209).
///
/// **State** `s = (p, v)`: position on the track `[-1.2, 0.6]` and velocity. The observation is
/// `s` rounded to `f32`. The track's height is `0.45 sin(3p) + 0.55`.
///
/// **Actions** `a ∈ {0, 1, 2}`: accelerate left, do nothing, accelerate right.
///
/// **Dynamics** (one step, with F = 0.001 and g = 0.0025):
///
/// ```text
/// v ← clip(v + (a - 1) F - g cos(3p), -0.07, 0.07)
/// p ← clip(p + v, -1.2, 0.6)
/// v ← 0   if p = -1.2 and v < 0   (the left wall is inelastic)
/// ```
///
/// **Reset** draws `p` uniformly from `[-0.6, -0.4)` and sets `v = 0`.
///
/// **Termination** when `p ≥ 0.5` and `v ≥ 0`; **truncation** at 200 steps.
///
/// **Reward** -1 for every step. Solved at a mean return of -110.
#[derive(Debug, Clone, PartialEq)]
pub struct MountainCar {
    /// `(p, v)`.
    state: [f64; 2],
    /// Steps since the episode started.
    elapsed: usize,
}

impl MountainCar {
    /// The name [`super::by_name`] knows this task by.
    pub const NAME: &'static str = "MountainCar-v0";

    /// A car at rest at the middle of the reset range; call [`Task::reset`] to start an episode.
    pub fn new() -> Self {
        Self { state: [-0.5, 0.0], elapsed: 0 }
    }
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

/// `x` limited to `[low, high]`, passing NaN through like `numpy.clip`.
fn clip(x: f64, low: f64, high: f64) -> f64 {
    if x < low {
        low
    } else if x > high {
        high
    } else {
        x
    }
}

impl Task for MountainCar {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn observation_size(&self) -> usize {
        2
    }

    fn actions(&self) -> usize {
        3
    }

    fn max_steps(&self) -> usize {
        MAX_STEPS
    }

    fn solved_at(&self) -> f64 {
        -110.0
    }

    fn reset(&mut self, rng: &mut Stream, observation: &mut [f64]) {
        self.state = [uniform(rng, -0.6, -0.4), 0.0];
        self.elapsed = 0;
        self.observe(observation);
    }

    fn step(&mut self, action: usize, observation: &mut [f64]) -> Step {
        let push = [-FORCE, 0.0, FORCE][action];
        let [position, velocity] = self.state;

        let velocity =
            clip(velocity + (push + (3.0 * position).cos() * -GRAVITY), -MAX_SPEED, MAX_SPEED);
        let position = clip(position + velocity, MIN_POSITION, MAX_POSITION);
        let velocity = if position == MIN_POSITION && velocity < 0.0 { 0.0 } else { velocity };
        self.state = [position, velocity];
        self.observe(observation);

        self.elapsed += 1;
        Step {
            reward: -1.0,
            terminated: position >= GOAL_POSITION && velocity >= GOAL_VELOCITY,
            truncated: self.elapsed >= MAX_STEPS,
        }
    }

    fn observe(&self, observation: &mut [f64]) {
        observation[0] = float32(self.state[0]);
        observation[1] = float32(self.state[1]);
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
    fn reset_is_uniform_on_the_gymnasium_range() {
        let mut task = MountainCar::new();
        let mut observation = [0.0; 2];
        let mut rng = stream(12, Purpose::Evaluation, 0);
        let resets = 20_000;
        let (mut sum, mut squares) = (0.0, 0.0);
        for _ in 0..resets {
            task.reset(&mut rng, &mut observation);
            let [position, velocity] = task.state;
            assert!((-0.6..-0.4).contains(&position), "{position}");
            assert_eq!(velocity, 0.0);
            sum += position;
            squares += position * position;
        }

        // Uniform on [-0.6, -0.4): mean -0.5, variance 0.2² / 12; five standard errors.
        let n = resets as f64;
        let width: f64 = 0.2;
        let variance = width.powi(2) / 12.0;
        let mean = sum / n;
        assert!((mean + 0.5).abs() < 5.0 * (variance / n).sqrt(), "mean {mean}");
        let sample_variance = squares / n - mean * mean;
        let tolerance = 5.0 * ((width.powi(4) / 80.0 - variance.powi(2)) / n).sqrt();
        assert!((sample_variance - variance).abs() < tolerance, "variance {sample_variance}");
    }

    #[test]
    fn the_left_wall_stops_the_car() {
        let mut task = MountainCar::new();
        let mut observation = [0.0; 2];
        task.set_state(&[-1.19, -0.05], 0).unwrap();
        task.step(0, &mut observation);
        assert_eq!(task.state, [MIN_POSITION, 0.0]);
    }

    #[test]
    fn speed_is_bounded() {
        let mut task = MountainCar::new();
        let mut observation = [0.0; 2];
        task.set_state(&[-0.5, 0.0699], 0).unwrap();
        task.step(2, &mut observation);
        assert_eq!(task.state[1], MAX_SPEED);
    }

    #[test]
    fn reaching_the_flag_terminates() {
        let mut task = MountainCar::new();
        let mut observation = [0.0; 2];
        task.set_state(&[0.49, 0.03], 0).unwrap();
        let step = task.step(2, &mut observation);
        assert_eq!(step, Step { reward: -1.0, terminated: true, truncated: false });
        assert_eq!(observation, [float32(task.state[0]), float32(task.state[1])]);
    }
}
