"""Embedding backward, fused: the gradient of the lookup y[n] = embeddings[ids[n]] written into a
buffer the layer keeps from step to step, instead of a fresh (V, D) array of zeros and
`np.add.at` (the reference, bptt.ops.embedding.embedding_backward). Must equal it
(tests/kernels/test_embedding.py):

    dembeddings = 0;  dembeddings[ids[n]] += dy[n]   for n = 0 .. N-1, in that order

Letters: V vocabulary (input_dim), D output_dim, N = B*T looked-up ids.

Why: with V = 20,000 and D = 128 the reference writes 10 MB of zeros every step and np.add.at
goes through NumPy's generic indexed loop, while one batch touches at most N rows (1,600 at
B = 32, T = 50). Here the buffer is zeroed once, and each step clears only the rows the previous
step wrote (`rows_before`) and adds this step's rows, in the reference's order (so float sums
round the same way: the result is the reference's bit for bit).

The caller (bptt.layers.embedding) owns the buffer and the copy of the previous ids; this module
only assumes valid input: ids in [0, V), dy of the buffer's dtype, C-contiguous.
"""
import numpy as np
from numba import njit

from bptt.kernels import _common, threads

_JIT = dict(cache=True, nogil=True, error_model="numpy")

# The squares' pass is split over threads by table rows, each thread scanning every id (as
# many parts as bptt.kernels.threads gives the lookups: two from batch 64 at T = 50), where
# nothing else spins on the other cores (_common.numpy_blas_busy False).


@njit(**_JIT)
def _refill(dembeddings, rows_before, ids, dy, time_major):
    """dembeddings (V, D): clear rows_before (M,), then dembeddings[ids[p, q]] += dy[p, q] for
    ids (P, Q) in C order, as np.add.at does; dy is (P, Q, D), or (Q, P, D) when time_major."""
    D = dembeddings.shape[1]
    for k in range(rows_before.shape[0]):
        row = dembeddings[rows_before[k]]
        for d in range(D):
            row[d] = 0
    for p in range(ids.shape[0]):
        for q in range(ids.shape[1]):
            row = dembeddings[ids[p, q]]
            dy_row = dy[q, p] if time_major else dy[p, q]  # (D,) contiguous
            for d in range(D):
                row[d] += dy_row[d]


def embedding_backward_into(dembeddings, rows_before, ids, dy):
    """Make `dembeddings` (V, D) the gradient of the lookup of `ids`, in place; returns it.

    dembeddings: C-contiguous, zero except in the rows listed in `rows_before` (the ids of the
    previous call, or an empty array for a fresh buffer of zeros). ids: intp of any shape S,
    dy: (S..., D) in dembeddings' dtype. A dy (B, T, D) that is the transposed view of a
    contiguous time-major (T, B, D) array (what a recurrent layer's backward returns) is read in
    place, without a copy.
    """
    D = dembeddings.shape[1]
    if ids.ndim != 2:  # one kernel for every shape: (B,) or (B, T1, T2) run as (1, N)
        ids, dy = ids.reshape(1, -1), dy.reshape(1, -1, D)
    time_major = not dy.flags.c_contiguous and dy.transpose(1, 0, 2).flags.c_contiguous
    if time_major:
        dy = dy.transpose(1, 0, 2)  # (T, B, D) contiguous
    else:
        dy = np.ascontiguousarray(dy)
    _refill(dembeddings, rows_before.reshape(-1), ids, dy, time_major)
    return dembeddings


@njit(**_JIT)
def _refill_with_squares(dembeddings, dsquares, looked_up, rows_before, ids, dy, time_major, v0,
                         v1):
    """_refill for the gradient and, in the same pass, the sum of each lookup's dy^2 and the
    (V,) flags of the rows looked up; only rows [v0, v1) of the table (the other ids are
    skipped), so two threads can fill two halves, each row's sums in the same order."""
    D = dembeddings.shape[1]
    for k in range(rows_before.shape[0]):
        r = rows_before[k]
        if r < v0 or r >= v1:
            continue
        looked_up[r] = False
        row, square_row = dembeddings[r], dsquares[r]
        for d in range(D):
            row[d] = 0
            square_row[d] = 0
    for p in range(ids.shape[0]):
        for q in range(ids.shape[1]):
            r = ids[p, q]
            if r < v0 or r >= v1:
                continue
            looked_up[r] = True
            row, square_row = dembeddings[r], dsquares[r]
            dy_row = dy[q, p] if time_major else dy[p, q]  # (D,) contiguous
            for d in range(D):
                row[d] += dy_row[d]
            for d in range(D):
                square_row[d] += dy_row[d] * dy_row[d]


def embedding_backward_with_squares_into(dembeddings, dsquares, looked_up, rows_before, ids, dy):
    """embedding_backward_into for the gradient, plus `dsquares` (V, D), the sum over each row's
    lookups of dy^2 (bptt.ops.embedding.embedding_backward_squares), and `looked_up` (V,) bool,
    in one pass; all three buffers hold their previous call's result (or zeros) on entry."""
    D = dembeddings.shape[1]
    if ids.ndim != 2:
        ids, dy = ids.reshape(1, -1), dy.reshape(1, -1, D)
    time_major = not dy.flags.c_contiguous and dy.transpose(1, 0, 2).flags.c_contiguous
    dy = dy.transpose(1, 0, 2) if time_major else np.ascontiguousarray(dy)
    args = (dembeddings, dsquares, looked_up, rows_before.reshape(-1), ids, dy, time_major)
    V = dembeddings.shape[0]
    chunks = min(V, threads.parts("lookups", ids.size))
    if _common.numpy_blas_busy or chunks == 1:
        _refill_with_squares(*args, 0, V)
    else:  # each thread fills its share of the table's rows (see _common.run_rows)
        _common.run_rows(_refill_with_squares, V, *args, chunks=chunks)
    return dembeddings, dsquares, looked_up
