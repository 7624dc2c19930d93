//! Timing on operands that already live on the GPU: the kernel's own time, and the rates
//! of the copies the host-slice path adds around it. The bench runner uses this to report
//! a GPU backend kernel-only and with transfers side by side.
//!
//! **Unverified on hardware**: written and compile-checked on a machine without a GPU;
//! no line of the device paths here has run yet. Every entry point first asks the
//! backend's availability, so without a GPU each returns
//! [`Error::BackendUnavailable`] and nothing panics.
//!
//! ```no_run
//! use matmul_cuda::{DeviceMatrices, Dims, KernelTiming, CUBLAS};
//!
//! let dims = Dims { m: 1024, n: 1024, k: 1024 };
//! let (a, b) = (vec![1.0f32; 1024 * 1024], vec![2.0f32; 1024 * 1024]);
//! let mut ops = DeviceMatrices::upload(&CUBLAS, &a, &b, dims)?;
//! let t = CUBLAS.time_kernel(&mut ops, KernelTiming { min_time: 0.2, min_samples: 5 })?;
//! let copies = ops.copy_rates(&CUBLAS, &a, &b)?;
//! println!("{:.0} GFLOP/s, {:.1} GB/s up", 2e-9 * 1024f64.powi(3) / t.median, copies.h2d_gbps);
//! # Ok::<(), matmul_core::Error>(())
//! ```

use cudarc::driver::sys::CUevent_flags;
use cudarc::driver::{CudaEvent, CudaSlice, CudaStream};
use matmul_core::{Error, Result};

use crate::backend::{CudaBackend, DeviceGemm};
use crate::device::{staging, CudaScalar};
use crate::host::Dims;

/// A, B and C of one product on the GPU, row-major and contiguous, allocated on the
/// crate's context: the operands of [`CudaBackend::gemm_device`].
pub struct DeviceMatrices<T: CudaScalar> {
    a: CudaSlice<T>,
    b: CudaSlice<T>,
    c: CudaSlice<T>,
    dims: Dims,
}

impl<T: CudaScalar> std::fmt::Debug for DeviceMatrices<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceMatrices").field("dims", &self.dims).finish_non_exhaustive()
    }
}

/// How long [`CudaBackend::time_kernel`] measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelTiming {
    /// The timed calls add up to at least this many seconds.
    pub min_time: f64,
    /// At least this many samples (each one batch of calls between two events).
    pub min_samples: usize,
}

/// What [`CudaBackend::time_kernel`] measured, in seconds per call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelTimes {
    /// The median sample.
    pub median: f64,
    /// The fastest sample.
    pub min: f64,
    /// Samples taken.
    pub samples: usize,
    /// Calls timed in all.
    pub calls: usize,
}

/// The copy rates of one product's operands, in GB/s (10⁹ bytes per second).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CopyRates {
    /// A and B, host → device.
    pub h2d_gbps: f64,
    /// C, device → host.
    pub d2h_gbps: f64,
    /// Whether the host side was pinned (page-locked) memory: always true here, since the
    /// copies go through the same pinned staging buffer as the host-slice path.
    pub pinned: bool,
}

/// A timing event on `stream` (timing enabled: the default flags).
fn event(backend: &str, stream: &CudaStream) -> Result<CudaEvent> {
    stream
        .record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))
        .map_err(|e| Error::backend_with_source(backend, "cannot record a CUDA event", e))
}

/// Seconds between two recorded events (waits for the second).
fn seconds(backend: &str, start: &CudaEvent, end: &CudaEvent) -> Result<f64> {
    let ms = start.elapsed_ms(end).map_err(|e| Error::backend_with_source(backend, "cannot time a CUDA event", e))?;
    Ok(f64::from(ms) / 1e3)
}

