//! The pure-Rust GEMMs a Rust user would pick instead of this project, wrapped in our
//! [`Backend`] trait so that the bench runner (`matmul-cli bench`, feature `peers`) and the
//! criterion benches (`benches/`) measure them in the same process, on the same inputs and
//! with the same accuracy check as our own backends. They are
//! [`BackendKind::Peer`](matmul_core::BackendKind::Peer): never in the facade's registry,
//! only here.
//!
//! * `peer:gemm` ([`GemmPeer`]): the `gemm` crate (sarah-quinones), with its `x86-v4`
//!   feature so that its AVX-512 kernels are compiled in and chosen at run time on a CPU
//!   with AVX-512F.
//! * `peer:matrixmultiply` ([`MatrixMultiplyPeer`]): bluss's `matrixmultiply`, the engine
//!   behind ndarray, with its `threading` feature. Its thread count is fixed once per
//!   process and clamped to 4: see [`MatrixMultiplyPeer::threads_used`].
//! * `peer:faer` ([`FaerPeer`]): faer's own matrix multiply
//!   (`faer::linalg::matmul::matmul`), the call a faer user makes.
//!
//! Each peer's [`Backend::details`] says what it ran where the crate lets us tell: the
//! crate version, the kernel its run-time dispatch picks on this CPU, its threads.
//!
//! The element type reaches each crate through [`PeerScalar`], one impl per type calling
//! that type's function (`sgemm` or `dgemm`, `faer::Mat<f32>` or `<f64>`): no pointer casts
//! between types.

use matmul_core::{Backend, GemmPlan, MatMut, MatRef, Result, Scalar};

mod faer_peer;
mod gemm_peer;
mod matrixmultiply_peer;

pub use faer_peer::FaerPeer;
pub use gemm_peer::GemmPeer;
pub use matrixmultiply_peer::MatrixMultiplyPeer;

/// The versions of the peer crates this crate is built against, as Cargo.lock pins them
/// (a test checks them against the lock file, so they cannot go stale).
pub mod versions {
    /// `gemm`.
    pub const GEMM: &str = "0.19.0";
    /// `matrixmultiply`.
    pub const MATRIXMULTIPLY: &str = "0.3.11";
    /// `faer`.
    pub const FAER: &str = "0.24.4";
}

/// Every peer, as a backend.
pub fn peers() -> Vec<&'static dyn Backend> {
    static GEMM: GemmPeer = GemmPeer::new();
    static MATRIXMULTIPLY: MatrixMultiplyPeer = MatrixMultiplyPeer;
    static FAER: FaerPeer = FaerPeer::new();
    vec![&GEMM, &MATRIXMULTIPLY, &FAER]
}

/// The threads a peer really uses when asked for `requested`, or why it cannot run at that
/// count in this process. Only `peer:matrixmultiply` differs from `requested` (see
/// [`MatrixMultiplyPeer::threads_used`]); every other backend uses what it is asked for.
pub fn threads_used(backend: &dyn Backend, requested: usize) -> std::result::Result<usize, String> {
    if backend.name() == MatrixMultiplyPeer::NAME {
        MatrixMultiplyPeer::threads_used(requested)
    } else {
        Ok(requested)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// One `C ← α·A·B + β·C` call as the raw pointers and signed strides the peer crates take,
/// with `m, n, k ≥ 1` and `α ≠ 0`.
///
/// Made only by [`RawGemm::prepare`] from views that [`GemmPlan::prepare`] accepted, and
/// used before those borrows end, so its invariants are those of the views: every `(i, j)`
/// of each operand, at `ptr + i·rs + j·cs`, lies inside that view's slice; C does not
/// overlap itself (checked at the view's construction) and, borrowed mutably, cannot alias
/// A or B.
#[derive(Clone, Copy, Debug)]
pub struct RawGemm<T> {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// α.
    pub alpha: T,
    /// β; 0 means C must not be read.
    pub beta: T,
    /// A's element (0, 0) and its (row, column) strides.
    pub a: (*const T, isize, isize),
    /// B's element (0, 0) and its strides.
    pub b: (*const T, isize, isize),
    /// C's element (0, 0) and its strides.
    pub c: (*mut T, isize, isize),
}

impl<T: Scalar> RawGemm<T> {
    /// Applies the BLAS rules every backend shares ([`GemmPlan::prepare`]: shapes, empty
    /// products, α = 0, k = 0) and returns the call that remains, or `None` when nothing does.
    pub fn prepare(
        alpha: T,
        a: &MatRef<'_, T>,
        b: &MatRef<'_, T>,
        beta: T,
        c: &mut MatMut<'_, T>,
    ) -> Result<Option<Self>> {
        let GemmPlan::Compute { m, n, k } = GemmPlan::prepare(alpha, a, b, beta, c)? else {
            return Ok(None);
        };
        let ((a_rs, a_cs), (b_rs, b_cs), (c_rs, c_cs)) = (a.strides(), b.strides(), c.rb().strides());
        Ok(Some(RawGemm {
            m,
            n,
            k,
            alpha,
            beta,
            // Each pointer is the view's element (0, 0).
            a: (a.as_ptr(), a_rs, a_cs),
            b: (b.as_ptr(), b_rs, b_cs),
            c: (c.as_mut_ptr(), c_rs, c_cs),
        }))
    }
}

/// `f32` or `f64`, with each peer crate's entry point for that type.
pub trait PeerScalar: Scalar + sealed::Sealed {
    /// `matrixmultiply::sgemm` or `dgemm` on `call`.
    ///
    /// # Safety
    /// `call` must come from [`RawGemm::prepare`], and the views it was made from must
    /// still be borrowed (so its pointers are valid and C is not aliased).
    unsafe fn matrixmultiply(call: RawGemm<Self>);

    /// `faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, par)` in this type.
    fn faer_matmul(
        dst: faer::MatMut<'_, Self>,
        accum: faer::Accum,
        lhs: faer::MatRef<'_, Self>,
        rhs: faer::MatRef<'_, Self>,
        alpha: Self,
        par: faer::Par,
    );
}

macro_rules! peer_scalar {
    ($t:ty, $matrixmultiply:path) => {
        impl PeerScalar for $t {
            unsafe fn matrixmultiply(call: RawGemm<$t>) {
                let RawGemm { m, n, k, alpha, beta, a, b, c } = call;
                // SAFETY: the caller's contract: `call` comes from `RawGemm::prepare`, whose
                // views are still borrowed, so m × k, k × n and m × n elements at these
                // pointers and strides lie inside their slices, C does not overlap itself
                // or A and B, and m, n, k ≥ 1. matrixmultiply does not read C when β = 0,
                // as BLAS requires.
                unsafe { $matrixmultiply(m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2) }
            }

            fn faer_matmul(
                dst: faer::MatMut<'_, $t>,
                accum: faer::Accum,
                lhs: faer::MatRef<'_, $t>,
                rhs: faer::MatRef<'_, $t>,
                alpha: $t,
                par: faer::Par,
            ) {
                faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, par);
            }
        }
    };
}
peer_scalar!(f32, matrixmultiply::sgemm);
peer_scalar!(f64, matrixmultiply::dgemm);

/// Which x86 vector extension a run-time dispatch picks here: `"AVX-512"` when AVX-512F is
/// detected and `avx512` is true (the kernels are compiled in), else `"AVX2+FMA"`, else `None`.
fn detected_isa(avx512: bool) -> Option<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        if avx512 && std::arch::is_x86_feature_detected!("avx512f") {
            return Some("AVX-512");
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return Some("AVX2+FMA");
        }
    }
    let _ = avx512;
    None
}

