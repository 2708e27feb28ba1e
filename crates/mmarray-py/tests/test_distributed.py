"""Pickling by reference, multiprocessing, dask tokens, to_dask and mmarray.dask
(of .npy files and Zarr stores)."""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
from fractions import Fraction

import numpy as np
import pytest

import mmarray as mm
from conftest import need, sample


def _stats_in_child(a):
    # Runs in another process: `a` arrives by reference and reopens the file there.
    return a.path.name, a.mode, a.shape, a.stats(), float(np.asarray(a).sum())


def test_pickle_is_a_reference_and_round_trips(tmp):
    p = tmp / "p.npy"
    np.save(p, sample(np.dtype(">f8"), (400, 300), seed=1))
    with mm.open(p) as a:
        blob = pickle.dumps(a)
        assert len(blob) < 2000  # a reference, not 960 kB of data
        b = pickle.loads(blob)
        assert b.path == a.path and b.mode == "r" and b.dtype == a.dtype
        assert b.sum() == a.sum()
        v = pickle.loads(pickle.dumps(a[::-3, 7]))
        assert v.shape == a[::-3, 7].shape and v.sum() == a[::-3, 7].sum()
        w = mm.create(tmp / "w.npy", "i2", 4, fill=3)
        wb = pickle.dumps(w)
        # One process maps a file writable once (mmarray-core's rule): close first.
        with pytest.raises(ValueError, match="already mapped"):
            pickle.loads(wb)
        w.close()
        w2 = pickle.loads(wb)
        assert w2.mode == "r+"  # a w+ array reopens r+
        w2.close()
        raw = mm.open(p, dtype="u1", offset=128, shape=(10, 7))
        r2 = pickle.loads(pickle.dumps(raw[2:]))
        assert np.asarray(r2).tobytes() == np.asarray(raw[2:]).tobytes()


def test_unpickling_a_changed_file_raises(tmp):
    p = tmp / "c.npy"
    np.save(p, np.arange(10.0))
    a = mm.open(p)
    blob = pickle.dumps(a)
    a.close()
    np.save(p, np.arange(11.0))
    with pytest.raises(ValueError, match="changed since the array was pickled"):
        pickle.loads(blob)
    os.remove(p)
    with pytest.raises(FileNotFoundError):
        pickle.loads(blob)


def test_pickles_cross_processes(tmp):
    p = tmp / "mp.npy"
    ref = sample(np.dtype("<f4"), (1000, 50), seed=2)
    np.save(p, ref)
    with mm.open(p) as a:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(2) as pool:
            out = pool.map(_stats_in_child, [a, a[10:], a[::2, 3]])
        for got, x in zip(out, [a, a[10:], a[::2, 3]]):
            assert got[0] == "mp.npy" and got[1] == "r" and got[2] == x.shape
            assert got[3] == x.stats()
            assert got[4] == float(np.asarray(x).sum())


def test_dask_tokenize_uses_the_reference(tmp):
    need("dask")
    from dask.base import tokenize

    p = tmp / "t.npy"
    np.save(p, np.zeros(1000))
    a = mm.open(p)
    assert tokenize(a) == tokenize(mm.open(p)) and tokenize(a) != tokenize(a[1:])
    assert a.__dask_tokenize__()[1] == str(p)
    old = tokenize(a)
    a.close()
    np.save(p, np.ones(1000))  # new content, new mtime: a new token
    assert tokenize(mm.open(p)) != old


def test_to_dask_and_exact_dask_reductions(tmp):
    need("dask", "'dask[array]'")
    import dask.array as da

    p = tmp / "d.npy"
    ref = sample(np.dtype(">f8"), (600, 70), seed=3) * 1e6 + 1e10
    np.save(p, ref)
    with mm.open(p) as a:
        d = mm.to_dask(a, chunks=(128, 70))
        assert d.shape == a.shape and d.dtype == a.dtype
        np.testing.assert_array_equal(d.compute(), ref)
        assert d.name.startswith("mmarray-")
        results = [mm.dask.stats(mm.to_dask(a, chunks=c)) for c in [(600, 70), (128, 70), (7, 13)]]
        results.append(mm.dask.stats(da.from_array(ref, chunks=(50, 50))))
        for r in results[1:]:
            assert r == results[0]  # the same bits for any chunking
        local = a.stats()
        for k in ("sum", "mean", "std"):
            np.testing.assert_allclose(results[0][k], local[k], rtol=1e-12)
        assert results[0]["min"] == local["min"] and results[0]["max"] == local["max"]
        assert results[0]["count"] == local["count"]
        exact_sum = float(sum(Fraction(float(v)) for v in ref.ravel()))
        assert results[0]["sum"] == exact_sum
        for op in ("sum", "mean", "min", "max", "var", "std"):
            x = getattr(mm.dask, op)(mm.to_dask(a, chunks=(99, 31)))
            y = getattr(mm.dask, op)(mm.to_dask(a, chunks=(600, 1)))
            assert x == y, op
        ints = da.from_array(np.arange(-50, 1000, dtype="i2"), chunks=77)
        assert mm.dask.sum(ints) == np.int64(np.arange(-50, 1000).sum())
        assert mm.dask.var(ints, ddof=1) == np.float64(np.arange(-50, 1000).var(ddof=1))
        for bad, exc in [(-1, ValueError), (1.5, TypeError), (True, TypeError)]:
            with pytest.raises(exc, match="ddof"):  # as in-process
                mm.dask.var(ints, ddof=bad)
            with pytest.raises(exc, match="ddof"):
                a.var(ddof=bad)
        with pytest.raises(NotImplementedError):
            mm.dask.sum(d, axis=0)
        with pytest.raises(TypeError):
            mm.dask.sum(ref)


