//! Maps from raw block values to biological values, and their pullbacks (vector-Jacobian
//! products) for the backward pass.

use nalgebra::DMatrix;

use super::RulesMask;

/// The map of a block from raw values to biological values.
#[derive(Debug, Clone, Copy)]
pub enum Map<'a> {
    /// `v = x²` elementwise (expression).
    Square,
    /// `v = σ(x / τ)` elementwise (rules without a mask).
    Sigmoid {
        /// The temperature τ.
        temperature: f64,
    },
    /// Rules under a mask `M` of `g` genes: `v = 0.5 + 0.5 σ((x + 3/g) / τ)` where `M` holds,
    /// `v = 0.5 σ((x - 3/g) / τ)` elsewhere, so rule pairs live in `[0.5, 1]`, others in
    /// `[0, 0.5]`.
    BandedSigmoid {
        /// The temperature τ.
        temperature: f64,
        /// The gene pairs known to interact.
        mask: &'a RulesMask,
    },
    /// Softmax of every row (transmitters, receptors).
    RowSoftmax,
    /// `v = s · P ⊙ σ(x)` (conductance, signed by the fixed polarity `P`).
    SignedSigmoid {
        /// The polarity `P`, `k x 2k` of `+1`, `-1` and `0`.
        polarity: &'a DMatrix<f64>,
        /// The scale `s`.
        scale: f64,
    },
    /// `v = x` (biases).
    Identity,
}

/// The logistic function `σ(x) = 1 / (1 + e^{-x})`.
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The fixed polarity matrix `P` for `k` transmitters: transmitter `t` excites through receptor
/// `2t` (`+1`) and inhibits through receptor `2t + 1` (`-1`); all other entries are `0`.
pub fn polarity(transmitters: usize) -> DMatrix<f64> {
    DMatrix::from_fn(transmitters, 2 * transmitters, |t, r| {
        if r == 2 * t {
            1.0
        } else if r == 2 * t + 1 {
            -1.0
        } else {
            0.0
        }
    })
}

