//! `cargo xtask bench`: build the runner (release, this CPU's instruction sets, the peers),
//! run it once per build and thread count, merge the JSON, write the report and plots, and
//! compare with a baseline.
//!
//! * [`schema`]: the format of `results.json`.
//! * [`merge`]: combining the runner processes.
//! * [`report`]: `report.md` / `report.html`.
//! * [`plot`]: the SVG figures.
//! * [`baseline`]: regression tracking.
//! * [`icount`]: `cargo xtask icount`, instruction counts under callgrind.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::runner::{self, BuildArgs};

pub mod baseline;
pub mod icount;
pub mod merge;
pub mod plot;
pub mod report;
pub mod schema;

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Square sizes, comma-separated (e.g. 64,256,1024). Default: 4, 8, …, 1024, plus 2048
    /// for backends fast enough.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Element type: f32, f64 or all.
    #[arg(long, default_value = "all", value_parser = ["f32", "f64", "all"])]
    dtype: String,
    /// Thread counts, comma-separated. Default: 1 and every core.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    threads: Vec<usize>,
    /// Backends and peers (`peer:gemm`, `peer:matrixmultiply`), comma-separated. Default: all.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    backends: Vec<String>,
    /// Layouts of A, B, C for the sweep (`r`/`c` each, e.g. `rrr,rcr`). Default: rrr.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    layouts: Vec<String>,
    /// Size of the layout experiment (all 8 r/c mixes, 1 thread); 0 skips it. Default 512.
    #[arg(long, value_name = "N")]
    layout_size: Option<usize>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "target/matmul-report")]
    out: PathBuf,
    /// A smoke run in seconds (CI).
    #[arg(long)]
    quick: bool,
    /// Compare with this results.json; exit non-zero if a point got slower than the threshold.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Slowdown that counts as a regression, as a fraction (by both median and minimum time).
    #[arg(long, default_value_t = 0.10)]
    threshold: f64,
    /// Also write the results here, to serve as a later run's baseline.
    #[arg(long, value_name = "FILE")]
    save_baseline: Option<PathBuf>,
    /// Seconds of timed calls per backend and point (runner default: 0.2).
    #[arg(long, value_name = "SECONDS")]
    min_time: Option<f64>,
    /// Per-call budget in seconds: larger sizes of a slower backend are skipped (runner default: 4).
    #[arg(long, value_name = "SECONDS")]
    max_call: Option<f64>,
    #[command(flatten)]
    build: BuildArgs,
}

/// The runner builds to measure. Each BLAS library needs its own binary (two cannot be
/// linked together), so this is a list; each build also contains the pure-Rust backends.
fn builds(args: &BenchArgs) -> Vec<(String, BuildArgs)> {
    runner::runner_builds(&args.build)
        .into_iter()
        .map(|build| {
            // (`runner::build` always adds the `peers` feature.)
            // Name each process after its BLAS library ("rust" when it has none).
            let label = build
                .features
                .iter()
                .find(|f| crate::detect::is_blas_feature(f))
                .cloned()
                .unwrap_or_else(|| "rust".to_owned());
            (label, build)
        })
        .collect()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let root = runner::workspace_root();
    let out = if args.out.is_absolute() { args.out.clone() } else { root.join(&args.out) };
    let partial_dir = out.join("partials");
    std::fs::create_dir_all(&partial_dir).with_context(|| format!("creating {}", partial_dir.display()))?;
    let threads = if args.threads.is_empty() {
        let mut t = vec![1, cores()];
        t.dedup();
        t
    } else {
        args.threads.clone()
    };
    let builds = builds(&args);
    let codegen = if args.build.portable {
        "generic x86-64 (--portable)".to_owned()
    } else {
        "RUSTFLAGS=\"-C target-cpu=native\" (every instruction set of this CPU), release profile".to_owned()
    };
    eprintln!("xtask bench: code generation: {codegen}");

    let mut partials = Vec::new();
    // Backends of the builds run so far: a later build (another BLAS library) runs the
    // layout experiment for its new backends only. The pure-Rust backends' and peers'
    // layout rows come from the first build; the sweep runs everything in every build so
    // that each point's ratios to the best BLAS come from one process.
    let mut seen: Vec<String> = Vec::new();
    for (label, build) in &builds {
        let binary = runner::build(build)?;
        let names = runner::backend_names(&binary)?;
        let new: Vec<String> = names.iter().filter(|n| !seen.contains(n)).cloned().collect();
        let first_build = seen.is_empty();
        seen.extend(new.iter().cloned());
        for &t in &threads {
            let file = partial_dir.join(format!("{label}-t{t}.json"));
            let mut cli: Vec<String> = vec!["bench".into(), "--threads".into(), t.to_string()];
            cli.extend(["--json".into(), file.display().to_string(), "--dtype".into(), args.dtype.clone()]);
            let list = |v: &[usize]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
            if !args.sizes.is_empty() {
                cli.extend(["--sizes".into(), list(&args.sizes)]);
            }
            if !args.backends.is_empty() {
                cli.extend(["--backends".into(), args.backends.join(",")]);
            }
            if !args.layouts.is_empty() {
                cli.extend(["--layouts".into(), args.layouts.join(",")]);
            }
            // None: every backend (first build); Some(list): only these.
            let layout_backends: Option<Vec<&str>> = (!first_build).then(|| {
                new.iter()
                    .filter(|n| args.backends.is_empty() || args.backends.contains(n))
                    .map(|s| s.as_str())
                    .collect()
            });
            match &layout_backends {
                Some(list) if list.is_empty() => cli.extend(["--layout-size".into(), "0".into()]),
                _ => {
                    if let Some(n) = args.layout_size {
                        cli.extend(["--layout-size".into(), n.to_string()]);
                    }
                    if let Some(list) = &layout_backends {
                        cli.extend(["--layout-backends".into(), list.join(",")]);
                    }
                }
            }
            if let Some(s) = args.min_time {
                cli.extend(["--min-time".into(), s.to_string()]);
            }
            if let Some(s) = args.max_call {
                cli.extend(["--max-call".into(), s.to_string()]);
            }
            if args.quick {
                cli.push("--quick".into());
            }
            if !partials.is_empty() {
                // The peak is a property of the machine: the first process measured it.
                cli.push("--no-peak".into());
            }
            eprintln!("xtask bench: {label} build, {t} thread(s): {} {}", binary.display(), cli.join(" "));
            let status = runner::command(&binary)
                .args(&cli)
                // matrixmultiply reads its thread count once, from this variable.
                .env("MATMUL_NUM_THREADS", t.to_string())
                .status()
                .with_context(|| format!("running {}", binary.display()))?;
            if !status.success() {
                bail!("the bench runner failed ({status}); partial results, if any, are in {}", file.display());
            }
            partials.push(merge::Partial {
                process: schema::Process { build: label.clone(), threads: t, file: file.display().to_string() },
                results: schema::Results::load(&file)?,
            });
        }
    }
    let merged = merge::merge(partials, &codegen);
    write_report(&merged, &out, &args)
}

