"""GRU, fused: the whole time loop of bptt.ops.gru.gru_forward / gru_backward compiled into one
Numba function each way, for both reset_after forms. Must equal that reference
(tests/kernels/test_gru.py), whose docstring has the equations; in short, gates z, r, h (Keras'
order), m the recurrent mask ([m_z, m_r, m_h] when there is one per gate):

  reset_after=True:   rec_t = (h_{t-1} * m) @ U + recurrent_bias
                      z, r = sigmoid(xz + rec_z, xr + rec_r)   hh = tanh(xh + r * rec_h)
  reset_after=False:  z, r = sigmoid(xz + (h_{t-1} * m) @ U_z, xr + (h_{t-1} * m) @ U_r)
                      hh = tanh(xh + (r * h_{t-1} * m_h) @ U_h)
  both:               h_t = z * h_{t-1} + (1 - z) * hh

Letters: T time, B batch, H units. Per step, reset_after=True: one (B, H) @ (H, 3H) GEMM each
way, asked of BLAS the way round bptt.kernels.step_product measured faster; reset_after=False:
two, (B, H) @ (H, 2H) and (B, H) @ (H, H), since U_h meets r * h_{t-1}.
drecurrent_kernel (and drecurrent_bias) are reduced over all T*B rows after the loop. The
compiled loops take a range of batch rows [b0, b1) (see _common.run_rows).

Masking (mask (T, B) bool): read inside the same loops, row by row, as bptt.kernels.simple_rnn
describes: a masked row holds h and skips its gates, and its dxw and drec are zero, so the
products that add the recurrent gradient into dh add zero there (no row needs keeping aside).

Supported: activation "tanh" with recurrent_activation "sigmoid" (Keras' defaults), either
reset_after; anything else runs the reference (see `supports`).
"""
from typing import NamedTuple

import numpy as np
from numba import njit

from bptt import kernels
from bptt.kernels._common import (
    JIT_OPTIONS, as_dtype, gate_blocks, mask_blocks, recurrent_kernel_grad, run_rows,
    sigmoid, tanh,
)
from bptt.kernels.step_product import backward_kernels, copy_transposed, step_kernel
from bptt.kernels.simple_rnn import (
    loop_mask, output_grad_buffer, outputs_buffer, take_output_grads, write_outputs,
)


def supports(activation="tanh", recurrent_activation="sigmoid", reset_after=True, **other):
    """Whether this kernel computes the cell with these options (else the reference runs)."""
    return activation == "tanh" and recurrent_activation == "sigmoid" and not other


class GRUKernelCache(NamedTuple):
    h0: np.ndarray  # (B, H)
    hs: np.ndarray  # (T, B, H)
    gates: np.ndarray  # (T, B, 3H) [z, r, hh] after their activations
    recurrent_hs: np.ndarray  # (T, B, H) rec_h (reset_after) or r * h_{t-1} * m_h (not reset_after)
    recurrent_kernel: np.ndarray  # (H, 3H)
    kernel_blocks: np.ndarray  # (3, H, H) U's gate blocks (contiguous copies)
    masks: np.ndarray  # (M, B, H): M = 0 no mask, 1 shared, 3 one per gate
    reset_after: bool
    mask: np.ndarray = None  # (T, B) bool, True at a real step; None: every step is real


@njit(**JIT_OPTIONS)
def _masked_product(h_prev, masks, g, kernel, kernel_t, hm, out, out_t, b0, b1):
    """out = (h_prev[b0:b1] * m_g) @ kernel: m_g = masks[g], masks[0] when shared, 1 without.
    Asked of BLAS transposed, out^T = kernel^T @ (h * m)^T into out_t, where kernel_t (a
    contiguous kernel^T) has rows (see step_product)."""
    M = masks.shape[0]
    flipped = kernel_t.shape[0] > 0
    if M == 0 and flipped:
        np.dot(kernel_t, h_prev[b0:b1].T, out_t)
        copy_transposed(out_t, out)
        return
    if M == 0:
        np.dot(h_prev[b0:b1], kernel, out)
        return
    m = 0 if M == 1 else g
    for k in range(b1 - b0):
        for j in range(h_prev.shape[1]):
            hm[k, j] = h_prev[b0 + k, j] * masks[m, b0 + k, j]
    if flipped:
        np.dot(kernel_t, hm.T, out_t)
        copy_transposed(out_t, out)
    else:
        np.dot(hm, kernel, out)


