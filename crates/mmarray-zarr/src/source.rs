//! [`ZarrSource`]: a Zarr array on the filesystem as a [`ChunkSource`].

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mmarray_core::chunk::{ChunkBytes, ChunkGrid, ChunkSource, ChunkStream, Chunked, MappedFile};
use mmarray_core::{Error, Result};
use mmarray_dtype::{DType, Native, Value};
use zarrs::array::{
    Array, ArrayBytes, ArrayShardedExt, ArrayShardedReadableExt, ArrayShardedReadableExtCache,
    ArraySubset, ArrayToBytesCodecTraits, CodecChain, CodecOptions,
};
use zarrs::filesystem::FilesystemStore;
use zarrs::metadata::v3::MetadataV3;

use crate::meta::{self, StoreInfo, layout};
use crate::screen::screen;
use crate::shard::Shards;
use crate::stream::{Decoders, ZstdStream};

/// The largest chunk (decoded, in bytes) a store may have: 1 GiB. A chunk is
/// decoded whole into memory, so a store claiming larger chunks is refused
/// rather than trusted (raise it with [`OpenOptions::max_chunk_bytes`]).
pub const MAX_CHUNK_BYTES: usize = 1 << 30;

/// The most inner chunks a shard may hold: 2^22 (a 64 MiB shard index, which is
/// read whole).
pub const MAX_CHUNKS_PER_SHARD: usize = 1 << 22;

/// Number of locks that serialise writes to the shards of a sharded store (a
/// shard is rewritten whole when one of its chunks is written).
const SHARD_LOCKS: usize = 64;

/// How to open a Zarr array ([`ZarrSource::open_with`]).
#[derive(Debug, Clone)]
pub struct OpenOptions {
    writable: bool,
    max_chunk_bytes: usize,
    map_chunks: bool,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions {
            writable: false,
            max_chunk_bytes: MAX_CHUNK_BYTES,
            map_chunks: false,
        }
    }
}

impl OpenOptions {
    /// Read-only, chunks of at most [`MAX_CHUNK_BYTES`].
    #[must_use]
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Whether chunks may be written (Zarr v3 arrays only).
    #[must_use]
    pub fn writable(mut self, yes: bool) -> OpenOptions {
        self.writable = yes;
        self
    }

    /// The largest chunk accepted, in bytes decoded.
    #[must_use]
    pub fn max_chunk_bytes(mut self, bytes: usize) -> OpenOptions {
        self.max_chunk_bytes = bytes;
        self
    }

    /// Whether chunks stored uncompressed in files of their own (a read-only,
    /// unsharded store whose codecs are just `bytes` in native byte order) are
    /// mapped instead of read: no copy, no buffer; and whether compressed
    /// chunk files of unsharded read-only stores are decoded from a mapping
    /// instead of read into a buffer (no copy out of the page cache). Off by
    /// default.
    ///
    /// # Safety
    ///
    /// No other process or thread modifies or truncates the store's chunk files
    /// while the array is alive, as for every mapped file (see
    /// [`MappedFile::map`](mmarray_core::chunk::MappedFile::map)). Chunks
    /// replaced by a rename (as mmarray and zarr-python write them) are fine.
    #[must_use]
    pub unsafe fn map_chunks(mut self, yes: bool) -> OpenOptions {
        self.map_chunks = yes;
        self
    }
}

/// A bytes-to-bytes codec that mmarray decodes itself ([`Direct`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Crc32c,
    Zstd,
    Gzip,
}

/// How the stored bytes of a chunk become its buffer without `zarrs`'s
/// bytes-to-bytes codecs: checksums checked and decompression into the
/// caller's buffer, which never grows past the chunk's size (whatever the
/// stored data claims).
struct Direct {
    /// The bytes-to-bytes codecs in metadata order (undone in reverse).
    steps: Vec<Step>,
    /// The array part (`transpose`, `bytes`) through `zarrs` when it is more than
    /// a copy (a transposed or non-native store); `None`: the decoded bytes are
    /// the chunk's buffer.
    array_part: Option<CodecChain>,
}

impl Direct {
    /// The plan for a chain whose bytes-to-bytes codecs are `b2b` (names in
    /// metadata order), if every one is `crc32c`, `zstd` or `gzip` with at most
    /// one compressor.
    fn plan(chain: &CodecChain, b2b: &[String], plain_bytes: bool) -> Option<Direct> {
        let steps: Vec<Step> = b2b
            .iter()
            .map(|n| match n.as_str() {
                "crc32c" => Some(Step::Crc32c),
                "zstd" => Some(Step::Zstd),
                "gzip" => Some(Step::Gzip),
                _ => None,
            })
            .collect::<Option<_>>()?;
        if steps.iter().filter(|s| **s != Step::Crc32c).count() > 1 {
            return None;
        }
        let plain = plain_bytes && chain.array_to_array_codecs().is_empty();
        let array_part = (!plain).then(|| {
            CodecChain::new(
                chain.array_to_array_codecs().to_vec(),
                chain.array_to_bytes_codec().clone(),
                Vec::new(),
            )
        });
        Some(Direct { steps, array_part })
    }

