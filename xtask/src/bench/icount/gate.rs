//! The instruction-count gate: two sets of counts side by side, and the rule that fails a
//! change. Instructions decide (they are deterministic); the estimated cycles are shown
//! beside them, never judged (a cache model, see [`super::callgrind::Totals`]).
//!
//! A change fails when a count grew by more than the threshold, when a count is on one
//! side only (unless allowed: a backend or case added or removed on purpose), and when
//! the two sides were not counted alike (toolchain, valgrind, code generation, simulated
//! caches; unless forced), since then their counts differ for reasons other than the code.

use std::fmt::Write as _;

use super::{Count, Counts, IcountProvenance};

/// One count on both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub backend: String,
    pub case: String,
    pub base: u64,
    pub head: u64,
    /// `head / base` instructions.
    pub ratio: f64,
    /// `head / base` estimated cycles, when both sides have them.
    pub cycles_ratio: Option<f64>,
    pub regressed: bool,
}

/// Two sets of counts, matched by backend and case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Row>,
    /// `backend case (where it is)` for every count on one side only.
    pub missing: Vec<String>,
}

/// What the gate is told to accept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// Growth that fails, as a fraction (0.02: 2 %).
    pub threshold: f64,
    /// Counts on one side only do not fail.
    pub allow_missing: bool,
    /// Sides counted differently are compared anyway.
    pub force: bool,
}

/// Why the gate failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Failure {
    #[error("the sides were not counted alike: {}; their counts do not compare (--force compares them anyway)", .0.join("; "))]
    Provenance(Vec<String>),
    #[error("{count} instruction count(s) grew by more than {:.1} % (listed above)", .threshold * 100.0)]
    Regressed { count: usize, threshold: f64 },
    #[error("{0} count(s) on one side only (listed above); --allow-missing accepts that")]
    Missing(usize),
}

fn ratio(head: u64, base: u64) -> f64 {
    head as f64 / base.max(1) as f64
}

/// Matches every count of `head` with `base`.
pub fn compare(base: &Counts, head: &Counts, threshold: f64) -> Comparison {
    let mut out = Comparison::default();
    let find = |counts: &Counts, c: &Count| -> Option<Count> {
        counts.counts.iter().find(|o| o.backend == c.backend && o.case == c.case).cloned()
    };
    for h in &head.counts {
        match find(base, h) {
            Some(b) => {
                let r = ratio(h.instructions, b.instructions);
                out.rows.push(Row {
                    backend: h.backend.clone(),
                    case: h.case.clone(),
                    base: b.instructions,
                    head: h.instructions,
                    ratio: r,
                    cycles_ratio: b.estimated_cycles.zip(h.estimated_cycles).map(|(b, h)| ratio(h, b)),
                    regressed: r > 1.0 + threshold,
                });
            }
            None => out.missing.push(format!("{} {} (counted in head only)", h.backend, h.case)),
        }
    }
    for b in base.counts.iter().filter(|b| find(head, b).is_none()) {
        out.missing.push(format!("{} {} (counted in base only)", b.backend, b.case));
    }
    out
}

/// Why two sides' counts cannot be compared; empty when they can. The revision and
/// commit are what is compared, so they may differ; a field left empty (a schema-1
/// file, which recorded none) is a difference.
pub fn provenance_mismatch(base: &IcountProvenance, head: &IcountProvenance) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, a: &str, b: &str| {
        if a.is_empty() || b.is_empty() {
            out.push(format!("{what}: not recorded on {}", if a.is_empty() { "base" } else { "head" }));
        } else if a != b {
            out.push(format!("{what}: {a:?} (base) vs {b:?} (head)"));
        }
    };
    differ("rustc", &base.rustc, &head.rustc);
    differ("valgrind", &base.valgrind, &head.valgrind);
    differ("code generation", &base.codegen, &head.codegen);
    differ("callgrind options", &base.callgrind, &head.callgrind);
    out
}

/// The gate's decision: every reason it fails, in the order a reader should fix them.
/// A provenance mismatch is checked first, and when it is not forced it is the only
/// reason given: counts that do not compare say nothing about growth.
pub fn judge(cmp: &Comparison, mismatch: &[String], policy: Policy) -> Vec<Failure> {
    if !mismatch.is_empty() && !policy.force {
        return vec![Failure::Provenance(mismatch.to_vec())];
    }
    let mut out = Vec::new();
    let regressed = cmp.rows.iter().filter(|r| r.regressed).count();
    if regressed > 0 {
        out.push(Failure::Regressed { count: regressed, threshold: policy.threshold });
    }
    if !cmp.missing.is_empty() && !policy.allow_missing {
        out.push(Failure::Missing(cmp.missing.len()));
    }
    out
}

