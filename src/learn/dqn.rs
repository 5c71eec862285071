//! Deep Q-learning (Mnih et al. 2015, doi:10.1038/nature14236) with the semantics of
//! Stable-Baselines3's `DQN`, over any [`Model`]: a genome's expected-weight network or a plain
//! multilayer perceptron.
//!
//! One call of [`Dqn::step`] is one environment step and whatever is due after it, in
//! Stable-Baselines3's order:
//!
//! 1. act: a uniformly random action before `learning_starts`, afterwards ε-greedy on the online
//!    network, ε following a linear schedule from `exploration_initial_eps` to
//!    `exploration_final_eps` over the first `exploration_fraction` of training;
//! 2. store the transition (a time-limit truncation is not terminal: it keeps its real next
//!    observation and still bootstraps);
//! 3. copy the online network to the target every `target_update_interval` environment steps;
//! 4. after every `train_freq` collected steps, once past `learning_starts`, take
//!    `gradient_steps` gradient steps (or as many as steps collected, for `-1`): each samples a
//!    minibatch uniformly with replacement, regresses `Q(o, a)` on
//!    `r + γ (1 - done) max_a' Q_target(o', a')` with the Huber loss, clips the gradient to
//!    norm `max_grad_norm` and takes an Adam step;
//! 5. every `eval_freq` steps, run `eval_episodes` greedy episodes on a separate copy of the
//!    task and keep the model if its mean return is the best so far.
//!
//! The learner prints nothing: each step returns a [`Report`] of its figures and the caller
//! decides where they go.

use nalgebra::DMatrix;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::model::Model;
use super::replay::{Minibatch, ReplayBuffer};
use super::{Adam, AdamSettings, clip_grad_norm};
use crate::eval;
use crate::net::{Dense, Scratch, Trace};
use crate::rng::{self, Purpose, Stream};
use crate::task::Task;

/// DQN hyperparameters; the defaults are Stable-Baselines3's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DqnSettings {
    /// Environment steps of training (default 100 000).
    pub total_steps: usize,
    /// Adam's learning rate (default 1e-4).
    pub learning_rate: f64,
    /// Minibatch size (default 32).
    pub batch_size: usize,
    /// Replay buffer capacity (default 1 000 000).
    pub buffer_size: usize,
    /// Steps of random actions before learning starts (default 100).
    pub learning_starts: usize,
    /// Discount γ (default 0.99).
    pub gamma: f64,
    /// Environment steps between copies of the online network to the target (default 10 000).
    pub target_update_interval: usize,
    /// Environment steps collected between training phases (default 4).
    pub train_freq: usize,
    /// Gradient steps per training phase; `-1` takes as many as steps collected (default 1).
    pub gradient_steps: i64,
    /// Fraction of training over which ε decays (default 0.1).
    pub exploration_fraction: f64,
    /// ε at the start (default 1.0).
    pub exploration_initial_eps: f64,
    /// ε after the decay (default 0.05).
    pub exploration_final_eps: f64,
    /// Gradient-norm clipping threshold (default 10).
    pub max_grad_norm: f64,
    /// Environment steps between greedy evaluations; 0 evaluates only at the end
    /// (default 10 000).
    pub eval_freq: usize,
    /// Greedy episodes per evaluation (default 10).
    pub eval_episodes: usize,
}

impl Default for DqnSettings {
    fn default() -> Self {
        DqnSettings {
            total_steps: 100_000,
            learning_rate: 1e-4,
            batch_size: 32,
            buffer_size: 1_000_000,
            learning_starts: 100,
            gamma: 0.99,
            target_update_interval: 10_000,
            train_freq: 4,
            gradient_steps: 1,
            exploration_fraction: 0.1,
            exploration_initial_eps: 1.0,
            exploration_final_eps: 0.05,
            max_grad_norm: 10.0,
            eval_freq: 10_000,
            eval_episodes: 10,
        }
    }
}