    /// Undoes the bytes-to-bytes codecs of `raw` into `out`, which holds exactly
    /// `want` bytes afterwards (or it is an error).
    fn undo(&self, raw: &[u8], want: usize, out: &mut Vec<u8>) -> std::result::Result<(), String> {
        let mut data = raw;
        let mut steps = self.steps.as_slice();
        // Checksums outside the compressor: a 4-byte suffix each.
        while let Some((Step::Crc32c, before)) = steps.split_last() {
            data = check_crc32c(data)?;
            steps = before;
        }
        let Some((&compressor, inner)) = steps.split_last() else {
            if data.len() != want {
                return Err(format!("{} bytes stored, {want} expected", data.len()));
            }
            out.clear();
            out.extend_from_slice(data);
            return Ok(());
        };
        // What the compressor decodes to: the chunk, and a checksum per inner crc32c.
        let n = want + 4 * inner.len();
        out.resize(n, 0);
        let got = match compressor {
            Step::Zstd => ZSTD.with_borrow_mut(|d| {
                let d = match d {
                    Some(d) => d,
                    None => {
                        d.insert(zstd::bulk::Decompressor::new().map_err(|e| format!("zstd: {e}"))?)
                    }
                };
                d.decompress_to_buffer(data, out.as_mut_slice())
                    .map_err(|e| format!("corrupt zstd data or more than {n} bytes: {e}"))
            })?,
            Step::Gzip => {
                use std::io::Read;
                let mut d = flate2::read::GzDecoder::new(data);
                let mut got = 0;
                loop {
                    match d.read(&mut out[got..]) {
                        Ok(0) => break,
                        Ok(k) => got += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(format!("corrupt gzip data: {e}")),
                    }
                    if got == n {
                        let mut more = [0u8; 1];
                        if d.read(&mut more)
                            .map_err(|e| format!("corrupt gzip data: {e}"))?
                            > 0
                        {
                            return Err(format!("the gzip data decodes to more than {n} bytes"));
                        }
                        break;
                    }
                }
                got
            }
            Step::Crc32c => 0,
        };
        if got != n {
            return Err(format!("decodes to {got} bytes, {n} expected"));
        }
        let mut len = n;
        for _ in inner {
            len = check_crc32c(&out[..len])?.len();
        }
        out.truncate(want);
        Ok(())
    }
}

/// `data` without its crc32c suffix, if the suffix is the checksum of the rest.
fn check_crc32c(data: &[u8]) -> std::result::Result<&[u8], String> {
    let Some(split) = data.len().checked_sub(4) else {
        return Err(format!(
            "{} bytes, shorter than a crc32c checksum",
            data.len()
        ));
    };
    let (body, sum) = data.split_at(split);
    let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    if crc32c::crc32c(body) != stored {
        return Err("crc32c checksum mismatch".to_owned());
    }
    Ok(body)
}

