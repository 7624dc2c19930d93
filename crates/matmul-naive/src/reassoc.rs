//! `naive-ijk-reassoc`: the ijk loop with its dot product **reassociated** — what a
//! fast-math flag would allow the compiler to do, written out by hand because Rust has no
//! such flag.
//!
//! # What changed, and why it is faster
//!
//! [`NaiveIjk`](crate::NaiveIjk) sums `s = ((a₀b₀ + a₁b₁) + a₂b₂) + …`: every addition
//! needs the previous one's result, so the loop is one serial chain of dependent adds
//! (one per 3–4 cycles) and the compiler may not reorder it, because floating-point
//! addition is not associative and reordering changes the result. Here the sum is split
//! over `L` independent accumulators: lane `l` sums the terms `p ≡ l (mod L)`, and the
//! lanes are added together pairwise at the end. The lanes are independent, so LLVM turns
//! them into a few vector registers updated by packed multiplies and adds (4 × f64 or
//! 8 × f32 per AVX2 instruction), with several registers in flight to hide the add
//! latency: `cargo xtask asm naive-ijk-reassoc` shows the packed loop, `cargo xtask asm
//! naive-ijk` the scalar one. No explicit SIMD and no `unsafe`: `chunks_exact` plus an
//! array of accumulators is enough for the vectoriser.
//!
//! The price is that **the result changes**: the additions happen in a different order,
//! so they round differently. It stays within the same error bound (the bound of
//! [`matmul_core::reference`] holds for every summation order), and splitting one long
//! chain into `L` shorter ones usually makes the error *smaller*, since each rounding
//! then acts on a partial sum about `L` times smaller (`cargo xtask accuracy` measures it).
//!
//! # Layouts
//!
//! The fast path needs row `i` of A and column `j` of B contiguous. When B's columns are
//! not (B row-major, or any other layout), B is first copied once into a column-major
//! scratch buffer of `k·n` elements; when A's rows are not, row `i` of A is copied into a
//! scratch buffer of `k` elements before its `n` dot products. So every layout runs the
//! same vectorised loop, at the cost of that extra memory. (The copy of B also removes the
//! strided column walk that makes `naive-ijk` slow on row-major B; with column-major B
//! nothing is copied and the speed-up over `naive-ijk` is the reassociation alone.)
//!
//! # The lecture's example
//!
//! Floating-point addition is not associative: the same three numbers summed in two
//! orders give two answers.
//!
//! ```
//! let (a, b, c) = (1e9_f64, -1e9_f64, 0.1_f64);
//! let left = (a + b) + c; // 0 + 0.1: exact cancellation first, then 0.1
//! let right = a + (b + c); // −1e9 + 0.1 rounds to a multiple of 2⁻²³ first
//! println!("(a + b) + c = {left:?}");
//! println!("a + (b + c) = {right:?}");
//! assert_eq!(left, 0.1);
//! assert_ne!(left, right);
//! assert!((right - 0.1).abs() < 1e-7); // off in the 8th digit, not wrong by much
//! ```

use matmul_core::{Backend, BackendKind, GemmPlan, MatMut, MatRef, Result, Scalar};

/// `naive-ijk-reassoc`: the dot-product loop order with the sum split over independent
/// accumulators. See the [module docs](self).
#[derive(Clone, Copy, Debug, Default)]
pub struct NaiveIjkReassoc;

/// Accumulators for `f32`: four 256-bit registers of 8 lanes, enough independent adds
/// in flight to cover the add latency on two ports.
const LANES_F32: usize = 32;
/// Accumulators for `f64`: four 256-bit registers of 4 lanes.
const LANES_F64: usize = 16;

/// `Σₚ x[p]·y[p]` over `L` interleaved accumulators, combined pairwise at the end.
///
/// `x` and `y` have the same length (the caller passes a row of A and a column of B).
#[inline(always)]
fn dot<T: Scalar, const L: usize>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::ZERO; L];
    let (xs, ys) = (x.chunks_exact(L), y.chunks_exact(L));
    let (x_tail, y_tail) = (xs.remainder(), ys.remainder());
    for (xc, yc) in xs.zip(ys) {
        // Fixed-size arrays: the compiler sees L independent updates with no bounds checks,
        // keeps the accumulators in vector registers and updates them with packed ops.
        // (`chunks_exact` yields exactly L elements, so the conversions always succeed.)
        let (Ok(xc), Ok(yc)) = (<&[T; L]>::try_from(xc), <&[T; L]>::try_from(yc)) else { continue };
        for ((s, &a), &b) in acc.iter_mut().zip(xc).zip(yc) {
            *s += a * b;
        }
    }
    // The last k mod L terms go to the lanes as well, padded with zeros (which add
    // nothing) so that this update too has the fixed shape the accumulators need to stay
    // in registers.
    let (mut xt, mut yt) = ([T::ZERO; L], [T::ZERO; L]);
    xt[..x_tail.len()].copy_from_slice(x_tail);
    yt[..y_tail.len()].copy_from_slice(y_tail);
    for ((s, &a), &b) in acc.iter_mut().zip(&xt).zip(&yt) {
        *s += a * b;
    }
    // Pairwise combination of the lanes: log₂ L levels of additions. On a copy, so that the
    // accumulators themselves are only ever indexed by constants and stay in registers.
    let mut lanes = acc;
    let mut width = L;
    while width > 1 {
        width /= 2;
        let (lo, hi) = lanes.split_at_mut(width);
        for (s, &t) in lo.iter_mut().zip(hi.iter()) {
            *s += t;
        }
    }
    lanes[0]
}

