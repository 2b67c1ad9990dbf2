"""Every process's gradients added up in one collective: packed into one flat buffer, summed
in place across processes, and unpacked into the arrays the optimizer is about to read.

An Embedding's gradient (bptt.optimizers.RowGradient) is its (V, D) sum over the lookups and,
for Adam and RMSprop, its (V, D) sum of squared per-lookup gradients: both add up over
processes exactly as over the lookups of one batch, so the optimizer sees what one process
would. Only the rows some process looked up are non-zero, so those rows alone travel: first
the (V,) looked-up flags are summed (a small Allreduce), then the flat buffer holds the dense
gradients and, of each table, the rows of that union. (Where a gradient does not say its
rows, the whole table travels.) The per-lookup list that clipvalue reads does not travel
(bptt.distribution refuses clipvalue).
"""
import time

import numpy as np

from bptt.optimizers.base import RowGradient


class GradientSum:
    """Sums a step's (gradient, weight) pairs over the processes; keeps its buffers from step
    to step (allocated once for a model)."""

    def __init__(self, communicator):
        self.communicator = communicator
        self.buffer = None  # the flat buffer that the Allreduce sums
        self.tables = {}  # pair index -> (summed (V, D), squares (V, D), looked-up (V,),
        #                                   rows filled last)
        self.steps = 0  # what the benchmarks read: steps summed, floats sent in all (flags
        self.floats = 0  # included), seconds inside the collectives (waiting included)
        self.seconds = 0.0

    def __call__(self, pairs):
        start = time.perf_counter()
        unions = self._looked_up_anywhere(pairs)
        pieces = []  # (array to send, index into it or None)
        for index, (grad, _) in enumerate(pairs):
            if isinstance(grad, RowGradient):
                rows = unions.get(index)
                pieces.append((grad.summed, rows))
                pieces.append((grad.squares, rows))
            else:
                pieces.append((grad, None))
        sizes = [array.size if rows is None else rows.size * array.shape[1]
                 for array, rows in pieces]
        dtype = np.result_type(*[array.dtype for array, _ in pieces])
        if self.buffer is None or self.buffer.size < sum(sizes) or self.buffer.dtype != dtype:
            self.buffer = np.empty(sum(sizes), dtype=dtype)
        flat = self.buffer[:sum(sizes)]
        offset = 0
        for (array, rows), size in zip(pieces, sizes):
            view = flat[offset:offset + size]
            view[:] = (array if rows is None else array[rows]).reshape(-1)
            offset += size
        self.communicator.sum_in_place(flat)
        self.steps += 1
        self.floats += flat.size
        self.seconds += time.perf_counter() - start
        offset, summed = 0, []
        for (array, rows), size in zip(pieces, sizes):
            summed.append(flat[offset:offset + size])
            offset += size
        return self._unpack(pairs, unions, iter(summed))

    def _looked_up_anywhere(self, pairs):
        """{pair index: the sorted rows of its table that some process looked up} for every
        RowGradient that says which rows it looked up."""
        tables = [index for index, (grad, _) in enumerate(pairs)
                  if isinstance(grad, RowGradient) and grad.rows is not None]
        if not tables:
            return {}
        flags = np.concatenate([pairs[index][0].rows for index in tables]).astype(np.float32)
        self.communicator.sum_in_place(flags)
        self.floats += flags.size
        unions, offset = {}, 0
        for index in tables:
            count = len(pairs[index][0].rows)
            unions[index] = np.flatnonzero(flags[offset:offset + count])
            offset += count
        return unions

    def _unpack(self, pairs, unions, summed):
        new_pairs = []
        for index, (grad, weight) in enumerate(pairs):
            if not isinstance(grad, RowGradient):
                new_pairs.append((next(summed).reshape(grad.shape).astype(grad.dtype,
                                                                           copy=False), weight))
                continue
            rows = unions.get(index)
            total, squares = next(summed), next(summed)
            if rows is None:
                new = RowGradient(total.reshape(grad.summed.shape).astype(grad.summed.dtype),
                                  squares.reshape(grad.squares.shape).astype(grad.squares.dtype))
            else:
                dense_sum, dense_squares, looked_up = self._table(index, grad, rows)
                width = grad.summed.shape[1]
                dense_sum[rows] = total.reshape(-1, width)
                dense_squares[rows] = squares.reshape(-1, width)
                new = RowGradient(dense_sum, dense_squares, looked_up)
            new_pairs.append((new, weight))
        return new_pairs

    def _table(self, index, grad, rows):
        """The dense (V, D) arrays a table's summed gradient goes into: zero but for `rows`
        (the rows written last step are cleared first, not the whole table)."""
        kept = self.tables.get(index)
        if kept is None or kept[0].shape != grad.summed.shape or \
                kept[0].dtype != grad.summed.dtype:
            kept = (np.zeros_like(grad.summed), np.zeros_like(grad.squares),
                    np.zeros(len(grad.summed), dtype=bool), np.empty(0, np.intp))
        dense_sum, dense_squares, looked_up, before = kept
        dense_sum[before] = 0
        dense_squares[before] = 0
        looked_up[before] = False
        looked_up[rows] = True
        self.tables[index] = (dense_sum, dense_squares, looked_up, rows)
        return dense_sum, dense_squares, looked_up