thread_local! {
    /// A thread's zstd decompression context, made on first use.
    static ZSTD: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    /// A thread's buffer for the stored bytes of a chunk.
    static STORED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// How the chunks of a store described by `info` are read: the [`Direct`]
/// plan, if any, and whether they are mapped.
fn plan_reads(
    info: &StoreInfo,
    decode: &Decode,
    b2b: &[String],
    options: &OpenOptions,
) -> (Option<Direct>, bool) {
    let plain_bytes = info.dtype.is_native() || info.dtype.itemsize() == 1;
    let has_bytes = info.codecs.iter().any(|c| c == "bytes");
    let direct = match decode {
        Decode::Chain(chain) if has_bytes => Direct::plan(chain, b2b, plain_bytes),
        _ => None,
    };
    let map = options.map_chunks
        && !options.writable
        && info.shards.is_none()
        && direct
            .as_ref()
            .is_some_and(|d| d.steps.is_empty() && d.array_part.is_none());
    (direct, map)
}

/// How chunks are decoded.
enum Decode {
    /// Stored bytes from the store (or a shard), screened, then this chain.
    Chain(CodecChain),
    /// Through `zarrs` alone (sharded arrays with codecs outside the shards).
    Subchunk,
}

/// A Zarr array in a filesystem store, as a [`ChunkSource`]: the chunks of a
/// sharded array are its inner chunks.
///
/// Chunk bytes are decoded by `zarrs` into native byte order (so [`ChunkSource::dtype`]
/// is native whatever the store's `bytes` codec says; [`StoreInfo::dtype`] has the
/// stored order); missing chunks read as the fill value. Chunks are decoded
/// into the buffer [`ChunkSource::read_chunk`] is given (reused, bounded by the
/// chunk's size), or mapped where they lie uncompressed and the store was opened
/// with [`OpenOptions::map_chunks`].
pub struct ZarrSource {
    path: PathBuf,
    name: String,
    info: StoreInfo,
    dtype: DType,
    grid: ChunkGrid,
    array: Array<FilesystemStore>,
    decode: Decode,
    /// The bytes-to-bytes codecs of a chunk, for [`screen`].
    b2b: Vec<String>,
    /// Chunks per shard along each axis (sharded arrays).
    per_shard: Option<Vec<usize>>,
    /// How inner chunks are found in shards (exclusively sharded arrays).
    shards: Option<Shards>,
    /// zarrs' cache of shard indexes (other sharded arrays).
    shard_cache: Option<ArrayShardedReadableExtCache>,
    shard_locks: Vec<Mutex<()>>,
    writable: bool,
    /// The stored bytes' decoding without `zarrs`'s bytes-to-bytes codecs, if
    /// the chain allows it.
    direct: Option<Direct>,
    /// Whether chunks are mapped (uncompressed, unsharded, native, read-only,
    /// and [`OpenOptions::map_chunks`]).
    map: bool,
    /// Whether compressed chunk files are mapped instead of read
    /// ([`OpenOptions::map_chunks`] on a read-only store).
    map_files: bool,
    /// Whether chunks were written since the last flush.
    dirty: AtomicBool,
    options: CodecOptions,
    /// The idle decoders of streamed chunks.
    decoders: Decoders,
}

impl fmt::Debug for ZarrSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZarrSource")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("writable", &self.writable)
            .finish_non_exhaustive()
    }
}

fn shape_u64(shape: &[usize]) -> Vec<u64> {
    shape.iter().map(|&n| n as u64).collect()
}

