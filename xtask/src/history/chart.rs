//! The history's charts, as SVG text from `plotters`: one per backend, dtype and thread
//! count, one line per layout and shape, GFLOP/s (log) against commit, the legend in a
//! panel to the right so it never hides a line.

use anyhow::anyhow;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::History;
use crate::bench::plot::{sig3, COLOURS};
use crate::compare::record::TrackedPoint;
use crate::compare::stats::{Rule, Verdict};

/// Width and height of a chart, in pixels.
const SIZE: (u32, u32) = (980, 400);
/// Width of the legend panel on the right.
const LEGEND_WIDTH: u32 = 250;
/// At most this many commit labels on the x axis (7-character hashes, about 60 px each).
const MAX_X_LABELS: usize = 12;

/// Line colours: the Tableau 10 without its red and green, which mark the steps.
const LINE_COLOURS: [RGBColor; 8] =
    [COLOURS[0], COLOURS[1], COLOURS[4], COLOURS[5], COLOURS[6], COLOURS[7], COLOURS[8], COLOURS[9]];
const SLOWER: RGBColor = COLOURS[3];
const FASTER: RGBColor = COLOURS[2];

/// One figure of the page.
#[derive(Clone, Debug)]
pub struct Chart {
    /// `simd f64, 1 thread`.
    pub title: String,
    /// The SVG's file name, beside the page: `simd-f64-t1.svg`.
    pub file: String,
    /// The labels of the points it draws, one line each.
    pub points: Vec<String>,
    /// The SVG document.
    pub svg: String,
}

/// The points of one chart: same backend, dtype and thread count.
#[derive(Debug)]
struct Group<'a> {
    first: &'a TrackedPoint,
    points: Vec<&'a TrackedPoint>,
}

impl Group<'_> {
    fn holds(&self, p: &TrackedPoint) -> bool {
        (&p.backend, p.dtype, p.threads) == (&self.first.backend, self.first.dtype, self.first.threads)
    }
}

/// Every point's chart, by backend (in the order backends first appear), then dtype and
/// thread count.
pub fn charts(history: &History) -> anyhow::Result<Vec<Chart>> {
    // One instance of each point (its first), in the order the labels were found.
    let instances: Vec<&TrackedPoint> = history
        .points
        .iter()
        .filter_map(|label| (0..history.entries.len()).find_map(|i| history.point(i, label)))
        .collect();
    let mut backends: Vec<&str> = instances.iter().map(|p| p.backend.as_str()).collect();
    backends.dedup();
    let mut groups: Vec<Group> = Vec::new();
    for p in &instances {
        match groups.iter_mut().find(|g| g.holds(p)) {
            Some(g) => g.points.push(p),
            None => groups.push(Group { first: p, points: vec![p] }),
        }
    }
    let backend_rank = |b: &str| backends.iter().position(|x| *x == b).unwrap_or(usize::MAX);
    groups.sort_by_key(|g| (backend_rank(&g.first.backend), g.first.dtype.to_string(), g.first.threads));
    groups.iter().map(|g| draw(history, g)).collect()
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotting the history: {e:?}")
}

/// A line: its legend text, colour and GFLOP/s at each entry (None where not measured).
#[derive(Debug)]
struct Line {
    label: String,
    point: String,
    colour: RGBColor,
    gflops: Vec<Option<f64>>,
}

/// The y range, log scale: the values with a margin, and at least a factor of 1.5 tall so
/// that noise of a percent does not fill the chart.
fn y_range(lines: &[Line]) -> std::ops::Range<f64> {
    let values = lines.iter().flat_map(|l| l.gflops.iter().flatten().copied()).filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = values.fold((f64::MAX, f64::MIN_POSITIVE), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo > hi { (1.0, 10.0) } else { (lo / 1.08, hi * 1.08) };
    if hi / lo >= 1.5 {
        return lo..hi;
    }
    let centre = (lo * hi).sqrt();
    (centre / 1.5f64.sqrt())..(centre * 1.5f64.sqrt())
}

/// Round values to label a log axis from `lo` to `hi`: 1, 2, 3, 5 × 10^k on a range of
/// more than a factor 4, evenly spaced round numbers (about five) on a narrower one.
fn y_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    if hi / lo > 4.0 {
        let decades = lo.log10().floor() as i32..=hi.log10().ceil() as i32;
        return decades
            .flat_map(|d| [1.0, 2.0, 3.0, 5.0].map(|m| m * 10f64.powi(d)))
            .filter(|v| (lo..=hi).contains(v))
            .collect();
    }
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].map(|m| m * magnitude).into_iter().find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Runs of consecutive entries where a line has a value and the provenance stays the same.
fn segments(history: &History, gflops: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for (i, v) in gflops.iter().enumerate() {
        if history.is_boundary(i) || v.is_none() {
            out.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
        }
        if let Some(v) = v {
            current.push((i as f64, *v));
        }
    }
    out.extend((!current.is_empty()).then_some(current));
    out
}

