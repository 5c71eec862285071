//! The exact sampler: `S_ij = Σ_ab Binomial(n_ijab, G_ab)`, one binomial draw per neuron pair
//! and gene pair with a non-zero trial count.
//!
//! Three methods share the draws. Most trial counts are small (at g = 64 and d = 1e5 the median
//! is 1), so draws with fewer than [`SMALL`] trials invert a table of distribution functions,
//! `F_ab,n(x) = P(Binomial(n, G_ab) ≤ x)`, prepared once per genome: one uniform `u` and the
//! branch-free count `x = #{y : F_ab,n(y) ≤ u}`. Larger counts with a mean
//! `n · min(G_ab, 1 - G_ab)` below [`WALK_BELOW`] are inverted from their mode, four at a time,
//! by [`lockstep`](super::lockstep) walks, and the rest go to BTRD in
//! [`BinomialSampler`](super::BinomialSampler).
//!
//! The trial counts depend on the genome alone, so which method draws what, and where each walk
//! starts, is worked out once per genome: a [`BlockPlan`] per block of neuron pairs. Growing a
//! network then only draws, method by method within each neuron pair, so that the branch
//! between the methods is taken once per pair rather than guessed at every draw. A genome too
//! large to keep its plans ([`PLANNED_DRAWS_MAX`]) plans each block again for every network,
//! with the same result.

use nalgebra::DMatrix;

use rand::RngExt;
use rayon::prelude::*;

use super::binomial::Hat;
use super::lockstep::{self, Lanes, PlanLanes, PlannedWalk, WALK_BELOW};
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

/// Genomes with at most this many neuron pair and gene pair combinations keep the plans of
/// all their blocks: 4 bytes per table draw, 8 per BTRD draw and 48 per walk, so at most
/// 200 MB, and 20 MB for [4, 128, 2] at g = 64 and d = 1e5. Larger genomes plan each block anew
/// for every network, with the same draws.
pub(super) const PLANNED_DRAWS_MAX: usize = 1 << 22;

/// The blocks of neuron pairs of a network, in stream order: `(connection, first pair, pairs)`
/// with pairs counted row-major within the connection.
pub(super) fn blocks(growth: &Synaptogenesis) -> Vec<(usize, usize, usize)> {
    let mut blocks = Vec::new();
    for l in 0..growth.scaled_expression.len() {
        let pairs = growth.neurons(l) * growth.neurons(l + 1);
        for first in (0..pairs).step_by(PAIRS_PER_STREAM) {
            blocks.push((l, first, PAIRS_PER_STREAM.min(pairs - first)));
        }
    }
    blocks
}

/// The draws of a block of neuron pairs, fixed by the genome: which gene pairs each neuron
/// pair draws by which method, with everything about a draw that does not depend on chance.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct BlockPlan {
    /// Per neuron pair, the number of table draws, walks and BTRD draws.
    methods: Vec<[u32; 3]>,
    /// Table draws: the rows `ab · SMALL + n` of the small-trial table.
    table: Vec<u32>,
    /// Walks, started at their modes.
    walks: Vec<PlannedWalk>,
    /// BTRD draws: gene pair and trial count.
    btrd: Vec<(u32, u32)>,
}

/// Plans every block of `growth` (in parallel).
pub(super) fn plan_all(growth: &Synaptogenesis) -> Vec<BlockPlan> {
    let gene_pairs = growth.genes * growth.genes;
    blocks(growth)
        .into_par_iter()
        .map_init(
            || PlanScratch::new(gene_pairs),
            |scratch, block| {
                let mut plan = BlockPlan::default();
                plan_block(growth, block, scratch, &mut plan);
                plan
            },
        )
        .collect()
}

/// What planning a neuron pair needs besides the genome: reused from pair to pair.
struct PlanScratch {
    /// `n_ab` for every gene pair.
    trials: Vec<f64>,
    /// Gene pairs drawn from the table (from the front) and by BTRD (from the back); one slot
    /// more than there are gene pairs.
    table_and_btrd: Vec<u32>,
    /// Gene pairs walked by the current neuron pair.
    walked: Vec<u32>,
    /// The walks of the block: gene pair and trial count.
    walks: Vec<(u32, f64)>,
    lanes: PlanLanes,
}

impl PlanScratch {
    fn new(gene_pairs: usize) -> Self {
        PlanScratch {
            trials: vec![0.0; gene_pairs],
            table_and_btrd: vec![0; gene_pairs + 1],
            walked: vec![0; gene_pairs],
            walks: Vec::new(),
            lanes: PlanLanes::default(),
        }
    }
}