impl ZarrSource {
    /// Opens the Zarr array at `path` (a directory with `zarr.json` or `.zarray`)
    /// read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<ZarrSource> {
        ZarrSource::open_with(path, &OpenOptions::new())
    }

    /// Opens the Zarr array at `path` with `options`.
    ///
    /// Everything mmarray relies on is checked here: the metadata (strictly, with
    /// `zarrs` agreeing), the data type (every mmarray kind, nothing else), the
    /// sizes (chunk and grid sizes that fit, chunks of at most
    /// [`OpenOptions::max_chunk_bytes`], shards of at most [`MAX_CHUNKS_PER_SHARD`]
    /// chunks). Chunks are checked as they are read.
    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<ZarrSource> {
        let path = path.as_ref();
        let info = meta::read(path)?;
        let bad = |reason: String| layout(path, reason);
        if options.writable && info.version != 3 {
            return Err(bad(
                "Zarr v2 arrays are read-only in mmarray (convert to v3 to write)".to_owned(),
            ));
        }
        let kind = info.dtype.kind();
        let grid = ChunkGrid::new(&info.shape, &info.chunks, kind.itemsize())
            .map_err(|e| bad(e.to_string()))?;
        let chunk_bytes = grid.chunk_len() * kind.itemsize();
        if chunk_bytes > options.max_chunk_bytes {
            return Err(bad(format!(
                "chunks of {:?} hold {chunk_bytes} bytes, more than the {} accepted",
                info.chunks, options.max_chunk_bytes
            )));
        }
        let per_shard = info.shards.as_ref().map(|s| {
            s.iter()
                .zip(&info.chunks)
                .map(|(&s, &c)| s / c)
                .collect::<Vec<_>>()
        });
        if let Some(per) = &per_shard {
            let n = mmarray_core::checked_len(per).unwrap_or(usize::MAX);
            if n > MAX_CHUNKS_PER_SHARD {
                return Err(bad(format!(
                    "shards of {per:?} chunks: more than the {MAX_CHUNKS_PER_SHARD} accepted"
                )));
            }
        }
        let store = FilesystemStore::new(path).map_err(|e| bad(e.to_string()))?;
        let array = guard(|| Array::open(Arc::new(store), "/"))
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map_err(|e| bad(format!("{}: zarrs: {e}", meta::file_name(info.version))))?;
        // zarrs must see the array as we do.
        let dt = array.data_type();
        if array.shape() != shape_u64(&info.shape).as_slice()
            || dt.fixed_size() != Some(kind.itemsize())
            || array.is_sharded() != info.shards.is_some()
        {
            return Err(bad(format!(
                "{}: zarrs reads the metadata differently (shape {:?}, data type {dt})",
                meta::file_name(info.version),
                array.shape()
            )));
        }
        let exclusively_sharded = array.is_exclusively_sharded();
        let decode = if info.shards.is_some() && !exclusively_sharded {
            Decode::Subchunk
        } else if info.shards.is_some() {
            Decode::Chain(inner_chain(&array).map_err(bad)?)
        } else {
            Decode::Chain(CodecChain::new(
                array.codecs().array_to_array_codecs().to_vec(),
                array.codecs().array_to_bytes_codec().clone(),
                array.codecs().bytes_to_bytes_codecs().to_vec(),
            ))
        };
        let b2b = match info.codecs.iter().rposition(|c| c == "bytes") {
            Some(i) => info.codecs[i + 1..].to_vec(),
            None => Vec::new(),
        };
        let shards = match (&per_shard, info.index, &decode) {
            (Some(per), Some(index), Decode::Chain(_)) => {
                Some(Shards::new(index, per.clone(), !options.writable))
            }
            _ => None,
        };
        let shard_cache = match (&per_shard, &decode) {
            (Some(_), Decode::Subchunk) => Some(ArrayShardedReadableExtCache::new(&array)),
            _ => None,
        };
        let (direct, map) = plan_reads(&info, &decode, &b2b, options);
        let name = path.display().to_string();
        Ok(ZarrSource {
            path: path.to_owned(),
            name,
            dtype: DType::native(kind),
            grid,
            array,
            decode,
            b2b,
            per_shard,
            shards,
            shard_cache,
            shard_locks: (0..SHARD_LOCKS).map(|_| Mutex::new(())).collect(),
            writable: options.writable,
            direct,
            map,
            map_files: options.map_chunks && !options.writable,
            dirty: AtomicBool::new(false),
            // Chunks are decoded one per thread by the callers: no nested parallelism.
            options: CodecOptions::default().with_concurrent_target(1),
            info,
            decoders: Decoders::default(),
        })
    }

    /// Puts the source behind a [`Chunked`] array, walked in the store's order
    /// ([`StoreInfo::order`]).
    #[must_use]
    pub fn into_chunked(self) -> Chunked {
        let order = self.info.order;
        Chunked::new(Box::new(self)).with_order(order)
    }

    /// The store's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the metadata says.
    #[must_use]
    pub fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// The fill value (what missing chunks hold), as a value of the array's kind.
    #[must_use]
    pub fn fill_value(&self) -> Value {
        let bytes = self.array.fill_value().as_ne_bytes();
        mmarray_dtype::dispatch!(self.dtype.kind(), T => {
            bytemuck::try_pod_read_unaligned::<T>(bytes)
                .map_or_else(|_| T::default().to_value(), Native::to_value)
        })
    }

    /// The store key of the chunk at `coords` (for a sharded array, the shard's
    /// key and the chunk's place in it), as used in messages.
    #[must_use]
    pub fn chunk_key(&self, coords: &[usize]) -> String {
        match &self.per_shard {
            None => self.array.chunk_key(&shape_u64(coords)).to_string(),
            Some(per) => {
                let shard: Vec<u64> = coords
                    .iter()
                    .zip(per)
                    .map(|(&c, &p)| (c / p) as u64)
                    .collect();
                let inner: Vec<usize> = coords.iter().zip(per).map(|(&c, &p)| c % p).collect();
                format!("{} (inner chunk {inner:?})", self.array.chunk_key(&shard))
            }
        }
    }

    /// Whether chunks can be streamed ([`ChunkSource::stream_chunk`]): a
    /// read-only, unsharded store whose chunks are plain (native, untransposed)
    /// bytes compressed by zstd alone.
    fn streams(&self) -> bool {
        !self.writable
            && self.shards.is_none()
            && !self.map
            && matches!(self.decode, Decode::Chain(_))
            && self
                .direct
                .as_ref()
                .is_some_and(|d| d.steps == [Step::Zstd] && d.array_part.is_none())
    }

    fn chunk_error(&self, coords: &[usize], reason: impl Into<String>) -> Error {
        Error::Chunk {
            store: self.name.clone(),
            chunk: self.chunk_key(coords),
            reason: reason.into(),
        }
    }

    fn shard_lock(&self, coords: &[usize]) -> Option<std::sync::MutexGuard<'_, ()>> {
        let per = self.per_shard.as_ref()?;
        let counts = self.grid.grid_shape();
        let mut id = 0usize;
        for ((&c, &p), &n) in coords.iter().zip(per).zip(counts) {
            id = id.wrapping_mul(n.div_ceil(p)).wrapping_add(c / p);
        }
        let lock = &self.shard_locks[id % SHARD_LOCKS];
        Some(lock.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The chunk at `coords`, native order: mapped (see [`OpenOptions::map_chunks`])
    /// or decoded into `buf`, which is reused (it grows to one chunk, once).
    fn decode(
        &self,
        coords: &[usize],
        buf: Vec<u8>,
    ) -> std::result::Result<ChunkBytes<'_>, String> {
        let c = shape_u64(coords);
        let want = self.grid.chunk_len() * self.dtype.itemsize();
        let chain = match &self.decode {
            Decode::Chain(chain) => chain,
            Decode::Subchunk => {
                let cache = self.cache_for_read();
                let bytes: ArrayBytes<'static> = guard(|| {
                    self.array.retrieve_subchunk_opt::<ArrayBytes<'static>>(
                        &cache,
                        &c,
                        &self.options,
                    )
                })?
                .map_err(|e| e.to_string())?;
                return fixed(bytes, want).map(ChunkBytes::Owned);
            }
        };
        if let Some(shards) = &self.shards {
            let shard: Vec<u64> = coords
                .iter()
                .zip(shards.per())
                .map(|(&c, &p)| (c / p) as u64)
                .collect();
            let file = self
                .array
                .storage()
                .key_to_fspath(&self.array.chunk_key(&shard));
            return match shards.read(&file, coords)? {
                None => Ok(ChunkBytes::Owned(self.fill_chunk(want, buf))),
                Some(raw) => self.decode_stored(chain, &raw, want, buf),
            };
        }
        let file = self
            .array
            .storage()
            .key_to_fspath(&self.array.chunk_key(&c));
        if self.map {
            return self.map_chunk(&file, want, buf);
        }
        if self.map_files {
            let Some((f, len)) = open_chunk_file(&file)? else {
                return Ok(ChunkBytes::Owned(self.fill_chunk(want, buf)));
            };
            fits(len, want)?;
            if let Some(map) = map_file(&f, len) {
                return self.decode_stored(chain, &map, want, buf);
            }
        }
        STORED.with_borrow_mut(|raw| {
            if read_stored(&file, want, raw)? {
                self.decode_stored(chain, raw, want, buf)
            } else {
                Ok(ChunkBytes::Owned(self.fill_chunk(want, buf)))
            }
        })
    }

    /// Decodes `raw`, the stored bytes of a chunk of `want` bytes, into `buf`.
    fn decode_stored(
        &self,
        chain: &CodecChain,
        raw: &[u8],
        want: usize,
        mut buf: Vec<u8>,
    ) -> std::result::Result<ChunkBytes<'_>, String> {
        screen(raw, &self.b2b, want)?;
        let shape: Vec<NonZeroU64> = self
            .grid
            .chunk_shape()
            .iter()
            .filter_map(|&n| NonZeroU64::new(n as u64))
            .collect();
        let array_part = match &self.direct {
            Some(direct) => {
                direct.undo(raw, want, &mut buf)?;
                match &direct.array_part {
                    None => return Ok(ChunkBytes::Owned(buf)),
                    Some(part) => (part, Cow::Borrowed(buf.as_slice())),
                }
            }
            None => (chain, Cow::Borrowed(raw)),
        };
        let (part, bytes) = array_part;
        let decoded = guard(|| {
            part.decode(
                bytes,
                &shape,
                self.array.data_type(),
                self.array.fill_value(),
                &self.options,
            )
        })?
        .map_err(|e| e.to_string())?
        .into_owned();
        fixed(decoded, want).map(ChunkBytes::Owned)
    }

    /// Maps the chunk file `file` of `want` bytes (read into `buf` if it cannot
    /// be mapped); a missing file is the fill value.
    fn map_chunk(
        &self,
        file: &Path,
        want: usize,
        mut buf: Vec<u8>,
    ) -> std::result::Result<ChunkBytes<'_>, String> {
        let Some((f, len)) = open_chunk_file(file)? else {
            return Ok(ChunkBytes::Owned(self.fill_chunk(want, buf)));
        };
        if len != want as u64 {
            return Err(format!("{len} bytes stored, {want} expected"));
        }
        if want > 0
            && let Some(map) = map_file(&f, len)
        {
            return Ok(ChunkBytes::Mapped(map));
        }
        buf.resize(want, 0);
        std::io::Read::read_exact(&mut &f, &mut buf)
            .map_err(|e| format!("cannot read the chunk: {e}"))?;
        Ok(ChunkBytes::Owned(buf))
    }

    /// The shard index cache to read with: the shared one for read-only stores,
    /// a fresh one for writable stores (whose shards are rewritten, making cached
    /// indexes stale).
    fn cache_for_read(&self) -> CacheRef<'_> {
        match (&self.shard_cache, self.writable) {
            (Some(cache), false) => CacheRef::Shared(cache),
            _ => CacheRef::Fresh(ArrayShardedReadableExtCache::new(&self.array)),
        }
    }

    /// Stores the full buffer (native order) of the write unit at `coords` of a
    /// new store: a chunk, or for a sharded array a whole shard. A unit equal to
    /// the fill value is not stored. The file is written but not synced (the
    /// caller syncs the whole store once, see [`sync_tree`](crate::create)):
    /// a sync per file would leave the encoding threads waiting on the disk.
    pub(crate) fn write_new_unit(&self, coords: &[usize], bytes: &[u8]) -> Result<()> {
        let c = shape_u64(coords);
        let key = self.array.chunk_key(&c);
        let fail = |reason: String| Error::Chunk {
            store: self.name.clone(),
            chunk: key.to_string(),
            reason,
        };
        let shape = self
            .array
            .chunk_shape(&c)
            .map_err(|e| fail(e.to_string()))?;
        let data = ArrayBytes::new_flen(Cow::Borrowed(bytes));
        if data.is_fill_value(self.array.fill_value()) {
            return Ok(());
        }
        let encoded = guard(|| {
            self.array.codecs().encode(
                data,
                &shape,
                self.array.data_type(),
                self.array.fill_value(),
                &self.options,
            )
        })
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(fail)?;
        self.write_unit_file(coords, &encoded)
    }

    /// An error about the write unit at `coords` of a new store (see
    /// [`write_new_unit`](Self::write_new_unit)).
    pub(crate) fn unit_error(&self, coords: &[usize], reason: String) -> Error {
        Error::Chunk {
            store: self.name.clone(),
            chunk: self.array.chunk_key(&shape_u64(coords)).to_string(),
            reason,
        }
    }

    /// Writes `encoded` as the file of the write unit at `coords` of a new store
    /// (see [`write_new_unit`](Self::write_new_unit)), unsynced. On Linux the
    /// kernel is asked to start writing it to disk at once, so that the disk
    /// works while the next units are encoded and the final sync of the store
    /// has little left to wait for.
    pub(crate) fn write_unit_file(&self, coords: &[usize], encoded: &[u8]) -> Result<()> {
        let key = self.array.chunk_key(&shape_u64(coords));
        let file = self.array.storage().key_to_fspath(&key);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.to_owned(),
                action: "create",
                source,
            })?;
        }
        let io = |action: &'static str| {
            let path = file.clone();
            move |source| Error::Io {
                path,
                action,
                source,
            }
        };
        let mut f = std::fs::File::create(&file).map_err(io("create"))?;
        std::io::Write::write_all(&mut f, encoded).map_err(io("write"))?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: `sync_file_range` only reads its arguments; `f` keeps the
            // descriptor open for the duration of the call. A failure only means
            // the data is written later (by the final sync), so it is ignored.
            unsafe {
                libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
            }
        }
        Ok(())
    }

    /// Stores a chunk of an unsharded array: encoded, written under a temporary
    /// name beside its key and renamed over it (a reader sees the old chunk or
    /// the new one, never part of one), unsynced until [`flush`](ChunkSource::flush).
    /// A chunk equal to the fill value is removed (missing chunks read as it).
    fn store_chunk_file(&self, coords: &[usize], data: ArrayBytes<'_>) -> Result<()> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let c = shape_u64(coords);
        let key = self.array.chunk_key(&c);
        let file = self.array.storage().key_to_fspath(&key);
        let io = |path: &Path, action: &'static str| {
            let path = path.to_owned();
            move |source| Error::Io {
                path,
                action,
                source,
            }
        };
        self.dirty.store(true, Ordering::Relaxed);
        if data.is_fill_value(self.array.fill_value()) {
            return match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&file, "remove")(e)),
                _ => Ok(()),
            };
        }
        let shape = self
            .array
            .chunk_shape(&c)
            .map_err(|e| self.chunk_error(coords, e.to_string()))?;
        let encoded = guard(|| {
            self.array.codecs().encode(
                data,
                &shape,
                self.array.data_type(),
                self.array.fill_value(),
                &self.options,
            )
        })
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(|r| self.chunk_error(coords, r))?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir, "create"))?;
        }
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = file.with_file_name(format!(
            ".{name}.{}.{n}.mmarray-zarr-chunk",
            std::process::id()
        ));
        let written = std::fs::write(&tmp, &encoded)
            .map_err(io(&tmp, "write"))
            .and_then(|()| std::fs::rename(&tmp, &file).map_err(io(&file, "rename")));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// `buf` holding `len` bytes of the fill value.
    fn fill_chunk(&self, len: usize, mut buf: Vec<u8>) -> Vec<u8> {
        let fill = self.array.fill_value().as_ne_bytes();
        buf.clear();
        if fill.is_empty() || fill.iter().all(|&b| b == 0) {
            buf.resize(len, 0);
        } else {
            buf.extend(fill.iter().copied().cycle().take(len));
        }
        buf
    }
}

