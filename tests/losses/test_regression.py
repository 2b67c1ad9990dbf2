"""Huber, log-cosh, mean absolute percentage and mean squared logarithmic error: values and
gradients against PyTorch (its huber_loss, and Keras' formulas written in torch where it has no
such loss), finite differences in float64, configs and names."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bptt import losses, metrics
from tests.test_losses import check_against, check_finite_differences

B, T, C = 5, 3, 4
EPS = 1e-7  # Keras' epsilon


def pair(rng, shape, scale=1.0):
    return rng.standard_normal(shape) * scale, rng.standard_normal(shape) * scale


@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
@pytest.mark.parametrize("shape", [(B, 1), (B, C), (B, T, C)])
def test_huber_matches_torch_huber_loss(rng, delta, shape):
    y_true, y_pred = pair(rng, shape, scale=2.0)  # errors on both sides of delta
    target = torch.tensor(y_true)
    check_against(losses.Huber(delta=delta), y_true, y_pred,
                  lambda x: F.huber_loss(x, target, delta=delta))


@pytest.mark.parametrize("shape", [(B, C), (B, T, C)])
def test_log_cosh_matches_torch(rng, shape):
    y_true, y_pred = pair(rng, shape, scale=3.0)
    target = torch.tensor(y_true)
    check_against(losses.LogCosh(), y_true, y_pred,
                  lambda x: torch.log(torch.cosh(x - target)).mean())


def test_log_cosh_does_not_overflow_for_large_errors():
    value, grad = losses.LogCosh().value_and_grad(np.zeros((1, 2)), np.array([[1000.0, -1000.0]]))
    assert value == pytest.approx(1000.0 - np.log(2.0))  # log cosh e -> |e| - log 2
    np.testing.assert_allclose(grad, [[0.5, -0.5]])  # tanh(+-1000) / C


@pytest.mark.parametrize("shape", [(B, C), (B, T, C)])
def test_mean_absolute_percentage_error_matches_keras_formula_in_torch(rng, shape):
    y_true, y_pred = pair(rng, shape)
    y_true.flat[0] = 0.0  # divided by eps, not by zero
    target = torch.tensor(y_true)
    check_against(losses.MeanAbsolutePercentageError(), y_true, y_pred,
                  lambda x: 100 * (torch.abs(target - x) / torch.clamp(target.abs(), min=EPS)).mean())


@pytest.mark.parametrize("shape", [(B, C), (B, T, C)])
def test_mean_squared_logarithmic_error_matches_keras_formula_in_torch(rng, shape):
    y_true, y_pred = rng.uniform(0, 3, shape), rng.uniform(-0.5, 3, shape)  # some p below eps
    target = torch.log(torch.clamp(torch.tensor(y_true), min=EPS) + 1)
    check_against(losses.MeanSquaredLogarithmicError(), y_true, y_pred,
                  lambda x: ((torch.log(torch.clamp(x, min=EPS) + 1) - target) ** 2).mean())


@pytest.mark.parametrize("loss", [losses.Huber(), losses.Huber(delta=0.4), losses.LogCosh(),
                                  losses.MeanAbsolutePercentageError(),
                                  losses.MeanSquaredLogarithmicError()],
                         ids=lambda l: f"{type(l).__name__}")
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_match_finite_differences(rng, loss, weighted):
    y_true = rng.uniform(0.2, 2.0, (B, T, C))
    # away from the kinks (|e| = delta, e = 0, p = eps) where a difference quotient straddles them
    y_pred = y_true + rng.choice([-1, 1], (B, T, C)) * rng.uniform(0.05, 1.5, (B, T, C))
    if isinstance(loss, losses.Huber):
        y_pred = np.where(np.abs(np.abs(y_pred - y_true) - loss.delta) < 1e-3, y_pred + 0.01, y_pred)
    if isinstance(loss, losses.MeanSquaredLogarithmicError):
        y_pred = np.abs(y_pred) + 1e-3
    kwargs = {"sample_weight": rng.uniform(0, 2, (B, T))} if weighted else {}
    check_finite_differences(loss, y_true, y_pred, **kwargs)


def test_msle_has_no_gradient_where_the_prediction_is_clipped():
    _, grad = losses.MeanSquaredLogarithmicError().value_and_grad(np.ones((1, 2)),
                                                                 np.array([[-2.0, 0.5]]))
    assert grad[0, 0] == 0 and grad[0, 1] != 0


def test_keras_names_configs_and_functions():
    assert losses.get("huber").name == "huber" and isinstance(losses.get("huber"), losses.Huber)
    assert losses.Huber().name == "huber_loss"
    for name, cls in [("mape", losses.MeanAbsolutePercentageError), ("MSLE",
                      losses.MeanSquaredLogarithmicError), ("log_cosh", losses.LogCosh),
                      ("LogCosh", losses.LogCosh), ("mean_absolute_percentage_error",
                      losses.MeanAbsolutePercentageError)]:
        assert type(losses.get(name)) is cls
    huber = losses.Huber(delta=0.5, reduction="sum", name="h")
    config = json.loads(json.dumps(huber.get_config()))
    assert config == {"name": "h", "reduction": "sum", "delta": 0.5}
    assert losses.get({"class_name": "Huber", "config": config}).delta == 0.5
    y_true, y_pred = np.array([[0.0, 3.0]]), np.array([[0.5, 0.0]])
    # per-sample values, as keras.losses.huber: mean of (0.125, 3 - 0.5) for delta 1
    np.testing.assert_allclose(losses.huber(y_true, y_pred), [(0.125 + 2.5) / 2])
    np.testing.assert_allclose(losses.log_cosh(y_true, y_pred),
                               [np.mean(np.log(np.cosh([0.5, 3.0])))])


# Keras' docstring examples of the metrics (keras/src/metrics/regression_metrics.py), with and
# without sample_weight=[1, 0].
@pytest.mark.parametrize("metric, plain, weighted", [
    (metrics.MeanAbsolutePercentageError, 250000000.0, 500000000.0),
    (metrics.MeanSquaredLogarithmicError, 0.12011322, 0.24022643),
    (metrics.RootMeanSquaredError, 0.5, 0.70710677),
    (metrics.LogCoshError, 0.10844523, 0.21689045),
])
def test_metrics_reproduce_keras_docstrings(metric, plain, weighted):
    m = metric()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    assert m.result() == pytest.approx(plain, rel=1e-6)
    m.reset_state()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
    assert m.result() == pytest.approx(weighted, rel=1e-6)


def test_metric_names_as_keras():
    assert metrics.LogCoshError().name == "logcosh"
    assert metrics.RootMeanSquaredError().name == "root_mean_squared_error"
    assert type(metrics.get("mape")) is metrics.MeanAbsolutePercentageError
    assert metrics.get("msle").name == "msle"
