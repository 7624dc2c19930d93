//! The runner's command line: what `cargo xtask` (bench, compare, check, accuracy, icount)
//! asks `matmul-cli` to do, as one typed [`RunnerCommand`].
//!
//! Each subcommand's options are declared here once. The runner flattens them into its
//! own subcommands (`#[command(flatten)]`), xtask flattens the ones its users set, and
//! every program that starts a runner renders its argv with [`RunnerCommand::to_args`]:
//! no program writes a runner flag by hand, so a renamed or added flag cannot drift
//! between the two sides (the runner's tests parse every variant's argv back).
//! The runner's answers are this crate's types too: [`CheckTally`] here,
//! [`crate::accuracy::Report`], [`crate::runner::RunnerOutput`] and, for `list --json`,
//! [`crate::runner::BackendInfo`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::options::{BenchOptions, DtypeList};

/// `matmul-cli check`: every selected backend over the shared test grid.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct CheckOptions {
    /// Backend to check (repeatable); default: every compiled backend.
    #[arg(long = "backend", value_name = "NAME")]
    pub backends: Vec<String>,
    /// Element types, comma-separated (f32, f64, bf16, f16), or `all` (the default).
    #[arg(long, value_name = "LIST", default_value = "all")]
    pub dtype: DtypeList,
    /// A subset of the grid that runs in seconds.
    #[arg(long)]
    pub quick: bool,
    /// Print every failing case, not just the first few per backend and dtype.
    #[arg(long)]
    pub verbose: bool,
}

/// The options as the runner parses an argv that gives none: clap's declared defaults are
/// the only ones, so `Default` and the command line cannot disagree.
pub(crate) fn declared_defaults<T: clap::Args>() -> T {
    #[derive(clap::Parser)]
    struct Bare<T: clap::Args> {
        #[command(flatten)]
        options: T,
    }
    <Bare<T> as clap::Parser>::parse_from(["runner"]).options
}

impl Default for CheckOptions {
    fn default() -> Self {
        declared_defaults()
    }
}

/// `matmul-cli accuracy`: error against the reference as n grows.
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct AccuracyOptions {
    /// Backend to measure (repeatable); default: every compiled backend that can run here.
    #[arg(long = "backend", value_name = "NAME")]
    pub backends: Vec<String>,
    /// Element types, comma-separated (f32, f64, bf16, f16), or `all`.
    #[arg(long, value_name = "LIST", default_value = "f32,f64")]
    pub dtype: DtypeList,
    /// Sizes n of the n × n × n products, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "16,32,64,128,256,512,1024,2048,4096")]
    pub sizes: Vec<usize>,
    /// Seconds each backend and dtype may spend (both input kinds together) before larger
    /// sizes are skipped.
    #[arg(long, value_name = "SECONDS", default_value_t = 40.0)]
    pub budget_s: f64,
    /// Entries of C compared with the reference per product (all of them when C is smaller).
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub samples: usize,
    /// Seed of the inputs and of the sampled entries.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl Default for AccuracyOptions {
    fn default() -> Self {
        declared_defaults()
    }
}

/// `matmul-cli icount`: one fixed product, once, for callgrind to count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IcountRequest {
    /// `--list`: print `BACKEND CASE` for every pair this process can run.
    List,
    /// Run `case` on `backend` (a name from the list, or `simd[ISA]`).
    Run { backend: String, case: String },
}

/// One runner invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum RunnerCommand {
    /// `list --json`: every backend and peer compiled in, as [`crate::runner::BackendInfo`]s.
    List,
    /// `check`: ends with a [`CheckTally`] line.
    Check(CheckOptions),
    /// `accuracy --json FILE`: writes a [`crate::accuracy::Report`].
    Accuracy { options: AccuracyOptions, json: PathBuf },
    /// `bench --json FILE`: writes a [`crate::runner::RunnerOutput`].
    Bench { options: BenchOptions, json: PathBuf },
    /// `icount`.
    Icount(IcountRequest),
    /// `batch --json FILE`: writes a [`crate::batch::Report`].
    Batch { options: crate::batch::BatchOptions, json: PathBuf },
}

