"""Diagnostics: the gradient through time equals finite differences; the traced gates rebuild
the layer's output through the LSTM / GRU equations."""
import numpy as np
import pytest

from bptt import diagnostics, layers, models, optimizers
from tests.helpers.gradcheck import numerical_grad
from tests.helpers.layers import random_weights


def test_gradient_through_time_equals_finite_differences(float64, rng):
    model = models.Sequential([layers.SimpleRNN(4, return_sequences=True), layers.LSTM(3),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = rng.normal(size=(5, 6, 2))
    y = rng.integers(0, 2, size=(5, 1)).astype(float)
    model.build((None, 6, 2))
    for layer in model.layers:
        random_weights(layer, rng)
    before = model.get_weights()
    flows = diagnostics.gradient_through_time(model, x, y)
    dx = numerical_grad(lambda: model.evaluate(x, y, verbose=0), x)
    np.testing.assert_allclose(flows[model.layers[0].name],
                               np.linalg.norm(dx, axis=-1).mean(axis=0), rtol=1e-6)
    # the LSTM's input is the SimpleRNN's output sequence: the same model's loss from there on
    hs = model.layers[0].forward(x)  # (5, 6, 4)
    upper = models.Sequential([layers.LSTM(3), layers.Dense(1, activation="sigmoid")])
    upper.compile(optimizer="sgd", loss="binary_crossentropy")
    upper.build((None, 6, 4))
    upper.set_weights(model.get_weights()[3:])
    assert upper.evaluate(hs, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    dhs = numerical_grad(lambda: upper.evaluate(hs, y, verbose=0), hs)
    np.testing.assert_allclose(flows[model.layers[1].name],
                               np.linalg.norm(dhs, axis=-1).mean(axis=0), rtol=1e-6)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing trained


def test_simple_rnn_gradient_vanishes_with_distance(rng):
    """With a contracting recurrent kernel (norm 0.5) the gradient shrinks going back in time."""
    model = models.Sequential([layers.SimpleRNN(8), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.build((None, 30, 3))
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    weights = model.get_weights()
    weights[1] = (0.5 * q).astype("float32")
    model.set_weights(weights)
    flows = diagnostics.gradient_through_time(model, rng.normal(size=(16, 30, 3)),
                                              rng.normal(size=(16, 1)))
    norms = next(iter(flows.values()))
    assert norms[0] < 1e-6 * norms[-1]  # 29 steps back: at most 0.5^29 of the last


def test_lstm_gates_rebuild_the_output(float64, rng):
    model = models.Sequential([layers.Embedding(10, 3), layers.LSTM(4, return_sequences=True)])
    x = rng.integers(0, 10, size=(2, 5))
    model.build((None, 5))
    random_weights(model.layers[1], rng)
    gates = diagnostics.gate_activations(model, x)
    assert set(gates) == {"i", "f", "c", "o", "h_t", "c_t"} and gates["f"].shape == (2, 5, 4)
    for name in "ifo":
        assert np.all((gates[name] > 0) & (gates[name] < 1))
    c = np.zeros((2, 4))
    hs = []
    for t in range(5):  # c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)
        c = gates["f"][:, t] * c + gates["i"][:, t] * gates["c"][:, t]
        hs.append(gates["o"][:, t] * np.tanh(c))
    np.testing.assert_allclose(np.stack(hs, axis=1), model.predict(x, verbose=0), atol=1e-12)


def test_gru_gates_rebuild_the_output(float64, rng):
    layer = layers.GRU(3, return_sequences=True, go_backwards=True)
    model = models.Sequential([layer])
    x = rng.normal(size=(2, 4, 2))
    model.build((None, 4, 2))
    random_weights(layer, rng)
    gates = diagnostics.gate_activations(model, x, layer=layer.name)
    h = np.zeros((2, 3))
    hs = []
    for t in range(4):  # in the layer's reading order (reversed input): h = z h_prev + (1 - z) hh
        z, hh = gates["z"][:, t], gates["h"][:, t]
        h = z * h + (1 - z) * hh
        hs.append(h)
    np.testing.assert_allclose(np.stack(hs, axis=1), model.predict(x, verbose=0), atol=1e-12)


def test_errors_name_the_problem():
    model = models.Sequential([layers.Input(shape=(3, 2)), layers.SimpleRNN(2)])
    with pytest.raises(ValueError, match="no LSTM or GRU"):
        diagnostics.gate_activations(model, np.zeros((1, 3, 2)))
    with pytest.raises(RuntimeError, match="compile"):
        diagnostics.gradient_through_time(model, np.zeros((1, 3, 2)), np.zeros((1, 2)))
