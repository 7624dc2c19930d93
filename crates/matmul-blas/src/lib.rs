//! A system BLAS library's `cblas_?gemm` behind the matmul [`Backend`] trait: the
//! "best case" the lecture compares against (numpy's `A @ B` calls the same routine).
//!
//! | feature | backend | library | Debian package |
//! |---|---|---|---|
//! | `openblas` | `OPENBLAS` (`openblas`) | OpenBLAS, through `blas-src`/`openblas-src` (`system`) | `libopenblas-dev` |
//! | `blis` | `BLIS` (`blis`) | BLIS, through `blas-src`/`blis-src` (`system`) | `libblis-dev` |
//! | `mkl` | `MKL` (`mkl`) | Intel MKL's `libmkl_rt`, linked by this crate's `build.rs` (why: see there) | `libmkl-dev` (non-free) |
//!
//! Only the libraries installed on the system are used: nothing is downloaded or built
//! from source at build time.
//!
//! # One library per build
//!
//! Every BLAS library exports the same symbols (`cblas_dgemm`, …). Linked together, the
//! linker takes each symbol from the first library on the command line and never
//! complains, so two "backends" would silently run the same code. The features are
//! therefore mutually exclusive (a `compile_error!` says so), and `cargo xtask` builds one
//! runner per library.
//!
//! # Layouts
//!
//! Each operand whose layout cblas can express — row- or column-major with unit stride in
//! one dimension, including transposed views and padded leading dimensions — is passed
//! in place with the right `Order`, `Trans` and leading dimension: no copy. A view with
//! general strides (neither stride 1), or a read view that overlaps itself, **is copied**
//! into a contiguous temporary; an output C with general strides is computed into a
//! temporary and written back. The mapping is in [`layout`].
//!
//! # Semantics and limits
//!
//! β = 0, α = 0, k = 0 and empty shapes are settled by [`GemmPlan::prepare`] before the
//! library is called, with BLAS's rules (β = 0 never reads C). The libraries use 32-bit
//! integers (LP64): a dimension above `i32::MAX` is refused with [`Error::Backend`], never
//! truncated.
//!
//! # Batches
//!
//! With OpenBLAS and BLIS, [`Backend::gemm_batch_f32`] / `_f64` call `cblas_?gemm` once per
//! product. With MKL, a strided batch cblas reads in place is one
//! `cblas_?gemm_batch_strided` call and a grouped batch one `cblas_?gemm_batch` call per run
//! of products whose C has the same storage order; special cases and products that need
//! copies stay single calls, in batch order. MKL's batch bits may differ from its single
//! calls' ([`Backend::batch_bits_match_single_calls`] is false).
//!
//! # Threads
//!
//! [`Backend::set_threads`] sets the library's own, process-wide thread count
//! (`openblas_set_num_threads`, `bli_thread_set_num_threads`, `MKL_Set_Num_Threads`); `Blas::library_threads`
//! reads it back.
//!
//! ```
//! # #[cfg(any(feature = "openblas", feature = "blis", feature = "mkl"))] {
//! use matmul_core::{Backend, Layout, Matrix};
//!
//! # #[cfg(feature = "openblas")] let blas = &matmul_blas::OPENBLAS;
//! # #[cfg(feature = "blis")] let blas = &matmul_blas::BLIS;
//! # #[cfg(feature = "mkl")] let blas = &matmul_blas::MKL;
//! let a = Matrix::<f64>::from_fn(2, 3, Layout::RowMajor, |i, j| (i + j) as f64);
//! let b = Matrix::<f64>::from_fn(3, 2, Layout::ColMajor, |i, j| (i * j) as f64);
//! let mut c = Matrix::<f64>::zeros(2, 2, Layout::RowMajor);
//! blas.gemm_f64(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
//! // C[1, 1] = Σₚ (1 + p)·p = 0 + 2 + 6.
//! assert_eq!(c.get(1, 1), Some(8.0));
//! # }
//! # Ok::<(), matmul_core::Error>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(any(
    all(feature = "openblas", feature = "blis"),
    all(feature = "openblas", feature = "mkl"),
    all(feature = "blis", feature = "mkl"),
))]
compile_error!(
    "matmul-blas: the features `openblas`, `blis` and `mkl` are mutually exclusive. Each library \
     exports the same cblas_?gemm symbols; linked together, the first one would answer every call, \
     so two backends would silently run the same library. Build one binary per library \
     (`cargo xtask` does this by itself)."
);

// OpenBLAS and BLIS are linked by `blas-src`'s dependency (openblas-src, blis-src), whose build script emits the `-l` flags. Nothing of `blas-src` is
// called by name, so without this line rustc would drop the crate and those flags with it.
#[cfg(any(feature = "openblas", feature = "blis"))]
extern crate blas_src as _;

pub mod layout;

#[cfg(any(feature = "openblas", feature = "blis", feature = "mkl"))]
mod backend;
#[cfg(any(feature = "openblas", feature = "blis", feature = "mkl"))]
mod library;
#[cfg(feature = "mkl")]
mod mkl_batch;

#[cfg(any(feature = "openblas", feature = "blis", feature = "mkl"))]
pub use backend::Blas;
#[cfg(feature = "blis")]
pub use library::BlisLibrary;
#[cfg(any(feature = "openblas", feature = "blis", feature = "mkl"))]
pub use library::Library;
#[cfg(feature = "mkl")]
pub use library::MklLibrary;
#[cfg(feature = "openblas")]
pub use library::OpenBlasLibrary;

#[allow(unused_imports)] // for the docs' links
use matmul_core::{Backend, Error, GemmPlan};

/// The OpenBLAS backend type.
#[cfg(feature = "openblas")]
pub type OpenBlas = Blas<OpenBlasLibrary>;
/// `openblas`: OpenBLAS's `cblas_?gemm`.
#[cfg(feature = "openblas")]
pub static OPENBLAS: OpenBlas = Blas::new();

/// The BLIS backend type.
#[cfg(feature = "blis")]
pub type Blis = Blas<BlisLibrary>;
/// `blis`: BLIS's `cblas_?gemm`.
#[cfg(feature = "blis")]
pub static BLIS: Blis = Blas::new();

/// The Intel MKL backend type.
#[cfg(feature = "mkl")]
pub type Mkl = Blas<MklLibrary>;
/// `mkl`: Intel MKL's `cblas_?gemm` (GNU OpenMP threading layer).
#[cfg(feature = "mkl")]
pub static MKL: Mkl = Blas::new();
