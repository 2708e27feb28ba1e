//! Chunked arrays: a layout plus a regular chunk grid plus a source that hands
//! out chunks.
//!
//! A [`ChunkSource`] is storage cut into chunks of one shape (a Zarr store, an
//! archive decoded piece by piece, chunks in memory): it reads a chunk's bytes
//! (mapped where they lie uncompressed in a file, decoded into a buffer
//! otherwise) and, when writable, takes them back. A [`Chunked`] array puts a
//! source behind the array model the rest of mmarray uses: views by numpy
//! basic indexing ([`ChunkedView`]) that cross chunk boundaries, addressed as if
//! the array were one contiguous buffer in C (or F) order: its *virtual region*.
//! Every byte range of that region is found in the chunks that hold it
//! ([`ChunkedView::steps`]), so the runs and segments of a chunked view are those
//! of the same view of a contiguous array, and an operation that walks them sees
//! the same values in the same order whatever the chunking. `mmarray-ops` runs
//! every operation over chunked views that way; this module holds no threads.
//!
//! ```
//! use mmarray_core::chunk::{Chunked, MemoryChunks};
//! use mmarray_core::{Order, View};
//! use mmarray_dtype::ByteOrder;
//!
//! let values: Vec<f64> = (0..35).map(f64::from).collect();
//! let whole = View::<f64>::from_bytes(bytemuck::cast_slice(&values), &[5, 7], Order::C, ByteOrder::NATIVE)?;
//! // The same data in chunks of 2 x 3 (edge chunks partial).
//! let a = Chunked::new(Box::new(MemoryChunks::from_view(&whole, &[2, 3], Order::C)?));
//! assert_eq!(a.grid().grid_shape(), [3, 3]);
//! let v = a.view::<f64>()?.slice("1:4, ::-2")?;
//! assert_eq!(v.to_vec()?, whole.slice("1:4, ::-2")?.to_vec());
//! # Ok::<(), mmarray_core::Error>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Mutex;

use mmarray_dtype::{DType, Element};

use crate::geometry::{
    Geometry, Order, Piece, Runs, Segments, checked_len, checked_nbytes, spans_fit,
};
use crate::spec::Spec;
use crate::view::{View, check_elem};
use crate::{Error, Result, ShapeError};

/// A regular grid of chunks over an array's shape: chunk `(i, j, ...)` holds the
/// elements `[i * c0, (i + 1) * c0) x [j * c1, ...)`, cut at the array's edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkGrid {
    shape: Vec<usize>,
    chunk: Vec<usize>,
    counts: Vec<usize>,
    chunk_len: usize,
    n_chunks: usize,
}

impl ChunkGrid {
    /// The grid of chunks of `chunk_shape` over `shape`, checked: as many axes,
    /// chunk sides of at least 1, and chunk and grid sizes that fit in memory
    /// (`itemsize` bytes per element).
    ///
    /// ```
    /// use mmarray_core::chunk::ChunkGrid;
    /// let g = ChunkGrid::new(&[10, 7], &[4, 7], 8)?;
    /// assert_eq!((g.grid_shape(), g.len(), g.chunk_len()), (&[3, 1][..], 3, 28));
    /// assert!(ChunkGrid::new(&[10, 7], &[0, 7], 8).is_err());
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    pub fn new(shape: &[usize], chunk_shape: &[usize], itemsize: usize) -> Result<ChunkGrid> {
        let bad = |e: ShapeError| Err(Error::Shape(e));
        if shape.len() != chunk_shape.len() {
            return bad(ShapeError::ChunkDims {
                shape: shape.to_vec(),
                chunk_shape: chunk_shape.to_vec(),
            });
        }
        if shape.len() > crate::MAX_DIMS {
            return bad(ShapeError::TooManyDims {
                ndim: shape.len(),
                max: crate::MAX_DIMS,
            });
        }
        if let Some(axis) = chunk_shape.iter().position(|&c| c == 0) {
            return bad(ShapeError::EmptyChunk {
                chunk_shape: chunk_shape.to_vec(),
                axis,
            });
        }
        let Some(chunk_len) = checked_nbytes(chunk_shape, itemsize)
            .filter(|_| spans_fit(chunk_shape, itemsize))
            .map(|_| chunk_shape.iter().product::<usize>())
        else {
            return bad(ShapeError::ChunkTooLarge {
                chunk_shape: chunk_shape.to_vec(),
            });
        };
        // numpy's rule, as for `.npy` files: the byte size of the non-zero axes
        // fits in `isize` (so does every axis, and every stride of a view).
        if checked_nbytes(shape, itemsize).is_none() || !spans_fit(shape, itemsize) {
            return bad(ShapeError::TooLarge {
                shape: shape.to_vec(),
            });
        }
        let counts: Vec<usize> = shape
            .iter()
            .zip(chunk_shape)
            .map(|(&n, &c)| n.div_ceil(c))
            .collect();
        let Some(n_chunks) = checked_len(&counts) else {
            return bad(ShapeError::TooManyChunks {
                shape: shape.to_vec(),
                chunk_shape: chunk_shape.to_vec(),
            });
        };
        Ok(ChunkGrid {
            shape: shape.to_vec(),
            chunk: chunk_shape.to_vec(),
            counts,
            chunk_len,
            n_chunks,
        })
    }

