"""numpy interop: zero-copy buffers, their lifetime, basic indexing, item assignment."""

from __future__ import annotations

import gc
import itertools

import numpy as np
import pytest

import mmarray as mm
from conftest import DTYPES, sample


def _file(tmp, ref, name="a.npy"):
    p = tmp / name
    np.save(p, ref)
    return p


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_asarray_is_zero_copy_and_keeps_byte_order(tmp, dtype):
    ref = sample(dtype, (4, 3), seed=1)
    p = _file(tmp, ref)
    with mm.open(p) as a:
        nd = np.asarray(a)
        assert nd.dtype == dtype  # '>f8' stays '>f8'
        assert not nd.flags.writeable and not nd.flags.owndata
        assert np.shares_memory(nd, np.asarray(a))
        np.testing.assert_array_equal(nd, ref)
        c = a.to_numpy()
        assert c.flags.owndata and c.flags.writeable and c.dtype == dtype
        np.testing.assert_array_equal(c, ref)
        assert not np.shares_memory(c, nd)
        assert np.array(a, copy=True).flags.owndata
        with pytest.raises(ValueError):
            a.__array__(dtype="f4" if dtype != np.float32 else "f8", copy=False)


def test_writable_modes_give_writable_arrays_that_write_the_file(tmp):
    p = _file(tmp, np.zeros(5))
    with mm.open(p, "r+") as a:
        nd = np.asarray(a)
        assert nd.flags.writeable
        nd[2] = 4.5
        a.flush()
    assert np.load(p)[2] == 4.5


def test_ndarrays_outlive_close_and_the_array(tmp):
    ref = np.arange(1 << 16, dtype="f8")
    p = _file(tmp, ref)
    a = mm.open(p)
    nd = np.asarray(a[::2])
    view = a[100:]
    a.close()
    del a
    gc.collect()
    assert view.closed
    np.testing.assert_array_equal(nd, ref[::2])  # the mapping is still there
    assert float(nd.sum()) == float(ref[::2].sum())
    # The read-only mapping lives on, so this process may not map the file writable.
    with pytest.raises(ValueError, match="already mapped"):
        mm.open(p, "r+")
    q = _file(tmp, ref, "w.npy")
    w = mm.open(q, "r+")
    wn = np.asarray(w)
    w.close()
    wn[0] = 7.0  # still mapped, still shared with the file
    del wn
    gc.collect()
    assert np.load(q)[0] == 7.0
    del nd
    gc.collect()
    mm.open(p, "r+").close()  # the last mapping of p is gone


def _keys(shape):
    n0 = shape[0]
    ints = [0, -1, n0 - 1, 1]
    slices = [slice(None), slice(None, None, -1), slice(1, -1), slice(None, None, 2),
              slice(-2, None), slice(5, 1, -2), slice(3, 3), slice(-100, 100, 3)]
    keys = []
    for a, b in itertools.product(ints + slices, ints[:2] + slices[:4]):
        keys.append((a, b))
    keys += [Ellipsis, (Ellipsis, 0), (0, Ellipsis), (None, 1), (slice(None), None, 0),
             (Ellipsis, None), (), 1, slice(None, None, -3), (-1, Ellipsis, -1),
             (None, Ellipsis, None), np.int64(1), (np.int32(-2), slice(np.int8(1), None))]
    return keys


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["<f8", ">i2", "<c8", "|b1"])
def test_views_match_numpy_basic_indexing(tmp, dtype, order):
    ref = sample(np.dtype(dtype), (6, 5), seed=2)
    ref = np.asfortranarray(ref) if order == "F" else ref
    p = _file(tmp, ref)
    with mm.open(p) as a:
        m = np.load(p, mmap_mode="r")
        for key in _keys(ref.shape):
            got = a[key]
            want = m[key]
            if isinstance(want, np.ndarray):
                assert isinstance(got, mm.Array), key
                assert got.shape == want.shape and got.strides == want.strides, key
                np.testing.assert_array_equal(np.asarray(got), want)
                assert np.shares_memory(np.asarray(got), np.asarray(a)) or want.size == 0
                if want.ndim:
                    # views of views
                    sub = got[::-1]
                    np.testing.assert_array_equal(np.asarray(sub), want[::-1])
            else:
                assert not isinstance(got, mm.Array), key
                assert type(got) is type(want) and (got == want or (got != got and want != want)), key


