//! `matmul-cli`: the runner behind `cargo xtask`. It links the backends chosen by cargo
//! features and does the work: `list` the backends, `check` them against the reference.
//! `main` only parses arguments and dispatches; each subcommand has its own module.

use clap::{Parser, Subcommand};

mod accuracy;
mod bench;
mod check;

#[derive(Debug, Parser)]
#[command(name = "matmul-cli", version, about = "Check matmul backends against the higher-precision reference")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the compiled backends and whether each can run here.
    List,
    /// Run every selected backend over the test grid, f32 and f64, against the reference.
    Check(check::CheckArgs),
    /// Error against the reference as n grows, per backend, dtype and input kind.
    Accuracy(accuracy::AccuracyArgs),
    /// Benchmark every selected backend and peer: the scaling sweep and the layout
    /// experiment, interleaved, with accuracy and the machine's peak, as JSON.
    Bench(bench::BenchArgs),
    /// Measure two handles to the same backend side by side at memory-bound points: their
    /// times must agree, or the bench harness is unfair (fails beyond `--bound`).
    Fairness(bench::fairness::FairnessArgs),
    /// Run one fixed small GEMM once, for instruction counting under callgrind.
    Icount(bench::icount::IcountArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::List => {
            for b in matmul::backends() {
                let status = match b.availability() {
                    matmul::Availability::Available => "available".to_owned(),
                    matmul::Availability::Unavailable(why) => format!("unavailable: {why}"),
                };
                println!("{:<20} {:<60} {status}", b.name(), b.description());
            }
            Ok(())
        }
        Command::Check(args) => check::run(args),
        Command::Accuracy(args) => accuracy::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Fairness(args) => bench::fairness::run(args),
        Command::Icount(args) => bench::icount::run(args),
    }
}
