//! Zarr stores: opening them as inputs (read-only, or writable in place for
//! `fill` and `random`) and writing `.zarr` outputs, through `mmarray-zarr`.
//!
//! Store writes stop at their next chunk when a signal comes (see
//! [`interrupt::Store`]): every chunk source opened here is wrapped so that its
//! reads and writes fail once [`interrupt::stopped`] says so, and a new store is
//! written under a temporary name that is removed when the write fails.

use std::fs;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mmarray_core::chunk::{ChunkBytes, ChunkGrid, ChunkSource, ChunkStream, Chunked, ChunkedView};
use mmarray_core::{Order, View};
use mmarray_dtype::{DType, Native, Value, dispatch};
use mmarray_zarr::{BlockSource, CreateOptions, StoreInfo, ZarrSource};

use crate::args::{Codec, ZarrArgs};
use crate::error::{CliError, Context};
use crate::interrupt;

/// Whether `path` names a `.zarr` output.
pub(crate) fn is_zarr_output(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zarr"))
}

/// A Zarr array opened as an input (or for writing in place).
#[derive(Debug)]
pub(crate) struct Store {
    /// What its metadata says (`dtype` with the stored byte order).
    pub(crate) info: StoreInfo,
    /// The array, walked in the store's order.
    pub(crate) array: Chunked,
    /// For a store written in place: the write under way (see [`interrupt::Store`]).
    _writing: Option<interrupt::Store>,
}

impl Store {
    /// Opens the store at `path`, read-only or writable in place.
    pub(crate) fn open(path: &Path, writable: bool) -> Result<Store, CliError> {
        let writing = if writable {
            Some(interrupt::Store::begin().ok_or_else(|| interrupted(path))?)
        } else {
            None
        };
        // SAFETY: the command maps the files it reads only for its own duration, under
        // the precondition its `--help` states for every file (nobody else modifies or
        // truncates them meanwhile); chunks written in place are renamed over, which
        // leaves a mapping of the old chunk intact. Writable stores are not mapped.
        let options = unsafe {
            mmarray_zarr::OpenOptions::new()
                .writable(writable)
                .map_chunks(!writable)
        };
        let source = ZarrSource::open_with(path, &options).at(path)?;
        let info = source.info().clone();
        let array = Chunked::new(Box::new(Stoppable(source))).with_order(info.order);
        Ok(Store {
            info,
            array,
            _writing: writing,
        })
    }

    /// The element type with the byte order of the chunk bytes on disk.
    pub(crate) fn dtype(&self) -> DType {
        self.info.dtype
    }

    /// The bytes of all the files of the store (metadata and chunks).
    pub(crate) fn disk_size(path: &Path) -> u64 {
        fn walk(dir: &Path, depth: usize) -> u64 {
            if depth > 64 {
                return 0;
            }
            let Ok(entries) = fs::read_dir(dir) else {
                return 0;
            };
            entries
                .filter_map(Result::ok)
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path(), depth + 1),
                    Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
                    _ => 0,
                })
                .sum()
        }
        walk(path, 0)
    }
}

/// A chunk source whose reads and writes fail once a signal came, so that a
/// store write stops between chunks (never in the middle of one).
#[derive(Debug)]
struct Stoppable(ZarrSource);

impl Stoppable {
    fn check(&self) -> mmarray_core::Result<()> {
        if interrupt::stopped() {
            return Err(mmarray_core::Error::Interrupted {
                path: self.0.path().to_owned(),
            });
        }
        Ok(())
    }
}

impl ChunkSource for Stoppable {
    fn dtype(&self) -> DType {
        self.0.dtype()
    }
    fn grid(&self) -> &ChunkGrid {
        self.0.grid()
    }
    fn chunk_order(&self) -> Order {
        self.0.chunk_order()
    }
    fn name(&self) -> String {
        self.0.name()
    }
    fn read_chunk(&self, coords: &[usize], buf: Vec<u8>) -> mmarray_core::Result<ChunkBytes<'_>> {
        self.check()?;
        self.0.read_chunk(coords, buf)
    }
    fn can_stream(&self) -> bool {
        self.0.can_stream()
    }
    fn stream_chunk(
        &self,
        coords: &[usize],
    ) -> mmarray_core::Result<Option<Box<dyn ChunkStream + '_>>> {
        self.check()?;
        self.0.stream_chunk(coords)
    }
    fn is_writable(&self) -> bool {
        self.0.is_writable()
    }
    fn write_chunk(&self, coords: &[usize], bytes: &[u8]) -> mmarray_core::Result<()> {
        self.check()?;
        self.0.write_chunk(coords, bytes)
    }
    fn flush(&self) -> mmarray_core::Result<()> {
        self.0.flush()
    }
}

