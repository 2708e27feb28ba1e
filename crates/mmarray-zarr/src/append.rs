//! Growing a Zarr v3 store in place along its growth axis ([`append`]).

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use mmarray_core::chunk::{ChunkGrid, ChunkSource};
use mmarray_core::{Error, Order, Result};
use mmarray_dtype::{Kind, Value, dispatch};
use rayon::prelude::*;

use crate::source::{OpenOptions, ZarrSource};
use crate::staging::Staged;

/// How [`append`] grows a store: the value of the new entries, and when to stop.
#[derive(Clone, Default)]
pub struct AppendOptions {
    value: Option<Value>,
    stop: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

impl fmt::Debug for AppendOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppendOptions")
            .field("value", &self.value)
            .field("stop", &self.stop.is_some())
            .finish()
    }
}

impl AppendOptions {
    /// The defaults: the new entries hold the store's fill value; never stopped.
    #[must_use]
    pub fn new() -> AppendOptions {
        AppendOptions::default()
    }

    /// The value of the new entries (cast to the store's type as
    /// [`Value::cast`] does; check that it fits before, if it must).
    #[must_use]
    pub fn value(mut self, value: Value) -> AppendOptions {
        self.value = Some(value);
        self
    }

    /// Asked before every chunk written: once it says `true`, [`append`] stops
    /// with [`Error::Interrupted`] and the store keeps its old shape and values
    /// (for a program that stops on a signal).
    #[must_use]
    pub fn stop_when(mut self, stop: Arc<dyn Fn() -> bool + Send + Sync>) -> AppendOptions {
        self.stop = Some(stop);
        self
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s())
    }
}

/// Grows the Zarr v3 store at `path` by `n` entries along its growth axis (the
/// first for C order, the last for F order), holding the
/// [value](AppendOptions::value) (default: the store's fill value), and returns
/// the new shape. Readers see the old or the new shape, never one between:
///
/// 1. the padding of the edge chunks (their elements past the old shape, which
///    become entries) is set to the value: readers of the old shape do not see it;
/// 2. for a value other than the fill value, the chunks past the edge are
///    written (in parallel, on the current rayon pool) into a staged copy of the
///    store with the new shape (a hidden folder beside it, removed if anything
///    fails), then moved into the store: readers of the old shape do not see
///    them either. For a sharded store the old length must then be a whole
///    number of shards, whose files hold no entries yet (appending the fill
///    value first gets there);
/// 3. `zarr.json` is replaced with the new shape (written under a temporary
///    name, synced, renamed over it).
///
/// # Errors
///
/// Those of [`ZarrSource::open_with`] (a Zarr v2 store is read-only); a 0-d
/// array, a length that overflows or a grid the store cannot hold, or a value
/// other than the fill value for a sharded store whose length is not a whole
/// number of shards ([`Error::Layout`]: nothing is changed); I/O errors; chunk
/// errors; [`Error::Interrupted`] when [stopped](AppendOptions::stop_when).
///
/// ```
/// use mmarray_core::{Order, View};
/// use mmarray_dtype::{ByteOrder, Value};
/// use mmarray_zarr::{AppendOptions, CreateOptions};
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("a.zarr");
/// let values: Vec<f64> = (0..6).map(f64::from).collect();
/// let src = View::<f64>::from_bytes(bytemuck::cast_slice(&values), &[3, 2], Order::C, ByteOrder::NATIVE)?;
/// mmarray_zarr::convert(&src, &path, &CreateOptions::new().chunks(&[2, 2]))?;
///
/// let shape = mmarray_zarr::append(&path, 2, &AppendOptions::new().value(Value::F64(-1.0)))?;
/// assert_eq!(shape, [5, 2]);
/// let a = mmarray_zarr::open(&path)?;
/// assert_eq!(a.view::<f64>()?.to_vec()?, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, -1.0, -1.0, -1.0, -1.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn append(path: impl AsRef<Path>, n: usize, options: &AppendOptions) -> Result<Vec<usize>> {
    let path = path.as_ref();
    let source = ZarrSource::open_with(path, &OpenOptions::new().writable(true))?;
    let kind = source.dtype().kind();
    let fill = source.fill_value();
    let value = options.value.unwrap_or(fill);
    let pattern = element_bytes(value, kind);
    let is_fill = pattern == element_bytes(fill, kind);
    let info = source.info().clone();
    let grid = source.grid().clone();
    let shape = grid.shape().to_vec();
    let bad = |reason: String| Error::Layout {
        path: path.to_owned(),
        reason,
    };
    if shape.is_empty() {
        return Err(bad("a 0-d array cannot grow".into()));
    }
    let axis = match info.order {
        Order::C => 0,
        Order::F => shape.len() - 1,
    };
    let old = shape[axis];
    let mut new_shape = shape.clone();
    new_shape[axis] = old
        .checked_add(n)
        .ok_or_else(|| bad(format!("{old} + {n} entries: too many")))?;
    // The grown array must be one the store can hold.
    ChunkGrid::new(&new_shape, grid.chunk_shape(), kind.itemsize())
        .map_err(|e| bad(e.to_string()))?;
    let chunk = grid.chunk_shape().to_vec();
    // Along the axis, the unit of storage: a chunk, or a shard.
    let unit = info.shards.as_ref().map_or(chunk[axis], |sh| sh[axis]);
    let beyond = old.div_ceil(chunk[axis]) * chunk[axis];
    if !is_fill && info.shards.is_some() && !old.is_multiple_of(unit) && new_shape[axis] > beyond {
        return Err(bad(format!(
            "appending {value} to a sharded store needs its length ({old}) to be a whole \
             number of shards ({unit} entries); appending the fill value ({}) first gets there",
            info.fill_value
        )));
    }
    if n == 0 {
        return Ok(shape);
    }
    if options.stopped() {
        return Err(Error::Interrupted {
            path: path.to_owned(),
        });
    }
    if !old.is_multiple_of(chunk[axis]) {
        set_padding(&source, axis, old, &pattern)?;
    }
    let text = grown_metadata(path, &new_shape)?;
    if !is_fill && new_shape[axis] > beyond {
        // The chunks past the edge, staged with the new shape, then moved in.
        let staged = Staged::new(path)?;
        let io = |action: &'static str| {
            move |source| Error::Io {
                path: path.to_owned(),
                action,
                source,
            }
        };
        fs::write(staged.path().join("zarr.json"), &text).map_err(io("write"))?;
        {
            let copy = ZarrSource::open_with(staged.path(), &OpenOptions::new().writable(true))?;
            let grown = copy.grid();
            let first = beyond / chunk[axis];
            let full: Vec<u8> = pattern.repeat(grown.chunk_len());
            let slabs = first..grown.grid_shape()[axis];
            slabs
                .into_par_iter()
                .flat_map_iter(|at| slab(grown, axis, at))
                .try_for_each(|coords| {
                    if options.stopped() {
                        return Err(Error::Interrupted {
                            path: path.to_owned(),
                        });
                    }
                    copy.write_chunk(&coords, &full)
                })?;
            copy.flush()?;
        }
        move_chunks(staged.path(), staged.path(), path)?;
    }
    if options.stopped() {
        return Err(Error::Interrupted {
            path: path.to_owned(),
        });
    }
    replace_metadata(path, &text)?;
    Ok(new_shape)
}

