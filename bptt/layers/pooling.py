"""1-D pooling over the time axis, channels last: MaxPooling1D, AveragePooling1D and the global
GlobalMaxPooling1D, GlobalAveragePooling1D, with Keras' aliases (MaxPool1D, AvgPool1D,
GlobalMaxPool1D, GlobalAvgPool1D).

Letters: B batch, T time, C channels, P pool size, T_out output steps, Tp padded length.

    windows[b, t, p, c] = x_padded[b, t*stride + p, c]         # (B, T_out, P, C)
    max:      y[b, t, c] = max_p windows[b, t, p, c]
    average:  y[b, t, c] = sum_p windows[b, t, p, c] / count[t]
where count[t] is how many of window t's cells are real input steps: padding="same" pads with
-inf for max and zeros for average, and Keras' average leaves the padded cells out of the count
(count[t] < P only in the windows that reach into the padding). The max's gradient goes to the
first cell holding the maximum; the average's is dy / count[t] on every real cell.
"""
import numpy as np

from bptt.layers import _windows
from bptt.layers.base import Layer
from bptt.layers.core import _check_float_input


class _Pooling1D(Layer):
    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        layer_name = type(self).__name__
        self.pool_size = _windows.int_tuple(pool_size, "pool_size", layer_name)
        self.strides = _windows.int_tuple(pool_size if strides is None else strides, "strides",
                                          layer_name)
        self.padding = _windows.padding_mode(padding, layer_name)
        self.data_format = _windows.data_format_mode(data_format, layer_name)

    def compute_output_shape(self, input_shape):
        _windows.check_rank3(self, input_shape)
        steps = _windows.output_length(input_shape[1], self.pool_size[0], self.strides[0],
                                       self.padding)
        if steps is not None and steps <= 0:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': an input of {input_shape[1]} steps is "
                f"shorter than pool_size={self.pool_size[0]} with padding='valid'; use longer "
                "inputs, a smaller pool_size or padding='same'."
            )
        return (input_shape[0], steps, input_shape[2])

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def _windows_of(self, x, pad_value):
        """(windows (B, T_out, P, C), (left, right)) of the padded input."""
        P, stride = self.pool_size[0], self.strides[0]
        steps = x.shape[1]
        left, right = _windows.pad_amounts(steps, P, stride, self.padding)
        x_padded = np.pad(x, ((0, 0), (left, right), (0, 0)), constant_values=pad_value)
        steps_out = _windows.output_length(steps, P, stride, self.padding)
        return _windows.gather_windows(x_padded, P, stride, 1, steps_out), (left, right)

    def _scatter(self, dwindows, steps, pads):
        """dx (B, T, C) from the windows' gradient (B, T_out, P, C)."""
        left, right = pads
        dx_padded = _windows.scatter_windows(dwindows, left + steps + right, self.strides[0], 1)
        return dx_padded[:, left:left + steps, :]

    def _check(self, x):
        x = _check_float_input(self, x)
        self.compute_output_shape(x.shape)
        return x

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling1D):
    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)

    def forward(self, x, training=False):
        x = self._check(x)
        windows, pads = self._windows_of(x, -np.inf)  # (B, T_out, P, C)
        first_max = windows.argmax(axis=2)  # (B, T_out, C)
        self.cache = (first_max, x.shape[1], pads)
        return np.take_along_axis(windows, first_max[:, :, None, :], axis=2)[:, :, 0, :]

    def backward(self, dy):
        first_max, steps, pads = self.cache
        P = self.pool_size[0]
        # dy (B, T_out, C) goes to the tap that held the maximum.
        at_max = np.arange(P)[None, None, :, None] == first_max[:, :, None, :]  # (B, T_out, P, C)
        dwindows = at_max * dy[:, :, None, :]
        return self._scatter(dwindows.astype(dy.dtype, copy=False), steps, pads)


