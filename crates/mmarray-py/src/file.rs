//! [`File`]: an open array file (or Zarr store) shared by an `mmarray.Array` and
//! its views, and [`Buffer`]: the owner that numpy arrays made from it hold as
//! their `base`.
//!
//! [`Storage`] is the one place that holds "mapped array or chunked array";
//! operations reach its data through [`input!`] (a `View` or a `ChunkedView` of a
//! view's geometry) and [`target!`] (a `ViewMut` or a `ChunkedViewMut`), and
//! `mmarray-ops` runs the same code over either.

// PyO3 extracts every argument of a Python-callable function by value.
#![allow(clippy::needless_pass_by_value)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use mmarray_core::chunk::{Chunked, ChunkedView};
use mmarray_core::{
    CopyOnWrite, CreateOptions, DynArray, OpenOptions, Order, Raw, ReadOnly, ReadWrite, View,
    ViewMut,
};
use mmarray_dtype::{DType, Element, Kind, Native, Value, dispatch};
use mmarray_ops::{AxisResult, Dist, Op, ReduceOptions, Stats, Target};
use mmarray_zarr::Compressor;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::errors::{CoreExt, os_error, zarr_error};
use crate::threads;

/// An open array: a mapped file in one of the modes, or a chunked array (a
/// Zarr store, read-only in mode `r`, written chunk by chunk in `r+`/`w+`).
enum Storage {
    /// A mapped file in mode `r`.
    R(DynArray<ReadOnly>),
    /// A mapped file in modes `r+` and `w+`.
    W(DynArray<ReadWrite>),
    /// A mapped file in mode `c`.
    C(DynArray<CopyOnWrite>),
    /// A Zarr store.
    Z(Chunked),
}

/// Runs `$body` with `$a` bound to the `DynArray` of a mapped file in any mode,
/// or `$other` with `$z` bound to the chunked array.
macro_rules! mapped {
    ($s:expr, $a:ident => $body:expr, $z:ident => $other:expr) => {
        match $s {
            Storage::R($a) => $body,
            Storage::W($a) => $body,
            Storage::C($a) => $body,
            Storage::Z($z) => $other,
        }
    };
}

/// Runs `$body` (returning an `mmarray_ops::Result`) with `$v` bound to the view
/// `$geom` of the storage `$s` with elements `T`: a [`View`] of the mapping, or a
/// [`ChunkedView`] of the store. A whole mapped array is advised sequential.
macro_rules! input {
    ($s:expr, $geom:expr, $v:ident => $body:expr) => {{
        let (offset, shape, strides) = $geom;
        mapped!($s, a => {
            if is_whole(a, $geom) {
                a.advise(mmarray_core::lowlevel::Advice::Sequential);
            }
            let dtype = a.dtype();
            dispatch!(dtype.kind(), T => {
                match View::<T>::from_strided(a.bytes(), *offset, shape, strides, dtype.byte_order()) {
                    Ok($v) => $body,
                    Err(e) => Err(mmarray_ops::Error::from(e)),
                }
            })
        }, c => dispatch!(c.dtype().kind(), T => {
            match c.view_strided::<T>(*offset, shape, strides) {
                Ok($v) => $body,
                Err(e) => Err(mmarray_ops::Error::from(e)),
            }
        }))
    }};
}

/// Runs `$body` (returning an `mmarray_ops::Result`) with `$v` bound to the
/// writable view `$geom` of the storage `$s` with elements `T`: a [`ViewMut`] of
/// the mapping, or a `ChunkedViewMut` of the store (whose writes store chunks).
macro_rules! target {
    ($s:expr, $geom:expr, $v:ident => $body:expr) => {{
        let (offset, shape, strides) = $geom;
        match $s {
            Storage::R(_) => Err(mmarray_core::Error::Unsupported("array is read-only".to_owned()).into()),
            Storage::W(a) => target!(@mapped a, offset, shape, strides, $v => $body),
            Storage::C(a) => target!(@mapped a, offset, shape, strides, $v => $body),
            Storage::Z(c) => dispatch!(c.dtype().kind(), T => {
                match c.view_strided_mut::<T>(*offset, shape, strides) {
                    Ok($v) => $body,
                    Err(e) => Err(mmarray_ops::Error::from(e)),
                }
            }),
        }
    }};
    (@mapped $a:ident, $offset:ident, $shape:ident, $strides:ident, $v:ident => $body:expr) => {{
        let dtype = $a.dtype();
        dispatch!(dtype.kind(), T => {
            match ViewMut::<T>::from_strided($a.bytes_mut(), *$offset, $shape, $strides, dtype.byte_order()) {
                Ok($v) => $body,
                Err(e) => Err(mmarray_ops::Error::from(e)),
            }
        })
    }};
}

/// The open array behind a [`File`] and the [`Buffer`]s made from it. Reads take
/// the lock shared, writes exclusively; `None` once the array was closed and
/// reopened failed (never seen otherwise).
struct Shared {
    storage: RwLock<Option<Storage>>,
}

impl Storage {
    /// Flushes writable mappings (`msync`) and written chunks; nothing to do
    /// for read-only arrays.
    fn flush(&self) -> mmarray_core::Result<()> {
        match self {
            Storage::R(_) => Ok(()),
            Storage::W(a) => a.flush(),
            Storage::C(a) => a.flush(),
            Storage::Z(c) => c.flush(),
        }
    }

    /// Flushes and closes.
    fn close(self) -> mmarray_core::Result<()> {
        mapped!(self, a => a.close(), c => c.flush())
    }

    /// The element type (with its byte order).
    fn dtype(&self) -> DType {
        mapped!(self, a => a.dtype(), c => c.dtype())
    }
}

