"""SimpleRNN, fused: the whole time loop of bptt.ops.simple_rnn.simple_rnn_forward /
simple_rnn_backward compiled into one Numba function each way. Must equal that reference
(tests/kernels/test_simple_rnn.py), whose docstring has the equations; in short, with m the
recurrent mask:

    h_t = act(xw_t + (h_{t-1} * m) @ U)

Letters: T time, B batch, H units. Per step: one (B, H) @ (H, H) GEMM forward and one backward,
and one loop over the (B, H) elements. drecurrent_kernel is one GEMM after the loop. The compiled
loops take a range of batch rows [b0, b1) (see _common.run_rows).

Masking (mask (T, B) bool, Keras' rule of bptt.ops.simple_rnn, the same for all three cells):
the mask is read inside the same time loops, row by row. At a masked row the step is skipped:
the states are copied from the step before (the GEMM still runs over all rows of the range), and
the backward writes zeros into dxw and leaves the state gradients as they are; a repeated
output's gradient waits in `doutput` until the real step whose output it repeats (see
`take_output_grads`). Outputs differ from the states only before a row's first real step (zeros
there, the state is h0), so with h0 all zero (the usual case) the states are the outputs and no
second (T, B, H) array is written (`outputs_buffer`). The helpers here serve LSTM and GRU too
(numba's cache caveat in _common applies: after editing them, delete
bptt/kernels/__pycache__/*.nb[ic]).
mask=None runs the same loops with an empty (0, 0) mask and takes none of those branches.

Supported: activation "tanh" or "relu"; anything else runs the reference (see `supports`).
"""
from typing import NamedTuple

import numpy as np
from numba import njit

from bptt.kernels._common import (
    JIT_OPTIONS, as_dtype, mask_blocks, recurrent_kernel_grad, run_rows, tanh,
)
from bptt.kernels.step_product import backward_kernels, copy_transposed, step_kernel

_ACTIVATIONS = {"tanh": 0, "relu": 1}  # the activation's code inside the compiled loops


def supports(activation="tanh", **other):
    """Whether this kernel computes the cell with these options (else the reference runs)."""
    return activation in _ACTIVATIONS and not other


class SimpleRNNKernelCache(NamedTuple):
    h0: np.ndarray  # (B, H)
    hs: np.ndarray  # (T, B, H) the state after each step (held at masked steps)
    recurrent_kernel: np.ndarray  # (H, H)
    masks: np.ndarray  # (M, B, H): M = 0 no mask, 1 a mask
    activation: int  # code in _ACTIVATIONS
    mask: np.ndarray = None  # (T, B) bool, True at a real step; None: every step is real


# --- Keras' masked steps, for every cell's compiled loops -----------------------------------------

NO_MASK = np.zeros((0, 0), np.bool_)  # what the compiled loops get for mask=None


def output_grad_buffer(mask, B, H, dtype):
    """doutput, the pending gradient of each row's last output (zeros), where there is a mask."""
    return np.zeros((B, H) if mask is not None else (0, H), dtype)


def loop_mask(mask):
    """The (T, B) mask as the compiled loops take it: C-contiguous bool, NO_MASK for None."""
    return NO_MASK if mask is None else np.ascontiguousarray(mask, dtype=np.bool_)


def outputs_buffer(mask, h0, hs):
    """Where the forward writes Keras' outputs: `hs` itself when they are the states (no mask,
    or every initial h zero), else a (T, B, H) array of their own; (0, B, H) means hs."""
    T, B, H = hs.shape
    if mask is None or not h0.any():
        return np.empty((0, B, H), hs.dtype)
    return np.empty((T, B, H), hs.dtype)


@njit(inline="always", **JIT_OPTIONS)
def write_outputs(mask, t, hs, outputs, b0, b1):
    """outputs[t] for rows b0..b1-1: h_t at a real row, else the output before it (zeros before
    a row's first real step), as bptt.ops.simple_rnn.mask_scan."""
    H = hs.shape[2]
    zero = hs.dtype.type(0)
    for b in range(b0, b1):
        if mask[t, b]:
            for j in range(H):
                outputs[t, b, j] = hs[t, b, j]
        elif t == 0:
            for j in range(H):
                outputs[t, b, j] = zero
        else:
            for j in range(H):
                outputs[t, b, j] = outputs[t - 1, b, j]


