//! Strided views of a matrix.
//!
//! A view has `rows × cols` elements; element `(i, j)` lives `i * row_stride + j * col_stride`
//! elements after element `(0, 0)`. The **row stride** is the distance in elements from
//! `(i, j)` to `(i + 1, j)`, the **column stride** the distance from `(i, j)` to `(i, j + 1)`.
//! So a row-major `m × n` matrix with leading dimension `ld` has strides `(ld, 1)`, a
//! column-major one `(1, ld)`, and a transpose swaps the two. Strides are signed: a
//! negative one walks backwards (a view with its rows reversed), and in a read view a zero
//! one repeats an element along a dimension (a broadcast). A writable view never has two
//! `(i, j)` on the same element, so a zero stride there is refused.
//!
//! A view is a borrow of its elements only, not of the memory between them: the gaps of a
//! padded or stepped view may belong to someone else (another view, or C itself), so a
//! view never hands out a slice that spans them. Views come from slices ([`MatRef::new`],
//! [`MatRef::with_origin`]: checked, without overflow, to lie inside the slice) or from a
//! pointer and strides another crate vouches for ([`MatRef::from_raw_parts`], which is how
//! the facade takes ndarray, nalgebra and faer matrices in place). Failures are
//! [`ViewError`] values, never panics.

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::error::ViewError;
use crate::Element;

/// Rows, columns and strides of a view whose elements' offsets from `(0, 0)` fit `isize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dims {
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

