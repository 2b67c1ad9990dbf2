"""Optimizers with Keras 3's update rules, defaults, clipping and weight decay.

    base.py      Optimizer: apply_gradients (clipping, weight decay, iterations), state, config,
                 and the choice between the NumPy update and the fused kernel
    clipping.py  clipnorm, global_clipnorm, clipvalue, an embedding's slices included
    sgd.py       SGD, with optional (Nesterov) momentum
    adam.py      Adam (amsgrad; the opt-in lazy_rows), AdamW (Adam with weight decay 0.004)
    rmsprop.py   RMSprop (centered, momentum)
    schedules.py learning rate schedules (ExponentialDecay, CosineDecay, ...), as Keras'

Each optimizer's module docstring gives its exact update rule. `get` resolves a name, a config
dict or an instance, as `keras.optimizers.get`.
"""
from bptt.optimizers.adam import Adam, AdamW
from bptt.optimizers.base import Optimizer, RowGradient
from bptt.optimizers.rmsprop import RMSprop
from bptt.optimizers.sgd import SGD
from bptt.optimizers import schedules

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "get", "schedules"]

_OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdamW, RMSprop)}


def get(identifier):
    """An optimizer from a name ('adam', 'SGD', 'RMSprop': case-insensitive, as Keras),
    a config dict {'class_name': ..., 'config': {...}}, or an instance (returned as is)."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _lookup(identifier["class_name"]).from_config(dict(identifier.get("config") or {}))
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. Pass a name (one of "
        f"{sorted(_OPTIMIZERS)}), a config dict or an optimizer instance."
    )


def _lookup(name):
    cls = _OPTIMIZERS.get(str(name).lower())
    if cls is None:
        raise ValueError(
            f"Could not interpret optimizer identifier: {name!r}. Known optimizers: "
            f"{sorted(_OPTIMIZERS)} (case-insensitive)."
        )
    return cls


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "optimizers", name)