fn draw(history: &History, group: &Group) -> anyhow::Result<Chart> {
    let p = group.first;
    let threads = if p.threads == 1 { "1 thread".to_owned() } else { format!("{} threads", p.threads) };
    let title = format!("{} {}, {threads}", p.backend, p.dtype);
    let file: String = format!("{}-{}-t{}.svg", p.backend, p.dtype, p.threads)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') { c } else { '_' })
        .collect();
    let lines: Vec<Line> = group
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let point = p.label();
            let gflops = (0..history.entries.len()).map(|e| history.point(e, &point).map(TrackedPoint::gflops));
            Line {
                label: format!("{} {}", p.layout, p.shape()),
                colour: LINE_COLOURS[i % LINE_COLOURS.len()],
                gflops: gflops.collect(),
                point,
            }
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(&title, ("sans-serif", 20)).map_err(plot_err)?;
        let (plot, legend) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        draw_plot(history, &lines, &plot)?;
        draw_legend(history, &lines, &legend)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Chart { title, file, points: lines.into_iter().map(|l| l.point).collect(), svg })
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// The axes, the provenance boundaries (dashed), the lines and the step rings.
fn draw_plot(history: &History, lines: &[Line], area: &Area) -> anyhow::Result<()> {
    let count = history.entries.len();
    let y = y_range(lines);
    let (lo, hi) = (y.start, y.end);
    let label_of = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            history.entries.get(i as usize).map_or(String::new(), |e| e.short_commit().to_owned())
        } else {
            String::new()
        }
    };
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(count as f64 - 0.5), y.log_scale())
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_labels(count.clamp(2, MAX_X_LABELS))
        .x_label_formatter(&label_of)
        // plotters labels a log axis at powers of ten only, often none on a narrow range:
        // the y ticks are drawn below instead.
        .disable_y_mesh()
        // A light line between every two commits turns grey on a long history.
        .light_line_style(TRANSPARENT)
        .y_label_formatter(&|_| String::new())
        .x_desc("commit (oldest left)")
        .y_desc("GFLOP/s (log)")
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(plot_err)?;
    let right = count as f64 - 0.5;
    let grid = ShapeStyle { color: BLACK.mix(0.15), filled: false, stroke_width: 1 };
    let tick_font = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
    for t in y_ticks(lo, hi) {
        chart.draw_series(std::iter::once(PathElement::new(vec![(-0.5, t), (right, t)], grid))).map_err(plot_err)?;
        let label = EmptyElement::at((-0.5, t)) + Text::new(sig3(t), (-8, 0), tick_font.clone());
        chart.draw_series(std::iter::once(label)).map_err(plot_err)?;
    }
    let dash = ShapeStyle { color: BLACK.to_rgba(), filled: false, stroke_width: 1 };
    for b in &history.boundaries {
        let x = b.index as f64 - 0.5;
        let (l, h) = (lo.ln(), hi.ln());
        let step = (h - l) / 30.0;
        let pieces = (0..30).map(|i| {
            let (a, b) = ((l + step * i as f64).exp(), (l + step * (i as f64 + 0.5)).exp());
            PathElement::new(vec![(x, a), (x, b)], dash)
        });
        chart.draw_series(pieces).map_err(plot_err)?;
    }
    for line in lines {
        let style = ShapeStyle { color: line.colour.to_rgba(), filled: true, stroke_width: 2 };
        for seg in segments(history, &line.gflops) {
            chart.draw_series(LineSeries::new(seg.clone(), style)).map_err(plot_err)?;
            chart.draw_series(seg.iter().map(|&pt| Circle::new(pt, 3, style))).map_err(plot_err)?;
        }
    }
    for step in &history.steps {
        let Some(line) = lines.iter().find(|l| l.point == step.point) else { continue };
        let Some(Some(v)) = line.gflops.get(step.index) else { continue };
        let colour = if step.decision.verdict == Verdict::Slower { SLOWER } else { FASTER };
        let ring = ShapeStyle { color: colour.to_rgba(), filled: false, stroke_width: 3 };
        chart.draw_series(std::iter::once(Circle::new((step.index as f64, *v), 9, ring))).map_err(plot_err)?;
    }
    Ok(())
}