impl Shared {
    fn read(&self) -> RwLockReadGuard<'_, Option<Storage>> {
        self.storage.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Option<Storage>> {
        self.storage.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn closed() -> PyErr {
    PyValueError::new_err("operation on a closed array")
}

fn read_only() -> PyErr {
    PyValueError::new_err("array is read-only")
}

/// A view's place in the array's data: byte offset of the first element, shape,
/// byte strides (what Python passes around).
type Geom = (usize, Vec<usize>, Vec<isize>);

fn parse_order(order: &str) -> PyResult<Order> {
    match order {
        "C" | "c" => Ok(Order::C),
        "F" | "f" => Ok(Order::F),
        _ => Err(PyValueError::new_err(format!(
            "order must be 'C' or 'F', not {order:?}"
        ))),
    }
}

fn parse_dtype(descr: &str) -> PyResult<DType> {
    DType::parse(descr).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn parse_op(op: &str) -> PyResult<Op> {
    op.parse::<Op>()
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A value's native bytes.
pub(crate) fn value_bytes(v: Value) -> Vec<u8> {
    dispatch!(v.kind(), O => bytemuck::bytes_of(&v.cast::<O>()).to_vec())
}

/// A value of `kind` from its native bytes.
fn value_from(kind: Kind, bytes: &[u8]) -> PyResult<Value> {
    if bytes.len() != kind.itemsize() {
        return Err(PyValueError::new_err(format!(
            "{} bytes given for one {kind} value of {} bytes",
            bytes.len(),
            kind.itemsize()
        )));
    }
    Ok(dispatch!(kind, T => Native::to_value(bytemuck::pod_read_unaligned::<T>(bytes))))
}

/// A scalar result for Python: `(descr, native bytes)`.
pub(crate) fn scalar(py: Python<'_>, v: Value) -> PyResult<Py<PyAny>> {
    let descr = DType::native(v.kind()).descr();
    let t = PyTuple::new(
        py,
        [
            descr.into_pyobject(py)?.into_any(),
            PyBytes::new(py, &value_bytes(v)).into_any(),
        ],
    )?;
    Ok(t.into_any().unbind())
}

/// An axis result for Python: `(descr, Buffer)`, the buffer owning the data.
pub(crate) fn axis_result(py: Python<'_>, r: AxisResult) -> PyResult<Py<PyAny>> {
    let descr = r.dtype.descr();
    let strides = mmarray_core::contiguous_strides(&r.shape, r.dtype.itemsize(), r.order);
    let buffer = Buffer {
        ptr: r.data.as_ptr() as usize,
        owner: Owner::Vec(r.data),
        readonly: false,
        shape: r.shape,
        strides,
        typestr: descr.clone(),
    };
    let t = PyTuple::new(
        py,
        [
            descr.into_pyobject(py)?.into_any(),
            Bound::new(py, buffer)?.into_any(),
        ],
    )?;
    Ok(t.into_any().unbind())
}

/// `stats` for Python: `(count, sum, mean, min, max, std)`, each value a scalar
/// result (see [`scalar`]), `None` for a missing min or max.
pub(crate) fn stats_result(py: Python<'_>, s: &Stats) -> PyResult<Py<PyAny>> {
    let opt = |v: Option<Value>| -> PyResult<Py<PyAny>> {
        match v {
            Some(v) => scalar(py, v),
            None => Ok(py.None()),
        }
    };
    let t = PyTuple::new(
        py,
        [
            s.count.into_pyobject(py)?.into_any().unbind(),
            scalar(py, s.sum)?,
            scalar(py, s.mean)?,
            opt(s.min)?,
            opt(s.max)?,
            scalar(py, s.std)?,
        ],
    )?;
    Ok(t.into_any().unbind())
}

/// What a reduction gives.
pub(crate) enum Reduced {
    /// A whole-array reduction.
    Scalar(Value),
    /// An axis reduction.
    Axis(AxisResult),
}

impl Reduced {
    pub(crate) fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Reduced::Scalar(v) => scalar(py, v),
            Reduced::Axis(r) => axis_result(py, r),
        }
    }
}

/// Reduces a view (any dtype) of `bytes`.
pub(crate) fn reduce_bytes(
    bytes: &[u8],
    dtype: DType,
    geom: &Geom,
    op: Op,
    axis: Option<isize>,
    opts: &ReduceOptions,
) -> mmarray_ops::Result<Reduced> {
    let (offset, shape, strides) = geom;
    dispatch!(dtype.kind(), T => {
        let v = View::<T>::from_strided(bytes, *offset, shape, strides, dtype.byte_order())?;
        match axis {
            Some(axis) => mmarray_ops::reduce_axis_view(&v, op, axis, opts).map(Reduced::Axis),
            None => mmarray_ops::reduce(&v, op, opts).map(Reduced::Scalar),
        }
    })
}

/// `stats` of a view (any dtype) of `bytes`.
pub(crate) fn stats_bytes(
    bytes: &[u8],
    dtype: DType,
    geom: &Geom,
    skipna: bool,
) -> mmarray_ops::Result<Stats> {
    let (offset, shape, strides) = geom;
    dispatch!(dtype.kind(), T => {
        let v = View::<T>::from_strided(bytes, *offset, shape, strides, dtype.byte_order())?;
        mmarray_ops::stats(&v, skipna)
    })
}

/// Who keeps a [`Buffer`]'s memory alive.
enum Owner {
    /// The mapping of an open file.
    Map(#[allow(dead_code)] Arc<Shared>),
    /// Memory of a result.
    Vec(#[allow(dead_code)] Vec<u8>),
}

/// Memory that numpy arrays are made from (through `__array_interface__`): the
/// numpy array keeps this object as its `base`, and this object keeps the memory.
#[pyclass(frozen, module = "mmarray._native")]
pub(crate) struct Buffer {
    owner: Owner,
    ptr: usize,
    readonly: bool,
    shape: Vec<usize>,
    strides: Vec<isize>,
    typestr: String,
}

#[pymethods]
impl Buffer {
    /// numpy's array interface (version 3).
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let _ = &self.owner;
        let d = PyDict::new(py);
        d.set_item("version", 3)?;
        d.set_item("shape", PyTuple::new(py, &self.shape)?)?;
        d.set_item("strides", PyTuple::new(py, &self.strides)?)?;
        d.set_item("typestr", &self.typestr)?;
        d.set_item("data", (self.ptr, self.readonly))?;
        Ok(d)
    }
}

/// What a Zarr store's metadata says about its chunking (for `Array.chunks`,
/// `Array.shards` and `Array.codecs`).
#[derive(Clone)]
struct ZarrInfo {
    version: u8,
    chunks: Vec<usize>,
    shards: Option<Vec<usize>>,
    codecs: Vec<String>,
}

/// An open array file (or Zarr store), shared by an `mmarray.Array` and all its views.
#[pyclass(frozen, module = "mmarray._native")]
pub(crate) struct File {
    state: Mutex<Option<Arc<Shared>>>,
    path: PathBuf,
    mode: &'static str,
    format: &'static str,
    options: OpenOptions,
    zarr: Option<ZarrInfo>,
    /// Read as chunks (a Zarr store, a deflated `.npz` member in mode `r`), not
    /// one mapping: numpy arrays made from it are copies.
    chunked: bool,
}

impl File {
    fn shared(&self) -> PyResult<Arc<Shared>> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(closed)
    }

    /// About how many bytes reading the view `geom` touches, for
    /// [`threads::run_sized`]: its elements' for a mapped array; unbounded for a
    /// chunked one (a Zarr store, a compressed member), where a small view may
    /// decode whole chunks.
    fn view_bytes(shared: &Shared, geom: &Geom) -> usize {
        let guard = shared.read();
        let item = match guard.as_ref() {
            Some(Storage::Z(_)) | None => return usize::MAX,
            Some(s) => s.dtype().itemsize(),
        };
        geom.1
            .iter()
            .try_fold(item, |acc, &d| acc.checked_mul(d))
            .unwrap_or(usize::MAX)
    }

    /// `append` of a Zarr store ([`mmarray_zarr::append`]): pending writes are
    /// flushed first, the store is grown (on the pool, GIL released; Ctrl-C stops
    /// it at its next chunk with the store unchanged) and reopened with its new
    /// shape, which is returned.
    fn append_zarr(
        py: Python<'_>,
        shared: &Arc<Shared>,
        path: &Path,
        n: usize,
        pattern: Vec<u8>,
    ) -> PyResult<Vec<usize>> {
        let shared = shared.clone();
        let path = path.to_owned();
        threads::run(py, None, move || {
            let mut guard = shared.write();
            let Some(Storage::Z(c)) = guard.as_mut() else {
                return Err(closed());
            };
            let value = value_from(c.dtype().kind(), &pattern)?;
            c.flush().map_err(|e| zarr_error(&e))?;
            let exec = mmarray_ops::Exec::current();
            let options = mmarray_zarr::AppendOptions::new()
                .value(value)
                .stop_when(Arc::new(move || exec.stopped()));
            let shape = mmarray_zarr::append(&path, n, &options).map_err(|e| zarr_error(&e))?;
            *c = mmarray_zarr::open_writable(&path).map_err(|e| zarr_error(&e))?;
            Ok(shape)
        })?
    }

    /// The shared array, only if nothing else (no numpy array, no running
    /// operation) holds it: for operations that remap the file.
    fn exclusive(&self) -> PyResult<Arc<Shared>> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let shared = state.as_ref().ok_or_else(closed)?;
        if Arc::strong_count(shared) > 1 {
            return Err(PyValueError::new_err(
                "the file cannot be remapped while numpy arrays made from it exist \
                 (or another thread uses it): delete them first",
            ));
        }
        Ok(shared.clone())
    }

    fn new(storage: Storage, path: &Path, mode: &'static str, options: OpenOptions) -> File {
        let format = mapped!(&storage, a => a.format_name(), _c => "zarr");
        let chunked = matches!(storage, Storage::Z(_));
        File {
            state: Mutex::new(Some(Arc::new(Shared {
                storage: RwLock::new(Some(storage)),
            }))),
            path: path.to_owned(),
            mode,
            format,
            options,
            zarr: None,
            chunked,
        }
    }

    /// A File of a Zarr store, with what its metadata says.
    fn zarr(c: Chunked, path: &Path, mode: &'static str) -> PyResult<File> {
        let info = mmarray_zarr::inspect(path).map_err(|e| zarr_error(&e))?;
        let mut f = File::new(Storage::Z(c), path, mode, OpenOptions::new());
        f.zarr = Some(ZarrInfo {
            version: info.version,
            chunks: info.chunks,
            shards: info.shards,
            codecs: info.codecs,
        });
        Ok(f)
    }

    /// Runs `f` on the storage under the write lock, GIL released.
    fn write<F>(py: Python<'_>, shared: &Arc<Shared>, threads: Option<usize>, f: F) -> PyResult<()>
    where
        F: FnOnce(&mut Storage) -> mmarray_ops::Result<()> + Send,
    {
        let shared = shared.clone();
        threads::run(py, threads, move || {
            let mut guard = shared.write();
            match guard.as_mut() {
                Some(Storage::R(_)) => Err(read_only()),
                Some(s) => f(s).py(),
                None => Err(closed()),
            }
        })?
    }
}

/// Whether `geom` is the whole array in its own layout.
fn is_whole<M: mmarray_core::Mode>(a: &DynArray<M>, geom: &Geom) -> bool {
    let (offset, shape, strides) = geom;
    *offset == 0
        && shape == a.shape()
        && *strides == mmarray_core::contiguous_strides(a.shape(), a.dtype().itemsize(), a.order())
}

/// The elements of a chunked view as a new C-contiguous buffer, in the store's
/// dtype and byte order, copied in parallel (refused, not aborted, when it does
/// not fit in memory).
fn chunked_copy<T: Element>(v: &ChunkedView<'_, T>) -> mmarray_ops::Result<Vec<u8>> {
    let n = v.len() * size_of::<T>();
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| {
        mmarray_ops::Error::from(mmarray_core::Error::Unsupported(format!(
            "a copy of shape {:?} ({n} bytes) does not fit in memory",
            v.shape()
        )))
    })?;
    out.resize(n, 0);
    mmarray_ops::copy_chunked_into(v, &mut out, v.dtype(), Order::C)?;
    Ok(out)
}

/// `fill` into any target, as a result.
fn fill_target<T: Element, V: Target<T>>(v: V, value: T) -> mmarray_ops::Result<()> {
    V::into_result(mmarray_ops::fill(v, value))
}

/// Parses a codec string as the CLI's `--codec` ([`Compressor::parse`]):
/// `zstd[:LEVEL]` (level 1 by default), `gzip[:LEVEL]` (6),
/// `blosc[:CNAME[:LEVEL]]` (lz4, 5, byte shuffle) or `none`; a `ValueError`
/// otherwise.
fn parse_codec(codec: &str) -> PyResult<Compressor> {
    Compressor::parse(codec).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymethods]
impl File {
    /// Whether the array was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// The path.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// `"r"`, `"r+"`, `"c"` or `"w+"`.
    #[getter]
    fn mode(&self) -> &'static str {
        self.mode
    }

