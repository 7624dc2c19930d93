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

use matmul_core::testing::{Operand, OperandLayout};
use matmul_core::{
    Backend, BatchGroup, BatchOperand, GroupedBatch, Layout, MatMut, MatRef, Matrix, Scalar, StridedBatch,
};

matmul_core::backend_test_suite!(blas, &crate::BLAS);

/// `C ← α·A·B + β·C` by the textbook loop, in f64 (exact for these small integers), with
/// BLAS's rules: β = 0 does not read C, α = 0 or k = 0 does not read A and B.
fn expected<T: Scalar>(alpha: f64, a: &MatRef<'_, T>, b: &MatRef<'_, T>, beta: f64, c0: &MatRef<'_, T>) -> Matrix<f64> {
    Matrix::from_fn(a.nrows(), b.ncols(), Layout::RowMajor, |i, j| {
        let at = |v: &MatRef<'_, T>, i, j| v.get(i, j).unwrap().to_f64();
        let ab =
            if alpha == 0.0 { 0.0 } else { alpha * (0..a.ncols()).map(|p| at(a, i, p) * at(b, p, j)).sum::<f64>() };
        let c = if beta == 0.0 { 0.0 } else { beta * at(c0, i, j) };
        ab + c
    })
}

/// Small integers, different for every operand, product and element: exact in f32.
fn small(seed: usize) -> impl Fn(usize, usize, usize) -> f64 {
    // Coefficients prime to 7, so that rows, columns and products all differ.
    move |p, i, j| ((3 * seed + 5 * p + 2 * i + 3 * j) % 7) as f64 - 3.0
}

/// One operand of a strided batch for the exact tests: `rows × cols` matrices with strides
/// `(rs, cs)`, `bs` elements apart, in a buffer whose every other slot is NaN.
#[derive(Clone, Copy, Debug)]
struct Stacked {
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
    bs: usize,
}

impl Stacked {
    fn index(&self, p: usize, i: usize, j: usize) -> usize {
        p * self.bs + i * self.rs + j * self.cs
    }

    /// The buffer for `count ≥ 1` products, two NaN slots after the last element.
    fn buffer<T: Scalar>(&self, count: usize, value: impl Fn(usize, usize, usize) -> f64) -> Vec<T> {
        let mut buf = vec![T::NAN; self.index(count - 1, self.rows - 1, self.cols - 1) + 3];
        for p in 0..count {
            for i in 0..self.rows {
                for j in 0..self.cols {
                    buf[self.index(p, i, j)] = T::from_f64(value(p, i, j));
                }
            }
        }
        buf
    }

    fn view<'a, T: Scalar>(&self, buf: &'a [T], p: usize) -> MatRef<'a, T> {
        MatRef::new(&buf[p * self.bs..], self.rows, self.cols, self.rs, self.cs).unwrap()
    }

    fn operand<S>(&self, data: S) -> BatchOperand<S> {
        BatchOperand {
            data,
            rows: self.rows,
            cols: self.cols,
            row_stride: self.rs,
            col_stride: self.cs,
            batch_stride: self.bs,
        }
    }
}

