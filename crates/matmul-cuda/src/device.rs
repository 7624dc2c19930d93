//! The GPU this process uses: found once (device 0), with its stream, its compiled
//! kernels (one NVRTC compilation per configuration per process), its cuBLAS handle and
//! the pinned staging buffers of the host-slice path.
//!
//! Nothing here panics on a machine without a GPU. cudarc's loader panics on the first
//! call into a library it cannot dlopen, so each library's presence is asked first
//! (`is_culib_present`), and the probe also runs under `catch_unwind` in case a present
//! but older driver lacks a symbol the CUDA 13.0 API needs.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use cudarc::cublas::result::CublasError;
use cudarc::cublas::sys::{cublasComputeType_t, cublasGemmAlgo_t, cudaDataType_t};
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::sys::CUdevice_attribute;
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, DeviceRepr, PinnedHostSlice,
    ValidAsZeroBits,
};
use cudarc::nvrtc::Ptx;
use matmul_core::half::{bf16, f16};
use matmul_core::{Element, Error, Result, Scalar};

use crate::kernels::{Dtype, KernelConfig, CONFIGS};
use crate::nvrtc;
use crate::peak::{theoretical_peak, TheoreticalPeak};

/// The message when the driver library is missing.
pub const NO_DRIVER: &str =
    "libcuda (the NVIDIA driver library, libcuda.so.1) not found: no NVIDIA driver on this machine";

/// The process's GPU: device 0.
pub struct Gpu {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    /// Compute capability (major, minor).
    pub compute_capability: (u32, u32),
    /// The device's name, e.g. `NVIDIA H200`.
    pub name: String,
    /// The driver's CUDA version as (major, minor), e.g. (13, 0).
    pub driver_version: (i32, i32),
    /// Streaming multiprocessors (0 if the driver did not say).
    pub sm_count: u32,
    /// The SMs' maximum clock in MHz (0 if the driver did not say).
    pub max_clock_mhz: u32,
    /// One slot per row of [`CONFIGS`]: the loaded kernel, or why it could not be built.
    functions: Vec<OnceLock<std::result::Result<CudaFunction, String>>>,
    cublas: OnceLock<std::result::Result<CudaBlas, String>>,
    /// The pinned staging buffers of the host-slice path: A and B of each element type,
    /// C of each accumulator type.
    staging_f32: Mutex<Option<PinnedHostSlice<f32>>>,
    staging_f64: Mutex<Option<PinnedHostSlice<f64>>>,
    staging_bf16: Mutex<Option<PinnedHostSlice<u16>>>,
    staging_f16: Mutex<Option<PinnedHostSlice<u16>>>,
    staging_c_f32: Mutex<Option<PinnedHostSlice<f32>>>,
    staging_c_f64: Mutex<Option<PinnedHostSlice<f64>>>,
    /// Serialises host-slice calls: they share the staging buffers and the stream.
    host_calls: Mutex<()>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("name", &self.name)
            .field("compute_capability", &self.compute_capability)
            .field("driver_version", &self.driver_version)
            .finish_non_exhaustive()
    }
}

/// Whether `libcuda` can be loaded (asked before any other driver call).
pub fn driver_present() -> bool {
    // SAFETY: only tries to dlopen the driver library's candidate names; calls nothing in it.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Whether `libcublas` can be loaded.
pub fn cublas_present() -> bool {
    // SAFETY: only tries to dlopen the cuBLAS library's candidate names; calls nothing in it.
    unsafe { cudarc::cublas::sys::is_culib_present() }
}

/// The GPU, found on the first call and cached for the process; or why there is none.
pub fn gpu() -> std::result::Result<&'static Gpu, &'static str> {
    static GPU: OnceLock<std::result::Result<Gpu, String>> = OnceLock::new();
    GPU.get_or_init(probe).as_ref().map_err(String::as_str)
}

fn probe() -> std::result::Result<Gpu, String> {
    if !driver_present() {
        return Err(NO_DRIVER.to_owned());
    }
    catch_unwind(probe_device).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(format!("the CUDA driver library could not be used (too old for the CUDA 13.0 API?): {what}"))
    })
}

