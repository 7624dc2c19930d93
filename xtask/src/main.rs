//! `cargo xtask`: the project's automation. `main` parses flags and dispatches; each
//! subcommand lives in its own module with a `run` function.
//!
//! xtask does not link any backend itself: it builds the `matmul-cli` runner in release
//! mode with the features asked for (see [`runner`]) and runs it.

use clap::{Parser, Subcommand};

mod check;
mod detect;
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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Check(args) => check::run(args),
    }
}
