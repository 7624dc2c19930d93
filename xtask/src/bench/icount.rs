//! `cargo xtask icount`: instruction counts of a few fixed small GEMMs per backend under
//! `valgrind --tool=callgrind`, a regression signal that does not depend on how busy the
//! machine is. Every backend is counted once, in the first runner that holds it (one
//! runner per BLAS library). Compared with a baseline like the timings: a count that grew
//! by more than the threshold is a regression, and a count on one side only is listed and
//! fails unless `--allow-missing`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::runner::{self, BuildArgs, Share};

/// Options of `cargo xtask icount`.
#[derive(Debug, clap::Args)]
pub struct IcountArgs {
    /// Output directory (writes instructions.json and the callgrind files).
    #[arg(long, value_name = "DIR", default_value = "target/matmul-report")]
    out: PathBuf,
    /// Compare with this instructions.json; exit non-zero when a count grew by more than the threshold.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Growth that counts as a regression, as a fraction.
    #[arg(long, default_value_t = 0.02)]
    threshold: f64,
    /// Also write the counts here, as a later run's baseline.
    #[arg(long, value_name = "FILE")]
    save_baseline: Option<PathBuf>,
    /// Do not fail when a count is in the baseline only or in this run only (they are
    /// listed either way).
    #[arg(long)]
    allow_missing: bool,
    #[command(flatten)]
    build: BuildArgs,
}

/// `instructions.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub schema: u32,
    pub kind: String,
    pub counts: Vec<Count>,
}

/// The instructions one backend executed in one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub backend: String,
    pub case: String,
    pub instructions: u64,
}

/// The total of a callgrind output file (its `summary:` or `totals:` line).
pub fn parse_callgrind(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// A comparison of two sets of counts.
#[derive(Debug, Default, PartialEq)]
pub struct IcountComparison {
    /// `(backend, case, new / old)` for every count on both sides.
    pub ratios: Vec<(String, String, f64)>,
    /// How many grew past the threshold.
    pub regressions: usize,
    /// `backend case (where it is)` for every count on one side only.
    pub missing: Vec<String>,
}

/// Compares every count of `new` with `old`.
pub fn compare(new: &Counts, old: &Counts, threshold: f64) -> IcountComparison {
    let mut out = IcountComparison::default();
    let find = |counts: &Counts, c: &Count| {
        counts.counts.iter().find(|o| o.backend == c.backend && o.case == c.case).map(|o| o.instructions)
    };
    for c in &new.counts {
        match find(old, c) {
            Some(o) => {
                let ratio = c.instructions as f64 / o.max(1) as f64;
                if ratio > 1.0 + threshold {
                    out.regressions += 1;
                }
                out.ratios.push((c.backend.clone(), c.case.clone(), ratio));
            }
            None => out.missing.push(format!("{} {} (measured now, not in the baseline)", c.backend, c.case)),
        }
    }
    for o in old.counts.iter().filter(|o| find(new, o).is_none()) {
        out.missing.push(format!("{} {} (in the baseline, not measured now)", o.backend, o.case));
    }
    out
}

pub fn run(args: IcountArgs) -> anyhow::Result<()> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        bail!("valgrind is not installed (Debian: apt-get install valgrind)");
    }
    let root = runner::workspace_root();
    let out = if args.out.is_absolute() { args.out.clone() } else { root.join(&args.out) };
    let cg_dir = out.join("callgrind");
    std::fs::create_dir_all(&cg_dir)?;
    let mut counts = Counts { schema: 1, kind: "instructions".to_owned(), counts: Vec::new() };
    // Each backend once, in the first runner that holds it (one runner per BLAS library).
    runner::for_each_runner(
        &args.build,
        &[],
        Share::Once,
        |_| true,
        |r, names| {
            let list =
                Command::new(&r.binary).args(["icount", "--list"]).output().context("listing the icount cases")?;
            if !list.status.success() {
                bail!("{} icount --list failed", r.binary.display());
            }
            for line in String::from_utf8_lossy(&list.stdout).lines() {
                let Some((backend, case)) = line.split_once(' ') else { continue };
                if names.iter().any(|n| n == backend) {
                    let instructions = count(&r.binary, backend, case, &cg_dir)?;
                    println!("{backend:<22} {case:<12} {instructions:>14} instructions");
                    counts.counts.push(Count { backend: backend.to_owned(), case: case.to_owned(), instructions });
                }
            }
            Ok(())
        },
    )?;
    let path = out.join("instructions.json");
    std::fs::write(&path, serde_json::to_string_pretty(&counts)? + "\n")?;
    println!("xtask icount: wrote {}", path.display());
    if let Some(p) = &args.save_baseline {
        std::fs::write(p, serde_json::to_string_pretty(&counts)? + "\n")?;
    }
    if let Some(p) = &args.baseline {
        let old: Counts = load(p)?;
        let cmp = compare(&counts, &old, args.threshold);
        for (b, c, r) in &cmp.ratios {
            println!(
                "{b:<22} {c:<12} {r:.4}× the baseline's instructions{}",
                if *r > 1.0 + args.threshold { "  REGRESSED" } else { "" }
            );
        }
        for m in &cmp.missing {
            println!("MISSING: {m}");
        }
        if cmp.regressions > 0 {
            bail!("{} instruction count(s) grew by more than {:.0}%", cmp.regressions, args.threshold * 100.0);
        }
        if !cmp.missing.is_empty() && !args.allow_missing {
            bail!("{} count(s) on one side only (listed above); --allow-missing accepts that", cmp.missing.len());
        }
    }
    Ok(())
}

