//! The one BLAS library linked into this build: its name and its thread-count controls.
//!
//! `cblas_sgemm` / `cblas_dgemm` have the same name in every library (declared once by
//! `cblas-sys`); what differs is how each sets its number of threads, declared here.

use std::ffi::{c_char, CStr};

/// What the backend needs to know about the library it calls.
pub trait Library: Send + Sync + 'static {
    /// Backend name, e.g. `"openblas"`.
    const NAME: &'static str;
    /// One line for `matmul-cli list`.
    const DESCRIPTION: &'static str;
    /// Whether the linked build of the library runs threads at all.
    fn is_multithreaded() -> bool;
    /// Sets the library's (process-wide) thread count, `threads ≥ 1`.
    fn set_threads(threads: usize);
    /// The library's current thread count.
    fn threads() -> usize;
    /// The library's own description of itself (version, configuration).
    fn version() -> String;
    /// Runs before every gemm call: one-time set-up the library needs (MKL's threading layer).
    fn init() {}
}

/// Clamps a requested thread count to between 1 and this machine's logical CPUs, as
/// OpenBLAS does by itself: more workers than CPUs only contend, and BLIS aborts the whole
/// process when it cannot allocate the count it was given (`usize::MAX`, say).
#[cfg(any(feature = "openblas", feature = "blis", feature = "mkl"))]
fn clamp_threads(threads: usize) -> std::ffi::c_int {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let clamped = threads.clamp(1, cpus.min(4096));
    std::ffi::c_int::try_from(clamped).expect("a count of at most 4096 fits a C int")
}

/// Reads a NUL-terminated string owned by the library.
#[cfg(any(feature = "openblas", feature = "blis"))]
///
/// # Safety
/// `ptr` is null or points to a NUL-terminated string that lives for the whole process.
unsafe fn static_c_str(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::from("unknown");
    }
    // SAFETY: non-null and, by the caller's contract, NUL-terminated and never freed.
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

/// OpenBLAS (`libopenblas-dev`).
#[cfg(feature = "openblas")]
#[derive(Debug)]
pub struct OpenBlasLibrary;

#[cfg(feature = "openblas")]
mod openblas_ffi {
    use std::ffi::{c_char, c_int};
    extern "C" {
        pub fn openblas_set_num_threads(num_threads: c_int);
        pub fn openblas_get_num_threads() -> c_int;
        /// 0: sequential build, 1: pthreads, 2: OpenMP.
        pub fn openblas_get_parallel() -> c_int;
        pub fn openblas_get_config() -> *const c_char;
    }
}

#[cfg(feature = "openblas")]
impl Library for OpenBlasLibrary {
    const NAME: &'static str = "openblas";
    const DESCRIPTION: &'static str = "OpenBLAS cblas_?gemm (system library)";
    fn is_multithreaded() -> bool {
        // SAFETY: takes no arguments and only reads a constant of the library's build.
        unsafe { openblas_ffi::openblas_get_parallel() != 0 }
    }
    fn set_threads(threads: usize) {
        // SAFETY: any positive count is valid; OpenBLAS starts or parks workers as needed.
        unsafe { openblas_ffi::openblas_set_num_threads(clamp_threads(threads)) }
    }
    fn threads() -> usize {
        // SAFETY: takes no arguments, reads the library's thread count.
        let n = unsafe { openblas_ffi::openblas_get_num_threads() };
        usize::try_from(n).unwrap_or(1)
    }
    fn version() -> String {
        // SAFETY: returns a pointer to a static NUL-terminated string inside the library.
        unsafe { static_c_str(openblas_ffi::openblas_get_config()) }
    }
}

/// BLIS (`libblis-dev`).
#[cfg(feature = "blis")]
#[derive(Debug)]
pub struct BlisLibrary;

#[cfg(feature = "blis")]
mod blis_ffi {
    use std::ffi::{c_char, c_long};
    // BLIS's `dim_t`/`gint_t` is a C `long` on LP64 Linux (its "automatic" integer size);
    // its BLAS/CBLAS interface, which cblas-sys calls, uses 32-bit ints in Debian's build.
    extern "C" {
        pub fn bli_thread_set_num_threads(value: c_long);
        pub fn bli_thread_get_num_threads() -> c_long;
        pub fn bli_info_get_enable_openmp() -> c_long;
        pub fn bli_info_get_enable_pthreads() -> c_long;
        pub fn bli_info_get_version_str() -> *const c_char;
    }
}

