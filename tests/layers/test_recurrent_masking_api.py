"""What surrounds the masked time loop of SimpleRNN, LSTM and GRU: compute_mask and
supports_masking as Keras 3.15 has them, no NaN anywhere for an all-padding row, stateful layers
carrying the held states, the mask's checks, no mask (and an all-ones mask) changing nothing,
and a masked call running the fused kernels when they are selected."""
import numpy as np
import pytest

from bptt import layers
from tests.helpers import assert_close
from tests.layers.test_recurrent_masking import CELLS, build, make_mask, state_count


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU, layers.RNN,
                                 layers.Bidirectional, layers.TimeDistributed, layers.Dense,
                                 layers.Dropout, layers.Activation])
def test_the_layers_keras_lets_a_mask_through_support_masking(cls):
    assert cls.supports_masking is True


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_compute_mask_as_keras_rnn(name, return_sequences, return_state, go_backwards):
    """keras/src/layers/rnn/rnn.py, RNN.compute_mask: the input mask with return_sequences
    (the same array, not reversed for go_backwards), else None; return_state appends one None
    per state."""
    cls, options = CELLS[name]
    layer = cls(3, **options, return_sequences=return_sequences, return_state=return_state,
                go_backwards=go_backwards)
    mask = make_mask("post", 2, 4)
    out = layer.compute_mask(np.zeros((2, 4, 1)), mask)
    output_mask = mask if return_sequences else None
    if return_state:
        assert isinstance(out, list) and len(out) == 1 + state_count(name)
        assert out[0] is output_mask and out[1:] == [None] * state_count(name)
    else:
        assert out is output_mask
    listed = layer.compute_mask(None, [mask, None])  # with initial states: the first counts
    assert (listed[0] if return_state else listed) is output_mask
    none = layer.compute_mask(None, None)
    assert none == ([None] * (1 + state_count(name)) if return_state else None)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("training", [False, True])
def test_an_all_padding_row_gives_zeros_its_initial_states_and_no_nan(name, training, rng):
    B, T, D, H = 3, 6, 2, 4
    mask = make_mask("with_empty_row", B, T)
    layer = build(name, H, D, rng, return_sequences=True, return_state=True)
    x = rng.normal(size=(B, T, D)).astype(np.float32) * 1e4  # saturating noise at the padding
    initial = [rng.normal(size=(B, H)).astype(np.float32) for _ in range(state_count(name))]
    run = layer.forward if training else layer.infer
    out = run(x, initial_state=initial, mask=mask)
    for value in out:
        assert np.isfinite(value).all()
    np.testing.assert_array_equal(out[0][0], 0)
    for got, start in zip(out[1:], initial):
        np.testing.assert_array_equal(got[0], start[0])
    if training:
        dx = layer.backward([np.ones_like(a) for a in out])
        assert np.isfinite(dx).all() and all(np.isfinite(g).all() for g in layer.grads.values())
        np.testing.assert_array_equal(dx[0], 0)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_a_stateful_layer_carries_the_held_states(name, float64, rng):
    """Row 0 ends with padding, row 1 is all padding: the states kept are those of the last
    real step, and an all-padding row keeps its states through the call."""
    B, T, D, H = 2, 5, 2, 3
    plain = build(name, H, D, rng, return_state=True)
    cls, options = CELLS[name]
    layer = cls(H, **options, stateful=True, return_state=True)
    layer.build((B, None, D))
    layer.set_weights(plain.get_weights())
    first, second = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, D))
    mask = np.array([[True, True, True, False, False], [False] * T])
    _, *kept = layer.infer(first, mask=mask)
    _, *want = plain.infer(first, mask=mask)
    for got, expected in zip(kept, want):
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got[1], 0)  # the all-padding row kept its zero states
    np.testing.assert_allclose(layer.states[0][:1], plain.infer(first[:1, :3])[1], atol=1e-13)
    y2, *_ = layer.infer(second, mask=mask[::-1])
    np.testing.assert_array_equal(y2, plain.infer(second, mask=mask[::-1], initial_state=kept)[0])


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("kernels", ["reference", "fused"])
def test_no_mask_and_an_all_ones_mask_agree(name, kernels, kernels_setting, rng):
    """An all-ones mask changes nothing: bit for bit with the reference ops, to the float
    tolerance with the fused kernels."""
    kernels_setting(kernels)
    B, T, D, H = 3, 5, 2, 4
    layer = build(name, H, D, rng, return_state=True)
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    dy = [rng.normal(size=(B, H)).astype(np.float32) for _ in range(1 + state_count(name))]
    results = []
    for mask in (None, np.ones((B, T), bool)):
        out = layer.forward(x, training=True, mask=mask)
        dx = layer.backward(dy)
        results.append([*out, dx, *(layer.grads[k] for k in layer.params)])
    for got, want in zip(results[1], results[0]):
        if kernels == "reference":
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_a_masked_call_runs_the_selected_kernels(name, kernels_setting, rng):
    """The fused kernels read the mask inside their time loops (tests/kernels/test_masked.py):
    the reference's outputs to float32's tolerance; inference runs the same forward."""
    B, T, D, H = 3, 5, 2, 4
    mask = make_mask("pre", B, T)
    layer = build(name, H, D, rng, return_sequences=True)
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    outputs = {}
    for kernels, package in (("reference", "ops"), ("fused", "kernels")):
        kernels_setting(kernels)
        outputs[kernels] = [layer.infer(x, mask=mask), layer.forward(x, mask=mask)]
        assert layer.functions[0].__module__ == f"bptt.{package}.{layer.cell}"
        np.testing.assert_array_equal(outputs[kernels][0], outputs[kernels][1])
    for got, want in zip(outputs["fused"], outputs["reference"]):
        assert_close(got, want)


