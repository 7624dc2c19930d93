//! AVX-512F kernels: 32 registers of 512 bits.
//!
//! * `f64_avx512_24x8`: 3 vectors of A × 8 broadcasts of B = 24 accumulators, plus 3 A
//!   vectors and 1 broadcast: 28 of the 32 registers. 24 FMAs per step of k.
//! * `f32_avx512_32x12`: 2 vectors × 12 broadcasts = 24 accumulators, 24 FMAs per step.
//!
//! * `bf16_avx512_32x12` (AVX-512 BF16): the f32 tile with bf16 inputs in pairs of k:
//!   each `vdpbf16ps` adds two products per lane, so 24 instructions per two steps of k.
//!
//! Edge tiles store with masks (`_mm512_mask_storeu_*`), so only general-stride C goes
//! through the staging tile.

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use matmul_core::half::bf16;

use crate::driver::Packing;
use crate::isa::Isa;
use crate::kernel::{finish, keep_rolled, microkernel, sized_tile, Dest, Lanes, MicroKernel, Strided};
use crate::pack::Operand;
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
/// [`MicroKernel::run`]'s contract with MR = 24, NR = 8,
/// on a CPU with avx512f.
#[inline(never)]
#[target_feature(enable = "avx512f")]
pub unsafe fn f64_avx512_24x8(kc: usize, a: *const f64, b: *const f64, dest: Dest<f64>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s, and this function enables avx512f.
    sized_tile!(__m512d, [1, 2] else 3, 8 / [4], true, kc, Strided { a, lda: 24, b, b_rs: 8, b_cs: 1 }, dest)
}

/// f32, AVX-512F, 32 × 12 register tile.
///
/// # Safety
/// [`MicroKernel::run`]'s contract with MR = 32, NR = 12,
/// on a CPU with avx512f.
#[inline(never)]
#[target_feature(enable = "avx512f")]
pub unsafe fn f32_avx512_32x12(kc: usize, a: *const f32, b: *const f32, dest: Dest<f32>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s, and this function enables avx512f.
    sized_tile!(__m512, [1] else 2, 12 / [4, 8], true, kc, Strided { a, lda: 32, b, b_rs: 12, b_cs: 1 }, dest)
}

/// [`f64_avx512_24x8`] reading A and B in place (the small-product path).
///
/// # Safety
/// [`NativeKernel::run_strided`](crate::kernel::NativeKernel::run_strided)'s contract with
/// MR = 24, NR = 8, on a CPU with avx512f.
#[inline(never)]
#[target_feature(enable = "avx512f")]
pub unsafe fn f64_avx512_24x8_strided(kc: usize, src: Strided<f64>, dest: Dest<f64>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s (strided form), and this function enables avx512f.
    sized_tile!(__m512d, [1, 2] else 3, 8 / [4], false, kc, src, dest)
}

/// [`f32_avx512_32x12`] reading A and B in place (the small-product path).
///
/// # Safety
/// [`NativeKernel::run_strided`](crate::kernel::NativeKernel::run_strided)'s contract with
/// MR = 32, NR = 12, on a CPU with avx512f.
#[inline(never)]
#[target_feature(enable = "avx512f")]
pub unsafe fn f32_avx512_32x12_strided(kc: usize, src: Strided<f32>, dest: Dest<f32>) {
    // `sized_tile!`'s unsafe calls rely on this: the caller's contract is `tile`'s (strided form), and this function enables avx512f.
    sized_tile!(__m512, [1] else 2, 12 / [4, 8], false, kc, src, dest)
}

microkernel!(F64Avx512, f64, __m512d, Isa::Avx512, 24 x 8, f64_avx512_24x8, f64_avx512_24x8_strided, params::F64_AVX512, {
    fn pack_b(dst: &mut [f64], src: Operand<'_, f64>, rows: (usize, usize), cols: (usize, usize)) {
        pack_b_f64_8(dst, src, rows, cols);
    }
});

