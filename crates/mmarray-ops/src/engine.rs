//! The chunk engine: a view cut into ~1 MiB segments, processed on rayon,
//! non-native data decoded block by block into stack buffers, partial results
//! combined in segment order so that results do not depend on the thread count.

use std::mem::size_of;
use std::sync::{Arc, PoisonError, RwLock};

use mmarray_core::{Piece, Runs, SegmentsMut, View, ViewMut};
use mmarray_dtype::{ByteOrder, Element, decode};
use rayon::prelude::*;

use crate::num::{Elem, Num};

/// Bytes per segment, the unit of parallel work.
pub(crate) const SEGMENT_BYTES: usize = 1 << 20;
/// Elements decoded per step into stack buffers (fits L1 for every type).
pub(crate) const BLOCK: usize = 1024;
/// Segments processed per parallel batch: bounds the memory for partial results,
/// and is the readahead window for files that are not cached.
const BATCH: usize = 64;

/// Reports progress of long operations (e.g. to a progress bar).
pub trait Progress: Send + Sync {
    /// Called with the number of bytes just processed.
    fn advance(&self, bytes: u64);
}

static PROGRESS: RwLock<Option<Arc<dyn Progress>>> = RwLock::new(None);

/// Installs (or removes, with `None`) the process-wide progress hook that every
/// streaming operation reports to.
pub fn set_progress(progress: Option<Arc<dyn Progress>>) {
    *PROGRESS.write().unwrap_or_else(PoisonError::into_inner) = progress;
}

pub(crate) fn advance(bytes: usize) {
    if let Some(p) = PROGRESS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        p.advance(bytes as u64);
    }
}

/// Where a block of values is: element `start` of run `run` is `values[0]`.
#[derive(Clone, Copy)]
pub(crate) struct At<'r> {
    pub(crate) runs: &'r Runs,
    pub(crate) run: usize,
    pub(crate) start: usize,
}

impl At<'_> {
    /// The logical C-order index of `values[j]`.
    pub(crate) fn c_index(&self, j: usize) -> usize {
        self.runs.c_index(self.run, self.start + j)
    }

    /// Whether C indices increase with `j` (then the first match is the smallest index).
    pub(crate) fn increasing(&self) -> bool {
        self.runs.is_c_linear()
    }

    fn advanced(self, by: usize) -> Self {
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
}

/// Feeds the bytes of one piece to `kernel`, decoding and widening where needed.
fn feed<T: Elem, K: Kernel<T::Work>>(
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
const SMALL: usize = 16;

/// Decodes (and widens) `bytes` `N` elements at a time into stack buffers and
/// feeds them to `kernel`.
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
            // Lengths agree by construction, so decode cannot fail.
            let _ = decode(chunk, order, &mut raw[..n]);
            T::widen(&raw[..n], &mut work[..n]);
        } else {
            let _ = decode(chunk, order, &mut work[..n]);
        }
        kernel.block(acc, &work[..n], at.advanced(b * N));
    }
}

/// Runs `kernel` over every element of `view`, in parallel, and returns the
/// combined result; the same for any number of threads.
pub(crate) fn reduce_view<T: Elem, K: Kernel<T::Work>>(view: &View<'_, T>, kernel: &K) -> K::Acc {
    let segs = view.segments(SEGMENT_BYTES / size_of::<T>());
    let runs = segs.runs();
    let order = view.dtype().byte_order();
    let one = |i: usize| {
        let mut acc = kernel.init();
        let mut bytes_done = 0;
        for piece in segs.pieces(i) {
            let bytes = view.piece_bytes(runs, piece);
            bytes_done += bytes.len();
            feed::<T, K>(
                kernel,
                &mut acc,
                bytes,
                order,
                At {
                    runs,
                    run: piece.run,
                    start: piece.start,
                },
            );
        }
        advance(bytes_done);
        acc
    };
    let mut total = kernel.init();
    let n = segs.len();
    if rayon::current_num_threads() == 1 || n <= 1 {
        for i in 0..n {
            let acc = one(i);
            kernel.merge(&mut total, acc);
        }
        return total;
    }
    let span = |from: usize, to: usize| -> (usize, usize) {
        let first = segs
            .pieces(from)
            .next()
            .map_or(0, |p| runs.offset(p.run) + p.start * size_of::<T>());
        let last = segs.pieces(to - 1).last().map_or(0, |p| {
            runs.offset(p.run) + (p.start + p.len) * size_of::<T>()
        });
        (first, last.saturating_sub(first))
    };
    let mut start = 0;
    while start < n {
        let end = (start + BATCH).min(n);
        // Start reading the next batch while this one is computed (cold files).
        if end < n {
            let (off, len) = span(end, (end + BATCH).min(n));
            view.prefetch(off, len);
        }
        let partials: Vec<K::Acc> = (start..end).into_par_iter().map(one).collect();
        for p in partials {
            kernel.merge(&mut total, p);
        }
        start = end;
    }
    total
}

/// Calls `f` for every piece of `view` in parallel, with the run layout, the piece
/// and its bytes (in the view's byte order).
pub(crate) fn for_each_piece_mut<T: Element>(
    view: ViewMut<'_, T>,
    f: &(impl Fn(&Runs, Piece, &mut [u8]) + Sync),
) {
    fn go(s: SegmentsMut<'_>, f: &(impl Fn(&Runs, Piece, &mut [u8]) + Sync)) {
        if s.len() <= 1 {
            s.for_each_piece(|runs, piece, bytes| {
                let n = bytes.len();
                f(runs, piece, bytes);
                advance(n);
            });
        } else {
            let mid = s.len() / 2;
            let (a, b) = s.split_at(mid);
            rayon::join(|| go(a, f), || go(b, f));
        }
    }
    go(view.into_segments(SEGMENT_BYTES / size_of::<T>()), f);
}
