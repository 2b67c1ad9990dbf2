"""LSTM, fused: the whole time loop of bptt.ops.lstm.lstm_forward / lstm_backward compiled into
one Numba function each way. Must equal that reference (tests/kernels/test_lstm.py), whose
docstring has the equations; in short, gates i, f, c, o (Keras' order), m the recurrent mask:

    a_t = xw_t + (h_{t-1} * m) @ U       i, f, o = sigmoid(a_i, a_f, a_o), g = tanh(a_c)
    c_t = f * c_{t-1} + i * g            h_t = o * tanh(c_t)

Letters: T time, B batch, H units. Per step: one (B, H) @ (H, 4H) GEMM forward (four
(B, H) @ (H, H) ones with a mask per gate), one (B, 4H) @ (4H, H) backward, and one fused loop
over the (B, H) elements for the gates. drecurrent_kernel is one GEMM after the loop:
sum_t (h_{t-1} * m)^T @ da_t = H_prev^T @ dA over all T*B rows. Each step's product is asked
of BLAS as written or transposed, whichever bptt.kernels.step_product measured faster for the
shape on this machine (the same numbers either way). The compiled loops take a range
of batch rows [b0, b1), which never interact, so `_common.run_rows` can split a batch over
threads (as many as the batch pays for: see bptt.kernels.threads).

Masking (mask (T, B) bool): read inside the same loops, row by row, as bptt.kernels.simple_rnn
describes: a masked row holds h and c and skips its gates, and its dxw is zero.

`lstm_inference` is the forward alone, for when no backward follows (predict, evaluate): it
takes the layer's batch-major input and its kernel and bias, projects each chunk of rows itself
(one GEMM per 32 rows, all steps) and keeps only the running h, c, so neither xw (T, B, 4H) nor
the cache is ever written; on 2 cores, predicting 1000 reviews through the tutorial's LSTM-64
went from ~58 ms (projection + lstm_forward) to ~30 ms. Must equal the reference forward's
outputs (tests/kernels/test_lstm.py). It takes no mask: a masked call in inference runs the
layer's forward, i.e. the projection and the masked `lstm_forward`, and drops the cache.

Supported: activation "tanh" with recurrent_activation "sigmoid" (Keras' defaults); anything
else runs the reference (see `supports`).
"""
from typing import NamedTuple

import numpy as np
from numba import njit

from bptt.kernels._common import (
    JIT_OPTIONS, as_dtype, gate_blocks, mask_blocks, recurrent_kernel_grad, row_chunks, run_rows,
    sigmoid, tanh,
)
from bptt.kernels.step_product import backward_kernels, copy_transposed, step_kernel
from bptt.kernels.simple_rnn import (
    keep_held, loop_mask, output_grad_buffer, outputs_buffer, restore_held, take_output_grads, write_outputs,
)


def supports(activation="tanh", recurrent_activation="sigmoid", **other):
    """Whether this kernel computes the cell with these options (else the reference runs)."""
    return activation == "tanh" and recurrent_activation == "sigmoid" and not other


class LSTMKernelCache(NamedTuple):
    h0: np.ndarray  # (B, H)
    c0: np.ndarray  # (B, H)
    hs: np.ndarray  # (T, B, H)
    cs: np.ndarray  # (T, B, H)
    tanh_cs: np.ndarray  # (T, B, H) tanh(c_t), kept so the backward needs no tanh
    gates: np.ndarray  # (T, B, 4H) [i, f, g, o] after their activations
    recurrent_kernel: np.ndarray  # (H, 4H)
    kernel_blocks: np.ndarray  # (4, H, H) U's gate blocks, with a mask per gate; else (0, H, H)
    masks: np.ndarray  # (M, B, H): M = 0 no mask, 1 shared, 4 one per gate
    mask: np.ndarray = None  # (T, B) bool, True at a real step; None: every step is real


