"""Conv1D against PyTorch's conv1d, finite differences, and a Keras 3 prediction."""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bptt import layers
from tests.helpers import torch_oracle
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward, random_weights
from tests.helpers.padding import keras_padding

TOL = {np.dtype("float32"): 1e-5, np.dtype("float64"): 1e-10}
GOLDEN = Path(__file__).parent.parent / "data" / "keras_golden_fn_conv1d_lstm.npz"


def torch_conv1d(x, kernel, bias, dy, stride, dilation, padding, activation="linear"):
    """y = act(conv1d(pad(x))) by PyTorch, and the gradients of sum(y * dy), in Keras' layout."""
    x_t = torch.tensor(x, requires_grad=True)
    weight = torch.tensor(kernel.transpose(2, 1, 0).copy(), requires_grad=True)  # (F, C, K)
    bias_t = None if bias is None else torch.tensor(bias, requires_grad=True)
    left, right = keras_padding(x.shape[1], kernel.shape[0], stride, dilation, padding)
    x_padded = F.pad(x_t.transpose(1, 2), (left, right))  # (B, C, Tp)
    z = F.conv1d(x_padded, weight, bias_t, stride=stride, dilation=dilation).transpose(1, 2)
    y = torch_oracle.TORCH_ACTIVATIONS[activation](z)
    (y * torch.tensor(dy)).sum().backward()
    return dict(y=y.detach().numpy(), dx=x_t.grad.numpy(),
                dkernel=weight.grad.numpy().transpose(2, 1, 0),
                dbias=None if bias is None else bias_t.grad.numpy())


def assert_close(actual, expected, dtype, name):
    scale = max(1.0, float(np.abs(expected).max()))  # weight gradients sum over B * T_out rows
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype] * scale,
                               err_msg=name)


WINDOWS = [(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)]  # (strides, dilation_rate)
SHAPES = [(3, 13, 5, 7, 3), (1, 10, 1, 1, 4), (2, 9, 3, 2, 1)]  # (B, T, C, F, K)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("stride, dilation", WINDOWS)
@pytest.mark.parametrize("shape", SHAPES)
def test_conv1d_matches_torch(padding, stride, dilation, shape, floatx, rng):
    B, T, C, filters, K = shape
    layer = layers.Conv1D(filters, K, strides=stride, dilation_rate=dilation, padding=padding,
                          activation="tanh")
    layer.build((None, T, C))
    random_weights(layer, rng)
    x = rng.normal(size=(B, T, C)).astype(floatx)
    steps = layer.compute_output_shape((B, T, C))[1]
    dy = rng.normal(size=(B, steps, filters)).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy)
    ref = torch_conv1d(x, *layer.get_weights(), dy, stride, dilation, padding, "tanh")
    assert y.shape == ref["y"].shape and y.dtype == floatx and dx.dtype == floatx
    for name, actual, expected in [("y", y, ref["y"]), ("dx", dx, ref["dx"]),
                                   ("dkernel", grads["kernel"], ref["dkernel"]),
                                   ("dbias", grads["bias"], ref["dbias"])]:
        assert_close(actual, expected, floatx, name)


