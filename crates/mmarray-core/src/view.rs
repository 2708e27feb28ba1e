//! [`View`] and [`ViewMut`]: typed, strided windows onto an array's bytes, in any byte order.

use std::fmt;
use std::fs::File;
use std::marker::PhantomData;
use std::mem::size_of;

use mmarray_dtype::{ByteOrder, DType, Element, byteswap, decode, encode};

use crate::geometry::{Geometry, Order, Piece, Runs, Segments};
use crate::spec::Spec;
use crate::{Error, Result, ShapeError};

/// Reads element `T` from `bytes` (exactly one element) stored in `order`.
#[inline]
fn read_one<T: Element>(bytes: &[u8], order: ByteOrder) -> T {
    let mut v = T::zeroed();
    bytemuck::bytes_of_mut(&mut v).copy_from_slice(bytes);
    if !order.is_native() {
        byteswap(std::slice::from_mut(&mut v));
    }
    v
}

/// Writes element `v` into `bytes` (exactly one element) in `order`.
#[inline]
fn write_one<T: Element>(bytes: &mut [u8], order: ByteOrder, mut v: T) {
    if !order.is_native() {
        byteswap(std::slice::from_mut(&mut v));
    }
    bytes.copy_from_slice(bytemuck::bytes_of(&v));
}

pub(crate) fn check_elem<T: Element>(dtype: DType) -> Result<()> {
    if T::KIND == dtype.kind() && size_of::<T>() == dtype.itemsize() {
        Ok(())
    } else {
        Err(Error::DType(mmarray_dtype::DTypeError::ElementSize {
            dtype,
            size: size_of::<T>(),
            itemsize: dtype.itemsize(),
        }))
    }
}

/// Logical (C-order) iteration over the byte offsets of a geometry.
#[derive(Debug, Clone)]
struct Offsets<'g> {
    g: &'g Geometry,
    index: Vec<usize>,
    next: Option<isize>,
    remaining: usize,
}

impl<'g> Offsets<'g> {
    fn new(g: &'g Geometry) -> Offsets<'g> {
        let remaining = g.len();
        Offsets {
            g,
            index: vec![0; g.shape.len()],
            next: (remaining > 0).then_some(g.offset as isize),
            remaining,
        }
    }
}

impl Iterator for Offsets<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        let cur = self.next?;
        self.remaining -= 1;
        let mut off = cur;
        let mut done = true;
        for axis in (0..self.index.len()).rev() {
            self.index[axis] += 1;
            off += self.g.strides[axis];
            if self.index[axis] < self.g.shape[axis] {
                done = false;
                break;
            }
            off -= self.g.strides[axis] * self.g.shape[axis] as isize;
            self.index[axis] = 0;
        }
        self.next = if done { None } else { Some(off) };
        Some(cur as usize)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Offsets<'_> {}

/// A read-only, strided view of elements `T` over bytes in either byte order.
///
/// Views come from arrays ([`Array::view`](crate::Array::view)) and from other views
/// ([`View::slice`]); they borrow the array. Element access decodes through
/// `mmarray-dtype` when the bytes are big-endian or unaligned, and
/// [`as_slice`](View::as_slice) gives a zero-copy `&[T]` when they are native,
/// aligned and contiguous.
pub struct View<'a, T> {
    bytes: &'a [u8],
    /// The file whose pages `bytes` shows, and the file offset of `bytes[0]`
    /// (`None` for private mappings and memory).
    file: Option<(&'a File, u64)>,
    geom: Geometry,
    order: ByteOrder,
    _t: PhantomData<T>,
}

impl<T> Clone for View<'_, T> {
    fn clone(&self) -> Self {
        View {
            bytes: self.bytes,
            file: self.file,
            geom: self.geom.clone(),
            order: self.order,
            _t: PhantomData,
        }
    }
}

impl<T: Element> fmt::Debug for View<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("View")
            .field("dtype", &self.dtype())
            .field("shape", &self.geom.shape)
            .field("strides", &self.geom.strides)
            .finish_non_exhaustive()
    }
}

impl<T: mmarray_dtype::Native> fmt::Display for View<'_, T> {
    /// numpy's `repr()` of the view as an array ([`print::repr`](crate::print::repr)
    /// with class `array`): `array([[1., 2.],\n       [3., 4.]])`. Large views are
    /// summarised with `...` as numpy does, so printing a huge file is cheap.
    ///
    /// ```
    /// use mmarray_core::{Order, View};
    /// use mmarray_dtype::ByteOrder;
    /// let bytes: Vec<u8> = [1i16, -2, 3, 4].iter().flat_map(|v| v.to_be_bytes()).collect();
    /// let v = View::<i16>::from_bytes(&bytes, &[2, 2], Order::C, ByteOrder::Big)?;
    /// assert_eq!(v.to_string(), "array([[ 1, -2],\n       [ 3,  4]], dtype='>i2')");
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::print::repr(self, "array"))
    }
}

impl<T: mmarray_dtype::Native> fmt::Display for ViewMut<'_, T> {
    /// As [`View`]'s: numpy's `repr()` with class `array`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::print::repr(&self.view(), "array"))
    }
}

