//! Null models: what the genetic model is measured against.
//!
//! Both nulls are the non-negative factorisation `μ = (U ⊙ U)(V ⊙ V)ᵀ` (`U, V: N x r`), fitted
//! with the same likelihood, penalty and optimiser as the genetic model:
//!
//! - **degree-corrected** (`r = 1`): `μ_ij = a_i b_j`, each cell's out-strength `a_i` times the
//!   in-strength `b_j` of its partner. Fitted by Poisson maximum likelihood to all `N²` pairs it
//!   is `s_i^out s_j^in / Σ S` (the expected-degree model of Chung and Lu, with
//!   multiplicities); without self pairs or held-out pairs it is close to that. It knows how much each cell connects, but nothing about with whom.
//! - **unconstrained factorisation** with as many parameters as the genetic model: `2 N r` is
//!   matched to `N g + g²` by `r = max(1, round((N g + g²) / 2N))`. The genetic model is a
//!   factorisation too (`E G Eᵀ`, the same expression on both sides, rules confined to `[0, 1]`);
//!   this null drops those constraints.

use std::ops::Range;

use nalgebra::DMatrix;
use rand_distr::{Distribution, Normal};

use super::CountModel;
use crate::linalg::{Op, product};
use crate::rng::Stream;

/// The non-negative factorisation `μ = A Bᵀ` with `A = U ⊙ U`, `B = V ⊙ V` (`N x r`); the
/// parameters are `U` then `V`, column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Factorisation {
    cells: usize,
    rank: usize,
    initial: Vec<f64>,
}

impl Factorisation {
    /// A factorisation of rank `rank` with raw factors drawn from `N(0, 1)` (a fit rescales
    /// them to the observed total before it starts).
    pub fn random(cells: usize, rank: usize, rng: &mut Stream) -> Self {
        let normal = Normal::new(0.0, 1.0).expect("unit normal");
        let initial = (0..2 * cells * rank).map(|_| normal.sample(rng)).collect();
        Factorisation { cells, rank, initial }
    }

    /// The degree-corrected null: rank one, `μ_ij = a_i b_j`.
    pub fn degree_corrected(cells: usize, rng: &mut Stream) -> Self {
        Factorisation::random(cells, 1, rng)
    }

    /// The rank whose parameter count `2 N r` is nearest to the genetic model's `N g + g²`
    /// (at least one).
    pub fn matching_rank(cells: usize, genes: usize) -> usize {
        let genetic = (cells * genes + genes * genes) as f64;
        ((genetic / (2.0 * cells as f64)).round() as usize).max(1)
    }

    /// The rank `r`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The factors `(A, B)` at `θ`.
    fn factors(&self, parameters: &[f64]) -> (DMatrix<f64>, DMatrix<f64>) {
        assert_eq!(parameters.len(), self.parameter_count(), "Factorisation: wrong |θ|");
        let (u, v) = parameters.split_at(self.cells * self.rank);
        let square =
            |raw: &[f64]| DMatrix::from_iterator(self.cells, self.rank, raw.iter().map(|x| x * x));
        (square(u), square(v))
    }
}

impl CountModel for Factorisation {
    fn cells(&self) -> usize {
        self.cells
    }

    fn parameter_count(&self) -> usize {
        2 * self.cells * self.rank
    }

    fn initial_parameters(&self) -> Vec<f64> {
        self.initial.clone()
    }

    fn expected_counts(&self, parameters: &[f64]) -> DMatrix<f64> {
        let (a, b) = self.factors(parameters);
        product(&a, Op::N, &b, Op::T)
    }

    fn pullback(&self, parameters: &[f64], d_counts: &DMatrix<f64>) -> Vec<f64> {
        // ∂L/∂A = D B, ∂L/∂B = Dᵀ A, then ∂(x²)/∂x = 2x.
        let (a, b) = self.factors(parameters);
        let d_a = product(d_counts, Op::N, &b, Op::N);
        let d_b = product(d_counts, Op::T, &a, Op::N);
        let raw = parameters.iter();
        let d_factors = d_a.as_slice().iter().chain(d_b.as_slice());
        raw.zip(d_factors).map(|(x, d)| 2.0 * x * d).collect()
    }

    fn abundances(&self) -> Range<usize> {
        0..self.parameter_count()
    }

    fn rescale(&self, parameters: &mut [f64], factor: f64) {
        let root = factor.powf(0.25);
        parameters.iter_mut().for_each(|x| *x *= root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_rank_balances_parameter_counts() {
        // Cook 2019: N = 473, g = 32 gives N g + g² = 16 160 and r = 17 (16 082 parameters).
        assert_eq!(Factorisation::matching_rank(473, 32), 17);
        assert_eq!(Factorisation::matching_rank(60, 4), 2);
        assert_eq!(Factorisation::matching_rank(473, 1), 1);
    }
}
