//! `matmul-cli`: the runner behind `cargo xtask`. It links the backends chosen by cargo
//! features and does the work: `list` the backends, `check` them against the reference,
//! measure their `accuracy` as n grows, `bench` them, and run one call for `icount`.
//! `main` only parses arguments and dispatches; each subcommand has its own module.

use clap::{Parser, Subcommand};

mod accuracy;
mod bench;
mod check;
mod gpu_sweep;
mod list;

#[derive(Debug, Parser)]
#[command(
    name = "matmul-cli",
    version,
    about = "Check, measure and benchmark the matmul backends compiled into this binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the backends (and peers) with their kind and details, and whether each can run here.
    List(list::ListArgs),
    /// Run every selected backend over the test grid, f32 and f64, against the reference.
    Check(check::CheckArgs),
    /// Error against the reference as n grows, per backend, dtype and input kind.
    Accuracy(accuracy::AccuracyArgs),
    /// Benchmark every selected backend and peer: the scaling sweep, the layout experiment
    /// and any rectangular shapes, interleaved, with accuracy and the machine's peak, as JSON.
    Bench(bench::BenchArgs),
    /// Measure two handles to the same backend side by side at memory-bound points: their
    /// times must agree, or the bench harness is unfair (fails beyond `--bound`).
    Fairness(bench::fairness::FairnessArgs),
    /// Run one fixed small GEMM once, for instruction counting under callgrind.
    Icount(bench::icount::IcountArgs),
    /// Every CUDA kernel configuration, kernel only, beside cuBLAS at each size: GFLOP/s,
    /// ratio, % of peak, and a check against the reference (needs the `cuda` feature and a GPU).
    GpuSweep(gpu_sweep::GpuSweepArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::List(args) => list::run(args),
        Command::Check(args) => check::run(args),
        Command::Accuracy(args) => accuracy::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Fairness(args) => bench::fairness::run(args),
        Command::Icount(args) => bench::icount::run(args),
        Command::GpuSweep(args) => gpu_sweep::run(args),
    }
}