@njit(**JIT_OPTIONS)
def _forward_rows(xw, recurrent_kernel, recurrent_kernel_t, kernel_blocks, h0, c0, masks, mask, hs, cs,
                  tanh_cs, gates, outputs, b0, b1):
    """Batch rows b0..b1-1 through all T steps (rows never meet: see _common.run_rows).
    mask (T, B) or (0, 0); outputs (T, B, H), or (0, B, H) when the states are the outputs.
    At a masked row h and c are held and gates, tanh_cs are left unwritten. recurrent_kernel_t
    (4H, H), a contiguous U^T, asks for the step's product transposed (see step_product);
    (0, H): as written."""
    T, B, H4 = xw.shape
    H = H4 // 4
    M = masks.shape[0]
    masked = mask.shape[0] > 0
    R = b1 - b0
    a = np.empty((R, 4 * H), xw.dtype)  # (R, 4H) (h_{t-1} * m) @ U for these rows
    hm = np.empty((R, H), xw.dtype)  # (R, H) h_{t-1} * m
    a_gate = np.empty((R, H), xw.dtype)  # (R, H) one gate's block, with a mask per gate
    flipped = recurrent_kernel_t.shape[0] > 0
    a_t = np.empty((4 * H if flipped else 0, R), xw.dtype)  # (4H, R) U^T @ h_{t-1}^T
    for t in range(T):
        h_prev = h0 if t == 0 else hs[t - 1]  # (B, H)
        c_prev = c0 if t == 0 else cs[t - 1]  # (B, H)
        if M == 0 and flipped:
            np.dot(recurrent_kernel_t, h_prev[b0:b1].T, a_t)
            copy_transposed(a_t, a)
        elif M == 0:
            np.dot(h_prev[b0:b1], recurrent_kernel, a)
        elif M == 1:
            for k in range(R):
                for j in range(H):
                    hm[k, j] = h_prev[b0 + k, j] * masks[0, b0 + k, j]
            if flipped:
                np.dot(recurrent_kernel_t, hm.T, a_t)
                copy_transposed(a_t, a)
            else:
                np.dot(hm, recurrent_kernel, a)
        else:
            for g in range(4):
                for k in range(R):
                    for j in range(H):
                        hm[k, j] = h_prev[b0 + k, j] * masks[g, b0 + k, j]
                np.dot(hm, kernel_blocks[g], a_gate)
                for k in range(R):
                    for j in range(H):
                        a[k, g * H + j] = a_gate[k, j]
        # One output stream per inner loop: LLVM then vectorises each (with several streams it
        # cannot rule out aliasing between them and falls back to scalar code).
        x, gate, h, c, tanh_c = xw[t], gates[t], hs[t], cs[t], tanh_cs[t]
        for k in range(R):
            b = b0 + k
            if masked and not mask[t, b]:  # hold h and c
                for j in range(H):
                    h[b, j] = h_prev[b, j]
                for j in range(H):
                    c[b, j] = c_prev[b, j]
                continue
            for j in range(2 * H):  # i, f
                gate[b, j] = sigmoid(x[b, j] + a[k, j])
            for j in range(2 * H, 3 * H):  # g
                gate[b, j] = tanh(x[b, j] + a[k, j])
            for j in range(3 * H, 4 * H):  # o
                gate[b, j] = sigmoid(x[b, j] + a[k, j])
            for j in range(H):  # c = f * c_prev + i * g
                c[b, j] = gate[b, H + j] * c_prev[b, j] + gate[b, j] * gate[b, 2 * H + j]
            for j in range(H):
                tanh_c[b, j] = tanh(c[b, j])
            for j in range(H):  # h = o * tanh(c)
                h[b, j] = gate[b, 3 * H + j] * tanh_c[b, j]
        if outputs.shape[0]:
            write_outputs(mask, t, hs, outputs, b0, b1)


