//! Synthetic histories for the tests: the points `compare` tracks for two backends, six
//! process medians each with ±2 % of deterministic noise, one entry per commit on one
//! machine and toolchain.

use std::path::PathBuf;

use matmul_bench_format::runner::Machine;
use matmul_bench_format::Dtype;

use super::Entry;
use crate::compare::record::{TrackedPoint, TrackedProvenance, TrackedRun, TRACKED_SCHEMA};

/// Processes per point, as `compare --pairs 6` measures.
const PROCESSES: usize = 6;

/// Backend and its GFLOP/s on this imaginary machine.
const BACKENDS: [(&str, f64); 2] = [("simd", 60.0), ("naive-ikj", 4.0)];

/// A generator of noise in [-1, 1), the same for the same seed (xorshift64*).
fn noise(seed: u64) -> f64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
    r as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// The entry of commit number `commit`, made at `commit_time`, where the time of each
/// point is multiplied by `slow(label)`.
pub fn entry(commit: u64, commit_time: i64, slow: impl Fn(&str) -> f64) -> Entry {
    let mut points = Vec::new();
    for (backend, gflops) in BACKENDS {
        for dtype in [Dtype::F32, Dtype::F64] {
            for layout in ["rrr", "ccc"].map(|l| l.parse::<matmul_bench_format::Layouts>().expect("a layout")) {
                for n in [256, 1024] {
                    let mut p = TrackedPoint {
                        backend: backend.into(),
                        dtype,
                        layout,
                        m: n,
                        n,
                        k: n,
                        threads: 1,
                        seconds: Vec::new(),
                    };
                    let per_call = p.shape().flops() / (gflops * 1e9) * slow(&p.label());
                    let salt = commit * 1000 + points.len() as u64 * PROCESSES as u64;
                    p.seconds = (0..PROCESSES as u64).map(|i| per_call * (1.0 + 0.02 * noise(salt + i))).collect();
                    points.push(p);
                }
            }
        }
    }
    let provenance = TrackedProvenance {
        revision: "main".into(),
        commit: format!("{commit:07}{}", "f".repeat(33)),
        subject: format!("commit number {commit} <of the series>"),
        commit_time,
        rustc: "rustc 1.95.0".into(),
        codegen: "-C target-cpu=native".into(),
        machine: Machine { cpu: "AMD EPYC".into(), cores: 2, features: vec!["avx2".into()], ..Machine::default() },
    };
    let run = TrackedRun { schema: TRACKED_SCHEMA, provenance, points };
    Entry { file: PathBuf::from(format!("{commit_time}-{commit:012}.json")), run }
}

/// `count` commits an hour apart, commit `i` with times multiplied by `slow(i, label)`.
pub fn series(count: usize, slow: impl Fn(usize, &str) -> f64) -> Vec<Entry> {
    (0..count).map(|i| entry(i as u64 + 1, 1_700_000_000 + 3600 * i as i64, |label| slow(i, label))).collect()
}

/// A new temporary folder holding `files` (name, entry).
pub fn write_dir(tag: &str, files: &[(&str, Entry)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-history-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, e) in files {
        e.run.save(&dir.join(name)).unwrap();
    }
    dir
}
