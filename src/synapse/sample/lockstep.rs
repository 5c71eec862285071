//! Inversion of moderate binomial draws from the mode, four at a time.
//!
//! Draws with at least [`SMALL`](super::exact::SMALL) trials and a mean `n · min(p, 1 - p)`
//! below [`WALK_BELOW`] are drawn by inversion: with one uniform `u`, the draw is the smallest
//! `x` with `u < F(x)`, where `F` is the distribution function, walked through the mass
//! function's recursion `f(x + 1) = f(x) · r (n - x) / (x + 1)` (`r = p / q`, for the smaller
//! side `p = min(p, 1 - p)`; the draw counts failures where `p > 1/2`).
//!
//! Walking from 0 takes about `n p + 1` steps. Trial counts are fixed by the genome, though, so
//! the walk to the mode `m = ⌊(n + 1) p⌋` can be taken once per genome ([`plan`]), leaving
//! `F(m - 1)` and `f(m)` to start every later draw from ([`draw`]): walking up from `m` if
//! `u ≥ F(m - 1)`, else down from `m - 1`, about `0.8 √(n p q) + 1` steps.
//!
//! One draw at a time, a walk is a chain of dependent operations ended by a branch that the
//! processor cannot predict. Here walks go in lockstep, one per lane of a vector (four for
//! drawing, eight in two vectors for planning): each step advances every lane, and a drawing
//! walk ends once no lane is short of its draw. A finished lane keeps stepping without effect,
//! since the cumulative mass only moves away from its uniform. The planning walks from 0 share
//! their step `k` and so a table of `1 / k`, and take their walks by mode, so that walks of a
//! length share a vector; the drawing walks divide.
//!
//! Each walk is plain `f64` arithmetic in a fixed order, so the draws are the same with or
//! without AVX2: the vector versions, written with AVX2 intrinsics, do lane by lane the
//! operations of the portable ones, and tests compare them. The masses carry a relative rounding error of a few ulp per step, and `qⁿ` is
//! [`exp_negative`]`(n ln q)` (2 ulp). A walk up that passes `n`, or any walk still going after
//! [`WALK_CAP`] steps, which only rounding can cause (a uniform above the computed total mass),
//! is drawn again by the exact [`BinomialSampler`](super::BinomialSampler) with a new uniform.

use rand::RngExt;

use super::BinomialSampler;
use super::binomial::count;
use crate::net::exp_negative;
use crate::rng::Stream;

/// Draws with a mean `n · min(p, 1 - p)` below this are walked; from it on, BTRD.
pub(super) const WALK_BELOW: f64 = 48.0;

/// Lanes that walk together: four `f64` fill a 256-bit vector.
const LANES: usize = 4;

/// Steps taken between two checks whether every lane has finished.
const UNROLL: usize = 2;

/// The longest walk. From the mode, with a mean below 48, a walk this long has a probability
/// below 1e-100; only a walk that rounding kept from ending gets there.
const WALK_CAP: usize = 400;

/// `1 / k` for the planning walks' steps `k ≤ m` (index 0 unused).
static INVERSES: [f64; WALK_BELOW as usize + 2] = {
    let mut inverses = [0.0; WALK_BELOW as usize + 2];
    // m = ⌊(n + 1) p⌋ ≤ n p + p < WALK_BELOW + 1.
    let mut k = 1;
    while k < inverses.len() {
        inverses[k] = 1.0 / k as f64;
        k += 1;
    }
    inverses
};

/// What a walk needs of a rule probability `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct WalkRule {
    /// `min(p, 1 - p)`: the success probability of the side that is walked.
    pub smaller: f64,
    /// `r = min(p, 1 - p) / (1 - min(p, 1 - p))`.
    ratio: f64,
    /// `ln(1 - min(p, 1 - p))`.
    log_q: f64,
    /// Whether `p > 1/2` (the walk counts failures).
    flipped: bool,
}

impl WalkRule {
    /// The walk of `Binomial(·, probability)`.
    pub fn new(probability: f64) -> Self {
        let flipped = probability > 0.5;
        let smaller = if flipped { 1.0 - probability } else { probability };
        let q = 1.0 - smaller;
        WalkRule { smaller, ratio: smaller / q, log_q: (-smaller).ln_1p(), flipped }
    }