/// How to write a new store: the `--chunks`, `--shards` and `--codec` options
/// and the output's element type and order.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    /// Element type and byte order of the chunk bytes.
    pub(crate) dtype: DType,
    /// Order of the elements in the chunks (F: a `transpose` codec).
    pub(crate) order: Order,
    /// Replace an existing store.
    pub(crate) force: bool,
    /// `--chunks`, `--shards`, `--codec`.
    pub(crate) zarr: ZarrArgs,
}

impl Output {
    fn options(&self) -> CreateOptions {
        let mut o = CreateOptions::new()
            .order(self.order)
            .byte_order(self.dtype.byte_order())
            .overwrite(self.force)
            .compressor(match self.zarr.codec {
                Some(Codec(c)) => c,
                None => mmarray_zarr::Compressor::default(),
            });
        if let Some(chunks) = &self.zarr.chunks {
            o = o.chunks(&chunks.0);
        }
        if let Some(shards) = &self.zarr.shards {
            o = o.shards(&shards.0);
        }
        o
    }
}

/// The blocks of a source as elements of another type (numpy's `astype`,
/// unsafe casting), stopping once a signal came.
struct Cast<'s, T, S: ?Sized> {
    src: &'s S,
    /// The output element type (and byte order).
    to: DType,
    path: PathBuf,
    _t: PhantomData<fn() -> T>,
}

impl<T: Native, U: Native, S: BlockSource<T> + ?Sized> BlockSource<U> for Cast<'_, T, S> {
    fn block_shape(&self) -> &[usize] {
        self.src.block_shape()
    }
    fn block_dtype(&self) -> DType {
        self.to
    }
    fn block_order(&self) -> Order {
        self.src.block_order()
    }
    fn block(&self, start: &[usize], shape: &[usize]) -> mmarray_core::Result<Vec<U>> {
        if interrupt::stopped() {
            return Err(mmarray_core::Error::Interrupted {
                path: self.path.clone(),
            });
        }
        let values = self.src.block(start, shape)?;
        let mut out = vec![U::zeroed(); values.len()];
        // numpy's end-of-array rule of some casts applies to the block holding the
        // array's last element.
        let full = self.src.block_shape();
        let first = start.iter().all(|&s| s == 0);
        let last = start
            .iter()
            .zip(shape)
            .zip(full)
            .all(|((&s, &n), &f)| s + n == f);
        mmarray_dtype::convert_part(
            bytemuck::cast_slice(&values),
            DType::native(T::KIND),
            bytemuck::cast_slice_mut(&mut out),
            DType::native(U::KIND),
            first,
            last,
        )
        .map_err(mmarray_core::Error::from)?;
        Ok(out)
    }
    /// Without a cast (the same element type), the source gathers straight into
    /// `out`; otherwise [`block`](Self::block)'s values are copied in.
    fn block_into(
        &self,
        start: &[usize],
        shape: &[usize],
        out: &mut [U],
    ) -> mmarray_core::Result<()> {
        if interrupt::stopped() {
            return Err(mmarray_core::Error::Interrupted {
                path: self.path.clone(),
            });
        }
        if T::KIND == U::KIND {
            // The same kind is the same type: the cast of the slice cannot fail.
            if let Ok(same) = bytemuck::try_cast_slice_mut::<U, T>(out) {
                return self.src.block_into(start, shape, same);
            }
        }
        let values = self.block(start, shape)?;
        if values.len() != out.len() {
            return Err(mmarray_core::Error::Unsupported(format!(
                "a block of {} elements read into a buffer of {}",
                values.len(),
                out.len()
            )));
        }
        out.copy_from_slice(&values);
        Ok(())
    }
}

/// Writes `src` as a new Zarr v3 store at `out` (as `out.dtype`, in `out.order`),
/// atomically: under a temporary name, renamed into place when complete.
fn write_from<T: Native, S: BlockSource<T> + ?Sized>(
    src: &S,
    out_path: &Path,
    out: &Output,
) -> Result<(), CliError> {
    let guard = interrupt::Store::begin().ok_or_else(|| interrupted(out_path))?;
    let options = out.options();
    dispatch!(out.dtype.kind(), U => {
        let cast = Cast::<T, S> { src, to: out.dtype, path: out_path.to_owned(), _t: PhantomData };
        mmarray_zarr::convert::<U, _>(&cast, out_path, &options).at(out_path)?;
    });
    guard.commit();
    Ok(())
}

fn interrupted(path: &Path) -> CliError {
    CliError::file(path, "interrupted")
}

/// Writes the view `src` (of a file or of memory) as a new store.
pub(crate) fn write_view<T: Native>(
    src: &View<'_, T>,
    out_path: &Path,
    out: &Output,
) -> Result<(), CliError> {
    write_from::<T, _>(src, out_path, out)
}

