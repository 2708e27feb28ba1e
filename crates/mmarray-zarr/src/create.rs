//! New Zarr v3 arrays: [`create`] (empty, written in place) and [`convert`]
//! (from any array or view, staged and renamed into place).

use std::fs;
use std::io::Write;
use std::path::Path;

use mmarray_core::chunk::{Chunked, ChunkedView};
use mmarray_core::{Error, Index, Order, Result, Spec, View};
use mmarray_dtype::{ByteOrder, DType, Element, Kind, Value};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::meta::{self, Compressor, NewArray};
use crate::source::{OpenOptions, ZarrSource};
use crate::staging::Staged;

/// The default chunk size aimed at: 8 MiB.
pub const DEFAULT_CHUNK_BYTES: usize = 8 << 20;

/// How to make a new Zarr v3 array ([`create`], [`convert`]).
///
/// ```
/// use mmarray_zarr::{Compressor, CreateOptions};
/// let o = CreateOptions::new().chunks(&[1000, 1000]).shards(&[4, 4]).compressor(Compressor::Zstd(3));
/// # let _ = o;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    chunks: Option<Vec<usize>>,
    shards: Option<Vec<usize>>,
    compressor: Compressor,
    checksum: bool,
    fill_value: Option<Value>,
    order: Option<Order>,
    byte_order: Option<ByteOrder>,
    overwrite: bool,
}

impl CreateOptions {
    /// The defaults: chunks of about 8 MiB (whole rows for C order), no shards,
    /// `zstd` level 1, no checksum, fill value 0, C order, no overwriting.
    #[must_use]
    pub fn new() -> CreateOptions {
        CreateOptions::default()
    }

    /// The chunk shape (the inner chunks of a sharded array), in elements.
    #[must_use]
    pub fn chunks(mut self, shape: &[usize]) -> CreateOptions {
        self.chunks = Some(shape.to_vec());
        self
    }

    /// Shards of `per_shard` chunks along each axis (none by default).
    #[must_use]
    pub fn shards(mut self, per_shard: &[usize]) -> CreateOptions {
        self.shards = Some(per_shard.to_vec());
        self
    }

    /// The compressor ([`Compressor::Zstd(1)`](Compressor::Zstd) by default).
    #[must_use]
    pub fn compressor(mut self, compressor: Compressor) -> CreateOptions {
        self.compressor = compressor;
        self
    }

    /// Whether each chunk ends with a `crc32c` checksum.
    #[must_use]
    pub fn checksum(mut self, yes: bool) -> CreateOptions {
        self.checksum = yes;
        self
    }

    /// The fill value (what chunks never written hold); 0 by default. It is
    /// converted to the array's dtype with numpy's `astype` rules.
    #[must_use]
    pub fn fill_value(mut self, value: Value) -> CreateOptions {
        self.fill_value = Some(value);
        self
    }

    /// The order of elements inside chunks on disk: F adds a `transpose` codec.
    /// Operations walk the array in this order. C by default ([`convert`]:
    /// the source's order, when it has one).
    #[must_use]
    pub fn order(mut self, order: Order) -> CreateOptions {
        self.order = Some(order);
        self
    }

    /// The byte order of the chunk bytes on disk (the `bytes` codec's
    /// endianness); by default the dtype's ([`convert`]: the source's).
    #[must_use]
    pub fn byte_order(mut self, order: ByteOrder) -> CreateOptions {
        self.byte_order = Some(order);
        self
    }

    /// Whether an existing Zarr array at the path may be replaced (never a
    /// folder that is not a Zarr array).
    #[must_use]
    pub fn overwrite(mut self, yes: bool) -> CreateOptions {
        self.overwrite = yes;
        self
    }
}

