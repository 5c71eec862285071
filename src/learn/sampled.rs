//! Fitness of genetics by the networks they grow: sample `n` networks, play `m` greedy
//! episodes with each, reduce the networks' mean returns to one number.
//!
//! The networks of a candidate with seed `s` are `Synaptogenesis::sample(s, i)`, `i < n`, and
//! their episodes reset from `substream(s, Purpose::Evaluation, i, e)` ([`crate::eval`]), so
//! a candidate's fitness depends only on its parameters and its seed.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::es::{EsError, SnesSettings, StrategySettings};
use super::evolution::{Budget, Candidate, Evaluation, Evolution, Fitness};
use crate::eval::{self, EvaluationError};
use crate::genome::Genome;
use crate::synapse::{Sampler, SamplingError, Synaptogenesis};
use crate::task::Task;

/// How the mean returns of a candidate's sampled networks become its fitness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Aggregate {
    /// Their mean: how well the genetics grow networks on average (the reference's fitness).
    Mean,
    /// Their minimum: how well the genetics' worst network does.
    Min,
    /// The empirical `q`-quantile (the order statistic `⌊q (n - 1)⌋` of the sorted scores),
    /// `q` in `[0, 1]`; `Quantile(0.0)` is `Min`.
    Quantile(f64),
}

impl Aggregate {
    /// The aggregate of `scores` (not empty).
    pub fn of(&self, scores: &[f64]) -> f64 {
        match *self {
            Aggregate::Mean => scores.iter().sum::<f64>() / scores.len() as f64,
            Aggregate::Min => scores.iter().copied().fold(f64::INFINITY, f64::min),
            Aggregate::Quantile(q) => {
                let mut sorted = scores.to_vec();
                sorted.sort_by(f64::total_cmp);
                sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
            }
        }
    }
}

/// Settings of a fitness over sampled networks.
///
/// In RON: `(networks: 16, episodes: 1, aggregate: Min, sampler: MomentMatched)`.
///
/// The defaults are the reference's fitness (the mean return of sampled networks, exact
/// sampler) with one network of one episode per candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SampledFitnessSettings {
    /// Networks sampled per candidate, `n` (default 1).
    pub networks: usize,
    /// Greedy episodes per network, `m` (default 1).
    pub episodes: usize,
    /// How the networks' mean returns are reduced (default `Mean`, the reference's fitness).
    pub aggregate: Aggregate,
    /// The sampler that grows the networks (default `Exact`).
    pub sampler: Sampler,
    /// Target average degree `d` of the grown networks (default 1e5).
    pub average_degree: f64,
}

impl Default for SampledFitnessSettings {
    fn default() -> Self {
        SampledFitnessSettings {
            networks: 1,
            episodes: 1,
            aggregate: Aggregate::Mean,
            sampler: Sampler::Exact,
            average_degree: 1e5,
        }
    }
}

