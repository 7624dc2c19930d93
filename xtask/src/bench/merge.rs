//! Merging the runner processes' outputs into one `results.json`, and deriving every
//! figure the report shows from the measurements, once: GFLOP/s, % of peak (kind-aware,
//! see [`peak_for`]) and the ratio to the best BLAS.
//!
//! Each runner build (one per BLAS library, since two cannot share a binary) contains the
//! pure-Rust backends and peers too, so those are measured in every build's process. For
//! each point the merge takes every row from the process that holds the fastest BLAS
//! backend at that point: there the ratios to the best BLAS come from interleaved runs in
//! one process. BLAS libraries of other builds keep their own rows; their ratio to the
//! best BLAS crosses processes and is marked `ratio_across_processes`.

use std::collections::{BTreeMap, BTreeSet};

use matmul_bench_format::results::{peak_for, Process, Provenance, Results, Row};
use matmul_bench_format::runner::{Key, Measurement, Peak, Point, RunnerOutput};
use matmul_bench_format::{Kind, SCHEMA};

/// One runner process's output, and which process it was.
#[derive(Debug)]
pub struct Partial {
    /// Its BLAS library (`rust` without one).
    pub build: String,
    pub threads: usize,
    pub file: String,
    pub output: RunnerOutput,
}

/// Merges the partials (in run order) into one file.
pub fn merge(partials: Vec<Partial>, provenance: Provenance) -> Results {
    let mut out = Results { schema: SCHEMA, provenance, ..Results::default() };
    if let Some(first) = partials.first() {
        out.machine = first.output.machine.clone();
        out.settings = first.output.settings.clone();
    }
    out.peaks = largest_peaks(&partials);
    // Every process ran on the same GPU: the first peak of each dtype stands for all.
    for p in partials.iter().flat_map(|p| &p.output.gpu_peaks) {
        if !out.gpu_peaks.iter().any(|q| q.dtype == p.dtype) {
            out.gpu_peaks.push(p.clone());
        }
    }
    for p in &partials {
        for b in &p.output.backends {
            if out.backend(&b.name).is_none() {
                out.backends.push(b.clone());
            }
        }
        out.processes.push(Process {
            build: p.build.clone(),
            threads: p.threads,
            file: p.file.clone(),
            peaks: p.output.peaks.clone(),
        });
    }
    let kind = |name: &str| out.backend(name).map(|b| b.kind);
    let best = best_blas(&partials, &kind);
    let mut rows: Vec<Row> = chosen(&partials, &best)
        .into_iter()
        .map(|(process, m)| {
            let gflops = m.gflops();
            let winner = best.get(&m.point());
            Row {
                gflops,
                peak_fraction: kind(&m.backend)
                    .and_then(|k| peak_for(k, m.dtype, m.threads, &out.peaks, &out.gpu_peaks))
                    .map(|p| gflops / p),
                ratio_to_best_blas: winner.map(|w| gflops / w.gflops),
                best_blas: winner.map(|w| w.backend.clone()),
                ratio_across_processes: winner.is_some_and(|w| w.process != process),
                measured: m.clone(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let key = |r: &Row| (r.measured.point(), r.measured.backend.clone());
        key(a).cmp(&key(b))
    });
    out.results = rows;
    out.skipped = skips(&partials, &out.results);
    out
}

/// Per dtype, the largest start and end peaks over every process (noise only ever
/// lowers a peak).
fn largest_peaks(partials: &[Partial]) -> Vec<Peak> {
    let mut peaks: Vec<Peak> = Vec::new();
    for p in partials.iter().flat_map(|p| &p.output.peaks) {
        match peaks.iter_mut().find(|q| q.dtype == p.dtype) {
            None => peaks.push(p.clone()),
            Some(q) => {
                q.start.one = q.start.one.max(p.start.one);
                q.start.all = q.start.all.max(p.start.all);
                q.end.one = q.end.one.max(p.end.one);
                q.end.all = q.end.all.max(p.end.all);
            }
        }
    }
    peaks.sort_by_key(|p| p.dtype);
    peaks
}

/// The fastest BLAS measurement of a point.
struct Best {
    process: usize,
    gflops: f64,
    backend: String,
}

fn best_blas(partials: &[Partial], kind: &impl Fn(&str) -> Option<Kind>) -> BTreeMap<Point, Best> {
    let mut best: BTreeMap<Point, Best> = BTreeMap::new();
    for (i, p) in partials.iter().enumerate() {
        for m in p.output.results.iter().filter(|m| kind(&m.backend) == Some(Kind::Blas)) {
            let g = m.gflops();
            if best.get(&m.point()).is_none_or(|b| g > b.gflops) {
                best.insert(m.point(), Best { process: i, gflops: g, backend: m.backend.clone() });
            }
        }
    }
    best
}

/// Each backend's measurement of each point once: from the process with the point's best
/// BLAS where it was measured there, else from the first process that measured it.
fn chosen<'a>(partials: &'a [Partial], best: &BTreeMap<Point, Best>) -> Vec<(usize, &'a Measurement)> {
    let mut taken: BTreeSet<Key> = BTreeSet::new();
    let mut out = Vec::new();
    for first_pass in [true, false] {
        for (i, p) in partials.iter().enumerate() {
            for m in &p.output.results {
                let from_winner = best.get(&m.point()).is_some_and(|w| w.process == i);
                if first_pass && !from_winner {
                    continue;
                }
                if taken.insert(m.key()) {
                    out.push((i, m));
                }
            }
        }
    }
    out
}

/// Every process's skips, each once, less those another process measured.
fn skips(partials: &[Partial], rows: &[Row]) -> Vec<matmul_bench_format::runner::Skip> {
    let measured: BTreeSet<Key> = rows.iter().map(|r| r.measured.key()).collect();
    let mut out = Vec::new();
    for s in partials.iter().flat_map(|p| &p.output.skipped) {
        let key = s.shape.map(|shape| {
            let point = Point { experiment: s.experiment, dtype: s.dtype, threads: s.threads, layout: s.layout, shape };
            (s.backend.clone(), point)
        });
        if key.is_some_and(|k| measured.contains(&k)) || out.contains(s) {
            continue;
        }
        out.push(s.clone());
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use matmul_bench_format::runner::{Availability, BackendInfo, GpuPeak, Machine, PeakRates, Settings};
    use matmul_bench_format::{Dtype, Experiment};

    pub(crate) fn measurement(backend: &str, n: usize, gflops: f64) -> Measurement {
        let s = 2.0 * (n as f64).powi(3) / gflops / 1e9;
        Measurement {
            backend: backend.to_owned(),
            dtype: Dtype::F64,
            experiment: Experiment::Sweep,
            m: n,
            n,
            k: n,
            threads: 1,
            threads_used: None,
            layout: matmul_bench_format::Layouts::ROW_MAJOR,
            seconds_median: s,
            seconds_min: s * 0.95,
            samples: 5,
            calls: 5,
            max_err_over_bound: 0.1,
            checked_entries: 1,
            first_call_seconds: None,
            gpu: None,
        }
    }

    pub(crate) fn info(name: &str, kind: Kind) -> BackendInfo {
        BackendInfo {
            name: name.to_owned(),
            kind,
            description: String::new(),
            details: String::new(),
            multithreaded: true,
            availability: Availability::Available,
            hot_loop: None,
        }
    }

    fn output(backends: Vec<BackendInfo>, results: Vec<Measurement>, peak_one: f64) -> RunnerOutput {
        RunnerOutput {
            schema: SCHEMA,
            machine: Machine::default(),
            peaks: vec![Peak {
                dtype: Dtype::F64,
                isa: "avx2".into(),
                cores: 2,
                start: PeakRates { one: peak_one, all: 2.0 * peak_one },
                end: PeakRates { one: peak_one / 2.0, all: peak_one },
            }],
            gpu_peaks: Vec::new(),
            backends,
            settings: Settings::default(),
            results,
            skipped: Vec::new(),
        }
    }

    fn partial(build: &str, blas: &str, rust_gflops: f64, blas_gflops: f64, peak_one: f64) -> Partial {
        Partial {
            build: build.to_owned(),
            threads: 1,
            file: format!("{build}.json"),
            output: output(
                vec![info("naive-ikj", Kind::Loops), info(blas, Kind::Blas)],
                vec![measurement("naive-ikj", 64, rust_gflops), measurement(blas, 64, blas_gflops)],
                peak_one,
            ),
        }
    }

    #[test]
    fn gpu_rows_take_the_gpu_peak_and_cpu_rows_the_cpu_peak() {
        let mut out = output(
            vec![info("naive-ikj", Kind::Loops), info("cublas", Kind::Gpu)],
            vec![measurement("naive-ikj", 64, 4.0), measurement("cublas", 64, 30_000.0)],
            40.0,
        );
        out.gpu_peaks =
            vec![GpuPeak { device: "NVIDIA H200".into(), dtype: Dtype::F64, gflops: 60_000.0, basis: String::new() }];
        let merged = merge(
            vec![Partial { build: "rust".into(), threads: 1, file: "rust.json".into(), output: out }],
            Provenance::default(),
        );
        assert_eq!(merged.gpu_peaks.len(), 1);
        let fraction = |b: &str| merged.results.iter().find(|r| r.measured.backend == b).unwrap().peak_fraction;
        assert!((fraction("cublas").unwrap() - 0.5).abs() < 1e-9);
        assert!((fraction("naive-ikj").unwrap() - 0.1).abs() < 1e-9);
    }

    #[test]
    fn rows_come_from_the_process_with_the_best_blas() {
        let merged = merge(
            vec![partial("openblas", "openblas", 1.0, 20.0, 40.0), partial("blis", "blis", 1.1, 30.0, 50.0)],
            Provenance::default(),
        );
        assert_eq!(merged.results.len(), 3, "{:#?}", merged.results);
        let row = |name: &str| merged.results.iter().find(|r| r.measured.backend == name).unwrap();
        // Taken from the blis process, where blis (the faster BLAS) ran interleaved with it.
        let rust = row("naive-ikj");
        assert!((rust.gflops - 1.1).abs() < 1e-9);
        assert_eq!(rust.best_blas.as_deref(), Some("blis"));
        assert!(!rust.ratio_across_processes);
        let ob = row("openblas");
        assert!(ob.ratio_across_processes);
        assert!((ob.ratio_to_best_blas.unwrap() - 20.0 / 30.0).abs() < 1e-9);
        // The peak is the largest over processes and over start and end: 50 on 1 thread.
        assert_eq!(merged.peaks[0].one(), 50.0);
        assert!((row("blis").peak_fraction.unwrap() - 30.0 / 50.0).abs() < 1e-9);
        assert_eq!(merged.processes.len(), 2);
    }

    #[test]
    fn a_gpu_row_gets_no_cpu_peak_fraction() {
        let p = Partial {
            build: "rust".into(),
            threads: 1,
            file: "rust.json".into(),
            output: output(
                vec![info("cuda", Kind::Gpu), info("naive-ikj", Kind::Loops)],
                vec![measurement("cuda", 64, 500.0), measurement("naive-ikj", 64, 1.0)],
                40.0,
            ),
        };
        let merged = merge(vec![p], Provenance::default());
        let cuda = merged.results.iter().find(|r| r.measured.backend == "cuda").unwrap();
        assert_eq!(cuda.peak_fraction, None);
        assert_eq!(cuda.ratio_to_best_blas, None);
        let ikj = merged.results.iter().find(|r| r.measured.backend == "naive-ikj").unwrap();
        assert!((ikj.peak_fraction.unwrap() - 1.0 / 40.0).abs() < 1e-9);
    }
}
