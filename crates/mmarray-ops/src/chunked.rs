//! The engine over chunked arrays ([`mmarray_core::chunk`]).
//!
//! A chunked view has the runs and segments of the same view of a contiguous
//! array (over its virtual region), so the engine walks it exactly as it walks a
//! mapping: the same segments in the same batches, partial results merged in
//! segment order. Only where a piece's bytes come from differs: each piece is
//! gathered from the chunks that hold it into a per-thread buffer (or read in
//! place when one chunk holds it contiguously), so kernels see the same values
//! in the same blocks as over a `.npy` of the same data, and results are the
//! same bits whatever the chunking and the thread count.
//!
//! Chunks are loaded batch by batch, in parallel, into a [`Cache`]: before a
//! batch, the chunks its pieces touch are read (decoded) if not held yet, and the
//! chunks the walk has passed for good (see [`ChunkedView::chunk_end`]) are
//! dropped (written back first when the pass writes). Memory is the chunks of one
//! band of the array (the chunks a batch and its unfinished neighbours touch),
//! never the array.
//!
//! Reductions over a whole array whose source streams its chunks (zstd chunks of
//! a Zarr store, of at least 2 MiB) hold no chunk whole: each
//! chunk of the band is a decoder plus the part of its buffer the current batch
//! reads, decoded just before the batch; the segments, pieces and batches are
//! the same, so are the results.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::mem::size_of;
use std::sync::{Mutex, PoisonError};

use mmarray_core::chunk::{ChunkBytes, ChunkStream, ChunkedView, ChunkedViewMut, Step};
use mmarray_core::{
    Order,
    lowlevel::{Piece, Runs, Segments},
};
use mmarray_dtype::{DType, Element, convert, convert_part};
use rayon::prelude::*;

use crate::Result;
use crate::engine::{At, BATCH, BLOCK, Gather, Kernel, SEGMENT_BYTES, feed};
use crate::exec::Exec;
use crate::num::Elem;
use crate::prefetch;

thread_local! {
    /// The per-thread gather buffer (`u64` for alignment): one piece, at most a segment.
    static GATHER: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with a thread's gather buffer of `len` bytes (8-byte aligned).
fn with_buffer<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    GATHER.with_borrow_mut(|buf| {
        if buf.len() * 8 < len {
            buf.resize(len.div_ceil(8), 0);
        }
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(buf.as_mut_slice());
        f(&mut bytes[..len])
    })
}

/// The chunks a pass holds, by number.
struct Cache<'s> {
    held: HashMap<usize, ChunkBytes<'s>>,
    /// Buffers of dropped chunks, for reuse.
    spare: Vec<Vec<u8>>,
}

impl<'s> Cache<'s> {
    fn new() -> Cache<'s> {
        Cache {
            held: HashMap::new(),
            spare: Vec::new(),
        }
    }

    fn get(&self, id: usize) -> Option<&[u8]> {
        self.held.get(&id).map(|b| &**b)
    }

    /// Drops the chunks `done` says the walk has passed for good.
    fn drop_done(&mut self, done: impl Fn(usize) -> bool) {
        let gone: Vec<usize> = self.held.keys().copied().filter(|&id| done(id)).collect();
        for id in gone {
            if let Some(ChunkBytes::Owned(v)) = self.held.remove(&id) {
                self.spare.push(v);
            }
        }
    }

    /// Reads the chunks of `ids` not held yet, in parallel.
    fn load<T: Element>(&mut self, view: &ChunkedView<'s, T>, ids: &BTreeSet<usize>) -> Result<()> {
        let missing: Vec<(usize, Vec<u8>)> = ids
            .iter()
            .filter(|id| !self.held.contains_key(id))
            .map(|&id| (id, self.spare.pop().unwrap_or_default()))
            .collect();
        let array = view.array();
        let read: Vec<(usize, mmarray_core::Result<ChunkBytes<'s>>)> =
            if let Some(order) = array.source().in_order() {
                // A stream: one chunk after the other, in its order.
                let grid = array.grid();
                let mut missing = missing;
                missing.sort_by_key(|(id, _)| order.ravel(&grid.coords(*id), grid.grid_shape()));
                missing
                    .into_iter()
                    .map(|(id, buf)| (id, array.read_chunk(id, buf)))
                    .collect()
            } else {
                missing
                    .into_par_iter()
                    .map(|(id, buf)| (id, array.read_chunk(id, buf)))
                    .collect()
            };
        for (id, bytes) in read {
            self.held.insert(id, bytes?);
        }
        Ok(())
    }
}

/// Bytes of small chunks a [`SharedCache`] batch may hold.
const HELD_BYTES: usize = 32 << 20;