/// Runs a strided batch of small integers (A and B NaN where `nan_ab`, C NaN where
/// `nan_c`) and checks every product exactly, and that nothing outside the C's changed.
fn check_strided<T: Scalar>(
    count: usize,
    (alpha, beta): (f64, f64),
    [a, b, c]: [Stacked; 3],
    (nan_ab, nan_c): (bool, bool),
) {
    let nan = |_, _, _| f64::NAN;
    let input = |s: Stacked, seed| if nan_ab { s.buffer::<T>(count, nan) } else { s.buffer::<T>(count, small(seed)) };
    let (a_buf, b_buf) = (input(a, 1), input(b, 2));
    let c0: Vec<T> = if nan_c { c.buffer(count, nan) } else { c.buffer(count, small(3)) };
    let mut c_buf = c0.clone();
    let batch = StridedBatch::new(
        count,
        T::from_f64(alpha),
        a.operand(&a_buf[..]),
        b.operand(&b_buf[..]),
        T::from_f64(beta),
        c.operand(&mut c_buf[..]),
    )
    .unwrap();
    (&BLAS as &dyn Backend).gemm_batch(batch).unwrap();
    let what = format!("{} {} strided batch of {count}, {a:?} {b:?} {c:?}, α {alpha}, β {beta}", BLAS.name(), T::NAME);
    let mut inside = vec![false; c_buf.len()];
    for p in 0..count {
        let want = expected(alpha, &a.view(&a_buf, p), &b.view(&b_buf, p), beta, &c.view(&c0, p));
        for i in 0..c.rows {
            for j in 0..c.cols {
                inside[c.index(p, i, j)] = true;
                assert_eq!(Some(c_buf[c.index(p, i, j)].to_f64()), want.get(i, j), "{what}: product {p} ({i}, {j})");
            }
        }
    }
    for (slot, ((x, x0), inside)) in c_buf.iter().zip(&c0).zip(&inside).enumerate() {
        assert!(
            *inside || x.to_f64().to_bits() == x0.to_f64().to_bits(),
            "{what}: slot {slot} outside every C written"
        );
    }
}

fn strided_batches<T: Scalar>() {
    let st = |rows, cols, rs, cs, bs| Stacked { rows, cols, rs, cs, bs };
    // In place (MKL: one cblas_?gemm_batch_strided). A row-major, B row-major with a gap
    // (both transposed in the column-major call), C column-major padded to ld 4, β = 0 over
    // NaN.
    check_strided::<T>(4, (2.0, 0.0), [st(3, 5, 5, 1, 15), st(5, 2, 2, 1, 11), st(3, 2, 1, 4, 8)], (false, true));
    // A column-major padded to ld 6, B column-major (both transposed in the row-major
    // call), C row-major padded to ld 5.
    check_strided::<T>(3, (-1.0, 0.5), [st(4, 2, 1, 6, 12), st(2, 3, 1, 2, 6), st(4, 3, 5, 1, 20)], (false, false));
    // Single calls with MKL: one product (one row and one column: cblas's smallest leading
    // dimensions), A repeated (batch stride 0), C's packed to their span (7 < ld·n = 8),
    // strides MKL 2020 refuses.
    check_strided::<T>(1, (1.0, 1.0), [st(1, 3, 0, 1, 3), st(3, 1, 1, 0, 3), st(1, 1, 0, 0, 1)], (false, false));
    check_strided::<T>(4, (2.0, 0.0), [st(3, 5, 5, 1, 0), st(5, 2, 2, 1, 11), st(3, 2, 1, 4, 8)], (false, true));
    check_strided::<T>(4, (2.0, 1.0), [st(3, 5, 5, 1, 15), st(5, 2, 2, 1, 11), st(3, 2, 1, 4, 7)], (false, false));
    // Single calls: C with general strides (copied through a temporary), and B.
    check_strided::<T>(3, (1.5, -1.0), [st(4, 2, 2, 1, 8), st(2, 3, 3, 1, 6), st(4, 3, 2, 9, 25)], (false, false));
    check_strided::<T>(3, (1.0, 2.0), [st(4, 2, 2, 1, 8), st(2, 3, 2, 7, 20), st(4, 3, 3, 1, 12)], (false, false));
    // α = 0 over NaN A and B: the single call's special case, A and B never read.
    check_strided::<T>(3, (0.0, 2.0), [st(2, 3, 3, 1, 6), st(3, 2, 2, 1, 6), st(2, 2, 2, 1, 4)], (true, false));
}

#[test]
fn strided_batches_exact() {
    strided_batches::<f32>();
    strided_batches::<f64>();
}

