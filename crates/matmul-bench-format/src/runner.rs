//! What one runner process writes (`matmul-cli bench --json`): where it ran, what it
//! ran, and what it measured. Measurements only: GFLOP/s, % of peak and every ratio are
//! derived by xtask, once (see [`crate::results`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Dtype, Experiment, Kind, Layouts, Shape};

/// The environment variable that fixes a runner process's thread count for the one peer
/// that reads its threads from the environment, matrixmultiply (its own variable, read once
/// per process): xtask sets it on every runner it starts, `matmul-peers` reads it.
pub const THREADS_ENV: &str = "MATMUL_NUM_THREADS";

/// One runner process's output.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunnerOutput {
    /// Always [`crate::SCHEMA`].
    pub schema: u32,
    pub machine: Machine,
    /// The FMA-throughput peak per dtype, measured at the start and the end of the process.
    pub peaks: Vec<Peak>,
    /// The GPU's theoretical peak per dtype, when a GPU backend ran (absent in older files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_peaks: Vec<GpuPeak>,
    /// Every backend this process measured.
    pub backends: Vec<BackendInfo>,
    pub settings: Settings,
    /// One per measured point and backend.
    pub results: Vec<Measurement>,
    /// Points not measured, and why.
    pub skipped: Vec<Skip>,
}

impl RunnerOutput {
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        crate::save_pretty(self, path)
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        crate::load_current(path, |schema| {
            format!(
                "a runner output of schema {schema}, but this xtask reads schema {} (rebuild the runner)",
                crate::SCHEMA
            )
        })
    }
}

/// The machine line.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Hardware threads available to the process.
    pub cores: usize,
    /// Instruction-set extensions detected at run time.
    pub features: Vec<String>,
    /// Vector extensions the binary was compiled for (`-C target-cpu=native` turns them on).
    pub compiled_features: Vec<String>,
    /// The theoretical one-core peak, or why there is none.
    pub theoretical: Theoretical,
}

/// The theoretical one-core FMA peak: FLOP per cycle of the microarchitecture (from a
/// table, not from the widest vector: Zen 4 runs AVX-512 on two 256-bit pipes) times
/// the maximum clock (`cpuinfo_max_freq`, not the current `cpu MHz`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Theoretical {
    /// Computed from the table and the maximum clock.
    Table {
        /// The microarchitecture, e.g. `Zen 4`.
        microarch: String,
        /// f64 FLOP per cycle of one core (f32: twice as many).
        f64_flops_per_cycle: f64,
        /// `cpuinfo_max_freq`, in GHz.
        max_ghz: f64,
    },
    /// Not computed, and why (CPU not in the table, no `cpuinfo_max_freq`).
    Unknown { why: String },
}

impl Default for Theoretical {
    fn default() -> Self {
        Theoretical::Unknown { why: "not recorded".to_owned() }
    }
}

impl Theoretical {
    /// GFLOP/s of one core for `dtype`, if known.
    pub fn one_core(&self, dtype: Dtype) -> Option<f64> {
        match self {
            Theoretical::Table { f64_flops_per_cycle, max_ghz, .. } => {
                // Half inputs run f32 FMAs (no bf16 dot-product kernel yet): the f32 peak.
                let per_cycle = match dtype.accumulator() {
                    Dtype::F64 => *f64_flops_per_cycle,
                    _ => 2.0 * f64_flops_per_cycle,
                };
                Some(per_cycle * max_ghz)
            }
            Theoretical::Unknown { .. } => None,
        }
    }
}

/// GFLOP/s of the FMA microbenchmark at one moment.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PeakRates {
    /// On one thread.
    pub one: f64,
    /// On every core together.
    pub all: f64,
}

/// One dtype's measured peak.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Peak {
    pub dtype: Dtype,
    /// The instruction set the peak ran on: `avx512`, `avx2` or `portable` (`matmul_core::Isa::as_str`; files written before it was shared say `avx2+fma` or `scalar`).
    pub isa: String,
    /// The thread count of `all`.
    pub cores: usize,
    /// Measured before the process's first point.
    pub start: PeakRates,
    /// Measured after its last point.
    pub end: PeakRates,
}

impl Peak {
    /// The larger of the two one-thread measurements (noise only ever lowers a peak).
    pub fn one(&self) -> f64 {
        self.start.one.max(self.end.one)
    }