    /// `"npy"`, `"npz"`, `"raw"` or `"zarr"`.
    #[getter]
    fn format(&self) -> &'static str {
        self.format
    }

    /// Whether the data lies in one mapping (numpy arrays made from it share it);
    /// `False` for a Zarr store and a compressed `.npz` member read as chunks
    /// (they are copies).
    #[getter]
    fn mapped(&self) -> bool {
        !self.chunked
    }

    /// `(version, chunk shape, shard shape or None, codec names)` of a Zarr
    /// store, `None` for other formats.
    #[allow(clippy::type_complexity)]
    fn zarr_info(&self) -> Option<(u8, Vec<usize>, Option<Vec<usize>>, Vec<String>)> {
        self.zarr
            .clone()
            .map(|z| (z.version, z.chunks, z.shards, z.codecs))
    }

    /// `(descr, shape, order, data offset in the file or None for a compressed
    /// `.npz` member or a Zarr store, npy version or None)`.
    #[allow(clippy::type_complexity)]
    fn layout(
        &self,
    ) -> PyResult<(
        String,
        Vec<usize>,
        &'static str,
        Option<u64>,
        Option<(u8, u8)>,
    )> {
        let shared = self.shared()?;
        let guard = shared.read();
        let s = guard.as_ref().ok_or_else(closed)?;
        Ok(mapped!(s, a => (
            a.dtype().descr(),
            a.shape().to_vec(),
            a.order().as_str(),
            match a.npz_member() {
                Some(m) if m.compressed => None,
                _ => Some(a.layout().data_offset),
            },
            a.version(),
        ), c => (
            c.dtype().descr(),
            c.shape().to_vec(),
            c.order().as_str(),
            None,
            None,
        )))
    }

    /// Flushes and unmaps (once every numpy array made from it is gone);
    /// idempotent. Errors of the final flush are raised.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(shared) = taken else {
            return Ok(());
        };
        py.detach(move || match Arc::try_unwrap(shared) {
            Ok(shared) => {
                let storage = shared
                    .storage
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner);
                match storage {
                    Some(s) => s.close().py(),
                    None => Ok(()),
                }
            }
            // numpy arrays still use the mapping (or an operation runs): flush
            // now, unmap when they go.
            Err(shared) => match shared.read().as_ref() {
                Some(s) => s.flush().py(),
                None => Ok(()),
            },
        })
    }

    /// Writes changes to the file (`msync`) or the store, raising errors.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let shared = self.shared()?;
        py.detach(move || match shared.read().as_ref() {
            Some(s) => s.flush().py(),
            None => Err(closed()),
        })
    }

    /// The file's size and modification time in nanoseconds, now (see [`identity`]).
    fn identity(&self) -> PyResult<(u64, i128)> {
        identity(self.path.clone())
    }

    /// Checks the view `geom` against the array (`ValueError` if it does not fit).
    fn check(&self, geom: Geom) -> PyResult<()> {
        let shared = self.shared()?;
        let guard = shared.read();
        let s = guard.as_ref().ok_or_else(closed)?;
        let r: mmarray_ops::Result<()> = input!(s, &geom, v => {
            drop(v);
            Ok(())
        });
        r.py()
    }

    /// A [`Buffer`] for numpy of the view `geom`: the mapping itself, or for
    /// chunks (a Zarr store, a compressed member) a C-contiguous copy.
    #[pyo3(signature = (geom, threads=None))]
    fn buffer(&self, py: Python<'_>, geom: Geom, threads: Option<usize>) -> PyResult<Buffer> {
        let shared = self.shared()?;
        if self.chunked {
            let (data, descr, shape) = threads::run(py, threads, move || {
                let guard = shared.read();
                let s = guard.as_ref().ok_or_else(closed)?;
                let descr = s.dtype().descr();
                let (offset, shape, strides) = &geom;
                let r = mapped!(s, _a => Err(mmarray_core::Error::Unsupported("not a Zarr store".to_owned()).into()),
                    c => dispatch!(c.dtype().kind(), T => c
                        .view_strided::<T>(*offset, shape, strides)
                        .map_err(mmarray_ops::Error::from)
                        .and_then(|v| chunked_copy(&v))));
                Ok::<_, PyErr>((r.py()?, descr, geom.1))
            })??;
            let itemsize = parse_dtype(&descr)?.itemsize();
            let strides = mmarray_core::contiguous_strides(&shape, itemsize, Order::C);
            return Ok(Buffer {
                ptr: data.as_ptr() as usize,
                owner: Owner::Vec(data),
                readonly: false,
                shape,
                strides,
                typestr: descr,
            });
        }
        let (ptr, typestr) = {
            let guard = shared.read();
            let s = guard.as_ref().ok_or_else(closed)?;
            mapped!(s, a => {
                let dtype = a.dtype();
                let (offset, shape, strides) = &geom;
                dispatch!(dtype.kind(), T => {
                    View::<T>::from_strided(a.bytes(), *offset, shape, strides, dtype.byte_order()).py()?;
                });
                (a.bytes().as_ptr() as usize + geom.0, dtype.descr())
            }, _c => return Err(PyValueError::new_err("a chunked array (a Zarr store, a compressed .npz member) is not one mapping")))
        };
        Ok(Buffer {
            owner: Owner::Map(shared),
            ptr,
            readonly: self.mode == "r",
            shape: geom.1,
            strides: geom.2,
            typestr,
        })
    }

    /// numpy's `repr` of the view as a `memmap` (mapped arrays; the package
    /// prints Zarr stores from copies of their corners).
    fn repr(&self, py: Python<'_>, geom: Geom) -> PyResult<String> {
        let shared = self.shared()?;
        py.detach(move || {
            let guard = shared.read();
            let s = guard.as_ref().ok_or_else(closed)?;
            mapped!(s, a => {
                let dtype = a.dtype();
                let (offset, shape, strides) = &geom;
                dispatch!(dtype.kind(), T => {
                    let v = View::<T>::from_strided(a.bytes(), *offset, shape, strides, dtype.byte_order()).py()?;
                    Ok(mmarray_core::print::repr(&v, "memmap"))
                })
            }, _c => Err(PyValueError::new_err("a Zarr store is printed from copies")))
        })
    }

    /// A reduction of the view `geom`: `(descr, bytes)` for a scalar, `(descr,
    /// Buffer)` along an axis.
    #[pyo3(signature = (op, geom, axis=None, ddof=0, skipna=false, threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn reduce(
        &self,
        py: Python<'_>,
        op: &str,
        geom: Geom,
        axis: Option<isize>,
        ddof: usize,
        skipna: bool,
        threads: Option<usize>,
    ) -> PyResult<Py<PyAny>> {
        let op = parse_op(op)?;
        let opts = ReduceOptions { skipna, ddof };
        let shared = self.shared()?;
        let bytes = File::view_bytes(&shared, &geom);
        let r = threads::run_sized(py, threads, bytes, move || {
            let guard = shared.read();
            let s = guard.as_ref().ok_or_else(closed)?;
            let r: mmarray_ops::Result<Reduced> = input!(s, &geom, v => match axis {
                Some(axis) => mmarray_ops::reduce_axis_view(&v, op, axis, &opts).map(Reduced::Axis),
                None => mmarray_ops::reduce(&v, op, &opts).map(Reduced::Scalar),
            });
            r.py()
        })??;
        r.into_py(py)
    }

    /// An axis reduction of the whole (mapped) array into a new `.npy` file.
    #[pyo3(signature = (op, axis, out, overwrite=false, ddof=0, skipna=false, threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn reduce_to_npy(
        &self,
        py: Python<'_>,
        op: &str,
        axis: isize,
        out: PathBuf,
        overwrite: bool,
        ddof: usize,
        skipna: bool,
        threads: Option<usize>,
    ) -> PyResult<()> {
        let op = parse_op(op)?;
        let opts = ReduceOptions { skipna, ddof };
        let shared = self.shared()?;
        threads::run(py, threads, move || {
            let guard = shared.read();
            let s = guard.as_ref().ok_or_else(closed)?;
            mapped!(s,
                a => mmarray_ops::reduce_axis_to_npy(a, op, axis, &opts, &out, overwrite).py(),
                _c => Err(PyValueError::new_err("reduce_to_npy takes a mapped array")))
        })?
    }

    /// `stats` of the view `geom`: `(count, sum, mean, min, max, std)`.
    #[pyo3(signature = (geom, skipna=false, threads=None))]
    fn stats(
        &self,
        py: Python<'_>,
        geom: Geom,
        skipna: bool,
        threads: Option<usize>,
    ) -> PyResult<Py<PyAny>> {
        let shared = self.shared()?;
        let bytes = File::view_bytes(&shared, &geom);
        let s = threads::run_sized(py, threads, bytes, move || {
            let guard = shared.read();
            let s = guard.as_ref().ok_or_else(closed)?;
            let r: mmarray_ops::Result<Stats> =
                input!(s, &geom, v => mmarray_ops::stats(&v, skipna));
            r.py()
        })??;
        stats_result(py, &s)
    }

    /// Writes `value` (native bytes of the array's kind) into the view `geom`.
    #[pyo3(signature = (geom, value, threads=None))]
    fn fill(
        &self,
        py: Python<'_>,
        geom: Geom,
        value: &[u8],
        threads: Option<usize>,
    ) -> PyResult<()> {
        if self.mode == "r" {
            return Err(read_only());
        }
        let shared = self.shared()?;
        let kind = {
            let guard = shared.read();
            guard.as_ref().ok_or_else(closed)?.dtype().kind()
        };
        let value = value_from(kind, value)?;
        File::write(
            py,
            &shared,
            threads,
            move |s| target!(s, &geom, v => fill_target(v, value.cast::<T>())),
        )
    }

    /// Copies `data` (the view's elements in C order, in the array's dtype and
    /// byte order) into the view `geom`: item and slice assignment of a Zarr store.
    #[pyo3(signature = (geom, data, threads=None))]
    fn assign(
        &self,
        py: Python<'_>,
        geom: Geom,
        data: &[u8],
        threads: Option<usize>,
    ) -> PyResult<()> {
        if self.mode == "r" {
            return Err(read_only());
        }
        let shared = self.shared()?;
        let data = data.to_vec();
        File::write(py, &shared, threads, move |s| {
            let dtype = s.dtype();
            let shape = geom.1.clone();
            target!(s, &geom, v => {
                let src = View::<T>::from_bytes(&data, &shape, Order::C, dtype.byte_order())?;
                mmarray_ops::assign(v, &src)
            })
        })
    }

    /// Fills the view `geom` with random numbers, as `mmarray random` does.
    #[pyo3(signature = (geom, dist, seed, low=None, high=None, threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn random(
        &self,
        py: Python<'_>,
        geom: Geom,
        dist: &str,
        seed: u64,
        low: Option<i128>,
        high: Option<i128>,
        threads: Option<usize>,
    ) -> PyResult<()> {
        if self.mode == "r" {
            return Err(read_only());
        }
        let dist = match (dist, low, high) {
            ("normal", None, None) => Dist::Normal,
            ("uniform", None, None) => Dist::Uniform,
            ("integers", Some(low), Some(high)) => Dist::Integers { low, high },
            ("integers", _, _) => {
                return Err(PyValueError::new_err(
                    "dist='integers' needs low= and high=",
                ));
            }
            ("normal" | "uniform", _, _) => {
                return Err(PyValueError::new_err(format!(
                    "low= and high= are for dist='integers', not {dist:?}"
                )));
            }
            _ => {
                return Err(PyValueError::new_err(format!(
                    "dist must be 'normal', 'uniform' or 'integers', not {dist:?}"
                )));
            }
        };
        let shared = self.shared()?;
        File::write(
            py,
            &shared,
            threads,
            move |s| target!(s, &geom, v => mmarray_ops::random_view(v, dist, seed)),
        )
    }

    /// Writes a converted copy of the whole array to `out` (numpy's `astype`).
    #[pyo3(signature = (out, descr, order, raw=false, overwrite=false, threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn convert(
        &self,
        py: Python<'_>,
        out: PathBuf,
        descr: &str,
        order: &str,
        raw: bool,
        overwrite: bool,
        threads: Option<usize>,
    ) -> PyResult<()> {
        let opts = mmarray_ops::ConvertOptions {
            dtype: parse_dtype(descr)?,
            order: parse_order(order)?,
            raw,
            overwrite,
        };
        let shared = self.shared()?;
        threads::run(py, threads, move || {
            let guard = shared.read();
            let s = guard.as_ref().ok_or_else(closed)?;
            mapped!(s,
                a => mmarray_ops::convert_file(a, &out, &opts),
                c => mmarray_ops::convert_chunked(c, &out, &opts))
            .py()
        })?
    }

    /// Grows the array by `n` entries along its growth axis, each element the
    /// bytes `pattern` (one element in the file's byte order); returns the new shape.
    fn append(&self, py: Python<'_>, n: usize, pattern: &[u8]) -> PyResult<Vec<usize>> {
        if self.mode == "r" {
            return Err(read_only());
        }
        if self.mode == "c" {
            return Err(PyValueError::new_err(
                "a copy-on-write ('c') array cannot grow: its changes never reach the file",
            ));
        }
        let shared = self.exclusive()?;
        let pattern = pattern.to_vec();
        if self.zarr.is_some() {
            return File::append_zarr(py, &shared, &self.path, n, pattern);
        }
        py.detach(move || {
            let mut guard = shared.write();
            let Some(Storage::W(a)) = guard.as_mut() else {
                return Err(closed());
            };
            if pattern.len() != a.dtype().itemsize() {
                return Err(PyValueError::new_err("fill value of the wrong size"));
            }
            a.append_with(n, |bytes| {
                for chunk in bytes.chunks_exact_mut(pattern.len()) {
                    chunk.copy_from_slice(&pattern);
                }
                Ok(())
            })
            .py()?;
            Ok(a.shape().to_vec())
        })
    }

    /// Moves a file that [`create`] made with `overwrite` (unnamed, or under a
    /// temporary name) to its path, replacing the old file there, once it is
    /// filled (flushed and synced first): until then the old file stays as it
    /// was, and closing it instead deletes the new one. Only flushes any other file.
    fn persist(&self, py: Python<'_>) -> PyResult<()> {
        let shared = self.shared()?;
        py.detach(move || {
            let mut guard = shared.write();
            match guard.take() {
                Some(Storage::W(a)) => {
                    // On error `a` is dropped, which deletes the staged file: the
                    // File reads as closed then.
                    *guard = Some(Storage::W(a.persist(true).py()?));
                    Ok(())
                }
                Some(other) => {
                    let flushed = other.flush().py();
                    *guard = Some(other);
                    flushed
                }
                None => Err(closed()),
            }
        })
    }

    /// Swaps every element's bytes in place and records the other byte order in
    /// the `.npy` header, so the values read back are unchanged. Returns the new descr.
    fn byteswap_inplace(&self, py: Python<'_>) -> PyResult<String> {
        if self.mode == "r" {
            return Err(read_only());
        }
        if self.mode == "c" || self.format != "npy" {
            // (An .npz member's header is inside the archive: not rewritten here.)
            return Err(PyValueError::new_err(
                "byteswap_inplace needs a .npy file opened 'r+' (the byte order is recorded in its header)",
            ));
        }
        let shared = self.exclusive()?;
        let path = self.path.clone();
        let options = self.options.clone();
        py.detach(move || {
            let mut guard = shared.write();
            let Some(Storage::W(mut a)) = guard.take() else {
                return Err(closed());
            };
            let dtype = a.dtype();
            let offset = a.layout().data_offset;
            let swapped = dtype.with_byte_order(match dtype.byte_order() {
                mmarray_dtype::ByteOrder::Little => mmarray_dtype::ByteOrder::Big,
                mmarray_dtype::ByteOrder::Big => mmarray_dtype::ByteOrder::Little,
            });
            let header = rewrite_descr(&path, offset, &dtype.descr(), &swapped.descr());
            if let Err(e) = header {
                *guard = Some(Storage::W(a));
                return Err(e);
            }
            mmarray_ops::byteswap_in_place(&mut a);
            let closed_ok = a.close();
            // SAFETY: as for every array this package opens: the user promises that
            // no other process truncates or rewrites the file while it is mapped
            // (documented in the package README and docs/safety.md).
            let reopened = unsafe { DynArray::<ReadWrite>::open_with(&path, &options) };
            match reopened {
                Ok(a) => *guard = Some(Storage::W(a)),
                Err(e) => return Err(e).py(),
            }
            closed_ok.py()?;
            Ok(swapped.descr())
        })
    }
}

