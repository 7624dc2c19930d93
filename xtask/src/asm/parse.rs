//! Reading compiler output: the functions of a binary as `objdump -d` prints them, the
//! functions of an LLVM IR (`.ll`) file, the loops of a function, and what the innermost
//! loop's floating-point instructions say.
//!
//! The assembly is x86-64 in Intel syntax (`vfmadd231pd ymm0,ymm1,YMMWORD PTR [rax]`);
//! `asm` asks objdump for that syntax. Other architectures get the listing but no verdict.

use std::collections::BTreeMap;
use std::fmt;

/// One function of an assembly file: its mangled and demangled names and its lines.
#[derive(Debug, Clone)]
pub struct Function {
    pub symbol: String,
    /// Demangled without the crate hashes: `matmul_naive::ijk` (legacy symbols, the default)
    /// or `matmul_naive::ijk::<f64>` (v0 symbols keep the generic arguments).
    pub name: String,
    pub lines: Vec<Line>,
}

impl Function {
    /// The element size (32 or 64) of the function's floating-point arithmetic (of its
    /// packed instructions if it has any), or `None` if it has none.
    pub fn elem_bits(&self) -> Option<u32> {
        Some(Verdict::of(&self.lines).elem_bits).filter(|&b| b > 0)
    }
}

/// A line of a function body that matters for reading it: a label or an instruction
/// (assembler directives and comments are dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Label(String),
    Instruction { mnemonic: String, operands: String },
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Label(l) => write!(f, "{l}:"),
            Line::Instruction { mnemonic, operands } if operands.is_empty() => write!(f, "        {mnemonic}"),
            Line::Instruction { mnemonic, operands } => write!(f, "        {mnemonic:<12} {operands}"),
        }
    }
}

/// Demangles a symbol without its crate hashes (`{:#}`); `None` if it is not a Rust symbol.
pub fn demangle(symbol: &str) -> Option<String> {
    rustc_demangle::try_demangle(symbol).ok().map(|d| format!("{d:#}"))
}

/// The functions of `objdump -d --no-show-raw-insn -M intel` output whose demangled name
/// `keep` accepts (all others are skipped unparsed: a whole runner has tens of thousands).
///
/// objdump has no labels: every jump target inside the function becomes a label named by
/// its address (`1a2b40:`), and the jump's operand that name, so loops read as in a `.s`
/// file and the addresses match `perf annotate` and `objdump` on the same binary.
pub fn objdump_functions(text: &str, keep: impl Fn(&str) -> bool) -> Vec<Function> {
    let mut out = Vec::new();
    let mut current: Option<(Function, Vec<Raw>)> = None;
    for line in text.lines() {
        if let Some(symbol) = function_header(line) {
            out.extend(current.take().map(|(f, body)| with_labels(f, body)));
            let name = demangle(symbol).unwrap_or_else(|| symbol.to_owned());
            if keep(&name) {
                current = Some((Function { symbol: symbol.to_owned(), name, lines: Vec::new() }, Vec::new()));
            }
            continue;
        }
        let Some((_, body)) = current.as_mut() else { continue };
        if let Some(instruction) = instruction(line) {
            body.push(instruction);
        }
    }
    out.extend(current.map(|(f, body)| with_labels(f, body)));
    out
}

/// `0000000000012340 <_RNvCs…_12matmul_naive3ikj>:` → the symbol.
fn function_header(line: &str) -> Option<&str> {
    let (address, rest) = line.split_once(' ')?;
    u64::from_str_radix(address, 16).ok()?;
    rest.strip_prefix('<')?.strip_suffix(">:")
}

/// One instruction as objdump prints it.
struct Raw {
    address: u64,
    mnemonic: String,
    operands: String,
}

/// `   12342:\tvfmadd231pd zmm0,zmm1,ZMMWORD PTR [rax]` → its address, mnemonic and operands.
/// Prefixes stay with the mnemonic (`rep stos`, `notrack jmp`); a `# comment` objdump adds
/// (the address of a rip-relative operand) is dropped.
fn instruction(line: &str) -> Option<Raw> {
    let (address, text) = line.split_once(':')?;
    let address = u64::from_str_radix(address.trim(), 16).ok()?;
    let text = text.split('#').next().unwrap_or("").trim();
    if text.is_empty() || text == "..." {
        return None;
    }
    let mut words = text.split_whitespace().peekable();
    let mut mnemonic = String::new();
    while let Some(w) = words.next() {
        if !mnemonic.is_empty() {
            mnemonic.push(' ');
        }
        mnemonic.push_str(w);
        let prefix = matches!(
            w,
            "rep"
                | "repe"
                | "repz"
                | "repne"
                | "repnz"
                | "lock"
                | "notrack"
                | "bnd"
                | "data16"
                | "cs"
                | "ds"
                | "es"
                | "fs"
                | "gs"
                | "ss"
        );
        if !prefix || words.peek().is_none() {
            break;
        }
    }
    let operands: Vec<&str> = words.collect();
    Some(Raw { address, mnemonic, operands: operands.join(" ") })
}