/// Writes the view `src` of another store as a new store.
pub(crate) fn write_chunked<T: Native>(
    src: &ChunkedView<'_, T>,
    out_path: &Path,
    out: &Output,
) -> Result<(), CliError> {
    write_from::<T, _>(src, out_path, out)
}

/// `append` on a Zarr v3 store: grows it by `rows` entries along its growth axis
/// holding `value` (default: the store's fill value) with
/// [`mmarray_zarr::append`], which stops at its next chunk on a signal; readers
/// see the old or the new shape, never one between. `store` is the store opened
/// for writing (its guard keeps a signal from ending the process meanwhile).
pub(crate) fn append(
    path: &Path,
    _store: &Store,
    rows: usize,
    value: Option<Value>,
) -> Result<(), CliError> {
    let mut options = mmarray_zarr::AppendOptions::new().stop_when(Arc::new(interrupt::stopped));
    if let Some(v) = value {
        options = options.value(v);
    }
    match mmarray_zarr::append(path, rows, &options) {
        Ok(_) => Ok(()),
        Err(mmarray_core::Error::Interrupted { .. }) => Err(interrupted(path)),
        Err(e) => Err(e).at(path),
    }
}

/// What `create` writes into a new store.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Content {
    /// The fill value everywhere (no chunk is written).
    Fill(Value),
    /// Random values.
    Random(mmarray_ops::Dist, u64),
    /// Element i (in C order) is i.
    Arange,
}

/// A folder being written under a temporary name, removed unless renamed into place.
struct Staged {
    tmp: PathBuf,
    done: bool,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// `create OUT.zarr`: a new store of `shape` holding `content`, written under a
/// temporary name and renamed into place when complete.
pub(crate) fn create(
    path: &Path,
    shape: &[usize],
    content: Content,
    out: &Output,
) -> Result<(), CliError> {
    let guard = interrupt::Store::begin().ok_or_else(|| interrupted(path))?;
    let existing = fs::symlink_metadata(path).is_ok();
    if existing && !mmarray_zarr::is_zarr(path) {
        return Err(CliError::file(
            path,
            "exists and is not a Zarr array: not replacing it",
        ));
    }
    if existing && !out.force {
        return Err(CliError::file(
            path,
            "file exists (use --force to replace it)",
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    // Named as mmarray-zarr names the stores it stages, so that a folder left by a
    // killed process is removed as stale by the next conversion into a store beside it.
    let tmp = parent.join(format!(
        ".{name}.{}.{}.mmarray-zarr-tmp",
        std::process::id(),
        u64::from(u32::MAX) + 1
    ));
    let mut staged = Staged {
        tmp: tmp.clone(),
        done: false,
    };
    let mut options = out.options().overwrite(false);
    if let Content::Fill(v) = content {
        options = options.fill_value(v);
    }
    // Only the metadata is written here: `create` makes the folder.
    drop(
        mmarray_zarr::create(&tmp, out.dtype, shape, &options)
            .map_err(|e| CliError::Failed(rename_in(&e.to_string(), &tmp, path)))?,
    );
    if !matches!(content, Content::Fill(_)) {
        let mut store = Store::open(&tmp, true).map_err(|e| rename_error(e, &tmp, path))?;
        let kind = store.array.dtype().kind();
        dispatch!(kind, T => {
            let view = store.array.view_mut::<T>().at(path)?;
            match content {
                Content::Random(dist, seed) => mmarray_ops::random_view(view, dist, seed),
                Content::Arange => mmarray_ops::arange_view(view),
                Content::Fill(_) => Ok(()),
            }
            .map_err(|e| CliError::file(path, rename_in(&e.to_string(), &tmp, path)))?;
        });
        store.array.flush().at(path)?;
    }
    if existing {
        let old = parent.join(format!(".{name}.{}.mmarray-old", std::process::id()));
        fs::rename(path, &old).map_err(|e| CliError::file(path, format!("rename: {e}")))?;
        if let Err(e) = fs::rename(&tmp, path) {
            let _ = fs::rename(&old, path);
            return Err(CliError::file(path, format!("rename: {e}")));
        }
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&tmp, path).map_err(|e| CliError::file(path, format!("rename: {e}")))?;
    }
    staged.done = true;
    guard.commit();
    Ok(())
}

/// A message about the temporary folder `tmp` as one about `path`.
fn rename_in(message: &str, tmp: &Path, path: &Path) -> String {
    message.replace(&tmp.display().to_string(), &path.display().to_string())
}

fn rename_error(e: CliError, tmp: &Path, path: &Path) -> CliError {
    match e {
        CliError::Failed(m) => CliError::Failed(rename_in(&m, tmp, path)),
        other => other,
    }
}
