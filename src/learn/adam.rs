//! Adam and gradient-norm clipping, with PyTorch's semantics.

use serde::{Deserialize, Serialize};

/// Adam's hyperparameters; the defaults are PyTorch's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamSettings {
    /// Step size α (default 1e-3).
    pub learning_rate: f64,
    /// Decay of the first moment β₁ (default 0.9).
    pub beta1: f64,
    /// Decay of the second moment β₂ (default 0.999).
    pub beta2: f64,
    /// ε added to the denominator (default 1e-8).
    pub epsilon: f64,
}

impl Default for AdamSettings {
    fn default() -> Self {
        AdamSettings { learning_rate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }
    }
}

/// Adam (Kingma & Ba 2015, arXiv:1412.6980) over a flat parameter vector, with bias
/// correction:
///
/// `m ← β₁ m + (1-β₁) g`, `v ← β₂ v + (1-β₂) g²`,
/// `θ ← θ - α/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε)`
/// (the same operation order as `torch.optim.Adam`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// Hyperparameters.
    pub settings: AdamSettings,
    step: u64,
    first: Vec<f64>,
    second: Vec<f64>,
}

impl Adam {
    /// A fresh optimiser for `len` parameters.
    pub fn new(settings: AdamSettings, len: usize) -> Self {
        Adam { settings, step: 0, first: vec![0.0; len], second: vec![0.0; len] }
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// One update of `params` along `grad`.
    ///
    /// # Panics
    ///
    /// If the lengths differ from the optimiser's.
    pub fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        assert_eq!(params.len(), self.first.len(), "Adam: parameter count changed");
        assert_eq!(grad.len(), self.first.len(), "Adam: gradient has the wrong length");
        let AdamSettings { learning_rate, beta1, beta2, epsilon } = self.settings;
        self.step += 1;
        let t = self.step as i32;
        let correction1 = 1.0 - beta1.powi(t);
        let correction2_sqrt = (1.0 - beta2.powi(t)).sqrt();
        let step_size = learning_rate / correction1;
        for i in 0..params.len() {
            let g = grad[i];
            self.first[i] = beta1 * self.first[i] + (1.0 - beta1) * g;
            self.second[i] = beta2 * self.second[i] + (1.0 - beta2) * g * g;
            let denom = self.second[i].sqrt() / correction2_sqrt + epsilon;
            params[i] -= step_size * self.first[i] / denom;
        }
    }
}

/// Scales `grad` so that its Euclidean norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_` does (factor `max_norm / (‖g‖ + 1e-6)` when below one).
/// Returns the norm before clipping.
pub fn clip_grad_norm(grad: &mut [f64], max_norm: f64) -> f64 {
    let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    let factor = max_norm / (norm + 1e-6);
    if factor < 1.0 {
        grad.iter_mut().for_each(|g| *g *= factor);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_parameter_by_the_learning_rate() {
        // With bias correction, step one is α · g / (|g| + ε') = ±α.
        let mut adam = Adam::new(AdamSettings { learning_rate: 0.1, ..Default::default() }, 3);
        let mut params = vec![1.0, 2.0, 3.0];
        adam.step(&mut params, &[0.5, -2.0, 0.0]);
        assert!((params[0] - 0.9).abs() < 1e-7);
        assert!((params[1] - 2.1).abs() < 1e-7);
        assert_eq!(params[2], 3.0);
    }

    #[test]
    fn minimises_a_quadratic() {
        let mut adam = Adam::new(AdamSettings { learning_rate: 0.05, ..Default::default() }, 2);
        let mut x = vec![3.0, -2.0];
        for _ in 0..2000 {
            let grad = [2.0 * (x[0] - 1.0), 4.0 * (x[1] + 0.5)];
            adam.step(&mut x, &grad);
        }
        assert!((x[0] - 1.0).abs() < 1e-3 && (x[1] + 0.5).abs() < 1e-3, "{x:?}");
    }

    #[test]
    fn clipping_caps_the_norm() {
        let mut g = vec![3.0, 4.0];
        assert_eq!(clip_grad_norm(&mut g, 10.0), 5.0);
        assert_eq!(g, vec![3.0, 4.0]);
        clip_grad_norm(&mut g, 1.0);
        assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
    }
}