@pytest.mark.parametrize("suffix", [".npy", ".zarr"])
def test_huge_steps_take_one_element_as_numpy(tmp, suffix):
    ref = np.arange(15.0).reshape(5, 3)
    with mm.create(tmp / f"h{suffix}", "f8", (5, 3)) as a:
        a[...] = ref
        for key in [slice(None, None, 2**61), (0, slice(None, None, 2**60)),
                    slice(None, None, -(2**62)), (slice(1, None, 2**63 - 1), slice(2, None, 2**62))]:
            want = ref[key]
            got = a[key]
            assert got.shape == want.shape, key
            np.testing.assert_array_equal(got.to_numpy(), want)
        a[::2**62] = -1.0
        a[1, ::-(2**61)] = -2.0
    expect = ref.copy()
    expect[0] = -1.0
    expect[1, -1] = -2.0
    with mm.open(tmp / f"h{suffix}") as b:
        np.testing.assert_array_equal(b.to_numpy(), expect)


def test_indexing_errors(tmp):
    p = _file(tmp, np.zeros((3, 4)))
    a = mm.open(p)
    for key in [[0, 1], np.array([0, 1]), np.array([True, False, True]), True, (0, [1]),
                (np.zeros(4, bool),)]:
        with pytest.raises(IndexError, match="advanced indexing"):
            a[key]
    for key in [3, -4, (0, 4), (0, -5)]:
        with pytest.raises(IndexError, match="out of bounds"):
            a[key]
    with pytest.raises(IndexError, match="too many indices"):
        a[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        a[..., ...]
    with pytest.raises(IndexError):
        a[1.5]
    with pytest.raises(IndexError):
        a["x"]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        a[::0]
    with pytest.raises(TypeError):
        a[1.5:]


def test_len_and_iteration(tmp):
    ref = np.arange(12).reshape(3, 4)
    p = _file(tmp, ref)
    a = mm.open(p)
    assert len(a) == 3 and len(a[0]) == 4
    assert [np.asarray(r).tolist() for r in a] == ref.tolist()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_setitem_casts_as_numpy(tmp, dtype):
    ref = np.zeros((4, 5), dtype=dtype)
    p = _file(tmp, ref)
    values = [3, 2.5, -1, True, 1 + 2j if dtype.kind == "c" else 7, np.float32(1.25)]
    with mm.open(p, "r+") as a:
        want = ref.copy()
        for i, v in enumerate(values):
            key = (i % 4, slice(None, None, -2))
            with np.errstate(all="ignore"), _quiet():
                try:
                    want[key] = v
                except (OverflowError, TypeError, ValueError) as e:
                    with pytest.raises(type(e)):
                        a[key] = v
                    continue
                a[key] = v
        a[1:3, 1] = np.array([9, 8])
        want[1:3, 1] = np.array([9, 8])
        a[..., -1] = a[..., 0]
        want[..., -1] = want[..., 0]
        np.testing.assert_array_equal(np.asarray(a), want)
    np.testing.assert_array_equal(np.load(p), want)


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *e):
        return self._w.__exit__(*e)


def test_setitem_errors(tmp):
    p = _file(tmp, np.zeros(4, dtype="u1"))
    a = mm.open(p)
    with pytest.raises(ValueError, match="array is read-only"):
        a[0] = 1
    with pytest.raises(ValueError, match="array is read-only"):
        a.fill(1)
    with pytest.raises(ValueError, match="array is read-only"):
        a.random(seed=1)
    a.close()
    b = mm.open(p, "r+")
    with pytest.raises(OverflowError):
        b[0] = 300
    with pytest.raises(OverflowError):
        b.fill(-1)
    with pytest.raises(ValueError):
        b[:] = [1, 2, 3]  # does not broadcast
    b[0] = 2.9  # numpy 2: truncated to 2
    assert b[0] == 2
    assert np.load(p).tolist() == [2, 0, 0, 0]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_fill_casts_as_numpy_setitem(tmp, dtype):
    p = _file(tmp, np.zeros((3, 7), dtype=dtype))
    with mm.open(p, "r+") as a, _quiet():
        for v in [1, 2.75, -3, True, 1e30, float("nan")]:
            want = np.zeros((3, 7), dtype=dtype)
            try:
                with np.errstate(all="ignore"):
                    want[::2, 1::3] = v
            except (OverflowError, ValueError) as e:
                with pytest.raises(type(e)):
                    a[::2, 1::3].fill(v)
                continue
            a.fill(0)
            a[::2, 1::3].fill(v, threads=2)
            assert np.asarray(a).tobytes() == want.tobytes(), v
