//! The merged `results.json` that `cargo xtask bench` writes: the runner processes'
//! measurements, each with the figures derived from it once (GFLOP/s, % of peak, ratio to
//! the best BLAS), and the run's provenance. A later run reads it back as its baseline.

use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::runner::{BackendInfo, GpuPeak, Machine, Measurement, Peak, Settings, Skip};
use crate::{Dtype, Kind, SCHEMA};

/// A whole merged results file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    pub schema: u32,
    /// What the numbers depended on besides the machine and the backends' details.
    pub provenance: Provenance,
    pub machine: Machine,
    /// Per dtype, the largest of every process's start and end peaks.
    pub peaks: Vec<Peak>,
    /// Per dtype, the GPU's theoretical peak, when a GPU backend ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_peaks: Vec<GpuPeak>,
    /// Every backend measured, in the order of the processes.
    pub backends: Vec<BackendInfo>,
    /// The first process's settings (every process gets the same options).
    pub settings: Settings,
    /// The runner processes merged into this file.
    pub processes: Vec<Process>,
    pub results: Vec<Row>,
    pub skipped: Vec<Skip>,
}

/// Where the numbers came from.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    /// `git rev-parse HEAD` of the workspace, with `-dirty` when it had changes.
    pub commit: Option<String>,
    /// `rustc --version` of the toolchain that built the runners.
    pub rustc: Option<String>,
    /// How the runners were compiled (`-C target-cpu=native` or portable).
    pub codegen: String,
    /// The `cargo xtask bench` command line.
    pub command: String,
}

/// One runner process: its build (BLAS library), thread count, file and peaks.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Process {
    pub build: String,
    pub threads: usize,
    pub file: String,
    pub peaks: Vec<Peak>,
}

/// One measured point of one backend, with its derived figures.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    #[serde(flatten)]
    pub measured: Measurement,
    /// [`Measurement::gflops`], written out for readers of the file.
    pub gflops: f64,
    /// GFLOP/s over the peak this row is measured against ([`peak_for`]); null without one.
    pub peak_fraction: Option<f64>,
    /// GFLOP/s over the best BLAS backend's at this point; null without a BLAS row.
    pub ratio_to_best_blas: Option<f64>,
    /// That BLAS backend.
    pub best_blas: Option<String>,
    /// Set when the best BLAS was measured in another runner process than this row.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ratio_across_processes: bool,
}

/// The peak a row of `kind` at `threads` threads is measured against, in GFLOP/s.
///
/// CPU backends: the one-thread peak at 1 thread, the all-core peak at every core, and
/// the smaller of `threads` × one-thread and all-core in between. A GPU row is measured
/// against the GPU's theoretical peak for its dtype, never the CPU's: none when the
/// runner recorded no GPU peak.
pub fn peak_for(kind: Kind, dtype: Dtype, threads: usize, peaks: &[Peak], gpu_peaks: &[GpuPeak]) -> Option<f64> {
    match kind {
        Kind::Gpu => gpu_peaks.iter().find(|p| p.dtype == dtype).map(|p| p.gflops),
        Kind::Loops | Kind::Simd | Kind::Blas | Kind::Peer => {
            let p = peaks.iter().find(|p| p.dtype == dtype)?;
            Some(if threads == 1 {
                p.one()
            } else if threads >= p.cores {
                p.all()
            } else {
                (p.one() * threads as f64).min(p.all())
            })
        }
    }
}

impl Results {
    /// Loads a merged file of the current schema.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        crate::load_current(path, |schema| format!("results of schema {schema}; this xtask reads schema {SCHEMA}"))
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        crate::save_pretty(self, path)
    }

    pub fn backend(&self, name: &str) -> Option<&BackendInfo> {
        self.backends.iter().find(|b| b.name == name)
    }
}

