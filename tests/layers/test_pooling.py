"""1-D pooling layers against PyTorch's max_pool1d / avg_pool1d, finite differences and the
examples of Keras' documentation."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bptt import layers
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward
from tests.helpers.padding import keras_padding

TOL = {np.dtype("float32"): 1e-6, np.dtype("float64"): 1e-12}


def torch_pool1d(kind, x, dy, pool_size, stride, padding):
    """(y, dx) of Keras' pooling by PyTorch: pad as Keras does (-inf for max; zeros for average,
    whose divisor then counts only the real cells), pool, and differentiate sum(y * dy)."""
    x_t = torch.tensor(x, requires_grad=True)
    left, right = keras_padding(x.shape[1], pool_size, stride, 1, padding)
    channels_first = x_t.transpose(1, 2)  # (B, C, T)
    if kind == "max":
        padded = F.pad(channels_first, (left, right), value=-np.inf)
        y = F.max_pool1d(padded, pool_size, stride)
    else:
        padded = F.pad(channels_first, (left, right))
        real = F.pad(torch.ones_like(channels_first), (left, right))
        y = F.avg_pool1d(padded, pool_size, stride) / F.avg_pool1d(real, pool_size, stride)
    y = y.transpose(1, 2)
    (y * torch.tensor(dy)).sum().backward()
    return y.detach().numpy(), x_t.grad.numpy()


POOLS = [(2, None), (3, 1), (3, 2), (2, 3), (4, 3), (1, 1)]  # (pool_size, strides)
SHAPES = [(3, 11, 5), (1, 7, 1), (2, 4, 3)]  # (B, T, C)


def pooling_layer(kind, pool_size, strides, padding):
    cls = layers.MaxPooling1D if kind == "max" else layers.AveragePooling1D
    return cls(pool_size, strides=strides, padding=padding)


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool_size, strides", POOLS)
@pytest.mark.parametrize("shape", SHAPES)
def test_pooling_matches_torch(kind, padding, pool_size, strides, shape, floatx, rng):
    layer = pooling_layer(kind, pool_size, strides, padding)
    layer.build((None,) + shape[1:])
    x = rng.normal(size=shape).astype(floatx)
    out_shape = layer.compute_output_shape(shape)
    dy = rng.normal(size=out_shape).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy)
    y_ref, dx_ref = torch_pool1d(kind, x, dy, pool_size, strides or pool_size, padding)
    assert y.shape == out_shape and y.dtype == floatx and dx.dtype == floatx and grads == {}
    np.testing.assert_allclose(y, y_ref, rtol=TOL[floatx], atol=TOL[floatx])
    np.testing.assert_allclose(dx, dx_ref, rtol=TOL[floatx], atol=TOL[floatx])


@pytest.mark.parametrize("kind", ["max", "average"])
def test_same_padding_takes_inputs_shorter_than_the_pool(kind, floatx, rng):
    layer = pooling_layer(kind, 4, 2, "same")
    x = rng.normal(size=(2, 1, 3)).astype(floatx)
    dy = rng.normal(size=(2, 1, 3)).astype(floatx)
    y, dx, _ = forward_backward(layer, x, dy)
    np.testing.assert_allclose(y, x, rtol=TOL[floatx])  # one real cell in the only window
    np.testing.assert_allclose(dx, dy, rtol=TOL[floatx])


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool_size, strides", POOLS)
def test_pooling_finite_differences(kind, padding, pool_size, strides, float64, rng):
    layer = pooling_layer(kind, pool_size, strides, padding)
    x = rng.normal(size=(2, 7, 3))
    dy = rng.normal(size=layer.compute_output_shape(x.shape))
    check_layer_by_finite_differences(layer, x, dy)


def test_keras_documentation_examples():
    """Keras' docstrings: x = [1, 2, 3, 4, 5], pool_size=2 (the 'same' average leaves the
    padded cell out: its last window averages 5 alone)."""
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    cases = [("max", 1, "valid", [2, 3, 4, 5]), ("max", 2, "valid", [2, 4]),
             ("max", 1, "same", [2, 3, 4, 5, 5]), ("average", 1, "valid", [1.5, 2.5, 3.5, 4.5]),
             ("average", 2, "valid", [1.5, 3.5]), ("average", 1, "same", [1.5, 2.5, 3.5, 4.5, 5])]
    for kind, strides, padding, expected in cases:
        y = pooling_layer(kind, 2, strides, padding)(x)
        np.testing.assert_allclose(y[0, :, 0], expected, err_msg=f"{kind} {strides} {padding}")


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", [None, "channels_first"])
def test_global_pooling_matches_torch(kind, keepdims, data_format, floatx, rng):
    cls = layers.GlobalMaxPooling1D if kind == "max" else layers.GlobalAveragePooling1D
    layer = cls(data_format=data_format, keepdims=keepdims)
    x = rng.normal(size=(3, 7, 5)).astype(floatx)
    axis = 1 if data_format is None else 2
    x_t = torch.tensor(x, requires_grad=True)
    y_t = x_t.amax(axis, keepdim=keepdims) if kind == "max" else x_t.mean(axis, keepdim=keepdims)
    dy = rng.normal(size=tuple(y_t.shape)).astype(floatx)
    (y_t * torch.tensor(dy)).sum().backward()
    y, dx, _ = forward_backward(layer, x, dy)
    assert layer.compute_output_shape((None, 7, 5)) == (None,) + y.shape[1:]
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=TOL[floatx], atol=TOL[floatx])
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=TOL[floatx], atol=TOL[floatx])
    assert y.dtype == dx.dtype == floatx


@pytest.mark.parametrize("cls", [layers.GlobalMaxPooling1D, layers.GlobalAveragePooling1D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_finite_differences(cls, keepdims, float64, rng):
    layer = cls(keepdims=keepdims)
    x = rng.normal(size=(2, 6, 3))
    check_layer_by_finite_differences(layer, x, rng.normal(size=layer.forward(x).shape))


def test_max_gradient_goes_to_the_first_maximum():
    """A tie sends the whole gradient to the first of the equal cells (as PyTorch's argmax)."""
    x = np.array([[[1.0], [3.0], [3.0], [0.0]]])
    for layer, dy in ((layers.MaxPooling1D(4), np.ones((1, 1, 1))),
                      (layers.GlobalMaxPooling1D(), np.ones((1, 1)))):
        layer.forward(x)
        np.testing.assert_array_equal(layer.backward(dy)[0, :, 0], [0, 1, 0, 0])


def test_aliases_defaults_and_config():
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    alias_config = {"class_name": "MaxPool1D", "config": {"pool_size": 3}}
    assert layers.deserialize(alias_config).pool_size == (3,)
    layer = layers.MaxPooling1D()
    config = layer.get_config()
    assert (config["pool_size"], config["strides"], config["padding"], config["data_format"]) == (
        (2,), (2,), "valid", "channels_last")
    with pytest.raises(TypeError):
        layers.AveragePooling1D()  # Keras 3 gives it no default pool_size
    for original in (layers.AveragePooling1D(3, strides=1, padding="same"),
                     layers.GlobalAveragePooling1D(keepdims=True), layers.GlobalMaxPooling1D()):
        clone = layers.deserialize(layers.serialize(original))
        assert type(clone) is type(original) and clone.get_config() == original.get_config()
    assert layers.GlobalMaxPooling1D().get_config()["keepdims"] is False
    assert layers.MaxPooling1D(3, 2).compute_output_shape((None, None, 4)) == (None, None, 4)
    assert layers.AveragePooling1D(3, 2, "same").compute_output_shape((5, 8, 4)) == (5, 4, 4)
    assert layers.MaxPooling1D(padding="SAME").padding == "same"


@pytest.mark.parametrize("make, error, match", [
    (lambda: layers.MaxPooling1D(0), ValueError, "pool_size"),
    (lambda: layers.MaxPooling1D(2, strides=0), ValueError, "strides"),
    (lambda: layers.MaxPooling1D(2, padding="causal"), ValueError, "padding"),
    (lambda: layers.AveragePooling1D(2, data_format="channels_first"), NotImplementedError,
     "channels_last"),
    (lambda: layers.GlobalMaxPooling1D(data_format="nwc"), ValueError, "data_format"),
    (lambda: layers.GlobalAveragePooling1D(keep_dims=True), TypeError, "keep_dims"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer", [layers.MaxPooling1D(), layers.AveragePooling1D(2),
                                   layers.GlobalMaxPooling1D(), layers.GlobalAveragePooling1D()])
def test_bad_inputs(layer, rng):
    with pytest.raises(ValueError, match="rank 3"):
        layer.build((None, 8))
    with pytest.raises(ValueError, match="rank 3"):
        layer.forward(rng.normal(size=(2, 8, 3, 1)))


def test_valid_pooling_refuses_too_short_inputs(rng):
    with pytest.raises(ValueError, match="shorter than pool_size=3"):
        layers.MaxPooling1D(3).build((None, 2, 4))
    with pytest.raises(ValueError, match="shorter than pool_size=3"):
        layers.AveragePooling1D(3).forward(rng.normal(size=(1, 2, 4)))


def test_global_average_pooling_averages_real_steps_only(rng, float64):
    """Keras' masked mean: sum of the real steps over their count; an all-padding row gives
    zeros here (Keras: NaN); checked by finite differences."""
    x = rng.normal(size=(3, 5, 4))
    mask = np.array([[1, 1, 0, 0, 0], [0, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)
    layer = layers.GlobalAveragePooling1D()
    y = layer.forward(x, mask=mask)
    np.testing.assert_allclose(y[0], x[0, :2].mean(axis=0))
    np.testing.assert_allclose(y[1], x[1, 1:].mean(axis=0))
    np.testing.assert_array_equal(y[2], np.zeros(4))
    assert layer.compute_mask(x, mask) is None
    check_layer_by_finite_differences(layer, x, rng.normal(size=(3, 4)), mask=mask)
