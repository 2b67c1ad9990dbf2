"""gate_activations' states are the forward pass's own: h_t is the output sequence, the last
c_t the cell state returned with return_state, with masks and go_backwards too."""
import numpy as np
import pytest

from bptt import diagnostics, layers, models
from tests.helpers.layers import random_weights


@pytest.mark.parametrize("cell, go_backwards",
                         [("SimpleRNN", False), ("LSTM", True), ("GRU", False)])
def test_states_are_the_forward_pass_outputs(cell, go_backwards, float64, rng):
    Layer = getattr(layers, cell)
    sequence = models.Sequential([Layer(4, return_sequences=True, go_backwards=go_backwards,
                                        name="rnn")])
    sequence.build((None, 6, 3))
    random_weights(sequence.layers[0], rng)
    x = rng.normal(size=(2, 6, 3))
    traces = diagnostics.gate_activations(sequence, x, layer="rnn")
    expected = {"SimpleRNN": {"h_t"}, "LSTM": {"i", "f", "c", "o", "h_t", "c_t"},
                "GRU": {"z", "r", "h", "h_t"}}[cell]
    assert set(traces) == expected
    np.testing.assert_allclose(traces["h_t"], sequence.predict(x, verbose=0), atol=1e-12)
    last = Layer(4, return_state=True, go_backwards=go_backwards)
    last.build((None, 6, 3))
    last.set_weights(sequence.get_weights())
    output, *states = last.forward(x)
    np.testing.assert_allclose(traces["h_t"][:, -1], states[0], atol=1e-12)
    if cell == "LSTM":
        np.testing.assert_allclose(traces["c_t"][:, -1], states[1], atol=1e-12)
        assert not np.allclose(traces["c_t"], traces["c"])  # the state, not the candidate


def test_masked_steps_hold_the_states(float64, rng):
    """Row 0 ends with padding: h_t and c_t stay as they were at its last word, as Keras holds
    them, and equal the states the layer returns."""
    embedding = layers.Embedding(7, 3, mask_zero=True)
    lstm = layers.LSTM(4, return_state=True, name="rnn")
    model = models.Sequential([embedding, layers.LSTM(4, name="rnn")])
    model.build((None, 5))
    random_weights(model.layers[1], rng)
    ids = rng.integers(1, 7, size=(2, 5))
    ids[0, 3:] = 0
    traces = diagnostics.gate_activations(model, ids, layer="rnn")
    np.testing.assert_array_equal(traces["c_t"][0, 3], traces["c_t"][0, 2])
    np.testing.assert_array_equal(traces["h_t"][0, 4], traces["h_t"][0, 2])
    assert not np.allclose(traces["h_t"][1, 4], traces["h_t"][1, 2])
    lstm.build((None, 5, 3))
    lstm.set_weights(model.layers[1].get_weights())
    vectors = embedding.forward(ids)
    _, h, c = lstm.forward(vectors, mask=ids != 0)
    np.testing.assert_allclose(traces["h_t"][:, -1], h, atol=1e-12)
    np.testing.assert_allclose(traces["c_t"][:, -1], c, atol=1e-12)


def test_a_simple_rnn_must_be_named_and_a_dense_layer_is_refused():
    model = models.Sequential([layers.Input(shape=(3, 2)), layers.SimpleRNN(2, name="rnn"),
                               layers.Dense(1, name="out")])
    with pytest.raises(ValueError, match="layer='<name>'"):
        diagnostics.gate_activations(model, np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="not recurrent"):
        diagnostics.gate_activations(model, np.zeros((1, 3, 2)), layer="out")
    assert set(diagnostics.gate_activations(model, np.zeros((1, 3, 2)), layer="rnn")) == {"h_t"}


def test_each_direction_of_a_bidirectional_layer(float64, rng):
    """'<wrapper>/forward' and '<wrapper>/backward' trace the two layers inside: their h_t are
    the two halves of the wrapper's output, the backward one in the order it reads the steps."""
    model = models.Sequential([layers.Bidirectional(layers.GRU(3, return_sequences=True),
                                                    name="both")])
    model.build((None, 5, 2))
    random_weights(model.layers[0].forward_layer, rng)
    random_weights(model.layers[0].backward_layer, rng)
    x = rng.normal(size=(2, 5, 2))
    out = model.predict(x, verbose=0)  # (B, T, 2H): forward half, then backward half
    forward = diagnostics.gate_activations(model, x, layer="both/forward")
    backward = diagnostics.gate_activations(model, x, layer="both/backward")
    assert set(forward) == set(backward) == {"z", "r", "h", "h_t"}
    np.testing.assert_allclose(forward["h_t"], out[:, :, :3], atol=1e-12)
    np.testing.assert_allclose(backward["h_t"][:, ::-1], out[:, :, 3:], atol=1e-12)
    assert not np.allclose(forward["z"], backward["z"][:, ::-1])


def test_a_direction_of_a_layer_that_is_not_bidirectional_is_refused(rng):
    model = models.Sequential([layers.LSTM(3, name="rnn")])
    model.build((None, 4, 2))
    with pytest.raises(ValueError, match="'rnn' is not one"):
        diagnostics.gate_activations(model, np.zeros((1, 4, 2)), layer="rnn/forward")
    with pytest.raises(ValueError, match=r"No layer named 'other'.*\['rnn'\]"):
        diagnostics.gate_activations(model, np.zeros((1, 4, 2)), layer="other")
