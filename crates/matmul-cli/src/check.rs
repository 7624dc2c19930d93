//! `check`: every selected backend × element type over the shared test grid.
//!
//! One line per backend and dtype, in the style of BLIS's test suite (after a line with the
//! backend's details, when it has any: library and version), then a last line
//! `N passed, M failed`; the exit status is non-zero if anything failed.

use std::time::Instant;

use anyhow::bail;
use matmul::{Availability, Backend, Element};
use matmul_bench_format::protocol::{CheckOptions, CheckTally};
use matmul_core::testing::{grid, run_case};
use matmul_core::Dtype;

/// Options of `check` (declared once, in the bench format's runner protocol).
pub type CheckArgs = CheckOptions;

/// Failing cases printed per backend and dtype without `--verbose`.
const SHOWN_FAILURES: usize = 5;

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let selected: Vec<&dyn Backend> = if args.backends.is_empty() {
        matmul::backends().to_vec()
    } else {
        args.backends.iter().map(|name| matmul::backend(name)).collect::<Result<_, _>>()?
    };
    let cases = grid(args.quick);
    println!("{} cases per backend and dtype{}", cases.len(), if args.quick { " (--quick)" } else { "" });
    let mut total = CheckTally::default();
    let mut skipped = Vec::new();
    for backend in selected {
        if let Availability::Unavailable(why) = backend.availability() {
            println!("{:<6} {:<20} SKIPPED: unavailable: {why}", "-", backend.name());
            skipped.push(backend.name());
            continue;
        }
        let details = backend.details();
        if !details.is_empty() {
            println!("{:<6} {:<20} {details}", "-", backend.name());
        }
        for &dtype in args.dtype.dtypes() {
            total += match dtype {
                Dtype::F32 => check_dtype::<f32>(backend, &cases, args.verbose),
                Dtype::F64 => check_dtype::<f64>(backend, &cases, args.verbose),
                Dtype::Bf16 => check_dtype::<matmul::half::bf16>(backend, &cases, args.verbose),
                Dtype::F16 => check_dtype::<matmul::half::f16>(backend, &cases, args.verbose),
            };
        }
    }
    if !skipped.is_empty() && !args.backends.is_empty() {
        // Asked for by name but cannot run: that is a failure, not a silent pass.
        total.failed += skipped.len();
    }
    println!("{total}");
    if total.failed > 0 {
        bail!("{} check(s) failed", total.failed);
    }
    Ok(())
}

fn check_dtype<T: Element>(backend: &dyn Backend, cases: &[matmul_core::testing::Case], verbose: bool) -> CheckTally {
    if !backend.supports(T::DTYPE) {
        // A typed refusal, not a failure: the backend has no product for these inputs.
        println!(
            "{:<6} {:<20} unsupported: the backend does not multiply {} inputs",
            T::DTYPE.routine(),
            backend.name(),
            T::NAME
        );
        return CheckTally::default();
    }
    let start = Instant::now();
    let (mut passed, mut failed, mut worst) = (0usize, 0usize, 0.0f64);
    let mut failures = Vec::new();
    for case in cases {
        let outcome = run_case::<T>(backend, case);
        if outcome.comparison.max_err_over_bound > worst || outcome.comparison.max_err_over_bound.is_nan() {
            worst = outcome.comparison.max_err_over_bound;
        }
        if outcome.passed() {
            passed += 1;
        } else {
            failed += 1;
            if verbose || failures.len() < SHOWN_FAILURES {
                failures.push(format!("    FAIL {case}: {outcome}"));
            }
        }
    }
    println!(
        "{:<6} {:<20} {:>5} cases {:>5} passed {:>4} failed  worst err/bound {:<9.3e} {:>6.2}s  {}",
        T::DTYPE.routine(),
        backend.name(),
        cases.len(),
        passed,
        failed,
        worst,
        start.elapsed().as_secs_f64(),
        if failed == 0 { "PASS" } else { "FAIL" }
    );
    for line in &failures {
        println!("{line}");
    }
    if failed > failures.len() {
        println!("    … and {} more failing cases (--verbose shows all)", failed - failures.len());
    }
    CheckTally { passed, failed }
}
