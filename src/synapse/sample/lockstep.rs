//! Inversion of moderate binomial draws, four at a time.
//!
//! Draws with at least [`SMALL`](super::exact::SMALL) trials and a mean `n · min(p, 1 - p)`
//! below [`WALK_BELOW`] are inverted by walking up the distribution function from 0:
//! `f(0) = qⁿ`, `f(k) = f(k - 1) · r (n + 1 - k) / k` with `r = p / q`, and the draw is the
//! number of cumulative masses `F(k) = f(0) + … + f(k)` that are at most the uniform `u`, the
//! smallest `x` with `u < F(x)`. One draw at a time, that walk is a chain of dependent
//! multiplications ended by a branch that the processor cannot predict. Here four draws walk
//! in lockstep, one per lane of a vector: each step advances every lane, counts the lanes whose
//! cumulative mass is still at most their uniform, and the walk ends once no lane is. A
//! finished lane keeps stepping without effect, since `F` never decreases. The divisions by
//! `k` are multiplications by a table of `1 / k`, shared by the lanes, and `qⁿ` is
//! [`exp_negative`]`(n ln q)`.
//!
//! Each walk is plain `f64` multiplication and addition in a fixed order, so the counts are the
//! same with or without AVX2 (the vector version is only a compilation of the same code, and a
//! test compares them). The masses carry a relative rounding error of a few ulp per step, below
//! 1e-13 over the longest walks. A lane whose walk passes `min(n, WALK_CAP)`, which only
//! rounding can cause (the computed total mass below `u`), is drawn again by the exact
//! [`BinomialSampler`](super::BinomialSampler) with a new uniform.

use rand::RngExt;

use super::BinomialSampler;
use super::binomial::count;
use crate::net::exp_negative;
use crate::rng::Stream;

/// Draws with a mean `n · min(p, 1 - p)` below this walk in lockstep; from it on, BTRD (which
/// costs about as much as a lockstep walk of 50 steps).
pub(super) const WALK_BELOW: f64 = 48.0;

/// Lanes that walk together: four `f64` fill a 256-bit vector.
const LANES: usize = 4;

/// Steps taken between two checks whether every lane has finished.
const UNROLL: usize = 4;

/// The longest walk. With a mean below 48, `P(X > 400)` is below 1e-150: only a walk that
/// rounding kept from ending gets there.
const WALK_CAP: usize = 400;

/// `1 / k` for every step `k` a walk may take (index 0 unused).
static INVERSES: [f64; WALK_CAP + UNROLL + 1] = {
    let mut inverses = [0.0; WALK_CAP + UNROLL + 1];
    let mut k = 1;
    while k < inverses.len() {
        inverses[k] = 1.0 / k as f64;
        k += 1;
    }
    inverses
};

/// What a lockstep walk needs of a rule probability `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct WalkRule {
    /// `min(p, 1 - p)`: the mean per trial of the side that is walked.
    pub smaller: f64,
    /// `r = min(p, 1 - p) / (1 - min(p, 1 - p))`.
    ratio: f64,
    /// `ln(1 - min(p, 1 - p))`.
    log_q: f64,
    /// 1 if `p > 1/2` (the walk counts failures), else 0.
    flip: f64,
}

impl WalkRule {
    /// The walk of `Binomial(·, probability)`.
    pub fn new(probability: f64) -> Self {
        let flipped = probability > 0.5;
        let smaller = if flipped { 1.0 - probability } else { probability };
        let q = 1.0 - smaller;
        WalkRule { smaller, ratio: smaller / q, log_q: q.ln(), flip: flipped as u8 as f64 }
    }
}

/// Scratch space for the walks of one neuron pair: one slot per draw, padded to whole groups
/// of lanes. Reused from pair to pair.
#[derive(Debug, Clone, Default)]
pub(super) struct Walks {
    /// `n + 1`.
    trials_plus_one: Vec<f64>,
    ratio: Vec<f64>,
    /// `n ln q`, then `f(0) = qⁿ`.
    start: Vec<f64>,
    uniform: Vec<f64>,
    /// The walks' results: `#{k : F(k) ≤ u}`.
    count: Vec<f64>,
}

impl Walks {
    /// Room for `draws` walks.
    pub fn with_capacity(draws: usize) -> Self {
        let slots = draws.next_multiple_of(LANES);
        let column = || vec![0.0; slots];
        Walks {
            trials_plus_one: column(),
            ratio: column(),
            start: column(),
            uniform: column(),
            count: column(),
        }
    }
}

