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

use mmarray_core::chunk::{ChunkBytes, ChunkGrid, ChunkSource, Chunked, ChunkedView};
use mmarray_core::{Index, Order, Spec, View};
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
    /// The fill value (what missing chunks hold).
    pub(crate) fill: Value,
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
        let options = mmarray_zarr::OpenOptions::new().writable(writable);
        let source = ZarrSource::open_with(path, &options).at(path)?;
        let info = source.info().clone();
        let fill = source.fill_value();
        let array = Chunked::new(Box::new(Stoppable(source))).with_order(info.order);
        Ok(Store {
            info,
            fill,
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

/// The native bytes of `value` as an element of `kind`.
fn element_bytes(value: Value, kind: mmarray_dtype::Kind) -> Vec<u8> {
    dispatch!(kind, T => bytemuck::bytes_of(&value.cast::<T>()).to_vec())
}

/// `append` on a Zarr v3 store: grows it by `rows` entries along its growth axis
/// (the first for C order, the last for F order) holding `value` (default: the
/// store's fill value), so that readers see the old or the new shape, never
/// between:
///
/// 1. the padding of the edge chunks (their elements past the old shape, which
///    become entries) is set to the value: readers of the old shape do not see it;
/// 2. for a value other than the fill value, the chunks past the edge are written
///    into a staged copy of the store with the new shape (a hidden folder beside
///    it), then moved into the store: readers of the old shape do not see them
///    either (for a sharded store the old length must then be a whole number of
///    shards, whose files hold no entries yet);
/// 3. `zarr.json` is replaced with the new shape (written under a temporary name,
///    renamed over it).
pub(crate) fn append(
    path: &Path,
    store: &Store,
    rows: usize,
    value: Option<Value>,
) -> Result<(), CliError> {
    let kind = store.array.dtype().kind();
    let value = value.unwrap_or(store.fill);
    let pattern = element_bytes(value, kind);
    let is_fill = pattern == element_bytes(store.fill, kind);
    let shape = store.array.shape().to_vec();
    if shape.is_empty() {
        return Err(CliError::file(path, "a 0-d array cannot grow"));
    }
    let axis = match store.info.order {
        Order::C => 0,
        Order::F => shape.len() - 1,
    };
    let old = shape[axis];
    let mut new_shape = shape.clone();
    new_shape[axis] = old
        .checked_add(rows)
        .ok_or_else(|| CliError::file(path, format!("{old} + {rows} entries: too many")))?;
    let grid = store.array.grid();
    // The grown array must be one the store can hold.
    ChunkGrid::new(&new_shape, grid.chunk_shape(), kind.itemsize()).at(path)?;
    let chunk = grid.chunk_shape().to_vec();
    // Along the axis, the unit of storage: a chunk, or a shard.
    let unit = store
        .info
        .shards
        .as_ref()
        .map_or(chunk[axis], |sh| sh[axis]);
    let beyond = old.div_ceil(chunk[axis]) * chunk[axis];
    if !is_fill
        && store.info.shards.is_some()
        && !old.is_multiple_of(unit)
        && new_shape[axis] > beyond
    {
        return Err(CliError::file(
            path,
            format!(
                "append --fill {value} to a sharded store needs its length ({old}) to be a whole number of shards ({unit} entries); without --fill, the fill value ({}) is appended",
                store.info.fill_value
            ),
        ));
    }
    if rows == 0 {
        return Ok(());
    }
    if !old.is_multiple_of(chunk[axis]) {
        set_padding(path, store, axis, old, &pattern)?;
    }
    let text = grown_metadata(path, &new_shape)?;
    if !is_fill && new_shape[axis] > beyond {
        // The chunks past the edge, staged with the new shape, then moved in.
        let staged = staged_folder(path);
        fs::create_dir(&staged.tmp).map_err(|e| CliError::file(path, format!("create: {e}")))?;
        fs::write(staged.tmp.join("zarr.json"), &text)
            .map_err(|e| CliError::file(path, format!("write: {e}")))?;
        {
            let mut copy =
                Store::open(&staged.tmp, true).map_err(|e| rename_error(e, &staged.tmp, path))?;
            let mut indices = vec![Index::range(0, isize::MAX); new_shape.len()];
            indices[axis] = Index::range(beyond as isize, new_shape[axis] as isize);
            let spec = Spec::new(indices)
                .map_err(mmarray_core::Error::from)
                .at(path)?;
            dispatch!(kind, T => {
                let view = copy.array.view_mut::<T>().at(path)?.into_slice(spec).at(path)?;
                mmarray_ops::fill(view, value.cast::<T>())
                    .map_err(|e| CliError::file(path, rename_in(&e.to_string(), &staged.tmp, path)))?;
            });
            copy.array.flush().at(path)?;
        }
        move_chunks(&staged.tmp, &staged.tmp, path)?;
    }
    replace_metadata(path, &text)
}

/// Sets the elements at or past `old` along `axis` in the store's edge chunks to
/// `pattern` (native bytes of one element); chunks already so are not rewritten.
fn set_padding(
    path: &Path,
    store: &Store,
    axis: usize,
    old: usize,
    pattern: &[u8],
) -> Result<(), CliError> {
    let grid = store.array.grid();
    let chunk = grid.chunk_shape();
    let last = grid.grid_shape()[axis].saturating_sub(1);
    let inner: usize = chunk[axis + 1..].iter().product();
    for id in 0..grid.len() {
        let coords = grid.coords(id);
        if coords[axis] != last {
            continue;
        }
        let mut bytes = store.array.read_chunk(id, Vec::new()).at(path)?.to_vec();
        let mut changed = false;
        for (p, item) in bytes.chunks_exact_mut(pattern.len()).enumerate() {
            let at = last * chunk[axis] + (p / inner) % chunk[axis];
            if at >= old && *item != *pattern {
                item.copy_from_slice(pattern);
                changed = true;
            }
        }
        if changed {
            store.array.source().write_chunk(&coords, &bytes).at(path)?;
        }
    }
    store.array.flush().at(path)
}

/// A hidden folder beside the store `path`, named as mmarray-zarr names the
/// stores it stages (so that one left by a killed process is removed as stale).
fn staged_folder(path: &Path) -> Staged {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Staged {
        tmp: parent.join(format!(
            ".{name}.{}.{}.mmarray-zarr-tmp",
            std::process::id(),
            u64::from(u32::MAX) + 2
        )),
        done: false,
    }
}

/// Moves the chunk files under `dir` (of the staged copy `root`) to the same
/// places in the store `path` (everything but the metadata).
fn move_chunks(root: &Path, dir: &Path, path: &Path) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::file(path, format!("moving chunks in: {e}"));
    for entry in fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let from = entry.path();
        let rel = from
            .strip_prefix(root)
            .map_err(|e| CliError::file(path, e))?;
        if entry.file_type().map_err(fail)?.is_dir() {
            fs::create_dir_all(path.join(rel)).map_err(fail)?;
            move_chunks(root, &from, path)?;
        } else if rel != Path::new("zarr.json") {
            fs::rename(&from, path.join(rel)).map_err(fail)?;
        }
    }
    Ok(())
}

/// The store's `zarr.json` with `shape`.
fn grown_metadata(path: &Path, shape: &[usize]) -> Result<String, CliError> {
    let file = path.join("zarr.json");
    let text = fs::read(&file).map_err(|e| CliError::file(&file, format!("read: {e}")))?;
    let mut meta: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| CliError::file(&file, format!("not valid JSON: {e}")))?;
    let Some(obj) = meta.as_object_mut() else {
        return Err(CliError::file(&file, "not a JSON object"));
    };
    obj.insert("shape".to_owned(), serde_json::Value::from(shape.to_vec()));
    Ok(serde_json::to_string_pretty(&meta).unwrap_or_default())
}

/// Replaces the store's `zarr.json` with `text` (written under a temporary name
/// beside it, synced, renamed over it).
fn replace_metadata(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let file = path.join("zarr.json");
    let tmp = path.join(format!(".zarr.json.{}.mmarray-append", std::process::id()));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, &file));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(CliError::file(path, format!("zarr.json: {e}")));
    }
    if let Ok(dir) = fs::File::open(path) {
        let _ = dir.sync_all();
    }
    Ok(())
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
    drop(mmarray_zarr::create(&tmp, out.dtype, shape, &options).at(path)?);
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
