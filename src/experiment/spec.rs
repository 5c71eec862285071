//! The experiment file as written by a user: a plain RON structure with a default next to every
//! field. Nothing here is checked beyond its type; see [`super::Experiment::from_spec`].

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::genome::{Learnable, Lineage};
use crate::learn::{DqnSettings, EvolutionSettings, HybridSettings};
use crate::synapse::Sampler;

/// An experiment as written in its RON file.
///
/// ```ron
/// Experiment(
///     name: "cartpole",
///     seed: 1,
///     task: "CartPole-v1",
///     layers: [4, 128, 2],
///     genome: (genes: 16, transmitters: 3),
///     learner: Dqn((total_steps: 50000)),
///     sampling: (sampler: Exact, average_degree: 100000.0),
///     families: (sampled: 100, baseline1: 100, baseline2: 100, control: 100),
///     episodes: 10,
/// )
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Experiment", deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Name of the experiment; names the run directory (default "experiment").
    #[serde(default = "default_name")]
    pub name: String,
    /// The seed every random stream derives from (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Task name, one of `CartPole-v1`, `MountainCar-v0`, `Acrobot-v1` (required).
    pub task: String,
    /// Neurons per layer, input first; input and output must fit the task (default: the task's
    /// observation size, 128 hidden neurons, the task's action count).
    #[serde(default)]
    pub layers: Option<Vec<usize>>,
    /// Genome sizes and constants.
    #[serde(default)]
    pub genome: GenomeSpec,
    /// How the genome is trained (default: DQN with the task's RL Zoo preset).
    #[serde(default)]
    pub learner: LearnerSpec,
    /// How networks are grown from genetics.
    #[serde(default)]
    pub sampling: SamplingSpec,
    /// Which families of networks are compared, and how many networks each.
    #[serde(default)]
    pub families: FamiliesSpec,
    /// Greedy evaluation episodes per network (default 10).
    #[serde(default = "default_episodes")]
    pub episodes: usize,
    /// Folder under which the run directory is made, relative to the working directory
    /// (default "runs").
    #[serde(default = "default_output")]
    pub output: PathBuf,
}

fn default_name() -> String {
    "experiment".into()
}

fn default_episodes() -> usize {
    10
}

fn default_output() -> PathBuf {
    "runs".into()
}

/// Genome sizes, constants and which blocks are learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenomeSpec {
    /// Number of genes g (default 16).
    pub genes: usize,
    /// Number of neurotransmitters k (default 3).
    pub transmitters: usize,
    /// Temperature τ of the rules sigmoid (default 0.1).
    pub rules_temperature: f64,
    /// Conductance scale s (default 1.0).
    pub conductance_scale: f64,
    /// A `g x g` rules mask file (`.csv`/`.txt` of 0/1 rows, or `.npy`), relative to the
    /// experiment file (default none: unconstrained rules).
    pub rules_mask: Option<PathBuf>,
    /// Which blocks are learned (default all).
    pub learnable: Learnable,
    /// A genome to start from instead of a random one: a `.ron` genome saved by synaptogen or a
    /// `.json` network of the original Python implementation, relative to the experiment file
    /// (default none).
    pub initial: Option<PathBuf>,
}

impl Default for GenomeSpec {
    fn default() -> Self {
        GenomeSpec {
            genes: 16,
            transmitters: 3,
            rules_temperature: 0.1,
            conductance_scale: 1.0,
            rules_mask: None,
            learnable: Learnable::all(),
            initial: None,
        }
    }
}

/// The learner of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum LearnerSpec {
    /// No training: the initial genome is evaluated as it is.
    None,
    /// DQN on the expected-weight network; unset fields take the task's RL Zoo preset (or
    /// Stable-Baselines3's defaults for tasks without one).
    Dqn(DqnOverrides),
    /// An evolution strategy (SNES by default) over the learnable blocks, fitness the return
    /// of networks sampled from each candidate's genetics.
    Evolution(EvolutionSettings),
    /// DQN through synaptogenesis noise with sampled validation, then selection by evolution.
    Hybrid(HybridSpec),
}

/// The two sections of a hybrid learner.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HybridSpec {
    /// The gradient phase: DQN overrides on the task's preset, as for `Dqn`.
    pub dqn: DqnOverrides,
    /// Noise, validation, and the selection phase (see `learn::HybridSettings`).
    pub hybrid: HybridSettings,
}

