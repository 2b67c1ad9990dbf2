"""Turning what is given to fit / evaluate / predict into checked batches, as Keras does.

Arrays (one per model input / output, as a list or a dict by name) are checked whole before any
weight changes and sliced into batches (ArrayBatches). A dataset (a Python generator or
iterator, a PyDataset-style object with __len__ and __getitem__, any re-iterable such as
utils.timeseries_dataset_from_array's result, or a tf.data.Dataset read as NumPy) yields its own
(x, y) or (x, y, sample_weight) batches, each checked as it comes (DatasetBatches).
"""
import itertools
import math
import numbers
import random

import numpy as np


def as_array(value, what):
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], np.ndarray) \
            and len(value) > 1 and any(v.shape != value[0].shape for v in value):
        raise ValueError(f"{what} must be one array; got a list of {len(value)} arrays of "
                         "different shapes. Pad them first (bptt.utils.pad_sequences).")
    try:
        array = np.asarray(value)
    except ValueError as error:  # NumPy refuses a list of sequences of different lengths
        raise ValueError(
            f"{what} must be a rectangular numeric array; NumPy could not make one of it "
            f"({error}). Sequences of different lengths? Pad them first with "
            "bptt.utils.pad_sequences(sequences, maxlen=...).") from None
    if array.dtype == object:
        raise ValueError(
            f"{what} must be a rectangular numeric array, got an object array of shape "
            f"{array.shape} (sequences of different lengths?). Pad them first with "
            "bptt.utils.pad_sequences(sequences, maxlen=...)."
        )
    if array.ndim == 0:
        raise ValueError(f"{what} must have a batch axis, got a scalar.")
    return array


def as_list(value, names, what, repeat=False):
    """One array per name (model inputs or outputs) from one array, a list or a dict by name.
    With `repeat`, one array serves every name (a sample_weight shared by all outputs)."""
    if isinstance(value, dict):
        missing = [name for name in names if name not in value]
        if missing:
            raise ValueError(f"{what} is a dict without the key(s) {missing}: the model's "
                             f"{'inputs' if what == 'x' else 'outputs'} are named {names}.")
        return [as_array(value[name], f"{what}['{name}']") for name in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        value = _flatten_arrays(value)  # (y0, [y1, y2], y3) for nested model outputs
        if len(value) == len(names):
            return [as_array(item, f"{what}[{i}]") for i, item in enumerate(value)]
        raise ValueError(
            f"The model has {len(names)} {'inputs' if what == 'x' else 'outputs'} {names}, and "
            f"{what} is a list of {len(value)}: pass one array per "
            f"{'input' if what == 'x' else 'output'}, in that order, or a dict keyed by name.")
    if isinstance(value, (list, tuple)) and len(value) == 1 and _is_array(value[0]):
        value = value[0]
    array = as_array(value, what)
    return [array] * len(names) if repeat else [array]


def _flatten_arrays(value):
    """Nested lists / tuples of arrays as one flat list (lists of plain numbers stay leaves)."""
    if isinstance(value, (list, tuple)) and any(
            isinstance(item, (list, tuple, np.ndarray)) and _holds_array(item) for item in value):
        return [leaf for item in value for leaf in _flatten_arrays(item)]
    return [value] if not isinstance(value, (list, tuple)) else list(value)


def _holds_array(value):
    if isinstance(value, np.ndarray):
        return True
    return isinstance(value, (list, tuple)) and any(_holds_array(item) for item in value)


def _is_array(value):
    return isinstance(value, np.ndarray) or hasattr(value, "__array__")


def check_lengths(xs, ys=None, sample_weights=None):
    n = len(xs[0])
    for index, x in enumerate(xs[1:], start=1):
        if len(x) != n:
            raise ValueError(f"Every input must have the same number of samples: input 0 has "
                             f"{n}, input {index} has {len(x)}.")
    for y in ys or []:
        if y is not None and len(y) != n:
            raise ValueError(
                f"x and y must have the same number of samples: x has {n}, y has {len(y)}. "
                "Check that labels and inputs come from the same split."
            )
    for sample_weight in sample_weights or []:
        if sample_weight is not None and len(sample_weight) != n:
            raise ValueError(
                f"sample_weight must have one entry per sample: x has {n}, sample_weight has "
                f"{len(sample_weight)}."
            )
    return n


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
    for key, weight in class_weight.items():
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real) \
                or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"class_weight must map each class to a finite number >= 0, got "
                             f"{weight!r} for class {key!r}.")
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


def class_weights_for(ys, class_weight):
    """Sample weights from class_weight for the model's (single) output."""
    if len(ys) != 1:
        raise ValueError("class_weight is only supported for models with a single output; "
                         "pass sample_weight per output instead.")
    return [class_weights_to_sample_weights(ys[0], class_weight)]


def _take(arrays, index):
    return None if arrays is None else [None if a is None else a[index] for a in arrays]


