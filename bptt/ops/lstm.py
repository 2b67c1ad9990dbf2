"""LSTM: the reference forward pass and backpropagation through time.

Letters: T time, B batch, H units. Arrays are time-major, so xw[t] is a contiguous slice.
Gates in Keras' order i, f, c, o: column block k of xw and of U belongs to gate k.

The cell (Keras' LSTMCell), for t = 1..T, with σ = recurrent_activation (sigmoid),
act = activation (tanh), U = recurrent_kernel (H, 4H), xw_t = x_t @ kernel + bias (by the layer):

    a_t = xw_t + (h_{t-1} * m) @ U          (B, 4H) pre-activations  [a_i, a_f, a_c, a_o]
    i_t = σ(a_i)    f_t = σ(a_f)    g_t = act(a_c)    o_t = σ(a_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * act(c_t)

Recurrent dropout, m: None, one (B, H) mask for all four gates, or one mask per gate (4, B, H),
each multiplied onto h_{t-1} before that gate's block of U. Keras 3 (since 3.8, PR #20663)
draws four independent masks and applies them as

    h_tm1_i = h_tm1 * rec_dp_mask[0]  ...  h_tm1_o = h_tm1 * rec_dp_mask[3]
    i = self.recurrent_activation(x_i + ops.matmul(h_tm1_i, self.recurrent_kernel[:, :self.units]))

(keras/src/layers/rnn/lstm.py, LSTMCell.call and _compute_carry_and_output), so pass (4, B, H)
to match it. The mask never touches c_{t-1} or the output h_t.

The backward pass runs the same equations in reverse; dh and dc are the gradients flowing into
h_t and c_t from step t+1 (and from the last state), dhs[t] is added where h_t is an output.

Masking: Keras' rule, written once in bptt/ops/simple_rnn.py; both h and c are held at a
masked step, the output repeats the last output (zeros before a row's first real step).
"""
from typing import NamedTuple

import numpy as np

from bptt.ops import activations
from bptt.ops.simple_rnn import (mask_hold_backward, mask_scan, mask_scan_backward, recurrent_matmul,
                                 recurrent_matmul_backward)


class LSTMStepCache(NamedTuple):
    h_prev: np.ndarray  # (B, H)
    c_prev: np.ndarray  # (B, H)
    c: np.ndarray  # (B, H)
    gates: np.ndarray  # (B, 4H) [i, f, g, o] after their activations
    recurrent_kernel: np.ndarray  # (H, 4H)
    recurrent_mask: np.ndarray  # (B, H), (4, B, H) or None
    activation: str
    recurrent_activation: str


class LSTMCache(NamedTuple):
    h0: np.ndarray  # (B, H)
    c0: np.ndarray  # (B, H)
    hs: np.ndarray  # (T, B, H) the states after each step (held at masked steps)
    cs: np.ndarray  # (T, B, H)
    gates: np.ndarray  # (T, B, 4H) as computed, masked steps too
    recurrent_kernel: np.ndarray  # (H, 4H)
    recurrent_mask: np.ndarray  # (B, H), (4, B, H) or None
    activation: str
    recurrent_activation: str
    mask: np.ndarray = None  # (T, B) bool, True at a real step; None: every step is real


def lstm_step_forward(xw_t, h_prev, c_prev, recurrent_kernel, activation="tanh",
                      recurrent_activation="sigmoid", recurrent_mask=None):
    """One step: xw_t (B, 4H), h_prev (B, H), c_prev (B, H) -> (h, c, step_cache)."""
    H = h_prev.shape[1]
    a = xw_t + recurrent_matmul(h_prev, recurrent_kernel, recurrent_mask)  # (B, 4H)
    gates = np.empty_like(a)  # (B, 4H)
    gates[:, :2 * H] = activations.apply(recurrent_activation, a[:, :2 * H])  # i, f
    gates[:, 2 * H:3 * H] = activations.apply(activation, a[:, 2 * H:3 * H])  # g
    gates[:, 3 * H:] = activations.apply(recurrent_activation, a[:, 3 * H:])  # o
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    c = f * c_prev + i * g  # (B, H)
    h = o * activations.apply(activation, c)  # (B, H)
    cache = LSTMStepCache(h_prev, c_prev, c, gates, recurrent_kernel, recurrent_mask,
                          activation, recurrent_activation)
    return h, c, cache


def lstm_step_backward(dh, dc, cache, record=None):
    """dh (B, H) = dL/dh_t, dc (B, H) = dL/dc_t from step t+1 only
    -> (dxw_t (B, 4H), dh_prev, dc_prev, drecurrent_kernel_t).

    record: None, or record(dh, dc) called with dh and the whole dL/dc_t, which adds the path
    through h_t = o_t * act(c_t) to the one from c_{t+1}."""
    H = dh.shape[1]
    gates = cache.gates
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    act_c = activations.apply(cache.activation, cache.c)  # (B, H) recomputed, as in the forward
    do = dh * act_c  # h = o * act(c)
    dc = dc + activations.backward(cache.activation, dh * o, act_c)  # h = o * act(c)
    if record is not None:
        record(dh, dc)
    di = dc * g  # c = f * c_prev + i * g
    df = dc * cache.c_prev
    dg = dc * i
    dc_prev = dc * f
    da = np.empty_like(gates)  # (B, 4H) dL/da, back through each gate's activation
    da[:, :H] = activations.backward(cache.recurrent_activation, di, i)
    da[:, H:2 * H] = activations.backward(cache.recurrent_activation, df, f)
    da[:, 2 * H:3 * H] = activations.backward(cache.activation, dg, g)
    da[:, 3 * H:] = activations.backward(cache.recurrent_activation, do, o)
    dxw_t = da  # a = xw_t + (h_prev * m) @ U
    dh_prev, drecurrent_kernel_t = recurrent_matmul_backward(
        da, cache.h_prev, cache.recurrent_kernel, cache.recurrent_mask
    )
    return dxw_t, dh_prev, dc_prev, drecurrent_kernel_t


