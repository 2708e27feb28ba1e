"""The CLI's hostile corpus: every file is refused with ValueError, unchanged."""

from __future__ import annotations

import os
import shlex
import shutil

import numpy as np
import pytest

import mmarray as mm
from conftest import ROOT

CORPUS = ROOT / "crates" / "mmarray-cli" / "tests" / "hostile"
NPY = sorted(p.name for p in CORPUS.glob("*.npy"))


def _raw_cases():
    cases = []
    for line in (CORPUS / "raw.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, *opts = shlex.split(line)
        kw = {}
        it = iter(opts)
        for flag in it:
            val = next(it)
            if flag == "--dtype":
                kw["dtype"] = val
            elif flag == "--offset":
                kw["offset"] = int(val)
            elif flag == "--order":
                kw["order"] = val
            elif flag == "--shape":
                kw["shape"] = tuple(int(d) for d in val.strip("()").split(",") if d)
            else:
                raise AssertionError(f"unknown option {flag} in raw.txt")
        cases.append((name, kw))
    return cases


def test_the_corpus_is_there():
    assert len(NPY) > 100 and len(_raw_cases()) > 10 and len(NPZ) > 20


@pytest.mark.parametrize("name", NPY)
def test_hostile_npy_is_refused(tmp, name):
    p = tmp / name
    shutil.copyfile(CORPUS / name, p)
    before = (p.read_bytes(), os.stat(p).st_mtime_ns)
    caps = [10000] if name.startswith("cap-") else [10000, 2**32 - 1]
    for mode in ("r", "r+", "c"):
        for cap in caps:
            with pytest.raises(ValueError, match=name.replace("+", r"\+").split(".")[0]):
                mm.open(p, mode, max_header_size=cap)
    assert (p.read_bytes(), os.stat(p).st_mtime_ns) == before
    assert sorted(os.listdir(tmp)) == [name]


@pytest.mark.parametrize("name,kw", _raw_cases(), ids=[c[0] for c in _raw_cases()])
def test_hostile_raw_layouts_are_refused(tmp, name, kw):
    p = tmp / name
    shutil.copyfile(CORPUS / name, p)
    before = (p.read_bytes(), os.stat(p).st_mtime_ns)
    for mode in ("r", "r+", "c"):
        with pytest.raises(ValueError):
            mm.open(p, mode, **kw)
    assert (p.read_bytes(), os.stat(p).st_mtime_ns) == before


NPZ = sorted(p.name for p in CORPUS.glob("*.npz"))


@pytest.mark.parametrize("name", NPZ)
def test_hostile_npz_is_refused(tmp, name):
    p = tmp / name
    shutil.copyfile(CORPUS / name, p)
    before = (p.read_bytes(), os.stat(p).st_mtime_ns)
    for mode in ("r", "r+", "c"):
        if mode == "r" and name.startswith("inflate-"):
            # Damage in the deflated data: in mode "r" the member is read as chunks
            # inflated when read (headers are fine), so reading refuses it.
            with mm.open(p, mode) as a:
                with pytest.raises(ValueError, match=name.split(".")[0]):
                    np.asarray(a)
                with pytest.raises(ValueError, match=name.split(".")[0]):
                    a.sum()
        else:
            with pytest.raises(ValueError, match=name.split(".")[0]):
                mm.open(p, mode)
        with pytest.raises((ValueError, KeyError)):
            mm.open(p, mode, member="x")
    assert (p.read_bytes(), os.stat(p).st_mtime_ns) == before
    assert sorted(os.listdir(tmp)) == [name]
