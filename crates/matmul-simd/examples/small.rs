//! Times small square products (ns per call, best of several batches) through
//! `dyn Backend::gemm`, for tuning the small-product path:
//!
//! ```text
//! cargo run --release -p matmul-simd --example small -- simd [n]
//! ```

use std::time::Instant;

use matmul_core::{Backend, Layout, Matrix, Scalar};

fn time<T: Scalar>(backend: &dyn Backend, n: usize) -> f64 {
    let a = Matrix::<T>::from_fn(n, n, Layout::RowMajor, |i, j| T::from_f64(((i * 7 + j * 3) % 11) as f64 - 5.0));
    let b = Matrix::<T>::from_fn(n, n, Layout::RowMajor, |i, j| T::from_f64(((i * 5 + j) % 13) as f64 - 6.0));
    let mut c = Matrix::<T>::zeros(n, n, Layout::RowMajor);
    let reps = (20_000_000 / (n * n * n)).max(10);
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..reps {
            backend.gemm(T::ONE, a.as_ref(), b.as_ref(), T::ZERO, c.as_mut()).expect("gemm");
        }
        best = best.min(start.elapsed().as_secs_f64() / reps as f64);
    }
    best * 1e9
}

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "simd".to_owned());
    let backend: &dyn Backend = match name.as_str() {
        "simd-avx2" => &matmul_simd::SIMD_AVX2,
        "simd-portable" => &matmul_simd::SIMD_PORTABLE,
        "simd-avx512" => &matmul_simd::SIMD_AVX512,
        _ => &matmul_simd::SIMD,
    };
    let sizes: Vec<usize> = match std::env::args().nth(2) {
        Some(n) => vec![n.parse().expect("n")],
        None => vec![4, 8, 16, 32, 64],
    };
    for n in sizes {
        let (d, s) = (time::<f64>(backend, n), time::<f32>(backend, n));
        let flops = 2.0 * (n * n * n) as f64;
        println!("{name} n={n:3}  f64 {d:9.1} ns {:6.1} GFLOP/s   f32 {s:9.1} ns {:6.1} GFLOP/s", flops / d, flops / s);
    }
}
