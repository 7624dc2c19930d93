//! Matrix–vector products: `m = 1` or `n = 1`, where a packed GEMM would compute a
//! whole MR × NR tile for every useful row or column.
//!
//! `y ← α·A·x + β·y`, one pass over A, no packing, no allocation, no threads. Two loop
//! orders, chosen by A's layout so that A is read in memory order:
//!
//! * A with unit row stride: `acc[i] += A[i, p]·x[p]` down each column (an axpy per p,
//!   vectorised along i), on a block of rows whose accumulators stay in L1;
//! * A with unit column stride: a dot product per row, split over independent lanes so
//!   that it vectorises (a different summation order from the packed kernels: the result
//!   is within the same error bound, not bit-identical to them).
//!
//! The generic body is compiled once per instruction set (`#[target_feature]` wrappers),
//! so `mul_add` becomes a vector FMA where the CPU has one.

use matmul_core::{MatMut, Scalar};

use crate::isa::Isa;
use crate::pack::Operand;

/// One matrix–vector product: `y ← α·A·x + β·y` with A `m × k`, x a `k × 1` operand and
/// y an `m × 1` view (a column of C, or a row of C transposed).
#[derive(Debug)]
pub(crate) struct Gemv<'a, T> {
    pub m: usize,
    pub k: usize,
    pub alpha: T,
    pub beta: T,
    pub a: Operand<'a, T>,
    pub x: Operand<'a, T>,
    pub y: MatMut<'a, T>,
}

/// Rows of y accumulated at once in the axpy order: 2 KiB of f64, in L1.
const ROWS: usize = 256;
/// Independent partial sums of a dot product: enough vector registers of any width to
/// hide the FMA latency.
const LANES: usize = 32;

#[inline(always)]
fn fma<T: Scalar, const FUSED: bool>(a: T, b: T, c: T) -> T {
    if FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[inline(always)]
fn body<T: Scalar, const FUSED: bool>(g: Gemv<'_, T>) {
    let Gemv { m, k, alpha, beta, a, x, mut y } = g;
    assert!(a.rows == m && a.cols == k && x.rows == k && x.cols == 1 && y.shape() == (m, 1));
    // SAFETY: p < k = x's rows.
    let xs = |p: usize| unsafe { x.at(p, 0) };
    let mut out = |i: usize, acc: T| {
        // β = 0 never reads y (C).
        let value =
            if beta == T::ZERO { alpha * acc } else { fma::<T, FUSED>(alpha, acc, beta * y.get(i, 0).expect("i < m")) };
        let stored = y.set(i, 0, value);
        debug_assert!(stored, "i < m");
    };
    if a.rs == 1 || m == 1 {
        // Columns of A contiguous: axpy down a block of rows at a time.
        for i0 in (0..m).step_by(ROWS) {
            let rows = ROWS.min(m - i0);
            let mut acc = [T::ZERO; ROWS];
            for p in 0..k {
                let col = a.col_run(i0, p, rows);
                let xp = xs(p);
                for (s, &v) in acc.iter_mut().zip(col) {
                    *s = fma::<T, FUSED>(v, xp, *s);
                }
            }
            acc[..rows].iter().enumerate().for_each(|(i, &s)| out(i0 + i, s));
        }
    } else if a.cs == 1 && x.rs == 1 {
        // Rows of A and x contiguous: a dot product per row over LANES partial sums.
        let xv = x.col_run(0, 0, k);
        for i in 0..m {
            let row = a.row_run(i, 0, k);
            let mut part = [T::ZERO; LANES];
            let (rc, xc) = (row.chunks_exact(LANES), xv.chunks_exact(LANES));
            let (rr, xr) = (rc.remainder(), xc.remainder());
            for (r, xx) in rc.zip(xc) {
                for l in 0..LANES {
                    part[l] = fma::<T, FUSED>(r[l], xx[l], part[l]);
                }
            }
            for (l, (&r, &xx)) in rr.iter().zip(xr).enumerate() {
                part[l] = fma::<T, FUSED>(r, xx, part[l]);
            }
            // Pairwise, in a fixed order.
            let mut width = LANES;
            while width > 1 {
                width /= 2;
                for l in 0..width {
                    part[l] += part[l + width];
                }
            }
            out(i, part[0]);
        }
    } else {
        for i in 0..m {
            // SAFETY: i < m and p < k: an element of A (asserted above).
            let acc = (0..k).fold(T::ZERO, |s, p| fma::<T, FUSED>(unsafe { a.at(i, p) }, xs(p), s));
            out(i, acc);
        }
    }
}

/// # Safety
/// The CPU has avx512f.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gemv_avx512<T: Scalar>(g: Gemv<'_, T>) {
    body::<T, true>(g);
}

/// # Safety
/// The CPU has avx2 and fma.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn gemv_avx2<T: Scalar>(g: Gemv<'_, T>) {
    body::<T, true>(g);
}

/// Runs the product with the instructions of `isa` (fused multiply-adds on AVX2 and
/// AVX-512, as their GEMM kernels; the portable build's `a·b + c` otherwise, unless the
/// build itself has FMA).
///
/// # Safety
/// The CPU supports `isa`.
pub(crate) unsafe fn gemv<T: Scalar>(isa: Isa, g: Gemv<'_, T>) {
    match isa {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        // SAFETY: the caller guarantees avx512f (avx512f implies avx2 and fma on every CPU
        // that has it, and `Isa::Avx512` is only selected where `is_x86_feature_detected!`
        // said so).
        Isa::Avx512 => unsafe { gemv_avx512(g) },
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        // SAFETY: the caller guarantees avx2 and fma.
        Isa::Avx2 => unsafe { gemv_avx2(g) },
        _ => body::<T, { cfg!(target_feature = "fma") }>(g),
    }
}
