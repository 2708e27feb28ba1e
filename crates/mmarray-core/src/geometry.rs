//! Shapes, byte strides, slicing and the decomposition of a view into contiguous runs.

use crate::spec::{Index, Spec, resolve_slice};
use crate::{Error, IndexError, Result, ShapeError};

/// Memory order of a multi-dimensional array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// Row-major: the last axis varies fastest (numpy's default).
    #[default]
    C,
    /// Column-major: the first axis varies fastest (`fortran_order` in `.npy`).
    F,
}

impl Order {
    /// `"C"` or `"F"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Order::C => "C",
            Order::F => "F",
        }
    }

    /// The axes of an `ndim`-dimensional array from the one that varies fastest in
    /// memory to the slowest: the last axis first for C, the first for F.
    ///
    /// ```
    /// use mmarray_core::Order;
    /// assert_eq!(Order::C.axes_fastest_first(3), [2, 1, 0]);
    /// assert_eq!(Order::F.axes_fastest_first(3), [0, 1, 2]);
    /// ```
    #[must_use]
    pub fn axes_fastest_first(self, ndim: usize) -> Vec<usize> {
        match self {
            Order::C => (0..ndim).rev().collect(),
            Order::F => (0..ndim).collect(),
        }
    }

    /// The multi-index of position `pos` when the elements of `shape` are listed
    /// in this order (the inverse of [`ravel`](Order::ravel)).
    ///
    /// ```
    /// use mmarray_core::Order;
    /// assert_eq!(Order::C.unravel(5, &[2, 3]), [1, 2]);
    /// assert_eq!(Order::F.unravel(5, &[2, 3]), [1, 2]);
    /// assert_eq!(Order::F.unravel(1, &[2, 3]), [1, 0]);
    /// ```
    #[must_use]
    pub fn unravel(self, mut pos: usize, shape: &[usize]) -> Vec<usize> {
        let mut index = vec![0; shape.len()];
        for ax in self.axes_fastest_first(shape.len()) {
            let n = shape[ax].max(1);
            index[ax] = pos % n;
            pos /= n;
        }
        index
    }

    /// The position of multi-index `index` when the elements of `shape` are listed
    /// in this order.
    ///
    /// ```
    /// use mmarray_core::Order;
    /// assert_eq!(Order::C.ravel(&[1, 0], &[2, 3]), 3);
    /// assert_eq!(Order::F.ravel(&[1, 0], &[2, 3]), 1);
    /// ```
    #[must_use]
    pub fn ravel(self, index: &[usize], shape: &[usize]) -> usize {
        let mut axes = self.axes_fastest_first(shape.len());
        axes.reverse();
        axes.into_iter().fold(0, |r, ax| r * shape[ax] + index[ax])
    }
}

/// The most dimensions an array may have: numpy's `NPY_MAXDIMS` (64 since numpy 2.0).
///
/// The `.npy` header parser reads longer shapes (as numpy's does), but opening or
/// creating an array with more dimensions is refused, as numpy refuses to make one:
/// code that walks the axes recursively (printing, nested lists) then stays shallow.
pub const MAX_DIMS: usize = 64;

/// Number of elements of `shape` (1 for `()`, 0 when any axis is 0), `None` on
/// overflow: the one place where a shape's product is taken.
///
/// ```
/// use mmarray_core::{checked_len, checked_nbytes};
/// assert_eq!(checked_len(&[3, 4]), Some(12));
/// assert_eq!(checked_len(&[]), Some(1));
/// assert_eq!(checked_len(&[usize::MAX, 2, 0]), Some(0));
/// assert_eq!(checked_len(&[usize::MAX, 2]), None);
/// assert_eq!(checked_nbytes(&[3, 4], 8), Some(96));
/// ```
#[must_use]
pub fn checked_len(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Bytes of an array of `shape` with `itemsize`-byte elements, `None` on overflow.
#[must_use]
pub fn checked_nbytes(shape: &[usize], itemsize: usize) -> Option<usize> {
    checked_len(shape)?.checked_mul(itemsize)
}

/// The byte strides (numpy's `strides`) of a contiguous array of `shape` in
/// `order` with `itemsize`-byte elements; saturating where they would overflow
/// (never for a shape an array can have).
///
/// ```
/// use mmarray_core::{Order, contiguous_strides};
/// assert_eq!(contiguous_strides(&[2, 3, 4], 8, Order::C), [96, 32, 8]);
/// assert_eq!(contiguous_strides(&[2, 3, 4], 8, Order::F), [8, 16, 48]);
/// ```
#[must_use]
pub fn contiguous_strides(shape: &[usize], itemsize: usize, order: Order) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut step = isize::try_from(itemsize).unwrap_or(isize::MAX);
    for a in order.axes_fastest_first(shape.len()) {
        strides[a] = step;
        step = step.saturating_mul(isize::try_from(shape[a].max(1)).unwrap_or(isize::MAX));
    }
    strides
}

