//! Tests of the samplers: the scale, the moments, statistical agreement, value stability,
//! validation and export.
//!
//! Statistical tests state their tolerance in standard errors; with the fixed seeds they are
//! deterministic, and a correct sampler would fail any one of them for about one seed in 10⁵.

use nalgebra::DMatrix;
use statrs::distribution::{Binomial, Discrete};
use statrs::stats_tests::NaNPolicy;
use statrs::stats_tests::ks_test::{KSTwoSampleAlternativeMethod, ks_twosample};

use super::*;
use crate::genome::{Architecture, Learnable};
use crate::synapse::Expected;

/// Pearson's χ² test of `values` against the mass function of `exact` over `0..cells` (values
/// at or beyond `cells` are not expected): cells merged left to right until each expects at
/// least 5 values, and the expected counts rescaled to sum to the number of values. Returns the
/// statistic and its p-value.
pub(super) fn binomial_chi_square(values: &[u64], exact: &Binomial, cells: usize) -> (f64, f64) {
    let m = values.len() as f64;
    let mut observed = vec![0usize; cells];
    for &v in values {
        observed[v as usize] += 1;
    }
    let (mut obs_cells, mut exp_cells) = (Vec::new(), Vec::new());
    let (mut obs, mut exp) = (0usize, 0.0);
    for (x, &count) in observed.iter().enumerate() {
        obs += count;
        exp += exact.pmf(x as u64) * m;
        if exp >= 5.0 {
            obs_cells.push(obs);
            exp_cells.push(exp);
            (obs, exp) = (0, 0.0);
        }
    }
    *obs_cells.last_mut().unwrap() += obs;
    *exp_cells.last_mut().unwrap() += exp;
    let total: f64 = exp_cells.iter().sum();
    exp_cells.iter_mut().for_each(|e| *e *= m / total);
    statrs::stats_tests::chisquare::chisquare(&obs_cells, Some(&exp_cells), None).unwrap()
}

fn genome(layers: &[usize], genes: usize, transmitters: usize, seed: u64) -> Genome {
    let architecture = Architecture {
        layers: layers.to_vec(),
        genes,
        transmitters,
        rules_temperature: 0.1,
        conductance_scale: 1.0,
    };
    Genome::random(architecture, None, Learnable::all(), seed).unwrap()
}

/// A small genome whose trial counts fall in both regimes of the binomial sampler at `d = 1e3`.
fn small() -> Genome {
    genome(&[3, 4, 2], 4, 2, 1)
}

/// `Σ_ab f(n_ijab, G_ab)` for every neuron pair, by the definition (`round_ties_even`).
fn brute_force(growth: &Synaptogenesis, f: impl Fn(f64, f64) -> f64) -> Vec<DMatrix<f64>> {
    let bio = &growth.biology;
    let kappa = growth.scale();
    (0..bio.expression.len() - 1)
        .map(|l| {
            let (pre, post) = (&bio.expression[l], &bio.expression[l + 1]);
            DMatrix::from_fn(pre.nrows(), post.nrows(), |i, j| {
                let mut sum = 0.0;
                for a in 0..bio.rules.nrows() {
                    for b in 0..bio.rules.ncols() {
                        let n = (kappa * pre[(i, a)] * post[(j, b)]).round_ties_even();
                        sum += f(n, bio.rules[(a, b)]);
                    }
                }
                sum
            })
        })
        .collect()
}

/// Counts of every neuron pair over networks `0..networks`, one vector per pair, pairs in
/// connection, then column-major order.
fn count_samples(growth: &Synaptogenesis, seed: u64, networks: u64) -> Vec<Vec<f64>> {
    let sampled = growth.sample_many(seed, 0..networks);
    let pairs: usize = sampled[0].counts.iter().map(|c| c.len()).sum();
    (0..pairs)
        .map(|p| {
            sampled
                .iter()
                .map(|s| *s.counts.iter().flat_map(|c| c.iter()).nth(p).unwrap() as f64)
                .collect()
        })
        .collect()
}

fn mean_and_variance(values: &[f64]) -> (f64, f64) {
    let m = values.len() as f64;
    let mean = values.iter().sum::<f64>() / m;
    (mean, values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0))
}

#[test]
fn scale_gives_the_average_degree() {
    let genome = genome(&[4, 16, 2], 8, 3, 3);
    let growth = Synaptogenesis::new(&genome, Sampler::Exact, 1e5).unwrap();
    let expected: f64 = Expected::new(&genome).counts.iter().map(|c| c.sum()).sum();
    let neurons = 22.0;
    assert!((growth.scale() * expected - 1e5 * neurons / 2.0).abs() < 1e-6);
}

