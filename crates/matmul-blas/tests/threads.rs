//! The thread setting, in a process of its own: the count is global to the library, and
//! BLIS's results depend on it (with A row-major, B column-major and C row-major, a
//! 70×65×40 f32 product differs in its last bits between 1 and 2 threads), so changing it
//! beside `suite.rs`'s bit-for-bit checks would fail them by chance.
#![cfg(any(feature = "openblas", feature = "blis", feature = "mkl"))]

#[cfg(feature = "blis")]
use matmul_blas::BLIS as BLAS;
#[cfg(feature = "mkl")]
use matmul_blas::MKL as BLAS;
#[cfg(feature = "openblas")]
use matmul_blas::OPENBLAS as BLAS;

use matmul_core::{Backend, Layout, Matrix};

/// The thread setting is global to the library: tests that change it take turns.
static THREAD_SETTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn thread_setting_reaches_the_library() {
    let _turn = THREAD_SETTING.lock().unwrap_or_else(|e| e.into_inner());
    if !BLAS.is_multithreaded() {
        BLAS.set_threads(4);
        assert_eq!(BLAS.library_threads(), 1);
        return;
    }
    // Up to the cores here: MKL caps its count at the physical cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for n in [1, 2.min(cores)] {
        BLAS.set_threads(n);
        assert_eq!(BLAS.requested_threads(), Some(n));
        assert_eq!(BLAS.library_threads(), n, "{}", BLAS.library_version());
    }
    // And a product still comes out right after the change.
    let a = Matrix::<f32>::from_fn(70, 50, Layout::RowMajor, |i, j| ((i + j) % 5) as f32);
    let b = Matrix::<f32>::from_fn(50, 60, Layout::ColMajor, |i, j| ((i * j) % 3) as f32);
    let mut c = Matrix::<f32>::zeros(70, 60, Layout::RowMajor);
    BLAS.gemm_f32(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap();
    let want: f32 = (0..50).map(|p| ((69 + p) % 5) as f32 * ((p * 59) % 3) as f32).sum();
    assert_eq!(c.get(69, 59), Some(want));
}

#[test]
fn an_absurd_thread_count_is_clamped_not_fatal() {
    // BLIS aborted the process on the next call when given usize::MAX threads.
    let _turn = THREAD_SETTING.lock().unwrap_or_else(|e| e.into_inner());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    BLAS.set_threads(usize::MAX);
    assert!(BLAS.library_threads() <= cpus, "{} threads on {cpus} CPUs", BLAS.library_threads());
    let a = Matrix::<f64>::from_fn(90, 80, Layout::RowMajor, |i, j| ((i + 2 * j) % 7) as f64);
    let mut c = Matrix::<f64>::zeros(90, 90, Layout::ColMajor);
    BLAS.gemm_f64(1.0, a.as_ref(), a.as_ref().t(), 0.0, c.as_mut()).unwrap();
    let want: f64 = (0..80).map(|p| (((89 + 2 * p) % 7) as f64).powi(2)).sum();
    assert_eq!(c.get(89, 89), Some(want));
    BLAS.set_threads(1);
}