macro_rules! read_methods {
    () => {
        /// The dtype of the elements (kind of `T`, byte order of the bytes).
        #[must_use]
        pub fn dtype(&self) -> DType {
            DType::new(T::KIND, self.order)
        }

        /// The shape.
        #[must_use]
        pub fn shape(&self) -> &[usize] {
            &self.geom.shape
        }

        /// Strides in bytes (negative for reversed axes).
        #[must_use]
        pub fn strides(&self) -> &[isize] {
            &self.geom.strides
        }

        /// Number of dimensions.
        #[must_use]
        pub fn ndim(&self) -> usize {
            self.geom.shape.len()
        }

        /// Number of elements (1 for a 0-d view).
        #[must_use]
        pub fn len(&self) -> usize {
            self.geom.len()
        }

        /// Whether the view has no elements.
        #[must_use]
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// Whether the elements are contiguous in logical C order.
        #[must_use]
        pub fn is_c_contiguous(&self) -> bool {
            self.geom.is_c_contiguous(size_of::<T>())
        }

        /// Whether the elements are contiguous in logical F order.
        #[must_use]
        pub fn is_f_contiguous(&self) -> bool {
            self.geom.is_f_contiguous(size_of::<T>())
        }

        /// The element at `index` (one entry per axis), decoded to native order.
        pub fn get(&self, index: &[usize]) -> Result<T> {
            let off = self.geom.offset_of(index)?;
            Ok(read_one(&self.raw()[off..off + size_of::<T>()], self.order))
        }

        /// Iterates over the elements in logical (C) order, decoded to native order.
        pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + '_ {
            let bytes = self.raw();
            let order = self.order;
            Offsets::new(&self.geom).map(move |o| read_one(&bytes[o..o + size_of::<T>()], order))
        }

        /// The elements in logical (C) order, decoded to native order.
        #[must_use]
        pub fn to_vec(&self) -> Vec<T> {
            if self.is_c_contiguous() {
                let n = self.len();
                let mut out = vec![T::zeroed(); n];
                let start = self.geom.offset;
                // The view's bytes hold exactly `n` elements here; decode cannot fail.
                if decode(
                    &self.raw()[start..start + n * size_of::<T>()],
                    self.order,
                    &mut out,
                )
                .is_ok()
                {
                    return out;
                }
            }
            if let Some(out) = self.rows_to_vec() {
                return out;
            }
            self.iter().collect()
        }

        /// [`to_vec`](Self::to_vec) row by row, for views of two or more axes whose
        /// last axis is contiguous (a block of a C-ordered array, say): one bulk
        /// decode per row instead of one element at a time. `None` for other views.
        fn rows_to_vec(&self) -> Option<Vec<T>> {
            let (nd, item) = (self.ndim(), size_of::<T>());
            if nd < 2 || self.is_empty() || self.geom.strides[nd - 1] != item as isize {
                return None;
            }
            let shape = &self.geom.shape;
            let strides = &self.geom.strides;
            let row = shape[nd - 1];
            let raw = self.raw();
            let mut out = vec![T::zeroed(); self.len()];
            let mut index = vec![0usize; nd - 1];
            for dst in out.chunks_exact_mut(row) {
                let off = index
                    .iter()
                    .zip(strides.iter())
                    .fold(self.geom.offset as isize, |o, (&i, &s)| o + i as isize * s);
                let off = usize::try_from(off).ok()?;
                decode(raw.get(off..off + row * item)?, self.order, dst).ok()?;
                for ax in (0..nd - 1).rev() {
                    index[ax] += 1;
                    if index[ax] < shape[ax] {
                        break;
                    }
                    index[ax] = 0;
                }
            }
            Some(out)
        }

        /// The elements as a slice, without copying, when they are contiguous in C
        /// order, in native byte order and aligned for `T`; `None` otherwise (use
        /// [`to_vec`](Self::to_vec) or [`runs`](Self::runs) then).
        #[must_use]
        pub fn as_slice(&self) -> Option<&[T]> {
            if !self.order.is_native() || !self.is_c_contiguous() {
                return None;
            }
            let start = self.geom.offset;
            let end = start + self.len() * size_of::<T>();
            bytemuck::try_cast_slice(&self.raw()[start..end]).ok()
        }

        /// The runs of contiguous elements, in memory order; see [`Runs`].
        #[must_use]
        pub fn runs(&self) -> Runs {
            self.geom.runs(size_of::<T>())
        }

        /// The bytes of run `k` of [`runs`](Self::runs) (`runs` computed for this view).
        #[must_use]
        pub fn run_bytes(&self, runs: &Runs, k: usize) -> &[u8] {
            let off = runs.offset(k);
            &self.raw()[off..off + runs.run_bytes()]
        }

        /// Calls `f(k, bytes)` for each run `k` of `range` of [`runs`](Self::runs)
        /// (`runs` computed for this view) in order, with the bytes
        /// [`run_bytes`](Self::run_bytes) gives, found without a division per run
        /// ([`Runs::for_each_offset`]).
        pub fn for_each_run(
            &self,
            runs: &Runs,
            range: std::ops::Range<usize>,
            mut f: impl FnMut(usize, &[u8]),
        ) {
            let (raw, len) = (self.raw(), runs.run_bytes());
            runs.for_each_offset(range, |k, off| f(k, &raw[off..off + len]));
        }

        /// The view's runs cut into [`Segments`] of about `max_elems` elements, the
        /// unit of parallel work.
        #[must_use]
        pub fn segments(&self, max_elems: usize) -> Segments {
            Segments::new(self.runs(), max_elems)
        }

        /// The bytes of `piece` of this view's [`Segments`] (made from this view's runs).
        #[must_use]
        pub fn piece_bytes(&self, runs: &Runs, piece: Piece) -> &[u8] {
            let off = runs.offset(piece.run) + piece.start * size_of::<T>();
            &self.raw()[off..off + piece.len * size_of::<T>()]
        }

        /// Asks the kernel to start reading `len` bytes of the view's region from
        /// byte `offset` (e.g. the next pieces a streaming pass will touch), so that
        /// a pass over a file that is not in the page cache does not wait for each
        /// page. Only a hint: ranges outside the region are clipped, errors ignored.
        pub fn prefetch(&self, offset: usize, len: usize) {
            crate::sys::will_need(self.raw(), offset, len);
        }

        /// Whether every page holding `len` bytes of the view's region from byte
        /// `offset` is in memory (for a file mapping: in the page cache), by
        /// `mincore`; ranges outside the region are clipped (an empty range is
        /// resident). `false` where this cannot be known (not Linux). Allocates
        /// nothing, and stops at the first page out of memory.
        ///
        /// ```
        /// use mmarray_core::{Order, View};
        /// use mmarray_dtype::ByteOrder;
        /// let bytes = vec![0u8; 1 << 16];
        /// let v = View::<u8>::from_bytes(&bytes, &[1 << 16], Order::C, ByteOrder::Little)?;
        /// assert_eq!(v.is_resident(0, 1 << 16), cfg!(target_os = "linux"));
        /// # Ok::<(), mmarray_core::Error>(())
        /// ```
        #[must_use]
        pub fn is_resident(&self, offset: usize, len: usize) -> bool {
            crate::sys::resident(self.raw(), offset, len)
        }

        /// Whether the data can be used as `&[T]` without decoding (native byte order
        /// and aligned for `T`), run by run.
        #[must_use]
        pub fn is_native_aligned(&self) -> bool {
            self.order.is_native()
                && (self.raw().as_ptr() as usize + self.geom.offset) % align_of::<T>() == 0
                && self
                    .geom
                    .strides
                    .iter()
                    .all(|s| s.unsigned_abs() % align_of::<T>() == 0)
        }
    };
}

