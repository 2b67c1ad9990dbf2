"""Keras' `PyDataset` (also exported as `Sequence`): a dataset written in Python, one batch per
index.

A subclass calls `super().__init__(**kwargs)`, defines `__len__` (the number of batches, or the
`num_batches` property, None for an endless dataset) and `__getitem__(index)` returning a whole
batch: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`. `on_epoch_begin()` / `on_epoch_end()`
may change the data between epochs (a reshuffle, say).

`workers`, `use_multiprocessing` and `max_queue_size` are accepted and kept, as Keras keeps
them, but bptt's fit reads the batches itself, in one thread, in index order.
"""
import itertools
import warnings


class PyDataset:
    """Base class for a dataset of batches made in Python: subclass it and write `__len__` and
    `__getitem__` (see the module docstring)."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        missing = [name for name in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if not hasattr(self, name)]
        if missing:
            self._workers = getattr(self, "_workers", 1)
            self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
            self._max_queue_size = getattr(self, "_max_queue_size", 10)
            warnings.warn(
                f"{type(self).__name__} should call `super().__init__(**kwargs)` in its "
                "constructor (kwargs may hold workers, use_multiprocessing, max_queue_size); "
                "those arguments belong to the dataset, not to fit().", stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position `index`."""
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(self, index) returning the batch "
            "at that index: x, (x, y) or (x, y, sample_weight).")

    @property
    def num_batches(self):
        """The number of batches: len(self) by default; None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must define __len__(self) (the number of batches) or a "
            "num_batches property (None for an endless dataset).")

    def __iter__(self):
        """The batches in index order; endlessly when num_batches is None."""
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        for index in itertools.count() if count is None else range(count):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset  # Keras exports the same class under both names
