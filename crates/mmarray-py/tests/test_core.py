"""Opening, creating, attributes, repr, closing, errors and bad arguments."""

from __future__ import annotations

import errno
import os
import pathlib
import warnings

import numpy as np
import pytest

import mmarray as mm
from conftest import DTYPES, sample


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("order", ["C", "F"])
def test_open_npy_written_by_numpy(tmp, dtype, order):
    ref = sample(dtype, (3, 4), seed=1)
    ref = np.asfortranarray(ref) if order == "F" else ref
    p = tmp / "a.npy"
    np.save(p, ref)
    with mm.open(p) as a:
        m = np.load(p, mmap_mode="r")
        assert a.shape == m.shape == (3, 4)
        assert a.dtype == m.dtype and a.dtype.str == dtype.str
        assert (a.ndim, a.size, a.itemsize, a.nbytes) == (m.ndim, m.size, m.itemsize, m.nbytes)
        assert a.strides == m.strides
        assert a.order == order
        assert a.path == pathlib.Path(p) and a.mode == "r" and a.format == "npy"
        assert a.offset == m.offset
        assert len(a) == 3
        assert not a.closed
        np.testing.assert_array_equal(np.asarray(a), ref)
        assert repr(a) == repr(m)
    assert a.closed


def test_repr_matches_numpy_memmap(tmp):
    for dtype, shape in [("f8", (2, 3)), ("i2", (1100,)), (">f4", (5,)), ("?", (2, 2)), ("c8", (3,))]:
        p = tmp / f"r{dtype.replace('>', 'b')}.npy"
        np.save(p, sample(np.dtype(dtype), shape, seed=2))
        with mm.open(p) as a:
            m = np.load(p, mmap_mode="r")
            assert repr(a) == repr(m)
            assert repr(a[::-2]) == repr(m[::-2])


def test_raw_files_as_numpy_memmap(tmp):
    p = tmp / "raw.dat"
    data = np.arange(24, dtype=">i4")
    p.write_bytes(b"\0" * 16 + data.tobytes())
    a = mm.open(p, dtype=">i4", offset=16)
    assert a.format == "raw" and a.shape == (24,) and a.offset == 16
    np.testing.assert_array_equal(np.asarray(a), np.memmap(p, dtype=">i4", mode="r", offset=16))
    b = mm.open(p, dtype=">i4", shape=(4, 6), offset=16, order="F")
    m = np.memmap(p, dtype=">i4", mode="r", shape=(4, 6), offset=16, order="F")
    np.testing.assert_array_equal(np.asarray(b), m)
    assert b.strides == m.strides and b.order == "F"
    with pytest.raises(ValueError):
        mm.open(p, dtype="f8", offset=3)  # 96 - 3 bytes is no whole number of items


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_create_npy_is_numpy_loadable(tmp, dtype):
    p = tmp / "c.npy"
    a = mm.create(p, dtype, (2, 5), order="F")
    assert a.mode == "w+" and a.dtype == dtype and a.order == "F"
    ref = sample(dtype, (2, 5), seed=3)
    a[...] = ref
    a.close()
    back = np.load(p)
    assert back.dtype == dtype and back.flags.f_contiguous
    np.testing.assert_array_equal(back, ref)


def test_create_raw_fill_and_random(tmp):
    a = mm.create(tmp / "x.bin", "u2", (3, 3), fill=7)
    assert a.format == "raw" and a.offset == 0
    assert np.asarray(a).tolist() == [[7] * 3] * 3
    b = mm.create(tmp / "n.npy", "f4", (1000,), fill="normal", seed=5)
    c = mm.create(tmp / "m.npy", "f4", (1000,), fill="normal", seed=5)
    assert np.asarray(b).tobytes() == np.asarray(c).tobytes()
    assert abs(float(np.asarray(b).mean())) < 0.2
    with pytest.raises(ValueError):
        mm.create(tmp / "q.npy", "f4", (3,), fill="cauchy")
    with pytest.raises(OverflowError):
        mm.create(tmp / "o.npy", "u1", (3,), fill=300)
    assert not (tmp / "o.npy").exists()


def test_create_refuses_existing_unless_overwrite(tmp):
    p = tmp / "e.npy"
    mm.create(p, "f8", 3, fill=1).close()
    with pytest.raises(FileExistsError) as e:
        mm.create(p, "f8", 4)
    assert e.value.filename == str(p) and e.value.errno == errno.EEXIST
    assert np.load(p).tolist() == [1.0, 1.0, 1.0]
    mm.create(p, "i2", 2, overwrite=True).close()
    assert np.load(p).dtype == np.int16


