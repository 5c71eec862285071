//! The exact sampler: `S_ij = Σ_ab Binomial(n_ijab, G_ab)`, one binomial draw per neuron pair
//! and gene pair with a non-zero trial count.
//!
//! Most trial counts are small (at g = 64 and d = 1e5 the median is 1), so draws with fewer than
//! [`SMALL`] trials invert a table of distribution functions, `F_ab,n(x) = P(Binomial(n, G_ab)
//! ≤ x)`, prepared once per genome: one uniform `u` and the branch-free count
//! `x = #{y : F_ab,n(y) ≤ u}`. Larger counts with a mean `n · min(G_ab, 1 - G_ab)` below
//! [`WALK_BELOW`] are inverted four at a time by [`lockstep`](super::lockstep) walks, and the
//! rest go to BTRD in [`BinomialSampler`](super::BinomialSampler). Each neuron pair sorts its
//! gene pairs into the three methods first and then draws method by method, so that the branch
//! between the methods is taken once per pair rather than guessed at every draw.

use nalgebra::DMatrix;

use rand::RngExt;
use rayon::prelude::*;

use super::binomial::{Hat, count};
use super::lockstep::{self, WALK_BELOW, Walks};
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

/// Neuron pairs drawn from one stream, a unit of parallel work: small enough that the units of
/// a [4, 128, 2] network keep two cores busy to the end, large enough that making a stream
/// costs nothing in comparison.
pub(super) const PAIRS_PER_STREAM: usize = 32;

/// Draws the synapse counts of every network connection, in the stream order of the module
/// docs: blocks of [`PAIRS_PER_STREAM`] neuron pairs in parallel, each from its own stream.
pub(super) fn counts(growth: &Synaptogenesis, seed: u64, index: u64) -> Vec<DMatrix<u32>> {
    let genes = growth.genes;
    let shape = |l: usize| {
        (growth.scaled_expression[l].len() / genes, growth.expression_rows[l + 1].len() / genes)
    };
    let connections = growth.scaled_expression.len();
    let mut counts: Vec<Vec<u32>> = (0..connections)
        .map(|l| {
            let (pre_neurons, post_neurons) = shape(l);
            vec![0; pre_neurons * post_neurons]
        })
        .collect();

    // Row-major counts of all connections in blocks, numbered in order across connections; the
    // scratch space is made once per rayon job, not per block.
    let blocks: Vec<_> = counts
        .iter_mut()
        .enumerate()
        .flat_map(|(l, all)| {
            let chunks = all.chunks_mut(PAIRS_PER_STREAM).enumerate();
            chunks.map(move |(b, block)| (l, b * PAIRS_PER_STREAM, block))
        })
        .collect();
    blocks.into_par_iter().enumerate().for_each_init(
        || Scratch::new(genes * genes),
        |scratch, (b, (l, first_pair, block))| {
            let mut rng = rng::substream(seed, Purpose::Synaptogenesis, index, 1 + b as u64);
            draw_block(growth, l, first_pair, block, scratch, &mut rng);
        },
    );
    counts
        .iter()
        .enumerate()
        .map(|(l, all)| {
            let (pre_neurons, post_neurons) = shape(l);
            DMatrix::from_row_slice(pre_neurons, post_neurons, all)
        })
        .collect()
}

/// What a neuron pair's draws need besides the genome: reused from pair to pair.
struct Scratch {
    /// `n_ab` for every gene pair.
    trials: Vec<f64>,
    /// Gene pairs drawn from the table (from the front) and by BTRD (from the back); one slot
    /// more than there are gene pairs.
    table_and_btrd: Vec<u32>,
    /// Gene pairs drawn by lockstep walks.
    walked: Vec<u32>,
    walks: Walks,
    /// The BTRD hats of the gene pairs at the back of `table_and_btrd`, in gene-pair order.
    hats: Vec<Hat>,
}

impl Scratch {
    fn new(gene_pairs: usize) -> Self {
        Scratch {
            trials: vec![0.0; gene_pairs],
            table_and_btrd: vec![0; gene_pairs + 1],
            walked: vec![0; gene_pairs],
            walks: Walks::with_capacity(gene_pairs),
            hats: vec![Hat::EMPTY; gene_pairs],
        }
    }
}

/// The counts `S_ij` of connection `l` for the neuron pairs from `first_pair` on (row-major),
/// written into `block`.
fn draw_block(
    growth: &Synaptogenesis,
    l: usize,
    first_pair: usize,
    block: &mut [u32],
    scratch: &mut Scratch,
    rng: &mut Stream,
) {
    let genes = growth.genes;
    let (pre, post) = (&growth.scaled_expression[l], &growth.expression_rows[l + 1]);
    let post_neurons = post.len() / genes;
    // Slices, not vectors: the compiler then knows that storing an index moves no buffer.
    let Scratch { trials, table_and_btrd, walked, walks, hats } = scratch;
    let (trials, drawn, walked) = (&mut trials[..], &mut table_and_btrd[..], &mut walked[..]);
    for (pair, synapses) in (first_pair..).zip(block.iter_mut()) {
        let (i, j) = (pair / post_neurons, pair % post_neurons);
        pair_trials(&pre[i * genes..][..genes], &post[j * genes..][..genes], trials);

        // The gene pairs with trials sorted into the methods without branches: those with
        // fewer than SMALL trials to the front of `drawn`, in order, those for BTRD to its
        // back, in reverse order, the others to `walked`. `drawn` has a slot more than there
        // are gene pairs, so that `small` and `free` (the back's next slot) point to free
        // slots, possibly the same one.
        let (mut small, mut free, mut walking) = (0, drawn.len() - 1, 0);
        for (ab, (&n, rule)) in trials.iter().zip(&growth.walk_rules).enumerate() {
            let is_small = n < SMALL as f64;
            let is_large = n * rule.smaller >= WALK_BELOW;
            drawn[small] = ab as u32;
            drawn[free] = ab as u32;
            walked[walking] = ab as u32;
            small += (n > 0.0 && is_small) as usize;
            free -= is_large as usize;
            walking += (!is_small && !is_large) as usize;
        }

        // Method by method: a branch per method rather than per draw.
        let mut sum = 0u64;
        for &ab in &drawn[..small] {
            let ab = ab as usize;
            let n = count(trials[ab]) as usize;
            sum += invert(&growth.small_trials[ab * SMALL + n], rng.random());
        }
        let rules = (&growth.walk_rules[..], &growth.rules[..]);
        sum += lockstep::draw(rules, &walked[..walking], trials, walks, rng);
        // BTRD: every hat first, then the draws.
        let large = drawn.len() - 1 - free;
        for (hat, &ab) in hats.iter_mut().zip(drawn[free + 1..].iter().rev()) {
            let ab = ab as usize;
            *hat = growth.rules[ab].hat(count(trials[ab]));
        }
        for hat in &hats[..large] {
            sum += hat.draw(rng);
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