/// [`NativeKernel::pack_b`](crate::kernel::NativeKernel::pack_b) for NR = 8 f64: a
/// column-major B (the usual case after a row-major product is transposed: B is then
/// Aᵀ) is packed 8 × 8 at a time through an in-register transpose, instead of one
/// scattered store per element. Other layouts and the ragged ends take the portable loop.
fn pack_b_f64_8(dst: &mut [f64], src: Operand<'_, f64>, (p0, kc): (usize, usize), (j0, cols): (usize, usize)) {
    let portable = |dst: &mut [f64], rows| crate::pack::pack_b_panel(dst, src, 8, rows, (j0, cols));
    let cs = match src.unsigned_strides() {
        Some((1, cs)) if cols == 8 && kc >= 8 && Isa::Avx512.is_supported() => cs,
        _ => return portable(dst, (p0, kc)),
    };
    assert!(dst.len() == 8 * kc);
    let main = kc / 8 * 8;
    // Bounds for the unchecked loads: rows p0 .. p0 + main of columns j0 .. j0 + 8.
    src.assert_block((p0, main), (j0, 8));
    // SAFETY: avx512f is supported (checked above); every load reads 8 elements of a
    // column (unit row stride, column stride cs ≥ 0) at rows below p0 + main, inside
    // `src` by the assertion; every store writes 8 × 8 elements of `dst[..8·main]`.
    unsafe { transpose_8x8_blocks(dst.as_mut_ptr(), src.ptr_at(p0, j0), cs, main) };
    portable(&mut dst[8 * main..], (p0 + main, kc - main));
}