def _exact_var(values, ddof=0):
    xs = [Fraction(float(v)) for v in values]
    mean = sum(xs, Fraction(0)) / len(xs)
    return sum(((x - mean) ** 2 for x in xs), Fraction(0)) / (len(xs) - ddof)


def _rounded(x):
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


@pytest.mark.parametrize(
    "values",
    [
        [1e200] * 3,  # squares past the float range
        [1e308, 1e308, -1e308],  # a running sum past it, an exact sum within it
        [1e300, -3e299, 7.5, 1e-300, 5e-324, -1e154],
        [5e-324, 0.0, 1e-310, -2.5e-320],  # subnormals: squares below the smallest float
        [2.0**1000, 2.0**-1000, 3.0],
    ],
)
def test_exact_dask_reductions_of_huge_and_tiny_values(values):
    need("dask", "'dask[array]'")
    import dask.array as da

    arr = np.array(values)
    exact_sum = sum((Fraction(v) for v in values), Fraction(0))
    for chunks in (1, 2, len(values)):
        d = da.from_array(arr, chunks=chunks)
        assert mm.dask.sum(d) == _rounded(exact_sum)
        assert mm.dask.mean(d) == _rounded(exact_sum / len(values))
        assert mm.dask.var(d) == _rounded(_exact_var(values))
        assert mm.dask.var(d, ddof=1) == _rounded(_exact_var(values, 1))
        assert mm.dask.stats(d)["sum"] == mm.dask.sum(d)


def test_exact_partials_stay_short_for_values_whose_squares_overflow():
    # Squares past the float range once made every value add two partials (NaN
    # error terms), so a chunk took time quadratic in its length.
    from mmarray import _native

    for x in (1e300, -1.7e308, 1e-300, 5e-324, 3.0):
        count, nan, posinf, neginf, s, sq = _native.exact_partials(np.full(30_000, x))
        assert (count, nan, posinf, neginf) == (30_000, 0, 0, 0)
        assert all(len(p) <= 4 for _, p in s + sq), (x, s, sq)
        total = sum((Fraction(v) * Fraction(2) ** k for k, p in s for v in p), Fraction(0))
        squares = sum((Fraction(v) * Fraction(2) ** k for k, p in sq for v in p), Fraction(0))
        assert total == 30_000 * Fraction(x) and squares == 30_000 * Fraction(x) ** 2


def test_dask_distributed_cluster_computes_the_same_stats(tmp):
    need("distributed")
    from distributed import Client, LocalCluster

    p = tmp / "c.npy"
    with mm.create(p, "f4", (2000, 300), fill="normal", seed=4) as a:
        local = a.stats()
        one_worker = mm.dask.stats(mm.to_dask(a, chunks=(2000, 300)))
    a = mm.open(p)
    # The same data in a Zarr store (chunks unlike dask's): its tasks open the store.
    with mm.create(tmp / "c.zarr", "f4", (2000, 300), chunks=(300, 128), shards=(2, 1)) as z:
        z[...] = a
    z = mm.open(tmp / "c.zarr")
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster):
        d = mm.to_dask(a, chunks=(250, 300))
        remote = mm.dask.stats(d)
        total = d.sum().compute()
        remote_zarr = mm.dask.stats(mm.to_dask(z, chunks=(170, 300)))
    assert remote == one_worker
    assert remote_zarr == remote
    assert z.stats() == local
    assert remote["count"] == local["count"]
    assert remote["min"] == local["min"] and remote["max"] == local["max"]
    for k in ("sum", "mean", "std"):
        np.testing.assert_allclose(remote[k], local[k], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(total, local["sum"], rtol=1e-5)
