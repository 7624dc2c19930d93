//! `cargo xtask history DIR`: GFLOP/s of every tracked point against commit, with the
//! step changes marked, in one HTML page.
//!
//! # The data
//! `DIR` holds one [`TrackedRun`] JSON file per commit of main: the `head.json` that
//! `cargo xtask compare` writes (schema [`record::TRACKED_SCHEMA`]), with the commit's
//! hash, subject, commit time, toolchain and machine in its provenance and, per tracked
//! point, one median seconds-per-call for each runner process. Any other file is ignored.
//! Entries are ordered by `provenance.commit_time`, then by file name; file names carry
//! no meaning here.
//!
//! CI appends to it: on each push to main the benchmark workflow runs `compare` and pushes
//! that commit's `head.json` to the `bench-history` branch as
//! `history/<commit_time>-<sha12>.json`. To draw it locally:
//!
//! ```text
//! git fetch origin bench-history
//! git worktree add /tmp/bh origin/bench-history
//! cargo xtask history /tmp/bh/history
//! ```
//!
//! # What the page shows
//! One chart per backend, dtype and thread count ([`chart`]), one line per layout and
//! shape, x = commit (oldest left, labelled with short hashes), y = GFLOP/s at the
//! median of the process medians on a log axis (equal ratios look equal on every line).
//! Between consecutive entries every point shared by both is judged by the rule of
//! `compare` ([`stats::decide`] with [`Rule::default`]: a time ratio beyond ×1.10 with a
//! Mann–Whitney p below 0.01): a slowdown is ringed red, a speed-up green, and both are
//! listed in a table ([`page`]). Where the provenance changes between two entries
//! (another runner CPU, toolchain or code generation, as [`record::provenance_mismatch`]
//! says) the times do not compare: no step is judged there, the lines break at a dashed
//! line, and the table says "machine/toolchain changed".
//!
//! The page inlines every chart, so it is one file that works opened from disk; each
//! chart is also written beside it as an SVG file (and linked) for use elsewhere.
//!
//! Points are judged between consecutive entries only: a point missing from one entry
//! leaves a gap and no judgement on either side of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::compare::record::{self, TrackedPoint, TrackedRun};
use crate::compare::stats::{self, Decision, Rule, Verdict};

pub mod chart;
pub mod page;

#[cfg(test)]
mod fixture;

/// Options of `cargo xtask history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Folder of TrackedRun JSON files, one per commit (the `history/` folder of the
    /// `bench-history` branch).
    pub dir: PathBuf,
    /// The HTML page to write; the charts' SVG files go beside it.
    /// Default: target/matmul-history/index.html in the workspace.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// One file of the history.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Where it was read from (named in errors and on the page).
    pub file: PathBuf,
    /// What it holds.
    pub run: TrackedRun,
}

impl Entry {
    /// The commit's hash cut to 7 characters, as the x axis and tables show it.
    pub fn short_commit(&self) -> &str {
        let c = &self.run.provenance.commit;
        c.get(..7).unwrap_or(c)
    }
}

/// A point that the rule found changed between entry `index - 1` and entry `index`.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The later entry's index: the commit that made the change.
    pub index: usize,
    /// The point's label ([`record::TrackedPoint::label`]).
    pub point: String,
    /// The rule's verdict: [`Verdict::Slower`] or [`Verdict::Faster`].
    pub decision: Decision,
    /// The history's confirmation, like `compare`'s re-measurement: whether the next entry
    /// still differs from the one before the step, by the same rule and in the same
    /// direction. `None` when there is no next entry to tell (the latest commit, a point
    /// the next entry lacks, or a provenance boundary after it).
    pub sustained: Option<bool>,
}

impl Step {
    /// How the page and the summary say whether the next commit kept the step.
    pub fn sustained_text(&self) -> &'static str {
        match self.sustained {
            Some(true) => "kept at the next commit",
            Some(false) => "not kept at the next commit (a one-off?)",
            None => "not confirmed yet",
        }
    }
}

/// Entry `index` was built or run differently from entry `index - 1`: its times do not
/// compare with the earlier ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Boundary {
    /// The first entry of the new provenance.
    pub index: usize,
    /// What differs, one item each (from [`record::provenance_mismatch`]).
    pub why: Vec<String>,
}

/// The history, ordered, with what the rule found in it.
#[derive(Debug)]
pub struct History {
    /// Oldest first.
    pub entries: Vec<Entry>,
    /// Every point's label, in the order points first appear.
    pub points: Vec<String>,
    /// Steps, by entry then by the order of `points`.
    pub steps: Vec<Step>,
    /// Provenance changes, by entry.
    pub boundaries: Vec<Boundary>,
    /// Per entry, where each label's point is in its `points` (the first, if repeated):
    /// a history grows by one entry per commit, so points are not searched by label.
    index: Vec<HashMap<String, usize>>,
}

