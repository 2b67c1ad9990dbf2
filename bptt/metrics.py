"""Metrics as Keras 3 computes and names them in `History`.

A metric keeps a running weighted mean across batches (Keras' `Mean`):

    total += sum over samples of (value_i * w_i),   count += sum of w_i   (w = 1: count += B)
    result = total / count                           (0 when count is 0)

A per-sample value with extra axes (a sequence output gives (B, T)) is first averaged over them,
and so are sample weights with extra axes (Keras' `reduce_to_samplewise_values`).

    binary_accuracy              mean_c [t == (p > threshold)]            threshold 0.5, strict >
    categorical_accuracy         [argmax t == argmax p]
    sparse_categorical_accuracy  [t == argmax p]
    accuracy                     mean_c [t == p]
    mean_squared_error / mae ... the loss functions' per-sample values

'accuracy' / 'acc' in `compile(metrics=...)` is resolved as keras/src/trainers/compile_utils.py
does, from the shapes of the first batch (not from the loss):
    y_pred.shape[-1] == 1                                         -> BinaryAccuracy
    y_true.ndim < y_pred.ndim, or y_true.shape[-1] == 1 (and not binary) -> SparseCategoricalAccuracy
    otherwise                                                     -> CategoricalAccuracy
and keeps the name it was given ('accuracy' or 'acc'); any other string keeps its spelling too
('mae' is logged as 'mae').
"""
import inspect

import numpy as np

from bptt import backend, losses
from bptt.losses import (binary_crossentropy, categorical_crossentropy, huber, kl_divergence,
                         log_cosh, mean_absolute_error, mean_absolute_percentage_error,
                         mean_squared_error, mean_squared_logarithmic_error, poisson,
                         sparse_categorical_crossentropy)

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "LogCoshError", "RootMeanSquaredError", "KLDivergence",
    "Poisson", "AutoAccuracy", "accuracy", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "get",
    # the loss functions, which Keras' metrics module exports too
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "kl_divergence", "poisson",
]


# -- per-sample functions -----------------------------------------------------------------------
def accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(np.asarray(y_true), y_pred)
    return (y_true == y_pred).astype(backend.floatx()).mean(axis=-1)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(np.asarray(y_true), np.asarray(y_pred))
    predicted = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == predicted).astype(backend.floatx()).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    labels = np.argmax(np.asarray(y_true), axis=-1)
    shape = labels.shape
    if labels.ndim == y_pred.ndim:  # Keras squeezes a trailing axis here, then restores it
        labels = np.squeeze(labels, -1)
    matches = (labels == np.argmax(y_pred, axis=-1)).astype(backend.floatx())
    return matches.reshape(shape)


def sparse_categorical_accuracy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    shape = y_true.shape
    squeezed = y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,)
    if squeezed:  # labels (B, 1) -> (B,)
        y_true = y_true[..., 0]
    predicted = np.argmax(y_pred, axis=-1).astype(y_true.dtype)
    matches = (y_true == predicted).astype(backend.floatx())
    if squeezed:
        matches = matches.reshape(shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches[..., 0]
    return matches


# -- metric classes -----------------------------------------------------------------------------
class Metric:
    """Base: `update_state(y_true, y_pred, sample_weight=None)`, `result()`, `reset_state()`."""

    def __init__(self, name=None, dtype=None):
        self.name = name or losses._snake(type(self).__name__)
        self.dtype = dtype or backend.floatx()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """The weighted mean of the values seen since the last `reset_state`.

    Totals are kept in float64 (Keras keeps float32 variables; the results agree to float32
    precision)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            values, weights = losses.squeeze_or_expand_to_same_rank(values, weights)
            if values.ndim > weights.ndim:  # average values down to the weights' rank
                values = values.mean(axis=tuple(range(weights.ndim, values.ndim)))
            weights = np.broadcast_to(weights, values.shape)
            values = values * weights
            if weights.ndim > 1:
                weights = weights.mean(axis=tuple(range(1, weights.ndim)))
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)))
        self.total += float(values.sum())
        if sample_weight is not None:
            self.count += float(weights.sum())
        else:
            self.count += values.shape[0] if values.ndim >= 1 else 1

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function `fn(y_true, y_pred, **kwargs)`."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or losses._snake(type(self).__name__), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        """`mask` (like the per-sample values, e.g. (B, T)) multiplies the sample weights, as
        Keras does with the mask a layer attached to y_pred."""
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            mask = np.asarray(mask, dtype=np.float64)
            if sample_weight is None:
                sample_weight = mask
            else:
                mask, sample_weight = losses.squeeze_or_expand_to_same_rank(
                    mask, np.asarray(sample_weight, dtype=np.float64))
                sample_weight = sample_weight * mask
        super().update_state(values, sample_weight=sample_weight)


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and not 0 < threshold < 1:
            raise ValueError(
                "Invalid value for argument `threshold`. Expected a value in interval (0, 1). "
                f"Received: threshold={threshold}"
            )
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    def __init__(self, name="logcosh", dtype=None):
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


class RootMeanSquaredError(MeanMetricWrapper):
    """sqrt of the running mean of the squared errors (averaged over the last axis per sample)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)

    def result(self):
        return float(np.sqrt(super().result()))


