"""Conv1D: Keras' 1-D convolution (a cross-correlation) over the time axis, channels last.

Letters: B batch, T time, C input channels, F filters, K kernel size, T_out output steps,
Tp padded length.

    x_padded = pad(x)                                                   # (B, Tp, C)
    z[b, t, f] = sum_{k, c} x_padded[b, t*stride + k*dilation, c] * kernel[k, c, f] + bias[f]
    y = activation(z)                                                   # (B, T_out, F)

Computed as one GEMM over gathered windows (im2col): windows (B, T_out, K, C) flattened to
(B*T_out, K*C), times the kernel (K, C, F) flattened to (K*C, F). Padding ("valid", "same",
"causal") follows Keras: see bptt/layers/_windows.py. The kernel is Keras' (K, C, F);
PyTorch's conv1d weight is its transpose (F, C, K).
"""
import numpy as np

from bptt.layers import _windows
from bptt.layers.base import Layer
from bptt.layers.core import _check_float_input
from bptt.ops import activations


def conv1d_forward(x, kernel, bias, stride, dilation, padding):
    """z = conv1d(x) + bias for x (B, T, C) and kernel (K, C, F): returns (z, cache)."""
    B, T, C = x.shape
    K, _, F = kernel.shape
    left, right = _windows.pad_amounts(T, K, stride, padding, dilation)
    x_padded = np.pad(x, ((0, 0), (left, right), (0, 0)))  # (B, Tp, C)
    steps_out = _windows.output_length(T, K, stride, padding, dilation)
    windows = _windows.gather_windows(x_padded, K, stride, dilation, steps_out)  # (B, T_out, K, C)
    windows = windows.reshape(B * steps_out, K * C)  # (B*T_out, K*C)
    z = windows @ kernel.reshape(K * C, F)  # (B*T_out, F)
    if bias is not None:
        z += bias
    cache = (windows, kernel, x_padded.shape, (left, right), stride, dilation)
    return z.reshape(B, steps_out, F), cache


def conv1d_backward(dz, cache):
    """(dx, dkernel, dbias) for dz (B, T_out, F); dbias is summed whether or not a bias was used."""
    windows, kernel, (B, padded_steps, C), (left, right), stride, dilation = cache
    K, _, F = kernel.shape
    dz2 = dz.reshape(-1, F)  # (B*T_out, F)
    dkernel = (windows.T @ dz2).reshape(K, C, F)  # z = windows @ kernel
    dbias = dz2.sum(axis=0)  # (F,)
    dwindows = (dz2 @ kernel.reshape(K * C, F).T).reshape(B, dz.shape[1], K, C)
    dx_padded = _windows.scatter_windows(dwindows, padded_steps, stride, dilation)  # (B, Tp, C)
    return dx_padded[:, left:padded_steps - right, :], dkernel, dbias


class Conv1D(Layer):
    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _windows.refuse_if_set(
            "Conv1D", kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint)
        if not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"Conv1D expects a positive int `filters`, got filters={filters!r}.")
        if not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError(f"Conv1D expects a positive int `groups`, got groups={groups!r}.")
        if groups != 1:
            raise NotImplementedError(
                f"Conv1D(groups={groups}) is not supported by bptt; only groups=1 (every filter "
                "sees every input channel)."
            )
        self.filters = int(filters)
        self.kernel_size = _windows.int_tuple(kernel_size, "kernel_size", "Conv1D")
        self.strides = _windows.int_tuple(strides, "strides", "Conv1D")
        self.dilation_rate = _windows.int_tuple(dilation_rate, "dilation_rate", "Conv1D")
        if self.strides[0] > 1 and self.dilation_rate[0] > 1:
            raise ValueError(
                f"Conv1D does not take strides > 1 together with dilation_rate > 1 (as Keras); "
                f"got strides={self.strides}, dilation_rate={self.dilation_rate}."
            )
        self.padding = _windows.padding_mode(padding, "Conv1D", ("valid", "same", "causal"))
        self.data_format = _windows.data_format_mode(data_format, "Conv1D")
        self.groups = 1
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def _window(self):
        return self.kernel_size[0], self.strides[0], self.dilation_rate[0]

    def compute_output_shape(self, input_shape):
        _windows.check_rank3(self, input_shape)
        K, stride, dilation = self._window()
        steps = _windows.output_length(input_shape[1], K, stride, self.padding, dilation)
        if steps is not None and steps <= 0:
            raise ValueError(
                f"Conv1D '{self.name}': an input of {input_shape[1]} steps is shorter than the "
                f"kernel's span {_windows.span(K, dilation)} (kernel_size={K}, "
                f"dilation_rate={dilation}) with padding='valid'; use longer inputs, "
                "padding='same' or padding='causal'."
            )
        return (input_shape[0], steps, self.filters)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        if input_shape[-1] is None:
            raise ValueError(
                f"Conv1D '{self.name}' needs a known number of channels (last axis), got input "
                f"shape {tuple(input_shape)}."
            )
        self.add_weight("kernel", (self.kernel_size[0], input_shape[-1], self.filters),
                        self.kernel_initializer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer)
        super().build(input_shape)

    def forward(self, x, training=False):
        x = _check_float_input(self, x)
        self.compute_output_shape(x.shape)
        channels = self.params["kernel"].shape[1]
        if x.shape[-1] != channels:
            raise ValueError(
                f"Conv1D '{self.name}' was built for {channels} input channels, got input of "
                f"shape {x.shape}."
            )
        K, stride, dilation = self._window()
        z, conv_cache = conv1d_forward(x, self.params["kernel"], self.params.get("bias"),
                                       stride, dilation, self.padding)  # (B, T_out, F)
        y = activations.apply(self.activation, z)
        self.cache = (conv_cache, y)
        self.logits = z
        return y

    def backward(self, dy):
        _, y = self.cache
        return self.backward_from_logits(activations.backward(self.activation, dy, y))

    def backward_from_logits(self, dz):
        """Backward from dL/dz, where z is the convolution plus bias (before the activation)."""
        conv_cache, _ = self.cache
        dx, dkernel, dbias = conv1d_backward(dz, conv_cache)
        self.grads["kernel"] = dkernel
        if self.use_bias:
            self.grads["bias"] = dbias
        return dx

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        }
