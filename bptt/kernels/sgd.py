"""SGD, fused: the update of bptt.optimizers.SGD._update_step (with the decoupled weight decay of
Optimizer.apply_gradients in front of it) as one compiled pass over each variable, in place.
Must equal that reference (tests/kernels/test_sgd.py); per element, as in Keras:

    w = w - w * weight_decay * lr          (only when weight_decay is set)
    w = w - lr * g                         (momentum = 0)
    m = momentum * m - lr * g; w = w + m   (momentum > 0)
    w = w + momentum * m - lr * g          (nesterov, m already updated)

Same rules as bptt.kernels.adam: the reference's operations in its order, no fastmath, scalars
in the variable's dtype.
"""
import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")  # no fastmath: round as NumPy does


@njit(**_JIT)
def _sgd_flat(w, g, m, lr, momentum, nesterov, decay, weight_decay, tiny):
    """All arrays 1-D, same length and dtype; m of length 0 when momentum = 0."""
    use_momentum = m.shape[0] > 0
    for i in range(w.shape[0]):
        wi = w[i]
        if decay:
            wi = wi - wi * weight_decay * lr
        lr_g = g[i] * lr
        if use_momentum:
            mi = m[i] * momentum - lr_g
            if abs(mi) < tiny:  # flush subnormals to zero, as TensorFlow's CPU kernels do
                mi = mi - mi
            m[i] = mi
            if nesterov:
                w[i] = wi + (mi * momentum - lr_g)
            else:
                w[i] = wi + mi
        else:
            w[i] = wi - lr_g


def sgd_update(variable, grad, momentum_slot, lr, momentum, nesterov, weight_decay=None):
    """One SGD step on `variable`, in place, with its slot `momentum_slot` (None when
    momentum = 0). Arrays: C-contiguous, one shape, one float dtype (Optimizer._fusable)."""
    dt = variable.dtype.type
    _sgd_flat(
        variable.reshape(-1), grad.reshape(-1),
        np.empty(0, dtype=variable.dtype) if momentum_slot is None else momentum_slot.reshape(-1),
        dt(lr), dt(momentum), bool(nesterov), weight_decay is not None, dt(weight_decay or 0.0),
        dt(np.finfo(dt).tiny),
    )