/// The sum of one draw from `Binomial(trials[ab], p_ab)` for every gene pair `ab` of `draws`,
/// each with at least `SMALL` trials and a mean below [`WALK_BELOW`]. The uniforms are drawn
/// from `rng` in the order of `draws`, then any redraws in the same order.
pub(super) fn draw(
    (rules, samplers): (&[WalkRule], &[BinomialSampler]),
    draws: &[u32],
    trials: &[f64],
    walks: &mut Walks,
    rng: &mut Stream,
) -> u64 {
    if draws.is_empty() {
        return 0;
    }
    let slots = draws.len().next_multiple_of(LANES);
    for (slot, &ab) in draws.iter().enumerate() {
        let (rule, n) = (&rules[ab as usize], trials[ab as usize]);
        walks.trials_plus_one[slot] = n + 1.0;
        walks.ratio[slot] = rule.ratio;
        walks.start[slot] = n * rule.log_q;
        walks.uniform[slot] = rng.random();
    }
    // Padding lanes: no trials, f(0) = 1 > u, so they count 0 and never hold the walk up.
    for slot in draws.len()..slots {
        walks.trials_plus_one[slot] = 1.0;
        walks.ratio[slot] = 0.0;
        walks.start[slot] = 0.0;
        walks.uniform[slot] = 0.0;
    }
    walk_all(walks, slots);

    let mut sum = 0;
    for (slot, &ab) in draws.iter().enumerate() {
        let (rule, n) = (&rules[ab as usize], trials[ab as usize]);
        let x = walks.count[slot];
        sum += if x <= n.min(WALK_CAP as f64) {
            count(x + rule.flip * (n - 2.0 * x))
        } else {
            samplers[ab as usize].sample(count(n), rng)
        };
    }
    sum
}

/// Every walk of `walks[..slots]`, with AVX2 where the processor has it: the same operations,
/// so the same results.
fn walk_all(walks: &mut Walks, slots: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        unsafe { walk_all_avx2(walks, slots) };
        return;
    }
    walk_all_portable(walks, slots);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn walk_all_avx2(walks: &mut Walks, slots: usize) {
    walk_all_portable(walks, slots);
}

#[inline(always)]
fn walk_all_portable(walks: &mut Walks, slots: usize) {
    // qⁿ for all draws first: independent exponentials pipeline, where one per walk would sit
    // on the walk's critical path.
    for start in &mut walks.start[..slots] {
        *start = exp_negative(*start);
    }
    let lanes = |column: &[f64], group: usize| -> [f64; LANES] {
        column[group..group + LANES].try_into().expect("a whole group of lanes")
    };
    for group in (0..slots).step_by(LANES) {
        let counts = walk_lanes(
            lanes(&walks.trials_plus_one, group),
            lanes(&walks.ratio, group),
            lanes(&walks.start, group),
            lanes(&walks.uniform, group),
        );
        walks.count[group..group + LANES].copy_from_slice(&counts);
    }
}

