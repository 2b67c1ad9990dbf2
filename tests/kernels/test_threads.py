"""The thread cost model (bptt.kernels.threads): how many threads, how many parts, and that a
model trains to the same numbers whatever the count (1, 2 and 3 threads on any machine), in a
process allowed one core, and in a forked child."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bptt.kernels import _common
from bptt.kernels import threads as threads_model


def test_limit_is_the_affinity_unless_set(monkeypatch):
    monkeypatch.setattr(threads_model, "_REQUESTED", None)
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    assert threads_model.limit() == len(os.sched_getaffinity(0))
    threads_model.set_num_threads(5)
    assert threads_model.limit() == 5 and threads_model.get_num_threads() == 5
    threads_model.set_num_threads(None)
    assert threads_model.limit() == len(os.sched_getaffinity(0))


def test_numba_num_threads_caps_the_automatic_count(monkeypatch):
    import numba

    monkeypatch.setattr(threads_model, "_REQUESTED", None)
    monkeypatch.setattr(threads_model, "cores", lambda: 16)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "4")
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 4)
    assert threads_model.limit() == 4
    monkeypatch.delenv("NUMBA_NUM_THREADS")
    assert threads_model.limit() == 16


@pytest.mark.parametrize("bad", [0, -2, 1.5, "4", True])
def test_set_num_threads_refuses_what_is_not_a_count(monkeypatch, bad):
    monkeypatch.setattr(threads_model, "_REQUESTED", 2)
    with pytest.raises(ValueError, match=r"whole number of threads >= 1.*got"):
        threads_model.set_num_threads(bad)
    assert threads_model.limit() == 2  # unchanged


@pytest.mark.parametrize("cores", [1, 2, 4, 16, 64])
def test_parts_grow_with_the_work_up_to_the_threads(monkeypatch, cores):
    monkeypatch.setattr(threads_model, "_REQUESTED", cores)
    rows = threads_model.MIN_PER_THREAD["rows"]
    assert threads_model.parts("rows", rows - 1) == 1  # too little for two
    assert threads_model.parts("rows", 2 * rows) == min(2, cores)
    assert threads_model.parts("rows", 128) == min(cores, 128 // rows)
    assert threads_model.parts("gemm", 50 * 128) == min(cores, 50 * 128 // 256)
    assert threads_model.parts("rows", 10 ** 6) == cores  # never more than the threads


def test_the_pool_follows_the_limit(monkeypatch):
    monkeypatch.setattr(threads_model, "_REQUESTED", 3)
    assert _common._pool()._max_workers == 2
    monkeypatch.setattr(threads_model, "_REQUESTED", 5)
    assert _common._pool()._max_workers == 4


def train_three_steps(threads):
    """Weights after three Adam steps of a small Embedding-LSTM-GRU-Dense model at batch 40."""
    from bptt import layers, models, utils

    threads_model.set_num_threads(threads)
    try:
        utils.set_random_seed(0)
        model = models.Sequential([layers.Input(shape=(12,), dtype="int32"),
                                   layers.Embedding(300, 16),
                                   layers.LSTM(24, return_sequences=True),
                                   layers.GRU(8),
                                   layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        rng = np.random.default_rng(1)
        x = rng.integers(0, 300, size=(40, 12))
        y = rng.integers(0, 2, size=(40, 1)).astype("float32")
        for _ in range(3):
            model.train_on_batch(x, y)
        return model.get_weights(), model.predict_on_batch(x)
    finally:
        threads_model.set_num_threads(None)


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    """Batch 40 gives 1, 2 or 3 parts of the time loops (5 rows a part at least, lowered so
    that the split happens at this size): the same weights and predictions to float rounding."""
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows", 5)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows_without_team", 5)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "gemm", 16)
    one_weights, one_predictions = train_three_steps(1)
    for threads in (2, 3):
        weights, predictions = train_three_steps(threads)
        for ours, theirs in zip(weights, one_weights):
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(predictions, one_predictions, rtol=1e-5, atol=1e-6)


CHILD = textwrap.dedent("""
    import os, sys
    import numpy as np
    {before}
    from bptt import layers, models
    from bptt.kernels import threads
    model = models.Sequential([layers.Input(shape=(10,), dtype="int32"), layers.Embedding(50, 8),
                               layers.LSTM(8), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).integers(0, 50, size=(64, 10))
    loss = model.train_on_batch(x, np.ones((64, 1), "float32"))
    print(threads.limit(), float(loss))
""")


def run_child(before):
    result = subprocess.run([sys.executable, "-c", CHILD.format(before=before)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    limit, loss = result.stdout.split()
    return int(limit), float(loss)


def test_a_process_allowed_one_core_runs_on_one_thread():
    limit, loss = run_child("os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})")
    assert limit == 1 and np.isfinite(loss)


def test_a_forked_child_trains_after_its_parent_split_work():
    """The parent runs split work first (numba's team started); the child, forked after, has no
    team and must still train (helper threads instead)."""
    before = textwrap.dedent("""
        from bptt import layers as L, models as M
        from bptt.kernels import threads as T
        T.set_num_threads(2)
        m = M.Sequential([L.Input(shape=(10,), dtype="int32"), L.Embedding(50, 8), L.LSTM(8)])
        m.compile(optimizer="adam", loss="mse")
        m.train_on_batch(np.zeros((64, 10), "int64"), np.zeros((64, 8), "float32"))
        pid = os.fork()
        if pid:
            _, status = os.waitpid(pid, 0)
            sys.exit(os.waitstatus_to_exitcode(status))
    """)
    limit, loss = run_child(before)
    assert limit == 2 and np.isfinite(loss)


def test_a_region_wakes_only_as_many_of_numbas_threads_as_it_has_parts():
    import numba

    before = numba.get_num_threads()
    try:
        _common.team_of(1)
        assert numba.get_num_threads() == 1
        _common.team_of(10 ** 6)  # never more than numba has
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    finally:
        numba.set_num_threads(before)
        _common._TEAM.size = before
