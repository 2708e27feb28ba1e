"""numpy.memmap and ``.npy`` files done in Rust.

``mmarray`` opens ``.npy`` and raw files as memory-mapped arrays (:func:`open`,
:func:`create`), hands numpy zero-copy views of them (``np.asarray(a)``), and
reduces, fills and converts them in parallel with the GIL released. Zarr stores
(folders with ``zarr.json`` or ``.zarray``) open as the same :class:`Array`,
read and written chunk by chunk; ``np.asarray`` of one is a copy. The module
functions (:func:`sum`, :func:`mean`, ... :func:`stats`) also take any numpy array,
``np.memmap`` included, and read it in place.

>>> import mmarray as mm, numpy as np
>>> with mm.create("a.npy", "float64", (1000, 1000), fill="normal", seed=1) as a:
...     s = a.stats()                  # one pass, every core
...     col = a.mean(axis=0)           # an ndarray of 1000 means
...     a[:2, :3] = 0.5                # numpy's casting rules
...     np.asarray(a)[0, 0]            # a zero-copy ndarray
np.float64(0.5)

The API contract is ``python-api.md`` in the repository; where it is silent, numpy's
behaviour for the same call on an ``np.memmap`` is the rule.
"""

from __future__ import annotations

import math
import operator
import os
import pathlib
import shutil
from typing import Any, Iterator

import numpy as np

from . import _native

__all__ = [
    "Array",
    "open",
    "create",
    "sum",
    "mean",
    "min",
    "max",
    "argmin",
    "argmax",
    "var",
    "std",
    "stats",
    "append",
    "set_threads",
    "get_threads",
    "to_dask",
    "dask",
]

_builtin_sum = sum
_builtin_min = min
_builtin_max = max
_builtin_open = open

_SUPPORTED = (
    "bool, int8..int64, uint8..uint64, float16, float32, float64, complex64, complex128"
)


def _np_dtype(dtype: Any) -> np.dtype:
    """``np.dtype(dtype)``, checked to be a type mmarray supports (else ``ValueError``)."""
    if dtype is None:
        raise ValueError("dtype= is required")
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(f"bad dtype {dtype!r}: {e}") from None
    ok = (
        dt.fields is None
        and dt.subdtype is None
        and (
            dt.kind in "biu"
            or (dt.kind == "f" and dt.itemsize in (2, 4, 8))
            or (dt.kind == "c" and dt.itemsize in (8, 16))
        )
    )
    if not ok:
        raise ValueError(f"unsupported dtype {dt} ({dt.str}): mmarray supports {_SUPPORTED}")
    return dt


def _path(path: Any) -> pathlib.Path:
    if isinstance(path, Array):
        raise TypeError("expected a path, not an mmarray.Array")
    try:
        return pathlib.Path(os.fspath(path))
    except TypeError:
        raise TypeError(
            f"expected a path (str or os.PathLike), not {type(path).__name__}"
        ) from None


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (bool, np.bool_)):
        raise TypeError("shape must be an int or a tuple of ints, not bool")
    try:
        return (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(
            operator.index(d) for d in shape
        )
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, not {shape!r}") from None


def _check_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    for d in shape:
        if d < 0:
            raise ValueError(f"negative dimensions are not allowed: {shape}")
    return shape


def _order(order: Any) -> str:
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', not {order!r}")
    return order


def _threads(threads: Any) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, (bool, np.bool_)):
        raise TypeError("threads must be an int or None")
    try:
        n = operator.index(threads)
    except TypeError:
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}") from None
    if n < 1:
        raise ValueError(f"threads must be at least 1, not {n}")
    return n


def _int_arg(name: str, value: Any, low: int = 0) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None
    if n < low:
        raise ValueError(f"{name} must be at least {low}, not {n}")
    return n


def _seed(seed: Any) -> int:
    """A random fill's seed: an int in [0, 2**64); a fresh one for ``None``."""
    if seed is None:
        return int.from_bytes(os.urandom(8), "little")
    seed = _int_arg("seed", seed)
    if seed >= 1 << 64:
        raise ValueError("seed must be below 2**64")
    return seed


def _axis(axis: Any, ndim: int) -> int | None:
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)):
        raise TypeError("axis must be an int or None")
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"axis must be an int or None, not {type(axis).__name__}") from None
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def _cast_bytes(value: Any, dtype: np.dtype) -> bytes:
    """``value`` cast to one element of ``dtype`` as numpy 2's ``__setitem__`` casts."""
    if isinstance(value, (Array, np.ndarray)) and np.ndim(value) != 0:
        raise ValueError("a fill value must be a scalar")
    tmp = np.empty((), dtype=dtype)
    tmp[()] = value
    return tmp.tobytes()


