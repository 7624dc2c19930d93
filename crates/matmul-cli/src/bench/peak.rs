//! The machine's peak: a floating-point FMA-throughput microbenchmark per element type, on
//! one core and on all cores.
//!
//! Each thread runs `CHAINS` independent accumulator chains `acc ← acc·x + y` on the widest
//! vectors the CPU has (AVX-512, else AVX2+FMA, else scalar multiply-add), chosen at run
//! time. An FMA has a latency of about 4–5 cycles and most cores issue two per cycle, so
//! at least 8–10 chains in flight are needed to keep both units busy; with fewer, the
//! benchmark would measure latency, not throughput. `x` is just below 1 and `y` small, so
//! the values converge and never overflow or go subnormal (which would slow some CPUs).
//!
//! bf16 on a CPU with AVX-512 BF16 is measured with the instruction the `simd` backend's
//! bf16 kernel runs, `vdpbf16ps` (`acc ← acc + x₀·y₀ + x₁·y₁` per f32 lane: 4 flops a lane,
//! twice an f32 FMA's); every other half-type case with the f32 FMA, which is what its
//! kernels run after widening.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use matmul_bench_format::runner::PeakRates;
pub use matmul_bench_format::Dtype;
use matmul_core::isa::{detected, Isa};

/// Vector lanes of `dtype` one FMA of `isa` works on. [`Isa::Portable`] is measured as a
/// scalar multiply-add loop: its vectors' width and whether they fuse are fixed at compile
/// time (see [`Isa::Portable`]), so the scalar rate is the one figure true on every target.
fn lanes(isa: Isa, dtype: Dtype) -> usize {
    match isa {
        Isa::Avx512 => 64 / dtype.size_bytes(),
        Isa::Avx2 => 32 / dtype.size_bytes(),
        Isa::Portable => 1,
    }
}

/// Runs `iters` iterations of `CHAINS` chains on `isa`, which must be supported; returns
/// flops done and a value that depends on every chain (so nothing can be optimised away).
/// (`f32`, `f64`, or `bf16` where [`bf16_dot`]: [`measure`] maps the other half cases to `f32`.)
fn run(isa: Isa, dtype: Dtype, iters: u64) -> (f64, f64) {
    assert!(isa.is_supported(), "the peak ran on {isa}, which this CPU lacks");
    assert!(!dtype.is_half() || (isa == Isa::Avx512 && bf16_dot(dtype)), "{dtype} has no peak of its own here");
    let flops = iters as f64 * CHAINS as f64 * lanes(isa, dtype) as f64 * 2.0;
    let sink = match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `is_supported` (asserted above) checked avx512f.
        Isa::Avx512 => unsafe {
            match dtype {
                Dtype::F64 => x86::f64_avx512(iters),
                // (`bf16_dot` checked avx512bf16: the assert above.)
                Dtype::Bf16 => x86::bf16_avx512(iters),
                _ => x86::f32_avx512(iters),
            }
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `is_supported` (asserted above) checked avx2 and fma.
        Isa::Avx2 => unsafe {
            match dtype {
                Dtype::F64 => x86::f64_avx2fma(iters),
                _ => x86::f32_avx2fma(iters),
            }
        },
        // Off x86-64 the x86 instruction sets are never supported (the assert above).
        _ => match dtype {
            Dtype::F64 => scalar::<f64>(iters, 0.999_999, 1e-6),
            _ => scalar::<f32>(iters, 0.999_9, 1e-4) as f64,
        },
    };
    (flops, sink)
}

/// Whether `dtype`'s peak is the bf16 dot-product instruction's: bf16 on a CPU with
/// AVX-512 BF16.
fn bf16_dot(dtype: Dtype) -> bool {
    dtype == Dtype::Bf16 && detected() == Isa::Avx512 && matmul_core::isa::has_avx512_bf16()
}

/// The instruction `dtype`'s peak is measured with, for the report: the instruction set,
/// and `vdpbf16ps` where [`bf16_dot`].
pub fn instruction(dtype: Dtype) -> String {
    if bf16_dot(dtype) {
        format!("{}, vdpbf16ps", isa())
    } else {
        isa().to_string()
    }
}