@njit(inline="always", **JIT_OPTIONS)
def take_output_grads(dhs, mask, t, dh, doutput, b0, b1):
    """Step t's output gradient, as bptt.ops.simple_rnn.mask_scan_backward: it joins doutput
    (B, H), the gradient of output_t; at a real row output_t is h_t, so doutput is added to
    dL/dh_t and spent; at a masked row output_t repeats output_{t-1} and doutput waits for it."""
    H = dh.shape[1]
    zero = dh.dtype.type(0)
    for b in range(b0, b1):
        for j in range(H):
            doutput[b, j] += dhs[t, b, j]
        if mask[t, b]:
            for j in range(H):
                dh[b, j] += doutput[b, j]
            for j in range(H):
                doutput[b, j] = zero


@njit(inline="always", **JIT_OPTIONS)
def keep_held(mask, t, dstate, held, b0, b1):
    """Copy the rows of dstate masked at step t into held (row k = row b0 + k): a held state's
    gradient passes the step unchanged, and the step's GEMM is about to overwrite dstate."""
    for k in range(b1 - b0):
        if not mask[t, b0 + k]:
            for j in range(dstate.shape[1]):
                held[k, j] = dstate[b0 + k, j]


@njit(inline="always", **JIT_OPTIONS)
def restore_held(mask, t, dstate, held, b0, b1):
    """Put back the rows keep_held kept."""
    for k in range(b1 - b0):
        if not mask[t, b0 + k]:
            for j in range(dstate.shape[1]):
                dstate[b0 + k, j] = held[k, j]


@njit(**JIT_OPTIONS)
def _forward_rows(xw, recurrent_kernel, recurrent_kernel_t, h0, masks, activation, mask, hs, outputs, b0, b1):
    """Batch rows b0..b1-1 through all T steps (rows never meet: see _common.run_rows).
    mask (T, B) or (0, 0); outputs (T, B, H), or (0, B, H) when the states are the outputs.
    recurrent_kernel_t, a contiguous U^T, asks for the step's product transposed (see
    step_product); (0, H): as written."""
    T, B, H = xw.shape
    R = b1 - b0
    masked = mask.shape[0] > 0
    zero = xw.dtype.type(0)
    a = np.empty((R, H), xw.dtype)  # (R, H) (h_{t-1} * m) @ U for these rows
    hm = np.empty((R, H), xw.dtype)  # (R, H) h_{t-1} * m
    flipped = recurrent_kernel_t.shape[0] > 0
    a_t = np.empty((H if flipped else 0, R), xw.dtype)  # (H, R) U^T @ h_{t-1}^T
    for t in range(T):
        h_prev = h0 if t == 0 else hs[t - 1]  # (B, H)
        if masks.shape[0]:
            for k in range(R):
                for j in range(H):
                    hm[k, j] = h_prev[b0 + k, j] * masks[0, b0 + k, j]
            if flipped:
                np.dot(recurrent_kernel_t, hm.T, a_t)
                copy_transposed(a_t, a)
            else:
                np.dot(hm, recurrent_kernel, a)
        elif flipped:
            np.dot(recurrent_kernel_t, h_prev[b0:b1].T, a_t)
            copy_transposed(a_t, a)
        else:
            np.dot(h_prev[b0:b1], recurrent_kernel, a)
        x, h = xw[t], hs[t]
        if activation == 0:
            for k in range(R):
                if masked and not mask[t, b0 + k]:  # hold h
                    for j in range(H):
                        h[b0 + k, j] = h_prev[b0 + k, j]
                    continue
                for j in range(H):
                    h[b0 + k, j] = tanh(x[b0 + k, j] + a[k, j])
        else:
            for k in range(R):
                if masked and not mask[t, b0 + k]:
                    for j in range(H):
                        h[b0 + k, j] = h_prev[b0 + k, j]
                    continue
                for j in range(H):
                    h[b0 + k, j] = max(x[b0 + k, j] + a[k, j], zero)
        if outputs.shape[0]:
            write_outputs(mask, t, hs, outputs, b0, b1)


