//! Evolution strategies: black-box search over a flat parameter vector, one generation at a time.
//!
//! A strategy keeps a search distribution over `ℝᵈ`. Each generation it is asked for a
//! population of candidates ([`Strategy::ask`]), the caller scores them, and the strategy is told
//! their fitness in the same order ([`Strategy::tell`]) and moves its distribution. **Fitness is
//! maximised**: pass `-f(x)` to minimise `f`. Strategies only ever look at the ranks of the
//! fitness values, so any monotone transform of the fitness gives the same search.
//!
//! Three strategies ship, one per file:
//!
//! - [`Snes`]: separable natural evolution strategy (Schaul, Glasmachers & Schmidhuber 2011),
//!   the reference's choice;
//! - [`SepCmaEs`]: separable CMA-ES (Ros & Hansen 2008), with cumulative step-size adaptation
//!   and a diagonal covariance;
//! - [`OpenAiEs`]: the fixed-σ, antithetic, Adam-driven strategy of Salimans et al. (2017).
//!
//! [`StrategySettings`] names one of them with its hyperparameters (the form experiment files
//! use) and builds an [`AnyStrategy`], which is what the evolution runner
//! ([`crate::learn::Evolution`]) drives and checkpoints.
//!
//! Randomness comes only through the generator handed to [`Strategy::ask`]; a strategy holds no
//! generator of its own, so a checkpointed strategy resumes exactly.

mod openai;
mod sep_cma;
mod snes;

pub use openai::{OpenAiEs, OpenAiEsSettings};
pub use sep_cma::{SepCmaEs, SepCmaEsSettings};
pub use snes::{Snes, SnesSettings};

use serde::{Deserialize, Serialize};

use crate::rng::Stream;

/// A search distribution over `ℝᵈ` that improves itself from ranked samples.
///
/// The contract: every [`tell`](Strategy::tell) follows an [`ask`](Strategy::ask) and receives
/// one fitness per candidate, in the order `ask` returned them. Breaking it is a bug in the
/// caller and panics.
///
/// # Example
///
/// Maximising `-‖x - 1‖²` (minimising the shifted sphere) from the origin:
///
/// ```
/// use synaptogen::learn::es::{Snes, SnesSettings, Strategy};
/// use synaptogen::rng::{self, Purpose};
///
/// let mut snes = Snes::new(vec![0.0; 5], &SnesSettings::default()).unwrap();
/// for generation in 0..300 {
///     let mut rng = rng::stream(1, Purpose::Evolution, generation);
///     let candidates = snes.ask(&mut rng);
///     let fitness: Vec<f64> = candidates
///         .iter()
///         .map(|x| -x.iter().map(|v| (v - 1.0).powi(2)).sum::<f64>())
///         .collect();
///     snes.tell(&fitness);
/// }
/// assert!(snes.mean().iter().all(|m| (m - 1.0).abs() < 1e-3));
/// ```
pub trait Strategy {
    /// The dimension `d` of the search space.
    fn dimension(&self) -> usize;

    /// The number of candidates `λ` each [`ask`](Strategy::ask) returns.
    fn population(&self) -> usize;

    /// Draws a population of `λ` candidates, each a vector of length `d`, from `rng`.
    fn ask(&mut self, rng: &mut Stream) -> Vec<Vec<f64>>;

    /// Moves the search distribution given the fitness of the candidates of the last
    /// [`ask`](Strategy::ask), in the same order; higher is better.
    ///
    /// # Panics
    ///
    /// If no `ask` is pending or `fitness` does not have one value per candidate.
    fn tell(&mut self, fitness: &[f64]);

    /// The centre of the search distribution: the strategy's current solution.
    fn mean(&self) -> &[f64];

    /// The per-coordinate standard deviation of the search distribution.
    fn sigma(&self) -> Vec<f64>;
}

/// Errors in a strategy's settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EsError {
    /// A setting breaks a rule.
    #[error("{strategy}.{field}: {rule}")]
    Setting {
        /// The strategy (`snes`, `sep_cma_es`, `openai_es`).
        strategy: &'static str,
        /// The setting.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The search space is empty.
    #[error("the search space has no dimensions (are all blocks frozen?)")]
    NoDimensions,
}

