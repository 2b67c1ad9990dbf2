"""Adam as `keras.optimizers.Adam`: the update_step of `Optimizer.apply_gradients` (base.py),
t = iterations + 1.

    m = m + (g - m) * (1 - beta_1)
    v = v + (g^2 - v) * (1 - beta_2)
    v_hat = max(v_hat, v)                       (amsgrad=True; v_hat replaces v below)
    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    w = w - (m * alpha) / (sqrt(v) + epsilon)  "epsilon hat": outside the sqrt,
                                                added to the *uncorrected* sqrt(v)

m and v are flushed to zero where they fall below the smallest normal float, as TensorFlow's
CPU kernels do (see base.flush_subnormals).

The NumPy `_update_step` is the reference; bptt.kernels.adam is the fused one, held equal to it
by tests/kernels/test_adam.py.
"""
import numpy as np

from bptt import checks
from bptt.optimizers.base import Optimizer, flush_subnormals


class Adam(Optimizer):
    """Adam as `keras.optimizers.Adam`: bias correction folded into the step size, epsilon-hat.

    Equal to `torch.optim.Adam` only when epsilon = 0 (torch adds eps to the bias-corrected
    sqrt(v_hat)); `weight_decay` is decoupled, as in `torch.optim.AdamW`.

    Every weight is updated every step, embedding rows the batch did not look up included (their
    m and v decay and they move by m): that is Keras' rule and the default.

    `lazy_rows=True` is an opt-in that is NOT Keras' Adam (bptt only; it is not in Keras' config
    and appears in `get_config()` only when set). A row of a variable (a slice along its first
    axis: an embedding's row, a kernel's input row, a bias element) whose gradient is all zero
    this step is left as it is: its weights, m and v (and v_hat) are not touched (the decoupled
    weight decay, if set, still applies). The other rows get the update above, with the global
    step count t. This is the "lazy" Adam of TF Addons' LazyAdam and torch.optim.SparseAdam, for
    embeddings: the tutorial's 20,000-row table has ~1,600 rows in a batch of 32, so the update
    reads the gradient once and writes only those rows (~0.8 ms a step instead of ~1.9). Unlike
    those, which update every row the batch looked up, a looked-up row whose gradient happens
    to be exactly zero is skipped too. Training follows a different path from Keras': a rare
    word's m and v do not decay while it is absent, so it takes a bigger step when it returns.
    """

    _default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, lazy_rows=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = checks.in_range(beta_1, "beta_1", 0, 1, owner=owner)
        self.beta_2 = checks.in_range(beta_2, "beta_2", 0, 1, owner=owner)
        self.epsilon = checks.not_negative(epsilon, "epsilon", owner)
        self.amsgrad = amsgrad
        self.lazy_rows = bool(lazy_rows)

    def _slot_names(self):
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")

    def _alpha(self, dt, lr):
        """lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), t = iterations + 1, in the dtype dt."""
        # The scalars in the variable's dtype, as Keras casts them.
        t = dt(self.iterations + 1)
        beta_1_power = dt(self.beta_1) ** t
        beta_2_power = dt(self.beta_2) ** t
        return dt(lr) * np.sqrt(dt(1) - beta_2_power) / (dt(1) - beta_1_power)

    def _update_step(self, grad, variable, slots, lr, grad_square=None):
        if self.lazy_rows:
            self._lazy_update_step(grad, variable, slots, lr, grad_square)
        else:
            self._dense_update_step(grad, variable, slots, lr, grad_square)

    def _dense_update_step(self, grad, variable, slots, lr, grad_square=None):
        """Keras' update of every weight."""
        dt = variable.dtype.type
        alpha = self._alpha(dt, lr)

        m, v = slots["momentum"], slots["velocity"]
        tmp, step = self._buffer(variable, 0), self._buffer(variable, 1)
        np.subtract(grad, m, out=tmp)
        tmp *= dt(1 - self.beta_1)
        m += tmp  # m += (g - m) * (1 - beta_1)
        flush_subnormals(m)
        if grad_square is None:
            np.square(grad, out=tmp)
        else:
            tmp[...] = grad_square  # an embedding's: see base.RowGradient
        tmp -= v
        tmp *= dt(1 - self.beta_2)
        v += tmp  # v += (g^2 - v) * (1 - beta_2)
        flush_subnormals(v)
        if self.amsgrad:
            v_hat = slots["velocity_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=tmp)
        tmp += dt(self.epsilon)
        np.multiply(m, alpha, out=step)
        step /= tmp
        variable -= step  # w -= m * alpha / (sqrt(v) + epsilon)

    def _lazy_update_step(self, grad, variable, slots, lr, grad_square=None):
        """lazy_rows=True: the update above on the rows whose gradient is not all zero."""
        variable, grad = np.atleast_1d(variable), np.atleast_1d(grad)  # a scalar is one row
        if variable.size == 0:
            return
        rows = np.flatnonzero(np.any(grad.reshape(len(grad), -1) != 0, axis=1))  # (R,)
        touched = {name: np.atleast_1d(slot)[rows] for name, slot in slots.items()}  # copies
        touched_variable = variable[rows]
        square = None if grad_square is None else np.atleast_1d(grad_square)[rows]
        self._dense_update_step(grad[rows], touched_variable, touched, lr, square)
        variable[rows] = touched_variable
        for name, slot in slots.items():
            np.atleast_1d(slot)[rows] = touched[name]

    _has_fused_update = True

    def _fused_update_step(self, grad, variable, slots, lr, grad_square=None):
        from bptt.kernels.adam import adam_update

        adam_update(variable, grad, slots["momentum"], slots["velocity"],
                    slots.get("velocity_hat"), self._alpha(variable.dtype.type, lr),
                    self.beta_1, self.beta_2, self.epsilon, self.weight_decay, lr,
                    lazy_rows=self.lazy_rows,
                    grad_square=None if grad_square is None else grad_square[0],
                    square_rows=None if grad_square is None else grad_square[1],
                    # a RowGradient's summed gradient is +0 off its rows unless clipping
                    # scaled it (by NaN, global_clipnorm of a non-finite norm)
                    zero_off_rows=not self._clips())

    def get_config(self):
        config = {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                  "epsilon": self.epsilon, "amsgrad": self.amsgrad}
        if self.lazy_rows:  # not a Keras argument: only there when it was asked for
            config["lazy_rows"] = True
        return config


class AdamW(Adam):
    """`keras.optimizers.AdamW`: Adam with decoupled weight decay on by default,
    w = w - w * weight_decay * lr before each Adam step (base.py, step 3); weight_decay must be
    a float. As torch.optim.AdamW when epsilon = 0 (see Adam for the epsilon placement)."""

    _default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, beta_1=beta_1,
                         beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
