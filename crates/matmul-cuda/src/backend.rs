//! The backends: one type, [`CudaBackend`], for our kernels and for cuBLAS, the host-slice
//! GEMM of the [`Backend`] trait and the device-resident [`CudaBackend::gemm_device`].

use std::sync::OnceLock;

use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::GemmConfig;
use cudarc::driver::{CudaSlice, LaunchConfig, PushKernelArg};
use matmul_core::{Availability, Backend, BackendKind, Element, Error, MatMut, MatRef, Result};

use crate::device::{gpu, staging, CudaAccumulator, CudaElement, CudaScalar, Gpu};
use crate::host::{self, Dims, HostGemm, Packed, Staging};
use crate::kernels::{default_config, Dtype, Kernel, CONFIGS};
use crate::nvrtc;

/// One product on buffers already on the GPU (`C ← α·A·B + β·C`, row-major, contiguous):
/// what [`CudaBackend::gemm_device`] and the launchers take, the host path's [`Packed`]
/// with device buffers.
pub type DeviceGemm<'s, T> = Packed<'s, T, CudaSlice<T>, CudaSlice<T>>;

/// What the launchers take, for any [`CudaElement`]: A and B in its device type, C in its
/// accumulator ([`DeviceGemm`] is this for `f32` and `f64`).
type DeviceLaunch<'s, E> = Packed<'s, E, CudaSlice<<E as CudaElement>::Device>, CudaSlice<<E as Element>::Acc>>;

/// What a backend runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One of our kernels.
    Kernel(Kernel),
    /// cuBLAS `sgemm`/`dgemm` in its default math mode (pure FP32/FP64, no TF32), and
    /// `cublasGemmEx` with `CUBLAS_COMPUTE_32F` for bf16 and f16 inputs (C in f32).
    Cublas,
}

/// A GPU backend (see the crate docs for the list).
#[derive(Debug)]
pub struct CudaBackend {
    name: &'static str,
    description: &'static str,
    method: Method,
    /// The availability, found on the first ask and kept for the process.
    availability: OnceLock<Availability>,
}

impl CudaBackend {
    const fn new(name: &'static str, description: &'static str, method: Method) -> Self {
        CudaBackend { name, description, method, availability: OnceLock::new() }
    }

    /// What it runs.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The kernel it launches for `dtype`: its own, except `cuda-dmma` in f32, which has
    /// no single-precision DMMA and runs the warp-tiled kernel. Whether that kernel has a
    /// configuration in `dtype` is [`Backend::supports`]'s question (only the warp-tiled
    /// kernel reads half inputs).
    pub fn kernel_for(&self, dtype: Dtype) -> Option<Kernel> {
        match (self.method, dtype) {
            (Method::Kernel(Kernel::Dmma), Dtype::F32) => Some(Kernel::WarpTile),
            (Method::Kernel(k), _) => Some(k),
            (Method::Cublas, _) => None,
        }
    }

    fn find_availability(&self) -> Availability {
        let gpu = match gpu() {
            Ok(gpu) => gpu,
            Err(reason) => return Availability::Unavailable(reason.to_owned()),
        };
        match self.method {
            Method::Kernel(kernel) => {
                if !nvrtc::is_present() {
                    return Availability::Unavailable(nvrtc::missing());
                }
                let need = kernel.min_compute_capability();
                if gpu.compute_capability < need {
                    return Availability::Unavailable(format!(
                        "{} has compute capability {}.{}; this kernel needs {}.{} (cp.async{})",
                        gpu.name,
                        gpu.compute_capability.0,
                        gpu.compute_capability.1,
                        need.0,
                        need.1,
                        if kernel == Kernel::Dmma { ", DMMA" } else { "" }
                    ));
                }
                Availability::Available
            }
            Method::Cublas => match gpu.cublas() {
                Ok(_) => Availability::Available,
                Err(reason) => Availability::Unavailable(reason),
            },
        }
    }

