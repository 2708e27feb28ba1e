//! Reductions along one axis of any view, into memory or into a new `.npy` file.
//!
//! The view is seen as `n` rows (the entries of the axis), each a sub-view of the
//! result's shape; all rows share one run layout ([`Runs`] of row 0), shifted by
//! the axis stride. Two ways through it, both cut into pieces of about one
//! segment whose boundaries depend on the shape only, never on the thread count:
//!
//! - **lanes**, when the axis is contiguous in memory: each result reduces one
//!   contiguous lane, long lanes with the whole-array kernels (in parallel inside
//!   the lane, or whole lanes shared out between the threads when each is only a
//!   few segments), short ones grouped a segment at a time;
//! - **rows**, otherwise: the results are cut into tiles, the rows into blocks of
//!   about a segment per tile; every (tile, block) is a parallel task that adds
//!   its rows in axis order into one accumulator per result, and the blocks of a
//!   tile are merged in block order. A tall narrow array is as parallel as a wide
//!   one. Over a mapping the tasks go a band of rows at a time across the tiles
//!   (a [`Grid`] of groups of tiles, whose accumulators stay open until their last
//!   block); over chunks, a tile at a time down the rows, so that each chunk is
//!   decoded once.

use std::collections::BTreeSet;
use std::mem::size_of;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use mmarray_core::chunk::{Chunked, ChunkedView};
use mmarray_core::{CreateOptions, DynArray, Index, Mode, Order, Spec, View, lowlevel::Runs};
use mmarray_dtype::{
    ByteOrder, Class, Complex64, DType, Element, Kind, Value, decode_prefix, dispatch,
};
use rayon::prelude::*;

use crate::chunked::SharedCache;
use crate::data::{Data, Input};
use crate::engine::{BATCH, Lane, SEGMENT_BYTES, in_order};
use crate::exec::{Exec, with};
use crate::kernels::merge_spread;
use crate::num::{Elem, Num};
use crate::reduce::{Op, ReduceOptions, mean_of, pick, reduce, reduce_source, variance};
use crate::{Error, InvalidArgument, Result};

/// Results per tile of the row path for plain sums (one `f64`/`u64` each): runs
/// of 16 KiB of float64 per row. For a sum over axis 0 of the (1024, 262144)
/// and (16384, 16384) float64 copies of `cargo xtask bench` (2 GiB, cached, 2
/// threads), tiles of 2048 taken band by band ([`Grid`]) were 1.11x and 1.09x
/// as fast as tiles of 4096 taken down the rows; 4096 band by band 1.12x and
/// 1.01x, 1024 about as fast as 2048, and 2048 down the rows 1.01x and 1.05x.
const SUM_TILE: usize = 2048;
/// Results per tile of the row path for the other reductions.
const ACC_TILE: usize = 1024;
/// Rows of mapped native elements added to a tile in one pass ([`Tile::rows`]):
/// for a sum over axis 0 of a (512, 524288) float64 file on 2 threads
/// (criterion, cached, tiles of 4096 taken down the rows), 27.7 GiB/s against
/// 22.7 one row at a time; a software prefetch of the next rows made it slower
/// (26.2).
const ROWS: usize = 4;
/// Bytes of accumulators the row path over a mapping keeps open at once (the
/// tiles of a [`Grid`] group): the whole width of any row of up to 2M float64
/// results, so that the tasks read whole bands of rows.
const OPEN_BYTES: usize = 16 << 20;
/// Long lanes (a segment or more) shorter than this many segments per thread are
/// shared out whole between the threads rather than reduced one at a time, each
/// in parallel inside ([`by_lanes`]).
const SHARE_SEGMENTS: usize = 4;

/// The dtype numpy gives the result of `op` over elements of `kind`.
#[must_use]
pub fn result_kind(op: Op, kind: Kind) -> Kind {
    match (op, kind.class()) {
        (Op::Sum, Class::Signed | Class::Bool) | (Op::Argmin | Op::Argmax, _) => Kind::I64,
        (Op::Sum, Class::Unsigned) => Kind::U64,
        (Op::Sum | Op::Mean, Class::Complex) => Kind::C128,
        (Op::Sum | Op::Mean | Op::Var | Op::Std, _) => Kind::F64,
        (Op::Min | Op::Max, _) => kind,
    }
}

/// The result of an axis reduction held in memory: native-endian elements in the
/// source array's memory order.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisResult {
    /// Element type (native byte order).
    pub dtype: DType,
    /// Shape: the source shape without the reduced axis.
    pub shape: Vec<usize>,
    /// Memory order of `data` (that of the source array).
    pub order: Order,
    /// The elements' bytes.
    pub data: Vec<u8>,
}

fn normalize_axis(axis: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    let a = if axis < 0 { axis + n } else { axis };
    if a < 0 || a >= n {
        return Err(InvalidArgument::Axis { axis, ndim }.into());
    }
    Ok(a as usize)
}

/// Encodes `v` as native bytes into `out` (exactly its item size).
fn put(v: Value, out: &mut [u8]) {
    dispatch!(v.kind(), O => out.copy_from_slice(bytemuck::bytes_of(&v.cast::<O>())));
}

/// Per-result accumulator of the general row and lane paths.
#[derive(Debug, Clone, Copy)]
struct Acc<W> {
    /// Wrapping integer sum, or count of used values.
    int: u64,
    count: u64,
    re: f64,
    im: f64,
    m2: f64,
    best: Option<(W, usize)>,
    nan: Option<(W, usize)>,
}

impl<W: Num> Acc<W> {
    const EMPTY: Self = Acc {
        int: 0,
        count: 0,
        re: 0.0,
        im: 0.0,
        m2: 0.0,
        best: None,
        nan: None,
    };

    #[inline]
    #[allow(clippy::many_single_char_names)] // x, j, r, i, c: value, index, parts, count
    fn update(&mut self, op: Op, skip: bool, x: W, j: usize) {
        let nan = W::FLOAT && x.is_nan();
        if nan && self.nan.is_none() {
            self.nan = Some((x, j));
        }
        match op {
            Op::Sum | Op::Mean if !W::FLOAT && op == Op::Sum => {
                self.int = self.int.wrapping_add(match W::KIND.class() {
                    Class::Signed => x.to_i64() as u64,
                    _ => x.to_u64(),
                });
            }
            Op::Sum | Op::Mean => {
                if !(skip && nan) {
                    let (r, i) = x.parts();
                    self.re += r;
                    self.im += i;
                    self.count += 1;
                }
            }
            Op::Min | Op::Max | Op::Argmin | Op::Argmax => {
                if !nan {
                    let better = match self.best {
                        None => true,
                        Some((b, _)) => {
                            if matches!(op, Op::Min | Op::Argmin) {
                                x.lt(b)
                            } else {
                                b.lt(x)
                            }
                        }
                    };
                    if better {
                        self.best = Some((x, j));
                    }
                }
            }
            Op::Var | Op::Std => {
                if !(skip && nan) {
                    // Welford's update, on real and imaginary parts.
                    let (r, i) = x.parts();
                    self.count += 1;
                    let c = self.count as f64;
                    let (dr, di) = (r - self.re, i - self.im);
                    self.re += dr / c;
                    self.im += di / c;
                    self.m2 += dr * (r - self.re) + di * (i - self.im);
                }
            }
        }
    }

