//! Building and running the `matmul-cli` runner.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

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
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_path_buf()
}

/// Builds `matmul-cli` in release mode and returns the path of the binary.
///
/// Native builds set `RUSTFLAGS=-C target-cpu=native` (so LLVM uses every instruction set
/// this CPU has, as Numba's JIT does) and use their own target directory, `target/native`,
/// so that switching flags does not rebuild the ordinary `target/` tree.
pub fn build(args: &BuildArgs) -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    let mut features = vec!["naive".to_owned()];
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
    Ok(target_dir.join("release").join("matmul-cli"))
}

/// Runs the runner binary with `args`; errors if it exits non-zero.
pub fn run(binary: &Path, args: &[String]) -> anyhow::Result<()> {
    let status = Command::new(binary).args(args).status().with_context(|| format!("running {}", binary.display()))?;
    if !status.success() {
        bail!("{} {} failed ({status})", binary.display(), args.join(" "));
    }
    Ok(())
}