@pytest.mark.parametrize("padding", ["same", "causal"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv1d_single_step_and_no_bias(padding, stride, floatx, rng):
    """T=1 (shorter than the kernel: only padding='same' / 'causal' can take it), no bias."""
    layer = layers.Conv1D(3, 4, strides=stride, padding=padding, use_bias=False)
    layer.build((None, 1, 2))
    x = rng.normal(size=(2, 1, 2)).astype(floatx)
    dy = rng.normal(size=(2, 1, 3)).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy)
    ref = torch_conv1d(x, layer.get_weights()[0], None, dy, stride, 1, padding)
    assert sorted(grads) == ["kernel"]
    for name, actual, expected in [("y", y, ref["y"]), ("dx", dx, ref["dx"]),
                                   ("dkernel", grads["kernel"], ref["dkernel"])]:
        assert_close(actual, expected, floatx, name)


@pytest.mark.parametrize("K", [1, 2, 3, 5])
def test_same_padding_at_stride_1_is_torchs_same(K, rng):
    """An independent check of the padding rule: at stride 1 PyTorch's own padding='same' puts
    the odd extra step on the right, as TensorFlow and Keras do."""
    layer = layers.Conv1D(2, K, padding="same", dilation_rate=2)
    x = rng.normal(size=(2, 8, 3)).astype("float32")
    y = layer(x)
    (kernel, bias) = layer.get_weights()
    ref = F.conv1d(torch.tensor(x).transpose(1, 2), torch.tensor(kernel.transpose(2, 1, 0).copy()),
                   torch.tensor(bias), padding="same", dilation=2).transpose(1, 2)
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("stride, dilation", WINDOWS)
@pytest.mark.parametrize("activation", [None, "sigmoid"])
def test_conv1d_finite_differences(padding, stride, dilation, activation, float64, rng):
    layer = layers.Conv1D(3, 3, strides=stride, dilation_rate=dilation, padding=padding,
                          activation=activation)
    layer.build((None, 8, 2))
    random_weights(layer, rng)
    steps = layer.compute_output_shape((None, 8, 2))[1]
    check_layer_by_finite_differences(layer, rng.normal(size=(2, 8, 2)),
                                      rng.normal(size=(2, steps, 3)))


def test_keras_prediction():
    """Keras 3's own prediction (tests/data/make_keras_golden_functional.py, conv1d_lstm): causal
    dilated Conv1D, MaxPooling1D, strided 'same' Conv1D, LSTM, Dense, with Keras' weights."""
    data = np.load(GOLDEN)
    stack = [layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
             layers.MaxPooling1D(2), layers.Conv1D(5, 2, strides=2, padding="same"),
             layers.LSTM(6), layers.Dense(1)]
    weights = iter(data[f"w0_{i}"] for i in range(9))
    y = data["x_0"]
    for layer in stack:  # build each layer on the way, then load Keras' weights into it
        y = layer(y)
        layer.set_weights([next(weights) for _ in layer.get_weights()])
    y = data["x_0"]
    for layer in stack:
        y = layer(y)
    np.testing.assert_allclose(y, data["pred_0"], rtol=1e-5, atol=1e-6)


def test_keras_defaults_weight_layout_and_config():
    layer = layers.Conv1D(7, 3)
    layer.build((None, 10, 4))
    assert layer.weight_names() == [f"{layer.name}/kernel", f"{layer.name}/bias"]
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4, 7) and bias.shape == (7,) and kernel.dtype == np.float32
    limit = np.sqrt(6 / (3 * 4 + 3 * 7))  # glorot_uniform with fans K*C and K*F, as Keras
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    assert not bias.any()
    config = layer.get_config()
    for key, value in dict(kernel_size=(3,), strides=(1,), padding="valid",
                           data_format="channels_last", dilation_rate=(1,), groups=1,
                           activation="linear", use_bias=True, kernel_initializer="glorot_uniform",
                           bias_initializer="zeros", kernel_regularizer=None).items():
        assert config[key] == value, key
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is layers.Conv1D and clone.get_config() == config
    # A config read back from JSON has lists where Keras wrote tuples.
    json_like = {**config, "kernel_size": [3], "strides": [1], "dilation_rate": [1]}
    assert layers.Conv1D.from_config(json_like).get_config() == config
    assert layers.Conv1D(2, 1, use_bias=False, padding="CAUSAL").padding == "causal"
    assert layers.Conv1D(5, 4, strides=3).compute_output_shape((None, None, 2)) == (None, None, 5)
    same = layers.Conv1D(5, 4, strides=3, padding="same")
    assert same.compute_output_shape((4, 10, 2)) == (4, 4, 5)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(filters=0, kernel_size=3), ValueError, "filters"),
    (dict(filters=2, kernel_size=0), ValueError, "kernel_size"),
    (dict(filters=2, kernel_size=(3, 3)), ValueError, "kernel_size"),
    (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), ValueError, "dilation_rate"),
    (dict(filters=2, kernel_size=3, padding="full"), ValueError, "padding"),
    (dict(filters=2, kernel_size=3, data_format="channels_first"), NotImplementedError,
     "channels_last"),
    (dict(filters=2, kernel_size=3, data_format="nhwc"), ValueError, "data_format"),
    (dict(filters=2, kernel_size=3, groups=2), NotImplementedError, "groups"),
    (dict(filters=2, kernel_size=3, groups=0), ValueError, "groups"),
    (dict(filters=2, kernel_size=3, kernel_regularizer="l2"), NotImplementedError,
     "kernel_regularizer"),
    (dict(filters=2, kernel_size=3, bias_constraint="non_neg"), NotImplementedError,
     "bias_constraint"),
    (dict(filters=2, kernel_size=3, kernel_sise=3), TypeError, "kernel_sise"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        layers.Conv1D(**kwargs)


def test_bad_inputs(rng):
    layer = layers.Conv1D(2, 3, dilation_rate=2)
    with pytest.raises(ValueError, match="rank 3"):
        layer.build((None, 8))
    with pytest.raises(ValueError, match="span 5"):
        layer.build((None, 4, 3))
    layer.build((None, None, 3))
    with pytest.raises(ValueError, match="built for 3 input channels"):
        layer.forward(rng.normal(size=(2, 8, 4)).astype("float32"))
    with pytest.raises(ValueError, match="rank 3"):
        layer.forward(rng.normal(size=(2, 8, 3, 1)).astype("float32"))
    with pytest.raises(ValueError, match="shorter than the kernel"):
        layer.forward(rng.normal(size=(2, 4, 3)).astype("float32"))
