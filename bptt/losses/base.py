"""The Loss base class: per-sample values, then Keras' reduction of them.

B batch, T time, C classes (or output features); `...` any leading axes.

A loss is computed in two steps, as in Keras:

1. per-sample values (Keras' `Loss.call`), after y_true and y_pred are squeezed/expanded to the
   same rank (a trailing axis of size 1 is dropped or added; a rank-1 tensor is expanded): each
   subclass' `_forward`, with its formulas in crossentropy.py and regression.py.

2. a reduction of the values v with sample weights w (squeezed/expanded to v's rank) and a mask
   m (e.g. ignore_class), as `keras.losses.loss.reduce_weighted_values`:

   'sum_over_batch_size' (default), 'mean'   sum(v * w) / v.size     (NOT divided by sum(w))
   'sum'                                      sum(v * w)
   'mean_with_sample_weight'                  sum(v * w) / sum(w)
   None / 'none'                              v * w
   a mask, under 'sum_over_batch_size', is scaled by size / count(m) and multiplied into w, so
   the loss is the mean over the unmasked values.
"""
import numpy as np

from bptt import backend

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


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))
