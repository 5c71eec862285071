//! Layered feed-forward networks: batched forward and backward passes, activations, and a fast
//! single-observation path for acting in a task.
//!
//! A [`Dense`] network knows nothing of genomes: the expected-weight network of a genome and a
//! plain multilayer perceptron are both `Dense` networks, differing only in where the weights
//! come from and where their gradients go.

use nalgebra::DMatrix;
use rand_distr::{Distribution, Uniform};
use serde::{Deserialize, Serialize};

use crate::linalg::{Op, gemm};
use crate::rng::Stream;

/// SELU's `α`.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// SELU's `λ` (scale).
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// `eˣ` for `x ≤ 0`, branch-free so that loops over it vectorise.
///
/// Range reduction `x = n ln 2 + r` with `|r| ≤ ln 2 / 2` (Cody-Waite, two-part `ln 2`), then
/// the Taylor polynomial of `eʳ` to degree 13 (truncation below `5e-18` relative) and scaling by
/// `2ⁿ` through the exponent bits. Inputs below `-700` are clamped there (SELU only needs
/// `eˣ - 1`, which is `-1` to the last bit there). The result is within 2 ulp of the system's
/// libm `exp` (a test checks this).
#[inline(always)]
pub fn exp_negative(x: f64) -> f64 {
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 · 2⁵², rounds to an integer when added
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = x.clamp(-700.0, 0.0);
    let t = x * std::f64::consts::LOG2_E + SHIFT;
    let n = t - SHIFT;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    for k in (1..13u32).rev() {
        p = p * r + INVERSE_FACTORIALS[k as usize];
    }
    p = p * r + 1.0;
    let exponent = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64) + 1023;
    p * f64::from_bits((exponent as u64) << 52)
}

/// `1 / k!` for `k = 0..13`.
const INVERSE_FACTORIALS: [f64; 13] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
];

/// The activation of hidden layers (the output layer is always the identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `λ x` for `x > 0`, `λ α (eˣ - 1)` otherwise (with [`exp_negative`]).
    Selu,
    /// `max(x, 0)`.
    Relu,
    /// `x`.
    Identity,
}

impl Activation {
    /// The activation of `x`.
    #[inline(always)]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Selu => {
                let negative = SELU_SCALE * SELU_ALPHA * (exp_negative(x) - 1.0);
                if x > 0.0 { SELU_SCALE * x } else { negative }
            }
            Activation::Relu => x.max(0.0),
            Activation::Identity => x,
        }
    }

    /// `out[i] = φ(z[i])` for a whole slice, with the widest vector instructions the processor
    /// offers (AVX2 where present). No fused multiply-add is used, so every processor computes
    /// the same bits.
    pub fn apply_slice(self, z: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            unsafe { self.apply_slice_avx2(z, out) };
            return;
        }
        self.apply_slice_portable(z, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn apply_slice_avx2(self, z: &[f64], out: &mut [f64]) {
        self.apply_slice_portable(z, out);
    }

    #[inline(always)]
    fn apply_slice_portable(self, z: &[f64], out: &mut [f64]) {
        for (a, &z) in out.iter_mut().zip(z) {
            *a = self.apply(z);
        }
    }

    /// The derivative at `x`, given also the activation `a = φ(x)` (SELU's derivative for
    /// `x ≤ 0` is `λ α eˣ = a + λ α`, which saves an exponential).
    #[inline]
    pub fn derivative(self, x: f64, a: f64) -> f64 {
        match self {
            Activation::Selu => {
                if x > 0.0 {
                    SELU_SCALE
                } else {
                    a + SELU_SCALE * SELU_ALPHA
                }
            }
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Identity => 1.0,
        }
    }
}

/// A layered network `a_{l+1} = φ(a_l W_l + b_{l+1})`, `φ` the hidden activation on hidden
/// layers and the identity on the output.
///
/// Shapes: `W_l` is `N_l x N_{l+1}`, `b_{l+1}` is `1 x N_{l+1}`; a batch of inputs is a
/// `B x N_0` matrix (one row per sample).
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Weights per connection.
    pub weights: Vec<DMatrix<f64>>,
    /// Biases per post-synaptic layer.
    pub biases: Vec<DMatrix<f64>>,
    /// Activation of hidden layers.
    pub hidden: Activation,
}

/// What a traced forward pass keeps for the backward pass.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Layer activities `a_0 ... a_L` (`a_0` is the input, `a_L` the output).
    pub activities: Vec<DMatrix<f64>>,
    /// Pre-activations `z_1 ... z_L`.
    pub pre_activations: Vec<DMatrix<f64>>,
}

impl Trace {
    /// The output of the traced pass.
    pub fn output(&self) -> &DMatrix<f64> {
        self.activities.last().expect("a traced pass has an output")
    }
}

/// Gradients of a loss with respect to a [`Dense`] network's weights and biases.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseGradient {
    /// `∂L/∂W_l`.
    pub weights: Vec<DMatrix<f64>>,
    /// `∂L/∂b_l`.
    pub biases: Vec<DMatrix<f64>>,
}

