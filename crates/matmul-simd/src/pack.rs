//! Packing: copying blocks of A and B into the micro-panel layouts the kernels read, and
//! the reusable, cache-line-aligned buffers they are copied into.
//!
//! Packing is where every layout is absorbed: row-major, column-major, transposed, padded
//! or general-stride operands all become the same contiguous micro-panels, so the kernels
//! run one fast path. Each source layout gets a loop that reads memory in order (the
//! contiguous direction innermost); panels are zero-padded to a whole `MR` or `NR`.
//!
//! Packing is also where the element type is absorbed: a panel is written in the
//! accumulator type `E::Acc` from operands in `E`, so bf16 and f16 operands are widened
//! to `f32` here (exactly; contiguous runs through the `half` crate's vectorised
//! conversion, F16C for f16) and then run the `f32` kernels. For `f32` and `f64` the
//! widening is a copy.

use std::cell::RefCell;
use std::marker::PhantomData;

use matmul_core::{Element, MatRef};

/// A read-only operand: a `rows × cols` view, element `(i, j)` at `i·rs + j·cs` elements
/// from `(0, 0)`, strides of either sign. Reads go through [`Operand::at`] and the
/// contiguous runs of [`Operand::col_run`] and [`Operand::row_run`], which check that
/// they stay inside the view (per run, not per element): the memory between a strided
/// view's elements is not the operand's, so no slice ever spans it.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'a, T> {
    ptr: *const T,
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
    _borrow: PhantomData<&'a T>,
}

// SAFETY: an Operand is a shared borrow of a MatRef's elements, as the MatRef is: it may
// cross threads when `T: Sync`, and nothing writes through it.
unsafe impl<T: Sync> Send for Operand<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Operand<'_, T> {}

impl<'a, T: Element> Operand<'a, T> {
    /// The elements of `v`, for as long as `v` borrows them.
    pub fn of(v: MatRef<'a, T>) -> Self {
        let (rs, cs) = v.strides();
        Operand { ptr: v.as_ptr(), rows: v.nrows(), cols: v.ncols(), rs, cs, _borrow: PhantomData }
    }

    /// The transpose: the same elements with the strides swapped.
    pub fn t(self) -> Self {
        Operand { rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs, ..self }
    }

    /// The strides as `usize`, when neither is negative.
    pub fn unsigned_strides(&self) -> Option<(usize, usize)> {
        Some((usize::try_from(self.rs).ok()?, usize::try_from(self.cs).ok()?))
    }

    /// Panics (a bug in the caller, not bad input) unless rows `i0 .. i0 + rows` and
    /// columns `j0 .. j0 + cols` lie inside the operand.
    #[inline(always)]
    pub fn assert_block(&self, (i0, rows): (usize, usize), (j0, cols): (usize, usize)) {
        assert!(
            i0.checked_add(rows).is_some_and(|e| e <= self.rows)
                && j0.checked_add(cols).is_some_and(|e| e <= self.cols),
            "block ({i0}+{rows}, {j0}+{cols}) outside a {}×{} operand",
            self.rows,
            self.cols
        );
    }

    /// Pointer to `(i, j)`.
    ///
    /// # Safety
    /// `i < rows` and `j < cols`.
    #[inline(always)]
    pub unsafe fn ptr_at(&self, i: usize, j: usize) -> *const T {
        // SAFETY: (i, j) is an element of the view (the caller's contract), whose offset
        // from (0, 0) fits isize and lies in the same allocation (the MatRef checked it).
        unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }

    /// Element `(i, j)`.
    ///
    /// # Safety
    /// `i < rows` and `j < cols`.
    #[inline(always)]
    pub unsafe fn at(&self, i: usize, j: usize) -> T {
        // SAFETY: an element of the view (the caller's contract), valid for reads for 'a.
        unsafe { *self.ptr_at(i, j) }
    }

    /// Rows `i .. i + len` of column `j`, contiguous: the row stride is 1 (or `len ≤ 1`).
    /// Panics outside the operand.
    #[inline(always)]
    pub fn col_run(&self, i: usize, j: usize, len: usize) -> &'a [T] {
        assert!(self.rs == 1 || len <= 1, "column run with row stride {}", self.rs);
        self.assert_block((i, len), (j, 1));
        if len == 0 {
            return &[];
        }
        // SAFETY: the `len` elements are consecutive elements of the view (unit row
        // stride, inside by the assertion), borrowed for 'a.
        unsafe { std::slice::from_raw_parts(self.ptr_at(i, j), len) }
    }

    /// Columns `j .. j + len` of row `i`, contiguous: the column stride is 1 (or `len ≤ 1`).
    /// Panics outside the operand.
    #[inline(always)]
    pub fn row_run(&self, i: usize, j: usize, len: usize) -> &'a [T] {
        self.t().col_run(j, i, len)
    }
}