/// The default population size `λ = 4 + ⌊3 ln d⌋` (Hansen's default for CMA-ES, also used by
/// SNES).
pub fn default_population(dimension: usize) -> usize {
    4 + (3.0 * (dimension.max(1) as f64).ln()).floor() as usize
}

/// The NES utilities (fitness shaping; Wierstra et al. 2014, JMLR 15, eq. 7) of a population's
/// fitness values: the candidate of rank `k` (1 = fittest) gets
///
/// `u_k = max(0, ln(λ/2 + 1) - ln k) / Σ_j max(0, ln(λ/2 + 1) - ln j) - 1/λ`.
///
/// The utilities sum to zero, only the better half gets positive weight, and they depend on the
/// fitness only through its order. Candidates of equal fitness share the mean of their ranks'
/// utilities, so a population that cannot be told apart gets all-zero utilities (no movement).
/// A NaN fitness ranks below everything.
pub fn nes_utilities(fitness: &[f64]) -> Vec<f64> {
    let lambda = fitness.len();
    let cut = (lambda as f64 / 2.0 + 1.0).ln();
    let raw: Vec<f64> = (1..=lambda).map(|k| (cut - (k as f64).ln()).max(0.0)).collect();
    let total: f64 = raw.iter().sum();
    let by_rank: Vec<f64> = raw.iter().map(|r| r / total - 1.0 / lambda as f64).collect();
    spread_over_ranks(fitness, &by_rank)
}

/// Centred rank utilities (Salimans et al. 2017): rank `k` of `λ` (0 = least fit) maps to
/// `k / (λ - 1) - 1/2`, so utilities lie in `[-1/2, 1/2]` and sum to zero. Ties share the mean.
pub fn centred_ranks(fitness: &[f64]) -> Vec<f64> {
    let lambda = fitness.len();
    let by_rank: Vec<f64> = (0..lambda)
        .map(|k| {
            let from_bottom = (lambda - 1 - k) as f64;
            if lambda > 1 { from_bottom / (lambda - 1) as f64 - 0.5 } else { 0.0 }
        })
        .collect();
    spread_over_ranks(fitness, &by_rank)
}

/// The candidates' indices from fittest to least fit (NaN last, ties by index).
pub fn ranking(fitness: &[f64]) -> Vec<usize> {
    let key = |f: f64| if f.is_nan() { f64::NEG_INFINITY } else { f };
    let mut order: Vec<usize> = (0..fitness.len()).collect();
    order.sort_by(|&a, &b| key(fitness[b]).total_cmp(&key(fitness[a])).then(a.cmp(&b)));
    order
}

/// Hands `by_rank[k]` (rank 0 = fittest) to the candidate of rank `k`, averaging over ties.
fn spread_over_ranks(fitness: &[f64], by_rank: &[f64]) -> Vec<f64> {
    let key = |f: f64| if f.is_nan() { f64::NEG_INFINITY } else { f };
    let order = ranking(fitness);
    let mut utilities = vec![0.0; fitness.len()];
    let mut start = 0;
    while start < order.len() {
        let level = key(fitness[order[start]]);
        let end = start + order[start..].iter().take_while(|&&i| key(fitness[i]) == level).count();
        let shared = by_rank[start..end].iter().sum::<f64>() / (end - start) as f64;
        for &i in &order[start..end] {
            utilities[i] = shared;
        }
        start = end;
    }
    utilities
}

/// Which strategy to run, with its hyperparameters; the form an experiment file gives.
///
/// In RON: `Snes((initial_sigma: 0.05))`, `SepCmaEs((initial_sigma: 0.05, population: Some(32)))`
/// or `OpenAiEs((sigma: 0.02, learning_rate: 0.01))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StrategySettings {
    /// Separable NES.
    Snes(SnesSettings),
    /// Separable CMA-ES.
    SepCmaEs(SepCmaEsSettings),
    /// OpenAI's evolution strategy.
    OpenAiEs(OpenAiEsSettings),
}

