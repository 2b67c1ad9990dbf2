"""Element-wise activations and their derivatives, written as functions of the output.

Every activation used inside a recurrent cell has a derivative that can be computed from its
own output y = f(a), so the backward pass only needs to keep y:

    sigmoid      y = 1 / (1 + exp(-a))        dy/da = y (1 - y)
    tanh         y = tanh(a)                  dy/da = 1 - y^2
    relu         y = max(a, 0)                dy/da = [y > 0]
    linear       y = a                        dy/da = 1
    hard_sigmoid y = clip(a / 6 + 1/2, 0, 1)  dy/da = 1/6 where 0 < y < 1   (Keras 3's definition)

softmax is here too (over the last axis); its backward needs the whole vector, see
`softmax_backward`.
"""
import numpy as np
from scipy.special import expit


def sigmoid(a):
    """1 / (1 + exp(-a)), stable for any input (SciPy's expit never overflows), dtype kept."""
    return expit(a)


def hard_sigmoid(a):
    return np.clip(a / 6 + 0.5, 0, 1).astype(a.dtype, copy=False)


def relu(a):
    return np.maximum(a, 0)


def linear(a):
    return a


def softmax(a):
    shifted = a - a.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(dy, y):
    """d/da of softmax along the last axis: da = y * (dy - sum(dy * y))."""
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": relu,
    "linear": linear,
    "hard_sigmoid": hard_sigmoid,
    "softmax": softmax,
}

# dy/da as a function of y, for the element-wise activations.
DERIVATIVES = {
    "sigmoid": lambda y: y * (1 - y),
    "tanh": lambda y: 1 - y * y,
    "relu": lambda y: (y > 0).astype(y.dtype),
    "linear": lambda y: np.ones_like(y),
    "hard_sigmoid": lambda y: ((y > 0) & (y < 1)).astype(y.dtype) / 6,
}


def get(name):
    """Resolve an activation name (None means 'linear') to its canonical string."""
    if name is None:
        return "linear"
    if callable(name):
        for key, fn in ACTIVATIONS.items():
            if fn is name:
                return key
        # bptt.activations.relu etc. (keras.activations.relu): the activation of that name
        if getattr(name, "__module__", None) == "bptt.activations" and name.__name__ in ACTIVATIONS:
            return name.__name__
        raise ValueError(
            f"Unknown activation function {name!r}: pass one of {sorted(ACTIVATIONS)} by name."
        )
    if name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}.")
    return name


def apply(name, a):
    return ACTIVATIONS[name](a)


def backward(name, dy, y):
    """da for y = f(a), given dy and the output y."""
    if name == "softmax":
        return softmax_backward(dy, y)
    if name == "linear":
        return dy
    return dy * DERIVATIVES[name](y)
