//! The one trait every backend implements, and the BLAS rules they share.

use crate::half::{bf16, f16};
use crate::{Batch, Dtype, Element, Error, MatMut, MatRef, Result, Scalar};

/// Whether a compiled backend can run on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    /// It can run.
    Available,
    /// It cannot, and why (no GPU, driver missing, library not found, …).
    Unavailable(String),
}

impl Availability {
    /// Whether it can run.
    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available)
    }
}

/// What kind of code a backend runs: the bench groups and compares by it, and
/// `cargo xtask asm` knows where to look for its hot loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Plain Rust loops compiled by rustc (no explicit SIMD).
    Loops,
    /// Rust with explicit SIMD kernels.
    Simd,
    /// A system BLAS library called through FFI: its hot loop is not Rust.
    Blas,
    /// A GPU.
    Gpu,
    /// Another project's GEMM measured beside ours for comparison (the bench's peers:
    /// `gemm`, `matrixmultiply`, `faer`); never in the facade's registry.
    Peer,
}

impl BackendKind {
    /// The name used in reports and JSON: `loops`, `simd`, `blas`, `gpu`, `peer`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Loops => "loops",
            BackendKind::Simd => "simd",
            BackendKind::Blas => "blas",
            BackendKind::Gpu => "gpu",
            BackendKind::Peer => "peer",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A matrix-multiply backend: `C ← α·A·B + β·C` for `f32` and `f64`, and for `bf16` and
/// `f16` inputs with C, α, β in `f32` where the backend has them (see [`Element`]).
///
/// `A` is `m × k`, `B` is `k × n`, `C` is `m × n`, each any strided view. Every
/// implementation follows BLAS's rules, which [`GemmPlan::prepare`] applies for it:
///
/// * `β = 0`: C is written without being read (a NaN already in C does not survive);
/// * `α = 0` or `k = 0`: A and B are not read, C is only scaled by β;
/// * `m = 0` or `n = 0`: nothing happens.
///
/// Non-finite α and β follow IEEE arithmetic outside those two exemptions (the rule of
/// the reference BLAS and OpenBLAS), and [`GemmPlan::prepare`] enforces it for every
/// backend, so a library that special-cases them (BLIS reads β = NaN as 0) cannot differ:
///
/// * β = NaN: every element of C becomes NaN (NaN·c is NaN whatever c holds);
/// * α = NaN with `k ≥ 1`: every element of C becomes NaN;
/// * α or β infinite: computed as IEEE does (∞·0 is NaN, ∞·x is ±∞), by the backend.
///
/// Object-safe, so a registry holds every compiled backend as `&dyn Backend`. Callers
/// write `backend.gemm(α, a, b, β, c)` (see [`gemm`](trait.Backend.html#method.gemm) on
/// `dyn Backend`), which checks [`Backend::availability`] first; generic code over a
/// concrete backend type uses [`Element::gemm`].
pub trait Backend: Send + Sync {
    /// The name users select it by, e.g. `"naive-ikj"`.
    fn name(&self) -> &'static str;

    /// One line saying what it is.
    fn description(&self) -> &'static str;

    /// What kind of code it runs.
    fn kind(&self) -> BackendKind;

    /// What its results depend on beyond its name, in one line: the library and its
    /// version, the instruction set a kernel dispatched to, the GPU and driver. Empty
    /// when there is nothing to add (the naive loops).
    fn details(&self) -> String {
        String::new()
    }

    /// Whether it can use more than one thread (see [`Backend::set_threads`]).
    fn is_multithreaded(&self) -> bool {
        false
    }

    /// Sets how many threads later calls may use (at least 1). Single-threaded backends
    /// ignore it. The setting is shared by every user of the backend in this process, as
    /// a BLAS library's own thread setting is.
    fn set_threads(&self, threads: usize) {
        let _ = threads;
    }

    /// Whether it multiplies A and B of element type `dtype` (C in `dtype`'s accumulator
    /// type): `f32` and `f64` always; `bf16` and `f16` where the backend implements
    /// [`Backend::gemm_bf16`] / [`Backend::gemm_f16`] (else they answer
    /// [`Error::UnsupportedDtype`]). Says nothing of availability: see [`Backend::availability`].
    fn supports(&self, dtype: Dtype) -> bool {
        !dtype.is_half()
    }

    /// Whether it can run on this machine. A backend that is unavailable returns
    /// [`Error::BackendUnavailable`] from every call.
    fn availability(&self) -> Availability {
        Availability::Available
    }