impl Default for StrategySettings {
    fn default() -> Self {
        StrategySettings::Snes(SnesSettings::default())
    }
}

impl StrategySettings {
    /// Checks the settings without a dimension (population rules that depend on `d` are checked
    /// by [`StrategySettings::build`]).
    pub fn check(&self) -> Result<(), EsError> {
        match self {
            StrategySettings::Snes(s) => s.check(),
            StrategySettings::SepCmaEs(s) => s.check(),
            StrategySettings::OpenAiEs(s) => s.check(),
        }
    }

    /// A fresh strategy centred on `mean`.
    pub fn build(&self, mean: Vec<f64>) -> Result<AnyStrategy, EsError> {
        Ok(match self {
            StrategySettings::Snes(s) => AnyStrategy::Snes(Snes::new(mean, s)?),
            StrategySettings::SepCmaEs(s) => AnyStrategy::SepCmaEs(SepCmaEs::new(mean, s)?),
            StrategySettings::OpenAiEs(s) => AnyStrategy::OpenAiEs(OpenAiEs::new(mean, s)?),
        })
    }
}

/// One of the shipped strategies, chosen at run time; serialisable for checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AnyStrategy {
    /// Separable NES.
    Snes(Snes),
    /// Separable CMA-ES.
    SepCmaEs(SepCmaEs),
    /// OpenAI's evolution strategy.
    OpenAiEs(OpenAiEs),
}