@pytest.mark.parametrize("name", ["old.npy", "old.raw", "old.zarr"])
@pytest.mark.parametrize(
    "seed, exc", [(-1, ValueError), (2**64, ValueError), (1.5, TypeError), ("1", TypeError)]
)
def test_a_create_over_an_old_file_that_fails_leaves_the_old_file(tmp, name, seed, exc):
    p = tmp / name
    with mm.create(p, "f8", (3,), fill=7.0) as a:
        pass
    before = sorted(q.name for q in tmp.rglob("*"))
    with pytest.raises(exc, match="seed"):
        mm.create(p, "f8", (5,), overwrite=True, fill="normal", seed=seed)
    assert sorted(q.name for q in tmp.rglob("*")) == before
    dt = {"dtype": "f8"} if name.endswith(".raw") else {}
    with mm.open(p, **dt) as a:
        assert a.shape == (3,) and a.to_numpy().tolist() == [7.0] * 3


def test_a_create_over_an_old_file_appears_whole_once_filled(tmp):
    p = tmp / "swap.npy"
    np.save(p, np.arange(4.0))
    a = mm.create(p, "f4", (6,), overwrite=True, fill="uniform", seed=3)
    # In place: the new file, filled, under the name, and still writable.
    assert np.load(p).dtype == np.float32 and np.load(p).tolist() == a.to_numpy().tolist()
    a[0] = 5.0
    a.close()
    assert np.load(p)[0] == 5.0
    assert sorted(q.name for q in tmp.iterdir()) == ["swap.npy"]


def test_close_is_idempotent_and_final(tmp):
    a = mm.create(tmp / "z.npy", "f8", (4, 4), fill=2.0)
    v = a[1:]
    a.close()
    a.close()
    v.close()
    assert a.closed and v.closed
    assert "closed" in repr(a) and a.path.name == "z.npy"
    ops = [
        lambda: a.shape, lambda: a.dtype, lambda: a.sum(), lambda: a.stats(), lambda: a[0],
        lambda: a.fill(1), lambda: np.asarray(a), lambda: a.to_numpy(), lambda: len(a),
        lambda: v.sum(), lambda: v[0], lambda: a.flush(), lambda: a.mode, lambda: a.offset,
        lambda: a.astype("f4", tmp / "w.npy"), lambda: a.append(1), lambda: mm.sum(a),
        lambda: a.__setitem__(0, 1), lambda: a.random(seed=1), lambda: a.byteswap_inplace(),
        lambda: a.__reduce__(),
    ]
    for op in ops:
        with pytest.raises(ValueError, match="operation on a closed array"):
            op()
    with pytest.raises(ValueError, match="closed"):
        with a:
            pass


def test_context_manager_closes(tmp):
    with mm.create(tmp / "cm.npy", "i4", 3) as a:
        a[:] = [1, 2, 3]
    assert a.closed
    assert np.load(tmp / "cm.npy").tolist() == [1, 2, 3]


def test_mode_c_writes_never_reach_the_file(tmp):
    p = tmp / "c.npy"
    np.save(p, np.zeros(4))
    with mm.open(p, "c") as a:
        a[0] = 5
        a.fill(3, threads=1)
        assert np.asarray(a).tolist() == [3.0] * 4
    assert np.load(p).tolist() == [0.0] * 4


def test_mode_r_plus_writes_reach_the_file(tmp):
    p = tmp / "rp.npy"
    np.save(p, np.zeros(4, dtype=">i8"))
    with mm.open(p, "r+") as a:
        a[1:3] = 9
        a.flush()
        assert np.load(p).tolist() == [0, 9, 9, 0]


def test_errors_have_the_right_types(tmp):
    with pytest.raises(FileNotFoundError) as e:
        mm.open(tmp / "missing.npy")
    assert e.value.filename == str(tmp / "missing.npy") and e.value.errno == errno.ENOENT
    with pytest.raises(IsADirectoryError) as e:
        mm.open(tmp)
    assert e.value.filename == str(tmp)
    with pytest.raises(IsADirectoryError):
        mm.create(tmp, "f8", 3)
    p = tmp / "ro.npy"
    np.save(p, np.zeros(3))
    os.chmod(p, 0o444)
    if os.geteuid() != 0:
        with pytest.raises(PermissionError) as e:
            mm.open(p, "r+")
        assert e.value.filename == str(p)
    else:
        # root may write anything: the read-only file opens, and numpy agrees.
        mm.open(p, "r+").close()
    q = tmp / "junk.npy"
    q.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': 'xx'}  \n")
    with pytest.raises(ValueError, match="junk.npy"):
        mm.open(q)
    (tmp / "plain.txt").write_text("hello")
    with pytest.raises(ValueError, match="plain.txt"):
        mm.open(tmp / "plain.txt")


