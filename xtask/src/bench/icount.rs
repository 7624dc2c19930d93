//! `cargo xtask icount`: instruction counts of fixed GEMMs per backend under
//! `valgrind --tool=callgrind`, the regression gate that does not depend on how busy the
//! machine is (the timed one is `cargo xtask compare`).
//!
//! Each backend and case is one runner process (`matmul-cli icount`), counted from the
//! entry to the exit of one call. The cases (the runner's `CASES`): n = 37 and 64 for the
//! set-up costs, n = 256 in f64 and f32 for the packed loops, and a general-stride view.
//! Besides the named backends (`simd-avx2`, `simd-portable`, …), `simd` is counted with
//! each instruction set forced, as `simd[avx2]` and `simd[portable]`.
//!
//! **What valgrind does to dispatch.** Valgrind's emulated CPU has no AVX-512 (valgrind
//! cannot decode it): `is_x86_feature_detected!("avx512f")` is false under it, so the
//! default dispatch of `simd` runs the AVX2 kernels there, `simd-avx512` is unavailable,
//! and forcing `MATMUL_SIMD_KERNEL=avx512` is refused with the backend's reason (not an
//! illegal instruction). The AVX-512 kernels are therefore covered by the timed
//! comparison, not by instruction counts. For the same reason the runner is built for a
//! generic x86-64 here, whatever `--portable` says: `-C target-cpu=native` on an AVX-512
//! CPU puts AVX-512 instructions into ordinary code, and valgrind stops the runner at the
//! first with SIGILL.
//!
//! **Estimated cycles.** callgrind also simulates the caches ([`callgrind::CALLGRIND_ARGS`]
//! fixes which), and each count carries
//! `Ir + 10·(I1mr + D1mr + D1mw) + 100·(ILmr + DLmr + DLmw)` (instructions, plus 10 per
//! first-level miss and 100 per last-level miss), shown next to the instructions. Only the
//! instructions are judged: both are deterministic, but the estimate is a model.
//!
//! **Two ways to compare.** `--base REV` builds the runner at REV (a git worktree, as
//! `cargo xtask compare` does) and the work tree, counts this project's own backends on
//! both with the same valgrind in this one job, and judges the difference ([`gate`]).
//! `--baseline FILE` compares with an earlier `instructions.json` instead. Either way a
//! count that grew by more than `--threshold` fails, a count on one side only fails unless
//! `--allow-missing`, and sides counted differently (rustc, valgrind, code generation,
//! simulated caches: the provenance each `instructions.json` records) are refused unless
//! `--force`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use matmul_bench_format::runner::BackendInfo;
use matmul_bench_format::Kind;
use serde::{Deserialize, Serialize};

use crate::compare::revision::{self, Revision};
use crate::runner::{self, BuildArgs, Share};

pub mod callgrind;
pub mod gate;

/// The version of `instructions.json` this xtask writes. Schema 1 (instructions only, no
/// provenance) still loads; its provenance then reads as not recorded.
pub const ICOUNT_SCHEMA: u32 = 2;

/// Options of `cargo xtask icount`.
#[derive(Debug, clap::Args)]
pub struct IcountArgs {
    /// Output directory (writes instructions.json, the callgrind files and, with --base,
    /// base-instructions.json and icount.md).
    #[arg(long, value_name = "DIR", default_value = "target/matmul-report")]
    out: PathBuf,
    /// Build the runner at this git revision too and compare its counts of this
    /// project's own backends with the work tree's, counted in this job.
    #[arg(long, value_name = "REV", conflicts_with = "baseline")]
    base: Option<String>,
    /// Compare with this instructions.json.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Growth that counts as a regression, as a fraction.
    #[arg(long, default_value_t = 0.02)]
    threshold: f64,
    /// Also write the counts here, as a later run's baseline.
    #[arg(long, value_name = "FILE")]
    save_baseline: Option<PathBuf>,
    /// Do not fail when a count is on one side only (they are listed either way).
    #[arg(long)]
    allow_missing: bool,
    /// Compare even when the sides were counted differently (rustc, valgrind, code
    /// generation, simulated caches).
    #[arg(long)]
    force: bool,
    /// Callgrind processes at a time (default: the number of cores). Each is one thread,
    /// and its count does not depend on what else runs.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    #[command(flatten)]
    build: BuildArgs,
}