/// The size and modification time (ns) of the file at `path`, or of a Zarr
/// store: its metadata file's size, and the latest of its folder's and its
/// metadata file's modification times (what tells a pickled reference that the
/// array changed).
#[pyfunction]
pub(crate) fn identity(path: PathBuf) -> PyResult<(u64, i128)> {
    if mmarray_zarr::is_zarr(&path) {
        let meta = ["zarr.json", ".zarray"]
            .iter()
            .map(|m| path.join(m))
            .find(|m| m.is_file())
            .unwrap_or_else(|| path.join("zarr.json"));
        let (size, mtime) = file_identity(&meta)?;
        let (_, dir_mtime) = file_identity(&path)?;
        return Ok((size, mtime.max(dir_mtime)));
    }
    file_identity(&path)
}

/// The file's size and modification time (ns).
fn file_identity(path: &Path) -> PyResult<(u64, i128)> {
    let meta = std::fs::metadata(path).map_err(|e| os_error(path, "stat", &e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    Ok((meta.len(), mtime))
}

/// Replaces the `descr` value `old` by `new` (same length) in the `.npy` header
/// of `path` (the `header_len` bytes before the data), in place.
fn rewrite_descr(path: &Path, header_len: u64, old: &str, new: &str) -> PyResult<()> {
    use std::os::unix::fs::FileExt;
    let bad = |why: &str| {
        PyValueError::new_err(format!(
            "{}: cannot record the byte order in the header: {why}",
            path.display()
        ))
    };
    let len = usize::try_from(header_len)
        .ok()
        .filter(|&n| n <= 1 << 24)
        .ok_or_else(|| bad("header too large"))?;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| os_error(path, "open", &e))?;
    let mut header = vec![0u8; len];
    f.read_exact_at(&mut header, 0)
        .map_err(|e| os_error(path, "read header", &e))?;
    let key = header
        .windows(5)
        .position(|w| w == b"descr")
        .ok_or_else(|| bad("no 'descr' key"))?;
    let rest = &header[key + 5..];
    // Skip the key's closing quote, the colon and spaces, then the value's quote.
    let colon = rest
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| bad("no ':' after 'descr'"))?;
    let after = &rest[colon + 1..];
    let quote = after
        .iter()
        .position(|&b| b == b'\'' || b == b'"')
        .ok_or_else(|| bad("no quoted descr"))?;
    let start = key + 5 + colon + 1 + quote + 1;
    if header.get(start..start + old.len()) != Some(old.as_bytes()) || old.len() != new.len() {
        return Err(bad("unexpected descr text"));
    }
    header[start..start + new.len()].copy_from_slice(new.as_bytes());
    f.write_all_at(&header[start..start + new.len()], start as u64)
        .map_err(|e| os_error(path, "rewrite header", &e))?;
    f.sync_data().map_err(|e| os_error(path, "sync", &e))?;
    Ok(())
}

