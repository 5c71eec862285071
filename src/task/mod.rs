//! Tasks: the environments a grown network acts in.
//!
//! This module owns the [`Task`] trait, the contract between an environment and everything that
//! runs episodes in it (training, evaluation, rendering), and the three built-in control problems
//! from Gymnasium's classic-control suite:
//!
//! | name | type | observation | actions | episode limit | solved at |
//! |---|---|---|---|---|---|
//! | `CartPole-v1` | [`CartPole`] | 4 | 2 | 500 | 475 |
//! | `MountainCar-v0` | [`MountainCar`] | 2 | 3 | 200 | -110 |
//! | `Acrobot-v1` | [`Acrobot`] | 6 | 3 | 500 | -100 |
//!
//! The built-in tasks reproduce Gymnasium (version 1.x, created with `gymnasium.make`, so with
//! its `TimeLimit` wrapper) step for step: the same constants, integrators, reset ranges,
//! termination and truncation rules, rewards and observation layouts. Observations are rounded
//! to `f32` and back, as Gymnasium returns `float32` arrays; internal states stay `f64`. Tests
//! replay trajectories recorded from Gymnasium 1.4: with glibc's `sin`, `cos` and `pow` (Linux),
//! every state of every recorded step agrees to the last bit; other C libraries may differ in the
//! last bit, which Acrobot's chaotic dynamics amplify over hundreds of steps.
//!
//! Tasks are chosen by name with [`by_name`]; [`render`] draws episodes as SVG strips.

mod acrobot;
mod cartpole;
mod mountain_car;
pub mod render;

pub use acrobot::Acrobot;
pub use cartpole::CartPole;
pub use mountain_car::MountainCar;

use crate::rng::Stream;
use rand::RngExt;
use std::fmt;
use thiserror::Error;

/// The names [`by_name`] knows, in the order of the table in the module docs.
pub const NAMES: [&str; 3] = [CartPole::NAME, MountainCar::NAME, Acrobot::NAME];

/// What one call of [`Task::step`] returns besides the observation.
///
/// An episode ends when `terminated` or `truncated` is true; a learner bootstraps from the next
/// state only when the episode was truncated, never when it terminated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Reward for the transition just made.
    pub reward: f64,
    /// The task reached a terminal state (success or failure); its value is zero from here on.
    pub terminated: bool,
    /// The step count reached the task's limit ([`Task::max_steps`]); may be true together with
    /// `terminated`.
    pub truncated: bool,
}

impl Step {
    /// Whether the episode is over: `terminated || truncated`.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// An episodic control problem with a vector observation and a finite set of actions.
///
/// An episode is `reset`, then `step` until the returned [`Step`] is [`done`](Step::done).
/// Observations are written into a slice that the caller owns (of length
/// [`observation_size`](Task::observation_size)), so the hot loop of an evaluation allocates
/// nothing.
///
/// **Time limit.** A task counts the steps since the last reset (or since the count given to
/// [`set_state`](Task::set_state)); the step that brings the count to
/// [`max_steps`](Task::max_steps) returns `truncated = true`. This is Gymnasium's `TimeLimit`
/// wrapper folded into the task.
///
/// **Randomness.** All randomness of a task enters through the [`Stream`] given to
/// [`reset`](Task::reset), so episodes are reproducible from the seed of their stream. A task
/// whose dynamics are random should draw the noise in `reset` or keep a stream it was given there.
///
/// **Cloning.** Parallel evaluation gives every worker its own copy of a task, made with
/// [`boxed_clone`](TaskClone::boxed_clone). Nothing needs implementing for it: every
/// `Task + Clone` type gets it, so `#[derive(Clone)]` is enough.
///
/// # Panics
///
/// `step` may panic when `action >= actions()`, and `reset`, `step` and `observe` may panic when
/// the observation slice is shorter than `observation_size()`: both are broken contracts of the
/// caller, not bad input.
///
/// # Example
///
/// A task of one's own: a point on a line that must be walked to either end of `[-3, 3]`, at a
/// cost of one per step.
///
/// ```
/// use rand::RngExt;
/// use synaptogen::rng::{stream, Purpose, Stream};
/// use synaptogen::task::{state_array, StateError, Step, Task};
///
/// #[derive(Clone)]
/// struct Corridor {
///     position: f64,
///     elapsed: usize,
/// }
///
/// impl Task for Corridor {
///     fn name(&self) -> &str {
///         "Corridor"
///     }
///     fn observation_size(&self) -> usize {
///         1
///     }
///     fn actions(&self) -> usize {
///         2
///     }
///     fn max_steps(&self) -> usize {
///         20
///     }
///     fn solved_at(&self) -> f64 {
///         -4.0
///     }
///     fn reset(&mut self, rng: &mut Stream, observation: &mut [f64]) {
///         self.position = rng.random_range(-1.0..1.0);
///         self.elapsed = 0;
///         self.observe(observation);
///     }
///     fn step(&mut self, action: usize, observation: &mut [f64]) -> Step {
///         self.position += [-1.0, 1.0][action];
///         self.elapsed += 1;
///         self.observe(observation);
///         Step {
///             reward: -1.0,
///             terminated: self.position.abs() >= 3.0,
///             truncated: self.elapsed >= self.max_steps(),
///         }
///     }
///     fn observe(&self, observation: &mut [f64]) {
///         observation[0] = self.position;
///     }
///     fn state(&self) -> Vec<f64> {
///         vec![self.position]
///     }
///     fn set_state(&mut self, state: &[f64], elapsed: usize) -> Result<(), StateError> {
///         let [position] = state_array(self.name(), state)?;
///         self.position = position;
///         self.elapsed = elapsed;
///         Ok(())
///     }
/// }
///
/// // Always walking right reaches the end in three or four steps.
/// let mut task: Box<dyn Task> = Box::new(Corridor { position: 0.0, elapsed: 0 });
/// let mut observation = vec![0.0; task.observation_size()];
/// task.reset(&mut stream(42, Purpose::Evaluation, 0), &mut observation);
/// let mut episode_return = 0.0;
/// loop {
///     let step = task.step(1, &mut observation);
///     episode_return += step.reward;
///     if step.done() {
///         break;
///     }
/// }
/// assert!(episode_return >= task.solved_at());
///
/// // Workers get their own copies.
/// let copy = task.boxed_clone();
/// assert_eq!(copy.state(), task.state());
/// ```
pub trait Task: TaskClone + Send {
    /// The task's name, for example `"CartPole-v1"`.
    fn name(&self) -> &str;

