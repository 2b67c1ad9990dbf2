"""Cross-entropies with Keras 3's numerics, each with its gradient with respect to y_pred
(and to the logits before a sigmoid/softmax).

B batch, T time, C classes; `...` any leading axes. The per-sample values (step 1 of base.py):

   binary_crossentropy           mean_c of -(t log p + (1 - t) log(1 - p)), p clipped to
                                 [eps, 1 - eps], eps = 1e-7                  (..., C) -> (...)
                      from logits mean_c of max(x, 0) - x t + log(1 + exp(-|x|))
   categorical_crossentropy      -sum_c t log clip(p / sum_c p, eps, 1 - eps) (..., C) -> (...)
                      from logits sum_c t (logsumexp(x) - x)
   sparse_categorical_crossentropy
                                 log sum_c p' - log p'[y], p' = clip(p, eps, 1 - eps)
                                 (TensorFlow's softmax-crossentropy of log p') (..., C), (...) -> (...)
                      from logits logsumexp(x) - x[y]

   label_smoothing: t (1 - s) + s / 2 (binary), t (1 - s) + s / C (categorical).

Gradients follow TensorFlow's conventions: where a probability was clipped, its gradient is 0.

Keras' TensorFlow backend does not clip the output of a sigmoid or softmax layer: the activation
leaves its input on the output tensor (`output._keras_logits`) and `binary_crossentropy` /
`categorical_crossentropy` / `sparse_categorical_crossentropy` (keras/src/backend/tensorflow/nn.py,
`_get_logits`) compute the loss from those logits whenever they are there, even with
from_logits=False. `value_and_grad_logits` is that computation, for the model to call.
"""
import warnings

import numpy as np

from bptt.losses.base import EPSILON, Loss, _and, _float_array, squeeze_or_expand_to_same_rank
from bptt.ops.activations import sigmoid, softmax


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _clip_with_mask(p):
    """p clipped to [eps, 1 - eps], and where the clip let the gradient through."""
    lo, hi = p.dtype.type(EPSILON), p.dtype.type(1 - EPSILON)
    return np.clip(p, lo, hi), (p >= lo) & (p <= hi)


class _Crossentropy(Loss):
    """Cross-entropies: also computable from the logits before a sigmoid/softmax."""

    def __init__(self, from_logits=False, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise NotImplementedError(f"{type(self).__name__}: only axis=-1 is supported, got {axis}.")
        self.from_logits = from_logits
        self.axis = axis

    def _forward(self, y_true, y_pred):
        if self.from_logits:
            return self._forward_logits(y_true, y_pred)
        return self._forward_probabilities(y_true, y_pred)

    def value_and_grad_logits(self, y_true, logits, sample_weight=None, mask=None):
        """The loss of sigmoid/softmax(logits), computed stably from the logits, and d loss /
        d logits: what Keras' TensorFlow backend does for a sigmoid/softmax output layer."""
        logits = self._cast(logits)
        values, out_mask, backward = self._forward_logits(y_true, logits)
        return self._finish(values, _and(mask, out_mask), backward, sample_weight, logits.shape)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "axis": self.axis}