impl<'a, T: Element> View<'a, T> {
    /// A view of `bytes` holding a contiguous array of `shape` in `order`, with
    /// elements stored in byte order `byte_order`.
    ///
    /// Use this to view any byte buffer (a file read into memory, a network
    /// message) as an array.
    ///
    /// ```
    /// use mmarray_core::{Order, View};
    /// use mmarray_dtype::ByteOrder;
    /// let bytes: Vec<u8> = [1u16, 2, 3, 4, 5, 6].iter().flat_map(|v| v.to_be_bytes()).collect();
    /// let v = View::<u16>::from_bytes(&bytes, &[2, 3], Order::C, ByteOrder::Big)?;
    /// assert_eq!(v.get(&[1, 0])?, 4);
    /// assert_eq!(v.slice("::-1, 2")?.to_vec(), [6, 3]);
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    pub fn from_bytes(
        bytes: &'a [u8],
        shape: &[usize],
        order: Order,
        byte_order: ByteOrder,
    ) -> Result<View<'a, T>> {
        let geom = geometry_for::<T>(bytes.len(), shape, order)?;
        Ok(View {
            bytes,
            file: None,
            geom,
            order: byte_order,
            _t: PhantomData,
        })
    }

    /// A view of `bytes` with any layout: the first element at byte `offset`,
    /// `strides[k]` bytes between entries of axis `k` (negative to walk backwards),
    /// elements stored in `byte_order`. This is how a numpy array's buffer (its
    /// `data` pointer, shape and strides) becomes a view.
    ///
    /// The layout is checked: every element must lie inside `bytes`, strides must be
    /// multiples of the item size, and elements must not overlap (a broadcast
    /// stride of 0 on an axis longer than 1 is refused).
    ///
    /// ```
    /// use mmarray_core::View;
    /// use mmarray_dtype::ByteOrder;
    /// let bytes: Vec<u8> = (0u8..12).collect();
    /// // The transpose of a 3x4 C-order array: shape (4, 3), strides (1, 4).
    /// let t = View::<u8>::from_strided(&bytes, 0, &[4, 3], &[1, 4], ByteOrder::Little)?;
    /// assert_eq!(t.slice("1")?.to_vec(), [1, 5, 9]);
    /// assert!(View::<u8>::from_strided(&bytes, 0, &[4, 3], &[0, 4], ByteOrder::Little).is_err());
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    pub fn from_strided(
        bytes: &'a [u8],
        offset: usize,
        shape: &[usize],
        strides: &[isize],
        byte_order: ByteOrder,
    ) -> Result<View<'a, T>> {
        check_elem::<T>(DType::new(T::KIND, byte_order))?;
        let geom = Geometry::strided(bytes.len(), size_of::<T>(), offset, shape, strides)?;
        Ok(View {
            bytes,
            file: None,
            geom,
            order: byte_order,
            _t: PhantomData,
        })
    }

    /// The byte offset of the first element in the view's [`region`](Self::region)
    /// (with [`strides`](Self::strides), what a strided view needs to be rebuilt
    /// with [`from_strided`](Self::from_strided)).
    #[must_use]
    pub fn offset(&self) -> usize {
        self.geom.offset
    }

    pub(crate) fn from_parts(
        bytes: &'a [u8],
        file: Option<(&'a File, u64)>,
        geom: Geometry,
        order: ByteOrder,
    ) -> View<'a, T> {
        View {
            bytes,
            file,
            geom,
            order,
            _t: PhantomData,
        }
    }

    fn raw(&self) -> &'a [u8] {
        self.bytes
    }

    /// The whole region of bytes the view's geometry indexes into: the offsets of
    /// its [`runs`](Self::runs) count from its first byte. Views sliced from the
    /// same array share it, so code that walks several sub-views of one view (the
    /// rows of an axis reduction, say) can address them all from one offset table.
    ///
    /// ```
    /// use mmarray_core::{Order, View};
    /// use mmarray_dtype::ByteOrder;
    /// let bytes: Vec<u8> = (0u8..12).collect();
    /// let v = View::<u8>::from_bytes(&bytes, &[3, 4], Order::C, ByteOrder::Little)?;
    /// let row = v.slice("2, :")?;
    /// assert_eq!(row.region().len(), 12);
    /// assert_eq!(row.runs().offset(0), 8);
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    #[must_use]
    pub fn region(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether the view shows a file's pages through a shared mapping (arrays
    /// opened `r` or `r+`), so that [`read_region`](Self::read_region) reads the
    /// file instead of the mapping.
    #[must_use]
    pub fn is_file_backed(&self) -> bool {
        self.file.is_some()
    }

    /// Copies `buf.len()` bytes of the view's region (the bytes its runs and
    /// pieces index), from byte `offset`, into `buf`; `false`, with `buf`
    /// untouched, if that range is not inside the region.
    ///
    /// A [file-backed](Self::is_file_backed) view reads them with `pread`: the same
    /// bytes (a shared mapping shows the file's page cache), but without a page
    /// fault per few pages, and with the kernel's read-ahead for files that are
    /// not cached. Streaming passes use it for long contiguous pieces. Other
    /// views (and a failed read) copy from memory.
    ///
    /// ```
    /// use mmarray_core::{Order, View};
    /// use mmarray_dtype::ByteOrder;
    /// let bytes: Vec<u8> = (0u8..8).collect();
    /// let v = View::<u8>::from_bytes(&bytes, &[8], Order::C, ByteOrder::Little)?;
    /// let mut buf = [0u8; 3];
    /// assert!(v.read_region(2, &mut buf));
    /// assert_eq!(buf, [2, 3, 4]);
    /// assert!(!v.read_region(6, &mut buf));
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    pub fn read_region(&self, offset: usize, buf: &mut [u8]) -> bool {
        let Some(src) = offset
            .checked_add(buf.len())
            .and_then(|end| self.bytes.get(offset..end))
        else {
            return false;
        };
        if let Some((file, base)) = self.file
            && crate::sys::read_at(file, buf, base + offset as u64).is_ok()
        {
            return true;
        }
        buf.copy_from_slice(src);
        true
    }

    read_methods!();

    /// A sub-view by numpy basic indexing, from text (`"1:-1, ..., ::2"`), an
    /// [`s!`](crate::s) spec, a Rust range or integer, or [`Index`](crate::Index)
    /// values.
    ///
    /// ```
    /// use mmarray_core::{Index, Order, View, s};
    /// use mmarray_dtype::ByteOrder;
    /// let bytes: Vec<u8> = (0u8..12).collect();
    /// let v = View::<u8>::from_bytes(&bytes, &[3, 4], Order::C, ByteOrder::Little)?;
    /// assert_eq!(v.slice("1:, ::-2")?.to_vec(), [7, 5, 11, 9]);
    /// assert_eq!(v.slice(s![1.., ..;-2])?.to_vec(), [7, 5, 11, 9]);
    /// assert_eq!(v.slice(..2)?.shape(), [2, 4]);
    /// assert_eq!(v.slice(-1)?.to_vec(), [8, 9, 10, 11]);
    /// assert_eq!(v.slice([Index::Ellipsis, Index::Int(0)])?.to_vec(), [0, 4, 8]);
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    pub fn slice<S>(&self, spec: S) -> Result<View<'a, T>>
    where
        S: TryInto<Spec>,
        S::Error: Into<Error>,
    {
        let spec = spec.try_into().map_err(Into::into)?;
        Ok(View {
            bytes: self.bytes,
            file: self.file,
            geom: self.geom.slice(&spec)?,
            order: self.order,
            _t: PhantomData,
        })
    }

    /// The view with elements reinterpreted as dtype `U`'s kind, which must match
    /// (used by code that dispatches on a run-time dtype).
    pub fn cast_kind<U: Element>(&self) -> Result<View<'a, U>> {
        check_elem::<U>(self.dtype())?;
        Ok(View {
            bytes: self.bytes,
            file: self.file,
            geom: self.geom.clone(),
            order: self.order,
            _t: PhantomData,
        })
    }

    /// A zero-copy `ndarray` view of the same elements (any strides, negative
    /// ones included), for data in this machine's byte order and aligned for `T`;
    /// an [`Error::NotInPlace`] saying which is not the case otherwise (decode
    /// such data with [`to_vec`](Self::to_vec)). Needs the `ndarray` feature.
    ///
    /// ```
    /// use mmarray_core::{Error, Order, View, s};
    /// use mmarray_dtype::ByteOrder;
    /// let values: Vec<f64> = (0..12).map(f64::from).collect();
    /// let bytes: &[u8] = bytemuck::cast_slice(&values);
    /// let v = View::<f64>::from_bytes(bytes, &[3, 4], Order::C, ByteOrder::NATIVE)?;
    /// let nd = v.slice(s![1.., ..;2])?.to_ndarray()?;
    /// assert_eq!(nd.shape(), [2, 2]);
    /// assert_eq!(nd.sum(), 4.0 + 6.0 + 8.0 + 10.0);
    /// let rev = v.slice(s![..;-1, 0])?.to_ndarray()?;
    /// assert_eq!(rev.iter().copied().collect::<Vec<f64>>(), [8.0, 4.0, 0.0]);
    ///
    /// // The same bytes read as big-endian have no zero-copy view.
    /// let be = View::<f64>::from_bytes(bytes, &[12], Order::C, ByteOrder::Big)?;
    /// let err = be.to_ndarray().unwrap_err();
    /// assert!(matches!(err, Error::NotInPlace { native: false, .. }));
    /// assert_eq!(err.to_string(), "no zero-copy view of >f8 data: its byte order is not this machine's; decode it with to_vec instead");
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    #[cfg(feature = "ndarray")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
    pub fn to_ndarray(&self) -> Result<ndarray::ArrayViewD<'a, T>> {
        let nd = NdLayout::of::<T>(self.bytes.as_ptr(), &self.geom, self.order)?;
        // SAFETY: `NdLayout::of` checked that the data is native and aligned and
        // that its offset and strides address exactly the view's elements, all
        // inside `self.bytes`; `T: Pod`, so any bytes are a valid `T`; the shared
        // borrow of the bytes lives for 'a.
        let mut view = unsafe {
            ndarray::ArrayViewD::from_shape_ptr(
                nd.shape(),
                self.bytes.as_ptr().add(nd.offset).cast::<T>(),
            )
        };
        for &axis in &nd.inverted {
            view.invert_axis(ndarray::Axis(axis));
        }
        Ok(view)
    }
}