#[cfg(feature = "blis")]
impl Library for BlisLibrary {
    const NAME: &'static str = "blis";
    const DESCRIPTION: &'static str = "BLIS cblas_?gemm (system library)";
    fn is_multithreaded() -> bool {
        // SAFETY: both take no arguments and report how the library was configured.
        unsafe { blis_ffi::bli_info_get_enable_openmp() != 0 || blis_ffi::bli_info_get_enable_pthreads() != 0 }
    }
    fn set_threads(threads: usize) {
        let n = std::ffi::c_long::from(clamp_threads(threads));
        // SAFETY: any positive count is valid; BLIS stores it in its global runtime settings.
        unsafe { blis_ffi::bli_thread_set_num_threads(n) }
    }
    fn threads() -> usize {
        // SAFETY: takes no arguments. BLIS returns -1 when the count comes from its
        // per-loop ways instead (not set by us), reported as 1.
        let n = unsafe { blis_ffi::bli_thread_get_num_threads() };
        usize::try_from(n).unwrap_or(1).max(1)
    }
    fn version() -> String {
        // SAFETY: returns a pointer to a static NUL-terminated string inside the library.
        let v = unsafe { static_c_str(blis_ffi::bli_info_get_version_str()) };
        format!("BLIS {v}")
    }
}

/// Intel MKL (`libmkl-dev`, Debian non-free), through `libmkl_rt` (see `build.rs`).
#[cfg(feature = "mkl")]
#[derive(Debug)]
pub struct MklLibrary;

#[cfg(feature = "mkl")]
mod mkl_ffi {
    use std::ffi::{c_char, c_int};
    /// `MKL_THREADING_GNU` in `mkl_service.h`: GNU OpenMP (`libgomp`, `libmkl_gnu_thread`).
    pub const MKL_THREADING_GNU: c_int = 3;
    extern "C" {
        pub fn MKL_Set_Threading_Layer(code: c_int) -> c_int;
        pub fn MKL_Set_Num_Threads(n: c_int);
        pub fn MKL_Get_Max_Threads() -> c_int;
        pub fn MKL_Get_Version_String(buf: *mut c_char, len: c_int);
        /// libgomp's: see `init`.
        pub fn omp_get_num_procs() -> c_int;
    }

    /// Chooses the threading layer before MKL's first use (it is fixed from then on).
    /// `mkl_rt` defaults to Intel OpenMP, `libiomp5`, which Debian does not ship; the GNU
    /// layer ships with `libmkl-dev`. `MKL_THREADING_LAYER` in the environment still wins
    /// if the user set it.
    pub fn init() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // A real call into libgomp, so the linker's `--as-needed` keeps it: the GNU layer
            // (`libmkl_gnu_thread`, loaded by mkl_rt) needs its symbols but does not load it.
            // SAFETY: takes no arguments.
            let _procs = unsafe { omp_get_num_procs() };
            if std::env::var_os("MKL_THREADING_LAYER").is_none() {
                // SAFETY: takes a layer code; called once, before any other MKL call of ours.
                unsafe { MKL_Set_Threading_Layer(MKL_THREADING_GNU) };
            }
        });
    }
}

#[cfg(feature = "mkl")]
impl Library for MklLibrary {
    const NAME: &'static str = "mkl";
    const DESCRIPTION: &'static str = "Intel MKL cblas_?gemm (system libmkl_rt, GNU OpenMP threads)";
    fn is_multithreaded() -> bool {
        true
    }
    fn init() {
        mkl_ffi::init();
    }
    fn set_threads(threads: usize) {
        mkl_ffi::init();
        // SAFETY: any positive count is valid.
        unsafe { mkl_ffi::MKL_Set_Num_Threads(clamp_threads(threads)) }
    }
    fn threads() -> usize {
        mkl_ffi::init();
        // SAFETY: takes no arguments.
        let n = unsafe { mkl_ffi::MKL_Get_Max_Threads() };
        usize::try_from(n).unwrap_or(1).max(1)
    }
    fn version() -> String {
        mkl_ffi::init();
        let mut buf = [0 as c_char; 256];
        // SAFETY: MKL writes at most `len` bytes into the buffer we own.
        unsafe { mkl_ffi::MKL_Get_Version_String(buf.as_mut_ptr(), buf.len() as std::ffi::c_int - 1) };
        // SAFETY: the buffer was zeroed and MKL wrote at most len - 1 bytes, so it ends in a NUL.
        unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().trim().to_owned()
    }
}
