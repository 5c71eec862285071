//! The exact sampler: `S_ij = Σ_ab Binomial(n_ijab, G_ab)`, one binomial draw per neuron pair
//! and gene pair with a non-zero trial count.
//!
//! Most trial counts are small (at g = 64 and d = 1e5 the median is 1), so draws with fewer than
//! [`SMALL`] trials invert a table of distribution functions, `F_ab,n(x) = P(Binomial(n, G_ab)
//! ≤ x)`, prepared once per genome: one uniform `u` and the branch-free count
//! `x = #{y : F_ab,n(y) ≤ u}`. Larger counts go to [`BinomialSampler`](super::BinomialSampler).
//! Each neuron pair draws all its table draws first and then the others, so that the branch
//! between the methods is taken once per pair rather than guessed at every draw (5 % faster at
//! g = 16).

use nalgebra::DMatrix;

use rand::RngExt;
use rayon::prelude::*;

use super::binomial::count;
use super::{Synaptogenesis, pair_trials};
use crate::rng::{self, Purpose, Stream};

/// Trial counts below this are drawn from the table; a row of it fills one cache line.
pub(super) const SMALL: usize = 8;

/// The distribution functions of `Binomial(n, p)` for `n = 0..SMALL`, one row per `n`:
/// `F_n(x) = Σ_{y ≤ x} C(n, y) pʸ (1 - p)ⁿ⁻ʸ` for `x < n`, and exactly 1 from `x = n` on.
pub(super) fn small_distributions(p: f64) -> [[f64; SMALL]; SMALL] {
    // Powers by repeated products rather than `powi`, whose result depends on whether the
    // compiler evaluates it.
    let q = 1.0 - p;
    let (mut p_powers, mut q_powers) = ([1.0; SMALL], [1.0; SMALL]);
    for k in 1..SMALL {
        p_powers[k] = p_powers[k - 1] * p;
        q_powers[k] = q_powers[k - 1] * q;
    }
    let mut rows = [[1.0; SMALL]; SMALL];
    for (n, row) in rows.iter_mut().enumerate() {
        let mut binomial = 1.0; // C(n, x)
        let mut cumulative = 0.0;
        for (x, value) in row.iter_mut().enumerate().take(n) {
            cumulative += binomial * p_powers[x] * q_powers[n - x];
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

/// Draws the synapse counts of every network connection, in the stream order of the module
/// docs: pre-synaptic neurons (rows) in parallel, each from its own stream.
pub(super) fn counts(growth: &Synaptogenesis, seed: u64, index: u64) -> Vec<DMatrix<u32>> {
    let genes = growth.genes;
    let mut first_row = 0;
    let mut all = Vec::with_capacity(growth.scaled_expression.len());
    for (l, pre) in growth.scaled_expression.iter().enumerate() {
        let post = &growth.expression_rows[l + 1];
        let (pre_neurons, post_neurons) = (pre.len() / genes, post.len() / genes);

        // Row-major counts, one pre-synaptic neuron per chunk; the scratch buffers are made
        // once per rayon job, not per row.
        let mut counts = vec![0u32; pre_neurons * post_neurons];
        counts
            .par_chunks_mut(post_neurons)
            .zip(pre.par_chunks_exact(genes))
            .enumerate()
            .for_each_init(
                || (vec![0.0; genes * genes], vec![0u32; genes * genes + 1]),
                |(trials, drawn), (i, (row, pre_genes))| {
                    let row_id = 1 + (first_row + i) as u64;
                    let mut rng = rng::substream(seed, Purpose::Synaptogenesis, index, row_id);
                    draw_row(growth, pre_genes, post, row, trials, drawn, &mut rng);
                },
            );
        all.push(DMatrix::from_row_slice(pre_neurons, post_neurons, &counts));
        first_row += pre_neurons;
    }
    all
}

/// The counts `S_ij` of one pre-synaptic neuron `i` (trial counts `κ E_i` in `pre_genes`) to
/// every post-synaptic neuron `j` (rows of `post`), written into `row`.
fn draw_row(
    growth: &Synaptogenesis,
    pre_genes: &[f64],
    post: &[f64],
    row: &mut [u32],
    trials: &mut [f64],
    drawn: &mut [u32],
    rng: &mut Stream,
) {
    for (synapses, post_genes) in row.iter_mut().zip(post.chunks_exact(growth.genes)) {
        pair_trials(pre_genes, post_genes, trials);

        // The gene pairs with trials gathered without branches: those with fewer than SMALL
        // trials from the front of `drawn`, in order, the others from its back, in reverse
        // order. `drawn` has a slot more than there are gene pairs, so that `small` and `free`
        // (the back's next slot) point to free slots, possibly the same one.
        let (mut small, mut free) = (0, drawn.len() - 1);
        for (ab, &n) in trials.iter().enumerate() {
            let is_large = n >= SMALL as f64;
            drawn[small] = ab as u32;
            drawn[free] = ab as u32;
            small += (n > 0.0 && !is_large) as usize;
            free -= is_large as usize;
        }

        // Small counts first, then large ones: a branch per method rather than per draw.
        let mut sum = 0u64;
        for &ab in &drawn[..small] {
            let ab = ab as usize;
            let n = count(trials[ab]) as usize;
            sum += invert(&growth.small_trials[ab * SMALL + n], rng.random());
        }
        for &ab in drawn[free + 1..].iter().rev() {
            let ab = ab as usize;
            sum += growth.rules[ab].sample(count(trials[ab]), rng);
        }
        // Fits, by the bound checked in `Synaptogenesis::new`.
        *synapses = sum as u32;
    }
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
        // Within an ulp of exact rational arithmetic: 0.84⁷ = 0.29509034655744…
        assert_eq!(small_distributions(0.16)[7][0], 0.295_090_346_557_439_9);
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
