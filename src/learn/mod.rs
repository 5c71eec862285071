//! Learners: optimisers and the algorithms that train genomes.

mod adam;
mod dqn;
pub mod es;
mod evolution;
mod model;
mod noisy;
mod replay;

pub use adam::{Adam, AdamSettings, clip_grad_norm};
pub use dqn::{Dqn, DqnError, DqnSettings, EpisodeEnd, EvaluationFigures, Report, TrainingFigures};
pub use evolution::{
    Budget, Candidate, Evaluation, Evolution, EvolutionError, Fitness, GenerationFigures, RunEnd,
    RunFiles, write_figures_csv,
};
pub use model::Model;
pub use noisy::{NoisyBuild, NoisyGenome};
pub use replay::{Minibatch, ReplayBuffer};
