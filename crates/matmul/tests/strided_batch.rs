//! Strided batches on every compiled backend: each product against the reference, the
//! elements between the C's untouched, and bad batches refused before anything is written.

use matmul::reference::{compare, Problem};
use matmul::{BatchOperand, Error, MatMut, MatRef, StridedBatch, ViewError};

/// A batch of `count` products `m × k` by `k × n`, A row-major, B column-major, C row-major
/// with two NaN sentinels after each C (its batch stride is m·n + 2).
#[test]
fn every_backend_runs_a_strided_batch_product_by_product() {
    let (count, m, n, k) = (7, 3, 5, 4);
    let (sa, sb, sc) = (m * k, k * n, m * n + 2);
    let a: Vec<f64> = (0..count * sa).map(|x| ((x * 7) % 11) as f64 / 4.0 - 1.0).collect();
    let b: Vec<f64> = (0..count * sb).map(|x| ((x * 5) % 13) as f64 / 6.0 - 0.9).collect();
    let c0: Vec<f64> = (0..count * sc).map(|x| if x % sc >= m * n { f64::NAN } else { (x % 3) as f64 }).collect();
    for backend in matmul::backends().iter().filter(|b| b.availability().is_available()) {
        let mut c = c0.clone();
        let mut batch = StridedBatch::new(
            count,
            1.5,
            BatchOperand::row_major(&a[..], m, k, sa),
            BatchOperand::col_major(&b[..], k, n, sb),
            -0.5,
            BatchOperand::row_major(&mut c[..], m, n, sc),
        )
        .unwrap();
        batch.run_each(*backend).unwrap();
        for p in 0..count {
            let av = MatRef::row_major(&a[p * sa..][..sa], m, k).unwrap();
            let bv = MatRef::col_major(&b[p * sb..][..sb], k, n).unwrap();
            let before = MatRef::row_major(&c0[p * sc..][..m * n], m, n).unwrap();
            let problem = Problem { alpha: 1.5, a: av, b: bv, beta: -0.5, c0: before };
            let check = compare(&problem, &MatRef::row_major(&c[p * sc..][..m * n], m, n).unwrap());
            assert!(check.passed(), "{} product {p}: {check:?}", backend.name());
            assert!(
                c[p * sc + m * n].is_nan() && c[p * sc + m * n + 1].is_nan(),
                "{}: a sentinel after C {p} was written",
                backend.name()
            );
        }
    }
}

#[test]
fn bad_batches_are_refused_before_anything_is_written() {
    let (a, b) = (vec![1.0f32; 40], vec![1.0f32; 40]);
    let mut c = [7.0f32; 40];
    let op = |data, rows, cols, stride| BatchOperand::row_major(data, rows, cols, stride);
    // C's batch stride (3) shorter than one 2 × 2 C (4 elements): the C's overlap.
    let e = StridedBatch::new(
        4,
        1.0,
        op(&a[..], 2, 2, 4),
        op(&b[..], 2, 2, 4),
        0.0,
        BatchOperand::row_major(&mut c[..], 2, 2, 3),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidView(ViewError::BatchOverlap { count: 4, batch_stride: 3, span: 4 })), "{e}");
    // The tenth A would end past its slice.
    let e = StridedBatch::new(
        10,
        1.0,
        op(&a[..], 2, 2, 5),
        op(&b[..], 2, 2, 4),
        0.0,
        BatchOperand::row_major(&mut c[..], 2, 2, 4),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidView(ViewError::OutOfBounds { .. })), "{e}");
    // A batch stride whose product overflows usize.
    let e = StridedBatch::new(
        3,
        1.0,
        op(&a[..], 2, 2, usize::MAX),
        op(&b[..], 2, 2, 4),
        0.0,
        BatchOperand::row_major(&mut c[..], 2, 2, 4),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidView(ViewError::IndexOverflow { .. })), "{e}");
    // Shapes that do not fit.
    let e = StridedBatch::new(
        2,
        1.0,
        op(&a[..], 2, 3, 6),
        op(&b[..], 2, 2, 4),
        0.0,
        BatchOperand::row_major(&mut c[..], 2, 2, 4),
    )
    .unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
    assert!(c.iter().all(|&x| x == 7.0), "nothing is written by a refused batch");
    // A C that overlaps itself.
    let e = StridedBatch::new(
        1,
        1.0,
        op(&a[..], 2, 2, 4),
        op(&b[..], 2, 2, 4),
        0.0,
        BatchOperand { data: &mut c[..], rows: 2, cols: 2, row_stride: 1, col_stride: 1, batch_stride: 4 },
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidView(ViewError::SelfOverlap { .. })), "{e}");
    let _ = MatMut::row_major(&mut c[..4], 2, 2).unwrap();
}