/// Opens an array file. `raw` is `(descr, shape or None, offset, order)` for a
/// headerless file; otherwise a folder with `zarr.json` or `.zarray` is a Zarr
/// store, and a file is read as `.npy`, or as an `.npz` archive (its only
/// member, or `member`).
#[pyfunction]
#[pyo3(signature = (path, mode="r", raw=None, max_header_size=None, member=None))]
#[allow(clippy::type_complexity)]
pub(crate) fn open(
    py: Python<'_>,
    path: PathBuf,
    mode: &str,
    raw: Option<(String, Option<Vec<usize>>, u64, String)>,
    max_header_size: Option<usize>,
    member: Option<String>,
) -> PyResult<File> {
    let mut options = OpenOptions::new();
    let has_member = member.is_some();
    let member_name = member.clone();
    let is_raw = raw.is_some();
    if let Some(m) = member {
        options = options.member(m);
    }
    if let Some(n) = max_header_size {
        options = options.max_header_size(n);
    }
    if let Some((descr, shape, offset, order)) = raw {
        let mut r = Raw::new(parse_dtype(&descr)?)
            .offset(offset)
            .order(parse_order(&order)?);
        if let Some(shape) = shape {
            r = r.shape(shape);
        }
        options = options.raw(r);
    }
    let mode: &'static str = match mode {
        "r" => "r",
        "r+" => "r+",
        "c" => "c",
        "w+" => {
            return Err(PyValueError::new_err(
                "mode 'w+' creates a file: use mmarray.create",
            ));
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "mode must be 'r', 'r+' or 'c', not {other:?}"
            )));
        }
    };
    if mmarray_zarr::is_zarr(&path) {
        return open_zarr(py, &path, mode, is_raw, has_member);
    }
    if mode == "r" && !is_raw {
        let name = member_name;
        let max_header = max_header_size.unwrap_or(mmarray_core::npy::MAX_HEADER_SIZE);
        let p = path.clone();
        let member = py.detach(move || deflated_member(&p, name.as_deref(), max_header));
        if let Some(chunked) = member.py()? {
            let mut f = File::new(Storage::Z(chunked), &path, mode, options);
            f.format = "npz";
            return Ok(f);
        }
    }
    let opts = options.clone();
    let p = path.clone();
    // SAFETY: mapping a file is safe as long as no other process truncates or
    // rewrites it while it is mapped; that is the promise every user of this
    // package makes (README, docs/safety.md), as with numpy.memmap. Everything
    // else (header, sizes, data length) is checked by mmarray-core.
    let storage = py.detach(move || unsafe {
        match mode {
            "r" => DynArray::<ReadOnly>::open_with(&p, &opts).map(Storage::R),
            "r+" => DynArray::<ReadWrite>::open_with(&p, &opts).map(Storage::W),
            _ => DynArray::<CopyOnWrite>::open_with(&p, &opts).map(Storage::C),
        }
    });
    let storage = storage.py()?;
    Ok(File::new(storage, &path, mode, options))
}

