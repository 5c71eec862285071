//! What a gradient learner trains: anything that builds a [`Dense`] network from a flat vector of
//! learnable parameters and pulls a network gradient back onto them.

use crate::genome::Genome;
use crate::net::{Dense, DenseGradient};
use crate::synapse::Expected;

/// A differentiable model behind a [`Dense`] network.
///
/// Two implementations ship: a [`Genome`] (the network is its expected-weight network, the
/// parameters its learnable raw blocks) and a [`Dense`] network itself (a plain multilayer
/// perceptron whose parameters are its weights and biases).
pub trait Model: Clone + Send + Sync {
    /// The built network together with whatever the gradient needs from the build.
    type Built: Send + Sync;

    /// Builds the network from the current parameters.
    fn build(&self) -> Self::Built;

    /// The network inside a build.
    fn network(built: &Self::Built) -> &Dense;

    /// The gradient with respect to [`Model::parameters`], given the gradient with respect to
    /// the built network's weights and biases.
    fn gradient(&self, built: &Self::Built, grad: &DenseGradient) -> Vec<f64>;

    /// The learnable parameters as one flat vector.
    fn parameters(&self) -> Vec<f64>;

    /// Sets the learnable parameters from a vector laid out as [`Model::parameters`].
    fn set_parameters(&mut self, flat: &[f64]);
}

impl Model for Genome {
    type Built = Expected;

    fn build(&self) -> Expected {
        Expected::new(self)
    }

    fn network(built: &Expected) -> &Dense {
        &built.network
    }

    fn gradient(&self, built: &Expected, grad: &DenseGradient) -> Vec<f64> {
        built.backward(self, grad).flatten()
    }

    fn parameters(&self) -> Vec<f64> {
        Genome::parameters(self)
    }

    fn set_parameters(&mut self, flat: &[f64]) {
        Genome::set_parameters(self, flat)
    }
}

impl Model for Dense {
    type Built = Dense;

    fn build(&self) -> Dense {
        self.clone()
    }

    fn network(built: &Dense) -> &Dense {
        built
    }

    fn gradient(&self, _built: &Dense, grad: &DenseGradient) -> Vec<f64> {
        grad.flatten()
    }

    fn parameters(&self) -> Vec<f64> {
        Dense::parameters(self)
    }

    fn set_parameters(&mut self, flat: &[f64]) {
        Dense::set_parameters(self, flat)
    }
}
