//! `cargo xtask compare BASE [HEAD]`: did a change make this project's backends slower?
//!
//! Both revisions are built here, in one job ([`revision`]), and timed in alternating
//! runner processes, ABBA…, so that whatever else the machine does falls on both sides
//! alike. Each process measures every tracked point (this project's own backends, one
//! thread, n ≥ 128, row- and column-major) and contributes its median per point; a point
//! is flagged when the two sides' process medians pass the [`stats`] rule (a time ratio
//! beyond `--factor` and a Mann–Whitney p below `--alpha`), and a flagged point is
//! measured again, in new processes, to confirm. Exit status: non-zero on a confirmed
//! regression, on a point measured on one side only (unless `--allow-missing`), and on
//! sides whose provenance differs (unless `--force`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use matmul_bench_format::options::{BenchOptions, DtypeList, LayoutList};
use matmul_bench_format::protocol::RunnerCommand;
use matmul_bench_format::runner::{Availability, RunnerOutput, THREADS_ENV};
use matmul_bench_format::{Dtype, Experiment, Kind, Layouts};
use serde::{Deserialize, Serialize};

use crate::runner;

pub mod record;
pub mod revision;
pub mod stats;

use record::{provenance_mismatch, TrackedPoint, TrackedProvenance, TrackedRun, TRACKED_SCHEMA};
use revision::Revision;
use stats::{Decision, Rule, Verdict};

/// Options of `cargo xtask compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The base revision: a branch, tag, commit or expression such as `HEAD~1`.
    pub base: String,
    /// The head revision; default: the work tree as it is, uncommitted changes included.
    pub head: Option<String>,
    /// Runner processes per side, run in pairs alternating ABBA…. With n a side, the
    /// Mann–Whitney test's smallest p is 2 / C(2n, n): 6 gives 0.0022, so one or two
    /// inverted pairs still reject at 0.01; 5 gives 0.0079 and needs no inversion at all.
    #[arg(long, default_value_t = 6)]
    pub pairs: usize,
    /// A point can be a regression when its time grew by more than this factor.
    #[arg(long, default_value_t = 1.10)]
    pub factor: f64,
    /// Significance level of the Mann–Whitney U test.
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Backends to track, comma-separated. Default: this project's own backends that run
    /// here (`simd*`, `naive-ikj`, `naive-ijk-reassoc`), not the peers or BLAS libraries
    /// (which change only with Cargo.lock) nor `naive-ijk` (0.4 s per call at n = 512).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub backends: Vec<String>,
    /// Square sizes, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "256,512")]
    pub sizes: Vec<usize>,
    /// Layouts of A, B, C, comma-separated: row-major everywhere, and column-major
    /// everywhere (the SIMD driver packs the two differently).
    #[arg(long, value_name = "LIST", default_value = "rrr,ccc")]
    pub layouts: LayoutList,
    /// Element types, comma-separated (f32, f64), or `all`.
    #[arg(long, value_name = "LIST", default_value = "all")]
    pub dtype: DtypeList,
    /// Seconds of timed calls per point in each process.
    #[arg(long, default_value_t = 0.1, value_name = "SECONDS")]
    pub min_time: f64,
    /// Compare even when the sides were built or run differently (toolchain, code
    /// generation, CPU).
    #[arg(long)]
    pub force: bool,
    /// Do not fail when a point is measured on one side only (a backend added or
    /// removed by the change); such points are listed either way.
    #[arg(long)]
    pub allow_missing: bool,
    /// Do not re-measure flagged points: a flag is then final.
    #[arg(long)]
    pub no_confirm: bool,
    /// Output directory: compare.md, compare.json, the runners and their logs.
    #[arg(long, value_name = "DIR", default_value = "target/matmul-compare")]
    pub out: PathBuf,
    /// Build for a generic x86-64 instead of `-C target-cpu=native`.
    #[arg(long)]
    pub portable: bool,
}

/// `compare.json`: both sides, and the decision on every point.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comparison {
    pub base: TrackedRun,
    pub head: TrackedRun,
    pub factor: f64,
    pub alpha: f64,
    pub rows: Vec<Row>,
    /// Points measured on one side only, and which.
    pub missing: Vec<String>,
}

/// One point's line of the table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub point: String,
    pub base_gflops: f64,
    pub head_gflops: f64,
    pub decision: Decision,
    /// The re-measurement of a flagged point, when one was made.
    pub confirmation: Option<Decision>,
}