# `np.dtype` of the result descrs seen so far (a handful of native types).
_RESULT_DTYPES: dict = {}


def _scalar(result: tuple) -> Any:
    descr, payload = result
    if isinstance(payload, bytes):
        dt = _RESULT_DTYPES.get(descr)
        if dt is None:
            dt = _RESULT_DTYPES.setdefault(descr, np.dtype(descr))
        return np.frombuffer(payload, dtype=dt)[0]
    return np.asarray(payload)


def _stats_dict(t: tuple) -> dict:
    count, s, m, lo, hi, sd = t
    return {
        "count": count,
        "sum": _scalar(s),
        "mean": _scalar(m),
        "min": None if lo is None else _scalar(lo),
        "max": None if hi is None else _scalar(hi),
        "std": _scalar(sd),
    }


def _is_contiguous(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int,
                   order: str) -> bool:
    """numpy's ``C_CONTIGUOUS``/``F_CONTIGUOUS`` flag of a layout."""
    if 0 in shape:
        return True
    want = _contiguous_strides(shape, itemsize, order)
    return all(n == 1 or s == w for n, s, w in zip(shape, strides, want))


def _contiguous_strides(shape: tuple[int, ...], itemsize: int, order: str) -> tuple[int, ...]:
    strides = [0] * len(shape)
    step = itemsize
    axes = range(len(shape) - 1, -1, -1) if order == "C" else range(len(shape))
    for a in axes:
        strides[a] = step
        step *= _builtin_max(shape[a], 1)
    return tuple(strides)


class _Base:
    """What an array and all its views share: the open file (or Zarr store), its
    dtype, and whether its data lies in one mapping (numpy arrays share it) or in
    chunks (numpy arrays are copies)."""

    __slots__ = ("file", "dtype", "open_kwargs", "mapped")

    def __init__(self, file: Any, dtype: np.dtype, open_kwargs: dict):
        self.file = file
        self.dtype = dtype
        self.open_kwargs = open_kwargs
        self.mapped = file.mapped


def _corner(view: "Array", edge: int) -> np.ndarray:
    """A copy of what numpy's summarised repr of ``view`` shows: along each axis
    longer than ``2 * edge``, the first ``edge + 1`` and the last ``edge`` entries
    (one more than shown, so that numpy still summarises that axis)."""

    def rec(v: "Array", axis: int) -> np.ndarray:
        if axis == len(v._shape):
            return v.to_numpy()
        n = v._shape[axis]
        if n <= 2 * edge:
            return rec(v, axis + 1)
        lead = (slice(None),) * axis
        return np.concatenate(
            [rec(v[lead + (slice(0, edge + 1),)], axis + 1),
             rec(v[lead + (slice(n - edge, n),)], axis + 1)],
            axis=axis,
        )

    return rec(view, 0)


_ADVANCED = (
    "advanced indexing (lists, arrays, booleans) is not supported: use basic indexing "
    "(integers, slices, ..., None)"
)


