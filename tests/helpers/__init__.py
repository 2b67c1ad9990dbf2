"""Helpers every test in the project shares, written once.

    assert_close(actual, expected, name)  same dtype, same shape, equal to the dtype's tolerance
    gradcheck.numerical_grad(f, array)    central differences in float64
    torch_oracle.lstm(...) etc.           PyTorch runs of the same layers, Keras-layout in and out
"""
import numpy as np

# How close two computations of the same maths must be, per dtype: float64 leaves room for
# rounding only; float32 for its 24-bit mantissa summed over a few GEMMs and time steps.
TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}


def assert_close(actual, expected, name="", tol=None):
    """actual == expected within tol, relative per element or absolute on the array's own scale.

    The dtypes must be the same (a float32 path must not upcast to float64), as must the shapes.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype}, expected {expected.dtype}"
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape}, expected {expected.shape}"
    tol = TOLERANCE[expected.dtype] if tol is None else tol
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=name)


def dropout_mask(rng, shape, rate, dtype):
    """A Keras-style dropout mask: 0 with probability `rate`, else 1 / (1 - rate)."""
    keep = rng.random(shape) >= rate
    return (keep / (1 - rate)).astype(dtype)


def recurrent_mask(rng, kind, gates, batch, units, dtype, rate=0.3):
    """None (kind None), one (B, H) mask shared by every gate ("shared"), or (G, B, H) ("per_gate")."""
    if kind is None:
        return None
    shape = {"shared": (batch, units), "per_gate": (gates, batch, units)}[kind]
    return dropout_mask(rng, shape, rate, dtype)
