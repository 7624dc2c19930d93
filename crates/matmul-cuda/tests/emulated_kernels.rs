//! Every kernel configuration, its own CUDA C source unchanged, run on the CPU.
//!
//! `tests/emulator/cuda_emu.h` maps the CUDA C the kernels use onto C++ threads and
//! barriers (one OS thread per CUDA thread; `cp.async` and the f64 `mma.sync` emulated by
//! their PTX semantics, see that header). For each row of [`CONFIGS`] this test compiles
//! header + `KernelConfig::source()` + `tests/emulator/launcher.cpp` with the system C++
//! compiler, twice:
//!
//! * **memcheck**: AddressSanitizer + UndefinedBehaviorSanitizer, aborting on the first
//!   report. Each matrix is an allocation of exactly its size, so a stray index, a
//!   misaligned vector load or a misaligned `cp.async` fails the test, as
//!   `compute-sanitizer --tool memcheck` would on the GPU. The cases (below) put every
//!   configuration through partial tiles in m, n and k, aligned and unaligned rows (the
//!   vector and the element paths), odd and even numbers of k slices (both buffers of a
//!   double-buffered kernel), α, β, and β = 0 with C full of NaN (C must stay unread);
//!   each result is judged by the project's one error bound, through the same host path
//!   (`host::run_packed`) the CUDA backends use.
//! * **racecheck**: ThreadSanitizer on two cases: a data race between two barriers in
//!   shared memory (a missing `__syncthreads`) fails the test.
//! * **banks**: the shared-memory bank model. Built with `-fsanitize=kernel-address` and
//!   every check a call, so the emulator's hooks see each load and store; those into
//!   `__shared__` arrays (one linker section) are recorded for block (0, 0) of a
//!   whole-tile product. The i-th access of the 32 lanes of a warp is one warp
//!   instruction, served in 128-byte phases (a warp for 4-byte, a half-warp for 8-byte, a
//!   quarter-warp for 16-byte accesses); a bank asked for k distinct words takes k
//!   wavefronts. The test prints loads, stores and `cp.async` copies against the
//!   conflict-free ideal for every configuration, the figure `ncu` reports as shared bank
//!   conflicts, and holds the kernels to what their comments promise: the warp-tiled
//!   kernel's swizzled stage and the DMMA kernel's padded fragment loads are
//!   conflict-free, and so are step 2's shared reads.
//!
//! What this proves and what it does not: the kernels' index arithmetic, guards, shared
//! layouts (the swizzle included), pipeline order and fragment layouts are right by the
//! PTX ISA's definitions of `cp.async` and `mma.m8n8k4.f64`. The asm strings that emit
//! those instructions, the hardware's behaviour and every speed are checked only on a GPU
//! (`tests/availability.rs`, `cargo xtask check`, the bench).
//!
//! `MATMUL_EMULATED_CONFIGS=warptile` (any part of a label) runs only the configurations
//! whose label contains it, while working on one kernel.
//!
//! A machine without a C++ compiler skips these tests with a message, unless
//! `MATMUL_REQUIRE_EMULATOR=1` (as `.ci/run` sets), which makes that a failure.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use matmul_core::half::{bf16, f16};
use matmul_core::testing::{run_case, Case, OperandLayout};
use matmul_core::{Backend, BackendKind, Element, Error, MatMut, MatRef, Result};
use matmul_cuda::host::{self, HostGemm, Packed, Staging};
use matmul_cuda::kernels::{Dtype, Kernel, KernelConfig, CONFIGS};

const EMULATION_HEADER: &str = include_str!("emulator/cuda_emu.h");
const LAUNCHER: &str = include_str!("emulator/launcher.cpp");

/// The flags of every build: C++20 for `std::barrier`, debug information for the
/// sanitizers' reports, no strict aliasing (the kernels load `vec_t` through `T*`).
const COMMON_FLAGS: &[&str] =
    &["-std=c++20", "-O1", "-g", "-pthread", "-fno-strict-aliasing", "-fno-omit-frame-pointer"];

/// The two builds of each configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Check {
    Memcheck,
    Racecheck,
    /// The shared-memory bank model: every shared access of block (0, 0) recorded.
    Banks,
}

