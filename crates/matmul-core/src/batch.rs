//! Batches: many products in one call, validated once before any product runs.
//!
//! * [`StridedBatch`]: `count` products of one shape, `C_b ← α·A_b·B_b + β·C_b` for
//!   `b = 0 … count − 1`, where each operand's product `b` is its first matrix shifted by
//!   `b · batch_stride` elements in one slice (the layout of MKL's
//!   `cblas_?gemm_batch_strided` and cuBLAS's `?gemmStridedBatched`).
//! * [`GroupedBatch`]: a list of [`BatchGroup`]s, each with its own shape, α and β and any
//!   number of products given as views (MKL's grouped `cblas_?gemm_batch`). Every view may
//!   have its own layout and lie anywhere.
//!
//! A batch is validated when it is built: the shapes fit, every product's view lies inside
//! its slice (without overflow), and no two C's share an element (a strided batch checks
//! C's batch stride; the C's of a grouped batch are distinct `MatMut`s, which Rust's
//! borrows already keep apart). After that a backend runs the products without checking
//! each one again, and a bad batch is an error before any product has been written.
//!
//! A backend runs either kind ([`Batch`]) with one call, [`Backend::gemm_batch_f32`] /
//! [`Backend::gemm_batch_f64`], reached generically through
//! `<dyn Backend>::gemm_batch`. The default implementation calls the backend once per
//! product, in order; `simd` runs the whole batch after one dispatch and spreads small
//! products over its threads.
//!
//! ```
//! use matmul_core::{BatchOperand, StridedBatch};
//!
//! // 100 products of 3 × 3 row-major matrices, stored back to back.
//! let (count, n) = (100, 3);
//! let a: Vec<f64> = (0..count * n * n).map(|x| (x % 7) as f64).collect();
//! let b = vec![1.0; count * n * n];
//! let mut c = vec![0.0; count * n * n];
//! let operand = |data| BatchOperand::row_major(data, n, n, n * n);
//! let batch = StridedBatch::new(count, 1.0, operand(&a[..]), operand(&b[..]), 0.0, BatchOperand::row_major(&mut c[..], n, n, n * n))?;
//! assert_eq!(batch.len(), 100);
//! assert_eq!(batch.dims(), (3, 3, 3));
//! // `backend.gemm_batch(batch)` runs it on any `&dyn Backend`.
//! # Ok::<(), matmul_core::Error>(())
//! ```

use crate::error::ViewError;
use crate::{Backend, Error, MatMut, MatRef, Result, Scalar};

/// One operand of a strided batch: product `b`'s matrix is the `rows × cols` view with
/// these strides starting at element `b · batch_stride` of `data`.
#[derive(Clone, Copy, Debug)]
pub struct BatchOperand<S> {
    /// The slice every product's matrix lies in.
    pub data: S,
    pub rows: usize,
    pub cols: usize,
    /// Strides of each matrix, as [`MatRef::new`] takes them.
    pub row_stride: usize,
    pub col_stride: usize,
    /// Elements from one product's matrix to the next one's.
    pub batch_stride: usize,
}

impl<S> BatchOperand<S> {
    /// Row-major `rows × cols` matrices, `batch_stride` elements apart.
    pub fn row_major(data: S, rows: usize, cols: usize, batch_stride: usize) -> Self {
        BatchOperand { data, rows, cols, row_stride: cols, col_stride: 1, batch_stride }
    }

    /// Column-major `rows × cols` matrices, `batch_stride` elements apart.
    pub fn col_major(data: S, rows: usize, cols: usize, batch_stride: usize) -> Self {
        BatchOperand { data, rows, cols, row_stride: 1, col_stride: rows, batch_stride }
    }

    fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Where product `b`'s matrix starts.
    fn offset(&self, b: usize) -> usize {
        b * self.batch_stride
    }
}

/// Checks that the last product's view (and so, strides being non-negative, every
/// product's) lies inside `len` elements; returns one view's span.
fn check_operand<S>(
    op: &BatchOperand<S>,
    len: usize,
    count: usize,
    (span, (row_stride, col_stride)): (usize, (isize, isize)),
) -> Result<usize> {
    if count == 0 || op.rows == 0 || op.cols == 0 {
        return Ok(span);
    }
    let overflow = || ViewError::IndexOverflow { rows: op.rows, cols: op.cols, row_stride, col_stride };
    let last = (count - 1).checked_mul(op.batch_stride).ok_or_else(overflow)?;
    let needed = last.checked_add(span).ok_or_else(overflow)?;
    if needed > len {
        return Err(ViewError::OutOfBounds { rows: op.rows, cols: op.cols, row_stride, col_stride, needed, len }.into());
    }
    Ok(span)
}

