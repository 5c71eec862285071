//! From genetics to synapses: the expected network (differentiable) and, in [`crate::synapse`]'s
//! samplers, networks grown by synaptogenesis.

mod expected;

pub use expected::{Expected, count_backward};
