"""Central-difference gradients in float64: the check every hand-written backward must pass.

    numerical_grad(f, array, eps=1e-6)   dL/darray, (f(a + eps e_i) - f(a - eps e_i)) / (2 eps)
    assert_grad_close(analytic, numeric)  equal to ~1e-7 of the gradient's scale

f takes no argument and returns the scalar loss computed from `array`, which is perturbed in
place one entry at a time and restored, so f must read the very array object passed here (not a
copy made before the call). The truncation error is O(eps^2) and the rounding error about
1e-16 |L| / eps, both far below 1e-7 for losses of order one.
"""
import numpy as np


def numerical_grad(f, array, eps=1e-6):
    """The gradient of the scalar f() with respect to `array` (float64), same shape as `array`."""
    if array.dtype != np.float64:
        raise TypeError(f"numerical_grad needs a float64 array, got {array.dtype}: run the check in float64.")
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        loss_plus = float(f())
        array[index] = original - eps
        loss_minus = float(f())
        array[index] = original
        grad[index] = (loss_plus - loss_minus) / (2 * eps)
    return grad


def assert_grad_close(analytic, numeric, name="", rtol=1e-7):
    """analytic == numeric to rtol, per element or absolutely on the gradient's scale (at least 1)."""
    assert analytic.shape == numeric.shape, f"{name}: shape {analytic.shape}, expected {numeric.shape}"
    scale = max(1.0, float(np.abs(numeric).max(initial=0.0)))
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=rtol * scale, err_msg=name)