/// A [`Cache`] shared by the tasks of a parallel batch and refilled between
/// batches, for passes that do not walk segments in order (axis reductions).
pub(crate) struct SharedCache<'v, 's, T> {
    view: &'v ChunkedView<'s, T>,
    cache: std::sync::RwLock<Cache<'s>>,
}

impl<'v, 's, T: Element> SharedCache<'v, 's, T> {
    pub(crate) fn new(view: &'v ChunkedView<'s, T>) -> Self {
        SharedCache {
            view,
            cache: std::sync::RwLock::new(Cache::new()),
        }
    }

    /// Holds exactly the chunks that hold the byte ranges `ranges` of the
    /// virtual region: drops the others, reads the missing ones in parallel.
    pub(crate) fn prepare(&self, ranges: impl Iterator<Item = (usize, usize)>) -> Result<()> {
        let ids = chunks_of(self.view, ranges);
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.drop_done(|id| !ids.contains(&id));
        cache.load(self.view, &ids)
    }

    /// The numbers of the chunks that hold the byte ranges `ranges` of the
    /// virtual region.
    pub(crate) fn chunks(&self, ranges: impl Iterator<Item = (usize, usize)>) -> BTreeSet<usize> {
        chunks_of(self.view, ranges)
    }

    /// How many chunks a batch may hold: two per thread, or more small ones
    /// up to [`HELD_BYTES`] (and at most [`HELD_CHUNKS`]).
    pub(crate) fn budget(&self) -> usize {
        let array = self.view.array();
        let chunk = (array.grid().chunk_len() * size_of::<T>()).max(1);
        (HELD_BYTES / chunk)
            .min(HELD_CHUNKS)
            .max(2 * rayon::current_num_threads())
    }

    /// Calls `f` with the `len` bytes at `offset` of the virtual region (whose
    /// chunks [`prepare`](Self::prepare) loaded).
    pub(crate) fn with_bytes<R>(&self, offset: usize, len: usize, f: impl FnOnce(&[u8]) -> R) -> R {
        let cache = self
            .cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        with_piece(self.view, &cache, offset, len, f)
    }

    /// Calls `f(pos, bytes)` for the parts of the `len` bytes at `offset` of
    /// the virtual region, one chunk's part at a time in order (`pos`: the
    /// part's first element in the range): in place when the chunk holds its
    /// part contiguous, else gathered into the thread's buffer. Unlike
    /// [`with_bytes`](Self::with_bytes), nothing is copied for a range that
    /// crosses chunks held in the range's order.
    pub(crate) fn with_parts(&self, offset: usize, len: usize, mut f: impl FnMut(usize, &[u8])) {
        let cache = self
            .cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let size = size_of::<T>();
        steps_ahead(self.view, &cache, offset, len, |s, src| {
            let run = s.at * size..(s.at + s.len) * size;
            match src.get(run) {
                Some(bytes) if s.stride == 1 || s.len == 1 => f(s.pos, bytes),
                _ => with_buffer(s.len * size, |buf| {
                    s.copy_out(src, 0, buf, size);
                    f(s.pos, buf);
                }),
            }
        });
    }
}

/// The numbers of the chunks that the pieces of segments `range` touch.
fn touched<T: Element>(
    view: &ChunkedView<'_, T>,
    segs: &Segments,
    range: std::ops::Range<usize>,
) -> BTreeSet<usize> {
    let runs = segs.runs();
    let size = size_of::<T>();
    let ranges = range.flat_map(|i| segs.pieces(i));
    chunks_of(
        view,
        ranges.map(|p| (runs.offset(p.run) + p.start * size, p.len * size)),
    )
}

/// Chunks a batch of segments holds at most, beyond those of its first segment
/// (and chunks a pass keeps from batch to batch): with their bookkeeping (a
/// couple of hundred bytes each), tiny chunks (a few bytes, as a hostile or
/// careless store may have) would otherwise make a batch of 64 MiB hold tens
/// of millions of them. A band of ordinary chunks is far below it.
const HELD_CHUNKS: usize = 1 << 16;

/// The batch of segments from `start`: its end (at most [`BATCH`] segments,
/// the first always in it; the others join while the chunks they touch stay
/// within [`HELD_CHUNKS`]) and the chunks its pieces touch.
fn next_batch<T: Element>(
    view: &ChunkedView<'_, T>,
    segs: &Segments,
    start: usize,
) -> (usize, BTreeSet<usize>) {
    let last = (start + BATCH).min(segs.len());
    let mut ids = touched(view, segs, start..start + 1);
    let mut end = start + 1;
    while end < last {
        let more = touched(view, segs, end..end + 1);
        if ids.len() + more.difference(&ids).count() > HELD_CHUNKS {
            break;
        }
        ids.extend(more);
        end += 1;
    }
    (end, ids)
}

