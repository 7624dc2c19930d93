//! The host side of a host-slice GEMM, with no CUDA in it: the BLAS special cases,
//! packing any strided view into the row-major contiguous layout the kernels take,
//! unpacking C, and cuBLAS's row-major ↔ column-major swap.
//!
//! Pure index arithmetic, so it is tested on every machine: `tests/host_path.rs` runs
//! the shared test grid through [`run_packed`] with a CPU emulation of the kernels'
//! contract in place of the GPU.

use matmul_core::{Element, Error, GemmPlan, MatMut, MatRef, Result};

/// The dimensions of one product, each in `1..=i32::MAX` (the kernels' `int` and
/// cuBLAS's 32-bit integers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Columns of A, rows of B.
    pub k: usize,
}

impl Dims {
    /// Checks that each dimension is at least 1 and fits an `i32`; `backend` names the
    /// caller in the error.
    pub fn new(backend: &str, m: usize, n: usize, k: usize) -> Result<Self> {
        for (what, v) in [("m", m), ("n", n), ("k", k)] {
            if v == 0 || v > i32::MAX as usize {
                return Err(Error::backend(
                    backend,
                    format!("{what} = {v} is outside 1..={} (the kernels' and cuBLAS's 32-bit dimensions)", i32::MAX),
                ));
            }
        }
        Ok(Dims { m, n, k })
    }

    /// The dimensions as the kernels' `int` arguments.
    pub fn as_i32(self) -> [i32; 3] {
        // Checked to fit in `Dims::new`.
        [self.m as i32, self.n as i32, self.k as i32]
    }

    /// Elements of A, B and C, or `None` if their sum overflows `usize`.
    pub fn lens(self) -> Option<[usize; 3]> {
        let a = self.m.checked_mul(self.k)?;
        let b = self.k.checked_mul(self.n)?;
        let c = self.m.checked_mul(self.n)?;
        a.checked_add(b)?.checked_add(c)?;
        Some([a, b, c])
    }
}

/// A product ready for the device: A (`m × k`), B (`k × n`) and C (`m × n`), row-major and
/// contiguous, in host slices (the default buffers, what [`run_packed`] hands its device
/// step) or in device buffers (`matmul_cuda::DeviceGemm`, what the launchers take). A and
/// B hold elements of `E`, C, α and β of its accumulator `E::Acc` (the same type but for
/// half inputs, whose C is f32). With β = 0, `c` holds whatever its buffer held before (C
/// was not read); the device must not read it either.
#[derive(Debug)]
pub struct Packed<'s, E: Element, In: ?Sized = [E], Out: ?Sized = [<E as Element>::Acc]> {
    /// The dimensions.
    pub dims: Dims,
    /// α (never 0: [`GemmPlan::prepare`] handled that).
    pub alpha: E::Acc,
    /// β.
    pub beta: E::Acc,
    /// A, `m·k` elements.
    pub a: &'s In,
    /// B, `k·n` elements.
    pub b: &'s In,
    /// C, `m·n` elements: C's values when β ≠ 0; on return, the result.
    pub c: &'s mut Out,
}

/// The operands of one host-slice call, `C ← α·A·B + β·C`, as the trait receives them:
/// A and B of element type `E`, C, α and β of its accumulator type.
#[derive(Debug)]
pub struct HostGemm<'a, E: Element> {
    /// α.
    pub alpha: E::Acc,
    /// A, any strided view.
    pub a: MatRef<'a, E>,
    /// B, any strided view.
    pub b: MatRef<'a, E>,
    /// β.
    pub beta: E::Acc,
    /// C, any strided view.
    pub c: MatMut<'a, E::Acc>,
}

/// Where [`run_packed`] packs one product: `ab` for A then B (`m·k + k·n` elements of
/// `E`), `c` for C (`m·n` of `E::Acc`), as `staging_for` hands them out.
#[derive(Debug)]
pub struct Staging<'s, E: Element> {
    /// A, then B.
    pub ab: &'s mut [E],
    /// C.
    pub c: &'s mut [E::Acc],
}

