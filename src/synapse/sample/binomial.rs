//! Exact binomial draws for one success probability and many trial counts.
//!
//! Synaptogenesis draws `Binomial(n, G_ab)` once for every neuron pair and gene pair: the
//! probability `G_ab` repeats across all neuron pairs while the trial count `n` changes with
//! every draw. [`BinomialSampler`] therefore prepares what depends on `p` once and computes what
//! depends on `n` per draw, using two exact methods:
//!
//! - **inversion** for `n · min(p, 1 - p) < 10`: one uniform `u`, then a walk up the
//!   probability mass function `f(0) = qⁿ` (a table for `n < 16`, else `exp(n ln q)`), `f(x) = f(x - 1) · r (n + 1 - x) / x`
//!   (`r = p/q`) until the cumulative mass passes `u`. The expected number of steps is
//!   `n p + 1`.
//! - **BTRD** (binomial, transformed rejection with decomposition) for `n · min(p, 1 - p) ≥ 10`:
//!   W. Hörmann, "The generation of binomial random variates", Journal of Statistical
//!   Computation and Simulation 46 (1993) 101-110, doi:10.1080/00949659308811496. About 1.2
//!   uniforms per draw and a cost that does not grow with `n`.
//!
//! Both are exact up to floating-point rounding of the mass function (relative errors near
//! 1e-15), like the methods of `rand_distr::Binomial`, for any `n` from 0 to 2⁵³; for
//! `p > 1/2` they count failures and return `n` minus the count. Compared with building a
//! `rand_distr::Binomial` per draw (22-41 ns for its constructor, with a `powf`), this halves
//! the time of the 148 000 draws of a [4, 128, 2] network at g = 16 (6.8 ms against 12.9 ms in
//! `benches/sampling.rs`).

use rand::{Rng, RngExt};

use crate::net::exp_negative;

/// Below this mean `n · min(p, 1 - p)` a draw walks the mass function; from it on, BTRD.
/// (BTRD's constants are fitted for means of 10 and more.)
const INVERSION_BELOW: f64 = 10.0;

/// Inversion restarts if its walk passes this count: with a mean below 10 the mass beyond it is
/// below 1e-60, so a walk only gets there when rounding left `u` above the computed total mass.
const INVERSION_CAP: f64 = 110.0;

/// Trial counts below this start inversion from a table of `qⁿ` rather than from `exp`.
const SMALL_TRIALS: usize = 16;

/// Draws from `Binomial(n, p)` for a fixed `p` and any number of trials `n`.
///
/// `P(X = x) = C(n, x) pˣ (1 - p)ⁿ⁻ˣ` for `x = 0..=n`; mean `n p`, variance `n p (1 - p)`.
/// Draws for `p` and `1 - p` mirror each other: with `p > 1/2` the sampler counts failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinomialSampler {
    /// `min(p, 1 - p)`.
    p: f64,
    /// `1 - min(p, 1 - p)`.
    q: f64,
    /// `p / q` of the smaller side.
    ratio: f64,
    /// `ln q`.
    ln_q: f64,
    /// `qⁿ` for `n < SMALL_TRIALS`, the start of the inversion walk for the commonest counts.
    powers: [f64; SMALL_TRIALS],
    /// Whether `p > 1/2`, so that draws count failures.
    flipped: bool,
}

