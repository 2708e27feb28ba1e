//! The chunk engine: a view cut into ~1 MiB segments, processed on rayon,
//! non-native data decoded block by block into stack buffers, partial results
//! combined in segment order so that results do not depend on the thread count.

use std::mem::size_of;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mmarray_core::{
    View, ViewMut,
    lowlevel::{Piece, Runs, Segments, SegmentsMut},
};
use mmarray_dtype::{ByteOrder, Element, decode_prefix};
use rayon::prelude::*;

use crate::exec::{Access, Exec};
use crate::half::{F16c, Halves};
use crate::num::{Elem, Num};

/// Bytes per segment, the unit of parallel work.
pub(crate) const SEGMENT_BYTES: usize = 1 << 20;
/// Elements decoded per step into stack buffers (fits L1 for every type).
pub(crate) const BLOCK: usize = 1024;
/// Segments processed per parallel batch: bounds the memory for partial results (and is
/// the unit of the [`Access::Auto`] timing and of the stop checks).
pub(crate) const BATCH: usize = 64;

/// Where a block of values is: element `start` of run `run` is `values[0]`.
#[derive(Clone, Copy)]
pub(crate) struct At<'r> {
    pub(crate) runs: &'r Runs,
    pub(crate) run: usize,
    pub(crate) start: usize,
}

impl At<'_> {
    /// The logical C-order index of `values[j]`; `values` may go on past the end
    /// of run `run` into the next runs (a [`Gather`]ed block).
    pub(crate) fn c_index(&self, j: usize) -> usize {
        let k = self.start + j;
        let len = self.runs.run_len().max(1);
        self.runs.c_index(self.run + k / len, k % len)
    }

    /// Whether C indices increase with `j` (then the first match is the smallest index).
    pub(crate) fn increasing(&self) -> bool {
        self.runs.is_c_linear()
    }

    pub(crate) fn advanced(self, by: usize) -> Self {
        At {
            start: self.start + by,
            ..self
        }
    }
}

/// A reduction over blocks of values.
pub(crate) trait Kernel<W: Num>: Sync {
    /// Partial result.
    type Acc: Send;
    /// The partial result of no values.
    fn init(&self) -> Self::Acc;
    /// Adds a block of values (any length; blocks of one segment come in order).
    fn block(&self, acc: &mut Self::Acc, values: &[W], at: At<'_>);
    /// Appends `next` (the partial result of later values) to `acc`.
    fn merge(&self, acc: &mut Self::Acc, next: Self::Acc);
    /// Adds float16 values without widening them to blocks first, when the
    /// kernel can (with the same result as widening them and calling
    /// [`Kernel::block`]); returns whether it did. When it returns `false` it
    /// has added nothing, and the engine widens the values.
    #[inline(always)]
    fn halves(&self, acc: &mut Self::Acc, halves: &Halves<'_>) -> bool {
        let _ = (acc, halves);
        false
    }
}

/// Feeds the bytes of one piece to `kernel`, decoding and widening where needed;
/// with the kernels compiled for AVX2 when the CPU has it (the same results: the
/// kernels fix the order of every operation, and neither build contracts
/// multiplications and additions). With F16C, float16 goes to the kernel's
/// [`Kernel::halves`] first (the same results too: see [`crate::half`]).
pub(crate) fn feed<T: Elem, K: Kernel<T::Work>>(
    kernel: &K,
    acc: &mut K::Acc,
    bytes: &[u8],
    order: ByteOrder,
    at: At<'_>,
) {
    if let Some(f16c) = F16c::detect() {
        // Only float16 widens.
        if T::WIDEN && kernel.halves(acc, &Halves::new(bytes, order, f16c)) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `f16c` proves that the CPU has AVX2 and F16C.
            unsafe { feed_avx2::<T, K>(kernel, acc, bytes, order, at) };
            return;
        }
    }
    feed_any::<T, K>(kernel, acc, bytes, order, at);
}

/// [`feed_any`] compiled for AVX2 and F16C.
///
/// # Safety
///
/// The CPU must have AVX2 and F16C.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,f16c")]
unsafe fn feed_avx2<T: Elem, K: Kernel<T::Work>>(
    kernel: &K,
    acc: &mut K::Acc,
    bytes: &[u8],
    order: ByteOrder,
    at: At<'_>,
) {
    feed_any::<T, K>(kernel, acc, bytes, order, at);
}

/// The body of [`feed`]: inlined (with the kernels) into each build of it.
#[inline(always)]
fn feed_any<T: Elem, K: Kernel<T::Work>>(
    kernel: &K,
    acc: &mut K::Acc,
    bytes: &[u8],
    order: ByteOrder,
    at: At<'_>,
) {
    if !T::WIDEN
        && order.is_native()
        && let Ok(values) = bytemuck::try_cast_slice::<u8, T::Work>(bytes)
    {
        kernel.block(acc, values, at);
        return;
    }
    // Short pieces (strided views) use small buffers: zeroing 2 x 16 KiB per
    // element would dominate.
    if bytes.len() <= SMALL * size_of::<T>() {
        decode_blocks::<T, K, SMALL>(kernel, acc, bytes, order, at);
    } else {
        decode_blocks::<T, K, BLOCK>(kernel, acc, bytes, order, at);
    }
}

/// Elements of the small decode buffers.
pub(crate) const SMALL: usize = 16;

/// Bytes of [`BLOCK`] elements of the widest type (complex128).
const BLOCK_BYTES: usize = BLOCK * 16;

/// Feeds the pieces of one segment, in order, to a kernel: pieces of at least
/// [`BLOCK`] elements as they are, shorter ones (a strided view's are one
/// element each) gathered into blocks of `BLOCK` elements first, cut at the same
/// elements of the segment whatever the thread count. The kernel then sees
/// blocks, not single values: a call per element made a strided sum 25x slower
/// than a contiguous one, and `var`'s one-value blocks were Welford's updates,
/// far less accurate than its blocks. A view whose pieces are all short gives
/// the bits of its contiguous copy (whose segments are the same elements).
pub(crate) struct Gather<'r, 'k, T: Elem, K: Kernel<T::Work>> {
    kernel: &'k K,
    acc: K::Acc,
    order: ByteOrder,
    /// Gathered bytes (`u64` for alignment; allocated at the first short
    /// piece), `filled` of them; `first` is where the first is.
    buf: Vec<u64>,
    filled: usize,
    first: Option<At<'r>>,
    _t: std::marker::PhantomData<T>,
}

