//! Synaptogenesis in one population, and the comparison of grown networks with a real one.
//!
//! For every pair `(i, j)` and gene pair `(a, b)`, `x = κ E_ia E_jb` trials are made, each
//! placing a synapse with probability `G_ab`:
//!
//! `S_ij = Σ_ab Binomial(n_ijab, G_ab)`, `n_ijab` the trial count `x` made an integer by
//!
//! - [`Rounding::Nearest`]: `n = round(x)`, the layered model's synaptogenesis. Gene pairs with
//!   `x < 1/2` make no synapse at all, so the sampled mean falls short of `κ E G Eᵀ` when trial
//!   counts are small, as they are in fits to sparse connectomes.
//! - [`Rounding::Stochastic`]: `n = ⌊x⌋ + Bernoulli(x - ⌊x⌋)`, so that `E[n] = x` and the mean
//!   count is exactly `κ E G Eᵀ`; the variance grows by `Σ_ab f(1 - f) G_ab²` (`f` the
//!   fractional part of `x`) over the unrounded `κ E (G ⊙ (1 - G)) Eᵀ`.
//!
//! Draws are exact: a binomial with `n ≤ 16` is a sum of Bernoulli draws, a larger one comes from
//! `rand_distr::Binomial`, and the fractional trial of stochastic rounding is one Bernoulli draw
//! with probability `(x - ⌊x⌋) G_ab`. Each sampled network has its own random stream (purpose
//! [`Purpose::Synaptogenesis`], index = network), so results do not depend on threads.

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Genetics, Pairs};
use crate::rng::{self, Purpose, Stream};

/// How trial counts `κ E_ia E_jb` become integers (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rounding {
    /// `round(x)`.
    Nearest,
    /// `⌊x⌋ + Bernoulli(x - ⌊x⌋)`: unbiased.
    Stochastic,
}

/// Binomial draws up to this many trials are sums of Bernoulli draws.
const BERNOULLI_SUM_LIMIT: u64 = 16;

fn binomial(trials: u64, probability: f64, rng: &mut Stream) -> u64 {
    match trials {
        0 => 0,
        n if n <= BERNOULLI_SUM_LIMIT => {
            (0..n).filter(|_| rng.random::<f64>() < probability).count() as u64
        }
        n => Binomial::new(n, probability).expect("a probability in [0, 1]").sample(rng),
    }
}

/// One network grown from `genetics` over `pairs`: counts `S`, `N x N` (0 outside the pairs).
pub fn sample_counts(
    genetics: &Genetics,
    pairs: &Pairs,
    rounding: Rounding,
    rng: &mut Stream,
) -> DMatrix<f64> {
    let n = pairs.cells();
    let genes = genetics.genes();
    // Row i of κE and of E as contiguous columns.
    let pre = (&genetics.expression * genetics.scale).transpose();
    let post = genetics.expression.transpose();
    let mut counts = DMatrix::zeros(n, n);
    for (i, j) in pairs.iter() {
        let mut synapses = 0;
        for a in 0..genes {
            let pre_level = pre[(a, i)];
            if pre_level == 0.0 {
                continue;
            }
            for b in 0..genes {
                let trials = pre_level * post[(b, j)];
                let probability = genetics.rules[(a, b)];
                synapses += match rounding {
                    Rounding::Nearest => binomial(trials.round() as u64, probability, rng),
                    Rounding::Stochastic => {
                        let whole = trials.floor();
                        let partial = rng.random::<f64>() < (trials - whole) * probability;
                        binomial(whole as u64, probability, rng) + u64::from(partial)
                    }
                };
            }
        }
        counts[(i, j)] = synapses as f64;
    }
    counts
}

/// Summary statistics of a network over a set of pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkStatistics {
    /// Total synapses `Σ S_ij`.
    pub synapses: f64,
    /// Pairs with at least one synapse.
    pub connected_pairs: usize,
    /// `multiplicity[m - 1]`: pairs with exactly `m` synapses, `m ≥ 1`.
    pub multiplicity: Vec<usize>,
    /// Out-degree of each cell: its post-synaptic partners.
    pub out_degree: Vec<usize>,
    /// In-degree of each cell: its pre-synaptic partners.
    pub in_degree: Vec<usize>,
    /// Reciprocity: the fraction of connected pairs `(i, j)`, `i ≠ j`, whose reverse `(j, i)` is
    /// connected too.
    pub reciprocity: f64,
}

