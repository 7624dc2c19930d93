//! `report.md` and `report.html` from the merged results: one document model rendered
//! twice, so the two never disagree. The HTML inlines the SVG figures (self-contained).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::schema::{Results, Row};

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
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn err_cell(r: &Row) -> String {
    let pass = r.max_err_over_bound <= 1.0;
    format!("{:.2e}{}", r.max_err_over_bound, if pass { "" } else { " **FAIL**" })
}

/// File names of the figures of one sweep group and of the layout experiment.
pub fn time_svg(dtype: &str, threads: usize) -> String {
    format!("time_{dtype}_t{threads}.svg")
}
pub fn gflops_svg(dtype: &str, threads: usize) -> String {
    format!("gflops_{dtype}_t{threads}.svg")
}
pub fn layout_svg(dtype: &str) -> String {
    format!("layout_{dtype}.svg")
}

/// The (dtype, threads) groups of the sweep, in order.
pub fn sweep_groups(results: &Results) -> Vec<(String, usize)> {
    let mut g: Vec<(String, usize)> =
        results.results.iter().filter(|r| r.experiment == "sweep").map(|r| (r.dtype.clone(), r.threads)).collect();
    g.sort();
    g.dedup();
    g
}

/// The dtypes of the layout experiment.
pub fn layout_dtypes(results: &Results) -> Vec<String> {
    let mut d: Vec<String> =
        results.results.iter().filter(|r| r.experiment == "layout").map(|r| r.dtype.clone()).collect();
    d.sort();
    d.dedup();
    d
}