impl Row {
    /// A regression that the re-measurement confirmed (or that stands unconfirmed when
    /// there was none, with `--no-confirm`).
    pub fn is_regression(&self) -> bool {
        self.decision.verdict == Verdict::Slower && self.confirmation.is_none_or(|c| c.verdict == Verdict::Slower)
    }

    fn verdict_text(&self) -> String {
        match (self.decision.verdict, self.confirmation) {
            (Verdict::Slower, Some(c)) if c.verdict == Verdict::Slower => {
                format!("REGRESSION (confirmed: {:.3}×, p = {:.4})", c.ratio, c.p)
            }
            (Verdict::Slower, Some(c)) => {
                format!("not confirmed (re-measured {:.3}×, p = {:.4}: {})", c.ratio, c.p, c.verdict.as_str())
            }
            (Verdict::Slower, None) => "REGRESSION (not re-measured)".to_owned(),
            (v, _) => v.as_str().to_owned(),
        }
    }
}

/// The table: one row per point, worst ratio first.
pub fn table(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "base: {} ({}) · head: {} ({}) · factor {:.2}, alpha {} · {} process(es) a side\n",
        c.base.provenance.revision,
        short(&c.base.provenance.commit),
        c.head.provenance.revision,
        short(&c.head.provenance.commit),
        c.factor,
        c.alpha,
        c.base.points.first().map_or(0, |p| p.seconds.len()),
    );
    let _ = writeln!(s, "| point | base GFLOP/s | head GFLOP/s | head/base time | p | verdict |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---|");
    let mut rows: Vec<&Row> = c.rows.iter().collect();
    rows.sort_by(|a, b| b.decision.ratio.total_cmp(&a.decision.ratio));
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.3} | {:.4} | {} |",
            r.point,
            r.base_gflops,
            r.head_gflops,
            r.decision.ratio,
            r.decision.p,
            r.verdict_text()
        );
    }
    for m in &c.missing {
        let _ = writeln!(s, "\nMISSING: {m}");
    }
    let regressions = c.rows.iter().filter(|r| r.is_regression()).count();
    let _ = writeln!(
        s,
        "\n{} point(s) compared: {regressions} confirmed regression(s), {} faster, {} changed below the threshold, {} missing.",
        c.rows.len(),
        c.rows.iter().filter(|r| r.decision.verdict == Verdict::Faster).count(),
        c.rows.iter().filter(|r| r.decision.verdict == Verdict::ChangedBelowThreshold).count(),
        c.missing.len()
    );
    s
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// The runner features of this project's own CPU backends: all that a comparison builds.
pub const OUR_FEATURES: [&str; 2] = ["naive", "simd"];

/// The backends compare tracks by default, of those a runner lists: ours, runnable here.
pub fn default_backends(listed: &[matmul_bench_format::runner::BackendInfo]) -> Vec<String> {
    listed
        .iter()
        .filter(|b| matches!(b.kind, Kind::Simd | Kind::Loops) && b.name != "naive-ijk")
        .filter(|b| b.availability.is_available())
        .map(|b| b.name.clone())
        .collect()
}

/// The backends of `wanted` that both sides hold (to measure), and a line for each that
/// only one side holds (a missing point); an error for one that neither holds. Each side
/// is `(its name, the backends it holds)`.
pub fn split_backends(
    wanted: &[String],
    base: (&str, &[String]),
    head: (&str, &[String]),
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let (mut common, mut missing) = (Vec::new(), Vec::new());
    for name in wanted {
        match (base.1.contains(name), head.1.contains(name)) {
            (true, true) => common.push(name.clone()),
            (true, false) => missing.push(format!("{name} (only in {}: not in {})", base.0, head.0)),
            (false, true) => missing.push(format!("{name} (only in {}: not in {})", head.0, base.0)),
            (false, false) => bail!(
                "backend {name:?} is in neither runner, or cannot run here: compare builds only this project's own \
                 backends (runner features {}), not the BLAS libraries or the peers",
                OUR_FEATURES.join(", ")
            ),
        }
    }
    Ok((common, missing))
}

/// A line for each point measured on one side only (a backend that skipped a size on one).
pub fn missing_points(base: &TrackedRun, head: &TrackedRun) -> Vec<String> {
    let one_side = |run: &TrackedRun, other: &TrackedRun, which: &str| -> Vec<String> {
        run.points
            .iter()
            .filter(|p| other.point(&p.label()).is_none())
            .map(|p| format!("{} (measured in {which} only)", p.label()))
            .collect()
    };
    let mut out = one_side(head, base, "head");
    out.extend(one_side(base, head, "base"));
    out
}