@njit(**JIT_OPTIONS)
def _gate_products(h_prev, masks, kernel, kernel_t, kernel_blocks, gates, hm, rec_gate, out, out_t, b0, b1):
    """out (R, gates*H) = the first `gates` blocks of (h_prev[b0:b1] * m) @ U: one product with
    `kernel` when the mask is shared or absent (transposed where kernel_t has rows), else one
    per gate with its own mask."""
    if masks.shape[0] <= 1:
        _masked_product(h_prev, masks, 0, kernel, kernel_t, hm, out, out_t, b0, b1)
        return
    H = h_prev.shape[1]
    written = kernel_t[:0]  # (0, H): the per-gate products run as written
    for g in range(gates):
        _masked_product(h_prev, masks, g, kernel_blocks[g], written, hm, rec_gate, out_t, b0, b1)
        for k in range(b1 - b0):
            for j in range(H):
                out[k, g * H + j] = rec_gate[k, j]


@njit(**JIT_OPTIONS)
def _masked_product_backward(da, masks, g, kernel_t, kernel, dh_rec, dh_rec_t, dh, b0, b1):
    """dh[b0:b1] += (da @ kernel^T) * m_g: the h_{t-1} gradient of `_masked_product`; asked of
    BLAS transposed, kernel @ da^T into dh_rec_t, where kernel (contiguous) has rows."""
    if kernel.shape[0] > 0:
        np.dot(kernel, da.T, dh_rec_t)
        copy_transposed(dh_rec_t, dh_rec)
    else:
        np.dot(da, kernel_t, dh_rec)
    M = masks.shape[0]
    m = 0 if M <= 1 else g
    if M == 0:
        for k in range(b1 - b0):
            for j in range(dh.shape[1]):
                dh[b0 + k, j] += dh_rec[k, j]
    else:
        for k in range(b1 - b0):
            for j in range(dh.shape[1]):
                dh[b0 + k, j] += dh_rec[k, j] * masks[m, b0 + k, j]


@njit(**JIT_OPTIONS)
def _forward_after_rows(xw, recurrent_kernel, recurrent_kernel_t, kernel_blocks, recurrent_bias, h0, masks,
                        mask, hs, gates, recurrent_hs, outputs, b0, b1):
    """reset_after=True; batch rows b0..b1-1 through all T steps (see _common.run_rows).
    mask (T, B) or (0, 0); outputs (T, B, H), or (0, B, H) when the states are the outputs.
    At a masked row h is held and gates, recurrent_hs are left unwritten."""
    T, B, H3 = xw.shape
    H = H3 // 3
    R = b1 - b0
    masked = mask.shape[0] > 0
    rec = np.empty((R, 3 * H), xw.dtype)  # (R, 3H) (h_{t-1} * m) @ U for these rows
    rec_gate = np.empty((R, H), xw.dtype)  # (R, H) one gate's block, with a mask per gate
    hm = np.empty((R, H), xw.dtype)  # (R, H) h_{t-1} * m
    rec_t = np.empty((recurrent_kernel_t.shape[0], R), xw.dtype)  # (3H or 0, R) rec transposed
    one = xw.dtype.type(1)
    for t in range(T):
        h_prev = h0 if t == 0 else hs[t - 1]  # (B, H)
        _gate_products(h_prev, masks, recurrent_kernel, recurrent_kernel_t, kernel_blocks, 3, hm, rec_gate,
                       rec, rec_t, b0, b1)
        # One output stream per inner loop, so that LLVM vectorises each (see lstm._forward_rows).
        x, gate, h, rec_h = xw[t], gates[t], hs[t], recurrent_hs[t]
        for k in range(R):
            b = b0 + k
            if masked and not mask[t, b]:  # hold h
                for j in range(H):
                    h[b, j] = h_prev[b, j]
                continue
            for j in range(2 * H):  # z, r
                gate[b, j] = sigmoid(x[b, j] + (rec[k, j] + recurrent_bias[j]))
            for j in range(H):
                rec_h[b, j] = rec[k, 2 * H + j] + recurrent_bias[2 * H + j]
            for j in range(H):  # hh = tanh(xh + r * rec_h)
                gate[b, 2 * H + j] = tanh(x[b, 2 * H + j] + gate[b, H + j] * rec_h[b, j])
            for j in range(H):  # h = z * h_prev + (1 - z) * hh
                h[b, j] = gate[b, j] * h_prev[b, j] + (one - gate[b, j]) * gate[b, 2 * H + j]
        if outputs.shape[0]:
            write_outputs(mask, t, hs, outputs, b0, b1)


