"""bptt.kernels.rmsprop (fused) equals its reference, bptt.optimizers.RMSprop's NumPy update:
weights and slots after several steps, float32 and float64, centered or not, with momentum,
weight decay and clipping."""
import numpy as np
import pytest

from bptt import optimizers
from bptt.kernels import rmsprop as fused
from tests.helpers.optimizers import assert_fused_matches_reference, kernels, make_problem

CASES = {
    "defaults": dict(),
    "centered": dict(learning_rate=0.01, centered=True),
    "momentum": dict(learning_rate=0.01, momentum=0.8, rho=0.8),
    "centered_momentum": dict(learning_rate=0.01, momentum=0.5, centered=True, epsilon=1e-3),
    "weight_decay": dict(learning_rate=0.01, weight_decay=0.1, momentum=0.5),
    "clipnorm": dict(learning_rate=0.01, clipnorm=0.5, centered=True),
    "global_clipnorm": dict(learning_rate=0.01, global_clipnorm=0.5),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_fused_rmsprop_matches_reference(rng, dtype, case):
    params, grads = make_problem(rng, dtype=dtype, steps=6)
    assert_fused_matches_reference(lambda: optimizers.RMSprop(**CASES[case]), params, grads, fused,
                                   "rmsprop_update")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_rmsprop_equals_reference_bit_for_bit(rng, dtype):
    # Same operations in the same order and no fastmath: equal, not just close (the tolerance
    # above is the contract; this says where we stand, and catches an FMA creeping in).
    params, grads = make_problem(rng, dtype=dtype, steps=4)
    make = lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True,  # noqa: E731
                                      weight_decay=0.01)
    ours, theirs = assert_fused_matches_reference(make, params, grads, fused, "rmsprop_update")
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_keras_docstring_example_on_the_fused_path():
    # keras.optimizers.RMSprop docstring: var1 = 10, loss = var1^2 / 2, one step -> 9.683772
    var = np.array([10.0], dtype=np.float32)
    with kernels("fused"):
        optimizers.RMSprop(learning_rate=0.1).apply_gradients([(var.copy(), var)])
    np.testing.assert_allclose(var, [9.683772], rtol=1e-6)


def test_float32_stays_float32_inside_the_kernel(rng):
    params, grads = make_problem(rng, dtype=np.float32, steps=1)
    with kernels("fused"):
        optimizers.RMSprop(momentum=0.5, centered=True, weight_decay=0.1).apply_gradients(
            zip(grads[0], params))
    for signature in fused._rmsprop_flat.signatures:
        dtypes = {str(getattr(t, "dtype", t)) for t in signature} - {"bool"}
        assert len(dtypes) == 1, signature