    /// The array's shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The shape of every chunk (edge chunks hold fewer elements of the array, but
    /// their buffers have this shape too, as in Zarr).
    #[must_use]
    pub fn chunk_shape(&self) -> &[usize] {
        &self.chunk
    }

    /// Chunks per axis.
    #[must_use]
    pub fn grid_shape(&self) -> &[usize] {
        &self.counts
    }

    /// Number of chunks.
    #[must_use]
    pub fn len(&self) -> usize {
        self.n_chunks
    }

    /// Whether there are no chunks (the array is empty).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.n_chunks == 0
    }

    /// Elements in a chunk's buffer.
    #[must_use]
    pub fn chunk_len(&self) -> usize {
        self.chunk_len
    }

    /// The coordinates of chunk number `id` (chunks numbered in C order of the grid).
    #[must_use]
    pub fn coords(&self, id: usize) -> Vec<usize> {
        let mut out = vec![0; self.counts.len()];
        let mut rest = id;
        for (o, &n) in out.iter_mut().zip(&self.counts).rev() {
            *o = rest % n;
            rest /= n;
        }
        out
    }

    /// The number of the chunk at `coords` (`None` if outside the grid).
    #[must_use]
    pub fn id(&self, coords: &[usize]) -> Option<usize> {
        if coords.len() != self.counts.len() {
            return None;
        }
        let mut id = 0usize;
        for (&c, &n) in coords.iter().zip(&self.counts) {
            if c >= n {
                return None;
            }
            id = id * n + c;
        }
        Some(id)
    }
}

/// The bytes of one chunk: borrowed from the source, mapped from a file where the
/// chunk lies uncompressed, or owned (decoded).
#[derive(Debug)]
pub enum ChunkBytes<'s> {
    /// Bytes that stay where they are, e.g. in memory the source holds.
    Borrowed(&'s [u8]),
    /// A file mapped read-only for as long as the chunk is held.
    Mapped(MappedFile),
    /// Bytes decoded into a buffer (given back to the caller to reuse).
    Owned(Vec<u8>),
}

impl Deref for ChunkBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            ChunkBytes::Borrowed(b) => b,
            ChunkBytes::Mapped(m) => m,
            ChunkBytes::Owned(v) => v,
        }
    }
}

/// A whole file mapped read-only ([`ChunkBytes::Mapped`]): a chunk source hands
/// out a chunk stored uncompressed in a file of its own without reading it.
/// Unmapped when dropped.
#[derive(Debug)]
pub struct MappedFile(memmap2::Mmap);

impl MappedFile {
    /// Maps all of `file` read-only, its pages mapped at once (`MAP_POPULATE`
    /// on Linux: one call instead of a page fault per few pages, as a chunk is
    /// read whole by the pass that maps it), with the sequential-access hint.
    ///
    /// # Errors
    ///
    /// The error of `mmap(2)`.
    ///
    /// # Safety
    ///
    /// No other process or thread modifies or truncates the file while the
    /// mapping is alive (see [the safety model](crate#safety)): a change would
    /// alter bytes behind a `&[u8]`, a truncation raises `SIGBUS` on access.
    /// Replacing the file by a rename, as writers of chunk files do, is fine:
    /// the mapping keeps the old file.
    pub unsafe fn map(file: &std::fs::File) -> std::io::Result<MappedFile> {
        // SAFETY: forwarded to the caller.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(file) }?;
        // A hint only.
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(MappedFile(map))
    }
}

impl Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// Storage cut into the chunks of a regular [`ChunkGrid`]: the seam through which
/// chunked formats (Zarr stores, say) plug into mmarray.
///
/// A chunk's bytes are its full buffer (`grid().chunk_len()` elements of
/// `dtype()`, in `chunk_order()`, also for edge chunks), in the dtype's byte
/// order. Implementations check everything they read: a chunk of the wrong size,
/// corrupt or truncated data is an error naming the store and the chunk, never a
/// panic. Sources are shared between threads: `read_chunk` and `write_chunk` may
/// be called concurrently for different chunks.
pub trait ChunkSource: fmt::Debug + Send + Sync {
    /// The element type and byte order of chunk bytes.
    fn dtype(&self) -> DType;