@njit(**JIT_OPTIONS)
def _forward_before_rows(xw, kernel_zr, kernel_blocks, h0, masks, mask, hs, gates, rhs, outputs, b0, b1):
    """reset_after=False; batch rows b0..b1-1 through all T steps (see _common.run_rows).
    rhs[t] = r_t * h_{t-1} * m_h, the input of U_h, kept for drecurrent_kernel (zero at a masked
    row, whose gates are left unwritten and whose h is held). mask (T, B) or (0, 0); outputs
    (T, B, H), or (0, B, H) when the states are the outputs."""
    T, B, H3 = xw.shape
    H = H3 // 3
    M = masks.shape[0]
    R = b1 - b0
    masked = mask.shape[0] > 0
    zero = xw.dtype.type(0)
    rec_zr = np.empty((R, 2 * H), xw.dtype)  # (R, 2H) (h_{t-1} * m) @ [U_z U_r]
    rec_gate = np.empty((R, H), xw.dtype)  # (R, H) one gate's block: z or r with a mask per gate, or h
    hm = np.empty((R, H), xw.dtype)  # (R, H) h_{t-1} * m
    # m_h, the mask on U_h's input: ones without a mask (x * 1 is exact), masks[2] with one per gate
    mask_h = np.ones((B, H), xw.dtype) if M == 0 else masks[0 if M == 1 else 2]
    one = xw.dtype.type(1)
    written = np.empty((0, H), xw.dtype)  # reset_after=False: its products run as written
    for t in range(T):
        h_prev = h0 if t == 0 else hs[t - 1]  # (B, H)
        _gate_products(h_prev, masks, kernel_zr, written, kernel_blocks, 2, hm, rec_gate, rec_zr, written, b0,
                       b1)
        x, gate, h, rh = xw[t], gates[t], hs[t], rhs[t]
        for k in range(R):
            b = b0 + k
            if masked and not mask[t, b]:  # zero: drecurrent_kernel reads it (times a zero dxw)
                for j in range(H):
                    rh[b, j] = zero
                continue
            for j in range(2 * H):  # z, r
                gate[b, j] = sigmoid(x[b, j] + rec_zr[k, j])
            for j in range(H):
                rh[b, j] = gate[b, H + j] * h_prev[b, j] * mask_h[b, j]
        np.dot(rh[b0:b1], kernel_blocks[2], rec_gate)  # (R, H) (r * h_{t-1} * m_h) @ U_h
        for k in range(R):
            b = b0 + k
            if masked and not mask[t, b]:  # hold h
                for j in range(H):
                    h[b, j] = h_prev[b, j]
                continue
            for j in range(H):  # hh = tanh(xh + (r * h_prev * m_h) @ U_h)
                gate[b, 2 * H + j] = tanh(x[b, 2 * H + j] + rec_gate[k, j])
            for j in range(H):  # h = z * h_prev + (1 - z) * hh
                h[b, j] = gate[b, j] * h_prev[b, j] + (one - gate[b, j]) * gate[b, 2 * H + j]
        if outputs.shape[0]:
            write_outputs(mask, t, hs, outputs, b0, b1)


