//! Building and running the `matmul-cli` runner.
//!
//! A runner links at most one BLAS library (they export the same symbols; see the
//! `matmul-blas` crate docs), so a machine with several installed needs several runners.
//! [`runner_builds`] says which to build; [`for_each_runner`] builds them all, asks each
//! which backends it holds (`matmul-cli list --json`), shares the backends asked for out
//! among them ([`assign`]) and calls back once per runner that has any.
//! Every runner process is started by [`command`], which sets [`RUNNER_ENV`].

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use matmul_bench_format::protocol::RunnerCommand;
use matmul_bench_format::runner::BackendInfo;
use matmul_bench_format::Kind;

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
/// Which runner runs which backend is [`assign`]'s decision.
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
/// callers that want them all use [`runners`] or [`for_each_runner`]. The binary is copied to
/// `matmul-cli-{blas library or "rust"}` next to cargo's, so the runners of one machine
/// coexist.
///
/// Native builds set `RUSTFLAGS=-C target-cpu=native` (so LLVM uses every instruction set
/// this CPU has, as Numba's JIT does) and use their own target directory, `target/native`,
/// so that switching flags does not rebuild the ordinary `target/` tree.
pub fn build(args: &BuildArgs) -> anyhow::Result<PathBuf> {
    let (label, features) = features_of(args)?;
    let target_dir = target_dir(args);
    cargo_build(&workspace_root(), &features, args.portable, &target_dir)?;
    let built = target_dir.join("release").join("matmul-cli");
    let copy = target_dir.join("release").join(format!("matmul-cli-{label}"));
    std::fs::copy(&built, &copy).with_context(|| format!("copying {} to {}", built.display(), copy.display()))?;
    Ok(copy)
}

/// The cargo features [`build`] builds the runner of `args` with, and the runner's label
/// (its BLAS library, or `rust`).
///
/// Unless `args.no_detect`, the features go through [`runner_builds`] first; if that
/// gives several runners (several BLAS libraries), this takes the first and says so.
pub fn features_of(args: &BuildArgs) -> anyhow::Result<(String, Vec<String>)> {
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
    let label = blas.first().map_or("rust", |f| f.as_str()).to_owned();
    // The pure-Rust backends and the peers are always built in: `check` does not use the
    // peers, but then `check` and `bench` share one binary per BLAS library instead of two.
    // So are the CUDA backends: they need no CUDA at build time, run where a GPU is (the
    // runner is copied to the GPU machine, which has no Rust) and are skipped with their
    // reason elsewhere.
    let mut features = vec!["naive".to_owned(), "simd".to_owned(), "peers".to_owned(), "cuda".to_owned()];
    for f in &args.features {
        if !f.is_empty() && !features.contains(f) {
            features.push(f.clone());
        }
    }
    Ok((label, features))
}

/// `cargo build --release -p matmul-cli` of the workspace at `root` with exactly `features`,
/// into `target_dir`, with `-C target-cpu=native` unless `portable`.
pub fn cargo_build(root: &Path, features: &[String], portable: bool, target_dir: &Path) -> anyhow::Result<()> {
    let flags: &[&str] = if portable { &[] } else { &["-C", "target-cpu=native"] };
    let codegen = if portable { "generic x86-64" } else { "-C target-cpu=native" };
    cargo_build_with(root, features, flags, codegen, target_dir)
}

/// [`cargo_build`] with `rustflags` added to `RUSTFLAGS` (`codegen` describes them in the
/// progress line).
pub fn cargo_build_with(
    root: &Path,
    features: &[String],
    rustflags: &[&str],
    codegen: &str,
    target_dir: &Path,
) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args([
        "build",
        "--release",
        "--package",
        "matmul-cli",
        "--no-default-features",
        "--features",
    ]);
    cmd.arg(features.join(","));
    if !rustflags.is_empty() {
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        for f in rustflags {
            flags.push(' ');
            flags.push_str(f);
        }
        cmd.env("RUSTFLAGS", flags.trim());
    }
    cmd.env("CARGO_TARGET_DIR", target_dir);
    eprintln!("xtask: building matmul-cli (release, features: {}, codegen: {codegen})", features.join(","));
    let status = cmd.status().context("running cargo build")?;
    if !status.success() {
        bail!("building matmul-cli failed ({status})");
    }
    Ok(())
}

/// The target directory [`build`] builds into: `target/`, or `target/native` for
/// `-C target-cpu=native`.
pub fn target_dir(args: &BuildArgs) -> PathBuf {
    let root = workspace_root().join("target");
    if args.portable {
        root
    } else {
        root.join("native")
    }
}

