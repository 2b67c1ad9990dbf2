"""Every process's gradients added up in one collective: packed into one flat buffer, summed
in place across processes, and unpacked into the arrays the optimizer is about to read.

An Embedding's gradient (bptt.optimizers.RowGradient) travels as its dense (V, D) sum and, for
Adam and RMSprop, its (V, D) sum of squared per-lookup gradients: both add up over processes
exactly as over the lookups of one batch, so the optimizer sees what one process would. Which
rows were looked up travels as 0/1 and comes back as "looked up on some rank". The per-lookup
list that clipvalue reads cannot be summed; DataParallel refuses clipvalue with an embedding.
"""
import numpy as np

from bptt.optimizers.base import RowGradient


def _parts(pairs):
    """The arrays of the gradients, in order: what travels, and where it comes back to."""
    parts = []
    for grad, _ in pairs:
        if isinstance(grad, RowGradient):
            parts.append(grad.summed)
            parts.append(grad.squares)
        else:
            parts.append(grad)
    return parts


def sum_over_processes(communicator, pairs, buffer=None):
    """Sum the gradients in `pairs` over every process, in place. Returns the new pairs (a
    RowGradient's looked-up rows become those of every rank) and the flat buffer, to be
    handed back next step so that it is allocated once."""
    parts = _parts(pairs)
    rows = [grad.rows for grad, _ in pairs if isinstance(grad, RowGradient)
            and grad.rows is not None]
    dtype = np.result_type(*[part.dtype for part in parts])
    size = sum(part.size for part in parts) + sum(r.size for r in rows)
    if buffer is None or buffer.size != size or buffer.dtype != dtype:
        buffer = np.empty(size, dtype=dtype)
    offset = 0
    for array in parts + rows:
        buffer[offset:offset + array.size] = array.reshape(-1)
        offset += array.size
    communicator.sum_in_place(buffer)
    offset, summed = 0, []
    for part in parts:
        summed.append(buffer[offset:offset + part.size].reshape(part.shape).astype(
            part.dtype, copy=False))
        offset += part.size
    looked_up = []
    for r in rows:
        looked_up.append(buffer[offset:offset + r.size].reshape(r.shape) > 0)
        offset += r.size
    summed, looked_up = iter(summed), iter(looked_up)
    new_pairs = []
    for grad, weight in pairs:
        if isinstance(grad, RowGradient):
            rows_after = next(looked_up) if grad.rows is not None else None
            grad = RowGradient(next(summed), next(summed), rows_after, None)
        else:
            grad = next(summed)
        new_pairs.append((grad, weight))
    return new_pairs, buffer
