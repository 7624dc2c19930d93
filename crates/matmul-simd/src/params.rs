//! Cache block sizes, one row per (instruction set, element type).
//!
//! The five loops of the `driver` module cut the product into blocks that each stay in one
//! level of the cache while they are reused:
//!
//! * **KC** (depth of a packed panel): one `KC × NR` micro-panel of B stays in **L1** while
//!   the kernel sweeps it against every A micro-panel of the block; balanced over `k` so
//!   that no last block is tiny ([`Blocking::kc_for`]);
//! * **MC** (rows of a packed A block): the `MC × KC` block of A stays in **L2** while every
//!   B micro-panel of the current `KC × NC` block streams past it;
//! * **NC** (columns of a packed B block): the `KC × NC` block of B stays in **L3**, shared
//!   by the threads.
//!
//! This is the blocking of Goto and van de Geijn, "Anatomy of High-Performance Matrix
//! Multiplication" (ACM TOMS 34(3), 2008), as BLIS structures it (Van Zee and van de Geijn,
//! "BLIS: A Framework for Rapidly Instantiating BLAS Functionality", ACM TOMS 41(3), 2015).
//! The sizes start from the public BLIS configurations: AOCL-BLIS's
//! `config/zen4/bli_cntx_init_zen4.c` and BLIS's `config/haswell` and `config/zen3`
//! (`bli_cntx_init_*.c`). They were checked on a Zen 4 machine (L1D 32 KiB, L2 1 MiB, L3
//! 32 MiB).

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    /// Rows of A packed at once (a multiple of the kernel's MR).
    pub mc: usize,
    /// Depth of a packed block (the largest; see [`Blocking::kc_for`]).
    pub kc: usize,
    /// Columns of B packed at once (a multiple of the kernel's NR).
    pub nc: usize,
}

impl Blocking {
    /// The depth actually used for a product of depth `k`: `k` split into
    /// `⌈k / KC⌉` nearly equal blocks. It depends on `k` alone, never on the thread
    /// count, which is what keeps every C element's sum in the same order.
    pub fn kc_for(&self, k: usize) -> usize {
        let blocks = k.div_ceil(self.kc).max(1);
        k.div_ceil(blocks).max(1)
    }
}

/// f64, AVX-512 24×8. A: 120 × 512 × 8 B = 480 KiB, half of Zen 4's 1 MiB L2; a B
/// micro-panel 512 × 8 × 8 B = 32 KiB, Zen 4's whole L1D (its L2 bandwidth covers the
/// overflow: AOCL's zen4 config uses exactly these sizes); B block 512 × 4032 × 8 B = 16 MiB
/// of the 32 MiB L3.
pub const F64_AVX512: Blocking = Blocking { mc: 120, kc: 512, nc: 4032 };

/// f32, AVX-512 32×12. A: 320 × 384 × 4 B = 480 KiB of L2; B micro-panel 384 × 12 × 4 B
/// = 18 KiB of L1; B block 384 × 6144 × 4 B = 9 MiB of L3.
pub const F32_AVX512: Blocking = Blocking { mc: 320, kc: 384, nc: 6144 };

/// bf16 pairs, AVX-512 BF16 32×12: the f32 tile's bytes, with twice its depth (a bf16 is
/// half an f32). A: 320 × 768 × 2 B = 480 KiB of L2; B micro-panel 768 × 12 × 2 B = 18 KiB
/// of L1; B block 768 × 6144 × 2 B = 9 MiB of L3. A K block of odd depth pads its last pair
/// with a zero.
pub const BF16_AVX512: Blocking = Blocking { mc: 320, kc: 768, nc: 6144 };

/// f64, AVX2 8×6. A: 120 × 256 × 8 B = 240 KiB, inside a 256 KiB L2 (Haswell) and a
/// quarter of Zen's; B micro-panel 256 × 6 × 8 B = 12 KiB of L1; B block 256 × 4080 × 8 B =
/// 8 MiB of L3 (BLIS haswell/zen3: 72/256/4080, MC raised for 512 KiB+ L2s).
pub const F64_AVX2: Blocking = Blocking { mc: 120, kc: 256, nc: 4080 };

/// f32, AVX2 16×6. A: 144 × 256 × 4 B = 144 KiB of L2; B micro-panel 256 × 6 × 4 B =
/// 6 KiB of L1; B block 256 × 4080 × 4 B = 4 MiB of L3 (BLIS zen3).
pub const F32_AVX2: Blocking = Blocking { mc: 144, kc: 256, nc: 4080 };

/// f64, portable 8×4. A: 64 × 256 × 8 B = 128 KiB of L2; B micro-panel 256 × 4 × 8 B =
/// 8 KiB of L1; B block 256 × 4096 × 8 B = 8 MiB of L3. Conservative: the CPUs that run
/// it are unknown.
pub const F64_PORTABLE: Blocking = Blocking { mc: 64, kc: 256, nc: 4096 };

/// f32, portable 16×4. A: 128 × 256 × 4 B = 128 KiB of L2; B micro-panel 256 × 4 × 4 B =
/// 4 KiB of L1; B block 256 × 4096 × 4 B = 4 MiB of L3.
pub const F32_PORTABLE: Blocking = Blocking { mc: 128, kc: 256, nc: 4096 };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kc_is_balanced_and_bounded() {
        let b = F64_AVX512;
        assert_eq!(b.kc_for(1), 1);
        assert_eq!(b.kc_for(512), 512);
        assert_eq!(b.kc_for(513), 257);
        assert_eq!(b.kc_for(1024), 512);
        assert_eq!(b.kc_for(1100), 367);
        for k in 1..3000 {
            let kc = b.kc_for(k);
            assert!(kc <= b.kc && kc >= 1);
            // No more blocks than the plain split would need.
            assert_eq!(k.div_ceil(kc), k.div_ceil(b.kc));
        }
    }
}
