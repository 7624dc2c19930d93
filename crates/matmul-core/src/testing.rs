//! The test matrix every backend is held to: shapes, layouts and (α, β) cases, random
//! seeded inputs surrounded by NaN, a property-test driver, and [`backend_test_suite!`](crate::backend_test_suite)
//! which expands all of it into `#[test]`s for one backend.
//!
//! Enabled by the `testing` feature; used by each backend's tests and by `matmul-cli check`.
//! The property-test driver (`proptest_backend`, `arb_case`) needs the `proptest`
//! feature as well, so that the release runner does not link proptest.

#[cfg(feature = "proptest")]
use proptest::prelude::*;
#[cfg(feature = "proptest")]
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::reference::{compare, Comparison, Problem};
use crate::{Backend, Element, Error, MatMut, MatRef, Scalar};

/// How one operand is laid out in its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperandLayout {
    /// Rows contiguous, leading dimension = columns.
    RowMajor,
    /// Columns contiguous, leading dimension = rows.
    ColMajor,
    /// The transpose view (`.t()`) of a row-major buffer holding the transposed matrix.
    Transposed,
    /// Column-major with a leading dimension 3 larger than the rows.
    Padded,
    /// Neither stride is 1: row stride 2, column stride `2·rows + 1`.
    General,
    /// Negative strides: column-major with leading dimension `rows + 2`, rows and columns
    /// both reversed, so element `(0, 0)` is the buffer's last and `(i, j)` lies
    /// `i + j·(rows + 2)` elements before it (what ndarray's `slice(s![..;-1, ..;-1])` gives).
    Reversed,
}

impl OperandLayout {
    /// Every layout, in a fixed order.
    pub const ALL: [OperandLayout; 6] = [
        OperandLayout::RowMajor,
        OperandLayout::ColMajor,
        OperandLayout::Transposed,
        OperandLayout::Padded,
        OperandLayout::General,
        OperandLayout::Reversed,
    ];

    /// One letter: `r`, `c`, `t`, `p`, `g`, `n` (negative strides).
    pub fn letter(self) -> char {
        match self {
            OperandLayout::RowMajor => 'r',
            OperandLayout::ColMajor => 'c',
            OperandLayout::Transposed => 't',
            OperandLayout::Padded => 'p',
            OperandLayout::General => 'g',
            OperandLayout::Reversed => 'n',
        }
    }

    /// The buffer and where the matrix lies in it for `rows × cols`, with [`GUARD`]
    /// slots before and after it.
    fn geometry(self, rows: usize, cols: usize) -> Geometry {
        let g = self.unguarded(rows, cols);
        Geometry { len: g.len + 2 * GUARD, origin: g.origin + GUARD, ..g }
    }

    fn unguarded(self, rows: usize, cols: usize) -> Geometry {
        let (r, c) = (rows.max(1), cols.max(1));
        let plain = |len, rs: usize, cs: usize, transposed| Geometry {
            len,
            origin: 0,
            strides: (rs as isize, cs as isize),
            transposed,
        };
        match self {
            OperandLayout::RowMajor => plain(r * c, c, 1, false),
            OperandLayout::ColMajor => plain(r * c, 1, r, false),
            // The buffer holds the cols × rows transpose row-major: strides (rows, 1), so
            // the view of it through `.t()` has strides (1, rows).
            OperandLayout::Transposed => plain(r * c, r, 1, true),
            OperandLayout::Padded => plain((r + 3) * c, 1, r + 3, false),
            OperandLayout::General => plain((2 * r + 1) * c, 2, 2 * r + 1, false),
            OperandLayout::Reversed => {
                let ld = r + 2;
                Geometry { len: ld * c, origin: ld * c - 1, strides: (-1, -(ld as isize)), transposed: false }
            }
        }
    }
}

/// NaN slots before an operand's first element and after its last, whatever its layout:
/// a write just outside any view, C's in particular, shows up as a stray write.
const GUARD: usize = 2;

/// A buffer of `len` elements holding a matrix: element `(0, 0)` of the stored matrix at
/// `origin`, its strides, and whether the operand is the stored matrix's transpose.
struct Geometry {
    len: usize,
    origin: usize,
    strides: (isize, isize),
    transposed: bool,
}

impl Geometry {
    /// Index in the buffer of the stored matrix's element `(i, j)`.
    fn index(&self, i: usize, j: usize) -> usize {
        let offset = i as isize * self.strides.0 + j as isize * self.strides.1;
        self.origin.checked_add_signed(offset).expect("inside the buffer")
    }
}

/// One operand: a buffer filled with NaN around the matrix's elements (between them, where
/// the layout leaves gaps, and two slots on either side).
#[derive(Clone, Debug)]
pub struct Operand<T> {
    buf: Vec<T>,
    rows: usize,
    cols: usize,
    layout: OperandLayout,
}

