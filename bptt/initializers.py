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
"""
import inspect
import re

import numpy as np

from bptt import backend

# The stddev of a unit normal truncated at +-2: dividing by it gives the truncated draw the
# intended stddev (Keras' constant).
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape, as Keras' `compute_fans`; with both axis lists
    given, the products of the shape over those axes."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (int(np.prod([shape[a] for a in input_axes])),
                int(np.prod([shape[a] for a in output_axes])))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _dtype(dtype):
    return np.dtype(dtype or backend.floatx())


def _truncated_normal(shape, stddev, rng):
    """N(0, stddev^2) with values beyond two stddev redrawn (Keras' truncated normal)."""
    out = rng.normal(0.0, 1.0, size=shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
        bad = np.abs(out) > 2
    return out * stddev


class Initializer:
    """Base class: `__call__(shape, dtype=None)` returns an array; `get_config` /
    `from_config` give the constructor arguments and back.

    bptt's layers also pass their generator as `rng`; initializers with no randomness ignore it.
    """

    def __call__(self, shape, dtype=None, rng=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype).")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# -- constants ----------------------------------------------------------------------------------
class Zeros(Initializer):
    def __call__(self, shape, dtype=None, rng=None):
        return np.zeros(shape, dtype=_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None, rng=None):
        return np.ones(shape, dtype=_dtype(dtype))


class Constant(Initializer):
    """`value` everywhere; an array value must broadcast to the shape (Keras multiplies it by
    ones(shape)), e.g. Embedding(embeddings_initializer=Constant(pretrained_matrix))."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None, rng=None):
        value = np.asarray(self.value)
        try:
            out = np.broadcast_to(value, tuple(shape))
        except ValueError:
            raise ValueError(f"Constant: the value of shape {value.shape} does not broadcast to "
                             f"the weight's shape {tuple(shape)}; pass a scalar or an array of "
                             "that shape.") from None
        return np.array(out, dtype=_dtype(dtype))

    def get_config(self):
        value = self.value
        return {"value": value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, rng=None):
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={tuple(shape)} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


# -- random -------------------------------------------------------------------------------------
class RandomInitializer(Initializer):
    """Holds the seed: `seed` (an int) or, unseeded, one drawn now from the global generator;
    the same values on every call. Made by name (`get('glorot_uniform')`), it draws from the
    generator the caller passes instead (the layer's)."""

    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise ValueError(f"`seed` argument should be an integer or None. Received: seed={seed!r}")
        self.seed = seed  # what the user gave, for get_config
        self._seed = None if seed is None else int(seed)
        self._from_name = False

    def _generator(self, rng):
        if self._from_name:
            return rng if rng is not None else backend.global_rng()
        if self._seed is None:
            # Drawn on the first call rather than in __init__ (as Keras does), so that making
            # an instance by name, which never uses it, does not move the global generator.
            self._seed = int(backend.global_rng().integers(2**31))
        return np.random.default_rng(self._seed)

    def __call__(self, shape, dtype=None, rng=None):
        return np.asarray(self._draw(tuple(shape), self._generator(rng))).astype(_dtype(dtype))

    def get_config(self):
        return {"seed": self.seed}


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def _draw(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def _draw(self, shape, rng):
        return rng.normal(self.mean, self.stddev, size=shape)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    def _draw(self, shape, rng):
        return self.mean + _truncated_normal(shape, self.stddev, rng)


class VarianceScaling(RandomInitializer):
    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Please use one of {self._MODES}.")
        distribution = distribution.lower()
        if distribution == "normal":  # Keras' older name
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}. Please use one "
                             f"of {self._DISTRIBUTIONS}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def _draw(self, shape, rng):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * scale)
            return rng.uniform(-limit, limit, size=shape)
        if self.distribution == "truncated_normal":
            return _truncated_normal(shape, np.sqrt(scale) / _TRUNCATED_STDDEV, rng)
        return rng.normal(0.0, np.sqrt(scale), size=shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


def _variance_scaling(name, scale, mode, distribution):
    """A named VarianceScaling with fixed settings (Keras' GlorotUniform, HeNormal, ...)."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    doc = f"VarianceScaling(scale={scale}, mode='{mode}', distribution='{distribution}')."
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc, "__module__": __name__})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def _draw(self, shape, rng):
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        flat = rng.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))  # makes Q uniformly distributed
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


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
