//! The runner: owns the loop of an experiment, from the initial genome to the report, and
//! writes every result into the run directory as soon as it exists.
//!
//! A run directory holds:
//!
//! | file | what |
//! |---|---|
//! | `experiment.ron` | the resolved experiment (every default applied) |
//! | `status.json` | `running` or `complete`, and the stages done |
//! | `log.txt` | the run's header and one line per stage |
//! | `training.csv` | per episode and training phase: step, return, ε, loss, evaluation |
//! | `genome.ron`, `genome-final.ron` | the best genome by evaluation, and the last one |
//! | `expected/` | expected weights and synapse counts per connection (`.npy`) |
//! | `rewards.csv` | `family,network,episode,return` for every evaluated network |
//! | `summary.json` | per family: mean, std, median, min, max, solved; pairwise tests |
//! | `rewards.svg`, `training.svg`, `episode.svg` | the figures |
//! | `report.md` | the report tying them together |
//!
//! Every file is written atomically. A run that is stopped leaves `status.json` at `running`
//! with the stages it finished; [`run`] on the same directory resumes after them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use serde::{Deserialize, Serialize};

use super::check::{Experiment, Learner};
use crate::eval::{self, EvaluationError};
use crate::files::write_atomic;
use crate::genome::{Family, Genome, GenomeError, LineageError};
use crate::learn::es::Strategy;
use crate::learn::{
    Dqn, DqnError, DqnSettings, Evolution, EvolutionError, EvolutionSettings, EvolutionSetupError,
    Hybrid, HybridError, HybridSettings, HybridStep, Model, Report, RunFiles,
};
use crate::net::{Activation, Dense, Scratch};
use crate::npy;
use crate::plot::{Figure, PALETTE};
use crate::rng::{self, Purpose};
use crate::stats::{Comparison, Summary, pairwise};
use crate::synapse::{Expected, SampledNetwork, SamplingError, Synaptogenesis};
use crate::task::{self, render};

/// Where the runner reports what it does; the library itself never prints.
pub trait Observer: Send {
    /// A line worth logging.
    fn message(&mut self, text: &str);
    /// A stage begins with `total` units of work (environment steps, networks).
    fn start(&mut self, stage: &str, total: u64);
    /// `amount` more units of the current stage are done.
    fn advance(&mut self, amount: u64);
    /// The current stage is done.
    fn finish(&mut self);
}

/// An observer that drops everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {
    fn message(&mut self, _text: &str) {}
    fn start(&mut self, _stage: &str, _total: u64) {}
    fn advance(&mut self, _amount: u64) {}
    fn finish(&mut self) {}
}

/// What can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file of the run directory could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A genome could not be built, loaded or saved.
    #[error(transparent)]
    Genome(#[from] GenomeError),
    /// Evolution could not start or its files failed.
    #[error("evolution: {0}")]
    Evolution(String),
    /// Training failed (for example it diverged).
    #[error("training: {0}")]
    Training(#[from] DqnError),
    /// The lineage tree of the control family could not be grown.
    #[error("lineage: {0}")]
    Lineage(#[from] LineageError),
    /// Networks could not be grown from a genome.
    #[error("synaptogenesis: {0}")]
    Sampling(#[from] SamplingError),
    /// Networks could not be evaluated.
    #[error("evaluation: {0}")]
    Evaluation(#[from] EvaluationError),
    /// The run directory belongs to another experiment.
    #[error(
        "{dir}: this run directory holds a different experiment; \
         resume it with its own experiment.ron"
    )]
    OtherExperiment {
        /// The run directory.
        dir: PathBuf,
    },
}

/// Progress of a run, saved as `status.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `running` or `complete`.
    pub state: String,
    /// Stages finished, in order.
    pub done: Vec<String>,
}

/// The scores of one family: one mean return per network, and every episode's return.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyScores {
    /// Family name.
    pub name: String,
    /// `returns[network][episode]`.
    pub returns: Vec<Vec<f64>>,
}

impl FamilyScores {
    /// Mean return of each network.
    pub fn scores(&self) -> Vec<f64> {
        self.returns.iter().map(|r| r.iter().sum::<f64>() / r.len() as f64).collect()
    }
}