/// The fixed-size bytes of a decoded chunk, checked to be `want` bytes.
fn fixed(bytes: ArrayBytes<'_>, want: usize) -> std::result::Result<Vec<u8>, String> {
    let bytes = bytes.into_fixed().map_err(|e| e.to_string())?.into_owned();
    if bytes.len() != want {
        return Err(format!("decodes to {} bytes, {want} expected", bytes.len()));
    }
    Ok(bytes)
}

/// Maps the chunk file `f`, if it can be mapped whole (`len` bytes). Only for
/// stores opened with [`OpenOptions::map_chunks`], whose caller promised what
/// mapping needs.
pub(crate) fn map_file(f: &std::fs::File, len: u64) -> Option<MappedFile> {
    // SAFETY: every caller maps a chunk file of a store opened with
    // `OpenOptions::map_chunks`, whose caller promised that the store's chunk
    // files are neither modified nor truncated while the array is alive.
    let map = unsafe { MappedFile::map(f) }.ok()?;
    (map.len() as u64 == len).then_some(map)
}

/// A [`ZstdStream`] whose errors name its store and chunk.
struct Named<'s> {
    source: &'s ZarrSource,
    coords: Vec<usize>,
    inner: ZstdStream<'s>,
}

impl ChunkStream for Named<'_> {
    fn read_next(&mut self, buf: &mut [u8]) -> Result<()> {
        self.inner
            .read_next(buf)
            .map_err(|r| self.source.chunk_error(&self.coords, r))
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.inner
            .finish()
            .map_err(|r| self.source.chunk_error(&self.coords, r))
    }
}

