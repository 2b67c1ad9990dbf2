"""dL/dh_t and dL/dc_t from the backward pass equal finite differences in float64, for every
recurrent layer of a stack: the loss is differentiated with respect to an additive perturbation
of the state that step t computes, injected by wrapping the reference step function."""
import numpy as np
import pytest

from bptt import diagnostics, layers, models
from bptt.ops import gru, lstm, simple_rnn
from tests.helpers.gradcheck import assert_grad_close, numerical_grad
from tests.helpers.layers import random_weights

STEP_FUNCTIONS = {"SimpleRNN": (simple_rnn, "simple_rnn_step_forward"),
                  "LSTM": (lstm, "lstm_step_forward"), "GRU": (gru, "gru_step_forward")}


class Perturbed:
    """A reference step function that adds dh (and, for an LSTM, dc, before h = o * tanh(c))
    to the state computed by its `target`-th call since `calls` was last set to 0."""

    def __init__(self, step_forward, units, batch):
        self.step_forward, self.calls, self.target = step_forward, 0, None
        self.dh = np.zeros((batch, units))
        self.dc = np.zeros((batch, units))

    def __call__(self, *args, **kwargs):
        out = self.step_forward(*args, **kwargs)
        if self.calls == self.target:
            if len(out) == 3:  # LSTM: (h, c, cache); tanh is the layers' activation here
                _, c, cache = out
                c = c + self.dc
                o = cache.gates[:, 3 * c.shape[1]:]
                out = (o * np.tanh(c) + self.dh, c, cache._replace(c=c))
            else:
                out = (out[0] + self.dh,) + tuple(out[1:])
        self.calls += 1
        return out


def check_stack(model, x, y, cell, calls, monkeypatch):
    """calls: {label: [index of the step function's call that computes step t, for t in 0..T-1]}."""
    module, name = STEP_FUNCTIONS[cell]
    perturbed = Perturbed(getattr(module, name), units=3, batch=len(x))
    monkeypatch.setattr(module, name, perturbed)
    grads = diagnostics.state_gradients(model, x, y)

    def loss():
        perturbed.calls = 0
        return model.evaluate(x, y, verbose=0)

    assert set(grads) == set(calls)
    checked = 0
    for label, call_of_step in calls.items():
        states = ("h", "c") if cell == "LSTM" else ("h",)
        assert set(grads[label]) - {"x"} == set(states)
        for t, call in enumerate(call_of_step):
            perturbed.target = call
            for state in states:
                numeric = numerical_grad(loss, perturbed.dh if state == "h" else perturbed.dc)
                assert np.abs(numeric).max() > 0 or label.endswith("masked")
                assert_grad_close(grads[label][state][:, t], numeric, f"{label} d{state}_{t}",
                                  rtol=1e-6)
                checked += 1
    return grads, checked


@pytest.fixture
def reference(kernels_setting):
    kernels_setting("reference")  # the perturbation wraps the reference step functions


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_every_layer_of_a_stack_equals_finite_differences(cell, float64, reference, rng,
                                                          monkeypatch):
    """Three layers, the middle one reading backwards: its step t is computed by call T-1-t."""
    Layer = getattr(layers, cell)
    T = 4
    model = models.Sequential([Layer(3, return_sequences=True, name="first"),
                               Layer(3, return_sequences=True, go_backwards=True, name="middle"),
                               Layer(3, name="last"), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.build((None, T, 2))
    for layer in model.layers:
        random_weights(layer, rng)
    x, y = rng.normal(size=(3, T, 2)), rng.normal(size=(3, 2))
    calls = {"first": list(range(T)), "middle": [2 * T - 1 - t for t in range(T)],
             "last": [2 * T + t for t in range(T)]}
    grads, checked = check_stack(model, x, y, cell, calls, monkeypatch)
    assert checked == 3 * T * (2 if cell == "LSTM" else 1)
    flows = diagnostics.gradient_flow(model, x, y)
    np.testing.assert_allclose(flows["middle"]["h"],
                               np.linalg.norm(grads["middle"]["h"], axis=-1).mean(axis=0))
    assert set(flows["first"]) == ({"x", "h", "c"} if cell == "LSTM" else {"x", "h"})


def test_bidirectional_each_direction_equals_finite_differences(float64, reference, rng,
                                                                monkeypatch):
    T = 3
    model = models.Sequential([layers.Bidirectional(layers.LSTM(3), name="both"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.build((None, T, 2))
    for layer in (model.layers[0].forward_layer, model.layers[0].backward_layer, model.layers[1]):
        random_weights(layer, rng)
    x, y = rng.normal(size=(2, T, 2)), rng.normal(size=(2, 1))
    calls = {"both/forward": list(range(T)), "both/backward": [2 * T - 1 - t for t in range(T)]}
    check_stack(model, x, y, "LSTM", calls, monkeypatch)


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_masked_steps_get_no_gradient(cell, float64, reference, rng, monkeypatch):
    """Row 0 ends with two padding steps: the states computed there are discarded, so their
    gradient is zero, both reported and by finite differences; the real steps still match."""
    T = 5
    model = models.Sequential([layers.Embedding(6, 2, mask_zero=True),
                               getattr(layers, cell)(3, return_sequences=True, name="masked"),
                               layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.build((None, T))
    for layer in model.layers:
        random_weights(layer, rng)
    x = rng.integers(1, 6, size=(2, T))
    x[0, 3:] = 0  # padding
    y = rng.normal(size=(2, 1))
    grads, _ = check_stack(model, x, y, cell, {"masked": list(range(T))}, monkeypatch)
    padded, real = grads["masked"]["h"][0, 3:], grads["masked"]["h"][0, :3]
    assert np.all(padded == 0) and np.abs(real).min() > 0


def test_state_gradients_leave_the_model_as_it_was(rng):
    model = models.Sequential([layers.Input(shape=(4, 2), batch_size=2),
                               layers.LSTM(3, stateful=True), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 1))
    model.predict(x, verbose=0)
    states = [np.array(s) for s in model.layers[0].states]
    weights = model.get_weights()
    diagnostics.gradient_flow(model, x, y)
    for a, b in zip(states + weights, list(model.layers[0].states) + model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_functional_model_is_refused_with_the_fix():
    inputs = layers.Input(shape=(3, 2))
    model = models.Model(inputs, layers.Dense(1)(layers.LSTM(2)(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="Sequential"):
        diagnostics.gradient_flow(model, np.zeros((1, 3, 2)), np.zeros((1, 1)))
