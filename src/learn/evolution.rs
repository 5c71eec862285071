//! The evolution runner: generations of ask, parallel evaluation and tell, with a budget,
//! checkpoints, and per-generation figures for observers.
//!
//! One generation ([`Evolution::step`]):
//!
//! 1. draw the population on the calling thread from the stream
//!    `stream(seed, Purpose::Evolution, generation)`;
//! 2. evaluate the candidates in parallel (rayon); candidate `k` gets its own seed
//!    ([`Candidate::seed`]) derived from `(seed, generation, k)`, so what it sees does not depend
//!    on the thread that runs it;
//! 3. fold the evaluations in index order and tell the strategy.
//!
//! The same seed therefore gives the same run on 1 thread or 16, and since every generation's
//! randomness is derived from its number, a run resumed from a checkpoint continues exactly as
//! the uninterrupted run would have.
//!
//! [`Evolution::run`] owns the loop: it stops once the budget (environment steps, generations)
//! is spent or an interrupt flag is raised, writes a checkpoint and the figures (CSV) to a run
//! directory every few generations and at the end, and hands each generation's
//! [`GenerationFigures`] to an observer. The runner prints nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rand::RngExt;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::es::{AnyStrategy, Strategy};
use crate::files::write_atomic;
use crate::rng::{self, Purpose};

/// A candidate handed to a [`Fitness`].
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The generation (0 for the first).
    pub generation: u64,
    /// The candidate's index in its population.
    pub index: usize,
    /// A seed for all of the candidate's randomness (sampling networks, resetting episodes),
    /// derived from the run's seed, the generation and the index.
    pub seed: u64,
    /// The point to evaluate.
    pub parameters: &'a [f64],
}

/// What evaluating a candidate gave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The fitness; higher is better.
    pub fitness: f64,
    /// Environment steps the evaluation took (counted against the budget).
    pub environment_steps: u64,
}

/// Scores a candidate. Called from several threads at once, so it must be `Sync`; all of its
/// randomness must come from [`Candidate::seed`].
///
/// Any `Fn(&Candidate) -> Evaluation + Sync` closure is a fitness:
///
/// ```
/// use synaptogen::learn::{Candidate, Evaluation, Fitness};
///
/// let sphere = |c: &Candidate| Evaluation {
///     fitness: -c.parameters.iter().map(|x| x * x).sum::<f64>(),
///     environment_steps: 0,
/// };
/// let candidate = Candidate { generation: 0, index: 0, seed: 1, parameters: &[3.0, 4.0] };
/// assert_eq!(sphere.evaluate(&candidate).fitness, -25.0);
/// ```
pub trait Fitness: Sync {
    /// The evaluation of one candidate.
    fn evaluate(&self, candidate: &Candidate) -> Evaluation;

    /// An upper bound on the environment steps of one evaluation, if known (default `None`);
    /// a [`Budget`] marked `strict` uses it.
    fn worst_case_steps(&self) -> Option<u64> {
        None
    }
}

impl<F: Fn(&Candidate) -> Evaluation + Sync> Fitness for F {
    fn evaluate(&self, candidate: &Candidate) -> Evaluation {
        self(candidate)
    }
}

/// The figures of one generation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GenerationFigures {
    /// Generations completed, this one included.
    pub generation: u64,
    /// Environment steps spent so far, this generation included.
    pub environment_steps: u64,
    /// The best fitness in the population.
    pub best: f64,
    /// The mean fitness of the population.
    pub mean: f64,
    /// The worst fitness in the population.
    pub worst: f64,
    /// The mean of the per-coordinate standard deviations after the update.
    pub sigma_mean: f64,
    /// The smallest per-coordinate standard deviation after the update.
    pub sigma_min: f64,
    /// The largest per-coordinate standard deviation after the update.
    pub sigma_max: f64,
}

impl GenerationFigures {
    /// The CSV header naming the columns of [`GenerationFigures::csv_row`].
    pub const CSV_HEADER: &'static str =
        "generation,environment_steps,best,mean,worst,sigma_mean,sigma_min,sigma_max";

    /// The figures as one CSV line (no newline); floats in their shortest exact form.
    pub fn csv_row(&self) -> String {
        let f = self;
        format!(
            "{},{},{},{},{},{},{},{}",
            f.generation,
            f.environment_steps,
            f.best,
            f.mean,
            f.worst,
            f.sigma_mean,
            f.sigma_min,
            f.sigma_max
        )
    }
}

