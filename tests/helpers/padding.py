"""Keras' padding of the time axis, written from TensorFlow's documented rule, for the oracles
of the window layers (Conv1D, pooling)."""


def keras_padding(steps, size, stride, dilation, padding):
    """(left, right) steps Keras pads before a 'valid' window op. 'same': the output has
    ceil(steps / stride) steps and the odd extra step goes on the right; 'causal': all on the
    left, so output t sees no input after t."""
    span = dilation * (size - 1) + 1
    if padding == "causal":
        return span - 1, 0
    if padding == "same":
        total = max((-(-steps // stride) - 1) * stride + span - steps, 0)
        return total // 2, total - total // 2
    return 0, 0