/// The default chunk shape for `shape`: about [`DEFAULT_CHUNK_BYTES`], whole
/// rows (whole extents of the fastest axes in `order`) as far as they fit.
#[must_use]
pub fn default_chunks(shape: &[usize], itemsize: usize, order: Order) -> Vec<usize> {
    let mut budget = (DEFAULT_CHUNK_BYTES / itemsize.max(1)).max(1);
    let mut chunks = vec![1; shape.len()];
    let axes: Vec<usize> = match order {
        Order::C => (0..shape.len()).rev().collect(),
        Order::F => (0..shape.len()).collect(),
    };
    for ax in axes {
        let n = shape[ax].max(1);
        if n <= budget {
            chunks[ax] = n;
            budget /= n;
        } else {
            chunks[ax] = budget.max(1);
            break;
        }
    }
    chunks
}

/// Everything a new store's metadata needs, checked.
struct Plan {
    dtype: DType,
    shape: Vec<usize>,
    chunks: Vec<usize>,
    shards: Option<Vec<usize>>,
    order: Order,
    fill: Value,
    compressor: Compressor,
    checksum: bool,
    json: serde_json::Value,
}

fn plan(path: &Path, dtype: DType, shape: &[usize], options: &CreateOptions) -> Result<Plan> {
    let bad = |reason: String| meta::layout(path, reason);
    let dtype = options
        .byte_order
        .map_or(dtype, |o| dtype.with_byte_order(o));
    let order = options.order.unwrap_or(Order::C);
    let chunks = options
        .chunks
        .clone()
        .unwrap_or_else(|| default_chunks(shape, dtype.itemsize(), order));
    // Sizes that fit (ChunkGrid checks dimensions, zero sides, overflows).
    mmarray_core::chunk::ChunkGrid::new(shape, &chunks, dtype.itemsize())
        .map_err(|e| bad(e.to_string()))?;
    if let Some(per) = &options.shards {
        if per.len() != shape.len() || per.contains(&0) {
            return Err(bad(format!(
                "shards {per:?}: one count of chunks (at least 1) per axis of {shape:?}"
            )));
        }
        let shard: Option<Vec<usize>> = chunks
            .iter()
            .zip(per)
            .map(|(&c, &p)| c.checked_mul(p))
            .collect();
        let n = mmarray_core::checked_len(per);
        match (shard, n) {
            (Some(shard), Some(n)) if n <= crate::MAX_CHUNKS_PER_SHARD => {
                mmarray_core::chunk::ChunkGrid::new(shape, &shard, dtype.itemsize())
                    .map_err(|e| bad(e.to_string()))?;
            }
            _ => return Err(bad(format!("shards of {per:?} chunks are too large"))),
        }
    }
    match options.compressor {
        Compressor::Gzip(l) if l > 9 => return Err(bad(format!("gzip level {l}: 0..=9"))),
        Compressor::Blosc { clevel, .. } if clevel > 9 => {
            return Err(bad(format!("blosc level {clevel}: 0..=9")));
        }
        Compressor::Zstd(l) if !(-131_072..=22).contains(&l) => {
            return Err(bad(format!("zstd level {l}: -131072..=22")));
        }
        _ => {}
    }
    let fill = options
        .fill_value
        .unwrap_or(Value::U8(0))
        .cast_to(dtype.kind());
    let json = meta::new_metadata(&NewArray {
        dtype,
        shape,
        chunks: &chunks,
        shards: options.shards.as_deref(),
        compressor: options.compressor,
        checksum: options.checksum,
        order,
        fill: meta::fill_json(fill, dtype.kind()),
    });
    Ok(Plan {
        dtype,
        shape: shape.to_vec(),
        chunks,
        shards: options.shards.clone(),
        order,
        fill,
        compressor: options.compressor,
        checksum: options.checksum,
        json,
    })
}

fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io {
        path,
        action,
        source,
    }
}

