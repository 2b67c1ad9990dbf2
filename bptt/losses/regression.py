"""Regression losses with Keras 3's numerics, each with its gradient with respect to y_pred.

C output features; `...` any leading axes. The per-sample values (step 1 of base.py):

   mean_squared_error            mean_c (t - p)^2                             (..., C) -> (...)
   mean_absolute_error           mean_c |t - p|                               (..., C) -> (...)
   mean_absolute_percentage_error  100 mean_c |t - p| / max(|t|, eps)
   mean_squared_logarithmic_error  mean_c (log(max(p, eps) + 1) - log(max(t, eps) + 1))^2
   huber (delta)                 mean_c of e^2 / 2 where |e| <= delta, else delta |e| - delta^2 / 2,
                                 e = p - t
   log_cosh                      mean_c log(cosh(e)), computed as e + softplus(-2e) - log 2

Gradients with respect to p, before the 1/C of the mean: 2e; sign(e); 100 sign(e) / max(|t|, eps);
2 (log(max(p, eps) + 1) - log(max(t, eps) + 1)) / (p + 1) where p >= eps (else 0); e where
|e| <= delta, else delta sign(e); tanh(e). eps = 1e-7, Keras' epsilon.
"""
import numpy as np

from bptt.losses.base import EPSILON, Loss, _float_array, squeeze_or_expand_to_same_rank


class _Regression(Loss):
    def _pair(self, y_true, y_pred):
        t, p = squeeze_or_expand_to_same_rank(_float_array(y_true, y_pred.dtype), y_pred)
        if t.ndim > p.ndim or any(a not in (1, b) for a, b in zip(t.shape[::-1], p.shape[::-1])):
            raise ValueError(
                f"{self.name}: y_true must have y_pred's shape (or broadcast to it). Received: "
                f"y_true.shape={np.shape(y_true)}, y_pred.shape={y_pred.shape}."
            )
        return t, p


class MeanSquaredError(_Regression):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, y_true, y_pred):
        t, p = self._pair(y_true, y_pred)
        diff = p - t  # (..., C)
        num_outputs = p.shape[-1]
        return (diff * diff).mean(axis=-1), None, lambda dv: diff * (2 * dv[..., None] / num_outputs)


class MeanAbsoluteError(_Regression):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, y_true, y_pred):
        t, p = self._pair(y_true, y_pred)
        diff = p - t  # (..., C)
        num_outputs = p.shape[-1]
        return np.abs(diff).mean(axis=-1), None, lambda dv: np.sign(diff) * (dv[..., None] / num_outputs)


class MeanAbsolutePercentageError(_Regression):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, y_true, y_pred):
        t, p = self._pair(y_true, y_pred)
        scale = 100.0 / np.maximum(np.abs(t), p.dtype.type(EPSILON))  # (..., C)
        diff = p - t
        num_outputs = p.shape[-1]
        values = (np.abs(diff) * scale).mean(axis=-1)
        return values, None, lambda dv: np.sign(diff) * scale * (dv[..., None] / num_outputs)


class MeanSquaredLogarithmicError(_Regression):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, y_true, y_pred):
        t, p = self._pair(y_true, y_pred)
        eps = p.dtype.type(EPSILON)
        p_kept = np.maximum(p, eps)  # (..., C)
        diff = np.log1p(p_kept) - np.log1p(np.maximum(t, eps))
        num_outputs = p.shape[-1]

        def backward(dv):
            # d log(max(p, eps) + 1) / dp = 1 / (p + 1) where p >= eps (max's gradient), else 0
            dlog = np.where(p >= eps, 1 / (p_kept + 1), 0).astype(p.dtype, copy=False)
            return 2 * diff * dlog * (dv[..., None] / num_outputs)

        return (diff * diff).mean(axis=-1), None, backward


class Huber(_Regression):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.delta = delta

    def _forward(self, y_true, y_pred):
        t, p = self._pair(y_true, y_pred)
        delta, half = p.dtype.type(self.delta), p.dtype.type(0.5)
        error = p - t  # (..., C)
        abs_error = np.abs(error)
        small = abs_error <= delta
        values = np.where(small, half * error * error, delta * abs_error - half * delta * delta)
        num_outputs = p.shape[-1]

        def backward(dv):
            derror = np.where(small, error, delta * np.sign(error))
            return derror * (dv[..., None] / num_outputs)

        return values.mean(axis=-1), None, backward

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(_Regression):
    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, y_true, y_pred):
        t, p = self._pair(y_true, y_pred)
        error = p - t  # (..., C)
        # log cosh e = e + log(1 + exp(-2e)) - log 2, without overflow for large |e|
        values = error + np.logaddexp(0, -2 * error) - p.dtype.type(np.log(2.0))
        num_outputs = p.shape[-1]
        return values.mean(axis=-1), None, lambda dv: np.tanh(error) * (dv[..., None] / num_outputs)


# -- functions (per-sample values, as keras.losses.<name>) --------------------------------------
def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().call(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    return MeanAbsolutePercentageError().call(y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    return MeanSquaredLogarithmicError().call(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    return Huber(delta=delta).call(y_true, y_pred)


def log_cosh(y_true, y_pred):
    return LogCosh().call(y_true, y_pred)
