//! `cargo xtask`: the project's automation. `main` parses flags and dispatches; each
//! subcommand lives in its own module with a `run` function.
//!
//! xtask does not link any backend itself: it builds the `matmul-cli` runner in release
//! mode with the features asked for (see [`runner`]) and runs it.

use clap::{Parser, Subcommand};

mod accuracy;
mod asm;
mod batch;
mod bench;
mod blas_abi;
mod check;
mod compare;
mod detect;
mod gpu_bundle;
mod history;
mod runner;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "matmul project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check every compiled backend, f32 and f64, against the higher-precision reference.
    Check(check::CheckArgs),
    /// Error against the reference as n grows, per backend, dtype and input kind: table, JSON, SVG.
    Accuracy(accuracy::AccuracyArgs),
    /// The assembly (or LLVM IR) of a backend's hot loop, a verdict on it, and its monomorphised instances.
    Asm(asm::AsmArgs),
    /// Benchmark every backend and peer: scaling sweep, layout experiment, rectangular
    /// shapes, peak, accuracy; writes report.md/.html, results.json and plots to
    /// target/matmul-report/.
    Bench(bench::BenchArgs),
    /// Many small products: each backend's batch call against a loop of single calls, at
    /// n = 2 … 64, f32/f64, 1 and 2 threads; writes batch.md and batch.json.
    Batch(batch::BatchArgs),
    /// Build the drop-in BLAS library (libmatmul_blas.so) and test it under C, numpy and ScaLAPACK programs.
    BlasAbi(blas_abi::BlasAbiArgs),
    /// Time two revisions side by side (alternating processes, a Mann–Whitney test) and
    /// fail on a confirmed regression of this project's backends.
    Compare(compare::CompareArgs),
    /// Build what the CUDA checks need on the GPU machine (no Rust there) into one folder,
    /// with the script that runs them all in one call.
    GpuBundle(gpu_bundle::GpuBundleArgs),
    /// GFLOP/s against commit for every tracked point, step changes marked, in one HTML page.
    History(history::HistoryArgs),
    /// Instruction counts of fixed small GEMMs under valgrind's callgrind, with baseline comparison.
    Icount(bench::icount::IcountArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Check(args) => check::run(args),
        Command::Accuracy(args) => accuracy::run(args),
        Command::Asm(args) => asm::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Icount(args) => bench::icount::run(args),
        Command::BlasAbi(args) => blas_abi::run(args),
        Command::Compare(args) => compare::run(args),
        Command::History(args) => history::run(args),
        Command::GpuBundle(args) => gpu_bundle::run(args),
    }
}
