"""RMSprop as `keras.optimizers.RMSprop`: the update_step of `Optimizer.apply_gradients`
(base.py).

    v = rho * v + (1 - rho) * g^2
    a = rho * a + (1 - rho) * g                 (centered=True)
    increment = lr * g / sqrt(v - a^2 + epsilon)  (centered; else sqrt(v + epsilon))
    mom = momentum * mom + increment; w = w - mom  (momentum > 0; else w - increment)
                                                epsilon is *inside* the sqrt

The NumPy `_update_step` is the reference; bptt.kernels.rmsprop is the fused one, held equal to
it by tests/kernels/test_rmsprop.py.
"""
import numpy as np

from bptt import checks
from bptt.optimizers.base import Optimizer, flush_subnormals


class RMSprop(Optimizer):
    """RMSprop as `keras.optimizers.RMSprop`: epsilon inside the square root.

    Equal to `torch.optim.RMSprop` (alpha=rho) only when epsilon = 0.
    """

    _default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.rho = checks.in_range(rho, "rho", 0, 1, owner=owner)
        self.momentum = checks.in_range(momentum, "momentum", 0, 1, high_open=False, owner=owner)
        self.epsilon = checks.not_negative(epsilon, "epsilon", owner)
        self.centered = centered

    def _slot_names(self):
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return tuple(names)

    def _update_step(self, grad, variable, slots, lr, grad_square=None):
        dt = variable.dtype.type
        rho = dt(self.rho)
        v = slots["velocity"]
        denominator, increment = self._buffer(variable, 0), self._buffer(variable, 1)
        v *= rho
        if grad_square is None:
            np.square(grad, out=denominator)
        else:
            denominator[...] = grad_square  # an embedding's: see base.RowGradient
        denominator *= dt(1 - self.rho)
        v += denominator  # v = rho * v + (1 - rho) * g^2
        flush_subnormals(v)
        if self.centered:
            a = slots["average_gradient"]
            a *= rho
            np.multiply(grad, dt(1 - self.rho), out=denominator)
            a += denominator  # a = rho * a + (1 - rho) * g
            flush_subnormals(a)
            np.square(a, out=denominator)
            np.subtract(v, denominator, out=denominator)
            denominator += dt(self.epsilon)  # v - a^2 + epsilon
        else:
            np.add(v, dt(self.epsilon), out=denominator)
        np.sqrt(denominator, out=denominator)
        np.multiply(grad, dt(lr), out=increment)
        increment /= denominator  # lr * g / sqrt(...)
        if self.momentum > 0:
            mom = slots["momentum"]
            mom *= dt(self.momentum)
            mom += increment
            flush_subnormals(mom)
            variable -= mom
        else:
            variable -= increment

    _has_fused_update = True

    def _fused_update_step(self, grad, variable, slots, lr, grad_square=None):
        from bptt.kernels.rmsprop import rmsprop_update

        rmsprop_update(variable, grad, slots["velocity"], slots.get("average_gradient"),
                       slots.get("momentum"), self.rho, self.epsilon, lr, self.momentum,
                       self.weight_decay,
                       grad_square=None if grad_square is None else grad_square[0])

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
