//! `cargo xtask blas-abi`: build the drop-in BLAS library (`crates/matmul-blas-abi`) and
//! run it under real programs: a C program calling every exported symbol, numpy with the
//! library preloaded, and ScaLAPACK's `pdgemm_` over MPI on a 2 × 2 process grid.
//!
//! The programs come from Debian's packages: `gcc`, `python3-numpy`,
//! `libscalapack-openmpi-dev` and `openmpi-bin` (`.ci/run` installs them).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::runner::workspace_root;

/// The tests that need more than a C compiler, which `--skip` can leave out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Optional {
    /// numpy through `LD_PRELOAD` (needs Debian's python3-numpy).
    Numpy,
    /// ScaLAPACK's pdgemm over MPI (needs libscalapack-openmpi-dev and openmpi-bin).
    Scalapack,
}

#[derive(Debug, clap::Args)]
pub struct BlasAbiArgs {
    /// Only build the library and print its path.
    #[arg(long)]
    build_only: bool,
    /// Tests to leave out, comma-separated (numpy, scalapack). CI runs them all.
    #[arg(long, value_enum, value_delimiter = ',')]
    skip: Vec<Optional>,
    /// Size N of the distributed N × N product (pdgemm).
    #[arg(long, default_value_t = 768)]
    pdgemm_n: usize,
}

pub fn run(args: BlasAbiArgs) -> anyhow::Result<()> {
    let root = workspace_root();
    let lib = build(&root)?;
    println!("built {}", lib.display());
    if args.build_only {
        return Ok(());
    }
    let out = lib.parent().expect("the library lies in a directory").join("blas-abi");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let tests = root.join("crates/matmul-blas-abi/tests");
    c_program(&tests, &lib, &out)?;
    if !args.skip.contains(&Optional::Numpy) {
        numpy(&tests, &lib)?;
    }
    if !args.skip.contains(&Optional::Scalapack) {
        scalapack(&tests, &lib, &out, args.pdgemm_n)?;
    }
    println!("blas-abi: all tests passed");
    Ok(())
}

/// `cargo build --release -p matmul-blas-abi`; the path of `libmatmul_blas.so`.
fn build(root: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--package", "matmul-blas-abi"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building matmul-blas-abi failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let lib = target.join("release/libmatmul_blas.so");
    if !lib.exists() {
        bail!("{} was not built", lib.display());
    }
    Ok(lib)
}

/// Runs `cmd`, echoing it; fails with `hint` when the program is missing.
fn run_checked(cmd: &mut Command, hint: &str) -> anyhow::Result<()> {
    println!("$ {cmd:?}");
    let status = cmd.status().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!("{:?} not found: {hint}", cmd.get_program())
        } else {
            anyhow::anyhow!("running {:?}: {e}", cmd.get_program())
        }
    })?;
    if !status.success() {
        bail!("{:?} failed ({status})", cmd.get_program());
    }
    Ok(())
}

/// The C program over every symbol, transpose, leading dimension and bad argument, linked
/// against the library with `-rdynamic` so that its own error handlers are the ones called.
fn c_program(tests: &Path, lib: &Path, out: &Path) -> anyhow::Result<()> {
    let dir = lib.parent().expect("the library lies in a directory");
    let exe = out.join("gemm_abi");
    run_checked(
        Command::new("cc")
            .args(["-O2", "-Wall", "-rdynamic", "-o"])
            .arg(&exe)
            .arg(tests.join("c/gemm_abi.c"))
            .arg(format!("-L{}", dir.display()))
            .arg(format!("-Wl,-rpath,{}", dir.display()))
            .args(["-lmatmul_blas", "-lm"]),
        "install a C compiler (apt-get install gcc)",
    )?;
    run_checked(&mut Command::new(&exe), "")
}

/// numpy's `A @ B` with the library preloaded (Debian's numpy, which links the system BLAS).
fn numpy(tests: &Path, lib: &Path) -> anyhow::Result<()> {
    run_checked(
        Command::new("/usr/bin/python3").arg(tests.join("numpy_preload.py")).arg(lib),
        "install Debian's numpy (apt-get install python3-numpy), or pass --skip numpy",
    )
}

/// ScaLAPACK's pdgemm on 4 MPI processes, first on the system BLAS, then with the library
/// preloaded (where every rank's local GEMMs must reach it).
fn scalapack(tests: &Path, lib: &Path, out: &Path, n: usize) -> anyhow::Result<()> {
    let hint = "install ScaLAPACK and Open MPI (apt-get install libscalapack-openmpi-dev openmpi-bin), or pass --skip scalapack";
    let exe = out.join("pdgemm");
    run_checked(
        Command::new("mpicc").args(["-O2", "-o"]).arg(&exe).arg(tests.join("c/pdgemm.c")).args([
            "-lscalapack-openmpi",
            "-lm",
            "-ldl",
        ]),
        hint,
    )?;
    let mpirun = || {
        let mut cmd = Command::new("mpirun");
        // Loopback only, on this one machine, more ranks than cores; root (CI) is allowed.
        cmd.args(["--oversubscribe", "--mca", "btl", "self,vader", "-np", "4"])
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        cmd
    };
    let (n, nb) = (n.to_string(), "64");
    run_checked(mpirun().arg(&exe).args([n.as_str(), nb]), hint)?;
    run_checked(
        mpirun().arg("-x").arg(format!("LD_PRELOAD={}", lib.display())).arg(&exe).args([
            n.as_str(),
            nb,
            "expect-matmul",
        ]),
        hint,
    )
}
