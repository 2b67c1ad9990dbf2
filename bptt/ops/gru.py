"""GRU: the reference forward pass and backpropagation through time.

Letters: T time, B batch, H units. Arrays are time-major, so xw[t] is a contiguous slice.
Gates in Keras' order z, r, h: column block k of xw, of U and of the biases belongs to gate k.

The cell (Keras' GRUCell), for t = 1..T, with σ = recurrent_activation (sigmoid),
act = activation (tanh), U = recurrent_kernel (H, 3H), xw_t = x_t @ kernel + input bias (by the
layer; with reset_after=False that is the whole (3H,) bias, with reset_after=True Keras' bias[0]):

  reset_after=True (Keras' default, cuDNN's and PyTorch's GRU):
    rec_t = (h_{t-1} * m) @ U + recurrent_bias      (B, 3H)  [rec_z, rec_r, rec_h]; recurrent_bias = bias[1]
    z_t = σ(xz_t + rec_z)    r_t = σ(xr_t + rec_r)
    hh_t = act(xh_t + r_t * rec_h)
  reset_after=False (recurrent_bias is None):
    z_t = σ(xz_t + (h_{t-1} * m_z) @ U_z)    r_t = σ(xr_t + (h_{t-1} * m_r) @ U_r)
    hh_t = act(xh_t + (r_t * h_{t-1} * m_h) @ U_h)
  both:
    h_t = z_t * h_{t-1} + (1 - z_t) * hh_t

Recurrent dropout, m: None, one (B, H) mask for all three gates, or one per gate (3, B, H)
[m_z, m_r, m_h]. Keras 3 (since 3.8, PR #20656) draws three independent masks and applies them
only where h_{t-1} meets U:

    h_tm1_z = h_tm1 * rec_dp_mask[0]; h_tm1_r = h_tm1 * rec_dp_mask[1]; h_tm1_h = h_tm1 * rec_dp_mask[2]
    recurrent_h = ops.matmul(r * h_tm1_h, self.recurrent_kernel[:, self.units * 2:])   # reset_after=False
    h = z * h_tm1 + (1 - z) * hh                                                        # plain h_tm1

(keras/src/layers/rnn/gru.py, GRUCell.call), so the plain, unmasked h_{t-1} enters the final
mix, as here. Keras 3.0 to 3.7 masked h_tm1 itself, mix included: that is not reproduced.

Masking: Keras' rule, written once in bptt/ops/simple_rnn.py; h is held at a masked step, the
output repeats the last output (zeros before a row's first real step).
"""
from typing import NamedTuple

import numpy as np

from bptt.ops import activations
from bptt.ops.simple_rnn import (mask_hold_backward, mask_scan, mask_scan_backward, recurrent_matmul,
                                 recurrent_matmul_backward)


class GRUStepCache(NamedTuple):
    h_prev: np.ndarray  # (B, H)
    gates: np.ndarray  # (B, 3H) [z, r, hh] after their activations
    recurrent_h: np.ndarray  # (B, H) rec_h = (h_prev * m_h) @ U_h + b_h; None if not reset_after
    recurrent_kernel: np.ndarray  # (H, 3H)
    recurrent_mask: np.ndarray  # (B, H), (3, B, H) or None
    reset_after: bool
    activation: str
    recurrent_activation: str


class GRUCache(NamedTuple):
    h0: np.ndarray  # (B, H)
    hs: np.ndarray  # (T, B, H) the state after each step (held at masked steps)
    gates: np.ndarray  # (T, B, 3H)
    recurrent_hs: np.ndarray  # (T, B, H) rec_h per step; None if not reset_after
    recurrent_kernel: np.ndarray  # (H, 3H)
    recurrent_mask: np.ndarray  # (B, H), (3, B, H) or None
    reset_after: bool
    activation: str
    recurrent_activation: str
    mask: np.ndarray = None  # (T, B) bool, True at a real step; None: every step is real


def _split_mask(recurrent_mask):
    """(mask for the z and r blocks, mask m_h for the h block); each None, (B, H) or (2, B, H)."""
    if recurrent_mask is None or recurrent_mask.ndim == 2:
        return recurrent_mask, recurrent_mask
    return recurrent_mask[:2], recurrent_mask[2]