@njit(**JIT_OPTIONS)
def _backward_after_rows(dhs, dh, h0, hs, gates, recurrent_hs, recurrent_kernel, recurrent_kernel_t,
                         kernel_blocks_t, masks, mask, doutput, dxw, drec, b0, b1):
    """reset_after=True; batch rows b0..b1-1 backwards through all T steps. dh (B, H) comes in
    as dL/dh_T and leaves as dL/dh_0. drec[t] (B, 3H) = dL/drec_t: the z and r blocks as dxw[t],
    the h block times r. recurrent_kernel_t (3H, H) and kernel_blocks_t are U^T and its blocks
    transposed, as contiguous copies (see lstm._backward_rows). mask (T, B) or (0, 0); doutput
    (B, H) zeros with a mask (see simple_rnn.take_output_grads)."""
    T, B, H3 = dxw.shape
    H = H3 // 3
    R = b1 - b0
    one, zero = dxw.dtype.type(1), dxw.dtype.type(0)
    masked = mask.shape[0] > 0
    da_h = np.empty((R, H), dxw.dtype)  # (R, H) dL/da_h
    dh_rec = np.empty((R, H), dxw.dtype)  # (R, H) drec @ U^T
    drec_gate = np.empty((R, H), dxw.dtype)  # (R, H) one gate's block, with a mask per gate
    dh_rec_t = np.empty((recurrent_kernel.shape[0], R), dxw.dtype)  # (H or 0, R) U @ drec^T
    written = recurrent_kernel[:0]  # (0, 3H): the per-gate products run as written
    for t in range(T - 1, -1, -1):
        if masked:
            if dhs.shape[0]:
                take_output_grads(dhs, mask, t, dh, doutput, b0, b1)
        elif dhs.shape[0]:
            for b in range(b0, b1):
                for j in range(H):
                    dh[b, j] += dhs[t, b, j]  # h_t is both an output and the next step's input
        h_prev = h0 if t == 0 else hs[t - 1]
        gate, rec_h, da, drec_t = gates[t], recurrent_hs[t], dxw[t], drec[t]
        # One output stream per inner loop, so that each vectorises (see lstm._forward_rows).
        for k in range(R):
            b = b0 + k
            if masked and not mask[t, b]:  # a skipped step: dh passes unchanged (plus 0 below)
                for j in range(3 * H):
                    da[b, j] = zero
                for j in range(3 * H):
                    drec_t[b, j] = zero
                continue
            for j in range(H):  # h = z * h_prev + (1 - z) * hh; hh = tanh(a_h)
                da_h[k, j] = dh[b, j] * (one - gate[b, j]) * (one - gate[b, 2 * H + j] * gate[b, 2 * H + j])
            for j in range(H):  # dz = dh (h_prev - hh); sigmoid' = z (1 - z)
                z = gate[b, j]
                da[b, j] = dh[b, j] * (h_prev[b, j] - gate[b, 2 * H + j]) * z * (one - z)
            for j in range(H):  # a_h = xh + r * rec_h: dr = da_h rec_h
                r = gate[b, H + j]
                da[b, H + j] = da_h[k, j] * rec_h[b, j] * r * (one - r)
            for j in range(H):
                da[b, 2 * H + j] = da_h[k, j]
            for j in range(2 * H):  # rec_z, rec_r enter as xz, xr do
                drec_t[b, j] = da[b, j]
            for j in range(H):  # rec_h enters times r
                drec_t[b, 2 * H + j] = da_h[k, j] * gate[b, H + j]
            for j in range(H):  # h = z * h_prev + ...: the direct path
                dh[b, j] = dh[b, j] * gate[b, j]
        # dh_{t-1} += (drec @ U^T) * m, per gate block with a mask per gate
        if masks.shape[0] <= 1:
            _masked_product_backward(drec_t[b0:b1], masks, 0, recurrent_kernel_t, recurrent_kernel, dh_rec,
                                     dh_rec_t, dh, b0, b1)
        else:
            for g in range(3):
                for k in range(R):
                    for j in range(H):
                        drec_gate[k, j] = drec_t[b0 + k, g * H + j]
                _masked_product_backward(drec_gate, masks, g, kernel_blocks_t[g], written, dh_rec, dh_rec_t, dh,
                                         b0, b1)


