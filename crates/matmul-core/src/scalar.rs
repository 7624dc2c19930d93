//! The element types a backend multiplies.

use std::fmt::{Debug, Display};
use std::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub};

use crate::{Backend, Dtype, MatMut, MatRef, Result};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: `f32` or `f64`.
///
/// Sealed: a backend implements exactly these two types, through
/// [`Backend::gemm_f32`] and [`Backend::gemm_f64`]. Generic code reaches the right one
/// through [`Scalar::gemm`].
pub trait Scalar:
    sealed::Sealed
    + bytemuck::Pod
    + Copy
    + Default
    + Debug
    + Display
    + PartialEq
    + PartialOrd
    + Send
    + Sync
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + MulAssign
    + 'static
{
    /// The element type's one name across the workspace (bench, results, CUDA table).
    const DTYPE: Dtype;
    /// `"f32"` or `"f64"`: [`Self::DTYPE`]'s name.
    const NAME: &'static str = Self::DTYPE.as_str();
    /// The BLAS prefix letter: `'s'` or `'d'`.
    const BLAS_PREFIX: char = Self::DTYPE.blas_prefix();
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
    /// Not a number.
    const NAN: Self;
    /// Unit roundoff u = 2^-p (half the machine epsilon): the largest relative error of
    /// one correctly rounded operation.
    const UNIT_ROUNDOFF: f64;
    /// The smallest positive subnormal: the absolute error an underflowing operation
    /// can add is at most half of it.
    const MIN_SUBNORMAL: f64;

    /// Exact widening conversion.
    fn to_f64(self) -> f64;
    /// Rounding conversion.
    fn from_f64(x: f64) -> Self;
    /// `self * a + b` with a single rounding.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Whether `self` is NaN.
    fn is_nan(self) -> bool;

    /// Calls the backend's entry point for this element type.
    fn gemm<B: Backend + ?Sized>(
        backend: &B,
        alpha: Self,
        a: MatRef<'_, Self>,
        b: MatRef<'_, Self>,
        beta: Self,
        c: MatMut<'_, Self>,
    ) -> Result<()>;
}

macro_rules! impl_scalar {
    ($t:ident, $dtype:ident, $method:ident, $mantissa_bits:literal) => {
        impl Scalar for $t {
            const DTYPE: Dtype = Dtype::$dtype;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAN: Self = $t::NAN;
            const UNIT_ROUNDOFF: f64 = $t::EPSILON as f64 / 2.0;
            const MIN_SUBNORMAL: f64 = $t::MIN_POSITIVE as f64 / (1u64 << ($mantissa_bits - 1)) as f64;

            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                $t::mul_add(self, a, b)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            fn gemm<B: Backend + ?Sized>(
                backend: &B,
                alpha: Self,
                a: MatRef<'_, Self>,
                b: MatRef<'_, Self>,
                beta: Self,
                c: MatMut<'_, Self>,
            ) -> Result<()> {
                backend.$method(alpha, a, b, beta, c)
            }
        }
    };
}

impl_scalar!(f32, F32, gemm_f32, 24);
impl_scalar!(f64, F64, gemm_f64, 53);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_ieee() {
        assert_eq!(f32::UNIT_ROUNDOFF, 2f64.powi(-24));
        assert_eq!(f64::UNIT_ROUNDOFF, 2f64.powi(-53));
        assert_eq!(f32::MIN_SUBNORMAL, 2f64.powi(-149));
        assert_eq!(f64::MIN_SUBNORMAL, 2f64.powi(-1074));
    }
}
