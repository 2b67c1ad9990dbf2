"""SGD as `keras.optimizers.SGD`: the update_step of `Optimizer.apply_gradients` (base.py).

    m = momentum * m - lr * g
    w = w + m                                   (momentum = 0: w = w - lr * g)
    w = w + momentum * m - lr * g               (nesterov=True, m already updated)

The NumPy `_update_step` is the reference; bptt.kernels.sgd is the fused one, held equal to it
by tests/kernels/test_sgd.py.
"""
import numbers

import numpy as np

from bptt.optimizers.base import Optimizer, flush_subnormals


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as `keras.optimizers.SGD`.

    For a constant learning rate this equals `torch.optim.SGD` (dampening=0): Keras' velocity
    is -lr times torch's momentum buffer.
    """

    _default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slot_names(self):
        return ("momentum",) if self.momentum != 0 else ()

    def _update_step(self, grad, variable, slots, lr, grad_square=None):
        dt = variable.dtype.type
        lr_g = self._buffer(variable, 0)
        np.multiply(grad, dt(lr), out=lr_g)  # lr * g
        if self.momentum == 0:
            variable -= lr_g
            return
        m = slots["momentum"]
        m *= dt(self.momentum)
        m -= lr_g  # m = momentum * m - lr * g
        flush_subnormals(m)
        if self.nesterov:
            step = self._buffer(variable, 1)
            np.multiply(m, dt(self.momentum), out=step)
            step -= lr_g
            variable += step  # w += momentum * m - lr * g
        else:
            variable += m

    _has_fused_update = True

    def _fused_update_step(self, grad, variable, slots, lr, grad_square=None):
        from bptt.kernels.sgd import sgd_update

        sgd_update(variable, grad, slots.get("momentum"), lr, self.momentum, self.nesterov,
                   self.weight_decay)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