/// The environment of every runner process, unless the user set these variables: idle
/// BLAS worker threads go to sleep almost at once instead of spinning, so at a threaded
/// point the workers of the backend that just ran do not take cycles from the next one.
/// `OPENBLAS_THREAD_TIMEOUT`: OpenBLAS's pthreads wait 2^n cycles, n clamped to at least 4
/// (its default is 28, about 0.1 s at 2.5 GHz). `OMP_WAIT_POLICY`: OpenMP builds of
/// OpenBLAS, BLIS and MKL.
pub const RUNNER_ENV: [(&str, &str); 2] = [("OPENBLAS_THREAD_TIMEOUT", "1"), ("OMP_WAIT_POLICY", "PASSIVE")];

/// A command that runs the runner `binary` on `what` (its argv from the runner protocol),
/// with [`RUNNER_ENV`].
pub fn command(binary: &Path, what: &RunnerCommand) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(what.to_args());
    for (var, value) in RUNNER_ENV {
        if std::env::var_os(var).is_none() {
            cmd.env(var, value);
        }
    }
    cmd
}

/// A built runner and the backends it holds.
#[derive(Debug, Clone)]
pub struct Runner {
    /// Its BLAS library, or `rust` when it has none.
    pub label: String,
    pub binary: PathBuf,
    /// `matmul-cli list --json`: every backend and peer compiled in.
    pub backends: Vec<BackendInfo>,
}

/// The backends a runner binary holds (`matmul-cli list --json`).
pub fn list(binary: &Path) -> anyhow::Result<Vec<BackendInfo>> {
    let out = command(binary, &RunnerCommand::List)
        .output()
        .with_context(|| format!("running {} list --json", binary.display()))?;
    if !out.status.success() {
        bail!("{} list --json failed ({})", binary.display(), out.status);
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("parsing {} list --json", binary.display()))
}

/// Builds every runner of `args` (see [`runner_builds`]) and lists its backends.
pub fn runners(args: &BuildArgs) -> anyhow::Result<Vec<Runner>> {
    runner_builds(args)
        .iter()
        .map(|build| {
            let binary = self::build(build)?;
            let label = build.features.iter().find(|f| detect::is_blas_feature(f)).cloned();
            Ok(Runner { label: label.unwrap_or_else(|| "rust".to_owned()), backends: list(&binary)?, binary })
        })
        .collect()
}

/// How a backend held by several runners (the pure-Rust ones and the peers are in each)
/// is shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Run it once, in the first runner that is started anyway (`check`, `accuracy`).
    Once,
    /// Run it in every runner that is started (`bench`: each point's ratio to a BLAS
    /// library then comes from one process).
    Everywhere,
}

