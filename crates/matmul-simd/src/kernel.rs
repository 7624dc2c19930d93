//! The microkernel contract, and the one generic body every kernel instantiates.
//!
//! A microkernel multiplies one packed `MR × kc` micro-panel of A by one packed `kc × NR`
//! micro-panel of B, holding the `MR × NR` product in vector registers, and then writes
//! `α·(A·B) + β·C` into an `mr × nr` tile of C. Everything else (blocking, packing,
//! threads) is the driver's job; see [`MicroKernel`] for the exact rules.

use std::mem::MaybeUninit;

use matmul_core::{Element, Scalar};

use crate::isa::Isa;
/// The operand [`NativeKernel::pack_b`] reads B through.
pub use crate::pack::Operand;
use crate::params::Blocking;

/// Where and how a microkernel writes its tile of C.
///
/// Element `(i, j)` of the tile is at `ptr + i·rs + j·cs`. The tile is `rows × cols`,
/// with `rows ≤ MR` and `cols ≤ NR`: an edge tile is smaller than the kernel.
#[derive(Clone, Copy, Debug)]
pub struct Dest<T> {
    /// Element `(0, 0)` of the tile.
    pub ptr: *mut T,
    /// Row stride of C (1 on the fast path).
    pub rs: usize,
    /// Column stride of C.
    pub cs: usize,
    /// Rows to write, `1 ≤ rows ≤ MR`.
    pub rows: usize,
    /// Columns to write, `1 ≤ cols ≤ NR`.
    pub cols: usize,
    /// α, the factor of the product.
    pub alpha: T,
    /// β, the factor of C's old value. When it is 0, C is never read.
    pub beta: T,
}

/// A and B read in place by [`NativeKernel::run_strided`] (the small-product path):
/// element `(i, p)` of A at `a + p·lda + i`, element `(p, j)` of B at `b + p·b_rs + j·b_cs`.
#[derive(Clone, Copy, Debug)]
pub struct Strided<T> {
    /// A's element (0, 0); its column is contiguous (unit row stride).
    pub a: *const T,
    /// A's column stride.
    pub lda: usize,
    /// B's element (0, 0).
    pub b: *const T,
    /// B's row stride.
    pub b_rs: usize,
    /// B's column stride.
    pub b_cs: usize,
}

