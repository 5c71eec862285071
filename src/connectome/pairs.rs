//! Sets of ordered cell pairs: the pairs a model is fitted to, and the folds it is scored on.

use nalgebra::DMatrix;
use rand::seq::SliceRandom;

use crate::rng::Stream;

/// A set of ordered pairs `(pre, post)` of `N` cells, stored as an `N x N` indicator matrix
/// `W` (`W_ij = 1` for members, `0` otherwise) so that sums over the set are `Σ W ⊙ ·`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pairs {
    indicator: DMatrix<f64>,
    len: usize,
}

impl Pairs {
    /// Every ordered pair of `cells` cells; self pairs `(i, i)` only if `self_pairs`.
    pub fn all(cells: usize, self_pairs: bool) -> Self {
        Pairs::from_fn(cells, |i, j| self_pairs || i != j)
    }

    /// The pairs `(i, j)` for which `member(i, j)` holds.
    pub fn from_fn(cells: usize, member: impl Fn(usize, usize) -> bool) -> Self {
        let indicator = DMatrix::from_fn(cells, cells, |i, j| if member(i, j) { 1.0 } else { 0.0 });
        let len = indicator.iter().filter(|&&w| w > 0.0).count();
        Pairs { indicator, len }
    }

    /// Number of cells `N`.
    pub fn cells(&self) -> usize {
        self.indicator.nrows()
    }

    /// Number of pairs in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `(pre, post)` is in the set.
    pub fn contains(&self, pre: usize, post: usize) -> bool {
        self.indicator[(pre, post)] > 0.0
    }

    /// The indicator matrix `W`, `N x N`.
    pub fn indicator(&self) -> &DMatrix<f64> {
        &self.indicator
    }

    /// The pairs in row-major order: pre-synaptic cell first, then post-synaptic cell.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let n = self.cells();
        (0..n).flat_map(move |i| (0..n).map(move |j| (i, j))).filter(|&(i, j)| self.contains(i, j))
    }

    /// The entries of `matrix` at the pairs, in the order of [`Pairs::iter`].
    pub fn gather(&self, matrix: &DMatrix<f64>) -> Vec<f64> {
        self.iter().map(|(i, j)| matrix[(i, j)]).collect()
    }

    /// The pairs of `self` that are not in `other`.
    pub fn without(&self, other: &Pairs) -> Pairs {
        Pairs::from_fn(self.cells(), |i, j| self.contains(i, j) && !other.contains(i, j))
    }

    /// A partition into `k` folds of (as near as possible) equal size: the pairs are shuffled
    /// with `rng` and dealt out in turn.
    ///
    /// # Panics
    ///
    /// If `k` is zero.
    pub fn folds(&self, k: usize, rng: &mut Stream) -> Vec<Pairs> {
        assert!(k > 0, "Pairs::folds: k must be positive");
        let mut members: Vec<(usize, usize)> = self.iter().collect();
        members.shuffle(rng);
        let n = self.cells();
        let mut folds = vec![DMatrix::zeros(n, n); k];
        for (index, &(i, j)) in members.iter().enumerate() {
            folds[index % k][(i, j)] = 1.0;
        }
        folds
            .into_iter()
            .map(|indicator| {
                let len = indicator.iter().filter(|&&w| w > 0.0).count();
                Pairs { indicator, len }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn folds_partition_the_pairs_evenly() {
        let pairs = Pairs::all(7, false);
        assert_eq!(pairs.len(), 42);
        let folds = pairs.folds(4, &mut stream(3, Purpose::Fitting, 0));
        let sizes: Vec<usize> = folds.iter().map(Pairs::len).collect();
        assert_eq!(sizes, [11, 11, 10, 10]);
        for (i, j) in pairs.iter() {
            assert_eq!(folds.iter().filter(|f| f.contains(i, j)).count(), 1);
        }
        assert!(folds.iter().all(|f| !f.contains(2, 2)));
        assert_eq!(pairs.without(&folds[0]).len(), 31);
        assert_eq!(folds, pairs.folds(4, &mut stream(3, Purpose::Fitting, 0)));
    }
}
