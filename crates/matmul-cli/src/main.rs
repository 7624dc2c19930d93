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
    /// Run every selected backend over the test grid, in each element type, against the reference.
    Check(check::CheckArgs),
    /// Error against the reference as n grows, per backend, dtype and input kind.
    Accuracy(accuracy::AccuracyArgs),
    /// Benchmark every selected backend and peer: the scaling sweep, the layout experiment
    /// and any rectangular shapes, interleaved, with accuracy and the machine's peak, as JSON.
    Bench(bench::BenchArgs),
    /// Measure two handles to the same backend side by side at memory-bound points: their
    /// times must agree, or the bench harness is unfair (fails beyond `--bound`).
    Fairness(bench::fairness::FairnessArgs),
    /// Many small products: each backend's batch call against a loop of single calls, at
    /// square sizes and thread counts, checked against the reference, as a table and JSON.
    Batch(bench::batch::BatchArgs),
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
        Command::Batch(args) => bench::batch::run(args),
        Command::Icount(args) => bench::icount::run(args),
        Command::GpuSweep(args) => gpu_sweep::run(args),
    }
}

#[cfg(test)]
mod tests {
    use matmul_bench_format::batch::BatchOptions;
    use matmul_bench_format::options::BenchOptions;
    use matmul_bench_format::protocol::{AccuracyOptions, CheckOptions, IcountRequest, RunnerCommand};

    use super::*;

    fn parsed(command: &RunnerCommand) -> Command {
        let argv = std::iter::once("matmul-cli".to_owned()).chain(command.to_args());
        match Cli::try_parse_from(argv) {
            Ok(cli) => cli.command,
            Err(e) => panic!("{:?} does not parse: {e}", command.to_args()),
        }
    }

    /// What xtask renders through the runner protocol is what this runner parses, for every
    /// command, with every option away from its default and at it.
    #[test]
    fn every_runner_command_parses_back_to_its_options() {
        assert!(matches!(parsed(&RunnerCommand::List), Command::List(list::ListArgs { json: true })));
        let check = CheckOptions {
            backends: vec!["simd".into(), "naive-ikj".into()],
            dtype: "f64".parse().unwrap(),
            quick: true,
            verbose: true,
        };
        for options in [check, CheckOptions::default()] {
            let Command::Check(got) = parsed(&RunnerCommand::Check(options.clone())) else { panic!("not check") };
            assert_eq!(got, options);
        }
        let accuracy = AccuracyOptions {
            backends: vec!["openblas".into()],
            dtype: "f32".parse().unwrap(),
            sizes: vec![8, 24],
            budget_s: 2.5,
            samples: 9,
            seed: 3,
        };
        for options in [accuracy, AccuracyOptions::default()] {
            let json = std::path::PathBuf::from("/tmp/part 0.json");
            let command = RunnerCommand::Accuracy { options: options.clone(), json: json.clone() };
            let Command::Accuracy(got) = parsed(&command) else { panic!("not accuracy") };
            assert_eq!((got.options, got.json), (options, Some(json)));
        }
        let bench =
            BenchOptions { sizes: vec![16], layouts: "all".parse().unwrap(), quick: true, ..Default::default() };
        let command = RunnerCommand::Bench { options: bench.clone(), json: "b.json".into() };
        let Command::Bench(got) = parsed(&command) else { panic!("not bench") };
        assert_eq!((got.options, got.json), (bench, Some("b.json".into())));
        let batch = BatchOptions {
            backends: vec!["simd".into(), "mkl".into()],
            dtype: "f64".parse().unwrap(),
            sizes: vec![2, 5],
            threads: vec![3],
            madds: 2.5e6,
            rounds: 7,
            seed: 9,
        };
        for options in [batch, BatchOptions::default()] {
            let command = RunnerCommand::Batch { options: options.clone(), json: "batch.json".into() };
            let Command::Batch(got) = parsed(&command) else { panic!("not batch") };
            assert_eq!((got.options, got.json), (options, Some("batch.json".into())));
        }
        let Command::Icount(got) = parsed(&RunnerCommand::Icount(IcountRequest::List)) else { panic!("not icount") };
        assert!(got.list && got.backend.is_none());
        let run = IcountRequest::Run { backend: "simd[avx2]".into(), case: "f64-rrr-64".into() };
        let Command::Icount(got) = parsed(&RunnerCommand::Icount(run)) else { panic!("not icount") };
        assert_eq!(
            (got.list, got.backend.as_deref(), got.case.as_deref()),
            (false, Some("simd[avx2]"), Some("f64-rrr-64"))
        );
    }
}