/// `C ← α·A·B + β·C`, for i, for j, a reassociated dot product over k.
///
/// `#[inline(never)]` keeps one symbol per element type, which `cargo xtask asm` finds.
#[inline(never)]
fn ijk_reassoc<T: Scalar, const L: usize>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) -> Result<()> {
    let GemmPlan::Compute { m, n, k } = GemmPlan::prepare(alpha, &a, &b, beta, &mut c)? else {
        return Ok(());
    };
    // B's columns contiguous, copied once if they are not (see the module docs).
    let b_copy: Option<Vec<T>> =
        if b.col_slice(0).is_some() { None } else { Some((0..n).flat_map(|j| b.col_iter(j)).collect()) };
    let b_col = |j: usize| -> &[T] {
        match &b_copy {
            Some(cols) => &cols[j * k..(j + 1) * k],
            // Checked above for column 0; every column of a view has the same stride.
            None => b.col_slice(j).unwrap_or(&[]),
        }
    };
    let mut a_row_copy = Vec::new();
    for i in 0..m {
        let a_row: &[T] = match a.row_slice(i) {
            Some(row) => row,
            None => {
                a_row_copy.clear();
                a_row_copy.extend(a.row_iter(i));
                &a_row_copy
            }
        };
        for j in 0..n {
            let dot = dot::<T, L>(a_row, b_col(j));
            // β = 0 must not read C: a NaN there would survive 0·NaN.
            let old = if beta == T::ZERO { T::ZERO } else { beta * c.get(i, j).expect("i < m and j < n lie inside C") };
            let stored = c.set(i, j, alpha * dot + old);
            debug_assert!(stored, "i < m and j < n lie inside C");
        }
    }
    Ok(())
}

impl Backend for NaiveIjkReassoc {
    fn name(&self) -> &'static str {
        "naive-ijk-reassoc"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Loops
    }
    fn description(&self) -> &'static str {
        "triple loop i, j, k with the dot product split over independent accumulators"
    }
    fn gemm_f32(
        &self,
        alpha: f32,
        a: MatRef<'_, f32>,
        b: MatRef<'_, f32>,
        beta: f32,
        c: MatMut<'_, f32>,
    ) -> Result<()> {
        ijk_reassoc::<f32, LANES_F32>(alpha, a, b, beta, c)
    }
    fn gemm_f64(
        &self,
        alpha: f64,
        a: MatRef<'_, f64>,
        b: MatRef<'_, f64>,
        beta: f64,
        c: MatMut<'_, f64>,
    ) -> Result<()> {
        ijk_reassoc::<f64, LANES_F64>(alpha, a, b, beta, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_sums_every_term_for_every_length() {
        // Small integers: every order gives the exact sum, so any lost or doubled term shows.
        for len in 0..100 {
            let x: Vec<f64> = (0..len).map(|p| (p % 7) as f64 - 3.0).collect();
            let y: Vec<f64> = (0..len).map(|p| (p % 5) as f64 + 1.0).collect();
            let expected: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
            assert_eq!(dot::<f64, LANES_F64>(&x, &y), expected, "len {len}");
            let (xf, yf): (Vec<f32>, Vec<f32>) =
                (x.iter().map(|&v| v as f32).collect(), y.iter().map(|&v| v as f32).collect());
            assert_eq!(dot::<f32, LANES_F32>(&xf, &yf), expected as f32, "len {len}");
        }
    }

    #[test]
    fn reassociation_changes_the_rounding() {
        // 1 followed by 16 copies of u/2·… : summed left to right each tiny term is lost
        // against 1; summed in lanes the tiny terms meet each other first and survive.
        let tiny = f64::EPSILON / 4.0;
        let mut x = vec![tiny; 32];
        x[0] = 1.0;
        let y = vec![1.0; 32];
        let serial = x.iter().zip(&y).fold(0.0, |s, (a, b)| s + a * b);
        assert_eq!(serial, 1.0);
        assert!(dot::<f64, LANES_F64>(&x, &y) > 1.0);
    }
}