/// A register-tiled microkernel: `C[..rows, ..cols] ← α·(A_panel · B_panel) + β·C`.
///
/// # The contract
///
/// * **Packed A** (`a`): a micro-panel of `kc` columns, each `MR` contiguous values:
///   element `(i, p)` is at `a + p·MR + i`. Rows past the tile's `rows` hold zeros.
///   `a` is aligned to 64 bytes (the `pack` module allocates on cache lines and every
///   micro-panel starts at a multiple of `MR·kc` elements, a multiple of 64 bytes for every
///   kernel here), so AVX-512 kernels may use aligned loads.
/// * **Packed B** (`b`): a micro-panel of `kc` rows, each `NR` contiguous values: element
///   `(p, j)` is at `b + p·NR + j`. Columns past the tile's `cols` hold zeros. No
///   alignment is required (B values are broadcast one at a time).
/// * **C** ([`Dest`]): any strides. Fast when `rs = 1`; otherwise (and, for kernels
///   without masked stores, at edge tiles) the kernel goes through an `MR × NR` staging
///   tile on its stack.
/// * **The sum** of each element runs over `p = 0, 1, …, kc − 1` in that order, one fused
///   multiply-add per step into an accumulator that starts at zero (the portable kernel
///   fuses only where `wide` does). The store then writes, per element:
///   - β = 0: `α·acc`, one rounding (with α = 1 too, `acc` itself: `1·x = x` exactly, so
///     the same bits with one multiply fewer);
///   - β ≠ 0: `fma(α, acc, round(β·c))`: `β·c` is rounded first, then `α·acc` is added to it
///     in one fused step, two roundings in all (three on the portable kernel where `wide`
///     does not fuse). The error bound of `matmul_core::reference` allows for both.
///
///   The same operations for interior and edge tiles, staged or not, whatever thread runs
///   them: that is what makes results bit-identical for every thread count.
/// * **β = 0 never reads C**: a NaN or an uninitialised value there does not matter.
/// * Writes exactly the `rows × cols` elements of the tile, nothing around them.
/// * No allocation, no panic, no thread.
/// * `kc = 0` is allowed and writes `β·C` (`α·0 + β·c`).
pub trait MicroKernel: Copy + Send + Sync + 'static {
    /// The element type of C, α, β and the accumulators.
    type Elem: Scalar;
    /// The element type of the packed panels: [`MicroKernel::Elem`] itself, or `bf16` for
    /// the kernel that multiplies pairs of bf16 (`vdpbf16ps`).
    type Packed: bytemuck::Pod + Send + Sync;
    /// Steps of k that one packed step holds, interleaved: 1, or 2 for the bf16 pair
    /// kernel. A panel of depth `kc` then has `⌈kc / KU⌉` steps, the last one padded with
    /// zeros, and element `(i, p)` of an A panel is at `a + (p / KU)·MR·KU + i·KU + p % KU`
    /// (for B, `(p, j)` at `b + (p / KU)·NR·KU + j·KU + p % KU`).
    const KU: usize;
    /// The instruction set the kernel needs.
    const ISA: Isa;
    /// Rows of the register tile (a multiple of the vector width).
    const MR: usize;
    /// Columns of the register tile.
    const NR: usize;
    /// The kernel's function name (`f64_avx512_24x8`): dtype, instruction set, MR × NR.
    const NAME: &'static str;
    /// Its cache blocking (see [`crate::params`]).
    const BLOCKING: Blocking;
    /// Whether its loads and stores take masks, so that [`NativeKernel::run_strided`] reads
    /// only the `dest.rows` rows of A an edge tile needs (the small path then packs
    /// nothing); without, it reads all `MR`.
    const MASKED: bool;

    /// Runs the kernel on one tile.
    ///
    /// # Safety
    ///
    /// * The CPU supports [`MicroKernel::ISA`] (the caller checked [`Isa::is_supported`]).
    /// * `a` points to `MR·kc'` readable elements, aligned to 64 bytes; `b` to `NR·kc'`
    ///   readable elements, where `kc'` is `kc` rounded up to a multiple of `KU`.
    /// * `1 ≤ dest.rows ≤ MR`, `1 ≤ dest.cols ≤ NR`, and every element
    ///   `dest.ptr + i·rs + j·cs` of the tile is valid for writes (and for reads when β ≠ 0)
    ///   and not accessed by anyone else during the call.
    unsafe fn run(kc: usize, a: *const Self::Packed, b: *const Self::Packed, dest: Dest<Self::Elem>);
}

/// A kernel whose panels hold its own element type, one step of k each (`KU = 1`): it can
/// also read A and B where they are (the small-product path), and may pack B its own way.
pub trait NativeKernel: MicroKernel<Packed = <Self as MicroKernel>::Elem> {
    /// The same kernel reading A and B where they are, without packing: the same
    /// operations in the same order as [`MicroKernel::run`], so the same bits.
    ///
    /// # Safety
    ///
    /// As [`MicroKernel::run`], except for the operands: for every `p < kc`, the `MR`
    /// elements `src.a + p·lda + (0..MR)` (only the first `dest.rows` of them when
    /// [`MicroKernel::MASKED`]) and the `dest.cols` elements `src.b + p·b_rs + j·b_cs`
    /// (`j < dest.cols`) are readable (no alignment required).
    unsafe fn run_strided(kc: usize, src: Strided<Self::Elem>, dest: Dest<Self::Elem>);

