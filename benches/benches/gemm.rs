//! Criterion benchmarks of every compiled backend and the pure-Rust peers (`matmul-peers`), named
//! `{backend}/{dtype}/{layout}` with the size as the parameter and
//! `Throughput::Elements(2·m·n·k)`, so criterion's "elements/s" reads as FLOP/s.
//!
//! `cargo bench -p matmul-benches` runs them; criterion's own baselines work as usual
//! (`-- --save-baseline main`, `-- --baseline main`). `cargo xtask bench` is the full report.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use matmul::{Backend, Layouts, Matrix, Scalar};

const SIZES: [usize; 3] = [32, 128, 256];
const LAYOUTS: [Layouts; 2] = [Layouts::ROW_MAJOR, Layouts::COL_MAJOR];

fn bench_dtype<T: Scalar>(c: &mut Criterion, backend: &dyn Backend) {
    for l in LAYOUTS {
        let mut group = c.benchmark_group(format!("{}/{}/{l}", backend.name(), T::NAME));
        for n in SIZES {
            // Buffers are made outside the timed closure: only the call is timed.
            let a = Matrix::<T>::from_fn(n, n, l.a, |i, j| T::from_f64(((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5));
            let b = Matrix::<T>::from_fn(n, n, l.b, |i, j| T::from_f64(((i * 5 + j) % 13) as f64 / 13.0 - 0.5));
            let mut out = Matrix::<T>::zeros(n, n, l.c);
            group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
                bench.iter(|| T::gemm(backend, T::ONE, a.as_ref(), b.as_ref(), T::ZERO, out.as_mut()).expect("gemm"))
            });
        }
        group.finish();
    }
}

fn all(c: &mut Criterion) {
    // Single-threaded throughout, so the numbers compare like with like.
    std::env::set_var(matmul_peers::MatrixMultiplyPeer::THREADS_VAR, "1");
    let mut backends: Vec<&dyn Backend> =
        matmul::backends().iter().copied().filter(|b| b.availability().is_available()).collect();
    // The same peer wrappers the runner measures, so both time exactly the same calls.
    backends.extend(matmul_peers::peers());
    for b in backends {
        b.set_threads(1);
        bench_dtype::<f32>(c, b);
        bench_dtype::<f64>(c, b);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = all
}
criterion_main!(benches);
