//! MKL's batch GEMMs behind [`Backend::gemm_batch_f32`] / [`Backend::gemm_batch_f64`].
//!
//! * A [`StridedBatch`] of two or more products whose operands cblas reads in place
//!   becomes one `cblas_?gemm_batch_strided` call, if MKL accepts its batch strides: MKL
//!   2020 (Debian's) refuses, as an illegal parameter, a stride below one whole stored
//!   matrix, `ld` times its columns (column-major call) or rows (row-major call), so a
//!   batch whose A or B repeats (stride 0) or whose C's are packed closer than that runs as
//!   single calls.
//! * A [`GroupedBatch`] becomes one `cblas_?gemm_batch` call per run of consecutive
//!   products whose C has the same storage order (the routine takes one layout per call);
//!   inside a call, consecutive products with equal sizes, transposes, leading dimensions,
//!   α and β form one MKL group.
//! * Everything else goes through the single-call path, one product at a time and in batch
//!   order: a BLAS special case ([`GemmPlan::computes`] false: empty shapes, `k = 0`, α = 0,
//!   NaN α or β), which that path settles without the library, and a product with an
//!   operand cblas cannot take in place (general or negative strides, copied there).
//!
//! So a batch keeps the single call's semantics (β = 0 never reads C, α = 0 or `k = 0`
//! never reads A and B), though not always its bits: see
//! [`Backend::batch_bits_match_single_calls`].
//!
//! MKL's integer, `MKL_INT`, is `i32` here: `build.rs` links `libmkl_rt` with its default
//! LP64 interface, the one `cblas_?gemm` is already called through. A size that does not fit
//! is an [`Error::Backend`](matmul_core::Error::Backend), never truncated.

use cblas_sys::{CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use matmul_core::{Batch, BatchOperand, GemmPlan, GroupedBatch, Result, Scalar, StridedBatch};

use crate::backend::{blas_int, cblas_order, strided, trans, Blas};
use crate::layout::{to_blas_int, Operand, Order, Output, Strided};
use crate::library::Library;

/// Runs a validated batch with MKL's batch routines where it can (see the module docs).
pub(crate) fn gemm_batch<L: Library, T: CblasBatch>(backend: &Blas<L>, batch: Batch<'_, T>) -> Result<()> {
    match batch {
        Batch::Strided(batch) => run_strided(backend, batch),
        Batch::Grouped(batch) => run_grouped(backend, batch),
    }
}

/// What the planning needs of one product: its sizes `(m, n, k)`, α, β, and A's, B's and
/// C's shape and strides (`None` for negative strides).
#[derive(Clone, Copy, Debug)]
struct Product<T> {
    dims: (usize, usize, usize),
    alpha: T,
    beta: T,
    operands: [Option<Strided>; 3],
}

/// How cblas reads a product in place: the call's storage order (C's), A's and B's
/// transposes and the three leading dimensions, as the single-call path would pass them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InPlace {
    order: Order,
    trans: [bool; 2],
    ld: [usize; 3],
}

/// The in-place plan of a product, or `None` when the single-call path must take it: a
/// special case, or an operand that path would copy (C through a temporary).
fn in_place<T: Scalar>(p: &Product<T>) -> Option<InPlace> {
    if !GemmPlan::computes(p.alpha, p.beta, p.dims) {
        return None;
    }
    let [a, b, c] = p.operands;
    let Output::Direct { order, ld: ldc } = Output::plan(c?) else { return None };
    let Operand::Direct { trans: ta, ld: lda } = Operand::plan(a?, order) else { return None };
    let Operand::Direct { trans: tb, ld: ldb } = Operand::plan(b?, order) else { return None };
    Some(InPlace { order, trans: [ta, tb], ld: [lda, ldb, ldc] })
}

/// The shape and strides of a strided batch's operand (its strides are never negative).
fn geometry<S>(op: &BatchOperand<S>) -> Strided {
    Strided { rows: op.rows, cols: op.cols, row_stride: op.row_stride, col_stride: op.col_stride }
}

/// The batch stride as MKL's integer, when it and the offset of the last product's matrix
/// both fit one (MKL computes `p · stride` in `MKL_INT`, we assume, so we do not rely on
/// anything wider); `None` sends the batch to single calls.
fn batch_stride(stride: usize, count: usize) -> Option<i32> {
    let last = count.saturating_sub(1).checked_mul(stride)?;
    to_blas_int(last).ok()?;
    to_blas_int(stride).ok()
}

