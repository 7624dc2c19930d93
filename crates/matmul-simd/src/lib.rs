//! The project's own SIMD GEMM: `C ← α·A·B + β·C` with packed operands, register-tiled
//! microkernels for AVX-512, AVX2 + FMA and portable `wide` vectors, chosen at run time,
//! and rayon threads that never change a bit of the result.
//!
//! A newcomer's map:
//!
//! * [`kernel`]: the [`MicroKernel`](kernel::MicroKernel) contract, and the one generic
//!   body every kernel instantiates;
//! * [`avx512`], [`avx2`], [`portable`]: the kernels, named by dtype, instruction set and
//!   tile (`f64_avx512_24x8`);
//! * [`params`]: MC, KC, NC for each (instruction set, dtype), each with the cache it targets;
//! * `pack`: the packing loops and the reused, aligned buffers;
//! * `driver`: the five loops, and how threads share them;
//! * [`isa`]: the CPU detection (shared with the bench's peak measurement) and the
//!   `MATMUL_SIMD_KERNEL` override.
//!
//! # Backends
//!
//! | name | kernels |
//! |---|---|
//! | `simd` ([`SIMD`]) | the best this CPU has (or the one `MATMUL_SIMD_KERNEL=avx512\|avx2\|portable` forces) |
//! | `simd-avx512` ([`SIMD_AVX512`]) | `f64_avx512_24x8`, `f32_avx512_32x12`, `bf16_avx512_32x12` (with AVX-512 BF16) |
//! | `simd-avx2` ([`SIMD_AVX2`]) | `f64_avx2_8x6`, `f32_avx2_16x6` |
//! | `simd-portable` ([`SIMD_PORTABLE`]) | `f64_portable_8x4`, `f32_portable_16x4` |
//!
//! A backend whose instructions the CPU lacks reports
//! [`Availability::Unavailable`] with the reason.
//!
//! # Element types
//!
//! `f32` and `f64` run their own kernels. `bf16` and `f16` inputs (C, α, β in `f32`):
//!
//! * **bf16 on a CPU with AVX-512 BF16** (Zen 4, Sapphire Rapids; `simd` and `simd-avx512`):
//!   the `bf16_avx512_32x12` kernel, `vdpbf16ps` on A and B packed in pairs of k as they
//!   are (no conversion), twice the f32 kernel's multiply-adds per instruction. That
//!   instruction adds each lane's two exact products into the f32 accumulator one at a time
//!   and flushes subnormal inputs and results to zero, which the bf16 bound allows for
//!   (`matmul_core::reference::Problem`).
//! * **otherwise** (f16 everywhere, bf16 without AVX-512 BF16): widened to `f32` while A and
//!   B are packed (exactly: a shift for bf16, F16C for f16 where the CPU has it, through the
//!   `half` crate) and run the `f32` kernels.
//!
//! Either way every layout and thread count works, bit-identical across thread counts.
//! Widened inputs of a small product (the small path's shapes, and at most 2¹⁶ elements of
//! A and B) are copied whole into `f32` and run the small path, with the packed path's bits;
//! the bf16 pair kernel always packs; the gemv path is for `f32` and `f64` only.
//!
//! # Layouts and orientation
//!
//! Packing absorbs every layout of A and B. C is made column-major (unit row stride) before
//! the loops: a row-major C is computed as `Cᵀ = Bᵀ·Aᵀ`, which performs, for every element,
//! exactly the same operations (the transposition of the induced product, as BLIS does it);
//! a C with no unit stride is written through a small tile.
//!
//! # Paths, chosen by shape and layout only
//!
//! * `m = 1` or `n = 1`: a matrix–vector product (`gemv`), one pass over A, no packing;
//! * `m·n·k ≤ 10⁶` with `k ≤ KC` and A (after the orientation above) of unit row stride:
//!   the same kernels reading A and B in place, each tile reading only the rows and
//!   columns it has (masked loads; without masks, i.e. AVX2 and portable, the ragged last
//!   A panel is packed) — the same bits as the packed path, without its copies;
//! * everything else: the packed five loops of the `driver` module.
//!
//! # Threads
//!
//! [`Backend::set_threads`] sets the threads (1 = serial; more than [`max_threads`] is
//! taken as that many, and [`Simd::threads`] says the count in effect). By default, products smaller
//! than [`SERIAL_BELOW`] multiply-adds run serially, with no pool, and larger ones use all
//! cores. One rayon pool is kept per thread count. The result is bit-for-bit the same for
//! every thread count: see the `driver` module.
//!
//! ```
//! use matmul_core::{Backend, Layout, Matrix};
//!
//! let a = Matrix::<f64>::from_fn(30, 20, Layout::RowMajor, |i, j| (i + j) as f64);
//! let b = Matrix::<f64>::from_fn(20, 10, Layout::ColMajor, |i, j| (i * j) as f64);
//! let mut c = Matrix::<f64>::zeros(30, 10, Layout::RowMajor);
//! let simd: &dyn Backend = &matmul_simd::SIMD;
//! simd.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
//! // C[2, 3] = Σₚ (2 + p)·3p.
//! assert_eq!(c.get(2, 3), Some((0..20).map(|p| ((2 + p) * 3 * p) as f64).sum()));
//! # Ok::<(), matmul_core::Error>(())
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use matmul_core::{
    Availability, Backend, BackendKind, Batch, BatchProduct, Error, GemmPlan, MatMut, MatRef, Result, Scalar,
    StridedBatch,
};

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub mod avx2;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub mod avx512;
mod driver;
mod gemv;
pub mod isa;
pub mod kernel;
mod pack;
pub mod params;
pub mod portable;

