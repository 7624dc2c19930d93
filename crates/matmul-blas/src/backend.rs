//! The backend: plans the cblas call from the views' layouts and makes it.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use cblas_sys::{CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use matmul_core::{Backend, BackendKind, Dtype, Element, Error, GemmPlan, Layout, MatMut, MatRef, Matrix, Result};

use crate::layout::{to_blas_int, Operand, Order, Output, Strided, TooLarge};
use crate::library::Library;

/// The backend for the BLAS library `L` (one per build; see the crate docs).
#[derive(Debug)]
pub struct Blas<L> {
    /// Threads last asked for with [`Backend::set_threads`]; 0 = never set (library default).
    requested_threads: AtomicUsize,
    library: PhantomData<L>,
}

impl<L: Library> Blas<L> {
    /// The backend. Its thread setting is the library's, shared by the whole process, so
    /// use the crate's static rather than making more.
    pub const fn new() -> Self {
        Blas { requested_threads: AtomicUsize::new(0), library: PhantomData }
    }

    /// The thread count the library reports now.
    pub fn library_threads(&self) -> usize {
        L::threads()
    }

    /// The thread count last set through [`Backend::set_threads`], if any.
    pub fn requested_threads(&self) -> Option<usize> {
        match self.requested_threads.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    /// The library's description of itself (version and build configuration).
    pub fn library_version(&self) -> String {
        L::version()
    }
}

impl<L: Library> Default for Blas<L> {
    fn default() -> Self {
        Self::new()
    }
}

/// `cblas_sgemm` / `cblas_dgemm`, chosen by element type (and, with MKL, its
/// `cblas_gemm_bf16bf16f32`: bf16 A and B, f32 α, β and C).
trait CblasGemm: Element {
    /// # Safety
    /// The pointers and leading dimensions describe, in `layout` and after `ta`/`tb`, an
    /// `m × k` A, a `k × n` B and an `m × n` C whose elements all lie in live allocations;
    /// C's elements are distinct, writable and overlap neither A nor B; every `ld` meets
    /// cblas's minimum.
    #[allow(clippy::too_many_arguments)]
    unsafe fn cblas_gemm(
        layout: CBLAS_LAYOUT,
        ta: CBLAS_TRANSPOSE,
        tb: CBLAS_TRANSPOSE,
        dims: [i32; 3],
        alpha: Self::Acc,
        a: (*const Self, i32),
        b: (*const Self, i32),
        beta: Self::Acc,
        c: (*mut Self::Acc, i32),
    );
}

macro_rules! impl_cblas_gemm {
    ($t:ty, $f:ident) => {
        impl CblasGemm for $t {
            unsafe fn cblas_gemm(
                layout: CBLAS_LAYOUT,
                ta: CBLAS_TRANSPOSE,
                tb: CBLAS_TRANSPOSE,
                [m, n, k]: [i32; 3],
                alpha: Self,
                (a, lda): (*const Self, i32),
                (b, ldb): (*const Self, i32),
                beta: Self,
                (c, ldc): (*mut Self, i32),
            ) {
                // SAFETY: the caller's contract is exactly cblas's requirements.
                unsafe { cblas_sys::$f(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
            }
        }
    };
}
impl_cblas_gemm!(f32, cblas_sgemm);
impl_cblas_gemm!(f64, cblas_dgemm);

#[cfg(feature = "mkl")]
mod mkl_bf16 {
    use cblas_sys::{CBLAS_LAYOUT, CBLAS_TRANSPOSE};
    use matmul_core::half::bf16;

    extern "C" {
        /// MKL's mixed-precision GEMM (`mkl_cblas.h`; `MKL_BF16` is an unsigned 16-bit
        /// integer holding a bf16's bits, which `half::bf16` is, `#[repr(transparent)]`).
        fn cblas_gemm_bf16bf16f32(
            layout: CBLAS_LAYOUT,
            transa: CBLAS_TRANSPOSE,
            transb: CBLAS_TRANSPOSE,
            m: i32,
            n: i32,
            k: i32,
            alpha: f32,
            a: *const bf16,
            lda: i32,
            b: *const bf16,
            ldb: i32,
            beta: f32,
            c: *mut f32,
            ldc: i32,
        );
    }

    impl super::CblasGemm for bf16 {
        unsafe fn cblas_gemm(
            layout: CBLAS_LAYOUT,
            ta: CBLAS_TRANSPOSE,
            tb: CBLAS_TRANSPOSE,
            [m, n, k]: [i32; 3],
            alpha: f32,
            (a, lda): (*const bf16, i32),
            (b, ldb): (*const bf16, i32),
            beta: f32,
            (c, ldc): (*mut f32, i32),
        ) {
            // SAFETY: the caller's contract is exactly cblas's requirements, which MKL's
            // mixed-precision GEMM shares with cblas_sgemm.
            unsafe { cblas_gemm_bf16bf16f32(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
        }
    }
}

/// The view's shape and strides for cblas, or `None` when a stride is negative (cblas's
/// leading dimensions cannot walk backwards: such a view is copied).
pub(crate) fn strided<T: Element>(v: &MatRef<'_, T>) -> Option<Strided> {
    let (row_stride, col_stride) = v.unsigned_strides()?;
    Some(Strided { rows: v.nrows(), cols: v.ncols(), row_stride, col_stride })
}

/// An input operand ready for cblas: a pointer to its `(0, 0)`, its transpose flag and
/// leading dimension, and the copy that holds it when its layout was not expressible.
struct Prepared<'a, T> {
    view: MatRef<'a, T>,
    trans: bool,
    ld: usize,
    _copy: Option<Matrix<T>>,
}

/// Plans one input; copies it into the call's order if cblas cannot read it in place.
fn prepare_input<T: Element>(view: MatRef<'_, T>, order: Order) -> Prepared<'_, T> {
    match strided(&view).map_or(Operand::Copy, |s| Operand::plan(s, order)) {
        Operand::Direct { trans, ld } => Prepared { view, trans, ld, _copy: None },
        Operand::Copy => {
            let layout = match order {
                Order::Col => Layout::ColMajor,
                Order::Row => Layout::RowMajor,
            };
            let copy = view.to_matrix(layout);
            let ld = match order {
                Order::Col => view.nrows().max(1),
                Order::Row => view.ncols().max(1),
            };
            // `ptr` points into the copy's heap buffer, which stays put while `Prepared` lives.
            Prepared { view, trans: false, ld, _copy: Some(copy) }
        }
    }
}

impl<'a, T: Element> Prepared<'a, T> {
    /// Pointer to element `(0, 0)` of what cblas reads.
    fn ptr(&self) -> *const T {
        match &self._copy {
            Some(m) => m.as_slice().as_ptr(),
            None => self.view.as_ptr(),
        }
    }
}

pub(crate) fn trans(t: bool) -> CBLAS_TRANSPOSE {
    if t {
        CBLAS_TRANSPOSE::CblasTrans
    } else {
        CBLAS_TRANSPOSE::CblasNoTrans
    }
}

pub(crate) fn cblas_order(order: Order) -> CBLAS_LAYOUT {
    match order {
        Order::Row => CBLAS_LAYOUT::CblasRowMajor,
        Order::Col => CBLAS_LAYOUT::CblasColMajor,
    }
}

/// `C ← α·A·B + β·C` through the library `L`.
fn gemm<L: Library, T: CblasGemm>(
    alpha: T::Acc,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T::Acc,
    mut c: MatMut<'_, T::Acc>,
) -> Result<()> {
    let GemmPlan::Compute { m, n, k } = GemmPlan::prepare(alpha, &a, &b, beta, &mut c)? else {
        return Ok(());
    };
    L::init();
    let int = blas_int::<L>;
    let dims = [int("m (rows of A and C)", m)?, int("n (columns of B and C)", n)?, int("k (columns of A)", k)?];

    match strided(&c.rb()).map_or(Output::Temporary, Output::plan) {
        Output::Direct { order, ld } => {
            let ldc = int("C's leading dimension", ld)?;
            call::<T>(order, dims, alpha, &a, &b, beta, (c.as_mut_ptr(), ldc), &int)
        }
        Output::Temporary => {
            // General strides: compute into a column-major m × n temporary. With β = 0 it
            // starts as zeros and C is not read, as BLAS requires.
            let mut tmp = if beta == T::Acc::ZERO {
                Matrix::zeros(m, n, Layout::ColMajor)
            } else {
                c.rb().to_matrix(Layout::ColMajor)
            };
            let ldc = dims[0];
            call::<T>(Order::Col, dims, alpha, &a, &b, beta, (tmp.as_mut_slice().as_mut_ptr(), ldc), &int)?;
            let tmp = tmp.as_ref();
            for j in 0..n {
                let column = tmp.col_slice(j).expect("column j < n of a column-major m × n matrix is contiguous");
                for (x, &t) in c.col_iter_mut(j).zip(column) {
                    *x = t;
                }
            }
            Ok(())
        }
    }
}

/// Prepares A and B for `order` and calls cblas, writing C through `c_ptr`; `int` converts
/// a leading dimension to the library's integer or names the one that does not fit.
#[allow(clippy::too_many_arguments)]
fn call<T: CblasGemm>(
    order: Order,
    dims: [i32; 3],
    alpha: T::Acc,
    a: &MatRef<'_, T>,
    b: &MatRef<'_, T>,
    beta: T::Acc,
    (c_ptr, ldc): (*mut T::Acc, i32),
    int: &dyn Fn(&str, usize) -> Result<i32>,
) -> Result<()> {
    let pa = prepare_input(*a, order);
    let pb = prepare_input(*b, order);
    let lda = int("A's leading dimension", pa.ld)?;
    let ldb = int("B's leading dimension", pb.ld)?;
    // SAFETY: `layout::Strided::ld` returned each leading dimension only if, in `order`
    // and with the chosen transpose, it addresses exactly the view's elements and meets
    // cblas's minimum (`ld ≥ max(1, rows)` of the stored matrix); those elements lie in
    // the view's slice, which starts at its (0, 0) (checked when the view was built), or
    // in the contiguous copy `prepare_input` made, alive until the end of this function.
    // `c_ptr`/`ldc` come from the same planning for C (or from a fresh m × n temporary),
    // and C is a `MatMut`: its elements are distinct and cannot alias A or B, which are
    // shared borrows.
    unsafe {
        T::cblas_gemm(
            cblas_order(order),
            trans(pa.trans),
            trans(pb.trans),
            dims,
            alpha,
            (pa.ptr(), lda),
            (pb.ptr(), ldb),
            beta,
            (c_ptr, ldc),
        );
    }
    Ok(())
}

/// `value` as the library's integer, or the [`too_large`] error naming `what`.
pub(crate) fn blas_int<L: Library>(what: &str, value: usize) -> Result<i32> {
    to_blas_int(value).map_err(|TooLarge(v)| too_large::<L>(what, v))
}

fn too_large<L: Library>(what: &str, value: usize) -> Error {
    Error::backend(
        L::NAME,
        format!(
            "{what} = {value} exceeds {}, the largest dimension the library's 32-bit (LP64) integers hold",
            i32::MAX
        ),
    )
}

impl<L: Library> Backend for Blas<L> {
    fn name(&self) -> &'static str {
        L::NAME
    }
    fn description(&self) -> &'static str {
        L::DESCRIPTION
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Blas
    }
    fn details(&self) -> String {
        let half = if cfg!(feature = "mkl") {
            "bf16 inputs: cblas_gemm_bf16bf16f32; f16 inputs: unsupported"
        } else {
            "bf16 and f16 inputs: unsupported (no such GEMM in this library)"
        };
        let batches = if cfg!(feature = "mkl") {
            "batches: cblas_?gemm_batch_strided and cblas_?gemm_batch"
        } else {
            "batches: one cblas_?gemm call per product"
        };
        format!("{}; {half}; {batches}", self.library_version())
    }
    /// False for MKL, whose `cblas_?gemm_batch` may round some shapes differently from its
    /// `cblas_?gemm` (a 1×9×7 group has been seen to); the others loop over single calls.
    fn batch_bits_match_single_calls(&self) -> bool {
        !cfg!(feature = "mkl")
    }
    fn is_multithreaded(&self) -> bool {
        L::is_multithreaded()
    }
    fn set_threads(&self, threads: usize) {
        let threads = threads.max(1);
        self.requested_threads.store(threads, Ordering::Relaxed);
        L::set_threads(threads);
    }
    /// bf16 with MKL (`cblas_gemm_bf16bf16f32`); f16 with none of the three (Debian's MKL
    /// 2020 has no `cblas_gemm_f16f16f32`, its OpenBLAS 0.3.21 is built without `sbgemm`).
    fn supports(&self, dtype: Dtype) -> bool {
        !dtype.is_half() || (cfg!(feature = "mkl") && dtype == Dtype::Bf16)
    }
    matmul_core::gemm_methods!(|_this, alpha, a, b, beta, c| gemm::<L, _>(alpha, a, b, beta, c));
    // MKL's batch routines; OpenBLAS and BLIS keep the default, one call per product.
    #[cfg(feature = "mkl")]
    matmul_core::gemm_methods!(batch | this, batch | crate::mkl_batch::gemm_batch(this, batch));
    #[cfg(feature = "mkl")]
    fn gemm_bf16(
        &self,
        alpha: f32,
        a: MatRef<'_, matmul_core::half::bf16>,
        b: MatRef<'_, matmul_core::half::bf16>,
        beta: f32,
        c: MatMut<'_, f32>,
    ) -> Result<()> {
        gemm::<L, _>(alpha, a, b, beta, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_names_the_dimension_and_the_limit() {
        #[cfg(feature = "openblas")]
        type L = crate::OpenBlasLibrary;
        #[cfg(feature = "blis")]
        type L = crate::BlisLibrary;
        #[cfg(feature = "mkl")]
        type L = crate::MklLibrary;
        let e = too_large::<L>("k (columns of A)", 1 << 31);
        let msg = e.to_string();
        assert!(msg.contains("2147483648") && msg.contains("2147483647"), "{msg}");
        assert!(matches!(e, Error::Backend { .. }));
    }
}