impl Map<'_> {
    /// Offset and band of a banded rule entry: `(shift, floor)` such that
    /// `v = floor + 0.5 σ((x + shift) / τ)`.
    fn band(mask: &RulesMask, row: usize, col: usize) -> (f64, f64) {
        let shift = 3.0 / mask.genes() as f64;
        if mask.get(row, col) { (shift, 0.5) } else { (-shift, 0.0) }
    }

    /// The biological value of a raw matrix.
    pub fn value(&self, raw: &DMatrix<f64>) -> DMatrix<f64> {
        match *self {
            Map::Square => raw.map(|x| x * x),
            Map::Sigmoid { temperature } => raw.map(|x| sigmoid(x / temperature)),
            Map::BandedSigmoid { temperature, mask } => {
                DMatrix::from_fn(raw.nrows(), raw.ncols(), |i, j| {
                    let (shift, floor) = Self::band(mask, i, j);
                    floor + 0.5 * sigmoid((raw[(i, j)] + shift) / temperature)
                })
            }
            Map::RowSoftmax => {
                let mut value = raw.clone();
                for i in 0..raw.nrows() {
                    let max = raw.row(i).max();
                    let mut sum = 0.0;
                    for j in 0..raw.ncols() {
                        let e = (raw[(i, j)] - max).exp();
                        value[(i, j)] = e;
                        sum += e;
                    }
                    for j in 0..raw.ncols() {
                        value[(i, j)] /= sum;
                    }
                }
                value
            }
            Map::SignedSigmoid { polarity, scale } => {
                raw.zip_map(polarity, |x, p| scale * p * sigmoid(x))
            }
            Map::Identity => raw.clone(),
        }
    }

    /// The pullback: given the raw matrix, its value `v` (from [`Map::value`]) and the gradient
    /// of a loss with respect to `v`, the gradient with respect to the raw matrix.
    pub fn pullback(
        &self,
        raw: &DMatrix<f64>,
        value: &DMatrix<f64>,
        grad: &DMatrix<f64>,
    ) -> DMatrix<f64> {
        match *self {
            // d(x²)/dx = 2x
            Map::Square => raw.zip_map(grad, |x, d| 2.0 * x * d),
            // dσ(x/τ)/dx = σ(1 - σ)/τ
            Map::Sigmoid { temperature } => {
                value.zip_map(grad, |v, d| d * v * (1.0 - v) / temperature)
            }
            Map::BandedSigmoid { temperature, mask } => {
                DMatrix::from_fn(raw.nrows(), raw.ncols(), |i, j| {
                    let (shift, _) = Self::band(mask, i, j);
                    let s = sigmoid((raw[(i, j)] + shift) / temperature);
                    grad[(i, j)] * 0.5 * s * (1.0 - s) / temperature
                })
            }
            // Softmax rows: dx_j = v_j (d_j - Σ_m v_m d_m)
            Map::RowSoftmax => {
                let mut out = grad.clone();
                for i in 0..raw.nrows() {
                    let dot: f64 = (0..raw.ncols()).map(|j| value[(i, j)] * grad[(i, j)]).sum();
                    for j in 0..raw.ncols() {
                        out[(i, j)] = value[(i, j)] * (grad[(i, j)] - dot);
                    }
                }
                out
            }
            // d(s p σ(x))/dx = s p σ(1 - σ)
            Map::SignedSigmoid { polarity, scale } => {
                DMatrix::from_fn(raw.nrows(), raw.ncols(), |i, j| {
                    let s = sigmoid(raw[(i, j)]);
                    grad[(i, j)] * scale * polarity[(i, j)] * s * (1.0 - s)
                })
            }
            Map::Identity => grad.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_pullback(map: Map<'_>, raw: DMatrix<f64>) {
        // A fixed linear functional of the value: L = Σ w ⊙ v.
        let weights =
            DMatrix::from_fn(raw.nrows(), raw.ncols(), |i, j| 0.3 + (i * 5 + j) as f64 * 0.1);
        let loss = |r: &DMatrix<f64>| map.value(r).component_mul(&weights).sum();
        let analytic = map.pullback(&raw, &map.value(&raw), &weights);
        let h = 1e-6;
        for idx in 0..raw.len() {
            let (mut plus, mut minus) = (raw.clone(), raw.clone());
            plus[idx] += h;
            minus[idx] -= h;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h);
            let err =
                (numeric - analytic[idx]).abs() / numeric.abs().max(analytic[idx].abs()).max(1e-8);
            assert!(
                err < 1e-6,
                "{map:?} entry {idx}: numeric {numeric}, analytic {}",
                analytic[idx]
            );
        }
    }

    fn raw(rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |i, j| ((i * 3 + j * 7) as f64 * 0.71).sin() * 0.4)
    }

    #[test]
    fn pullbacks_match_finite_differences() {
        let mask = RulesMask::from_fn(3, |a, b| (a + b) % 2 == 0);
        let pol = polarity(2);
        check_pullback(Map::Square, raw(3, 4));
        check_pullback(Map::Sigmoid { temperature: 0.5 }, raw(3, 3));
        check_pullback(Map::BandedSigmoid { temperature: 0.5, mask: &mask }, raw(3, 3));
        check_pullback(Map::RowSoftmax, raw(4, 6));
        check_pullback(Map::SignedSigmoid { polarity: &pol, scale: 2.0 }, raw(2, 4));
        check_pullback(Map::Identity, raw(1, 5));
    }

    #[test]
    fn banded_rules_start_in_their_bands() {
        // With g = 39 and raw zero: rule pairs near 0.84, others near 0.16 (τ = 0.1).
        let mask = RulesMask::from_fn(39, |a, b| a == b);
        let value =
            Map::BandedSigmoid { temperature: 0.1, mask: &mask }.value(&DMatrix::zeros(39, 39));
        assert!((value[(0, 0)] - 0.8416).abs() < 1e-3);
        assert!((value[(0, 1)] - 0.1584).abs() < 1e-3);
    }

    #[test]
    fn polarity_pairs_each_transmitter_with_two_receptors() {
        let p = polarity(3);
        assert_eq!(p.column_sum().as_slice(), &[0.0; 3]);
        assert_eq!(p[(1, 2)], 1.0);
        assert_eq!(p[(1, 3)], -1.0);
        assert_eq!(p.iter().filter(|v| **v != 0.0).count(), 6);
    }
}
