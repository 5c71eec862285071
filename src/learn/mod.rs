//! Learners: optimisers and the algorithms that train genomes.

mod adam;
mod dqn;
mod model;
mod replay;

pub use adam::{Adam, AdamSettings, clip_grad_norm};
pub use dqn::{Dqn, DqnError, DqnSettings, EpisodeEnd, EvaluationFigures, Report, TrainingFigures};
pub use model::Model;
pub use replay::{Minibatch, ReplayBuffer};
