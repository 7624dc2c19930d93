//! `cargo xtask batch`: build the runners, run `matmul-cli batch` in each, and write the
//! table: `batch.md` and `batch.json` in `target/matmul-report/`.
//!
//! `simd` runs in every runner and every other backend in the first runner that holds it,
//! so each cell's ratio to `simd`'s batch call comes from one process, measured side by
//! side (see [`matmul_bench_format::batch`]).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use matmul_bench_format::batch::{BatchOptions, Report, Way};
use matmul_bench_format::protocol::RunnerCommand;
use matmul_bench_format::runner::BackendInfo;
use matmul_bench_format::Kind;

use crate::runner::{self, BuildArgs, Share};

/// The backend every other one is compared with, run in every runner.
const BASELINE: &str = "simd";

/// Options of `cargo xtask batch`.
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    #[command(flatten)]
    batch: BatchOptions,
    /// A smoke run of seconds: 10⁶ multiply-adds per batch and 3 rounds.
    #[arg(long)]
    quick: bool,
    /// Report folder (default `target/matmul-report` in the workspace).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    build: BuildArgs,
}

/// The backends run by default: `simd`, the BLAS libraries, and the peers with a batch path.
fn runs_by_default(b: &BackendInfo) -> bool {
    match b.kind {
        Kind::Blas => true,
        Kind::Peer => b.details.contains("batch"),
        _ => b.name == BASELINE,
    }
}

pub fn run(args: BatchArgs) -> anyhow::Result<()> {
    let mut options = args.batch.clone();
    if args.quick {
        options.madds = 1e6;
        options.rounds = 3;
    }
    let out = args.out.clone().unwrap_or_else(|| runner::workspace_root().join("target").join("matmul-report"));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let asked = options.backends.clone();
    let holds = |b: &BackendInfo| if asked.is_empty() { runs_by_default(b) } else { asked.contains(&b.name) };
    let (mut parts, mut done): (Vec<Report>, Vec<String>) = (Vec::new(), Vec::new());
    runner::for_each_runner(&args.build, &asked, Share::Everywhere, holds, |runner, names| {
        let mut mine: Vec<String> = names.iter().filter(|n| !done.contains(n)).cloned().collect();
        if mine.is_empty() {
            return Ok(());
        }
        if names.iter().any(|n| n == BASELINE) && !mine.iter().any(|n| n == BASELINE) {
            mine.insert(0, BASELINE.to_owned());
        }
        eprintln!("xtask batch: {} runner: {}", runner.label, mine.join(", "));
        let part = out.join(format!("batch-part{}.json", parts.len()));
        let what = RunnerCommand::Batch {
            options: BatchOptions { backends: mine.clone(), ..options.clone() },
            json: part.clone(),
        };
        runner::run(&runner.binary, &what)?;
        let text = std::fs::read_to_string(&part).with_context(|| format!("reading {}", part.display()))?;
        let mut report: Report = serde_json::from_str(&text).with_context(|| format!("parsing {}", part.display()))?;
        std::fs::remove_file(&part).ok();
        report.runner = runner.label.clone();
        done.extend(mine);
        parts.push(report);
        Ok(())
    })?;
    let json = out.join("batch.json");
    std::fs::write(&json, serde_json::to_string_pretty(&parts)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let md = markdown(&parts);
    std::fs::write(out.join("batch.md"), &md).context("writing batch.md")?;
    println!("\n{md}");
    println!("wrote {} and batch.md", json.display());
    Ok(())
}

/// One table per runner: a row per (dtype, threads, n), a column per backend and way, each
/// cell the median ns per product and, in brackets, its time ÷ the baseline's batch time
/// (above 1: the baseline is faster).
pub fn markdown(parts: &[Report]) -> String {
    let mut s = String::from("# Batched GEMM: ns per product (time ÷ simd batch)\n");
    for part in parts {
        let mut columns: Vec<(&str, Way)> = Vec::new();
        let mut points = Vec::new();
        for r in &part.rows {
            if !columns.contains(&(r.backend.as_str(), r.way)) {
                columns.push((r.backend.as_str(), r.way));
            }
            if !points.iter().any(|&(p, _)| p == (r.dtype, r.threads, r.n)) {
                points.push(((r.dtype, r.threads, r.n), r.products));
            }
        }
        let _ = write!(
            s,
            "\n## Runner `{}`\n\nmachine: {}\n\n| dtype | threads | n | products |",
            part.runner, part.machine
        );
        for (backend, way) in &columns {
            let _ = write!(s, " {backend} {way} |");
        }
        let _ = write!(s, "\n|---|---:|---:|---:|");
        s.push_str(&"---:|".repeat(columns.len()));
        s.push('\n');
        for (point @ (dtype, threads, n), products) in points {
            let base = part.find(BASELINE, Way::Batch, point).map(|r| r.ns_per_product);
            let _ = write!(s, "| {dtype} | {threads} | {n} | {products} |");
            for &(backend, way) in &columns {
                match (part.find(backend, way, point), base) {
                    (Some(r), Some(base)) => {
                        let _ = write!(s, " {:.1} ({:.2}) |", r.ns_per_product, r.ns_per_product / base);
                    }
                    (Some(r), None) => {
                        let _ = write!(s, " {:.1} |", r.ns_per_product);
                    }
                    (None, _) => s.push_str(" – |"),
                }
            }
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use matmul_bench_format::batch::Row;
    use matmul_bench_format::Dtype;

    use super::*;

    fn row(backend: &str, way: Way, n: usize, ns: f64) -> Row {
        Row {
            backend: backend.into(),
            way,
            dtype: Dtype::F32,
            threads: 1,
            n,
            products: 1000 / n,
            ns_per_product: ns,
            seconds: vec![ns * 1e-9],
            max_err_over_bound: 0.1,
        }
    }

    #[test]
    fn cells_are_ratios_to_the_baseline_batch_of_the_same_point() {
        let part = Report {
            machine: "test cpu".into(),
            runner: "openblas".into(),
            rows: vec![
                row("simd", Way::Batch, 2, 10.0),
                row("simd", Way::Loop, 2, 40.0),
                row("openblas", Way::Loop, 2, 80.0),
                row("simd", Way::Batch, 4, 20.0),
                row("openblas", Way::Loop, 4, 30.0),
            ],
        };
        let md = markdown(&[part]);
        assert!(md.contains("## Runner `openblas`\n\nmachine: test cpu\n"), "{md}");
        assert!(md.contains("| dtype | threads | n | products | simd batch | simd loop | openblas loop |"), "{md}");
        assert!(md.contains("| f32 | 1 | 2 | 500 | 10.0 (1.00) | 40.0 (4.00) | 80.0 (8.00) |"), "{md}");
        assert!(md.contains("| f32 | 1 | 4 | 250 | 20.0 (1.00) | – | 30.0 (1.50) |"), "{md}");
    }
}
