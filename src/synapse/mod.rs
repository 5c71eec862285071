//! From genetics to synapses: the expected network (differentiable) and, in [`sample`],
//! networks grown by synaptogenesis.

mod expected;
pub mod sample;

pub use expected::{Expected, count_backward};
pub use sample::{SampledNetwork, Sampler, SamplingError, Synaptogenesis};
