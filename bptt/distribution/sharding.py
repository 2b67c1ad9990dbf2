"""Which rows of a global batch each process takes, and random draws that stay the same as
one process's.

A global batch of N rows is cut into `size` contiguous shards, rank r taking rows
[r * N // size, (r + 1) * N // size). Each rank's loss gradient is weighted by its rows / N, so
the summed gradient is the one-process mean over the N rows however unevenly N splits. A rank
whose shard is empty (N < size) runs row 0 with weight 0: it still takes part in every draw and
every collective, and adds nothing.

Dropout masks: while a sharded step runs, a layer draws the mask of the whole global batch from
its generator (every rank's generator is in the same state) and keeps its own rows, so the
generators advance as one process's does and each row gets the mask it would get there.
"""
import contextlib

import numpy as np

_ACTIVE = None  # the Shard of the step running now, or None outside a sharded step


class Shard:
    """This rank's part of a global batch of `global_rows` rows."""

    def __init__(self, global_rows, rank, size):
        self.global_rows = global_rows
        start, stop = rank * global_rows // size, (rank + 1) * global_rows // size
        self.rows = stop - start  # rows this rank really owns (0 when N < size)
        if self.rows == 0:
            start, stop = 0, 1  # a stand-in row with weight 0
        self.start, self.stop = start, stop
        self.weight = self.rows / global_rows  # this rank's share of the global mean

    def take(self, arrays):
        if arrays is None:
            return None
        return [None if a is None else a[self.start:self.stop] for a in arrays]


def bounds(global_rows, size):
    """(start, stop) of every rank's rows, in rank order (empty shards as (n, n))."""
    return [(r * global_rows // size, (r + 1) * global_rows // size) for r in range(size)]


@contextlib.contextmanager
def drawing(shard):
    """Within: random draws with a batch axis are made for the whole global batch."""
    global _ACTIVE
    previous, _ACTIVE = _ACTIVE, shard
    try:
        yield
    finally:
        _ACTIVE = previous


def uniform(rng, shape, batch_axis=0):
    """rng.random(shape), or, inside a sharded step, this rank's rows of the draw one process
    makes for the whole global batch (batch_axis: where the batch is in `shape`; None when
    the draw has no batch axis, e.g. a noise_shape of 1 there)."""
    shard = _ACTIVE
    if shard is None or batch_axis is None:
        return rng.random(shape)
    shape = list(shape)
    shape[batch_axis] = shard.global_rows
    whole = rng.random(tuple(shape))
    index = [slice(None)] * len(shape)
    index[batch_axis] = slice(shard.start, shard.stop)
    return whole[tuple(index)]