impl<'r, 'k, T: Elem, K: Kernel<T::Work>> Gather<'r, 'k, T, K> {
    /// A segment's start: the kernel's partial result of no values.
    pub(crate) fn new(kernel: &'k K, order: ByteOrder) -> Self {
        Gather {
            kernel,
            acc: kernel.init(),
            order,
            buf: Vec::new(),
            filled: 0,
            first: None,
            _t: std::marker::PhantomData,
        }
    }

    /// Adds the next piece: its bytes (in `order`), whose first element is at `at`.
    pub(crate) fn piece(&mut self, mut bytes: &[u8], mut at: At<'r>) {
        let size = size_of::<T>();
        if bytes.len() >= BLOCK * size {
            let (kernel, order) = (self.kernel, self.order);
            feed::<T, K>(kernel, self.acc(), bytes, order, at);
            return;
        }
        let block = BLOCK * size;
        if self.buf.is_empty() {
            self.buf = vec![0; BLOCK_BYTES / 8];
        }
        if bytes.len() == size {
            // One element (a strided view's piece): a copy of constant length.
            if self.filled == 0 {
                self.first = Some(at);
            }
            let buf: &mut [u8] = bytemuck::cast_slice_mut(self.buf.as_mut_slice());
            buf[self.filled..self.filled + size].copy_from_slice(&bytes[..size]);
            self.filled += size;
            if self.filled == block {
                self.flush();
            }
            return;
        }
        while !bytes.is_empty() {
            if self.filled == 0 {
                self.first = Some(at);
            }
            let n = (block - self.filled).min(bytes.len());
            let buf: &mut [u8] = bytemuck::cast_slice_mut(self.buf.as_mut_slice());
            buf[self.filled..self.filled + n].copy_from_slice(&bytes[..n]);
            self.filled += n;
            if self.filled == block {
                self.flush();
            }
            at = at.advanced(n / size);
            bytes = &bytes[n..];
        }
    }

    /// The partial result so far, with the gathered values added: for a caller
    /// that feeds a long piece itself.
    pub(crate) fn acc(&mut self) -> &mut K::Acc {
        self.flush();
        &mut self.acc
    }

    fn flush(&mut self) {
        if let Some(at) = self.first.take() {
            let buf: &[u8] = bytemuck::cast_slice(self.buf.as_slice());
            feed::<T, K>(
                self.kernel,
                &mut self.acc,
                &buf[..self.filled],
                self.order,
                at,
            );
            self.filled = 0;
        }
    }

    /// The segment's partial result.
    pub(crate) fn finish(mut self) -> K::Acc {
        self.flush();
        self.acc
    }
}

/// Decodes (and widens) `bytes` `N` elements at a time into stack buffers and
/// feeds them to `kernel`.
#[inline(always)]
fn decode_blocks<T: Elem, K: Kernel<T::Work>, const N: usize>(
    kernel: &K,
    acc: &mut K::Acc,
    bytes: &[u8],
    order: ByteOrder,
    at: At<'_>,
) {
    let mut raw = [T::zeroed(); N];
    let mut work = [<T::Work as bytemuck::Zeroable>::zeroed(); N];
    for (b, chunk) in bytes.chunks(N * size_of::<T>()).enumerate() {
        let n = chunk.len() / size_of::<T>();
        if T::WIDEN {
            let src = match bytemuck::try_cast_slice::<u8, T>(chunk) {
                Ok(native) if order.is_native() => native,
                _ => {
                    decode_prefix(chunk, order, &mut raw[..n]);
                    &raw[..n]
                }
            };
            T::widen(src, &mut work[..n]);
        } else {
            decode_prefix(chunk, order, &mut work[..n]);
        }
        kernel.block(acc, &work[..n], at.advanced(b * N));
    }
}

/// Pieces at least this long are read from the file (when the view is
/// file-backed) rather than through the mapping.
const READ_MIN: usize = 64 << 10;
/// Bytes per read into the per-thread buffer: the buffer stays in L2 between
/// the copy and the kernel.
const READ_CHUNK: usize = 256 << 10;

thread_local! {
    /// The per-thread read buffer (`u64` for alignment), allocated on first use.
    static READ_BUF: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Feeds `len` bytes of `view`'s region from `offset` to `kernel`, read from the
/// file chunk by chunk into the thread's buffer (see [`View::read_region`]).
fn feed_read<T: Elem, K: Kernel<T::Work>>(
    view: &View<'_, T>,
    kernel: &K,
    acc: &mut K::Acc,
    offset: usize,
    len: usize,
    at: At<'_>,
) {
    READ_BUF.with_borrow_mut(|buf| {
        if buf.is_empty() {
            buf.resize(READ_CHUNK / 8, 0);
        }
        let buf: &mut [u8] = bytemuck::cast_slice_mut(buf.as_mut_slice());
        let step = READ_CHUNK - READ_CHUNK % size_of::<T>();
        let mut done = 0;
        while done < len {
            let n = step.min(len - done);
            let chunk = &mut buf[..n];
            let read = view.read_region(offset + done, chunk);
            debug_assert!(read, "a piece is inside the view's own region");
            feed::<T, K>(
                kernel,
                acc,
                chunk,
                view.dtype().byte_order(),
                at.advanced(done / size_of::<T>()),
            );
            done += n;
        }
    });
}

/// What a reduction runs its kernel over: a whole view (in parallel segments),
/// or one contiguous piece on the calling thread (a lane of an axis reduction).
pub(crate) trait Source<T: Elem>: Sync {
    /// Runs `kernel` over every element and returns the combined result (an
    /// error when the data cannot be read, e.g. a corrupt chunk).
    fn run<K: Kernel<T::Work>>(&self, kernel: &K) -> crate::Result<K::Acc>;
}

impl<T: Elem> Source<T> for View<'_, T> {
    fn run<K: Kernel<T::Work>>(&self, kernel: &K) -> crate::Result<K::Acc> {
        reduce_view(self, kernel)
    }
}

/// One contiguous lane: `bytes` in byte order `order`, whose elements in memory
/// order are run 0 of `runs` (which gives their logical indices).
pub(crate) struct Lane<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) order: ByteOrder,
    pub(crate) runs: &'a Runs,
}