class AveragePooling1D(_Pooling1D):
    # Keras 3 gives AveragePooling1D no default pool_size (MaxPooling1D's is 2).
    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)

    def _counts(self, steps, pads, dtype):
        """count[t]: real (unpadded) cells in window t, shaped (T_out, 1, 1) to divide by."""
        left, right = pads
        real = np.pad(np.ones((1, steps, 1), dtype=dtype), ((0, 0), (left, right), (0, 0)))
        steps_out = _windows.output_length(steps, self.pool_size[0], self.strides[0], self.padding)
        counts = _windows.gather_windows(real, self.pool_size[0], self.strides[0], 1, steps_out)
        return counts.sum(axis=2)[0]  # (1, T_out, P, 1) -> (T_out, 1)

    def forward(self, x, training=False):
        x = self._check(x)
        windows, pads = self._windows_of(x, 0)  # (B, T_out, P, C)
        counts = self._counts(x.shape[1], pads, x.dtype)  # (T_out, 1)
        self.cache = (counts, x.shape[1], pads)
        return windows.sum(axis=2) / counts

    def backward(self, dy):
        counts, steps, pads = self.cache
        P = self.pool_size[0]
        dwindows = np.broadcast_to((dy / counts)[:, :, None, :],
                                   dy.shape[:2] + (P,) + dy.shape[2:])  # (B, T_out, P, C)
        # Padded cells get a share too, but they are cut off with the padding.
        return self._scatter(dwindows, steps, pads)


class _GlobalPooling1D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _windows.data_format_mode(data_format, type(self).__name__,
                                                     allow_channels_first=True)
        self.keepdims = keepdims
        self.steps_axis = 1 if self.data_format == "channels_last" else 2

    def compute_output_shape(self, input_shape):
        _windows.check_rank3(self, input_shape)
        shape = list(input_shape)
        if self.keepdims:
            shape[self.steps_axis] = 1
        else:
            del shape[self.steps_axis]
        return tuple(shape)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def _check(self, x):
        x = _check_float_input(self, x)
        self.compute_output_shape(x.shape)
        return x

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling1D):
    def forward(self, x, training=False):
        x = self._check(x)
        first_max = np.expand_dims(x.argmax(axis=self.steps_axis), self.steps_axis)
        self.cache = (first_max, x.shape)
        y = np.take_along_axis(x, first_max, axis=self.steps_axis)  # keepdims shape
        return y if self.keepdims else y.squeeze(self.steps_axis)

    def backward(self, dy):
        first_max, shape = self.cache
        if not self.keepdims:
            dy = np.expand_dims(dy, self.steps_axis)
        dx = np.zeros(shape, dtype=dy.dtype)
        np.put_along_axis(dx, first_max, dy, axis=self.steps_axis)  # to the first maximum
        return dx


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over time; with a mask (B, T), the mean over the real steps only, as Keras:
        y = sum_t m_t x_t / sum_t m_t
    (Keras gives NaN for a row with no real step; bptt gives zeros.) The output has no mask."""

    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, x, training=False, mask=None):
        x = self._check(x)
        if mask is None:
            self.cache = (x.shape, None)
            return x.mean(axis=self.steps_axis, keepdims=self.keepdims)
        weights = np.expand_dims(np.asarray(mask, dtype=x.dtype), 2 if self.steps_axis == 1 else 1)
        count = np.maximum(weights.sum(axis=self.steps_axis, keepdims=True), 1)  # (B, 1, 1)
        weights = weights / count  # each real step's share of the mean
        self.cache = (x.shape, weights)
        return (x * weights).sum(axis=self.steps_axis, keepdims=self.keepdims)

    def infer(self, x, mask=None):
        return self.forward(x, training=False, mask=mask)

    def backward(self, dy):
        shape, weights = self.cache
        if not self.keepdims:
            dy = np.expand_dims(dy, self.steps_axis)
        if weights is None:
            return np.broadcast_to(dy / shape[self.steps_axis], shape).copy()
        return dy * weights


# Keras' other names for the same layers.
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
