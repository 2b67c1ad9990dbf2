"""bptt: recurrent sequence models with backpropagation through time written by hand on NumPy,
behind the Keras API.

    from bptt import layers, models
"""
from bptt.backend import floatx, get_kernels, set_floatx, set_kernels

__version__ = "0.1.0"

__all__ = ["floatx", "set_floatx", "get_kernels", "set_kernels", "__version__"]