/// The numbers of the chunks that hold the byte ranges `(offset, len)` of the
/// virtual region.
fn chunks_of<T: Element>(
    view: &ChunkedView<'_, T>,
    ranges: impl Iterator<Item = (usize, usize)>,
) -> BTreeSet<usize> {
    let mut ids = BTreeSet::new();
    for (offset, len) in ranges {
        view.steps(offset, len, |s| {
            ids.insert(s.chunk);
        });
    }
    ids
}

/// The byte offset in the virtual region of the first piece of segment `i`.
fn first_offset<T>(segs: &Segments, i: usize) -> usize {
    let runs = segs.runs();
    segs.pieces(i).next().map_or(usize::MAX, |p| {
        runs.offset(p.run) + p.start * size_of::<T>()
    })
}

/// The bytes of a piece when one chunk holds them contiguously.
fn in_place<'c, T: Element>(
    view: &ChunkedView<'_, T>,
    cache: &'c Cache<'_>,
    offset: usize,
    len: usize,
) -> Option<&'c [u8]> {
    let mut one = None;
    let mut steps = 0;
    view.steps(offset, len, |s| {
        steps += 1;
        one = Some(s);
    });
    let s = one.filter(|s| steps == 1 && (s.stride == 1 || s.len == 1))?;
    let size = size_of::<T>();
    cache.get(s.chunk)?.get(s.at * size..(s.at + s.len) * size)
}

/// Walks the segments of the chunked `view` batch by batch, with the chunks each
/// batch touches loaded (in parallel) into the cache handed to `batch`.
fn for_each_batch<'s, T: Element>(
    view: &ChunkedView<'s, T>,
    segs: &Segments,
    mut batch: impl FnMut(std::ops::Range<usize>, &Cache<'s>) -> Result<()>,
) -> Result<()> {
    let ctx = Exec::current();
    let mut cache = Cache::new();
    let n = segs.len();
    let mut start = 0;
    while start < n {
        ctx.check()?;
        let (end, ids) = next_batch(view, segs, start);
        let from = first_offset::<T>(segs, start);
        // Chunks the walk has passed go; so do the others this batch does not
        // touch when keeping them would pass the bound (they are read again
        // when the walk comes back to them).
        let crowded = cache.held.len() + ids.len() > HELD_CHUNKS;
        cache.drop_done(|id| view.chunk_end(id) <= from || (crowded && !ids.contains(&id)));
        cache.load(view, &ids)?;
        batch(start..end, &cache)?;
        start = end;
    }
    Ok(())
}

/// Calls `f` with the bytes of a piece at `offset` (`len` bytes) of the
/// chunked `view`: in place when one chunk holds them, else gathered into the
/// thread's buffer. Every chunk of the piece must be in `cache`.
fn with_piece<T: Element, R>(
    view: &ChunkedView<'_, T>,
    cache: &Cache<'_>,
    offset: usize,
    len: usize,
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    if let Some(bytes) = in_place(view, cache, offset, len) {
        return f(bytes);
    }
    with_buffer(len, |buf| {
        let size = size_of::<T>();
        steps_ahead(view, cache, offset, len, |s, src| {
            s.copy_out(src, 0, &mut buf[s.pos * size..(s.pos + s.len) * size], size);
        });
        f(buf)
    })
}

/// Bytes of the next step's start that [`steps_ahead`] asks the CPU to load
/// while the current step is copied: a whole 1024x1024-chunk row of float64.
const AHEAD: usize = 8 << 10;