pub use isa::{detected, Isa};

use driver::{CPtr, Input, Problem};
use pack::Operand;
use params::Blocking;

/// Products with fewer multiply-adds (`m·n·k`) run on the calling thread: below about
/// 128³ a fork and join costs more than the second core saves (OpenBLAS switches at
/// 2.6·10⁵, the gemm crate at 5.9·10⁵; a 128³ product takes ~70 µs on one Zen 4 core).
pub const SERIAL_BELOW: usize = 1 << 21;

/// Which kernels a [`Simd`] backend runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The best this CPU has, or the one [`isa::KERNEL_ENV`] forces.
    Best,
    /// Only this instruction set's kernels (unavailable where the CPU lacks it).
    Only(Isa),
}

/// A SIMD backend: the packed GEMM with one choice of kernels and its own thread setting.
#[derive(Debug)]
pub struct Simd {
    choice: Choice,
    /// 0: the default (serial below [`SERIAL_BELOW`], all cores above).
    threads: AtomicUsize,
}

/// `simd`: the best kernels of this CPU.
pub static SIMD: Simd = Simd::new(Choice::Best);
/// `simd-avx512`: the AVX-512F kernels.
pub static SIMD_AVX512: Simd = Simd::new(Choice::Only(Isa::Avx512));
/// `simd-avx2`: the AVX2 + FMA kernels.
pub static SIMD_AVX2: Simd = Simd::new(Choice::Only(Isa::Avx2));
/// `simd-portable`: the `wide` kernels.
pub static SIMD_PORTABLE: Simd = Simd::new(Choice::Only(Isa::Portable));

impl Simd {
    /// A backend with its own thread setting (the statics share theirs process-wide).
    pub const fn new(choice: Choice) -> Simd {
        Simd { choice, threads: AtomicUsize::new(0) }
    }

    /// The instruction set this backend runs here, or why it cannot run.
    pub fn isa(&self) -> std::result::Result<Isa, String> {
        match self.choice {
            Choice::Best => isa::selected(),
            Choice::Only(isa) if isa.is_supported() => Ok(isa),
            Choice::Only(isa) => Err(format!("this CPU lacks {}", isa.required_features())),
        }
    }

    /// The threads a product of this shape runs on.
    fn threads_for(&self, m: usize, n: usize, k: usize) -> usize {
        if m.saturating_mul(n).saturating_mul(k) < SERIAL_BELOW {
            return 1;
        }
        self.threads()
    }