impl Dims {
    /// Dims from `usize` strides, as slices take them. A stride along a dimension of at
    /// most one element never moves and may be any value: it is kept as 0 when it does
    /// not fit `isize`.
    fn unsigned(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Result<Self, ViewError> {
        let signed = |stride: usize, len: usize| match isize::try_from(stride) {
            Ok(s) => Ok(s),
            Err(_) if len <= 1 => Ok(0),
            Err(_) => Err(ViewError::StrideTooLarge { stride }),
        };
        Ok(Dims { rows, cols, row_stride: signed(row_stride, rows)?, col_stride: signed(col_stride, cols)? })
    }

    fn is_empty(&self) -> bool {
        self.rows == 0 || self.cols == 0
    }

    /// Offsets from `(0, 0)` of the lowest and the highest element ((0, 0) when empty),
    /// or [`ViewError::IndexOverflow`] when an element's offset does not fit `isize`.
    fn extent(&self) -> Result<(isize, isize), ViewError> {
        if self.is_empty() {
            return Ok((0, 0));
        }
        let overflow = || ViewError::IndexOverflow {
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        };
        let along = |len: usize, stride: isize| -> Result<isize, ViewError> {
            let last = isize::try_from(len - 1).map_err(|_| overflow())?;
            last.checked_mul(stride).ok_or_else(overflow)
        };
        let (r, c) = (along(self.rows, self.row_stride)?, along(self.cols, self.col_stride)?);
        let low = r.min(0).checked_add(c.min(0)).ok_or_else(overflow)?;
        let high = r.max(0).checked_add(c.max(0)).ok_or_else(overflow)?;
        Ok((low, high))
    }

    /// Checks that the view, with `(0, 0)` at index `origin`, lies inside `len` elements.
    fn check(&self, origin: usize, len: usize) -> Result<(), ViewError> {
        if self.is_empty() {
            return Ok(());
        }
        let (low, high) = self.extent()?;
        let (rows, cols, row_stride, col_stride) = (self.rows, self.cols, self.row_stride, self.col_stride);
        if low.unsigned_abs() > origin {
            return Err(ViewError::BeforeStart { rows, cols, row_stride, col_stride, origin });
        }
        let needed = origin.checked_add(high.unsigned_abs()).and_then(|last| last.checked_add(1));
        match needed {
            Some(needed) if needed <= len => Ok(()),
            Some(needed) => Err(ViewError::OutOfBounds { rows, cols, row_stride, col_stride, needed, len }),
            None => Err(ViewError::IndexOverflow { rows, cols, row_stride, col_stride }),
        }
    }

    /// A pair of distinct `(i, j)` addressing the same element, if there is one.
    ///
    /// `i·a + j·b = i'·a + j'·b` means `(i − i')·a = (j' − j)·b`. Both differences range
    /// over intervals symmetric about 0, so only `|a|` and `|b|` matter. With
    /// `g = gcd(|a|, |b|)`, `|a| = g·a'`, `|b| = g·b'` and `a'`, `b'` coprime, the smallest
    /// nonzero solution has `|i − i'| = b'`, `|j' − j| = a'`; so the view collides exactly
    /// when `b' < rows` and `a' < cols`. A zero stride collides as soon as its dimension
    /// has two elements.
    fn self_overlap(&self) -> Option<((usize, usize), (usize, usize))> {
        if self.is_empty() {
            return None;
        }
        let (a, b) = (self.row_stride.unsigned_abs(), self.col_stride.unsigned_abs());
        if self.rows > 1 && a == 0 {
            return Some(((0, 0), (1, 0)));
        }
        if self.cols > 1 && b == 0 {
            return Some(((0, 0), (0, 1)));
        }
        if self.rows <= 1 || self.cols <= 1 {
            return None;
        }
        let g = gcd(a, b);
        let (a1, b1) = (a / g, b / g);
        if b1 >= self.rows || a1 >= self.cols {
            return None;
        }
        // (b', 0) and (0, a') when the strides have the same sign; (b', a') and (0, 0)
        // when they differ (b'·a = −a'·b).
        let same_sign = (self.row_stride > 0) == (self.col_stride > 0);
        Some(if same_sign { ((b1, 0), (0, a1)) } else { ((b1, a1), (0, 0)) })
    }

    /// Offset of `(i, j)` from `(0, 0)`. Exact for `i < rows`, `j < cols` (each such
    /// offset lies within [`Dims::extent`], checked to fit `isize`).
    #[inline]
    fn offset(&self, i: usize, j: usize) -> isize {
        (i as isize).wrapping_mul(self.row_stride).wrapping_add((j as isize).wrapping_mul(self.col_stride))
    }

    fn t(self) -> Self {
        Dims { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride }
    }

    /// Offset and dims of a sub-block, checked to lie inside `self`.
    fn block(&self, row: usize, col: usize, rows: usize, cols: usize) -> Result<(isize, Dims), ViewError> {
        let fits = row.checked_add(rows).is_some_and(|end| end <= self.rows)
            && col.checked_add(cols).is_some_and(|end| end <= self.cols);
        if !fits {
            return Err(ViewError::BlockOutOfRange { row, col, rows, cols, parent: (self.rows, self.cols) });
        }
        let dims = Dims { rows, cols, ..*self };
        // An empty block addresses nothing: it stays at the parent's (0, 0).
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

/// Checks that the view's elements span at most `isize::MAX` bytes, as one allocation
/// must (so every offset between two of them is a valid `pointer::offset`, and a stride
/// along a dimension of two or more elements can be negated).
fn bytes_fit<T>(dims: &Dims) -> Result<(), ViewError> {
    let (low, high) = dims.extent()?;
    let elements = high.abs_diff(low);
    let fits = elements.checked_mul(std::mem::size_of::<T>().max(1)).is_some_and(|b| b <= isize::MAX as usize);
    if fits {
        Ok(())
    } else {
        let (rows, cols, row_stride, col_stride) = (dims.rows, dims.cols, dims.row_stride, dims.col_stride);
        Err(ViewError::IndexOverflow { rows, cols, row_stride, col_stride })
    }
}

/// Element `(0, 0)` of a view with `dims` whose `(0, 0)` is `data[origin]`, checked to lie
/// inside `data`.
fn origin_in<T>(data: *const T, len: usize, origin: usize, dims: &Dims) -> Result<NonNull<T>, ViewError> {
    dims.check(origin, len)?;
    bytes_fit::<T>(dims)?;
    let start = if dims.is_empty() {
        data
    } else {
        // SAFETY: `check` proved `origin < len` (the view has an element at offset ≥ 0
        // from it, and its highest element's index is below `len`).
        unsafe { data.add(origin) }
    };
    // A slice's pointer is never null, nor is one into it.
    Ok(NonNull::new(start.cast_mut()).expect("a pointer into a slice is not null"))
}

/// Element `(0, 0)` of a view built from a raw pointer: null is refused unless the view
/// is empty (then nothing is ever read through it).
fn raw_origin<T>(ptr: *const T, dims: &Dims) -> Result<NonNull<T>, ViewError> {
    bytes_fit::<T>(dims)?;
    if dims.is_empty() {
        return Ok(NonNull::dangling());
    }
    NonNull::new(ptr.cast_mut()).ok_or(ViewError::NullPointer { rows: dims.rows, cols: dims.cols })
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
        pub fn row_stride(&self) -> isize {
            self.dims.row_stride
        }
        /// Distance in elements from `(i, j)` to `(i, j + 1)`.
        #[inline]
        pub fn col_stride(&self) -> isize {
            self.dims.col_stride
        }
        /// `(row_stride, col_stride)`.
        #[inline]
        pub fn strides(&self) -> (isize, isize) {
            (self.dims.row_stride, self.dims.col_stride)
        }
        /// The strides as `usize`, when neither is negative along a dimension of two or
        /// more elements (a stride along a dimension of at most one element is taken
        /// as 0 if negative): what a library that takes leading dimensions can use.
        #[inline]
        pub fn unsigned_strides(&self) -> Option<(usize, usize)> {
            let along = |len: usize, stride: isize| match usize::try_from(stride) {
                Ok(s) => Some(s),
                Err(_) if len <= 1 => Some(0),
                Err(_) => None,
            };
            Some((along(self.dims.rows, self.dims.row_stride)?, along(self.dims.cols, self.dims.col_stride)?))
        }
        /// Whether the view has no elements.
        #[inline]
        pub fn is_empty(&self) -> bool {
            self.dims.is_empty()
        }
        /// Pointer to element `(0, 0)` (dangling when the view is empty): what an FFI call
        /// takes, with the strides. Element `(i, j)` is at `offset(i·row_stride +
        /// j·col_stride)` from it; nothing between the elements belongs to the view.
        #[inline]
        pub fn as_ptr(&self) -> *const T {
            self.ptr.as_ptr()
        }
        /// Pointer to `(i, j)`, for `i < rows` and `j < cols` (checked by the callers).
        #[inline]
        fn ptr_at(&self, i: usize, j: usize) -> *mut T {
            debug_assert!(i < self.dims.rows && j < self.dims.cols);
            // SAFETY: (i, j) is an element of the view, so its offset is exact (`Dims::offset`)
            // and lands on an element of the same allocation as (0, 0).
            unsafe { self.ptr.as_ptr().offset(self.dims.offset(i, j)) }
        }
        /// The element at `(i, j)`, or `None` outside the view.
        #[inline]
        pub fn get(&self, i: usize, j: usize) -> Option<T> {
            // SAFETY: (i, j) is an element of the view, valid for reads while it lives.
            (i < self.dims.rows && j < self.dims.cols).then(|| unsafe { *self.ptr_at(i, j) })
        }
        /// Row `i` as a contiguous slice, when the column stride is 1 (or there is one column).
        #[inline]
        pub fn row_slice(&self, i: usize) -> Option<&[T]> {
            if i >= self.dims.rows || (self.dims.col_stride != 1 && self.dims.cols > 1) {
                return None;
            }
            if self.dims.cols == 0 {
                return Some(&[]);
            }
            // SAFETY: the row's `cols` elements are consecutive elements of the view.
            Some(unsafe { std::slice::from_raw_parts(self.ptr_at(i, 0), self.dims.cols) })
        }
        /// Column `j` as a contiguous slice, when the row stride is 1 (or there is one row).
        #[inline]
        pub fn col_slice(&self, j: usize) -> Option<&[T]> {
            if j >= self.dims.cols || (self.dims.row_stride != 1 && self.dims.rows > 1) {
                return None;
            }
            if self.dims.rows == 0 {
                return Some(&[]);
            }
            // SAFETY: the column's `rows` elements are consecutive elements of the view.
            Some(unsafe { std::slice::from_raw_parts(self.ptr_at(0, j), self.dims.rows) })
        }
        /// The elements of row `i`, left to right. Panics if `i >= rows`.
        #[inline]
        pub fn row_iter(&self, i: usize) -> impl Iterator<Item = T> + '_ {
            assert!(i < self.dims.rows, "row {i} of a view with {} rows", self.dims.rows);
            // SAFETY: (i, j) with j < cols is an element of the view.
            (0..self.dims.cols).map(move |j| unsafe { *self.ptr_at(i, j) })
        }
        /// The elements of column `j`, top to bottom. Panics if `j >= cols`.
        #[inline]
        pub fn col_iter(&self, j: usize) -> impl Iterator<Item = T> + '_ {
            assert!(j < self.dims.cols, "column {j} of a view with {} columns", self.dims.cols);
            // SAFETY: (i, j) with i < rows is an element of the view.
            (0..self.dims.rows).map(move |i| unsafe { *self.ptr_at(i, j) })
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
        /// The same elements with the rows in reverse order (row `i` is row `rows − 1 − i`
        /// of `self`): a negated row stride, no copy.
        #[inline]
        pub fn reversed_rows(self) -> Self {
            if self.is_empty() || self.dims.rows == 1 {
                return self;
            }
            let ptr = self.ptr_at(self.dims.rows - 1, 0);
            // The stride negates: the elements span at most isize::MAX bytes (checked at
            // construction), so it is not isize::MIN.
            let dims = Dims { row_stride: -self.dims.row_stride, ..self.dims };
            // SAFETY: `ptr` points at an element of the view, never null.
            Self { ptr: unsafe { NonNull::new_unchecked(ptr) }, dims, _borrow: PhantomData }
        }
        /// The same elements with the columns in reverse order: a negated column stride.
        #[inline]
        pub fn reversed_cols(self) -> Self {
            self.t().reversed_rows().t()
        }
        /// Copies the view into an owned matrix of the given layout.
        pub fn to_matrix(&self, layout: crate::Layout) -> crate::Matrix<T> {
            // SAFETY: (i, j) is an element of the view (from_fn asks only those).
            crate::Matrix::from_fn(self.dims.rows, self.dims.cols, layout, |i, j| unsafe { *self.ptr_at(i, j) })
        }
    };
}

/// A read-only strided view of a matrix: a shared borrow of its `rows × cols` elements.
/// Cheap to copy.
#[derive(Debug)]
pub struct MatRef<'a, T> {
    /// Element (0, 0); dangling when the view is empty.
    ptr: NonNull<T>,
    dims: Dims,
    _borrow: PhantomData<&'a T>,
}