    /// The array's shape and chunking.
    fn grid(&self) -> &ChunkGrid;

    /// The order of elements inside a chunk's buffer (C unless said otherwise).
    fn chunk_order(&self) -> Order {
        Order::C
    }

    /// What to call the source in messages (a store's path).
    fn name(&self) -> String;

    /// The bytes of the chunk at `coords`. `buf` is a buffer the caller gives for
    /// reuse: a source that decodes fills it (resized to the chunk's byte size)
    /// and returns it as [`ChunkBytes::Owned`]; one that maps may ignore it. A
    /// chunk that was never written reads as the source's fill value.
    fn read_chunk(&self, coords: &[usize], buf: Vec<u8>) -> Result<ChunkBytes<'_>>;

    /// Whether [`stream_chunk`](ChunkSource::stream_chunk) hands out streams
    /// (for some chunks at least): then a pass that reads every chunk front to
    /// back may decode chunks as it goes instead of holding them whole. `false`
    /// by default.
    fn can_stream(&self) -> bool {
        false
    }

    /// The chunk at `coords` as a stream of its buffer's bytes, front to back,
    /// when the source can decode it that way (a compressed chunk decoded as it
    /// is read, in far less memory than the chunk): `None` (the default) when it
    /// cannot, and then the chunk is read with
    /// [`read_chunk`](ChunkSource::read_chunk). A stream checks what it decodes
    /// as [`read_chunk`](ChunkSource::read_chunk) does: corrupt data, or data
    /// that decodes to more or fewer bytes than the chunk's buffer, is an error
    /// naming the store and the chunk (at the latest from
    /// [`ChunkStream::finish`]).
    fn stream_chunk(&self, coords: &[usize]) -> Result<Option<Box<dyn ChunkStream + '_>>> {
        let _ = coords;
        Ok(None)
    }

    /// `Some(order)` when chunks are read fastest one after the other in that
    /// order of the grid (a stream, such as a deflated `.npz` member): the engine
    /// then reads them on one thread, in that order. `None` (the default): chunks
    /// are read in parallel, in any order.
    fn in_order(&self) -> Option<Order> {
        None
    }

    /// Whether [`write_chunk`](ChunkSource::write_chunk) can succeed.
    fn is_writable(&self) -> bool {
        false
    }

    /// Stores the full buffer of the chunk at `coords`. The default refuses.
    fn write_chunk(&self, coords: &[usize], bytes: &[u8]) -> Result<()> {
        let _ = (coords, bytes);
        Err(Error::Unsupported(format!(
            "{}: the store is read-only",
            self.name()
        )))
    }

    /// Makes every written chunk durable. The default does nothing.
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// The bytes of one chunk's buffer read front to back
/// ([`ChunkSource::stream_chunk`]).
pub trait ChunkStream: Send {
    /// Fills `buf` with the buffer's next `buf.len()` bytes.
    ///
    /// # Errors
    ///
    /// The chunk's data is corrupt, ends before, or `buf` reaches past the end of
    /// the buffer: an error naming the store and the chunk.
    fn read_next(&mut self, buf: &mut [u8]) -> Result<()>;

    /// Checks, once every byte of the buffer was read, that the stored data
    /// holds nothing more (and any checksum it has).
    ///
    /// # Errors
    ///
    /// Bytes of the buffer were left unread, or the data is corrupt or decodes
    /// to more: an error naming the store and the chunk.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// A chunked array: a [`ChunkSource`] seen as one array whose elements are
/// addressed in C (or F) order, as if contiguous.
#[derive(Debug)]
pub struct Chunked {
    source: Box<dyn ChunkSource>,
    order: Order,
}

impl Chunked {
    /// The array held by `source`, walked in C order.
    #[must_use]
    pub fn new(source: Box<dyn ChunkSource>) -> Chunked {
        Chunked {
            source,
            order: Order::C,
        }
    }

    /// Sets the order in which operations walk the elements (and in which
    /// [`to_vec`](ChunkedView::to_vec) lists a whole array): C (the default) or F.
    /// Results of operations equal those over a contiguous array of this order,
    /// bit for bit.
    #[must_use]
    pub fn with_order(mut self, order: Order) -> Chunked {
        self.order = order;
        self
    }

