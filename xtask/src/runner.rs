//! Building and running the `matmul-cli` runner.
//!
//! A runner links at most one BLAS library (they export the same symbols; see the
//! `matmul-blas` crate docs), so a machine with several installed needs several runners.
//! [`runner_builds`] says which to build: every subcommand that runs backends builds and
//! runs each of them in turn, with [`build`] and [`run`] (or [`backend_names`] to see
//! which backends a runner holds). Every runner process is started by [`command`], which
//! sets [`RUNNER_ENV`].

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::detect;

/// Options every subcommand that runs backends shares.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildArgs {
    /// Extra cargo features of the runner (comma-separated), e.g. `openblas,blis`.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub features: Vec<String>,
    /// Build for a generic x86-64 instead of `-C target-cpu=native` (for a binary that
    /// must run on another machine).
    #[arg(long)]
    pub portable: bool,
    /// Do not enable the features of the system BLAS libraries found on this machine
    /// (only `--features` and the pure-Rust backends).
    #[arg(long)]
    pub no_detect: bool,
}

/// The runners to build for `args`, each as the `BuildArgs` that [`build`] takes.
///
/// The features are the user's `--features` plus, unless `--no-detect`, those of the
/// BLAS libraries installed here (detection is printed, with an install command for each
/// library that is missing). With at most one BLAS library that is one runner; with more,
/// one runner per library, each with every non-BLAS feature too, in the order of
/// [`detect::BLAS_LIBRARIES`]. The returned args have `no_detect` set, so [`build`] uses
/// exactly their features.
///
/// A subcommand checks or measures the pure-Rust backends in the first runner only and
/// the BLAS backend of each later one (see `check.rs`).
pub fn runner_builds(args: &BuildArgs) -> Vec<BuildArgs> {
    let mut features: Vec<String> = Vec::new();
    for f in &args.features {
        if !f.is_empty() && !features.contains(f) {
            features.push(f.clone());
        }
    }
    if !args.no_detect {
        let found = detect::detect();
        detect::report(&found);
        for (lib, _) in found.iter().filter(|(_, w)| w.is_some()) {
            if !features.iter().any(|f| f == lib.feature) {
                features.push(lib.feature.to_owned());
            }
        }
    }
    let (mut blas, rest): (Vec<String>, Vec<String>) = features.into_iter().partition(|f| detect::is_blas_feature(f));
    let order = |f: &String| detect::BLAS_LIBRARIES.iter().position(|l| l.feature == f);
    blas.sort_by_key(order);
    let with = |extra: Option<&String>| BuildArgs {
        features: rest.iter().chain(extra).cloned().collect(),
        portable: args.portable,
        no_detect: true,
    };
    if blas.is_empty() {
        vec![with(None)]
    } else {
        blas.iter().map(|b| with(Some(b))).collect()
    }
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_path_buf()
}