    /// Packs rows `p0 .. p0 + kc` and columns `j0 .. j0 + cols` of B into one B
    /// micro-panel, as [`MicroKernel::run`] reads it. A kernel may override it with a
    /// vectorised version for its own tile; the default is the portable loop.
    ///
    /// Panics (a bug, not bad input) if the block lies outside `src` or `dst` is not
    /// `NR·kc` long.
    fn pack_b(dst: &mut [Self::Elem], src: Operand<'_, Self::Elem>, rows: (usize, usize), cols: (usize, usize)) {
        crate::pack::pack_b_panel(dst, src, Self::NR, rows, cols);
    }
}

/// One SIMD vector type, as the generic kernel body uses it.
///
/// Every method is `unsafe`: it compiles to the instructions of one instruction set, which
/// the CPU must have. Each is `#[inline(always)]` without a `#[target_feature]` of its own,
/// so it inherits the features of the `#[target_feature]` kernel it is inlined into.
pub(crate) trait Lanes: Copy {
    /// The element type.
    type Elem: Scalar;
    /// Elements per vector.
    const LANES: usize;
    /// Whether [`Lanes::load_partial`] and [`Lanes::store_partial`] accept fewer than
    /// `LANES` elements (masked instructions); when false, edge tiles are staged.
    const MASKED: bool;

    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn zero() -> Self;
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn splat(x: Self::Elem) -> Self;
    /// `a·b + c`, fused where the instruction set has it.
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self;
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn mul(a: Self, b: Self) -> Self;
    /// A vector from `LANES` elements at `p`, which is aligned to 64 bytes.
    /// # Safety
    /// The CPU has the instruction set; `p` is 64-byte aligned with `LANES` readable elements.
    unsafe fn load_packed(p: *const Self::Elem) -> Self;
    /// The first `n` elements at `p` (the rest zero).
    /// # Safety
    /// The CPU has the instruction set; `1 ≤ n ≤ LANES`, `n = LANES` unless `MASKED`; `n`
    /// readable elements at `p`.
    unsafe fn load_partial(p: *const Self::Elem, n: usize) -> Self;
    /// Stores the first `n` lanes at `p`.
    /// # Safety
    /// As [`Lanes::load_partial`], with `n` writable elements.
    unsafe fn store_partial(p: *mut Self::Elem, v: Self, n: usize);
}

/// The largest `MR × NR` of any kernel here (32 × 12 for f32 AVX-512): the size of the
/// staging tile.
const STAGE_CAPACITY: usize = 384;

/// The invariants a kernel's tile and its cache blocking must keep, which the contract
/// above and the driver rely on. [`microkernel!`] evaluates this in a `const` item for
/// every kernel it declares, so a new kernel or block size that breaks one fails to build
/// (with the message below), in every profile, instead of tripping a `debug_assert`.
pub(crate) const fn check_invariants(mr: usize, nr: usize, lanes: usize, step_bytes: usize, blocking: Blocking) {
    assert!(mr > 0 && nr > 0 && mr.is_multiple_of(lanes), "MR must be a positive multiple of the vector width");
    assert!(mr * nr <= STAGE_CAPACITY, "MR × NR must fit the staging tile (raise STAGE_CAPACITY)");
    assert!(
        (mr * step_bytes).is_multiple_of(64),
        "one packed step of A (MR·KU elements) must be a multiple of 64 bytes: packed A micro-panels must all start on a cache line"
    );
    assert!(blocking.mc > 0 && blocking.mc.is_multiple_of(mr), "MC must be a positive multiple of MR");
    assert!(blocking.nc > 0 && blocking.nc.is_multiple_of(nr), "NC must be a positive multiple of NR");
    assert!(blocking.kc > 0, "KC must be positive");
}

/// An `MR × NR` column-major tile on the stack, for the stores a kernel cannot make
/// straight into C (general strides; edge tiles without masked stores).
#[repr(C, align(64))]
struct Stage<T>([MaybeUninit<T>; STAGE_CAPACITY]);

