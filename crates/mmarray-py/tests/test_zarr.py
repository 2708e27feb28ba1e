"""Zarr stores as mmarray.Array: stores written by zarr-python (v3 with zstd,
blosc and sharding, v2) read like numpy reads the same data, stores written by
mmarray read by zarr-python, writes in place, random fills equal to a .npy's,
copies where numpy needs memory, closed stores and hostile stores."""

from __future__ import annotations

import json
import os
import pickle
import shutil

import numpy as np
import pytest

import mmarray as mm
from conftest import need, sample

SHAPE = (13, 17)
CHUNKS = (4, 5)
# Every kind, and big-endian chunks for a few.
KINDS = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16",
         ">i4", ">f8", ">c16"]
OPS = ["sum", "mean", "min", "max", "argmin", "argmax", "var", "std"]


def _zarr():
    return need("zarr", "'zarr==3.1.6'")


def write_store(path, x: np.ndarray, layout: str):
    """``x`` written by zarr-python as ``layout``."""
    zarr = _zarr()
    from zarr.codecs import BloscCodec, BytesCodec, ZstdCodec

    big = x.dtype.byteorder == ">"
    if layout.startswith("v2"):
        z = zarr.create_array(path, shape=x.shape, chunks=CHUNKS, dtype=x.dtype, zarr_format=2,
                              order="F" if layout == "v2-F" else "C", fill_value=0)
    else:
        serializer = BytesCodec(endian="big" if big else "little")
        compressors = {
            "zstd": [ZstdCodec(level=3)],
            "blosc": [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")],
            "shard": [ZstdCodec(level=1)],
            "none": None,
        }[layout]
        z = zarr.create_array(path, shape=x.shape, chunks=CHUNKS, dtype=x.dtype.newbyteorder("="),
                              serializer=serializer, compressors=compressors, fill_value=0,
                              shards=(8, 10) if layout == "shard" else None)
    z[...] = x
    return path


def npy_twin(tmp, x, order="C"):
    """The same data in a .npy of ``order``: a store walked in that order (its
    chunks' order) gives the same bits as that file."""
    p = tmp / "twin.npy"
    np.save(p, np.asfortranarray(x) if order == "F" else x)
    return mm.open(p)


# Every kind through the compressed v3 layouts; a few through the others.
CASES = [(k, lay) for lay in ("zstd", "blosc", "shard") for k in KINDS] + [
    (k, lay) for lay in ("none", "v2", "v2-F") for k in ("i2", ">f8", "f4", "c16", "?", "u8")
]


@pytest.mark.parametrize("kind,layout", CASES)
def test_zarr_python_stores_read_like_numpy(tmp, kind, layout):
    dt = np.dtype(kind)
    x = sample(dt, SHAPE, seed=len(kind) + len(layout))
    a = mm.open(write_store(tmp / "a.zarr", x, layout))
    npy = npy_twin(tmp, x, a.order)
    assert a.format == "zarr" and a.offset is None and a.mode == "r"
    assert a.shape == x.shape and a.size == x.size and a.ndim == 2 and len(a) == 13
    assert a.dtype.kind == dt.kind and a.itemsize == dt.itemsize and a.nbytes == x.nbytes
    assert a.chunks == CHUNKS
    assert a.shards == ((8, 10) if layout == "shard" else None)
    if layout == "v2-F":
        assert a.order == "F"
    np.testing.assert_array_equal(np.asarray(a), x)
    assert a[3, 4] == x[3, 4] and type(a[3, 4]) is type(x[3, 4])
    assert a[-1, -2] == x[-1, -2]
    for key in [np.s_[1:10:2, ::-3], np.s_[..., 5], np.s_[7], np.s_[2:3, None, 4:9],
                np.s_[::-1, ::-1], np.s_[5:5], np.s_[:, 16]]:
        v = a[key]
        assert isinstance(v, mm.Array) and v.shape == x[key].shape
        np.testing.assert_array_equal(np.asarray(v), x[key])
        np.testing.assert_array_equal(a[key][...], x[key])
    # The same results as the same data in a .npy, bit for bit (argmin/argmax of
    # bool and min/max of empty views are left out by the CLI contract's rules).
    for key in [(), np.s_[1:10:2, ::-3], np.s_[..., 5]]:
        for op in OPS:
            assert_same(getattr(a[key], op)(), getattr(npy[key], op)(), op)
            assert_same(getattr(mm, op)(a[key]), getattr(npy[key], op)(), op)
        assert_same_stats(a[key].stats(), npy[key].stats())
        assert_same_stats(mm.stats(a[key]), npy[key].stats())
    # ... and numpy's results.
    if dt.kind in "iu":
        assert a.sum() == x.sum(dtype="u8" if dt.kind == "u" else "i8")
        assert a.min() == x.min() and a.max() == x.max()
        assert a.argmax() == x.argmax() and a.argmin() == x.argmin()
    elif dt.kind in "fc":
        np.testing.assert_allclose(a.sum(), x.astype("c16" if dt.kind == "c" else "f8").sum(),
                                   rtol=1e-6)
        np.testing.assert_allclose(a.std(), x.astype("c16" if dt.kind == "c" else "f8").std(),
                                   rtol=1e-6)


def assert_same(got, want, what=""):
    assert type(got) is type(want), what
    if isinstance(got, np.ndarray):
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), what
    else:
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), (what, got, want)


