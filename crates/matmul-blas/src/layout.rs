//! How a strided view is handed to `cblas_?gemm`: storage order, transpose flag and
//! leading dimension, or "copy it first" when cblas cannot express the view.
//!
//! Pure arithmetic on shapes and strides, with no FFI, so it is compiled and tested
//! whether or not a BLAS library is linked.
//!
//! cblas stores a matrix in one of two orders. In column-major order element `(i, j)` of an
//! `r × c` matrix is at `i + j·ld`, in row-major order at `i·ld + j`, and the library requires
//! `ld ≥ max(1, r)` (column-major) or `ld ≥ max(1, c)` (row-major) even when the matrix has a
//! single column or row and `ld` is never used to step. Our views allow any stride along a
//! dimension of length 1 (even 0), so such a stride is replaced by the smallest legal `ld`,
//! which addresses the same elements.

/// The storage order of the cblas call, chosen from C's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// `CblasRowMajor`.
    Row,
    /// `CblasColMajor`.
    Col,
}

/// The shape and strides of a view (see `matmul_core::MatRef` for the stride convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strided {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance from `(i, j)` to `(i + 1, j)`.
    pub row_stride: usize,
    /// Distance from `(i, j)` to `(i, j + 1)`.
    pub col_stride: usize,
}

impl Strided {
    /// The transpose: rows and columns, and their strides, swapped.
    pub fn t(self) -> Self {
        Strided { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride }
    }

    /// The leading dimension under which cblas, in `order` and without a transpose, addresses
    /// exactly this view's elements; `None` if it cannot (no unit stride in the right
    /// dimension, a leading dimension smaller than the library accepts, or one too large
    /// for its 32-bit integers).
    pub fn ld(self, order: Order) -> Option<usize> {
        // Reduce row-major to column-major: row-major storage of X is column-major storage of Xᵀ.
        let s = match order {
            Order::Col => self,
            Order::Row => self.t(),
        };
        // Column-major: unit stride down a column, unless there is only one row.
        if s.rows > 1 && s.row_stride != 1 {
            return None;
        }
        let min_ld = s.rows.max(1);
        // With one column the leading dimension is never used to step: take the smallest legal one.
        let ld = if s.cols > 1 { s.col_stride } else { min_ld };
        // A read view may overlap itself (column stride < rows); cblas rejects that.
        (ld >= min_ld && to_blas_int(ld).is_ok()).then_some(ld)
    }
}

/// How one input operand (A or B) is passed to cblas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// Passed as it is: `trans` says whether cblas reads it through `Trans`, `ld` is its
    /// leading dimension in the call's order.
    Direct {
        /// `CblasTrans` rather than `CblasNoTrans`.
        trans: bool,
        /// Leading dimension.
        ld: usize,
    },
    /// Not expressible: copied into a contiguous buffer in the call's order, leading
    /// dimension = its rows (column order) or columns (row order), passed with `NoTrans`.
    Copy,
}

impl Operand {
    /// How to pass an input view in a call of the given order.
    pub fn plan(view: Strided, order: Order) -> Self {
        if let Some(ld) = view.ld(order) {
            Operand::Direct { trans: false, ld }
        } else if let Some(ld) = view.t().ld(order) {
            // op(X) = Yᵀ where Y = Xᵀ is stored in the call's order.
            Operand::Direct { trans: true, ld }
        } else {
            Operand::Copy
        }
    }
}

/// How C is passed: in place in the order its layout allows, or through a temporary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Written in place: the call's order and C's leading dimension.
    Direct {
        /// Storage order of the call.
        order: Order,
        /// Leading dimension of C.
        ld: usize,
    },
    /// General strides: computed into a contiguous column-major temporary (C copied in
    /// first unless β = 0) and written back.
    Temporary,
}

impl Output {
    /// How to pass C. Column-major is preferred when both fit (a single row or column).
    pub fn plan(c: Strided) -> Self {
        if let Some(ld) = c.ld(Order::Col) {
            Output::Direct { order: Order::Col, ld }
        } else if let Some(ld) = c.ld(Order::Row) {
            Output::Direct { order: Order::Row, ld }
        } else {
            Output::Temporary
        }
    }
}

/// The value does not fit the library's 32-bit integer (LP64 `blasint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge(pub usize);