    /// Appends `later`, the accumulator of later values along the axis: first
    /// occurrences stay first, sums add, moments merge (Chan, Golub and `LeVeque`).
    fn merge(&mut self, op: Op, later: &Self) {
        if self.nan.is_none() {
            self.nan = later.nan;
        }
        match op {
            Op::Sum | Op::Mean => {
                self.int = self.int.wrapping_add(later.int);
                self.re += later.re;
                self.im += later.im;
                self.count += later.count;
            }
            Op::Min | Op::Max | Op::Argmin | Op::Argmax => {
                if let Some((x, _)) = later.best {
                    let better = match self.best {
                        None => true,
                        Some((b, _)) if matches!(op, Op::Min | Op::Argmin) => x.lt(b),
                        Some((b, _)) => b.lt(x),
                    };
                    if better {
                        self.best = later.best;
                    }
                }
            }
            Op::Var | Op::Std => {
                // `re` and `im` hold the mean here (Welford's update).
                let mut mean = (self.re, self.im);
                merge_spread(
                    (&mut self.count, &mut mean, &mut self.m2),
                    (later.count, (later.re, later.im), later.m2),
                );
                (self.re, self.im) = mean;
            }
        }
    }

    fn finish<T: Elem<Work = W>>(&self, op: Op, opts: &ReduceOptions, n: usize) -> Result<Value> {
        let skip = opts.skipna;
        Ok(match op {
            Op::Sum if !W::FLOAT => match W::KIND.class() {
                Class::Unsigned => Value::U64(self.int),
                _ => Value::I64(self.int as i64),
            },
            Op::Sum if W::COMPLEX => Value::C128(Complex64::new(self.re, self.im)),
            Op::Sum => Value::F64(self.re),
            Op::Mean => {
                let c = if skip { self.count } else { n as u64 } as f64;
                mean_of::<T>(self.re, self.im, c)
            }
            Op::Min | Op::Max => pick(op, skip, self.nan, self.best)?
                .0
                .cast::<T>()
                .to_value(),
            Op::Argmin | Op::Argmax => Value::I64(pick(op, skip, self.nan, self.best)?.1 as i64),
            Op::Var | Op::Std => {
                let var = variance(self.m2, self.count, opts.ddof as u64);
                Value::F64(if op == Op::Std { var.sqrt() } else { var })
            }
        })
    }
}

/// Accumulators of a tile of results along the rows of the row path.
trait Tile<W: Num>: Send + Sized {
    /// Bytes of accumulators per result.
    const RESULT_BYTES: usize;
    /// Accumulators for `width` results.
    fn new(width: usize, op: Op, opts: &ReduceOptions) -> Self;
    /// Adds the values of row `j` for results `at..at + values.len()` of the tile.
    fn row(&mut self, at: usize, values: &[W], j: usize);
    /// Adds rows `j..j + ROWS` (`rows[i]` is row `j + i`, all of one length)
    /// for results from `at`: the same as [`row`](Self::row) for each in turn.
    #[inline(always)]
    fn rows(&mut self, at: usize, rows: [&[W]; ROWS], j: usize) {
        for (i, values) in rows.into_iter().enumerate() {
            self.row(at, values, j + i);
        }
    }
    /// Appends the accumulators of later rows.
    fn merge(&mut self, later: &Self);
    /// Back to the accumulators of no rows (as [`new`](Self::new) made them).
    fn reset(&mut self);
    /// The value of result `i` of the tile, over an axis of `n` entries.
    fn value<T: Elem<Work = W>>(&self, i: usize, n: usize) -> Result<Value>;
}

/// Sums (or means) of real values as `f64`, one per result.
struct FloatSums {
    sums: Vec<f64>,
    mean: bool,
}

impl<W: Num> Tile<W> for FloatSums {
    const RESULT_BYTES: usize = size_of::<f64>();
    fn new(width: usize, op: Op, _: &ReduceOptions) -> Self {
        FloatSums {
            sums: vec![0.0; width],
            mean: op == Op::Mean,
        }
    }
    #[inline(always)]
    fn row(&mut self, at: usize, values: &[W], _: usize) {
        for (a, &x) in self.sums[at..].iter_mut().zip(values) {
            *a += x.parts().0;
        }
    }
    /// Each sum takes the rows' values in turn: the same additions, in the
    /// same order, as four calls of `row`, in one pass over the sums.
    #[inline(always)]
    fn rows(&mut self, at: usize, [r0, r1, r2, r3]: [&[W]; ROWS], _: usize) {
        let len = r0.len();
        let sums = &mut self.sums[at..at + len];
        let (r1, r2, r3) = (&r1[..len], &r2[..len], &r3[..len]);
        for i in 0..len {
            let mut sum = sums[i];
            sum += r0[i].parts().0;
            sum += r1[i].parts().0;
            sum += r2[i].parts().0;
            sum += r3[i].parts().0;
            sums[i] = sum;
        }
    }
    fn merge(&mut self, later: &Self) {
        for (a, b) in self.sums.iter_mut().zip(&later.sums) {
            *a += b;
        }
    }
    fn reset(&mut self) {
        self.sums.fill(0.0);
    }
    fn value<T: Elem<Work = W>>(&self, i: usize, n: usize) -> Result<Value> {
        let s = self.sums[i];
        Ok(Value::F64(if self.mean { s / n as f64 } else { s }))
    }
}

/// Wrapping 64-bit integer sums, one per result.
struct IntSums(Vec<u64>);

impl<W: Num> Tile<W> for IntSums {
    const RESULT_BYTES: usize = size_of::<u64>();
    fn new(width: usize, _: Op, _: &ReduceOptions) -> Self {
        IntSums(vec![0; width])
    }
    #[inline(always)]
    fn row(&mut self, at: usize, values: &[W], _: usize) {
        if W::KIND.class() == Class::Signed {
            for (a, &x) in self.0[at..].iter_mut().zip(values) {
                *a = a.wrapping_add(x.to_i64() as u64);
            }
        } else {
            for (a, &x) in self.0[at..].iter_mut().zip(values) {
                *a = a.wrapping_add(x.to_u64());
            }
        }
    }
    fn merge(&mut self, later: &Self) {
        for (a, b) in self.0.iter_mut().zip(&later.0) {
            *a = a.wrapping_add(*b);
        }
    }
    fn reset(&mut self) {
        self.0.fill(0);
    }
    fn value<T: Elem<Work = W>>(&self, i: usize, _: usize) -> Result<Value> {
        Ok(if W::KIND.class() == Class::Unsigned {
            Value::U64(self.0[i])
        } else {
            Value::I64(self.0[i] as i64)
        })
    }
}

/// Every other reduction: one [`Acc`] per result.
struct Accs<W> {
    each: Vec<Acc<W>>,
    op: Op,
    opts: ReduceOptions,
}

impl<W: Num> Tile<W> for Accs<W> {
    const RESULT_BYTES: usize = size_of::<Acc<W>>();
    fn new(width: usize, op: Op, opts: &ReduceOptions) -> Self {
        Accs {
            each: vec![Acc::EMPTY; width],
            op,
            opts: *opts,
        }
    }
    #[inline(always)]
    fn row(&mut self, at: usize, values: &[W], j: usize) {
        for (a, &x) in self.each[at..].iter_mut().zip(values) {
            a.update(self.op, self.opts.skipna, x, j);
        }
    }
    fn merge(&mut self, later: &Self) {
        for (a, b) in self.each.iter_mut().zip(&later.each) {
            a.merge(self.op, b);
        }
    }
    fn reset(&mut self) {
        self.each.fill(Acc::EMPTY);
    }
    fn value<T: Elem<Work = W>>(&self, i: usize, n: usize) -> Result<Value> {
        self.each[i].finish::<T>(self.op, &self.opts, n)
    }
}

