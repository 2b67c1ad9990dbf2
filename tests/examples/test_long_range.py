"""examples/long_range.py: the two tasks' generators (shapes, that the target really is the sum
of the marked values / the copied symbols), the baselines worked out here independently, the
per-step ratio of gradient norms, and the `--quick` run end to end."""
import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "long_range.py"
_spec = importlib.util.spec_from_file_location("long_range_example", EXAMPLE)
long_range = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(long_range)


# --- the adding problem ------------------------------------------------------------------------

def test_adding_problem_shapes_and_types():
    x, y = long_range.adding_problem(7, 12, seed=0)
    assert x.shape == (7, 12, 2) and x.dtype == np.float32
    assert y.shape == (7, 1) and y.dtype == np.float32


def test_adding_problem_marks_one_step_in_each_half():
    x, _ = long_range.adding_problem(500, 20, seed=1)
    markers = x[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers[:, :10].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, 10:].sum(axis=1), 1)


def test_adding_problem_target_is_the_sum_of_the_marked_values():
    x, y = long_range.adding_problem(300, 15, seed=2)
    values, markers = x[:, :, 0], x[:, :, 1]
    assert values.min() >= 0 and values.max() < 1
    for row in range(len(x)):
        marked = [values[row, t] for t in range(15) if markers[row, t] == 1]
        assert len(marked) == 2
        assert y[row, 0] == pytest.approx(marked[0] + marked[1], abs=1e-6)


def test_adding_problem_positions_cover_both_halves():
    x, _ = long_range.adding_problem(2000, 10, seed=3)
    first = x[:, :5, 1].argmax(axis=1)
    second = x[:, 5:, 1].argmax(axis=1) + 5
    assert set(first) == {0, 1, 2, 3, 4} and set(second) == {5, 6, 7, 8, 9}


