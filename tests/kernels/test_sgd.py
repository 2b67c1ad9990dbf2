"""bptt.kernels.sgd (fused) equals its reference, bptt.optimizers.SGD's NumPy update: weights and
the momentum slot after several steps, float32 and float64, plain, momentum and Nesterov, with
weight decay and clipping."""
import numpy as np
import pytest

from bptt import optimizers
from bptt.kernels import sgd as fused
from tests.helpers.optimizers import assert_fused_matches_reference, kernels, make_problem

CASES = {
    "plain": dict(learning_rate=0.1),
    "momentum": dict(learning_rate=0.05, momentum=0.9),
    "nesterov": dict(learning_rate=0.05, momentum=0.5, nesterov=True),
    "weight_decay": dict(learning_rate=0.05, weight_decay=0.1),
    "weight_decay_nesterov": dict(learning_rate=0.05, momentum=0.9, nesterov=True,
                                  weight_decay=0.01),
    "clipnorm": dict(learning_rate=0.1, clipnorm=0.5, momentum=0.9),
    "clipvalue": dict(learning_rate=0.1, clipvalue=0.1),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_fused_sgd_matches_reference(rng, dtype, case):
    params, grads = make_problem(rng, dtype=dtype, steps=6)
    assert_fused_matches_reference(lambda: optimizers.SGD(**CASES[case]), params, grads, fused,
                                   "sgd_update")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_sgd_equals_reference_bit_for_bit(rng, dtype):
    # Same operations in the same order and no fastmath: equal, not just close (the tolerance
    # above is the contract; this says where we stand, and catches an FMA creeping in).
    params, grads = make_problem(rng, dtype=dtype, steps=4)
    make = lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True,  # noqa: E731
                                  weight_decay=0.01)
    ours, theirs = assert_fused_matches_reference(make, params, grads, fused, "sgd_update")
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_float32_stays_float32_inside_the_kernel(rng):
    params, grads = make_problem(rng, dtype=np.float32, steps=1)
    with kernels("fused"):
        optimizers.SGD(momentum=0.9, nesterov=True, weight_decay=0.1).apply_gradients(
            zip(grads[0], params))
    for signature in fused._sgd_flat.signatures:
        dtypes = {str(getattr(t, "dtype", t)) for t in signature} - {"bool"}
        assert len(dtypes) == 1, signature
