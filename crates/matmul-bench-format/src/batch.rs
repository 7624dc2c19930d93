//! The batch experiment: what `matmul-cli batch --json` writes and `cargo xtask batch`
//! reads and tabulates.
//!
//! For each element type, thread count and square size n, one strided batch of
//! `⌈madds / n³⌉` products (row-major, packed back to back, `C ← A·B`) is run by each
//! backend two ways: one `gemm_batch` call ([`Way::Batch`]) and a loop of `gemm` calls over
//! the same products ([`Way::Loop`]). Every way's result is checked against the reference
//! bound in sampled products, and the rounds of all ways are interleaved in a shuffled order.

use serde::{Deserialize, Serialize};

use crate::options::DtypeList;
use crate::Dtype;

/// Options of `matmul-cli batch` (and `cargo xtask batch`, which flattens them).
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct BatchOptions {
    /// Backend or peer to run (repeatable). Default: `simd`, the BLAS backends, and the
    /// peers whose details name a batch path (see `matmul-cli list`).
    #[arg(long = "backend", value_name = "NAME")]
    pub backends: Vec<String>,
    /// Element types, comma-separated (f32, f64).
    #[arg(long, value_name = "LIST", default_value = "f32,f64")]
    pub dtype: DtypeList,
    /// Sizes n of the n × n × n products, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "2,3,4,8,16,32,64")]
    pub sizes: Vec<usize>,
    /// Thread counts, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
    /// Multiply-adds per batch: the batch holds ⌈madds / n³⌉ products.
    #[arg(long, value_name = "N", default_value_t = 1e8)]
    pub madds: f64,
    /// Timed rounds of every way (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub rounds: usize,
    /// Seed of the inputs, of the round order and of the checked products.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl Default for BatchOptions {
    fn default() -> Self {
        crate::protocol::declared_defaults()
    }
}

impl BatchOptions {
    /// Products in the batch of size `n`: enough for `madds` multiply-adds, at least one.
    pub fn products(&self, n: usize) -> usize {
        let per_product = (n * n * n).max(1) as f64;
        ((self.madds / per_product).ceil() as usize).max(1)
    }

    /// The runner's argv for these options (after `batch`), leaving defaults out.
    pub fn to_args(&self) -> Vec<String> {
        let d = BatchOptions::default();
        let mut out = Vec::new();
        let mut flag = |name: &str, value: String| out.extend([format!("--{name}"), value]);
        for b in &self.backends {
            flag("backend", b.clone());
        }
        let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        if self.dtype != d.dtype {
            flag("dtype", self.dtype.to_string());
        }
        if self.sizes != d.sizes {
            flag("sizes", list(&self.sizes));
        }
        if self.threads != d.threads {
            flag("threads", list(&self.threads));
        }
        if self.madds != d.madds {
            flag("madds", self.madds.to_string());
        }
        if self.rounds != d.rounds {
            flag("rounds", self.rounds.to_string());
        }
        if self.seed != d.seed {
            flag("seed", self.seed.to_string());
        }
        out
    }
}

/// How a backend is called on the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Way {
    /// One `gemm_batch` call on the strided batch.
    Batch,
    /// One `gemm` call per product, in a loop (what a user without a batch API writes).
    Loop,
}

impl Way {
    /// Both, in table order.
    pub const ALL: [Way; 2] = [Way::Batch, Way::Loop];

    /// `batch` or `loop`.
    pub fn as_str(self) -> &'static str {
        match self {
            Way::Batch => "batch",
            Way::Loop => "loop",
        }
    }
}

impl std::fmt::Display for Way {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One backend called one way at one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub backend: String,
    pub way: Way,
    pub dtype: Dtype,
    pub threads: usize,
    pub n: usize,
    /// Products in the batch.
    pub products: usize,
    /// Median over the rounds of the call's time, divided by `products`.
    pub ns_per_product: f64,
    /// Every round's time of the whole call, in seconds, in the order they ran.
    pub seconds: Vec<f64>,
    /// Largest |c − reference| / bound over the checked entries (≤ 1 is within the bound).
    pub max_err_over_bound: f64,
}

/// What one runner process measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// CPU model, cores and SIMD features of the machine.
    pub machine: String,
    /// The BLAS library this runner links (`rust` when none); set by `cargo xtask batch`.
    #[serde(default)]
    pub runner: String,
    pub rows: Vec<Row>,
}

impl Report {
    /// The row of `backend` called `way` at a point, if measured.
    pub fn find(&self, backend: &str, way: Way, (dtype, threads, n): (Dtype, usize, usize)) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.backend == backend && r.way == way && r.dtype == dtype && r.threads == threads && r.n == n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_cover_the_multiply_adds() {
        let o = BatchOptions::default();
        assert_eq!(o.products(2), 12_500_000);
        assert_eq!(o.products(3), 3_703_704);
        assert_eq!(o.products(64), 382);
        assert_eq!(BatchOptions { madds: 10.0, ..o }.products(64), 1);
    }

    #[test]
    fn defaults_render_to_nothing() {
        assert!(BatchOptions::default().to_args().is_empty());
    }
}
