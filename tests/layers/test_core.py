"""Dense, Activation, Dropout, Flatten and Input against PyTorch and finite differences."""
import numpy as np
import pytest
import torch

from bptt import layers
from tests.helpers import torch_oracle
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward, random_weights

TOL = {np.dtype("float32"): 1e-5, np.dtype("float64"): 1e-10}


@pytest.mark.parametrize("shape", [(1, 3), (4, 5), (2, 3, 5), (1, 1, 1), (3, 211, 40)])
@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax"])
def test_dense_matches_torch(shape, activation, floatx, rng, handoff):
    """handoff: the split GEMMs of bptt.kernels.gemm beside numba's team (3 * 211 rows of 40:
    two parts, above gemm.TINY_PRODUCT), else NumPy's products."""
    layer = layers.Dense(3, activation=activation)
    x = rng.normal(size=shape).astype(floatx)
    layer.build((None,) + shape[1:])
    random_weights(layer, rng)
    dy = rng.normal(size=shape[:-1] + (3,)).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy)
    ref = torch_oracle.dense(x, *layer.get_weights(), dy=dy, activation=activation or "linear")
    for name, actual, expected in [("y", y, ref["y"]), ("dx", dx, ref["dx"]),
                                   ("dkernel", grads["kernel"], ref["dkernel"]),
                                   ("dbias", grads["bias"], ref["dbias"])]:
        scale = max(1.0, float(np.abs(expected).max()))  # dkernel sums over all 633 rows
        np.testing.assert_allclose(actual, expected, rtol=TOL[floatx], atol=TOL[floatx] * scale,
                                   err_msg=name)
    assert y.dtype == floatx


@pytest.mark.parametrize("activation", [None, "sigmoid", "softmax", "relu"])
def test_dense_finite_differences(activation, float64, rng):
    layer = layers.Dense(4, activation=activation)
    layer.build((None, 3, 5))
    random_weights(layer, rng)
    check_layer_by_finite_differences(layer, rng.normal(size=(2, 3, 5)),
                                      rng.normal(size=(2, 3, 4)))


def test_dense_without_bias_and_keras_defaults():
    layer = layers.Dense(7, use_bias=False)
    layer.build((None, 3))
    assert [w.shape for w in layer.get_weights()] == [(3, 7)]
    config = layers.Dense(2).get_config()
    assert config["activation"] == "linear" and config["use_bias"] is True
    assert config["kernel_initializer"] == "glorot_uniform"
    assert config["bias_initializer"] == "zeros"
    assert layers.Dense(5).compute_output_shape((None, 50, 8)) == (None, 50, 5)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "softmax", "linear"])
def test_activation_layer(activation, float64, rng):
    layer = layers.Activation(activation)
    x = rng.normal(size=(3, 4))
    dy = rng.normal(size=(3, 4))
    y, dx, _ = forward_backward(layer, x, dy)
    y_torch, dx_torch = torch_oracle.activation(activation, x, dy)
    np.testing.assert_allclose(y, y_torch, atol=1e-12)
    np.testing.assert_allclose(dx, dx_torch, atol=1e-12)
    check_layer_by_finite_differences(layer, x, dy)


def test_dropout_scales_kept_units_and_is_identity_in_inference(rng):
    layer = layers.Dropout(0.25, seed=3)
    x = np.ones((200, 50), dtype="float32")
    y = layer.forward(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.02
    dy = rng.normal(size=x.shape).astype("float32")
    np.testing.assert_array_equal(layer.backward(dy), dy * (y / x))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.0)


def test_flatten_and_input(rng):
    layer = layers.Flatten()
    x = rng.normal(size=(2, 3, 4))
    dy = rng.normal(size=(2, 12))
    # PyTorch's flatten of every axis after the batch (row-major, as Keras'), and its gradient
    x_t = torch.tensor(x, requires_grad=True)
    y_t = torch.flatten(x_t, start_dim=1)
    (y_t * torch.tensor(dy)).sum().backward()
    np.testing.assert_array_equal(layer.forward(x), y_t.detach().numpy())
    np.testing.assert_array_equal(layer.backward(dy), x_t.grad.numpy())
    assert layer.forward(x)[1, 4 * 2 + 3] == x[1, 2, 3]  # y[b, 4 i + j] = x[b, i, j]
    assert layer.compute_output_shape((None, 3, 4)) == (None, 12)
    inp = layers.Input(shape=(50,))
    assert inp.shape == (None, 50)
    assert inp.node.layer.input_shape == (None, 50)
    with pytest.raises(ValueError, match="shape"):
        layers.Input()


def test_set_weights_checks_shapes_and_changes_nothing_on_error():
    layer = layers.Dense(3)
    layer.build((None, 2))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"has shape \(3,\), got an array of shape \(4,\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros((4,))])
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        layer.set_weights([np.zeros((2, 3))])


def test_a_layer_with_only_call_is_refused_with_the_way_out():
    class Scale(layers.Layer):
        def call(self, x):
            return 2 * x

    with pytest.raises(NotImplementedError, match="hand-written backward.*forward\\(x, training\\)"):
        Scale()

    class Twice(layers.Layer):  # the supported way: forward and backward by hand
        def forward(self, x, training=False):
            return 2 * x

        def backward(self, dy):
            return 2 * dy

    assert np.array_equal(Twice()(np.ones((1, 2))), 2 * np.ones((1, 2)))
