"""Running a bptt layer forward and backward, and checking it by finite differences.

    forward_backward(layer, x, dy, training=False) -> (y, dx, grads)
    check_layer_by_finite_differences(layer, x, dy)  every weight, the input and any initial
                                                      states, float64

The loss behind every check is L = sum(y * dy) for a fixed random dy, so dL/dy = dy.
"""
import numpy as np

from tests.helpers.gradcheck import assert_grad_close, numerical_grad


def random_weights(layer, rng, scale=0.5):
    """Replace every weight by a random normal array (biases too, so they are exercised)."""
    layer.set_weights([rng.normal(0, scale, w.shape) for w in layer.get_weights()])


def _leaves(value):
    """The arrays of a (possibly nested) list, in order."""
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _loss(y, dy):
    if isinstance(y, list):
        return sum(float(np.sum(a * d)) for a, d in zip(_leaves(y), _leaves(dy)) if d is not None)
    return float(np.sum(y * dy))


def forward_backward(layer, x, dy, training=False, **call_kwargs):
    y = layer.forward(x, training=training, **call_kwargs)
    dx = layer.backward(dy)
    return y, dx, {key: value.copy() for key, value in layer.grads.items()}


def check_layer_by_finite_differences(layer, x, dy, check_input=True, **call_kwargs):
    """Analytic gradients of sum(y * dy) against central differences, for weights and input,
    and for each initial state when `initial_state=[...]` is among the call's arguments (a
    recurrent layer's `initial_state_grads`). y and dy may be nested lists alike."""
    _, dx, grads = forward_backward(layer, x, dy, **call_kwargs)
    initial = call_kwargs.get("initial_state") or []
    state_grads = [g.copy() for g in layer.initial_state_grads] if initial else []

    def loss():
        return _loss(layer.forward(x, **call_kwargs), dy)

    for key, value in layer.params.items():
        assert_grad_close(grads[key], numerical_grad(loss, value), name=key)
    if check_input:
        assert_grad_close(dx, numerical_grad(loss, x), name="dx")
    assert len(state_grads) == len(initial)
    for k, (state, grad) in enumerate(zip(initial, state_grads)):
        assert_grad_close(grad, numerical_grad(loss, state), name=f"dstate{k}")