/// The smallest batch stride MKL accepts for an operand whose `op(X)` is `rows × cols`,
/// passed with this transpose and `ld` in a call of this order: one whole stored matrix,
/// `ld` times its outer dimension (checked in MKL 2020's `cblas_?gemm_batch_strided`, even
/// where the last column's or row's padding lies past the matrix).
fn min_batch_stride(order: Order, trans: bool, (rows, cols): (usize, usize), ld: usize) -> Option<usize> {
    let (stored_rows, stored_cols) = if trans { (cols, rows) } else { (rows, cols) };
    let outer = match order {
        Order::Col => stored_cols,
        Order::Row => stored_rows,
    };
    ld.checked_mul(outer)
}

/// The in-place plan of a whole strided batch and its three batch strides, or `None` for
/// single calls: fewer than two products (one single call is the same work), a product
/// [`in_place`] refuses, or a batch stride MKL would refuse or that does not fit `MKL_INT`.
fn plan_strided<T: Scalar>(product: &Product<T>, strides: [usize; 3], count: usize) -> Option<(InPlace, [i32; 3])> {
    let place = in_place(product).filter(|_| count >= 2)?;
    let (m, n, k) = product.dims;
    let trans = [place.trans[0], place.trans[1], false];
    let shapes = [(m, k), (k, n), (m, n)];
    let mut out = [0; 3];
    for x in 0..3 {
        let least = min_batch_stride(place.order, trans[x], shapes[x], place.ld[x])?;
        out[x] = batch_stride(strides[x], count).filter(|_| strides[x] >= least)?;
    }
    Some((place, out))
}

fn run_strided<L: Library, T: CblasBatch>(backend: &Blas<L>, mut batch: StridedBatch<'_, T>) -> Result<()> {
    let count = batch.len();
    let (alpha, beta) = batch.scalars();
    let (a, b, c) = batch.operands_mut();
    let operands = [Some(geometry(&a)), Some(geometry(&b)), Some(geometry(&c))];
    let product = Product { dims: (a.rows, b.cols, a.cols), alpha, beta, operands };
    let Some((place, [sa, sb, sc])) = plan_strided(&product, [a.batch_stride, b.batch_stride, c.batch_stride], count)
    else {
        return batch.run_each(backend);
    };
    let (m, n, k) = product.dims;
    let call = StridedCall {
        layout: cblas_order(place.order),
        trans: place.trans.map(trans),
        dims: [
            blas_int::<L>("m (rows of A and C)", m)?,
            blas_int::<L>("n (columns of B and C)", n)?,
            blas_int::<L>("k (columns of A)", k)?,
        ],
        alpha,
        beta,
        a: StridedOperand {
            ptr: a.data.as_ptr(),
            ld: blas_int::<L>("A's leading dimension", place.ld[0])?,
            stride: sa,
        },
        b: StridedOperand {
            ptr: b.data.as_ptr(),
            ld: blas_int::<L>("B's leading dimension", place.ld[1])?,
            stride: sb,
        },
        c: StridedOperand {
            ptr: c.data.as_mut_ptr(),
            ld: blas_int::<L>("C's leading dimension", place.ld[2])?,
            stride: sc,
        },
        count: blas_int::<L>("batch size (products in the strided batch)", count)?,
    };
    L::init();
    // SAFETY: `StridedBatch::new` checked that every product's A, B and C lie inside their
    // slices, product p's starting p · batch_stride elements after element 0 (the pointers
    // passed), and that no two C's share an element (C's batch stride is at least one C's
    // span). `in_place` took the order, transposes and leading dimensions from
    // `layout::Output::plan` / `Operand::plan`, which give them only where, for these
    // strides, cblas addresses exactly each view's elements with a legal `ld`; the batch
    // strides and the last product's offset fit `MKL_INT` (`batch_stride`). C's slice is
    // borrowed mutably and A's and B's shared for the whole call, so C overlaps neither.
    unsafe { T::cblas_batch_strided(&call) };
    Ok(())
}