/// Four walks in lockstep: for each lane, `#{k : F(k) ≤ u}` (more than `min(n, WALK_CAP)`
/// only when rounding kept the walk from ending).
#[inline(always)]
fn walk_lanes(
    trials_plus_one: [f64; LANES],
    ratio: [f64; LANES],
    start: [f64; LANES],
    uniform: [f64; LANES],
) -> [f64; LANES] {
    // Counted in integers: an integer addition is not the latency of a floating-point one.
    let (mut mass, mut cumulative, mut count) = (start, start, [0u64; LANES]);
    let mut k = 1;
    loop {
        for _ in 0..UNROLL {
            // F(k - 1) ≤ u counts k - 1; then f(k) and F(k). Past n the mass is 0 for good.
            let (step, inverse) = (k as f64, INVERSES[k]);
            for lane in 0..LANES {
                count[lane] += (cumulative[lane] <= uniform[lane]) as u64;
                mass[lane] *= ratio[lane] * (trials_plus_one[lane] - step) * inverse;
                cumulative[lane] += mass[lane];
            }
            k += 1;
        }
        let finished = (0..LANES).all(|lane| cumulative[lane] > uniform[lane]);
        if finished || k > WALK_CAP {
            break;
        }
    }
    // The last cumulative mass computed: counts only in a walk held up by rounding.
    for lane in 0..LANES {
        count[lane] += (cumulative[lane] <= uniform[lane]) as u64;
    }
    count.map(|c| c as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};
    use statrs::distribution::{Binomial, Discrete};

    /// `m` sums of `batch` lockstep draws from `Binomial(n, p)`, each made by one call (so
    /// with `batch` walks in groups of four, the last one padded): `Binomial(batch · n, p)`.
    fn sums(n: u64, p: f64, m: usize, batch: usize, seed: u64) -> Vec<u64> {
        let (rules, samplers) = ([WalkRule::new(p)], [BinomialSampler::new(p)]);
        let (trials, draws) = ([n as f64], vec![0u32; batch]);
        let mut walks = Walks::with_capacity(batch);
        let mut rng = rng::stream(seed, Purpose::Synaptogenesis, 0);
        (0..m).map(|_| draw((&rules, &samplers), &draws, &trials, &mut walks, &mut rng)).collect()
    }

    #[test]
    fn walks_invert_the_distribution_function() {
        // Four trials with p = 0.7 walk the failures, Binomial(4, 0.3): F(0) = 0.7⁴ = 0.2401,
        // F(1) = 0.6517, F(2) = 0.9163.
        let rule = WalkRule::new(0.7);
        let f0 = exp_negative(4.0 * rule.log_q);
        assert!((f0 - 0.2401).abs() < 1e-15);
        let counts =
            walk_lanes([5.0; LANES], [rule.ratio; LANES], [f0; LANES], [0.0, f0 - 1e-12, f0, 0.8]);
        assert_eq!(counts, [0.0, 0.0, 1.0, 2.0]);
        // A uniform at or above the total mass walks past n: drawn again.
        let counts = walk_lanes([5.0; LANES], [rule.ratio; LANES], [f0; LANES], [1.0; LANES]);
        assert!(counts.iter().all(|&c| c > 4.0));
    }

    /// Pearson's χ² test of sums of 1 to 36 walks against the exact mass function (200 000
    /// sums, cells merged until each expects 5), at level 1e-4, for means per draw from 1.6 to
    /// just below `WALK_BELOW`, both sides of p = 1/2, tiny p with millions of trials, and
    /// p = 0 and 1.
    #[test]
    fn walks_have_the_binomial_distribution() {
        for (case, &(n, p)) in
            [(8u64, 0.2), (20, 0.5), (60, 0.7), (200, 0.2), (95, 0.5), (3_000_000, 1e-5)]
                .iter()
                .enumerate()
        {
            let (m, batch) = (200_000, 1 + case * 7);
            let values = sums(n, p, m, batch, 300 + case as u64);
            let exact = Binomial::new(p, n * batch as u64).unwrap();
            let support = values.iter().copied().max().unwrap() as usize;
            let mut observed = vec![0usize; support + 1];
            for v in values {
                observed[v as usize] += 1;
            }
            let (mut obs_cells, mut exp_cells) = (Vec::new(), Vec::new());
            let (mut obs, mut exp) = (0usize, 0.0);
            for (x, &count) in observed.iter().enumerate() {
                obs += count;
                exp += exact.pmf(x as u64) * m as f64;
                if exp >= 5.0 {
                    obs_cells.push(obs);
                    exp_cells.push(exp);
                    (obs, exp) = (0, 0.0);
                }
            }
            *obs_cells.last_mut().unwrap() += obs;
            *exp_cells.last_mut().unwrap() += exp;
            let total: f64 = exp_cells.iter().sum();
            exp_cells.iter_mut().for_each(|e| *e *= m as f64 / total);
            let (statistic, p_value) =
                statrs::stats_tests::chisquare::chisquare(&obs_cells, Some(&exp_cells), None)
                    .unwrap();
            assert!(p_value > 1e-4, "n={n} p={p}: χ² = {statistic}, p-value {p_value}");
        }
        assert!(sums(50, 0.0, 100, 3, 1).iter().all(|&x| x == 0));
        assert!(sums(50, 1.0, 100, 3, 1).iter().all(|&x| x == 150));
    }

    /// Mixed lanes: a group of different trial counts and probabilities gives, lane by lane,
    /// the draws each makes alone with the same uniform.
    #[test]
    fn lanes_do_not_interact() {
        let cases = [(9.0, 0.3), (120.0, 0.35), (40.0, 0.9), (17.0, 0.05)];
        let uniforms = [0.31, 0.97, 0.5, 0.02];
        let column = |f: &dyn Fn(usize) -> f64| -> [f64; LANES] { std::array::from_fn(f) };
        let rules: Vec<_> = cases.iter().map(|&(_, p)| WalkRule::new(p)).collect();
        let together = walk_lanes(
            column(&|l| cases[l].0 + 1.0),
            column(&|l| rules[l].ratio),
            column(&|l| exp_negative(cases[l].0 * rules[l].log_q)),
            uniforms,
        );
        for lane in 0..LANES {
            let alone = walk_lanes(
                [cases[lane].0 + 1.0, 1.0, 1.0, 1.0],
                [rules[lane].ratio, 0.0, 0.0, 0.0],
                [exp_negative(cases[lane].0 * rules[lane].log_q), 1.0, 1.0, 1.0],
                [uniforms[lane], 0.0, 0.0, 0.0],
            );
            assert_eq!(together[lane], alone[0], "lane {lane}");
        }
    }

    /// The vector and the portable compilations give the same counts, bit for bit.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn vector_and_portable_walks_agree() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let rules: Vec<_> = [0.02, 0.3, 0.5, 0.77, 0.999].map(WalkRule::new).to_vec();
        let mut rng = rng::stream(9, Purpose::Synaptogenesis, 0);
        let slots = 4_000;
        let mut walks = Walks::with_capacity(slots);
        for slot in 0..slots {
            let rule = &rules[slot % rules.len()];
            let n = (8.0 + (slot % 97) as f64).min(WALK_BELOW / rule.smaller);
            walks.trials_plus_one[slot] = n + 1.0;
            walks.ratio[slot] = rule.ratio;
            walks.start[slot] = n * rule.log_q;
            walks.uniform[slot] = rng.random();
        }
        let mut portable = walks.clone();
        // SAFETY: AVX2 is supported, checked above.
        unsafe { walk_all_avx2(&mut walks, slots) };
        walk_all_portable(&mut portable, slots);
        assert_eq!(walks.count, portable.count);
        assert_eq!(walks.start, portable.start);
    }
}