/// Errors of DQN: bad settings, or training that diverged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DqnError {
    /// A setting breaks a rule.
    #[error("dqn.{field}: {rule}")]
    Setting {
        /// The setting.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The model and the task do not fit together.
    #[error("the network has {network} {what} but the task {task} needs {needed}")]
    Mismatch {
        /// "inputs" or "outputs".
        what: &'static str,
        /// The network's count.
        network: usize,
        /// The task's name.
        task: String,
        /// The task's count.
        needed: usize,
    },
    /// The loss or the gradient stopped being finite.
    #[error("training diverged at environment step {step}: the {what} is not finite")]
    NotFinite {
        /// Environment step at which it happened.
        step: usize,
        /// "loss" or "gradient".
        what: &'static str,
    },
}

impl DqnSettings {
    /// The RL Zoo's tuned hyperparameters for a built-in task, with the Zoo's step budget.
    pub fn preset(task: &str) -> Option<Self> {
        let base = DqnSettings::default();
        match task {
            "CartPole-v1" => Some(DqnSettings {
                total_steps: 50_000,
                learning_rate: 2.3e-3,
                batch_size: 64,
                buffer_size: 100_000,
                learning_starts: 1_000,
                gamma: 0.99,
                target_update_interval: 10,
                train_freq: 256,
                gradient_steps: 128,
                exploration_fraction: 0.16,
                exploration_final_eps: 0.04,
                ..base
            }),
            "MountainCar-v0" => Some(DqnSettings {
                total_steps: 120_000,
                learning_rate: 4e-3,
                batch_size: 128,
                buffer_size: 10_000,
                learning_starts: 1_000,
                gamma: 0.98,
                target_update_interval: 600,
                train_freq: 16,
                gradient_steps: 8,
                exploration_fraction: 0.2,
                exploration_final_eps: 0.07,
                ..base
            }),
            "Acrobot-v1" => Some(DqnSettings {
                total_steps: 100_000,
                learning_rate: 6.3e-4,
                batch_size: 128,
                buffer_size: 50_000,
                learning_starts: 0,
                gamma: 0.99,
                target_update_interval: 250,
                train_freq: 4,
                gradient_steps: -1,
                exploration_fraction: 0.12,
                exploration_final_eps: 0.1,
                ..base
            }),
            _ => None,
        }
    }

    /// Checks every rule the settings must follow.
    pub fn check(&self) -> Result<(), DqnError> {
        let rule = |ok: bool, field: &'static str, rule: &'static str| {
            if ok { Ok(()) } else { Err(DqnError::Setting { field, rule }) }
        };
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let fraction = |x: f64| (0.0..=1.0).contains(&x);
        rule(self.total_steps > 0, "total_steps", "must be at least 1")?;
        rule(positive(self.learning_rate), "learning_rate", "must be a positive number")?;
        rule(self.batch_size > 0, "batch_size", "must be at least 1")?;
        rule(self.buffer_size > 0, "buffer_size", "must be at least 1")?;
        rule(fraction(self.gamma), "gamma", "must lie in [0, 1]")?;
        rule(self.target_update_interval > 0, "target_update_interval", "must be at least 1")?;
        rule(self.train_freq > 0, "train_freq", "must be at least 1")?;
        rule(self.gradient_steps >= -1, "gradient_steps", "must be -1 (as collected) or >= 0")?;
        rule(fraction(self.exploration_fraction), "exploration_fraction", "must lie in [0, 1]")?;
        rule(
            fraction(self.exploration_initial_eps),
            "exploration_initial_eps",
            "must lie in [0, 1]",
        )?;
        rule(fraction(self.exploration_final_eps), "exploration_final_eps", "must lie in [0, 1]")?;
        rule(positive(self.max_grad_norm), "max_grad_norm", "must be a positive number")?;
        rule(self.eval_episodes > 0, "eval_episodes", "must be at least 1")
    }

    /// ε after `steps` of the `total_steps` (Stable-Baselines3's `get_linear_fn`).
    pub fn epsilon(&self, steps: usize) -> f64 {
        let progress = steps as f64 / self.total_steps as f64;
        if progress > self.exploration_fraction {
            self.exploration_final_eps
        } else {
            self.exploration_initial_eps
                + progress * (self.exploration_final_eps - self.exploration_initial_eps)
                    / self.exploration_fraction
        }
    }
}