#[test]
fn moments_are_the_sums_over_rounded_trials() {
    let genome = genome(&[4, 16, 2], 8, 3, 3);
    let growth = Synaptogenesis::new(&genome, Sampler::Exact, 1e5).unwrap();
    let moments = growth.count_moments();
    let mean = brute_force(&growth, |n, p| n * p);
    let variance = brute_force(&growth, |n, p| n * p * (1.0 - p));
    let trials = brute_force(&growth, |n, _| n);
    for l in 0..2 {
        assert!((&moments.mean[l] - &mean[l]).abs().max() < 1e-9 * mean[l].max());
        assert!((&moments.variance[l] - &variance[l]).abs().max() < 1e-9 * variance[l].max());
        assert_eq!(moments.trials[l], trials[l]);
    }
    // The moment-matched sampler prepares the same moments.
    let matched = Synaptogenesis::new(&genome, Sampler::MomentMatched, 1e5).unwrap();
    assert_eq!(matched.count_moments(), moments);
}

/// Sample mean and variance of every count of 4 000 exact networks against `Σ_ab n G` and
/// `Σ_ab n G (1 - G)`.
///
/// Tolerance: 5 standard errors. The mean's is `√(σ² / M)`; the sample variance's is
/// `√((μ₄ - σ⁴) / M)`, where the fourth central moment of a sum of independent binomials is
/// `μ₄ = Σ_ab n G (1 - G) (1 - 6 G (1 - G)) + 3 σ⁴`.
#[test]
fn exact_counts_have_the_analytic_mean_and_variance() {
    let growth = Synaptogenesis::new(&small(), Sampler::Exact, 4e3).unwrap();

    // All three methods are exercised: the table, lockstep walks and BTRD.
    let drawn_by = |method: fn(f64, f64) -> bool| -> f64 {
        let pairs = brute_force(&growth, |n, p| method(n, p.min(1.0 - p)) as u8 as f64);
        pairs.iter().map(|m| m.sum()).sum()
    };
    let table = drawn_by(|n, _| n > 0.0 && n < 8.0);
    let walks = drawn_by(|n, p| n >= 8.0 && n * p < 48.0);
    let btrd = drawn_by(|n, p| n * p >= 48.0);
    assert!(table > 20.0 && walks > 20.0 && btrd > 20.0, "draws {table}, {walks}, {btrd}");

    let networks = 4_000;
    let moments = growth.count_moments();
    let cumulant4 = brute_force(&growth, |n, p| n * p * (1.0 - p) * (1.0 - 6.0 * p * (1.0 - p)));
    let samples = count_samples(&growth, 11, networks);
    let m = networks as f64;
    let flat =
        |ms: &[DMatrix<f64>]| -> Vec<f64> { ms.iter().flat_map(|c| c.iter().copied()).collect() };
    let (means, variances, cumulants) =
        (flat(&moments.mean), flat(&moments.variance), flat(&cumulant4));
    for (pair, values) in samples.iter().enumerate() {
        let (mean, variance) = mean_and_variance(values);
        let sigma2 = variances[pair];
        let mu4 = cumulants[pair] + 3.0 * sigma2 * sigma2;
        let mean_se = (sigma2 / m).sqrt();
        let variance_se = ((mu4 - sigma2 * sigma2) / m).sqrt();
        assert!(
            (mean - means[pair]).abs() < 5.0 * mean_se,
            "pair {pair}: mean {mean}, expected {}",
            means[pair]
        );
        assert!(
            (variance - sigma2).abs() < 5.0 * variance_se,
            "pair {pair}: variance {variance}, expected {sigma2}"
        );
    }
}

/// The moment-matched counts against the exact ones at the reference average degree
/// `d = 1e5`: two-sample Kolmogorov-Smirnov tests on the counts of three neuron pairs (the
/// largest, the median and the smallest mean), 300 networks of each sampler, each test at level
/// 0.001. The same test rejects exact counts shifted by half a standard deviation, so it has
/// the power to see a wrong mean or spread of that size.
#[test]
fn moment_matched_counts_agree_with_exact_counts() {
    let genome = genome(&[4, 16, 2], 16, 3, 5);
    let exact = Synaptogenesis::new(&genome, Sampler::Exact, 1e5).unwrap();
    let matched = Synaptogenesis::new(&genome, Sampler::MomentMatched, 1e5).unwrap();
    let networks = 300;
    let exact_counts = count_samples(&exact, 21, networks);
    let matched_counts = count_samples(&matched, 22, networks);

    let means: Vec<f64> =
        exact.count_moments().mean.iter().flat_map(|c| c.iter().copied()).collect();
    let mut order: Vec<usize> = (0..means.len()).collect();
    order.sort_by(|&a, &b| means[a].total_cmp(&means[b]));
    let pairs = [order[order.len() - 1], order[order.len() / 2], order[0]];
    assert!(means[pairs[2]] > 100.0, "even the smallest count is a sum of many synapses");

    let ks = |a: &[f64], b: &[f64]| {
        let method = KSTwoSampleAlternativeMethod::TwoSidedAsymptotic;
        ks_twosample(a.to_vec(), b.to_vec(), method, NaNPolicy::Error).unwrap().1
    };
    for pair in pairs {
        let p_value = ks(&exact_counts[pair], &matched_counts[pair]);
        assert!(p_value > 0.001, "pair {pair}: KS p-value {p_value}");

        let sd = mean_and_variance(&exact_counts[pair]).1.sqrt();
        let shifted: Vec<f64> = exact_counts[pair].iter().map(|c| c + 0.5 * sd).collect();
        let p_value = ks(&shifted, &matched_counts[pair]);
        assert!(p_value < 0.001, "pair {pair}: the test misses a shift (p-value {p_value})");
    }
}

