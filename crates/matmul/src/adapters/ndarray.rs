//! `ndarray` arrays in (feature `ndarray`): [`gemm`], [`gemm_with`] and [`matmul`] take
//! any two-dimensional array or view (`Array2`, `ArrayView2`, `ArrayViewMut2`, `ArcArray2`:
//! each derefs to [`ArrayRef2`]).
//!
//! Every layout is used in place, without a copy: row-major (`Array2::zeros((m, n))`),
//! column-major (`.f()`), transposed (`.t()`), sliced, stepped, reversed (negative
//! strides) and, for A and B, broadcast views (see the [adapters' rules](crate#other-crates-matrices)).
//! A C with a zero stride is refused with [`ViewError::ZeroStride`](crate::ViewError).
//!
//! ```
//! use ndarray::{array, Array2, ShapeBuilder};
//!
//! let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]; // 3 × 2, row-major
//! let b = Array2::from_shape_vec((2, 2).f(), vec![1.0, 0.0, 1.0, 1.0])?; // column-major
//! let mut c = Array2::<f64>::zeros((3, 2));
//! matmul::ndarray::gemm(1.0, &a, &b, 0.0, &mut c)?;
//! assert_eq!(c, array![[1.0, 3.0], [3.0, 7.0], [5.0, 11.0]]);
//! // Transposed and sliced views work too; the result of `matmul` is a new row-major array.
//! let ata = matmul::ndarray::matmul(&a.t(), &a.slice(ndarray::s![.., ..]))?;
//! assert_eq!(ata, array![[35.0, 44.0], [44.0, 56.0]]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ::ndarray::{Array2, ArrayRef2};
use matmul_core::{Backend, MatRef, Result, Scalar};

use super::Shape;

fn shape<T>(m: &ArrayRef2<T>) -> Shape {
    let (rows, cols) = m.dim();
    Shape { rows, cols, strides: (m.strides()[0], m.strides()[1]) }
}

fn read<T: Scalar>(m: &ArrayRef2<T>) -> Result<MatRef<'_, T>> {
    // SAFETY: `as_ptr` is the array's element [0, 0] and element [i, j] lies
    // `i·strides[0] + j·strides[1]` elements from it, in the array's one allocation;
    // `m` is borrowed shared for the view's life, so nothing writes those elements.
    unsafe { super::read(m.as_ptr(), shape(m)) }
}

/// `C ← α·A·B + β·C` on the [`best`](crate::best) backend.
pub fn gemm<T: Scalar>(alpha: T, a: &ArrayRef2<T>, b: &ArrayRef2<T>, beta: T, c: &mut ArrayRef2<T>) -> Result<()> {
    gemm_with(crate::best()?, alpha, a, b, beta, c)
}

/// `C ← α·A·B + β·C` on `backend`.
pub fn gemm_with<T: Scalar>(
    backend: &dyn Backend,
    alpha: T,
    a: &ArrayRef2<T>,
    b: &ArrayRef2<T>,
    beta: T,
    c: &mut ArrayRef2<T>,
) -> Result<()> {
    let c_shape = shape(c);
    // SAFETY: as in `read`, and `c` is borrowed mutably for the view's life, so nothing
    // else reads or writes its elements.
    let c = unsafe { super::write(c.as_mut_ptr(), c_shape) }?;
    backend.gemm(alpha, read(a)?, read(b)?, beta, c)
}