/// A product of a grouped batch: (group, index in the group).
type ProductId = (usize, usize);

/// The parameters one MKL group shares: sizes, α, β and the in-place plan.
#[derive(Clone, Copy, Debug, PartialEq)]
struct GroupParams<T> {
    dims: (usize, usize, usize),
    alpha: T,
    beta: T,
    place: InPlace,
}

/// One MKL group of a `cblas_?gemm_batch` call: its parameters and its products, in order.
#[derive(Clone, Debug, PartialEq)]
struct MklGroup<T> {
    params: GroupParams<T>,
    products: Vec<ProductId>,
}

/// What a grouped batch's products become, in batch order.
#[derive(Clone, Debug, PartialEq)]
enum Step<T> {
    /// One `cblas_?gemm_batch` call in this storage order.
    Call { order: Order, groups: Vec<MklGroup<T>> },
    /// One product through the single-call path.
    Single(ProductId),
}

/// Plans a grouped batch's products, given in batch order: consecutive in-place products
/// with C in the same order share one call, consecutive ones with equal parameters one MKL
/// group of it; any other product is a single call where it stands.
fn plan_grouped<T: Scalar>(products: impl IntoIterator<Item = (ProductId, Product<T>)>) -> Vec<Step<T>> {
    let mut steps = Vec::new();
    for (id, product) in products {
        let Some(place) = in_place(&product) else {
            steps.push(Step::Single(id));
            continue;
        };
        let params = GroupParams { dims: product.dims, alpha: product.alpha, beta: product.beta, place };
        let group = MklGroup { params, products: vec![id] };
        match steps.last_mut() {
            Some(Step::Call { order, groups }) if *order == place.order => match groups.last_mut() {
                Some(last) if last.params == params => last.products.push(id),
                _ => groups.push(group),
            },
            _ => steps.push(Step::Call { order: place.order, groups: vec![group] }),
        }
    }
    steps
}

fn run_grouped<L: Library, T: CblasBatch>(backend: &Blas<L>, mut batch: GroupedBatch<'_, T>) -> Result<()> {
    let mut products = Vec::with_capacity(batch.len());
    for (g, group) in batch.groups_mut().iter_mut().enumerate() {
        let (dims, (alpha, beta)) = (group.dims(), group.scalars());
        for (p, (a, b, c)) in group.products_mut().iter().enumerate() {
            products
                .push(((g, p), Product { dims, alpha, beta, operands: [strided(a), strided(b), strided(&c.rb())] }));
        }
    }
    for step in plan_grouped(products) {
        match step {
            Step::Single((g, p)) => {
                let group = &mut batch.groups_mut()[g];
                let (alpha, beta) = group.scalars();
                let (a, b, c) = &mut group.products_mut()[p];
                T::gemm(backend, alpha, *a, *b, beta, c.rb_mut())?;
            }
            Step::Call { order, groups } => call_grouped::<L, T>(order, &groups, &mut batch)?,
        }
    }
    Ok(())
}

/// Fills the arrays of one `cblas_?gemm_batch` call for `groups` and makes it.
fn call_grouped<L: Library, T: CblasBatch>(
    order: Order,
    groups: &[MklGroup<T>],
    batch: &mut GroupedBatch<'_, T>,
) -> Result<()> {
    let mut call = GroupedCall::<T>::default();
    for MklGroup { params, products } in groups {
        let GroupParams { dims: (m, n, k), alpha, beta, place } = *params;
        call.trans_a.push(trans(place.trans[0]));
        call.trans_b.push(trans(place.trans[1]));
        call.m.push(blas_int::<L>("m (rows of A and C)", m)?);
        call.n.push(blas_int::<L>("n (columns of B and C)", n)?);
        call.k.push(blas_int::<L>("k (columns of A)", k)?);
        call.lda.push(blas_int::<L>("A's leading dimension", place.ld[0])?);
        call.ldb.push(blas_int::<L>("B's leading dimension", place.ld[1])?);
        call.ldc.push(blas_int::<L>("C's leading dimension", place.ld[2])?);
        call.alpha.push(alpha);
        call.beta.push(beta);
        call.group_size.push(blas_int::<L>("batch size (products in one MKL group)", products.len())?);
        for &(g, p) in products {
            let (a, b, c) = &mut batch.groups_mut()[g].products_mut()[p];
            call.a.push(a.as_ptr());
            call.b.push(b.as_ptr());
            call.c.push(c.as_mut_ptr());
        }
    }
    let group_count = blas_int::<L>("group count (MKL groups in one call)", groups.len())?;
    L::init();
    // SAFETY: the per-group arrays have `group_count` entries and the pointer arrays
    // `Σ group_size` (one push each above), group g's products following group g − 1's. Each
    // product's views are live borrows held by `batch` (A and B shared, C a `MatMut`, so
    // distinct from every other view and from each other), and their pointers are the views'
    // element (0, 0). `plan_grouped` put a product in a group only with the order,
    // transposes and leading dimensions of `in_place`, which `layout::Output::plan` /
    // `Operand::plan` give only where cblas, in that order, addresses exactly the view's
    // elements with a legal `ld`; `GroupedBatch::new` checked each product's shapes against
    // its group's (m, n, k).
    unsafe { T::cblas_batch_grouped(cblas_order(order), &call, group_count) };
    Ok(())
}

