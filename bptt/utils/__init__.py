"""Utilities with Keras' names: `set_random_seed`, `pad_sequences`, `to_categorical`,
`normalize`, `clear_session`."""
import numpy as np

from bptt import backend
from bptt.backend import clear_session
from bptt.utils.sequence import pad_sequences


def set_random_seed(seed):
    """Seed the one generator behind every random draw (initializers, dropout, shuffling).

    Two runs that call `set_random_seed(s)` with the same `s` before building a model give the
    same weights, the same dropout masks and the same batches, bit for bit.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed expects an int, got {seed!r} ({type(seed).__name__}).")
    backend.set_global_seed(int(seed))


def to_categorical(x, num_classes=None):
    """One-hot encode integer class ids: shape (...,) -> (..., num_classes), as Keras does."""
    x = np.asarray(x, dtype="int64")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x[..., 0]
    if num_classes is None:
        num_classes = int(x.max()) + 1
    out = np.zeros(x.shape + (num_classes,), dtype=backend.floatx())
    np.put_along_axis(out, x[..., None], 1, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """x divided by its `order`-norm along `axis` (rows of norm 0 stay 0), as Keras' normalize."""
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(backend.floatx())
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm != 0)


__all__ = ["set_random_seed", "pad_sequences", "to_categorical", "normalize", "clear_session"]


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "utils", name)
