//! A genome trained through the noise of synaptogenesis: every build of its network draws the
//! synapse counts from a normal distribution with their analytic mean and variance, and the
//! gradient reaches the raw blocks through both.
//!
//! For connection `l`, with `E` the expression, `G` the rules, `κ` the scale of the sampler
//! (see [`crate::synapse`]) and counts measured in units of `κ` as the sampled weights
//! `W̃ = E[c] ⊙ S / κ` measure them:
//!
//! - mean `M_l = E_l G E_{l+1}ᵀ` (the expected counts);
//! - variance `V_l / κ` with `V_l = E_l (G ⊙ (1 - G)) E_{l+1}ᵀ` (a sum of binomial variances
//!   `n G (1 - G)` with `n ≈ κ E_ia E_jb` trials);
//! - noisy counts `M_l + s √(V_l / κ) ⊙ ε`, `ε ~ N(0, I)`, and weights
//!   `W̃_l = E[c_l] ⊙ (M_l + s √(V_l / κ) ⊙ ε)`,
//!
//! where `s` ([`NoisyGenome::noise_scale`]) is 1 for the sampler's own noise and larger to
//! train for a margin. The gradient is the reparameterisation gradient: through `M`, `E[c]` and
//! the standard deviation `√(V / κ)`, so training can also learn to make counts less noisy
//! (rules near 0 or 1, synapses concentrated on fewer, stronger pairs). `κ` is held constant
//! within a build (its own gradient is left out). Rounding of the trial counts, which the exact
//! sampler does, is not modelled.

use std::sync::atomic::{AtomicU64, Ordering};

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;

use super::model::Model;
use crate::genome::{BlockName, Genome};
use crate::linalg::triple_abct;
use crate::net::{Dense, DenseGradient};
use crate::rng::{self, Purpose};
use crate::synapse::{Expected, count_backward};

/// A [`Genome`] whose built network carries synaptogenesis noise (see the module docs).
///
/// Build `i` of the model draws its noise from `substream(seed, Purpose::Training, 3, i)`,
/// so a sequence of builds is reproducible; clones continue the count of builds.
#[derive(Debug)]
pub struct NoisyGenome {
    genome: Genome,
    average_degree: f64,
    noise_scale: f64,
    seed: u64,
    builds: AtomicU64,
}

impl Clone for NoisyGenome {
    fn clone(&self) -> Self {
        NoisyGenome {
            genome: self.genome.clone(),
            average_degree: self.average_degree,
            noise_scale: self.noise_scale,
            seed: self.seed,
            builds: AtomicU64::new(self.builds.load(Ordering::Relaxed)),
        }
    }
}

impl NoisyGenome {
    /// `genome` with the noise of networks grown at average degree `average_degree`, its
    /// standard deviation multiplied by `noise_scale`, drawn from streams of `seed`.
    pub fn new(genome: Genome, average_degree: f64, noise_scale: f64, seed: u64) -> Self {
        NoisyGenome { genome, average_degree, noise_scale, seed, builds: AtomicU64::new(0) }
    }

    /// The genome.
    pub fn genome(&self) -> &Genome {
        &self.genome
    }

    /// The genome, consuming the model.
    pub fn into_genome(self) -> Genome {
        self.genome
    }

    /// The factor `s` on the standard deviation of the counts.
    pub fn noise_scale(&self) -> f64 {
        self.noise_scale
    }
}

/// A noisy build: the expected network's parts, with the noisy counts in place of the expected
/// ones, and what the gradient through the standard deviation needs.
#[derive(Debug, Clone)]
pub struct NoisyBuild {
    /// The expected-network parts; `counts` holds the noisy counts `M + s √(V/κ) ⊙ ε` and
    /// `network` the noisy weights.
    expected: Expected,
    /// `G ⊙ (1 - G)`.
    rule_variance: DMatrix<f64>,
    /// Per connection, `∂(noisy count)/∂V = s ε / (2 √(V κ))` (0 where `V = 0`).
    count_by_variance: Vec<DMatrix<f64>>,
    /// The scale κ used.
    scale: f64,
}

impl NoisyBuild {
    /// The scale κ the noise was drawn with.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

impl NoisyGenome {
    /// Build number `draw`, with the scale κ computed from the genome or, in tests, given.
    fn build_with(&self, draw: u64, fixed_scale: Option<f64>) -> NoisyBuild {
        let mut rng = rng::substream(self.seed, Purpose::Training, 3, draw);
        let mut expected = Expected::new(&self.genome);
        let bio = &expected.biology;

        // The sampler's scale κ = d N / (2 Σ M).
        let total: f64 = expected.counts.iter().map(|m| m.sum()).sum();
        let neurons = self.genome.architecture().neurons() as f64;
        let scale = fixed_scale.unwrap_or(self.average_degree * neurons / (2.0 * total));

        // Noisy counts and weights.
        let rule_variance = bio.rules.map(|g| g * (1.0 - g));
        let mut count_by_variance = Vec::with_capacity(expected.counts.len());
        for l in 0..expected.counts.len() {
            let variance = triple_abct(&bio.expression[l], &rule_variance, &bio.expression[l + 1]);
            let noise = DMatrix::from_fn(variance.nrows(), variance.ncols(), |_, _| {
                rng.sample::<f64, _>(StandardNormal)
            });
            let counts = &mut expected.counts[l];
            let mut slope = DMatrix::zeros(variance.nrows(), variance.ncols());
            for ((count, (&v, &e)), slope) in
                counts.iter_mut().zip(variance.iter().zip(noise.iter())).zip(slope.iter_mut())
            {
                if v > 0.0 {
                    let std = self.noise_scale * (v / scale).sqrt();
                    *count += std * e;
                    *slope = std * e / (2.0 * v);
                }
            }
            expected.network.weights[l] = counts.component_mul(&expected.conductance[l]);
            count_by_variance.push(slope);
        }
        NoisyBuild { expected, rule_variance, count_by_variance, scale }
    }
}

impl Model for NoisyGenome {
    type Built = NoisyBuild;