    /// Length of the observation vector.
    fn observation_size(&self) -> usize;

    /// Number of discrete actions; actions are `0..actions()`.
    fn actions(&self) -> usize;

    /// The step limit: the `max_steps`-th step of an episode is truncated.
    fn max_steps(&self) -> usize;

    /// The mean return at which the task counts as solved.
    fn solved_at(&self) -> f64;

    /// Starts an episode: draws an initial state from `rng`, sets the step count to zero and
    /// writes the first observation.
    fn reset(&mut self, rng: &mut Stream, observation: &mut [f64]);

    /// Applies `action` for one time step, writes the next observation and returns the reward
    /// and the end-of-episode flags.
    fn step(&mut self, action: usize, observation: &mut [f64]) -> Step;

    /// Writes the observation of the current state (what the last `reset` or `step` wrote).
    fn observe(&self, observation: &mut [f64]);

    /// The full internal state, enough to continue the episode exactly (the step count aside).
    fn state(&self) -> Vec<f64>;

    /// Puts the task into `state` (as returned by [`state`](Task::state)) with `elapsed` steps
    /// already taken in the episode; `set_state(s, 0)` starts a fresh episode from `s`.
    ///
    /// Used to replay recorded trajectories and to render given states.
    ///
    /// # Errors
    ///
    /// [`StateError`] when `state` does not have the task's state length.
    fn set_state(&mut self, state: &[f64], elapsed: usize) -> Result<(), StateError>;
}

/// Cloning a task behind a `Box<dyn Task>`; implemented for every `Task + Clone` type.
pub trait TaskClone {
    /// A boxed copy of the task in its current state.
    fn boxed_clone(&self) -> Box<dyn Task>;
}

impl<T: Task + Clone + 'static> TaskClone for T {
    fn boxed_clone(&self) -> Box<dyn Task> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Task> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

impl fmt::Debug for dyn Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("name", &self.name()).field("state", &self.state()).finish()
    }
}

/// A task name that [`by_name`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown task `{name}`; known tasks are {}", NAMES.join(", "))]
pub struct UnknownTask {
    /// The name that was asked for.
    pub name: String,
}

/// A state given to [`Task::set_state`] that the task cannot take.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    /// The state has the wrong number of values.
    #[error("a state of {task} has {expected} values, but {found} were given")]
    Length {
        /// Name of the task.
        task: String,
        /// The task's state length.
        expected: usize,
        /// Length of the state given.
        found: usize,
    },
}

