//! Running callgrind on one runner process and reading what it wrote.
//!
//! The cache simulation (`--cache-sim=yes`) adds, next to the instructions (`Ir`), the
//! data reads and writes (`Dr`, `Dw`) and the misses of the first-level instruction and
//! data caches (`I1mr`, `D1mr`, `D1mw`) and of the last level (`ILmr`, `DLmr`, `DLmw`).
//! The caches it simulates are fixed here ([`CALLGRIND_ARGS`]) rather than read from the
//! CPU, so that two machines simulate the same caches and their figures compare.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use matmul_bench_format::protocol::{IcountRequest, RunnerCommand};

/// The callgrind options of every count. The caches are those of one Zen 4 core (its L1s,
/// and one CCD's L3 as the last level): 32 KiB 8-way instruction and data caches, 32 MiB
/// 16-way last level, 64-byte lines. They are part of the provenance: figures simulated
/// with other caches are not compared.
pub const CALLGRIND_ARGS: [&str; 6] = [
    "--tool=callgrind",
    "--cache-sim=yes",
    "--I1=32768,8,64",
    "--D1=32768,8,64",
    "--LL=33554432,16,64",
    "--toggle-collect=*icount_measured*",
];

/// The totals of a callgrind output file, one per event of its `events:` line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub events: BTreeMap<String, u64>,
}

/// Why a callgrind output file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("no `events:` line")]
    NoEvents,
    #[error("no `totals:` or `summary:` line")]
    NoTotals,
    #[error("the totals {0:?} are not numbers")]
    NotANumber(String),
    #[error("{values} totals for {events} events")]
    TooManyValues { values: usize, events: usize },
    #[error("no `Ir` (instructions) event")]
    NoInstructions,
}

impl Totals {
    /// Reads the `events:` header and the `totals:` line (or, failing that, `summary:`) of
    /// a callgrind output file. A totals line may leave trailing events out: they are 0.
    pub fn parse(text: &str) -> Result<Totals, ParseError> {
        let field = |prefix: &str| text.lines().find_map(|l| l.strip_prefix(prefix)).map(str::trim);
        let names: Vec<&str> = field("events:").ok_or(ParseError::NoEvents)?.split_whitespace().collect();
        let values = field("totals:").or_else(|| field("summary:")).ok_or(ParseError::NoTotals)?;
        let values: Vec<u64> = values
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| ParseError::NotANumber(values.to_owned()))?;
        if values.len() > names.len() {
            return Err(ParseError::TooManyValues { values: values.len(), events: names.len() });
        }
        if !names.contains(&"Ir") {
            return Err(ParseError::NoInstructions);
        }
        let events =
            names.iter().enumerate().map(|(i, name)| (name.to_string(), values.get(i).copied().unwrap_or(0))).collect();
        Ok(Totals { events })
    }

    /// One event's total (0 when callgrind did not record that event).
    pub fn get(&self, event: &str) -> u64 {
        self.events.get(event).copied().unwrap_or(0)
    }

    /// The instructions executed (`Ir`).
    pub fn instructions(&self) -> u64 {
        self.get("Ir")
    }

    /// Estimated cycles, as KCachegrind estimates them from a cache simulation:
    ///
    /// `Ir + 10·(I1mr + D1mr + D1mw) + 100·(ILmr + DLmr + DLmw)`
    ///
    /// one cycle per instruction, 10 per first-level miss, 100 per last-level miss (a
    /// trip to memory). A model, not a measurement: it ignores instruction-level
    /// parallelism, vector width and prefetching, so it ranks changes in memory traffic,
    /// not speed. `None` without the cache simulation's events.
    pub fn estimated_cycles(&self) -> Option<u64> {
        const L1_MISS: u64 = 10;
        const LL_MISS: u64 = 100;
        let needed = ["I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"];
        if !needed.iter().all(|e| self.events.contains_key(*e)) {
            return None;
        }
        let l1 = self.get("I1mr") + self.get("D1mr") + self.get("D1mw");
        let ll = self.get("ILmr") + self.get("DLmr") + self.get("DLmw");
        Some(self.instructions() + L1_MISS * l1 + LL_MISS * ll)
    }
}

/// One process to count: `binary icount --backend LABEL --case CASE`.
#[derive(Clone, Debug)]
pub struct Job {
    pub binary: PathBuf,
    pub backend: String,
    pub case: String,
    /// Where callgrind writes its output.
    pub out_file: PathBuf,
}

/// Runs `job` under callgrind (one thread) and reads its totals.
pub fn run(job: &Job) -> anyhow::Result<Totals> {
    let what = format!("{} {}", job.backend, job.case);
    let output = valgrind(&job.binary)?
        .args(CALLGRIND_ARGS)
        .arg("-q")
        .arg(format!("--callgrind-out-file={}", job.out_file.display()))
        .arg(client(&job.binary)?)
        .args(
            RunnerCommand::Icount(IcountRequest::Run { backend: job.backend.clone(), case: job.case.clone() })
                .to_args(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("running valgrind")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("callgrind of {what} failed ({}): {}", output.status, stderr.trim());
    }
    let text = std::fs::read_to_string(&job.out_file).with_context(|| format!("reading {}", job.out_file.display()))?;
    let totals = Totals::parse(&text).with_context(|| format!("{what}: {}", job.out_file.display()))?;
    if totals.instructions() == 0 {
        bail!("callgrind counted nothing for {what}: the function icount_measured was not found");
    }
    Ok(totals)
}

/// Runs every job, `parallel` at a time (each is one thread, and its count does not
/// depend on what else runs); the results in the jobs' order.
pub fn run_all(
    jobs: &[Job],
    parallel: usize,
    progress: impl Fn(&Job, &anyhow::Result<Totals>) + Sync,
) -> Vec<anyhow::Result<Totals>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<anyhow::Result<Totals>>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..parallel.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let result = run(job);
                progress(job, &result);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().ok().flatten().unwrap_or_else(|| Err(anyhow::anyhow!("a counting thread failed"))))
        .collect()
}

