"""bptt.checks as layers and optimizers use it: a bad rate, beta, clip or learning rate is a
ValueError naming the argument and what came, at construction; good values are kept as floats."""
import numpy as np
import pytest

from bptt import checks, layers, optimizers


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Dropout("0.5"), r"Dropout `rate` must be a float in \[0, 1\), got '0.5'"),
    (lambda: layers.Dropout(1.0), r"Dropout `rate` must be a float in \[0, 1\), got 1.0"),
    (lambda: layers.Dropout(-0.1), r"`rate` must be a float in \[0, 1\)"),
    (lambda: layers.LSTM(3, dropout="0.2"), r"LSTM `dropout` must be a float in \[0, 1\)"),
    (lambda: layers.GRU(3, recurrent_dropout=1.5), r"GRU `recurrent_dropout` must be a float"),
    (lambda: optimizers.Adam(beta_1=1.5), r"Adam `beta_1` must be a float in \[0, 1\), got 1.5"),
    (lambda: optimizers.Adam(beta_2=1.0), r"Adam `beta_2` must be a float in \[0, 1\)"),
    (lambda: optimizers.Adam(epsilon=-1e-7), r"Adam `epsilon` must be a number >= 0"),
    (lambda: optimizers.AdamW(beta_1=-0.5), r"AdamW `beta_1` must be a float in \[0, 1\)"),
    (lambda: optimizers.Adam(learning_rate=-1), r"Adam `learning_rate` must be a number >= 0"),
    (lambda: optimizers.SGD(learning_rate=-0.1), r"SGD `learning_rate` must be a number >= 0"),
    (lambda: optimizers.Adam(clipnorm=-1), r"Adam `clipnorm` must be a number > 0 or None"),
    (lambda: optimizers.Adam(clipnorm=0), r"Adam `clipnorm` must be a number > 0 or None"),
    (lambda: optimizers.SGD(clipvalue=-1), r"SGD `clipvalue` must be a number > 0 or None"),
    (lambda: optimizers.RMSprop(global_clipnorm="1"), r"`global_clipnorm` must be a number > 0"),
    (lambda: optimizers.RMSprop(rho=1.2), r"RMSprop `rho` must be a float in \[0, 1\)"),
    (lambda: optimizers.RMSprop(momentum=-1), r"RMSprop `momentum` must be a float in \[0, 1\]"),
    (lambda: optimizers.Adam(weight_decay=-0.1), r"Adam `weight_decay` must be a number >= 0"),
])
def test_bad_values_are_refused_with_the_argument_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_good_values_are_kept_as_floats():
    assert layers.Dropout(np.float32(0.25)).rate == 0.25
    adam = optimizers.Adam(learning_rate=0, beta_1=0, beta_2=np.float64(0.5), clipnorm=2)
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.clipnorm) == (0.0, 0.0, 0.5, 2)
    assert optimizers.RMSprop(momentum=1).momentum == 1.0


def test_the_helpers_take_bounds_as_given():
    assert checks.in_range(1, "x", 0, 1, high_open=False) == 1.0
    with pytest.raises(ValueError, match=r"`x` must be a float in \[0, 1\), got True"):
        checks.in_range(True, "x", 0, 1)
    assert checks.positive(None, "x", optional=True) is None
    with pytest.raises(ValueError, match="must be a number > 0, got None"):
        checks.positive(None, "x")
    assert checks.not_negative(0, "x") == 0.0
