//! The pieces every matmul backend shares.
//!
//! * [`Element`]: the element types of A and B, `f32`, `f64`, `bf16` and `f16` (sealed),
//!   each named by a [`Dtype`], each with its accumulator type (the type of C): [`Scalar`],
//!   `f32` or `f64`. The half types come from the [`half`] crate, re-exported here.
//! * [`MatRef`] / [`MatMut`]: strided views of a matrix inside a slice. Row-major,
//!   column-major, transposed, padded and sub-block views are all the same type.
//! * [`Matrix`]: an owned matrix that knows its [`Layout`]; [`Layouts`] names A's, B's
//!   and C's in one product (`rcr`).
//! * [`Backend`]: one object-safe trait, `C ← α·A·B + β·C` with BLAS semantics.
//! * [`StridedBatch`] and [`GroupedBatch`]: many products in one call, validated once.
//! * [`Error`]: every way a call can be refused.
//! * [`Isa`]: the CPU instruction sets the kernels are written for, and which one this CPU has.
//! * [`reference`](mod@reference): the higher-precision result and the error bound every backend is held to.
//!
//! ```
//! use matmul_core::{Matrix, Layout, MatRef};
//!
//! let a = Matrix::<f64>::from_fn(2, 3, Layout::RowMajor, |i, j| (i * 3 + j) as f64);
//! // The transpose is a view with its strides swapped: no copy.
//! let at: MatRef<'_, f64> = a.as_ref().t();
//! assert_eq!((at.nrows(), at.ncols()), (3, 2));
//! assert_eq!(at.get(2, 1), Some(5.0));
//! ```
#![deny(unsafe_code)]

mod backend;
mod batch;
mod dtype;
mod error;
pub mod isa;
mod matrix;
pub mod reference;
mod scalar;
#[cfg(feature = "testing")]
pub mod testing;
// The one module with `unsafe`: views hold a pointer and strides, not a slice, so that
// they borrow only their elements (see its docs); each block says why it is sound.
#[allow(unsafe_code)]
mod view;

pub use backend::{check_shapes, scale_c, Availability, Backend, BackendKind, GemmPlan};
pub use batch::{Batch, BatchGroup, BatchOperand, BatchProduct, GroupedBatch, StridedBatch};
pub use dtype::{Dtype, UnknownDtype};
pub use error::{Error, ViewError};
/// The `half` crate, whose [`bf16`](half::bf16) and [`f16`](half::f16) are the half-precision
/// [`Element`]s.
pub use half;
pub use isa::Isa;
pub use matrix::{Layout, Layouts, Matrix, UnknownLayouts};
pub use scalar::{Element, Scalar};
pub use view::{MatMut, MatRef};

/// The result type of every fallible call in this workspace.
pub type Result<T, E = Error> = std::result::Result<T, E>;
