"""bptt.kernels._atomics: each operation does what its plain counterpart would on one thread
(the ordering guarantees are exercised by tests/kernels/test_lstm_stack.py's two threads)."""
import numpy as np
from numba import njit

from bptt.kernels._atomics import compare_swap, fetch_add, load_acquire, store_release


@njit
def _sequence(flags):
    out = np.empty(7, np.int64)
    store_release(flags, 3, 41)
    out[0] = load_acquire(flags, 3)
    out[1] = fetch_add(flags, 3, 1)  # the old value
    out[2] = flags[3]
    out[3] = compare_swap(flags, 3, 7, 100)  # 42 != 7: no swap
    out[4] = flags[3]
    out[5] = compare_swap(flags, 3, 42, 100)
    out[6] = flags[3]
    return out


def test_atomics_on_one_thread():
    flags = np.zeros(8, np.int64)
    assert _sequence(flags).tolist() == [41, 41, 42, 0, 42, 1, 100]
    assert flags.tolist() == [0, 0, 0, 100, 0, 0, 0, 0]  # no other element touched
