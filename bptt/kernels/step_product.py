"""Which way round a time loop asks BLAS for its per-step product, chosen by timing both on the
machine that runs it.

A fused time loop multiplies each step's states by the recurrent kernel: forward
a = h_{t-1} (R, H) @ U (H, G*H), backward dh = da (R, G*H) @ U^T (G*H, H), with R the batch
rows one thread runs. BLAS can be asked for the same numbers the other way round, as the
transposed product:

    "as written"   a = h @ U                   dh = da @ U^T    (U^T a contiguous copy)
    "transposed"   a^T = U^T @ h^T  (G*H, R)   dh^T = U @ da^T  (H, R)

after which the loop copies a^T (or dh^T) back into its (R, ·) rows, a few microseconds. Each
element is the same dot product of length H (or G*H) in both; OpenBLAS sums it in the same order
either way (tests/kernels/test_step_product.py compares them), but the speed differs a lot, and
which one wins depends on the BLAS, its kernels for the CPU, the cache sizes and the shape. On a
2-core Skylake-X VM with OpenBLAS 0.3.30 (one thread, best of 5, 2026-12-05):

    H    R   forward: as written / transposed   backward: as written / transposed
    64   16        3.3 / 6.7 us                        4.5 / 4.4 us
    256  32        179 / 125 us                        189 / 115 us
    512  16        781 / 473 us                        843 / 455 us

so no fixed rule (and no size threshold tuned on one machine) picks right everywhere.
`transposed(kind, R, H, G, dtype)` therefore times both orientations on this machine the first
time a shape is met (interleaved rounds, the best of each; under a few milliseconds for the
largest layers) and remembers the answer for the process. A shape whose product is too small to
matter (under MIN_FLOPS) is not timed: it runs as written.

Asked by the training loops of every cell (GRU: reset_after=True) with no mask or a shared
one, and by the LSTM's inference loop. `force(True | False | None)` sets the orientation for every shape (None: back to measuring);
the tests run both so, and BPTT_STEP_PRODUCT=written|transposed does the same from the
environment (a reproducible choice for benchmarks).
"""
import os
import time

import numpy as np
from numba import njit

from bptt.kernels._common import JIT_OPTIONS

MIN_FLOPS = 2 * 16 * 64 * 256  # below a (16, 64) @ (64, 256) product, not worth timing
ROUNDS = 3  # interleaved timing rounds per orientation; each round repeats until ~0.2 ms

_CHOSEN = {}  # (kind, R, H, G, dtype name) -> True where the transposed product was faster
_FORCED = None


def force(transposed):
    """Every shape runs transposed (True) or as written (False); None measures again."""
    global _FORCED
    if transposed not in (True, False, None):
        raise ValueError(f"force expects True, False or None, got {transposed!r}")
    _FORCED = transposed


def _from_environment():
    value = os.environ.get("BPTT_STEP_PRODUCT", "").strip().lower()
    if value in ("", "measure"):
        return None
    if value in ("written", "transposed"):
        return value == "transposed"
    raise ValueError(f"BPTT_STEP_PRODUCT must be 'written', 'transposed' or 'measure', got {value!r}")


def transposed(kind, R, H, G, dtype):
    """Whether a time loop of R rows, H units and G gate blocks should ask for its `kind`
    ("forward" or "backward") product transposed: forced, or measured once per shape."""
    if _FORCED is not None:
        return _FORCED
    environment = _from_environment()
    if environment is not None:
        return environment
    if R < 2 or 2 * R * H * G * H < MIN_FLOPS:
        return False
    key = (kind, R, H, G, np.dtype(dtype).name)
    choice = _CHOSEN.get(key)
    if choice is None:
        choice = _CHOSEN[key] = _measure(kind, R, H, G, np.dtype(dtype))
    return choice


def step_kernel(kind, recurrent_kernel, B, masks=0, rows=None):
    """The operand a time loop over B rows needs for its `kind` product transposed, where that is
    the faster way here: U^T (G*H, H) forward, U (H, G*H) backward, contiguous; else an empty
    (0, ·) array, which tells the loop to multiply as written. recurrent_kernel is U (H, G*H);
    `masks` the loop's recurrent masks (more than one, a mask per gate, always runs as written);
    `rows` the most rows one step multiplies (default: one part of B split over the threads)."""
    from bptt.kernels._common import row_chunks

    H, GH = recurrent_kernel.shape
    operand = recurrent_kernel.T if kind == "forward" else recurrent_kernel
    R = -(-B // row_chunks(B)) if rows is None else rows
    if masks <= 1 and transposed(kind, R, H, GH // max(H, 1), recurrent_kernel.dtype):
        return np.ascontiguousarray(operand)
    return np.empty((0, operand.shape[1]), recurrent_kernel.dtype)


def backward_kernels(recurrent_kernel, B, masks=0):
    """(U for the transposed backward product or (0, G*H), U^T contiguous for the written one or
    (0, H)): the operands of a backward time loop over B rows, only the one it uses copied."""
    flipped = step_kernel("backward", recurrent_kernel, B, masks)
    if flipped.shape[0]:
        return flipped, np.empty((0, recurrent_kernel.shape[0]), recurrent_kernel.dtype)
    return flipped, np.ascontiguousarray(recurrent_kernel.T)


@njit(**JIT_OPTIONS)
def _forward_written(h, kernel, kernel_t, out, out_t, repeats):
    for _ in range(repeats):
        np.dot(h, kernel, out)


@njit(**JIT_OPTIONS)
def _forward_transposed(h, kernel, kernel_t, out, out_t, repeats):
    for _ in range(repeats):
        np.dot(kernel_t, h.T, out_t)
        copy_transposed(out_t, out)


@njit(**JIT_OPTIONS)
def copy_transposed(source, target):
    """target (R, M) = source (M, R)^T, in blocks of 16 columns of target."""
    M, R = source.shape
    for j0 in range(0, M, 16):
        j1 = min(j0 + 16, M)
        for k in range(R):
            for j in range(j0, j1):
                target[k, j] = source[j, k]


def _operands(kind, R, H, G, dtype):
    """(rows, kernel, kernel_t, out, out_t) of the product `kind` at this shape: forward
    (R, H) @ (H, GH); backward (R, GH) @ (GH, H), the same loop with the kernel's roles swapped."""
    rng = np.random.default_rng(0)
    inner, outer = (H, G * H) if kind == "forward" else (G * H, H)
    rows = rng.standard_normal((R, inner)).astype(dtype)
    kernel = rng.standard_normal((inner, outer)).astype(dtype)
    kernel_t = np.ascontiguousarray(kernel.T)
    return rows, kernel, kernel_t, np.empty((R, outer), dtype), np.empty((outer, R), dtype)


def _measure(kind, R, H, G, dtype):
    from bptt.kernels._common import KERNEL_BLAS_THREADS, blas_threads

    operands = _operands(kind, R, H, G, dtype)
    loops = (_forward_written, _forward_transposed)
    with blas_threads(KERNEL_BLAS_THREADS):  # as inside the time loops
        for loop in loops:
            loop(*operands, 1)  # compiled (or read from the cache), and BLAS warmed up
        started = time.perf_counter()
        _forward_written(*operands, 1)
        once = max(time.perf_counter() - started, 1e-7)
        repeats = max(1, min(64, int(2e-4 / once)))
        best = [float("inf"), float("inf")]
        for _ in range(ROUNDS):
            for i, loop in enumerate(loops):
                started = time.perf_counter()
                loop(*operands, repeats)
                best[i] = min(best[i], time.perf_counter() - started)
    return best[1] < best[0]
