"""Shared pieces of the fused kernels: element-wise activations, the BLAS thread limit, the
runner that hands batch rows to the compiled loops (numba's team or helper threads), and the
helpers every cell uses outside its compiled time loop.

Letters: T time, B batch, H units, G gate blocks (1 SimpleRNN, 4 LSTM, 3 GRU).

Activations inside the compiled loops (`tanh`, `sigmoid`) are overloaded on the float type:

    float64: exact, math.tanh and the stable sigmoid of bptt.ops.activations, so the fused
             kernels equal the reference to ~1e-15 (the gradient checks run in float64).
    float32: a rational approximation of tanh (Eigen's `generic_fast_tanh_float`, a degree-13 /
             degree-6 odd/even polynomial pair on x clamped to +-7.9053), with
             sigmoid(x) = 0.5 + 0.5 tanh(x / 2). Max abs error 2.7e-7 for tanh and 1.7e-7 for
             sigmoid as compiled (float32 itself resolves 6e-8 near 1), |tanh| <= 1, and it has no
             branch, so LLVM vectorises the gate loops (math.tanh is ~15 ns an element, this is
             well under 1 ns). Every float32 constant is np.float32 so nothing widens to float64.

BLAS threads. Numba's np.dot calls SciPy's BLAS (scipy.linalg.cython_blas), which with pip
wheels is a second OpenBLAS (scipy.libs/libscipy_openblas) beside NumPy's (numpy.libs). Each
owns a pool of one thread per core. The per-step GEMMs are small ((B, H) @ (H, G*H), e.g.
32 x 64 x 256); `blas_threads(1)` pins SciPy's pool to one thread while a kernel runs and
restores it after, so its workers never wake to spin. The big one-off GEMMs (x @ kernel in the
layer, drecurrent_kernel after the loop here) are split by rows over the cores, each part on
SciPy's BLAS at one thread (bptt.kernels.gemm), wherever numba's team takes split work
(team_threads), so NumPy's pool stays asleep too; without the team, below batch 64 they run on
NumPy's two-thread pool. See benchmarks/kernels_speed.py for the measurement behind the choice
of one SciPy thread: on 2 cores, inside a training step (NumPy's pool busy-waits after the
layer's GEMMs), SciPy's pool at 2 threads was no faster at B=32 and 1.4x slower at B=128 (best
of 30; 7x at the median).

Loops are written with one output stream per inner loop: with several, LLVM cannot rule out
aliasing between numba's array arguments and leaves the loop scalar (the LSTM backward's
element loops ran 1.7x slower so).
The backward GEMMs take contiguous copies of U^T: OpenBLAS is up to 1.6x faster on them than on
the transposed view at these sizes.

Numba cache caveat: the kernels are compiled with cache=True; numba invalidates a cached kernel
when its own file changes, not when this file does. After editing the overloads here, delete
bptt/kernels/__pycache__/*.nb[ic] (or set NUMBA_CACHE_DIR elsewhere).
"""
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from bptt.kernels import threads as threads_model

# Options of every compiled loop. error_model="numpy": division by zero gives inf/nan instead of
# a raised exception, so the loops carry no checks and vectorise. fastmath only as {"contract"}:
# a * b + c may become one fused multiply-add (one rounding instead of two; ~20% off the gate
# loops); no reassociation, no approximate division, no assumptions about inf/nan, so the
# float64 kernels still match the reference to ~1e-15.
JIT_OPTIONS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


# --- activations, overloaded on the float type ---------------------------------------------

def tanh(x):
    """tanh; inside a compiled kernel: exact for float64, the rational approximation for float32."""
    return np.tanh(x)


def sigmoid(x):
    """Logistic sigmoid; inside a compiled kernel: exact for float64, via fast tanh for float32."""
    return 1 / (1 + np.exp(-x))


