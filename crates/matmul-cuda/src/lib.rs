//! CUDA backend (work in progress).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod kernels;
pub mod nvrtc;