class Array:
    """An N-d array in a file, mapped into memory (numpy's ``memmap``, done in Rust).

    Made by :func:`open` and :func:`create`; indexing one gives lazy views (also
    ``Array``) that share its file and are closed with it. ``np.asarray(a)`` is a
    zero-copy ndarray that keeps the mapping alive, even after :meth:`close`.
    """

    __slots__ = ("_base", "_offset", "_shape", "_strides", "_root", "__weakref__")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("use mmarray.open() or mmarray.create() to make an Array")

    @classmethod
    def _make(
        cls,
        base: _Base,
        offset: int,
        shape: tuple[int, ...],
        strides: tuple[int, ...],
        root: bool,
    ) -> "Array":
        a = object.__new__(cls)
        a._base = base
        a._offset = offset
        a._shape = shape
        a._strides = strides
        a._root = root
        return a

    # -- state ------------------------------------------------------------------

    def _check(self) -> Any:
        f = self._base.file
        if f.closed:
            raise ValueError("operation on a closed array")
        return f

    @property
    def _geom(self) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
        return (self._offset, self._shape, self._strides)

    @property
    def closed(self) -> bool:
        """Whether the array (its file) was closed."""
        return self._base.file.closed

    @property
    def path(self) -> pathlib.Path:
        """The file's path."""
        return pathlib.Path(self._base.file.path)

    @property
    def mode(self) -> str:
        """``"r"``, ``"r+"``, ``"c"`` or ``"w+"`` (created)."""
        return self._check().mode

    @property
    def format(self) -> str:
        """``"npy"``, ``"npz"``, ``"raw"`` or ``"zarr"``."""
        return self._check().format

    @property
    def offset(self) -> int | None:
        """Byte offset of the array's data in the file (``None`` for a compressed
        ``.npz`` member and for a Zarr store)."""
        return self._check().layout()[3]

    @property
    def chunks(self) -> tuple[int, ...] | None:
        """A Zarr store's chunk shape (the inner chunks of a sharded store);
        ``None`` for other formats."""
        z = self._check().zarr_info()
        return None if z is None else tuple(z[1])

    @property
    def shards(self) -> tuple[int, ...] | None:
        """A sharded Zarr store's shard shape in elements; ``None`` otherwise."""
        z = self._check().zarr_info()
        return None if z is None or z[2] is None else tuple(z[2])

    @property
    def codecs(self) -> tuple[str, ...] | None:
        """A Zarr store's codec names, in order, as in the Zarr spec (a v2 store's
        ``bytes``, filters and compressor); ``None`` for other formats."""
        z = self._check().zarr_info()
        return None if z is None else tuple(z[3])

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape."""
        self._check()
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        """The element type, with its byte order (``>f8`` for big-endian files)."""
        self._check()
        return self._base.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of data (``size * itemsize``)."""
        return self.size * self.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        """Byte steps between elements along each axis, as numpy's."""
        self._check()
        return self._strides

    @property
    def order(self) -> str:
        """``"C"`` or ``"F"``: the file's memory order (for a view: ``"F"`` only if it
        is Fortran- and not C-contiguous)."""
        f = self._check()
        if self._root:
            return f.layout()[2]
        size = self._base.dtype.itemsize
        f_contig = _is_contiguous(self._shape, self._strides, size, "F")
        c_contig = _is_contiguous(self._shape, self._strides, size, "C")
        return "F" if f_contig and not c_contig else "C"

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of unsized object")
        return shape[0]

    def __repr__(self) -> str:
        f = self._base.file
        if f.closed:
            return f"<closed mmarray.Array {str(self.path)!r}>"
        if self._base.mapped:
            return f.repr(self._geom)
        # A store is printed as numpy prints the same data, from copies of no
        # more than the corners numpy shows.
        opts = np.get_printoptions()
        if self.size > opts["threshold"]:
            corner = _corner(self, opts["edgeitems"])
            with np.printoptions(threshold=0):
                text = repr(corner.view(np.memmap))
            # numpy names the shape of a summarised array: the store's, not the corner's.
            head, sep, tail = text.rpartition(f"shape={corner.shape}")
            return head + f"shape={self._shape}" + tail if sep else text
        return repr(self.to_numpy().view(np.memmap))

    def __enter__(self) -> "Array":
        self._check()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Flushes and closes the file (idempotent). Views close with it; numpy
        arrays made from it stay valid (they keep the mapping until they go)."""
        self._base.file.close()

    def flush(self) -> None:
        """Writes changes to the file now (``msync``), raising errors."""
        self._check().flush()

    # -- numpy interop ---------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False and not self._base.mapped:
            what = "a Zarr store" if self.format == "zarr" else "a compressed .npz member"
            raise ValueError(
                f"{self.path}: {what} is not one mapping: a numpy array of it is a copy"
            )
        if copy:
            nd = self.to_numpy()
        else:
            nd = np.asarray(self._check().buffer(self._geom))
        if dtype is not None and np.dtype(dtype) != nd.dtype:
            if copy is False:
                raise ValueError("a copy is needed to change the dtype")
            nd = nd.astype(dtype)
        return nd

    def to_numpy(self, *, threads: int | None = None) -> np.ndarray:
        """A copy in memory (same dtype and byte order; C order for a Zarr store)."""
        f = self._check()
        if not self._base.mapped:
            return np.asarray(f.buffer(self._geom, _threads(threads)))
        return np.array(np.asarray(f.buffer(self._geom)), copy=True)

    def _view(self, key: Any) -> tuple["Array", bool]:
        """The view ``key`` selects, and whether numpy would give a scalar."""
        self._check()
        items = key if isinstance(key, tuple) else (key,)
        explicit = 0
        ellipses = 0
        norm = []
        for k in items:
            if k is None or isinstance(k, slice):
                pass
            elif k is Ellipsis:
                ellipses += 1
            elif isinstance(k, (bool, np.bool_, list, tuple, np.ndarray, Array)):
                raise IndexError(_ADVANCED)
            else:
                try:
                    k = operator.index(k)
                except TypeError:
                    raise IndexError(
                        "only integers, slices (`:`), ellipsis (`...`) and None are valid "
                        f"indices, not {type(k).__name__}"
                    ) from None
            if k is not None and k is not Ellipsis:
                explicit += 1
            norm.append(k)
        if ellipses > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        shape, strides = self._shape, self._strides
        if explicit > len(shape):
            raise IndexError(
                f"too many indices for array: array is {len(shape)}-dimensional, "
                f"but {explicit} were indexed"
            )
        off = self._offset
        new_shape: list[int] = []
        new_strides: list[int] = []
        axis = 0
        empty = False
        for k in norm:
            if k is None:
                new_shape.append(1)
                new_strides.append(0)
                continue
            if k is Ellipsis:
                for _ in range(len(shape) - explicit):
                    new_shape.append(shape[axis])
                    new_strides.append(strides[axis])
                    axis += 1
                continue
            n, s = shape[axis], strides[axis]
            if isinstance(k, slice):
                start, stop, step = k.indices(n)
                count = len(range(start, stop, step))
                if count:
                    off += start * s
                else:
                    empty = True
                new_shape.append(count)
                # As numpy's; only where at most one element is taken can it pass
                # 64 bits (a huge step), and then no element uses it.
                stride = s * step
                new_strides.append(stride if -(1 << 63) <= stride < 1 << 63 else s)
            else:
                i = k + n if k < 0 else k
                if not 0 <= i < n:
                    raise IndexError(f"index {k} is out of bounds for axis {axis} with size {n}")
                off += i * s
            axis += 1
        while axis < len(shape):
            new_shape.append(shape[axis])
            new_strides.append(strides[axis])
            axis += 1
        if empty or 0 in shape:
            off = self._offset
        view = Array._make(self._base, off, tuple(new_shape), tuple(new_strides), False)
        return view, not new_shape and ellipses == 0

    def __getitem__(self, key: Any) -> Any:
        view, scalar = self._view(key)
        if scalar:
            return np.asarray(view)[()]
        return view

    def __setitem__(self, key: Any, value: Any) -> None:
        f = self._check()
        if f.mode == "r":
            raise ValueError("array is read-only")
        view, _ = self._view(key)
        if isinstance(value, Array):
            value = np.asarray(value)
        if self._base.mapped:
            np.asarray(view)[...] = value
            return
        # A store: the values cast (and broadcast) as numpy would, then copied into
        # the chunks they fall in.
        tmp = np.empty(view._shape, dtype=self._base.dtype)
        tmp[...] = value
        f.assign(view._geom, tmp.tobytes())

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    # -- pickle and dask ---------------------------------------------------------

    def _reference(self) -> dict:
        f = self._check()
        size, mtime = f.identity()
        mode = "r+" if f.mode == "w+" else f.mode
        return {
            "path": str(self.path),
            "mode": mode,
            "open": self._base.open_kwargs,
            "geom": self._geom,
            "root": self._root,
            "dtype": self._base.dtype.str,
            "size": size,
            "mtime_ns": mtime,
        }

    def __reduce__(self) -> tuple:
        return (_unpickle, (self._reference(),))

    def __dask_tokenize__(self) -> tuple:
        r = self._reference()
        return (
            "mmarray.Array",
            r["path"],
            r["mode"],
            r["geom"],
            r["dtype"],
            r["size"],
            r["mtime_ns"],
        )

    # -- operations ------------------------------------------------------------

    def _reduce(
        self,
        op: str,
        axis: Any = None,
        ddof: Any = 0,
        skipna: bool = False,
        out: Any = None,
        threads: Any = None,
    ) -> Any:
        f = self._check()
        axis = _axis(axis, len(self._shape))
        ddof = _int_arg("ddof", ddof)
        threads = _threads(threads)
        skipna = bool(skipna)
        if out is not None:
            if axis is None:
                raise ValueError("out= needs axis= (a whole-array result is a scalar)")
            out = _path(out)
            if self._root and self._base.mapped:
                f.reduce_to_npy(op, axis, out, False, ddof, skipna, threads)
                return open(out)
            res = _scalar(f.reduce(op, self._geom, axis, ddof, skipna, threads))
            return _write_npy(out, res)
        return _scalar(f.reduce(op, self._geom, axis, ddof, skipna, threads))

    def sum(self, axis: int | None = None, *, skipna: bool = False, out: Any = None,
            threads: int | None = None) -> Any:
        """Sum (int64 for signed ints and bool, uint64 for unsigned, float64,
        complex128); ``skipna`` is ``np.nansum``; ``out`` (with ``axis``) writes a ``.npy``."""
        return self._reduce("sum", axis, 0, skipna, out, threads)

    def mean(self, axis: int | None = None, *, skipna: bool = False, out: Any = None,
             threads: int | None = None) -> Any:
        """Mean (float64 or complex128)."""
        return self._reduce("mean", axis, 0, skipna, out, threads)

    def min(self, axis: int | None = None, *, skipna: bool = False, out: Any = None,
            threads: int | None = None) -> Any:
        """Smallest value, in the array's type (native byte order)."""
        return self._reduce("min", axis, 0, skipna, out, threads)

    def max(self, axis: int | None = None, *, skipna: bool = False, out: Any = None,
            threads: int | None = None) -> Any:
        """Largest value, in the array's type (native byte order)."""
        return self._reduce("max", axis, 0, skipna, out, threads)

    def argmin(self, axis: int | None = None, *, skipna: bool = False, out: Any = None,
               threads: int | None = None) -> Any:
        """Flat C-order index of the first smallest value (along ``axis``: indices)."""
        return self._reduce("argmin", axis, 0, skipna, out, threads)

    def argmax(self, axis: int | None = None, *, skipna: bool = False, out: Any = None,
               threads: int | None = None) -> Any:
        """Flat C-order index of the first largest value (along ``axis``: indices)."""
        return self._reduce("argmax", axis, 0, skipna, out, threads)

    def var(self, axis: int | None = None, *, ddof: int = 0, skipna: bool = False,
            out: Any = None, threads: int | None = None) -> Any:
        """Variance (float64) with ``ddof`` delta degrees of freedom."""
        return self._reduce("var", axis, ddof, skipna, out, threads)

    def std(self, axis: int | None = None, *, ddof: int = 0, skipna: bool = False,
            out: Any = None, threads: int | None = None) -> Any:
        """Standard deviation (float64) with ``ddof`` delta degrees of freedom."""
        return self._reduce("std", axis, ddof, skipna, out, threads)

    def stats(self, *, skipna: bool = False, threads: int | None = None) -> dict:
        """``{count, sum, mean, min, max, std}`` in one pass (min and max ``None`` if empty)."""
        f = self._check()
        return _stats_dict(f.stats(self._geom, bool(skipna), _threads(threads)))

    def fill(self, value: Any, *, threads: int | None = None) -> None:
        """Sets every element to ``value`` (cast as numpy's ``__setitem__`` casts), in parallel."""
        f = self._check()
        if f.mode == "r":
            raise ValueError("array is read-only")
        b = _cast_bytes(value, self._base.dtype.newbyteorder("="))
        f.fill(self._geom, b, _threads(threads))

    def random(self, dist: str | None = None, *, seed: int | None = None,
               low: int | None = None, high: int | None = None,
               threads: int | None = None) -> None:
        """Fills with random numbers, in place: ``"normal"`` (default for floats and
        complex), ``"uniform"`` in [0, 1), or ``"integers"`` in [low, high) (default for
        integer types). The same seed gives the same bytes as ``mmarray random``."""
        f = self._check()
        if f.mode == "r":
            raise ValueError("array is read-only")
        kind = self._base.dtype.kind
        if dist is None:
            dist = "integers" if kind in "iu" else "normal"
        if not isinstance(dist, str):
            raise TypeError("dist must be a str")
        seed = _seed(seed)
        low = None if low is None else _int_arg("low", low, -(1 << 127))
        high = None if high is None else _int_arg("high", high, -(1 << 127))
        if kind == "b" and dist == "integers":
            if low is not None or high is not None:
                raise ValueError(
                    "a random fill of bool takes no low/high: each value is True or "
                    "False with probability 1/2"
                )
            dist = "normal"
        f.random(self._geom, dist, seed, low, high, _threads(threads))

    def astype(self, dtype: Any, path: Any, *, byte_order: str | None = None,
               order: str | None = None, overwrite: bool = False,
               threads: int | None = None) -> "Array":
        """Writes a converted copy to ``path`` (``.npy``, else raw), atomically, and
        opens it ``"r+"``. numpy's ``astype`` with unsafe casting; a dtype without a
        byte order means native order unless ``byte_order`` says otherwise. A Zarr
        store converts into a ``.npy`` or raw file the same way."""
        f = self._check()
        if not self._root:
            raise ValueError("astype works on a whole array, not on a view")
        if _path(path).suffix == ".zarr":
            raise ValueError(
                f"{path}: astype writes .npy or raw files; use the CLI's "
                "`mmarray convert IN OUT.zarr` to write a Zarr store"
            )
        dt = _np_dtype(dtype)
        if byte_order is not None:
            orders = {"little": "<", "big": ">", "native": "=", "<": "<", ">": ">", "=": "="}
            if byte_order not in orders:
                raise ValueError("byte_order must be 'little', 'big' or 'native'")
            dt = dt.newbyteorder(orders[byte_order])
        order = self.order if order is None else _order(order)
        out = _path(path)
        raw = out.suffix != ".npy"
        f.convert(out, dt.str, order, raw, bool(overwrite), _threads(threads))
        if raw:
            return open(out, "r+", dtype=dt, shape=self._shape, order=order)
        return open(out, "r+")

    def append(self, n: int, fill: Any = 0) -> None:
        """Grows the array in place by ``n`` entries along its growth axis (rows for
        C order, the last axis for F order), each element ``fill``. Readers of the
        file see the old or the new length, never a file in between. A Zarr v3 store
        grows the same way; with a ``fill`` other than its fill value, a sharded store
        must hold a whole number of shards along that axis (else ``ValueError``,
        nothing changed)."""
        f = self._check()
        if not self._root:
            raise ValueError("append works on a whole array, not on a view")
        n = _int_arg("n", n)
        pattern = _cast_bytes(fill, self._base.dtype)
        shape = tuple(f.append(n, pattern))
        self._shape = shape
        self._strides = _contiguous_strides(shape, self._base.dtype.itemsize, f.layout()[2])

    def byteswap_inplace(self) -> None:
        """Swaps every element's bytes and records the other byte order in the
        ``.npy`` header: the values read back are unchanged (numpy's
        ``a.byteswap(inplace=True)`` plus ``a.dtype = a.dtype.newbyteorder()``)."""
        f = self._check()
        if not self._root:
            # (numpy's swaps only a view's elements; this one rewrites the header.)
            raise ValueError(
                "byteswap_inplace works on a whole array (it records the byte order "
                "in the file's header), not on a view"
            )
        if self._base.dtype.itemsize == 1 or self._base.dtype.kind == "b":
            return
        descr = f.byteswap_inplace()
        self._base.dtype = np.dtype(descr)


