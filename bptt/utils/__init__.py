"""Utilities with Keras' names: `set_random_seed`, `pad_sequences`, `to_categorical`,
`normalize`, `clear_session`, `timeseries_dataset_from_array`, `PyDataset` (alias `Sequence`)."""
import numpy as np

from bptt import backend
from bptt.backend import clear_session
from bptt.progbar import Progbar
from bptt.utils.py_dataset import PyDataset, Sequence
from bptt.utils.sequence import pad_sequences
from bptt.utils.timeseries import timeseries_dataset_from_array


def set_random_seed(seed):
    """Seed the one generator behind every random draw (initializers, dropout, shuffling).

    Two runs that call `set_random_seed(s)` with the same `s` before building a model give the
    same weights, the same dropout masks and the same batches, bit for bit.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed expects an int, got {seed!r} ({type(seed).__name__}).")
    backend.set_global_seed(int(seed))


def to_categorical(x, num_classes=None):
    """One-hot encode integer class ids: shape (...,) -> (..., num_classes), float64, as Keras.

    A trailing axis of 1 is dropped first ((N, 1) -> (N, num_classes)); num_classes None (or 0)
    means max(x) + 1. Like Keras' NumPy indexing, a negative id counts from the end (-1 is the
    last class), and an id at or beyond num_classes raises IndexError.
    """
    x = np.array(x, dtype="int64")
    shape = x.shape[:-1] if x.ndim > 1 and x.shape[-1] == 1 else x.shape
    x = x.reshape(-1)  # (N,)
    if not num_classes:
        if x.size == 0:
            raise ValueError("to_categorical got no labels and no num_classes: pass "
                             "num_classes for an empty array.")
        num_classes = int(x.max()) + 1
    outside = (x >= num_classes) | (x < -num_classes)
    if outside.any():
        raise IndexError(
            f"to_categorical: label {int(x[outside][0])} is outside num_classes={num_classes} "
            f"(labels must lie in 0..{num_classes - 1}); raise num_classes or leave it None "
            "to use max(x) + 1.")
    categorical = np.zeros((x.size, num_classes))  # (N, C) float64, as Keras
    categorical[np.arange(x.size), x] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """x divided by its `order`-norm along `axis` (rows of norm 0 stay 0), as Keras' normalize:
    a NumPy array keeps NumPy's division dtype (integers give float64), other inputs (lists)
    come back as backend.floatx().

    Keras turns axis=0 into -1 when it expands the norm back (`axis or -1`); here axis=0 is
    the first axis, as the argument says."""
    if not isinstance(x, np.ndarray):
        x = np.asarray(x, dtype=backend.floatx())
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm).astype(norm.dtype)


__all__ = ["set_random_seed", "pad_sequences", "to_categorical", "normalize", "clear_session",
           "PyDataset", "Sequence", "timeseries_dataset_from_array", "Progbar"]


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "utils", name)