    /// The source.
    #[must_use]
    pub fn source(&self) -> &dyn ChunkSource {
        self.source.as_ref()
    }

    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.source.dtype()
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        self.source.grid().shape()
    }

    /// The chunk grid.
    #[must_use]
    pub fn grid(&self) -> &ChunkGrid {
        self.source.grid()
    }

    /// The order of the virtual region (see the [module docs](self)).
    #[must_use]
    pub fn order(&self) -> Order {
        self.order
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether the array has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A view of the whole array with elements `T` (which must match the dtype's kind).
    pub fn view<T: Element>(&self) -> Result<ChunkedView<'_, T>> {
        check_elem::<T>(self.dtype())?;
        Ok(ChunkedView {
            array: self,
            geom: Geometry::contiguous(self.shape(), size_of::<T>(), self.order),
            _t: PhantomData,
        })
    }

    /// A writable view of the whole array (the source must be writable).
    pub fn view_mut<T: Element>(&mut self) -> Result<ChunkedViewMut<'_, T>> {
        if !self.source.is_writable() {
            return Err(Error::Unsupported(format!(
                "{}: the store is read-only",
                self.source.name()
            )));
        }
        Ok(ChunkedViewMut { view: self.view()? })
    }

    /// A view of any layout over the virtual region (see the [module docs](self)):
    /// `offset` and `strides` in bytes, checked as [`View::from_strided`] checks
    /// them against a region of the array's byte size. This rebuilds a view whose
    /// geometry was kept elsewhere (by the Python package, say).
    ///
    /// ```
    /// use mmarray_core::chunk::{Chunked, MemoryChunks};
    /// use mmarray_core::{Order, View};
    /// use mmarray_dtype::ByteOrder;
    /// let values: Vec<i32> = (0..12).collect();
    /// let whole = View::<i32>::from_bytes(bytemuck::cast_slice(&values), &[3, 4], Order::C, ByteOrder::NATIVE)?;
    /// let a = Chunked::new(Box::new(MemoryChunks::from_view(&whole, &[2, 3], Order::C)?));
    /// // Column 1, rows reversed: starts at element 9 (byte 36), steps back a row (16 bytes).
    /// assert_eq!(a.view_strided::<i32>(36, &[3], &[-16])?.to_vec()?, [9, 5, 1]);
    /// assert!(a.view_strided::<i32>(36, &[4], &[-16]).is_err());
    /// assert!(a.view_strided::<i32>(2, &[1], &[4]).is_err());
    /// # Ok::<(), mmarray_core::Error>(())
    /// ```
    pub fn view_strided<T: Element>(
        &self,
        offset: usize,
        shape: &[usize],
        strides: &[isize],
    ) -> Result<ChunkedView<'_, T>> {
        check_elem::<T>(self.dtype())?;
        if !offset.is_multiple_of(size_of::<T>()) {
            return Err(ShapeError::Misaligned {
                offset,
                itemsize: size_of::<T>(),
            }
            .into());
        }
        // The grid checked that the array's byte size fits in memory.
        let region =
            checked_nbytes(self.shape(), size_of::<T>()).ok_or_else(|| ShapeError::TooLarge {
                shape: self.shape().to_vec(),
            })?;
        Ok(ChunkedView {
            array: self,
            geom: Geometry::strided(region, size_of::<T>(), offset, shape, strides)?,
            _t: PhantomData,
        })
    }

    /// A writable view of any layout over the virtual region, checked as
    /// [`view_strided`](Self::view_strided) (no two elements overlap); the source
    /// must be writable.
    pub fn view_strided_mut<T: Element>(
        &mut self,
        offset: usize,
        shape: &[usize],
        strides: &[isize],
    ) -> Result<ChunkedViewMut<'_, T>> {
        if !self.source.is_writable() {
            return Err(Error::Unsupported(format!(
                "{}: the store is read-only",
                self.source.name()
            )));
        }
        Ok(ChunkedViewMut {
            view: self.view_strided(offset, shape, strides)?,
        })
    }

    /// Makes every written chunk durable ([`ChunkSource::flush`]).
    pub fn flush(&self) -> Result<()> {
        self.source.flush()
    }

    /// Reads the chunk numbered `id` (see [`ChunkGrid::coords`]), checking that the
    /// source gave a whole buffer.
    pub fn read_chunk(&self, id: usize, buf: Vec<u8>) -> Result<ChunkBytes<'_>> {
        let grid = self.grid();
        let coords = grid.coords(id);
        let bytes = self.source.read_chunk(&coords, buf)?;
        let want = grid.chunk_len() * self.dtype().itemsize();
        if bytes.len() != want {
            return Err(Error::Chunk {
                store: self.source.name(),
                chunk: format!("{coords:?}"),
                reason: format!("{} bytes given, {want} expected", bytes.len()),
            });
        }
        Ok(bytes)
    }

    /// The chunk numbered `id` as a stream ([`ChunkSource::stream_chunk`]), if
    /// the source streams it.
    pub fn stream_chunk(&self, id: usize) -> Result<Option<Box<dyn ChunkStream + '_>>> {
        if !self.source.can_stream() {
            return Ok(None);
        }
        self.source.stream_chunk(&self.grid().coords(id))
    }
}

