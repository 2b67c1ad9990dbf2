"""Keras' activation functions on NumPy arrays: `activations.relu(x)`, and the same functions
as layer arguments, `Dense(8, activation=activations.relu)` (the same as activation='relu').

These are the activations bptt's layers have (their maths and derivatives in
bptt/ops/activations.py), with Keras' signatures:

    relu(x, negative_slope=0.0, max_value=None, threshold=0.0)
        y = clip(x if x > threshold else 0, 0, max_value) - negative_slope * max(threshold - x, 0)
        (threshold 0: max(x, 0) in place of the first term)
    sigmoid(x), tanh(x), hard_sigmoid(x) = clip(x / 6 + 1/2, 0, 1), linear(x) = x
    softmax(x, axis=-1) = exp(x - max) / sum(exp(x - max)) along `axis`

A layer given one of these functions uses its default arguments (relu with negative_slope,
max_value or threshold set is for arrays only).
"""
import numpy as np

from bptt.ops import activations as _ops


def _float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    x = _float(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _ops.relu(x)
    dt = x.dtype.type
    # Keras' order: keep x above the threshold (else 0), cap at [0, max_value], then subtract
    # negative_slope times how far x is below the threshold.
    y = np.where(x > dt(threshold), x, dt(0)) if threshold != 0.0 else _ops.relu(x)
    if max_value is not None:
        y = np.clip(y, dt(0), dt(max_value))
    if negative_slope != 0.0:
        y = y - dt(negative_slope) * _ops.relu(dt(threshold) - x)
    return y.astype(x.dtype, copy=False)


def sigmoid(x):
    return _ops.sigmoid(_float(x))


def tanh(x):
    return np.tanh(_float(x))


def hard_sigmoid(x):
    return _ops.hard_sigmoid(_float(x))


def linear(x):
    return x


def softmax(x, axis=-1):
    x = _float(x)
    if axis in (-1, x.ndim - 1):
        return _ops.softmax(x)
    return np.moveaxis(_ops.softmax(np.moveaxis(x, axis, -1)), -1, axis)


_FUNCTIONS = {fn.__name__: fn for fn in (relu, sigmoid, tanh, hard_sigmoid, linear, softmax)}


def get(identifier):
    """The function for a name ('relu', ...), None ('linear'), or a callable (returned as is)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _FUNCTIONS:
            raise ValueError(f"Unknown activation {identifier!r}; bptt's layers take one of "
                             f"{sorted(_FUNCTIONS)}.")
        return _FUNCTIONS[identifier]
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(activation):
    """An activation's name, as a layer's config stores it."""
    return _ops.get(activation)


def deserialize(name):
    return get(name)


__all__ = [*_FUNCTIONS, "get", "serialize", "deserialize"]


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "activations", name)