impl NetworkStatistics {
    /// The statistics of `counts` over `pairs`.
    pub fn new(counts: &DMatrix<f64>, pairs: &Pairs) -> Self {
        let n = pairs.cells();
        let connected = |i: usize, j: usize| pairs.contains(i, j) && counts[(i, j)] > 0.0;
        let mut stats = NetworkStatistics {
            synapses: 0.0,
            connected_pairs: 0,
            multiplicity: Vec::new(),
            out_degree: vec![0; n],
            in_degree: vec![0; n],
            reciprocity: 0.0,
        };
        let (mut distinct, mut reciprocated) = (0usize, 0usize);
        for (i, j) in pairs.iter().filter(|&(i, j)| connected(i, j)) {
            let m = counts[(i, j)] as usize;
            if stats.multiplicity.len() < m {
                stats.multiplicity.resize(m, 0);
            }
            stats.multiplicity[m - 1] += 1;
            stats.synapses += counts[(i, j)];
            stats.connected_pairs += 1;
            stats.out_degree[i] += 1;
            stats.in_degree[j] += 1;
            if i != j {
                distinct += 1;
                reciprocated += usize::from(connected(j, i));
            }
        }
        stats.reciprocity = reciprocated as f64 / distinct as f64;
        stats
    }

    /// Mean synapses per connected pair.
    pub fn mean_multiplicity(&self) -> f64 {
        self.synapses / self.connected_pairs as f64
    }

    /// The largest multiplicity.
    pub fn max_multiplicity(&self) -> usize {
        self.multiplicity.len()
    }

    /// The synapses of every connected pair, in increasing order.
    pub fn multiplicities(&self) -> Vec<f64> {
        let per_count = self.multiplicity.iter().enumerate();
        per_count.flat_map(|(m, &pairs)| std::iter::repeat_n(m as f64 + 1.0, pairs)).collect()
    }

    /// The fraction of connected pairs with a single synapse.
    pub fn single_synapse_fraction(&self) -> f64 {
        self.multiplicity.first().map_or(0, |&m| m) as f64 / self.connected_pairs as f64
    }
}

/// A scalar statistic of a network.
type Statistic = fn(&NetworkStatistics) -> f64;

/// One row of the real-versus-sampled table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// What is compared.
    pub statistic: String,
    /// Its value in the real network.
    pub real: f64,
    /// Its mean over the sampled networks.
    pub sampled_mean: f64,
    /// Its sample standard deviation over the sampled networks.
    pub sampled_std: f64,
}

/// Networks grown from fitted genetics, compared with the real one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplingComparison {
    /// The rounding of trial counts used.
    pub rounding: Rounding,
    /// The real network's statistics.
    pub real: NetworkStatistics,
    /// Each sampled network's statistics.
    #[serde(skip)]
    pub sampled: Vec<NetworkStatistics>,
    /// Scalar statistics, real against sampled.
    pub table: Vec<Comparison>,
    /// Kolmogorov-Smirnov distance between the real distribution of synapses per connected pair
    /// and that of all sampled networks pooled.
    pub ks_multiplicity: f64,
    /// The same for out-degrees.
    pub ks_out_degree: f64,
    /// The same for in-degrees.
    pub ks_in_degree: f64,
}

impl SamplingComparison {
    /// Grows `samples` networks from `genetics` over `pairs` (in parallel, network `k` from the
    /// stream `(seed, Synaptogenesis, k)`) and compares them with the `observed` counts.
    pub fn new(
        genetics: &Genetics,
        observed: &DMatrix<f64>,
        pairs: &Pairs,
        samples: usize,
        rounding: Rounding,
        seed: u64,
    ) -> Self {
        let real = NetworkStatistics::new(observed, pairs);
        let sampled: Vec<NetworkStatistics> = (0..samples)
            .into_par_iter()
            .map(|k| {
                let mut rng = rng::stream(seed, Purpose::Synaptogenesis, k as u64);
                NetworkStatistics::new(&sample_counts(genetics, pairs, rounding, &mut rng), pairs)
            })
            .collect();

        // Scalar statistics.
        let scalars: [(&str, Statistic); 7] = [
            ("synapses", |s| s.synapses),
            ("connected pairs", |s| s.connected_pairs as f64),
            ("mean synapses per connected pair", NetworkStatistics::mean_multiplicity),
            ("max synapses per pair", |s| s.max_multiplicity() as f64),
            ("fraction of connected pairs with one synapse", |s| s.single_synapse_fraction()),
            ("max out-degree", |s| s.out_degree.iter().copied().max().unwrap_or(0) as f64),
            ("reciprocity", |s| s.reciprocity),
        ];
        let table = scalars
            .iter()
            .map(|(name, statistic)| {
                let values: Vec<f64> = sampled.iter().map(statistic).collect();
                let (mean, std) = mean_and_std(&values);
                Comparison {
                    statistic: name.to_string(),
                    real: statistic(&real),
                    sampled_mean: mean,
                    sampled_std: std,
                }
            })
            .collect();

        // Distributions, the samples pooled.
        let pooled = |pick: fn(&NetworkStatistics) -> Vec<f64>| -> Vec<f64> {
            sampled.iter().flat_map(pick).collect()
        };
        SamplingComparison {
            rounding,
            ks_multiplicity: ks_distance(
                &real.multiplicities(),
                &pooled(NetworkStatistics::multiplicities),
            ),
            ks_out_degree: ks_distance(
                &as_f64(&real.out_degree),
                &pooled(|s| as_f64(&s.out_degree)),
            ),
            ks_in_degree: ks_distance(&as_f64(&real.in_degree), &pooled(|s| as_f64(&s.in_degree))),
            real,
            sampled,
            table,
        }
    }
}