/// Writes `zarr.json` into the folder `dir` (under a temporary name, then renamed).
fn write_metadata(dir: &Path, json: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(json).unwrap_or_default();
    let tmp = dir.join(".zarr.json.mmarray-tmp");
    let file = dir.join("zarr.json");
    let mut f = fs::File::create(&tmp).map_err(io(&tmp, "create"))?;
    f.write_all(text.as_bytes()).map_err(io(&tmp, "write"))?;
    f.sync_all().map_err(io(&tmp, "sync"))?;
    fs::rename(&tmp, &file).map_err(io(&file, "rename"))
}

/// Refuses to touch an existing path unless it is a Zarr array and `overwrite`.
fn check_target(path: &Path, overwrite: bool) -> Result<()> {
    if fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    if !crate::is_zarr(path) {
        return Err(meta::layout(
            path,
            "exists and is not a Zarr array: not replacing it".to_owned(),
        ));
    }
    if !overwrite {
        return Err(Error::Exists {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Creates an empty Zarr v3 array of `dtype` and `shape` at `path` (a new
/// folder), writable in place: every chunk reads as the fill value until written.
///
/// Only the metadata is written (`zarr.json`, under a temporary name then
/// renamed). An existing Zarr array at `path` is replaced only with
/// [`CreateOptions::overwrite`] (its folder is removed first); anything else
/// there is an error.
pub fn create(
    path: impl AsRef<Path>,
    dtype: DType,
    shape: &[usize],
    options: &CreateOptions,
) -> Result<Chunked> {
    let path = path.as_ref();
    let plan = plan(path, dtype, shape, options)?;
    check_target(path, options.overwrite)?;
    if crate::is_zarr(path) {
        fs::remove_dir_all(path).map_err(io(path, "remove"))?;
    }
    fs::create_dir_all(path).map_err(io(path, "create"))?;
    write_metadata(path, &plan.json)?;
    Ok(ZarrSource::open_with(path, &OpenOptions::new().writable(true))?.into_chunked())
}

/// What [`convert`] reads blocks from: a [`View`] of a `.npy`/raw/`.npz` array or
/// a [`ChunkedView`] (another store).
pub trait BlockSource<T: Element>: Sync {
    /// The shape.
    fn block_shape(&self) -> &[usize];
    /// The element type (its byte order is the default for the new store).
    fn block_dtype(&self) -> DType;
    /// The order the source's elements lie in (the default for the new store).
    fn block_order(&self) -> Order;
    /// The elements of the block `[start, start + shape)`, in C order.
    fn block(&self, start: &[usize], shape: &[usize]) -> Result<Vec<T>>;

    /// The elements of the block `[start, start + shape)`, in C order, copied
    /// into `out` (which holds exactly as many elements as the block; an error
    /// otherwise). By default a copy of [`block`](Self::block)'s; sources that
    /// can gather straight into `out` (a [`View`] of a mapped file, say) do so,
    /// which spares [`convert`] a copy and an allocation per chunk.
    fn block_into(&self, start: &[usize], shape: &[usize], out: &mut [T]) -> Result<()> {
        let values = self.block(start, shape)?;
        if values.len() != out.len() {
            return Err(block_len_error(values.len(), out.len()));
        }
        out.copy_from_slice(&values);
        Ok(())
    }
}

/// The error of a block read into a buffer of the wrong size.
fn block_len_error(block: usize, buffer: usize) -> Error {
    Error::Unsupported(format!(
        "a block of {block} elements read into a buffer of {buffer}"
    ))
}

fn block_spec(start: &[usize], shape: &[usize]) -> Result<Spec> {
    let indices = start
        .iter()
        .zip(shape)
        .map(|(&s, &n)| Index::range(s as isize, (s + n) as isize))
        .collect();
    Ok(Spec::new(indices)?)
}

impl<T: Element> BlockSource<T> for View<'_, T> {
    fn block_shape(&self) -> &[usize] {
        self.shape()
    }
    fn block_dtype(&self) -> DType {
        self.dtype()
    }
    fn block_order(&self) -> Order {
        if self.ndim() > 1 && self.is_f_contiguous() && !self.is_c_contiguous() {
            Order::F
        } else {
            Order::C
        }
    }
    fn block(&self, start: &[usize], shape: &[usize]) -> Result<Vec<T>> {
        Ok(self.slice(block_spec(start, shape)?)?.to_vec())
    }
    /// Gathers the block straight from the view's bytes: one decode (a copy in
    /// native byte order) per run of elements that lie in C order in memory.
    fn block_into(&self, start: &[usize], shape: &[usize], out: &mut [T]) -> Result<()> {
        let block = self.slice(block_spec(start, shape)?)?;
        if block.len() != out.len() {
            return Err(block_len_error(block.len(), out.len()));
        }
        let runs = block.runs();
        let n = runs.run_len();
        if out.is_empty() || n == 0 || !runs.is_c_linear() || runs.len() * n != out.len() {
            out.copy_from_slice(&block.to_vec());
            return Ok(());
        }
        let order = block.dtype().byte_order();
        for (k, dst) in out.chunks_exact_mut(n).enumerate() {
            mmarray_dtype::decode(block.run_bytes(&runs, k), order, dst)?;
        }
        Ok(())
    }
}

impl<T: Element> BlockSource<T> for ChunkedView<'_, T> {
    fn block_shape(&self) -> &[usize] {
        self.shape()
    }
    fn block_dtype(&self) -> DType {
        self.dtype()
    }
    fn block_order(&self) -> Order {
        self.array().order()
    }
    fn block(&self, start: &[usize], shape: &[usize]) -> Result<Vec<T>> {
        self.slice(block_spec(start, shape)?)?.to_vec()
    }
}

/// Writes the elements of `src` as a new Zarr v3 array at `path`, atomically:
/// the store is written in a hidden folder beside `path` and renamed into place
/// when complete, so it appears under its name complete or not at all (an
/// existing Zarr array there is replaced only with [`CreateOptions::overwrite`]).
///
/// The dtype is the source's (its byte order too, unless
/// [`CreateOptions::byte_order`] says otherwise); the chunk order is the
/// source's memory order unless [`CreateOptions::order`] says otherwise. Chunks
/// (or whole shards, for a sharded array) are read from the source, encoded and
/// written in parallel on the current rayon pool; memory holds about two
/// chunks (or shards) per thread, never the array. Chunks equal to the fill value
/// are not stored, as Zarr does.
///
/// Returns the new array, opened read-only.
pub fn convert<T: Element, S: BlockSource<T> + ?Sized>(
    src: &S,
    path: impl AsRef<Path>,
    options: &CreateOptions,
) -> Result<Chunked> {
    let path = path.as_ref();
    let mut options = options.clone();
    if options.byte_order.is_none() {
        options.byte_order = Some(src.block_dtype().byte_order());
    }
    if options.order.is_none() {
        options.order = Some(src.block_order());
    }
    let plan = plan(path, src.block_dtype(), src.block_shape(), &options)?;
    check_target(path, options.overwrite)?;
    let staged = Staged::new(path)?;
    write_metadata(staged.path(), &plan.json)?;
    write_all(src, staged.path(), &plan)?;
    sync_tree(staged.path())?;
    staged.commit()?;
    if let Some(parent) = path.parent() {
        sync_dir(parent);
    }
    Ok(ZarrSource::open(path)?.into_chunked())
}

/// Makes everything under `dir` durable (the chunks were written unsynced)
/// before the store is renamed into place: on Linux with one `syncfs` of the
/// filesystem holding it (one journal commit, where a sync per chunk file costs
/// one each: about 10 ms per file on this project's machine, 16 times slower
/// for 256 KiB chunks; syncing the files from 32 threads was still 6 times
/// slower). `syncfs` also waits for other processes' writes to that
/// filesystem. Elsewhere, or if it fails, file by file.
pub(crate) fn sync_tree(dir: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let f = fs::File::open(dir).map_err(io(dir, "open"))?;
        // SAFETY: `syncfs` only reads its argument, a descriptor that `f` keeps
        // open for the duration of the call.
        if unsafe { libc::syncfs(f.as_raw_fd()) } == 0 {
            return Ok(());
        }
    }
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).map_err(io(&d, "read"))? {
            let entry = entry.map_err(io(&d, "read"))?;
            let path = entry.path();
            if entry.file_type().map_err(io(&path, "stat"))?.is_dir() {
                todo.push(path);
            } else {
                let f = fs::File::open(&path).map_err(io(&path, "open"))?;
                f.sync_all().map_err(io(&path, "sync"))?;
            }
        }
        sync_dir(&d);
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// How [`write_all`] encodes a unit without `zarrs`: for an unsharded store
/// whose codecs are `bytes` (either byte order), then at most `zstd` or
/// `gzip`, then at most `crc32c` — what [`new_metadata`](meta::new_metadata)
/// writes for C order, no shards and those compressors. The bytes are exactly
/// what those codecs make (a zstd frame with its content size, a gzip member, a
/// little-endian crc32c suffix), which zarrs and zarr-python read.
#[derive(Debug, Clone, Copy)]
struct Direct {
    compressor: Compressor,
    checksum: bool,
    /// Whether the elements are byte-swapped (a store in the other byte order).
    swap: bool,
}

impl Direct {
    fn plan(plan: &Plan) -> Option<Direct> {
        let transposed = plan.order == Order::F && plan.shape.len() > 1;
        let compressor = match plan.compressor {
            c @ (Compressor::None | Compressor::Zstd(_) | Compressor::Gzip(_)) => c,
            Compressor::Blosc { .. } => return None,
        };
        (plan.shards.is_none() && !transposed).then_some(Direct {
            compressor,
            checksum: plan.checksum,
            swap: !plan.dtype.is_native() && plan.dtype.itemsize() > 1,
        })
    }
}

/// A writing thread's buffers, reused from unit to unit.
struct Worker<T> {
    /// The unit's elements (C order, padded with the fill value at the edges).
    unit: Vec<T>,
    /// An edge unit's elements before padding.
    edge: Vec<T>,
    /// The encoded bytes.
    encoded: Vec<u8>,
    zstd: Option<zstd::bulk::Compressor<'static>>,
}

impl<T: Element> Worker<T> {
    fn new() -> Worker<T> {
        Worker {
            unit: Vec::new(),
            edge: Vec::new(),
            encoded: Vec::new(),
            zstd: None,
        }
    }

    /// Encodes `self.unit` (native order) as `direct` says into `self.encoded`.
    fn encode(&mut self, direct: Direct) -> std::result::Result<(), String> {
        if direct.swap {
            mmarray_dtype::byteswap(&mut self.unit);
        }
        let raw: &[u8] = bytemuck::cast_slice(&self.unit);
        self.encoded.clear();
        match direct.compressor {
            Compressor::Zstd(level) => {
                let z = match &mut self.zstd {
                    Some(z) => z,
                    None => self.zstd.insert(
                        zstd::bulk::Compressor::new(level).map_err(|e| format!("zstd: {e}"))?,
                    ),
                };
                self.encoded
                    .reserve(zstd::zstd_safe::compress_bound(raw.len()) + 4);
                z.compress_to_buffer(raw, &mut self.encoded)
                    .map_err(|e| format!("zstd: {e}"))?;
            }
            Compressor::Gzip(level) => {
                let mut e = flate2::write::GzEncoder::new(
                    std::mem::take(&mut self.encoded),
                    flate2::Compression::new(level),
                );
                e.write_all(raw).map_err(|e| format!("gzip: {e}"))?;
                self.encoded = e.finish().map_err(|e| format!("gzip: {e}"))?;
            }
            Compressor::None | Compressor::Blosc { .. } => self.encoded.extend_from_slice(raw),
        }
        if direct.checksum {
            let sum = crc32c::crc32c(&self.encoded);
            self.encoded.extend_from_slice(&sum.to_le_bytes());
        }
        Ok(())
    }
}

/// Whether `bytes` is `fill` repeated (as zarrs compares a chunk with the fill
/// value: bytewise).
fn is_fill(bytes: &[u8], fill: &[u8]) -> bool {
    if fill.iter().all(|&b| b == 0) {
        return bytes.iter().all(|&b| b == 0);
    }
    !fill.is_empty()
        && bytes.len().is_multiple_of(fill.len())
        && bytes.chunks_exact(fill.len()).all(|c| c == fill)
}

/// Writes every chunk (or shard) of `src` into the new store at `dir`: each of
/// the pool's threads takes whole units in turn, gathers one from the source
/// into its own reused buffer, encodes it (itself, see [`Direct`], or through
/// `zarrs`) and writes its file.
fn write_all<T: Element, S: BlockSource<T> + ?Sized>(
    src: &S,
    dir: &Path,
    plan: &Plan,
) -> Result<()> {
    write_units(src, dir, plan, Direct::plan(plan))
}

/// [`write_all`], encoding with `direct` if given, else through `zarrs`.
fn write_units<T: Element, S: BlockSource<T> + ?Sized>(
    src: &S,
    dir: &Path,
    plan: &Plan,
    direct: Option<Direct>,
) -> Result<()> {
    let kind = plan.dtype.kind();
    if !mmarray_dtype::is_kind::<T>(kind) {
        return Err(Error::Unsupported(format!(
            "{}: the source's elements are not {kind:?}",
            dir.display()
        )));
    }
    let store = ZarrSource::open_with(dir, &OpenOptions::new().writable(true))?;
    // The unit written at once: a chunk, or a whole shard.
    let unit: Vec<usize> = match &plan.shards {
        None => plan.chunks.clone(),
        Some(per) => plan.chunks.iter().zip(per).map(|(&c, &p)| c * p).collect(),
    };
    let grid = mmarray_core::chunk::ChunkGrid::new(&plan.shape, &unit, kind.itemsize())?;
    let fill: T = fill_element(plan.fill, kind);
    let fill_bytes = bytemuck::bytes_of(&fill).to_vec();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let threads = rayon::current_num_threads().clamp(1, grid.len().max(1));
    (0..threads).into_par_iter().try_for_each(|_| {
        let mut w = Worker::<T>::new();
        loop {
            if failed.load(Ordering::Relaxed) {
                return Ok(());
            }
            let id = next.fetch_add(1, Ordering::Relaxed);
            if id >= grid.len() {
                return Ok(());
            }
            let written = write_unit(
                src,
                &store,
                plan,
                &grid,
                id,
                fill,
                &fill_bytes,
                direct,
                &mut w,
            );
            if written.is_err() {
                failed.store(true, Ordering::Relaxed);
                return written;
            }
        }
    })?;
    drop(store);
    Ok(())
}

/// Gathers, encodes and writes the unit `id` of `grid` (see [`write_all`]).
#[allow(clippy::too_many_arguments)]
fn write_unit<T: Element, S: BlockSource<T> + ?Sized>(
    src: &S,
    store: &ZarrSource,
    plan: &Plan,
    grid: &mmarray_core::chunk::ChunkGrid,
    id: usize,
    fill: T,
    fill_bytes: &[u8],
    direct: Option<Direct>,
    w: &mut Worker<T>,
) -> Result<()> {
    let unit = grid.chunk_shape();
    let coords = grid.coords(id);
    let start: Vec<usize> = coords.iter().zip(unit).map(|(&c, &u)| c * u).collect();
    let extent: Vec<usize> = start
        .iter()
        .zip(unit)
        .zip(&plan.shape)
        .map(|((&s, &u), &n)| u.min(n - s))
        .collect();
    // The unit's full buffer, in C order (zarrs applies any transpose), padded
    // with the fill value beyond the array's edge.
    w.unit.resize(grid.chunk_len(), fill);
    if extent == unit {
        src.block_into(&start, &extent, &mut w.unit)?;
    } else {
        w.edge
            .resize(mmarray_core::checked_len(&extent).unwrap_or(0), fill);
        src.block_into(&start, &extent, &mut w.edge)?;
        w.unit.fill(fill);
        place(&w.edge, &extent, &mut w.unit, unit);
    }
    let Some(direct) = direct else {
        return store.write_new_unit(&coords, bytemuck::cast_slice(&w.unit));
    };
    if is_fill(bytemuck::cast_slice(&w.unit), fill_bytes) {
        return Ok(());
    }
    w.encode(direct)
        .map_err(|reason| store.unit_error(&coords, reason))?;
    store.write_unit_file(&coords, &w.encoded)
}

/// Copies the C-order block `src` of shape `extent` into the corner of the
/// C-order buffer `dst` of shape `full`.
fn place<T: Copy>(src: &[T], extent: &[usize], dst: &mut [T], full: &[usize]) {
    let nd = extent.len();
    if nd == 0 || src.is_empty() {
        if let (Some(d), Some(s)) = (dst.first_mut(), src.first()) {
            *d = *s;
        }
        return;
    }
    let row = extent[nd - 1];
    let rows = src.len() / row;
    let mut index = vec![0usize; nd - 1];
    for r in 0..rows {
        let mut at = 0;
        for ax in 0..nd - 1 {
            at = at * full[ax] + index[ax];
        }
        at *= full[nd - 1];
        dst[at..at + row].copy_from_slice(&src[r * row..(r + 1) * row]);
        for ax in (0..nd - 1).rev() {
            index[ax] += 1;
            if index[ax] < extent[ax] {
                break;
            }
            index[ax] = 0;
        }
    }
}

fn fill_element<T: Element>(fill: Value, kind: Kind) -> T {
    let bytes: Vec<u8> = mmarray_dtype::dispatch!(kind, N => {
        let v: N = fill.cast::<N>();
        bytemuck::bytes_of(&v).to_vec()
    });
    bytemuck::try_pod_read_unaligned(&bytes).unwrap_or_else(|_| T::zeroed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmarray_core::Order;

    /// The relative paths and bytes of every file under `dir`.
    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_owned()];
        while let Some(d) = todo.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                } else {
                    let name = p.strip_prefix(dir).unwrap().display().to_string();
                    out.push((name, fs::read(&p).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    /// The units [`Direct`] encodes are byte for byte the files `zarrs` writes
    /// for the same metadata: every compressor it takes, with and without a
    /// checksum, both byte orders, edge chunks padded with a non-zero fill value
    /// and a chunk equal to the fill value (not stored).
    #[test]
    fn direct_encoding_writes_the_bytes_zarrs_writes() {
        let dir = tempfile::tempdir().unwrap();
        let shape = [9usize, 11];
        let mut values: Vec<f64> = (0..99).map(|i| f64::from(i).sin() * 1e3).collect();
        // Chunk [0, 1] (rows 0..4, columns 4..8) holds the fill value only.
        for r in 0..4 {
            for c in 4..8 {
                values[r * 11 + c] = 2.5;
            }
        }
        let src = View::<f64>::from_bytes(
            bytemuck::cast_slice(&values),
            &shape,
            Order::C,
            ByteOrder::NATIVE,
        )
        .unwrap();
        let mut cases = 0;
        for compressor in [
            Compressor::None,
            Compressor::Zstd(1),
            Compressor::Zstd(-3),
            Compressor::Gzip(6),
        ] {
            for checksum in [false, true] {
                for order in [ByteOrder::Little, ByteOrder::Big] {
                    let options = CreateOptions::new()
                        .chunks(&[4, 4])
                        .compressor(compressor)
                        .checksum(checksum)
                        .byte_order(order)
                        .fill_value(Value::F64(2.5));
                    let name = format!("{compressor:?}-{checksum}-{order:?}");
                    let plan = plan(&dir.path().join("x"), src.dtype(), &shape, &options).unwrap();
                    let direct = Direct::plan(&plan).expect("a chain Direct takes");
                    let (a, b) = (
                        dir.path().join(format!("{name}-direct")),
                        dir.path().join(format!("{name}-zarrs")),
                    );
                    for (path, how) in [(&a, Some(direct)), (&b, None)] {
                        fs::create_dir(path).unwrap();
                        write_metadata(path, &plan.json).unwrap();
                        write_units(&src, path, &plan, how).unwrap();
                    }
                    let (fa, fb) = (files(&a), files(&b));
                    // zarr.json and 3 x 3 chunks but the one of fill values.
                    assert_eq!(fa.len(), 9, "{name}");
                    assert!(fa.iter().all(|(n, _)| n != "c/0/1"), "{name}");
                    assert_eq!(fa, fb, "{name}");
                    let back = ZarrSource::open(&a).unwrap().into_chunked();
                    let got = back.view::<f64>().unwrap().to_vec().unwrap();
                    assert_eq!(
                        bytemuck::cast_slice::<f64, u8>(&got),
                        bytemuck::cast_slice::<f64, u8>(&values),
                        "{name}"
                    );
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 16);
    }

    /// Sharded, transposed and blosc stores go through `zarrs`.
    #[test]
    fn other_chains_are_not_encoded_directly() {
        let path = Path::new("x.zarr");
        let dtype = DType::native(Kind::F64);
        let direct = |o: CreateOptions| Direct::plan(&plan(path, dtype, &[8, 8], &o).unwrap());
        let base = || CreateOptions::new().chunks(&[4, 4]);
        assert!(direct(base()).is_some());
        assert!(direct(base().order(Order::F)).is_none());
        assert!(direct(base().shards(&[2, 1])).is_none());
        assert!(
            direct(base().compressor(Compressor::Blosc {
                cname: crate::BloscCompressor::Lz4,
                clevel: 5,
                shuffle: crate::BloscShuffle::Byte,
            }))
            .is_none()
        );
        // A 1-d array has no transpose codec in either order.
        let one =
            Direct::plan(&plan(path, dtype, &[8], &CreateOptions::new().order(Order::F)).unwrap());
        assert!(one.is_some());
    }

    /// A view gathers a block straight into a buffer as `block` copies it,
    /// whatever its layout: C and F order, reversed axes, the other byte order.
    #[test]
    fn views_gather_blocks_as_block_copies_them() {
        let values: Vec<u32> = (0..6 * 7 * 5).collect();
        let bytes: &[u8] = bytemuck::cast_slice(&values);
        for order in [Order::C, Order::F] {
            for bo in [ByteOrder::Little, ByteOrder::Big] {
                let v = View::<u32>::from_bytes(bytes, &[6, 7, 5], order, bo).unwrap();
                for spec in [":", "::-1, 1:, ::2", "2, :, 1:4"] {
                    let v = v.slice(spec).unwrap();
                    let shape = v.shape().to_vec();
                    let start = vec![0; shape.len()];
                    let mut block: Vec<usize> = shape.iter().map(|&n| n.min(3)).collect();
                    for s in [start.clone(), shape.iter().map(|&n| n - n.min(3)).collect()] {
                        let want = BlockSource::block(&v, &s, &block).unwrap();
                        let mut got = vec![0u32; want.len()];
                        v.block_into(&s, &block, &mut got).unwrap();
                        assert_eq!(got, want, "{order:?} {bo:?} {spec} {s:?}");
                    }
                    let mut wrong = vec![0u32; 1];
                    block[0] = block[0].max(2);
                    assert!(v.block_into(&start, &block, &mut wrong).is_err());
                }
            }
        }
    }
}
