//! Learners: optimisers and the algorithms that train genomes.

mod adam;

pub use adam::{Adam, AdamSettings, clip_grad_norm};
