//! `MATMUL_SIMD_KERNEL` forces the `simd` backend's kernels. The variable is read once per
//! process, so this binary holds a single test that sets it before the first call.

use matmul_core::{Availability, Backend, Layout, Matrix};
use matmul_simd::{isa, Isa, SIMD};

#[test]
fn the_variable_forces_the_portable_kernels() {
    std::env::set_var(isa::KERNEL_ENV, "portable");
    assert_eq!(isa::selected(), Ok(Isa::Portable));
    assert_eq!(SIMD.availability(), Availability::Available);
    let details = SIMD.details();
    assert!(details.starts_with("portable (forced by MATMUL_SIMD_KERNEL)"), "{details}");
    assert!(details.contains("f64_portable_8x4") && details.contains("f32_portable_16x4"), "{details}");

    let a = Matrix::<f64>::from_fn(9, 5, Layout::RowMajor, |i, j| (i + 2 * j) as f64);
    let b = Matrix::<f64>::from_fn(5, 7, Layout::ColMajor, |i, j| (i * j) as f64 - 1.0);
    let mut c = Matrix::<f64>::zeros(9, 7, Layout::RowMajor);
    SIMD.gemm_f64(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap();
    // Small integers: exact in any order.
    for i in 0..9 {
        for j in 0..7 {
            let want: f64 = (0..5).map(|p| (i + 2 * p) as f64 * ((p * j) as f64 - 1.0)).sum();
            assert_eq!(c.get(i, j), Some(want));
        }
    }
}