/// How an episode ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeEnd {
    /// Undiscounted return.
    pub episode_return: f64,
    /// Steps taken.
    pub length: usize,
}

/// Figures of one training phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingFigures {
    /// Mean Huber loss over the phase's gradient steps.
    pub loss: f64,
    /// Mean gradient norm before clipping.
    pub gradient_norm: f64,
    /// Gradient steps taken.
    pub gradient_steps: usize,
}

/// Figures of one greedy evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluationFigures {
    /// Mean return over the evaluation episodes.
    pub mean_return: f64,
    /// Standard deviation of the returns.
    pub std_return: f64,
    /// Whether this is the best evaluation so far (the model was kept).
    pub best: bool,
}

/// What one environment step of DQN produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Environment steps taken so far (including this one).
    pub step: usize,
    /// ε used for this step's action.
    pub epsilon: f64,
    /// The episode that ended with this step, if any.
    pub episode: Option<EpisodeEnd>,
    /// The training phase that followed this step, if any.
    pub training: Option<TrainingFigures>,
    /// The evaluation that followed this step, if any.
    pub evaluation: Option<EvaluationFigures>,
}

/// A DQN learner training a [`Model`] on a [`Task`].
pub struct Dqn<M: Model> {
    settings: DqnSettings,
    seed: u64,
    model: M,
    params: Vec<f64>,
    adam: Adam,
    acting: Dense,
    target: Dense,
    buffer: ReplayBuffer,
    task: Box<dyn Task>,
    eval_task: Box<dyn Task>,
    observation: Vec<f64>,
    next_observation: Vec<f64>,
    episode_return: f64,
    episode_length: usize,
    episodes: u64,
    steps: usize,
    collected: usize,
    evaluations: u64,
    exploration: Stream,
    replay: Stream,
    best: Option<(M, f64)>,
    batch: Minibatch,
    trace: Trace,
    scratch: Scratch,
}

impl<M: Model> Dqn<M> {
    /// A learner for `model` on `task`, all randomness drawn from streams of `seed`.
    pub fn new(
        model: M,
        task: Box<dyn Task>,
        settings: DqnSettings,
        seed: u64,
    ) -> Result<Self, DqnError> {
        settings.check()?;
        let built = model.build();
        let network = M::network(&built);
        let layers = network.layers();
        let mismatch = |what, network, needed| DqnError::Mismatch {
            what,
            network,
            task: task.name().to_string(),
            needed,
        };
        if layers[0] != task.observation_size() {
            return Err(mismatch("inputs", layers[0], task.observation_size()));
        }
        if *layers.last().unwrap() != task.actions() {
            return Err(mismatch("outputs", *layers.last().unwrap(), task.actions()));
        }
        let acting = network.clone();
        let params = model.parameters();
        let width = task.observation_size();
        let mut dqn = Dqn {
            adam: Adam::new(
                AdamSettings { learning_rate: settings.learning_rate, ..Default::default() },
                params.len(),
            ),
            buffer: ReplayBuffer::new(settings.buffer_size, width),
            eval_task: task.boxed_clone(),
            task,
            target: acting.clone(),
            acting,
            params,
            model,
            settings,
            seed,
            observation: vec![0.0; width],
            next_observation: vec![0.0; width],
            episode_return: 0.0,
            episode_length: 0,
            episodes: 0,
            steps: 0,
            collected: 0,
            evaluations: 0,
            exploration: rng::stream(seed, Purpose::Training, 0),
            replay: rng::stream(seed, Purpose::Training, 1),
            best: None,
            batch: Minibatch::empty(),
            trace: Trace::default(),
            scratch: Scratch::default(),
        };
        dqn.reset_episode();
        Ok(dqn)
    }

    fn reset_episode(&mut self) {
        let mut rng = rng::substream(self.seed, Purpose::Training, 2, self.episodes);
        self.task.reset(&mut rng, &mut self.observation);
        self.episode_return = 0.0;
        self.episode_length = 0;
    }

    /// The settings.
    pub fn settings(&self) -> &DqnSettings {
        &self.settings
    }

    /// Environment steps taken.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Whether training is over: the step budget is spent and the last rollout trained.
    pub fn finished(&self) -> bool {
        self.steps >= self.settings.total_steps && self.collected == 0
    }