impl<T: Elem> Source<T> for Lane<'_> {
    fn run<K: Kernel<T::Work>>(&self, kernel: &K) -> crate::Result<K::Acc> {
        let mut acc = kernel.init();
        let at = At {
            runs: self.runs,
            run: 0,
            start: 0,
        };
        feed::<T, K>(kernel, &mut acc, self.bytes, self.order, at);
        Ok(acc)
    }
}

/// Runs `kernel` over every element of `view`, in parallel, and returns the
/// combined result; the same for any number of threads.
pub(crate) fn reduce_view<T: Elem, K: Kernel<T::Work>>(
    view: &View<'_, T>,
    kernel: &K,
) -> crate::Result<K::Acc> {
    let ctx = Exec::current();
    ctx.check()?;
    let segs = view.segments(SEGMENT_BYTES / size_of::<T>());
    let runs = segs.runs();
    let order = view.dtype().byte_order();
    // Segment `i`'s result and the bytes it covered.
    let one = |i: usize, read: bool| {
        let mut gather = Gather::<T, K>::new(kernel, order);
        let mut bytes_done = 0;
        if let Some(range) = segs.whole_runs(i).filter(|_| runs.run_len() < BLOCK) {
            // Short runs (a strided view's): found one from the last, gathered.
            view.for_each_run(runs, range, |run, bytes| {
                bytes_done += bytes.len();
                gather.piece(
                    bytes,
                    At {
                        runs,
                        run,
                        start: 0,
                    },
                );
            });
        } else {
            for piece in segs.pieces(i) {
                let at = At {
                    runs,
                    run: piece.run,
                    start: piece.start,
                };
                let bytes = view.piece_bytes(runs, piece);
                bytes_done += bytes.len();
                if read && bytes.len() >= READ_MIN {
                    let offset = runs.offset(piece.run) + piece.start * size_of::<T>();
                    feed_read::<T, K>(view, kernel, gather.acc(), offset, bytes.len(), at);
                } else {
                    gather.piece(bytes, at);
                }
            }
        }
        ctx.advance(bytes_done);
        (gather.finish(), bytes_done)
    };
    let mut total = kernel.init();
    let n = segs.len();
    if n <= 1 {
        let read = view.is_file_backed() && ctx.access_policy() == Access::Read;
        for i in 0..n {
            let (acc, _) = one(i, read);
            kernel.merge(&mut total, acc);
        }
        return Ok(total);
    }
    let mut chooser = Chooser::new(
        ctx.access_policy(),
        view.is_file_backed(),
        n.div_ceil(BATCH),
    );
    let mut start = 0;
    while start < n {
        ctx.check()?;
        let end = (start + BATCH).min(n);
        let cached = !chooser.auto() || batch_cached(view, &segs, start, end);
        let mut plan = chooser.next_plan(cached);
        if plan.probe > 0 && !resident(view, &segs, start, (start + plan.probe).min(end)) {
            // Data not (all) in the page cache: a few segments would time the
            // kernel's read-ahead still starting; the whole batch the other way.
            plan.probe = end - start;
        }
        let timed = chooser.timing();
        let segment = |i: usize| {
            let read = plan.reads(i - start);
            let clock = timed.then(Instant::now);
            let (acc, bytes) = one(i, read);
            (acc, read, clock.map(|c| (c.elapsed(), bytes)))
        };
        let partials = if plan.from_disk {
            in_parts(start, end, segment)
        } else {
            in_order(start, end, segment)
        };
        let mut spent = [(Duration::ZERO, 0); 2];
        for (acc, read, took) in partials {
            kernel.merge(&mut total, acc);
            if let Some((took, bytes)) = took {
                let way = &mut spent[usize::from(read)];
                way.0 += took;
                way.1 += bytes;
            }
        }
        for (read, (took, bytes)) in [false, true].into_iter().zip(spent) {
            chooser.record(read, took, bytes);
        }
        start = end;
    }
    Ok(total)
}

/// Whether the batch `start..end` of `view`'s `segs` looks to be in the page
/// cache: the first page of every [`PROBE_SEGMENTS`]th segment after its first
/// and of its last segment (a page each, so the check costs a few system calls
/// whatever the batch holds). Its first segments do not tell: those of a file
/// being read with `pread` are in memory already, read ahead (up to the
/// device's `read_ahead_kb`: 8 MiB on the machine of the benchmarks). Always
/// `true` where residency is not known (off Linux): the timing alone decides.
fn batch_cached<T: Elem>(view: &View<'_, T>, segs: &Segments, start: usize, end: usize) -> bool {
    if !cfg!(target_os = "linux") || end <= start {
        return true;
    }
    let runs = segs.runs();
    (start + PROBE_SEGMENTS..end)
        .step_by(PROBE_SEGMENTS)
        .chain([end - 1])
        .all(|i| {
            segs.pieces(i).next().is_none_or(|piece| {
                view.is_resident(runs.offset(piece.run) + piece.start * size_of::<T>(), 1)
            })
        })
}

/// Whether the bytes of segments `from..to` of `view`'s `segs` are all in memory
/// (see [`View::is_resident`]), judged over the span from their lowest byte to
/// their highest; `false` (not known) when that span is more than twice their
/// bytes, as in strided views.
fn resident<T: Elem>(view: &View<'_, T>, segs: &Segments, from: usize, to: usize) -> bool {
    let runs = segs.runs();
    let (mut lo, mut hi, mut bytes) = (usize::MAX, 0, 0);
    for piece in (from..to).flat_map(|i| segs.pieces(i)) {
        let offset = runs.offset(piece.run) + piece.start * size_of::<T>();
        let len = piece.len * size_of::<T>();
        lo = lo.min(offset);
        hi = hi.max(offset + len);
        bytes += len;
    }
    bytes == 0 || (hi - lo <= 2 * bytes && view.is_resident(lo, hi - lo))
}

/// `f(i)` for every `i` in `start..end`, on all threads of the current pool, returned in the
/// order of `i`. The threads take the indices in increasing order, one at a time, so that
/// together they walk memory front to back: the way for data in the page cache, and for a
/// mapping's page faults, whose read-around then keeps ahead of both threads (split in halves,
/// a mapped cold 1 GiB pass took 0.95-1.13 s against 0.51-0.61 s). Data read from the disk
/// with `pread` takes [`in_parts`] instead.
pub(crate) fn in_order<A: Send>(start: usize, end: usize, f: impl Fn(usize) -> A + Sync) -> Vec<A> {
    let next = AtomicUsize::new(start);
    let workers = rayon::current_num_threads().clamp(1, end.saturating_sub(start).max(1));
    let mut done: Vec<(usize, A)> = (0..workers)
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                mine.push((i, f(i)));
            }
            mine
        })
        .collect();
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, a)| a).collect()
}