impl<T: Element> Operand<T> {
    /// A `rows × cols` operand whose element `(i, j)` is `f(i, j)`; every other slot of the
    /// buffer is NaN, so reading or writing outside the view shows up.
    pub fn new(rows: usize, cols: usize, layout: OperandLayout, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let len = layout.geometry(rows, cols).len;
        let mut op = Operand { buf: vec![T::NAN; len], rows, cols, layout };
        let mut v = op.view_mut();
        for i in 0..rows {
            for j in 0..cols {
                assert!(v.set(i, j, f(i, j)), "({i}, {j}) lies inside the operand");
            }
        }
        op
    }

    /// The geometry, and the stored matrix's shape (the operand's, or its transpose's).
    fn stored(&self) -> (Geometry, usize, usize) {
        let g = self.layout.geometry(self.rows, self.cols);
        let (r, c) = if g.transposed { (self.cols, self.rows) } else { (self.rows, self.cols) };
        (g, r, c)
    }

    /// The read view.
    pub fn view(&self) -> MatRef<'_, T> {
        let (g, r, c) = self.stored();
        let (rs, cs) = g.strides;
        let v = MatRef::with_origin(&self.buf, g.origin, r, c, rs, cs).expect("test operand geometry is valid");
        if g.transposed {
            v.t()
        } else {
            v
        }
    }

    /// The write view.
    pub fn view_mut(&mut self) -> MatMut<'_, T> {
        let (g, r, c) = self.stored();
        let (rs, cs) = g.strides;
        let v = MatMut::with_origin(&mut self.buf, g.origin, r, c, rs, cs).expect("test operand geometry is valid");
        if g.transposed {
            v.t()
        } else {
            v
        }
    }

    /// Whether every slot of the buffer, inside the view or not, has the same bits as `before`'s.
    pub fn unchanged_since(&self, before: &Operand<T>) -> bool {
        self.buf.iter().zip(&before.buf).all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits())
    }

    /// Buffer slots outside the view whose bits differ from `before`'s: stray writes.
    pub fn stray_writes(&self, before: &Operand<T>) -> usize {
        let mut inside = vec![false; self.buf.len()];
        let (g, r, c) = self.stored();
        for i in 0..r {
            for j in 0..c {
                inside[g.index(i, j)] = true;
            }
        }
        self.buf
            .iter()
            .zip(&before.buf)
            .zip(&inside)
            .filter(|((x, y), inside)| !**inside && x.to_f64().to_bits() != y.to_f64().to_bits())
            .count()
    }
}

/// One test case of `C ← α·A·B + β·C`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Case {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Layouts of A, B and C.
    pub layouts: [OperandLayout; 3],
    /// α.
    pub alpha: f64,
    /// β.
    pub beta: f64,
    /// Whether C starts full of NaN (only meaningful with β = 0, which must not read it).
    pub nan_in_c: bool,
    /// Seed of the random inputs.
    pub seed: u64,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l: String = self.layouts.iter().map(|l| l.letter()).collect();
        write!(f, "m={} n={} k={} layout={} alpha={} beta={}", self.m, self.n, self.k, l, self.alpha, self.beta)?;
        if self.nan_in_c {
            write!(f, " C=NaN")?;
        }
        write!(f, " seed={}", self.seed)
    }
}

/// The (α, β) pairs of the grid; the last starts C full of NaN.
pub const ALPHA_BETA: [(f64, f64, bool); 5] =
    [(1.0, 0.0, false), (1.0, 1.0, false), (-0.5, 2.0, false), (0.0, 1.5, false), (2.0, 0.0, true)];

/// Sizes of the square sweep: around powers of two and small-kernel edges.
pub const SIZES: [usize; 13] = [0, 1, 2, 3, 7, 16, 17, 31, 33, 64, 65, 127, 129];

/// The deterministic test grid. `quick` is a subset that runs in seconds.
pub fn grid(quick: bool) -> Vec<Case> {
    grid_with(quick, &[])
}

/// [`grid`] plus a backend's own edge sizes (a blocked backend's `MR ± 1`, `KC ± 1`, …):
/// for each size `s`, the square `s × s × s` and `s` as each dimension on its own against
/// small odd others, cycling through the (α, β) pairs and, for the squares, every layout
/// of C. Sizes already in the grid are not repeated.
pub fn grid_with(quick: bool, extra_sizes: &[usize]) -> Vec<Case> {
    let mut cases = base_grid(quick);
    let mut extra: Vec<usize> = extra_sizes.iter().copied().filter(|s| !SIZES.contains(s)).collect();
    extra.sort_unstable();
    extra.dedup();
    let mut t = 0;
    for s in extra {
        for (i, (m, n, k)) in [(s, s, s), (s, 5, 3), (3, s, 5), (5, 3, s)].into_iter().enumerate() {
            let lc = OperandLayout::ALL[(t + i) % OperandLayout::ALL.len()];
            let layouts = [OperandLayout::RowMajor, OperandLayout::ColMajor, lc];
            let seed = cases.len() as u64;
            let (alpha, beta, nan_in_c) = ALPHA_BETA[t % ALPHA_BETA.len()];
            cases.push(Case { m, n, k, layouts, alpha, beta, nan_in_c, seed });
            t += 1;
        }
    }
    cases
}

