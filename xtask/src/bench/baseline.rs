//! Comparing a run with a baseline, point by point.
//!
//! A point regressed when it got slower than the threshold by **both** its median and its
//! minimum time: on a shared machine one of the two often moves by itself (a burst of
//! other work inflates the median; a lucky quiet moment deflates the minimum), while a
//! real slowdown moves both. A point measured on one side only is listed, and fails the
//! comparison unless it is allowed (`--allow-missing`): a point that silently disappears
//! could hide a regression.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use matmul_bench_format::runner::{Key, Measurement};

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
    pub missing_now: Vec<Key>,
    /// Points of the new run the baseline does not have.
    pub missing_in_baseline: Vec<Key>,
    pub threshold: f64,
}

/// `backend dtype experiment layout t=… m×n×k`.
pub fn describe(key: &Key) -> String {
    let (backend, p) = key;
    format!("{backend} {} {} {} t={} {}", p.dtype, p.experiment, p.layout, p.threads, p.shape)
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.points.iter().filter(|p| p.regressed).count()
    }

    pub fn missing(&self) -> usize {
        self.missing_now.len() + self.missing_in_baseline.len()
    }

    /// One line per point, the points on one side only, then a summary.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ =
            writeln!(s, "| backend | dtype | m×n×k | threads | layout | experiment | speed (median) | speed (min) | |");
        let _ = writeln!(s, "|---|---|---:|---:|---|---|---:|---:|---|");
        for p in &self.points {
            let (backend, pt) = &p.key;
            let _ = writeln!(
                s,
                "| {backend} | {} | {} | {} | {} | {} | {:.3}× | {:.3}× | {} |",
                pt.dtype,
                pt.shape,
                pt.threads,
                pt.layout,
                pt.experiment,
                p.median,
                p.min,
                if p.regressed { "**REGRESSED**" } else { "ok" }
            );
        }
        for (title, keys) in [
            ("in the baseline, not measured now", &self.missing_now),
            ("measured now, not in the baseline", &self.missing_in_baseline),
        ] {
            if !keys.is_empty() {
                let _ = writeln!(s, "\nMISSING: {} point(s) {title}:", keys.len());
                for k in keys {
                    let _ = writeln!(s, "- {}", describe(k));
                }
            }
        }
        let _ = writeln!(
            s,
            "\n{} points compared, {} regressed (slower by more than {:.0}% by both median and minimum); \
             {} baseline points missing now, {} new points missing in the baseline.",
            self.points.len(),
            self.regressions(),
            self.threshold * 100.0,
            self.missing_now.len(),
            self.missing_in_baseline.len()
        );
        s
    }
}

/// Whether a time ratio `new / old` is slower than the threshold allows.
pub fn slower(time_ratio: f64, threshold: f64) -> bool {
    time_ratio > 1.0 + threshold
}

/// Compares `new` with `old`; `threshold` is a fraction (0.1 = 10%).
pub fn compare<'a>(new: impl IntoIterator<Item = &'a Measurement>, old: &[Measurement], threshold: f64) -> Comparison {
    let mut out = Comparison { threshold, ..Comparison::default() };
    let old_rows: HashMap<Key, &Measurement> = old.iter().map(|r| (r.key(), r)).collect();
    let mut seen: BTreeSet<Key> = BTreeSet::new();
    for r in new {
        seen.insert(r.key());
        let Some(o) = old_rows.get(&r.key()) else {
            out.missing_in_baseline.push(r.key());
            continue;
        };
        let median = o.seconds_median / r.seconds_median;
        let min = o.seconds_min / r.seconds_min;
        out.points.push(PointRatio {
            key: r.key(),
            median,
            min,
            regressed: slower(1.0 / median, threshold) && slower(1.0 / min, threshold),
        });
    }
    out.missing_now = old.iter().map(|r| r.key()).filter(|k| !seen.contains(k)).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::merge::tests::measurement;

    /// The baseline ran `factor` times faster on every point: both times divided.
    fn faster(rows: &[Measurement], factor: f64) -> Vec<Measurement> {
        let mut rows = rows.to_vec();
        for r in &mut rows {
            r.seconds_median /= factor;
            r.seconds_min /= factor;
        }
        rows
    }

    #[test]
    fn slower_by_both_median_and_min_is_a_regression() {
        let old = vec![
            measurement("a", 64, 10.0),
            measurement("b", 64, 10.0),
            measurement("c", 64, 10.0),
            measurement("gone", 64, 1.0),
        ];
        let mut new = vec![
            measurement("a", 64, 10.0),
            measurement("b", 64, 8.0),
            measurement("c", 64, 8.0),
            measurement("new", 64, 1.0),
        ];
        // b: slower by median only (its minimum held), so noise, not a regression.
        new[1].seconds_min = old[1].seconds_min;
        let c = compare(&new, &old, 0.10);
        assert_eq!(c.points.len(), 3);
        assert!(!c.points[0].regressed && (c.points[0].median - 1.0).abs() < 1e-12);
        assert!(!c.points[1].regressed, "{:?}", c.points[1]);
        assert!(c.points[2].regressed && (c.points[2].median - 0.8).abs() < 1e-12);
        assert_eq!(c.regressions(), 1);
        // 8 vs 10 is 25% more time: under a 30% threshold it passes.
        assert_eq!(compare(&new, &old, 0.30).regressions(), 0);
        assert!(c.render().contains("REGRESSED"));
    }

    /// Every point on one side only is named, on both sides.
    #[test]
    fn points_missing_on_either_side_are_listed() {
        let old = vec![measurement("a", 64, 10.0), measurement("gone", 64, 1.0), measurement("a", 128, 10.0)];
        let new = vec![measurement("a", 64, 10.0), measurement("new", 64, 1.0)];
        let c = compare(&new, &old, 0.10);
        assert_eq!(c.missing(), 3);
        assert_eq!(c.missing_in_baseline, [measurement("new", 64, 1.0).key()]);
        assert_eq!(c.missing_now, [measurement("gone", 64, 1.0).key(), measurement("a", 128, 10.0).key()]);
        let text = c.render();
        assert!(text.contains("gone f64 sweep rrr t=1 64x64x64"), "{text}");
        assert!(text.contains("a f64 sweep rrr t=1 128x128x128"), "{text}");
        assert!(text.contains("new f64 sweep rrr t=1 64x64x64"), "{text}");
        assert_eq!(compare(&old, &old, 0.10).missing(), 0);
    }

    /// A real schema-1 results file (a `--quick` run, committed) still loads as a
    /// baseline: against itself it passes; against a baseline twice as fast, every point regresses.
    #[test]
    fn a_schema_1_baseline_against_itself_and_against_a_doubled_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bench/testdata/quick-results.json");
        let run = matmul_bench_format::results::load_measurements(&path).unwrap();
        assert!(run.len() > 10);
        let same = compare(&run, &run, 0.10);
        assert_eq!((same.points.len(), same.regressions(), same.missing()), (run.len(), 0, 0));
        let doubled = faster(&run, 2.0);
        assert_eq!(compare(&run, &doubled, 0.10).regressions(), run.len());
        // And the other way round, the new run is twice as fast: no regression.
        assert_eq!(compare(&doubled, &run, 0.10).regressions(), 0);
    }
}
