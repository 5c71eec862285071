//! The gradient/evolution hybrid: genetics that grow networks which solve a task reliably, not
//! only on average.
//!
//! The expected-weight network of a well-trained genome can be fragile: its grown networks
//! differ from it by a relative count noise of well under one per cent at `d = 1e5`, yet for
//! some DQN seeds a third of them fail CartPole. The hybrid attacks this in two phases.
//!
//! 1. **Gradient phase, aware of the sampling noise.** DQN trains a [`NoisyGenome`]: every
//!    network it builds carries count noise with the analytic variance of synaptogenesis,
//!    multiplied by `noise_scale` (default 30, a wide margin), and the gradient reaches the
//!    genetics through the noise's standard deviation as well as through the mean. At every DQN
//!    evaluation, the current genetics are *validated*: `validation_networks` networks grown by
//!    the exact sampler play `validation_episodes` greedy episodes each; a genetics scores by
//!    how many of its networks reach the task's solved threshold, then by their mean return.
//!    The phase keeps the best-validated genetics (DQN's own choice, by the expected network's
//!    return, is often among the most fragile).
//! 2. **Selection phase.** An evolution strategy (default SNES with a small σ₀ = 2e-4) starts
//!    from those genetics and selects on the *worst* of several sampled networks (default: the
//!    minimum over 16 moment-matched networks, one episode each). Every `validate_every`
//!    generations its mean is validated like a DQN checkpoint; a validation at least as good as
//!    the best so far replaces it (ties go to the more refined genetics).
//!
//! The result is the best-validated genetics of both phases. Every validation uses fresh
//! networks and episodes (its own seed), so a lucky draw does not stick.
//!
//! Checkpoints cover the selection phase (the gradient phase's replay buffer is not saved): a
//! run resumed from one continues exactly as the uninterrupted run.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::es::{EsError, SnesSettings, Strategy, StrategySettings};
use super::evolution::{
    Budget, Evolution, EvolutionError, Fitness, GenerationFigures, RunFiles, read_ron,
    write_figures_csv, write_ron,
};
use super::noisy::NoisyGenome;
use super::sampled::{
    Aggregate, NetworkScores, SampledFitness, SampledFitnessError, SampledFitnessSettings,
};
use super::{Dqn, DqnError, DqnSettings, Report};
use crate::genome::Genome;
use crate::rng::{self, Purpose};
use crate::synapse::Sampler;
use crate::task::Task;

/// Settings of the hybrid (the DQN settings of the gradient phase are given separately).
///
/// In RON, every field optional:
///
/// ```ron
/// (
///     noise_scale: 30.0,
///     validation_networks: 20,
///     validation_episodes: 5,
///     strategy: Snes((initial_sigma: 0.0002)),
///     fitness: (networks: 16, episodes: 1, aggregate: Min, sampler: MomentMatched),
///     selection_budget: (environment_steps: 2000000),
///     validate_every: 5,
///     checkpoint_every: 5,
/// )
/// ```
///
/// A `fitness` section replaces the whole default fitness: unwritten fields take the defaults of
/// [`SampledFitnessSettings`] (the reference's mean over exact samples), not the hybrid's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HybridSettings {
    /// Factor `s` on the standard deviation of the count noise the gradient phase trains
    /// through; 0 trains the plain expected network (default 30).
    pub noise_scale: f64,
    /// Networks grown by the exact sampler to validate one genetics (default 20).
    pub validation_networks: usize,
    /// Greedy episodes per validation network (default 5).
    pub validation_episodes: usize,
    /// The strategy of the selection phase (default `Snes((initial_sigma: 0.0002))`).
    pub strategy: StrategySettings,
    /// The fitness of the selection phase; its `average_degree` is also the degree of the
    /// noise model and of validation (default: the minimum over 16 moment-matched networks of
    /// one episode each, `d = 1e5`).
    pub fitness: SampledFitnessSettings,
    /// The budget of the selection phase; its environment steps do not count validation
    /// (default 2 000 000 environment steps).
    pub selection_budget: Budget,
    /// Generations between validations of the strategy's mean (default 5).
    pub validate_every: u64,
    /// Generations between checkpoints when the run has a directory (default 5).
    pub checkpoint_every: u64,
}

