//! `cargo xtask gpu-bundle`: everything the CUDA backends' checks need on a machine with an
//! NVIDIA GPU, built on this machine into one folder with the script that runs them
//! (`xtask/gpu-bundle/run.sh`): the runner (generic x86-64, no BLAS library linked),
//! matmul-cuda's unit tests, its shared-grid test and its NVRTC gate. The GPU machine needs
//! an NVIDIA driver but no Rust toolchain: copy the folder there and run `bash run.sh` in
//! it. One run does every check that needs a GPU and leaves a log, a summary and the
//! sweep's and the bench's JSON in `$OUT` (or `./gpu-out`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::runner::{self, BuildArgs};

/// The script that runs on the GPU machine.
const RUN_SH: &str = include_str!("../gpu-bundle/run.sh");

/// A cap on the bundle plus the repository's tracked files, so that a copy of the whole
/// checkout with the bundle inside it fits one upload of at most 64 MiB.
const TRAVEL_LIMIT_BYTES: u64 = 64 << 20;

/// Arguments of `gpu-bundle`.
#[derive(Debug, clap::Args)]
pub struct GpuBundleArgs {
    /// The folder to fill (emptied first). The default, under `target/`, is git-ignored,
    /// so the bundle never ends up in a commit.
    #[arg(long, default_value = "target/gpu-bundle")]
    out: PathBuf,
}

/// matmul-cuda's test executables the bundle takes, by target name, and their name there.
const TESTS: [(&str, &str); 3] =
    [("matmul_cuda", "matmul-cuda-unit"), ("availability", "availability"), ("nvrtc_gate", "nvrtc-gate")];

pub fn run(args: GpuBundleArgs) -> anyhow::Result<()> {
    let root = runner::workspace_root();
    let out = if args.out.is_absolute() { args.out.clone() } else { root.join(&args.out) };
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("emptying {}", out.display()))?;
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let cli = runner::build(&BuildArgs { features: Vec::new(), portable: true, no_detect: true })?;
    install(&cli, &out.join("matmul-cli"))?;
    for (path, name) in test_executables(&root)? {
        install(&path, &out.join(name))?;
    }
    std::fs::write(out.join("run.sh"), RUN_SH).context("writing run.sh")?;
    std::fs::write(out.join("BUILT_FROM"), format!("{}\n", built_from(&root))).context("writing BUILT_FROM")?;

    let bundle = folder_bytes(&out)?;
    let tree = tracked_bytes(&root)?;
    println!("{}: {:.1} MiB; with the tracked files ({:.1} MiB)", out.display(), mib(bundle), mib(tree));
    if bundle + tree > TRAVEL_LIMIT_BYTES {
        bail!("the bundle and the tracked files come to {:.1} MiB, over the 64 MiB cap", mib(bundle + tree));
    }
    match out.strip_prefix(&root) {
        Ok(rel) if ignored(&root, rel) => {
            println!(
                "for the GPU machine (an NVIDIA driver, no Rust needed): copy {0} there and run `bash run.sh` in it, \
                 or `bash {0}/run.sh` from a copy of the checkout",
                rel.display()
            )
        }
        Ok(rel) => println!(
            "{0} is not git-ignored: keep it out of commits. For the GPU machine: copy it there and run \
             `bash run.sh` in it, or `bash {0}/run.sh` from a copy of the checkout",
            rel.display()
        ),
        Err(_) => println!(
            "{} is outside the repository: copy it to the GPU machine (an NVIDIA driver, no Rust needed) and \
             run `bash run.sh` in it",
            out.display()
        ),
    }
    Ok(())
}

/// Whether git ignores `rel` (a path inside the repository at `root`).
fn ignored(root: &Path, rel: &Path) -> bool {
    Command::new("git").current_dir(root).args(["check-ignore", "-q"]).arg(rel).status().is_ok_and(|s| s.success())
}

/// `cargo test -p matmul-cuda --release --no-run`, and the executables of [`TESTS`].
fn test_executables(root: &Path) -> anyhow::Result<Vec<(PathBuf, &'static str)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("xtask: building matmul-cuda's tests (release)");
    let output = Command::new(cargo)
        .current_dir(root)
        .args(["test", "--release", "--package", "matmul-cuda", "--no-run", "--message-format=json"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running cargo test --no-run")?;
    if !output.status.success() {
        bail!("building matmul-cuda's tests failed ({})", output.status);
    }
    let found = executables(&String::from_utf8_lossy(&output.stdout));
    TESTS
        .iter()
        .map(|&(target, name)| {
            let path = found
                .iter()
                .find(|(t, _)| t == target)
                .map(|(_, p)| p.clone())
                .ok_or_else(|| anyhow::anyhow!("cargo built no test executable for target {target}"))?;
            Ok((path, name))
        })
        .collect()
}

/// (target name, executable) of every test artifact in cargo's JSON messages.
fn executables(messages: &str) -> Vec<(String, PathBuf)> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            let exe = m["executable"].as_str()?;
            Some((m["target"]["name"].as_str()?.to_owned(), PathBuf::from(exe)))
        })
        .collect()
}

/// Copies `from` to `to` without its debug information (`strip` where there is one).
fn install(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    match Command::new("strip").arg("--strip-debug").arg(to).status() {
        Ok(s) if s.success() => {}
        _ => eprintln!("xtask: {} keeps its debug information (no working `strip`)", to.display()),
    }
    Ok(())
}

/// `git describe`-like provenance: the commit, `-dirty` with changes.
fn built_from(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown commit".to_owned());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    format!("{commit}{}", if dirty { "-dirty" } else { "" })
}

fn folder_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        total += entry?.metadata()?.len();
    }
    Ok(total)
}

/// Bytes of the files git tracks: what a copy of the checkout weighs besides the bundle.
fn tracked_bytes(root: &Path) -> anyhow::Result<u64> {
    let out = Command::new("git").current_dir(root).args(["ls-files", "-z"]).output().context("git ls-files")?;
    Ok(out
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .filter_map(|p| std::fs::metadata(root.join(String::from_utf8_lossy(p).as_ref())).ok())
        .map(|m| m.len())
        .sum())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_executables_are_found_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"matmul_core"},"profile":{"test":false},"executable":null}
{"reason":"compiler-artifact","target":{"name":"availability"},"profile":{"test":true},"executable":"/t/release/deps/availability-abc"}
{"reason":"compiler-artifact","target":{"name":"matmul_cuda"},"profile":{"test":true},"executable":"/t/release/deps/matmul_cuda-def"}
{"reason":"build-finished","success":true}
not json"#;
        let found = executables(messages);
        assert_eq!(
            found,
            vec![
                ("availability".to_owned(), PathBuf::from("/t/release/deps/availability-abc")),
                ("matmul_cuda".to_owned(), PathBuf::from("/t/release/deps/matmul_cuda-def")),
            ]
        );
    }

    #[test]
    fn the_script_runs_every_check_the_cuda_issue_asks_for() {
        for needle in
            ["MATMUL_REQUIRE_GPU=1 ./availability", "gpu-sweep", "--tool memcheck", "--tool racecheck", "check "]
        {
            assert!(RUN_SH.contains(needle), "run.sh lacks {needle}");
        }
        for (_, name) in TESTS {
            assert!(RUN_SH.contains(&format!("./{name}")), "run.sh never runs {name}");
        }
    }
}
