//! `cargo xtask check`: build the runner and run `matmul-cli check`.

use crate::runner::{self, BuildArgs};

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
    let binary = runner::build(&args.build)?;
    let mut cli = vec!["check".to_owned()];
    for b in &args.backends {
        cli.extend(["--backend".to_owned(), b.clone()]);
    }
    if args.quick {
        cli.push("--quick".to_owned());
    }
    if args.verbose {
        cli.push("--verbose".to_owned());
    }
    runner::run(&binary, &cli)
}