    /// The GPU, if this backend can run on it; else [`Error::BackendUnavailable`].
    pub(crate) fn ready(&self) -> Result<&'static Gpu> {
        match self.availability() {
            Availability::Available => gpu().map_err(|reason| self.unavailable(reason.to_owned())),
            Availability::Unavailable(reason) => Err(self.unavailable(reason)),
        }
    }

    fn unavailable(&self, reason: String) -> Error {
        Error::BackendUnavailable { backend: self.name.to_owned(), reason }
    }

    /// `C ← α·A·B + β·C` on matrices already on the GPU: A `m × k`, B `k × n`, C `m × n`,
    /// row-major and contiguous, in buffers allocated on [`crate::gpu`]'s context. Only
    /// the kernel (or cuBLAS) runs: no copy, no packing. The call is **asynchronous**: it
    /// returns once the work is queued on the crate's stream ([`Gpu::stream`]); synchronise
    /// that stream (or copy C back, which does) before reading C, and to time the kernel.
    ///
    /// Rules: `m, n, k ≥ 1`, α ≠ 0 (the BLAS special cases are the host API's: this one
    /// only multiplies), each buffer at least as long as its matrix, and C distinct from A
    /// and B (the borrow checker ensures it). β = 0 writes C without reading it. A broken
    /// rule is an [`Error::Backend`], never a launch.
    ///
    /// ```no_run
    /// use matmul_cuda::{DeviceGemm, Dims, CUDA_WARPTILE};
    ///
    /// let (m, n, k) = (1024, 1024, 1024);
    /// let gpu = matmul_cuda::gpu().map_err(|why| format!("no GPU: {why}"))?;
    /// let stream = gpu.stream();
    /// let a = stream.clone_htod(&vec![1.0f32; m * k])?;
    /// let b = stream.clone_htod(&vec![2.0f32; k * n])?;
    /// let mut c = stream.alloc_zeros::<f32>(m * n)?;
    /// CUDA_WARPTILE.gemm_device(DeviceGemm { dims: Dims { m, n, k }, alpha: 1.0, beta: 0.0, a: &a, b: &b, c: &mut c })?;
    /// stream.synchronize()?; // the kernel has finished here
    /// let c = stream.clone_dtoh(&c)?;
    /// assert_eq!(c[0], 2.0 * k as f32);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gemm_device<T: CudaScalar>(&self, gemm: DeviceGemm<'_, T>) -> Result<()> {
        self.device_call(None, gemm)
    }

    /// [`gemm_device`](Self::gemm_device) with row `config` of [`CONFIGS`] instead of the
    /// backend's default tiles: the entry point of a tile sweep. The row must be of the
    /// kernel this backend launches for `T` ([`CudaBackend::kernel_for`]); any other is an
    /// [`Error::Backend`], as is cuBLAS, which has no rows.
    pub fn gemm_device_config<T: CudaScalar>(&self, config: usize, gemm: DeviceGemm<'_, T>) -> Result<()> {
        self.device_call(Some(config), gemm)
    }

    /// The rows of [`CONFIGS`] this backend can launch for `dtype`, the default first.
    pub fn configs(&self, dtype: Dtype) -> Vec<usize> {
        let Some(kernel) = self.kernel_for(dtype) else { return Vec::new() };
        let mut rows: Vec<usize> =
            (0..CONFIGS.len()).filter(|&i| CONFIGS[i].kernel() == kernel && CONFIGS[i].dtype == dtype).collect();
        rows.sort_by_key(|&i| !CONFIGS[i].default);
        rows
    }

    fn device_call<T: CudaScalar>(&self, config: Option<usize>, gemm: DeviceGemm<'_, T>) -> Result<()> {
        let gpu = self.ready()?;
        let DeviceGemm { dims, alpha, a, b, c, .. } = &gemm;
        let dims = Dims::new(self.name, dims.m, dims.n, dims.k)?;
        if *alpha == T::ZERO {
            return Err(Error::backend(self.name, "gemm_device needs α ≠ 0 (the host-slice gemm handles α = 0)"));
        }
        let lens = dims.lens().ok_or_else(|| Error::backend(self.name, "the matrices' sizes overflow usize"))?;
        for ((what, need), have) in
            [("A", lens[0]), ("B", lens[1]), ("C", lens[2])].into_iter().zip([a.len(), b.len(), c.len()])
        {
            if have < need {
                return Err(Error::backend(
                    self.name,
                    format!(
                        "device buffer {what} has {have} elements; a {}×{}×{} product needs {need}",
                        dims.m, dims.n, dims.k
                    ),
                ));
            }
        }
        self.launch::<T>(gpu, config, DeviceGemm { dims, ..gemm })
    }

    /// Queues the product on the stream, with row `config` of [`CONFIGS`] or the default
    /// one. Lengths and dims were checked by the caller.
    fn launch<E: CudaElement>(&self, gpu: &Gpu, config: Option<usize>, gemm: DeviceLaunch<'_, E>) -> Result<()> {
        let dtype = E::DTYPE;
        let Some(kernel) = self.kernel_for(dtype) else {
            if let Some(index) = config {
                return Err(Error::backend(
                    self.name,
                    format!("cuBLAS has no kernel configuration (asked for row {index})"),
                ));
            }
            return self.launch_cublas(gpu, gemm);
        };
        let (index, config) = match config {
            None => default_config(kernel, dtype)
                .ok_or_else(|| Error::backend(self.name, format!("no {kernel:?} kernel for {}", dtype.as_str())))?,
            Some(index) => match CONFIGS.get(index) {
                Some(c) if c.kernel() == kernel && c.dtype == dtype => (index, c),
                _ => {
                    return Err(Error::backend(
                        self.name,
                        format!(
                            "row {index} of the kernel configurations is not a {kernel:?} kernel for {}",
                            dtype.as_str()
                        ),
                    ))
                }
            },
        };
        let function = gpu.function(index).map_err(|message| Error::backend(self.name, message))?;
        let DeviceLaunch { dims, alpha, beta, a, b, c } = gemm;
        let (gx, gy) = config.grid(dims.m, dims.n).ok_or_else(|| {
            Error::backend(self.name, format!("a {}×{} C needs more blocks than a CUDA grid holds", dims.m, dims.n))
        })?;
        let [m, n, k] = dims.as_i32();
        let cfg = LaunchConfig {
            grid_dim: (gx, gy, 1),
            block_dim: (config.block().0, config.block().1, 1),
            shared_mem_bytes: 0,
        };
        let mut launch = gpu.stream().launch_builder(function);
        launch.arg(&m).arg(&n).arg(&k).arg(&alpha).arg(a).arg(b).arg(&beta).arg(c);
        // SAFETY: the arguments match the kernel's signature in order and type (the
        // contract in `kernels`: three ints, Acc, two const T*, Acc, Acc*, where T's device
        // type has T's bits and Acc is E::Acc); A, B and C hold at
        // least m·k, k·n and m·n elements (checked by `gemm_device`, or allocated so by
        // `run_on_gpu`) and are distinct allocations; 1 ≤ m, n, k ≤ i32::MAX (`Dims::new`);
        // the grid covers C with the configuration's tiles and the block is the one it
        // was compiled for; the kernel guards every access beyond m, n, k.
        unsafe { launch.launch(cfg) }.map_err(|e| Error::backend_with_source(self.name, "kernel launch failed", e))?;
        Ok(())
    }

    fn launch_cublas<E: CudaElement>(&self, gpu: &Gpu, gemm: DeviceLaunch<'_, E>) -> Result<()> {
        let DeviceLaunch { dims, alpha, beta, a, b, c } = gemm;
        let blas = gpu.cublas().map_err(|reason| self.unavailable(reason))?;
        let call = host::row_major_as_col_major(dims);
        // Every value fits an i32: each is m, n or k, checked by `Dims::new`.
        let int = |v: usize| v as i32;
        let cfg = GemmConfig {
            transa: cublasOperation_t::CUBLAS_OP_N,
            transb: cublasOperation_t::CUBLAS_OP_N,
            m: int(call.m),
            n: int(call.n),
            k: int(call.k),
            alpha,
            lda: int(call.lda),
            ldb: int(call.ldb),
            beta,
            ldc: int(call.ldc),
        };
        // SAFETY: `row_major_as_col_major` describes our row-major B (k·n elements), A
        // (m·k) and C (m·n) as the column-major n×k, k×m and n×m operands of the call, with
        // the minimal leading dimensions; the buffers hold at least that many elements
        // (checked by `gemm_device` or allocated so by `run_on_gpu`), on the crate's context;
        // the handle was created on the crate's stream (`Gpu::cublas`). cuBLAS does not read
        // C when β = 0.
        unsafe { E::cublas_gemm(blas, gpu.stream(), cfg, b, a, c) }
            .map_err(|e| Error::backend_with_source(self.name, "cuBLAS gemm failed", e))
    }

    /// The device step of the host-slice path: upload, multiply, download, wait.
    fn run_on_gpu<E: CudaElement>(&self, gpu: &Gpu, p: Packed<'_, E>) -> Result<()> {
        let err = |what: &'static str| move |e| Error::backend_with_source(self.name, what, e);
        let stream = gpu.stream();
        let a = stream.clone_htod(E::as_device(p.a)).map_err(err("copying A to the GPU"))?;
        let b = stream.clone_htod(E::as_device(p.b)).map_err(err("copying B to the GPU"))?;
        // With β = 0 C is neither read on the host nor copied up: the kernel writes it.
        let mut c = if p.beta == E::Acc::ZERO {
            stream.alloc_zeros::<E::Acc>(p.c.len()).map_err(err("allocating C on the GPU"))?
        } else {
            stream.clone_htod(&*p.c).map_err(err("copying C to the GPU"))?
        };
        self.launch::<E>(
            gpu,
            None,
            DeviceLaunch { dims: p.dims, alpha: p.alpha, beta: p.beta, a: &a, b: &b, c: &mut c },
        )?;
        stream.memcpy_dtoh(&c, p.c).map_err(err("copying C from the GPU"))?;
        stream.synchronize().map_err(err("waiting for the GPU"))
    }

    /// The host-slice GEMM of every element type: A and B packed into `E`'s pinned staging
    /// buffer, C into its accumulator's. An element type this backend has no kernel for
    /// is [`Error::UnsupportedDtype`], on any machine.
    fn host_gemm<E: CudaElement>(
        &self,
        alpha: E::Acc,
        a: MatRef<'_, E>,
        b: MatRef<'_, E>,
        beta: E::Acc,
        c: MatMut<'_, E::Acc>,
    ) -> Result<()> {
        if !self.supports(E::DTYPE) {
            return Err(Error::UnsupportedDtype { backend: self.name.to_owned(), dtype: E::DTYPE });
        }
        let gpu = self.ready()?;
        let _one_at_a_time = gpu.lock_host_calls();
        let mut ab_slot = E::staging(gpu).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut c_slot = E::Acc::c_staging(gpu).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (ab_slot, c_slot) = (&mut *ab_slot, &mut *c_slot);
        host::run_packed(
            self.name,
            HostGemm { alpha, a, b, beta, c },
            move |ab_len, c_len| {
                let ab = E::from_device_mut(staging(self.name, gpu, ab_slot, ab_len)?);
                Ok(Staging { ab, c: staging(self.name, gpu, c_slot, c_len)? })
            },
            |packed| self.run_on_gpu(gpu, packed),
        )
    }

    /// The element types it multiplies, for [`Backend::details`]: `f32, f64, bf16, f16`.
    fn dtypes(&self) -> String {
        let names: Vec<&str> = Dtype::ALL.into_iter().filter(|&d| self.supports(d)).map(Dtype::as_str).collect();
        names.join(", ")
    }
}

