//! `peer:gemm`: the `gemm` crate, the engine under faer's older releases and candle.

use std::sync::atomic::{AtomicUsize, Ordering};

use matmul_core::{Backend, BackendKind, MatMut, MatRef, Result, Scalar};

use crate::{detected_isa, versions, RawGemm};

/// `peer:gemm`. Its thread count is a per-call argument ([`gemm::Parallelism`]), so
/// [`Backend::set_threads`] works as for our own backends.
#[derive(Debug)]
pub struct GemmPeer {
    threads: AtomicUsize,
}

impl GemmPeer {
    /// One thread until [`Backend::set_threads`] says otherwise.
    pub const fn new() -> Self {
        GemmPeer { threads: AtomicUsize::new(1) }
    }

    fn call<T: Scalar>(
        &self,
        alpha: T,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        beta: T,
        mut c: MatMut<'_, T>,
    ) -> Result<()> {
        let Some(call) = RawGemm::prepare(alpha, &a, &b, beta, &mut c)? else {
            return Ok(());
        };
        let threads = self.threads.load(Ordering::Relaxed);
        let parallelism = if threads <= 1 { gemm::Parallelism::None } else { gemm::Parallelism::Rayon(threads) };
        let RawGemm { m, n, k, alpha, beta, a: (pa, a_rs, a_cs), b: (pb, b_rs, b_cs), c: (pc, c_rs, c_cs) } = call;
        // SAFETY: `call` comes from `RawGemm::prepare` on views still borrowed here, so
        // m × k, k × n and m × n elements at these pointers and strides lie inside their
        // slices, m, n, k ≥ 1, and C neither overlaps itself nor aliases A or B. gemm takes
        // each matrix as (column stride, row stride) and names its scalars the other way
        // round from BLAS (dst := alpha·dst + beta·lhs·rhs), hence our β as its alpha and
        // our α as its beta; `read_dst = false` when β = 0, so C is not read, as BLAS requires.
        // gemm dispatches on the element type by `TypeId`; `Scalar` is f32 or f64, both of
        // which it supports.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                pc,
                c_cs,
                c_rs,
                beta != T::ZERO,
                pa,
                a_cs,
                a_rs,
                pb,
                b_cs,
                b_rs,
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

impl Default for GemmPeer {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for GemmPeer {
    fn name(&self) -> &'static str {
        "peer:gemm"
    }
    fn description(&self) -> &'static str {
        "peer: the gemm crate (sarah-quinones), built with its x86-v4 (AVX-512) kernels"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Peer
    }
    /// The crate version, the kernel family gemm's dispatch picks on this CPU (it chooses
    /// AVX-512 when AVX-512F is detected, since we build it with `x86-v4`; else AVX2+FMA;
    /// else scalar) and how it threads. The thread count itself is the point's (a row's
    /// `threads`), so it is not repeated here.
    fn details(&self) -> String {
        let isa = detected_isa(true).unwrap_or("scalar");
        format!(
            "gemm {}, {isa} kernels (x86-v4 feature, run-time detection), the point's threads through rayon \
             (1 below m·n·k = {})",
            versions::GEMM,
            gemm::get_threading_threshold()
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
