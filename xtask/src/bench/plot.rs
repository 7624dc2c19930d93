//! The report's figures, as SVG with `plotters` (SVG backend only: no system fonts or
//! image libraries needed; the viewer renders the text).

use std::path::Path;

use anyhow::{anyhow, Context};
use plotters::prelude::*;

use matmul_bench_format::results::{Results, Row};
use matmul_bench_format::{Dtype, Experiment, Layouts};

/// Distinct colours (Tableau 10), assigned to backends in the order the results list them,
/// so a backend has the same colour in every figure.
pub const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const SIZE: (u32, u32) = (900, 560);

fn colour(results: &Results, backend: &str) -> RGBColor {
    let i = results.backends.iter().position(|b| b.name == backend).unwrap_or(0);
    COLOURS[i % COLOURS.len()]
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotting: {e:?}")
}

/// Backends in the results' order that have rows among `rows`.
fn backends_in<'a>(results: &'a Results, rows: &[&Row]) -> Vec<&'a str> {
    results
        .backends
        .iter()
        .map(|b| b.name.as_str())
        .filter(|name| rows.iter().any(|r| r.measured.backend == *name))
        .collect()
}

fn log_range(lo: f64, hi: f64) -> std::ops::Range<f64> {
    (lo / 1.6)..(hi * 1.6)
}

/// Which value a line plot shows.
#[derive(Clone, Copy, Debug)]
pub enum Measure {
    /// Median seconds per call.
    Seconds,
    /// GFLOP/s.
    Gflops,
}

/// The value a figure shows for a row.
fn value(measure: Measure, r: &Row) -> f64 {
    match measure {
        Measure::Seconds => r.measured.seconds_median,
        Measure::Gflops => r.gflops,
    }
}

/// One line of a sweep figure: a backend (and layout, when the sweep had several).
struct Line {
    label: String,
    colour: RGBColor,
    /// Triangles instead of circles mark its points (every other layout).
    triangles: bool,
    /// (n, value), by n.
    points: Vec<(f64, f64)>,
}

fn sweep_lines(results: &Results, rows: &[&Row], measure: Measure) -> Vec<Line> {
    let mut layouts: Vec<Layouts> = rows.iter().map(|r| r.measured.layout).collect();
    layouts.sort_unstable();
    layouts.dedup();
    let mut lines = Vec::new();
    for backend in backends_in(results, rows) {
        for (li, layout) in layouts.iter().enumerate() {
            let mut points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.measured.backend == backend && r.measured.layout == *layout)
                .map(|r| (r.measured.n as f64, value(measure, r)))
                .collect();
            if points.is_empty() {
                continue;
            }
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            lines.push(Line {
                label: if layouts.len() > 1 { format!("{backend} ({layout})") } else { backend.to_owned() },
                colour: colour(results, backend),
                triangles: li % 2 == 1,
                points,
            });
        }
    }
    lines
}

/// The measured peak drawn on a GFLOP/s figure (at 1 thread and at every core only).
fn sweep_peak(results: &Results, dtype: Dtype, threads: usize, measure: Measure) -> Option<f64> {
    match measure {
        Measure::Gflops => results
            .peaks
            .iter()
            .find(|p| p.dtype == dtype)
            .filter(|p| threads == 1 || threads == p.cores)
            .map(|p| if threads == 1 { p.one() } else { p.all() }),
        Measure::Seconds => None,
    }
}