/// One step of a walk over a byte range of a chunked view's virtual region
/// ([`ChunkedView::steps`]): `len` elements that lie in one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The chunk's number.
    pub chunk: usize,
    /// The first element's index in the chunk's buffer.
    pub at: usize,
    /// Elements between consecutive elements in the chunk's buffer (1 when the
    /// chunk's order is the array's walking order).
    pub stride: usize,
    /// The first element's index in the range walked.
    pub pos: usize,
    /// Number of elements.
    pub len: usize,
}

impl Step {
    /// Copies elements `from..from + dst.len() / size` of this step (elements
    /// of `size` bytes) out of `chunk`, the bytes of its chunk, into `dst`.
    ///
    /// # Panics
    ///
    /// If `chunk` is shorter than the chunk the walk gave this step for.
    pub fn copy_out(&self, chunk: &[u8], from: usize, dst: &mut [u8], size: usize) {
        copy_strided(chunk, self.at + from * self.stride, self.stride, dst, size);
    }
}

/// A read-only view of a [`Chunked`] array by numpy basic indexing: the geometry
/// of the same view of a contiguous array, over the virtual region.
pub struct ChunkedView<'a, T> {
    array: &'a Chunked,
    geom: Geometry,
    _t: PhantomData<T>,
}

impl<T> Clone for ChunkedView<'_, T> {
    fn clone(&self) -> Self {
        ChunkedView {
            array: self.array,
            geom: self.geom.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Element> fmt::Debug for ChunkedView<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedView")
            .field("source", &self.array.source.name())
            .field("dtype", &self.dtype())
            .field("shape", &self.geom.shape)
            .finish_non_exhaustive()
    }
}

