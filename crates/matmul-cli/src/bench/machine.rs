//! What the report's machine line says: CPU model, cores, instruction sets detected at run
//! time, the instruction sets this binary was compiled to use, and the theoretical
//! one-core peak where the microarchitecture is known.

use matmul_bench_format::runner::Theoretical;

/// The CPU model from `/proc/cpuinfo` (Linux), or the architecture name elsewhere.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| cpuinfo_field(&text, "model name"))
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

/// The field `key` of the first processor in `/proc/cpuinfo`.
fn cpuinfo_field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// f64 FLOP per cycle of one core, by microarchitecture: FMA pipes × f64 lanes per pipe ×
/// 2. The width of the pipes, not of the widest instruction set, decides it: Zen 4 runs
/// AVX-512 on two 256-bit pipes, so it does 16, as with AVX2. Only parts whose pipes are
/// the same across the family are listed (Zen 5 and the AVX-512 Xeons have one or two
/// 512-bit FMA units depending on the model, so they are left out).
pub fn flops_per_cycle(vendor: &str, family: u32, model: u32) -> Option<(&'static str, f64)> {
    match (vendor, family) {
        ("AuthenticAMD", 0x17) if model < 0x30 => Some(("Zen / Zen+", 8.0)),
        ("AuthenticAMD", 0x17) => Some(("Zen 2", 16.0)),
        ("AuthenticAMD", 0x19) if matches!(model, 0x10..=0x1f | 0x60..=0x7f | 0xa0..=0xaf) => Some(("Zen 4", 16.0)),
        ("AuthenticAMD", 0x19) => Some(("Zen 3", 16.0)),
        // Haswell, Broadwell, Skylake to Comet Lake clients: two 256-bit FMA units.
        ("GenuineIntel", 6)
            if matches!(
                model,
                0x3c | 0x3f | 0x45 | 0x46 | 0x3d | 0x47 | 0x4f | 0x56 | 0x4e | 0x5e | 0x8e | 0x9e | 0xa5 | 0xa6
            ) =>
        {
            Some(("Haswell to Comet Lake", 16.0))
        }
        _ => None,
    }
}

/// The theoretical one-core peak from [`flops_per_cycle`] and the maximum clock
/// (`cpuinfo_max_freq`; the current `cpu MHz` moves with load and power management), or
/// why it is not known here.
pub fn theoretical() -> Theoretical {
    let Ok(text) = std::fs::read_to_string("/proc/cpuinfo") else {
        return Theoretical::Unknown { why: "no /proc/cpuinfo".to_owned() };
    };
    let vendor = cpuinfo_field(&text, "vendor_id").unwrap_or_default();
    let family = cpuinfo_field(&text, "cpu family").and_then(|v| v.parse().ok()).unwrap_or(0);
    let model = cpuinfo_field(&text, "model").and_then(|v| v.parse().ok()).unwrap_or(0);
    let Some((microarch, per_cycle)) = flops_per_cycle(&vendor, family, model) else {
        return Theoretical::Unknown {
            why: format!("{vendor} family {family:#x} model {model:#x} is not in the microarchitecture table"),
        };
    };
    let max_khz: Option<f64> = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
        .ok()
        .and_then(|v| v.trim().parse().ok());
    match max_khz {
        Some(khz) => {
            Theoretical::Table { microarch: microarch.to_owned(), f64_flops_per_cycle: per_cycle, max_ghz: khz / 1e6 }
        }
        None => Theoretical::Unknown {
            why: format!(
                "{microarch}, {per_cycle} f64 FLOP/cycle, but the maximum clock is unknown (no cpuinfo_max_freq)"
            ),
        },
    }
}

/// Hardware threads this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The instruction-set extensions relevant to GEMM that this CPU has, detected at run time.
pub fn features() -> Vec<String> {
    let mut out = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! detect {
            ($($f:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($f) {
                    out.push($f.to_owned());
                }
            )*};
        }
        detect!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "avx512f",
            "avx512vl",
            "avx512dq",
            "avx512bw",
            "avx512vnni",
            "avx512bf16"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            out.push("neon".to_owned());
        }
        if std::arch::is_aarch64_feature_detected!("sve") {
            out.push("sve".to_owned());
        }
    }
    out
}

/// The vector extensions this binary was compiled to use everywhere (`-C target-cpu=native`
/// turns these on at compile time; a portable build has none beyond the baseline).
pub fn compiled_features() -> Vec<String> {
    let mut out = Vec::new();
    if cfg!(target_feature = "avx") {
        out.push("avx".to_owned());
    }
    if cfg!(target_feature = "avx2") {
        out.push("avx2".to_owned());
    }
    if cfg!(target_feature = "fma") {
        out.push("fma".to_owned());
    }
    if cfg!(target_feature = "avx512f") {
        out.push("avx512f".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report's theoretical peak was 2× too high on Zen 4: its AVX-512 runs on two
    /// 256-bit pipes, 16 f64 FLOP per cycle as with AVX2.
    #[test]
    fn zen4_does_16_f64_flops_per_cycle_not_32() {
        assert_eq!(flops_per_cycle("AuthenticAMD", 0x19, 0x11), Some(("Zen 4", 16.0)));
        assert_eq!(flops_per_cycle("AuthenticAMD", 0x19, 0x61), Some(("Zen 4", 16.0)));
        assert_eq!(flops_per_cycle("AuthenticAMD", 0x19, 0x01), Some(("Zen 3", 16.0)));
        assert_eq!(flops_per_cycle("AuthenticAMD", 0x17, 0x01), Some(("Zen / Zen+", 8.0)));
        assert_eq!(flops_per_cycle("AuthenticAMD", 0x1a, 0x02), None, "Zen 5 parts differ: not guessed");
        assert_eq!(flops_per_cycle("GenuineIntel", 6, 0x55), None, "AVX-512 Xeons differ: not guessed");
    }

    #[test]
    fn cpuinfo_fields_match_whole_keys() {
        let text = "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n";
        assert_eq!(cpuinfo_field(text, "model").as_deref(), Some("17"));
        assert_eq!(cpuinfo_field(text, "model name").as_deref(), Some("AMD EPYC"));
        assert_eq!(cpuinfo_field(text, "cpu family").as_deref(), Some("25"));
    }
}