/// The multiply-accumulate part of every kernel: `MV` vectors of A times `NR` broadcasts
/// of B per step of `p`, into `MV × NR` accumulators that stay in registers (constant
/// loop bounds, so LLVM unrolls them and promotes the array).
///
/// Without PACKED (the small path, A and B read in place), only the tile's `rows × cols`
/// are read: B's columns past `cols` read column `cols − 1` again (their sums are never
/// stored), and with `V::MASKED` A's rows past `rows` are masked off (zero). Neither
/// changes the operations of a stored element, so the bits are those of the packed path.
///
/// # Safety
/// The CPU has `V`'s instruction set; `1 ≤ rows ≤ MV·LANES`, `1 ≤ cols ≤ NR`; with PACKED,
/// `src.a` and `src.b` satisfy [`MicroKernel::run`]'s contract with `MR = MV·V::LANES`;
/// without, they satisfy [`NativeKernel::run_strided`]'s for a `rows × cols` tile.
// Indexed loops on purpose: `acc[i][j]` with constant bounds is the shape LLVM fully
// unrolls into registers; a column loop with a run-time bound leaves the accumulators in
// memory, at a fraction of the FMA peak (`cargo xtask asm simd` counts stack accesses in
// the k loop).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn accumulate<V: Lanes, const MV: usize, const NR: usize, const PACKED: bool>(
    kc: usize,
    src: Strided<V::Elem>,
    rows: usize,
    cols: usize,
) -> [[V; NR]; MV] {
    // Packed panels have a compile-time unit stride between B's columns, so only
    // PACKED = false pays for computing NR addresses per step.
    // (A's column stride is the panel's MR, which an edge tile run with fewer vectors
    // (see `sized_tile!`) does not know at compile time; the same goes for B's panel width.)
    let (lda, b_rs) = (src.lda, src.b_rs);
    // B's column offsets; in place, the columns past `cols` repeat the last one.
    let b_off: [usize; NR] = std::array::from_fn(|j| if PACKED { j } else { j.min(cols.saturating_sub(1)) * src.b_cs });
    // Elements of each A vector to load: all of them, except in place with masks, where
    // the rows past `rows` are not read.
    let a_len: [usize; MV] = std::array::from_fn(|i| {
        if !PACKED && V::MASKED {
            rows.saturating_sub(i * V::LANES).clamp(1, V::LANES)
        } else {
            V::LANES
        }
    });
    // SAFETY: the caller guarantees the instruction set.
    let mut acc = [[unsafe { V::zero() }; NR]; MV];
    for p in 0..kc {
        // One step of k per iteration, never unrolled by LLVM (see `keep_rolled`).
        keep_rolled();
        // SAFETY: p < kc, so `a + p·lda + i·LANES` stays inside the caller's A (packed:
        // its `MR·kc` elements, 64-byte aligned because `a` is and `MR·size` is a multiple
        // of 64; strided: the readable elements of column p the caller vouched for: all MR
        // of them, or with masks the first `rows`, which is what `a_len` loads).
        let ap = unsafe { src.a.add(p * lda) };
        let mut av = [acc[0][0]; MV];
        for (i, v) in av.iter_mut().enumerate() {
            // SAFETY: see above.
            *v = unsafe {
                if PACKED {
                    V::load_packed(ap.add(i * V::LANES))
                } else {
                    V::load_partial(ap.add(i * V::LANES), a_len[i])
                }
            };
        }
        for j in 0..NR {
            // SAFETY: element (p, min(j, cols − 1)) of the caller's B (packed:
            // `p·NR + j < kc·NR`; in place: a column below `cols`, which is readable).
            let bj = unsafe { V::splat(*src.b.add(p * b_rs + b_off[j])) };
            for i in 0..MV {
                // SAFETY: the caller guarantees the instruction set.
                acc[i][j] = unsafe { V::fma(av[i], bj, acc[i][j]) };
            }
        }
    }
    acc
}