@njit(**JIT_OPTIONS)
def _backward_before_rows(dhs, dh, h0, hs, gates, kernel_zr_t, kernel_blocks_t, masks, mask, doutput, dxw,
                          b0, b1):
    """reset_after=False; batch rows b0..b1-1 backwards through all T steps. dh (B, H) comes in
    as dL/dh_T and leaves as dL/dh_0. kernel_zr_t = [U_z U_r]^T (2H, H) and kernel_blocks_t, U's
    blocks transposed, are contiguous copies (see lstm._backward_rows). mask (T, B) or (0, 0);
    doutput (B, H) zeros with a mask (see simple_rnn.take_output_grads)."""
    T, B, H3 = dxw.shape
    H = H3 // 3
    M = masks.shape[0]
    R = b1 - b0
    one, zero = dxw.dtype.type(1), dxw.dtype.type(0)
    masked = mask.shape[0] > 0
    mask_h = np.ones((B, H), dxw.dtype) if M == 0 else masks[0 if M == 1 else 2]  # as in the forward
    dz = np.empty((R, H), dxw.dtype)  # (R, H) dL/dz
    da_h = np.empty((R, H), dxw.dtype)  # (R, H) dL/da_h
    drh = np.empty((R, H), dxw.dtype)  # (R, H) dL/d(r * h_prev * m_h)
    da_zr = np.empty((R, 2 * H), dxw.dtype)  # (R, 2H) [da_z, da_r]
    da_gate = np.empty((R, H), dxw.dtype)  # (R, H) da_z or da_r, with a mask per gate
    dh_rec = np.empty((R, H), dxw.dtype)  # (R, H) scratch for da @ U^T
    written = np.empty((0, H), dxw.dtype)  # reset_after=False: its products run as written
    for t in range(T - 1, -1, -1):
        if masked:
            if dhs.shape[0]:
                take_output_grads(dhs, mask, t, dh, doutput, b0, b1)
        elif dhs.shape[0]:
            for b in range(b0, b1):
                for j in range(H):
                    dh[b, j] += dhs[t, b, j]  # h_t is both an output and the next step's input
        h_prev = h0 if t == 0 else hs[t - 1]
        gate, da = gates[t], dxw[t]
        # One output stream per inner loop, so that each vectorises (see lstm._forward_rows).
        for k in range(R):
            b = b0 + k
            if masked and not mask[t, b]:  # a skipped step: dh passes unchanged (plus 0 below)
                for j in range(3 * H):
                    da[b, j] = zero
                for j in range(H):
                    dz[k, j] = zero
                for j in range(H):
                    da_h[k, j] = zero
                continue
            for j in range(H):  # h = z * h_prev + (1 - z) * hh
                dz[k, j] = dh[b, j] * (h_prev[b, j] - gate[b, 2 * H + j])
            for j in range(H):  # hh = tanh(a_h)
                da_h[k, j] = dh[b, j] * (one - gate[b, j]) * (one - gate[b, 2 * H + j] * gate[b, 2 * H + j])
            for j in range(H):
                da[b, 2 * H + j] = da_h[k, j]
            for j in range(H):  # the direct path
                dh[b, j] = dh[b, j] * gate[b, j]
        np.dot(da_h, kernel_blocks_t[2], drh)  # a_h = xh + (r * h_prev * m_h) @ U_h
        for k in range(R):
            b = b0 + k
            if masked and not mask[t, b]:
                for j in range(2 * H):
                    da_zr[k, j] = zero
                continue
            for j in range(H):  # sigmoid' = z (1 - z)
                z = gate[b, j]
                da_zr[k, j] = dz[k, j] * z * (one - z)
            for j in range(H):  # dr = drh h_prev m_h
                r = gate[b, H + j]
                da_zr[k, H + j] = drh[k, j] * h_prev[b, j] * mask_h[b, j] * r * (one - r)
            for j in range(2 * H):
                da[b, j] = da_zr[k, j]
            for j in range(H):  # d(h_prev) through r * h_prev * m_h
                dh[b, j] += drh[k, j] * gate[b, H + j] * mask_h[b, j]
        # dh_{t-1} += (da_zr @ [U_z U_r]^T) * m, per gate block with a mask per gate
        if M <= 1:
            _masked_product_backward(da_zr, masks, 0, kernel_zr_t, written, dh_rec, written, dh, b0, b1)
        else:
            for g in range(2):
                for k in range(R):
                    for j in range(H):
                        da_gate[k, j] = da_zr[k, g * H + j]
                _masked_product_backward(da_gate, masks, g, kernel_blocks_t[g], written, dh_rec, written, dh,
                                         b0, b1)


