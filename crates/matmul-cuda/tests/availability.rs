//! Every CUDA backend on this machine: unavailable with the reason when there is no GPU
//! (every call then a typed error, nothing panics), and the shared test grid when there
//! is one.
//!
//! `MATMUL_REQUIRE_GPU=1` makes an unavailable backend a failure (for runs on the GPU
//! machine, so that a missing library cannot pass as a skip).

use matmul_core::testing::{assert_blas_semantics, assert_grid_with, assert_shape_errors};
use matmul_core::{Availability, Backend, BackendKind, Error, Layout, Matrix};

fn require_gpu() -> bool {
    std::env::var("MATMUL_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

#[test]
fn without_a_driver_every_backend_says_libcuda_and_every_call_is_an_error() {
    if matmul_cuda::driver_present() {
        eprintln!("libcuda is present here: the no-driver test does not apply");
        return;
    }
    for backend in matmul_cuda::ALL {
        assert_eq!(backend.kind(), BackendKind::Gpu);
        let Availability::Unavailable(reason) = backend.availability() else {
            panic!("{} is available without libcuda", backend.name());
        };
        assert!(reason.contains("libcuda"), "{}: {reason}", backend.name());
        assert_eq!(backend.details(), "");

        let a = Matrix::<f64>::from_fn(3, 2, Layout::RowMajor, |i, j| (i + j) as f64);
        let b = Matrix::<f64>::from_fn(2, 4, Layout::ColMajor, |i, j| (i * j) as f64);
        let mut c = Matrix::<f64>::zeros(3, 4, Layout::RowMajor);
        let dyn_backend: &dyn Backend = backend;
        // Through the trait object (which checks availability first) …
        let err = dyn_backend.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap_err();
        assert!(matches!(&err, Error::BackendUnavailable { reason, .. } if reason.contains("libcuda")), "{err}");
        // … and straight into the backend's own entry points, for both dtypes, including
        // the cases that need no GPU (k = 0, α = 0): still the same error.
        let err = backend.gemm_f64(1.0, a.as_ref(), b.as_ref(), 1.0, c.as_mut()).unwrap_err();
        assert!(matches!(err, Error::BackendUnavailable { .. }), "{err}");
        let (a32, b32) = (Matrix::<f32>::zeros(3, 0, Layout::RowMajor), Matrix::<f32>::zeros(0, 4, Layout::RowMajor));
        let mut c32 = Matrix::<f32>::zeros(3, 4, Layout::RowMajor);
        let err = backend.gemm_f32(0.0, a32.as_ref(), b32.as_ref(), 1.0, c32.as_mut()).unwrap_err();
        assert!(matches!(err, Error::BackendUnavailable { .. }), "{err}");
        assert!(err.to_string().contains(backend.name()), "{err}");
    }
}

#[test]
fn with_a_gpu_every_backend_passes_the_grid() {
    for backend in matmul_cuda::ALL {
        let dyn_backend: &dyn Backend = backend;
        match backend.availability() {
            Availability::Available => {
                eprintln!("{}: {}", backend.name(), backend.details());
                // Sizes around the block tiles (16, 32, 64, 128).
                let extra = &[15, 16, 17, 31, 32, 33, 127, 128, 129];
                assert_grid_with::<f32>(dyn_backend, true, extra);
                assert_grid_with::<f64>(dyn_backend, true, extra);
                assert_blas_semantics::<f32>(dyn_backend);
                assert_blas_semantics::<f64>(dyn_backend);
                assert_shape_errors::<f32>(dyn_backend);
                assert_shape_errors::<f64>(dyn_backend);
            }
            Availability::Unavailable(reason) => {
                assert!(!require_gpu(), "MATMUL_REQUIRE_GPU=1 but {} is unavailable: {reason}", backend.name());
                eprintln!("{} skipped (unavailable: {reason})", backend.name());
            }
        }
    }
}
