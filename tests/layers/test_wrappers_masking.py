"""Bidirectional and TimeDistributed with a (B, T) mask, as Keras 3.15 has them.

Bidirectional gives both directions the same mask and, when it returns sequences, makes both
write zeros at the masked steps (keras/src/layers/rnn/bidirectional.py forces
zero_output_for_mask = return_sequences on its two layers), so every merge mode has zeros there;
at the real steps each half is its direction run alone on the row's real steps. TimeDistributed
passes the mask on and hands it, folded, to a wrapped layer that takes one.
"""
import numpy as np
import pytest

from bptt import layers
from tests.helpers.layers import check_layer_by_finite_differences, random_weights
from tests.layers.test_recurrent_masking import make_mask

MERGE_MODES = ["concat", "sum", "mul", "ave", None]
INNER = {"LSTM": layers.LSTM, "GRU": layers.GRU, "SimpleRNN": layers.SimpleRNN}


def bidirectional(inner, units, features, rng, **kwargs):
    merge_mode = kwargs.pop("merge_mode", "concat")
    layer = layers.Bidirectional(INNER[inner](units, **kwargs), merge_mode=merge_mode)
    layer.build((None, None, features))
    random_weights(layer, rng)
    return layer


@pytest.mark.parametrize("inner", sorted(INNER))
@pytest.mark.parametrize("kind", ["post", "pre", "holes", "with_empty_row"])
def test_each_direction_is_its_row_run_alone_and_masked_steps_are_zero(inner, kind, float64, rng):
    B, T, D, H = 4, 5, 2, 3
    mask = make_mask(kind, B, T)
    layer = bidirectional(inner, H, D, rng, return_sequences=True, merge_mode=None)
    x = rng.normal(size=(B, T, D))
    y_f, y_b = layer.infer(x, mask=mask)
    np.testing.assert_array_equal(y_f[~mask], 0)
    np.testing.assert_array_equal(y_b[~mask], 0)
    for b in range(B):
        if not mask[b].any():
            continue
        real = x[b:b + 1, mask[b]]  # (1, real steps, D)
        alone_f = layer.forward_layer.infer(real)  # the forward direction, unmasked
        alone_b = layer.backward_layer.infer(real)[:, ::-1]  # reads backwards; back in time order
        np.testing.assert_allclose(y_f[b, mask[b]], alone_f[0], atol=1e-13)
        np.testing.assert_allclose(y_b[b, mask[b]], alone_b[0], atol=1e-13)


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
def test_every_merge_mode_has_zeros_at_the_masked_steps(merge_mode, rng):
    B, T, D, H = 3, 5, 2, 3
    mask = make_mask("with_empty_row", B, T)
    layer = bidirectional("LSTM", H, D, rng, return_sequences=True, merge_mode=merge_mode)
    y = layer(rng.normal(size=(B, T, D)).astype(np.float32) * 1e3, mask=mask)
    for part in (y if merge_mode is None else [y]):
        assert np.isfinite(part).all()
        np.testing.assert_array_equal(part[~mask], 0)


def test_without_sequences_each_direction_returns_its_last_real_output(float64, rng):
    """return_sequences=False: zero_output_for_mask stays off, as Keras sets it; the forward
    half is the output at the row's last real step, the backward half at its first."""
    B, T, D, H = 3, 5, 2, 3
    mask = make_mask("pre", B, T)
    layer = bidirectional("GRU", H, D, rng, merge_mode=None)
    assert not layer.forward_layer.zero_output_for_mask
    x = rng.normal(size=(B, T, D))
    y_f, y_b = layer.infer(x, mask=mask)
    for b in range(B):
        real = x[b:b + 1, mask[b]]
        np.testing.assert_allclose(y_f[b], layer.forward_layer.infer(real)[0], atol=1e-13)
        np.testing.assert_allclose(y_b[b], layer.backward_layer.infer(real)[0], atol=1e-13)


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("inner", ["LSTM", "GRU"])
def test_masked_bidirectional_gradients_match_finite_differences(merge_mode, return_sequences, inner,
                                                                  float64, rng):
    """With initial states, and the last states in the loss (merge_mode=None: the two outputs,
    whose list bptt nests inside the states' list, so those are left out there)."""
    B, T, D, H = 3, 4, 2, 2
    mask = make_mask("with_empty_row", B, T)
    return_state = merge_mode is not None
    layer = bidirectional(inner, H, D, rng, return_sequences=return_sequences,
                          return_state=return_state, merge_mode=merge_mode)
    x = rng.normal(size=(B, T, D))
    states = 2 if inner == "LSTM" else 1
    initial = [rng.normal(size=(B, H)) for _ in range(2 * states)]
    shape = (B, T, H) if return_sequences else (B, H)
    if merge_mode is None:
        dy = [rng.normal(size=shape), rng.normal(size=shape)]
    else:
        width = 2 * H if merge_mode == "concat" else H
        dy = [rng.normal(size=shape[:-1] + (width,))] + [rng.normal(size=(B, H)) for _ in initial]
    check_layer_by_finite_differences(layer, x, dy, mask=mask, initial_state=initial)


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("return_state", [True, False])
def test_bidirectional_compute_mask_as_keras(merge_mode, return_sequences, return_state):
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=return_sequences,
                                             return_state=return_state), merge_mode=merge_mode)
    mask = make_mask("post", 2, 4)
    output_mask = mask if return_sequences else None
    got = layer.compute_mask(None, mask)
    if return_state:  # nested as the outputs: [output(s), h, c of each direction]
        assert isinstance(got, list) and len(got) == 5 and got[1:] == [None] * 4
        got = got[0]
    if merge_mode is None:
        assert isinstance(got, list) and len(got) == 2 and all(m is output_mask for m in got)
    else:
        assert got is output_mask
    assert layers.Bidirectional.supports_masking


