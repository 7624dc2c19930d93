//! The bench options both CLIs take: `matmul-cli bench` and `cargo xtask bench` flatten
//! [`BenchOptions`] (`#[command(flatten)]`), so a flag is declared, documented and
//! defaulted once. xtask passes them on to each runner process with
//! [`BenchOptions::to_args`], after narrowing the thread counts and backends to that
//! process's share; nothing builds the argv by hand.

use std::fmt;

use crate::{Dtype, Layouts, Shape};

/// A value a list option names: `--dtype f32,f64`, `--layouts rrr,rcr`, or `all`.
pub trait Listed: Copy + PartialEq + fmt::Display + Sized + 'static {
    /// Why a name did not parse.
    type Err: std::error::Error + Send + Sync + 'static;
    /// Every value, in the order `all` gives them.
    const ALL: &'static [Self];
    /// A comma-separated list of names, or `all`, each kept once in the order first given.
    fn parse_list(list: &str) -> Result<Vec<Self>, Self::Err>;
}

impl Listed for Dtype {
    type Err = matmul_core::UnknownDtype;
    const ALL: &'static [Dtype] = &Dtype::ALL;
    fn parse_list(list: &str) -> Result<Vec<Dtype>, Self::Err> {
        Dtype::parse_list(list)
    }
}

impl Listed for Layouts {
    type Err = matmul_core::UnknownLayouts;
    const ALL: &'static [Layouts] = &Layouts::ALL;
    fn parse_list(list: &str) -> Result<Vec<Layouts>, Self::Err> {
        Layouts::parse_list(list)
    }
}

/// The values of a list option, parsed once where the command line is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List<T>(Vec<T>);

/// Which element types to run: `--dtype f32,f64`, or `all`.
pub type DtypeList = List<Dtype>;

/// Which layouts of A, B and C the sweep and the shapes run: `--layouts rrr,rcr`, or `all`.
pub type LayoutList = List<Layouts>;

impl<T: Listed> List<T> {
    /// Every value.
    pub fn all() -> Self {
        List(T::ALL.to_vec())
    }

    /// The values, in the order given.
    pub fn items(&self) -> &[T] {
        &self.0
    }

    pub fn is_all(&self) -> bool {
        *self == List::all()
    }
}

impl DtypeList {
    /// The element types, in the order given.
    pub fn dtypes(&self) -> &[Dtype] {
        self.items()
    }
}

impl<T: Listed> From<&[T]> for List<T> {
    fn from(items: &[T]) -> Self {
        List(items.to_vec())
    }
}

impl<T: Listed> std::str::FromStr for List<T> {
    type Err = T::Err;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        T::parse_list(s).map(List)
    }
}

impl<T: Listed> fmt::Display for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&joined(&self.0))
    }
}