impl<'a, T: Element> ChunkedView<'a, T> {
    /// The array viewed.
    #[must_use]
    pub fn array(&self) -> &'a Chunked {
        self.array
    }

    /// The element type (with the chunks' byte order).
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.array.dtype()
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.geom.shape
    }

    /// Number of dimensions.
    #[must_use]
    pub fn ndim(&self) -> usize {
        self.geom.shape.len()
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.geom.len()
    }

    /// Whether the view has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Byte strides over the virtual region (those of the same view of a
    /// contiguous array in the array's order).
    #[must_use]
    pub fn strides(&self) -> &[isize] {
        &self.geom.strides
    }

    /// The byte offset of the first element in the virtual region.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.geom.offset
    }

    /// A sub-view by numpy basic indexing (as [`View::slice`]).
    pub fn slice<S>(&self, spec: S) -> Result<ChunkedView<'a, T>>
    where
        S: TryInto<Spec>,
        S::Error: Into<Error>,
    {
        let spec = spec.try_into().map_err(Into::into)?;
        Ok(ChunkedView {
            array: self.array,
            geom: self.geom.slice(&spec)?,
            _t: PhantomData,
        })
    }

    /// The view's runs over the virtual region (those of the same view of a
    /// contiguous array in the array's order).
    #[must_use]
    pub fn runs(&self) -> Runs {
        self.geom.runs(size_of::<T>())
    }

    /// The view's runs cut into segments of about `max_elems` elements.
    #[must_use]
    pub fn segments(&self, max_elems: usize) -> Segments {
        Segments::new(self.runs(), max_elems)
    }

    /// The same view of a contiguous array held in `bytes` (which must have the
    /// array's byte size): what an operation over this view must equal.
    pub fn over<'b>(&self, bytes: &'b [u8]) -> Result<View<'b, T>> {
        let whole = View::<T>::from_bytes(
            bytes,
            self.array.shape(),
            self.array.order,
            self.dtype().byte_order(),
        )?;
        Ok(View::from_parts(
            whole.region(),
            None,
            self.geom.clone(),
            self.dtype().byte_order(),
        ))
    }

    /// Calls `f` for each [`Step`] of the elements of the virtual region in
    /// `[offset, offset + len)` bytes (whole elements, inside the region): the
    /// chunks that hold them, in order.
    pub fn steps(&self, offset: usize, len: usize, f: impl FnMut(Step)) {
        let size = size_of::<T>();
        walk(
            self.array.grid(),
            self.array.order,
            self.array.source.chunk_order(),
            offset / size,
            len / size,
            f,
        );
    }

    /// The byte offset, in the virtual region, just past the last element of chunk
    /// `id`: once a walk in region order has passed it, the chunk is not needed again.
    #[must_use]
    pub fn chunk_end(&self, id: usize) -> usize {
        let grid = self.array.grid();
        let coords = grid.coords(id);
        let shape = grid.shape();
        let mut last = 0usize;
        let mut mult = 1usize;
        for ax in self.array.order.axes_fastest_first(shape.len()) {
            let c = grid.chunk_shape()[ax];
            let i = ((coords[ax] + 1) * c).min(shape[ax]).saturating_sub(1);
            last += i * mult;
            mult *= shape[ax];
        }
        (last + 1) * size_of::<T>()
    }

    /// Copies the elements of the virtual region in `[offset, offset + buf.len())`
    /// into `buf` (in the chunks' byte order), taking each chunk's bytes from
    /// `chunk` (`None`: not loaded; then `false`, with `buf` partly written).
    pub fn gather<'c>(
        &self,
        offset: usize,
        buf: &mut [u8],
        chunk: impl Fn(usize) -> Option<&'c [u8]>,
    ) -> bool {
        let size = size_of::<T>();
        let mut ok = true;
        self.steps(offset, buf.len(), |s| {
            let Some(src) = chunk(s.chunk) else {
                ok = false;
                return;
            };
            s.copy_out(src, 0, &mut buf[s.pos * size..(s.pos + s.len) * size], size);
        });
        ok
    }

    /// Calls `f`, on the calling thread and in memory order, with every piece of
    /// the view's [`segments`](Self::segments) of about `max_elems` elements and
    /// its bytes (in the chunks' byte order), gathered from the chunks. Chunks are
    /// read as the walk reaches them and dropped once it has passed them, so
    /// memory is a band of chunks and one piece, never the array.
    pub fn for_each_piece(
        &self,
        max_elems: usize,
        mut f: impl FnMut(&Runs, Piece, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let size = size_of::<T>();
        let segs = self.segments(max_elems);
        let runs = segs.runs();
        let mut held: HashMap<usize, ChunkBytes<'_>> = HashMap::new();
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        for i in 0..segs.len() {
            for p in segs.pieces(i) {
                let (offset, len) = (runs.offset(p.run) + p.start * size, p.len * size);
                let gone: Vec<usize> = held
                    .keys()
                    .copied()
                    .filter(|&id| self.chunk_end(id) <= offset)
                    .collect();
                for id in gone {
                    if let Some(ChunkBytes::Owned(v)) = held.remove(&id) {
                        spare.push(v);
                    }
                }
                let mut needed = Vec::new();
                self.steps(offset, len, |s| {
                    if !held.contains_key(&s.chunk) && !needed.contains(&s.chunk) {
                        needed.push(s.chunk);
                    }
                });
                for id in needed {
                    let bytes = self.array.read_chunk(id, spare.pop().unwrap_or_default())?;
                    held.insert(id, bytes);
                }
                buf.resize(len, 0);
                self.gather(offset, &mut buf, |id| held.get(&id).map(|b| &**b));
                f(runs, p, &buf)?;
            }
        }
        Ok(())
    }

    /// Every element of the view, in logical C order (as [`View::to_vec`]).
    pub fn to_vec(&self) -> Result<Vec<T>> {
        let mut out = vec![T::zeroed(); self.len()];
        let mut index = vec![0usize; self.ndim()];
        let c_strides = crate::geometry::contiguous_strides(self.shape(), 1, Order::C);
        let order = self.dtype().byte_order();
        let mut decoded: Vec<T> = Vec::new();
        self.for_each_piece(1 << 16, |runs, p, bytes| {
            decoded.resize(p.len, T::zeroed());
            mmarray_dtype::decode(bytes, order, &mut decoded)?;
            for (j, v) in decoded.iter().enumerate() {
                runs.multi_index(p.run, p.start + j, &mut index);
                let at: isize = index
                    .iter()
                    .zip(&c_strides)
                    .map(|(&i, &s)| i as isize * s)
                    .sum();
                out[at.unsigned_abs()] = *v;
            }
            Ok(())
        })?;
        Ok(out)
    }
}

/// A writable view of a [`Chunked`] array.
pub struct ChunkedViewMut<'a, T> {
    view: ChunkedView<'a, T>,
}