/// For each `p` in steps of 8 below `main`: loads the 8 elements `p .. p + 8` of columns
/// `0..8` (stride `cs`) and stores them transposed as rows `p .. p + 8` of `dst` (8 each).
///
/// # Safety
/// avx512f; `src + j·cs + p + 8 ≤` the source's end for j < 8, p < main; `dst` has
/// `8·main` writable elements.
#[target_feature(enable = "avx512f")]
unsafe fn transpose_8x8_blocks(dst: *mut f64, src: *const f64, cs: usize, main: usize) {
    let (lo, hi) = (_mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0), _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2));
    let (first, second) = (_mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0), _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4));
    for p in (0..main).step_by(8) {
        let mut r = [_mm512_setzero_pd(); 8];
        for (j, v) in r.iter_mut().enumerate() {
            // SAFETY: column j, rows p .. p + 8 < main: inside the source (caller).
            *v = unsafe { _mm512_loadu_pd(src.add(j * cs + p)) };
        }
        // t[2i] = (r[2i][0], r[2i+1][0], r[2i][2], r[2i+1][2], …), t[2i+1] the odd elements.
        let t: [__m512d; 8] = std::array::from_fn(|x| {
            let (a, b) = (r[x / 2 * 2], r[x / 2 * 2 + 1]);
            if x % 2 == 0 {
                _mm512_unpacklo_pd(a, b)
            } else {
                _mm512_unpackhi_pd(a, b)
            }
        });
        // s: four rows' elements q and q + 4, for q = 0, 2 (from t0/t2), 1, 3 (t1/t3), and
        // the same for rows 4..8 (t4..t7).
        let s = |a: __m512d, b: __m512d, idx| _mm512_permutex2var_pd(a, idx, b);
        let (s0, s1, s2, s3) = (s(t[0], t[2], lo), s(t[0], t[2], hi), s(t[1], t[3], lo), s(t[1], t[3], hi));
        let (s4, s5, s6, s7) = (s(t[4], t[6], lo), s(t[4], t[6], hi), s(t[5], t[7], lo), s(t[5], t[7], hi));
        let rows = [
            (0, s(s0, s4, first)),
            (4, s(s0, s4, second)),
            (2, s(s1, s5, first)),
            (6, s(s1, s5, second)),
            (1, s(s2, s6, first)),
            (5, s(s2, s6, second)),
            (3, s(s3, s7, first)),
            (7, s(s3, s7, second)),
        ];
        for (q, v) in rows {
            // SAFETY: row p + q < main of dst, 8 elements (caller).
            unsafe { _mm512_storeu_pd(dst.add((p + q) * 8), v) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_transposed_pack_equals_the_portable_one() {
        if !Isa::Avx512.is_supported() {
            eprintln!("skipped: this CPU lacks avx512f");
            return;
        }
        let src: Vec<f32> = (0..43 * 30).map(|x| x as f32 * 0.5 - 7.0).collect();
        for (p0, kc) in [(0, 40), (3, 37), (0, 4), (5, 3), (1, 17)] {
            for j0 in [0, 5, 13, 18] {
                let cols = 12.min(30 - j0);
                let (mut fast, mut slow) = (vec![f32::NAN; 12 * kc], vec![f32::NAN; 12 * kc]);
                let op = Operand::of(matmul_core::MatRef::col_major(&src, 43, 30).unwrap());
                pack_b_f32_12(&mut fast, op, (p0, kc), (j0, cols));
                crate::pack::pack_b_panel(&mut slow, op, 12, (p0, kc), (j0, cols));
                assert_eq!(fast, slow, "p0 {p0} kc {kc} j0 {j0}");
            }
        }
    }

    #[test]
    fn transposed_pack_equals_the_portable_one() {
        if !Isa::Avx512.is_supported() {
            eprintln!("skipped: this CPU lacks avx512f");
            return;
        }
        // Column-major 40 × 21 with leading dimension 43; panels at several offsets and depths.
        let src: Vec<f64> = (0..43 * 21).map(|x| x as f64 * 0.5 - 7.0).collect();
        for (p0, kc) in [(0, 40), (3, 37), (0, 8), (5, 7), (1, 16)] {
            for j0 in [0, 5, 13] {
                let cols = 8.min(21 - j0);
                let (mut fast, mut slow) = (vec![f64::NAN; 8 * kc], vec![f64::NAN; 8 * kc]);
                let op = Operand::of(matmul_core::MatRef::col_major(&src, 43, 21).unwrap());
                pack_b_f64_8(&mut fast, op, (p0, kc), (j0, cols));
                crate::pack::pack_b_panel(&mut slow, op, 8, (p0, kc), (j0, cols));
                assert_eq!(fast, slow, "p0 {p0} kc {kc} j0 {j0}");
            }
        }
    }
}
microkernel!(F32Avx512, f32, __m512, Isa::Avx512, 32 x 12, f32_avx512_32x12, f32_avx512_32x12_strided, params::F32_AVX512, {
    fn pack_b(dst: &mut [f32], src: Operand<'_, f32>, rows: (usize, usize), cols: (usize, usize)) {
        pack_b_f32_12(dst, src, rows, cols);
    }
});

/// [`NativeKernel::pack_b`](crate::kernel::NativeKernel::pack_b) for NR = 12 f32: a
/// column-major B is packed 4 × 4 at a time through in-register transposes (three per
/// four steps of p), instead of one scattered store per element (6 % of an n = 1024 f32
/// product). Other layouts and the ragged ends take the portable loop.
fn pack_b_f32_12(dst: &mut [f32], src: Operand<'_, f32>, (p0, kc): (usize, usize), (j0, cols): (usize, usize)) {
    let portable = |dst: &mut [f32], rows| crate::pack::pack_b_panel(dst, src, 12, rows, (j0, cols));
    let cs = match src.unsigned_strides() {
        Some((1, cs)) if cols == 12 && kc >= 4 && Isa::Avx512.is_supported() => cs,
        _ => return portable(dst, (p0, kc)),
    };
    assert!(dst.len() == 12 * kc);
    let main = kc / 4 * 4;
    // Bounds for the unchecked loads: rows p0 .. p0 + main of columns j0 .. j0 + 12.
    src.assert_block((p0, main), (j0, 12));
    // SAFETY: avx512f (and so SSE) is supported (checked above); every load reads 4
    // elements of a column (unit row stride, column stride cs ≥ 0) at rows below
    // p0 + main, inside `src` by the assertion; every store writes 4 elements of
    // `dst[..12·main]`.
    unsafe { transpose_4x4_blocks(dst.as_mut_ptr(), src.ptr_at(p0, j0), cs, main) };
    portable(&mut dst[12 * main..], (p0 + main, kc - main));
}

/// For each `p` in steps of 4 below `main` and each group of 4 of the 12 columns: loads
/// the elements `p .. p + 4` of the group's columns (stride `cs`) and stores them
/// transposed, 4 per row, into rows `p .. p + 4` of `dst` (12 each).
///
/// # Safety
/// avx512f; `src + j·cs + p + 4 ≤` the source's end for j < 12, p < main; `dst` has
/// `12·main` writable elements.
#[target_feature(enable = "avx512f")]
unsafe fn transpose_4x4_blocks(dst: *mut f32, src: *const f32, cs: usize, main: usize) {
    for p in (0..main).step_by(4) {
        for g in 0..3 {
            // SAFETY: columns 4g .. 4g + 4 < 12, rows p .. p + 4 ≤ main (caller).
            let r: [__m128; 4] = std::array::from_fn(|j| unsafe { _mm_loadu_ps(src.add((4 * g + j) * cs + p)) });
            let (t0, t1) = (_mm_unpacklo_ps(r[0], r[1]), _mm_unpackhi_ps(r[0], r[1]));
            let (t2, t3) = (_mm_unpacklo_ps(r[2], r[3]), _mm_unpackhi_ps(r[2], r[3]));
            let rows = [_mm_movelh_ps(t0, t2), _mm_movehl_ps(t2, t0), _mm_movelh_ps(t1, t3), _mm_movehl_ps(t3, t1)];
            for (q, v) in rows.into_iter().enumerate() {
                // SAFETY: row p + q < main, elements 4g .. 4g + 4 < 12 (caller).
                unsafe { _mm_storeu_ps(dst.add((p + q) * 12 + 4 * g), v) };
            }
        }
    }
}

/// bf16 inputs, f32 accumulators, AVX-512 BF16, 32 × 12 register tile: per pair of k
/// steps, two vectors of A (16 rows × 2 k each), twelve broadcasts of a pair of B and 24
/// `vdpbf16ps` (each adds `a₂ₗ·b₀ + a₂ₗ₊₁·b₁` to lane l of an f32 accumulator). The store
/// is the f32 kernels' (α, β, masks, staging).
///
/// The instruction's arithmetic is not the f32 kernels': each product is exact (8-bit
/// significands), the two are added into the accumulator one after the other with
/// rounding, and subnormal inputs and results are flushed to zero (DAZ, FTZ). The bound
/// for bf16 allows for that (`matmul_core::reference::Problem`). Every tile, edge or not,
/// runs the same instructions in the same order, so results do not depend on the thread
/// count.
///
/// # Safety
/// [`MicroKernel::run`]'s contract with MR = 32, NR = 12, KU = 2, on a CPU with avx512f
/// and avx512bf16.
// Indexed loops on purpose, as in `kernel::accumulate`: constant bounds unroll into registers.
#[allow(clippy::needless_range_loop)]
#[inline(never)]
#[target_feature(enable = "avx512f,avx512bf16")]
pub unsafe fn bf16_avx512_32x12(kc: usize, a: *const bf16, b: *const bf16, dest: Dest<f32>) {
    let mut acc = [[_mm512_setzero_ps(); 12]; 2];
    for q in 0..kc.div_ceil(2) {
        keep_rolled();
        // SAFETY: q < ⌈kc / 2⌉, so the 64 elements at `a + 64q` (32 rows × 2 steps of k)
        // are inside the packed panel, on a 64-byte boundary (the panel is, and each pair
        // step is 128 bytes); the 24 at `b + 24q` likewise (read unaligned, 4 bytes each).
        unsafe {
            let ap = a.add(64 * q).cast::<__m512bh>();
            let (a0, a1) = (ap.read(), ap.add(1).read());
            let bp = b.add(24 * q).cast::<i32>();
            for j in 0..12 {
                let bj: __m512bh = std::mem::transmute(_mm512_set1_epi32(bp.add(j).read_unaligned()));
                acc[0][j] = _mm512_dpbf16_ps(acc[0][j], a0, bj);
                acc[1][j] = _mm512_dpbf16_ps(acc[1][j], a1, bj);
            }
        }
    }
    // SAFETY: the caller's contract is `finish`'s for the 32 × 12 tile; avx512f is enabled.
    unsafe { finish::<__m512, 2, 12>(&acc, dest) }
}

/// The [`bf16_avx512_32x12`] kernel as a [`MicroKernel`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Bf16Avx512;

const _: () = crate::kernel::check_invariants(32, 12, 16, 2 * std::mem::size_of::<bf16>(), params::BF16_AVX512);

impl MicroKernel for Bf16Avx512 {
    type Elem = f32;
    type Packed = bf16;
    const KU: usize = 2;
    const ISA: Isa = Isa::Avx512;
    const MR: usize = 32;
    const NR: usize = 12;
    const NAME: &'static str = "bf16_avx512_32x12";
    const BLOCKING: crate::params::Blocking = params::BF16_AVX512;
    const MASKED: bool = true;

    #[inline]
    unsafe fn run(kc: usize, a: *const bf16, b: *const bf16, dest: Dest<f32>) {
        // SAFETY: the trait's contract is the kernel's, and `Bf16Pairs` (its only user)
        // runs only where the CPU has avx512bf16 (`isa::has_avx512_bf16`).
        unsafe { bf16_avx512_32x12(kc, a, b, dest) }
    }
}

/// bf16 A and B packed as they are, in pairs of k, for [`Bf16Avx512`]. Always packed:
/// the kernel reads pairs, which no layout of A holds in place.
pub(crate) struct Bf16Pairs;

impl Packing for Bf16Pairs {
    type Kernel = Bf16Avx512;
    type Input = bf16;

    fn pack_a(dst: &mut [bf16], a: Operand<'_, bf16>, rows: (usize, usize), cols: (usize, usize)) {
        crate::pack::pack_pairs(dst, a, 32, rows, cols);
    }

    fn pack_b(dst: &mut [bf16], b: Operand<'_, bf16>, rows: (usize, usize), cols: (usize, usize)) {
        crate::pack::pack_pairs(dst, b.t(), 12, cols, rows);
    }
}