/// The measurements of a results file, for a baseline comparison: schema 2, or schema 1
/// (whose rows carry the same measurement fields beside the derived ones, which are
/// ignored). Any other schema is an error that names both versions.
pub fn load_measurements(path: &Path) -> anyhow::Result<Vec<Measurement>> {
    #[derive(Deserialize)]
    struct Rows {
        results: Vec<Measurement>,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let schema = crate::schema_of(&text).with_context(|| format!("parsing {}", path.display()))?;
    if schema != 1 && schema != SCHEMA {
        bail!(
            "{}: results of schema {schema}; this xtask reads schema {SCHEMA} and, as a baseline, schema 1",
            path.display()
        );
    }
    let rows: Rows =
        serde_json::from_str(&text).with_context(|| format!("parsing {} (schema {schema})", path.display()))?;
    Ok(rows.results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::PeakRates;
    use crate::Layouts;

    fn peak(dtype: Dtype, one: f64, all: f64) -> Peak {
        Peak {
            dtype,
            isa: "avx2".into(),
            cores: 4,
            start: PeakRates { one, all },
            end: PeakRates { one: one / 2.0, all: all / 2.0 },
        }
    }

    #[test]
    fn peak_is_kind_aware_and_scales_with_threads() {
        let peaks = [peak(Dtype::F64, 50.0, 150.0)];
        assert_eq!(peak_for(Kind::Loops, Dtype::F64, 1, &peaks, &[]), Some(50.0));
        assert_eq!(peak_for(Kind::Blas, Dtype::F64, 2, &peaks, &[]), Some(100.0));
        assert_eq!(peak_for(Kind::Blas, Dtype::F64, 3, &peaks, &[]), Some(150.0));
        assert_eq!(peak_for(Kind::Peer, Dtype::F64, 4, &peaks, &[]), Some(150.0));
        assert_eq!(peak_for(Kind::Gpu, Dtype::F64, 1, &peaks, &[]), None, "a GPU row never uses the CPU peak");
        assert_eq!(peak_for(Kind::Simd, Dtype::F32, 1, &peaks, &[]), None, "no f32 peak measured");
        let gpu = [GpuPeak { device: "NVIDIA H200".into(), dtype: Dtype::F64, gflops: 66_908.0, basis: String::new() }];
        assert_eq!(peak_for(Kind::Gpu, Dtype::F64, 1, &peaks, &gpu), Some(66_908.0));
        assert_eq!(peak_for(Kind::Gpu, Dtype::F32, 1, &peaks, &gpu), None, "no f32 GPU peak recorded");
        assert_eq!(peak_for(Kind::Blas, Dtype::F64, 1, &peaks, &gpu), Some(50.0), "a CPU row never uses the GPU's");
    }

    #[test]
    fn other_schemas_fail_with_both_versions_named() {
        let dir = std::env::temp_dir().join(format!("bench-format-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v9.json");
        std::fs::write(&path, r#"{"schema": 9, "results": []}"#).unwrap();
        let err = load_measurements(&path).unwrap_err().to_string();
        assert!(err.contains("schema 9") && err.contains("schema 2") && err.contains("schema 1"), "{err}");
        let err = Results::load(&path).unwrap_err().to_string();
        assert!(err.contains("schema 9") && err.contains("schema 2"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_row_flattens_its_measurement() {
        let m = Measurement {
            backend: "openblas".into(),
            dtype: Dtype::F64,
            experiment: crate::Experiment::Sweep,
            m: 4,
            n: 4,
            k: 4,
            threads: 1,
            threads_used: None,
            layout: Layouts::ROW_MAJOR,
            seconds_median: 1e-6,
            seconds_min: 1e-6,
            samples: 3,
            calls: 9,
            max_err_over_bound: 0.1,
            checked_entries: 16,
            first_call_seconds: None,
            gpu: None,
        };
        let row = Row {
            gflops: m.gflops(),
            measured: m,
            peak_fraction: None,
            ratio_to_best_blas: Some(1.0),
            best_blas: Some("openblas".into()),
            ratio_across_processes: false,
        };
        let text = serde_json::to_string(&row).unwrap();
        assert!(text.contains("\"backend\":\"openblas\"") && text.contains("\"gflops\""), "{text}");
        assert_eq!(serde_json::from_str::<Row>(&text).unwrap(), row);
    }
}
