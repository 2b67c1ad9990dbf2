"""A step whose loss or gradient is NaN or inf is not applied (bptt.models.finite): fit stops
with a warning that names the batch and keeps the weights of the last finite step;
train_on_batch leaves the weights as they were; bptt.config.set_check_finite(False) gives
Keras' behaviour back, and TerminateOnNaN keeps Keras' rule."""
import math

import numpy as np
import pytest

from bptt import backend, callbacks, config, layers, models, optimizers
from bptt.models import finite


@pytest.fixture
def checks():
    """config.set_check_finite, restored after the test."""
    before = backend.get_check_finite()
    yield config.set_check_finite
    backend.set_check_finite(before)


def tagged_model():
    net = models.Sequential([layers.Input((5,), dtype="int32"), layers.Embedding(20, 4),
                             layers.LSTM(3), layers.Dense(1, activation="sigmoid")])
    net.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return net


def sequence_model():
    net = models.Sequential([layers.Input((6, 2)), layers.LSTM(3),
                             layers.Dense(1, activation="sigmoid")])
    net.compile(optimizer="adam", loss="binary_crossentropy")
    return net


@pytest.fixture
def data(rng):
    x = rng.integers(0, 20, (64, 5))
    y = rng.integers(0, 2, (64, 1)).astype("float32")
    return x, y


def test_fit_stops_at_the_batch_with_a_nan_target_and_keeps_the_weights_before_it(data):
    x, y = data
    y = y.copy()
    y[40] = np.nan  # batch 3 of 16 samples (index 2)
    net, twin = tagged_model(), tagged_model()
    twin.set_weights(net.get_weights())
    with pytest.warns(RuntimeWarning, match=r"epoch 1, batch 3 .*the loss is nan.*not applied"):
        history = net.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 1 and math.isnan(history.history["loss"][0])
    twin.fit(x[:32], y[:32], batch_size=16, epochs=1, shuffle=False, verbose=0)  # batches 1, 2
    for after, expected in zip(net.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(after, expected)
    assert net.optimizer.iterations == 2


def test_an_inf_input_with_a_finite_loss_is_caught_by_its_gradient(rng):
    x = rng.standard_normal((8, 6, 2))
    x[3, 2, 1] = np.inf  # saturates the gates: the loss stays finite, the gradients do not
    net = sequence_model()
    before = net.get_weights()
    with pytest.warns(RuntimeWarning, match=r"gradient of 'lstm\w*/\w+' holds NaN or inf "
                                            r"\(the loss was [0-9.]+\)"):
        loss = net.train_on_batch(x, np.ones((8, 1)))
    assert math.isfinite(loss)
    for after, expected in zip(net.get_weights(), before):
        np.testing.assert_array_equal(after, expected)
    assert net.optimizer.iterations == 0


def test_without_the_check_fit_runs_on_as_keras_does(data, checks):
    x, y = data
    y = y.copy()
    y[40] = np.nan
    checks(False)
    net = tagged_model()
    history = net.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2  # no stop
    assert not all(np.isfinite(w).all() for w in net.get_weights())  # the NaN reached them


def test_terminate_on_nan_keeps_keras_rule(data, checks, capsys):
    x, y = data
    y = y.copy()
    y[40] = np.nan
    checks(False)
    net = tagged_model()
    net.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
            callbacks=[callbacks.TerminateOnNaN()])
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    assert net.optimizer.iterations == 3  # Keras applies the poisoned step, then stops


@pytest.mark.parametrize("value", ["no", 1, None])
def test_set_check_finite_takes_only_a_bool(checks, value):
    with pytest.raises(ValueError, match="True or False"):
        checks(value)
    assert backend.get_check_finite() is True


def test_first_nonfinite_looks_at_the_loss_then_each_gradient_in_order():
    fine = np.ones((3, 2), np.float32)
    assert finite.first_nonfinite(0.5, [fine, fine]) is None
    assert finite.first_nonfinite(float("nan"), [fine]) == "loss"
    assert finite.first_nonfinite(float("inf"), [fine]) == "loss"
    bad = fine.copy()
    bad[2, 1] = -np.inf
    assert finite.first_nonfinite(0.5, [fine, bad, fine]) == 1
    huge = np.full(4, 3e38, np.float32)  # finite, but its sum overflows: as fatal, caught
    assert finite.first_nonfinite(0.5, [huge]) == 0
    assert finite.first_nonfinite(0.5, [np.empty((0, 3))]) is None


def test_an_embedding_gradient_is_checked_on_its_lookups_or_rows():
    summed = np.zeros((5, 2))
    ids, dy = np.array([1, 3]), np.array([[0.5, 0.5], [np.nan, 1.0]])
    with_lookups = optimizers.RowGradient(summed, summed, None, (ids, dy))
    assert finite.first_nonfinite(1.0, [with_lookups]) == 0
    summed = np.zeros((5, 2))
    summed[3, 0] = np.inf
    rows = np.array([False, False, False, True, False])
    assert finite.first_nonfinite(1.0, [optimizers.RowGradient(summed, summed, rows)]) == 0
    assert finite.first_nonfinite(1.0, [optimizers.RowGradient(summed, summed, ~rows)]) is None
