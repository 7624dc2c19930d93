//! GEMM on NVIDIA GPUs: our own CUDA kernels, one design step at a time from the textbook
//! to the tensor cores, and cuBLAS, behind the workspace's [`Backend`](matmul_core::Backend) trait.
//!
//! A newcomer's map:
//!
//! * [`kernels`]: the CUDA C sources (`src/kernels/*.cu`), the table of tile
//!   configurations and the launch contract every kernel keeps;
//! * [`nvrtc`]: CUDA C → CUBIN through NVRTC, and the ptxas report (registers, shared
//!   memory, spills) the compile gate checks;
//! * [`host`]: the host side with no CUDA in it (BLAS special cases, packing any strided
//!   view, cuBLAS's row-major ↔ column-major swap), tested on every machine;
//! * `device`: the process's GPU, found once, its compiled kernels, cuBLAS handle and
//!   pinned staging buffers;
//! * `backend`: [`CudaBackend`], the host-slice GEMM and the device-resident
//!   [`CudaBackend::gemm_device`];
//! * `resident`: [`DeviceMatrices`] (operands uploaded once), [`CudaBackend::time_kernel`]
//!   and [`CudaBackend::time_config`] (the kernel's own time, by CUDA events) and
//!   [`DeviceMatrices::copy_rates`] (the copies' GB/s), for the bench runner and
//!   `matmul-cli gpu-sweep`; unverified on hardware;
//! * [`peak`]: the GPU's theoretical peak from its compute capability, SMs and clock.
//!
//! # Backends
//!
//! | name | f32 | f64 | bf16, f16 inputs (C in f32) |
//! |---|---|---|---|
//! | `cuda-naive` ([`CUDA_NAIVE`]) | one thread per element | same | — |
//! | `cuda-tiled` ([`CUDA_TILED`]) | 32 × 32 shared tiles | same | — |
//! | `cuda-regtile` ([`CUDA_REGTILE`]) | 128 × 128 blocks, 8 × 8 per thread, 16-byte loads | same | — |
//! | `cuda-warptile` ([`CUDA_WARPTILE`]) | warp tiles, cp.async double buffering, swizzled A | same code, 64 × 64 blocks | widened to f32 into shared memory, FP32 FMAs |
//! | `cuda-dmma` ([`CUDA_DMMA`]) | the warptile kernel (no f32 DMMA exists) | tensor cores, `mma.sync.m8n8k4.f64` | — |
//! | `cublas` ([`CUBLAS`]) | `cublasSgemm` | `cublasDgemm` | `cublasGemmEx`, `CUBLAS_COMPUTE_32F` |
//!
//! A "—" is [`matmul_core::Error::UnsupportedDtype`] on every machine, and
//! [`supports`](matmul_core::Backend::supports) says so. Half inputs go through the
//! host-slice path; the device-resident API ([`CudaBackend::gemm_device`],
//! [`DeviceMatrices`]) is f32 and f64 ([`CudaScalar`]).
//!
//! **Status: the kernels have not run on a GPU yet.** Every configuration compiles to
//! `sm_90` machine code without spills within its shared-memory budget (the NVRTC gate,
//! `tests/nvrtc_gate.rs`), and runs on the CPU, its CUDA C unchanged, under an emulation
//! with AddressSanitizer, ThreadSanitizer and a shared-memory bank model
//! (`tests/emulated_kernels.rs`); the inline PTX as the hardware runs it, cuBLAS, the
//! copies, the timing and every speed are checked only on a GPU.
//!
//! # Two levels of API
//!
//! * The trait's host-slice GEMM takes any strided views: A, B (and C unless β = 0) are
//!   packed row-major into a pinned (page-locked) staging buffer that is kept and reused
//!   by later calls, copied up, multiplied, and C is copied back and unpacked. One host
//!   call runs at a time per process (they share the staging buffers).
//! * [`CudaBackend::gemm_device`] multiplies row-major buffers already on the GPU and only
//!   queues the kernel, so the kernel's own time can be measured.
//!
//! # No GPU
//!
//! On a machine without the driver library, without a device, without NVRTC (our
//! kernels) or without cuBLAS (`cublas`), [`availability`](matmul_core::Backend::availability) says which, and every
//! call returns [`matmul_core::Error::BackendUnavailable`]; nothing panics. The probe runs
//! once per process.
//!
//! ```
//! use matmul_core::{Availability, Backend, Error, Layout, Matrix};
//!
//! let backend: &dyn Backend = &matmul_cuda::CUDA_REGTILE;
//! let a = Matrix::<f32>::from_fn(3, 2, Layout::RowMajor, |i, j| (i + j) as f32);
//! let b = Matrix::<f32>::from_fn(2, 4, Layout::ColMajor, |i, j| (i * j) as f32);
//! let mut c = Matrix::<f32>::zeros(3, 4, Layout::RowMajor);
//! match backend.availability() {
//!     Availability::Available => {
//!         backend.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
//!         assert_eq!(c.get(2, 3), Some(9.0));
//!     }
//!     Availability::Unavailable(reason) => {
//!         let err = backend.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap_err();
//!         assert!(matches!(err, Error::BackendUnavailable { .. }), "{reason}");
//!     }
//! }
//! # Ok::<(), matmul_core::Error>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod backend;
mod device;
pub mod host;
pub mod kernels;
pub mod nvrtc;
pub mod peak;
mod resident;

pub use backend::{
    CudaBackend, DeviceGemm, Method, ALL, CUBLAS, CUDA_DMMA, CUDA_NAIVE, CUDA_REGTILE, CUDA_TILED, CUDA_WARPTILE,
};
pub use device::{cublas_present, driver_present, gpu, CudaAccumulator, CudaElement, CudaScalar, Gpu, NO_DRIVER};
pub use host::Dims;
pub use resident::{CopyRates, DeviceMatrices, KernelTimes, KernelTiming};

/// cudarc, re-exported so that users of [`CudaBackend::gemm_device`] allocate device
/// buffers with the same version.
pub use cudarc;