/// A function's instructions with a label before every jump target inside it and the jumps
/// pointed at those labels.
fn with_labels(mut f: Function, body: Vec<Raw>) -> Function {
    // `jne    12360 <_RNv…+0x20>`: a jump (or `loop`) to an address.
    let target = |mnemonic: &str, operands: &str| -> Option<u64> {
        let jump = mnemonic.rsplit(' ').next().is_some_and(|m| m.starts_with('j') || m.starts_with("loop"));
        jump.then(|| u64::from_str_radix(operands.split(' ').next()?, 16).ok()).flatten()
    };
    let inside: std::collections::BTreeSet<u64> = body.iter().map(|r| r.address).collect();
    let targets: std::collections::BTreeSet<u64> =
        body.iter().filter_map(|r| target(&r.mnemonic, &r.operands)).filter(|t| inside.contains(t)).collect();
    for Raw { address, mnemonic, operands } in body {
        if targets.contains(&address) {
            f.lines.push(Line::Label(format!("{address:x}")));
        }
        let operands = match target(&mnemonic, &operands) {
            Some(t) if targets.contains(&t) => format!("{t:x}"),
            _ => operands,
        };
        f.lines.push(Line::Instruction { mnemonic, operands });
    }
    f
}

/// One LLVM IR function: `define … @symbol(…) … {` to the closing `}`.
#[derive(Debug, Clone)]
pub struct IrFunction {
    pub name: String,
    pub text: String,
}

/// Every function defined in an LLVM IR file.
pub fn ir_functions(ir: &str) -> Vec<IrFunction> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in ir.lines() {
        if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
            if line == "}" {
                let (name, text) = current.take().unwrap_or_default();
                out.push(IrFunction { name, text });
            }
            continue;
        }
        if line.starts_with("define ") {
            let symbol = line
                .split_once('@')
                .map(|(_, rest)| rest.split('(').next().unwrap_or(rest).trim_matches('"'))
                .unwrap_or("");
            let name = demangle(symbol).unwrap_or_else(|| symbol.to_owned());
            current = Some((name, format!("{line}\n")));
        }
    }
    out
}

/// A loop: the label a backward jump goes to, through that jump (indices into `lines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loop {
    pub start: usize,
    pub end: usize,
}

/// The innermost loops of a function: backward jumps whose range holds no other loop.
pub fn innermost_loops(lines: &[Line]) -> Vec<Loop> {
    let labels: BTreeMap<&str, usize> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l {
            Line::Label(name) => Some((name.as_str(), i)),
            _ => None,
        })
        .collect();
    let loops: Vec<Loop> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l {
            Line::Instruction { mnemonic, operands } if mnemonic.starts_with('j') => {
                labels.get(operands.as_str()).filter(|&&t| t < i).map(|&t| Loop { start: t, end: i })
            }
            _ => None,
        })
        .collect();
    loops.iter().copied().filter(|l| !loops.iter().any(|o| o != l && l.start <= o.start && o.end <= l.end)).collect()
}

/// Register width of a vector operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Width {
    Xmm = 128,
    Ymm = 256,
    Zmm = 512,
}

impl Width {
    fn name(self) -> &'static str {
        match self {
            Width::Xmm => "xmm",
            Width::Ymm => "ymm",
            Width::Zmm => "zmm",
        }
    }
}

/// A floating-point arithmetic instruction: `vfmadd231pd` is `fmadd`, packed, f64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpOp {
    pub mnemonic: String,
    pub fma: bool,
    pub packed: bool,
    /// 32 or 64.
    pub elem_bits: u32,
    pub width: Option<Width>,
}

