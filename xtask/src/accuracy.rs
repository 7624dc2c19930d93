//! `cargo xtask accuracy`: build the runner, run `matmul-cli accuracy`, and write the
//! report: `accuracy.json` (every measurement and every skipped size), `accuracy.md`
//! (tables) and `accuracy.svg` (error vs n, log–log) in `target/matmul-report/`, beside
//! the benchmark report.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use matmul_bench_format::accuracy::{Input, Report, Row};
use matmul_bench_format::protocol::{AccuracyOptions, RunnerCommand};
use matmul_bench_format::Dtype;
use plotters::prelude::*;

use crate::bench::plot::COLOURS;
use crate::runner::{self, BuildArgs, Share};

/// Options of `cargo xtask accuracy`.
#[derive(Debug, clap::Args)]
pub struct AccuracyArgs {
    #[command(flatten)]
    accuracy: AccuracyOptions,
    /// Report folder (default `target/matmul-report` in the workspace).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Only redraw the tables and the plot from the folder's existing `accuracy.json`.
    #[arg(long)]
    replot: bool,
    #[command(flatten)]
    build: BuildArgs,
}

pub fn run(args: AccuracyArgs) -> anyhow::Result<()> {
    let out = args.out.clone().unwrap_or_else(|| runner::workspace_root().join("target").join("matmul-report"));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let json = out.join("accuracy.json");
    let mut report = Report::default();
    if args.replot {
        let text = std::fs::read_to_string(&json).with_context(|| format!("reading {}", json.display()))?;
        report = serde_json::from_str(&text).with_context(|| format!("parsing {}", json.display()))?;
    }
    if !args.replot {
        // Each backend once, in the first runner that holds it (see runner::assign).
        let mut idx = 0;
        runner::for_each_runner(
            &args.build,
            &args.accuracy.backends,
            Share::Once,
            runner::not_a_peer,
            |runner, names| {
                let part = out.join(format!("accuracy-part{idx}.json"));
                idx += 1;
                let options = AccuracyOptions { backends: names.to_vec(), ..args.accuracy.clone() };
                runner::run(&runner.binary, &RunnerCommand::Accuracy { options, json: part.clone() })?;
                let text = std::fs::read_to_string(&part).with_context(|| format!("reading {}", part.display()))?;
                let piece: Report =
                    serde_json::from_str(&text).with_context(|| format!("parsing {}", part.display()))?;
                std::fs::remove_file(&part).ok();
                merge(&mut report, piece);
                Ok(())
            },
        )?;
    }

    std::fs::write(&json, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let md = markdown(&report);
    std::fs::write(out.join("accuracy.md"), &md).context("writing accuracy.md")?;
    let svg = out.join("accuracy.svg");
    plot(&report, &svg)?;
    println!();
    println!("{}", tables(&report, false));
    println!("wrote {}, accuracy.md, accuracy.svg", json.display());
    Ok(())
}

/// Adds `piece` to `report`, keeping the first measurement of each backend, dtype, input and n
/// (the pure-Rust backends are in every runner build).
fn merge(report: &mut Report, piece: Report) {
    for row in piece.rows {
        let seen = report.rows.iter().any(|r| {
            (r.backend.as_str(), r.dtype, r.input, r.n) == (row.backend.as_str(), row.dtype, row.input, row.n)
        });
        if !seen {
            report.rows.push(row);
        }
    }
    for skip in piece.skipped {
        if !report.skipped.iter().any(|s| s.backend == skip.backend && s.dtype == skip.dtype && s.sizes == skip.sizes) {
            report.skipped.push(skip);
        }
    }
}

/// The series of a report in order of appearance: (backend, dtype, input).
fn series(report: &Report) -> Vec<(String, Dtype, Input)> {
    let mut out: Vec<(String, Dtype, Input)> = Vec::new();
    for r in &report.rows {
        let key = (r.backend.clone(), r.dtype, r.input);
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

fn find<'a>(report: &'a Report, key: &(String, Dtype, Input), n: usize) -> Option<&'a Row> {
    report.rows.iter().find(|r| r.backend == key.0 && r.dtype == key.1 && r.input == key.2 && r.n == n)
}

/// A column of the report: its title and how to read it from a row.
type Metric = (&'static str, fn(&Row) -> f64);

/// One table per metric: a row per backend × dtype × input, a column per n. `markdown`
/// chooses pipes; otherwise aligned text.
fn tables(report: &Report, markdown: bool) -> String {
    let sizes: BTreeSet<usize> = report.rows.iter().map(|r| r.n).collect();
    let metrics: [Metric; 3] = [
        ("max error / bound (≤ 1 is within the bound)", |r| r.max_err_over_bound),
        ("max absolute error", |r| r.max_abs_err),
        ("max absolute error / max |C| (normwise relative)", |r| r.rel_err),
    ];
    let mut s = String::new();
    for (title, metric) in metrics {
        if markdown {
            let _ = writeln!(s, "### {title}\n");
            let _ = write!(s, "| backend | dtype | input |");
            for n in &sizes {
                let _ = write!(s, " n = {n} |");
            }
            let _ = write!(s, "\n|---|---|---|");
            for _ in &sizes {
                let _ = write!(s, "---:|");
            }
            s.push('\n');
        } else {
            let _ = write!(s, "{title}\n{:<20} {:<5} {:<8}", "backend", "dtype", "input");
            for n in &sizes {
                let _ = write!(s, " {:>9}", format!("n={n}"));
            }
            s.push('\n');
        }
        for key in series(report) {
            if markdown {
                let _ = write!(s, "| {} | {} | {} |", key.0, key.1, key.2);
            } else {
                let _ = write!(s, "{:<20} {:<5} {:<8}", key.0, key.1, key.2);
            }
            for &n in &sizes {
                let cell = find(report, &key, n).map(|r| format!("{:.2e}", metric(r))).unwrap_or_else(|| "—".into());
                if markdown {
                    let _ = write!(s, " {cell} |");
                } else {
                    let _ = write!(s, " {cell:>9}");
                }
            }
            s.push('\n');
        }
        s.push('\n');
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(s, "{}skipped (—):", if markdown { "### " } else { "" });
        if markdown {
            s.push('\n');
        }
        for k in &report.skipped {
            let _ = writeln!(
                s,
                "{}{} {}: n = {:?}: {}",
                if markdown { "- " } else { "  " },
                k.backend,
                k.dtype,
                k.sizes,
                k.reason
            );
        }
    }
    s
}

fn markdown(report: &Report) -> String {
    let mut s = String::from(
        "# Accuracy against the higher-precision reference\n\n\
         `C ← A·B` for n × n row-major matrices, entries compared with the compensated f64 reference \
         (`cargo xtask accuracy`; all entries up to the sample size, then a seeded random sample). \
         Inputs: `uniform` in [0, 1); `cancel` = ±10^x, x uniform in [−6, 6), random signs. \
         The bound is γ_{k+2}·Σ|a|·|b| (plus the reference's own error), which holds for any summation order.\n\n",
    );
    s.push_str(&tables(report, true));
    s
}

/// Four panels: f32 and f64 (rows) × error/bound and absolute error (columns), log–log,
/// one colour per backend, solid for uniform inputs and dashed for cancelling ones.
fn plot(report: &Report, path: &Path) -> anyhow::Result<()> {
    let backends: Vec<String> = series(report).into_iter().map(|k| k.0).fold(Vec::new(), |mut v, b| {
        if !v.contains(&b) {
            v.push(b);
        }
        v
    });
    let root = SVGBackend::new(path, (1400, 1000)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(40);
    title.titled(
        "matmul: error against the reference vs n  (solid: uniform [0,1);  dashed: ±10^U(−6,6))",
        ("sans-serif", 22),
    )?;
    let panels = body.split_evenly((2, 2));
    let metrics: [Metric; 2] =
        [("max error / bound", |r| r.max_err_over_bound), ("max absolute error", |r| r.max_abs_err)];
    // The x axis is log₂ n on a linear scale, so every power of two gets its own label.
    let (n_min, n_max) =
        report.rows.iter().fold((f64::MAX, 0.0f64), |(lo, hi), r| (lo.min(r.n as f64), hi.max(r.n as f64)));
    let (x_lo, x_hi) = if n_min <= n_max { (n_min.log2() - 0.25, n_max.log2() + 0.25) } else { (4.0, 12.0) };
    for (p, panel) in panels.iter().enumerate() {
        let dtype = if p < 2 { Dtype::F32 } else { Dtype::F64 };
        let (name, metric) = metrics[p % 2];
        let points = |key: &(String, Dtype, Input)| -> Vec<(f64, f64)> {
            report
                .rows
                .iter()
                .filter(|r| r.backend == key.0 && r.dtype == key.1 && r.input == key.2)
                .map(|r| ((r.n as f64).log2(), metric(r)))
                .filter(|&(_, y)| y.is_finite() && y > 0.0) // a log axis has no place for 0
                .collect()
        };
        let keys: Vec<_> = series(report).into_iter().filter(|k| k.1 == dtype).collect();
        let ys: Vec<f64> = keys.iter().flat_map(&points).map(|(_, y)| y).collect();
        let (y_lo, y_hi) = ys.iter().fold((f64::MAX, f64::MIN_POSITIVE), |(lo, hi), &y| (lo.min(y), hi.max(y)));
        let (y_lo, y_hi) = if y_lo <= y_hi { (y_lo / 3.0, y_hi * 3.0) } else { (1e-20, 1.0) };
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{dtype}: {name}"), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_lo..x_hi, (y_lo..y_hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("n (= m = k), log scale")
            .y_desc(name)
            .x_labels(((x_hi - x_lo).ceil() as usize + 1) * 2)
            .x_label_formatter(&|x| if x.fract() == 0.0 { format!("{}", x.exp2()) } else { String::new() })
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .draw()?;
        for key in &keys {
            let idx = backends.iter().position(|b| *b == key.0).unwrap_or(0);
            let colour = COLOURS[idx % COLOURS.len()];
            let pts = points(key);
            // Earlier backends drawn wider, so that backends with identical results (ijk and
            // ikj round the same way) show as a line with a halo instead of hiding each other.
            let width = 2 + 2 * (backends.len() - 1 - idx) as u32;
            let style = colour.stroke_width(width);
            let label = format!("{} {}", key.0, key.2);
            if key.2 == Input::Uniform {
                chart
                    .draw_series(LineSeries::new(pts.clone(), style))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
            } else {
                chart.draw_series(DashedLineSeries::new(pts.clone(), 6, 4, style))?.label(label).legend(
                    move |(x, y)| {
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(0, 0), (7, 0)], colour.stroke_width(2))
                            + PathElement::new(vec![(12, 0), (20, 0)], colour.stroke_width(2))
                    },
                );
            }
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 2 + width as i32 / 2, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            // Away from the data: err/bound falls with n, the two inputs' absolute errors
            // lie decades apart with the middle empty.
            .position(if p % 2 == 0 { SeriesLabelPosition::LowerLeft } else { SeriesLabelPosition::MiddleLeft })
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    root.present().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use matmul_bench_format::accuracy::Skip;

    fn row(backend: &str, input: Input, n: usize, eob: f64) -> Row {
        Row {
            backend: backend.into(),
            dtype: Dtype::F64,
            input,
            n,
            layout: matmul_bench_format::Layouts::ROW_MAJOR,
            checked: 4,
            max_err_over_bound: eob,
            max_abs_err: eob * 1e-14,
            rel_err: eob * 1e-15,
            seconds: 0.0,
        }
    }

    #[test]
    fn merge_keeps_first_and_tables_mark_skips() {
        let mut report = Report::default();
        merge(
            &mut report,
            Report {
                rows: vec![row("a", Input::Uniform, 16, 0.5), row("a", Input::Uniform, 32, 0.25)],
                skipped: vec![],
            },
        );
        let skip = Skip { backend: "a".into(), dtype: Dtype::F64, sizes: vec![64], reason: "budget".into() };
        merge(
            &mut report,
            Report {
                rows: vec![row("a", Input::Uniform, 16, 9.0), row("b", Input::Cancel, 64, 0.125)],
                skipped: vec![skip],
            },
        );
        assert_eq!(report.rows.len(), 3);
        assert_eq!(find(&report, &("a".into(), Dtype::F64, Input::Uniform), 16).unwrap().max_err_over_bound, 0.5);
        let md = markdown(&report);
        assert!(md.contains("| a | f64 | uniform | 5.00e-1 | 2.50e-1 | — |"), "{md}");
        assert!(md.contains("- a f64: n = [64]: budget"));
    }

    #[test]
    fn plot_writes_an_svg() {
        let report =
            Report { rows: vec![row("a", Input::Uniform, 16, 0.5), row("a", Input::Cancel, 32, 0.0)], skipped: vec![] };
        let dir = std::env::temp_dir().join(format!("xtask-accuracy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.svg");
        plot(&report, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("f64: max error / bound"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
