//! Strided views of a matrix inside a slice.
//!
//! A view has `rows × cols` elements; element `(i, j)` lives at
//! `slice[i * row_stride + j * col_stride]`. The **row stride** is the distance in elements
//! from `(i, j)` to `(i + 1, j)`, the **column stride** the distance from `(i, j)` to
//! `(i, j + 1)`. So a row-major `m × n` matrix with leading dimension `ld` has strides
//! `(ld, 1)`, a column-major one `(1, ld)`, and a transpose swaps the two.
//!
//! Construction checks, without overflow, that every element lies inside the slice; a
//! writable view also checks that no two `(i, j)` address the same element. Failures are
//! [`ViewError`] values, never panics. After construction the slice is trimmed to the
//! elements the view spans, so `as_slice().len()` is the index of its last element plus one.

use crate::error::ViewError;
use crate::Scalar;

/// Rows, columns and strides, validated against a slice length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dims {
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl Dims {
    fn is_empty(&self) -> bool {
        self.rows == 0 || self.cols == 0
    }

    /// Elements the view spans: index of its last element plus one (0 when empty).
    fn span(&self) -> Result<usize, ViewError> {
        if self.is_empty() {
            return Ok(0);
        }
        let overflow = || ViewError::IndexOverflow {
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        };
        let last_row = (self.rows - 1).checked_mul(self.row_stride).ok_or_else(overflow)?;
        let last_col = (self.cols - 1).checked_mul(self.col_stride).ok_or_else(overflow)?;
        last_row.checked_add(last_col).and_then(|last| last.checked_add(1)).ok_or_else(overflow)
    }

    fn check(&self, len: usize) -> Result<usize, ViewError> {
        let needed = self.span()?;
        if needed > len {
            return Err(ViewError::OutOfBounds {
                rows: self.rows,
                cols: self.cols,
                row_stride: self.row_stride,
                col_stride: self.col_stride,
                needed,
                len,
            });
        }
        Ok(needed)
    }

    /// A pair of distinct `(i, j)` addressing the same element, if there is one.
    ///
    /// `i·a + j·b = i'·a + j'·b` means `(i − i')·a = (j' − j)·b`. With `g = gcd(a, b)`,
    /// `a = g·a'`, `b = g·b'` and `a'`, `b'` coprime, the smallest nonzero solution is
    /// `i − i' = b'`, `j' − j = a'`; so the view collides exactly when `b' < rows` and
    /// `a' < cols`, and then `(b', 0)` and `(0, a')` are the same element. A zero stride
    /// collides as soon as its dimension has two elements.
    fn self_overlap(&self) -> Option<((usize, usize), (usize, usize))> {
        if self.is_empty() {
            return None;
        }
        if self.rows <= 1 || self.cols <= 1 {
            // One row or one column: the check of the single stride below suffices.
            if self.rows > 1 && self.row_stride == 0 {
                return Some(((0, 0), (1, 0)));
            }
            if self.cols > 1 && self.col_stride == 0 {
                return Some(((0, 0), (0, 1)));
            }
            return None;
        }
        let (a, b) = (self.row_stride, self.col_stride);
        if a == 0 {
            return Some(((0, 0), (1, 0)));
        }
        if b == 0 {
            return Some(((0, 0), (0, 1)));
        }
        let g = gcd(a, b);
        let (a1, b1) = (a / g, b / g);
        (b1 < self.rows && a1 < self.cols).then_some(((b1, 0), (0, a1)))
    }

    fn zero_stride(&self) -> Result<(), ViewError> {
        // A view with no elements has no stride to check (a 3 × 0 row-major matrix has
        // row stride 0).
        if self.is_empty() {
            return Ok(());
        }
        if (self.rows > 1 && self.row_stride == 0) || (self.cols > 1 && self.col_stride == 0) {
            return Err(ViewError::ZeroStride {
                rows: self.rows,
                cols: self.cols,
                row_stride: self.row_stride,
                col_stride: self.col_stride,
            });
        }
        Ok(())
    }

    fn offset(&self, i: usize, j: usize) -> usize {
        i * self.row_stride + j * self.col_stride
    }

    fn t(self) -> Self {
        Dims { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride }
    }

    /// Offset and dims of a sub-block, checked to lie inside `self`.
    fn block(&self, row: usize, col: usize, rows: usize, cols: usize) -> Result<(usize, Dims), ViewError> {
        let fits = row.checked_add(rows).is_some_and(|end| end <= self.rows)
            && col.checked_add(cols).is_some_and(|end| end <= self.cols);
        if !fits {
            return Err(ViewError::BlockOutOfRange { row, col, rows, cols, parent: (self.rows, self.cols) });
        }
        let dims = Dims { rows, cols, ..*self };
        // An empty block addresses nothing: start it at 0 so its (empty) slice is valid.
        let offset = if dims.is_empty() { 0 } else { self.offset(row, col) };
        Ok((offset, dims))
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The step to use with `step_by` along a dimension: any positive value when the
/// dimension has at most one element, since `take(len)` then stops before stepping.
fn step(stride: usize) -> usize {
    stride.max(1)
}

macro_rules! shared_view_methods {
    () => {
        /// Number of rows.
        #[inline]
        pub fn nrows(&self) -> usize {
            self.dims.rows
        }
        /// Number of columns.
        #[inline]
        pub fn ncols(&self) -> usize {
            self.dims.cols
        }
        /// `(rows, cols)`.
        #[inline]
        pub fn shape(&self) -> (usize, usize) {
            (self.dims.rows, self.dims.cols)
        }
        /// Distance in elements from `(i, j)` to `(i + 1, j)`.
        #[inline]
        pub fn row_stride(&self) -> usize {
            self.dims.row_stride
        }
        /// Distance in elements from `(i, j)` to `(i, j + 1)`.
        #[inline]
        pub fn col_stride(&self) -> usize {
            self.dims.col_stride
        }
        /// `(row_stride, col_stride)` as `isize`, the type pointer arithmetic takes.
        ///
        /// A stride along a dimension of two or more elements always fits: the view's last
        /// element lies inside its slice, whose length is at most `isize::MAX`. A stride
        /// along a dimension of at most one element never moves a pointer and may be any
        /// `usize`; it is reported as 0 when it does not fit.
        #[inline]
        pub fn strides(&self) -> (isize, isize) {
            let fit = |stride: usize, len: usize| match isize::try_from(stride) {
                Ok(s) => s,
                Err(_) if len <= 1 => 0,
                Err(_) => {
                    unreachable!("stride {stride} along {len} elements exceeds the slice, checked at construction")
                }
            };
            (fit(self.dims.row_stride, self.dims.rows), fit(self.dims.col_stride, self.dims.cols))
        }
        /// Whether the view has no elements.
        #[inline]
        pub fn is_empty(&self) -> bool {
            self.dims.is_empty()
        }
        /// The element at `(i, j)`, or `None` outside the view.
        #[inline]
        pub fn get(&self, i: usize, j: usize) -> Option<T> {
            (i < self.dims.rows && j < self.dims.cols).then(|| self.data[self.dims.offset(i, j)])
        }
        /// The elements the view spans, from `(0, 0)` to its last element, including any
        /// padding between them. Its pointer is what an FFI call takes.
        #[inline]
        pub fn as_slice(&self) -> &[T] {
            &self.data[..]
        }
        /// Row `i` as a contiguous slice, when the column stride is 1 (or there is one column).
        #[inline]
        pub fn row_slice(&self, i: usize) -> Option<&[T]> {
            if i >= self.dims.rows || (self.dims.col_stride != 1 && self.dims.cols > 1) {
                return None;
            }
            let start = self.dims.offset(i, 0);
            Some(&self.data[start..start + self.dims.cols])
        }
        /// Column `j` as a contiguous slice, when the row stride is 1 (or there is one row).
        #[inline]
        pub fn col_slice(&self, j: usize) -> Option<&[T]> {
            if j >= self.dims.cols || (self.dims.row_stride != 1 && self.dims.rows > 1) {
                return None;
            }
            let start = self.dims.offset(0, j);
            Some(&self.data[start..start + self.dims.rows])
        }
        /// The elements of row `i`, left to right. Panics if `i >= rows`.
        #[inline]
        pub fn row_iter(&self, i: usize) -> impl Iterator<Item = T> + '_ {
            assert!(i < self.dims.rows, "row {i} of a view with {} rows", self.dims.rows);
            self.data[self.dims.offset(i, 0)..].iter().step_by(step(self.dims.col_stride)).take(self.dims.cols).copied()
        }
        /// The elements of column `j`, top to bottom. Panics if `j >= cols`.
        #[inline]
        pub fn col_iter(&self, j: usize) -> impl Iterator<Item = T> + '_ {
            assert!(j < self.dims.cols, "column {j} of a view with {} columns", self.dims.cols);
            self.data[self.dims.offset(0, j)..].iter().step_by(step(self.dims.row_stride)).take(self.dims.rows).copied()
        }
        /// Whether the view is row-major with unit column stride (row stride = leading dimension).
        #[inline]
        pub fn is_row_major(&self) -> bool {
            self.dims.col_stride == 1 || self.dims.cols <= 1
        }
        /// Whether the view is column-major with unit row stride (column stride = leading dimension).
        #[inline]
        pub fn is_col_major(&self) -> bool {
            self.dims.row_stride == 1 || self.dims.rows <= 1
        }
        /// Copies the view into an owned matrix of the given layout.
        pub fn to_matrix(&self, layout: crate::Layout) -> crate::Matrix<T> {
            crate::Matrix::from_fn(self.dims.rows, self.dims.cols, layout, |i, j| self.data[self.dims.offset(i, j)])
        }
    };
}

