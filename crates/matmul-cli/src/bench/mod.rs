//! `bench`: the scaling sweep and the layout experiment of every selected backend and peer,
//! interleaved per point, with accuracy and the machine's peak, written as JSON.
//!
//! One process measures what it was built with. xtask runs one process per runner build
//! (each BLAS library needs its own binary) and per thread count (`peer:matrixmultiply`
//! fixes its thread count once per process), then merges the JSON files into the report.
//!
//! * [`measure`]: timing one point, backends interleaved.
//! * [`fairness`]: two handles to one backend must time alike (the `fairness` subcommand).
//! * [`gpu`]: a GPU backend's larger sizes and its kernel-only time and copy rates.
//! * [`peak`]: the FMA-throughput microbenchmark.
//! * [`predict`]: a call's time at the next size, to skip sizes over the budget.
//! * [`machine`]: the machine line.
//! * [`output`]: this runner's results in the bench format (`matmul-bench-format`).
//!
//! The peers (feature `peers`) come from the `matmul-peers` crate. The runner writes
//! measurements only; GFLOP/s, % of peak and the ratio to the best BLAS are derived by xtask.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use matmul::{Backend, Element};
use matmul_bench_format::options::BenchOptions;
use matmul_bench_format::runner::{Machine, Measurement, Peak, PeakRates, RunnerOutput, Settings, Skip};
use matmul_bench_format::{Dtype, Experiment, Layouts, Shape};

pub mod batch;
pub mod fairness;
mod gpu;
pub mod icount;
mod machine;
pub(crate) mod measure;
pub mod output;
mod peak;
mod predict;

use measure::{measure_point, random_matrix, sample_entries, NotMeasured, Operands, Timing};
use output::At;

/// Options of `bench`: the shared bench options, and where to write.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub(crate) options: BenchOptions,
    /// Write the results here as JSON.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
}

/// What a bench process is measuring, shared by both dtypes.
struct Plan {
    backends: Vec<&'static dyn Backend>,
    dtypes: Vec<Dtype>,
    /// The sweep's sizes for every backend.
    sizes: Vec<usize>,
    /// Whether GPU backends also get [`gpu::extra_sweep_sizes`] (only with the default sizes).
    gpu_extra_sizes: bool,
    shapes: Vec<Shape>,
    threads: Vec<usize>,
    layouts: Vec<Layouts>,
    layout_size: usize,
    /// Names of the backends the layout experiment runs; empty: every eligible one.
    layout_backends: Vec<String>,
    timing: Timing,
    max_call: f64,
    seed: u64,
    quick: bool,
    cores: usize,
}

