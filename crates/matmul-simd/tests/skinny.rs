//! Matrix–vector products (m = 1 or n = 1) take their own path: every layout of A, B and
//! C, rows beyond one accumulator block (256), β = 0 with NaN in C, and general strides.

use matmul_core::testing::{run_case, Case, OperandLayout, ALPHA_BETA};
use matmul_core::{Backend, Scalar};

fn check<T: Scalar>(backend: &dyn Backend) {
    if !backend.availability().is_available() {
        eprintln!("skipped: {} is unavailable", backend.name());
        return;
    }
    let mut failures = Vec::new();
    let mut seed = 0;
    for (m, n, k) in [(1, 37, 300), (37, 1, 300), (1, 1, 77), (300, 1, 45), (1, 300, 45), (1, 5, 1)] {
        for la in OperandLayout::ALL {
            for lb in OperandLayout::ALL {
                for lc in OperandLayout::ALL {
                    let (alpha, beta, nan_in_c) = ALPHA_BETA[seed % ALPHA_BETA.len()];
                    let case = Case { m, n, k, layouts: [la, lb, lc], alpha, beta, nan_in_c, seed: seed as u64 };
                    seed += 1;
                    let outcome = run_case::<T>(backend, &case);
                    if !outcome.passed() {
                        failures.push(format!("{case}: {outcome}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} {}:\n{}", backend.name(), T::NAME, failures.join("\n"));
}

#[test]
fn matrix_vector_products() {
    for backend in [&matmul_simd::SIMD_AVX512, &matmul_simd::SIMD_AVX2, &matmul_simd::SIMD_PORTABLE] {
        check::<f32>(backend);
        check::<f64>(backend);
    }
}