impl<T> Clone for MatRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for MatRef<'_, T> {}

// SAFETY: a MatRef is a shared borrow of `T`s, as `&[T]` is: it may cross threads when
// `T: Sync`, and it is never written through.
unsafe impl<T: Sync> Send for MatRef<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for MatRef<'_, T> {}

impl<'a, T: Element> MatRef<'a, T> {
    /// A `rows × cols` view of `data` with element `(i, j)` at `data[i * row_stride + j * col_stride]`.
    ///
    /// Errors if an element lies outside `data` or the index arithmetic overflows. A zero
    /// stride is a broadcast: every element along that dimension is the same one.
    pub fn new(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, ViewError> {
        let dims = Dims::unsigned(rows, cols, row_stride, col_stride)?;
        Ok(MatRef { ptr: origin_in(data.as_ptr(), data.len(), 0, &dims)?, dims, _borrow: PhantomData })
    }

    /// A view with element `(0, 0)` at `data[origin]` and signed strides: element `(i, j)`
    /// is `data[origin + i·row_stride + j·col_stride]`. With `origin` at the last row and
    /// `row_stride` negative, the rows run backwards.
    ///
    /// ```
    /// # use matmul_core::MatRef;
    /// let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    /// // The 2 × 3 row-major matrix with its rows reversed.
    /// let v = MatRef::with_origin(&data, 3, 2, 3, -3, 1)?;
    /// assert_eq!(v.row_iter(0).collect::<Vec<_>>(), [4.0, 5.0, 6.0]);
    /// # Ok::<(), matmul_core::ViewError>(())
    /// ```
    pub fn with_origin(
        data: &'a [T],
        origin: usize,
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
    ) -> Result<Self, ViewError> {
        let dims = Dims { rows, cols, row_stride, col_stride };
        Ok(MatRef { ptr: origin_in(data.as_ptr(), data.len(), origin, &dims)?, dims, _borrow: PhantomData })
    }

    /// A view of the elements another owner vouches for: element `(i, j)` at
    /// `ptr.offset(i·row_stride + j·col_stride)`. Errors if an offset overflows `isize`
    /// or `ptr` is null for a non-empty view.
    ///
    /// # Safety
    /// For `'a`, every element of the view (each `(i, j)` with `i < rows`, `j < cols`) must
    /// be a valid, aligned, initialised `T`, all within one allocation, that nothing
    /// writes. Only the elements are borrowed: memory between them is never touched.
    pub unsafe fn from_raw_parts(
        ptr: *const T,
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
    ) -> Result<Self, ViewError> {
        let dims = Dims { rows, cols, row_stride, col_stride };
        Ok(MatRef { ptr: raw_origin(ptr, &dims)?, dims, _borrow: PhantomData })
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
        MatRef { dims: self.dims.t(), ..self }
    }

    /// The `rows × cols` block whose top-left element is `(row, col)`.
    pub fn block(self, row: usize, col: usize, rows: usize, cols: usize) -> Result<Self, ViewError> {
        let (offset, dims) = self.dims.block(row, col, rows, cols)?;
        // SAFETY: `offset` is that of an element of `self` (or 0), in its allocation.
        let ptr = unsafe { NonNull::new_unchecked(self.ptr.as_ptr().offset(offset)) };
        Ok(MatRef { ptr, dims, _borrow: PhantomData })
    }

    /// One plus the offset of the highest element, for a view whose strides are not
    /// negative: the elements of a slice from (0, 0) the view reaches.
    pub(crate) fn span(&self) -> usize {
        match self.dims.extent() {
            Ok((_, high)) if !self.is_empty() => high.unsigned_abs() + 1,
            _ => 0,
        }
    }

    shared_view_methods!();
}

/// A writable strided view of a matrix: an exclusive borrow of its `rows × cols`
/// elements, no two of which are the same memory.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    /// Element (0, 0); dangling when the view is empty.
    ptr: NonNull<T>,
    dims: Dims,
    _borrow: PhantomData<&'a mut T>,
}