/// 64 bytes on a 64-byte boundary: a cache line, and an AVX-512 register.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
struct CacheLine([u8; 64]);

/// A growable buffer of cache lines, viewed as `T`s. It only grows: after the first
/// product of a given size, later calls reuse it without allocating (a fresh large `Vec`
/// would be a new `mmap` whose pages fault in on every call, several percent at n = 512).
#[derive(Default)]
pub(crate) struct Buffer {
    lines: Vec<CacheLine>,
}

impl Buffer {
    /// The first `len` elements, 64-byte aligned. Contents are whatever the last user left
    /// (packing overwrites everything the kernels read, padding included).
    pub fn get<T: bytemuck::Pod>(&mut self, len: usize) -> &mut [T] {
        let per_line = std::mem::size_of::<CacheLine>() / std::mem::size_of::<T>();
        let lines = len.div_ceil(per_line);
        if self.lines.len() < lines {
            self.lines.resize(lines, bytemuck::Zeroable::zeroed());
        }
        &mut bytemuck::cast_slice_mut(&mut self.lines)[..len]
    }
}

thread_local! {
    /// Each thread's buffer for packed blocks of A (one per worker: threads pack their own).
    pub(crate) static A_BUFFER: RefCell<Buffer> = RefCell::new(Buffer::default());
    /// The calling thread's buffer for the packed block of B (shared read-only by the workers).
    pub(crate) static B_BUFFER: RefCell<Buffer> = RefCell::new(Buffer::default());
}

/// Packs rows `i0 .. i0 + rows` (`rows ≤ mr`) and columns `p0 .. p0 + kc` of A into one
/// micro-panel: element `(i, p)` at `dst[p·mr + i]`, widened to `E::Acc`, rows past `rows` zero.
///
/// Panics (a bug, not bad input) if the block lies outside A or `dst` is not `mr·kc`.
///
/// `#[inline(always)]`, here and in [`pack_b_panel`]: the callers pass the kernel's
/// constant MR (NR), so a full panel's copies get a constant length and compile to a few
/// vector moves instead of one `memcpy` call per column (4 % of a 64³ product).
#[inline(always)]
pub(crate) fn pack_a_panel<E: Element>(
    dst: &mut [E::Acc],
    a: Operand<'_, E>,
    mr: usize,
    (i0, rows): (usize, usize),
    (p0, kc): (usize, usize),
) {
    assert!(dst.len() == mr * kc && rows <= mr);
    a.assert_block((i0, rows), (p0, kc));
    if a.rs == 1 || rows == 1 {
        // Column-major A (or a single row): each column of the panel is a contiguous run
        // of the source.
        for (p, out) in dst.chunks_exact_mut(mr).enumerate() {
            if rows == mr {
                E::widen_slice(a.col_run(i0, p0 + p, mr), out);
            } else {
                copy_padded(out, a.col_run(i0, p0 + p, rows));
            }
        }
    } else if a.cs == 1 {
        // Row-major A: read each source row in order, scatter it down the panel. Groups of
        // mr steps of p at a time would be an in-register transpose; this is the simple form.
        if rows < mr {
            // One fill for the padding rows (not a short `memset` per column).
            dst.fill(E::Acc::ZERO);
        }
        for i in 0..rows {
            for (out, &x) in dst.chunks_exact_mut(mr).zip(a.row_run(i0 + i, p0, kc)) {
                out[i] = x.to_acc();
            }
        }
    } else {
        for (p, out) in dst.chunks_exact_mut(mr).enumerate() {
            for (i, x) in out.iter_mut().enumerate() {
                // SAFETY: i < rows and p < kc: inside the block asserted above.
                *x = if i < rows { unsafe { a.at(i0 + i, p0 + p) }.to_acc() } else { E::Acc::ZERO };
            }
        }
    }
}

/// `out` ← `src` widened, followed by zeros, element by element: the lengths of an edge
/// panel are too short for a `memcpy` and `memset` call each to pay.
#[inline(always)]
fn copy_padded<E: Element>(out: &mut [E::Acc], src: &[E]) {
    for (i, x) in out.iter_mut().enumerate() {
        *x = src.get(i).map_or(E::Acc::ZERO, |x| x.to_acc());
    }
}

