"""Keras' `timeseries_dataset_from_array`: sliding windows over an array, in batches, on NumPy.

Windows (Keras' rule). With s = start_index, e = end_index (default len(data)), L =
sequence_length, r = sampling_rate and stride k, the windows start at positions
p = 0, k, 2k, ... below

    n = (e - s) - (L - 1) * r        (and below len(targets) when targets are given)

counted inside data[s:e]; window p is data[s + p + j * r] for j = 0 .. L - 1, and its target is
targets[s + p] (the target sliced the same way as the data, indexed by the window's start).

The result is a re-iterable like a tf.data.Dataset: each pass yields batches `(x, y)` (or `x`
alone when targets is None), x of shape (B, L, *data.shape[1:]), the last batch smaller; with
batch_size=None, single windows. Only the window starts are kept: each batch is gathered from
`data` when it is drawn, so the windows are never all in memory at once.

Shuffling: the window starts are permuted once by `np.random.RandomState(seed).shuffle`, as
Keras does; Keras then runs them through tf.data's shuffle buffer (batch_size * 8 windows,
1024 unbatched), which mixes them again on every pass. The same buffer is emulated here with
NumPy draws, so each pass holds every window once in a new order that is reproducible from the
seed, but the order is not TensorFlow's. seed=None draws a seed from bptt's generator
(`utils.set_random_seed` fixes it), where Keras draws it from NumPy's global one.
"""
import math

import numpy as np

from bptt import backend

# Python lists become arrays of TensorFlow's default dtypes in Keras (tf.constant): float32 and
# int32, not NumPy's float64 and int64.
_TF_LIST_DTYPES = {np.dtype("float64"): np.dtype("float32"), np.dtype("int64"): np.dtype("int32")}


def _as_array(values, what):
    if isinstance(values, np.ndarray):
        return values
    if hasattr(values, "numpy") and callable(values.numpy):  # an eager tensor
        return np.asarray(values.numpy())
    array = np.asarray(values)
    if isinstance(values, (list, tuple)):
        array = array.astype(_TF_LIST_DTYPES.get(array.dtype, array.dtype), copy=False)
    if array.ndim == 0:
        raise ValueError(f"`{what}` must be an array whose first axis is time; got a scalar "
                         f"{values!r}.")
    return array


