//! Strided views: a transpose, a sub-block of a padded buffer, and general strides, all
//! without copying, in one call each.
//!
//! `cargo run -p matmul --example strided_view`

use matmul::{Layout, MatMut, MatRef, Matrix};

fn main() -> matmul::Result<()> {
    // A 4 × 6 row-major buffer; we use its 3 × 4 block starting at (1, 1) as A.
    let buffer: Vec<f64> = (0..24).map(f64::from).collect();
    let whole = MatRef::row_major(&buffer, 4, 6)?;
    let a = whole.block(1, 1, 3, 4)?;
    // B = the transpose of a 2 × 4 matrix: a view with its strides swapped.
    let bt = Matrix::<f64>::from_fn(2, 4, Layout::RowMajor, |i, j| (i + j) as f64);
    let b = bt.as_ref().t();
    // C: every other element of a 3 × 4 row-major buffer (row stride 4, column stride 2).
    let mut c_buffer = vec![f64::NAN; 12];
    let c = MatMut::new(&mut c_buffer, 3, 2, 4, 2)?;
    // β = 0: C's NaNs are never read.
    matmul::gemm(1.0, a, b, 0.0, c)?;
    println!("A (block of a padded buffer) = rows 1..4, columns 1..5 of 0..24 (6 per row)");
    println!("C written at every other element: {c_buffer:?}");
    assert_eq!(c_buffer[0], 7.0 * 0.0 + 8.0 * 1.0 + 9.0 * 2.0 + 10.0 * 3.0);
    assert!(c_buffer[1].is_nan(), "the elements between C's are left alone");
    Ok(())
}
