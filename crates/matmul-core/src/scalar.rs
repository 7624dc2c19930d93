//! The element types a backend multiplies.

use std::fmt::{Debug, Display};
use std::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub};

use crate::{Backend, Batch, Dtype, MatMut, MatRef, Result};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for half::bf16 {}
    impl Sealed for half::f16 {}
}

/// An element type of A and B: `f32`, `f64`, [`bf16`](half::bf16) or [`f16`](half::f16).
///
/// Each has an accumulator type [`Element::Acc`]: the type of C, α and β, and of every
/// operation of the product. For `f32` and `f64` it is the type itself; for the half types
/// it is `f32` (BLAS's `gemm_bf16bf16f32` convention, also MKL's and oneDNN's): A and B
/// are stored in 16 bits, each element is widened to `f32` exactly, and the product runs in
/// `f32`. So `C ← α·A·B + β·C` has one signature for every element type,
///
/// ```text
/// gemm(α: E::Acc, A: MatRef<E>, B: MatRef<E>, β: E::Acc, C: MatMut<E::Acc>)
/// ```
///
/// and generic code writes it once. Sealed: a backend implements exactly these four,
/// through [`Backend::gemm_f32`], [`Backend::gemm_f64`], [`Backend::gemm_bf16`] and
/// [`Backend::gemm_f16`] (the half ones answer [`Error::UnsupportedDtype`](crate::Error)
/// unless the backend has them). Generic code reaches the right one through [`Element::gemm`].
///
/// ```
/// use matmul_core::half::bf16;
/// use matmul_core::{Dtype, Element};
///
/// assert_eq!(bf16::DTYPE, Dtype::Bf16);
/// // Widening is exact: every bf16 is an f32.
/// let x = bf16::from_f32(1.0 + 1.0 / 128.0);
/// assert_eq!(x.to_acc(), 1.0 + 1.0 / 128.0_f32);
/// ```
pub trait Element:
    sealed::Sealed + bytemuck::Pod + Copy + Default + Debug + Display + PartialEq + Send + Sync + 'static
{
    /// The type of C, α, β and the arithmetic: `Self` for `f32` and `f64`, `f32` for the half types.
    type Acc: Scalar;
    /// The element type's one name across the workspace (bench, results, CUDA table).
    const DTYPE: Dtype;
    /// `"f32"`, `"f64"`, `"bf16"` or `"f16"`: [`Self::DTYPE`]'s name.
    const NAME: &'static str = Self::DTYPE.as_str();
    /// Zero.
    const ZERO: Self;
    /// Not a number (the testing grid's sentinel around every operand).
    const NAN: Self;
    /// Whether a backend may multiply this type with flush-to-zero arithmetic: subnormal
    /// inputs read as zero, subnormal products and partial sums flushed to zero. True for
    /// `bf16` only: x86's bf16 dot-product instruction `vdpbf16ps` works so (DAZ and FTZ
    /// whatever MXCSR says), and the `simd` backend uses it. The reference's bound allows
    /// for it: see
    /// [`reference::Problem`](crate::reference::Problem).
    const MAY_FLUSH_SUBNORMALS: bool = false;

    /// Exact widening conversion to the accumulator type.
    fn to_acc(self) -> Self::Acc;
    /// Widens `src` into `dst` (equal lengths; panics otherwise): a copy for `f32` and
    /// `f64`, the `half` crate's vectorised conversion (F16C for f16) for the half types.
    fn widen_slice(src: &[Self], dst: &mut [Self::Acc]);
    /// Exact widening conversion.
    fn to_f64(self) -> f64;
    /// Rounding conversion (to nearest, ties to even).
    fn from_f64(x: f64) -> Self;
    /// Whether `self` is NaN.
    fn is_nan(self) -> bool;

    /// Calls the backend's entry point for this element type.
    fn gemm<B: Backend + ?Sized>(
        backend: &B,
        alpha: Self::Acc,
        a: MatRef<'_, Self>,
        b: MatRef<'_, Self>,
        beta: Self::Acc,
        c: MatMut<'_, Self::Acc>,
    ) -> Result<()>;
}