/// A host-slice GEMM around a device step: applies the BLAS special cases, packs A and B
/// (and C unless β = 0) into the staging buffers obtained from `staging_for(elements of A
/// and B, elements of C)`, calls `device` with the packed product, and unpacks C from it.
/// `backend` names the caller in errors.
pub fn run_packed<'s, E: Element>(
    backend: &str,
    gemm: HostGemm<'_, E>,
    staging_for: impl FnOnce(usize, usize) -> Result<Staging<'s, E>>,
    device: impl FnOnce(Packed<'_, E>) -> Result<()>,
) -> Result<()> {
    let HostGemm { alpha, a, b, beta, mut c } = gemm;
    let GemmPlan::Compute { m, n, k } = GemmPlan::prepare(alpha, &a, &b, beta, &mut c)? else {
        return Ok(());
    };
    let dims = Dims::new(backend, m, n, k)?;
    let too_large = || Error::backend(backend, format!("a {m}×{k} by {k}×{n} product does not fit in host memory"));
    let [la, lb, lc] = dims.lens().ok_or_else(too_large)?;
    let Staging { ab, c: sc } = staging_for(la + lb, lc)?;
    let too_short = |what| Error::backend(backend, format!("the staging buffer of {what} is too short"));
    let (sa, rest) = ab.split_at_mut_checked(la).ok_or_else(|| too_short("A and B"))?;
    let sb = rest.get_mut(..lb).ok_or_else(|| too_short("A and B"))?;
    let sc = sc.get_mut(..lc).ok_or_else(|| too_short("C"))?;
    pack_row_major(&a, sa);
    pack_row_major(&b, sb);
    if beta != E::Acc::ZERO {
        pack_row_major(&c.rb(), sc);
    }
    device(Packed { dims, alpha, beta, a: sa, b: sb, c: &mut *sc })?;
    unpack_row_major(sc, &mut c);
    Ok(())
}

/// Copies `src` into `dst` in row-major order (`dst.len()` = rows × cols). A row-major
/// view is copied row slice by row slice; any other layout element by element.
pub fn pack_row_major<T: Element>(src: &MatRef<'_, T>, dst: &mut [T]) {
    let cols = src.ncols();
    if cols == 0 {
        return;
    }
    for (i, out) in dst.chunks_exact_mut(cols).take(src.nrows()).enumerate() {
        match src.row_slice(i) {
            Some(row) => out.copy_from_slice(row),
            None => out.iter_mut().zip(src.row_iter(i)).for_each(|(o, x)| *o = x),
        }
    }
}

/// Writes a row-major buffer (`src.len()` = rows × cols) into the view `dst`.
pub fn unpack_row_major<T: Element>(src: &[T], dst: &mut MatMut<'_, T>) {
    let cols = dst.ncols();
    if cols == 0 {
        return;
    }
    for (i, row) in src.chunks_exact(cols).take(dst.nrows()).enumerate() {
        match dst.row_slice_mut(i) {
            Some(out) => out.copy_from_slice(row),
            None => dst.row_iter_mut(i).zip(row).for_each(|(o, &x)| *o = x),
        }
    }
}

/// A column-major GEMM call (cuBLAS's convention: element `(i, j)` of a matrix with
/// leading dimension `ld` at `i + j·ld`), both operands not transposed, whose first
/// operand is **our B** and second **our A** (see [`row_major_as_col_major`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColMajorCall {
    /// Rows of the call's C.
    pub m: usize,
    /// Columns of the call's C.
    pub n: usize,
    /// The inner dimension.
    pub k: usize,
    /// Leading dimension of the first operand (our B).
    pub lda: usize,
    /// Leading dimension of the second operand (our A).
    pub ldb: usize,
    /// Leading dimension of C.
    pub ldc: usize,
}

/// **The one place the row-major ↔ column-major swap is made.** Our buffers hold A
/// (`m × k`), B (`k × n`) and C (`m × n`) row-major. A row-major `r × c` matrix is, byte
/// for byte, the column-major `c × r` matrix of its transpose; so row-major `C = A·B` is
/// column-major `Cᵀ = Bᵀ·Aᵀ`: cuBLAS computes an `n × m` product whose first operand is
/// our B (column-major `n × k`, ld = n), second our A (column-major `k × m`, ld = k), and
/// C column-major `n × m` with ld = n. No transpose flag, no copy.
pub fn row_major_as_col_major(dims: Dims) -> ColMajorCall {
    ColMajorCall { m: dims.n, n: dims.m, k: dims.k, lda: dims.n, ldb: dims.k, ldc: dims.n }
}

