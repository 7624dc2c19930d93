//! Every CUDA backend on this machine: unavailable with the reason when there is no GPU
//! (every call then a typed error, nothing panics), and the shared test grid when there
//! is one.
//!
//! `MATMUL_REQUIRE_GPU=1` makes an unavailable backend a failure (for runs on the GPU
//! machine, so that a missing library cannot pass as a skip).

use matmul_core::half::{bf16, f16};
use matmul_core::testing::{assert_blas_semantics, assert_grid_with, assert_half, assert_shape_errors};
use matmul_core::{Availability, Backend, BackendKind, Dtype, Error, Layout, Matrix};

/// The backends that multiply bf16 and f16 inputs.
const HALF: [&str; 2] = ["cuda-warptile", "cublas"];

#[test]
fn half_inputs_run_on_warptile_and_cublas_and_are_a_typed_refusal_elsewhere() {
    for backend in matmul_cuda::ALL {
        let half = HALF.contains(&backend.name());
        assert!(backend.supports(Dtype::F32) && backend.supports(Dtype::F64), "{}", backend.name());
        for dtype in [Dtype::Bf16, Dtype::F16] {
            assert_eq!(backend.supports(dtype), half, "{} {dtype}", backend.name());
        }
        // Straight into the entry points (no availability check before them): a backend
        // without half inputs refuses them by type on any machine; one with them says
        // unavailable without a GPU, and multiplies with one.
        let a = Matrix::<bf16>::from_fn(3, 2, Layout::RowMajor, |i, j| bf16::from_f32((i + j) as f32));
        let b = Matrix::<f16>::from_fn(2, 4, Layout::ColMajor, |i, j| f16::from_f32((i * j) as f32));
        let bh = Matrix::<bf16>::from_fn(2, 4, Layout::ColMajor, |i, j| bf16::from_f32((i * j) as f32));
        let ah = Matrix::<f16>::from_fn(3, 2, Layout::RowMajor, |i, j| f16::from_f32((i + j) as f32));
        let mut c = Matrix::<f32>::zeros(3, 4, Layout::RowMajor);
        let answers = [
            (Dtype::Bf16, backend.gemm_bf16(1.0, a.as_ref(), bh.as_ref(), 0.0, c.as_mut())),
            (Dtype::F16, backend.gemm_f16(1.0, ah.as_ref(), b.as_ref(), 0.0, c.as_mut())),
        ];
        for (dtype, answer) in answers {
            match (half, backend.availability().is_available(), answer) {
                (false, _, Err(Error::UnsupportedDtype { backend: name, dtype: d })) => {
                    assert_eq!((name.as_str(), d), (backend.name(), dtype))
                }
                (true, false, Err(Error::BackendUnavailable { .. })) => {}
                (true, true, Ok(())) => assert_eq!(c.get(2, 3), Some(9.0), "{} {dtype}", backend.name()),
                (_, _, other) => panic!("{} {dtype}: {other:?}", backend.name()),
            }
        }
    }
}

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
                // bf16 and f16 inputs: the quick grid and the corner cases on warptile and
                // cuBLAS, the typed refusal on the others.
                for multiplied in [assert_half::<bf16>(dyn_backend, extra), assert_half::<f16>(dyn_backend, extra)] {
                    assert_eq!(multiplied, HALF.contains(&backend.name()), "{}", backend.name());
                }
            }
            Availability::Unavailable(reason) => {
                assert!(!require_gpu(), "MATMUL_REQUIRE_GPU=1 but {} is unavailable: {reason}", backend.name());
                eprintln!("{} skipped (unavailable: {reason})", backend.name());
            }
        }
    }
}
