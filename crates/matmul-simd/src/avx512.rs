//! AVX-512F kernels: 32 registers of 512 bits.
//!
//! * `f64_avx512_24x8`: 3 vectors of A × 8 broadcasts of B = 24 accumulators, plus 3 A
//!   vectors and 1 broadcast: 28 of the 32 registers. 24 FMAs per step of k.
//! * `f32_avx512_32x12`: 2 vectors × 12 broadcasts = 24 accumulators, 24 FMAs per step.
//!
//! Edge tiles store with masks (`_mm512_mask_storeu_*`), so only general-stride C goes
//! through the staging tile.

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use crate::isa::Isa;
use crate::kernel::{microkernel, Dest, Lanes};
use crate::params;

/// The mask of the first `n` of 8 lanes, `1 ≤ n ≤ 8`.
#[inline(always)]
fn mask8(n: usize) -> __mmask8 {
    ((1u32 << n) - 1) as __mmask8
}

/// The mask of the first `n` of 16 lanes, `1 ≤ n ≤ 16`.
#[inline(always)]
fn mask16(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

impl Lanes for __m512d {
    type Elem = f64;
    const LANES: usize = 8;
    const MASKED: bool = true;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller guarantees avx512f.
        unsafe { _mm512_setzero_pd() }
    }
    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        // SAFETY: the caller guarantees avx512f.
        unsafe { _mm512_set1_pd(x) }
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: the caller guarantees avx512f.
        unsafe { _mm512_fmadd_pd(a, b, c) }
    }
    #[inline(always)]
    unsafe fn mul(a: Self, b: Self) -> Self {
        // SAFETY: the caller guarantees avx512f.
        unsafe { _mm512_mul_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn load_packed(p: *const f64) -> Self {
        // SAFETY: the caller guarantees avx512f, 64-byte alignment and 8 readable elements.
        unsafe { _mm512_load_pd(p) }
    }
    #[inline(always)]
    unsafe fn load_partial(p: *const f64, n: usize) -> Self {
        // SAFETY: avx512f and `n` readable elements (caller); masked-off lanes are not
        // accessed and cannot fault.
        unsafe { _mm512_maskz_loadu_pd(mask8(n), p) }
    }
    #[inline(always)]
    unsafe fn store_partial(p: *mut f64, v: Self, n: usize) {
        // SAFETY: avx512f and `n` writable elements (caller); masked-off lanes are not written.
        unsafe { _mm512_mask_storeu_pd(p, mask8(n), v) }
    }
}

impl Lanes for __m512 {
    type Elem = f32;
    const LANES: usize = 16;
    const MASKED: bool = true;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller guarantees avx512f.
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: the caller guarantees avx512f.
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: the caller guarantees avx512f.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn mul(a: Self, b: Self) -> Self {
        // SAFETY: the caller guarantees avx512f.
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn load_packed(p: *const f32) -> Self {
        // SAFETY: the caller guarantees avx512f, 64-byte alignment and 16 readable elements.
        unsafe { _mm512_load_ps(p) }
    }
    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> Self {
        // SAFETY: avx512f and `n` readable elements (caller); masked-off lanes are not accessed.
        unsafe { _mm512_maskz_loadu_ps(mask16(n), p) }
    }
    #[inline(always)]
    unsafe fn store_partial(p: *mut f32, v: Self, n: usize) {
        // SAFETY: avx512f and `n` writable elements (caller); masked-off lanes are not written.
        unsafe { _mm512_mask_storeu_ps(p, mask16(n), v) }
    }
}

/// f64, AVX-512F, 24 × 8 register tile.
///
/// # Safety
/// [`MicroKernel::run`](crate::kernel::MicroKernel::run)'s contract with MR = 24, NR = 8,
/// on a CPU with avx512f.
#[inline(never)]
#[target_feature(enable = "avx512f")]
pub unsafe fn f64_avx512_24x8(kc: usize, a: *const f64, b: *const f64, dest: Dest<f64>) {
    // SAFETY: the caller's contract is `tile`'s, and this function enables avx512f.
    unsafe { crate::kernel::tile::<__m512d, 3, 8>(kc, a, b, dest) }
}

/// f32, AVX-512F, 32 × 12 register tile.
///
/// # Safety
/// [`MicroKernel::run`](crate::kernel::MicroKernel::run)'s contract with MR = 32, NR = 12,
/// on a CPU with avx512f.
#[inline(never)]
#[target_feature(enable = "avx512f")]
pub unsafe fn f32_avx512_32x12(kc: usize, a: *const f32, b: *const f32, dest: Dest<f32>) {
    // SAFETY: the caller's contract is `tile`'s, and this function enables avx512f.
    unsafe { crate::kernel::tile::<__m512, 2, 12>(kc, a, b, dest) }
}

microkernel!(F64Avx512, f64, Isa::Avx512, 24 x 8, f64_avx512_24x8, params::F64_AVX512);
microkernel!(F32Avx512, f32, Isa::Avx512, 32 x 12, f32_avx512_32x12, params::F32_AVX512);