/// Where the bytes of rows are: a region in memory (a mapping), or the virtual
/// region of a chunked array, read through a cache of its chunks.
#[derive(Clone, Copy)]
enum Src<'a> {
    Region(&'a [u8]),
    Chunked(&'a dyn ChunkBytes),
}

/// Bytes of the virtual region of a chunked view.
trait ChunkBytes: Sync {
    /// Calls `f` with the `len` bytes at `offset`.
    fn with_bytes(&self, offset: usize, len: usize, f: &mut dyn FnMut(&[u8]));
    /// Calls `f(pos, bytes)` with the consecutive parts of the `len` bytes at
    /// `offset` (`pos`: the part's first element), each in place where it can be.
    fn with_parts(&self, offset: usize, len: usize, f: &mut dyn FnMut(usize, &[u8]));
    /// Holds the chunks of the byte ranges `ranges` (and no others).
    fn prepare(&self, ranges: &mut dyn Iterator<Item = (usize, usize)>) -> Result<()>;
    /// The numbers of the chunks that hold the byte ranges `ranges`.
    fn chunks(&self, ranges: &mut dyn Iterator<Item = (usize, usize)>) -> BTreeSet<usize>;
    /// How many chunks a batch may hold (unless one task needs more).
    fn budget(&self) -> usize;
}

impl<T: Element> ChunkBytes for SharedCache<'_, '_, T> {
    fn with_bytes(&self, offset: usize, len: usize, f: &mut dyn FnMut(&[u8])) {
        SharedCache::with_bytes(self, offset, len, |b| f(b));
    }
    fn with_parts(&self, offset: usize, len: usize, f: &mut dyn FnMut(usize, &[u8])) {
        SharedCache::with_parts(self, offset, len, f);
    }
    fn prepare(&self, ranges: &mut dyn Iterator<Item = (usize, usize)>) -> Result<()> {
        SharedCache::prepare(self, ranges)
    }
    fn chunks(&self, ranges: &mut dyn Iterator<Item = (usize, usize)>) -> BTreeSet<usize> {
        SharedCache::chunks(self, ranges)
    }
    fn budget(&self) -> usize {
        SharedCache::budget(self)
    }
}

/// A view as the `n` rows of an axis: row `j` is the sub-view at index `j` of the
/// axis, whose runs are those of row 0 moved by `j * stride` bytes.
struct Rows<'a, T> {
    src: Src<'a>,
    order: ByteOrder,
    /// The runs of row 0 (the result's elements in memory order).
    runs: Runs,
    stride: isize,
    n: usize,
    _t: std::marker::PhantomData<T>,
}

impl<'a, T: Elem> Rows<'a, T> {
    fn new(view: &View<'a, T>, axis: usize) -> Result<Rows<'a, T>> {
        let mut index = vec![Index::ALL; view.ndim()];
        index[axis] = Index::Int(0);
        let row0 = view.slice(Spec::new(index).map_err(mmarray_core::Error::from)?)?;
        Ok(Rows {
            src: Src::Region(view.region()),
            order: view.dtype().byte_order(),
            runs: row0.runs(),
            stride: view.strides()[axis],
            n: view.shape()[axis],
            _t: std::marker::PhantomData,
        })
    }

    /// The rows of a chunked view, read through `cache`.
    fn chunked(
        view: &ChunkedView<'_, T>,
        axis: usize,
        cache: &'a dyn ChunkBytes,
    ) -> Result<Rows<'a, T>> {
        let mut index = vec![Index::ALL; view.ndim()];
        index[axis] = Index::Int(0);
        let row0 = view.slice(Spec::new(index).map_err(mmarray_core::Error::from)?)?;
        Ok(Rows {
            src: Src::Chunked(cache),
            order: view.dtype().byte_order(),
            runs: row0.runs(),
            stride: view.strides()[axis],
            n: view.shape()[axis],
            _t: std::marker::PhantomData,
        })
    }

    /// Holds the chunks that tasks reading `ranges` need (chunked rows only).
    fn prepare(&self, ranges: impl Iterator<Item = (usize, usize)>) -> Result<()> {
        match self.src {
            Src::Region(_) => Ok(()),
            Src::Chunked(c) => c.prepare(&mut ranges.into_iter()),
        }
    }

    /// The byte ranges of elements `t0..t1` (in memory order) of rows `j0..j1`.
    fn ranges(&self, (t0, t1): (usize, usize), (j0, j1): (usize, usize)) -> Vec<(usize, usize)> {
        let len = self.runs.run_len();
        let mut out = Vec::new();
        for j in j0..j1 {
            let mut t = t0;
            while t < t1 {
                let (c, p) = (t / len, t % len);
                let k = (len - p).min(t1 - t);
                out.push((self.offset(j, c, p), k * size_of::<T>()));
                t += k;
            }
        }
        out
    }

    /// Results (elements of a row).
    fn width(&self) -> usize {
        self.runs.len() * self.runs.run_len()
    }

    /// The byte offset of element `p` of run `c` of row `j`.
    fn offset(&self, j: usize, c: usize, p: usize) -> usize {
        // Inside the region: the view's geometry addresses every element of every row.
        (self.runs.offset(c) as isize + j as isize * self.stride) as usize + p * size_of::<T>()
    }

    /// The byte range of the contiguous lane of result `c` (the axis stride is one
    /// element), in memory order, and whether memory order runs against the axis.
    fn lane_range(&self, c: usize) -> (usize, usize, bool) {
        let isz = size_of::<T>();
        let off = self.runs.offset(c);
        let back = self.stride < 0;
        let start = if back { off - (self.n - 1) * isz } else { off };
        (start, self.n * isz, back)
    }

