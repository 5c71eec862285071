//! Learners: optimisers and the algorithms that train genomes.
//!
//! | item | what |
//! |---|---|
//! | [`Adam`], [`Dqn`], [`Model`] | gradient training of a genome's expected network |
//! | [`NoisyGenome`] | a model whose networks carry synaptogenesis noise (analytic variance) |
//! | [`es`] | evolution strategies behind one ask/tell trait: SNES, sep-CMA-ES, OpenAI-ES |
//! | [`Evolution`] | the evolution runner: parallel generations, budget, checkpoints, figures |
//! | [`SampledFitness`], [`EvolutionSettings`] | genetics scored by the networks they grow |
//! | [`Hybrid`] | noise-aware DQN with validation, then selection on the worst networks |

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
