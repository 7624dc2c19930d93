//! What the `ndarray`, `nalgebra` and `faer` adapters share: how another crate's matrix
//! becomes a core view, in place.
//!
//! Every matrix is used **in place**, whatever its layout: row-major, column-major, a
//! transpose, a sub-block with a padded leading dimension, a step slice, negative strides,
//! a broadcast (a zero stride in A or B). The core view takes the other crate's pointer to
//! element (0, 0) and its strides ([`MatRef::from_raw_parts`]): it borrows the matrix's
//! elements only, never the memory between them, so a view with gaps aliases nothing
//! another view could write. A zero stride in C is refused
//! ([`ViewError::ZeroStride`]): two entries of C would be one element of memory.

use matmul_core::{Error, MatMut, MatRef, Result, Scalar, ViewError};

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
    /// The error for a C with a zero stride along a dimension of two or more elements.
    pub fn zero_stride_in_c(self) -> Result<()> {
        let (row_stride, col_stride) = self.strides;
        // A C with no element has no stride to follow (ndarray reports 0 for them).
        let empty = self.rows == 0 || self.cols == 0;
        if !empty && ((self.rows > 1 && row_stride == 0) || (self.cols > 1 && col_stride == 0)) {
            return Err(Error::InvalidView(ViewError::ZeroStride {
                rows: self.rows,
                cols: self.cols,
                row_stride,
                col_stride,
            }));
        }
        Ok(())
    }
}

/// A or B in place: the `shape.rows × shape.cols` elements at `ptr` and `shape.strides`.
///
/// # Safety
/// For `'a`, each element (`ptr` offset by `i·row_stride + j·col_stride`) is an
/// initialised, aligned `T` of one allocation that nothing writes: what a shared borrow of
/// the other crate's matrix guarantees.
pub(crate) unsafe fn read<'a, T: Scalar>(ptr: *const T, shape: Shape) -> Result<MatRef<'a, T>> {
    let Shape { rows, cols, strides: (rs, cs) } = shape;
    // SAFETY: the caller's contract is `from_raw_parts`'s.
    Ok(unsafe { MatRef::from_raw_parts(ptr, rows, cols, rs, cs) }?)
}

/// C in place, refused with [`ViewError::ZeroStride`] when a stride is 0 (and with
/// [`ViewError::SelfOverlap`] when two entries are otherwise one element).
///
/// # Safety
/// As [`read`], and nothing else reads or writes the elements during `'a`: what a
/// mutable borrow of the other crate's matrix guarantees.
pub(crate) unsafe fn write<'a, T: Scalar>(ptr: *mut T, shape: Shape) -> Result<MatMut<'a, T>> {
    shape.zero_stride_in_c()?;
    let Shape { rows, cols, strides: (rs, cs) } = shape;
    // SAFETY: the caller's contract is `from_raw_parts`'s.
    Ok(unsafe { MatMut::from_raw_parts(ptr, rows, cols, rs, cs) }?)
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

    use matmul_core::Matrix;

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
    fn a_zero_stride_in_c_is_refused() {
        let shape = |rows, cols, strides| Shape { rows, cols, strides };
        assert!(shape(3, 4, (0, 1)).zero_stride_in_c().is_err());
        assert!(shape(3, 4, (-4, 1)).zero_stride_in_c().is_ok());
        assert!(shape(1, 4, (0, 1)).zero_stride_in_c().is_ok());
        assert!(shape(0, 4, (0, 0)).zero_stride_in_c().is_ok(), "an empty C has no stride to refuse");
    }
}