@njit(**JIT_OPTIONS)
def _backward_rows(dhs, dh, dc, c0, cs, tanh_cs, gates, recurrent_kernel, recurrent_kernel_t, kernel_blocks_t,
                   masks, mask, doutput, dxw, b0, b1):
    """Batch rows b0..b1-1 backwards through all T steps. dh, dc (B, H) come in as dL/dh_T,
    dL/dc_T and leave as dL/dh_0, dL/dc_0 (rows b0..b1-1 only). recurrent_kernel_t is U^T (4H, H)
    and kernel_blocks_t its gate blocks transposed, as contiguous copies: OpenBLAS multiplies by a
    contiguous U^T up to 1.6x faster than by the transposed view at these sizes. recurrent_kernel
    (H, 4H) asks for the step's product transposed, dh^T = U @ da^T (see step_product); (0, 4H):
    as written. mask (T, B) or (0, 0); doutput (B, H) zeros with a mask (see
    simple_rnn.take_output_grads)."""
    T, B, H4 = dxw.shape
    H = H4 // 4
    M = masks.shape[0]
    R = b1 - b0
    one, zero = dxw.dtype.type(1), dxw.dtype.type(0)
    masked = mask.shape[0] > 0
    dh_rows = dh[b0:b1]  # (R, H) a view
    dh_prev = np.empty((R, H), dxw.dtype)  # (R, H) da @ U^T
    da_gate = np.empty((R, H), dxw.dtype)  # (R, H) one gate's block, with a mask per gate
    dc_t = np.empty((R, H), dxw.dtype)  # (R, H) dL/dc_t, all paths
    held = np.empty((R if masked else 0, H), dxw.dtype)  # (R, H) dL/dh_t of rows masked at t
    flipped = recurrent_kernel.shape[0] > 0
    dh_t = np.empty((H if flipped else 0, R), dxw.dtype)  # (H, R) U @ da^T
    for t in range(T - 1, -1, -1):
        if masked:
            if dhs.shape[0]:
                take_output_grads(dhs, mask, t, dh, doutput, b0, b1)
        elif dhs.shape[0]:
            for b in range(b0, b1):
                for j in range(H):
                    dh[b, j] += dhs[t, b, j]  # h_t is both an output and the next step's input
        c_prev = c0 if t == 0 else cs[t - 1]
        gate, tanh_c, da = gates[t], tanh_cs[t], dxw[t]
        # One output stream per inner loop, so that each vectorises (see _forward_rows).
        for k in range(R):
            b = b0 + k
            if masked and not mask[t, b]:  # a skipped step: dc passes unchanged, xw_t gets none
                for j in range(4 * H):
                    da[b, j] = zero
                continue
            for j in range(H):  # h = o * tanh(c); tanh' = 1 - tanh^2
                dc_t[k, j] = dc[b, j] + dh[b, j] * gate[b, 3 * H + j] * (one - tanh_c[b, j] * tanh_c[b, j])
            for j in range(H):  # c = f * c_prev + i * g: di = dc g; sigmoid' = i (1 - i)
                i = gate[b, j]
                da[b, j] = dc_t[k, j] * gate[b, 2 * H + j] * i * (one - i)
            for j in range(H):  # df = dc c_prev
                f = gate[b, H + j]
                da[b, H + j] = dc_t[k, j] * c_prev[b, j] * f * (one - f)
            for j in range(H):  # dg = dc i; tanh' = 1 - g^2
                g = gate[b, 2 * H + j]
                da[b, 2 * H + j] = dc_t[k, j] * gate[b, j] * (one - g * g)
            for j in range(H):  # do = dh tanh(c)
                o = gate[b, 3 * H + j]
                da[b, 3 * H + j] = dh[b, j] * tanh_c[b, j] * o * (one - o)
            for j in range(H):  # dc_prev = dc f
                dc[b, j] = dc_t[k, j] * gate[b, H + j]
        # dh_{t-1} = (da @ U^T) * m, per gate block with a mask per gate; a held dh passes
        if masked:
            keep_held(mask, t, dh, held, b0, b1)
        da_rows = da[b0:b1]  # (R, 4H)
        if M == 0 and flipped:
            np.dot(recurrent_kernel, da_rows.T, dh_t)
            copy_transposed(dh_t, dh_rows)
        elif M == 0:
            np.dot(da_rows, recurrent_kernel_t, dh_rows)
        elif M == 1:
            if flipped:
                np.dot(recurrent_kernel, da_rows.T, dh_t)
                copy_transposed(dh_t, dh_prev)
            else:
                np.dot(da_rows, recurrent_kernel_t, dh_prev)
            for k in range(R):
                for j in range(H):
                    dh_rows[k, j] = dh_prev[k, j] * masks[0, b0 + k, j]
        else:
            dh_rows[:] = 0
            for g in range(4):
                for k in range(R):
                    for j in range(H):
                        da_gate[k, j] = da_rows[k, g * H + j]
                np.dot(da_gate, kernel_blocks_t[g], dh_prev)
                for k in range(R):
                    for j in range(H):
                        dh_rows[k, j] += dh_prev[k, j] * masks[g, b0 + k, j]
        if masked:
            restore_held(mask, t, dh, held, b0, b1)


