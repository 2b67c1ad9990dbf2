"""Sliding windows over the time axis, shared by Conv1D and the 1-D pooling layers, and the
checks of their Keras arguments.

Letters: B batch, T time, C channels, K window (kernel or pool) size, T_out output steps,
Tp padded length.

A window layer pads the input on the time axis, gathers every window into one array
    windows[b, t, k, c] = x_padded[b, t * stride + k * dilation, c]      # (B, T_out, K, C)
and reduces it (a GEMM for Conv1D, a max or a mean for pooling). Its backward scatters the
gradient of `windows` back onto the padded input and drops the padding.

Padding as Keras (TensorFlow's rule, which every Keras backend follows):
    valid   none; T_out = floor((T - span) / stride) + 1, span = dilation * (K - 1) + 1
    same    T_out = ceil(T / stride); total = max((T_out - 1) * stride + span - T, 0),
            total // 2 on the left, the rest (one more when odd) on the right
    causal  (Conv1D only) span - 1 on the left, then valid: T_out = ceil(T / stride)
"""
import numpy as np


def refuse_if_set(layer_name, **arguments):
    """Keras arguments bptt accepts only at their default None (regularizers, constraints)."""
    for key, value in arguments.items():
        if value is not None:
            raise NotImplementedError(
                f"{layer_name}({key}={value!r}) is not supported by bptt; leave it at None."
            )


def int_tuple(value, name, layer_name, n=1):
    """Keras' standardize_tuple: an int or n ints -> a tuple of n positive ints."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if (values is None or len(values) != n
            or not all(isinstance(v, (int, np.integer)) and v > 0 for v in values)):
        raise ValueError(
            f"{layer_name} expects `{name}` to be a positive int or a tuple of {n} positive "
            f"int(s), got {name}={value!r}."
        )
    return tuple(int(v) for v in values)


def padding_mode(value, layer_name, allowed=("valid", "same")):
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"{layer_name} expects `padding` in {allowed}, got padding={value!r}.")
    return padding


def data_format_mode(value, layer_name, allow_channels_first=False):
    """None means Keras' default image_data_format, 'channels_last'."""
    data_format = "channels_last" if value is None else str(value).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer_name} expects `data_format` 'channels_last' or 'channels_first', "
            f"got data_format={value!r}."
        )
    if data_format == "channels_first" and not allow_channels_first:
        raise NotImplementedError(
            f"{layer_name}(data_format='channels_first') is not supported by bptt: pass inputs "
            "as (batch, steps, channels) with data_format='channels_last' (the default), "
            "e.g. x.transpose(0, 2, 1)."
        )
    return data_format


def check_rank3(layer, shape):
    """Window layers take (batch, steps, channels), as Keras' InputSpec(ndim=3)."""
    if len(shape) != 3:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' expects an input of rank 3 "
            f"(batch, steps, channels), got shape {tuple(shape)}; add a channels axis with "
            "x[..., None] for a single feature."
        )


def span(size, dilation=1):
    """How many input steps one window covers."""
    return dilation * (size - 1) + 1


def output_length(steps, size, stride, padding, dilation=1):
    """T_out for `steps` input steps (None stays None); 0 or less means the input is too short."""
    if steps is None:
        return None
    if padding == "valid":
        return (steps - span(size, dilation)) // stride + 1
    return -(-steps // stride)  # same, causal: ceil(steps / stride)


def pad_amounts(steps, size, stride, padding, dilation=1):
    """(left, right) zeros (or -inf for max pooling) added on the time axis."""
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span(size, dilation) - 1, 0
    total = max((output_length(steps, size, stride, padding) - 1) * stride
                + span(size, dilation) - steps, 0)
    return total // 2, total - total // 2


def gather_windows(x_padded, size, stride, dilation, steps_out):
    """windows[b, t, k, c] = x_padded[b, t * stride + k * dilation, c]    # (B, T_out, K, C)"""
    index = (np.arange(steps_out)[:, None] * stride
             + np.arange(size)[None, :] * dilation)  # (T_out, K)
    return x_padded[:, index, :]


def scatter_windows(dwindows, padded_steps, stride, dilation):
    """The backward of gather_windows: dx_padded (B, Tp, C) sums every window's gradient.

    Window tap k of every window reads the strided slice x_padded[:, k*dilation::stride][:T_out],
    whose steps are all distinct, so adding one tap at a time never writes a step twice in one
    `+=`; overlapping windows meet in different taps and are summed across the loop.
    """
    B, steps_out, size, C = dwindows.shape
    dx_padded = np.zeros((B, padded_steps, C), dtype=dwindows.dtype)  # (B, Tp, C)
    last = (steps_out - 1) * stride
    for k in range(size):
        start = k * dilation
        dx_padded[:, start:start + last + 1:stride, :] += dwindows[:, :, k, :]
    return dx_padded
