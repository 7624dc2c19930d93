//! A git revision built into a runner: resolved to a commit, checked out as a detached
//! `git worktree` under `target/compare/worktrees/`, and built with [`runner::cargo_build`]
//! into a target directory of its own (see [`Revision::build`]). The work tree itself,
//! uncommitted changes included, is the default head.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::runner;

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

    /// Builds its runner with exactly `features` (those of its `matmul-cli`: a base that
    /// predates a feature has none of it) and copies it to `dest`; returns `rustc --version`
    /// of the toolchain that built it (the checkout's own `rust-toolchain.toml` decides).
    ///
    /// Each revision has its own target directory, `target/compare/build/<commit>` (or
    /// `work-tree`), with `-portable` for a generic build. One shared directory does not
    /// work: cargo names a workspace package's artifacts by name, version and settings, not
    /// by its path, so two checkouts write the same files, and a head built after its base
    /// was found up to date and was the base's binary. A revision's dependencies are built
    /// once, on its first comparison (about a minute here).
    pub fn build(&self, features: &[String], portable: bool, dest: &Path) -> anyhow::Result<String> {
        let dir = self.checkout()?;
        let name = match self {
            Revision::Commit { hash, .. } => hash[..12.min(hash.len())].to_owned(),
            Revision::WorkTree { .. } => "work-tree".to_owned(),
        };
        let target = runner::workspace_root().join("target").join("compare").join("build").join(if portable {
            format!("{name}-portable")
        } else {
            name
        });
        eprintln!("xtask: building {} ({}) from {}", self.name(), self.commit(), dir.display());
        runner::cargo_build(&dir, features, portable, &target)?;
        let built = target.join("release").join("matmul-cli");
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&built, dest).with_context(|| format!("copying {} to {}", built.display(), dest.display()))?;
        rustc_version(&dir)
    }
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