/// Packs rows `p0 .. p0 + kc` and columns `j0 .. j0 + cols` (`cols ≤ nr`) of B into one
/// micro-panel: element `(p, j)` at `dst[p·nr + j]`, widened to `E::Acc`, columns past `cols` zero.
///
/// Panics (a bug, not bad input) if the block lies outside B or `dst` is not `nr·kc`.
#[inline(always)]
pub(crate) fn pack_b_panel<E: Element>(
    dst: &mut [E::Acc],
    b: Operand<'_, E>,
    nr: usize,
    (p0, kc): (usize, usize),
    (j0, cols): (usize, usize),
) {
    assert!(dst.len() == nr * kc && cols <= nr);
    b.assert_block((p0, kc), (j0, cols));
    if b.cs == 1 || cols == 1 {
        // Row-major B (or a single column): each row of the panel is a contiguous run of
        // the source.
        for (p, out) in dst.chunks_exact_mut(nr).enumerate() {
            if cols == nr {
                E::widen_slice(b.row_run(p0 + p, j0, nr), out);
            } else {
                copy_padded(out, b.row_run(p0 + p, j0, cols));
            }
        }
    } else if b.rs == 1 {
        // Column-major B: read each source column in order, scatter it across the panel.
        if cols < nr {
            // One fill for the padding columns (not a short `memset` per row).
            dst.fill(E::Acc::ZERO);
        }
        for j in 0..cols {
            for (out, &x) in dst.chunks_exact_mut(nr).zip(b.col_run(p0, j0 + j, kc)) {
                out[j] = x.to_acc();
            }
        }
    } else {
        for (p, out) in dst.chunks_exact_mut(nr).enumerate() {
            for (j, x) in out.iter_mut().enumerate() {
                // SAFETY: p < kc and j < cols: inside the block asserted above.
                *x = if j < cols { unsafe { b.at(p0 + p, j0 + j) }.to_acc() } else { E::Acc::ZERO };
            }
        }
    }
}