/// Writes results.json, the figures and the report, and applies the baseline options.
fn write_report(merged: &schema::Results, out: &Path, args: &BenchArgs) -> anyhow::Result<()> {
    let results_path = out.join("results.json");
    merged.save(&results_path)?;
    let mut figures = Vec::new();
    for (dtype, threads) in report::sweep_groups(merged) {
        let t = out.join(report::time_svg(&dtype, threads));
        plot::sweep(merged, &dtype, threads, plot::Measure::Seconds, &t)?;
        let g = out.join(report::gflops_svg(&dtype, threads));
        plot::sweep(merged, &dtype, threads, plot::Measure::Gflops, &g)?;
        figures.extend([t, g]);
    }
    for dtype in report::layout_dtypes(merged) {
        let p = out.join(report::layout_svg(&dtype));
        plot::layouts(merged, &dtype, &p)?;
        figures.push(p);
    }
    let comparison = match &args.baseline {
        Some(path) => Some(baseline::compare(merged, &schema::Results::load(path)?, args.threshold)),
        None => None,
    };
    let rendered = comparison.as_ref().map(|c| c.render());
    let doc = report::build(merged, rendered.as_deref());
    std::fs::write(out.join("report.md"), report::markdown(&doc))?;
    std::fs::write(out.join("report.html"), report::html(&doc, out))?;
    if let Some(path) = &args.save_baseline {
        merged.save(path)?;
        eprintln!("xtask bench: saved the baseline {}", path.display());
    }
    println!("xtask bench: wrote {}", results_path.display());
    println!("xtask bench: wrote {} and report.html", out.join("report.md").display());
    for f in &figures {
        println!("xtask bench: wrote {}", f.display());
    }
    if let (Some(c), Some(text)) = (&comparison, &rendered) {
        println!("\n{text}");
        gate(c)?;
    }
    Ok(())
}

/// The exit status of a baseline comparison: an error when any point regressed.
pub fn gate(c: &baseline::Comparison) -> anyhow::Result<()> {
    if c.regressions() > 0 {
        bail!(
            "{} point(s) slower than the baseline by more than {:.0}% (median and minimum)",
            c.regressions(),
            c.threshold * 100.0
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--baseline` on two files, as the command does it: load both, compare, gate.
    fn compare_files(new: &Path, old: &Path, threshold: f64) -> anyhow::Result<baseline::Comparison> {
        let c = baseline::compare(&schema::Results::load(new)?, &schema::Results::load(old)?, threshold);
        gate(&c)?;
        Ok(c)
    }

    /// The regression gate the command exits with: a results file against itself passes;
    /// against a baseline whose every GFLOP/s is doubled (times halved) it fails.
    #[test]
    fn baseline_gate_passes_on_itself_and_fails_on_a_doubled_baseline() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bench/testdata/quick-results.json");
        let dir = std::env::temp_dir().join(format!("xtask-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut doubled = schema::Results::load(&src).unwrap();
        for r in &mut doubled.results {
            r.gflops *= 2.0;
            r.seconds_median /= 2.0;
            r.seconds_min /= 2.0;
        }
        let doubled_path = dir.join("doubled.json");
        doubled.save(&doubled_path).unwrap();
        let same = compare_files(&src, &src, 0.10).unwrap();
        assert_eq!(same.regressions(), 0);
        let err = compare_files(&src, &doubled_path, 0.10).unwrap_err();
        assert!(err.to_string().contains("slower than the baseline"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The report and the figures render from a real runner output without error, and the
    /// report carries the contract's pieces.
    #[test]
    fn report_renders_from_a_quick_run() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bench/testdata/quick-results.json");
        let results = schema::Results::load(&src).unwrap();
        let dir = std::env::temp_dir().join(format!("xtask-report-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (dtype, threads) = report::sweep_groups(&results)[0].clone();
        let svg = dir.join("t.svg");
        plot::sweep(&results, &dtype, threads, plot::Measure::Gflops, &svg).unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
        let doc = report::build(&results, None);
        let md = report::markdown(&doc);
        assert!(md.contains("**Machine:**") && md.contains("## Accuracy") && md.contains("## Skipped"));
        assert!(report::html(&doc, &dir).contains("<table>"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
