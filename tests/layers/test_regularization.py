"""SpatialDropout1D: whole channels dropped per sample, inverted scaling, finite differences."""
import numpy as np
import pytest

from bptt import layers
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward


def test_drops_whole_channels_per_sample_and_scales_the_rest(floatx, rng):
    layer = layers.SpatialDropout1D(0.3, seed=4)
    x = rng.uniform(0.5, 1.5, size=(400, 9, 25)).astype(floatx)
    y = layer.forward(x, training=True)
    assert y.dtype == floatx
    kept = y != 0  # (B, T, C); no x is 0, so a zero means dropped
    assert (kept == kept[:, :1, :]).all()  # a channel is kept or dropped at every step at once
    np.testing.assert_allclose(y[kept], x[kept] / (1 - 0.3), rtol=1e-6)
    rate = 1 - kept[:, 0, :].mean()  # over 400 * 25 channel draws
    assert abs(rate - 0.3) < 0.02
    assert not (kept[:, 0, :] == kept[:1, 0, :]).all()  # samples draw their own channels
    dy = rng.normal(size=x.shape).astype(floatx)
    np.testing.assert_allclose(layer.backward(dy), dy * kept / (1 - 0.3), rtol=1e-6)


def test_identity_in_inference_and_at_rate_zero(rng):
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    dy = rng.normal(size=x.shape).astype("float32")
    for layer, training in ((layers.SpatialDropout1D(0.5), False),
                            (layers.SpatialDropout1D(0.0), True)):
        y, dx, _ = forward_backward(layer, x, dy, training=training)
        np.testing.assert_array_equal(y, x)
        np.testing.assert_array_equal(dx, dy)


def test_same_seed_same_masks(rng):
    x = np.ones((6, 4, 8))
    first, second = layers.SpatialDropout1D(0.5, seed=11), layers.SpatialDropout1D(0.5, seed=11)
    for _ in range(2):
        np.testing.assert_array_equal(first.forward(x, training=True),
                                      second.forward(x, training=True))


def test_finite_differences(float64, rng):
    """With the mask held fixed (every forward draws from a generator seeded alike), the
    backward is the derivative of the forward."""
    layer = layers.SpatialDropout1D(0.4)
    layer.rng = lambda: np.random.default_rng(7)
    x = rng.normal(size=(3, 4, 5))
    dropped = layer.forward(x, training=True) == 0
    assert dropped.any() and not dropped.all()
    check_layer_by_finite_differences(layer, x, rng.normal(size=x.shape), training=True)


def test_config_and_keras_signature():
    layer = layers.SpatialDropout1D(0.25, seed=3, name="drop")
    config = layer.get_config()
    assert config == {"rate": 0.25, "seed": 3, "name": "drop", "dtype": "float32"}
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is layers.SpatialDropout1D and clone.get_config() == config
    assert layer.compute_output_shape((None, 7, 3)) == (None, 7, 3)
    with pytest.raises(TypeError):
        layers.SpatialDropout1D(0.2, noise_shape=(None, 1, None))  # not a Keras argument here


def test_bad_arguments_and_inputs(rng):
    for rate in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="rate"):
            layers.SpatialDropout1D(rate)
    layer = layers.SpatialDropout1D(0.5)
    with pytest.raises(ValueError, match="rank 3"):
        layer.build((None, 8))
    with pytest.raises(ValueError, match="rank 3"):
        layer.forward(rng.normal(size=(4, 8)), training=True)
