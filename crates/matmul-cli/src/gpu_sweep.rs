//! `matmul-cli gpu-sweep`: every CUDA kernel configuration (each row of
//! `matmul_cuda::kernels::CONFIGS`, not only the backends' defaults), kernel only, beside
//! cuBLAS at the same square sizes, in one run of one process: the GFLOP/s and
//! ratio-to-cuBLAS table that choosing a tile configuration on a GPU needs. Operands are
//! uploaded once per size and dtype; each configuration is timed by CUDA events
//! (`CudaBackend::time_config`), then its C is downloaded and checked against the
//! reference on the bench's sampled entries, by the project's one error bound.
//!
//! Built without the `cuda` feature, or run without a GPU, it says so and fails.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use matmul_bench_format::options::DtypeList;
use matmul_core::Dtype;
use serde::Serialize;

/// Arguments of `gpu-sweep`.
#[derive(Debug, Args)]
pub struct GpuSweepArgs {
    /// Square sizes n (n × n × n products).
    #[arg(long, value_delimiter = ',', default_value = "1024,2048,4096,8192")]
    sizes: Vec<usize>,
    /// Element types, comma-separated (f32, f64), or `all`.
    #[arg(long = "dtype", value_name = "LIST", default_value = "all")]
    dtypes: DtypeList,
    /// Only configurations whose label contains this (e.g. `warptile`, `bk=8`); cuBLAS
    /// always runs, as the reference.
    #[arg(long)]
    only: Option<String>,
    /// Seconds of timed calls per configuration and size (at least 3 samples).
    #[arg(long, default_value_t = 0.2)]
    min_time: f64,
    /// Also write the rows as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One configuration (or cuBLAS) at one size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepRow {
    pub dtype: Dtype,
    /// The size n.
    pub n: usize,
    /// The configuration's label, or `cublas`.
    pub config: String,
    /// Whether the backends launch this configuration.
    pub default: bool,
    /// Kernel-only GFLOP/s from the median sample; 0 when it failed.
    pub gflops: f64,
    /// GFLOP/s over cuBLAS's at the same size and dtype.
    pub vs_cublas: Option<f64>,
    /// Percent of the GPU's theoretical peak for the dtype.
    pub peak_percent: Option<f64>,
    /// The largest error over its bound among the checked entries (≤ 1 passes).
    pub max_err_over_bound: f64,
    /// Entries checked.
    pub checked: usize,
    /// Why it was not measured, if it was not.
    pub error: Option<String>,
}

impl SweepRow {
    /// Measured, and every checked entry within its bound.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.checked > 0 && self.max_err_over_bound <= 1.0
    }
}

/// Fills in each row's ratio to the cuBLAS row of its size and dtype.
pub fn add_ratios(rows: &mut [SweepRow]) {
    let reference: Vec<(Dtype, usize, f64)> =
        rows.iter().filter(|r| r.config == "cublas" && r.error.is_none()).map(|r| (r.dtype, r.n, r.gflops)).collect();
    for r in rows.iter_mut().filter(|r| r.error.is_none()) {
        r.vs_cublas = reference.iter().find(|(d, n, _)| *d == r.dtype && *n == r.n).map(|(_, _, g)| r.gflops / g);
    }
}

/// The rows as a Markdown table.
pub fn table(rows: &[SweepRow]) -> String {
    let mut out = String::from(
        "| dtype | n | configuration | GFLOP/s | × cublas | % of peak | max err/bound | result |\n\
         |---|---:|---|---:|---:|---:|---:|---|\n",
    );
    for r in rows {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".to_owned());
        let label = if r.default { format!("{} (default)", r.config) } else { r.config.clone() };
        let result = match (&r.error, r.passed()) {
            (Some(e), _) => format!("not measured: {e}"),
            (None, true) => "ok".to_owned(),
            (None, false) => "WRONG".to_owned(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.dtype,
            r.n,
            label,
            if r.error.is_some() { "–".to_owned() } else { format!("{:.0}", r.gflops) },
            or_dash(r.vs_cublas.map(|x| format!("{x:.2}×"))),
            or_dash(r.peak_percent.map(|x| format!("{x:.1}"))),
            if r.checked > 0 { format!("{:.3}", r.max_err_over_bound) } else { "–".to_owned() },
            result
        ));
    }
    out
}

/// Runs the sweep and prints the table; fails if a configuration computed a wrong result.
pub fn run(args: GpuSweepArgs) -> anyhow::Result<()> {
    if args.sizes.is_empty() || args.sizes.contains(&0) {
        bail!("--sizes needs at least one size, each at least 1");
    }
    if !(args.min_time > 0.0 && args.min_time.is_finite()) {
        bail!("--min-time must be a positive number of seconds");
    }
    let mut rows = device::sweep(&args)?;
    add_ratios(&mut rows);
    println!("\n{}", table(&rows));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&rows)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let wrong: Vec<String> =
        rows.iter().filter(|r| r.error.is_none() && !r.passed()).map(|r| format!("{} n={}", r.config, r.n)).collect();
    if !wrong.is_empty() {
        bail!("{} result(s) outside the error bound: {}", wrong.len(), wrong.join(", "));
    }
    Ok(())
}

