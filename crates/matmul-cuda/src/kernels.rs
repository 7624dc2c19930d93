//! The kernels: CUDA C sources, their tile configurations, and how each is launched.
//!
//! Every configuration any part of the crate can compile is a row of [`CONFIGS`]: the
//! backends launch the row marked `default` for their kernel and dtype, and the NVRTC
//! gate (`tests/nvrtc_gate.rs`) compiles every row to `sm_90` machine code, so a sweep
//! of tile shapes is a matter of adding rows.
//!
//! # The launch contract (every kernel, every configuration)
//!
//! `kernel(int m, int n, int k, Acc alpha, const T* A, const T* B, Acc beta, Acc* C)` with
//!
//! * `T` the row's [`Dtype`] ([`c_type`]) and `Acc` its accumulator
//!   ([`Dtype::accumulator`]): `T` itself for f32 and f64, `float` for bf16 and f16 inputs,
//!   which the kernel widens exactly as it loads them;
//! * A `m × k`, B `k × n`, C `m × n`, row-major and contiguous (leading dimensions k, n, n),
//!   in distinct device allocations of at least that many elements;
//! * `1 ≤ m, n, k ≤ i32::MAX` and α ≠ 0 (the callers handle the BLAS special cases);
//! * grid `(⌈n / tile_n⌉, ⌈m / tile_m⌉)`, block [`KernelConfig::block`], no dynamic
//!   shared memory.
//!
//! The kernel guards every global load and store, so any m, n, k is legal, and with β = 0
//! it writes C without reading it.

/// Our kernels, in the order of the steps that lead from the textbook to cuBLAS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// One thread per element of C.
    Naive,
    /// 32 × 32 shared-memory tiles.
    Tiled,
    /// Block tiles with a 2-D register tile per thread and 16-byte vector loads.
    RegTile,
    /// Warp tiles, cp.async double buffering, a swizzled shared layout.
    WarpTile,
    /// f64 on the tensor cores: `mma.sync.aligned.m8n8k4` (DMMA).
    Dmma,
}

impl Kernel {
    /// Every kernel.
    pub const ALL: [Kernel; 5] = [Kernel::Naive, Kernel::Tiled, Kernel::RegTile, Kernel::WarpTile, Kernel::Dmma];

    /// The `extern "C"` entry point in its source.
    pub fn entry(self) -> &'static str {
        match self {
            Kernel::Naive => "matmul_naive",
            Kernel::Tiled => "matmul_tiled",
            Kernel::RegTile => "matmul_regtile",
            Kernel::WarpTile => "matmul_warptile",
            Kernel::Dmma => "matmul_dmma",
        }
    }

    /// The kernel's own source (without the common prelude).
    pub fn body(self) -> &'static str {
        match self {
            Kernel::Naive => include_str!("kernels/naive.cu"),
            Kernel::Tiled => include_str!("kernels/tiled.cu"),
            Kernel::RegTile => include_str!("kernels/regtile.cu"),
            Kernel::WarpTile => include_str!("kernels/warptile.cu"),
            Kernel::Dmma => include_str!("kernels/dmma.cu"),
        }
    }

    /// The lowest compute capability it runs on: cp.async and DMMA need sm_80 (Ampere).
    pub fn min_compute_capability(self) -> (u32, u32) {
        match self {
            Kernel::Naive | Kernel::Tiled | Kernel::RegTile => (5, 0),
            Kernel::WarpTile | Kernel::Dmma => (8, 0),
        }
    }
}

/// The element type a configuration is compiled for: the workspace's one [`Dtype`].
pub use matmul_core::Dtype;

/// The CUDA C type of an element type (`MATMUL_T` in the kernels' source).
pub fn c_type(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::F32 => "float",
        Dtype::F64 => "double",
        Dtype::Bf16 => "__nv_bfloat16",
        Dtype::F16 => "__half",
    }
}

/// Static shared memory a kernel may use without the dynamic opt-in.
pub const STATIC_SMEM_BUDGET: u32 = 48 * 1024;

/// [`Kernel::Naive`]'s tiles: one thread per element of C, `BS × BS` blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NaiveTiles {
    pub bs: u32,
}

/// [`Kernel::Tiled`]'s tiles: `TILE × TILE` shared tiles of A and B, one thread per
/// element of C's `TILE × TILE` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedTiles {
    pub tile: u32,
}