/// Where a view's elements are for a zero-copy `ndarray` view: the lowest-addressed
/// element, positive strides (in elements) from it, and the axes to turn round.
#[cfg(feature = "ndarray")]
struct NdLayout {
    /// Byte offset of the lowest-addressed element.
    offset: usize,
    shape: Vec<usize>,
    strides: Vec<usize>,
    /// Axes whose strides are negative (none for a view with no elements).
    inverted: Vec<usize>,
}

#[cfg(feature = "ndarray")]
impl NdLayout {
    /// The layout of the view `geom` of the bytes at `base` in `order`, or
    /// [`Error::NotInPlace`] when the data is not native or not aligned for `T`.
    fn of<T: Element>(base: *const u8, geom: &Geometry, order: ByteOrder) -> Result<NdLayout> {
        let native = order.is_native();
        let align = align_of::<T>();
        let aligned = (base as usize + geom.offset).is_multiple_of(align)
            && geom
                .strides
                .iter()
                .all(|s| s.unsigned_abs().is_multiple_of(align));
        if !(native && aligned) {
            return Err(Error::NotInPlace {
                dtype: DType::new(T::KIND, order),
                native,
                aligned,
            });
        }
        let size = size_of::<T>() as isize;
        let empty = geom.shape.contains(&0);
        let mut offset = geom.offset as isize;
        let mut inverted = Vec::new();
        for (axis, (&n, &s)) in geom.shape.iter().zip(&geom.strides).enumerate() {
            if s < 0 && !empty {
                // Inside the region (the geometry invariant): not below byte 0.
                offset += s * (n as isize - 1);
                inverted.push(axis);
            }
        }
        Ok(NdLayout {
            offset: offset as usize,
            shape: geom.shape.clone(),
            strides: geom
                .strides
                .iter()
                .map(|&s| (s / size).unsigned_abs())
                .collect(),
            inverted,
        })
    }

