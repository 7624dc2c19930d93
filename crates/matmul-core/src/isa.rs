//! The instruction sets this workspace's CPU code is written for, and which of them this
//! CPU has (detected once per process).
//!
//! The `simd` backend compiles its kernels for every instruction set whatever the
//! build's target features and picks one at run time from [`detected`]; the bench's
//! peak measurement uses the same type and the same detection, so a "peak" and a kernel
//! never disagree about which instructions the CPU has.

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

    /// The short name: `avx512`, `avx2`, `portable` (the values of the `simd` backend's
    /// `MATMUL_SIMD_KERNEL` and of the bench's `isa` field).
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

    /// Parses a short name ([`Isa::as_str`]).
    pub fn parse(value: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.as_str() == value.trim())
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug)]
struct Flags {
    avx512f: bool,
    avx2_fma: bool,
    avx512_bf16: bool,
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
                avx512_bf16: std::arch::is_x86_feature_detected!("avx512bf16"),
            }
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        {
            Flags { avx512f: false, avx2_fma: false, avx512_bf16: false }
        }
    })
}

/// Whether the CPU has AVX-512 BF16 (`vdpbf16ps`) beside [`Isa::Avx512`]'s features: the
/// `simd` backend then multiplies bf16 inputs with its bf16 pair kernel, and the bench
/// measures the bf16 peak with that instruction.
pub fn has_avx512_bf16() -> bool {
    let f = flags();
    f.avx512f && f.avx512_bf16
}

/// The best instruction set this CPU supports.
pub fn detected() -> Isa {
    Isa::ALL.into_iter().find(|isa| isa.is_supported()).unwrap_or(Isa::Portable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detected_is_supported_and_best() {
        let best = detected();
        assert!(best.is_supported());
        assert!(Isa::ALL.iter().take_while(|&&isa| isa != best).all(|isa| !isa.is_supported()));
    }

    #[test]
    fn names_round_trip() {
        for isa in Isa::ALL {
            assert_eq!(Isa::parse(isa.as_str()), Some(isa));
            assert_eq!(isa.to_string(), isa.as_str());
        }
        assert_eq!(Isa::parse("sse9"), None);
    }
}
