//! What the `ndarray`, `nalgebra` and `faer` adapters share: how another crate's matrix
//! becomes a core view, in place when it can, and the copy every other layout takes.
//!
//! A matrix is used **in place** when its elements are one dense block of memory (no
//! gaps: row-major, column-major, or a transpose of either) with non-negative strides:
//! the view is then exactly its elements, so lending them to the backend as a slice
//! aliases nothing else. Every other layout the crates can express (a sub-block with a
//! padded leading dimension, a step slice, negative strides, a broadcast) is **copied**
//! into a row-major matrix first, and for C copied back after the product: the result
//! is the same, at the cost of the copy. A zero stride in C is refused
//! ([`ViewError::ZeroStride`]): two entries of C would be one element of memory.

use matmul_core::{Backend, Error, Layout, MatMut, MatRef, Matrix, Result, Scalar, ViewError};

#[cfg(feature = "faer")]
pub mod faer;
#[cfg(feature = "nalgebra")]
pub mod nalgebra;
#[cfg(feature = "ndarray")]
pub mod ndarray;

/// Rows, columns and (row, column) strides in elements, as the other crates report them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub rows: usize,
    pub cols: usize,
    pub strides: (isize, isize),
}

impl Shape {
    /// The strides as the core takes them, when none is negative: a dimension of at most
    /// one element has no stride to follow, so its stride is taken as 0 whatever it is.
    pub fn unsigned_strides(self) -> Option<(usize, usize)> {
        let along = |len: usize, stride: isize| if len <= 1 { Some(0) } else { usize::try_from(stride).ok() };
        Some((along(self.rows, self.strides.0)?, along(self.cols, self.strides.1)?))
    }

    /// Whether the strides and lengths make a block of exactly `rows·cols` elements.
    // ndarray lends its dense slices itself; nalgebra and faer need this test.
    #[cfg_attr(not(any(feature = "nalgebra", feature = "faer")), allow(dead_code))]
    pub fn is_dense(self) -> bool {
        let (rows, cols) = (self.rows, self.cols);
        let (rs, cs) = (self.strides.0.unsigned_abs(), self.strides.1.unsigned_abs());
        rows <= 1 || cols <= 1 || (rs == 1 && cs == rows) || (cs == 1 && rs == cols)
    }

    /// The error for a C with a zero stride along a dimension of two or more elements.
    pub fn zero_stride_in_c(self) -> Result<()> {
        let (rs, cs) = self.strides;
        // A C with no element has no stride to follow (ndarray reports 0 for them).
        let empty = self.rows == 0 || self.cols == 0;
        if !empty && ((self.rows > 1 && rs == 0) || (self.cols > 1 && cs == 0)) {
            return Err(Error::InvalidView(ViewError::ZeroStride {
                rows: self.rows,
                cols: self.cols,
                row_stride: rs.unsigned_abs(),
                col_stride: cs.unsigned_abs(),
            }));
        }
        Ok(())
    }
}

/// A read operand: the other crate's memory in place, or a row-major copy of it.
#[derive(Debug)]
pub(crate) enum Input<'a, T: Scalar> {
    InPlace(MatRef<'a, T>),
    Copied(Matrix<T>),
}

impl<T: Scalar> Input<'_, T> {
    pub fn view(&self) -> MatRef<'_, T> {
        match self {
            Input::InPlace(v) => *v,
            Input::Copied(m) => m.as_ref(),
        }
    }
}

/// `dense`, the operand's elements as one slice starting at element `(0, 0)` when the
/// crate can lend them so, in place; otherwise a copy made with `get`.
pub(crate) fn input<'a, T: Scalar>(
    shape: Shape,
    dense: Option<&'a [T]>,
    get: impl Fn(usize, usize) -> T,
) -> Result<Input<'a, T>> {
    if let (Some(data), Some((rs, cs))) = (dense, shape.unsigned_strides()) {
        return Ok(Input::InPlace(MatRef::new(data, shape.rows, shape.cols, rs, cs)?));
    }
    Ok(Input::Copied(Matrix::from_fn(shape.rows, shape.cols, Layout::RowMajor, get)))
}