fn probe_device() -> std::result::Result<Gpu, String> {
    // With a driver but no GPU this is Err(CUDA_ERROR_NO_DEVICE).
    let ctx = CudaContext::new(0).map_err(|e| format!("no usable CUDA device: {e}"))?;
    let (major, minor) = ctx.compute_capability().map_err(|e| format!("cannot read the compute capability: {e}"))?;
    let name = ctx.name().unwrap_or_else(|_| "unknown NVIDIA GPU".to_owned());
    let mut version = 0;
    // SAFETY: the driver library is loaded (the context exists); cuDriverGetVersion writes
    // one int through a pointer to a live local.
    let driver_version = match unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut version) }.result() {
        Ok(()) => (version / 1000, (version % 1000) / 10),
        Err(_) => (0, 0),
    };
    let attribute = |a| ctx.attribute(a).ok().and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
    let sm_count = attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    // In kHz.
    let max_clock_mhz = attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_CLOCK_RATE) / 1000;
    let stream = ctx.new_stream().map_err(|e| format!("cannot create a CUDA stream: {e}"))?;
    Ok(Gpu {
        ctx,
        stream,
        compute_capability: (major.max(0) as u32, minor.max(0) as u32),
        name,
        driver_version,
        sm_count,
        max_clock_mhz,
        functions: CONFIGS.iter().map(|_| OnceLock::new()).collect(),
        cublas: OnceLock::new(),
        staging_f32: Mutex::new(None),
        staging_f64: Mutex::new(None),
        staging_bf16: Mutex::new(None),
        staging_f16: Mutex::new(None),
        staging_c_f32: Mutex::new(None),
        staging_c_f64: Mutex::new(None),
        host_calls: Mutex::new(()),
    })
}

impl Gpu {
    /// The stream every call of this crate runs on.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// The context.
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    /// The theoretical peak of `dtype` on this GPU ([`crate::peak`]), or why there is none.
    pub fn peak(&self, dtype: Dtype) -> std::result::Result<TheoreticalPeak, String> {
        theoretical_peak(self.compute_capability, self.sm_count, self.max_clock_mhz, dtype)
    }

