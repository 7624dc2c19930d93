//! `icount`: a few fixed GEMMs, each run once, for counting instructions under
//! `valgrind --tool=callgrind` (a signal that does not depend on a noisy machine's speed).
//!
//! xtask runs one process per backend and case with
//! `--toggle-collect='*icount_measured*'`, so only the call inside [`icount_measured`] is
//! counted: not the start-up, the input generation or the check.
//!
//! A backend is named as `list` names it, or as `simd[ISA]` (`simd[avx2]`,
//! `simd[portable]`): the `simd` backend with its instruction set forced through
//! `MATMUL_SIMD_KERNEL`, so its run-time dispatch is counted on every path it can take.
//!
//! Under valgrind the CPU reports no AVX-512 (valgrind does not emulate it), so a list
//! made under valgrind holds neither `simd-avx512` nor `simd[avx512]`, and the default
//! dispatch of `simd` runs the AVX2 kernels there. Asking for them anyway is refused with
//! the backend's reason (an error, not an illegal instruction).

use anyhow::{bail, Context};
use matmul::{Availability, Backend, Layout, MatMut, MatRef, Scalar};
use matmul_bench_format::{Dtype, Layouts};

use super::measure::random_matrix;

/// How a case's operands are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operands {
    /// Dense matrices in these layouts of A, B and C.
    Dense(Layouts),
    /// General strides: A with neither stride 1 (every other element of every other row
    /// of a padded buffer), B a column-major block with a padded leading dimension, C
    /// row-major with a padded leading dimension. No backend has a fast path for A, so
    /// this counts the general packing (or copy) code.
    Strided,
}

/// One fixed product: `n × n × n`, its element type and layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Case {
    pub name: &'static str,
    pub dtype: Dtype,
    pub n: usize,
    pub operands: Operands,
}

const fn case(name: &'static str, dtype: Dtype, n: usize, operands: Operands) -> Case {
    Case { name, dtype, n, operands }
}

/// The fixed cases. The n = 256 ones are where the packed backends spend their time
/// (several cache blocks, full microkernel tiles); the small ones show the set-up cost.
/// Every backend runs every case: under callgrind with its cache simulation the slowest,
/// `naive-ijk` at n = 256, takes 3.4 s, so nothing is left out.
pub const CASES: [Case; 6] = [
    case("f64-rrr-64", Dtype::F64, 64, Operands::Dense(Layouts::ROW_MAJOR)),
    case("f32-rrr-64", Dtype::F32, 64, Operands::Dense(Layouts::ROW_MAJOR)),
    case("f64-ccc-37", Dtype::F64, 37, Operands::Dense(Layouts::COL_MAJOR)),
    case("f64-rrr-256", Dtype::F64, 256, Operands::Dense(Layouts::ROW_MAJOR)),
    case("f32-rrr-256", Dtype::F32, 256, Operands::Dense(Layouts::ROW_MAJOR)),
    case("f64-strided-64", Dtype::F64, 64, Operands::Strided),
];

/// Options of `icount`.
#[derive(Debug, clap::Args)]
pub struct IcountArgs {
    /// Print `BACKEND CASE` for every pair that can run in this process and exit (run it
    /// under valgrind to get what valgrind's CPU can run). Backends left out are named on
    /// stderr, with the reason.
    #[arg(long)]
    pub(crate) list: bool,
    /// The backend to run: a name from `list`, or `simd[ISA]` for `simd` with its
    /// instruction set forced.
    #[arg(long, required_unless_present = "list")]
    pub(crate) backend: Option<String>,
    /// The case to run (see `--list`).
    #[arg(long, required_unless_present = "list")]
    pub(crate) case: Option<String>,
}

/// The instruction sets `simd` can be forced to (`simd[ISA]`), in this binary.
fn forced_isas() -> Vec<&'static str> {
    #[cfg(feature = "simd")]
    return matmul_simd::Isa::ALL.iter().map(|isa| isa.as_str()).collect();
    #[cfg(not(feature = "simd"))]
    return Vec::new();
}

