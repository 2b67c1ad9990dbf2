"""Settings, under Keras' `keras.config` names, and the threads bptt's kernels run on.

    bptt.config.set_num_threads(4)    # use 4 threads (None: every core this process may use)
    bptt.config.get_num_threads()     # how many the kernels use now
    bptt.config.set_check_finite(False)  # fit: no NaN / inf check of each step (on by default)

By default the kernels use every core the process may run on (its affinity mask, so `taskset`
and container limits count), at most NUMBA_NUM_THREADS when that variable is set; how they split
each kind of work is bptt.kernels.threads. A lower number leaves cores to other programs; the
results are the same at any number, to float rounding.
"""
from bptt.backend import (backend, epsilon, floatx, get_check_finite,  # noqa: F401
                          image_data_format, set_check_finite, set_floatx)


def set_num_threads(n):
    """Run the kernels' split work on n threads (an int >= 1), or None for every core this
    process may use."""
    from bptt.kernels import threads

    threads.set_num_threads(n)


def get_num_threads():
    """How many threads the kernels' split work runs on."""
    from bptt.kernels import threads

    return threads.get_num_threads()


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from bptt import _missing

    _missing.refuse(__name__, "config", name)