/// The most bytes a stored chunk of `want` bytes may have: its size plus what any
/// codec adds (zstd and gzip frames of incompressible data, blosc headers,
/// checksums) with room to spare. A larger file is refused before it is read.
fn max_stored(want: usize) -> u64 {
    want as u64 + want as u64 / 4 + (64 << 10)
}

/// Refuses a chunk file of `len` bytes larger than a chunk of `want` bytes can
/// be stored in ([`max_stored`]).
fn fits(len: u64, want: usize) -> std::result::Result<(), String> {
    if len > max_stored(want) {
        return Err(format!(
            "{len} bytes stored, more than a chunk of {want} bytes can take"
        ));
    }
    Ok(())
}

/// The chunk file `file`, open, and its length; `None` if there is none.
pub(crate) fn open_chunk_file(
    file: &Path,
) -> std::result::Result<Option<(std::fs::File, u64)>, String> {
    let f = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot open the chunk: {e}")),
    };
    let len = f
        .metadata()
        .map_err(|e| format!("cannot read the chunk: {e}"))?
        .len();
    Ok(Some((f, len)))
}

/// Reads the chunk file `file` whole into `raw` (reused); `false` if there is
/// none. A file larger than a chunk of `want` bytes can be stored in is an error.
fn read_stored(file: &Path, want: usize, raw: &mut Vec<u8>) -> std::result::Result<bool, String> {
    let Some((f, len)) = open_chunk_file(file)? else {
        return Ok(false);
    };
    fits(len, want)?;
    raw.resize(usize::try_from(len).unwrap_or(0), 0);
    std::io::Read::read_exact(&mut &f, raw).map_err(|e| format!("cannot read the chunk: {e}"))?;
    Ok(true)
}

