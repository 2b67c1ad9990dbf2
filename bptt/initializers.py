"""Weight initializers with Keras' names and definitions.

Each takes (shape, dtype, rng) and returns an array; `rng` is a `np.random.Generator`.
    glorot_uniform  U(-l, l), l = sqrt(6 / (fan_in + fan_out))      (Keras' kernel default)
    orthogonal      Q of the QR of a normal matrix, signs fixed by diag(R), gain 1
                    (Keras' recurrent_kernel default)
    zeros, ones, glorot_normal, he_uniform, he_normal, uniform (random_uniform), normal
For a 2-D shape (fan_in, fan_out) = shape; Keras' LSTM kernel (I, 4H) is one matrix, so its
fans are I and 4H, as in Keras.
"""
import numpy as np


def _fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def zeros(shape, dtype, rng=None):
    return np.zeros(shape, dtype=dtype)


def ones(shape, dtype, rng=None):
    return np.ones(shape, dtype=dtype)


def glorot_uniform(shape, dtype, rng):
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def _truncated_normal(shape, stddev, rng):
    # Keras' truncated normal: redraw values outside two standard deviations.
    out = rng.normal(0.0, 1.0, size=shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
        bad = np.abs(out) > 2
    return out * stddev


def glorot_normal(shape, dtype, rng):
    fan_in, fan_out = _fans(shape)
    # 0.87962566103423978 is the stddev of a unit normal truncated at +-2 (Keras' correction).
    stddev = np.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978
    return _truncated_normal(shape, stddev, rng).astype(dtype)


def he_uniform(shape, dtype, rng):
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def he_normal(shape, dtype, rng):
    fan_in, _ = _fans(shape)
    stddev = np.sqrt(2.0 / fan_in) / 0.87962566103423978
    return _truncated_normal(shape, stddev, rng).astype(dtype)


def orthogonal(shape, dtype, rng, gain=1.0):
    rows = int(np.prod(shape[:-1]))
    cols = shape[-1]
    flat = rng.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q[:rows, :cols]).reshape(shape).astype(dtype)


def random_uniform(shape, dtype, rng, minval=-0.05, maxval=0.05):
    return rng.uniform(minval, maxval, size=shape).astype(dtype)


def random_normal(shape, dtype, rng, mean=0.0, stddev=0.05):
    return rng.normal(mean, stddev, size=shape).astype(dtype)


INITIALIZERS = {
    "zeros": zeros,
    "ones": ones,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "orthogonal": orthogonal,
    "uniform": random_uniform,
    "random_uniform": random_uniform,
    "normal": random_normal,
    "random_normal": random_normal,
}


def get(identifier):
    """An initializer from its Keras name, or a user's callable. As in Keras, a callable is
    called as fn(shape, dtype=dtype); bptt's own initializers also receive the generator."""
    if callable(identifier):
        if identifier in INITIALIZERS.values():
            return identifier
        return lambda shape, dtype, rng: np.asarray(identifier(shape, dtype=dtype), dtype=dtype)
    if identifier not in INITIALIZERS:
        raise ValueError(
            f"Unknown initializer {identifier!r}; expected one of {sorted(INITIALIZERS)} "
            "or a callable (shape, dtype, rng) -> array."
        )
    return INITIALIZERS[identifier]
