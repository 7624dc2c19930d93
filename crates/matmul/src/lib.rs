//! Matrix multiplication, `C ← α·A·B + β·C`, on every backend you compile in.
//!
//! Each backend lives in its own crate and is enabled by a cargo feature of this facade:
//!
//! | feature | backends | needs |
//! |---|---|---|
//! | `naive` (default) | `naive-ijk`, `naive-ikj`, `naive-ijk-reassoc` | nothing |
//! | `simd` (default) | `simd`, `simd-avx512`, `simd-avx2`, `simd-portable` | nothing (kernels chosen at run time) |
//! | `openblas` | `openblas` | `libopenblas-dev` (system OpenBLAS) |
//! | `blis` | `blis` | `libblis-dev` (system BLIS) |
//! | `mkl` | `mkl` | `libmkl-dev` (system Intel MKL, Debian non-free) |
//! | `cuda` | `cuda-naive`, `cuda-tiled`, `cuda-regtile`, `cuda-warptile`, `cuda-dmma`, `cublas` | at run time only: an NVIDIA driver and GPU, NVRTC (our kernels), cuBLAS (`cublas`) |
//!
//! The BLAS features are mutually exclusive: every BLAS library exports the same
//! `cblas_?gemm` symbols, so one binary can hold only one (see the `matmul-blas` crate).
//!
//! [`backends()`] lists what was compiled, best first; [`backend`] finds one by name;
//! [`gemm`] and [`matmul`] use the best one available on this machine.
//!
//! # The order [`best`] follows
//!
//! [`best`] takes the first backend of this list that is compiled in and can run here:
//!
//! 1. a BLAS library: `mkl`, `openblas`, `blis` (at most one is compiled in);
//! 2. `simd` (the best SIMD kernels of this CPU: always available, since its portable
//!    kernels run anywhere), then `simd-avx512`, `simd-avx2`, `simd-portable` (each only
//!    where the CPU has its instructions);
//! 3. the naive loops: `naive-ikj`, `naive-ijk-reassoc`, `naive-ijk`.
//!
//! The GPU backends (feature `cuda`) are never [`best`]: this API multiplies host
//! slices, and for those a GPU call pays for copying A, B and C over the bus both ways
//! (and, on its first call, for the CUDA context and NVRTC), which loses to the CPU on
//! small and medium products; whether it wins on large ones depends on the machine. They
//! are listed last in [`backends()`] and chosen by name (`matmul::backend("cublas")`).
//!
//! So with the default features (`naive` + `simd`) and no BLAS library, [`gemm`] runs
//! `simd`.
//!
//! # Selecting a backend
//!
//! By feature, in `Cargo.toml` (`matmul = { version = "0.1", features = ["naive"] }`),
//! then by name at run time:
//!
//! ```
//! use matmul::{Layout, Matrix};
//!
//! let a = Matrix::<f64>::from_fn(3, 4, Layout::RowMajor, |i, j| (i + 2 * j) as f64);
//! let b = Matrix::<f64>::from_fn(4, 2, Layout::ColMajor, |i, j| (i * j) as f64);
//! let mut c = Matrix::<f64>::zeros(3, 2, Layout::RowMajor);
//!
//! let ikj = matmul::backend("naive-ikj")?;
//! ikj.gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
//! // C[2, 1] = Σₚ (2 + 2p)·p = 0 + 4 + 12 + 24.
//! assert_eq!(c.get(2, 1), Some(40.0));
//!
//! // The best backend compiled in, with the same call shape.
//! matmul::gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
//! // Or the allocating form.
//! assert_eq!(matmul::matmul(&a, &b)?.get(2, 1), c.get(2, 1));
//!
//! // Unknown names are an error that lists what is available.
//! let err = matmul::backend("fortran").unwrap_err();
//! assert!(err.to_string().contains("naive-ikj"));
//! # Ok::<(), matmul::Error>(())
//! ```
//!
//! Every backend follows BLAS's rules: β = 0 never reads C, α = 0 or k = 0 never reads A
//! and B, and any strided view (row- or column-major, transposed, padded, general strides,
//! negative strides, and in A and B a zero stride: a broadcast) is accepted. See [`Backend`].
//!
//! # Other crates' matrices
//!
//! With the features `ndarray`, `nalgebra` and `faer`, the modules `matmul::ndarray`,
//! `matmul::nalgebra` and `matmul::faer` multiply those crates' own matrix
//! and view types: `matmul::ndarray::gemm(α, &a, &b, β, &mut c)`, and `matmul` for an owned
//! product. Every layout those types express is used in place, without a copy (row- or
//! column-major, a transpose, a sub-block of a larger matrix, a step, negative strides,
//! and in A and B a broadcast): the core view borrows the matrix's elements by pointer and
//! strides. A C with a zero stride is refused with [`ViewError::ZeroStride`].
// `unsafe` only in the adapters, where another crate's pointer and strides become a core
// view, each block with its `// SAFETY:` argument.
#![deny(unsafe_code)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;

