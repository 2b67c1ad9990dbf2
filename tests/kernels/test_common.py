"""bptt.kernels._common's helpers outside the compiled loops: the recurrent kernel's gradient
as one product over all steps, against its definition step by step."""
import numpy as np
import pytest

from bptt.kernels import threads as threads_model
from bptt.kernels import _common, gemm
from tests.helpers import assert_close


def recurrent_kernel_grad_by_steps(h0, hs, da, masks):
    """sum over t of (h_{t-1} * m_g)^T @ da_t[:, block g], one step at a time."""
    T, B, H = hs.shape
    width = da.shape[-1]
    grad = np.zeros((H, width), hs.dtype)
    for t in range(T):
        h_prev = h0 if t == 0 else hs[t - 1]
        for start in range(0, width, H if len(masks) > 1 else width):
            block = slice(start, start + (H if len(masks) > 1 else width))
            m = masks[start // H] if len(masks) > 1 else (masks[0] if len(masks) else 1)
            grad[:, block] += (h_prev * m).T @ da[t][:, block]
    return grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("M", [0, 1, 4])
@pytest.mark.parametrize("zero_h0", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("T", [1, 2, 9])
def test_recurrent_kernel_grad_equals_the_sum_over_steps(rng, monkeypatch, handoff, dtype, M, zero_h0,
                                                         threads, T):
    monkeypatch.setattr(threads_model, "_REQUESTED", threads)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows_without_team", 2)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows", 2)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "gemm", 2)
    monkeypatch.setattr(gemm, "TINY_PRODUCT", 0)
    B, H = 5, 3
    h0 = np.zeros((B, H), dtype) if zero_h0 else rng.normal(size=(B, H)).astype(dtype)
    hs = rng.normal(size=(T, B, H)).astype(dtype)
    da = rng.normal(size=(T, B, 4 * H)).astype(dtype)
    masks = (rng.random((M, B, H)) > 0.4).astype(dtype) / dtype(0.6)
    got = _common.recurrent_kernel_grad(h0, hs, da, masks)
    assert got.shape == (H, 4 * H) and got.dtype == dtype
    assert_close(got, recurrent_kernel_grad_by_steps(h0, hs, da, masks), "drecurrent_kernel")


def test_no_team_in_a_child_forked_after_numbas_threads_started(a_team):
    import os

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe and leave without running anything else
        os.write(write, b"1" if _common.team_threads() else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"0"
    assert _common.team_threads()  # the parent keeps its team


def test_no_team_while_numpys_blas_workers_may_spin(a_team, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_common.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(_common, "numpy_blas_busy", False)
    _common.numpy_blas_ran()
    assert _common.numpy_blas_busy and not _common.team_threads()
    now[0] += _common.NUMPY_BLAS_SPIN_S - 0.01
    assert not _common.team_threads()
    now[0] += 0.02
    assert _common.team_threads()  # the spin is over: the team is back


def test_a_reference_time_loop_in_fused_training_says_numpys_pool_ran(monkeypatch, rng,
                                                                        kernels_setting):
    from bptt import layers

    kernels_setting("fused")
    monkeypatch.setattr(_common, "_NUMPY_BLAS_UNTIL", 0.0)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    fused_layer = layers.LSTM(3, return_sequences=True)
    fused_layer(x, training=True)
    assert _common._NUMPY_BLAS_UNTIL == 0.0  # the fused loop: NumPy's pool not involved
    reference_layer = layers.LSTM(3, return_sequences=True, recurrent_dropout=0.5)  # per-gate masks
    reference_layer(x, training=True)
    assert _common._NUMPY_BLAS_UNTIL > 0.0