fn flag(out: &mut Vec<String>, name: &str, value: impl ToString) {
    out.extend([format!("--{name}"), value.to_string()]);
}

fn backends(out: &mut Vec<String>, names: &[String]) {
    for b in names {
        flag(out, "backend", b);
    }
}

impl RunnerCommand {
    /// The runner's argv for this command (without the program). Options at their defaults
    /// are left out, so the runner applies its own defaults.
    pub fn to_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            RunnerCommand::List => out.extend(["list".to_owned(), "--json".to_owned()]),
            RunnerCommand::Check(o) => {
                out.push("check".to_owned());
                backends(&mut out, &o.backends);
                if !o.dtype.is_all() {
                    flag(&mut out, "dtype", &o.dtype);
                }
                out.extend(o.quick.then(|| "--quick".to_owned()));
                out.extend(o.verbose.then(|| "--verbose".to_owned()));
            }
            RunnerCommand::Accuracy { options: o, json } => {
                out.push("accuracy".to_owned());
                flag(&mut out, "json", json.display());
                backends(&mut out, &o.backends);
                let d = AccuracyOptions::default();
                if o.dtype != d.dtype {
                    flag(&mut out, "dtype", &o.dtype);
                }
                if o.sizes != d.sizes {
                    flag(&mut out, "sizes", o.sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(","));
                }
                if o.budget_s != d.budget_s {
                    flag(&mut out, "budget-s", o.budget_s);
                }
                if o.samples != d.samples {
                    flag(&mut out, "samples", o.samples);
                }
                if o.seed != d.seed {
                    flag(&mut out, "seed", o.seed);
                }
            }
            RunnerCommand::Bench { options, json } => {
                out.push("bench".to_owned());
                flag(&mut out, "json", json.display());
                out.extend(options.to_args());
            }
            RunnerCommand::Batch { options, json } => {
                out.push("batch".to_owned());
                flag(&mut out, "json", json.display());
                out.extend(options.to_args());
            }
            RunnerCommand::Icount(IcountRequest::List) => out.extend(["icount".to_owned(), "--list".to_owned()]),
            RunnerCommand::Icount(IcountRequest::Run { backend, case }) => {
                out.push("icount".to_owned());
                flag(&mut out, "backend", backend);
                flag(&mut out, "case", case);
            }
        }
        out
    }
}

/// The last line of `check`: `N passed, M failed`, which xtask sums over its runners.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckTally {
    pub passed: usize,
    pub failed: usize,
}

impl std::ops::AddAssign for CheckTally {
    fn add_assign(&mut self, other: CheckTally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

impl fmt::Display for CheckTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// A line that is not a [`CheckTally`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotATally;

impl FromStr for CheckTally {
    type Err = NotATally;

    fn from_str(line: &str) -> Result<Self, NotATally> {
        let (p, f) = line.trim().split_once(" passed, ").ok_or(NotATally)?;
        let failed = f.strip_suffix(" failed").ok_or(NotATally)?;
        Ok(CheckTally { passed: p.parse().map_err(|_| NotATally)?, failed: failed.parse().map_err(|_| NotATally)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_lines_round_trip_and_others_are_refused() {
        let t = CheckTally { passed: 1980, failed: 3 };
        assert_eq!(t.to_string(), "1980 passed, 3 failed");
        assert_eq!(t.to_string().parse(), Ok(t));
        assert_eq!("3 passed, 12 failed\n".parse(), Ok(CheckTally { passed: 3, failed: 12 }));
        for bad in ["dgemm openblas 3 passed", "x passed, 0 failed", "1 passed, 2 failed!"] {
            assert_eq!(bad.parse::<CheckTally>(), Err(NotATally), "{bad}");
        }
    }

    #[test]
    fn defaults_render_to_the_bare_subcommand() {
        assert_eq!(RunnerCommand::Check(CheckOptions::default()).to_args(), ["check"]);
        let acc = RunnerCommand::Accuracy { options: AccuracyOptions::default(), json: "a.json".into() };
        assert_eq!(acc.to_args(), ["accuracy", "--json", "a.json"]);
        assert_eq!(RunnerCommand::List.to_args(), ["list", "--json"]);
    }
}
