//! `cargo xtask bench`: build the runners (release, this CPU's instruction sets, the peers),
//! run each once per thread count, merge their JSON, write the report and plots, and
//! compare with a baseline. The format of everything read and written here is the
//! `matmul-bench-format` crate's.
//!
//! * [`merge`]: combining the runner processes, and every derived figure.
//! * [`report`]: `report.md` / `report.html`.
//! * [`plot`]: the SVG figures.
//! * [`baseline`]: regression tracking.
//! * [`icount`]: `cargo xtask icount`, instruction counts under callgrind.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use matmul_bench_format::options::BenchOptions;
use matmul_bench_format::protocol::RunnerCommand;
use matmul_bench_format::results::{load_measurements, Provenance, Results};
use matmul_bench_format::runner::RunnerOutput;
use matmul_bench_format::Kind;

use crate::runner::{self, BuildArgs, Runner, Share};

pub mod baseline;
pub mod icount;
pub mod merge;
pub mod plot;
pub mod report;

/// Options of `cargo xtask bench`: the bench options the runner takes too, and what only
/// xtask does (output, baseline, build).
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    options: BenchOptions,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "target/matmul-report")]
    out: PathBuf,
    /// Compare with this results.json; exit non-zero if a point got slower than the
    /// threshold, or is measured on one side only (see `--allow-missing`).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Slowdown that counts as a regression, as a fraction (by both median and minimum time).
    #[arg(long, default_value_t = 0.10)]
    threshold: f64,
    /// With `--baseline`: list points measured on one side only, but do not fail on them.
    #[arg(long)]
    allow_missing: bool,
    /// Also write the results here, to serve as a later run's baseline.
    #[arg(long, value_name = "FILE")]
    save_baseline: Option<PathBuf>,
    #[command(flatten)]
    build: BuildArgs,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One line of stdout of a command, if it runs and succeeds.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).current_dir(runner::workspace_root()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The commit, toolchain, code generation and command line of this run.
fn provenance(codegen: &str) -> Provenance {
    let dirty = output_of("git", &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    Provenance {
        commit: output_of("git", &["rev-parse", "HEAD"]).map(|c| if dirty { format!("{c}-dirty") } else { c }),
        rustc: output_of(&rustc, &["--version"]),
        codegen: codegen.to_owned(),
        command: std::iter::once("cargo xtask".to_owned())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let root = runner::workspace_root();
    let out = if args.out.is_absolute() { args.out.clone() } else { root.join(&args.out) };
    let partial_dir = out.join("partials");
    std::fs::create_dir_all(&partial_dir).with_context(|| format!("creating {}", partial_dir.display()))?;
    let codegen = if args.build.portable {
        "generic x86-64 (--portable)".to_owned()
    } else {
        "RUSTFLAGS=\"-C target-cpu=native\" (every instruction set of this CPU), release profile".to_owned()
    };
    eprintln!("xtask bench: code generation: {codegen}");

    let mut partials = Vec::new();
    // Backends of the runners run so far: a later runner (another BLAS library) runs the
    // layout experiment for its new backends only. Its sweep runs its new backends and
    // every SIMD backend and peer asked for, so their ratios to each BLAS come from one
    // process; the naive loops (seconds per call at the largest sizes, and far from any
    // BLAS) run in the first runner only, which keeps the run near 10 minutes with three
    // BLAS libraries on 2 cores. Their ratio to a later runner's BLAS is marked † (across
    // processes) in the report.
    let mut seen: Vec<String> = Vec::new();
    runner::for_each_runner(
        &args.build,
        &args.options.backends,
        Share::Everywhere,
        |_| true,
        |r, names| {
            let layout_backends: Option<Vec<String>> = (!seen.is_empty()).then(|| {
                names
                    .iter()
                    .filter(|n| !seen.contains(n))
                    .filter(|n| args.options.layout_backends.is_empty() || args.options.layout_backends.contains(n))
                    .cloned()
                    .collect()
            });
            let is_loops = |name: &String| r.backends.iter().any(|b| &b.name == name && b.kind == Kind::Loops);
            let sweep: Vec<String> =
                names.iter().filter(|n| seen.is_empty() || !seen.contains(n) || !is_loops(n)).cloned().collect();
            seen.extend(names.iter().filter(|n| !seen.contains(n)).cloned().collect::<Vec<_>>());
            for t in args.options.thread_counts(cores()) {
                let mut options = args.options.clone();
                options.threads = vec![t];
                options.backends = sweep.clone();
                match &layout_backends {
                    Some(list) if list.is_empty() => options.layout_size = Some(0),
                    Some(list) => options.layout_backends = list.clone(),
                    None => {}
                }
                partials.push(run_process(r, t, &options, &partial_dir)?);
            }
            Ok(())
        },
    )?;
    let merged = merge::merge(partials, provenance(&codegen));
    write_report(&merged, &out, &args)
}

/// Runs one runner process at one thread count and loads what it wrote.
fn run_process(r: &Runner, threads: usize, options: &BenchOptions, dir: &Path) -> anyhow::Result<merge::Partial> {
    let file = dir.join(format!("{}-t{threads}.json", r.label));
    let what = RunnerCommand::Bench { options: options.clone(), json: file.clone() };
    eprintln!(
        "xtask bench: {} runner, {threads} thread(s): {} {}",
        r.label,
        r.binary.display(),
        what.to_args().join(" ")
    );
    let status = runner::command(&r.binary, &what)
        // matrixmultiply reads its thread count once, from this variable.
        .env(matmul_bench_format::runner::THREADS_ENV, threads.to_string())
        .status()
        .with_context(|| format!("running {}", r.binary.display()))?;
    if !status.success() {
        bail!("the bench runner failed ({status}); partial results, if any, are in {}", file.display());
    }
    Ok(merge::Partial {
        build: r.label.clone(),
        threads,
        file: file.display().to_string(),
        output: RunnerOutput::load(&file)?,
    })
}

/// Writes results.json, the figures and the report, and applies the baseline options.
fn write_report(merged: &Results, out: &Path, args: &BenchArgs) -> anyhow::Result<()> {
    let results_path = out.join("results.json");
    merged.save(&results_path)?;
    let mut figures = Vec::new();
    for (dtype, threads) in report::sweep_groups(merged) {
        let t = out.join(report::time_svg(dtype, threads));
        plot::sweep(merged, dtype, threads, plot::Measure::Seconds, &t)?;
        let g = out.join(report::gflops_svg(dtype, threads));
        plot::sweep(merged, dtype, threads, plot::Measure::Gflops, &g)?;
        figures.extend([t, g]);
    }
    for dtype in report::layout_dtypes(merged) {
        let p = out.join(report::layout_svg(dtype));
        plot::layouts(merged, dtype, &p)?;
        figures.push(p);
    }
    let comparison = match &args.baseline {
        Some(path) => {
            let new = merged.results.iter().map(|r| &r.measured);
            Some(baseline::compare(new, &load_measurements(path)?, args.threshold))
        }
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
    println!("{}", report::summary_markdown(merged));
    println!("xtask bench: wrote {}", results_path.display());
    println!("xtask bench: wrote {} and report.html", out.join("report.md").display());
    for f in &figures {
        println!("xtask bench: wrote {}", f.display());
    }
    if let (Some(c), Some(text)) = (&comparison, &rendered) {
        println!("\n{text}");
        gate(c, args.allow_missing)?;
    }
    Ok(())
}

/// The exit status of a baseline comparison: an error when any point regressed, or when
/// a point is on one side only and that is not allowed.
pub fn gate(c: &baseline::Comparison, allow_missing: bool) -> anyhow::Result<()> {
    if c.regressions() > 0 {
        bail!(
            "{} point(s) slower than the baseline by more than {:.0}% (median and minimum)",
            c.regressions(),
            c.threshold * 100.0
        );
    }
    if c.missing() > 0 && !allow_missing {
        bail!(
            "{} point(s) measured on one side only ({} in the baseline only, {} in this run only; listed above); \
             --allow-missing accepts that",
            c.missing(),
            c.missing_now.len(),
            c.missing_in_baseline.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bench/testdata").join(name)
    }

    /// `--baseline` on two files, as the command does it: load both, compare, gate.
    fn compare_files(
        new: &Path,
        old: &Path,
        threshold: f64,
        allow_missing: bool,
    ) -> anyhow::Result<baseline::Comparison> {
        let new = Results::load(new)?;
        let c = baseline::compare(new.results.iter().map(|r| &r.measured), &load_measurements(old)?, threshold);
        gate(&c, allow_missing)?;
        Ok(c)
    }

    /// The regression gate the command exits with: a results file against itself passes;
    /// against a baseline twice as fast it fails; against one with a point less it fails
    /// unless missing points are allowed.
    #[test]
    fn baseline_gate_fails_on_regressions_and_on_missing_points() {
        let src = testdata("quick-results-v2.json");
        let dir = std::env::temp_dir().join(format!("xtask-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = Results::load(&src).unwrap();
        let mut doubled = run.clone();
        for r in &mut doubled.results {
            r.measured.seconds_median /= 2.0;
            r.measured.seconds_min /= 2.0;
        }
        let doubled_path = dir.join("doubled.json");
        doubled.save(&doubled_path).unwrap();
        let mut fewer = run.clone();
        fewer.results.pop();
        let fewer_path = dir.join("fewer.json");
        fewer.save(&fewer_path).unwrap();

        let same = compare_files(&src, &src, 0.10, false).unwrap();
        assert_eq!((same.regressions(), same.missing()), (0, 0));
        let err = compare_files(&src, &doubled_path, 0.10, false).unwrap_err();
        assert!(err.to_string().contains("slower than the baseline"), "{err}");
        let err = compare_files(&src, &fewer_path, 0.10, false).unwrap_err();
        assert!(err.to_string().contains("1 point(s) measured on one side only"), "{err}");
        assert_eq!(compare_files(&src, &fewer_path, 0.10, true).unwrap().missing(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The report and the figures render from a real merged run without error, and the
    /// report carries its pieces: the summary first, the provenance, the folded details.
    #[test]
    fn report_renders_from_a_quick_run() {
        let results = Results::load(&testdata("quick-results-v2.json")).unwrap();
        let dir = std::env::temp_dir().join(format!("xtask-report-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (dtype, threads) = report::sweep_groups(&results)[0];
        let svg = dir.join("t.svg");
        plot::sweep(&results, dtype, threads, plot::Measure::Gflops, &svg).unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
        let doc = report::build(&results, None);
        let md = report::markdown(&doc);
        let summary = md.find("## Summary").expect("a summary");
        assert!(summary < md.find("**Machine:**").unwrap(), "the answer comes first");
        assert!(md.contains("## Accuracy") && md.contains("## Skipped") && md.contains("**Provenance:**"));
        let html = report::html(&doc, &dir);
        assert!(html.contains("<table>") && html.contains("<details>"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