/// A built side: its runner and the backends it holds.
struct Side {
    revision: Revision,
    binary: PathBuf,
    provenance: TrackedProvenance,
    holds: Vec<String>,
}

impl Side {
    fn build(revision: Revision, label: &str, args: &CompareArgs, out: &Path) -> anyhow::Result<Side> {
        let binary = out.join("bin").join(format!("{label}-matmul-cli"));
        let rustc = revision.build(&OUR_FEATURES.map(str::to_owned), args.portable, &binary)?;
        let listed = runner::list(&binary)?;
        let (subject, commit_time) = revision.subject_and_time();
        let provenance = TrackedProvenance {
            revision: revision.name(),
            commit: revision.commit(),
            subject,
            commit_time,
            rustc,
            codegen: if args.portable { "generic x86-64" } else { "-C target-cpu=native" }.to_owned(),
            machine: Default::default(),
        };
        let holds = listed.iter().filter(|b| b.availability.is_available()).map(|b| b.name.clone()).collect();
        Ok(Side { revision, binary, provenance, holds })
    }
}

/// What one round of processes measures: each process runs one runner invocation per
/// group (the runner measures every backend of its list in every layout of its list).
struct Round {
    groups: Vec<Group>,
    dtypes: Vec<Dtype>,
    sizes: Vec<usize>,
}

/// Backends measured in the same layouts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub backends: Vec<String>,
    pub layouts: Vec<Layouts>,
}

/// Whether `backend` is left out in `layout`: `naive-ikj` is tracked row-major only. Its
/// loop order is the row-major one; column-major it is the lecture's example of the wrong
/// order (0.3 GFLOP/s, seconds per call at n = 512), which would triple a process's time.
pub fn left_out(backend: &str, layout: Layouts) -> bool {
    backend == "naive-ikj" && layout != Layouts::ROW_MAJOR
}