impl History {
    /// Orders `entries` (commit time, then file name) and applies `rule` between each
    /// consecutive pair.
    pub fn new(mut entries: Vec<Entry>, rule: Rule) -> History {
        entries.sort_by(|a, b| {
            a.run.provenance.commit_time.cmp(&b.run.provenance.commit_time).then_with(|| a.file.cmp(&b.file))
        });
        let mut points: Vec<String> = Vec::new();
        let mut index: Vec<HashMap<String, usize>> = Vec::new();
        for e in &entries {
            let mut at = HashMap::new();
            for (i, p) in e.run.points.iter().enumerate() {
                let label = p.label();
                if !at.contains_key(&label) && !points.contains(&label) {
                    points.push(label.clone());
                }
                at.entry(label).or_insert(i);
            }
            index.push(at);
        }
        let mut history = History { entries, points, steps: Vec::new(), boundaries: Vec::new(), index };
        for i in 1..history.entries.len() {
            let why =
                record::provenance_mismatch(&history.entries[i - 1].run.provenance, &history.entries[i].run.provenance);
            if !why.is_empty() {
                history.boundaries.push(Boundary { index: i, why });
                continue;
            }
            for label in &history.points {
                let (Some(a), Some(b)) = (history.point(i - 1, label), history.point(i, label)) else { continue };
                let decision = stats::decide(&a.seconds, &b.seconds, rule);
                if matches!(decision.verdict, Verdict::Slower | Verdict::Faster) {
                    let next_comparable = history.entries.get(i + 1).is_some_and(|next| {
                        record::provenance_mismatch(&history.entries[i].run.provenance, &next.run.provenance).is_empty()
                    });
                    let sustained = history
                        .point(i + 1, label)
                        .filter(|_| next_comparable)
                        .map(|c| stats::decide(&a.seconds, &c.seconds, rule).verdict == decision.verdict);
                    history.steps.push(Step { index: i, point: label.clone(), decision, sustained });
                }
            }
        }
        history
    }

    /// The point `label` of entry `entry`, if that entry measured it.
    pub fn point(&self, entry: usize, label: &str) -> Option<&TrackedPoint> {
        let at = *self.index.get(entry)?.get(label)?;
        self.entries.get(entry)?.run.points.get(at)
    }

    /// Whether entry `index` starts a new provenance (a boundary lies just before it).
    pub fn is_boundary(&self, index: usize) -> bool {
        self.boundaries.iter().any(|b| b.index == index)
    }
}

/// Reads every `*.json` file of `dir` as a [`TrackedRun`], in file-name order.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<Entry>> {
    let listing = std::fs::read_dir(dir).with_context(|| format!("reading the history folder {}", dir.display()))?;
    let mut files = Vec::new();
    for item in listing {
        let path = item.with_context(|| format!("listing {}", dir.display()))?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("{}: no history entries (*.json TrackedRun files) in it", dir.display());
    }
    files
        .into_iter()
        .map(|file| {
            let run = TrackedRun::load(&file)?;
            check(&run).with_context(|| format!("{}: not a usable history entry", file.display()))?;
            Ok(Entry { file, run })
        })
        .collect()
}

/// What a parsed file still needs before it can be drawn: a commit, and for every point a
/// non-empty shape and positive, finite times.
fn check(run: &TrackedRun) -> anyhow::Result<()> {
    if run.provenance.commit.is_empty() {
        bail!("provenance.commit is empty");
    }
    for p in &run.points {
        if p.m == 0 || p.n == 0 || p.k == 0 {
            bail!("point {}: an empty shape", p.label());
        }
        if p.seconds.is_empty() {
            bail!("point {}: no process medians in `seconds`", p.label());
        }
        if let Some(bad) = p.seconds.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            bail!("point {}: {bad} seconds per call", p.label());
        }
    }
    Ok(())
}

/// The page's default place: `target/matmul-history/index.html` in the workspace.
fn default_out() -> PathBuf {
    crate::runner::workspace_root().join("target").join("matmul-history").join("index.html")
}

/// Reads the history in `args.dir`, writes the page and its charts, prints a summary.
pub fn run(args: HistoryArgs) -> anyhow::Result<()> {
    let history = History::new(load_dir(&args.dir)?, Rule::default());
    let out = args.out.unwrap_or_else(default_out);
    let folder = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let charts = chart::charts(&history)?;
    for c in &charts {
        let path = folder.join(&c.file);
        std::fs::write(&path, &c.svg).with_context(|| format!("writing {}", path.display()))?;
    }
    let html = page::render(&history, &charts);
    std::fs::write(&out, html).with_context(|| format!("writing {}", out.display()))?;
    println!("{}", summary(&history, &out));
    Ok(())
}

