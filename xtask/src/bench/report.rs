//! `report.md` and `report.html` from the merged results: one document model rendered
//! twice, so the two never disagree. The HTML inlines the SVG figures (self-contained).
//!
//! The answer comes first: a summary (each backend's speed at the largest size all of
//! them ran, fastest first), then the machine and how it was measured, the figures, and
//! the long tables folded (`<details>`) below them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use matmul_bench_format::results::{Results, Row};
use matmul_bench_format::runner::Theoretical;
use matmul_bench_format::{Dtype, Experiment, Kind, Layouts, Shape};

/// A piece of the report.
#[derive(Debug)]
pub enum Block {
    Heading(usize, String),
    Para(String),
    List(Vec<String>),
    /// Header, right-aligned columns, rows.
    Table(Vec<String>, Vec<bool>, Vec<Vec<String>>),
    /// An SVG file in the output directory, and its caption.
    Figure(String, String),
    /// Blocks folded under a one-line summary.
    Details(String, Vec<Block>),
}

/// Seconds in the unit that reads best.
pub fn human_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.1} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn thread_word(t: usize) -> String {
    if t == 1 {
        "1 thread".to_owned()
    } else {
        format!("{t} threads")
    }
}

fn gf(x: f64) -> String {
    if x <= 0.0 || !x.is_finite() {
        format!("{x:.2}")
    } else if x < 1.0 {
        // Three significant digits: a backend far off the pace still shows a number.
        let digits = (2 - (x.log10().floor() as i32).max(-9)).clamp(2, 11) as usize;
        format!("{x:.digits$}")
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn err_cell(r: &Row) -> String {
    format!("{:.2e}{}", r.measured.max_err_over_bound, if r.measured.passed() { "" } else { " **FAIL**" })
}

fn peak_cell(r: &Row) -> String {
    r.peak_fraction.map_or("–".to_owned(), |p| format!("{:.1}%", 100.0 * p))
}

fn ratio_cell(r: &Row) -> String {
    match (r.ratio_to_best_blas, &r.best_blas) {
        (Some(x), Some(name)) => format!("{x:.2}× {name}{}", if r.ratio_across_processes { " †" } else { "" }),
        _ => "–".to_owned(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// File names of the figures of one sweep group and of the layout experiment.
pub fn time_svg(dtype: Dtype, threads: usize) -> String {
    format!("time_{dtype}_t{threads}.svg")
}
pub fn gflops_svg(dtype: Dtype, threads: usize) -> String {
    format!("gflops_{dtype}_t{threads}.svg")
}
pub fn layout_svg(dtype: Dtype) -> String {
    format!("layout_{dtype}.svg")
}

fn rows_of(results: &Results, experiment: Experiment) -> impl Iterator<Item = &Row> {
    results.results.iter().filter(move |r| r.measured.experiment == experiment)
}

/// The (dtype, threads) groups of an experiment, in order.
fn groups(results: &Results, experiment: Experiment) -> Vec<(Dtype, usize)> {
    let mut g: Vec<(Dtype, usize)> =
        rows_of(results, experiment).map(|r| (r.measured.dtype, r.measured.threads)).collect();
    g.sort();
    g.dedup();
    g
}

/// The (dtype, threads) groups of the sweep, in order.
pub fn sweep_groups(results: &Results) -> Vec<(Dtype, usize)> {
    groups(results, Experiment::Sweep)
}

/// The dtypes of the layout experiment.
pub fn layout_dtypes(results: &Results) -> Vec<Dtype> {
    let mut d: Vec<Dtype> = rows_of(results, Experiment::Layout).map(|r| r.measured.dtype).collect();
    d.sort();
    d.dedup();
    d
}

/// Backend names in the results' order that have rows among `rows`.
fn backends_in<'a>(results: &'a Results, rows: &[&Row]) -> Vec<&'a str> {
    results
        .backends
        .iter()
        .map(|b| b.name.as_str())
        .filter(|name| rows.iter().any(|r| r.measured.backend == *name))
        .collect()
}

/// Builds the report. `comparison` is the rendered baseline comparison, if one was asked for.
pub fn build(results: &Results, comparison: Option<&str>) -> Vec<Block> {
    let mut doc = vec![Block::Heading(1, "matmul benchmark report".to_owned())];
    summary_section(results, &mut doc);
    doc.push(Block::Heading(2, "Machine and method".to_owned()));
    doc.push(Block::Para(machine_line(results)));
    doc.push(Block::Para(peak_line(results)));
    doc.push(peaks_per_process(results));
    doc.push(Block::Para(provenance_line(results)));
    doc.push(Block::Para(method_line(results)));
    doc.push(Block::List(notes(results)));
    backends_section(results, &mut doc);
    for (dtype, threads) in sweep_groups(results) {
        sweep_section(results, dtype, threads, &mut doc);
    }
    shapes_section(results, &mut doc);
    let ldtypes = layout_dtypes(results);
    if !ldtypes.is_empty() {
        doc.push(Block::Heading(2, "Layout experiment".to_owned()));
        doc.push(Block::Para(
            "Every combination of row-major (r) and column-major (c) for A, B and C, at one size and 1 thread: how \
             loop order and layout interact. naive-ijk walks a row of A and a column of B (fast when A is r and B is \
             c); naive-ikj walks rows of B and C (fast when B and C are r). GFLOP/s per backend."
                .to_owned(),
        ));
        for dtype in ldtypes {
            layout_section(results, dtype, &mut doc);
        }
    }
    gpu_section(results, &mut doc);
    accuracy_section(results, &mut doc);
    first_call_section(results, &mut doc);
    skipped_section(results, &mut doc);
    if let Some(c) = comparison {
        doc.push(Block::Heading(2, "Comparison with the baseline".to_owned()));
        doc.push(Block::Para(
            "Speed now over speed in the baseline (> 1: faster now), by median and by minimum time.".to_owned(),
        ));
        doc.push(Block::Para(c.to_owned()));
    }
    doc
}

/// The largest size every backend of `rows` measured, if they share one.
fn largest_common_size(rows: &[&Row]) -> Option<usize> {
    let mut per_backend: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for r in rows {
        per_backend.entry(r.measured.backend.as_str()).or_default().push(r.measured.n);
    }
    let mut sizes = per_backend.values();
    let first = sizes.next()?.clone();
    let rest: Vec<&Vec<usize>> = sizes.collect();
    first.into_iter().filter(|n| rest.iter().all(|s| s.contains(n))).max()
}

/// The heading suffix naming a point's best BLAS, if it has one.
fn best_blas_of(rows: &[&Row]) -> String {
    rows.iter().find_map(|r| r.best_blas.as_deref()).map_or(String::new(), |b| format!("; best BLAS: {b}"))
}

/// One table of a point's backends, fastest first.
fn ranking(results: &Results, rows: &mut [&Row]) -> Block {
    rows.sort_by(|a, b| b.gflops.total_cmp(&a.gflops));
    let body = rows
        .iter()
        .map(|r| {
            let kind = results.backend(&r.measured.backend).map_or("?".to_owned(), |b| b.kind.to_string());
            let ratio = r
                .ratio_to_best_blas
                .map_or("–".to_owned(), |x| format!("{x:.2}×{}", if r.ratio_across_processes { " †" } else { "" }));
            vec![r.measured.backend.clone(), kind, gf(r.gflops), ratio, peak_cell(r), err_cell(r)]
        })
        .collect();
    Block::Table(
        strings(&["backend", "kind", "GFLOP/s", "× best BLAS", "% of peak", "err/bound"]),
        vec![false, false, true, true, true, true],
        body,
    )
}

/// The summary alone, as markdown (xtask prints it when the run ends).
pub fn summary_markdown(results: &Results) -> String {
    let mut doc = Vec::new();
    summary_section(results, &mut doc);
    markdown(&doc)
}

/// The answer first: per dtype and thread count, every backend at the largest size all
/// of them ran (sweep layout `rrr` when there are several), fastest first.
fn summary_section(results: &Results, doc: &mut Vec<Block>) {
    doc.push(Block::Heading(2, "Summary".to_owned()));
    doc.push(Block::Para(
        "Per element type and thread count: each backend at the largest square size every one of them ran, fastest \
         first, with its ratio to the best BLAS at that point and its share of the measured FMA peak."
            .to_owned(),
    ));
    for (dtype, threads) in sweep_groups(results) {
        let group: Vec<&Row> = rows_of(results, Experiment::Sweep)
            .filter(|r| r.measured.dtype == dtype && r.measured.threads == threads)
            .collect();
        let layout = if group.iter().any(|r| r.measured.layout == Layouts::ROW_MAJOR) {
            Layouts::ROW_MAJOR
        } else {
            group[0].measured.layout
        };
        let group: Vec<&Row> = group.into_iter().filter(|r| r.measured.layout == layout).collect();
        let Some(n) = largest_common_size(&group) else { continue };
        let mut further: BTreeMap<&str, usize> = BTreeMap::new();
        for r in group.iter().filter(|r| r.measured.n > n) {
            let e = further.entry(r.measured.backend.as_str()).or_default();
            *e = (*e).max(r.measured.n);
        }
        let mut at: Vec<&Row> = group.into_iter().filter(|r| r.measured.n == n).collect();
        doc.push(Block::Heading(
            3,
            format!("{dtype}, {}, n = {n} ({layout}{})", thread_word(threads), best_blas_of(&at)),
        ));
        doc.push(ranking(results, &mut at));
        if !further.is_empty() {
            let reached: Vec<String> = further.iter().map(|(b, m)| format!("{b} to n = {m}")).collect();
            let stopped: Vec<&str> =
                at.iter().map(|r| r.measured.backend.as_str()).filter(|b| !further.contains_key(b)).collect();
            doc.push(Block::Para(format!(
                "Larger sizes: {} (in the tables below); not {} (see Skipped).",
                reached.join(", "),
                stopped.join(", ")
            )));
        }
    }
}

fn machine_line(results: &Results) -> String {
    let m = &results.machine;
    let mut line = format!(
        "**Machine:** {}, {} cores; CPU features detected at run time: {}. **Code generation:** {}",
        m.cpu,
        m.cores,
        if m.features.is_empty() { "none of interest".to_owned() } else { m.features.join(", ") },
        results.provenance.codegen,
    );
    if !m.compiled_features.is_empty() {
        let _ = write!(line, " (compiled for: {})", m.compiled_features.join(", "));
    }
    line.push('.');
    line
}

fn peak_line(results: &Results) -> String {
    let m = &results.machine;
    if results.peaks.is_empty() {
        return "The peak was not measured: no % of peak.".to_owned();
    }
    let mut p = String::from(
        "**Peak** (FMA-throughput microbenchmark, 12 independent chains per thread, best of 3, measured at the start \
         and at the end of every runner process; the largest is kept): ",
    );
    let parts: Vec<String> = results
        .peaks
        .iter()
        .map(|pk| {
            let theory = match &m.theoretical {
                Theoretical::Table { microarch, f64_flops_per_cycle, max_ghz } => format!(
                    "; theoretical 1 core: {microarch}, {} {} FLOP/cycle × {max_ghz:.2} GHz (cpuinfo_max_freq) = {} GFLOP/s",
                    if pk.dtype == Dtype::F32 { 2.0 * f64_flops_per_cycle } else { *f64_flops_per_cycle },
                    pk.dtype,
                    gf(m.theoretical.one_core(pk.dtype).unwrap_or(f64::NAN))
                ),
                Theoretical::Unknown { .. } => String::new(),
            };
            format!("{} {} GFLOP/s on 1 thread, {} on {} ({}{theory})", pk.dtype, gf(pk.one()), gf(pk.all()), thread_word(pk.cores), pk.isa)
        })
        .collect();
    p.push_str(&parts.join("; "));
    p.push('.');
    if let Theoretical::Unknown { why } = &m.theoretical {
        let _ = write!(p, " No theoretical peak: {why}.");
    }
    let shared = results.peaks.iter().any(|pk| pk.all() < pk.one() * pk.cores as f64 * 0.8);
    if shared && m.cores > 1 {
        p.push_str(
            " The all-cores peak is well below cores × the 1-core peak: other processes were using the cores while \
             it ran, so multi-threaded % of peak is an upper estimate.",
        );
    }
    if results.backends.iter().any(|b| b.kind == Kind::Gpu) {
        p.push_str(if results.gpu_peaks.is_empty() {
            " GPU rows are not measured against the CPU's peak: they show none."
        } else {
            " GPU rows are measured against the GPU's theoretical peak (see GPU), never the CPU's."
        });
    }
    p
}

/// Every process's peaks at its start and its end, folded: how much they moved.
fn peaks_per_process(results: &Results) -> Block {
    let mut body = Vec::new();
    for p in &results.processes {
        for pk in &p.peaks {
            body.push(vec![
                format!("{}, t = {}", p.build, p.threads),
                pk.dtype.to_string(),
                gf(pk.start.one),
                gf(pk.end.one),
                gf(pk.start.all),
                gf(pk.end.all),
            ]);
        }
    }
    Block::Details(
        "The peak of every runner process, at its start and its end (GFLOP/s)".to_owned(),
        vec![Block::Table(
            strings(&["process", "dtype", "1 thread, start", "1 thread, end", "all cores, start", "all cores, end"]),
            vec![false, false, true, true, true, true],
            body,
        )],
    )
}

fn provenance_line(results: &Results) -> String {
    let p = &results.provenance;
    let blas: Vec<String> = results
        .backends
        .iter()
        .filter(|b| b.kind == Kind::Blas)
        .map(|b| if b.details.is_empty() { b.name.clone() } else { format!("{}: {}", b.name, b.details) })
        .collect();
    format!(
        "**Provenance:** commit {}; {}; BLAS: {}; `{}`.",
        p.commit.as_deref().unwrap_or("unknown"),
        p.rustc.as_deref().unwrap_or("rustc version unknown"),
        if blas.is_empty() { "none".to_owned() } else { blas.join("; ") },
        p.command
    )
}

fn method_line(results: &Results) -> String {
    let s = &results.settings;
    format!(
        "**Method.** Each point: one warm-up call per backend (also checked), then rounds in which every backend runs \
         a batch of calls in turn so the machine's drift hits all alike, until each has at least {} samples and {} s \
         of calls; a sample is a batch's mean time per call. GFLOP/s = 2·m·n·k / median. Inputs are seeded uniform \
         random numbers in [−1, 1); C starts as NaN. Accuracy is the worst |error| / bound over every entry of C up \
         to 4096 entries and 1024 sampled entries above, against the compensated reference (≤ 1 is correct). A \
         backend is skipped at a size where one call is predicted to take over {} s.",
        s.min_samples, s.min_time_s, s.max_call_s,
    )
}

fn notes(results: &Results) -> Vec<String> {
    let mut notes = Vec::new();
    let single: Vec<&str> = results.backends.iter().filter(|b| !b.multithreaded).map(|b| b.name.as_str()).collect();
    if !single.is_empty() && sweep_groups(results).iter().any(|g| g.1 > 1) {
        notes.push(format!(
            "Single-threaded backends ({}) run at 1 thread only; the multi-threaded tables omit them.",
            single.join(", ")
        ));
    }
    let blas: Vec<&str> = results.backends.iter().filter(|b| b.kind == Kind::Blas).map(|b| b.name.as_str()).collect();
    if blas.is_empty() {
        notes.push(
            "No BLAS backend was compiled into the runner, so the ratio-to-best-BLAS column is empty.".to_owned(),
        );
    } else {
        notes.push(format!(
            "The ratio to the best BLAS ({}) comes from interleaved runs in one process. Two BLAS libraries cannot \
             be linked into one binary, so each was measured in its own runner process; every other row is taken \
             from the process of the fastest BLAS at that point, and a ratio to a BLAS of another process is \
             marked †.",
            blas.join(", ")
        ));
    }
    if results.backends.iter().any(|b| b.kind == Kind::Peer) {
        notes.push(
            "The peers (other projects' GEMMs) run in the same process on the same inputs. matrixmultiply reads its \
             thread count once per process (MATMUL_NUM_THREADS, at most 4), so xtask runs one runner process per \
             thread count."
                .to_owned(),
        );
    }
    notes
}

/// Every backend with its kind and details: what a result depended on.
fn backends_section(results: &Results, doc: &mut Vec<Block>) {
    doc.push(Block::Heading(2, "Backends".to_owned()));
    let body = results
        .backends
        .iter()
        .map(|b| {
            vec![
                format!("`{}`", b.name),
                b.kind.to_string(),
                if b.details.is_empty() { "–".to_owned() } else { b.details.clone() },
                b.description.clone(),
            ]
        })
        .collect();
    doc.push(Block::Table(strings(&["backend", "kind", "details", "description"]), vec![false; 4], body));
}

fn sweep_section(results: &Results, dtype: Dtype, threads: usize, doc: &mut Vec<Block>) {
    let rows: Vec<&Row> = rows_of(results, Experiment::Sweep)
        .filter(|r| r.measured.dtype == dtype && r.measured.threads == threads)
        .collect();
    doc.push(Block::Heading(2, format!("{dtype}, {}", thread_word(threads))));
    doc.push(Block::Figure(gflops_svg(dtype, threads), format!("{dtype}, {}: GFLOP/s vs n", thread_word(threads))));
    doc.push(Block::Figure(time_svg(dtype, threads), format!("{dtype}, {}: time per call vs n", thread_word(threads))));
    let backends = backends_in(results, &rows);
    let mut layouts: Vec<Layouts> = rows.iter().map(|r| r.measured.layout).collect();
    layouts.sort_unstable();
    layouts.dedup();
    let mut sizes: Vec<usize> = rows.iter().map(|r| r.measured.n).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut folded = Vec::new();
    // The overview: GFLOP/s, sizes down, backends across.
    for layout in &layouts {
        let mut header = vec![format!("n ({layout})")];
        header.extend(backends.iter().map(|b| format!("{b} GFLOP/s")));
        let body: Vec<Vec<String>> = sizes
            .iter()
            .map(|&n| {
                let mut row = vec![n.to_string()];
                for b in &backends {
                    let r = rows
                        .iter()
                        .find(|r| r.measured.n == n && r.measured.backend == *b && r.measured.layout == *layout);
                    row.push(r.map_or("skipped".to_owned(), |r| gf(r.gflops)));
                }
                row
            })
            .collect();
        let right = vec![true; header.len()];
        folded.push(Block::Table(header, right, body));
    }
    doc.push(Block::Details(format!("{dtype}, {}: GFLOP/s by size and backend", thread_word(threads)), folded));
    doc.push(Block::Details(
        format!(
            "{dtype}, {}: every row (median and minimum time, % of peak, ratio to the best BLAS, error)",
            thread_word(threads)
        ),
        vec![detail_table(&rows, |r| r.measured.n.to_string(), "n")],
    ));
}

/// Every number of every row.
fn detail_table(rows: &[&Row], size: impl Fn(&Row) -> String, size_title: &str) -> Block {
    let header =
        strings(&[size_title, "layout", "backend", "median", "min", "GFLOP/s", "% peak", "× best BLAS", "err/bound"]);
    let right = vec![true, false, false, true, true, true, true, true, true];
    let body = rows
        .iter()
        .map(|r| {
            vec![
                size(r),
                r.measured.layout.to_string(),
                r.measured.backend.clone(),
                human_time(r.measured.seconds_median),
                human_time(r.measured.seconds_min),
                gf(r.gflops),
                peak_cell(r),
                ratio_cell(r),
                err_cell(r),
            ]
        })
        .collect();
    Block::Table(header, right, body)
}

/// The rectangular products: per dtype, thread count and shape, a ranking.
fn shapes_section(results: &Results, doc: &mut Vec<Block>) {
    let groups = groups(results, Experiment::Shapes);
    if groups.is_empty() {
        return;
    }
    doc.push(Block::Heading(2, "Rectangular products".to_owned()));
    doc.push(Block::Para(
        "The `--shapes` products, m×n×k (C is m × n, the inner dimension k), measured like the sweep.".to_owned(),
    ));
    for (dtype, threads) in groups {
        let rows: Vec<&Row> = rows_of(results, Experiment::Shapes)
            .filter(|r| r.measured.dtype == dtype && r.measured.threads == threads)
            .collect();
        let mut shapes: Vec<(Shape, Layouts)> = rows.iter().map(|r| (r.measured.shape(), r.measured.layout)).collect();
        shapes.dedup();
        shapes.sort();
        shapes.dedup();
        for (shape, layout) in shapes {
            let mut at: Vec<&Row> =
                rows.iter().copied().filter(|r| r.measured.shape() == shape && r.measured.layout == layout).collect();
            doc.push(Block::Heading(
                3,
                format!("{dtype}, {}, {shape} ({layout}{})", thread_word(threads), best_blas_of(&at)),
            ));
            doc.push(ranking(results, &mut at));
        }
        doc.push(Block::Details(
            format!("{dtype}, {}: every row of the rectangular products", thread_word(threads)),
            vec![detail_table(&rows, |r| r.measured.shape().to_string(), "m×n×k")],
        ));
    }
}

fn layout_section(results: &Results, dtype: Dtype, doc: &mut Vec<Block>) {
    let rows: Vec<&Row> = rows_of(results, Experiment::Layout).filter(|r| r.measured.dtype == dtype).collect();
    let n = rows.first().map_or(0, |r| r.measured.n);
    doc.push(Block::Heading(3, format!("{dtype}, n = {n}, 1 thread (GFLOP/s)")));
    doc.push(Block::Figure(layout_svg(dtype), format!("{dtype}: the layout experiment")));
    let backends = backends_in(results, &rows);
    let mut header = vec!["A B C".to_owned()];
    header.extend(backends.iter().map(|b| b.to_string()));
    header.push("worst err/bound".to_owned());
    let mut body = Vec::new();
    for layout in Layouts::ALL {
        let here: Vec<&&Row> = rows.iter().filter(|r| r.measured.layout == layout).collect();
        if here.is_empty() {
            continue;
        }
        let mut row = vec![layout.as_array().map(|l| l.letter().to_string()).join(" ")];
        for b in &backends {
            row.push(here.iter().find(|r| r.measured.backend == *b).map_or("skipped".to_owned(), |r| gf(r.gflops)));
        }
        let worst =
            here.iter()
                .map(|r| r.measured.max_err_over_bound)
                .fold(0.0f64, |a, b| if b.is_nan() { b } else { a.max(b) });
        row.push(format!("{worst:.2e}{}", if worst <= 1.0 { "" } else { " **FAIL**" }));
        body.push(row);
    }
    let mut right = vec![true; header.len()];
    right[0] = false;
    doc.push(Block::Details(format!("{dtype}: the layout table"), vec![Block::Table(header, right, body)]));
}

fn accuracy_section(results: &Results, doc: &mut Vec<Block>) {
    doc.push(Block::Heading(2, "Accuracy".to_owned()));
    let mut worst: BTreeMap<(String, Dtype), (f64, usize)> = BTreeMap::new();
    for r in &results.results {
        let e = worst.entry((r.measured.backend.clone(), r.measured.dtype)).or_insert((0.0, 0));
        let x = r.measured.max_err_over_bound;
        if x > e.0 || x.is_nan() {
            e.0 = x;
        }
        e.1 += 1;
    }
    let failing = results.results.iter().filter(|r| !r.measured.passed()).count();
    doc.push(Block::Para(format!(
        "Worst error / bound of each backend over every measured point ({}). The bound is γ_(k+2)·(|α||A||B| + |β||C₀|) \
         plus the reference's own error (crates/matmul-core/src/reference.rs).",
        if failing == 0 { "all within the bound".to_owned() } else { format!("**{failing} points over the bound**") }
    )));
    let body = worst
        .into_iter()
        .map(|((b, d), (w, n))| {
            vec![b, d.to_string(), n.to_string(), format!("{w:.2e}"), if w <= 1.0 { "PASS" } else { "FAIL" }.to_owned()]
        })
        .collect();
    doc.push(Block::Details(
        "Worst error / bound per backend and dtype".to_owned(),
        vec![Block::Table(
            strings(&["backend", "dtype", "points", "worst err/bound", ""]),
            vec![false, false, true, true, false],
            body,
        )],
    ));
}

/// Each backend's first call in its runner process beside the steady-state median of the
/// same point: what a one-shot user pays (for a GPU backend: context, NVRTC, module
/// loading; for a BLAS library: its thread pool). Absent from results older than the field.
fn first_call_section(results: &Results, doc: &mut Vec<Block>) {
    let rows: Vec<&Row> = results.results.iter().filter(|r| r.measured.first_call_seconds.is_some()).collect();
    if rows.is_empty() {
        return;
    }
    doc.push(Block::Heading(2, "Cold first call".to_owned()));
    doc.push(Block::Para(
        "Each backend's first call in its runner process (the warm-up of its first point), beside the median of the \
         calls that followed at the same point. Every other figure in this report is steady state."
            .to_owned(),
    ));
    let body = rows
        .iter()
        .map(|r| {
            let m = &r.measured;
            let first = m.first_call_seconds.unwrap_or(f64::NAN);
            vec![
                m.backend.clone(),
                m.dtype.to_string(),
                format!("{}×{}×{}", m.m, m.n, m.k),
                thread_word(m.threads),
                human_time(first),
                human_time(m.seconds_median),
                format!("{:.1}×", first / m.seconds_median),
            ]
        })
        .collect();
    doc.push(Block::Table(
        strings(&["backend", "dtype", "m×n×k", "threads", "first call", "steady median", "first / steady"]),
        vec![false, false, true, true, true, true, true],
        body,
    ));
}

/// The backend every GPU row's kernel-only speed is compared with.
const GPU_REFERENCE: &str = "cublas";

/// Kernel-only GFLOP/s of `r`, if its runner measured it.
fn kernel_gflops(r: &Row) -> Option<f64> {
    r.measured.gpu.map(|g| g.kernel_gflops(r.measured.shape()))
}

/// `r`'s kernel-only speed over cuBLAS's at the same point, if both were measured.
fn ratio_to_cublas(results: &Results, r: &Row) -> Option<f64> {
    let point = r.measured.point();
    let reference = results
        .results
        .iter()
        .find(|c| c.measured.backend == GPU_REFERENCE && c.measured.point() == point)
        .and_then(kernel_gflops)?;
    Some(kernel_gflops(r)? / reference)
}

/// Every row of a GPU backend: its kernel-only speed (operands already on the GPU) beside
/// the with-transfer speed every other table shows, the copies' rates, and the kernel-only
/// ratio to cuBLAS. Nothing when no GPU backend ran.
fn gpu_section(results: &Results, doc: &mut Vec<Block>) {
    let gpu: Vec<&str> = results.backends.iter().filter(|b| b.kind == Kind::Gpu).map(|b| b.name.as_str()).collect();
    let mut rows: Vec<&Row> = results.results.iter().filter(|r| gpu.contains(&r.measured.backend.as_str())).collect();
    if rows.is_empty() {
        return;
    }
    rows.sort_by_key(|r| (r.measured.dtype, r.measured.experiment, r.measured.shape(), r.measured.layout));
    doc.push(Block::Heading(2, "GPU".to_owned()));
    doc.push(Block::Para(format!(
        "Kernel only: A, B and C uploaded once (row-major), then repeated device-resident calls timed by CUDA \
         events. With transfers: the host-slice call every other table shows (pack, copy up, multiply, copy C \
         back, through a pinned staging buffer). Copies: A and B up, C down, best of three. × {GPU_REFERENCE}: \
         kernel only, at the same point. Points with a column-major operand have no kernel-only figures (–). \
         {}",
        gpu_peak_sentence(results)
    )));
    let body = rows
        .iter()
        .map(|r| {
            let m = &r.measured;
            let g = m.gpu;
            let dash = || "–".to_owned();
            vec![
                m.backend.clone(),
                m.dtype.to_string(),
                format!("{}×{}×{}", m.m, m.n, m.k),
                m.layout.to_string(),
                kernel_gflops(r).map_or_else(dash, gf),
                kernel_gflops(r)
                    .zip(gpu_peak(results, m.dtype))
                    .map_or_else(dash, |(k, peak)| format!("{:.1}", 100.0 * k / peak)),
                gf(r.gflops),
                g.map_or_else(dash, |g| format!("{:.1}", g.h2d_gbps)),
                g.map_or_else(dash, |g| format!("{:.1}", g.d2h_gbps)),
                g.map_or_else(dash, |g| if g.pinned { "pinned" } else { "pageable" }.to_owned()),
                ratio_to_cublas(results, r).map_or_else(dash, |x| format!("{x:.2}×")),
            ]
        })
        .collect();
    doc.push(Block::Table(
        strings(&[
            "backend",
            "dtype",
            "m×n×k",
            "layout",
            "kernel GFLOP/s",
            "kernel % of peak",
            "with transfers GFLOP/s",
            "up GB/s",
            "down GB/s",
            "host memory",
            &format!("× {GPU_REFERENCE}"),
        ]),
        vec![false, false, true, false, true, true, true, true, true, false, true],
        body,
    ));
}

/// The GPU's theoretical peak of `dtype`, if the runner recorded one.
fn gpu_peak(results: &Results, dtype: Dtype) -> Option<f64> {
    results.gpu_peaks.iter().find(|p| p.dtype == dtype).map(|p| p.gflops)
}

/// What the GPU table's % of peak is taken against, or why it has none.
fn gpu_peak_sentence(results: &Results) -> String {
    if results.gpu_peaks.is_empty() {
        return "No % of peak: no GPU peak was recorded (a compute capability outside matmul-cuda's table, or \
                results from before it), and the CPU's does not apply."
            .to_owned();
    }
    let parts: Vec<String> = results
        .gpu_peaks
        .iter()
        .map(|p| format!("{} {:.1} TFLOP/s ({})", p.dtype, p.gflops / 1000.0, p.basis))
        .collect();
    format!(
        "% of peak: kernel only, against the theoretical peak of the {}: {}; the f64 figure is the tensor cores' \
         where they outrun the FMA units, so an FMA-only f64 kernel tops out near half of it.",
        results.gpu_peaks[0].device,
        parts.join("; ")
    )
}

fn skipped_section(results: &Results, doc: &mut Vec<Block>) {
    doc.push(Block::Heading(2, "Skipped".to_owned()));
    if results.skipped.is_empty() {
        doc.push(Block::Para("Nothing was skipped.".to_owned()));
        return;
    }
    // Group by everything but the size; the first reason stands for the group.
    type Group = (String, Dtype, usize, Layouts, Experiment);
    let mut groups: BTreeMap<Group, (Vec<String>, String)> = BTreeMap::new();
    for s in &results.skipped {
        let e = groups
            .entry((s.backend.clone(), s.dtype, s.threads, s.layout, s.experiment))
            .or_insert((Vec::new(), s.reason.clone()));
        // Each runner process (one per BLAS library) reports its own skips: list a size once.
        let size =
            s.shape.map_or("all".to_owned(), |sh| if sh.is_square() { sh.n.to_string() } else { sh.to_string() });
        if !e.0.contains(&size) {
            e.0.push(size);
        }
    }
    // Count what the list shows (each point once), not every runner's copy of it.
    let points: usize = groups.values().map(|(sizes, _)| sizes.len()).sum();
    let items = groups
        .into_iter()
        .map(|((b, d, t, l, e), (sizes, why))| {
            format!("{b}, {d}, {}, {l} ({e}), n = {}: {why}", thread_word(t), sizes.join(", "))
        })
        .collect();
    let noun = if points == 1 { "point" } else { "points" };
    doc.push(Block::Details(format!("{points} {noun} skipped"), vec![Block::List(items)]));
}

/// Markdown.
pub fn markdown(doc: &[Block]) -> String {
    let mut s = String::new();
    markdown_into(doc, &mut s);
    s
}

fn markdown_into(doc: &[Block], s: &mut String) {
    for b in doc {
        match b {
            Block::Heading(level, text) => {
                let _ = writeln!(s, "{} {text}\n", "#".repeat(*level));
            }
            Block::Para(text) => {
                let _ = writeln!(s, "{text}\n");
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(s, "- {i}");
                }
                s.push('\n');
            }
            Block::Table(header, right, rows) => {
                let _ = writeln!(s, "| {} |", header.join(" | "));
                let seps: Vec<&str> = right.iter().map(|&r| if r { "---:" } else { "---" }).collect();
                let _ = writeln!(s, "|{}|", seps.join("|"));
                for row in rows {
                    let _ = writeln!(s, "| {} |", row.join(" | "));
                }
                s.push('\n');
            }
            Block::Figure(file, caption) => {
                let _ = writeln!(s, "![{caption}]({file})\n");
            }
            Block::Details(summary, inner) => {
                // GitHub renders markdown inside <details> when blank lines surround it.
                let _ = writeln!(s, "<details><summary>{}</summary>\n", escape(summary));
                markdown_into(inner, s);
                s.push_str("</details>\n\n");
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The little inline markdown the report uses: `code` and **bold**.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(text).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, p) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<b>{p}</b>");
                } else {
                    out.push_str(p);
                }
            }
        }
    }
    out
}

