"""Two stacked LSTM layers at inference on up to 16 sequences, pipelined over two cores.

At batch 1 a time loop has no batch rows to share out (bptt.kernels.lstm splits rows from 16
up), and a step of the tutorial's LSTM-64 is ~1.3 us: a hand-off through Python threads costs
~90 us. But when one LSTM feeds another (the tutorial's LSTM(64, return_sequences=True) ->
LSTM(32)), the upper layer's step t needs only the lower layer's h_t, so the two loops can run
at once, a step apart, one on each core:

    core 0 (lower): projects its first T / FIRST_SHARE steps (x @ kernel), then runs its time
                    loop, writing h_t to hs[t] and then marking t done
    core 1 (upper): projects the lower layer's other steps, CHUNK_STEPS at a time, marking
                    each chunk done (core 0 waits for it only if it gets there first); then
                    runs its own steps on the lower layer's h_t as they are marked done,
                    projecting all the steps done so far in one product each time it looks

Core 1 projects faster than core 0 steps, so the lower layer hardly ever waits; the upper one
is the cheaper and trails it. The work is not quite even (core 1 has the larger share of the
projection and the upper loop): the tutorial's two layers on one review took ~60 us where the
lower loop alone takes ~42 and both layers one after the other ~110 (see MAX_ROWS for more
sequences).

The cell update is the same function as in two calls of bptt.kernels.lstm.lstm_inference
(`inference_cell`); only the matrix products are cut differently (the upper layer projects the
steps done so far each time it looks), so the outputs equal those calls to float rounding
(tests/kernels/test_lstm_stack.py).

The lower layer's input rows are gathered by index (`_project_steps`): from an Embedding's
table by token id (lstm_stack_lookup_inference, what a model with an Embedding in front of the
two LSTMs runs), or from x itself (lstm_stack_inference). Each core gathers the rows it
projects, so the lookup costs no separate pass (one review through the tutorial model: about
10 us less than looking up first).

Threads: numba's parallel region (prange over two), whose OpenMP or TBB threads start in ~2 us;
its fallback "workqueue" layer takes ~130 us per region, so the pipeline is used only where
numba's threads are OpenMP or TBB (`usable`), and its team is two threads on any machine. The thread that arrives first waits a bounded while
for the second; if it does not come (numba.set_num_threads(1), a busy machine) it runs both
layers alone, one after the other, and the late thread does nothing: the result is the same. Not
in a forked child of a process that ran a region (GNU OpenMP does not survive fork). Progress
marks are atomic (bptt.kernels._atomics): a release store after the data, an acquire load before
reading it. The waits spin, so with other programs' threads on the cores a step may wait for the
scheduler (other thread pools that spin, such as NumPy's BLAS right after a large product, cost
it most: the kernels keep SciPy's BLAS at one thread for that reason). With PyTorch's own OpenMP
threads in the same process the tutorial's layers took 107 us instead of 83, still paired; after
a pause, numba's threads may sleep past the patience, and that call runs alone.

When not to ask for the second core (`together=None`, what the layers pass): the region's end
waits for both threads, so a call whose second thread comes late costs what its lateness costs.
On a virtual machine that can be milliseconds: a thread asleep for more than a few ms (numba's
OpenMP threads spin ~3 ms after a region, then sleep) took 2-7 ms to wake here, and while
another program holds a core, the second thread is descheduled for 4-8 ms at a time, in bursts
(here: after a call that went alone, the next went alone 9 times in 10). So a call runs both
layers on the calling thread (~130 us for the tutorial's layers, against ~80 us paired):
- when the previous call ended more than WARM_SECONDS ago (its threads may be asleep);
- for a while after a call whose first thread waited over SLOW_SPINS for the second (counted in
  flags[WAITED]): BACKOFF_SECONDS, doubled for each such call in a row up to
  MAX_BACKOFF_SECONDS, back to BACKOFF_SECONDS when a call pairs. The first call after a backoff
  waits up to PROBE_PATIENCE for the second thread, asleep by then: without that, on a quiet
  machine the probe failed for want of a wake, the backoff grew to its maximum, and the
  pipeline stayed off.
Calls in a row pair from the second on. predict_on_batch on one review, here: back to back on a
quiet machine 128 us on average (132 always asking); with a busy loop on the other core 242 us
(493 always asking, 183 never); one call every 50 ms 0.9 ms (median; 5.6 ms always asking:
the wake).
"""
import time

import numba
import numpy as np
from numba import njit, prange

