"""Data-parallel training (bptt.distribution) gives one process's results: N processes under
mpiexec end with the weights, logs, evaluation and predictions of one process, to float32
round-off, with shuffling, dropout and batches that do not split evenly."""
import sys

import numpy as np
import pytest

from bptt import distribution, layers, models
from tests.distribution.conftest import load, mpiexec, run_processes, weights


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    mpiexec()  # the comparisons need several processes: skip here, saying why, without them
    out = tmp_path_factory.mktemp("one") / "one.npz"
    done = run_processes(0, out, "--distributed")
    assert done.returncode == 0, done.stderr
    return load(out)


def assert_same_training(single, several):
    assert int(several["processes"]) > 1
    for a, b in zip(weights(single), weights(several), strict=True):
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6)
    for key in ("loss", "accuracy", "eval_loss", "eval_accuracy"):
        np.testing.assert_allclose(several[key], single[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(several["predictions"], single["predictions"], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("processes, batch_size", [(2, 8), (3, 8), (3, 2)])
def test_processes_train_as_one(tmp_path, one_process, processes, batch_size):
    """2 processes split 8 rows 4 + 4 and the last batch of 5 as 2 + 3; 3 processes split 8 as
    2 + 3 + 3. With batch_size 2 on 3 processes one rank has no rows at all each step."""
    single = one_process
    if batch_size != 8:
        single_out = tmp_path / "single.npz"
        done = run_processes(0, single_out, "--distributed", "--batch-size", batch_size)
        assert done.returncode == 0, done.stderr
        single = load(single_out)
    out = tmp_path / "several.npz"
    done = run_processes(processes, out, "--distributed", "--batch-size", batch_size)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_same_training(single, load(out))


def test_the_weights_did_train(one_process):
    """The comparison above is between trained models: the run changes the weights."""
    from tests.distribution.data_parallel_run import build_model
    from bptt.utils import set_random_seed

    set_random_seed(3)
    model = build_model()
    model.build((None, 6))
    before = model.get_weights()
    assert any(np.abs(a - b).max() > 1e-3 for a, b in zip(before, weights(one_process)))


def test_resume_after_a_process_dies_equals_no_failure(tmp_path, one_process):
    """Rank 1 dies after epoch 1; mpiexec ends the job; a new job resumes from the checkpoint
    rank 0 wrote after that epoch and ends with the weights of a run that never failed."""
    checkpoint = tmp_path / "checkpoint.bptt"
    died = run_processes(2, tmp_path / "unused.npz", "--distributed", "--epochs", 2,
                         "--checkpoint", checkpoint, "--die-after-epoch", 1)
    assert died.returncode != 0
    assert checkpoint.exists()
    out = tmp_path / "resumed.npz"
    done = run_processes(2, out, "--distributed", "--epochs", 2, "--initial-epoch", 1,
                         "--resume-from", checkpoint)
    assert done.returncode == 0, done.stdout + done.stderr
    resumed = load(out)
    for a, b in zip(weights(one_process), weights(resumed), strict=True):
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6)


def test_one_process_data_parallel_is_plain_training(rng):
    pytest.importorskip("mpi4py", reason="DataParallel needs mpi4py: pip install 'bptt[mpi]'")
    x = rng.integers(1, 9, size=(10, 4))
    y = rng.random((10, 1)).astype("float32")
    results = []
    for setting in (None, distribution.DataParallel()):
        distribution.set_distribution(setting)
        try:
            from bptt.utils import set_random_seed

            set_random_seed(0)
            model = models.Sequential([layers.Input(shape=(4,)), layers.Embedding(9, 3),
                                       layers.LSTM(2, dropout=0.5), layers.Dense(1)])
            model.compile(optimizer="adam", loss="mse")
            model.fit(x, y, batch_size=3, epochs=2, verbose=0)
            results.append(model.get_weights())
        finally:
            distribution.set_distribution(None)
    assert distribution.distribution() is None
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_without_mpi4py_the_error_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'bptt\[mpi\]'"):
        distribution.DataParallel()


def test_set_distribution_refuses_other_values():
    with pytest.raises(ValueError, match="DataParallel"):
        distribution.set_distribution("data_parallel")


def test_keras_names_that_bptt_does_not_have_say_so():
    with pytest.raises(AttributeError, match="DataParallel only"):
        distribution.ModelParallel  # noqa: B018
