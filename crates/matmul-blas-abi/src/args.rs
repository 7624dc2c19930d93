//! Argument checking exactly as the reference BLAS does it: the same rules, in the same
//! order, reporting the position of the first bad parameter.
//!
//! The reference `DGEMM` checks, in this order: TRANSA (1), TRANSB (2), M (3), N (4),
//! K (5), LDA (8), LDB (10), LDC (13), with `LDA ≥ max(1, rows of the stored A)` and so on.
//! The reference CBLAS checks the order (1) first, then TransA (2) and TransB (3) itself,
//! and passes the rest to the Fortran routine; for row-major data it calls the Fortran
//! routine on the transposed problem (B and A, N and M swapped) and translates the
//! position back, so M and N (4, 5) and LDA and LDB (9, 11) are checked in swapped order.

/// Whether an operand is used as stored or transposed (`op(X) = X` or `Xᵀ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    /// `'N'`: as stored.
    No,
    /// `'T'` or `'C'`: transposed (the conjugate transpose of a real matrix is its transpose).
    Yes,
}

impl Trans {
    /// Decodes a Fortran `TRANSA`/`TRANSB` character in either case.
    pub fn from_fortran(c: u8) -> Option<Trans> {
        match c.to_ascii_uppercase() {
            b'N' => Some(Trans::No),
            b'T' | b'C' => Some(Trans::Yes),
            _ => None,
        }
    }

    /// Decodes a CBLAS `CBLAS_TRANSPOSE`: 111 no, 112 transpose, 113 conjugate transpose.
    pub fn from_cblas(value: i32) -> Option<Trans> {
        match value {
            CBLAS_NO_TRANS => Some(Trans::No),
            CBLAS_TRANS | CBLAS_CONJ_TRANS => Some(Trans::Yes),
            _ => None,
        }
    }
}

/// `CblasRowMajor`.
pub const CBLAS_ROW_MAJOR: i32 = 101;
/// `CblasColMajor`.
pub const CBLAS_COL_MAJOR: i32 = 102;
/// `CblasNoTrans`.
pub const CBLAS_NO_TRANS: i32 = 111;
/// `CblasTrans`.
pub const CBLAS_TRANS: i32 = 112;
/// `CblasConjTrans`.
pub const CBLAS_CONJ_TRANS: i32 = 113;

/// A column-major GEMM whose arguments passed the reference checks: `C (m × n, ldc) ←
/// α·op(A)·op(B) + β·C` with op(A) `m × k` and op(B) `k × n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColMajorGemm {
    /// How A is used.
    pub trans_a: Trans,
    /// How B is used.
    pub trans_b: Trans,
    /// Rows of op(A) and C.
    pub m: usize,
    /// Columns of op(B) and C.
    pub n: usize,
    /// Columns of op(A), rows of op(B).
    pub k: usize,
    /// Leading dimension of the stored A.
    pub lda: usize,
    /// Leading dimension of the stored B.
    pub ldb: usize,
    /// Leading dimension of C.
    pub ldc: usize,
}

impl ColMajorGemm {
    /// The reference `?GEMM` checks on Fortran (column-major) arguments; `Err` holds the
    /// position (1-based, as `XERBLA` reports it) of the first bad one.
    #[allow(clippy::too_many_arguments)]
    pub fn check(transa: u8, transb: u8, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32) -> Result<Self, i32> {
        let trans_a = Trans::from_fortran(transa).ok_or(1)?;
        let trans_b = Trans::from_fortran(transb).ok_or(2)?;
        Self::check_dims(trans_a, trans_b, m, n, k, lda, ldb, ldc)
    }

    /// The checks after TRANSA and TRANSB (positions 3, 4, 5, 8, 10, 13).
    #[allow(clippy::too_many_arguments)]
    fn check_dims(
        trans_a: Trans,
        trans_b: Trans,
        m: i32,
        n: i32,
        k: i32,
        lda: i32,
        ldb: i32,
        ldc: i32,
    ) -> Result<Self, i32> {
        let m = usize::try_from(m).map_err(|_| 3)?;
        let n = usize::try_from(n).map_err(|_| 4)?;
        let k = usize::try_from(k).map_err(|_| 5)?;
        let rows_a = if trans_a == Trans::No { m } else { k };
        let rows_b = if trans_b == Trans::No { k } else { n };
        let at_least = |ld: i32, rows: usize, position: i32| match usize::try_from(ld) {
            Ok(ld) if ld >= rows.max(1) => Ok(ld),
            _ => Err(position),
        };
        let lda = at_least(lda, rows_a, 8)?;
        let ldb = at_least(ldb, rows_b, 10)?;
        let ldc = at_least(ldc, m, 13)?;
        Ok(ColMajorGemm { trans_a, trans_b, m, n, k, lda, ldb, ldc })
    }