/// The built-in task called `name` (one of [`NAMES`]), ready to be reset.
///
/// # Errors
///
/// [`UnknownTask`] for any other name; its message lists the known ones.
pub fn by_name(name: &str) -> Result<Box<dyn Task>, UnknownTask> {
    match name {
        CartPole::NAME => Ok(Box::new(CartPole::new())),
        MountainCar::NAME => Ok(Box::new(MountainCar::new())),
        Acrobot::NAME => Ok(Box::new(Acrobot::new())),
        _ => Err(UnknownTask { name: name.to_owned() }),
    }
}

/// `state` as an array of exactly `N` values, for implementations of [`Task::set_state`].
///
/// # Errors
///
/// [`StateError::Length`] naming `task` when `state.len() != N`.
pub fn state_array<const N: usize>(task: &str, state: &[f64]) -> Result<[f64; N], StateError> {
    state.try_into().map_err(|_| StateError::Length {
        task: task.to_owned(),
        expected: N,
        found: state.len(),
    })
}

/// A draw from the uniform distribution on `[low, high)` as NumPy's `Generator.uniform`
/// computes it: `low + (high - low) · u` with `u` uniform on `[0, 1)` (53 random bits).
fn uniform(rng: &mut Stream, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.random::<f64>()
}

/// `x` rounded to the nearest `f32`, as an `f64`: the value Gymnasium's `float32`
/// observations hold.
fn float32(x: f64) -> f64 {
    x as f32 as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_builds_every_known_task() {
        for name in NAMES {
            let task = by_name(name).unwrap();
            assert_eq!(task.name(), name);
        }
    }

    #[test]
    fn by_name_lists_the_known_tasks_for_an_unknown_name() {
        let error = by_name("cartpole").unwrap_err();
        assert_eq!(error.name, "cartpole");
        let message = error.to_string();
        for name in NAMES {
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn metadata_matches_gymnasium() {
        let expected = [
            ("CartPole-v1", 4, 2, 500, 475.0),
            ("MountainCar-v0", 2, 3, 200, -110.0),
            ("Acrobot-v1", 6, 3, 500, -100.0),
        ];
        for (name, observation_size, actions, max_steps, solved_at) in expected {
            let task = by_name(name).unwrap();
            assert_eq!(task.observation_size(), observation_size, "{name}");
            assert_eq!(task.actions(), actions, "{name}");
            assert_eq!(task.max_steps(), max_steps, "{name}");
            assert_eq!(task.solved_at(), solved_at, "{name}");
        }
    }

    #[test]
    fn set_state_rejects_a_state_of_the_wrong_length() {
        for name in NAMES {
            let mut task = by_name(name).unwrap();
            let length = task.state().len();
            let error = task.set_state(&vec![0.0; length + 1], 0).unwrap_err();
            assert_eq!(
                error,
                StateError::Length { task: name.to_owned(), expected: length, found: length + 1 }
            );
        }
    }

    #[test]
    fn resets_are_stable_for_a_given_stream() {
        // Pinned draws: a change here changes every evaluation seeded before it.
        let expected: [(&str, &[f64]); 3] = [
            (
                "CartPole-v1",
                &[
                    0.030136936869155875,
                    -0.001334181198131848,
                    -0.024806110645616865,
                    0.0297926749427396,
                ],
            ),
            ("MountainCar-v0", &[-0.4397261262616883, 0.0]),
            (
                "Acrobot-v1",
                &[
                    0.060273874551057816,
                    -0.002668362343683839,
                    -0.049612220376729965,
                    0.05958535149693489,
                ],
            ),
        ];
        for (name, state) in expected {
            let mut task = by_name(name).unwrap();
            let mut observation = vec![0.0; task.observation_size()];
            task.reset(
                &mut crate::rng::stream(2024, crate::rng::Purpose::Evaluation, 7),
                &mut observation,
            );
            assert_eq!(task.state(), state, "{name}");
        }
    }

    #[test]
    fn boxed_clones_are_independent() {
        let mut task = by_name(CartPole::NAME).unwrap();
        let mut observation = [0.0; 4];
        task.reset(
            &mut crate::rng::stream(1, crate::rng::Purpose::Evaluation, 0),
            &mut observation,
        );
        let before = task.state();
        let copy = task.clone();
        task.step(1, &mut observation);
        assert_eq!(copy.state(), before);
        assert_ne!(task.state(), before);
    }

    #[test]
    fn every_task_truncates_exactly_at_its_step_limit() {
        for name in NAMES {
            let mut task = by_name(name).unwrap();
            let mut observation = vec![0.0; task.observation_size()];
            let initial = task.state();
            let limit = task.max_steps();

            // Start one step before the limit from a state that cannot terminate in one step.
            task.set_state(&initial, limit - 2).unwrap();
            assert!(!task.step(0, &mut observation).truncated, "{name}");
            assert!(task.step(0, &mut observation).truncated, "{name}");
        }
    }
}
