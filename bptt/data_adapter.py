"""Turning the arrays given to fit / evaluate / predict into checked batches, as Keras does.

Every check runs before any weight changes, and says what was expected and what came.
"""
import math

import numpy as np


def as_array(value, what):
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], np.ndarray) \
            and len(value) > 1 and any(v.shape != value[0].shape for v in value):
        raise ValueError(f"{what} must be one array; got a list of {len(value)} arrays of "
                         "different shapes. Pad them first (bptt.utils.pad_sequences).")
    array = np.asarray(value)
    if array.dtype == object:
        raise ValueError(
            f"{what} must be a rectangular numeric array, got an object array of shape "
            f"{array.shape} (sequences of different lengths?). Pad them first with "
            "bptt.utils.pad_sequences(sequences, maxlen=...)."
        )
    if array.ndim == 0:
        raise ValueError(f"{what} must have a batch axis, got a scalar.")
    return array


def check_lengths(x, y=None, sample_weight=None):
    n = len(x)
    if y is not None and len(y) != n:
        raise ValueError(
            f"x and y must have the same number of samples: x has {n}, y has {len(y)}. "
            "Check that labels and inputs come from the same split."
        )
    if sample_weight is not None and len(sample_weight) != n:
        raise ValueError(
            f"sample_weight must have one entry per sample: x has {n}, sample_weight has "
            f"{len(sample_weight)}."
        )
    return n


def split_validation(arrays, validation_split):
    """Keras' rule: the last `validation_split` fraction, taken before any shuffling."""
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split!r}.")
    n = len(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} leaves an empty split of {n} samples: "
            "use more data or another fraction."
        )
    train = [None if a is None else a[:split_at] for a in arrays]
    val = [None if a is None else a[split_at:] for a in arrays]
    return train, val


def class_weights_to_sample_weights(y, class_weight):
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        classes = y.argmax(axis=-1)
    else:
        classes = np.round(y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y).astype(int)
    missing = sorted(set(np.unique(classes).tolist()) - set(class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for class(es) {missing}; "
                         f"it has {sorted(class_weight)}.")
    lookup = np.vectorize(lambda c: float(class_weight[c]), otypes=[float])
    return lookup(classes)


def batch_slices(n, batch_size, order=None):
    """Index arrays (or slices) for each batch, in `order` if given."""
    for start in range(0, n, batch_size):
        if order is None:
            yield slice(start, min(start + batch_size, n))
        else:
            yield order[start:start + batch_size]


def steps_for(n, batch_size):
    return int(math.ceil(n / batch_size))
