"""The checks of fit's, evaluate's and predict's arguments, made before anything changes.

Each says which argument, what it must be, and what came: `batch_size=0` or -4 is an error
rather than a default batch or no training at all, a float `epochs` is one rather than a failure
inside range(), and `validation_freq=0` fails before the first epoch rather than after it.
"""
import numbers

import numpy as np


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def count(value, name, minimum=1, optional=False):
    """An int >= minimum (None too, where optional)."""
    if value is None and optional:
        return None
    if not _is_int(value) or value < minimum:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        extra = " or None" if optional else ""
        raise ValueError(f"{name} must be {what}{extra}, got {value!r}.")
    return int(value)


def verbose(value):
    """'auto', or an int >= 0 (Keras' 0 silent, 1 progress bar, 2 one line per epoch)."""
    if value == "auto" and isinstance(value, str):
        return value
    if isinstance(value, bool) or (_is_int(value) and value >= 0):
        return int(value)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {value!r}.")


def fraction(value, name):
    """A float in [0, 1) (0: none)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not 0 <= value < 1:
        raise ValueError(f"{name} must be a float in [0, 1), e.g. {name}=0.1 for 10%, got "
                         f"{value!r}.")
    return float(value)


def fit_arguments(batch_size, epochs, verbose_, validation_split, shuffle, initial_epoch,
                  steps_per_epoch, validation_steps, validation_batch_size, validation_freq):
    """fit's scalar arguments, checked together (before any data is looked at)."""
    count(batch_size, "batch_size", optional=True)
    count(epochs, "epochs", minimum=0)
    count(initial_epoch, "initial_epoch", minimum=0)
    count(steps_per_epoch, "steps_per_epoch", optional=True)
    count(validation_steps, "validation_steps", optional=True)
    count(validation_batch_size, "validation_batch_size", optional=True)
    count(validation_freq, "validation_freq")
    fraction(validation_split, "validation_split")
    verbose(verbose_)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}.")


def nonempty(xs, what):
    """At least one sample in the arrays given to `what`."""
    if len(xs[0]) == 0:
        raise ValueError(f"{what} got no samples: x has shape {np.shape(xs[0])}. Pass at "
                         "least one sample.")


def sample_weights(sws):
    """Sample weights are finite and not negative (a negative weight would train the model
    away from its targets)."""
    for index, sw in enumerate(sws or ()):
        if sw is None:
            continue
        if not np.issubdtype(sw.dtype, np.number) or np.issubdtype(sw.dtype, np.complexfloating):
            raise ValueError(f"sample_weight must hold real numbers, got dtype {sw.dtype}.")
        if not np.isfinite(sw).all() or (sw < 0).any():
            bad = sw[~(np.isfinite(sw) & (sw >= 0))].ravel()[:3]
            where = "" if len(sws) == 1 else f" (output {index})"
            raise ValueError(f"sample_weight{where} must be finite and >= 0, got values such as "
                             f"{bad.tolist()}. Give a weight of 0 to leave a sample out.")


def targets(ys):
    """Targets hold numbers (class ids, one-hot rows or values), not text."""
    for index, y in enumerate(ys or ()):
        if y is not None and not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
            where = "" if len(ys) == 1 else f" (output {index})"
            raise ValueError(f"y{where} must hold numbers, got dtype {y.dtype}. Encode labels "
                             "as class ids first, e.g. classes, y = np.unique(labels, "
                             "return_inverse=True).")
