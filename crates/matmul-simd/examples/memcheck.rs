//! A small program for valgrind memcheck (`.ci/run`): packing of every layout, the
//! kernels' pointer arithmetic, edge tiles, several K blocks and the threads, each checked
//! against the reference. Exits with 1 if a case fails; valgrind adds its own exit code
//! for an invalid read or write.
//!
//! bf16 and f16 inputs run every third case: their widening inside packing (the `half`
//! crate's slice conversion, F16C for f16, and the element-by-element edges).
//!
//! valgrind's CPU has no AVX-512, so under valgrind `simd-avx512` skips and `simd` runs
//! the AVX2 kernels (the AVX-512 kernels' masked stores are checked by the tests instead,
//! and the bf16 pair packing by its unit test, which `.ci/run` also runs under valgrind).

use std::process::ExitCode;

use matmul_core::half::{bf16, f16};
use matmul_core::testing::{grid, run_case, Case, OperandLayout};
use matmul_core::{Availability, Backend, Element};

fn cases() -> Vec<Case> {
    use OperandLayout::{ColMajor as C, General as G, RowMajor as R, Transposed as T};
    let mut cases = grid(true);
    // k = 300 > KC = 256 (two K blocks), edges in M and N for every kernel, and one
    // product above SERIAL_BELOW so that the threads run.
    for layouts in [[R, C, G], [C, R, T], [G, G, R]] {
        for (alpha, beta, nan_in_c) in [(-0.5, 2.0, false), (2.0, 0.0, true)] {
            let seed = cases.len() as u64;
            cases.push(Case { m: 37, n: 29, k: 300, layouts, alpha, beta, nan_in_c, seed });
        }
    }
    let seed = cases.len() as u64;
    cases.push(Case { m: 130, n: 131, k: 129, layouts: [R, C, G], alpha: -0.5, beta: 2.0, nan_in_c: false, seed });
    cases
}

fn failures<T: Element>(backend: &dyn Backend, cases: &[Case]) -> usize {
    cases
        .iter()
        .filter(|case| {
            let outcome = run_case::<T>(backend, case);
            let failed = !outcome.passed();
            if failed {
                eprintln!("FAIL {} {} {case}: {outcome}", backend.name(), T::NAME);
            }
            failed
        })
        .count()
}

fn main() -> ExitCode {
    let cases = cases();
    let mut failed = 0;
    // `simd` is one of these three (the AVX2 one under valgrind): not run twice.
    for backend in [&matmul_simd::SIMD_AVX512 as &dyn Backend, &matmul_simd::SIMD_AVX2, &matmul_simd::SIMD_PORTABLE] {
        if let Availability::Unavailable(reason) = backend.availability() {
            println!("{}: skipped ({reason})", backend.name());
            continue;
        }
        let half: Vec<Case> = cases.iter().step_by(3).cloned().collect();
        let f = failures::<f32>(backend, &cases)
            + failures::<f64>(backend, &cases)
            + failures::<bf16>(backend, &half)
            + failures::<f16>(backend, &half);
        println!(
            "{}: {} cases x 2 dtypes, {} x bf16 and f16, {f} failed ({})",
            backend.name(),
            cases.len(),
            half.len(),
            backend.details()
        );
        failed += f;
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