from bptt.kernels import _common
from bptt.kernels._atomics import compare_swap, fetch_add, load_acquire, store_release
from bptt.kernels._common import JIT_OPTIONS, as_dtype, blas_threads
from bptt.kernels.lstm import inference_cell

MAX_ROWS = 16  # batches up to this many sequences take the pipeline: against two lstm_inference
# calls (tutorial LSTM-64 -> LSTM-32, T = 50) it took 81 us for 1 sequence against 117, 173 for
# 4 against 279, 660 for 16 against 857 (where those split rows over two threads), 971 for 24
# against 1054
PATIENCE = 100_000  # spins (~0.1 ms) the first thread waits for the second before going alone

# flags (int64), one cache line (8 slots) apart so the two cores do not write the same line
ARRIVALS = 0  # threads arrived; ALONE once the first gave up waiting for the second
PROJECTED = 8  # lower-layer steps whose projection is done (core 1's, from T / FIRST_SHARE)
STEPS = 16  # lower-layer steps done
DONE = 24  # 1 once the upper layer is done
WAITED = 32  # spins the first thread waited for the second after the patience (not atomic: only
# the first writes it, and it is read after the region)
ALONE = 1 << 40
FIRST_SHARE = 4  # core 0 projects the first T // FIRST_SHARE steps itself before its loop (the
# tutorial's layers: with 4, 8, ..., 25 of their 50 steps the pair took 59-63 us)
CHUNK_STEPS = 16  # steps core 1 projects per GEMM (per sequence) before marking them done
WARM_SECONDS = 1e-3  # a call pairs only if the previous one ended this recently: numba's threads
# are then still spinning (here, an empty region started in 5-8 us up to 3 ms after the last
# one, and in 2-7 ms after 10 ms)
BACKOFF_SECONDS = 0.01  # after a call whose second thread came late, the calls this soon after
# run alone; doubled after each such call in a row, up to MAX_BACKOFF_SECONDS (module docstring)
MAX_BACKOFF_SECONDS = 1.0
SLOW_SPINS = 1_000_000  # a call starts a backoff when its first thread waited this long (~1 ms)
# for the second (flags[WAITED]): the waits it guards against are the scheduler's, milliseconds
# long; a thread a little late (a call of ~0.2 ms instead of ~0.08) is not worth ~60 calls alone
PROBE_PATIENCE = 10_000_000  # spins (~10 ms) the first call after a backoff waits for the second
# thread, asleep by then: long enough for it to wake on a VM, so a quiet machine pairs again
_recent = {"ended": float("-inf"), "alone_until": float("-inf"), "backoff": BACKOFF_SECONDS}
# (a backoff above BACKOFF_SECONDS: a call waited long since the last one that paired, so the next
# call that asks is the probe)


@njit(**JIT_OPTIONS)
def _project_steps(ids, table, kernel, xw, t0, t1):
    """xw[k*T + t] = table[ids[k, t]] @ kernel for every row k and t in [t0, t1): each
    sequence's rows gathered into a buffer, then one product. (An Embedding's lookup; a plain
    input x (B, T, D) comes as table = x (B*T, D) with ids k*T + t.)"""
    B, T = ids.shape
    if t1 <= t0:
        return
    rows = np.empty((t1 - t0, table.shape[1]), table.dtype)  # (t1 - t0, D)
    for k in range(B):
        for t in range(t0, t1):
            source, row = table[ids[k, t]], rows[t - t0]
            for d in range(row.shape[0]):
                row[d] = source[d]
        np.dot(rows, kernel, xw[k * T + t0:k * T + t1])


@njit(**JIT_OPTIONS)
def _lower_steps(xw, bias, recurrent_kernel, hs, flags, projected):
    """The lower layer through all T steps from zero states: hs[t] (B, H) = its h_t, and after
    each step the mark STEPS = t + 1. Steps from `projected` on wait for the mark PROJECTED.
    -> the spins it waited."""
    T, B, H = hs.shape
    a = np.empty((B, 4 * H), xw.dtype)  # (B, 4H) h_{t-1} @ U
    gate = np.empty((B, 4 * H), xw.dtype)  # (B, 4H)
    h = np.zeros((B, H), xw.dtype)  # (B, H)
    c = np.zeros((B, H), xw.dtype)  # (B, H)
    waited = 0
    for t in range(T):
        while t >= projected:
            projected = load_acquire(flags, PROJECTED)
            waited += 1
        np.dot(h, recurrent_kernel, a)
        for k in range(B):
            inference_cell(xw[k * T + t], bias, a[k], gate[k], c[k], h[k])
        hs_t = hs[t]
        for k in range(B):
            for j in range(H):
                hs_t[k, j] = h[k, j]
        store_release(flags, STEPS, t + 1)
    return waited