/// One line per backend (and layout, when the sweep had several) of `measure` against n,
/// log-log, for the sweep rows of one dtype and thread count. With GFLOP/s, the measured
/// peak is drawn as a dashed line.
pub fn sweep(results: &Results, dtype: Dtype, threads: usize, measure: Measure, path: &Path) -> anyhow::Result<()> {
    let rows: Vec<&Row> = results
        .results
        .iter()
        .filter(|r| {
            r.measured.experiment == Experiment::Sweep && r.measured.dtype == dtype && r.measured.threads == threads
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let peak = sweep_peak(results, dtype, threads, measure);
    let (nmin, nmax) =
        rows.iter().fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(r.measured.n as f64), hi.max(r.measured.n as f64)));
    let (vmin, vmax) =
        rows.iter().map(|r| value(measure, r)).chain(peak).fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let thread_word = if threads == 1 { "1 thread".to_owned() } else { format!("{threads} threads") };
    let (title, ylabel) = match measure {
        Measure::Seconds => (format!("{dtype}, {thread_word}: time per call (median)"), "seconds per call (log)"),
        Measure::Gflops => (format!("{dtype}, {thread_word}: GFLOP/s = 2n³ / median time"), "GFLOP/s (log)"),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(log_range(nmin, nmax).log_scale(), log_range(vmin, vmax).log_scale())
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("n (m = n = k, log scale)")
        .y_desc(ylabel)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| match measure {
            Measure::Seconds => super::report::human_time(*y),
            Measure::Gflops => sig3(*y),
        })
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(plot_err)?;
    for line in sweep_lines(results, &rows, measure) {
        let style = ShapeStyle { color: line.colour.to_rgba(), filled: true, stroke_width: 2 };
        chart
            .draw_series(LineSeries::new(line.points.clone(), style))
            .map_err(plot_err)?
            .label(line.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        // Markers show where the measured points are; different layouts get different shapes.
        if line.triangles {
            chart.draw_series(line.points.iter().map(|&p| TriangleMarker::new(p, 4, style))).map_err(plot_err)?;
        } else {
            chart.draw_series(line.points.iter().map(|&p| Circle::new(p, 3, style))).map_err(plot_err)?;
        }
    }
    if let Some(peak) = peak {
        let style = ShapeStyle { color: BLACK.to_rgba(), filled: false, stroke_width: 1 };
        let dashes: Vec<_> =
            dashed(nmin / 1.6, nmax * 1.6, 24).into_iter().map(|(a, b)| vec![(a, peak), (b, peak)]).collect();
        chart
            .draw_series(dashes.into_iter().map(|seg| PathElement::new(seg, style)))
            .map_err(plot_err)?
            .label(format!("FMA peak {peak:.1} GFLOP/s"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 8, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(plot_err)?;
    root.present().map_err(plot_err).with_context(|| format!("writing {}", path.display()))
}

/// Three significant digits, without trailing zeros: 0.0123, 1.5, 250.
pub fn sig3(y: f64) -> String {
    if y <= 0.0 || !y.is_finite() {
        return format!("{y}");
    }
    let digits = (2 - y.log10().floor() as i32).max(0) as usize;
    let s = format!("{y:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Dash segments along a log axis from `lo` to `hi`.
fn dashed(lo: f64, hi: f64, count: usize) -> Vec<(f64, f64)> {
    let (l, h) = (lo.ln(), hi.ln());
    let step = (h - l) / count as f64;
    (0..count).map(|i| ((l + step * i as f64).exp(), (l + step * (i as f64 + 0.5)).exp())).collect()
}

/// The layout experiment for one dtype: a group of bars per A/B/C layout, one bar per
/// backend, GFLOP/s on a log axis (naive loops and tuned kernels differ by orders of magnitude).
pub fn layouts(results: &Results, dtype: Dtype, path: &Path) -> anyhow::Result<()> {
    let rows: Vec<&Row> = results
        .results
        .iter()
        .filter(|r| r.measured.experiment == Experiment::Layout && r.measured.dtype == dtype)
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let backends = backends_in(results, &rows);
    let (vmin, vmax) = rows.iter().fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(r.gflops), hi.max(r.gflops)));
    let n = rows[0].measured.n;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{dtype}, n = {n}, 1 thread: layouts of A, B, C (r = row-, c = column-major)"),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(
            -0.5f64..7.5f64, // Headroom above the tallest bar for the legend (log scale: ×60 ≈ 1.8 decades).
            ((vmin / 2.0)..(vmax * 60.0)).log_scale(),
        )
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(8)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && (0.0..8.0).contains(&i) {
                Layouts::ALL[i as usize].to_string()
            } else {
                String::new()
            }
        })
        .x_desc("layout of A, B, C")
        .y_desc("GFLOP/s (log)")
        .y_label_formatter(&|y| sig3(*y))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(plot_err)?;
    let width = 0.8 / backends.len() as f64;
    let floor = vmin / 2.0;
    for (bi, backend) in backends.iter().enumerate() {
        let c = colour(results, backend);
        let bars: Vec<_> = Layouts::ALL
            .iter()
            .enumerate()
            .filter_map(|(li, layout)| {
                let r = rows.iter().find(|r| r.measured.backend == *backend && r.measured.layout == *layout)?;
                let x0 = li as f64 - 0.4 + bi as f64 * width;
                Some(Rectangle::new([(x0, floor), (x0 + width * 0.9, r.gflops)], c.filled()))
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(plot_err)?
            .label(*backend)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(plot_err)?;
    root.present().map_err(plot_err).with_context(|| format!("writing {}", path.display()))
}