def test_adding_problem_is_reproducible_from_its_seed():
    a, b, c = (long_range.adding_problem(4, 9, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_adding_baseline_is_the_variance_of_the_sum():
    # predicting 1.0 for every sequence: a Monte Carlo estimate of its MSE next to 2/12
    _, y = long_range.adding_problem(200_000, 4, seed=7)
    mse = float(np.mean((y - 1.0) ** 2))
    assert mse == pytest.approx(1 / 6, abs=2e-3)
    assert long_range.ADDING_BASELINE == pytest.approx(0.16667, abs=1e-5)
    assert long_range.baseline("adding", 1000, 5, 8) == long_range.ADDING_BASELINE


def test_adding_problem_refuses_fewer_than_two_steps():
    with pytest.raises(ValueError, match="needs steps >= 2; got 1"):
        long_range.adding_problem(3, 1)


# --- the copy task -----------------------------------------------------------------------------

def test_copy_task_layout():
    symbols, categories, lag = 3, 4, 6
    x, y = long_range.copy_task(50, lag, symbols, categories, seed=0)
    steps = lag + 2 * symbols  # 12
    assert x.shape == (50, steps, categories + 2) and x.dtype == np.float32
    assert y.shape == (50, steps) and np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(x.sum(axis=-1), 1)  # one-hot at every step
    ids = x.argmax(axis=-1)
    delimiter = categories + 1
    # symbols, lag - 1 = 5 blanks, the delimiter, 3 blanks
    assert ((ids[:, :3] >= 1) & (ids[:, :3] <= categories)).all()
    np.testing.assert_array_equal(ids[:, 3:8], 0)
    np.testing.assert_array_equal(ids[:, 8], delimiter)
    np.testing.assert_array_equal(ids[:, 9:], 0)


def test_copy_task_targets_are_the_symbols_at_the_end():
    x, y = long_range.copy_task(40, 10, symbols=4, categories=8, seed=1)
    ids = x.argmax(axis=-1)
    np.testing.assert_array_equal(y[:, -4:], ids[:, :4])  # the same symbols, in order
    np.testing.assert_array_equal(y[:, :-4], 0)  # blank everywhere else
    assert len(np.unique(ids[:, :4])) == 8  # every category is drawn somewhere


def test_copy_task_delimiter_after_a_lag_of_one():
    x, y = long_range.copy_task(2, 1, symbols=2, categories=3, seed=2)
    ids = x.argmax(axis=-1)
    assert ids.shape == (2, 5)
    np.testing.assert_array_equal(ids[:, 2], 4)  # no blank between the symbols and the delimiter


def test_copy_baseline_is_the_cross_entropy_of_the_memoryless_guess():
    symbols, categories, lag = 5, 8, 37
    _, y = long_range.copy_task(64, lag, symbols, categories, seed=3)
    steps = y.shape[1]
    # P(blank) = 1 until the outputs, then 1/K for each symbol and 0 for blank
    probabilities = np.zeros((64, steps, categories + 1))
    probabilities[:, :-symbols, 0] = 1.0
    probabilities[:, -symbols:, 1:] = 1.0 / categories
    picked = np.take_along_axis(probabilities, y[..., None], axis=-1)[..., 0]
    cross_entropy = float(-np.log(picked).mean())
    assert long_range.copy_baseline(lag, symbols, categories) == pytest.approx(cross_entropy)
    # Arjovsky et al.'s figure for 10 symbols of 8 and T = 100: 10 log 8 / 120
    assert long_range.copy_baseline(100, 10, 8) == pytest.approx(0.173287, abs=1e-6)


def test_copy_task_refuses_a_zero_lag():
    with pytest.raises(ValueError, match="lag >= 1.*got lag=0"):
        long_range.copy_task(2, 0)


def test_training_batches_are_fresh():
    batches = long_range.batches("copy", 3, 8, 2, 4, seed=0)
    (x1, y1), (x2, y2) = next(batches), next(batches)
    assert x1.shape == x2.shape == (8, 7, 6) and not np.array_equal(y1, y2)


# --- the gradient's per-step ratio -------------------------------------------------------------

def test_step_ratio_of_a_geometric_decay():
    by_distance = 3.0 * 0.8 ** np.arange(60)
    norms = by_distance[::-1]  # in time order: the last step is nearest the loss
    assert long_range.step_ratio(norms) == pytest.approx(0.8)
    assert long_range.step_ratio(norms, span=5) == pytest.approx(0.8)


def test_step_ratio_leaves_out_zeros():
    by_distance = 0.5 ** np.arange(10)
    by_distance[4] = 0.0  # an underflow
    assert long_range.step_ratio(by_distance[::-1]) == pytest.approx(0.5)
    assert math.isnan(long_range.step_ratio(np.zeros(5)))


# --- the quick run -----------------------------------------------------------------------------

RESULT = re.compile(r"RESULT adding_learned=SimpleRNN:(\d+),LSTM:(\d+),GRU:(\d+) "
                    r"copy_learned=SimpleRNN:(\d+),LSTM:(\d+),GRU:(\d+) "
                    r"rnn_step_ratio_init=(\d\.\d{3}) rnn_step_ratio_trained=(\d\.\d{3}) "
                    r"lstm_c_ratio_init=(\d\.\d{3}) "
                    r"gru_fewer_weights=(0\.\d{3}) lags=8 steps=10 .*")


def test_quick_run_prints_the_table_and_draws_both_pictures(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    match = RESULT.fullmatch(lines[-1])
    assert match, lines[-1]
    assert all(int(match.group(i)) in (0, 4, 8) for i in range(1, 7))
    # the quick run's copy layer: 8 units on 10 features; LSTM 4(10 + 8 + 1)8 = 608 weights,
    # GRU with Keras' two bias rows 3(10 + 8 + 2)8 = 480
    assert float(match.group(10)) == pytest.approx(1 - 480 / 608, abs=1e-3)
    assert "LSTM 608, GRU 480" in done.stdout
    # the baselines in the table: the adding problem's 2/12, the copy task's 5 log 8 / (4 + 10)
    assert re.search(r"^\s+4\s+0\.1667\s", done.stdout, re.M)
    assert re.search(rf"^\s+4\s+{5 * math.log(8) / 14:.4f}\s", done.stdout, re.M)
    assert all(0 < float(match.group(i)) < 2 for i in (7, 8, 9))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "pip install 'bptt[plot]'" in done.stdout
    else:
        for name in ("long_range_error.png", "long_range_gradient.png"):
            assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
