//! The higher-precision reference and the error bound every backend is held to.
//!
//! # The bound
//!
//! For one entry `c = α·Σₚ a_p·b_p + β·c₀` computed in a floating-point type with unit
//! roundoff `u`, the standard forward-error analysis of a dot product (Higham, *Accuracy
//! and Stability of Numerical Algorithms*, §3.1) gives, for **any** summation order, with
//! or without fused multiply-add, blocked or not:
//!
//! ```text
//! |c − c_exact| ≤ γ_{k+2} · M,   M = |α|·Σₚ |a_p|·|b_p| + |β|·|c₀|,   γ_j = j·u / (1 − j·u)
//! ```
//!
//! The `k` of the usual `γ_k` bound covers the k products and k − 1 additions of the dot
//! product; the margin of **two** more roundings covers the scaling by α (whether applied
//! to the sum or to each `a_p`) and the scaling by β followed by the final addition. This
//! is the textbook `γ_k·(|α|·|A|·|B| + |β|·|C₀|)` (Higham, *Accuracy and Stability of
//! Numerical Algorithms*, §3.5) with the smallest margin that holds for
//! every loop order a backend may use.
//!
//! We compare against a reference, not the exact value, so the tolerance adds the
//! reference's own error (triangle inequality):
//!
//! * the reference converts to `f64` (exact) and sums with a compensated dot product
//!   (TwoProduct/TwoSum, Ogita–Rump–Oishi "Dot2"), accurate to `u_d·|s| + γ_k(u_d)²·Σ|a·b|`
//!   with `u_d = 2⁻⁵³`; scaling by α, by β and the final addition add three roundings. We
//!   use `(γ_4(u_d) + 2·γ_k(u_d)²)·M`, which also covers the relative error `γ_{k+2}(u_d)`
//!   of computing `M` itself in `f64` (second order next to `γ_{k+2}(u)`). For `f32` this
//!   term is ~2⁻²⁹ of the main one; for `f64` it loosens the bound by at most 4 units of `u·M`.
//! * underflow: a product or scaling that lands among subnormals may add an absolute error
//!   of half the subnormal spacing `η`, which no relative bound covers; we add `(k+2)·η`
//!   for the backend's type and for `f64`.
//!
//! The bound is rigorous, so it never fails a correct backend and never needs loosening;
//! it is about `k·u` relative, so a single wrong element (a wrong index, a missed term, a
//! stray write) exceeds it by orders of magnitude.
//!
//! ```
//! use matmul_core::reference::gamma;
//! // For f64 and k = 64 + 2, γ is about 66 units of roundoff.
//! let g = gamma(66, f64::EPSILON / 2.0);
//! assert!(g > 66.0 * 1.1e-16 && g < 66.0 * 1.2e-16);
//! ```

use crate::{Element, MatRef, Scalar};

/// `γ_j = j·u / (1 − j·u)`; infinite when `j·u ≥ 1` (no bound holds).
pub fn gamma(j: usize, u: f64) -> f64 {
    let ju = j as f64 * u;
    if ju >= 1.0 {
        f64::INFINITY
    } else {
        ju / (1.0 - ju)
    }
}

const U_F64: f64 = f64::EPSILON / 2.0;

/// The error bound of one entry, given `M = |α|·Σ|a·b| + |β|·|c₀|` and the inner dimension `k`,
/// for a backend computing in `T`. See the module docs for each term.
pub fn bound<T: Scalar>(m_abs: f64, k: usize) -> f64 {
    let backend = gamma(k + 2, T::UNIT_ROUNDOFF) * m_abs;
    let reference = (gamma(4, U_F64) + 2.0 * gamma(k, U_F64).powi(2)) * m_abs;
    let underflow = (k + 2) as f64 * (T::MIN_SUBNORMAL + f64::MIN_POSITIVE * f64::EPSILON);
    backend + reference + underflow
}