impl DenseGradient {
    /// All entries as one vector, laid out as [`Dense::parameters`].
    pub fn flatten(&self) -> Vec<f64> {
        self.weights.iter().chain(&self.biases).flat_map(|m| m.iter().copied()).collect()
    }
}

/// Reusable buffers for [`Dense::act`].
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    current: Vec<f64>,
    pre_activation: Vec<f64>,
    next: Vec<f64>,
}

impl Dense {
    /// A multilayer perceptron with PyTorch's default initialisation: every weight and bias of a
    /// layer with `n` inputs uniform in `[-1/√n, 1/√n]`.
    pub fn mlp(layers: &[usize], hidden: Activation, rng: &mut Stream) -> Dense {
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for pair in layers.windows(2) {
            let bound = 1.0 / (pair[0] as f64).sqrt();
            let uniform = Uniform::new_inclusive(-bound, bound).expect("bound is finite");
            weights.push(DMatrix::from_fn(pair[0], pair[1], |_, _| uniform.sample(rng)));
            biases.push(DMatrix::from_fn(1, pair[1], |_, _| uniform.sample(rng)));
        }
        Dense { weights, biases, hidden }
    }

    /// Neurons per layer.
    pub fn layers(&self) -> Vec<usize> {
        let mut layers = vec![self.weights[0].nrows()];
        layers.extend(self.weights.iter().map(|w| w.ncols()));
        layers
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.weights.iter().chain(&self.biases).map(|m| m.len()).sum()
    }

    /// All weights then all biases, each matrix column-major, as one vector.
    pub fn parameters(&self) -> Vec<f64> {
        self.weights.iter().chain(&self.biases).flat_map(|m| m.iter().copied()).collect()
    }

    /// Sets all weights and biases from a vector laid out as [`Dense::parameters`].
    ///
    /// # Panics
    ///
    /// If the length is not [`Dense::parameter_count`].
    pub fn set_parameters(&mut self, flat: &[f64]) {
        assert_eq!(flat.len(), self.parameter_count(), "set_parameters: wrong length");
        let mut offset = 0;
        for m in self.weights.iter_mut().chain(self.biases.iter_mut()) {
            let len = m.len();
            m.as_mut_slice().copy_from_slice(&flat[offset..offset + len]);
            offset += len;
        }
    }

    fn activation_of(&self, connection: usize) -> Activation {
        if connection + 1 == self.weights.len() { Activation::Identity } else { self.hidden }
    }

    /// The outputs (`B x N_L`) for a batch of inputs (`B x N_0`).
    pub fn forward(&self, input: &DMatrix<f64>) -> DMatrix<f64> {
        let mut trace = Trace::default();
        self.forward_traced(input, &mut trace);
        trace.activities.pop().expect("output")
    }

    /// The forward pass, keeping in `trace` what [`Dense::backward`] needs. The trace's buffers
    /// are reused between calls of the same batch size.
    pub fn forward_traced(&self, input: &DMatrix<f64>, trace: &mut Trace) {
        let batch = input.nrows();
        let depth = self.weights.len();
        trace.activities.resize_with(depth + 1, || DMatrix::zeros(0, 0));
        trace.pre_activations.resize_with(depth, || DMatrix::zeros(0, 0));
        trace.activities[0].clone_from(input);
        for l in 0..depth {
            let width = self.weights[l].ncols();
            let z = &mut trace.pre_activations[l];
            if z.shape() != (batch, width) {
                *z = DMatrix::zeros(batch, width);
            }
            // z = a_l W_l + 1 b (columns of z are contiguous)
            for (column, &b) in z.as_mut_slice().chunks_exact_mut(batch).zip(self.biases[l].iter())
            {
                column.fill(b);
            }
            gemm(1.0, &trace.activities[l], Op::N, &self.weights[l], Op::N, 1.0, z);
            let act = self.activation_of(l);
            let a = &mut trace.activities[l + 1];
            if a.shape() != (batch, width) {
                *a = DMatrix::zeros(batch, width);
            }
            act.apply_slice(z.as_slice(), a.as_mut_slice());
        }
    }

    /// The backward pass: from `∂L/∂output` (`B x N_L`) of the traced batch, the gradients of all
    /// weights and biases.
    pub fn backward(&self, trace: &Trace, d_output: &DMatrix<f64>) -> DenseGradient {
        let depth = self.weights.len();
        let mut weights = vec![DMatrix::zeros(0, 0); depth];
        let mut biases = vec![DMatrix::zeros(0, 0); depth];
        // δ_L = ∂L/∂z_L (identity output)
        let mut delta = d_output.clone();
        for l in (0..depth).rev() {
            // ∂L/∂W_l = a_lᵀ δ, ∂L/∂b = Σ_rows δ
            let mut dw = DMatrix::zeros(self.weights[l].nrows(), self.weights[l].ncols());
            gemm(1.0, &trace.activities[l], Op::T, &delta, Op::N, 0.0, &mut dw);
            weights[l] = dw;
            let sums = delta.as_slice().chunks_exact(delta.nrows()).map(|c| c.iter().sum::<f64>());
            biases[l] = DMatrix::from_iterator(1, delta.ncols(), sums);
            if l > 0 {
                // δ_{l-1} = (δ W_lᵀ) ⊙ φ'(z_{l-1})
                let mut da = DMatrix::zeros(delta.nrows(), self.weights[l].nrows());
                gemm(1.0, &delta, Op::N, &self.weights[l], Op::T, 0.0, &mut da);
                let act = self.activation_of(l - 1);
                let (z, a) = (&trace.pre_activations[l - 1], &trace.activities[l]);
                let (z, a) = (z.as_slice(), a.as_slice());
                for ((d, &z), &a) in da.as_mut_slice().iter_mut().zip(z).zip(a) {
                    *d *= act.derivative(z, a);
                }
                delta = da;
            }
        }
        DenseGradient { weights, biases }
    }