/// A validated strided batch (`C_b ← α·A_b·B_b + β·C_b` for `b < len()`, each operand shifted by its batch stride; see [`BatchOperand`]).
#[derive(Debug)]
pub struct StridedBatch<'a, T> {
    count: usize,
    alpha: T,
    beta: T,
    a: BatchOperand<&'a [T]>,
    b: BatchOperand<&'a [T]>,
    c: BatchOperand<&'a mut [T]>,
}

impl<'a, T: Scalar> StridedBatch<'a, T> {
    /// Validates the batch: the shapes fit (A `m × k`, B `k × n`, C `m × n`), every
    /// product's views are valid and inside their slices, C's views do not overlap
    /// themselves ([`ViewError::SelfOverlap`]) or each other ([`ViewError::BatchOverlap`]:
    /// C's batch stride must be at least one C's span). Nothing is read or written.
    pub fn new(
        count: usize,
        alpha: T,
        a: BatchOperand<&'a [T]>,
        b: BatchOperand<&'a [T]>,
        beta: T,
        c: BatchOperand<&'a mut [T]>,
    ) -> Result<Self> {
        crate::backend::check_shapes(a.shape(), b.shape(), c.shape())?;
        let span_of = |op: &BatchOperand<&[T]>| -> Result<usize> {
            let view = MatRef::new(op.data, op.rows, op.cols, op.row_stride, op.col_stride)?;
            check_operand(op, op.data.len(), count, (view.span(), view.strides()))
        };
        span_of(&a)?;
        span_of(&b)?;
        let c_len = c.data.len();
        let view = MatMut::new(&mut *c.data, c.rows, c.cols, c.row_stride, c.col_stride)?;
        let (span, strides) = (view.span(), view.strides());
        let c_span = check_operand(&c, c_len, count, (span, strides))?;
        if count > 1 && c_span > 0 && c.batch_stride < c_span {
            return Err(Error::InvalidView(ViewError::BatchOverlap {
                count,
                batch_stride: c.batch_stride,
                span: c_span,
            }));
        }
        Ok(StridedBatch { count, alpha, beta, a, b, c })
    }

    /// Products in the batch.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it has no product.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// α and β, the same for every product.
    pub fn scalars(&self) -> (T, T) {
        (self.alpha, self.beta)
    }