/// Calls `f` with every step of the piece at `offset` (`len` bytes) of the
/// chunked `view` (as [`ChunkedView::steps`] walks it) and the bytes of the
/// step's chunk, one step late: before `f` copies a step, the CPU is asked to
/// load the first [`AHEAD`] bytes of the next one. The steps of a piece jump
/// from chunk to chunk (a row of the array crosses every chunk of its band),
/// and the hardware prefetchers start afresh on each jump; asked ahead, the
/// next run's lines are on their way while this one is copied. Measured on a
/// 1 GiB uncompressed Zarr store of float64 (1024x1024 chunks, rows of 11585
/// values): the sum went from 56 to 49.5 ms (512x512 chunks: 73 to 57 ms; the
/// `.npy`: 47 ms); two steps ahead, or 2 KiB of each, gave less. Chunks not in `cache` are skipped (in release:
/// every batch loads its chunks first).
fn steps_ahead<'c, T: Element>(
    view: &ChunkedView<'_, T>,
    cache: &'c Cache<'_>,
    offset: usize,
    len: usize,
    mut f: impl FnMut(Step, &'c [u8]),
) {
    let size = size_of::<T>();
    let mut pending: Option<(Step, &'c [u8])> = None;
    view.steps(offset, len, |s| {
        let Some(src) = cache.get(s.chunk) else {
            debug_assert!(false, "the batch loaded every chunk of its pieces");
            return;
        };
        if s.stride == 1 {
            let start = src.get(s.at * size..).unwrap_or_default();
            prefetch::lines(&start[..start.len().min(s.len * size).min(AHEAD)]);
        }
        if let Some((p, p_src)) = pending.replace((s, src)) {
            f(p, p_src);
        }
    });
    if let Some((p, p_src)) = pending {
        f(p, p_src);
    }
}

/// Bytes a reduction gathers at a time from the chunks of a piece that no one
/// chunk holds contiguously, before the kernel reads them: they stay in L1
/// between the copy and the kernel (a whole 1 MiB piece went to L2 and back).
/// A multiple of [`BLOCK`] elements of any size, so that the kernel sees the
/// same blocks as over the whole piece (as `pread` batches give it too).
const GATHER_STEP: usize = 16 << 10;
const _: () = assert!(GATHER_STEP.is_multiple_of(16 * BLOCK));

/// Feeds the piece at `offset` (`len` bytes) of the chunked `view` to `kernel`:
/// in place when one chunk holds it contiguously, else gathered
/// [`GATHER_STEP`] bytes at a time into the thread's buffer, but for the whole
/// [`BLOCK`]s of the piece that one chunk holds contiguously, which go in place
/// (rows of chunks whose width is a multiple of `BLOCK`, in an array whose rows
/// are too). Every chunk of the piece must be in `cache`.
fn feed_piece<T: Elem, K: Kernel<T::Work>>(
    view: &ChunkedView<'_, T>,
    cache: &Cache<'_>,
    (kernel, acc): (&K, &mut K::Acc),
    (offset, len): (usize, usize),
    at: At<'_>,
) {
    let order = view.dtype().byte_order();
    if let Some(bytes) = in_place(view, cache, offset, len) {
        feed::<T, K>(kernel, acc, bytes, order, at);
        return;
    }
    let size = size_of::<T>();
    with_buffer(GATHER_STEP.min(len), |buf| {
        // Bytes of `buf` filled, elements fed before them (whole blocks).
        let (mut filled, mut fed) = (0_usize, 0_usize);
        steps_ahead(view, cache, offset, len, |s, src| {
            let mut done = 0;
            while done < s.len {
                // At a block boundary of the piece, the whole blocks of a
                // contiguous step go to the kernel in place: it then sees the
                // same blocks as over the whole piece.
                let whole = (s.len - done) / BLOCK * BLOCK;
                if s.stride == 1 && whole > 0 && filled.is_multiple_of(BLOCK * size) {
                    if filled > 0 {
                        feed::<T, K>(kernel, acc, &buf[..filled], order, at.advanced(fed));
                        (filled, fed) = (0, fed + filled / size);
                    }
                    let from = (s.at + done) * size;
                    if let Some(run) = src.get(from..from + whole * size) {
                        feed::<T, K>(kernel, acc, run, order, at.advanced(fed));
                        (done, fed) = (done + whole, fed + whole);
                        continue;
                    }
                }
                let n = (s.len - done).min((buf.len() - filled) / size);
                s.copy_out(src, done, &mut buf[filled..filled + n * size], size);
                (filled, done) = (filled + n * size, done + n);
                if filled == buf.len() {
                    feed::<T, K>(kernel, acc, buf, order, at.advanced(fed));
                    (filled, fed) = (0, fed + buf.len() / size);
                }
            }
        });
        if filled > 0 {
            feed::<T, K>(kernel, acc, &buf[..filled], order, at.advanced(fed));
        }
    });
}

/// Chunks of at least this many bytes are streamed by a pass over a whole
/// array when the source can ([`ChunkSource::stream_chunk`]): a decoder and its
/// window (well under a MiB for zstd level 1) then stand in for each chunk of a
/// band, which pays off only for chunks several times that size.
///
/// [`ChunkSource::stream_chunk`]: mmarray_core::chunk::ChunkSource::stream_chunk
const STREAM_MIN: usize = 2 << 20;
/// Bytes of the virtual region per batch of a streamed pass: the chunks' parts
/// a batch reads are decoded straight into one of two buffers of this size.
/// Against 4 MiB on a 2 GiB store (zstd 1, 1024x1024 chunks; 2 threads), 2 MiB
/// made sums 1.03x and stats 1.09x faster, 1 MiB sums 1.05x and stats 0.98x.
const STREAM_BATCH: usize = 2 << 20;
/// Bytes read per step when a stream skips or finishes the rest of a chunk.
const STREAM_STEP: usize = 64 << 10;

/// How a chunk of a streamed pass is held.
enum Held<'s> {
    /// Decoded as the walk goes: `read` bytes of its buffer handed out so far.
    Stream {
        stream: Box<dyn ChunkStream + 's>,
        read: usize,
    },
    /// Whole (a chunk the source does not stream, e.g. a missing one).
    Whole(ChunkBytes<'s>),
}

impl Held<'_> {
    /// Reads bytes `[at, at + dst.len())` of the chunk's buffer into `dst`;
    /// a stream passes over the bytes before `at` (which never goes back).
    fn read_at(&mut self, at: usize, dst: &mut [u8]) -> std::result::Result<(), StepError> {
        match self {
            Held::Whole(bytes) => {
                let src = bytes.get(at..at + dst.len()).ok_or(StepError::OutOfOrder)?;
                dst.copy_from_slice(src);
            }
            Held::Stream { stream, read } => {
                if at < *read {
                    return Err(StepError::OutOfOrder);
                }
                skip(stream.as_mut(), at - *read)?;
                stream.read_next(dst)?;
                *read = at + dst.len();
            }
        }
        Ok(())
    }

    /// Reads the rest of the chunk's buffer (`total` bytes), checks that the
    /// stream ends there, and gives back the buffer of a whole chunk for reuse.
    fn finish(self, total: usize) -> Result<Option<Vec<u8>>> {
        match self {
            Held::Stream { mut stream, read } => {
                skip(stream.as_mut(), total.saturating_sub(read))?;
                stream.finish()?;
                Ok(None)
            }
            Held::Whole(ChunkBytes::Owned(v)) => Ok(Some(v)),
            Held::Whole(_) => Ok(None),
        }
    }
}

