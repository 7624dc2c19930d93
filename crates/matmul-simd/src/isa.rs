//! Which instruction sets this CPU has, detected once per process.
//!
//! The kernels are compiled for every instruction set whatever the build's target
//! features (`#[target_feature]` on each kernel), and one is chosen at run time from what
//! [`detected`] reports. The bench's peak measurement uses the same detection, so a
//! "peak" and a kernel never disagree about which instructions the CPU has.

use std::sync::OnceLock;

/// An instruction set a family of microkernels is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// AVX-512F: 32 vector registers of 512 bits (Zen 4, Intel since Skylake-X).
    Avx512,
    /// AVX2 with FMA: 16 registers of 256 bits (every x86-64 CPU of the last decade).
    Avx2,
    /// The `wide` crate's vectors, whose instructions are fixed at compile time (SSE2
    /// without fused multiply-add on a default x86-64 build; NEON with FMA on aarch64).
    Portable,
}

impl Isa {
    /// Every instruction set, best first.
    pub const ALL: [Isa; 3] = [Isa::Avx512, Isa::Avx2, Isa::Portable];

    /// The short name: `avx512`, `avx2`, `portable` (also the values of
    /// [`KERNEL_ENV`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }

    /// The CPU features the kernels need, as `is_x86_feature_detected!` names them.
    pub fn required_features(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512f",
            Isa::Avx2 => "avx2+fma",
            Isa::Portable => "",
        }
    }

    /// Whether this CPU (and its OS, which must save the wider registers) can run the
    /// kernels. Cached: the first call asks the CPU, later calls read a flag.
    pub fn is_supported(self) -> bool {
        let flags = flags();
        match self {
            Isa::Avx512 => flags.avx512f,
            Isa::Avx2 => flags.avx2_fma,
            Isa::Portable => true,
        }
    }

    /// Parses a [`KERNEL_ENV`] value.
    pub fn parse(value: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.as_str() == value.trim())
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The environment variable that forces the `simd` backend's instruction set:
/// `MATMUL_SIMD_KERNEL=avx512|avx2|portable`. Read once, at the first call.
pub const KERNEL_ENV: &str = "MATMUL_SIMD_KERNEL";

#[derive(Clone, Copy, Debug)]
struct Flags {
    avx512f: bool,
    avx2_fma: bool,
}

fn flags() -> Flags {
    static FLAGS: OnceLock<Flags> = OnceLock::new();
    *FLAGS.get_or_init(|| {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            // `is_x86_feature_detected!` also checks that the OS saves the registers
            // (XCR0), so a VM that hides AVX-512 state reports false here.
            Flags {
                // Every CPU with AVX-512F also has AVX2 and FMA; requiring them keeps a VM
                // that masks them from reaching the gemv's avx512f+avx2+fma code.
                avx512f: std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma"),
                avx2_fma: std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            }
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        {
            Flags { avx512f: false, avx2_fma: false }
        }
    })
}

/// The best instruction set this CPU supports.
pub fn detected() -> Isa {
    Isa::ALL.into_iter().find(|isa| isa.is_supported()).unwrap_or(Isa::Portable)
}

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

    #[test]
    fn detected_is_supported_and_best() {
        let best = detected();
        assert!(best.is_supported());
        assert!(Isa::ALL.iter().take_while(|&&isa| isa != best).all(|isa| !isa.is_supported()));
    }
}