    /// (m, n, k) of every product.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.a.rows, self.b.cols, self.a.cols)
    }

    /// Runs every product on `backend`, in batch order, one call each (the first error
    /// stops the batch; with a validated batch only an unavailable backend fails).
    pub fn run_each<B: Backend + ?Sized>(&mut self, backend: &B) -> Result<()> {
        let (alpha, beta) = (self.alpha, self.beta);
        self.for_each_product(|a, b, c| T::gemm(backend, alpha, a, b, beta, c))
    }

    /// The three operands as the batch was built (slice, shape, strides, batch stride),
    /// for a backend that hands the whole batch to one library call. C's is a reborrow: the
    /// batch's own geometry cannot be changed through it.
    #[allow(clippy::type_complexity)] // (A, B, C), destructured at once by the caller
    pub fn operands_mut(&mut self) -> (BatchOperand<&'a [T]>, BatchOperand<&'a [T]>, BatchOperand<&mut [T]>) {
        (self.a, self.b, BatchOperand { data: &mut *self.c.data, ..self.c })
    }

    /// A shorter-lived handle to the same batch (to hand to a call that consumes it).
    pub fn reborrow(&mut self) -> StridedBatch<'_, T> {
        let (count, alpha, beta) = (self.count, self.alpha, self.beta);
        let (a, b, c) = self.operands_mut();
        StridedBatch { count, alpha, beta, a, b, c }
    }

    /// Calls `f` on every product's views, in batch order, making each view as it goes
    /// (no allocation); the first error stops it.
    pub fn for_each_product(
        &mut self,
        mut f: impl FnMut(MatRef<'a, T>, MatRef<'a, T>, MatMut<'_, T>) -> Result<()>,
    ) -> Result<()> {
        let c = &mut self.c;
        for p in 0..self.count {
            let start = c.offset(p).min(c.data.len());
            // Validated by `new`: every product's C lies inside C's slice.
            let view = MatMut::new(&mut c.data[start..], c.rows, c.cols, c.row_stride, c.col_stride)
                .expect("validated when the batch was built");
            f(Self::input(&self.a, p), Self::input(&self.b, p), view)?;
        }
        Ok(())
    }

    /// The first `p` products and the rest, as two batches (`p` at most [`len`](Self::len)):
    /// their C's are disjoint, so two threads may run them.
    pub fn split_at(self, p: usize) -> (StridedBatch<'a, T>, StridedBatch<'a, T>) {
        assert!(p <= self.count, "split_at({p}) of a batch of {}", self.count);
        let StridedBatch { count, alpha, beta, a, b, c } = self;
        let shift = |op: BatchOperand<&'a [T]>| {
            let at = op.offset(p).min(op.data.len());
            BatchOperand { data: &op.data[at..], ..op }
        };
        // A C spans at most its batch stride (checked by `new`), so the first p C's lie in
        // the first p strides.
        let at = c.offset(p).min(c.data.len());
        let (head, tail) = c.data.split_at_mut(at);
        let (c_head, c_tail) = (BatchOperand { data: head, ..c }, BatchOperand { data: tail, ..c });
        (
            StridedBatch { count: p, alpha, beta, a, b, c: c_head },
            StridedBatch { count: count - p, alpha, beta, a: shift(a), b: shift(b), c: c_tail },
        )
    }

    fn input(op: &BatchOperand<&'a [T]>, b: usize) -> MatRef<'a, T> {
        MatRef::new(&op.data[op.offset(b)..], op.rows, op.cols, op.row_stride, op.col_stride)
            .expect("validated when the batch was built")
    }

    /// Every product's (A, B, C) views, in batch order. C's views borrow disjoint parts of
    /// C's slice (each its batch stride long, the last to the end), so different threads
    /// may write them.
    pub fn products(&mut self) -> Vec<(MatRef<'a, T>, MatRef<'a, T>, MatMut<'_, T>)> {
        let c = &mut self.c;
        let (rows, cols, rs, cs, stride) = (c.rows, c.cols, c.row_stride, c.col_stride, c.batch_stride);
        let mut out = Vec::with_capacity(self.count);
        let mut rest: &mut [T] = &mut *c.data;
        for p in 0..self.count {
            let take = if p + 1 < self.count { stride.min(rest.len()) } else { rest.len() };
            let (mine, next) = std::mem::take(&mut rest).split_at_mut(take);
            rest = next;
            // A C spans at most its batch stride (checked by `new`), so it lies in `mine`.
            let c = MatMut::new(mine, rows, cols, rs, cs).expect("validated when the batch was built");
            out.push((Self::input(&self.a, p), Self::input(&self.b, p), c));
        }
        out
    }
}

/// One product of a batch: its A, B and C views.
pub type BatchProduct<'a, T> = (MatRef<'a, T>, MatRef<'a, T>, MatMut<'a, T>);

/// Products of one shape (A `m × k`, B `k × n`, C `m × n`) with one α and β: a group of
/// a [`GroupedBatch`]. Each product's views may have their own layout.
#[derive(Debug)]
pub struct BatchGroup<'a, T> {
    dims: (usize, usize, usize),
    alpha: T,
    beta: T,
    products: Vec<BatchProduct<'a, T>>,
}

impl<'a, T: Scalar> BatchGroup<'a, T> {
    /// A group of products of shape `(m, n, k)`; [`GroupedBatch::new`] checks them.
    pub fn new(dims: (usize, usize, usize), alpha: T, beta: T, products: Vec<BatchProduct<'a, T>>) -> Self {
        BatchGroup { dims, alpha, beta, products }
    }

    /// The index of the first product whose shapes are not the group's.
    fn first_misfit(&self) -> Option<(usize, [(usize, usize); 3])> {
        let (m, n, k) = self.dims;
        self.products.iter().enumerate().find_map(|(index, (a, b, c))| {
            let found = [a.shape(), b.shape(), c.shape()];
            (found != [(m, k), (k, n), (m, n)]).then_some((index, found))
        })
    }

    /// (m, n, k) of every product.
    pub fn dims(&self) -> (usize, usize, usize) {
        self.dims
    }

    /// α and β of every product.
    pub fn scalars(&self) -> (T, T) {
        (self.alpha, self.beta)
    }

    /// Products in the group.
    pub fn len(&self) -> usize {
        self.products.len()
    }

    /// Whether it has no product.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// The products' views, in order.
    pub fn products_mut(&mut self) -> &mut [BatchProduct<'a, T>] {
        &mut self.products
    }
}

