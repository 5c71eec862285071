//! Synaptogenesis: growing networks from a genome, as a population of real neurons would.
//!
//! For the connection from layer `l` to layer `l + 1`:
//!
//! 1. **Scale.** `κ = d · N / (2 · Σ_l Σ_ij E[S_l]_ij)`, with `N` all neurons of the network,
//!    `d` the target average degree and `E[S_l] = E_l G E_{l+1}ᵀ` the expected counts. With it
//!    the expected number of synapses is `d N / 2`: each neuron has `d` synapses on average.
//! 2. **Trials.** For every neuron pair `(i, j)` and gene pair `(a, b)`,
//!    `n_ijab = round((κ E_ia) · E_jb)`, rounded to the nearest integer with ties to even (as
//!    NumPy and PyTorch round), computed in exactly this order of floating-point operations.
//! 3. **Counts.** `S_ij = Σ_ab Binomial(n_ijab, G_ab)`, so `E[S_ij] = Σ_ab n_ijab G_ab` and
//!    `Var[S_ij] = Σ_ab n_ijab G_ab (1 - G_ab)` ([`CountMoments`]).
//! 4. **Weights.** `W̃ = E[c] ⊙ S / κ` with `E[c] = Q_l C R_{l+1}ᵀ`, the genome's biases and
//!    SELU hidden activations: a [`Dense`] network.
//!
//! Three [`Sampler`]s are offered: the exact one above; one that also draws every synapse's
//! transmitter and receptor; and a fast normal approximation of the counts.
//!
//! # Streams
//!
//! The exact sampler draws blocks of a network's neuron pairs in parallel, so each block has
//! its own stream. The neuron pairs of all connections, in order and row-major within a
//! connection, are cut into blocks of 32 (the last block of a connection may be shorter);
//! block `b` of network `index` grown under `seed`, counting the blocks of all connections
//! from 0, draws from `rng::substream(seed, Purpose::Synaptogenesis, index, 1 + b)`. Within
//! it, pair by pair, the gene pairs with trials are drawn by method, each method by
//! pre-synaptic gene `a` and post-synaptic gene `b` (the innermost): first those with fewer
//! than 8 trials (one uniform each), then those with a mean below 48 (one uniform each, then
//! a fresh draw for any walk that rounding held up), then the rest by BTRD. A network is
//! therefore the same on any number of threads.
//!
//! The moment-matched sampler draws one standard normal per neuron pair from
//! `rng::stream(seed, Purpose::Synaptogenesis, index)`, connection by connection, then by `i`
//! and `j`. The per-synapse sampler draws its counts exactly as the exact sampler does, then
//! the transmitters and receptors from `rng::substream(seed, Purpose::Synaptogenesis, index,
//! 0)`: its counts are those of the exact sampler for the same seed and index. (Families of
//! networks use disjoint indices; see [`crate::genome::Family::unit`].)

mod binomial;
mod exact;
mod export;
mod lockstep;
mod moments;
mod per_synapse;

pub use binomial::BinomialSampler;
pub use moments::CountMoments;

use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::genome::{Biology, BlockName, Genome};
use crate::linalg::triple_abct;
use crate::net::{Activation, Dense};
use crate::rng::{self, Purpose};

/// How a network's synapses are drawn from its genetics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Sampler {
    /// Exact counts `S_ij = Σ_ab Binomial(n_ijab, G_ab)`; every synapse of a pair carries the
    /// expected conductance `E[c]_ij`. The reference implementation's sampler.
    #[default]
    Exact,
    /// Exact counts as [`Sampler::Exact`] (the same draws), then each synapse draws its
    /// transmitter `t` from `Q_i` and its receptor `r` from `R_j`: a multinomial split of
    /// `S_ij` over the `k x 2k` pairs with probabilities `Q_it R_jr`. The weight is the sum of
    /// the synapses' conductances `C_tr`, over `κ`.
    PerSynapse,
    /// One normal draw per neuron pair with the exact mean and variance of the count
    /// ([`CountMoments`]), rounded to an integer and clamped to `[0, Σ_ab n_ijab]`; weights as
    /// [`Sampler::Exact`]. A fast approximation: with `d = 1e5` the counts are sums of
    /// thousands of binomials and close to normal.
    MomentMatched,
}