/// Independent accumulator chains per thread (see the module docs).
const CHAINS: usize = 12;

fn scalar<T>(iters: u64, x: T, y: T) -> T
where
    T: Copy + std::ops::Mul<Output = T> + std::ops::Add<Output = T> + From<f32>,
{
    let mut acc = [T::from(1.0); CHAINS];
    let (x, y) = (black_box(x), black_box(y));
    for _ in 0..black_box(iters) {
        for a in &mut acc {
            *a = *a * x + y;
        }
    }
    acc.iter().fold(T::from(0.0), |s, &a| s + a)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    use super::CHAINS;

    macro_rules! kernel {
        ($name:ident, $features:literal, $set1:ident, $fma:ident, $add:ident, $first:ident, $x:expr, $y:expr, $t:ty) => {
            /// `CHAINS` FMA chains for `iters` iterations.
            ///
            /// # Safety
            /// The CPU must support the target features named in the attribute.
            #[target_feature(enable = $features)]
            pub unsafe fn $name(iters: u64) -> f64 {
                let mut acc = [$set1(1.0); CHAINS];
                let (x, y) = ($set1(black_box($x)), $set1(black_box($y)));
                for _ in 0..black_box(iters) {
                    for a in &mut acc {
                        *a = $fma(*a, x, y);
                    }
                }
                let mut s = acc[0];
                for a in &acc[1..] {
                    s = $add(s, *a);
                }
                $first(s) as f64
            }
        };
    }

    kernel!(
        f64_avx2fma,
        "avx2,fma",
        _mm256_set1_pd,
        _mm256_fmadd_pd,
        _mm256_add_pd,
        _mm256_cvtsd_f64,
        0.999_999,
        1e-6,
        f64
    );
    kernel!(
        f32_avx2fma,
        "avx2,fma",
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        _mm256_cvtss_f32,
        0.999_9,
        1e-4,
        f32
    );
    kernel!(
        f64_avx512,
        "avx512f",
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_add_pd,
        _mm512_cvtsd_f64,
        0.999_999,
        1e-6,
        f64
    );
    kernel!(
        f32_avx512,
        "avx512f",
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_cvtss_f32,
        0.999_9,
        1e-4,
        f32
    );

    /// `CHAINS` `vdpbf16ps` chains for `iters` iterations: each adds `x₀·y₀ + x₁·y₁` (both
    /// 2⁻⁸·2⁻⁸) to every f32 lane, so a lane grows by 2⁻¹⁵ a step (until, past 2⁹, the
    /// additions round away): it never overflows and never goes subnormal.
    ///
    /// # Safety
    /// The CPU must support avx512f and avx512bf16.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub unsafe fn bf16_avx512(iters: u64) -> f64 {
        // 2⁻⁸ in bf16 is 0x3b80; two of them per 32-bit lane.
        let pair = black_box(0x3b80_3b80_u32 as i32);
        // SAFETY: __m512i and __m512bh are the same 64 bytes.
        let (x, y): (__m512bh, __m512bh) = unsafe {
            (
                std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(pair)),
                std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(pair)),
            )
        };
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..black_box(iters) {
            for a in &mut acc {
                *a = _mm512_dpbf16_ps(*a, x, y);
            }
        }
        let mut s = acc[0];
        for a in &acc[1..] {
            s = _mm512_add_ps(s, *a);
        }
        _mm512_cvtss_f32(s) as f64
    }
}

/// Iterations that take about `target` on one thread.
fn calibrate(isa: Isa, dtype: Dtype, target: Duration) -> u64 {
    let mut iters = 1u64 << 12;
    loop {
        let start = Instant::now();
        black_box(run(isa, dtype, iters));
        let took = start.elapsed();
        if took >= target / 8 || iters >= 1 << 40 {
            let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-9);
            return ((iters as f64 * scale) as u64).max(1);
        }
        iters *= 4;
    }
}