    /// The threads a product above [`SERIAL_BELOW`] runs on: every CPU by default, else
    /// the count given to [`Backend::set_threads`], at most [`max_threads`].
    pub fn threads(&self) -> usize {
        match self.threads.load(Ordering::Relaxed) {
            0 => cpus(),
            t => t.min(max_threads()),
        }
    }

    fn gemm<E: Input>(
        &self,
        alpha: E::Acc,
        a: MatRef<'_, E>,
        b: MatRef<'_, E>,
        beta: E::Acc,
        c: MatMut<'_, E::Acc>,
    ) -> Result<()> {
        self.gemm_paths(alpha, a, b, beta, c, true)
    }

    /// [`Simd::gemm`], optionally without the small-product path (the tests compare both).
    fn gemm_paths<E: Input>(
        &self,
        alpha: E::Acc,
        a: MatRef<'_, E>,
        b: MatRef<'_, E>,
        beta: E::Acc,
        c: MatMut<'_, E::Acc>,
        allow_small: bool,
    ) -> Result<()> {
        let isa = self.isa_or_unavailable()?;
        self.gemm_on(isa, alpha, a, b, beta, c, allow_small)
    }

    fn isa_or_unavailable(&self) -> Result<Isa> {
        self.isa().map_err(|reason| Error::BackendUnavailable { backend: self.name().to_owned(), reason })
    }

