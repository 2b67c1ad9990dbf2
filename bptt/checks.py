"""Checks of numeric arguments shared by layers and optimizers: each error names the argument,
what it must be, and what came (a string "0.5" included, which would otherwise fail deep inside
with a comparison error)."""
import numbers


def is_real(value):
    """A real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def in_range(value, name, low, high, high_open=True, owner=""):
    """`value` is a real number in [low, high) (or [low, high] with high_open=False)."""
    inside = is_real(value) and low <= value and (value < high if high_open else value <= high)
    if not inside:
        closing = ")" if high_open else "]"
        prefix = f"{owner} " if owner else ""
        raise ValueError(f"{prefix}`{name}` must be a float in [{low}, {high}{closing}, got "
                         f"{value!r}.")
    return float(value)


def positive(value, name, owner="", optional=False):
    """`value` is a real number > 0 (None too, where optional)."""
    if value is None and optional:
        return None
    if not is_real(value) or not value > 0:
        prefix = f"{owner} " if owner else ""
        extra = " or None" if optional else ""
        raise ValueError(f"{prefix}`{name}` must be a number > 0{extra}, got {value!r}.")
    return float(value)


def not_negative(value, name, owner="", optional=False):
    """`value` is a real number >= 0 (None too, where optional)."""
    if value is None and optional:
        return None
    if not is_real(value) or not value >= 0:
        prefix = f"{owner} " if owner else ""
        extra = " or None" if optional else ""
        raise ValueError(f"{prefix}`{name}` must be a number >= 0{extra}, got {value!r}.")
    return float(value)
