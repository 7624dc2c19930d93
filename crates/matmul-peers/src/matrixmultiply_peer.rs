//! `peer:matrixmultiply`: bluss's `matrixmultiply`, the engine behind ndarray.

use matmul_core::{Backend, BackendKind, MatMut, MatRef, Result};

use crate::{detected_isa, threads_text, versions, PeerScalar, RawGemm};

/// `peer:matrixmultiply`, with the crate's `threading` feature.
///
/// matrixmultiply reads its thread count once per process, at its first call, from the
/// environment variable [`MatrixMultiplyPeer::THREADS_VAR`], and clamps it to
/// 1..=[`MatrixMultiplyPeer::MAX_THREADS`]; [`Backend::set_threads`] cannot change it. So
/// one process measures it at one thread count, and a request for more than 4 threads runs
/// at 4 (see [`MatrixMultiplyPeer::threads_used`]).
#[derive(Debug, Default)]
pub struct MatrixMultiplyPeer;

impl MatrixMultiplyPeer {
    /// The backend's name.
    pub const NAME: &'static str = "peer:matrixmultiply";
    /// The environment variable matrixmultiply reads its thread count from.
    pub const THREADS_VAR: &'static str = matmul_bench_format::runner::THREADS_ENV;
    /// The most threads matrixmultiply uses, whatever the variable says.
    pub const MAX_THREADS: usize = 4;

    /// The thread count matrixmultiply uses in this process, read as it reads it: the
    /// variable clamped to 1..=4, 1 when it does not parse. `None` when it is unset or
    /// empty: matrixmultiply then uses the physical core count, which std cannot tell, so
    /// a runner sets the variable before the first call.
    pub fn process_threads() -> Option<usize> {
        Self::threads_from(std::env::var(Self::THREADS_VAR).ok().as_deref())
    }

    fn threads_from(var: Option<&str>) -> Option<usize> {
        let var = var.filter(|s| !s.is_empty())?;
        Some(var.parse::<usize>().unwrap_or(1).clamp(1, Self::MAX_THREADS))
    }

    /// The threads a call uses when `requested` are wanted: `min(requested, 4)`, provided
    /// that is this process's fixed count ([`MatrixMultiplyPeer::process_threads`]);
    /// otherwise why another process must measure it.
    pub fn threads_used(requested: usize) -> Result<usize, String> {
        Self::threads_used_with(std::env::var(Self::THREADS_VAR).ok().as_deref(), requested)
    }

    fn threads_used_with(var: Option<&str>, requested: usize) -> Result<usize, String> {
        let want = requested.clamp(1, Self::MAX_THREADS);
        match Self::threads_from(var) {
            Some(fixed) if fixed == want => Ok(want),
            Some(fixed) => Err(format!(
                "matrixmultiply fixes its thread count once per process ({}={}, so {fixed}); it runs {requested} \
                 requested threads as {want}, which another process measures",
                Self::THREADS_VAR,
                var.unwrap_or_default()
            )),
            None => Err(format!(
                "{} is unset, so matrixmultiply would use an unknown number of threads (the physical cores, at most 4)",
                Self::THREADS_VAR
            )),
        }
    }

    fn call<T: PeerScalar>(
        &self,
        alpha: T,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        beta: T,
        mut c: MatMut<'_, T>,
    ) -> Result<()> {
        if let Some(call) = RawGemm::prepare(alpha, &a, &b, beta, &mut c)? {
            // SAFETY: `call` comes from `RawGemm::prepare`, and `a`, `b` and `c` stay
            // borrowed until this returns.
            unsafe { T::matrixmultiply(call) };
        }
        Ok(())
    }
}

impl Backend for MatrixMultiplyPeer {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        "peer: matrixmultiply (bluss), the engine behind ndarray; threads fixed per process by MATMUL_NUM_THREADS, at most 4"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Peer
    }
    /// The crate version, the kernel its dispatch picks here (AVX-512 when AVX-512F is
    /// detected: its default `avx512` feature, compiled in by rustc ≥ 1.89; else AVX2+FMA;
    /// else AVX or its portable kernel) and this process's thread count.
    fn details(&self) -> String {
        let isa = detected_isa(true).unwrap_or("AVX or portable");
        let threads = match (Self::process_threads(), std::env::var(Self::THREADS_VAR)) {
            (Some(t), Ok(var)) if var.trim().parse::<usize>().ok() != Some(t) => {
                format!("{} ({}={var}, clamped to 1..=4)", threads_text(t), Self::THREADS_VAR)
            }
            (Some(t), _) => format!("{} ({} for this process)", threads_text(t), Self::THREADS_VAR),
            (None, _) => format!("threads unknown ({} unset)", Self::THREADS_VAR),
        };
        format!("matrixmultiply {}, {isa} kernel (run-time detection), {threads}", versions::MATRIXMULTIPLY)
    }
    fn is_multithreaded(&self) -> bool {
        true
    }
    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.call(alpha, a, b, beta, c));
}

#[cfg(test)]
mod tests {
    use super::MatrixMultiplyPeer as M;

    #[test]
    fn the_thread_count_is_read_as_matrixmultiply_reads_it() {
        assert_eq!(M::threads_from(None), None);
        assert_eq!(M::threads_from(Some("")), None);
        assert_eq!(M::threads_from(Some("0")), Some(1));
        assert_eq!(M::threads_from(Some("3")), Some(3));
        assert_eq!(M::threads_from(Some("64")), Some(4));
        assert_eq!(M::threads_from(Some("two")), Some(1));
    }

    /// Defect: on a machine with more than 4 CPUs the all-core point was always skipped.
    /// Now a request above 4 runs at 4 in a process fixed at 4 (or above).
    #[test]
    fn more_than_four_threads_run_at_four() {
        assert_eq!(M::threads_used_with(Some("16"), 16), Ok(4));
        assert_eq!(M::threads_used_with(Some("4"), 16), Ok(4));
        assert_eq!(M::threads_used_with(Some("1"), 1), Ok(1));
        assert_eq!(M::threads_used_with(Some("2"), 2), Ok(2));
        let refused = M::threads_used_with(Some("1"), 16).unwrap_err();
        assert!(refused.contains("as 4") && refused.contains("another process"), "{refused}");
        assert!(M::threads_used_with(Some("16"), 2).is_err());
        assert!(M::threads_used_with(None, 1).is_err());
    }
}