    /// `C ← α·A·B + β·C` in `f32`.
    fn gemm_f32(&self, alpha: f32, a: MatRef<'_, f32>, b: MatRef<'_, f32>, beta: f32, c: MatMut<'_, f32>)
        -> Result<()>;

    /// `C ← α·A·B + β·C` in `f64`.
    fn gemm_f64(&self, alpha: f64, a: MatRef<'_, f64>, b: MatRef<'_, f64>, beta: f64, c: MatMut<'_, f64>)
        -> Result<()>;

    /// Every product of a validated batch in `f32`, strided or grouped (see [`Batch`]). The
    /// default calls [`Backend::gemm_f32`] once per product, in order; a backend that can
    /// do better (one dispatch, threads across products, a library's batch call)
    /// overrides it, with the same results as that loop.
    fn gemm_batch_f32(&self, batch: Batch<'_, f32>) -> Result<()> {
        batch.run_each(self)
    }

    /// [`Backend::gemm_batch_f32`] in `f64`.
    fn gemm_batch_f64(&self, batch: Batch<'_, f64>) -> Result<()> {
        batch.run_each(self)
    }

    /// Whether every product of a batch gets the same bits as a single call of it
    /// ([`Backend::gemm_f32`] / [`Backend::gemm_f64`]): true by default, and for every
    /// backend whose batch runs the single-call kernels. A backend whose batch goes to other
    /// code (MKL's `cblas_?gemm_batch`, which may round some shapes differently from its
    /// `cblas_?gemm`) returns false; its batches are then held to the reference bound only,
    /// as every result is (see `testing::assert_batches`).
    fn batch_bits_match_single_calls(&self) -> bool {
        true
    }

    /// `C ← α·A·B + β·C` with A and B in bf16, C, α, β and the arithmetic in `f32`. A
    /// backend without it answers [`Error::UnsupportedDtype`] (the default), never a silent
    /// conversion of its own.
    fn gemm_bf16(
        &self,
        alpha: f32,
        a: MatRef<'_, bf16>,
        b: MatRef<'_, bf16>,
        beta: f32,
        c: MatMut<'_, f32>,
    ) -> Result<()> {
        let _ = (alpha, a, b, beta, c);
        Err(Error::UnsupportedDtype { backend: self.name().to_owned(), dtype: Dtype::Bf16 })
    }

    /// `C ← α·A·B + β·C` with A and B in f16, C, α, β and the arithmetic in `f32`; as
    /// [`Backend::gemm_bf16`], [`Error::UnsupportedDtype`] by default.
    fn gemm_f16(
        &self,
        alpha: f32,
        a: MatRef<'_, f16>,
        b: MatRef<'_, f16>,
        beta: f32,
        c: MatMut<'_, f32>,
    ) -> Result<()> {
        let _ = (alpha, a, b, beta, c);
        Err(Error::UnsupportedDtype { backend: self.name().to_owned(), dtype: Dtype::F16 })
    }
}

impl dyn Backend + '_ {
    /// `C ← α·A·B + β·C` for A and B in `E` (C, α and β in `E::Acc`), after checking that
    /// the backend can run here.
    ///
    /// This is the call users make; it is also the one place that answers
    /// [`Error::BackendUnavailable`] for a compiled backend that cannot run on this machine
    /// (no GPU, library missing), so no backend has to remember to.
    ///
    /// ```
    /// use matmul_core::{Availability, Backend, BackendKind, Error, GemmPlan, Layout, Matrix};
    ///
    /// /// A GPU backend on a machine without a GPU.
    /// struct NoGpu;
    /// impl Backend for NoGpu {
    ///     fn name(&self) -> &'static str { "no-gpu" }
    ///     fn description(&self) -> &'static str { "needs a GPU" }
    ///     fn kind(&self) -> BackendKind { BackendKind::Gpu }
    ///     fn availability(&self) -> Availability { Availability::Unavailable("no CUDA driver".into()) }
    ///     matmul_core::gemm_methods!(|_this, alpha, a, b, beta, c| {
    ///         let mut c = c;
    ///         GemmPlan::prepare(alpha, &a, &b, beta, &mut c).map(|_| unreachable!("never reached"))
    ///     });
    /// }
    ///
    /// let backend: &dyn Backend = &NoGpu;
    /// let a = Matrix::<f64>::from_fn(2, 2, Layout::RowMajor, |i, j| (i + j) as f64);
    /// let mut c = Matrix::<f64>::zeros(2, 2, Layout::ColMajor);
    /// let err = backend.gemm(1.0, a.as_ref(), a.as_ref(), 0.0, c.as_mut()).unwrap_err();
    /// assert!(matches!(err, Error::BackendUnavailable { .. }));
    /// assert_eq!(err.to_string(), "backend no-gpu is unavailable: no CUDA driver");
    /// ```
    pub fn gemm<E: Element>(
        &self,
        alpha: E::Acc,
        a: MatRef<'_, E>,
        b: MatRef<'_, E>,
        beta: E::Acc,
        c: MatMut<'_, E::Acc>,
    ) -> Result<()> {
        if let Availability::Unavailable(reason) = self.availability() {
            return Err(Error::BackendUnavailable { backend: self.name().to_owned(), reason });
        }
        E::gemm(self, alpha, a, b, beta, c)
    }

    /// Every product of a validated batch, a [`StridedBatch`](crate::StridedBatch) or a
    /// [`GroupedBatch`](crate::GroupedBatch), after checking that the backend can run
    /// here: one call, which the backend may run better than a loop (see
    /// [`Backend::gemm_batch_f32`]). The first error stops the batch.
    pub fn gemm_batch<'a, T: Scalar>(&self, batch: impl Into<Batch<'a, T>>) -> Result<()> {
        if let Availability::Unavailable(reason) = self.availability() {
            return Err(Error::BackendUnavailable { backend: self.name().to_owned(), reason });
        }
        T::gemm_batch(self, batch.into())
    }
}

impl std::fmt::Debug for dyn Backend + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("name", &self.name()).finish()
    }
}