/// Writes `figures` as a CSV file (header and one line per generation), atomically.
pub fn write_figures_csv(path: &Path, figures: &[GenerationFigures]) -> Result<(), EvolutionError> {
    let mut text = String::from(GenerationFigures::CSV_HEADER);
    text.push('\n');
    for f in figures {
        let _ = writeln!(text, "{}", f.csv_row());
    }
    write_atomic(path, text.as_bytes()).map_err(|source| io_error(path, source))
}

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budget {
    /// No generation starts once this many environment steps are spent; unless `strict`, the
    /// generation that crosses it is the last (default 500 000, the reference's budget).
    pub environment_steps: u64,
    /// No generation starts once this many have run; 0 sets no limit (default 0).
    pub generations: u64,
    /// Never exceed `environment_steps`: no generation starts unless it would fit even if every
    /// episode ran to the task's step limit (needs a fitness that knows its worst case,
    /// [`Fitness::worst_case_steps`]; default false).
    pub strict: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { environment_steps: 500_000, generations: 0, strict: false }
    }
}

impl Budget {
    /// A budget of generations only.
    pub fn generations(generations: u64) -> Self {
        Budget { environment_steps: u64::MAX, generations, strict: false }
    }

    /// Whether a run with `generation` generations and `environment_steps` steps behind it is
    /// done, given an upper bound on the steps of the next generation if one is known.
    pub fn spent(&self, generation: u64, environment_steps: u64, next: Option<u64>) -> bool {
        let overrun = self.strict
            && next.is_some_and(|n| environment_steps.saturating_add(n) > self.environment_steps);
        environment_steps >= self.environment_steps
            || overrun
            || (self.generations > 0 && generation >= self.generations)
    }
}

/// Where and how often a run writes its checkpoint and figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFiles {
    /// The run directory (created if missing).
    pub directory: PathBuf,
    /// Generations between checkpoints; the end of a run always writes one (0: only the end).
    pub every: u64,
}

impl RunFiles {
    /// The checkpoint file name inside the run directory.
    pub const CHECKPOINT: &'static str = "evolution.ron";
    /// The figures file name inside the run directory.
    pub const FIGURES: &'static str = "evolution.csv";

    /// The path of the checkpoint.
    pub fn checkpoint(&self) -> PathBuf {
        self.directory.join(Self::CHECKPOINT)
    }

    /// The path of the figures.
    pub fn figures(&self) -> PathBuf {
        self.directory.join(Self::FIGURES)
    }
}

/// Why [`Evolution::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The budget is spent.
    BudgetSpent,
    /// The interrupt flag was raised; the state after the last full generation was saved.
    Interrupted,
}

/// Errors of an evolution run: its files.
#[derive(Debug, thiserror::Error)]
pub enum EvolutionError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A checkpoint could not be read back.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column where known.
        message: String,
    },
}

fn io_error(path: &Path, source: std::io::Error) -> EvolutionError {
    EvolutionError::Io { path: path.to_path_buf(), source }
}

/// An evolution run: a strategy, the seed its randomness derives from, and its history.
///
/// The whole value is the checkpoint: [`Evolution::save`] writes it as RON and
/// [`Evolution::load`] reads it back bit for bit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evolution<S = AnyStrategy> {
    strategy: S,
    seed: u64,
    generation: u64,
    environment_steps: u64,
    history: Vec<GenerationFigures>,
}

impl<S: Strategy> Evolution<S> {
    /// A run of `strategy` whose randomness derives from `seed`.
    pub fn new(strategy: S, seed: u64) -> Self {
        Evolution { strategy, seed, generation: 0, environment_steps: 0, history: Vec::new() }
    }