def test_a_mask_is_taken_as_keras_takes_it(rng):
    """(B, T) bool, (B, T, 1), or numbers (nonzero: a real step), as Keras' rnn casts it."""
    layer = build("LSTM", 3, 2, rng, return_sequences=True)
    x = rng.normal(size=(2, 4, 2)).astype(np.float32)
    mask = make_mask("post", 2, 4)
    want = layer(x, mask=mask)
    np.testing.assert_array_equal(layer(x, mask=mask[:, :, None]), want)
    np.testing.assert_array_equal(layer(x, mask=mask.astype(np.int64) * 7), want)
    np.testing.assert_array_equal(layer(x, mask=mask.tolist()), want)
    with pytest.raises(ValueError, match=r"mask of shape \(batch, timesteps\) = \(2, 4\).*\(4, 2\)"):
        layer(x, mask=mask.T)


def test_zero_output_for_mask_is_in_the_config_as_keras(rng):
    layer = layers.GRU(3, zero_output_for_mask=True)
    config = layer.get_config()
    assert config["zero_output_for_mask"] is True
    assert layers.LSTM(2).get_config()["zero_output_for_mask"] is False
    assert layers.GRU.from_config(config).zero_output_for_mask is True
    assert "zero_output_for_mask" not in layers.LSTMCell(2).get_config()  # a cell has none


def test_predict_and_evaluate_keep_a_masking_layers_mask(rng):
    """A Masking layer first: predict and evaluate skip the padded steps as fit's forward does."""
    from bptt import models

    model = models.Sequential([layers.Input(shape=(None, 2)), layers.Masking(0.0),
                               layers.SimpleRNN(3), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = rng.normal(size=(2, 5, 2))
    x[0, 3:] = 0.0  # row 0 ends after 3 steps
    y = rng.normal(size=(2, 1))
    alone = model.predict(x[:1, :3], verbose=0)
    padded = model.predict(x, verbose=0)
    np.testing.assert_allclose(padded[:1], alone, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(padded, model._forward(x, training=False), rtol=1e-5, atol=1e-6)
    loss = model.evaluate(x, y, verbose=0)
    assert np.isclose(loss, np.mean((padded - y) ** 2), rtol=1e-5)
