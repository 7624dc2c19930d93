//! Which system BLAS libraries are installed, so that `cargo xtask` can enable their
//! features by itself (see [`crate::runner::runner_builds`]).
//!
//! Each library is looked for the way its `*-src` crate will look for it when linking,
//! so "found" means "the build will link": OpenBLAS through pkg-config (`openblas-src`)
//! or the linker's search path, BLIS on the linker's search path only (`blis-src` just
//! passes `-lblis`), MKL (`libmkl_rt`, linked by `matmul-blas`'s build script) through
//! pkg-config `mkl-sdl-lp64`, the linker's search path or `$MKLROOT`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A BLAS library a cargo feature links.
#[derive(Debug, Clone, Copy)]
pub struct BlasLibrary {
    /// The runner's cargo feature (and backend name).
    pub feature: &'static str,
    /// pkg-config package to ask, if its `*-src` crate uses pkg-config.
    pub pkg_config: Option<&'static str>,
    /// Library looked for on the linker search path (`lib{name}.so`), if its crate links it so.
    pub link_name: Option<&'static str>,
    /// The one command that installs it on Debian.
    pub install: &'static str,
}

/// Every BLAS library the runner can link, in the order runners are built.
pub const BLAS_LIBRARIES: [BlasLibrary; 3] = [
    BlasLibrary {
        feature: "openblas",
        pkg_config: Some("openblas"),
        link_name: Some("openblas"),
        install: "apt-get install libopenblas-dev",
    },
    BlasLibrary { feature: "blis", pkg_config: None, link_name: Some("blis"), install: "apt-get install libblis-dev" },
    BlasLibrary {
        feature: "mkl",
        pkg_config: Some("mkl-sdl-lp64"),
        link_name: Some("mkl_rt"),
        install: "apt-get install libmkl-dev   (from Debian's non-free component)",
    },
];

/// Whether `feature` is one of the BLAS features (at most one per runner binary).
pub fn is_blas_feature(feature: &str) -> bool {
    BLAS_LIBRARIES.iter().any(|l| l.feature == feature)
}

/// Where a library was found.
#[derive(Debug, Clone)]
pub enum Found {
    /// `pkg-config --exists` knows it.
    PkgConfig(&'static str),
    /// `lib{name}.so` is in this directory of the linker search path.
    SearchPath(PathBuf),
    /// MKL under `$MKLROOT`.
    MklRoot(PathBuf),
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::PkgConfig(name) => write!(f, "pkg-config {name}"),
            Found::SearchPath(dir) => write!(f, "linker search path {}", dir.display()),
            Found::MklRoot(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// Looks for every library; `None` where it is not installed.
pub fn detect() -> Vec<(BlasLibrary, Option<Found>)> {
    let dirs = linker_search_path();
    BLAS_LIBRARIES.iter().map(|lib| (*lib, find(lib, &dirs))).collect()
}

fn find(lib: &BlasLibrary, dirs: &[PathBuf]) -> Option<Found> {
    if let Some(pc) = lib.pkg_config {
        let ok = Command::new("pkg-config").args(["--exists", pc]).status().is_ok_and(|s| s.success());
        if ok {
            return Some(Found::PkgConfig(pc));
        }
    }
    if let Some(name) = lib.link_name {
        let file = format!("lib{name}.so");
        if let Some(dir) = dirs.iter().find(|d| d.join(&file).exists()) {
            return Some(Found::SearchPath(dir.clone()));
        }
    }
    if lib.feature == "mkl" {
        if let Some(root) = std::env::var_os("MKLROOT").map(PathBuf::from) {
            if root.join("lib").join("intel64").join("libmkl_rt.so").exists() {
                return Some(Found::MklRoot(root));
            }
        }
    }
    None
}

/// The directories the linker searches for `-l` libraries: `$LIBRARY_PATH`, then what
/// the C compiler driver (which rustc links through) reports, then the usual defaults.
pub fn linker_search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("LIBRARY_PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Ok(out) = Command::new("cc").arg("-print-search-dirs").output() {
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            if let Some(list) = line.strip_prefix("libraries: =") {
                dirs.extend(std::env::split_paths(list));
            }
        }
    }
    dirs.extend(["/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib", "/lib"].map(PathBuf::from));
    dirs.retain(|d| Path::new(d).is_dir());
    dirs
}

/// Prints what was found and, for each library that was not, the command that installs it.
pub fn report(found: &[(BlasLibrary, Option<Found>)]) {
    for (lib, where_) in found {
        match where_ {
            Some(w) => eprintln!("xtask: BLAS {:<8} found ({w}): enabling feature `{}`", lib.feature, lib.feature),
            None => eprintln!("xtask: BLAS {:<8} not found; to add it: {}", lib.feature, lib.install),
        }
    }
}
