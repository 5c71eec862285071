//! The one entry point for dense matrix products on the hot paths.
//!
//! nalgebra's own products are slow for thin matrices and for transposed operands (see the
//! measured facts in the design notes), so every hot product goes through [`gemm`], which calls
//! `matrixmultiply` on nalgebra's column-major storage and expresses transposes by strides.

use nalgebra::DMatrix;

/// Whether an operand enters a product as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Use the matrix as stored.
    N,
    /// Use the transpose of the matrix.
    T,
}

/// Shape and strides (rows, cols, row stride, col stride) of `m` viewed through `op`.
fn view(m: &DMatrix<f64>, op: Op) -> (usize, usize, isize, isize) {
    // Column-major storage: element (i, j) lives at i + j * nrows.
    let ld = m.nrows() as isize;
    match op {
        Op::N => (m.nrows(), m.ncols(), 1, ld),
        Op::T => (m.ncols(), m.nrows(), ld, 1),
    }
}

/// Products with at most this many multiply-adds, or with a dimension of at most [`THIN`],
/// go through the direct loops of [`gemm_direct`]; larger ones through `matrixmultiply`'s
/// packed kernels.
const SMALL: usize = 48 * 48 * 48;
/// See [`SMALL`].
const THIN: usize = 8;

/// `c = alpha · op(a) · op(b) + beta · c`.
///
/// Small and thin products (the common case in this crate: batches of 64 against layers of 2 to
/// 128 neurons) run as direct column loops over the column-major storage, which need no
/// packing; the others through `matrixmultiply`. `beta = 0` overwrites `c` without reading it.
///
/// # Panics
///
/// If the shapes do not agree (a broken contract of the caller, never bad input).
pub fn gemm(
    alpha: f64,
    a: &DMatrix<f64>,
    op_a: Op,
    b: &DMatrix<f64>,
    op_b: Op,
    beta: f64,
    c: &mut DMatrix<f64>,
) {
    let (m, k, rsa, csa) = view(a, op_a);
    let (kb, n, rsb, csb) = view(b, op_b);
    assert_eq!(k, kb, "gemm: inner dimensions differ");
    assert_eq!((c.nrows(), c.ncols()), (m, n), "gemm: output has the wrong shape");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == 0.0 {
            c.fill(0.0);
        } else {
            *c *= beta;
        }
        return;
    }
    let small = m.min(n).min(k) <= THIN || m * n * k <= SMALL;
    if small && (op_a == Op::N || op_b == Op::N) {
        gemm_direct(alpha, a, op_a, b, op_b, beta, c);
        return;
    }
    let ldc = c.nrows() as isize;
    // SAFETY: the pointers come from live matrices whose shapes were checked above, so every
    // (row, col) the kernel touches through these strides lies inside its allocation; `c` is
    // borrowed mutably and cannot alias `a` or `b`.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            1,
            ldc,
        );
    }
}

/// Direct loops for [`gemm`] over column-major storage: with `a` as stored, column `j` of `c`
/// is a sum of columns of `a` (contiguous axpy updates); with `a` transposed and `b` as
/// stored, every entry is a dot product of two contiguous columns, summed in four interleaved
/// partial sums so that it vectorises. Runs with AVX2 where the processor has it.
fn gemm_direct(
    alpha: f64,
    a: &DMatrix<f64>,
    op_a: Op,
    b: &DMatrix<f64>,
    op_b: Op,
    beta: f64,
    c: &mut DMatrix<f64>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        unsafe { gemm_direct_avx2(alpha, a, op_a, b, op_b, beta, c) };
        return;
    }
    gemm_direct_portable(alpha, a, op_a, b, op_b, beta, c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn gemm_direct_avx2(
    alpha: f64,
    a: &DMatrix<f64>,
    op_a: Op,
    b: &DMatrix<f64>,
    op_b: Op,
    beta: f64,
    c: &mut DMatrix<f64>,
) {
    gemm_direct_portable(alpha, a, op_a, b, op_b, beta, c);
}

#[inline(always)]
fn gemm_direct_portable(
    alpha: f64,
    a: &DMatrix<f64>,
    op_a: Op,
    b: &DMatrix<f64>,
    op_b: Op,
    beta: f64,
    c: &mut DMatrix<f64>,
) {
    let m = c.nrows();
    let (b_rows, b_data) = (b.nrows(), b.as_slice());
    match op_a {
        Op::N => {
            let a_data = a.as_slice();
            let k = a.ncols();
            for (j, column) in c.as_mut_slice().chunks_exact_mut(m).enumerate() {
                if beta == 0.0 {
                    column.fill(0.0);
                } else if beta != 1.0 {
                    column.iter_mut().for_each(|x| *x *= beta);
                }
                for p in 0..k {
                    // b[p, j], or b[j, p] for a transposed b.
                    let entry = match op_b {
                        Op::N => b_data[p + j * b_rows],
                        Op::T => b_data[j + p * b_rows],
                    };
                    let factor = alpha * entry;
                    if factor != 0.0 {
                        let a_column = &a_data[p * m..(p + 1) * m];
                        for (x, &y) in column.iter_mut().zip(a_column) {
                            *x += factor * y;
                        }
                    }
                }
            }
        }
        Op::T => {
            // Only (T, N) comes here: c[i, j] = Σ_p a[p, i] b[p, j].
            debug_assert_eq!(op_b, Op::N);
            let k = a.nrows();
            let a_data = a.as_slice();
            for j in 0..c.ncols() {
                let b_column = &b_data[j * k..(j + 1) * k];
                for i in 0..m {
                    let a_column = &a_data[i * k..(i + 1) * k];
                    let dot = dot(a_column, b_column);
                    let old = if beta == 0.0 { 0.0 } else { beta * c[(i, j)] };
                    c[(i, j)] = old + alpha * dot;
                }
            }
        }
    }
}

/// `Σ x_i y_i` in four interleaved partial sums (so that it vectorises), then the tail.
#[inline(always)]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut partial = [0.0; 4];
    let (xs, ys) = (x.chunks_exact(4), y.chunks_exact(4));
    let (x_tail, y_tail) = (xs.remainder(), ys.remainder());
    for (a, b) in xs.zip(ys) {
        for l in 0..4 {
            partial[l] += a[l] * b[l];
        }
    }
    let tail: f64 = x_tail.iter().zip(y_tail).map(|(a, b)| a * b).sum();
    (partial[0] + partial[1]) + (partial[2] + partial[3]) + tail
}

