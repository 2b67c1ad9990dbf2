"""Poisson and KL divergence: values and gradients against PyTorch's poisson_nll_loss and
kl_div, finite differences in float64, and Keras' metric docstring numbers."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bptt import losses, metrics
from bptt.ops.activations import softmax
from tests.test_losses import check_against, check_finite_differences

B, T, C = 5, 3, 4


@pytest.mark.parametrize("shape", [(B, C), (B, T, C)])
def test_poisson_matches_torch_poisson_nll_loss(rng, shape):
    y_true, y_pred = rng.poisson(2.0, shape).astype(float), rng.uniform(0.1, 4.0, shape)
    target = torch.tensor(y_true)
    check_against(losses.Poisson(), y_true, y_pred,
                  lambda x: F.poisson_nll_loss(x, target, log_input=False, eps=1e-7))


@pytest.mark.parametrize("shape", [(B, C), (B, T, C)])
def test_kl_divergence_matches_torch_kl_div(rng, shape):
    y_true, y_pred = softmax(rng.standard_normal(shape)), softmax(rng.standard_normal(shape))
    target = torch.tensor(y_true)
    rows = int(np.prod(shape[:-1]))  # Keras sums over the last axis, then averages the rest
    check_against(losses.KLDivergence(), y_true, y_pred,
                  lambda x: F.kl_div(torch.log(x), target, reduction="sum") / rows)


def test_kl_divergence_clips_both_sides_to_eps_and_one():
    y_true, y_pred = np.array([[0.0, 1.0]]), np.array([[0.5, 2.0]])
    value, grad = losses.KLDivergence().value_and_grad(y_true, y_pred)
    # t' = (1e-7, 1), p' = (0.5, 1): 1e-7 log(1e-7 / 0.5) + 1 log(1 / 1)
    assert value == pytest.approx(1e-7 * np.log(1e-7 / 0.5))
    assert grad[0, 1] == 0  # p = 2 was clipped: no gradient
    assert grad[0, 0] == pytest.approx(-1e-7 / 0.5)


@pytest.mark.parametrize("loss", [losses.Poisson(), losses.KLDivergence()],
                         ids=lambda l: type(l).__name__)
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_match_finite_differences(rng, loss, weighted):
    y_true = rng.uniform(0.05, 0.9, (B, T, C))
    y_pred = rng.uniform(0.05, 0.9, (B, T, C))
    kwargs = {"sample_weight": rng.uniform(0, 2, (B, T))} if weighted else {}
    check_finite_differences(loss, y_true, y_pred, **kwargs)


def test_names():
    assert type(losses.get("kld")) is losses.KLDivergence
    assert type(losses.get("poisson")) is losses.Poisson
    assert losses.KLDivergence().name == "kl_divergence"


# Keras' docstring examples (keras/src/metrics/probabilistic_metrics.py).
@pytest.mark.parametrize("metric, y_pred, plain, weighted", [
    (metrics.KLDivergence, [[0.6, 0.4], [0.4, 0.6]], 0.45814306, 0.9162892),
    (metrics.Poisson, [[1, 1], [0, 0]], 0.49999997, 0.99999994),
])
def test_metrics_reproduce_keras_docstrings(metric, y_pred, plain, weighted):
    m = metric()
    m.update_state([[0, 1], [0, 0]], y_pred)
    assert m.result() == pytest.approx(plain, rel=1e-6)
    m.reset_state()
    m.update_state([[0, 1], [0, 0]], y_pred, sample_weight=[1, 0])
    assert m.result() == pytest.approx(weighted, rel=1e-6)
