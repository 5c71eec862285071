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

/// `c = alpha · op(a) · op(b) + beta · c`.
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
        *c *= beta;
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