    /// The strategy (its mean is the run's current solution).
    pub fn strategy(&self) -> &S {
        &self.strategy
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Generations completed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Environment steps spent.
    pub fn environment_steps(&self) -> u64 {
        self.environment_steps
    }

    /// The figures of every generation so far.
    pub fn history(&self) -> &[GenerationFigures] {
        &self.history
    }

    /// The seed of candidate `index` of `generation` under the run seed `seed`.
    pub fn candidate_seed(seed: u64, generation: u64, index: usize) -> u64 {
        rng::substream(seed, Purpose::Evolution, generation, index as u64).random()
    }

    /// One generation: ask, evaluate in parallel, tell. Returns its figures.
    pub fn step(&mut self, fitness: &impl Fitness) -> GenerationFigures {
        let generation = self.generation;

        // Draw the population on this thread.
        let candidates =
            self.strategy.ask(&mut rng::stream(self.seed, Purpose::Evolution, generation));

        // Evaluate in parallel; collecting keeps the index order.
        let seed = self.seed;
        let evaluations: Vec<Evaluation> = candidates
            .par_iter()
            .enumerate()
            .map(|(index, parameters)| {
                let seed = Self::candidate_seed(seed, generation, index);
                fitness.evaluate(&Candidate { generation, index, seed, parameters })
            })
            .collect();

        // Fold in index order and move the search distribution.
        let values: Vec<f64> = evaluations.iter().map(|e| e.fitness).collect();
        self.environment_steps += evaluations.iter().map(|e| e.environment_steps).sum::<u64>();
        self.strategy.tell(&values);
        self.generation += 1;
        let sigma = self.strategy.sigma();
        let figures = GenerationFigures {
            generation: self.generation,
            environment_steps: self.environment_steps,
            best: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean: values.iter().sum::<f64>() / values.len() as f64,
            worst: values.iter().copied().fold(f64::INFINITY, f64::min),
            sigma_mean: sigma.iter().sum::<f64>() / sigma.len() as f64,
            sigma_min: sigma.iter().copied().fold(f64::INFINITY, f64::min),
            sigma_max: sigma.iter().copied().fold(0.0, f64::max),
        };
        self.history.push(figures);
        figures
    }
}

impl<S: Strategy + Serialize + DeserializeOwned> Evolution<S> {
    /// Runs generations until `budget` is spent or `interrupt` is raised, handing each
    /// generation's figures to `observer`. With `files`, writes the checkpoint and the figures
    /// every `files.every` generations and when the run returns.
    pub fn run(
        &mut self,
        fitness: &impl Fitness,
        budget: Budget,
        files: Option<&RunFiles>,
        interrupt: Option<&AtomicBool>,
        mut observer: impl FnMut(&GenerationFigures),
    ) -> Result<RunEnd, EvolutionError> {
        let interrupted = || interrupt.is_some_and(|flag| flag.load(Ordering::Relaxed));
        let end = loop {
            let next = fitness.worst_case_steps().map(|w| w * self.strategy.population() as u64);
            if budget.spent(self.generation, self.environment_steps, next) {
                break RunEnd::BudgetSpent;
            }
            if interrupted() {
                break RunEnd::Interrupted;
            }
            let figures = self.step(fitness);
            observer(&figures);
            if let Some(files) = files
                && files.every > 0
                && self.generation % files.every == 0
            {
                self.write_files(files)?;
            }
        };
        if let Some(files) = files {
            self.write_files(files)?;
        }
        Ok(end)
    }

    /// Writes the checkpoint and the figures into the run directory.
    pub fn write_files(&self, files: &RunFiles) -> Result<(), EvolutionError> {
        std::fs::create_dir_all(&files.directory)
            .map_err(|source| io_error(&files.directory, source))?;
        self.save(&files.checkpoint())?;
        write_figures_csv(&files.figures(), &self.history)
    }

    /// Writes the run's state to `path` as RON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), EvolutionError> {
        write_ron(path, self)
    }

    /// Reads a run's state written by [`Evolution::save`].
    pub fn load(path: &Path) -> Result<Self, EvolutionError> {
        read_ron(path)
    }
}

/// Writes `value` to `path` as RON (numbers in their shortest exact form, so they read back
/// bit for bit), atomically.
pub(crate) fn write_ron(path: &Path, value: &impl Serialize) -> Result<(), EvolutionError> {
    let config = ron::ser::PrettyConfig::new().compact_arrays(true);
    let text = ron::ser::to_string_pretty(value, config)
        .map_err(|e| EvolutionError::Parse { path: path.into(), message: e.to_string() })?;
    write_atomic(path, text.as_bytes()).map_err(|source| io_error(path, source))
}