    /// Every product of a batch, after one dispatch. Products that are each below
    /// [`SERIAL_BELOW`] but together reach it (per group, for a grouped batch) are split
    /// across the threads by product: each product runs whole on one thread, serially, so
    /// its bits are those of a single call (which are the same for every thread count).
    /// Larger products run one after another, each threaded as a single call is.
    fn gemm_batch<T: SimdScalar + Input<Acc = T>>(&self, batch: Batch<'_, T>) -> Result<()> {
        use rayon::prelude::*;
        let isa = self.isa_or_unavailable()?;
        let threads = |(m, n, k): (usize, usize, usize), count: usize| {
            let work = m.saturating_mul(n).saturating_mul(k);
            if work < SERIAL_BELOW && work.saturating_mul(count) >= SERIAL_BELOW {
                let threads = self.threads().min(count);
                (threads > 1).then(|| pool(threads).map(|pool| (threads, pool))).flatten()
            } else {
                None
            }
        };
        match batch {
            Batch::Strided(mut batch) => {
                let (alpha, beta) = batch.scalars();
                let run = |batch: &mut StridedBatch<'_, T>| {
                    batch.for_each_product(|a, b, c| self.gemm_on(isa, alpha, a, b, beta, c, true))
                };
                let Some((threads, pool)) = threads(batch.dims(), batch.len()) else {
                    return run(&mut batch);
                };
                let per_thread = batch.len().div_ceil(threads);
                let mut parts = Vec::with_capacity(threads);
                while batch.len() > per_thread {
                    let (head, tail) = batch.split_at(per_thread);
                    parts.push(head);
                    batch = tail;
                }
                parts.push(batch);
                pool.install(|| parts.par_iter_mut().try_for_each(run))
            }
            Batch::Grouped(mut batch) => {
                for group in batch.groups_mut() {
                    let (dims, (alpha, beta)) = (group.dims(), group.scalars());
                    let count = group.len();
                    let products = group.products_mut();
                    let run = |chunk: &mut [BatchProduct<'_, T>]| {
                        chunk
                            .iter_mut()
                            .try_for_each(|(a, b, c)| self.gemm_on(isa, alpha, *a, *b, beta, c.rb_mut(), true))
                    };
                    match threads(dims, count) {
                        Some((threads, pool)) => {
                            pool.install(|| products.par_chunks_mut(count.div_ceil(threads)).try_for_each(run))?
                        }
                        None => run(products)?,
                    }
                }
                Ok(())
            }
        }
    }

    /// [`Simd::gemm_paths`] on the instruction set `isa`, which the CPU supports.
    #[allow(clippy::too_many_arguments)]
    fn gemm_on<E: Input>(
        &self,
        isa: Isa,
        alpha: E::Acc,
        a: MatRef<'_, E>,
        b: MatRef<'_, E>,
        beta: E::Acc,
        mut c: MatMut<'_, E::Acc>,
        allow_small: bool,
    ) -> Result<()> {
        let GemmPlan::Compute { m, n, k } = GemmPlan::prepare(alpha, &a, &b, beta, &mut c)? else {
            return Ok(());
        };
        // C's strides made non-negative: reversing C's rows is reversing A's, its columns
        // B's; each element of C gets the same operations, so the result is the same bits.
        let (a, c) = if c.row_stride() < 0 { (a.reversed_rows(), c.reversed_rows()) } else { (a, c) };
        let (b, mut c) = if c.col_stride() < 0 { (b.reversed_cols(), c.reversed_cols()) } else { (b, c) };
        let (rs, cs) = c.unsigned_strides().expect("both strides of C were made non-negative");
        let (a, b) = (Operand::of(a), Operand::of(b));
        if let (true, Some(a), Some(b)) = (n == 1 || m == 1, E::native(a), E::native(b)) {
            // A matrix–vector product: C's column is A·B, or C's row is (Bᵀ·Aᵀ)ᵀ. (Half
            // inputs take the packed path, which widens them.)
            let g = if n == 1 {
                gemv::Gemv { m, k, alpha, beta, a, x: b, y: c }
            } else {
                gemv::Gemv { m: n, k, alpha, beta, a: b.t(), x: a.t(), y: c.t() }
            };
            // SAFETY: the CPU supports `isa` (the caller's `self.isa()` checked it).
            unsafe { gemv::gemv(isa, g) };
            return Ok(());
        }
        let threads = self.threads_for(m, n, k);
        let pool = if threads > 1 { pool(threads) } else { None };
        let ptr = c.as_mut_ptr();
        // m, n ≥ 2 here, so both strides of C are meaningful.
        let direct = Problem { m, n, k, alpha, beta, a, b, c: CPtr { ptr, rs: 1, cs } };
        // Cᵀ = Bᵀ·Aᵀ: the same operations per element, with C column-major.
        let transposed = Problem { m: n, n: m, a: b.t(), b: a.t(), c: CPtr { ptr, rs: 1, cs: rs }, ..direct };
        let problem = if rs == 1 {
            direct
        } else if cs == 1 {
            transposed
        } else {
            Problem { c: CPtr { ptr, rs, cs }, ..direct }
        };
        // SAFETY: `isa` is supported (the caller's `self.isa()` checked it); m, n, k ≥ 1 (GemmPlan);
        // A and B are the operands of GemmPlan's checked shapes; C's elements are
        // distinct (a MatMut cannot alias itself), at non-negative strides (rs, cs) from
        // `ptr`, and `c` is borrowed mutably for the whole call.
        unsafe { E::dispatch(isa, problem, pool.as_deref(), allow_small) };
        Ok(())
    }
}

/// The CPUs this process may run on (1 if the OS does not say).
/// Asked once per process: `available_parallelism` reads the cgroup quota on Linux, too
/// slow to repeat on every threaded product.
fn cpus() -> usize {
    static CPUS: OnceLock<usize> = OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The most threads [`Backend::set_threads`] gives a product: the CPU count, or 8 on a
/// machine with fewer CPUs, so that a small machine still runs (and its tests still
/// check) the thread splits of a larger one. More would only wait for a CPU: the count
/// is clamped, never refused, so `set_threads(usize::MAX)` is a prompt product on every
/// CPU, not a request for that many threads.
pub fn max_threads() -> usize {
    cpus().max(8)
}

/// The thread pool of `threads` threads, built once per thread count and kept.
/// `None` (run serially) if the OS refuses the threads.
fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, pool)) = pools.iter().find(|(t, _)| *t == threads) {
        return Some(Arc::clone(pool));
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("matmul-simd-{i}"))
            .build()
            .ok()?,
    );
    pools.push((threads, Arc::clone(&pool)));
    Some(pool)
}

