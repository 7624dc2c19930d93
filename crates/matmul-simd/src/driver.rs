//! The five loops of a packed GEMM around one [`MicroKernel`], and how they are split
//! over threads.
//!
//! ```text
//! LOOP 5  jc: N in blocks of NC     B block KC × NC lives in L3
//! LOOP 4  pc: K in blocks of KC     pack B (split over threads, then a join); never split
//! LOOP 3  ic: M in blocks of MC     each thread packs its own A block (L2)
//! LOOP 2  jr: NC in steps of NR     one B micro-panel (L1)
//! LOOP 1  ir: MC in steps of MR     one A micro-panel
//!         the microkernel: MR × NR tile of C in registers
//! ```
//!
//! **Bit-identical for every thread count.** Threads take disjoint rectangles of whole
//! `MR × NR` tiles anchored at (0, 0); the K blocks depend on `k` alone; every tile, edge or
//! not, runs the same kernel with the same store. So each element of C is computed by the
//! same sequence of operations whichever thread computes it. What threads change is only
//! who runs which tile, and the MC blocking inside a thread's rows (which does not touch
//! any element's arithmetic).

use matmul_core::{Element, Scalar};
use rayon::prelude::*;

use crate::kernel::{Dest, MicroKernel, NativeKernel, Strided};
use crate::pack::{pack_a_panel, pack_b_panel, Operand, A_BUFFER, B_BUFFER};

/// `C ← α·A·B + β·C` with C of unit row stride or general strides (the caller has already
/// turned a row-major C into a column-major one by transposing the product). A and B are
/// in `E`, α, β and C in `E::Acc`, the kernel's element type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Problem<'a, E: Element> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub alpha: E::Acc,
    pub beta: E::Acc,
    pub a: Operand<'a, E>,
    pub b: Operand<'a, E>,
    pub c: CPtr<E::Acc>,
}

/// An element type of A and B that the kernels of `Self::Acc` multiply.
pub(crate) trait Input: Element<Acc: crate::SimdScalar> {
    /// The operand itself when its elements are already the kernels' type (`f32`, `f64`),
    /// so that the paths reading A and B in place (the small path, gemv) and the kernels'
    /// own B packing apply; `None` for the half types, which are packed first.
    fn native(op: Operand<'_, Self>) -> Option<Operand<'_, Self::Acc>>;

    /// Runs the product with `isa`'s kernel for this type: by default the accumulator
    /// type's kernel, the inputs widened while packed.
    ///
    /// # Safety
    /// [`run`]'s contract, with the CPU supporting `isa`.
    unsafe fn dispatch(isa: crate::Isa, p: Problem<'_, Self>, pool: Option<&rayon::ThreadPool>, allow_small: bool) {
        // SAFETY: forwarded.
        unsafe { <Self::Acc as crate::SimdScalar>::dispatch(isa, p, pool, allow_small) }
    }
}

impl<T: crate::SimdScalar> Input for T {
    fn native(op: Operand<'_, T>) -> Option<Operand<'_, T>> {
        Some(op)
    }
}

impl Input for matmul_core::half::f16 {
    fn native(_: Operand<'_, Self>) -> Option<Operand<'_, f32>> {
        None
    }
}

/// Whether bf16 inputs run the bf16 pair kernel with `isa`: AVX-512 on a CPU with
/// AVX-512 BF16.
pub(crate) fn bf16_pairs(isa: crate::Isa) -> bool {
    cfg!(any(target_arch = "x86", target_arch = "x86_64")) && isa == crate::Isa::Avx512 && crate::isa::has_avx512_bf16()
}

impl Input for matmul_core::half::bf16 {
    fn native(_: Operand<'_, Self>) -> Option<Operand<'_, f32>> {
        None
    }

    /// With AVX-512 BF16, the bf16 pair kernel; elsewhere the f32 kernels, widened.
    unsafe fn dispatch(isa: crate::Isa, p: Problem<'_, Self>, pool: Option<&rayon::ThreadPool>, allow_small: bool) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if bf16_pairs(isa) {
            // SAFETY: forwarded, and the CPU has avx512bf16 (`bf16_pairs` checked it).
            return unsafe { run::<crate::avx512::Bf16Pairs>(p, pool, allow_small) };
        }
        // SAFETY: forwarded.
        unsafe { <f32 as crate::SimdScalar>::dispatch(isa, p, pool, allow_small) }
    }
}

/// How the operands of one element type reach one kernel: how A and B are packed into
/// its panels, and whether a product may skip packing. The five loops are written once,
/// over this.
pub(crate) trait Packing {
    /// The kernel.
    type Kernel: MicroKernel;
    /// The element type of A and B.
    type Input: Element<Acc = <Self::Kernel as MicroKernel>::Elem>;