/// The selected member of the `.npz` archive at `path` as chunks, when it is
/// deflated (`None` for other files and stored members, which are mapped):
/// inflated chunk by chunk as it is read, with no temporary file.
fn deflated_member(
    path: &Path,
    name: Option<&str>,
    max_header: usize,
) -> mmarray_core::Result<Option<Chunked>> {
    let mut first = [0u8; 4];
    let is_archive = std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut first))
            .is_ok_and(|()| mmarray_core::npz::is_archive(&first));
    if !is_archive {
        return Ok(None);
    }
    let archive = mmarray_core::npz::Archive::open_with(path, max_header)?;
    if !archive.select(name)?.compressed {
        return Ok(None);
    }
    let member = mmarray_core::npz::DeflatedMember::open_with(path, name, max_header)?;
    Ok(Some(member.into_chunked()))
}

/// Opens the Zarr store at `path` (`r`, or `r+` for a v3 store written in place).
fn open_zarr(
    py: Python<'_>,
    path: &Path,
    mode: &'static str,
    raw: bool,
    member: bool,
) -> PyResult<File> {
    if raw || member {
        return Err(PyValueError::new_err(format!(
            "{}: a Zarr store describes itself: dtype=, shape=, offset= and member= are for \
             raw files and .npz archives",
            path.display()
        )));
    }
    let p = path.to_owned();
    let chunked = match mode {
        "r" => py.detach(move || mmarray_zarr::open(&p)),
        "r+" => py.detach(move || mmarray_zarr::open_writable(&p)),
        _ => {
            return Err(PyValueError::new_err(format!(
                "{}: a Zarr store opens in mode 'r' or 'r+', not {mode:?} (copy-on-write \
                 needs one mapping)",
                path.display()
            )));
        }
    };
    File::zarr(chunked.map_err(|e| zarr_error(&e))?, path, mode)
}

