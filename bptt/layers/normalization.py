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
Backward through fixed statistics (BatchNormalization in inference):
    dx = dx_hat / sqrt(variance + epsilon)
    dmoving_mean = -sum(dx_hat) / sqrt(variance + epsilon)
    dmoving_variance = -1/2 sum(dx_hat * x_hat) / (variance + epsilon)
"""
import numpy as np

from bptt.layers import _windows
from bptt.layers.base import Layer
from bptt.layers.core import _check_float_input


def _normalized_backward(dx_hat, x_hat, inv_std, axes):
    """dx of x_hat = (x - mean(x)) * inv_std, the mean and variance taken over `axes`."""
    return inv_std * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                      - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))


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
    As in Keras, a layer with trainable=False always normalizes with its moving statistics."""

    non_trainable = frozenset({"moving_mean", "moving_variance"})

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

    def forward(self, x, training=False):
        x = _check_float_input(self, x)
        axis = self.axis % len(self.input_shape or x.shape)
        _check_built_shape(self, x, [axis])
        reduce = tuple(a for a in range(x.ndim) if a != axis)  # every axis but the channels'
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]  # a per-channel vector (C,) broadcast against x
        batch_statistics = training and self.trainable
        if batch_statistics:
            mean = x.mean(axis=reduce)  # (C,)
            centered = x - mean.reshape(shape)
            variance = (centered * centered).mean(axis=reduce)  # (C,), biased as Keras
            for key, batch in (("moving_mean", mean), ("moving_variance", variance)):
                moving = self.params[key]
                moving[...] = moving * self.momentum + batch * (1.0 - self.momentum)
        else:
            variance = self.params["moving_variance"]
            centered = x - self.params["moving_mean"].reshape(shape)
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)  # (C,)
        x_hat = centered * inv_std.reshape(shape)
        y = x_hat
        if self.scale:
            y = y * self.params["gamma"].reshape(shape)
        if self.center:
            y = y + self.params["beta"].reshape(shape)
        self.cache = (x_hat, inv_std, batch_statistics, reduce, shape)
        return y

    def backward(self, dy):
        x_hat, inv_std, batch_statistics, reduce, shape = self.cache
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
            return _normalized_backward(dx_hat, x_hat, inv_std.reshape(shape), reduce)
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
