//! `bench`: the scaling sweep and the layout experiment of every selected backend and peer,
//! interleaved per point, with accuracy and the machine's peak, written as JSON.
//!
//! One process measures what it was built with. xtask runs one process per runner build
//! (each BLAS library needs its own binary) and per thread count (`peer:matrixmultiply`
//! fixes its thread count once per process), then merges the JSON files into the report.
//!
//! * [`measure`]: timing one point, backends interleaved.
//! * [`fairness`]: two handles to one backend must time alike (the `fairness` subcommand).
//! * [`peak`]: the FMA-throughput microbenchmark.
//! * [`predict`]: a call's time at the next size, to skip sizes over the budget.
//! * [`machine`]: the machine line.
//! * [`output`]: the JSON format.
//!
//! The peers (feature `peers`) come from the `matmul-peers` crate.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use matmul::{Backend, Layout, Scalar};
use matmul_core::BackendKind;

pub mod fairness;
pub mod icount;
mod machine;
mod measure;
mod output;
mod peak;
mod predict;

use measure::{measure_point, random_matrix, sample_entries, NotMeasured, Operands, Timing};
use output::{BackendInfo, Machine, Output, PeakMethod, Row, Settings, Skip};

/// Options of `bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Square sizes n (m = n = k), comma-separated. Default: 4, 8, …, 1024, 2048; a backend
    /// is skipped at sizes where one call is predicted to take longer than `--max-call`.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Element type.
    #[arg(long, value_enum, default_value_t = DtypeArg::All)]
    dtype: DtypeArg,
    /// Thread counts, comma-separated. Default: 1 and every core. Single-threaded backends
    /// run at 1 only.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    threads: Vec<usize>,
    /// Backends and peers to run, comma-separated. Default: every compiled backend that can
    /// run here, and every peer.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    backends: Vec<String>,
    /// Layouts of A, B, C for the sweep, e.g. `rrr,rcr`. Default: `rrr`.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    layouts: Vec<String>,
    /// Size of the layout experiment (every r/c mix of A, B, C, at 1 thread); 0 skips it.
    /// Default: 512 (32 with `--quick`).
    #[arg(long, value_name = "N")]
    layout_size: Option<usize>,
    /// Backends and peers of the layout experiment, comma-separated. Default: those of the sweep.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    layout_backends: Vec<String>,
    /// A smoke run in seconds: small sizes, short timing.
    #[arg(long)]
    quick: bool,
    /// Write the results here as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Seconds of timed calls per backend and point (default 0.2; 0.005 with `--quick`).
    #[arg(long, value_name = "SECONDS")]
    min_time: Option<f64>,
    /// Skip a point when one call is predicted to take longer (default 4; 0.2 with `--quick`).
    #[arg(long, value_name = "SECONDS")]
    max_call: Option<f64>,
    /// Do not measure the machine's peak (another process does).
    #[arg(long)]
    no_peak: bool,
    /// Seed of the random inputs.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DtypeArg {
    F32,
    F64,
    All,
}

/// Every r/c combination for A, B, C: the layout experiment.
const ALL_LAYOUTS: [&str; 8] = ["rrr", "rrc", "rcr", "rcc", "crr", "crc", "ccr", "ccc"];

/// What a bench process is measuring, shared by both dtypes.
struct Plan {
    backends: Vec<&'static dyn Backend>,
    sizes: Vec<usize>,
    threads: Vec<usize>,
    layouts: Vec<[Layout; 3]>,
    layout_size: usize,
    /// Names of the backends the layout experiment runs; empty: every eligible one.
    layout_backends: Vec<String>,
    timing: Timing,
    max_call: f64,
    seed: u64,
    cores: usize,
    peak: HashMap<&'static str, peak::Peak>,
}