/// Creates a new array (mode `w+`): a zero-filled `.npy` file unless `raw`, or
/// with `zarr=(chunks, shards, codec)` an empty Zarr v3 store (every chunk the
/// fill value 0 until written). With `overwrite`, a new `.npy` or raw file
/// replaces the old one only at [`File::persist`].
#[pyfunction]
#[pyo3(signature = (path, descr, shape, order="C", raw=false, overwrite=false, zarr=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(crate) fn create(
    py: Python<'_>,
    path: PathBuf,
    descr: &str,
    shape: Vec<usize>,
    order: &str,
    raw: bool,
    overwrite: bool,
    zarr: Option<(Option<Vec<usize>>, Option<Vec<usize>>, Option<String>)>,
) -> PyResult<File> {
    let dtype = parse_dtype(descr)?;
    let order = parse_order(order)?;
    if let Some((chunks, shards, codec)) = zarr {
        let mut zopts = mmarray_zarr::CreateOptions::new()
            .order(order)
            .byte_order(dtype.byte_order())
            .overwrite(overwrite);
        if let Some(c) = chunks {
            zopts = zopts.chunks(&c);
        }
        if let Some(s) = shards {
            zopts = zopts.shards(&s);
        }
        if let Some(c) = codec {
            zopts = zopts.compressor(parse_codec(&c)?);
        }
        let p = path.clone();
        let chunked = py
            .detach(move || mmarray_zarr::create(&p, dtype, &shape, &zopts))
            .map_err(|e| zarr_error(&e))?;
        return File::zarr(chunked, &path, "w+");
    }
    let mut copts = CreateOptions::new().overwrite(overwrite);
    let mut oopts = OpenOptions::new();
    if raw {
        copts = copts.raw(0);
        oopts = oopts.raw(Raw::new(dtype).shape(shape.clone()).order(order));
    }
    let p = path.clone();
    // SAFETY: as in `open`; the file is new. Over an old file, it is made
    // unnamed (or under a temporary name) and [`File::persist`] moves it into
    // place once filled, so that the old file stays if the fill fails.
    let a = py
        .detach(move || unsafe {
            if overwrite {
                DynArray::<ReadWrite>::create_staged(&p, dtype, &shape, order, &copts)
            } else {
                DynArray::<ReadWrite>::create_with(&p, dtype, &shape, order, &copts)
            }
        })
        .py()?;
    Ok(File::new(Storage::W(a), &path, "w+", oopts))
}
