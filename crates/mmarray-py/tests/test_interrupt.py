"""Ctrl-C during a long operation stops it between chunks: `KeyboardInterrupt`
is raised, a new file being written is not made, an array being filled stays
usable (partly filled), and the next call runs normally."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

import mmarray as mm

# 1 GiB of float64 (sparse on disk): long enough (about a second) that a signal
# sent after 50 ms arrives while the operation runs.
N = 1 << 27


def _interrupt_soon():
    t = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    t.start()
    return t


def test_ctrl_c_stops_astype_between_chunks_and_makes_no_file(tmp_path):
    a = mm.create(tmp_path / "big.npy", "f8", (N,))
    out = tmp_path / "out.npy"
    t = _interrupt_soon()
    with pytest.raises(KeyboardInterrupt):
        a.astype("f4", out)
    t.join()
    # Had astype finished before the signal was handled, out.npy would exist.
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.npy"]
    # The array and the package still work.
    small = a[:1000]
    assert small.sum() == 0.0
    a.close()


def test_ctrl_c_stops_a_fill_with_part_of_the_array_written(tmp_path):
    a = mm.create(tmp_path / "big.npy", "f8", (N,))
    t = _interrupt_soon()
    with pytest.raises(KeyboardInterrupt):
        a.fill(1.0)
    t.join()
    # Stopped between batches: not every element was written.
    assert a.min() == 0.0
    a.fill(2.0)
    assert a[-1] == 2.0 and a.min() == 2.0
    a.close()
    b = np.load(tmp_path / "big.npy", mmap_mode="r")
    assert b[0] == 2.0


def test_ctrl_c_during_the_fill_of_a_create_over_an_old_file_keeps_the_old_file(tmp_path):
    p = tmp_path / "old.npy"
    np.save(p, np.arange(5.0))
    t = _interrupt_soon()
    with pytest.raises(KeyboardInterrupt):
        mm.create(p, "f8", (N,), overwrite=True, fill="normal", seed=1)
    t.join()
    # The new file never took the old one's place, and left nothing behind.
    assert np.load(p).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert sorted(q.name for q in tmp_path.iterdir()) == ["old.npy"]


def test_ctrl_c_during_asarray_of_a_zarr_store_raises_keyboard_interrupt(tmp_path):
    # 512 MiB of float64 in 64 gzip-compressed chunks: decoding them into one
    # ndarray takes well over 0.3 s, so a signal sent after 50 ms arrives meanwhile.
    p = tmp_path / "big.zarr"
    n = 1 << 26
    mm.create(p, "f8", (n,), chunks=(1 << 20,), codec="gzip:1", fill=1.5).close()
    a = mm.open(p)
    t = _interrupt_soon()
    with pytest.raises(KeyboardInterrupt):
        np.asarray(a)
    t.join()
    # The store and the package still work.
    assert a[-1] == 1.5
    assert a[:1000].sum() == 1500.0
    a.close()