/// `A·B` as a new row-major array, on the [`best`](crate::best) backend.
pub fn matmul<T: Scalar>(a: &ArrayRef2<T>, b: &ArrayRef2<T>) -> Result<Array2<T>> {
    let mut c = Array2::from_elem((a.nrows(), b.ncols()), T::ZERO);
    gemm(T::ONE, a, b, T::ZERO, &mut c)?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use ::ndarray::{s, Array2, ArrayViewMut2, ShapeBuilder};
    use matmul_core::{Error, Layout, Matrix};

    use super::*;
    use crate::adapters::tests::assert_within_bound;

    fn filled<T: Scalar>(rows: usize, cols: usize, seed: usize, fortran: bool) -> Array2<T> {
        let value = |i: usize, j: usize| T::from_f64(((i * 7 + j * 3 + seed) % 11) as f64 / 4.0 - 1.25);
        Array2::from_shape_fn((rows, cols).set_f(fortran), |(i, j)| value(i, j))
    }

    fn copy<T: Scalar>(m: &ArrayRef2<T>) -> Matrix<T> {
        Matrix::from_fn(m.nrows(), m.ncols(), Layout::RowMajor, |i, j| m[[i, j]])
    }

    /// C's layouts: dense row- and column-major and transposed (in place), and a stepped
    /// view of a larger array (copied and written back).
    fn with_each_c<T: Scalar>(m: usize, n: usize, mut body: impl FnMut(&str, ArrayViewMut2<'_, T>)) {
        body("row-major", filled::<T>(m, n, 3, false).view_mut());
        body("column-major", filled::<T>(m, n, 3, true).view_mut());
        let mut t = filled::<T>(n, m, 3, false);
        body("transposed", t.view_mut().reversed_axes());
        let mut big = filled::<T>(2 * m, 2 * n + 1, 3, false);
        body("stepped", big.slice_mut(s![..;2, 1..;2]));
    }

    /// Every layout an ndarray array or view takes, for A, B and C, against the reference.
    fn every_layout<T: Scalar>() {
        let (m, n, k) = (5, 4, 6);
        let (a_big, b_big) = (filled::<T>(2 * m + 1, 2 * k + 1, 1, false), filled::<T>(2 * k + 1, 2 * n + 1, 2, true));
        let (a_row, a_col, a_t) =
            (filled::<T>(m, k, 1, false), filled::<T>(m, k, 1, true), filled::<T>(k, m, 4, false));
        let (b_col, b_row) = (filled::<T>(k, n, 2, true), filled::<T>(1, n, 5, false));
        let a_views = [
            ("row-major", a_row.view()),
            ("column-major", a_col.view()),
            ("transposed", a_t.t()),
            ("sliced", a_big.slice(s![1..m + 1, 2..k + 2])),
            ("stepped", a_big.slice(s![..2 * m;2, ..k])),
            ("reversed rows", a_big.slice(s![..m;-1, ..k])),
        ];
        let b_views = [
            ("column-major", b_col.view()),
            ("padded column-major", b_big.slice(s![..k, ..n])),
            ("reversed columns", b_big.slice(s![1..k + 1, ..n;-1])),
            ("broadcast row", b_row.broadcast((k, n)).expect("a 1 × n row broadcasts")),
        ];
        for (an, a) in &a_views {
            for (bn, b) in &b_views {
                with_each_c::<T>(m, n, |cn, mut c| {
                    let c0 = copy(&c);
                    let (alpha, beta) = (T::from_f64(1.5), T::from_f64(-0.5));
                    gemm(alpha, a, b, beta, &mut c).unwrap();
                    let what = format!("{} A {an}, B {bn}, C {cn}", T::NAME);
                    assert_within_bound((alpha, &copy(a), &copy(b), beta), &c0, &copy(&c), &what);
                });
            }
        }
    }

    crate::adapters::in_f32_and_f64!(every_layout);

    #[test]
    fn shapes_are_checked_and_beta_zero_never_reads_c() {
        let (a, b) = (filled::<f64>(2, 3, 0, false), filled::<f64>(3, 2, 1, false));
        let mut wrong = Array2::<f64>::zeros((3, 3));
        assert!(matches!(gemm(1.0, &a, &b, 0.0, &mut wrong), Err(Error::ShapeMismatch { .. })));
        // A stepped C full of NaN, β = 0: the copy path must not read it either.
        let mut big = Array2::from_elem((4, 4), f64::NAN);
        let mut c = big.slice_mut(s![..;2, ..;2]);
        gemm(1.0, &a, &b, 0.0, &mut c).unwrap();
        assert!(c.iter().all(|x| x.is_finite()), "{c:?}");
        assert!(big[[1, 1]].is_nan(), "only C's elements are written");
    }

    #[test]
    fn interleaved_views_of_one_array_multiply_in_place() {
        // A the even columns, C the odd ones: their memory interleaves, their elements do
        // not, so the product reads and writes them in place, each view borrowing only
        // its own elements.
        let mut big = filled::<f64>(5, 8, 1, false);
        let b = filled::<f64>(4, 4, 2, true);
        let (a0, c0) = (copy(&big.slice(s![.., ..;2])), copy(&big.slice(s![.., 1..;2])));
        let (a, mut c) = big.multi_slice_mut((s![.., ..;2], s![.., 1..;2]));
        gemm(2.0, &a, &b, -1.0, &mut c).unwrap();
        assert_within_bound((2.0, &a0, &copy(&b), -1.0), &c0, &copy(&c), "interleaved");
        assert_eq!(copy(&big.slice(s![.., ..;2])), a0, "A unchanged");
    }

    #[test]
    fn empty_products_are_products() {
        let c = matmul(&Array2::<f64>::zeros((0, 3)), &Array2::<f64>::ones((3, 4))).unwrap();
        assert_eq!(c.dim(), (0, 4));
        // k = 0: C ← β·C, A and B not read.
        let mut c = Array2::<f64>::from_elem((2, 3), 5.0);
        gemm(1.0, &Array2::<f64>::ones((2, 0)), &Array2::<f64>::ones((0, 3)), 2.0, &mut c).unwrap();
        assert!(c.iter().all(|&x| x == 10.0), "{c:?}");
    }

    #[test]
    fn matmul_returns_a_row_major_product() {
        let (a, b) = (filled::<f32>(3, 4, 0, true), filled::<f32>(4, 2, 1, false));
        let c = matmul(&a, &b).unwrap();
        assert!(c.is_standard_layout());
        let zeros = Matrix::zeros(3, 2, Layout::RowMajor);
        assert_within_bound((1.0, &copy(&a), &copy(&b), 0.0), &zeros, &copy(&c), "matmul");
    }
}