def assert_same_stats(got, want):
    assert got.keys() == want.keys()
    for k in got:
        assert_same(got[k], want[k], k)


def test_nan_handling_and_skipna_like_a_npy(tmp):
    x = sample(np.dtype("f4"), SHAPE, seed=5, nan=True)
    a = mm.open(write_store(tmp / "n.zarr", x, "zstd"))
    npy = npy_twin(tmp, x)
    for op in OPS:
        assert_same(getattr(a, op)(skipna=True), getattr(npy, op)(skipna=True), op)
    assert np.isnan(a.sum()) and np.isnan(a.max())
    assert_same_stats(a.stats(skipna=True), npy.stats(skipna=True))
    np.testing.assert_allclose(a.sum(skipna=True), np.nansum(x.astype("f8")), rtol=1e-6)


def test_asarray_copies_a_store(tmp):
    x = sample(np.dtype("i4"), SHAPE, seed=6)
    a = mm.open(write_store(tmp / "c.zarr", x, "zstd"), "r+")
    b = np.asarray(a)
    assert b.flags.owndata or b.base is not None
    assert b.flags.writeable and b.flags.c_contiguous
    b[0, 0] = 12345  # a copy: the store does not change
    assert a[0, 0] == x[0, 0]
    assert not np.shares_memory(np.asarray(a), np.asarray(a))
    with pytest.raises(ValueError, match="not one mapping"):
        np.asarray(a, copy=False)
    np.testing.assert_array_equal(np.asarray(a, dtype="f8"), x.astype("f8"))
    c = a[2:5].to_numpy()
    c[...] = 0
    np.testing.assert_array_equal(np.asarray(a), x)


def test_assignment_and_fills_write_a_v3_store(tmp):
    zarr = _zarr()
    x = sample(np.dtype(">f8"), SHAPE, seed=7)
    p = write_store(tmp / "w.zarr", x, "shard")
    want = x.copy()
    with mm.open(p, "r+") as a:
        assert a.mode == "r+"
        a[3, 4] = 2.5
        want[3, 4] = 2.5
        a[1:12:3, ::-2] = np.arange(9.0)
        want[1:12:3, ::-2] = np.arange(9.0)
        a[..., 0] = a[..., 16]  # an Array as the value
        want[..., 0] = want[..., 16]
        a[12].fill(-1)
        want[12] = -1
        a[:, 5:7].fill(np.float32(0.25))
        want[:, 5:7] = 0.25
        np.testing.assert_array_equal(np.asarray(a), want)
        a.flush()
    np.testing.assert_array_equal(zarr.open_array(p)[...], want)
    ints = write_store(tmp / "i.zarr", np.zeros(SHAPE, "u1"), "zstd")
    with mm.open(ints, "r+") as b:
        b[0, 0] = 2.9  # cast as numpy casts
        assert b[0, 0] == 2
        with pytest.raises(OverflowError):
            b[0, 1] = 300
        with pytest.raises(ValueError):
            b[0:2] = np.ones((3, 17))
        with pytest.raises(IndexError):
            b[[0, 1]] = 1
    assert zarr.open_array(ints)[0, 0] == 2 and zarr.open_array(ints)[0, 1] == 0