/// The legend panel: every line, then the marks this chart uses.
fn draw_legend(history: &History, lines: &[Line], area: &Area) -> anyhow::Result<()> {
    let font = ("sans-serif", 14).into_font().color(&BLACK);
    let row = |i: usize| 40 + 24 * i as i32;
    let mut i = 0;
    for line in lines {
        let style = ShapeStyle { color: line.colour.to_rgba(), filled: true, stroke_width: 2 };
        area.draw(&PathElement::new(vec![(8, row(i)), (36, row(i))], style)).map_err(plot_err)?;
        area.draw(&Circle::new((22, row(i)), 3, style)).map_err(plot_err)?;
        area.draw(&Text::new(line.label.clone(), (44, row(i) - 8), font.clone())).map_err(plot_err)?;
        i += 1;
    }
    let ours = |s: &&super::Step| lines.iter().any(|l| l.point == s.point);
    let rule = Rule::default();
    let marks = [
        (Verdict::Slower, SLOWER, format!("slower: > ×{:.2}, p < {}", rule.factor, rule.alpha)),
        (Verdict::Faster, FASTER, format!("faster: < ÷{:.2}, p < {}", rule.factor, rule.alpha)),
    ];
    for (verdict, colour, text) in marks {
        if history.steps.iter().filter(ours).any(|s| s.decision.verdict == verdict) {
            let ring = ShapeStyle { color: colour.to_rgba(), filled: false, stroke_width: 3 };
            area.draw(&Circle::new((22, row(i)), 8, ring)).map_err(plot_err)?;
            area.draw(&Text::new(text, (44, row(i) - 8), font.clone())).map_err(plot_err)?;
            i += 1;
        }
    }
    if !history.boundaries.is_empty() {
        let dash = ShapeStyle { color: BLACK.to_rgba(), filled: false, stroke_width: 1 };
        for y in [row(i) - 10, row(i) - 3, row(i) + 4] {
            area.draw(&PathElement::new(vec![(22, y), (22, y + 4)], dash)).map_err(plot_err)?;
        }
        area.draw(&Text::new("machine/toolchain changed", (44, row(i) - 8), font)).map_err(plot_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture::series;
    use super::*;

    #[test]
    fn one_chart_per_backend_and_dtype_with_every_point() {
        let h = History::new(series(4, |_, _| 1.0), Rule::default());
        let charts = charts(&h).unwrap();
        let titles: Vec<&str> = charts.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(
            titles,
            ["simd f32, 1 thread", "simd f64, 1 thread", "naive-ikj f32, 1 thread", "naive-ikj f64, 1 thread"]
        );
        assert_eq!(charts.iter().map(|c| c.points.len()).sum::<usize>(), h.points.len());
        assert_eq!(charts[0].file, "simd-f32-t1.svg");
        for c in &charts {
            assert!(c.svg.starts_with("<svg") && c.svg.contains("</svg>"), "{}", c.title);
            assert!(c.svg.contains("rrr 256x256x256") && c.svg.contains("0000004"), "{}", c.title);
        }
    }

    #[test]
    fn lines_break_at_a_boundary_and_a_gap() {
        let mut entries = series(5, |_, _| 1.0);
        for e in &mut entries[3..] {
            e.run.provenance.machine.cpu = "Intel Xeon".into();
        }
        let h = History::new(entries, Rule::default());
        let v = [Some(1.0), None, Some(2.0), Some(3.0), Some(4.0)];
        assert_eq!(segments(&h, &v), vec![vec![(0.0, 1.0)], vec![(2.0, 2.0)], vec![(3.0, 3.0), (4.0, 4.0)]]);
    }

    #[test]
    fn y_ticks_are_round_and_inside_the_range() {
        assert_eq!(y_ticks(86.0, 130.0), [90.0, 100.0, 110.0, 120.0, 130.0]);
        assert_eq!(y_ticks(0.4, 55.0), [0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0]);
        let t = y_ticks(0.0123, 0.0171);
        assert!(t.len() >= 3 && t.iter().all(|v| (0.0123..=0.0171).contains(v)), "{t:?}");
        assert!(y_ticks(1.0, 1.0).is_empty() && y_ticks(0.0, 1.0).is_empty());
    }

    #[test]
    fn the_y_range_is_never_too_narrow() {
        let line = |vs: &[f64]| Line {
            label: String::new(),
            point: String::new(),
            colour: BLACK,
            gflops: vs.iter().map(|v| Some(*v)).collect(),
        };
        let r = y_range(&[line(&[100.0, 101.0])]);
        assert!((r.end / r.start - 1.5).abs() < 1e-9 && r.start < 100.0 && r.end > 101.0, "{r:?}");
        let r = y_range(&[line(&[0.2, 20.0])]);
        assert!(r.start < 0.2 && r.end > 20.0, "{r:?}");
    }
}
