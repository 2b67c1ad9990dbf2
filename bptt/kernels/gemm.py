"""The layers' big GEMMs, split by rows over the kernel threads, each thread on SciPy's BLAS held
at one thread (the BLAS numba's np.dot calls), so NumPy's BLAS pool never runs in a recurrent
layer.

Why: NumPy's OpenBLAS workers busy-wait on the second core for a while after every GEMM they
join. A recurrent layer runs a big GEMM right before and after each time loop (x @ kernel, and
dx, dkernel, drecurrent_kernel after the backward loop), so with those GEMMs on NumPy's pool
whatever runs on the second core next (the second half of a time loop, of Adam's update, of the
embedding's backward) races a spinning worker and gains nothing. Split here, the GEMMs keep both
cores (two one-thread halves run about as fast as one two-thread GEMM) and leave nobody spinning
but numba's own team, which takes the next split. Used at every batch size where that team runs
the parts (_common.team_threads), else where the time loop's rows are split too.

Must equal the plain NumPy products (tests/kernels/test_gemm.py); the row split changes only the
order of the sums in the `_tn` reduction.

    matmul(a, b)      a (N, K) @ b (K, M) -> (N, M), rows of a split
    matmul_tn(a, b)   a (N, K)^T @ b (N, M) -> (K, M), the reduction over N split, partial sums added
    projection(x, kernel, bias)   x @ kernel + bias, the bias added to each thread's rows while
                      they are in cache (a recurrent layer's input projection)
    projection_backward(x, dxw, kernel, dx_mask)   (x^T dxw, (dxw @ kernel^T) * dx_mask, dxw's
                      column sums) in one split pass over the rows (its backward)
"""
import numpy as np
from numba import njit

from bptt.kernels import _common, threads
from bptt.kernels._common import JIT_OPTIONS

# Products of at most this many multiply-adds (N * K * M) go to NumPy as they are: OpenBLAS runs
# anything under 4 * 65536 on the calling thread (no worker wakes to spin), and NumPy's call costs
# ~1.5 us less than a compiled call with its BLAS-thread pinning (a Dense(1) on one review)
TINY_PRODUCT = 65536


@njit(**JIT_OPTIONS)
def _matmul_rows(a, b, out, part, r0, r1):
    np.dot(a[r0:r1], b, out[r0:r1])


@njit(**JIT_OPTIONS)
def _projection_rows(x, kernel, bias, out, part, r0, r1):
    """Rows [r0, r1) of x @ kernel + bias (bias of length 0: none)."""
    np.dot(x[r0:r1], kernel, out[r0:r1])
    if bias.shape[0]:
        for r in range(r0, r1):
            row = out[r]
            for j in range(bias.shape[0]):
                row[j] += bias[j]


@njit(**JIT_OPTIONS)
def _matmul_tn_rows(a, b, parts, part, r0, r1):
    np.dot(a[r0:r1].T, b[r0:r1], parts[part])


@njit(**JIT_OPTIONS)
def _projection_backward_rows(x, dxw, kernel_t, dx_mask, dx, dkernel_parts, dbias_parts, part, r0,
                              r1):
    """Rows [r0, r1) of a projection's backward, one pass over those rows of dxw: dx = dxw @
    kernel^T there (times row r % P of dx_mask (P, K) unless it has no rows), and this part's
    shares of dkernel = x^T dxw and of dbias = sum of dxw rows."""
    np.dot(dxw[r0:r1], kernel_t, dx[r0:r1])
    P = dx_mask.shape[0]
    if P:
        for r in range(r0, r1):
            row, mask = dx[r], dx_mask[r % P]
            for j in range(row.shape[0]):
                row[j] *= mask[j]
    np.dot(x[r0:r1].T, dxw[r0:r1], dkernel_parts[part])
    sums = dbias_parts[part]
    for j in range(sums.shape[0]):
        sums[j] = 0
    for r in range(r0, r1):
        row = dxw[r]
        for j in range(sums.shape[0]):
            sums[j] += row[j]


def _run_parts(loop, N, parts_count, *args):
    """loop(*args, part, r0, r1) for parts_count consecutive row ranges covering [0, N), on
    SciPy's BLAS at one thread (_common.run_ranges: one region where numba's team takes it)."""
    with _common.blas_threads(1):
        if parts_count == 1:
            loop(*args, 0, 0, N)
        else:
            _common.run_ranges(loop, _common.bounds_of(N, parts_count), *args, numbered=True)


def _parts(N):
    return threads.parts("gemm", N)