/// The backends each runner runs, from the names asked for (all of `inventories` when
/// none is): a runner is started when it holds a name no other runner holds, or when a
/// name held by several is not covered by a started runner yet (then the first holding
/// it); a runner left with no names is not started (its entry is empty). A name no
/// runner holds is one error listing every name there is.
pub fn assign(asked: &[String], inventories: &[Vec<String>], share: Share) -> anyhow::Result<Vec<Vec<String>>> {
    let mut wanted: Vec<String> = Vec::new();
    let every: Vec<&String> = inventories.iter().flatten().collect();
    for name in if asked.is_empty() { every } else { asked.iter().collect() } {
        if !wanted.contains(name) {
            wanted.push(name.clone());
        }
    }
    let holders =
        |name: &String| -> Vec<usize> { (0..inventories.len()).filter(|&i| inventories[i].contains(name)).collect() };
    let unknown: Vec<&String> = wanted.iter().filter(|n| holders(n).is_empty()).collect();
    if !unknown.is_empty() {
        let mut every: Vec<&String> = inventories.iter().flatten().collect();
        every.sort();
        every.dedup();
        bail!(
            "unknown backend(s) {}; the runners built here have: {}",
            unknown.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
            every.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    let mut started = vec![false; inventories.len()];
    for name in &wanted {
        if let [only] = holders(name)[..] {
            started[only] = true;
        }
    }
    for name in &wanted {
        let h = holders(name);
        if !h.iter().any(|&i| started[i]) {
            started[h[0]] = true;
        }
    }
    let mut done: Vec<&String> = Vec::new();
    let mut out = Vec::new();
    for (i, inventory) in inventories.iter().enumerate() {
        let mine: Vec<String> = if started[i] {
            inventory
                .iter()
                .filter(|n| wanted.contains(n) && (share == Share::Everywhere || !done.contains(n)))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        done.extend(wanted.iter().filter(|n| mine.contains(n)));
        out.push(mine);
    }
    Ok(out)
}

/// Builds every runner, shares out the backends asked for (see [`assign`]) among the
/// backends that `holds` selects, and calls `f` with each runner that got any, in order.
/// When no name is asked for, backends that cannot run here are left out, with a note.
pub fn for_each_runner(
    build: &BuildArgs,
    asked: &[String],
    share: Share,
    holds: impl Fn(&BackendInfo) -> bool,
    mut f: impl FnMut(&Runner, &[String]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let runners = runners(build)?;
    let inventories: Vec<Vec<String>> = runners
        .iter()
        .map(|r| {
            r.backends
                .iter()
                .filter(|b| holds(b) && (!asked.is_empty() || b.availability.is_available()))
                .map(|b| b.name.clone())
                .collect()
        })
        .collect();
    if asked.is_empty() {
        for b in runners.iter().flat_map(|r| &r.backends).filter(|b| holds(b)) {
            if let matmul_bench_format::runner::Availability::Unavailable { why } = &b.availability {
                eprintln!("xtask: {} cannot run here ({why}): left out", b.name);
            }
        }
    }
    for (runner, names) in runners.iter().zip(assign(asked, &inventories, share)?) {
        if !names.is_empty() {
            f(runner, &names)?;
        }
    }
    Ok(())
}

/// Whether `check` and `accuracy` run a backend: every one but the bench's peers.
pub fn not_a_peer(b: &BackendInfo) -> bool {
    b.kind != Kind::Peer
}

/// Runs the runner binary with `args`; errors if it exits non-zero. (`check` reads its
/// output instead; this is for subcommands that only need it to succeed.)
pub fn run(binary: &Path, what: &RunnerCommand) -> anyhow::Result<()> {
    let status = command(binary, what).status().with_context(|| format!("running {}", binary.display()))?;
    if !status.success() {
        bail!("{} {} failed ({status})", binary.display(), what.to_args().join(" "));
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

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Two runners as on a machine with OpenBLAS and BLIS: the pure-Rust backends in both.
    fn two_runners() -> Vec<Vec<String>> {
        vec![names(&["openblas", "naive-ikj", "peer:gemm"]), names(&["blis", "naive-ikj", "peer:gemm"])]
    }

    /// `--backends naive-ikj,openblas` with BLIS installed too: the BLIS runner is not
    /// started (it used to be, with the whole list, and stopped at "unknown backend openblas").
    #[test]
    fn a_list_is_resolved_across_runners() {
        let inv = two_runners();
        let asked = names(&["naive-ikj", "openblas"]);
        let openblas_runner = names(&["openblas", "naive-ikj"]);
        assert_eq!(assign(&asked, &inv, Share::Everywhere).unwrap(), [openblas_runner.clone(), vec![]]);
        assert_eq!(assign(&asked, &inv, Share::Once).unwrap(), [openblas_runner, vec![]]);
        // A BLIS-only list starts the BLIS runner only.
        let asked = names(&["naive-ikj", "blis"]);
        assert_eq!(assign(&asked, &inv, Share::Everywhere).unwrap(), [vec![], names(&["blis", "naive-ikj"])]);
        // Both libraries: the shared backend runs beside each (bench), or once (check).
        let asked = names(&["naive-ikj", "openblas", "blis"]);
        assert_eq!(
            assign(&asked, &inv, Share::Everywhere).unwrap(),
            [names(&["openblas", "naive-ikj"]), names(&["blis", "naive-ikj"])]
        );
        assert_eq!(assign(&asked, &inv, Share::Once).unwrap(), [names(&["openblas", "naive-ikj"]), names(&["blis"])]);
        // Only shared backends: the first runner alone.
        let asked = names(&["peer:gemm"]);
        assert_eq!(assign(&asked, &inv, Share::Everywhere).unwrap(), [asked, vec![]]);
    }

    #[test]
    fn nothing_asked_runs_everything() {
        let inv = two_runners();
        assert_eq!(assign(&[], &inv, Share::Everywhere).unwrap(), inv);
        assert_eq!(
            assign(&[], &inv, Share::Once).unwrap(),
            [names(&["openblas", "naive-ikj", "peer:gemm"]), names(&["blis"])]
        );
    }

    #[test]
    fn an_unknown_name_is_one_error_listing_every_name() {
        let err = assign(&names(&["naive-ikj", "mkl", "cuda"]), &two_runners(), Share::Once).unwrap_err().to_string();
        assert!(err.contains("\"mkl\", \"cuda\""), "{err}");
        assert!(err.contains("blis, naive-ikj, openblas, peer:gemm"), "{err}");
    }

    #[test]
    fn runner_processes_get_the_idle_thread_settings_and_the_protocol_argv() {
        let cmd = command(Path::new("matmul-cli"), &RunnerCommand::List);
        assert_eq!(cmd.get_args().collect::<Vec<_>>(), ["list", "--json"]);
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