def gru_step_forward(xw_t, h_prev, recurrent_kernel, recurrent_bias, reset_after=True, activation="tanh",
                     recurrent_activation="sigmoid", recurrent_mask=None):
    """One step: xw_t (B, 3H), h_prev (B, H) -> (h (B, H), step_cache)."""
    H = h_prev.shape[1]
    gates = np.empty_like(xw_t)  # (B, 3H)
    if reset_after:
        rec = recurrent_matmul(h_prev, recurrent_kernel, recurrent_mask)  # (B, 3H)
        if recurrent_bias is not None:  # None when use_bias=False
            rec = rec + recurrent_bias
        gates[:, :2 * H] = activations.apply(recurrent_activation, xw_t[:, :2 * H] + rec[:, :2 * H])
        recurrent_h = rec[:, 2 * H:]  # (B, H)
        r = gates[:, H:2 * H]
        gates[:, 2 * H:] = activations.apply(activation, xw_t[:, 2 * H:] + r * recurrent_h)
    else:
        mask_zr, mask_h = _split_mask(recurrent_mask)
        rec_zr = recurrent_matmul(h_prev, recurrent_kernel[:, :2 * H], mask_zr)  # (B, 2H)
        gates[:, :2 * H] = activations.apply(recurrent_activation, xw_t[:, :2 * H] + rec_zr)
        recurrent_h = None
        rh = gates[:, H:2 * H] * h_prev  # (B, H) r * h_prev, the reset applied before U_h
        if mask_h is not None:
            rh = rh * mask_h
        gates[:, 2 * H:] = activations.apply(activation, xw_t[:, 2 * H:] + rh @ recurrent_kernel[:, 2 * H:])
    z, hh = gates[:, :H], gates[:, 2 * H:]
    h = z * h_prev + (1 - z) * hh  # (B, H)
    cache = GRUStepCache(h_prev, gates, recurrent_h, recurrent_kernel, recurrent_mask, reset_after,
                         activation, recurrent_activation)
    return h, cache


def gru_step_backward(dh, cache):
    """dh (B, H) = dL/dh_t -> (dxw_t (B, 3H), dh_prev (B, H), drecurrent_kernel_t (H, 3H),
    drecurrent_bias_t (3H,) or None)."""
    H = dh.shape[1]
    h_prev, gates = cache.h_prev, cache.gates
    z, r, hh = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dz = dh * (h_prev - hh)  # h = z * h_prev + (1 - z) * hh
    dh_prev = dh * z
    dhh = dh * (1 - z)
    da = np.empty_like(gates)  # (B, 3H) dL/d(pre-activations), which is also dxw_t
    da[:, 2 * H:] = activations.backward(cache.activation, dhh, hh)  # hh = act(a_h)
    da_h = da[:, 2 * H:]
    if cache.reset_after:
        dr = da_h * cache.recurrent_h  # a_h = xh + r * rec_h
        da[:, :H] = activations.backward(cache.recurrent_activation, dz, z)
        da[:, H:2 * H] = activations.backward(cache.recurrent_activation, dr, r)
        drec = da.copy()  # (B, 3H) dL/drec: z and r blocks as da, the h block through r
        drec[:, 2 * H:] = da_h * r
        drecurrent_bias_t = drec.sum(axis=0)  # rec = (h_prev * m) @ U + recurrent_bias
        dh_prev_rec, drecurrent_kernel_t = recurrent_matmul_backward(
            drec, h_prev, cache.recurrent_kernel, cache.recurrent_mask
        )
        dh_prev += dh_prev_rec
    else:
        mask_zr, mask_h = _split_mask(cache.recurrent_mask)
        m_h = 1 if mask_h is None else mask_h
        rh = r * h_prev * m_h  # (B, H) as in the forward
        drh = da_h @ cache.recurrent_kernel[:, 2 * H:].T  # a_h = xh + rh @ U_h
        dr = drh * h_prev * m_h  # rh = r * h_prev * m_h
        dh_prev += drh * r * m_h
        da[:, :H] = activations.backward(cache.recurrent_activation, dz, z)
        da[:, H:2 * H] = activations.backward(cache.recurrent_activation, dr, r)
        dh_prev_zr, drecurrent_kernel_zr = recurrent_matmul_backward(
            da[:, :2 * H], h_prev, cache.recurrent_kernel[:, :2 * H], mask_zr
        )
        dh_prev += dh_prev_zr
        drecurrent_kernel_t = np.concatenate([drecurrent_kernel_zr, rh.T @ da_h], axis=1)  # (H, 3H)
        drecurrent_bias_t = None
    dxw_t = da  # a = xw_t + recurrent terms
    return dxw_t, dh_prev, drecurrent_kernel_t, drecurrent_bias_t


