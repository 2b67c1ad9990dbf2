"""Weights between Keras' layout (bptt's) and PyTorch's, as NumPy arrays.

Letters: I input features, H units, U Dense units.

    layer       Keras (bptt)                                   PyTorch
    SimpleRNN   kernel (I, H), recurrent_kernel (H, H),        nn.RNN: weight_ih (H, I), weight_hh (H, H),
                bias (H,)                                      bias_ih (H,), bias_hh (H,)
    LSTM        kernel (I, 4H), recurrent_kernel (H, 4H),      nn.LSTM: weight_ih (4H, I), weight_hh (4H, H),
                bias (4H,); gates i, f, c, o                   bias_ih, bias_hh (4H,); gates i, f, g, o
    GRU         kernel (I, 3H), recurrent_kernel (H, 3H),      nn.GRU: weight_ih (3H, I), weight_hh (3H, H),
                bias (2, 3H) = [input, recurrent];             bias_ih, bias_hh (3H,); gates r, z, n
                gates z, r, h; reset_after=True only
    Dense       kernel (I, U), bias (U,)                       nn.Linear: weight (U, I), bias (U,)

PyTorch's matrices are Keras' transposed. LSTM gates are in the same order in both. PyTorch's GRU
is Keras' reset_after=True with the z and r blocks swapped; its n gate,
tanh(W_in x + b_in + r * (W_hn h + b_hn)), is Keras' hh. Keras' GRU with reset_after=False has
no PyTorch module. SimpleRNN and LSTM add PyTorch's two biases: going to PyTorch, bias_ih is
Keras' bias and bias_hh is zero; coming back, Keras' bias is bias_ih + bias_hh.

Gradients convert like the weights except for that sum: PyTorch's bias_ih and bias_hh gradients
are equal, and either one is the gradient of Keras' bias, so pass `gradients=True` to
`simple_rnn_torch_to_keras` / `lstm_torch_to_keras` when converting gradients. (The GRU and Dense
converters are pure reorderings and serve for gradients as they are.)

`*_keras_to_torch` returns a dict keyed by the module's state_dict names (`weight_ih_l0`, ...;
`suffix` gives e.g. "_l0_reverse" for the backward direction of a bidirectional module), ready for
`module.load_state_dict({k: torch.from_numpy(v) for k, v in d.items()})`. `*_torch_to_keras`
returns the list in Keras' `get_weights()` order. A missing bias (use_bias=False / bias=False)
is None on the way in and left out on the way out; a missing bias_hh counts as zero. Every array
returned is a new contiguous copy.
"""
import numpy as np

# Column blocks of Keras' GRU (z, r, h) in PyTorch's order (r, z, n); swapping twice is the identity.
_GRU_KERAS_TO_TORCH = (1, 0, 2)


def _copy(a):
    return np.ascontiguousarray(a).copy()


def _reorder_blocks(a, order, axis):
    """Split `a` into len(order) equal blocks along `axis` and put them in `order`."""
    blocks = np.split(a, len(order), axis=axis)
    return np.concatenate([blocks[k] for k in order], axis=axis)


def _rnn_keras_to_torch(kernel, recurrent_kernel, bias, suffix):
    out = {f"weight_ih{suffix}": _copy(kernel.T), f"weight_hh{suffix}": _copy(recurrent_kernel.T)}
    if bias is not None:
        out[f"bias_ih{suffix}"] = _copy(bias)
        out[f"bias_hh{suffix}"] = np.zeros_like(bias)
    return out


def _rnn_torch_to_keras(weight_ih, weight_hh, bias_ih, bias_hh, gradients):
    weights = [_copy(weight_ih.T), _copy(weight_hh.T)]
    if bias_ih is not None:
        # Keras' bias b is PyTorch's (bias_ih = b, bias_hh = 0), so dL/db = dL/dbias_ih, which equals
        # dL/dbias_hh: the sum of the two gradients would be twice the gradient.
        one_bias = gradients or bias_hh is None
        weights.append(_copy(bias_ih if one_bias else bias_ih + bias_hh))
    return weights


def simple_rnn_keras_to_torch(kernel, recurrent_kernel, bias=None, suffix="_l0"):
    """Keras SimpleRNN [kernel (I, H), recurrent_kernel (H, H), bias (H,)] -> nn.RNN state dict."""
    return _rnn_keras_to_torch(kernel, recurrent_kernel, bias, suffix)