/// Keeps LLVM from partially or runtime-unrolling the loop it is called in: an `asm!`
/// statement is a call to LLVM, and its unroller leaves loops with calls rolled (on x86 it
/// unrolls only where the CPU model's loop buffer is large; Zen 4's is). The statement is
/// empty: no instruction, and (`nomem`) no constraint on loads and stores around it.
///
/// Why `accumulate` needs it: under `-C target-cpu=native` on Zen 4, LLVM unrolled its k
/// loop twice and scheduled the second step's broadcasts of B ahead of the first step's
/// FMAs; with 24 accumulators that left too few registers, and the loop spilled them to
/// the stack (f32 32 × 12 in place, n = 64: 84 GFLOP/s instead of 104). The generic
/// x86-64 model never unrolled it.
#[inline(always)]
pub(crate) fn keep_rolled() {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), not(miri)))]
    // SAFETY: an empty template: it executes nothing and touches no register, memory,
    // stack or flag (`nomem, nostack, preserves_flags`).
    unsafe {
        std::arch::asm!("", options(nomem, nostack, preserves_flags))
    };
}

/// Writes `α·acc + β·C` (or `α·acc` when β = 0) to a destination with unit row stride,
/// `rows` and `cols` inside the tile; partial vectors only when `V::MASKED`.
///
/// # Safety
/// The CPU has `V`'s instruction set; `d.rs = 1`; `d` satisfies [`MicroKernel::run`]'s
/// contract; `d.rows = MV·LANES` unless `V::MASKED`.
#[inline(always)]
unsafe fn store<V: Lanes, const MV: usize, const NR: usize>(acc: &[[V; NR]; MV], d: Dest<V::Elem>) {
    // SAFETY: the caller guarantees the instruction set.
    let (alpha, beta) = unsafe { (V::splat(d.alpha), V::splat(d.beta)) };
    // One loop nest per case, each with no test inside that LLVM would have to unswitch
    // (see `store_each`). α = 1 with β = 0 (`C = A·B`) stores the sums as they are:
    // 1·x = x exactly, so the bits are those of `α·acc`, one vector multiply fewer per
    // accumulator (24 cycles of the FMA pipes per f32 tile on Zen 4).
    // SAFETY: (all three) forwarded; the closures get a pointer to `n` elements of the
    // tile, readable when β ≠ 0 (caller), and run with `V`'s instruction set.
    unsafe {
        if d.beta != V::Elem::ZERO {
            store_each(acc, d, |v, p, n| V::fma(alpha, v, V::mul(beta, V::load_partial(p, n))));
        } else if d.alpha == V::Elem::ONE {
            store_each(acc, d, |v, _, _| v);
        } else {
            store_each(acc, d, |v, _, _| V::mul(alpha, v));
        }
    }
}

/// Stores `value(acc[i][j], p, n)` at each vector `p` of the tile (`n` elements of it).
///
/// Loops of constant bounds with the tests inside and no `break`: LLVM unrolls them
/// fully, so every `acc[i][j]` is a register. (With a `break`, or the test of β inside,
/// the f32 12-column loop stayed rolled and `acc` went through the stack: zeroed by a
/// memset before the k loop, written after it, read back here.)
///
/// # Safety
/// As [`store`]; `value` may read the `n` elements at `p` only where C may be read.
// Indexed loops on purpose, as in `accumulate`: constant bounds unroll into registers.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn store_each<V: Lanes, const MV: usize, const NR: usize>(
    acc: &[[V; NR]; MV],
    d: Dest<V::Elem>,
    value: impl Fn(V, *mut V::Elem, usize) -> V,
) {
    // Elements of each vector of a column to write (0: the vector lies below the tile).
    let len: [usize; MV] = std::array::from_fn(|i| d.rows.saturating_sub(i * V::LANES).min(V::LANES));
    for j in 0..NR {
        for i in 0..MV {
            if j < d.cols && len[i] > 0 {
                // SAFETY: `i·LANES + len[i] ≤ rows` and `j < cols`: inside the tile the
                // caller vouched for (unit row stride, so the `len[i]` elements are
                // contiguous); `len[i]` is LANES unless V::MASKED, as the caller guarantees.
                unsafe {
                    let p = d.ptr.add(j * d.cs + i * V::LANES);
                    V::store_partial(p, value(acc[i][j], p, len[i]), len[i]);
                }
            }
        }
    }
}