    /// The model as trained so far.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The best model by greedy evaluation and its mean return, if any evaluation ran.
    pub fn best(&self) -> Option<(&M, f64)> {
        self.best.as_ref().map(|(m, r)| (m, *r))
    }

    /// Takes one environment step and whatever training, target update or evaluation is due.
    pub fn step(&mut self) -> Result<Report, DqnError> {
        let s = &self.settings;

        // Act.
        let epsilon = s.epsilon(self.steps);
        let random = self.steps < s.learning_starts || self.exploration.random::<f64>() < epsilon;
        let action = if random {
            self.exploration.random_range(0..self.task.actions())
        } else {
            self.acting.greedy(&self.observation, &mut self.scratch)
        };
        let outcome = self.task.step(action, &mut self.next_observation);
        self.steps += 1;
        self.collected += 1;
        self.episode_return += outcome.reward;
        self.episode_length += 1;

        // Store; a truncated episode still bootstraps from its real next observation.
        self.buffer.push(
            &self.observation,
            action,
            outcome.reward,
            &self.next_observation,
            outcome.terminated,
        );
        std::mem::swap(&mut self.observation, &mut self.next_observation);
        let episode = outcome.done().then(|| {
            let end =
                EpisodeEnd { episode_return: self.episode_return, length: self.episode_length };
            self.episodes += 1;
            self.reset_episode();
            end
        });

        // Target update, counted in environment steps.
        if self.steps % self.settings.target_update_interval == 0 {
            self.target = self.acting.clone();
        }

        // Train after every `train_freq` collected steps.
        let mut training = None;
        if self.collected == self.settings.train_freq {
            let collected = self.collected;
            self.collected = 0;
            if self.steps > self.settings.learning_starts {
                let steps = match self.settings.gradient_steps {
                    -1 => collected,
                    n => n as usize,
                };
                if steps > 0 {
                    training = Some(self.train(steps)?);
                }
            }
        }

        // Evaluate.
        let due = self.settings.eval_freq > 0 && self.steps % self.settings.eval_freq == 0;
        let evaluation = (due || self.finished()).then(|| self.evaluate());

        Ok(Report { step: self.steps, epsilon, episode, training, evaluation })
    }

    /// Runs until [`Dqn::finished`], handing every report to `observer`; returns the best model
    /// by evaluation (or the last model if none was better) and its evaluated mean return.
    pub fn run(&mut self, mut observer: impl FnMut(&Report)) -> Result<(M, f64), DqnError> {
        while !self.finished() {
            let report = self.step()?;
            observer(&report);
        }
        Ok(self.best.clone().expect("the last step always evaluates"))
    }

    /// `gradient_steps` gradient steps on minibatches from the replay buffer.
    fn train(&mut self, gradient_steps: usize) -> Result<TrainingFigures, DqnError> {
        let (batch_size, gamma) = (self.settings.batch_size, self.settings.gamma);
        let mut d_output = DMatrix::zeros(0, 0);
        let (mut loss_sum, mut norm_sum) = (0.0, 0.0);
        for _ in 0..gradient_steps {
            self.buffer.sample_into(batch_size, &mut self.replay, &mut self.batch);

            // Targets r + γ (1 - done) max_a' Q_target(o', a').
            let next_q = self.target.forward(&self.batch.next_observations);
            let targets: Vec<f64> = (0..batch_size)
                .map(|i| {
                    let best = next_q.row(i).max();
                    let bootstrap = if self.batch.dones[i] { 0.0 } else { gamma * best };
                    self.batch.rewards[i] + bootstrap
                })
                .collect();

            // Huber loss of Q(o, a) and its gradient on the taken actions.
            let built = self.model.build();
            let network = M::network(&built);
            network.forward_traced(&self.batch.observations, &mut self.trace);
            let q = self.trace.output();
            if d_output.shape() != q.shape() {
                d_output = DMatrix::zeros(q.nrows(), q.ncols());
            }
            d_output.fill(0.0);
            let mut loss = 0.0;
            for (i, &target) in targets.iter().enumerate() {
                let a = self.batch.actions[i];
                let error = q[(i, a)] - target;
                loss += if error.abs() < 1.0 { 0.5 * error * error } else { error.abs() - 0.5 };
                d_output[(i, a)] = error.clamp(-1.0, 1.0) / batch_size as f64;
            }
            loss /= batch_size as f64;
            if !loss.is_finite() {
                return Err(DqnError::NotFinite { step: self.steps, what: "loss" });
            }
            let dense = network.backward(&self.trace, &d_output);
            let mut grad = self.model.gradient(&built, &dense);

            // Clip, step, write back.
            let norm = clip_grad_norm(&mut grad, self.settings.max_grad_norm);
            if !norm.is_finite() {
                return Err(DqnError::NotFinite { step: self.steps, what: "gradient" });
            }
            self.adam.step(&mut self.params, &grad);
            self.model.set_parameters(&self.params);
            loss_sum += loss;
            norm_sum += norm;
        }
        self.acting = M::network(&self.model.build()).clone();
        let n = gradient_steps as f64;
        Ok(TrainingFigures { loss: loss_sum / n, gradient_norm: norm_sum / n, gradient_steps })
    }