/// Per-synapse sampling: the counts are the exact sampler's, and the conductance per synapse
/// averages `E[c] = Q C Rᵀ`.
///
/// Over `M` networks the mean conductance of pair `(i, j)` is `Σ conductance / Σ S`, the mean
/// of `Σ S` i.i.d. synapse conductances with variance `σ_c² = Σ_tr Q_it R_jr C_tr² - E[c]²`;
/// tolerance 5 standard errors `σ_c / √(Σ S)`.
#[test]
fn per_synapse_conductance_averages_the_expected_conductance() {
    let genome = small();
    let growth = Synaptogenesis::new(&genome, Sampler::PerSynapse, 1e3).unwrap();
    let exact = Synaptogenesis::new(&genome, Sampler::Exact, 1e3).unwrap();
    let networks = 1_000;
    let sampled = growth.sample_many(31, 0..networks);
    for (index, network) in sampled.iter().enumerate().take(20) {
        assert_eq!(network.counts, exact.sample(31, index as u64).counts);
    }

    let bio = genome.biology();
    let squared = bio.conductance.map(|c| c * c);
    for l in 0..2 {
        let expected = &growth.expected_conductance[l];
        let second_moment = triple_abct(&bio.transmitters[l], &squared, &bio.receptors[l]);
        for i in 0..expected.nrows() {
            for j in 0..expected.ncols() {
                let synapses: f64 = sampled.iter().map(|s| s.counts[l][(i, j)] as f64).sum();
                let conductance: f64 =
                    sampled.iter().map(|s| s.network.weights[l][(i, j)] * growth.scale()).sum();
                let mean = conductance / synapses;
                let sd = (second_moment[(i, j)] - expected[(i, j)].powi(2)).sqrt();
                let tolerance = 5.0 * sd / synapses.sqrt() + 1e-12;
                assert!(
                    (mean - expected[(i, j)]).abs() < tolerance,
                    "connection {l} ({i}, {j}): {mean} vs {}",
                    expected[(i, j)]
                );
            }
        }
    }
}

#[test]
fn weights_are_conductance_times_counts_over_scale() {
    let genome = small();
    for sampler in [Sampler::Exact, Sampler::MomentMatched] {
        let growth = Synaptogenesis::new(&genome, sampler, 1e3).unwrap();
        let sampled = growth.sample(3, 9);
        let expected = Expected::new(&genome);
        for l in 0..2 {
            let w = expected.conductance[l]
                .zip_map(&sampled.counts[l], |c, s| c * s as f64 / growth.scale());
            assert!((&sampled.network.weights[l] - w).abs().max() < 1e-12);
        }
        assert_eq!(sampled.network.biases, expected.network.biases);
        assert_eq!(sampled.network.hidden, Activation::Selu);
        assert_eq!(sampled.scale, growth.scale());
    }
}

#[test]
fn networks_are_reproducible_and_independent_of_threads() {
    let growth = Synaptogenesis::new(&small(), Sampler::PerSynapse, 1e3).unwrap();
    let many = growth.sample_many(5, 2..6);
    for (offset, network) in many.iter().enumerate() {
        assert_eq!(*network, growth.sample(5, 2 + offset as u64));
    }
    assert_ne!(many[0].counts, many[1].counts);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert_eq!(pool.install(|| growth.sample_many(5, 2..6)), many);
}

/// Genomes too large to keep their plans plan each block for every network, with the same
/// draws as a planned genome.
#[test]
fn planning_per_network_draws_the_same_networks() {
    for (genome, degree) in [(small(), 4e3), (genome(&[4, 128, 2], 16, 3, 1), 1e5)] {
        for sampler in [Sampler::Exact, Sampler::PerSynapse] {
            let planned = Synaptogenesis::new(&genome, sampler, degree).unwrap();
            assert!(planned.plans.is_some());
            let unplanned = Synaptogenesis { plans: None, ..planned.clone() };
            for index in 0..3 {
                assert_eq!(planned.sample(8, index), unplanned.sample(8, index));
            }
        }
    }
}