/// A backend that cannot run at a thread count in this process, and why.
type Refused = (&'static dyn Backend, String);

/// Accumulates rows and skips, and drives the progress bar.
struct Recorder {
    results: Vec<Row>,
    skipped: Vec<Skip>,
    progress: ProgressBar,
}

fn layout_name(l: &[Layout; 3]) -> String {
    l.iter().map(|x| x.letter()).collect()
}

fn parse_layout(s: &str) -> anyhow::Result<[Layout; 3]> {
    let letters: Vec<Layout> = s.chars().map(Layout::from_letter).collect::<Option<_>>().unwrap_or_default();
    match letters.as_slice() {
        [a, b, c] => Ok([*a, *b, *c]),
        _ => bail!("layout {s:?}: expected three letters r or c, for A, B and C (e.g. rcr)"),
    }
}

/// Every backend this binary can measure: the compiled ones, then the peers.
fn contenders() -> Vec<&'static dyn Backend> {
    #[allow(unused_mut)]
    let mut all: Vec<&'static dyn Backend> = matmul::backends().to_vec();
    #[cfg(feature = "peers")]
    all.extend(matmul_peers::peers());
    all
}

/// The thread count `peer:matrixmultiply` is fixed at in this process, if it is compiled in.
fn matrixmultiply_threads() -> Option<usize> {
    #[cfg(feature = "peers")]
    return matmul_peers::MatrixMultiplyPeer::process_threads();
    #[cfg(not(feature = "peers"))]
    return None;
}

