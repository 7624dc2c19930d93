//! Links Intel MKL's single dynamic library, `libmkl_rt`, for the `mkl` feature.
//!
//! OpenBLAS and BLIS are linked by `blas-src`. For MKL, `blas-src`'s `intel-mkl-src` is not
//! used: its dynamic configurations link MKL's three layers (`mkl_intel_lp64`,
//! `mkl_sequential`, `mkl_core`) as separate `-l` flags, and since our code only calls
//! symbols of the first, the linker's `--as-needed` (rustc's default) drops the other two,
//! and the binary dies at run time with an undefined MKL symbol. Its parallel
//! configurations need Intel's `libiomp5`, which Debian does not package. `mkl_rt` is the
//! one library Intel provides for dynamic linking: it loads the layers itself, and its
//! threading layer can be chosen at run time (GNU OpenMP, see `src/library.rs`).
//! Nothing is downloaded: if MKL is not installed, linking fails.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MKLROOT");
    if std::env::var_os("CARGO_FEATURE_MKL").is_none() {
        return;
    }
    // Debian's `mkl-sdl-lp64.pc` (SDL: the single dynamic library) names libmkl_rt's directory;
    // an Intel oneAPI install has it under $MKLROOT/lib/intel64.
    let pc = Command::new("pkg-config").args(["--variable=libdir", "mkl-sdl-lp64"]).output();
    match pc {
        Ok(out) if out.status.success() => {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !dir.is_empty() {
                println!("cargo:rustc-link-search=native={dir}");
            }
        }
        _ => {
            if let Some(root) = std::env::var_os("MKLROOT") {
                let dir = std::path::Path::new(&root).join("lib").join("intel64");
                println!("cargo:rustc-link-search=native={}", dir.display());
            }
        }
    }
    println!("cargo:rustc-link-lib=dylib=mkl_rt");
    // The GNU threading layer that `mkl_rt` loads (`libmkl_gnu_thread`) expects GNU OpenMP
    // to be in the process already but does not list it as a dependency. `src/library.rs`
    // calls one libgomp function so that `--as-needed` keeps it.
    println!("cargo:rustc-link-lib=dylib=gomp");
}
