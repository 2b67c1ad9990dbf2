"""GradientFlow records the gradient through time during fit and leaves training unchanged."""
import numpy as np
import pytest

from bptt import callbacks, diagnostics, layers, models
from bptt.utils import set_random_seed


def train(rng_seed, with_callback, x, y, probe):
    set_random_seed(rng_seed)
    model = models.Sequential([layers.Input(shape=(6, 2)),
                               layers.LSTM(5, return_sequences=True, dropout=0.2),
                               layers.GRU(4), layers.Dropout(0.3), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    flow = callbacks.GradientFlow(*probe, every=3) if with_callback else None
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[flow] if flow else None)
    return model, flow


def test_records_every_n_batches_and_training_is_unchanged(rng):
    x, y = rng.normal(size=(20, 6, 2)), rng.normal(size=(20, 1))
    probe = (x[:5], y[:5])
    plain, _ = train(7, False, x, y, probe)
    traced, flow = train(7, True, x, y, probe)
    for a, b in zip(plain.get_weights(), traced.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sorted(flow.flows) == [0, 3, 6, 9]  # 5 batches an epoch, 2 epochs: 10 batches
    lstm, gru = traced.layers[0].name, traced.layers[1].name
    assert set(flow.flows[9]) == {lstm, gru}
    assert set(flow.flows[9][lstm]) == {"x", "h", "c"} and flow.flows[9][lstm]["c"].shape == (6,)
    now = diagnostics.gradient_flow(traced, *probe)
    assert not np.allclose(flow.flows[0][gru]["h"], now[gru]["h"])  # it changed as it learned


@pytest.mark.parametrize("every", [0, -2, 1.5, True])
def test_every_must_be_a_positive_integer(every):
    with pytest.raises(ValueError, match="positive integer"):
        callbacks.GradientFlow(np.zeros((1, 2, 1)), np.zeros((1, 1)), every=every)
