//! AVX2 + FMA kernels: 16 registers of 256 bits.
//!
//! * `f64_avx2_8x6`: 2 vectors of A × 6 broadcasts of B = 12 accumulators, plus 2 A
//!   vectors and 1 broadcast: 15 of the 16 registers. 12 FMAs per step of k.
//! * `f32_avx2_16x6`: the same shape in f32.
//!
//! AVX2 has no cheap masked store for this, so edge tiles (and general-stride C) go through
//! the kernel's staging tile.

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use crate::isa::Isa;
use crate::kernel::{microkernel, sized_tile, Dest, Lanes, Strided};
use crate::pack::Operand;
use crate::params;

impl Lanes for __m256d {
    type Elem = f64;
    const LANES: usize = 4;
    const MASKED: bool = false;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller guarantees avx2+fma.
        unsafe { _mm256_setzero_pd() }
    }
    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        // SAFETY: the caller guarantees avx2+fma.
        unsafe { _mm256_set1_pd(x) }
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: the caller guarantees avx2+fma.
        unsafe { _mm256_fmadd_pd(a, b, c) }
    }
    #[inline(always)]
    unsafe fn mul(a: Self, b: Self) -> Self {
        // SAFETY: the caller guarantees avx2+fma.
        unsafe { _mm256_mul_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn load_packed(p: *const f64) -> Self {
        // SAFETY: avx2 and 4 readable elements, 64-byte aligned (caller).
        unsafe { _mm256_load_pd(p) }
    }
    #[inline(always)]
    unsafe fn load_partial(p: *const f64, n: usize) -> Self {
        debug_assert_eq!(n, 4);
        // SAFETY: avx2 and 4 readable elements: not MASKED, so the caller passes n = LANES.
        unsafe { _mm256_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn store_partial(p: *mut f64, v: Self, n: usize) {
        debug_assert_eq!(n, 4);
        // SAFETY: avx2 and 4 writable elements: n = LANES (caller).
        unsafe { _mm256_storeu_pd(p, v) }
    }
}

impl Lanes for __m256 {
    type Elem = f32;
    const LANES: usize = 8;
    const MASKED: bool = false;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller guarantees avx2+fma.
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: the caller guarantees avx2+fma.
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: the caller guarantees avx2+fma.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn mul(a: Self, b: Self) -> Self {
        // SAFETY: the caller guarantees avx2+fma.
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn load_packed(p: *const f32) -> Self {
        // SAFETY: avx2 and 8 readable elements, 64-byte aligned (caller).
        unsafe { _mm256_load_ps(p) }
    }
    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> Self {
        debug_assert_eq!(n, 8);
        // SAFETY: avx2 and 8 readable elements: n = LANES (caller).
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store_partial(p: *mut f32, v: Self, n: usize) {
        debug_assert_eq!(n, 8);
        // SAFETY: avx2 and 8 writable elements: n = LANES (caller).
        unsafe { _mm256_storeu_ps(p, v) }
    }
}

/// f64, AVX2 + FMA, 8 × 6 register tile.
///
/// # Safety
/// [`MicroKernel::run`](crate::kernel::MicroKernel::run)'s contract with MR = 8, NR = 6, on
/// a CPU with avx2 and fma.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn f64_avx2_8x6(kc: usize, a: *const f64, b: *const f64, dest: Dest<f64>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s, and this function enables avx2 and fma.
    sized_tile!(__m256d, [1] else 2, 6 / [3], true, kc, Strided { a, lda: 8, b, b_rs: 6, b_cs: 1 }, dest)
}

/// f32, AVX2 + FMA, 16 × 6 register tile.
///
/// # Safety
/// [`MicroKernel::run`](crate::kernel::MicroKernel::run)'s contract with MR = 16, NR = 6,
/// on a CPU with avx2 and fma.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn f32_avx2_16x6(kc: usize, a: *const f32, b: *const f32, dest: Dest<f32>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s, and this function enables avx2 and fma.
    sized_tile!(__m256, [1] else 2, 6 / [3], true, kc, Strided { a, lda: 16, b, b_rs: 6, b_cs: 1 }, dest)
}

/// [`f64_avx2_8x6`] reading A and B in place (the small-product path).
///
/// # Safety
/// [`NativeKernel::run_strided`](crate::kernel::NativeKernel::run_strided)'s contract with
/// MR = 8, NR = 6, on a CPU with avx2,fma.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn f64_avx2_8x6_strided(kc: usize, src: Strided<f64>, dest: Dest<f64>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s (strided form), and this function enables avx2,fma.
    sized_tile!(__m256d, [1] else 2, 6 / [3], false, kc, src, dest)
}

/// [`f32_avx2_16x6`] reading A and B in place (the small-product path).
///
/// # Safety
/// [`NativeKernel::run_strided`](crate::kernel::NativeKernel::run_strided)'s contract with
/// MR = 16, NR = 6, on a CPU with avx2,fma.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn f32_avx2_16x6_strided(kc: usize, src: Strided<f32>, dest: Dest<f32>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s (strided form), and this function enables avx2,fma.
    sized_tile!(__m256, [1] else 2, 6 / [3], false, kc, src, dest)
}

microkernel!(F64Avx2, f64, __m256d, Isa::Avx2, 8 x 6, f64_avx2_8x6, f64_avx2_8x6_strided, params::F64_AVX2, {
    fn pack_b(dst: &mut [f64], src: Operand<'_, f64>, rows: (usize, usize), cols: (usize, usize)) {
        pack_b_6(dst, src, rows, cols, transpose_f64_pairs);
    }
});
microkernel!(F32Avx2, f32, __m256, Isa::Avx2, 16 x 6, f32_avx2_16x6, f32_avx2_16x6_strided, params::F32_AVX2, {
    fn pack_b(dst: &mut [f32], src: Operand<'_, f32>, rows: (usize, usize), cols: (usize, usize)) {
        pack_b_6(dst, src, rows, cols, transpose_f32_pairs);
    }
});

/// Transposes columns `2c, 2c + 1` (c < 3) of a column-major source, rows `p .. p + 4` for
/// every `p` in steps of 4 below `main`, into rows of 6 of `dst`.
///
/// # Safety
/// avx2; `src + j·cs + p + 4 ≤` the source's end for j < 6, p < main; `dst` has `6·main`
/// writable elements.
type PairTranspose<T> = unsafe fn(dst: *mut T, src: *const T, cs: usize, main: usize);

/// [`NativeKernel::pack_b`](crate::kernel::NativeKernel::pack_b) for NR = 6: a column-major
/// B is packed two columns by four rows at a time through in-register transposes, instead
/// of one scattered store per element (5–7 % of an n = 1024 product). Other layouts and the
/// ragged ends take the portable loop.
fn pack_b_6<T: matmul_core::Scalar>(
    dst: &mut [T],
    src: Operand<'_, T>,
    (p0, kc): (usize, usize),
    (j0, cols): (usize, usize),
    transpose: PairTranspose<T>,
) {
    let portable = |dst: &mut [T], rows| crate::pack::pack_b_panel(dst, src, 6, rows, (j0, cols));
    let cs = match src.unsigned_strides() {
        Some((1, cs)) if cols == 6 && kc >= 4 && Isa::Avx2.is_supported() => cs,
        _ => return portable(dst, (p0, kc)),
    };
    assert!(dst.len() == 6 * kc);
    let main = kc / 4 * 4;
    // Bounds for the unchecked loads: rows p0 .. p0 + main of columns j0 .. j0 + 6.
    src.assert_block((p0, main), (j0, 6));
    // SAFETY: avx2 is supported (checked above); the loads stay at rows below p0 + main of
    // columns j0 .. j0 + 6 (unit row stride, column stride cs ≥ 0), inside `src` by the
    // assertion; the stores stay inside `dst[..6·main]`.
    unsafe { transpose(dst.as_mut_ptr(), src.ptr_at(p0, j0), cs, main) };
    portable(&mut dst[6 * main..], (p0 + main, kc - main));
}

/// [`PairTranspose`] for f64: two columns' 4 values each in a ymm, interleaved by
/// `unpacklo/hi`, each 128-bit half one row's pair.
///
/// # Safety
/// As [`PairTranspose`].
#[target_feature(enable = "avx2,fma")]
unsafe fn transpose_f64_pairs(dst: *mut f64, src: *const f64, cs: usize, main: usize) {
    for p in (0..main).step_by(4) {
        for c in 0..3 {
            // SAFETY: columns 2c, 2c + 1 < 6, rows p .. p + 4 ≤ main (caller).
            let (a, b) =
                unsafe { (_mm256_loadu_pd(src.add(2 * c * cs + p)), _mm256_loadu_pd(src.add((2 * c + 1) * cs + p))) };
            // lo = (a0, b0, a2, b2), hi = (a1, b1, a3, b3).
            let (lo, hi) = (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
            let rows = [
                _mm256_castpd256_pd128(lo),
                _mm256_castpd256_pd128(hi),
                _mm256_extractf128_pd::<1>(lo),
                _mm256_extractf128_pd::<1>(hi),
            ];
            for (q, v) in rows.into_iter().enumerate() {
                // SAFETY: row p + q < main, elements 2c, 2c + 1 < 6 (caller).
                unsafe { _mm_storeu_pd(dst.add((p + q) * 6 + 2 * c), v) };
            }
        }
    }
}

/// [`PairTranspose`] for f32: two columns' 4 values each in an xmm, interleaved by
/// `unpacklo/hi`, each 64-bit half one row's pair.
///
/// # Safety
/// As [`PairTranspose`].
#[target_feature(enable = "avx2,fma")]
unsafe fn transpose_f32_pairs(dst: *mut f32, src: *const f32, cs: usize, main: usize) {
    for p in (0..main).step_by(4) {
        for c in 0..3 {
            // SAFETY: columns 2c, 2c + 1 < 6, rows p .. p + 4 ≤ main (caller).
            let (a, b) =
                unsafe { (_mm_loadu_ps(src.add(2 * c * cs + p)), _mm_loadu_ps(src.add((2 * c + 1) * cs + p))) };
            // lo = (a0, b0, a1, b1), hi = (a2, b2, a3, b3).
            let (lo, hi) = (_mm_castps_pd(_mm_unpacklo_ps(a, b)), _mm_castps_pd(_mm_unpackhi_ps(a, b)));
            let pairs = [(lo, false), (lo, true), (hi, false), (hi, true)];
            for (q, (v, high)) in pairs.into_iter().enumerate() {
                // Each row's pair is 64 bits: store it as one f64-sized lane.
                let pair = if high { _mm_unpackhi_pd(v, v) } else { v };
                // SAFETY: row p + q < main, elements 2c, 2c + 1 < 6 (caller); the 8 bytes
                // written are those two f32s.
                unsafe { _mm_storel_pd(dst.add((p + q) * 6 + 2 * c).cast::<f64>(), pair) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: matmul_core::Scalar>(transpose: PairTranspose<T>) {
        let src: Vec<T> = (0..43 * 20).map(|x| T::from_f64(x as f64 * 0.5 - 7.0)).collect();
        for (p0, kc) in [(0, 40), (3, 37), (0, 4), (5, 3), (1, 17)] {
            for j0 in [0, 5, 13, 14] {
                let cols = 6.min(20 - j0);
                let (mut fast, mut slow) = (vec![T::NAN; 6 * kc], vec![T::NAN; 6 * kc]);
                let op = Operand::of(matmul_core::MatRef::col_major(&src, 43, 20).unwrap());
                pack_b_6(&mut fast, op, (p0, kc), (j0, cols), transpose);
                crate::pack::pack_b_panel(&mut slow, op, 6, (p0, kc), (j0, cols));
                let same = fast.iter().zip(&slow).all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits());
                assert!(same, "{} p0 {p0} kc {kc} j0 {j0}", T::NAME);
            }
        }
    }

    #[test]
    fn transposed_packs_equal_the_portable_one() {
        if !Isa::Avx2.is_supported() {
            eprintln!("skipped: this CPU lacks avx2+fma");
            return;
        }
        check::<f64>(transpose_f64_pairs);
        check::<f32>(transpose_f32_pairs);
    }
}