    /// The mode `⌊(n + 1) p⌋` of the walked side, where walks start.
    #[inline(always)]
    fn mode(&self, trials: u32) -> u32 {
        count((trials as f64 + 1.0) * self.smaller) as u32
    }
}

/// One walk prepared from the genome: its gene pair, trial count and start at the mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PlannedWalk {
    /// `F(m - 1)`, the mass below the mode.
    below: f64,
    /// `f(m)`, the mass at the mode.
    at: f64,
    /// `-f(m - 1)`, the first step down (NaN where `p = 0`, and unused there, as `m = 0`).
    first_down: f64,
    /// `r = p / q` of the walked side.
    ratio: f64,
    /// The mode `m`.
    mode: u32,
    /// The gene pair `a · g + b`.
    gene_pair: u32,
    /// The trial count `n`.
    trials: u32,
    /// Whether the walk counts failures (`p > 1/2`).
    flipped: bool,
}

impl PlannedWalk {
    /// A lane without a walk: up from a cumulative mass of 0 with a mass of 2 next, which
    /// passes any uniform at once, and nothing after.
    const PADDING: PlannedWalk = PlannedWalk {
        below: 0.0,
        at: 2.0,
        first_down: 0.0,
        ratio: 0.0,
        mode: 0,
        gene_pair: 0,
        trials: 0,
        flipped: false,
    };
}

/// Scratch space for the walks of one neuron pair; reused from pair to pair.
#[derive(Debug, Clone, Default)]
pub(super) struct Lanes {
    /// One uniform per walk.
    uniforms: Vec<f64>,
    /// Per walk, the steps that ended short of the draw, and whether the walk was still going
    /// when the lockstep ended.
    steps: Vec<(u64, bool)>,
}

impl Lanes {
    /// Room for `walks` walks.
    pub fn with_capacity(walks: usize) -> Self {
        Lanes { uniforms: Vec::with_capacity(walks), steps: Vec::with_capacity(walks) }
    }
}

/// The modes a walk can have: `m = ⌊(n + 1) p⌋ < n p + 1 < WALK_BELOW + 1`.
const MODES: usize = WALK_BELOW as usize + 1;

/// Lanes that plan together: two vectors of four, so that two chains of dependent operations
/// interleave.
const PLAN_LANES: usize = 8;

/// Scratch space for planning walks; reused from block to block, growing as needed.
#[derive(Debug, Clone, Default)]
pub(super) struct PlanLanes {
    trials_plus_one: Vec<f64>,
    ratio: Vec<f64>,
    /// `n ln q`, then `f(0) = qⁿ`.
    start: Vec<f64>,
    mode: Vec<f64>,
    below: Vec<f64>,
    at: Vec<f64>,
    /// The walks by mode: lane `slot` plans walk `order[slot]`.
    order: Vec<usize>,
}

