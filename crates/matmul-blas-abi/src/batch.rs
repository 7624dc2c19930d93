//! MKL's batch GEMMs: `cblas_?gemm_batch_strided` (one shape, operands a fixed stride
//! apart) and `cblas_?gemm_batch` (groups, each with its own shape, transposes, α and β,
//! and an array of operand pointers), with MKL's signatures, so a program written for
//! them links against this library unchanged.
//!
//! Every argument of the call is checked before any product runs; the first bad one is
//! reported through `cblas_xerbla` with its position in the routine's signature (MKL
//! documents the rules but no positions; these are the positions as the reference BLAS
//! numbers arguments), and nothing is written. The checks are `cblas_?gemm`'s for each
//! shape, plus:
//!
//! * strided: `stridea ≥ 0`, `strideb ≥ 0` (0 repeats one matrix for every product),
//!   `stridec` at least one C's extent when `batch_size > 1` (no two products' C overlap),
//!   `batch_size ≥ 0`;
//! * grouped: `group_count ≥ 0` (checked first: it says how many entries the arrays
//!   have), then each group's `cblas_?gemm` arguments and `group_size[g] ≥ 0`. Overlap of C
//!   between products given by pointers is the caller's to avoid, as in MKL.
//!
//! The products then run one after another, each one call of the configured backend
//! (counted by `matmul_blas_calls`).

use std::ffi::{c_int, CStr};

use crate::args::ColMajorGemm;
use crate::gemm::{self, AbiScalar};
use crate::{guarded, xerbla};

/// Reports `position` of `routine` through `cblas_xerbla`, with the bad enum's value for
/// the layout and transpose arguments (positions 1–3).
fn report(routine: &'static CStr, position: i32, (order, trans_a, trans_b): (c_int, c_int, c_int)) {
    let value = match position {
        1 => order,
        2 => trans_a,
        3 => trans_b,
        _ => 0,
    };
    xerbla::cblas(position, routine, value);
}

/// The arguments of `cblas_?gemm_batch_strided` after the reference checks: the
/// column-major problem, whether A and B swap (row-major), and the three strides.
#[derive(Debug, PartialEq, Eq)]
pub struct StridedArgs {
    pub gemm: ColMajorGemm,
    pub swapped: bool,
    pub strides: [usize; 3],
    pub count: usize,
}

/// The checks of `cblas_?gemm_batch_strided`; `Err` holds the position (1-based) of the
/// first bad argument. Positions: layout 1, transa 2, transb 3, m 4, n 5, k 6, lda 9,
/// stridea 10, ldb 12, strideb 13, ldc 16, stridec 17, batch_size 18.
#[allow(clippy::too_many_arguments)]
pub fn check_strided(
    order: c_int,
    trans_a: c_int,
    trans_b: c_int,
    (m, n, k): (c_int, c_int, c_int),
    (lda, stride_a): (c_int, c_int),
    (ldb, stride_b): (c_int, c_int),
    (ldc, stride_c): (c_int, c_int),
    batch_size: c_int,
) -> Result<StridedArgs, i32> {
    // `cblas_?gemm`'s positions 9, 11, 14 (lda, ldb, ldc) are 9, 12, 16 here, and the
    // strides sit between them: a bad stridea (10) comes before a bad ldb, a bad strideb
    // (13) before a bad ldc.
    let first_bad = |p: i32| {
        [(10, stride_a < 0), (13, stride_b < 0)].into_iter().find(|&(q, bad)| bad && q < p).map_or(p, |(q, _)| q)
    };
    let (gemm, swapped) = ColMajorGemm::check_cblas(order, trans_a, trans_b, m, n, k, lda, ldb, ldc)
        .map_err(|p| match p {
            11 => 12,
            14 => 16,
            other => other,
        })
        .map_err(first_bad)?;
    let stride = |s: c_int, position: i32| usize::try_from(s).map_err(|_| position);
    let sa = stride(stride_a, 10)?;
    let sb = stride(stride_b, 13)?;
    let sc = stride(stride_c, 17)?;
    let count = usize::try_from(batch_size).map_err(|_| 18)?;
    if count > 1 && gemm::span(gemm.m, gemm.n, gemm.ldc).is_none_or(|extent| sc < extent) {
        return Err(17);
    }
    // Row-major: the column-major problem reads B where A was, so the strides swap too.
    let strides = if swapped { [sb, sa, sc] } else { [sa, sb, sc] };
    Ok(StridedArgs { gemm, swapped, strides, count })
}

