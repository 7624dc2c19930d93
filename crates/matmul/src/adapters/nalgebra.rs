//! `nalgebra` matrices in (feature `nalgebra`): [`gemm`], [`gemm_with`] and [`matmul`] take
//! any nalgebra matrix or view, of fixed or dynamic size (`DMatrix`, `SMatrix`,
//! `DMatrixView`, `DMatrixViewMut`, …).
//!
//! nalgebra stores matrices column-major; every matrix and view is used in place, without a
//! copy: owned matrices, column ranges, rows of a larger matrix, `view_with_steps`, and
//! views with row-major strides over a slice (`DMatrixView::from_slice_with_strides`) (see
//! the [adapters' rules](crate#other-crates-matrices)).
//!
//! ```
//! use nalgebra::DMatrix;
//!
//! let a = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! let b = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 0.0, 1.0]);
//! let mut c = DMatrix::<f64>::zeros(3, 2);
//! matmul::nalgebra::gemm(1.0, &a, &b, 0.0, &mut c)?;
//! assert_eq!(c, DMatrix::from_row_slice(3, 2, &[1.0, 3.0, 3.0, 7.0, 5.0, 11.0]));
//! // Views work too, and `matmul` returns a new matrix.
//! let lower = matmul::nalgebra::matmul(&a.rows(1, 2), &b)?;
//! assert_eq!(lower, DMatrix::from_row_slice(2, 2, &[3.0, 7.0, 5.0, 11.0]));
//! # Ok::<(), matmul::Error>(())
//! ```

use ::nalgebra::{DMatrix, Dim, Matrix, RawStorage, RawStorageMut};
use matmul_core::{Backend, MatRef, Result, Scalar};

use super::Shape;

/// Any nalgebra matrix or view of `T`s, whatever its dimension types and storage: what
/// [`gemm`] takes for A and B (implemented for every `nalgebra::Matrix`).
pub trait AnyMatrix<T> {
    #[doc(hidden)]
    fn shape(&self) -> Shape;
    /// Element (0, 0).
    #[doc(hidden)]
    fn first(&self) -> *const T;
}

/// A writable nalgebra matrix or view: what [`gemm`] takes for C.
pub trait AnyMatrixMut<T>: AnyMatrix<T> {
    /// Element (0, 0), writable.
    #[doc(hidden)]
    fn first_mut(&mut self) -> *mut T;
}

impl<T: Scalar, R: Dim, C: Dim, S: RawStorage<T, R, C>> AnyMatrix<T> for Matrix<T, R, C, S> {
    fn shape(&self) -> Shape {
        let ((rows, cols), (rs, cs)) = (Matrix::shape(self), self.strides());
        // A stride beyond isize::MAX cannot address a real allocation: isize::MAX then
        // fails the view's extent check with a typed error.
        let signed = |s: usize| isize::try_from(s).unwrap_or(isize::MAX);
        Shape { rows, cols, strides: (signed(rs), signed(cs)) }
    }

    fn first(&self) -> *const T {
        self.as_ptr()
    }
}

impl<T: Scalar, R: Dim, C: Dim, S: RawStorageMut<T, R, C>> AnyMatrixMut<T> for Matrix<T, R, C, S> {
    fn first_mut(&mut self) -> *mut T {
        self.as_mut_ptr()
    }
}

fn read<T: Scalar>(m: &impl AnyMatrix<T>) -> Result<MatRef<'_, T>> {
    // SAFETY: nalgebra's storage pointer is element (0, 0) and element (i, j) lies
    // `i·rs + j·cs` elements from it, in one allocation; `m` is borrowed shared for the
    // view's life, so nothing writes those elements.
    unsafe { super::read(m.first(), m.shape()) }
}

/// `C ← α·A·B + β·C` on the [`best`](crate::best) backend.
pub fn gemm<T: Scalar>(
    alpha: T,
    a: &impl AnyMatrix<T>,
    b: &impl AnyMatrix<T>,
    beta: T,
    c: &mut impl AnyMatrixMut<T>,
) -> Result<()> {
    gemm_with(crate::best()?, alpha, a, b, beta, c)
}

/// `C ← α·A·B + β·C` on `backend`.
pub fn gemm_with<T: Scalar>(
    backend: &dyn Backend,
    alpha: T,
    a: &impl AnyMatrix<T>,
    b: &impl AnyMatrix<T>,
    beta: T,
    c: &mut impl AnyMatrixMut<T>,
) -> Result<()> {
    let c_shape = c.shape();
    // SAFETY: as in `read`, and `c` is borrowed mutably for the view's life, so nothing
    // else reads or writes its elements.
    let c = unsafe { super::write(c.first_mut(), c_shape) }?;
    backend.gemm(alpha, read(a)?, read(b)?, beta, c)
}