fn base_grid(quick: bool) -> Vec<Case> {
    use OperandLayout::RowMajor as R;
    let mut cases = Vec::new();
    let mut push = |m, n, k, layouts, (alpha, beta, nan_in_c): (f64, f64, bool)| {
        let seed = cases.len() as u64;
        cases.push(Case { m, n, k, layouts, alpha, beta, nan_in_c, seed });
    };
    let sizes: &[usize] = if quick { &[0, 1, 2, 3, 7, 17, 33] } else { &SIZES };
    for &s in sizes {
        for ab in ALPHA_BETA {
            push(s, s, s, [R; 3], ab);
        }
    }
    // Rectangular shapes, each dimension on its own, cycling through the (α, β) pairs.
    let dims: &[usize] = if quick { &[1, 3, 17] } else { &[1, 3, 17, 65] };
    let mut t = 0;
    for &m in dims {
        for &n in dims {
            for &k in dims {
                if !(m == n && n == k) {
                    push(m, n, k, [R; 3], ALPHA_BETA[t % ALPHA_BETA.len()]);
                    t += 1;
                }
            }
        }
    }
    // One empty dimension at a time.
    for (m, n, k) in [(0, 5, 3), (5, 0, 3), (5, 3, 0)] {
        for ab in ALPHA_BETA {
            push(m, n, k, [R; 3], ab);
        }
    }
    // Skinny products: a single row or column, outer products, long inner dimensions.
    let skinny: &[(usize, usize, usize)] = if quick {
        &[(1, 1, 300), (1, 33, 40), (33, 1, 40), (3, 2, 500), (40, 40, 1)]
    } else {
        &[
            (1, 1, 1000),
            (1, 65, 300),
            (65, 1, 300),
            (3, 2, 2000),
            (2, 2, 5000),
            (129, 129, 1),
            (1, 129, 129),
            (129, 1, 129),
            (1, 1, 1),
        ]
    };
    for &(m, n, k) in skinny {
        for ab in [ALPHA_BETA[1], ALPHA_BETA[2], ALPHA_BETA[4]] {
            push(m, n, k, [R; 3], ab);
        }
    }
    // Every combination of layouts for A, B and C.
    type ShapeAndScales = ((usize, usize, usize), &'static [(f64, f64, bool)]);
    let layout_shapes: &[ShapeAndScales] = if quick {
        &[((7, 9, 5), &[ALPHA_BETA[2]])]
    } else {
        &[((17, 33, 31), &[ALPHA_BETA[2], ALPHA_BETA[4]]), ((65, 64, 67), &[ALPHA_BETA[1]])]
    };
    for &((m, n, k), abs) in layout_shapes {
        for la in OperandLayout::ALL {
            for lb in OperandLayout::ALL {
                for lc in OperandLayout::ALL {
                    for &ab in abs {
                        push(m, n, k, [la, lb, lc], ab);
                    }
                }
            }
        }
    }
    cases
}

/// Uniform random values in [-1, 1), seeded.
fn random_fill<T: Element>(rng: &mut ChaCha8Rng) -> impl FnMut(usize, usize) -> T + '_ {
    move |_, _| T::from_f64(rng.random_range(-1.0..1.0))
}

/// What running one case gave.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Comparison of C with the reference (empty if the call failed).
    pub comparison: Comparison,
    /// Slots around C's view that changed.
    pub stray_writes: usize,
    /// The error the backend returned, if any.
    pub error: Option<Error>,
}

impl Outcome {
    /// Whether the backend succeeded, matched the reference within the bound, and wrote nothing outside C.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.comparison.passed() && self.stray_writes == 0
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(e) = &self.error {
            return write!(f, "error: {e}");
        }
        write!(
            f,
            "{} of {} entries outside the bound, worst err/bound {:.3e} at {:?}, {} stray writes",
            self.comparison.failures,
            self.comparison.checked,
            self.comparison.max_err_over_bound,
            self.comparison.worst,
            self.stray_writes
        )
    }
}

/// Runs one case on a backend and compares it with the reference.
///
/// A and B are in `E`, C, α and β in `E::Acc` (for the half types: random halves, `f32` C).
pub fn run_case<E: Element>(backend: &dyn Backend, case: &Case) -> Outcome {
    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let [la, lb, lc] = case.layouts;
    let a = Operand::<E>::new(case.m, case.k, la, random_fill(&mut rng));
    let b = Operand::<E>::new(case.k, case.n, lb, random_fill(&mut rng));
    let c0 = if case.nan_in_c {
        Operand::<E::Acc>::new(case.m, case.n, lc, |_, _| E::Acc::NAN)
    } else {
        Operand::<E::Acc>::new(case.m, case.n, lc, random_fill(&mut rng))
    };
    let (alpha, beta) = (E::Acc::from_f64(case.alpha), E::Acc::from_f64(case.beta));
    let mut c = c0.clone();
    if let Err(e) = E::gemm(backend, alpha, a.view(), b.view(), beta, c.view_mut()) {
        return Outcome { comparison: Comparison::default(), stray_writes: 0, error: Some(e) };
    }
    let problem = Problem { alpha, a: a.view(), b: b.view(), beta, c0: c0.view() };
    Outcome { comparison: compare(&problem, &c.view()), stray_writes: c.stray_writes(&c0), error: None }
}