    /// The byte ranges of lanes `lanes` (see [`lane_range`](Self::lane_range)).
    fn lanes(&self, lanes: std::ops::Range<usize>) -> impl Iterator<Item = (usize, usize)> + '_ {
        lanes.map(|c| {
            let (start, len, _) = self.lane_range(c);
            (start, len)
        })
    }

    /// Calls `f` with the bytes of lane `c` (see [`lane_range`](Self::lane_range)).
    fn with_lane<R>(&self, c: usize, f: impl FnOnce(&[u8], bool) -> R) -> R {
        let (start, len, back) = self.lane_range(c);
        match self.src {
            Src::Region(region) => f(&region[start..start + len], back),
            Src::Chunked(chunks) => {
                let mut f = Some(f);
                let mut out = None;
                chunks.with_bytes(start, len, &mut |b| {
                    if let Some(f) = f.take() {
                        out = Some(f(b, back));
                    }
                });
                // with_bytes always calls back exactly once.
                out.unwrap_or_else(|| unreachable!("with_bytes calls back once"))
            }
        }
    }

    /// Feeds elements `t0..t1` (in memory order) of rows `j0..j1` to `tile`, in
    /// a build for AVX2 when the CPU has it (the same results: every addition is
    /// in the same order, and neither build contracts multiplications and additions).
    fn feed<Z: Tile<T::Work>>(&self, tile: &mut Z, t: (usize, usize), j: (usize, usize)) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            // SAFETY: the CPU has AVX2 and F16C (checked just above).
            unsafe { self.feed_avx2(tile, t, j) };
            return;
        }
        self.feed_any(tile, t, j);
    }

    /// [`feed_any`](Self::feed_any) compiled for AVX2 and F16C.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2 and F16C.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,f16c")]
    unsafe fn feed_avx2<Z: Tile<T::Work>>(
        &self,
        tile: &mut Z,
        t: (usize, usize),
        j: (usize, usize),
    ) {
        self.feed_any(tile, t, j);
    }

    /// The body of [`feed`](Self::feed), inlined (with the tile's `row`) into each build.
    #[inline(always)]
    fn feed_any<Z: Tile<T::Work>>(
        &self,
        tile: &mut Z,
        (t0, t1): (usize, usize),
        (j0, j1): (usize, usize),
    ) {
        let len = self.runs.run_len();
        let width = t1 - t0;
        let isz = size_of::<T>();
        // Mapped elements that need no decoding go to the tile `ROWS` rows at a
        // time (fewer passes over its accumulators, more loads in flight).
        let direct = !T::WIDEN && self.order.is_native();
        let group = match self.src {
            Src::Region(_) if direct => ROWS,
            _ => 1,
        };
        // Decode buffers only for data that cannot be read in place.
        let (mut raw, mut work) = (Vec::new(), Vec::new());
        let mut j = j0;
        while j < j1 {
            let count = group.min(j1 - j);
            let mut t = t0;
            while t < t1 {
                let (run, pos) = (t / len, t % len);
                let k = (len - pos).min(t1 - t);
                // The body written once for both sources; mapped bytes stay inline
                // code of this function (and so of its AVX2 build). Adds the `k`
                // values of `bytes`, of row `j`, for results from `t`.
                macro_rules! row {
                    ($bytes:expr, $t:expr, $k:expr, $j:expr) => {{
                        let (bytes, t, k): (&[u8], usize, usize) = ($bytes, $t, $k);
                        let cast = if direct {
                            bytemuck::try_cast_slice::<u8, T::Work>(bytes).ok()
                        } else {
                            None
                        };
                        let values: &[T::Work] = if let Some(v) = cast {
                            v
                        } else {
                            if raw.len() < width {
                                raw.resize(width, T::zeroed());
                                work.resize(width, <T::Work as bytemuck::Zeroable>::zeroed());
                            }
                            decode_prefix(bytes, self.order, &mut raw[..k]);
                            T::widen(&raw[..k], &mut work[..k]);
                            &work[..k]
                        };
                        tile.row(t - t0, values, $j);
                    }};
                }
                let nbytes = k * isz;
                match self.src {
                    Src::Region(region) => {
                        // Inside the region: the view's geometry addresses
                        // every element of every row.
                        let bytes = |q: usize| {
                            let at = self.offset(q, run, pos);
                            &region[at..at + nbytes]
                        };
                        // (`count` is `ROWS` only when the elements need no decoding.)
                        let cast =
                            |q: usize| bytemuck::try_cast_slice::<u8, T::Work>(bytes(q)).ok();
                        let rows = if count == ROWS {
                            (cast(j), cast(j + 1), cast(j + 2), cast(j + 3))
                        } else {
                            (None, None, None, None)
                        };
                        // Results are added column by column, so the groups of
                        // rows change no result.
                        if let (Some(r0), Some(r1), Some(r2), Some(r3)) = rows {
                            tile.rows(t - t0, [r0, r1, r2, r3], j);
                        } else {
                            for q in j..j + count {
                                row!(bytes(q), t, k, q);
                            }
                        }
                    }
                    Src::Chunked(chunks) => {
                        // One row at a time (`group` is 1), each chunk's part of
                        // it in place: no copy of the row across its chunks.
                        chunks.with_parts(
                            self.offset(j, run, pos),
                            nbytes,
                            &mut |p: usize, b: &[u8]| {
                                row!(b, t + p, b.len() / isz, j);
                            },
                        );
                    }
                }
                t += k;
            }
            j += count;
        }
    }
}

/// Where each result goes in the output buffer.
struct Placement {
    /// Results in memory order are the output in its order.
    identity: bool,
    /// Output strides (elements) of the result's axes.
    strides: Vec<usize>,
    osize: usize,
}

impl Placement {
    fn new(runs: &Runs, shape: &[usize], order: Order, osize: usize) -> Placement {
        let strides = mmarray_core::contiguous_strides(shape, 1, order)
            .iter()
            .map(|&s| s.unsigned_abs())
            .collect();
        Placement {
            identity: runs.is_linear(order),
            strides,
            osize,
        }
    }

    /// Writes `bytes` (native results `t0..` in memory order) into `out`.
    fn put(&self, runs: &Runs, t0: usize, bytes: &[u8], out: &mut [u8]) {
        let o = self.osize;
        if self.identity {
            out[t0 * o..t0 * o + bytes.len()].copy_from_slice(bytes);
            return;
        }
        let len = runs.run_len();
        let mut index = vec![0; self.strides.len()];
        for (i, v) in bytes.chunks_exact(o).enumerate() {
            let t = t0 + i;
            runs.multi_index(t / len, t % len, &mut index);
            let at: usize = index.iter().zip(&self.strides).map(|(i, s)| i * s).sum();
            out[at * o..(at + 1) * o].copy_from_slice(v);
        }
    }
}

/// The native bytes of results `0..width` of `tile`.
fn finish<T: Elem, Z: Tile<T::Work>>(
    tile: &Z,
    width: usize,
    n: usize,
    osize: usize,
) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; width * osize];
    for (i, slot) in bytes.chunks_exact_mut(osize).enumerate() {
        put(tile.value::<T>(i, n)?, slot);
    }
    Ok(bytes)
}

/// The end of a batch of the tasks `tasks` (their first always in it) over
/// chunked rows, whose byte ranges are `ranges(task)`: the tasks join while the
/// chunks they read stay within the budget ([`ChunkBytes::budget`]); a task
/// that reads no new chunk always joins.
fn batch_end(
    c: &dyn ChunkBytes,
    tasks: std::ops::Range<usize>,
    ranges: impl Fn(usize) -> Vec<(usize, usize)>,
) -> usize {
    let mut held = BTreeSet::new();
    for task in tasks.clone() {
        let ids = c.chunks(&mut ranges(task).into_iter());
        let new = ids.difference(&held).count();
        if task > tasks.start && new > 0 && held.len() + new > c.budget() {
            return task;
        }
        held.extend(ids);
    }
    tasks.end
}

/// The order of the row path's tasks, one per (tile, block of rows): `group`
/// tiles at a time, and inside a group block by block (its tiles' block 0, then
/// their block 1, ...), so that at most `group` tiles have started and not
/// finished, and each tile's blocks come in order. One tile per group goes down
/// the rows a tile at a time; a group of every tile goes across them a band of
/// rows at a time.
#[derive(Clone, Copy, Debug)]
struct Grid {
    tiles: usize,
    blocks: usize,
    group: usize,
}

impl Grid {
    fn tasks(self) -> usize {
        self.tiles * self.blocks
    }

    /// The (tile, block) of `task` (below [`tasks`](Self::tasks)).
    fn at(self, task: usize) -> (usize, usize) {
        let per = self.group * self.blocks;
        let (g, i) = (task / per, task % per);
        // The last group may have fewer tiles.
        let width = self.group.min(self.tiles - g * self.group);
        (g * self.group + i % width, i / width)
    }
}

/// How the row path cuts its work.
#[derive(Clone, Copy, Debug)]
struct RowPlan {
    /// Results per tile.
    tile: usize,
    /// Bytes of accumulators kept open at most over a mapping (a [`Grid`] group).
    open: usize,
    /// Tasks per parallel batch.
    batch: usize,
}

impl RowPlan {
    /// The plan for tiles of `tile` results.
    const fn new(tile: usize) -> RowPlan {
        RowPlan {
            tile,
            open: OPEN_BYTES,
            batch: BATCH,
        }
    }
}