/// How many calls a batch holds so that one sample lasts about `target` seconds, given
/// that one call took `one`; at least 1, at most 1000.
fn batch_size(one: f64, target: f64) -> usize {
    if one.is_finite() && one > 0.0 {
        (target / one).ceil().clamp(1.0, 1000.0) as usize
    } else {
        1
    }
}

/// The median of `samples` (not empty), sorted in place.
fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2.0
    }
}

impl<T: CudaScalar> DeviceMatrices<T> {
    /// Copies row-major A (`m × k`) and B (`k × n`) to the GPU and allocates a zeroed C
    /// (`m × n`), after checking that `backend` can run here and the slices' lengths.
    /// Waits until the copies are done.
    pub fn upload(backend: &CudaBackend, a: &[T], b: &[T], dims: Dims) -> Result<Self> {
        let name = matmul_core::Backend::name(backend);
        let gpu = backend.ready()?;
        let dims = Dims::new(name, dims.m, dims.n, dims.k)?;
        let [la, lb, lc] = dims.lens().ok_or_else(|| Error::backend(name, "the matrices' sizes overflow usize"))?;
        if a.len() != la || b.len() != lb {
            return Err(Error::backend(
                name,
                format!(
                    "a {}×{}×{} product needs A of {la} and B of {lb} elements; got {} and {}",
                    dims.m,
                    dims.n,
                    dims.k,
                    a.len(),
                    b.len()
                ),
            ));
        }
        let err = |what: &'static str| move |e| Error::backend_with_source(name, what, e);
        let stream = gpu.stream();
        let a = stream.clone_htod(a).map_err(err("copying A to the GPU"))?;
        let b = stream.clone_htod(b).map_err(err("copying B to the GPU"))?;
        let c = stream.alloc_zeros::<T>(lc).map_err(err("allocating C on the GPU"))?;
        stream.synchronize().map_err(err("waiting for the GPU"))?;
        Ok(DeviceMatrices { a, b, c, dims })
    }

    /// The product's dimensions.
    pub fn dims(&self) -> Dims {
        self.dims
    }

    /// C, copied back to the host (after whatever was queued before it on the stream).
    pub fn download_c(&self, backend: &CudaBackend) -> Result<Vec<T>> {
        let name = matmul_core::Backend::name(backend);
        let gpu = backend.ready()?;
        let err = |what: &'static str| move |e| Error::backend_with_source(name, what, e);
        let c = gpu.stream().clone_dtoh(&self.c).map_err(err("copying C from the GPU"))?;
        gpu.stream().synchronize().map_err(err("waiting for the GPU"))?;
        Ok(c)
    }

    /// The host ↔ device copy rates of these operands: A and B uploaded from the host
    /// slices `a` and `b` (the same values as uploaded, so the operands on the GPU do not
    /// change), C downloaded; each the best of three, timed by CUDA events. The host side
    /// is the pinned staging buffer the host-slice path uses (the values are copied into
    /// it first, untimed), so the rates are those that path's transfers get.
    pub fn copy_rates(&mut self, backend: &CudaBackend, a: &[T], b: &[T]) -> Result<CopyRates> {
        let name = matmul_core::Backend::name(backend);
        let gpu = backend.ready()?;
        let [la, lb, lc] =
            self.dims.lens().ok_or_else(|| Error::backend(name, "the matrices' sizes overflow usize"))?;
        if a.len() != la || b.len() != lb {
            return Err(Error::backend(name, "copy_rates needs the A and B that were uploaded"));
        }
        let err = |what: &'static str| move |e| Error::backend_with_source(name, what, e);
        let _one_at_a_time = gpu.lock_host_calls();
        let mut slot = T::staging(gpu).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let host = staging(name, gpu, &mut slot, (la + lb).max(lc))?;
        host[..la].copy_from_slice(a);
        host[la..la + lb].copy_from_slice(b);
        let stream = gpu.stream();
        let size = std::mem::size_of::<T>() as f64;
        let (mut up, mut down) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..3 {
            let start = event(name, stream)?;
            stream.memcpy_htod(&host[..la], &mut self.a).map_err(err("copying A to the GPU"))?;
            stream.memcpy_htod(&host[la..la + lb], &mut self.b).map_err(err("copying B to the GPU"))?;
            let mid = event(name, stream)?;
            stream.memcpy_dtoh(&self.c, &mut host[..lc]).map_err(err("copying C from the GPU"))?;
            let end = event(name, stream)?;
            up = up.min(seconds(name, &start, &mid)?);
            down = down.min(seconds(name, &mid, &end)?);
        }
        // The copies read and write `host` asynchronously: wait before the borrow ends.
        stream.synchronize().map_err(err("waiting for the GPU"))?;
        Ok(CopyRates {
            h2d_gbps: (la + lb) as f64 * size / up / 1e9,
            d2h_gbps: lc as f64 * size / down / 1e9,
            pinned: true,
        })
    }
}

