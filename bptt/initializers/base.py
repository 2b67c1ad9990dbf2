"""The Initializer base class: `__call__(shape, dtype=None)` and the config round trip."""
import numpy as np

from bptt import backend


def float_dtype(dtype):
    """The dtype asked for, or backend.floatx() when None (as Keras' initializers)."""
    return np.dtype(dtype or backend.floatx())


class Initializer:
    """Base class: `__call__(shape, dtype=None)` returns an array; `get_config` /
    `from_config` give the constructor arguments and back.

    bptt's layers also pass their generator as `rng`; initializers with no randomness ignore it.
    """

    def __call__(self, shape, dtype=None, rng=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype).")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