/// Plans `walks`, given as gene pair and trial count (at least `SMALL`, with a mean below
/// [`WALK_BELOW`]), appending them to `planned` in order: each walks from 0 to its mode, eight
/// in lockstep. The lanes take the walks by mode, so that walks of a length walk together.
pub(super) fn plan(
    rules: &[WalkRule],
    walks: &[(u32, f64)],
    lanes: &mut PlanLanes,
    planned: &mut Vec<PlannedWalk>,
) {
    // The planned walks in order, with their modes, to be completed below.
    let first_walk = planned.len();
    planned.extend(walks.iter().map(|&(ab, n)| {
        let rule = &rules[ab as usize];
        PlannedWalk {
            below: 0.0,
            at: 0.0,
            first_down: 0.0,
            ratio: rule.ratio,
            mode: rule.mode(n as u32),
            gene_pair: ab,
            trials: n as u32,
            flipped: rule.flipped,
        }
    }));
    let planned = &mut planned[first_walk..];

    // A counting sort by mode: lane `slot` takes walk `order[slot]`.
    let mut first = [0; MODES + 1];
    for walk in planned.iter() {
        first[walk.mode as usize + 1] += 1;
    }
    for m in 0..MODES {
        first[m + 1] += first[m];
    }
    lanes.order.resize(walks.len(), 0);
    for (index, walk) in planned.iter().enumerate() {
        let slot = &mut first[walk.mode as usize];
        lanes.order[*slot] = index;
        *slot += 1;
    }

    let slots = walks.len().next_multiple_of(PLAN_LANES);
    for column in [&mut lanes.trials_plus_one, &mut lanes.ratio, &mut lanes.start, &mut lanes.mode]
    {
        column.resize(slots, 0.0);
    }
    lanes.below.resize(slots, 0.0);
    lanes.at.resize(slots, 0.0);
    for (slot, &index) in lanes.order.iter().enumerate() {
        let walk = &planned[index];
        let (rule, n) = (&rules[walk.gene_pair as usize], walk.trials as f64);
        lanes.trials_plus_one[slot] = n + 1.0;
        lanes.ratio[slot] = walk.ratio;
        lanes.start[slot] = n * rule.log_q;
        lanes.mode[slot] = walk.mode as f64;
    }
    // Padding lanes: no trials, mode 0.
    for slot in walks.len()..slots {
        lanes.trials_plus_one[slot] = 1.0;
        lanes.ratio[slot] = 0.0;
        lanes.start[slot] = 0.0;
        lanes.mode[slot] = 0.0;
    }
    walk_all_to_modes(lanes, slots);

    for (slot, &index) in lanes.order.iter().enumerate() {
        let walk = &mut planned[index];
        let (at, n, m) = (lanes.at[slot], walk.trials as f64, walk.mode as f64);
        let ratio = lanes.ratio[slot];
        walk.below = lanes.below[slot];
        walk.at = at;
        walk.first_down = -(at * m / (ratio * (n - m + 1.0)));
    }
}

/// Every walk of `lanes[..slots]` from 0 to its mode, with AVX2 where the processor has it:
/// the same operations, so the same results.
fn walk_all_to_modes(lanes: &mut PlanLanes, slots: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        unsafe { walk_all_to_modes_avx2(lanes, slots) };
        return;
    }
    walk_all_to_modes_portable(lanes, slots);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn walk_all_to_modes_avx2(lanes: &mut PlanLanes, slots: usize) {
    use std::arch::x86_64::*;
    for start in &mut lanes.start[..slots] {
        *start = exp_negative(*start);
    }
    // `walk_to_mode` in vectors of four, two at a time: lane by lane the same operations, and
    // a lane past its mode adds 0 and multiplies by 1, which changes nothing.
    let load = |column: &[f64], at: usize| {
        let four: &[f64; 4] = column[at..at + 4].try_into().expect("four lanes");
        // SAFETY: an unaligned load of four f64 from an array of four.
        unsafe { _mm256_loadu_pd(four.as_ptr()) }
    };
    let store = |column: &mut [f64], at: usize, value| {
        let four: &mut [f64; 4] = (&mut column[at..at + 4]).try_into().expect("four lanes");
        // SAFETY: an unaligned store of four f64 into an array of four.
        unsafe { _mm256_storeu_pd(four.as_mut_ptr(), value) }
    };
    for group in (0..slots).step_by(PLAN_LANES) {
        let halves = [group, group + 4];
        let trials_plus_one = halves.map(|at| load(&lanes.trials_plus_one, at));
        let ratio = halves.map(|at| load(&lanes.ratio, at));
        let mode = halves.map(|at| load(&lanes.mode, at));
        let mut mass = halves.map(|at| load(&lanes.start, at));
        let mut below = [_mm256_setzero_pd(); 2];
        let modes = &lanes.mode[group..group + PLAN_LANES];
        let steps = modes.iter().fold(0.0, |a: f64, &b| a.max(b)) as usize;
        let one = _mm256_set1_pd(1.0);
        for (k, &inverse) in (1..).zip(&INVERSES[1..=steps]) {
            let (step, inverse) = (_mm256_set1_pd(k as f64), _mm256_set1_pd(inverse));
            for half in 0..2 {
                let walking = _mm256_cmp_pd::<_CMP_LE_OQ>(step, mode[half]);
                let to_next = _mm256_sub_pd(trials_plus_one[half], step);
                let steps_ratio = _mm256_mul_pd(_mm256_mul_pd(ratio[half], to_next), inverse);
                below[half] = _mm256_add_pd(below[half], _mm256_and_pd(walking, mass[half]));
                let factor = _mm256_blendv_pd(one, steps_ratio, walking);
                mass[half] = _mm256_mul_pd(mass[half], factor);
            }
        }
        for (half, at) in halves.into_iter().enumerate() {
            store(&mut lanes.below, at, below[half]);
            store(&mut lanes.at, at, mass[half]);
        }
    }
}

