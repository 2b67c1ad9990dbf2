"""Running an optimizer on the fused kernels and on the NumPy reference, on the same problem.

    make_problem(rng, shapes, dtype, steps) -> (params, grads per step)
    run_optimizer(make, params, grads, kernels) -> (params after, state after, kernel calls)
    assert_fused_matches_reference(make, params, grads, module, function)

The reference (each optimizer's NumPy `_update_step`) is itself checked against torch.optim and
Keras' written-out rules in tests/test_optimizers.py.
"""
import contextlib

import numpy as np

from bptt import backend
from tests.helpers import assert_close

# Fused against reference: the kernels do the reference's operations in its order, so this is
# rounding room only (in practice the two are equal bit for bit).
FUSED_TOLERANCE = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}

# Odd sizes, a scalar, a row vector, and one big enough to span many SIMD blocks.
SHAPES = [(3, 4), (5,), (), (1, 7), (2, 3, 2), (301, 37)]


def make_problem(rng, shapes=SHAPES, dtype=np.float32, steps=5):
    params = [np.asarray(rng.standard_normal(shape), dtype=dtype) for shape in shapes]
    # Gradients of several scales, some small enough that epsilon matters.
    grads = [[np.asarray(rng.standard_normal(shape) * 10.0 ** rng.integers(-7, 2), dtype=dtype)
              for shape in shapes] for _ in range(steps)]
    return params, grads


@contextlib.contextmanager
def kernels(name):
    previous = backend.get_kernels()
    backend.set_kernels(name)
    try:
        yield
    finally:
        backend.set_kernels(previous)


@contextlib.contextmanager
def counting_calls(module, function):
    """Count the calls of module.function (the fused update the optimizer imports per call)."""
    calls = []
    original = getattr(module, function)

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    setattr(module, function, spy)
    try:
        yield calls
    finally:
        setattr(module, function, original)


def run_optimizer(make, params, grads, kernel_choice, module, function):
    """Run `make()` over every step of grads with the kernels chosen; returns the updated copies
    of params, the optimizer state and the list of fused-kernel calls."""
    params = [p.copy(order="K") for p in params]  # keeps a Fortran-ordered variable Fortran
    with kernels(kernel_choice), counting_calls(module, function) as calls:
        optimizer = make()
        for step_grads in grads:
            optimizer.apply_gradients(zip(step_grads, params))
    return params, optimizer.get_state(params), calls


def assert_fused_matches_reference(make, params, grads, module, function, fused_count=None):
    """Weights and every slot equal after all steps; the fused run called the kernel once per
    variable per step (or `fused_count` times), the reference run never."""
    ours, our_state, our_calls = run_optimizer(make, params, grads, "fused", module, function)
    theirs, their_state, their_calls = run_optimizer(make, params, grads, "reference", module,
                                                     function)
    expected_calls = len(grads) * len(params) if fused_count is None else fused_count
    assert len(our_calls) == expected_calls, f"fused kernel ran {len(our_calls)} times"
    assert their_calls == [], "the reference run must not call the kernel"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a, b, f"param {i}", tol=FUSED_TOLERANCE[b.dtype])
    assert sorted(our_state) == sorted(their_state)
    for key, value in their_state.items():
        if key == "iterations":
            assert int(our_state[key]) == int(value)
        else:
            assert_close(our_state[key], value, key, tol=FUSED_TOLERANCE[value.dtype])
    return ours, theirs