impl CudaBackend {
    /// Times `C ← A·B` ([`CudaBackend::gemm_device`], α = 1, β = 0) on operands already
    /// on the GPU: one warm-up call (kernel compilation and loading happen there), one
    /// call timed to size the batches, then batches of calls each between two CUDA events
    /// on the stream, until `timing` is met. No copy is timed. C holds the product after.
    ///
    /// Unverified on hardware (see the module docs).
    pub fn time_kernel<T: CudaScalar>(&self, ops: &mut DeviceMatrices<T>, timing: KernelTiming) -> Result<KernelTimes> {
        self.time_calls(None, ops, timing)
    }

    /// [`time_kernel`](Self::time_kernel) of row `config` of [`crate::kernels::CONFIGS`]
    /// ([`CudaBackend::gemm_device_config`]): one point of a tile sweep.
    ///
    /// Unverified on hardware (see the module docs).
    pub fn time_config<T: CudaScalar>(
        &self,
        config: usize,
        ops: &mut DeviceMatrices<T>,
        timing: KernelTiming,
    ) -> Result<KernelTimes> {
        self.time_calls(Some(config), ops, timing)
    }

    fn time_calls<T: CudaScalar>(
        &self,
        config: Option<usize>,
        ops: &mut DeviceMatrices<T>,
        timing: KernelTiming,
    ) -> Result<KernelTimes> {
        let name = matmul_core::Backend::name(self);
        let gpu = self.ready()?;
        let stream = gpu.stream();
        let dims = ops.dims;
        let DeviceMatrices { a, b, c, .. } = ops;
        let mut call = || {
            let gemm = DeviceGemm { dims, alpha: T::ONE, beta: T::ZERO, a: &*a, b: &*b, c: &mut *c };
            match config {
                None => self.gemm_device(gemm),
                Some(row) => self.gemm_device_config(row, gemm),
            }
        };
        call()?;
        stream.synchronize().map_err(|e| Error::backend_with_source(name, "waiting for the warm-up", e))?;
        let start = event(name, stream)?;
        call()?;
        let one = seconds(name, &start, &event(name, stream)?)?;
        let min_samples = timing.min_samples.max(1);
        let batch = batch_size(one, timing.min_time / min_samples as f64);
        let (mut samples, mut total) = (Vec::new(), 0.0);
        // A sample cap keeps a GPU far faster than the budget assumes from looping long.
        while samples.len() < min_samples || (total < timing.min_time && samples.len() < 1000) {
            let start = event(name, stream)?;
            for _ in 0..batch {
                call()?;
            }
            let s = seconds(name, &start, &event(name, stream)?)?;
            total += s;
            samples.push(s / batch as f64);
        }
        let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
        Ok(KernelTimes { median: median(&mut samples), min, samples: samples.len(), calls: samples.len() * batch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_last_about_the_target_and_stay_in_bounds() {
        assert_eq!(batch_size(1e-3, 0.04), 40);
        assert_eq!(batch_size(1.0, 0.04), 1);
        assert_eq!(batch_size(1e-9, 1.0), 1000);
        assert_eq!(batch_size(0.0, 1.0), 1);
        assert_eq!(batch_size(f64::NAN, 1.0), 1);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    /// Without a GPU every entry point says the backend is unavailable; with one, a tiny
    /// product runs (that branch has not yet been run on a GPU).
    #[test]
    fn without_a_gpu_the_entry_points_refuse_cleanly() {
        let dims = Dims { m: 2, n: 3, k: 4 };
        let (a, b) = (vec![1.0f32; 8], vec![1.0f32; 12]);
        match DeviceMatrices::upload(&crate::CUBLAS, &a, &b, dims) {
            Err(Error::BackendUnavailable { backend, .. }) => assert_eq!(backend, "cublas"),
            Err(other) => panic!("{other}"),
            Ok(mut ops) => {
                let t = crate::CUBLAS.time_kernel(&mut ops, KernelTiming { min_time: 0.001, min_samples: 2 }).unwrap();
                assert!(t.median > 0.0 && t.samples >= 2);
                assert!(ops.copy_rates(&crate::CUBLAS, &a, &b).unwrap().h2d_gbps > 0.0);
                // Every entry of C = A·B is k = 4 (exact in f32).
                assert_eq!(ops.download_c(&crate::CUBLAS).unwrap(), vec![4.0f32; 6]);
                for row in crate::CUDA_WARPTILE.configs(crate::kernels::Dtype::F32) {
                    let timing = KernelTiming { min_time: 0.001, min_samples: 1 };
                    crate::CUDA_WARPTILE.time_config(row, &mut ops, timing).unwrap();
                    assert_eq!(ops.download_c(&crate::CUBLAS).unwrap(), vec![4.0f32; 6], "row {row}");
                }
            }
        }
    }

    #[test]
    fn each_backend_lists_the_rows_it_can_launch_default_first() {
        use crate::kernels::{Dtype, Kernel, CONFIGS};
        let count = |kernel, dtype| CONFIGS.iter().filter(|c| c.kernel() == kernel && c.dtype == dtype).count();
        let rows = crate::CUDA_WARPTILE.configs(Dtype::F32);
        assert_eq!(rows.len(), count(Kernel::WarpTile, Dtype::F32));
        assert!(rows.len() > 1, "the sweep has alternatives to the default");
        assert!(CONFIGS[rows[0]].default);
        assert!(rows.iter().all(|&r| CONFIGS[r].kernel() == Kernel::WarpTile && CONFIGS[r].dtype == Dtype::F32));
        // cuda-dmma in f32 runs the warp-tiled kernel; cuBLAS has no rows.
        assert_eq!(crate::CUDA_DMMA.configs(Dtype::F32), rows);
        assert_eq!(crate::CUDA_DMMA.configs(Dtype::F64).len(), count(Kernel::Dmma, Dtype::F64));
        assert!(crate::CUBLAS.configs(Dtype::F64).is_empty());
        // Every row belongs to exactly one backend's list per dtype (cuda-dmma f32 aside).
        let listed: usize =
            [&crate::CUDA_NAIVE, &crate::CUDA_TILED, &crate::CUDA_REGTILE, &crate::CUDA_WARPTILE, &crate::CUDA_DMMA]
                .iter()
                .map(|b| Dtype::ALL.into_iter().map(|d| b.configs(d).len()).sum::<usize>())
                .sum();
        // Half inputs: warptile's rows only.
        for dtype in [Dtype::Bf16, Dtype::F16] {
            assert_eq!(crate::CUDA_WARPTILE.configs(dtype).len(), count(Kernel::WarpTile, dtype));
            assert!(crate::CUDA_DMMA.configs(dtype).is_empty() && crate::CUDA_REGTILE.configs(dtype).is_empty());
        }
        assert_eq!(listed, CONFIGS.len() + rows.len());
    }
}
