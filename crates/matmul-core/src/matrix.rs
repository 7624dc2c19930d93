//! An owned matrix that knows its layout.

use std::fmt;
use std::str::FromStr;

use crate::error::ViewError;
use crate::{Element, MatMut, MatRef};

/// How an owned matrix stores its elements. Ordered row-major first (as [`Layouts::ALL`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// Row-major for 0, column-major otherwise ([`Layouts::ALL`]'s counting).
    const fn from_bit(bit: usize) -> Self {
        if bit == 0 {
            Layout::RowMajor
        } else {
            Layout::ColMajor
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

/// The layouts of one product's A, B and C, named by three letters of [`Layout::letter`]
/// (`rcr`: A row-major, B column-major, C row-major). Parsed once where a command line is
/// read, and carried as this type through the bench, its results files (as the letters),
/// `compare`, `icount` and the report.
///
/// ```
/// use matmul_core::{Layout, Layouts};
///
/// let l: Layouts = "rcr".parse().unwrap();
/// assert_eq!(l, Layouts { a: Layout::RowMajor, b: Layout::ColMajor, c: Layout::RowMajor });
/// assert_eq!(l.to_string(), "rcr");
/// assert_eq!(Layouts::parse_list("rrr,all").unwrap().len(), 8);
/// assert!("rc".parse::<Layouts>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Layouts {
    /// A's layout.
    pub a: Layout,
    /// B's layout.
    pub b: Layout,
    /// C's layout.
    pub c: Layout,
}

impl Layouts {
    /// All three row-major (`rrr`): the bench's default.
    pub const ROW_MAJOR: Layouts = Layouts::new([Layout::RowMajor; 3]);

    /// All three column-major (`ccc`).
    pub const COL_MAJOR: Layouts = Layouts::new([Layout::ColMajor; 3]);

    /// Every mix of row- and column-major for A, B and C (the layout experiment), `rrr`
    /// first and `ccc` last, C's letter changing fastest.
    pub const ALL: [Layouts; 8] = {
        let mut all = [Layouts::ROW_MAJOR; 8];
        let mut i = 0;
        while i < 8 {
            all[i] = Layouts::new([Layout::from_bit(i & 4), Layout::from_bit(i & 2), Layout::from_bit(i & 1)]);
            i += 1;
        }
        all
    };

    /// The layouts of A, B and C, in that order.
    pub const fn new([a, b, c]: [Layout; 3]) -> Layouts {
        Layouts { a, b, c }
    }

    /// `[a, b, c]`.
    pub const fn as_array(self) -> [Layout; 3] {
        [self.a, self.b, self.c]
    }

    /// Parses a comma-separated list of names, or `all` for [`Layouts::ALL`]; repeated
    /// names are kept once, in the order first given.
    pub fn parse_list(list: &str) -> Result<Vec<Layouts>, UnknownLayouts> {
        crate::dtype::parse_list(list, &Layouts::ALL)
    }
}

impl fmt::Display for Layouts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name: String = self.as_array().iter().map(|l| l.letter()).collect();
        f.pad(&name)
    }
}

/// A name that is not three layout letters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("layout {name:?}: expected three letters r (row-major) or c (column-major), for A, B and C (e.g. rcr), or all")]
pub struct UnknownLayouts {
    /// The name given.
    pub name: String,
}

impl FromStr for Layouts {
    type Err = UnknownLayouts;

    fn from_str(s: &str) -> Result<Self, UnknownLayouts> {
        let name = s.trim();
        let letters: Option<Vec<Layout>> = name.chars().map(Layout::from_letter).collect();
        match letters.as_deref() {
            Some(&[a, b, c]) => Ok(Layouts { a, b, c }),
            _ => Err(UnknownLayouts { name: name.to_owned() }),
        }
    }
}

impl TryFrom<String> for Layouts {
    type Error = UnknownLayouts;

    fn try_from(s: String) -> Result<Self, UnknownLayouts> {
        s.parse()
    }
}

impl From<Layouts> for String {
    fn from(l: Layouts) -> String {
        l.to_string()
    }
}

/// 64 bytes, aligned to 64: a cache line, and the width of an AVX-512 register.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
struct CacheLine([u8; 64]);

/// A dense matrix that owns its buffer.
///
/// The buffer starts on a 64-byte boundary, so no vector load of a row or column start
/// straddles two cache lines: with the 16-byte alignment `Vec<f64>` gets from the system
/// allocator, half of the 32-byte AVX2 loads and stores of a row-update loop do, and such
/// loops run markedly slower.
#[derive(Clone)]
pub struct Matrix<T> {
    lines: Vec<CacheLine>,
    len: usize,
    rows: usize,
    cols: usize,
    layout: Layout,
    element: std::marker::PhantomData<T>,
}