/// Best GFLOP/s of `repeats` runs of `threads` threads, each doing `iters` iterations,
/// started together at a barrier. Each worker reads the clock itself: the main thread
/// would be one thread too many on a busy machine and could be descheduled while the
/// workers run, which would shorten the measured time.
fn best_gflops(isa: Isa, dtype: Dtype, iters: u64, threads: usize, repeats: usize) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..repeats {
        let barrier = Barrier::new(threads);
        let spans: Vec<(Instant, Instant, f64)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let start = Instant::now();
                        let (flops, sink) = run(isa, dtype, iters);
                        black_box(sink);
                        (start, Instant::now(), flops)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("peak thread")).collect()
        });
        let start = spans.iter().map(|s| s.0).min().expect("at least one thread");
        let end = spans.iter().map(|s| s.1).max().expect("at least one thread");
        let flops: f64 = spans.iter().map(|s| s.2).sum();
        best = best.max(flops / (end - start).as_secs_f64() / 1e9);
    }
    best
}

/// The instruction set [`measure`] uses on this CPU: the `simd` backend's own choice,
/// [`matmul_core::isa::detected`], so a kernel and the peak it is compared with agree.
pub fn isa() -> Isa {
    detected()
}

/// Measures one element type's peak on one thread and on `cores` threads; each run takes
/// about `per_run`, three runs each, and the best is kept (the peak is a maximum: noise
/// only ever lowers it).
///
/// bf16 with AVX-512 BF16 is measured on `vdpbf16ps` ([`bf16_dot`]), the instruction of the
/// `simd` backend's bf16 kernel; the other half cases as their accumulator, `f32`, whose
/// FMAs their kernels run after widening.
pub fn measure(dtype: Dtype, cores: usize, per_run: Duration) -> PeakRates {
    let dtype = if bf16_dot(dtype) { dtype } else { dtype.accumulator() };
    let isa = detected();
    let iters = calibrate(isa, dtype, per_run);
    let one = best_gflops(isa, dtype, iters, 1, 3);
    let all = if cores > 1 { best_gflops(isa, dtype, iters, cores, 3) } else { one };
    PeakRates { one, all }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_compute_what_they_claim() {
        // Every ISA path must compute the same recurrence: after n steps of acc ← acc·x + y
        // from 1 the result is a fixed number, so a kernel that skipped work would differ.
        for isa in Isa::ALL.into_iter().filter(|isa| isa.is_supported()) {
            let (flops, sink) = run(isa, Dtype::F64, 100);
            assert_eq!(flops, 100.0 * CHAINS as f64 * lanes(isa, Dtype::F64) as f64 * 2.0);
            let mut expect = 1.0f64;
            for _ in 0..100 {
                expect = expect.mul_add(0.999_999, 1e-6);
            }
            // The sum of CHAINS identical chains (lane 0 of each).
            assert!((sink - CHAINS as f64 * expect).abs() < 1e-9, "{isa}: {sink} vs {}", CHAINS as f64 * expect);
        }
    }

    #[test]
    fn the_bf16_chain_adds_two_products_per_lane() {
        if !bf16_dot(Dtype::Bf16) {
            eprintln!("skipped: this CPU lacks avx512bf16");
            return;
        }
        let (flops, sink) = run(Isa::Avx512, Dtype::Bf16, 100);
        // 16 lanes × 2 products × 2 flops per instruction.
        assert_eq!(flops, 100.0 * CHAINS as f64 * 64.0);
        // Each chain: 1 + 100·2·2⁻¹⁶, exact in f32; the sum of CHAINS of them (lane 0).
        assert_eq!(sink, CHAINS as f64 * (1.0 + 100.0 * 2.0 * 2f64.powi(-16)));
        let rates = measure(Dtype::Bf16, 1, Duration::from_millis(5));
        assert!(rates.one > 0.0);
    }

    #[test]
    fn measures_a_positive_rate() {
        let p = measure(Dtype::F32, 2, Duration::from_millis(5));
        assert!(p.one > 0.0 && p.all > 0.0);
    }
}