/// Classifies an instruction as floating-point arithmetic (add, sub, mul, div, fused
/// multiply-add), or `None`. Moves, shuffles, compares and conversions are not arithmetic.
pub fn fp_op(mnemonic: &str, operands: &str) -> Option<FpOp> {
    let base = mnemonic.strip_prefix('v').unwrap_or(mnemonic);
    let suffix = base.get(base.len().checked_sub(2)?..)?;
    let (packed, elem_bits) = match suffix {
        "ps" => (true, 32),
        "pd" => (true, 64),
        "ss" => (false, 32),
        "sd" => (false, 64),
        _ => return None,
    };
    let op = base[..base.len() - 2].trim_end_matches(|c: char| c.is_ascii_digit());
    // `vdpbf16ps` (AVX-512 BF16) is a fused multiply-add too: two bf16 products added into
    // each f32 lane.
    let fma = matches!(op, "fmadd" | "fmsub" | "fnmadd" | "fnmsub" | "fmaddsub" | "fmsubadd") || base == "dpbf16ps";
    if !fma && !matches!(op, "add" | "sub" | "mul" | "div") {
        return None;
    }
    let width = [Width::Zmm, Width::Ymm, Width::Xmm].into_iter().find(|w| operands.contains(w.name()));
    Some(FpOp { mnemonic: mnemonic.to_owned(), fma, packed, elem_bits, width })
}

/// Whether an instruction's memory operand is based on the stack pointer or the frame
/// pointer (`[rsp+0x40]`, `[rbp-0x80]`). The base is the first register in the brackets:
/// `[rsi+rbp*1]` is not a stack access (`rbp` is an ordinary register where the function
/// keeps no frame pointer).
pub fn addresses_stack(operands: &str) -> bool {
    operands.split('[').skip(1).any(|memory| {
        let base = memory.split(['+', '-', '*', ']']).next().unwrap_or("").trim();
        matches!(base, "rsp" | "rbp" | "esp" | "ebp")
    })
}

/// What the floating-point instructions of one loop say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Distinct arithmetic mnemonics, most frequent first.
    pub mnemonics: Vec<String>,
    /// Arithmetic instructions per iteration.
    pub ops: usize,
    pub vectorised: bool,
    pub fma: bool,
    /// Fused multiply-adds per iteration (of the described kind, packed or scalar).
    pub fmas: usize,
    /// Instructions per iteration that address the stack (based on `rsp`/`rbp`): in a
    /// register-tiled kernel these are spilled accumulators.
    pub stack_accesses: usize,
    /// The widest register of a packed instruction.
    pub width: Option<Width>,
    pub elem_bits: u32,
}

