"""bptt.ops.activations: every value and derivative against PyTorch and finite differences."""
import numpy as np
import pytest

from bptt.ops import activations
from tests.helpers import assert_close, torch_oracle
from tests.helpers.gradcheck import assert_grad_close, numerical_grad

ELEMENTWISE = ["sigmoid", "tanh", "relu", "linear", "hard_sigmoid"]
KINKS = {"relu": [0.0], "hard_sigmoid": [-3.0, 3.0]}  # where the derivative jumps


def sample(rng, name, shape=(4, 7)):
    """Pre-activations spread over the interesting range, kept 1e-3 away from any kink."""
    a = rng.uniform(-5, 5, size=shape)
    for kink in KINKS.get(name, []):
        near = np.abs(a - kink) < 1e-3
        a[near] = kink + 1e-2
    return a


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_activation_and_derivative_match_torch(rng, name, dtype):
    a = sample(rng, name).astype(dtype)
    dy = rng.normal(size=a.shape).astype(dtype)
    y_torch, da_torch = torch_oracle.activation(name, a, dy)
    y = activations.apply(name, a)
    assert_close(y, y_torch, "y")
    assert_close(activations.backward(name, dy, y), da_torch, "da")


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_derivative_matches_finite_differences(rng, name):
    a = sample(rng, name)
    dy = rng.normal(size=a.shape)
    da = activations.backward(name, dy, activations.apply(name, a))
    assert_grad_close(da, numerical_grad(lambda: (activations.apply(name, a) * dy).sum(), a), name)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_stable_for_huge_inputs(dtype):
    a = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is the right answer
        y = activations.apply("sigmoid", a)
        dy_da = activations.backward("sigmoid", np.ones_like(y), y)
    assert y.dtype == dtype and dy_da.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dy_da))
    assert y[0] == 0 and y[-1] == 1 and y[3] == 0.5
    np.testing.assert_allclose(y[[2, 4]], [np.exp(-30.0) / (1 + np.exp(-30.0)), 1 / (1 + np.exp(-30.0))],
                               rtol=1e-6)
    assert np.all(np.diff(y) >= 0)


@pytest.mark.filterwarnings("error")
def test_softmax_is_stable_for_huge_inputs():
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is the right answer
        y = activations.apply("softmax", np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]]))
    np.testing.assert_allclose(y, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_at_saturated_inputs_matches_torch(name):
    a = np.array([-10.0, -4.0, 4.0, 10.0])
    y = activations.apply(name, a)
    da = activations.backward(name, np.ones_like(a), y)
    _, da_torch = torch_oracle.activation(name, a, np.ones_like(a))
    assert_close(da, da_torch, name)


def test_derivative_is_zero_where_relu_and_hard_sigmoid_are_flat():
    a = np.array([-10.0, -4.0, -3.5, 3.5, 4.0, 10.0])
    ones = np.ones_like(a)
    np.testing.assert_array_equal(activations.backward("hard_sigmoid", ones, activations.apply("hard_sigmoid", a)), 0)
    relu_da = activations.backward("relu", ones, activations.apply("relu", a))
    np.testing.assert_array_equal(relu_da, [0, 0, 0, 1, 1, 1])


def test_get_resolves_names_callables_and_none():
    assert activations.get(None) == "linear"
    assert activations.get("tanh") == "tanh"
    assert activations.get(activations.sigmoid) == "sigmoid"
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get("swish_typo")