impl BinomialSampler {
    /// A sampler for success probability `probability`.
    ///
    /// # Panics
    ///
    /// If `probability` is not in `[0, 1]` (a broken contract: rule probabilities are
    /// sigmoids).
    pub fn new(probability: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&probability),
            "binomial probability {probability} is not in [0, 1]"
        );
        let flipped = probability > 0.5;
        let p = if flipped { 1.0 - probability } else { probability };
        let q = 1.0 - p;
        let mut powers = [1.0; SMALL_TRIALS];
        for n in 1..SMALL_TRIALS {
            powers[n] = powers[n - 1] * q;
        }
        BinomialSampler { p, q, ratio: p / q, ln_q: (-p).ln_1p(), powers, flipped }
    }

    /// The success probability `p`.
    pub fn probability(&self) -> f64 {
        if self.flipped { 1.0 - self.p } else { self.p }
    }

    /// One draw from `Binomial(trials, p)`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, trials: u64, rng: &mut R) -> u64 {
        if trials == 0 || self.p == 0.0 {
            return if self.flipped { trials } else { 0 };
        }
        let n = float(trials);
        if n * self.p < INVERSION_BELOW {
            let successes = self.inversion(n, rng);
            if self.flipped { trials - successes } else { successes }
        } else {
            self.hat(trials).draw(rng)
        }
    }

    /// Inversion of the distribution function, walking up from 0 (mean below 10). The walk is
    /// in floating point: `n` and `x` are exact integers there.
    #[inline]
    fn inversion<R: Rng + ?Sized>(&self, n: f64, rng: &mut R) -> u64 {
        // f(0) = qⁿ: from the table, or as exp(n ln q) with n ln q ≥ -20 here.
        let start = match self.powers.get(count(n) as usize) {
            Some(&power) => power,
            None => exp_negative(n * self.ln_q),
        };
        let cap = n.min(INVERSION_CAP);
        'draw: loop {
            let mut u: f64 = rng.random();
            let mut mass = start;
            let mut x = 0.0;
            while u > mass {
                u -= mass;
                x += 1.0;
                if x > cap {
                    continue 'draw;
                }
                mass *= self.ratio * (n + 1.0 - x) / x;
            }
            return count(x);
        }
    }

    /// BTRD's hat for `n` trials (its step 0), for drawing from `Binomial(n, p)` with
    /// [`Hat::draw`]. Computing the hats of many draws before drawing any lets their square
    /// roots and divisions overlap; one draw at a time, each waits on the last draw's branches.
    ///
    /// The hat only fits means `n · min(p, 1 - p)` of 10 and more (checked in debug builds).
    #[inline]
    pub(super) fn hat(&self, n: u64) -> Hat {
        let (p, r) = (self.p, self.ratio);
        let nf = float(n);
        let np = nf * p;
        debug_assert!(np >= INVERSION_BELOW, "BTRD for a mean of {np}");
        let npq = np * self.q;
        let spq = npq.sqrt();
        let b = 1.15 + 2.53 * spq;
        let b_inverse = 1.0 / b;
        let v_r = 0.92 - 4.2 * b_inverse;
        Hat {
            n,
            r,
            npq,
            mode: count((nf + 1.0) * p),
            nr: (nf + 1.0) * r,
            b,
            a: -0.0873 + 0.0248 * b + 0.01 * p,
            c: np + 0.5,
            alpha: (2.83 + 5.1 * b_inverse) * spq,
            v_r,
            v_r_inverse: 1.0 / v_r,
            u_rv_r: 0.86 * v_r,
            flipped: self.flipped,
        }
    }
}

/// The hat of Hörmann's BTRD for one trial count `n` and the sampler's `p ≤ 1/2`: a scaled
/// Cauchy-like envelope of the mass function, the box inside it that accepts at once, and the
/// constants of the squeezes (the names are the paper's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Hat {
    n: u64,
    r: f64,
    npq: f64,
    mode: u64,
    nr: f64,
    b: f64,
    a: f64,
    c: f64,
    alpha: f64,
    v_r: f64,
    v_r_inverse: f64,
    u_rv_r: f64,
    flipped: bool,
}

impl Hat {
    /// An empty hat, a placeholder in scratch space.
    pub(super) const EMPTY: Hat = Hat {
        n: 0,
        r: 0.0,
        npq: 0.0,
        mode: 0,
        nr: 0.0,
        b: 0.0,
        a: 0.0,
        c: 0.0,
        alpha: 0.0,
        v_r: 0.0,
        v_r_inverse: 0.0,
        u_rv_r: 0.0,
        flipped: false,
    };