/// numpy's "array is too big" rule: the byte size of the non-zero axes must fit in
/// `isize`, so that every stride does, even when a zero-length axis makes the
/// array empty.
pub(crate) fn spans_fit(shape: &[usize], itemsize: usize) -> bool {
    shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(itemsize, |acc, &d| acc.checked_mul(d))
        .is_some_and(|bytes| isize::try_from(bytes).is_ok())
}

/// Where a view's elements are in its byte region: the byte offset of the first
/// element and a byte stride per axis.
///
/// Invariant (kept by every constructor): every element the geometry addresses
/// lies, with all its `itemsize` bytes, inside the region it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) offset: usize,
    pub(crate) shape: Vec<usize>,
    pub(crate) strides: Vec<isize>,
}

impl Geometry {
    /// The geometry of a contiguous array; the caller has checked that
    /// `len(shape) * itemsize` fits the region (and therefore `isize`).
    pub(crate) fn contiguous(shape: &[usize], itemsize: usize, order: Order) -> Geometry {
        let strides = contiguous_strides(shape, itemsize, order);
        Geometry {
            offset: 0,
            shape: shape.to_vec(),
            strides,
        }
    }

    /// A geometry given by an offset and byte strides over a region of `region`
    /// bytes, checked: every addressed element lies inside the region, strides are
    /// multiples of `itemsize`, and no two elements overlap (sorted by stride, each
    /// axis steps over everything the smaller axes span), as for any view that
    /// numpy's basic indexing makes of a contiguous array.
    pub(crate) fn strided(
        region: usize,
        itemsize: usize,
        offset: usize,
        shape: &[usize],
        strides: &[isize],
    ) -> Result<Geometry> {
        let bad = |e: ShapeError| Err(Error::Shape(e));
        if shape.len() != strides.len() {
            return bad(ShapeError::StrideCount {
                ndim: shape.len(),
                strides: strides.len(),
            });
        }
        if shape.len() > MAX_DIMS {
            return bad(ShapeError::TooManyDims {
                ndim: shape.len(),
                max: MAX_DIMS,
            });
        }
        let Some(len) = checked_len(shape) else {
            return bad(ShapeError::TooLarge {
                shape: shape.to_vec(),
            });
        };
        let geom = Geometry {
            offset,
            shape: shape.to_vec(),
            strides: strides.to_vec(),
        };
        if len == 0 {
            return if offset <= region {
                Ok(geom)
            } else {
                bad(ShapeError::Offset { offset, region })
            };
        }
        let mut dims: Vec<(usize, usize)> = Vec::new();
        let (mut low, mut high) = (offset as i128, offset as i128);
        for (&n, &s) in shape.iter().zip(strides) {
            if n <= 1 {
                continue;
            }
            if itemsize == 0 || s.unsigned_abs() % itemsize != 0 {
                return bad(ShapeError::Stride {
                    stride: s,
                    itemsize,
                });
            }
            let span = i128::from(s as i64) * (n as i128 - 1);
            if span < 0 {
                low += span;
            } else {
                high += span;
            }
            dims.push((s.unsigned_abs(), n));
        }
        if low < 0 || high + itemsize as i128 > region as i128 {
            return bad(ShapeError::OutOfRegion {
                low,
                high: high + itemsize as i128,
                region,
            });
        }
        dims.sort_unstable();
        let mut spanned = itemsize as u128;
        for (stride, n) in dims {
            if (stride as u128) < spanned {
                return bad(ShapeError::Overlap);
            }
            spanned += stride as u128 * (n as u128 - 1);
        }
        Ok(geom)
    }

    pub(crate) fn len(&self) -> usize {
        // Fits: the geometry addresses distinct elements of a region that fits in memory.
        self.shape.iter().product()
    }

