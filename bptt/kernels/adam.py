"""Adam, fused: the update of bptt.optimizers.Adam._update_step (with the decoupled weight decay
of Optimizer.apply_gradients in front of it) as one compiled pass over each variable, in place.
Must equal that reference (tests/kernels/test_adam.py); the rule, as in Keras, per element:

    w = w - w * weight_decay * lr                  (only when weight_decay is set)
    m = m + (g - m) * (1 - beta_1)
    v = v + (g^2 - v) * (1 - beta_2)
    v_hat = max(v_hat, v)                          (amsgrad; v_hat replaces v below)
    w = w - (m * alpha) / (sqrt(v) + epsilon)      alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)

Why: the NumPy reference makes a dozen passes (ufunc calls) over every variable through two
scratch buffers; Adam is memory-bound, and the tutorial's embedding alone is 2.56 M weights
(10 MB per array in float32), so one pass that reads g, m, v, w once and writes m, v, w once
moves a fraction of the bytes: the tutorial model's whole update went from ~10 ms to ~2 ms a
training step (2-core Xeon, float32). A big variable's rows are split over the kernel threads
(numba's team, _common.run_rows) where the recurrent layers kept off NumPy's pool
(_common.numpy_blas_busy False): the embedding's update then takes 1.35 ms instead of 2.2 with its
arrays out of cache (2 cores). Where NumPy's BLAS workers still spin on the second core after the
layers' GEMMs, one thread: a second one gained nothing there. The update is element-wise, so the
split changes nothing in the result.

Adam(lazy_rows=True), opt-in and not Keras' rule, runs `_adam_lazy_rows`: rows (slices along
the first axis) whose gradient is all zero are skipped, see bptt.optimizers.Adam.

The operations are the reference's, in the reference's order, with no fastmath (no fused
multiply-add, no reassociation): in practice the result is the reference's bit for bit, float32
and float64 alike. error_model="numpy" (sqrt of a negative is NaN, x / 0 is inf: NumPy's
answers, no raised exception) leaves the loop without checks, so LLVM vectorises it. The scalars
arrive already cast to the variable's dtype (a float64 scalar would widen a float32 loop).
"""
import numpy as np
from numba import njit
from numba.extending import register_jitable

from bptt.kernels import _common, threads

# No fastmath: the kernel must round exactly as the NumPy reference does.
_JIT = dict(cache=True, nogil=True, error_model="numpy")


@register_jitable
def _adam_elements(w, g, g2, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
                   decay, weight_decay, lr, tiny):
    """Every element of the 1-D arrays; v_hat of length 0 unless amsgrad, g2 (the squared
    gradient to use instead of g * g: see bptt.optimizers.base.RowGradient) of length 0 unless
    given, g of length 0 where the gradient is known to be all +0 (it is then not read; the
    arithmetic is the same, with g = 0). (The loop runs from 0: with a range(i0, i1) numba
    cannot rule out negative indices and LLVM does not vectorise.)"""
    amsgrad = v_hat.shape[0] > 0
    squares = g2.shape[0] > 0
    read_g = g.shape[0] > 0
    zero = tiny - tiny  # +0 in the variable's dtype
    for i in range(w.shape[0]):
        gi = g[i] if read_g else zero
        wi = w[i]
        if decay:
            wi = wi - wi * weight_decay * lr
        g2i = g2[i] if squares else gi * gi
        mi = m[i] + (gi - m[i]) * one_minus_beta_1
        vi = v[i] + (g2i - v[i]) * one_minus_beta_2
        if abs(mi) < tiny:  # flush subnormals to zero, as TensorFlow's CPU kernels do
            mi = mi - mi
        if abs(vi) < tiny:
            vi = vi - vi
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vh = v_hat[i]
            if vi > vh or vi != vi:  # np.maximum: the larger, NaN if either is NaN
                vh = vi
            v_hat[i] = vh
            vi = vh
        w[i] = wi - (mi * alpha) / (np.sqrt(vi) + epsilon)


