//! The host-slice path's index math, without a GPU: `host::run_packed` (special cases,
//! packing, unpacking) around a CPU emulation of the device step, run through the shared
//! test grid (every layout, NaN padding to catch stray writes, β = 0 with NaN in C,
//! α = 0, k = 0, shape errors).
//!
//! Two emulations, one per contract the real device step has:
//! * `kernel-emulation`: the kernels' contract (row-major A, B, C, β = 0 leaves C
//!   unread), as a triple loop;
//! * `cublas-emulation`: cuBLAS's column-major call made through
//!   `host::row_major_as_col_major`, the same swap the `cublas` backend makes.
//!
//! The staging buffers start full of NaN, so a device step that read C under β = 0 would
//! leave NaN in the result and fail the grid. Both run every element type: bf16 and f16
//! inputs too (A and B packed in 16 bits, C in f32, each input widened exactly as the
//! kernel and cuBLAS do).

use matmul_core::{Backend, BackendKind, Dtype, Element, MatMut, MatRef, Result, Scalar};
use matmul_cuda::host::{self, HostGemm, Packed, Staging};

#[derive(Debug)]
struct Emulated {
    cublas: bool,
}

/// A fresh NaN-filled staging buffer of `len` elements.
fn nan_staging<T: Element>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    buf.clear();
    buf.resize(len, T::NAN);
    &mut buf[..]
}

/// The kernels' contract on the CPU.
fn kernel_emulation<E: Element>(p: Packed<'_, E>) -> Result<()> {
    let (m, n, k) = (p.dims.m, p.dims.n, p.dims.k);
    for i in 0..m {
        for j in 0..n {
            let mut acc = E::Acc::ZERO;
            for q in 0..k {
                acc = p.a[i * k + q].to_acc().mul_add(p.b[q * n + j].to_acc(), acc);
            }
            let c = &mut p.c[i * n + j];
            *c = if p.beta == E::Acc::ZERO { p.alpha * acc } else { p.alpha * acc + p.beta * *c };
        }
    }
    Ok(())
}

/// cuBLAS's column-major GEMM on the CPU, called as the `cublas` backend calls it.
fn cublas_emulation<E: Element>(p: Packed<'_, E>) -> Result<()> {
    let call = host::row_major_as_col_major(p.dims);
    // cuBLAS's operands: first = our B, second = our A.
    let (x, y) = (p.b, p.a);
    for j in 0..call.n {
        for i in 0..call.m {
            let mut acc = E::Acc::ZERO;
            for q in 0..call.k {
                acc = x[i + q * call.lda].to_acc().mul_add(y[q + j * call.ldb].to_acc(), acc);
            }
            let c = &mut p.c[i + j * call.ldc];
            *c = if p.beta == E::Acc::ZERO { p.alpha * acc } else { p.alpha * acc + p.beta * *c };
        }
    }
    Ok(())
}

impl Emulated {
    fn gemm<E: Element>(
        &self,
        alpha: E::Acc,
        a: MatRef<'_, E>,
        b: MatRef<'_, E>,
        beta: E::Acc,
        c: MatMut<'_, E::Acc>,
    ) -> Result<()> {
        let (mut ab, mut cb) = (Vec::new(), Vec::new());
        let (ab, cb) = (&mut ab, &mut cb);
        let gemm = HostGemm { alpha, a, b, beta, c };
        let device = if self.cublas { cublas_emulation::<E> } else { kernel_emulation::<E> };
        host::run_packed(
            self.name(),
            gemm,
            move |ab_len, c_len| Ok(Staging { ab: nan_staging(ab, ab_len), c: nan_staging(cb, c_len) }),
            device,
        )
    }
}

impl Backend for Emulated {
    fn name(&self) -> &'static str {
        if self.cublas {
            "cublas-emulation"
        } else {
            "kernel-emulation"
        }
    }
    fn description(&self) -> &'static str {
        "the CUDA backends' host path around a CPU emulation of the device"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Loops
    }
    /// Every element type, as the `cublas` backend and `cuda-warptile`'s host path.
    fn supports(&self, _: Dtype) -> bool {
        true
    }
    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.gemm(alpha, a, b, beta, c));
    matmul_core::gemm_methods!(half | this, alpha, a, b, beta, c | this.gemm(alpha, a, b, beta, c));
}

static KERNEL_EMULATION: Emulated = Emulated { cublas: false };
static CUBLAS_EMULATION: Emulated = Emulated { cublas: true };

matmul_core::backend_test_suite!(kernel_emulation, &crate::KERNEL_EMULATION);
matmul_core::backend_test_suite!(cublas_emulation, &crate::CUBLAS_EMULATION);
