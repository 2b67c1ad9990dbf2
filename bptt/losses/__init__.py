"""Losses with Keras 3's numerics, each with its gradient with respect to the model output.

    base.py          Loss: per-sample values, then Keras' reduction of them with sample
                     weights and a mask; squeeze_or_expand_to_same_rank
    crossentropy.py  binary / categorical / sparse categorical crossentropy (from_logits)
    regression.py    mean squared / absolute (percentage) / squared logarithmic error, Huber,
                     log-cosh
    probabilistic.py Poisson, KL divergence

Each module's docstring gives its formulas. `get` resolves a Keras name, a config dict, a loss
function, class or instance, as `keras.losses.get`.
"""
import inspect

from bptt.losses.base import EPSILON, Loss, _snake, squeeze_or_expand_to_same_rank
from bptt.losses.crossentropy import (
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, binary_crossentropy,
    categorical_crossentropy, sparse_categorical_crossentropy,
)
from bptt.losses.probabilistic import KLDivergence, Poisson, kl_divergence, poisson
from bptt.losses.regression import (
    Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, huber, log_cosh, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error,
)

__all__ = [
    "Loss", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "LogCosh", "Poisson", "KLDivergence",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "poisson", "kl_divergence", "get",
]


# -- lookup -------------------------------------------------------------------------------------
_CLASSES = (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
            MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, Huber, LogCosh, Poisson, KLDivergence)
_FUNCTIONS = {
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    huber: Huber,
    log_cosh: LogCosh,
    poisson: Poisson,
    kl_divergence: KLDivergence,
}
# Keras' names, case-sensitive as keras.losses.get: class names, function names, aliases.
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({fn.__name__: cls for fn, cls in _FUNCTIONS.items()})
_BY_NAME.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
                 "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
                 "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
                 "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
                 "kld": KLDivergence, "KLD": KLDivergence})


def get(identifier):
    """A Loss instance from a Keras name ('binary_crossentropy', 'BinaryCrossentropy', 'mse',
    ...), a config dict {'class_name': ..., 'config': ...}, a loss function, class or instance.

    As in `model.compile`, a function name gives the loss that name ('mse' is named 'mse');
    a class name gives the class' default name."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _lookup(identifier)
        return cls() if identifier == cls.__name__ else cls(name=identifier)
    if isinstance(identifier, dict) and "class_name" in identifier:
        config = identifier.get("config")
        if identifier["class_name"] == "function":  # Keras' serialisation of a loss function
            return get(config)
        return _lookup(identifier["class_name"]).from_config(dict(config or {}))
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier](name=identifier.__name__)
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Known losses: {sorted(_BY_NAME)}."
    )


def _lookup(name):
    cls = _BY_NAME.get(name)
    if cls is None:
        raise ValueError(f"Could not interpret loss identifier: {name!r}. Known losses: {sorted(_BY_NAME)}.")
    return cls


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "losses", name)