    /// The larger of the two all-core measurements.
    pub fn all(&self) -> f64 {
        self.start.all.max(self.end.all)
    }
}

/// A GPU's theoretical peak for one dtype: SMs × clock × FMA rate × 2, from matmul-cuda's
/// table per compute capability (the f64 figure is the tensor cores' where they are
/// faster). GPU rows' % of peak is taken against it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GpuPeak {
    /// The device's name, e.g. `NVIDIA H200`.
    pub device: String,
    pub dtype: Dtype,
    /// GFLOP/s.
    pub gflops: f64,
    /// How it was derived, e.g. `132 SMs × 1980 MHz × 128 FP32 FMA/clk × 2`.
    pub basis: String,
}

/// Whether a compiled backend can run here.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Availability {
    Available,
    Unavailable { why: String },
}

impl Availability {
    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available)
    }
}

/// Where a backend's hot loop is, for `cargo xtask asm`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum HotLoop {
    /// Rust compiled in `package`: the `Backend` impl of `type_path`, and the generic
    /// kernels whose paths start with one of `kernels`.
    Rust { package: String, type_path: String, kernels: Vec<String> },
    /// Machine code in a system library, found by the prefix of its file name.
    Library { library: String },
}

/// A backend as `list --json` prints it and the report lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BackendInfo {
    /// Its name (`naive-ikj`, `openblas`, `peer:gemm`, …).
    pub name: String,
    pub kind: Kind,
    /// One line.
    pub description: String,
    /// What a result depended on beyond the name: library and version, instruction set.
    #[serde(default)]
    pub details: String,
    /// Whether it runs at more than one thread (single-threaded ones run at 1 only).
    pub multithreaded: bool,
    pub availability: Availability,
    /// Where its hot loop is, if the runner knows.
    #[serde(default)]
    pub hot_loop: Option<HotLoop>,
}

/// How the process measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Each backend's timed calls add up to at least this many seconds per point.
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
    #[serde(default)]
    pub matrixmultiply_threads: Option<usize>,
}

/// One measured point of one backend.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Measurement {
    pub backend: String,
    pub dtype: Dtype,
    #[serde(default = "sweep")]
    pub experiment: Experiment,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// The inner dimension.
    pub k: usize,
    /// Threads the point asked for (the backend was set to them).
    pub threads: usize,
    /// Threads the backend really used, when that differs from `threads` (only
    /// `peer:matrixmultiply`, which uses at most 4); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_used: Option<usize>,
    /// Layouts of A, B, C (`rcr` in the file).
    pub layout: Layouts,
    /// Median seconds per call.
    pub seconds_median: f64,
    /// Fastest seconds per call.
    pub seconds_min: f64,
    /// Timed samples (each the mean of a batch of calls).
    #[serde(default)]
    pub samples: usize,
    /// Timed calls in all.
    #[serde(default)]
    pub calls: usize,
    /// Worst |error| / bound over the checked entries (≤ 1 is correct).
    pub max_err_over_bound: f64,
    /// Entries of C checked against the reference.
    #[serde(default)]
    pub checked_entries: usize,
    /// Seconds of the backend's first call in its runner process, when this point made
    /// it (the cold start: a GPU's context, kernel compilation and module loading, a BLAS
    /// library's thread pool, page faults); absent at every other point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_call_seconds: Option<f64>,
    /// GPU backends only: the device-resident figures (operands already on the GPU, the
    /// kernel's own time, the copies' rates); absent for every other backend and in
    /// results older than the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuFigures>,
}

/// What a GPU backend measured besides the host-slice call (which includes the copies).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct GpuFigures {
    /// Median seconds of one kernel (or cuBLAS) call on operands already on the GPU,
    /// timed with CUDA events on the stream.
    pub kernel_seconds_median: f64,
    /// Fastest seconds of one such call.
    pub kernel_seconds_min: f64,
    /// Host → device copy rate of the operands, GB/s (10⁹ bytes per second).
    pub h2d_gbps: f64,
    /// Device → host copy rate of C, GB/s.
    pub d2h_gbps: f64,
    /// Whether the host side of those copies was pinned (page-locked) memory, as in the
    /// host-slice path, rather than pageable memory.
    pub pinned: bool,
}

impl GpuFigures {
    /// 2·m·n·k / median kernel seconds / 1e9.
    pub fn kernel_gflops(&self, shape: Shape) -> f64 {
        shape.flops() / self.kernel_seconds_median / 1e9
    }
}

