"""Losses with Keras 3's numerics, each with its gradient with respect to the model output.

B batch, T time, C classes (or output features); `...` any leading axes.

A loss is computed in two steps, as in Keras:

1. per-sample values (Keras' `Loss.call`), after y_true and y_pred are squeezed/expanded to the
   same rank (a trailing axis of size 1 is dropped or added; a rank-1 tensor is expanded):

   binary_crossentropy           mean_c of -(t log p + (1 - t) log(1 - p)), p clipped to
                                 [eps, 1 - eps], eps = 1e-7                  (..., C) -> (...)
                      from logits mean_c of max(x, 0) - x t + log(1 + exp(-|x|))
   categorical_crossentropy      -sum_c t log clip(p / sum_c p, eps, 1 - eps) (..., C) -> (...)
                      from logits sum_c t (logsumexp(x) - x)
   sparse_categorical_crossentropy
                                 log sum_c p' - log p'[y], p' = clip(p, eps, 1 - eps)
                                 (TensorFlow's softmax-crossentropy of log p') (..., C), (...) -> (...)
                      from logits logsumexp(x) - x[y]
   mean_squared_error            mean_c (t - p)^2                             (..., C) -> (...)
   mean_absolute_error           mean_c |t - p|                               (..., C) -> (...)

   label_smoothing: t (1 - s) + s / 2 (binary), t (1 - s) + s / C (categorical).

2. a reduction of the values v with sample weights w (squeezed/expanded to v's rank) and a mask
   m (e.g. ignore_class), as `keras.losses.loss.reduce_weighted_values`:

   'sum_over_batch_size' (default), 'mean'   sum(v * w) / v.size     (NOT divided by sum(w))
   'sum'                                      sum(v * w)
   'mean_with_sample_weight'                  sum(v * w) / sum(w)
   None / 'none'                              v * w
   a mask, under 'sum_over_batch_size', is scaled by size / count(m) and multiplied into w, so
   the loss is the mean over the unmasked values.

Gradients follow TensorFlow's conventions: where a probability was clipped, its gradient is 0.

Keras' TensorFlow backend does not clip the output of a sigmoid or softmax layer: the activation
leaves its input on the output tensor (`output._keras_logits`) and `binary_crossentropy` /
`categorical_crossentropy` / `sparse_categorical_crossentropy` (keras/src/backend/tensorflow/nn.py,
`_get_logits`) compute the loss from those logits whenever they are there, even with
from_logits=False. `value_and_grad_logits` is that computation, for the model to call.
"""
import inspect
import warnings

import numpy as np

from bptt import backend
from bptt.ops.activations import sigmoid, softmax

__all__ = [
    "Loss", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "MeanSquaredError", "MeanAbsoluteError", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "mean_squared_error", "mean_absolute_error", "get",
]

EPSILON = 1e-7  # keras.backend.epsilon()
_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras' rule: if the ranks differ by one and the longer has a trailing 1, drop that axis
    (or, when the shorter has rank 1, add a trailing 1 to it instead)."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def _float_array(x, dtype=None):
    x = np.asarray(x)
    if dtype is None:
        dtype = x.dtype if x.dtype.kind == "f" else backend.floatx()
    return x.astype(dtype, copy=False)


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _clip_with_mask(p):
    """p clipped to [eps, 1 - eps], and where the clip let the gradient through."""
    lo, hi = p.dtype.type(EPSILON), p.dtype.type(1 - EPSILON)
    return np.clip(p, lo, hi), (p >= lo) & (p <= hi)