@register_jitable
def _tanh_float32(x):
    # Eigen's generic_fast_tanh_float: tanh(x) ~ x P(x^2) / Q(x^2) on |x| <= 7.9053,
    # where the rational form reaches 1 in float32.
    x = min(max(x, np.float32(-7.90531110763549805)), np.float32(7.90531110763549805))
    x2 = x * x
    p = np.float32(-2.76076847742355e-16)
    p = p * x2 + np.float32(2.00018790482477e-13)
    p = p * x2 + np.float32(-8.60467152213735e-11)
    p = p * x2 + np.float32(5.12229709037114e-08)
    p = p * x2 + np.float32(1.48572235717979e-05)
    p = p * x2 + np.float32(6.37261928875436e-04)
    p = p * x2 + np.float32(4.89352455891786e-03)
    q = np.float32(1.19825839466702e-06)
    q = q * x2 + np.float32(1.18534705686654e-04)
    q = q * x2 + np.float32(2.26843463243900e-03)
    q = q * x2 + np.float32(4.89352518554385e-03)
    return x * p / q


@register_jitable
def _sigmoid_float32(x):
    return np.float32(0.5) + np.float32(0.5) * _tanh_float32(np.float32(0.5) * x)


@register_jitable
def _tanh_exact(x):
    return math.tanh(x)


@register_jitable
def _sigmoid_exact(x):
    # As bptt.ops.activations.sigmoid: exp only of a non-positive number, so no overflow.
    e = math.exp(-abs(x))
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


def _is_float32(x):
    return isinstance(x, types.Float) and x.bitwidth == 32


@overload(tanh)
def _tanh_overload(x):
    return _tanh_float32 if _is_float32(x) else _tanh_exact


@overload(sigmoid)
def _sigmoid_overload(x):
    return _sigmoid_float32 if _is_float32(x) else _sigmoid_exact


# --- BLAS threads ----------------------------------------------------------------------------

_NUMBA_BLAS = None  # threadpoolctl controllers of the BLAS numba's np.dot calls; found once


def _numba_blas_controllers():
    """The thread-pool controllers of SciPy's BLAS, the one numba's np.dot calls.

    With pip wheels it is scipy.libs/libscipy_openblas*, told apart from NumPy's by its path.
    When SciPy and NumPy share one BLAS (conda, system packages) that shared library is returned:
    limiting it for the duration of a kernel is still right, the kernel being the only caller.
    """
    global _NUMBA_BLAS
    if _NUMBA_BLAS is None:
        import scipy
        import scipy.linalg.cython_blas  # noqa: F401  (loads the library before we look)
        from threadpoolctl import ThreadpoolController

        blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        scipy_root = os.path.dirname(os.path.realpath(scipy.__file__))  # .../site-packages/scipy
        own = [c for c in blas if os.path.realpath(c.filepath).startswith(scipy_root)]
        _NUMBA_BLAS = own or blas
    return _NUMBA_BLAS


_NUMBA_BLAS_KNOBS = None  # [(get_num_threads, set_num_threads)] per controller; found once


