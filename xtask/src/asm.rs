//! `cargo xtask asm BACKEND [--dtype f64] [--llvm]`: the machine code of a backend's hot
//! loop as it is in the linked runner, a one-line verdict on it, and the list of
//! monomorphised instances.
//!
//! The code that runs is not the code a crate's own compile emits: the release profile has
//! thin LTO, so the kernels are optimised once more when the runner is linked (inlined into
//! their callers, unrolled and scheduled again). `asm` therefore builds the runner as
//! `bench` does (same features, release profile, `-C target-cpu=native` or the features
//! given with `--target-feature`), adding only v0 symbol mangling (which keeps generic
//! arguments in the symbol, so each instance has a stable, demangleable name; it does not
//! change the code), disassembles it with `objdump`, lists the backend's functions, finds
//! the innermost loops of the chosen instances, takes the hot one (the widest packed
//! arithmetic, then the most arithmetic per iteration: the main body rather than a
//! remainder loop) and classifies its instructions.
//!
//! `--llvm` prints the kernel's LLVM IR from the crate compiled on its own (no LTO): the IR
//! before link-time optimisation, which may still change it.
//!
//! Backends whose hot loop is not Rust compiled here (BLAS libraries) get a plain statement
//! of where it lives. Where each backend's hot loop is comes from the runner
//! (`matmul-cli list --json`), which links the backends; xtask keeps no list of its own.

mod parse;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use matmul_bench_format::options::DtypeList;
use matmul_bench_format::runner::HotLoop as Source;
use matmul_bench_format::Dtype;

use crate::runner::{self, workspace_root, BuildArgs};
use parse::{Function, Line, Verdict};

/// Options of `cargo xtask asm`.
#[derive(Debug, clap::Args)]
pub struct AsmArgs {
    /// Backend name, e.g. `naive-ikj`.
    backend: String,
    /// Element types of the instances to show, comma-separated (f32, f64), or `all`.
    #[arg(long, value_name = "LIST", default_value = "f64")]
    dtype: DtypeList,
    /// Print the kernel's LLVM IR instead of its assembly: from the crate compiled on its own,
    /// so before link-time optimisation (the assembly is the linked runner's).
    #[arg(long)]
    llvm: bool,
    /// Print the whole kernel function, not only its hot loop.
    #[arg(long)]
    full: bool,
    /// Compile for these target features (e.g. `+avx2,+fma`) instead of `-C target-cpu=native`.
    #[arg(long, value_name = "LIST")]
    target_feature: Option<String>,
    /// The runners asked where each backend's hot loop is.
    #[command(flatten)]
    build: BuildArgs,
}

/// How to compile: for this CPU, for a generic x86-64 (`--portable`), or with an explicit
/// feature list.
#[derive(Debug, Clone)]
pub enum Codegen {
    Native,
    Generic,
    Features(String),
}

impl Codegen {
    fn of(args: &AsmArgs) -> Codegen {
        match &args.target_feature {
            Some(f) => Codegen::Features(f.clone()),
            None if args.build.portable => Codegen::Generic,
            None => Codegen::Native,
        }
    }

    /// The `rustc` flags that select it.
    fn rustflags(&self) -> Vec<String> {
        match self {
            Codegen::Native => vec!["-C".into(), "target-cpu=native".into()],
            Codegen::Generic => vec![],
            Codegen::Features(f) => vec!["-C".into(), format!("target-feature={f}")],
        }
    }

    fn label(&self) -> String {
        match self {
            Codegen::Native => "-C target-cpu=native".to_owned(),
            Codegen::Generic => "generic x86-64".to_owned(),
            Codegen::Features(f) => format!("-C target-feature={f}"),
        }
    }
}

/// The LLVM IR of one `cargo rustc --emit llvm-ir` (before link-time optimisation).
#[derive(Debug)]
pub struct Emitted {
    pub llvm_ir: String,
}