/// `f(i)` for every `i` in `start..end`, on all threads of the current pool, returned in the
/// order of `i`. Each thread takes one contiguous part of the range, front to back: the way
/// for segments read from the disk with `pread`, where each thread is then a sequential
/// stream of its own. The threads taking the segments in turn ([`in_order`]) make the
/// kernel's read-ahead see one stream read by two. On the benchmarks' machine (a virtual
/// disk whose reads fall at times from 4-5 GB/s to about 0.8 GB/s for seconds, numpy's too),
/// alternating cold 4 GiB sums took 0.93-4.6 s in turn (median 1.5 s, 17 runs, 8 slumped)
/// and 0.94-2.2 s in parts (median 1.07 s, 26 runs, 3 slumped).
pub(crate) fn in_parts<A: Send>(start: usize, end: usize, f: impl Fn(usize) -> A + Sync) -> Vec<A> {
    let len = end.saturating_sub(start);
    let workers = rayon::current_num_threads().clamp(1, len.max(1));
    let parts: Vec<Vec<A>> = (0..workers)
        .into_par_iter()
        .map(|w| {
            (start + w * len / workers..start + (w + 1) * len / workers)
                .map(&f)
                .collect()
        })
        .collect();
    parts.into_iter().flatten().collect()
}

/// How a batch reads its segments: all with `pread` (`read`) or through the
/// mapping, except its first `probe` segments, which time the other way (all of
/// them when `probe` is the batch's length); `from_disk` when the batch is not
/// in the page cache (read with `pread`, in one part per thread: [`in_parts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    read: bool,
    probe: usize,
    from_disk: bool,
}

impl Plan {
    /// Whether the batch's segment `k` is read with `pread`.
    fn reads(self, k: usize) -> bool {
        self.read != (k < self.probe)
    }
}

/// Chooses, batch by batch, between reading through the mapping and reading
/// the file: in [`Access::Auto`], data not in the page cache is read (the
/// kernel's full read-ahead; through the mapping a cold 4 GiB sum took about
/// twice as long), and for data in the page cache the measured time per byte of
/// each way decides (the mapping, in passes too short to learn from).
struct Chooser {
    access: Access,
    /// Whether the pass has enough batches to learn from ([`LEARN_MIN`]).
    learn: bool,
    /// Batches in the page cache so far (the probes' schedule counts only those).
    batch: usize,
    /// Whether the latest plan's batch is timed.
    timed: bool,
    /// The latest batches' times per byte through the mapping (`[0]`) and
    /// through `pread` (`[1]`), in seconds (summed over the segments each
    /// thread read that way); the estimate of each is the smallest, as
    /// interruptions only ever make a batch slower.
    times: [[Option<f64>; KEEP]; 2],
    /// Whether reading was the faster way at the latest batch (once both are timed).
    reads_faster: Option<bool>,
    /// The batch at which the slower way is timed again, and the wait after that.
    probe_at: usize,
    wait: usize,
}

/// Batch times kept per way of reading.
const KEEP: usize = 3;
/// Segments of a batch that time the other way (a probe) when they are in the
/// page cache: 8 MiB, 4 segments per thread (a probe of data not in the page
/// cache takes the whole batch). A probe costs those segments the slower way,
/// about twice the time of the faster way in the page cache: probing with whole
/// batches made a warm 1 GiB float16 sum 3-10% slower than through the mapping
/// alone.
const PROBE_SEGMENTS: usize = 8;
/// In [`Access::Auto`], the slower way is timed again this many batches after
/// the faster one was chosen, then after twice as many each time it loses
/// again, up to [`PROBE_MAX`].
const PROBE_FIRST: usize = 16;
/// The longest wait between probes (4 GiB of 64 MiB batches).
const PROBE_MAX: usize = 64;
/// Passes of fewer batches map the data in the page cache without timing.
const LEARN_MIN: usize = 4;

impl Chooser {
    fn new(access: Access, file_backed: bool, batches: usize) -> Chooser {
        Chooser {
            access: if file_backed { access } else { Access::Map },
            learn: batches >= LEARN_MIN,
            batch: 0,
            timed: false,
            times: [[None; KEEP]; 2],
            reads_faster: None,
            probe_at: 0,
            wait: PROBE_FIRST,
        }
    }

    /// Whether the way is chosen batch by batch ([`Access::Auto`] over a file).
    fn auto(&self) -> bool {
        self.access == Access::Auto
    }

    /// Whether the latest plan's batch is timed (only where the way is chosen
    /// by time over enough batches, and only data in the page cache: the time
    /// of data read from the disk tells more of the disk than of the way it
    /// was read).
    fn timing(&self) -> bool {
        self.timed
    }

    fn estimate(&self, read: bool) -> Option<f64> {
        self.times[usize::from(read)]
            .iter()
            .flatten()
            .copied()
            .reduce(f64::min)
    }

    /// How the next batch reads, whether it is in the page cache (`cached`) or not.
    fn next_plan(&mut self, cached: bool) -> Plan {
        self.timed = self.auto() && self.learn && cached;
        if self.auto() && !cached {
            return Plan {
                read: true,
                probe: 0,
                from_disk: true,
            };
        }
        let b = self.batch;
        self.batch += 1;
        let all = |read| Plan {
            read,
            probe: 0,
            from_disk: false,
        };
        let probe = |read| Plan {
            read,
            probe: PROBE_SEGMENTS,
            from_disk: false,
        };
        match self.access {
            Access::Map => all(false),
            Access::Read => all(true),
            Access::Auto if !self.learn => all(false),
            Access::Auto => match (self.estimate(false), self.estimate(true)) {
                (None, _) => all(false),
                (_, None) => probe(false),
                (Some(map), Some(read)) => {
                    // Batch 1 times the mapping again beside its probe when
                    // it is in the page cache, so that a first batch slowed
                    // by a neighbour does not send a warm pass to `pread`
                    // (twice as slow); one not in the page cache reads all of
                    // batch 1, and reading is the faster way there.
                    let faster = read < map;
                    if self.reads_faster != Some(faster) {
                        // A new choice: the other way is timed again soon.
                        self.reads_faster = Some(faster);
                        self.probe_at = b + PROBE_FIRST;
                        self.wait = PROBE_FIRST;
                    }
                    if b < self.probe_at {
                        return all(faster);
                    }
                    self.wait = (2 * self.wait).min(PROBE_MAX);
                    self.probe_at = b + self.wait;
                    probe(faster)
                }
            },
        }
    }