/// Error of `computed` against `value`, as a fraction of `bound`: ≤ 1 passes.
///
/// A NaN reference must be matched by a NaN; a NaN where the reference is a number is an
/// infinite error. Equal values (including equal infinities) are 0.
pub fn err_over_bound(computed: f64, value: f64, bound: f64) -> f64 {
    if value.is_nan() {
        return if computed.is_nan() { 0.0 } else { f64::INFINITY };
    }
    if computed == value {
        return 0.0;
    }
    let diff = (computed - value).abs();
    if diff.is_nan() || bound == 0.0 {
        return f64::INFINITY;
    }
    diff / bound
}

/// `(s, e)` with `s = fl(a + b)` and `a + b = s + e` exactly (Knuth's TwoSum).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// One entry of the reference: the value and its error bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    /// `α·(A·B)_{ij} + β·C₀_{ij}` in higher precision.
    pub value: f64,
    /// The tolerance a backend computing in the input type is held to.
    pub bound: f64,
}

/// The inputs of `C ← α·A·B + β·C₀`, as the reference sees them: A and B in `E`, α, β
/// and C in `E::Acc`.
///
/// For the half types the bound is the `f32` bound: each input widens to `f32` exactly,
/// so the product a backend computes is an `f32` product of those values, held to
/// `γ_{k+2}(2⁻²⁴)·M` like any other (and every product of two widened halves is exact in
/// `f32`, which only makes the bound the more generous of the two terms it covers).
///
/// For `bf16` ([`Element::MAY_FLUSH_SUBNORMALS`]) the bound also allows flush-to-zero
/// arithmetic, the way bf16 dot-product instructions compute (`vdpbf16ps` reads a
/// subnormal input as zero and flushes a subnormal result): a product with a subnormal
/// factor may be dropped whole, and each of the `k` products and `k` additions may lose up
/// to the smallest normal `f32` (2⁻¹²⁶) when its result is subnormal. So the entry's bound
/// gains `|α|·(Σ_{p: a_p or b_p subnormal} |a_p·b_p| + 2k·2⁻¹²⁶)`. For data without
/// subnormal inputs this is below 10⁻³⁵·k: nothing next to the relative term.
/// (An infinite input times a subnormal one is the one case still outside the bound:
/// such hardware gives NaN where the reference gives an infinity.)
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a, E: Element> {
    /// α.
    pub alpha: E::Acc,
    /// A, `m × k`.
    pub a: MatRef<'a, E>,
    /// B, `k × n`.
    pub b: MatRef<'a, E>,
    /// β.
    pub beta: E::Acc,
    /// C before the call, `m × n`. Not read when β = 0.
    pub c0: MatRef<'a, E::Acc>,
}

impl<E: Element> Problem<'_, E> {
    /// The reference value and bound of entry `(i, j)`, following BLAS's rules: with β = 0,
    /// C₀ is ignored (a NaN there does not count); with α = 0 or k = 0, A and B are.
    ///
    /// Panics if `(i, j)` is outside C or the shapes do not fit (a bug in the caller's test).
    pub fn entry(&self, i: usize, j: usize) -> Entry {
        let k = self.a.ncols();
        assert_eq!(self.b.nrows(), k, "reference: A's columns must equal B's rows");
        let alpha = self.alpha.to_f64();
        let beta = self.beta.to_f64();

        let (mut dot, mut dot_abs, mut flushable) = (0.0, 0.0, 0.0);
        let subnormal = |x: f64| x != 0.0 && x.abs() < <E::Acc as Scalar>::MIN_NORMAL;
        if alpha != 0.0 && k > 0 {
            // Dot2: the sum of the rounding errors of every product and addition,
            // accumulated separately and added back at the end.
            let (mut s, mut err) = (0.0f64, 0.0f64);
            for (x, y) in self.a.row_iter(i).zip(self.b.col_iter(j)) {
                let (x, y) = (x.to_f64(), y.to_f64());
                let p = x * y;
                let p_err = x.mul_add(y, -p);
                let (s_new, s_err) = two_sum(s, p);
                s = s_new;
                err += p_err + s_err;
                dot_abs += p.abs();
                if E::MAY_FLUSH_SUBNORMALS && (subnormal(x) || subnormal(y)) {
                    flushable += p.abs();
                }
            }
            dot = s + err;
        }
        let c0 = if beta == 0.0 { 0.0 } else { self.c0.get(i, j).expect("(i, j) inside C").to_f64() };
        let value = alpha * dot + beta * c0;
        let m_abs = alpha.abs() * dot_abs + beta.abs() * c0.abs();
        let k_used = if alpha == 0.0 { 0 } else { k };
        let mut bound = bound::<E::Acc>(m_abs, k_used);
        if E::MAY_FLUSH_SUBNORMALS {
            // Dropped products, and flushed products and partial sums, all scaled by α.
            bound += alpha.abs() * (flushable + 2.0 * k_used as f64 * <E::Acc as Scalar>::MIN_NORMAL);
        }
        Entry { value, bound }
    }
}