def _write_npy(out: pathlib.Path, res: np.ndarray) -> Array:
    """Writes an in-memory result to a new ``.npy`` file (refusing to replace one)."""
    order = "F" if res.ndim > 1 and res.flags.f_contiguous and not res.flags.c_contiguous else "C"
    a = create(out, res.dtype, res.shape, order=order)
    try:
        a[...] = res
        a.close()
    except BaseException:
        a.close()
        os.unlink(out)
        raise
    return open(out)


def _unpickle(ref: dict) -> Array:
    path = ref["path"]
    try:
        size, mtime_ns = _native.identity(path)
    except FileNotFoundError:
        raise FileNotFoundError(2, "the pickled array's file is gone", path) from None
    if size != ref["size"] or mtime_ns != ref["mtime_ns"]:
        raise ValueError(
            f"{path}: the file changed since the array was pickled "
            f"(size {ref['size']} -> {size}, mtime_ns {ref['mtime_ns']} -> {mtime_ns})"
        )
    a = open(path, ref["mode"], **ref["open"])
    if np.dtype(ref["dtype"]) != a._base.dtype:
        raise ValueError(f"{path}: the file's dtype changed since the array was pickled")
    if ref["root"]:
        return a
    offset, shape, strides = ref["geom"]
    view = Array._make(a._base, offset, tuple(shape), tuple(strides), False)
    view._check().check(view._geom)  # the geometry against the file, never a copy
    return view