impl<T: Element> fmt::Debug for ChunkedViewMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ChunkedViewMut").field(&self.view).finish()
    }
}

impl<'a, T: Element> ChunkedViewMut<'a, T> {
    /// The read-only view of the same elements.
    #[must_use]
    pub fn view(&self) -> &ChunkedView<'a, T> {
        &self.view
    }

    /// A writable sub-view by numpy basic indexing.
    pub fn into_slice<S>(self, spec: S) -> Result<ChunkedViewMut<'a, T>>
    where
        S: TryInto<Spec>,
        S::Error: Into<Error>,
    {
        Ok(ChunkedViewMut {
            view: self.view.slice(spec)?,
        })
    }

    /// Copies `buf` into the elements of the virtual region in
    /// `[offset, offset + buf.len())`, writing each chunk's bytes through `chunk`
    /// (called with the chunk's number and a function to apply to its buffer;
    /// `false` if the chunk is not loaded).
    pub fn scatter(
        &self,
        offset: usize,
        buf: &[u8],
        chunk: impl Fn(usize, &mut dyn FnMut(&mut [u8])) -> bool,
    ) -> bool {
        let size = size_of::<T>();
        let mut ok = true;
        self.view.steps(offset, buf.len(), |s| {
            let src = &buf[s.pos * size..(s.pos + s.len) * size];
            ok &= chunk(s.chunk, &mut |dst: &mut [u8]| {
                copy_strided_into(src, dst, s.at, s.stride, size);
            });
        });
        ok
    }
}

/// Calls `f` for each [`Step`] of `count` elements of an array of `grid`, from
/// element `first` in `order` (its virtual region): the chunks (buffers in
/// `chunk_order`) that hold them, in order. This is the one place where positions
/// in the virtual region become positions in chunks.
fn walk(
    grid: &ChunkGrid,
    order: Order,
    chunk_order: Order,
    first: usize,
    count: usize,
    mut f: impl FnMut(Step),
) {
    let shape = grid.shape();
    let chunk = grid.chunk_shape();
    let nd = shape.len();
    if nd == 0 {
        if count > 0 {
            f(Step {
                chunk: 0,
                at: 0,
                stride: 1,
                pos: 0,
                len: 1,
            });
        }
        return;
    }
    let virt = order.axes_fastest_first(nd);
    let mut chunk_strides = vec![0usize; nd];
    let mut acc = 1;
    for ax in chunk_order.axes_fastest_first(nd) {
        chunk_strides[ax] = acc;
        acc *= chunk[ax];
    }
    // The multi-index of the first element.
    let mut index = order.unravel(first, shape);
    let fast = virt[0];
    let mut todo = count;
    let mut pos = 0;
    let mut coords = vec![0usize; nd];
    while todo > 0 {
        let within = chunk[fast] - index[fast] % chunk[fast];
        let n = todo.min(within).min(shape[fast] - index[fast]);
        let mut at = 0;
        for ax in 0..nd {
            coords[ax] = index[ax] / chunk[ax];
            at += (index[ax] % chunk[ax]) * chunk_strides[ax];
        }
        // Inside the grid: the index is inside the shape.
        let id = grid.id(&coords).unwrap_or(0);
        f(Step {
            chunk: id,
            at,
            stride: chunk_strides[fast],
            pos,
            len: n,
        });
        todo -= n;
        pos += n;
        // Advance the multi-index by n in the virtual order.
        index[fast] += n;
        for k in 0..nd {
            let ax = virt[k];
            if index[ax] < shape[ax] {
                break;
            }
            index[ax] = 0;
            if k + 1 < nd {
                index[virt[k + 1]] += 1;
            }
        }
    }
}

/// Copies elements `at, at + stride, ...` of `src` (`size`-byte elements) into
/// `dst`, contiguous.
fn copy_strided(src: &[u8], at: usize, stride: usize, dst: &mut [u8], size: usize) {
    let n = dst.len() / size;
    if stride == 1 {
        dst.copy_from_slice(&src[at * size..(at + n) * size]);
    } else {
        for (j, d) in dst.chunks_exact_mut(size).enumerate() {
            let s = (at + j * stride) * size;
            d.copy_from_slice(&src[s..s + size]);
        }
    }
}

/// Copies contiguous `src` into elements `at, at + stride, ...` of `dst`.
fn copy_strided_into(src: &[u8], dst: &mut [u8], at: usize, stride: usize, size: usize) {
    let n = src.len() / size;
    if stride == 1 {
        dst[at * size..(at + n) * size].copy_from_slice(src);
    } else {
        for (j, s) in src.chunks_exact(size).enumerate() {
            let d = (at + j * stride) * size;
            dst[d..d + size].copy_from_slice(s);
        }
    }
}

