//! The decision rule of `cargo xtask compare` and of the history's step marks: a point
//! changed when its time ratio passes a factor **and** a Mann–Whitney U test rejects
//! "both sides come from one distribution".
//!
//! The samples are one number per runner process (that process's median seconds per
//! call), not the calls within a process: calls in one process share its memory layout,
//! its address-space randomisation and whatever else ran on the machine then, so they
//! are not independent, and pooling them makes a test reject equality between two runs
//! of one binary. Processes alternate between the two sides (ABBA…), so slow drifts of
//! the machine fall on both.

use serde::{Deserialize, Serialize};

/// What the rule says of one point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No evidence of a difference, or one smaller than the test can see.
    Unchanged,
    /// Significantly different, but by less than the factor either way.
    ChangedBelowThreshold,
    /// Slower by more than the factor, significantly.
    Slower,
    /// Faster by more than the factor, significantly.
    Faster,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Unchanged => "unchanged",
            Verdict::ChangedBelowThreshold => "changed, below the threshold",
            Verdict::Slower => "SLOWER",
            Verdict::Faster => "faster",
        }
    }
}

/// The rule's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    /// A time ratio past this (or below its inverse) can be a regression (an improvement).
    pub factor: f64,
    /// The significance level of the two-sided Mann–Whitney test.
    pub alpha: f64,
}

impl Default for Rule {
    fn default() -> Self {
        Rule { factor: 1.10, alpha: 0.01 }
    }
}

/// One point's comparison.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Median of the head's samples over the median of the base's: above 1 is slower.
    pub ratio: f64,
    /// Two-sided p-value of the Mann–Whitney U test.
    pub p: f64,
    pub verdict: Verdict,
}

/// The median of `xs` (the mean of the middle two for an even count); NaN when empty.
pub fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Applies `rule` to the per-process seconds of `base` and `head`.
pub fn decide(base: &[f64], head: &[f64], rule: Rule) -> Decision {
    let ratio = median(head) / median(base);
    let p = mann_whitney_p(base, head);
    let significant = p < rule.alpha;
    let verdict = if !significant || !ratio.is_finite() {
        Verdict::Unchanged
    } else if ratio > rule.factor {
        Verdict::Slower
    } else if ratio < 1.0 / rule.factor {
        Verdict::Faster
    } else {
        Verdict::ChangedBelowThreshold
    };
    Decision { ratio, p, verdict }
}

/// The smallest p-value `mann_whitney_p` can give with `n1` and `n2` samples (when they
/// do not overlap at all): below `alpha`, or the test can never reject. 5 against 5
/// gives 0.0079, 6 against 6 gives 0.0022.
pub fn smallest_p(n1: usize, n2: usize) -> f64 {
    2.0 / binomial(n1 + n2, n1)
}

fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// Two-sided p-value of the Mann–Whitney U test of `a` against `b`.
///
/// Exact (the distribution of U counted over every arrangement) when there are no ties
/// and at most 30 samples a side; otherwise the normal approximation with the tie
/// correction of the variance and a continuity correction. 1 when a side is empty.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    // U of `a`: pairs where a's sample is the larger, ties counting one half.
    let mut u2: f64 = 0.0; // twice U, to keep halves exact
    for x in a {
        for y in b {
            if x > y {
                u2 += 2.0;
            } else if x == y {
                u2 += 1.0;
            }
        }
    }
    let mut all: Vec<f64> = a.iter().chain(b).copied().collect();
    all.sort_by(f64::total_cmp);
    let ties = all.windows(2).any(|w| w[0] == w[1]);
    let u = u2 / 2.0;
    let mean = (n1 * n2) as f64 / 2.0;
    if !ties && n1 <= 30 && n2 <= 30 {
        // The smaller tail: P(U ≤ min(u, n1·n2 − u)), doubled.
        let lower = u.min((n1 * n2) as f64 - u).round() as usize;
        let dist = u_distribution(n1, n2);
        let total: f64 = dist.iter().sum();
        let tail: f64 = dist[..=lower].iter().sum();
        return (2.0 * tail / total).min(1.0);
    }
    // Normal approximation with the tie correction.
    let n = (n1 + n2) as f64;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < all.len() {
        let j = all[i..].iter().take_while(|&&v| v == all[i]).count();
        let t = j as f64;
        tie_term += t * t * t - t;
        i += j;
    }
    let var = (n1 * n2) as f64 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if var <= 0.0 {
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / var.sqrt();
    (2.0 * normal_upper_tail(z)).min(1.0)
}