def test_bidirectional_sets_zero_output_for_mask_on_its_layers_as_keras():
    for return_sequences in (True, False):
        layer = layers.Bidirectional(layers.GRU(2, return_sequences=return_sequences),
                                     backward_layer=layers.GRU(2, go_backwards=True,
                                                               return_sequences=return_sequences))
        assert layer.forward_layer.zero_output_for_mask is return_sequences
        assert layer.backward_layer.zero_output_for_mask is return_sequences
        clone = layers.Bidirectional.from_config(layer.get_config())
        assert clone.forward_layer.zero_output_for_mask is return_sequences


# -- TimeDistributed ------------------------------------------------------------------------------
def test_time_distributed_passes_the_mask_on_and_leaves_a_dense_alone(rng):
    layer = layers.TimeDistributed(layers.Dense(3))
    x = rng.normal(size=(2, 4, 5)).astype(np.float32)
    mask = make_mask("post", 2, 4)
    np.testing.assert_array_equal(layer(x, mask=mask), layer(x))
    assert layer.compute_mask(x, mask) is mask
    assert layers.TimeDistributed.supports_masking


def test_time_distributed_hands_a_wrapped_recurrent_layer_its_folded_mask(float64, rng):
    """Keras hands the wrapped layer mask[:, t] at step t: a (B, T, T2) mask for an LSTM over
    the inner T2 axis of a (B, T, T2, D) input."""
    B, T, T2, D, H = 2, 3, 4, 2, 3
    inner = layers.LSTM(H)
    layer = layers.TimeDistributed(inner)
    layer.build((None, T, T2, D))
    random_weights(layer, rng)
    x = rng.normal(size=(B, T, T2, D))
    mask = rng.random((B, T, T2)) > 0.4
    y = layer.forward(x, mask=mask)
    for t in range(T):
        np.testing.assert_array_equal(y[:, t], inner.infer(x[:, t], mask=mask[:, t]))
    check_layer_by_finite_differences(layer, x, rng.normal(size=y.shape), mask=mask)


def test_time_distributed_checks_the_mask_as_keras(rng):
    layer = layers.TimeDistributed(layers.Dense(2))
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="at least 2-D"):
        layer(x, mask=np.ones(2, bool))
    with pytest.raises(ValueError, match=r"must be \(2, 4\)"):
        layer(x, mask=np.ones((2, 3), bool))


def test_time_distributed_takes_a_new_time_length_each_batch(rng):
    """Batches padded to their own longest sentence (the tagger's): one model trains and predicts
    on time lengths that change from batch to batch (Keras 3.15's TimeDistributed fixes the length
    it first saw), and a padded row's real steps get what the row alone gets."""
    from bptt import models

    model = models.Sequential([
        layers.Input(shape=(None,), dtype="int32"),
        layers.Embedding(20, 4, mask_zero=True),
        layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
        layers.TimeDistributed(layers.Dense(5, activation="softmax")),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    def batch(T):
        lengths = rng.integers(1, T + 1, size=4)
        lengths[0] = T
        x = np.zeros((4, T), dtype=np.int32)
        for row, n in enumerate(lengths):
            x[row, :n] = rng.integers(1, 20, size=n)
        return x, rng.integers(0, 5, size=(4, T)), lengths

    def generator():
        for T in (4, 9, 2, 6):
            yield batch(T)[:2]

    history = model.fit(generator(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for T in (3, 8):
        x, y, lengths = batch(T)
        assert np.isfinite(model.train_on_batch(x, y))
        out = model.predict(x, verbose=0)
        assert out.shape == (4, T, 5)
        for row, n in enumerate(lengths):
            alone = model.predict(x[row:row + 1, :n], verbose=0)
            np.testing.assert_allclose(out[row, :n], alone[0], rtol=1e-5, atol=1e-6)
