"""bptt.kernels.gemm equals NumPy's products: odd shapes, float32 and float64, split over one to
three threads (rows and the reduction of matmul_tn), and the choice kernels.gemm_functions makes."""
import numpy as np
import pytest

from bptt.kernels import threads as threads_model
from bptt import backend, kernels
from bptt.kernels import _common, gemm
from tests.helpers import assert_close

SHAPES = [(1, 1, 1), (7, 3, 5), (600, 13, 9), (1601, 64, 256)]  # (N, K, M)


@pytest.fixture(params=[1, 2, 3])
def threads(request, monkeypatch):
    """The compiled passes split over 1 to 3 threads from 2 rows each, even for tiny shapes."""
    monkeypatch.setattr(threads_model, "_REQUESTED", request.param)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "gemm", 2)
    monkeypatch.setattr(gemm, "TINY_PRODUCT", 0)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, K, M", SHAPES)
def test_split_products_equal_numpy(rng, threads, handoff, dtype, N, K, M):
    a = rng.normal(size=(N, K)).astype(dtype)
    b = rng.normal(size=(K, M)).astype(dtype)
    c = rng.normal(size=(N, M)).astype(dtype)
    assert_close(gemm.matmul(a, b), a @ b, "a @ b")
    assert_close(gemm.matmul(a, b.T.copy().T), a @ b, "a @ b (b a transposed view)")
    assert_close(gemm.matmul_tn(a, c), a.T @ c, "a.T @ c")
    assert_close(gemm.matmul_tn(a, c[:, : M // 2 + 1]), a.T @ c[:, : M // 2 + 1], "a.T @ column block")


def test_empty_reduction_gives_zeros():
    a, c = np.empty((0, 3), np.float32), np.empty((0, 4), np.float32)
    np.testing.assert_array_equal(gemm.matmul_tn(a, c), np.zeros((3, 4), np.float32))


def test_gemm_functions_split_where_numbas_team_or_the_time_loops_take_two_parts(monkeypatch):
    previous = backend.get_kernels()
    monkeypatch.setattr(threads_model, "_REQUESTED", 2)
    big = 2 * threads_model.MIN_PER_THREAD["rows_without_team"]
    try:
        backend.set_kernels("fused")
        monkeypatch.setattr(_common, "team_threads", lambda: False)
        assert kernels.gemm_functions(big) == (gemm.matmul, gemm.matmul_tn)
        assert kernels.gemm_functions(big - 1)[0] is np.matmul
        assert kernels.projection_functions(big - 1) == (gemm.numpy_projection,
                                                         gemm.numpy_projection_backward)
        monkeypatch.setattr(_common, "team_threads", lambda: True)
        assert kernels.gemm_functions(1) == (gemm.matmul, gemm.matmul_tn)
        assert kernels.projection_functions(1) == (gemm.projection, gemm.projection_backward)
        backend.set_kernels("reference")
        assert kernels.gemm_functions(big)[0] is np.matmul
    finally:
        backend.set_kernels(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, K, M", SHAPES)
def test_projection_backward_equals_its_three_numpy_products(rng, threads, handoff, dtype, N, K, M):
    x = rng.normal(size=(N, K)).astype(dtype)
    dxw = rng.normal(size=(N, M)).astype(dtype)
    kernel = rng.normal(size=(K, M)).astype(dtype)
    dkernel, dx, dbias = gemm.projection_backward(x, dxw, kernel)
    assert_close(dkernel, x.T @ dxw, "x.T @ dxw")
    assert_close(dx, dxw @ kernel.T, "dxw @ kernel.T")
    assert_close(dbias, dxw.sum(axis=0), "dxw summed over rows")
    assert dx.dtype == dkernel.dtype == dbias.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, K, M", SHAPES)
def test_projection_adds_the_bias_to_each_row(rng, threads, handoff, dtype, N, K, M):
    x = rng.normal(size=(N, K)).astype(dtype)
    kernel = rng.normal(size=(K, M)).astype(dtype)
    bias = rng.normal(size=M).astype(dtype)
    assert_close(gemm.projection(x, kernel, bias), x @ kernel + bias, "x @ kernel + bias")
    assert_close(gemm.projection(x, kernel), x @ kernel, "x @ kernel")
    np.testing.assert_array_equal(gemm.projection(x[:0], kernel, bias), np.empty((0, M), dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("split", [True, False])
def test_projection_backward_masks_dx_by_row_modulo_the_batch(rng, threads, handoff, dtype, split):
    """Rows t * B + b of a recurrent layer's (T * B, K) input were masked by mask[b]; split: the
    gemm pass, else the NumPy products kernels.projection_functions gives small batches."""
    T, B, K, M = 5, 7, 6, 8
    mask = (rng.random((B, K)) > 0.3).astype(dtype) / dtype(0.7)
    x = rng.normal(size=(T, B, K)).astype(dtype) * mask  # (T, B, K), masked as the layer does
    dxw = rng.normal(size=(T * B, M)).astype(dtype)
    kernel = rng.normal(size=(K, M)).astype(dtype)
    backward = gemm.projection_backward if split else gemm.numpy_projection_backward
    dkernel, dx, dbias = backward(x.reshape(T * B, K), dxw, kernel, mask)
    expected_dx = (dxw @ kernel.T).reshape(T, B, K) * mask  # dL/dx0 for x = x0 * mask
    assert_close(dx, expected_dx.reshape(T * B, K), "(dxw @ kernel.T) * mask")
    assert_close(dkernel, x.reshape(T * B, K).T @ dxw, "x.T @ dxw")
    assert_close(dbias, dxw.sum(axis=0), "dxw summed over rows")


def test_dense_layers_use_the_split_passes_only_beside_numbas_team(monkeypatch):
    previous = backend.get_kernels()
    try:
        backend.set_kernels("fused")
        monkeypatch.setattr(_common, "team_threads", lambda: True)
        assert kernels.dense_functions() == (gemm.projection, gemm.projection_backward)
        monkeypatch.setattr(_common, "team_threads", lambda: False)
        assert kernels.dense_functions() == (gemm.numpy_projection,
                                             gemm.numpy_projection_backward)
        backend.set_kernels("reference")
        monkeypatch.setattr(_common, "team_threads", lambda: True)
        assert kernels.dense_functions()[0] is gemm.numpy_projection
    finally:
        backend.set_kernels(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiny_products_go_to_numpy_and_equal_the_compiled_passes(rng, monkeypatch, dtype):
    x = rng.normal(size=(4, 3)).astype(dtype)
    kernel = rng.normal(size=(3, 2)).astype(dtype)
    bias = rng.normal(size=2).astype(dtype)
    dxw = rng.normal(size=(4, 2)).astype(dtype)
    mask = rng.random((2, 3)).astype(dtype)
    tiny = gemm.projection(x, kernel, bias), *gemm.projection_backward(x, dxw, kernel, mask)
    monkeypatch.setattr(gemm, "TINY_PRODUCT", 0)
    compiled = gemm.projection(x, kernel, bias), *gemm.projection_backward(x, dxw, kernel, mask)
    for name, a, b in zip(["xw", "dkernel", "dx", "dbias"], tiny, compiled):
        assert_close(a, b, name)