/// The row path: tiles of results by blocks of rows, in parallel, blocks merged
/// in order; over a mapping, the tiles of a [`Grid`] group stay open at once.
fn by_rows<T: Elem, Z: Tile<T::Work>>(
    rows: &Rows<'_, T>,
    op: Op,
    opts: &ReduceOptions,
    plan: RowPlan,
    place: &Placement,
    out: &mut [u8],
) -> Result<()> {
    let (n, width) = (rows.n, rows.width());
    let tw = plan.tile.min(width).max(1);
    let tiles = width.div_ceil(tw);
    let rb = (SEGMENT_BYTES / size_of::<T>() / tw).max(1);
    let blocks = n.div_ceil(rb);
    let group = match rows.src {
        // Bands of rows: fewer page faults, each fault's neighbours read next.
        Src::Region(_) => (plan.open / (tw * Z::RESULT_BYTES)).clamp(1, tiles),
        // A column of chunks at a time: each is decoded once.
        Src::Chunked(_) => 1,
    };
    let grid = Grid {
        tiles,
        blocks,
        group,
    };
    let bounds = |task: usize| {
        let (tile, block) = grid.at(task);
        let t = (tile * tw, ((tile + 1) * tw).min(width));
        let j = (block * rb, ((block + 1) * rb).min(n));
        (t, j, block)
    };
    let tasks = grid.tasks();
    let ctx = Exec::current();
    // Accumulators of finished tasks and tiles, for the next tasks: new ones each
    // time cost page faults (zeroed pages, copy-on-write) that took a tenth of
    // the time of a sum over axis 0 of a (1024, 262144) float64 file.
    let spare: Mutex<Vec<Z>> = Mutex::new(Vec::new());
    let recycle = |z: Z| spare.lock().unwrap_or_else(PoisonError::into_inner).push(z);
    // A task's accumulators: every tile's are `tw` wide (a short last tile uses
    // the first few), so that any can be reused.
    let run = |task: usize| -> Z {
        let (t, j, _) = bounds(task);
        let reused = spare.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut z = reused.map_or_else(
            || Z::new(tw, op, opts),
            |mut z| {
                z.reset();
                z
            },
        );
        rows.feed(&mut z, t, j);
        ctx.advance((j.1 - j.0) * (t.1 - t.0) * size_of::<T>());
        z
    };
    // The partial accumulators of the group's tiles, by tile in the group.
    let mut open: Vec<Option<Z>> = Vec::new();
    if blocks > 1 {
        open.resize_with(group, || None);
    }
    let mut start = 0;
    while start < tasks {
        ctx.check()?;
        let mut end = (start + plan.batch.max(1)).min(tasks);
        if let Src::Chunked(c) = rows.src {
            end = batch_end(c, start..end, |task| {
                let (t, j, _) = bounds(task);
                rows.ranges(t, j)
            });
            rows.prepare((start..end).flat_map(|task| {
                let (t, j, _) = bounds(task);
                rows.ranges(t, j)
            }))?;
        }
        if blocks == 1 {
            // Each task is a whole tile: finish it in parallel too.
            let done: Vec<Result<Vec<u8>>> = (start..end)
                .into_par_iter()
                .map(|i| {
                    let (t, _, _) = bounds(i);
                    let z = run(i);
                    let bytes = finish::<T, Z>(&z, t.1 - t.0, n, place.osize);
                    recycle(z);
                    bytes
                })
                .collect();
            for (task, bytes) in (start..end).zip(done) {
                place.put(&rows.runs, bounds(task).0.0, &bytes?, out);
            }
        } else {
            let parts: Vec<Z> = (start..end).into_par_iter().map(run).collect();
            for (i, part) in (start..end).zip(parts) {
                let (t, _, block) = bounds(i);
                let slot = &mut open[(t.0 / tw) % group];
                match slot.as_mut() {
                    Some(z) if block > 0 => {
                        z.merge(&part);
                        recycle(part);
                    }
                    _ => *slot = Some(part),
                }
                if block + 1 == blocks
                    && let Some(z) = slot.take()
                {
                    let bytes = finish::<T, Z>(&z, t.1 - t.0, n, place.osize)?;
                    place.put(&rows.runs, t.0, &bytes, out);
                    recycle(z);
                }
            }
        }
        start = end;
    }
    Ok(())
}

/// [`by_lanes`] for lanes of a segment or more: each with the whole-array
/// reduction (parallel inside); `backwards` reverses a lane for argmin/argmax.
fn by_long_lanes<T: Elem>(
    rows: &Rows<'_, T>,
    op: Op,
    opts: &ReduceOptions,
    place: &Placement,
    out: &mut [u8],
    long_lane: &(dyn Fn(usize) -> Result<Value> + Sync),
    backwards: &Spec,
) -> Result<()> {
    let (n, width) = (rows.n, rows.width());
    let ctx = Exec::current();
    let lane_value = |c: usize| -> Result<Value> {
        ctx.check()?;
        match rows.src {
            Src::Region(region) => {
                let (start, len, back) = rows.lane_range(c);
                let lane =
                    View::<T>::from_bytes(&region[start..start + len], &[n], Order::C, rows.order)?;
                if back {
                    reduce(&lane.slice(backwards.clone())?, op, opts)
                } else {
                    reduce(&lane, op, opts)
                }
            }
            Src::Chunked(_) => long_lane(c),
        }
    };
    let mut slot = vec![0u8; place.osize];
    // Lanes of a few segments cannot keep every thread busy one at a time
    // (a lane of one segment runs on one thread): the threads take whole
    // lanes instead, in increasing order, as one stream through the file.
    // A lane's value is the same either way, as reductions do not depend
    // on the threads. (Chunked lanes stay one at a time: each holds a band
    // of chunks.)
    let share = rayon::current_num_threads() * SHARE_SEGMENTS * SEGMENT_BYTES;
    if matches!(rows.src, Src::Region(_)) && n * size_of::<T>() < share {
        let mut start = 0;
        while start < width {
            ctx.check()?;
            let end = (start + BATCH).min(width);
            let values = in_order(start, end, |c| {
                let _entered = ctx.enter();
                lane_value(c)
            });
            for (c, value) in (start..).zip(values) {
                put(value?, &mut slot);
                place.put(&rows.runs, c, &slot, out);
            }
            start = end;
        }
        return Ok(());
    }
    for c in 0..width {
        put(lane_value(c)?, &mut slot);
        place.put(&rows.runs, c, &slot, out);
    }
    Ok(())
}