impl Verdict {
    /// The verdict of a loop's lines.
    pub fn of(lines: &[Line]) -> Verdict {
        let ops: Vec<FpOp> = lines
            .iter()
            .filter_map(|l| match l {
                Line::Instruction { mnemonic, operands } => fp_op(mnemonic, operands),
                Line::Label(_) => None,
            })
            .collect();
        let vectorised = ops.iter().any(|o| o.packed);
        // Describe the packed instructions if there are any (a vector loop may also hold a
        // scalar op or two), the scalar ones otherwise.
        let described: Vec<&FpOp> = ops.iter().filter(|o| o.packed == vectorised).collect();
        let mut counts: Vec<(String, usize)> = Vec::new();
        for o in &described {
            match counts.iter_mut().find(|(m, _)| *m == o.mnemonic) {
                Some((_, n)) => *n += 1,
                None => counts.push((o.mnemonic.clone(), 1)),
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
        let stack_accesses = lines
            .iter()
            .filter(|l| match l {
                Line::Instruction { operands, .. } => addresses_stack(operands),
                Line::Label(_) => false,
            })
            .count();
        Verdict {
            mnemonics: counts.into_iter().map(|(m, _)| m).collect(),
            ops: ops.len(),
            vectorised,
            fma: described.iter().any(|o| o.fma),
            fmas: described.iter().filter(|o| o.fma).count(),
            stack_accesses,
            width: described.iter().filter_map(|o| o.width).max(),
            elem_bits: described.iter().map(|o| o.elem_bits).max().unwrap_or(0),
        }
    }

    /// Elements per packed instruction, e.g. 4 for `ymm` and f64.
    pub fn lanes(&self) -> Option<u32> {
        self.width.filter(|_| self.vectorised).map(|w| w as u32 / self.elem_bits.max(1))
    }

    /// How much this loop looks like the hot one: packed and wide first, then the most arithmetic.
    pub fn rank(&self) -> (usize, usize) {
        (self.lanes().unwrap_or(1) as usize, self.ops)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.mnemonics.join(", ");
        if self.ops == 0 {
            return write!(f, "inner loop: no floating-point arithmetic found");
        }
        let fma = if self.fma { format!("FMA ({} per iteration)", self.fmas) } else { "no FMA".to_owned() };
        match (self.lanes(), self.width) {
            (Some(lanes), Some(w)) => {
                write!(f, "inner loop: {names} on {} ({lanes} × f{}): vectorised, {fma}", w.name(), self.elem_bits)?
            }
            _ => {
                write!(f, "inner loop: scalar ({names}){}", if self.fma { format!(", {fma}") } else { String::new() })?
            }
        }
        match self.stack_accesses {
            0 if self.fma => write!(f, ", no stack access (nothing spilled)"),
            0 => Ok(()),
            n => write!(f, ", {n} stack accesses per iteration (spills?)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `objdump -d --no-show-raw-insn -w -M intel` of the runner (native build, Zen 4):
    /// the f64 `matmul_naive::ikj`'s two vector loops (legacy symbols, as the runner has), a
    /// function `asm` does not ask for, and a function with a v0 symbol.
    const OBJDUMP: &str = "
/work/wt-asm/target/native/release/matmul-cli-rust:     file format elf64-x86-64


Disassembly of section .text:

00000000002056f0 <_ZN12matmul_naive3ikj17hb935e45b60fd85cbE>:
  206074:\tjae    206080 <_ZN12matmul_naive3ikj17hb935e45b60fd85cbE+0x990>
  206076:\txor    edx,edx
  206078:\tjmp    20610b <_ZN12matmul_naive3ikj17hb935e45b60fd85cbE+0xa1b>
  20607d:\tnop    DWORD PTR [rax]
  206080:\tvbroadcastsd zmm1,xmm0
  206086:\txor    edx,edx
  206088:\tnop    DWORD PTR [rax+rax*1+0x0]
  206090:\tvmulpd zmm2,zmm1,ZMMWORD PTR [rax+rdx*8-0xc0]
  206098:\tvmulpd zmm3,zmm1,ZMMWORD PTR [rax+rdx*8-0x80]
  2060a0:\tvmulpd zmm4,zmm1,ZMMWORD PTR [rax+rdx*8-0x40]
  2060a8:\tvmulpd zmm5,zmm1,ZMMWORD PTR [rax+rdx*8]
  2060af:\tvaddpd zmm2,zmm2,ZMMWORD PTR [r10+rdx*8-0xc0]
  2060b7:\tvaddpd zmm3,zmm3,ZMMWORD PTR [r10+rdx*8-0x80]
  2060bf:\tvaddpd zmm4,zmm4,ZMMWORD PTR [r10+rdx*8-0x40]
  2060c7:\tvaddpd zmm5,zmm5,ZMMWORD PTR [r10+rdx*8]
  2060ce:\tvmovupd ZMMWORD PTR [r10+rdx*8-0xc0],zmm2
  2060d6:\tvmovupd ZMMWORD PTR [r10+rdx*8-0x80],zmm3
  2060de:\tvmovupd ZMMWORD PTR [r10+rdx*8-0x40],zmm4
  2060e6:\tvmovupd ZMMWORD PTR [r10+rdx*8],zmm5
  2060ed:\tadd    rdx,0x20
  2060f1:\tcmp    rcx,rdx
  2060f4:\tjne    206090 <_ZN12matmul_naive3ikj17hb935e45b60fd85cbE+0x9a0>
  2060f6:\tcmp    r14,rcx
  2060f9:\tje     205ff0 <_ZN12matmul_naive3ikj17hb935e45b60fd85cbE+0x900>
  2060ff:\tmov    rdx,rcx
  206102:\tmov    rsi,rcx
  206105:\ttest   r14b,0x1c
  206109:\tje     206138 <_ZN12matmul_naive3ikj17hb935e45b60fd85cbE+0xa48>
  20610b:\tvbroadcastsd ymm1,xmm0
  206110:\tvmulpd ymm2,ymm1,YMMWORD PTR [r13+rdx*8+0x0]
  206117:\tvaddpd ymm2,ymm2,YMMWORD PTR [r15+rdx*8]
  20611d:\tvmovupd YMMWORD PTR [r15+rdx*8],ymm2
  206123:\tadd    rdx,0x4
  206127:\tcmp    rbx,rdx
  20612a:\tjne    206110 <_ZN12matmul_naive3ikj17hb935e45b60fd85cbE+0xa20>
  20612c:\tmov    rsi,rbx
\t...

0000000000206200 <_ZN4core3fmt5write17h0123456789abcdefE>:
  206200:\tvaddpd zmm0,zmm0,zmm0
  206206:\tjmp    206200 <_ZN4core3fmt5write17h0123456789abcdefE>

00000000002046a0 <_RINvCsecVwQ8jXyRC_12matmul_naive3ikjfEB2_>:
  2046a0:\tdata16 cs nop WORD PTR [rax+rax*1+0x0]
  2046ab:\tmov    rax,QWORD PTR [rip+0x31fa08]        # 5240b8 <_ZN3std2io5stdio6STDOUT17h5ec5e7d3e4e2b1b8E>
  2046b2:\tret
";

    #[test]
    fn reads_objdump_functions_loops_and_verdicts() {
        let fs = objdump_functions(OBJDUMP, |name| name.starts_with("matmul_naive::"));
        let names: Vec<&str> = fs.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["matmul_naive::ikj", "matmul_naive::ikj::<f32>"]);
        let ikj = &fs[0];
        assert_eq!(ikj.symbol, "_ZN12matmul_naive3ikj17hb935e45b60fd85cbE");
        assert_eq!(ikj.elem_bits(), Some(64));
        // Labels only where a jump inside the function lands; jumps out keep their operand.
        let labels: Vec<&Line> = ikj.lines.iter().filter(|l| matches!(l, Line::Label(_))).collect();
        assert_eq!(
            labels,
            [
                &Line::Label("206080".into()),
                &Line::Label("206090".into()),
                &Line::Label("20610b".into()),
                &Line::Label("206110".into())
            ]
        );
        assert!(ikj.lines.contains(&Line::Instruction { mnemonic: "jne".into(), operands: "206090".into() }));
        assert!(ikj.lines.contains(&Line::Instruction {
            mnemonic: "je".into(),
            operands: "205ff0 <_ZN12matmul_naive3ikj17hb935e45b60fd85cbE+0x900>".into()
        }));
        let loops = innermost_loops(&ikj.lines);
        assert_eq!(loops.len(), 2);
        let verdicts: Vec<Verdict> = loops.iter().map(|l| Verdict::of(&ikj.lines[l.start..=l.end])).collect();
        assert_eq!(verdicts[0].to_string(), "inner loop: vmulpd, vaddpd on zmm (8 × f64): vectorised, no FMA");
        assert_eq!(verdicts[1].to_string(), "inner loop: vmulpd, vaddpd on ymm (4 × f64): vectorised, no FMA");
        assert!(verdicts[0].rank() > verdicts[1].rank());
        // Prefixes stay with the mnemonic, and objdump's `# address <symbol>` comments go.
        let v0 = &fs[1].lines;
        assert_eq!(
            v0[0],
            Line::Instruction { mnemonic: "data16 cs nop".into(), operands: "WORD PTR [rax+rax*1+0x0]".into() }
        );
        assert_eq!(
            v0[1],
            Line::Instruction { mnemonic: "mov".into(), operands: "rax,QWORD PTR [rip+0x31fa08]".into() }
        );
        assert_eq!(fs[1].elem_bits(), None);
    }

    /// The f32 AVX-512 strided kernel's k loop in the runner built without the `keep_rolled`
    /// of `matmul-simd` (before commit 5af038c), abridged from 246 instructions: unrolled
    /// twice, its accumulators go through the stack (the crate's own `--emit asm` showed
    /// none of this).
    const SPILLING: &str = "
000000000023af10 <_ZN11matmul_simd6avx51224f32_avx512_32x12_strided17h338661cee473d08bE>:
  23df25:\tdata16 cs nop WORD PTR [rax+rax*1+0x0]
  23df30:\tlea    rdx,[r8+rsi*1]
  23df34:\tvmovaps ZMMWORD PTR [rsp+0x340],zmm26
  23df3c:\tvmovaps zmm25,zmm21
  23df42:\tvmovups zmm21{k1}{z},ZMMWORD PTR [rax-0x40]
  23df49:\tvmovups zmm22{k2}{z},ZMMWORD PTR [rax]
  23df61:\tvbroadcastss zmm23,DWORD PTR [r8]
  23df9d:\tvfmadd231ps zmm13,zmm21,zmm23
  23dfa3:\tvfmadd231ps zmm12,zmm22,zmm23
  23dfbc:\tvmovaps zmm16,ZMMWORD PTR [rsp+0x80]
  23dfd0:\tvmovaps zmm26,ZMMWORD PTR [rsp+0x340]
  23dfd8:\tvmovaps ZMMWORD PTR [rsp+0x200],zmm1
  23e2a2:\tvfmadd231ps zmm23,zmm2,zmm22
  23e2ae:\tcmp    r13,rbx
  23e2b1:\tjne    23df30 <_ZN11matmul_simd6avx51224f32_avx512_32x12_strided17h338661cee473d08bE+0x3020>
  23e2b7:\tvmovaps zmm16,zmm27
";

    #[test]
    fn a_spilling_kernel_loop_is_reported() {
        let fs = objdump_functions(SPILLING, |_| true);
        assert_eq!(fs[0].name, "matmul_simd::avx512::f32_avx512_32x12_strided");
        let loops = innermost_loops(&fs[0].lines);
        assert_eq!(loops.len(), 1);
        let v = Verdict::of(&fs[0].lines[loops[0].start..=loops[0].end]);
        assert_eq!(
            v.to_string(),
            "inner loop: vfmadd231ps on zmm (16 × f32): vectorised, FMA (3 per iteration), 4 stack accesses per iteration (spills?)"
        );
    }

    #[test]
    fn a_spilled_accumulator_is_reported() {
        let lines = vec![
            Line::Instruction { mnemonic: "vfmadd231pd".into(), operands: "zmm0, zmm1, zmm2".into() },
            Line::Instruction { mnemonic: "vmovupd".into(), operands: "zmmword ptr [rsp + 64], zmm3".into() },
            Line::Instruction {
                mnemonic: "vfmadd231pd".into(),
                operands: "zmm3, zmm1, zmmword ptr [rbp - 128]".into(),
            },
        ];
        let v = Verdict::of(&lines);
        assert_eq!((v.fmas, v.stack_accesses), (2, 2));
        assert!(v.to_string().ends_with("FMA (2 per iteration), 2 stack accesses per iteration (spills?)"), "{v}");
    }

    #[test]
    fn only_stack_based_memory_operands_are_stack_accesses() {
        // From the naive ijk::<f64> loop of the native runner, which keeps no frame pointer.
        assert!(addresses_stack("r8,QWORD PTR [rsp+0x1b8]"));
        assert!(!addresses_stack("xmm2,QWORD PTR [rsi+rbp*1]"));
        assert!(!addresses_stack("xmm2,QWORD PTR [r11+r14*1]"));
        assert!(addresses_stack("zmm3,zmm1,ZMMWORD PTR [rbp-0x80]"));
        assert!(addresses_stack("ZMMWORD PTR [rsp+0x340],zmm26"));
        assert!(!addresses_stack("rbp,rsp"));
    }

    #[test]
    fn classifies_mnemonics() {
        assert!(fp_op("vmovupd", "ymm0, ymmword ptr [rax]").is_none());
        assert!(fp_op("vpaddq", "ymm0, ymm1, ymm2").is_none());
        let op = fp_op("vmulps", "zmm0, zmm1, zmm2").unwrap();
        assert!(op.packed && !op.fma && op.elem_bits == 32 && op.width == Some(Width::Zmm));
        let op = fp_op("vfnmadd213ss", "xmm0, xmm1, xmm2").unwrap();
        assert!(!op.packed && op.fma);
        let op = fp_op("vdpbf16ps", "zmm3, zmm1, DWORD PTR [rax+0x4]{1to16}").unwrap();
        assert!(op.packed && op.fma && op.elem_bits == 32 && op.width == Some(Width::Zmm));
        assert!(fp_op("vcvtne2ps2bf16", "zmm0, zmm1, zmm2").is_none());
        assert!(fp_op("addsd", "xmm0, xmm1").is_some());
    }

    #[test]
    fn outer_loops_are_not_innermost() {
        let lines = vec![
            Line::Label(".LBB0_1".into()),
            Line::Label(".LBB0_2".into()),
            Line::Instruction { mnemonic: "jne".into(), operands: ".LBB0_2".into() },
            Line::Instruction { mnemonic: "jne".into(), operands: ".LBB0_1".into() },
            Line::Instruction { mnemonic: "jmp".into(), operands: ".LBB0_9".into() },
        ];
        assert_eq!(innermost_loops(&lines), vec![Loop { start: 1, end: 2 }]);
    }
}
