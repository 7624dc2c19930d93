//! The lecture's two triple loops, in safe Rust with no explicit SIMD and no blocking.
//!
//! * [`NaiveIjk`] (`naive-ijk`): for i, for j, for k — each `C[i, j]` is a dot product of a
//!   row of A and a column of B. With row-major B the column walk strides through memory
//!   and the sum is one serial dependency chain, so it neither vectorises nor uses the cache well.
//! * [`NaiveIkj`] (`naive-ikj`): for i, for k, for j — row `i` of C is updated by
//!   `α·A[i, k]` times row `k` of B. With row-major B and C the inner loop walks two
//!   contiguous rows with independent updates, which the compiler vectorises.
//! * [`NaiveIjkReassoc`] (`naive-ijk-reassoc`, module [`reassoc`]): the ijk loop with its
//!   dot product split over independent accumulators — the reassociation a fast-math flag
//!   would permit — so it vectorises too, and rounds differently. The module docs hold the
//!   lecture's `(a + b) + c ≠ a + (b + c)` example.
//!
//! Both multiply every element type: bf16 and f16 inputs are widened to `f32` as each
//! element is read, and the loops run in `f32` (`naive-ijk-reassoc` has `f32` and `f64` only).
//!
//! Both are written the way a compiler-friendly loop is written: the inner loop zips
//! contiguous slices when the layout provides them (no bounds checks inside), and falls
//! back to strided iterators for other layouts. They are baselines: their speed on each
//! layout is the lecture's lesson, so they deliberately do not reorder loops to suit it.
//!
//! ```
//! use matmul_core::{Backend, Layout, Matrix};
//! use matmul_naive::NaiveIkj;
//!
//! let a = Matrix::<f64>::from_fn(2, 2, Layout::RowMajor, |i, j| (i + j) as f64);
//! let b = Matrix::<f64>::from_fn(2, 2, Layout::ColMajor, |i, j| (i * j) as f64);
//! let mut c = Matrix::<f64>::zeros(2, 2, Layout::RowMajor);
//! NaiveIkj.gemm_f64(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
//! assert_eq!(c.as_slice(), &[0.0, 1.0, 0.0, 2.0]);
//! # Ok::<(), matmul_core::Error>(())
//! ```
#![forbid(unsafe_code)]

use matmul_core::{scale_c, Backend, BackendKind, Dtype, Element, GemmPlan, MatMut, MatRef, Result};

pub mod reassoc;
pub use reassoc::NaiveIjkReassoc;

/// `naive-ijk`: the dot-product loop order.
#[derive(Clone, Copy, Debug, Default)]
pub struct NaiveIjk;

/// `naive-ikj`: the row-update loop order.
#[derive(Clone, Copy, Debug, Default)]
pub struct NaiveIkj;

/// `C ← α·A·B + β·C`, for i, for j, for k.
///
/// `#[inline(never)]` (here and on [`ikj`]) keeps one symbol per element type, the
/// monomorphised instances `cargo xtask asm` finds and reads; it costs one call per gemm.
#[inline(never)]
///
/// A and B in `E`, each element widened to `E::Acc` as it is read (a no-op for `f32` and
/// `f64`); the arithmetic in `E::Acc`.
fn ijk<E: Element>(
    alpha: E::Acc,
    a: MatRef<'_, E>,
    b: MatRef<'_, E>,
    beta: E::Acc,
    mut c: MatMut<'_, E::Acc>,
) -> Result<()> {
    let GemmPlan::Compute { m, n, .. } = GemmPlan::prepare(alpha, &a, &b, beta, &mut c)? else {
        return Ok(());
    };
    for i in 0..m {
        for j in 0..n {
            let dot = match (a.row_slice(i), b.col_slice(j)) {
                // Both contiguous: a zip of slices, no index arithmetic.
                (Some(ar), Some(bc)) => ar.iter().zip(bc).fold(E::Acc::ZERO, |s, (&x, &y)| s + x.to_acc() * y.to_acc()),
                _ => a.row_iter(i).zip(b.col_iter(j)).fold(E::Acc::ZERO, |s, (x, y)| s + x.to_acc() * y.to_acc()),
            };
            // β = 0 must not read C: a NaN there would survive 0·NaN.
            let zero = E::Acc::ZERO;
            let old = if beta == zero { zero } else { beta * c.get(i, j).expect("i < m and j < n lie inside C") };
            let stored = c.set(i, j, alpha * dot + old);
            debug_assert!(stored, "i < m and j < n lie inside C");
        }
    }
    Ok(())
}

/// `C ← α·A·B + β·C`, for i, for k, for j.
#[inline(never)]
fn ikj<E: Element>(
    alpha: E::Acc,
    a: MatRef<'_, E>,
    b: MatRef<'_, E>,
    beta: E::Acc,
    mut c: MatMut<'_, E::Acc>,
) -> Result<()> {
    let GemmPlan::Compute { m, k, .. } = GemmPlan::prepare(alpha, &a, &b, beta, &mut c)? else {
        return Ok(());
    };
    // Scale all of C first (β = 0 writes zeros without reading): the update loop then only adds.
    scale_c(beta, &mut c);
    if c.is_row_major() && b.is_row_major() {
        // Rows of B and C contiguous: the inner loop is two slices zipped, independent
        // updates that vectorise. Row i of C is taken once per i and row p of B once per
        // (i, p), so nothing but the arithmetic stays in the inner loop.
        for i in 0..m {
            let c_row = c.row_slice_mut(i).expect("C is row-major");
            for (p, a_ip) in a.row_iter(i).enumerate() {
                let a_ip = alpha * a_ip.to_acc();
                let b_row = b.row_slice(p).expect("B is row-major");
                c_row.iter_mut().zip(b_row).for_each(|(x, &y)| *x += a_ip * y.to_acc());
            }
        }
    } else {
        for i in 0..m {
            for p in 0..k {
                let a_ip = alpha * a.get(i, p).map_or(E::Acc::ZERO, Element::to_acc);
                c.row_iter_mut(i).zip(b.row_iter(p)).for_each(|(x, y)| *x += a_ip * y.to_acc());
            }
        }
    }
    Ok(())
}

impl Backend for NaiveIjk {
    fn name(&self) -> &'static str {
        "naive-ijk"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Loops
    }
    fn description(&self) -> &'static str {
        "triple loop i, j, k: a dot product per element of C"
    }
    fn supports(&self, _: Dtype) -> bool {
        true
    }
    matmul_core::gemm_methods!(|_this, alpha, a, b, beta, c| ijk(alpha, a, b, beta, c));
    matmul_core::gemm_methods!(half | _this, alpha, a, b, beta, c | ijk(alpha, a, b, beta, c));
}

impl Backend for NaiveIkj {
    fn name(&self) -> &'static str {
        "naive-ikj"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Loops
    }
    fn description(&self) -> &'static str {
        "triple loop i, k, j: a row of C updated by a row of B"
    }
    fn supports(&self, _: Dtype) -> bool {
        true
    }
    matmul_core::gemm_methods!(|_this, alpha, a, b, beta, c| ikj(alpha, a, b, beta, c));
    matmul_core::gemm_methods!(half | _this, alpha, a, b, beta, c | ikj(alpha, a, b, beta, c));
}
