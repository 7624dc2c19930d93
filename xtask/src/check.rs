//! `cargo xtask check`: build the runner(s) and run `matmul-cli check` in each.
//!
//! With several BLAS libraries installed there is one runner per library (see
//! [`runner::runner_builds`]): each backend asked for is checked once, in the first
//! runner that holds it ([`runner::assign`]). Each runner ends with a line
//! `N passed, M failed`; with several runners a last line of the same form sums them.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::{bail, Context};
use matmul_bench_format::protocol::{CheckOptions, CheckTally, RunnerCommand};

use crate::runner::{self, BuildArgs, Share};

/// Options of `cargo xtask check`: the runner's `check` options, and the runner builds.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    check: CheckOptions,
    #[command(flatten)]
    build: BuildArgs,
}

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let (mut total, mut runs) = (CheckTally::default(), 0usize);
    runner::for_each_runner(&args.build, &args.check.backends, Share::Once, runner::not_a_peer, |runner, names| {
        let what = RunnerCommand::Check(CheckOptions { backends: names.to_vec(), ..args.check.clone() });
        eprintln!("xtask check: {} runner: {}", runner.label, names.join(", "));
        total += run_and_tally(&runner.binary, &what)?;
        runs += 1;
        Ok(())
    })?;
    if runs > 1 {
        println!("all {runs} runners:");
        println!("{total}");
    }
    if total.failed > 0 {
        bail!("{} check(s) failed", total.failed);
    }
    Ok(())
}

/// Runs the runner, echoing its output, and returns its final [`CheckTally`] line. A
/// runner that exits without one is an error.
fn run_and_tally(binary: &std::path::Path, what: &RunnerCommand) -> anyhow::Result<CheckTally> {
    let mut child = runner::command(binary, what)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", binary.display()))?;
    let mut tally = None;
    for line in BufReader::new(child.stdout.take().context("runner stdout")?).lines() {
        let line = line?;
        println!("{line}");
        if let Ok(t) = line.parse::<CheckTally>() {
            tally = Some(t);
        }
    }
    let status = child.wait()?;
    match tally {
        Some(t) => Ok(t),
        None => bail!(
            "{} {} ended ({status}) without a `N passed, M failed` line",
            binary.display(),
            what.to_args().join(" ")
        ),
    }
}