def gru_forward(xw, recurrent_kernel, recurrent_bias, h0, reset_after=True, activation="tanh",
                recurrent_activation="sigmoid", recurrent_mask=None, mask=None):
    """xw (T, B, 3H), recurrent_kernel (H, 3H), recurrent_bias (3H,) or None, h0 (B, H),
    mask (T, B) bool or None -> (hs (T, B, H) the outputs, h_last (B, H) the last state, cache)."""
    dtype = xw.dtype
    T, B, H3 = xw.shape
    H = H3 // 3
    xw = as_dtype(xw, dtype)
    recurrent_kernel = as_dtype(recurrent_kernel, dtype)
    h0 = as_dtype(h0, dtype)
    masks = mask_blocks(recurrent_mask, B, H, dtype)  # (M, B, H)
    kernel_blocks = gate_blocks(recurrent_kernel, 3)  # (3, H, H)
    hs = np.empty((T, B, H), dtype)  # (T, B, H)
    gates = np.empty((T, B, 3 * H), dtype)  # (T, B, 3H)
    recurrent_hs = np.empty((T, B, H), dtype)  # (T, B, H)
    outputs = outputs_buffer(mask, h0, hs)  # (T, B, H), or (0, B, H): the outputs are hs
    step_mask = loop_mask(mask)  # (T, B) or (0, 0)
    if reset_after:
        bias = np.zeros(3 * H, dtype) if recurrent_bias is None else as_dtype(recurrent_bias, dtype)  # (3H,)
        recurrent_kernel_t = step_kernel("forward", recurrent_kernel, B, masks.shape[0])  # (3H or 0, H)
        run_rows(_forward_after_rows, B, xw, recurrent_kernel, recurrent_kernel_t, kernel_blocks, bias, h0,
                 masks, step_mask, hs, gates, recurrent_hs, outputs)
    else:
        kernel_zr = np.ascontiguousarray(recurrent_kernel[:, :2 * H])  # (H, 2H)
        run_rows(_forward_before_rows, B, xw, kernel_zr, kernel_blocks, h0, masks, step_mask, hs, gates,
                 recurrent_hs, outputs)
    cache = GRUKernelCache(h0, hs, gates, recurrent_hs, recurrent_kernel, kernel_blocks, masks,
                           bool(reset_after), mask)
    return (outputs if outputs.shape[0] else hs), hs[-1], cache


def gru_backward(dhs, dh_last, cache):
    """dhs (T, B, H) or None, dh_last (B, H) or None
    -> (dxw (T, B, 3H), drecurrent_kernel (H, 3H), drecurrent_bias (3H,) or None, dh0 (B, H)).
    With a mask, dxw is zero at the masked steps."""
    T, B, H = cache.hs.shape
    dtype = cache.hs.dtype
    dhs = np.empty((0, B, H), dtype) if dhs is None else as_dtype(dhs, dtype)
    dh = np.zeros((B, H), dtype) if dh_last is None else np.array(dh_last, dtype=dtype)  # (B, H) copy
    dxw = np.empty((T, B, 3 * H), dtype)  # (T, B, 3H)
    masks = cache.masks
    kernel_blocks_t = np.ascontiguousarray(cache.kernel_blocks.transpose(0, 2, 1))  # (3, H, H) U_g^T
    step_mask = loop_mask(cache.mask)  # (T, B) or (0, 0)
    doutput = output_grad_buffer(cache.mask, B, H, dtype)  # (B, H) or (0, H)
    if cache.reset_after:
        drec = np.empty((T, B, 3 * H), dtype)  # (T, B, 3H) dL/drec
        # (H or 0, 3H) U for the transposed product, or (3H, H) U^T for the written one
        recurrent_kernel, recurrent_kernel_t = backward_kernels(cache.recurrent_kernel, B, masks.shape[0])
        run_rows(_backward_after_rows, B, dhs, dh, cache.h0, cache.hs, cache.gates, cache.recurrent_hs,
                 recurrent_kernel, recurrent_kernel_t, kernel_blocks_t, masks, step_mask, doutput, dxw, drec)
        drecurrent_kernel = recurrent_kernel_grad(cache.h0, cache.hs, drec, masks)  # (H, 3H)
        drecurrent_bias = drec.reshape(T * B, 3 * H).sum(axis=0)  # (3H,) rec = ... + recurrent_bias
        return dxw, drecurrent_kernel, drecurrent_bias, dh
    kernel_zr_t = np.ascontiguousarray(cache.recurrent_kernel[:, :2 * H].T)  # (2H, H) [U_z U_r]^T
    run_rows(_backward_before_rows, B, dhs, dh, cache.h0, cache.hs, cache.gates, kernel_zr_t,
             kernel_blocks_t, masks, step_mask, doutput, dxw)
    drecurrent_kernel = np.empty((H, 3 * H), dtype)  # (H, 3H)
    drecurrent_kernel[:, :2 * H] = recurrent_kernel_grad(cache.h0, cache.hs, dxw[:, :, :2 * H],
                                                         masks[:2] if len(masks) == 3 else masks)
    rhs = cache.recurrent_hs.reshape(T * B, H)  # (T*B, H) r * h_prev * m_h, the input of U_h
    _, matmul_tn = kernels.gemm_functions(B)  # off NumPy's pool beside numba's team
    drecurrent_kernel[:, 2 * H:] = matmul_tn(rhs, dxw[:, :, 2 * H:].reshape(T * B, H))
    return dxw, drecurrent_kernel, None, dh