def open(path: Any, mode: str = "r", *, member: str | None = None, dtype: Any = None,
         shape: Any = None, offset: int = 0, order: str = "C",
         max_header_size: int = 10000) -> Array:
    """Opens an array file: ``.npy`` (found by its magic), a member of an ``.npz``
    archive (found by the zip magic; ``member`` names it, an archive of one member
    opens it; a missing member raises ``KeyError``), or raw data when ``dtype`` is
    given (``shape=None``: 1-d, its length from the file size, as ``np.memmap``),
    or a Zarr store: a folder with ``zarr.json`` (v3) or ``.zarray`` (v2, read
    only), read and written chunk by chunk.

    ``mode`` is ``"r"`` (read-only), ``"r+"`` (read-write) or ``"c"`` (copy-on-write;
    not for Zarr stores).
    """
    p = _path(path)
    if not isinstance(mode, str):
        raise TypeError("mode must be a str")
    if mode not in ("r", "r+", "c"):
        raise ValueError(f"mode must be 'r', 'r+' or 'c', not {mode!r}")
    if member is not None and not isinstance(member, str):
        raise TypeError(f"member must be a str, not {type(member).__name__}")
    max_header_size = _int_arg("max_header_size", max_header_size)
    offset = _int_arg("offset", offset)
    order = _order(order)
    kwargs: dict = {"max_header_size": max_header_size}
    if member is not None:
        if dtype is not None:
            raise ValueError("member= selects an .npz member; dtype= describes raw files")
        kwargs["member"] = member
    raw = None
    if dtype is not None:
        dt = _np_dtype(dtype)
        shp = None if shape is None else _check_shape(_shape(shape))
        raw = (dt.str, None if shp is None else list(shp), offset, order)
        kwargs.update(dtype=dt.str, shape=shp, offset=offset, order=order)
    elif shape is not None or offset != 0:
        raise ValueError("shape= and offset= describe raw files: give dtype= too")
    f = _native.open(p, mode, raw, max_header_size, member)
    descr, shp, ord_, _, _ = f.layout()
    shp = tuple(shp)
    dt = np.dtype(descr)
    base = _Base(f, dt, kwargs)
    return Array._make(base, 0, shp, _contiguous_strides(shp, dt.itemsize, ord_), True)


