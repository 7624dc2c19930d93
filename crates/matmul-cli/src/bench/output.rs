//! How this runner's backends and measurements become the bench format
//! (`matmul-bench-format`), which xtask reads: the one place the runner's types meet it.

use matmul::Backend;
use matmul_bench_format::runner::{Availability, BackendInfo, HotLoop, Measurement};
use matmul_bench_format::{Dtype, Experiment, Kind, Layouts, Shape};
use matmul_core::BackendKind;

use super::measure::Measured;

/// The bench kind of a backend.
pub fn kind(b: &dyn Backend) -> Kind {
    match b.kind() {
        BackendKind::Loops => Kind::Loops,
        BackendKind::Simd => Kind::Simd,
        BackendKind::Blas => Kind::Blas,
        BackendKind::Gpu => Kind::Gpu,
        BackendKind::Peer => Kind::Peer,
    }
}

/// The AVX-512 kernels of `matmul-simd`, packed and strided.
const AVX512: &[&str] = &[
    "matmul_simd::avx512::f64_avx512_24x8",
    "matmul_simd::avx512::f64_avx512_24x8_strided",
    "matmul_simd::avx512::f32_avx512_32x12",
    "matmul_simd::avx512::f32_avx512_32x12_strided",
    "matmul_simd::avx512::bf16_avx512_32x12",
];

/// The AVX2 kernels of `matmul-simd`, packed and strided.
const AVX2: &[&str] = &[
    "matmul_simd::avx2::f64_avx2_8x6",
    "matmul_simd::avx2::f64_avx2_8x6_strided",
    "matmul_simd::avx2::f32_avx2_16x6",
    "matmul_simd::avx2::f32_avx2_16x6_strided",
];

/// Where a backend's hot loop is, for `cargo xtask asm`. Kept beside the registry the
/// runner links, the one place that knows every backend; `None` for backends `asm` cannot
/// inspect (the peers: other crates' code).
pub fn hot_loop(b: &dyn Backend) -> Option<HotLoop> {
    let rust = |type_path: &str, kernels: &[&str]| HotLoop::Rust {
        package: type_path.split("::").next().expect("a path has a first segment").replace('_', "-"),
        type_path: type_path.to_owned(),
        kernels: kernels.iter().map(|k| k.to_string()).collect(),
    };
    let library = |library: &str| Some(HotLoop::Library { library: library.to_owned() });
    match b.name() {
        "naive-ijk" => Some(rust("matmul_naive::NaiveIjk", &["matmul_naive::ijk"])),
        "naive-ikj" => Some(rust("matmul_naive::NaiveIkj", &["matmul_naive::ikj"])),
        "naive-ijk-reassoc" => Some(rust(
            "matmul_naive::reassoc::NaiveIjkReassoc",
            &["matmul_naive::reassoc::ijk_reassoc", "matmul_naive::reassoc::dot"],
        )),
        // The SIMD kernels are not generic: each is one function whose name starts with its
        // dtype (`f64_avx512_24x8`), and each has a `_strided` twin that reads A unpacked
        // (the small-product path). `simd` shows the AVX-512 ones (the widest loop wins).
        "simd" => Some(rust("matmul_simd::Simd", &[AVX512, AVX2].concat())),
        "simd-avx512" => Some(rust("matmul_simd::Simd", AVX512)),
        "simd-avx2" => Some(rust("matmul_simd::Simd", AVX2)),
        "simd-portable" => Some(rust(
            "matmul_simd::Simd",
            &[
                "matmul_simd::portable::f64_portable_8x4",
                "matmul_simd::portable::f64_portable_8x4_strided",
                "matmul_simd::portable::f32_portable_16x4",
                "matmul_simd::portable::f32_portable_16x4_strided",
            ],
        )),
        "openblas" => library("libopenblas"),
        "blis" => library("libblis"),
        "mkl" => library("libmkl_rt"),
        _ => None,
    }
}

/// A backend as `list --json` prints it and a bench output lists it.
pub fn backend_info(b: &dyn Backend) -> BackendInfo {
    BackendInfo {
        name: b.name().to_owned(),
        kind: kind(b),
        description: b.description().to_owned(),
        details: b.details(),
        multithreaded: b.is_multithreaded(),
        availability: match b.availability() {
            matmul::Availability::Available => Availability::Available,
            matmul::Availability::Unavailable(why) => Availability::Unavailable { why },
        },
        hot_loop: hot_loop(b),
    }
}

/// Where a measurement was taken.
#[derive(Clone, Debug)]
pub struct At {
    pub dtype: Dtype,
    pub experiment: Experiment,
    pub shape: Shape,
    pub threads: usize,
    pub layout: Layouts,
}

/// One backend's measurement at a point, in the bench format.
pub fn measurement(backend: &str, at: &At, r: &Measured) -> Measurement {
    Measurement {
        backend: backend.to_owned(),
        dtype: at.dtype,
        experiment: at.experiment,
        m: at.shape.m,
        n: at.shape.n,
        k: at.shape.k,
        threads: at.threads,
        threads_used: None,
        layout: at.layout,
        seconds_median: r.median,
        seconds_min: r.min,
        samples: r.samples,
        calls: r.calls,
        max_err_over_bound: r.max_err_over_bound,
        checked_entries: r.checked,
        first_call_seconds: r.first_call,
        gpu: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `list --json` is what xtask parses: every backend of this runner round-trips, and
    /// every loop and BLAS backend says where its hot loop is (for `cargo xtask asm`).
    #[test]
    fn every_backend_lists_and_round_trips() {
        for b in super::super::contenders() {
            let info = backend_info(b);
            let text = serde_json::to_string(&info).unwrap();
            assert_eq!(serde_json::from_str::<BackendInfo>(&text).unwrap(), info);
            if matches!(info.kind, Kind::Loops | Kind::Blas) {
                assert!(info.hot_loop.is_some(), "{}: no hot loop in output::hot_loop", info.name);
            }
        }
    }
}
