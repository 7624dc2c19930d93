//! The pure-Rust GEMMs a Rust user would pick instead of this project, wrapped in our
//! [`Backend`] trait so the bench measures them in the same process, on the same inputs
//! and with the same interleaving and accuracy check as our own backends.
//!
//! * `peer:gemm`: the `gemm` crate (sarah-ek), the engine behind faer. Its thread count is
//!   a per-call argument ([`gemm::Parallelism`]), so [`Backend::set_threads`] works as for
//!   our backends.
//! * `peer:matrixmultiply`: bluss's `matrixmultiply`, the engine behind ndarray, with its
//!   `threading` feature. It reads its thread count once per process from the
//!   `MATMUL_NUM_THREADS` environment variable (at most 4), so one process measures it at
//!   one thread count only: see [`matrixmultiply_threads`].
//!
//! This file is also compiled into the criterion benches (`benches/`) with `#[path]`, so
//! that both measure exactly the same calls; it depends only on `matmul-core` and the two
//! peer crates.

use std::sync::atomic::{AtomicUsize, Ordering};

use matmul_core::{Backend, BackendKind, GemmPlan, MatMut, MatRef, Result, Scalar};

/// `peer:gemm`.
#[derive(Debug, Default)]
pub struct GemmPeer {
    threads: AtomicUsize,
}

/// `peer:matrixmultiply`.
#[derive(Debug, Default)]
pub struct MatrixMultiplyPeer;

/// The peers, as backends.
pub fn peers() -> Vec<&'static dyn Backend> {
    static GEMM: GemmPeer = GemmPeer { threads: AtomicUsize::new(1) };
    static MATRIXMULTIPLY: MatrixMultiplyPeer = MatrixMultiplyPeer;
    vec![&GEMM, &MATRIXMULTIPLY]
}

/// The environment variable `matrixmultiply` reads its thread count from.
pub const MATRIXMULTIPLY_THREADS_VAR: &str = "MATMUL_NUM_THREADS";

/// The most threads `matrixmultiply` uses, whatever the variable says.
const MATRIXMULTIPLY_MAX_THREADS: usize = 4;

/// The thread count `matrixmultiply` uses in this process, read the way it reads it: the
/// variable clamped to 1..=4. Unset, it would use the physical core count, which std
/// cannot tell; the runner therefore always sets the variable before the first call.
pub fn matrixmultiply_threads() -> Option<usize> {
    let value = std::env::var(MATRIXMULTIPLY_THREADS_VAR).ok()?;
    let n: usize = value.trim().parse().ok()?;
    Some(n.clamp(1, MATRIXMULTIPLY_MAX_THREADS))
}

/// A stride as the signed type both peers take. Strides of a valid view index inside a
/// slice, so they fit in `isize`.
fn signed(stride: usize) -> isize {
    isize::try_from(stride).expect("a view's stride indexes inside a slice, so it fits in isize")
}

/// The peers share one entry point per element type; `T` is `f32` or `f64`.
trait PeerGemm {
    fn call<T: Scalar>(&self, alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) -> Result<()>;
}

impl PeerGemm for GemmPeer {
    fn call<T: Scalar>(
        &self,
        alpha: T,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        beta: T,
        mut c: MatMut<'_, T>,
    ) -> Result<()> {
        let GemmPlan::Compute { m, n, k } = GemmPlan::prepare(alpha, &a, &b, beta, &mut c)? else {
            return Ok(());
        };
        let threads = self.threads.load(Ordering::Relaxed);
        let parallelism = if threads <= 1 { gemm::Parallelism::None } else { gemm::Parallelism::Rayon(threads) };
        let (a_rs, a_cs, b_rs, b_cs) = (a.row_stride(), a.col_stride(), b.row_stride(), b.col_stride());
        let (c_rs, c_cs) = (c.row_stride(), c.col_stride());
        let dst = c.as_slice_mut().as_mut_ptr();
        // SAFETY: `GemmPlan::prepare` checked that A is m×k, B is k×n and C is m×n with
        // m, n, k ≥ 1; each view was checked at construction to lie inside its slice with
        // these strides, and the pointers are to element (0, 0) of those slices (`as_slice`
        // starts there), so every index gemm forms is in bounds. C's view was checked not to
        // overlap itself, and C is borrowed mutably so A and B cannot alias it. `gemm` names
        // its scalars the other way round from BLAS (dst := alpha·dst + beta·lhs·rhs), hence
        // our β as its alpha and our α as its beta; `read_dst = false` when β = 0 so a NaN in
        // C does not survive, as BLAS requires.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst,
                signed(c_cs),
                signed(c_rs),
                beta != T::ZERO,
                a.as_slice().as_ptr(),
                signed(a_cs),
                signed(a_rs),
                b.as_slice().as_ptr(),
                signed(b_cs),
                signed(b_rs),
                beta,
                alpha,
                false,
                false,
                false,
                parallelism,
            );
        }
        Ok(())
    }
}