#[cfg(feature = "cuda")]
mod device {
    use anyhow::anyhow;
    use matmul_core::reference::{compare_sample, Problem};
    use matmul_core::Dtype;
    use matmul_core::MatRef;
    use matmul_cuda::kernels::CONFIGS;
    use matmul_cuda::{CudaBackend, CudaScalar, DeviceMatrices, Dims, Gpu, KernelTiming, CUBLAS};

    use super::{GpuSweepArgs, SweepRow};
    use crate::bench::measure::{random_matrix, sample_entries};

    /// Our kernel backends, in step order: each configuration is run by the first one
    /// that launches it.
    const KERNEL_BACKENDS: [&CudaBackend; 5] = [
        &matmul_cuda::CUDA_NAIVE,
        &matmul_cuda::CUDA_TILED,
        &matmul_cuda::CUDA_REGTILE,
        &matmul_cuda::CUDA_WARPTILE,
        &matmul_cuda::CUDA_DMMA,
    ];

    pub fn sweep(args: &GpuSweepArgs) -> anyhow::Result<Vec<SweepRow>> {
        let gpu = matmul_cuda::gpu().map_err(|why| anyhow!("no GPU to sweep: {why}"))?;
        println!("{}", gpu.describe());
        let mut rows = Vec::new();
        for &dtype in args.dtypes.dtypes() {
            match dtype {
                Dtype::F32 => sweep_dtype::<f32>(gpu, args, dtype, &mut rows)?,
                Dtype::F64 => sweep_dtype::<f64>(gpu, args, dtype, &mut rows)?,
                Dtype::Bf16 | Dtype::F16 => {
                    println!("{dtype}: skipped, the CUDA kernels have no half-precision inputs")
                }
            }
        }
        Ok(rows)
    }

    fn sweep_dtype<T: CudaScalar>(
        gpu: &Gpu,
        args: &GpuSweepArgs,
        dtype: Dtype,
        rows: &mut Vec<SweepRow>,
    ) -> anyhow::Result<()> {
        let peak = match gpu.peak(dtype) {
            Ok(p) => {
                println!("{} peak: {:.1} TFLOP/s ({})", dtype.as_str(), p.gflops / 1000.0, p.basis);
                Some(p.gflops)
            }
            Err(why) => {
                println!("{} peak: none ({why})", dtype.as_str());
                None
            }
        };
        let only = args.only.as_deref().unwrap_or("");
        // (backend, row) pairs, each row once.
        let mut runs: Vec<(&CudaBackend, usize)> = Vec::new();
        for backend in KERNEL_BACKENDS {
            for row in backend.configs(dtype) {
                if !runs.iter().any(|&(_, r)| r == row) && CONFIGS[row].label().contains(only) {
                    runs.push((backend, row));
                }
            }
        }
        let timing = KernelTiming { min_time: args.min_time, min_samples: 3 };
        // Any available backend can upload: the operands live on the crate's context.
        let uploader = std::iter::once(&CUBLAS)
            .chain(KERNEL_BACKENDS)
            .find(|b| matmul_core::Backend::availability(*b).is_available())
            .ok_or_else(|| anyhow!("no CUDA backend is available"))?;
        for &n in &args.sizes {
            let seed = 0x5eed ^ n as u64;
            let a = random_matrix::<T>(n, n, seed);
            let b = random_matrix::<T>(n, n, seed ^ 0xb);
            let sample = sample_entries(n, n, seed);
            let dims = Dims { m: n, n, k: n };
            let mut ops = DeviceMatrices::upload(uploader, a.as_slice(), b.as_slice(), dims)
                .map_err(|e| anyhow!("uploading the {n}×{n} operands: {e}"))?;
            let mut measure = |label: String, default: bool, time: &mut dyn FnMut(&mut DeviceMatrices<T>) -> _| {
                let mut row = SweepRow {
                    dtype,
                    n,
                    config: label,
                    default,
                    gflops: 0.0,
                    vs_cublas: None,
                    peak_percent: None,
                    max_err_over_bound: 0.0,
                    checked: 0,
                    error: None,
                };
                let result: matmul_core::Result<matmul_cuda::KernelTimes> = time(&mut ops);
                match result.and_then(|t| ops.download_c(uploader).map(|c| (t, c))) {
                    Err(e) => row.error = Some(e.to_string()),
                    Ok((t, c)) => {
                        row.gflops = 2.0 * (n as f64).powi(3) / t.median / 1e9;
                        row.peak_percent = peak.map(|p| 100.0 * row.gflops / p);
                        let (av, bv) = (a.as_ref(), b.as_ref());
                        let cv = MatRef::row_major(&c, n, n).expect("C holds n × n elements");
                        // β = 0: C₀ is not read, so C can stand in for it.
                        let problem = Problem { alpha: T::ONE, a: av, b: bv, beta: T::ZERO, c0: cv };
                        let cmp = compare_sample(&problem, &cv, &sample);
                        row.max_err_over_bound = cmp.max_err_over_bound;
                        row.checked = cmp.checked;
                    }
                }
                println!(
                    "{} n={n} {}: {}",
                    row.dtype,
                    row.config,
                    match &row.error {
                        Some(e) => format!("not measured: {e}"),
                        None => format!("{:.0} GFLOP/s, max err/bound {:.3}", row.gflops, row.max_err_over_bound),
                    }
                );
                rows.push(row);
            };
            measure("cublas".to_owned(), true, &mut |ops| CUBLAS.time_kernel(ops, timing));
            for &(backend, row) in &runs {
                let config = &CONFIGS[row];
                measure(config.label(), config.default, &mut |ops| backend.time_config(row, ops, timing));
            }
        }
        Ok(())
    }
}