impl Backend for CudaBackend {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Gpu
    }
    fn availability(&self) -> Availability {
        self.availability.get_or_init(|| self.find_availability()).clone()
    }
    fn details(&self) -> String {
        let Ok(gpu) = gpu() else { return String::new() };
        let device = gpu.describe();
        let dtypes = self.dtypes();
        match self.method {
            Method::Cublas => format!(
                "{device}, cuBLAS default math mode; runs {dtypes} (half inputs: cublasGemmEx, C in f32, CUBLAS_COMPUTE_32F)"
            ),
            Method::Kernel(_) => {
                let nvrtc =
                    nvrtc::version().map(|(a, b)| format!("NVRTC {a}.{b}")).unwrap_or_else(|_| "no NVRTC".into());
                let tiles: Vec<String> = Dtype::ALL
                    .into_iter()
                    .filter_map(|d| self.kernel_for(d).and_then(|k| default_config(k, d)).map(|(_, c)| c.label()))
                    .collect();
                format!("{device}, {nvrtc}; runs {dtypes}; {}", tiles.join("; "))
            }
        }
    }
    /// Every element type for `cublas`; for our kernels, those their kernel has a default
    /// configuration in ([`CONFIGS`]): f32 and f64 everywhere, bf16 and f16 only for
    /// `cuda-warptile`.
    fn supports(&self, dtype: Dtype) -> bool {
        match self.method {
            Method::Cublas => true,
            Method::Kernel(_) => self.kernel_for(dtype).and_then(|k| default_config(k, dtype)).is_some(),
        }
    }
    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.host_gemm(alpha, a, b, beta, c));
    matmul_core::gemm_methods!(half | this, alpha, a, b, beta, c | this.host_gemm(alpha, a, b, beta, c));
}

