"""`.npz` archives: members opened by name, mapped when stored, written in place."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

import mmarray as mm


def test_members_open_by_name(tmp):
    p = tmp / "a.npz"
    x, y = np.arange(12.0).reshape(3, 4), np.arange(5, dtype=">i2")
    np.savez(p, x=x, y=y)
    with mm.open(p, member="x") as a:
        assert a.format == "npz" and a.shape == (3, 4) and a.dtype == x.dtype
        assert isinstance(a.offset, int)
        np.testing.assert_array_equal(np.asarray(a), x)
        assert a.sum() == x.sum() and a[1, ::-1].max() == 7.0
        b = pickle.loads(pickle.dumps(a[1:]))
        assert b.sum() == x[1:].sum()
    with mm.open(p, member="y") as b:
        assert b.dtype == np.dtype(">i2") and b.sum() == 10
    with pytest.raises(KeyError, match="z"):
        mm.open(p, member="z")
    with pytest.raises(ValueError, match="x, y"):
        mm.open(p)  # several members: choose one
    with pytest.raises(TypeError):
        mm.open(p, member=3)
    one = tmp / "one.npz"
    np.savez(one, x)
    assert mm.open(one).shape == (3, 4)  # an archive of one member opens it
    with pytest.raises(ValueError):
        mm.open(tmp / "one.npz", member="arr_0", dtype="f8")


def test_stored_members_are_written_in_place_with_a_valid_crc(tmp):
    p = tmp / "w.npz"
    np.savez(p, w=np.zeros((4, 4), dtype="f4"), b=np.ones(3))
    with mm.open(p, "r+", member="w") as a:
        a[::2] = 1.5
        a.random("uniform", seed=3, threads=2)
        a[0, 0] = -1
        want = np.asarray(a).copy()
    with zipfile.ZipFile(p) as z:
        assert z.testzip() is None  # every CRC checks
    with np.load(p) as f:
        np.testing.assert_array_equal(f["w"], want)
        np.testing.assert_array_equal(f["b"], np.ones(3))


def test_compressed_members_read_only(tmp):
    p = tmp / "c.npz"
    x = np.arange(1000, dtype="u2")
    np.savez_compressed(p, x=x)
    with mm.open(p) as a:
        assert a.offset is None and a.format == "npz"
        assert a.sum() == x.sum() and a.stats()["max"] == 999
        np.testing.assert_array_equal(a.to_numpy(), x)
    with pytest.raises(ValueError, match="compressed"):
        mm.open(p, "r+")
    with mm.open(p) as a, pytest.raises(ValueError, match="a compressed .npz member is not one"):
        a.__array__(copy=False)


def test_compressed_members_are_read_as_chunks_without_a_temporary_file(tmp, monkeypatch):
    # 700 x 900 float64, big-endian, F order: 5 MB, two ~4 MiB chunks of the stream.
    p = tmp / "big.npz"
    x = np.asfortranarray(np.random.default_rng(1).standard_normal((700, 900)).astype(">f8"))
    np.savez_compressed(p, x=x, y=np.arange(3))
    monkeypatch.setenv("TMPDIR", str(tmp / "missing"))
    with mm.open(p, member="x") as a:
        assert a.format == "npz" and a.offset is None
        assert a.dtype == x.dtype and a.shape == x.shape
        np.testing.assert_array_equal(np.asarray(a[::-3, 5:9]), x[::-3, 5:9])
        np.testing.assert_array_equal(a.to_numpy(), x)
        assert not np.shares_memory(np.asarray(a), np.asarray(a))  # copies
        assert a.max() == x.max() and a[-1, -1] == x[-1, -1]
        np.testing.assert_allclose(a.sum(), x.sum(), rtol=1e-12)
        np.testing.assert_allclose(a.mean(axis=0), x.mean(axis=0), rtol=1e-12)
        b = pickle.loads(pickle.dumps(a[10:20]))
        np.testing.assert_array_equal(np.asarray(b), x[10:20])
    # Copy-on-write needs one mapping: the member is inflated into a temporary
    # file, which cannot be made here.
    with pytest.raises(OSError):
        mm.open(p, "c", member="x")
