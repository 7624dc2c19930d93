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
    sized_tile!(__m256d, [1] else 2, 6 / 3, true, kc, Strided { a, lda: 8, b, b_rs: 6, b_cs: 1 }, dest)
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
    sized_tile!(__m256, [1] else 2, 6 / 3, true, kc, Strided { a, lda: 16, b, b_rs: 6, b_cs: 1 }, dest)
}

/// [`f64_avx2_8x6`] reading A and B in place (the small-product path).
///
/// # Safety
/// [`MicroKernel::run_strided`](crate::kernel::MicroKernel::run_strided)'s contract with
/// MR = 8, NR = 6, on a CPU with avx2,fma.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn f64_avx2_8x6_strided(kc: usize, src: Strided<f64>, dest: Dest<f64>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s (strided form), and this function enables avx2,fma.
    sized_tile!(__m256d, [1] else 2, 6 / 3, false, kc, src, dest)
}

/// [`f32_avx2_16x6`] reading A and B in place (the small-product path).
///
/// # Safety
/// [`MicroKernel::run_strided`](crate::kernel::MicroKernel::run_strided)'s contract with
/// MR = 16, NR = 6, on a CPU with avx2,fma.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn f32_avx2_16x6_strided(kc: usize, src: Strided<f32>, dest: Dest<f32>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s (strided form), and this function enables avx2,fma.
    sized_tile!(__m256, [1] else 2, 6 / 3, false, kc, src, dest)
}

microkernel!(F64Avx2, f64, Isa::Avx2, 8 x 6, f64_avx2_8x6, f64_avx2_8x6_strided, params::F64_AVX2);
microkernel!(F32Avx2, f32, Isa::Avx2, 16 x 6, f32_avx2_16x6, f32_avx2_16x6_strided, params::F32_AVX2);
