//! Chunked arrays give the same results as the same data in one contiguous
//! array, bit for bit: every reduction, `stats`, fills, random fills and
//! in-place maps, for every dtype and byte order, C and F order, odd chunk
//! shapes with partial edge chunks, chunk buffers in C and F order, views that
//! cross chunk boundaries, and any number of threads.

#![allow(clippy::many_single_char_names)]

mod common;

use common::{Flavor, Rng, all_ops, encode_bytes, flavors, random_values, same_bits, with_threads};
use mmarray_core::chunk::{ChunkBytes, ChunkGrid, ChunkSource, ChunkStream, Chunked, MemoryChunks};
use mmarray_core::{Order, View, ViewMut};
use mmarray_dtype::{Bool, ByteOrder, Complex32, Complex64, DType, Native, f16};
use mmarray_ops::{
    Dist, Elem, Error, Input, ReduceOptions, Stats, fill, fill_with, map_in_place, random_view,
    reduce, stats,
};

/// Views of a 3-d array that cross chunk boundaries in every way basic indexing can.
const SPECS: [&str; 7] = [
    "...",
    "1:-1, ::-2, 2:",
    "::3, 1, :",
    "..., 3",
    "2:3, 4:5, :",
    "::-1, ::-1, ::-1",
    "5:2",
];

/// Chunk shapes for an array of shape (7, 9, 10): odd, partial at the edges, one
/// element wide, whole rows, the whole array.
const CHUNKS: [[usize; 3]; 5] = [[3, 4, 3], [1, 9, 10], [7, 9, 10], [2, 1, 7], [4, 5, 1]];

/// Element bytes equal (NaNs compare by their bits).
fn same_bytes<T: bytemuck::Pod>(a: &[T], b: &[T]) -> bool {
    bytemuck::cast_slice::<T, u8>(a) == bytemuck::cast_slice::<T, u8>(b)
}

/// Chunkings to test: every shape of [`CHUNKS`] with C-order buffers, two with F-order ones.
fn chunkings() -> Vec<([usize; 3], Order)> {
    let mut v: Vec<_> = CHUNKS.iter().map(|&c| (c, Order::C)).collect();
    v.push((CHUNKS[0], Order::F));
    v.push((CHUNKS[3], Order::F));
    v
}

fn stats_bits(a: &Stats, b: &Stats) -> bool {
    let opt = |x: &Option<_>, y: &Option<_>| match (x, y) {
        (Some(x), Some(y)) => same_bits(x, y),
        (None, None) => true,
        _ => false,
    };
    a.count == b.count
        && same_bits(&a.sum, &b.sum)
        && same_bits(&a.mean, &b.mean)
        && same_bits(&a.std, &b.std)
        && opt(&a.min, &b.min)
        && opt(&a.max, &b.max)
}

/// Every reduction (with every option) and `stats` of the contiguous view `v`
/// and of the chunked view `c` agree bit for bit (or fail with the same
/// message), on the current pool.
fn all_reductions_agree<T: Elem>(ctx: &str, v: &impl Input<T>, c: &impl Input<T>) {
    for (op, opts) in all_ops() {
        match (reduce(v, op, &opts), reduce(c, op, &opts)) {
            (Ok(x), Ok(y)) => assert!(
                same_bits(&x, &y),
                "{ctx}: {op} {opts:?}: contiguous {x:?}, chunked {y:?}"
            ),
            (Err(x), Err(y)) => {
                assert_eq!(x.to_string(), y.to_string(), "{ctx}: {op}");
            }
            (x, y) => panic!("{ctx}: {op}: {x:?} vs {y:?}"),
        }
    }
    for skipna in [false, true] {
        let (x, y) = (stats(v, skipna).unwrap(), stats(c, skipna).unwrap());
        assert!(stats_bits(&x, &y), "{ctx}: stats {x:?} vs {y:?}");
    }
}