/// The runner that holds a backend and where the backend's hot loop is.
struct Found {
    /// How that runner was built.
    build: BuildArgs,
    /// The runner as `bench` and `check` build and run it.
    binary: PathBuf,
    source: Source,
}

/// Where `name`'s hot loop is, from `list --json` of the runners (built as `bench` builds
/// them, first to last until one holds it).
fn hot_loop_of(name: &str, build: &BuildArgs) -> anyhow::Result<Found> {
    let mut names: Vec<String> = Vec::new();
    for runner in runner::runner_builds(build) {
        let binary = runner::build(&runner)?;
        let backends = runner::list(&binary)?;
        if let Some(info) = backends.iter().find(|b| b.name == name) {
            let source = info.hot_loop.clone().with_context(|| {
                format!("the runner does not say where {name}'s hot loop is (another crate's code)")
            })?;
            return Ok(Found { build: runner, binary, source });
        }
        names.extend(backends.into_iter().map(|b| b.name));
    }
    names.sort_unstable();
    names.dedup();
    bail!("unknown backend `{name}`; the runners built here have: {}", names.join(", "))
}

pub fn run(args: AsmArgs) -> anyhow::Result<()> {
    let name = args.backend.as_str();
    let codegen = Codegen::of(&args);
    let found = hot_loop_of(name, &args.build)?;
    let (package, type_path, kernels) = match found.source {
        Source::Rust { package, type_path, kernels } => (package, type_path, kernels),
        Source::Library { library } => {
            println!(
                "{name}: a BLAS backend; its hot loop is not Rust compiled here but machine code in a system library,"
            );
            match find_library(&library) {
                Some(path) => println!("  {path} (disassemble it with `objdump -d --no-show-raw-insn {path}`)"),
                None => println!("  {library}.so (not found by `ldconfig -p` on this machine)"),
            }
            println!("inner loop: in {library}.so, hand-written assembly kernels chosen at run time for this CPU");
            return Ok(());
        }
    };
    let kernels: Vec<&str> = kernels.iter().map(String::as_str).collect();
    let kernels = &kernels[..];
    // The runner `bench` runs, unless other target features were asked for: then the same
    // runner built with them (it may not run on this CPU, so it is not the one listed).
    let binary = match &codegen {
        Codegen::Features(features) => build_with_features(&found.build, features)?,
        Codegen::Native | Codegen::Generic => found.binary,
    };
    let functions = disassemble(&binary, |f| belongs(f, &type_path, kernels))?;

    // The monomorphised instances: every function of the backend's type and kernels that
    // is still a function of its own in the linked binary (LTO may inline one into its
    // caller). The binary's legacy symbols name a generic kernel without its arguments:
    // its arithmetic says which element type an instance is for.
    println!("monomorphised instances of {name} in the linked runner ({} functions):", functions.len());
    for f in &functions {
        let n = f.lines.iter().filter(|l| matches!(l, Line::Instruction { .. })).count();
        let arithmetic = f.elem_bits().map_or_else(|| "no".to_owned(), |b| format!("f{b}"));
        println!("  {:<60} {n:>5} instructions, {arithmetic} arithmetic", f.name);
    }
    println!();

    if args.llvm {
        let emitted = emit(&package, &codegen, &workspace_root().join("target").join("asm"))?;
        let ir = parse::ir_functions(&emitted.llvm_ir);
        println!(
            "; LLVM IR of {package} compiled on its own ({}, no LTO): the code before link-time \
             optimisation, which may still inline, unroll and schedule it differently in the runner",
            codegen.label()
        );
        for &dtype in args.dtype.dtypes() {
            let chosen: Vec<_> = ir.iter().filter(|f| is_kernel_instance(&f.name, kernels, dtype, None)).collect();
            if chosen.is_empty() {
                bail!("no {} kernel of {name} in the LLVM IR", dtype.as_str());
            }
            for f in chosen {
                println!("; {}\n{}", f.name, f.text);
            }
        }
        return Ok(());
    }

    // Where the binary is and how it was built, said once per element type.
    let built =
        format!("{} ({}, release profile with thin LTO: the code that runs)", binary.display(), codegen.label());
    for &dtype in args.dtype.dtypes() {
        let hot = hot_loop(&functions, &type_path, kernels, dtype)
            .with_context(|| format!("no loop found in the {} kernels of {name}", dtype.as_str()))?;
        println!("hot loop of {} (symbol {}) in {built}:", hot.function.name, hot.function.symbol);
        if hot.inlined {
            println!("  (no {} kernel is a function of its own in the binary: LTO inlined it here)", dtype.as_str());
        }
        let lines = &hot.function.lines;
        let shown = if args.full { &lines[..] } else { &lines[hot.start..=hot.end] };
        for l in shown {
            println!("{l}");
        }
        println!();
        // Each kernel runs for some shapes (packed or strided, each instruction set): a spill
        // in any of them is worth seeing, not only in the one that looks hottest.
        let each = kernel_hot_loops(&functions, kernels, dtype);
        if each.len() > 1 {
            println!("the hot loop of each {} kernel:", dtype.as_str());
            let width = each.iter().map(|h| h.function.name.len()).max().unwrap_or(0);
            for h in &each {
                println!("  {:<width$}  {}", h.function.name, h.verdict);
            }
            println!();
        }
        println!("{}", hot.verdict);
    }
    Ok(())
}