/// [`Kernel::RegTile`]'s tiles: `BM × BN` blocks of C, `BK`-deep slices, a `TM × TN`
/// register tile per thread, so `(BM / TM)·(BN / TN)` threads (the kernel's `NT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegTiles {
    pub bm: u32,
    pub bn: u32,
    pub bk: u32,
    pub tm: u32,
    pub tn: u32,
}

/// [`Kernel::WarpTile`]'s tiles: `BM × BN × BK` blocks of `NT` threads, one warp per
/// `WM × WN` warp tile, split into `WNITER` sub-tiles across, `TM × TN` per lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WarpTiles {
    pub bm: u32,
    pub bn: u32,
    pub bk: u32,
    pub wm: u32,
    pub wn: u32,
    pub wniter: u32,
    pub tm: u32,
    pub tn: u32,
    pub nt: u32,
}

/// [`Kernel::Dmma`]'s tiles: `BM × BN × BK` blocks of `NT` threads, one warp per `WM × WN`
/// warp tile of 8 × 8 DMMA fragments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmmaTiles {
    pub bm: u32,
    pub bn: u32,
    pub bk: u32,
    pub wm: u32,
    pub wn: u32,
    pub nt: u32,
}

/// A configuration's tiles, one type per kernel family: the kernel, its `#define`s, the
/// block of C each thread block computes and the thread block itself all follow from
/// them, so a row cannot name tiles its defines do not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tiles {
    Naive(NaiveTiles),
    Tiled(SharedTiles),
    RegTile(RegTiles),
    WarpTile(WarpTiles),
    Dmma(DmmaTiles),
}

impl Tiles {
    /// The kernel these tiles are for.
    pub const fn kernel(&self) -> Kernel {
        match self {
            Tiles::Naive(_) => Kernel::Naive,
            Tiles::Tiled(_) => Kernel::Tiled,
            Tiles::RegTile(_) => Kernel::RegTile,
            Tiles::WarpTile(_) => Kernel::WarpTile,
            Tiles::Dmma(_) => Kernel::Dmma,
        }
    }

    /// The `#define`s prepended to the kernel's source, in the order of its docs.
    pub fn defines(&self) -> Vec<(&'static str, u32)> {
        match *self {
            Tiles::Naive(NaiveTiles { bs }) => vec![("BS", bs)],
            Tiles::Tiled(SharedTiles { tile }) => vec![("TILE", tile)],
            Tiles::RegTile(RegTiles { bm, bn, bk, tm, tn }) => {
                vec![("BM", bm), ("BN", bn), ("BK", bk), ("TM", tm), ("TN", tn)]
            }
            Tiles::WarpTile(WarpTiles { bm, bn, bk, wm, wn, wniter, tm, tn, nt }) => vec![
                ("BM", bm),
                ("BN", bn),
                ("BK", bk),
                ("WM", wm),
                ("WN", wn),
                ("WNITER", wniter),
                ("TM", tm),
                ("TN", tn),
                ("NT", nt),
            ],
            Tiles::Dmma(DmmaTiles { bm, bn, bk, wm, wn, nt }) => {
                vec![("BM", bm), ("BN", bn), ("BK", bk), ("WM", wm), ("WN", wn), ("NT", nt)]
            }
        }
    }

    /// (rows, columns) of C per thread block.
    pub const fn block_tile(&self) -> (u32, u32) {
        match *self {
            Tiles::Naive(NaiveTiles { bs }) => (bs, bs),
            Tiles::Tiled(SharedTiles { tile }) => (tile, tile),
            Tiles::RegTile(RegTiles { bm, bn, .. })
            | Tiles::WarpTile(WarpTiles { bm, bn, .. })
            | Tiles::Dmma(DmmaTiles { bm, bn, .. }) => (bm, bn),
        }
    }

    /// The depth of one k slice of the shared tiles (the naive kernel's `BS`, which has none).
    pub const fn k_slice(&self) -> u32 {
        match *self {
            Tiles::Naive(NaiveTiles { bs }) => bs,
            Tiles::Tiled(SharedTiles { tile }) => tile,
            Tiles::RegTile(RegTiles { bk, .. })
            | Tiles::WarpTile(WarpTiles { bk, .. })
            | Tiles::Dmma(DmmaTiles { bk, .. }) => bk,
        }
    }

    /// Threads per block, (x, y): what the kernel was written for (2-D for the naive and
    /// tiled kernels, `NT` wide for the others).
    pub const fn block(&self) -> (u32, u32) {
        match *self {
            Tiles::Naive(NaiveTiles { bs }) => (bs, bs),
            Tiles::Tiled(SharedTiles { tile }) => (tile, tile),
            Tiles::RegTile(RegTiles { bm, bn, tm, tn, .. }) => ((bm / tm) * (bn / tn), 1),
            Tiles::WarpTile(WarpTiles { nt, .. }) | Tiles::Dmma(DmmaTiles { nt, .. }) => (nt, 1),
        }
    }

