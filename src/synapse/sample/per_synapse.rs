//! Per-synapse transmitters and receptors: every synapse of a neuron pair `(i, j)` draws its
//! transmitter `t` from `Q_i` and its receptor `r` from `R_j`, independently, and conducts
//! `C_tr`.
//!
//! The numbers of synapses of each (transmitter, receptor) pair are then multinomial:
//! `m ~ Multinomial(S_ij; Q_it R_jr)`, drawn as a chain of binomials: first the transmitters
//! (`m_t ~ Binomial(S - Σ_{t' < t} m_t', Q_it / (1 - Σ_{t' < t} Q_it'))`), then each
//! transmitter's synapses over its receptors in the same way. Receptors with `C_tr = 0` (all
//! but two per transmitter under the fixed polarity) add nothing to the conductance, so they are
//! left in the last, undrawn category: the sums below are exact without drawing them.
//! The expected conductance per synapse is `Σ_tr Q_it R_jr C_tr = (Q C Rᵀ)_ij = E[c]_ij`.

use nalgebra::DMatrix;

use super::{BinomialSampler, Synaptogenesis};
use crate::rng::Stream;

/// `P(category | not an earlier one)`: `probability / rest`, clamped to `[0, 1]` against
/// rounding (`rest` is one minus the probabilities of the earlier categories).
fn conditional(probability: f64, rest: f64) -> f64 {
    if rest > probability { (probability / rest).max(0.0) } else { 1.0 }
}

/// The summed conductance `Σ_synapses C_tr` of every neuron pair, given the counts; pairs in
/// the order pre-synaptic neuron `i` outer, post-synaptic neuron `j` inner.
pub(super) fn conductances(
    growth: &Synaptogenesis,
    counts: &[DMatrix<u32>],
    rng: &mut Stream,
) -> Vec<DMatrix<f64>> {
    let biology = &growth.biology;
    let conductance = &biology.conductance;
    let (transmitters, receptors) = (conductance.nrows(), conductance.ncols());
    // Receptors that conduct, per transmitter.
    let conducting: Vec<Vec<usize>> = (0..transmitters)
        .map(|t| (0..receptors).filter(|&r| conductance[(t, r)] != 0.0).collect())
        .collect();

    let mut all = Vec::with_capacity(counts.len());
    for (l, counts) in counts.iter().enumerate() {
        let (q, r) = (&biology.transmitters[l], &biology.receptors[l]);
        let mut sums = DMatrix::zeros(counts.nrows(), counts.ncols());
        for i in 0..counts.nrows() {
            for j in 0..counts.ncols() {
                let mut synapses = counts[(i, j)] as u64;
                let mut rest = 1.0;
                let mut total = 0.0;
                for (t, conducting) in conducting.iter().enumerate() {
                    // Synapses releasing transmitter t (the last takes what is left).
                    let released = if t + 1 == transmitters {
                        synapses
                    } else {
                        BinomialSampler::new(conditional(q[(i, t)], rest)).sample(synapses, rng)
                    };
                    synapses -= released;
                    rest -= q[(i, t)];

                    // Their receptors, among those that conduct transmitter t.
                    let mut unassigned = released;
                    let mut receptor_rest = 1.0;
                    for &receptor in conducting {
                        if unassigned == 0 {
                            break;
                        }
                        let probability = conditional(r[(j, receptor)], receptor_rest);
                        let bound = BinomialSampler::new(probability).sample(unassigned, rng);
                        total += bound as f64 * conductance[(t, receptor)];
                        unassigned -= bound;
                        receptor_rest -= r[(j, receptor)];
                    }
                }
                sums[(i, j)] = total;
            }
        }
        all.push(sums);
    }
    all
}
