//! A drop-in BLAS library: `libmatmul_blas.so` (and `.a`) exports the standard GEMM
//! symbols, answered by this project's backends, so existing programs — numpy, C, Fortran,
//! ScaLAPACK over MPI — run their matrix products on them unchanged.
//!
//! | symbol | convention |
//! |---|---|
//! | `sgemm_`, `dgemm_` | Fortran (reference BLAS): column-major, every argument by reference, `TRANSA`/`TRANSB` `'N'`, `'T'` or `'C'` in either case; the hidden string lengths a Fortran caller appends are accepted and ignored |
//! | `cblas_sgemm`, `cblas_dgemm` | CBLAS: row- or column-major order, arguments by value |
//! | `cblas_gemm_bf16bf16f32` | MKL's mixed-precision CBLAS GEMM: A and B bf16 (`uint16_t` bits), α, β and C `float` |
//! | `cblas_sgemm_batch_strided`, `cblas_dgemm_batch_strided`, `cblas_sgemm_batch`, `cblas_dgemm_batch` | MKL's batch GEMMs, strided and grouped (see [`batch`]) |
//! | `xerbla_`, `cblas_xerbla` | the error handlers (see [`xerbla`]) |
//!
//! Arguments are checked as the reference BLAS checks them, in its order, and the first bad
//! one is reported through `xerbla_` (Fortran) or `cblas_xerbla` (CBLAS) with its position
//! (see [`args`]); the call then returns with C untouched. The backend and its thread count
//! come from `MATMUL_BACKEND` and `MATMUL_THREADS` (see [`config`]). A panic inside a call
//! is caught at the boundary, reported on stderr, and never unwinds into the caller.
//!
//! Use it in place of the system BLAS (`-lmatmul_blas`) or in front of it:
//!
//! ```sh
//! cargo build --release -p matmul-blas-abi
//! LD_PRELOAD=$PWD/target/release/libmatmul_blas.so python3 -c 'import numpy as np; a = np.ones((512, 512)); print((a @ a)[0, 0])'
//! ```
//!
//! This library never links another BLAS: one would answer the calls itself, as every
//! BLAS exports the same symbols.

pub mod args;
pub mod batch;
pub mod config;
mod gemm;
pub mod xerbla;

use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::{AtomicU64, Ordering};

use args::ColMajorGemm;
use gemm::AbiScalar;

/// GEMM calls this library has handed to a backend in this process.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// How many GEMM calls this library has answered in this process (quick returns and
/// rejected calls not counted): a test's proof that a program's calls reached this library
/// and not another BLAS. Find it with `dlsym(RTLD_DEFAULT, "matmul_blas_calls")`.
#[no_mangle]
pub extern "C" fn matmul_blas_calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

/// The name of the backend answering the calls (a static NUL-terminated string), or null
/// if none can run.
#[no_mangle]
pub extern "C" fn matmul_blas_backend() -> *const c_char {
    // One backend per process (config::backend), so one name, kept for the process's life.
    static NAME: std::sync::OnceLock<Option<std::ffi::CString>> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        config::backend().map(|b| std::ffi::CString::new(b.name()).expect("backend names hold no NUL byte"))
    })
    .as_ref()
    .map_or(std::ptr::null(), |name| name.as_ptr())
}

/// Runs `body`, turning a panic into one line on stderr: unwinding into C or Fortran is
/// undefined behaviour, and aborting would kill the host program.
fn guarded(routine: &str, body: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        eprintln!("matmul-blas: {routine} failed internally ({why}); C may be partly written");
    }
}

/// The Fortran entry point shared by `sgemm_` and `dgemm_`.
///
/// # Safety
/// The reference BLAS contract for `?GEMM`: every pointer is valid for what it
/// describes.
#[allow(clippy::too_many_arguments)]
unsafe fn fortran_gemm<T: AbiScalar + matmul::Scalar>(
    transa: *const c_char,
    transb: *const c_char,
    m: *const c_int,
    n: *const c_int,
    k: *const c_int,
    alpha: *const T,
    a: *const T,
    lda: *const c_int,
    b: *const T,
    ldb: *const c_int,
    beta: *const T,
    c: *mut T,
    ldc: *const c_int,
) {
    guarded(T::FORTRAN_NAME.trim_end(), || {
        // SAFETY: the Fortran convention passes every argument by reference; the caller
        // guarantees each points to a live value.
        let (ta, tb, m, n, k, lda, ldb, ldc) = unsafe { (*transa as u8, *transb as u8, *m, *n, *k, *lda, *ldb, *ldc) };
        match ColMajorGemm::check(ta, tb, m, n, k, lda, ldb, ldc) {
            Err(position) => xerbla::fortran(T::FORTRAN_NAME, position),
            // SAFETY: α and β are live values; A, B, C match the checked arguments (the
            // caller's contract).
            Ok(g) => unsafe { gemm::run(&g, *alpha, a, b, *beta, c) },
        }
    });
}

