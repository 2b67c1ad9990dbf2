"""keras.activations on arrays (Keras' docstring numbers, PyTorch's functions) and as layer
arguments (the same as the activation's name)."""
import numpy as np
import pytest
import torch

from bptt import activations, layers

X = [-10, -5, 0.0, 5, 10]


@pytest.mark.parametrize("kwargs, expected", [
    ({}, [0, 0, 0, 5, 10]),
    ({"negative_slope": 0.5}, [-5, -2.5, 0, 5, 10]),
    ({"max_value": 5.0}, [0, 0, 0, 5, 5]),
    ({"threshold": 5.0}, [0, 0, 0, 0, 10]),
])
def test_relu_reproduces_keras_docstring(kwargs, expected):
    np.testing.assert_array_equal(activations.relu(X, **kwargs), np.float32(expected))


def test_relu_with_every_argument_follows_keras_order():
    # threshold -1: x kept above -1, capped at [0, 2], minus 0.1 * (how far below -1)
    y = activations.relu(np.array([-3.0, -0.5, 1.0, 4.0]), negative_slope=0.1, max_value=2.0,
                         threshold=-1.0)
    np.testing.assert_allclose(y, [-0.2, 0.0, 1.0, 2.0])


@pytest.mark.parametrize("name, torch_fn", [
    ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu),
    ("hard_sigmoid", lambda t: torch.clamp(t / 6 + 0.5, 0, 1)), ("linear", lambda t: t),
    ("softmax", lambda t: torch.softmax(t, dim=-1)),
])
def test_functions_match_torch(name, torch_fn, rng):
    x = rng.normal(size=(3, 5)) * 4
    np.testing.assert_allclose(getattr(activations, name)(x), torch_fn(torch.tensor(x)).numpy(),
                               rtol=1e-12, atol=1e-15)


def test_softmax_along_another_axis(rng):
    x = rng.normal(size=(2, 3, 4))
    expected = torch.softmax(torch.tensor(x), dim=1).numpy()
    np.testing.assert_allclose(activations.softmax(x, axis=1), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "hard_sigmoid", "linear", "softmax"])
def test_a_function_as_a_layer_argument_is_its_name(name, rng):
    by_function, by_name = layers.Dense(3, activation=getattr(activations, name)), \
        layers.Dense(3, activation=name)
    assert by_function.get_config()["activation"] == name
    by_function.build((None, 4)), by_name.build((None, 4))
    by_name.set_weights(by_function.get_weights())
    x = rng.normal(size=(2, 4)).astype("float32")
    np.testing.assert_array_equal(by_function(x), by_name(x))


def test_get_and_serialize():
    assert activations.get("relu") is activations.relu
    assert activations.get(None) is activations.linear
    assert activations.serialize(activations.tanh) == "tanh"
    with pytest.raises(ValueError, match="relu"):
        activations.get("rleu")
