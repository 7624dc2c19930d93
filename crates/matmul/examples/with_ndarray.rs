//! The same products on ndarray arrays (feature `ndarray`): row-major, column-major,
//! transposed and sliced views in, no conversion by hand.
//!
//! `cargo run -p matmul --features ndarray --example with_ndarray`

use ndarray::{array, s, Array2, ShapeBuilder};

fn main() -> matmul::Result<()> {
    let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]; // 2 × 3, row-major
    let b = Array2::from_shape_vec((3, 2).f(), vec![7.0, 9.0, 11.0, 8.0, 10.0, 12.0]).expect("3 × 2"); // column-major
    let c = matmul::ndarray::matmul(&a, &b)?;
    println!("A·B =\n{c}");
    assert_eq!(c, array![[58.0, 64.0], [139.0, 154.0]]);

    // In place, into a column slice of a larger array (copied in and back: it has gaps).
    let mut out = Array2::<f64>::zeros((2, 5));
    matmul::ndarray::gemm(1.0, &a, &b, 0.0, &mut out.slice_mut(s![.., 1..;2]))?;
    println!("into every other column of a 2 × 5 array:\n{out}");

    // Aᵀ·A from a transposed view: used in place.
    let ata = matmul::ndarray::matmul(&a.t(), &a)?;
    println!("Aᵀ·A =\n{ata}");
    Ok(())
}