/// One thread per element of C.
pub static CUDA_NAIVE: CudaBackend = CudaBackend::new(
    "cuda-naive",
    "CUDA: one thread per element of C (16 × 16 blocks), operands read from global memory",
    Method::Kernel(Kernel::Naive),
);
/// 32 × 32 shared-memory tiles.
pub static CUDA_TILED: CudaBackend = CudaBackend::new(
    "cuda-tiled",
    "CUDA: 32 × 32 shared-memory tiles, one element of C per thread",
    Method::Kernel(Kernel::Tiled),
);
/// Register tiles with vector loads.
pub static CUDA_REGTILE: CudaBackend = CudaBackend::new(
    "cuda-regtile",
    "CUDA: 128 × 128 block tiles, an 8 × 8 register tile per thread, 16-byte vector loads",
    Method::Kernel(Kernel::RegTile),
);
/// Warp tiles, cp.async double buffering, swizzled shared memory.
pub static CUDA_WARPTILE: CudaBackend = CudaBackend::new(
    "cuda-warptile",
    "CUDA: warp tiles, cp.async double-buffered shared memory, XOR-swizzled A layout; bf16/f16 inputs widened to f32",
    Method::Kernel(Kernel::WarpTile),
);
/// f64 on the tensor cores (DMMA); f32 runs the warp-tiled kernel.
pub static CUDA_DMMA: CudaBackend = CudaBackend::new(
    "cuda-dmma",
    "CUDA: f64 on the tensor cores (mma.sync m8n8k4 DMMA, cp.async double buffering); f32 runs cuda-warptile's kernel",
    Method::Kernel(Kernel::Dmma),
);
/// cuBLAS.
pub static CUBLAS: CudaBackend = CudaBackend::new(
    "cublas",
    "NVIDIA cuBLAS sgemm/dgemm (default math mode: no TF32); bf16/f16 inputs by cublasGemmEx, C in f32, FP32 compute",
    Method::Cublas,
);

/// Every CUDA backend, our kernels in step order, then cuBLAS.
pub static ALL: [&CudaBackend; 6] = [&CUDA_NAIVE, &CUDA_TILED, &CUDA_REGTILE, &CUDA_WARPTILE, &CUDA_DMMA, &CUBLAS];
