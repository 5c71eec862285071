//! synaptogen: optimising genetically-driven synaptogenesis.
#![warn(missing_docs)]

pub mod rng;
pub mod task;