impl AnyStrategy {
    fn inner(&self) -> &dyn Strategy {
        match self {
            AnyStrategy::Snes(s) => s,
            AnyStrategy::SepCmaEs(s) => s,
            AnyStrategy::OpenAiEs(s) => s,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Strategy {
        match self {
            AnyStrategy::Snes(s) => s,
            AnyStrategy::SepCmaEs(s) => s,
            AnyStrategy::OpenAiEs(s) => s,
        }
    }
}

impl Strategy for AnyStrategy {
    fn dimension(&self) -> usize {
        self.inner().dimension()
    }

    fn population(&self) -> usize {
        self.inner().population()
    }

    fn ask(&mut self, rng: &mut Stream) -> Vec<Vec<f64>> {
        self.inner_mut().ask(rng)
    }

    fn tell(&mut self, fitness: &[f64]) {
        self.inner_mut().tell(fitness)
    }

    fn mean(&self) -> &[f64] {
        self.inner().mean()
    }

    fn sigma(&self) -> Vec<f64> {
        self.inner().sigma()
    }
}

/// Draws `d` independent standard normal values.
fn standard_normal(rng: &mut Stream, d: usize) -> Vec<f64> {
    use rand::RngExt;
    (0..d).map(|_| rng.sample::<f64, _>(rand_distr::StandardNormal)).collect()
}

/// A positive, finite number.
fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rng::{self, Purpose};

    /// Runs `strategy` for `generations` on `f` (minimised), with noise from `seed`; returns the
    /// best value seen.
    pub(crate) fn minimise(
        strategy: &mut dyn Strategy,
        f: impl Fn(&[f64]) -> f64,
        generations: u64,
        seed: u64,
    ) -> f64 {
        let mut best = f64::INFINITY;
        for generation in 0..generations {
            let candidates = strategy.ask(&mut rng::stream(seed, Purpose::Evolution, generation));
            let values: Vec<f64> = candidates.iter().map(|x| f(x)).collect();
            best = values.iter().copied().fold(best, f64::min);
            strategy.tell(&values.iter().map(|v| -v).collect::<Vec<_>>());
        }
        best
    }

    pub(crate) fn sphere(x: &[f64]) -> f64 {
        x.iter().map(|v| (v - 0.5) * (v - 0.5)).sum()
    }

    pub(crate) fn rosenbrock(x: &[f64]) -> f64 {
        x.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2)).sum()
    }

    /// An ill-conditioned, axis-aligned ellipsoid: condition number 10⁶.
    pub(crate) fn ellipsoid(x: &[f64]) -> f64 {
        let n = x.len() as f64;
        x.iter().enumerate().map(|(i, v)| 1e6f64.powf(i as f64 / (n - 1.0)) * v * v).sum()
    }

    #[test]
    fn nes_utilities_sum_to_zero_and_follow_the_ranks() {
        let fitness = [3.0, -1.0, 7.5, 0.2, 2.0, 9.0, -4.0];
        let u = nes_utilities(&fitness);
        assert!(u.iter().sum::<f64>().abs() < 1e-12);
        for i in 0..fitness.len() {
            for j in 0..fitness.len() {
                if fitness[i] > fitness[j] {
                    assert!(u[i] >= u[j], "{i} fitter than {j} but less utility");
                }
            }
        }
        // The fittest gets the largest utility; the worse half all get -1/λ.
        assert_eq!(ranking(&fitness)[0], 5);
        assert!(u[5] > u[2] && u[2] > u[0]);
        assert!((u[6] + 1.0 / 7.0).abs() < 1e-15 && (u[1] + 1.0 / 7.0).abs() < 1e-15);
    }

    #[test]
    fn nes_utilities_of_ten_match_the_formula() {
        // λ = 10: raw weights max(0, ln 6 - ln k) for k = 1..10.
        let fitness: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let u = nes_utilities(&fitness);
        let raw: Vec<f64> = (1..=10).map(|k| (6f64.ln() - (k as f64).ln()).max(0.0)).collect();
        let total: f64 = raw.iter().sum();
        for k in 0..10 {
            approx::assert_abs_diff_eq!(u[9 - k], raw[k] / total - 0.1, epsilon = 1e-15);
        }
    }

    #[test]
    fn ties_share_utility_and_nan_ranks_last() {
        let u = nes_utilities(&[500.0; 8]);
        assert!(u.iter().all(|&v| v.abs() < 1e-15), "{u:?}");
        let u = nes_utilities(&[1.0, 2.0, 2.0, f64::NAN]);
        assert_eq!(u[1], u[2]);
        assert!(u[3] <= u[0]);
        assert!(u.iter().sum::<f64>().abs() < 1e-12);
        let c = centred_ranks(&[4.0, 1.0, 4.0, 0.0]);
        for (got, want) in c.iter().zip([1.0 / 3.0, -1.0 / 6.0, 1.0 / 3.0, -0.5]) {
            approx::assert_abs_diff_eq!(*got, want, epsilon = 1e-15);
        }
    }

    #[test]
    fn centred_ranks_sum_to_zero_and_follow_the_ranks() {
        let fitness = [0.3, -2.0, 8.0, 1.0, 5.0];
        let c = centred_ranks(&fitness);
        assert!(c.iter().sum::<f64>().abs() < 1e-12);
        assert_eq!(c, vec![-0.25, -0.5, 0.5, 0.0, 0.25]);
    }

    #[test]
    fn default_population_follows_the_formula() {
        assert_eq!(default_population(2), 6);
        assert_eq!(default_population(10), 10);
        // The CartPole genome with every block learnable.
        assert_eq!(default_population(3_724), 28);
    }

    #[test]
    fn settings_build_the_named_strategy() {
        let settings = [
            StrategySettings::Snes(SnesSettings::default()),
            StrategySettings::SepCmaEs(SepCmaEsSettings::default()),
            StrategySettings::OpenAiEs(OpenAiEsSettings::default()),
        ];
        for s in settings {
            let strategy = s.build(vec![0.0; 10]).unwrap();
            assert_eq!(strategy.dimension(), 10);
            assert_eq!(strategy.mean(), &[0.0; 10]);
        }
        assert_eq!(StrategySettings::default().build(vec![]).unwrap_err(), EsError::NoDimensions);
    }

    #[test]
    fn settings_read_from_ron() {
        let s: StrategySettings = ron::from_str("SepCmaEs((initial_sigma: 0.3))").unwrap();
        assert_eq!(
            s,
            StrategySettings::SepCmaEs(SepCmaEsSettings {
                initial_sigma: 0.3,
                ..Default::default()
            })
        );
        let typo = ron::from_str::<StrategySettings>("Snes((initial_sigam: 0.3))").unwrap_err();
        assert!(typo.to_string().contains("initial_sigam"), "{typo}");
    }
}
