"""SimpleRNN, fused: the whole time loop of bptt.ops.simple_rnn.simple_rnn_forward /
simple_rnn_backward compiled into one Numba function each way. Must equal that reference
(tests/kernels/test_simple_rnn.py), whose docstring has the equations; in short, with m the
recurrent mask:

    h_t = act(xw_t + (h_{t-1} * m) @ U)

Letters: T time, B batch, H units. Per step: one (B, H) @ (H, H) GEMM forward and one backward,
and one loop over the (B, H) elements. drecurrent_kernel is one GEMM after the loop. The compiled
loops take a range of batch rows [b0, b1) (see _common.run_rows).

Supported: activation "tanh" or "relu"; anything else runs the reference (see `supports`).
"""
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from bptt.kernels._common import (
    JIT_OPTIONS, as_dtype, mask_blocks, recurrent_kernel_grad, run_rows, tanh,
)

_ACTIVATIONS = {"tanh": 0, "relu": 1}  # the activation's code inside the compiled loops


def supports(activation="tanh", **other):
    """Whether this kernel computes the cell with these options (else the reference runs)."""
    return activation in _ACTIVATIONS and not other


class SimpleRNNKernelCache(NamedTuple):
    h0: np.ndarray  # (B, H)
    hs: np.ndarray  # (T, B, H)
    recurrent_kernel: np.ndarray  # (H, H)
    masks: np.ndarray  # (M, B, H): M = 0 no mask, 1 a mask
    activation: int  # code in _ACTIVATIONS


@njit(**JIT_OPTIONS)
def _forward_rows(xw, recurrent_kernel, h0, masks, activation, hs, b0, b1):
    """Batch rows b0..b1-1 through all T steps (rows never meet: see _common.run_rows)."""
    T, B, H = xw.shape
    R = b1 - b0
    zero = xw.dtype.type(0)
    a = np.empty((R, H), xw.dtype)  # (R, H) (h_{t-1} * m) @ U for these rows
    hm = np.empty((R, H), xw.dtype)  # (R, H) h_{t-1} * m
    for t in range(T):
        h_prev = h0 if t == 0 else hs[t - 1]  # (B, H)
        if masks.shape[0]:
            for k in range(R):
                for j in range(H):
                    hm[k, j] = h_prev[b0 + k, j] * masks[0, b0 + k, j]
            np.dot(hm, recurrent_kernel, a)
        else:
            np.dot(h_prev[b0:b1], recurrent_kernel, a)
        x, h = xw[t], hs[t]
        if activation == 0:
            for k in range(R):
                for j in range(H):
                    h[b0 + k, j] = tanh(x[b0 + k, j] + a[k, j])
        else:
            for k in range(R):
                for j in range(H):
                    h[b0 + k, j] = max(x[b0 + k, j] + a[k, j], zero)


@njit(parallel=True, **JIT_OPTIONS)
def _forward_rows_split(bounds, xw, recurrent_kernel, h0, masks, activation, hs):
    """_forward_rows for each range of rows, as one parallel region (_common.run_rows)."""
    for part in prange(bounds.shape[0] - 1):
        _forward_rows(xw, recurrent_kernel, h0, masks, activation, hs, bounds[part], bounds[part + 1])


@njit(**JIT_OPTIONS)
def _backward_rows(dhs, dh, hs, recurrent_kernel_t, masks, activation, dxw, b0, b1):
    """Batch rows b0..b1-1 backwards through all T steps. dh (B, H) comes in as dL/dh_T and
    leaves as dL/dh_0 (rows b0..b1-1 only). recurrent_kernel_t is U^T as a contiguous copy (see
    lstm._backward_rows)."""
    T, B, H = dxw.shape
    one, zero = dxw.dtype.type(1), dxw.dtype.type(0)
    dh_rows = dh[b0:b1]  # (R, H) a view
    for t in range(T - 1, -1, -1):
        if dhs.shape[0]:
            for b in range(b0, b1):
                for j in range(H):
                    dh[b, j] += dhs[t, b, j]  # h_t is both an output and the next step's input
        h, da = hs[t], dxw[t]
        if activation == 0:
            for b in range(b0, b1):
                for j in range(H):
                    da[b, j] = dh[b, j] * (one - h[b, j] * h[b, j])  # tanh' = 1 - h^2
        else:
            for b in range(b0, b1):
                for j in range(H):
                    da[b, j] = dh[b, j] if h[b, j] > zero else zero  # relu' = [h > 0]
        np.dot(da[b0:b1], recurrent_kernel_t, dh_rows)  # dh_{t-1} = (da @ U^T) * m
        if masks.shape[0]:
            for b in range(b0, b1):
                for j in range(H):
                    dh[b, j] *= masks[0, b, j]


@njit(parallel=True, **JIT_OPTIONS)
def _backward_rows_split(bounds, dhs, dh, hs, recurrent_kernel_t, masks, activation, dxw):
    """_backward_rows for each range of rows, as one parallel region (_common.run_rows)."""
    for part in prange(bounds.shape[0] - 1):
        _backward_rows(dhs, dh, hs, recurrent_kernel_t, masks, activation, dxw, bounds[part],
                       bounds[part + 1])


def simple_rnn_forward(xw, recurrent_kernel, h0, activation="tanh", recurrent_mask=None):
    """xw (T, B, H), recurrent_kernel (H, H), h0 (B, H) -> (hs (T, B, H), h_last (B, H), cache)."""
    dtype = xw.dtype
    T, B, H = xw.shape
    xw = as_dtype(xw, dtype)
    recurrent_kernel = as_dtype(recurrent_kernel, dtype)
    h0 = as_dtype(h0, dtype)
    masks = mask_blocks(recurrent_mask, B, H, dtype)  # (M, B, H)
    code = _ACTIVATIONS[activation]
    hs = np.empty((T, B, H), dtype)  # (T, B, H)
    run_rows(_forward_rows, B, xw, recurrent_kernel, h0, masks, code, hs, split=_forward_rows_split)
    return hs, hs[-1], SimpleRNNKernelCache(h0, hs, recurrent_kernel, masks, code)


def simple_rnn_backward(dhs, dh_last, cache):
    """dhs (T, B, H) or None, dh_last (B, H) or None -> (dxw (T, B, H), drecurrent_kernel (H, H), dh0 (B, H))."""
    T, B, H = cache.hs.shape
    dtype = cache.hs.dtype
    dhs = np.empty((0, B, H), dtype) if dhs is None else as_dtype(dhs, dtype)
    dh = np.zeros((B, H), dtype) if dh_last is None else np.array(dh_last, dtype=dtype)  # (B, H) copy
    dxw = np.empty((T, B, H), dtype)  # (T, B, H)
    recurrent_kernel_t = np.ascontiguousarray(cache.recurrent_kernel.T)  # (H, H)
    run_rows(_backward_rows, B, dhs, dh, cache.hs, recurrent_kernel_t, cache.masks, cache.activation, dxw,
             split=_backward_rows_split)
    drecurrent_kernel = recurrent_kernel_grad(cache.h0, cache.hs, dxw, cache.masks)  # (H, H)
    return dxw, drecurrent_kernel, dh
