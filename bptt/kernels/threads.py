"""How many threads the fused kernels use, and into how many parts each kind of work is split:
the one cost model behind every split in bptt.kernels.

Threads available (`limit`): the cores this process may run on (os.sched_getaffinity: a
container's or `taskset`'s share, not the machine's count), at most NUMBA_NUM_THREADS when that
variable is set; or exactly what `set_num_threads(n)` asked for (bptt.config.set_num_threads),
which a user may set lower (to leave cores to other work) or higher.

Parts (`parts(kind, amount)`): as many as the work pays for, never more than `limit()`. Each
kind names the least work one thread must get for the hand-off to pay, measured on a 2-core
Xeon VM (benchmarks/kernels_speed.py) and expressed per thread, so the same rule gives 2 parts
on 2 cores and 16 on 16 cores once the work is 16 times the minimum:

    "rows"        a training time loop's batch rows. The rows never meet in a recurrent cell,
                  so each part runs the whole time loop on its rows with no barrier per step:
                  8 rows a thread where numba's team takes the parts (a region starts in
                  microseconds: batch 32 as two halves of 16 took the tutorial model's step
                  from 6.5-6.8 to 5.5-5.8 ms, batch 16 from 3.9 to 3.6), 32 with Python helper
                  threads (a futex wake, ~60-80 us on a VM).
    "inference"   an inference loop's rows (no backward cache; projects its own steps): 8 rows
                  (LSTM-64, T = 50, batch 32: 1.8 ms on one thread, 1.0 on two).
    "gemm"        rows of a layer's big products (bptt.kernels.gemm): 256 rows a part.
    "elements"    an optimizer's element-wise update: 2^18 elements (1 MB of float32 weights,
                  4 MB with g, m and v) a thread. Such a part takes ~0.1 ms (memory-bound at
                  ~10-20 GB/s a core); a team hand-off costs a few microseconds. (On 2 cores the
                  tutorial's 2.56 M-weight embedding is two parts either way: its update took
                  1.35 ms on two against 2.2 on one.)
    "lookups"     the embedding's backward, split by table rows where each thread scans every
                  id: 1,600 lookups a thread (batch 64 at T = 50 gives two parts).

What stays out of the model: the two-layer pipeline of bptt.kernels.lstm_stack is two threads
by its nature (one per layer); it is used on any machine with two or more.
"""
import os

import numba

MIN_PER_THREAD = {"rows": 8, "rows_without_team": 32, "inference": 8, "gemm": 256,
                  "elements": 1 << 18, "lookups": 1600}

_REQUESTED = None  # set_num_threads(n): n; None: every core this process may use


def cores():
    """The cores this process may run on (its affinity mask; the machine's count where the
    platform has no affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def limit():
    """Threads the kernels may use: set_num_threads' n, else the cores this process may use,
    at most NUMBA_NUM_THREADS where that variable is set."""
    if _REQUESTED is not None:
        return _REQUESTED
    n = cores()
    if os.environ.get("NUMBA_NUM_THREADS"):
        n = min(n, numba.config.NUMBA_NUM_THREADS)
    return max(1, n)


def set_num_threads(n):
    """Use n threads for the kernels' split work (None: back to every core this process may use)."""
    global _REQUESTED
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"set_num_threads expects a whole number of threads >= 1 (or None for "
                         f"every core this process may use, {cores()} here), got {n!r}.")
    _REQUESTED = n


def get_num_threads():
    """The threads the kernels' split work runs on now (see limit)."""
    return limit()


def parts(kind, amount, threads=None):
    """Into how many parts `amount` units of work of this kind are split: one per
    MIN_PER_THREAD[kind] units, at least 1, at most `threads` (default limit())."""
    threads = limit() if threads is None else threads
    return max(1, min(threads, amount // MIN_PER_THREAD[kind]))