    /// One line for reports: `NVIDIA H200 (sm_90, 132 SMs, 1980 MHz), driver CUDA 13.0`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}, {} SMs, {} MHz), driver CUDA {}.{}",
            self.name,
            self.arch(),
            self.sm_count,
            self.max_clock_mhz,
            self.driver_version.0,
            self.driver_version.1
        )
    }

    /// `sm_XY` for NVRTC.
    pub fn arch(&self) -> String {
        format!("sm_{}{}", self.compute_capability.0, self.compute_capability.1)
    }

    /// The kernel of row `index` of [`CONFIGS`], compiled for this device and loaded on
    /// the first call, cached for the process (a failure too).
    pub fn function(&self, index: usize) -> std::result::Result<&CudaFunction, String> {
        let config = CONFIGS.get(index).ok_or_else(|| format!("no kernel configuration {index}"))?;
        let slot = self.functions.get(index).ok_or_else(|| format!("no kernel slot {index}"))?;
        slot.get_or_init(|| self.build(config)).as_ref().map_err(Clone::clone)
    }

    fn build(&self, config: &KernelConfig) -> std::result::Result<CudaFunction, String> {
        if !nvrtc::is_present() {
            return Err(nvrtc::missing());
        }
        let entry = config.kernel().entry();
        let compiled =
            nvrtc::compile_cubin(&config.source(), &format!("{entry}.cu"), &nvrtc::base_options(&self.arch()))
                .map_err(|e| format!("NVRTC could not compile {} for {}: {e}", config.label(), self.arch()))?;
        let module = self
            .ctx
            .load_module(Ptx::from_binary(compiled.cubin))
            .map_err(|e| format!("cannot load the module of {}: {e}", config.label()))?;
        module.load_function(entry).map_err(|e| format!("no function {entry} in its module: {e}"))
    }

    /// The cuBLAS handle (created on the first call, on this crate's stream).
    pub fn cublas(&self) -> std::result::Result<&CudaBlas, String> {
        self.cublas
            .get_or_init(|| {
                if !cublas_present() {
                    return Err("libcublas (cuBLAS 13) not found on the loader path".to_owned());
                }
                catch_unwind(AssertUnwindSafe(|| CudaBlas::new(self.stream.clone())))
                    .map_err(|_| "cuBLAS could not be loaded (a symbol of the CUDA 13.0 API is missing)".to_owned())?
                    .map_err(|e| format!("cannot create a cuBLAS handle: {e:?}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Takes the host-slice path's lock (the staging buffers and the stream's order).
    pub(crate) fn lock_host_calls(&self) -> MutexGuard<'_, ()> {
        self.host_calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The type of C, α and β on the GPU: `f32` or `f64`, the accumulator of every
/// [`CudaElement`].
pub trait CudaAccumulator: Scalar + DeviceRepr + ValidAsZeroBits {
    /// The pinned staging buffer of C in this type.
    #[doc(hidden)]
    fn c_staging(gpu: &Gpu) -> &Mutex<Option<PinnedHostSlice<Self>>>;
}

impl CudaAccumulator for f32 {
    fn c_staging(gpu: &Gpu) -> &Mutex<Option<PinnedHostSlice<Self>>> {
        &gpu.staging_c_f32
    }
}

impl CudaAccumulator for f64 {
    fn c_staging(gpu: &Gpu) -> &Mutex<Option<PinnedHostSlice<Self>>> {
        &gpu.staging_c_f64
    }
}

/// The element types of A and B the GPU backends read: `f32`, `f64`, `bf16` and `f16`, C in
/// their accumulator type ([`Element::Acc`]). What differs between them is here: how an
/// element lies in a device buffer, its staging buffer and its cuBLAS call; the host path,
/// the launch and the checks are one generic code for all four.
pub trait CudaElement: Element<Acc: CudaAccumulator> {
    /// Its type in device and pinned buffers: itself for `f32` and `f64`; for the half
    /// types their 16 bits, `u16` (cudarc implements its `DeviceRepr` for the `half` types
    /// only with its `f16` feature, which would add dependencies this workspace does not
    /// lock; the bits are what the kernels and cuBLAS read either way).
    #[doc(hidden)]
    type Device: DeviceRepr + ValidAsZeroBits + Copy;

    /// The pinned staging buffer of A and B in this type.
    #[doc(hidden)]
    fn staging(gpu: &Gpu) -> &Mutex<Option<PinnedHostSlice<Self::Device>>>;

    /// Elements as their device type (the same bits).
    #[doc(hidden)]
    fn as_device(elements: &[Self]) -> &[Self::Device];

    /// Device-typed memory as elements (the same bits; every bit pattern is an element).
    #[doc(hidden)]
    fn from_device_mut(device: &mut [Self::Device]) -> &mut [Self];

    /// The column-major cuBLAS GEMM of `cfg` (α, β in `Self::Acc`): `cublas{S,D}gemm` for
    /// `f32` and `f64`, `cublasGemmEx` with C in `CUDA_R_32F` and `CUBLAS_COMPUTE_32F` for
    /// the half types, queued on `stream`, the handle's stream.
    ///
    /// # Safety
    /// `cfg` describes column-major operands that lie inside `a`, `b` and `c`, allocated on
    /// `stream`'s context; `blas` was created on `stream`.
    #[doc(hidden)]
    unsafe fn cublas_gemm(
        blas: &CudaBlas,
        stream: &CudaStream,
        cfg: GemmConfig<Self::Acc>,
        a: &CudaSlice<Self::Device>,
        b: &CudaSlice<Self::Device>,
        c: &mut CudaSlice<Self::Acc>,
    ) -> std::result::Result<(), CublasError>;
}

/// The types that are both an element of A and B and their own accumulator, `f32` and
/// `f64`: the types of the device-resident API ([`crate::CudaBackend::gemm_device`],
/// [`crate::DeviceMatrices`]), whose buffers are `CudaSlice<T>` throughout.
pub trait CudaScalar: CudaElement<Device = Self> + CudaAccumulator {}

impl<T: CudaElement<Device = T> + CudaAccumulator> CudaScalar for T {}

macro_rules! impl_cuda_scalar {
    ($t:ty, $field:ident) => {
        impl CudaElement for $t {
            type Device = $t;
            fn staging(gpu: &Gpu) -> &Mutex<Option<PinnedHostSlice<Self>>> {
                &gpu.$field
            }
            fn as_device(elements: &[Self]) -> &[Self] {
                elements
            }
            fn from_device_mut(device: &mut [Self]) -> &mut [Self] {
                device
            }
            unsafe fn cublas_gemm(
                blas: &CudaBlas,
                _stream: &CudaStream,
                cfg: GemmConfig<Self>,
                a: &CudaSlice<Self>,
                b: &CudaSlice<Self>,
                c: &mut CudaSlice<Self>,
            ) -> std::result::Result<(), CublasError> {
                // SAFETY: the caller's contract is cuBLAS's.
                unsafe { <CudaBlas as Gemm<$t>>::gemm(blas, cfg, a, b, c) }
            }
        }
    };
}
impl_cuda_scalar!(f32, staging_f32);
impl_cuda_scalar!(f64, staging_f64);

macro_rules! impl_cuda_half {
    ($t:ty, $field:ident, $data_type:ident) => {
        // The casts below rest on this: a half type is its 16 bits (`half` declares both
        // `#[repr(transparent)]` over `u16`).
        const _: () = assert!(
            std::mem::size_of::<$t>() == std::mem::size_of::<u16>()
                && std::mem::align_of::<$t>() == std::mem::align_of::<u16>()
        );

        impl CudaElement for $t {
            type Device = u16;
            fn staging(gpu: &Gpu) -> &Mutex<Option<PinnedHostSlice<u16>>> {
                &gpu.$field
            }
            fn as_device(elements: &[Self]) -> &[u16] {
                // SAFETY: the type is `repr(transparent)` over u16 (same size and alignment,
                // asserted above) and every one of its values is a valid u16.
                unsafe { std::slice::from_raw_parts(elements.as_ptr().cast::<u16>(), elements.len()) }
            }
            fn from_device_mut(device: &mut [u16]) -> &mut [Self] {
                // SAFETY: as in `as_device`; every u16 is a valid value of the type (`Pod`:
                // each bit pattern is a number, an infinity or a NaN), and the borrow of
                // `device` moves into the result, so nothing else aliases it.
                unsafe { std::slice::from_raw_parts_mut(device.as_mut_ptr().cast::<Self>(), device.len()) }
            }
            unsafe fn cublas_gemm(
                blas: &CudaBlas,
                stream: &CudaStream,
                cfg: GemmConfig<f32>,
                a: &CudaSlice<u16>,
                b: &CudaSlice<u16>,
                c: &mut CudaSlice<f32>,
            ) -> std::result::Result<(), CublasError> {
                let (a, _record_a) = a.device_ptr(stream);
                let (b, _record_b) = b.device_ptr(stream);
                let (c, _record_c) = c.device_ptr_mut(stream);
                // SAFETY: the caller guarantees the operands lie inside the buffers and the
                // handle runs on `stream`, on which the pointers were taken (the records
                // drop after the call is queued). A and B are read as 16-bit
                // `$data_type`, C as CUDA_R_32F, α and β as f32 through pointers to live
                // locals (host pointers: the handle's default pointer mode).
                // CUBLAS_COMPUTE_32F: products and sums in FP32, no TF32 or
                // reduced-precision compute type.
                unsafe {
                    cudarc::cublas::result::gemm_ex(
                        *blas.handle(),
                        cfg.transa,
                        cfg.transb,
                        cfg.m,
                        cfg.n,
                        cfg.k,
                        (&cfg.alpha as *const f32).cast(),
                        a as *const std::ffi::c_void,
                        cudaDataType_t::$data_type,
                        cfg.lda,
                        b as *const std::ffi::c_void,
                        cudaDataType_t::$data_type,
                        cfg.ldb,
                        (&cfg.beta as *const f32).cast(),
                        c as *mut std::ffi::c_void,
                        cudaDataType_t::CUDA_R_32F,
                        cfg.ldc,
                        cublasComputeType_t::CUBLAS_COMPUTE_32F,
                        cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
                    )
                }
            }
        }
    };
}
impl_cuda_half!(bf16, staging_bf16, CUDA_R_16BF);
impl_cuda_half!(f16, staging_f16, CUDA_R_16F);

/// A pinned (page-locked) host buffer of at least `len` elements, kept in `slot` and
/// reused by later calls; grown (reallocated) when too small. Page-locked memory lets the
/// copies run at full PCIe/NVLink speed, without the driver's extra staging copy that
/// pageable memory needs.
pub(crate) fn staging<'g, T: DeviceRepr + ValidAsZeroBits>(
    backend: &str,
    gpu: &'g Gpu,
    slot: &'g mut Option<PinnedHostSlice<T>>,
    len: usize,
) -> Result<&'g mut [T]> {
    if slot.as_ref().is_none_or(|s| s.len() < len) {
        // Free the old buffer first.
        *slot = None;
        // Round up to a whole MiB of elements, so that nearby sizes share a buffer, without
        // the up-to-2x waste of a power of two (page-locked memory is taken from the OS).
        const GRAIN: usize = 1 << 20;
        let want = len.div_ceil(GRAIN).checked_mul(GRAIN).unwrap_or(len);
        // SAFETY: the memory is uninitialised after this call; it is zero-filled below
        // before any reference to it is made. Flags 0: not write-combined, since the host
        // reads C back from it.
        let mut pinned = unsafe { gpu.ctx.alloc_pinned_with_flags::<T>(want, 0) }
            .map_err(|e| Error::backend_with_source(backend, format!("cannot allocate {want} pinned elements"), e))?;
        let ptr = pinned.as_mut_ptr().map_err(|e| Error::backend_with_source(backend, "staging buffer", e))?;
        // SAFETY: `ptr` points to `want` elements of page-locked memory just allocated for
        // us (`alloc_pinned_with_flags` checked its size and alignment); all-zero bits are
        // a valid value of T (ValidAsZeroBits).
        unsafe { std::ptr::write_bytes(ptr, 0, want) };
        *slot = Some(pinned);
    }
    let Some(pinned) = slot.as_mut() else {
        return Err(Error::backend(backend, "the staging buffer vanished"));
    };
    let all = pinned.as_mut_slice().map_err(|e| Error::backend_with_source(backend, "staging buffer", e))?;
    Ok(&mut all[..len])
}
