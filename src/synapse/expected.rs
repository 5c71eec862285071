//! The expected-weight network and its exact gradient.
//!
//! For the connection from layer `l` to layer `l + 1`:
//!
//! - expected synapse count `E[S_l] = E_l G E_{l+1}ᵀ` (a sum over gene pairs of binomials with
//!   `E_ia E_jb` trials and success probability `G_ab`);
//! - expected signed conductance of one synapse `E[c_l] = Q_l C R_{l+1}ᵀ`;
//! - weight `W_l = E[S_l] ⊙ E[c_l]`.
//!
//! [`Expected::backward`] takes the gradient of a loss with respect to the weights and biases
//! and returns it with respect to every learnable raw block, by the chain rule through the
//! products above and the maps of [`crate::genome::Map`].

use nalgebra::DMatrix;

use crate::genome::{Biology, BlockName, Genome, Gradient};
use crate::linalg::{Op, gemm, product, triple_abct};
use crate::net::{Activation, Dense, DenseGradient};

/// The expected network of a genome with the intermediate values its gradient needs.
#[derive(Debug, Clone)]
pub struct Expected {
    /// Biological values of the blocks.
    pub biology: Biology,
    /// `E[S_l]`, `N_l x N_{l+1}`, per connection.
    pub counts: Vec<DMatrix<f64>>,
    /// `E[c_l]`, `N_l x N_{l+1}`, per connection.
    pub conductance: Vec<DMatrix<f64>>,
    /// The network with weights `W_l = E[S_l] ⊙ E[c_l]`, the genome's biases and SELU hidden
    /// activations.
    pub network: Dense,
}

impl Expected {
    /// The expected network of `genome`.
    pub fn new(genome: &Genome) -> Self {
        let biology = genome.biology();
        let connections = genome.architecture().connections();
        let mut counts = Vec::with_capacity(connections);
        let mut conductance = Vec::with_capacity(connections);
        let mut weights = Vec::with_capacity(connections);
        for l in 0..connections {
            let s = triple_abct(&biology.expression[l], &biology.rules, &biology.expression[l + 1]);
            let c =
                triple_abct(&biology.transmitters[l], &biology.conductance, &biology.receptors[l]);
            weights.push(s.component_mul(&c));
            counts.push(s);
            conductance.push(c);
        }
        let biases = genome.block(BlockName::Biases).raw.clone();
        let network = Dense { weights, biases, hidden: Activation::Selu };
        Expected { biology, counts, conductance, network }
    }

    /// The gradient with respect to the learnable raw blocks of `genome` (the genome this
    /// network was built from), given the gradient with respect to the weights and biases.
    pub fn backward(&self, genome: &Genome, grad: &DenseGradient) -> Gradient {
        let learn = |name: BlockName| genome.block(name).learnable;
        let needs_counts = learn(BlockName::Expression) || learn(BlockName::Rules);
        let needs_conductance = learn(BlockName::Transmitters)
            || learn(BlockName::Receptors)
            || learn(BlockName::Conductance);
        let bio = &self.biology;
        let zeros_like = |ms: &[DMatrix<f64>]| -> Vec<DMatrix<f64>> {
            ms.iter().map(|m| DMatrix::zeros(m.nrows(), m.ncols())).collect()
        };
        let mut d_expression = zeros_like(&bio.expression);
        let mut d_rules = DMatrix::zeros(bio.rules.nrows(), bio.rules.ncols());
        let mut d_transmitters = zeros_like(&bio.transmitters);
        let mut d_receptors = zeros_like(&bio.receptors);
        let mut d_conductance = DMatrix::zeros(bio.conductance.nrows(), bio.conductance.ncols());

        // Through W = E[S] ⊙ E[c] into the two triple products.
        for (l, d_weights) in grad.weights.iter().enumerate() {
            if needs_counts {
                let d_counts = d_weights.component_mul(&self.conductance[l]);
                let (pre, post) = d_expression.split_at_mut(l + 1);
                count_backward(
                    &bio.expression[l],
                    &bio.rules,
                    &bio.expression[l + 1],
                    &d_counts,
                    &mut pre[l],
                    &mut d_rules,
                    &mut post[0],
                );
            }
            if needs_conductance {
                let d_cond = d_weights.component_mul(&self.counts[l]);
                count_backward(
                    &bio.transmitters[l],
                    &bio.conductance,
                    &bio.receptors[l],
                    &d_cond,
                    &mut d_transmitters[l],
                    &mut d_conductance,
                    &mut d_receptors[l],
                );
            }
        }

        // Through each block's map to its raw values.
        let pull = |name: BlockName, values: &[DMatrix<f64>], grads: &[DMatrix<f64>]| {
            if !learn(name) {
                return Vec::new();
            }
            let map = genome.map(name);
            let raw = &genome.block(name).raw;
            raw.iter().zip(values).zip(grads).map(|((r, v), d)| map.pullback(r, v, d)).collect()
        };
        Gradient {
            blocks: [
                pull(BlockName::Expression, &bio.expression, &d_expression),
                pull(
                    BlockName::Rules,
                    std::slice::from_ref(&bio.rules),
                    std::slice::from_ref(&d_rules),
                ),
                pull(BlockName::Transmitters, &bio.transmitters, &d_transmitters),
                pull(BlockName::Receptors, &bio.receptors, &d_receptors),
                pull(
                    BlockName::Conductance,
                    std::slice::from_ref(&bio.conductance),
                    std::slice::from_ref(&d_conductance),
                ),
                if learn(BlockName::Biases) { grad.biases.clone() } else { Vec::new() },
            ],
        }
    }
}

