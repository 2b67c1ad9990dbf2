"""bptt.kernels.lstm_stack (two LSTM layers' inference pipelined over two cores) equals the
reference: each layer projected in one GEMM and run through bptt.ops.lstm.lstm_forward from zero
states, the lower one's whole sequence feeding the upper. Both ways it can run: the two threads
together, and one thread alone (what happens when the second does not come)."""
import time

import numba
import numpy as np
import pytest

from bptt.kernels import _common, lstm_stack
from bptt.ops import lstm as reference
from tests.helpers import assert_close

SHAPES = [(1, 1, 1, 1, 1), (1, 2, 4, 3, 5), (7, 3, 5, 6, 3), (9, 4, 3, 7, 2), (50, 1, 128, 64, 32)]


def reference_layer(x, kernel, bias, recurrent_kernel):
    """x (B, T, D) -> hs (B, T, H), (h_last, c_last): the layer's specification."""
    B, T, D = x.shape
    H = recurrent_kernel.shape[0]
    xw = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(T * B, D) @ kernel  # (T*B, 4H)
    xw = xw.reshape(T, B, 4 * H) + (0 if bias is None else bias)
    zeros = np.zeros((B, H), x.dtype)
    hs, last, _ = reference.lstm_forward(xw, recurrent_kernel, zeros, zeros)
    return hs.transpose(1, 0, 2), last