/// `op(a) · op(b)` as a new matrix.
pub fn product(a: &DMatrix<f64>, op_a: Op, b: &DMatrix<f64>, op_b: Op) -> DMatrix<f64> {
    let rows = view(a, op_a).0;
    let cols = view(b, op_b).1;
    let mut c = DMatrix::zeros(rows, cols);
    gemm(1.0, a, op_a, b, op_b, 0.0, &mut c);
    c
}

/// `a · b · cᵀ` in the cheaper association order.
///
/// With `a: m x p`, `b: p x q`, `c: n x q`, the order `(a b) cᵀ` costs `m p q + m q n`
/// multiplications and `a (b cᵀ)` costs `p q n + m p n`; the cheaper one is used.
pub fn triple_abct(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> DMatrix<f64> {
    let (m, p, q, n) = (a.nrows(), a.ncols(), b.ncols(), c.nrows());
    if m * p * q + m * q * n <= p * q * n + m * p * n {
        product(&product(a, Op::N, b, Op::N), Op::N, c, Op::T)
    } else {
        product(a, Op::N, &product(b, Op::N, c, Op::T), Op::N)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rows: usize, cols: usize, shift: f64) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |i, j| ((i * 7 + j * 3) as f64 * 0.37 + shift).sin())
    }

    #[test]
    fn gemm_agrees_with_nalgebra_for_every_transpose() {
        let a = sample(5, 3, 0.1);
        let b = sample(3, 4, 0.2);
        let cases = [
            (Op::N, Op::N, a.clone(), b.clone()),
            (Op::T, Op::N, a.transpose(), b.clone()),
            (Op::N, Op::T, a.clone(), b.transpose()),
            (Op::T, Op::T, a.transpose(), b.transpose()),
        ];
        let expected = &a * &b;
        for (op_a, op_b, left, right) in cases {
            let got = product(&left, op_a, &right, op_b);
            assert!((got - &expected).abs().max() < 1e-14);
        }
    }

    #[test]
    fn both_paths_agree_for_every_shape_and_transpose() {
        for (m, k, n) in [(64, 4, 128), (64, 128, 2), (128, 64, 2), (3, 70, 90), (70, 60, 50)] {
            let a = sample(m, k, 0.1);
            let b = sample(k, n, 0.2);
            let expected = &a * &b;
            let cases = [
                (Op::N, Op::N, a.clone(), b.clone()),
                (Op::T, Op::N, a.transpose(), b.clone()),
                (Op::N, Op::T, a.clone(), b.transpose()),
                (Op::T, Op::T, a.transpose(), b.transpose()),
            ];
            for (op_a, op_b, left, right) in cases {
                let mut c = sample(m, n, 0.3);
                let start = c.clone();
                gemm(0.5, &left, op_a, &right, op_b, 2.0, &mut c);
                let want = &expected * 0.5 + start * 2.0;
                assert!((c - want).abs().max() < 1e-11, "{m}x{k}x{n} {op_a:?}{op_b:?}");
            }
        }
    }

    #[test]
    fn gemm_accumulates_with_beta() {
        let a = sample(2, 3, 0.0);
        let b = sample(3, 2, 1.0);
        let mut c = sample(2, 2, 2.0);
        let expected = &a * &b * 2.0 + &c * 0.5;
        gemm(2.0, &a, Op::N, &b, Op::N, 0.5, &mut c);
        assert!((c - expected).abs().max() < 1e-14);
    }

    #[test]
    fn triple_product_is_order_independent() {
        let a = sample(4, 6, 0.3);
        let b = sample(6, 6, 0.4);
        let c = sample(128, 6, 0.5);
        let expected = &a * &b * c.transpose();
        assert!((triple_abct(&a, &b, &c) - &expected).abs().max() < 1e-12);
        let expected = &c * &b * a.transpose();
        assert!((triple_abct(&c, &b, &a) - expected).abs().max() < 1e-12);
    }
}
