//! `faer` matrices in (feature `faer`): [`gemm`], [`gemm_with`] and [`matmul`] take faer's
//! views (`a.as_ref()`, `c.as_mut()` of a `Mat`, or any `MatRef`/`MatMut`).
//!
//! Every view is used in place, without a copy: column-major `Mat`s, their transposes,
//! sub-blocks of a larger matrix and reversed views (negative strides) (see the
//! [adapters' rules](crate#other-crates-matrices)).
//!
//! ```
//! use faer::Mat;
//!
//! let a = Mat::from_fn(3, 2, |i, j| (2 * i + j + 1) as f64); // [[1, 2], [3, 4], [5, 6]]
//! let b = Mat::from_fn(2, 2, |i, j| if i <= j { 1.0 } else { 0.0 }); // [[1, 1], [0, 1]]
//! let mut c = Mat::<f64>::zeros(3, 2);
//! matmul::faer::gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
//! assert_eq!((c[(0, 1)], c[(2, 1)]), (3.0, 11.0));
//! // A transpose is a view: no copy. `matmul` returns a new `Mat`.
//! let ata = matmul::faer::matmul(a.as_ref().transpose(), a.as_ref())?;
//! assert_eq!(ata[(0, 0)], 35.0);
//! # Ok::<(), matmul::Error>(())
//! ```

use ::faer::{Mat, MatMut, MatRef};
use matmul_core::{Backend, Result, Scalar};

use super::Shape;

fn shape<T>(m: MatRef<'_, T>) -> Shape {
    Shape { rows: m.nrows(), cols: m.ncols(), strides: (m.row_stride(), m.col_stride()) }
}

fn read<T: Scalar>(m: MatRef<'_, T>) -> Result<matmul_core::MatRef<'_, T>> {
    // SAFETY: a faer `MatRef` is a shared view: `as_ptr` is element (0, 0), element (i, j)
    // lies `i·row_stride + j·col_stride` elements from it in one allocation, and nothing
    // writes those elements for the view's lifetime, which the core view keeps.
    unsafe { super::read(m.as_ptr(), shape(m)) }
}

/// `C ← α·A·B + β·C` on the [`best`](crate::best) backend.
pub fn gemm<T: Scalar>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) -> Result<()> {
    gemm_with(crate::best()?, alpha, a, b, beta, c)
}

/// `C ← α·A·B + β·C` on `backend`.
pub fn gemm_with<T: Scalar>(
    backend: &dyn Backend,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    let c_shape = shape(c.as_ref());
    // SAFETY: as in `read`; a faer `MatMut` grants unique access to its elements for its
    // lifetime, and `c` is moved here, so nothing else touches them during the call.
    let c = unsafe { super::write(c.as_ptr_mut(), c_shape) }?;
    backend.gemm(alpha, read(a)?, read(b)?, beta, c)
}

/// `A·B` as a new (column-major) `Mat`, on the [`best`](crate::best) backend.
pub fn matmul<T: Scalar>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Result<Mat<T>> {
    let mut c = Mat::from_fn(a.nrows(), b.ncols(), |_, _| T::ZERO);
    gemm(T::ONE, a, b, T::ZERO, c.as_mut())?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use matmul_core::{Error, Layout, Matrix};

    use super::*;
    use crate::adapters::tests::assert_within_bound;

    fn filled<T: Scalar>(rows: usize, cols: usize, seed: usize) -> Mat<T> {
        Mat::from_fn(rows, cols, |i, j| T::from_f64(((i * 7 + j * 3 + seed) % 11) as f64 / 4.0 - 1.25))
    }

    fn copy<T: Scalar>(m: MatRef<'_, T>) -> Matrix<T> {
        Matrix::from_fn(m.nrows(), m.ncols(), Layout::RowMajor, |i, j| m[(i, j)])
    }

    fn every_layout<T: Scalar>() {
        let (m, n, k) = (5, 4, 6);
        let (a_own, a_t, a_big) = (filled::<T>(m, k, 1), filled::<T>(k, m, 1), filled::<T>(m + 3, k + 2, 1));
        let a_views = [
            ("column-major", a_own.as_ref()),
            ("transposed", a_t.as_ref().transpose()),
            ("sub-block", a_big.as_ref().submatrix(2, 1, m, k)),
            ("reversed rows", a_own.as_ref().reverse_rows()),
        ];
        let (b_own, b_t) = (filled::<T>(k, n, 2), filled::<T>(n, k, 2));
        let b_views = [
            ("column-major", b_own.as_ref()),
            ("transposed", b_t.as_ref().transpose()),
            ("reversed columns", b_own.as_ref().reverse_cols()),
        ];
        let (alpha, beta) = (T::from_f64(1.5), T::from_f64(-0.5));
        for (an, a) in a_views {
            for (bn, b) in b_views {
                let what = |cn: &str| format!("{} A {an}, B {bn}, C {cn}", T::NAME);
                let (ac, bc) = (copy(a), copy(b));
                let mut c = filled::<T>(m, n, 3);
                let c0 = copy(c.as_ref());
                gemm(alpha, a, b, beta, c.as_mut()).unwrap();
                assert_within_bound((alpha, &ac, &bc, beta), &c0, &copy(c.as_ref()), &what("column-major"));
                let mut t = filled::<T>(n, m, 3);
                let c0 = copy(t.as_ref().transpose());
                gemm(alpha, a, b, beta, t.as_mut().transpose_mut()).unwrap();
                assert_within_bound((alpha, &ac, &bc, beta), &c0, &copy(t.as_ref().transpose()), &what("transposed"));
                let mut big = filled::<T>(m + 2, n + 1, 3);
                let c0 = copy(big.as_ref().submatrix(1, 1, m, n));
                gemm(alpha, a, b, beta, big.as_mut().submatrix_mut(1, 1, m, n)).unwrap();
                let c = copy(big.as_ref().submatrix(1, 1, m, n));
                assert_within_bound((alpha, &ac, &bc, beta), &c0, &c, &what("sub-block"));
            }
        }
    }

    crate::adapters::in_f32_and_f64!(every_layout);

    #[test]
    fn matmul_and_shape_errors() {
        let (a, b) = (filled::<f64>(2, 3, 0), filled::<f64>(3, 4, 1));
        let c = matmul(a.as_ref(), b.as_ref()).unwrap();
        let zeros = Matrix::zeros(2, 4, Layout::RowMajor);
        assert_within_bound((1.0, &copy(a.as_ref()), &copy(b.as_ref()), 0.0), &zeros, &copy(c.as_ref()), "matmul");
        let mut wrong = filled::<f64>(3, 3, 0);
        assert!(matches!(gemm(1.0, a.as_ref(), b.as_ref(), 0.0, wrong.as_mut()), Err(Error::ShapeMismatch { .. })));
    }
}
