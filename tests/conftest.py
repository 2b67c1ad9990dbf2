"""Fixtures every test shares: a seeded generator, the float type, the kernels setting and the
hand-off of split work."""
import numpy as np
import pytest

from bptt import backend

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


@pytest.fixture(params=["team", "pool"])
def handoff(request, monkeypatch):
    """Runs the test once with split work handed to numba's team (one parallel region) and once
    to the Python helper threads (the fallback where numba's threads are not OpenMP or TBB)."""
    from bptt.kernels import _common

    monkeypatch.setattr(_common, "team_threads", lambda: request.param == "team")
    return request.param


@pytest.fixture
def kernels_setting():
    """backend.set_kernels, with the setting before the test restored after it."""
    previous = backend.get_kernels()
    yield backend.set_kernels
    backend.set_kernels(previous)


@pytest.fixture
def a_team(monkeypatch):
    """bptt.kernels._common.team_threads() answers as where numba's threads are OpenMP, two of
    them, started in this process, and NumPy's BLAS workers are quiet, whatever this machine
    has; the test may then change one condition (monkeypatch) to see the answer turn."""
    from bptt.kernels import _common

    monkeypatch.setattr(_common.threads_model, "limit", lambda: 2)
    monkeypatch.setattr(_common.numba.config, "NUMBA_NUM_THREADS", 2)
    monkeypatch.setattr(_common, "_NUMPY_BLAS_UNTIL", 0.0)
    monkeypatch.setitem(_common._LAUNCHED, "layer", "omp")
    monkeypatch.setitem(_common._LAUNCHED, "forked", False)
    assert _common.team_threads()