def create(path: Any, dtype: Any, shape: Any, *, order: str = "C", fill: Any = None,
           seed: int | None = None, overwrite: bool = False, chunks: Any = None,
           shards: Any = None, codec: str | None = None) -> Array:
    """Creates a new array file (``.npy`` for that extension, a Zarr v3 store for
    ``.zarr``, else raw) in mode ``"w+"``, zero-filled unless ``fill`` is a number
    or ``"normal"``/``"uniform"`` (random, with ``seed``). An existing file raises
    ``FileExistsError`` unless ``overwrite=True`` (then the new file replaces it
    when complete; an existing Zarr store is removed first).

    For a Zarr store, ``chunks`` is the chunk shape (default: chunks of about
    8 MiB, whole rows for C order), ``shards`` the shard shape in chunks per shard
    (default: none), ``codec`` one of ``"zstd[:LEVEL]"`` (the default, level 1),
    ``"gzip[:LEVEL]"``, ``"blosc[:CNAME[:LEVEL]]"`` or ``"none"``; ``order="F"``
    stores chunks transposed. Chunks that were never written read as 0."""
    p = _path(path)
    dt = _np_dtype(dtype)
    shp = _check_shape(_shape(shape))
    order = _order(order)
    zarr = p.suffix == ".zarr"
    raw = p.suffix != ".npy" and not zarr
    zopts = None
    if zarr:
        if codec is not None and not isinstance(codec, str):
            raise TypeError(f"codec must be a str, not {type(codec).__name__}")
        zopts = (
            None if chunks is None else list(_check_shape(_shape(chunks))),
            None if shards is None else list(_check_shape(_shape(shards))),
            codec,
        )
    elif chunks is not None or shards is not None or codec is not None:
        raise ValueError(
            f"{p}: chunks=, shards= and codec= are for Zarr stores (a path ending in .zarr)"
        )
    dist = None
    if isinstance(fill, str):
        if fill not in ("normal", "uniform"):
            raise ValueError(f"fill must be a number, 'normal' or 'uniform', not {fill!r}")
        dist = fill
        seed = _seed(seed)  # checked before the file exists (or the old one goes)
    elif fill is not None:
        _cast_bytes(fill, dt.newbyteorder("="))  # fails before the file exists
    elif seed is not None:
        raise ValueError("seed= goes with fill='normal' or fill='uniform'")
    f = _native.create(p, dt.str, list(shp), order, raw, bool(overwrite), zopts)
    kwargs: dict = {}
    if raw:
        kwargs = {"dtype": dt.str, "shape": shp, "offset": 0, "order": order}
    base = _Base(f, np.dtype(f.layout()[0]), kwargs)
    a = Array._make(base, 0, shp, _contiguous_strides(shp, dt.itemsize, order), True)
    try:
        if dist is not None:
            a.random(dist, seed=seed)
        elif fill is not None:
            a.fill(fill)
        if overwrite and not zarr:
            # Over an old .npy or raw file, the new one takes its place only now
            # (synced first, as any atomic replacement must be).
            f.persist()
    except BaseException:
        a.close()
        if zarr:
            shutil.rmtree(p, ignore_errors=True)
        elif not overwrite:
            os.unlink(p)
        # (else closing deleted the new file, and the old one is as it was)
        raise
    return a