/// The lane path: the axis is contiguous, each result reduces one lane with the
/// whole-array kernels (the same values in the same blocks as a whole-array
/// reduction of that lane). `long_lane` reduces lane `c` of a segment or more
/// for chunked rows (a view of the lane, read a band of chunks at a time).
fn by_lanes<T: Elem>(
    rows: &Rows<'_, T>,
    op: Op,
    opts: &ReduceOptions,
    place: &Placement,
    out: &mut [u8],
    long_lane: &(dyn Fn(usize) -> Result<Value> + Sync),
) -> Result<()> {
    let (n, width) = (rows.n, rows.width());
    let isz = size_of::<T>();
    let osize = place.osize;
    let ctx = Exec::current();
    // The logical indices of a lane's elements in memory order (backwards when
    // the axis stride is negative), for argmin/argmax.
    let backwards = Spec::new(vec![Index::Slice {
        start: None,
        stop: None,
        step: -1,
    }])
    .map_err(mmarray_core::Error::from)?;
    let lane_view = |bytes: &[u8], back: bool| -> Result<Runs> {
        let lane = View::<T>::from_bytes(bytes, &[n], Order::C, rows.order)?;
        Ok(if back {
            lane.slice(backwards.clone())?.runs()
        } else {
            lane.runs()
        })
    };
    if n * isz >= SEGMENT_BYTES {
        return by_long_lanes(rows, op, opts, place, out, long_lane, &backwards);
    }
    rows.prepare(rows.lanes(0..1))?;
    let lane_runs = rows.with_lane(0, lane_view)?;
    let group = (SEGMENT_BYTES / (n * isz).max(1)).max(1);
    // Results `from..to` (in memory order) into `slots`.
    let lanes = |from: usize, slots: &mut [u8]| -> Result<()> {
        ctx.check()?;
        for (c, slot) in (from..).zip(slots.chunks_exact_mut(osize)) {
            let value = rows.with_lane(c, |bytes, _| {
                let lane = Lane {
                    bytes,
                    order: rows.order,
                    runs: &lane_runs,
                };
                reduce_source::<T>(&lane, op, opts)
            })?;
            put(value, slot);
        }
        ctx.advance(slots.len() / osize * n * isz);
        Ok(())
    };
    if place.identity && matches!(rows.src, Src::Region(_)) {
        // Results in memory order are the output: each group writes its own slots.
        return out
            .par_chunks_mut(group * osize)
            .enumerate()
            .try_for_each(|(g, slots)| lanes(g * group, slots));
    }
    let groups = width.div_ceil(group);
    let mut start = 0;
    while start < groups {
        ctx.check()?;
        let mut end = (start + BATCH).min(groups);
        if let Src::Chunked(c) = rows.src {
            end = batch_end(c, start..end, |g| {
                rows.lanes(g * group..((g + 1) * group).min(width))
                    .collect()
            });
        }
        let last = (end * group).min(width);
        rows.prepare(rows.lanes(start * group..last))?;
        let done: Vec<Result<Vec<u8>>> = (start..end)
            .into_par_iter()
            .map(|g| {
                let (from, to) = (g * group, ((g + 1) * group).min(width));
                let mut bytes = vec![0u8; (to - from) * osize];
                lanes(from, &mut bytes)?;
                Ok(bytes)
            })
            .collect();
        for (g, bytes) in (start..end).zip(done) {
            place.put(&rows.runs, g * group, &bytes?, out);
        }
        start = end;
    }
    Ok(())
}

/// Reduces `view` along `axis` (already normalised) into `out`: native elements of
/// [`result_kind`] for the result's shape, in `order`.
fn reduce_axis_into<T: Elem>(
    view: &impl Input<T>,
    axis: usize,
    op: Op,
    opts: &ReduceOptions,
    order: Order,
    out: &mut [u8],
) -> Result<()> {
    let data = view.data();
    let shape = data.shape();
    let n = shape[axis];
    // As numpy: an empty axis is an error for reductions without identity, even
    // when the result is empty too.
    if n == 0 && matches!(op, Op::Min | Op::Max | Op::Argmin | Op::Argmax) {
        return Err(Error::Empty { op: op.name() });
    }
    if out.is_empty() {
        return Ok(());
    }
    let osize = result_kind(op, T::KIND).itemsize();
    if n == 0 {
        let mut slot = vec![0u8; osize];
        put(Acc::<T::Work>::EMPTY.finish::<T>(op, opts, 0)?, &mut slot);
        for o in out.chunks_exact_mut(osize) {
            o.copy_from_slice(&slot);
        }
        return Ok(());
    }
    let mut result_shape = shape.to_vec();
    result_shape.remove(axis);
    match data {
        Data::Mapped(v) => {
            let rows = Rows::new(v, axis)?;
            let place = Placement::new(&rows.runs, &result_shape, order, osize);
            // Mapped lanes are reduced in place, never through `long_lane`.
            by_rows_or_lanes(&rows, op, opts, &place, out, &|_| {
                Err(mmarray_core::Error::Unsupported(
                    "a mapped lane has no chunked view".to_owned(),
                )
                .into())
            })
        }
        Data::Chunked(v) => {
            let cache = SharedCache::new(v);
            let rows = Rows::chunked(v, axis, &cache)?;
            let place = Placement::new(&rows.runs, &result_shape, order, osize);
            let long_lane = |c: usize| -> Result<Value> {
                let len = rows.runs.run_len();
                let mut index = vec![0usize; result_shape.len()];
                rows.runs.multi_index(c / len, c % len, &mut index);
                let mut spec: Vec<Index> = index.iter().map(|&i| Index::Int(i as isize)).collect();
                spec.insert(axis, Index::ALL);
                let lane = v.slice(Spec::new(spec).map_err(mmarray_core::Error::from)?)?;
                reduce(&lane, op, opts)
            };
            by_rows_or_lanes(&rows, op, opts, &place, out, &long_lane)
        }
    }
}

/// The lane path when the axis is contiguous, the row path (with the tiles of
/// the reduction) otherwise.
fn by_rows_or_lanes<T: Elem>(
    rows: &Rows<'_, T>,
    op: Op,
    opts: &ReduceOptions,
    place: &Placement,
    out: &mut [u8],
    long_lane: &(dyn Fn(usize) -> Result<Value> + Sync),
) -> Result<()> {
    if rows.n > 1 && rows.stride.unsigned_abs() == size_of::<T>() && rows.runs.run_len() == 1 {
        return by_lanes(rows, op, opts, place, out, long_lane);
    }
    let sums = RowPlan::new(SUM_TILE);
    let float = <T::Work as Num>::FLOAT;
    let plain_real = !(<T::Work as Num>::COMPLEX || opts.skipna && float);
    match op {
        Op::Sum if !float => by_rows::<T, IntSums>(rows, op, opts, sums, place, out),
        Op::Sum | Op::Mean if plain_real => {
            by_rows::<T, FloatSums>(rows, op, opts, sums, place, out)
        }
        _ => by_rows::<T, Accs<T::Work>>(rows, op, opts, RowPlan::new(ACC_TILE), place, out),
    }
}

/// The result's shape and dtype, and a buffer for it (refused, not aborted, when
/// it cannot be allocated).
fn result_buffer(
    shape: &[usize],
    op: Op,
    kind: Kind,
    axis: usize,
) -> Result<(Vec<usize>, Vec<u8>)> {
    let mut out_shape = shape.to_vec();
    out_shape.remove(axis);
    // The result can be far larger than the input (a zero-length axis makes an
    // empty array of any width): refuse what cannot be allocated instead of aborting.
    let too_large = || {
        Error::from(InvalidArgument::ResultTooLarge {
            op: op.name(),
            axis,
            shape: out_shape.clone(),
            dtype: DType::native(result_kind(op, kind)),
        })
    };
    let bytes = mmarray_core::checked_nbytes(&out_shape, result_kind(op, kind).itemsize())
        .ok_or_else(too_large)?;
    let mut data = Vec::new();
    data.try_reserve_exact(bytes).map_err(|_| too_large())?;
    data.resize(bytes, 0u8);
    Ok((out_shape, data))
}

/// The memory order of the axis results of a view: F when the view is
/// F-contiguous (and not C-contiguous), C otherwise (chunked views included).
fn result_order<T: Element>(input: &Data<'_, T>) -> Order {
    match input {
        Data::Mapped(v) if v.ndim() > 1 && v.is_f_contiguous() && !v.is_c_contiguous() => Order::F,
        _ => Order::C,
    }
}