def test_read_only_stores_refuse_writes(tmp):
    x = sample(np.dtype("i2"), SHAPE, seed=8)
    p = write_store(tmp / "r.zarr", x, "zstd")
    v2 = write_store(tmp / "v2.zarr", x, "v2")
    before = {q: sorted(os.listdir(q)) for q in (p, v2)}
    a = mm.open(p)
    for write in (lambda: a.__setitem__((0, 0), 1), lambda: a.fill(1),
                  lambda: a.random(seed=1)):
        with pytest.raises(ValueError, match="read-only"):
            write()
    with pytest.raises(ValueError):
        mm.open(v2, "r+")  # Zarr v2 is read-only
    with pytest.raises(ValueError, match="'r' or 'r\\+'"):
        mm.open(p, "c")
    with pytest.raises(ValueError, match="describes itself"):
        mm.open(p, dtype="i2")
    np.testing.assert_array_equal(np.asarray(a), x)
    assert {q: sorted(os.listdir(q)) for q in (p, v2)} == before


@pytest.mark.parametrize("dtype,dist", [("f8", "normal"), ("f4", "uniform"), ("c8", "normal"),
                                        ("i4", "integers"), (">u2", "integers"),
                                        ("?", None), ("f2", "normal")])
def test_random_fills_equal_a_npy_of_the_same_shape(tmp, dtype, dist):
    kw = {"low": -5, "high": 1000} if dist == "integers" else {}
    if dtype.startswith(">u"):
        kw = {"low": 3, "high": 60000}
    z = mm.create(tmp / "r.zarr", dtype, (37, 23), chunks=(8, 7), shards=(2, 2))
    n = mm.create(tmp / "r.npy", dtype, (37, 23))
    z.random(dist, seed=42, **kw)
    n.random(dist, seed=42, **kw)
    # The same values, bit for bit (a big-endian store reads back in native order).
    assert same_values(z, n)
    z[5:30:2, ::-3].random(dist, seed=7, **kw)
    n[5:30:2, ::-3].random(dist, seed=7, **kw)
    assert same_values(z, n)
    # and in a new store through create(fill=...)
    if dist in ("normal", "uniform"):
        z2 = mm.create(tmp / "f.zarr", dtype, (37, 23), fill=dist, seed=9, chunks=(10, 10))
        n2 = mm.create(tmp / "f.npy", dtype, (37, 23), fill=dist, seed=9)
        assert same_values(z2, n2)


def same_values(z, n):
    a, b = np.asarray(z), np.asarray(n)
    return a.shape == b.shape and a.astype(b.dtype).tobytes() == b.tobytes()


@pytest.mark.parametrize("codec,names", [
    (None, ["bytes", "zstd"]),
    ("zstd:5", ["bytes", "zstd"]),
    ("gzip:2", ["bytes", "gzip"]),
    ("blosc", ["bytes", "blosc"]),
    ("blosc:zstd:3", ["bytes", "blosc"]),
    ("none", ["bytes"]),
])
@pytest.mark.parametrize("order", ["C", "F"])
def test_created_stores_are_read_by_zarr_python(tmp, codec, names, order):
    zarr = _zarr()
    x = sample(np.dtype("<i8"), (21, 10, 3), seed=9)
    p = tmp / "m.zarr"
    a = mm.create(p, "<i8", x.shape, chunks=(4, 3, 3), codec=codec, order=order)
    assert a.format == "zarr" and a.mode == "w+" and a.chunks == (4, 3, 3)
    assert a.shards is None
    assert a.codecs == tuple((["transpose"] if order == "F" else []) + names)
    a[...] = x
    a.close()
    z = zarr.open_array(p)
    assert z.shape == x.shape and z.chunks == (4, 3, 3) and z.dtype == np.dtype("i8")
    np.testing.assert_array_equal(z[...], x)
    got = [c.to_dict()["name"] for c in z.metadata.codecs]
    if order == "F":
        assert got[0] == "transpose"
        got = got[1:]
    assert got == names
    np.testing.assert_array_equal(np.asarray(mm.open(p)), x)


def test_created_sharded_store_with_fill_is_read_by_zarr_python(tmp):
    zarr = _zarr()
    p = tmp / "s.zarr"
    with mm.create(p, ">f4", (50, 40), chunks=(10, 8), shards=(2, 5), fill=1.5) as a:
        assert a.shards == (20, 40) and a.chunks == (10, 8)
        a[49, 39] = -2
    z = zarr.open_array(p)
    assert z.shards == (20, 40) and z.chunks == (10, 8)
    want = np.full((50, 40), 1.5, "f4")
    want[49, 39] = -2
    np.testing.assert_array_equal(z[...], want)
    # A store that exists is refused unless overwrite=True.
    with pytest.raises(FileExistsError):
        mm.create(p, "f4", (3,))
    with mm.create(p, "u1", (3,), overwrite=True) as b:
        assert b.shape == (3,) and b.dtype == np.dtype("u1")
    assert zarr.open_array(p).shape == (3,)