/// `(backend, layout)` pairs, [`left_out`] ones removed, as groups of backends with the same
/// layouts, in first-seen order.
pub fn groups(pairs: &[(String, Layouts)]) -> Vec<Group> {
    let mut per_backend: Vec<(String, Vec<Layouts>)> = Vec::new();
    for &(ref b, l) in pairs.iter().filter(|(b, l)| !left_out(b, *l)) {
        match per_backend.iter_mut().find(|(name, _)| name == b) {
            Some((_, layouts)) if !layouts.contains(&l) => layouts.push(l),
            Some(_) => {}
            None => per_backend.push((b.clone(), vec![l])),
        }
    }
    let mut out: Vec<Group> = Vec::new();
    for (b, layouts) in per_backend {
        match out.iter_mut().find(|g| g.layouts == layouts) {
            Some(g) => g.backends.push(b),
            None => out.push(Group { backends: vec![b], layouts }),
        }
    }
    out
}

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let rule = Rule { factor: args.factor, alpha: args.alpha };
    if args.pairs < 2 || stats::smallest_p(args.pairs, args.pairs) >= args.alpha {
        bail!(
            "--pairs {}: with that many processes a side the test's smallest p-value is {:.4}, so it could never \
             reject at --alpha {}; use more pairs",
            args.pairs,
            stats::smallest_p(args.pairs, args.pairs),
            args.alpha
        );
    }
    if args.factor.is_nan() || args.factor < 1.0 {
        bail!("--factor {} must be at least 1", args.factor);
    }
    if args.sizes.contains(&0) {
        bail!("--sizes: sizes must be at least 1");
    }
    let started = Instant::now();
    let root = runner::workspace_root();
    let out = if args.out.is_absolute() { args.out.clone() } else { root.join(&args.out) };
    std::fs::create_dir_all(out.join("logs")).with_context(|| format!("creating {}", out.display()))?;

    let base = Side::build(Revision::resolve(Some(&args.base))?, "base", &args, &out)?;
    let head = Side::build(Revision::resolve(args.head.as_deref())?, "head", &args, &out)?;
    let build_s = started.elapsed().as_secs_f64();

    let wanted: Vec<String> =
        if args.backends.is_empty() { default_backends(&runner::list(&head.binary)?) } else { args.backends.clone() };
    let (common, mut missing) =
        split_backends(&wanted, (&base.revision.name(), &base.holds), (&head.revision.name(), &head.holds))?;
    if common.is_empty() {
        bail!("no backend to compare: none of {wanted:?} is in both runners");
    }
    let pairs: Vec<(String, Layouts)> =
        common.iter().flat_map(|b| args.layouts.items().iter().map(move |&l| (b.clone(), l))).collect();
    let round = Round { groups: groups(&pairs), dtypes: args.dtype.dtypes().to_vec(), sizes: args.sizes.clone() };
    if round.groups.is_empty() {
        bail!("nothing to measure: every backend is left out in every layout asked for");
    }
    // The history keeps this first round: every point with the same number of processes.
    let (base_run, head_run) = measure_pairs(&base, &head, &round, &args, &out, "")?;
    let mismatch = provenance_mismatch(&base_run.provenance, &head_run.provenance);
    if !mismatch.is_empty() {
        let why = mismatch.join("; ");
        if args.force {
            eprintln!("xtask compare: the sides differ beyond the commit ({why}); compared anyway (--force)");
        } else {
            bail!("the sides were built or run differently: {why}. Their times do not compare; --force compares them anyway");
        }
    }
    missing.extend(missing_points(&base_run, &head_run));

    let mut rows: Vec<Row> = head_run
        .points
        .iter()
        .filter_map(|h| {
            let b = base_run.point(&h.label())?;
            Some(Row {
                point: h.label(),
                base_gflops: b.gflops(),
                head_gflops: h.gflops(),
                decision: stats::decide(&b.seconds, &h.seconds, rule),
                confirmation: None,
            })
        })
        .collect();

    let flagged: Vec<String> =
        rows.iter().filter(|r| r.decision.verdict == Verdict::Slower).map(|r| r.point.clone()).collect();
    if !flagged.is_empty() && !args.no_confirm {
        eprintln!("xtask compare: {} point(s) flagged; measuring them again in new processes", flagged.len());
        let flagged_points = || head_run.points.iter().filter(|p| flagged.contains(&p.label()));
        let flagged_pairs: Vec<(String, Layouts)> = flagged_points().map(|p| (p.backend.clone(), p.layout)).collect();
        let mut dtypes: Vec<Dtype> = flagged_points().map(|p| p.dtype).collect();
        dtypes.sort_unstable();
        dtypes.dedup();
        let mut sizes: Vec<usize> = flagged_points().map(|p| p.n).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let again = Round { groups: groups(&flagged_pairs), dtypes, sizes };
        let (b2, h2) = measure_pairs(&base, &head, &again, &args, &out, "confirm-")?;
        for row in rows.iter_mut().filter(|r| flagged.contains(&r.point)) {
            if let (Some(b), Some(h)) = (b2.point(&row.point), h2.point(&row.point)) {
                row.confirmation = Some(stats::decide(&b.seconds, &h.seconds, rule));
            }
        }
    }

    let comparison =
        Comparison { base: base_run, head: head_run, factor: args.factor, alpha: args.alpha, rows, missing };
    let text = table(&comparison);
    println!("{text}");
    let total = started.elapsed().as_secs_f64();
    println!("xtask compare: {total:.0} s in all ({build_s:.0} s building the two runners)");
    std::fs::write(out.join("compare.md"), &text)?;
    std::fs::write(out.join("compare.json"), serde_json::to_string_pretty(&comparison)? + "\n")?;
    comparison.head.save(&out.join("head.json"))?;
    comparison.base.save(&out.join("base.json"))?;
    println!("xtask compare: wrote {}", out.join("compare.md").display());

    let regressions = comparison.rows.iter().filter(|r| r.is_regression()).count();
    if regressions > 0 {
        bail!("{regressions} confirmed regression(s) beyond {:.0} %", (args.factor - 1.0) * 100.0);
    }
    if !comparison.missing.is_empty() && !args.allow_missing {
        bail!(
            "{} point(s) measured on one side only (listed above); --allow-missing accepts that",
            comparison.missing.len()
        );
    }
    Ok(())
}

