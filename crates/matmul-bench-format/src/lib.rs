//! The one bench format, shared by the runner (`matmul-cli bench`, which measures) and
//! `cargo xtask bench` (which merges, derives and reports). Everything the two programs
//! exchange lives here once:
//!
//! * [`accuracy`]: the rows `matmul-cli accuracy` writes and `cargo xtask accuracy` reads;
//! * [`batch`]: the rows `matmul-cli batch` writes and `cargo xtask batch` tabulates;
//! * [`options`]: the sweep and point options both CLIs flatten, which render their own argv;
//! * [`protocol`]: every runner command xtask starts ([`protocol::RunnerCommand`]), its
//!   options, and `check`'s tally line;
//! * [`runner`]: what one runner process writes (measurements only, no derived figures),
//!   and what `matmul-cli list --json` prints;
//! * [`results`]: the merged `results.json` xtask writes, with the figures derived from the
//!   measurements (GFLOP/s, % of peak, ratio to the best BLAS), and reads back as a baseline.
//!
//! The typed enums below replace the strings (`"f64"`, `"sweep"`, `"blas"`) that were
//! matched in several files; their serde names are the strings older files used, so a
//! schema-1 baseline still loads (see [`results::load_measurements`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub mod accuracy;
pub mod batch;
pub mod options;
pub mod protocol;
pub mod results;
pub mod runner;

/// The version of the files this crate writes. 1: the first format (derived figures
/// written by the runner); 2: measurements only from the runner, derived figures and
/// provenance from xtask, peaks measured at the start and end of every process, typed kinds.
pub const SCHEMA: u32 = 2;

/// The `schema` field of a JSON file, whatever else it holds.
pub fn schema_of(text: &str) -> anyhow::Result<u32> {
    #[derive(Deserialize)]
    struct Versioned {
        schema: u32,
    }
    Ok(serde_json::from_str::<Versioned>(text)?.schema)
}

/// Reads a file of schema [`SCHEMA`]; another schema is an error that names the file and
/// says `mismatch(its schema)`.
fn load_current<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    mismatch: impl FnOnce(u32) -> String,
) -> anyhow::Result<T> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let schema = schema_of(&text).with_context(|| format!("parsing {}", path.display()))?;
    if schema != SCHEMA {
        anyhow::bail!("{}: {}", path.display(), mismatch(schema));
    }
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Writes `value` as indented JSON with a final newline.
fn save_pretty<T: Serialize>(value: &T, path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// The element types: the workspace's one vocabulary, from `matmul-core` (serialised as
/// `"f32"`/`"f64"`, the strings of schema 1).
pub use matmul_core::{Dtype, Layouts};

/// Which experiment a point belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Experiment {
    /// The square scaling sweep (m = n = k over `--sizes`).
    Sweep,
    /// Every r/c layout mix of A, B, C at one size and 1 thread.
    Layout,
    /// The rectangular products of `--shapes`.
    Shapes,
}

impl Experiment {
    pub fn as_str(self) -> &'static str {
        match self {
            Experiment::Sweep => "sweep",
            Experiment::Layout => "layout",
            Experiment::Shapes => "shapes",
        }
    }
}

impl fmt::Display for Experiment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of code a backend runs, as the bench groups it (the runner maps
/// `matmul_core::BackendKind` onto it). It decides which peak a row is measured against
/// ([`results::peak_for`]) and which rows are "BLAS" for the ratio column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Loops,
    Simd,
    Blas,
    Gpu,
    Peer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Loops => "loops",
            Kind::Simd => "simd",
            Kind::Blas => "blas",
            Kind::Gpu => "gpu",
            Kind::Peer => "peer",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The dimensions of a product `C (m × n) ← A (m × k) · B (k × n)`, written `MxNxK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Shape {
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

impl Shape {
    /// `n × n × n`.
    pub fn square(n: usize) -> Self {
        Shape { m: n, n, k: n }
    }

    /// Floating-point operations of one product: 2·m·n·k.
    pub fn flops(self) -> f64 {
        2.0 * self.m as f64 * self.n as f64 * self.k as f64
    }

    pub fn is_square(self) -> bool {
        self.m == self.n && self.n == self.k
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.m, self.n, self.k)
    }
}

impl FromStr for Shape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.trim().split(['x', 'X', '×']).collect();
        let dims: Vec<usize> = parts.iter().filter_map(|p| p.trim().parse().ok()).collect();
        match dims.as_slice() {
            &[m, n, k] if parts.len() == 3 && m > 0 && n > 0 && k > 0 => Ok(Shape { m, n, k }),
            _ => Err(format!("shape {s:?}: expected MxNxK with three sizes of at least 1, e.g. 512x4096x1024")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse_and_print_as_mxnxk() {
        let s: Shape = "512x4096x1024".parse().unwrap();
        assert_eq!(s, Shape { m: 512, n: 4096, k: 1024 });
        assert_eq!(s.to_string(), "512x4096x1024");
        assert_eq!(s.flops(), 2.0 * 512.0 * 4096.0 * 1024.0);
        for bad in ["512x4096", "0x1x1", "axbxc", "1x2x3x4", ""] {
            assert!(bad.parse::<Shape>().is_err(), "{bad}");
        }
    }

    #[test]
    fn enums_serialise_as_the_strings_of_schema_1() {
        assert_eq!(serde_json::to_string(&Dtype::F64).unwrap(), "\"f64\"");
        assert_eq!(serde_json::to_string(&Experiment::Layout).unwrap(), "\"layout\"");
        assert_eq!(serde_json::from_str::<Kind>("\"blas\"").unwrap(), Kind::Blas);
        for k in [Kind::Loops, Kind::Simd, Kind::Blas, Kind::Gpu, Kind::Peer] {
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.as_str()));
        }
    }
}