#[inline(always)]
fn walk_all_to_modes_portable(lanes: &mut PlanLanes, slots: usize) {
    for start in &mut lanes.start[..slots] {
        *start = exp_negative(*start);
    }
    for slot in 0..slots {
        (lanes.below[slot], lanes.at[slot]) = walk_to_mode(
            lanes.trials_plus_one[slot],
            lanes.ratio[slot],
            lanes.start[slot],
            lanes.mode[slot],
        );
    }
}

/// A walk from 0 to its mode `m`, from `f(0)` in `start`: `(F(m - 1), f(m))`.
#[inline(always)]
fn walk_to_mode(trials_plus_one: f64, ratio: f64, start: f64, mode: f64) -> (f64, f64) {
    let (mut mass, mut below) = (start, 0.0);
    for (k, &inverse) in (1..).zip(&INVERSES[1..=mode as usize]) {
        // f(k - 1) joins F(k - 1) and f(k) follows.
        let step = k as f64;
        below += mass;
        mass *= ratio * (trials_plus_one - step) * inverse;
    }
    (below, mass)
}

/// The sum of one draw for every planned walk of `walks`; the uniforms are drawn from `rng` in
/// the order of `walks`, then any redraws in the same order.
pub(super) fn draw(
    samplers: &[BinomialSampler],
    walks: &[PlannedWalk],
    lanes: &mut Lanes,
    rng: &mut Stream,
) -> u64 {
    if walks.is_empty() {
        return 0;
    }
    lanes.uniforms.clear();
    lanes.uniforms.extend(walks.iter().map(|_| rng.random::<f64>()));
    walk_all(walks, &lanes.uniforms, &mut lanes.steps);

    let mut sum = 0;
    for ((walk, &u), &(steps, unfinished)) in walks.iter().zip(&lanes.uniforms).zip(&lanes.steps) {
        sum += match finish(walk, u, steps, unfinished) {
            Some(x) => x,
            None => samplers[walk.gene_pair as usize].sample(walk.trials as u64, rng),
        };
    }
    sum
}

/// How one lane starts to walk for the uniform `u` (see [`walk_from_modes`]).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Start {
    cumulative: f64,
    mass: f64,
    numerator: [f64; 2],
    denominator: [f64; 2],
    down: bool,
}

impl Start {
    /// The start of `walk` for the uniform `u`. Up from m: `f(m)`, then
    /// `f(x + 1) = f(x) · r (n - m - j) / (m + 1 + j)` at step `j`. Down from `m - 1` (only if
    /// `u < F(m - 1)`, so `m ≥ 1`): `-f(m - 1)`, as the cumulative mass falls, then
    /// `f(x - 1) = f(x) · (m - 1 - j) / (r (n - m + 2 + j))`.
    #[inline(always)]
    fn new(walk: &PlannedWalk, u: f64) -> Start {
        let (n, m, r) = (walk.trials as f64, walk.mode as f64, walk.ratio);
        let down = u < walk.below;
        // Both starts at hand and one selected: a branch on u would be mispredicted half of
        // the time.
        let select = |below: f64, above: f64| if down { below } else { above };
        let mass = select(walk.first_down, walk.at);
        let numerator = [select(1.0, r), select(m - 1.0, n - m)];
        let denominator = [select(r, 1.0), select(n - m + 2.0, m + 1.0)];
        Start { cumulative: walk.below, mass, numerator, denominator, down }
    }
}

