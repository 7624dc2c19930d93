//! A GPU's theoretical GEMM peak, from its compute capability, SM count and clock.
//!
//! peak = SMs × max SM clock × FMAs per SM per clock × 2 flops. The FMAs per SM per clock
//! are those of NVIDIA's architecture whitepapers for each compute capability, in the
//! precision the backends compute in (pure FP32 and FP64: no TF32, no reduced precision):
//!
//! | compute capability | GPUs            | FP32 | FP64 (FMA units) | FP64 (tensor cores, DMMA) | BF16/FP16 in, FP32 accumulate (tensor cores, dense) |
//! |--------------------|-----------------|------|------------------|---------------------------|------------------------------------------------------|
//! | 7.0                | V100            | 64   | 32               | —                         | — (no bf16)                                          |
//! | 8.0                | A100, A30       | 64   | 32               | 64                        | 1024                                                 |
//! | 8.6, 8.7, 8.9      | RTX 30/40, L4, L40, Orin | 128 | 2             | —                         | — (differs between GeForce and data-centre parts)    |
//! | 9.0                | H100, H200, GH200 | 128 | 64              | 128                       | 2048                                                 |
//!
//! The f64 peak is the faster of the two f64 paths, so the tensor-core kernel (`cuda-dmma`)
//! and cuBLAS dgemm can approach 100 % while an FMA-only f64 kernel tops out at half of it
//! on 8.0 and 9.0: that gap is what the DMMA step is for. A compute capability outside the
//! table has no peak (the report shows none) rather than a guessed one.
//!
//! The bf16 and f16 peak (A and B in 16 bits, C and the sums in f32) follows the same rule:
//! the faster path, the tensor cores (HMMA with FP32 accumulation), which is what cuBLAS's
//! `cublasGemmEx` with `CUBLAS_COMPUTE_32F` may use. Our `cuda-warptile` kernel widens the
//! inputs to f32 and multiplies with FP32 FMAs, so its own ceiling is the **FP32** peak,
//! 1/16 of the half peak on 9.0: its `% of peak` in half inputs reads at most ~6 %. On
//! 9.0 the model gives 1070 TFLOP/s at the H200's 1980 MHz maximum clock; NVIDIA's data
//! sheets quote 989 TFLOP/s (dense), the same rate at 1830 MHz. A compute capability with
//! no half rate in the table has no half peak.

use crate::kernels::Dtype;

/// FMAs per SM per clock of one compute capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmRates {
    /// FP32 FMA lanes.
    pub fp32: u32,
    /// FP64 FMA lanes.
    pub fp64: u32,
    /// FP64 FMAs per clock through the tensor cores (`mma.sync` with f64 operands), where
    /// they outrun the FMA units.
    pub fp64_tensor: Option<u32>,
    /// Dense BF16 and FP16 FMAs per clock through the tensor cores with FP32 accumulation,
    /// where the part has one rate for both on record.
    pub half_tensor: Option<u32>,
}

/// The table above, or `None` for a compute capability it does not know.
pub fn sm_rates(compute_capability: (u32, u32)) -> Option<SmRates> {
    let r = |fp32, fp64, fp64_tensor, half_tensor| Some(SmRates { fp32, fp64, fp64_tensor, half_tensor });
    match compute_capability {
        (7, 0) => r(64, 32, None, None),
        (8, 0) => r(64, 32, Some(64), Some(1024)),
        (8, 6) | (8, 7) | (8, 9) => r(128, 2, None, None),
        (9, 0) => r(128, 64, Some(128), Some(2048)),
        _ => None,
    }
}

/// A theoretical peak and how it was derived.
#[derive(Clone, Debug, PartialEq)]
pub struct TheoreticalPeak {
    /// GFLOP/s.
    pub gflops: f64,
    /// The derivation, e.g. `132 SMs × 1980 MHz × 128 FP64 tensor-core FMA/clk × 2`.
    pub basis: String,
}