/// The backward pass of `Y = A B Cᵀ`: given `∂L/∂Y`, adds `∂L/∂A = ∂L/∂Y · C Bᵀ`,
/// `∂L/∂B = Aᵀ · ∂L/∂Y · C` and `∂L/∂C = ∂L/∂Yᵀ · A B` to `d_a`, `d_b` and `d_c`.
///
/// Shapes: `A: m x p`, `B: p x q`, `C: n x q`, `Y: m x n`. This is the pullback of both the
/// expected count `E G Eᵀ` and the expected conductance `Q C Rᵀ`.
///
/// Two association orders share work between the three products:
///
/// - through `M = ∂L/∂Y · C` (`m x q`): `∂L/∂A = M Bᵀ`, `∂L/∂B = Aᵀ M`,
///   `∂L/∂C = ∂L/∂Yᵀ (A B)`, costing `2 m n q + 3 m p q` multiplications;
/// - through `K = Aᵀ · ∂L/∂Y` (`p x n`): `∂L/∂B = K C`, `∂L/∂C = Kᵀ B`,
///   `∂L/∂A = ∂L/∂Y (C Bᵀ)`, costing `2 m n p + 3 n p q`.
///
/// The cheaper one is used: the first when the pre-synaptic layer is the small one (the input
/// layer), the second when the post-synaptic layer is (the output layer), where it saves the
/// `g x g`-sized products of a wide hidden layer.
pub fn count_backward(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    c: &DMatrix<f64>,
    d_y: &DMatrix<f64>,
    d_a: &mut DMatrix<f64>,
    d_b: &mut DMatrix<f64>,
    d_c: &mut DMatrix<f64>,
) {
    let (m, p, q, n) = (a.nrows(), a.ncols(), b.ncols(), c.nrows());
    if 2 * m * n * q + 3 * m * p * q <= 2 * m * n * p + 3 * n * p * q {
        let m_shared = product(d_y, Op::N, c, Op::N);
        gemm(1.0, &m_shared, Op::N, b, Op::T, 1.0, d_a);
        gemm(1.0, a, Op::T, &m_shared, Op::N, 1.0, d_b);
        let ab = product(a, Op::N, b, Op::N);
        gemm(1.0, d_y, Op::T, &ab, Op::N, 1.0, d_c);
    } else {
        let k_shared = product(a, Op::T, d_y, Op::N);
        gemm(1.0, &k_shared, Op::N, c, Op::N, 1.0, d_b);
        gemm(1.0, &k_shared, Op::T, b, Op::N, 1.0, d_c);
        let cbt = product(c, Op::N, b, Op::T);
        gemm(1.0, d_y, Op::N, &cbt, Op::N, 1.0, d_a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rows: usize, cols: usize, shift: f64) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |i, j| ((i * 5 + j * 3) as f64 * 0.43 + shift).sin())
    }

    #[test]
    fn both_association_orders_give_the_plain_products() {
        // A small pre-synaptic side takes the first order, a small post-synaptic side the second.
        for (m, p, q, n) in [(2, 5, 4, 30), (30, 5, 4, 2)] {
            let (a, b, c) = (sample(m, p, 0.1), sample(p, q, 0.2), sample(n, q, 0.3));
            let d_y = sample(m, n, 0.4);
            let (mut d_a, mut d_b, mut d_c) =
                (sample(m, p, 0.5), sample(p, q, 0.6), sample(n, q, 0.7));
            let want_a = &d_a + &d_y * &c * b.transpose();
            let want_b = &d_b + a.transpose() * &d_y * &c;
            let want_c = &d_c + d_y.transpose() * &a * &b;
            count_backward(&a, &b, &c, &d_y, &mut d_a, &mut d_b, &mut d_c);
            assert!((d_a - want_a).abs().max() < 1e-12, "{m}x{p}x{q}x{n}");
            assert!((d_b - want_b).abs().max() < 1e-12, "{m}x{p}x{q}x{n}");
            assert!((d_c - want_c).abs().max() < 1e-12, "{m}x{p}x{q}x{n}");
        }
    }
}