    /// Byte offset of the element at `index`, or an error naming the bad axis.
    pub(crate) fn offset_of(&self, index: &[usize]) -> Result<usize> {
        if index.len() != self.shape.len() {
            return Err(Error::Index(IndexError::WrongCount {
                ndim: self.shape.len(),
                given: index.len(),
            }));
        }
        let mut off = self.offset as isize;
        for (axis, ((&i, &n), &s)) in index.iter().zip(&self.shape).zip(&self.strides).enumerate() {
            if i >= n {
                return Err(Error::Index(IndexError::OutOfBounds {
                    index: i as i128,
                    axis,
                    size: n,
                }));
            }
            off += i as isize * s;
        }
        Ok(off as usize)
    }

    /// Applies numpy basic indexing.
    pub(crate) fn slice(&self, spec: &Spec) -> Result<Geometry> {
        let indices = spec.indices();
        let explicit = indices.iter().filter(|i| **i != Index::Ellipsis).count();
        if explicit > self.shape.len() {
            return Err(Error::Index(IndexError::TooMany {
                ndim: self.shape.len(),
                given: explicit,
            }));
        }
        let mut expanded = Vec::with_capacity(self.shape.len());
        for index in indices {
            if *index == Index::Ellipsis {
                expanded.extend(std::iter::repeat_n(Index::ALL, self.shape.len() - explicit));
            } else {
                expanded.push(*index);
            }
        }
        expanded.resize(self.shape.len(), Index::ALL);

        let mut offset = self.offset as isize;
        let mut shape = Vec::new();
        let mut strides = Vec::new();
        let mut empty = false;
        let mut moves = Vec::new();
        for (axis, (index, (&n, &stride))) in expanded
            .iter()
            .zip(self.shape.iter().zip(&self.strides))
            .enumerate()
        {
            match *index {
                Index::Int(i) => {
                    let n_i = n as isize;
                    let j = if i < 0 { i + n_i } else { i };
                    if j < 0 || j >= n_i {
                        return Err(Error::Index(IndexError::OutOfBounds {
                            index: i as i128,
                            axis,
                            size: n,
                        }));
                    }
                    moves.push(j * stride);
                }
                Index::Slice { start, stop, step } => {
                    if step == 0 {
                        return Err(Error::Index(IndexError::ZeroStep));
                    }
                    let (first, step, count) = resolve_slice(n, start, stop, step);
                    if count == 0 {
                        empty = true;
                    } else {
                        moves.push(first * stride);
                    }
                    shape.push(count);
                    strides.push(stride * step);
                }
                Index::Ellipsis => unreachable!("expanded above"),
            }
        }
        // An empty result addresses nothing: keep the old (valid) offset.
        if !empty {
            offset += moves.iter().sum::<isize>();
        }
        Ok(Geometry {
            offset: offset as usize,
            shape,
            strides,
        })
    }

    /// Whether the elements are contiguous in logical C order.
    pub(crate) fn is_c_contiguous(&self, itemsize: usize) -> bool {
        self.len() <= 1
            || *self
                == Geometry {
                    offset: self.offset,
                    ..Geometry::contiguous(&self.shape, itemsize, Order::C)
                }
    }

    /// Whether the elements are contiguous in logical F order.
    pub(crate) fn is_f_contiguous(&self, itemsize: usize) -> bool {
        self.len() <= 1
            || *self
                == Geometry {
                    offset: self.offset,
                    ..Geometry::contiguous(&self.shape, itemsize, Order::F)
                }
    }

    pub(crate) fn runs(&self, itemsize: usize) -> Runs {
        Runs::new(self, itemsize)
    }
}

/// One axis of a view after normalisation to memory order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dim {
    axis: usize,
    extent: usize,
    stride: usize,
    flipped: bool,
}

/// A view split into runs of elements that are contiguous in memory, in memory order.
///
/// Axes are reordered by stride, negative strides are walked backwards and axes
/// that continue each other are merged, so a whole C- or F-order array is a single
/// run and a strided view is as few runs as its layout allows. Every element of
/// the view is in exactly one run. Operations that do not care about element
/// order split the runs across threads; [`Runs::multi_index`] and
/// [`Runs::c_index`] give back each element's logical position when they do care.
///
/// ```
/// use mmarray_core::{Order, lowlevel::Runs};
/// let runs = Runs::of_contiguous(&[3, 4], 8, Order::F);
/// assert_eq!((runs.len(), runs.run_len()), (1, 12));
/// assert_eq!(runs.c_index(0, 1), 4); // element 1 in memory is [1, 0]
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runs {
    itemsize: usize,
    shape: Vec<usize>,
    start: usize,
    /// Dims in memory order, innermost first; `dims[..merged]` make up one run.
    dims: Vec<Dim>,
    merged: usize,
    run_len: usize,
    count: usize,
    c_linear: bool,
    f_linear: bool,
    /// C-order strides of the logical shape, in elements, per axis.
    c_strides: Vec<usize>,
}

