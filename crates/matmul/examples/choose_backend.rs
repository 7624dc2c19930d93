//! Choosing a backend: by name, the best one, or each compiled one in turn (each checked
//! against the higher-precision reference and its error bound); and threads.
//!
//! `cargo run -p matmul --example choose_backend` (speed is `cargo xtask bench`'s job)

use matmul::reference::{compare, Problem};
use matmul::{Layout, Matrix};

fn main() -> matmul::Result<()> {
    let n = 256;
    let a = Matrix::<f32>::from_fn(n, n, Layout::RowMajor, |i, j| ((i + 2 * j) % 7) as f32 / 3.0 - 1.0);
    let b = Matrix::<f32>::from_fn(n, n, Layout::ColMajor, |i, j| ((3 * i + j) % 5) as f32 / 7.0 - 0.3);
    let mut c = Matrix::<f32>::zeros(n, n, Layout::RowMajor);

    println!("best: {}", matmul::best()?.name());
    for backend in matmul::backends() {
        let availability = backend.availability();
        if !availability.is_available() {
            println!("{:<20} skipped: {availability:?}", backend.name());
            continue;
        }
        backend.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
        let c0 = Matrix::<f32>::zeros(n, n, Layout::RowMajor);
        let problem = Problem { alpha: 1.0, a: a.as_ref(), b: b.as_ref(), beta: 0.0, c0: c0.as_ref() };
        let check = compare(&problem, &c.as_ref());
        assert!(check.passed(), "{}: {check:?}", backend.name());
        println!(
            "{:<20} n = {n}: within the error bound (worst error / bound {:.2e})",
            backend.name(),
            check.max_err_over_bound
        );
    }

    // By name; threads are a backend's setting (single-threaded backends ignore it).
    let simd = matmul::backend("simd")?;
    simd.set_threads(1);
    simd.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
    let one = c.clone();
    simd.set_threads(2);
    simd.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
    assert_eq!(one, c, "simd gives the same bits for every thread count");
    println!("simd: 1 and 2 threads give bit-identical results");

    // A name that is not compiled in is an error that lists what is.
    match matmul::backend("fortran77") {
        Err(e) => println!("{e}"),
        Ok(_) => unreachable!(),
    }
    Ok(())
}
