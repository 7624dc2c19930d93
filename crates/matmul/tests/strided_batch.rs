//! Bad batches, strided and grouped, are refused before anything is written. (Every
//! backend's own suite runs good ones: `matmul_core::testing::assert_batches`.)

use matmul::{BatchGroup, BatchOperand, Error, GroupedBatch, Layout, MatMut, Matrix, StridedBatch, ViewError};

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

#[test]
fn a_grouped_batch_with_a_misfit_is_refused_naming_it() {
    let a = Matrix::<f64>::from_fn(2, 3, Layout::RowMajor, |i, j| (i + j) as f64);
    let b = Matrix::<f64>::from_fn(3, 4, Layout::ColMajor, |i, j| (i * j) as f64);
    let mut cs: Vec<Matrix<f64>> = (0..4).map(|_| Matrix::from_fn(2, 4, Layout::RowMajor, |_, _| 7.0)).collect();
    let mut c_t = Matrix::<f64>::from_fn(4, 2, Layout::RowMajor, |_, _| 7.0);
    let (first, rest) = cs.split_at_mut(1);
    let g0 = BatchGroup::new((2, 4, 3), 1.0, 0.0, vec![(a.as_ref(), b.as_ref(), first[0].as_mut())]);
    // Group 1's third product has C transposed (4 × 2) where the group says 2 × 4.
    let mut views: Vec<_> = rest.iter_mut().map(|c| (a.as_ref(), b.as_ref(), c.as_mut())).collect();
    views.insert(2, (a.as_ref(), b.as_ref(), c_t.as_mut()));
    let g1 = BatchGroup::new((2, 4, 3), 2.0, 1.0, views);
    let e = GroupedBatch::new(vec![g0, g1]).unwrap_err();
    assert!(
        matches!(e, Error::BatchShape { group: 1, product: 2, dims: (2, 4, 3), found: [(2, 3), (3, 4), (4, 2)] }),
        "{e}"
    );
    assert!(cs.iter().chain([&c_t]).all(|c| c.as_ref().get(1, 1) == Some(7.0)), "nothing is written");
}