    fn shape(&self) -> ndarray::StrideShape<ndarray::IxDyn> {
        use ndarray::ShapeBuilder;
        ndarray::IxDyn(&self.shape).strides(ndarray::IxDyn(&self.strides))
    }
}

fn geometry_for<T: Element>(len: usize, shape: &[usize], order: Order) -> Result<Geometry> {
    let n = crate::geometry::checked_nbytes(shape, size_of::<T>()).ok_or_else(|| {
        ShapeError::TooLarge {
            shape: shape.to_vec(),
        }
    })?;
    if n != len {
        return Err(ShapeError::BufferLength {
            shape: shape.to_vec(),
            kind: T::KIND,
            expected: n,
            found: len,
        }
        .into());
    }
    if size_of::<T>() != T::KIND.itemsize() {
        return Err(check_elem::<T>(DType::native(T::KIND)).unwrap_err());
    }
    Ok(Geometry::contiguous(shape, size_of::<T>(), order))
}

/// A writable, strided view of elements `T` over bytes in either byte order.
///
/// Only arrays opened writable hand these out ([`Array::view_mut`](crate::Array::view_mut)).
pub struct ViewMut<'a, T> {
    bytes: &'a mut [u8],
    geom: Geometry,
    order: ByteOrder,
    _t: PhantomData<T>,
}

impl<T: Element> fmt::Debug for ViewMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViewMut")
            .field("dtype", &self.dtype())
            .field("shape", &self.geom.shape)
            .field("strides", &self.geom.strides)
            .finish_non_exhaustive()
    }
}