    /// Packs rows `i0 .. i0 + rows` (`rows ≤ MR`) and columns `p0 .. p0 + kc` of A into
    /// one A micro-panel of [`MicroKernel::run`]'s layout, zero-padded.
    fn pack_a(dst: &mut [Packed<Self>], a: Operand<'_, Self::Input>, rows: (usize, usize), cols: (usize, usize));

    /// Packs rows `p0 .. p0 + kc` and columns `j0 .. j0 + cols` (`cols ≤ NR`) of B into
    /// one B micro-panel, zero-padded.
    fn pack_b(dst: &mut [Packed<Self>], b: Operand<'_, Self::Input>, rows: (usize, usize), cols: (usize, usize));

    /// Runs the product without packing and returns true, or returns false (and does
    /// nothing) where that path does not apply.
    ///
    /// # Safety
    /// [`run`]'s contract.
    unsafe fn run_unpacked(_p: &Problem<'_, Self::Input>) -> bool {
        false
    }
}

/// The packed element type of a [`Packing`]'s kernel.
pub(crate) type Packed<S> = <<S as Packing>::Kernel as MicroKernel>::Packed;

/// A kernel of the accumulator type fed by widening its inputs while packing (a copy for
/// its own type, whose B the kernel may pack its own way, and which may be read in place).
pub(crate) struct Widened<K, E>(std::marker::PhantomData<(K, E)>);

impl<K: NativeKernel, E: Input<Acc = K::Elem>> Packing for Widened<K, E> {
    type Kernel = K;
    type Input = E;

    #[inline(always)]
    fn pack_a(dst: &mut [K::Elem], a: Operand<'_, E>, rows: (usize, usize), cols: (usize, usize)) {
        pack_a_panel(dst, a, K::MR, rows, cols);
    }

    #[inline(always)]
    fn pack_b(dst: &mut [K::Elem], b: Operand<'_, E>, rows: (usize, usize), cols: (usize, usize)) {
        match E::native(b) {
            Some(b) => K::pack_b(dst, b, rows, cols),
            None => pack_b_panel(dst, b, K::NR, rows, cols),
        }
    }

    unsafe fn run_unpacked(p: &Problem<'_, E>) -> bool {
        let (Some(a), Some(b)) = (E::native(p.a), E::native(p.b)) else {
            // SAFETY: forwarded.
            return unsafe { run_small_widened::<K, E>(p) };
        };
        let native = Problem::<K::Elem> { m: p.m, n: p.n, k: p.k, alpha: p.alpha, beta: p.beta, a, b, c: p.c };
        if !is_small::<K>(&native) {
            return false;
        }
        // SAFETY: `run`'s contract, and `is_small` checked A's unit row stride and k ≤ KC.
        unsafe { run_small::<K>(&native) };
        true
    }
}

/// The most elements of A and B together (256 KiB of `f32`) that [`run_small_widened`]
/// copies.
const WIDEN_MAX: usize = 1 << 16;

thread_local! {
    /// The widened copies of a small product's half-precision A and B.
    static WIDE_BUFFER: std::cell::RefCell<crate::pack::Buffer> = std::cell::RefCell::new(crate::pack::Buffer::default());
}

/// A small product of half-precision inputs (the small path's shapes, and at most
/// [`WIDEN_MAX`] elements of A and B): A and B widened whole into column-major copies, then
/// the small path on them. The same operations per element as the packed path (widening
/// is exact, and the small path gives the packed path's bits), without its blocking.
/// Returns false, doing nothing, for other shapes.
///
/// # Safety
/// [`run`]'s contract.
unsafe fn run_small_widened<K: NativeKernel, E: Input<Acc = K::Elem>>(p: &Problem<'_, E>) -> bool {
    let (m, n, k) = (p.m, p.n, p.k);
    let elements = m.saturating_mul(k).saturating_add(k.saturating_mul(n));
    if k > K::BLOCKING.kc || m.saturating_mul(n).saturating_mul(k) > SMALL_MAX || elements > WIDEN_MAX {
        return false;
    }
    WIDE_BUFFER.with_borrow_mut(|buffer| {
        let (a_wide, b_wide) = buffer.get::<K::Elem>(elements).split_at_mut(m * k);
        // Column-major copies: A's column p at a_wide[p·m ..], B's column j at b_wide[j·k ..]
        // (one "panel" as wide as the whole matrix).
        pack_a_panel(a_wide, p.a, m, (0, m), (0, k));
        pack_a_panel(b_wide, p.b, k, (0, k), (0, n));
        fn view<T: Element>(data: &[T], rows: usize, cols: usize) -> Operand<'_, T> {
            Operand::of(matmul_core::MatRef::col_major(data, rows, cols).expect("a whole column-major copy"))
        }
        let native = Problem::<K::Elem> {
            m,
            n,
            k,
            alpha: p.alpha,
            beta: p.beta,
            a: view(a_wide, m, k),
            b: view(b_wide, k, n),
            c: p.c,
        };
        debug_assert!(is_small::<K>(&native));
        // SAFETY: `run`'s contract for C; A is column-major (unit row stride), neither
        // copy has a negative stride, and k ≤ KC (checked above): `is_small`'s conditions.
        unsafe { run_small::<K>(&native) };
    });
    true
}

/// C's element (0, 0) and strides. Raw, because threads write disjoint tiles of it
/// concurrently, which no slice split can express for column-major tiles.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CPtr<T> {
    pub ptr: *mut T,
    pub rs: usize,
    pub cs: usize,
}

// SAFETY: a CPtr is only dereferenced by the microkernels, on tiles that `run` hands to
// exactly one task each (disjoint rectangles, see `Split`), while the caller's `&mut` to C
// is held for the whole call.
unsafe impl<T: Send> Send for CPtr<T> {}
// SAFETY: as for Send: shared between tasks that write disjoint elements.
unsafe impl<T: Send> Sync for CPtr<T> {}

/// How the tiles of one `(jc, pc)` block are shared among threads: `tm × tn` rectangles,
/// each a contiguous range of MR-row panels by a contiguous range of NR-column panels.
#[derive(Clone, Copy, Debug)]
struct Split {
    tm: usize,
    tn: usize,
}

impl Split {
    /// Splits M or N among the threads, whichever leaves the busiest thread less extra
    /// work: the largest share of whole panels against the mean. M is preferred (each
    /// thread then packs only its own rows of A, once, and keeps them in its own L2); N
    /// has every thread pack the whole A block, so it must balance at least 3 % better.
    /// (n = 256, f64 24 × 8 on 2 threads: M gives 6 and 5 panels of 24 rows, 9 % over the
    /// mean; N gives 16 and 16 panels of 8 columns.)
    fn new(threads: usize, m_panels: usize, n_panels: usize) -> Split {
        if threads <= 1 {
            return Split { tm: 1, tn: 1 };
        }
        // Largest share over the mean, ×100 (integer arithmetic: deterministic).
        let excess = |panels: usize| panels.div_ceil(threads) * threads * 100 / panels.max(1);
        if excess(n_panels) * 103 < excess(m_panels) * 100 {
            Split { tm: 1, tn: threads }
        } else {
            Split { tm: threads, tn: 1 }
        }
    }

