"""Learning rate schedules: Keras' formulas, used by the optimizer at its step, and saved with
the model as their config."""
import math
import os

import numpy as np
import pytest

from bptt import layers, models, optimizers
from bptt.optimizers import schedules
from bptt.utils import set_random_seed


@pytest.mark.parametrize("schedule, formula", [
    (schedules.ExponentialDecay(0.1, 10, 0.5), lambda s: 0.1 * 0.5 ** (s / 10)),
    (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
     lambda s: 0.1 * 0.5 ** math.floor(s / 10)),
    (schedules.InverseTimeDecay(0.1, 10, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 10)),
    (schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
     lambda s: 0.1 / (1 + 0.5 * math.floor(s / 10))),
    (schedules.PolynomialDecay(0.1, 20, 0.01, power=0.5),
     lambda s: (0.1 - 0.01) * (1 - min(s, 20) / 20) ** 0.5 + 0.01),
    (schedules.PolynomialDecay(0.1, 20, 0.01, cycle=True),
     lambda s: (0.1 - 0.01) * (1 - s / (20 * max(1, math.ceil(s / 20)))) + 0.01),
    (schedules.PiecewiseConstantDecay([5, 15], [1.0, 0.5, 0.1]),
     lambda s: 1.0 if s <= 5 else 0.5 if s <= 15 else 0.1),
    (schedules.CosineDecay(0.1, 20, alpha=0.1),
     lambda s: 0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20)) + 0.1)),
    (schedules.CosineDecay(0.0, 20, warmup_target=0.2, warmup_steps=8),
     lambda s: 0.2 * s / 8 if s < 8 else
     0.2 * 0.5 * (1 + math.cos(math.pi * min(s - 8, 20) / 20))),
])
def test_schedules_follow_keras_formulas(schedule, formula):
    for step in [0, 1, 4, 5, 6, 9, 10, 11, 15, 16, 20, 25, 40, 41, 100]:
        assert float(schedule(step)) == pytest.approx(formula(step), rel=2e-6, abs=1e-9), step
    twin = type(schedule).from_config(schedule.get_config())
    assert [float(twin(s)) for s in range(30)] == [float(schedule(s)) for s in range(30)]


def test_the_optimizer_uses_the_rate_at_its_step():
    schedule = schedules.PiecewiseConstantDecay([1], [0.5, 0.25])
    optimizer = optimizers.SGD(learning_rate=schedule)
    w = np.zeros(2, dtype=np.float64)
    for _ in range(4):  # steps 0, 1 take 0.5; steps 2, 3 take 0.25
        optimizer.apply_gradients([(np.ones(2), w)])
    np.testing.assert_array_equal(w, [-1.5, -1.5])
    assert optimizer.learning_rate == 0.25


def _model(learning_rate):
    model = models.Sequential([layers.Input(shape=(3,)), layers.Dense(4, activation="tanh"),
                               layers.Dropout(0.2), layers.Dense(1)])
    model.compile(optimizer=optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model


def test_a_model_with_a_schedule_saves_loads_and_trains_on_exactly(tmp_path, rng):
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    schedule = schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    set_random_seed(0)
    whole = _model(schedule)
    whole.fit(x, y, epochs=2, batch_size=8, verbose=0)
    set_random_seed(0)
    first = _model(schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5))
    first.fit(x, y, epochs=1, batch_size=8, verbose=0)
    first.save(tmp_path / "m.bptt")
    resumed = models.load_model(tmp_path / "m.bptt")
    assert isinstance(resumed.optimizer._learning_rate, schedules.ExponentialDecay)
    assert resumed.optimizer.learning_rate == first.optimizer.learning_rate
    resumed.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_schedule_of_ones_own_is_refused_before_anything_is_written(tmp_path):
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1 / 2 ** step

        def get_config(self):
            return {}

    model = _model(Halving())
    with pytest.raises(ValueError, match="only bptt's schedules"):
        model.save(tmp_path / "m.bptt")
    assert os.listdir(tmp_path) == []