    /// One draw from `Binomial(n, p)` for the sampler's original `p` (successes, even where
    /// the hat counts failures).
    #[inline]
    pub(super) fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let successes = self.successes(rng);
        if self.flipped { self.n - successes } else { successes }
    }

    /// BTRD's steps 1 to 3.4 (the paper's numbers), drawing successes of `min(p, 1 - p)`.
    ///
    /// Every `⌊x⌋` below is of a non-negative `x` (checked where not evident), taken as a
    /// truncating cast: `f64::floor` is a library call on x86-64 without SSE4.1.
    fn successes<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let Hat { n, r, npq, mode, nr, b, a, c, alpha, v_r, v_r_inverse, u_rv_r, .. } = *self;
        let nf = float(n);
        loop {
            // Step 1: the box under the density, accepted at once (the candidate is positive
            // there since n p ≥ 10).
            let mut v: f64 = rng.random();
            if v <= u_rv_r {
                let u = v * v_r_inverse - 0.43;
                return count((2.0 * a / (0.5 - u.abs()) + b) * u + c);
            }

            // Step 2: a uniform point (u, v) in the rest of the rectangle.
            let u = if v >= v_r {
                rng.random::<f64>() - 0.5
            } else {
                let u = v * v_r_inverse - 0.93;
                v = rng.random::<f64>() * v_r;
                0.5f64.copysign(u) - u
            };

            // Step 3.0: the candidate k and the scaled height v of the point.
            let us = 0.5 - u.abs();
            let x = (2.0 * a / us + b) * u + c;
            if !(x >= 0.0 && x < nf + 1.0) {
                continue;
            }
            let k = count(x);
            v *= alpha / (a / (us * us) + b);
            let km = k.abs_diff(mode);

            // Step 3.1: near the mode, f(k) / f(mode) by its recursion
            // f(i) / f(i - 1) = (n + 1 - i) r / i, kept as a product of numerators and one of
            // denominators (at most 15 factors below 2³³ each: no overflow) and compared
            // with v without dividing.
            if km <= 15 {
                let (low, high) = if mode < k { (mode, k) } else { (k, mode) };
                let (mut numerator, mut denominator) = (1.0, 1.0);
                for i in low + 1..=high {
                    let i = float(i);
                    numerator *= nr - i * r;
                    denominator *= i;
                }
                let accepted = if mode < k {
                    v * denominator <= numerator
                } else {
                    v * numerator <= denominator
                };
                if accepted {
                    return k;
                }
                continue;
            }

            // Step 3.2: squeeze ln(f(k) / f(mode)) between bounds of its normal approximation.
            let v = v.ln();
            let km = float(km);
            let rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5);
            let t = -km * km / (2.0 * npq);
            if v < t - rho {
                return k;
            }
            if v > t + rho {
                continue;
            }

            // Steps 3.3 and 3.4: the exact log ratio.
            if v <= log_mass_ratio(n, k, mode, r) {
                return k;
            }
        }
    }
}

/// `⌊x⌋` for `0 ≤ x < 2⁶³`. Through `i64`: one instruction on x86-64, where the direct
/// conversion to `u64` takes about ten.
#[inline(always)]
pub(super) fn count(x: f64) -> u64 {
    x as i64 as u64
}

/// `n` as a float, exact for `n < 2⁵³`; through `i64` for the same reason as [`count`].
#[inline(always)]
pub(super) fn float(n: u64) -> f64 {
    n as i64 as f64
}

/// `ln(f(k) / f(m))` for `Binomial(n, p)` with `r = p / (1 - p)`, through Stirling's series
/// (BTRD's steps 3.3 and 3.4):
/// `(m + ½) ln((m + 1) / (r (n - m + 1))) + fc(m) + fc(n - m) + (n + 1) ln((n - m + 1) /
/// (n - k + 1)) + (k + ½) ln((n - k + 1) r / (k + 1)) - fc(k) - fc(n - k)`.
///
/// Kept out of line: the compiler would otherwise hoist its logarithms out of BTRD's loop and
/// compute them for every draw, though few draws get here.
#[inline(never)]
fn log_mass_ratio(n: u64, k: u64, m: u64, r: f64) -> f64 {
    let (nf, kf, mf) = (float(n), float(k), float(m));
    let nm = nf - mf + 1.0;
    let nk = nf - kf + 1.0;
    (mf + 0.5) * ((mf + 1.0) / (r * nm)).ln()
        + stirling_correction(m)
        + stirling_correction(n - m)
        + (nf + 1.0) * (nm / nk).ln()
        + (kf + 0.5) * (nk * r / (kf + 1.0)).ln()
        - stirling_correction(k)
        - stirling_correction(n - k)
}