/// `instructions.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub schema: u32,
    pub kind: String,
    /// How the counts were made (empty fields in a schema-1 file).
    #[serde(default)]
    pub provenance: IcountProvenance,
    pub counts: Vec<Count>,
}

/// Where a set of counts came from: what must match for two sets to compare.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IcountProvenance {
    /// The revision as asked (`main`, `work tree`).
    pub revision: String,
    /// Its commit hash; `-dirty` for a work tree with changes.
    pub commit: String,
    /// `rustc --version` of the toolchain that built the runner.
    pub rustc: String,
    /// `valgrind --version`.
    pub valgrind: String,
    /// How the runner was compiled.
    pub codegen: String,
    /// The callgrind options (the simulated caches among them).
    pub callgrind: String,
}

/// What one backend executed in one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    /// As the runner names it; `simd[avx2]` is `simd` with its instruction set forced.
    pub backend: String,
    pub case: String,
    pub instructions: u64,
    /// See [`callgrind::Totals::estimated_cycles`]; absent in schema 1.
    #[serde(default)]
    pub estimated_cycles: Option<u64>,
    /// Every event callgrind totalled (`Ir`, `Dr`, `D1mr`, …); empty in schema 1.
    #[serde(default)]
    pub events: BTreeMap<String, u64>,
}

/// The code generation of every icount runner (see the module docs for why not native).
const CODEGEN: &str = "generic x86-64";

/// One runner binary and the backends to count in it.
struct Counted<'a> {
    side: &'a str,
    binary: &'a Path,
    /// Backends as `list --json` names them; forced variants (`simd[avx2]`) follow theirs.
    backends: &'a [String],
}

/// What both ways of counting share.
struct Setup {
    out: PathBuf,
    valgrind: String,
    /// Callgrind processes at a time.
    parallel: usize,
    started: Instant,
}

impl Setup {
    fn provenance(&self, revision: &Revision, rustc: String) -> IcountProvenance {
        IcountProvenance {
            revision: revision.name(),
            commit: revision.commit(),
            rustc,
            valgrind: self.valgrind.clone(),
            codegen: CODEGEN.to_owned(),
            callgrind: callgrind::CALLGRIND_ARGS.join(" "),
        }
    }
}

pub fn run(args: IcountArgs) -> anyhow::Result<()> {
    if args.threshold.is_nan() || args.threshold < 0.0 {
        bail!("--threshold {} must be a fraction ≥ 0", args.threshold);
    }
    let started = Instant::now();
    let valgrind = callgrind::valgrind_version()?;
    let root = runner::workspace_root();
    let out = if args.out.is_absolute() { args.out.clone() } else { root.join(&args.out) };
    std::fs::create_dir_all(out.join("callgrind")).with_context(|| format!("creating {}", out.display()))?;
    if !args.build.portable {
        eprintln!("xtask icount: building for a generic x86-64 (valgrind cannot run AVX-512 code)");
    }
    let parallel = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let setup = Setup { out, valgrind, parallel, started };
    match &args.base {
        Some(base) => with_base(&args, &setup, base),
        None => every_runner(&args, &setup),
    }
}

/// `--base REV`: this project's own backends, counted at REV and in the work tree.
fn with_base(args: &IcountArgs, setup: &Setup, base_rev: &str) -> anyhow::Result<()> {
    // One pure-Rust runner a side: the BLAS libraries and the peers do not change with
    // this repository's code.
    let ours: Vec<String> =
        crate::compare::OUR_FEATURES.iter().map(|f| f.to_string()).chain(args.build.features.iter().cloned()).collect();
    let (base_bin, head_bin) =
        (setup.out.join("bin").join("base-matmul-cli"), setup.out.join("bin").join("head-matmul-cli"));
    let base_revision = Revision::resolve(Some(base_rev))?;
    let head_revision = Revision::resolve(None)?;
    let base_prov = setup.provenance(&base_revision, base_revision.build(&ours, true, &base_bin)?);
    let head_prov = setup.provenance(&head_revision, head_revision.build(&ours, true, &head_bin)?);
    // Refused before the counting, not after.
    let mismatch = gate::provenance_mismatch(&base_prov, &head_prov);
    if !mismatch.is_empty() && !args.force {
        bail!(gate::Failure::Provenance(mismatch));
    }
    let base_ours = our_backends(&runner::list(&base_bin)?);
    let head_ours = our_backends(&runner::list(&head_bin)?);
    let sides = [
        Counted { side: "base", binary: &base_bin, backends: &base_ours },
        Counted { side: "head", binary: &head_bin, backends: &head_ours },
    ];
    let mut counted = count_sides(&sides, &setup.out, setup.parallel)?.into_iter();
    let base = Counts { provenance: base_prov, ..new_counts(counted.next().unwrap_or_default()) };
    let head = Counts { provenance: head_prov, ..new_counts(counted.next().unwrap_or_default()) };
    save(&setup.out.join("base-instructions.json"), &base)?;
    finish(args, setup, &head, Some(&base))
}

