//! `cargo xtask check`: build the runner(s) and run `matmul-cli check` in each.
//!
//! With several BLAS libraries installed there is one runner per library (see
//! [`runner::runner_builds`]): each backend asked for is checked once, in the first
//! runner that holds it ([`runner::assign`]). Each runner ends with a line
//! `N passed, M failed`; with several runners a last line of the same form sums them.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::{bail, Context};

use crate::runner::{self, BuildArgs, Share};

/// Options of `cargo xtask check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Backend to check (repeatable); default: every compiled backend.
    #[arg(long = "backend", value_name = "NAME")]
    backends: Vec<String>,
    /// A subset of the grid that runs in seconds.
    #[arg(long)]
    quick: bool,
    /// Print every failing case.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    build: BuildArgs,
}

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let (mut passed, mut failed, mut runs) = (0usize, 0usize, 0usize);
    runner::for_each_runner(&args.build, &args.backends, Share::Once, runner::not_a_peer, |runner, names| {
        let mut cli = vec!["check".to_owned()];
        for b in names {
            cli.extend(["--backend".to_owned(), b.clone()]);
        }
        if args.quick {
            cli.push("--quick".to_owned());
        }
        if args.verbose {
            cli.push("--verbose".to_owned());
        }
        eprintln!("xtask check: {} runner: {}", runner.label, names.join(", "));
        let (p, f) = run_and_tally(&runner.binary, &cli)?;
        passed += p;
        failed += f;
        runs += 1;
        Ok(())
    })?;
    if runs > 1 {
        println!("all {runs} runners:");
        println!("{passed} passed, {failed} failed");
    }
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}

/// Runs the runner, echoing its output, and returns the counts of its final
/// `N passed, M failed` line. A runner that exits without one is an error.
fn run_and_tally(binary: &std::path::Path, args: &[String]) -> anyhow::Result<(usize, usize)> {
    let mut child = runner::command(binary)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", binary.display()))?;
    let mut tally = None;
    for line in BufReader::new(child.stdout.take().context("runner stdout")?).lines() {
        let line = line?;
        println!("{line}");
        if let Some(t) = parse_tally(&line) {
            tally = Some(t);
        }
    }
    let status = child.wait()?;
    match tally {
        Some(t) => Ok(t),
        None => bail!("{} {} ended ({status}) without a `N passed, M failed` line", binary.display(), args.join(" ")),
    }
}

/// `"12 passed, 3 failed"` → `(12, 3)`.
fn parse_tally(line: &str) -> Option<(usize, usize)> {
    let (p, f) = line.trim().split_once(" passed, ")?;
    Some((p.parse().ok()?, f.strip_suffix(" failed")?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::parse_tally;

    #[test]
    fn tally_lines_parse() {
        assert_eq!(parse_tally("1980 passed, 0 failed"), Some((1980, 0)));
        assert_eq!(parse_tally("3 passed, 12 failed\n"), Some((3, 12)));
        assert_eq!(parse_tally("dgemm openblas 3 passed"), None);
        assert_eq!(parse_tally("x passed, 0 failed"), None);
    }
}