impl Check {
    fn name(self) -> &'static str {
        match self {
            Check::Memcheck => "memcheck",
            Check::Racecheck => "racecheck",
            Check::Banks => "banks",
        }
    }

    fn sanitizer_flags(self) -> &'static [&'static str] {
        match self {
            Check::Memcheck => &["-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
            Check::Racecheck => &["-fsanitize=thread"],
            // Kernel-address instrumentation with every check a call: the emulator's own
            // hooks receive each load and store, and no sanitizer runtime is linked.
            Check::Banks => &[
                "-DMATMUL_EMU_BANKS",
                "-fsanitize=kernel-address",
                "--param=asan-instrumentation-with-call-threshold=0",
                "--param=asan-stack=0",
                "--param=asan-globals=0",
            ],
        }
    }

    /// Seconds a launch may take before the watchdog calls it a deadlock.
    fn watchdog_seconds(self) -> u32 {
        match self {
            Check::Memcheck => 120,
            Check::Racecheck => 600,
            Check::Banks => 120,
        }
    }
}

/// The C++ compiler, or `None` (with the reason printed) when this machine has none and
/// the emulator is not required.
fn compiler() -> Option<String> {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    let found = Command::new(&cxx).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    match found {
        Ok(status) if status.success() => Some(cxx),
        _ if std::env::var("MATMUL_REQUIRE_EMULATOR").as_deref() == Ok("1") => {
            panic!("MATMUL_REQUIRE_EMULATOR=1 but no C++ compiler runs as `{cxx}` (set CXX, or install g++)")
        }
        _ => {
            eprintln!("skipped: no C++ compiler runs as `{cxx}`, so the kernels cannot be emulated here");
            None
        }
    }
}