/// The lines printed at the end: what was read, what was found, where it went.
pub fn summary(history: &History, out: &Path) -> String {
    let (first, last) = match (history.entries.first(), history.entries.last()) {
        (Some(f), Some(l)) => (f.short_commit(), l.short_commit()),
        _ => ("-", "-"),
    };
    let slower = history.steps.iter().filter(|s| s.decision.verdict == Verdict::Slower).count();
    let kept = history.steps.iter().filter(|s| s.sustained == Some(true)).count();
    let one_off = history.steps.iter().filter(|s| s.sustained == Some(false)).count();
    let read = match history.entries.len() {
        1 => "1 entry".to_owned(),
        n => format!("{n} entries"),
    };
    format!(
        "xtask history: {read} ({first} .. {last}), {} points; {} step(s): {slower} slower, {} faster \
         ({kept} kept at the next commit, {one_off} not kept, {} not confirmed yet); \
         {} machine/toolchain change(s)\nxtask history: wrote {}",
        history.points.len(),
        history.steps.len(),
        history.steps.len() - slower,
        history.steps.len() - kept - one_off,
        history.boundaries.len(),
        out.display()
    )
}

#[cfg(test)]
mod tests {
    use super::fixture::{entry, series, write_dir};
    use super::*;

    fn steps_at(h: &History) -> Vec<(usize, &str, Verdict)> {
        h.steps.iter().map(|s| (s.index, s.point.as_str(), s.decision.verdict)).collect()
    }

    #[test]
    fn a_slowdown_is_found_where_it_starts_and_nowhere_else() {
        // Six commits; the third (index 2) makes simd f64 15 % slower for good.
        let entries = series(6, |i, label| if i >= 2 && label.starts_with("simd f64") { 1.15 } else { 1.0 });
        let h = History::new(entries, Rule::default());
        let found = steps_at(&h);
        assert!(!found.is_empty());
        assert!(
            found.iter().all(|&(i, p, v)| i == 2 && p.starts_with("simd f64") && v == Verdict::Slower),
            "{found:?}"
        );
        // Every simd f64 point, and only those.
        let simd_f64 = h.points.iter().filter(|p| p.starts_with("simd f64")).count();
        assert_eq!(found.len(), simd_f64, "{found:?}");
        assert!(h.boundaries.is_empty());
        let ratio = h.steps[0].decision.ratio;
        assert!((ratio - 1.15).abs() < 0.05, "{ratio}");
        // The slowdown stays: the next commit confirms it.
        assert!(h.steps.iter().all(|s| s.sustained == Some(true)), "{:?}", h.steps);
    }

    /// A one-commit excursion (slower at index 2, back at index 3) is two steps: the
    /// excursion is not kept, the return is; a step at the latest commit is not confirmed yet.
    #[test]
    fn a_one_off_is_not_kept_and_the_latest_step_is_unconfirmed() {
        let entries = series(5, |i, label| match i {
            2 if label.starts_with("simd f64") => 1.15,
            4 if label.starts_with("naive") => 0.8,
            _ => 1.0,
        });
        let h = History::new(entries, Rule::default());
        let at = |i: usize| h.steps.iter().filter(move |s| s.index == i);
        assert!(at(2).count() > 0 && at(2).all(|s| s.sustained == Some(false)), "{:?}", h.steps);
        assert!(at(3).count() > 0 && at(3).all(|s| s.sustained == Some(true)), "{:?}", h.steps);
        assert!(at(4).count() > 0 && at(4).all(|s| s.sustained.is_none()), "{:?}", h.steps);
        assert_eq!(at(4).next().map(Step::sustained_text), Some("not confirmed yet"));
    }

    #[test]
    fn a_speed_up_is_a_faster_step() {
        let entries = series(4, |i, label| if i >= 1 && label.starts_with("naive") { 0.8 } else { 1.0 });
        let h = History::new(entries, Rule::default());
        let found = steps_at(&h);
        assert!(!found.is_empty());
        assert!(found.iter().all(|&(i, p, v)| i == 1 && p.starts_with("naive") && v == Verdict::Faster), "{found:?}");
    }

    #[test]
    fn an_a_a_series_with_noise_has_no_step() {
        let h = History::new(series(12, |_, _| 1.0), Rule::default());
        assert_eq!(steps_at(&h), vec![]);
        assert!(h.boundaries.is_empty());
    }