/// C as an adapter sees it: its shape, its elements as one slice when they are dense,
/// and element access for the copy path.
pub(crate) trait Output<T> {
    fn shape(&self) -> Shape;
    /// The elements as one slice starting at element (0, 0), when they are dense with
    /// non-negative strides (only asked then).
    fn dense_mut(&mut self) -> Option<&mut [T]>;
    fn at(&self, i: usize, j: usize) -> T;
    fn set(&mut self, i: usize, j: usize, value: T);
}

/// `C ← α·A·B + β·C` into any adapter's C: refused with a zero stride, in place when C is
/// dense, else computed in a row-major copy (C read only when β ≠ 0) and written back.
pub(crate) fn write_product<T: Scalar>(
    backend: &dyn Backend,
    (alpha, a, b, beta): (T, &Input<'_, T>, &Input<'_, T>, T),
    c: &mut impl Output<T>,
) -> Result<()> {
    let shape = c.shape();
    shape.zero_stride_in_c()?;
    if let Some((rs, cs)) = shape.unsigned_strides() {
        if let Some(data) = c.dense_mut() {
            let c = MatMut::new(data, shape.rows, shape.cols, rs, cs)?;
            return backend.gemm(alpha, a.view(), b.view(), beta, c);
        }
    }
    let mut copy = if beta == T::ZERO {
        Matrix::zeros(shape.rows, shape.cols, Layout::RowMajor)
    } else {
        Matrix::from_fn(shape.rows, shape.cols, Layout::RowMajor, |i, j| c.at(i, j))
    };
    backend.gemm(alpha, a.view(), b.view(), beta, copy.as_mut())?;
    for j in 0..shape.cols {
        for i in 0..shape.rows {
            c.set(i, j, copy.get(i, j).expect("the copy has C's shape"));
        }
    }
    Ok(())
}

/// `in_f32_and_f64!(check)`: two tests, `check::f32` and `check::f64`, each running the
/// generic `check::<T>()` of the calling test module.
#[cfg(test)]
macro_rules! in_f32_and_f64 {
    ($check:ident) => {
        mod $check {
            #[test]
            fn f32() {
                super::$check::<f32>();
            }

            #[test]
            fn f64() {
                super::$check::<f64>();
            }
        }
    };
}
#[cfg(test)]
use in_f32_and_f64;

#[cfg(test)]
pub(crate) mod tests {
    use matmul_core::reference::{compare, Problem};

    use super::*;

    /// Checks `c` (computed from `c0`) against the reference for `α·A·B + β·C₀`, all
    /// given as row-major copies; panics with the worst error on a failure.
    pub fn assert_within_bound<T: Scalar>(
        (alpha, a, b, beta): (T, &Matrix<T>, &Matrix<T>, T),
        c0: &Matrix<T>,
        c: &Matrix<T>,
        what: &str,
    ) {
        let problem = Problem { alpha, a: a.as_ref(), b: b.as_ref(), beta, c0: c0.as_ref() };
        let cmp = compare(&problem, &c.as_ref());
        assert!(cmp.passed() && cmp.checked == c.nrows() * c.ncols(), "{what}: {cmp:?}");
    }

    #[test]
    fn dense_and_signed_strides_are_told_apart() {
        let shape = |rows, cols, strides| Shape { rows, cols, strides };
        assert!(shape(3, 4, (4, 1)).is_dense() && shape(3, 4, (1, 3)).is_dense());
        assert!(shape(3, 4, (-4, 1)).is_dense());
        assert!(!shape(3, 4, (5, 1)).is_dense() && !shape(3, 4, (0, 1)).is_dense());
        assert_eq!(shape(3, 4, (-4, 1)).unsigned_strides(), None);
        assert_eq!(shape(1, 4, (-4, 1)).unsigned_strides(), Some((0, 1)));
        assert!(shape(3, 4, (0, 1)).zero_stride_in_c().is_err());
        assert!(shape(1, 4, (0, 1)).zero_stride_in_c().is_ok());
        assert!(shape(0, 4, (0, 0)).zero_stride_in_c().is_ok(), "an empty C has no stride to refuse");
    }
}