/// A shard index cache, shared or made for one read.
enum CacheRef<'a> {
    Shared(&'a ArrayShardedReadableExtCache),
    Fresh(ArrayShardedReadableExtCache),
}

impl std::ops::Deref for CacheRef<'_> {
    type Target = ArrayShardedReadableExtCache;
    fn deref(&self) -> &ArrayShardedReadableExtCache {
        match self {
            CacheRef::Shared(c) => c,
            CacheRef::Fresh(c) => c,
        }
    }
}

/// The codec chain inside the sharding codec of an exclusively sharded array.
fn inner_chain(array: &Array<FilesystemStore>) -> std::result::Result<CodecChain, String> {
    let config = array
        .codecs()
        .array_to_bytes_codec()
        .configuration_v3(&zarrs::array::CodecMetadataOptions::default())
        .ok_or("the sharding codec has no configuration")?;
    let codecs = config
        .get("codecs")
        .and_then(|c| c.as_array())
        .ok_or("the sharding codec has no codecs")?;
    let metadata: Vec<MetadataV3> = codecs
        .iter()
        .map(|c| serde_json::from_value(c.clone()).map_err(|e| e.to_string()))
        .collect::<std::result::Result<_, _>>()?;
    CodecChain::from_metadata(&metadata).map_err(|e| format!("the shard's codecs: {e}"))
}

/// Runs `f`, turning a panic inside `zarrs` or a codec library into an error: a
/// last line of defence, so that no store, however malformed, brings the
/// process down (everything known is checked before).
fn guard<R>(f: impl FnOnce() -> R) -> std::result::Result<R, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("the Zarr decoder failed: {what}")
    })
}