/// A file-name-safe form of a configuration's label.
fn slug(config: &KernelConfig) -> String {
    config.label().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

/// Compiles one configuration's emulator; the error holds the compiler's output.
fn build(cxx: &str, config: &KernelConfig, check: Check) -> std::result::Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("emulated-kernels");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let stem = format!("{}-{}", slug(config), check.name());
    let source = dir.join(format!("{stem}.cpp"));
    let exe = dir.join(stem);
    let flags: Vec<&str> = COMMON_FLAGS.iter().chain(check.sanitizer_flags()).copied().collect();
    // The compiler and its flags head the source, so a build is reused only when all of
    // it is unchanged.
    let text = format!(
        "// {cxx} {}\n{EMULATION_HEADER}\n{}\n#define MATMUL_ENTRY {}\n{LAUNCHER}",
        flags.join(" "),
        config.source(),
        config.kernel().entry()
    );
    if exe.exists() && std::fs::read_to_string(&source).is_ok_and(|old| old == text) {
        return Ok(exe);
    }
    std::fs::write(&source, &text).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&exe);
    let out = Command::new(cxx).args(&flags).arg(&source).arg("-o").arg(&exe).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(exe)
    } else {
        Err(format!(
            "{} ({}) does not compile:\n{}",
            config.label(),
            check.name(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// One running emulator process, serving launches over its stdin and stdout.
struct Emulator {
    config: &'static KernelConfig,
    io: Mutex<(BufWriter<ChildStdin>, BufReader<ChildStdout>)>,
}

impl Emulator {
    fn spawn(exe: &Path, config: &'static KernelConfig, check: Check) -> (Emulator, Child) {
        let mut child = Command::new(exe)
            .arg(check.watchdog_seconds().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        let stdin = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        (Emulator { config, io: Mutex::new((stdin, stdout)) }, child)
    }

    /// The device step of `host::run_packed`: one emulated launch with the geometry the
    /// real launcher uses (`KernelConfig::grid`, `KernelConfig::block`).
    fn launch<E: Element>(&self, p: Packed<'_, E>) -> Result<()> {
        let fail = |what: String| Error::backend(self.name(), what);
        let (gx, gy) = self.config.grid(p.dims.m, p.dims.n).ok_or_else(|| fail("grid too large".into()))?;
        let [m, n, k] = p.dims.as_i32();
        let mut io = self.io.lock().unwrap_or_else(|e| e.into_inner());
        let (stdin, stdout) = &mut *io;
        let mut request = Vec::new();
        for v in [gx, gy, self.config.block().0, self.config.block().1] {
            request.extend_from_slice(&v.to_le_bytes());
        }
        for v in [m, n, k] {
            request.extend_from_slice(&v.to_le_bytes());
        }
        // α and β in E::Acc, A and B in E, C in E::Acc, as the launcher reads them.
        for &v in [p.alpha, p.beta].iter() {
            put(&mut request, v);
        }
        for &v in p.a.iter().chain(p.b) {
            put(&mut request, v);
        }
        for &v in p.c.iter() {
            put(&mut request, v);
        }
        let sent = stdin.write_all(&request).and_then(|()| stdin.flush());
        sent.map_err(|e| fail(format!("the emulator stopped taking launches: {e}")))?;
        let width = std::mem::size_of::<E::Acc>();
        let mut reply = vec![0u8; std::mem::size_of_val(p.c)];
        stdout.read_exact(&mut reply).map_err(|e| fail(format!("the emulator gave no result: {e}")))?;
        for (c, bytes) in p.c.iter_mut().zip(reply.chunks_exact(width)) {
            *c = get(bytes);
        }
        Ok(())
    }

    fn gemm<E: Element>(
        &self,
        alpha: E::Acc,
        a: MatRef<'_, E>,
        b: MatRef<'_, E>,
        beta: E::Acc,
        c: MatMut<'_, E::Acc>,
    ) -> Result<()> {
        if E::DTYPE != self.config.dtype {
            return Err(Error::backend(
                self.name(),
                format!("this configuration is compiled for {}", self.config.dtype.as_str()),
            ));
        }
        let (mut ab, mut cb) = (Vec::new(), Vec::new());
        let (ab, cb) = (&mut ab, &mut cb);
        let gemm = HostGemm { alpha, a, b, beta, c };
        host::run_packed(
            self.name(),
            gemm,
            move |ab_len, c_len| Ok(Staging { ab: nan_filled(ab, ab_len), c: nan_filled(cb, c_len) }),
            |p| self.launch(p),
        )
    }
}

/// A staging buffer of `len` elements full of NaN (whatever a pinned buffer held before),
/// so a kernel that reads C under β = 0 shows.
fn nan_filled<T: Element>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    buf.clear();
    buf.resize(len, T::NAN);
    &mut buf[..]
}

/// Appends `v` in its own type, little-endian (a half type's value through f64 is exact).
fn put<E: Element>(out: &mut Vec<u8>, v: E) {
    let x = v.to_f64();
    match E::DTYPE {
        Dtype::F32 => out.extend_from_slice(&(x as f32).to_le_bytes()),
        Dtype::F64 => out.extend_from_slice(&x.to_le_bytes()),
        Dtype::Bf16 => out.extend_from_slice(&bf16::from_f64(x).to_bits().to_le_bytes()),
        Dtype::F16 => out.extend_from_slice(&f16::from_f64(x).to_bits().to_le_bytes()),
    }
}

/// Reads one element of C (f32 or f64).
fn get<T: Element>(bytes: &[u8]) -> T {
    match bytes.len() {
        4 => T::from_f64(f32::from_le_bytes(bytes.try_into().expect("4 bytes")) as f64),
        _ => T::from_f64(f64::from_le_bytes(bytes.try_into().expect("8 bytes"))),
    }
}

impl Backend for Emulator {
    fn name(&self) -> &'static str {
        "emulated-kernel"
    }
    fn description(&self) -> &'static str {
        "a CUDA kernel configuration run on the CPU by tests/emulator"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Loops
    }
    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.gemm(alpha, a, b, beta, c));
    matmul_core::gemm_methods!(half | this, alpha, a, b, beta, c | this.gemm(alpha, a, b, beta, c));
}

/// The cases of one configuration, from its tile shape (`tm × tn` per block, `bk` per k
/// slice); `vec` is the kernels' `VEC`, the elements of the accumulator type per 16-byte
/// vector: 4 for f32 and the half inputs, 2 for f64.
fn cases(config: &KernelConfig, check: Check) -> Vec<Case> {
    let (tm, tn, bk) = (config.tile_m() as usize, config.tile_n() as usize, config.tiles.k_slice() as usize);
    let vec = 16 / config.dtype.accumulator().size_bytes();
    let r = OperandLayout::RowMajor;
    let case = |(m, n, k): (usize, usize, usize), (alpha, beta, nan_in_c): (f64, f64, bool), seed| Case {
        m,
        n,
        k,
        layouts: [r, r, r],
        alpha,
        beta,
        nan_in_c,
        seed,
    };
    let plain = (1.0, 0.0, false);
    let scaled = (-0.5, 2.0, false);
    let accumulate = (1.0, 1.0, false);
    let nan_c = (2.0, 0.0, true);
    match check {
        Check::Memcheck => vec![
            // One element: every thread but one is outside C.
            case((1, 1, 1), nan_c, 1),
            // Exactly one block and one k slice, every row a whole number of vectors.
            case((tm, tn, bk), plain, 2),
            // A partial block in m and n, and an odd k: the element-wise load paths.
            case((tm + 1, tn + 1, bk + 1), scaled, 3),
            // Two blocks down, a thin C, an even number of k slices, β = 0 over NaN.
            case((2 * tm - 1, 3, 2 * bk), nan_c, 4),
            // Three blocks across; k a multiple of the vector width but not of the slice,
            // n not: vector loads for A, element loads for B.
            case((3, 2 * tn + 5, 3 * bk + vec), accumulate, 5),
            // n a multiple of the vector width, k not: the other way round.
            case((tm + 3, tn + vec, 5 * bk + 1), scaled, 6),
            // Sizes that fit no tile at all.
            case((17, 33, 31), scaled, 7),
            // A long k: many slices through both buffers.
            case((5, 7, 37 * bk + 3), accumulate, 8),
        ],
        Check::Racecheck => vec![case((tm + 1, tn + 1, 2 * bk + 1), scaled, 11), case((tm, 2 * tn, 3 * bk), nan_c, 12)],
        // Whole tiles, rows of whole vectors: the path large products take.
        Check::Banks => vec![case((2 * tm, 2 * tn, 4 * bk), plain, 21)],
    }
}

/// Runs `check` on every selected configuration; fails the test on a wrong result, a
/// sanitizer report or a crash. Returns each configuration's extra output (the bank
/// model's report).
fn run_check(check: Check) -> Vec<(&'static KernelConfig, String)> {
    let Some(cxx) = compiler() else { return Vec::new() };
    // Compile every configuration in parallel, then run them in turn.
    // MATMUL_EMULATED_CONFIGS=dmma (say) runs only the configurations whose label has it.
    let only = std::env::var("MATMUL_EMULATED_CONFIGS").unwrap_or_default();
    let selected = CONFIGS.iter().filter(|c| c.label().contains(only.as_str()));
    let builds: Vec<(&'static KernelConfig, std::result::Result<PathBuf, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = selected.map(|config| (config, s.spawn(|| build(&cxx, config, check)))).collect();
        handles.into_iter().map(|(config, h)| (config, h.join().expect("build thread"))).collect()
    });
    let mut failures = Vec::new();
    let mut reports = Vec::new();
    for (config, exe) in builds {
        let exe = match exe {
            Ok(exe) => exe,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let (emulator, child) = Emulator::spawn(&exe, config, check);
        let mut wrong = Vec::new();
        for case in cases(config, check) {
            let outcome = match config.dtype {
                Dtype::F32 => run_case::<f32>(&emulator, &case),
                Dtype::F64 => run_case::<f64>(&emulator, &case),
                Dtype::Bf16 => run_case::<bf16>(&emulator, &case),
                Dtype::F16 => run_case::<f16>(&emulator, &case),
            };
            if !outcome.passed() {
                wrong.push(format!("  {case}: {outcome}"));
                if outcome.error.is_some() {
                    break; // the process may be gone: its stderr below says why
                }
            }
        }
        // End the loop (a grid x of 0), read what the emulator printed after its last
        // reply, and collect what the sanitizers said.
        let mut report = String::new();
        if let Ok(mut io) = emulator.io.lock() {
            let _ = io.0.write_all(&[0u8; 16]).and_then(|()| io.0.flush());
            let _ = io.1.read_to_string(&mut report);
        }
        reports.push((config, report));
        drop(emulator);
        let out = child.wait_with_output().expect("emulator exit");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || !wrong.is_empty() || !stderr.trim().is_empty() {
            failures.push(format!(
                "{} under {}: exit {:?}\n{}\n{}",
                config.label(),
                check.name(),
                out.status,
                wrong.join("\n"),
                stderr.lines().take(60).collect::<Vec<_>>().join("\n")
            ));
        } else {
            eprintln!("{} under {}: {} cases passed", config.label(), check.name(), cases(config, check).len());
        }
    }
    assert!(failures.is_empty(), "{} configuration(s) failed:\n{}", failures.len(), failures.join("\n\n"));
    reports
}

#[test]
fn memcheck_every_configuration() {
    run_check(Check::Memcheck);
}

#[test]
fn racecheck_every_configuration() {
    run_check(Check::Racecheck);
}

/// One kind of access in the bank model's report: warp instructions, the wavefronts they
/// took, the wavefronts they would take without a conflict, and the worst instruction's
/// wavefronts per phase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct BankTotals {
    instructions: u64,
    wavefronts: u64,
    ideal: u64,
    worst: u64,
}

