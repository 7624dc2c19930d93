//! `batch`: many small products, one call against a loop of calls (see
//! [`matmul_bench_format::batch`] for what is measured and written).
//!
//! At each point (dtype, threads, n) every selected backend runs the same strided batch of
//! packed row-major products, `C ← A·B`, as one `gemm_batch` call and as a loop of `gemm`
//! calls. The rounds of all ways run in a freshly shuffled order each round, so a slow
//! spell of the machine falls on every way alike; the median round is reported. Before it
//! is timed, each way runs once on a C filled with NaN, and a few seeded products of that C
//! are compared with the reference: an entry outside the bound (or a product left unwritten)
//! fails the run.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use matmul::{Backend, BackendKind, BatchOperand, Element, MatMut, MatRef, Scalar, StridedBatch};
use matmul_bench_format::batch::{BatchOptions, Report, Row, Way};
use matmul_core::reference::{compare, Problem};
use matmul_core::Dtype;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::machine;

/// Options of `batch`: the runner protocol's, and where to write.
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    #[command(flatten)]
    pub options: BatchOptions,
    /// Write every row as JSON here.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

/// Products of each way compared with the reference: the first, the last and a few between.
const CHECKED_PRODUCTS: usize = 6;

/// The backends asked for, or by default `simd`, the BLAS backends and the peers whose
/// details say they have a batch path, among those that can run here.
fn backends(names: &[String]) -> anyhow::Result<Vec<&'static dyn Backend>> {
    let chosen = super::select(names)?;
    if !names.is_empty() {
        return Ok(chosen);
    }
    Ok(chosen
        .into_iter()
        .filter(|b| match b.kind() {
            BackendKind::Blas => true,
            BackendKind::Peer => b.details().contains("batch"),
            _ => b.name() == "simd",
        })
        .collect())
}

