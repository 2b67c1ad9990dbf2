"""bptt: recurrent sequence models with backpropagation through time written by hand on NumPy,
behind the Keras API.

    from bptt import layers, models
    import bptt as keras          # keras.layers.LSTM, keras.Sequential, keras.Input, ...

`import bptt` loads only NumPy and the settings; each namespace (layers, models, losses, ...)
and each top-level class is imported on first use (PEP 562 `__getattr__`) and then kept in the
module, so the compiled kernels (Numba, SciPy) load only when a model needs them. A Keras name
bptt does not have raises an AttributeError that says so and what to use instead.
"""
import importlib

from bptt.backend import floatx, get_kernels, set_floatx, set_kernels

__version__ = "0.1.0"

# Keras' namespaces, each a bptt module of the same name, and bptt's own.
_NAMESPACES = ("activations", "backend", "callbacks", "config", "datasets", "distribution",
               "initializers", "layers", "losses", "metrics", "models", "optimizers",
               "preprocessing", "regularizers", "saving", "utils")
_SUBMODULES = _NAMESPACES + ("ops", "kernels", "converters", "diagnostics")

# Keras' top-level names: name -> (module, attribute).
_ATTRIBUTES = {
    "Sequential": ("bptt.models", "Sequential"),
    "Model": ("bptt.models", "Model"),
    "Input": ("bptt.layers", "Input"),
    "Layer": ("bptt.layers", "Layer"),
    "KerasTensor": ("bptt.layers.symbolic", "KerasTensor"),
    "Loss": ("bptt.losses", "Loss"),
    "Metric": ("bptt.metrics", "Metric"),
    "Optimizer": ("bptt.optimizers", "Optimizer"),
    "Initializer": ("bptt.initializers", "Initializer"),
    # bptt's own: what every failure to read a model or weights file raises
    "ModelFileError": ("bptt.saving", "ModelFileError"),
}


def version():
    """bptt's version, as `keras.version()` gives Keras'."""
    return __version__


def __getattr__(name):
    if name.startswith("_"):  # no Keras name; `from bptt import _x` then imports the module
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _SUBMODULES:
        value = importlib.import_module(f"bptt.{name}")
    elif name in _ATTRIBUTES:
        module, attribute = _ATTRIBUTES[name]
        value = getattr(importlib.import_module(module), attribute)
    else:
        importlib.import_module("bptt._missing").refuse(__name__, "", name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_ATTRIBUTES))


__all__ = ["floatx", "set_floatx", "get_kernels", "set_kernels", "version", "__version__",
           *_NAMESPACES, *_ATTRIBUTES]
