//! Comparing a run with a baseline, point by point.
//!
//! A point regressed when it got slower than the threshold by **both** its median and its
//! minimum time: on a shared machine one of the two often moves by itself (a burst of
//! other work inflates the median; a lucky quiet moment deflates the minimum), while a
//! real slowdown moves both.

use std::fmt::Write as _;

use super::schema::{Key, Results, Row};

/// One matching point.
#[derive(Clone, Debug, PartialEq)]
pub struct PointRatio {
    pub key: Key,
    /// New speed over old by median time (> 1: faster now).
    pub median: f64,
    /// New speed over old by minimum time.
    pub min: f64,
    /// Slower than the threshold by both.
    pub regressed: bool,
}

/// The comparison of two runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    pub points: Vec<PointRatio>,
    /// Points of the baseline the new run does not have.
    pub missing: usize,
    /// Points of the new run the baseline does not have.
    pub new: usize,
    pub threshold: f64,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.points.iter().filter(|p| p.regressed).count()
    }

    /// One line per point, then a summary.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "| backend | dtype | n | threads | layout | experiment | speed (median) | speed (min) | |");
        let _ = writeln!(s, "|---|---|---:|---:|---|---|---:|---:|---|");
        for p in &self.points {
            let (backend, dtype, _m, n, _k, threads, layout, exp) = &p.key;
            let _ = writeln!(
                s,
                "| {backend} | {dtype} | {n} | {threads} | {layout} | {exp} | {:.3}× | {:.3}× | {} |",
                p.median,
                p.min,
                if p.regressed { "**REGRESSED**" } else { "ok" }
            );
        }
        let _ = writeln!(
            s,
            "\n{} points compared, {} regressed (slower by more than {:.0}% by both median and minimum); \
             {} baseline points missing, {} new.",
            self.points.len(),
            self.regressions(),
            self.threshold * 100.0,
            self.missing,
            self.new
        );
        s
    }
}

/// Whether a time ratio `new / old` is slower than the threshold allows.
pub fn slower(time_ratio: f64, threshold: f64) -> bool {
    time_ratio > 1.0 + threshold
}

/// Compares `new` with `old`; `threshold` is a fraction (0.1 = 10%).
pub fn compare(new: &Results, old: &Results, threshold: f64) -> Comparison {
    let mut out = Comparison { threshold, ..Comparison::default() };
    let old_rows: std::collections::HashMap<Key, &Row> = old.results.iter().map(|r| (r.key(), r)).collect();
    for r in &new.results {
        let Some(o) = old_rows.get(&r.key()) else {
            out.new += 1;
            continue;
        };
        // gflops is 2mnk / median: its ratio is the inverse ratio of the median times.
        let median = r.gflops / o.gflops;
        let min = o.seconds_min / r.seconds_min;
        out.points.push(PointRatio {
            key: r.key(),
            median,
            min,
            regressed: slower(1.0 / median, threshold) && slower(1.0 / min, threshold),
        });
    }
    let new_keys: std::collections::HashSet<Key> = new.results.iter().map(|r| r.key()).collect();
    out.missing = old.results.iter().filter(|r| !new_keys.contains(&r.key())).count();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::merge::tests::row;

    fn results(rows: Vec<Row>) -> Results {
        Results { schema: 1, results: rows, ..Results::default() }
    }

    /// The baseline ran `factor` times faster on every point: GFLOP/s multiplied, both
    /// times divided.
    fn faster(r: &Results, factor: f64) -> Results {
        let mut r = r.clone();
        for row in &mut r.results {
            row.gflops *= factor;
            row.seconds_median /= factor;
            row.seconds_min /= factor;
        }
        r
    }

    #[test]
    fn slower_by_both_median_and_min_is_a_regression() {
        let old = results(vec![row("a", 64, 10.0), row("b", 64, 10.0), row("c", 64, 10.0), row("gone", 64, 1.0)]);
        let mut new = results(vec![row("a", 64, 10.0), row("b", 64, 8.0), row("c", 64, 8.0), row("new", 64, 1.0)]);
        // b: slower by median only (its minimum held), so noise, not a regression.
        new.results[1].seconds_min = old.results[1].seconds_min;
        let c = compare(&new, &old, 0.10);
        assert_eq!(c.points.len(), 3);
        assert_eq!((c.missing, c.new), (1, 1));
        assert!(!c.points[0].regressed && (c.points[0].median - 1.0).abs() < 1e-12);
        assert!(!c.points[1].regressed, "{:?}", c.points[1]);
        assert!(c.points[2].regressed && (c.points[2].median - 0.8).abs() < 1e-12);
        assert_eq!(c.regressions(), 1);
        // 8 vs 10 is 25% more time: under a 30% threshold it passes.
        assert_eq!(compare(&new, &old, 0.30).regressions(), 0);
        assert!(c.render().contains("REGRESSED"));
    }

    /// A real runner output (a `--quick` run, committed) against itself passes, and against a
    /// baseline where every GFLOP/s is doubled, every point regresses.
    #[test]
    fn a_results_file_against_itself_and_against_a_doubled_baseline() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bench/testdata/quick-results.json");
        let run = Results::load(&path).unwrap();
        assert!(run.results.len() > 10);
        let same = compare(&run, &run, 0.10);
        assert_eq!(same.points.len(), run.results.len());
        assert_eq!(same.regressions(), 0);
        let doubled = faster(&run, 2.0);
        let c = compare(&run, &doubled, 0.10);
        assert_eq!(c.regressions(), run.results.len());
        // And the other way round, the new run is twice as fast: no regression.
        assert_eq!(compare(&doubled, &run, 0.10).regressions(), 0);
    }
}