impl ChunkSource for ZarrSource {
    /// Makes the chunks written since the last flush durable (one `syncfs` of
    /// the store's filesystem on Linux; the store's files one by one elsewhere).
    /// Chunks of sharded arrays are durable when written.
    fn flush(&self) -> Result<()> {
        if self.dirty.swap(false, Ordering::Relaxed)
            && let Err(e) = crate::create::sync_tree(&self.path)
        {
            self.dirty.store(true, Ordering::Relaxed);
            return Err(e);
        }
        Ok(())
    }

    fn dtype(&self) -> DType {
        self.dtype
    }

    fn grid(&self) -> &ChunkGrid {
        &self.grid
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn read_chunk(&self, coords: &[usize], buf: Vec<u8>) -> Result<ChunkBytes<'_>> {
        if self.grid.id(coords).is_none() {
            return Err(self.chunk_error(
                coords,
                format!("outside the grid {:?}", self.grid.grid_shape()),
            ));
        }
        let _lock = if self.writable {
            self.shard_lock(coords)
        } else {
            None
        };
        self.decode(coords, buf)
            .map_err(|r| self.chunk_error(coords, r))
    }

    fn can_stream(&self) -> bool {
        self.streams()
    }

    fn stream_chunk(&self, coords: &[usize]) -> Result<Option<Box<dyn ChunkStream + '_>>> {
        if !self.streams() || self.grid.id(coords).is_none() {
            return Ok(None);
        }
        let want = self.grid.chunk_len() * self.dtype.itemsize();
        let file = self
            .array
            .storage()
            .key_to_fspath(&self.array.chunk_key(&shape_u64(coords)));
        let stream = ZstdStream::open(
            &file,
            want,
            max_stored(want),
            self.map_files,
            &self.decoders,
        )
        .map_err(|r| self.chunk_error(coords, r))?;
        Ok(stream.map(|inner| {
            Box::new(Named {
                source: self,
                coords: coords.to_vec(),
                inner,
            }) as Box<dyn ChunkStream + '_>
        }))
    }

    fn is_writable(&self) -> bool {
        self.writable
    }

    fn write_chunk(&self, coords: &[usize], bytes: &[u8]) -> Result<()> {
        if !self.writable {
            return Err(Error::Unsupported(format!(
                "{}: the store is read-only",
                self.name
            )));
        }
        if self.grid.id(coords).is_none() {
            return Err(self.chunk_error(
                coords,
                format!("outside the grid {:?}", self.grid.grid_shape()),
            ));
        }
        let want = self.grid.chunk_len() * self.dtype.itemsize();
        if bytes.len() != want {
            return Err(self.chunk_error(
                coords,
                format!("written with {} bytes, {want} expected", bytes.len()),
            ));
        }
        let data = ArrayBytes::new_flen(Cow::Borrowed(bytes));
        let result = match &self.per_shard {
            None => return self.store_chunk_file(coords, data),
            Some(per) => {
                let _lock = self.shard_lock(coords);
                let shard: Vec<u64> = coords
                    .iter()
                    .zip(per)
                    .map(|(&c, &p)| (c / p) as u64)
                    .collect();
                let start: Vec<u64> = coords
                    .iter()
                    .zip(per)
                    .zip(self.grid.chunk_shape())
                    .map(|((&c, &p), &n)| ((c % p) * n) as u64)
                    .collect();
                let subset =
                    ArraySubset::new_with_start_shape(start, shape_u64(self.grid.chunk_shape()))
                        .map_err(|e| self.chunk_error(coords, e.to_string()))?;
                guard(|| {
                    self.array
                        .store_chunk_subset_opt(&shard, &subset, data, &self.options)
                })
            }
        };
        result
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map_err(|r| self.chunk_error(coords, r))
    }
}

/// Opens the Zarr array at `path` read-only as a [`Chunked`] array.
///
/// ```no_run
/// let a = mmarray_zarr::open("data.zarr")?;
/// let values = a.view::<f64>()?.slice(":2, :")?.to_vec()?;
/// # Ok::<(), mmarray_core::Error>(())
/// ```
pub fn open(path: impl AsRef<Path>) -> Result<Chunked> {
    Ok(ZarrSource::open(path)?.into_chunked())
}

/// Opens the Zarr v3 array at `path` for reading and writing chunks in place.
pub fn open_writable(path: impl AsRef<Path>) -> Result<Chunked> {
    Ok(ZarrSource::open_with(path, &OpenOptions::new().writable(true))?.into_chunked())
}

/// What the metadata of the Zarr array at `path` says (without opening the
/// chunks; for `info`-style reports).
pub fn inspect(path: impl AsRef<Path>) -> Result<StoreInfo> {
    meta::read(path.as_ref())
}

/// Whether `path` is a directory holding a Zarr array's metadata (`zarr.json`
/// or `.zarray`).
#[must_use]
pub fn is_zarr(path: impl AsRef<Path>) -> bool {
    let path = path.as_ref();
    path.is_dir() && (path.join("zarr.json").is_file() || path.join(".zarray").is_file())
}