# -- the loss classes ---------------------------------------------------------------------------
class Loss:
    """Base class: `call` gives per-sample values; `__call__` and `value_and_grad` reduce them.

    Subclasses write `_forward(y_true, y_pred) -> (values, mask, backward)` where
    `backward(dvalues) -> dy_pred` (in y_pred's shape after squeeze/expand) and `mask` is None or
    a boolean array like `values` (entries the loss ignores).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS}. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        """The per-sample loss values, before weighting and reduction."""
        return self._forward(y_true, self._cast(y_pred))[0]

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        y_pred = self._cast(y_pred)
        values, out_mask, _ = self._forward(y_true, y_pred)
        if self.reduction in (None, "none"):
            weights = _weights(values, sample_weight, _and(mask, out_mask), self.reduction)
            return values if weights is None else values * weights[0]
        return self._reduce(values, sample_weight, _and(mask, out_mask))[0]

    def value_and_grad(self, y_true, y_pred, sample_weight=None, mask=None):
        """(the scalar loss as a float, d loss / d y_pred with y_pred's shape and dtype)."""
        y_pred = self._cast(y_pred)
        values, out_mask, backward = self._forward(y_true, y_pred)
        return self._finish(values, _and(mask, out_mask), backward, sample_weight, y_pred.shape)

    # -- shared machinery ----------------------------------------------------------------------
    def _cast(self, y_pred):
        y_pred = _float_array(y_pred, self.dtype)
        if y_pred.ndim == 0:
            raise ValueError(f"{type(self).__name__}: y_pred must have at least one axis, got a scalar.")
        return y_pred

    def _finish(self, values, mask, backward, sample_weight, y_pred_shape):
        if self.reduction in (None, "none"):
            raise ValueError(
                f"{type(self).__name__}.value_and_grad needs a scalar loss; reduction=None "
                "gives one value per sample. Use 'sum_over_batch_size' (the default)."
            )
        value, dvalues = self._reduce(values, sample_weight, mask)
        return value, backward(dvalues).reshape(y_pred_shape)

    def _reduce(self, values, sample_weight, mask):
        """The scalar loss and its gradient with respect to `values`."""
        weights = _weights(values, sample_weight, mask, self.reduction)
        if weights is None:
            w_full, total = None, values.sum()
        else:
            w_full, w_sum = weights
            total = (values * w_full).sum()
        if self.reduction == "sum":
            divisor = 1.0
        elif self.reduction == "mean_with_sample_weight" and weights is not None:
            divisor = float(w_sum)
        else:
            divisor = values.size
        if divisor == 0:  # Keras divides with divide_no_nan
            return 0.0, np.zeros_like(values)
        scale = values.dtype.type(1.0 / divisor)
        dvalues = np.full_like(values, scale) if w_full is None else w_full * scale
        return float(total) / divisor, dvalues

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


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


# -- weighting ----------------------------------------------------------------------------------
def _and(mask_a, mask_b):
    if mask_a is None:
        return mask_b
    if mask_b is None:
        return np.asarray(mask_a, dtype=bool)
    return np.asarray(mask_a, dtype=bool) & mask_b


def _weights(values, sample_weight, mask, reduction):
    """Keras' merged sample weights, broadcast to `values`, and their sum before broadcasting
    (the 'mean_with_sample_weight' divisor); None when there are neither weights nor a mask."""
    dtype = values.dtype
    weights = None if sample_weight is None else _float_array(sample_weight, dtype)
    if mask is not None:
        m = np.asarray(mask).astype(dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            valid = m.sum()
            m = m * dtype.type(m.size / valid) if valid else np.zeros_like(m)
        if weights is None:
            weights = m
        else:
            m, weights = squeeze_or_expand_to_same_rank(m, weights)
            weights = weights * m
    if weights is None:
        return None
    v, w = squeeze_or_expand_to_same_rank(values, weights)
    if w.ndim not in (0, v.ndim) or np.broadcast_shapes(v.shape, w.shape) != v.shape:
        raise ValueError(
            f"sample_weight of shape {np.shape(sample_weight)} does not match the per-sample loss "
            f"of shape {values.shape}. Pass one weight per loss value (for a sequence output "
            "(B, T, C) the loss has shape (B, T): repeat a per-sample weight over time, "
            "e.g. np.repeat(w[:, None], T, axis=1)); Keras would broadcast it against the "
            "last axis instead."
        )
    return np.broadcast_to(w, v.shape).reshape(values.shape), w.sum()


# -- functions (per-sample values, as keras.losses.<name>) --------------------------------------
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    if axis != -1:
        raise NotImplementedError(f"sparse_categorical_crossentropy: only axis=-1 is supported, got {axis}.")
    return SparseCategoricalCrossentropy(from_logits, ignore_class).call(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().call(y_true, y_pred)


# -- lookup -------------------------------------------------------------------------------------
_CLASSES = (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
            MeanSquaredError, MeanAbsoluteError)
_FUNCTIONS = {
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
}
# Keras' names, case-sensitive as keras.losses.get: class names, function names, aliases.
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({fn.__name__: cls for fn, cls in _FUNCTIONS.items()})
_BY_NAME.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
                 "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError})


def get(identifier):
    """A Loss instance from a Keras name ('binary_crossentropy', 'BinaryCrossentropy', 'mse',
    ...), a config dict {'class_name': ..., 'config': ...}, a loss function, class or instance.

    As in `model.compile`, a function name gives the loss that name ('mse' is named 'mse');
    a class name gives the class' default name."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _lookup(identifier)
        return cls() if identifier == cls.__name__ else cls(name=identifier)
    if isinstance(identifier, dict) and "class_name" in identifier:
        config = identifier.get("config")
        if identifier["class_name"] == "function":  # Keras' serialisation of a loss function
            return get(config)
        return _lookup(identifier["class_name"]).from_config(dict(config or {}))
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier](name=identifier.__name__)
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Known losses: {sorted(_BY_NAME)}."
    )


def _lookup(name):
    cls = _BY_NAME.get(name)
    if cls is None:
        raise ValueError(f"Could not interpret loss identifier: {name!r}. Known losses: {sorted(_BY_NAME)}.")
    return cls


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))
