//! Portable kernels on the `wide` crate, for CPUs without AVX2 (and other architectures).
//!
//! `wide` picks its instructions when this crate is compiled: on a default x86-64 build an
//! `f64x4` is two SSE2 registers and `mul_add` rounds twice; on aarch64 it is NEON with
//! fused multiply-add. The kernels follow the same contract either way; only their
//! rounding differs from the fused kernels (within the same error bound).
//!
//! * `f64_portable_8x4`: 2 `f64x4` × 4 broadcasts = 8 vector accumulators.
//! * `f32_portable_16x4`: 2 `f32x8` × 4 broadcasts.

use wide::{f32x8, f64x4};

use crate::isa::Isa;
use crate::kernel::{microkernel, sized_tile, Dest, Lanes, Strided};
use crate::params;

macro_rules! wide_lanes {
    ($v:ty, $t:ty, $n:literal) => {
        impl Lanes for $v {
            type Elem = $t;
            const LANES: usize = $n;
            const MASKED: bool = false;

            #[inline(always)]
            unsafe fn zero() -> Self {
                <$v>::splat(0.0)
            }
            #[inline(always)]
            unsafe fn splat(x: $t) -> Self {
                <$v>::splat(x)
            }
            #[inline(always)]
            unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
                a.mul_add(b, c)
            }
            #[inline(always)]
            unsafe fn mul(a: Self, b: Self) -> Self {
                a * b
            }
            #[inline(always)]
            unsafe fn load_packed(p: *const $t) -> Self {
                // SAFETY: LANES readable elements at p (caller); read_unaligned needs no alignment.
                <$v>::new(unsafe { p.cast::<[$t; $n]>().read_unaligned() })
            }
            #[inline(always)]
            unsafe fn load_partial(p: *const $t, n: usize) -> Self {
                debug_assert_eq!(n, $n);
                // SAFETY: n = LANES readable elements at p (caller: not MASKED).
                <$v>::new(unsafe { p.cast::<[$t; $n]>().read_unaligned() })
            }
            #[inline(always)]
            unsafe fn store_partial(p: *mut $t, v: Self, n: usize) {
                debug_assert_eq!(n, $n);
                // SAFETY: n = LANES writable elements at p (caller: not MASKED).
                unsafe { p.cast::<[$t; $n]>().write_unaligned(v.to_array()) }
            }
        }
    };
}
wide_lanes!(f64x4, f64, 4);
wide_lanes!(f32x8, f32, 8);

/// f64, portable (`wide`), 8 × 4 register tile.
///
/// # Safety
/// [`MicroKernel::run`](crate::kernel::MicroKernel::run)'s contract with MR = 8, NR = 4.
#[inline(never)]
pub unsafe fn f64_portable_8x4(kc: usize, a: *const f64, b: *const f64, dest: Dest<f64>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s; `wide` needs no run-time instruction set.
    sized_tile!(f64x4, [1] else 2, 4 / [2], true, kc, Strided { a, lda: 8, b, b_rs: 4, b_cs: 1 }, dest)
}

/// f32, portable (`wide`), 16 × 4 register tile.
///
/// # Safety
/// [`MicroKernel::run`](crate::kernel::MicroKernel::run)'s contract with MR = 16, NR = 4.
#[inline(never)]
pub unsafe fn f32_portable_16x4(kc: usize, a: *const f32, b: *const f32, dest: Dest<f32>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s; `wide` needs no run-time instruction set.
    sized_tile!(f32x8, [1] else 2, 4 / [2], true, kc, Strided { a, lda: 16, b, b_rs: 4, b_cs: 1 }, dest)
}

/// [`f64_portable_8x4`] reading A and B in place (the small-product path).
///
/// # Safety
/// [`NativeKernel::run_strided`](crate::kernel::NativeKernel::run_strided)'s contract with
/// MR = 8, NR = 4.
#[inline(never)]
pub unsafe fn f64_portable_8x4_strided(kc: usize, src: Strided<f64>, dest: Dest<f64>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s (strided form).
    sized_tile!(f64x4, [1] else 2, 4 / [2], false, kc, src, dest)
}

/// [`f32_portable_16x4`] reading A and B in place (the small-product path).
///
/// # Safety
/// [`NativeKernel::run_strided`](crate::kernel::NativeKernel::run_strided)'s contract with
/// MR = 16, NR = 4.
#[inline(never)]
pub unsafe fn f32_portable_16x4_strided(kc: usize, src: Strided<f32>, dest: Dest<f32>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s (strided form).
    sized_tile!(f32x8, [1] else 2, 4 / [2], false, kc, src, dest)
}

microkernel!(F64Portable, f64, f64x4, Isa::Portable, 8 x 4, f64_portable_8x4, f64_portable_8x4_strided, params::F64_PORTABLE);
microkernel!(F32Portable, f32, f32x8, Isa::Portable, 16 x 4, f32_portable_16x4, f32_portable_16x4_strided, params::F32_PORTABLE);