/// `A·B` as a new column-major `DMatrix`, on the [`best`](crate::best) backend.
pub fn matmul<T: Scalar + ::nalgebra::Scalar>(a: &impl AnyMatrix<T>, b: &impl AnyMatrix<T>) -> Result<DMatrix<T>> {
    let mut c = DMatrix::from_element(a.shape().rows, b.shape().cols, T::ZERO);
    gemm(T::ONE, a, b, T::ZERO, &mut c)?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use ::nalgebra::{DMatrix, DMatrixViewMut, Dyn, SMatrix, ViewStorage};
    use matmul_core::{Error, Layout, Matrix as Dense};

    use super::*;
    use crate::adapters::tests::assert_within_bound;

    fn value<T: Scalar>(i: usize, j: usize, seed: usize) -> T {
        T::from_f64(((i * 7 + j * 3 + seed) % 11) as f64 / 4.0 - 1.25)
    }

    fn filled<T: Scalar + ::nalgebra::Scalar>(rows: usize, cols: usize, seed: usize) -> DMatrix<T> {
        DMatrix::from_fn(rows, cols, |i, j| value(i, j, seed))
    }

    /// `rows × cols` values stored row-major, for views with row-major strides.
    fn row_major<T: Scalar>(rows: usize, cols: usize, seed: usize) -> Vec<T> {
        (0..rows * cols).map(|x| value(x / cols, x % cols, seed)).collect()
    }

    fn copy<T: Scalar, R: Dim, C: Dim, S: RawStorage<T, R, C>>(m: &Matrix<T, R, C, S>) -> Dense<T> {
        Dense::from_fn(m.nrows(), m.ncols(), Layout::RowMajor, |i, j| m[(i, j)])
    }

    /// A strided view of `rows × cols` elements of `data` (any strides nalgebra accepts).
    type Strided<'a, T> = Matrix<T, Dyn, Dyn, ViewStorage<'a, T, Dyn, Dyn, Dyn, Dyn>>;

    fn strided<T: Scalar + ::nalgebra::Scalar>(
        data: &[T],
        (rows, cols): (usize, usize),
        (rs, cs): (usize, usize),
    ) -> Strided<'_, T> {
        Strided::from_slice_with_strides_generic(data, Dyn(rows), Dyn(cols), Dyn(rs), Dyn(cs))
    }

    /// One A and one B against every layout of C: owned (column-major), a view with
    /// row-major strides (both in place) and rows of a larger matrix (copied).
    fn each_c<T, SA, SB>(what: &str, a: &Matrix<T, Dyn, Dyn, SA>, b: &Matrix<T, Dyn, Dyn, SB>)
    where
        T: Scalar + ::nalgebra::Scalar,
        SA: RawStorage<T, Dyn, Dyn>,
        SB: RawStorage<T, Dyn, Dyn>,
    {
        let (m, n) = (a.nrows(), b.ncols());
        let (alpha, beta) = (T::from_f64(1.5), T::from_f64(-0.5));
        let check = |cn: &str, c0: Dense<T>, c: Dense<T>| {
            let what = format!("{} {what}, C {cn}", T::NAME);
            assert_within_bound((alpha, &copy(a), &copy(b), beta), &c0, &c, &what);
        };
        let mut c = filled::<T>(m, n, 3);
        let c0 = copy(&c);
        gemm(alpha, a, b, beta, &mut c).unwrap();
        check("owned", c0, copy(&c));
        let mut rm = row_major::<T>(m, n, 3);
        let mut c = DMatrixViewMut::from_slice_with_strides_mut(&mut rm, m, n, n, 1);
        let c0 = copy(&c);
        gemm(alpha, a, b, beta, &mut c).unwrap();
        check("row-major strides", c0, copy(&c));
        let mut big = filled::<T>(m + 2, n, 3);
        let mut c = big.view_mut((1, 0), (m, n));
        let c0 = copy(&c);
        gemm(alpha, a, b, beta, &mut c).unwrap();
        check("rows of a larger matrix", c0, copy(&c));
    }

    fn every_layout<T: Scalar + ::nalgebra::Scalar>() {
        let (m, n, k) = (5, 4, 6);
        let (a_own, a_big, a_rm) = (filled::<T>(m, k, 1), filled::<T>(2 * m + 1, 2 * k, 1), row_major::<T>(m, k, 1));
        let a_wide = filled::<T>(m, 2 * k, 1);
        let (b_own, b_big) = (filled::<T>(k, n, 2), filled::<T>(2 * k, n, 2));
        let b_rows = b_big.view((3, 0), (k, n));
        for (an, a) in [
            ("A owned", strided(a_own.as_slice(), (m, k), (1, m))),
            ("A with row-major strides", strided(&a_rm, (m, k), (k, 1))),
            ("A a column range", strided(&a_wide.as_slice()[m..], (m, k), (1, m))),
            ("A rows of a larger matrix", strided(&a_big.as_slice()[1..], (m, k), (1, 2 * m + 1))),
            ("A with steps", strided(a_big.as_slice(), (m, k), (2, 2 * (2 * m + 1)))),
        ] {
            let a = a.view((0, 0), (m, k));
            each_c(&format!("{an}, B owned"), &a, &b_own);
            each_c(&format!("{an}, B rows of a larger matrix"), &a, &b_rows);
        }
    }

    crate::adapters::in_f32_and_f64!(every_layout);

    #[test]
    fn fixed_sizes_views_and_shape_errors() {
        let a = SMatrix::<f64, 2, 3>::from_fn(|i, j| value(i, j, 0));
        let b = SMatrix::<f64, 3, 2>::from_fn(|i, j| value(i, j, 1));
        let c = matmul(&a, &b).unwrap();
        let zeros = Dense::zeros(2, 2, Layout::RowMajor);
        assert_within_bound((1.0, &copy(&a), &copy(&b), 0.0), &zeros, &copy(&c), "fixed sizes");
        let big = filled::<f64>(6, 6, 2);
        let view = big.view_with_steps((0, 1), (3, 2), (1, 1));
        let c = matmul(&view, &a).unwrap();
        assert_within_bound(
            (1.0, &copy(&view), &copy(&a), 0.0),
            &Dense::zeros(3, 3, Layout::RowMajor),
            &copy(&c),
            "steps",
        );
        let mut wrong = DMatrix::<f64>::zeros(3, 3);
        assert!(matches!(gemm(1.0, &a, &b, 0.0, &mut wrong), Err(Error::ShapeMismatch { .. })));
    }
}
