//! synaptogen: optimising genetically-driven synaptogenesis.
#![warn(missing_docs)]

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
