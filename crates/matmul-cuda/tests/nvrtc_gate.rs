//! The NVRTC compile gate: every kernel, dtype and tile configuration compiled to sm_90
//! machine code, with a spill or shared memory over budget failing the test.
//!
//! Needs no GPU, only libnvrtc 13 on the loader path (see docs/cuda.md). Without it the
//! test says so and passes, unless `MATMUL_REQUIRE_NVRTC=1` (set by `.ci/run`), when it
//! fails: CI can never pass the gate without running it.

use matmul_cuda::kernels::CONFIGS;
use matmul_cuda::nvrtc;

/// The architecture the gate compiles for: the H200 the kernels are measured on.
const ARCH: &str = "sm_90";

#[test]
fn every_kernel_compiles_for_sm_90_without_spills_within_its_smem_budget() {
    if !nvrtc::is_present() {
        let required = std::env::var("MATMUL_REQUIRE_NVRTC").is_ok_and(|v| v == "1");
        assert!(!required, "MATMUL_REQUIRE_NVRTC=1 but {}", nvrtc::missing());
        eprintln!(
            "\n!!! NVRTC compile gate SKIPPED: {}\n!!! (set MATMUL_REQUIRE_NVRTC=1 to make this a failure)\n",
            nvrtc::missing()
        );
        return;
    }
    let (major, minor) = nvrtc::version().expect("NVRTC version");
    let mut options = nvrtc::base_options(ARCH);
    options.extend(nvrtc::NO_SPILL_OPTIONS.iter().map(|s| s.to_string()));

    use std::fmt::Write as _;
    let mut failures = Vec::new();
    // The table is printed in one piece at the end, not interleaved with the other test's lines.
    let mut table = format!("NVRTC {major}.{minor}, target {ARCH}\n");
    writeln!(table, "{:<78} {:>5} {:>7} {:>7} {:>6}  result", "configuration", "regs", "smem", "budget", "spill")
        .unwrap();
    for config in CONFIGS {
        let label = config.label();
        let entry = config.kernel().entry();
        let budget = config.smem_budget();
        match nvrtc::compile_cubin(&config.source(), &format!("{entry}.cu"), &options) {
            Ok(compiled) => match nvrtc::parse_resources(&compiled.log, entry) {
                Some(r) => {
                    let spill = r.spill_stores + r.spill_loads;
                    let ok = spill == 0 && r.smem_bytes <= budget && !compiled.cubin.is_empty();
                    writeln!(
                        table,
                        "{label:<78} {:>5} {:>7} {:>7} {:>6}  {}",
                        r.registers,
                        r.smem_bytes,
                        budget,
                        spill,
                        if ok { "ok" } else { "FAIL" }
                    )
                    .unwrap();
                    if !ok {
                        failures.push(format!("{label}: {r:?} (budget {budget} bytes smem)"));
                    }
                }
                None => failures.push(format!("{label}: no ptxas report for {entry} in the log:\n{}", compiled.log)),
            },
            Err(e) => {
                writeln!(table, "{label:<78} compile error").unwrap();
                failures.push(format!("{label}: {e}"));
            }
        }
    }
    print!("{table}");
    assert!(failures.is_empty(), "{} configuration(s) failed the gate:\n{}", failures.len(), failures.join("\n\n"));
}

/// The gate must notice what it is there to catch: a kernel that spills does not compile
/// with the gate's options, and one over the shared-memory budget does not either.
#[test]
fn the_gate_rejects_a_spilling_kernel_and_oversized_shared_memory() {
    if !nvrtc::is_present() {
        let required = std::env::var("MATMUL_REQUIRE_NVRTC").is_ok_and(|v| v == "1");
        assert!(!required, "MATMUL_REQUIRE_NVRTC=1 but {}", nvrtc::missing());
        eprintln!("\n!!! NVRTC gate self-test SKIPPED: {}\n", nvrtc::missing());
        return;
    }
    let mut options = nvrtc::base_options(ARCH);
    options.extend(nvrtc::NO_SPILL_OPTIONS.iter().map(|s| s.to_string()));

    // 64 live doubles (128 registers) under a 32-register cap.
    let spilling = r#"
extern "C" __global__ void __launch_bounds__(1024, 2) spills(const double* a, double* c, int k) {
    double acc[64];
#pragma unroll
    for (int i = 0; i < 64; ++i) acc[i] = a[i * 1024 + threadIdx.x];
    for (int p = 0; p < k; ++p) {
#pragma unroll
        for (int i = 0; i < 64; ++i) acc[i] = acc[i] * acc[(i + 1) % 64] + a[p];
    }
#pragma unroll
    for (int i = 0; i < 64; ++i) c[i * 1024 + threadIdx.x] = acc[i];
}
"#;
    let e = nvrtc::compile_cubin(spilling, "spills.cu", &options).expect_err("a spilling kernel must not compile");
    println!("spilling kernel rejected: {}", e.what);
    // Without the no-spill options the same kernel compiles and reports its spills.
    let plain =
        nvrtc::compile_cubin(spilling, "spills.cu", &nvrtc::base_options(ARCH)).expect("compiles without the gate");
    let r = nvrtc::parse_resources(&plain.log, "spills").expect("ptxas report");
    assert!(r.spill_stores > 0, "{r:?}");

    // 64 KiB of static shared memory: over the 48 KiB static limit.
    let big_smem = r#"
extern "C" __global__ void big(float* c) {
    __shared__ float s[16384];
    s[threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    c[threadIdx.x] = s[16383 - threadIdx.x];
}
"#;
    match nvrtc::compile_cubin(big_smem, "big.cu", &options) {
        Err(e) => println!("oversized shared memory rejected: {}", e.what),
        Ok(c) => {
            let r = nvrtc::parse_resources(&c.log, "big").expect("ptxas report");
            assert!(
                r.smem_bytes > matmul_cuda::kernels::STATIC_SMEM_BUDGET,
                "the gate's parse must see {r:?} over budget"
            );
        }
    }
}