    /// Greedy episodes of the current model on the evaluation task; keeps the model if best.
    fn evaluate(&mut self) -> EvaluationFigures {
        let round = self.evaluations;
        self.evaluations += 1;
        let returns: Vec<f64> = (0..self.settings.eval_episodes as u64)
            .map(|episode| {
                let mut rng = rng::substream(self.seed, Purpose::Validation, round, episode);
                let observation = &mut self.next_observation.clone();
                let task = self.eval_task.as_mut();
                eval::play(&self.acting, task, &mut rng, &mut self.scratch, observation).0
            })
            .collect();
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let std = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
        let best = self.best.as_ref().is_none_or(|(_, b)| mean > *b);
        if best {
            self.best = Some((self.model.clone(), mean));
        }
        EvaluationFigures { mean_return: mean, std_return: std, best }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_follows_the_linear_schedule() {
        let s = DqnSettings { total_steps: 1000, exploration_fraction: 0.2, ..Default::default() };
        assert_eq!(s.epsilon(0), 1.0);
        assert!((s.epsilon(100) - (1.0 - 0.5 * 0.95)).abs() < 1e-12);
        assert_eq!(s.epsilon(201), 0.05);
    }

    #[test]
    fn presets_are_valid() {
        for task in crate::task::NAMES {
            DqnSettings::preset(task).unwrap().check().unwrap();
        }
        assert!(DqnSettings::preset("Pong").is_none());
    }

    #[test]
    fn each_rule_is_checked() {
        let bad = [
            DqnSettings { total_steps: 0, ..Default::default() },
            DqnSettings { learning_rate: -1.0, ..Default::default() },
            DqnSettings { batch_size: 0, ..Default::default() },
            DqnSettings { buffer_size: 0, ..Default::default() },
            DqnSettings { gamma: 1.5, ..Default::default() },
            DqnSettings { target_update_interval: 0, ..Default::default() },
            DqnSettings { train_freq: 0, ..Default::default() },
            DqnSettings { gradient_steps: -2, ..Default::default() },
            DqnSettings { exploration_fraction: 2.0, ..Default::default() },
            DqnSettings { exploration_initial_eps: -0.1, ..Default::default() },
            DqnSettings { exploration_final_eps: 1.1, ..Default::default() },
            DqnSettings { max_grad_norm: 0.0, ..Default::default() },
            DqnSettings { eval_episodes: 0, ..Default::default() },
        ];
        for settings in bad {
            assert!(settings.check().is_err(), "{settings:?}");
        }
    }
}

#[cfg(test)]
mod semantics {
    use super::*;
    use crate::genome::{Architecture, Genome, Learnable};
    use crate::task::{StateError, Step, state_array};

    /// A one-dimensional walk: action 1 moves right; reaching 2 terminates, the limit truncates.
    /// The reward is `reward` per step.
    #[derive(Clone)]
    struct Walk {
        position: f64,
        elapsed: usize,
        limit: usize,
        reward: f64,
    }

