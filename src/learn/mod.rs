//! Learners: optimisers and the algorithms that train genomes.

mod adam;
mod dqn;
pub mod es;
mod model;
mod replay;

pub use adam::{Adam, AdamSettings, clip_grad_norm};
pub use dqn::{
    Dqn, DqnError, DqnSettings, EpisodeEnd, EvaluationFigures, Report, TrainingFigures,
    greedy_return,
};
pub use model::Model;
pub use replay::{Minibatch, ReplayBuffer};