def gru_forward(xw, recurrent_kernel, recurrent_bias, h0, reset_after=True, activation="tanh",
                recurrent_activation="sigmoid", recurrent_mask=None, mask=None):
    """xw (T, B, 3H), recurrent_kernel (H, 3H), recurrent_bias (3H,) or None, h0 (B, H),
    mask (T, B) bool or None -> (hs (T, B, H) the outputs, h_last (B, H) the last state, cache).

    recurrent_bias is None with reset_after=False (all of the bias is in xw) or use_bias=False.
    """
    T, B, H3 = xw.shape
    H = H3 // 3
    hs = np.empty((T, B, H), dtype=xw.dtype)  # (T, B, H)
    gates = np.empty((T, B, 3 * H), dtype=xw.dtype)  # (T, B, 3H)
    recurrent_hs = np.empty((T, B, H), dtype=xw.dtype) if reset_after else None  # (T, B, H)
    if mask is not None:
        outputs = np.empty((T, B, H), dtype=xw.dtype)  # (T, B, H) Keras' masked outputs
        output = np.zeros((B, H), dtype=xw.dtype)  # (B, H) output_{-1}
    h = h0
    for t in range(T):
        h_new, step = gru_step_forward(xw[t], h, recurrent_kernel, recurrent_bias, reset_after, activation,
                                       recurrent_activation, recurrent_mask)
        if mask is None:
            h = h_new
        else:
            (h,), output = mask_scan(mask[t], (h_new,), (h,), h_new, output)
            outputs[t] = output
        hs[t], gates[t] = h, step.gates
        if reset_after:
            recurrent_hs[t] = step.recurrent_h
    cache = GRUCache(h0, hs, gates, recurrent_hs, recurrent_kernel, recurrent_mask, reset_after,
                     activation, recurrent_activation, mask)
    return (hs if mask is None else outputs), hs[-1], cache


def gru_step_cache(cache, t):
    """The step cache of step t, rebuilt from the whole-sequence cache."""
    h_prev = cache.h0 if t == 0 else cache.hs[t - 1]
    recurrent_h = cache.recurrent_hs[t] if cache.reset_after else None
    return GRUStepCache(h_prev, cache.gates[t], recurrent_h, cache.recurrent_kernel, cache.recurrent_mask,
                        cache.reset_after, cache.activation, cache.recurrent_activation)


def gru_backward(dhs, dh_last, cache, record=None):
    """dhs (T, B, H) or None, dh_last (B, H) or None
    -> (dxw (T, B, 3H), drecurrent_kernel (H, 3H), drecurrent_bias (3H,) or None, dh0 (B, H)).

    record: None, or record(t, dh) at every step, dh = dL/dh_t as in simple_rnn_backward."""
    T, B, H = cache.hs.shape
    dtype = cache.hs.dtype
    dxw = np.empty((T, B, 3 * H), dtype=dtype)  # (T, B, 3H)
    drecurrent_kernel = np.zeros_like(cache.recurrent_kernel)  # (H, 3H)
    drecurrent_bias = np.zeros(3 * H, dtype=dtype) if cache.reset_after else None  # (3H,)
    dh = np.zeros((B, H), dtype=dtype) if dh_last is None else dh_last.copy()  # dL/dh_t
    if cache.mask is not None:
        return _masked_backward(dhs, dh, cache, dxw, drecurrent_kernel, drecurrent_bias, record)
    for t in reversed(range(T)):
        if dhs is not None:
            dh = dh + dhs[t]  # h_t is both an output and the next step's input
        if record is not None:
            record(t, dh)
        dxw[t], dh, drecurrent_kernel_t, drecurrent_bias_t = gru_step_backward(dh, gru_step_cache(cache, t))
        drecurrent_kernel += drecurrent_kernel_t
        if cache.reset_after:
            drecurrent_bias += drecurrent_bias_t
    return dxw, drecurrent_kernel, drecurrent_bias, dh


def _masked_backward(dhs, dh, cache, dxw, drecurrent_kernel, drecurrent_bias, record=None):
    """gru_backward through Keras' masked steps (see bptt/ops/simple_rnn.py)."""
    doutput = np.zeros_like(dh)  # (B, H) dL/d(output_t) from the steps that repeat it
    for t in reversed(range(len(dxw))):
        if dhs is not None:
            doutput = doutput + dhs[t]
        (dh_new,), doutput = mask_scan_backward(cache.mask[t], [dh], doutput)
        if record is not None:
            record(t, dh_new)
        step = gru_step_cache(cache, t)
        dxw[t], dh_prev, drecurrent_kernel_t, drecurrent_bias_t = gru_step_backward(dh_new, step)
        (dh,) = mask_hold_backward(cache.mask[t], [dh_prev], [dh])
        drecurrent_kernel += drecurrent_kernel_t
        if cache.reset_after:
            drecurrent_bias += drecurrent_bias_t
    return dxw, drecurrent_kernel, drecurrent_bias, dh