/// A read-only strided view of a matrix. Cheap to copy.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    dims: Dims,
}

impl<'a, T: Scalar> MatRef<'a, T> {
    /// A `rows × cols` view of `data` with the given strides (see the module docs).
    ///
    /// Errors if an element lies outside `data`, if the index arithmetic overflows, or if
    /// a dimension with more than one element has stride 0 (broadcasting is not supported).
    pub fn new(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, ViewError> {
        let dims = Dims { rows, cols, row_stride, col_stride };
        let span = dims.check(data.len())?;
        dims.zero_stride()?;
        Ok(MatRef { data: &data[..span], dims })
    }

    /// A row-major view: `data[i * cols + j]`.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, cols, 1)
    }

    /// A column-major view: `data[i + j * rows]`.
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, 1, rows)
    }

    /// A row-major view with leading dimension `ld` (≥ `cols` for a valid matrix).
    pub fn row_major_ld(data: &'a [T], rows: usize, cols: usize, ld: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, ld, 1)
    }

    /// A column-major view with leading dimension `ld` (≥ `rows` for a valid matrix).
    pub fn col_major_ld(data: &'a [T], rows: usize, cols: usize, ld: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, 1, ld)
    }

    /// The transpose: the same elements with rows and columns (and their strides) swapped.
    #[inline]
    pub fn t(self) -> Self {
        MatRef { data: self.data, dims: self.dims.t() }
    }

    /// The `rows × cols` block whose top-left element is `(row, col)`.
    pub fn block(self, row: usize, col: usize, rows: usize, cols: usize) -> Result<Self, ViewError> {
        let (offset, dims) = self.dims.block(row, col, rows, cols)?;
        let span = dims.span()?;
        Ok(MatRef { data: &self.data[offset..offset + span], dims })
    }

    shared_view_methods!();
}

