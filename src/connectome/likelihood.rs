//! The Poisson likelihood of observed counts under a count model, its gradient, and the Poisson
//! deviance.
//!
//! For a set of pairs `P` with observed counts `y` and expected counts `μ(θ)`, the objective is
//! the penalised negative log-likelihood per pair,
//!
//! `J(θ) = (1/|P|) [ Σ_P (μ_ij - y_ij ln(μ_ij + ε) + ln y_ij!) + λ Σ_{k ∈ A} θ_k² ]`,
//!
//! with `∂J/∂μ_ij = (1 - y_ij / (μ_ij + ε)) / |P|` on `P` and `0` elsewhere, pulled back to `θ`
//! by the model. `ε = 1e-12` keeps the logarithm finite where a model predicts no synapse at all.
//! `A` are the model's abundances (expression `X`, factor loadings), whose squares are the
//! biological values, so `λ Σ θ_k²` is `λ Σ E_ia`: the negative log-density of an exponential
//! prior of rate `λ` on every expression level (a maximum a posteriori fit; `λ = 0` is maximum
//! likelihood).

use nalgebra::DMatrix;
use statrs::function::factorial::ln_factorial;

use super::{CountModel, Pairs};

/// Added to expected counts inside the logarithm.
pub const RATE_FLOOR: f64 = 1e-12;

/// The penalised Poisson objective `J(θ)` over a set of pairs (see the module docs).
#[derive(Debug, Clone)]
pub struct PoissonObjective<'a> {
    observed: &'a DMatrix<f64>,
    pairs: &'a Pairs,
    expression_penalty: f64,
    log_factorials: f64,
    /// The pairs with synapses, `(i, j, y_ij)`: only they need a logarithm.
    connected: Vec<(usize, usize, f64)>,
}

impl<'a> PoissonObjective<'a> {
    /// The objective for the counts `observed` (`N x N`) over `pairs`, with penalty rate `λ`.
    ///
    /// # Panics
    ///
    /// If the shapes disagree or `pairs` is empty.
    pub fn new(observed: &'a DMatrix<f64>, pairs: &'a Pairs, expression_penalty: f64) -> Self {
        assert_eq!(observed.nrows(), pairs.cells(), "observed counts and pairs disagree");
        assert!(!pairs.is_empty(), "PoissonObjective: no pairs");
        let connected: Vec<(usize, usize, f64)> = pairs
            .iter()
            .map(|(i, j)| (i, j, observed[(i, j)]))
            .filter(|&(_, _, y)| y > 0.0)
            .collect();
        let log_factorials = connected.iter().map(|&(_, _, y)| ln_factorial(y as u64)).sum();
        PoissonObjective { observed, pairs, expression_penalty, log_factorials, connected }
    }

    /// The pairs the objective sums over.
    pub fn pairs(&self) -> &Pairs {
        self.pairs
    }

    /// The observed counts, `N x N`.
    pub fn observed(&self) -> &DMatrix<f64> {
        self.observed
    }

    /// `Σ_P m_ij`: the total of `matrix` over the pairs.
    pub fn total(&self, matrix: &DMatrix<f64>) -> f64 {
        self.pairs.indicator().dot(matrix)
    }

    /// The negative log-likelihood per pair, `(1/|P|) Σ_P (μ - y ln(μ + ε) + ln y!)`.
    pub fn negative_log_likelihood(&self, expected: &DMatrix<f64>) -> f64 {
        // Σ_P μ over every pair, the logarithms only where y > 0.
        let mut sum = self.total(expected) + self.log_factorials;
        for &(i, j, y) in &self.connected {
            sum -= y * (expected[(i, j)] + RATE_FLOOR).ln();
        }
        sum / self.pairs.len() as f64
    }

    /// `∂J/∂μ`, `N x N`, zero outside the pairs.
    pub fn d_expected(&self, expected: &DMatrix<f64>) -> DMatrix<f64> {
        let scale = 1.0 / self.pairs.len() as f64;
        let mut d_expected = self.pairs.indicator() * scale;
        for &(i, j, y) in &self.connected {
            d_expected[(i, j)] -= scale * y / (expected[(i, j)] + RATE_FLOOR);
        }
        d_expected
    }

    /// `J(θ)` given the expected counts `μ(θ)` already computed.
    pub fn value_with<M: CountModel>(
        &self,
        model: &M,
        parameters: &[f64],
        expected: &DMatrix<f64>,
    ) -> f64 {
        let abundance: f64 = parameters[model.abundances()].iter().map(|x| x * x).sum();
        let penalty = self.expression_penalty * abundance / self.pairs.len() as f64;
        self.negative_log_likelihood(expected) + penalty
    }