/// The peak of `dtype` on a GPU of `compute_capability` with `sms` SMs at `clock_mhz`, or
/// why there is none.
pub fn theoretical_peak(
    compute_capability: (u32, u32),
    sms: u32,
    clock_mhz: u32,
    dtype: Dtype,
) -> Result<TheoreticalPeak, String> {
    let (major, minor) = compute_capability;
    let rates = sm_rates(compute_capability)
        .ok_or_else(|| format!("no FMA rates on record for compute capability {major}.{minor}"))?;
    if sms == 0 || clock_mhz == 0 {
        return Err(format!("the device reports {sms} SMs at {clock_mhz} MHz"));
    }
    let (fmas, unit) = match (dtype, rates.fp64_tensor) {
        (Dtype::F32, _) => (rates.fp32, "FP32"),
        (Dtype::F64, Some(tensor)) if tensor > rates.fp64 => (tensor, "FP64 tensor-core"),
        (Dtype::F64, _) => (rates.fp64, "FP64"),
        (Dtype::Bf16 | Dtype::F16, _) => match rates.half_tensor {
            Some(tensor) => (tensor, "BF16/FP16 tensor-core (FP32 accumulate)"),
            None => {
                return Err(format!("no {dtype} tensor-core rate on record for compute capability {major}.{minor}"))
            }
        },
    };
    Ok(TheoreticalPeak {
        gflops: f64::from(sms) * f64::from(clock_mhz) * f64::from(fmas) * 2.0 / 1000.0,
        basis: format!("{sms} SMs × {clock_mhz} MHz × {fmas} {unit} FMA/clk × 2"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_h200_peaks_match_its_data_sheet() {
        // 132 SMs at 1980 MHz: 66.9 TFLOP/s FP32 and 66.9 FP64 tensor core (the FMA units
        // alone: 33.5), as NVIDIA's H100/H200 SXM data sheets give.
        let f32 = theoretical_peak((9, 0), 132, 1980, Dtype::F32).unwrap();
        let f64 = theoretical_peak((9, 0), 132, 1980, Dtype::F64).unwrap();
        assert!((f32.gflops - 66_908.16).abs() < 0.01, "{f32:?}");
        assert!((f64.gflops - 66_908.16).abs() < 0.01, "{f64:?}");
        assert_eq!(f64.basis, "132 SMs × 1980 MHz × 128 FP64 tensor-core FMA/clk × 2");
    }

    #[test]
    fn a100_and_consumer_parts() {
        // A100: 108 SMs at 1410 MHz, 19.5 TFLOP/s FP32 and FP64 tensor core.
        let a100 = theoretical_peak((8, 0), 108, 1410, Dtype::F64).unwrap();
        assert!((a100.gflops - 19_491.84).abs() < 0.01);
        // An RTX 4090 (8.9): f64 at 1/64 of f32, no DMMA advantage.
        let f32 = theoretical_peak((8, 9), 128, 2520, Dtype::F32).unwrap().gflops;
        let f64 = theoretical_peak((8, 9), 128, 2520, Dtype::F64).unwrap().gflops;
        assert!((f32 / f64 - 64.0).abs() < 1e-9);
    }

    #[test]
    fn half_inputs_peak_on_the_tensor_cores_where_the_table_has_them() {
        // H200: 132 SMs × 1980 MHz × 2048 × 2; the FP32 peak our widening kernel can reach
        // is 1/16 of it. A100: 312 TFLOP/s, its data sheet's dense BF16/FP16 figure.
        for dtype in [Dtype::Bf16, Dtype::F16] {
            let h200 = theoretical_peak((9, 0), 132, 1980, dtype).unwrap();
            assert!((h200.gflops - 1_070_530.56).abs() < 0.01, "{h200:?}");
            assert_eq!(h200.basis, "132 SMs × 1980 MHz × 2048 BF16/FP16 tensor-core (FP32 accumulate) FMA/clk × 2");
            let f32 = theoretical_peak((9, 0), 132, 1980, Dtype::F32).unwrap();
            assert_eq!(h200.gflops / f32.gflops, 16.0);
            let a100 = theoretical_peak((8, 0), 108, 1410, dtype).unwrap();
            assert!((a100.gflops - 311_869.44).abs() < 0.01, "{a100:?}");
            let e = theoretical_peak((8, 9), 128, 2520, dtype).unwrap_err();
            assert!(e.contains("8.9") && e.contains(dtype.as_str()), "{e}");
        }
    }

    #[test]
    fn unknown_devices_have_no_peak() {
        let e = theoretical_peak((12, 0), 170, 2400, Dtype::F32).unwrap_err();
        assert!(e.contains("12.0"), "{e}");
        assert!(theoretical_peak((9, 0), 0, 1980, Dtype::F32).is_err());
        assert!(theoretical_peak((9, 0), 132, 0, Dtype::F64).is_err());
    }
}