/// What a finished run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The run directory.
    pub dir: PathBuf,
    /// Per family summaries, in family order.
    pub summaries: Vec<(String, Summary)>,
    /// Pairwise comparisons.
    pub comparisons: Vec<Comparison>,
}

struct Run<'a> {
    experiment: &'a Experiment,
    dir: PathBuf,
    status: Status,
    observer: &'a mut dyn Observer,
    log: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io { path: path.into(), source }
}

/// A fresh run directory for `experiment` under `root`: `<root>/<name>-seed<seed>`, with `-2`,
/// `-3`, ... appended when that exists already.
pub fn fresh_dir(experiment: &Experiment, root: &Path) -> PathBuf {
    let base = format!("{}-seed{}", experiment.name, experiment.seed);
    let mut dir = root.join(&base);
    let mut n = 2;
    while dir.exists() {
        dir = root.join(format!("{base}-{n}"));
        n += 1;
    }
    dir
}

/// Runs `experiment` in `dir` (created if needed), resuming after the stages a previous run in
/// the same directory finished.
pub fn run(
    experiment: &Experiment,
    dir: &Path,
    observer: &mut dyn Observer,
) -> Result<Outcome, RunError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let resolved =
        ron::ser::to_string_pretty(experiment, ron::ser::PrettyConfig::new().struct_names(true))
            .expect("experiments serialise");
    let experiment_file = dir.join("experiment.ron");
    let status_file = dir.join("status.json");
    let status = match std::fs::read_to_string(&status_file) {
        Ok(text) => {
            let previous = std::fs::read_to_string(&experiment_file).unwrap_or_default();
            if previous != resolved {
                return Err(RunError::OtherExperiment { dir: dir.into() });
            }
            serde_json::from_str(&text).unwrap_or_default()
        }
        Err(_) => Status::default(),
    };
    write_atomic(&experiment_file, resolved.as_bytes()).map_err(io(&experiment_file))?;
    let mut run = Run { experiment, dir: dir.into(), status, observer, log: String::new() };
    run.execute()
}

