//! Any thread count is a prompt, correct product on every compiled backend: an absurd one
//! (`usize::MAX`) is clamped to the backend's documented limit, never obeyed or fatal.
//! Its own test binary: thread settings are process-wide.

use matmul::reference::{compare, Problem};
use matmul::{Layout, Matrix};

#[test]
fn every_backend_clamps_an_absurd_thread_count() {
    // 160³ multiply-adds: above the SIMD backend's serial threshold, so threads are used.
    let n = 160;
    let a = Matrix::<f64>::from_fn(n, n, Layout::RowMajor, |i, j| ((i + 2 * j) % 7) as f64 / 3.0 - 1.0);
    let b = Matrix::<f64>::from_fn(n, n, Layout::ColMajor, |i, j| ((3 * i + j) % 5) as f64 / 7.0 - 0.3);
    let c0 = Matrix::<f64>::zeros(n, n, Layout::RowMajor);
    let problem = Problem { alpha: 1.0, a: a.as_ref(), b: b.as_ref(), beta: 0.0, c0: c0.as_ref() };
    for backend in matmul::backends().iter().filter(|b| b.availability().is_available()) {
        for threads in [usize::MAX, usize::MAX / 2 + 1, 0, 1] {
            backend.set_threads(threads);
            let mut c = c0.clone();
            backend.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap();
            let check = compare(&problem, &c.as_ref());
            assert!(check.passed(), "{} with set_threads({threads}): {check:?}", backend.name());
        }
    }
}

#[cfg(feature = "simd")]
#[test]
fn simd_says_the_thread_count_in_effect() {
    // The facade re-exports no backend type; the dev-dependency reaches the crate itself.
    let simd = matmul_simd::Simd::new(matmul_simd::Choice::Best);
    assert_eq!(simd.threads(), std::thread::available_parallelism().map_or(1, |n| n.get()));
    matmul::Backend::set_threads(&simd, usize::MAX);
    assert_eq!(simd.threads(), matmul_simd::max_threads());
    matmul::Backend::set_threads(&simd, 3);
    assert_eq!(simd.threads(), 3.min(matmul_simd::max_threads()));
    matmul::Backend::set_threads(&simd, 0);
    assert_eq!(simd.threads(), 1, "0 is taken as 1 (serial)");
}