impl Runs {
    /// The runs of a whole contiguous array of `shape` in `order`.
    #[must_use]
    pub fn of_contiguous(shape: &[usize], itemsize: usize, order: Order) -> Runs {
        Runs::new(&Geometry::contiguous(shape, itemsize, order), itemsize)
    }

    fn new(g: &Geometry, itemsize: usize) -> Runs {
        let len = g.len();
        let mut start = g.offset as isize;
        let mut dims: Vec<Dim> = Vec::new();
        for (axis, (&extent, &stride)) in g.shape.iter().zip(&g.strides).enumerate() {
            if extent <= 1 {
                continue;
            }
            let flipped = stride < 0;
            if flipped {
                start += stride * (extent as isize - 1);
            }
            dims.push(Dim {
                axis,
                extent,
                stride: stride.unsigned_abs(),
                flipped,
            });
        }
        dims.sort_by_key(|d| (d.stride, std::cmp::Reverse(d.axis)));
        let mut merged = 0;
        let mut run_len = 1usize;
        while merged < dims.len() && dims[merged].stride == run_len * itemsize {
            run_len *= dims[merged].extent;
            merged += 1;
        }
        let (run_len, n_runs) = if len == 0 {
            (0, 0)
        } else {
            (run_len, len / run_len)
        };
        // Memory order equals logical C order when the dims are the axes from last to
        // first without flips.
        let unflipped = dims.iter().all(|d| !d.flipped);
        let c_linear = dims.windows(2).all(|w| w[0].axis > w[1].axis) && unflipped;
        let f_linear = dims.windows(2).all(|w| w[0].axis < w[1].axis) && unflipped;
        let mut c_strides = vec![0; g.shape.len()];
        let mut acc = 1usize;
        for (s, &n) in c_strides.iter_mut().zip(&g.shape).rev() {
            *s = acc;
            acc = acc.saturating_mul(n);
        }
        Runs {
            itemsize,
            shape: g.shape.clone(),
            start: start as usize,
            dims,
            merged,
            run_len,
            count: n_runs,
            c_linear,
            f_linear,
            c_strides,
        }
    }

    /// Number of runs (0 for an empty view).
    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no runs (the view is empty).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Elements per run (all runs have the same length).
    #[must_use]
    pub fn run_len(&self) -> usize {
        self.run_len
    }

    /// Bytes per run.
    #[must_use]
    pub fn run_bytes(&self) -> usize {
        self.run_len * self.itemsize
    }

    /// Byte offset of run `k` in the region (for `k < len()`).
    #[must_use]
    pub fn offset(&self, k: usize) -> usize {
        let mut rest = k;
        let mut off = self.start;
        for d in &self.dims[self.merged..] {
            off += (rest % d.extent) * d.stride;
            rest /= d.extent;
        }
        off
    }

