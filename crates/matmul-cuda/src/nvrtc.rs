//! NVRTC: CUDA C source → machine code (CUBIN) for one GPU architecture, and the
//! resource report ptxas writes into the program log.
//!
//! One path serves both the backends (which compile for the device they run on, once per
//! process) and the compile gate (which compiles every configuration for `sm_90` on any
//! machine, GPU or not). cudarc's safe NVRTC API returns PTX only, so the program is
//! driven through its `result`/`sys` layers to get the CUBIN.

use std::ffi::{c_char, CStr, CString};

use cudarc::nvrtc::{result, sys};

/// Whether `libnvrtc` can be loaded. cudarc's loader panics on the first NVRTC call
/// when the library is missing, so ask this first.
pub fn is_present() -> bool {
    // SAFETY: `is_culib_present` only tries to dlopen the library's candidate names and
    // drops what it opened; it calls no NVRTC function.
    unsafe { sys::is_culib_present() }
}

/// NVRTC's version as (major, minor), e.g. (13, 0).
pub fn version() -> Result<(i32, i32), String> {
    if !is_present() {
        return Err(missing());
    }
    let (mut major, mut minor) = (0, 0);
    // SAFETY: the library is present (checked above); nvrtcVersion writes two ints
    // through the pointers, which point to live locals.
    let status = unsafe { sys::nvrtcVersion(&mut major, &mut minor) };
    status.result().map_err(|e| format!("nvrtcVersion failed: {e:?}"))?;
    Ok((major, minor))
}

/// The message for a missing NVRTC.
pub fn missing() -> String {
    "libnvrtc (NVRTC 13) not found on the loader path: install the CUDA toolkit's NVRTC, \
     or `pip install --no-deps --target DIR nvidia-cuda-nvrtc==13.0.88` and put \
     DIR/nvidia/cu13/lib on LD_LIBRARY_PATH"
        .to_owned()
}

/// The options every compilation uses, for the architecture `arch` (`sm_90`).
pub fn base_options(arch: &str) -> Vec<String> {
    vec![format!("--gpu-architecture={arch}"), "--std=c++17".to_owned(), "--ptxas-options=-v".to_owned()]
}

/// The options the gate adds: a register spill becomes a compile error.
pub const NO_SPILL_OPTIONS: [&str; 2] = ["--ptxas-options=--warn-on-spills", "--ptxas-options=--warning-as-error"];

/// A compiled program: its machine code and NVRTC's log (which carries ptxas's `-v`
/// report).
#[derive(Debug)]
pub struct Compiled {
    /// The CUBIN.
    pub cubin: Vec<u8>,
    /// The program log.
    pub log: String,
}

/// Why a compilation failed.
#[derive(Debug, Clone)]
pub struct CompileFailure {
    /// What failed (`nvrtcCompileProgram: NVRTC_ERROR_COMPILATION`, …).
    pub what: String,
    /// The program log, possibly empty.
    pub log: String,
}

impl std::fmt::Display for CompileFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.what)?;
        if !self.log.trim().is_empty() {
            write!(f, "\n{}", self.log.trim_end())?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileFailure {}

/// Compiles `src` (program name `name`) with `options` to a CUBIN. The caller checks
/// [`is_present`] first.
pub fn compile_cubin(src: &str, name: &str, options: &[String]) -> Result<Compiled, CompileFailure> {
    let fail = |what: String| CompileFailure { what, log: String::new() };
    let c_src = CString::new(src).map_err(|_| fail("the source contains a NUL byte".into()))?;
    let c_name = CString::new(name).map_err(|_| fail("the program name contains a NUL byte".into()))?;
    for o in options {
        if o.contains('\0') {
            return Err(fail(format!("option {o:?} contains a NUL byte")));
        }
    }
    let prog =
        Program(result::create_program(&c_src, Some(&c_name)).map_err(|e| fail(format!("nvrtcCreateProgram: {e:?}")))?);
    // SAFETY: `prog.0` was created just above and is destroyed only by `Program::drop`;
    // `c_src` and `c_name`, which it may reference, outlive it (declared before it).
    let compiled = unsafe { result::compile_program(prog.0, options) };
    // SAFETY: as above: `prog.0` is a live program.
    let log = unsafe { result::get_program_log(prog.0) }.map(|raw| c_chars_to_string(&raw)).unwrap_or_default();
    if let Err(e) = compiled {
        return Err(CompileFailure { what: format!("nvrtcCompileProgram: {e:?}"), log });
    }
    let mut size = 0usize;
    // SAFETY: `prog.0` is live and compiled; the size is written to a live local.
    unsafe { sys::nvrtcGetCUBINSize(prog.0, &mut size) }
        .result()
        .map_err(|e| CompileFailure { what: format!("nvrtcGetCUBINSize: {e:?}"), log: log.clone() })?;
    let mut cubin = vec![0u8; size];
    // SAFETY: `cubin` has exactly the `size` bytes NVRTC asked for.
    unsafe { sys::nvrtcGetCUBIN(prog.0, cubin.as_mut_ptr().cast::<c_char>()) }
        .result()
        .map_err(|e| CompileFailure { what: format!("nvrtcGetCUBIN: {e:?}"), log: log.clone() })?;
    Ok(Compiled { cubin, log })
}

/// Owns an `nvrtcProgram` and destroys it once.
struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: created by `create_program` and destroyed nowhere else. A failure here
        // leaks the program, which is all that could be done about it.
        let _ = unsafe { result::destroy_program(self.0) };
    }
}