fn sweep() -> Experiment {
    Experiment::Sweep
}

/// A point without its backend: what the backends measured side by side share.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Point {
    pub experiment: Experiment,
    pub dtype: Dtype,
    pub threads: usize,
    pub layout: Layouts,
    pub shape: Shape,
}

/// A point of one backend: what a baseline comparison matches on.
pub type Key = (String, Point);

impl Measurement {
    pub fn shape(&self) -> Shape {
        Shape { m: self.m, n: self.n, k: self.k }
    }

    /// 2·m·n·k / median seconds / 1e9.
    pub fn gflops(&self) -> f64 {
        self.shape().flops() / self.seconds_median / 1e9
    }

    /// Whether the result was within the error bound (NaN is not).
    pub fn passed(&self) -> bool {
        self.max_err_over_bound <= 1.0
    }

    pub fn point(&self) -> Point {
        Point {
            experiment: self.experiment,
            dtype: self.dtype,
            threads: self.threads,
            layout: self.layout,
            shape: self.shape(),
        }
    }

    pub fn key(&self) -> Key {
        (self.backend.clone(), self.point())
    }
}

/// A point not measured.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Skip {
    pub backend: String,
    pub dtype: Dtype,
    pub experiment: Experiment,
    /// The product, or null when every size of the group was skipped.
    pub shape: Option<Shape>,
    pub threads: usize,
    pub layout: Layouts,
    /// Why.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_larger_of_start_and_end() {
        let p = Peak {
            dtype: Dtype::F64,
            isa: "avx2".into(),
            cores: 2,
            start: PeakRates { one: 50.0, all: 58.0 },
            end: PeakRates { one: 48.0, all: 117.0 },
        };
        assert_eq!((p.one(), p.all()), (50.0, 117.0));
    }

    #[test]
    fn theoretical_peak_from_the_table_doubles_for_f32() {
        let t = Theoretical::Table { microarch: "Zen 4".into(), f64_flops_per_cycle: 16.0, max_ghz: 3.7 };
        assert!((t.one_core(Dtype::F64).unwrap() - 59.2).abs() < 1e-9);
        assert!((t.one_core(Dtype::F32).unwrap() - 118.4).abs() < 1e-9);
        assert_eq!(Theoretical::Unknown { why: "x".into() }.one_core(Dtype::F64), None);
    }

    #[test]
    fn gflops_is_derived_from_the_shape_and_the_median() {
        let m = Measurement {
            backend: "b".into(),
            dtype: Dtype::F32,
            experiment: Experiment::Shapes,
            m: 10,
            n: 20,
            k: 30,
            threads: 1,
            threads_used: None,
            layout: Layouts::ROW_MAJOR,
            seconds_median: 1e-6,
            seconds_min: 1e-6,
            samples: 3,
            calls: 3,
            max_err_over_bound: f64::NAN,
            checked_entries: 1,
            first_call_seconds: None,
            gpu: None,
        };
        assert!((m.gflops() - 12.0).abs() < 1e-9);
        assert!(!m.passed());
    }

    const OLD_ROW: &str = r#"{"backend": "cublas", "dtype": "f32", "m": 8, "n": 8, "k": 8, "threads": 1,
        "layout": "rrr", "seconds_median": 1e-3, "seconds_min": 1e-3, "max_err_over_bound": 0.1}"#;

    /// A measurement written before the GPU figures existed loads without them, and a CPU
    /// row without them writes no `gpu` key (its JSON is what it was).
    #[test]
    fn measurements_without_gpu_figures_load_and_write_unchanged() {
        let m: Measurement = serde_json::from_str(OLD_ROW).unwrap();
        assert_eq!((m.gpu, m.first_call_seconds, m.experiment), (None, None, Experiment::Sweep));
        assert!(!serde_json::to_string(&m).unwrap().contains("gpu"));
    }

    #[test]
    fn gpu_figures_round_trip_and_give_kernel_gflops() {
        let mut m: Measurement = serde_json::from_str(OLD_ROW).unwrap();
        let g = GpuFigures {
            kernel_seconds_median: 1e-6,
            kernel_seconds_min: 0.9e-6,
            h2d_gbps: 20.0,
            d2h_gbps: 18.5,
            pinned: true,
        };
        m.gpu = Some(g);
        let back: Measurement = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert!((g.kernel_gflops(m.shape()) - 1.024).abs() < 1e-9);
    }
}