    /// The relations the kernels' launch geometry rests on (their sources `static_assert`
    /// the ones that need the element type; the NVRTC gate compiles those). Evaluated for
    /// every row of [`CONFIGS`] when the crate is compiled.
    const fn check(&self) {
        match *self {
            Tiles::Naive(_) | Tiles::Tiled(_) => {}
            Tiles::RegTile(RegTiles { bm, bn, bk, tm, tn }) => {
                assert!(
                    bk > 0 && tm > 0 && tn > 0 && bm % tm == 0 && bn % tn == 0,
                    "BM, BN must be whole TM, TN tiles"
                );
            }
            Tiles::WarpTile(WarpTiles { bm, bn, bk, wm, wn, wniter, tm, tn, nt }) => {
                assert!(bk > 0 && wm > 0 && wn > 0 && bm % wm == 0 && bn % wn == 0, "BM, BN must be whole warp tiles");
                assert!(nt == (bm / wm) * (bn / wn) * 32, "NT must be one warp per warp tile");
                assert!(wniter > 0 && tm > 0 && tn > 0 && wn % wniter == 0, "WN must split into WNITER sub-tiles");
                assert!(
                    (wm * wn) % (32 * tm * tn * wniter) == 0,
                    "a warp tile must be whole sub-tiles of 32 lane tiles"
                );
            }
            Tiles::Dmma(DmmaTiles { bm, bn, bk, wm, wn, nt }) => {
                assert!(wm > 0 && wn > 0 && bm % wm == 0 && bn % wn == 0, "BM, BN must be whole warp tiles");
                assert!(nt == (bm / wm) * (bn / wn) * 32, "NT must be one warp per warp tile");
                assert!(wm % 8 == 0 && wn % 8 == 0 && bk % 4 == 0 && bk > 0, "tiles must be whole DMMA shapes");
            }
        }
        let (x, y) = self.block();
        assert!(x * y > 0 && x * y <= 1024 && (x * y) % 32 == 0, "a block is 1 to 1024 threads, whole warps");
    }
}

/// One compilable (dtype, tiles) combination: a row of [`CONFIGS`].
#[derive(Clone, Copy, Debug)]
pub struct KernelConfig {
    /// Element type.
    pub dtype: Dtype,
    /// The kernel and its tiles.
    pub tiles: Tiles,
    /// Whether the backends launch this one (one default per kernel and dtype).
    pub default: bool,
}

impl KernelConfig {
    /// Which kernel.
    pub const fn kernel(&self) -> Kernel {
        self.tiles.kernel()
    }

    /// Threads per block, (x, y).
    pub const fn block(&self) -> (u32, u32) {
        self.tiles.block()
    }

    /// Rows of C per block.
    pub const fn tile_m(&self) -> u32 {
        self.tiles.block_tile().0
    }

    /// Columns of C per block.
    pub const fn tile_n(&self) -> u32 {
        self.tiles.block_tile().1
    }

    /// A short label for tables: `regtile f32 BM=128 BN=128 …`.
    pub fn label(&self) -> String {
        let defines: Vec<String> = self.tiles.defines().iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{:?} {} {}", self.kernel(), self.dtype.as_str(), defines.join(" ")).to_lowercase()
    }

    /// The full NVRTC source: dtype and tile `#define`s, the common prelude, the kernel.
    /// Half inputs add `#define MATMUL_HALF 1`, from which the prelude takes `Acc = float`.
    pub fn source(&self) -> String {
        let mut src = format!("#define MATMUL_T {}\n", c_type(self.dtype));
        if self.dtype.is_half() {
            src.push_str("#define MATMUL_HALF 1\n");
        }
        for (name, value) in self.tiles.defines() {
            src.push_str(&format!("#define {name} {value}\n"));
        }
        src.push_str(include_str!("kernels/common.cuh"));
        src.push('\n');
        src.push_str(self.kernel().body());
        src
    }

    /// The shared-memory budget the gate holds it to: every kernel here uses static
    /// shared memory only, so 48 KiB.
    pub fn smem_budget(&self) -> u32 {
        STATIC_SMEM_BUDGET
    }