/// The draw of `walk` for the uniform `u` from its walk's `steps`, or `None` where only a new
/// draw will do (a walk that rounding kept going).
#[inline(always)]
fn finish(walk: &PlannedWalk, u: f64, steps: u64, unfinished: bool) -> Option<u64> {
    let (n, m) = (walk.trials as u64, walk.mode as u64);
    // Down walks stop at 0 at the latest (a cumulative mass left above u by rounding). Both
    // directions and sides computed and selected, as in `Start::new`.
    let (x_below, x_above) = (m.saturating_sub(1).saturating_sub(steps), m + steps);
    let x = if u < walk.below { x_below } else { x_above };
    let drawn = if walk.flipped { n.wrapping_sub(x) } else { x };
    (!unfinished && x <= n).then_some(drawn)
}

/// Every walk of `walks` for its uniform, into `steps`; with AVX2 where the processor has it:
/// the same operations, so the same results.
fn walk_all(walks: &[PlannedWalk], uniforms: &[f64], steps: &mut Vec<(u64, bool)>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        unsafe { walk_all_avx2(walks, uniforms, steps) };
        return;
    }
    walk_all_portable(walks, uniforms, steps);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn walk_all_avx2(walks: &[PlannedWalk], uniforms: &[f64], steps: &mut Vec<(u64, bool)>) {
    walk_groups(walks, uniforms, steps, |group, u| walk_from_modes_avx2(group, u));
}

#[inline(always)]
fn walk_all_portable(walks: &[PlannedWalk], uniforms: &[f64], steps: &mut Vec<(u64, bool)>) {
    walk_groups(walks, uniforms, steps, walk_from_modes);
}

/// Every walk of `walks` for its uniform by `walk` in groups of four, into `steps`.
#[inline(always)]
fn walk_groups(
    walks: &[PlannedWalk],
    uniforms: &[f64],
    steps: &mut Vec<(u64, bool)>,
    walk: impl Fn(&[PlannedWalk; LANES], &[f64; LANES]) -> ([u64; LANES], [bool; LANES]),
) {
    steps.clear();
    let (mut groups, mut group_uniforms) =
        (walks.chunks_exact(LANES), uniforms.chunks_exact(LANES));
    for (group, u) in (&mut groups).zip(&mut group_uniforms) {
        let (group, u) = (group.try_into().expect("four walks"), u.try_into().expect("four"));
        let (count, unfinished) = walk(group, u);
        steps.extend(count.into_iter().zip(unfinished));
    }
    // The last walks, with padding lanes.
    let rest = groups.remainder();
    if !rest.is_empty() {
        let mut group = [PlannedWalk::PADDING; LANES];
        let mut u = [0.0; LANES];
        group[..rest.len()].copy_from_slice(rest);
        u[..rest.len()].copy_from_slice(group_uniforms.remainder());
        let (count, unfinished) = walk(&group, &u);
        steps.extend(count.into_iter().zip(unfinished).take(rest.len()));
    }
}

/// Four walks in lockstep. Each lane starts from its `cumulative` mass and the signed `mass`
/// next to it, and at step `j = 0, 1, …` adds the mass, counts the step if the draw lies
/// beyond (`F ≤ u` walking up, `u < F` walking down), and multiplies the mass by
/// `numerator_scale · (numerator_base - j) / (denominator_scale · (denominator_base + j))`.
/// Returns the counts and whether each lane was still going when the walk stopped.
#[inline(always)]
fn walk_from_modes(
    walks: &[PlannedWalk; LANES],
    uniform: &[f64; LANES],
) -> ([u64; LANES], [bool; LANES]) {
    let group: [Start; LANES] = std::array::from_fn(|lane| Start::new(&walks[lane], uniform[lane]));
    let mut cumulative = group.map(|s| s.cumulative);
    let mut mass = group.map(|s| s.mass);
    let [numerator_scale, numerator_base] = [0, 1].map(|i| group.map(|s| s.numerator[i]));
    let [denominator_scale, denominator_base] = [0, 1].map(|i| group.map(|s| s.denominator[i]));
    let down = group.map(|s| s.down);
    // Counted in integers: an integer addition is not the latency of a floating-point one.
    let mut count = [0u64; LANES];
    let mut beyond = [false; LANES];
    let mut j = 0;
    loop {
        for _ in 0..UNROLL {
            let step = j as f64;
            for lane in 0..LANES {
                cumulative[lane] += mass[lane];
                beyond[lane] = (cumulative[lane] <= uniform[lane]) != down[lane];
                count[lane] += beyond[lane] as u64;
                let numerator = numerator_scale[lane] * (numerator_base[lane] - step);
                let denominator = denominator_scale[lane] * (denominator_base[lane] + step);
                mass[lane] *= numerator / denominator;
            }
            j += 1;
        }
        if !beyond.iter().any(|&b| b) || j >= WALK_CAP {
            return (count, beyond);
        }
    }
}