/// The runner of `runner_build` built as `bench` builds it (features, release profile: thin
/// LTO, one codegen unit) but with `-C target-feature={features}` instead of
/// `-C target-cpu=native`, in `target/asm/features` (so that it does not rebuild the
/// bench's runners).
fn build_with_features(runner_build: &BuildArgs, features: &str) -> anyhow::Result<PathBuf> {
    let (_, cargo_features) = runner::features_of(runner_build)?;
    let target_dir = workspace_root().join("target").join("asm").join("features");
    build_linked(&cargo_features, features, &target_dir)
}

/// `matmul-cli` with exactly `cargo_features`, for `-C target-feature={features}`, built in
/// `target_dir`.
fn build_linked(cargo_features: &[String], features: &str, target_dir: &Path) -> anyhow::Result<PathBuf> {
    let codegen = Codegen::Features(features.to_owned());
    let flags = codegen.rustflags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    runner::cargo_build_with(&workspace_root(), cargo_features, &flags, &codegen.label(), target_dir)?;
    Ok(target_dir.join("release").join("matmul-cli"))
}

/// The functions of `binary` whose demangled name `keep` accepts, disassembled by objdump
/// (GNU binutils), in Intel syntax on x86-64.
fn disassemble(binary: &Path, keep: impl Fn(&str) -> bool) -> anyhow::Result<Vec<Function>> {
    let mut cmd = Command::new("objdump");
    cmd.args(["-d", "--no-show-raw-insn", "-w"]);
    if cfg!(target_arch = "x86_64") {
        cmd.args(["-M", "intel"]);
    }
    let out = cmd.arg(binary).output().context("running objdump (GNU binutils: `apt-get install binutils`)")?;
    if !out.status.success() {
        bail!("objdump -d {} failed ({}): {}", binary.display(), out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(parse::objdump_functions(&String::from_utf8_lossy(&out.stdout), keep))
}

/// Whether a demangled function name is one of the backend's: its `Backend` impl or a kernel.
fn belongs(name: &str, type_path: &str, kernels: &[&str]) -> bool {
    name.starts_with(&format!("<{type_path} as ")) || kernels.iter().any(|k| is_instance_of(name, k))
}

/// `matmul_naive::ijk::<f64>` (or a closure inside it) is an instance of `matmul_naive::ijk`;
/// a non-generic kernel is its own only instance.
fn is_instance_of(name: &str, kernel: &str) -> bool {
    name == kernel || name.strip_prefix(kernel).is_some_and(|rest| rest.starts_with("::<"))
}

/// An instance of one of `kernels` for `dtype`: its generic arguments name the type (v0
/// symbols: `matmul_naive::ijk::<f64>`), or, for a non-generic kernel, its name starts with
/// it (`…::f64_avx512_24x8`), or, for a generic kernel whose symbol names no arguments (the
/// default, legacy mangling: `matmul_naive::ijk`), `elem_bits` — the element size of the
/// function's arithmetic, when it is known — is the type's.
fn is_kernel_instance(name: &str, kernels: &[&str], dtype: Dtype, elem_bits: Option<u32>) -> bool {
    let named = |k: &&str| {
        name == *k
            && match k.rsplit("::").next().and_then(|last| last.split_once('_')) {
                Some((prefix, _)) if prefix.parse::<Dtype>().is_ok() => prefix == dtype.as_str(),
                _ => elem_bits == Some(8 * dtype.size_bytes() as u32),
            }
    };
    kernels.iter().any(named)
        || kernels.iter().any(|k| {
            name.strip_prefix(k).is_some_and(|rest| rest.starts_with("::<")) && {
                let args = &name[k.len() + 3..];
                let args = args.split('>').next().unwrap_or(args);
                args.split(", ").any(|a| a == dtype.as_str())
            }
        })
}

/// The hot loop of a backend for one element type.
#[derive(Debug)]
pub struct HotLoop<'a> {
    pub function: &'a Function,
    pub start: usize,
    pub end: usize,
    pub verdict: Verdict,
    /// No `dtype` kernel was a function of its own: the loop is in the backend's
    /// `gemm_{dtype}`, which LTO inlined it into.
    pub inlined: bool,
}

/// The hot loop among the innermost loops of every `dtype` instance of `kernels`: the one
/// with the widest packed arithmetic, then the most arithmetic instructions per iteration.
/// When no such instance is a function of its own (LTO inlined it), the loops of
/// `<type_path as Backend>::gemm_{dtype}`, which then holds it.
pub fn hot_loop<'a>(functions: &'a [Function], type_path: &str, kernels: &[&str], dtype: Dtype) -> Option<HotLoop<'a>> {
    let instances = kernel_hot_loops(functions, kernels, dtype);
    if !instances.is_empty() {
        return instances.into_iter().max_by_key(|h| h.verdict.rank());
    }
    let gemm = format!(">::gemm_{}", dtype.as_str());
    functions
        .iter()
        .filter(|f| belongs(&f.name, type_path, &[]) && f.name.ends_with(&gemm))
        .filter_map(|f| hottest(f, true))
        .max_by_key(|h| h.verdict.rank())
}

