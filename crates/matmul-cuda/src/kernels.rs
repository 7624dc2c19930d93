//! The kernels: CUDA C sources, their tile configurations, and how each is launched.
//!
//! Every configuration any part of the crate can compile is a row of [`CONFIGS`]: the
//! backends launch the row marked `default` for their kernel and dtype, and the NVRTC
//! gate (`tests/nvrtc_gate.rs`) compiles every row to `sm_90` machine code, so a sweep
//! of tile shapes is a matter of adding rows.
//!
//! # The launch contract (every kernel, every configuration)
//!
//! `kernel(int m, int n, int k, T alpha, const T* A, const T* B, T beta, T* C)` with
//!
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
    }
}

/// Static shared memory a kernel may use without the dynamic opt-in.
pub const STATIC_SMEM_BUDGET: u32 = 48 * 1024;

/// One compilable (kernel, dtype, tiles) combination and its launch geometry.
#[derive(Clone, Copy, Debug)]
pub struct KernelConfig {
    /// Which kernel.
    pub kernel: Kernel,
    /// Element type.
    pub dtype: Dtype,
    /// The tile `#define`s prepended to the source, e.g. `("BM", 128)`.
    pub defines: &'static [(&'static str, u32)],
    /// Threads per block, (x, y).
    pub block: (u32, u32),
    /// Rows of C per block.
    pub tile_m: u32,
    /// Columns of C per block.
    pub tile_n: u32,
    /// Whether the backends launch this one (one default per kernel and dtype).
    pub default: bool,
}

impl KernelConfig {
    /// A short label for tables: `regtile f32 BM=128 BN=128 …`.
    pub fn label(&self) -> String {
        let defines: Vec<String> = self.defines.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{:?} {} {}", self.kernel, self.dtype.as_str(), defines.join(" ")).to_lowercase()
    }

    /// The full NVRTC source: dtype and tile `#define`s, the common prelude, the kernel.
    pub fn source(&self) -> String {
        let mut src = format!("#define MATMUL_T {}\n", c_type(self.dtype));
        for (name, value) in self.defines {
            src.push_str(&format!("#define {name} {value}\n"));
        }
        src.push_str(include_str!("kernels/common.cuh"));
        src.push('\n');
        src.push_str(self.kernel.body());
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
        let gx = n.div_ceil(self.tile_n as usize);
        let gy = m.div_ceil(self.tile_m as usize);
        (gx <= i32::MAX as usize && gy <= 65535).then_some((gx as u32, gy as u32))
    }
}

const fn cfg(
    kernel: Kernel,
    dtype: Dtype,
    defines: &'static [(&'static str, u32)],
    block: (u32, u32),
    tile: (u32, u32),
    default: bool,
) -> KernelConfig {
    KernelConfig { kernel, dtype, defines, block, tile_m: tile.0, tile_n: tile.1, default }
}

use Dtype::{F32, F64};
use Kernel::{Dmma, Naive, RegTile, Tiled, WarpTile};