#[cfg(feature = "proptest")]
fn arb_layout() -> impl Strategy<Value = OperandLayout> {
    prop::sample::select(OperandLayout::ALL.to_vec())
}

#[cfg(feature = "proptest")]
fn arb_scale() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), Just(-1.0), -3.0..3.0f64]
}

/// Random cases: shapes up to 24 × 24 × 40, any layouts, α and β including 0 and 1.
#[cfg(feature = "proptest")]
pub fn arb_case() -> impl Strategy<Value = Case> {
    (
        0..24usize,
        0..24usize,
        0..40usize,
        [arb_layout(), arb_layout(), arb_layout()],
        arb_scale(),
        arb_scale(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(m, n, k, layouts, alpha, beta, nan, seed)| Case {
            m,
            n,
            k,
            layouts,
            alpha,
            beta,
            nan_in_c: nan && beta == 0.0,
            seed,
        })
}

/// Property test: `cases` random [`Case`]s on `backend` in `T`, each within the bound.
/// Panics with the smallest failing case proptest finds.
#[cfg(feature = "proptest")]
pub fn proptest_backend<T: Element>(backend: &dyn Backend, cases: u32) {
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&arb_case(), |case| {
        let outcome = run_case::<T>(backend, &case);
        if outcome.passed() {
            Ok(())
        } else {
            Err(TestCaseError::fail(format!("{outcome}")))
        }
    });
    if let Err(e) = result {
        panic!("{} {}: {e}", backend.name(), T::NAME);
    }
}

/// Runs the whole grid on a backend; panics listing the failing cases.
pub fn assert_grid<T: Element>(backend: &dyn Backend, quick: bool) {
    assert_grid_with::<T>(backend, quick, &[]);
}