def test_bad_arguments(tmp):
    p = tmp / "b.npy"
    np.save(p, np.arange(6.0).reshape(2, 3))
    a = mm.open(p)
    with pytest.raises(TypeError):
        mm.open(42)
    with pytest.raises(ValueError):
        mm.open(p, "w")
    with pytest.raises(ValueError):
        mm.open(p, "w+")
    with pytest.raises(TypeError):
        mm.open(p, 3)
    with pytest.raises(ValueError):
        mm.open(p, dtype="U3")
    with pytest.raises(ValueError):
        mm.open(p, dtype="nonsense")
    with pytest.raises(ValueError):
        mm.open(p, order="K")
    with pytest.raises(ValueError):
        mm.create(tmp / "n.npy", "f8", (-1, 2))
    with pytest.raises(TypeError):
        mm.create(tmp / "n.npy", "f8", "3")
    with pytest.raises(ValueError):
        mm.create(tmp / "n.npy", "object", 3)
    with pytest.raises(ValueError):
        mm.create(tmp / "n.npy", "f16", 3)  # numpy's f16 is longdouble
    with pytest.raises(TypeError):
        a.sum(axis="0")
    with pytest.raises(np.exceptions.AxisError):
        a.sum(axis=2)
    with pytest.raises(ValueError):
        a.sum(threads=0)
    with pytest.raises(TypeError):
        a.sum(threads=1.5)
    with pytest.raises(TypeError):
        a.var(ddof="x")
    with pytest.raises(ValueError):
        a.var(ddof=-1)
    with pytest.raises(TypeError):
        mm.Array()
    with pytest.raises(TypeError):
        mm.sum(object())
    with pytest.raises(TypeError):
        mm.sum(np.array(["a", "b"]))
    with pytest.raises(ValueError):
        mm.open(p, member="x")
    with pytest.raises(TypeError):
        len(mm.create(tmp / "zero.npy", "f8", ()))


def test_append_grows_in_place(tmp):
    p = tmp / "g.npy"
    a = mm.create(p, ">i2", (2, 3))
    a[...] = [[1, 2, 3], [4, 5, 6]]
    v = a[0]
    a.append(2, fill=-7)
    assert a.shape == (4, 3) and len(a) == 4
    assert np.load(p).tolist() == [[1, 2, 3], [4, 5, 6], [-7] * 3, [-7] * 3]
    assert np.load(p).dtype == np.dtype(">i2")
    assert v.sum() == 6
    nd = np.asarray(a)
    with pytest.raises(ValueError, match="numpy arrays"):
        a.append(1)
    del nd
    a.append(1)
    assert a.shape == (5, 3)
    f = mm.create(tmp / "f.npy", "f4", (2, 2), order="F")
    f.append(3, fill=1.5)
    assert np.load(tmp / "f.npy").shape == (2, 5)
    with pytest.raises(ValueError):
        mm.open(p).append(1)
    with pytest.raises(ValueError):
        mm.open(p, "c").append(1)


@pytest.mark.parametrize("dtype", ["<f8", ">f8", "<i4", ">u2", "<c8", "<f2"])
def test_byteswap_inplace_keeps_values(tmp, dtype):
    p = tmp / "s.npy"
    ref = sample(np.dtype(dtype), (3, 5), seed=9)
    np.save(p, ref)
    with mm.open(p, "r+") as a:
        with pytest.raises(ValueError, match="not on a view"):
            a[1:].byteswap_inplace()
        assert np.load(p).tobytes() == ref.tobytes()
        a.byteswap_inplace()
        other = np.dtype(dtype).newbyteorder()
        assert a.dtype == other
        np.testing.assert_array_equal(np.asarray(a), ref)
        assert a.sum() == mm.sum(ref)
    back = np.load(p)
    assert back.dtype == other
    np.testing.assert_array_equal(back, ref)
    assert back.tobytes() == ref.astype(other).tobytes()


@pytest.mark.parametrize("src", ["<f8", ">i4", "<u1", "<c16"])
@pytest.mark.parametrize("dst", ["float32", ">f8", "int16", "bool", "complex64"])
def test_astype_matches_numpy(tmp, src, dst):
    ref = sample(np.dtype(src), (4, 6), seed=4)
    p = tmp / "src.npy"
    np.save(p, ref)
    with mm.open(p) as a:
        b = a.astype(dst, tmp / "dst.npy")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # complex -> real casts warn in numpy
            want = ref.astype(dst)
        assert b.dtype == np.dtype(dst)
        assert np.asarray(b).tobytes() == want.tobytes()
        b.close()
    with pytest.raises(FileExistsError):
        mm.open(p).astype("f4", tmp / "dst.npy")
    r = mm.open(p).astype("i8", tmp / "dst.raw", byte_order="big")
    assert r.format == "raw" and r.dtype == np.dtype(">i8")