/// `"1 thread"` or `"N threads"`.
fn threads_text(n: usize) -> String {
    if n == 1 {
        "1 thread".to_owned()
    } else {
        format!("{n} threads")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use matmul_core::{BackendKind, Layout, Matrix};

    /// The same suite with the threaded paths: sizes large enough that each crate splits
    /// the work (gemm and faer above their serial thresholds).
    #[test]
    fn threaded_peers_match_the_reference() {
        use matmul_core::reference::{compare, Problem};
        let (m, n, k) = (131, 97, 300);
        let a = Matrix::<f64>::from_fn(m, k, Layout::ColMajor, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let b = Matrix::<f64>::from_fn(k, n, Layout::RowMajor, |i, j| ((i * 5 + j) % 13) as f64 - 6.0);
        let c0 = Matrix::<f64>::from_fn(m, n, Layout::RowMajor, |i, j| (i + j) as f64);
        for peer in peers() {
            peer.set_threads(2);
            let mut c = c0.clone();
            peer.gemm(1.5, a.as_ref(), b.as_ref(), 0.5, c.as_mut()).unwrap();
            let p = Problem { alpha: 1.5, a: a.as_ref(), b: b.as_ref(), beta: 0.5, c0: c0.as_ref() };
            let cmp = compare(&p, &c.as_ref());
            assert!(cmp.passed(), "{}: {cmp:?}", peer.name());
            peer.set_threads(1);
        }
    }

    #[test]
    fn peers_are_of_kind_peer_and_named_peer() {
        let all = peers();
        assert_eq!(all.len(), 3);
        for p in all {
            assert_eq!(p.kind(), BackendKind::Peer, "{}", p.name());
            assert!(p.name().starts_with("peer:"), "{}", p.name());
            assert!(p.is_multithreaded());
            assert!(!p.details().is_empty(), "{}", p.name());
        }
    }

    /// The versions `details()` reports are the ones Cargo.lock pins.
    #[test]
    fn versions_match_the_lock_file() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
            .expect("the workspace's Cargo.lock");
        for (name, version) in
            [("gemm", versions::GEMM), ("matrixmultiply", versions::MATRIXMULTIPLY), ("faer", versions::FAER)]
        {
            let entry = format!("name = \"{name}\"\nversion = \"{version}\"\n");
            assert!(lock.contains(&entry), "Cargo.lock has no {name} {version}: update matmul_peers::versions");
        }
    }

    #[test]
    fn details_name_the_crate_version_and_kernels() {
        let all = peers();
        let d: Vec<String> = all.iter().map(|p| p.details()).collect();
        assert!(d[0].starts_with(&format!("gemm {}", versions::GEMM)), "{}", d[0]);
        assert!(d[1].starts_with(&format!("matrixmultiply {}", versions::MATRIXMULTIPLY)), "{}", d[1]);
        assert!(d[2].starts_with(&format!("faer {}", versions::FAER)), "{}", d[2]);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            assert!(d[0].contains("AVX-512"), "gemm is built with x86-v4, so it runs AVX-512 here: {}", d[0]);
            assert!(d[2].contains("AVX-512"), "{}", d[2]);
        }
    }

    #[test]
    fn only_matrixmultiply_changes_the_thread_count() {
        let all = peers();
        assert_eq!(threads_used(all[0], 7), Ok(7));
        assert_eq!(threads_used(all[2], 7), Ok(7));
    }
}
