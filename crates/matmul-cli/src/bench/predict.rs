//! Predicting one call's time at the next size, to skip sizes a backend would take too
//! long at.
//!
//! A call costs a fixed part (dispatch, packing set-up, waking threads, a loaded machine's
//! scheduling) plus a part that grows as n³. Below n = 64 the fixed part dominates: BLIS
//! took 7.5 ms at n = 4 on a loaded machine, and scaling that by n³ predicted 31 s at
//! n = 64, so sizes that take milliseconds were skipped. So only sizes from
//! [`CUBIC_FROM`] up are scaled by n³; a smaller size says only that a call up to n = 64
//! takes about as long, and beyond it grows as n³ from there.

/// The smallest n whose time is scaled by n³ to predict larger sizes.
pub const CUBIC_FROM: usize = 64;

/// The sizes one backend (at one thread count and layout) has been measured at so far.
#[derive(Clone, Debug, Default)]
pub struct CallTimes {
    /// (n, fastest seconds per call), in the order measured.
    points: Vec<(usize, f64)>,
    /// The smallest size it failed or went over budget at: no larger size is tried.
    failed_at: Option<usize>,
}

impl CallTimes {
    /// Records the fastest call at size `n`.
    pub fn measured(&mut self, n: usize, seconds: f64) {
        self.points.push((n, seconds));
    }

    /// Records that size `n` failed or went over budget.
    pub fn failed(&mut self, n: usize) {
        self.failed_at = Some(self.failed_at.map_or(n, |f| f.min(n)));
    }

    /// The predicted seconds of one call at size `n`, and the size it was predicted from;
    /// `None` when nothing smaller was measured (then the size is simply tried: the
    /// warm-up call's own budget check still applies). Infinite at or beyond a size that
    /// failed.
    pub fn predict(&self, n: usize) -> Option<(f64, usize)> {
        if let Some(f) = self.failed_at.filter(|&f| f <= n) {
            return Some((f64::INFINITY, f));
        }
        let below = self.points.iter().filter(|&&(n0, _)| n0 < n);
        // The largest size measured: closest to n, and the most n³-like.
        let &(n0, t0) = below.max_by_key(|&&(n0, _)| n0)?;
        let scale = |from: usize| (n as f64 / from as f64).powi(3).max(1.0);
        Some((t0 * scale(n0.max(CUBIC_FROM)), n0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect: a series dominated by a fixed cost (7.5 ms a call whatever n, as BLIS on a
    /// loaded machine) was scaled by n³ from n = 4 and n = 16 and 64 were skipped
    /// ("predicted 31 s"). Now the small sizes predict about their own time up to 64.
    #[test]
    fn an_overhead_dominated_series_does_not_skip_small_sizes() {
        let budget = 0.2; // `--quick`'s
        let mut t = CallTimes::default();
        t.measured(4, 7.5e-3);
        for n in [16, 64] {
            let (predicted, from) = t.predict(n).unwrap();
            assert!(predicted < budget, "n = {n}: {predicted} s predicted");
            assert_eq!(from, if n == 16 { 4 } else { 16 });
            t.measured(n, 7.6e-3);
        }
        // From n = 64 on, n³: 7.6 ms at 64 predicts 8 × that at 128.
        let (at_128, from) = t.predict(128).unwrap();
        assert_eq!(from, 64);
        assert!((at_128 - 7.6e-3 * 8.0).abs() < 1e-12);
    }

    #[test]
    fn from_sixty_four_up_the_time_scales_as_n_cubed() {
        let mut t = CallTimes::default();
        t.measured(64, 1e-3);
        t.measured(128, 8e-3);
        let (p, from) = t.predict(512).unwrap();
        assert_eq!(from, 128);
        assert!((p - 8e-3 * 64.0).abs() < 1e-12);
        // A small size alone predicts beyond 64 by n³ from 64.
        let mut small = CallTimes::default();
        small.measured(16, 1e-3);
        assert!((small.predict(256).unwrap().0 - 1e-3 * 64.0).abs() < 1e-12);
    }

    #[test]
    fn nothing_smaller_predicts_nothing_and_a_failure_stops_larger_sizes() {
        let mut t = CallTimes::default();
        assert_eq!(t.predict(64), None);
        t.measured(64, 1e-4);
        t.failed(256);
        assert_eq!(t.predict(128).map(|p| p.1), Some(64));
        assert_eq!(t.predict(256).unwrap().0, f64::INFINITY);
        assert_eq!(t.predict(1024).unwrap().0, f64::INFINITY);
    }
}