#[cfg(test)]
mod tests {
    use super::*;
    use matmul_core::{Layout, Matrix};

    /// Column-major `C ← α·X·Y + β·C` with cuBLAS's addressing, on the CPU.
    fn col_major_gemm(call: ColMajorCall, alpha: f64, x: &[f64], y: &[f64], beta: f64, c: &mut [f64]) {
        for j in 0..call.n {
            for i in 0..call.m {
                let dot: f64 = (0..call.k).map(|p| x[i + p * call.lda] * y[p + j * call.ldb]).sum();
                let old = c[i + j * call.ldc];
                c[i + j * call.ldc] = alpha * dot + if beta == 0.0 { 0.0 } else { beta * old };
            }
        }
    }

    #[test]
    fn the_swap_computes_the_row_major_product() {
        for (m, n, k) in [(1, 1, 1), (2, 3, 4), (5, 1, 3), (1, 7, 2), (4, 4, 1)] {
            let a = Matrix::<f64>::from_fn(m, k, Layout::RowMajor, |i, j| (i * 7 + j * 3) as f64 - 4.0);
            let b = Matrix::<f64>::from_fn(k, n, Layout::RowMajor, |i, j| (i * 2 + j * 5) as f64 - 3.0);
            let c0 = Matrix::<f64>::from_fn(m, n, Layout::RowMajor, |i, j| (i + 2 * j) as f64);
            let (mut ra, mut rb, mut rc) = (vec![0.0; m * k], vec![0.0; k * n], vec![0.0; m * n]);
            pack_row_major(&a.as_ref(), &mut ra);
            pack_row_major(&b.as_ref(), &mut rb);
            pack_row_major(&c0.as_ref(), &mut rc);
            let call = row_major_as_col_major(Dims::new("test", m, n, k).unwrap());
            col_major_gemm(call, 2.0, &rb, &ra, 0.5, &mut rc);
            for i in 0..m {
                for j in 0..n {
                    let dot: f64 = (0..k).map(|p| a.get(i, p).unwrap() * b.get(p, j).unwrap()).sum();
                    let expected = 2.0 * dot + 0.5 * c0.get(i, j).unwrap();
                    assert_eq!(rc[i * n + j], expected, "({i}, {j}) of {m}×{n}×{k}");
                }
            }
        }
    }

    #[test]
    fn packing_reads_any_layout_row_major() {
        let data: Vec<f32> = (0..40).map(|x| x as f32).collect();
        // A 3 × 4 view with row stride 2 and column stride 9: general strides.
        let v = MatRef::new(&data, 3, 4, 2, 9).unwrap();
        let mut out = vec![0.0; 12];
        pack_row_major(&v, &mut out);
        let expected: Vec<f32> = (0..3).flat_map(|i| (0..4).map(move |j| (2 * i + 9 * j) as f32)).collect();
        assert_eq!(out, expected);
        // Its transpose packs to the transposed order.
        let mut out_t = vec![0.0; 12];
        pack_row_major(&v.t(), &mut out_t);
        for i in 0..3 {
            for j in 0..4 {
                assert_eq!(out_t[j * 3 + i], out[i * 4 + j]);
            }
        }
    }

    #[test]
    fn unpacking_writes_only_the_view() {
        let mut data = vec![f64::NAN; 30];
        let src: Vec<f64> = (0..6).map(f64::from).collect();
        // 2 × 3, column-major with ld 5 (padding between columns).
        let mut v = MatMut::col_major_ld(&mut data, 2, 3, 5).unwrap();
        unpack_row_major(&src, &mut v);
        for i in 0..2 {
            for j in 0..3 {
                assert_eq!(data[i + 5 * j], (i * 3 + j) as f64);
            }
        }
        let written = data.iter().filter(|x| !x.is_nan()).count();
        assert_eq!(written, 6);
    }

    #[test]
    fn dims_refuse_zero_and_i32_overflow() {
        assert!(Dims::new("x", 1, 1, 1).is_ok());
        assert!(Dims::new("x", 0, 1, 1).is_err());
        let e = Dims::new("x", 1, i32::MAX as usize + 1, 1).unwrap_err();
        assert!(e.to_string().contains("n = 2147483648"), "{e}");
        assert_eq!(Dims::new("x", 3, 4, 5).unwrap().lens(), Some([15, 20, 12]));
    }
}
