"""Gradient clipping as Keras 3 does it, before the update (bptt.optimizers.base, step 2):

    clipnorm        g = g * c / max(||g||, c)          each gradient by its own norm
    global_clipnorm g = g * c * min(1/N, 1/c)          N the norm of all gradients
                                                       (NaN everywhere if N is inf/NaN)
    clipvalue       g = clip(g, -c, c)

An Embedding's gradient comes as TF's slices, one per lookup (base.RowGradient): `squares` the
sum over repeats of each slice squared, `lookups` the slices themselves. TF clips those:
clipnorm takes the norm of the slices (sqrt of the sum of the squares) and scales the squares by
s^2; global_clipnorm counts the slices in its norm, but its scaling turns the gradient dense
(repeats added up), so the optimizer then squares the summed gradient; clipvalue clips each
slice, then adds them up again. tests/test_keras_golden.py holds all three to Keras.
"""
import math

import numpy as np

from bptt.ops import embedding


def clip(grads, squares, lookups, clipnorm=None, global_clipnorm=None, clipvalue=None):
    """(grads, squares), clipped, as copies: the caller's arrays are never modified. squares[i] is
    None or an embedding's (squares, rows), lookups[i] None or its (ids, dy)."""
    if clipnorm and clipnorm > 0:
        clipped = [_scaled(g, square, clipnorm / norm) if norm > clipnorm
                   else (g, square)  # g * c / max(norm, c) is g itself when norm <= c
                   for g, square, norm in zip(grads, squares, _norms(grads, squares))]
        return [g for g, _ in clipped], [square for _, square in clipped]
    if global_clipnorm and global_clipnorm > 0:
        norm = math.sqrt(sum(n * n for n in _norms(grads, squares)))
        if not math.isfinite(norm):
            scale = math.nan  # Keras: "for inf/-inf/NaN, this will make scale NaN"
        elif norm <= global_clipnorm:
            return grads, squares
        else:
            scale = global_clipnorm / norm
        return [g * g.dtype.type(scale) for g in grads], [None] * len(grads)  # dense, see above
    if clipvalue and clipvalue > 0:
        c = clipvalue
        clipped = [(np.clip(g, -c, c), square) if lookup is None
                   else _clipped_lookups(g, square, lookup, c)
                   for g, square, lookup in zip(grads, squares, lookups)]
        return [g for g, _ in clipped], [square for _, square in clipped]
    return grads, squares


def _sum_of_squares(g):
    flat = g.reshape(-1)
    return float(np.dot(flat, flat))


def _norms(grads, squares):
    """Each gradient's L2 norm; an embedding's is that of its slices, sqrt(sum of squares)."""
    return [math.sqrt(_sum_of_squares(g) if square is None
                      else float(square[0].sum(dtype=np.float64)))
            for g, square in zip(grads, squares)]


def _scaled(g, square, scale):
    """(g * scale, its squares * scale^2): what scaling each slice by `scale` gives."""
    dt = g.dtype.type
    if square is None:
        return g * dt(scale), None
    return g * dt(scale), (square[0] * dt(scale * scale), square[1])


def _clipped_lookups(g, square, lookup, c):
    """An embedding's gradient and squares from its slices clipped to [-c, c] one by one: the
    embedding's own backward (bptt.ops.embedding) on the clipped slices."""
    ids, dy = lookup
    slices = np.clip(np.asarray(dy, dtype=g.dtype), -c, c)  # (N, D)
    summed = embedding.embedding_backward(slices, ids, g)
    squares = embedding.embedding_backward_squares(slices, ids, g)
    return summed, (squares, None if square is None else square[1])