fn as_f64(values: &[usize]) -> Vec<f64> {
    values.iter().map(|&v| v as f64).collect()
}

/// Mean and sample standard deviation (0 for fewer than two values).
fn mean_and_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let square: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (mean, if values.len() > 1 { (square / (n - 1.0)).sqrt() } else { 0.0 })
}

/// The two-sample Kolmogorov-Smirnov distance `sup_x |F₁(x) - F₂(x)|` of the empirical
/// distribution functions (NaN if either sample is empty).
pub fn ks_distance(first: &[f64], second: &[f64]) -> f64 {
    if first.is_empty() || second.is_empty() {
        return f64::NAN;
    }
    let sorted = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let (a, b) = (sorted(first), sorted(second));
    let (mut i, mut j, mut distance) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        distance = distance.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    distance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genetics() -> Genetics {
        let expression = DMatrix::from_fn(12, 3, |i, a| ((i * 3 + a * 5) as f64 * 0.9).sin().abs());
        let rules = DMatrix::from_fn(3, 3, |a, b| 0.1 + 0.25 * ((a + 2 * b) % 4) as f64);
        Genetics { expression, rules, scale: 1.5 }
    }

    #[test]
    fn stochastic_rounding_matches_the_exact_mean_and_variance() {
        let genetics = genetics();
        let pairs = Pairs::all(12, false);
        let (mean, spread) = (genetics.expected_counts(), genetics.count_variance());
        let samples = 4000;
        let mut rng = rng::stream(1, Purpose::Synaptogenesis, 0);
        let draws: Vec<DMatrix<f64>> = (0..samples)
            .map(|_| sample_counts(&genetics, &pairs, Rounding::Stochastic, &mut rng))
            .collect();
        // The total over pairs: its mean and variance against the formulas, within 4 standard
        // errors (the variance grows by Σ f (1 - f) G² from the rounding).
        let totals: Vec<f64> = draws.iter().map(|d| d.sum()).collect();
        let (total_mean, total_std) = mean_and_std(&totals);
        let expected_mean = pairs.indicator().dot(&mean);
        let mut expected_variance = pairs.indicator().dot(&spread);
        for (i, j) in pairs.iter() {
            for a in 0..3 {
                for b in 0..3 {
                    let x =
                        genetics.scale * genetics.expression[(i, a)] * genetics.expression[(j, b)];
                    let f = x - x.floor();
                    expected_variance += f * (1.0 - f) * genetics.rules[(a, b)].powi(2);
                }
            }
        }
        let standard_error = (expected_variance / samples as f64).sqrt();
        assert!(
            (total_mean - expected_mean).abs() < 4.0 * standard_error,
            "{total_mean} vs {expected_mean}"
        );
        let variance_error = expected_variance * (2.0 / (samples as f64 - 1.0)).sqrt();
        assert!((total_std.powi(2) - expected_variance).abs() < 4.0 * variance_error);
        // Self pairs are never grown.
        assert!(draws.iter().all(|d| d[(3, 3)] == 0.0));
    }

    #[test]
    fn nearest_rounding_drops_small_trial_counts() {
        let mut small = genetics();
        small.scale = 0.1;
        let pairs = Pairs::all(12, false);
        let mut rng = rng::stream(2, Purpose::Synaptogenesis, 0);
        let counts = sample_counts(&small, &pairs, Rounding::Nearest, &mut rng);
        assert_eq!(counts.sum(), 0.0, "every κ E E is below one half");
    }

    #[test]
    fn statistics_count_multiplicities_degrees_and_reciprocity() {
        let counts = DMatrix::from_row_slice(3, 3, &[5.0, 2.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 0.0]);
        let stats = NetworkStatistics::new(&counts, &Pairs::all(3, false));
        assert_eq!(stats.synapses, 5.0);
        assert_eq!(stats.multiplicity, [1, 2]);
        assert_eq!(
            (stats.out_degree.clone(), stats.in_degree.clone()),
            (vec![1, 2, 0], vec![1, 1, 1])
        );
        assert!((stats.reciprocity - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn ks_distance_of_shifted_samples() {
        assert_eq!(ks_distance(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 0.0);
        assert_eq!(ks_distance(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
        assert!((ks_distance(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]) - 0.5).abs() < 1e-15);
    }
}
