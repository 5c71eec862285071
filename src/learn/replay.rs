//! The replay buffer of DQN: a ring of transitions sampled uniformly with replacement.

use nalgebra::DMatrix;
use rand::RngExt;

use crate::rng::Stream;

/// A ring buffer of transitions `(o, a, r, o', done)`, flat in memory.
///
/// `done` is true only when the episode *terminated*; a transition cut by the time limit is
/// stored with `done = false` and its real next observation, so it still bootstraps (what
/// Stable-Baselines3 does with `handle_timeout_termination`).
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    capacity: usize,
    width: usize,
    len: usize,
    next: usize,
    observations: Vec<f64>,
    next_observations: Vec<f64>,
    actions: Vec<usize>,
    rewards: Vec<f64>,
    dones: Vec<bool>,
}

/// A sampled minibatch, one row per transition.
#[derive(Debug, Clone)]
pub struct Minibatch {
    /// Observations, `B x n`.
    pub observations: DMatrix<f64>,
    /// Next observations, `B x n`.
    pub next_observations: DMatrix<f64>,
    /// Actions taken.
    pub actions: Vec<usize>,
    /// Rewards received.
    pub rewards: Vec<f64>,
    /// Whether the next state is terminal.
    pub dones: Vec<bool>,
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions of observations of length `width`.
    pub fn new(capacity: usize, width: usize) -> Self {
        ReplayBuffer {
            capacity,
            width,
            len: 0,
            next: 0,
            observations: vec![0.0; capacity * width],
            next_observations: vec![0.0; capacity * width],
            actions: vec![0; capacity],
            rewards: vec![0.0; capacity],
            dones: vec![false; capacity],
        }
    }

    /// Number of stored transitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores a transition, overwriting the oldest when full.
    pub fn push(
        &mut self,
        observation: &[f64],
        action: usize,
        reward: f64,
        next: &[f64],
        done: bool,
    ) {
        let at = self.next;
        self.observations[at * self.width..(at + 1) * self.width].copy_from_slice(observation);
        self.next_observations[at * self.width..(at + 1) * self.width].copy_from_slice(next);
        self.actions[at] = action;
        self.rewards[at] = reward;
        self.dones[at] = done;
        self.next = (self.next + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// Draws `size` transitions uniformly with replacement into `batch` (its matrices are reused
    /// when the size matches).
    ///
    /// # Panics
    ///
    /// If the buffer is empty.
    pub fn sample_into(&self, size: usize, rng: &mut Stream, batch: &mut Minibatch) {
        assert!(!self.is_empty(), "sampling an empty replay buffer");
        if batch.observations.shape() != (size, self.width) {
            batch.observations = DMatrix::zeros(size, self.width);
            batch.next_observations = DMatrix::zeros(size, self.width);
        }
        batch.actions.clear();
        batch.rewards.clear();
        batch.dones.clear();
        for row in 0..size {
            let i = rng.random_range(0..self.len);
            for j in 0..self.width {
                batch.observations[(row, j)] = self.observations[i * self.width + j];
                batch.next_observations[(row, j)] = self.next_observations[i * self.width + j];
            }
            batch.actions.push(self.actions[i]);
            batch.rewards.push(self.rewards[i]);
            batch.dones.push(self.dones[i]);
        }
    }
}

impl Minibatch {
    /// An empty minibatch to sample into.
    pub fn empty() -> Self {
        Minibatch {
            observations: DMatrix::zeros(0, 0),
            next_observations: DMatrix::zeros(0, 0),
            actions: Vec::new(),
            rewards: Vec::new(),
            dones: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};

    #[test]
    fn keeps_the_newest_transitions() {
        let mut buffer = ReplayBuffer::new(3, 1);
        for i in 0..5 {
            buffer.push(&[i as f64], i, i as f64, &[i as f64 + 0.5], i == 4);
        }
        assert_eq!(buffer.len(), 3);
        let mut batch = Minibatch::empty();
        buffer.sample_into(200, &mut rng::stream(0, Purpose::Training, 0), &mut batch);
        for row in 0..200 {
            let a = batch.actions[row];
            assert!((2..5).contains(&a), "transition {a} was overwritten");
            assert_eq!(batch.observations[(row, 0)], a as f64);
            assert_eq!(batch.next_observations[(row, 0)], a as f64 + 0.5);
            assert_eq!(batch.dones[row], a == 4);
        }
        assert!((2..5).all(|a| batch.actions.contains(&a)));
    }
}
