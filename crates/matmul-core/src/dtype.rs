//! The one name for an element type that every layer shares: the bench's `--dtype`, the
//! results files, the CUDA kernel table, `cargo xtask asm`, the report.
//!
//! [`Scalar::DTYPE`](crate::Scalar::DTYPE) ties each element type to its `Dtype`, so
//! generic code asks `T::DTYPE` instead of comparing type names. The text form (`f32`,
//! `f64`) is what `--dtype` takes and what the results files hold; lists of them parse
//! with [`Dtype::parse_list`] (`f32,f64` or `all`).

use std::fmt;
use std::str::FromStr;

/// An element type of a product: the type of A and B ([`Element::DTYPE`](crate::Element::DTYPE)).
/// The variants are the element types the backends multiply; a new one (c32, c64) is
/// added here once and every layer that matches on it is pointed to by the compiler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Dtype {
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
    /// bfloat16 inputs ([`half::bf16`]: 8 exponent bits, 8 significand bits), with C, α, β
    /// and the arithmetic in `f32`.
    Bf16,
    /// IEEE binary16 inputs ([`half::f16`]: 5 exponent bits, 11 significand bits), with C,
    /// α, β and the arithmetic in `f32`.
    F16,
}

impl Dtype {
    /// Every element type, in report order.
    pub const ALL: [Dtype; 4] = [Dtype::F32, Dtype::F64, Dtype::Bf16, Dtype::F16];

    /// The lower-case name: `f32`, `f64`, `bf16`, `f16` (as `--dtype` takes and the results
    /// files hold).
    pub const fn as_str(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
            Dtype::Bf16 => "bf16",
            Dtype::F16 => "f16",
        }
    }

    /// Bytes of one element of A or B.
    pub const fn size_bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
            Dtype::Bf16 | Dtype::F16 => 2,
        }
    }

    /// The type of C, α, β and the arithmetic ([`Element::Acc`](crate::Element::Acc)):
    /// itself for `f32` and `f64`, `f32` for the half types.
    pub const fn accumulator(self) -> Dtype {
        match self {
            Dtype::F32 | Dtype::Bf16 | Dtype::F16 => Dtype::F32,
            Dtype::F64 => Dtype::F64,
        }
    }

    /// Whether A and B are stored in 16 bits and widened to `f32` (bf16, f16).
    pub const fn is_half(self) -> bool {
        matches!(self, Dtype::Bf16 | Dtype::F16)
    }

    /// The BLAS routine prefix of the accumulator type: `s` (sgemm) or `d` (dgemm).
    pub const fn blas_prefix(self) -> char {
        match self.accumulator() {
            Dtype::F64 => 'd',
            _ => 's',
        }
    }

    /// The BLAS-style name of the product, as reports print it: `sgemm`, `dgemm`, and for
    /// half inputs with f32 output OpenBLAS's `sbgemm` (bf16) and `shgemm` (f16).
    pub const fn routine(self) -> &'static str {
        match self {
            Dtype::F32 => "sgemm",
            Dtype::F64 => "dgemm",
            Dtype::Bf16 => "sbgemm",
            Dtype::F16 => "shgemm",
        }
    }

    /// Parses a comma-separated list of names, or `all` for [`Dtype::ALL`]; repeated
    /// names are kept once, in the order first given.
    ///
    /// ```
    /// use matmul_core::Dtype;
    /// assert_eq!(Dtype::parse_list("f64,f32").unwrap(), [Dtype::F64, Dtype::F32]);
    /// assert_eq!(Dtype::parse_list("all").unwrap(), Dtype::ALL);
    /// assert!(Dtype::parse_list("f32,f8").is_err());
    /// ```
    pub fn parse_list(list: &str) -> Result<Vec<Dtype>, UnknownDtype> {
        parse_list(list, &Dtype::ALL)
    }
}

/// A comma-separated list of `T`'s names, or `all` for every one of `all`; each kept once,
/// in the order first given. An empty entry is an error of `T`'s parser.
pub(crate) fn parse_list<T: FromStr + Copy + PartialEq>(list: &str, all: &[T]) -> Result<Vec<T>, T::Err> {
    let mut out = Vec::new();
    for name in list.split(',') {
        let found: Vec<T> = if name.trim() == "all" { all.to_vec() } else { vec![name.parse()?] };
        for d in found {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    Ok(out)
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A name that is not an element type, with the names that are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown element type {name:?}: expected one of {}", Dtype::ALL.map(Dtype::as_str).join(", "))]
pub struct UnknownDtype {
    /// The name given.
    pub name: String,
}

impl FromStr for Dtype {
    type Err = UnknownDtype;

    fn from_str(s: &str) -> Result<Self, UnknownDtype> {
        let name = s.trim();
        Dtype::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownDtype { name: name.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Element, Scalar};

    #[test]
    fn each_scalar_names_its_dtype_and_the_names_round_trip() {
        assert_eq!(<f32 as Element>::DTYPE, Dtype::F32);
        assert_eq!(<f64 as Element>::DTYPE, Dtype::F64);
        assert_eq!(<half::bf16 as Element>::DTYPE, Dtype::Bf16);
        assert_eq!(<half::f16 as Element>::DTYPE, Dtype::F16);
        assert_eq!(Dtype::Bf16.size_bytes(), std::mem::size_of::<half::bf16>());
        assert_eq!(Dtype::F16.accumulator(), <<half::f16 as Element>::Acc as Element>::DTYPE);
        for d in Dtype::ALL {
            assert_eq!(d.as_str().parse::<Dtype>(), Ok(d));
            assert_eq!(d.to_string(), d.as_str());
        }
        assert_eq!(Dtype::F32.size_bytes(), std::mem::size_of::<f32>());
        assert_eq!(Dtype::F64.blas_prefix(), <f64 as Scalar>::BLAS_PREFIX);
    }

    #[test]
    fn a_list_keeps_the_given_order_once_and_names_a_bad_entry() {
        assert_eq!(Dtype::parse_list("f32, f64 ,f32").unwrap(), [Dtype::F32, Dtype::F64]);
        assert_eq!(Dtype::parse_list("f64,all").unwrap(), [Dtype::F64, Dtype::F32, Dtype::Bf16, Dtype::F16]);
        let e = Dtype::parse_list("f32,bf8").unwrap_err();
        assert_eq!(e.name, "bf8");
        assert!(e.to_string().contains("f32, f64, bf16, f16"), "{e}");
        assert!(Dtype::parse_list("").is_err());
    }
}