/// A grouped batch of small integers whose products take every path of MKL's grouped
/// planning, checked exactly: several groups and both orders of C in cblas_?gemm_batch
/// calls (two API groups with equal parameters merged into one MKL group), products that
/// need copies or are special cases run as single calls between them.
fn grouped_batch<T: Scalar>() {
    use OperandLayout::{ColMajor as C, General as G, Padded as P, Reversed as N, RowMajor as R, Transposed as Tr};
    // ((m, n, k), α, β, NaN in C, [layouts of A, B, C] per product).
    type Spec = ((usize, usize, usize), f64, f64, bool, &'static [[OperandLayout; 3]]);
    let specs: [Spec; 7] = [
        ((3, 4, 5), 2.0, 1.0, false, &[[R, C, R], [R, C, R]]),
        ((3, 4, 5), 2.0, 1.0, false, &[[R, C, R], [R, C, C], [Tr, R, P], [R, C, C]]),
        ((2, 3, 4), -1.0, 0.0, true, &[[Tr, R, P], [R, C, Tr], [R, R, G], [R, R, N], [G, C, C], [C, C, C]]),
        ((4, 2, 0), 1.0, 0.5, false, &[[R, R, R], [C, C, C]]),
        ((2, 2, 3), 0.0, 2.0, false, &[[R, R, R]]),
        ((3, 3, 3), 1.0, 1.0, false, &[]),
        ((1, 9, 7), 2.0, 1.0, false, &[[R, C, R], [C, R, R], [Tr, Tr, R]]),
    ];
    let mut seed = 0;
    let mut next = || {
        seed += 1;
        small(seed)
    };
    let mut made: Vec<Vec<[Operand<T>; 3]>> = Vec::new();
    for &((m, n, k), alpha, _, nan_c, layouts) in &specs {
        let products = layouts.iter().map(|&[la, lb, lc]| {
            // α = 0 never reads A and B: make them NaN to prove it.
            let input = |rows, cols, l, f: &dyn Fn(usize, usize, usize) -> f64| {
                Operand::<T>::new(rows, cols, l, |i, j| T::from_f64(if alpha == 0.0 { f64::NAN } else { f(0, i, j) }))
            };
            let a = input(m, k, la, &next());
            let b = input(k, n, lb, &next());
            let fc = next();
            let c = Operand::<T>::new(m, n, lc, |i, j| T::from_f64(if nan_c { f64::NAN } else { fc(0, i, j) }));
            [a, b, c]
        });
        made.push(products.collect());
    }
    let before: Vec<Vec<Operand<T>>> = made.iter().map(|g| g.iter().map(|[_, _, c]| c.clone()).collect()).collect();
    let groups = specs
        .iter()
        .zip(&mut made)
        .map(|(&(dims, alpha, beta, _, _), products)| {
            let views = products.iter_mut().map(|[a, b, c]| (a.view(), b.view(), c.view_mut())).collect();
            BatchGroup::new(dims, T::from_f64(alpha), T::from_f64(beta), views)
        })
        .collect();
    (&BLAS as &dyn Backend).gemm_batch(GroupedBatch::new(groups).unwrap()).unwrap();
    for (g, ((&(dims, alpha, beta, _, _), products), c0s)) in specs.iter().zip(&made).zip(&before).enumerate() {
        for (p, ([a, b, c], c0)) in products.iter().zip(c0s).enumerate() {
            let what = format!("{} {} group {g} {dims:?} product {p}", BLAS.name(), T::NAME);
            let want = expected(alpha, &a.view(), &b.view(), beta, &c0.view());
            let got = c.view();
            for i in 0..dims.0 {
                for j in 0..dims.1 {
                    assert_eq!(got.get(i, j).map(|x| x.to_f64()), want.get(i, j), "{what} ({i}, {j})");
                }
            }
            assert_eq!(c.stray_writes(c0), 0, "{what}: written outside C");
        }
    }
}

#[test]
fn grouped_batch_exact() {
    grouped_batch::<f32>();
    grouped_batch::<f64>();
}

#[test]
fn details_say_how_batches_run() {
    let want = if cfg!(feature = "mkl") {
        "batches: cblas_?gemm_batch_strided and cblas_?gemm_batch"
    } else {
        "batches: one cblas_?gemm call per product"
    };
    assert!(BLAS.details().ends_with(want), "{}", BLAS.details());
    assert_eq!(BLAS.batch_bits_match_single_calls(), !cfg!(feature = "mkl"));
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
    let want = expected(1.5, &a, &b_m.as_ref(), -2.0, &c0.as_ref());
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
