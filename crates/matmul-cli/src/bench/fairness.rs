//! `fairness`: the check that the bench cannot favour one backend over another by where
//! their buffers happen to lie.
//!
//! It measures two handles to the *same* backend side by side at memory-bound points
//! (where a buffer's placement matters most), exactly as the bench measures different
//! backends ([`measure_point`]), and prints the ratio of their median times. Identical
//! code on identical inputs must agree: a gross difference (beyond `--bound`, 1.3× by
//! default) means the harness, not the backend, picked the winner, and the command fails.
//! A benchmark-style check with a loose bound, run explicitly (CI runs the ignored test
//! below), never a timing assertion in the ordinary tests.

use anyhow::{bail, Context};
use matmul::{Backend, Layout};

use super::measure::{measure_point, random_matrix, sample_entries, Operands, Timing};

/// Options of `fairness`.
#[derive(Debug, clap::Args)]
pub struct FairnessArgs {
    /// Backends to pair with themselves, comma-separated. Default: `openblas` when it can
    /// run here, else `naive-ikj`.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    backends: Vec<String>,
    /// Measurements of each pair at each point.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds of timed calls per handle and measurement.
    #[arg(long, default_value_t = 0.2)]
    min_time: f64,
    /// Fail when the median ratio of the two handles' times is beyond this (either way).
    #[arg(long, default_value_t = 1.3)]
    bound: f64,
}

/// The memory-bound points: (m, n, k). 1024×1024×8 writes an 8 MiB C while doing only
/// 16 flops per element of C; n = 64 is the small square point where one call is a few
/// microseconds and fixed costs and cache placement dominate.
pub const POINTS: [(usize, usize, usize); 2] = [(1024, 1024, 8), (64, 64, 64)];

/// One pair at one point: each measurement's ratio (first handle's median time over the
/// second's) and their median.
#[derive(Clone, Debug)]
pub struct PairResult {
    /// Backend name.
    pub backend: String,
    /// (m, n, k).
    pub point: (usize, usize, usize),
    /// First handle's median over the second's, per measurement.
    pub ratios: Vec<f64>,
    /// The median of `ratios`.
    pub median_ratio: f64,
}

impl PairResult {
    /// How far apart the two handles are, as a factor ≥ 1.
    pub fn spread(&self) -> f64 {
        self.median_ratio.max(1.0 / self.median_ratio)
    }
}

/// Measures `backend` paired with itself at each of [`POINTS`], f64, one thread, `runs` times.
pub fn measure_pair(backend: &'static dyn Backend, runs: usize, min_time: f64) -> anyhow::Result<Vec<PairResult>> {
    backend.set_threads(1);
    let timing = Timing { min_time, min_samples: 5, target_rounds: 10, order_seed: 0xfa17 };
    let mut out = Vec::new();
    for (i, &(m, n, k)) in POINTS.iter().enumerate() {
        let ops = Operands {
            a: random_matrix::<f64>(m, k, 0xfa1 + i as u64),
            b: random_matrix::<f64>(k, n, 0xfa2 + i as u64),
            c_layout: Layout::RowMajor,
            sample: sample_entries(m, n, 0xfa3),
        };
        let mut ratios = Vec::new();
        for _ in 0..runs.max(1) {
            let measured = measure_point(&[backend, backend], &ops, timing, f64::INFINITY, || {});
            let [first, second] = &measured[..] else { unreachable!("one result per handle") };
            let (first, second) = match (first, second) {
                (Ok(x), Ok(y)) => (x, y),
                (Err(e), _) | (_, Err(e)) => bail!("{} at {m}×{n}×{k}: {e:?}", backend.name()),
            };
            if first.max_err_over_bound.is_nan() || first.max_err_over_bound > 1.0 || second.max_err_over_bound > 1.0 {
                bail!("{} at {m}×{n}×{k}: a result exceeded the error bound", backend.name());
            }
            ratios.push(first.median / second.median);
        }
        let mut sorted = ratios.clone();
        sorted.sort_by(f64::total_cmp);
        let median_ratio = sorted[sorted.len() / 2];
        out.push(PairResult { backend: backend.name().to_owned(), point: (m, n, k), ratios, median_ratio });
    }
    Ok(out)
}

/// The backends to pair by default: `openblas` if it can run here, else `naive-ikj`.
fn default_backends() -> Vec<String> {
    let usable = |name: &str| matmul::backend(name).is_ok_and(|b| b.availability().is_available());
    vec![if usable("openblas") { "openblas" } else { "naive-ikj" }.to_owned()]
}

/// A compiled backend or peer that can run here.
fn find(name: &str) -> anyhow::Result<&'static dyn Backend> {
    let all = super::contenders();
    let Some(b) = all.iter().copied().find(|b| b.name() == name) else {
        bail!(
            "unknown backend {name:?}; this runner has: {}",
            all.iter().map(|b| b.name()).collect::<Vec<_>>().join(", ")
        );
    };
    if let matmul::Availability::Unavailable(why) = b.availability() {
        bail!("backend {name} cannot run here: {why}");
    }
    Ok(b)
}

/// Prints one line per pair and point.
pub fn print(r: &PairResult) {
    let (m, n, k) = r.point;
    let ratios: Vec<String> = r.ratios.iter().map(|x| format!("{x:.3}")).collect();
    println!(
        "fairness {:<12} {:>14}  time ratio of two handles: median {:.3} (runs: {})",
        r.backend,
        format!("{m}x{n}x{k}"),
        r.median_ratio,
        ratios.join(" ")
    );
}

pub fn run(args: FairnessArgs) -> anyhow::Result<()> {
    let names = if args.backends.is_empty() { default_backends() } else { args.backends.clone() };
    let mut worst: Option<PairResult> = None;
    for name in &names {
        let backend = find(name).with_context(|| format!("--backends {name}"))?;
        for r in measure_pair(backend, args.runs, args.min_time)? {
            print(&r);
            if worst.as_ref().is_none_or(|w| r.spread() > w.spread()) {
                worst = Some(r);
            }
        }
    }
    if let Some(w) = worst.filter(|w| w.spread() > args.bound) {
        let (m, n, k) = w.point;
        bail!(
            "two handles to {} differ by {:.2}× at {m}×{n}×{k} (bound {}): the bench harness, not the backend, \
             decides who wins",
            w.backend,
            w.spread(),
            args.bound
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fairness check itself: slow-ish (a few seconds) and timing-based, so ignored in
    /// the ordinary run; `.ci/run` runs it explicitly. Fails only on a gross difference.
    #[test]
    #[ignore = "a benchmark: run with --ignored (CI does)"]
    fn two_handles_to_one_backend_time_alike() {
        let peer = cfg!(feature = "peers").then(|| "peer:gemm".to_owned());
        let names: Vec<String> = default_backends().into_iter().chain(peer).collect();
        for name in names {
            let backend = find(&name).unwrap();
            for r in measure_pair(backend, 3, 0.1).unwrap() {
                print(&r);
                assert!(r.spread() <= 1.3, "{r:?}");
            }
        }
    }

    #[test]
    fn spread_is_symmetric() {
        let r = |x| PairResult { backend: String::new(), point: (1, 1, 1), ratios: vec![x], median_ratio: x };
        assert_eq!(r(2.0).spread(), 2.0);
        assert_eq!(r(0.5).spread(), 2.0);
        assert_eq!(r(1.0).spread(), 1.0);
    }
}