/// Converts a dimension or leading dimension to the library's integer type, refusing
/// (instead of truncating) anything above `i32::MAX`.
pub fn to_blas_int(value: usize) -> Result<i32, TooLarge> {
    i32::try_from(value).map_err(|_| TooLarge(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Strided {
        Strided { rows, cols, row_stride, col_stride }
    }

    #[test]
    fn plain_layouts_map_without_copy() {
        // 3×4 row-major, ld 4.
        let rm = s(3, 4, 4, 1);
        assert_eq!(rm.ld(Order::Row), Some(4));
        assert_eq!(rm.ld(Order::Col), None);
        assert_eq!(Operand::plan(rm, Order::Row), Operand::Direct { trans: false, ld: 4 });
        // In a column-major call the same view is the transpose of a 4×3 column-major matrix.
        assert_eq!(Operand::plan(rm, Order::Col), Operand::Direct { trans: true, ld: 4 });
        // 3×4 column-major, padded to ld 7.
        let cm = s(3, 4, 1, 7);
        assert_eq!(Operand::plan(cm, Order::Col), Operand::Direct { trans: false, ld: 7 });
        assert_eq!(Operand::plan(cm, Order::Row), Operand::Direct { trans: true, ld: 7 });
        assert_eq!(Output::plan(cm), Output::Direct { order: Order::Col, ld: 7 });
        assert_eq!(Output::plan(rm), Output::Direct { order: Order::Row, ld: 4 });
    }

    #[test]
    fn general_strides_are_copied() {
        let g = s(3, 4, 2, 7);
        assert_eq!(Operand::plan(g, Order::Col), Operand::Copy);
        assert_eq!(Operand::plan(g, Order::Row), Operand::Copy);
        assert_eq!(Output::plan(g), Output::Temporary);
    }

    #[test]
    fn single_row_or_column_gets_a_legal_ld() {
        // One column with an arbitrary (even zero) column stride: ld becomes max(1, rows).
        assert_eq!(s(5, 1, 1, 0).ld(Order::Col), Some(5));
        assert_eq!(s(5, 1, 1, 999).ld(Order::Col), Some(5));
        // One row stored column-major: ld = column stride, which must be ≥ 1.
        assert_eq!(s(1, 4, 0, 3).ld(Order::Col), Some(3));
        assert_eq!(s(1, 4, 0, 1).ld(Order::Row), Some(4));
        // A 1×1 view with both strides 0 is legal in our views; cblas gets ld = 1.
        assert_eq!(s(1, 1, 0, 0).ld(Order::Col), Some(1));
        assert_eq!(s(1, 1, 0, 0).ld(Order::Row), Some(1));
        assert_eq!(Output::plan(s(1, 1, 0, 0)), Output::Direct { order: Order::Col, ld: 1 });
        // One column with a non-unit row stride is a row-major vector: ld = row stride.
        assert_eq!(Output::plan(s(4, 1, 3, 0)), Output::Direct { order: Order::Row, ld: 3 });
    }

    #[test]
    fn overlapping_read_views_are_copied() {
        // Row stride 1, column stride 2 < 3 rows: legal for a read-only view, not for cblas.
        let v = s(3, 4, 1, 2);
        assert_eq!(v.ld(Order::Col), None);
        assert_eq!(Operand::plan(v, Order::Col), Operand::Copy);
    }

    #[test]
    fn leading_dimensions_beyond_i32_are_copied_not_truncated() {
        let huge = i32::MAX as usize + 1;
        assert_eq!(s(2, 2, 1, huge).ld(Order::Col), None);
        assert_eq!(Operand::plan(s(2, 2, 1, huge), Order::Col), Operand::Copy);
        assert_eq!(s(2, 2, 1, huge - 1).ld(Order::Col), Some(huge - 1));
    }

    #[test]
    fn blas_int_conversion_refuses_to_truncate() {
        assert_eq!(to_blas_int(0), Ok(0));
        assert_eq!(to_blas_int(i32::MAX as usize), Ok(i32::MAX));
        assert_eq!(to_blas_int(i32::MAX as usize + 1), Err(TooLarge(i32::MAX as usize + 1)));
        // 2³² + 5 would truncate to 5 with `as i32`.
        assert_eq!(to_blas_int((1usize << 32) + 5), Err(TooLarge((1 << 32) + 5)));
    }
}