/// Reduces any view along `axis` (negative counts from the end) into memory, in
/// parallel; the same bits for any number of threads.
///
/// The result is in F order when the view is F-contiguous (and not C-contiguous),
/// in C order otherwise; argmin/argmax give indices along the axis. Along a
/// contiguous axis the whole-array kernels apply; along other axes each result
/// adds its values in axis order within blocks of rows, and the blocks are added
/// in order.
///
/// ```
/// use mmarray_core::{Order, View};
/// use mmarray_dtype::ByteOrder;
/// use mmarray_ops::{Op, ReduceOptions, reduce_axis_view};
/// let bytes: Vec<u8> = (1..=6i32).flat_map(|v| v.to_be_bytes()).collect();
/// let v = View::<i32>::from_bytes(&bytes, &[2, 3], Order::C, ByteOrder::Big)?;
/// let r = reduce_axis_view(&v.slice(":, ::-1")?, Op::Sum, 0, &ReduceOptions::default())?;
/// assert_eq!(r.shape, [3]);
/// let sums: Vec<i64> = r.data.chunks(8).map(|c| i64::from_ne_bytes(c.try_into().unwrap())).collect();
/// assert_eq!(sums, [9, 7, 5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn reduce_axis_view<T: Elem>(
    view: &impl Input<T>,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
) -> Result<AxisResult> {
    let input = view.data();
    let in_shape = input.shape();
    let axis = normalize_axis(axis, in_shape.len())?;
    let order = result_order(&input);
    let (shape, mut data) = result_buffer(in_shape, op, T::KIND, axis)?;
    with(|_| reduce_axis_into(view, axis, op, opts, order, &mut data))?;
    Ok(AxisResult {
        dtype: DType::native(result_kind(op, T::KIND)),
        shape,
        order,
        data,
    })
}

/// Reduces `array` along `axis` (negative counts from the end) into memory.
///
/// The result has the array's memory order; argmin/argmax give indices along the
/// axis. Sums along the contiguous axis use the same accurate kernels as whole-array
/// sums; along other axes values are added in axis order, as numpy does.
pub fn reduce_axis<M: Mode>(
    array: &DynArray<M>,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
) -> Result<AxisResult> {
    let axis = normalize_axis(axis, array.ndim())?;
    let kind = array.dtype().kind();
    let (shape, mut data) = result_buffer(array.shape(), op, kind, axis)?;
    array.advise(mmarray_core::lowlevel::Advice::Sequential);
    let order = array.order();
    dispatch!(kind, T => {
        let view = array.view::<T>()?;
        with(|_| reduce_axis_into::<T>(&view, axis, op, opts, order, &mut data))
    })?;
    Ok(AxisResult {
        dtype: DType::native(result_kind(op, kind)),
        shape,
        order: array.order(),
        data,
    })
}

/// Reduces `array` along `axis` into a new `.npy` file at `out`, written under a
/// temporary name and renamed when complete; replaces an existing file only if
/// `overwrite`. Memory use does not grow with the size of the array.
pub fn reduce_axis_to_npy<M: Mode>(
    array: &DynArray<M>,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
    out: &Path,
    overwrite: bool,
) -> Result<()> {
    array.advise(mmarray_core::lowlevel::Advice::Sequential);
    dispatch!(array.dtype().kind(), T => {
        axis_to_npy(&array.view::<T>()?, array.order(), op, axis, opts, out, overwrite)
    })
}

/// [`reduce_axis_to_npy`] for a chunked array (a Zarr store, say): the result is
/// in C order.
pub fn reduce_axis_chunked_to_npy(
    array: &Chunked,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
    out: &Path,
    overwrite: bool,
) -> Result<()> {
    dispatch!(array.dtype().kind(), T => {
        axis_to_npy(&array.view::<T>()?, Order::C, op, axis, opts, out, overwrite)
    })
}

/// Reduces any view along `axis` (negative counts from the end) into a new `.npy`
/// file at `out`: [`reduce_axis_view`] written to a file instead of memory
/// (numpy's `np.save(out, view.<op>(axis=axis))`), under a temporary name renamed
/// when complete; replaces an existing file only if `overwrite`. Memory use does
/// not grow with the size of the view or of the result.
///
/// ```
/// use mmarray_core::{Array, Order, ReadOnly, View};
/// use mmarray_dtype::ByteOrder;
/// use mmarray_ops::{Op, ReduceOptions, reduce_axis_view_to_npy};
/// # let dir = tempfile::tempdir()?;
/// let values: Vec<f64> = (0..12).map(f64::from).collect();
/// let v = View::<f64>::from_bytes(bytemuck::cast_slice(&values), &[4, 3], Order::C, ByteOrder::NATIVE)?;
/// let out = dir.path().join("means.npy");
/// // np.save(out, v[1:3].mean(axis=0))
/// reduce_axis_view_to_npy(&v.slice("1:3")?, Op::Mean, 0, &ReduceOptions::default(), &out, false)?;
/// // SAFETY: the file is private to this example.
/// let means = unsafe { Array::<f64, ReadOnly>::open(&out)? };
/// assert_eq!(means.view().to_vec(), [4.5, 5.5, 6.5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn reduce_axis_view_to_npy<T: Elem>(
    view: &impl Input<T>,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
    out: &Path,
    overwrite: bool,
) -> Result<()> {
    let order = result_order(&view.data());
    axis_to_npy(view, order, op, axis, opts, out, overwrite)
}