/// Builds the report. `comparison` is the rendered baseline comparison, if one was asked for.
pub fn build(results: &Results, comparison: Option<&str>) -> Vec<Block> {
    let mut doc = Vec::new();
    let m = &results.machine;
    doc.push(Block::Heading(1, "matmul benchmark report".to_owned()));
    let mut line = format!(
        "**Machine:** {}, {} cores; CPU features detected at run time: {}. **Code generation:** {}",
        m.cpu,
        m.cores,
        if m.features.is_empty() { "none of interest".to_owned() } else { m.features.join(", ") },
        m.codegen.as_deref().unwrap_or("unknown"),
    );
    if !m.compiled_features.is_empty() {
        let _ = write!(line, " (compiled for: {})", m.compiled_features.join(", "));
    }
    line.push('.');
    doc.push(Block::Para(line));
    if m.peak_gflops.is_empty() {
        doc.push(Block::Para("The peak was not measured: no % of peak.".to_owned()));
    } else {
        let mut p =
            String::from("**Peak** (FMA-throughput microbenchmark, 12 independent chains per thread, best of 3): ");
        let parts: Vec<String> = m
            .peak_gflops
            .iter()
            .map(|(d, v)| {
                let method = m.peak_method.get(d);
                format!(
                    "{d} {} GFLOP/s on 1 thread, {} on {} ({}{})",
                    gf(v.get("1").copied().unwrap_or(f64::NAN)),
                    gf(v.get("all").copied().unwrap_or(f64::NAN)),
                    thread_word(m.cores),
                    method.map_or("", |x| x.isa.as_str()),
                    match (method.and_then(|x| x.theoretical_one), m.ghz) {
                        (Some(t), Some(g)) => format!(
                            "; theoretical 1 core: 2 FMA units × lanes × 2 flops × {g:.2} GHz nominal = {} GFLOP/s",
                            gf(t)
                        ),
                        _ => String::new(),
                    }
                )
            })
            .collect();
        p.push_str(&parts.join("; "));
        p.push('.');
        let shared = m.peak_gflops.values().any(|v| match (v.get("1"), v.get("all")) {
            (Some(one), Some(all)) => *all < one * m.cores as f64 * 0.8,
            _ => false,
        });
        if shared && m.cores > 1 {
            p.push_str(
                " The all-cores peak is well below cores × the 1-core peak: other processes were using the cores                  while it ran, so multi-threaded % of peak is an upper estimate. The nominal clock understates a                  boosting CPU, so the measured 1-core peak may exceed the theoretical one.",
            );
        }
        doc.push(Block::Para(p));
    }
    let settings = results.settings.as_ref();
    let get = |k: &str| settings.and_then(|s| s.get(k)).and_then(|v| v.as_f64());
    doc.push(Block::Para(format!(
        "**Method.** Each point: one warm-up call per backend (also checked), then rounds in which every backend runs \
         a batch of calls in turn (A B C, B C A, …) so the machine's drift hits all alike, until each has at least {} \
         samples and {} s of calls; a sample is a batch's mean time per call. GFLOP/s = 2·m·n·k / median. Inputs are \
         seeded uniform random numbers in [−1, 1), generated once per size; C starts as NaN. Accuracy is the worst \
         |error| / bound over every entry of C up to 64×64 and 1024 sampled entries above, against the compensated \
         reference (≤ 1 is correct). A backend is skipped at a size where one call is predicted (∝ n³ from the size \
         before) to take over {} s.",
        get("min_samples").unwrap_or(3.0),
        get("min_time_s").unwrap_or(f64::NAN),
        get("max_call_s").unwrap_or(f64::NAN),
    )));
    let mut notes = Vec::new();
    let single: Vec<&str> = results.backends.iter().filter(|b| !b.multithreaded).map(|b| b.name.as_str()).collect();
    if !single.is_empty() && sweep_groups(results).iter().any(|g| g.1 > 1) {
        notes.push(format!(
            "Single-threaded backends ({}) run at 1 thread only; the multi-threaded tables omit them.",
            single.join(", ")
        ));
    }
    let blas: Vec<&str> = results.backends.iter().filter(|b| b.kind == "blas").map(|b| b.name.as_str()).collect();
    if blas.is_empty() {
        notes.push(
            "No BLAS backend was compiled into the runner, so the ratio-to-best-BLAS column is empty.".to_owned(),
        );
    } else {
        notes.push(format!(
            "The ratio to the best BLAS ({}) comes from interleaved runs in one process. Two BLAS libraries cannot \
             be linked into one binary, so each was measured in its own runner process; every other row is taken \
             from the process of the fastest BLAS at that point, and a BLAS library's ratio to a BLAS of another \
             process (marked †) crosses processes. To keep the run short, the layout experiment runs the \
             pure-Rust backends and peers in the first runner process only, so there a ratio marked † may \
             belong to any row.",
            blas.join(", ")
        ));
    }
    notes.push(
        "`peer:gemm` (the gemm crate, behind faer) and `peer:matrixmultiply` (behind ndarray) run in the same \
         process on the same inputs. matrixmultiply reads its thread count once per process (MATMUL_NUM_THREADS, \
         at most 4), so xtask runs one runner process per thread count."
            .to_owned(),
    );
    doc.push(Block::List(notes));

    for (dtype, threads) in sweep_groups(results) {
        sweep_section(results, &dtype, threads, &mut doc);
    }
    let ldtypes = layout_dtypes(results);
    if !ldtypes.is_empty() {
        doc.push(Block::Heading(2, "Layout experiment".to_owned()));
        doc.push(Block::Para(
            "Every combination of row-major (r) and column-major (c) for A, B and C, at one size and 1 thread: how \
             loop order and layout interact. naive-ijk walks a row of A and a column of B (fast when A is r and B is \
             c); naive-ikj walks rows of B and C (fast when B and C are r). GFLOP/s per backend."
                .to_owned(),
        ));
        for dtype in &ldtypes {
            layout_section(results, dtype, &mut doc);
        }
    }
    accuracy_section(results, &mut doc);
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

fn sweep_section(results: &Results, dtype: &str, threads: usize, doc: &mut Vec<Block>) {
    let rows: Vec<&Row> = results
        .results
        .iter()
        .filter(|r| r.experiment == "sweep" && r.dtype == dtype && r.threads == threads)
        .collect();
    doc.push(Block::Heading(2, format!("{dtype}, {}", thread_word(threads))));
    let backends: Vec<&str> =
        results.backends.iter().map(|b| b.name.as_str()).filter(|n| rows.iter().any(|r| r.backend == *n)).collect();
    let mut layouts: Vec<&str> = rows.iter().map(|r| r.layout.as_str()).collect();
    layouts.sort_unstable();
    layouts.dedup();
    // The overview: GFLOP/s, sizes down, backends across.
    let mut sizes: Vec<usize> = rows.iter().map(|r| r.n).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for layout in &layouts {
        let mut header = vec![format!("n ({layout})")];
        header.extend(backends.iter().map(|b| format!("{b} GFLOP/s")));
        let body: Vec<Vec<String>> = sizes
            .iter()
            .map(|&n| {
                let mut row = vec![n.to_string()];
                for b in &backends {
                    row.push(
                        rows.iter()
                            .find(|r| r.n == n && r.backend == *b && r.layout == *layout)
                            .map_or("skipped".to_owned(), |r| gf(r.gflops)),
                    );
                }
                row
            })
            .collect();
        let right = vec![true; header.len()];
        doc.push(Block::Table(header, right, body));
    }
    // The details: every number of every row.
    doc.push(Block::Para("Details (median and minimum time per call; % of the measured peak; ratio to the best BLAS at that point; worst error / bound):".to_owned()));
    let header: Vec<String> =
        ["n", "layout", "backend", "median", "min", "GFLOP/s", "% peak", "× best BLAS", "err/bound"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let right = vec![true, false, false, true, true, true, true, true, true];
    let body = rows
        .iter()
        .map(|r| {
            vec![
                r.n.to_string(),
                r.layout.clone(),
                r.backend.clone(),
                human_time(r.seconds_median),
                human_time(r.seconds_min),
                gf(r.gflops),
                r.peak_fraction.map_or("–".to_owned(), |p| format!("{:.1}%", 100.0 * p)),
                ratio_cell(r),
                err_cell(r),
            ]
        })
        .collect();
    doc.push(Block::Table(header, right, body));
    doc.push(Block::Figure(time_svg(dtype, threads), format!("{dtype}, {}: time per call vs n", thread_word(threads))));
    doc.push(Block::Figure(gflops_svg(dtype, threads), format!("{dtype}, {}: GFLOP/s vs n", thread_word(threads))));
}

fn ratio_cell(r: &Row) -> String {
    match (r.ratio_to_best_blas, &r.best_blas) {
        (Some(x), Some(name)) => format!("{x:.2}× {name}{}", if r.ratio_across_processes { " †" } else { "" }),
        _ => "–".to_owned(),
    }
}

fn layout_section(results: &Results, dtype: &str, doc: &mut Vec<Block>) {
    let rows: Vec<&Row> = results.results.iter().filter(|r| r.experiment == "layout" && r.dtype == dtype).collect();
    let n = rows.first().map_or(0, |r| r.n);
    doc.push(Block::Heading(3, format!("{dtype}, n = {n}, 1 thread (GFLOP/s)")));
    let backends: Vec<&str> = results
        .backends
        .iter()
        .map(|b| b.name.as_str())
        .filter(|name| rows.iter().any(|r| r.backend == *name))
        .collect();
    let mut header = vec!["A B C".to_owned()];
    header.extend(backends.iter().map(|b| b.to_string()));
    header.push("worst err/bound".to_owned());
    let mut body = Vec::new();
    for layout in ["rrr", "rrc", "rcr", "rcc", "crr", "crc", "ccr", "ccc"] {
        let here: Vec<&&Row> = rows.iter().filter(|r| r.layout == layout).collect();
        if here.is_empty() {
            continue;
        }
        let mut row = vec![layout.chars().map(|c| c.to_string()).collect::<Vec<_>>().join(" ")];
        for b in &backends {
            row.push(here.iter().find(|r| r.backend == *b).map_or("skipped".to_owned(), |r| gf(r.gflops)));
        }
        let worst =
            here.iter().map(|r| r.max_err_over_bound).fold(0.0f64, |a, b| if b.is_nan() { b } else { a.max(b) });
        row.push(format!("{worst:.2e}{}", if worst <= 1.0 { "" } else { " **FAIL**" }));
        body.push(row);
    }
    let mut right = vec![true; header.len()];
    right[0] = false;
    doc.push(Block::Table(header, right, body));
    doc.push(Block::Figure(layout_svg(dtype), format!("{dtype}: the layout experiment")));
}

fn accuracy_section(results: &Results, doc: &mut Vec<Block>) {
    doc.push(Block::Heading(2, "Accuracy".to_owned()));
    let mut worst: BTreeMap<(String, String), (f64, usize)> = BTreeMap::new();
    for r in &results.results {
        let e = worst.entry((r.backend.clone(), r.dtype.clone())).or_insert((0.0, 0));
        if r.max_err_over_bound > e.0 || r.max_err_over_bound.is_nan() {
            e.0 = r.max_err_over_bound;
        }
        e.1 += 1;
    }
    let failing =
        results.results.iter().filter(|r| r.max_err_over_bound.is_nan() || r.max_err_over_bound > 1.0).count();
    doc.push(Block::Para(format!(
        "Worst error / bound of each backend over every measured point ({}). The bound is γ_(k+2)·(|α||A||B| + |β||C₀|) \
         plus the reference's own error (crates/matmul-core/src/reference.rs).",
        if failing == 0 { "all within the bound".to_owned() } else { format!("**{failing} points over the bound**") }
    )));
    let body = worst
        .into_iter()
        .map(|((b, d), (w, n))| {
            vec![b, d, n.to_string(), format!("{w:.2e}"), if w <= 1.0 { "PASS" } else { "FAIL" }.to_owned()]
        })
        .collect();
    doc.push(Block::Table(
        ["backend", "dtype", "points", "worst err/bound", ""].iter().map(|s| s.to_string()).collect(),
        vec![false, false, true, true, false],
        body,
    ));
}

fn skipped_section(results: &Results, doc: &mut Vec<Block>) {
    doc.push(Block::Heading(2, "Skipped".to_owned()));
    if results.skipped.is_empty() {
        doc.push(Block::Para("Nothing was skipped.".to_owned()));
        return;
    }
    // Group by everything but the size; the first reason stands for the group.
    type Group = (String, String, usize, String, String);
    let mut groups: BTreeMap<Group, (Vec<String>, String)> = BTreeMap::new();
    for s in &results.skipped {
        let e = groups
            .entry((s.backend.clone(), s.dtype.clone(), s.threads, s.layout.clone(), s.experiment.clone()))
            .or_insert((Vec::new(), s.reason.clone()));
        // Each runner process (one per BLAS library) reports its own skips: list a size once.
        let size = s.n.map_or("all".to_owned(), |n| n.to_string());
        if !e.0.contains(&size) {
            e.0.push(size);
        }
    }
    let items = groups
        .into_iter()
        .map(|((b, d, t, l, e), (sizes, why))| {
            format!("{b}, {d}, {}, {l} ({e}), n = {}: {why}", thread_word(t), sizes.join(", "))
        })
        .collect();
    doc.push(Block::List(items));
}

/// Markdown.
pub fn markdown(doc: &[Block]) -> String {
    let mut s = String::new();
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
        }
    }
    s
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
         pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></head><body>\n",
    );
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
        }
    }
    s.push_str("</body></html>\n");
    s
}
