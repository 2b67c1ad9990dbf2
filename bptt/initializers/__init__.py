"""Weight initializers with Keras 3's classes, names, arguments and maths.

    Zeros, Ones, Constant(value)            the value everywhere (value may be an array that
                                            broadcasts to the shape, e.g. a pretrained matrix)
    Identity(gain)                          gain * eye(rows, cols); 2-D shapes only
    RandomUniform(minval, maxval)           U(minval, maxval)              defaults -0.05, 0.05
    RandomNormal(mean, stddev)              N(mean, stddev^2)              defaults 0, 0.05
    TruncatedNormal(mean, stddev)           N(mean, stddev^2), redrawn outside 2 stddev
    VarianceScaling(scale, mode, distribution)
        n = max(1, fan_in | fan_out | (fan_in + fan_out) / 2)   (mode)
        uniform            U(-l, l), l = sqrt(3 scale / n)
        truncated_normal   stddev sqrt(scale / n) / 0.8796..., truncated at 2 stddev (0.8796...
                           is the stddev of a unit normal truncated at +-2: Keras' correction)
        untruncated_normal stddev sqrt(scale / n)
    GlorotUniform / GlorotNormal            scale 1, fan_avg  (GlorotUniform: Keras' kernels)
    HeUniform / HeNormal                    scale 2, fan_in
    LecunUniform / LecunNormal              scale 1, fan_in
    Orthogonal(gain)                        gain * Q of the QR of a normal (max(r, c), min(r, c))
                                            matrix, columns' signs fixed by diag(R), transposed
                                            when r < c (Keras' recurrent_kernel default)

Fans: a 2-D shape is (fan_in, fan_out); a 1-D shape (n,) has both n; for more axes the last two
are (in, out) times the product of the others (a convolution kernel). Keras' LSTM kernel (I, 4H)
is one matrix, so its fans are I and 4H, as in Keras.

Seeds, as Keras 3: an instance draws the same values on every call. With `seed=s` they come from
`np.random.default_rng(s)`; an unseeded instance draws its own seed once, on its first call, from
bptt's global generator (so `utils.set_random_seed` makes it reproducible). Keras documents this
for its instances: one unseeded instance shared by two layers of the same shape gives both the
same weights; pass a string, or one instance per layer, to get different ones.

A string ('glorot_uniform', 'GlorotUniform', 'orthogonal', ...) is not a shared instance: each
weight built from it draws from the layer's generator (the layer's `seed`, else the global one),
so a model built after `set_random_seed(s)` is the same bit for bit.

Layers call `get(identifier)(shape, dtype, rng)`; `get` takes a name, a class, an instance, a
{'class_name': ..., 'config': {...}} dict or a Keras-style callable fn(shape, dtype=None).
`serialize` gives the dict form, used when a model's config is written to a file.

    base.py      Initializer        constant.py  Zeros, Ones, Constant, Identity
    random.py    the random ones, compute_fans
    skipping.py  skip_initialization(): weights allocated, not initialized (load_model's
                 build, whose weights the file's arrays then replace)
"""
import inspect
import re

import numpy as np

from bptt.initializers.base import Initializer
from bptt.initializers.constant import Constant, Identity, Ones, Zeros
from bptt.initializers.skipping import skip_initialization, skipping, uninitialized
from bptt.initializers.random import (GlorotNormal, GlorotUniform, HeNormal, HeUniform,
                                      LecunNormal, LecunUniform, Orthogonal, RandomNormal,
                                      RandomUniform, TruncatedNormal, VarianceScaling,
                                      compute_fans)

# -- names and lookup ---------------------------------------------------------------------------
_CLASSES = (Zeros, Ones, Constant, Identity, RandomUniform, RandomNormal, TruncatedNormal,
            VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
            LecunNormal, Orthogonal)


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


# Keras' names, case-sensitive: the class name, its snake_case, and Keras' aliases.
ALL_OBJECTS = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS.update({_snake(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS.update({"IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal,
                    "normal": RandomNormal, "uniform": RandomUniform, "one": Ones, "zero": Zeros})

# keras.initializers.glorot_uniform etc. are the classes under their snake_case names.
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def _lookup(name):
    cls = ALL_OBJECTS.get(name)
    if cls is None:
        raise ValueError(f"Unknown initializer {name!r}; expected one of {sorted(ALL_OBJECTS)} "
                         "(case-sensitive, as Keras), an Initializer instance, a "
                         "{'class_name': ..., 'config': {...}} dict or a callable "
                         "fn(shape, dtype=None).")
    return cls


def deserialize(config):
    """An instance from {'class_name': ..., 'config': {...}}, as written by `serialize`."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("An initializer config is a dict {'class_name': ..., 'config': {...}}; "
                         f"got {config!r}.")
    return _lookup(config["class_name"]).from_config(dict(config.get("config") or {}))


def serialize(initializer):
    """A JSON-safe form: an instance becomes {'class_name': ..., 'config': {...}}; a name (or
    None) stays as it is."""
    if isinstance(initializer, Initializer):
        return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
    if initializer is None or isinstance(initializer, str):
        return initializer
    raise TypeError(f"Cannot serialize the initializer {initializer!r}: only names and "
                    "bptt.initializers instances are saved with a model; give the layer one of "
                    "those, or set its weights after building it.")


def serialize_config(config):
    """`config` (a layer's, nested dicts and lists) with every Initializer instance in it
    replaced by its dict form, so it can be written as JSON."""
    if isinstance(config, Initializer):
        return serialize(config)
    if isinstance(config, dict):
        return {key: serialize_config(value) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        return type(config)(serialize_config(value) for value in config)
    return config


def get(identifier):
    """Something a layer can call as fn(shape, dtype, rng), from Keras' identifiers.

    A name or a class gives a new instance that draws from the layer's generator; an instance
    is used as it is (its own seed, the same values on every call, as Keras); a dict is
    deserialized; any other callable is called as Keras calls one, fn(shape, dtype=dtype)."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) or (inspect.isclass(identifier)
                                       and issubclass(identifier, Initializer)):
        cls = _lookup(identifier) if isinstance(identifier, str) else identifier
        instance = cls()
        instance._from_name = True
        return instance
    if callable(identifier):
        return lambda shape, dtype, rng=None: np.asarray(identifier(shape, dtype=dtype),
                                                         dtype=dtype)
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}. Pass a name "
                     "such as 'glorot_uniform', an Initializer instance, a config dict or a "
                     "callable fn(shape, dtype=None).")


__all__ = ["Initializer", *(cls.__name__ for cls in _CLASSES), "get", "serialize",
           "deserialize", "compute_fans"]


def __getattr__(name):
    from bptt import _missing

    return _missing.refuse(__name__, "initializers", name)
