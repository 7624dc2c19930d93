//! `list`: every backend this runner holds (the compiled ones and the peers), with its
//! kind, details and whether it can run here; `--json` for xtask, which reads it instead
//! of parsing the text.

use matmul_bench_format::runner::{Availability, BackendInfo};

use crate::bench::{contenders, output::backend_info};

/// Options of `list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print a JSON array of backends (name, kind, description, details, availability,
    /// hot-loop symbols where known).
    #[arg(long)]
    pub(crate) json: bool,
}

pub fn run(args: ListArgs) -> anyhow::Result<()> {
    let all: Vec<BackendInfo> = contenders().into_iter().map(backend_info).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    for b in &all {
        let status = match &b.availability {
            Availability::Available => "available".to_owned(),
            Availability::Unavailable { why } => format!("unavailable: {why}"),
        };
        println!("{:<20} {:<6} {:<60} {status}", b.name, b.kind, b.description);
        if !b.details.is_empty() {
            println!("{:<20} {:<6} {}", "", "", b.details);
        }
    }
    Ok(())
}