/// The CBLAS entry point shared by `cblas_sgemm` and `cblas_dgemm`.
///
/// # Safety
/// The CBLAS contract for `cblas_?gemm`: A, B and C are valid for what the arguments
/// describe.
#[allow(clippy::too_many_arguments)]
unsafe fn cblas_gemm<T: AbiScalar>(
    order: c_int,
    trans_a: c_int,
    trans_b: c_int,
    m: c_int,
    n: c_int,
    k: c_int,
    alpha: T::Acc,
    a: *const T,
    lda: c_int,
    b: *const T,
    ldb: c_int,
    beta: T::Acc,
    c: *mut T::Acc,
    ldc: c_int,
) {
    // Routine names are ASCII: no allocation on every call for a name only a panic prints.
    guarded(T::CBLAS_NAME.to_str().unwrap_or("cblas_?gemm"), || {
        match ColMajorGemm::check_cblas(order, trans_a, trans_b, m, n, k, lda, ldb, ldc) {
            Err(position) => {
                let value = match position {
                    1 => order,
                    2 => trans_a,
                    _ => trans_b,
                };
                xerbla::cblas(position, T::CBLAS_NAME, value)
            }
            // SAFETY: row-major data is the column-major transpose in the same memory,
            // which `check_cblas` described with A and B swapped; the caller's contract
            // covers the pointers.
            Ok((g, true)) => unsafe { gemm::run(&g, alpha, b, a, beta, c) },
            // SAFETY: the caller's contract covers the pointers.
            Ok((g, false)) => unsafe { gemm::run(&g, alpha, a, b, beta, c) },
        }
    });
}

