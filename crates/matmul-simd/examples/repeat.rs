//! Runs one product many times, for `perf stat -e cycles:u` (user cycles do not count the
//! time other processes hold the core, so they compare kernels on a busy machine):
//!
//! ```text
//! cargo build --release -p matmul-simd --example repeat
//! perf stat -e cycles:u target/release/examples/repeat simd f64 64 20000
//! ```
//!
//! Arguments: backend (`simd`, `simd-avx512`, `simd-avx2`, `simd-portable`), dtype
//! (`f32`/`f64`/`bf16`/`f16`), n (square, row-major), repetitions.

use matmul_core::half::{bf16, f16};
use matmul_core::{Backend, Element, Layout, Matrix, Scalar};

fn run<T: Element>(backend: &dyn Backend, n: usize, reps: usize) -> Result<(), matmul_core::Error> {
    let a = Matrix::<T>::from_fn(n, n, Layout::RowMajor, |i, j| T::from_f64(((i * 7 + j * 3) % 11) as f64 - 5.0));
    let b = Matrix::<T>::from_fn(n, n, Layout::RowMajor, |i, j| T::from_f64(((i * 5 + j) % 13) as f64 - 6.0));
    let mut c = Matrix::<T::Acc>::zeros(n, n, Layout::RowMajor);
    for _ in 0..reps {
        backend.gemm(T::Acc::ONE, a.as_ref(), b.as_ref(), T::Acc::ZERO, c.as_mut())?;
    }
    println!("{} {} n={n} reps={reps} c[0,0]={}", backend.name(), T::NAME, c.get(0, 0).unwrap_or(T::Acc::ZERO));
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, name, dtype, n, reps] = &args[..] else {
        return Err("usage: repeat BACKEND f32|f64|bf16|f16 N REPS".into());
    };
    let backend: &dyn Backend = match name.as_str() {
        "simd" => &matmul_simd::SIMD,
        "simd-avx512" => &matmul_simd::SIMD_AVX512,
        "simd-avx2" => &matmul_simd::SIMD_AVX2,
        "simd-portable" => &matmul_simd::SIMD_PORTABLE,
        other => return Err(format!("unknown backend {other}").into()),
    };
    let (n, reps): (usize, usize) = (n.parse()?, reps.parse()?);
    match dtype.parse::<matmul_core::Dtype>()? {
        matmul_core::Dtype::F32 => run::<f32>(backend, n, reps)?,
        matmul_core::Dtype::F64 => run::<f64>(backend, n, reps)?,
        matmul_core::Dtype::Bf16 => run::<bf16>(backend, n, reps)?,
        matmul_core::Dtype::F16 => run::<f16>(backend, n, reps)?,
    }
    Ok(())
}
