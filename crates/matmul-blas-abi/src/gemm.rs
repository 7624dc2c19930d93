//! The one GEMM behind every exported symbol: a checked column-major problem on raw
//! pointers, turned into views and handed to the chosen backend.

use matmul::half::bf16;
use matmul::{Element, MatMut, MatRef, Scalar};

use crate::args::{ColMajorGemm, Trans};

/// The element types of A and B with their routine names, as `XERBLA` and CBLAS report
/// them; α, β and C are in `Acc` (`f32` for bf16).
pub trait AbiScalar: Element {
    /// `"SGEMM "` / `"DGEMM "`: the Fortran name padded to 6, as the reference passes it
    /// (bf16 has no Fortran symbol; its name is used in messages only).
    const FORTRAN_NAME: &'static str;
    /// `cblas_sgemm` / `cblas_dgemm` / `cblas_gemm_bf16bf16f32`.
    const CBLAS_NAME: &'static std::ffi::CStr;
}

impl AbiScalar for bf16 {
    const FORTRAN_NAME: &'static str = "GEMM_BF16BF16F32";
    const CBLAS_NAME: &'static std::ffi::CStr = c"cblas_gemm_bf16bf16f32";
}

impl AbiScalar for f32 {
    const FORTRAN_NAME: &'static str = "SGEMM ";
    const CBLAS_NAME: &'static std::ffi::CStr = c"cblas_sgemm";
}

impl AbiScalar for f64 {
    const FORTRAN_NAME: &'static str = "DGEMM ";
    const CBLAS_NAME: &'static std::ffi::CStr = c"cblas_dgemm";
}

/// Elements a column-major `rows × cols` matrix with leading dimension `ld` spans, or
/// `None` if that overflows (no such buffer can exist).
pub(crate) fn span(rows: usize, cols: usize, ld: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return Some(0);
    }
    (cols - 1).checked_mul(ld)?.checked_add(rows)
}

/// The slice a caller's pointer stands for.
///
/// # Safety
/// `ptr` addresses `len` readable elements when `len > 0` (the BLAS contract for an
/// operand that is read), which stay unchanged while the slice lives.
unsafe fn input<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: the caller's contract above; non-null checked.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// `C ← α·op(A)·op(B) + β·C` on column-major data, after the reference checks.
///
/// Quick returns as the reference: nothing when `m = 0` or `n = 0`, or when (`α = 0` or
/// `k = 0`) and `β = 1`. When `α = 0` or `k = 0`, A and B are not read (their pointers may
/// be anything), and C is only scaled by β.
///
/// # Safety
/// The BLAS contract: `a`, `b` and `c` address the column-major matrices the checked
/// arguments describe (`ld·(cols − 1) + rows` elements each), C does not overlap A or B,
/// and nothing else accesses them during the call.
pub unsafe fn run<T: AbiScalar>(
    g: &ColMajorGemm,
    alpha: T::Acc,
    a: *const T,
    b: *const T,
    beta: T::Acc,
    c: *mut T::Acc,
) {
    let (zero, one) = (T::Acc::ZERO, T::Acc::ONE);
    if g.m == 0 || g.n == 0 || ((alpha == zero || g.k == 0) && beta == one) {
        return;
    }
    let Some(backend) = crate::config::backend() else {
        return;
    };
    crate::CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // α = 0 reads neither A nor B: an m × 0 by 0 × n product leaves only C ← β·C.
    let k = if alpha == zero { 0 } else { g.k };
    let stored = |t: Trans, rows: usize, cols: usize| if t == Trans::No { (rows, cols) } else { (cols, rows) };
    let (ra, ca) = stored(g.trans_a, g.m, k);
    let (rb, cb) = stored(g.trans_b, k, g.n);
    let (Some(len_a), Some(len_b), Some(len_c)) = (span(ra, ca, g.lda), span(rb, cb, g.ldb), span(g.m, g.n, g.ldc))
    else {
        eprintln!("matmul-blas: {}: the matrices' extent overflows the address space", T::FORTRAN_NAME.trim_end());
        return;
    };
    // SAFETY: the caller's contract: A spans `len_a` elements (0 when k = 0 or α = 0,
    // then A is not touched), B `len_b`.
    let (a, b) = unsafe { (input(a, len_a), input(b, len_b)) };
    let c: &mut [T::Acc] = if c.is_null() {
        &mut []
    } else {
        // SAFETY: the caller's contract: C spans `len_c > 0` elements (m, n ≥ 1 here),
        // overlaps neither A nor B, and nobody else uses it during the call.
        unsafe { std::slice::from_raw_parts_mut(c, len_c) }
    };
    let view =
        |data, rows, cols, ld, t| MatRef::new(data, rows, cols, 1, ld).map(|v| if t == Trans::No { v } else { v.t() });
    let result = view(a, ra, ca, g.lda, g.trans_a)
        .and_then(|a| Ok((a, view(b, rb, cb, g.ldb, g.trans_b)?)))
        .and_then(|(a, b)| Ok((a, b, MatMut::new(c, g.m, g.n, 1, g.ldc)?)))
        .map_err(matmul::Error::from)
        .and_then(|(a, b, c)| backend.gemm(alpha, a, b, beta, c));
    if let Err(e) = result {
        eprintln!("matmul-blas: {} on {}: {e}", T::FORTRAN_NAME.trim_end(), backend.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(span(3, 4, 5), Some(18));
        assert_eq!(span(0, 4, 5), Some(0));
        assert_eq!(span(3, 0, 5), Some(0));
        assert_eq!(span(1, usize::MAX, usize::MAX), None);
    }
}