def lstm_forward(xw, recurrent_kernel, h0, c0, activation="tanh", recurrent_activation="sigmoid",
                 recurrent_mask=None, mask=None):
    """xw (T, B, 4H), recurrent_kernel (H, 4H), h0, c0 (B, H), mask (T, B) bool or None
    -> (hs (T, B, H) the outputs, (h_last, c_last) the last states, cache)."""
    dtype = xw.dtype
    T, B, H4 = xw.shape
    H = H4 // 4
    xw = as_dtype(xw, dtype)
    recurrent_kernel = as_dtype(recurrent_kernel, dtype)
    h0, c0 = as_dtype(h0, dtype), as_dtype(c0, dtype)
    masks = mask_blocks(recurrent_mask, B, H, dtype)  # (M, B, H)
    kernel_blocks = gate_blocks(recurrent_kernel, 4) if masks.shape[0] > 1 else np.empty((0, H, H), dtype)
    hs = np.empty((T, B, H), dtype)  # (T, B, H)
    cs = np.empty((T, B, H), dtype)  # (T, B, H)
    tanh_cs = np.empty((T, B, H), dtype)  # (T, B, H)
    gates = np.empty((T, B, 4 * H), dtype)  # (T, B, 4H)
    outputs = outputs_buffer(mask, h0, hs)  # (T, B, H), or (0, B, H): the outputs are hs
    recurrent_kernel_t = step_kernel("forward", recurrent_kernel, B, masks.shape[0])  # (4H or 0, H)
    run_rows(_forward_rows, B, xw, recurrent_kernel, recurrent_kernel_t, kernel_blocks, h0, c0, masks,
             loop_mask(mask), hs, cs, tanh_cs, gates, outputs)
    cache = LSTMKernelCache(h0, c0, hs, cs, tanh_cs, gates, recurrent_kernel, kernel_blocks, masks, mask)
    return (outputs if outputs.shape[0] else hs), (hs[-1], cs[-1]), cache


def lstm_backward(dhs, dh_last, dc_last, cache):
    """dhs (T, B, H) or None, dh_last, dc_last (B, H) or None -> (dxw, drecurrent_kernel, dh0, dc0).
    With a mask, dxw is zero at the masked steps."""
    T, B, H = cache.hs.shape
    dtype = cache.hs.dtype
    dhs = np.empty((0, B, H), dtype) if dhs is None else as_dtype(dhs, dtype)
    dh = np.zeros((B, H), dtype) if dh_last is None else np.array(dh_last, dtype=dtype)  # (B, H) copy
    dc = np.zeros((B, H), dtype) if dc_last is None else np.array(dc_last, dtype=dtype)  # (B, H) copy
    dxw = np.empty((T, B, 4 * H), dtype)  # (T, B, 4H)
    kernel_blocks_t = np.ascontiguousarray(cache.kernel_blocks.transpose(0, 2, 1))  # (4 or 0, H, H)
    doutput = output_grad_buffer(cache.mask, B, H, dtype)  # (B, H) or (0, H)
    # (H or 0, 4H) U for the transposed product, or (4H, H) U^T for the written one
    recurrent_kernel, recurrent_kernel_t = backward_kernels(cache.recurrent_kernel, B, cache.masks.shape[0])
    run_rows(_backward_rows, B, dhs, dh, dc, cache.c0, cache.cs, cache.tanh_cs, cache.gates,
             recurrent_kernel, recurrent_kernel_t, kernel_blocks_t, cache.masks, loop_mask(cache.mask),
             doutput, dxw)
    drecurrent_kernel = recurrent_kernel_grad(cache.h0, cache.hs, dxw, cache.masks)  # (H, 4H)
    return dxw, drecurrent_kernel, dh, dc