# -- module functions -------------------------------------------------------------


# The dtypes `_input` has accepted (a few dozen at most: the supported types in
# both byte orders), so that a call on a small array does not check them again.
_INPUT_DTYPES: set = set()


def _input(x: Any) -> np.ndarray:
    """``x`` as a numpy array of a supported dtype (else ``TypeError``)."""
    if type(x) is not np.ndarray and isinstance(x, np.ma.MaskedArray):
        # Its data without the mask would give other results than numpy's.
        raise TypeError(
            "mmarray reductions do not take masked arrays: use numpy.ma's own, or "
            "pass x.compressed() (the unmasked values) or x.filled(value)"
        )
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.dtype in _INPUT_DTYPES:
        return arr
    try:
        _np_dtype(arr.dtype)
    except ValueError as e:
        raise TypeError(f"cannot reduce {type(x).__name__} of dtype {arr.dtype}: {e}") from None
    _INPUT_DTYPES.add(arr.dtype)
    return arr


def _reduce_any(op: str, x: Any, axis: Any, ddof: Any, skipna: bool, out: Any,
                threads: Any) -> Any:
    if isinstance(x, Array):
        return x._reduce(op, axis, ddof, skipna, out, threads)
    arr = _input(x)
    axis = _axis(axis, arr.ndim)
    ddof = _int_arg("ddof", ddof)
    threads = _threads(threads)
    res = _scalar(_native.reduce_ndarray(arr, op, axis, ddof, bool(skipna), threads))
    if out is not None:
        if axis is None:
            raise ValueError("out= needs axis= (a whole-array result is a scalar)")
        return _write_npy(_path(out), res)
    return res


