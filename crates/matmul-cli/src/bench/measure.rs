//! Timing one point (one size, dtype, thread count and layout) of several backends,
//! interleaved, on one set of buffers.
//!
//! The machine is shared and its speed drifts by tens of percent within minutes, so the
//! backends of a point are never timed one after another: each round runs a batch of calls
//! of every backend, in an order shuffled afresh each round by a seeded RNG (so no backend
//! always follows the same one, whose threaded BLAS workers may still be spinning), and
//! drift hits all of them alike. A batch is several calls of a fast backend (so that a
//! sample is long enough to time) or one call of a slow one; a sample is the batch's mean
//! time per call, as `%timeit` reports. Rounds continue until each backend has at least
//! `min_samples` samples adding up to `min_time`.
//!
//! Every backend reads the same A and B and writes the same C (one allocation for the
//! point): where a buffer lies in memory changes a memory-bound product's time by up to
//! 1.5×, and a harness that gives each backend its own C lets allocation order pick the
//! winner (`matmul-cli fairness` checks it). C is set to NaN, untimed, before every
//! backend's warm-up call and every batch, so each result is checked right after that
//! backend wrote it — after its warm-up and after its last timed call — and an entry a
//! backend skips cannot pass on another backend's value.

use std::sync::Mutex;
use std::time::Instant;

use matmul_core::reference::{compare_sample, Problem};
use matmul_core::{Backend, Element, Layout, Layouts, Matrix, Scalar};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Every backend's timed calls add up to at least this many seconds.
    pub min_time: f64,
    /// At least this many samples per backend.
    pub min_samples: usize,
    /// The rounds the time is spread over (more rounds interleave more finely).
    pub target_rounds: usize,
    /// Seed of the RNG that shuffles the backends' order in each round.
    pub order_seed: u64,
}

/// What one backend measured at one point.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Median seconds per call.
    pub median: f64,
    /// Minimum seconds per call.
    pub min: f64,
    /// Samples taken.
    pub samples: usize,
    /// Calls timed.
    pub calls: usize,
    /// Worst error over bound of the checked entries, after the warm-up and after the last call.
    pub max_err_over_bound: f64,
    /// Entries checked.
    pub checked: usize,
    /// Seconds of the warm-up call when it was the backend's first call in this process.
    pub first_call: Option<f64>,
}

/// Whether `backend` has not been called yet in this process; marks it called. The first
/// call pays what later ones do not (a GPU's context, NVRTC and module loading, a BLAS
/// library's thread pool, lazily resolved symbols), so it is reported apart.
fn first_call_in_process(backend: &dyn Backend) -> bool {
    static CALLED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut called = CALLED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let first = !called.contains(&backend.name());
    if first {
        called.push(backend.name());
    }
    first
}

/// Why a backend has no measurement at a point.
#[derive(Clone, Debug)]
pub enum NotMeasured {
    /// The warm-up call alone took longer than the per-call budget.
    OverBudget(f64),
    /// The backend returned an error.
    Failed(String),
}

/// The operands of one point.
#[derive(Debug)]
pub struct Operands<T: Element> {
    /// A, m × k.
    pub a: Matrix<T>,
    /// B, k × n.
    pub b: Matrix<T>,
    /// The layout of C.
    pub c_layout: Layout,
    /// The entries of C compared with the reference.
    pub sample: Vec<(usize, usize)>,
}

impl<T: Element> Operands<T> {
    /// `a0` and `b0` copied into `layouts`' A and B, and C to be allocated in its C.
    pub fn new(a0: &Matrix<T>, b0: &Matrix<T>, layouts: Layouts, sample: Vec<(usize, usize)>) -> Self {
        Operands {
            a: a0.as_ref().to_matrix(layouts.a),
            b: b0.as_ref().to_matrix(layouts.b),
            c_layout: layouts.c,
            sample,
        }
    }
}

/// Seeded uniform inputs in [-1, 1), row-major: generated once per size and dtype, then
/// copied into each layout.
pub fn random_matrix<T: Element>(rows: usize, cols: usize, seed: u64) -> Matrix<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Matrix::from_fn(rows, cols, Layout::RowMajor, |_, _| T::from_f64(rng.random_range(-1.0..1.0)))
}