// SAFETY: a MatMut is an exclusive borrow of distinct `T`s, as `&mut [T]` is.
unsafe impl<T: Send> Send for MatMut<'_, T> {}
// SAFETY: as above; `&MatMut` only reads.
unsafe impl<T: Sync> Sync for MatMut<'_, T> {}

impl<'a, T: Element> MatMut<'a, T> {
    fn checked(ptr: NonNull<T>, dims: Dims) -> Result<Self, ViewError> {
        if let Some((first, second)) = dims.self_overlap() {
            let (rows, cols, row_stride, col_stride) = (dims.rows, dims.cols, dims.row_stride, dims.col_stride);
            return Err(ViewError::SelfOverlap { rows, cols, row_stride, col_stride, first, second });
        }
        Ok(MatMut { ptr, dims, _borrow: PhantomData })
    }

    /// A writable `rows × cols` view of `data` with element `(i, j)` at
    /// `data[i * row_stride + j * col_stride]`.
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
        let dims = Dims::unsigned(rows, cols, row_stride, col_stride)?;
        Self::checked(origin_in(data.as_mut_ptr(), data.len(), 0, &dims)?, dims)
    }

    /// A writable view with element `(0, 0)` at `data[origin]` and signed strides (see
    /// [`MatRef::with_origin`]).
    pub fn with_origin(
        data: &'a mut [T],
        origin: usize,
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
    ) -> Result<Self, ViewError> {
        let dims = Dims { rows, cols, row_stride, col_stride };
        Self::checked(origin_in(data.as_mut_ptr(), data.len(), origin, &dims)?, dims)
    }

    /// A writable view of elements another owner lends exclusively (see
    /// [`MatRef::from_raw_parts`]). Errors also if two `(i, j)` are the same element.
    ///
    /// # Safety
    /// For `'a`, every element of the view must be a valid, aligned, initialised `T`, all
    /// within one allocation, that nothing else reads or writes. Memory between the
    /// elements is never touched.
    pub unsafe fn from_raw_parts(
        ptr: *mut T,
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
    ) -> Result<Self, ViewError> {
        let dims = Dims { rows, cols, row_stride, col_stride };
        Self::checked(raw_origin(ptr, &dims)?, dims)
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
        MatRef { ptr: self.ptr, dims: self.dims, _borrow: PhantomData }
    }

    /// A shorter-lived writable view of the same elements.
    #[inline]
    pub fn rb_mut(&mut self) -> MatMut<'_, T> {
        MatMut { ptr: self.ptr, dims: self.dims, _borrow: PhantomData }
    }

    /// The transpose: the same elements with rows and columns (and their strides) swapped.
    #[inline]
    pub fn t(self) -> Self {
        MatMut { dims: self.dims.t(), ..self }
    }

    /// The `rows × cols` block whose top-left element is `(row, col)`.
    pub fn block(self, row: usize, col: usize, rows: usize, cols: usize) -> Result<Self, ViewError> {
        let (offset, dims) = self.dims.block(row, col, rows, cols)?;
        // SAFETY: `offset` is that of an element of `self` (or 0), in its allocation.
        let ptr = unsafe { NonNull::new_unchecked(self.ptr.as_ptr().offset(offset)) };
        Ok(MatMut { ptr, dims, _borrow: PhantomData })
    }

    /// Writes `value` at `(i, j)`; returns `false` (and writes nothing) outside the view.
    #[inline]
    #[must_use = "false means (i, j) lies outside the view and nothing was written"]
    pub fn set(&mut self, i: usize, j: usize, value: T) -> bool {
        if i < self.dims.rows && j < self.dims.cols {
            // SAFETY: (i, j) is an element of the view, which `self` borrows exclusively.
            unsafe { *self.ptr_at(i, j) = value };
            true
        } else {
            false
        }
    }

    /// Pointer to element `(0, 0)`, writable (see [`MatRef::as_ptr`]).
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// Row `i` as a contiguous writable slice, when the column stride is 1 (or there is one column).
    #[inline]
    pub fn row_slice_mut(&mut self, i: usize) -> Option<&mut [T]> {
        if i >= self.dims.rows || (self.dims.col_stride != 1 && self.dims.cols > 1) {
            return None;
        }
        if self.dims.cols == 0 {
            return Some(&mut []);
        }
        // SAFETY: the row's `cols` elements are consecutive elements of the view, which
        // `self` borrows exclusively for the slice's life.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr_at(i, 0), self.dims.cols) })
    }

    /// Column `j` as a contiguous writable slice, when the row stride is 1 (or there is one row).
    #[inline]
    pub fn col_slice_mut(&mut self, j: usize) -> Option<&mut [T]> {
        if j >= self.dims.cols || (self.dims.row_stride != 1 && self.dims.rows > 1) {
            return None;
        }
        if self.dims.rows == 0 {
            return Some(&mut []);
        }
        // SAFETY: as in `row_slice_mut`, for the column's `rows` elements.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr_at(0, j), self.dims.rows) })
    }

    /// The elements of row `i`, writable, left to right. Panics if `i >= rows`.
    #[inline]
    pub fn row_iter_mut(&mut self, i: usize) -> impl Iterator<Item = &mut T> + '_ {
        assert!(i < self.dims.rows, "row {i} of a view with {} rows", self.dims.rows);
        let this = &*self;
        // SAFETY: each (i, j) is a distinct element of the view (no two share memory),
        // yielded once, and `self` stays borrowed exclusively while the references live.
        (0..self.dims.cols).map(move |j| unsafe { &mut *this.ptr_at(i, j) })
    }

    /// The elements of column `j`, writable, top to bottom. Panics if `j >= cols`.
    #[inline]
    pub fn col_iter_mut(&mut self, j: usize) -> impl Iterator<Item = &mut T> + '_ {
        assert!(j < self.dims.cols, "column {j} of a view with {} columns", self.dims.cols);
        let this = &*self;
        // SAFETY: as in `row_iter_mut`, along column j.
        (0..self.dims.rows).map(move |i| unsafe { &mut *this.ptr_at(i, j) })
    }

    /// Applies `f` to every element, row by row.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut T)) {
        for i in 0..self.dims.rows {
            self.row_iter_mut(i).for_each(&mut f);
        }
    }

    /// One plus the offset of the highest element, for a view whose strides are not
    /// negative (see [`MatRef::span`]).
    pub(crate) fn span(&self) -> usize {
        self.rb().span()
    }

    shared_view_methods!();
}

