//! `icount`: a few fixed small GEMMs, each run once, for counting instructions under
//! `valgrind --tool=callgrind` (a signal that does not depend on a noisy machine's speed).
//!
//! xtask runs one process per backend and case with
//! `--toggle-collect='*icount_measured*'`, so only the call inside [`icount_measured`] is
//! counted: not the start-up, the input generation or the check.

use anyhow::{bail, Context};
use matmul::{Backend, Layout, Scalar};

use super::measure::random_matrix;

/// The fixed cases: name, dtype, size, layout of A, B, C.
pub const CASES: [(&str, &str, usize, &str); 3] =
    [("f64-rrr-64", "f64", 64, "rrr"), ("f32-rrr-64", "f32", 64, "rrr"), ("f64-ccc-37", "f64", 37, "ccc")];

/// Options of `icount`.
#[derive(Debug, clap::Args)]
pub struct IcountArgs {
    /// Print `BACKEND CASE` for every pair and exit.
    #[arg(long)]
    list: bool,
    /// The backend to run.
    #[arg(long, required_unless_present = "list")]
    backend: Option<String>,
    /// The case to run (see `--list`).
    #[arg(long, required_unless_present = "list")]
    case: Option<String>,
}

pub fn run(args: IcountArgs) -> anyhow::Result<()> {
    #[cfg(feature = "peers")]
    if std::env::var_os(matmul_peers::MatrixMultiplyPeer::THREADS_VAR).is_none() {
        // Single-threaded, so the count does not depend on thread scheduling; nothing else
        // runs yet, so setting the variable is race-free.
        std::env::set_var(matmul_peers::MatrixMultiplyPeer::THREADS_VAR, "1");
    }
    let all = super::contenders();
    if args.list {
        for b in all.iter().filter(|b| b.availability().is_available()) {
            for (case, ..) in CASES {
                println!("{} {case}", b.name());
            }
        }
        return Ok(());
    }
    let (name, case) = (args.backend.unwrap_or_default(), args.case.unwrap_or_default());
    let backend = all.iter().copied().find(|b| b.name() == name).with_context(|| format!("unknown backend {name}"))?;
    let Some(&(_, dtype, n, layout)) = CASES.iter().find(|c| c.0 == case) else {
        bail!("unknown case {case}; the cases are {:?}", CASES.map(|c| c.0));
    };
    backend.set_threads(1);
    let layout = super::parse_layout(layout)?;
    if dtype == "f32" {
        one::<f32>(backend, n, layout)
    } else {
        one::<f64>(backend, n, layout)
    }
}

fn one<T: Scalar>(backend: &dyn Backend, n: usize, layout: [Layout; 3]) -> anyhow::Result<()> {
    let a = random_matrix::<T>(n, n, 1).as_ref().to_matrix(layout[0]);
    let b = random_matrix::<T>(n, n, 2).as_ref().to_matrix(layout[1]);
    let mut c = matmul::Matrix::zeros(n, n, layout[2]);
    // One uncounted call first: lazy one-time set-up (CPU detection, cache-size queries,
    // thread pools) is not what the count should track.
    T::gemm(backend, T::ONE, a.as_ref(), b.as_ref(), T::ZERO, c.as_mut())?;
    icount_measured(backend, &a, &b, &mut c)?;
    // Keep the result observable, so the call cannot be optimised away.
    println!("{} c[0,0] = {}", backend.name(), c.get(0, 0).expect("icount products are at least 1 × 1"));
    Ok(())
}

/// The one call callgrind counts (by this function's name).
#[inline(never)]
fn icount_measured<T: Scalar>(
    backend: &dyn Backend,
    a: &matmul::Matrix<T>,
    b: &matmul::Matrix<T>,
    c: &mut matmul::Matrix<T>,
) -> anyhow::Result<()> {
    T::gemm(backend, T::ONE, a.as_ref(), b.as_ref(), T::ZERO, c.as_mut())?;
    Ok(())
}
