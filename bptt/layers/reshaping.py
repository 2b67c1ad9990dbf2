"""Layers that move values without arithmetic (Keras' keras.layers.reshaping).

Letters: B batch, T time, D features, n / size the repetition factor.

    RepeatVector(n)     (B, D) -> (B, n, D)        dx = sum of dy over the n copies
    Reshape(shape)      (B, ...) -> (B, *shape)    dx = dy reshaped back
    Permute(dims)       axes reordered (1-based)   dx = dy with the inverse order
    Cropping1D(c)       (B, T, D) -> (B, T - c0 - c1, D)   dx = dy framed by zeros
    ZeroPadding1D(p)    (B, T, D) -> (B, p0 + T + p1, D)   dx = the middle of dy
    UpSampling1D(size)  (B, T, D) -> (B, T * size, D)      dx = sum of dy over each step's copies

Float inputs are cast to the layer's dtype; integer inputs (token ids before an Embedding) pass
through unchanged and get no gradient (backward returns None).
(Flatten lives in bptt/layers/core.py.)
"""
import math

import numpy as np

from bptt.layers.base import Layer


def _int_pair(value, name):
    """An int or two ints >= 0 as a tuple of two, with Keras' message otherwise."""
    message = f"The `{name}` argument must be a tuple of 2 integers. Received {name}={value}"
    if isinstance(value, (int, np.integer)):
        pair = (int(value),) * 2
    else:
        try:
            pair = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
            raise ValueError(message)
        pair = tuple(int(v) for v in pair)
    negative = {v for v in pair if v < 0}
    if negative:
        raise ValueError(f"{message}, including values {negative} that do not satisfy "
                         "`value >= 0`")
    return pair


def _positive_int(value, name):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"Expected an integer value for `{name}`, got {type(value)}.")
    if value <= 0:
        raise ValueError(f"Argument `{name}` should be a positive integer. Received: "
                         f"{name}={value}")
    return int(value)


class _Reshaping(Layer):
    """The shared input handling: dtype, a rank check, and no gradient for integer inputs."""

    ndim = None  # the input rank the layer requires, batch axis included; None for any

    def _check_rank(self, shape):
        if self.ndim is not None and len(shape) != self.ndim:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self.ndim}, found ndim={len(shape)}. Full shape received: "
                f"{tuple(shape)}")

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def _input(self, x):
        x = np.asarray(x)
        self._check_rank(x.shape)
        self._differentiable = x.dtype.kind == "f"
        return x.astype(self.dtype, copy=False) if self._differentiable else x

    def backward(self, dy):
        return self._backward(dy) if self._differentiable else None


class RepeatVector(_Reshaping):
    ndim = 2

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = _positive_int(n, "n")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x, training=False):
        x = self._input(x)
        return np.repeat(x[:, None, :], self.n, axis=1)  # (B, n, D)

    def _backward(self, dy):
        return dy.sum(axis=1)  # (B, D)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Reshape(_Reshaping):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        for dim in target_shape:
            if not isinstance(dim, (int, np.integer)) or dim < -1:
                raise ValueError(
                    "Each dimension in `target_shape` must be a non-negative integer, or `-1` "
                    f"for a single unknown dimension. Received: target_shape={target_shape}.")
        if target_shape.count(-1) > 1:
            raise ValueError("There must be at most one unknown dimension (-1) in "
                             f"`target_shape`. Received: target_shape={target_shape}.")
        self.target_shape = tuple(int(dim) for dim in target_shape)

    def _resolve(self, shape):
        """target_shape with its -1 filled in from `shape` (no batch axis), or None if unknown."""
        target = self.target_shape
        if None in shape:
            return tuple(None if dim == -1 else dim for dim in target)
        size = math.prod(shape)
        if -1 not in target:
            if size != math.prod(target):
                raise ValueError(
                    "The total size of the tensor must be unchanged. Received: "
                    f"input_shape={tuple(shape)}, target_shape={target}: {size} values per "
                    f"sample cannot fill {math.prod(target)}.")
            return target
        known = math.prod(dim for dim in target if dim != -1)
        if known == 0 or size % known != 0:
            raise ValueError(
                "The total size of the tensor must be unchanged, however, the input size cannot "
                "be divided by the specified dimensions in target_shape. Received: "
                f"input_shape={tuple(shape)}, target_shape={target}")
        return tuple(size // known if dim == -1 else dim for dim in target)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(tuple(input_shape[1:]))

    def forward(self, x, training=False):
        x = self._input(x)
        self.cache = x.shape
        return x.reshape(x.shape[:1] + self._resolve(x.shape[1:]))

    def _backward(self, dy):
        return dy.reshape(self.cache)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(_Reshaping):
    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}")
        self.ndim = len(self.dims) + 1

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[dim] for dim in self.dims)

    def forward(self, x, training=False):
        x = self._input(x)
        return np.ascontiguousarray(np.transpose(x, (0,) + self.dims))

    def _backward(self, dy):
        inverse = np.argsort((0,) + self.dims)  # output axis j came from input axis perm[j]
        return np.ascontiguousarray(np.transpose(dy, inverse))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class Cropping1D(_Reshaping):
    ndim = 3

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _int_pair(cropping, "cropping")

    def compute_output_shape(self, input_shape):
        length = input_shape[1]
        if length is not None:
            length -= sum(self.cropping)
            if length <= 0:
                raise ValueError(
                    "`cropping` parameter of `Cropping1D` layer must be smaller than the input "
                    f"length. Received: input_shape={tuple(input_shape)}, "
                    f"cropping={self.cropping}")
        return (input_shape[0], length, input_shape[2])

    def forward(self, x, training=False):
        x = self._input(x)
        self.compute_output_shape(x.shape)
        self.cache = x.shape
        start, stop = self.cropping[0], x.shape[1] - self.cropping[1]
        return x[:, start:stop].copy()  # (B, T - c0 - c1, D)

    def _backward(self, dy):
        dx = np.zeros(self.cache, dtype=dy.dtype)  # (B, T, D): cropped steps get no gradient
        dx[:, self.cropping[0]:self.cache[1] - self.cropping[1]] = dy
        return dx

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class ZeroPadding1D(_Reshaping):
    ndim = 3

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        data_format = "channels_last" if data_format is None else str(data_format).lower()
        if data_format not in ("channels_first", "channels_last"):
            raise ValueError("The `data_format` argument must be one of {'channels_first', "
                             f"'channels_last'}}. Received: data_format={data_format}")
        self.data_format = data_format
        self.padding = _int_pair(padding, "padding")
        self._axis = 2 if data_format == "channels_first" else 1

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if shape[self._axis] is not None:
            shape[self._axis] += sum(self.padding)
        return tuple(shape)

    def forward(self, x, training=False):
        x = self._input(x)
        pad = [(0, 0)] * 3
        pad[self._axis] = self.padding
        return np.pad(x, pad)

    def _backward(self, dy):
        keep = [slice(None)] * 3
        keep[self._axis] = slice(self.padding[0], dy.shape[self._axis] - self.padding[1])
        return dy[tuple(keep)].copy()

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class UpSampling1D(_Reshaping):
    ndim = 3

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _positive_int(size, "size")

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def forward(self, x, training=False):
        x = self._input(x)
        return np.repeat(x, self.size, axis=1)  # (B, T * size, D), each step `size` times

    def _backward(self, dy):
        B, steps, D = dy.shape
        return dy.reshape(B, steps // self.size, self.size, D).sum(axis=2)  # (B, T, D)

    def get_config(self):
        return {**super().get_config(), "size": self.size}
