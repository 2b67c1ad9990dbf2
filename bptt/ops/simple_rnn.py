"""SimpleRNN: the reference forward pass and backpropagation through time.

Letters: T time, B batch, H units. Arrays are time-major, so xw[t] is a contiguous (B, H) slice.

The cell (Keras' SimpleRNNCell), for t = 1..T, with m the recurrent dropout mask (1 when None):

    h_t = act(xw_t + (h_{t-1} * m) @ U)        xw_t = x_t @ kernel + bias, computed by the layer

U is `recurrent_kernel` (H, H) and act is `activation`. Keras 3 multiplies the mask onto
`prev_output` just before `ops.matmul(prev_output, self.recurrent_kernel)`
(keras/src/layers/rnn/simple_rnn.py, SimpleRNNCell.call), so the mask only touches the
recurrent term, as here.

`recurrent_matmul` and `recurrent_matmul_backward` are this term for any cell: LSTM and GRU
import them, since their recurrent dropout is the same product with one mask per gate.

Masking (Keras' time loop, keras/src/backend/tensorflow/rnn.py), for all three cells. With a
boolean mask (T, B), True at a real step, in the order the loop reads the steps (already
reversed for go_backwards), the step is computed for every row and then

    state_t  = where(m_t, computed state, state_{t-1})        every state (h; c for the LSTM)
    output_t = where(m_t, computed h, output_{t-1})           output_{-1} = 0

so a masked step holds the states and repeats the last output; before a row's first real step
its output is zero while its state is still the initial state. The sequence returned is the
outputs, the last states are the held states. The backward runs the same rule in reverse:
the gradient of a held state passes a masked step unchanged, the gradient of a repeated output
flows back to the step whose output it repeats, and a masked step's xw gets none.
`mask_scan`, `mask_scan_backward` and `mask_hold_backward` are that rule for any cell.
"""
from typing import NamedTuple

import numpy as np

from bptt.ops import activations


class SimpleRNNStepCache(NamedTuple):
    h_prev: np.ndarray  # (B, H)
    h: np.ndarray  # (B, H) the step's output, from which act' is computed
    recurrent_kernel: np.ndarray  # (H, H)
    recurrent_mask: np.ndarray  # (B, H) or None
    activation: str


class SimpleRNNCache(NamedTuple):
    h0: np.ndarray  # (B, H)
    hs: np.ndarray  # (T, B, H) the state after each step (held at masked steps)
    recurrent_kernel: np.ndarray  # (H, H)
    recurrent_mask: np.ndarray  # (B, H) or None
    activation: str
    mask: np.ndarray = None  # (T, B) bool, True at a real step; None: every step is real


def recurrent_matmul(h_prev, recurrent_kernel, recurrent_mask):
    """(h_prev * m) @ U for a kernel of G gate blocks, U (H, G*H) -> (B, G*H).

    recurrent_mask is None, one (B, H) mask shared by every gate, or one mask per gate
    (G, B, H) as Keras 3 draws them for LSTM and GRU (`rec_dp_mask[0..G-1]`).
    """
    if recurrent_mask is None:
        return h_prev @ recurrent_kernel
    if recurrent_mask.ndim == 2:
        return (h_prev * recurrent_mask) @ recurrent_kernel
    H = h_prev.shape[1]
    return np.concatenate(
        [(h_prev * m) @ recurrent_kernel[:, g * H:(g + 1) * H] for g, m in enumerate(recurrent_mask)],
        axis=1,
    )


def recurrent_matmul_backward(da, h_prev, recurrent_kernel, recurrent_mask):
    """Given da = dL/d((h_prev * m) @ U) (B, G*H), return (dh_prev (B, H), drecurrent_kernel (H, G*H))."""
    if recurrent_mask is None:
        return da @ recurrent_kernel.T, h_prev.T @ da
    if recurrent_mask.ndim == 2:
        return (da @ recurrent_kernel.T) * recurrent_mask, (h_prev * recurrent_mask).T @ da
    H = h_prev.shape[1]
    dh_prev = np.zeros_like(h_prev)  # (B, H)
    drecurrent_kernel = np.empty_like(recurrent_kernel)  # (H, G*H)
    for g, m in enumerate(recurrent_mask):
        block = slice(g * H, (g + 1) * H)
        dh_prev += (da[:, block] @ recurrent_kernel[:, block].T) * m
        drecurrent_kernel[:, block] = (h_prev * m).T @ da[:, block]
    return dh_prev, drecurrent_kernel


def simple_rnn_step_forward(xw_t, h_prev, recurrent_kernel, activation="tanh", recurrent_mask=None):
    """One step: xw_t (B, H), h_prev (B, H) -> (h (B, H), step_cache)."""
    h = activations.apply(activation, xw_t + recurrent_matmul(h_prev, recurrent_kernel, recurrent_mask))
    return h, SimpleRNNStepCache(h_prev, h, recurrent_kernel, recurrent_mask, activation)


def simple_rnn_step_backward(dh, cache):
    """dh (B, H) = dL/dh_t -> (dxw_t (B, H), dh_prev (B, H), drecurrent_kernel_t (H, H))."""
    da = activations.backward(cache.activation, dh, cache.h)  # h = act(a)
    dxw_t = da  # a = xw_t + (h_prev * m) @ U
    dh_prev, drecurrent_kernel_t = recurrent_matmul_backward(
        da, cache.h_prev, cache.recurrent_kernel, cache.recurrent_mask
    )
    return dxw_t, dh_prev, drecurrent_kernel_t


