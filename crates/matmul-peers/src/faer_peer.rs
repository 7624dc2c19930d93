//! `peer:faer`: faer's own matrix multiply, the call a Rust user of dense linear algebra makes.

use std::sync::atomic::{AtomicUsize, Ordering};

use matmul_core::{Backend, BackendKind, MatMut, MatRef, Result};

use crate::{detected_isa, versions, PeerScalar, RawGemm};

/// `peer:faer`: `faer::linalg::matmul::matmul` on faer views of our operands (no copies).
///
/// faer computes `C ← α·A·B` (`Accum::Replace`, C not read) or `C ← C + α·A·B`
/// (`Accum::Add`); any other β is applied to C first, in one pass, as a faer user would.
/// Its thread count is a per-call argument ([`faer::Par`]).
#[derive(Debug)]
pub struct FaerPeer {
    threads: AtomicUsize,
}

impl FaerPeer {
    /// One thread until [`Backend::set_threads`] says otherwise.
    pub const fn new() -> Self {
        FaerPeer { threads: AtomicUsize::new(1) }
    }

    fn call<T: PeerScalar>(
        &self,
        alpha: T,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        beta: T,
        mut c: MatMut<'_, T>,
    ) -> Result<()> {
        let Some(mut call) = RawGemm::prepare(alpha, &a, &b, beta, &mut c)? else {
            return Ok(());
        };
        let accum = if beta == T::ZERO {
            faer::Accum::Replace
        } else {
            if beta != T::ONE {
                c.for_each_mut(|x| *x = beta * *x);
                // Derived again after the last use of `c`, so it is the live pointer.
                call.c.0 = c.as_mut_ptr();
            }
            faer::Accum::Add
        };
        let threads = self.threads.load(Ordering::Relaxed);
        let par = if threads <= 1 { faer::Par::Seq } else { faer::Par::rayon(threads) };
        let RawGemm { m, n, k, a: (pa, a_rs, a_cs), b: (pb, b_rs, b_cs), c: (pc, c_rs, c_cs), .. } = call;
        // SAFETY: `call` comes from `RawGemm::prepare` on views still borrowed here (C's
        // pointer re-derived from the same view above): m × k, k × n and m × n elements at
        // these pointers and strides are the views' elements, each view's in one allocation
        // of initialised, aligned `T`; A and B are shared borrows nobody writes; C is borrowed
        // mutably, so nothing else reads or writes it, and does not overlap itself (a stride
        // can be 0 only along a dimension of one element, where it addresses nothing twice).
        let (lhs, rhs, dst) = unsafe {
            (
                faer::MatRef::from_raw_parts(pa, m, k, a_rs, a_cs),
                faer::MatRef::from_raw_parts(pb, k, n, b_rs, b_cs),
                faer::MatMut::from_raw_parts_mut(pc, m, n, c_rs, c_cs),
            )
        };
        T::faer_matmul(dst, accum, lhs, rhs, alpha, par);
        Ok(())
    }
}

impl Default for FaerPeer {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for FaerPeer {
    fn name(&self) -> &'static str {
        "peer:faer"
    }
    fn description(&self) -> &'static str {
        "peer: faer's matrix multiply (faer::linalg::matmul::matmul), the dense linear algebra crate"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Peer
    }
    /// The crate version, the kernels its dispatch picks on this CPU (faer 0.24 calls
    /// private-gemm-x86's AVX-512 kernels when AVX-512F is detected, its AVX2 ones with
    /// AVX2+FMA, the gemm crate otherwise; nano-gemm for m·n·k ≤ 16³) and how it threads
    /// (the count is the point's).
    fn details(&self) -> String {
        let kernels = match detected_isa(true) {
            Some(isa) => format!("{isa} kernels of private-gemm-x86"),
            None => "the gemm crate's kernels".to_owned(),
        };
        format!(
            "faer {}, {kernels} (run-time detection; nano-gemm for m·n·k ≤ 4096), the point's threads through \
             rayon (Par::rayon; 1 below m·n·k = 4096·size of the element)",
            versions::FAER
        )
    }
    fn is_multithreaded(&self) -> bool {
        true
    }
    fn set_threads(&self, threads: usize) {
        self.threads.store(threads.max(1), Ordering::Relaxed);
    }
    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.call(alpha, a, b, beta, c));
}

#[cfg(test)]
mod tests {
    use super::*;
    use matmul_core::{Layout, Matrix};

    /// β other than 0 and 1 goes through the scaling pass; β = 0 never reads C.
    #[test]
    fn beta_is_applied_once_and_zero_beta_ignores_nan() {
        let a = Matrix::<f64>::from_fn(2, 3, Layout::RowMajor, |i, j| (i + j) as f64);
        let b = Matrix::<f64>::from_fn(3, 2, Layout::ColMajor, |i, j| (i * 2 + j) as f64);
        // A·B = [[0+2+8, 0+3+10], [0+4+12, 1+6+15]] = [[10, 13], [16, 22]].
        let mut c = Matrix::<f64>::from_fn(2, 2, Layout::RowMajor, |_, _| 1.0);
        FaerPeer::new().gemm_f64(2.0, a.as_ref(), b.as_ref(), 3.0, c.as_mut()).unwrap();
        assert_eq!(c.as_ref().row_iter(0).collect::<Vec<_>>(), [23.0, 29.0]);
        assert_eq!(c.as_ref().row_iter(1).collect::<Vec<_>>(), [35.0, 47.0]);
        let mut c = Matrix::<f64>::from_fn(2, 2, Layout::ColMajor, |_, _| f64::NAN);
        FaerPeer::new().gemm_f64(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap();
        assert_eq!(c.as_ref().col_iter(1).collect::<Vec<_>>(), [13.0, 22.0]);
    }
}