# --- inference: no backward follows, so nothing is cached ---------------------------------------

INFERENCE_CHUNK = 32  # rows run through all T steps together: their x @ W (32T, 4H) stays in L2


@njit(**JIT_OPTIONS)
def inference_cell(xw_t, bias, a_k, gate_k, c_k, h_k):
    """One row's step after a_k = h_{t-1} @ U: gate_k (4H,) = the gates after their activations
    from xw_t + bias + a_k, then c_k and h_k (H,) updated in place. Row views, and the gates into
    their own buffer rather than over a_k: one output stream per loop, which LLVM vectorises
    (1.75x faster than in place at batch 1)."""
    H = c_k.shape[0]
    for j in range(2 * H):  # i, f
        gate_k[j] = sigmoid(xw_t[j] + bias[j] + a_k[j])
    for j in range(2 * H, 3 * H):  # g
        gate_k[j] = tanh(xw_t[j] + bias[j] + a_k[j])
    for j in range(3 * H, 4 * H):  # o
        gate_k[j] = sigmoid(xw_t[j] + bias[j] + a_k[j])
    for j in range(H):  # c = f * c_prev + i * g
        c_k[j] = gate_k[H + j] * c_k[j] + gate_k[j] * gate_k[2 * H + j]
    for j in range(H):  # h = o * tanh(c)
        h_k[j] = gate_k[3 * H + j] * tanh(c_k[j])


@njit(**JIT_OPTIONS)
def _inference_rows(x, kernel, positions, bias, recurrent_kernel, recurrent_kernel_t, h0, c0, go_backwards,
                    chunk, ys, h_last, c_last, b0, b1):
    """Batch rows b0..b1-1 through all T steps, `chunk` rows at a time: a chunk's inputs are
    projected for all its steps at once (so the whole (T, B, 4H) xw is never written), then its
    time loop keeps only the running h, c. x (B, T, D) batch-major, projected by one GEMM with
    kernel (D, 4H); or, where positions (B, T) has rows, x is (B, T, 0) and kernel is a table
    of projected rows (P, 4H) that positions index (an Embedding's rows, projected once:
    lstm_lookup_inference). ys (B, T, H) in step order, or (0, T, H) when only the last state
    is wanted. recurrent_kernel_t (4H, H) where the step's product runs transposed (see
    step_product), else (0, H)."""
    B, T, D = x.shape
    H = recurrent_kernel.shape[0]
    for r0 in range(b0, b1, chunk):
        r1 = min(r0 + chunk, b1)
        R = r1 - r0
        if positions.shape[0]:
            xw = np.empty((R * T, 4 * H), x.dtype)  # (R*T, 4H), row k*T + t
            for k in range(R):
                for t in range(T):
                    xw[k * T + t] = kernel[positions[r0 + k, t]]
        else:
            xw = np.dot(x[r0:r1].reshape(R * T, D), kernel)  # (R*T, 4H), row k*T + t
        a = np.empty((R, 4 * H), x.dtype)  # (R, 4H) h_{t-1} @ U
        a_t = np.empty((recurrent_kernel_t.shape[0], R), x.dtype)  # (4H or 0, R) its transpose
        gate = np.empty((R, 4 * H), x.dtype)  # (R, 4H) [i, f, g, o] after their activations
        h = np.empty((R, H), x.dtype)  # (R, H)
        c = np.empty((R, H), x.dtype)  # (R, H)
        for k in range(R):
            for j in range(H):
                h[k, j] = h0[r0 + k, j]
            for j in range(H):
                c[k, j] = c0[r0 + k, j]
        for s in range(T):
            t = T - 1 - s if go_backwards else s
            if a_t.shape[0]:
                np.dot(recurrent_kernel_t, h.T, a_t)
                copy_transposed(a_t, a)
            else:
                np.dot(h, recurrent_kernel, a)
            for k in range(R):
                inference_cell(xw[k * T + t], bias, a[k], gate[k], c[k], h[k])
            if ys.shape[0]:
                for k in range(R):
                    for j in range(H):
                        ys[r0 + k, s, j] = h[k, j]
        for k in range(R):
            for j in range(H):
                h_last[r0 + k, j] = h[k, j]
            for j in range(H):
                c_last[r0 + k, j] = c[k, j]