/// Writes [`Backend::gemm_f32`] and [`Backend::gemm_f64`] inside an `impl Backend` block,
/// both as the same expression — typically a call of one function generic over [`Scalar`]
/// or [`Element`], whose element type is inferred. The first name stands for `self`.
///
/// `gemm_methods!(half |this, alpha, a, b, beta, c| body)` writes [`Backend::gemm_bf16`]
/// and [`Backend::gemm_f16`] the same way, for a backend whose body is generic over
/// [`Element`] (C, α and β in `E::Acc`).
///
/// `gemm_methods!(batch |this, batch| body)` writes [`Backend::gemm_batch_f32`] and
/// [`Backend::gemm_batch_f64`] the same way, for a body generic over [`Scalar`] taking a
/// [`Batch`].
///
/// ```
/// use matmul_core::{Backend, BackendKind, GemmPlan, MatMut, MatRef, Result, Scalar};
///
/// /// Writes zeros: a toy backend to show the macro.
/// struct Zeros;
///
/// fn zeros<T: Scalar>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, mut c: MatMut<'_, T>) -> Result<()> {
///     GemmPlan::prepare(alpha, &a, &b, beta, &mut c)?;
///     c.for_each_mut(|x| *x = T::ZERO);
///     Ok(())
/// }
///
/// impl Backend for Zeros {
///     fn name(&self) -> &'static str { "zeros" }
///     fn description(&self) -> &'static str { "writes zeros" }
///     fn kind(&self) -> BackendKind { BackendKind::Loops }
///     matmul_core::gemm_methods!(|_this, alpha, a, b, beta, c| zeros(alpha, a, b, beta, c));
/// }
/// ```
#[macro_export]
macro_rules! gemm_methods {
    (|$this:ident, $alpha:ident, $a:ident, $b:ident, $beta:ident, $c:ident| $body:expr) => {
        fn gemm_f32(
            &self,
            $alpha: f32,
            $a: $crate::MatRef<'_, f32>,
            $b: $crate::MatRef<'_, f32>,
            $beta: f32,
            $c: $crate::MatMut<'_, f32>,
        ) -> $crate::Result<()> {
            let $this = self;
            $body
        }
        fn gemm_f64(
            &self,
            $alpha: f64,
            $a: $crate::MatRef<'_, f64>,
            $b: $crate::MatRef<'_, f64>,
            $beta: f64,
            $c: $crate::MatMut<'_, f64>,
        ) -> $crate::Result<()> {
            let $this = self;
            $body
        }
    };
    (half |$this:ident, $alpha:ident, $a:ident, $b:ident, $beta:ident, $c:ident| $body:expr) => {
        fn gemm_bf16(
            &self,
            $alpha: f32,
            $a: $crate::MatRef<'_, $crate::half::bf16>,
            $b: $crate::MatRef<'_, $crate::half::bf16>,
            $beta: f32,
            $c: $crate::MatMut<'_, f32>,
        ) -> $crate::Result<()> {
            let $this = self;
            $body
        }
        fn gemm_f16(
            &self,
            $alpha: f32,
            $a: $crate::MatRef<'_, $crate::half::f16>,
            $b: $crate::MatRef<'_, $crate::half::f16>,
            $beta: f32,
            $c: $crate::MatMut<'_, f32>,
        ) -> $crate::Result<()> {
            let $this = self;
            $body
        }
    };
    (batch |$this:ident, $batch:ident| $body:expr) => {
        fn gemm_batch_f32(&self, $batch: $crate::Batch<'_, f32>) -> $crate::Result<()> {
            let $this = self;
            $body
        }
        fn gemm_batch_f64(&self, $batch: $crate::Batch<'_, f64>) -> $crate::Result<()> {
            let $this = self;
            $body
        }
    };
}