/// Entries of an m × n result to check: all of them while that is cheap (≤ 4096), else the
/// four corners and 1020 seeded random entries (each costs one O(k) compensated dot product).
pub fn sample_entries(m: usize, n: usize, seed: u64) -> Vec<(usize, usize)> {
    const ALL_UP_TO: usize = 4096;
    if m * n <= ALL_UP_TO {
        return (0..m).flat_map(|i| (0..n).map(move |j| (i, j))).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5a5a);
    let mut out = vec![(0, 0), (0, n - 1), (m - 1, 0), (m - 1, n - 1)];
    out.extend((0..ALL_UP_TO / 4 - 4).map(|_| (rng.random_range(0..m), rng.random_range(0..n))));
    out
}

fn call<T: Element>(backend: &dyn Backend, ops: &Operands<T>, c: &mut Matrix<T::Acc>) -> Result<(), String> {
    T::gemm(backend, T::Acc::ONE, ops.a.as_ref(), ops.b.as_ref(), T::Acc::ZERO, c.as_mut()).map_err(|e| e.to_string())
}

fn check<T: Element>(ops: &Operands<T>, c: &Matrix<T::Acc>) -> (f64, usize) {
    // β = 0: C₀ is not read by the reference either, so C itself can stand in for it.
    let (one, zero) = (T::Acc::ONE, T::Acc::ZERO);
    let problem = Problem { alpha: one, a: ops.a.as_ref(), b: ops.b.as_ref(), beta: zero, c0: c.as_ref() };
    let cmp = compare_sample(&problem, &c.as_ref(), &ops.sample);
    (cmp.max_err_over_bound, cmp.checked)
}

/// One backend's state during a point.
struct State {
    estimate: f64,
    samples: Vec<f64>,
    total: f64,
    calls: usize,
    err: f64,
    checked: usize,
    first_call: Option<f64>,
    outcome: Option<Result<Measured, NotMeasured>>,
}

/// Sets every entry of C to NaN: a backend that skips an entry then fails the check.
fn poison<T: Element>(c: &mut Matrix<T>) {
    c.as_mut().for_each_mut(|x| *x = T::NAN);
}

/// The order of one round: the backends still measuring, shuffled.
fn round_order(states: &[State], rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..states.len()).filter(|&i| states[i].outcome.is_none()).collect();
    order.shuffle(rng);
    order
}

/// Measures every backend at one point, interleaved, all on one C. Backends are already
/// set to the point's thread count. `max_call` skips a backend whose warm-up call takes
/// longer. `on_done` is called once per backend as it finishes (for the progress bar).
pub fn measure_point<T: Element>(
    backends: &[&dyn Backend],
    ops: &Operands<T>,
    timing: Timing,
    max_call: f64,
    mut on_done: impl FnMut(),
) -> Vec<Result<Measured, NotMeasured>> {
    let (m, n) = (ops.a.nrows(), ops.b.ncols());
    // The one C of this point.
    let mut c = Matrix::from_fn(m, n, ops.c_layout, |_, _| T::Acc::NAN);
    // Warm-up: one call each (caches, page faults, thread pools, lazy CPU detection),
    // checked at once and giving the first estimate of the call time.
    let mut states: Vec<State> = Vec::with_capacity(backends.len());
    for &backend in backends {
        poison(&mut c);
        let first = first_call_in_process(backend);
        let start = Instant::now();
        let result = call(backend, ops, &mut c);
        let took = start.elapsed().as_secs_f64();
        let (err, checked) = check(ops, &c);
        let first_call = (first && result.is_ok()).then_some(took);
        let outcome = match result {
            Err(e) => Some(Err(NotMeasured::Failed(e))),
            Ok(()) if took > max_call => Some(Err(NotMeasured::OverBudget(took))),
            Ok(()) => None,
        };
        if outcome.is_some() {
            on_done();
        }
        states.push(State {
            estimate: took.max(1e-9),
            samples: Vec::new(),
            total: 0.0,
            calls: 0,
            err,
            checked,
            first_call,
            outcome,
        });
    }

    let mut rng = ChaCha8Rng::seed_from_u64(timing.order_seed);
    let slice = timing.min_time / timing.target_rounds as f64;
    // A safety net only: rounds end when every backend has its time and samples.
    const MAX_ROUNDS: usize = 10_000;
    for _ in 0..MAX_ROUNDS {
        let order = round_order(&states, &mut rng);
        if order.is_empty() {
            break;
        }
        for i in order {
            let s = &mut states[i];
            let batch = ((slice / s.estimate).ceil() as usize).clamp(1, 1 << 24);
            // Untimed; every batch starts from NaN so the last one's result is this
            // backend's alone.
            poison(&mut c);
            let start = Instant::now();
            let mut failed = None;
            for _ in 0..batch {
                if let Err(e) = call(backends[i], ops, &mut c) {
                    failed = Some(e);
                    break;
                }
            }
            let took = start.elapsed().as_secs_f64();
            if let Some(e) = failed {
                s.outcome = Some(Err(NotMeasured::Failed(e)));
                on_done();
                continue;
            }
            let per_call = took / batch as f64;
            s.samples.push(per_call);
            s.total += took;
            s.calls += batch;
            s.estimate = per_call.max(1e-9);
            if s.samples.len() >= timing.min_samples && s.total >= timing.min_time {
                // Check the result of the last call too, before another backend
                // overwrites C: a race in a threaded backend could make it differ from
                // the warm-up's.
                let (err, checked) = check(ops, &c);
                s.outcome = Some(Ok(finish(s, err, checked)));
                on_done();
            }
        }
    }
    states.into_iter().map(|s| s.outcome.unwrap_or(Err(NotMeasured::Failed("did not finish".to_owned())))).collect()
}