/// Reads a value written by [`write_ron`].
pub(crate) fn read_ron<T: DeserializeOwned>(path: &Path) -> Result<T, EvolutionError> {
    let text = std::fs::read_to_string(path).map_err(|source| io_error(path, source))?;
    ron::from_str(&text)
        .map_err(|e| EvolutionError::Parse { path: path.into(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::es::{SepCmaEsSettings, SnesSettings, Strategy, StrategySettings};

    /// A noisy sphere: the fitness depends on the candidate's seed, and each evaluation "costs"
    /// a number of steps that depends on the point.
    fn noisy_sphere(c: &Candidate) -> Evaluation {
        let noise: f64 = rng::stream(c.seed, Purpose::Evaluation, 0).random::<f64>() - 0.5;
        let distance: f64 = c.parameters.iter().map(|x| (x - 1.0) * (x - 1.0)).sum();
        Evaluation {
            fitness: -distance + 1e-3 * noise,
            environment_steps: 10 + (distance.min(100.0) as u64),
        }
    }

    fn run_dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("synaptogen-evolution-{name}-{}", std::process::id()))
    }

    fn snes_run(seed: u64) -> Evolution {
        let settings =
            StrategySettings::Snes(SnesSettings { initial_sigma: 0.5, ..Default::default() });
        Evolution::new(settings.build(vec![0.0; 8]).unwrap(), seed)
    }

    #[test]
    fn the_runner_finds_the_optimum_of_a_noisy_sphere() {
        let mut evolution = snes_run(3);
        let end =
            evolution.run(&noisy_sphere, Budget::generations(300), None, None, |_| {}).unwrap();
        assert_eq!(end, RunEnd::BudgetSpent);
        assert_eq!(evolution.generation(), 300);
        assert!(evolution.strategy().mean().iter().all(|m| (m - 1.0).abs() < 0.05));
        let last = evolution.history().last().unwrap();
        assert!(last.worst <= last.mean && last.mean <= last.best);
        assert!(last.sigma_min <= last.sigma_mean && last.sigma_mean <= last.sigma_max);
    }

    #[test]
    fn the_budget_counts_environment_steps() {
        let mut evolution = snes_run(4);
        let budget = Budget { environment_steps: 2_000, ..Default::default() };
        let mut seen = Vec::new();
        evolution.run(&noisy_sphere, budget, None, None, |f| seen.push(*f)).unwrap();
        let steps: Vec<u64> = seen.iter().map(|f| f.environment_steps).collect();
        // Every generation but the last started below the budget; the last crossed it.
        assert!(steps[..steps.len() - 1].iter().all(|&s| s < 2_000));
        assert!(*steps.last().unwrap() >= 2_000);
        assert_eq!(seen, evolution.history());
    }

    /// The noisy sphere with its worst case declared: 110 steps per evaluation.
    struct BoundedSphere;

    impl Fitness for BoundedSphere {
        fn evaluate(&self, candidate: &Candidate) -> Evaluation {
            noisy_sphere(candidate)
        }

        fn worst_case_steps(&self) -> Option<u64> {
            Some(110)
        }
    }

    #[test]
    fn a_strict_budget_is_never_exceeded() {
        let mut evolution = snes_run(4);
        let budget = Budget { environment_steps: 2_000, generations: 0, strict: true };
        evolution.run(&BoundedSphere, budget, None, None, |_| {}).unwrap();
        let steps = evolution.environment_steps();
        let worst_generation = 110 * evolution.strategy().population() as u64;
        assert!(steps <= 2_000 && steps + worst_generation > 2_000, "{steps}");
    }

    #[test]
    fn a_raised_interrupt_stops_before_the_next_generation() {
        let mut evolution = snes_run(5);
        let flag = AtomicBool::new(false);
        let end = evolution
            .run(&noisy_sphere, Budget::generations(100), None, Some(&flag), |f| {
                if f.generation == 7 {
                    flag.store(true, Ordering::Relaxed);
                }
            })
            .unwrap();
        assert_eq!(end, RunEnd::Interrupted);
        assert_eq!(evolution.generation(), 7);
    }

    #[test]
    fn thread_count_does_not_change_the_run() {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut evolution = snes_run(6);
                evolution.run(&noisy_sphere, Budget::generations(20), None, None, |_| {}).unwrap();
                evolution
            })
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn resuming_from_a_checkpoint_gives_the_uninterrupted_run() {
        for settings in [
            StrategySettings::Snes(SnesSettings { initial_sigma: 0.3, ..Default::default() }),
            StrategySettings::SepCmaEs(SepCmaEsSettings {
                initial_sigma: 0.3,
                ..Default::default()
            }),
            StrategySettings::OpenAiEs(Default::default()),
        ] {
            let dir = run_dir("resume");
            let fresh = || Evolution::new(settings.build(vec![0.2; 6]).unwrap(), 11);
            let mut whole = fresh();
            whole.run(&noisy_sphere, Budget::generations(12), None, None, |_| {}).unwrap();

            // Stop after 5 generations (the end of a run writes the files), then resume.
            let files = RunFiles { directory: dir.clone(), every: 2 };
            let mut first = fresh();
            first.run(&noisy_sphere, Budget::generations(5), Some(&files), None, |_| {}).unwrap();
            let mut resumed: Evolution = Evolution::load(&files.checkpoint()).unwrap();
            assert_eq!(resumed, first);
            resumed
                .run(&noisy_sphere, Budget::generations(12), Some(&files), None, |_| {})
                .unwrap();
            assert_eq!(resumed, whole, "{settings:?}");

            // The figures file holds every generation.
            let csv = std::fs::read_to_string(files.figures()).unwrap();
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!(lines[0], GenerationFigures::CSV_HEADER);
            assert_eq!(lines.len(), 13);
            assert_eq!(lines[12], whole.history()[11].csv_row());
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn a_damaged_checkpoint_names_its_file() {
        let dir = run_dir("damaged");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("evolution.ron");
        std::fs::write(&path, "(strategy: Snes(").unwrap();
        let err = Evolution::<AnyStrategy>::load(&path).unwrap_err();
        assert!(err.to_string().contains("evolution.ron"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