/// Every backend of every runner (each BLAS library's too), compared with `--baseline`
/// when there is one.
fn every_runner(args: &IcountArgs, setup: &Setup) -> anyhow::Result<()> {
    let build = BuildArgs { portable: true, ..args.build.clone() };
    let head_revision = Revision::resolve(None)?;
    let provenance = setup.provenance(&head_revision, revision::rustc_version(&runner::workspace_root())?);
    // Each backend once, in the first runner that holds it: the pure-Rust ones and the
    // peers in the first, each BLAS library in its own.
    let mut runners: Vec<(String, PathBuf, Vec<String>)> = Vec::new();
    runner::for_each_runner(
        &build,
        &[],
        Share::Once,
        |_| true,
        |r, names| {
            runners.push((r.label.clone(), r.binary.clone(), names.to_vec()));
            Ok(())
        },
    )?;
    let sides: Vec<Counted> =
        runners.iter().map(|(label, binary, names)| Counted { side: label, binary, backends: names }).collect();
    let counts = count_sides(&sides, &setup.out, setup.parallel)?.into_iter().flatten().collect();
    let head = Counts { provenance, ..new_counts(counts) };
    let base = args.baseline.as_deref().map(load).transpose()?;
    finish(args, setup, &head, base.as_ref())
}

/// A schema-2 `instructions.json` of `counts`, provenance still to fill in.
fn new_counts(counts: Vec<Count>) -> Counts {
    Counts { schema: ICOUNT_SCHEMA, kind: "instructions".to_owned(), provenance: Default::default(), counts }
}

/// This project's own backends of a runner's list: its loops and SIMD kernels.
fn our_backends(listed: &[BackendInfo]) -> Vec<String> {
    listed.iter().filter(|b| matches!(b.kind, Kind::Simd | Kind::Loops)).map(|b| b.name.clone()).collect()
}

/// The backend a label names: `simd[avx2]` is `simd`.
fn base_name(label: &str) -> &str {
    label.split_once('[').map_or(label, |(name, _)| name)
}