    /// The `t`-th of `parts` near-equal contiguous ranges of `0 .. panels`.
    fn range(t: usize, parts: usize, panels: usize) -> (usize, usize) {
        (t * panels / parts, (t + 1) * panels / parts)
    }
}

/// Products up to this many multiply-adds (`m·n·k`, about 100³, where OpenBLAS also stops
/// packing) run unpacked when A has unit row stride and k fits one K block: packing would
/// cost a noticeable share of so little arithmetic. Below [`crate::SERIAL_BELOW`], so the
/// path never depends on the thread count.
pub(crate) const SMALL_MAX: usize = 1_000_000;
const _: () = assert!(SMALL_MAX < crate::SERIAL_BELOW);

/// Whether [`run`] takes the small, unpacked path for this problem (shape and layout only).
pub(crate) fn is_small<K: NativeKernel>(p: &Problem<'_, K::Elem>) -> bool {
    let strides_fit = p.a.unsigned_strides().is_some() && p.b.unsigned_strides().is_some();
    p.a.rs == 1 && strides_fit && p.k <= K::BLOCKING.kc && p.m.saturating_mul(p.n).saturating_mul(p.k) <= SMALL_MAX
}

/// Runs the product on `pool` (or on this thread when `pool` is `None`), unpacked when
/// `allow_small` and the packing allows it (see [`Packing::run_unpacked`]: the results
/// are the same bits either way).
///
/// # Safety
///
/// * The CPU supports the kernel's ISA.
/// * `p.m, p.n, p.k ≥ 1`; `p.a` is `m × k` and `p.b` is `k × n`.
/// * `p.c` addresses an `m × n` matrix whose elements are distinct, valid for writes (and
///   reads when β ≠ 0), and accessed by nothing else during the call.
pub(crate) unsafe fn run<S: Packing>(p: Problem<'_, S::Input>, pool: Option<&rayon::ThreadPool>, allow_small: bool) {
    // SAFETY: `run`'s contract is `run_unpacked`'s.
    if allow_small && unsafe { S::run_unpacked(&p) } {
        return;
    }
    let threads = pool.map_or(1, |pool| pool.current_num_threads());
    B_BUFFER.with_borrow_mut(|buffer| {
        let kc = S::Kernel::BLOCKING.kc_for(p.k).next_multiple_of(S::Kernel::KU);
        let nc = S::Kernel::BLOCKING.nc.min(p.n.next_multiple_of(S::Kernel::NR));
        let b_pack: &mut [Packed<S>] = buffer.get(nc * kc);
        match pool {
            // SAFETY: `run`'s contract is `blocks`'s.
            Some(pool) => pool.install(|| unsafe { blocks::<S>(&p, b_pack, threads) }),
            // SAFETY: as above.
            None => unsafe { blocks::<S>(&p, b_pack, 1) },
        }
    });
}

/// Loops 5 and 4, and the parallel region of loop 3 inside them.
///
/// # Safety
/// As [`run`]; `b_pack` holds at least `min(NC, n rounded up to NR) · kc'` elements, `kc'`
/// the K block rounded up to a multiple of `KU`.
unsafe fn blocks<S: Packing>(p: &Problem<'_, S::Input>, b_pack: &mut [Packed<S>], threads: usize) {
    type K<S> = <S as Packing>::Kernel;
    let kc_max = K::<S>::BLOCKING.kc_for(p.k);
    let nc_max = K::<S>::BLOCKING.nc;
    let (mr, nr) = (K::<S>::MR, K::<S>::NR);
    // LOOP 5: N in blocks of NC. The packed B block of KC × NC is shared by all threads.
    for jc in (0..p.n).step_by(nc_max) {
        let nb = nc_max.min(p.n - jc);
        // LOOP 4: K in blocks of KC, in order (never split: each element's sum must run
        // p = 0, 1, … whatever the thread count). Later blocks add to what earlier ones wrote.
        for pc in (0..p.k).step_by(kc_max) {
            let kb = kc_max.min(p.k - pc);
            let beta = if pc == 0 { p.beta } else { <K<S> as MicroKernel>::Elem::ONE };
            let b_block = &mut b_pack[..nb.next_multiple_of(nr) * kb.next_multiple_of(K::<S>::KU)];
            pack_b::<S>(b_block, p.b, (pc, kb), (jc, nb), threads);
            let b_block: &[Packed<S>] = b_block;
            let m_panels = p.m.div_ceil(mr);
            let n_panels = nb.div_ceil(nr);
            let split = Split::new(threads, m_panels, n_panels);
            let task = |t: usize| {
                let (m0, m1) = Split::range(t / split.tn, split.tm, m_panels);
                let (n0, n1) = Split::range(t % split.tn, split.tn, n_panels);
                let rows = (m0 * mr, (m1 * mr).min(p.m));
                let cols = (n0 * nr, (n1 * nr).min(nb));
                // SAFETY: `run`'s contract; the rectangles of distinct `t` are disjoint
                // (`Split::range` partitions the panels), so no two tasks share a tile.
                unsafe { rectangle::<S>(p, beta, b_block, (pc, kb), jc, rows, cols) };
            };
            if threads > 1 {
                (0..split.tm * split.tn).into_par_iter().for_each(task);
            } else {
                task(0);
            }
        }
    }
}

/// Packs the `kb × nb` block of B at `(pc, jc)` into NR-column micro-panels, split over the
/// threads by panel.
fn pack_b<S: Packing>(
    dst: &mut [Packed<S>],
    b: Operand<'_, S::Input>,
    (pc, kb): (usize, usize),
    (jc, nb): (usize, usize),
    threads: usize,
) {
    let nr = S::Kernel::NR;
    let panel = |(jp, out): (usize, &mut [Packed<S>])| {
        let j0 = jc + jp * nr;
        S::pack_b(out, b, (pc, kb), (j0, nr.min(jc + nb - j0)));
    };
    let len = nr * kb.next_multiple_of(S::Kernel::KU);
    if threads > 1 {
        dst.par_chunks_mut(len).enumerate().for_each(panel);
    } else {
        dst.chunks_mut(len).enumerate().for_each(panel);
    }
}

/// One thread's share of a `(jc, pc)` block: rows `rows.0 .. rows.1` (MR-aligned start)
/// by block columns `cols.0 .. cols.1` (NR-aligned, relative to `jc`).
///
/// # Safety
/// As [`run`], and no other thread writes this rectangle of C during the call.
unsafe fn rectangle<S: Packing>(
    p: &Problem<'_, S::Input>,
    beta: <S::Kernel as MicroKernel>::Elem,
    b_block: &[Packed<S>],
    (pc, kb): (usize, usize),
    jc: usize,
    rows: (usize, usize),
    cols: (usize, usize),
) {
    if rows.0 >= rows.1 || cols.0 >= cols.1 {
        return;
    }
    type K<S> = <S as Packing>::Kernel;
    let mc = K::<S>::BLOCKING.mc;
    // Elements of one step of k, rounded up to the kernel's pairs.
    let kp = kb.next_multiple_of(K::<S>::KU);
    A_BUFFER.with_borrow_mut(|buffer| {
        let a_pack: &mut [Packed<S>] = buffer.get(mc.min(rows.1 - rows.0).next_multiple_of(K::<S>::MR) * kp);
        // LOOP 3: this thread's rows in blocks of MC; each A block is packed once and
        // reused against every B micro-panel of the thread's columns.
        for ic in (rows.0..rows.1).step_by(mc) {
            let mb = mc.min(rows.1 - ic);
            let a_block = &mut a_pack[..mb.next_multiple_of(K::<S>::MR) * kp];
            for (ip, out) in a_block.chunks_exact_mut(K::<S>::MR * kp).enumerate() {
                let i0 = ic + ip * K::<S>::MR;
                S::pack_a(out, p.a, (i0, K::<S>::MR.min(ic + mb - i0)), (pc, kb));
            }
            let a_block: &[Packed<S>] = a_block;
            // LOOP 2: B micro-panels (NR columns each).
            for jr in (cols.0..cols.1).step_by(K::<S>::NR) {
                let b_panel = &b_block[jr / K::<S>::NR * K::<S>::NR * kp..][..K::<S>::NR * kp];
                let nr = K::<S>::NR.min(cols.1 - jr);
                // LOOP 1: A micro-panels (MR rows each).
                for ir in (0..mb).step_by(K::<S>::MR) {
                    let a_panel = &a_block[ir / K::<S>::MR * K::<S>::MR * kp..][..K::<S>::MR * kp];
                    let (i, j) = (ic + ir, jc + jr);
                    debug_assert_eq!(a_panel.as_ptr() as usize % 64, 0);
                    // SAFETY: (i, j) is an element of C (i < m, j < n), so its offset lies
                    // inside the C the caller of `run` vouched for.
                    let ptr = unsafe { p.c.ptr.add(i * p.c.rs + j * p.c.cs) };
                    let dest = Dest {
                        ptr,
                        rs: p.c.rs,
                        cs: p.c.cs,
                        rows: K::<S>::MR.min(mb - ir),
                        cols: nr,
                        alpha: p.alpha,
                        beta,
                    };
                    // SAFETY: the CPU supports K::ISA (`run`'s contract, checked by the
                    // backend with `Isa::is_supported`); `a_panel`/`b_panel` are MR·kp and NR·kp long,
                    // `a_panel` starts on a cache line (aligned buffer, offsets multiples of
                    // MR·kp elements = whole cache lines); the tile lies inside C and belongs
                    // to this task alone (disjoint rectangles).
                    unsafe { K::<S>::run(kb, a_panel.as_ptr(), b_panel.as_ptr(), dest) };
                }
            }
        }
    });
}

/// The small-product path: loops 2 and 1 over the whole product, the kernel reading A and
/// B where they are. An edge tile reads only the columns of B it has; with masked kernels
/// (AVX-512) it reads only the rows of A it has too, so nothing is packed and no buffer is
/// touched; without masks the last, partial A panel (fewer than MR rows) is packed,
/// zero-padded, because reading a whole MR-row panel there would run past A. `k ≤ KC`,
/// so the packed path would use one K block of depth k too: the kernels perform the same
/// operations and the results are the same bits.
///
/// # Safety
/// As [`run`], and [`is_small`]: `p.a.rs == 1`, no stride of A or B negative, `p.k ≤ K::BLOCKING.kc`.
unsafe fn run_small<K: NativeKernel>(p: &Problem<'_, K::Elem>) {
    if K::MASKED || p.m % K::MR == 0 {
        // SAFETY: forwarded; no A panel needs packing (masked reads, or whole panels).
        unsafe { small_tiles::<K>(p, &[]) };
        return;
    }
    A_BUFFER.with_borrow_mut(|a_buffer| {
        let m_full = p.m / K::MR * K::MR;
        let a_edge: &mut [K::Elem] = a_buffer.get(K::MR * p.k);
        pack_a_panel(a_edge, p.a, K::MR, (m_full, p.m - m_full), (0, p.k));
        // SAFETY: forwarded; `a_edge` is the packed last panel, `MR·k` long.
        unsafe { small_tiles::<K>(p, a_edge) };
    });
}

/// [`run_small`]'s loops, reading A's last, partial panel from `a_edge` when it is
/// not empty.
///
/// # Safety
/// As [`run_small`]; `a_edge` is empty when `K::MASKED` or MR divides m, else it is the
/// packed panel of A's last `m mod MR` rows (`MR·k` elements).
unsafe fn small_tiles<K: NativeKernel>(p: &Problem<'_, K::Elem>, a_edge: &[K::Elem]) {
    let (m, n, k) = (p.m, p.n, p.k);
    let m_full = if a_edge.is_empty() { m } else { m / K::MR * K::MR };
    // LOOP 2: NR columns at a time.
    for j in (0..n).step_by(K::NR) {
        let (a_cs, (b_rs, b_cs)) = (p.a.cs.unsigned_abs(), p.b.unsigned_strides().expect("is_small: not negative"));
        // SAFETY: (0, j) is an element of B (k ≥ 1, j < n).
        let b = unsafe { p.b.ptr_at(0, j) };
        // LOOP 1: MR rows at a time.
        for i in (0..m).step_by(K::MR) {
            // SAFETY: (i, 0) is an element of A (i < m, k ≥ 1).
            let (a, lda) = if i < m_full { (unsafe { p.a.ptr_at(i, 0) }, a_cs) } else { (a_edge.as_ptr(), K::MR) };
            // SAFETY: (i, j) is an element of C (i < m, j < n): inside the C the
            // caller of `run` vouched for.
            let ptr = unsafe { p.c.ptr.add(i * p.c.rs + j * p.c.cs) };
            let dest = Dest {
                ptr,
                rs: p.c.rs,
                cs: p.c.cs,
                rows: K::MR.min(m - i),
                cols: K::NR.min(n - j),
                alpha: p.alpha,
                beta: p.beta,
            };
            let src = Strided { a, lda, b, b_rs, b_cs };
            // SAFETY: the CPU supports K::ISA (`run`'s contract). A: rows i .. i + rows of
            // columns p < k, inside A (unit row stride); a masked kernel reads only those,
            // an unmasked one reads MR rows, which are all inside A unless this is the
            // last panel of a ragged m, read from the packed `a_edge` instead. B: columns
            // j .. j + cols ≤ n of rows p < k, inside B; the kernel reads no others. The
            // tile lies inside C, and this thread alone writes C.
            unsafe { K::run_strided(k, src, dest) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Split;

    #[test]
    fn the_split_balances_whole_panels() {
        // n = 256, 24 × 8: 11 row panels against 32 column panels.
        assert_eq!((Split::new(2, 11, 32).tm, Split::new(2, 11, 32).tn), (1, 2));
        // n = 2048: 86 row panels split evenly.
        assert_eq!((Split::new(2, 86, 256).tm, Split::new(2, 86, 256).tn), (2, 1));
        // One thread, one rectangle.
        assert_eq!((Split::new(1, 5, 5).tm, Split::new(1, 5, 5).tn), (1, 1));
        // Every panel belongs to exactly one range.
        for parts in 1..5 {
            let ranges: Vec<_> = (0..parts).map(|t| Split::range(t, parts, 11)).collect();
            assert_eq!(ranges[0].0, 0);
            assert_eq!(ranges[parts - 1].1, 11);
            assert!(ranges.windows(2).all(|w| w[0].1 == w[1].0));
        }
    }
}
