//! The shared test matrix for the BLAS backend compiled in (one per build), plus checks
//! of what this crate adds: views cblas cannot express. The thread setting is tested in
//! `threads.rs`, its own process: BLIS's bits depend on its thread count, so a test that
//! changes it must not run beside the suite's bit-for-bit checks.
#![cfg(any(feature = "openblas", feature = "blis", feature = "mkl"))]

#[cfg(feature = "blis")]
use matmul_blas::BLIS as BLAS;
#[cfg(feature = "mkl")]
use matmul_blas::MKL as BLAS;
#[cfg(feature = "openblas")]
use matmul_blas::OPENBLAS as BLAS;

use matmul_core::{Backend, Layout, MatMut, MatRef, Matrix};

matmul_core::backend_test_suite!(blas, &crate::BLAS);

/// `C ← α·A·B + β·C` by the textbook loop, in f64 (exact for these small integers).
fn expected(alpha: f64, a: &MatRef<'_, f64>, b: &MatRef<'_, f64>, beta: f64, c0: &Matrix<f64>) -> Matrix<f64> {
    Matrix::from_fn(a.nrows(), b.ncols(), Layout::RowMajor, |i, j| {
        let dot: f64 = (0..a.ncols()).map(|p| a.get(i, p).unwrap() * b.get(p, j).unwrap()).sum();
        alpha * dot + beta * c0.get(i, j).unwrap()
    })
}

#[test]
fn degenerate_strides_of_single_rows_and_columns() {
    // A 1×3 row with row stride 0, B a 3×1 column with column stride 0, C 1×1 with both
    // strides 0: all legal views; cblas needs ld ≥ 1 and gets it.
    let a_buf = [1.0, 2.0, 3.0];
    let b_buf = [4.0, 5.0, 6.0];
    let a = MatRef::new(&a_buf, 1, 3, 0, 1).unwrap();
    let b = MatRef::new(&b_buf, 3, 1, 1, 0).unwrap();
    let mut c_buf = [f64::NAN];
    BLAS.gemm_f64(2.0, a, b, 0.0, MatMut::new(&mut c_buf, 1, 1, 0, 0).unwrap()).unwrap();
    assert_eq!(c_buf, [64.0]);
}

#[test]
fn overlapping_read_view_and_general_output_are_handled() {
    // A: 3×4 with row stride 1 and column stride 2 (elements shared between columns): a
    // legal read view that cblas cannot take, so it is copied.
    let a_buf: Vec<f64> = (0..9).map(f64::from).collect();
    let a = MatRef::new(&a_buf, 3, 4, 1, 2).unwrap();
    let b_m = Matrix::from_fn(4, 2, Layout::RowMajor, |i, j| (i + 3 * j) as f64 - 2.0);
    // C: general strides (2, 7) inside a NaN buffer: computed in a temporary, written back.
    let mut c_buf = vec![f64::NAN; 2 * 7 + 2 * 2 + 1];
    let c0 = Matrix::from_fn(3, 2, Layout::RowMajor, |i, j| (i * 2 + j) as f64);
    {
        let mut c = MatMut::new(&mut c_buf, 3, 2, 2, 7).unwrap();
        for i in 0..3 {
            for j in 0..2 {
                assert!(c.set(i, j, c0.get(i, j).unwrap()));
            }
        }
        BLAS.gemm_f64(1.5, a, b_m.as_ref(), -2.0, c).unwrap();
    }
    let want = expected(1.5, &a, &b_m.as_ref(), -2.0, &c0);
    let c = MatRef::new(&c_buf, 3, 2, 2, 7).unwrap();
    for i in 0..3 {
        for j in 0..2 {
            assert_eq!(c.get(i, j), want.get(i, j), "({i}, {j})");
        }
    }
    // Nothing outside C's elements was written.
    let touched: Vec<usize> = (0..3).flat_map(|i| (0..2).map(move |j| 2 * i + 7 * j)).collect();
    for (idx, x) in c_buf.iter().enumerate() {
        assert_eq!(!x.is_nan(), touched.contains(&idx), "slot {idx}");
    }
}

#[test]
fn reports_its_library() {
    let v = BLAS.library_version();
    eprintln!("{}: {v}; threads now {}", BLAS.name(), BLAS.library_threads());
    assert!(!v.is_empty());
}
