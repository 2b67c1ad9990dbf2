"""Losses between distributions or counts, with Keras 3's numerics and their gradients.

C the last axis; `...` any leading axes; eps = 1e-7, Keras' epsilon. Per-sample values:

   poisson         mean_c (p - t log(p + eps))                    d/dp = (1 - t / (p + eps)) / C
   kl_divergence   sum_c t' log(t' / p'),  t' = clip(t, eps, 1), p' = clip(p, eps, 1)
                                                 d/dp = -t' / p' where eps <= p <= 1, else 0
(KL divergence sums over the last axis; Poisson averages, as Keras.)
"""
import numpy as np

from bptt.losses.base import EPSILON
from bptt.losses.regression import _Regression


class Poisson(_Regression):
    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, y_true, y_pred):
        t, p = self._pair(y_true, y_pred)
        shifted = p + p.dtype.type(EPSILON)  # (..., C)
        num_outputs = p.shape[-1]
        values = (p - t * np.log(shifted)).mean(axis=-1)
        return values, None, lambda dv: (1 - t / shifted) * (dv[..., None] / num_outputs)


class KLDivergence(_Regression):
    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, y_true, y_pred):
        t, p = self._pair(y_true, y_pred)
        eps, one = p.dtype.type(EPSILON), p.dtype.type(1)
        t_clipped, p_clipped = np.clip(t, eps, one), np.clip(p, eps, one)  # (..., C)
        values = (t_clipped * np.log(t_clipped / p_clipped)).sum(axis=-1)
        inside = (p >= eps) & (p <= one)  # where clip passes the gradient through

        def backward(dv):
            return np.where(inside, -t_clipped / p_clipped, 0).astype(p.dtype) * dv[..., None]

        return values, None, backward


def poisson(y_true, y_pred):
    return Poisson().call(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    return KLDivergence().call(y_true, y_pred)
