//! Strided batches: `count` products of one shape, `C_b ← α·A_b·B_b + β·C_b` for
//! `b = 0 … count − 1`, where each operand's product `b` is its first matrix shifted by
//! `b · batch_stride` elements in one slice (the layout of MKL's
//! `cblas_?gemm_batch_strided` and cuBLAS's `?gemmStridedBatched`).
//!
//! A batch is validated once, when it is built: the shapes fit, every product's view lies
//! inside its slice (without overflow), and no two C's share an element. After that the
//! backend runs the products without checking each one again, and a bad batch is an error
//! before any product has been written.
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
//! # Ok::<(), matmul_core::Error>(())
//! ```

use crate::error::ViewError;
use crate::{Backend, Error, MatMut, MatRef, Result, Scalar};

/// One operand of a strided batch: product `b`'s matrix is the `rows × cols` view with
/// these strides starting at element `b · batch_stride` of `data`.
#[derive(Debug)]
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
    pub fn run_each(&mut self, backend: &dyn Backend) -> Result<()> {
        let (alpha, beta) = (self.alpha, self.beta);
        for (a, b, c) in self.products() {
            backend.gemm(alpha, a, b, beta, c)?;
        }
        Ok(())
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