/// Packs rows `i0 .. i0 + rows` (`rows ≤ width`) and columns `p0 .. p0 + kc` of `src` into
/// one micro-panel of pairs of k, the layout of a kernel with `KU = 2`: element `(i, p)` at
/// `dst[(p / 2)·2·width + 2·i + p % 2]`, zeros for the rows past `rows` and, when `kc` is
/// odd, for the second half of the last pair. No conversion: the kernel multiplies the
/// elements as they are. An A panel is `pack_pairs(A, MR, …)`; a B panel is
/// `pack_pairs(Bᵀ, NR, …)`, since element `(p, j)` of B is `(j, p)` of Bᵀ.
///
/// Panics (a bug, not bad input) if the block lies outside `src` or `dst` is not
/// `width·kc` rounded up to an even depth.
pub(crate) fn pack_pairs<T: Element>(
    dst: &mut [T],
    src: Operand<'_, T>,
    width: usize,
    (i0, rows): (usize, usize),
    (p0, kc): (usize, usize),
) {
    assert!(dst.len() == width * kc.next_multiple_of(2) && rows <= width);
    src.assert_block((i0, rows), (p0, kc));
    if rows < width || kc % 2 == 1 {
        dst.fill(T::ZERO);
    }
    if src.cs == 1 || kc == 1 {
        // Each row's k run is contiguous (row-major A, column-major B): its pairs are
        // adjacent in the source. (Element moves, not `copy_from_slice`: a two-element
        // copy of run-time length is a `memmove` call, 8 % of an n = 1024 product.)
        for i in 0..rows {
            let run = src.row_run(i0 + i, p0, kc);
            for (out, pair) in dst.chunks_exact_mut(2 * width).zip(run.chunks_exact(2)) {
                out[2 * i] = pair[0];
                out[2 * i + 1] = pair[1];
            }
            if kc % 2 == 1 {
                dst[(kc / 2) * 2 * width + 2 * i] = run[kc - 1];
            }
        }
    } else if src.rs == 1 {
        // Each column is contiguous (column-major A, row-major B): interleave two columns.
        for (q, out) in dst.chunks_exact_mut(2 * width).enumerate() {
            let p = 2 * q;
            let first = src.col_run(i0, p0 + p, rows);
            if p + 1 < kc {
                let second = src.col_run(i0, p0 + p + 1, rows);
                for (o, (&x, &y)) in out.chunks_exact_mut(2).zip(first.iter().zip(second)) {
                    o[0] = x;
                    o[1] = y;
                }
            } else {
                for (o, &x) in out.chunks_exact_mut(2).zip(first) {
                    o[0] = x;
                }
            }
        }
    } else {
        for (q, out) in dst.chunks_exact_mut(2 * width).enumerate() {
            for i in 0..rows {
                for r in 0..2.min(kc - 2 * q) {
                    // SAFETY: i < rows and 2q + r < kc: inside the block asserted above.
                    out[2 * i + r] = unsafe { src.at(i0 + i, p0 + 2 * q + r) };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 5 × 7 matrix with element (i, j) = 10·i + j, in three layouts.
    fn layouts(buf_r: &mut Vec<f64>, buf_c: &mut Vec<f64>, buf_g: &mut Vec<f64>) {
        *buf_r = (0..35).map(|x| (10 * (x / 7) + x % 7) as f64).collect();
        *buf_c = (0..35).map(|x| (10 * (x % 5) + x / 5) as f64).collect();
        // General strides: rs = 2, cs = 11 (slots in between hold NaN).
        *buf_g = vec![f64::NAN; 2 * 4 + 11 * 6 + 1];
        for i in 0..5 {
            for j in 0..7 {
                buf_g[2 * i + 11 * j] = (10 * i + j) as f64;
            }
        }
    }

    #[test]
    fn panels_hold_the_block_and_zero_padding_in_every_layout() {
        let (mut r, mut c, mut g) = (Vec::new(), Vec::new(), Vec::new());
        layouts(&mut r, &mut c, &mut g);
        // The row-major one also read backwards: (0, 0) at the end, strides negated, the
        // matrix's rows and columns reversed back by reading (4 − i, 6 − j).
        let rev: Vec<f64> = r.iter().rev().copied().collect();
        let ops = [
            Operand::of(MatRef::new(&r, 5, 7, 7, 1).unwrap()),
            Operand::of(MatRef::new(&c, 5, 7, 1, 5).unwrap()),
            Operand::of(MatRef::new(&g, 5, 7, 2, 11).unwrap()),
            Operand::of(MatRef::with_origin(&rev, 0, 5, 7, 7, 1).unwrap().reversed_rows().reversed_cols()),
        ];
        for op in ops {
            // A: rows 1..4 (3 of MR = 4), columns 2..7.
            let mut pa = vec![f64::NAN; 4 * 5];
            pack_a_panel(&mut pa, op, 4, (1, 3), (2, 5));
            for p in 0..5 {
                for i in 0..4 {
                    let want = if i < 3 { (10 * (1 + i) + 2 + p) as f64 } else { 0.0 };
                    assert_eq!(pa[p * 4 + i], want, "A ({i}, {p}) of {op:?}");
                }
            }
            // B (the same matrix as k × n): rows 1..5, columns 4..7 (3 of NR = 5).
            let mut pb = vec![f64::NAN; 5 * 4];
            pack_b_panel(&mut pb, op, 5, (1, 4), (4, 3));
            for p in 0..4 {
                for j in 0..5 {
                    let want = if j < 3 { (10 * (1 + p) + 4 + j) as f64 } else { 0.0 };
                    assert_eq!(pb[p * 5 + j], want, "B ({p}, {j}) of {op:?}");
                }
            }
        }
    }

    #[test]
    fn pair_panels_interleave_two_steps_of_k_in_every_layout() {
        let (mut r, mut c, mut g) = (Vec::new(), Vec::new(), Vec::new());
        layouts(&mut r, &mut c, &mut g);
        let bf = |v: &[f64]| v.iter().map(|&x| matmul_core::half::bf16::from_f64(x)).collect::<Vec<_>>();
        let (r, c, g) = (bf(&r), bf(&c), bf(&g));
        let ops = [
            Operand::of(MatRef::new(&r, 5, 7, 7, 1).unwrap()),
            Operand::of(MatRef::new(&c, 5, 7, 1, 5).unwrap()),
            Operand::of(MatRef::new(&g, 5, 7, 2, 11).unwrap()),
        ];
        for op in ops {
            // Rows 1..4 (3 of width 4), columns 2..7 (5: odd, the last pair padded), and
            // columns 1..5 (4: even); the transpose too (B's case).
            for (view, (i0, rows), (p0, kc)) in
                [(op, (1, 3), (2, 5usize)), (op, (0, 4), (1, 4)), (op.t(), (2, 4), (1, 3))]
            {
                let mut out = vec![matmul_core::half::bf16::NAN; 4 * kc.next_multiple_of(2)];
                pack_pairs(&mut out, view, 4, (i0, rows), (p0, kc));
                for p in 0..kc.next_multiple_of(2) {
                    for i in 0..4 {
                        let want = if i < rows && p < kc {
                            // SAFETY: inside the view (i < rows, p < kc).
                            unsafe { view.at(i0 + i, p0 + p) }.to_f64()
                        } else {
                            0.0
                        };
                        assert_eq!(out[p / 2 * 8 + 2 * i + p % 2].to_f64(), want, "({i}, {p}) of {view:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn buffers_are_aligned_and_reused() {
        let mut buf = Buffer::default();
        let p1 = buf.get::<f64>(1000).as_ptr();
        assert_eq!(p1 as usize % 64, 0);
        let p2 = buf.get::<f32>(10).as_ptr();
        assert_eq!(p1.cast::<f32>(), p2);
        assert_eq!(buf.get::<f64>(1000).as_ptr(), p1);
    }
}
