//! A git revision built into a runner: resolved to a commit, checked out as a detached
//! `git worktree` under `target/compare/worktrees/`, and built with [`runner::build_in`]
//! into this workspace's target directory (so its dependencies are built once for both
//! sides). The work tree itself, uncommitted changes included, is the default head.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::runner::{self, BuildArgs};

/// A revision to build: a commit of the repository, or the work tree as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revision {
    /// `git rev-parse` of what was asked (`main`, `HEAD~1`, a hash).
    Commit { asked: String, hash: String },
    /// The work tree: `HEAD` plus any uncommitted changes.
    WorkTree { head: String, dirty: bool },
}

impl Revision {
    /// Resolves `asked` (`None`: the work tree).
    pub fn resolve(asked: Option<&str>) -> anyhow::Result<Revision> {
        let root = runner::workspace_root();
        match asked {
            Some(asked) => {
                let hash = git(&root, &["rev-parse", "--verify", "--quiet", &format!("{asked}^{{commit}}")])
                    .with_context(|| format!("{asked:?} is not a commit of this repository"))?;
                Ok(Revision::Commit { asked: asked.to_owned(), hash })
            }
            None => {
                let head = git(&root, &["rev-parse", "HEAD"])?;
                let dirty = !git(&root, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
                Ok(Revision::WorkTree { head, dirty })
            }
        }
    }

    /// How a table names it: what was asked, or `work tree`.
    pub fn name(&self) -> String {
        match self {
            Revision::Commit { asked, .. } => asked.clone(),
            Revision::WorkTree { .. } => "work tree".to_owned(),
        }
    }

    /// The commit hash, with `-dirty` for a work tree with changes.
    pub fn commit(&self) -> String {
        match self {
            Revision::Commit { hash, .. } => hash.clone(),
            Revision::WorkTree { head, dirty } => format!("{head}{}", if *dirty { "-dirty" } else { "" }),
        }
    }

    fn hash(&self) -> &str {
        match self {
            Revision::Commit { hash, .. } => hash,
            Revision::WorkTree { head, .. } => head,
        }
    }

    /// The commit's subject line and time (seconds since the epoch).
    pub fn subject_and_time(&self) -> (String, i64) {
        let root = runner::workspace_root();
        let out = git(&root, &["show", "-s", "--format=%ct %s", self.hash()]).unwrap_or_default();
        let (time, subject) = out.split_once(' ').unwrap_or(("0", ""));
        (subject.to_owned(), time.parse().unwrap_or(0))
    }

    /// Where its source is: the workspace itself, or a worktree of its commit (made, or
    /// reused when one is already there at that commit).
    pub fn checkout(&self) -> anyhow::Result<PathBuf> {
        let root = runner::workspace_root();
        let Revision::Commit { hash, .. } = self else {
            return Ok(root);
        };
        let dir = root.join("target").join("compare").join("worktrees").join(&hash[..12.min(hash.len())]);
        if dir.join(".git").exists() {
            if git(&dir, &["rev-parse", "HEAD"]).ok().as_deref() == Some(hash.as_str()) {
                return Ok(dir);
            }
            git(&root, &["worktree", "remove", "--force", &dir.display().to_string()])?;
        }
        // A folder left by a removed worktree (or an interrupted add) would stop `add`.
        let _ = git(&root, &["worktree", "prune"]);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir.parent().expect("a parent"))?;
        git(&root, &["worktree", "add", "--force", "--detach", &dir.display().to_string(), hash])?;
        Ok(dir)
    }

    /// Builds its runner and copies it to `dest`; returns `rustc --version` of the
    /// toolchain that built it (the checkout's own `rust-toolchain.toml` decides).
    pub fn build(&self, build: &BuildArgs, dest: &Path) -> anyhow::Result<String> {
        let dir = self.checkout()?;
        eprintln!("xtask compare: building {} ({}) in {}", self.name(), self.commit(), dir.display());
        forget_workspace_artifacts(&dir, build)?;
        let built = runner::build_in(&dir, build)?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&built, dest).with_context(|| format!("copying {} to {}", built.display(), dest.display()))?;
        rustc_version(&dir)
    }
}

/// Removes the release artifacts of the workspace's own packages (as `dir` lists them)
/// from the target directory that [`runner::build_in`] uses, so that they are built from
/// `dir`'s sources.
///
/// Both checkouts build into one target directory, and cargo names a path package's
/// artifacts by its name, version and settings, not by its path: base and head write the
/// same files. Building the head after the base then found the base's `matmul-cli` fresh
/// (the head's sources were older than it) and the "head" runner was the base's (seen in
/// `cargo xtask icount --base`: the head listed the base's cases). The dependencies stay,
/// shared.
fn forget_workspace_artifacts(dir: &Path, build: &BuildArgs) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let meta = Command::new(&cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(dir)
        .output()
        .context("running cargo metadata")?;
    if !meta.status.success() {
        bail!("cargo metadata failed in {}: {}", dir.display(), String::from_utf8_lossy(&meta.stderr).trim());
    }
    let meta: serde_json::Value = serde_json::from_slice(&meta.stdout).context("parsing cargo metadata")?;
    let names: Vec<&str> =
        meta["packages"].as_array().map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect()).unwrap_or_default();
    if names.is_empty() {
        bail!("cargo metadata lists no package in {}", dir.display());
    }
    let mut clean = Command::new(&cargo);
    clean.args(["clean", "--release", "--quiet"]).current_dir(dir).env("CARGO_TARGET_DIR", runner::target_dir(build));
    for name in names {
        clean.args(["-p", name]);
    }
    let status = clean.status().context("running cargo clean")?;
    if !status.success() {
        bail!("cargo clean of the workspace's packages failed in {} ({status})", dir.display());
    }
    Ok(())
}

/// `rustc --version` of the toolchain cargo uses in `dir` (its `rust-toolchain.toml`
/// decides, through rustup).
pub fn rustc_version(dir: &Path) -> anyhow::Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = Command::new(rustc).arg("--version").current_dir(dir).output().context("running rustc --version")?;
    if !out.status.success() {
        bail!("rustc --version failed in {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs git in `dir`; its trimmed stdout, or an error with its stderr.
fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git").args(args).current_dir(dir).output().context("running git")?;
    if !out.status.success() {
        bail!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_resolve_or_fail_with_the_name() {
        // The repository's own HEAD always resolves (CI clones it with history).
        let head = Revision::resolve(Some("HEAD")).unwrap();
        assert!(matches!(&head, Revision::Commit { hash, .. } if hash.len() == 40), "{head:?}");
        let err = Revision::resolve(Some("no-such-revision-anywhere")).unwrap_err();
        assert!(format!("{err:#}").contains("no-such-revision-anywhere"), "{err:#}");
        let tree = Revision::resolve(None).unwrap();
        assert_eq!(tree.name(), "work tree");
        assert!(tree.commit().starts_with(head.commit().as_str()));
    }
}