/// The table, in the counts' order (backend by backend), then what is missing.
pub fn table(cmp: &Comparison, base: &IcountProvenance, head: &IcountProvenance, threshold: f64) -> String {
    let mut s = String::new();
    let side = |p: &IcountProvenance| format!("{} ({})", p.revision, &p.commit[..p.commit.len().min(12)]);
    let _ = writeln!(s, "base: {} · head: {} · threshold {:.1} %", side(base), side(head), threshold * 100.0);
    let _ = writeln!(s, "{} · {} · {} · {}\n", head.rustc, head.valgrind, head.codegen, head.callgrind);
    let _ = writeln!(s, "| backend | case | base instr | head instr | instr ratio | est. cycles ratio | verdict |");
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---|");
    for r in &cmp.rows {
        let verdict = if r.regressed {
            "REGRESSED"
        } else if r.ratio < 1.0 - threshold {
            "fewer"
        } else if r.ratio != 1.0 {
            "changed, below the threshold"
        } else {
            "same"
        };
        let cycles = r.cycles_ratio.map_or("–".to_owned(), |c| format!("{c:.4}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.4} | {cycles} | {verdict} |",
            r.backend, r.case, r.base, r.head, r.ratio
        );
    }
    if !cmp.missing.is_empty() {
        s.push('\n');
    }
    for m in &cmp.missing {
        let _ = writeln!(s, "MISSING: {m}");
    }
    let _ = writeln!(
        s,
        "\n{} count(s) compared: {} regressed, {} missing.",
        cmp.rows.len(),
        cmp.rows.iter().filter(|r| r.regressed).count(),
        cmp.missing.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::icount::ICOUNT_SCHEMA;

    fn count(backend: &str, instructions: u64) -> Count {
        Count {
            backend: backend.into(),
            case: "f64-rrr-64".into(),
            instructions,
            estimated_cycles: Some(instructions * 2),
            events: Default::default(),
        }
    }

    fn prov(commit: &str) -> IcountProvenance {
        IcountProvenance {
            revision: commit.into(),
            commit: commit.into(),
            rustc: "rustc 1.95.0".into(),
            valgrind: "valgrind-3.19.0".into(),
            codegen: "generic x86-64".into(),
            callgrind: "--cache-sim=yes".into(),
        }
    }

    fn counts(commit: &str, c: Vec<Count>) -> Counts {
        Counts { schema: ICOUNT_SCHEMA, kind: "instructions".into(), provenance: prov(commit), counts: c }
    }

    const POLICY: Policy = Policy { threshold: 0.02, allow_missing: false, force: false };

    #[test]
    fn growth_past_the_threshold_fails() {
        let base = counts("a", vec![count("simd", 1000), count("naive-ikj", 1000)]);
        let same = compare(&base, &base, 0.02);
        assert_eq!(judge(&same, &[], POLICY), []);
        // +1 % passes, +10 % fails; the cycles ratio comes along.
        let head = counts("b", vec![count("simd", 1010), count("naive-ikj", 1100)]);
        let cmp = compare(&base, &head, 0.02);
        assert_eq!(cmp.rows.iter().map(|r| r.regressed).collect::<Vec<_>>(), [false, true]);
        assert!((cmp.rows[1].ratio - 1.1).abs() < 1e-12);
        assert!((cmp.rows[1].cycles_ratio.unwrap() - 1.1).abs() < 1e-12);
        assert_eq!(judge(&cmp, &[], POLICY), [Failure::Regressed { count: 1, threshold: 0.02 }]);
        // Fewer instructions never fail.
        let faster = counts("b", vec![count("simd", 500), count("naive-ikj", 1000)]);
        assert_eq!(judge(&compare(&base, &faster, 0.02), &[], POLICY), []);
        let t = table(&cmp, &base.provenance, &head.provenance, 0.02);
        assert!(t.contains("| naive-ikj | f64-rrr-64 | 1000 | 1100 | 1.1000 | 1.1000 | REGRESSED |"), "{t}");
        assert!(t.contains("| simd | f64-rrr-64 | 1000 | 1010 | 1.0100 | 1.0100 | changed, below"), "{t}");
    }

    #[test]
    fn a_count_on_one_side_only_fails_unless_allowed() {
        let base = counts("a", vec![count("simd", 1000), count("gone", 1000)]);
        let head = counts("b", vec![count("simd", 1000), count("new", 5)]);
        let cmp = compare(&base, &head, 0.02);
        assert_eq!(cmp.missing, ["new f64-rrr-64 (counted in head only)", "gone f64-rrr-64 (counted in base only)"]);
        assert_eq!(judge(&cmp, &[], POLICY), [Failure::Missing(2)]);
        assert_eq!(judge(&cmp, &[], Policy { allow_missing: true, ..POLICY }), []);
    }

    #[test]
    fn mismatched_provenance_is_refused_unless_forced() {
        let (base, mut head) = (prov("a"), prov("b"));
        assert!(provenance_mismatch(&base, &head).is_empty(), "the commit may differ");
        head.rustc = "rustc 1.96.0".into();
        head.callgrind.clear();
        let why = provenance_mismatch(&base, &head);
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(why[0].contains("1.96.0") && why[1].contains("callgrind options: not recorded on head"), "{why:?}");
        // Refused before anything else, even with a regression in the counts...
        let c = counts("a", vec![count("simd", 1000)]);
        let cmp = compare(&c, &counts("b", vec![count("simd", 2000)]), 0.02);
        assert_eq!(judge(&cmp, &why, POLICY), [Failure::Provenance(why.clone())]);
        // ...and with --force the counts are judged.
        assert_eq!(
            judge(&cmp, &why, Policy { force: true, ..POLICY }),
            [Failure::Regressed { count: 1, threshold: 0.02 }]
        );
    }
}