/// Builds `matmul-cli` in release mode and returns the path of the binary.
///
/// Unless `args.no_detect`, the features go through [`runner_builds`] first; if that
/// gives several runners (several BLAS libraries), this builds the first and says so:
/// callers that want them all iterate over [`runner_builds`]. The binary is copied to
/// `matmul-cli-{blas library or "rust"}` next to cargo's, so the runners of one machine
/// coexist.
///
/// Native builds set `RUSTFLAGS=-C target-cpu=native` (so LLVM uses every instruction set
/// this CPU has, as Numba's JIT does) and use their own target directory, `target/native`,
/// so that switching flags does not rebuild the ordinary `target/` tree.
pub fn build(args: &BuildArgs) -> anyhow::Result<PathBuf> {
    let resolved;
    let args = if args.no_detect {
        args
    } else {
        let mut builds = runner_builds(args);
        if builds.len() > 1 {
            let others: Vec<String> = builds[1..].iter().map(|b| b.features.join(",")).collect();
            eprintln!("xtask: one BLAS library per runner: building only the first; not built: {}", others.join("; "));
        }
        resolved = builds.swap_remove(0);
        &resolved
    };
    let blas: Vec<&String> = args.features.iter().filter(|f| detect::is_blas_feature(f)).collect();
    if blas.len() > 1 {
        bail!(
            "features {blas:?} would link several BLAS libraries into one runner, where the first would answer \
             every call; build one per library (runner::runner_builds)"
        );
    }
    let label = blas.first().map_or("rust", |f| f.as_str());
    let root = workspace_root();
    // The peers are always built in: `check` does not use them, but then `check` and
    // `bench` share one binary per BLAS library instead of building two.
    let mut features = vec!["naive".to_owned(), "peers".to_owned()];
    for f in &args.features {
        if !f.is_empty() && !features.contains(f) {
            features.push(f.clone());
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root).args([
        "build",
        "--release",
        "--package",
        "matmul-cli",
        "--no-default-features",
        "--features",
    ]);
    cmd.arg(features.join(","));
    let target_dir = if args.portable {
        root.join("target")
    } else {
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        flags.push_str(" -C target-cpu=native");
        cmd.env("RUSTFLAGS", flags.trim());
        root.join("target").join("native")
    };
    cmd.env("CARGO_TARGET_DIR", &target_dir);
    eprintln!(
        "xtask: building matmul-cli (release, features: {}, codegen: {})",
        features.join(","),
        if args.portable { "generic x86-64" } else { "-C target-cpu=native" }
    );
    let status = cmd.status().context("running cargo build")?;
    if !status.success() {
        bail!("building matmul-cli failed ({status})");
    }
    let built = target_dir.join("release").join("matmul-cli");
    let copy = target_dir.join("release").join(format!("matmul-cli-{label}"));
    std::fs::copy(&built, &copy).with_context(|| format!("copying {} to {}", built.display(), copy.display()))?;
    Ok(copy)
}

/// The environment of every runner process, unless the user set these variables: idle
/// BLAS worker threads go to sleep almost at once instead of spinning, so at a threaded
/// point the workers of the backend that just ran do not take cycles from the next one.
/// `OPENBLAS_THREAD_TIMEOUT`: OpenBLAS's pthreads wait 2^n cycles, n clamped to at least 4
/// (its default is 28, about 0.1 s at 2.5 GHz). `OMP_WAIT_POLICY`: OpenMP builds of
/// OpenBLAS, BLIS and MKL.
pub const RUNNER_ENV: [(&str, &str); 2] = [("OPENBLAS_THREAD_TIMEOUT", "1"), ("OMP_WAIT_POLICY", "PASSIVE")];

/// A command that runs the runner `binary`, with [`RUNNER_ENV`].
pub fn command(binary: &Path) -> Command {
    let mut cmd = Command::new(binary);
    for (var, value) in RUNNER_ENV {
        if std::env::var_os(var).is_none() {
            cmd.env(var, value);
        }
    }
    cmd
}

/// The names of the backends a runner binary holds (`matmul-cli list`, first column).
pub fn backend_names(binary: &Path) -> anyhow::Result<Vec<String>> {
    let out = command(binary).arg("list").output().with_context(|| format!("running {} list", binary.display()))?;
    if !out.status.success() {
        bail!("{} list failed ({})", binary.display(), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// Runs the runner binary with `args`; errors if it exits non-zero. (`check` reads its
/// output instead; this is for subcommands that only need it to succeed.)
pub fn run(binary: &Path, args: &[String]) -> anyhow::Result<()> {
    let status = command(binary).args(args).status().with_context(|| format!("running {}", binary.display()))?;
    if !status.success() {
        bail!("{} {} failed ({status})", binary.display(), args.join(" "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(features: &[&str]) -> BuildArgs {
        BuildArgs { features: features.iter().map(|f| f.to_string()).collect(), portable: false, no_detect: true }
    }

    #[test]
    fn one_runner_per_blas_library_each_with_the_rest() {
        let builds = runner_builds(&args(&["blis", "naive", "openblas", "mkl"]));
        let features: Vec<Vec<String>> = builds.iter().map(|b| b.features.clone()).collect();
        assert_eq!(features, [["naive", "openblas"], ["naive", "blis"], ["naive", "mkl"]]);
        assert!(builds.iter().all(|b| b.no_detect));
    }

    #[test]
    fn runner_processes_get_the_idle_thread_settings() {
        let cmd = command(Path::new("matmul-cli"));
        let envs: Vec<_> = cmd.get_envs().collect();
        for (var, value) in RUNNER_ENV {
            if std::env::var_os(var).is_none() {
                assert!(envs.contains(&(var.as_ref(), Some(value.as_ref()))), "{var} not set: {envs:?}");
            }
        }
    }

    #[test]
    fn without_blas_there_is_one_runner() {
        let builds = runner_builds(&args(&["naive", "", "naive"]));
        assert_eq!(builds.len(), 1);
        assert_eq!(builds[0].features, ["naive"]);
        assert_eq!(runner_builds(&args(&["openblas"]))[0].features, ["openblas"]);
    }
}