/// The kernels' element types, each with its kernel for every instruction set.
trait SimdScalar: Scalar {
    /// The kernel's name and blocking for `isa`.
    fn kernel(isa: Isa) -> (&'static str, Blocking);
    /// Runs the product, A and B in `E` (this type, or a half type widened while packed),
    /// with `isa`'s kernel.
    ///
    /// # Safety
    /// `driver::run`'s contract, with the CPU supporting `isa`.
    unsafe fn dispatch<E: Input<Acc = Self>>(
        isa: Isa,
        p: Problem<'_, E>,
        pool: Option<&rayon::ThreadPool>,
        allow_small: bool,
    );
}

macro_rules! simd_scalar {
    ($t:ty, $avx512:ident, $avx2:ident, $portable:ident) => {
        impl SimdScalar for $t {
            fn kernel(isa: Isa) -> (&'static str, Blocking) {
                use kernel::MicroKernel;
                match isa {
                    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                    Isa::Avx512 => (avx512::$avx512::NAME, avx512::$avx512::BLOCKING),
                    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                    Isa::Avx2 => (avx2::$avx2::NAME, avx2::$avx2::BLOCKING),
                    _ => (portable::$portable::NAME, portable::$portable::BLOCKING),
                }
            }

            unsafe fn dispatch<E: Input<Acc = $t>>(
                isa: Isa,
                p: Problem<'_, E>,
                pool: Option<&rayon::ThreadPool>,
                allow_small: bool,
            ) {
                match isa {
                    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                    // SAFETY: the caller guarantees the CPU supports `isa` and the rest of
                    // `run`'s contract.
                    Isa::Avx512 => unsafe { driver::run::<driver::Widened<avx512::$avx512, E>>(p, pool, allow_small) },
                    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                    // SAFETY: as above.
                    Isa::Avx2 => unsafe { driver::run::<driver::Widened<avx2::$avx2, E>>(p, pool, allow_small) },
                    // SAFETY: as above (the portable kernel needs no instruction set beyond
                    // the build's; on other architectures only Portable is ever supported).
                    _ => unsafe { driver::run::<driver::Widened<portable::$portable, E>>(p, pool, allow_small) },
                }
            }
        }
    };
}
simd_scalar!(f64, F64Avx512, F64Avx2, F64Portable);
simd_scalar!(f32, F32Avx512, F32Avx2, F32Portable);

impl Backend for Simd {
    fn name(&self) -> &'static str {
        match self.choice {
            Choice::Best => "simd",
            Choice::Only(Isa::Avx512) => "simd-avx512",
            Choice::Only(Isa::Avx2) => "simd-avx2",
            Choice::Only(Isa::Portable) => "simd-portable",
        }
    }