def matmul(a, b):
    """a (N, K) @ b (K, M) -> (N, M) C-contiguous, in a's dtype (b is cast to it)."""
    a = _common.as_dtype(a, a.dtype)
    b = _common.as_dtype(b, a.dtype)
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)  # (N, M)
    if a.shape[0] and a.shape[1] and b.shape[1]:
        _run_parts(_matmul_rows, a.shape[0], _parts(a.shape[0]), a, b, out)
    else:
        out[...] = 0
    return out


def numpy_projection(x, kernel, bias=None):
    """projection on NumPy's BLAS: the product, then the bias added."""
    xw = x @ kernel
    if bias is not None:
        xw += bias
    return xw


def numpy_projection_backward(x, dxw, kernel, dx_mask=None):
    """projection_backward as NumPy's three products."""
    dx = dxw @ kernel.T  # (N, K)
    if dx_mask is not None:
        rows_by_mask_row = dx.reshape(-1, *dx_mask.shape)  # (N / P, P, K): row r masked by dx_mask[r % P]
        rows_by_mask_row *= dx_mask
    return x.T @ dxw, dx, dxw.sum(axis=0)


def projection(x, kernel, bias=None):
    """x (N, K) @ kernel (K, M) + bias (M,) or None -> (N, M) C-contiguous, in x's dtype."""
    if x.shape[0] * x.shape[1] * kernel.shape[1] <= TINY_PRODUCT:
        return numpy_projection(x, kernel.astype(x.dtype, copy=False), bias)
    x = _common.as_dtype(x, x.dtype)
    kernel = _common.as_dtype(kernel, x.dtype)
    bias = np.empty(0, x.dtype) if bias is None else _common.as_dtype(bias, x.dtype)
    out = np.empty((x.shape[0], kernel.shape[1]), x.dtype)  # (N, M)
    if x.shape[0] and x.shape[1] and kernel.shape[1]:
        _run_parts(_projection_rows, x.shape[0], _parts(x.shape[0]), x,
                   kernel, bias, out)
    else:
        out[...] = bias if bias.shape[0] else 0
    return out


def matmul_tn(a, b):
    """a (N, K)^T @ b (N, M) -> (K, M), in a's dtype."""
    a = _common.as_dtype(a, a.dtype)
    b = _common.as_dtype(b, a.dtype)
    N = a.shape[0]
    parts = _parts(N)
    out = np.empty((parts, a.shape[1], b.shape[1]), a.dtype)  # (P, K, M) partial sums
    if N and a.shape[1] and b.shape[1]:
        _run_parts(_matmul_tn_rows, N, parts, a, b, out)
    else:
        out[...] = 0
    return out[0] if parts == 1 else out.sum(axis=0)


def projection_backward(x, dxw, kernel, dx_mask=None):
    """For xw = (x0 * mask) @ kernel + bias with x = x0 * mask (N, K), dxw (N, M), kernel (K, M):
    (dkernel = x^T dxw, dx0 = (dxw @ kernel^T) * mask, dbias = dxw summed over its rows), the
    rows split over the kernel threads and each thread's rows read once for all three (one
    hand-off instead of two, and no third pass over dxw for the bias). dx_mask: None, or (P, K)
    with row r of x masked by row r % P (a recurrent layer's rows are t * B + b, its mask (B, K))."""
    if x.shape[0] * x.shape[1] * dxw.shape[1] <= TINY_PRODUCT:
        return numpy_projection_backward(x, dxw, kernel.astype(x.dtype, copy=False), dx_mask)
    x = _common.as_dtype(x, x.dtype)
    dxw = _common.as_dtype(dxw, x.dtype)
    dx_mask = (np.empty((0, x.shape[1]), x.dtype) if dx_mask is None
               else _common.as_dtype(dx_mask, x.dtype))
    N, M = dxw.shape
    parts = _parts(N)
    dx = np.empty((N, x.shape[1]), x.dtype)  # (N, K)
    dkernel_parts = np.zeros((parts, x.shape[1], M), x.dtype)  # (P, K, M)
    dbias_parts = np.zeros((parts, M), x.dtype)  # (P, M)
    if N and x.shape[1] and M:
        _run_parts(_projection_backward_rows, N, parts, x, dxw,
                   _common.as_dtype(kernel, x.dtype).T, dx_mask, dx, dkernel_parts, dbias_parts)
    else:
        dx[...] = 0
    if parts == 1:
        return dkernel_parts[0], dx, dbias_parts[0]
    return dkernel_parts.sum(axis=0), dx, dbias_parts.sum(axis=0)