/// Pins counts of fixed genomes and streams, so that a change of method or of stream use
/// shows. (The exact counts were re-pinned when rows moved to streams of their own, for
/// drawing them in parallel, when each pair began to draw its small trial counts first, and
/// when lockstep walks and blocks of 32 pairs per stream came in.)
#[test]
fn sampled_counts_are_stable() {
    let growth = Synaptogenesis::new(&small(), Sampler::Exact, 1e3).unwrap();
    let sampled = growth.sample(42, 3);
    assert_eq!(sampled.counts[0].row(0).iter().copied().collect::<Vec<_>>(), [227, 113, 72, 72]);
    assert_eq!(
        sampled.counts[1].column(1).iter().copied().collect::<Vec<_>>(),
        [724, 446, 281, 185]
    );

    let cartpole = genome(&[4, 128, 2], 16, 3, 1);
    let growth = Synaptogenesis::new(&cartpole, Sampler::Exact, 1e5).unwrap();
    let sampled = growth.sample(7, 0);
    assert_eq!(sampled.counts[0][(0, 0)], 24_309);
    assert_eq!(sampled.counts[1][(5, 1)], 9_224);
    assert_eq!(sampled.synapses(), 6_696_680);

    let growth = Synaptogenesis::new(&cartpole, Sampler::MomentMatched, 1e5).unwrap();
    assert_eq!(growth.sample(7, 0).counts[0][(0, 0)], 24_425);
}

#[test]
fn invalid_average_degrees_are_rejected() {
    for d in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let error = Synaptogenesis::new(&small(), Sampler::Exact, d).unwrap_err();
        assert!(matches!(error, SamplingError::AverageDegree(_)), "{d}: {error}");
    }
}

#[test]
fn a_genome_without_expression_is_rejected() {
    let mut genome = small();
    for x in genome.raw_mut(BlockName::Expression) {
        x.fill(0.0);
    }
    let error = Synaptogenesis::new(&genome, Sampler::Exact, 1e3).unwrap_err();
    assert!(matches!(error, SamplingError::NoSynapses(_)), "{error}");
}

#[test]
fn counts_that_would_overflow_are_rejected() {
    let error = Synaptogenesis::new(&small(), Sampler::Exact, 1e12).unwrap_err();
    assert!(matches!(error, SamplingError::TooManyTrials { .. }), "{error}");
    assert!(error.to_string().contains("lower the average degree"));
}

#[test]
fn samplers_read_from_experiment_files() {
    for (text, sampler) in [
        ("Exact", Sampler::Exact),
        ("PerSynapse", Sampler::PerSynapse),
        ("MomentMatched", Sampler::MomentMatched),
    ] {
        assert_eq!(ron::from_str::<Sampler>(text).unwrap(), sampler);
    }
    assert!(ron::from_str::<Sampler>("Approximate").is_err());
    assert_eq!(Sampler::default(), Sampler::Exact);
}

#[test]
fn counts_and_edge_lists_are_exported() {
    let growth = Synaptogenesis::new(&small(), Sampler::Exact, 1e3).unwrap();
    let sampled = growth.sample(1, 0);
    let directory = std::env::temp_dir().join(format!("synaptogen-sample-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();

    // Count matrices read back as written.
    let paths = sampled.write_counts(&directory, "net").unwrap();
    assert_eq!(paths.len(), 2);
    assert!(paths[1].ends_with("net_counts_1.npy"));
    for (path, counts) in paths.iter().zip(&sampled.counts) {
        assert_eq!(crate::npy::read_matrix(path).unwrap(), counts.map(|s| s as f64));
    }

    // The edge list: one line per connected pair, global ids, exact weights.
    let csv = sampled.edge_list();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("pre,post,count,weight"));
    let edges: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    let connected: usize =
        sampled.counts.iter().map(|c| c.iter().filter(|&&s| s > 0).count()).sum();
    assert_eq!(edges.len(), connected);
    let mut total = 0u64;
    for edge in &edges {
        let (pre, post): (usize, usize) = (edge[0].parse().unwrap(), edge[1].parse().unwrap());
        let count: u32 = edge[2].parse().unwrap();
        let weight: f64 = edge[3].parse().unwrap();
        let (l, i, j) = if pre < 3 { (0, pre, post - 3) } else { (1, pre - 3, post - 7) };
        assert_eq!(count, sampled.counts[l][(i, j)]);
        assert_eq!(weight, sampled.network.weights[l][(i, j)]);
        total += count as u64;
    }
    assert_eq!(total, sampled.synapses());
    let path = directory.join("edges.csv");
    sampled.write_edge_list(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), csv);
    std::fs::remove_dir_all(&directory).unwrap();
}