/// The body of [`reduce_axis_to_npy`] and [`reduce_axis_view_to_npy`]: `view`
/// reduced into a new `.npy` in `order`.
fn axis_to_npy<T: Elem>(
    view: &impl Input<T>,
    order: Order,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
    out: &Path,
    overwrite: bool,
) -> Result<()> {
    let mut shape = view.data().shape().to_vec();
    let axis = normalize_axis(axis, shape.len())?;
    shape.remove(axis);
    // As np.save: a result of at most one dimension is C order.
    let order = if shape.len() <= 1 { Order::C } else { order };
    if !overwrite && out.exists() {
        return Err(mmarray_core::Error::Exists {
            path: out.to_owned(),
        }
        .into());
    }
    // SAFETY: the staged file is new and private to this call until it is renamed.
    let mut dst = unsafe {
        DynArray::create_staged(
            out,
            DType::native(result_kind(op, T::KIND)),
            &shape,
            order,
            &CreateOptions::new(),
        )
    }?;
    let bytes = dst.bytes_mut();
    with(|_| reduce_axis_into::<T>(view, axis, op, opts, order, bytes))?;
    dst.persist(overwrite)?.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunked bytes whose chunk of a byte range `(offset, len)` is `offset`,
    /// with a budget of `.0` chunks.
    struct Fake(usize);

    impl ChunkBytes for Fake {
        fn with_bytes(&self, _: usize, _: usize, _: &mut dyn FnMut(&[u8])) {}
        fn with_parts(&self, _: usize, _: usize, _: &mut dyn FnMut(usize, &[u8])) {}
        fn prepare(&self, _: &mut dyn Iterator<Item = (usize, usize)>) -> Result<()> {
            Ok(())
        }
        fn chunks(&self, ranges: &mut dyn Iterator<Item = (usize, usize)>) -> BTreeSet<usize> {
            ranges.map(|(offset, _)| offset).collect()
        }
        fn budget(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn the_grid_takes_every_task_once_blocks_in_order_and_few_tiles_open() {
        for (tiles, blocks) in [(1, 1), (1, 7), (5, 1), (5, 5), (7, 3), (64, 2)] {
            for group in [1, 2, 3, 5, tiles, tiles + 4] {
                let grid = Grid {
                    tiles,
                    blocks,
                    group,
                };
                let ctx = format!("{tiles} tiles, {blocks} blocks, groups of {group}");
                // Each tile's next block, and the tiles started and not finished.
                let mut next = vec![0; tiles];
                let mut open = 0usize;
                for task in 0..grid.tasks() {
                    let (tile, block) = grid.at(task);
                    assert!(tile < tiles, "{ctx}: task {task}");
                    assert_eq!(block, next[tile], "{ctx}: task {task}: tile {tile}");
                    next[tile] += 1;
                    open += usize::from(block == 0);
                    assert!(open <= group.max(1), "{ctx}: {open} tiles open at {task}");
                    open -= usize::from(block + 1 == blocks);
                    // One tile per group goes down the rows; a group of all of them across.
                    if group == 1 {
                        assert_eq!((tile, block), (task / blocks, task % blocks), "{ctx}");
                    }
                    if group >= tiles {
                        assert_eq!((tile, block), (task % tiles, task / tiles), "{ctx}");
                    }
                }
                assert!(next.iter().all(|&b| b == blocks), "{ctx}: {next:?}");
            }
        }
    }

    /// The bytes `by_rows` gives for `op` over axis 0 of `view`, with `open` bytes of
    /// accumulators open at most, in batches of 4 tasks.
    fn rows_result<T: Elem, Z: Tile<T::Work>>(
        view: &View<'_, T>,
        op: Op,
        tile: usize,
        open: usize,
    ) -> Vec<u8> {
        let plan = RowPlan {
            tile,
            open,
            batch: 4,
        };
        let rows = Rows::new(view, 0).unwrap();
        let osize = result_kind(op, T::KIND).itemsize();
        let place = Placement::new(&rows.runs, &view.shape()[1..], Order::C, osize);
        let mut out = vec![0u8; rows.width() * osize];
        let opts = ReduceOptions::default();
        by_rows::<T, Z>(&rows, op, &opts, plan, &place, &mut out).unwrap();
        out
    }

    #[test]
    fn the_row_path_gives_the_same_bits_whatever_tiles_stay_open() {
        // 300 rows of 10000: 5 tiles of 2048 (the last short) by 5 blocks of 64 rows
        // for the sums, 10 tiles of 1024 by 3 blocks of 128 rows for the others;
        // in batches of 4 tasks, so that accumulators are reused.
        let (rows, cols) = (300usize, 10_000usize);
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let floats: Vec<f64> = (0..rows * cols)
            .map(|_| (next() >> 11) as f64 / (1u64 << 40) as f64 - 4096.0)
            .collect();
        let fb: Vec<u8> = floats.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let fv = View::<f64>::from_bytes(&fb, &[rows, cols], Order::C, ByteOrder::NATIVE).unwrap();
        let ints: Vec<i32> = (0..rows * cols).map(|_| next() as i32).collect();
        let ib: Vec<u8> = ints.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let iv = View::<i32>::from_bytes(&ib, &[rows, cols], Order::C, ByteOrder::NATIVE).unwrap();
        let tile_bytes = |tile: usize, per: usize| tile * per;
        // Groups of one tile (down the rows), of three (and a short last group),
        // and of every tile (across).
        for groups in [1, 3, usize::MAX / 2] {
            let open = |tile, per| tile_bytes(tile, per).saturating_mul(groups);
            let word = size_of::<f64>();
            assert!(
                rows_result::<f64, FloatSums>(&fv, Op::Sum, SUM_TILE, open(SUM_TILE, word))
                    == rows_result::<f64, FloatSums>(&fv, Op::Sum, SUM_TILE, 0),
                "float sums, groups of {groups}"
            );
            assert!(
                rows_result::<i32, IntSums>(&iv, Op::Sum, SUM_TILE, open(SUM_TILE, word))
                    == rows_result::<i32, IntSums>(&iv, Op::Sum, SUM_TILE, 0),
                "int sums, groups of {groups}"
            );
            let acc = size_of::<Acc<f64>>();
            for op in [Op::Std, Op::Argmax, Op::Min] {
                assert!(
                    rows_result::<f64, Accs<f64>>(&fv, op, ACC_TILE, open(ACC_TILE, acc))
                        == rows_result::<f64, Accs<f64>>(&fv, op, ACC_TILE, 0),
                    "{op}, groups of {groups}"
                );
            }
        }
        // The sums are each column's, added row by row within each block of rows,
        // the blocks' sums then added in order; the integers wrap.
        let sums = rows_result::<f64, FloatSums>(&fv, Op::Sum, SUM_TILE, OPEN_BYTES);
        let isums = rows_result::<i32, IntSums>(&iv, Op::Sum, SUM_TILE, OPEN_BYTES);
        let block = SEGMENT_BYTES / size_of::<f64>() / SUM_TILE;
        for c in 0..cols {
            let column = (0..rows).map(|r| floats[r * cols + c]).collect::<Vec<_>>();
            let want = column
                .chunks(block)
                .map(|b| b.iter().fold(0.0, |a, &x| a + x))
                .reduce(|a, b| a + b)
                .unwrap_or(0.0);
            let have = f64::from_ne_bytes(sums[c * 8..c * 8 + 8].try_into().unwrap());
            assert_eq!(have.to_bits(), want.to_bits(), "float sum of column {c}");
            let want = (0..rows).fold(0i64, |a, r| a.wrapping_add(i64::from(ints[r * cols + c])));
            let have = i64::from_ne_bytes(isums[c * 8..c * 8 + 8].try_into().unwrap());
            assert_eq!(have, want, "int sum of column {c}");
        }
        // And the same as the whole-array reduction of each column, to the last bit
        // for min and argmax.
        let got = rows_result::<f64, Accs<f64>>(&fv, Op::Min, ACC_TILE, OPEN_BYTES);
        for c in [0, 1023, 1024, 5000, cols - 1] {
            let column = fv.slice(Spec::new(vec![Index::ALL, Index::Int(c as isize)]).unwrap());
            let Value::F64(want) =
                reduce(&column.unwrap(), Op::Min, &ReduceOptions::default()).unwrap()
            else {
                panic!("min of float64 is float64")
            };
            let have = f64::from_ne_bytes(got[c * 8..c * 8 + 8].try_into().unwrap());
            assert_eq!(have.to_bits(), want.to_bits(), "column {c}");
        }
    }

    #[test]
    fn batches_hold_at_most_their_budget_of_chunks() {
        // The chunks each task reads.
        let reads: [&[usize]; 6] = [&[0, 1], &[1], &[2], &[0, 2], &[3], &[4, 5, 6]];
        let ranges = |t: usize| reads[t].iter().map(|&c| (c, 1)).collect();
        // {0, 1, 2} after four tasks; the fifth would make four chunks.
        assert_eq!(batch_end(&Fake(3), 0..6, ranges), 4);
        // {3}, then {4, 5, 6} would make four.
        assert_eq!(batch_end(&Fake(3), 4..6, ranges), 5);
        // The first task is always in, whatever it reads.
        assert_eq!(batch_end(&Fake(3), 5..6, ranges), 6);
        // A task that reads no new chunk joins even over the budget.
        assert_eq!(batch_end(&Fake(1), 0..6, ranges), 2);
        // The batch never passes its tasks' end.
        assert_eq!(batch_end(&Fake(100), 0..3, ranges), 3);
    }
}