/// Plans the neuron pairs of `block` (see [`blocks`]) into `plan`, which is cleared first.
fn plan_block(
    growth: &Synaptogenesis,
    (l, first_pair, pairs): (usize, usize, usize),
    scratch: &mut PlanScratch,
    plan: &mut BlockPlan,
) {
    plan.methods.clear();
    plan.table.clear();
    plan.walks.clear();
    plan.btrd.clear();
    let genes = growth.genes;
    let (pre, post) = (&growth.scaled_expression[l], &growth.expression_rows[l + 1]);
    let post_neurons = growth.neurons(l + 1);
    // Slices, not vectors: the compiler then knows that storing an index moves no buffer.
    let PlanScratch { trials, table_and_btrd, walked, walks, lanes } = scratch;
    walks.clear();
    let (trials, drawn, walked) = (&mut trials[..], &mut table_and_btrd[..], &mut walked[..]);
    for pair in first_pair..first_pair + pairs {
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
        let table = drawn[..small].iter().map(|&ab| ab * SMALL as u32 + trials[ab as usize] as u32);
        plan.table.extend(table);
        walks.extend(walked[..walking].iter().map(|&ab| (ab, trials[ab as usize])));
        // Trial counts fit in 32 bits, by the bound checked in `Synaptogenesis::new`.
        let btrd = drawn[free + 1..].iter().rev().map(|&ab| (ab, trials[ab as usize] as u32));
        plan.btrd.extend(btrd);
        let large = drawn.len() - 1 - free;
        plan.methods.push([small as u32, walking as u32, large as u32]);
    }
    // All the block's walks at once: more walks to share lanes with.
    lockstep::plan(&growth.walk_rules, walks, lanes, &mut plan.walks);
}

/// Draws the synapse counts of every network connection, in the stream order of the module
/// docs: blocks of [`PAIRS_PER_STREAM`] neuron pairs in parallel, each from its own stream,
/// with the genome's plans or, for a genome too large to keep them, planning each block anew.
pub(super) fn counts(growth: &Synaptogenesis, seed: u64, index: u64) -> Vec<DMatrix<u32>> {
    let connections = growth.scaled_expression.len();
    let mut counts: Vec<Vec<u32>> =
        (0..connections).map(|l| vec![0; growth.neurons(l) * growth.neurons(l + 1)]).collect();

    // Row-major counts of all connections in blocks, numbered in order across connections; the
    // scratch space is made once per rayon job, not per block.
    let chunks = counts.iter_mut().flat_map(|all| all.chunks_mut(PAIRS_PER_STREAM));
    let blocks: Vec<_> = chunks.zip(blocks(growth)).collect();
    let gene_pairs = growth.genes * growth.genes;
    blocks.into_par_iter().enumerate().for_each_init(
        || (DrawScratch::new(gene_pairs), PlanScratch::new(gene_pairs), BlockPlan::default()),
        |(scratch, plan_scratch, own_plan), (b, (counts, block))| {
            let plan = match &growth.plans {
                Some(plans) => &plans[b],
                None => {
                    plan_block(growth, block, plan_scratch, own_plan);
                    own_plan
                }
            };
            let mut rng = rng::substream(seed, Purpose::Synaptogenesis, index, 1 + b as u64);
            draw_block(growth, plan, counts, scratch, &mut rng);
        },
    );
    counts
        .iter()
        .enumerate()
        .map(|(l, all)| DMatrix::from_row_slice(growth.neurons(l), growth.neurons(l + 1), all))
        .collect()
}

/// What drawing a neuron pair needs besides its plan: reused from pair to pair.
struct DrawScratch {
    lanes: Lanes,
    hats: Vec<Hat>,
}

impl DrawScratch {
    fn new(gene_pairs: usize) -> Self {
        DrawScratch { lanes: Lanes::with_capacity(gene_pairs), hats: vec![Hat::EMPTY; gene_pairs] }
    }
}

/// The counts `S_ij` of the neuron pairs of a block from its plan, written into `counts`.
fn draw_block(
    growth: &Synaptogenesis,
    plan: &BlockPlan,
    counts: &mut [u32],
    scratch: &mut DrawScratch,
    rng: &mut Stream,
) {
    let (mut table, mut walks, mut btrd) = (&plan.table[..], &plan.walks[..], &plan.btrd[..]);
    for (synapses, &[small, walking, large]) in counts.iter_mut().zip(&plan.methods) {
        let (pair_table, rest) = table.split_at(small as usize);
        let (pair_walks, rest_walks) = walks.split_at(walking as usize);
        let (pair_btrd, rest_btrd) = btrd.split_at(large as usize);
        (table, walks, btrd) = (rest, rest_walks, rest_btrd);

        // Method by method: a branch per method rather than per draw.
        let mut sum = 0u64;
        for &row in pair_table {
            sum += invert(&growth.small_trials[row as usize], rng.random());
        }
        sum += lockstep::draw(&growth.rules, pair_walks, &mut scratch.lanes, rng);
        // BTRD: every hat first, then the draws.
        for (hat, &(ab, n)) in scratch.hats.iter_mut().zip(pair_btrd) {
            *hat = growth.rules[ab as usize].hat(n as u64);
        }
        for hat in &scratch.hats[..pair_btrd.len()] {
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