    /// Calls `f(k, offset(k))` for each run `k` of `range` in order, each offset
    /// found from the last (an odometer over the dims outside a run), without
    /// [`offset`](Self::offset)'s division per dim: the walk of a strided view's
    /// many short runs.
    ///
    /// ```
    /// use mmarray_core::{Order, View};
    /// use mmarray_dtype::ByteOrder;
    /// let bytes = vec![0u8; 4 * 6 * 8];
    /// let v = View::<f64>::from_bytes(&bytes, &[4, 6], Order::C, ByteOrder::Little)?;
    /// let runs = v.slice("1:, ::2")?.runs();
    /// let mut seen = Vec::new();
    /// runs.for_each_offset(2..7, |k, off| seen.push((k, off, runs.offset(k))));
    /// assert!(seen.iter().all(|&(_, off, want)| off == want));
    /// assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    pub fn for_each_offset(&self, range: std::ops::Range<usize>, mut f: impl FnMut(usize, usize)) {
        if range.is_empty() {
            return;
        }
        let outer = &self.dims[self.merged..];
        let mut index = Vec::with_capacity(outer.len());
        let mut rest = range.start;
        for d in outer {
            index.push(rest % d.extent);
            rest /= d.extent;
        }
        let mut off = self.offset(range.start);
        for k in range {
            f(k, off);
            for (i, d) in outer.iter().enumerate() {
                index[i] += 1;
                off += d.stride;
                if index[i] < d.extent {
                    break;
                }
                index[i] = 0;
                off -= d.extent * d.stride;
            }
        }
    }

    /// Whether memory order is the logical C order, so that element `j` of run `k`
    /// has C index `k * run_len() + j`.
    #[must_use]
    pub fn is_c_linear(&self) -> bool {
        self.c_linear
    }

    /// Whether memory order is the logical `order` (C: last axis fastest; F: first
    /// axis fastest) with no reversed axis, so that element `j` of run `k` is
    /// element `k * run_len() + j` of the view's elements listed in that order.
    ///
    /// ```
    /// use mmarray_core::{Order, lowlevel::Runs};
    /// let runs = Runs::of_contiguous(&[3, 4], 8, Order::F);
    /// assert!(runs.is_linear(Order::F) && !runs.is_linear(Order::C));
    /// ```
    #[must_use]
    pub fn is_linear(&self, order: Order) -> bool {
        match order {
            Order::C => self.c_linear,
            Order::F => self.f_linear,
        }
    }

    /// The logical index (one entry per axis of the view) of element `j` of run `k`.
    pub fn multi_index(&self, k: usize, j: usize, out: &mut [usize]) {
        out.fill(0);
        let mut place =
            |d: &Dim, p: usize| out[d.axis] = if d.flipped { d.extent - 1 - p } else { p };
        let mut rest = j;
        for d in &self.dims[..self.merged] {
            place(d, rest % d.extent);
            rest /= d.extent;
        }
        let mut rest = k;
        for d in &self.dims[self.merged..] {
            place(d, rest % d.extent);
            rest /= d.extent;
        }
    }

    /// The flat logical C-order index (numpy's `ravel()` position) of element `j` of run `k`.
    #[must_use]
    pub fn c_index(&self, k: usize, j: usize) -> usize {
        if self.c_linear {
            return k * self.run_len + j;
        }
        let mut index = 0;
        let mut add = |d: &Dim, p: usize| {
            let i = if d.flipped { d.extent - 1 - p } else { p };
            index += i * self.c_strides[d.axis];
        };
        let mut rest = j;
        for d in &self.dims[..self.merged] {
            add(d, rest % d.extent);
            rest /= d.extent;
        }
        let mut rest = k;
        for d in &self.dims[self.merged..] {
            add(d, rest % d.extent);
            rest /= d.extent;
        }
        index
    }
}

/// One contiguous piece of a [`Segments`] part: `len` elements of run `run` from
/// element `start` of that run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// The run index (see [`Runs`]).
    pub run: usize,
    /// First element of the piece within the run.
    pub start: usize,
    /// Number of elements.
    pub len: usize,
}

/// A view's [`Runs`] cut into segments of about the same number of elements, the
/// unit of parallel work: long runs are split into pieces, short runs grouped.
///
/// The cut depends only on the layout and the segment size, never on the number of
/// threads, so that results combined in segment order are reproducible.
///
/// ```
/// use mmarray_core::{Order, lowlevel::{Runs, Segments}};
/// let s = Segments::new(Runs::of_contiguous(&[10], 8, Order::C), 4);
/// assert_eq!(s.len(), 3);
/// let last: Vec<_> = s.pieces(2).collect();
/// assert_eq!((last[0].start, last[0].len), (8, 2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segments {
    runs: Runs,
    /// Elements per piece when runs are split; runs per segment when grouped.
    step: usize,
    split: bool,
    count: usize,
}

impl Segments {
    /// Cuts `runs` into segments of at most about `max_elems` elements (at least 1).
    #[must_use]
    pub fn new(runs: Runs, max_elems: usize) -> Segments {
        let max = max_elems.max(1);
        let (n, len) = (runs.len(), runs.run_len());
        if n == 0 {
            return Segments {
                runs,
                step: 1,
                split: false,
                count: 0,
            };
        }
        if len >= max {
            let per_run = len.div_ceil(max);
            let step = len.div_ceil(per_run);
            Segments {
                count: n * len.div_ceil(step),
                step,
                split: true,
                runs,
            }
        } else {
            let group = max / len;
            Segments {
                count: n.div_ceil(group),
                step: group,
                split: false,
                runs,
            }
        }
    }

