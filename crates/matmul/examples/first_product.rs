//! A first product with the facade: `C = A·B` on the best backend compiled in.
//!
//! `cargo run -p matmul --example first_product`

use matmul::{Layout, Matrix};

fn main() -> matmul::Result<()> {
    // A is 2 × 3, B is 3 × 2, both row-major.
    let a = Matrix::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3, Layout::RowMajor)?;
    let b = Matrix::<f64>::from_vec(vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0], 3, 2, Layout::RowMajor)?;
    let c = matmul::matmul(&a, &b)?;
    println!("best backend here: {}", matmul::best()?.name());
    for i in 0..c.nrows() {
        let row: Vec<f64> = (0..c.ncols()).map(|j| c.get(i, j).expect("inside C")).collect();
        println!("C[{i}] = {row:?}");
    }
    // C ← 2·A·B + 1·C, in place: BLAS's gemm.
    let mut c2 = c.clone();
    matmul::gemm(2.0, a.as_ref(), b.as_ref(), 1.0, c2.as_mut())?;
    assert_eq!(c2.get(0, 0), Some(3.0 * 58.0));
    println!("after C ← 2·A·B + C: C[0][0] = {}", c2.get(0, 0).expect("inside C"));
    Ok(())
}