/// A writable strided view of a matrix: no two of its `(i, j)` share an element.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    dims: Dims,
}

impl<'a, T: Scalar> MatMut<'a, T> {
    /// A writable `rows × cols` view of `data` with the given strides (see the module docs).
    ///
    /// Errors if an element lies outside `data`, if the index arithmetic overflows, or if
    /// two `(i, j)` would address the same element (which includes a zero stride).
    pub fn new(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, ViewError> {
        let dims = Dims { rows, cols, row_stride, col_stride };
        let span = dims.check(data.len())?;
        if let Some((first, second)) = dims.self_overlap() {
            return Err(ViewError::SelfOverlap { rows, cols, row_stride, col_stride, first, second });
        }
        Ok(MatMut { data: &mut data[..span], dims })
    }

    /// A row-major view: `data[i * cols + j]`.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, cols, 1)
    }

    /// A column-major view: `data[i + j * rows]`.
    pub fn col_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, 1, rows)
    }

    /// A row-major view with leading dimension `ld`.
    pub fn row_major_ld(data: &'a mut [T], rows: usize, cols: usize, ld: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, ld, 1)
    }

    /// A column-major view with leading dimension `ld`.
    pub fn col_major_ld(data: &'a mut [T], rows: usize, cols: usize, ld: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, 1, ld)
    }

    /// A read-only view of the same elements.
    #[inline]
    pub fn rb(&self) -> MatRef<'_, T> {
        MatRef { data: self.data, dims: self.dims }
    }

    /// A shorter-lived writable view of the same elements.
    #[inline]
    pub fn rb_mut(&mut self) -> MatMut<'_, T> {
        MatMut { data: self.data, dims: self.dims }
    }

    /// The transpose: the same elements with rows and columns (and their strides) swapped.
    #[inline]
    pub fn t(self) -> Self {
        MatMut { data: self.data, dims: self.dims.t() }
    }

    /// The `rows × cols` block whose top-left element is `(row, col)`.
    pub fn block(self, row: usize, col: usize, rows: usize, cols: usize) -> Result<Self, ViewError> {
        let (offset, dims) = self.dims.block(row, col, rows, cols)?;
        let span = dims.span()?;
        Ok(MatMut { data: &mut self.data[offset..offset + span], dims })
    }

    /// Writes `value` at `(i, j)`; returns `false` (and writes nothing) outside the view.
    #[inline]
    #[must_use = "false means (i, j) lies outside the view and nothing was written"]
    pub fn set(&mut self, i: usize, j: usize, value: T) -> bool {
        if i < self.dims.rows && j < self.dims.cols {
            self.data[self.dims.offset(i, j)] = value;
            true
        } else {
            false
        }
    }

    /// The elements the view spans, writable, from `(0, 0)` to its last element. Writing
    /// to padding between the view's elements is the caller's business.
    #[inline]
    pub fn as_slice_mut(&mut self) -> &mut [T] {
        self.data
    }

    /// Row `i` as a contiguous writable slice, when the column stride is 1 (or there is one column).
    #[inline]
    pub fn row_slice_mut(&mut self, i: usize) -> Option<&mut [T]> {
        if i >= self.dims.rows || (self.dims.col_stride != 1 && self.dims.cols > 1) {
            return None;
        }
        let start = self.dims.offset(i, 0);
        Some(&mut self.data[start..start + self.dims.cols])
    }

    /// Column `j` as a contiguous writable slice, when the row stride is 1 (or there is one row).
    #[inline]
    pub fn col_slice_mut(&mut self, j: usize) -> Option<&mut [T]> {
        if j >= self.dims.cols || (self.dims.row_stride != 1 && self.dims.rows > 1) {
            return None;
        }
        let start = self.dims.offset(0, j);
        Some(&mut self.data[start..start + self.dims.rows])
    }

    /// The elements of row `i`, writable, left to right. Panics if `i >= rows`.
    #[inline]
    pub fn row_iter_mut(&mut self, i: usize) -> impl Iterator<Item = &mut T> + '_ {
        assert!(i < self.dims.rows, "row {i} of a view with {} rows", self.dims.rows);
        let start = self.dims.offset(i, 0);
        self.data[start..].iter_mut().step_by(step(self.dims.col_stride)).take(self.dims.cols)
    }

    /// The elements of column `j`, writable, top to bottom. Panics if `j >= cols`.
    #[inline]
    pub fn col_iter_mut(&mut self, j: usize) -> impl Iterator<Item = &mut T> + '_ {
        assert!(j < self.dims.cols, "column {j} of a view with {} columns", self.dims.cols);
        let start = self.dims.offset(0, j);
        self.data[start..].iter_mut().step_by(step(self.dims.row_stride)).take(self.dims.rows)
    }

    /// Applies `f` to every element, row by row.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut T)) {
        for i in 0..self.dims.rows {
            self.row_iter_mut(i).for_each(&mut f);
        }
    }

    shared_view_methods!();
}

