"""Regression losses with Keras 3's numerics, each with its gradient with respect to y_pred.

C output features; `...` any leading axes. The per-sample values (step 1 of base.py):

   mean_squared_error            mean_c (t - p)^2                             (..., C) -> (...)
   mean_absolute_error           mean_c |t - p|                               (..., C) -> (...)
"""
import numpy as np

from bptt.losses.base import Loss, _float_array, squeeze_or_expand_to_same_rank


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


# -- functions (per-sample values, as keras.losses.<name>) --------------------------------------
def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().call(y_true, y_pred)