/// One operand of a `cblas_?gemm_batch_strided` call: product 0's element (0, 0), the
/// leading dimension, and the distance from one product's matrix to the next.
pub(crate) struct StridedOperand<P> {
    ptr: P,
    ld: i32,
    stride: i32,
}

/// The arguments of one `cblas_?gemm_batch_strided` call.
pub(crate) struct StridedCall<T> {
    layout: CBLAS_LAYOUT,
    trans: [CBLAS_TRANSPOSE; 2],
    dims: [i32; 3],
    alpha: T,
    beta: T,
    a: StridedOperand<*const T>,
    b: StridedOperand<*const T>,
    c: StridedOperand<*mut T>,
    count: i32,
}

/// The arrays of one `cblas_?gemm_batch` call: entry g of the per-group arrays (transposes
/// to `group_size`) describes MKL group g, whose `group_size[g]` products' pointers follow
/// group g − 1's in `a`, `b` and `c`.
#[derive(Default)]
pub(crate) struct GroupedCall<T> {
    trans_a: Vec<CBLAS_TRANSPOSE>,
    trans_b: Vec<CBLAS_TRANSPOSE>,
    m: Vec<i32>,
    n: Vec<i32>,
    k: Vec<i32>,
    alpha: Vec<T>,
    lda: Vec<i32>,
    ldb: Vec<i32>,
    beta: Vec<T>,
    ldc: Vec<i32>,
    group_size: Vec<i32>,
    a: Vec<*const T>,
    b: Vec<*const T>,
    c: Vec<*mut T>,
}

/// `cblas_?gemm_batch_strided` and `cblas_?gemm_batch` (`mkl_cblas.h`), chosen by element type.
pub(crate) trait CblasBatch: Scalar {
    /// # Safety
    /// For every `p < count`, the operands at `ptr + p·stride` are, in `layout` and after
    /// the transposes, an `m × k` A, a `k × n` B and an `m × n` C as a single `cblas_?gemm`
    /// requires them (live, `ld` legal, C writable and overlapping neither A, B nor any other
    /// product's C).
    unsafe fn cblas_batch_strided(call: &StridedCall<Self>);

    /// # Safety
    /// The per-group arrays hold `group_count` entries and the pointer arrays the sum of
    /// `group_size`; every product's pointers and its group's parameters meet the contract
    /// of a single `cblas_?gemm` in `layout`, and no C overlaps any A, B or other C.
    unsafe fn cblas_batch_grouped(layout: CBLAS_LAYOUT, call: &GroupedCall<Self>, group_count: i32);
}