/// [`walk_from_modes`] in AVX2 vectors of four: lane by lane the same operations.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn walk_from_modes_avx2(
    walks: &[PlannedWalk; LANES],
    uniform: &[f64; LANES],
) -> ([u64; LANES], [bool; LANES]) {
    use std::arch::x86_64::*;
    let lanes = |field: fn(&PlannedWalk) -> f64| {
        _mm256_setr_pd(field(&walks[0]), field(&walks[1]), field(&walks[2]), field(&walks[3]))
    };
    let (below, at, first_down) = (lanes(|w| w.below), lanes(|w| w.at), lanes(|w| w.first_down));
    let (ratio, n, m) = (lanes(|w| w.ratio), lanes(|w| w.trials as f64), lanes(|w| w.mode as f64));
    let (one, two) = (_mm256_set1_pd(1.0), _mm256_set1_pd(2.0));
    // SAFETY: an unaligned load of four f64 from an array of four.
    let u = unsafe { _mm256_loadu_pd(uniform.as_ptr()) };

    // `Start::new`: both starts, one selected per lane.
    let down = _mm256_cmp_pd::<_CMP_LT_OQ>(u, below);
    let n_minus_m = _mm256_sub_pd(n, m);
    let mut mass = _mm256_blendv_pd(at, first_down, down);
    let numerator_scale = _mm256_blendv_pd(ratio, one, down);
    let numerator_base = _mm256_blendv_pd(n_minus_m, _mm256_sub_pd(m, one), down);
    let denominator_scale = _mm256_blendv_pd(one, ratio, down);
    let denominator_base =
        _mm256_blendv_pd(_mm256_add_pd(m, one), _mm256_add_pd(n_minus_m, two), down);

    let mut cumulative = below;
    let mut count = _mm256_setzero_si256();
    let mut beyond = _mm256_setzero_pd();
    let mut j = 0;
    loop {
        for _ in 0..UNROLL {
            let step = _mm256_set1_pd(j as f64);
            cumulative = _mm256_add_pd(cumulative, mass);
            let at_most = _mm256_cmp_pd::<_CMP_LE_OQ>(cumulative, u);
            beyond = _mm256_xor_pd(at_most, down);
            // A true lane is all ones, -1 as an integer.
            count = _mm256_sub_epi64(count, _mm256_castpd_si256(beyond));
            let numerator = _mm256_mul_pd(numerator_scale, _mm256_sub_pd(numerator_base, step));
            let denominator =
                _mm256_mul_pd(denominator_scale, _mm256_add_pd(denominator_base, step));
            mass = _mm256_mul_pd(mass, _mm256_div_pd(numerator, denominator));
            j += 1;
        }
        if _mm256_movemask_pd(beyond) == 0 || j >= WALK_CAP {
            let mut counts = [0u64; LANES];
            // SAFETY: an unaligned store of four u64 into an array of four.
            unsafe { _mm256_storeu_si256(counts.as_mut_ptr().cast(), count) };
            let going = _mm256_movemask_pd(beyond);
            return (counts, std::array::from_fn(|lane| going & (1 << lane) != 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};
    use crate::synapse::sample::tests::binomial_chi_square;
    use statrs::distribution::{Binomial, Discrete, DiscreteCDF};

    /// The plans of walks `gene_pairs`.
    fn planned(rules: &[WalkRule], gene_pairs: &[u32], trials: &[f64]) -> Vec<PlannedWalk> {
        let inputs: Vec<_> = gene_pairs.iter().map(|&ab| (ab, trials[ab as usize])).collect();
        let mut walks = Vec::new();
        plan(rules, &inputs, &mut PlanLanes::default(), &mut walks);
        walks
    }

    /// `m` sums of `batch` walks from `Binomial(n, p)`, each sum made by one call (so with
    /// `batch` walks in groups of four, the last one padded): `Binomial(batch · n, p)`.
    fn sums(n: u64, p: f64, m: usize, batch: usize, seed: u64) -> Vec<u64> {
        let (rules, samplers) = ([WalkRule::new(p)], [BinomialSampler::new(p)]);
        let walks = planned(&rules, &vec![0; batch], &[n as f64]);
        let mut lanes = Lanes::with_capacity(batch);
        let mut rng = rng::stream(seed, Purpose::Synaptogenesis, 0);
        (0..m).map(|_| draw(&samplers, &walks, &mut lanes, &mut rng)).collect()
    }

    #[test]
    fn plans_start_at_the_mode() {
        let plan_of = |n: u64, p: f64| {
            let rule = WalkRule::new(p);
            let walks = planned(&[rule], &[0, 0, 0, 0, 0], &[n as f64]);
            assert_eq!(walks.len(), 5);
            assert!(walks.iter().all(|w| *w == walks[0] && w.trials == n as u32));
            (rule.mode(n as u32) as u64, walks[0])
        };
        for (n, p) in [(8u64, 0.05), (20, 0.5), (60, 0.7), (95, 0.5), (400, 0.1)] {
            let (m, walk) = plan_of(n, p);
            let exact = Binomial::new(p.min(1.0 - p), n).unwrap();
            assert!(exact.pmf(m) >= exact.pmf(m + 1));
            assert!(m == 0 || exact.pmf(m) >= exact.pmf(m - 1));
            let below = if m == 0 { 0.0 } else { exact.cdf(m - 1) };
            assert!((walk.below - below).abs() < 1e-13, "n={n} p={p}: F(m - 1)");
            assert!((walk.at / exact.pmf(m) - 1.0).abs() < 1e-12, "n={n} p={p}: f(m)");
        }
        // A million trials, where statrs is good to 1e-9 only: F(19) and f(20) of
        // Binomial(10⁶, 2·10⁻⁵) summed in 50-digit decimal arithmetic.
        let (m, walk) = plan_of(1_000_000, 2e-5);
        assert_eq!(m, 20);
        assert!((walk.below - 0.470_256_378_475_849_85).abs() < 1e-14);
        assert!((walk.at / 0.088_836_205_758_436_59 - 1.0).abs() < 1e-13);
    }

    #[test]
    fn walks_invert_the_distribution_function() {
        // Twelve trials with p = 0.75 walk the failures, Binomial(12, 0.25), from the mode 3.
        let rule = WalkRule::new(0.75);
        let walks = planned(&[rule], &[0], &[12.0]);
        let exact = Binomial::new(0.25, 12).unwrap();
        // Below, at and above the mode, in both tails.
        for u in [0.0, 0.1, 0.39, 0.4, 0.7, 0.999_999] {
            // The smallest x with u < F(x).
            let failures = (0..=12).find(|&x| u < exact.cdf(x)).unwrap();
            let padding = PlannedWalk::PADDING;
            let group = [walks[0], padding, padding, padding];
            let (steps, unfinished) = walk_from_modes(&group, &[u, 0.0, 0.0, 0.0]);
            assert_eq!(unfinished, [false; LANES]);
            assert_eq!(finish(&walks[0], u, steps[0], false), Some(12 - failures), "u = {u}");
        }
        // A uniform above the computed total mass walks past n: drawn again.
        let u = 1.0 + 1e-9;
        let (steps, unfinished) = walk_from_modes(&[walks[0]; LANES], &[u; LANES]);
        assert_eq!(finish(&walks[0], u, steps[0], unfinished[0]), None);
    }

    /// Pearson's χ² test of sums of 1 to 36 walks against the exact mass function (200 000
    /// sums, cells merged until each expects 5), at level 1e-4, for means per draw from 0.4 to
    /// just below `WALK_BELOW`, both sides of p = 1/2, tiny p with millions of trials, and
    /// p = 0 and 1.
    #[test]
    fn walks_have_the_binomial_distribution() {
        for (case, &(n, p)) in
            [(8u64, 0.05), (20, 0.5), (60, 0.7), (200, 0.2), (95, 0.5), (3_000_000, 1e-5)]
                .iter()
                .enumerate()
        {
            let (m, batch) = (200_000, 1 + case * 7);
            let values = sums(n, p, m, batch, 300 + case as u64);
            let exact = Binomial::new(p, n * batch as u64).unwrap();
            let cells = *values.iter().max().unwrap() as usize + 1;
            let (statistic, p_value) = binomial_chi_square(&values, &exact, cells);
            assert!(p_value > 1e-4, "n={n} p={p}: χ² = {statistic}, p-value {p_value}");
        }
        assert!(sums(50, 0.0, 100, 3, 1).iter().all(|&x| x == 0));
        assert!(sums(50, 1.0, 100, 3, 1).iter().all(|&x| x == 150));
    }

    /// Mixed lanes: a group of different walks gives, lane by lane, what each walk gives
    /// alone.
    #[test]
    fn lanes_do_not_interact() {
        let rules: Vec<_> = [0.3, 0.35, 0.9, 0.05].map(WalkRule::new).to_vec();
        let samplers: Vec<_> = [0.3, 0.35, 0.9, 0.05].map(BinomialSampler::new).to_vec();
        let trials = [9.0, 120.0, 40.0, 17.0];
        let walks = planned(&rules, &[0, 1, 2, 3], &trials);
        let mut lanes = Lanes::with_capacity(4);
        let mut together = rng::stream(4, Purpose::Synaptogenesis, 0);
        let mut alone = rng::stream(4, Purpose::Synaptogenesis, 0);
        for _ in 0..1_000 {
            let sum = draw(&samplers, &walks, &mut lanes, &mut together);
            let each: u64 =
                (0..4).map(|i| draw(&samplers, &walks[i..=i], &mut lanes, &mut alone)).sum();
            assert_eq!(sum, each);
        }
    }

    /// The vector and the portable compilations give the same walks, bit for bit.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn vector_and_portable_walks_agree() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let probabilities = [0.02, 0.3, 0.5, 0.77, 0.999];
        let rules: Vec<_> = probabilities.map(WalkRule::new).to_vec();
        let gene_pairs: Vec<u32> = (0..1_000).map(|slot| (slot % rules.len()) as u32).collect();
        let trials: Vec<f64> = (0..rules.len() as u32)
            .map(|ab| {
                (8.0 + ab as f64 * 19.0).min((WALK_BELOW / rules[ab as usize].smaller).floor())
            })
            .collect();
        let inputs: Vec<_> = gene_pairs.iter().map(|&ab| (ab, trials[ab as usize])).collect();
        let mut lanes = PlanLanes::default();
        let slots = gene_pairs.len().next_multiple_of(PLAN_LANES);
        let mut walks = Vec::new();
        plan(&rules, &inputs, &mut lanes, &mut walks);
        let mut portable = lanes.clone();
        for (slot, &index) in lanes.order.iter().enumerate() {
            let (ab, n) = inputs[index];
            portable.start[slot] = n * rules[ab as usize].log_q;
        }
        walk_all_to_modes_portable(&mut portable, slots);
        assert_eq!(lanes.below, portable.below);
        assert_eq!(lanes.at, portable.at);

        // An odd number of walks, so that the last group has padding.
        let walks = &walks[..walks.len() - 3];
        let mut rng = rng::stream(9, Purpose::Synaptogenesis, 0);
        let uniforms: Vec<f64> = walks.iter().map(|_| rng.random()).collect();
        let (mut vector, mut portable) = (Vec::new(), Vec::new());
        // SAFETY: AVX2 is supported, checked above.
        unsafe { walk_all_avx2(walks, &uniforms, &mut vector) };
        walk_all_portable(walks, &uniforms, &mut portable);
        assert_eq!(vector, portable);
        assert_eq!(vector.len(), walks.len());
        assert!(vector.iter().any(|&(steps, _)| steps > 3), "walks of some length");
    }
}
