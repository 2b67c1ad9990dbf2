"""Initializers without randomness: Zeros, Ones, Constant(value), Identity(gain)."""
import numpy as np

from bptt.initializers.base import Initializer, float_dtype


class Zeros(Initializer):
    def __call__(self, shape, dtype=None, rng=None):
        return np.zeros(shape, dtype=float_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None, rng=None):
        return np.ones(shape, dtype=float_dtype(dtype))


class Constant(Initializer):
    """`value` everywhere; an array value must broadcast to the shape (Keras multiplies it by
    ones(shape)), e.g. Embedding(embeddings_initializer=Constant(pretrained_matrix))."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None, rng=None):
        value = np.asarray(self.value)
        try:
            out = np.broadcast_to(value, tuple(shape))
        except ValueError:
            raise ValueError(f"Constant: the value of shape {value.shape} does not broadcast to "
                             f"the weight's shape {tuple(shape)}; pass a scalar or an array of "
                             "that shape.") from None
        return np.array(out, dtype=float_dtype(dtype))

    def get_config(self):
        value = self.value
        return {"value": value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, rng=None):
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={tuple(shape)} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(float_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}