/// Chunks held in memory: a writable [`ChunkSource`] for tests, examples and data
/// built in a program. Chunks never written read as zeros.
#[derive(Debug)]
pub struct MemoryChunks {
    dtype: DType,
    grid: ChunkGrid,
    order: Order,
    chunks: Vec<Mutex<Option<Vec<u8>>>>,
}

impl MemoryChunks {
    /// An array of `shape` in chunks of `chunk_shape` (each chunk's buffer in
    /// `chunk_order`), all zero.
    pub fn new(
        dtype: DType,
        shape: &[usize],
        chunk_shape: &[usize],
        chunk_order: Order,
    ) -> Result<MemoryChunks> {
        let grid = ChunkGrid::new(shape, chunk_shape, dtype.itemsize())?;
        let chunks = (0..grid.len()).map(|_| Mutex::new(None)).collect();
        Ok(MemoryChunks {
            dtype,
            grid,
            order: chunk_order,
            chunks,
        })
    }

    /// The elements of `view` (in its dtype and byte order) cut into chunks of
    /// `chunk_shape`, each buffer in `chunk_order`; the cells of edge chunks
    /// outside the array are zero.
    pub fn from_view<T: Element>(
        view: &View<'_, T>,
        chunk_shape: &[usize],
        chunk_order: Order,
    ) -> Result<MemoryChunks> {
        let mut out = MemoryChunks::new(view.dtype(), view.shape(), chunk_shape, chunk_order)?;
        let size = size_of::<T>();
        let values = view.to_vec();
        let mut bytes = vec![0u8; values.len() * size];
        mmarray_dtype::encode(&values, view.dtype().byte_order(), &mut bytes)?;
        let mut store = vec![vec![0u8; out.grid.chunk_len() * size]; out.grid.len()];
        walk(&out.grid, Order::C, chunk_order, 0, values.len(), |s| {
            let src = &bytes[s.pos * size..(s.pos + s.len) * size];
            copy_strided_into(src, &mut store[s.chunk], s.at, s.stride, size);
        });
        for (slot, chunk) in out.chunks.iter_mut().zip(store) {
            *slot = Mutex::new(Some(chunk));
        }
        Ok(out)
    }

    /// How many chunks hold data (were written or given).
    #[must_use]
    pub fn stored(&self) -> usize {
        self.chunks
            .iter()
            .filter(|c| c.lock().is_ok_and(|c| c.is_some()))
            .count()
    }
}

impl ChunkSource for MemoryChunks {
    fn dtype(&self) -> DType {
        self.dtype
    }

    fn grid(&self) -> &ChunkGrid {
        &self.grid
    }

    fn chunk_order(&self) -> Order {
        self.order
    }

    fn name(&self) -> String {
        "<memory chunks>".to_owned()
    }

    fn read_chunk(&self, coords: &[usize], mut buf: Vec<u8>) -> Result<ChunkBytes<'_>> {
        let n = self.grid.chunk_len() * self.dtype.itemsize();
        let id = self.grid.id(coords).ok_or_else(|| {
            Error::Index(
                format!(
                    "chunk {coords:?} is outside the grid {:?}",
                    self.grid.grid_shape()
                )
                .into(),
            )
        })?;
        let slot = self.chunks[id]
            .lock()
            .map_err(|_| Error::Unsupported("memory chunks: a writer panicked".to_owned()))?;
        buf.clear();
        match slot.as_ref() {
            Some(bytes) => buf.extend_from_slice(bytes),
            None => buf.resize(n, 0),
        }
        Ok(ChunkBytes::Owned(buf))
    }

    fn is_writable(&self) -> bool {
        true
    }

    fn write_chunk(&self, coords: &[usize], bytes: &[u8]) -> Result<()> {
        let n = self.grid.chunk_len() * self.dtype.itemsize();
        if bytes.len() != n {
            return Err(ShapeError::ChunkLength {
                coords: coords.to_vec(),
                expected: n,
                found: bytes.len(),
            }
            .into());
        }
        let id = self.grid.id(coords).ok_or_else(|| {
            Error::Index(
                format!(
                    "chunk {coords:?} is outside the grid {:?}",
                    self.grid.grid_shape()
                )
                .into(),
            )
        })?;
        let mut slot = self.chunks[id]
            .lock()
            .map_err(|_| Error::Unsupported("memory chunks: a writer panicked".to_owned()))?;
        *slot = Some(bytes.to_vec());
        Ok(())
    }
}