/// `cblas_?gemm_batch_strided` for one element type.
///
/// # Safety
/// MKL's contract: product `p < batch_size` has A at `a + p·stridea`, B at `b + p·strideb`
/// and C at `c + p·stridec`, each the matrix the sizes, layout and leading dimensions
/// describe; C does not overlap A or B.
#[allow(clippy::too_many_arguments)]
pub unsafe fn strided<T: AbiScalar>(
    routine: &'static CStr,
    order: c_int,
    trans_a: c_int,
    trans_b: c_int,
    dims: (c_int, c_int, c_int),
    alpha: T::Acc,
    (a, lda, stride_a): (*const T, c_int, c_int),
    (b, ldb, stride_b): (*const T, c_int, c_int),
    beta: T::Acc,
    (c, ldc, stride_c): (*mut T::Acc, c_int, c_int),
    batch_size: c_int,
) {
    guarded(routine.to_str().unwrap_or("cblas_?gemm_batch_strided"), || {
        let args = match check_strided(
            order,
            trans_a,
            trans_b,
            dims,
            (lda, stride_a),
            (ldb, stride_b),
            (ldc, stride_c),
            batch_size,
        ) {
            Ok(args) => args,
            Err(position) => return report(routine, position, (order, trans_a, trans_b)),
        };
        let (a, b) = if args.swapped { (b, a) } else { (a, b) };
        let [sa, sb, sc] = args.strides;
        for p in 0..args.count {
            // Wrapping: a pointer that is never read (α = 0, k = 0) may be anything.
            let (ap, bp, cp) = (a.wrapping_add(p * sa), b.wrapping_add(p * sb), c.wrapping_add(p * sc));
            // SAFETY: the caller's contract for product p; its C is disjoint from every
            // other product's (stridec ≥ one C's extent, checked).
            unsafe { gemm::run(&args.gemm, alpha, ap, bp, beta, cp) };
        }
    });
}