/// The hot loop of each `dtype` instance of `kernels` that has a loop, in binary order.
fn kernel_hot_loops<'a>(functions: &'a [Function], kernels: &[&str], dtype: Dtype) -> Vec<HotLoop<'a>> {
    functions
        .iter()
        .filter(|f| is_kernel_instance(&f.name, kernels, dtype, f.elem_bits()))
        .filter_map(|f| hottest(f, false))
        .collect()
}

/// The innermost loop of `f` that ranks highest (see [`Verdict::rank`]).
fn hottest(f: &Function, inlined: bool) -> Option<HotLoop<'_>> {
    parse::innermost_loops(&f.lines)
        .into_iter()
        .map(|l| HotLoop {
            function: f,
            start: l.start,
            end: l.end,
            verdict: Verdict::of(&f.lines[l.start..=l.end]),
            inlined,
        })
        .max_by_key(|h| h.verdict.rank())
}

/// Builds `package`'s library in release mode on its own and returns its LLVM IR: the
/// code before link-time optimisation (`--llvm`; the assembly comes from the linked runner).
///
/// `target_dir` is its own directory, so these flags do not rebuild the ordinary `target/`.
pub fn emit(package: &str, codegen: &Codegen, target_dir: &Path) -> anyhow::Result<Emitted> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir)
        // The release profile's thin LTO makes a library's compile a "pre-link" one that
        // leaves vectorisation to link time, so its IR would show loops not yet vectorised.
        // Without LTO the library gets the full pipeline once, as its code does at link time
        // (where LTO may still inline, unroll and schedule it differently).
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .args(["rustc", "--quiet", "--release", "--package", package, "--lib", "--"])
        .args(["--emit", "llvm-ir", "-C", "symbol-mangling-version=v0", "-C", "codegen-units=1"])
        .args(codegen.rustflags());
    eprintln!("xtask: cargo rustc --release -p {package} --lib -- --emit llvm-ir ({}, no LTO)", codegen.label());
    let status = cmd.status().context("running cargo rustc")?;
    if !status.success() {
        bail!("cargo rustc for {package} failed ({status})");
    }
    let stem = package.replace('-', "_");
    let llvm_ir = newest(&target_dir.join("release").join("deps"), &stem, "ll")?;
    Ok(Emitted {
        llvm_ir: std::fs::read_to_string(&llvm_ir).with_context(|| format!("reading {}", llvm_ir.display()))?,
    })
}