impl<T: Element> std::fmt::Debug for Matrix<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("layout", &self.layout)
            .field("data", &self.as_slice())
            .finish()
    }
}

impl<T: Element> PartialEq for Matrix<T> {
    fn eq(&self, other: &Self) -> bool {
        self.shape() == other.shape() && self.layout == other.layout && self.as_slice() == other.as_slice()
    }
}

impl<T: Element> Matrix<T> {
    /// A `rows × cols` matrix of zeros.
    ///
    /// # Panics
    /// If the matrix cannot exist: `rows * cols` elements overflow `usize` or do not fit in
    /// memory. [`Matrix::try_zeros`] returns that as an error instead.
    #[track_caller]
    pub fn zeros(rows: usize, cols: usize, layout: Layout) -> Self {
        Self::try_zeros(rows, cols, layout).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A `rows × cols` matrix of zeros, or [`ViewError::TooLarge`] if `rows * cols`
    /// elements overflow `usize` or cannot be allocated.
    pub fn try_zeros(rows: usize, cols: usize, layout: Layout) -> Result<Self, ViewError> {
        let too_large = || ViewError::TooLarge { rows, cols, element_bytes: std::mem::size_of::<T>() };
        let len = rows.checked_mul(cols).ok_or_else(too_large)?;
        let per_line = std::mem::size_of::<CacheLine>() / std::mem::size_of::<T>();
        let mut lines = Vec::new();
        lines.try_reserve_exact(len.div_ceil(per_line)).map_err(|_| too_large())?;
        // All-zero bits are +0.0 for both element types.
        lines.resize(len.div_ceil(per_line), bytemuck::Zeroable::zeroed());
        Ok(Matrix { lines, len, rows, cols, layout, element: std::marker::PhantomData })
    }

    /// A matrix whose element `(i, j)` is `f(i, j)`.
    ///
    /// # Panics
    /// As [`Matrix::zeros`]; [`Matrix::try_from_fn`] returns the error instead.
    #[track_caller]
    pub fn from_fn(rows: usize, cols: usize, layout: Layout, f: impl FnMut(usize, usize) -> T) -> Self {
        Self::try_from_fn(rows, cols, layout, f).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A matrix whose element `(i, j)` is `f(i, j)`, or [`ViewError::TooLarge`] as
    /// [`Matrix::try_zeros`].
    pub fn try_from_fn(
        rows: usize,
        cols: usize,
        layout: Layout,
        mut f: impl FnMut(usize, usize) -> T,
    ) -> Result<Self, ViewError> {
        let mut m = Self::try_zeros(rows, cols, layout)?;
        let (rs, cs) = layout.strides(rows, cols);
        for i in 0..rows {
            for j in 0..cols {
                m.as_mut_slice()[i * rs + j * cs] = f(i, j);
            }
        }
        Ok(m)
    }

    /// A matrix holding `data` (copied into aligned storage), laid out as `layout`; errors
    /// if its length is not `rows * cols`.
    pub fn from_vec(data: Vec<T>, rows: usize, cols: usize, layout: Layout) -> Result<Self, ViewError> {
        let expected = rows.checked_mul(cols);
        if expected != Some(data.len()) {
            return Err(ViewError::BufferLength {
                shape: (rows, cols),
                expected: expected.ok_or(ViewError::TooLarge {
                    rows,
                    cols,
                    element_bytes: std::mem::size_of::<T>(),
                })?,
                len: data.len(),
            });
        }
        let mut m = Self::try_zeros(rows, cols, layout)?;
        m.as_mut_slice().copy_from_slice(&data);
        Ok(m)
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
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
    /// The buffer, in storage order; it starts on a 64-byte boundary.
    pub fn as_slice(&self) -> &[T] {
        &bytemuck::cast_slice(&self.lines)[..self.len]
    }
    /// The buffer, writable, in storage order.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut bytemuck::cast_slice_mut(&mut self.lines)[..self.len]
    }
    /// The elements in storage order, as a `Vec` (a copy).
    pub fn into_vec(self) -> Vec<T> {
        self.as_slice().to_vec()
    }
    /// The element at `(i, j)`, or `None` outside the matrix.
    pub fn get(&self, i: usize, j: usize) -> Option<T> {
        self.as_ref().get(i, j)
    }

    /// A read view of the whole matrix.
    pub fn as_ref(&self) -> MatRef<'_, T> {
        let (rs, cs) = self.layout.strides(self.rows, self.cols);
        MatRef::new(self.as_slice(), self.rows, self.cols, rs, cs).expect("an owned matrix always forms a valid view")
    }

    /// A writable view of the whole matrix.
    pub fn as_mut(&mut self) -> MatMut<'_, T> {
        let (rs, cs) = self.layout.strides(self.rows, self.cols);
        let (rows, cols) = (self.rows, self.cols);
        MatMut::new(self.as_mut_slice(), rows, cols, rs, cs).expect("an owned matrix always forms a valid view")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_triple_is_named_once_and_round_trips() {
        let names: Vec<String> = Layouts::ALL.iter().map(Layouts::to_string).collect();
        assert_eq!(names, ["rrr", "rrc", "rcr", "rcc", "crr", "crc", "ccr", "ccc"]);
        assert_eq!((Layouts::ALL[0], Layouts::ALL[7]), (Layouts::ROW_MAJOR, Layouts::COL_MAJOR));
        for l in Layouts::ALL {
            assert_eq!(l.to_string().parse::<Layouts>(), Ok(l));
            assert_eq!(Layouts::new(l.as_array()), l);
        }
        assert_eq!(" RcR ".parse::<Layouts>().map(|l| l.to_string()).as_deref(), Ok("rcr"));
        assert_eq!(Layouts::parse_list("ccc, rrr,ccc").unwrap(), [Layouts::COL_MAJOR, Layouts::ROW_MAJOR]);
        for bad in ["", "rr", "rrrr", "rxr", "all"] {
            assert_eq!(bad.parse::<Layouts>(), Err(UnknownLayouts { name: bad.to_owned() }));
        }
        assert!(Layouts::parse_list("rrr,").is_err());
    }

    #[test]
    fn layouts_agree_elementwise() {
        let r = Matrix::<f32>::from_fn(3, 2, Layout::RowMajor, |i, j| (10 * i + j) as f32);
        let c = Matrix::<f32>::from_fn(3, 2, Layout::ColMajor, |i, j| (10 * i + j) as f32);
        assert_eq!(r.as_slice(), &[0.0, 1.0, 10.0, 11.0, 20.0, 21.0]);
        assert_eq!(c.as_slice(), &[0.0, 10.0, 20.0, 1.0, 11.0, 21.0]);
        assert_eq!(r.as_ref().to_matrix(Layout::ColMajor), c);
    }

    #[test]
    fn buffers_start_on_a_cache_line() {
        for n in [1, 3, 17, 100] {
            let m = Matrix::<f32>::zeros(n, n + 1, Layout::ColMajor);
            assert_eq!(m.as_slice().as_ptr() as usize % 64, 0);
            assert_eq!(m.as_slice().len(), n * (n + 1));
            let m = Matrix::<f64>::from_fn(n, 2, Layout::RowMajor, |i, j| (i + j) as f64);
            assert_eq!(m.as_ref().as_ptr() as usize % 64, 0);
            assert_eq!(m.clone().into_vec().len(), 2 * n);
        }
    }

    #[test]
    fn from_vec_checks_length() {
        assert_eq!(
            Matrix::<f64>::from_vec(vec![0.0; 5], 2, 3, Layout::RowMajor).unwrap_err(),
            ViewError::BufferLength { shape: (2, 3), expected: 6, len: 5 }
        );
        assert!(Matrix::<f64>::from_vec(vec![0.0; 6], 2, 3, Layout::ColMajor).is_ok());
        assert!(matches!(
            Matrix::<f64>::from_vec(vec![], usize::MAX, 2, Layout::ColMajor),
            Err(ViewError::TooLarge { rows: usize::MAX, cols: 2, element_bytes: 8 })
        ));
    }

    #[test]
    fn impossible_sizes_are_errors() {
        for (rows, cols) in [(usize::MAX, 2), (1 << 40, 1 << 40), (usize::MAX / 8, 1)] {
            let e = Matrix::<f64>::try_zeros(rows, cols, Layout::RowMajor).unwrap_err();
            assert_eq!(e, ViewError::TooLarge { rows, cols, element_bytes: 8 });
            assert!(Matrix::<f32>::try_from_fn(rows, cols, Layout::ColMajor, |_, _| 1.0).is_err());
        }
        let e = std::panic::catch_unwind(|| Matrix::<f32>::zeros(usize::MAX, 3, Layout::RowMajor)).unwrap_err();
        assert!(e.downcast_ref::<String>().unwrap().contains("does not fit in memory"));
    }

    #[test]
    fn empty_matrices_form_views() {
        for (rows, cols) in [(3, 0), (0, 3), (0, 0)] {
            for layout in [Layout::RowMajor, Layout::ColMajor] {
                let mut m = Matrix::<f64>::zeros(rows, cols, layout);
                assert_eq!(m.as_ref().shape(), (rows, cols));
                assert!(m.as_ref().is_empty());
                assert_eq!(m.as_mut().shape(), (rows, cols));
            }
        }
    }
}
