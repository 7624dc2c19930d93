//! Merging the runner processes' partial results into one `results.json`.
//!
//! Each runner build (one per BLAS library, since two cannot share a binary) contains the
//! pure-Rust backends and peers too, so those are measured in every build's process. For
//! each point the merge takes every row from the process that holds the fastest BLAS
//! backend at that point: there the ratios to the best BLAS come from interleaved runs in
//! one process. BLAS libraries of other builds keep their own rows; their ratio to the
//! best BLAS crosses processes and is marked `ratio_across_processes`.

use std::collections::{BTreeMap, BTreeSet};

use super::schema::{Process, Results, Row};

/// One runner process's output.
#[derive(Debug)]
pub struct Partial {
    pub process: Process,
    pub results: Results,
}

type Point = (String, usize, usize, usize, usize, String, String);

/// Merges the partials (in run order) into one file.
pub fn merge(partials: Vec<Partial>, codegen: &str) -> Results {
    let mut out = Results { schema: super::schema::SCHEMA, ..Results::default() };
    // The machine line from the first process, the peak from the first that measured it.
    if let Some(first) = partials.first() {
        out.machine = first.results.machine.clone();
        out.settings = first.results.settings.clone();
    }
    if let Some(p) = partials.iter().find(|p| !p.results.machine.peak_gflops.is_empty()) {
        out.machine.peak_gflops = p.results.machine.peak_gflops.clone();
        out.machine.peak_method = p.results.machine.peak_method.clone();
    }
    out.machine.codegen = Some(codegen.to_owned());
    for p in &partials {
        for b in &p.results.backends {
            if !out.backends.iter().any(|x| x.name == b.name) {
                out.backends.push(b.clone());
            }
        }
        out.processes.push(p.process.clone());
    }
    let is_blas = |name: &str, out: &Results| out.backend_kind(name) == "blas";

    // Per point: which process has the fastest BLAS row, and its speed.
    let mut best: BTreeMap<Point, (usize, f64, String)> = BTreeMap::new();
    for (i, p) in partials.iter().enumerate() {
        for r in p.results.results.iter().filter(|r| is_blas(&r.backend, &out)) {
            let e = best.entry(r.point()).or_insert((i, r.gflops, r.backend.clone()));
            if r.gflops > e.1 {
                *e = (i, r.gflops, r.backend.clone());
            }
        }
    }
    let mut taken: BTreeSet<super::schema::Key> = BTreeSet::new();
    let mut rows: Vec<Row> = Vec::new();
    // First the winning process's rows of each point, then anything not yet taken
    // (other BLAS libraries, and points without any BLAS from the first process that has them).
    for pass in 0..2 {
        for (i, p) in partials.iter().enumerate() {
            for r in &p.results.results {
                let winner = best.get(&r.point());
                if pass == 0 && winner.is_none_or(|w| w.0 != i) {
                    continue;
                }
                if !taken.insert(r.key()) {
                    continue;
                }
                let mut r = r.clone();
                if let Some((wi, g, name)) = winner {
                    if *wi != i {
                        r.ratio_to_best_blas = Some(r.gflops / g);
                        r.best_blas = Some(name.clone());
                        r.ratio_across_processes = true;
                    }
                }
                rows.push(r);
            }
        }
    }
    rows.sort_by(|a, b| {
        (&a.experiment, &a.dtype, a.threads, &a.layout, a.n, a.m, a.k).cmp(&(
            &b.experiment,
            &b.dtype,
            b.threads,
            &b.layout,
            b.n,
            b.m,
            b.k,
        ))
    });
    // Processes run with --no-peak leave % of peak empty: fill it from the merged peak.
    let cores = out.machine.cores;
    for r in rows.iter_mut().filter(|r| r.peak_fraction.is_none()) {
        let Some(p) = out.machine.peak_gflops.get(&r.dtype) else { continue };
        let (Some(&one), Some(&all)) = (p.get("1"), p.get("all")) else { continue };
        let peak = if r.threads == 1 {
            one
        } else if r.threads >= cores {
            all
        } else {
            (one * r.threads as f64).min(all)
        };
        r.peak_fraction = Some(r.gflops / peak);
    }
    out.results = rows;
    for p in &partials {
        for s in &p.results.skipped {
            let measured = out.results.iter().any(|r| {
                r.backend == s.backend
                    && r.dtype == s.dtype
                    && Some(r.n) == s.n
                    && r.threads == s.threads
                    && r.layout == s.layout
                    && r.experiment == s.experiment
            });
            if !measured && !out.skipped.contains(s) {
                out.skipped.push(s.clone());
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bench::schema::BackendInfo;

    pub(crate) fn row(backend: &str, n: usize, gflops: f64) -> Row {
        let s = 2.0 * (n as f64).powi(3) / gflops / 1e9;
        Row {
            backend: backend.to_owned(),
            dtype: "f64".to_owned(),
            m: n,
            n,
            k: n,
            threads: 1,
            layout: "rrr".to_owned(),
            experiment: "sweep".to_owned(),
            seconds_median: s,
            seconds_min: s * 0.95,
            samples: 5,
            calls: 5,
            gflops,
            peak_fraction: None,
            max_err_over_bound: 0.1,
            checked_entries: 1,
            ratio_to_best_blas: None,
            best_blas: None,
            ratio_across_processes: false,
        }
    }

    fn partial(build: &str, blas: &str, rust_gflops: f64, blas_gflops: f64) -> Partial {
        let info = |name: &str, kind: &str| BackendInfo {
            name: name.to_owned(),
            kind: kind.to_owned(),
            description: String::new(),
            multithreaded: true,
        };
        let mut rust = row("naive-ikj", 64, rust_gflops);
        rust.ratio_to_best_blas = Some(rust_gflops / blas_gflops);
        rust.best_blas = Some(blas.to_owned());
        let mut b = row(blas, 64, blas_gflops);
        b.ratio_to_best_blas = Some(1.0);
        b.best_blas = Some(blas.to_owned());
        Partial {
            process: Process { build: build.to_owned(), threads: 1, file: format!("{build}.json") },
            results: Results {
                schema: 1,
                backends: vec![info("naive-ikj", "loops"), info(blas, "blas")],
                results: vec![rust, b],
                ..Results::default()
            },
        }
    }

    #[test]
    fn rows_come_from_the_process_with_the_best_blas() {
        let merged =
            merge(vec![partial("openblas", "openblas", 1.0, 20.0), partial("blis", "blis", 1.1, 30.0)], "native");
        assert_eq!(merged.results.len(), 3, "{:#?}", merged.results);
        let rust = merged.results.iter().find(|r| r.backend == "naive-ikj").unwrap();
        // Taken from the blis process, where blis (the faster BLAS) ran interleaved with it.
        assert_eq!(rust.gflops, 1.1);
        assert_eq!(rust.best_blas.as_deref(), Some("blis"));
        assert!(!rust.ratio_across_processes);
        let ob = merged.results.iter().find(|r| r.backend == "openblas").unwrap();
        assert!(ob.ratio_across_processes);
        assert!((ob.ratio_to_best_blas.unwrap() - 20.0 / 30.0).abs() < 1e-12);
        assert_eq!(merged.processes.len(), 2);
    }
}