/// `cblas_?gemm_batch` (grouped) for one element type.
///
/// # Safety
/// MKL's contract: every array has `group_count` entries (A, B and C pointer arrays one
/// per product, `Σ group_size` in all), and each product's pointers address the matrices
/// its group's arguments describe; no C overlaps another product's operands.
#[allow(clippy::too_many_arguments)]
pub unsafe fn grouped<T: AbiScalar>(
    routine: &'static CStr,
    order: c_int,
    trans_a: *const c_int,
    trans_b: *const c_int,
    (m, n, k): (*const c_int, *const c_int, *const c_int),
    alpha: *const T::Acc,
    (a, lda): (*const *const T, *const c_int),
    (b, ldb): (*const *const T, *const c_int),
    beta: *const T::Acc,
    (c, ldc): (*const *mut T::Acc, *const c_int),
    group_count: c_int,
    group_size: *const c_int,
) {
    guarded(routine.to_str().unwrap_or("cblas_?gemm_batch"), || {
        let Ok(groups) = usize::try_from(group_count) else {
            return report(routine, 15, (order, 0, 0));
        };
        // SAFETY: (this closure) every array has `group_count` readable entries.
        let at = |x: *const c_int, g: usize| unsafe { *x.add(g) };
        let mut checked = Vec::with_capacity(groups);
        for g in 0..groups {
            let (ta, tb) = (at(trans_a, g), at(trans_b, g));
            let shape = (at(m, g), at(n, g), at(k, g));
            match ColMajorGemm::check_cblas(
                order,
                ta,
                tb,
                shape.0,
                shape.1,
                shape.2,
                at(lda, g),
                at(ldb, g),
                at(ldc, g),
            ) {
                Err(position) => return report(routine, position, (order, ta, tb)),
                Ok(problem) => match usize::try_from(at(group_size, g)) {
                    Ok(size) => checked.push((problem, size)),
                    Err(_) => return report(routine, 16, (order, ta, tb)),
                },
            }
        }
        let mut product = 0;
        for (g, ((problem, swapped), size)) in checked.iter().enumerate() {
            // SAFETY: α and β have `group_count` entries (the caller's contract).
            let (alpha, beta) = unsafe { (*alpha.add(g), *beta.add(g)) };
            for _ in 0..*size {
                // SAFETY: the pointer arrays have one entry per product, `product` of them
                // before this one (the caller's contract).
                let (ap, bp, cp) = unsafe { (*a.add(product), *b.add(product), *c.add(product)) };
                let (ap, bp) = if *swapped { (bp, ap) } else { (ap, bp) };
                // SAFETY: the caller's contract for this product.
                unsafe { gemm::run(problem, alpha, ap, bp, beta, cp) };
                product += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{CBLAS_COL_MAJOR as COL, CBLAS_NO_TRANS as N, CBLAS_ROW_MAJOR as ROW};

    /// 3 × 4 × 5 column-major products, C 3 × 4 with ldc 3 (extent 12).
    fn check(lda: (c_int, c_int), ldb: (c_int, c_int), ldc: (c_int, c_int), count: c_int) -> Result<StridedArgs, i32> {
        check_strided(COL, N, N, (3, 4, 5), lda, ldb, ldc, count)
    }

    #[test]
    fn strided_arguments_are_reported_in_signature_order() {
        let ok = check((3, 15), (5, 20), (3, 12), 4).unwrap();
        assert_eq!((ok.strides, ok.count, ok.swapped), ([15, 20, 12], 4, false));
        // Strides of 0 for A and B repeat one matrix; C's must hold one C.
        assert!(check((3, 0), (5, 0), (3, 12), 4).is_ok());
        assert_eq!(check((3, 0), (5, 0), (3, 11), 4).unwrap_err(), 17);
        // ... unless there is at most one product.
        assert!(check((3, 0), (5, 0), (3, 0), 1).is_ok());
        assert_eq!(check((3, 15), (5, 20), (3, 12), -1).unwrap_err(), 18);
        assert_eq!(check((2, 15), (5, 20), (3, 12), 4).unwrap_err(), 9);
        assert_eq!(check((3, -1), (4, 20), (3, 12), 4).unwrap_err(), 10, "stridea before a bad ldb");
        assert_eq!(check((3, 15), (4, 20), (3, 12), 4).unwrap_err(), 12);
        assert_eq!(check((3, 15), (5, -1), (2, 12), 4).unwrap_err(), 13, "strideb before a bad ldc");
        assert_eq!(check((3, 15), (5, 20), (2, 12), 4).unwrap_err(), 16);
        assert_eq!(check_strided(7, N, N, (3, 4, 5), (3, 15), (5, 20), (3, 12), 4).unwrap_err(), 1);
        assert_eq!(check_strided(COL, N, N, (3, -4, 5), (3, 15), (5, 20), (3, 12), 4).unwrap_err(), 5);
    }

    #[test]
    fn row_major_swaps_the_strides_with_the_operands() {
        // Row-major 3 × 4 C (ldc 4), A 3 × 5 (lda 5), B 5 × 4 (ldb 4).
        let args = check_strided(ROW, N, N, (3, 4, 5), (5, 15), (4, 20), (4, 12), 2).unwrap();
        assert!(args.swapped);
        assert_eq!(args.strides, [20, 15, 12]);
        // C's extent row-major is (3 − 1)·4 + 4 = 12.
        assert_eq!(check_strided(ROW, N, N, (3, 4, 5), (5, 15), (4, 20), (4, 11), 2).unwrap_err(), 17);
    }
}
