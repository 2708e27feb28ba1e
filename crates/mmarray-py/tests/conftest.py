"""Shared helpers of the mmarray Python tests.

A test that needs a package that is missing fails with the command that installs
it: nothing is skipped silently.
"""

from __future__ import annotations

import importlib
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]

# Every supported element type, in both byte orders where it has one.
KINDS = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
DTYPES = [np.dtype(k) for k in KINDS] + [
    np.dtype(k).newbyteorder(">") for k in KINDS if np.dtype(k).itemsize > 1 and k != "?"
]


def need(module: str, pip: str | None = None):
    """Imports ``module`` or fails the test saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pytest.fail(
            f"this test needs {module!r} ({e}); install it with "
            f"`python -m pip install {pip or module}` (cargo xtask test does)",
            pytrace=False,
        )


def sample(dtype: np.dtype, shape, seed: int = 0, nan: bool = False) -> np.ndarray:
    """Deterministic values of ``dtype`` (with a NaN or two if asked, for floats)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    k = dtype.kind
    if k == "b":
        v = rng.integers(0, 2, n).astype(bool)
    elif k in "iu":
        info = np.iinfo(dtype)
        lo, hi = max(info.min, -1000), min(info.max, 1000)
        v = rng.integers(lo, hi, n, endpoint=True)
    elif k == "f":
        v = rng.normal(size=n) * 10
    else:
        v = rng.normal(size=n) * 10 + 1j * rng.normal(size=n)
    a = v.astype(dtype).reshape(shape)
    if nan and k in "fc" and n > 2:
        a.reshape(-1)[[1, n // 2]] = np.nan
    return a


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