def simple_rnn_torch_to_keras(weight_ih, weight_hh, bias_ih=None, bias_hh=None, gradients=False):
    """nn.RNN weight_ih (H, I), weight_hh (H, H), bias_ih, bias_hh (H,) -> [kernel, recurrent_kernel, bias].

    gradients=True converts PyTorch's gradients of these instead: the bias gradient is then
    bias_ih's (= bias_hh's), not the sum that converts the weights.
    """
    return _rnn_torch_to_keras(weight_ih, weight_hh, bias_ih, bias_hh, gradients)


def lstm_keras_to_torch(kernel, recurrent_kernel, bias=None, suffix="_l0"):
    """Keras LSTM [kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H,)] -> nn.LSTM state dict."""
    return _rnn_keras_to_torch(kernel, recurrent_kernel, bias, suffix)


def lstm_torch_to_keras(weight_ih, weight_hh, bias_ih=None, bias_hh=None, gradients=False):
    """nn.LSTM weight_ih (4H, I), weight_hh (4H, H), bias_ih, bias_hh (4H,) -> [kernel, recurrent_kernel, bias].

    gradients=True converts PyTorch's gradients of these instead: the bias gradient is then
    bias_ih's (= bias_hh's), not the sum that converts the weights.
    """
    return _rnn_torch_to_keras(weight_ih, weight_hh, bias_ih, bias_hh, gradients)


def gru_keras_to_torch(kernel, recurrent_kernel, bias=None, suffix="_l0"):
    """Keras GRU (reset_after=True) [kernel (I, 3H), recurrent_kernel (H, 3H), bias (2, 3H)] -> nn.GRU state dict."""
    if bias is not None and np.ndim(bias) != 2:
        raise ValueError(
            f"gru_keras_to_torch expects Keras' reset_after=True bias of shape (2, 3H), got shape "
            f"{np.shape(bias)}: a (3H,) bias is reset_after=False, which PyTorch's nn.GRU does not implement."
        )
    out = {
        f"weight_ih{suffix}": _copy(_reorder_blocks(kernel, _GRU_KERAS_TO_TORCH, axis=1).T),
        f"weight_hh{suffix}": _copy(_reorder_blocks(recurrent_kernel, _GRU_KERAS_TO_TORCH, axis=1).T),
    }
    if bias is not None:
        out[f"bias_ih{suffix}"] = _copy(_reorder_blocks(bias[0], _GRU_KERAS_TO_TORCH, axis=0))
        out[f"bias_hh{suffix}"] = _copy(_reorder_blocks(bias[1], _GRU_KERAS_TO_TORCH, axis=0))
    return out


def gru_torch_to_keras(weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """nn.GRU weight_ih (3H, I), weight_hh (3H, H), bias_ih, bias_hh (3H,)
    -> Keras GRU (reset_after=True) [kernel (I, 3H), recurrent_kernel (H, 3H), bias (2, 3H)]."""
    weights = [
        _copy(_reorder_blocks(weight_ih, _GRU_KERAS_TO_TORCH, axis=0).T),
        _copy(_reorder_blocks(weight_hh, _GRU_KERAS_TO_TORCH, axis=0).T),
    ]
    if bias_ih is not None:
        bias_hh = np.zeros_like(bias_ih) if bias_hh is None else bias_hh
        weights.append(np.stack([_reorder_blocks(bias_ih, _GRU_KERAS_TO_TORCH, axis=0),
                                 _reorder_blocks(bias_hh, _GRU_KERAS_TO_TORCH, axis=0)]))
    return weights


def dense_keras_to_torch(kernel, bias=None):
    """Keras Dense [kernel (I, U), bias (U,)] -> nn.Linear state dict {weight (U, I), bias (U,)}."""
    out = {"weight": _copy(kernel.T)}
    if bias is not None:
        out["bias"] = _copy(bias)
    return out


def dense_torch_to_keras(weight, bias=None):
    """nn.Linear weight (U, I), bias (U,) -> Keras Dense [kernel (I, U), bias (U,)]."""
    return [_copy(weight.T)] if bias is None else [_copy(weight.T), _copy(bias)]