def lstm_forward(xw, recurrent_kernel, h0, c0, activation="tanh", recurrent_activation="sigmoid",
                 recurrent_mask=None, mask=None):
    """xw (T, B, 4H), recurrent_kernel (H, 4H), h0, c0 (B, H), mask (T, B) bool or None
    -> (hs (T, B, H) the outputs, (h_last, c_last) the last states, cache)."""
    T, B, H4 = xw.shape
    H = H4 // 4
    hs = np.empty((T, B, H), dtype=xw.dtype)  # (T, B, H)
    cs = np.empty((T, B, H), dtype=xw.dtype)  # (T, B, H)
    gates = np.empty((T, B, 4 * H), dtype=xw.dtype)  # (T, B, 4H)
    if mask is not None:
        outputs = np.empty((T, B, H), dtype=xw.dtype)  # (T, B, H) Keras' masked outputs
        output = np.zeros((B, H), dtype=xw.dtype)  # (B, H) output_{-1}
    h, c = h0, c0
    for t in range(T):
        h_new, c_new, step = lstm_step_forward(xw[t], h, c, recurrent_kernel, activation,
                                               recurrent_activation, recurrent_mask)
        if mask is None:
            h, c = h_new, c_new
        else:
            (h, c), output = mask_scan(mask[t], (h_new, c_new), (h, c), h_new, output)
            outputs[t] = output
        hs[t], cs[t], gates[t] = h, c, step.gates
    cache = LSTMCache(h0, c0, hs, cs, gates, recurrent_kernel, recurrent_mask,
                      activation, recurrent_activation, mask)
    return (hs if mask is None else outputs), (hs[-1], cs[-1]), cache


def lstm_step_cache(cache, t):
    """The step cache of step t, rebuilt from the whole-sequence cache. With a mask, cache.cs[t]
    is the computed c only at real rows, which are the only rows whose gradient is not zero."""
    h_prev = cache.h0 if t == 0 else cache.hs[t - 1]
    c_prev = cache.c0 if t == 0 else cache.cs[t - 1]
    return LSTMStepCache(h_prev, c_prev, cache.cs[t], cache.gates[t], cache.recurrent_kernel,
                         cache.recurrent_mask, cache.activation, cache.recurrent_activation)


def lstm_backward(dhs, dh_last, dc_last, cache, record=None):
    """dhs (T, B, H) or None, dh_last, dc_last (B, H) or None -> (dxw, drecurrent_kernel, dh0, dc0).

    record: None, or record(t, dh, dc) called at every step with dh = dL/dh_t and dc = dL/dc_t
    (B, H), the whole gradients reaching the states computed at step t (h_t: from the output at
    t and from step t+1; c_t: from c_{t+1} and through h_t; zero at a masked row):
    bptt.diagnostics reads the gradient through time with it."""
    T, B, H = cache.hs.shape
    dtype = cache.hs.dtype
    dxw = np.empty((T, B, 4 * H), dtype=dtype)  # (T, B, 4H)
    drecurrent_kernel = np.zeros_like(cache.recurrent_kernel)  # (H, 4H)
    dh = np.zeros((B, H), dtype=dtype) if dh_last is None else dh_last.copy()  # dL/dh_t
    dc = np.zeros((B, H), dtype=dtype) if dc_last is None else dc_last.copy()  # dL/dc_t
    if cache.mask is not None:
        return _masked_backward(dhs, dh, dc, cache, dxw, drecurrent_kernel, record)
    for t in reversed(range(T)):
        if dhs is not None:
            dh = dh + dhs[t]  # h_t is both an output and the next step's input
        dxw[t], dh, dc, drecurrent_kernel_t = lstm_step_backward(dh, dc, lstm_step_cache(cache, t),
                                                                 _at_step(record, t))
        drecurrent_kernel += drecurrent_kernel_t
    return dxw, drecurrent_kernel, dh, dc


def _at_step(record, t):
    """record(t, dh, dc) as the record(dh, dc) of lstm_step_backward, or None."""
    return None if record is None else (lambda dh, dc: record(t, dh, dc))


def _masked_backward(dhs, dh, dc, cache, dxw, drecurrent_kernel, record=None):
    """lstm_backward through Keras' masked steps (see bptt/ops/simple_rnn.py)."""
    doutput = np.zeros_like(dh)  # (B, H) dL/d(output_t) from the steps that repeat it
    for t in reversed(range(len(dxw))):
        if dhs is not None:
            doutput = doutput + dhs[t]
        (dh_new, dc_new), doutput = mask_scan_backward(cache.mask[t], [dh, dc], doutput)
        dxw[t], dh_prev, dc_prev, drecurrent_kernel_t = lstm_step_backward(
            dh_new, dc_new, lstm_step_cache(cache, t), _at_step(record, t))
        dh, dc = mask_hold_backward(cache.mask[t], [dh_prev, dc_prev], [dh, dc])
        drecurrent_kernel += drecurrent_kernel_t
    return dxw, drecurrent_kernel, dh, dc