/// The remainder of Stirling's formula for `ln k!` (`k` a non-negative integer):
/// `fc(k) = ln k! - (k + 1/2) ln(k + 1) + (k + 1) - ln(2π) / 2`.
///
/// For `k ≤ 9` it is computed from `k!` itself; above, from the series
/// `1/(12 m) - 1/(360 m³) + 1/(1260 m⁵) - 1/(1680 m⁷) + 1/(1188 m⁹)` with `m = k + 1`, whose
/// truncation error is below `691/(360360 m¹¹) < 1e-14`.
fn stirling_correction(k: u64) -> f64 {
    if k <= 9 {
        let factorial: f64 = (2..=k).map(|i| i as f64).product();
        let k = k as f64;
        let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        factorial.ln() - (k + 0.5) * (k + 1.0).ln() + (k + 1.0) - half_ln_2pi
    } else {
        let m = k as f64 + 1.0;
        let m2 = m * m;
        let tail = 1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * m2)) / m2;
        (1.0 / 12.0 - (1.0 / 360.0 - tail / m2) / m2) / m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};
    use crate::synapse::sample::tests::binomial_chi_square;
    use statrs::distribution::Binomial;
    use statrs::function::factorial::ln_factorial;

    /// Draws `count` values of `Binomial(n, p)` from a fixed stream.
    fn draws(n: u64, p: f64, count: usize, seed: u64) -> Vec<u64> {
        let sampler = BinomialSampler::new(p);
        let mut rng = rng::stream(seed, Purpose::Synaptogenesis, 0);
        (0..count).map(|_| sampler.sample(n, &mut rng)).collect()
    }

    #[test]
    fn stirling_correction_matches_log_factorials() {
        let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        for k in [0u64, 1, 5, 9, 10, 11, 20, 100, 10_000] {
            let kf = k as f64;
            let exact = ln_factorial(k) - (kf + 0.5) * (kf + 1.0).ln() + kf + 1.0 - half_ln_2pi;
            let ours = stirling_correction(k);
            // ln k! itself is only known to a few ulp: 1e-11 absolute at k = 10⁴.
            let tolerance = 1e-13 + 1e-15 * ln_factorial(k);
            assert!((ours - exact).abs() < tolerance, "k = {k}: {ours} vs {exact}");
        }
    }

    #[test]
    fn degenerate_cases_are_exact() {
        let mut rng = rng::stream(1, Purpose::Synaptogenesis, 0);
        assert_eq!(BinomialSampler::new(0.0).sample(1000, &mut rng), 0);
        assert_eq!(BinomialSampler::new(1.0).sample(1000, &mut rng), 1000);
        assert_eq!(BinomialSampler::new(0.3).sample(0, &mut rng), 0);
        assert_eq!(BinomialSampler::new(0.8).probability(), 0.8);
    }

    /// Sample mean and variance against `n p` and `n p q`.
    ///
    /// Tolerance: 5 standard errors. The mean's is `√(npq / M)`; the sample variance's is
    /// `√((μ₄ - σ⁴) / M)` with the binomial's fourth central moment
    /// `μ₄ = npq (1 + 3 (n - 2) pq)`. Each case has 40 000 draws.
    #[test]
    fn moments_match_in_every_regime() {
        // Inversion (np < 10), BTRD near and far from its threshold, flipped p, millions.
        let cases = [
            (1u64, 0.3),
            (7, 0.5),
            (30, 0.2),
            (3_000_000, 1e-6),
            (101, 0.1),
            (120, 0.85),
            (5_000, 0.4),
            (4_000_000, 0.35),
        ];
        for (case, &(n, p)) in cases.iter().enumerate() {
            let m = 40_000;
            let values = draws(n, p, m, case as u64);
            let mf = m as f64;
            let mean = values.iter().map(|&x| x as f64).sum::<f64>() / mf;
            let var = values.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (mf - 1.0);
            let (nf, q) = (n as f64, 1.0 - p);
            let sigma2 = nf * p * q;
            let mu4 = sigma2 * (1.0 + 3.0 * (nf - 2.0) * p * q);
            let mean_se = (sigma2 / mf).sqrt();
            let var_se = ((mu4 - sigma2 * sigma2) / mf).sqrt();
            assert!((mean - nf * p).abs() < 5.0 * mean_se, "n={n} p={p}: mean {mean}");
            assert!((var - sigma2).abs() < 5.0 * var_se, "n={n} p={p}: variance {var}");
        }
    }

    /// Pearson's χ² test of the whole distribution against the exact mass function, in the
    /// regimes of both methods and at BTRD's threshold `n p = 10` (200 000 draws each; cells
    /// with expected count below 5 are merged into their neighbours). A correct sampler fails
    /// at level 1e-4 once in 10 000 seeds.
    #[test]
    fn distribution_matches_the_mass_function() {
        for (case, &(n, p)) in [
            (40u64, 0.2),
            (25, 0.39),
            (20, 0.5),
            (200, 0.05),
            (100, 0.15),
            (1_000, 0.7),
            (20_000, 0.05),
        ]
        .iter()
        .enumerate()
        {
            let m = 200_000;
            let values = draws(n, p, m, 100 + case as u64);
            let exact = Binomial::new(p, n).unwrap();
            let (statistic, p_value) = binomial_chi_square(&values, &exact, n as usize + 1);
            assert!(p_value > 1e-4, "n={n} p={p}: χ² = {statistic}, p-value {p_value}");
        }
    }

    /// Pins draws of a fixed stream, so that a change of method or of stream use shows.
    #[test]
    fn draws_are_stable() {
        assert_eq!(draws(12, 0.3, 6, 7), [5, 1, 2, 3, 2, 6]);
        assert_eq!(draws(500, 0.35, 6, 7), [169, 180, 170, 198, 184, 156]);
        assert_eq!(draws(2_000_000, 0.9, 3, 7), [1_800_270, 1_799_927, 1_800_263]);
    }
}