class ArrayBatches:
    """Batches of (xs, ys, sample_weights) lists sliced from whole arrays."""

    def __init__(self, arrays, batch_size, shuffle=False):
        self.xs, self.ys, self.sws = arrays
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.steps = steps_for(len(self.xs[0]), batch_size)

    def class_weight(self, class_weight):
        if self.sws is not None:
            raise ValueError("Pass either class_weight or sample_weight to fit, not both.")
        self.sws = class_weights_for(self.ys, class_weight)

    def split_validation(self, validation_split, batch_size):
        """Keras' rule: the last `validation_split` fraction, taken before any shuffling."""
        if not 0 < validation_split < 1:
            raise ValueError(f"validation_split must be in (0, 1), got {validation_split!r}.")
        n = len(self.xs[0])
        split_at = int(math.floor(n * (1.0 - validation_split)))
        if split_at == 0 or split_at == n:
            raise ValueError(
                f"validation_split={validation_split} leaves an empty split of {n} samples: "
                "use more data or another fraction."
            )
        train, val = slice(0, split_at), slice(split_at, n)
        val_arrays = (_take(self.xs, val), _take(self.ys, val), _take(self.sws, val))
        self.xs, self.ys, self.sws = _take(self.xs, train), _take(self.ys, train), \
            _take(self.sws, train)
        self.steps = steps_for(split_at, self.batch_size)
        return ArrayBatches(val_arrays, batch_size or self.batch_size)

    def epoch(self, targets=True):
        from bptt import backend

        n = len(self.xs[0])
        order = backend.global_rng().permutation(n) if self.shuffle else None
        for index in batch_slices(n, self.batch_size, order):
            yield _take(self.xs, index), _take(self.ys, index), _take(self.sws, index)


def is_dataset(value):
    """A source of batches rather than arrays: a generator / iterator, a PyDataset-style object
    (__len__ and __getitem__ giving batches), a tf.data.Dataset, or another re-iterable that is
    not a list, tuple, dict or array."""
    if value is None or isinstance(value, (np.ndarray, list, tuple, dict, str, bytes)):
        return False
    if hasattr(value, "__array__") and not hasattr(value, "as_numpy_iterator"):
        return False
    return hasattr(value, "__iter__") or hasattr(value, "__next__") or (
        hasattr(value, "__getitem__") and hasattr(value, "__len__"))


def _numpy(value):
    if isinstance(value, dict):
        return {key: _numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numpy(item) for item in value]
    return None if value is None else np.asarray(value)


_END = object()


class DatasetBatches:
    """Batches drawn from a dataset, each passed through `prepare(x, y, sample_weight)`.

    steps: how many batches an epoch takes (Keras' steps_per_epoch); by default one pass over a
    PyDataset or re-iterable (len() when it has one), or until a generator runs out. A one-shot
    generator or iterator is not restarted: the next epoch goes on where the last one stopped.
    """

    def __init__(self, data, prepare, steps=None, shuffle=False):
        self.data = data
        self.prepare = prepare
        self.shuffle = shuffle
        self.epochs_done = 0
        tf_like = hasattr(data, "as_numpy_iterator")
        self.indexed = not tf_like and hasattr(data, "__getitem__") and (
            hasattr(data, "num_batches") or hasattr(data, "__len__"))
        self.one_shot = hasattr(data, "__next__") or (
            hasattr(data, "__iter__") and not self.indexed and not tf_like
            and iter(data) is data)
        self._iterator = None
        length = None
        if self.indexed:
            length = getattr(data, "num_batches", None) if hasattr(data, "num_batches") \
                else len(data)
        elif not self.one_shot and hasattr(data, "__len__"):
            try:
                length = len(data)
            except TypeError:  # tf.data's len() of an infinite or unknown-size dataset
                length = None
        self.length = length
        self.steps = steps if steps is not None else length
        self.class_weights = None

    def class_weight(self, class_weight):
        """Weigh each batch's samples by the class of their target, as Keras does for datasets."""
        self.class_weights = class_weight

    def _elements(self):
        """An iterator over this epoch's elements. A one-shot iterator is handed on as it is:
        wrapping it in a generator would close it when the epoch stops early."""
        if self.indexed:
            return self._indexed_elements()
        if self.one_shot:
            if self._iterator is None:
                self._iterator = iter(self.data)
            return self._iterator
        if hasattr(self.data, "as_numpy_iterator"):
            return self.data.as_numpy_iterator()
        return iter(self.data)

    def _indexed_elements(self):
        """A PyDataset's batches by index: in a new order each epoch when fit shuffles, drawn
        as Keras draws it (random.Random(epoch number) shuffling the indices); endless when it
        has no number of batches."""
        if self.length is None:
            yield from (self.data[index] for index in itertools.count())
            return
        indices = list(range(self.length))
        if self.shuffle:
            random.Random(self.epochs_done).shuffle(indices)
        for index in indices:
            yield self.data[index]

    def epoch(self, targets=True):
        on_epoch_begin = getattr(self.data, "on_epoch_begin", None)
        if self.indexed and callable(on_epoch_begin):
            on_epoch_begin()
        count, elements = 0, self._elements()
        while self.steps is None or count < self.steps:  # ask for no batch beyond steps
            element = next(elements, _END)
            if element is _END:
                break
            element = _numpy(element)
            if isinstance(element, list) and len(element) in (1, 2, 3):
                x, y, sw = (list(element) + [None, None])[:3]
            else:
                x, y, sw = element, None, None
            if targets and y is None:
                raise ValueError(
                    "The dataset yielded batches without targets: fit and evaluate need (x, y) "
                    "or (x, y, sample_weight) tuples.")
            xs, ys, sws = self.prepare((x, y if targets else None, sw if targets else None))
            if self.class_weights is not None and targets:
                if sws is not None:
                    raise ValueError("The dataset yields sample weights and fit got class_weight: "
                                     "pass one or the other, not both.")
                sws = class_weights_for(ys, self.class_weights)
            count += 1
            yield xs, ys, sws
        on_epoch_end = getattr(self.data, "on_epoch_end", None)
        if self.indexed and callable(on_epoch_end):  # PyDataset's hook (it may reshuffle)
            on_epoch_end()
        self.epochs_done += 1
        if self.one_shot and self.steps is not None and count < self.steps:
            import warnings

            warnings.warn("Your input ran out of data; interrupting training. Make sure the "
                          "generator can produce at least `steps_per_epoch * epochs` batches.",
                          stacklevel=3)
