"""Keras' `keras.regularizers` (L1, L2, L1L2, ...): bptt has no weight regularizers.

Its layers take no `kernel_regularizer` / `recurrent_regularizer` / `bias_regularizer`
arguments (passing one is a TypeError that names it). To keep weights small, give the optimizer
a `weight_decay` (decoupled: w -= lr * weight_decay * w each step, as Keras' AdamW), or use
Dropout. Every Keras name here raises an AttributeError that says so.
"""
__all__ = []


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "regularizers", name)
