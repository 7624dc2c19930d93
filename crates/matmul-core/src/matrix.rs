//! An owned matrix that knows its layout.

use crate::error::ViewError;
use crate::{MatMut, MatRef, Scalar};

/// How an owned matrix stores its elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Element `(i, j)` at `i * cols + j`: rows are contiguous.
    RowMajor,
    /// Element `(i, j)` at `i + j * rows`: columns are contiguous.
    ColMajor,
}

impl Layout {
    /// `'r'` or `'c'`, the letters the bench's `--layouts` option uses.
    pub fn letter(self) -> char {
        match self {
            Layout::RowMajor => 'r',
            Layout::ColMajor => 'c',
        }
    }

    /// The layout named by `'r'` or `'c'`.
    pub fn from_letter(c: char) -> Option<Self> {
        match c {
            'r' | 'R' => Some(Layout::RowMajor),
            'c' | 'C' => Some(Layout::ColMajor),
            _ => None,
        }
    }

    /// (row stride, column stride) of a dense `rows × cols` matrix in this layout.
    pub fn strides(self, rows: usize, cols: usize) -> (usize, usize) {
        match self {
            Layout::RowMajor => (cols, 1),
            Layout::ColMajor => (1, rows),
        }
    }
}

/// A dense matrix that owns its buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
    layout: Layout,
}

impl<T: Scalar> Matrix<T> {
    /// A `rows × cols` matrix of zeros.
    ///
    /// Panics if `rows * cols` overflows `usize` (the allocation could not exist).
    pub fn zeros(rows: usize, cols: usize, layout: Layout) -> Self {
        let len = rows.checked_mul(cols).expect("matrix size overflows usize");
        Matrix { data: vec![T::ZERO; len], rows, cols, layout }
    }

    /// A matrix whose element `(i, j)` is `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, layout: Layout, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut m = Self::zeros(rows, cols, layout);
        let (rs, cs) = layout.strides(rows, cols);
        for i in 0..rows {
            for j in 0..cols {
                m.data[i * rs + j * cs] = f(i, j);
            }
        }
        m
    }

    /// Takes ownership of `data`, laid out as `layout`; errors if its length is not `rows * cols`.
    pub fn from_vec(data: Vec<T>, rows: usize, cols: usize, layout: Layout) -> Result<Self, ViewError> {
        let expected = rows.checked_mul(cols);
        if expected != Some(data.len()) {
            return Err(ViewError::BufferLength {
                shape: (rows, cols),
                expected: expected.unwrap_or(usize::MAX),
                len: data.len(),
            });
        }
        Ok(Matrix { data, rows, cols, layout })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
    /// The storage order.
    pub fn layout(&self) -> Layout {
        self.layout
    }
    /// The buffer, in storage order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }
    /// The buffer, writable, in storage order.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }
    /// Gives up the buffer.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }
    /// The element at `(i, j)`, or `None` outside the matrix.
    pub fn get(&self, i: usize, j: usize) -> Option<T> {
        self.as_ref().get(i, j)
    }

    /// A read view of the whole matrix.
    pub fn as_ref(&self) -> MatRef<'_, T> {
        let (rs, cs) = self.layout.strides(self.rows, self.cols);
        MatRef::new(&self.data, self.rows, self.cols, rs, cs).expect("an owned matrix always forms a valid view")
    }

    /// A writable view of the whole matrix.
    pub fn as_mut(&mut self) -> MatMut<'_, T> {
        let (rs, cs) = self.layout.strides(self.rows, self.cols);
        MatMut::new(&mut self.data, self.rows, self.cols, rs, cs).expect("an owned matrix always forms a valid view")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_agree_elementwise() {
        let r = Matrix::<f32>::from_fn(3, 2, Layout::RowMajor, |i, j| (10 * i + j) as f32);
        let c = Matrix::<f32>::from_fn(3, 2, Layout::ColMajor, |i, j| (10 * i + j) as f32);
        assert_eq!(r.as_slice(), &[0.0, 1.0, 10.0, 11.0, 20.0, 21.0]);
        assert_eq!(c.as_slice(), &[0.0, 10.0, 20.0, 1.0, 11.0, 21.0]);
        assert_eq!(r.as_ref().to_matrix(Layout::ColMajor), c);
    }

    #[test]
    fn from_vec_checks_length() {
        assert_eq!(
            Matrix::<f64>::from_vec(vec![0.0; 5], 2, 3, Layout::RowMajor).unwrap_err(),
            ViewError::BufferLength { shape: (2, 3), expected: 6, len: 5 }
        );
        assert!(Matrix::<f64>::from_vec(vec![0.0; 6], 2, 3, Layout::ColMajor).is_ok());
    }
}