impl<'a, T: Element> From<MatMut<'a, T>> for MatRef<'a, T> {
    fn from(m: MatMut<'a, T>) -> Self {
        MatRef { ptr: m.ptr, dims: m.dims, _borrow: PhantomData }
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
        // A non-empty read view may broadcast; a writable one may not.
        let v = MatRef::new(&[1.5f64], 2, 3, 0, 0).unwrap();
        assert_eq!(v.to_matrix(crate::Layout::RowMajor).as_slice(), &[1.5; 6]);
        assert!(matches!(MatMut::new(&mut [1.0f64], 2, 1, 0, 1), Err(ViewError::SelfOverlap { .. })));
    }

    #[test]
    fn strides_as_isize() {
        let data = [0.0f32; 12];
        assert_eq!(MatRef::row_major_ld(&data, 2, 3, 5).unwrap().strides(), (5, 1));
        assert_eq!(MatRef::col_major(&data, 4, 3).unwrap().t().strides(), (4, 1));
        // One row: its row stride moves nothing and may be any usize.
        assert_eq!(MatRef::new(&data, 1, 3, usize::MAX, 1).unwrap().strides(), (0, 1));
        assert_eq!(
            MatRef::new(&data, 2, 3, usize::MAX, 1).unwrap_err(),
            ViewError::StrideTooLarge { stride: usize::MAX }
        );
        let reversed = MatRef::with_origin(&data, 11, 3, 4, -4, -1).unwrap();
        assert_eq!(reversed.unsigned_strides(), None);
        assert_eq!(reversed.t().block(1, 1, 1, 1).unwrap().unsigned_strides(), Some((0, 0)));
        assert_eq!(reversed.block(1, 0, 1, 4).unwrap().unsigned_strides(), None);
    }

    #[test]
    fn negative_strides_walk_backwards_inside_the_slice() {
        let data: Vec<f64> = (0..12).map(f64::from).collect();
        // Row-major 3 × 4 with rows and columns reversed: (0, 0) is the last element.
        let v = MatRef::with_origin(&data, 11, 3, 4, -4, -1).unwrap();
        assert_eq!(v.get(0, 0), Some(11.0));
        assert_eq!(v.get(2, 3), Some(0.0));
        assert_eq!(v.row_iter(1).collect::<Vec<_>>(), [7.0, 6.0, 5.0, 4.0]);
        assert_eq!(v.block(1, 1, 2, 2).unwrap().get(1, 1), Some(1.0));
        // Reversing again walks forwards: the row-major matrix itself.
        let fwd = v.reversed_rows().reversed_cols();
        assert_eq!((fwd.strides(), fwd.get(0, 1), fwd.get(2, 3)), ((4, 1), Some(1.0), Some(11.0)));
        // Reaching below element 0 or past the end is refused.
        let before = MatRef::with_origin(&data, 10, 3, 4, -4, -1).unwrap_err();
        assert_eq!(before, ViewError::BeforeStart { rows: 3, cols: 4, row_stride: -4, col_stride: -1, origin: 10 });
        assert!(matches!(MatRef::with_origin(&data, 10, 3, 1, 1, 1), Err(ViewError::OutOfBounds { needed: 13, .. })));
        assert!(MatRef::with_origin(&data, 9, 3, 1, 1, 1).is_ok());
        assert!(MatRef::with_origin(&data, 10, 3, 1, -1, 1).is_ok());
        // A writable reversed view writes where it reads.
        let mut buf = data.clone();
        let mut w = MatMut::with_origin(&mut buf, 11, 3, 4, -4, -1).unwrap();
        assert!(w.set(2, 3, -1.0));
        w.row_iter_mut(0).for_each(|x| *x *= 10.0);
        assert_eq!(buf[0], -1.0);
        assert_eq!(&buf[8..], &[80.0, 90.0, 100.0, 110.0]);
    }

    #[test]
    fn raw_parts_borrow_only_the_elements() {
        let mut data: Vec<f32> = (0..12).map(|x| x as f32).collect();
        let p = data.as_mut_ptr();
        // Two interleaved writable views of one buffer: even and odd columns of a 3 × 4
        // row-major matrix. Each borrows only its own elements, so both may live at once.
        // SAFETY: the two views' elements are disjoint, inside `data`, which is not
        // otherwise used while they live.
        let (mut even, odd) = unsafe {
            (MatMut::from_raw_parts(p, 3, 2, 4, 2).unwrap(), MatMut::from_raw_parts(p.add(1), 3, 2, 4, 2).unwrap())
        };
        for i in 0..3 {
            for j in 0..2 {
                assert!(even.set(i, j, odd.get(i, j).unwrap() * 2.0));
            }
        }
        assert_eq!(data, [2.0, 1.0, 6.0, 3.0, 10.0, 5.0, 14.0, 7.0, 18.0, 9.0, 22.0, 11.0]);
        // SAFETY: an empty view reads nothing, so a null pointer is fine.
        assert!(unsafe { MatRef::<f64>::from_raw_parts(std::ptr::null(), 0, 5, 1, 1) }.is_ok());
        // SAFETY: refused before any read.
        let null = unsafe { MatRef::<f64>::from_raw_parts(std::ptr::null(), 1, 1, 1, 1) };
        assert_eq!(null.unwrap_err(), ViewError::NullPointer { rows: 1, cols: 1 });
        // SAFETY: refused before any read.
        let huge = unsafe { MatRef::<f64>::from_raw_parts(std::ptr::dangling(), 3, 2, isize::MAX / 2 + 1, 1) };
        assert!(matches!(huge, Err(ViewError::IndexOverflow { .. })));
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
        assert_eq!(v.span(), 10);
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
        let err = MatRef::new(&data, 2, 1, usize::MAX / 2, 1).unwrap_err();
        assert!(matches!(err, ViewError::OutOfBounds { .. }), "{err}");
        let err = MatRef::new(&data, 2, 2, usize::MAX / 2, usize::MAX / 2).unwrap_err();
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
    fn zero_stride_read_view_is_a_broadcast() {
        let data = [1.0f64, 2.0, 3.0];
        let rows = MatRef::new(&data, 4, 3, 0, 1).unwrap();
        assert!((0..4).all(|i| rows.row_iter(i).eq([1.0, 2.0, 3.0])));
        assert_eq!(rows.col_slice(1), None);
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
                for rs in -7..8isize {
                    for cs in -7..8isize {
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