@njit(**JIT_OPTIONS)
def _upper_steps(hs, kernel, bias, recurrent_kernel, ys, h_last, c_last, flags):
    """The upper layer through all T steps from zero states, its input at step t being hs[t]
    once the mark STEPS has passed t. ys (B, T, H) in step order, or (0, T, H). The steps the
    lower layer has finished when this one looks are projected in one product (hs[t:done] @
    kernel) and then run: this layer starts behind and catches up with fewer, larger products
    (and reads the mark once per batch of steps rather than at every step)."""
    T, B, H1 = hs.shape
    H = recurrent_kernel.shape[0]
    xw = np.empty((T * B, 4 * H), hs.dtype)  # (T*B, 4H) hs @ kernel, row t*B + k
    a = np.empty((B, 4 * H), hs.dtype)  # (B, 4H) h_{t-1} @ U
    gate = np.empty((B, 4 * H), hs.dtype)  # (B, 4H)
    h = np.zeros((B, H), hs.dtype)  # (B, H)
    c = np.zeros((B, H), hs.dtype)  # (B, H)
    inputs = hs.reshape(T * B, H1)  # (T*B, H1) a view
    t = done = 0
    while t < T:
        while done <= t:
            done = load_acquire(flags, STEPS)
        np.dot(inputs[t * B:done * B], kernel, xw[t * B:done * B])
        for s in range(t, done):
            np.dot(h, recurrent_kernel, a)
            for k in range(B):
                inference_cell(xw[s * B + k], bias, a[k], gate[k], c[k], h[k])
            if ys.shape[0]:
                for k in range(B):
                    for j in range(H):
                        ys[k, s, j] = h[k, j]
        t = done
    for k in range(B):
        for j in range(H):
            h_last[k, j] = h[k, j]
            c_last[k, j] = c[k, j]


@njit(**JIT_OPTIONS)
def _one_after_the_other(ids, table, lower, upper, xw, hs, ys, h_last, c_last, flags):
    """Both layers on the calling thread: the same functions, every wait already satisfied."""
    kernel, bias, recurrent_kernel = lower
    T = ids.shape[1]
    _project_steps(ids, table, kernel, xw, 0, T)
    _lower_steps(xw, bias, recurrent_kernel, hs, flags, T)
    kernel, bias, recurrent_kernel = upper
    _upper_steps(hs, kernel, bias, recurrent_kernel, ys, h_last, c_last, flags)


@njit(parallel=True, **JIT_OPTIONS)
def _pipeline(ids, table, lower, upper, xw, hs, ys, h_last, c_last, flags, first, patience,
              slow):
    """Core 0 projects steps [0, first) and runs the lower layer; core 1 projects the rest and
    runs the upper one (module docstring). The first thread to come then waits for the other to
    be done (or, alone, to come and go, for at most `slow` + 1 spins: should the other
    iteration run on this same thread, it comes only afterwards) and writes the spins it waited
    in flags[WAITED]; the region's end then finds both done."""
    T = ids.shape[1]
    for _ in prange(2):
        arrival = fetch_add(flags, ARRIVALS, 1)
        if arrival == 0:
            spins = 0
            while load_acquire(flags, ARRIVALS) < 2 and spins < patience:
                spins += 1
            if compare_swap(flags, ARRIVALS, 1, ALONE):
                _one_after_the_other(ids, table, lower, upper, xw, hs, ys, h_last, c_last, flags)
                waited = 0
                while load_acquire(flags, ARRIVALS) != ALONE + 1 and waited <= slow:
                    waited += 1
            else:
                kernel, bias, recurrent_kernel = lower
                _project_steps(ids, table, kernel, xw, 0, first)
                waited = _lower_steps(xw, bias, recurrent_kernel, hs, flags, first)
                while load_acquire(flags, DONE) == 0:
                    waited += 1
            flags[WAITED] = waited
        elif arrival == 1:
            kernel, bias, recurrent_kernel = lower
            for t0 in range(first, T, CHUNK_STEPS):
                t1 = min(t0 + CHUNK_STEPS, T)
                _project_steps(ids, table, kernel, xw, t0, t1)
                store_release(flags, PROJECTED, t1)
            kernel, bias, recurrent_kernel = upper
            _upper_steps(hs, kernel, bias, recurrent_kernel, ys, h_last, c_last, flags)
            store_release(flags, DONE, 1)
        # a later arrival finds ALONE + 1 and has nothing to do


