//! The exact moments of the synapse counts, and the moment-matched sampler built on them.

use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};

use super::{Synaptogenesis, pair_trials};
use crate::rng::Stream;

/// The exact mean and variance of every synapse count, with the rounded trial counts
/// `n_ijab = round(κ E_ia E_jb)` of the exact sampler:
///
/// - `mean_ij = Σ_ab n_ijab G_ab`,
/// - `variance_ij = Σ_ab n_ijab G_ab (1 - G_ab)`,
/// - `trials_ij = Σ_ab n_ijab` (the largest possible count).
///
/// Each is `N_l x N_{l+1}` per connection. Without the rounding they would be matrix products,
/// `κ E_l G E_{l+1}ᵀ` and `κ E_l (G ⊙ (1 - G)) E_{l+1}ᵀ`, but rounding sets every trial count
/// below 1/2 to zero: at g = 64 that is half of them, and for a [4, 128, 2] network at
/// d = 1e5 the product form's mean then lies on average 1.1 (at most 2.2) standard deviations
/// above the true one (0.05 and 0.25 at g = 16). So the sums are computed term by term, in
/// `O(N_l N_{l+1} g²)` operations.
#[derive(Debug, Clone, PartialEq)]
pub struct CountMoments {
    /// `E[S_l]` under rounded trial counts.
    pub mean: Vec<DMatrix<f64>>,
    /// `Var[S_l]` under rounded trial counts.
    pub variance: Vec<DMatrix<f64>>,
    /// `Σ_ab n_ijab`.
    pub trials: Vec<DMatrix<f64>>,
}

/// The moments of every count of `growth`.
pub(super) fn count_moments(growth: &Synaptogenesis) -> CountMoments {
    let genes = growth.genes;
    // G and G (1 - G), row-major like the trial counts of a pair.
    let rules: Vec<f64> = growth.rules.iter().map(|r| r.probability()).collect();
    let spreads: Vec<f64> = rules.iter().map(|p| p * (1.0 - p)).collect();
    let mut trials = vec![0.0; genes * genes];
    let connections = growth.scaled_expression.len();
    let mut moments = CountMoments {
        mean: Vec::with_capacity(connections),
        variance: Vec::with_capacity(connections),
        trials: Vec::with_capacity(connections),
    };
    for (l, pre) in growth.scaled_expression.iter().enumerate() {
        let post = &growth.expression_rows[l + 1];
        let (pre_neurons, post_neurons) = (pre.len() / genes, post.len() / genes);
        let mut mean = DMatrix::zeros(pre_neurons, post_neurons);
        let mut variance = DMatrix::zeros(pre_neurons, post_neurons);
        let mut total = DMatrix::zeros(pre_neurons, post_neurons);
        for (i, pre_genes) in pre.chunks_exact(genes).enumerate() {
            for (j, post_genes) in post.chunks_exact(genes).enumerate() {
                pair_trials(pre_genes, post_genes, &mut trials);
                mean[(i, j)] = dot(&trials, &rules);
                variance[(i, j)] = dot(&trials, &spreads);
                total[(i, j)] = trials.iter().sum();
            }
        }
        moments.mean.push(mean);
        moments.variance.push(variance);
        moments.trials.push(total);
    }
    moments
}

/// `Σ_k a_k b_k`, in four interleaved partial sums so that it vectorises.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut partial = [0.0; 4];
    let (a_chunks, b_chunks) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for k in 0..4 {
            partial[k] += x[k] * y[k];
        }
    }
    partial.iter().sum::<f64>() + tail
}

impl CountMoments {
    /// Moment-matched counts: `S_ij = clamp(round(mean_ij + √variance_ij · z), 0, trials_ij)`
    /// with one standard normal `z` per neuron pair, drawn connection by connection, pre-synaptic
    /// neuron `i` outer, post-synaptic neuron `j` inner.
    pub fn sample(&self, rng: &mut Stream) -> Vec<DMatrix<u32>> {
        let mut all = Vec::with_capacity(self.mean.len());
        for ((mean, variance), trials) in self.mean.iter().zip(&self.variance).zip(&self.trials) {
            let mut counts = DMatrix::zeros(mean.nrows(), mean.ncols());
            for i in 0..mean.nrows() {
                for j in 0..mean.ncols() {
                    let z: f64 = StandardNormal.sample(rng);
                    let count = (mean[(i, j)] + variance[(i, j)].sqrt() * z).round();
                    counts[(i, j)] = count.clamp(0.0, trials[(i, j)]) as u32;
                }
            }
            all.push(counts);
        }
        all
    }
}