def make_layers(rng, D, H1, H2, dtype, bias):
    def weights(d, h):
        return ((rng.normal(size=(d, 4 * h)) / np.sqrt(d)).astype(dtype),
                rng.normal(size=4 * h).astype(dtype) if bias else None,
                (rng.normal(size=(h, 4 * h)) / np.sqrt(h)).astype(dtype))
    return weights(D, H1), weights(H1, H2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, D, H1, H2", SHAPES)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("together", [True, False])
def test_stack_matches_two_reference_layers(rng, dtype, T, B, D, H1, H2, return_sequences, together):
    lower, upper = make_layers(rng, D, H1, H2, dtype, bias=(T + B) % 2 == 0)
    x = rng.normal(size=(B, T, D)).astype(dtype)
    hs1, _ = reference_layer(x, *lower)
    hs2, (h_last, c_last) = reference_layer(hs1, *upper)
    ys, (h, c), shared = lstm_stack.lstm_stack_inference(x, lower, upper, return_sequences,
                                                         together=together)
    if return_sequences:
        assert_close(ys, hs2, "ys")
    else:
        assert ys is None
    assert_close(h, h_last, "h_last")
    assert_close(c, c_last, "c_last")
    if not together:
        assert not shared


def test_the_two_threads_share_the_work_where_numba_has_fast_threads(rng, monkeypatch):
    """With OpenMP or TBB under numba the second thread comes, so the pipelined path (not only
    the one-thread fallback) is what the test above checked. The patience here is long (~10 ms):
    in a process where another OpenMP runtime also has threads (PyTorch's, in this test suite),
    numba's may be asleep and take longer to wake than the default patience allows."""
    lower, upper = make_layers(rng, 5, 6, 3, np.float64, bias=True)
    x = rng.normal(size=(1, 9, 5))
    monkeypatch.setitem(lstm_stack._recent, "backoff", 1.0)
    monkeypatch.setattr(lstm_stack, "SLOW_SPINS", 10 ** 15)  # a call that pairs resets it even
    # if it waited long for the other thread (next to PyTorch's threads, it may)
    shared = False
    for _ in range(50):  # until one call pairs: on a busy machine a call may go alone
        shared = lstm_stack.lstm_stack_inference(x, lower, upper, patience=10_000_000,
                                                 together=True)[2]
        if shared:
            break
    if numba.threading_layer() not in ("omp", "tbb") or numba.get_num_threads() < 2:
        pytest.skip(f"numba runs on {numba.threading_layer()} with {numba.get_num_threads()} "
                    "threads here: only the one-thread path runs")
    assert shared
    assert lstm_stack._recent["backoff"] == lstm_stack.BACKOFF_SECONDS  # a call paired: reset


def test_no_patience_still_gives_the_same_outputs(rng):
    """patience=0: the first thread goes alone unless the second is already there."""
    lower, upper = make_layers(rng, 4, 5, 3, np.float64, bias=True)
    x = rng.normal(size=(2, 6, 4))
    expected = lstm_stack.lstm_stack_inference(x, lower, upper, True, together=False)
    for _ in range(5):
        ys, (h, c), _ = lstm_stack.lstm_stack_inference(x, lower, upper, True, patience=0)
        assert_close(ys, expected[0], "ys")
        assert_close(h, expected[1][0], "h_last")


def test_a_call_asks_for_the_second_thread_only_right_after_another(monkeypatch):
    """pair_now: within WARM_SECONDS of the previous call's end, and not while backing off."""
    now = 1000.0
    monkeypatch.setitem(lstm_stack._recent, "alone_until", float("-inf"))
    monkeypatch.setitem(lstm_stack._recent, "ended", now - lstm_stack.WARM_SECONDS / 2)
    assert lstm_stack.pair_now(now)
    monkeypatch.setitem(lstm_stack._recent, "ended", now - 2 * lstm_stack.WARM_SECONDS)
    assert not lstm_stack.pair_now(now)
    monkeypatch.setitem(lstm_stack._recent, "ended", now - lstm_stack.WARM_SECONDS / 2)
    monkeypatch.setitem(lstm_stack._recent, "alone_until", now + 0.01)
    assert not lstm_stack.pair_now(now)


def test_after_a_pause_a_call_runs_alone_with_the_same_outputs(rng, monkeypatch):
    lower, upper = make_layers(rng, 4, 5, 3, np.float32, bias=True)
    x = rng.normal(size=(1, 6, 4)).astype(np.float32)
    expected = lstm_stack.lstm_stack_inference(x, lower, upper, True, together=False)
    monkeypatch.setitem(lstm_stack._recent, "ended", float("-inf"))  # a pause
    ys, (h, c), shared = lstm_stack.lstm_stack_inference(x, lower, upper, True)
    assert not shared
    assert_close(ys, expected[0], "ys")
    assert_close(h, expected[1][0], "h_last")
    assert lstm_stack._recent["ended"] > float("-inf")  # the next call in a row may pair


def test_a_call_that_waited_long_for_the_second_thread_holds_off_the_next(rng, monkeypatch):
    """Backoff: after a call whose first thread waited over SLOW_SPINS for the second, calls
    run alone for BACKOFF_SECONDS, twice that after the next such call; the first call after it
    waits PROBE_PATIENCE for the second thread, and one that pairs resets the backoff."""
    if not lstm_stack.usable(1):
        pytest.skip("no fast numba threads here: every call runs alone")
    for key, value in [("alone_until", float("-inf")), ("backoff", lstm_stack.BACKOFF_SECONDS)]:
        monkeypatch.setitem(lstm_stack._recent, key, value)
    lower, upper = make_layers(rng, 4, 5, 3, np.float64, bias=True)
    x = rng.normal(size=(1, 6, 4))
    monkeypatch.setattr(lstm_stack, "SLOW_SPINS", -1)  # any call waited "long"
    lstm_stack.lstm_stack_inference(x, lower, upper, together=True)
    ended = lstm_stack._recent["ended"]
    assert lstm_stack._recent["alone_until"] == ended + lstm_stack.BACKOFF_SECONDS
    assert lstm_stack._recent["backoff"] == 2 * lstm_stack.BACKOFF_SECONDS
    assert not lstm_stack.pair_now(ended + lstm_stack.WARM_SECONDS / 2)

    patience = []
    pipeline = lstm_stack._pipeline

    def spy(*args):
        patience.append(args[-2])  # (..., patience, slow)
        return pipeline(*args)

    monkeypatch.setattr(lstm_stack, "_pipeline", spy)
    monkeypatch.setattr(lstm_stack, "SLOW_SPINS", 10 ** 15)  # no call waited "long"
    monkeypatch.setitem(lstm_stack._recent, "alone_until", float("-inf"))  # the backoff is over
    shared = False
    for _ in range(50):  # until one pairs: on a busy machine a call may go alone
        lstm_stack._recent["ended"] = time.perf_counter()  # the calls follow one another
        shared = lstm_stack.lstm_stack_inference(x, lower, upper)[2]
        if shared:
            break
    assert patience[0] == lstm_stack.PROBE_PATIENCE
    assert shared
    assert lstm_stack._recent["backoff"] == lstm_stack.BACKOFF_SECONDS  # so no probe next


def test_a_region_whose_two_iterations_run_on_one_thread_ends(rng):
    """With one thread in the region, its second iteration starts only after the first: the
    first goes alone after its patience and waits for the late one at most `slow` + 1 spins,
    instead of forever."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    lower, upper = make_layers(rng, 4, 5, 3, np.float64, bias=True)
    x = rng.normal(size=(1, 6, 4))
    expected = lstm_stack.lstm_stack_inference(x, lower, upper, True, together=False)
    B, T, D = x.shape
    ids = np.arange(B * T, dtype=np.intp).reshape(B, T)
    xw, hs = np.empty((B * T, 20)), np.empty((T, B, 5))
    ys, h_last, c_last = np.empty((B, T, 3)), np.empty((B, 3)), np.empty((B, 3))
    flags = np.zeros(lstm_stack.WAITED + 8, np.int64)
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        lstm_stack._pipeline(ids, x.reshape(B * T, D), lower, upper, xw, hs, ys, h_last, c_last,
                             flags, T // lstm_stack.FIRST_SHARE, 1000, 5000)
    finally:
        numba.set_num_threads(before)
    assert flags[lstm_stack.WAITED] == 5001
    assert_close(ys, expected[0], "ys")
    assert_close(h_last, expected[1][0], "h_last")


def test_used_only_for_a_few_sequences(a_team):
    assert lstm_stack.usable(1)
    assert lstm_stack.usable(lstm_stack.MAX_ROWS)
    assert not lstm_stack.usable(lstm_stack.MAX_ROWS + 1)


@pytest.mark.parametrize("condition", ["one numba thread", "one core", "workqueue threads",
                                       "NumPy's BLAS spinning"])
def test_not_used_without_a_team(a_team, monkeypatch, condition):
    if condition == "one numba thread":
        monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
    elif condition == "one core":
        monkeypatch.setattr(_common.threads_model, "limit", lambda: 1)
    elif condition == "workqueue threads":
        monkeypatch.setitem(_common._LAUNCHED, "layer", "workqueue")
    else:
        monkeypatch.setattr(_common, "_NUMPY_BLAS_UNTIL", time.monotonic() + 60)
    assert not lstm_stack.usable(1)


def test_not_used_in_a_forked_child(a_team, monkeypatch):
    monkeypatch.setitem(_common._LAUNCHED, "forked", True)  # as in a child forked after they began
    assert not lstm_stack.usable(1)


def test_one_numba_thread_in_this_thread_runs_both_layers_here(rng):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    lower, upper = make_layers(rng, 4, 5, 3, np.float64, bias=True)
    x = rng.normal(size=(2, 6, 4))
    expected = lstm_stack.lstm_stack_inference(x, lower, upper, True, together=False)
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        ys, (h, c), shared = lstm_stack.lstm_stack_inference(x, lower, upper, True)
    finally:
        numba.set_num_threads(before)
    assert not shared
    assert_close(ys, expected[0], "ys")
    assert_close(h, expected[1][0], "h_last")
