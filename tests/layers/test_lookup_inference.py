"""An Embedding followed by an LSTM at inference (bptt.layers.lookup_inference): the one call
equals the two layers run one after the other, and steps aside where it does not apply."""
import numpy as np
import pytest

from bptt import layers, models
from bptt.layers import lookup_inference
from tests.helpers import assert_close


def model(lstm, mask_zero=False, batch_size=None):
    net = models.Sequential([layers.Input(shape=(9,), dtype="int32", batch_size=batch_size),
                             layers.Embedding(30, 6, mask_zero=mask_zero), lstm,
                             layers.Dense(2)])
    net.build((batch_size, 9))
    return net


def one_by_one(net, ids):
    x = ids
    for layer in net.layers:
        x = layer.infer(x)
    return x


@pytest.fixture(autouse=True)
def fused(kernels_setting):
    """The one-call path is part of the fused kernels: every test here starts from them, also
    in the suite's run under BPTT_KERNELS=reference."""
    kernels_setting("fused")


@pytest.fixture
def ids(rng):
    return rng.integers(1, 30, size=(40, 9))  # 360 lookups of at most 29 ids: the path pays


@pytest.mark.parametrize("options", [{}, {"return_sequences": True}, {"go_backwards": True}])
def test_the_one_call_equals_the_layers_one_by_one(float64, ids, monkeypatch, options):
    calls = []
    original = lookup_inference.infer
    monkeypatch.setattr(lookup_inference, "infer",
                        lambda *args: calls.append(original(*args)) or calls[-1])
    net = model(layers.LSTM(5, **options))
    together = net.predict_on_batch(ids)
    assert calls and calls[0] is not None  # it ran
    assert_close(together, one_by_one(net, ids), "outputs")


def test_a_stateful_layer_carries_its_states_the_same_way(float64, rng):
    ids = rng.integers(1, 30, size=(40, 9))
    net = model(layers.LSTM(5, stateful=True), batch_size=40)
    first, second = net.predict_on_batch(ids), net.predict_on_batch(ids)
    net.reset_states()
    assert_close(first, one_by_one(net, ids), "first call")
    assert_close(second, one_by_one(net, ids), "second call, from the states the first left")
    assert np.abs(first - second).max() > 1e-6  # the states did carry over


def test_steps_aside_where_it_does_not_pay_or_apply(ids, rng):
    spread = np.arange(40 * 9).reshape(40, 9) % 30  # every id about once per 12 lookups: pays
    few = rng.integers(1, 30, size=(2, 9))  # 18 lookups of up to 18 ids: does not pay
    net = model(layers.LSTM(5))
    embedding, lstm = net.layers[0], net.layers[1]
    assert lookup_inference.infer(embedding, lstm, spread) is not None
    assert lookup_inference.infer(embedding, lstm, few) is None
    assert lookup_inference.infer(embedding, net.layers[2], ids) is None  # not an LSTM
    masked = model(layers.LSTM(5), mask_zero=True)
    assert lookup_inference.infer(masked.layers[0], masked.layers[1], ids) is None


def test_reference_kernels_run_the_layers_one_by_one(ids, kernels_setting):
    kernels_setting("reference")
    net = model(layers.LSTM(5))
    assert lookup_inference.infer(net.layers[0], net.layers[1], ids) is None


def test_bad_ids_get_the_embeddings_error(ids):
    net = model(layers.LSTM(5))
    with pytest.raises(ValueError, match="outside \\[0, input_dim\\)"):
        net.predict_on_batch(ids + 30)