def test_create_arguments_are_checked(tmp):
    with pytest.raises(ValueError, match="codec"):
        mm.create(tmp / "a.zarr", "f8", (4,), codec="lzma")
    with pytest.raises(ValueError, match="codec"):
        mm.create(tmp / "a.zarr", "f8", (4,), codec="zstd:99")
    with pytest.raises(TypeError):
        mm.create(tmp / "a.zarr", "f8", (4,), codec=3)
    with pytest.raises(ValueError):
        mm.create(tmp / "a.zarr", "f8", (4, 4), chunks=(2,))
    with pytest.raises(ValueError):
        mm.create(tmp / "a.zarr", "f8", (4, 4), chunks=(0, 2))
    with pytest.raises(ValueError, match="Zarr"):
        mm.create(tmp / "a.npy", "f8", (4,), chunks=(2,))
    assert sorted(os.listdir(tmp)) == []


def test_astype_converts_a_store_into_a_npy(tmp):
    x = sample(np.dtype("f8"), SHAPE, seed=10)
    a = mm.open(write_store(tmp / "a.zarr", x, "blosc"))
    b = a.astype("f4", tmp / "b.npy")
    assert b.format == "npy" and b.dtype == np.dtype("f4")
    np.testing.assert_array_equal(np.load(tmp / "b.npy"), x.astype("f4"))
    c = a.astype("i2", tmp / "c.npy", byte_order="big", order="F")
    np.testing.assert_array_equal(np.load(tmp / "c.npy"), x.astype(">i2"))
    with pytest.raises(ValueError, match="Zarr"):
        a.astype("f4", tmp / "d.zarr")
    with pytest.raises(FileExistsError):
        a.astype("f4", tmp / "b.npy")


def test_repr_is_numpys_repr_of_the_data(tmp):
    small = sample(np.dtype("f4"), (3, 4), seed=11)
    big = sample(np.dtype("i8"), (40, 50), seed=12)
    a = mm.open(write_store(tmp / "s.zarr", small, "zstd"))
    b = mm.open(write_store(tmp / "b.zarr", big, "zstd"))
    assert repr(a) == repr(small.view(np.memmap))
    assert repr(b) == repr(big.view(np.memmap))  # summarised from the corners
    assert repr(b[::-3, 7:]) == repr(big[::-3, 7:].view(np.memmap))
    with np.printoptions(edgeitems=1, threshold=10):
        assert repr(b[3]) == repr(big[3].view(np.memmap))


def test_use_after_close_raises(tmp):
    x = sample(np.dtype("u2"), SHAPE, seed=13)
    p = write_store(tmp / "c.zarr", x, "zstd")
    with mm.open(p) as a:
        v = a[2:]
        b = np.asarray(v)
    assert a.closed and v.closed
    for use in (lambda: a.sum(), lambda: v.stats(), lambda: a[0, 0], lambda: np.asarray(a),
                lambda: v.shape, lambda: a.chunks, lambda: a.fill(0), lambda: pickle.dumps(v),
                lambda: a.astype("f8", tmp / "x.npy")):
        with pytest.raises(ValueError, match="closed"):
            use()
    np.testing.assert_array_equal(b, x[2:])  # copies made before stay valid
    assert "closed" in repr(a)
    a.close()  # idempotent


def test_pickle_is_a_reference_to_the_store(tmp):
    x = sample(np.dtype("f8"), (400, 300), seed=14)
    p = write_store(tmp / "p.zarr", x, "zstd")
    a = mm.open(p)
    blob = pickle.dumps(a[::3, 5:])
    assert len(blob) < 2000
    b = pickle.loads(blob)
    assert b.format == "zarr" and b.shape == x[::3, 5:].shape
    assert_same(b.sum(), a[::3, 5:].sum())
    # The reference checks the store's metadata (not every chunk file): a store
    # replaced by another raises.
    mm.create(p, "f8", (400, 301), overwrite=True).close()
    with pytest.raises(ValueError, match="changed since"):
        pickle.loads(blob)
    shutil.rmtree(p)
    with pytest.raises(FileNotFoundError):
        pickle.loads(blob)