/// The whole kernel: accumulate, then store straight into C when the instruction set
/// allows it, else through the staging tile.
///
/// # Safety
/// [`MicroKernel::run`]'s contract (PACKED) or [`NativeKernel::run_strided`]'s (not), with
/// `MR = MV·V::LANES` and the instruction set of `V`.
#[inline(always)]
pub(crate) unsafe fn tile<V: Lanes, const MV: usize, const NR: usize, const PACKED: bool>(
    kc: usize,
    src: Strided<V::Elem>,
    d: Dest<V::Elem>,
) {
    // SAFETY: forwarded from the caller.
    let acc = unsafe { accumulate::<V, MV, NR, PACKED>(kc, src, d.rows, d.cols) };
    // SAFETY: forwarded from the caller.
    unsafe { finish::<V, MV, NR>(&acc, d) };
}

/// The store half of every kernel: `α·acc + β·C` written straight into C when the
/// instruction set allows it, else through the staging tile.
///
/// # Safety
/// The CPU has `V`'s instruction set; `d` satisfies [`MicroKernel::run`]'s contract with
/// `MR = MV·V::LANES`.
#[inline(always)]
pub(crate) unsafe fn finish<V: Lanes, const MV: usize, const NR: usize>(acc: &[[V; NR]; MV], d: Dest<V::Elem>) {
    // Checked per instantiation when it is compiled, edge-tile sizes included.
    const { assert!(MV * V::LANES * NR <= STAGE_CAPACITY, "a tile must fit the staging tile") };
    let mr = MV * V::LANES;
    let direct = d.rs == 1 && (V::MASKED || (d.rows == mr && d.cols == NR));
    if direct {
        // SAFETY: unit row stride, and full rows unless masked: `store`'s conditions.
        unsafe { store::<V, MV, NR>(acc, d) };
        return;
    }
    // Left uninitialised: zeroing all 384 elements (3 KiB in f64) cost more than a small
    // product's arithmetic. Only the `MR × NR` tile is used: zeroed here when the store
    // will read it (β ≠ 0), else only written by the store before the copy out reads it.
    let mut stage = Stage([const { MaybeUninit::<V::Elem>::uninit() }; STAGE_CAPACITY]);
    let sp = stage.0.as_mut_ptr().cast::<V::Elem>();
    if d.beta != V::Elem::ZERO {
        // SAFETY: `mr·NR ≤ STAGE_CAPACITY` elements of the stage, which this function owns;
        // all-zero bytes are a valid float (0.0).
        unsafe { sp.write_bytes(0, mr * NR) };
        for j in 0..d.cols {
            for i in 0..d.rows {
                // SAFETY: (i, j) inside the tile, readable since β ≠ 0 (caller); the stage
                // index `j·MR + i < MR·NR ≤ STAGE_CAPACITY`.
                unsafe { *sp.add(j * mr + i) = *d.ptr.add(i * d.rs + j * d.cs) };
            }
        }
    }
    let staged = Dest { ptr: sp, rs: 1, cs: mr, rows: mr, cols: NR, ..d };
    // SAFETY: the stage is a full MR × NR tile with unit row stride, owned here.
    unsafe { store::<V, MV, NR>(acc, staged) };
    for j in 0..d.cols {
        for i in 0..d.rows {
            // SAFETY: as for the copy in.
            unsafe { *d.ptr.add(i * d.rs + j * d.cs) = *sp.add(j * mr + i) };
        }
    }
}