impl Run<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), RunError> {
        let path = self.path(name);
        write_atomic(&path, bytes).map_err(io(&path))
    }

    fn say(&mut self, text: &str) -> Result<(), RunError> {
        self.observer.message(text);
        self.log.push_str(text);
        self.log.push('\n');
        let log = self.log.clone();
        self.write("log.txt", log.as_bytes())
    }

    fn mark_done(&mut self, stage: &str) -> Result<(), RunError> {
        if !self.status.done.iter().any(|s| s == stage) {
            self.status.done.push(stage.into());
        }
        let json = serde_json::to_string_pretty(&self.status).expect("status serialises");
        self.write("status.json", json.as_bytes())
    }

    fn is_done(&self, stage: &str) -> bool {
        self.status.done.iter().any(|s| s == stage)
    }

    fn execute(&mut self) -> Result<Outcome, RunError> {
        let start = Instant::now();
        let e = self.experiment;
        self.status.state = "running".into();
        self.mark_done("started")?;
        let header = format!(
            "synaptogen {}: experiment `{}`, task {}, layers {:?}, g = {}, k = {}, seed {}, \
             {} threads",
            env!("CARGO_PKG_VERSION"),
            e.name,
            e.task,
            e.architecture.layers,
            e.architecture.genes,
            e.architecture.transmitters,
            e.seed,
            rayon::current_num_threads()
        );
        self.say(&header)?;
        self.say(&format!("run directory: {}", self.dir.display()))?;

        // Training.
        let initial = e.initial()?;
        let genome = self.train(initial)?;
        self.export_expected(&genome)?;

        // Families.
        let mut families = Vec::new();
        let mut best_grown: Option<Dense> = None;
        if e.families.trained {
            let network = Expected::new(&genome).network;
            families.push(self.family("trained", &[network])?);
        }
        if let Some(mlp) = self.train_mlp()? {
            families.push(self.family("mlp", &[mlp])?);
        }
        let grown = [
            (Family::Sampled, e.families.sampled),
            (Family::Baseline1, e.families.baseline1),
            (Family::Baseline2, e.families.baseline2),
            (Family::Control(e.sampling.lineage), e.families.control),
        ];
        for (family, count) in grown {
            if count == 0 {
                continue;
            }
            let name = family.name();
            let networks = self.grow(&genome, family, count)?;
            let scores = self.family(name, &networks)?;
            if matches!(family, Family::Sampled) {
                let means = scores.scores();
                let best = (0..means.len()).max_by(|&a, &b| means[a].total_cmp(&means[b]));
                best_grown = best.map(|i| networks[i].clone());
            }
            families.push(scores);
        }

        // Summary, figures, report.
        let outcome = self.summarise(&families)?;
        let shown = best_grown.unwrap_or_else(|| Expected::new(&genome).network);
        self.figures(&families, &shown)?;
        self.report(&outcome, start.elapsed().as_secs_f64())?;
        self.status.state = "complete".into();
        self.mark_done("report")?;
        self.say(&format!(
            "done in {:.1} s; results in {}",
            start.elapsed().as_secs_f64(),
            self.dir.display()
        ))?;
        Ok(outcome)
    }

    /// Trains the genome (or loads it when a previous run already did).
    fn train(&mut self, initial: Genome) -> Result<Genome, RunError> {
        let best_file = self.path("genome.ron");
        if !matches!(self.experiment.learner, Learner::None) && self.is_done("training") {
            self.say("training: done before, loading genome.ron")?;
            return Ok(Genome::load(&best_file)?);
        }
        let settings = match &self.experiment.learner {
            Learner::None => return Ok(initial),
            Learner::Evolution(settings) => return self.evolve(initial, settings),
            Learner::Hybrid { dqn, hybrid } => return self.hybrid(initial, dqn, hybrid),
            Learner::Dqn { settings, .. } => settings,
        };
        let task = task::by_name(&self.experiment.task).expect("checked");
        let mut dqn = Dqn::new(initial, task, settings.clone(), self.experiment.seed)?;
        let (log, best, seconds) = self.drive("training (DQN)", &mut dqn)?;
        let (genome, best_return) = best;
        genome.save(&best_file)?;
        dqn.model().save(&self.path("genome-final.ron"))?;
        self.write("training.csv", log.as_bytes())?;
        self.say(&format!(
            "training: {} steps in {seconds:.1} s ({:.0} steps/s); \
             best evaluation {best_return:.1}",
            dqn.steps(),
            dqn.steps() as f64 / seconds
        ))?;
        self.mark_done("training")?;
        Ok(genome)
    }

    /// Runs an evolution strategy over sampled networks within its budget, with checkpoints in
    /// `evolution/` (a resumed run continues from the last one).
    fn evolve(
        &mut self,
        initial: Genome,
        settings: &EvolutionSettings,
    ) -> Result<Genome, RunError> {
        let e = self.experiment;
        let task = task::by_name(&e.task).expect("checked");
        let (mut evolution, fitness) = settings.start(initial, task, e.seed)?;
        let files =
            RunFiles { directory: self.path("evolution"), every: settings.checkpoint_every };
        std::fs::create_dir_all(&files.directory).map_err(io(&files.directory))?;
        if files.checkpoint().exists() {
            evolution = Evolution::load(&files.checkpoint())?;
            self.say(&format!("evolution: resuming at generation {}", evolution.generation()))?;
        }
        let start = Instant::now();
        self.observer.start("evolution", settings.budget.environment_steps);
        let mut spent = evolution.environment_steps();
        self.observer.advance(spent);
        let observer = &mut *self.observer;
        evolution.run(&fitness, settings.budget, Some(&files), None, |figures| {
            observer.advance(figures.environment_steps.saturating_sub(spent));
            spent = figures.environment_steps;
        })?;
        self.observer.finish();
        let genome = fitness.genome(evolution.strategy().mean());
        genome.save(&self.path("genome.ron"))?;
        let last = evolution.history().last().map_or(f64::NAN, |f| f.mean);
        self.say(&format!(
            "evolution: {} generations, {} environment steps in {:.1} s; last mean fitness {last:.1}",
            evolution.generation(),
            evolution.environment_steps(),
            start.elapsed().as_secs_f64()
        ))?;
        self.mark_done("training")?;
        Ok(genome)
    }

    /// Runs the gradient/evolution hybrid, with its files in `hybrid/`.
    fn hybrid(
        &mut self,
        initial: Genome,
        dqn: &DqnSettings,
        settings: &HybridSettings,
    ) -> Result<Genome, RunError> {
        let e = self.experiment;
        let task = task::by_name(&e.task).expect("checked");
        let mut hybrid = Hybrid::new(initial.clone(), task, dqn.clone(), settings.clone(), e.seed)?;
        let files = RunFiles { directory: self.path("hybrid"), every: settings.checkpoint_every };
        std::fs::create_dir_all(&files.directory).map_err(io(&files.directory))?;
        let start = Instant::now();
        let total = dqn.total_steps as u64 + settings.selection_budget.environment_steps;
        self.observer.start("hybrid (DQN, then selection)", total);
        let observer = &mut *self.observer;
        let mut selection_steps = 0;
        let best = hybrid.run(Some(&files), None, |step, _| match step {
            HybridStep::Gradient(_) => observer.advance(1),
            HybridStep::Generation(figures) => {
                observer.advance(figures.environment_steps.saturating_sub(selection_steps));
                selection_steps = figures.environment_steps;
            }
        })?;
        self.observer.finish();
        let seconds = start.elapsed().as_secs_f64();
        let steps = hybrid.environment_steps();
        let genome = match best {
            Some((genome, v)) => {
                self.say(&format!(
                    "hybrid: {steps} environment steps in {seconds:.1} s; best validation \
                     {}/{} networks solved, worst {:.1}",
                    v.solved, v.networks, v.min
                ))?;
                genome
            }
            None => {
                self.say("hybrid: no validation ran; keeping the initial genome")?;
                initial
            }
        };
        genome.save(&self.path("genome.ron"))?;
        self.mark_done("training")?;
        Ok(genome)
    }

    /// Runs a DQN learner to the end with progress, returning its log, best model and time.
    #[allow(clippy::type_complexity)]
    fn drive<M: Model>(
        &mut self,
        stage: &str,
        dqn: &mut Dqn<M>,
    ) -> Result<(String, (M, f64), f64), RunError> {
        let start = Instant::now();
        let total = dqn.settings().total_steps as u64;
        self.observer.start(stage, total);
        let mut log = String::from(
            "step,episode_return,episode_length,epsilon,loss,gradient_norm,eval_mean,eval_std\n",
        );
        let mut pending = 0;
        while !dqn.finished() {
            let report = dqn.step()?;
            write_row(&mut log, &report);
            pending += 1;
            if pending == 1000 {
                self.observer.advance(pending);
                pending = 0;
            }
        }
        self.observer.advance(pending);
        self.observer.finish();
        let best = dqn.best().map(|(m, r)| (m.clone(), r)).expect("the last step evaluates");
        Ok((log, best, start.elapsed().as_secs_f64()))
    }

    /// Trains the plain MLP of the comparison, if the experiment asks for one.
    fn train_mlp(&mut self) -> Result<Option<Dense>, RunError> {
        let Learner::Dqn { settings, mlp_baseline: true } = &self.experiment.learner else {
            return Ok(None);
        };
        let layers = &self.experiment.architecture.layers;
        let mlp = Dense::mlp(
            layers,
            Activation::Relu,
            &mut rng::stream(self.experiment.seed, Purpose::Init, 1 << 32),
        );
        let task = task::by_name(&self.experiment.task).expect("checked");
        let mut dqn = Dqn::new(mlp, task, settings.clone(), self.experiment.seed)?;
        let (log, (best, best_return), seconds) = self.drive("training (MLP)", &mut dqn)?;
        self.write("training-mlp.csv", log.as_bytes())?;
        self.say(&format!("mlp training: {seconds:.1} s; best evaluation {best_return:.1}"))?;
        Ok(Some(best))
    }

    /// Writes the expected weights and counts of every connection as `.npy`.
    fn export_expected(&mut self, genome: &Genome) -> Result<(), RunError> {
        let dir = self.path("expected");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let expected = Expected::new(genome);
        for l in 0..expected.counts.len() {
            for (name, m) in
                [("weights", &expected.network.weights[l]), ("counts", &expected.counts[l])]
            {
                let path = dir.join(format!("{name}_{l}.npy"));
                npy::write_matrix(&path, m).map_err(io(&path))?;
            }
        }
        Ok(())
    }

    /// Grows `count` networks of a family from the trained genome, in parallel (each from its
    /// own stream, so the result does not depend on the threads), and exports the first
    /// `families.export` of them.
    fn grow(
        &mut self,
        trained: &Genome,
        family: Family,
        count: usize,
    ) -> Result<Vec<Dense>, RunError> {
        let e = self.experiment;
        let name = family.name();
        self.observer.start(&format!("growing {name}"), count as u64);
        let observer = Mutex::new(&mut *self.observer);
        let grown: Result<Vec<SampledNetwork>, RunError> = (0..count as u64)
            .into_par_iter()
            .map(|i| {
                let genome = family.genome(trained, e.seed, i)?;
                let synaptogenesis =
                    Synaptogenesis::new(&genome, e.sampling.sampler, e.sampling.average_degree)?;
                let network = synaptogenesis.sample(e.seed, family.unit(i));
                observer.lock().expect("observer").advance(1);
                Ok(network)
            })
            .collect();
        self.observer.finish();
        let grown = grown?;

        // Synapse counts (.npy) and edge lists (.csv) of the first networks.
        let dir = self.path("networks");
        for (i, network) in grown.iter().enumerate().take(e.families.export) {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let stem = format!("{name}-{i}");
            network.write_counts(&dir, &stem)?;
            network.write_edge_list(&dir.join(format!("{stem}-edges.csv")))?;
        }
        let synapses: u64 = grown.iter().map(SampledNetwork::synapses).sum();
        self.say(&format!(
            "{name}: grew {count} networks, {:.3e} synapses each on average",
            synapses as f64 / count as f64
        ))?;
        Ok(grown.into_iter().map(|g| g.network).collect())
    }

    /// Evaluates the networks of a family in parallel (or reads their rewards from a previous
    /// run).
    fn family(&mut self, name: &str, networks: &[Dense]) -> Result<FamilyScores, RunError> {
        let file = format!("rewards-{name}.csv");
        let stage = format!("family {name}");
        if self.is_done(&stage)
            && let Ok(text) = std::fs::read_to_string(self.path(&file))
            && let Some(scores) = parse_rewards(name, &text)
        {
            return Ok(scores);
        }
        let e = self.experiment;
        self.observer.start(&format!("evaluating {name}"), networks.len() as u64);
        let observer = Mutex::new(&mut *self.observer);
        let progress = |_: usize| observer.lock().expect("observer").advance(1);
        let task_name = e.task.clone();
        let make_task = || task::by_name(&task_name).expect("checked");
        let returns = eval::evaluate(networks, make_task, e.episodes, e.seed, Some(&progress))?;
        self.observer.finish();
        let scores = FamilyScores {
            name: name.into(),
            returns: (0..returns.networks()).map(|n| returns.network(n).to_vec()).collect(),
        };
        self.write(&file, rewards_csv(&scores).as_bytes())?;
        let solved_at = task::by_name(&e.task).expect("checked").solved_at();
        let summary = Summary::of(&scores.scores(), solved_at).expect("a family has networks");
        self.say(&format!(
            "{name}: {} networks, mean {:.1}, median {:.1}, worst {:.1}, solved {}/{}",
            summary.count, summary.mean, summary.median, summary.min, summary.solved, summary.count
        ))?;
        self.mark_done(&stage)?;
        Ok(scores)
    }

    fn summarise(&mut self, families: &[FamilyScores]) -> Result<Outcome, RunError> {
        let solved_at = task::by_name(&self.experiment.task).expect("checked").solved_at();
        let mut all = String::from("family,network,episode,return\n");
        for f in families {
            all.push_str(
                rewards_csv(f)
                    .lines()
                    .skip(1)
                    .map(|l| format!("{l}\n"))
                    .collect::<String>()
                    .as_str(),
            );
        }
        self.write("rewards.csv", all.as_bytes())?;
        let summaries: Vec<(String, Summary)> = families
            .iter()
            .filter_map(|f| Summary::of(&f.scores(), solved_at).map(|s| (f.name.clone(), s)))
            .collect();
        let named: Vec<(String, Vec<f64>)> =
            families.iter().map(|f| (f.name.clone(), f.scores())).collect();
        let comparisons = pairwise(&named);
        let json = serde_json::json!({
            "task": self.experiment.task,
            "solved_at": solved_at,
            "families": summaries.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "family_order": summaries.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "comparisons": comparisons,
        });
        self.write("summary.json", serde_json::to_string_pretty(&json).expect("json").as_bytes())?;
        Ok(Outcome { dir: self.dir.clone(), summaries, comparisons })
    }

    fn figures(&mut self, families: &[FamilyScores], network: &Dense) -> Result<(), RunError> {
        let task = task::by_name(&self.experiment.task).expect("checked");
        let solved_at = task.solved_at();

        // Reward distribution per family: one dot per network, mean marked, threshold dashed.
        let names: Vec<String> = families.iter().map(|f| f.name.clone()).collect();
        let mut figure = Figure::new(
            &format!("{}: mean return per network", self.experiment.task),
            "family",
            "mean return over episodes",
        )
        .categories(&names);
        for (i, family) in families.iter().enumerate() {
            let scores = family.scores();
            // A deterministic spread of the dots around the family's position.
            let xs: Vec<f64> = (0..scores.len())
                .map(|n| i as f64 + ((n * 37 % 29) as f64 / 29.0 - 0.5) * 0.5)
                .collect();
            figure.points(&xs, &scores, PALETTE[i % PALETTE.len()], None);
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            figure.segment(i as f64 - 0.32, i as f64 + 0.32, mean, "#000");
        }
        figure.reference(solved_at, "#888", Some("solved"));
        self.write("rewards.svg", figure.to_svg().as_bytes())?;

        // Training curve.
        if let Ok(log) = std::fs::read_to_string(self.path("training.csv")) {
            let (mut steps, mut returns, mut eval_steps, mut evals) =
                (vec![], vec![], vec![], vec![]);
            for line in log.lines().skip(1) {
                let cells: Vec<&str> = line.split(',').collect();
                let step: f64 = cells[0].parse().unwrap_or(f64::NAN);
                if let Ok(r) = cells[1].parse::<f64>() {
                    steps.push(step);
                    returns.push(r);
                }
                if let Ok(r) = cells[6].parse::<f64>() {
                    eval_steps.push(step);
                    evals.push(r);
                }
            }
            let mut figure = Figure::new("training", "environment step", "return");
            figure.points(&steps, &returns, PALETTE[5], Some("episode return"));
            figure.line(&eval_steps, &evals, PALETTE[1], Some("greedy evaluation"));
            figure.reference(solved_at, "#888", Some("solved"));
            self.write("training.svg", figure.to_svg().as_bytes())?;
        }

        // Frames of one greedy episode of the best grown network (or the trained one).
        let mut task = task;
        let mut observation = vec![0.0; task.observation_size()];
        task.reset(
            &mut rng::substream(self.experiment.seed, Purpose::Evaluation, 0, 0),
            &mut observation,
        );
        let mut states = vec![task.state()];
        let mut scratch = Scratch::default();
        loop {
            let outcome = task.step(network.greedy(&observation, &mut scratch), &mut observation);
            states.push(task.state());
            if outcome.done() {
                break;
            }
        }
        let steps = render::evenly_spaced(states.len(), 8);
        if let Ok(svg) = render::strip(&self.experiment.task, &states, &steps) {
            self.write("episode.svg", svg.as_bytes())?;
        }
        Ok(())
    }

    fn report(&mut self, outcome: &Outcome, seconds: f64) -> Result<(), RunError> {
        let e = self.experiment;
        let mut md = String::new();
        let _ = writeln!(md, "# {}: {}\n", e.name, e.task);
        let _ = writeln!(
            md,
            "Layers {:?}, g = {}, k = {}, τ = {}, seed {}, {} evaluation episodes per network; \
             run took {seconds:.1} s on {} threads.\n",
            e.architecture.layers,
            e.architecture.genes,
            e.architecture.transmitters,
            e.architecture.rules_temperature,
            e.seed,
            e.episodes,
            rayon::current_num_threads()
        );
        let _ = writeln!(md, "## Families\n");
        let _ = writeln!(md, "| family | networks | mean | std | median | worst | best | solved |");
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
        for (name, s) in &outcome.summaries {
            let _ = writeln!(
                md,
                "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {}/{} ({:.0} %) |",
                s.count,
                s.mean,
                s.std,
                s.median,
                s.min,
                s.max,
                s.solved,
                s.count,
                100.0 * s.fraction_solved
            );
        }
        if !outcome.comparisons.is_empty() {
            let _ = writeln!(md, "\n## Mann-Whitney U tests (two-sided, Bonferroni-corrected)\n");
            let _ = writeln!(md, "| families | U | p | p (Bonferroni) |");
            let _ = writeln!(md, "|---|---|---|---|");
            for c in &outcome.comparisons {
                let (p, q) = (p_text(c.p_value), p_text(c.p_bonferroni));
                let _ = writeln!(md, "| {} vs {} | {} | {p} | {q} |", c.first, c.second, c.u);
            }
        }
        let _ = writeln!(md, "\n## Figures\n\n![rewards per family](rewards.svg)\n");
        if self.path("training.svg").exists() {
            let _ = writeln!(md, "![training curve](training.svg)\n");
        }
        if self.path("episode.svg").exists() {
            let _ = writeln!(md, "![an episode of the best sampled network](episode.svg)\n");
        }
        let _ = writeln!(
            md,
            "## Files\n\nThe resolved experiment is `experiment.ron`; the trained genome \
             `genome.ron`; every episode's return `rewards.csv`; statistics `summary.json`; \
             expected weights and counts `expected/*.npy`."
        );
        self.write("report.md", md.as_bytes())
    }
}