/// Runs [`grid_with`]`(quick, extra_sizes)` on a backend; panics listing the failing cases.
pub fn assert_grid_with<T: Element>(backend: &dyn Backend, quick: bool, extra_sizes: &[usize]) {
    let failures: Vec<String> = grid_with(quick, extra_sizes)
        .iter()
        .filter_map(|case| {
            let outcome = run_case::<T>(backend, case);
            (!outcome.passed()).then(|| format!("{case}: {outcome}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} {}: {} cases failed:\n{}",
        backend.name(),
        T::NAME,
        failures.len(),
        failures.join("\n")
    );
}

/// Checks the BLAS corner cases one by one with exact expectations: A and B in `E`, C, α
/// and β in `E::Acc`.
pub fn assert_blas_semantics<E: Element>(backend: &dyn Backend) {
    let name = backend.name();
    let value = |i: usize, j: usize| (i * 7 + j * 3) as f64 % 5.0 - 2.0;
    let small = |r, c, l| Operand::<E>::new(r, c, l, |i, j| E::from_f64(value(i, j)));
    let small_c = |r, c, l| Operand::<E::Acc>::new(r, c, l, |i, j| E::Acc::from_f64(value(i, j)));
    let nan = |r, c| Operand::<E>::new(r, c, OperandLayout::RowMajor, |_, _| E::NAN);
    let nan_c = |r, c| Operand::<E::Acc>::new(r, c, OperandLayout::RowMajor, |_, _| E::Acc::NAN);
    let (zero, one, two) = (E::Acc::ZERO, E::Acc::ONE, E::Acc::from_f64(2.0));

    // β = 0 writes C without reading it: NaN in C does not survive.
    let (a, b) = (small(4, 3, OperandLayout::RowMajor), small(3, 5, OperandLayout::ColMajor));
    let mut c = nan_c(4, 5);
    E::gemm(backend, one, a.view(), b.view(), zero, c.view_mut()).unwrap();
    let v = c.view();
    assert!((0..4).all(|i| (0..5).all(|j| !v.get(i, j).unwrap().is_nan())), "{name}: β = 0 read C");

    // α = 0 reads neither A nor B: NaN there does not reach C, and C = β·C₀ exactly.
    let c0 = small_c(4, 5, OperandLayout::RowMajor);
    let mut c = c0.clone();
    E::gemm(backend, zero, nan(4, 3).view(), nan(3, 5).view(), two, c.view_mut()).unwrap();
    for i in 0..4 {
        for j in 0..5 {
            assert_eq!(c.view().get(i, j), Some(two * c0.view().get(i, j).unwrap()), "{name}: α = 0");
        }
    }

    // k = 0: C = β·C₀, and β = 0 gives zeros even over NaN.
    let mut c = nan_c(4, 5);
    E::gemm(
        backend,
        one,
        small(4, 0, OperandLayout::RowMajor).view(),
        small(0, 5, OperandLayout::RowMajor).view(),
        zero,
        c.view_mut(),
    )
    .unwrap();
    assert!((0..4).all(|i| (0..5).all(|j| c.view().get(i, j) == Some(zero))), "{name}: k = 0, β = 0");

    // m = 0 or n = 0: nothing happens, nothing is written.
    for (m, n) in [(0, 5), (4, 0)] {
        let mut c = nan_c(m, n);
        let before = c.clone();
        E::gemm(
            backend,
            one,
            small(m, 3, OperandLayout::RowMajor).view(),
            small(3, n, OperandLayout::RowMajor).view(),
            one,
            c.view_mut(),
        )
        .unwrap();
        assert_eq!(c.stray_writes(&before), 0, "{name}: empty C was written");
    }

    // The non-finite rule (see `Backend`): β = NaN, or α = NaN with k ≥ 1, makes all of C
    // NaN, whatever a library does with them on its own (BLIS reads β = NaN as 0).
    let nan_acc = E::Acc::NAN;
    for (alpha, beta) in [(one, nan_acc), (nan_acc, one), (nan_acc, zero)] {
        let mut c = small_c(4, 5, OperandLayout::ColMajor);
        E::gemm(backend, alpha, a.view(), b.view(), beta, c.view_mut()).unwrap();
        let v = c.view();
        assert!(
            (0..4).all(|i| (0..5).all(|j| v.get(i, j).unwrap().is_nan())),
            "{name}: α = {alpha:?}, β = {beta:?} must make C NaN"
        );
    }
    // β = ∞ multiplies C as IEEE does: ∞·0 is NaN, ∞·x is ±∞.
    let mut c = Operand::<E::Acc>::new(1, 2, OperandLayout::RowMajor, |_, j| E::Acc::from_f64(j as f64));
    let (a1, b1) = (small(1, 3, OperandLayout::RowMajor), small(3, 2, OperandLayout::RowMajor));
    E::gemm(backend, one, a1.view(), b1.view(), E::Acc::from_f64(f64::INFINITY), c.view_mut()).unwrap();
    assert!(c.view().get(0, 0).unwrap().is_nan(), "{name}: β = ∞ times C = 0 must be NaN");
    assert_eq!(c.view().get(0, 1).map(Element::to_f64), Some(f64::INFINITY), "{name}: β = ∞ times C = 1");

    // Exact small-integer product: every intermediate is an integer, so every order agrees.
    let a = Operand::<E>::new(3, 4, OperandLayout::RowMajor, |i, j| E::from_f64((i + j) as f64));
    let b = Operand::<E>::new(4, 2, OperandLayout::ColMajor, |i, j| E::from_f64(i as f64 - j as f64));
    let mut c = Operand::<E::Acc>::new(3, 2, OperandLayout::RowMajor, |_, _| one);
    E::gemm(backend, two, a.view(), b.view(), E::Acc::from_f64(-1.0), c.view_mut()).unwrap();
    // Σₚ (i + p)(p − j) = 6i − 4ij + 14 − 6j, then 2·x − 1.
    let expected = [[27.0, 15.0], [39.0, 19.0], [51.0, 23.0]];
    for (i, row) in expected.iter().enumerate() {
        for (j, &e) in row.iter().enumerate() {
            assert_eq!(c.view().get(i, j), Some(E::Acc::from_f64(e)), "{name}: exact product at ({i}, {j})");
        }
    }
}

/// Broadcast operands (a zero stride in A or B: one element stands for a whole row or
/// column, as ndarray's `broadcast` gives), against the reference, for small and blocked
/// sizes; C must come out right and nothing outside it may change.
pub fn assert_broadcasts<E: Element>(backend: &dyn Backend) {
    let name = backend.name();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut fill = random_fill::<E>(&mut rng);
    let values: Vec<E> = (0..16384).map(|p| fill(p, 0)).collect();
    for (m, n, k) in [(5, 4, 3), (37, 41, 33), (70, 3, 129)] {
        // (what, A's strides, B's strides): zero along one dimension of each.
        type Strides = (usize, usize);
        let cases: [(&str, Strides, Strides); 4] = [
            ("A's rows repeated, B's columns repeated", (0, 1), (1, 0)),
            ("A's columns repeated, B's rows repeated", (1, 0), (0, 1)),
            ("A one element, B row-major", (0, 0), (n, 1)),
            ("A column-major, B one column repeated", (1, m), (1, 0)),
        ];
        for (what, (ars, acs), (brs, bcs)) in cases {
            let a = MatRef::new(&values, m, k, ars, acs).expect("inside the values");
            let b = MatRef::new(&values[17..], k, n, brs, bcs).expect("inside the values");
            let c0 =
                Operand::<E::Acc>::new(m, n, OperandLayout::ColMajor, |i, j| values[(i * 31 + j * 7) % 16384].to_acc());
            let mut c = c0.clone();
            let (alpha, beta) = (E::Acc::from_f64(-1.5), E::Acc::from_f64(0.5));
            if let Err(e) = E::gemm(backend, alpha, a, b, beta, c.view_mut()) {
                panic!("{name} {}: {m}×{n}×{k} {what}: {e}", E::NAME);
            }
            let cmp = compare(&Problem { alpha, a, b, beta, c0: c0.view() }, &c.view());
            assert!(cmp.passed() && cmp.checked == m * n, "{name} {}: {m}×{n}×{k} {what}: {cmp:?}", E::NAME);
            assert_eq!(c.stray_writes(&c0), 0, "{name} {}: {m}×{n}×{k} {what}: stray writes", E::NAME);
        }
    }
}

/// Checks that every inconsistent shape is refused with [`Error::ShapeMismatch`] and that C is left untouched.
pub fn assert_shape_errors<E: Element>(backend: &dyn Backend) {
    let op = |r, c| Operand::<E>::new(r, c, OperandLayout::RowMajor, |_, _| E::from_f64(1.0));
    let op_c = |r, c| Operand::<E::Acc>::new(r, c, OperandLayout::RowMajor, |_, _| E::Acc::ONE);
    for ((m, k1), (k2, n), (cm, cn)) in
        [((2, 3), (4, 5), (2, 5)), ((2, 3), (3, 5), (3, 5)), ((2, 3), (3, 5), (2, 4)), ((0, 3), (2, 0), (0, 0))]
    {
        let mut c = op_c(cm, cn);
        let before = c.clone();
        let one = E::Acc::ONE;
        let err = E::gemm(backend, one, op(m, k1).view(), op(k2, n).view(), one, c.view_mut()).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{}: {err}", backend.name());
        assert!(c.unchanged_since(&before), "{}: C written on a shape error", backend.name());
    }
}

/// The batch suite of one backend in `T`: a grouped batch and a strided one, each run
/// with one [`dyn Backend::gemm_batch`](trait.Backend.html#method.gemm_batch) call, every
/// product checked against the reference, and nothing written outside any C. Where
/// [`Backend::batch_bits_match_single_calls`] holds (every backend but MKL), each product
/// is also checked bit for bit against a single call of the same product.
///
/// The grouped batch mixes random layouts of A, B and C in every product, and has an empty
/// group, empty shapes, `k = 0`, a β = 0 group over NaN, matrix–vector shapes, products
/// large enough to be blocked, and 520 products of 16³: together above `simd`'s serial
/// threshold, so its threads split them.
pub fn assert_batches<T: Scalar>(backend: &dyn Backend) {
    use crate::{BatchGroup, GroupedBatch};
    let mut rng = ChaCha8Rng::seed_from_u64(0x0ba7_c4ed);
    // ((m, n, k), products, α, β, NaN in C).
    let groups = [
        ((2, 3, 4), 33, 1.0, 0.0, true),
        ((3, 3, 3), 0, 1.0, 1.0, false),
        ((7, 5, 9), 12, -0.7, 1.3, false),
        ((5, 0, 3), 3, 1.0, 0.5, false),
        ((4, 6, 0), 4, 1.5, -0.5, false),
        ((1, 9, 7), 5, 2.0, 1.0, false),
        ((9, 1, 7), 5, 2.0, 0.0, false),
        ((70, 65, 40), 3, 0.5, -1.0, false),
        ((16, 16, 16), 520, 0.5, 0.25, false),
    ];
    let layout = |rng: &mut ChaCha8Rng| OperandLayout::ALL[rng.random_range(0..OperandLayout::ALL.len())];
    type Products<T> = Vec<(Operand<T>, Operand<T>, Operand<T>)>;
    let mut made: Vec<Products<T>> = Vec::new();
    for &((m, n, k), count, _, _, nan_in_c) in &groups {
        let products = (0..count)
            .map(|_| {
                let a = Operand::<T>::new(m, k, layout(&mut rng), random_fill(&mut rng));
                let b = Operand::<T>::new(k, n, layout(&mut rng), random_fill(&mut rng));
                let lc = layout(&mut rng);
                let c = if nan_in_c {
                    Operand::<T>::new(m, n, lc, |_, _| T::NAN)
                } else {
                    Operand::<T>::new(m, n, lc, random_fill(&mut rng))
                };
                (a, b, c)
            })
            .collect();
        made.push(products);
    }
    let before: Vec<Vec<Operand<T>>> = made.iter().map(|g| g.iter().map(|p| p.2.clone()).collect()).collect();
    // One product at a time: what the batch must reproduce.
    let mut single = before.clone();
    for (((_, _, alpha, beta, _), products), cs) in groups.iter().zip(&made).zip(&mut single) {
        for ((a, b, _), c) in products.iter().zip(cs) {
            let (alpha, beta) = (T::from_f64(*alpha), T::from_f64(*beta));
            T::gemm(backend, alpha, a.view(), b.view(), beta, c.view_mut())
                .unwrap_or_else(|e| panic!("{} {}: a single product failed: {e}", backend.name(), T::NAME));
        }
    }
    let batch_groups = groups
        .iter()
        .zip(&mut made)
        .map(|(&(dims, _, alpha, beta, _), products)| {
            let views = products.iter_mut().map(|(a, b, c)| (a.view(), b.view(), c.view_mut())).collect();
            BatchGroup::new(dims, T::from_f64(alpha), T::from_f64(beta), views)
        })
        .collect();
    let batch = GroupedBatch::new(batch_groups).expect("the groups' shapes fit");
    assert_eq!(batch.len(), groups.iter().map(|g| g.1).sum::<usize>());
    backend.gemm_batch(batch).unwrap_or_else(|e| panic!("{} {}: grouped batch: {e}", backend.name(), T::NAME));
    let same_bits = backend.batch_bits_match_single_calls();
    for (g, (((dims, _, alpha, beta, _), products), (c0s, singles))) in
        groups.iter().zip(&made).zip(before.iter().zip(&single)).enumerate()
    {
        for (p, ((a, b, c), (c0, one))) in products.iter().zip(c0s.iter().zip(singles)).enumerate() {
            let what = format!("{} {} group {g} {dims:?} product {p}", backend.name(), T::NAME);
            let problem = Problem {
                alpha: T::from_f64(*alpha),
                a: a.view(),
                b: b.view(),
                beta: T::from_f64(*beta),
                c0: c0.view(),
            };
            let check = compare(&problem, &c.view());
            assert!(check.passed(), "{what}: {check:?}");
            assert_eq!(c.stray_writes(c0), 0, "{what}: written outside C");
            assert!(!same_bits || c.unchanged_since(one), "{what}: not the bits of a single call");
        }
    }

    // Strided batches: A row-major, B column-major, C row-major with two NaN slots after
    // each C (C's batch stride is m·n + 2), A's and B's with gaps of their own; the second
    // is large enough, in all, for `simd` to split it across its threads.
    for (count, m, n, k) in [(9, 3, 5, 4), (520, 16, 16, 16)] {
        assert_strided_batch::<T>(backend, (count, m, n, k), &mut rng);
    }
}

fn assert_strided_batch<T: Scalar>(
    backend: &dyn Backend,
    (count, m, n, k): (usize, usize, usize, usize),
    rng: &mut ChaCha8Rng,
) {
    use crate::{BatchOperand, StridedBatch};
    let (sa, sb, sc) = (m * k + 1, k * n + 3, m * n + 2);
    let fill = |len: usize, used: usize, stride: usize, rng: &mut ChaCha8Rng| -> Vec<T> {
        (0..len).map(|x| if x % stride < used { T::from_f64(rng.random_range(-1.0..1.0)) } else { T::NAN }).collect()
    };
    let a = fill(count * sa, m * k, sa, rng);
    let b = fill(count * sb, k * n, sb, rng);
    let c0 = fill(count * sc, m * n, sc, rng);
    let (alpha, beta) = (T::from_f64(1.5), T::from_f64(-0.5));
    let mut c = c0.clone();
    let strided = StridedBatch::new(
        count,
        alpha,
        BatchOperand::row_major(&a[..], m, k, sa),
        BatchOperand::col_major(&b[..], k, n, sb),
        beta,
        BatchOperand::row_major(&mut c[..], m, n, sc),
    )
    .expect("a valid strided batch");
    backend.gemm_batch(strided).unwrap_or_else(|e| panic!("{} {}: strided batch: {e}", backend.name(), T::NAME));
    for p in 0..count {
        let what = format!("{} {} strided batch of {count} {m}x{n}x{k}, product {p}", backend.name(), T::NAME);
        let av = MatRef::row_major(&a[p * sa..][..m * k], m, k).expect("inside a");
        let bv = MatRef::col_major(&b[p * sb..][..k * n], k, n).expect("inside b");
        let mut one = c0[p * sc..][..m * n].to_vec();
        let one_view = MatMut::row_major(&mut one, m, n).expect("m × n");
        T::gemm(backend, alpha, av, bv, beta, one_view).unwrap_or_else(|e| panic!("{what}: single call: {e}"));
        let before = MatRef::row_major(&c0[p * sc..][..m * n], m, n).expect("inside c0");
        let check = compare(
            &Problem { alpha, a: av, b: bv, beta, c0: before },
            &MatRef::row_major(&c[p * sc..][..m * n], m, n).expect("inside c"),
        );
        assert!(check.passed(), "{what}: {check:?}");
        let bits = |x: &[T]| x.iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
        if backend.batch_bits_match_single_calls() {
            assert_eq!(bits(&c[p * sc..][..m * n]), bits(&one), "{what}: not the bits of a single call");
        }
        assert!(c[p * sc + m * n].is_nan() && c[p * sc + m * n + 1].is_nan(), "{what}: a sentinel after C was written");
    }
}

/// Whether `backend` multiplies `E` inputs: `false` when it answers
/// [`Error::UnsupportedDtype`] naming `E` (the typed refusal of a backend without them),
/// `true` when a small product succeeds. Panics on any other answer, or if the refusal
/// names the wrong backend or element type.
///
/// Also checks that the answer agrees with [`Backend::supports`].
pub fn supports<E: Element>(backend: &dyn Backend) -> bool {
    let a = Operand::<E>::new(2, 3, OperandLayout::RowMajor, |i, j| E::from_f64((i + j) as f64));
    let mut c = Operand::<E::Acc>::new(2, 2, OperandLayout::RowMajor, |_, _| E::Acc::ZERO);
    let before = c.clone();
    let claimed = backend.supports(E::DTYPE);
    let answer = E::gemm(backend, E::Acc::ONE, a.view(), a.view().t(), E::Acc::ZERO, c.view_mut());
    assert_eq!(
        claimed,
        !matches!(answer, Err(Error::UnsupportedDtype { .. })),
        "{}: supports({}) says {claimed}, the call answered {answer:?}",
        backend.name(),
        E::NAME
    );
    match answer {
        Ok(()) => true,
        Err(Error::UnsupportedDtype { backend: name, dtype }) => {
            assert_eq!((name.as_str(), dtype), (backend.name(), E::DTYPE), "the refusal names the call");
            assert!(c.unchanged_since(&before), "{}: C written by a refused call", backend.name());
            false
        }
        Err(e) => panic!("{} {}: {e}", backend.name(), E::NAME),
    }
}

/// The half-precision suite of one backend for inputs `E` (bf16 or f16): the quick grid
/// (every layout combination, every (α, β) case, with the backend's edge sizes), the BLAS
/// corner cases and the broadcasts, when the backend multiplies `E`; when it does not, that
/// every call, whatever its shape, is refused the same typed way ([`supports`]) and writes
/// nothing. Returns whether it multiplied.
pub fn assert_half<E: Element>(backend: &dyn Backend, extra_sizes: &[usize]) -> bool {
    assert!(E::DTYPE.is_half(), "assert_half is for bf16 and f16, not {}", E::NAME);
    if !supports::<E>(backend) {
        for case in grid(true).iter().step_by(7) {
            let outcome = run_case::<E>(backend, case);
            assert!(
                matches!(outcome.error, Some(Error::UnsupportedDtype { dtype, .. }) if dtype == E::DTYPE),
                "{} {}: refused one call but answered {case} with {outcome}",
                backend.name(),
                E::NAME
            );
        }
        return false;
    }
    assert_grid_with::<E>(backend, true, extra_sizes);
    assert_blas_semantics::<E>(backend);
    assert_broadcasts::<E>(backend);
    assert_shape_errors::<E>(backend);
    true
}

/// Expands into a module of `#[test]`s holding one backend to the shared test matrix:
/// the full grid (with the backend's own edge sizes, if given), property tests (with
/// matmul-core's `proptest` feature), the BLAS corner cases, broadcast operands and the
/// shape errors and the batches ([`assert_batches`]), each in
/// `f32` and `f64`; and for `bf16` and `f16` inputs, [`assert_half`]: the quick grid and
/// the corner cases where the backend multiplies them, the typed refusal where it does not.
///
/// ```ignore
/// matmul_core::backend_test_suite!(naive_ikj, &matmul_naive::NaiveIkj);
/// // A blocked backend adds the sizes around its tiles and blocks:
/// matmul_core::backend_test_suite!(simd, &matmul_simd::Simd, extra_sizes = &[23, 24, 25, 255, 256, 257]);
/// ```
#[macro_export]
macro_rules! backend_test_suite {
    ($module:ident, $backend:expr) => {
        $crate::backend_test_suite!($module, $backend, extra_sizes = &[]);
    };
    ($module:ident, $backend:expr, extra_sizes = $extra:expr) => {
        mod $module {
            #[test]
            fn grid_f32() {
                $crate::testing::assert_grid_with::<f32>($backend, false, $extra);
            }
            #[test]
            fn grid_f64() {
                $crate::testing::assert_grid_with::<f64>($backend, false, $extra);
            }
            $crate::__proptest_tests!($backend);
            #[test]
            fn blas_semantics_f32() {
                $crate::testing::assert_blas_semantics::<f32>($backend);
            }
            #[test]
            fn blas_semantics_f64() {
                $crate::testing::assert_blas_semantics::<f64>($backend);
            }
            #[test]
            fn broadcasts_f32() {
                $crate::testing::assert_broadcasts::<f32>($backend);
            }
            #[test]
            fn broadcasts_f64() {
                $crate::testing::assert_broadcasts::<f64>($backend);
            }
            #[test]
            fn shape_errors_f32() {
                $crate::testing::assert_shape_errors::<f32>($backend);
            }
            #[test]
            fn shape_errors_f64() {
                $crate::testing::assert_shape_errors::<f64>($backend);
            }
            #[test]
            fn batches_f32() {
                $crate::testing::assert_batches::<f32>($backend);
            }
            #[test]
            fn batches_f64() {
                $crate::testing::assert_batches::<f64>($backend);
            }
            #[test]
            fn half_bf16() {
                $crate::testing::assert_half::<$crate::half::bf16>($backend, $extra);
            }
            #[test]
            fn half_f16() {
                $crate::testing::assert_half::<$crate::half::f16>($backend, $extra);
            }
        }
    };
}

/// The property tests of [`backend_test_suite!`], present when matmul-core has its
/// `proptest` feature.
#[cfg(feature = "proptest")]
#[doc(hidden)]
#[macro_export]
macro_rules! __proptest_tests {
    ($backend:expr) => {
        #[test]
        fn random_cases_f32() {
            $crate::testing::proptest_backend::<f32>($backend, 128);
        }
        #[test]
        fn random_cases_f64() {
            $crate::testing::proptest_backend::<f64>($backend, 128);
        }
    };
}

/// Without matmul-core's `proptest` feature the suite has no property tests.
#[cfg(not(feature = "proptest"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __proptest_tests {
    ($backend:expr) => {};
}