/// The native bytes of `value` as an element of `kind`.
fn element_bytes(value: Value, kind: Kind) -> Vec<u8> {
    dispatch!(kind, T => bytemuck::bytes_of(&value.cast::<T>()).to_vec())
}

/// Sets the elements at or past `old` along `axis` in the store's edge chunks to
/// `pattern` (native bytes of one element); chunks already so are not rewritten.
fn set_padding(source: &ZarrSource, axis: usize, old: usize, pattern: &[u8]) -> Result<()> {
    let grid = source.grid();
    let chunk = grid.chunk_shape();
    let last = grid.grid_shape()[axis].saturating_sub(1);
    let inner: usize = chunk[axis + 1..].iter().product();
    // Every edge chunk is read (and checked) before any is written: a damaged
    // one leaves the store as it was.
    for coords in slab(grid, axis, last) {
        source.read_chunk(&coords, Vec::new())?;
    }
    for coords in slab(grid, axis, last) {
        let mut bytes = source.read_chunk(&coords, Vec::new())?.to_vec();
        let mut changed = false;
        for (p, item) in bytes.chunks_exact_mut(pattern.len()).enumerate() {
            let at = last * chunk[axis] + (p / inner) % chunk[axis];
            if at >= old && *item != *pattern {
                item.copy_from_slice(pattern);
                changed = true;
            }
        }
        if changed {
            source.write_chunk(&coords, &bytes)?;
        }
    }
    source.flush()
}

/// The coordinates of the chunks of `grid` at `at` along `axis` (a slab of
/// the grid), in C order: as many as the slab has, whatever the grid's length.
fn slab(grid: &ChunkGrid, axis: usize, at: usize) -> impl Iterator<Item = Vec<usize>> + '_ {
    let counts = grid.grid_shape();
    let n: usize = counts
        .iter()
        .enumerate()
        .filter(|&(a, _)| a != axis)
        .map(|(_, &c)| c)
        .product();
    (0..n).map(move |mut k| {
        let mut coords = vec![at; counts.len()];
        for a in (0..counts.len()).rev().filter(|&a| a != axis) {
            coords[a] = k % counts[a];
            k /= counts[a];
        }
        coords
    })
}

/// Moves the chunk files under `dir` (of the staged copy `root`) to the same
/// places in the store `path` (everything but the metadata).
fn move_chunks(root: &Path, dir: &Path, path: &Path) -> Result<()> {
    let fail = |source| Error::Io {
        path: path.to_owned(),
        action: "move chunks in",
        source,
    };
    for entry in fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let from = entry.path();
        let Ok(rel) = from.strip_prefix(root) else {
            continue;
        };
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
fn grown_metadata(path: &Path, shape: &[usize]) -> Result<String> {
    let file = path.join("zarr.json");
    let text = fs::read(&file).map_err(|source| Error::Io {
        path: file.clone(),
        action: "read",
        source,
    })?;
    let bad = |reason: String| Error::Layout {
        path: file.clone(),
        reason,
    };
    let mut meta: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let Some(obj) = meta.as_object_mut() else {
        return Err(bad("not a JSON object".into()));
    };
    obj.insert("shape".to_owned(), serde_json::Value::from(shape.to_vec()));
    serde_json::to_string_pretty(&meta).map_err(|e| bad(e.to_string()))
}

/// Replaces the store's `zarr.json` with `text` (written under a temporary name
/// beside it, synced, renamed over it).
fn replace_metadata(path: &Path, text: &str) -> Result<()> {
    let file = path.join("zarr.json");
    let tmp = path.join(format!(".zarr.json.{}.mmarray-append", std::process::id()));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, &file));
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::Io {
            path: file,
            action: "replace",
            source,
        });
    }
    if let Ok(dir) = fs::File::open(path) {
        let _ = dir.sync_all();
    }
    Ok(())
}
