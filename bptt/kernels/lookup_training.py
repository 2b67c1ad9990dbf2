"""The two passes over a recurrent layer's input projection when its inputs are rows of an
Embedding's table (bptt.layers.lookup_training), split by rows over the kernel threads as
bptt.kernels.gemm splits the plain projection. Must equal the plain NumPy expressions
(tests/layers/test_lookup_training.py):

    gather(projected, positions)       projected[positions]: (N, M) from (P, M) and (N,) ints
    lookup_backward(dxw, positions, kernel, P)
        -> (dx = dxw @ kernel^T (N, K),  dprojected (P, M): dprojected[positions[n]] += dxw[n])

Letters: N = T*B lookups (the layer's rows t * B + b), P distinct table rows, K the table's
width (the layer's input features), M = G*H the projection's width.

`lookup_backward` reads each row of dxw once for both results, as gemm.projection_backward does
for dx and dkernel; each part sums its rows into its own (P, M) block, and the blocks are added
after (the order of the sums differs from a one-thread sum only in that split).
"""
import numpy as np
from numba import njit

from bptt.kernels import _common, gemm
from bptt.kernels._common import JIT_OPTIONS


@njit(**JIT_OPTIONS)
def _gather_rows(projected, positions, out, part, r0, r1):
    """Rows [r0, r1) of out = projected[positions]."""
    M = projected.shape[1]
    for r in range(r0, r1):
        source, target = projected[positions[r]], out[r]
        for j in range(M):
            target[j] = source[j]


@njit(**JIT_OPTIONS)
def _lookup_backward_rows(dxw, positions, kernel_t, dx, dprojected_parts, part, r0, r1):
    """Rows [r0, r1): dx = dxw @ kernel^T there, and this part's share of the sum of dxw's rows
    by position."""
    np.dot(dxw[r0:r1], kernel_t, dx[r0:r1])
    sums = dprojected_parts[part]
    M = dxw.shape[1]
    for r in range(r0, r1):
        source, target = dxw[r], sums[positions[r]]
        for j in range(M):
            target[j] += source[j]


def gather(projected, positions):
    """projected (P, M) C-contiguous, positions (N,) int32 in [0, P) -> projected[positions]
    (N, M)."""
    N = positions.shape[0]
    out = np.empty((N, projected.shape[1]), projected.dtype)  # (N, M)
    if N:
        gemm._run_parts(_gather_rows, N, gemm._parts(N), projected, positions, out)
    return out


def lookup_backward(dxw, positions, kernel, P):
    """dxw (N, M), positions (N,) int32 in [0, P), kernel (K, M) -> (dx (N, K) = dxw @ kernel^T,
    dprojected (P, M) = dxw's rows summed by position), in dxw's dtype."""
    dxw = _common.as_dtype(dxw, dxw.dtype)
    kernel_t = _common.as_dtype(kernel, dxw.dtype).T  # (M, K)
    N, M = dxw.shape
    parts = gemm._parts(N)
    dx = np.empty((N, kernel.shape[0]), dxw.dtype)  # (N, K)
    dprojected_parts = np.zeros((parts, P, M), dxw.dtype)  # (parts, P, M)
    if N:
        gemm._run_parts(_lookup_backward_rows, N, parts, dxw, positions, kernel_t, dx,
                        dprojected_parts)
    return dx, (dprojected_parts[0] if parts == 1 else dprojected_parts.sum(axis=0))
