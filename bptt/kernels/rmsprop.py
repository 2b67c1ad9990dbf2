"""RMSprop, fused: the update of bptt.optimizers.RMSprop._update_step (with the decoupled weight
decay of Optimizer.apply_gradients in front of it) as one compiled pass over each variable, in
place. Must equal that reference (tests/kernels/test_rmsprop.py); per element, as in Keras:

    w = w - w * weight_decay * lr                      (only when weight_decay is set)
    v = rho * v + (1 - rho) * g^2
    a = rho * a + (1 - rho) * g                        (centered)
    increment = lr * g / sqrt(v - a^2 + epsilon)       (centered; else sqrt(v + epsilon))
    mom = momentum * mom + increment; w = w - mom      (momentum > 0; else w = w - increment)

RMSprop is what `compile()` uses when no optimizer is named. Same rules as bptt.kernels.adam:
the reference's operations in its order, no fastmath, scalars in the variable's dtype.
"""
import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")  # no fastmath: round as NumPy does


@njit(**_JIT)
def _rmsprop_flat(w, g, g2, v, a, mom, rho, one_minus_rho, epsilon, lr, momentum,
                  decay, weight_decay, tiny):
    """All arrays 1-D, same length and dtype; a (centered), mom (momentum > 0) and g2 (the
    squared gradient to use instead of g * g) of length 0 when not used."""
    squares = g2.shape[0] > 0
    centered = a.shape[0] > 0
    use_momentum = mom.shape[0] > 0
    for i in range(w.shape[0]):
        gi = g[i]
        wi = w[i]
        if decay:
            wi = wi - wi * weight_decay * lr
        g2i = g2[i] if squares else gi * gi
        vi = v[i] * rho + g2i * one_minus_rho
        if abs(vi) < tiny:  # flush subnormals to zero, as TensorFlow's CPU kernels do
            vi = vi - vi
        v[i] = vi
        if centered:
            ai = a[i] * rho + gi * one_minus_rho
            if abs(ai) < tiny:
                ai = ai - ai
            a[i] = ai
            denominator = vi - ai * ai + epsilon
        else:
            denominator = vi + epsilon
        increment = gi * lr / np.sqrt(denominator)
        if use_momentum:
            mi = mom[i] * momentum + increment
            if abs(mi) < tiny:
                mi = mi - mi
            mom[i] = mi
            w[i] = wi - mi
        else:
            w[i] = wi - increment


def rmsprop_update(variable, grad, velocity, average_gradient, momentum_slot, rho, epsilon, lr,
                   momentum, weight_decay=None, grad_square=None):
    """One RMSprop step on `variable`, in place, with its slots `velocity`, `average_gradient`
    (centered, else None) and `momentum_slot` (momentum > 0, else None).

    variable, grad and the slots: C-contiguous arrays of one shape and one float dtype (the
    caller checks: Optimizer._fusable). weight_decay None: no decay.
    """
    dt = variable.dtype.type
    empty = np.empty(0, dtype=variable.dtype)
    _rmsprop_flat(
        variable.reshape(-1), grad.reshape(-1),
        empty if grad_square is None else np.ascontiguousarray(grad_square).reshape(-1),
        velocity.reshape(-1),
        empty if average_gradient is None else average_gradient.reshape(-1),
        empty if momentum_slot is None else momentum_slot.reshape(-1),
        dt(rho), dt(1 - rho), dt(epsilon), dt(lr), dt(momentum),
        weight_decay is not None, dt(weight_decay or 0.0), dt(np.finfo(dt).tiny),
    )
