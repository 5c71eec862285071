//! synaptogen: optimising genetically-driven synaptogenesis.
//!
//! A network is a stack of neuron populations (layers). Every weight is derived from five
//! biological quantities, each a parameter block of a [`genome::Genome`]: gene expression X,
//! genetic rules G (binding probabilities of protein pairs), neurotransmitters Q, receptors R and
//! conductances C. The *expected* weight from layer `l` to `l + 1`,
//! `W_l = (E_l G E_{l+1}ᵀ) ⊙ (Q_l C R_{l+1}ᵀ)` with `E = X ⊙ X`, is a smooth function of the
//! blocks and trains by gradient descent ([`learn::Dqn`]); actual networks are *sampled* from
//! the same genetics, synapse counts being sums of binomials, and evolution selects genetics
//! by how well the sampled networks perform.
//!
//! Map of the modules, in the direction data flows:
//!
//! | module | responsibility |
//! |---|---|
//! | [`experiment`] | RON experiment files, their checks, the runner and the run directory |
//! | [`learn`] | Adam, DQN, the [`learn::Model`] trait, evolution strategies, the hybrid |
//! | [`genome`] | the parameter blocks, their maps to biological values, genome files |
//! | [`synapse`] | expected weights and their exact gradients; synaptogenesis samplers |
//! | [`eval`] | parallel, reproducible rollouts of many networks |
//! | [`net`] | layered networks: batched forward and backward, acting |
//! | [`task`] | the [`task::Task`] trait, Gymnasium's classic-control tasks, rendering |
//! | [`connectome`] | fitting the count model to a real connectome (C. elegans) |
//! | [`stats`], [`plot`] | summaries, rank tests, SVG figures |
//! | [`rng`], [`linalg`], [`npy`], [`files`] | random streams, products, `.npy`, atomic writes |
//!
//! Lower modules never import higher ones: the model knows nothing of DQN, a task nothing of
//! genomes.
#![warn(missing_docs)]

pub mod connectome;
pub mod eval;
pub mod experiment;
pub mod files;
pub mod genome;
pub mod learn;
pub mod linalg;
pub mod net;
pub mod npy;
pub mod plot;
pub mod rng;
pub mod stats;
pub mod synapse;
pub mod task;
