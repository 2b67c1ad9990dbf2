"""Embedding: the reference lookup and its gradient.

Letters: V vocabulary (input_dim), D output_dim; ids of any shape S (usually (B, T)).

    y[s] = embeddings[ids[s]]                      (S..., D)
    dembeddings[v] = sum over s with ids[s] == v of dy[s]

A row looked up several times gets the sum of its dy rows; rows not looked up get zero.

For the optimizer, as Keras on TensorFlow (see bptt.optimizers.base.RowGradient), also

    dembeddings_squares[v] = sum over s with ids[s] == v of dy[s]^2
"""
import numpy as np


def embedding_forward(ids, embeddings):
    """ids (S...) intp, embeddings (V, D) -> y (S..., D), a copy of the looked-up rows."""
    return embeddings.take(ids, axis=0)  # embeddings[ids], half the call overhead at batch 1


def embedding_backward(dy, ids, embeddings):
    """dy (S..., D) -> dembeddings (V, D), a new array in embeddings' dtype."""
    D = embeddings.shape[1]
    dembeddings = np.zeros_like(embeddings)  # (V, D)
    np.add.at(dembeddings, ids.reshape(-1), dy.reshape(-1, D))  # repeated ids accumulate
    return dembeddings


def embedding_backward_squares(dy, ids, embeddings):
    """dy (S..., D) -> (V, D): for each row, the sum over its lookups of dy^2."""
    D = embeddings.shape[1]
    squares = np.zeros_like(embeddings)  # (V, D)
    np.add.at(squares, ids.reshape(-1), np.square(dy).reshape(-1, D))
    return squares