/// Self-contained HTML: the SVGs read from `dir` and inlined.
pub fn html(doc: &[Block], dir: &Path) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>matmul benchmark report</title>\n\
         <style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4}\
         table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px}\
         th{background:#f3f3f3}td.r{text-align:right;font-variant-numeric:tabular-nums}\
         figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555}\
         details{margin:0.5em 0}summary{cursor:pointer;color:#1f4e99}\
         pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></head><body>\n",
    );
    html_into(doc, dir, &mut s);
    s.push_str("</body></html>\n");
    s
}

fn html_into(doc: &[Block], dir: &Path, s: &mut String) {
    for b in doc {
        match b {
            Block::Heading(level, text) => {
                let _ = writeln!(s, "<h{level}>{}</h{level}>", inline(text));
            }
            Block::Para(text) if text.starts_with('|') => {
                // A pre-rendered markdown table (the baseline comparison).
                let _ = writeln!(s, "<pre>{}</pre>", escape(text));
            }
            Block::Para(text) => {
                let _ = writeln!(s, "<p>{}</p>", inline(text));
            }
            Block::List(items) => {
                s.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(s, "<li>{}</li>", inline(i));
                }
                s.push_str("</ul>\n");
            }
            Block::Table(header, right, rows) => {
                s.push_str("<table><tr>");
                for h in header {
                    let _ = write!(s, "<th>{}</th>", inline(h));
                }
                s.push_str("</tr>\n");
                for row in rows {
                    s.push_str("<tr>");
                    for (cell, &r) in row.iter().zip(right) {
                        let _ = write!(s, "<td{}>{}</td>", if r { " class=\"r\"" } else { "" }, inline(cell));
                    }
                    s.push_str("</tr>\n");
                }
                s.push_str("</table>\n");
            }
            Block::Figure(file, caption) => {
                let svg = std::fs::read_to_string(dir.join(file))
                    .map(|svg| svg.trim_start_matches(|c| c != '<').to_owned())
                    .unwrap_or_else(|e| format!("<p>(figure {file} missing: {})</p>", escape(&e.to_string())));
                let _ = writeln!(s, "<figure>{svg}<figcaption>{}</figcaption></figure>", inline(caption));
            }
            Block::Details(summary, inner) => {
                let _ = writeln!(s, "<details><summary>{}</summary>", inline(summary));
                html_into(inner, dir, s);
                s.push_str("</details>\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::merge::tests::{info, measurement};
    use matmul_bench_format::runner::{GpuFigures, GpuPeak};

    fn row(backend: &str, n: usize) -> Row {
        let m = measurement(backend, n, 1.0);
        Row {
            gflops: m.gflops(),
            measured: m,
            peak_fraction: None,
            ratio_to_best_blas: None,
            best_blas: None,
            ratio_across_processes: false,
        }
    }

    #[test]
    fn the_summary_size_is_the_largest_every_backend_ran() {
        let rows = [row("a", 4), row("a", 16), row("a", 64), row("b", 4), row("b", 16), row("c", 16), row("c", 64)];
        let refs: Vec<&Row> = rows.iter().collect();
        assert_eq!(largest_common_size(&refs), Some(16));
        assert_eq!(largest_common_size(&[]), None);
    }

    #[test]
    fn the_cold_first_call_table_lists_only_first_calls() {
        let mut results = Results::default();
        let mut cold = row("cublas", 64);
        cold.measured.first_call_seconds = Some(0.5);
        results.results = vec![cold, row("cublas", 128), row("simd", 64)];
        let mut doc = Vec::new();
        first_call_section(&results, &mut doc);
        let Some(Block::Table(_, _, body)) = doc.last() else { panic!("{doc:?}") };
        assert_eq!(body.len(), 1);
        assert_eq!(body[0][0], "cublas");
        assert_eq!(body[0][2], "64×64×64");
        // Results without the field: no section at all.
        results.results.remove(0);
        let mut doc = Vec::new();
        first_call_section(&results, &mut doc);
        assert!(doc.is_empty());
    }

    fn gpu_row(backend: &str, n: usize, with_transfers: f64, kernel: Option<f64>) -> Row {
        let mut r = row(backend, n);
        r.measured.seconds_median = r.measured.shape().flops() / with_transfers / 1e9;
        r.gflops = r.measured.gflops();
        r.measured.gpu = kernel.map(|gflops| GpuFigures {
            kernel_seconds_median: r.measured.shape().flops() / gflops / 1e9,
            kernel_seconds_min: r.measured.shape().flops() / gflops / 1e9,
            h2d_gbps: 21.04,
            d2h_gbps: 19.96,
            pinned: true,
        });
        r
    }

    fn gpu_results(rows: Vec<Row>) -> Results {
        Results {
            backends: vec![
                info("cublas", Kind::Gpu),
                info("cuda-regtile", Kind::Gpu),
                info("cuda-naive", Kind::Gpu),
                info("simd", Kind::Simd),
            ],
            results: rows,
            ..Results::default()
        }
    }

    fn gpu_table(results: &Results) -> Vec<Vec<String>> {
        let mut doc = Vec::new();
        gpu_section(results, &mut doc);
        assert!(matches!(&doc[0], Block::Heading(2, h) if h == "GPU"), "{doc:?}");
        let Some(Block::Table(header, _, body)) = doc.last() else { panic!("{doc:?}") };
        assert_eq!(header.len(), body[0].len());
        body.clone()
    }

    #[test]
    fn the_gpu_table_gives_kernel_only_beside_with_transfers_and_the_ratio_to_cublas() {
        let results = gpu_results(vec![
            gpu_row("cublas", 4096, 20_000.0, Some(50_000.0)),
            gpu_row("cuda-regtile", 4096, 15_000.0, Some(35_000.0)),
            gpu_row("cuda-regtile", 8192, 18_000.0, Some(35_500.0)),
            row("simd", 4096),
        ]);
        let body = gpu_table(&results);
        assert_eq!(body.len(), 3, "the CPU row is not listed: {body:?}");
        let regtile = body.iter().find(|r| r[0] == "cuda-regtile" && r[2] == "4096×4096×4096").unwrap();
        assert_eq!(&regtile[4..], ["35000", "–", "15000", "21.0", "20.0", "pinned", "0.70×"]);
        let cublas = body.iter().find(|r| r[0] == "cublas").unwrap();
        assert_eq!(cublas[10], "1.00×");
        // No cuBLAS row at 8192: no ratio there.
        let big = body.iter().find(|r| r[2] == "8192×8192×8192").unwrap();
        assert_eq!(big[10], "–");
    }

    #[test]
    fn with_a_gpu_peak_the_table_gives_kernel_percent_of_peak() {
        let mut results = gpu_results(vec![gpu_row("cublas", 4096, 20_000.0, Some(50_000.0))]);
        results.gpu_peaks = vec![GpuPeak {
            device: "NVIDIA H200".into(),
            dtype: Dtype::F64,
            gflops: 66_908.16,
            basis: "132 SMs × 1980 MHz × 128 FP64 tensor-core FMA/clk × 2".into(),
        }];
        let body = gpu_table(&results);
        assert_eq!(body[0][5], "74.7", "{body:?}");
        let mut doc = Vec::new();
        gpu_section(&results, &mut doc);
        let Block::Para(text) = &doc[1] else { panic!("{doc:?}") };
        assert!(text.contains("NVIDIA H200: f64 66.9 TFLOP/s (132 SMs × 1980 MHz"), "{text}");
        // An f32 row has no f32 peak recorded here: a dash.
        results.gpu_peaks[0].dtype = Dtype::F32;
        assert_eq!(gpu_table(&results)[0][5], "–");
    }

    #[test]
    fn a_gpu_row_without_kernel_figures_shows_dashes() {
        let results =
            gpu_results(vec![gpu_row("cublas", 64, 100.0, Some(400.0)), gpu_row("cuda-naive", 64, 80.0, None)]);
        let body = gpu_table(&results);
        let naive = body.iter().find(|r| r[0] == "cuda-naive").unwrap();
        assert_eq!(naive[4], "–");
        assert_eq!(naive[6], "80.0");
        assert_eq!(&naive[7..], ["–", "–", "–", "–"]);
    }

    #[test]
    fn without_gpu_rows_there_is_no_gpu_section() {
        let mut doc = Vec::new();
        gpu_section(&gpu_results(vec![row("simd", 64)]), &mut doc);
        assert!(doc.is_empty(), "{doc:?}");
        // A GPU backend listed but never measured (skipped here): no section either.
        gpu_section(&gpu_results(Vec::new()), &mut doc);
        assert!(doc.is_empty(), "{doc:?}");
    }

    #[test]
    fn rates_keep_three_significant_digits_below_one() {
        assert_eq!(gf(0.000_123_4), "0.000123");
        assert_eq!(gf(0.5), "0.500");
        assert_eq!(gf(0.0), "0.00");
        assert_eq!((gf(4.5678), gf(45.678), gf(456.78)), ("4.57".into(), "45.7".into(), "457".into()));
    }
}