/// What to measure and how long: the options of `bench`, in the runner and in xtask.
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct BenchOptions {
    /// Square sizes n (m = n = k) of the scaling sweep, comma-separated. Default: 4, 8, …,
    /// 2048 (4, 16, 64 with `--quick`), and for GPU backends also 4096, and 8192 for
    /// cuda-regtile, cuda-warptile, cuda-dmma and cublas (not with `--quick` or given
    /// sizes); a backend is skipped at sizes where one call is predicted to take longer
    /// than `--max-call`.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub sizes: Vec<usize>,
    /// Rectangular products m×n×k to measure besides the sweep, comma-separated, e.g.
    /// `512x4096x1024,4096x16x4096`: same interleaving, checks and thread counts.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub shapes: Vec<Shape>,
    /// Element types, comma-separated (f32, f64, bf16, f16), or `all`. The half types
    /// (A and B in bf16 or f16, C in f32) are measured when asked for, beside f32.
    #[arg(long, value_name = "LIST", default_value = "f32,f64")]
    pub dtype: DtypeList,
    /// Thread counts, comma-separated. Default: 1 and every core. Single-threaded backends
    /// run at 1 only.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Backends and peers to run, comma-separated. Default: every compiled backend that can
    /// run here, and every peer.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub backends: Vec<String>,
    /// Layouts of A, B, C for the sweep and the shapes, comma-separated (`r` row-major,
    /// `c` column-major, e.g. `rrr,rcr`), or `all`.
    #[arg(long, value_name = "LIST", default_value = "rrr")]
    pub layouts: LayoutList,
    /// Size of the layout experiment (every r/c mix of A, B, C, at 1 thread); 0 skips it.
    /// Default: 512 (32 with `--quick`).
    #[arg(long, value_name = "N")]
    pub layout_size: Option<usize>,
    /// Backends of the layout experiment, comma-separated. Default: those of the sweep.
    /// (xtask sets it so that a backend held by several runner processes runs it once.)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub layout_backends: Vec<String>,
    /// A smoke run in seconds: small sizes, short timing.
    #[arg(long)]
    pub quick: bool,
    /// Seconds of timed calls per backend and point (default 0.2; 0.005 with `--quick`).
    #[arg(long, value_name = "SECONDS")]
    pub min_time: Option<f64>,
    /// Skip a point when one call is predicted to take longer (default 4; 0.2 with `--quick`).
    #[arg(long, value_name = "SECONDS")]
    pub max_call: Option<f64>,
    /// Seed of the random inputs.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            sizes: Vec::new(),
            shapes: Vec::new(),
            dtype: DtypeList::from(&[Dtype::F32, Dtype::F64][..]),
            threads: Vec::new(),
            backends: Vec::new(),
            layouts: LayoutList::from(&[Layouts::ROW_MAJOR][..]),
            layout_size: None,
            layout_backends: Vec::new(),
            quick: false,
            min_time: None,
            max_call: None,
            seed: 42,
        }
    }
}