class KLDivergence(MeanMetricWrapper):
    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    def __init__(self, name="poisson", dtype=None):
        super().__init__(losses.poisson, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0):
        super().__init__(losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0):
        super().__init__(losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False):
        super().__init__(losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits)
        self.from_logits = from_logits

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class AutoAccuracy(Metric):
    """'accuracy' before the data is seen: becomes Binary-, Sparse- or CategoricalAccuracy on
    the first `update_state`, from the shapes of y_true and y_pred, as Keras' compile does."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.resolved = None

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        if self.resolved is None:
            self.resolved = resolve_accuracy(np.shape(y_true), np.shape(y_pred), self.name, self.dtype)
        self.resolved.update_state(y_true, y_pred, sample_weight=sample_weight, mask=mask)

    def result(self):
        return 0.0 if self.resolved is None else self.resolved.result()

    def reset_state(self):
        if self.resolved is not None:
            self.resolved.reset_state()


def resolve_accuracy(y_true_shape, y_pred_shape, name="accuracy", dtype=None):
    """compile_utils.is_binary_or_sparse_categorical: which accuracy 'accuracy' means."""
    is_binary = y_pred_shape[-1] == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1)
    if is_binary:
        return BinaryAccuracy(name=name, dtype=dtype)
    if is_sparse:
        return SparseCategoricalAccuracy(name=name, dtype=dtype)
    return CategoricalAccuracy(name=name, dtype=dtype)


# -- lookup -------------------------------------------------------------------------------------
_CLASSES = (Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy,
            SparseCategoricalCrossentropy, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, LogCoshError, RootMeanSquaredError, KLDivergence,
            Poisson)
# keras.metrics.get: class names, their snake_case, and aliases (case-sensitive).
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({losses._snake(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
                 "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
                 "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
                 "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError})


def get(identifier, y_true=None, y_pred=None, loss=None, output_shape=None):
    """A metric for `compile(metrics=[...])`, named as Keras names it in `History`.

    'accuracy' / 'acc' (any case) are resolved from shapes, as Keras 3's compile does: now if
    the first batch's `y_true` and `y_pred` are given, or if `output_shape` ends in 1 (binary
    whatever the labels); otherwise an `AutoAccuracy` that picks its kind on its first batch.
    `loss` is accepted and unused: Keras 3 does not look at the loss (tf.keras 2 did).
    Other strings are Keras' metric names ('mae', 'binary_accuracy', 'MeanSquaredError', ...)
    and keep the spelling given as their name; a function becomes a MeanMetricWrapper named
    after it; a Metric instance is returned as is; a dict is {'class_name':..., 'config':...}.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            if y_true is not None and y_pred is not None:
                return resolve_accuracy(np.shape(y_true), np.shape(y_pred), name=identifier)
            if output_shape is not None and tuple(output_shape)[-1] == 1:
                return BinaryAccuracy(name=identifier)
            return AutoAccuracy(name=identifier)
        metric = _lookup(identifier)()
        metric.name = identifier
        return metric
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _lookup(identifier["class_name"]).from_config(dict(identifier.get("config") or {}))
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(
        f"Could not interpret metric identifier: {identifier!r}. Known metrics: "
        f"{sorted(_BY_NAME)}, 'accuracy' and 'acc'."
    )


def _lookup(name):
    cls = _BY_NAME.get(name)
    if cls is None:
        raise ValueError(
            f"Could not interpret metric identifier: {name!r}. Known metrics: {sorted(_BY_NAME)}, "
            "'accuracy' and 'acc'."
        )
    return cls


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "metrics", name)
