//! The exact sampler: `S_ij = Σ_ab Binomial(n_ijab, G_ab)`, one binomial draw per neuron pair
//! and gene pair with a non-zero trial count.
//!
//! Most trial counts are small (at g = 64 and d = 1e5 the median is 1), so draws with fewer than
//! [`SMALL`] trials invert a table of distribution functions, `F_ab,n(x) = P(Binomial(n, G_ab)
//! ≤ x)`, prepared once per genome: one uniform `u` and the branch-free count
//! `x = #{y : F_ab,n(y) ≤ u}`. Larger counts go to [`BinomialSampler`](super::BinomialSampler).

use nalgebra::DMatrix;

use rand::RngExt;

use super::binomial::count;
use super::{Synaptogenesis, pair_trials};
use crate::rng::Stream;

/// Trial counts below this are drawn from the table; a row of it fills one cache line.
pub(super) const SMALL: usize = 8;

/// The distribution functions of `Binomial(n, p)` for `n = 0..SMALL`, one row per `n`:
/// `F_n(x) = Σ_{y ≤ x} C(n, y) pʸ (1 - p)ⁿ⁻ʸ` for `x < n`, and exactly 1 from `x = n` on.
pub(super) fn small_distributions(p: f64) -> [[f64; SMALL]; SMALL] {
    let q = 1.0 - p;
    let mut rows = [[1.0; SMALL]; SMALL];
    for (n, row) in rows.iter_mut().enumerate() {
        let mut binomial = 1.0; // C(n, x)
        let mut cumulative = 0.0;
        for (x, value) in row.iter_mut().enumerate().take(n) {
            cumulative += binomial * p.powi(x as i32) * q.powi((n - x) as i32);
            *value = cumulative.min(1.0);
            binomial = binomial * (n - x) as f64 / (x + 1) as f64;
        }
    }
    rows
}

/// The smallest `x` with `u < F(x)`, as the number of entries of `F` at most `u`; `u < 1`.
#[inline(always)]
fn invert(distribution: &[f64; SMALL], u: f64) -> u64 {
    distribution.iter().map(|&f| (f <= u) as u64).sum()
}

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
                    let n = count(trials[ab]);
                    synapses += if n < SMALL as u64 {
                        invert(&growth.small_trials[ab * SMALL + n as usize], rng.random())
                    } else {
                        growth.rules[ab].sample(n, rng)
                    };
                }
                // Fits, by the same bound.
                counts[(i, j)] = synapses as u32;
            }
        }
        all.push(counts);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{Binomial, DiscreteCDF};

    #[test]
    fn small_distributions_are_binomial_distribution_functions() {
        for p in [0.0, 1e-9, 0.16, 0.5, 0.84, 1.0 - 1e-12, 1.0] {
            let rows = small_distributions(p);
            for (n, row) in rows.iter().enumerate() {
                let exact = Binomial::new(p, n as u64).unwrap();
                for (x, &f) in row.iter().enumerate() {
                    let expected = if x >= n { 1.0 } else { exact.cdf(x as u64) };
                    // statrs' incomplete beta function is accurate to about 1e-13.
                    assert!((f - expected).abs() < 1e-12, "p={p} n={n} x={x}: {f} vs {expected}");
                }
                // Exactly 1 from x = n on, so that every u < 1 inverts to at most n.
                assert!(row[n..].iter().all(|&f| f == 1.0));
            }
        }
        // Within an ulp of exact rational arithmetic: 0.84⁷ = 0.29509034655744…, as computed
        // at run time (`black_box` keeps the compiler from folding `powi` with the host's `pow`,
        // which rounds the last bit the other way).
        let p = std::hint::black_box(0.16);
        assert_eq!(small_distributions(p)[7][0], 0.295_090_346_557_439_9);
    }

    #[test]
    fn inversion_finds_the_first_value_above_u() {
        let rows = small_distributions(0.3);
        let f = &rows[4];
        assert_eq!(invert(f, 0.0), 0);
        assert_eq!(invert(f, f[0]), 1, "u = F(0) is past the mass of 0");
        assert_eq!(invert(f, f[0] - 1e-12), 0);
        assert_eq!(invert(f, f[2]), 3);
        assert_eq!(invert(f, 1.0 - f64::EPSILON / 2.0), 4);
    }
}
