//! The exact moments of the synapse counts, and the moment-matched sampler built on them.

use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};

use super::{Synaptogenesis, trial_count};
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
/// below 1/2 to zero: at g = 64 that is half of them, and the product form's mean of a
/// [4, 128, 2] network then exceeds the true mean by several standard deviations. So the sums
/// are computed term by term (about 0.1 ms at g = 16, 1 ms at g = 64).
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
    let rules = &growth.biology.rules;
    let connections = growth.scaled_expression.len();
    let mut moments = CountMoments {
        mean: Vec::with_capacity(connections),
        variance: Vec::with_capacity(connections),
        trials: Vec::with_capacity(connections),
    };
    for (l, pre) in growth.scaled_expression.iter().enumerate() {
        // Columns of the column-major E_{l+1} run over post-synaptic neurons j.
        let post = &growth.biology.expression[l + 1];
        let post_neurons = post.nrows();
        let pre_neurons = pre.len() / genes;
        let mut mean = DMatrix::zeros(pre_neurons, post_neurons);
        let mut variance = DMatrix::zeros(pre_neurons, post_neurons);
        let mut trials = DMatrix::zeros(pre_neurons, post_neurons);
        let (mut mean_row, mut variance_row, mut trials_row) =
            (vec![0.0; post_neurons], vec![0.0; post_neurons], vec![0.0; post_neurons]);
        for (i, pre_genes) in pre.chunks_exact(genes).enumerate() {
            mean_row.fill(0.0);
            variance_row.fill(0.0);
            trials_row.fill(0.0);
            for (a, &scaled) in pre_genes.iter().enumerate() {
                if scaled == 0.0 {
                    continue;
                }
                for (b, column) in post.as_slice().chunks_exact(post_neurons).enumerate() {
                    let p = rules[(a, b)];
                    let spread = p * (1.0 - p);
                    for (j, &expression) in column.iter().enumerate() {
                        let n = trial_count(scaled, expression);
                        mean_row[j] += n * p;
                        variance_row[j] += n * spread;
                        trials_row[j] += n;
                    }
                }
            }
            for j in 0..post_neurons {
                mean[(i, j)] = mean_row[j];
                variance[(i, j)] = variance_row[j];
                trials[(i, j)] = trials_row[j];
            }
        }
        moments.mean.push(mean);
        moments.variance.push(variance);
        moments.trials.push(trials);
    }
    moments
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