impl<'a, T: Element> ViewMut<'a, T> {
    /// A writable view of `bytes` holding a contiguous array of `shape` in `order`.
    pub fn from_bytes(
        bytes: &'a mut [u8],
        shape: &[usize],
        order: Order,
        byte_order: ByteOrder,
    ) -> Result<ViewMut<'a, T>> {
        let geom = geometry_for::<T>(bytes.len(), shape, order)?;
        Ok(ViewMut {
            bytes,
            geom,
            order: byte_order,
            _t: PhantomData,
        })
    }

    /// A writable view of `bytes` with any layout, checked as
    /// [`View::from_strided`] checks it (in particular, no two elements overlap, so
    /// parallel writes of distinct elements never touch the same bytes).
    pub fn from_strided(
        bytes: &'a mut [u8],
        offset: usize,
        shape: &[usize],
        strides: &[isize],
        byte_order: ByteOrder,
    ) -> Result<ViewMut<'a, T>> {
        check_elem::<T>(DType::new(T::KIND, byte_order))?;
        let geom = Geometry::strided(bytes.len(), size_of::<T>(), offset, shape, strides)?;
        Ok(ViewMut {
            bytes,
            geom,
            order: byte_order,
            _t: PhantomData,
        })
    }

    pub(crate) fn from_parts(
        bytes: &'a mut [u8],
        geom: Geometry,
        order: ByteOrder,
    ) -> ViewMut<'a, T> {
        ViewMut {
            bytes,
            geom,
            order,
            _t: PhantomData,
        }
    }

    fn raw(&self) -> &[u8] {
        self.bytes
    }

    read_methods!();

    /// A read-only view of the same elements.
    #[must_use]
    pub fn view(&self) -> View<'_, T> {
        View {
            bytes: self.bytes,
            file: None,
            geom: self.geom.clone(),
            order: self.order,
            _t: PhantomData,
        }
    }

    /// A writable view of the same elements that borrows this one (so this one
    /// can be used again once it is gone), as ndarray's `view_mut` of a view:
    /// `v.view_mut().slice_mut(..)` slices without giving `v` up.
    ///
    /// ```
    /// use mmarray_core::{Order, ViewMut, s};
    /// use mmarray_dtype::ByteOrder;
    /// let mut bytes = vec![0u8; 6];
    /// let mut v = ViewMut::<u8>::from_bytes(&mut bytes, &[2, 3], Order::C, ByteOrder::Little)?;
    /// v.view_mut().slice_mut(s![0, ..])?.fill(1);
    /// v.view_mut().slice_mut(s![1, ..;2])?.fill(2);
    /// assert_eq!(v.view().to_vec(), [1, 1, 1, 2, 0, 2]);
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    pub fn view_mut(&mut self) -> ViewMut<'_, T> {
        ViewMut {
            bytes: &mut *self.bytes,
            geom: self.geom.clone(),
            order: self.order,
            _t: PhantomData,
        }
    }

    /// A writable sub-view by numpy basic indexing, from text (`"1:-1, ..., ::2"`),
    /// an [`s!`](crate::s) spec, a Rust range or integer, or [`Index`](crate::Index)
    /// values.
    ///
    /// It takes the view and keeps its lifetime (the array's), as
    /// [`View::slice`] does, so the result of `a.view_mut().slice_mut(..)` can be
    /// kept in a variable. To slice a view and use it again afterwards, slice a
    /// reborrow: [`v.view_mut().slice_mut(..)`](Self::view_mut).
    ///
    /// ```
    /// use mmarray_core::{Array, Order, ReadWrite, s};
    /// # let dir = tempfile::tempdir()?;
    /// // SAFETY: the file is private to this example.
    /// let mut a = unsafe { Array::<f64, ReadWrite>::create(dir.path().join("m.npy"), &[10, 4], Order::C)? };
    /// let mut top = a.view_mut().slice_mut(":5")?;
    /// top.fill(1.0);
    /// let mut corner = top.slice_mut(s![-1, 2..])?;
    /// corner.fill(2.0);
    /// assert_eq!(a.view().slice(s![4])?.to_vec(), [1.0, 1.0, 2.0, 2.0]);
    /// assert_eq!(a.view().slice(5)?.to_vec(), [0.0; 4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn slice_mut<S>(self, spec: S) -> Result<ViewMut<'a, T>>
    where
        S: TryInto<Spec>,
        S::Error: Into<Error>,
    {
        self.into_slice(spec)
    }

    /// Turns this view into a sub-view (consuming it, keeping the lifetime); the
    /// same as [`slice_mut`](Self::slice_mut).
    pub fn into_slice<S>(self, spec: S) -> Result<ViewMut<'a, T>>
    where
        S: TryInto<Spec>,
        S::Error: Into<Error>,
    {
        let spec = spec.try_into().map_err(Into::into)?;
        let geom = self.geom.slice(&spec)?;
        Ok(ViewMut {
            bytes: self.bytes,
            geom,
            order: self.order,
            _t: PhantomData,
        })
    }

    /// The view with elements reinterpreted as `U`, whose kind must match.
    pub fn into_kind<U: Element>(self) -> Result<ViewMut<'a, U>> {
        check_elem::<U>(self.dtype())?;
        Ok(ViewMut {
            bytes: self.bytes,
            geom: self.geom,
            order: self.order,
            _t: PhantomData,
        })
    }

    /// The elements as a mutable slice when contiguous (C order), native and aligned.
    #[must_use]
    pub fn as_slice_mut(&mut self) -> Option<&mut [T]> {
        if !self.order.is_native() || !self.is_c_contiguous() {
            return None;
        }
        let start = self.geom.offset;
        let end = start + self.len() * size_of::<T>();
        bytemuck::try_cast_slice_mut(&mut self.bytes[start..end]).ok()
    }

    /// Writes `value` at `index`.
    pub fn set(&mut self, index: &[usize], value: T) -> Result<()> {
        let off = self.geom.offset_of(index)?;
        write_one(
            &mut self.bytes[off..off + size_of::<T>()],
            self.order,
            value,
        );
        Ok(())
    }

    /// Sets every element to `value`.
    pub fn fill(&mut self, value: T) {
        let mut pattern = value;
        if !self.order.is_native() {
            byteswap(std::slice::from_mut(&mut pattern));
        }
        let runs = self.runs();
        for k in 0..runs.len() {
            let off = runs.offset(k);
            let run = &mut self.bytes[off..off + runs.run_bytes()];
            fill_bytes(run, pattern);
        }
    }

    /// A zero-copy, writable `ndarray` view of the same elements, borrowing this
    /// view, under the conditions of [`View::to_ndarray`] (data in this machine's
    /// byte order and aligned for `T`; any strides), or [`Error::NotInPlace`].
    /// Needs the `ndarray` feature.
    ///
    /// ```
    /// use mmarray_core::{Order, ViewMut, s};
    /// use mmarray_dtype::ByteOrder;
    /// let mut values = vec![0.0f32; 6];
    /// let mut v = ViewMut::<f32>::from_bytes(bytemuck::cast_slice_mut(&mut values), &[2, 3], Order::C, ByteOrder::NATIVE)?;
    /// v.view_mut().slice_mut(s![.., ..;-2])?.to_ndarray_mut()?.fill(1.5);   // v[:, ::-2] = 1.5
    /// v.to_ndarray_mut()?[[1, 1]] = 7.0;
    /// assert_eq!(values, [1.5, 0.0, 1.5, 1.5, 7.0, 1.5]);
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    #[cfg(feature = "ndarray")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
    pub fn to_ndarray_mut(&mut self) -> Result<ndarray::ArrayViewMutD<'_, T>> {
        let nd = NdLayout::of::<T>(self.bytes.as_ptr(), &self.geom, self.order)?;
        // SAFETY: as in `View::to_ndarray`; moreover the geometry addresses no
        // element twice (its invariant), and the view is borrowed mutably for as
        // long as the ndarray view lives, so nothing else reads or writes them.
        let mut view = unsafe {
            ndarray::ArrayViewMutD::from_shape_ptr(
                nd.shape(),
                self.bytes.as_mut_ptr().add(nd.offset).cast::<T>(),
            )
        };
        for &axis in &nd.inverted {
            view.invert_axis(ndarray::Axis(axis));
        }
        Ok(view)
    }

    /// Assigns `values` (in logical C order; exactly [`len`](Self::len) of them).
    pub fn assign_slice(&mut self, values: &[T]) -> Result<()> {
        if values.len() != self.len() {
            return Err(ShapeError::ValueCount {
                shape: self.geom.shape.clone(),
                expected: self.len(),
                found: values.len(),
            }
            .into());
        }
        if self.is_c_contiguous() {
            let start = self.geom.offset;
            let end = start + size_of_val(values);
            return Ok(encode(values, self.order, &mut self.bytes[start..end])?);
        }
        let ViewMut {
            bytes, geom, order, ..
        } = self;
        for (o, v) in Offsets::new(geom).zip(values) {
            write_one(&mut bytes[o..o + size_of::<T>()], *order, *v);
        }
        Ok(())
    }

    /// Copies `src` (same shape, any layout and byte order) into this view, element
    /// by element in logical order.
    pub fn assign(&mut self, src: &View<'_, T>) -> Result<()> {
        if src.shape() != self.shape() {
            return Err(ShapeError::Assign {
                expected: self.shape().to_vec(),
                found: src.shape().to_vec(),
            }
            .into());
        }
        let ViewMut {
            bytes, geom, order, ..
        } = self;
        for (o, v) in Offsets::new(geom).zip(src.iter()) {
            write_one(&mut bytes[o..o + size_of::<T>()], *order, v);
        }
        Ok(())
    }

    /// Cuts the view into [`Segments`] of about `max_elems` elements that can be
    /// written at the same time, e.g. from several threads: see [`SegmentsMut`].
    #[must_use]
    pub fn into_segments(self, max_elems: usize) -> SegmentsMut<'a> {
        let segs = Segments::new(self.runs(), max_elems);
        let count = segs.len();
        SegmentsMut {
            base: self.bytes.as_mut_ptr(),
            len: self.bytes.len(),
            itemsize: size_of::<T>(),
            segs: std::sync::Arc::new(segs),
            range: 0..count,
            _life: PhantomData,
        }
    }
}