    fn description(&self) -> &'static str {
        match self.choice {
            Choice::Best => "packed, register-tiled SIMD GEMM with the best kernels of this CPU (rayon threads)",
            Choice::Only(Isa::Avx512) => "packed SIMD GEMM, AVX-512F kernels 24x8 (f64) and 32x12 (f32)",
            Choice::Only(Isa::Avx2) => "packed SIMD GEMM, AVX2+FMA kernels 8x6 (f64) and 16x6 (f32)",
            Choice::Only(Isa::Portable) => "packed SIMD GEMM, portable `wide` kernels 8x4 (f64) and 16x4 (f32)",
        }
    }

    fn kind(&self) -> BackendKind {
        BackendKind::Simd
    }

    fn details(&self) -> String {
        let isa = match self.isa() {
            Ok(isa) => isa,
            Err(reason) => return format!("unavailable: {reason}"),
        };
        let why = match self.choice {
            Choice::Best if std::env::var_os(isa::KERNEL_ENV).is_some() => format!("forced by {}", isa::KERNEL_ENV),
            Choice::Best => "best of this CPU".to_owned(),
            Choice::Only(_) => "forced".to_owned(),
        };
        let describe = |(name, b): (&str, Blocking)| format!("{name} (MC {} KC {} NC {})", b.mc, b.kc, b.nc);
        let threads = match self.threads.load(Ordering::Relaxed) {
            0 => format!(
                "threads: serial below {SERIAL_BELOW} multiply-adds, else {}",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            ),
            t => format!("threads: {t} (serial below {SERIAL_BELOW} multiply-adds)"),
        };
        let half = if driver::bf16_pairs(isa) {
            let b = params::BF16_AVX512;
            format!(
                "bf16: bf16_avx512_32x12 (vdpbf16ps, MC {} KC {} NC {}); f16: widened to f32 while packed, {}",
                b.mc,
                b.kc,
                b.nc,
                f32::kernel(isa).0
            )
        } else {
            format!("bf16, f16: widened to f32 while packed, {}", f32::kernel(isa).0)
        };
        format!("{isa} ({why}): {}, {}; {half}; {threads}", describe(f64::kernel(isa)), describe(f32::kernel(isa)))
    }

    fn is_multithreaded(&self) -> bool {
        true
    }

    fn supports(&self, _: matmul_core::Dtype) -> bool {
        true
    }

    fn set_threads(&self, threads: usize) {
        self.threads.store(threads.max(1), Ordering::Relaxed);
    }

    fn availability(&self) -> Availability {
        match self.isa() {
            Ok(_) => Availability::Available,
            Err(reason) => Availability::Unavailable(reason),
        }
    }

    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.gemm(alpha, a, b, beta, c));
    matmul_core::gemm_methods!(half | this, alpha, a, b, beta, c | this.gemm(alpha, a, b, beta, c));
    matmul_core::gemm_methods!(batch | this, batch | this.gemm_batch(batch));
}

#[cfg(test)]
mod tests {
    use super::*;
    use matmul_core::testing::{Operand as TestOperand, OperandLayout};
    use matmul_core::Element;

    /// The small, unpacked path gives the same bits as the packed one, on shapes with
    /// edge tiles in both dimensions, for every kernel this CPU runs (for the half types:
    /// the widened copies' small path against the packed path that widens).
    fn small_equals_packed<T: Input>() {
        use OperandLayout::{ColMajor as C, General as G, RowMajor as R};
        for isa in Isa::ALL.into_iter().filter(|isa| isa.is_supported()) {
            let simd = Simd::new(Choice::Only(isa));
            for (m, n, k) in [
                (64, 64, 64),
                (37, 29, 50),
                (50, 13, 200),
                (9, 70, 17),
                (4, 4, 4),
                (8, 8, 8),
                (16, 16, 16),
                (5, 3, 7),
                (33, 20, 9),
            ] {
                for (la, lb, lc) in [(R, R, R), (C, C, C), (R, C, G), (C, R, R)] {
                    let v = |s: usize| {
                        move |i: usize, j: usize| T::from_f64(((i * 7 + j * 13 + s) % 19) as f64 / 3.1 - 2.0)
                    };
                    let a = TestOperand::<T>::new(m, k, la, v(1));
                    let b = TestOperand::<T>::new(k, n, lb, v(2));
                    let c0 = TestOperand::<T::Acc>::new(m, n, lc, |i, j| v(3)(i, j).to_acc());
                    // α = 1, β = 0 takes the store that skips the multiply by α.
                    for (alpha, beta) in [(0.7, -1.3), (1.0, 0.0)] {
                        let (mut small, mut packed) = (c0.clone(), c0.clone());
                        let (alpha, beta) = (T::Acc::from_f64(alpha), T::Acc::from_f64(beta));
                        simd.gemm_paths(alpha, a.view(), b.view(), beta, small.view_mut(), true).unwrap();
                        simd.gemm_paths(alpha, a.view(), b.view(), beta, packed.view_mut(), false).unwrap();
                        let what = format!("{isa} {} {m}x{n}x{k} {la:?}{lb:?}{lc:?} α {alpha} β {beta}", T::NAME);
                        assert!(small.unchanged_since(&packed), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn small_path_is_bit_identical_to_the_packed_one() {
        small_equals_packed::<f32>();
        small_equals_packed::<f64>();
        small_equals_packed::<matmul_core::half::bf16>();
        small_equals_packed::<matmul_core::half::f16>();
    }
}