    /// Number of segments.
    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no segments.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The runs being cut.
    #[must_use]
    pub fn runs(&self) -> &Runs {
        &self.runs
    }

    /// The runs segment `i` (`i < len()`) is made of when it holds whole runs
    /// (its pieces are then those runs, whole); `None` for a part of a long run.
    #[must_use]
    pub fn whole_runs(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let first = i * self.step;
        (!self.split).then(|| first..(first + self.step).min(self.runs.len()))
    }

    /// The pieces of segment `i` (`i < len()`), in memory order.
    pub fn pieces(&self, i: usize) -> impl Iterator<Item = Piece> + '_ {
        let len = self.runs.run_len();
        let (runs, start, plen) = if self.split {
            let per_run = len.div_ceil(self.step);
            let (k, p) = (i / per_run, i % per_run);
            let start = p * self.step;
            (k..k + 1, start, self.step.min(len - start))
        } else {
            let first = i * self.step;
            (first..(first + self.step).min(self.runs.len()), 0, len)
        };
        runs.map(move |run| Piece {
            run,
            start,
            len: plen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Spec {
        s.parse().unwrap()
    }

    #[test]
    fn contiguous_strides() {
        assert_eq!(
            Geometry::contiguous(&[2, 3, 4], 8, Order::C).strides,
            [96, 32, 8]
        );
        assert_eq!(
            Geometry::contiguous(&[2, 3, 4], 8, Order::F).strides,
            [8, 16, 48]
        );
        assert_eq!(Geometry::contiguous(&[], 8, Order::C).len(), 1);
    }

    #[test]
    fn slicing_moves_offset_and_strides() {
        let g = Geometry::contiguous(&[4, 5], 1, Order::C);
        let s = g.slice(&spec("1:3, ::-2")).unwrap();
        assert_eq!(
            (s.offset, s.shape.clone(), s.strides.clone()),
            (5 + 4, vec![2, 3], vec![5, -2])
        );
        let s = g.slice(&spec("-1")).unwrap();
        assert_eq!((s.offset, s.shape.clone()), (15, vec![5]));
        let s = g.slice(&spec("..., 2")).unwrap();
        assert_eq!(
            (s.offset, s.shape.clone(), s.strides.clone()),
            (2, vec![4], vec![5])
        );
        assert!(g.slice(&spec("4")).is_err());
        assert!(g.slice(&spec("0,0,0")).is_err());
        let e = g.slice(&spec("10:")).unwrap();
        assert_eq!((e.offset, e.len()), (0, 0));
    }

    #[test]
    fn runs_merge_and_flip() {
        let g = Geometry::contiguous(&[4, 5], 8, Order::C);
        let r = g.runs(8);
        assert_eq!((r.len(), r.run_len(), r.is_c_linear()), (1, 20, true));
        let s = g.slice(&spec("::-1, 1:4")).unwrap();
        let r = s.runs(8);
        assert_eq!((r.len(), r.run_len()), (4, 3));
        // Memory order walks rows from the last (flipped) to the first.
        assert_eq!(r.offset(0), 8);
        assert_eq!(r.c_index(0, 0), 9);
        assert_eq!(r.c_index(3, 2), 2);
        let r = Geometry::contiguous(&[0, 3], 8, Order::C).runs(8);
        assert!(r.is_empty());
    }

    #[test]
    fn segments_cut_runs_evenly() {
        for (len, max) in [(10usize, 4usize), (10, 3), (7, 7), (7, 100), (1000, 999)] {
            let s = Segments::new(Runs::of_contiguous(&[len], 8, Order::C), max);
            let mut next = 0;
            for i in 0..s.len() {
                for p in s.pieces(i) {
                    assert_eq!(p.start, next, "{len} {max}");
                    assert!(p.len > 0 && p.len <= max.max(1));
                    next += p.len;
                }
            }
            assert_eq!(next, len);
        }
        let s = Segments::new(Runs::of_contiguous(&[6, 4], 8, Order::C).clone(), 5);
        assert_eq!((s.len(), s.pieces(0).count()), (5, 1));
    }
}
