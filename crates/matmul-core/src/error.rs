//! Every way a call into this workspace can be refused.

/// Shape of a matrix as (rows, columns), printed as `rows×cols`.
pub(crate) fn fmt_shape(s: &(usize, usize)) -> String {
    format!("{}×{}", s.0, s.1)
}

/// Why a view could not be constructed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The last element of the view lies past the end of the slice.
    #[error("a {rows}×{cols} view with row stride {row_stride} and column stride {col_stride} needs {needed} elements but the slice has {len}")]
    OutOfBounds {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Row stride asked for.
        row_stride: isize,
        /// Column stride asked for.
        col_stride: isize,
        /// Elements of the slice the view needs: the index of its highest element plus one.
        needed: usize,
        /// Length of the slice.
        len: usize,
    },
    /// Computing the offset of an element from `(0, 0)` overflowed `isize` (no allocation
    /// is that large).
    #[error("a {rows}×{cols} view with row stride {row_stride} and column stride {col_stride} overflows isize offset arithmetic")]
    IndexOverflow {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Row stride asked for.
        row_stride: isize,
        /// Column stride asked for.
        col_stride: isize,
    },
    /// A stride 0 along a dimension of more than one element where one element may not
    /// stand for several: in C (a broadcast is fine in A and B).
    #[error("a {rows}×{cols} view with row stride {row_stride} and column stride {col_stride} has a zero stride along a dimension of more than one element")]
    ZeroStride {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Row stride asked for.
        row_stride: isize,
        /// Column stride asked for.
        col_stride: isize,
    },
    /// The view reaches below the start of its slice: with a negative stride, some
    /// element lies before element 0.
    #[error("a {rows}×{cols} view at element {origin} with row stride {row_stride} and column stride {col_stride} reaches before the start of its slice")]
    BeforeStart {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Row stride asked for.
        row_stride: isize,
        /// Column stride asked for.
        col_stride: isize,
        /// Index of element `(0, 0)` in the slice.
        origin: usize,
    },
    /// A stride given as `usize` is larger than `isize::MAX`, along a dimension of two or
    /// more elements: no allocation spans it.
    #[error("stride {stride} exceeds isize::MAX")]
    StrideTooLarge {
        /// The stride asked for.
        stride: usize,
    },
    /// A view of one or more elements was given a null pointer.
    #[error("a {rows}×{cols} view was given a null pointer")]
    NullPointer {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
    },
    /// Two distinct (i, j) of a writable view would address the same element.
    #[error("a writable {rows}×{cols} view with row stride {row_stride} and column stride {col_stride} overlaps itself: elements {first:?} and {second:?} are the same memory")]
    SelfOverlap {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Row stride asked for.
        row_stride: isize,
        /// Column stride asked for.
        col_stride: isize,
        /// One (row, column) of a colliding pair.
        first: (usize, usize),
        /// The other (row, column) of the pair.
        second: (usize, usize),
    },
    /// A sub-block reaches outside the view it is taken from.
    #[error("sub-block at ({row}, {col}) of size {} does not fit in a {} view", fmt_shape(&(*.rows, *.cols)), fmt_shape(.parent))]
    BlockOutOfRange {
        /// First row of the block.
        row: usize,
        /// First column of the block.
        col: usize,
        /// Rows of the block.
        rows: usize,
        /// Columns of the block.
        cols: usize,
        /// Shape of the view the block was asked of.
        parent: (usize, usize),
    },
    /// An owned matrix of this shape cannot exist: its element count overflows `usize`
    /// or its buffer cannot be allocated.
    #[error("a {} matrix of {element_bytes}-byte elements does not fit in memory", fmt_shape(&(*.rows, *.cols)))]
    TooLarge {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
        /// Size of one element in bytes.
        element_bytes: usize,
    },
    /// Two products of a strided batch would write the same elements of C: the batch
    /// stride is shorter than one C's span.
    #[error("a batch of {count} C's {batch_stride} elements apart overlaps: each C spans {span} elements")]
    BatchOverlap {
        /// Products in the batch.
        count: usize,
        /// Elements between one C's element (0, 0) and the next one's.
        batch_stride: usize,
        /// Elements from one C's first element to its last, inclusive.
        span: usize,
    },
    /// A buffer handed to an owned matrix has the wrong length.
    #[error("a {} matrix needs {expected} elements but the buffer has {len}", fmt_shape(.shape))]
    BufferLength {
        /// Shape asked for.
        shape: (usize, usize),
        /// rows × cols.
        expected: usize,
        /// Length of the buffer.
        len: usize,
    },
}

/// The error type of every fallible call in the workspace.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operands of `C ← α·A·B + β·C` do not fit together.
    #[error("shape mismatch: {what}: {} and {}", fmt_shape(.left), fmt_shape(.right))]
    ShapeMismatch {
        /// Which rule was broken, e.g. "A's columns must equal B's rows (A, B)".
        what: &'static str,
        /// Shape of the first operand named in `what`.
        left: (usize, usize),
        /// Shape of the second operand named in `what`.
        right: (usize, usize),
    },
    /// A product of a [`GroupedBatch`](crate::GroupedBatch) does not have its group's shape.
    #[error(
        "product {product} of batch group {group} has A {}, B {}, C {}, not the group's m {}, n {}, k {}",
        fmt_shape(&.found[0]), fmt_shape(&.found[1]), fmt_shape(&.found[2]), .dims.0, .dims.1, .dims.2
    )]
    BatchShape {
        /// Index of the group.
        group: usize,
        /// Index of the product in its group.
        product: usize,
        /// The group's (m, n, k).
        dims: (usize, usize, usize),
        /// The product's shapes of A, B and C.
        found: [(usize, usize); 3],
    },
    /// A view could not be constructed.
    #[error("invalid view: {0}")]
    InvalidView(#[from] ViewError),
    /// No compiled backend has this name.
    #[error("unknown backend {name:?}; compiled backends: {}", .available.join(", "))]
    UnknownBackend {
        /// The name asked for.
        name: String,
        /// The names of the compiled backends.
        available: Vec<String>,
    },
    /// The backend is compiled in but cannot run here (no GPU, library missing, …).
    #[error("backend {backend} is unavailable: {reason}")]
    BackendUnavailable {
        /// Backend name.
        backend: String,
        /// Why it cannot run.
        reason: String,
    },
    /// The backend does not multiply this element type (a BLAS library without a bf16
    /// GEMM, a GPU backend without half kernels): it converts nothing behind the caller's back.
    #[error("backend {backend} does not multiply {dtype} inputs")]
    UnsupportedDtype {
        /// Backend name.
        backend: String,
        /// The element type of A and B asked for.
        dtype: crate::Dtype,
    },
    /// The backend itself failed (a library call returned an error, a size exceeds
    /// what the library can address, …).
    #[error("backend {backend} failed: {message}")]
    Backend {
        /// Backend name.
        backend: String,
        /// What went wrong.
        message: String,
        /// The library's own error (a CUDA or BLAS error type), when there is one;
        /// [`std::error::Error::source`] returns it.
        #[source]
        source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

impl Error {
    /// An [`Error::Backend`] with a message and no source error.
    pub fn backend(backend: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Backend { backend: backend.into(), message: message.into(), source: None }
    }

    /// An [`Error::Backend`] caused by `source`, the library's own error.
    pub fn backend_with_source(
        backend: impl Into<String>,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Backend { backend: backend.into(), message: message.into(), source: Some(std::sync::Arc::new(source)) }
    }
}
