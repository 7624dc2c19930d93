//! Results are bit-for-bit the same for every thread count.
//!
//! Shapes are not multiples of any kernel's MR or NR, have k > KC (several K blocks), and
//! are large enough (≥ `SERIAL_BELOW` multiply-adds) for the threads to be used; the
//! threads split N on some and M on others.

use matmul_core::half::{bf16, f16};
use matmul_core::testing::{Operand, OperandLayout};
use matmul_core::{Availability, Backend, Element};
use matmul_simd::{Choice, Isa, Simd, SERIAL_BELOW};

/// The threads split N on the first four (their column panels balance better) and M on
/// the last (for every kernel here).
const SHAPES: [(usize, usize, usize); 5] =
    [(203, 157, 1100), (97, 301, 515), (250, 13, 800), (20, 500, 300), (505, 13, 400)];

fn product<T: Element>(backend: &Simd, (m, n, k): (usize, usize, usize), lc: OperandLayout, beta: f64) -> Vec<u64> {
    let value = |seed: usize| move |i: usize, j: usize| (((i * 31 + j * 17 + seed) % 29) as f64 - 14.0) / 7.3;
    let a = Operand::<T>::new(m, k, OperandLayout::RowMajor, |i, j| T::from_f64(value(1)(i, j)));
    let b = Operand::<T>::new(k, n, OperandLayout::ColMajor, |i, j| T::from_f64(value(2)(i, j)));
    let mut c = Operand::<T::Acc>::new(m, n, lc, |i, j| T::Acc::from_f64(value(3)(i, j)));
    let (alpha, beta) = (T::Acc::from_f64(0.75), T::Acc::from_f64(beta));
    T::gemm(backend, alpha, a.view(), b.view(), beta, c.view_mut()).expect("gemm");
    let view = c.view();
    (0..m).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| view.get(i, j).unwrap().to_f64().to_bits()).collect()
}

fn check<T: Element>(isa: Isa) {
    let serial = Simd::new(Choice::Only(isa));
    if let Availability::Unavailable(reason) = serial.availability() {
        eprintln!("skipped {isa}: {reason}");
        return;
    }
    serial.set_threads(1);
    for shape in SHAPES {
        assert!(shape.0 * shape.1 * shape.2 >= SERIAL_BELOW, "{shape:?} would run serially");
        for (lc, beta) in
            [(OperandLayout::ColMajor, 0.0), (OperandLayout::RowMajor, 1.5), (OperandLayout::General, -1.0)]
        {
            let want = product::<T>(&serial, shape, lc, beta);
            for threads in [2, 3] {
                let threaded = Simd::new(Choice::Only(isa));
                threaded.set_threads(threads);
                let got = product::<T>(&threaded, shape, lc, beta);
                let differ = want.iter().zip(&got).filter(|(x, y)| x != y).count();
                assert_eq!(
                    differ,
                    0,
                    "{isa} {} {shape:?} C {lc:?}: {threads} threads differ from 1 in {differ} elements",
                    T::NAME
                );
            }
        }
    }
}

#[test]
fn avx512_bits_do_not_depend_on_threads() {
    check::<f64>(Isa::Avx512);
    check::<f32>(Isa::Avx512);
    check::<bf16>(Isa::Avx512);
    check::<f16>(Isa::Avx512);
}

#[test]
fn avx2_bits_do_not_depend_on_threads() {
    check::<f64>(Isa::Avx2);
    check::<f32>(Isa::Avx2);
    check::<bf16>(Isa::Avx2);
    check::<f16>(Isa::Avx2);
}

#[test]
fn portable_bits_do_not_depend_on_threads() {
    check::<f64>(Isa::Portable);
    check::<f32>(Isa::Portable);
    check::<bf16>(Isa::Portable);
    check::<f16>(Isa::Portable);
}

/// A batch split across threads gives each product the bits of a single call (which the
/// tests above show are the same for every thread count): `assert_batches` compares them
/// bit for bit, with 1, 2, 3 and 8 threads, on every kernel this CPU runs.
#[test]
fn batch_bits_do_not_depend_on_threads() {
    for isa in Isa::ALL.into_iter().filter(|isa| isa.is_supported()) {
        for threads in [1, 2, 3, 8] {
            let simd = Simd::new(Choice::Only(isa));
            simd.set_threads(threads);
            matmul_core::testing::assert_batches::<f32>(&simd);
            matmul_core::testing::assert_batches::<f64>(&simd);
        }
    }
}
