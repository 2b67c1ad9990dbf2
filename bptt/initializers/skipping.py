"""Building weights whose values will be overwritten: no random draw, no QR, no constant.

    with initializers.skip_initialization(budget_bytes=n):
        model = Sequential.from_config(config)     # weights allocated, left uninitialized

Inside the context a layer's `add_weight` asks `uninitialized(shape, dtype)` instead of calling
the weight's initializer: an `np.empty` array of the shape, whose contents are whatever memory
held (the caller sets every weight next, as `load_model` does from the file's arrays). Nothing
is drawn from any generator, so building this way leaves the global generator and the layers'
own generators where they were.

`budget_bytes` bounds what the weights built inside the context may take together: past it,
`uninitialized` raises `WeightBudgetExceeded` before allocating. `load_model` passes the bytes
of the arrays its file holds, so a config that declares layers larger than those arrays is
refused at no cost.
"""
import contextlib
import contextvars
import math

import numpy as np

_SKIP = contextvars.ContextVar("bptt_skip_initialization", default=None)


class WeightBudgetExceeded(ValueError):
    """The weights being built need more memory than the budget of skip_initialization."""


class _Budget:
    def __init__(self, limit):
        self.limit = limit
        self.used = 0


@contextlib.contextmanager
def skip_initialization(budget_bytes=None):
    """Within it, weights are allocated but not initialized (see the module docstring)."""
    token = _SKIP.set(_Budget(budget_bytes))
    try:
        yield
    finally:
        _SKIP.reset(token)


def skipping():
    """Whether weights built now are left uninitialized."""
    return _SKIP.get() is not None


def uninitialized(shape, dtype):
    """An array of `shape` and `dtype` with no values set, charged to the current budget."""
    budget = _SKIP.get()
    shape = tuple(int(n) for n in shape)
    dtype = np.dtype(dtype)
    if any(n < 0 for n in shape):
        raise ValueError(f"A weight cannot have a negative dimension: shape {shape}.")
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if budget is not None and budget.limit is not None:
        if budget.used + nbytes > budget.limit:
            raise WeightBudgetExceeded(
                f"Building a weight of shape {shape} ({dtype}) would take the weights to "
                f"{budget.used + nbytes:,} bytes, more than the {budget.limit:,} allowed.")
        budget.used += nbytes
    return np.empty(shape, dtype=dtype)