/// Runs [`tile`] with the fewest vectors of A that cover the tile's rows (one of
/// `$mv…`, else `$full`), and the fewest columns that cover its columns (one of `$cols…`,
/// else `$nr`): an edge tile, or a whole small product, then costs about what it holds
/// instead of a full tile. Every element still gets the same operations in the same
/// order, so the bits do not change.
macro_rules! sized_tile {
    ($v:ty, [$($mv:literal),*] else $full:literal, $nr:literal / $cols:tt, $packed:literal, $kc:expr, $src:expr, $d:expr) => {{
        let (kc, src, d) = ($kc, $src, $d);
        let vectors = d.rows.div_ceil(<$v as $crate::kernel::Lanes>::LANES);
        $(
            if vectors <= $mv {
                $crate::kernel::sized_cols!($v, $mv, $nr / $cols, $packed, kc, src, d);
            }
        )*
        $crate::kernel::sized_cols!($v, $full, $nr / $cols, $packed, kc, src, d);
    }};
}
pub(crate) use sized_tile;

/// [`sized_tile!`]'s choice of columns for `$mv` vectors; returns from the kernel.
macro_rules! sized_cols {
    ($v:ty, $mv:literal, $nr:literal / [$($cols:literal),*], $packed:literal, $kc:expr, $src:expr, $d:expr) => {{
        let (kc, src, d) = ($kc, $src, $d);
        $(
            if d.cols <= $cols {
                // SAFETY: the caller's contract is `tile`'s for the full tile; a tile of
                // fewer rows or columns reads a prefix of the same panels and writes the
                // same `rows × cols` elements.
                return unsafe { $crate::kernel::tile::<$v, $mv, $cols, $packed>(kc, src, d) };
            }
        )*
        // SAFETY: as above.
        return unsafe { $crate::kernel::tile::<$v, $mv, $nr, $packed>(kc, src, d) };
    }};
}
pub(crate) use sized_cols;

/// Declares a zero-sized kernel type and its `MicroKernel` and `NativeKernel` impls around
/// a kernel function and its in-place form.
macro_rules! microkernel {
    ($ty:ident, $elem:ty, $vec:ty, $isa:expr, $mr:literal x $nr:literal, $func:ident, $strided:ident, $blocking:expr) => {
        $crate::kernel::microkernel!($ty, $elem, $vec, $isa, $mr x $nr, $func, $strided, $blocking, {});
    };
    ($ty:ident, $elem:ty, $vec:ty, $isa:expr, $mr:literal x $nr:literal, $func:ident, $strided:ident, $blocking:expr, { $($extra:item)* }) => {
        #[doc = concat!("The `", stringify!($func), "` kernel as a [`MicroKernel`](crate::kernel::MicroKernel).")]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $ty;

        const _: () = $crate::kernel::check_invariants(
            $mr,
            $nr,
            <$vec as $crate::kernel::Lanes>::LANES,
            std::mem::size_of::<$elem>(),
            $blocking,
        );

        impl $crate::kernel::MicroKernel for $ty {
            type Elem = $elem;
            type Packed = $elem;
            const KU: usize = 1;
            const ISA: $crate::isa::Isa = $isa;
            const MR: usize = $mr;
            const NR: usize = $nr;
            const NAME: &'static str = stringify!($func);
            const BLOCKING: $crate::params::Blocking = $blocking;
            const MASKED: bool = <$vec as $crate::kernel::Lanes>::MASKED;

            #[inline]
            unsafe fn run(kc: usize, a: *const $elem, b: *const $elem, dest: $crate::kernel::Dest<$elem>) {
                // SAFETY: the trait's contract is the kernel function's contract.
                unsafe { $func(kc, a, b, dest) }
            }
        }

        impl $crate::kernel::NativeKernel for $ty {
            #[inline]
            unsafe fn run_strided(kc: usize, src: $crate::kernel::Strided<$elem>, dest: $crate::kernel::Dest<$elem>) {
                // SAFETY: the trait's contract is the kernel function's contract.
                unsafe { $strided(kc, src, dest) }
            }

            $($extra)*
        }
    };
}
pub(crate) use microkernel;
