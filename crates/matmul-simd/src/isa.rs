//! Which instruction set the `simd` backend runs.
//!
//! The kernels are compiled for every instruction set whatever the build's target
//! features (`#[target_feature]` on each kernel), and one is chosen at run time from what
//! [`detected`] reports, unless [`KERNEL_ENV`] forces one. [`Isa`] and [`detected`] are
//! `matmul_core::isa`'s, which the bench's peak measurement uses too, as is
//! [`has_avx512_bf16`], which picks the bf16 pair kernel.

use std::sync::OnceLock;

pub use matmul_core::isa::{detected, has_avx512_bf16, Isa};

/// The environment variable that forces the `simd` backend's instruction set:
/// `MATMUL_SIMD_KERNEL=avx512|avx2|portable`. Read once, at the first call.
pub const KERNEL_ENV: &str = "MATMUL_SIMD_KERNEL";

/// What the `simd` backend runs: [`detected`], or the instruction set [`KERNEL_ENV`]
/// forces. An error (the reason the backend is unavailable) when the variable names an
/// unknown instruction set or one this CPU lacks. Read once per process.
pub fn selected() -> Result<Isa, String> {
    static SELECTED: OnceLock<Result<Isa, String>> = OnceLock::new();
    SELECTED.get_or_init(|| select(std::env::var(KERNEL_ENV).ok().as_deref())).clone()
}

/// [`selected`]'s rule for a given value of the variable.
fn select(forced: Option<&str>) -> Result<Isa, String> {
    match forced.map(str::trim) {
        None | Some("") => Ok(detected()),
        Some(value) => match Isa::parse(value) {
            Some(isa) if isa.is_supported() => Ok(isa),
            Some(isa) => Err(format!("{KERNEL_ENV}={value}, but this CPU lacks {}", isa.required_features())),
            None => Err(format!("{KERNEL_ENV}={value} is not one of avx512, avx2, portable")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_forces_or_is_refused() {
        assert_eq!(select(None), Ok(detected()));
        assert_eq!(select(Some("")), Ok(detected()));
        assert_eq!(select(Some("portable")), Ok(Isa::Portable));
        assert!(select(Some("sse9")).unwrap_err().contains("not one of"));
        for isa in Isa::ALL {
            match select(Some(isa.as_str())) {
                Ok(chosen) => assert_eq!(chosen, isa),
                Err(reason) => {
                    assert!(!isa.is_supported());
                    assert!(reason.contains(isa.required_features()), "{reason}");
                }
            }
        }
    }
}