    /// Records that `bytes` of the latest batch took `took` (summed over the
    /// threads) read one way; nothing if none were or the batch is not timed.
    fn record(&mut self, read: bool, took: Duration, bytes: usize) {
        if bytes == 0 || !self.timed {
            return;
        }
        let kept = &mut self.times[usize::from(read)];
        kept.rotate_right(1);
        kept[0] = Some(took.as_secs_f64() / bytes as f64);
    }
}

/// Calls `f` for every piece of `view` in parallel, with the run layout, the piece
/// and its bytes (in the view's byte order).
pub(crate) fn for_each_piece_mut<T: Element>(
    view: ViewMut<'_, T>,
    f: &(impl Fn(&Runs, Piece, &mut [u8]) + Sync),
) {
    fn go(s: SegmentsMut<'_>, ctx: &Exec, f: &(impl Fn(&Runs, Piece, &mut [u8]) + Sync)) {
        if ctx.stopped() {
            return;
        }
        if s.len() <= 1 {
            s.for_each_piece(|runs, piece, bytes| {
                let n = bytes.len();
                f(runs, piece, bytes);
                ctx.advance(n);
            });
        } else {
            let mid = s.len() / 2;
            let (a, b) = s.split_at(mid);
            rayon::join(|| go(a, ctx, f), || go(b, ctx, f));
        }
    }
    let ctx = Exec::current();
    go(view.into_segments(SEGMENT_BYTES / size_of::<T>()), &ctx, f);
}

#[cfg(test)]
mod tests {
    use super::{
        At, BATCH, Chooser, Kernel, LEARN_MIN, PROBE_FIRST, PROBE_MAX, PROBE_SEGMENTS, Plan,
        SEGMENT_BYTES, batch_cached, feed_any, in_parts, resident,
    };
    use crate::exec::Access;
    use crate::kernels::{
        ArgKernel, CountNonzeroKernel, MinMaxKernel, MomentsKernel, StatsKernel, SumAcc, SumKernel,
    };
    use crate::num::Elem;
    use mmarray_core::{Order, View};
    use mmarray_dtype::{ByteOrder, Complex64, Native, encode, f16};
    use proptest::prelude::*;
    use std::fmt::Debug;
    use std::time::Duration;

    /// Feeds `bytes` to `kernel` through the portable build and through the
    /// dispatched one (AVX2 where the CPU has it): the same partial results.
    fn same_builds<T: Elem, K: Kernel<T::Work>>(kernel: &K, bytes: &[u8], order: ByteOrder)
    where
        K::Acc: Debug,
    {
        let n = bytes.len() / size_of::<T>();
        let view = View::<T>::from_bytes(bytes, &[n], Order::C, order).expect("view");
        let runs = view.runs();
        let at = At {
            runs: &runs,
            run: 0,
            start: 0,
        };
        let mut portable = kernel.init();
        feed_any::<T, K>(kernel, &mut portable, bytes, order, at);
        let mut dispatched = kernel.init();
        super::feed::<T, K>(kernel, &mut dispatched, bytes, order, at);
        assert_eq!(
            format!("{portable:?}"),
            format!("{dispatched:?}"),
            "{} {order:?}",
            T::KIND.name()
        );
    }