/// The measurement of a backend that has its samples; `err` and `checked` are from the
/// check after its last call.
fn finish(s: &State, err: f64, checked: usize) -> Measured {
    let err = if err.is_nan() || s.err.is_nan() { f64::NAN } else { err.max(s.err) };
    let mut sorted = s.samples.clone();
    sorted.sort_by(f64::total_cmp);
    Measured {
        median: median(&sorted),
        min: sorted[0],
        samples: sorted.len(),
        calls: s.calls,
        max_err_over_bound: err,
        checked: checked + s.checked,
        first_call: s.first_call,
    }
}

/// Median of a sorted, non-empty slice.
pub(crate) fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[1.0, 2.0, 10.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), 3.0);
    }

    #[test]
    fn samples_cover_small_results_entirely_and_large_ones_partly() {
        assert_eq!(sample_entries(3, 4, 1).len(), 12);
        let s = sample_entries(1000, 900, 1);
        assert_eq!(s.len(), 1024);
        assert!(s.contains(&(999, 899)) && s.iter().all(|&(i, j)| i < 1000 && j < 900));
    }

    /// A backend that writes a wrong entry is measured but its error shows.
    #[test]
    fn a_wrong_backend_is_caught_and_a_right_one_passes() {
        use matmul_core::{BackendKind, MatMut, MatRef, Result};
        #[derive(Debug)]
        struct OffByOne;
        impl Backend for OffByOne {
            fn name(&self) -> &'static str {
                "off-by-one"
            }
            fn description(&self) -> &'static str {
                "test"
            }
            fn kind(&self) -> BackendKind {
                BackendKind::Loops
            }
            fn gemm_f32(
                &self,
                _: f32,
                _: MatRef<'_, f32>,
                _: MatRef<'_, f32>,
                _: f32,
                _: MatMut<'_, f32>,
            ) -> Result<()> {
                unreachable!()
            }
            fn gemm_f64(
                &self,
                al: f64,
                a: MatRef<'_, f64>,
                b: MatRef<'_, f64>,
                be: f64,
                mut c: MatMut<'_, f64>,
            ) -> Result<()> {
                matmul::backend("naive-ikj")?.gemm_f64(al, a, b, be, c.rb_mut())?;
                let x = c.rb().get(1, 1).unwrap();
                assert!(c.set(1, 1, x + 1.0), "C is larger than 1 × 1 at this point");
                Ok(())
            }
        }
        let ops = Operands {
            a: random_matrix::<f64>(8, 8, 1),
            b: random_matrix::<f64>(8, 8, 2),
            c_layout: Layout::ColMajor,
            sample: sample_entries(8, 8, 0),
        };
        let timing = Timing { min_time: 0.001, min_samples: 3, target_rounds: 3, order_seed: 1 };
        let mut done = 0;
        let out = measure_point(&[matmul::backend("naive-ikj").unwrap(), &OffByOne], &ops, timing, 10.0, || done += 1);
        assert_eq!(done, 2);
        let good = out[0].as_ref().unwrap();
        let bad = out[1].as_ref().unwrap();
        assert!(good.max_err_over_bound <= 1.0 && good.samples >= 3 && good.min <= good.median);
        assert!(bad.max_err_over_bound > 1.0);
        assert_eq!(good.checked, 128);
        // OffByOne exists in this test only: its warm-up above was its first call in the
        // process, and is reported as such once, never again.
        assert!(bad.first_call.is_some_and(|s| s > 0.0));
        let again = measure_point(&[&OffByOne], &ops, timing, 10.0, || {});
        assert_eq!(again[0].as_ref().unwrap().first_call, None);
    }

    /// Records where each call's C lies, and optionally skips writing C's entry (0, 0).
    #[derive(Debug)]
    struct Recorder {
        c_addresses: std::sync::Mutex<Vec<usize>>,
        skip_first: bool,
    }

    impl Recorder {
        fn new(skip_first: bool) -> Self {
            Recorder { c_addresses: std::sync::Mutex::new(Vec::new()), skip_first }
        }
        fn gemm<T: Scalar>(
            &self,
            alpha: T,
            a: matmul_core::MatRef<'_, T>,
            b: matmul_core::MatRef<'_, T>,
            beta: T,
            mut c: matmul_core::MatMut<'_, T>,
        ) -> matmul_core::Result<()> {
            self.c_addresses.lock().unwrap().push(c.as_mut_ptr() as usize);
            let keep = c.rb().get(0, 0).unwrap();
            T::gemm(matmul::backend("naive-ikj")?, alpha, a, b, beta, c.rb_mut())?;
            if self.skip_first {
                assert!(c.set(0, 0, keep), "C is not empty");
            }
            Ok(())
        }
    }

    impl Backend for Recorder {
        fn name(&self) -> &'static str {
            "recorder"
        }
        fn description(&self) -> &'static str {
            "test"
        }
        fn kind(&self) -> matmul_core::BackendKind {
            matmul_core::BackendKind::Loops
        }
        matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.gemm(alpha, a, b, beta, c));
    }

    fn small_ops() -> Operands<f64> {
        Operands {
            a: random_matrix::<f64>(6, 5, 1),
            b: random_matrix::<f64>(5, 7, 2),
            c_layout: Layout::RowMajor,
            sample: sample_entries(6, 7, 0),
        }
    }

    /// Issue 18: every backend of a point writes the same C, so where a buffer lies
    /// cannot favour one of them.
    #[test]
    fn every_backend_of_a_point_writes_the_same_c() {
        let (x, y) = (Recorder::new(false), Recorder::new(false));
        let timing = Timing { min_time: 0.001, min_samples: 3, target_rounds: 3, order_seed: 7 };
        let out = measure_point(&[&x, &y], &small_ops(), timing, 10.0, || {});
        assert!(out.iter().all(|r| r.as_ref().is_ok_and(|r| r.max_err_over_bound <= 1.0)));
        let mut all = x.c_addresses.into_inner().unwrap();
        all.extend(y.c_addresses.into_inner().unwrap());
        assert!(all.len() > 6);
        assert!(all.iter().all(|&p| p == all[0]), "C moved between calls: {all:?}");
    }

    /// C is reset to NaN before a backend's checked calls, so a backend that leaves an
    /// entry alone fails even though the backend before it wrote the right value there.
    #[test]
    fn an_entry_left_alone_fails_even_after_a_correct_backend() {
        let skipper = Recorder::new(true);
        let timing = Timing { min_time: 0.001, min_samples: 3, target_rounds: 3, order_seed: 3 };
        let good: &dyn Backend = matmul::backend("naive-ikj").unwrap();
        for backends in [[good, &skipper as &dyn Backend], [&skipper, good]] {
            let out = measure_point(&backends, &small_ops(), timing, 10.0, || {});
            let bad = out.iter().zip(&backends).find(|(_, b)| b.name() == "recorder").unwrap().0;
            let err = bad.as_ref().unwrap().max_err_over_bound;
            assert!(err.is_nan() || err > 1.0, "the skipped entry passed: {err}");
        }
    }

    /// Defect: the order used to rotate (A B C, B C A, C A B), so B always followed A.
    /// Shuffled, every backend follows every other one, and the order is reproducible.
    #[test]
    fn the_order_is_shuffled_each_round_and_seeded() {
        let states = || -> Vec<State> {
            (0..3)
                .map(|_| State {
                    estimate: 1.0,
                    samples: vec![],
                    total: 0.0,
                    calls: 0,
                    err: 0.0,
                    checked: 0,
                    first_call: None,
                    outcome: None,
                })
                .collect()
        };
        let orders = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let s = states();
            (0..60).map(|_| round_order(&s, &mut rng)).collect::<Vec<_>>()
        };
        let a = orders(5);
        assert_eq!(a, orders(5));
        let mut followers = std::collections::HashSet::new();
        for order in &a {
            assert_eq!(order.len(), 3);
            for w in order.windows(2) {
                followers.insert((w[0], w[1]));
            }
        }
        assert_eq!(followers.len(), 6, "every ordered pair appears: {followers:?}");
        let mut done = states();
        done[1].outcome = Some(Err(NotMeasured::OverBudget(1.0)));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!(!round_order(&done, &mut rng).contains(&1), "finished backends leave the rounds");
    }
}