/// Errors in preparing or exporting sampled networks.
#[derive(Debug, thiserror::Error)]
pub enum SamplingError {
    /// The average degree is not a positive finite number.
    #[error("the average degree must be a positive finite number, got {0}")]
    AverageDegree(f64),
    /// No scale turns the genome's expected counts into the average degree.
    #[error(
        "the genome expects {0} synapses in total, so no scale κ gives the requested average \
         degree (is every expression zero?)"
    )]
    NoSynapses(f64),
    /// Some neuron pair could receive more synapses than a count holds.
    #[error(
        "connection {connection}: a neuron pair may receive up to {trials:.0} trials, more than \
         the {limit} synapses a count can hold; lower the average degree"
    )]
    TooManyTrials {
        /// The connection (from layer `connection` to `connection + 1`).
        connection: usize,
        /// The bound on the trials of one neuron pair.
        trials: f64,
        /// The largest count that fits.
        limit: u32,
    },
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The trial counts `n_ab = round(x_a · y_b)` of one neuron pair for every gene pair, written
/// row-major (`a · g + b`) into `trials`, from `x = κ E_i` and `y = E_j`. Rounding is to the
/// nearest integer, ties to even.
///
/// Adding and subtracting 2⁵² rounds a non-negative number below 2⁵² that way in IEEE
/// arithmetic (larger numbers are already integers); unlike `round_ties_even`, it vectorises on
/// every x86-64 processor.
#[inline]
fn pair_trials(scaled_pre: &[f64], post: &[f64], trials: &mut [f64]) {
    const TWO_POW_52: f64 = 4_503_599_627_370_496.0;
    for (row, &x) in trials.chunks_exact_mut(post.len()).zip(scaled_pre) {
        for (n, &y) in row.iter_mut().zip(post) {
            let product = x * y;
            *n = if product < TWO_POW_52 { (product + TWO_POW_52) - TWO_POW_52 } else { product };
        }
    }
}

/// A genome prepared for growing networks: the scale `κ`, the rule samplers and everything
/// else that all networks grown from it share.
///
/// Build it once per genome and call [`Synaptogenesis::sample`] per network. For
/// [`Sampler::Exact`] and [`Sampler::PerSynapse`], preparing also plans every draw (which
/// method, and where inversion starts), which is most of the work that does not depend on
/// chance: about 1 ms for a [4, 128, 2] genome at g = 16 and 20 ms at g = 64 on two cores, after
/// which a network takes 1.4 ms and 9 ms. [`Sampler::MomentMatched`] computes the count moments
/// here instead (0.3 ms at g = 16, 5 ms at g = 64), after which a network takes about 10 µs.
#[derive(Debug, Clone)]
pub struct Synaptogenesis {
    sampler: Sampler,
    average_degree: f64,
    scale: f64,
    biology: Biology,
    /// Number of genes `g`.
    genes: usize,
    /// `κ E_l` for `l < L`, row-major `N_l x g`.
    scaled_expression: Vec<Vec<f64>>,
    /// `E_l` for every layer, row-major `N_l x g`.
    expression_rows: Vec<Vec<f64>>,
    /// One sampler per gene pair, `G_ab` at `a · g + b`.
    rules: Vec<BinomialSampler>,
    /// The same probabilities, for lockstep walks.
    walk_rules: Vec<lockstep::WalkRule>,
    /// Distribution functions of small trial counts: `F_ab,n` at `(a · g + b) · SMALL + n`.
    small_trials: Vec<[f64; exact::SMALL]>,
    /// The exact sampler's plans of every block of neuron pairs, where the genome is small
    /// enough to keep them (shared by clones).
    plans: Option<Arc<Vec<exact::BlockPlan>>>,
    /// `E[c_l] = Q_l C R_{l+1}ᵀ` per connection.
    expected_conductance: Vec<DMatrix<f64>>,
    biases: Vec<DMatrix<f64>>,
    moments: Option<CountMoments>,
}

/// A network grown by synaptogenesis.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledNetwork {
    /// Synapse counts `S_l` per connection, `N_l x N_{l+1}`.
    pub counts: Vec<DMatrix<u32>>,
    /// The network: weights `W̃_l` (see [`Sampler`]), the genome's biases, SELU hidden layers.
    pub network: Dense,
    /// The scale `κ` the network was grown with.
    pub scale: f64,
}

impl SampledNetwork {
    /// The total number of synapses `Σ_l Σ_ij S_l,ij`.
    pub fn synapses(&self) -> u64 {
        self.counts.iter().flat_map(|c| c.iter()).map(|&s| s as u64).sum()
    }
}