class BinaryCrossentropy(_Crossentropy):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(from_logits=from_logits, axis=axis, reduction=reduction, name=name,
                         dtype=dtype)
        self.label_smoothing = label_smoothing

    def _targets(self, y_true, y_pred):
        t, p = squeeze_or_expand_to_same_rank(_float_array(y_true, y_pred.dtype), y_pred)
        if t.shape != p.shape:
            raise ValueError(
                f"binary_crossentropy: y_true and y_pred must have the same shape (a trailing "
                f"axis of size 1 may differ). Received: y_true.shape={np.shape(y_true)}, "
                f"y_pred.shape={y_pred.shape}."
            )
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return t, p

    def _forward_probabilities(self, y_true, y_pred):
        t, p = self._targets(y_true, y_pred)
        p_clipped, passes = _clip_with_mask(p)
        elementwise = -(t * np.log(p_clipped) + (1 - t) * np.log1p(-p_clipped))  # (..., C)
        num_outputs = p.shape[-1]

        def backward(dvalues):
            # d/dp of -(t log p + (1 - t) log(1 - p)) = (p - t) / (p (1 - p))
            d = (p_clipped - t) / (p_clipped * (1 - p_clipped)) * passes
            return d * (dvalues[..., None] / num_outputs)

        return elementwise.mean(axis=-1), None, backward

    def _forward_logits(self, y_true, logits):
        t, x = self._targets(y_true, logits)
        # TensorFlow's sigmoid_cross_entropy_with_logits: never exp of a positive number
        elementwise = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
        num_outputs = x.shape[-1]

        def backward(dvalues):
            return (sigmoid(x) - t) * (dvalues[..., None] / num_outputs)

        return elementwise.mean(axis=-1), None, backward

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(_Crossentropy):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(from_logits=from_logits, axis=axis, reduction=reduction, name=name,
                         dtype=dtype)
        self.label_smoothing = label_smoothing

    def _targets(self, y_true, y_pred):
        t, p = squeeze_or_expand_to_same_rank(_float_array(y_true, y_pred.dtype), y_pred)
        if t.shape != p.shape:
            hint = ""
            if t.ndim == p.ndim - 1 or t.shape[-1:] == (1,):
                hint = (" y_true looks like integer class labels: use "
                        "'sparse_categorical_crossentropy', or one-hot encode y_true.")
            raise ValueError(
                f"categorical_crossentropy: y_true and y_pred must have the same shape. Received: "
                f"y_true.shape={np.shape(y_true)}, y_pred.shape={y_pred.shape}.{hint}"
            )
        if p.shape[-1] == 1:
            warnings.warn(
                "In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, "
                f"num_classes) with num_classes > 1. Received: y_pred.shape={p.shape}. Consider "
                "using 'binary_crossentropy' if you only have 2 classes.", SyntaxWarning,
                stacklevel=4,
            )
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + self.label_smoothing / p.shape[-1]
        return t, p

    def _forward_probabilities(self, y_true, y_pred):
        t, p = self._targets(y_true, y_pred)
        total = p.sum(axis=-1, keepdims=True)  # (..., 1)
        q = p / total  # renormalised, as Keras does
        q_clipped, passes = _clip_with_mask(q)

        def backward(dvalues):
            dq = -t / q_clipped * passes * dvalues[..., None]
            # q = p / sum(p): dp_k = (dq_k - sum_j dq_j q_j) / sum(p)
            return (dq - (dq * q).sum(axis=-1, keepdims=True)) / total

        return -(t * np.log(q_clipped)).sum(axis=-1), None, backward

    def _forward_logits(self, y_true, logits):
        t, x = self._targets(y_true, logits)
        log_p = _log_softmax(x)

        def backward(dvalues):
            # d/dx of -sum t log softmax(x) = softmax(x) sum(t) - t
            return (softmax(x) * t.sum(axis=-1, keepdims=True) - t) * dvalues[..., None]

        return -(t * log_p).sum(axis=-1), None, backward

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(_Crossentropy):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(from_logits=from_logits, reduction=reduction, name=name, dtype=dtype)
        self.ignore_class = ignore_class

    def _labels(self, y_true, y_pred):
        labels = np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.shape[-1:] == (1,):
            labels = labels[..., 0]
        if labels.shape != y_pred.shape[:-1]:
            raise ValueError(
                "sparse_categorical_crossentropy: y_true must have y_pred's shape without its "
                f"last (class) axis. Received: y_true.shape={np.shape(y_true)}, "
                f"y_pred.shape={y_pred.shape}."
            )
        labels = labels.astype(np.int64)  # float labels truncate, as tf.cast
        valid = None if self.ignore_class is None else labels != self.ignore_class
        checked = labels if valid is None else labels[valid]
        num_classes = y_pred.shape[-1]
        bad = checked[(checked < 0) | (checked >= num_classes)]
        if bad.size:
            raise ValueError(
                f"sparse_categorical_crossentropy: label {int(bad[0])} is outside the valid "
                f"range [0, {num_classes}) of y_pred.shape={y_pred.shape}."
            )
        if valid is not None:
            labels = np.where(valid, labels, 0)
        return labels[..., None], valid  # (..., 1), (...) or None

    def _finish_sparse(self, values, valid, backward):
        if valid is None:
            return values, None, backward
        return np.where(valid, values, 0), valid, lambda dv: backward(dv * valid)

    def _forward_probabilities(self, y_true, y_pred):
        labels, valid = self._labels(y_true, y_pred)
        p_clipped, passes = _clip_with_mask(y_pred)
        total = p_clipped.sum(axis=-1)  # (...)
        picked = np.take_along_axis(p_clipped, labels, axis=-1)  # (..., 1)
        values = np.log(total) - np.log(picked[..., 0])

        def backward(dvalues):
            # d/dp_k of log sum(p) - log p_y = 1 / sum(p) - [k = y] / p_y
            d = np.broadcast_to((1 / total)[..., None], p_clipped.shape).copy()
            np.put_along_axis(d, labels, np.take_along_axis(d, labels, axis=-1) - 1 / picked, -1)
            return d * passes * dvalues[..., None]

        return self._finish_sparse(values, valid, backward)

    def _forward_logits(self, y_true, logits):
        labels, valid = self._labels(y_true, logits)
        values = -np.take_along_axis(_log_softmax(logits), labels, axis=-1)[..., 0]

        def backward(dvalues):
            d = softmax(logits)
            np.put_along_axis(d, labels, np.take_along_axis(d, labels, axis=-1) - 1, -1)
            return d * dvalues[..., None]

        return self._finish_sparse(values, valid, backward)

    def get_config(self):
        config = {**super().get_config(), "ignore_class": self.ignore_class}
        del config["axis"]
        return config


# -- functions (per-sample values, as keras.losses.<name>) --------------------------------------
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    if axis != -1:
        raise NotImplementedError(f"sparse_categorical_crossentropy: only axis=-1 is supported, got {axis}.")
    return SparseCategoricalCrossentropy(from_logits, ignore_class).call(y_true, y_pred)