/// Fills `bytes` with copies of `value`'s bytes.
pub(crate) fn fill_bytes<T: Element>(bytes: &mut [u8], value: T) {
    if let Ok(slice) = bytemuck::try_cast_slice_mut::<u8, T>(bytes) {
        slice.fill(value);
    } else {
        let pattern = bytemuck::bytes_of(&value);
        for chunk in bytes.chunks_exact_mut(pattern.len()) {
            chunk.copy_from_slice(pattern);
        }
    }
}

/// A range of the [`Segments`] of a [`ViewMut`], for writing. Ranges made by
/// [`split_at`](SegmentsMut::split_at) are disjoint in memory, so they can be
/// written from different threads at once (e.g. recursively with `rayon::join`).
pub struct SegmentsMut<'a> {
    base: *mut u8,
    len: usize,
    itemsize: usize,
    segs: std::sync::Arc<Segments>,
    range: std::ops::Range<usize>,
    _life: PhantomData<&'a mut [u8]>,
}

// SAFETY: a `SegmentsMut` only gives access to the bytes of the segments in its own
// range; ranges are only ever made by splitting, so they are disjoint, and the
// buffer is borrowed mutably for 'a. Moving one to another thread is like moving a
// `&'a mut [u8]` to it.
unsafe impl Send for SegmentsMut<'_> {}

