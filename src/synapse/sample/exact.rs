//! The exact sampler: `S_ij = Σ_ab Binomial(n_ijab, G_ab)`, one binomial draw per neuron pair
//! and gene pair with a non-zero trial count.

use nalgebra::DMatrix;

use super::binomial::count;
use super::{Synaptogenesis, pair_trials};
use crate::rng::Stream;

/// Draws the synapse counts of every connection, in the stream order of the module docs.
pub(super) fn counts(growth: &Synaptogenesis, rng: &mut Stream) -> Vec<DMatrix<u32>> {
    let genes = growth.genes;
    // Per neuron pair: the trial counts of all gene pairs, then the gene pairs that have any.
    let mut trials = vec![0.0; genes * genes];
    let mut drawn: Vec<u32> = vec![0; genes * genes];
    let mut all = Vec::with_capacity(growth.scaled_expression.len());
    for (l, pre) in growth.scaled_expression.iter().enumerate() {
        let post = &growth.expression_rows[l + 1];
        let (pre_neurons, post_neurons) = (pre.len() / genes, post.len() / genes);
        let mut counts = DMatrix::zeros(pre_neurons, post_neurons);
        for (i, pre_genes) in pre.chunks_exact(genes).enumerate() {
            for (j, post_genes) in post.chunks_exact(genes).enumerate() {
                pair_trials(pre_genes, post_genes, &mut trials);

                // The gene pairs with trials, in order, gathered without branches.
                let mut nonzero = 0;
                for (ab, &n) in trials.iter().enumerate() {
                    drawn[nonzero] = ab as u32;
                    nonzero += (n > 0.0) as usize;
                }

                let mut synapses = 0u64;
                for &ab in &drawn[..nonzero] {
                    let ab = ab as usize;
                    synapses += growth.rules[ab].sample(count(trials[ab]), rng);
                }
                // Fits, by the same bound.
                counts[(i, j)] = synapses as u32;
            }
        }
        all.push(counts);
    }
    all
}
