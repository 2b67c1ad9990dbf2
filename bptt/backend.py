"""Global settings: the float type, which sequence kernels run, and the one random generator.

Every random draw in bptt (initializers, dropout masks, shuffling) comes from a
`np.random.Generator`: the layer's own when it was given a `seed`, otherwise the global one
returned by `global_rng()`. `bptt.utils.set_random_seed(s)` re-seeds the global one, so two
runs with the same seed are equal bit for bit.
"""
import os

import numpy as np

_FLOATX = "float32"
_KERNELS = os.environ.get("BPTT_KERNELS", "fused")
_KERNEL_CHOICES = ("reference", "fused")
_RNG = np.random.default_rng()
_CHECK_FINITE = True


def floatx():
    """The default float type of weights and activations: 'float32' (as Keras) or 'float64'."""
    return _FLOATX


def set_floatx(value):
    """Set the float type used by layers built from now on ('float32' or 'float64')."""
    global _FLOATX
    if value not in ("float32", "float64"):
        raise ValueError(f"set_floatx expects 'float32' or 'float64', got {value!r}.")
    _FLOATX = value


def get_kernels():
    """Which whole-sequence functions run: 'fused' (compiled) or 'reference' (plain NumPy)."""
    if _KERNELS not in _KERNEL_CHOICES:
        raise ValueError(
            f"BPTT_KERNELS must be one of {_KERNEL_CHOICES}, got {_KERNELS!r}; "
            "unset it or set it to 'fused' or 'reference'."
        )
    return _KERNELS


def set_kernels(value):
    """Choose the whole-sequence functions: 'fused' (compiled) or 'reference' (plain NumPy)."""
    global _KERNELS
    if value not in _KERNEL_CHOICES:
        raise ValueError(f"set_kernels expects one of {_KERNEL_CHOICES}, got {value!r}.")
    _KERNELS = value


def get_check_finite():
    """Whether fit and train_on_batch check each step's loss and gradients before applying it."""
    return _CHECK_FINITE


def set_check_finite(enabled):
    """Check each training step's loss and gradients for NaN and inf before applying it (True,
    the default) or not (False): bptt.models.finite."""
    global _CHECK_FINITE
    if not isinstance(enabled, bool):
        raise ValueError(f"set_check_finite expects True or False, got {enabled!r}.")
    _CHECK_FINITE = enabled


def global_rng():
    """The generator used by every random draw that has no seed of its own."""
    return _RNG


def set_global_seed(seed):
    global _RNG
    _RNG = np.random.default_rng(seed)


def layer_rng(seed):
    """A generator for a layer: its own if it was given a seed, else the global one."""
    return np.random.default_rng(seed) if seed is not None else global_rng()


def epsilon():
    """The fuzz factor of the losses and metrics: 1e-7, Keras' default."""
    return 1e-7


def backend():
    """The name of the engine: bptt computes with NumPy (Keras answers 'tensorflow', 'jax',
    'torch' or 'numpy')."""
    return "numpy"


def image_data_format():
    """'channels_last', Keras' default: bptt's sequences are (batch, time, features)."""
    return "channels_last"


def clear_session(free_memory=True):
    """Reset bptt's global state, as `keras.backend.clear_session()` resets Keras':
    automatic layer names start again ('dense', then 'dense_1', ...), and so do the names of
    symbolic tensors. With free_memory, Python's garbage collector runs too.

    Keras' clear_session takes no seed, and neither does this one: the global generator and the
    float type are left as they are; call `utils.set_random_seed` to restart the random draws.
    """
    import gc
    import sys

    base = sys.modules.get("bptt.layers.base")  # nothing was named if layers never loaded
    if base is not None:
        base._NAME_COUNTERS.clear()
    symbolic = sys.modules.get("bptt.layers.symbolic")
    if symbolic is not None and hasattr(symbolic, "_TENSOR_COUNTER"):
        import itertools

        symbolic._TENSOR_COUNTER = itertools.count()
    if free_memory:
        gc.collect()


def get_uid(prefix=""):
    """Count one more use of `prefix` and return the count (1 the first time), as Keras'
    `get_uid`. It shares the counters of automatic layer names, as in Keras: after
    get_uid('dense') the next Dense is named 'dense_1'."""
    from bptt.layers import base

    name = base.unique_name(prefix)  # prefix, then prefix_1, prefix_2, ...
    return 1 if name == prefix else int(name[len(prefix) + 1:]) + 1


def __getattr__(name):
    if name.startswith("__"):  # import machinery probing (`__path__`): no need to load the list
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from bptt import _missing

    _missing.refuse(__name__, "backend", name)