impl SegmentsMut<'_> {
    /// The segment layout (shared by all ranges split from one view).
    #[must_use]
    pub fn segments(&self) -> &Segments {
        &self.segs
    }

    /// The segment indices this range covers.
    #[must_use]
    pub fn range(&self) -> std::ops::Range<usize> {
        self.range.clone()
    }

    /// Number of segments in this range.
    #[must_use]
    pub fn len(&self) -> usize {
        self.range.len()
    }

    /// Whether this range is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }

    /// Splits into the segments before `mid` (relative to this range) and the rest.
    #[must_use]
    pub fn split_at(self, mid: usize) -> (Self, Self) {
        let mid = (self.range.start + mid).min(self.range.end);
        let left = SegmentsMut {
            base: self.base,
            len: self.len,
            itemsize: self.itemsize,
            segs: self.segs.clone(),
            range: self.range.start..mid,
            _life: PhantomData,
        };
        let right = SegmentsMut {
            range: mid..self.range.end,
            ..self
        };
        (left, right)
    }

    /// Calls `f` with the run layout, each piece of each segment of this range and
    /// the piece's bytes, in order.
    ///
    /// # Panics
    ///
    /// Only if the crate's geometry invariant (every addressed element lies inside
    /// the view's bytes) were broken, which would be a bug in mmarray.
    pub fn for_each_piece(self, mut f: impl FnMut(&Runs, Piece, &mut [u8])) {
        let runs = self.segs.runs();
        for i in self.range.clone() {
            for piece in self.segs.pieces(i) {
                let off = runs.offset(piece.run) + piece.start * self.itemsize;
                let n = piece.len * self.itemsize;
                assert!(
                    off + n <= self.len,
                    "piece outside the region (geometry invariant broken)"
                );
                // SAFETY: `off..off + n` lies inside the buffer of `len` bytes that
                // `base` points to and that is borrowed mutably for 'a (checked
                // above). Pieces of distinct segments never overlap, each segment is
                // in exactly one range, and this range is consumed here, so no other
                // live reference covers these bytes while `f` runs.
                let bytes = unsafe { std::slice::from_raw_parts_mut(self.base.add(off), n) };
                f(runs, piece, bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_vec_row_by_row_equals_iter() {
        let values: Vec<u32> = (0..120).collect();
        for bo in [ByteOrder::Little, ByteOrder::Big] {
            let bytes: Vec<u8> = values
                .iter()
                .flat_map(|v| match bo {
                    ByteOrder::Big => v.to_be_bytes(),
                    ByteOrder::Little => v.to_le_bytes(),
                })
                .collect();
            for order in [Order::C, Order::F] {
                let v = View::<u32>::from_bytes(&bytes, &[4, 5, 6], order, bo).unwrap();
                for spec in [
                    ":, :, :",
                    "1:3, 1:4, 2:5",
                    "::-1, ::2, 1:",
                    "..., 1:-1",
                    "2, :, 1:3",
                    ":, ::-1, :",
                    "::2, 3:, ::-1",
                    "0:0, :, :",
                ] {
                    let s = v.slice(spec).unwrap();
                    assert_eq!(
                        s.to_vec(),
                        s.iter().collect::<Vec<_>>(),
                        "{order:?} {bo:?} {spec}"
                    );
                }
            }
        }
    }

    #[test]
    fn big_endian_views_decode() {
        let bytes: Vec<u8> = (0u32..12).flat_map(u32::to_be_bytes).collect();
        let v = View::<u32>::from_bytes(&bytes, &[3, 4], Order::C, ByteOrder::Big).unwrap();
        assert_eq!(v.get(&[2, 1]).unwrap(), 9);
        assert!(v.as_slice().is_none());
        assert_eq!(v.slice("1:, ::-3").unwrap().to_vec(), [7, 4, 11, 8]);
        assert_eq!(
            v.slice("..., 1").unwrap().iter().collect::<Vec<_>>(),
            [1, 5, 9]
        );
    }

    #[test]
    fn fills_and_assigns_through_strided_views() {
        let mut bytes = vec![0u8; 6 * 8];
        let mut v =
            ViewMut::<f64>::from_bytes(&mut bytes, &[2, 3], Order::F, ByteOrder::Big).unwrap();
        v.view_mut().slice_mut(":, ::2").unwrap().fill(1.5);
        v.view_mut()
            .slice_mut("1")
            .unwrap()
            .assign_slice(&[7.0, 8.0, 9.0])
            .unwrap();
        assert_eq!(v.view().to_vec(), [1.5, 0.0, 1.5, 7.0, 8.0, 9.0]);
        // F order in memory: [0,0], [1,0], [0,1], ...
        let raw: Vec<f64> = bytes
            .chunks(8)
            .map(|c| f64::from_be_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(raw, [1.5, 7.0, 0.0, 8.0, 1.5, 9.0]);
    }

    #[test]
    fn strided_views_are_checked() {
        let bytes: Vec<u8> = (0u32..12).flat_map(u32::to_ne_bytes).collect();
        // a[::-1, 1:3] of a 3x4 C-order u32 array: offset of [2, 1], strides (-16, 4).
        let v =
            View::<u32>::from_strided(&bytes, 36, &[3, 2], &[-16, 4], ByteOrder::NATIVE).unwrap();
        assert_eq!(v.to_vec(), [9, 10, 5, 6, 1, 2]);
        assert_eq!(v.offset(), 36);
        let slice = |off, shape: &[usize], strides: &[isize]| {
            View::<u32>::from_strided(&bytes, off, shape, strides, ByteOrder::NATIVE).is_ok()
        };
        assert!(!slice(44, &[3, 2], &[-16, 4]), "last element past the end");
        assert!(!slice(20, &[3, 2], &[-16, 4]), "first row before the start");
        assert!(!slice(0, &[3, 4], &[8, 4]), "overlapping rows");
        assert!(!slice(0, &[2, 4], &[0, 4]), "broadcast axis");
        assert!(
            !slice(0, &[6], &[2]),
            "stride not a multiple of the item size"
        );
        assert!(
            slice(0, &[1, 4], &[0, 4]),
            "a zero stride on a length-1 axis is fine"
        );
        assert!(
            slice(48, &[0, 4], &[16, 4]),
            "an empty view may start at the end"
        );
        assert!(!slice(52, &[0], &[4]), "but not past it");
        let mut buf = bytes.clone();
        assert!(matches!(
            ViewMut::<u32>::from_strided(&mut buf, 4, &[4, 3], &[4, 16], ByteOrder::NATIVE),
            Err(Error::Shape(_))
        ));
        let mut w = ViewMut::<u32>::from_strided(&mut buf, 0, &[4, 3], &[4, 16], ByteOrder::NATIVE)
            .unwrap();
        w.fill(7);
        assert!(buf.chunks(4).all(|c| c == 7u32.to_ne_bytes()));
    }

    #[test]
    fn segments_cover_every_element_once() {
        for max in [1, 2, 3, 7, 100] {
            let mut bytes = vec![0u8; 5 * 7];
            let v = ViewMut::<u8>::from_bytes(&mut bytes, &[5, 7], Order::C, ByteOrder::Little)
                .unwrap();
            let v = v.into_slice("::-2, 1:6").unwrap();
            let (a, b) = v.into_segments(max).split_at(1);
            for part in [b, a] {
                part.for_each_piece(|_, _, run| {
                    for x in run.iter_mut() {
                        *x += 1;
                    }
                });
            }
            let touched: usize = bytes.iter().map(|&b| usize::from(b)).sum();
            assert_eq!(touched, 3 * 5, "max {max}");
            assert!(bytes.iter().all(|&b| b <= 1));
        }
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn ndarray_views_share_memory_when_native_and_aligned() {
        let values: Vec<f64> = (0..12).map(f64::from).collect();
        let bytes: &[u8] = bytemuck::cast_slice(&values);
        let v = View::<f64>::from_bytes(bytes, &[3, 4], Order::C, ByteOrder::NATIVE).unwrap();
        let s = v.slice("::2, 1:3").unwrap();
        let nd = s.to_ndarray().unwrap();
        assert_eq!(nd.shape(), [2, 2]);
        assert_eq!(nd[[1, 1]], 10.0);
        assert!(std::ptr::eq(&raw const nd[[0, 0]], &raw const values[1]));
        // Negative strides: the same elements, in the same places, in view order.
        for spec in [
            "::-1",
            "::-2, 1",
            "1:, ::-3",
            "2:0:-1, ::-1",
            "::-1, 4:0:-1",
            "5:, ::-1",
        ] {
            let r = v.slice(spec).unwrap();
            let nd = r.to_ndarray().unwrap();
            assert_eq!(nd.shape(), r.shape(), "{spec}");
            assert_eq!(
                nd.iter().copied().collect::<Vec<f64>>(),
                r.to_vec(),
                "{spec}"
            );
            if let Some(first) = nd.iter().next() {
                let at = r.offset() / 8;
                assert!(std::ptr::eq(first, &raw const values[at]), "{spec}");
            }
        }
        let be = View::<f64>::from_bytes(bytes, &[12], Order::C, ByteOrder::Big).unwrap();
        let e = be.to_ndarray().unwrap_err();
        assert!(
            matches!(e, Error::NotInPlace { dtype, native: false, aligned: true } if dtype == be.dtype()),
            "{e:?}"
        );
        // Native but misaligned: a float64 view one byte into the data.
        let odd = View::<f64>::from_strided(bytes, 1, &[2], &[8], ByteOrder::NATIVE).unwrap();
        let e = odd.to_ndarray().unwrap_err();
        assert!(
            matches!(
                e,
                Error::NotInPlace {
                    native: true,
                    aligned: false,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "no zero-copy view of <f8 data: it is not aligned for its element type; decode it with to_vec instead"
        );
        // Writable views: the same elements, written in place.
        let mut data: Vec<f64> = (0..12).map(f64::from).collect();
        let w = ViewMut::<f64>::from_bytes(
            bytemuck::cast_slice_mut(&mut data),
            &[3, 4],
            Order::F,
            ByteOrder::NATIVE,
        )
        .unwrap();
        let mut part = w.slice_mut("::-1, 1::2").unwrap();
        let before = part.view().to_vec();
        part.to_ndarray_mut().unwrap().mapv_inplace(|x| -x);
        let after = part.view().to_vec();
        assert_eq!(after, before.iter().map(|x| -x).collect::<Vec<f64>>());
        assert_eq!(data.iter().filter(|&&x| x < 0.0).count(), 6, "{data:?}");
        let mut be = vec![0u8; 16];
        let mut w = ViewMut::<f64>::from_bytes(&mut be, &[2], Order::C, ByteOrder::Big).unwrap();
        assert!(matches!(
            w.to_ndarray_mut().unwrap_err(),
            Error::NotInPlace {
                native: false,
                aligned: true,
                ..
            }
        ));
    }
}
