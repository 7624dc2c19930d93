//! What the bench measures of a GPU backend beyond the host-slice call every backend gets:
//! the larger sweep sizes, and the device-resident figures (the kernel's own time and the
//! copies' GB/s, [`GpuFigures`]).
//!
//! **Unverified on hardware**: the device paths were written and compile-checked on a
//! machine without a GPU. They run only for a backend whose availability is `Available`
//! (the bench selects no other), and every failure is an error message, never a panic.

use matmul::Backend;
use matmul_bench_format::runner::{GpuFigures, GpuPeak};
use matmul_bench_format::Dtype;
use matmul_core::BackendKind;

use super::measure::{Operands, Timing};

/// The backends fast enough for n = 8192 within the default per-call budget. One 8192³
/// product is 2·8192³ ≈ 1.1·10¹² flops: about 30 ms at 35 TFLOP/s, roughly half of a
/// Hopper GPU's FP32 peak (an H200: 132 SMs × 1980 MHz × 128 FMAs × 2 ≈ 67 TFLOP/s), the
/// range that register- and warp-tiled kernels, DMMA and cuBLAS aim at. `cuda-naive` and
/// `cuda-tiled` are limited by memory traffic to a small fraction of the peak, and gain
/// nothing from 8192 that 4096 does not show. (An estimate from the peak, not a
/// measurement: the kernels are not yet verified on a GPU.)
const FAST_AT_8192: [&str; 4] = ["cuda-regtile", "cuda-warptile", "cuda-dmma", "cublas"];

/// The square sizes a backend gets in the sweep beyond the default ones, which stop at
/// 2048 for every backend: 4096 for every GPU backend, and 8192 too for the fast ones.
/// None for CPU backends, so their points never change. The runner adds these only when
/// the sizes are the defaults (no `--sizes`, no `--quick`), and still skips a size whose
/// call is predicted to be over `--max-call`.
pub fn extra_sweep_sizes(kind: BackendKind, name: &str) -> &'static [usize] {
    match kind {
        BackendKind::Gpu if FAST_AT_8192.contains(&name) => &[4096, 8192],
        BackendKind::Gpu => &[4096],
        _ => &[],
    }
}

/// The kernel-only time and the copies' rates of `b` at a point whose A and B are
/// row-major (the device layout: another layout's host-slice time includes a repacking
/// the device figures would not), or `None` where they do not apply: a CPU backend, a
/// point with a column-major operand, or a runner built without `cuda`. `Some(Err)`
/// carries why the measurement failed.
pub fn figures<T: matmul::Element>(
    b: &dyn Backend,
    ops: &Operands<T>,
    timing: Timing,
) -> Option<Result<GpuFigures, String>> {
    if b.kind() != BackendKind::Gpu
        || ops.a.layout() != matmul::Layout::RowMajor
        || ops.b.layout() != matmul::Layout::RowMajor
    {
        return None;
    }
    device::figures(b, ops, timing)
}

/// The GPU's theoretical peak of each dtype, when one of `backends` is a GPU backend and
/// the GPU's compute capability is in matmul-cuda's table; a line says why not otherwise.
pub fn peaks(backends: &[&dyn Backend], dtypes: &[Dtype]) -> Vec<GpuPeak> {
    if !backends.iter().any(|b| b.kind() == BackendKind::Gpu) {
        return Vec::new();
    }
    device::peaks(dtypes)
}

#[cfg(feature = "cuda")]
mod device {
    use std::any::Any;

    use matmul::Backend;
    use matmul_bench_format::runner::{GpuFigures, GpuPeak};
    use matmul_bench_format::Dtype;
    use matmul_cuda::{CudaBackend, CudaScalar, DeviceMatrices, Dims, KernelTiming};

    use super::{Operands, Timing};

    /// The peaks of the process's GPU (`matmul_cuda::peak`).
    pub fn peaks(dtypes: &[Dtype]) -> Vec<GpuPeak> {
        let Ok(gpu) = matmul_cuda::gpu() else { return Vec::new() };
        let mut out = Vec::new();
        for &dtype in dtypes {
            match gpu.peak(dtype) {
                Ok(p) => {
                    println!("GPU peak {dtype}: {:.1} GFLOP/s ({}, {})", p.gflops, gpu.name, p.basis);
                    out.push(GpuPeak { device: gpu.name.clone(), dtype, gflops: p.gflops, basis: p.basis });
                }
                Err(why) => println!("GPU peak {dtype}: none ({why})"),
            }
        }
        out
    }