def sum(x: Any, axis: int | None = None, *, skipna: bool = False, out: Any = None,
        threads: int | None = None) -> Any:
    """Sum of an :class:`Array`, a view or any numpy array (read in place)."""
    return _reduce_any("sum", x, axis, 0, skipna, out, threads)


def mean(x: Any, axis: int | None = None, *, skipna: bool = False, out: Any = None,
         threads: int | None = None) -> Any:
    """Mean (float64 or complex128)."""
    return _reduce_any("mean", x, axis, 0, skipna, out, threads)


def min(x: Any, axis: int | None = None, *, skipna: bool = False, out: Any = None,
        threads: int | None = None) -> Any:
    """Smallest value, in the input's type."""
    return _reduce_any("min", x, axis, 0, skipna, out, threads)


def max(x: Any, axis: int | None = None, *, skipna: bool = False, out: Any = None,
        threads: int | None = None) -> Any:
    """Largest value, in the input's type."""
    return _reduce_any("max", x, axis, 0, skipna, out, threads)


def argmin(x: Any, axis: int | None = None, *, skipna: bool = False, out: Any = None,
           threads: int | None = None) -> Any:
    """Flat C-order index of the first smallest value."""
    return _reduce_any("argmin", x, axis, 0, skipna, out, threads)


def argmax(x: Any, axis: int | None = None, *, skipna: bool = False, out: Any = None,
           threads: int | None = None) -> Any:
    """Flat C-order index of the first largest value."""
    return _reduce_any("argmax", x, axis, 0, skipna, out, threads)


def var(x: Any, axis: int | None = None, *, ddof: int = 0, skipna: bool = False,
        out: Any = None, threads: int | None = None) -> Any:
    """Variance (float64)."""
    return _reduce_any("var", x, axis, ddof, skipna, out, threads)


def std(x: Any, axis: int | None = None, *, ddof: int = 0, skipna: bool = False,
        out: Any = None, threads: int | None = None) -> Any:
    """Standard deviation (float64)."""
    return _reduce_any("std", x, axis, ddof, skipna, out, threads)


def stats(x: Any, *, skipna: bool = False, threads: int | None = None) -> dict:
    """``{count, sum, mean, min, max, std}`` of an :class:`Array` or numpy array, one pass."""
    if isinstance(x, Array):
        return x.stats(skipna=skipna, threads=threads)
    arr = _input(x)
    return _stats_dict(_native.stats_ndarray(arr, bool(skipna), _threads(threads)))


def append(a: Array, n: int, fill: Any = 0) -> None:
    """Grows ``a`` (a whole ``.npy``, raw or Zarr v3 array opened ``r+``/``w+``) in place
    by ``n`` entries along its growth axis, each element ``fill``: :meth:`Array.append`."""
    if not isinstance(a, Array):
        raise TypeError(f"append takes an mmarray.Array, not {type(a).__name__}")
    a.append(n, fill)


def set_threads(n: int | None) -> None:
    """Sets the default number of threads of every operation (``None``: one per core)."""
    _native.set_threads(_threads(n))


def get_threads() -> int | None:
    """The default number of threads (``None``: one per core)."""
    return _native.get_threads()


def to_dask(a: Array, chunks: Any = "auto") -> Any:
    """A ``dask.array.Array`` over ``a`` whose tasks open ``a``'s file in the worker
    (the array is pickled by reference, never its data)."""
    if not isinstance(a, Array):
        raise TypeError(f"to_dask takes an mmarray.Array, not {type(a).__name__}")
    try:
        import dask.array as da
        from dask.base import tokenize
    except ImportError as e:
        raise ImportError(
            "mmarray.to_dask needs dask: pip install 'dask[array]' distributed"
        ) from e
    a._check()
    return da.from_array(
        a,
        chunks=chunks,
        name="mmarray-" + tokenize(a),
        lock=False,
        asarray=True,
        fancy=False,
        meta=np.empty((0,) * a.ndim, dtype=a.dtype),
    )


# The dask reductions (importing them does not import dask).
from . import dask  # noqa: E402
