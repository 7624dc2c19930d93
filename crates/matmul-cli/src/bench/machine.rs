//! What the report's machine line says: CPU model, cores, instruction sets detected at run
//! time, and the instruction sets this binary was compiled to use.

/// The CPU model from `/proc/cpuinfo` (Linux), or the architecture name elsewhere.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

/// The nominal clock in GHz (the first `cpu MHz` of `/proc/cpuinfo`), if known. Only used to
/// sanity-check the measured peak: turbo and power management move the real clock.
pub fn cpu_ghz() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu MHz"))?;
    let mhz: f64 = line.split_once(':')?.1.trim().parse().ok()?;
    Some(mhz / 1000.0)
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