/// Counts every case of every backend of each side, all sides' processes in one pool;
/// the counts of each side, in the runner's list order.
fn count_sides(sides: &[Counted], out: &Path, parallel: usize) -> anyhow::Result<Vec<Vec<Count>>> {
    let mut jobs = Vec::new();
    let mut owner = Vec::new();
    for (i, side) in sides.iter().enumerate() {
        let callgrind::Listing { pairs, notes } = callgrind::list(side.binary)?;
        let dir = out.join("callgrind").join(side.side);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for name in side.backends {
            if !pairs.iter().any(|(b, _)| b == name) {
                let why = notes.iter().find(|n| n.contains(&format!(" {name} ")));
                eprintln!(
                    "xtask icount: {}: {name} is not counted, it cannot run under valgrind{}",
                    side.side,
                    why.map_or(String::new(), |w| format!(": {w}"))
                );
            }
        }
        for (backend, case) in pairs.iter().filter(|(b, _)| side.backends.iter().any(|n| n == base_name(b))) {
            let file = format!("{}-{case}.out", backend.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"));
            jobs.push(callgrind::Job {
                binary: side.binary.to_owned(),
                backend: backend.clone(),
                case: case.clone(),
                out_file: dir.join(file),
            });
            owner.push(i);
        }
    }
    eprintln!("xtask icount: {} callgrind process(es), {parallel} at a time", jobs.len());
    let started = Instant::now();
    let results = callgrind::run_all(&jobs, parallel, |job, r| {
        let side = sides.iter().find(|s| s.binary == job.binary).map_or("", |s| s.side);
        if let Ok(t) = r {
            let cycles = t.estimated_cycles().map_or("–".to_owned(), |c| c.to_string());
            eprintln!(
                "{:>6.0} s  {side:<7} {:<22} {:<15} {:>13} instr {:>13} est. cycles",
                started.elapsed().as_secs_f64(),
                job.backend,
                job.case,
                t.instructions(),
                cycles
            );
        }
    });
    let mut out: Vec<Vec<Count>> = sides.iter().map(|_| Vec::new()).collect();
    for ((job, result), i) in jobs.iter().zip(results).zip(owner) {
        let totals = result?;
        out[i].push(Count {
            backend: job.backend.clone(),
            case: job.case.clone(),
            instructions: totals.instructions(),
            estimated_cycles: totals.estimated_cycles(),
            events: totals.events,
        });
    }
    Ok(out)
}

/// Writes the head's counts, compares them with `base` if there is one, prints the table
/// and fails as [`gate::judge`] says.
fn finish(args: &IcountArgs, setup: &Setup, head: &Counts, base: Option<&Counts>) -> anyhow::Result<()> {
    let (out, started) = (&setup.out, setup.started);
    let path = out.join("instructions.json");
    save(&path, head)?;
    println!("xtask icount: wrote {} ({} counts)", path.display(), head.counts.len());
    if let Some(p) = &args.save_baseline {
        save(p, head)?;
    }
    let Some(base) = base else {
        println!("xtask icount: {:.0} s", started.elapsed().as_secs_f64());
        return Ok(());
    };
    let mismatch = gate::provenance_mismatch(&base.provenance, &head.provenance);
    if !mismatch.is_empty() && args.force {
        eprintln!(
            "xtask icount: the sides were counted differently ({}); compared anyway (--force)",
            mismatch.join("; ")
        );
    }
    let policy = gate::Policy { threshold: args.threshold, allow_missing: args.allow_missing, force: args.force };
    let cmp = gate::compare(base, head, args.threshold);
    let failures = gate::judge(&cmp, &mismatch, policy);
    if !matches!(failures.first(), Some(gate::Failure::Provenance(_))) {
        let text = gate::table(&cmp, &base.provenance, &head.provenance, args.threshold);
        println!("\n{text}");
        std::fs::write(out.join("icount.md"), &text).context("writing icount.md")?;
    }
    println!("xtask icount: {:.0} s", started.elapsed().as_secs_f64());
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures[0].clone().into()),
        _ => bail!("{}", failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("; ")),
    }
}

fn save(path: &Path, counts: &Counts) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(counts)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads an `instructions.json` of schema 1 or 2.
fn load(path: &Path) -> anyhow::Result<Counts> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let counts: Counts = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if !(1..=ICOUNT_SCHEMA).contains(&counts.schema) {
        bail!("{}: schema {}, but this xtask reads schemas 1 to {ICOUNT_SCHEMA}", path.display(), counts.schema);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_1_file_loads_without_provenance() {
        let dir = std::env::temp_dir().join(format!("xtask-icount-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("instructions.json");
        let v1 =
            r#"{"schema":1,"kind":"instructions","counts":[{"backend":"simd","case":"f64-rrr-64","instructions":5}]}"#;
        std::fs::write(&file, v1).unwrap();
        let old = load(&file).unwrap();
        assert_eq!((old.counts[0].instructions, old.counts[0].estimated_cycles), (5, None));
        assert_eq!(old.provenance, IcountProvenance::default());
        std::fs::write(&file, v1.replace("\"schema\":1", "\"schema\":9")).unwrap();
        assert!(format!("{:#}", load(&file).unwrap_err()).contains("schema 9"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn forced_labels_belong_to_their_backend() {
        assert_eq!(base_name("simd[avx2]"), "simd");
        assert_eq!(base_name("peer:gemm"), "peer:gemm");
    }
}
