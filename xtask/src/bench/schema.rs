//! `results.json` as xtask reads and writes it: the runner's format (see
//! `crates/matmul-cli/src/bench/output.rs`), plus what only the merged file has (the code
//! generation and the processes it was merged from). The field names are a
//! contract: `schema`, `machine.{cpu,cores,features,peak_gflops}`, and each result's
//! `backend, dtype, m, n, k, threads, layout, seconds_median, seconds_min, gflops,
//! peak_fraction, max_err_over_bound`. Every other field is optional when reading, so a
//! baseline written by an older or leaner tool still loads.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// The format version this xtask reads and writes.
pub const SCHEMA: u32 = 1;

/// A whole results file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    pub schema: u32,
    pub machine: Machine,
    #[serde(default)]
    pub backends: Vec<BackendInfo>,
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    pub results: Vec<Row>,
    #[serde(default)]
    pub skipped: Vec<Skip>,
    /// The runner processes merged into this file (merged files only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<Process>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub features: Vec<String>,
    #[serde(default)]
    pub compiled_features: Vec<String>,
    #[serde(default)]
    pub ghz: Option<f64>,
    /// `{"f32": {"1": …, "all": …}, "f64": …}` in GFLOP/s.
    #[serde(default)]
    pub peak_gflops: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default)]
    pub peak_method: BTreeMap<String, PeakMethod>,
    /// How the runner was compiled (merged files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codegen: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PeakMethod {
    pub isa: String,
    pub theoretical_one: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BackendInfo {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub description: String,
    pub multithreaded: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub backend: String,
    pub dtype: String,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub threads: usize,
    pub layout: String,
    #[serde(default = "sweep")]
    pub experiment: String,
    pub seconds_median: f64,
    pub seconds_min: f64,
    #[serde(default)]
    pub samples: usize,
    #[serde(default)]
    pub calls: usize,
    pub gflops: f64,
    pub peak_fraction: Option<f64>,
    pub max_err_over_bound: f64,
    #[serde(default)]
    pub checked_entries: usize,
    #[serde(default)]
    pub ratio_to_best_blas: Option<f64>,
    #[serde(default)]
    pub best_blas: Option<String>,
    /// Set when the best BLAS was measured in another runner process than this row.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ratio_across_processes: bool,
}

fn sweep() -> String {
    "sweep".to_owned()
}

/// What identifies a point of one backend, for merging and baseline comparison.
pub type Key = (String, String, usize, usize, usize, usize, String, String);

impl Row {
    pub fn key(&self) -> Key {
        (
            self.backend.clone(),
            self.dtype.clone(),
            self.m,
            self.n,
            self.k,
            self.threads,
            self.layout.clone(),
            self.experiment.clone(),
        )
    }

    /// The point without the backend.
    pub fn point(&self) -> (String, usize, usize, usize, usize, String, String) {
        (self.dtype.clone(), self.m, self.n, self.k, self.threads, self.layout.clone(), self.experiment.clone())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Skip {
    pub backend: String,
    pub dtype: String,
    pub n: Option<usize>,
    pub threads: usize,
    pub layout: String,
    pub experiment: String,
    pub reason: String,
}

/// One runner process: which build, which thread count, its partial file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Process {
    pub build: String,
    pub threads: usize,
    pub file: String,
}

impl Results {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let r: Results = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if r.schema != SCHEMA {
            bail!("{}: schema {} (this xtask reads schema {SCHEMA})", path.display(), r.schema);
        }
        Ok(r)
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    pub fn backend_kind(&self, name: &str) -> &str {
        self.backends.iter().find(|b| b.name == name).map_or("", |b| b.kind.as_str())
    }
}