/// Why a streamed pass could not read a step: the source's error, or bytes the
/// walk did not hold (a chunk read out of order; not reached by views that
/// [`streams`]).
enum StepError {
    Source(mmarray_core::Error),
    OutOfOrder,
}
impl From<mmarray_core::Error> for StepError {
    fn from(e: mmarray_core::Error) -> StepError {
        StepError::Source(e)
    }
}

/// Reads and drops the next `n` bytes of `stream` (through the thread's buffer).
fn skip(stream: &mut (dyn ChunkStream + '_), mut n: usize) -> mmarray_core::Result<()> {
    while n > 0 {
        let k = n.min(STREAM_STEP);
        with_buffer(k, |buf| stream.read_next(buf))?;
        n -= k;
    }
    Ok(())
}

/// Whether a reduction over `view` streams its chunks: a view of every element
/// of the array in one run (walked in increasing order of the virtual region,
/// so each chunk's buffer front to back when chunks have the array's order), of
/// a source that streams chunks of at least [`STREAM_MIN`] bytes.
fn streams<T: Element>(view: &ChunkedView<'_, T>) -> bool {
    let array = view.array();
    let source = array.source();
    let runs = view.runs();
    source.can_stream()
        && source.in_order().is_none()
        && array.order() == source.chunk_order()
        && array.grid().chunk_len() * size_of::<T>() >= STREAM_MIN
        && runs.len() == 1
        && runs.run_len() == array.len()
}

/// The chunks of a streamed pass: each a decoder (or a whole chunk), opened when
/// the walk first reads it and finished once the walk has passed it.
struct Streamer<'v, 's, T> {
    view: &'v ChunkedView<'s, T>,
    held: HashMap<usize, Held<'s>>,
    /// Buffers of finished whole chunks, for reuse.
    spare: Vec<Vec<u8>>,
}

impl<'s, T: Element> Streamer<'_, 's, T> {
    /// Decodes bytes `[from, from + region.len())` of the virtual region into
    /// `region`: finishes the chunks the walk has passed, opens the new ones,
    /// and reads each chunk's parts straight into `region` (in parallel, one
    /// chunk per task).
    fn load(&mut self, from: usize, region: &mut [u8]) -> Result<()> {
        let view = self.view;
        let array = view.array();
        let size = size_of::<T>();
        let passed: Vec<usize> = self
            .held
            .keys()
            .copied()
            .filter(|&id| view.chunk_end(id) <= from)
            .collect();
        let done: Vec<Held<'s>> = passed
            .iter()
            .filter_map(|id| self.held.remove(id))
            .collect();
        self.finish_all(done)?;
        // The region's steps, each with its part of the buffer, by chunk.
        let mut steps: BTreeMap<usize, Vec<(Step, &mut [u8])>> = BTreeMap::new();
        let len = region.len();
        let mut rest = region;
        view.steps(from, len, |s| {
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(s.len * size);
            rest = tail;
            steps.entry(s.chunk).or_default().push((s, part));
        });
        let fresh: Vec<(usize, Vec<u8>)> = steps
            .keys()
            .filter(|id| !self.held.contains_key(id))
            .map(|&id| (id, self.spare.pop().unwrap_or_default()))
            .collect();
        let opened: Vec<(usize, Held<'s>)> = fresh
            .into_par_iter()
            .map(|(id, buf)| {
                let h = match array.stream_chunk(id)? {
                    Some(stream) => Held::Stream { stream, read: 0 },
                    None => Held::Whole(array.read_chunk(id, buf)?),
                };
                Ok((id, h))
            })
            .collect::<Result<_>>()?;
        self.held.extend(opened);
        self.held
            .iter_mut()
            .filter_map(|(id, h)| steps.remove(id).map(|s| (*id, h, s)))
            .collect::<Vec<_>>()
            .into_par_iter()
            .try_for_each(|(id, h, parts)| {
                for (s, dst) in parts {
                    read_step(h, s, size, dst).map_err(|e| match e {
                        StepError::Source(e) => e,
                        StepError::OutOfOrder => mmarray_core::Error::Chunk {
                            store: array.source().name(),
                            chunk: format!("number {id}"),
                            reason: "read out of order by a streamed pass".to_owned(),
                        },
                    })?;
                }
                Ok::<(), mmarray_core::Error>(())
            })?;
        Ok(())
    }

    /// Finishes the chunks `done` (in parallel; see [`Held::finish`]) and
    /// keeps their buffers.
    fn finish_all(&mut self, done: Vec<Held<'s>>) -> Result<()> {
        let total = self.view.array().grid().chunk_len() * size_of::<T>();
        let bufs: Vec<Option<Vec<u8>>> = done
            .into_par_iter()
            .map(|h| h.finish(total))
            .collect::<Result<_>>()?;
        self.spare.extend(bufs.into_iter().flatten());
        Ok(())
    }
}

/// Segments `range` of a streamed pass, whose `len` bytes of the virtual
/// region from byte `from` are decoded together.
struct Batch {
    range: std::ops::Range<usize>,
    from: usize,
    len: usize,
}

/// [`reduce_chunked`] over a view that [`streams`]: the same segments in the
/// same batches (of [`STREAM_BATCH`] bytes). Each batch's bytes of the virtual
/// region are decoded straight into one of two buffers while the kernel runs
/// over the other (the previous batch), both in parallel; memory is the two
/// buffers and a decoder per chunk of a band, not the band's chunks.
fn reduce_streamed<T: Elem, K: Kernel<T::Work>>(
    view: &ChunkedView<'_, T>,
    kernel: &K,
    segs: &Segments,
) -> Result<K::Acc> {
    let ctx = Exec::current();
    let size = size_of::<T>();
    let runs = segs.runs();
    let order = view.dtype().byte_order();
    let per_batch = (STREAM_BATCH / SEGMENT_BYTES).max(1);
    let mut chunks = Streamer {
        view,
        held: HashMap::new(),
        spare: Vec::new(),
    };
    // The batches' bytes (`u64` for alignment): one filled, one read.
    let mut regions: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    let run_kernel = |b: &Batch, region: &[u64]| -> Vec<K::Acc> {
        let bytes = &bytemuck::cast_slice::<u64, u8>(region)[..b.len];
        b.range
            .clone()
            .into_par_iter()
            .map(|i| {
                let mut gather = Gather::<T, K>::new(kernel, order);
                let mut done = 0;
                for p in segs.pieces(i) {
                    let at = At {
                        runs,
                        run: p.run,
                        start: p.start,
                    };
                    let offset = runs.offset(p.run) + p.start * size - b.from;
                    let piece = &bytes[offset..offset + p.len * size];
                    gather.piece(piece, at);
                    done += piece.len();
                }
                ctx.advance(done);
                gather.finish()
            })
            .collect()
    };
    let mut total = kernel.init();
    let n = segs.len();
    let mut start = 0;
    let mut pending: Option<Batch> = None;
    for turn in 0.. {
        ctx.check()?;
        let next = (start < n).then(|| {
            let end = (start + per_batch).min(n);
            let from = first_offset::<T>(segs, start);
            let to = segs
                .pieces(end - 1)
                .last()
                .map_or(from, |p| runs.offset(p.run) + (p.start + p.len) * size);
            Batch {
                range: start..end,
                from,
                len: to.saturating_sub(from),
            }
        });
        if next.is_none() && pending.is_none() {
            break;
        }
        let [r0, r1] = &mut regions;
        let (fill, read) = if turn % 2 == 0 {
            (r0, &*r1)
        } else {
            (r1, &*r0)
        };
        let (loaded, partials) = rayon::join(
            || match &next {
                Some(b) => {
                    if fill.len() * 8 < b.len {
                        fill.resize(b.len.div_ceil(8), 0);
                    }
                    let region = &mut bytemuck::cast_slice_mut::<u64, u8>(fill)[..b.len];
                    chunks.load(b.from, region)
                }
                None => Ok(()),
            },
            || pending.as_ref().map(|b| run_kernel(b, read)),
        );
        for p in partials.into_iter().flatten() {
            kernel.merge(&mut total, p);
        }
        loaded?;
        start = next.as_ref().map_or(n, |b| b.range.end);
        pending = next;
    }
    let left: Vec<Held<'_>> = chunks.held.drain().map(|(_, h)| h).collect();
    chunks.finish_all(left)?;
    Ok(total)
}

/// Reads the elements of step `s` (of `size` bytes each) from its chunk `held`
/// into `dst`.
fn read_step(
    held: &mut Held<'_>,
    s: Step,
    size: usize,
    dst: &mut [u8],
) -> std::result::Result<(), StepError> {
    if s.stride == 1 || s.len == 1 {
        return held.read_at(s.at * size, dst);
    }
    for (j, d) in dst.chunks_exact_mut(size).enumerate() {
        held.read_at((s.at + j * s.stride) * size, d)?;
    }
    Ok(())
}

/// Runs `kernel` over every element of the chunked `view`, in parallel; the same
/// result, bit for bit, as over the same view of a contiguous array.
pub(crate) fn reduce_chunked<T: Elem, K: Kernel<T::Work>>(
    view: &ChunkedView<'_, T>,
    kernel: &K,
) -> Result<K::Acc> {
    let ctx = Exec::current();
    let size = size_of::<T>();
    let segs = view.segments(SEGMENT_BYTES / size);
    if streams(view) {
        return reduce_streamed(view, kernel, &segs);
    }
    let runs = segs.runs();
    let order = view.dtype().byte_order();
    let mut total = kernel.init();
    for_each_batch(view, &segs, |range, cache| {
        let partials: Vec<K::Acc> = range
            .into_par_iter()
            .map(|i| {
                let mut gather = Gather::<T, K>::new(kernel, order);
                let mut done = 0;
                for p in segs.pieces(i) {
                    let at = At {
                        runs,
                        run: p.run,
                        start: p.start,
                    };
                    let (offset, len) = (runs.offset(p.run) + p.start * size, p.len * size);
                    if p.len >= BLOCK {
                        feed_piece(view, cache, (kernel, gather.acc()), (offset, len), at);
                    } else {
                        // Short pieces (strided views) are gathered into blocks,
                        // as over a mapping.
                        with_piece(view, cache, offset, len, |b| gather.piece(b, at));
                    }
                    done += len;
                }
                ctx.advance(done);
                gather.finish()
            })
            .collect();
        for p in partials {
            kernel.merge(&mut total, p);
        }
        Ok(())
    })?;
    Ok(total)
}

/// Copies the elements of the chunked `view` into `dst`, a contiguous array of
/// the view's shape in `dst_order` with dtype `to`, converting as numpy's
/// `astype` does; in parallel when the view's memory order is `dst_order`
/// (whole arrays and slices with positive steps), piece by piece on the calling
/// thread otherwise.
pub(crate) fn copy_chunked<T: Element>(
    view: &ChunkedView<'_, T>,
    dst: &mut [u8],
    to: DType,
    dst_order: Order,
) -> Result<()> {
    let ctx = Exec::current();
    let from = view.dtype();
    let (si, di) = (from.itemsize(), to.itemsize());
    let total = view.len();
    let segs = view.segments((SEGMENT_BYTES / si.max(di)).max(1));
    let runs = segs.runs();
    if !runs.is_linear(dst_order) {
        let strides = mmarray_core::contiguous_strides(view.shape(), di, dst_order);
        let mut index = vec![0usize; view.ndim()];
        let mut converted = Vec::new();
        return view
            .for_each_piece((SEGMENT_BYTES / si.max(di)).max(1), |runs, p, bytes| {
                converted.resize(p.len * di, 0);
                convert(bytes, from, &mut converted, to)?;
                for (j, item) in converted.chunks_exact(di).enumerate() {
                    runs.multi_index(p.run, p.start + j, &mut index);
                    let at: isize = index
                        .iter()
                        .zip(&strides)
                        .map(|(&i, &s)| i as isize * s)
                        .sum();
                    let at = at.unsigned_abs();
                    dst[at..at + di].copy_from_slice(item);
                }
                ctx.advance(bytes.len());
                Ok(())
            })
            .map_err(Into::into);
    }
    let mut rest = dst;
    for_each_batch(view, &segs, |range, cache| {
        // Linear: the segments cover consecutive flat ranges of the output.
        let mut parts = Vec::with_capacity(range.len());
        for i in range {
            let n: usize = segs.pieces(i).map(|p| p.len).sum();
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(n * di);
            rest = tail;
            parts.push((i, part));
        }
        parts.into_par_iter().try_for_each(|(i, part)| {
            let mut out = 0;
            for p in segs.pieces(i) {
                let flat = p.run * runs.run_len() + p.start;
                let (offset, len) = (runs.offset(p.run) + p.start * si, p.len * si);
                let d = &mut part[out..out + p.len * di];
                with_piece(view, cache, offset, len, |bytes| {
                    convert_part(bytes, from, d, to, flat == 0, flat + p.len == total)
                })?;
                out += p.len * di;
                ctx.advance(len);
            }
            Ok(())
        })
    })
}

/// Calls `f` for every piece of the chunked `view` in parallel, with the run
/// layout, the piece and its bytes (in the chunks' byte order, holding the old
/// values), and stores the chunks it changed; the same bytes as
/// [`for_each_piece_mut`](crate::engine::for_each_piece_mut) over a contiguous
/// array of the same data.
pub(crate) fn write_chunked<T: Element>(
    view: &ChunkedViewMut<'_, T>,
    f: &(dyn Fn(&Runs, Piece, &mut [u8]) + Sync),
) -> Result<()> {
    let ctx = Exec::current();
    let size = size_of::<T>();
    let read = view.view();
    let array = read.array();
    let source = array.source();
    let grid = array.grid();
    let segs = read.segments(SEGMENT_BYTES / size);
    let runs = segs.runs();
    let mut cache = Cache::new();
    // The chunks being written: taken out of the cache while they are changed.
    let mut open: HashMap<usize, Mutex<Vec<u8>>> = HashMap::new();
    let store =
        |open: &mut HashMap<usize, Mutex<Vec<u8>>>, ids: Vec<usize>| -> Result<Vec<Vec<u8>>> {
            let chunks: Vec<(usize, Vec<u8>)> = ids
                .into_iter()
                .filter_map(|id| {
                    open.remove(&id)
                        .map(|m| (id, m.into_inner().unwrap_or_else(PoisonError::into_inner)))
                })
                .collect();
            chunks
                .into_par_iter()
                .map(|(id, bytes)| {
                    source.write_chunk(&grid.coords(id), &bytes)?;
                    Ok(bytes)
                })
                .collect()
        };
    let n = segs.len();
    let mut start = 0;
    while start < n {
        // Stopped: the chunks changed so far are stored below.
        if ctx.stopped() {
            break;
        }
        let (end, ids) = next_batch(read, &segs, start);
        let from = first_offset::<T>(&segs, start);
        // Chunks the walk has passed are stored; so are the others this batch
        // does not touch when keeping them open would pass the bound (they are
        // read again, with these changes, when the walk comes back to them).
        let crowded = open.len() + ids.len() > HELD_CHUNKS;
        let done: Vec<usize> = open
            .keys()
            .copied()
            .filter(|&id| read.chunk_end(id) <= from || (crowded && !ids.contains(&id)))
            .collect();
        cache.spare.extend(store(&mut open, done)?);
        let fresh: BTreeSet<usize> = ids
            .iter()
            .copied()
            .filter(|id| !open.contains_key(id))
            .collect();
        cache.load(read, &fresh)?;
        for id in fresh {
            let bytes = match cache.held.remove(&id) {
                Some(ChunkBytes::Owned(v)) => v,
                Some(ChunkBytes::Borrowed(b)) => b.to_vec(),
                Some(ChunkBytes::Mapped(m)) => m.to_vec(),
                None => continue,
            };
            open.insert(id, Mutex::new(bytes));
        }
        let open_ref = &open;
        let lock = |id: usize, g: &mut dyn FnMut(&mut [u8])| -> bool {
            let Some(m) = open_ref.get(&id) else {
                return false;
            };
            let mut guard = m.lock().unwrap_or_else(PoisonError::into_inner);
            g(&mut guard);
            true
        };
        (start..end).into_par_iter().for_each(|i| {
            let mut written = 0;
            for p in segs.pieces(i) {
                let (offset, len) = (runs.offset(p.run) + p.start * size, p.len * size);
                with_buffer(len, |buf| {
                    // Old values first (f may read them, as map_in_place does).
                    read.steps(offset, len, |s| {
                        lock(s.chunk, &mut |chunk: &mut [u8]| {
                            let dst = &mut buf[s.pos * size..(s.pos + s.len) * size];
                            for (j, d) in dst.chunks_exact_mut(size).enumerate() {
                                let at = (s.at + j * s.stride) * size;
                                d.copy_from_slice(&chunk[at..at + size]);
                            }
                        });
                    });
                    f(runs, p, buf);
                    view.scatter(offset, buf, lock);
                });
                written += len;
            }
            ctx.advance(written);
        });
        start = end;
    }
    let rest: Vec<usize> = open.keys().copied().collect();
    store(&mut open, rest)?;
    ctx.check()
}
