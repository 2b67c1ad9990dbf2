"""bptt.kernels.gemm equals NumPy's products: odd shapes, float32 and float64, split over one to
three threads (rows and the reduction of matmul_tn), and the choice kernels.gemm_functions makes."""
import numpy as np
import pytest

from bptt import backend, kernels
from bptt.kernels import _common, gemm
from tests.helpers import assert_close

SHAPES = [(1, 1, 1), (7, 3, 5), (600, 13, 9), (1601, 64, 256)]  # (N, K, M)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, K, M", SHAPES)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_split_products_equal_numpy(rng, monkeypatch, dtype, N, K, M, threads):
    monkeypatch.setattr(_common, "KERNEL_THREADS", threads)
    monkeypatch.setattr(gemm, "MIN_ROWS", 2)
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


def test_gemm_functions_split_only_where_the_time_loops_do(monkeypatch):
    previous = backend.get_kernels()
    monkeypatch.setattr(_common, "KERNEL_THREADS", 2)
    try:
        backend.set_kernels("fused")
        big = 2 * _common.MIN_ROWS_PER_THREAD
        assert kernels.gemm_functions(big) == (gemm.matmul, gemm.matmul_tn)
        assert kernels.gemm_functions(big - 1)[0] is np.matmul
        backend.set_kernels("reference")
        assert kernels.gemm_functions(big)[0] is np.matmul
    finally:
        backend.set_kernels(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, K, M", SHAPES)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_projection_backward_equals_its_three_numpy_products(rng, monkeypatch, dtype, N, K, M,
                                                             threads):
    monkeypatch.setattr(_common, "KERNEL_THREADS", threads)
    monkeypatch.setattr(gemm, "MIN_ROWS", 2)
    x = rng.normal(size=(N, K)).astype(dtype)
    dxw = rng.normal(size=(N, M)).astype(dtype)
    kernel = rng.normal(size=(K, M)).astype(dtype)
    dkernel, dx, dbias = gemm.projection_backward(x, dxw, kernel)
    assert_close(dkernel, x.T @ dxw, "x.T @ dxw")
    assert_close(dx, dxw @ kernel.T, "dxw @ kernel.T")
    assert_close(dbias, dxw.sum(axis=0), "dxw summed over rows")
    assert dx.dtype == dkernel.dtype == dbias.dtype == dtype
