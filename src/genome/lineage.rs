//! Lineage trees: gene expression inherited through cell divisions.
//!
//! The control family's neurons descend from one zygote. The zygote's raw expression vector
//! `x ∈ ℝ^g` is drawn from the expression initialiser `N(0, 2/g)`; every division gives both
//! daughters the mother's vector plus independent noise `N(0, σ²)` per gene, with
//! `σ = division_noise · √(2/g)`. The tree is balanced: a cell that is to give rise to `m`
//! neurons divides into daughters giving rise to `⌈m/2⌉` and `⌊m/2⌋`, and a cell with `m = 1`
//! is a neuron. Read left to right, the `N` leaves are the network's neurons in layer order
//! (layer 0 first), so neighbours in the tree are neighbours in a layer.
//!
//! Two neurons whose last common ancestor lies `D` divisions above each of them differ by
//! `N(0, 2 D σ²)` per gene: siblings (`D = 1`) are close, cousins from the two halves of the
//! network (`D ≈ log₂ N`) far apart. A neuron `d` divisions below the zygote has raw variance
//! `(1 + d · division_noise²) · 2/g`.

use nalgebra::DMatrix;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::rng::Stream;

/// The settings of a lineage tree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lineage {
    /// The standard deviation of the noise a division adds to each raw expression value of a
    /// daughter, in units of the expression initialiser's standard deviation `√(2/g)`
    /// (default 0.5). Zero makes every neuron a copy of the zygote.
    pub division_noise: f64,
}

impl Default for Lineage {
    fn default() -> Self {
        Lineage { division_noise: 0.5 }
    }
}

/// Invalid lineage settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineageError {
    /// The division noise is negative or not finite.
    #[error("division_noise must be a finite number of at least 0, got {0}")]
    DivisionNoise(f64),
}

impl Lineage {
    /// Checks that the division noise is finite and non-negative.
    pub fn check(&self) -> Result<(), LineageError> {
        if self.division_noise.is_finite() && self.division_noise >= 0.0 {
            Ok(())
        } else {
            Err(LineageError::DivisionNoise(self.division_noise))
        }
    }

    /// The raw expression of `neurons` cells with `genes` genes each (`neurons x g`, one row
    /// per neuron in leaf order), grown from a zygote as described in the module docs.
    ///
    /// Draws: the zygote's `g` values, then, division by division in depth-first order (left
    /// daughter's subtree before the right's), the `g` noise values of the left daughter followed
    /// by those of the right.
    pub fn expression(
        &self,
        neurons: usize,
        genes: usize,
        rng: &mut Stream,
    ) -> Result<DMatrix<f64>, LineageError> {
        self.check()?;
        let scale = (2.0 / genes as f64).sqrt();
        let initialiser = Normal::new(0.0, scale).expect("a positive, finite deviation");
        let noise =
            Normal::new(0.0, self.division_noise * scale).expect("a checked, finite deviation");
        let zygote: Vec<f64> = (0..genes).map(|_| initialiser.sample(rng)).collect();
        let mut leaves = DMatrix::zeros(neurons, genes);
        let mut next_leaf = 0;
        divide(&zygote, neurons, &noise, rng, &mut leaves, &mut next_leaf);
        Ok(leaves)
    }
}

/// Lets `cell` give rise to `descendants` neurons, written to `leaves` from row `next_leaf` on.
fn divide(
    cell: &[f64],
    descendants: usize,
    noise: &Normal<f64>,
    rng: &mut Stream,
    leaves: &mut DMatrix<f64>,
    next_leaf: &mut usize,
) {
    if descendants == 1 {
        for (a, &x) in cell.iter().enumerate() {
            leaves[(*next_leaf, a)] = x;
        }
        *next_leaf += 1;
        return;
    }
    let mut daughter = || -> Vec<f64> { cell.iter().map(|x| x + noise.sample(rng)).collect() };
    let (left, right) = (daughter(), daughter());
    let left_descendants = descendants.div_ceil(2);
    divide(&left, left_descendants, noise, rng, leaves, next_leaf);
    divide(&right, descendants - left_descendants, noise, rng, leaves, next_leaf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};

    fn squared_distance(m: &DMatrix<f64>, i: usize, j: usize) -> f64 {
        (m.row(i) - m.row(j)).norm_squared()
    }

    #[test]
    fn without_noise_every_neuron_is_the_zygote() {
        let lineage = Lineage { division_noise: 0.0 };
        let leaves = lineage.expression(7, 3, &mut rng::stream(1, Purpose::Lineage, 0)).unwrap();
        assert_eq!(leaves.shape(), (7, 3));
        for i in 1..7 {
            assert_eq!(leaves.row(i), leaves.row(0));
        }
    }

    /// In a tree of 128 neurons, siblings differ by `2 g σ²` in squared distance on average,
    /// while two random neurons' last common ancestor lies about 6 divisions up: 12 `g σ²`.
    #[test]
    fn siblings_are_closer_than_strangers() {
        let lineage = Lineage::default();
        let leaves = lineage.expression(128, 16, &mut rng::stream(2, Purpose::Lineage, 0)).unwrap();
        let siblings: f64 = (0..64).map(|m| squared_distance(&leaves, 2 * m, 2 * m + 1)).sum();
        let strangers: f64 = (0..64).map(|m| squared_distance(&leaves, m, 127 - m)).sum();
        assert!(siblings < 0.3 * strangers, "siblings {siblings}, strangers {strangers}");

        // The expected sibling distance, 2 g σ² with σ² = 0.25 · 2/g, within 30 %.
        let expected = 64.0 * 2.0 * 16.0 * 0.25 * 2.0 / 16.0;
        assert!((siblings / expected - 1.0).abs() < 0.3, "{siblings} vs {expected}");
    }

    #[test]
    fn invalid_noise_is_rejected() {
        for noise in [-0.1, f64::NAN, f64::INFINITY] {
            let lineage = Lineage { division_noise: noise };
            let error = lineage.expression(4, 2, &mut rng::stream(1, Purpose::Lineage, 0));
            assert!(matches!(error, Err(LineageError::DivisionNoise(_))));
        }
    }

    #[test]
    fn settings_read_from_experiment_files() {
        let lineage: Lineage = ron::from_str("(division_noise: 0.2)").unwrap();
        assert_eq!(lineage.division_noise, 0.2);
        assert_eq!(ron::from_str::<Lineage>("()").unwrap(), Lineage::default());
        assert!(ron::from_str::<Lineage>("(division_nosie: 0.2)").is_err());
    }
}