    /// The grid for an `m × n` C: `(⌈n / tile_n⌉, ⌈m / tile_m⌉)`, or `None` when it
    /// exceeds CUDA's limits (x < 2³¹, y < 2¹⁶).
    pub fn grid(&self, m: usize, n: usize) -> Option<(u32, u32)> {
        let gx = n.div_ceil(self.tile_n() as usize);
        let gy = m.div_ceil(self.tile_m() as usize);
        (gx <= i32::MAX as usize && gy <= 65535).then_some((gx as u32, gy as u32))
    }
}

/// A row, checked ([`Tiles::check`]) while [`CONFIGS`] is compiled: a row that breaks a
/// relation fails the build, and so does a half-input row of a kernel other than
/// [`Kernel::WarpTile`], the only one written for `T` ≠ `Acc`.
const fn cfg(dtype: Dtype, tiles: Tiles, default: bool) -> KernelConfig {
    tiles.check();
    assert!(!dtype.is_half() || matches!(tiles, Tiles::WarpTile(_)), "only the warp-tiled kernel reads half inputs");
    KernelConfig { dtype, tiles, default }
}

const fn naive(bs: u32) -> Tiles {
    Tiles::Naive(NaiveTiles { bs })
}

const fn tiled(tile: u32) -> Tiles {
    Tiles::Tiled(SharedTiles { tile })
}

const fn regtile([bm, bn, bk]: [u32; 3], [tm, tn]: [u32; 2]) -> Tiles {
    Tiles::RegTile(RegTiles { bm, bn, bk, tm, tn })
}

/// Block `[BM, BN, BK]`, warp `[WM, WN]`, `WNITER`, lane `[TM, TN]`, `NT`.
const fn warptile([bm, bn, bk]: [u32; 3], [wm, wn]: [u32; 2], wniter: u32, [tm, tn]: [u32; 2], nt: u32) -> Tiles {
    Tiles::WarpTile(WarpTiles { bm, bn, bk, wm, wn, wniter, tm, tn, nt })
}

/// Block `[BM, BN, BK]`, warp `[WM, WN]`, `NT`.
const fn dmma([bm, bn, bk]: [u32; 3], [wm, wn]: [u32; 2], nt: u32) -> Tiles {
    Tiles::Dmma(DmmaTiles { bm, bn, bk, wm, wn, nt })
}

use Dtype::{Bf16, F16, F32, F64};

/// Every configuration: the backends' defaults and the alternatives a tile sweep tries.
/// The NVRTC gate compiles all of them.
pub static CONFIGS: &[KernelConfig] = &[
    // One thread per element, 16 × 16 blocks.
    cfg(F32, naive(16), true),
    cfg(F64, naive(16), true),
    // 32 × 32 shared tiles, 1024 threads.
    cfg(F32, tiled(32), true),
    cfg(F64, tiled(32), true),
    cfg(F32, tiled(16), false),
    // 128 × 128 blocks of 256 threads, each an 8 × 8 register tile.
    cfg(F32, regtile([128, 128, 8], [8, 8]), true),
    cfg(F64, regtile([128, 128, 8], [8, 8]), true),
    cfg(F32, regtile([64, 64, 8], [4, 4]), false),
    cfg(F64, regtile([64, 64, 8], [4, 4]), false),
    // Warp tiles: 128 × 128 × 16, 8 warps of 64 × 32, 2 × 2 sub-tiles of 4 × 4 per lane.
    cfg(F32, warptile([128, 128, 16], [64, 32], 2, [4, 4], 256), true),
    cfg(F32, warptile([128, 128, 8], [64, 32], 2, [4, 4], 256), false),
    cfg(F32, warptile([128, 64, 16], [64, 32], 2, [4, 4], 128), false),
    // 128 × 256: 8 warps of 64 × 64, 8 × 16 per lane (all 48 KiB of static shared memory).
    cfg(F32, warptile([128, 256, 16], [64, 64], 4, [4, 4], 256), false),
    // The default's block with 4 × 2 warps of 32 × 64 (one sub-tile down, four across).
    cfg(F32, warptile([128, 128, 16], [32, 64], 4, [4, 4], 256), false),
    cfg(F64, warptile([64, 64, 16], [32, 32], 2, [4, 4], 128), true),
    // Half inputs: the f32 default's tiles, A and B widened to float into shared memory.
    cfg(Bf16, warptile([128, 128, 16], [64, 32], 2, [4, 4], 256), true),
    cfg(F16, warptile([128, 128, 16], [64, 32], 2, [4, 4], 256), true),
    // DMMA: 4 warps of 32 × 32 over a 64 × 64 × 16 block, or warps of 64 × 32 over 128 × 128 × 8 (8)
    // and 128 × 64 × 8 (4): the large warp tile with half the threads.
    cfg(F64, dmma([64, 64, 16], [32, 32], 128), true),
    cfg(F64, dmma([128, 128, 8], [64, 32], 256), false),
    cfg(F64, dmma([128, 64, 8], [64, 32], 128), false),
];