    fn every_kernel<T: Elem>(values: &[T]) {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let mut bytes = vec![0u8; size_of_val(values)];
            encode(values, order, &mut bytes).expect("encode");
            // Unaligned too: the decoding path.
            let mut shifted = vec![0u8; bytes.len() + 1];
            shifted[1..].copy_from_slice(&bytes);
            for b in [&bytes[..], &shifted[1..]] {
                same_builds::<T, _>(&SumKernel::<false, false>, b, order);
                same_builds::<T, _>(&SumKernel::<true, true>, b, order);
                same_builds::<T, _>(&MinMaxKernel::<true, false>, b, order);
                same_builds::<T, _>(&MinMaxKernel::<false, true>, b, order);
                same_builds::<T, _>(&MinMaxKernel::<true, true>, b, order);
                same_builds::<T, _>(&ArgKernel::<true>, b, order);
                same_builds::<T, _>(&MomentsKernel::<false>, b, order);
                same_builds::<T, _>(&MomentsKernel::<true>, b, order);
                same_builds::<T, _>(&StatsKernel::<false>, b, order);
                same_builds::<T, _>(&CountNonzeroKernel, b, order);
            }
        }
    }

    #[test]
    fn vector_builds_give_the_portable_results() {
        #[cfg(target_arch = "x86_64")]
        let vector = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("f16c");
        #[cfg(not(target_arch = "x86_64"))]
        let vector = false;
        if !vector {
            // Still run: the dispatched build is then the portable one, which at
            // least checks that feeding is deterministic.
            crate::test_skip::skipped(
                "engine::tests::vector_builds_give_the_portable_results",
                "the CPU lacks AVX2/F16C (or is not x86_64): the portable build is compared with itself",
            );
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 * 2e3 - 1e3
        };
        let mut f: Vec<f64> = (0..5003).map(|_| next()).collect();
        f[777] = f64::NAN;
        every_kernel(&f);
        every_kernel(&f.iter().map(|&v| f16::from_f64(v)).collect::<Vec<_>>());
        every_kernel(&f.iter().map(|&v| v as f32).collect::<Vec<_>>());
        every_kernel(&f.iter().map(|&v| v as i32).collect::<Vec<_>>());
        every_kernel(
            &f.chunks(2)
                .map(|c| Complex64::new(c[0], c[c.len() - 1]))
                .collect::<Vec<_>>(),
        );
        every_kernel(
            &f.iter()
                .map(|&v| <u8 as Native>::from_f64(v))
                .collect::<Vec<_>>(),
        );
    }

    /// The sum accumulators (every bit, NaNs as NaN) of `bytes` (float16 in `order`) through
    /// the portable build and through the dispatched one (exact group sums with
    /// F16C where the CPU has it), for sum, nansum, mean and nanmean.
    fn half_sums(bytes: &[u8], order: ByteOrder) -> Vec<([u64; 6], [u64; 6])> {
        fn both<K: Kernel<f32, Acc = SumAcc>>(
            k: &K,
            bytes: &[u8],
            order: ByteOrder,
        ) -> ([u64; 6], [u64; 6]) {
            let n = bytes.len() / 2;
            let view = View::<f16>::from_bytes(bytes, &[n], Order::C, order).expect("view");
            let runs = view.runs();
            let at = At {
                runs: &runs,
                run: 0,
                start: 0,
            };
            let mut portable = k.init();
            feed_any::<f16, K>(k, &mut portable, bytes, order, at);
            let mut dispatched = k.init();
            super::feed::<f16, K>(k, &mut dispatched, bytes, order, at);
            (portable.to_bits(), dispatched.to_bits())
        }
        vec![
            both(&SumKernel::<false, false>, bytes, order),
            both(&SumKernel::<true, false>, bytes, order),
            both(&SumKernel::<false, true>, bytes, order),
            both(&SumKernel::<true, true>, bytes, order),
        ]
    }

    /// `bits` as float16 bytes in `order`, starting `shift` bytes into the
    /// returned buffer (to test misaligned data).
    fn half_bytes(bits: &[u16], order: ByteOrder, shift: usize) -> Vec<u8> {
        let mut out = vec![0u8; shift];
        for &b in bits {
            out.extend(if order == ByteOrder::Big {
                b.to_be_bytes()
            } else {
                b.to_le_bytes()
            });
        }
        out
    }

    fn has_f16c() -> bool {
        let yes = crate::half::F16c::detect().is_some();
        if !yes {
            crate::test_skip::skipped(
                "engine::tests (float16 sums)",
                "the CPU lacks AVX2/F16C (or is not x86_64): the portable build is compared with itself",
            );
        }
        yes
    }

    /// The exact sum of finite float16 values, in units of 2^-24.
    fn exact_units(bits: &[u16]) -> i128 {
        bits.iter()
            .map(|&b| {
                let (exp, mant) = (i128::from((b >> 10) & 0x1f), i128::from(b & 0x3ff));
                let units = if exp == 0 {
                    mant
                } else {
                    (mant | 0x400) << (exp - 1)
                };
                if b & 0x8000 == 0 { units } else { -units }
            })
            .sum()
    }

    /// Float16 bits: mostly finite (normal, subnormal, zeros of both signs, the
    /// largest), sometimes an infinity or a NaN (quiet or signalling, either sign).
    fn half_bits() -> impl Strategy<Value = u16> {
        prop_oneof![
            40 => (0u16..0x7c00, any::<bool>()).prop_map(|(m, neg)| m | (u16::from(neg) << 15)),
            6 => (0u16..0x400, any::<bool>()).prop_map(|(m, neg)| m | (u16::from(neg) << 15)),
            4 => prop::sample::select(vec![0x0000u16, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x7bff, 0xfbff]),
            1 => prop::sample::select(vec![0x7c00u16, 0xfc00, 0x7e00, 0xfe00, 0x7c01, 0xfd55, 0x7fff]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// float16 sums through the dispatched build (exact F16C group sums)
        /// have every bit of the portable build's (a NaN's sign and payload
        /// aside), for any values, lengths
        /// (partial groups and blocks, the short-piece path), byte orders and
        /// alignments.
        #[test]
        fn half_sums_have_the_portable_bits(
            bits in prop::collection::vec(half_bits(), 0..2600),
            big in any::<bool>(),
            shift in 0usize..2,
        ) {
            has_f16c();
            let order = if big { ByteOrder::Big } else { ByteOrder::Little };
            let buf = half_bytes(&bits, order, shift);
            for (portable, dispatched) in half_sums(&buf[shift..], order) {
                prop_assert_eq!(portable, dispatched);
            }
        }
    }

    #[test]
    fn half_sums_of_edge_groups_have_the_portable_bits() {
        has_f16c();
        let mut cases: Vec<Vec<u16>> = vec![
            vec![],
            vec![0x8000; 300], // -0.0 only: +0.0, as the lanes start at +0.0
            vec![0x0001; 129], // smallest subnormals
            vec![0x7bff; 128], // largest finite: 128 x 65504 stays exact
            vec![0xfbff; 1025],
            [0x7bff, 0x0001].repeat(700), // extremes of scale in one group
            // Small values of several scales (2^-5, 1.5 x 2^-5, 2^-4 - 2^-14,
            // the largest subnormal) beside the largest values, both signs.
            [0x7bff, 0x2800, 0x2a00, 0xabff, 0xa800, 0xfbff, 0x83ff].repeat(300),
            [0x7c00, 0xfc00].repeat(3), // inf - inf: NaN
            vec![0x7c00; 17],
            [0x7e00, 0xfe01, 0x3c00].repeat(50), // NaNs of two payloads
        ];
        // Every float16 bit pattern, in order (groups of consecutive patterns).
        cases.push((0..=u16::MAX).collect());
        for bits in &cases {
            for order in [ByteOrder::Little, ByteOrder::Big] {
                for shift in [0, 1] {
                    let buf = half_bytes(bits, order, shift);
                    for (portable, dispatched) in half_sums(&buf[shift..], order) {
                        assert_eq!(
                            portable,
                            dispatched,
                            "{} values {order:?} shift {shift}",
                            bits.len()
                        );
                    }
                }
            }
        }
    }

    /// The dispatched sum of finite float16 values is their exact sum for up to
    /// 128 values (one group: no compensation involved), independently of the
    /// portable kernel.
    #[test]
    fn half_group_sums_are_exact() {
        has_f16c();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in [1usize, 7, 8, 15, 16, 17, 100, 127, 128] {
            for _ in 0..200 {
                let bits: Vec<u16> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Finite: exponent field below 31.
                        let b = (x >> 20) as u16;
                        if b & 0x7c00 == 0x7c00 { b & 0xbfff } else { b }
                    })
                    .collect();
                let want = exact_units(&bits) as f64 * (-24f64).exp2();
                let buf = half_bytes(&bits, ByteOrder::Little, 0);
                let (_, dispatched) = half_sums(&buf, ByteOrder::Little)[0];
                assert_eq!(f64::from_bits(dispatched[1]), want, "{bits:?}");
                assert_eq!(dispatched[2], 0, "no compensation");
            }
        }
    }

    /// The plans `chooser` makes for `n` batches in the page cache, when a
    /// segment of batch `b` takes `cost(b, read)` microseconds.
    fn plans(chooser: &mut Chooser, n: usize, cost: impl Fn(usize, bool) -> u64) -> Vec<Plan> {
        plans_in(chooser, n, |_| true, cost)
    }

    /// As [`plans`], with batch `b` in the page cache when `cached(b)`.
    fn plans_in(
        chooser: &mut Chooser,
        n: usize,
        cached: impl Fn(usize) -> bool,
        cost: impl Fn(usize, bool) -> u64,
    ) -> Vec<Plan> {
        (0..n)
            .map(|b| {
                let plan = chooser.next_plan(cached(b));
                for read in [false, true] {
                    let segments = (0..BATCH).filter(|&k| plan.reads(k) == read).count();
                    let took = Duration::from_micros(cost(b, read) * segments as u64);
                    chooser.record(read, took, segments * SEGMENT_BYTES);
                }
                plan
            })
            .collect()
    }

    /// The plan of a batch in the page cache.
    fn cached(read: bool, probe: usize) -> Plan {
        Plan {
            read,
            probe,
            from_disk: false,
        }
    }

    /// The batches whose plan is not to read all of it one way (`read`).
    fn others(plans: &[Plan], read: bool) -> Vec<usize> {
        let all = cached(read, 0);
        (0..plans.len()).filter(|&b| plans[b] != all).collect()
    }

    #[test]
    fn residency_is_judged_over_the_span_of_the_segments() {
        // 8 MiB of f64 in memory (a Vec is resident once written), 8 segments.
        let bytes = vec![1u8; 8 * SEGMENT_BYTES];
        let n = bytes.len() / 8;
        let v = View::<f64>::from_bytes(&bytes, &[n], Order::C, ByteOrder::Little).expect("v");
        let segs = v.segments(SEGMENT_BYTES / 8);
        assert_eq!(segs.len(), 8);
        let linux = cfg!(target_os = "linux");
        assert_eq!(resident(&v, &segs, 0, 8), linux);
        assert_eq!(resident(&v, &segs, 2, 5), linux);
        assert!(resident(&v, &segs, 3, 3), "no segments");
        // Every 4th element: the pieces span four times their bytes.
        let strided = v.slice("::4").expect("slice");
        let segs = strided.segments(SEGMENT_BYTES / 8);
        assert!(!resident(&strided, &segs, 0, segs.len()));
    }

    #[test]
    fn a_batch_is_cached_only_when_it_is_in_memory_beyond_its_first_segments() {
        use mmarray_core::{DynArray, OpenOptions, Raw, ReadOnly};
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("batches.raw");
        // Two batches and a short one of 3 segments, as a hole: nothing of it is in
        // the page cache until read.
        let n = 2 * BATCH + 3;
        std::fs::File::create(&path)
            .and_then(|f| f.set_len((n * SEGMENT_BYTES) as u64))
            .expect("file");
        let options = OpenOptions::new().raw(Raw::new("<f8".parse().expect("dtype")));
        // SAFETY: the file is this test's own, in its own folder: nothing else
        // changes or truncates it while it is mapped.
        let a = unsafe { DynArray::<ReadOnly>::open_with(&path, &options) }
            .expect("open")
            .into_typed::<f64>()
            .expect("f64");
        let v = a.view();
        let segs = v.segments(SEGMENT_BYTES / 8);
        assert_eq!(segs.len(), n);
        let linux = cfg!(target_os = "linux");
        let read = |from: usize, to: usize| {
            let part = v
                .slice(from * SEGMENT_BYTES / 8..to * SEGMENT_BYTES / 8)
                .expect("slice");
            assert!(part.to_vec().iter().all(|&x| x == 0.0));
        };
        assert_eq!(batch_cached(&v, &segs, 0, BATCH), !linux);
        // The first segments in memory (as the read-ahead of a stream of preads
        // leaves them), the rest not: not cached.
        read(0, PROBE_SEGMENTS + 1);
        assert_eq!(batch_cached(&v, &segs, 0, BATCH), !linux);
        read(0, BATCH);
        assert!(batch_cached(&v, &segs, 0, BATCH), "the whole batch");
        assert_eq!(batch_cached(&v, &segs, BATCH, 2 * BATCH), !linux);
        assert_eq!(batch_cached(&v, &segs, 2 * BATCH, n), !linux, "short");
        read(2 * BATCH, n);
        assert!(batch_cached(&v, &segs, 2 * BATCH, n), "the short batch");
        assert!(batch_cached(&v, &segs, n, n), "no segments");
    }

    #[test]
    fn auto_reads_batches_not_in_the_page_cache_untimed() {
        // Cold batches (0-9 and 20-29) are read whatever the timing says, and
        // their times are not kept (fast here, as a disk's burst can be: kept,
        // they would choose reads); the probes' schedule counts only cached
        // batches: batch 10 is the first mapped, 11 probes reads, the mapping
        // (faster in the page cache) is kept, and reads are probed again 16
        // cached batches later (batch 12 + 16 + 10 cold ones).
        let cold = |b: usize| b < 10 || (20..30).contains(&b);
        let mut c = Chooser::new(Access::Auto, true, 100);
        let got = plans_in(
            &mut c,
            60,
            |b| !cold(b),
            |b, r| match (r, cold(b)) {
                (true, true) => 1,
                (true, false) => 8,
                (false, _) => 5,
            },
        );
        let from_disk = Plan {
            read: true,
            probe: 0,
            from_disk: true,
        };
        assert!((0..60).filter(|&b| cold(b)).all(|b| got[b] == from_disk));
        let probe = cached(false, PROBE_SEGMENTS);
        assert_eq!(got[11], probe);
        assert_eq!(got[12 + PROBE_FIRST + 10], probe);
        let mapped: Vec<usize> = (0..60)
            .filter(|&b| !cold(b) && b != 11 && b != 12 + PROBE_FIRST + 10)
            .collect();
        assert!(mapped.iter().all(|&b| got[b] == cached(false, 0)));
        // Forced ways ignore the page cache.
        let mut c = Chooser::new(Access::Map, true, 100);
        assert!(!c.next_plan(false).read && !c.timing());
        // A pass too short to learn from reads its batches not in the page
        // cache too, and maps the others, untimed.
        let mut c = Chooser::new(Access::Auto, true, LEARN_MIN - 1);
        assert_eq!(c.next_plan(false), from_disk);
        assert!(!c.timing());
        assert_eq!(c.next_plan(true), cached(false, 0));
        assert!(!c.timing());
        // Data in memory (not a file) is never read.
        let mut c = Chooser::new(Access::Auto, false, 100);
        assert_eq!(c.next_plan(false), cached(false, 0));
    }

    #[test]
    fn in_parts_gives_each_thread_one_contiguous_part_in_order() {
        use std::sync::Mutex;
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            for (start, end) in [(0, 64), (5, 12), (7, 8), (3, 3)] {
                // The indices each thread took, in the order it took them.
                let taken = Mutex::new(vec![Vec::new(); threads]);
                let got = pool.install(|| {
                    in_parts(start, end, |i| {
                        let t = rayon::current_thread_index().expect("a pool thread");
                        taken.lock().expect("lock")[t].push(i);
                        // Long enough for every thread to join in.
                        std::thread::sleep(Duration::from_millis(1));
                        10 * i
                    })
                });
                assert_eq!(got, (start..end).map(|i| 10 * i).collect::<Vec<_>>());
                let len = end - start;
                let workers = threads.min(len.max(1));
                let bounds: Vec<usize> = (0..=workers).map(|w| start + w * len / workers).collect();
                for took in taken.into_inner().expect("lock") {
                    // Whole parts, each front to back (a thread may take more
                    // than one part when another is busy).
                    let mut k = 0;
                    while k < took.len() {
                        let w = bounds
                            .iter()
                            .position(|&b| b == took[k])
                            .expect("a part's start");
                        let part: Vec<usize> = (bounds[w]..bounds[w + 1]).collect();
                        assert_eq!(took[k..k + part.len()], part[..], "{threads} threads");
                        k += part.len();
                    }
                }
            }
        }
    }

    #[test]
    fn a_plan_probes_its_first_segments_the_other_way() {
        let p = cached(true, PROBE_SEGMENTS);
        assert!(!p.reads(0) && !p.reads(PROBE_SEGMENTS - 1) && p.reads(PROBE_SEGMENTS));
        let p = cached(false, 0);
        assert!(!p.reads(0));
    }

    #[test]
    fn auto_times_both_then_keeps_the_faster_and_probes_the_other_ever_less_often() {
        // Batch 0 is mapped, batch 1 probes reads; the faster way is chosen
        // from batch 2 on, and the other is timed again PROBE_FIRST batches
        // later, then after twice as long, up to PROBE_MAX.
        let probe_at = [18, 18 + 32, 18 + 32 + 64, 18 + 32 + 128, 18 + 32 + 192];
        assert_eq!(probe_at[0], 2 + PROBE_FIRST);
        assert_eq!(probe_at[4] - probe_at[3], PROBE_MAX);
        let probe = |read| cached(read, PROBE_SEGMENTS);
        let got = plans(&mut Chooser::new(Access::Auto, true, 300), 300, |_, r| {
            if r { 6 } else { 10 }
        });
        let mut want = vec![0, 1];
        want.extend(probe_at);
        assert_eq!(others(&got, true), want, "reads faster");
        assert_eq!(got[1], probe(false));
        assert!(probe_at.iter().all(|&b| got[b] == probe(true)));
        let got = plans(&mut Chooser::new(Access::Auto, true, 300), 300, |_, r| {
            if r { 6 } else { 5 }
        });
        let mut want = vec![1];
        want.extend(probe_at);
        assert_eq!(others(&got, false), want, "mapping faster");
        assert!(probe_at.iter().all(|&b| got[b] == probe(false)));
    }

    #[test]
    fn auto_switches_when_the_chosen_way_slows_and_then_probes_often_again() {
        // The mapping is faster until batch 40 (the data was cached), then
        // reading is (it was not).
        let got = plans(
            &mut Chooser::new(Access::Auto, true, 300),
            120,
            |b, r| match r {
                true => 10,
                false if b < 40 => 5,
                false => 20,
            },
        );
        // Once the three kept mapping times are slow (batch 43), reading is
        // chosen, and the mapping is timed again PROBE_FIRST batches later,
        // then after 32 batches.
        let mut maps: Vec<usize> = (0..43).collect();
        maps.extend([43 + PROBE_FIRST, 43 + PROBE_FIRST + 32]);
        assert_eq!(others(&got, true), maps);
    }

    #[test]
    fn a_slow_first_mapped_batch_does_not_send_a_warm_pass_to_reads() {
        // The first mapped batch is slowed (20 against 5), reading takes 8:
        // batch 1 times the mapping again beside its probe, and it is kept.
        let got = plans(
            &mut Chooser::new(Access::Auto, true, 100),
            40,
            |b, r| match (r, b) {
                (true, _) => 8,
                (false, 0) => 20,
                (false, _) => 5,
            },
        );
        assert_eq!(others(&got, false), vec![1, 2 + PROBE_FIRST]);
    }

    #[test]
    fn one_slow_batch_does_not_switch() {
        let mut c = Chooser::new(Access::Auto, true, 100);
        plans(&mut c, 4, |_, r| if r { 8 } else { 5 });
        // An interrupted batch through the mapping: the estimate is the fastest kept.
        c.record(false, Duration::from_millis(50), SEGMENT_BYTES);
        assert_eq!(c.next_plan(true), cached(false, 0));
    }

    #[test]
    fn forced_ways_and_small_or_private_data_never_switch() {
        let cost = |_, r| if r { 1 } else { 10 };
        assert!(
            others(
                &plans(&mut Chooser::new(Access::Map, true, 100), 20, cost),
                false
            )
            .is_empty()
        );
        let cost = |_, r| if r { 10 } else { 1 };
        assert!(
            others(
                &plans(&mut Chooser::new(Access::Read, true, 100), 20, cost),
                true
            )
            .is_empty()
        );
        let cost = |_, r| if r { 1 } else { 10 };
        assert!(
            others(
                &plans(&mut Chooser::new(Access::Auto, true, 3), 3, cost),
                false
            )
            .is_empty()
        );
        assert!(
            others(
                &plans(&mut Chooser::new(Access::Read, false, 100), 9, cost),
                false
            )
            .is_empty()
        );
    }
}