    fn build(&self) -> NoisyBuild {
        let draw = self.builds.fetch_add(1, Ordering::Relaxed);
        self.build_with(draw, None)
    }

    fn network(built: &NoisyBuild) -> &Dense {
        &built.expected.network
    }

    fn gradient(&self, built: &NoisyBuild, grad: &DenseGradient) -> Vec<f64> {
        // Through the noisy counts and the conductances, as for the expected network.
        let mut gradient = built.expected.backward(&self.genome, grad);

        // Through the standard deviation: V = E (G ⊙ (1 - G)) Eᵀ.
        let learns_expression = self.genome.block(BlockName::Expression).learnable;
        let learns_rules = self.genome.block(BlockName::Rules).learnable;
        if learns_expression || learns_rules {
            let bio = &built.expected.biology;
            let mut d_expression: Vec<DMatrix<f64>> =
                bio.expression.iter().map(|e| DMatrix::zeros(e.nrows(), e.ncols())).collect();
            let mut d_rule_variance = DMatrix::zeros(bio.rules.nrows(), bio.rules.ncols());
            for (l, d_weights) in grad.weights.iter().enumerate() {
                let d_variance = d_weights
                    .component_mul(&built.expected.conductance[l])
                    .component_mul(&built.count_by_variance[l]);
                let (pre, post) = d_expression.split_at_mut(l + 1);
                count_backward(
                    &bio.expression[l],
                    &built.rule_variance,
                    &bio.expression[l + 1],
                    &d_variance,
                    &mut pre[l],
                    &mut d_rule_variance,
                    &mut post[0],
                );
            }
            let d_rules = d_rule_variance.zip_map(&bio.rules, |d, g| d * (1.0 - 2.0 * g));

            // Through the maps to the raw blocks.
            let expression = self.genome.block(BlockName::Expression);
            if learns_expression {
                let map = self.genome.map(BlockName::Expression);
                let blocks = &mut gradient.blocks[0];
                for (l, (raw, d)) in expression.raw.iter().zip(&d_expression).enumerate() {
                    blocks[l] += map.pullback(raw, &bio.expression[l], d);
                }
            }
            if learns_rules {
                let map = self.genome.map(BlockName::Rules);
                let raw = &self.genome.block(BlockName::Rules).raw[0];
                gradient.blocks[1][0] += map.pullback(raw, &bio.rules, &d_rules);
            }
        }
        gradient.flatten()
    }

    fn parameters(&self) -> Vec<f64> {
        self.genome.parameters()
    }

    fn set_parameters(&mut self, flat: &[f64]) {
        self.genome.set_parameters(flat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{Architecture, Learnable};

    fn genome() -> Genome {
        let arch = Architecture {
            layers: vec![3, 5, 2],
            genes: 4,
            transmitters: 2,
            ..Architecture::cartpole()
        };
        Genome::random(arch, None, Learnable::all(), 3).unwrap()
    }

    #[test]
    fn gradient_matches_finite_differences_at_fixed_noise() {
        // L = Σ c ⊙ W̃ for fixed c; with the noise ε and the scale κ held fixed, W̃ is a smooth
        // function of the raw blocks, so the reparameterisation gradient is its derivative.
        let genome = genome();
        let model = NoisyGenome::new(genome.clone(), 50.0, 3.0, 1);
        let built = model.build();
        let weights_grad: Vec<DMatrix<f64>> = built
            .expected
            .network
            .weights
            .iter()
            .map(|w| DMatrix::from_fn(w.nrows(), w.ncols(), |i, j| 0.3 + 0.1 * (i + 2 * j) as f64))
            .collect();
        let biases_grad = built.expected.network.biases.iter().map(|b| b.map(|_| 0.7)).collect();
        let grad = DenseGradient { weights: weights_grad.clone(), biases: biases_grad };
        let analytic = model.gradient(&built, &grad);
        let loss = |params: &[f64]| {
            // The same noise and the same κ as the build above.
            let mut m = model.clone();
            m.set_parameters(params);
            let b = m.build_with(0, Some(built.scale));
            let net = &b.expected.network;
            let w: f64 = net.weights.iter().zip(&weights_grad).map(|(w, c)| w.dot(c)).sum();
            w + net.biases.iter().map(|b| 0.7 * b.sum()).sum::<f64>()
        };
        let params = model.parameters();
        for (i, a) in analytic.iter().enumerate() {
            let mut p = params.clone();
            p[i] += 1e-6;
            let plus = loss(&p);
            p[i] -= 2e-6;
            let numeric = (plus - loss(&p)) / 2e-6;
            assert!((numeric - a).abs() <= 1e-6 * numeric.abs().max(1.0), "{i}: {numeric} vs {a}");
        }
    }
}
