"""Reductions of dask arrays whose result does not depend on the chunking or on
the number of workers.

Each chunk is reduced with mmarray's kernels where the result is exact anyway
(count, min, max) and into *exact* partial sums elsewhere: the sum of the values
and the sum of their squares, each as a list of floats whose exact sum it is
(Shewchuk expansions at fixed scales, computed in Rust, so that no partial
overflows). The client merges the chunks' partials in chunk order and rounds
once (exact rational arithmetic), so ``sum``, ``mean``, ``var`` and ``std`` are
the correctly rounded values of the exact results: the same bits for any chunking and any
cluster, and at least as accurate as the in-process reductions.

Only whole-array reductions (``axis=None``) of real (bool, integer, float) arrays
are supported.
"""

from __future__ import annotations

import builtins
import math
from fractions import Fraction
from typing import Any

import numpy as np

from . import _native

__all__ = ["sum", "mean", "min", "max", "var", "std", "stats"]


def _dask() -> Any:
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "mmarray.dask needs dask: pip install 'dask[array]' distributed"
        ) from e
    return dask


def _chunk(block: Any) -> dict:
    """Partial results of one chunk (runs in the worker)."""
    x = np.ascontiguousarray(np.asarray(block))
    kind = x.dtype.kind
    if kind == "c":
        raise TypeError("mmarray.dask reductions of complex arrays are not supported")
    if kind == "f":
        flat = x.astype(np.float64, copy=False).reshape(-1)
    elif kind == "u":
        flat = x.astype(np.uint64, copy=False).reshape(-1)
    else:
        flat = x.astype(np.int64, copy=False).reshape(-1)
    count, nan, posinf, neginf, s, sq = _native.exact_partials(flat)
    lo = hi = None
    if x.size:
        st = _native.stats_ndarray(x, False, None)
        lo, hi = st[3], st[4]
    return {
        "count": count,
        "nan": nan,
        "posinf": posinf,
        "neginf": neginf,
        "sum": s,
        "sq": sq,
        "min": lo,
        "max": hi,
    }


def _partials(darr: Any, axis: Any) -> tuple[list[dict], np.dtype]:
    dask = _dask()
    if axis is not None:
        raise NotImplementedError("mmarray.dask reductions take axis=None only")
    if not hasattr(darr, "to_delayed"):
        raise TypeError(f"expected a dask array, not {type(darr).__name__}")
    if darr.dtype.kind not in "biuf":
        raise TypeError(f"mmarray.dask reductions need a real dtype, not {darr.dtype}")
    blocks = list(darr.to_delayed().ravel())
    parts = dask.compute(*[dask.delayed(_chunk)(b) for b in blocks])
    return list(parts), darr.dtype


def _special(parts: list[dict]) -> float | None:
    """The result NaNs and infinities force on a sum, or ``None``."""
    nan = any(p["nan"] for p in parts)
    pos = any(p["posinf"] for p in parts)
    neg = any(p["neginf"] for p in parts)
    if nan or (pos and neg):
        return math.nan
    if pos:
        return math.inf
    if neg:
        return -math.inf
    return None


def _exact(parts: list[dict], key: str) -> Fraction:
    """The exact sum of the partials ``key`` of every chunk (``(scale, floats)``
    pairs: each float counts times ``2**scale``)."""
    total = Fraction(0)
    for p in parts:
        for scale, values in p[key]:
            exact = builtins.sum((Fraction(v) for v in values), Fraction(0))
            total += exact * Fraction(2) ** scale
    return total


def _float(x: Fraction) -> float:
    """``x`` correctly rounded to a float; beyond the float range, an infinity
    of its sign (as a float sum that overflows gives)."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _count(parts: list[dict]) -> int:
    return builtins.sum(p["count"] for p in parts)


def _sum(parts: list[dict], dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        special = _special(parts)
        if special is not None:
            return np.float64(special)
        return np.float64(_float(_exact(parts, "sum")))
    total = int(_exact(parts, "sum"))
    if dtype.kind == "u":
        return np.uint64(total % (1 << 64))
    wrapped = (total + (1 << 63)) % (1 << 64) - (1 << 63)
    return np.int64(wrapped)


def _mean(parts: list[dict]) -> np.float64:
    n = _count(parts)
    special = _special(parts)
    if special is not None:
        return np.float64(special)
    if n == 0:
        return np.float64(math.nan)
    return np.float64(_float(_exact(parts, "sum") / n))


def _var(parts: list[dict], ddof: Any) -> np.float64:
    from . import _int_arg  # the in-process reductions' check of ddof

    ddof = _int_arg("ddof", ddof)
    n = _count(parts)
    special = _special(parts)
    if special is not None or n == 0:
        return np.float64(math.nan)
    s1 = _exact(parts, "sum")
    s2 = _exact(parts, "sq")
    m2 = s2 - s1 * s1 / n
    d = n - ddof
    if d <= 0:
        return np.float64(math.inf if m2 > 0 else math.nan)
    return np.float64(_float(m2 / d))


def _extreme(parts: list[dict], key: str) -> Any:
    vals = [p[key] for p in parts if p[key] is not None]
    if not vals:
        raise ValueError(f"{key} of an empty array: the reduction has no identity")
    arr = np.array([np.frombuffer(b, dtype=np.dtype(d))[0] for d, b in vals])
    return arr.min() if key == "min" else arr.max()


def sum(darr: Any, axis: Any = None, ddof: int = 0) -> Any:
    """The sum, typed as ``mmarray.sum`` types it; the same bits for any chunking."""
    parts, dtype = _partials(darr, axis)
    return _sum(parts, dtype)


def mean(darr: Any, axis: Any = None, ddof: int = 0) -> np.float64:
    """The mean (float64), correctly rounded."""
    parts, _ = _partials(darr, axis)
    return _mean(parts)


def min(darr: Any, axis: Any = None, ddof: int = 0) -> Any:
    """The smallest value (NaN if there is one, as numpy)."""
    parts, _ = _partials(darr, axis)
    return _extreme(parts, "min")


def max(darr: Any, axis: Any = None, ddof: int = 0) -> Any:
    """The largest value (NaN if there is one, as numpy)."""
    parts, _ = _partials(darr, axis)
    return _extreme(parts, "max")


def var(darr: Any, axis: Any = None, ddof: int = 0) -> np.float64:
    """The variance with ``ddof``, correctly rounded from the exact sums."""
    parts, _ = _partials(darr, axis)
    return _var(parts, ddof)


def std(darr: Any, axis: Any = None, ddof: int = 0) -> np.float64:
    """The standard deviation: the square root of :func:`var`."""
    parts, _ = _partials(darr, axis)
    return np.float64(math.sqrt(_var(parts, ddof)))


def stats(darr: Any, axis: Any = None, ddof: int = 0) -> dict:
    """``{count, sum, mean, min, max, std}`` from one pass over the chunks."""
    parts, dtype = _partials(darr, axis)
    n = _count(parts)
    empty = n == 0
    return {
        "count": n,
        "sum": _sum(parts, dtype),
        "mean": _mean(parts),
        "min": None if empty else _extreme(parts, "min"),
        "max": None if empty else _extreme(parts, "max"),
        "std": np.float64(math.sqrt(_var(parts, ddof))),
    }
