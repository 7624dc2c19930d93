//! The JSON the runner writes (`schema` 1). The field names of [`Output`], [`Machine`] and
//! [`Row`] that the issue lists are a contract: CI and other tools read them. xtask merges
//! one such file per runner process into the report's `results.json`, which has the same shape.

use std::collections::BTreeMap;

use serde::Serialize;

/// The version of this format.
pub const SCHEMA: u32 = 1;

/// One runner process's results.
#[derive(Debug, Serialize)]
pub struct Output {
    /// Always [`SCHEMA`].
    pub schema: u32,
    /// Where it ran.
    pub machine: Machine,
    /// Every backend this process measured.
    pub backends: Vec<BackendInfo>,
    /// How it measured.
    pub settings: Settings,
    /// One row per measured point and backend.
    pub results: Vec<Row>,
    /// Points not measured, and why.
    pub skipped: Vec<Skip>,
}

/// The machine line.
#[derive(Debug, Serialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Hardware threads available to the process.
    pub cores: usize,
    /// Instruction-set extensions detected at run time.
    pub features: Vec<String>,
    /// Vector extensions the binary was compiled for (from `-C target-cpu=native`).
    pub compiled_features: Vec<String>,
    /// Nominal clock from /proc/cpuinfo, GHz.
    pub ghz: Option<f64>,
    /// `{"f32": {"1": …, "all": …}, "f64": {…}}`, GFLOP/s; empty when not measured (`--no-peak`).
    pub peak_gflops: BTreeMap<String, BTreeMap<String, f64>>,
    /// How the peak was measured: the instruction set, and the theoretical one-core value.
    pub peak_method: BTreeMap<String, PeakMethod>,
}

/// How one dtype's peak was measured.
#[derive(Debug, Serialize)]
pub struct PeakMethod {
    /// `avx512`, `avx2+fma` or `scalar`.
    pub isa: String,
    /// 2 FMA units × lanes × 2 flops × nominal GHz, for one core.
    pub theoretical_one: Option<f64>,
}

/// A backend as the report lists it.
#[derive(Debug, Serialize)]
pub struct BackendInfo {
    /// Its name (`naive-ikj`, `peer:gemm`, …).
    pub name: String,
    /// `loops`, `simd`, `blas`, `gpu`, or `peer`.
    pub kind: String,
    /// One line.
    pub description: String,
    /// What its results depend on (library version, kernel, threading): `Backend::details`.
    pub details: String,
    /// Whether it runs at more than one thread (single-threaded ones run at threads = 1 only).
    pub multithreaded: bool,
}

/// The measurement settings.
#[derive(Debug, Serialize)]
pub struct Settings {
    /// Each backend's timed runs add up to at least this many seconds per point.
    pub min_time_s: f64,
    /// At least this many timed samples per point.
    pub min_samples: usize,
    /// A point is skipped when one call is predicted to take longer than this.
    pub max_call_s: f64,
    /// Input seed.
    pub seed: u64,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// Thread count `peer:matrixmultiply` was fixed at in this process.
    pub matrixmultiply_threads: Option<usize>,
}

/// One measured point of one backend.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Backend name.
    pub backend: String,
    /// `f32` or `f64`.
    pub dtype: String,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Inner dimension.
    pub k: usize,
    /// Threads the point asked for (the backend was set to them).
    pub threads: usize,
    /// Threads the backend really used, when that differs from `threads` (only
    /// `peer:matrixmultiply`, which uses at most 4); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads_used: Option<usize>,
    /// Layouts of A, B, C: `r` or `c` each.
    pub layout: String,
    /// `sweep` (the scaling sweep) or `layout` (the layout experiment).
    pub experiment: String,
    /// Median seconds per call.
    pub seconds_median: f64,
    /// Fastest seconds per call.
    pub seconds_min: f64,
    /// Timed samples (each the mean of a batch of calls).
    pub samples: usize,
    /// Timed calls in all.
    pub calls: usize,
    /// 2·m·n·k / seconds_median / 1e9.
    pub gflops: f64,
    /// gflops over the measured peak for this dtype and thread count (null without a peak).
    pub peak_fraction: Option<f64>,
    /// Worst |error| / bound over the checked entries (≤ 1 is correct).
    pub max_err_over_bound: f64,
    /// Entries of C checked against the reference.
    pub checked_entries: usize,
    /// gflops over the best BLAS backend's at this point, measured interleaved in this
    /// process; null when this process has no BLAS backend.
    pub ratio_to_best_blas: Option<f64>,
    /// That BLAS backend.
    pub best_blas: Option<String>,
}

/// A point not measured.
#[derive(Clone, Debug, Serialize)]
pub struct Skip {
    /// Backend name.
    pub backend: String,
    /// `f32` or `f64`.
    pub dtype: String,
    /// Size (m = n = k), or null when every size of the group was skipped.
    pub n: Option<usize>,
    /// Threads.
    pub threads: usize,
    /// Layouts of A, B, C.
    pub layout: String,
    /// `sweep` or `layout`.
    pub experiment: String,
    /// Why.
    pub reason: String,
}
