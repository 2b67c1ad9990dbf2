"""The reference maths of bptt's layers: plain NumPy functions, one module per cell.

This is not Keras' `keras.ops` (a NumPy-like library for writing layers): `import bptt as
keras` then `keras.ops.mean` raises an AttributeError that says to use NumPy.
"""
import importlib
import importlib.util


def __getattr__(name):
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")  # one of this package's modules
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise AttributeError(f"keras.ops.{name}: bptt does not have it (bptt.ops holds the reference "
                         "maths of bptt's own layers, not Keras' ops library); use NumPy on "
                         f"arrays (np.{name} where NumPy has it)")