macro_rules! impl_cblas_batch {
    ($t:ty, $strided:ident, $grouped:ident) => {
        extern "C" {
            fn $strided(
                layout: CBLAS_LAYOUT,
                transa: CBLAS_TRANSPOSE,
                transb: CBLAS_TRANSPOSE,
                m: i32,
                n: i32,
                k: i32,
                alpha: $t,
                a: *const $t,
                lda: i32,
                stridea: i32,
                b: *const $t,
                ldb: i32,
                strideb: i32,
                beta: $t,
                c: *mut $t,
                ldc: i32,
                stridec: i32,
                batch_size: i32,
            );
            // `float **C_Array` in the header: MKL writes through the pointers, never the array.
            fn $grouped(
                layout: CBLAS_LAYOUT,
                transa: *const CBLAS_TRANSPOSE,
                transb: *const CBLAS_TRANSPOSE,
                m: *const i32,
                n: *const i32,
                k: *const i32,
                alpha: *const $t,
                a: *const *const $t,
                lda: *const i32,
                b: *const *const $t,
                ldb: *const i32,
                beta: *const $t,
                c: *const *mut $t,
                ldc: *const i32,
                group_count: i32,
                group_size: *const i32,
            );
        }

        impl CblasBatch for $t {
            unsafe fn cblas_batch_strided(call: &StridedCall<Self>) {
                let StridedCall { layout, trans: [ta, tb], dims: [m, n, k], alpha, beta, ref a, ref b, ref c, count } =
                    *call;
                // SAFETY: the caller's contract is exactly MKL's requirements.
                unsafe {
                    $strided(
                        layout, ta, tb, m, n, k, alpha, a.ptr, a.ld, a.stride, b.ptr, b.ld, b.stride, beta, c.ptr,
                        c.ld, c.stride, count,
                    )
                }
            }

            unsafe fn cblas_batch_grouped(layout: CBLAS_LAYOUT, call: &GroupedCall<Self>, group_count: i32) {
                let c = call;
                // SAFETY: the caller's contract is exactly MKL's requirements; every array
                // is a live `Vec` of `call`, borrowed for the whole call.
                unsafe {
                    $grouped(
                        layout,
                        c.trans_a.as_ptr(),
                        c.trans_b.as_ptr(),
                        c.m.as_ptr(),
                        c.n.as_ptr(),
                        c.k.as_ptr(),
                        c.alpha.as_ptr(),
                        c.a.as_ptr(),
                        c.lda.as_ptr(),
                        c.b.as_ptr(),
                        c.ldb.as_ptr(),
                        c.beta.as_ptr(),
                        c.c.as_ptr(),
                        c.ldc.as_ptr(),
                        group_count,
                        c.group_size.as_ptr(),
                    )
                }
            }
        }
    };
}
impl_cblas_batch!(f32, cblas_sgemm_batch_strided, cblas_sgemm_batch);
impl_cblas_batch!(f64, cblas_dgemm_batch_strided, cblas_dgemm_batch);

#[cfg(test)]
mod tests {
    use super::*;

