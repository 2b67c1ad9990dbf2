"""Saving writes files whole or not at all: a temporary file, fsync, rename; the umask's mode;
no temporary file left behind by a failure, and those of a killed process cleaned by the next
save; settings a file cannot hold are refused before anything is written."""
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from bptt import layers, models, optimizers
from bptt.saving import model_file
from tests.helpers import model_files as mf

TEMP_MARK = ".bptt-tmp-"


def dense_model(units=8):
    model = models.Sequential([layers.Input(shape=(4,)), layers.Dense(units), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def temp_files(directory):
    return sorted(name for name in os.listdir(directory) if TEMP_MARK in name)


@pytest.fixture
def umask():
    """Set the umask for the test; the previous one is restored."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_mode_the_umask_gives(tmp_path, umask, mask, mode):
    umask(mask)
    model = dense_model()
    model.save(tmp_path / "m.bptt")
    model.save_weights(tmp_path / "w.weights.npz")
    assert stat.S_IMODE(os.stat(tmp_path / "m.bptt").st_mode) == mode
    assert stat.S_IMODE(os.stat(tmp_path / "w.weights.npz").st_mode) == mode


def test_saving_syncs_the_file_and_its_directory(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    dense_model().save(tmp_path / "m.bptt")
    assert synced == [False, True]  # the file's data, then the rename in the directory


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch,
                                                                       rng):
    path = tmp_path / "m.bptt"
    old = dense_model()
    old.save(path)
    before = path.read_bytes()

    def failing(handle, entries):
        handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(model_file, "write_zip", failing)
    with pytest.raises(OSError, match="disk full"):
        dense_model().save(path)
    assert path.read_bytes() == before
    assert temp_files(tmp_path) == []
    monkeypatch.undo()
    x = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(models.load_model(path).predict(x, verbose=0),
                                  old.predict(x, verbose=0))


def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_next_save_removes_temporary_files_of_processes_that_ended(tmp_path):
    path = tmp_path / "m.bptt"
    dead = tmp_path / f".m.bptt{TEMP_MARK}{_dead_pid()}-0a1b2c"
    mine = tmp_path / f".m.bptt{TEMP_MARK}{os.getpid()}-3d4e5f"  # a save of this process
    other_target = tmp_path / f".other.bptt{TEMP_MARK}{_dead_pid()}-777777"
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as alive:
        living = tmp_path / f".m.bptt{TEMP_MARK}{alive.pid}-999999"
        for leftover in (dead, mine, other_target, living):
            leftover.write_bytes(b"partial")
        dense_model().save(path)
        alive.kill()
    assert temp_files(tmp_path) == sorted(p.name for p in (mine, other_target, living))
    models.load_model(path)


def test_a_callable_learning_rate_is_refused_before_anything_is_written(tmp_path, rng):
    model = dense_model()
    model.compile(optimizer=optimizers.Adam(learning_rate=lambda: 0.01), loss="mse")
    model.fit(rng.normal(size=(8, 4)), rng.normal(size=(8, 1)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`learning_rate` is a Python callable") as error:
        model.save(tmp_path / "m.bptt")
    assert "float(model.optimizer.learning_rate)" in str(error.value)
    assert os.listdir(tmp_path) == []
    # with a float it saves, and the weights alone save either way
    model.save_weights(tmp_path / "w.weights.npz")
    model.optimizer.learning_rate = float(model.optimizer.learning_rate)
    model.save(tmp_path / "m.bptt")
    assert models.load_model(tmp_path / "m.bptt").optimizer.learning_rate == pytest.approx(0.01)


SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    from bptt import layers, models
    model = models.Sequential([layers.Input(shape=(512,)), layers.Dense(1024), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    step = 0
    while True:
        for weight in model.weights:
            weight[...] = step  # each save holds one value everywhere: step
        model.save(sys.argv[1])
        step += 1
        if step == 1:
            print("saving", flush=True)
""")


def test_killing_a_process_while_it_saves_never_damages_the_file(tmp_path):
    """A process saves a 2 MB model in a loop; it is killed (SIGKILL) at random moments and
    while it writes. The file always loads, as one whole save; the next save removes what the
    killed processes left."""
    path = tmp_path / "m.bptt"
    rng = np.random.default_rng(12)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    left_behind = 0
    for attempt in range(6):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(path)],
                                 stdout=subprocess.PIPE, env=env)
        assert saver.stdout.readline() == b"saving\n"
        if attempt % 2:  # at a random moment
            time.sleep(rng.uniform(0.0, 0.15))
        else:  # as soon as a save is seen writing its temporary file
            deadline = time.monotonic() + 5
            while not temp_files(tmp_path) and time.monotonic() < deadline:
                pass
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        saver.stdout.close()
        left_behind += len(temp_files(tmp_path))
        loaded = models.load_model(path, compile=False)
        values = {float(np.unique(w)[0]) for w in loaded.weights}
        assert len(values) == 1 and all(np.unique(w).size == 1 for w in loaded.weights)
    assert left_behind > 0  # some kills did land in the middle of a save
    dense_model().save(path)
    assert temp_files(tmp_path) == []