def test_to_dask_and_dask_reductions_of_a_store(tmp):
    need("dask", "'dask[array]'")
    from dask.base import tokenize

    x = sample(np.dtype("f4"), (300, 70), seed=15)
    p = write_store(tmp / "d.zarr", x, "shard")
    a = mm.open(p)
    d = mm.to_dask(a, chunks=(64, 70))
    np.testing.assert_array_equal(d.compute(), x)
    assert tokenize(a) == tokenize(mm.open(p)) and tokenize(a) != tokenize(a[1:])
    npy = npy_twin(tmp, x)
    for op in ("sum", "mean", "min", "max", "var", "std"):
        assert_same(getattr(mm.dask, op)(d), getattr(mm.dask, op)(mm.to_dask(npy, chunks=(7, 9))),
                    op)
    assert mm.dask.stats(d) == mm.dask.stats(mm.to_dask(npy))


def test_axis_reductions_of_a_store_equal_a_npys(tmp):
    x = sample(np.dtype("i4"), SHAPE, seed=16)
    a = mm.open(write_store(tmp / "o.zarr", x, "zstd"))
    npy = npy_twin(tmp, x)
    for op in OPS:
        for axis in (0, 1, -1):
            assert_same(getattr(a, op)(axis=axis), getattr(npy, op)(axis=axis), (op, axis))
            assert_same(getattr(a[::2, 3:], op)(axis=axis), getattr(npy[::2, 3:], op)(axis=axis))
    out = a.mean(axis=1, out=tmp / "m.npy")
    np.testing.assert_array_equal(np.asarray(out), npy.mean(axis=1))


# -- hostile stores ----------------------------------------------------------------


def _chunk_files(p):
    return sorted(q for q in p.rglob("*") if q.is_file() and q.name != "zarr.json")


def _hostile(tmp, name, layout, damage):
    x = sample(np.dtype("f8"), SHAPE, seed=17)
    p = write_store(tmp / name, x, layout)
    damage(p)
    return p


def _corrupt_chunk(p):
    q = _chunk_files(p)[0]
    q.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(range(256)) * 3)


def _truncate_chunk(p):
    q = _chunk_files(p)[0]
    q.write_bytes(q.read_bytes()[:9])


def _wrong_size_chunk(p):
    q = _chunk_files(p)[0]
    q.write_bytes(q.read_bytes() + b"\0" * 8)


def _shard_index_outside(p):
    q = _chunk_files(p)[0]
    b = bytearray(q.read_bytes())
    # The index (at the end: 16 bytes per chunk, then a crc32c) points past the shard.
    b[-20:-12] = (1 << 40).to_bytes(8, "little")
    q.write_bytes(bytes(b))


@pytest.mark.parametrize("name,layout,damage", [
    ("corrupt.zarr", "zstd", _corrupt_chunk),
    ("truncated.zarr", "blosc", _truncate_chunk),
    ("wrongsize.zarr", "none", _wrong_size_chunk),
    ("shardindex.zarr", "shard", _shard_index_outside),
])
def test_hostile_chunks_raise_value_error_naming_store_and_chunk(tmp, name, layout, damage):
    p = _hostile(tmp, name, layout, damage)
    before = {q: q.read_bytes() for q in p.rglob("*") if q.is_file()}
    a = mm.open(p)
    for read in (lambda: a.sum(), lambda: a.stats(), lambda: np.asarray(a),
                 lambda: a[0:4, 0:5].max(), lambda: a.astype("f4", tmp / "x.npy")):
        with pytest.raises(ValueError) as e:
            read()
        msg = str(e.value)
        assert name in msg and "c/0/0" in msg, msg
    assert {q: q.read_bytes() for q in p.rglob("*") if q.is_file()} == before
    assert not (tmp / "x.npy").exists()


def _edit_meta(key, value):
    def damage(p):
        meta = json.loads((p / "zarr.json").read_text())
        meta[key] = value
        (p / "zarr.json").write_text(json.dumps(meta))
    return damage


@pytest.mark.parametrize("what,damage", [
    ("negative shape", _edit_meta("shape", [-1, 17])),
    ("absurd shape", _edit_meta("shape", [2**62, 2**62])),
    ("unknown data type", _edit_meta("data_type", "float128")),
    ("unknown codec", _edit_meta("codecs", [{"name": "bytes"}, {"name": "lzma"}])),
    ("not json", lambda p: (p / "zarr.json").write_text("{\"zarr_format\": 3,")),
    ("chunk shape", _edit_meta("chunk_grid", {"name": "regular",
                                              "configuration": {"chunk_shape": [0, 5]}})),
])
def test_hostile_metadata_raises_value_error_naming_the_store(tmp, what, damage):
    p = _hostile(tmp, "meta.zarr", "zstd", damage)
    for mode in ("r", "r+"):
        with pytest.raises(ValueError, match="meta.zarr"):
            mm.open(p, mode)


