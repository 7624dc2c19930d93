//! `cargo xtask asm BACKEND [--dtype f64] [--llvm]`: the code the compiler generated for a
//! backend's hot loop, a one-line verdict on it, and the list of monomorphised instances.
//!
//! Rust has no JIT to ask for its compiled signatures, but every generic kernel is
//! compiled once per type it is used with (`ijk::<f32>`, `ijk::<f64>`): `asm` builds the
//! backend's crate with `cargo rustc --release -- --emit asm --emit llvm-ir`, with v0
//! symbol mangling (which keeps generic arguments in the symbol, so each instance has a
//! stable, demangleable name), for this CPU (`-C target-cpu=native`) or for the features
//! given with `--target-feature`. It lists the instances, finds the innermost loops of the
//! chosen one, takes the hot one (the widest packed arithmetic, then the most arithmetic per
//! iteration: the main body rather than a remainder loop) and classifies its instructions.
//!
//! Backends whose hot loop is not Rust compiled here (BLAS libraries) get a plain statement
//! of where it lives. Where each backend's hot loop is comes from the runner
//! (`matmul-cli list --json`), which links the backends; xtask keeps no list of its own.

mod parse;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use matmul_bench_format::runner::HotLoop as Source;

use crate::runner::{self, workspace_root, BuildArgs};
use parse::{Function, Line, Verdict};

