"""Reshaping layers against PyTorch (autograd gives the input gradient) and finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bptt import layers
from tests.helpers.layers import check_layer_by_finite_differences

TOL = {np.dtype("float32"): 1e-6, np.dtype("float64"): 1e-14}

# (layer, input shape, the same map in torch)
CASES = [
    (lambda: layers.RepeatVector(4), (3, 5), lambda t: t.unsqueeze(1).repeat(1, 4, 1)),
    (lambda: layers.RepeatVector(1), (1, 1), lambda t: t.unsqueeze(1)),
    (lambda: layers.Reshape((4, 3)), (2, 3, 4), lambda t: t.reshape(2, 4, 3)),
    (lambda: layers.Reshape((-1, 2)), (3, 2, 5), lambda t: t.reshape(3, 5, 2)),
    (lambda: layers.Reshape((3, -1, 2)), (2, 6, 1, 3), lambda t: t.reshape(2, 3, 3, 2)),
    (lambda: layers.Reshape((7,)), (1, 7, 1), lambda t: t.reshape(1, 7)),
    (lambda: layers.Permute((2, 1)), (2, 3, 5), lambda t: t.permute(0, 2, 1)),
    (lambda: layers.Permute((3, 1, 2)), (2, 3, 4, 5), lambda t: t.permute(0, 3, 1, 2)),
    (lambda: layers.Permute((1, 2)), (3, 1, 4), lambda t: t.permute(0, 1, 2)),
    (lambda: layers.Cropping1D(), (2, 5, 3), lambda t: t[:, 1:4]),
    (lambda: layers.Cropping1D((0, 2)), (3, 7, 1), lambda t: t[:, 0:5]),
    (lambda: layers.Cropping1D(2), (1, 5, 2), lambda t: t[:, 2:3]),
    (lambda: layers.ZeroPadding1D(), (2, 3, 4), lambda t: F.pad(t, (0, 0, 1, 1))),
    (lambda: layers.ZeroPadding1D((0, 3)), (1, 1, 3), lambda t: F.pad(t, (0, 0, 0, 3))),
    (lambda: layers.ZeroPadding1D((2, 1), data_format="channels_first"), (2, 3, 5),
     lambda t: F.pad(t, (2, 1))),
    (lambda: layers.UpSampling1D(), (2, 3, 4), lambda t: torch.repeat_interleave(t, 2, dim=1)),
    (lambda: layers.UpSampling1D(3), (1, 1, 5), lambda t: torch.repeat_interleave(t, 3, dim=1)),
]
IDS = [f"{i}-{shape}" for i, (_, shape, _) in enumerate(CASES)]


@pytest.mark.parametrize("make, shape, torch_fn", CASES, ids=IDS)
def test_matches_torch(make, shape, torch_fn, floatx, rng):
    layer = make()
    layer.build((None,) + shape[1:])
    x = rng.normal(size=shape).astype(floatx)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = torch_fn(x_t)
    dy = rng.normal(size=y_t.shape).astype(floatx)
    (y_t * torch.tensor(dy)).sum().backward()
    y = layer.forward(x)
    dx = layer.backward(dy)
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=TOL[floatx], atol=TOL[floatx])
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=TOL[floatx], atol=TOL[floatx])
    assert y.dtype == floatx and dx.dtype == floatx and dx.shape == x.shape
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + y.shape[1:]


@pytest.mark.parametrize("make, shape, torch_fn", CASES, ids=IDS)
def test_finite_differences(make, shape, torch_fn, float64, rng):
    layer = make()
    x = rng.normal(size=shape)
    dy = rng.normal(size=layer.forward(x).shape)
    check_layer_by_finite_differences(layer, x, dy)


def test_integer_inputs_pass_through_without_gradient(rng):
    ids = rng.integers(0, 10, size=(2, 3, 4))
    for layer in (layers.Reshape((12,)), layers.Permute((2, 1)), layers.UpSampling1D(2)):
        y = layer(ids)
        assert y.dtype == ids.dtype
        assert layer.backward(np.ones(y.shape, dtype="float32")) is None
    np.testing.assert_array_equal(layers.Reshape((12,))(ids), ids.reshape(2, 12))


def test_call_builds_and_keeps_the_float_type(rng):
    x = rng.normal(size=(2, 3))  # float64 into a float32 layer, as Dense does
    layer = layers.RepeatVector(2)
    y = layer(x)
    assert layer.built and layer.input_shape == (None, 3)
    assert y.shape == (2, 2, 3) and y.dtype == np.float32


@pytest.mark.parametrize("layer, shape, expected", [
    (layers.RepeatVector(3), (None, 5), (None, 3, 5)),
    (layers.Reshape((-1, 2)), (None, 6), (None, 3, 2)),
    (layers.Reshape((-1, 2)), (None, None, 4), (None, None, 2)),
    (layers.Reshape((2, 2)), (None, 4), (None, 2, 2)),
    (layers.Permute((2, 1)), (None, None, 5), (None, 5, None)),
    (layers.Cropping1D(), (None, None, 3), (None, None, 3)),
    (layers.Cropping1D((2, 3)), (None, 10, 3), (None, 5, 3)),
    (layers.ZeroPadding1D((1, 2)), (None, 4, 3), (None, 7, 3)),
    (layers.ZeroPadding1D((1, 2)), (None, None, 3), (None, None, 3)),
    (layers.ZeroPadding1D((1, 2), data_format="channels_first"), (None, 3, 4), (None, 3, 7)),
    (layers.UpSampling1D(3), (None, 4, 2), (None, 12, 2)),
    (layers.UpSampling1D(3), (None, None, 2), (None, None, 2)),
])
def test_compute_output_shape_with_unknown_axes(layer, shape, expected):
    assert layer.compute_output_shape(shape) == expected


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.RepeatVector(0), ValueError, "positive integer"),
    (lambda: layers.RepeatVector(2.0), TypeError, "integer value for `n`"),
    (lambda: layers.UpSampling1D(0), ValueError, "positive integer"),
    (lambda: layers.UpSampling1D(True), TypeError, "integer value for `size`"),
    (lambda: layers.Reshape((-1, -1)), ValueError, "at most one unknown dimension"),
    (lambda: layers.Reshape((2, -3)), ValueError, "non-negative integer, or `-1`"),
    (lambda: layers.Permute((1, 3)), ValueError, "consecutive and start from 1"),
    (lambda: layers.Cropping1D((-1, 1)), ValueError, "do not satisfy `value >= 0`"),
    (lambda: layers.Cropping1D((1, 2, 3)), ValueError, "tuple of 2 integers"),
    (lambda: layers.ZeroPadding1D("same"), ValueError, "tuple of 2 integers"),
    (lambda: layers.ZeroPadding1D(data_format="nchw"), ValueError, "data_format"),
    (lambda: layers.Reshape((3,), units=2), TypeError, "unexpected keyword"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("layer, shape, message", [
    (layers.RepeatVector(2), (2, 3, 4), "expected ndim=2, found ndim=3"),
    (layers.Permute((2, 1)), (2, 3, 4, 5), "expected ndim=3, found ndim=4"),
    (layers.UpSampling1D(), (2, 3), "expected ndim=3, found ndim=2"),
    (layers.Reshape((5,)), (2, 6), "total size of the tensor must be unchanged"),
    (layers.Reshape((-1, 4)), (2, 6), "cannot be divided"),
    (layers.Cropping1D((2, 2)), (2, 4, 3), "smaller than the input length"),
])
def test_bad_inputs(layer, shape, message, rng):
    with pytest.raises(ValueError, match=message):
        layer(rng.normal(size=shape))
    with pytest.raises(ValueError, match=message):
        layer.build((None,) + shape[1:])


@pytest.mark.parametrize("layer", [
    layers.RepeatVector(3, name="repeat"), layers.Reshape((-1, 2)), layers.Permute((2, 1)),
    layers.Cropping1D((0, 2)), layers.ZeroPadding1D(2, data_format="channels_first"),
    layers.UpSampling1D(4)], ids=repr)
def test_config_round_trip(layer):
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is type(layer) and copy.get_config() == layer.get_config()


def test_keras_defaults():
    assert layers.Cropping1D().get_config()["cropping"] == (1, 1)
    config = layers.ZeroPadding1D().get_config()
    assert config["padding"] == (1, 1) and config["data_format"] == "channels_last"
    assert layers.UpSampling1D().get_config()["size"] == 2
    assert layers.Permute([2, 1]).get_config()["dims"] == (2, 1)
    assert layers.Reshape([3, 4]).get_config()["target_shape"] == (3, 4)