def test_a_folder_that_is_not_a_store(tmp):
    (tmp / "empty.zarr").mkdir()
    with pytest.raises(IsADirectoryError):
        mm.open(tmp / "empty.zarr")
    with pytest.raises(FileNotFoundError):
        mm.open(tmp / "missing.zarr")
    shutil.rmtree(tmp / "empty.zarr")


# -- append ------------------------------------------------------------------------


def _files(path) -> dict:
    """Every file of a store with its bytes (to show that nothing changed)."""
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("layout", ["zstd", "shard", "none"])
def test_append_grows_a_store_like_numpy_concatenate(tmp, layout):
    zarr = _zarr()
    x = sample(np.dtype("f8"), SHAPE, seed=3)
    p = write_store(tmp / "g.zarr", x, layout)
    want = x
    with mm.open(p, "r+") as a:
        # 13 -> 16 rows: inside the edge chunk (4-row chunks), any value.
        a.append(3, fill=2.5)
        want = np.concatenate([want, np.full((3, SHAPE[1]), 2.5)])
        assert a.shape == want.shape and len(a) == 16
        assert np.array_equal(np.asarray(a), want)
        # The fill value (0) past the edge, and nothing.
        mm.append(a, 4)
        a.append(0, fill=7)
        want = np.concatenate([want, np.zeros((4, SHAPE[1]))])
        assert np.array_equal(np.asarray(a), want)
        assert np.isclose(a.sum(), want.sum(), rtol=1e-12, atol=0) and a[-1, 0] == 0.0
        if layout == "shard":
            # 20 rows are not whole 8-row shards: another value past the edge chunk
            # is refused, the store unchanged; the fill value first gets to 24.
            before = _files(p)
            with pytest.raises(ValueError, match="shards"):
                a.append(5, fill=-1)
            assert _files(p) == before and a.shape == want.shape
            a.append(4)
            want = np.concatenate([want, np.zeros((4, SHAPE[1]))])
        a.append(5, fill=-1.0)
        want = np.concatenate([want, np.full((5, SHAPE[1]), -1.0)])
        assert np.array_equal(a.to_numpy(), want)
    # zarr-python reads the grown store; reopened, it has the new shape.
    z = zarr.open_array(p, mode="r")
    assert z.shape == want.shape
    assert np.array_equal(z[...], want)
    with mm.open(p) as b:
        assert b.shape == want.shape and np.array_equal(np.asarray(b), want)
    assert not [q.name for q in tmp.iterdir() if q.name.startswith(".")]


def test_append_grows_an_f_order_store_along_its_last_axis(tmp):
    x = np.arange(35, dtype="i4").reshape(5, 7)
    p = tmp / "f.zarr"
    with mm.create(p, "i4", (5, 7), order="F", chunks=(2, 3)) as a:
        a[...] = x
        a.append(2, fill=9)
        assert a.shape == (5, 9)
        want = np.concatenate([x, np.full((5, 2), 9, "i4")], axis=1)
        assert np.array_equal(np.asarray(a), want)
    z = _zarr().open_array(p, mode="r")
    assert np.array_equal(z[...], want)


def test_bad_appends_raise_and_leave_the_store_unchanged(tmp):
    x = sample(np.dtype("i2"), SHAPE, seed=4)
    p = write_store(tmp / "b.zarr", x, "shard")
    before = _files(p)
    a = mm.open(p, "r+")
    for call, exc in [
        (lambda: a.append(-1), ValueError),                # a negative size
        (lambda: a.append(2, fill="abc"), ValueError),     # not a number
        (lambda: a.append(2, fill=np.ones(3)), ValueError),  # not a scalar
        (lambda: a.append(2, fill=1 << 40), OverflowError),  # out of int16's range
        (lambda: a.append(1.5), TypeError),
        (lambda: a.append("2"), TypeError),
        (lambda: a[1:].append(2), ValueError),             # a view
        (lambda: a.append(9, fill=3), ValueError),         # 13 rows: not whole shards
        (lambda: mm.append(np.zeros(3), 1), TypeError),
    ]:
        with pytest.raises(exc):
            call()
        assert _files(p) == before
        assert a.shape == SHAPE
    a.close()
    with mm.open(p) as r:
        with pytest.raises(ValueError, match="read-only"):
            r.append(1)
    assert _files(p) == before
    assert np.array_equal(np.asarray(mm.open(p)), x)