/// Every configuration: the backends' defaults and the alternatives a tile sweep tries.
/// The NVRTC gate compiles all of them.
pub static CONFIGS: &[KernelConfig] = &[
    // One thread per element, 16 × 16 blocks.
    cfg(Naive, F32, &[("BS", 16)], (16, 16), (16, 16), true),
    cfg(Naive, F64, &[("BS", 16)], (16, 16), (16, 16), true),
    // 32 × 32 shared tiles, 1024 threads.
    cfg(Tiled, F32, &[("TILE", 32)], (32, 32), (32, 32), true),
    cfg(Tiled, F64, &[("TILE", 32)], (32, 32), (32, 32), true),
    cfg(Tiled, F32, &[("TILE", 16)], (16, 16), (16, 16), false),
    // 128 × 128 blocks of 256 threads, each an 8 × 8 register tile.
    cfg(RegTile, F32, &[("BM", 128), ("BN", 128), ("BK", 8), ("TM", 8), ("TN", 8)], (256, 1), (128, 128), true),
    cfg(RegTile, F64, &[("BM", 128), ("BN", 128), ("BK", 8), ("TM", 8), ("TN", 8)], (256, 1), (128, 128), true),
    cfg(RegTile, F32, &[("BM", 64), ("BN", 64), ("BK", 8), ("TM", 4), ("TN", 4)], (256, 1), (64, 64), false),
    cfg(RegTile, F64, &[("BM", 64), ("BN", 64), ("BK", 8), ("TM", 4), ("TN", 4)], (256, 1), (64, 64), false),
    // Warp tiles: 128 × 128 × 16, 8 warps of 64 × 32, 2 × 2 sub-tiles of 4 × 4 per lane.
    cfg(
        WarpTile,
        F32,
        &[
            ("BM", 128),
            ("BN", 128),
            ("BK", 16),
            ("WM", 64),
            ("WN", 32),
            ("WNITER", 2),
            ("TM", 4),
            ("TN", 4),
            ("NT", 256),
        ],
        (256, 1),
        (128, 128),
        true,
    ),
    cfg(
        WarpTile,
        F32,
        &[
            ("BM", 128),
            ("BN", 128),
            ("BK", 8),
            ("WM", 64),
            ("WN", 32),
            ("WNITER", 2),
            ("TM", 4),
            ("TN", 4),
            ("NT", 256),
        ],
        (256, 1),
        (128, 128),
        false,
    ),
    cfg(
        WarpTile,
        F32,
        &[
            ("BM", 128),
            ("BN", 64),
            ("BK", 16),
            ("WM", 64),
            ("WN", 32),
            ("WNITER", 2),
            ("TM", 4),
            ("TN", 4),
            ("NT", 128),
        ],
        (128, 1),
        (128, 64),
        false,
    ),
    // 128 × 256: 8 warps of 64 × 64, 8 × 16 per lane (all 48 KiB of static shared memory).
    cfg(
        WarpTile,
        F32,
        &[
            ("BM", 128),
            ("BN", 256),
            ("BK", 16),
            ("WM", 64),
            ("WN", 64),
            ("WNITER", 4),
            ("TM", 4),
            ("TN", 4),
            ("NT", 256),
        ],
        (256, 1),
        (128, 256),
        false,
    ),
    // The default's block with 4 × 2 warps of 32 × 64 (one sub-tile down, four across).
    cfg(
        WarpTile,
        F32,
        &[
            ("BM", 128),
            ("BN", 128),
            ("BK", 16),
            ("WM", 32),
            ("WN", 64),
            ("WNITER", 4),
            ("TM", 4),
            ("TN", 4),
            ("NT", 256),
        ],
        (256, 1),
        (128, 128),
        false,
    ),
    cfg(
        WarpTile,
        F64,
        &[("BM", 64), ("BN", 64), ("BK", 16), ("WM", 32), ("WN", 32), ("WNITER", 2), ("TM", 4), ("TN", 4), ("NT", 128)],
        (128, 1),
        (64, 64),
        true,
    ),
    // DMMA: 4 warps of 32 × 32 over a 64 × 64 × 16 block, or warps of 64 × 32 over 128 × 128 × 8 (8)
    // and 128 × 64 × 8 (4).
    cfg(
        Dmma,
        F64,
        &[("BM", 64), ("BN", 64), ("BK", 16), ("WM", 32), ("WN", 32), ("NT", 128)],
        (128, 1),
        (64, 64),
        true,
    ),
    cfg(
        Dmma,
        F64,
        &[("BM", 128), ("BN", 128), ("BK", 8), ("WM", 64), ("WN", 32), ("NT", 256)],
        (256, 1),
        (128, 128),
        false,
    ),
    // 4 warps of 64 × 32 over 128 × 64 × 8: the large warp tile with half the threads.
    cfg(
        Dmma,
        F64,
        &[("BM", 128), ("BN", 64), ("BK", 8), ("WM", 64), ("WN", 32), ("NT", 128)],
        (128, 1),
        (128, 64),
        false,
    ),
];

/// The configuration the backends launch for `kernel` in `dtype`, if it has one.
pub fn default_config(kernel: Kernel, dtype: Dtype) -> Option<(usize, &'static KernelConfig)> {
    CONFIGS.iter().enumerate().find(|(_, c)| c.kernel == kernel && c.dtype == dtype && c.default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_default_per_kernel_and_dtype_except_dmma_f32() {
        for kernel in Kernel::ALL {
            for dtype in [F32, F64] {
                let n = CONFIGS.iter().filter(|c| c.kernel == kernel && c.dtype == dtype && c.default).count();
                let expected = usize::from(!(kernel == Dmma && dtype == F32));
                assert_eq!(n, expected, "{kernel:?} {dtype:?}");
            }
        }
    }

    #[test]
    fn block_threads_match_the_tiles() {
        for c in CONFIGS {
            let threads = c.block.0 * c.block.1;
            assert!(threads > 0 && threads <= 1024 && threads % 32 == 0, "{}", c.label());
            if let Some(&(_, nt)) = c.defines.iter().find(|(k, _)| *k == "NT") {
                assert_eq!(nt, threads, "{}", c.label());
            }
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