/// A valgrind command for the runner `binary`, run from its folder with a fixed
/// environment: the runner's variables ([`crate::runner::RUNNER_ENV`]), one thread, and
/// `PATH`. The process's environment and arguments sit on its stack, so whatever else this
/// shell or cargo exports (`CARGO_MANIFEST_DIR` and cargo's `LD_LIBRARY_PATH` hold the
/// checkout's path) would shift the stack's addresses, and with them the simulated cache
/// misses. (The BLAS libraries are found through the system's library paths, as the
/// runners are linked.)
fn valgrind(binary: &Path) -> anyhow::Result<Command> {
    let dir = binary.parent().with_context(|| format!("{} has no folder", binary.display()))?;
    let mut cmd = Command::new("valgrind");
    cmd.current_dir(dir).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.envs(crate::runner::RUNNER_ENV).env(matmul_bench_format::runner::THREADS_ENV, "1");
    Ok(cmd)
}

/// How the runner is named on valgrind's command line: `./matmul-cli-rust`, relative to its
/// folder, so that the checkout's path is not in its `argv[0]` (see [`valgrind`]).
fn client(binary: &Path) -> anyhow::Result<String> {
    let name = binary.file_name().with_context(|| format!("{} is not a file", binary.display()))?;
    Ok(format!("./{}", name.to_string_lossy()))
}

/// `valgrind --version` (`valgrind-3.19.0`), or an error saying how to install it.
pub fn valgrind_version() -> anyhow::Result<String> {
    let out = Command::new("valgrind").arg("--version").output();
    match out {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
        _ => bail!("valgrind is not installed (Debian: apt-get install valgrind)"),
    }
}

/// What a runner can count under valgrind.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// `(backend, case)` for every pair it can run.
    pub pairs: Vec<(String, String)>,
    /// Its notes on the backends it left out, and why.
    pub notes: Vec<String>,
}

/// The pairs `binary` can run under valgrind: its `icount --list`, run under valgrind's
/// no-op tool, so that it sees the CPU valgrind emulates (no AVX-512).
pub fn list(binary: &Path) -> anyhow::Result<Listing> {
    let out = valgrind(binary)?
        .args(["--tool=none", "-q"])
        .arg(client(binary)?)
        .args(RunnerCommand::Icount(IcountRequest::List).to_args())
        .output()
        .context("running valgrind")?;
    if !out.status.success() {
        bail!(
            "{} icount --list under valgrind failed ({}): {}",
            binary.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let pairs = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(b, c)| (b.to_owned(), c.trim().to_owned()))
        .collect();
    let notes = String::from_utf8_lossy(&out.stderr).lines().map(str::to_owned).collect();
    Ok(Listing { pairs, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head and tail of a real `--cache-sim=yes` output file (valgrind 3.19).
    const CACHE_SIM: &str = "# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  matmul-cli icount --backend simd --case f64-rrr-64
part: 1

desc: I1 cache: 32768 B, 64 B, 8-way associative
desc: D1 cache: 32768 B, 64 B, 8-way associative
desc: LL cache: 33554432 B, 64 B, 16-way associative

desc: Timerange: Basic block 0 - 1234
desc: Trigger: Program termination

positions: line
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
summary: 1000 400 100 3 20 5 1 2 0

fn=(1) icount_measured
0 1000 400 100 3 20 5 1 2

totals: 1000 400 100 3 20 5 1 2 0
";

    #[test]
    fn reads_the_events_and_totals_of_a_cache_simulation() {
        let t = Totals::parse(CACHE_SIM).unwrap();
        assert_eq!(t.instructions(), 1000);
        assert_eq!((t.get("Dr"), t.get("D1mr"), t.get("DLmw")), (400, 20, 0));
        assert_eq!(t.events.len(), 9);
    }

    #[test]
    fn estimated_cycles_weigh_misses_by_level() {
        let t = Totals::parse(CACHE_SIM).unwrap();
        // 1000 + 10·(3 + 20 + 5) + 100·(1 + 2 + 0)
        assert_eq!(t.estimated_cycles(), Some(1000 + 280 + 300));
        // Instructions only (no cache simulation): no estimate.
        let plain = Totals::parse("events: Ir\ntotals: 77\n").unwrap();
        assert_eq!((plain.instructions(), plain.estimated_cycles()), (77, None));
    }

    #[test]
    fn short_totals_mean_zeros_and_bad_files_are_errors() {
        let t = Totals::parse("events: Ir Dr D1mr\ntotals: 5\n").unwrap();
        assert_eq!((t.get("Ir"), t.get("Dr"), t.get("D1mr")), (5, 0, 0));
        // `summary:` stands in when there is no `totals:` line.
        assert_eq!(Totals::parse("events: Ir\nsummary: 9\n").unwrap().instructions(), 9);
        assert_eq!(Totals::parse("totals: 5\n"), Err(ParseError::NoEvents));
        assert_eq!(Totals::parse("events: Ir\n"), Err(ParseError::NoTotals));
        assert_eq!(Totals::parse("events: Ir\ntotals: 5 x\n"), Err(ParseError::NotANumber("5 x".into())));
        assert_eq!(Totals::parse("events: Ir\ntotals: 5 6\n"), Err(ParseError::TooManyValues { values: 2, events: 1 }));
        assert_eq!(Totals::parse("events: Dr\ntotals: 5\n"), Err(ParseError::NoInstructions));
    }
}
