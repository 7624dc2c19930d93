//! Error exits: `xerbla_` (Fortran routines) and `cblas_xerbla` (CBLAS routines).
//!
//! This library exports both, as every BLAS does. When a bad argument arrives it looks the
//! handler up at run time with `dlsym(RTLD_DEFAULT, …)`, which finds the first definition
//! in the process's global symbol order: the program's own handler if the program
//! defines one **and exports it** (link it with `-rdynamic`, or
//! `-Wl,--export-dynamic-symbol=xerbla_`; the reference BLAS test programs rely on their
//! own `XERBLA` being called), else this library's. Ours prints the reference message and
//! returns; unlike the reference `XERBLA` it does not stop the program (OpenBLAS does the
//! same), and the routine returns without touching C.

use std::ffi::{c_char, c_int, c_void, CStr};

/// The Fortran handler's C signature: name, position, and the name's hidden length.
type FortranHandler = unsafe extern "C" fn(*const c_char, *const c_int, usize);
/// The CBLAS handler's C signature: position, routine, printf format, format arguments.
type CblasHandler = unsafe extern "C" fn(c_int, *const c_char, *const c_char, ...);

/// The reference BLAS error handler: prints
/// ` ** On entry to DGEMM  parameter number  8 had an illegal value` and returns.
///
/// # Safety
/// `srname` points to at least `srname_len` bytes (a Fortran `CHARACTER*(*)`, not
/// NUL-terminated) and `info` to an integer; both may be null, which prints less.
#[no_mangle]
pub unsafe extern "C" fn xerbla_(srname: *const c_char, info: *const c_int, srname_len: usize) {
    let name = if srname.is_null() {
        String::from("?")
    } else {
        // SAFETY: the caller passes `srname_len` readable bytes at `srname` (the Fortran
        // convention for a CHARACTER*(*) argument); checked non-null above.
        let bytes = unsafe { std::slice::from_raw_parts(srname.cast::<u8>(), srname_len) };
        String::from_utf8_lossy(bytes).trim_end().to_owned()
    };
    // SAFETY: `info` points to an integer, or is null (checked).
    let info = if info.is_null() { 0 } else { unsafe { *info } };
    eprintln!(" ** On entry to {name:<6} parameter number {info:>2} had an illegal value");
}

/// The CBLAS error handler: prints `Parameter 9 to routine cblas_dgemm was incorrect` and
/// returns. Declared without its variadic tail (defining C-variadic functions needs
/// nightly Rust); the C calling convention lets callers pass it anyway.
///
/// # Safety
/// `rout` is null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn cblas_xerbla(p: c_int, rout: *const c_char, _form: *const c_char) {
    let rout = if rout.is_null() {
        std::borrow::Cow::Borrowed("?")
    } else {
        // SAFETY: non-null (checked) and NUL-terminated (the caller's duty).
        unsafe { CStr::from_ptr(rout) }.to_string_lossy()
    };
    eprintln!("Parameter {p} to routine {rout} was incorrect");
}

/// The handler the process resolves for `symbol`, when it is not this library's own.
fn program_handler(symbol: &CStr, ours: *const c_void) -> Option<*mut c_void> {
    // SAFETY: `symbol` is NUL-terminated; RTLD_DEFAULT searches the global scope and
    // returns null when nothing defines the name.
    let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, symbol.as_ptr()) };
    (!found.is_null() && found.cast_const() != ours).then_some(found)
}

/// Reports bad parameter `info` of Fortran routine `name` (e.g. `"DGEMM "`, padded to 6
/// as the reference passes it) through the process's `xerbla_`.
pub fn fortran(name: &'static str, info: i32) {
    let handler: FortranHandler = match program_handler(c"xerbla_", xerbla_ as *const c_void) {
        // SAFETY: a program's `xerbla_` has the reference signature (that is what
        // defining XERBLA means); `dlsym` returned its address.
        Some(f) => unsafe { std::mem::transmute::<*mut c_void, FortranHandler>(f) },
        None => xerbla_,
    };
    // SAFETY: `name` is `name.len()` readable bytes and `info` a live integer.
    unsafe { handler(name.as_ptr().cast(), &info, name.len()) }
}

/// Reports bad argument `p` of CBLAS routine `rout` (e.g. `c"cblas_dgemm"`) through the
/// process's `cblas_xerbla`, with the reference CBLAS's format for a bad enum value.
pub fn cblas(p: i32, rout: &'static CStr, value: i32) {
    let form: &CStr = match p {
        1 => c"Illegal layout setting, %d\n",
        2 => c"Illegal TransA setting, %d\n",
        3 => c"Illegal TransB setting, %d\n",
        _ => c"",
    };
    match program_handler(c"cblas_xerbla", cblas_xerbla as *const c_void) {
        Some(f) => {
            // SAFETY: a program's `cblas_xerbla` has the reference (variadic) signature.
            let handler = unsafe { std::mem::transmute::<*mut c_void, CblasHandler>(f) };
            // SAFETY: both strings are NUL-terminated statics; the one format argument
            // is an int, as `%d` expects (an empty format reads none).
            unsafe { handler(p, rout.as_ptr(), form.as_ptr(), value) }
        }
        // SAFETY: as above; ours reads neither the format nor its arguments.
        None => unsafe { cblas_xerbla(p, rout.as_ptr(), form.as_ptr()) },
    }
}
