"""Embedding against PyTorch's nn.Embedding, finite differences and Keras' conventions."""
import numpy as np
import pytest
import torch

from bptt.kernels import threads as threads_model
from bptt import layers, models, optimizers
from bptt.ops import embedding as reference_embedding
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


def test_mask_zero_marks_id_zero_as_padding():
    ids = np.array([[0, 0, 3, 1], [2, 5, 0, 0]])
    layer = layers.Embedding(10, 2, mask_zero=True)
    assert layer.supports_masking
    np.testing.assert_array_equal(layer.compute_mask(ids), ids != 0)
    assert layers.Embedding(10, 2).compute_mask(ids) is None


# -- the fused backward's reused gradient buffer ---------------------------------------------------
def test_fused_backward_gives_each_steps_gradient_in_one_reused_array(floatx, rng, kernels_setting):
    kernels_setting("fused")
    layer = layers.Embedding(13, 4)
    layer.build((None, 5))
    table = layer.params["embeddings"]
    ids = np.empty((3, 5), dtype=np.intp)  # one batch array, refilled in place as a loader might
    arrays = []
    for step in range(5):
        ids[...] = rng.integers(0, 13 if step % 2 else 4, size=ids.shape)
        dy = rng.normal(size=(3, 5, 4)).astype(floatx)
        layer.forward(ids, training=True)
        expected = reference_embedding.embedding_backward(dy, ids.astype(np.intp), table)
        assert layer.backward(dy) is None
        np.testing.assert_array_equal(layer.grads["embeddings"], expected)
        arrays.append(layer.grads["embeddings"])
    assert all(a is arrays[0] for a in arrays)  # no (V, D) allocation per step


def test_switching_kernels_between_steps_keeps_the_gradient_exact(rng, kernels_setting):
    layer = layers.Embedding(9, 3)
    layer.build((None, 4))
    for choice in ["fused", "reference", "fused", "fused", "reference", "fused"]:
        kernels_setting(choice)
        ids = rng.integers(0, 9, size=(2, 4))
        dy = rng.normal(size=(2, 4, 3)).astype(np.float32)
        layer.forward(ids, training=True)
        layer.backward(dy)
        expected = reference_embedding.embedding_backward(dy, ids, layer.params["embeddings"])
        np.testing.assert_array_equal(layer.grads["embeddings"], expected)


def test_training_with_fused_kernels_equals_training_with_the_reference(float64, rng,
                                                                        kernels_setting):
    # The optimizer reads grads["embeddings"] after every backward: with the reused buffer it
    # must see exactly that step's gradient. Same model, same batches, each kernel choice.
    x = rng.integers(0, 30, size=(24, 6))
    y = rng.integers(0, 2, size=(24, 1)).astype(np.float64)
    weights = None
    results = {}
    for choice in ["reference", "fused"]:
        kernels_setting(choice)
        model = models.Sequential([layers.Embedding(30, 4), layers.LSTM(5),
                                   layers.Dense(1, "sigmoid")])
        model.build((None, 6))
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy")
        for start in range(0, 24, 8):
            model.train_on_batch(x[start:start + 8], y[start:start + 8])
        results[choice] = model.get_weights()
    for ours, theirs in zip(results["fused"], results["reference"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert not np.allclose(results["fused"][0], weights[0])  # the embedding did train


def test_grad_squares_sum_each_lookups_square(floatx, rng):
    """What Keras/TF's Adam and RMSprop square: each lookup's gradient, before repeats add up."""
    layer = layers.Embedding(6, 3)
    layer.build((None, 5))
    ids = np.array([[1, 1, 4, 1, 0], [4, 2, 2, 5, 1]])
    dy = rng.normal(size=(2, 5, 3)).astype(floatx)
    for _ in range(2):  # twice: the fused buffers are reused
        layer.forward(ids)
        layer.backward(dy)
        expected = np.zeros((6, 3))
        for b in range(2):
            for t in range(5):
                expected[ids[b, t]] += dy[b, t].astype(np.float64) ** 2
        np.testing.assert_allclose(layer.grad_squares["embeddings"], expected, rtol=1e-6)
        dy = rng.normal(size=(2, 5, 3)).astype(floatx)


@pytest.mark.parametrize("threads", [1, 2])
def test_fused_gradient_and_squares_side_by_side_equal_the_reference(rng, monkeypatch, kernels_setting,
                                                                      threads):
    """The fused backward (one pass for the gradient, its squares and the looked-up rows, with
    KERNEL_THREADS 1 or 2 around it) equals the reference bit for bit, step after step."""
    from bptt.kernels import _common

    kernels_setting("fused")
    monkeypatch.setattr(threads_model, "_REQUESTED", threads)
    layer = layers.Embedding(11, 3)
    layer.build((None, 4))
    B = 2 * threads_model.MIN_PER_THREAD["rows_without_team"] + 1
    for _ in range(3):
        ids = rng.integers(0, 11, size=(B, 4))
        dy = rng.normal(size=(B, 4, 3)).astype("float32")
        layer.forward(ids, training=True)
        layer.backward(dy)
        table = layer.params["embeddings"]
        np.testing.assert_array_equal(layer.grads["embeddings"],
                                      reference_embedding.embedding_backward(dy, ids, table))
        np.testing.assert_array_equal(layer.grad_squares["embeddings"],
                                      reference_embedding.embedding_backward_squares(dy, ids, table))
        looked_up = np.zeros(11, dtype=bool)
        looked_up[ids.reshape(-1)] = True
        np.testing.assert_array_equal(layer.grad_rows["embeddings"], looked_up)


def test_forward_and_infer_give_the_same_lookup_and_backward_needs_forward(rng):
    layer = layers.Embedding(9, 4)
    layer.build((None, 6))
    ids = rng.integers(0, 9, size=(3, 6))
    table = layer.get_weights()[0]
    np.testing.assert_array_equal(layer.forward(ids, training=True), table[ids])
    np.testing.assert_array_equal(layer.infer(ids), table[ids])
    np.testing.assert_array_equal(layer.forward(ids[0]), table[ids[0]])  # 1-D ids: (T, D)
    layer.infer(ids)
    with pytest.raises(RuntimeError, match="backward needs the cache of a forward pass"):
        layer.backward(np.zeros((3, 6, 4), np.float32))