/// A floating-point type the products are computed in: `f32` or `f64`, the
/// [`Element`]s that are their own accumulator.
pub trait Scalar:
    Element<Acc = Self>
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + MulAssign
{
    /// The BLAS prefix letter: `'s'` or `'d'`.
    const BLAS_PREFIX: char;
    /// Multiplicative identity.
    const ONE: Self;
    /// Unit roundoff u = 2^-p (half the machine epsilon): the largest relative error of
    /// one correctly rounded operation.
    const UNIT_ROUNDOFF: f64;
    /// The smallest positive subnormal: the absolute error an underflowing operation
    /// can add is at most half of it.
    const MIN_SUBNORMAL: f64;
    /// The smallest positive normal number: the largest absolute error of flushing a
    /// subnormal result to zero is below it.
    const MIN_NORMAL: f64;

    /// `self * a + b` with a single rounding.
    fn mul_add(self, a: Self, b: Self) -> Self;

    /// Calls the backend's batch entry point for this type ([`Backend::gemm_batch_f32`] or
    /// [`Backend::gemm_batch_f64`]).
    fn gemm_batch<B: Backend + ?Sized>(backend: &B, batch: Batch<'_, Self>) -> Result<()>;
}

/// [`Element::gemm`] for one element type: the backend's entry point `$method`.
macro_rules! element_gemm {
    ($method:ident) => {
        fn gemm<B: Backend + ?Sized>(
            backend: &B,
            alpha: Self::Acc,
            a: MatRef<'_, Self>,
            b: MatRef<'_, Self>,
            beta: Self::Acc,
            c: MatMut<'_, Self::Acc>,
        ) -> Result<()> {
            backend.$method(alpha, a, b, beta, c)
        }
    };
}

macro_rules! impl_scalar {
    ($t:ident, $dtype:ident, $method:ident, $batch:ident, $prefix:literal, $mantissa_bits:literal) => {
        impl Element for $t {
            type Acc = $t;
            const DTYPE: Dtype = Dtype::$dtype;
            const ZERO: Self = 0.0;
            const NAN: Self = $t::NAN;

            #[inline(always)]
            fn to_acc(self) -> Self {
                self
            }
            #[inline(always)]
            fn widen_slice(src: &[Self], dst: &mut [Self]) {
                dst.copy_from_slice(src);
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            element_gemm!($method);
        }

        impl Scalar for $t {
            const BLAS_PREFIX: char = $prefix;
            const ONE: Self = 1.0;
            const UNIT_ROUNDOFF: f64 = $t::EPSILON as f64 / 2.0;
            const MIN_SUBNORMAL: f64 = $t::MIN_POSITIVE as f64 / (1u64 << ($mantissa_bits - 1)) as f64;
            const MIN_NORMAL: f64 = $t::MIN_POSITIVE as f64;

            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                $t::mul_add(self, a, b)
            }

            fn gemm_batch<B: Backend + ?Sized>(backend: &B, batch: Batch<'_, Self>) -> Result<()> {
                backend.$batch(batch)
            }
        }
    };
}

impl_scalar!(f32, F32, gemm_f32, gemm_batch_f32, 's', 24);
impl_scalar!(f64, F64, gemm_f64, gemm_batch_f64, 'd', 53);

macro_rules! impl_half {
    ($t:ident, $dtype:ident, $method:ident, $flushes:literal) => {
        impl Element for half::$t {
            type Acc = f32;
            const DTYPE: Dtype = Dtype::$dtype;
            const MAY_FLUSH_SUBNORMALS: bool = $flushes;
            const ZERO: Self = half::$t::ZERO;
            const NAN: Self = half::$t::NAN;

            #[inline(always)]
            fn to_acc(self) -> f32 {
                self.to_f32()
            }
            #[inline]
            fn widen_slice(src: &[Self], dst: &mut [f32]) {
                half::slice::HalfFloatSliceExt::convert_to_f32_slice(src, dst);
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self.to_f64()
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                half::$t::from_f64(x)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                half::$t::is_nan(self)
            }
            element_gemm!($method);
        }
    };
}

impl_half!(bf16, Bf16, gemm_bf16, true);
impl_half!(f16, F16, gemm_f16, false);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_types_widen_exactly_to_f32() {
        use half::{bf16, f16};
        // Every bit pattern of each half type widens to the f32 of the same value, one by
        // one and through the slice conversion alike.
        let bf: Vec<bf16> = (0..=u16::MAX).map(bf16::from_bits).collect();
        let hf: Vec<f16> = (0..=u16::MAX).map(f16::from_bits).collect();
        let (mut wb, mut wh) = (vec![0f32; bf.len()], vec![0f32; hf.len()]);
        bf16::widen_slice(&bf, &mut wb);
        f16::widen_slice(&hf, &mut wh);
        for i in 0..bf.len() {
            let (b, h) = (bf[i], hf[i]);
            assert!(b.is_nan() == wb[i].is_nan() && b.is_nan() == b.to_acc().is_nan(), "bf16 {:#06x}", b.to_bits());
            assert!(b.is_nan() || (wb[i] == b.to_acc() && wb[i] as f64 == b.to_f64()), "bf16 {:#06x}", b.to_bits());
            assert!(h.is_nan() == wh[i].is_nan() && h.is_nan() == h.to_acc().is_nan(), "f16 {:#06x}", h.to_bits());
            assert!(h.is_nan() || (wh[i] == h.to_acc() && wh[i] as f64 == h.to_f64()), "f16 {:#06x}", h.to_bits());
        }
        // bf16 is the top half of an f32.
        assert_eq!(bf16::from_bits(0x3f81).to_acc().to_bits(), 0x3f81_0000);
    }

    #[test]
    fn constants_match_ieee() {
        assert_eq!(f32::UNIT_ROUNDOFF, 2f64.powi(-24));
        assert_eq!(f64::UNIT_ROUNDOFF, 2f64.powi(-53));
        assert_eq!(f32::MIN_SUBNORMAL, 2f64.powi(-149));
        assert_eq!(f64::MIN_SUBNORMAL, 2f64.powi(-1074));
    }
}