    fn s(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Option<Strided> {
        Some(Strided { rows, cols, row_stride, col_stride })
    }

    /// A 2 × 3 × 4 product: A row-major, B column-major, C row-major or column-major.
    fn product(c_row_major: bool, alpha: f64, beta: f64) -> Product<f64> {
        let c = if c_row_major { s(2, 3, 3, 1) } else { s(2, 3, 1, 2) };
        Product { dims: (2, 3, 4), alpha, beta, operands: [s(2, 4, 4, 1), s(4, 3, 1, 4), c] }
    }

    #[test]
    fn in_place_takes_the_single_call_plan() {
        let row = in_place(&product(true, 1.0, 0.0)).expect("in place");
        assert_eq!(row, InPlace { order: Order::Row, trans: [false, true], ld: [4, 4, 3] });
        let col = in_place(&product(false, 1.0, 0.0)).expect("in place");
        assert_eq!(col, InPlace { order: Order::Col, trans: [true, false], ld: [4, 4, 2] });
    }

    #[test]
    fn special_cases_and_copies_are_single_calls() {
        for (alpha, beta) in [(0.0, 1.0), (f64::NAN, 1.0), (1.0, f64::NAN)] {
            assert_eq!(in_place(&product(true, alpha, beta)), None, "α {alpha}, β {beta}");
        }
        let k0 = Product {
            dims: (2, 3, 0),
            operands: [s(2, 0, 1, 2), s(0, 3, 3, 1), s(2, 3, 3, 1)],
            ..product(true, 1.0, 1.0)
        };
        assert_eq!(in_place(&k0), None);
        let general_c = Product { operands: [s(2, 4, 4, 1), s(4, 3, 1, 4), s(2, 3, 2, 7)], ..product(true, 1.0, 1.0) };
        assert_eq!(in_place(&general_c), None);
        let general_b = Product { operands: [s(2, 4, 4, 1), s(4, 3, 2, 9), s(2, 3, 3, 1)], ..product(true, 1.0, 1.0) };
        assert_eq!(in_place(&general_b), None);
        let negative_a = Product { operands: [None, s(4, 3, 1, 4), s(2, 3, 3, 1)], ..product(true, 1.0, 1.0) };
        assert_eq!(in_place(&negative_a), None);
    }

    #[test]
    fn strided_batches_mkl_would_refuse_are_single_calls() {
        // Row-major call: A 2×4 (ld 4, 2 rows), Bᵀ stored 3×4 (ld 4, 3 rows), C 2×3 (ld 3).
        let p = product(true, 1.0, 0.5);
        assert_eq!(plan_strided(&p, [8, 12, 6], 3).map(|(_, st)| st), Some([8, 12, 6]));
        assert_eq!(plan_strided(&p, [8, 12, 6], 1), None, "one product");
        assert_eq!(plan_strided(&p, [8, 12, 6], 0), None, "empty batch");
        assert_eq!(plan_strided(&p, [7, 12, 6], 3), None, "A's stride below one stored A");
        assert_eq!(plan_strided(&p, [8, 11, 6], 3), None, "B's stride below one stored Bᵀ");
        assert_eq!(plan_strided(&p, [8, 12, 5], 3), None, "C's stride below one stored C");
        assert_eq!(plan_strided(&p, [0, 12, 6], 3), None, "a repeated A (stride 0)");
        // Column-major call: Aᵀ stored 4×2 (ld 4, 2 columns), B 4×3 (ld 4, 3 columns), C 2×3 (ld 2).
        let p = product(false, 1.0, 0.5);
        assert_eq!(plan_strided(&p, [8, 12, 6], 3).map(|(_, st)| st), Some([8, 12, 6]));
        assert_eq!(plan_strided(&p, [8, 12, 5], 3), None, "C's stride below one stored C");
    }

    #[test]
    fn strided_batches_whose_offsets_overflow_mkl_int_are_single_calls() {
        let p = product(true, 1.0, 0.5);
        let big = i32::MAX as usize / 2 + 1;
        assert_eq!(plan_strided(&p, [8, big, 6], 3), None, "B's last offset exceeds i32::MAX");
        assert!(plan_strided(&p, [8, big, 6], 2).is_some(), "the last offset fits");
        assert_eq!(plan_strided(&p, [8, i32::MAX as usize + 1, 6], 2), None, "B's stride exceeds i32::MAX");
    }

    #[test]
    fn grouped_products_form_calls_by_order_and_groups_by_parameters() {
        let row = product(true, 1.0, 0.0);
        let col = product(false, 1.0, 0.0);
        let row_beta = product(true, 1.0, 2.0);
        let general = Product { operands: [s(2, 4, 4, 1), s(4, 3, 1, 4), s(2, 3, 2, 7)], ..row };
        let alpha0 = product(true, 0.0, 1.0);
        let products = [
            (0, 0, row),
            (0, 1, row),
            (1, 0, row_beta),
            (2, 0, col),
            (2, 1, general),
            (2, 2, col),
            (3, 0, alpha0),
            (3, 1, row),
        ];
        let steps = plan_grouped(products.iter().map(|&(g, p, product)| ((g, p), product)));
        let params =
            |p: &Product<f64>| GroupParams { dims: p.dims, alpha: p.alpha, beta: p.beta, place: in_place(p).unwrap() };
        let group = |p: &Product<f64>, products: Vec<ProductId>| MklGroup { params: params(p), products };
        assert_eq!(
            steps,
            vec![
                Step::Call {
                    order: Order::Row,
                    groups: vec![group(&row, vec![(0, 0), (0, 1)]), group(&row_beta, vec![(1, 0)])]
                },
                Step::Call { order: Order::Col, groups: vec![group(&col, vec![(2, 0)])] },
                Step::Single((2, 1)),
                Step::Call { order: Order::Col, groups: vec![group(&col, vec![(2, 2)])] },
                Step::Single((3, 0)),
                Step::Call { order: Order::Row, groups: vec![group(&row, vec![(3, 1)])] },
            ]
        );
    }
}