impl BankTotals {
    fn excess(&self) -> f64 {
        if self.ideal == 0 {
            1.0
        } else {
            self.wavefronts as f64 / self.ideal as f64
        }
    }
}

/// The emulator's `banks KIND instructions=… wavefronts=… ideal=… worst=…` line of `kind`.
fn bank_totals(report: &str, kind: &str) -> BankTotals {
    let line = report
        .lines()
        .find(|l| l.starts_with(&format!("banks {kind} ")))
        .unwrap_or_else(|| panic!("no {kind} line in the bank report:\n{report}"));
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    BankTotals {
        instructions: field("instructions"),
        wavefronts: field("wavefronts"),
        ideal: field("ideal"),
        worst: field("worst"),
    }
}

#[test]
fn shared_memory_bank_conflicts() {
    let reports = run_check(Check::Banks);
    eprintln!(
        "{:<72} {:>22} {:>22} {:>22}",
        "configuration (block 0, whole tiles)", "loads (× ideal, worst)", "stores", "cp.async"
    );
    for (config, report) in &reports {
        assert!(report.contains("banks divergent_warps=0"), "{}: lanes of a warp diverged:\n{report}", config.label());
        let cell = |t: BankTotals| format!("{} ({:.2}×, {})", t.instructions, t.excess(), t.worst);
        let [loads, stores, copies] = ["load", "store", "cp.async"].map(|k| bank_totals(report, k));
        eprintln!("{:<72} {:>22} {:>22} {:>22}", config.label(), cell(loads), cell(stores), cell(copies));
        // What the kernels' comments promise.
        match config.kernel() {
            // The swizzled A stage: conflict-free transposing stores and vector reads.
            Kernel::WarpTile => {
                assert_eq!(loads.wavefronts, loads.ideal, "{}: {loads:?}", config.label());
                assert_eq!(stores.wavefronts, stores.ideal, "{}: {stores:?}", config.label());
            }
            // The padded rows: conflict-free fragment loads.
            Kernel::Dmma => assert_eq!(loads.wavefronts, loads.ideal, "{}: {loads:?}", config.label()),
            // Step 2's shared reads: a broadcast and 32 consecutive words.
            Kernel::Tiled => assert_eq!(loads.wavefronts, loads.ideal, "{}: {loads:?}", config.label()),
            _ => {}
        }
    }
}