def _check_arguments(n, sequence_length, sequence_stride, sampling_rate, batch_size,
                     start_index, end_index):
    """Keras' argument checks (its `if start_index:` makes 0 and None skip them), plus
    sequence_length and batch_size, which Keras leaves to fail later inside tf.data."""
    if start_index:
        if start_index < 0:
            raise ValueError(f"start_index must be 0 or more; got start_index={start_index}.")
        if start_index >= n:
            raise ValueError(f"start_index must be below the data length {n}; got "
                             f"start_index={start_index}.")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"end_index must be above start_index; got start_index="
                             f"{start_index}, end_index={end_index}.")
        if end_index >= n:
            raise ValueError(f"end_index must be below the data length {n} (leave it None to "
                             f"use the data to its end); got end_index={end_index}.")
        if end_index <= 0:
            raise ValueError(f"end_index must be above 0; got end_index={end_index}.")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"{name} must be above 0; got {name}={value}.")
        if value >= n:
            raise ValueError(f"{name} must be below the data length {n}; got {name}={value}.")
    if int(sequence_length) != sequence_length or sequence_length < 1:
        raise ValueError(f"sequence_length must be a whole number of timesteps, 1 or more; got "
                         f"sequence_length={sequence_length!r}.")
    if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
        raise ValueError(f"batch_size must be 1 or more, or None for single windows; got "
                         f"batch_size={batch_size!r}.")


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Batches of sliding windows over `data` (axis 0 is time), as Keras' function of the same
    name: see the module docstring for which windows, which targets and the shuffle."""
    data = _as_array(data, "data")
    _check_arguments(len(data), sequence_length, sequence_stride, sampling_rate, batch_size,
                     start_index, end_index)
    start = 0 if start_index is None else int(start_index)
    end = len(data) if end_index is None else int(end_index)
    count = end - start - (int(sequence_length) - 1) * sampling_rate
    if targets is not None:
        targets = _as_array(targets, "targets")
        count = min(count, len(targets))
    starts = np.arange(0, max(count, 0), sequence_stride, dtype=np.int64)  # (N,)
    if targets is not None and len(starts):
        available = len(targets[start:end])
        if starts[-1] >= available:
            raise ValueError(
                f"targets has {len(targets)} entries, but the window starting at data index "
                f"{start + starts[-1]} needs targets[{start + starts[-1]}]: with "
                f"start_index={start_index}, give targets as long as data (targets[i] goes "
                "with the window that starts at data[i]).")
    if shuffle:
        if seed is None:
            seed = int(backend.global_rng().integers(1_000_000))
        np.random.RandomState(seed).shuffle(starts)
    return TimeseriesDataset(data[start:end], None if targets is None else targets[start:end],
                             starts, int(sequence_length), sampling_rate, batch_size,
                             shuffle, seed)


class TimeseriesDataset:
    """The windows of `timeseries_dataset_from_array`: iterate it for batches (each pass starts
    over), len() for the number of batches; `.take(n)` and `.as_numpy_iterator()` as tf.data's."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size,
                 shuffle, seed):
        self._data = data  # (S, ...): data[start_index:end_index], a view
        self._targets = targets  # (S, ...) or None
        self._starts = starts  # (N,) window starts in `data`, in Keras' order
        self._offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate  # (L,)
        self.batch_size = batch_size
        self._buffer_size = None
        if shuffle:
            self._buffer_size = 1024 if batch_size is None else batch_size * 8
            self._rng = np.random.default_rng(seed)  # advances pass after pass, as tf.data

    def __len__(self):
        if self.batch_size is None:
            return len(self._starts)
        return math.ceil(len(self._starts) / self.batch_size)

    def _pass_order(self):
        if self._buffer_size is None:
            return self._starts
        return _buffer_shuffle(self._starts, self._buffer_size, self._rng)

    def _element(self, starts):
        x = self._data[starts[..., None] + self._offsets]  # (B, L, ...) or (L, ...)
        return x if self._targets is None else (x, self._targets[starts])

    def __iter__(self):
        order = self._pass_order()
        if self.batch_size is None:
            for position in order:
                yield self._element(np.asarray(position))
            return
        for first in range(0, len(order), self.batch_size):
            yield self._element(order[first:first + self.batch_size])

    def take(self, count):
        """The first `count` batches (all of them for count=-1), re-iterable like this one."""
        return _Take(self, count)

    def as_numpy_iterator(self):
        """One pass over the batches; they are NumPy arrays already."""
        return iter(self)

    def __repr__(self):
        return (f"<TimeseriesDataset: {len(self._starts)} windows of "
                f"{len(self._offsets)} steps, {len(self)} batches>")


class _Take:
    def __init__(self, dataset, count):
        self._dataset = dataset
        self._count = len(dataset) if count < 0 else min(int(count), len(dataset))

    def __len__(self):
        return self._count

    def __iter__(self):
        for index, element in enumerate(self._dataset):
            if index >= self._count:
                return
            yield element

    def take(self, count):
        return _Take(self, count)

    def as_numpy_iterator(self):
        return iter(self)


def _buffer_shuffle(order, buffer_size, rng):
    """tf.data's shuffle buffer over `order`: fill the buffer, then repeatedly hand out a
    uniformly drawn slot and refill it with the next element (or, once the input is spent,
    with the buffer's last one)."""
    order = [int(value) for value in order]
    size = min(buffer_size, len(order))
    # The slot draws, made at once: while the input lasts the buffer holds `size` elements,
    # then size, size - 1, ..., 1 as it empties.
    slots = np.concatenate([rng.integers(size, size=len(order) - size),
                            rng.integers(np.arange(size, 0, -1))]).tolist() if size else []
    buffer, following, out = order[:size], size, []
    for slot in slots:
        out.append(buffer[slot])
        if following < len(order):
            buffer[slot] = order[following]
            following += 1
        else:
            buffer[slot] = buffer[-1]
            buffer.pop()
    return np.asarray(out, dtype=np.int64)