fn joined<T: ToString>(v: &[T]) -> String {
    v.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

impl BenchOptions {
    /// The flags that give these options back when parsed (for the runner's command line).
    /// Defaults are left out, so the runner applies its own `--quick` defaults the same way.
    pub fn to_args(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut list = |flag: &str, value: String| {
            if !value.is_empty() {
                out.extend([format!("--{flag}"), value]);
            }
        };
        list("sizes", joined(&self.sizes));
        list("shapes", joined(&self.shapes));
        list("threads", joined(&self.threads));
        list("backends", self.backends.join(","));
        if self.layouts != BenchOptions::default().layouts {
            list("layouts", self.layouts.to_string());
        }
        list("layout-backends", self.layout_backends.join(","));
        if self.dtype != BenchOptions::default().dtype {
            out.extend(["--dtype".to_owned(), self.dtype.to_string()]);
        }
        if let Some(n) = self.layout_size {
            out.extend(["--layout-size".to_owned(), n.to_string()]);
        }
        if let Some(s) = self.min_time {
            out.extend(["--min-time".to_owned(), s.to_string()]);
        }
        if let Some(s) = self.max_call {
            out.extend(["--max-call".to_owned(), s.to_string()]);
        }
        if self.seed != BenchOptions::default().seed {
            out.extend(["--seed".to_owned(), self.seed.to_string()]);
        }
        if self.quick {
            out.push("--quick".to_owned());
        }
        out
    }

    /// The sweep's sizes, defaults applied.
    pub fn sweep_sizes(&self) -> Vec<usize> {
        if !self.sizes.is_empty() {
            self.sizes.clone()
        } else if self.quick {
            vec![4, 16, 64]
        } else {
            (2..=11).map(|p| 1usize << p).collect()
        }
    }

    /// The thread counts, defaults applied: 1 and `cores`.
    pub fn thread_counts(&self, cores: usize) -> Vec<usize> {
        if !self.threads.is_empty() {
            return self.threads.clone();
        }
        let mut t = vec![1, cores];
        t.dedup();
        t
    }

    /// The layout experiment's size (0: none), defaults applied.
    pub fn layout_size(&self) -> usize {
        self.layout_size.unwrap_or(if self.quick { 32 } else { 512 })
    }

    /// Seconds of timed calls per backend and point, defaults applied.
    pub fn min_time(&self) -> f64 {
        self.min_time.unwrap_or(if self.quick { 0.005 } else { 0.2 })
    }

    /// The per-call budget in seconds, defaults applied: 4 s a call and at least 4 calls
    /// (warm-up and 3 samples) per point lets the naive loops reach n = 1024–2048 while the
    /// full run stays under 10 minutes on 2 cores.
    pub fn max_call(&self) -> f64 {
        self.max_call.unwrap_or(if self.quick { 0.2 } else { 4.0 })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        options: BenchOptions,
    }

    fn parse(args: &[String]) -> BenchOptions {
        Cli::try_parse_from(std::iter::once("bench".to_owned()).chain(args.iter().cloned())).unwrap().options
    }

    /// What xtask renders is exactly what the runner parses.
    #[test]
    fn rendered_argv_parses_back_to_the_same_options() {
        let all = BenchOptions {
            sizes: vec![64, 256],
            shapes: vec!["512x4096x1024".parse().unwrap(), "4096x16x4096".parse().unwrap()],
            dtype: DtypeList::from(&[Dtype::F64][..]),
            threads: vec![2],
            backends: vec!["naive-ikj".into(), "peer:gemm".into()],
            layouts: "rrr,rcr".parse().unwrap(),
            layout_size: Some(0),
            layout_backends: vec!["openblas".into()],
            quick: true,
            min_time: Some(0.05),
            max_call: Some(1.5),
            seed: 7,
        };
        assert_eq!(parse(&all.to_args()), all);
        let none = BenchOptions::default();
        assert!(none.to_args().is_empty());
        assert_eq!(parse(&none.to_args()), none);
    }

    #[test]
    fn dtype_takes_a_list_or_all_and_refuses_an_unknown_name() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&args(&["--dtype", "f64,f32"])).dtype.dtypes(), [Dtype::F64, Dtype::F32]);
        assert!(parse(&args(&["--dtype", "all"])).dtype.is_all());
        assert_eq!(parse(&args(&[])).dtype.dtypes(), [Dtype::F32, Dtype::F64]);
        let bad = Cli::try_parse_from(["bench", "--dtype", "f32,q8"]).unwrap_err().to_string();
        assert!(bad.contains("unknown element type \"q8\""), "{bad}");
    }

    #[test]
    fn layouts_take_a_list_or_all_and_default_to_row_major() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&args(&[])).layouts.items(), [Layouts::ROW_MAJOR]);
        assert!(parse(&args(&["--layouts", "all"])).layouts.is_all());
        let two = parse(&args(&["--layouts", "ccc,rcr,ccc"])).layouts;
        assert_eq!(two.to_string(), "ccc,rcr");
        let bad = Cli::try_parse_from(["bench", "--layouts", "rrr,rxr"]).unwrap_err().to_string();
        assert!(bad.contains("layout \"rxr\": expected three letters"), "{bad}");
    }

    #[test]
    fn quick_changes_the_defaults_only() {
        let quick = BenchOptions { quick: true, ..BenchOptions::default() };
        assert_eq!(quick.sweep_sizes(), [4, 16, 64]);
        assert_eq!((quick.layout_size(), quick.min_time(), quick.max_call()), (32, 0.005, 0.2));
        let given = BenchOptions { sizes: vec![8], layout_size: Some(0), ..quick };
        assert_eq!((given.sweep_sizes(), given.layout_size()), (vec![8], 0));
        assert_eq!(BenchOptions::default().thread_counts(1), [1]);
        assert_eq!(BenchOptions::default().thread_counts(4), [1, 4]);
    }
}