#[cfg(any(feature = "ndarray", feature = "nalgebra", feature = "faer"))]
#[allow(unsafe_code)]
mod adapters;
#[cfg(feature = "faer")]
pub use adapters::faer;
#[cfg(feature = "nalgebra")]
pub use adapters::nalgebra;
#[cfg(feature = "ndarray")]
pub use adapters::ndarray;

pub use matmul_core::{
    half, reference, Availability, Backend, BackendKind, Batch, BatchGroup, BatchOperand, BatchProduct, Dtype, Element,
    Error, GroupedBatch, Layout, Layouts, MatMut, MatRef, Matrix, Result, Scalar, StridedBatch, ViewError,
};

/// Every compiled backend, best first. The order is the preference of [`best`].
static REGISTRY: &[&dyn Backend] = &[
    #[cfg(feature = "mkl")]
    &matmul_blas::MKL,
    #[cfg(feature = "openblas")]
    &matmul_blas::OPENBLAS,
    #[cfg(feature = "blis")]
    &matmul_blas::BLIS,
    #[cfg(feature = "simd")]
    &matmul_simd::SIMD,
    #[cfg(feature = "simd")]
    &matmul_simd::SIMD_AVX512,
    #[cfg(feature = "simd")]
    &matmul_simd::SIMD_AVX2,
    #[cfg(feature = "simd")]
    &matmul_simd::SIMD_PORTABLE,
    #[cfg(feature = "naive")]
    &matmul_naive::NaiveIkj,
    #[cfg(feature = "naive")]
    &matmul_naive::NaiveIjkReassoc,
    #[cfg(feature = "naive")]
    &matmul_naive::NaiveIjk,
    // GPU backends: by name only, never `best` (see the crate docs).
    #[cfg(feature = "cuda")]
    &matmul_cuda::CUDA_NAIVE,
    #[cfg(feature = "cuda")]
    &matmul_cuda::CUDA_TILED,
    #[cfg(feature = "cuda")]
    &matmul_cuda::CUDA_REGTILE,
    #[cfg(feature = "cuda")]
    &matmul_cuda::CUDA_WARPTILE,
    #[cfg(feature = "cuda")]
    &matmul_cuda::CUDA_DMMA,
    #[cfg(feature = "cuda")]
    &matmul_cuda::CUBLAS,
];

/// Every compiled backend, best first, whether or not it can run on this machine
/// (see [`Backend::availability`]).
pub fn backends() -> &'static [&'static dyn Backend] {
    REGISTRY
}

/// The compiled backend called `name`.
pub fn backend(name: &str) -> Result<&'static dyn Backend> {
    REGISTRY.iter().copied().find(|b| b.name() == name).ok_or_else(|| Error::UnknownBackend {
        name: name.to_owned(),
        available: REGISTRY.iter().map(|b| b.name().to_owned()).collect(),
    })
}

/// The best compiled CPU backend that can run on this machine (GPU backends are chosen
/// by name only; see the crate docs).
pub fn best() -> Result<&'static dyn Backend> {
    let cpu = || REGISTRY.iter().copied().filter(|b| b.kind() != BackendKind::Gpu);
    cpu().find(|b| b.availability().is_available()).ok_or_else(|| Error::BackendUnavailable {
        backend: "any".to_owned(),
        reason: if cpu().next().is_none() {
            "no CPU backend feature is enabled on the matmul crate (GPU backends are chosen by name)".to_owned()
        } else {
            "no compiled backend can run on this machine".to_owned()
        },
    })
}

/// The best compiled CPU backend that can run here and multiplies `dtype` (see
/// [`Backend::supports`]): [`best`] for `f32` and `f64`; for the half types the first in
/// [`best`]'s order that has them (a BLAS library without a bf16 GEMM is passed over).
pub fn best_for(dtype: Dtype) -> Result<&'static dyn Backend> {
    let best = best()?;
    if best.supports(dtype) {
        return Ok(best);
    }
    REGISTRY
        .iter()
        .copied()
        .filter(|b| b.kind() != BackendKind::Gpu && b.supports(dtype))
        .find(|b| b.availability().is_available())
        .ok_or_else(|| Error::UnsupportedDtype { backend: "any".to_owned(), dtype })
}

/// `C ← α·A·B + β·C` on the best backend for `E` ([`best_for`]).
///
/// A and B are in `E`; C, α and β in `E::Acc` (`f32` for bf16 and f16 inputs, see
/// [`Element`]):
///
/// ```
/// use matmul::half::bf16;
/// use matmul::{Layout, Matrix};
///
/// // Weights stored in bf16, products accumulated in f32.
/// let a = Matrix::<bf16>::from_fn(2, 3, Layout::RowMajor, |i, j| bf16::from_f32((i + j) as f32 * 0.5));
/// let b = Matrix::<bf16>::from_fn(3, 2, Layout::ColMajor, |i, j| bf16::from_f32(i as f32 - j as f32));
/// let mut c = Matrix::<f32>::zeros(2, 2, Layout::RowMajor);
/// matmul::gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut())?;
/// // C[1, 0] = Σₚ ((1 + p)/2)·p = 0 + 1 + 3.
/// assert_eq!(c.get(1, 0), Some(4.0));
/// # Ok::<(), matmul::Error>(())
/// ```
pub fn gemm<E: Element>(
    alpha: E::Acc,
    a: MatRef<'_, E>,
    b: MatRef<'_, E>,
    beta: E::Acc,
    c: MatMut<'_, E::Acc>,
) -> Result<()> {
    best_for(E::DTYPE)?.gemm(alpha, a, b, beta, c)
}