/// Runs `args.pairs` pairs of processes, ABBA…, each measuring `round`; returns each side's
/// per-process medians.
fn measure_pairs(
    base: &Side,
    head: &Side,
    round: &Round,
    args: &CompareArgs,
    out: &Path,
    tag: &str,
) -> anyhow::Result<(TrackedRun, TrackedRun)> {
    let order: Vec<(&Side, &str)> = (0..args.pairs)
        .flat_map(|i| if i % 2 == 0 { [(base, "base"), (head, "head")] } else { [(head, "head"), (base, "base")] })
        .collect();
    let mut runs: [TrackedRun; 2] = [base, head].map(|s| TrackedRun {
        schema: TRACKED_SCHEMA,
        provenance: s.provenance.clone(),
        points: Vec::new(),
    });
    let mut by_label: [BTreeMap<String, usize>; 2] = Default::default();
    for (i, (side, name)) in order.iter().enumerate() {
        let t = Instant::now();
        let which = usize::from(*name == "head");
        let mut results = Vec::new();
        for (g, group) in round.groups.iter().enumerate() {
            let file = out.join("logs").join(format!("{tag}{i:02}-{name}-{g}.json"));
            let output = measure_once(side, group, round, args, &file)?;
            if runs[which].provenance.machine.cpu.is_empty() {
                runs[which].provenance.machine = output.machine.clone();
            }
            results.extend(output.results);
        }
        for m in results.iter().filter(|m| m.experiment == Experiment::Sweep) {
            if !m.passed() {
                bail!("{name}: {} failed its accuracy check ({} × the bound)", m.backend, m.max_err_over_bound);
            }
            let point = TrackedPoint {
                backend: m.backend.clone(),
                dtype: m.dtype,
                layout: m.layout,
                m: m.m,
                n: m.n,
                k: m.k,
                threads: m.threads,
                seconds: Vec::new(),
            };
            let idx = *by_label[which].entry(point.label()).or_insert_with(|| {
                runs[which].points.push(point);
                runs[which].points.len() - 1
            });
            runs[which].points[idx].seconds.push(m.seconds_median);
        }
        eprintln!(
            "xtask compare: {tag}process {}/{} ({name}, {}) {:.1} s",
            i + 1,
            order.len(),
            side.revision.name(),
            t.elapsed().as_secs_f64()
        );
    }
    let [b, h] = runs;
    Ok((b, h))
}

