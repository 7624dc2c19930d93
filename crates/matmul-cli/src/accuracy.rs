//! `accuracy`: how far each backend's result is from the higher-precision reference as n
//! grows, for two kinds of input, in both element types.
//!
//! For each backend, dtype, input kind and size n it multiplies two seeded random n × n
//! row-major matrices (`C ← A·B`, α = 1, β = 0), compares a sample of C's entries with
//! [`Problem::entry`], and reports the largest error relative to the bound, the largest
//! absolute error, and that error relative to the largest |entry| of the sample (a normwise
//! relative error). One line per measurement; `--json PATH` writes them all.
//!
//! The slow loops cannot reach n = 4096 in reasonable time, so each backend and dtype has a
//! time budget (`--budget-s`): a size is skipped when its predicted time (the last size's
//! time scaled by n³) would overrun it, and the skip is reported, not hidden.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use matmul::{Availability, Backend, Element, Layout, Matrix, Scalar};
use matmul_bench_format::accuracy::{Input, Report, Row, Skip};
use matmul_bench_format::protocol::AccuracyOptions;
use matmul_core::reference::{err_over_bound, Problem};
use matmul_core::Dtype;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Options of `accuracy`: the runner protocol's, and where to write.
#[derive(Debug, clap::Args)]
pub struct AccuracyArgs {
    #[command(flatten)]
    pub options: AccuracyOptions,
    /// Write every measurement and skip as JSON here.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

/// One input value of the given kind.
fn sample(input: Input, rng: &mut ChaCha8Rng) -> f64 {
    match input {
        Input::Uniform => rng.random_range(0.0..1.0),
        Input::Cancel => {
            let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
            sign * 10f64.powf(rng.random_range(-6.0..6.0))
        }
    }
}

pub fn run(args: AccuracyArgs) -> anyhow::Result<()> {
    let AccuracyArgs { options: args, json } = args;
    let selected: Vec<&dyn Backend> = if args.backends.is_empty() {
        matmul::backends().to_vec()
    } else {
        args.backends.iter().map(|name| matmul::backend(name)).collect::<Result<_, _>>()?
    };
    let mut sizes = args.sizes.clone();
    sizes.sort_unstable();
    sizes.dedup();
    sizes.retain(|&n| n > 0);
    println!(
        "{:<4} {:<20} {:<8} {:>5} {:>7} {:>12} {:>12} {:>12} {:>9}",
        "", "backend", "input", "n", "checked", "err/bound", "abs err", "rel err", "seconds"
    );
    let mut report = Report::default();
    for backend in selected {
        if let Availability::Unavailable(why) = backend.availability() {
            for &dtype in args.dtype.dtypes() {
                report.skipped.push(Skip {
                    backend: backend.name().to_owned(),
                    dtype,
                    sizes: sizes.clone(),
                    reason: format!("unavailable: {why}"),
                });
            }
            println!("-    {:<20} SKIPPED: unavailable: {why}", backend.name());
            continue;
        }
        for &dtype in args.dtype.dtypes() {
            match dtype {
                Dtype::F32 => series::<f32>(backend, &sizes, &args, &mut report),
                Dtype::F64 => series::<f64>(backend, &sizes, &args, &mut report),
                Dtype::Bf16 => series::<matmul::half::bf16>(backend, &sizes, &args, &mut report),
                Dtype::F16 => series::<matmul::half::f16>(backend, &sizes, &args, &mut report),
            }
        }
    }
    for s in &report.skipped {
        println!("{:<6} {:<20} skipped n = {:?}: {}", s.dtype.routine(), s.backend, s.sizes, s.reason);
    }
    if let Some(path) = &json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Every size and input kind for one backend and dtype, within the time budget.
fn series<T: Element>(backend: &dyn Backend, sizes: &[usize], args: &AccuracyOptions, report: &mut Report) {
    let start = Instant::now();
    let mut last: Option<(usize, f64)> = None; // (n, seconds of both input kinds)
    for (idx, &n) in sizes.iter().enumerate() {
        if let Some((prev_n, prev_s)) = last {
            let predicted = prev_s * (n as f64 / prev_n as f64).powi(3);
            let spent = start.elapsed().as_secs_f64();
            if spent + predicted > args.budget_s {
                report.skipped.push(Skip {
                    backend: backend.name().to_owned(),
                    dtype: T::DTYPE,
                    sizes: sizes[idx..].to_vec(),
                    reason: format!(
                        "n = {n} would take ~{predicted:.0} s after {spent:.0} s spent (budget {:.0} s per backend and dtype; --budget-s)",
                        args.budget_s
                    ),
                });
                return;
            }
        }
        let mut seconds = 0.0;
        for input in Input::ALL {
            match measure::<T>(backend, n, input, args) {
                Ok(row) => {
                    println!(
                        "{:<6} {:<20} {:<8} {:>5} {:>7} {:>12.3e} {:>12.3e} {:>12.3e} {:>9.3}",
                        T::DTYPE.routine(),
                        row.backend,
                        input.as_str(),
                        n,
                        row.checked,
                        row.max_err_over_bound,
                        row.max_abs_err,
                        row.rel_err,
                        row.seconds
                    );
                    seconds += row.seconds;
                    report.rows.push(row);
                }
                Err(e) => {
                    println!(
                        "{:<6} {:<20} {:<8} {n:>5} ERROR: {e}",
                        T::DTYPE.routine(),
                        backend.name(),
                        input.as_str()
                    );
                    report.skipped.push(Skip {
                        backend: backend.name().to_owned(),
                        dtype: T::DTYPE,
                        sizes: vec![n],
                        reason: format!("error: {e}"),
                    });
                }
            }
        }
        last = Some((n, seconds));
    }
}

/// One product and its comparison with the reference.
fn measure<T: Element>(backend: &dyn Backend, n: usize, input: Input, args: &AccuracyOptions) -> matmul::Result<Row> {
    // The same seed for both dtypes: the f32 inputs are the f64 ones rounded.
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ (n as u64) << 8 ^ input as u64);
    let a = Matrix::<T>::from_fn(n, n, Layout::RowMajor, |_, _| T::from_f64(sample(input, &mut rng)));
    let b = Matrix::<T>::from_fn(n, n, Layout::RowMajor, |_, _| T::from_f64(sample(input, &mut rng)));
    let mut c = Matrix::<T::Acc>::zeros(n, n, Layout::RowMajor);
    let start = Instant::now();
    T::gemm(backend, T::Acc::ONE, a.as_ref(), b.as_ref(), T::Acc::ZERO, c.as_mut())?;
    let seconds = start.elapsed().as_secs_f64();

    let entries: Vec<(usize, usize)> = if n * n <= args.samples {
        (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).collect()
    } else {
        (0..args.samples).map(|_| (rng.random_range(0..n), rng.random_range(0..n))).collect()
    };
    let problem = Problem { alpha: T::Acc::ONE, a: a.as_ref(), b: b.as_ref(), beta: T::Acc::ZERO, c0: c.as_ref() };
    let (mut max_eob, mut max_abs, mut max_ref) = (0.0f64, 0.0f64, 0.0f64);
    for &(i, j) in &entries {
        let e = problem.entry(i, j);
        let got = c.get(i, j).map(Element::to_f64).unwrap_or(f64::NAN);
        let eob = err_over_bound(got, e.value, e.bound);
        // NaN compares false: keep it visible as the maximum.
        if eob.is_nan() || eob > max_eob {
            max_eob = eob;
        }
        let abs = (got - e.value).abs();
        if abs.is_nan() || abs > max_abs {
            max_abs = abs;
        }
        max_ref = max_ref.max(e.value.abs());
    }
    Ok(Row {
        backend: backend.name().to_owned(),
        dtype: T::DTYPE,
        input,
        n,
        layout: matmul_bench_format::Layouts::ROW_MAJOR,
        checked: entries.len(),
        max_err_over_bound: max_eob,
        max_abs_err: max_abs,
        rel_err: if max_ref > 0.0 { max_abs / max_ref } else { max_abs },
        seconds,
    })
}
