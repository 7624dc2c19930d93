//! What `cargo xtask compare` measures of one revision, as JSON: the per-process median
//! seconds of every tracked point, with where they came from. `compare.json` holds one
//! for each side; the benchmark history (`cargo xtask history`) is a folder of them, one
//! per commit of main.

use std::path::Path;

use anyhow::{bail, Context};
use matmul_bench_format::runner::Machine;
use matmul_bench_format::{Dtype, Layouts, Shape};
use serde::{Deserialize, Serialize};

/// The version of this file format.
pub const TRACKED_SCHEMA: u32 = 1;

/// One revision's measurements.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrackedRun {
    pub schema: u32,
    pub provenance: TrackedProvenance,
    pub points: Vec<TrackedPoint>,
}

/// Where one side's numbers came from.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrackedProvenance {
    /// The revision as asked (`main`, `HEAD~1`, `work tree`).
    pub revision: String,
    /// Its commit hash; `-dirty` when it is a work tree with changes.
    pub commit: String,
    /// The commit's first line.
    #[serde(default)]
    pub subject: String,
    /// The commit's time, seconds since the Unix epoch (orders the history).
    #[serde(default)]
    pub commit_time: i64,
    /// `rustc --version` of the toolchain that built the runner.
    pub rustc: String,
    /// How the runner was compiled.
    pub codegen: String,
    /// Where it ran (CPU, cores, instruction sets).
    pub machine: Machine,
}

/// One backend at one point: the median seconds per call of each runner process.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrackedPoint {
    pub backend: String,
    pub dtype: Dtype,
    /// Layouts of A, B, C (`rrr` in the file).
    pub layout: Layouts,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub threads: usize,
    /// One per process, in the order they ran.
    pub seconds: Vec<f64>,
}

impl TrackedPoint {
    /// `backend dtype layout MxNxK tT`: the point's name in tables and plots.
    pub fn label(&self) -> String {
        format!("{} {} {} {} t{}", self.backend, self.dtype, self.layout, self.shape(), self.threads)
    }

    pub fn shape(&self) -> Shape {
        Shape { m: self.m, n: self.n, k: self.k }
    }

    /// GFLOP/s at the median of the process medians.
    pub fn gflops(&self) -> f64 {
        self.shape().flops() / super::stats::median(&self.seconds) / 1e9
    }
}

impl TrackedRun {
    /// Reads a file `save` wrote; errors name the file (unreadable, not JSON, another schema).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let run: TrackedRun = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if run.schema != TRACKED_SCHEMA {
            bail!("{}: schema {}, but this xtask reads schema {TRACKED_SCHEMA}", path.display(), run.schema);
        }
        Ok(run)
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The point with `label`, if measured.
    pub fn point(&self, label: &str) -> Option<&TrackedPoint> {
        self.points.iter().find(|p| p.label() == label)
    }
}

/// Why two sides' numbers cannot be compared: they were built or run differently (other
/// than in the commit). Empty when they can.
pub fn provenance_mismatch(base: &TrackedProvenance, head: &TrackedProvenance) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, a: &str, b: &str| {
        if a != b {
            out.push(format!("{what}: {a:?} (base) vs {b:?} (head)"));
        }
    };
    differ("rustc", &base.rustc, &head.rustc);
    differ("code generation", &base.codegen, &head.codegen);
    differ("CPU", &base.machine.cpu, &head.machine.cpu);
    differ("cores", &base.machine.cores.to_string(), &head.machine.cores.to_string());
    differ("instruction sets", &base.machine.features.join(","), &head.machine.features.join(","));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prov() -> TrackedProvenance {
        TrackedProvenance {
            revision: "main".into(),
            commit: "abc".into(),
            rustc: "rustc 1.95.0".into(),
            codegen: "native".into(),
            machine: Machine { cpu: "AMD EPYC".into(), cores: 2, features: vec!["avx2".into()], ..Machine::default() },
            ..TrackedProvenance::default()
        }
    }

    #[test]
    fn provenance_must_match_except_the_commit() {
        let base = prov();
        let mut head = prov();
        head.commit = "def".into();
        head.revision = "work tree".into();
        assert!(provenance_mismatch(&base, &head).is_empty());
        head.rustc = "rustc 1.96.0".into();
        head.machine.features.push("avx512f".into());
        let why = provenance_mismatch(&base, &head);
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(why[0].contains("rustc") && why[1].contains("instruction sets"), "{why:?}");
    }

    #[test]
    fn labels_and_round_trip() {
        let p = TrackedPoint {
            backend: "simd".into(),
            dtype: Dtype::F64,
            layout: Layouts::ROW_MAJOR,
            m: 256,
            n: 256,
            k: 256,
            threads: 1,
            seconds: vec![0.001, 0.002, 0.003],
        };
        assert_eq!(p.label(), "simd f64 rrr 256x256x256 t1");
        assert!((p.gflops() - 2.0 * 256f64.powi(3) / 0.002 / 1e9).abs() < 1e-9);
        let run = TrackedRun { schema: TRACKED_SCHEMA, provenance: prov(), points: vec![p] };
        let dir = std::env::temp_dir().join(format!("xtask-tracked-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("run.json");
        run.save(&file).unwrap();
        assert_eq!(TrackedRun::load(&file).unwrap(), run);
        assert!(run.point("simd f64 rrr 256x256x256 t1").is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
