"""initializers.skip_initialization: weights allocated without drawing or computing their
values, within a budget; load_model builds this way."""
import tracemalloc

import numpy as np
import pytest

from bptt import backend, initializers, layers, models
from bptt.initializers.skipping import WeightBudgetExceeded
from bptt.utils import set_random_seed


def _no_initializer(monkeypatch):
    """Any initializer call, QR or draw from the global generator fails the test."""
    def fail(*args, **kwargs):
        pytest.fail("an initializer ran")

    for cls in (initializers.Orthogonal, initializers.GlorotUniform, initializers.Zeros,
                initializers.Ones):
        monkeypatch.setattr(cls, "__call__", fail)
    monkeypatch.setattr(np.linalg, "qr", fail)


def test_building_inside_the_context_initializes_nothing(monkeypatch):
    set_random_seed(3)
    before = backend.global_rng().bit_generator.state
    _no_initializer(monkeypatch)
    with initializers.skip_initialization():
        lstm = layers.LSTM(8)
        lstm.build((None, 5, 4))
    assert [w.shape for w in lstm.weights] == [(4, 32), (8, 32), (32,)]
    assert all(w.dtype == np.float32 for w in lstm.weights)
    assert backend.global_rng().bit_generator.state == before
    assert not initializers.skipping()


def test_the_budget_refuses_before_allocating():
    tracemalloc.start()
    try:
        with initializers.skip_initialization(budget_bytes=10_000):
            layer = layers.LSTM(100000)
            with pytest.raises(WeightBudgetExceeded, match="more than the 10,000 allowed"):
                layer.build((None, 5, 4))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_load_model_runs_no_initializer(tmp_path, monkeypatch, rng):
    model = models.Sequential([layers.Input(shape=(6,)), layers.Embedding(10, 4),
                               layers.LSTM(5), layers.Dense(2)])
    model.save(tmp_path / "m.bptt")
    _no_initializer(monkeypatch)
    loaded = models.load_model(tmp_path / "m.bptt")
    x = rng.integers(0, 10, size=(3, 6))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