def _openblas_thread_functions(controller):
    """OpenBLAS' own (get, set) C functions, under any of the names threadpoolctl looks for."""
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64"):
            get = getattr(controller.dynlib, f"{prefix}openblas_get_num_threads{suffix}", None)
            set_ = getattr(controller.dynlib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                return get, set_
    return None


def _numba_blas_knobs():
    """(get, set) thread-count functions of each controller: OpenBLAS' own C functions where its
    threads are pthreads (1 us for get + two sets with the `with`, against 3 us through
    threadpoolctl: this runs on every kernel call, which counts at batch 1), else threadpoolctl's
    methods (an OpenMP build needs them)."""
    global _NUMBA_BLAS_KNOBS
    if _NUMBA_BLAS_KNOBS is None:
        knobs = []
        for c in _numba_blas_controllers():
            direct = None
            if c.internal_api == "openblas" and getattr(c, "threading_layer", None) == "pthreads":
                direct = _openblas_thread_functions(c)
            knobs.append(direct or (c.get_num_threads, c.set_num_threads))
        _NUMBA_BLAS_KNOBS = knobs
    return _NUMBA_BLAS_KNOBS


class blas_threads:
    """Limit the BLAS numba calls to n threads inside the `with` block (under a microsecond:
    a get and two sets per library, the libraries being located once per process)."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        n = self.n
        self.before = [(set_, get()) for get, set_ in _numba_blas_knobs()]
        for set_, before in self.before:
            if before != n:
                set_(n)

    def __exit__(self, *exc_info):
        for set_, before in self.before:
            if before != self.n:
                set_(before)
        return False


KERNEL_BLAS_THREADS = 1  # threads of SciPy's BLAS while a kernel's time loop runs


# --- batch rows across threads ---------------------------------------------------------------

# Which threads share split work: bptt.kernels.threads (how many, and how much work each part
# needs). Why the split work keeps off NumPy's BLAS pool: two halves of a time loop run in
# 0.55-0.7 of one thread's time, but only if nobody spins on the other cores: NumPy's OpenBLAS
# workers busy-wait for ~0.1 s after every NumPy GEMM they join (openblas_set_num_threads does
# not stop them), and against them the second half gained nothing or lost up to 15%
# (benchmarks/kernels_speed.py, section 3). So a recurrent layer's big GEMMs are split the same
# way on SciPy's one-thread BLAS (bptt.kernels.gemm, chosen by kernels.gemm_functions(batch))
# and NumPy's pool stays asleep: at any batch size where numba's team runs the parts
# (team_threads), else where the rows are split. Without the team, a batch too small to split
# runs its loop on one thread and its GEMMs on NumPy's BLAS, as measured best at batch 32 with
# Python helper threads (batch 32 8.4 -> 10.6 ms had it split too). With the team, the whole
# step keeps off NumPy's pool, and Adam and the embedding's backward are split too (tutorial
# model, 2 cores: batch 32 8.3-9.8 -> 6.9-7.4 ms, batch 128 24.5-26.3 -> 19.8-21.7 ms).


# Whether NumPy's BLAS pool ran the last recurrent layer's big GEMMs (kernels.gemm_functions sets
# it): if so its workers may still spin on the second core, and compiled passes that could take
# both cores (the optimizers' updates of big variables, the embedding's backward) keep to one.
# True until a layer says otherwise, as any model without recurrent layers runs its GEMMs on
# NumPy's pool.
numpy_blas_busy = True


# Until when (time.monotonic()) NumPy's BLAS workers may still spin after products bptt ran on
# NumPy's pool (numpy_blas_ran); meanwhile split work goes to the Python helper threads.
_NUMPY_BLAS_UNTIL = 0.0
NUMPY_BLAS_SPIN_S = 0.2  # OpenBLAS' workers spin ~0.1 s (2^28 cycles) before they sleep


def numpy_blas_ran():
    """Say that bptt just ran products on NumPy's BLAS pool inside fused training (a reference
    time loop for options no fused kernel takes, such as recurrent_dropout): its workers may
    spin on the second core for ~0.1 s, so for NUMPY_BLAS_SPIN_S team_threads() is False and
    split work goes to the Python helper threads, which lose far less beside them (an
    LSTM(64, recurrent_dropout=0.2) model's batch-128 step: 93 ms with the team, 57 without)."""
    global _NUMPY_BLAS_UNTIL, numpy_blas_busy
    _NUMPY_BLAS_UNTIL = time.monotonic() + NUMPY_BLAS_SPIN_S
    numpy_blas_busy = True


def row_chunks(B, kind="rows", threads=None):
    """How many parts run_rows splits B rows of work of this kind into (bptt.kernels.threads;
    a time loop's rows need fewer per thread where numba's team takes them)."""
    if kind == "rows" and not team_threads():
        kind = "rows_without_team"
    return threads_model.parts(kind, B, threads)


_POOL = None  # (pid, workers, ThreadPoolExecutor): the helper threads, made on first use


def _pool():
    """The helper threads: one fewer than threads.limit(), made again in a forked child (which
    inherits no live threads) or when the limit changed."""
    global _POOL
    workers = max(1, threads_model.limit() - 1)
    if _POOL is None or _POOL[:2] != (os.getpid(), workers):
        if _POOL is not None and _POOL[0] == os.getpid():
            _POOL[2].shutdown(wait=False)
        _POOL = (os.getpid(), workers, ThreadPoolExecutor(max_workers=workers,
                                                          thread_name_prefix="bptt-kernel"))
    return _POOL[2]


_LAUNCHED = {}  # "layer": the kind of numba's threads once started; "forked": this is a child forked after


def team_threads():
    """Whether work split in two can run as one numba parallel region (bptt.kernels.team): numba's threads are OpenMP or TBB, in the
    process that started them, and there are at least two.

    Such a region starts in a few microseconds, and its threads wait spinning for the next one for
    a while, so a training step's dozen hand-offs cost little; a hand-off to a Python thread
    (`_pool`, the fallback) wakes it from a futex, ~60-80 us on a VM. Not numba's "workqueue"
    layer (~130 us per region), and not in a forked child of a process that ran a region (GNU
    OpenMP does not survive fork).

    The team's threads must not meet NumPy's BLAS workers, which spin on the second core for
    ~0.1 s after every NumPy product they join: beside them a split region ran 10x slower
    (benchmarks/kernels_speed.py, section 1 before its settings were separated). So where the
    team runs, the layers' GEMMs keep off NumPy's pool (kernels.gemm_functions,
    kernels.dense_functions), and for a while after bptt ran products there anyway
    (numpy_blas_ran) there is no team; large NumPy products of a user's own between training
    steps would bring the clash back."""
    if threads_model.limit() < 2 or numba.config.NUMBA_NUM_THREADS < 2:
        return False
    if _NUMPY_BLAS_UNTIL and time.monotonic() < _NUMPY_BLAS_UNTIL:
        return False  # NumPy's BLAS workers may still spin (numpy_blas_ran)
    layer = _LAUNCHED.get("layer")
    if layer is None:  # once per process (this runs before every split: kept to a dict lookup)
        numba.get_num_threads()  # starts numba's threads, which picks their layer
        layer = _LAUNCHED["layer"] = numba.threading_layer()
    return layer in ("omp", "tbb") and not _LAUNCHED.get("forked")


def _after_fork_in_child():
    if "layer" in _LAUNCHED:  # the parent started numba's threads: they are not here
        _LAUNCHED["forked"] = True


if hasattr(os, "register_at_fork"):  # (no fork, and no such hook, on Windows)
    os.register_at_fork(after_in_child=_after_fork_in_child)


def split_gemms(batch):
    """Whether a recurrent layer on `batch` rows runs its big GEMMs as bptt.kernels.gemm's split
    products (one-thread SciPy BLAS per part) rather than on NumPy's BLAS pool: wherever numba's
    team takes the parts (its threads then stay the only ones spinning on the second core), else
    where the time loop's rows are split over threads too."""
    return team_threads() or row_chunks(batch) > 1


def bounds_of(N, parts):
    """[0, N / parts, ..., N] as int64, the row ranges of a split."""
    return np.array([N * i // parts for i in range(parts + 1)], np.int64)


def run_rows(loop, B, *args, kind="rows", chunks=None):
    """loop(*args, b0, b1) for consecutive row ranges [b0, b1) that cover the batch [0, B), in
    `chunks` parts (default: as many as bptt.kernels.threads gives B units of `kind`).

    The rows of a batch never meet in a recurrent cell (only the weights are shared, and their
    gradient is reduced after the loop), so each range runs its whole time loop on its own
    thread: the compiled loops are nogil, so on two cores two halves take about half the time.
    The ranges run as one numba parallel region where `team_threads()` (bptt.kernels.team);
    otherwise the calling thread runs the first range and helper threads the others.
    """
    chunks = row_chunks(B, kind) if chunks is None else max(1, min(chunks, B))
    with blas_threads(KERNEL_BLAS_THREADS):
        if chunks == 1:
            loop(*args, 0, B)
        else:
            run_ranges(loop, bounds_of(B, chunks), *args)


_TEAM = threading.local()  # .size: the numba team size this thread last asked for


def team_of(n):
    """Make the calling thread's next numba parallel region run on n threads (at most
    NUMBA_NUM_THREADS): numba's team is one thread per CPU of the machine, whatever the
    process's affinity, and a region wakes all of it, so a region of 4 parts on a 64-CPU
    machine, or in a container allowed 4 of them, would wake 64 threads to spin on 4 cores.
    Set only when it changes (numba's setting is per calling thread; ~1 us)."""
    n = max(1, min(n, numba.config.NUMBA_NUM_THREADS))
    if getattr(_TEAM, "size", None) != n:
        numba.set_num_threads(n)
        _TEAM.size = n


def run_ranges(loop, bounds, *args, numbered=False):
    """loop(*args, bounds[i], bounds[i + 1]) for every range i (loop(*args, i, bounds[i],
    bounds[i + 1]) when numbered): one parallel region (bptt.kernels.team) where
    team_threads(); else the calling thread runs range 0 and helper threads the others."""
    if team_threads():
        from bptt.kernels import team  # (imports numba's parallel machinery on first use)

        team_of(len(bounds) - 1)
        team.each_range(loop, bounds, args, numbered)
        return

    def run(i):
        return loop(*args, *((i,) if numbered else ()), bounds[i], bounds[i + 1])

    futures = [_pool().submit(run, i) for i in range(1, len(bounds) - 1)]
    try:
        run(0)
    finally:
        for future in futures:
            future.result()


# --- argument handling, outside the compiled loops -------------------------------------------

def as_dtype(array, dtype):
    """A C-contiguous array of dtype (no copy when it already is one)."""
    return np.ascontiguousarray(array, dtype=dtype)


def mask_blocks(recurrent_mask, B, H, dtype):
    """The recurrent dropout mask as (M, B, H): M = 0 for None, 1 for one mask shared by every
    gate, G for one mask per gate, so one compiled loop serves all three forms."""
    if recurrent_mask is None:
        return np.empty((0, B, H), dtype=dtype)
    if recurrent_mask.ndim == 2:
        return as_dtype(recurrent_mask, dtype)[None]
    return as_dtype(recurrent_mask, dtype)


def gate_blocks(recurrent_kernel, G):
    """U (H, G*H) -> (G, H, H) contiguous, block g = U[:, g*H:(g+1)*H]; for per-gate masks."""
    H = recurrent_kernel.shape[0]
    return np.ascontiguousarray(recurrent_kernel.reshape(H, G, H).transpose(1, 0, 2))


def previous_states(h0, hs):
    """h_{t-1} for every step (T, B, H): h0, hs[0], ..., hs[T-2]."""
    h_prev = np.empty_like(hs)  # (T, B, H)
    h_prev[0] = h0
    h_prev[1:] = hs[:-1]
    return h_prev


def numpy_matmul_tn(a, b):
    return a.T @ b


def recurrent_kernel_grad(h0, hs, da, masks):
    """drecurrent_kernel = sum_t (h_{t-1} * m)^T @ da_t (H, G*H), as one GEMM over all T*B rows.

    h0 (B, H) and hs (T, B, H) unmasked (h_{t-1} is h0 at t = 0, hs[t-1] after), da (T, B, G*H)
    = dL/d((h_{t-1} * m) @ U), masks (M, B, H) as from `mask_blocks` (M = 0, 1, or G: one per
    column block of da). One (H, T*B) @ (T*B, G*H) product instead of T small ones inside the
    time loop; where the loop's rows were split over threads, bptt.kernels.gemm's split product,
    off NumPy's BLAS pool. Without masks the product reads hs in place
    (no (T, B, H) copy of the previous states) and adds h0's term only when h0 is not all zero.
    """
    T, B, H = hs.shape
    da2 = da.reshape(T * B, -1)  # (T*B, G*H); a view, also for a column block of a (T, B, 3H) array
    from bptt import kernels  # (kernels imports this module)

    _, matmul_tn = kernels.gemm_functions(B)  # as the layer's own GEMMs
    if masks.shape[0] == 0:
        drecurrent_kernel = matmul_tn(hs[:-1].reshape((T - 1) * B, H), da2[B:])
        if h0.any():
            drecurrent_kernel += matmul_tn(h0, da2[:B])
        return drecurrent_kernel
    if masks.shape[0] == 1:
        hm = np.empty_like(hs)  # (T, B, H) h_{t-1} * m
        np.multiply(h0, masks[0], out=hm[0])
        np.multiply(hs[:-1], masks[0], out=hm[1:])
        return matmul_tn(hm.reshape(T * B, H), da2)
    h_prev = previous_states(h0, hs)
    drecurrent_kernel = np.empty((H, da2.shape[1]), da.dtype)  # (H, G*H)
    for g in range(masks.shape[0]):
        block = slice(g * H, (g + 1) * H)
        drecurrent_kernel[:, block] = (h_prev * masks[g]).reshape(T * B, H).T @ da2[:, block]
    return drecurrent_kernel