/// Every product of a batch on the best backend ([`best`]), in one call: a
/// [`GroupedBatch`] (groups with their own shape, α and β, every view its own layout) or a
/// [`StridedBatch`]. The batch was checked when it was built, so a bad one never reaches
/// a backend; see [`Backend::gemm_batch_f32`] for how each backend runs it.
///
/// ```
/// use matmul::{BatchGroup, GroupedBatch, Layout, Matrix};
///
/// // Eight 3 × 3 rotations-and-scalings applied to eight 3 × 2 blocks, and one 2 × 2
/// // product with its own α, in one call.
/// let r: Vec<Matrix<f32>> = (0..8).map(|t| Matrix::from_fn(3, 3, Layout::RowMajor, |i, j| (i * 3 + j + t) as f32)).collect();
/// let x = Matrix::<f32>::from_fn(3, 2, Layout::ColMajor, |i, j| (i + j) as f32);
/// let mut y: Vec<Matrix<f32>> = (0..8).map(|_| Matrix::zeros(3, 2, Layout::RowMajor)).collect();
/// let s = Matrix::<f32>::from_fn(2, 2, Layout::RowMajor, |i, j| (i == j) as u8 as f32);
/// let mut z = Matrix::<f32>::zeros(2, 2, Layout::RowMajor);
///
/// let rotations = r.iter().zip(&mut y).map(|(r, y)| (r.as_ref(), x.as_ref(), y.as_mut())).collect();
/// let batch = GroupedBatch::new(vec![
///     BatchGroup::new((3, 2, 3), 1.0, 0.0, rotations),
///     BatchGroup::new((2, 2, 2), 3.0, 0.0, vec![(s.as_ref(), s.as_ref(), z.as_mut())]),
/// ])?;
/// matmul::gemm_batch(batch)?;
/// // Y_1[0, 1] = Σₚ R_1[0, p]·X[p, 1] = 1·1 + 2·2 + 3·3.
/// assert_eq!(y[1].get(0, 1), Some(14.0));
/// assert_eq!(z.get(1, 1), Some(3.0));
/// # Ok::<(), matmul::Error>(())
/// ```
pub fn gemm_batch<'a, T: Scalar>(batch: impl Into<Batch<'a, T>>) -> Result<()> {
    best()?.gemm_batch(batch)
}

/// `A·B` as a new row-major matrix of `E::Acc`, on the best backend for `E` ([`best_for`]).
pub fn matmul<E: Element>(a: &Matrix<E>, b: &Matrix<E>) -> Result<Matrix<E::Acc>> {
    let mut c = Matrix::zeros(a.nrows(), b.ncols(), Layout::RowMajor);
    gemm(E::Acc::ONE, a.as_ref(), b.as_ref(), E::Acc::ZERO, c.as_mut())?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let mut names: Vec<_> = backends().iter().map(|b| b.name()).collect();
        for n in &names {
            assert_eq!(backend(n).unwrap().name(), *n);
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), backends().len());
    }

    #[test]
    fn unknown_backend_lists_the_available_ones() {
        match backend("nope") {
            Err(Error::UnknownBackend { name, available }) => {
                assert_eq!(name, "nope");
                assert_eq!(available.len(), backends().len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(all(feature = "simd", not(any(feature = "mkl", feature = "openblas", feature = "blis"))))]
    #[test]
    fn without_blas_the_best_backend_is_simd() {
        assert_eq!(best().unwrap().name(), "simd");
    }

    #[test]
    fn gpu_backends_are_never_best() {
        if let Ok(best) = best() {
            assert_ne!(best.kind(), BackendKind::Gpu);
        }
    }

    #[cfg(feature = "cuda")]
    #[test]
    fn cuda_backends_are_found_by_name() {
        for name in ["cuda-naive", "cuda-tiled", "cuda-regtile", "cuda-warptile", "cuda-dmma", "cublas"] {
            assert_eq!(backend(name).unwrap().kind(), BackendKind::Gpu, "{name}");
        }
    }

    #[test]
    fn matmul_checks_shapes() {
        let a = Matrix::<f32>::zeros(2, 3, Layout::RowMajor);
        let b = Matrix::<f32>::zeros(4, 2, Layout::RowMajor);
        assert!(matches!(matmul(&a, &b), Err(Error::ShapeMismatch { .. }) | Err(Error::BackendUnavailable { .. })));
    }
}