/// Splits `simd[avx2]` into `("simd", Some("avx2"))`; a plain name has no forced set.
fn split_label(label: &str) -> anyhow::Result<(&str, Option<&str>)> {
    let Some((name, rest)) = label.split_once('[') else {
        return Ok((label, None));
    };
    match rest.strip_suffix(']') {
        Some(isa) if name == "simd" && forced_isas().contains(&isa) => Ok((name, Some(isa))),
        _ => bail!("backend {label:?}: only simd[ISA] can force an instruction set, ISA one of {:?}", forced_isas()),
    }
}

/// Whether `simd` can run with `isa` forced in this process, or why not.
fn forced_is_supported(isa: &str) -> Result<(), String> {
    #[cfg(feature = "simd")]
    {
        match matmul_simd::Isa::parse(isa) {
            Some(i) if i.is_supported() => Ok(()),
            Some(i) => Err(format!("this CPU lacks {}", i.required_features())),
            None => Err(format!("{isa} is not an instruction set of the simd backend")),
        }
    }
    #[cfg(not(feature = "simd"))]
    Err(format!("the simd backend is not compiled in (asked for {isa})"))
}

fn list(all: &[&'static dyn Backend]) {
    let mut labels = Vec::new();
    for b in all {
        match b.availability() {
            Availability::Available => labels.push(b.name().to_owned()),
            Availability::Unavailable(why) => eprintln!("icount: not listed: {} ({why})", b.name()),
        }
        if b.name() == "simd" {
            for isa in forced_isas() {
                match forced_is_supported(isa) {
                    Ok(()) => labels.push(format!("simd[{isa}]")),
                    Err(why) => eprintln!("icount: not listed: simd[{isa}] ({why})"),
                }
            }
        }
    }
    for label in labels {
        for case in CASES {
            println!("{label} {}", case.name);
        }
    }
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
        list(&all);
        return Ok(());
    }
    let (label, case) = (args.backend.unwrap_or_default(), args.case.unwrap_or_default());
    let (name, forced) = split_label(&label)?;
    if let Some(isa) = forced {
        // Read once, at the simd backend's first call: nothing has called it yet, and no
        // other thread runs, so setting it here is race-free.
        std::env::set_var("MATMUL_SIMD_KERNEL", isa);
    }
    let backend = all.iter().copied().find(|b| b.name() == name).with_context(|| format!("unknown backend {name}"))?;
    let Some(case) = CASES.iter().find(|c| c.name == case) else {
        bail!("unknown case {case}; the cases are {:?}", CASES.map(|c| c.name));
    };
    if let Availability::Unavailable(why) = backend.availability() {
        bail!("{label} cannot run in this process: {why}");
    }
    backend.set_threads(1);
    match case.dtype {
        Dtype::F32 => one::<f32>(backend, case),
        Dtype::F64 => one::<f64>(backend, case),
        Dtype::Bf16 | Dtype::F16 => {
            bail!("case {} is {}: icount counts f32 and f64 products only", case.name, case.dtype)
        }
    }
}

/// The operands of a case, owned; [`Buffers::views`] lays them out.
struct Buffers<T: Scalar> {
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
}

/// The strides of the [`Operands::Strided`] case, for size `n`: `(row, col)` of A, the
/// leading dimension of B (column-major) and of C (row-major).
fn strided_dims(n: usize) -> ((usize, usize), usize, usize) {
    ((2 * n + 6, 2), n + 5, n + 3)
}

impl<T: Scalar> Buffers<T> {
    fn new(case: &Case) -> anyhow::Result<Self> {
        let n = case.n;
        let (a, b) = (random_matrix::<T>(n, n, 1), random_matrix::<T>(n, n, 2));
        Ok(match case.operands {
            Operands::Dense(layouts) => {
                let [la, lb, lc] = layouts.as_array();
                Buffers {
                    a: a.as_ref().to_matrix(la).into_vec(),
                    b: b.as_ref().to_matrix(lb).into_vec(),
                    c: matmul::Matrix::<T>::zeros(n, n, lc).into_vec(),
                }
            }
            Operands::Strided => {
                let ((rs, cs), ldb, ldc) = strided_dims(n);
                let mut abuf = vec![T::ZERO; n * rs];
                let mut bbuf = vec![T::ZERO; n * ldb];
                for i in 0..n {
                    for j in 0..n {
                        abuf[i * rs + j * cs] = a.get(i, j).unwrap_or(T::ZERO);
                        bbuf[i + j * ldb] = b.get(i, j).unwrap_or(T::ZERO);
                    }
                }
                Buffers { a: abuf, b: bbuf, c: vec![T::ZERO; n * ldc] }
            }
        })
    }