/// Errors of a fitness over sampled networks.
#[derive(Debug, thiserror::Error)]
pub enum SampledFitnessError {
    /// A setting breaks a rule.
    #[error("fitness.{field}: {rule}")]
    Setting {
        /// The setting.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The genome's networks do not fit the task.
    #[error(transparent)]
    Evaluation(#[from] EvaluationError),
    /// The genome cannot grow networks.
    #[error(transparent)]
    Sampling(#[from] SamplingError),
}

impl SampledFitnessSettings {
    /// Checks every rule the settings must follow.
    pub fn check(&self) -> Result<(), SampledFitnessError> {
        let rule = |ok: bool, field: &'static str, rule: &'static str| {
            if ok { Ok(()) } else { Err(SampledFitnessError::Setting { field, rule }) }
        };
        rule(self.networks > 0, "networks", "must be at least 1")?;
        rule(self.episodes > 0, "episodes", "must be at least 1")?;
        if let Aggregate::Quantile(q) = self.aggregate {
            rule((0.0..=1.0).contains(&q), "aggregate", "a quantile must lie in [0, 1]")?;
        }
        rule(
            self.average_degree.is_finite() && self.average_degree > 0.0,
            "average_degree",
            "must be a positive number",
        )
    }
}

/// The scores of the networks grown from one genetics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkScores {
    /// Mean return of each network, in network order.
    pub scores: Vec<f64>,
    /// Environment steps the episodes took.
    pub environment_steps: u64,
}

impl NetworkScores {
    /// The number of networks whose score reaches `threshold`.
    pub fn reaching(&self, threshold: f64) -> usize {
        self.scores.iter().filter(|&&s| s >= threshold).count()
    }

    /// The mean score.
    pub fn mean(&self) -> f64 {
        Aggregate::Mean.of(&self.scores)
    }

    /// The lowest score.
    pub fn min(&self) -> f64 {
        Aggregate::Min.of(&self.scores)
    }
}

/// A [`Fitness`] of genetics: a candidate's parameters replace the learnable blocks of a
/// template genome, and the networks that genome grows are scored in a task (see the module
/// docs).
///
/// A candidate that cannot grow networks (its genome expects no synapses, or too many for a
/// count) gets the fitness `-∞`.
pub struct SampledFitness {
    template: Genome,
    task: Mutex<Box<dyn Task>>,
    settings: SampledFitnessSettings,
}

impl SampledFitness {
    /// A fitness over the learnable blocks of `template` in `task`.
    ///
    /// # Errors
    ///
    /// If a setting breaks a rule or the genome's networks do not fit the task.
    pub fn new(
        template: Genome,
        task: Box<dyn Task>,
        settings: SampledFitnessSettings,
    ) -> Result<Self, SampledFitnessError> {
        settings.check()?;
        let layers = &template.architecture().layers;
        let (inputs, outputs) = (layers[0], layers[layers.len() - 1]);
        if inputs != task.observation_size() || outputs != task.actions() {
            return Err(EvaluationError::Shape {
                network: 0,
                inputs,
                outputs,
                task: task.name().to_string(),
                observation_size: task.observation_size(),
                actions: task.actions(),
            }
            .into());
        }
        Ok(SampledFitness { template, task: Mutex::new(task), settings })
    }

    /// The settings.
    pub fn settings(&self) -> &SampledFitnessSettings {
        &self.settings
    }

    /// The template genome with `parameters` as its learnable blocks.
    pub fn genome(&self, parameters: &[f64]) -> Genome {
        let mut genome = self.template.clone();
        genome.set_parameters(parameters);
        genome
    }

    /// A fresh copy of the task.
    pub fn task(&self) -> Box<dyn Task> {
        self.task.lock().expect("a task copy never panics").boxed_clone()
    }

    /// Grows the networks of `genome` under `seed` and scores them.
    ///
    /// # Errors
    ///
    /// If the genome cannot grow networks.
    pub fn scores(&self, genome: &Genome, seed: u64) -> Result<NetworkScores, SampledFitnessError> {
        let s = &self.settings;
        let growth = Synaptogenesis::new(genome, s.sampler, s.average_degree)?;
        let networks: Vec<_> =
            (0..s.networks as u64).map(|i| growth.sample(seed, i).network).collect();
        let returns = eval::evaluate(&networks, || self.task(), s.episodes, seed, None)?;
        Ok(NetworkScores {
            scores: returns.means(),
            environment_steps: returns.total_steps() as u64,
        })
    }
}

impl Fitness for SampledFitness {
    fn evaluate(&self, candidate: &Candidate) -> Evaluation {
        let genome = self.genome(candidate.parameters);
        match self.scores(&genome, candidate.seed) {
            Ok(scores) => Evaluation {
                fitness: self.settings.aggregate.of(&scores.scores),
                environment_steps: scores.environment_steps,
            },
            Err(_) => Evaluation { fitness: f64::NEG_INFINITY, environment_steps: 0 },
        }
    }

    /// Every episode of every network running to the task's step limit.
    fn worst_case_steps(&self) -> Option<u64> {
        let episodes = (self.settings.networks * self.settings.episodes) as u64;
        Some(episodes * self.task.lock().expect("a task never panics").max_steps() as u64)
    }
}

/// Settings of an evolution run over the learnable blocks of a genome (SNES alone, as the
/// reference ran it, or any other strategy).
///
/// In RON, every field optional:
///
/// ```ron
/// (
///     strategy: Snes((initial_sigma: 0.2)),
///     fitness: (networks: 1, episodes: 1, aggregate: Mean, sampler: Exact),
///     budget: (environment_steps: 500000, strict: true),
///     checkpoint_every: 10,
/// )
/// ```
///
/// The defaults are the best of those measured for SNES on CartPole from random genetics
/// (`examples/snes_cartpole.rs`): σ₀ = 0.2 with one network of one episode per candidate
/// solved 10 of 10 seeds within 500 000 steps, σ₀ = 0.1 two of three, σ₀ = 0.05 with four
/// networks one of three. A large σ₀ finds genetics whose whole neighbourhood solves the task,
/// and so whose sampled networks do too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvolutionSettings {
    /// The strategy (default `Snes((initial_sigma: 0.2))`, population and learning rates the
    /// paper's defaults for the dimension).
    pub strategy: StrategySettings,
    /// The fitness (default: the return of one exactly sampled network in one episode).
    pub fitness: SampledFitnessSettings,
    /// When the run stops (default 500 000 environment steps, strict: never exceeded).
    pub budget: Budget,
    /// Generations between checkpoints when the run has a directory (default 10).
    pub checkpoint_every: u64,
}

impl Default for EvolutionSettings {
    fn default() -> Self {
        EvolutionSettings {
            strategy: StrategySettings::Snes(SnesSettings {
                initial_sigma: 0.2,
                ..Default::default()
            }),
            fitness: SampledFitnessSettings::default(),
            budget: Budget { strict: true, ..Default::default() },
            checkpoint_every: 10,
        }
    }
}

/// Errors in starting an evolution run over a genome.
#[derive(Debug, thiserror::Error)]
pub enum EvolutionSetupError {
    /// The strategy's settings are wrong, or the genome has nothing learnable.
    #[error(transparent)]
    Strategy(#[from] EsError),
    /// The fitness's settings are wrong, or the genome does not fit the task.
    #[error(transparent)]
    Fitness(#[from] SampledFitnessError),
}

impl EvolutionSettings {
    /// Checks every rule the settings must follow.
    pub fn check(&self) -> Result<(), EvolutionSetupError> {
        self.strategy.check()?;
        self.fitness.check()?;
        Ok(())
    }

    /// A run searching the learnable blocks of `genome` in `task`, centred on their current
    /// values, and its fitness. Drive it with [`Evolution::run`] (with [`Self::budget`]); the
    /// result is `fitness.genome(evolution.strategy().mean())`.
    ///
    /// # Errors
    ///
    /// If a setting breaks a rule, the genome has no learnable block, or it does not fit the
    /// task.
    pub fn start(
        &self,
        genome: Genome,
        task: Box<dyn Task>,
        seed: u64,
    ) -> Result<(Evolution, SampledFitness), EvolutionSetupError> {
        self.check()?;
        let strategy = self.strategy.build(genome.parameters())?;
        let fitness = SampledFitness::new(genome, task, self.fitness.clone())?;
        Ok((Evolution::new(strategy, seed), fitness))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_reduce_as_documented() {
        let scores = [30.0, 10.0, 50.0, 20.0, 40.0];
        assert_eq!(Aggregate::Mean.of(&scores), 30.0);
        assert_eq!(Aggregate::Min.of(&scores), 10.0);
        assert_eq!(Aggregate::Quantile(0.0).of(&scores), 10.0);
        assert_eq!(Aggregate::Quantile(0.3).of(&scores), 20.0);
        assert_eq!(Aggregate::Quantile(1.0).of(&scores), 50.0);
    }

    #[test]
    fn evolution_settings_read_from_ron() {
        let text = "(strategy: OpenAiEs((sigma: 0.05)), fitness: (networks: 8, aggregate: Min), \
                    budget: (environment_steps: 1000))";
        let settings: EvolutionSettings = ron::from_str(text).unwrap();
        assert_eq!(settings.fitness.networks, 8);
        assert_eq!(settings.fitness.sampler, Sampler::Exact);
        assert_eq!(settings.budget.environment_steps, 1000);
        assert_eq!(settings.checkpoint_every, 10);
        assert!(ron::from_str::<EvolutionSettings>("(budjet: ())").is_err());
    }

    #[test]
    fn each_rule_is_checked() {
        let bad = [
            SampledFitnessSettings { networks: 0, ..Default::default() },
            SampledFitnessSettings { episodes: 0, ..Default::default() },
            SampledFitnessSettings { aggregate: Aggregate::Quantile(1.5), ..Default::default() },
            SampledFitnessSettings { average_degree: 0.0, ..Default::default() },
        ];
        for settings in bad {
            assert!(settings.check().is_err(), "{settings:?}");
        }
    }
}