/// The instructions `backend` executes in `case`, counted by callgrind in `binary`.
fn count(binary: &Path, backend: &str, case: &str, cg_dir: &Path) -> anyhow::Result<u64> {
    let file = cg_dir.join(format!("{}-{case}.out", backend.replace(':', "_")));
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--toggle-collect=*icount_measured*", "-q"])
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(binary)
        .args(["icount", "--backend", backend, "--case", case])
        .env("MATMUL_NUM_THREADS", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .context("running valgrind")?;
    if !status.success() {
        bail!("callgrind of {backend} {case} failed ({status})");
    }
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let n = parse_callgrind(&text).with_context(|| format!("no total in {}", file.display()))?;
    if n == 0 {
        bail!("callgrind counted nothing for {backend} {case}: the toggle function was not found");
    }
    Ok(n)
}

fn load(path: &Path) -> anyhow::Result<Counts> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_callgrind_totals() {
        let text = "version: 1\ncreator: callgrind\nevents: Ir\nsummary: 123456\n\nfn=foo\n1 5\ntotals: 123456\n";
        assert_eq!(parse_callgrind(text), Some(123456));
        assert_eq!(parse_callgrind("events: Ir\n"), None);
    }

    #[test]
    fn counts_that_grew_past_the_threshold_regress() {
        let c = |b: &str, n: u64| Count { backend: b.to_owned(), case: "f64-rrr-64".to_owned(), instructions: n };
        let old = Counts { schema: 1, kind: "instructions".into(), counts: vec![c("a", 1000), c("b", 1000)] };
        let same = compare(&old, &old, 0.02);
        assert_eq!((same.regressions, same.missing.len()), (0, 0));
        let new = Counts { counts: vec![c("a", 1010), c("b", 1100)], ..old.clone() };
        let cmp = compare(&new, &old, 0.02);
        assert_eq!(cmp.regressions, 1);
        assert!((cmp.ratios[1].2 - 1.1).abs() < 1e-12);
    }

    #[test]
    fn counts_on_one_side_only_are_listed() {
        let c = |b: &str, n: u64| Count { backend: b.to_owned(), case: "f64-rrr-64".to_owned(), instructions: n };
        let old = Counts { schema: 1, kind: "instructions".into(), counts: vec![c("a", 1000), c("gone", 1000)] };
        let new = Counts { counts: vec![c("a", 1000), c("new", 5)], ..old.clone() };
        let cmp = compare(&new, &old, 0.02);
        assert_eq!(cmp.regressions, 0);
        assert_eq!(
            cmp.missing,
            [
                "new f64-rrr-64 (measured now, not in the baseline)",
                "gone f64-rrr-64 (in the baseline, not measured now)"
            ]
        );
    }
}