/// The most recently written `deps/{stem}-HASH.{ext}`.
fn newest(deps: &Path, stem: &str, ext: &str) -> anyhow::Result<PathBuf> {
    let prefix = format!("{stem}-");
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(deps).with_context(|| format!("listing {}", deps.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(&prefix) && path.extension().is_some_and(|e| e == ext) {
            let time = path.metadata()?.modified()?;
            if best.as_ref().is_none_or(|(t, _)| time > *t) {
                best = Some((time, path));
            }
        }
    }
    best.map(|(_, p)| p).with_context(|| format!("no {prefix}*.{ext} in {}", deps.display()))
}

/// The path of a system library whose file name starts with `library`, from `ldconfig -p`.
fn find_library(library: &str) -> Option<String> {
    let out = Command::new("ldconfig").arg("-p").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim_start().starts_with(library))
        .find_map(|l| l.split("=>").nth(1).map(|p| p.trim().to_owned()))
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// The kernels of the naive backends, as `matmul-cli list --json` gives them.
    fn kernels(backend: &str) -> &'static [&'static str] {
        match backend {
            "naive-ijk" => &["matmul_naive::ijk"],
            "naive-ikj" => &["matmul_naive::ikj"],
            "naive-ijk-reassoc" => &["matmul_naive::reassoc::ijk_reassoc", "matmul_naive::reassoc::dot"],
            _ => panic!("{backend} is not a naive backend"),
        }
    }

    /// The lecture's lesson, checked on the linked runner's real code: built for AVX2
    /// (explicitly, so it holds on every x86-64 machine whatever its CPU), the ikj row update
    /// vectorises and the ijk dot product — a serial chain of dependent adds — does not. The
    /// runner has only the naive backends, to keep the build short; their kernels are
    /// `#[inline(never)]`, so they stay functions of their own through LTO.
    #[test]
    fn avx2_vectorises_ikj_and_reassoc_but_not_ijk() {
        let target_dir = workspace_root().join("target").join("asm-test");
        let binary = build_linked(&["naive".to_owned()], "+avx2,+fma", &target_dir).unwrap();
        let functions = disassemble(&binary, |name| name.starts_with("matmul_naive::")).unwrap();
        let hot = |backend: &str, dtype| {
            let hot = hot_loop(&functions, "matmul_naive::None", kernels(backend), dtype).unwrap();
            assert!(!hot.inlined, "{backend} {dtype:?}: the kernel was inlined");
            hot.verdict
        };
        for dtype in [Dtype::F32, Dtype::F64] {
            let ikj = hot("naive-ikj", dtype);
            assert!(ikj.vectorised && ikj.width == Some(parse::Width::Ymm), "naive-ikj {dtype:?}: {ikj}");
            let ijk = hot("naive-ijk", dtype);
            assert!(!ijk.vectorised && ijk.ops > 0, "naive-ijk {dtype:?}: {ijk}");
            let reassoc = hot("naive-ijk-reassoc", dtype);
            assert!(reassoc.vectorised, "naive-ijk-reassoc {dtype:?}: {reassoc}");
        }
        // Both element types were generated for every kernel.
        for kernel in ["matmul_naive::ijk", "matmul_naive::ikj"] {
            for dtype in [Dtype::F32, Dtype::F64] {
                let instance = |f: &Function| is_kernel_instance(&f.name, &[kernel], dtype, f.elem_bits());
                assert!(functions.iter().any(instance), "{kernel} {dtype:?}");
            }
        }
    }

    #[test]
    fn instance_names_match_by_dtype() {
        let k = &["matmul_naive::reassoc::ijk_reassoc"][..];
        assert!(is_kernel_instance("matmul_naive::reassoc::ijk_reassoc::<f64, 16>", k, Dtype::F64, None));
        assert!(!is_kernel_instance("matmul_naive::reassoc::ijk_reassoc::<f64, 16>", k, Dtype::F32, None));
        assert!(!is_kernel_instance("matmul_naive::ijk::<f64>", &["matmul_naive::ij"], Dtype::F64, None));
        let simd = &["matmul_simd::avx2::f64_avx2_8x6"][..];
        assert!(is_kernel_instance("matmul_simd::avx2::f64_avx2_8x6", simd, Dtype::F64, None));
        assert!(!is_kernel_instance("matmul_simd::avx2::f64_avx2_8x6", simd, Dtype::F32, Some(32)));
        // A legacy symbol names the generic kernel only: its arithmetic tells the instances apart.
        let ijk = &["matmul_naive::ijk"][..];
        assert!(is_kernel_instance("matmul_naive::ijk", ijk, Dtype::F32, Some(32)));
        assert!(!is_kernel_instance("matmul_naive::ijk", ijk, Dtype::F64, Some(32)));
        assert!(!is_kernel_instance("matmul_naive::ijk", ijk, Dtype::F64, None));
        assert!(belongs(
            "<matmul_naive::NaiveIjk as matmul_core::backend::Backend>::gemm_f32",
            "matmul_naive::NaiveIjk",
            &[]
        ));
        assert!(!belongs(
            "<matmul_naive::reassoc::NaiveIjkReassoc as matmul_core::backend::Backend>::gemm_f32",
            "matmul_naive::NaiveIjk",
            &[]
        ));
    }

    /// A function with one loop of `ops` (a mnemonic and its operands).
    fn function(name: &str, ops: &[(&str, &str)]) -> Function {
        let mut lines = vec![Line::Label("10".into())];
        lines.extend(ops.iter().map(|(m, o)| Line::Instruction { mnemonic: m.to_string(), operands: o.to_string() }));
        lines.push(Line::Instruction { mnemonic: "jne".into(), operands: "10".into() });
        Function { symbol: format!("_ZN{name}"), name: name.to_owned(), lines }
    }

    #[test]
    fn the_widest_kernel_loop_wins_and_an_inlined_kernel_is_found_in_its_caller() {
        let kernels = &["m::f32_wide", "m::f32_narrow"][..];
        let functions = vec![
            function("m::f32_wide", &[("vfmadd231ps", "zmm0,zmm1,zmm2")]),
            function("m::f32_narrow", &[("vfmadd231ps", "ymm0,ymm1,ymm2"), ("vfmadd231ps", "ymm3,ymm1,ymm2")]),
            function("<m::T as matmul_core::backend::Backend>::gemm_f64", &[("vaddpd", "zmm0,zmm0,zmm1")]),
        ];
        let hot = hot_loop(&functions, "m::T", kernels, Dtype::F32).unwrap();
        assert_eq!((hot.function.name.as_str(), hot.inlined), ("m::f32_wide", false));
        assert_eq!(kernel_hot_loops(&functions, kernels, Dtype::F32).len(), 2);
        // No f64 kernel is a function of its own: the loop is looked for in gemm_f64.
        let hot = hot_loop(&functions, "m::T", kernels, Dtype::F64).unwrap();
        assert!(hot.inlined && hot.function.name.ends_with("gemm_f64"), "{}", hot.function.name);
    }
}