/// A NUL-terminated C buffer as a `String` (lossy).
fn c_chars_to_string(raw: &[c_char]) -> String {
    let bytes: Vec<u8> = raw.iter().map(|&c| c as u8).collect();
    match CStr::from_bytes_until_nul(&bytes) {
        Ok(s) => s.to_string_lossy().into_owned(),
        Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// What ptxas reported for one kernel (`-v`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// Registers per thread.
    pub registers: u32,
    /// Bytes of static shared memory per block (0 when ptxas prints none).
    pub smem_bytes: u32,
    /// Bytes of spill stores.
    pub spill_stores: u32,
    /// Bytes of spill loads.
    pub spill_loads: u32,
    /// Bytes of stack frame.
    pub stack_bytes: u32,
}

/// Parses ptxas's `-v` report for the entry point `entry` from a program log:
///
/// ```text
/// ptxas info    : Compiling entry function 'matmul_naive' for 'sm_90'
/// ptxas info    : Function properties for matmul_naive
///     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
/// ptxas info    : Used 30 registers, used 0 barriers, 4096 bytes smem, 400 bytes cmem[0]
/// ```
///
/// Returns `None` if the log has no report for `entry`.
pub fn parse_resources(log: &str, entry: &str) -> Option<Resources> {
    let mut lines =
        log.lines().skip_while(|l| !(l.contains("Compiling entry function") && l.contains(&format!("'{entry}'"))));
    lines.next()?;
    let mut r = Resources::default();
    let mut found_used = false;
    for line in lines {
        if line.contains("Compiling entry function") {
            break;
        }
        for part in line.split([',', ':']) {
            let part = part.trim();
            let mut words = part.split_whitespace();
            let (Some(first), Some(second)) = (words.next(), words.next()) else { continue };
            let rest: Vec<&str> = words.collect();
            if first == "Used" && rest.first() == Some(&"registers") {
                r.registers = second.parse().ok()?;
                found_used = true;
            } else if let Ok(value) = first.parse::<u32>() {
                match (second, rest.as_slice()) {
                    ("bytes", ["smem"]) => r.smem_bytes = value,
                    ("bytes", ["spill", "stores"]) => r.spill_stores = value,
                    ("bytes", ["spill", "loads"]) => r.spill_loads = value,
                    ("bytes", ["stack", "frame"]) => r.stack_bytes = value,
                    _ => {}
                }
            }
        }
        if found_used {
            break;
        }
    }
    found_used.then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_ptxas_report() {
        let log = "ptxas info    : 0 bytes gmem\n\
                   ptxas info    : Compiling entry function 'matmul_regtile' for 'sm_90'\n\
                   ptxas info    : Function properties for matmul_regtile\n    \
                   8 bytes stack frame, 12 bytes spill stores, 16 bytes spill loads\n\
                   ptxas info    : Used 128 registers, used 1 barriers, 8192 bytes smem, 400 bytes cmem[0]\n";
        let r = parse_resources(log, "matmul_regtile").unwrap();
        assert_eq!(
            r,
            Resources { registers: 128, smem_bytes: 8192, spill_stores: 12, spill_loads: 16, stack_bytes: 8 }
        );
        assert_eq!(parse_resources(log, "matmul_naive"), None);
    }

    #[test]
    fn no_smem_line_means_zero() {
        let log = "ptxas info    : Compiling entry function 'matmul_naive' for 'sm_90'\n\
                   ptxas info    : Function properties for matmul_naive\n    \
                   0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n\
                   ptxas info    : Used 30 registers, used 0 barriers, 400 bytes cmem[0]\n";
        let r = parse_resources(log, "matmul_naive").unwrap();
        assert_eq!(r.registers, 30);
        assert_eq!(r.smem_bytes, 0);
    }
}