impl From<EvolutionError> for RunError {
    fn from(e: EvolutionError) -> Self {
        RunError::Evolution(e.to_string())
    }
}

impl From<EvolutionSetupError> for RunError {
    fn from(e: EvolutionSetupError) -> Self {
        RunError::Evolution(e.to_string())
    }
}

impl From<HybridError> for RunError {
    fn from(e: HybridError) -> Self {
        RunError::Evolution(e.to_string())
    }
}

/// A p-value for a table: four decimals, or scientific notation below 1e-3.
fn p_text(p: f64) -> String {
    if p >= 1e-3 { format!("{p:.4}") } else { format!("{p:.2e}") }
}

fn write_row(log: &mut String, report: &Report) {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    if report.episode.is_none() && report.training.is_none() && report.evaluation.is_none() {
        return;
    }
    let _ = writeln!(
        log,
        "{},{},{},{},{},{},{},{}",
        report.step,
        opt(report.episode.map(|e| e.episode_return)),
        report.episode.map_or(String::new(), |e| e.length.to_string()),
        report.epsilon,
        opt(report.training.map(|t| t.loss)),
        opt(report.training.map(|t| t.gradient_norm)),
        opt(report.evaluation.map(|v| v.mean_return)),
        opt(report.evaluation.map(|v| v.std_return)),
    );
}

fn rewards_csv(scores: &FamilyScores) -> String {
    let mut csv = String::from("family,network,episode,return\n");
    for (n, returns) in scores.returns.iter().enumerate() {
        for (e, r) in returns.iter().enumerate() {
            let _ = writeln!(csv, "{},{n},{e},{r}", scores.name);
        }
    }
    csv
}

fn parse_rewards(name: &str, text: &str) -> Option<FamilyScores> {
    let mut returns: Vec<Vec<f64>> = Vec::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let (n, r): (usize, f64) = (cells.get(1)?.parse().ok()?, cells.get(3)?.parse().ok()?);
        if returns.len() <= n {
            returns.resize(n + 1, Vec::new());
        }
        returns[n].push(r);
    }
    (!returns.is_empty()).then(|| FamilyScores { name: name.into(), returns })
}