@njit(**JIT_OPTIONS)
def _backward_rows(dhs, dh, hs, recurrent_kernel, recurrent_kernel_t, masks, activation, mask, doutput, dxw,
                   b0, b1):
    """Batch rows b0..b1-1 backwards through all T steps. dh (B, H) comes in as dL/dh_T and
    leaves as dL/dh_0 (rows b0..b1-1 only). recurrent_kernel_t is U^T as a contiguous copy (see
    lstm._backward_rows); recurrent_kernel, where it has rows, asks for the product transposed,
    dh^T = U @ da^T (see step_product). mask (T, B) or (0, 0); doutput (B, H) zeros with a mask (see
    take_output_grads)."""
    T, B, H = dxw.shape
    one, zero = dxw.dtype.type(1), dxw.dtype.type(0)
    masked = mask.shape[0] > 0
    dh_rows = dh[b0:b1]  # (R, H) a view
    held = np.empty((b1 - b0 if masked else 0, H), dxw.dtype)  # (R, H) dL/dh_t of rows masked at t
    dh_t = np.empty((recurrent_kernel.shape[0], b1 - b0), dxw.dtype)  # (H or 0, R) U @ da^T
    for t in range(T - 1, -1, -1):
        if masked:
            if dhs.shape[0]:
                take_output_grads(dhs, mask, t, dh, doutput, b0, b1)
        elif dhs.shape[0]:
            for b in range(b0, b1):
                for j in range(H):
                    dh[b, j] += dhs[t, b, j]  # h_t is both an output and the next step's input
        h, da = hs[t], dxw[t]
        if activation == 0:
            for b in range(b0, b1):
                if masked and not mask[t, b]:  # a skipped step: no gradient into xw_t
                    for j in range(H):
                        da[b, j] = zero
                    continue
                for j in range(H):
                    da[b, j] = dh[b, j] * (one - h[b, j] * h[b, j])  # tanh' = 1 - h^2
        else:
            for b in range(b0, b1):
                if masked and not mask[t, b]:
                    for j in range(H):
                        da[b, j] = zero
                    continue
                for j in range(H):
                    da[b, j] = dh[b, j] if h[b, j] > zero else zero  # relu' = [h > 0]
        if masked:
            keep_held(mask, t, dh, held, b0, b1)
        if dh_t.shape[0]:  # dh_{t-1} = (da @ U^T) * m
            np.dot(recurrent_kernel, da[b0:b1].T, dh_t)
            copy_transposed(dh_t, dh_rows)
        else:
            np.dot(da[b0:b1], recurrent_kernel_t, dh_rows)
        if masks.shape[0]:
            for b in range(b0, b1):
                for j in range(H):
                    dh[b, j] *= masks[0, b, j]
        if masked:
            restore_held(mask, t, dh, held, b0, b1)


def simple_rnn_forward(xw, recurrent_kernel, h0, activation="tanh", recurrent_mask=None, mask=None):
    """xw (T, B, H), recurrent_kernel (H, H), h0 (B, H), mask (T, B) bool or None
    -> (hs (T, B, H) the outputs, h_last (B, H) the last state, cache)."""
    dtype = xw.dtype
    T, B, H = xw.shape
    xw = as_dtype(xw, dtype)
    recurrent_kernel = as_dtype(recurrent_kernel, dtype)
    h0 = as_dtype(h0, dtype)
    masks = mask_blocks(recurrent_mask, B, H, dtype)  # (M, B, H)
    code = _ACTIVATIONS[activation]
    hs = np.empty((T, B, H), dtype)  # (T, B, H)
    outputs = outputs_buffer(mask, h0, hs)  # (T, B, H), or (0, B, H): the outputs are hs
    recurrent_kernel_t = step_kernel("forward", recurrent_kernel, B, masks.shape[0])  # (H or 0, H)
    run_rows(_forward_rows, B, xw, recurrent_kernel, recurrent_kernel_t, h0, masks, code, loop_mask(mask), hs,
             outputs)
    cache = SimpleRNNKernelCache(h0, hs, recurrent_kernel, masks, code, mask)
    return (outputs if outputs.shape[0] else hs), hs[-1], cache


def simple_rnn_backward(dhs, dh_last, cache):
    """dhs (T, B, H) or None, dh_last (B, H) or None -> (dxw (T, B, H), drecurrent_kernel (H, H), dh0 (B, H)).
    With a mask, dxw is zero at the masked steps."""
    T, B, H = cache.hs.shape
    dtype = cache.hs.dtype
    dhs = np.empty((0, B, H), dtype) if dhs is None else as_dtype(dhs, dtype)
    dh = np.zeros((B, H), dtype) if dh_last is None else np.array(dh_last, dtype=dtype)  # (B, H) copy
    dxw = np.empty((T, B, H), dtype)  # (T, B, H)
    doutput = output_grad_buffer(cache.mask, B, H, dtype)  # (B, H) or (0, H)
    # (H or 0, H) U for the transposed product, or (H, H) U^T for the written one
    recurrent_kernel, recurrent_kernel_t = backward_kernels(cache.recurrent_kernel, B, cache.masks.shape[0])
    run_rows(_backward_rows, B, dhs, dh, cache.hs, recurrent_kernel, recurrent_kernel_t, cache.masks,
             cache.activation, loop_mask(cache.mask), doutput, dxw)
    drecurrent_kernel = recurrent_kernel_grad(cache.h0, cache.hs, dxw, cache.masks)  # (H, H)
    return dxw, drecurrent_kernel, dh