impl<'a, T: Scalar> From<MatMut<'a, T>> for MatRef<'a, T> {
    fn from(m: MatMut<'a, T>) -> Self {
        MatRef { data: m.data, dims: m.dims }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_views_have_no_stride_to_check() {
        let empty: [f64; 0] = [];
        for (rows, cols) in [(3, 0), (0, 3), (0, 0)] {
            assert_eq!(MatRef::row_major(&empty, rows, cols).unwrap().shape(), (rows, cols));
            assert_eq!(MatRef::col_major(&empty, rows, cols).unwrap().shape(), (rows, cols));
            assert_eq!(MatRef::new(&empty, rows, cols, 0, 0).unwrap().shape(), (rows, cols));
            let mut none: [f64; 0] = [];
            assert_eq!(MatMut::row_major(&mut none, rows, cols).unwrap().shape(), (rows, cols));
            assert_eq!(MatMut::col_major(&mut none, rows, cols).unwrap().shape(), (rows, cols));
        }
        // A non-empty view still may not broadcast.
        assert!(matches!(MatRef::new(&[1.0f64], 2, 1, 0, 1), Err(ViewError::ZeroStride { .. })));
    }

    #[test]
    fn strides_as_isize() {
        let data = [0.0f32; 12];
        assert_eq!(MatRef::row_major_ld(&data, 2, 3, 5).unwrap().strides(), (5, 1));
        assert_eq!(MatRef::col_major(&data, 4, 3).unwrap().t().strides(), (4, 1));
        // One row: its row stride moves nothing and may be any usize.
        assert_eq!(MatRef::new(&data, 1, 3, usize::MAX, 1).unwrap().strides(), (0, 1));
    }

    #[test]
    fn row_and_col_major_address_the_same_matrix() {
        let rm = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let cm = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let a = MatRef::<f64>::row_major(&rm, 2, 3).unwrap();
        let b = MatRef::<f64>::col_major(&cm, 2, 3).unwrap();
        for i in 0..2 {
            for j in 0..3 {
                assert_eq!(a.get(i, j), b.get(i, j));
            }
        }
        assert_eq!(a.get(2, 0), None);
        assert_eq!(a.t().get(2, 1), Some(6.0));
        assert_eq!(a.row_slice(1), Some(&[4.0, 5.0, 6.0][..]));
        assert_eq!(a.col_slice(0), None);
        assert_eq!(b.col_slice(2), Some(&[3.0, 6.0][..]));
        assert_eq!(a.col_iter(1).collect::<Vec<_>>(), vec![2.0, 5.0]);
    }

    #[test]
    fn padded_and_block_views() {
        // 3×2 row-major inside a 3×4 buffer.
        let data: Vec<f32> = (0..12).map(|x| x as f32).collect();
        let v = MatRef::row_major_ld(&data, 3, 2, 4).unwrap();
        assert_eq!(v.as_slice().len(), 10);
        assert_eq!(v.get(2, 1), Some(9.0));
        let blk = v.block(1, 1, 2, 1).unwrap();
        assert_eq!(blk.col_iter(0).collect::<Vec<_>>(), vec![5.0, 9.0]);
        let empty = v.block(3, 0, 0, 2).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn out_of_bounds_is_an_error() {
        let data = [0.0f64; 5];
        assert_eq!(
            MatRef::row_major(&data, 2, 3).unwrap_err(),
            ViewError::OutOfBounds { rows: 2, cols: 3, row_stride: 3, col_stride: 1, needed: 6, len: 5 }
        );
        let mut data = [0.0f64; 5];
        assert!(matches!(MatMut::col_major_ld(&mut data, 2, 3, 2), Err(ViewError::OutOfBounds { .. })));
    }

    #[test]
    fn overflow_is_an_error() {
        let data = [0.0f32; 4];
        let err = MatRef::new(&data, 3, 2, usize::MAX / 2, 1).unwrap_err();
        assert!(matches!(err, ViewError::IndexOverflow { .. }), "{err}");
        let err = MatRef::new(&data, 2, 2, usize::MAX, 1).unwrap_err();
        assert!(matches!(err, ViewError::IndexOverflow { .. }), "{err}");
        let err = MatRef::new(&data, 2, 2, usize::MAX - 1, 1).unwrap_err();
        assert!(matches!(err, ViewError::IndexOverflow { .. }), "{err}");
    }

    #[test]
    fn empty_views_need_no_data() {
        let v = MatRef::<f64>::new(&[], 0, 1000, 1000, 1).unwrap();
        assert!(v.is_empty());
        let mut none: [f64; 0] = [];
        let m = MatMut::new(&mut none, 7, 0, 0, 0).unwrap();
        assert_eq!(m.shape(), (7, 0));
    }

    #[test]
    fn zero_stride_read_view_is_an_error() {
        let data = [1.0f64; 3];
        assert!(matches!(MatRef::new(&data, 3, 1, 0, 1), Err(ViewError::ZeroStride { .. })));
        // A stride along a dimension of one element is never used.
        assert!(MatRef::new(&data, 1, 3, 0, 1).is_ok());
    }

    #[test]
    fn self_overlapping_write_view_is_an_error() {
        let mut data = [0.0f64; 64];
        // Row stride 3 < cols 4: (1, 0) and (0, 3) collide.
        let err = MatMut::new(&mut data, 3, 4, 3, 1).unwrap_err();
        assert_eq!(
            err,
            ViewError::SelfOverlap { rows: 3, cols: 4, row_stride: 3, col_stride: 1, first: (1, 0), second: (0, 3) }
        );
        assert!(matches!(MatMut::new(&mut data, 2, 2, 0, 1), Err(ViewError::SelfOverlap { .. })));
        assert!(matches!(MatMut::new(&mut data, 4, 4, 2, 2), Err(ViewError::SelfOverlap { .. })));
        // Interleaved but injective: offsets {0, 3, 2, 5}.
        assert!(MatMut::new(&mut data, 2, 2, 2, 3).is_ok());
        // Plain layouts and a transpose are fine.
        assert!(MatMut::new(&mut data, 4, 4, 4, 1).is_ok());
        assert!(MatMut::new(&mut data, 4, 4, 1, 4).is_ok());
        // A single row may have any row stride, even zero.
        assert!(MatMut::new(&mut data, 1, 4, 0, 1).is_ok());
    }

    #[test]
    fn block_out_of_range_is_an_error() {
        let data = [0.0f32; 12];
        let v = MatRef::row_major(&data, 3, 4).unwrap();
        assert_eq!(
            v.block(2, 1, 2, 2).unwrap_err(),
            ViewError::BlockOutOfRange { row: 2, col: 1, rows: 2, cols: 2, parent: (3, 4) }
        );
        assert!(v.block(usize::MAX, 0, 2, 1).is_err());
    }

    #[test]
    fn self_overlap_check_is_exact() {
        // Compare the closed form against brute force over small shapes and strides.
        for rows in 1..6usize {
            for cols in 1..6usize {
                for rs in 0..8usize {
                    for cs in 0..8usize {
                        let d = Dims { rows, cols, row_stride: rs, col_stride: cs };
                        let mut seen = std::collections::HashSet::new();
                        let injective = (0..rows).all(|i| (0..cols).all(|j| seen.insert(d.offset(i, j))));
                        let found = d.self_overlap();
                        assert_eq!(found.is_none(), injective, "{d:?}");
                        if let Some((p, q)) = found {
                            assert_ne!(p, q);
                            assert_eq!(d.offset(p.0, p.1), d.offset(q.0, q.1), "{d:?}");
                        }
                    }
                }
            }
        }
    }
}