/// How a computed C compares with the reference.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Entries compared.
    pub checked: usize,
    /// Entries whose error exceeds the bound.
    pub failures: usize,
    /// The largest error relative to its bound (0 when nothing was compared).
    pub max_err_over_bound: f64,
    /// Where that largest error is.
    pub worst: Option<(usize, usize)>,
}

impl Comparison {
    /// Whether every compared entry is within its bound.
    pub fn passed(&self) -> bool {
        self.failures == 0
    }

    fn record(&mut self, i: usize, j: usize, ratio: f64) {
        self.checked += 1;
        // A NaN ratio counts as a failure and as the worst.
        let fails = ratio.is_nan() || ratio > 1.0;
        if fails {
            self.failures += 1;
        }
        if self.worst.is_none() || ratio.is_nan() || ratio > self.max_err_over_bound {
            self.max_err_over_bound = ratio;
            self.worst = Some((i, j));
        }
    }
}

/// Compares every entry of `c` (the backend's result) with the reference of `problem`.
///
/// O(m·n·k): for large products use [`compare_sample`].
pub fn compare<E: Element>(problem: &Problem<'_, E>, c: &MatRef<'_, E::Acc>) -> Comparison {
    let mut out = Comparison::default();
    for i in 0..c.nrows() {
        for j in 0..c.ncols() {
            let e = problem.entry(i, j);
            out.record(i, j, err_over_bound(c.get(i, j).expect("inside C").to_f64(), e.value, e.bound));
        }
    }
    out
}

