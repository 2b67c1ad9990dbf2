"""Adam, fused: the update of bptt.optimizers.Adam._update_step (with the decoupled weight decay
of Optimizer.apply_gradients in front of it) as one compiled pass over each variable, in place.
Must equal that reference (tests/kernels/test_adam.py); the rule, as in Keras, per element:

    w = w - w * weight_decay * lr                  (only when weight_decay is set)
    m = m + (g - m) * (1 - beta_1)
    v = v + (g^2 - v) * (1 - beta_2)
    v_hat = max(v_hat, v)                          (amsgrad; v_hat replaces v below)
    w = w - (m * alpha) / (sqrt(v) + epsilon)      alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)

Why: the NumPy reference makes nine passes over every variable through two scratch buffers;
Adam is memory-bound, and the tutorial's embedding alone is 2.56 M weights (10 MB per array in
float32), so one pass that reads g, m, v, w once and writes m, v, w once is ~4x less traffic.

The operations are the reference's, in the reference's order, with no fastmath (no fused
multiply-add, no reassociation): in practice the result is the reference's bit for bit, float32
and float64 alike. error_model="numpy" (sqrt of a negative is NaN, x / 0 is inf: NumPy's
answers, no raised exception) leaves the loop without checks, so LLVM vectorises it. The scalars
arrive already cast to the variable's dtype (a float64 scalar would widen a float32 loop).
"""
import numpy as np
from numba import njit

# No fastmath: the kernel must round exactly as the NumPy reference does.
_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def _adam_flat(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
               decay, weight_decay, lr):
    """All arrays 1-D, same length and dtype; v_hat of length 0 unless amsgrad."""
    amsgrad = v_hat.shape[0] > 0
    for i in range(w.shape[0]):
        gi = g[i]
        wi = w[i]
        if decay:
            wi = wi - wi * weight_decay * lr
        mi = m[i] + (gi - m[i]) * one_minus_beta_1
        vi = v[i] + (gi * gi - v[i]) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vh = v_hat[i]
            if vi > vh or vi != vi:  # np.maximum: the larger, NaN if either is NaN
                vh = vi
            v_hat[i] = vh
            vi = vh
        w[i] = wi - (mi * alpha) / (np.sqrt(vi) + epsilon)


def adam_update(variable, grad, momentum, velocity, velocity_hat, alpha, beta_1, beta_2,
                epsilon, weight_decay=None, lr=0.0):
    """One Adam step on `variable`, in place, with its slots `momentum`, `velocity` (and
    `velocity_hat` for amsgrad, else None).

    variable, grad and the slots: C-contiguous arrays of one shape and one float dtype (the
    caller checks; Optimizer._fusable). alpha: the bias-corrected step size, already computed in
    the variable's dtype as the reference does. weight_decay None: no decay (0.0 still decays,
    as the reference: inf * 0 is NaN there too).
    """
    dt = variable.dtype.type
    flat = variable.reshape(-1)
    empty = np.empty(0, dtype=variable.dtype)
    _adam_flat(
        flat, grad.reshape(-1), momentum.reshape(-1), velocity.reshape(-1),
        empty if velocity_hat is None else velocity_hat.reshape(-1),
        dt(alpha), dt(1 - beta_1), dt(1 - beta_2), dt(epsilon),
        weight_decay is not None, dt(weight_decay or 0.0), dt(lr),
    )