/// The threads `b` really uses when a point asks for `requested`, or why it cannot run at
/// that count in this process (only `peer:matrixmultiply` differs: at most 4, fixed per process).
fn threads_used(b: &dyn Backend, requested: usize) -> Result<usize, String> {
    #[cfg(feature = "peers")]
    return matmul_peers::threads_used(b, requested);
    #[cfg(not(feature = "peers"))]
    return {
        let _ = b;
        Ok(requested)
    };
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let cores = machine::cores();
    let threads = if args.threads.is_empty() {
        let mut t = vec![1, cores];
        t.dedup();
        t
    } else {
        args.threads.clone()
    };
    if threads.contains(&0) {
        bail!("--threads: a thread count must be at least 1");
    }
    #[cfg(feature = "peers")]
    if std::env::var_os(matmul_peers::MatrixMultiplyPeer::THREADS_VAR).is_none() {
        // matrixmultiply reads this once, at its first call; nothing has called it yet and
        // no other thread runs, so setting it here is race-free.
        let fixed = if threads.len() == 1 { threads[0] } else { 1 };
        std::env::set_var(matmul_peers::MatrixMultiplyPeer::THREADS_VAR, fixed.to_string());
    }

    let all = contenders();
    let backends: Vec<&'static dyn Backend> = if args.backends.is_empty() {
        all.iter().copied().filter(|b| b.availability().is_available()).collect()
    } else {
        let mut chosen = Vec::new();
        for name in &args.backends {
            let Some(b) = all.iter().copied().find(|b| b.name() == name) else {
                bail!(
                    "unknown backend {name:?}; this runner has: {}",
                    all.iter().map(|b| b.name()).collect::<Vec<_>>().join(", ")
                );
            };
            if let matmul::Availability::Unavailable(why) = b.availability() {
                bail!("backend {name} cannot run here: {why}");
            }
            chosen.push(b);
        }
        chosen
    };
    let sizes = if !args.sizes.is_empty() {
        args.sizes.clone()
    } else if args.quick {
        vec![4, 16, 64]
    } else {
        (2..=11).map(|p| 1usize << p).collect()
    };
    if sizes.contains(&0) {
        bail!("--sizes: sizes must be at least 1");
    }
    let layouts = if args.layouts.is_empty() {
        vec![[Layout::RowMajor; 3]]
    } else {
        args.layouts.iter().map(|s| parse_layout(s)).collect::<anyhow::Result<_>>()?
    };
    let dtypes: &[&'static str] = match args.dtype {
        DtypeArg::F32 => &["f32"],
        DtypeArg::F64 => &["f64"],
        DtypeArg::All => &["f32", "f64"],
    };
    let timing = Timing {
        min_time: args.min_time.unwrap_or(if args.quick { 0.005 } else { 0.2 }),
        min_samples: 3,
        target_rounds: if args.quick { 3 } else { 5 },
        order_seed: args.seed,
    };
    // 4 s a call, at least 4 calls (warm-up + 3 samples) per point: the naive loops reach
    // n = 1024–2048 and the full run stays within about 5 minutes on 2 cores.
    let max_call = args.max_call.unwrap_or(if args.quick { 0.2 } else { 4.0 });

    let ghz = machine::cpu_ghz();
    let mut peak = HashMap::new();
    if !args.no_peak {
        let per_run = Duration::from_millis(if args.quick { 5 } else { 60 });
        for &d in dtypes {
            let dt = if d == "f32" { peak::Dtype::F32 } else { peak::Dtype::F64 };
            eprintln!("bench: measuring the {d} FMA peak (1 and {cores} threads)…");
            peak.insert(d, peak::measure(dt, cores, per_run, ghz));
        }
    }
    let plan = Plan {
        backends,
        sizes,
        threads,
        layouts,
        layout_size: args.layout_size.unwrap_or(if args.quick { 32 } else { 512 }),
        layout_backends: args.layout_backends.clone(),
        timing,
        max_call,
        seed: args.seed,
        cores,
        peak,
    };
    for (d, p) in &plan.peak {
        println!(
            "peak {d}: {:.1} GFLOP/s on 1 thread, {:.1} on {cores} ({}; theoretical 1-core {})",
            p.one,
            p.all,
            p.isa,
            p.theoretical_one.map_or("unknown".to_owned(), |t| format!("{t:.1} at the nominal clock"))
        );
    }

    for b in &plan.backends {
        let details = b.details();
        if !details.is_empty() {
            println!("backend {}: {details}", b.name());
        }
    }

    let progress = ProgressBar::with_draw_target(Some(plan.tasks(dtypes) as u64), ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} ETA {eta} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut rec = Recorder { results: Vec::new(), skipped: Vec::new(), progress };
    for &d in dtypes {
        if d == "f32" {
            plan.run_dtype::<f32>(&mut rec);
        } else {
            plan.run_dtype::<f64>(&mut rec);
        }
    }
    rec.progress.finish_and_clear();

    let failures = rec.results.iter().filter(|r| r.max_err_over_bound.is_nan() || r.max_err_over_bound > 1.0).count();
    println!(
        "bench: {} points measured, {} skipped, {} over the error bound",
        rec.results.len(),
        rec.skipped.len(),
        failures
    );
    let out = Output {
        schema: output::SCHEMA,
        machine: Machine {
            cpu: machine::cpu_model(),
            cores,
            features: machine::features(),
            compiled_features: machine::compiled_features(),
            ghz,
            peak_gflops: plan
                .peak
                .iter()
                .map(|(d, p)| (d.to_string(), [("1".to_owned(), p.one), ("all".to_owned(), p.all)].into()))
                .collect(),
            peak_method: plan
                .peak
                .iter()
                .map(|(d, p)| (d.to_string(), PeakMethod { isa: p.isa.to_owned(), theoretical_one: p.theoretical_one }))
                .collect(),
        },
        backends: plan
            .backends
            .iter()
            .map(|b| BackendInfo {
                name: b.name().to_owned(),
                kind: b.kind().as_str().to_owned(),
                details: b.details(),
                description: b.description().to_owned(),
                multithreaded: b.is_multithreaded(),
            })
            .collect(),
        settings: Settings {
            min_time_s: plan.timing.min_time,
            min_samples: plan.timing.min_samples,
            max_call_s: plan.max_call,
            seed: plan.seed,
            quick: args.quick,
            matrixmultiply_threads: matrixmultiply_threads(),
        },
        results: rec.results,
        skipped: rec.skipped,
    };
    if let Some(path) = &args.json {
        let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(file), &out)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("bench: wrote {}", path.display());
    }
    if failures > 0 {
        bail!("{failures} measured point(s) exceeded the error bound: a backend is wrong");
    }
    Ok(())
}

impl Plan {
    /// The backends that run at `threads` threads, and a reason for each that does not.
    fn eligible(&self, threads: usize) -> (Vec<&'static dyn Backend>, Vec<Refused>) {
        let (mut run, mut skip) = (Vec::new(), Vec::new());
        for &b in &self.backends {
            if threads > 1 && !b.is_multithreaded() {
                // Not a skip: single-threaded backends are only ever measured at 1 thread.
                continue;
            }
            match threads_used(b, threads) {
                Ok(_) => run.push(b),
                Err(why) => skip.push((b, why)),
            }
        }
        (run, skip)
    }