/// A backend that cannot run at a thread count in this process, and why.
type Refused = (&'static dyn Backend, String);

/// Accumulates measurements and skips, and drives the progress bar.
struct Recorder {
    results: Vec<Measurement>,
    skipped: Vec<Skip>,
    progress: ProgressBar,
}

/// Every backend this binary can measure: the compiled ones, then the peers.
pub fn contenders() -> Vec<&'static dyn Backend> {
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

/// The backends named, or every one that can run here when none is.
pub(crate) fn select(names: &[String]) -> anyhow::Result<Vec<&'static dyn Backend>> {
    let all = contenders();
    if names.is_empty() {
        return Ok(all.into_iter().filter(|b| b.availability().is_available()).collect());
    }
    let mut chosen = Vec::new();
    for name in names {
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
    Ok(chosen)
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let plan = Plan::new(&args.options)?;
    #[cfg(feature = "peers")]
    if std::env::var_os(matmul_peers::MatrixMultiplyPeer::THREADS_VAR).is_none() {
        // matrixmultiply reads this once, at its first call; nothing has called it yet and
        // no other thread runs, so setting it here is race-free.
        let fixed = if plan.threads.len() == 1 { plan.threads[0] } else { 1 };
        std::env::set_var(matmul_peers::MatrixMultiplyPeer::THREADS_VAR, fixed.to_string());
    }
    let start = plan.measure_peaks("start");
    let rec = plan.measure_all();
    let end = plan.measure_peaks("end");
    let failures = rec.results.iter().filter(|r| !r.passed()).count();
    println!(
        "bench: {} points measured, {} skipped, {} over the error bound",
        rec.results.len(),
        rec.skipped.len(),
        failures
    );
    let out = plan.output(rec, start, end);
    if let Some(path) = &args.json {
        out.save(path)?;
        println!("bench: wrote {}", path.display());
    }
    if failures > 0 {
        bail!("{failures} measured point(s) exceeded the error bound: a backend is wrong");
    }
    Ok(())
}

impl Plan {
    fn new(options: &BenchOptions) -> anyhow::Result<Plan> {
        let cores = machine::cores();
        let threads = options.thread_counts(cores);
        if threads.contains(&0) {
            bail!("--threads: a thread count must be at least 1");
        }
        let sizes = options.sweep_sizes();
        if sizes.contains(&0) {
            bail!("--sizes: sizes must be at least 1");
        }
        Ok(Plan {
            backends: select(&options.backends)?,
            dtypes: options.dtype.dtypes().to_vec(),
            sizes,
            gpu_extra_sizes: options.sizes.is_empty() && !options.quick,
            shapes: options.shapes.clone(),
            threads,
            layouts: options.layouts.items().to_vec(),
            layout_size: options.layout_size(),
            layout_backends: options.layout_backends.clone(),
            timing: Timing {
                min_time: options.min_time(),
                min_samples: 3,
                target_rounds: if options.quick { 3 } else { 5 },
                order_seed: options.seed,
            },
            max_call: options.max_call(),
            seed: options.seed,
            quick: options.quick,
            cores,
        })
    }

    /// The FMA peak of every dtype, on one thread and on every core. Measured at the start
    /// and at the end of each process: a machine shared with other work can halve one
    /// measurement, and the report keeps the larger.
    fn measure_peaks(&self, when: &str) -> Vec<PeakRates> {
        let per_run = Duration::from_millis(if self.quick { 5 } else { 60 });
        let cores = self.cores;
        self.dtypes
            .iter()
            .map(|&d| {
                let p = peak::measure(d, cores, per_run);
                println!(
                    "peak {d} ({when}): {:.1} GFLOP/s on 1 thread, {:.1} on {cores} ({})",
                    p.one,
                    p.all,
                    peak::instruction(d)
                );
                p
            })
            .collect()
    }

    /// Runs every experiment of every dtype.
    fn measure_all(&self) -> Recorder {
        let progress = ProgressBar::with_draw_target(Some(self.tasks() as u64), ProgressDrawTarget::stderr());
        progress.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} ETA {eta} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        let mut rec = Recorder { results: Vec::new(), skipped: Vec::new(), progress };
        for &d in &self.dtypes {
            match d {
                Dtype::F32 => self.run_dtype::<f32>(d, &mut rec),
                Dtype::F64 => self.run_dtype::<f64>(d, &mut rec),
                Dtype::Bf16 => self.run_dtype::<matmul::half::bf16>(d, &mut rec),
                Dtype::F16 => self.run_dtype::<matmul::half::f16>(d, &mut rec),
            }
        }
        rec.progress.finish_and_clear();
        rec
    }

    /// The process's output: machine, peaks, backends, settings and what was measured.
    fn output(&self, rec: Recorder, start: Vec<PeakRates>, end: Vec<PeakRates>) -> RunnerOutput {
        RunnerOutput {
            schema: matmul_bench_format::SCHEMA,
            machine: Machine {
                cpu: machine::cpu_model(),
                cores: self.cores,
                features: machine::features(),
                compiled_features: machine::compiled_features(),
                theoretical: machine::theoretical(),
            },
            peaks: self
                .dtypes
                .iter()
                .zip(start.into_iter().zip(end))
                .map(|(&dtype, (start, end))| Peak {
                    dtype,
                    isa: peak::isa().as_str().to_owned(),
                    cores: self.cores,
                    start,
                    end,
                })
                .collect(),
            gpu_peaks: gpu::peaks(&self.backends, &self.dtypes),
            backends: self.backends.iter().map(|b| output::backend_info(*b)).collect(),
            settings: Settings {
                min_time_s: self.timing.min_time,
                min_samples: self.timing.min_samples,
                max_call_s: self.max_call,
                seed: self.seed,
                quick: self.quick,
                matrixmultiply_threads: matrixmultiply_threads(),
            },
            results: rec.results,
            skipped: rec.skipped,
        }
    }

    /// The backends that run at `threads` threads, and a reason for each that does not.
    fn eligible(&self, threads: usize, dtype: Dtype) -> (Vec<&'static dyn Backend>, Vec<Refused>) {
        let (mut run, mut skip) = (Vec::new(), Vec::new());
        for &b in &self.backends {
            if threads > 1 && !b.is_multithreaded() {
                // Not a skip: single-threaded backends are only ever measured at 1 thread.
                continue;
            }
            if !b.supports(dtype) {
                skip.push((b, format!("does not multiply {dtype} inputs")));
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
    fn layout_run(&self, dtype: Dtype) -> Vec<&'static dyn Backend> {
        let (run, _) = self.eligible(1, dtype);
        run.into_iter()
            .filter(|b| self.layout_backends.is_empty() || self.layout_backends.iter().any(|n| n == b.name()))
            .collect()
    }

    /// Whether `b` has a sweep point at size `n`: every backend at the plan's sizes, GPU
    /// backends also at their extra ones.
    fn sweeps_at(&self, b: &dyn Backend, n: usize) -> bool {
        self.sizes.contains(&n) || (self.gpu_extra_sizes && gpu::extra_sweep_sizes(b.kind(), b.name()).contains(&n))
    }

    /// Every size of the sweep, for any backend, ascending.
    fn all_sweep_sizes(&self) -> Vec<usize> {
        let mut all = self.sizes.clone();
        if self.gpu_extra_sizes {
            for b in &self.backends {
                all.extend_from_slice(gpu::extra_sweep_sizes(b.kind(), b.name()));
            }
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Progress-bar steps: one per backend and point.
    fn tasks(&self) -> usize {
        let mut n = 0;
        let sizes = self.all_sweep_sizes();
        for &dtype in &self.dtypes {
            for &t in &self.threads {
                let (run, skip) = self.eligible(t, dtype);
                for b in run.iter().copied().chain(skip.iter().map(|(b, _)| *b)) {
                    let points = sizes.iter().filter(|&&size| self.sweeps_at(b, size)).count() + self.shapes.len();
                    n += points * self.layouts.len();
                }
            }
            if self.layout_size > 0 && self.threads.contains(&1) {
                n += self.layout_run(dtype).len() * Layouts::ALL.len();
            }
        }
        n
    }

    fn run_dtype<T: Element>(&self, dtype: Dtype, rec: &mut Recorder) {
        let dseed = self.seed
            ^ match dtype {
                Dtype::F32 => 0x3232,
                Dtype::F64 => 0x6464,
                Dtype::Bf16 => 0xbf16,
                Dtype::F16 => 0x1616,
            };
        self.sweep::<T>(dtype, dseed, rec);
        self.layout_experiment::<T>(dtype, dseed, rec);
        self.rectangular::<T>(dtype, dseed, rec);
    }

    /// The square scaling sweep, skipping a backend at sizes predicted to be over budget.
    fn sweep<T: Element>(&self, dtype: Dtype, dseed: u64, rec: &mut Recorder) {
        // Per (backend, threads, layout): the sizes measured so far, to predict the next
        // size's call time and skip it when over budget.
        let mut history: HashMap<(&str, usize, Layouts), predict::CallTimes> = HashMap::new();
        for n in self.all_sweep_sizes() {
            if !self.backends.iter().any(|b| self.sweeps_at(*b, n)) {
                continue;
            }
            let a0 = random_matrix::<T>(n, n, dseed ^ (n as u64) << 8);
            let b0 = random_matrix::<T>(n, n, dseed ^ (n as u64) << 8 ^ 1);
            for &threads in &self.threads {
                let (mut eligible, mut fixed_skips) = self.eligible(threads, dtype);
                // A size beyond the CPU sweep (4096, 8192) is a GPU backend's alone.
                eligible.retain(|b| self.sweeps_at(*b, n));
                fixed_skips.retain(|(b, _)| self.sweeps_at(*b, n));
                for &layout in &self.layouts {
                    let at = At { dtype, experiment: Experiment::Sweep, shape: Shape::square(n), threads, layout };
                    for (b, why) in &fixed_skips {
                        rec.skip(b.name(), &at, why.clone());
                    }
                    let mut run = Vec::new();
                    for &b in &eligible {
                        let key = (b.name(), threads, layout);
                        match history.get(&key).and_then(|h| h.predict(n)) {
                            Some((predicted, n0)) if predicted > self.max_call => {
                                rec.skip(
                                    b.name(),
                                    &at,
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
                    let ops = Operands::new(&a0, &b0, layout, sample_entries(n, n, dseed ^ n as u64));
                    let measured = self.point::<T>(rec, &run, &ops, &at);
                    for (b, t) in run.iter().zip(measured) {
                        let h = history.entry((b.name(), threads, layout)).or_default();
                        match t {
                            Some(t) => h.measured(n, t),
                            // Over budget or failed: no larger size either.
                            None => h.failed(n),
                        }
                    }
                }
            }
        }
    }

    /// Every r/c mix of A, B and C at one size, 1 thread.
    fn layout_experiment<T: Element>(&self, dtype: Dtype, dseed: u64, rec: &mut Recorder) {
        if self.layout_size == 0 || !self.threads.contains(&1) {
            return;
        }
        let n = self.layout_size;
        let a0 = random_matrix::<T>(n, n, dseed ^ 0x1a);
        let b0 = random_matrix::<T>(n, n, dseed ^ 0x1b);
        let run = self.layout_run(dtype);
        for layout in Layouts::ALL {
            let ops = Operands::new(&a0, &b0, layout, sample_entries(n, n, dseed ^ 0x1c));
            let at = At { dtype, experiment: Experiment::Layout, shape: Shape::square(n), threads: 1, layout };
            self.point::<T>(rec, &run, &ops, &at);
        }
    }

    /// The rectangular products of `--shapes`, at every thread count and sweep layout. Each
    /// shape stands alone, so there is no prediction: a backend whose warm-up call is over
    /// the budget is skipped there.
    fn rectangular<T: Element>(&self, dtype: Dtype, dseed: u64, rec: &mut Recorder) {
        for (i, &shape) in self.shapes.iter().enumerate() {
            let seed = dseed ^ 0x5_0000 ^ (i as u64) << 20;
            let a0 = random_matrix::<T>(shape.m, shape.k, seed);
            let b0 = random_matrix::<T>(shape.k, shape.n, seed ^ 1);
            for &threads in &self.threads {
                let (run, fixed_skips) = self.eligible(threads, dtype);
                for &layout in &self.layouts {
                    let at = At { dtype, experiment: Experiment::Shapes, shape, threads, layout };
                    for (b, why) in &fixed_skips {
                        rec.skip(b.name(), &at, why.clone());
                    }
                    let ops = Operands::new(&a0, &b0, layout, sample_entries(shape.m, shape.n, seed ^ 2));
                    self.point::<T>(rec, &run, &ops, &at);
                }
            }
        }
    }

    /// Measures one point and records it; returns each backend's fastest call time, if measured.
    fn point<T: Element>(
        &self,
        rec: &mut Recorder,
        run: &[&'static dyn Backend],
        ops: &Operands<T>,
        at: &At,
    ) -> Vec<Option<f64>> {
        if run.is_empty() {
            return Vec::new();
        }
        for b in run {
            b.set_threads(at.threads);
        }
        let names: Vec<&str> = run.iter().map(|b| b.name()).collect();
        rec.progress.set_message(format!(
            "{} {} t={} {}: {}",
            at.dtype,
            at.layout,
            at.threads,
            at.shape,
            names.join(" ")
        ));
        let progress = rec.progress.clone();
        let measured = measure_point(run, ops, self.timing, self.max_call, || progress.inc(1));
        let mut out = Vec::new();
        for (b, r) in run.iter().zip(measured) {
            match r {
                Ok(r) => {
                    let mut m = output::measurement(b.name(), at, &r);
                    m.threads_used = threads_used(*b, at.threads).ok().filter(|&used| used != at.threads);
                    match gpu::figures(*b, ops, self.timing) {
                        Some(Ok(figures)) => m.gpu = Some(figures),
                        Some(Err(why)) => rec
                            .progress
                            .suspend(|| eprintln!("{}: kernel-only time and copy rates not measured: {why}", b.name())),
                        None => {}
                    }
                    rec.progress.suspend(|| print_row(&m, at.dtype));
                    rec.results.push(m);
                    out.push(Some(r.min));
                }
                Err(why) => {
                    let reason = match why {
                        NotMeasured::OverBudget(s) => {
                            format!("the warm-up call took {s:.1} s, over the {} s budget", self.max_call)
                        }
                        NotMeasured::Failed(e) => format!("failed: {e}"),
                    };
                    rec.skipped.push(skip(b.name(), at, reason));
                    out.push(None);
                }
            }
        }
        out
    }
}

/// One line per measurement, in the style of BLIS's test suite.
fn print_row(m: &Measurement, dtype: Dtype) {
    let shape = m.shape();
    let size = if shape.is_square() { format!("n={}", shape.n) } else { shape.to_string() };
    println!(
        "{:<6} {} t={:<2} {size:<16} {:<22} {:>9.3} GF/s  err/bound {:<9.2e} {}{}",
        dtype.routine(),
        m.layout,
        m.threads,
        m.backend,
        m.gflops(),
        m.max_err_over_bound,
        if m.passed() { "PASS" } else { "FAIL" },
        m.threads_used.map_or(String::new(), |used| format!("  ({used} threads used)"))
    );
    if let Some(g) = &m.gpu {
        println!(
            "{:>48} kernel only {:>9.3} GF/s  copies {:.1} GB/s up, {:.1} GB/s down ({})",
            "",
            g.kernel_gflops(shape),
            g.h2d_gbps,
            g.d2h_gbps,
            if g.pinned { "pinned" } else { "pageable" }
        );
    }
}

fn skip(backend: &str, at: &At, reason: String) -> Skip {
    Skip {
        backend: backend.to_owned(),
        dtype: at.dtype,
        experiment: at.experiment,
        shape: Some(at.shape),
        threads: at.threads,
        layout: at.layout.to_owned(),
        reason,
    }
}

impl Recorder {
    /// Records a point not measured, and counts it as done.
    fn skip(&mut self, backend: &str, at: &At, why: String) {
        self.skipped.push(skip(backend, at, why));
        self.progress.inc(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GPU backends get 4096 (and the fast ones 8192) beyond the default sizes; CPU
    /// backends keep exactly the default sizes; `--quick` and `--sizes` add nothing.
    #[test]
    fn gpu_backends_get_larger_sweep_sizes_and_cpu_ones_do_not() {
        let options = BenchOptions { backends: vec!["naive-ikj".into()], threads: vec![1], ..BenchOptions::default() };
        let plan = Plan::new(&options).unwrap();
        let naive = plan.backends[0];
        let defaults: Vec<usize> = (2..=11).map(|p| 1 << p).collect();
        assert_eq!(plan.all_sweep_sizes(), defaults, "no GPU backend, no extra size");
        assert!(defaults.iter().all(|&n| plan.sweeps_at(naive, n)));
        assert!(!plan.sweeps_at(naive, 4096) && !plan.sweeps_at(naive, 8192));
        for options in
            [BenchOptions { quick: true, ..options.clone() }, BenchOptions { sizes: vec![64, 128], ..options.clone() }]
        {
            let plan = Plan::new(&options).unwrap();
            assert!(!plan.gpu_extra_sizes);
            assert_eq!(plan.all_sweep_sizes(), options.sweep_sizes());
        }
        #[cfg(feature = "cuda")]
        {
            let mut plan = plan;
            // Pushed past `select`, which refuses them on a machine without a GPU.
            plan.backends.extend([&matmul_cuda::CUDA_NAIVE as &dyn Backend, &matmul_cuda::CUBLAS]);
            let mut all = defaults;
            all.extend([4096, 8192]);
            assert_eq!(plan.all_sweep_sizes(), all);
            assert!(plan.sweeps_at(&matmul_cuda::CUDA_NAIVE, 4096) && !plan.sweeps_at(&matmul_cuda::CUDA_NAIVE, 8192));
            assert!(plan.sweeps_at(&matmul_cuda::CUBLAS, 8192));
            assert!(plan.sweeps_at(&matmul_cuda::CUBLAS, 2048));
        }
    }

    /// `--shapes` measures each m×n×k product at every thread count and layout, checked
    /// against the reference like the sweep's points.
    #[test]
    fn rectangular_shapes_are_measured_and_checked() {
        let options = BenchOptions {
            backends: vec!["naive-ikj".into()],
            sizes: vec![4],
            shapes: vec!["3x5x7".parse().unwrap(), "9x1x2".parse().unwrap()],
            dtype: "f64".parse().unwrap(),
            threads: vec![1],
            layouts: "rrr,rcc".parse().unwrap(),
            layout_size: Some(0),
            min_time: Some(0.0001),
            ..BenchOptions::default()
        };
        let rec = Plan::new(&options).unwrap().measure_all();
        let shapes: Vec<(Shape, String)> = rec
            .results
            .iter()
            .filter(|m| m.experiment == Experiment::Shapes)
            .map(|m| (m.shape(), m.layout.to_string()))
            .collect();
        let (a, b) = (Shape { m: 3, n: 5, k: 7 }, Shape { m: 9, n: 1, k: 2 });
        let named = |shape, l: &str| (shape, l.to_owned());
        assert_eq!(shapes, [named(a, "rrr"), named(a, "rcc"), named(b, "rrr"), named(b, "rcc")]);
        assert!(rec.results.iter().all(|m| m.passed() && m.checked_entries > 0), "{:?}", rec.results);
        assert_eq!(rec.results.iter().filter(|m| m.experiment == Experiment::Sweep).count(), 2);
        assert!(rec.skipped.is_empty(), "{:?}", rec.skipped);
    }
}
