"""Type stubs of ``mmarray._native``, the Rust half of the package (internal API:
use :mod:`mmarray`)."""

from os import PathLike
from typing import Any

Geom = tuple[int, tuple[int, ...] | list[int], tuple[int, ...] | list[int]]
"""A view: byte offset of its first element in the data, shape, byte strides."""

Scalar = tuple[str, bytes]
"""A scalar result: its native descr and its bytes."""

class Buffer:
    """Memory for a numpy array (``np.asarray(buffer)``); keeps the memory alive."""

    @property
    def __array_interface__(self) -> dict[str, Any]: ...

class File:
    """An open array file (or Zarr store) shared by an ``mmarray.Array`` and its views."""

    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> PathLike[str]: ...
    @property
    def mode(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def mapped(self) -> bool:
        """Whether the data lies in one mapping (``False`` for a Zarr store)."""
    def zarr_info(self) -> tuple[int, list[int], list[int] | None, list[str]] | None:
        """A Zarr store's ``(version, chunk shape, shard shape, codec names)``."""
    def layout(self) -> tuple[str, list[int], str, int | None, tuple[int, int] | None]:
        """``(descr, shape, order, data offset, npy version)``."""
    def close(self) -> None: ...
    def flush(self) -> None: ...
    def identity(self) -> tuple[int, int]:
        """The file's size and ``mtime_ns`` now."""
    def check(self, geom: Geom) -> None:
        """Raises ``ValueError`` if the view does not fit the array."""
    def buffer(self, geom: Geom, threads: int | None = None) -> Buffer:
        """The mapping's memory, or for a Zarr store a C-contiguous copy."""
    def repr(self, geom: Geom) -> str: ...
    def reduce(self, op: str, geom: Geom, axis: int | None = None, ddof: int = 0,
               skipna: bool = False, threads: int | None = None) -> tuple[str, bytes | Buffer]: ...
    def reduce_to_npy(self, op: str, axis: int, out: str | PathLike[str], overwrite: bool = False,
                      ddof: int = 0, skipna: bool = False, threads: int | None = None) -> None: ...
    def stats(self, geom: Geom, skipna: bool = False, threads: int | None = None) -> tuple[
        int, Scalar, Scalar, Scalar | None, Scalar | None, Scalar]: ...
    def fill(self, geom: Geom, value: bytes, threads: int | None = None) -> None: ...
    def assign(self, geom: Geom, data: bytes, threads: int | None = None) -> None:
        """Copies the view's elements (C order, the array's dtype) into it."""
    def random(self, geom: Geom, dist: str, seed: int, low: int | None = None,
               high: int | None = None, threads: int | None = None) -> None: ...
    def convert(self, out: str | PathLike[str], descr: str, order: str, raw: bool = False,
                overwrite: bool = False, threads: int | None = None) -> None: ...
    def append(self, n: int, pattern: bytes) -> list[int]: ...
    def byteswap_inplace(self) -> str: ...
    def persist(self) -> None: ...

def open(path: str | PathLike[str], mode: str = "r",
         raw: tuple[str, list[int] | None, int, str] | None = None,
         max_header_size: int | None = None, member: str | None = None) -> File: ...
def create(path: str | PathLike[str], descr: str, shape: list[int], order: str = "C",
           raw: bool = False, overwrite: bool = False,
           zarr: tuple[list[int] | None, list[int] | None, str | None] | None = None) -> File:
    """A new ``.npy``, raw file, or with ``zarr=(chunks, shards, codec)`` Zarr v3 store."""
def identity(path: str | PathLike[str]) -> tuple[int, int]:
    """The size and ``mtime_ns`` that a pickled reference checks (a store's metadata)."""
def reduce_ndarray(arr: Any, op: str, axis: int | None = None, ddof: int = 0,
                   skipna: bool = False, threads: int | None = None) -> tuple[str, bytes | Buffer]: ...
def stats_ndarray(arr: Any, skipna: bool = False, threads: int | None = None) -> tuple[
    int, Scalar, Scalar, Scalar | None, Scalar | None, Scalar]: ...
def exact_partials(arr: Any) -> tuple[int, int, int, int, list[tuple[int, list[float]]],
                                      list[tuple[int, list[float]]]]: ...
def set_threads(n: int | None = None) -> None: ...
def get_threads() -> int | None: ...
