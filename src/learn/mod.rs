//! Learners: optimisers and the algorithms that train genomes.

mod adam;
mod dqn;
pub mod es;
mod evolution;
mod hybrid;
mod model;
mod noisy;
mod replay;
mod sampled;

pub use adam::{Adam, AdamSettings, clip_grad_norm};
pub use dqn::{Dqn, DqnError, DqnSettings, EpisodeEnd, EvaluationFigures, Report, TrainingFigures};
pub use evolution::{
    Budget, Candidate, Evaluation, Evolution, EvolutionError, Fitness, GenerationFigures, RunEnd,
    RunFiles, write_figures_csv,
};
pub use hybrid::{Hybrid, HybridError, HybridSettings, HybridStep, Record, Selected, Validation};
pub use model::Model;
pub use noisy::{NoisyBuild, NoisyGenome};
pub use replay::{Minibatch, ReplayBuffer};
pub use sampled::{
    Aggregate, EvolutionSettings, EvolutionSetupError, NetworkScores, SampledFitness,
    SampledFitnessError, SampledFitnessSettings,
};