/// One runner invocation measuring `group` at `round`'s sizes and dtypes, one thread.
fn measure_once(
    side: &Side,
    group: &Group,
    round: &Round,
    args: &CompareArgs,
    file: &Path,
) -> anyhow::Result<RunnerOutput> {
    let options = BenchOptions {
        backends: group.backends.clone(),
        sizes: round.sizes.clone(),
        layouts: LayoutList::from(&group.layouts[..]),
        dtype: DtypeList::from(&round.dtypes[..]),
        threads: vec![1],
        layout_size: Some(0),
        min_time: Some(args.min_time),
        ..BenchOptions::default()
    };
    let what = RunnerCommand::Bench { options, json: file.to_owned() };
    let log = std::fs::File::create(file.with_extension("log"))?;
    let status = runner::command(&side.binary, &what)
        .env(THREADS_ENV, "1")
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("running {}", side.binary.display()))?;
    if !status.success() {
        bail!("the {} runner failed ({status}); see {}", side.revision.name(), file.with_extension("log").display());
    }
    let output = RunnerOutput::load(file)?;
    if let Some(u) = output.backends.iter().find(|b| matches!(b.availability, Availability::Unavailable { .. })) {
        bail!("{}: backend {} cannot run here", side.revision.name(), u.name);
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use matmul_bench_format::runner::BackendInfo;

    fn point(backend: &str, seconds: &[f64]) -> TrackedPoint {
        TrackedPoint {
            backend: backend.into(),
            dtype: Dtype::F64,
            layout: Layouts::ROW_MAJOR,
            m: 256,
            n: 256,
            k: 256,
            threads: 1,
            seconds: seconds.to_vec(),
        }
    }

    fn row(verdict: Verdict, confirmation: Option<Verdict>) -> Row {
        let d = |v| Decision { ratio: 1.2, p: 0.002, verdict: v };
        Row {
            point: "p".into(),
            base_gflops: 1.0,
            head_gflops: 0.8,
            decision: d(verdict),
            confirmation: confirmation.map(d),
        }
    }

    #[test]
    fn only_a_confirmed_flag_is_a_regression() {
        assert!(row(Verdict::Slower, Some(Verdict::Slower)).is_regression());
        assert!(!row(Verdict::Slower, Some(Verdict::ChangedBelowThreshold)).is_regression());
        assert!(!row(Verdict::Slower, Some(Verdict::Unchanged)).is_regression());
        assert!(row(Verdict::Slower, None).is_regression());
        assert!(!row(Verdict::ChangedBelowThreshold, None).is_regression());
        assert!(!row(Verdict::Faster, None).is_regression());
    }

    #[test]
    fn the_table_lists_every_point_and_what_is_missing() {
        let run = |pts| TrackedRun { schema: TRACKED_SCHEMA, provenance: TrackedProvenance::default(), points: pts };
        let c = Comparison {
            base: run(vec![point("simd", &[1.0; 6])]),
            head: run(vec![point("simd", &[1.2; 6])]),
            factor: 1.1,
            alpha: 0.01,
            rows: vec![Row {
                point: "simd f64 rrr 256x256x256 t1".into(),
                ..row(Verdict::Slower, Some(Verdict::Slower))
            }],
            missing: vec!["simd-avx2 (only in base: work tree)".into()],
        };
        let t = table(&c);
        assert!(
            t.contains("| simd f64 rrr 256x256x256 t1 | 1.00 | 0.80 | 1.200 | 0.0020 | REGRESSION (confirmed"),
            "{t}"
        );
        assert!(t.contains("MISSING: simd-avx2"), "{t}");
        assert!(t.contains("1 confirmed regression(s)") && t.contains("1 missing"), "{t}");
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// A backend on one side only is a missing point (the run fails unless
    /// `--allow-missing`); one on neither side is an error; the rest are measured.
    #[test]
    fn backends_on_one_side_only_are_missing() {
        let wanted = names(&["simd", "simd-new", "naive-ikj"]);
        let base = names(&["simd", "naive-ikj", "naive-old"]);
        let head = names(&["simd", "simd-new", "naive-ikj"]);
        let (common, missing) = split_backends(&wanted, ("main", &base), ("work tree", &head)).unwrap();
        assert_eq!(common, ["simd", "naive-ikj"]);
        assert_eq!(missing, ["simd-new (only in work tree: not in main)"]);
        let err = split_backends(&names(&["cuda-naive"]), ("main", &base), ("work tree", &head)).unwrap_err();
        assert!(err.to_string().contains("cuda-naive"), "{err}");
    }

    #[test]
    fn points_on_one_side_only_are_missing() {
        let run = |pts| TrackedRun { schema: TRACKED_SCHEMA, provenance: TrackedProvenance::default(), points: pts };
        let mut big = point("naive-ikj", &[1.0; 6]);
        big.n = 512;
        let base = run(vec![point("simd", &[1.0; 6]), big]);
        let head = run(vec![point("simd", &[1.0; 6]), point("simd-avx2", &[1.0; 6])]);
        assert_eq!(
            missing_points(&base, &head),
            [
                "simd-avx2 f64 rrr 256x256x256 t1 (measured in head only)",
                "naive-ikj f64 rrr 256x512x256 t1 (measured in base only)"
            ]
        );
        assert!(missing_points(&base, &base).is_empty());
    }

    #[test]
    fn naive_ikj_is_grouped_row_major_only() {
        let (rrr, ccc) = (Layouts::ROW_MAJOR, Layouts::COL_MAJOR);
        let pairs: Vec<(String, Layouts)> = ["simd", "naive-ikj", "naive-ijk-reassoc"]
            .iter()
            .flat_map(|b| [rrr, ccc].map(|l| (b.to_string(), l)))
            .collect();
        let g = groups(&pairs);
        assert_eq!(
            g,
            [
                Group { backends: names(&["simd", "naive-ijk-reassoc"]), layouts: vec![rrr, ccc] },
                Group { backends: names(&["naive-ikj"]), layouts: vec![rrr] },
            ]
        );
        assert!(groups(&[("naive-ikj".into(), ccc)]).is_empty());
    }

    #[test]
    fn the_default_backends_are_ours_and_runnable() {
        let info = |name: &str, kind, ok: bool| BackendInfo {
            availability: if ok { Availability::Available } else { Availability::Unavailable { why: "no".into() } },
            ..crate::bench::merge::tests::info(name, kind)
        };
        let listed = [
            info("simd", Kind::Simd, true),
            info("simd-avx2", Kind::Simd, false),
            info("naive-ikj", Kind::Loops, true),
            info("naive-ijk", Kind::Loops, true),
            info("openblas", Kind::Blas, true),
            info("peer:gemm", Kind::Peer, true),
        ];
        assert_eq!(default_backends(&listed), ["simd", "naive-ikj"]);
    }
}
