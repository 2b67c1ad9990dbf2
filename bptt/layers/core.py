"""Dense, Dropout, Activation, Flatten and Input: the non-recurrent layers.

Letters: B batch, T time, D input features, U units.

Dense works on the last axis of an input of any rank >= 2, as Keras' Dense does:
    z = x @ kernel + bias        # (..., U)
    y = activation(z)
"""
import numpy as np

from bptt import checks, kernels
from bptt.distribution import sharding
from bptt.layers.base import Layer
from bptt.ops import activations


def _check_float_input(layer, x):
    if x.dtype.kind != "f":
        return x.astype(layer.dtype)
    return x if x.dtype == layer.dtype else x.astype(layer.dtype)


class Dense(Layer):
    supports_masking = True  # Keras: the mask passes through

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense expects a positive int `units`, got {units!r}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                f"Dense '{self.name}' expects an input of rank >= 2 (batch, ..., features), "
                f"got shape {tuple(input_shape)}."
            )
        if input_shape[-1] is None:
            raise ValueError(f"Dense '{self.name}' needs a known last dimension, got {input_shape}.")
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        x = _check_float_input(self, x)
        if x.shape[-1] != self.params["kernel"].shape[0]:
            raise ValueError(
                f"Dense '{self.name}' was built for {self.params['kernel'].shape[0]} input features, "
                f"got input of shape {x.shape}."
            )
        # One 2-D GEMM over every leading axis (a 3-D matmul would loop over them).
        projection, _ = kernels.dense_functions()
        z = projection(x.reshape(-1, x.shape[-1]), self.params["kernel"],
                       self.params["bias"] if self.use_bias else None)  # (N, U)
        z = z.reshape(x.shape[:-1] + (self.units,))  # (..., U)
        y = activations.apply(self.activation, z)
        self.cache = (x, y)
        self.logits = z
        return y

    def backward(self, dy):
        _, y = self.cache
        return self.backward_from_logits(activations.backward(self.activation, dy, y))

    def backward_from_logits(self, dz):
        """Backward from dL/dz, where z = x @ kernel + bias is the pre-activation."""
        x, _ = self.cache
        x2 = x.reshape(-1, x.shape[-1])  # (N, D)
        dz2 = dz.reshape(-1, self.units)  # (N, U)
        _, projection_backward = kernels.dense_functions()
        self.grads["kernel"], dx2, dbias = projection_backward(x2, dz2, self.params["kernel"])
        if self.use_bias:
            self.grads["bias"] = dbias
        return dx2.reshape(x.shape)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
        }


class Activation(Layer):
    supports_masking = True  # Keras: the mask passes through

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, x, training=False):
        x = _check_float_input(self, x)
        y = activations.apply(self.activation, x)
        self.cache = y
        self.logits = x
        return y

    def backward(self, dy):
        return activations.backward(self.activation, dy, self.cache)

    def backward_from_logits(self, dz):
        return dz

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class Dropout(Layer):
    """Inverted dropout: in training, zero a fraction `rate` and scale the rest by 1 / (1 - rate)."""
    supports_masking = True  # Keras: the mask passes through

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = checks.in_range(rate, "rate", 0, 1, owner="Dropout")
        self.noise_shape = noise_shape
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def forward(self, x, training=False):
        x = _check_float_input(self, x)
        if not training or self.rate == 0:
            self.cache = None
            return x
        shape = x.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(x.shape, self.noise_shape))
        # Data-parallel: the mask of the whole global batch is drawn, and this shard's rows kept.
        batch_axis = 0 if self.noise_shape is None or self.noise_shape[0] is None else None
        keep = sharding.uniform(self.rng(), shape, batch_axis) >= self.rate
        mask = keep.astype(x.dtype) / x.dtype.type(1 - self.rate)
        self.cache = mask
        return x * mask

    def backward(self, dy):
        return dy if self.cache is None else dy * self.cache

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


class Flatten(Layer):
    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else int(np.prod(rest))
        return (input_shape[0], size)

    def forward(self, x, training=False):
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self.cache)


class InputLayer(Layer):
    """Declares the input shape (without the batch axis) of a Sequential model."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 **kwargs):
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        super().__init__(name=name, **kwargs)
        if batch_shape is not None:
            shape, batch_size = tuple(batch_shape[1:]), batch_shape[0]
        if shape is None:
            raise ValueError("Input needs a `shape` (without the batch axis), e.g. Input(shape=(50,)).")
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        for size in shape:
            if size is not None and (isinstance(size, bool) or not isinstance(
                    size, (int, np.integer)) or size < 0):
                raise ValueError(f"Input shape entries must be ints >= 0 or None (a size "
                                 f"that varies), got shape={shape!r}.")
        self.shape = shape
        self.batch_size = batch_size
        self.input_dtype = dtype
        self.built = True
        self.input_shape = (batch_size,) + self.shape

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy

    def get_config(self):
        return {"name": self.name, "batch_shape": [self.batch_size, *self.shape],
                "dtype": self.input_dtype}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """Keras' `Input`: a symbolic tensor standing for the model's input (the functional API's
    starting point), also accepted as the first item of a Sequential model."""
    from bptt.layers import symbolic

    if sparse:
        raise NotImplementedError("Input(sparse=True) is not supported: bptt takes dense arrays.")
    if tensor is not None:
        raise NotImplementedError("Input(tensor=...) is not supported by bptt.")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name)
    return symbolic.input_tensor(layer)
