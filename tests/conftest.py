"""Fixtures every test shares: a seeded generator and the float type.

The repository root goes on sys.path so that `tests.helpers` imports however pytest is started
(`python -m pytest` already does this; a bare `pytest` in another import mode may not).
"""
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bptt import backend  # noqa: E402

SEED = 20240607


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed: the same draws in every run of the test."""
    return np.random.default_rng(SEED)


@pytest.fixture
def float64():
    """Layers built inside the test use float64 (for gradient checks); the setting is restored."""
    previous = backend.floatx()
    backend.set_floatx("float64")
    yield np.float64
    backend.set_floatx(previous)


@pytest.fixture(params=["float32", "float64"])
def floatx(request):
    """Runs the test once per float type, with backend.floatx() set to it; yields the NumPy dtype."""
    previous = backend.floatx()
    backend.set_floatx(request.param)
    yield np.dtype(request.param)
    backend.set_floatx(previous)