    /// `∂J/∂θ` given the expected counts `μ(θ)` already computed.
    pub fn gradient_with<M: CountModel>(
        &self,
        model: &M,
        parameters: &[f64],
        expected: &DMatrix<f64>,
    ) -> Vec<f64> {
        let mut gradient = model.pullback(parameters, &self.d_expected(expected));
        let rate = 2.0 * self.expression_penalty / self.pairs.len() as f64;
        for k in model.abundances() {
            gradient[k] += rate * parameters[k];
        }
        gradient
    }

    /// `J(θ)`.
    pub fn value<M: CountModel>(&self, model: &M, parameters: &[f64]) -> f64 {
        self.value_with(model, parameters, &model.expected_counts(parameters))
    }

    /// `J(θ)` and `∂J/∂θ`.
    pub fn value_and_gradient<M: CountModel>(
        &self,
        model: &M,
        parameters: &[f64],
    ) -> (f64, Vec<f64>) {
        let expected = model.expected_counts(parameters);
        let value = self.value_with(model, parameters, &expected);
        (value, self.gradient_with(model, parameters, &expected))
    }
}

/// The Poisson deviance of one pair, `2 (y ln(y / μ) - (y - μ))` (with `0 ln 0 = 0`, and `μ`
/// floored at `ε`): zero for a perfect prediction, about `(y - μ)² / μ` near it.
pub fn deviance(observed: f64, expected: f64) -> f64 {
    let mu = expected.max(RATE_FLOOR);
    let log_term = if observed > 0.0 { observed * (observed / mu).ln() } else { 0.0 };
    2.0 * (log_term - (observed - mu))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviance_vanishes_at_the_observation_and_grows_around_it() {
        assert_eq!(deviance(3.0, 3.0), 0.0);
        assert!((deviance(0.0, 0.5) - 1.0).abs() < 1e-15);
        assert!(deviance(3.0, 2.0) > 0.0 && deviance(3.0, 4.0) > 0.0);
        assert!((deviance(100.0, 101.0) - 1.0 / 101.0).abs() < 1e-4);
    }
}

#[cfg(test)]
mod gradient_tests {
    use nalgebra::DMatrix;

    use super::*;
    use crate::connectome::{Factorisation, GeneticModel, Learned};
    use crate::genome::RulesMask;
    use crate::rng::{Purpose, stream};

    /// Counts with zeros, ones and a heavy tail, on 9 cells.
    fn observed() -> DMatrix<f64> {
        DMatrix::from_fn(9, 9, |i, j| (((i * 7 + j * 3) % 11) as f64 - 5.0).max(0.0).powi(2))
    }

    /// Compares `∂J/∂θ` with fourth-order central differences,
    /// `(-J(θ + 2h) + 8 J(θ + h) - 8 J(θ - h) + J(θ - 2h)) / 12h`. Entries are compared relative
    /// to their own size, but never to less than 1e-3 of the largest entry, whose round-off they
    /// share.
    fn check<M: CountModel>(model: &M, name: &str) {
        let observed = observed();
        let pairs = Pairs::all(9, false);
        let objective = PoissonObjective::new(&observed, &pairs, 0.7);
        let theta = model.initial_parameters();
        let (_, analytic) = objective.value_and_gradient(model, &theta);
        let largest = analytic.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        let h = 1e-4;
        for k in 0..theta.len() {
            let at = |step: f64| {
                let mut moved = theta.clone();
                moved[k] += step * h;
                objective.value(model, &moved)
            };
            let numeric = (-at(2.0) + 8.0 * at(1.0) - 8.0 * at(-1.0) + at(-2.0)) / (12.0 * h);
            let scale = numeric.abs().max(analytic[k].abs()).max(1e-3 * largest);
            let error = (numeric - analytic[k]).abs() / scale;
            assert!(error < 1e-6, "{name}, θ[{k}]: numeric {numeric}, analytic {}", analytic[k]);
        }
    }

    fn genetic(learned: Learned, mask: Option<RulesMask>) -> GeneticModel {
        let mut rng = stream(5, Purpose::Fitting, 0);
        GeneticModel::random(9, 3, 1.7, 0.3, mask, learned, &mut rng)
    }

    #[test]
    fn genetic_gradients_match_finite_differences() {
        let all = Learned { expression: true, rules: true, scale: false };
        check(&genetic(all, None), "expression and rules");
        let mask = RulesMask::from_fn(3, |a, b| a <= b);
        check(&genetic(all, Some(mask)), "banded rules");
        let frozen = Learned { expression: false, rules: true, scale: true };
        check(&genetic(frozen, None), "rules and scale");
    }

    #[test]
    fn factorisation_gradients_match_finite_differences() {
        let mut rng = stream(6, Purpose::Fitting, 0);
        check(&Factorisation::random(9, 2, &mut rng), "factorisation");
        check(&Factorisation::degree_corrected(9, &mut rng), "degree corrected");
    }
}