def lstm_inference(x, kernel, bias, recurrent_kernel, h0, c0, go_backwards=False,
                   return_sequences=True, activation="tanh", recurrent_activation="sigmoid"):
    """The forward pass of a layer when no backward follows: the outputs of
    `lstm_forward(x_tm @ kernel + bias, ...)` (x_tm = x time-major, reversed for go_backwards)
    and nothing else.

    x (B, T, D) batch-major, kernel (D, 4H), bias (4H,) or None, recurrent_kernel (H, 4H),
    h0, c0 (B, H) -> (ys (B, T, H) in step order, or None unless return_sequences, (h_last, c_last)).
    """
    no_positions = np.empty((0, 0), np.int32)
    return _run_inference(x, kernel, no_positions, bias, recurrent_kernel, h0, c0, go_backwards,
                          return_sequences)


def lstm_lookup_inference(positions, table, bias, recurrent_kernel, h0, c0, go_backwards=False,
                          return_sequences=True):
    """lstm_inference where x @ kernel is already known row by row: step t of sequence b reads
    row positions[b, t] of table (P, 4H). An Embedding in front of the layer makes it so: its
    rows that a batch looks up, projected once (bptt.layers.lookup_inference), cost P rows of
    GEMM where projecting the looked-up vectors costs B * T. positions (B, T) ints in [0, P)."""
    B, T = positions.shape
    x = np.empty((B, T, 0), table.dtype)  # (B, T, 0): only its shape is read
    positions = np.ascontiguousarray(positions, np.int32)
    return _run_inference(x, table, positions, bias, recurrent_kernel, h0, c0, go_backwards,
                          return_sequences)


def _run_inference(x, kernel, positions, bias, recurrent_kernel, h0, c0, go_backwards,
                   return_sequences):
    dtype = kernel.dtype
    B, T, D = x.shape
    H = recurrent_kernel.shape[0]
    x = as_dtype(x, dtype)
    bias = np.zeros(4 * H, dtype) if bias is None else as_dtype(bias, dtype)
    recurrent_kernel = as_dtype(recurrent_kernel, dtype)
    h0, c0 = as_dtype(h0, dtype), as_dtype(c0, dtype)
    ys = np.empty((B, T, H) if return_sequences else (0, T, H), dtype)  # (B, T, H)
    h_last = np.empty((B, H), dtype)  # (B, H)
    c_last = np.empty((B, H), dtype)  # (B, H)
    rows = min(INFERENCE_CHUNK, -(-B // row_chunks(B, "inference")))  # the most rows a step multiplies
    recurrent_kernel_t = step_kernel("forward", recurrent_kernel, B, rows=rows)  # (4H or 0, H)
    run_rows(_inference_rows, B, x, as_dtype(kernel, dtype), positions, bias, recurrent_kernel,
             recurrent_kernel_t, h0, c0, bool(go_backwards), INFERENCE_CHUNK, ys, h_last, c_last, kind="inference")
    return (ys if return_sequences else None), (h_last, c_last)