/// Groups of products, each group with its own shape, α and β: MKL's grouped
/// `cblas_?gemm_batch`, checked as a whole when it is built.
///
/// ```
/// use matmul_core::{BatchGroup, Error, GroupedBatch, Layout, Matrix};
///
/// let a = Matrix::<f32>::from_fn(2, 3, Layout::RowMajor, |i, j| (i + j) as f32);
/// let b = Matrix::<f32>::from_fn(3, 4, Layout::ColMajor, |i, j| (i * j) as f32);
/// let (mut c0, mut c1) = (Matrix::<f32>::zeros(2, 4, Layout::RowMajor), Matrix::<f32>::zeros(4, 2, Layout::RowMajor));
/// // Group 0: C0 = A·B; group 1: C1 = Bᵀ·Aᵀ, 2 × the transposed views.
/// let g0 = BatchGroup::new((2, 4, 3), 1.0, 0.0, vec![(a.as_ref(), b.as_ref(), c0.as_mut())]);
/// let g1 = BatchGroup::new((4, 2, 3), 2.0, 0.0, vec![(b.as_ref().t(), a.as_ref().t(), c1.as_mut())]);
/// let batch = GroupedBatch::new(vec![g0, g1])?;
/// assert_eq!(batch.len(), 2);
///
/// // A product of the wrong shape is refused, naming the group and the product.
/// let mut c2 = Matrix::<f32>::zeros(2, 4, Layout::RowMajor);
/// let g = BatchGroup::new((2, 4, 3), 1.0, 0.0, vec![(a.as_ref(), a.as_ref().t(), c2.as_mut())]);
/// let err = GroupedBatch::new(vec![g]).unwrap_err();
/// assert!(matches!(err, Error::BatchShape { group: 0, product: 0, .. }));
/// assert_eq!(err.to_string(), "product 0 of batch group 0 has A 2×3, B 3×2, C 2×4, not the group's m 2, n 4, k 3");
/// # Ok::<(), matmul_core::Error>(())
/// ```
#[derive(Debug)]
pub struct GroupedBatch<'a, T> {
    groups: Vec<BatchGroup<'a, T>>,
}

impl<'a, T: Scalar> GroupedBatch<'a, T> {
    /// Checks every product's shapes against its group's (the first misfit is an
    /// [`Error::BatchShape`] naming it); nothing is read or written. The groups run in
    /// this order.
    pub fn new(groups: Vec<BatchGroup<'a, T>>) -> Result<Self> {
        for (group, g) in groups.iter().enumerate() {
            if let Some((product, found)) = g.first_misfit() {
                return Err(Error::BatchShape { group, product, dims: g.dims, found });
            }
        }
        Ok(GroupedBatch { groups })
    }

    /// Products in every group.
    pub fn len(&self) -> usize {
        self.groups.iter().map(BatchGroup::len).sum()
    }

    /// Whether it has no product.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The groups.
    pub fn groups_mut(&mut self) -> &mut [BatchGroup<'a, T>] {
        &mut self.groups
    }

    /// Runs every product, group by group and in order, one [`Backend`] call each. The
    /// first error stops the batch.
    pub fn run_each<B: Backend + ?Sized>(mut self, backend: &B) -> Result<()> {
        for group in &mut self.groups {
            let (alpha, beta) = group.scalars();
            for (a, b, c) in group.products_mut() {
                T::gemm(backend, alpha, *a, *b, beta, c.rb_mut())?;
            }
        }
        Ok(())
    }
}

/// A batch as a backend receives it: strided or grouped (see the module docs).
#[derive(Debug)]
pub enum Batch<'a, T> {
    /// Products of one shape at fixed strides.
    Strided(StridedBatch<'a, T>),
    /// Groups of products given as views.
    Grouped(GroupedBatch<'a, T>),
}

impl<T: Scalar> Batch<'_, T> {
    /// Products in the batch.
    pub fn len(&self) -> usize {
        match self {
            Batch::Strided(s) => s.len(),
            Batch::Grouped(g) => g.len(),
        }
    }

    /// Whether it has no product.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs every product on `backend`, in order, one call each: the default of
    /// [`Backend::gemm_batch_f32`] / [`Backend::gemm_batch_f64`]. The first error stops it.
    pub fn run_each<B: Backend + ?Sized>(self, backend: &B) -> Result<()> {
        match self {
            Batch::Strided(mut s) => s.run_each(backend),
            Batch::Grouped(g) => g.run_each(backend),
        }
    }
}

impl<'a, T> From<StridedBatch<'a, T>> for Batch<'a, T> {
    fn from(batch: StridedBatch<'a, T>) -> Self {
        Batch::Strided(batch)
    }
}

impl<'a, T> From<GroupedBatch<'a, T>> for Batch<'a, T> {
    fn from(batch: GroupedBatch<'a, T>) -> Self {
        Batch::Grouped(batch)
    }
}