    /// The output for one observation, written into `scratch` and returned as a slice: the
    /// allocation-free path used when acting in a task.
    pub fn act<'s>(&self, observation: &[f64], scratch: &'s mut Scratch) -> &'s [f64] {
        let Scratch { current, pre_activation, next } = scratch;
        current.clear();
        current.extend_from_slice(observation);
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let rows = w.nrows();
            // Column j of W_l (contiguous in column-major storage) dotted with the activity.
            pre_activation.resize(w.ncols(), 0.0);
            let columns = w.as_slice().chunks_exact(rows);
            for ((z, column), &bias) in pre_activation.iter_mut().zip(columns).zip(b.as_slice()) {
                *z = column.iter().zip(current.iter()).map(|(w, a)| w * a).sum::<f64>() + bias;
            }
            // The activation over the whole layer at once, vectorised.
            next.resize(pre_activation.len(), 0.0);
            self.activation_of(l).apply_slice(pre_activation, next);
            std::mem::swap(current, next);
        }
        current
    }

    /// The index of the largest output for one observation (the greedy action); the first
    /// index wins ties, as NumPy's and PyTorch's argmax do.
    pub fn greedy(&self, observation: &[f64], scratch: &mut Scratch) -> usize {
        argmax(self.act(observation, scratch))
    }
}

/// Index of the largest value; the first wins ties.
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};

    fn net(hidden: Activation) -> Dense {
        Dense::mlp(&[3, 5, 4, 2], hidden, &mut rng::stream(1, Purpose::Init, 0))
    }

    fn batch() -> DMatrix<f64> {
        DMatrix::from_fn(6, 3, |i, j| ((i * 3 + j) as f64 * 0.9).sin())
    }

    #[test]
    fn backward_matches_finite_differences() {
        for hidden in [Activation::Selu, Activation::Relu, Activation::Identity] {
            let net = net(hidden);
            let input = batch();
            // L = Σ c ⊙ output with fixed c.
            let c = DMatrix::from_fn(6, 2, |i, j| 0.5 + (i + 2 * j) as f64 * 0.1);
            let loss = |n: &Dense| n.forward(&input).component_mul(&c).sum();
            let mut trace = Trace::default();
            net.forward_traced(&input, &mut trace);
            let analytic = net.backward(&trace, &c).flatten();
            let params = net.parameters();
            for (i, &a) in analytic.iter().enumerate() {
                let (mut plus, mut minus) = (net.clone(), net.clone());
                let mut p = params.clone();
                p[i] += 1e-6;
                plus.set_parameters(&p);
                p[i] -= 2e-6;
                minus.set_parameters(&p);
                let numeric = (loss(&plus) - loss(&minus)) / 2e-6;
                assert!((numeric - a).abs() <= 1e-6 * numeric.abs().max(1.0), "{hidden:?} {i}");
            }
        }
    }

    #[test]
    fn act_agrees_with_the_batched_pass() {
        let net = net(Activation::Selu);
        let input = batch();
        let outputs = net.forward(&input);
        let mut scratch = Scratch::default();
        for i in 0..input.nrows() {
            let row: Vec<f64> = input.row(i).iter().copied().collect();
            let out = net.act(&row, &mut scratch).to_vec();
            assert!(
                (out[0] - outputs[(i, 0)]).abs() < 1e-12
                    && (out[1] - outputs[(i, 1)]).abs() < 1e-12
            );
            assert_eq!(net.greedy(&row, &mut scratch), argmax(&out));
        }
    }

    #[test]
    fn fast_exp_is_within_two_ulp_of_libm() {
        let mut worst = 0.0f64;
        for i in 0..200_000 {
            let x = -(i as f64) * 7.1e-4 - (i % 7) as f64 * 1e-9;
            let ours = exp_negative(x);
            let libm = x.exp();
            worst = worst.max((ours - libm).abs() / (libm * f64::EPSILON));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
    }

    #[test]
    fn selu_matches_its_definition() {
        assert_eq!(Activation::Selu.apply(1.0), SELU_SCALE);
        assert!(
            (Activation::Selu.apply(-1.0) - SELU_SCALE * SELU_ALPHA * ((-1.0f64).exp() - 1.0))
                .abs()
                < 1e-15
        );
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
    }
}
