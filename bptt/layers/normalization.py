"""BatchNormalization and LayerNormalization, with Keras' arguments, weights and numerics.

Both normalize x over some axes and then scale and shift:
    x_hat = (x - mean) / sqrt(variance + epsilon)
    y = gamma * x_hat + beta
BatchNormalization: mean and variance per channel (the `axis`), over every other axis: the batch
statistics in training (variance biased, as Keras), the moving statistics in inference.
LayerNormalization: mean and variance over `axis` (one or more axes), per sample.

Backward through batch statistics, with N the number of values each mean is taken over and
dx_hat = dy * gamma:
    dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(variance + epsilon)
With a mask m (1 at real steps, 0 at padding; BatchNormalization in training, as Keras 3.15)
the moments come from the real steps only, with s = sum(m) + 1e-7 (Keras' backend epsilon):
    mean = sum(m x) / s        variance = sum(m (x - mean)^2) / s
and every step, padding too, is normalized with them. Their gradient reaches real steps only:
    dx = (dx_hat - m (sum(dx_hat) - sum(dx_hat x_hat) sum(m x_hat) / s + x_hat sum(dx_hat x_hat))
          / s) / sqrt(variance + epsilon)
(sum(m x_hat) is not exactly 0 because s is not exactly sum(m); without a mask it is the formula
above with m = 1 and s = N.)
Backward through fixed statistics (BatchNormalization in inference):
    dx = dx_hat / sqrt(variance + epsilon)
    dmoving_mean = -sum(dx_hat) / sqrt(variance + epsilon)
    dmoving_variance = -1/2 sum(dx_hat * x_hat) / (variance + epsilon)
"""
import numpy as np

from bptt import backend
from bptt.layers import _windows
from bptt.layers.base import Layer
from bptt.layers.core import _check_float_input


def _normalized_backward(dx_hat, x_hat, inv_std, axes):
    """dx of x_hat = (x - mean(x)) * inv_std, the mean and variance taken over `axes`."""
    return inv_std * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                      - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))


def _masked_normalized_backward(dx_hat, x_hat, inv_std, real, count, reduce, shape):
    """dx of x_hat = (x - mean) * inv_std with the masked moments (module docstring): every step
    gets dx_hat * inv_std, the moments' gradient (from every step) goes to the real ones."""
    total = dx_hat.sum(axis=reduce)  # (C,) sum(dx_hat)
    total_hat = (dx_hat * x_hat).sum(axis=reduce)  # (C,) sum(dx_hat x_hat)
    real_hat = np.where(real, x_hat, 0).sum(axis=reduce) / count  # (C,) sum(m x_hat) / s
    through_moments = ((total - total_hat * real_hat) / count).reshape(shape) \
        + x_hat * (total_hat / count).reshape(shape)  # (B, T, C)
    return inv_std.reshape(shape) * (dx_hat - np.where(real, through_moments, 0))


def _check_built_shape(layer, x, axes):
    """The input has the rank the layer was built for and the same sizes on the normalized axes
    (other sizes, time say, may change from call to call, as in Keras)."""
    expected = layer.input_shape
    if expected is None:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' is not built: call "
                         "build(input_shape) or the layer itself before forward.")
    if x.ndim != len(expected) or any(expected[a] != x.shape[a] for a in axes):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' was built for inputs of shape {expected} "
            f"(normalized axes {list(axes)}), got an input of shape {x.shape}."
        )


def _axis_sizes(layer, input_shape, axes):
    """Canonical (non-negative, sorted) axes, checked against the input's rank, and their sizes."""
    rank = len(input_shape)
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': axis {a} is out of range for an input "
                f"of rank {rank} (shape {tuple(input_shape)})."
            )
    canonical = sorted(a % rank for a in axes)
    if len(set(canonical)) != len(canonical):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': duplicate axes in {axes}.")
    sizes = tuple(input_shape[a] for a in canonical)
    if None in sizes:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' needs a known size on axis {axes} (not the "
            f"batch axis), got input shape {tuple(input_shape)}."
        )
    return canonical, sizes


