"""Embedding against PyTorch's nn.Embedding, finite differences and Keras' conventions."""
import numpy as np
import pytest
import torch

from bptt import layers
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward


def test_embedding_matches_torch(floatx, rng):
    layer = layers.Embedding(11, 4)
    layer.build((None, 6))
    ids = rng.integers(0, 11, size=(3, 6))
    ids[0, :3] = 5  # repeated ids must accumulate their gradients
    dy = rng.normal(size=(3, 6, 4)).astype(floatx)
    y, dx, grads = forward_backward(layer, ids, dy)
    module = torch.nn.Embedding(11, 4).to(torch.float64 if floatx == np.float64 else torch.float32)
    module.weight.data = torch.tensor(layer.get_weights()[0])
    out = module(torch.tensor(ids))
    (out * torch.tensor(dy)).sum().backward()
    np.testing.assert_array_equal(y, out.detach().numpy())
    tol = 1e-10 if floatx == np.float64 else 1e-5
    np.testing.assert_allclose(grads["embeddings"], module.weight.grad.numpy(), atol=tol)
    assert dx is None and y.dtype == floatx


def test_embedding_finite_differences(float64, rng):
    layer = layers.Embedding(7, 3)
    layer.build((None, 5))
    ids = rng.integers(0, 7, size=(2, 5))
    check_layer_by_finite_differences(layer, ids, rng.normal(size=(2, 5, 3)), check_input=False)


def test_keras_defaults_and_shapes():
    layer = layers.Embedding(input_dim=20000, output_dim=128)
    layer.build((None, 50))
    (table,) = layer.get_weights()
    assert table.shape == (20000, 128) and table.dtype == np.float32
    # embeddings_initializer='uniform' is Keras' RandomUniform(-0.05, 0.05).
    assert np.abs(table).max() <= 0.05 and np.abs(table).max() > 0.04
    assert layer.compute_output_shape((None, 50)) == (None, 50, 128)
    assert layer.count_params() == 2_560_000


def test_bad_ids_name_the_id_and_input_dim():
    layer = layers.Embedding(10, 2)
    with pytest.raises(ValueError, match=r"token id 12.*\[0, 10\)"):
        layer(np.array([[1, 12, 3]]))
    with pytest.raises(ValueError, match=r"token id -1"):
        layer(np.array([[1, -1, 3]]))
    with pytest.raises(ValueError, match="integer token ids"):
        layer(np.array([[0.5, 1.0]]))
    # Integral floats (what pad_sequences gives with a float dtype) are accepted, as in Keras.
    assert layer(np.array([[1.0, 2.0]])).shape == (1, 2, 2)


def test_mask_zero_is_refused_with_a_reason():
    with pytest.raises(NotImplementedError, match="padding='pre'"):
        layers.Embedding(10, 2, mask_zero=True)