#[cfg(not(feature = "cuda"))]
mod device {
    use super::{GpuSweepArgs, SweepRow};

    pub fn sweep(_: &GpuSweepArgs) -> anyhow::Result<Vec<SweepRow>> {
        anyhow::bail!("this runner was built without the `cuda` feature: there are no CUDA kernels to sweep")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(config: &str, n: usize, gflops: f64, err: f64) -> SweepRow {
        SweepRow {
            dtype: Dtype::F32,
            n,
            config: config.into(),
            default: false,
            gflops,
            vs_cublas: None,
            peak_percent: None,
            max_err_over_bound: err,
            checked: 1024,
            error: None,
        }
    }

    #[test]
    fn ratios_are_to_cublas_at_the_same_size_and_dtype() {
        let mut rows = vec![
            row("cublas", 4096, 50_000.0, 0.1),
            row("warptile", 4096, 45_000.0, 0.2),
            row("warptile", 8192, 46_000.0, 0.2),
            SweepRow { dtype: Dtype::F64, ..row("dmma", 4096, 40_000.0, 0.1) },
        ];
        add_ratios(&mut rows);
        assert_eq!(rows[0].vs_cublas, Some(1.0));
        assert!((rows[1].vs_cublas.unwrap() - 0.9).abs() < 1e-12);
        assert_eq!(rows[2].vs_cublas, None, "no cuBLAS row at 8192");
        assert_eq!(rows[3].vs_cublas, None, "no f64 cuBLAS row");
    }

    #[test]
    fn the_table_marks_defaults_failures_and_wrong_results() {
        let mut rows = vec![
            SweepRow { default: true, peak_percent: Some(74.7), ..row("cublas", 1024, 50_000.0, 0.1) },
            row("regtile", 1024, 35_000.0, 3.5),
            SweepRow { error: Some("launch failed".into()), checked: 0, ..row("dmma", 1024, 0.0, 0.0) },
        ];
        add_ratios(&mut rows);
        let t = table(&rows);
        assert!(t.contains("| f32 | 1024 | cublas (default) | 50000 | 1.00× | 74.7 | 0.100 | ok |"), "{t}");
        assert!(t.contains("| regtile | 35000 | 0.70× | – | 3.500 | WRONG |"), "{t}");
        assert!(t.contains("| dmma | – | – | – | – | not measured: launch failed |"), "{t}");
        assert!(!rows[1].passed() && rows[0].passed() && !rows[2].passed());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn without_cuda_it_says_so() {
        let args =
            GpuSweepArgs { sizes: vec![64], dtypes: "f32".parse().unwrap(), only: None, min_time: 0.1, json: None };
        let e = run(args).unwrap_err().to_string();
        assert!(e.contains("without the `cuda` feature"), "{e}");
    }

    #[test]
    fn bad_arguments_are_refused_before_anything_runs() {
        let args = |sizes: Vec<usize>, min_time| GpuSweepArgs {
            sizes,
            dtypes: "f32".parse().unwrap(),
            only: None,
            min_time,
            json: None,
        };
        assert!(run(args(vec![], 0.1)).unwrap_err().to_string().contains("--sizes"));
        assert!(run(args(vec![0], 0.1)).unwrap_err().to_string().contains("--sizes"));
        assert!(run(args(vec![64], 0.0)).unwrap_err().to_string().contains("--min-time"));
    }
}