    pub fn figures<T: matmul::Element>(
        b: &dyn Backend,
        ops: &Operands<T>,
        timing: Timing,
    ) -> Option<Result<GpuFigures, String>> {
        let cuda = matmul_cuda::ALL.iter().copied().find(|c| c.name() == b.name())?;
        let dims = Dims { m: ops.a.nrows(), n: ops.b.ncols(), k: ops.a.ncols() };
        // The bench is generic over its two scalars; the CUDA API is generic over the
        // same two through another trait: find which one T is.
        let (a, bm) = (&ops.a as &dyn Any, &ops.b as &dyn Any);
        if let (Some(a), Some(bm)) = (a.downcast_ref::<matmul::Matrix<f32>>(), bm.downcast_ref()) {
            return Some(measure::<f32>(cuda, a, bm, dims, timing));
        }
        if let (Some(a), Some(bm)) = (a.downcast_ref::<matmul::Matrix<f64>>(), bm.downcast_ref()) {
            return Some(measure::<f64>(cuda, a, bm, dims, timing));
        }
        None
    }

    fn measure<T: CudaScalar>(
        cuda: &CudaBackend,
        a: &matmul::Matrix<T>,
        b: &matmul::Matrix<T>,
        dims: Dims,
        timing: Timing,
    ) -> Result<GpuFigures, String> {
        let mut on_gpu = DeviceMatrices::upload(cuda, a.as_slice(), b.as_slice(), dims).map_err(|e| e.to_string())?;
        let kernel = cuda
            .time_kernel(&mut on_gpu, KernelTiming { min_time: timing.min_time, min_samples: timing.min_samples })
            .map_err(|e| e.to_string())?;
        let copies = on_gpu.copy_rates(cuda, a.as_slice(), b.as_slice()).map_err(|e| e.to_string())?;
        Ok(GpuFigures {
            kernel_seconds_median: kernel.median,
            kernel_seconds_min: kernel.min,
            h2d_gbps: copies.h2d_gbps,
            d2h_gbps: copies.d2h_gbps,
            pinned: copies.pinned,
        })
    }
}

#[cfg(not(feature = "cuda"))]
mod device {
    use matmul::Backend;
    use matmul_bench_format::runner::{GpuFigures, GpuPeak};
    use matmul_bench_format::Dtype;

    use super::{Operands, Timing};

    /// Built without `cuda`: no GPU.
    pub fn peaks(_: &[Dtype]) -> Vec<GpuPeak> {
        Vec::new()
    }

    /// Built without `cuda`: there is no GPU backend to measure.
    pub fn figures<T: matmul::Element>(
        _: &dyn Backend,
        _: &Operands<T>,
        _: Timing,
    ) -> Option<Result<GpuFigures, String>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_backends_get_no_extra_sizes_and_gpu_ones_4096_or_8192() {
        assert_eq!(extra_sweep_sizes(BackendKind::Blas, "cublas"), &[] as &[usize]);
        assert_eq!(extra_sweep_sizes(BackendKind::Simd, "simd"), &[] as &[usize]);
        assert_eq!(extra_sweep_sizes(BackendKind::Gpu, "cuda-naive"), &[4096]);
        assert_eq!(extra_sweep_sizes(BackendKind::Gpu, "cuda-tiled"), &[4096]);
        assert_eq!(extra_sweep_sizes(BackendKind::Gpu, "cublas"), &[4096, 8192]);
    }

    /// The fast list names real backends: a renamed one would silently lose 8192.
    #[cfg(feature = "cuda")]
    #[test]
    fn the_fast_list_names_cuda_backends() {
        let names: Vec<&str> = matmul_cuda::ALL.iter().map(|b| b.name()).collect();
        for fast in FAST_AT_8192 {
            assert!(names.contains(&fast), "{fast} is not one of {names:?}");
        }
    }

    /// Without a GPU (this machine), figures are never attempted for an unavailable
    /// backend by the bench, and a CPU backend gets none.
    #[test]
    fn a_cpu_backend_has_no_gpu_figures() {
        let ops = Operands::<f64> {
            a: super::super::measure::random_matrix(2, 2, 1),
            b: super::super::measure::random_matrix(2, 2, 2),
            c_layout: matmul::Layout::RowMajor,
            sample: vec![],
        };
        let timing = Timing { min_time: 0.0, min_samples: 1, target_rounds: 1, order_seed: 0 };
        let naive = super::super::contenders().into_iter().find(|b| b.name() == "naive-ikj").unwrap();
        assert!(figures(naive, &ops, timing).is_none());
    }
}