pub fn run(args: BatchArgs) -> anyhow::Result<()> {
    let BatchArgs { options, json } = args;
    let selected = backends(&options.backends)?;
    if selected.is_empty() {
        bail!("no backend to run");
    }
    if let Some(&n) = options.sizes.iter().find(|&&n| n == 0) {
        bail!("size {n}: the products must not be empty");
    }
    if options.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let mut report = Report {
        machine: format!("{}; {} cores; {}", machine::cpu_model(), machine::cores(), machine::features().join(" ")),
        ..Report::default()
    };
    println!("machine: {}", report.machine);
    for b in &selected {
        println!("{:<20} {}", b.name(), b.details());
    }
    let mut points: Vec<(Dtype, usize, usize)> = Vec::new();
    for &dtype in options.dtype.dtypes() {
        for &threads in &options.threads {
            points.extend(options.sizes.iter().map(|&n| (dtype, threads, n)));
        }
    }
    for (i, &(dtype, threads, n)) in points.iter().enumerate() {
        eprintln!("[{}/{}] {dtype} threads={threads} n={n}: {} products", i + 1, points.len(), options.products(n));
        for b in &selected {
            b.set_threads(threads);
        }
        let rows = match dtype {
            Dtype::F32 => point::<f32>(&selected, (threads, n), &options)?,
            Dtype::F64 => point::<f64>(&selected, (threads, n), &options)?,
            other => bail!("the batch experiment runs f32 and f64, not {other}"),
        };
        for r in &rows {
            println!(
                "{:<5} t={:<2} n={:<3} {:<20} {:<5} {:>10.1} ns/product  err/bound {:.3}",
                r.dtype, r.threads, r.n, r.backend, r.way, r.ns_per_product, r.max_err_over_bound
            );
        }
        report.rows.extend(rows);
    }
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The inputs of one point: `products` packed row-major n × n matrices of A, B and C.
struct Operands<T> {
    n: usize,
    products: usize,
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
}

impl<T: Element<Acc = T> + Scalar> Operands<T> {
    fn new(n: usize, products: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let len = products * n * n;
        let mut random = || (0..len).map(|_| T::from_f64(rng.random_range(-1.0..1.0))).collect::<Vec<T>>();
        let (a, b) = (random(), random());
        Operands { n, products, a, b, c: vec![T::ZERO; len] }
    }

    fn size(&self) -> usize {
        self.n * self.n
    }

    /// Runs the whole batch on `backend` the `way` asked.
    fn run(&mut self, backend: &dyn Backend, way: Way) -> matmul::Result<()> {
        let (n, nn) = (self.n, self.size());
        match way {
            Way::Batch => {
                let op = |data| BatchOperand::row_major(data, n, n, nn);
                let c = BatchOperand::row_major(&mut self.c[..], n, n, nn);
                let batch = StridedBatch::new(self.products, T::ONE, op(&self.a[..]), op(&self.b[..]), T::ZERO, c)?;
                backend.gemm_batch(batch)
            }
            Way::Loop => {
                let products = self.a.chunks_exact(nn).zip(self.b.chunks_exact(nn));
                for ((a, b), c) in products.zip(self.c.chunks_exact_mut(nn)) {
                    let a = MatRef::new(a, n, n, n, 1)?;
                    let b = MatRef::new(b, n, n, n, 1)?;
                    T::gemm(backend, T::ONE, a, b, T::ZERO, MatMut::new(c, n, n, n, 1)?)?;
                }
                Ok(())
            }
        }
    }

    /// The largest error / bound over every entry of the checked products of C.
    fn check(&self, checked: &[usize]) -> anyhow::Result<f64> {
        let (n, nn) = (self.n, self.size());
        let mut worst = 0.0f64;
        for &p in checked {
            let (a, b, c) = (&self.a[p * nn..][..nn], &self.b[p * nn..][..nn], &self.c[p * nn..][..nn]);
            let c = MatRef::new(c, n, n, n, 1)?;
            let (a, b) = (MatRef::new(a, n, n, n, 1)?, MatRef::new(b, n, n, n, 1)?);
            let problem = Problem { alpha: T::ONE, a, b, beta: T::ZERO, c0: c };
            let cmp = compare(&problem, &c);
            if !cmp.passed() {
                bail!(
                    "product {p}: {} of {} entries outside the reference bound (worst {:.3} × the bound at {:?})",
                    cmp.failures,
                    cmp.checked,
                    cmp.max_err_over_bound,
                    cmp.worst
                );
            }
            worst = worst.max(cmp.max_err_over_bound);
        }
        Ok(worst)
    }
}

/// Every backend both ways at one point.
fn point<T: Element<Acc = T> + Scalar>(
    backends: &[&'static dyn Backend],
    (threads, n): (usize, usize),
    options: &BatchOptions,
) -> anyhow::Result<Vec<Row>> {
    let products = options.products(n);
    let seed = options.seed ^ (n as u64) << 8 ^ threads as u64;
    let mut ops = Operands::<T>::new(n, products, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xba7c);
    let mut checked: Vec<usize> = vec![0, products - 1];
    checked.extend((2..CHECKED_PRODUCTS).map(|_| rng.random_range(0..products)));
    checked.sort_unstable();
    checked.dedup();

    let ways: Vec<(&dyn Backend, Way)> = backends.iter().flat_map(|&b| Way::ALL.map(|w| (b, w))).collect();
    let mut errors = Vec::with_capacity(ways.len());
    for &(backend, way) in &ways {
        ops.c.fill(T::from_f64(f64::NAN));
        ops.run(backend, way).with_context(|| format!("{} {way}", backend.name()))?;
        let err = ops.check(&checked).with_context(|| format!("{} {way}, {} n={n}", backend.name(), T::DTYPE))?;
        errors.push(err);
    }
    let mut seconds = vec![Vec::with_capacity(options.rounds); ways.len()];
    let mut order: Vec<usize> = (0..ways.len()).collect();
    for _ in 0..options.rounds {
        order.shuffle(&mut rng);
        for &w in &order {
            let (backend, way) = ways[w];
            let start = Instant::now();
            ops.run(backend, way).with_context(|| format!("{} {way}", backend.name()))?;
            seconds[w].push(start.elapsed().as_secs_f64());
        }
    }
    Ok(ways
        .iter()
        .zip(seconds)
        .zip(errors)
        .map(|((&(backend, way), seconds), max_err_over_bound)| Row {
            backend: backend.name().to_owned(),
            way,
            dtype: T::DTYPE,
            threads,
            n,
            products,
            ns_per_product: sorted_median(&seconds) * 1e9 / products as f64,
            seconds,
            max_err_over_bound,
        })
        .collect())
}

/// The median of times in any order.
fn sorted_median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    super::measure::median(&sorted)
}