def simple_rnn_forward(xw, recurrent_kernel, h0, activation="tanh", recurrent_mask=None, mask=None):
    """xw (T, B, H), recurrent_kernel (H, H), h0 (B, H), mask (T, B) bool or None
    -> (hs (T, B, H) the outputs, h_last (B, H) the last state, cache)."""
    T, B, H = xw.shape
    hs = np.empty((T, B, H), dtype=xw.dtype)  # (T, B, H)
    if mask is not None:
        outputs = np.empty((T, B, H), dtype=xw.dtype)  # (T, B, H) Keras' masked outputs
        output = np.zeros((B, H), dtype=xw.dtype)  # (B, H) output_{-1}
    h = h0
    for t in range(T):
        h_new, _ = simple_rnn_step_forward(xw[t], h, recurrent_kernel, activation, recurrent_mask)
        if mask is None:
            h = h_new
        else:
            (h,), output = mask_scan(mask[t], (h_new,), (h,), h_new, output)
            outputs[t] = output
        hs[t] = h
    cache = SimpleRNNCache(h0, hs, recurrent_kernel, recurrent_mask, activation, mask)
    return (hs if mask is None else outputs), hs[-1], cache


def mask_scan(mask_t, computed, previous, h_new, output_prev):
    """Keras' masked step: (states, output) = (computed where m_t else previous, h_new where m_t
    else output_prev); mask_t (B,) bool, states and outputs (B, H)."""
    m = mask_t[:, None]  # (B, 1)
    states = tuple(np.where(m, new, old) for new, old in zip(computed, previous))
    return states, np.where(m, h_new, output_prev)


def mask_scan_backward(mask_t, dstates, doutput):
    """The reverse of one masked step. dstates: dL/d(state_t) for each state (h first);
    doutput: dL/d(output_t), its own gradient plus what the later steps that repeat it sent back.
    -> (dcomputed: the gradients into the step's computed states, zero at masked rows;
        doutput_prev: what flows on to output_{t-1}, zero at real rows)."""
    m = mask_t[:, None]  # (B, 1)
    dcomputed = [np.where(m, ds, 0) for ds in dstates]
    dcomputed[0] = np.where(m, dstates[0] + doutput, 0)  # output_t is the computed h at a real step
    return dcomputed, np.where(m, 0, doutput)


def mask_hold_backward(mask_t, dprevious, dstates):
    """dL/d(state_{t-1}): through the step at real rows (dprevious), straight through a masked
    step (dstates, the gradients of the held state_t)."""
    m = mask_t[:, None]  # (B, 1)
    return [np.where(m, dp, ds) for dp, ds in zip(dprevious, dstates)]


def simple_rnn_step_cache(cache, t):
    """The step cache of step t, rebuilt from the whole-sequence cache. With a mask, cache.hs[t]
    is the computed h only at real rows, which are the only rows whose gradient is not zero."""
    h_prev = cache.h0 if t == 0 else cache.hs[t - 1]
    return SimpleRNNStepCache(h_prev, cache.hs[t], cache.recurrent_kernel, cache.recurrent_mask, cache.activation)


def simple_rnn_backward(dhs, dh_last, cache, record=None):
    """dhs (T, B, H) or None, dh_last (B, H) or None -> (dxw (T, B, H), drecurrent_kernel (H, H), dh0 (B, H)).

    record: None, or record(t, dh) called at every step with dh = dL/dh_t (B, H), the whole
    gradient reaching the state computed at step t (from the output at t and from step t+1;
    zero at a masked row): bptt.diagnostics reads the gradient through time with it."""
    T, B, H = cache.hs.shape
    dxw = np.empty((T, B, H), dtype=cache.hs.dtype)  # (T, B, H)
    drecurrent_kernel = np.zeros_like(cache.recurrent_kernel)  # (H, H)
    # dh: dL/dh_t from the future (and from the final state), carried backwards in time.
    dh = np.zeros((B, H), dtype=cache.hs.dtype) if dh_last is None else dh_last.copy()
    if cache.mask is not None:
        return _masked_backward(dhs, dh, cache, dxw, drecurrent_kernel, record)
    for t in reversed(range(T)):
        if dhs is not None:
            dh = dh + dhs[t]  # h_t is both an output and the next step's input
        if record is not None:
            record(t, dh)
        dxw[t], dh, drecurrent_kernel_t = simple_rnn_step_backward(dh, simple_rnn_step_cache(cache, t))
        drecurrent_kernel += drecurrent_kernel_t
    return dxw, drecurrent_kernel, dh


def _masked_backward(dhs, dh, cache, dxw, drecurrent_kernel, record=None):
    """simple_rnn_backward through Keras' masked steps (see the module docstring)."""
    doutput = np.zeros_like(dh)  # (B, H) dL/d(output_t) from the steps that repeat it
    for t in reversed(range(len(dxw))):
        if dhs is not None:
            doutput = doutput + dhs[t]
        (dh_new,), doutput = mask_scan_backward(cache.mask[t], [dh], doutput)
        if record is not None:
            record(t, dh_new)
        step = simple_rnn_step_cache(cache, t)
        dxw[t], dh_prev, drecurrent_kernel_t = simple_rnn_step_backward(dh_new, step)
        (dh,) = mask_hold_backward(cache.mask[t], [dh_prev], [dh])
        drecurrent_kernel += drecurrent_kernel_t
    return dxw, drecurrent_kernel, dh