/// The same data as a contiguous view and as chunked arrays of every chunking:
/// every reduction and `stats` agree bit for bit, on every view.
fn reductions_agree<T: Elem + Native>(rng: &mut Rng) {
    let shape = [7usize, 9, 10];
    let n: usize = shape.iter().product();
    for &flavor in flavors(T::KIND) {
        let values: Vec<T> = random_values(rng, n, flavor);
        for bo in [ByteOrder::Little, ByteOrder::Big] {
            let bytes = encode_bytes(&values, bo);
            for order in [Order::C, Order::F] {
                let whole = View::<T>::from_bytes(&bytes, &shape, order, bo).unwrap();
                for (chunk, chunk_order) in chunkings() {
                    {
                        let src = MemoryChunks::from_view(&whole, &chunk, chunk_order).unwrap();
                        let a = Chunked::new(Box::new(src)).with_order(order);
                        let all = a.view::<T>().unwrap();
                        for spec in SPECS {
                            let ctx = format!(
                                "{} {bo:?} {order:?} {flavor:?} chunks {chunk:?} {chunk_order:?} [{spec}]",
                                T::KIND.name()
                            );
                            let v = whole.slice(spec).unwrap();
                            let c = all.slice(spec).unwrap();
                            assert!(
                                same_bytes(&c.to_vec().unwrap(), &v.to_vec()),
                                "{ctx}: values"
                            );
                            all_reductions_agree(&ctx, &v, &c);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn reductions_of_every_dtype_match_the_contiguous_array_bit_for_bit() {
    let mut rng = Rng::new(11);
    reductions_agree::<f64>(&mut rng);
    reductions_agree::<f32>(&mut rng);
    reductions_agree::<f16>(&mut rng);
    reductions_agree::<Complex32>(&mut rng);
    reductions_agree::<Complex64>(&mut rng);
    reductions_agree::<i64>(&mut rng);
    reductions_agree::<i8>(&mut rng);
    reductions_agree::<u16>(&mut rng);
    reductions_agree::<u32>(&mut rng);
    reductions_agree::<Bool>(&mut rng);
}

/// Counts chunk reads.
#[derive(Debug)]
struct Counting {
    inner: MemoryChunks,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ChunkSource for Counting {
    fn dtype(&self) -> DType {
        self.inner.dtype()
    }
    fn grid(&self) -> &ChunkGrid {
        self.inner.grid()
    }
    fn name(&self) -> String {
        "counting".to_owned()
    }
    fn read_chunk(&self, coords: &[usize], buf: Vec<u8>) -> mmarray_core::Result<ChunkBytes<'_>> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.read_chunk(coords, buf)
    }
    fn is_writable(&self) -> bool {
        self.inner.is_writable()
    }
    fn write_chunk(&self, coords: &[usize], bytes: &[u8]) -> mmarray_core::Result<()> {
        self.inner.write_chunk(coords, bytes)
    }
}

/// Several segments and batches (the engine's units: 1 MiB and 64 of them), so
/// that chunks are loaded and dropped batch by batch; any thread count; each
/// chunk read once per pass.
#[test]
fn long_arrays_match_over_many_batches_on_any_pool() {
    let mut rng = Rng::new(5);
    // 70 MiB of float16 in chunks that cut rows and are not powers of two.
    let shape = [4100usize, 9000];
    let values: Vec<f16> = random_values(&mut rng, shape[0] * shape[1], Flavor::Nans);
    let bytes = encode_bytes(&values, ByteOrder::Big);
    let whole = View::<f16>::from_bytes(&bytes, &shape, Order::C, ByteOrder::Big).unwrap();
    let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let source = Counting {
        inner: MemoryChunks::from_view(&whole, &[1000, 700], Order::C).unwrap(),
        reads: reads.clone(),
    };
    let a = Chunked::new(Box::new(source));
    let c = a.view::<f16>().unwrap();
    let skip = ReduceOptions {
        skipna: true,
        ddof: 1,
    };
    let cases = [
        ("...", mmarray_ops::Op::Std, skip),
        ("...", mmarray_ops::Op::Argmax, ReduceOptions::default()),
        ("::-3, 5:", mmarray_ops::Op::Sum, skip),
    ];
    for (spec, op, o) in cases {
        let (v, c) = (whole.slice(spec).unwrap(), c.slice(spec).unwrap());
        let want = with_threads(2, || reduce(&v, op, &o).unwrap());
        for threads in [1, 3] {
            let got = with_threads(threads, || reduce(&c, op, &o).unwrap());
            assert!(
                same_bits(&want, &got),
                "[{spec}] {op} {o:?} {threads} threads: {want:?} vs {got:?}"
            );
        }
    }
    // 6 passes, each reading each of the 5 x 13 chunks once.
    assert_eq!(a.grid().len(), 65);
    assert_eq!(reads.load(std::sync::atomic::Ordering::Relaxed), 6 * 65);
}

/// Tiny chunks (a hostile or careless store: 32 bytes each here, 93 750 of
/// them in one row of chunks) do not make a pass hold them all: a batch holds a bounded number, so
/// chunks of a row of chunks are dropped before the next row of the array
/// needs them, and read again (written back and read again, for a map). The
/// results are those of the contiguous array.
#[test]
fn tiny_chunks_are_held_a_bounded_number_at_a_time() {
    // Rows of 1.5 million values (1.5 segments) in chunks of 2 x 16: 93 750
    // chunks, each needed by both rows of the array.
    let shape = [2usize, 1_500_000];
    let values: Vec<u8> = (0..shape[0] * shape[1]).map(|i| (i % 251) as u8).collect();
    let whole = View::<u8>::from_bytes(&values, &shape, Order::C, ByteOrder::Little).unwrap();
    let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let source = Counting {
        inner: MemoryChunks::from_view(&whole, &[2, 16], Order::C).unwrap(),
        reads: reads.clone(),
    };
    let mut a = Chunked::new(Box::new(source));
    let n_chunks = a.grid().len();
    assert_eq!(n_chunks, 93_750);
    let o = ReduceOptions::default();
    let want = reduce(&whole, mmarray_ops::Op::Sum, &o).unwrap();
    let got = with_threads(2, || {
        reduce(&a.view::<u8>().unwrap(), mmarray_ops::Op::Sum, &o)
    })
    .unwrap();
    assert!(same_bits(&want, &got), "{want:?} vs {got:?}");
    // Held all at once (the whole array is one batch), each would be read once.
    let first = reads.swap(0, std::sync::atomic::Ordering::Relaxed);
    assert!(first > n_chunks, "{first} reads of {n_chunks} chunks");
    assert!(first <= 2 * n_chunks, "{first} reads of {n_chunks} chunks");
    // A map: chunks written back early are read again with their changes.
    with_threads(2, || {
        map_in_place(a.view_mut::<u8>().unwrap(), |v: u8| v.wrapping_add(1))
    })
    .unwrap();
    let bumped: Vec<u8> = values.iter().map(|v| v.wrapping_add(1)).collect();
    assert!(a.view::<u8>().unwrap().to_vec().unwrap() == bumped);
}

/// Native float64 pieces reach the kernel whole from a mapping but in
/// gathered steps from chunks (16 KiB, see `GATHER_STEP`) where chunk rows cut
/// them: every reduction and `stats` still match bit for bit, with ties of
/// `-0.0` and `0.0` (min/max and their positions) and with NaNs.
#[test]
fn native_pieces_gathered_in_steps_match_the_contiguous_array() {
    let mut rng = Rng::new(11);
    // 20 MiB: 1 MiB pieces cut by chunk rows of 700 and 300 values.
    let shape = [1100usize, 2300];
    let n = shape[0] * shape[1];
    let native = ByteOrder::NATIVE;
    for flavor in [Flavor::Ties, Flavor::Nans] {
        let values: Vec<f64> = random_values(&mut rng, n, flavor);
        let bytes = encode_bytes(&values, native);
        let whole = View::<f64>::from_bytes(&bytes, &shape, Order::C, native).unwrap();
        for chunks in [[300usize, 700], [7, 300]] {
            let a = Chunked::new(Box::new(
                MemoryChunks::from_view(&whole, &chunks, Order::C).unwrap(),
            ));
            let c = a.view::<f64>().unwrap();
            for (op, o) in all_ops() {
                let want = with_threads(2, || reduce(&whole, op, &o).unwrap());
                let got = with_threads(2, || reduce(&c, op, &o).unwrap());
                assert!(
                    same_bits(&want, &got),
                    "{flavor:?} {chunks:?} {op} {o:?}: {want:?} vs {got:?}"
                );
            }
            for skipna in [false, true] {
                let want = with_threads(2, || stats(&whole, skipna).unwrap());
                let got = with_threads(2, || stats(&c, skipna).unwrap());
                assert!(
                    stats_bits(&want, &got),
                    "{flavor:?} {chunks:?} stats {skipna}"
                );
            }
        }
    }
}

/// Pieces cut by chunk rows of whole 1024-value blocks: the whole blocks one
/// chunk holds go to the kernel in place, the rest (blocks that straddle two
/// chunks, row ends) gathered; every reduction and `stats` match the contiguous
/// array bit for bit, for every element size, both byte orders and any pool.
fn whole_blocks_in_place_match<T: Elem + Native>(rng: &mut Rng) {
    // Rows of 3.5 blocks: chunks 2 blocks wide hold whole blocks at varying
    // offsets of the piece; chunks 1 block wide in rows of 7 blocks hold them
    // at block boundaries, so all of the piece goes in place.
    for (shape, chunks) in [([24usize, 3584], [5usize, 2048]), ([12, 7168], [5, 1024])] {
        let n = shape[0] * shape[1];
        for &flavor in flavors(T::KIND) {
            let values: Vec<T> = random_values(rng, n, flavor);
            for bo in [ByteOrder::Little, ByteOrder::Big] {
                let bytes = encode_bytes(&values, bo);
                let whole = View::<T>::from_bytes(&bytes, &shape, Order::C, bo).unwrap();
                let a = Chunked::new(Box::new(
                    MemoryChunks::from_view(&whole, &chunks, Order::C).unwrap(),
                ));
                let c = a.view::<T>().unwrap();
                let ctx = format!("{} {bo:?} {flavor:?} {shape:?} {chunks:?}", T::KIND.name());
                for threads in [1, 2] {
                    let ctx = format!("{ctx} {threads} threads");
                    with_threads(threads, || all_reductions_agree(&ctx, &whole, &c));
                }
            }
        }
    }
}

/// Strided views with positive steps (pieces of one or a few elements,
/// gathered into blocks) give the bits of their contiguous copies (within one
/// segment, as here; segments are cut differently across them) and the same
/// bits on a mapping and over chunks, on 1 and 2 threads: the kernels see the
/// same blocks, and argmin/argmax find the same C indices across pieces.
fn strided_views_agree<T: Elem + Native>(rng: &mut Rng) {
    let shape = [2501usize, 3, 2];
    let n: usize = shape.iter().product();
    for flavor in [Flavor::Wide, Flavor::Ties] {
        let values: Vec<T> = random_values(rng, n, flavor);
        for bo in [ByteOrder::Little, ByteOrder::Big] {
            let bytes = encode_bytes(&values, bo);
            let whole = View::<T>::from_bytes(&bytes, &shape, Order::C, bo).unwrap();
            let src = MemoryChunks::from_view(&whole, &[301, 2, 2], Order::C).unwrap();
            let chunked = Chunked::new(Box::new(src));
            let all = chunked.view::<T>().unwrap();
            // Positive steps: memory order is C order, as in the copy (a
            // reversed axis is walked in memory order, so in another order).
            for spec in ["::2, 1, 0", "1::3, :, 1:", "..., 1", ":, ::2, :", "7:, 1:"] {
                let v = whole.slice(spec).unwrap();
                assert!(v.len() * size_of::<T>() <= 1 << 20, "one segment");
                let copy_bytes = encode_bytes(&v.to_vec(), bo);
                let copy = View::<T>::from_bytes(&copy_bytes, v.shape(), Order::C, bo).unwrap();
                let c = all.slice(spec).unwrap();
                for threads in [1, 2] {
                    let ctx = format!(
                        "{} {bo:?} {flavor:?} [{spec}] {threads} threads",
                        T::KIND.name()
                    );
                    with_threads(threads, || {
                        all_reductions_agree(&format!("{ctx}, mapped"), &copy, &v);
                        all_reductions_agree(&format!("{ctx}, chunked"), &v, &c);
                    });
                }
            }
        }
    }
}

#[test]
fn strided_views_give_the_bits_of_their_contiguous_copies() {
    let mut rng = Rng::new(29);
    strided_views_agree::<f64>(&mut rng);
    strided_views_agree::<f16>(&mut rng);
    strided_views_agree::<i32>(&mut rng);
    strided_views_agree::<Complex64>(&mut rng);
}

#[test]
fn var_of_a_strided_view_far_from_zero_is_as_accurate_as_of_its_copy() {
    // Mean 1e6, spread 3e-7, over two segments: one-value blocks (Welford's
    // updates) once gave a variance 2e-5 off the copy's; blocks are 3e-8 off
    // (the two are cut into segments differently).
    let values: Vec<f64> = (0..900_000u32)
        .map(|i| 1e6 + 1e-9 * f64::from(i % 1000 * 7919 % 1000))
        .collect();
    let bo = ByteOrder::Little;
    let bytes = encode_bytes(&values, bo);
    let whole = View::<f64>::from_bytes(&bytes, &[300_000, 3], Order::C, bo).unwrap();
    let v = whole.slice("::2, 1").unwrap();
    assert!(v.len() * 8 > 1 << 20, "more than one segment");
    let copy_bytes = encode_bytes(&v.to_vec(), bo);
    let copy = View::<f64>::from_bytes(&copy_bytes, v.shape(), Order::C, bo).unwrap();
    let opts = ReduceOptions::default();
    let var = |x: &View<'_, f64>| match reduce(x, mmarray_ops::Op::Var, &opts).unwrap() {
        mmarray_dtype::Value::F64(v) => v,
        other => panic!("{other:?}"),
    };
    let (strided, contiguous) = (var(&v), var(&copy));
    assert!(contiguous > 0.0);
    assert!(
        ((strided - contiguous) / contiguous).abs() < 1e-6,
        "strided {strided:e}, contiguous {contiguous:e}"
    );
    let one = with_threads(1, || var(&v));
    assert_eq!(one.to_bits(), with_threads(2, || var(&v)).to_bits());
}

#[test]
fn whole_blocks_of_chunk_rows_fed_in_place_match_the_contiguous_array() {
    let mut rng = Rng::new(12);
    whole_blocks_in_place_match::<f64>(&mut rng);
    whole_blocks_in_place_match::<f32>(&mut rng);
    whole_blocks_in_place_match::<f16>(&mut rng);
    whole_blocks_in_place_match::<Complex64>(&mut rng);
    whole_blocks_in_place_match::<i8>(&mut rng);
    whole_blocks_in_place_match::<u32>(&mut rng);
    whole_blocks_in_place_match::<Bool>(&mut rng);
}

/// What a [`Streaming`] source saw.
#[derive(Debug, Default)]
struct StreamLog {
    /// Streams handed out, finished (checked to their end), chunks read whole.
    opened: std::sync::atomic::AtomicUsize,
    finished: std::sync::atomic::AtomicUsize,
    whole: std::sync::atomic::AtomicUsize,
    /// Streams open now, and the most open at once.
    open: std::sync::atomic::AtomicUsize,
    most_open: std::sync::atomic::AtomicUsize,
}

/// A source that streams its chunks (all but chunk (0, 1), read whole), with
/// chunk `bad` failing: `Some(true)` in the middle of its data, `Some(false)`
/// when finished (as data that decodes to more than the chunk).
#[derive(Debug)]
struct Streaming {
    inner: MemoryChunks,
    log: std::sync::Arc<StreamLog>,
    bad: Option<([usize; 2], bool)>,
}

struct Cursor<'s> {
    source: &'s Streaming,
    coords: Vec<usize>,
    bytes: Vec<u8>,
    at: usize,
}

impl Cursor<'_> {
    fn error(&self, reason: &str) -> mmarray_core::Error {
        mmarray_core::Error::Chunk {
            store: self.source.name(),
            chunk: format!("c/{}/{}", self.coords[0], self.coords[1]),
            reason: reason.to_owned(),
        }
    }

    fn bad(&self, mid: bool) -> bool {
        self.source
            .bad
            .is_some_and(|(c, m)| c[..] == self.coords[..] && m == mid)
    }
}

impl ChunkStream for Cursor<'_> {
    fn read_next(&mut self, buf: &mut [u8]) -> mmarray_core::Result<()> {
        let end = self.at + buf.len();
        if self.bad(true) && end > self.bytes.len() / 2 {
            return Err(self.error("corrupt data"));
        }
        let Some(src) = self.bytes.get(self.at..end) else {
            return Err(self.error("read past the end"));
        };
        buf.copy_from_slice(src);
        self.at = end;
        Ok(())
    }

    fn finish(self: Box<Self>) -> mmarray_core::Result<()> {
        let log = &self.source.log;
        log.open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        if self.at != self.bytes.len() {
            return Err(self.error("not read to the end"));
        }
        if self.bad(false) {
            return Err(self.error("decodes to more"));
        }
        log.finished
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

impl ChunkSource for Streaming {
    fn dtype(&self) -> DType {
        self.inner.dtype()
    }
    fn grid(&self) -> &ChunkGrid {
        self.inner.grid()
    }
    fn name(&self) -> String {
        "streaming.zarr".to_owned()
    }
    fn read_chunk(&self, coords: &[usize], buf: Vec<u8>) -> mmarray_core::Result<ChunkBytes<'_>> {
        self.log
            .whole
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.read_chunk(coords, buf)
    }
    fn can_stream(&self) -> bool {
        true
    }
    fn stream_chunk(
        &self,
        coords: &[usize],
    ) -> mmarray_core::Result<Option<Box<dyn ChunkStream + '_>>> {
        use std::sync::atomic::Ordering::Relaxed;
        if coords == [0, 1] {
            return Ok(None);
        }
        let bytes = self.inner.read_chunk(coords, Vec::new())?.to_vec();
        self.log.opened.fetch_add(1, Relaxed);
        let open = self.log.open.fetch_add(1, Relaxed) + 1;
        self.log.most_open.fetch_max(open, Relaxed);
        Ok(Some(Box::new(Cursor {
            source: self,
            coords: coords.to_vec(),
            bytes,
            at: 0,
        })))
    }
}

/// Whole-array reductions over a source that streams chunks of 2 MiB and more
/// decode them as the walk goes (each chunk once, front to back, checked to its
/// end, a band's worth open at once at most) and give the same bits as over the
/// contiguous array, on any pool; chunks the source does not stream are read
/// whole; a stream that fails, mid-way or at its end, is the pass's error.
#[test]
fn streamed_chunks_give_the_same_bits_and_their_errors() {
    use std::sync::atomic::Ordering::Relaxed;
    let mut rng = Rng::new(11);
    // 70 MiB of big-endian float16 in chunks of 2.1 MiB, 9 per row (the last
    // one 200 wide), 5 per column (the last one 100 high).
    let shape = [4100usize, 9000];
    let chunk = [1000usize, 1100];
    let values: Vec<f16> = random_values(&mut rng, shape[0] * shape[1], Flavor::Nans);
    let bytes = encode_bytes(&values, ByteOrder::Big);
    let whole = View::<f16>::from_bytes(&bytes, &shape, Order::C, ByteOrder::Big).unwrap();
    let source = |bad| Streaming {
        inner: MemoryChunks::from_view(&whole, &chunk, Order::C).unwrap(),
        log: std::sync::Arc::default(),
        bad,
    };
    let s = source(None);
    let log = s.log.clone();
    let a = Chunked::new(Box::new(s));
    let c = a.view::<f16>().unwrap();
    let skip = ReduceOptions {
        skipna: true,
        ddof: 1,
    };
    let mut passes = 0;
    for (op, o) in [
        (mmarray_ops::Op::Std, skip),
        (mmarray_ops::Op::Argmax, ReduceOptions::default()),
        (mmarray_ops::Op::Sum, skip),
        (mmarray_ops::Op::Min, ReduceOptions::default()),
    ] {
        let want = with_threads(2, || reduce(&whole, op, &o).unwrap());
        for threads in [1, 2, 3] {
            let got = with_threads(threads, || reduce(&c, op, &o).unwrap());
            passes += 1;
            assert!(
                same_bits(&want, &got),
                "{op} {o:?} {threads} threads: {want:?} vs {got:?}"
            );
        }
    }
    let want = stats(&whole, true).unwrap();
    let got = with_threads(3, || stats(&c, true).unwrap());
    passes += 1;
    assert!(stats_bits(&want, &got), "{want:?} vs {got:?}");
    let n = a.grid().len();
    assert_eq!(n, 45);
    assert_eq!(log.opened.load(Relaxed), passes * (n - 1));
    assert_eq!(log.finished.load(Relaxed), passes * (n - 1));
    assert_eq!(log.whole.load(Relaxed), passes);
    assert_eq!(log.open.load(Relaxed), 0);
    // A batch crosses at most two bands of 9 chunks.
    let most = log.most_open.load(Relaxed);
    assert!((9..=18).contains(&most), "{most} streams open at once");
    // A view that is not the whole array reads chunks whole.
    let (v, cv) = (whole.slice("1:").unwrap(), c.slice("1:").unwrap());
    let want = reduce(&v, mmarray_ops::Op::Sum, &skip).unwrap();
    let got = reduce(&cv, mmarray_ops::Op::Sum, &skip).unwrap();
    assert!(same_bits(&want, &got), "{want:?} vs {got:?}");
    assert_eq!(log.opened.load(Relaxed), passes * (n - 1));
    assert_eq!(log.whole.load(Relaxed), passes + n);
    // Failing streams.
    for (bad, reason) in [
        (([3, 4], true), "corrupt data"),
        (([4, 8], false), "decodes to more"),
    ] {
        let a = Chunked::new(Box::new(source(Some(bad))));
        let c = a.view::<f16>().unwrap();
        for threads in [1, 2] {
            let e = with_threads(threads, || {
                reduce(&c, mmarray_ops::Op::Sum, &ReduceOptions::default()).unwrap_err()
            });
            assert_eq!(
                e.to_string(),
                format!(
                    "streaming.zarr: chunk c/{}/{}: {reason}",
                    bad.0[0], bad.0[1]
                )
            );
        }
    }
}

/// Writes through a chunked view leave the same elements as the same writes
/// through a contiguous one; nothing outside the view changes.
fn writes_agree<T: Elem + Native>(rng: &mut Rng) {
    let shape = [7usize, 9, 10];
    let n: usize = shape.iter().product();
    let values: Vec<T> = random_values(rng, n, Flavor::Wide);
    for bo in [ByteOrder::Little, ByteOrder::Big] {
        for order in [Order::C, Order::F] {
            for (chunk, chunk_order) in chunkings() {
                {
                    for spec in SPECS {
                        let ctx = format!(
                            "{} {bo:?} {order:?} chunks {chunk:?} {chunk_order:?} [{spec}]",
                            T::KIND.name()
                        );
                        for what in 0..4 {
                            let mut bytes = encode_bytes(&values, bo);
                            let whole = View::<T>::from_bytes(&bytes, &shape, order, bo).unwrap();
                            let mut a = Chunked::new(Box::new(
                                MemoryChunks::from_view(&whole, &chunk, chunk_order).unwrap(),
                            ))
                            .with_order(order);
                            let mut_view = ViewMut::<T>::from_bytes(&mut bytes, &shape, order, bo)
                                .unwrap()
                                .into_slice(spec)
                                .unwrap();
                            let c = a.view_mut::<T>().unwrap().into_slice(spec).unwrap();
                            let seven = T::from_i64(7);
                            match what {
                                0 => {
                                    fill(mut_view, seven);
                                    fill(c, seven).unwrap();
                                }
                                1 => {
                                    fill_with(mut_view, |i| T::from_i64(i as i64 * 3));
                                    fill_with(c, |i| T::from_i64(i as i64 * 3)).unwrap();
                                }
                                2 => {
                                    let dist = match T::KIND.class() {
                                        mmarray_dtype::Class::Float
                                        | mmarray_dtype::Class::Complex => Dist::Normal,
                                        _ => Dist::Integers { low: -3, high: 100 },
                                    };
                                    if T::KIND == mmarray_dtype::Kind::Bool
                                        || T::KIND.class() == mmarray_dtype::Class::Unsigned
                                    {
                                        random_view(
                                            mut_view,
                                            Dist::Integers { low: 0, high: 2 },
                                            9,
                                        )
                                        .unwrap();
                                        random_view(c, Dist::Integers { low: 0, high: 2 }, 9)
                                            .unwrap();
                                    } else {
                                        random_view(mut_view, dist, 9).unwrap();
                                        random_view(c, dist, 9).unwrap();
                                    }
                                }
                                _ => {
                                    let f = |x: T| T::from_f64(x.to_f64() * 0.5 + 1.0);
                                    map_in_place(mut_view, f);
                                    map_in_place(c, f).unwrap();
                                }
                            }
                            let whole = View::<T>::from_bytes(&bytes, &shape, order, bo).unwrap();
                            let got = a.view::<T>().unwrap().to_vec().unwrap();
                            let want = whole.to_vec();
                            assert!(same_bytes(&got, &want), "{ctx}: write {what}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn fills_random_fills_and_maps_match_the_contiguous_array() {
    let mut rng = Rng::new(3);
    writes_agree::<f64>(&mut rng);
    writes_agree::<f16>(&mut rng);
    writes_agree::<Complex32>(&mut rng);
    writes_agree::<i16>(&mut rng);
    writes_agree::<u64>(&mut rng);
}

/// A source whose chunk (1, 0) is corrupt.
#[derive(Debug)]
struct Corrupt {
    inner: MemoryChunks,
}

impl ChunkSource for Corrupt {
    fn dtype(&self) -> DType {
        self.inner.dtype()
    }
    fn grid(&self) -> &ChunkGrid {
        self.inner.grid()
    }
    fn name(&self) -> String {
        "corrupt.zarr".to_owned()
    }
    fn read_chunk(&self, coords: &[usize], buf: Vec<u8>) -> mmarray_core::Result<ChunkBytes<'_>> {
        if coords == [1, 0] {
            return Err(mmarray_core::Error::Chunk {
                store: self.name(),
                chunk: "c/1/0".to_owned(),
                reason: "zstd: unexpected end of frame".to_owned(),
            });
        }
        self.inner.read_chunk(coords, buf)
    }
}

#[test]
fn a_chunk_that_cannot_be_read_is_an_error_naming_the_store_and_chunk() {
    let inner = MemoryChunks::new("<f8".parse().unwrap(), &[10, 10], &[4, 4], Order::C).unwrap();
    let a = Chunked::new(Box::new(Corrupt { inner }));
    let v = a.view::<f64>().unwrap();
    for r in [
        reduce(&v, mmarray_ops::Op::Sum, &ReduceOptions::default()).map(|_| ()),
        stats(&v, false).map(|_| ()),
    ] {
        let e = r.unwrap_err();
        assert!(
            matches!(e, Error::Core(mmarray_core::Error::Chunk { .. })),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "corrupt.zarr: chunk c/1/0: zstd: unexpected end of frame"
        );
    }
    // A view that avoids the chunk reads fine.
    let top = v.slice(":4").unwrap();
    assert_eq!(
        reduce(&top, mmarray_ops::Op::Sum, &ReduceOptions::default()).unwrap(),
        mmarray_dtype::Value::F64(0.0)
    );
    assert!(v.to_vec().is_err());
    // Read-only sources refuse writable views.
    let mut a = a;
    let e = a.view_mut::<f64>().unwrap_err();
    assert_eq!(e.to_string(), "corrupt.zarr: the store is read-only");
}

#[test]
fn memory_chunks_store_only_what_was_written() {
    let dt: DType = "<i4".parse().unwrap();
    let mut a = Chunked::new(Box::new(
        MemoryChunks::new(dt, &[10, 10], &[4, 4], Order::C).unwrap(),
    ));
    assert_eq!(a.view::<i32>().unwrap().to_vec().unwrap(), vec![0; 100]);
    fill(a.view_mut::<i32>().unwrap().into_slice("5, 5:").unwrap(), 3).unwrap();
    let v = a.view::<i32>().unwrap();
    assert_eq!(
        v.slice("5").unwrap().to_vec().unwrap(),
        [0, 0, 0, 0, 0, 3, 3, 3, 3, 3]
    );
    assert_eq!(
        reduce(&v, mmarray_ops::Op::Sum, &ReduceOptions::default()).unwrap(),
        mmarray_dtype::Value::I64(15)
    );
    // A view of the wrong element type is refused.
    assert!(a.view::<f32>().is_err());
}

/// `assign` copies any view into a chunked array (and `convert_chunked`,
/// `slice_chunked_to_file` copy back out): the same bytes as the contiguous
/// path, for both byte orders, C and F arrays and chunk buffers, and reversed
/// or strided views (which take the element-by-element path).
#[test]
fn copies_in_and_out_of_chunked_arrays_match_the_contiguous_path() {
    use mmarray_core::Spec;
    use mmarray_ops::{
        ConvertOptions, assign, convert_chunked, convert_file, slice_chunked_to_file, slice_to_file,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(21);
    let shape = [37usize, 301, 5];
    let values: Vec<f64> = random_values(&mut rng, shape.iter().product(), Flavor::Nans);
    for bo in [ByteOrder::Little, ByteOrder::Big] {
        for order in [Order::C, Order::F] {
            let npy = common::npy_with(
                dir.path(),
                &format!("src-{bo:?}-{order:?}.npy"),
                &values,
                &shape,
                order,
                bo,
            );
            let whole = npy.view::<f64>().unwrap();
            for (chunk, chunk_order) in [
                ([5, 64, 2], Order::C),
                ([37, 301, 5], Order::F),
                ([1, 7, 5], Order::C),
            ] {
                let ctx = format!("{bo:?} {order:?} chunks {chunk:?} {chunk_order:?}");
                // In: a new chunked array filled from the file.
                // Same byte order as the file (slices keep it), the other for the view.
                let dt = mmarray_dtype::DType::new(mmarray_dtype::Kind::F64, bo);
                let swapped = mmarray_dtype::DType::new(
                    mmarray_dtype::Kind::F64,
                    if bo == ByteOrder::Big {
                        ByteOrder::Little
                    } else {
                        ByteOrder::Big
                    },
                );
                let mut c = Chunked::new(Box::new(
                    MemoryChunks::new(dt, &shape, &chunk, chunk_order).unwrap(),
                ));
                assign(c.view_mut::<f64>().unwrap(), &whole).unwrap();
                assert!(
                    same_bytes(&c.view::<f64>().unwrap().to_vec().unwrap(), &whole.to_vec()),
                    "{ctx}: assign"
                );
                let part = whole.slice("::-2, 3:, 1").unwrap();
                let mut d = Chunked::new(Box::new(
                    MemoryChunks::new(swapped, part.shape(), &[4, 9], chunk_order).unwrap(),
                ));
                assign(d.view_mut::<f64>().unwrap(), &part).unwrap();
                assert!(
                    same_bytes(&d.view::<f64>().unwrap().to_vec().unwrap(), &part.to_vec()),
                    "{ctx}: assign a view"
                );
                // Out: convert (with a cast and either order) and slices.
                let c = c.with_order(order);
                for (to, out_order) in [("<f4", Order::C), (">u4", Order::F), (">f8", order)] {
                    let opts = ConvertOptions {
                        dtype: to.parse().unwrap(),
                        order: out_order,
                        raw: false,
                        overwrite: true,
                    };
                    let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
                    convert_file(&npy, &a, &opts).unwrap();
                    convert_chunked(&c, &b, &opts).unwrap();
                    assert!(
                        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
                        "{ctx}: convert to {to} {out_order:?}"
                    );
                }
                for spec in ["...", "3:30, ::-7", "::4, 100, ::-1", "2:1"] {
                    let spec: Spec = spec.parse().unwrap();
                    let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
                    slice_to_file(&npy, &spec, &a, true).unwrap();
                    slice_chunked_to_file(&c, &spec, &b, true).unwrap();
                    assert!(
                        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
                        "{ctx}: slice [{spec:?}]"
                    );
                }
            }
            drop(npy);
        }
    }
}

/// The values of an axis result in logical C order, as bytes.
fn axis_values(r: &mmarray_ops::AxisResult) -> Vec<u8> {
    mmarray_dtype::dispatch!(r.dtype.kind(), R => {
        let v = View::<R>::from_bytes(&r.data, &r.shape, r.order, ByteOrder::NATIVE).unwrap();
        bytemuck::cast_slice::<R, u8>(&v.to_vec()).to_vec()
    })
}

fn axis_agree<T: Elem + Native>(
    rng: &mut Rng,
    shape: &[usize],
    chunkings: &[(&[usize], Order)],
    specs: &[&str],
) {
    use mmarray_ops::reduce_axis_view;
    let n: usize = shape.iter().product();
    let flavor = if matches!(
        T::KIND.class(),
        mmarray_dtype::Class::Float | mmarray_dtype::Class::Complex
    ) {
        Flavor::Nans
    } else {
        Flavor::Wide
    };
    let values: Vec<T> = random_values(rng, n, flavor);
    for bo in [ByteOrder::Little, ByteOrder::Big] {
        let bytes = encode_bytes(&values, bo);
        for order in [Order::C, Order::F] {
            let whole = View::<T>::from_bytes(&bytes, shape, order, bo).unwrap();
            for &(chunk, chunk_order) in chunkings {
                let a = Chunked::new(Box::new(
                    MemoryChunks::from_view(&whole, chunk, chunk_order).unwrap(),
                ))
                .with_order(order);
                let all = a.view::<T>().unwrap();
                for spec in specs {
                    let (v, c) = (whole.slice(*spec).unwrap(), all.slice(*spec).unwrap());
                    for axis in 0..v.ndim() as isize {
                        for (op, opts) in all_ops() {
                            let ctx = format!(
                                "{} {bo:?} {order:?} chunks {chunk:?} {chunk_order:?} [{spec}] axis {axis} {op} {opts:?}",
                                T::KIND.name()
                            );
                            match (
                                reduce_axis_view(&v, op, axis, &opts),
                                reduce_axis_view(&c, op, axis, &opts),
                            ) {
                                (Ok(x), Ok(y)) => {
                                    assert_eq!(x.shape, y.shape, "{ctx}");
                                    assert!(
                                        axis_values(&x) == axis_values(&y),
                                        "{ctx}: values differ"
                                    );
                                }
                                (Err(x), Err(y)) => {
                                    assert_eq!(x.to_string(), y.to_string(), "{ctx}");
                                }
                                (x, y) => panic!(
                                    "{ctx}: {:?} vs {:?}",
                                    x.map(|r| r.shape),
                                    y.map(|r| r.shape)
                                ),
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn axis_reductions_match_the_contiguous_array_bit_for_bit() {
    let mut rng = Rng::new(17);
    let chunkings: [(&[usize], Order); 3] = [
        (&[3, 4, 3], Order::C),
        (&[2, 1, 7], Order::F),
        (&[7, 9, 10], Order::C),
    ];
    let specs = ["...", "1:-1, ::-2, 2:", "::3, 1, :"];
    axis_agree::<f64>(&mut rng, &[7, 9, 10], &chunkings, &specs);
    axis_agree::<f16>(&mut rng, &[7, 9, 10], &chunkings, &specs);
    axis_agree::<Complex64>(&mut rng, &[7, 9, 10], &chunkings, &specs);
    axis_agree::<i32>(&mut rng, &[7, 9, 10], &chunkings, &specs);
    axis_agree::<Bool>(&mut rng, &[7, 9, 10], &chunkings, &specs[..1]);
}

/// Tall arrays over axis 0 (many blocks of rows), and lanes longer than a
/// segment (reduced as views of the chunked array), on 1 and 3 threads.
#[test]
fn axis_reductions_of_tall_arrays_and_long_lanes_match_on_any_pool() {
    use mmarray_ops::{Op, reduce_axis_view};
    let mut rng = Rng::new(23);
    for (shape, chunk) in [
        ([150_000usize, 7], [999usize, 3]),
        ([3, 300_000], [2, 70_001]),
    ] {
        let values: Vec<f32> = random_values(&mut rng, shape[0] * shape[1], Flavor::Nans);
        let bytes = encode_bytes(&values, ByteOrder::Little);
        for order in [Order::C, Order::F] {
            let whole = View::<f32>::from_bytes(&bytes, &shape, order, ByteOrder::Little).unwrap();
            let a = Chunked::new(Box::new(
                MemoryChunks::from_view(&whole, &chunk, Order::C).unwrap(),
            ))
            .with_order(order);
            let c = a.view::<f32>().unwrap();
            for axis in [0, 1] {
                for (op, opts) in [
                    (Op::Sum, ReduceOptions::default()),
                    (
                        Op::Std,
                        ReduceOptions {
                            skipna: true,
                            ddof: 0,
                        },
                    ),
                    (Op::Argmin, ReduceOptions::default()),
                ] {
                    let want = axis_values(&with_threads(2, || {
                        reduce_axis_view(&whole, op, axis, &opts).unwrap()
                    }));
                    for threads in [1, 3] {
                        let got = axis_values(&with_threads(threads, || {
                            reduce_axis_view(&c, op, axis, &opts).unwrap()
                        }));
                        assert!(
                            want == got,
                            "{shape:?} {order:?} axis {axis} {op} {threads} threads"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn axis_results_of_chunked_arrays_go_to_npy_files_as_those_of_npy_files() {
    use mmarray_ops::{Op, reduce_axis_chunked_to_npy, reduce_axis_to_npy};
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(29);
    let shape = [40usize, 33, 6];
    let values: Vec<i16> = random_values(&mut rng, shape.iter().product(), Flavor::Wide);
    let npy = common::npy_with(
        dir.path(),
        "src.npy",
        &values,
        &shape,
        Order::C,
        ByteOrder::Big,
    );
    let c = Chunked::new(Box::new(
        MemoryChunks::from_view(&npy.view::<i16>().unwrap(), &[7, 8, 5], Order::C).unwrap(),
    ));
    for axis in [0, 1, -1] {
        for op in [Op::Sum, Op::Mean, Op::Argmax] {
            let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
            let opts = ReduceOptions::default();
            reduce_axis_to_npy(&npy, op, axis, &opts, &a, true).unwrap();
            reduce_axis_chunked_to_npy(&c, op, axis, &opts, &b, true).unwrap();
            assert!(
                std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
                "axis {axis} {op}"
            );
        }
    }
    let b = dir.path().join("b.npy");
    let e = reduce_axis_chunked_to_npy(&c, Op::Sum, 3, &ReduceOptions::default(), &b, false)
        .unwrap_err();
    assert!(e.to_string().contains("axis 3"), "{e}");
    let e = reduce_axis_chunked_to_npy(&c, Op::Sum, 0, &ReduceOptions::default(), &b, false)
        .unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");
}

/// Deflated `.npz` members read chunk by chunk (no temporary file): the same
/// bits as the same data mapped, for C and F order, rows larger than a chunk,
/// chunks read out of order; corrupt streams are errors naming the member.
#[test]
fn deflated_npz_members_read_chunk_by_chunk_match_the_mapped_data() {
    use mmarray_core::npz::{DeflatedMember, WriteOptions, write_bytes};
    use mmarray_ops::{Op, reduce_axis_view};
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(31);
    for (shape, order) in [
        (vec![1024usize, 700], Order::C),
        (vec![1024, 700], Order::F),
        (vec![3, 600_000], Order::C),
        (vec![5], Order::C),
        (vec![], Order::C),
    ] {
        let n: usize = shape.iter().product();
        let values: Vec<f64> = random_values(&mut rng, n, Flavor::Nans);
        let bytes = encode_bytes(&values, ByteOrder::Big);
        let whole = View::<f64>::from_bytes(&bytes, &shape, order, ByteOrder::Big).unwrap();
        let path = dir.path().join("z.npz");
        write_bytes(
            &path,
            whole.dtype(),
            &shape,
            order,
            &bytes,
            &WriteOptions::new("a").compress(true).overwrite(true),
        )
        .unwrap();
        let m = DeflatedMember::open(&path, Some("a")).unwrap();
        assert!(!m.grid().is_empty());
        let c = m.into_chunked();
        let cv = c.view::<f64>().unwrap();
        let ctx = format!("{shape:?} {order:?}");
        assert!(same_bytes(&cv.to_vec().unwrap(), &whole.to_vec()), "{ctx}");
        for (op, opts) in [
            (Op::Sum, ReduceOptions::default()),
            (
                Op::Std,
                ReduceOptions {
                    skipna: true,
                    ddof: 1,
                },
            ),
        ] {
            let (x, y) = (
                reduce(&whole, op, &opts).unwrap(),
                reduce(&cv, op, &opts).unwrap(),
            );
            assert!(same_bits(&x, &y), "{ctx} {op}: {x:?} vs {y:?}");
            if !shape.is_empty() {
                let (x, y) = (
                    reduce_axis_view(&whole, op, 0, &opts).unwrap(),
                    reduce_axis_view(&cv, op, 0, &opts).unwrap(),
                );
                assert!(axis_values(&x) == axis_values(&y), "{ctx} {op} axis 0");
            }
        }
    }
}

/// Chunks of a deflated member read out of order restart the stream (the same
/// bytes); a damaged stream is an error naming the archive and the member.
#[test]
fn deflated_npz_chunks_out_of_order_and_damaged_streams() {
    use mmarray_core::npz::{DeflatedMember, WriteOptions, write_bytes};
    use mmarray_ops::Op;
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(37);
    let shape = [3usize, 600_000];
    let values: Vec<f64> = random_values(&mut rng, 3 * 600_000, Flavor::Wide);
    let bytes = encode_bytes(&values, ByteOrder::Little);
    let path = dir.path().join("o.npz");
    let dt = mmarray_dtype::DType::new(mmarray_dtype::Kind::F64, ByteOrder::Little);
    write_bytes(
        &path,
        dt,
        &shape,
        Order::C,
        &bytes,
        &WriteOptions::new("o").compress(true),
    )
    .unwrap();
    let m = DeflatedMember::open(&path, None).unwrap();
    let grid = m.grid().clone();
    assert!(grid.len() >= 3, "{grid:?}");
    let per = grid.chunk_shape()[1];
    assert_eq!(grid.chunk_shape(), [1, per]);
    let last = grid.coords(grid.len() - 1);
    let later = m.read_chunk(&last, Vec::new()).unwrap().to_vec();
    let first = m.read_chunk(&grid.coords(0), Vec::new()).unwrap().to_vec();
    assert_eq!(first[..], bytes[..per * 8]);
    // The last chunk: the end of the last row, then zeros.
    let (start, tail) = (
        (2 * 600_000 + last[1] * per) * 8,
        (600_000 - last[1] * per) * 8,
    );
    assert_eq!(later[..tail], bytes[start..start + tail]);
    assert!(later[tail..].iter().all(|&b| b == 0));
    // A damaged stream: an error naming the archive and the member, no panic.
    let mut damaged = std::fs::read(&path).unwrap();
    let mid = damaged.len() / 2;
    for b in &mut damaged[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let bad = dir.path().join("bad.npz");
    std::fs::write(&bad, &damaged).unwrap();
    let c = DeflatedMember::open(&bad, None).unwrap().into_chunked();
    let e = reduce(
        &c.view::<f64>().unwrap(),
        Op::Sum,
        &ReduceOptions::default(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("bad.npz") && msg.contains("\"o\""), "{msg}");
    assert!(
        msg.contains("deflate") || msg.contains("CRC-32") || msg.contains("inflates"),
        "{msg}"
    );
    // A stored member is not opened this way.
    let stored = dir.path().join("s.npz");
    write_bytes(
        &stored,
        dt,
        &shape,
        Order::C,
        &bytes,
        &WriteOptions::new("s"),
    )
    .unwrap();
    let e = DeflatedMember::open(&stored, None).unwrap_err();
    assert!(e.to_string().contains("stored, not deflated"), "{e}");
}
