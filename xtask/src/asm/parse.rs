//! Reading compiler output: functions in an assembly (`.s`) or LLVM IR (`.ll`) file, the
//! loops of a function, and what the innermost loop's floating-point instructions say.
//!
//! The assembly is x86-64 in Intel syntax (`vfmadd231pd ymm0, ymm1, ymmword ptr [rax]`);
//! `asm` asks rustc for that syntax. Other architectures get the listing but no verdict.

use std::collections::BTreeMap;
use std::fmt;

/// One function of an assembly file: its mangled and demangled names and its lines.
#[derive(Debug, Clone)]
pub struct Function {
    pub symbol: String,
    /// Demangled without the crate hashes, e.g. `matmul_naive::ijk::<f64>`.
    pub name: String,
    pub lines: Vec<Line>,
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

/// Every function of an assembly file. A function starts at a label in column 0 that is
/// not local (`.L…`) and ends at `.Lfunc_end…` or at the next such label.
pub fn functions(asm: &str) -> Vec<Function> {
    let mut out: Vec<Function> = Vec::new();
    let mut current: Option<Function> = None;
    for raw in asm.lines() {
        // Intel-syntax comments start with `#`; none of the names we read contain one.
        let line = raw.split('#').next().unwrap_or("").trim_end();
        if line.is_empty() {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        let text = line.trim();
        if let Some(label) = text.strip_suffix(':').filter(|l| !l.contains(char::is_whitespace)) {
            if label.starts_with(".Lfunc_end") {
                out.extend(current.take());
            } else if label.starts_with(".L") {
                if let Some(f) = current.as_mut() {
                    f.lines.push(Line::Label(label.to_owned()));
                }
            } else if !indented {
                out.extend(current.take());
                let symbol = label.trim_matches('"').to_owned();
                let name = demangle(&symbol).unwrap_or_else(|| symbol.clone());
                current = Some(Function { symbol, name, lines: Vec::new() });
            }
            continue;
        }
        if text.starts_with('.') {
            continue; // a directive
        }
        if let Some(f) = current.as_mut() {
            let (mnemonic, operands) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
            f.lines.push(Line::Instruction { mnemonic: mnemonic.to_owned(), operands: operands.trim().to_owned() });
        }
    }
    out.extend(current);
    out
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
    let fma = matches!(op, "fmadd" | "fmsub" | "fnmadd" | "fnmsub" | "fmaddsub" | "fmsubadd");
    if !fma && !matches!(op, "add" | "sub" | "mul" | "div") {
        return None;
    }
    let width = [Width::Zmm, Width::Ymm, Width::Xmm].into_iter().find(|w| operands.contains(w.name()));
    Some(FpOp { mnemonic: mnemonic.to_owned(), fma, packed, elem_bits, width })
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
    /// Instructions per iteration that address the stack (`rsp`/`rbp`): in a register-tiled
    /// kernel these are spilled accumulators.
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
                Line::Instruction { operands, .. } => {
                    operands.contains('[') && (operands.contains("rsp") || operands.contains("rbp"))
                }
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

    const SAMPLE: &str = r#"
	.section	.text._RINvCsfzNAGrNwNqL_12matmul_naive3ikjdEB2_,"ax",@progbits
	.p2align	4
	.type	_RINvCsfzNAGrNwNqL_12matmul_naive3ikjdEB2_,@function
_RINvCsfzNAGrNwNqL_12matmul_naive3ikjdEB2_:
	.cfi_startproc
	xor	eax, eax
.LBB0_1:
	vmovupd	ymm1, ymmword ptr [rdi + 8*rax]
	vfmadd231pd	ymm0, ymm1, ymmword ptr [rsi + 8*rax]   # comment
	add	rax, 4
	cmp	rax, rdx
	jb	.LBB0_1
.LBB0_2:
	vmulsd	xmm1, xmm1, qword ptr [rdi]
	vaddsd	xmm0, xmm0, xmm1
	dec	rcx
	jne	.LBB0_2
	ret
.Lfunc_end0:
	.size	_RINvCsfzNAGrNwNqL_12matmul_naive3ikjdEB2_, .Lfunc_end0-_RINvCsfzNAGrNwNqL_12matmul_naive3ikjdEB2_
"#;

    #[test]
    fn finds_functions_loops_and_verdicts() {
        let fs = functions(SAMPLE);
        assert_eq!(fs.len(), 1);
        assert_eq!(fs[0].name, "matmul_naive::ikj::<f64>");
        let loops = innermost_loops(&fs[0].lines);
        assert_eq!(loops.len(), 2);
        let verdicts: Vec<Verdict> = loops.iter().map(|l| Verdict::of(&fs[0].lines[l.start..=l.end])).collect();
        assert_eq!(
            verdicts[0].to_string(),
            "inner loop: vfmadd231pd on ymm (4 × f64): vectorised, FMA (1 per iteration), no stack access (nothing spilled)"
        );
        assert_eq!(verdicts[1].to_string(), "inner loop: scalar (vmulsd, vaddsd)");
        assert!(verdicts[0].rank() > verdicts[1].rank());
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
    fn classifies_mnemonics() {
        assert!(fp_op("vmovupd", "ymm0, ymmword ptr [rax]").is_none());
        assert!(fp_op("vpaddq", "ymm0, ymm1, ymm2").is_none());
        let op = fp_op("vmulps", "zmm0, zmm1, zmm2").unwrap();
        assert!(op.packed && !op.fma && op.elem_bits == 32 && op.width == Some(Width::Zmm));
        let op = fp_op("vfnmadd213ss", "xmm0, xmm1, xmm2").unwrap();
        assert!(!op.packed && op.fma);
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