class BatchNormalization(Layer):
    """Keras' BatchNormalization. moving_mean and moving_variance are weights (saved, loaded and
    listed by get_weights, after gamma and beta) that no optimizer may change: they are named in
    `non_trainable`, left out of `trainable_weights`, and updated by forward in training:
        moving = moving * momentum + batch_statistic * (1 - momentum)
    As in Keras, a layer with trainable=False always normalizes with its moving statistics.
    A mask (B, T) passes through unchanged and, in training, limits the batch statistics to the
    real steps (the output is still normalized at every step)."""

    non_trainable = frozenset({"moving_mean", "moving_variance"})
    supports_masking = True

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _windows.refuse_if_set(
            "BatchNormalization", beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint)
        for key, value in (("renorm", renorm), ("synchronized", synchronized)):
            if value:
                raise NotImplementedError(
                    f"BatchNormalization({key}=True) is not supported by bptt; leave it False.")
        if not isinstance(axis, (int, np.integer)):
            raise TypeError(f"BatchNormalization expects an int `axis`, got axis={axis!r}.")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum

    def build(self, input_shape):
        _, (channels,) = _axis_sizes(self, input_shape, [self.axis])
        if self.scale:
            self.add_weight("gamma", (channels,), self.gamma_initializer)
        if self.center:
            self.add_weight("beta", (channels,), self.beta_initializer)
        self.add_weight("moving_mean", (channels,), self.moving_mean_initializer)
        self.add_weight("moving_variance", (channels,), self.moving_variance_initializer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        _axis_sizes(self, input_shape, [self.axis])
        return tuple(input_shape)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [value for key, value in self.params.items() if key not in self.non_trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [value for key, value in self.params.items() if key in self.non_trainable]

    def _check_mask(self, x, mask):
        """The mask as bool (B, T): one dimension less than the input, as Keras requires, and
        the input's leading sizes (Keras broadcasts it against the input's last axis)."""
        mask = np.asarray(mask)
        if mask.ndim != x.ndim - 1:
            raise ValueError(
                "The mask provided should be one dimension less than the inputs. Received: "
                f"mask.shape={mask.shape}, inputs.shape={x.shape}. Pass the (batch, time) mask "
                "of the sequence being normalized.")
        if mask.shape != x.shape[:-1]:
            raise ValueError(
                f"BatchNormalization '{self.name}': the mask must have the input's leading "
                f"sizes {x.shape[:-1]}, got mask.shape={mask.shape} for inputs.shape={x.shape}.")
        return mask.astype(bool, copy=False)

    def forward(self, x, training=False, mask=None):
        x = _check_float_input(self, x)
        axis = self.axis % len(self.input_shape or x.shape)
        _check_built_shape(self, x, [axis])
        if mask is not None:
            mask = self._check_mask(x, mask)
        reduce = tuple(a for a in range(x.ndim) if a != axis)  # every axis but the channels'
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]  # a per-channel vector (C,) broadcast against x
        batch_statistics = training and self.trainable
        masked = None  # (real, count) when the batch statistics skip padding
        if batch_statistics and mask is not None:
            real = np.broadcast_to(mask[..., None], x.shape)  # (B, T, C) True at real steps
            count = real.sum(axis=reduce).astype(x.dtype) + backend.epsilon()  # (C,) s
            mean = np.where(real, x, 0).sum(axis=reduce) / count  # (C,)
            centered = x - mean.reshape(shape)  # every step, padding too
            variance = np.where(real, centered * centered, 0).sum(axis=reduce) / count  # (C,)
            masked = (real, count)
        elif batch_statistics:
            mean = x.mean(axis=reduce)  # (C,)
            centered = x - mean.reshape(shape)
            variance = (centered * centered).mean(axis=reduce)  # (C,), biased as Keras
        else:
            variance = self.params["moving_variance"]
            centered = x - self.params["moving_mean"].reshape(shape)
        if batch_statistics:
            for key, batch in (("moving_mean", mean), ("moving_variance", variance)):
                moving = self.params[key]
                moving[...] = moving * self.momentum + batch * (1.0 - self.momentum)
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)  # (C,)
        x_hat = centered * inv_std.reshape(shape)
        y = x_hat
        if self.scale:
            y = y * self.params["gamma"].reshape(shape)
        if self.center:
            y = y + self.params["beta"].reshape(shape)
        self.cache = (x_hat, inv_std, batch_statistics, reduce, shape, masked)
        return y

    def infer(self, x, mask=None):
        return self.forward(x, training=False, mask=mask)

    def backward(self, dy):
        x_hat, inv_std, batch_statistics, reduce, shape, masked = self.cache
        if self.scale:
            self.grads["gamma"] = (dy * x_hat).sum(axis=reduce)
            dx_hat = dy * self.params["gamma"].reshape(shape)
        else:
            dx_hat = dy
        if self.center:
            self.grads["beta"] = dy.sum(axis=reduce)
        if batch_statistics:
            # y does not depend on the moving statistics: their gradient is zero.
            self.grads["moving_mean"] = np.zeros_like(self.params["moving_mean"])
            self.grads["moving_variance"] = np.zeros_like(self.params["moving_variance"])
            if masked is None:
                return _normalized_backward(dx_hat, x_hat, inv_std.reshape(shape), reduce)
            return _masked_normalized_backward(dx_hat, x_hat, inv_std, *masked, reduce, shape)
        self.grads["moving_mean"] = -dx_hat.sum(axis=reduce) * inv_std
        self.grads["moving_variance"] = -0.5 * (dx_hat * x_hat).sum(axis=reduce) * inv_std ** 2
        return dx_hat * inv_std.reshape(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer,
            "gamma_initializer": self.gamma_initializer,
            "moving_mean_initializer": self.moving_mean_initializer,
            "moving_variance_initializer": self.moving_variance_initializer,
            "beta_regularizer": None,
            "gamma_regularizer": None,
            "beta_constraint": None,
            "gamma_constraint": None,
            "synchronized": False,
            "renorm": False,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


class LayerNormalization(Layer):
    """Keras' LayerNormalization over `axis` (an int or a list of ints); gamma and beta have the
    sizes of those axes. A mask passes through it unchanged, as in Keras."""

    supports_masking = True

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if kwargs.pop("rms_scaling", False):
            raise NotImplementedError(
                "LayerNormalization(rms_scaling=True) is not supported by bptt (Keras deprecates "
                "it: it scales by the variance, not the root mean square); leave it False.")
        super().__init__(**kwargs)
        _windows.refuse_if_set(
            "LayerNormalization", beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint)
        if isinstance(axis, (list, tuple)) and all(isinstance(a, (int, np.integer)) for a in axis):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)):
            self.axis = int(axis)
        else:
            raise TypeError(
                f"LayerNormalization expects an int or a list of ints `axis`, got axis={axis!r}.")
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer

    def _axes(self):
        return self.axis if isinstance(self.axis, list) else [self.axis]

    def build(self, input_shape):
        axes, sizes = _axis_sizes(self, input_shape, self._axes())
        self.normalized_axes = tuple(axes)  # non-negative, sorted
        if self.scale:
            self.add_weight("gamma", sizes, self.gamma_initializer)
        if self.center:
            self.add_weight("beta", sizes, self.beta_initializer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        _axis_sizes(self, input_shape, self._axes())
        return tuple(input_shape)

    def forward(self, x, training=False):
        x = _check_float_input(self, x)
        _check_built_shape(self, x, getattr(self, "normalized_axes", ()))
        axes = self.normalized_axes
        shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]  # gamma, broadcast
        mean = x.mean(axis=axes, keepdims=True)  # one per sample (and per other axis)
        centered = x - mean
        variance = (centered * centered).mean(axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)
        x_hat = centered * inv_std
        y = x_hat
        if self.scale:
            y = y * self.params["gamma"].reshape(shape)
        if self.center:
            y = y + self.params["beta"].reshape(shape)
        self.cache = (x_hat, inv_std, axes, shape)
        return y

    def backward(self, dy):
        x_hat, inv_std, axes, shape = self.cache
        others = tuple(a for a in range(dy.ndim) if a not in axes)  # what gamma is shared over
        dx_hat = dy
        if self.scale:
            gamma = self.params["gamma"]
            self.grads["gamma"] = (dy * x_hat).sum(axis=others).reshape(gamma.shape)
            dx_hat = dy * gamma.reshape(shape)
        if self.center:
            self.grads["beta"] = dy.sum(axis=others).reshape(self.params["beta"].shape)
        return _normalized_backward(dx_hat, x_hat, inv_std, axes)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": False,
            "beta_initializer": self.beta_initializer,
            "gamma_initializer": self.gamma_initializer,
            "beta_regularizer": None,
            "gamma_regularizer": None,
            "beta_constraint": None,
            "gamma_constraint": None,
        }
