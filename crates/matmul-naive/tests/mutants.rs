//! The test matrix must fail a wrong backend: each mutant below breaks one rule in one
//! place, and the shared grid has to notice every time it matters.

use matmul_core::testing::{grid, run_case};
use matmul_core::{Backend, BackendKind, MatMut, MatRef, Result, Scalar};
use matmul_naive::NaiveIkj;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mutation {
    /// The last element of C is off by a clearly visible amount.
    OneWrongElement,
    /// β = 0 is computed as α·A·B + 0·C, reading C (NaN survives).
    ReadsCWhenBetaIsZero,
    /// The first padding slot of C's span is overwritten.
    WritesPadding,
}

#[derive(Debug)]
struct Mutant {
    mutation: Mutation,
    /// Whether the last call actually injected its fault.
    injected: AtomicBool,
}

impl Mutant {
    fn gemm<T: Scalar>(
        &self,
        alpha: T,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        beta: T,
        mut c: MatMut<'_, T>,
    ) -> Result<()> {
        self.injected.store(false, Ordering::Relaxed);
        match self.mutation {
            Mutation::ReadsCWhenBetaIsZero if beta == T::ZERO => {
                // Keep C₀ (possibly NaN) and add it back times zero.
                let c0 = c.rb().to_matrix(matmul_core::Layout::RowMajor);
                // 0·x is harmless for finite x: the fault shows only where C held a NaN.
                let has_nan = c0.as_slice().iter().any(|x| x.is_nan());
                self.injected.store(has_nan, Ordering::Relaxed);
                T::gemm(&NaiveIkj, alpha, a, b, T::ZERO, c.rb_mut())?;
                for i in 0..c.nrows() {
                    for j in 0..c.ncols() {
                        let v = c.get(i, j).unwrap() + T::ZERO * c0.get(i, j).unwrap();
                        assert!(c.set(i, j, v));
                    }
                }
                Ok(())
            }
            Mutation::ReadsCWhenBetaIsZero => T::gemm(&NaiveIkj, alpha, a, b, beta, c),
            Mutation::OneWrongElement => {
                T::gemm(&NaiveIkj, alpha, a, b, beta, c.rb_mut())?;
                let (m, n) = c.shape();
                if m > 0 && n > 0 {
                    let v = c.get(m - 1, n - 1).unwrap();
                    let wrong = v + T::ONE + T::from_f64(0.1 * v.to_f64().abs());
                    assert!(c.set(m - 1, n - 1, wrong));
                    self.injected.store(true, Ordering::Relaxed);
                }
                Ok(())
            }
            Mutation::WritesPadding => {
                T::gemm(&NaiveIkj, alpha, a, b, beta, c.rb_mut())?;
                // The first slot between C's first and last elements that is not one of its
                // elements, if any (C's strides not negative).
                let Some((rs, cs)) = c.unsigned_strides() else { return Ok(()) };
                let (m, n) = c.shape();
                if m == 0 || n == 0 {
                    return Ok(());
                }
                let mut is_element = vec![false; (m - 1) * rs + (n - 1) * cs + 1];
                for i in 0..m {
                    for j in 0..n {
                        is_element[i * rs + j * cs] = true;
                    }
                }
                if let Some(slot) = is_element.iter().position(|&e| !e) {
                    // SAFETY: the grid's C lives in a test buffer (`testing::Operand`) that
                    // owns every slot between its elements and lends none of them to
                    // anything else during the call; `slot` lies between two of C's
                    // elements. Writing there is the fault this mutant plants.
                    unsafe { *c.as_mut_ptr().add(slot) = T::from_f64(42.0) };
                    self.injected.store(true, Ordering::Relaxed);
                }
                Ok(())
            }
        }
    }
}

impl Backend for Mutant {
    fn name(&self) -> &'static str {
        "mutant"
    }
    fn description(&self) -> &'static str {
        "naive-ikj with one deliberate fault"
    }
    fn kind(&self) -> BackendKind {
        BackendKind::Loops
    }
    matmul_core::gemm_methods!(|this, alpha, a, b, beta, c| this.gemm(alpha, a, b, beta, c));
}

/// Runs the full grid on a mutant; returns (cases where the fault was injected, of those
/// caught, failures where it was not).
fn caught<T: Scalar>(mutation: Mutation) -> (usize, usize, usize) {
    let mutant = Mutant { mutation, injected: AtomicBool::new(false) };
    let (mut relevant, mut caught, mut false_alarms) = (0, 0, 0);
    for case in grid(false) {
        let failed = !run_case::<T>(&mutant, &case).passed();
        if mutant.injected.load(Ordering::Relaxed) {
            relevant += 1;
            caught += failed as usize;
        } else {
            false_alarms += failed as usize;
        }
    }
    (relevant, caught, false_alarms)
}

fn check_all<T: Scalar>() {
    for (mutation, at_least) in
        [(Mutation::OneWrongElement, 400), (Mutation::ReadsCWhenBetaIsZero, 100), (Mutation::WritesPadding, 50)]
    {
        let (injected, hit, false_alarms) = caught::<T>(mutation);
        assert!(injected >= at_least, "{mutation:?} injected only {injected} times");
        assert_eq!((hit, false_alarms), (injected, 0), "{mutation:?}: (caught, false alarms)");
    }
}

#[test]
fn the_grid_catches_every_mutant_f32() {
    check_all::<f32>();
}

#[test]
fn the_grid_catches_every_mutant_f64() {
    check_all::<f64>();
}