    /// The reference CBLAS checks of `cblas_?gemm`; `Ok` holds the equivalent column-major
    /// problem and whether A and B were swapped to get it (row-major data), `Err` the CBLAS
    /// position (1-based) of the first bad argument.
    #[allow(clippy::too_many_arguments)]
    pub fn check_cblas(
        order: i32,
        trans_a: i32,
        trans_b: i32,
        m: i32,
        n: i32,
        k: i32,
        lda: i32,
        ldb: i32,
        ldc: i32,
    ) -> Result<(Self, bool), i32> {
        if order != CBLAS_ROW_MAJOR && order != CBLAS_COL_MAJOR {
            return Err(1);
        }
        let ta = Trans::from_cblas(trans_a).ok_or(2)?;
        let tb = Trans::from_cblas(trans_b).ok_or(3)?;
        if order == CBLAS_COL_MAJOR {
            // Fortran positions 3, 4, 5, 8, 10, 13 are CBLAS's 4, 5, 6, 9, 11, 14.
            return Self::check_dims(ta, tb, m, n, k, lda, ldb, ldc).map(|g| (g, false)).map_err(|p| p + 1);
        }
        // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: the same memory,
        // with A and B, M and N swapped.
        Self::check_dims(tb, ta, n, m, k, ldb, lda, ldc).map(|g| (g, true)).map_err(|p| match p + 1 {
            4 => 5,
            5 => 4,
            9 => 11,
            11 => 9,
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_characters_in_either_case() {
        for (c, t) in [(b'N', Trans::No), (b'n', Trans::No), (b'T', Trans::Yes), (b't', Trans::Yes)] {
            assert_eq!(Trans::from_fortran(c), Some(t));
        }
        assert_eq!(Trans::from_fortran(b'C'), Some(Trans::Yes));
        assert_eq!(Trans::from_fortran(b'c'), Some(Trans::Yes));
        assert_eq!(Trans::from_fortran(b'X'), None);
        assert_eq!(Trans::from_fortran(b' '), None);
    }

    #[test]
    fn fortran_reports_the_first_bad_parameter_in_reference_order() {
        let ok = |ta, tb, m, n, k, lda, ldb, ldc| ColMajorGemm::check(ta, tb, m, n, k, lda, ldb, ldc);
        assert!(ok(b'N', b'N', 3, 4, 5, 3, 5, 3).is_ok());
        assert_eq!(ok(b'X', b'Y', -1, -1, -1, 0, 0, 0), Err(1));
        assert_eq!(ok(b'N', b'Y', -1, -1, -1, 0, 0, 0), Err(2));
        assert_eq!(ok(b'N', b'N', -1, -1, -1, 0, 0, 0), Err(3));
        assert_eq!(ok(b'N', b'N', 0, -1, -1, 0, 0, 0), Err(4));
        assert_eq!(ok(b'N', b'N', 0, 0, -1, 0, 0, 0), Err(5));
        // LDA ≥ max(1, M) for 'N', max(1, K) for 'T'.
        assert_eq!(ok(b'N', b'N', 3, 4, 5, 2, 5, 3), Err(8));
        assert_eq!(ok(b'T', b'N', 3, 4, 5, 3, 5, 3), Err(8));
        assert!(ok(b'T', b'N', 3, 4, 5, 5, 5, 3).is_ok());
        // LDB ≥ max(1, K) for 'N', max(1, N) for 'T'.
        assert_eq!(ok(b'N', b'N', 3, 4, 5, 3, 4, 3), Err(10));
        assert_eq!(ok(b'N', b't', 3, 4, 5, 3, 3, 3), Err(10));
        assert_eq!(ok(b'N', b'N', 3, 4, 5, 3, 5, 2), Err(13));
        // Zero sizes still need leading dimensions of at least 1.
        assert_eq!(ok(b'N', b'N', 0, 0, 0, 0, 1, 1), Err(8));
        assert!(ok(b'N', b'N', 0, 0, 0, 1, 1, 1).is_ok());
        // The first bad one wins: a bad LDA is not reported while K is negative.
        assert_eq!(ok(b'N', b'N', 3, 4, -5, 0, 0, 0), Err(5));
    }

    #[test]
    fn cblas_positions_and_row_major_order() {
        let c = ColMajorGemm::check_cblas;
        assert_eq!(c(0, 0, 0, -1, -1, -1, 0, 0, 0), Err(1));
        assert_eq!(c(CBLAS_ROW_MAJOR, 0, 0, -1, -1, -1, 0, 0, 0), Err(2));
        assert_eq!(c(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, 0, -1, -1, -1, 0, 0, 0), Err(3));
        // Column-major: M (4) is checked before N (5).
        assert_eq!(c(CBLAS_COL_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, -1, -1, 1, 1, 1, 1), Err(4));
        // Row-major: the Fortran routine sees N first, so N (5) is reported before M (4).
        assert_eq!(c(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, -1, -1, 1, 1, 1, 1), Err(5));
        // Row-major leading dimensions: A is m × k with lda ≥ k, B k × n with ldb ≥ n, C ldc ≥ n.
        let rm = |lda, ldb, ldc| c(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, 3, 4, 5, lda, ldb, ldc);
        assert_eq!(rm(4, 4, 4), Err(9));
        assert_eq!(rm(5, 3, 4), Err(11));
        assert_eq!(rm(5, 4, 3), Err(14));
        let (g, swapped) = rm(5, 4, 4).unwrap();
        assert!(swapped);
        assert_eq!((g.m, g.n, g.k, g.lda, g.ldb, g.ldc), (4, 3, 5, 4, 5, 4));
        // Column-major leading dimensions.
        let cm = |lda, ldb, ldc| c(CBLAS_COL_MAJOR, CBLAS_TRANS, CBLAS_CONJ_TRANS, 3, 4, 5, lda, ldb, ldc);
        assert_eq!(cm(4, 4, 3), Err(9));
        assert_eq!(cm(5, 3, 3), Err(11));
        assert_eq!(cm(5, 4, 2), Err(14));
        assert!(cm(5, 4, 3).is_ok());
    }
}