impl Synaptogenesis {
    /// Prepares `genome` for growing networks of average degree `average_degree` (`d`) with
    /// `sampler`.
    ///
    /// # Errors
    ///
    /// If `d` is not positive and finite, if the genome expects no synapses at all, or if some
    /// neuron pair could receive more than `u32::MAX` synapses.
    pub fn new(
        genome: &Genome,
        sampler: Sampler,
        average_degree: f64,
    ) -> Result<Self, SamplingError> {
        if !(average_degree.is_finite() && average_degree > 0.0) {
            return Err(SamplingError::AverageDegree(average_degree));
        }
        let architecture = genome.architecture();
        let genes = architecture.genes;
        let biology = genome.biology();
        let connections = architecture.connections();

        // κ from Σ_ij (E_l G E_{l+1}ᵀ)_ij = (1ᵀ E_l) G (E_{l+1}ᵀ 1).
        let gene_totals: Vec<_> = biology.expression.iter().map(|e| e.row_sum()).collect();
        let expected_synapses: f64 = (0..connections)
            .map(|l| (&gene_totals[l] * &biology.rules).dot(&gene_totals[l + 1]))
            .sum();
        let scale = average_degree * architecture.neurons() as f64 / (2.0 * expected_synapses);
        if !(scale.is_finite() && scale > 0.0) {
            return Err(SamplingError::NoSynapses(expected_synapses));
        }

        // Every count must fit in 32 bits: Σ_ab n_ijab ≤ κ (Σ_a E_ia)(Σ_b E_jb) + g²/2.
        let neuron_totals: Vec<_> = biology.expression.iter().map(|e| e.column_sum()).collect();
        for l in 0..connections {
            let trials = scale * neuron_totals[l].max() * neuron_totals[l + 1].max()
                + (genes * genes) as f64 / 2.0;
            if trials > u32::MAX as f64 {
                return Err(SamplingError::TooManyTrials {
                    connection: l,
                    trials,
                    limit: u32::MAX,
                });
            }
        }

        let rows = |m: &DMatrix<f64>, factor: f64| -> Vec<f64> {
            (0..m.nrows()).flat_map(|i| (0..m.ncols()).map(move |a| factor * m[(i, a)])).collect()
        };
        let scaled_expression =
            biology.expression[..connections].iter().map(|e| rows(e, scale)).collect();
        let expression_rows = biology.expression.iter().map(|e| rows(e, 1.0)).collect();
        let rules: Vec<_> = (0..genes * genes)
            .map(|ab| BinomialSampler::new(biology.rules[(ab / genes, ab % genes)]))
            .collect();
        let walk_rules = (0..genes * genes)
            .map(|ab| lockstep::WalkRule::new(biology.rules[(ab / genes, ab % genes)]))
            .collect();
        let small_trials = rules
            .iter()
            .flat_map(|rule: &BinomialSampler| exact::small_distributions(rule.probability()))
            .collect();
        let expected_conductance = (0..connections)
            .map(|l| {
                triple_abct(&biology.transmitters[l], &biology.conductance, &biology.receptors[l])
            })
            .collect();
        let mut growth = Synaptogenesis {
            sampler,
            average_degree,
            scale,
            biology,
            genes,
            scaled_expression,
            expression_rows,
            rules,
            walk_rules,
            small_trials,
            plans: None,
            expected_conductance,
            biases: genome.block(BlockName::Biases).raw.clone(),
            moments: None,
        };
        match sampler {
            Sampler::MomentMatched => growth.moments = Some(growth.count_moments()),
            Sampler::Exact | Sampler::PerSynapse => {
                let pairs: usize =
                    (0..connections).map(|l| growth.neurons(l) * growth.neurons(l + 1)).sum();
                if pairs * genes * genes <= exact::PLANNED_DRAWS_MAX {
                    growth.plans = Some(Arc::new(exact::plan_all(&growth)));
                }
            }
        }
        Ok(growth)
    }

    /// The number of neurons of layer `l`.
    fn neurons(&self, l: usize) -> usize {
        self.expression_rows[l].len() / self.genes
    }

    /// The sampler networks are grown with.
    pub fn sampler(&self) -> Sampler {
        self.sampler
    }

    /// The target average degree `d`.
    pub fn average_degree(&self) -> f64 {
        self.average_degree
    }

    /// The scale `κ = d · N / (2 · Σ_l Σ_ij E[S_l]_ij)`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The exact mean and variance of every synapse count, with the rounded trial counts.
    pub fn count_moments(&self) -> CountMoments {
        match &self.moments {
            Some(moments) => moments.clone(),
            None => moments::count_moments(self),
        }
    }

    /// Grows network `index` of `seed` (see the module docs for its streams).
    pub fn sample(&self, seed: u64, index: u64) -> SampledNetwork {
        let counts = match (self.sampler, &self.moments) {
            (Sampler::MomentMatched, Some(moments)) => {
                moments.sample(&mut rng::stream(seed, Purpose::Synaptogenesis, index))
            }
            _ => exact::counts(self, seed, index),
        };
        let weights = match self.sampler {
            Sampler::PerSynapse => {
                let mut identities = rng::substream(seed, Purpose::Synaptogenesis, index, 0);
                per_synapse::conductances(self, &counts, &mut identities)
                    .into_iter()
                    .map(|sums| sums / self.scale)
                    .collect()
            }
            Sampler::Exact | Sampler::MomentMatched => self
                .expected_conductance
                .iter()
                .zip(&counts)
                .map(|(c, s)| c.zip_map(s, |c, s| c * s as f64 / self.scale))
                .collect(),
        };
        SampledNetwork {
            counts,
            network: Dense { weights, biases: self.biases.clone(), hidden: Activation::Selu },
            scale: self.scale,
        }
    }

    /// Grows networks `indices` of `seed` in parallel (rayon), returned in index order; the
    /// same as calling [`Synaptogenesis::sample`] for each index, on any number of threads.
    pub fn sample_many(&self, seed: u64, indices: Range<u64>) -> Vec<SampledNetwork> {
        indices.into_par_iter().map(|index| self.sample(seed, index)).collect()
    }
}

#[cfg(test)]
mod tests;