/// Options of `cargo xtask asm`.
#[derive(Debug, clap::Args)]
pub struct AsmArgs {
    /// Backend name, e.g. `naive-ikj`.
    backend: String,
    /// Element type of the instance to show.
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    dtype: Dtype,
    /// Print the kernel's LLVM IR instead of its assembly.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dtype {
    F32,
    F64,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// How to compile: for this CPU, or for an explicit feature list.
#[derive(Debug, Clone)]
pub enum Codegen {
    Native,
    Features(String),
}

/// The files one `cargo rustc --emit` produced.
#[derive(Debug)]
pub struct Emitted {
    pub asm: String,
    pub llvm_ir: String,
}

/// Where `name`'s hot loop is, from the runners' `list --json`.
fn hot_loop_of(name: &str, build: &BuildArgs) -> anyhow::Result<Source> {
    let runners = runner::runners(build)?;
    let all: Vec<_> = runners.iter().flat_map(|r| &r.backends).collect();
    let Some(info) = all.iter().find(|b| b.name == name) else {
        let mut names: Vec<&str> = all.iter().map(|b| b.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        bail!("unknown backend `{name}`; the runners built here have: {}", names.join(", "));
    };
    info.hot_loop
        .clone()
        .with_context(|| format!("the runner does not say where {name}'s hot loop is (another crate's code)"))
}

pub fn run(args: AsmArgs) -> anyhow::Result<()> {
    let name = args.backend.as_str();
    let (package, type_path, kernels) = match hot_loop_of(name, &args.build)? {
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
    let codegen = match &args.target_feature {
        Some(f) => Codegen::Features(f.clone()),
        None => Codegen::Native,
    };
    let emitted = emit(&package, &codegen, &workspace_root().join("target").join("asm"))?;

    // The monomorphised instances: every function of the backend's type and kernels.
    let functions = parse::functions(&emitted.asm);
    let instances: Vec<&Function> = functions.iter().filter(|f| belongs(&f.name, &type_path, kernels)).collect();
    println!("monomorphised instances of {name} ({} generated; one per element type and kernel):", instances.len());
    for f in &instances {
        let n = f.lines.iter().filter(|l| matches!(l, Line::Instruction { .. })).count();
        println!("  {:<60} {n:>5} instructions", f.name);
    }
    println!();

    if args.llvm {
        let ir = parse::ir_functions(&emitted.llvm_ir);
        let chosen: Vec<_> = ir.iter().filter(|f| is_kernel_instance(&f.name, kernels, args.dtype)).collect();
        if chosen.is_empty() {
            bail!("no {} kernel of {name} in the LLVM IR", args.dtype.name());
        }
        for f in chosen {
            println!("; {}\n{}", f.name, f.text);
        }
        return Ok(());
    }

    let hot = hot_loop(&functions, kernels, args.dtype)
        .with_context(|| format!("no loop found in the {} kernels of {name}", args.dtype.name()))?;
    println!("hot loop of {} (symbol {}, {}):", hot.function.name, hot.function.symbol, codegen_label(&codegen));
    let lines = &hot.function.lines;
    let shown = if args.full { &lines[..] } else { &lines[hot.start..=hot.end] };
    for l in shown {
        println!("{l}");
    }
    println!();
    println!("{}", hot.verdict);
    Ok(())
}

fn codegen_label(codegen: &Codegen) -> String {
    match codegen {
        Codegen::Native => "-C target-cpu=native".to_owned(),
        Codegen::Features(f) => format!("-C target-feature={f}"),
    }
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

/// An instance of one of `kernels` for `dtype`: its generic arguments name the type, or,
/// for a non-generic kernel, its name starts with it (`…::f64_avx512_24x8`).
fn is_kernel_instance(name: &str, kernels: &[&str], dtype: Dtype) -> bool {
    let named = |k: &&str| {
        name == *k && k.rsplit("::").next().is_some_and(|last| last.starts_with(&format!("{}_", dtype.name())))
    };
    kernels.iter().any(named)
        || kernels.iter().any(|k| {
            name.strip_prefix(k).is_some_and(|rest| rest.starts_with("::<")) && {
                let args = &name[k.len() + 3..];
                let args = args.split('>').next().unwrap_or(args);
                args.split(", ").any(|a| a == dtype.name())
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
}

/// The hot loop among the innermost loops of every `dtype` instance of `kernels`: the one
/// with the widest packed arithmetic, then the most arithmetic instructions per iteration.
pub fn hot_loop<'a>(functions: &'a [Function], kernels: &[&str], dtype: Dtype) -> Option<HotLoop<'a>> {
    functions
        .iter()
        .filter(|f| is_kernel_instance(&f.name, kernels, dtype))
        .flat_map(|f| {
            parse::innermost_loops(&f.lines).into_iter().map(move |l| HotLoop {
                function: f,
                start: l.start,
                end: l.end,
                verdict: Verdict::of(&f.lines[l.start..=l.end]),
            })
        })
        .max_by_key(|h| h.verdict.rank())
}

/// Builds `package`'s library in release mode and returns its assembly and LLVM IR.
///
/// `target_dir` is its own directory, so these flags do not rebuild the ordinary `target/`.
pub fn emit(package: &str, codegen: &Codegen, target_dir: &Path) -> anyhow::Result<Emitted> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir)
        // The release profile's thin LTO makes a library's compile a "pre-link" one that
        // leaves vectorisation to link time, so its assembly would show loops not yet
        // vectorised. Without LTO the library gets the full pipeline, as the binary's code
        // does at link time. No debug info: its `.loc` lines and labels only add noise.
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .args(["rustc", "--quiet", "--release", "--package", package, "--lib", "--"])
        .args(["--emit", "asm", "--emit", "llvm-ir", "-C", "symbol-mangling-version=v0", "-C", "codegen-units=1"]);
    match codegen {
        Codegen::Native => cmd.args(["-C", "target-cpu=native"]),
        Codegen::Features(f) => cmd.args(["-C", &format!("target-feature={f}")]),
    };
    if cfg!(target_arch = "x86_64") {
        cmd.args(["-C", "llvm-args=-x86-asm-syntax=intel"]);
    }
    eprintln!(
        "xtask: cargo rustc --release -p {package} --lib -- --emit asm --emit llvm-ir ({})",
        codegen_label(codegen)
    );
    let status = cmd.status().context("running cargo rustc")?;
    if !status.success() {
        bail!("cargo rustc for {package} failed ({status})");
    }
    let stem = package.replace('-', "_");
    let deps = target_dir.join("release").join("deps");
    let asm = newest(&deps, &stem, "s")?;
    let llvm_ir = newest(&deps, &stem, "ll")?;
    Ok(Emitted {
        asm: std::fs::read_to_string(&asm).with_context(|| format!("reading {}", asm.display()))?,
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

    /// The lecture's lesson, checked on the compiler's real output: built for AVX2 (explicitly,
    /// so it holds on every x86-64 machine whatever its CPU), the ikj row update vectorises
    /// and the ijk dot product — a serial chain of dependent adds — does not.
    #[test]
    fn avx2_vectorises_ikj_and_reassoc_but_not_ijk() {
        let target_dir = workspace_root().join("target").join("asm-test");
        let emitted = emit("matmul-naive", &Codegen::Features("+avx2,+fma".into()), &target_dir).unwrap();
        let functions = parse::functions(&emitted.asm);
        for dtype in [Dtype::F32, Dtype::F64] {
            let ikj = hot_loop(&functions, kernels("naive-ikj"), dtype).unwrap().verdict;
            assert!(ikj.vectorised && ikj.width == Some(parse::Width::Ymm), "naive-ikj {dtype:?}: {ikj}");
            let ijk = hot_loop(&functions, kernels("naive-ijk"), dtype).unwrap().verdict;
            assert!(!ijk.vectorised && ijk.ops > 0, "naive-ijk {dtype:?}: {ijk}");
            let reassoc = hot_loop(&functions, kernels("naive-ijk-reassoc"), dtype).unwrap().verdict;
            assert!(reassoc.vectorised, "naive-ijk-reassoc {dtype:?}: {reassoc}");
        }
        // Both element types were generated for every kernel.
        for kernel in ["matmul_naive::ijk", "matmul_naive::ikj"] {
            for dtype in [Dtype::F32, Dtype::F64] {
                assert!(functions.iter().any(|f| is_kernel_instance(&f.name, &[kernel], dtype)), "{kernel} {dtype:?}");
            }
        }
    }

    #[test]
    fn instance_names_match_by_dtype() {
        let k = &["matmul_naive::reassoc::ijk_reassoc"][..];
        assert!(is_kernel_instance("matmul_naive::reassoc::ijk_reassoc::<f64, 16>", k, Dtype::F64));
        assert!(!is_kernel_instance("matmul_naive::reassoc::ijk_reassoc::<f64, 16>", k, Dtype::F32));
        assert!(!is_kernel_instance("matmul_naive::ijk::<f64>", &["matmul_naive::ij"], Dtype::F64));
        let simd = &["matmul_simd::avx2::f64_avx2_8x6"][..];
        assert!(is_kernel_instance("matmul_simd::avx2::f64_avx2_8x6", simd, Dtype::F64));
        assert!(!is_kernel_instance("matmul_simd::avx2::f64_avx2_8x6", simd, Dtype::F32));
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
}