    #[test]
    fn a_provenance_change_is_a_boundary_not_a_step() {
        // From index 4 on, another toolchain, and everything 20 % faster with it.
        let mut entries = series(6, |i, _| if i >= 4 { 0.8 } else { 1.0 });
        for e in &mut entries[4..] {
            e.run.provenance.rustc = "rustc 1.96.0".into();
        }
        let h = History::new(entries, Rule::default());
        assert_eq!(steps_at(&h), vec![]);
        assert_eq!(h.boundaries.len(), 1, "{:?}", h.boundaries);
        assert_eq!(h.boundaries[0].index, 4);
        assert!(h.boundaries[0].why[0].contains("rustc"), "{:?}", h.boundaries);
        assert!(h.is_boundary(4) && !h.is_boundary(3));
    }

    #[test]
    fn a_point_missing_from_an_entry_is_not_judged_across_the_gap() {
        // naive-ikj f32 rrr 256 is not measured at index 2, and 20 % slower from then on.
        let label = "naive-ikj f32 rrr 256x256x256 t1";
        let mut entries = series(5, |i, l| if i >= 2 && l == label { 1.2 } else { 1.0 });
        entries[2].run.points.retain(|p| p.label() != label);
        let h = History::new(entries, Rule::default());
        assert_eq!(steps_at(&h), vec![]);
        assert!(h.point(2, label).is_none() && h.point(3, label).is_some() && h.point(9, label).is_none());
        assert_eq!(h.points.len(), 16);
    }

    #[test]
    fn entries_are_ordered_by_commit_time_then_file_name() {
        // File names in the opposite order to the commit times, and a tie broken by name.
        let dir = write_dir(
            "order",
            &[
                ("a.json", entry(3, 300, |_| 1.0)),
                ("b.json", entry(1, 100, |_| 1.0)),
                ("c.json", entry(2, 300, |_| 1.0)),
            ],
        );
        let h = History::new(load_dir(&dir).unwrap(), Rule::default());
        let order: Vec<&str> = h.entries.iter().map(|e| e.short_commit()).collect();
        assert_eq!(order, ["0000001", "0000003", "0000002"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_folders_and_files_are_named_in_the_error() {
        let missing = std::env::temp_dir().join("xtask-history-no-such-folder");
        let e = format!("{:#}", load_dir(&missing).unwrap_err());
        assert!(e.contains("reading the history folder") && e.contains("no-such-folder"), "{e}");

        let empty = write_dir("empty", &[]);
        std::fs::write(empty.join("notes.txt"), "not an entry").unwrap();
        let e = format!("{:#}", load_dir(&empty).unwrap_err());
        assert!(e.contains("no history entries"), "{e}");

        std::fs::write(empty.join("bad.json"), "{\"schema\": 1, \"points\": []}").unwrap();
        let e = format!("{:#}", load_dir(&empty).unwrap_err());
        assert!(e.contains("bad.json") && e.contains("provenance"), "{e}");

        let mut run = entry(1, 100, |_| 1.0).run;
        run.schema = 99;
        run.save(&empty.join("bad.json")).unwrap();
        let e = format!("{:#}", load_dir(&empty).unwrap_err());
        assert!(e.contains("bad.json") && e.contains("schema 99"), "{e}");

        let mut run = entry(1, 100, |_| 1.0).run;
        run.points[0].seconds = vec![];
        run.save(&empty.join("bad.json")).unwrap();
        let e = format!("{:#}", load_dir(&empty).unwrap_err());
        assert!(e.contains("bad.json") && e.contains("no process medians"), "{e}");
        std::fs::remove_dir_all(&empty).unwrap();
    }

    #[test]
    fn run_writes_the_page_with_its_charts_beside_it() {
        let files: Vec<(String, Entry)> =
            series(3, |_, _| 1.0).into_iter().map(|e| (e.file.to_string_lossy().into_owned(), e)).collect();
        let named: Vec<(&str, Entry)> = files.iter().map(|(n, e)| (n.as_str(), e.clone())).collect();
        let dir = write_dir("run", &named);
        let out = dir.join("page").join("index.html");
        run(HistoryArgs { dir: dir.clone(), out: Some(out.clone()) }).unwrap();
        let html = std::fs::read_to_string(&out).unwrap();
        for svg in ["simd-f32-t1.svg", "simd-f64-t1.svg", "naive-ikj-f32-t1.svg", "naive-ikj-f64-t1.svg"] {
            let text = std::fs::read_to_string(dir.join("page").join(svg)).unwrap();
            assert!(text.starts_with("<svg"), "{svg}");
            assert!(html.contains(&format!("href=\"{svg}\"")), "{svg}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_summary_counts_what_was_found() {
        let entries = series(6, |i, label| if i >= 2 && label.starts_with("simd f64") { 1.15 } else { 1.0 });
        let h = History::new(entries, Rule::default());
        let s = summary(&h, Path::new("/x/index.html"));
        assert!(s.contains("6 entries") && s.contains("slower, 0 faster") && s.contains("/x/index.html"), "{s}");
    }
}