@njit(inline="always", **_JIT)
def _adam_flat(w, g, g2, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
               decay, weight_decay, lr, tiny):
    """All arrays 1-D, same length and dtype; v_hat and g2 of length 0 unless used."""
    _adam_elements(w, g, g2, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
                   decay, weight_decay, lr, tiny)


@njit(**_JIT)
def _adam_lazy_rows(w, g, g2, g_bits, m, v, v_hat, row_size, alpha, one_minus_beta_1,
                    one_minus_beta_2, epsilon, decay, weight_decay, lr, tiny):
    """The arrays 1-D, read as rows of row_size: a row whose gradient is all zero keeps its m,
    v (and v_hat) and gets only the weight decay; the others get the full update.

    g_bits is g's memory as unsigned integers of its width: a row is all zero (+0 or -0) when
    the OR of its bits without the sign bit is 0, and NaN counts as non-zero, as in the
    reference's np.any(g != 0). An integer OR vectorises; a float compare with an early exit
    does not (it made the scan as slow as the dense update)."""
    amsgrad = v_hat.shape[0] > 0
    magnitude = ~(g_bits.dtype.type(1) << g_bits.dtype.type(8 * g_bits.itemsize - 1))
    for r in range(w.shape[0] // row_size):
        i0, i1 = r * row_size, (r + 1) * row_size
        row_bits = g_bits[i0:i1]
        bits = g_bits.dtype.type(0)
        for i in range(row_size):
            bits |= row_bits[i]
        if bits & magnitude:
            row_v_hat = v_hat[i0:i1] if amsgrad else v_hat
            row_g2 = g2[i0:i1] if g2.shape[0] > 0 else g2
            _adam_elements(w[i0:i1], g[i0:i1], row_g2, m[i0:i1], v[i0:i1], row_v_hat, alpha,
                           one_minus_beta_1, one_minus_beta_2, epsilon, decay, weight_decay, lr, tiny)
        elif decay:
            for i in range(i0, i1):
                w[i] = w[i] - w[i] * weight_decay * lr


@njit(inline="always", **_JIT)
def _adam_square_rows(w, g, g2, square_rows, zero_off_rows, m, v, v_hat, row_size, alpha,
                      one_minus_beta_1, one_minus_beta_2, epsilon, decay, weight_decay, lr, tiny):
    """_adam_flat with g2 read only in the rows flagged in square_rows (elsewhere g2 == g * g,
    so g * g is used and the squares are not read): an embedding's few looked-up rows. With
    zero_off_rows, g is +0 in the unflagged rows and is not read there either (an embedding's
    gradient: ~9 of the tutorial's 10 MB a step)."""
    amsgrad = v_hat.shape[0] > 0
    empty = g2[:0]
    no_g = g[:0]
    rows = w.shape[0] // row_size
    r = 0
    while r < rows:  # runs of rows with the same flag: few, long, vectorised passes
        start, flagged = r, square_rows[r]
        while r < rows and square_rows[r] == flagged:
            r += 1
        i0, i1 = start * row_size, r * row_size
        run_v_hat = v_hat[i0:i1] if amsgrad else v_hat
        run_g2 = g2[i0:i1] if flagged else empty
        run_g = g[i0:i1] if flagged or not zero_off_rows else no_g
        _adam_elements(w[i0:i1], run_g, run_g2, m[i0:i1], v[i0:i1], run_v_hat, alpha,
                       one_minus_beta_1, one_minus_beta_2, epsilon, decay, weight_decay, lr, tiny)


@njit(**_JIT)
def _adam_rows(w, g, g2, square_rows, zero_off_rows, m, v, v_hat, row_size, alpha,
               one_minus_beta_1, one_minus_beta_2, epsilon, decay, weight_decay, lr, tiny, r0, r1):
    """Rows [r0, r1) (slices along the first axis, row_size elements each) of every array (the
    empty ones stay empty): _adam_square_rows where square_rows has rows, else _adam_flat."""
    i0, i1 = r0 * row_size, r1 * row_size
    w, m, v = w[i0:i1], m[i0:i1], v[i0:i1]
    g = g[i0:i1] if g.shape[0] else g
    g2 = g2[i0:i1] if g2.shape[0] else g2
    v_hat = v_hat[i0:i1] if v_hat.shape[0] else v_hat
    if square_rows.shape[0]:
        _adam_square_rows(w, g, g2, square_rows[r0:r1], zero_off_rows, m, v, v_hat, row_size,
                          alpha, one_minus_beta_1, one_minus_beta_2, epsilon, decay, weight_decay,
                          lr, tiny)
    else:
        _adam_flat(w, g, g2, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
                   decay, weight_decay, lr, tiny)


_TINY = {}  # dtype type -> its smallest normal number (np.finfo costs microseconds a call)


def _tiny(dt):
    tiny = _TINY.get(dt)
    if tiny is None:
        tiny = _TINY[dt] = dt(np.finfo(dt).tiny)
    return tiny


def adam_update(variable, grad, momentum, velocity, velocity_hat, alpha, beta_1, beta_2,
                epsilon, weight_decay=None, lr=0.0, lazy_rows=False, grad_square=None,
                square_rows=None, zero_off_rows=False):
    """One Adam step on `variable`, in place, with its slots `momentum`, `velocity` (and
    `velocity_hat` for amsgrad, else None).

    variable, grad and the slots: C-contiguous arrays of one shape and one float dtype (the
    caller checks; Optimizer._fusable). alpha: the bias-corrected step size, already computed in
    the variable's dtype as the reference does. weight_decay None: no decay (0.0 still decays,
    as the reference: inf * 0 is NaN there too). lazy_rows: rows (slices along the first axis)
    whose gradient is all zero are skipped, see bptt.optimizers.Adam (not Keras' rule).
    grad_square: the array to use for g^2 in v's update (an embedding's, see
    bptt.optimizers.base.RowGradient), else None; square_rows: (rows,) bool, the rows where it
    differs from g^2 (it is read only there), or None for all rows. zero_off_rows: the
    caller knows grad is +0 outside square_rows (an embedding's unclipped gradient), so it is
    not read there.
    """
    dt = variable.dtype.type
    empty = np.empty(0, dtype=variable.dtype)
    g2 = empty if grad_square is None else np.ascontiguousarray(grad_square).reshape(-1)
    arrays = (variable.reshape(-1), grad.reshape(-1), g2, momentum.reshape(-1),
              velocity.reshape(-1), empty if velocity_hat is None else velocity_hat.reshape(-1))
    scalars = (dt(alpha), dt(1 - beta_1), dt(1 - beta_2), dt(epsilon),
               weight_decay is not None, dt(weight_decay or 0.0), dt(lr), _tiny(dt))
    row_size = variable.size // variable.shape[0] if variable.ndim and variable.shape[0] else 1
    if lazy_rows:
        g_bits = arrays[1].view(np.uint32 if variable.dtype == np.float32 else np.uint64)
        _adam_lazy_rows(arrays[0], arrays[1], arrays[2], g_bits, *arrays[3:], max(row_size, 1),
                        *scalars)
    else:
        row_size = max(row_size, 1)
        rows = variable.size // row_size
        if grad_square is None or square_rows is None:
            square_rows = np.empty(0, np.bool_)  # (no rows: every row reads g * g)
        args = (*arrays[:3], square_rows, bool(zero_off_rows), *arrays[3:], row_size, *scalars)
        chunks = min(rows, threads.parts("elements", variable.size))
        if _common.numpy_blas_busy or chunks == 1:
            _adam_rows(*args, 0, rows)  # (no hand-off, no BLAS to pin: a few microseconds a variable)
        else:
            _common.run_rows(_adam_rows, rows, *args, chunks=chunks)