/// How many arrangements of `n1` and `n2` distinct values give each U = 0 ..= n1·n2.
fn u_distribution(n1: usize, n2: usize) -> Vec<f64> {
    // counts[i][j][u]: arrangements of i values of one side and j of the other with U = u,
    // built by adding the largest value to either side.
    let max = n1 * n2;
    let mut prev: Vec<Vec<f64>> = vec![vec![0.0; max + 1]; n2 + 1];
    for row in prev.iter_mut() {
        row[0] = 1.0; // i = 0: U is 0 whatever j is
    }
    for i in 1..=n1 {
        let mut cur: Vec<Vec<f64>> = vec![vec![0.0; max + 1]; n2 + 1];
        cur[0][0] = 1.0;
        for j in 1..=n2 {
            for u in 0..=i * j {
                // The largest value is on side 1: it beats all j of side 2.
                let from_first = if u >= j { prev[j][u - j] } else { 0.0 };
                let from_second = cur[j - 1][u];
                cur[j][u] = from_first + from_second;
            }
        }
        prev = cur;
    }
    prev.swap_remove(n2)
}

/// P(Z > z) for a standard normal Z (Abramowitz–Stegun 7.1.26 for erfc, error < 1.5e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    0.5 * poly * (-x * x).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_p_values_match_the_tables() {
        // Complete separation, 5 against 5: 2 / C(10, 5).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        assert!((mann_whitney_p(&a, &b) - 2.0 / 252.0).abs() < 1e-12);
        assert!((mann_whitney_p(&b, &a) - 2.0 / 252.0).abs() < 1e-12);
        assert!((smallest_p(5, 5) - 2.0 / 252.0).abs() < 1e-12);
        // 6 against 6 with one inversion: U = 1, P(U ≤ 1) = 2 / 924, doubled.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 7.0];
        let b = [6.0, 8.0, 9.0, 10.0, 11.0, 12.0];
        assert!((mann_whitney_p(&a, &b) - 4.0 / 924.0).abs() < 1e-12);
        // Interleaved perfectly: no evidence.
        let a = [1.0, 3.0, 5.0, 7.0];
        let b = [2.0, 4.0, 6.0, 8.0];
        assert!(mann_whitney_p(&a, &b) > 0.5);
        // The distribution of U sums to C(n1 + n2, n1).
        let d = u_distribution(4, 6);
        assert_eq!(d.iter().sum::<f64>(), 210.0);
        assert_eq!(d.len(), 25);
    }

    #[test]
    fn ties_fall_back_to_the_normal_approximation() {
        let a = [1.0; 6];
        assert_eq!(mann_whitney_p(&a, &a), 1.0);
        let a = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0];
        let b = [5.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 8.0];
        let p = mann_whitney_p(&a, &b);
        assert!(p > 0.0005 && p < 0.002, "{p}"); // 0.00087: ties widen the no-tie exact 0.00016
        assert!((normal_upper_tail(1.959_964) - 0.025).abs() < 1e-6);
    }

    fn shifted(base: &[f64], by: f64) -> Vec<f64> {
        base.iter().map(|x| x * by).collect()
    }

    const BASE: [f64; 6] = [1.00, 1.02, 0.99, 1.01, 1.03, 0.98];

    #[test]
    fn a_clear_slowdown_past_the_factor_is_slower() {
        let d = decide(&BASE, &shifted(&BASE, 1.15), Rule::default());
        assert_eq!(d.verdict, Verdict::Slower, "{d:?}");
        assert!((d.ratio - 1.15).abs() < 1e-9);
        let d = decide(&shifted(&BASE, 1.15), &BASE, Rule::default());
        assert_eq!(d.verdict, Verdict::Faster, "{d:?}");
    }

    #[test]
    fn a_significant_change_below_the_factor_is_only_reported() {
        let d = decide(&BASE, &shifted(&BASE, 1.06), Rule::default());
        assert_eq!(d.verdict, Verdict::ChangedBelowThreshold, "{d:?}");
    }

    /// A ratio past the factor that rests on one outlying process is not significant.
    #[test]
    fn a_large_ratio_without_significance_is_unchanged() {
        let head = [1.00, 1.35, 0.99, 1.40, 1.02, 1.38];
        let d = decide(&BASE, &head, Rule::default());
        assert!(d.ratio > 1.10, "{d:?}");
        assert_eq!(d.verdict, Verdict::Unchanged, "{d:?}");
        // And identical samples are unchanged.
        assert_eq!(decide(&BASE, &BASE, Rule::default()).verdict, Verdict::Unchanged);
    }

    #[test]
    fn too_few_samples_can_never_reject() {
        assert!(smallest_p(3, 3) > 0.01);
        let d = decide(&[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0], Rule::default());
        assert_eq!(d.verdict, Verdict::Unchanged);
        assert_eq!(decide(&[], &[1.0], Rule::default()).verdict, Verdict::Unchanged);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