/// What remains for a backend after the checks and special cases every backend shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmPlan {
    /// Nothing remains: the shapes were empty, or `α = 0` / `k = 0` and C has been scaled by β.
    Done,
    /// Compute `C ← α·A·B + β·C` with these dimensions, `m, n, k ≥ 1` and `α ≠ 0`. β may be 0,
    /// in which case C must not be read.
    Compute {
        /// Rows of A and C.
        m: usize,
        /// Columns of B and C.
        n: usize,
        /// Columns of A, rows of B.
        k: usize,
    },
}

impl GemmPlan {
    /// Checks that the shapes fit and handles the BLAS special cases.
    ///
    /// A backend calls this first and computes only on [`GemmPlan::Compute`]. Shape errors
    /// come before anything is written.
    pub fn prepare<E: Element>(
        alpha: E::Acc,
        a: &MatRef<'_, E>,
        b: &MatRef<'_, E>,
        beta: E::Acc,
        c: &mut MatMut<'_, E::Acc>,
    ) -> Result<Self> {
        check_shapes(a.shape(), b.shape(), c.shape())?;
        let (m, n, k) = (a.nrows(), b.ncols(), a.ncols());
        if Self::computes(alpha, beta, (m, n, k)) {
            return Ok(GemmPlan::Compute { m, n, k });
        }
        if m == 0 || n == 0 {
            return Ok(GemmPlan::Done);
        }
        // The non-finite rule of the trait's docs: a NaN β, or a NaN α that multiplies a
        // product (k ≥ 1), makes every element NaN whatever A, B and C hold.
        if beta.is_nan() || (alpha.is_nan() && k > 0) {
            c.for_each_mut(|x| *x = E::Acc::NAN);
            return Ok(GemmPlan::Done);
        }
        // What `computes` refused and the cases above did not take: k = 0 or α = 0.
        scale_c(beta, c);
        Ok(GemmPlan::Done)
    }

    /// Whether [`GemmPlan::prepare`] answers [`GemmPlan::Compute`] for these scalars and
    /// dimensions `(m, n, k)` (shapes that fit): no empty shape, `α` neither 0 nor NaN, `β`
    /// not NaN. Everything else is a special case `prepare` settles itself. A batch routine
    /// hands a library only the products for which this holds, so that a batch keeps the
    /// single call's semantics.
    pub fn computes<T: Scalar>(alpha: T, beta: T, (m, n, k): (usize, usize, usize)) -> bool {
        m > 0 && n > 0 && k > 0 && alpha != T::ZERO && !alpha.is_nan() && !beta.is_nan()
    }
}

/// That A (`m × k`), B (`k × n`) and C (`m × n`) fit together: the first rule broken is a
/// [`Error::ShapeMismatch`] naming it.
pub fn check_shapes(a: (usize, usize), b: (usize, usize), c: (usize, usize)) -> Result<()> {
    let rules = [
        (a.1 == b.0, "A's columns must equal B's rows (A, B)", a, b),
        (c.0 == a.0, "C's rows must equal A's rows (C, A)", c, a),
        (c.1 == b.1, "C's columns must equal B's columns (C, B)", c, b),
    ];
    match rules.into_iter().find(|rule| !rule.0) {
        Some((_, what, left, right)) => Err(Error::ShapeMismatch { what, left, right }),
        None => Ok(()),
    }
}

/// `C ← β·C`, where `β = 0` writes zeros without reading C and `β = 1` touches nothing.
///
/// `#[inline(never)]`: its loop, vectorised over a contiguous C, stays out of the kernels
/// that call it, so that `cargo xtask asm` reads each kernel's own inner loop.
#[inline(never)]
pub fn scale_c<T: Scalar>(beta: T, c: &mut MatMut<'_, T>) {
    if beta == T::ZERO {
        c.for_each_mut(|x| *x = T::ZERO);
    } else if beta != T::ONE {
        c.for_each_mut(|x| *x *= beta);
    }
}