    fn views(&mut self, case: &Case) -> anyhow::Result<(MatRef<'_, T>, MatRef<'_, T>, MatMut<'_, T>)> {
        let n = case.n;
        Ok(match case.operands {
            Operands::Dense(layouts) => {
                let [la, lb, lc] = layouts.as_array();
                fn view<T: Scalar>(l: Layout, data: &[T], n: usize) -> Result<MatRef<'_, T>, matmul::ViewError> {
                    match l {
                        Layout::RowMajor => MatRef::row_major(data, n, n),
                        Layout::ColMajor => MatRef::col_major(data, n, n),
                    }
                }
                let c = match lc {
                    Layout::RowMajor => MatMut::row_major(&mut self.c, n, n),
                    Layout::ColMajor => MatMut::col_major(&mut self.c, n, n),
                };
                (view(la, &self.a, n)?, view(lb, &self.b, n)?, c?)
            }
            Operands::Strided => {
                let ((rs, cs), ldb, ldc) = strided_dims(n);
                (
                    MatRef::new(&self.a, n, n, rs, cs)?,
                    MatRef::col_major_ld(&self.b, n, n, ldb)?,
                    MatMut::row_major_ld(&mut self.c, n, n, ldc)?,
                )
            }
        })
    }
}

fn one<T: Scalar>(backend: &dyn Backend, case: &Case) -> anyhow::Result<()> {
    let mut buffers = Buffers::<T>::new(case)?;
    // One uncounted call first: lazy one-time set-up (CPU detection, cache-size queries,
    // thread pools) is not what the count should track.
    {
        let (a, b, c) = buffers.views(case)?;
        T::gemm(backend, T::ONE, a, b, T::ZERO, c)?;
    }
    let (a, b, c) = buffers.views(case)?;
    icount_measured(backend, a, b, c)?;
    // Keep the result observable, so the call cannot be optimised away.
    let (_, _, c) = buffers.views(case)?;
    println!("{} {} c[0,0] = {}", backend.name(), case.name, c.rb().get(0, 0).unwrap_or(T::NAN));
    Ok(())
}

/// The one call callgrind counts (by this function's name).
#[inline(never)]
fn icount_measured<T: Scalar>(
    backend: &dyn Backend,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: MatMut<'_, T>,
) -> anyhow::Result<()> {
    T::gemm(backend, T::ONE, a, b, T::ZERO, c)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique_and_views_build() {
        for (i, c) in CASES.iter().enumerate() {
            assert!(CASES[..i].iter().all(|o| o.name != c.name), "{} twice", c.name);
            let mut buffers = Buffers::<f64>::new(c).unwrap();
            let (a, b, out) = buffers.views(c).unwrap();
            assert_eq!((a.shape(), b.shape(), out.rb().shape()), ((c.n, c.n), (c.n, c.n), (c.n, c.n)));
        }
        let strided = CASES.iter().find(|c| c.operands == Operands::Strided).unwrap();
        let mut buffers = Buffers::<f64>::new(strided).unwrap();
        let (a, ..) = buffers.views(strided).unwrap();
        assert!(a.row_stride() != 1 && a.col_stride() != 1, "{:?}", a.strides());
    }

    #[test]
    fn forced_labels_parse_or_are_refused() {
        assert_eq!(split_label("naive-ikj").unwrap(), ("naive-ikj", None));
        assert!(split_label("naive-ikj[avx2]").is_err());
        assert!(split_label("simd[sse9]").is_err());
        #[cfg(feature = "simd")]
        assert_eq!(split_label("simd[portable]").unwrap(), ("simd", Some("portable")));
    }
}