/// The configuration the backends launch for `kernel` in `dtype`, if it has one.
pub fn default_config(kernel: Kernel, dtype: Dtype) -> Option<(usize, &'static KernelConfig)> {
    CONFIGS.iter().enumerate().find(|(_, c)| c.kernel() == kernel && c.dtype == dtype && c.default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Kernel::{Dmma, Naive, RegTile};

    #[test]
    fn one_default_per_kernel_and_dtype_except_dmma_f32_and_half_inputs_warptile_only() {
        for kernel in Kernel::ALL {
            for dtype in Dtype::ALL {
                let n = CONFIGS.iter().filter(|c| c.kernel() == kernel && c.dtype == dtype && c.default).count();
                let expected = usize::from(if dtype.is_half() {
                    kernel == Kernel::WarpTile
                } else {
                    !(kernel == Dmma && dtype == F32)
                });
                assert_eq!(n, expected, "{kernel:?} {dtype:?}");
            }
        }
    }

    #[test]
    fn half_rows_define_their_storage_type_and_a_float_accumulator() {
        let c = default_config(Kernel::WarpTile, Bf16).unwrap().1;
        assert!(c.source().starts_with("#define MATMUL_T __nv_bfloat16\n#define MATMUL_HALF 1\n#define BM 128\n"));
        let c = default_config(Kernel::WarpTile, F16).unwrap().1;
        assert!(c.source().starts_with("#define MATMUL_T __half\n#define MATMUL_HALF 1\n"));
        let c = default_config(Kernel::WarpTile, F32).unwrap().1;
        assert!(!c.source().lines().any(|l| l.starts_with("#define MATMUL_HALF")));
    }

    #[test]
    fn each_rows_source_defines_its_tiles_and_its_launch_matches_them() {
        for c in CONFIGS {
            let src = c.source();
            let defined = |name: &str| -> Option<u32> {
                let line = src.lines().find(|l| l.starts_with(&format!("#define {name} ")))?;
                line.rsplit(' ').next()?.parse().ok()
            };
            let (x, y) = c.block();
            let threads = x * y;
            assert!(threads > 0 && threads <= 1024 && threads % 32 == 0, "{}", c.label());
            match c.tiles {
                Tiles::Naive(t) => assert_eq!((defined("BS"), (x, y)), (Some(t.bs), (t.bs, t.bs)), "{}", c.label()),
                Tiles::Tiled(t) => {
                    assert_eq!((defined("TILE"), (x, y)), (Some(t.tile), (t.tile, t.tile)), "{}", c.label())
                }
                Tiles::RegTile(t) => {
                    assert_eq!([defined("BM"), defined("BN"), defined("BK")], [Some(t.bm), Some(t.bn), Some(t.bk)]);
                    assert_eq!(threads, (t.bm / t.tm) * (t.bn / t.tn), "{}: the kernel's NT", c.label());
                }
                Tiles::WarpTile(WarpTiles { nt, .. }) | Tiles::Dmma(DmmaTiles { nt, .. }) => {
                    assert_eq!((defined("NT"), threads), (Some(nt), nt), "{}", c.label());
                }
            }
            let (tm, tn) = c.tiles.block_tile();
            if !matches!(c.tiles, Tiles::Naive(_) | Tiles::Tiled(_)) {
                assert_eq!((defined("BM"), defined("BN")), (Some(tm), Some(tn)), "{}", c.label());
            }
            assert_eq!((c.tile_m(), c.tile_n()), (tm, tn));
        }
    }

    #[test]
    fn grid_limits_are_refused() {
        let c = default_config(Naive, F32).unwrap().1;
        assert_eq!(c.grid(1, 1), Some((1, 1)));
        assert_eq!(c.grid(33, 17), Some((2, 3)));
        assert_eq!(c.grid(16 * 65535, 1), Some((1, 65535)));
        assert_eq!(c.grid(16 * 65535 + 1, 1), None);
    }

    #[test]
    fn source_starts_with_the_defines() {
        let c = default_config(RegTile, F64).unwrap().1;
        let src = c.source();
        assert!(src.starts_with("#define MATMUL_T double\n#define BM 128\n"), "{}", &src[..80]);
        assert!(src.contains("matmul_regtile"));
    }
}