impl PeerGemm for MatrixMultiplyPeer {
    fn call<T: Scalar>(
        &self,
        alpha: T,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        beta: T,
        mut c: MatMut<'_, T>,
    ) -> Result<()> {
        let GemmPlan::Compute { m, n, k } = GemmPlan::prepare(alpha, &a, &b, beta, &mut c)? else {
            return Ok(());
        };
        let (a_rs, a_cs, b_rs, b_cs) =
            (signed(a.row_stride()), signed(a.col_stride()), signed(b.row_stride()), signed(b.col_stride()));
        let (c_rs, c_cs) = (signed(c.row_stride()), signed(c.col_stride()));
        let (pa, pb) = (a.as_slice().as_ptr(), b.as_slice().as_ptr());
        let pc = c.as_slice_mut().as_mut_ptr();
        // `Scalar` is sealed to f32 and f64, so exactly one branch applies and the casts
        // below reinterpret a type as itself.
        if let (Some(alpha), Some(beta)) = (as_f64(alpha), as_f64(beta)) {
            // SAFETY: as for `peer:gemm`: shapes checked by `GemmPlan::prepare`, every
            // (i, j) inside its slice by the views' construction, pointers at (0, 0), C
            // not self-overlapping and not aliased. T is f64 in this branch, so the
            // pointer casts are identities. matrixmultiply does not read C when β = 0.
            unsafe {
                matrixmultiply::dgemm(
                    m,
                    k,
                    n,
                    alpha,
                    pa.cast(),
                    a_rs,
                    a_cs,
                    pb.cast(),
                    b_rs,
                    b_cs,
                    beta,
                    pc.cast(),
                    c_rs,
                    c_cs,
                );
            }
        } else {
            let (alpha, beta) = (alpha.to_f64() as f32, beta.to_f64() as f32);
            // SAFETY: as above; `Scalar` is sealed to f32 and f64 and T is not f64 here,
            // so T is f32, the casts are identities and the conversions of α, β exact.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    alpha,
                    pa.cast(),
                    a_rs,
                    a_cs,
                    pb.cast(),
                    b_rs,
                    b_cs,
                    beta,
                    pc.cast(),
                    c_rs,
                    c_cs,
                );
            }
        }
        Ok(())
    }
}

/// `Some(x)` when `T` is `f64`.
fn as_f64<T: Scalar>(x: T) -> Option<f64> {
    (T::NAME == "f64").then(|| x.to_f64())
}

impl Backend for GemmPeer {
    fn name(&self) -> &'static str {
        "peer:gemm"
    }
    fn description(&self) -> &'static str {
        "peer: the gemm crate (sarah-ek), the engine behind faer"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Simd
    }
    fn is_multithreaded(&self) -> bool {
        true
    }
    fn set_threads(&self, threads: usize) {
        self.threads.store(threads.max(1), Ordering::Relaxed);
    }
    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.call(alpha, a, b, beta, c));
}

impl Backend for MatrixMultiplyPeer {
    fn name(&self) -> &'static str {
        "peer:matrixmultiply"
    }
    fn description(&self) -> &'static str {
        "peer: matrixmultiply (bluss), the engine behind ndarray; threads fixed per process by MATMUL_NUM_THREADS"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Simd
    }
    fn is_multithreaded(&self) -> bool {
        true
    }
    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.call(alpha, a, b, beta, c));
}

#[cfg(test)]
mod tests {
    use super::*;
    use matmul_core::reference::{compare, Problem};
    use matmul_core::{Layout, Matrix};

    /// Both peers, every r/c layout mix, β = 0 over a NaN-filled C and β ≠ 0, against the reference.
    #[test]
    fn peers_match_the_reference_on_every_layout() {
        for peer in peers() {
            for layouts in 0..8u32 {
                let l = |bit: u32| if layouts >> bit & 1 == 1 { Layout::ColMajor } else { Layout::RowMajor };
                let a = Matrix::<f64>::from_fn(7, 5, l(0), |i, j| (i as f64 - 2.5) * 0.3 + j as f64);
                let b = Matrix::<f64>::from_fn(5, 9, l(1), |i, j| 1.0 / (1.0 + i as f64 + 2.0 * j as f64));
                for (beta, fill) in [(0.0, f64::NAN), (0.5, 2.0)] {
                    let c0 = Matrix::<f64>::from_fn(7, 9, l(2), |_, _| fill);
                    let mut c = c0.clone();
                    f64::gemm(peer, 1.5, a.as_ref(), b.as_ref(), beta, c.as_mut()).unwrap();
                    let p = Problem { alpha: 1.5, a: a.as_ref(), b: b.as_ref(), beta, c0: c0.as_ref() };
                    let cmp = compare(&p, &c.as_ref());
                    assert!(cmp.passed(), "{} layouts {layouts:03b} beta {beta}: {cmp:?}", peer.name());
                }
                let a32 = a.as_ref().to_matrix(l(0));
                let a32 = Matrix::<f32>::from_fn(7, 5, l(0), |i, j| a32.get(i, j).unwrap() as f32);
                let b32 = Matrix::<f32>::from_fn(5, 9, l(1), |i, j| b.get(i, j).unwrap() as f32);
                let c0 = Matrix::<f32>::from_fn(7, 9, l(2), |_, _| f32::NAN);
                let mut c = c0.clone();
                f32::gemm(peer, 1.0, a32.as_ref(), b32.as_ref(), 0.0, c.as_mut()).unwrap();
                let p = Problem { alpha: 1.0, a: a32.as_ref(), b: b32.as_ref(), beta: 0.0, c0: c0.as_ref() };
                assert!(compare(&p, &c.as_ref()).passed(), "{} f32 layouts {layouts:03b}", peer.name());
            }
        }
    }

    #[test]
    fn peers_refuse_mismatched_shapes() {
        let a = Matrix::<f32>::zeros(2, 3, Layout::RowMajor);
        let b = Matrix::<f32>::zeros(4, 2, Layout::RowMajor);
        let mut c = Matrix::<f32>::zeros(2, 2, Layout::RowMajor);
        for peer in peers() {
            assert!(f32::gemm(peer, 1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).is_err());
        }
    }
}