/// Compares the listed entries of `c` only.
pub fn compare_sample<E: Element>(
    problem: &Problem<'_, E>,
    c: &MatRef<'_, E::Acc>,
    entries: &[(usize, usize)],
) -> Comparison {
    let mut out = Comparison::default();
    for &(i, j) in entries {
        let e = problem.entry(i, j);
        out.record(i, j, err_over_bound(c.get(i, j).expect("inside C").to_f64(), e.value, e.bound));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Layout, Matrix};

    #[test]
    fn compensated_dot_recovers_cancelled_terms() {
        // 1e16 + 1 − 1e16 in plain f64 is 0; the compensated sum gets 1.
        let a = Matrix::<f64>::from_vec(vec![1e16, 1.0, -1e16], 1, 3, Layout::RowMajor).unwrap();
        let b = Matrix::<f64>::from_vec(vec![1.0; 3], 3, 1, Layout::RowMajor).unwrap();
        let c0 = Matrix::<f64>::zeros(1, 1, Layout::RowMajor);
        let p = Problem { alpha: 1.0, a: a.as_ref(), b: b.as_ref(), beta: 0.0, c0: c0.as_ref() };
        assert_eq!(p.entry(0, 0).value, 1.0);
    }

    #[test]
    fn beta_zero_ignores_nan_and_alpha_zero_ignores_ab() {
        let a = Matrix::<f32>::from_vec(vec![f32::NAN; 2], 1, 2, Layout::RowMajor).unwrap();
        let b = Matrix::<f32>::from_vec(vec![1.0; 2], 2, 1, Layout::RowMajor).unwrap();
        let c0 = Matrix::<f32>::from_vec(vec![f32::NAN], 1, 1, Layout::RowMajor).unwrap();
        let p = Problem { alpha: 0.0, a: a.as_ref(), b: b.as_ref(), beta: 0.0, c0: c0.as_ref() };
        assert_eq!(p.entry(0, 0).value, 0.0);
        let p = Problem { alpha: 1.0, ..p };
        assert!(p.entry(0, 0).value.is_nan());
    }

    #[test]
    fn bound_catches_one_ulp_per_term_but_not_less() {
        // k = 100 terms of 1·1: exact value 100, M = 100.
        let k = 100;
        let e = bound::<f32>(100.0, k);
        let u = f32::EPSILON as f64 / 2.0;
        assert!(e >= 102.0 * u * 100.0);
        assert!(e < 103.0 * u * 100.0);
        assert!(err_over_bound(100.0 + e * 0.99, 100.0, e) <= 1.0);
        assert!(err_over_bound(100.0 + e * 1.01, 100.0, e) > 1.0);
        assert!(err_over_bound(f64::NAN, 100.0, e).is_infinite());
        assert_eq!(err_over_bound(f64::NAN, f64::NAN, e), 0.0);
    }

    #[test]
    fn bf16_bound_allows_flushed_subnormals_and_nothing_more() {
        use half::bf16;
        // a₀ = 2⁻¹³⁰ is subnormal (in bf16 and f32): flush-to-zero arithmetic drops
        // a₀·b₀ = 2⁻³⁰ whole.
        let (tiny, huge) = (2f64.powi(-130), 2f64.powi(100));
        let c0 = Matrix::<f32>::zeros(1, 1, Layout::RowMajor);
        let entry_bf16 = |a1: f64| {
            let (a, b) = ([bf16::from_f64(tiny), bf16::from_f64(a1)], [bf16::from_f64(huge), bf16::ONE]);
            let (a, b) = (MatRef::row_major(&a, 1, 2).unwrap(), MatRef::row_major(&b, 2, 1).unwrap());
            Problem { alpha: 1.0, a, b, beta: 0.0, c0: c0.as_ref() }.entry(0, 0)
        };
        // The dropped product dominates: flushed, the result is a₁·b₁ = 2⁻⁴⁰ alone.
        let (flushed, e) = (2f64.powi(-40), entry_bf16(2f64.powi(-40)));
        assert_eq!(e.value, 2f64.powi(-30) + flushed);
        assert!(err_over_bound(flushed, e.value, e.bound) <= 1.0, "the flushed product is allowed");
        // The same values in f32 (which never flushes) get no such allowance.
        let (a32, b32) = ([tiny as f32, flushed as f32], [huge as f32, 1.0]);
        let e32 = Problem {
            alpha: 1.0f32,
            a: MatRef::row_major(&a32, 1, 2).unwrap(),
            b: MatRef::row_major(&b32, 2, 1).unwrap(),
            beta: 0.0,
            c0: c0.as_ref(),
        }
        .entry(0, 0);
        assert_eq!(e32.value, e.value);
        assert!(err_over_bound(flushed, e32.value, e32.bound) > 1.0);
        // A dropped normal product is still an error: with a₁ = 1, losing a₁·b₁ fails.
        let e = entry_bf16(1.0);
        assert!(err_over_bound(1.0, e.value, e.bound) <= 1.0);
        assert!(err_over_bound(2f64.powi(-30), e.value, e.bound) > 1.0);
    }

    #[test]
    fn comparison_reports_the_worst_entry() {
        let mut c = Comparison::default();
        c.record(0, 0, 0.5);
        c.record(1, 2, 3.0);
        c.record(2, 2, f64::INFINITY);
        c.record(3, 3, 0.1);
        assert_eq!(c.checked, 4);
        assert_eq!(c.failures, 2);
        assert_eq!(c.worst, Some((2, 2)));
    }
}