impl Default for HybridSettings {
    fn default() -> Self {
        HybridSettings {
            noise_scale: 30.0,
            validation_networks: 20,
            validation_episodes: 5,
            strategy: StrategySettings::Snes(SnesSettings {
                initial_sigma: 2e-4,
                ..Default::default()
            }),
            fitness: SampledFitnessSettings {
                networks: 16,
                episodes: 1,
                aggregate: Aggregate::Min,
                sampler: Sampler::MomentMatched,
                average_degree: 1e5,
            },
            selection_budget: Budget { environment_steps: 2_000_000, ..Default::default() },
            validate_every: 5,
            checkpoint_every: 5,
        }
    }
}

/// Errors of the hybrid.
#[derive(Debug, thiserror::Error)]
pub enum HybridError {
    /// A setting breaks a rule.
    #[error("hybrid.{field}: {rule}")]
    Setting {
        /// The setting.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The gradient phase failed.
    #[error(transparent)]
    Dqn(#[from] DqnError),
    /// The strategy's settings are wrong.
    #[error(transparent)]
    Strategy(#[from] EsError),
    /// The fitness or validation cannot run.
    #[error(transparent)]
    Fitness(#[from] SampledFitnessError),
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Files(#[from] EvolutionError),
    /// A checkpoint was asked for during the gradient phase, which has none.
    #[error("the gradient phase cannot be checkpointed; checkpoints start with the selection")]
    NoCheckpoint,
}

impl HybridSettings {
    /// Checks every rule the settings must follow.
    pub fn check(&self) -> Result<(), HybridError> {
        let rule = |ok: bool, field: &'static str, rule: &'static str| {
            if ok { Ok(()) } else { Err(HybridError::Setting { field, rule }) }
        };
        rule(
            self.noise_scale.is_finite() && self.noise_scale >= 0.0,
            "noise_scale",
            "must be a number >= 0",
        )?;
        rule(self.validation_networks > 0, "validation_networks", "must be at least 1")?;
        rule(self.validation_episodes > 0, "validation_episodes", "must be at least 1")?;
        rule(self.validate_every > 0, "validate_every", "must be at least 1")?;
        self.strategy.check()?;
        self.fitness.check()?;
        Ok(())
    }
}

/// The validation of one genetics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    /// Environment steps of the whole run when the validation started.
    pub at_step: u64,
    /// Generation of the selection phase (0 in the gradient phase).
    pub generation: u64,
    /// Networks whose mean return reached the task's solved threshold.
    pub solved: usize,
    /// Networks grown.
    pub networks: usize,
    /// Mean return over all networks.
    pub mean: f64,
    /// The worst network's mean return.
    pub min: f64,
}

impl Validation {
    /// Whether `self` is better than `other`: more networks solved, then a higher mean.
    pub fn beats(&self, other: &Validation) -> bool {
        (self.solved, self.mean) > (other.solved, other.mean)
    }
}

/// A genetics and its validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selected {
    /// The learnable parameters (as [`Genome::parameters`]).
    pub parameters: Vec<f64>,
    /// Its validation.
    pub validation: Validation,
}

/// What one step of the hybrid did.
#[derive(Debug, Clone, PartialEq)]
pub enum HybridStep {
    /// One environment step of the gradient phase.
    Gradient(Report),
    /// One generation of the selection phase.
    Generation(GenerationFigures),
}

/// What the hybrid remembers across phases; saved in checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The best-validated genetics so far.
    pub best: Option<Selected>,
    /// Every validation so far, in order (validation `i` used its own seed, derived from `i`).
    pub validations: Vec<Validation>,
    /// Environment steps of DQN (set when the gradient phase ends).
    pub dqn_steps: u64,
    /// Environment steps of all validations.
    pub validation_steps: u64,
}

/// A checkpoint of the selection phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Checkpoint {
    evolution: Evolution,
    record: Record,
}

enum Phase {
    Gradient(Box<Dqn<NoisyGenome>>),
    Selection(Box<Evolution>),
}

/// The hybrid learner (see the module docs): [`Hybrid::step`] advances it by one environment
/// step of the gradient phase or one generation of the selection phase; [`Hybrid::run`] owns
/// the loop.
pub struct Hybrid {
    settings: HybridSettings,
    seed: u64,
    phase: Phase,
    record: Record,
    /// The selection fitness (it also holds the template genome and the task).
    fitness: SampledFitness,
    /// Validation: exact sampler, validation networks and episodes, mean aggregate.
    validation: SampledFitness,
    solved_at: f64,
    last_validation: Option<Validation>,
}

impl Hybrid {
    /// A hybrid run on `genome` in `task`: DQN with `dqn` through the count noise, then
    /// selection; all randomness from `seed`. The DQN evaluations (every `dqn.eval_freq`
    /// steps, and at the end) set the cadence of validation in the gradient phase.
    ///
    /// # Errors
    ///
    /// If a setting breaks a rule or the genome does not fit the task.
    pub fn new(
        genome: Genome,
        task: Box<dyn Task>,
        dqn: DqnSettings,
        settings: HybridSettings,
        seed: u64,
    ) -> Result<Self, HybridError> {
        settings.check()?;
        let degree = settings.fitness.average_degree;
        let model = NoisyGenome::new(genome.clone(), degree, settings.noise_scale, seed);
        let learner = Dqn::new(model, task.boxed_clone(), dqn, seed)?;
        Hybrid::with_phase(genome, task, settings, seed, Phase::Gradient(Box::new(learner)))
    }

