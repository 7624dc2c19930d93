//! `cargo xtask blas-abi`: build the drop-in BLAS library (`crates/matmul-blas-abi`) and
//! run it under real programs: a C program calling every exported symbol, numpy with the
//! library preloaded, and ScaLAPACK's `pdgemm_` over MPI on a 2 × 2 process grid.
//!
//! The programs come from Debian's packages: `gcc` and `libc6-dev`, `python3-numpy`,
//! `libscalapack-openmpi-dev`, `libopenmpi-dev` (mpi.h) and `openmpi-bin` (`.ci/run`
//! installs them). Before anything is built, [`missing`] probes each of them and the run
//! stops with the package to install for every one that is absent.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

/// One thing a test program needs from the system, how to tell it is there, and the Debian
/// package that provides it.
#[derive(Debug)]
struct Prerequisite {
    /// The test that needs it; `None` for the C program, which always runs.
    test: Option<Optional>,
    /// What it is, for the message.
    what: &'static str,
    probe: Probe,
    /// The Debian packages that provide it.
    packages: &'static str,
}

#[derive(Debug)]
enum Probe {
    /// `compiler -E` preprocesses `#include <header>`: the compiler runs and finds the header.
    Header { compiler: &'static str, header: &'static str },
    /// `lib{name}.so` is on the linker's search path.
    Library(&'static str),
    /// The command runs and exits with 0.
    Command(&'static [&'static str]),
}

/// Everything the three test programs need, in the order they run.
const PREREQUISITES: [Prerequisite; 5] = [
    Prerequisite {
        test: None,
        what: "a C compiler with the C library's headers",
        probe: Probe::Header { compiler: "cc", header: "stdio.h" },
        packages: "gcc libc6-dev",
    },
    Prerequisite {
        test: Some(Optional::Numpy),
        what: "Debian's numpy for /usr/bin/python3",
        probe: Probe::Command(&["/usr/bin/python3", "-c", "import numpy"]),
        packages: "python3-numpy",
    },
    Prerequisite {
        test: Some(Optional::Scalapack),
        what: "Open MPI's compiler wrapper and headers (mpicc, mpi.h)",
        probe: Probe::Header { compiler: "mpicc", header: "mpi.h" },
        packages: "libopenmpi-dev",
    },
    Prerequisite {
        test: Some(Optional::Scalapack),
        what: "Open MPI's launcher (mpirun)",
        probe: Probe::Command(&["mpirun", "--version"]),
        packages: "openmpi-bin",
    },
    Prerequisite {
        test: Some(Optional::Scalapack),
        what: "ScaLAPACK for Open MPI (libscalapack-openmpi.so)",
        probe: Probe::Library("scalapack-openmpi"),
        packages: "libscalapack-openmpi-dev",
    },
];

impl Probe {
    fn holds(&self) -> bool {
        let quiet = |cmd: &mut Command| {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        };
        match self {
            Probe::Header { compiler, header } => {
                let mut cmd = Command::new(compiler);
                cmd.args(["-E", "-x", "c", "-o", "/dev/null", "-"]).stdin(Stdio::piped());
                quiet(&mut cmd);
                let Ok(mut child) = cmd.spawn() else { return false };
                let source = format!("#include <{header}>\n");
                let wrote = child.stdin.take().is_some_and(|mut stdin| stdin.write_all(source.as_bytes()).is_ok());
                child.wait().is_ok_and(|s| s.success()) && wrote
            }
            Probe::Library(name) => {
                let file = format!("lib{name}.so");
                crate::detect::linker_search_path().iter().any(|dir| dir.join(&file).exists())
            }
            Probe::Command(argv) => {
                let mut cmd = Command::new(argv[0]);
                cmd.args(&argv[1..]);
                quiet(&mut cmd);
                cmd.status().is_ok_and(|s| s.success())
            }
        }
    }
}

/// The prerequisites of the tests that will run (all but `skip`) that this machine lacks.
fn missing<'a>(prerequisites: &'a [Prerequisite], skip: &[Optional]) -> Vec<&'a Prerequisite> {
    prerequisites.iter().filter(|p| p.test.is_none_or(|t| !skip.contains(&t))).filter(|p| !p.probe.holds()).collect()
}

/// One line per missing prerequisite, then the one install command for all of them.
fn missing_message(missing: &[&Prerequisite]) -> String {
    let mut text = String::from("cargo xtask blas-abi cannot run its test programs on this machine:\n");
    for p in missing {
        let skip = p.test.map_or(String::new(), |t| {
            format!(
                " (or pass --skip {})",
                clap::ValueEnum::to_possible_value(&t).expect("no skipped variants").get_name()
            )
        });
        text.push_str(&format!("  missing {}: apt-get install {}{skip}\n", p.what, p.packages));
    }
    let mut packages: Vec<&str> = missing.iter().flat_map(|p| p.packages.split(' ')).collect();
    packages.sort_unstable();
    packages.dedup();
    text.push_str(&format!("to install them all: apt-get install {}", packages.join(" ")));
    text
}

pub fn run(args: BlasAbiArgs) -> anyhow::Result<()> {
    let root = workspace_root();
    if !args.build_only {
        let missing = missing(&PREREQUISITES, &args.skip);
        if !missing.is_empty() {
            bail!("{}", missing_message(&missing));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header(compiler: &'static str, header: &'static str) -> Prerequisite {
        Prerequisite { test: None, what: header, probe: Probe::Header { compiler, header }, packages: "pkg" }
    }

    #[test]
    fn an_absent_header_or_compiler_is_missing_and_a_present_one_is_not() {
        // `cc` and `stdio.h` are what builds this crate's dependencies' C code here.
        assert!(header("cc", "stdio.h").probe.holds());
        assert!(!header("cc", "matmul_no_such_header.h").probe.holds());
        assert!(!header("matmul-no-such-compiler", "stdio.h").probe.holds());
        assert!(!Probe::Library("matmul_no_such_library").holds());
        assert!(!Probe::Command(&["matmul-no-such-program"]).holds());
        assert!(!Probe::Command(&["false"]).holds());
        assert!(Probe::Command(&["true"]).holds());
    }

    #[test]
    fn skipped_tests_prerequisites_are_not_probed_and_the_message_names_each_package() {
        let absent = |test, packages| Prerequisite {
            test,
            what: "thing",
            probe: Probe::Command(&["matmul-no-such-program"]),
            packages,
        };
        let list = [absent(None, "gcc libc6-dev"), absent(Some(Optional::Scalapack), "libopenmpi-dev libc6-dev")];
        assert_eq!(missing(&list, &[Optional::Scalapack]).len(), 1);
        let all = missing(&list, &[]);
        assert_eq!(all.len(), 2);
        let text = missing_message(&all);
        assert!(text.contains("apt-get install libopenmpi-dev libc6-dev (or pass --skip scalapack)"), "{text}");
        assert!(text.ends_with("apt-get install gcc libc6-dev libopenmpi-dev"), "{text}");
    }
}