    /// The backends of the layout experiment (1 thread).
    fn layout_run(&self) -> Vec<&'static dyn Backend> {
        let (run, _) = self.eligible(1);
        run.into_iter()
            .filter(|b| self.layout_backends.is_empty() || self.layout_backends.iter().any(|n| n == b.name()))
            .collect()
    }

    /// Progress-bar steps: one per backend and point.
    fn tasks(&self, dtypes: &[&str]) -> usize {
        let mut n = 0;
        for &t in &self.threads {
            let (run, skip) = self.eligible(t);
            n += (run.len() + skip.len()) * self.sizes.len() * self.layouts.len();
        }
        if self.layout_size > 0 && self.threads.contains(&1) {
            n += self.layout_run().len() * ALL_LAYOUTS.len();
        }
        n * dtypes.len()
    }

    fn peak_at(&self, dtype: &str, threads: usize) -> Option<f64> {
        let p = self.peak.get(dtype)?;
        Some(if threads == 1 {
            p.one
        } else if threads >= self.cores {
            p.all
        } else {
            (p.one * threads as f64).min(p.all)
        })
    }

    fn run_dtype<T: Scalar>(&self, rec: &mut Recorder) {
        // Per (backend, threads, layout): the sizes measured so far, to predict the next
        // size's call time and skip it when over budget.
        let mut history: HashMap<(&str, usize, String), predict::CallTimes> = HashMap::new();
        let dseed = self.seed ^ if T::NAME == "f32" { 0x3232 } else { 0x6464 };
        for &n in &self.sizes {
            let a0 = random_matrix::<T>(n, n, dseed ^ (n as u64) << 8);
            let b0 = random_matrix::<T>(n, n, dseed ^ (n as u64) << 8 ^ 1);
            for &threads in &self.threads {
                let (eligible, fixed_skips) = self.eligible(threads);
                for layout in &self.layouts {
                    let lname = layout_name(layout);
                    for (b, why) in &fixed_skips {
                        rec.skip::<T>(b.name(), Some(n), threads, &lname, "sweep", why.clone());
                    }
                    let mut run = Vec::new();
                    for &b in &eligible {
                        let key = (b.name(), threads, lname.clone());
                        match history.get(&key).and_then(|h| h.predict(n)) {
                            Some((predicted, n0)) if predicted > self.max_call => {
                                rec.skip::<T>(
                                    b.name(),
                                    Some(n),
                                    threads,
                                    &lname,
                                    "sweep",
                                    format!(
                                        "one call predicted to take {predicted:.1} s (from n = {n0}), over the {} s budget",
                                        self.max_call
                                    ),
                                );
                            }
                            _ => run.push(b),
                        }
                    }
                    if run.is_empty() {
                        continue;
                    }
                    let ops = Operands {
                        a: a0.as_ref().to_matrix(layout[0]),
                        b: b0.as_ref().to_matrix(layout[1]),
                        c_layout: layout[2],
                        sample: sample_entries(n, n, dseed ^ n as u64),
                    };
                    let measured = self.point::<T>(rec, &run, &ops, threads, &lname, "sweep");
                    for (b, t) in run.iter().zip(measured) {
                        let h = history.entry((b.name(), threads, lname.clone())).or_default();
                        match t {
                            Some(t) => h.measured(n, t),
                            // Over budget or failed: no larger size either.
                            None => h.failed(n),
                        }
                    }
                }
            }
        }
        if self.layout_size > 0 && self.threads.contains(&1) {
            let n = self.layout_size;
            let a0 = random_matrix::<T>(n, n, dseed ^ 0x1a);
            let b0 = random_matrix::<T>(n, n, dseed ^ 0x1b);
            let run = self.layout_run();
            for lname in ALL_LAYOUTS {
                let layout = parse_layout(lname).expect("fixed layout names are valid");
                let ops = Operands {
                    a: a0.as_ref().to_matrix(layout[0]),
                    b: b0.as_ref().to_matrix(layout[1]),
                    c_layout: layout[2],
                    sample: sample_entries(n, n, dseed ^ 0x1c),
                };
                self.point::<T>(rec, &run, &ops, 1, lname, "layout");
            }
        }
    }

    /// Measures one point and records it; returns each backend's fastest call time, if measured.
    fn point<T: Scalar>(
        &self,
        rec: &mut Recorder,
        run: &[&'static dyn Backend],
        ops: &Operands<T>,
        threads: usize,
        layout: &str,
        experiment: &str,
    ) -> Vec<Option<f64>> {
        let (m, k, n) = (ops.a.nrows(), ops.a.ncols(), ops.b.ncols());
        for b in run {
            b.set_threads(threads);
        }
        let names: Vec<&str> = run.iter().map(|b| b.name()).collect();
        rec.progress.set_message(format!("{} {layout} t={threads} n={n}: {}", T::NAME, names.join(" ")));
        let progress = rec.progress.clone();
        let measured = measure_point(run, ops, self.timing, self.max_call, || progress.inc(1));
        let flops = 2.0 * m as f64 * n as f64 * k as f64;
        let gflops = |s: f64| flops / s / 1e9;
        // The best BLAS of this point, from these interleaved runs.
        let best_blas = run
            .iter()
            .zip(&measured)
            .filter(|(b, _)| b.kind() == BackendKind::Blas)
            .filter_map(|(b, r)| r.as_ref().ok().map(|r| (b.name(), gflops(r.median))))
            .max_by(|x, y| x.1.total_cmp(&y.1));
        let peak = self.peak_at(T::NAME, threads);
        let mut out = Vec::new();
        for (b, r) in run.iter().zip(measured) {
            match r {
                Ok(r) => {
                    let g = gflops(r.median);
                    let used = threads_used(*b, threads).ok().filter(|&used| used != threads);
                    let pass = r.max_err_over_bound <= 1.0;
                    rec.progress.suspend(|| {
                        println!(
                            "{}gemm {layout} t={threads:<2} n={n:<5} {:<22} {:>9.3} GF/s {:>6} of peak  err/bound {:<9.2e} {}{}",
                            T::BLAS_PREFIX,
                            b.name(),
                            g,
                            peak.map_or("-".to_owned(), |p| format!("{:.1}%", 100.0 * g / p)),
                            r.max_err_over_bound,
                            if pass { "PASS" } else { "FAIL" },
                            used.map_or(String::new(), |u| format!("  ({u} threads used)"))
                        )
                    });
                    rec.results.push(Row {
                        backend: b.name().to_owned(),
                        dtype: T::NAME.to_owned(),
                        m,
                        n,
                        k,
                        threads,
                        threads_used: used,
                        layout: layout.to_owned(),
                        experiment: experiment.to_owned(),
                        seconds_median: r.median,
                        seconds_min: r.min,
                        samples: r.samples,
                        calls: r.calls,
                        gflops: g,
                        peak_fraction: peak.map(|p| g / p),
                        max_err_over_bound: r.max_err_over_bound,
                        checked_entries: r.checked,
                        ratio_to_best_blas: best_blas.map(|(_, best)| g / best),
                        best_blas: best_blas.map(|(name, _)| name.to_owned()),
                    });
                    out.push(Some(r.min));
                }
                Err(why) => {
                    let reason = match why {
                        NotMeasured::OverBudget(s) => {
                            format!("the warm-up call took {s:.1} s, over the {} s budget", self.max_call)
                        }
                        NotMeasured::Failed(e) => format!("failed: {e}"),
                    };
                    rec.skipped.push(Skip {
                        backend: b.name().to_owned(),
                        dtype: T::NAME.to_owned(),
                        n: Some(n),
                        threads,
                        layout: layout.to_owned(),
                        experiment: experiment.to_owned(),
                        reason,
                    });
                    out.push(None);
                }
            }
        }
        out
    }
}

impl Recorder {
    fn skip<T: Scalar>(
        &mut self,
        backend: &str,
        n: Option<usize>,
        threads: usize,
        layout: &str,
        exp: &str,
        why: String,
    ) {
        self.skipped.push(Skip {
            backend: backend.to_owned(),
            dtype: T::NAME.to_owned(),
            n,
            threads,
            layout: layout.to_owned(),
            experiment: exp.to_owned(),
            reason: why,
        });
        self.progress.inc(1);
    }
}