    /// Resumes a run from a checkpoint written by [`Hybrid::save`], given the genome, task,
    /// settings and seed it was started with.
    ///
    /// # Errors
    ///
    /// If the file cannot be read or parsed, or as [`Hybrid::new`].
    pub fn resume(
        path: &Path,
        genome: Genome,
        task: Box<dyn Task>,
        settings: HybridSettings,
        seed: u64,
    ) -> Result<Self, HybridError> {
        settings.check()?;
        let checkpoint: Checkpoint = read_ron(path)?;
        let phase = Phase::Selection(Box::new(checkpoint.evolution));
        let mut hybrid = Hybrid::with_phase(genome, task, settings, seed, phase)?;
        hybrid.record = checkpoint.record;
        Ok(hybrid)
    }

    fn with_phase(
        genome: Genome,
        task: Box<dyn Task>,
        settings: HybridSettings,
        seed: u64,
        phase: Phase,
    ) -> Result<Self, HybridError> {
        let validation_settings = SampledFitnessSettings {
            networks: settings.validation_networks,
            episodes: settings.validation_episodes,
            aggregate: Aggregate::Mean,
            sampler: Sampler::Exact,
            average_degree: settings.fitness.average_degree,
        };
        let solved_at = task.solved_at();
        let validation =
            SampledFitness::new(genome.clone(), task.boxed_clone(), validation_settings)?;
        let fitness = SampledFitness::new(genome, task, settings.fitness.clone())?;
        Ok(Hybrid {
            settings,
            seed,
            phase,
            record: Record::default(),
            fitness,
            validation,
            solved_at,
            last_validation: None,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &HybridSettings {
        &self.settings
    }

    /// Whether the selection budget is spent.
    pub fn finished(&self) -> bool {
        match &self.phase {
            Phase::Gradient(_) => false,
            Phase::Selection(evolution) => {
                let population = evolution.strategy().population() as u64;
                let next = self.fitness.worst_case_steps().map(|w| w * population);
                self.settings.selection_budget.spent(
                    evolution.generation(),
                    evolution.environment_steps(),
                    next,
                )
            }
        }
    }

    /// Whether the run is in its selection phase.
    pub fn selecting(&self) -> bool {
        matches!(self.phase, Phase::Selection(_))
    }

    /// The evolution run of the selection phase, once it has started.
    pub fn evolution(&self) -> Option<&Evolution> {
        match &self.phase {
            Phase::Gradient(_) => None,
            Phase::Selection(evolution) => Some(evolution),
        }
    }

    /// The best genetics so far and its validation.
    pub fn best(&self) -> Option<(Genome, Validation)> {
        let best = self.record.best.as_ref()?;
        Some((self.fitness.genome(&best.parameters), best.validation))
    }

    /// What the run remembers: the best genetics, every validation, the steps spent.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The validation done by the last step, if it did one.
    pub fn last_validation(&self) -> Option<&Validation> {
        self.last_validation.as_ref()
    }

    /// Environment steps spent: DQN's, every generation's episodes and every validation's (the
    /// greedy evaluations inside DQN are not counted).
    pub fn environment_steps(&self) -> u64 {
        let phase = match &self.phase {
            Phase::Gradient(dqn) => dqn.steps() as u64,
            Phase::Selection(evolution) => self.record.dqn_steps + evolution.environment_steps(),
        };
        phase + self.record.validation_steps
    }

    /// One environment step of the gradient phase (with a validation after each DQN
    /// evaluation), or one generation of the selection phase (with a validation every
    /// `validate_every` generations). The step that ends the gradient phase also starts the
    /// selection from the best-validated genetics.
    ///
    /// # Errors
    ///
    /// If DQN diverges.
    pub fn step(&mut self) -> Result<HybridStep, HybridError> {
        self.last_validation = None;
        match &mut self.phase {
            Phase::Gradient(dqn) => {
                // A DQN step; its evaluations are followed by a validation.
                let report = dqn.step()?;
                let finished = dqn.finished();
                let dqn_steps = dqn.steps() as u64;
                if report.evaluation.is_some() {
                    let parameters = dqn.model().genome().parameters();
                    self.validate(&parameters, 0, false);
                }

                // The end of DQN starts the selection from the best-validated genetics.
                if finished {
                    self.record.dqn_steps = dqn_steps;
                    let best = self.record.best.as_ref().expect("DQN's last step validates");
                    let strategy = self.settings.strategy.build(best.parameters.clone())?;
                    self.phase = Phase::Selection(Box::new(Evolution::new(strategy, self.seed)));
                }
                Ok(HybridStep::Gradient(report))
            }
            Phase::Selection(evolution) => {
                let figures = evolution.step(&self.fitness);
                if figures.generation % self.settings.validate_every == 0 {
                    let mean = evolution.strategy().mean().to_vec();
                    self.validate(&mean, figures.generation, true);
                }
                Ok(HybridStep::Generation(figures))
            }
        }
    }

    /// Validates `parameters` with fresh networks and keeps them if they beat the best (or tie
    /// with it, when `ties_win`).
    fn validate(&mut self, parameters: &[f64], generation: u64, ties_win: bool) {
        let index = self.record.validations.len() as u64;
        let seed = rng::substream(self.seed, Purpose::Validation, u64::MAX, index).random();
        let genome = self.validation.genome(parameters);
        let scores = self.validation.scores(&genome, seed).unwrap_or_else(|_| NetworkScores {
            scores: vec![f64::NEG_INFINITY; self.settings.validation_networks],
            environment_steps: 0,
        });
        let validation = Validation {
            at_step: self.environment_steps(),
            generation,
            solved: scores.reaching(self.solved_at),
            networks: scores.scores.len(),
            mean: scores.mean(),
            min: scores.min(),
        };
        self.record.validation_steps += scores.environment_steps;
        let better = self.record.best.as_ref().is_none_or(|best| {
            validation.beats(&best.validation) || (ties_win && !best.validation.beats(&validation))
        });
        if better {
            self.record.best = Some(Selected { parameters: parameters.to_vec(), validation });
        }
        self.record.validations.push(validation);
        self.last_validation = Some(validation);
    }

    /// Writes the selection phase's state to `path` (RON, atomically).
    ///
    /// # Errors
    ///
    /// [`HybridError::NoCheckpoint`] during the gradient phase; a file error otherwise.
    pub fn save(&self, path: &Path) -> Result<(), HybridError> {
        let Phase::Selection(evolution) = &self.phase else {
            return Err(HybridError::NoCheckpoint);
        };
        let checkpoint =
            Checkpoint { evolution: evolution.as_ref().clone(), record: self.record.clone() };
        write_ron(path, &checkpoint)?;
        Ok(())
    }

    /// The checkpoint's file name inside a run directory.
    pub const CHECKPOINT: &'static str = "hybrid.ron";

    /// Writes the checkpoint ([`Hybrid::CHECKPOINT`]) and the selection figures
    /// ([`RunFiles::FIGURES`]) into the run directory.
    ///
    /// # Errors
    ///
    /// As [`Hybrid::save`].
    pub fn write_files(&self, files: &RunFiles) -> Result<(), HybridError> {
        std::fs::create_dir_all(&files.directory)
            .map_err(|source| EvolutionError::Io { path: files.directory.clone(), source })?;
        self.save(&files.directory.join(Self::CHECKPOINT))?;
        if let Phase::Selection(evolution) = &self.phase {
            write_figures_csv(&files.figures(), evolution.history())?;
        }
        Ok(())
    }

    /// Runs to the end of the selection budget or until `interrupt` is raised, handing each
    /// step and the validation it did (if any) to `observer`. With `files`, writes a checkpoint
    /// and the selection figures every `checkpoint_every` generations and when it returns.
    /// Returns the best genetics and its validation.
    ///
    /// # Errors
    ///
    /// If DQN diverges or a file cannot be written.
    pub fn run(
        &mut self,
        files: Option<&RunFiles>,
        interrupt: Option<&AtomicBool>,
        mut observer: impl FnMut(&HybridStep, Option<&Validation>),
    ) -> Result<Option<(Genome, Validation)>, HybridError> {
        let interrupted = || interrupt.is_some_and(|flag| flag.load(Ordering::Relaxed));
        while !self.finished() && !interrupted() {
            let step = self.step()?;
            observer(&step, self.last_validation.as_ref());
            if let (Some(files), HybridStep::Generation(figures)) = (files, &step)
                && self.settings.checkpoint_every > 0
                && figures.generation % self.settings.checkpoint_every == 0
            {
                self.write_files(files)?;
            }
        }
        if let Some(files) = files
            && self.selecting()
        {
            self.write_files(files)?;
        }
        Ok(self.best())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_is_checked() {
        let bad = [
            HybridSettings { noise_scale: -1.0, ..Default::default() },
            HybridSettings { validation_networks: 0, ..Default::default() },
            HybridSettings { validation_episodes: 0, ..Default::default() },
            HybridSettings { validate_every: 0, ..Default::default() },
            HybridSettings {
                strategy: StrategySettings::Snes(SnesSettings {
                    initial_sigma: 0.0,
                    ..Default::default()
                }),
                ..Default::default()
            },
            HybridSettings {
                fitness: SampledFitnessSettings { networks: 0, ..Default::default() },
                ..Default::default()
            },
        ];
        for settings in bad {
            assert!(settings.check().is_err(), "{settings:?}");
        }
        HybridSettings::default().check().unwrap();
    }

    #[test]
    fn settings_read_from_ron_and_refuse_typos() {
        let text = "(noise_scale: 10.0, strategy: SepCmaEs((initial_sigma: 0.001)), \
                    fitness: (aggregate: Quantile(0.1)))";
        let settings: HybridSettings = ron::from_str(text).unwrap();
        assert_eq!(settings.noise_scale, 10.0);
        assert_eq!(settings.fitness.aggregate, Aggregate::Quantile(0.1));
        assert_eq!(settings.validation_networks, 20);
        let typo = ron::from_str::<HybridSettings>("(noise_scal: 1.0)").unwrap_err();
        assert!(typo.to_string().contains("noise_scal"), "{typo}");
    }

    #[test]
    fn validations_rank_by_networks_solved_then_mean() {
        let v = |solved, mean| Validation {
            at_step: 0,
            generation: 0,
            solved,
            networks: 20,
            mean,
            min: 0.0,
        };
        assert!(v(20, 480.0).beats(&v(19, 500.0)));
        assert!(v(19, 490.0).beats(&v(19, 480.0)));
        assert!(!v(19, 480.0).beats(&v(19, 480.0)));
    }
}