/// The emulator's half types widen exactly: every one of the 2¹⁶ bit patterns of bf16 and
/// of f16, through `__bfloat162float` and `__half2float` of `tests/emulator/cuda_emu.h`,
/// gives the f32 the `half` crate gives (any NaN for a NaN). The kernels' results in half
/// inputs rest on these conversions, so they are checked on their own.
#[test]
fn emulated_half_conversions_are_exact() {
    let Some(cxx) = compiler() else { return };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("emulated-kernels");
    std::fs::create_dir_all(&dir).unwrap();
    let (source, exe) = (dir.join("half-conversions.cpp"), dir.join("half-conversions"));
    let program = r#"
int main() {
    for (unsigned bits = 0; bits < 65536; ++bits) {
        __nv_bfloat16 b{static_cast<unsigned short>(bits)};
        __half h{static_cast<unsigned short>(bits)};
        float out[2] = {__bfloat162float(b), __half2float(h)};
        std::fwrite(out, sizeof out, 1, stdout);
    }
}
"#;
    std::fs::write(&source, format!("{EMULATION_HEADER}\n{program}")).unwrap();
    let flags: Vec<&str> = COMMON_FLAGS.iter().chain(Check::Memcheck.sanitizer_flags()).copied().collect();
    let built = Command::new(&cxx).args(&flags).arg(&source).arg("-o").arg(&exe).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success() && run.stderr.is_empty(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(run.stdout.len(), 65536 * 8);
    let mut wrong = Vec::new();
    for (bits, pair) in (0..=u16::MAX).zip(run.stdout.chunks_exact(8)) {
        let got = [0, 4].map(|at| f32::from_le_bytes(pair[at..at + 4].try_into().unwrap()));
        let want = [bf16::from_bits(bits).to_f32(), f16::from_bits(bits).to_f32()];
        for ((name, g), w) in ["bf16", "f16"].into_iter().zip(got).zip(want) {
            let same = if w.is_nan() { g.is_nan() } else { g.to_bits() == w.to_bits() };
            if !same {
                wrong.push(format!("{name} {bits:#06x}: emulator {g:e} ({:#010x}), half {w:e}", g.to_bits()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} conversions differ:\n{}",
        wrong.len(),
        wrong.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
    eprintln!("bf16 and f16 -> f32: all 65536 bit patterns of each exact");
}