    impl Task for Walk {
        fn name(&self) -> &str {
            "Walk"
        }
        fn observation_size(&self) -> usize {
            1
        }
        fn actions(&self) -> usize {
            2
        }
        fn max_steps(&self) -> usize {
            self.limit
        }
        fn solved_at(&self) -> f64 {
            0.0
        }
        fn reset(&mut self, _rng: &mut Stream, observation: &mut [f64]) {
            self.position = 0.0;
            self.elapsed = 0;
            self.observe(observation);
        }
        fn step(&mut self, action: usize, observation: &mut [f64]) -> Step {
            self.position += action as f64;
            self.elapsed += 1;
            self.observe(observation);
            Step {
                reward: self.reward,
                terminated: self.position >= 2.0,
                truncated: self.elapsed >= self.limit,
            }
        }
        fn observe(&self, observation: &mut [f64]) {
            observation[0] = self.position;
        }
        fn state(&self) -> Vec<f64> {
            vec![self.position]
        }
        fn set_state(&mut self, state: &[f64], elapsed: usize) -> Result<(), StateError> {
            let [position] = state_array(self.name(), state)?;
            self.position = position;
            self.elapsed = elapsed;
            Ok(())
        }
    }

    fn learner(reward: f64, settings: DqnSettings) -> Dqn<Genome> {
        let arch = Architecture {
            layers: vec![1, 4, 2],
            genes: 2,
            transmitters: 1,
            ..Architecture::cartpole()
        };
        let genome = Genome::random(arch, None, Learnable::all(), 0).unwrap();
        let walk = Walk { position: 0.0, elapsed: 0, limit: 3, reward };
        Dqn::new(genome, Box::new(walk), settings, 0).unwrap()
    }

    #[test]
    fn truncation_bootstraps_and_termination_does_not() {
        let settings =
            DqnSettings { total_steps: 400, learning_starts: 1000, ..Default::default() };
        let mut dqn = learner(1.0, settings);
        let mut batch = Minibatch::empty();
        for _ in 0..400 {
            dqn.step().unwrap();
        }
        dqn.buffer.sample_into(2000, &mut rng::stream(0, Purpose::Training, 9), &mut batch);
        for i in 0..2000 {
            let next = batch.next_observations[(i, 0)];
            // Terminal only where the walk reached 2; a third step below 2 is a truncation.
            assert_eq!(batch.dones[i], next >= 2.0, "transition to {next}");
        }
        assert!(batch.next_observations.iter().any(|&x| x < 2.0));
        assert!(batch.dones.iter().any(|&d| d));
    }

    #[test]
    fn target_updates_follow_the_interval() {
        let settings = DqnSettings {
            total_steps: 200,
            learning_starts: 0,
            train_freq: 1,
            target_update_interval: 7,
            learning_rate: 0.01,
            ..Default::default()
        };
        let mut dqn = learner(1.0, settings);
        for step in 1..=30 {
            let before = dqn.target.clone();
            dqn.step().unwrap();
            // The target is the acting network of the step before its update.
            assert_eq!(dqn.target != before, step % 7 == 0, "step {step}");
        }
    }

    #[test]
    fn divergence_names_the_step() {
        let settings = DqnSettings {
            total_steps: 100,
            learning_starts: 10,
            train_freq: 4,
            ..Default::default()
        };
        let mut dqn = learner(f64::NAN, settings);
        let err = dqn.run(|_| {}).unwrap_err();
        assert_eq!(err, DqnError::NotFinite { step: 12, what: "loss" });
        assert!(err.to_string().contains("step 12"));
    }

    #[test]
    fn mismatched_networks_are_refused() {
        let arch = Architecture {
            layers: vec![3, 4, 2],
            genes: 2,
            transmitters: 1,
            ..Architecture::cartpole()
        };
        let genome = Genome::random(arch, None, Learnable::all(), 0).unwrap();
        let walk = Walk { position: 0.0, elapsed: 0, limit: 3, reward: 1.0 };
        let err = Dqn::new(genome, Box::new(walk), DqnSettings::default(), 0).err().unwrap();
        assert!(err.to_string().contains("3 inputs"), "{err}");
    }
}