/// Writes the four exported GEMM symbols for one element type.
macro_rules! exports {
    ($t:ty, $fortran:ident, $cblas:ident) => {
        #[doc = concat!("Reference-BLAS `", stringify!($fortran), "`: column-major `C ← α·op(A)·op(B) + β·C`.")]
        ///
        /// # Safety
        /// The reference BLAS contract: every argument points to a live value, and A, B
        /// and C to the matrices the sizes and leading dimensions describe.
        #[no_mangle]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $fortran(
            transa: *const c_char,
            transb: *const c_char,
            m: *const c_int,
            n: *const c_int,
            k: *const c_int,
            alpha: *const $t,
            a: *const $t,
            lda: *const c_int,
            b: *const $t,
            ldb: *const c_int,
            beta: *const $t,
            c: *mut $t,
            ldc: *const c_int,
        ) {
            // SAFETY: forwarded under the same contract.
            unsafe { fortran_gemm::<$t>(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
        }

        #[doc = concat!("CBLAS `", stringify!($cblas), "`: `C ← α·op(A)·op(B) + β·C` in row- or column-major order.")]
        ///
        /// # Safety
        /// The CBLAS contract: A, B and C point to the matrices the sizes, order and
        /// leading dimensions describe.
        #[no_mangle]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $cblas(
            order: c_int,
            trans_a: c_int,
            trans_b: c_int,
            m: c_int,
            n: c_int,
            k: c_int,
            alpha: $t,
            a: *const $t,
            lda: c_int,
            b: *const $t,
            ldb: c_int,
            beta: $t,
            c: *mut $t,
            ldc: c_int,
        ) {
            // SAFETY: forwarded under the same contract.
            unsafe { cblas_gemm::<$t>(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
        }
    };
}

exports!(f32, sgemm_, cblas_sgemm);
exports!(f64, dgemm_, cblas_dgemm);

/// MKL's `cblas_gemm_bf16bf16f32`: `C ← α·op(A)·op(B) + β·C` with A and B in bf16
/// (`MKL_BF16`: the 16 bits of a bfloat16, `uint16_t` in C) and α, β, C in `float`, in row-
/// or column-major order, checked and reported as `cblas_sgemm` is. The product runs on the
/// configured backend's bf16 path (for `simd`: its `vdpbf16ps` kernel on a CPU with AVX-512
/// BF16, else widened to f32 while packed); a backend
/// without one prints its [`matmul::Error::UnsupportedDtype`] on stderr and leaves C as it was.
///
/// # Safety
/// The CBLAS contract: A, B and C point to the matrices the sizes, order and leading
/// dimensions describe.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn cblas_gemm_bf16bf16f32(
    order: c_int,
    trans_a: c_int,
    trans_b: c_int,
    m: c_int,
    n: c_int,
    k: c_int,
    alpha: f32,
    a: *const matmul::half::bf16,
    lda: c_int,
    b: *const matmul::half::bf16,
    ldb: c_int,
    beta: f32,
    c: *mut f32,
    ldc: c_int,
) {
    // SAFETY: forwarded under the same contract (`half::bf16` is `#[repr(transparent)]`
    // over the `u16` the caller passes).
    unsafe { cblas_gemm::<matmul::half::bf16>(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
}

/// A routine's name as a C string, checked when the constant is compiled.
const fn routine_name(with_nul: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(with_nul.as_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("a routine name is one NUL-terminated ASCII word"),
    }
}

/// Writes the strided and grouped batch GEMM symbols for one element type.
macro_rules! batch_exports {
    ($t:ty, $strided:ident, $grouped:ident) => {
        #[doc = concat!("MKL's `", stringify!($strided), "`: `batch_size` products of one shape, each operand a fixed stride after the last (see [`batch`]).")]
        ///
        /// # Safety
        /// MKL's contract: product `p` has A at `a + p·stridea`, B at `b + p·strideb`, C at
        /// `c + p·stridec`, each the matrix the arguments describe.
        #[no_mangle]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $strided(
            order: c_int,
            trans_a: c_int,
            trans_b: c_int,
            m: c_int,
            n: c_int,
            k: c_int,
            alpha: $t,
            a: *const $t,
            lda: c_int,
            stride_a: c_int,
            b: *const $t,
            ldb: c_int,
            stride_b: c_int,
            beta: $t,
            c: *mut $t,
            ldc: c_int,
            stride_c: c_int,
            batch_size: c_int,
        ) {
            const ROUTINE: &CStr = routine_name(concat!(stringify!($strided), "\0"));
            // SAFETY: forwarded under the same contract.
            unsafe {
                batch::strided::<$t>(
                    ROUTINE,
                    order,
                    trans_a,
                    trans_b,
                    (m, n, k),
                    alpha,
                    (a, lda, stride_a),
                    (b, ldb, stride_b),
                    beta,
                    (c, ldc, stride_c),
                    batch_size,
                )
            }
        }

        #[doc = concat!("MKL's `", stringify!($grouped), "`: `group_count` groups of `group_size[g]` products, each group with its own shape, transposes, α and β (see [`batch`]).")]
        ///
        /// # Safety
        /// MKL's contract: the per-group arrays have `group_count` entries, the pointer
        /// arrays one per product, each addressing the matrix its group describes.
        #[no_mangle]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $grouped(
            order: c_int,
            trans_a: *const c_int,
            trans_b: *const c_int,
            m: *const c_int,
            n: *const c_int,
            k: *const c_int,
            alpha: *const $t,
            a: *const *const $t,
            lda: *const c_int,
            b: *const *const $t,
            ldb: *const c_int,
            beta: *const $t,
            c: *const *mut $t,
            ldc: *const c_int,
            group_count: c_int,
            group_size: *const c_int,
        ) {
            const ROUTINE: &CStr = routine_name(concat!(stringify!($grouped), "\0"));
            // SAFETY: forwarded under the same contract.
            unsafe {
                batch::grouped::<$t>(
                    ROUTINE,
                    order,
                    trans_a,
                    trans_b,
                    (m, n, k),
                    alpha,
                    (a, lda),
                    (b, ldb),
                    beta,
                    (c, ldc),
                    group_count,
                    group_size,
                )
            }
        }
    };
}

batch_exports!(f32, cblas_sgemm_batch_strided, cblas_sgemm_batch);
batch_exports!(f64, cblas_dgemm_batch_strided, cblas_dgemm_batch);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_stops_at_the_boundary() {
        let mut after = false;
        guarded("dgemm_", || panic!("a bug"));
        guarded("dgemm_", || after = true);
        assert!(after);
    }

    #[test]
    fn calls_reach_the_backend_through_both_conventions() {
        // C = A·B with A = [[1, 2], [3, 4]] and B = I, column-major.
        let (a, b) = ([1.0f64, 3.0, 2.0, 4.0], [1.0f64, 0.0, 0.0, 1.0]);
        let mut c = [f64::NAN; 4];
        let (two, one, zero) = (2, 1.0f64, 0.0f64);
        let before = matmul_blas_calls();
        // SAFETY: every pointer addresses a live value or a 2 × 2 column-major matrix.
        unsafe {
            dgemm_(
                c"N".as_ptr(),
                c"n".as_ptr(),
                &two,
                &two,
                &two,
                &one,
                a.as_ptr(),
                &two,
                b.as_ptr(),
                &two,
                &zero,
                c.as_mut_ptr(),
                &two,
            )
        };
        assert_eq!(c, a);
        // Row-major: the same buffers read as Aᵀ, so C = Aᵀ written row-major is A column-major.
        let mut r = [f64::NAN; 4];
        // SAFETY: as above, row-major.
        unsafe {
            cblas_dgemm(
                args::CBLAS_ROW_MAJOR,
                args::CBLAS_NO_TRANS,
                args::CBLAS_NO_TRANS,
                2,
                2,
                2,
                1.0,
                a.as_ptr(),
                2,
                b.as_ptr(),
                2,
                0.0,
                r.as_mut_ptr(),
                2,
            )
        };
        assert_eq!(r, a);
        assert!(matmul_blas_calls() >= before + 2);
        // SAFETY: returns a static NUL-terminated name.
        let name = unsafe { std::ffi::CStr::from_ptr(matmul_blas_backend()) };
        assert_eq!(name.to_str().unwrap(), matmul::best().unwrap().name());
    }
}
