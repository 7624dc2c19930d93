//! The shared test grid for every SIMD backend, with each kernel's own edge sizes.
//!
//! `simd` runs everywhere (the portable kernels at worst) and gets the standard suite.
//! The forced backends skip, printing why, on a CPU that lacks their instructions.

use matmul_core::half::{bf16, f16};
use matmul_core::testing::{
    assert_batches, assert_blas_semantics, assert_grid_with, assert_half, assert_shape_errors, proptest_backend,
};
use matmul_core::{Availability, Backend};

/// Whether `backend` can run here; prints the reason when it cannot.
fn runs(backend: &dyn Backend) -> bool {
    match backend.availability() {
        Availability::Available => true,
        Availability::Unavailable(reason) => {
            eprintln!("skipped: {} is unavailable: {reason}", backend.name());
            false
        }
    }
}

/// Like `matmul_core::backend_test_suite!`, but skipping (with a message) where the
/// backend cannot run. `small` sizes run in the full grid; `large` ones (KC ± 1, whose
/// squares are slow to check against the compensated reference) in the quick grid.
macro_rules! forced_suite {
    ($module:ident, $backend:expr, small = $small:expr, large = $large:expr, half = $half:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn grid_f32() {
                if runs($backend) {
                    assert_grid_with::<f32>($backend, false, $small);
                }
            }
            #[test]
            fn grid_f64() {
                if runs($backend) {
                    assert_grid_with::<f64>($backend, false, $small);
                }
            }
            #[test]
            fn block_edges_f32() {
                if runs($backend) {
                    assert_grid_with::<f32>($backend, true, $large);
                }
            }
            #[test]
            fn block_edges_f64() {
                if runs($backend) {
                    assert_grid_with::<f64>($backend, true, $large);
                }
            }
            #[test]
            fn random_cases_f32() {
                if runs($backend) {
                    proptest_backend::<f32>($backend, 128);
                }
            }
            #[test]
            fn random_cases_f64() {
                if runs($backend) {
                    proptest_backend::<f64>($backend, 128);
                }
            }
            #[test]
            fn half_bf16() {
                if runs($backend) {
                    assert!(assert_half::<bf16>($backend, &[&$small[..], &$half[..]].concat()));
                }
            }
            #[test]
            fn half_f16() {
                if runs($backend) {
                    assert!(assert_half::<f16>($backend, &[&$small[..], &$half[..]].concat()));
                }
            }
            #[test]
            fn random_cases_bf16() {
                if runs($backend) {
                    proptest_backend::<bf16>($backend, 64);
                }
            }
            #[test]
            fn batches() {
                if runs($backend) {
                    assert_batches::<f32>($backend);
                    assert_batches::<f64>($backend);
                }
            }
            #[test]
            fn blas_semantics() {
                if runs($backend) {
                    assert_blas_semantics::<f32>($backend);
                    assert_blas_semantics::<f64>($backend);
                }
            }
            #[test]
            fn shape_errors() {
                if runs($backend) {
                    assert_shape_errors::<f32>($backend);
                    assert_shape_errors::<f64>($backend);
                }
            }
        }
    };
}

// MR ± 1, NR ± 1 and MC ± 1 of both dtypes' kernels (f64 first, then f32); the half
// types add the sizes around their own K block (the bf16 pair kernel's, on AVX-512; the
// f32 kernel's, which the widened inputs run, elsewhere).
forced_suite!(
    avx512,
    &matmul_simd::SIMD_AVX512,
    small = &[23, 24, 25, 7, 8, 9, 119, 120, 121, 31, 32, 33, 11, 12, 13, 319, 320, 321],
    large = &[511, 512, 513, 383, 384, 385],
    half = &[767, 768, 769]
);
forced_suite!(
    avx2,
    &matmul_simd::SIMD_AVX2,
    small = &[7, 8, 9, 5, 6, 119, 120, 121, 15, 16, 17, 143, 144, 145],
    large = &[255, 256, 257],
    half = &[255, 256, 257]
);
forced_suite!(
    portable,
    &matmul_simd::SIMD_PORTABLE,
    small = &[7, 8, 9, 3, 4, 5, 63, 64, 65, 15, 16, 17, 127, 128, 129],
    large = &[255, 256, 257],
    half = &[255, 256, 257]
);

// `simd` dispatches to one of the above; its own suite covers the dispatch and the
// facade-level entry point with the sizes of the kernel it picks on most machines.
matmul_core::backend_test_suite!(simd, &matmul_simd::SIMD, extra_sizes = &[23, 24, 25, 119, 120, 121, 513]);