def lstm_stack_inference(x, lower, upper, return_sequences=False, patience=PATIENCE,
                         together=None):
    """Two LSTM layers' inference, the lower's whole sequence feeding the upper, from zero
    initial states and forward in time.

    x (B, T, D) float; lower = (kernel (D, 4H1), bias (4H1,) or None, recurrent_kernel
    (H1, 4H1)); upper likewise with D = H1; all of x's dtype.
    -> (ys (B, T, H2) if return_sequences else None, (h_last, c_last) (B, H2) of the upper),
    and whether the two threads shared the work. together=False (or numba.set_num_threads(1)
    in this thread) runs both on the calling thread; True asks for the second thread every time;
    None (the default) asks unless the recent calls say it would come late (`pair_now`).
    """
    B, T, D = x.shape
    rows = np.arange(B * T, dtype=np.intp).reshape(B, T)  # (B, T) row k*T + t of x (B*T, D)
    return lstm_stack_lookup_inference(rows, np.ascontiguousarray(x).reshape(B * T, D), lower,
                                       upper, return_sequences, patience, together)


def lstm_stack_lookup_inference(ids, table, lower, upper, return_sequences=False,
                                patience=PATIENCE, together=None):
    """lstm_stack_inference of x = table[ids]: an Embedding's lookup done inside the pipeline,
    each core gathering the rows it projects (no (B, T, D) array in between).

    ids (B, T) intp, valid rows of table (V, D) float (the caller checks them); the rest as
    lstm_stack_inference.
    """
    B, T = ids.shape
    dtype = table.dtype
    lower, upper = _layer_arrays(*lower, dtype), _layer_arrays(*upper, dtype)
    H1, H2 = lower[2].shape[0], upper[2].shape[0]
    xw = np.empty((B * T, 4 * H1), dtype)  # (B*T, 4H1) the lower layer's x @ kernel, row k*T + t
    hs = np.empty((T, B, H1), dtype)  # (T, B, H1) the lower layer's h_t
    ys = np.empty((B, T, H2) if return_sequences else (0, T, H2), dtype)  # (B, T, H2)
    h_last = np.empty((B, H2), dtype)  # (B, H2)
    c_last = np.empty((B, H2), dtype)  # (B, H2)
    flags = np.zeros(WAITED + 8, np.int64)
    ids = np.ascontiguousarray(ids, dtype=np.intp)
    table = np.ascontiguousarray(table)
    if together is None:
        together = pair_now(time.perf_counter())
        if together and _recent["backoff"] > BACKOFF_SECONDS:  # the probe
            patience = max(patience, PROBE_PATIENCE)
    with blas_threads(1):
        threads = numba.get_num_threads() if together else 1  # numba's team from this thread
        if threads >= 2:
            if threads > 2:
                numba.set_num_threads(2)  # the region's team: two, however many cores there are
            try:
                _pipeline(ids, table, lower, upper, xw, hs, ys, h_last, c_last, flags,
                          T // FIRST_SHARE, patience, SLOW_SPINS)
            finally:
                if threads > 2:
                    numba.set_num_threads(threads)
        else:
            _one_after_the_other(ids, table, lower, upper, xw, hs, ys, h_last, c_last, flags)
    shared = bool(flags[ARRIVALS] == 2)
    _recent["ended"] = ended = time.perf_counter()
    if threads >= 2:
        if flags[WAITED] > SLOW_SPINS:
            _recent.update(alone_until=ended + _recent["backoff"],
                           backoff=min(2 * _recent["backoff"], MAX_BACKOFF_SECONDS))
        elif shared:
            _recent["backoff"] = BACKOFF_SECONDS
    return (ys if return_sequences else None), (h_last, c_last), shared


def pair_now(now):
    """Whether a call starting at perf_counter() time `now` should ask for the second thread:
    the previous call ended less than WARM_SECONDS ago, and the backoff after a call whose
    second thread came late has passed (module docstring)."""
    return now - _recent["ended"] < WARM_SECONDS and now >= _recent["alone_until"]


def _layer_arrays(kernel, bias, recurrent_kernel, dtype):
    bias = np.zeros(kernel.shape[1], dtype) if bias is None else bias
    return as_dtype(kernel, dtype), as_dtype(bias, dtype), as_dtype(recurrent_kernel, dtype)


def usable(B):
    """Whether a batch of B sequences should take the pipeline (see the module docstring)."""
    return B <= MAX_ROWS and _common.team_threads()
