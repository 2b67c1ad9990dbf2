"""Initializers: Keras' definitions (limits, orthogonality), seeded, and user callables."""
import numpy as np
import pytest

from bptt import initializers, layers


def test_glorot_uniform_limit_and_spread(rng):
    w = initializers.get("glorot_uniform")((300, 100), "float32", rng)
    limit = np.sqrt(6 / 400)
    assert w.dtype == np.float32 and np.abs(w).max() <= limit
    # U(-l, l) has variance l^2 / 3.
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.05)


@pytest.mark.parametrize("shape", [(5, 5), (3, 8), (8, 3), (64, 256)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, rng):
    q = initializers.get("orthogonal")(shape, "float64", rng)
    small = min(shape)
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_seeded_draws_repeat():
    a = initializers.get("he_normal")((4, 4), "float64", np.random.default_rng(1))
    b = initializers.get("he_normal")((4, 4), "float64", np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    # Truncated at two standard deviations of the untruncated normal.
    big = initializers.get("glorot_normal")((400, 400), "float64", np.random.default_rng(2))
    assert np.abs(big).max() <= 2 * np.sqrt(2 / 800) / 0.87962566103423978 + 1e-12


def test_zeros_ones_and_keras_style_callables(rng):
    layer = layers.Dense(3, kernel_initializer=lambda shape, dtype=None: np.full(shape, 0.5),
                         bias_initializer="ones")
    layer.build((None, 2))
    kernel, bias = layer.get_weights()
    np.testing.assert_array_equal(kernel, np.full((2, 3), 0.5, dtype="float32"))
    np.testing.assert_array_equal(bias, np.ones(3, dtype="float32"))
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_unifrom")