impl Default for LearnerSpec {
    fn default() -> Self {
        LearnerSpec::Dqn(DqnOverrides::default())
    }
}

/// DQN settings to change from the preset; every field is optional (write the value, or leave
/// the field out).
/// See [`DqnSettings`] for their meaning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DqnOverrides {
    pub total_steps: Option<usize>,
    pub learning_rate: Option<f64>,
    pub batch_size: Option<usize>,
    pub buffer_size: Option<usize>,
    pub learning_starts: Option<usize>,
    pub gamma: Option<f64>,
    pub target_update_interval: Option<usize>,
    pub train_freq: Option<usize>,
    pub gradient_steps: Option<i64>,
    pub exploration_fraction: Option<f64>,
    pub exploration_initial_eps: Option<f64>,
    pub exploration_final_eps: Option<f64>,
    pub max_grad_norm: Option<f64>,
    pub eval_freq: Option<usize>,
    pub eval_episodes: Option<usize>,
    /// Also train a plain multilayer perceptron (same layers, ReLU) with the same settings and
    /// compare it as the family `mlp` (default false).
    pub mlp_baseline: Option<bool>,
}

impl DqnOverrides {
    /// `base` with every set field replaced.
    pub fn apply(&self, base: DqnSettings) -> DqnSettings {
        DqnSettings {
            total_steps: self.total_steps.unwrap_or(base.total_steps),
            learning_rate: self.learning_rate.unwrap_or(base.learning_rate),
            batch_size: self.batch_size.unwrap_or(base.batch_size),
            buffer_size: self.buffer_size.unwrap_or(base.buffer_size),
            learning_starts: self.learning_starts.unwrap_or(base.learning_starts),
            gamma: self.gamma.unwrap_or(base.gamma),
            target_update_interval: self
                .target_update_interval
                .unwrap_or(base.target_update_interval),
            train_freq: self.train_freq.unwrap_or(base.train_freq),
            gradient_steps: self.gradient_steps.unwrap_or(base.gradient_steps),
            exploration_fraction: self.exploration_fraction.unwrap_or(base.exploration_fraction),
            exploration_initial_eps: self
                .exploration_initial_eps
                .unwrap_or(base.exploration_initial_eps),
            exploration_final_eps: self.exploration_final_eps.unwrap_or(base.exploration_final_eps),
            max_grad_norm: self.max_grad_norm.unwrap_or(base.max_grad_norm),
            eval_freq: self.eval_freq.unwrap_or(base.eval_freq),
            eval_episodes: self.eval_episodes.unwrap_or(base.eval_episodes),
        }
    }
}

/// How networks are sampled from genetics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingSpec {
    /// The sampler: `Exact`, `PerSynapse` or `MomentMatched` (default `Exact`).
    pub sampler: Sampler,
    /// Target average degree d, synapses per neuron (default 1e5).
    pub average_degree: f64,
    /// The control family's lineage tree (default `(division_noise: 0.5)`).
    pub lineage: Lineage,
}

impl Default for SamplingSpec {
    fn default() -> Self {
        SamplingSpec { sampler: Sampler::Exact, average_degree: 1e5, lineage: Lineage::default() }
    }
}

/// How many networks each family has (0 leaves a family out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FamiliesSpec {
    /// Evaluate the expected-weight network itself (default true).
    pub trained: bool,
    /// Networks grown from the trained genetics (default 100).
    pub sampled: usize,
    /// Networks grown from freshly initialised genetics (default 100).
    pub baseline1: usize,
    /// Networks grown from trained rules and conductances with fresh expression, transmitters
    /// and receptors (default 100).
    pub baseline2: usize,
    /// Networks grown from trained rules and conductances with lineage-tree expression
    /// (default 100).
    pub control: usize,
    /// Networks saved with their synapse counts (`.npy`) and edge lists (`.csv`) per family
    /// (default 1).
    pub export: usize,
}

impl Default for FamiliesSpec {
    fn default() -> Self {
        FamiliesSpec {
            trained: true,
            sampled: 100,
            baseline1: 100,
            baseline2: 100,
            control: 100,
            export: 1,
        }
    }
}
