"""bptt.kernels.lookup_training equals NumPy's expressions: odd shapes, float32 and float64,
split over one to three threads, with repeated positions and positions never used."""
import numpy as np
import pytest

from bptt.kernels import lookup_training
from bptt.kernels import threads as threads_model
from tests.helpers import assert_close

SHAPES = [(1, 1, 1, 1), (7, 3, 3, 5), (600, 5, 13, 9), (1601, 17, 64, 256)]  # (N, P, K, M)


@pytest.fixture(params=[1, 2, 3])
def threads(request, monkeypatch):
    """The passes split over 1 to 3 threads from 2 rows each, even for tiny shapes."""
    monkeypatch.setattr(threads_model, "_REQUESTED", request.param)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "gemm", 2)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, P, K, M", SHAPES)
def test_gather_and_backward_equal_numpy(rng, threads, handoff, dtype, N, P, K, M):
    positions = rng.integers(0, max(1, P - 1), size=N).astype(np.int32)  # row P-1 unused (P > 1)
    projected = rng.normal(size=(P, M)).astype(dtype)
    dxw = rng.normal(size=(N, M)).astype(dtype)
    kernel = rng.normal(size=(K, M)).astype(dtype)

    np.testing.assert_array_equal(lookup_training.gather(projected, positions),
                                  projected[positions])
    dx, dprojected = lookup_training.lookup_backward(dxw, positions, kernel, P)
    expected = np.zeros((P, M), dtype)
    np.add.at(expected, positions, dxw)
    assert_close(dx, dxw @ kernel.T, "dx")
    assert_close(dprojected, expected, "dprojected")
    if P > 1:
        assert not dprojected[P - 1].any()  # a row no lookup used gets no gradient


def test_no_lookups_give_empty_and_zero_results():
    dx, dprojected = lookup_training.lookup_backward(
        np.empty((0, 4)), np.empty(0, np.int32), np.ones((3, 4)), 2)
    assert dx.shape == (0, 3)
    np.testing.assert_array_equal(dprojected, np.zeros((2, 4)))
    assert lookup_training.gather(np.ones((2, 4)), np.empty(0, np.int32)).shape == (0, 4)
