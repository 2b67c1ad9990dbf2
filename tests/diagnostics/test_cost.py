"""cost(): the tutorial's model worked out by hand from the formulas; the weights equal
count_params; the activations equal the bytes the layers' caches really hold after a training
forward."""
import numpy as np
import pytest
from numpy.lib.array_utils import byte_bounds

from bptt import layers, models
from bptt.diagnostics import cost
from bptt.layers.wrappers import Bidirectional, TimeDistributed


def tutorial_model(cell=layers.LSTM, **options):
    model = models.Sequential()
    model.add(layers.Embedding(input_dim=20000, output_dim=128))
    model.add(cell(64, return_sequences=True, dropout=0.2, **options))
    model.add(cell(32, return_sequences=False, **options))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.build((None, None))
    return model


def test_tutorial_model_by_hand(kernels_setting):
    kernels_setting("fused")  # the caches counted below are the fused kernels' (see cost's docstring)
    c = cost(tutorial_model(), timesteps=200, batch=32)
    B, T, N = 32, 200, 32 * 200
    emb, lstm1, lstm2, dense = c.layers

    assert emb.weights == 20000 * 128
    assert emb.forward_flops == 0
    assert emb.backward_flops == N * 128  # one add per gradient element into the table
    assert emb.activation_bytes == N * np.dtype(np.intp).itemsize  # the token ids

    # LSTM(64) on 128 features: kernel 128 x 256, recurrent kernel 64 x 256, bias 256
    assert lstm1.weights == 128 * 256 + 64 * 256 + 256 == 49_408
    projection = 2 * N * 128 * 256  # x @ kernel: 419,430,400
    recurrent = 2 * N * 64 * 256  # h @ recurrent_kernel over all steps: 209,715,200
    assert lstm1.forward_flops == projection + N * 256 + recurrent == 630_784_000
    assert lstm1.backward_flops == 2 * projection + N * 256 + 2 * recurrent == 1_259_929_600
    # x (T, B, 128) after dropout, the dropout mask (1, B, 128), h0 and c0 (B, 64),
    # h, c, tanh(c) (T, B, 64) each, the gates (T, B, 256); float32
    assert lstm1.activation_bytes == 4 * (N * 128 + B * 128 + 2 * B * 64 + 3 * N * 64 + N * 256) \
        == 14_778_368

    # LSTM(32) on 64 features; it reads the first LSTM's h in place
    assert lstm2.weights == 64 * 128 + 32 * 128 + 128 == 12_416
    assert lstm2.forward_flops == 2 * N * 64 * 128 + N * 128 + 2 * N * 32 * 128 == 158_105_600
    assert lstm2.backward_flops == 4 * N * 64 * 128 + N * 128 + 4 * N * 32 * 128 == 315_392_000
    assert lstm2.activation_bytes == 4 * (2 * B * 32 + 3 * N * 32 + N * 128) == 5_742_592

    assert dense.weights == 33
    assert dense.forward_flops == 2 * B * 32 + B == 2_080
    assert dense.backward_flops == 4 * B * 32 + B == 4_128
    assert dense.activation_bytes == 4 * 2 * B  # y and its logits; x is the LSTM's last h

    assert c.total.weights == 2_560_000 + 49_408 + 12_416 + 33
    assert c.total.forward_flops == 630_784_000 + 158_105_600 + 2_080
    assert c.total.activation_bytes == 51_200 + 14_778_368 + 5_742_592 + 256


@pytest.mark.parametrize("cell, options", [
    (layers.LSTM, {}), (layers.GRU, {}), (layers.GRU, {"reset_after": False}),
    (layers.SimpleRNN, {})])
def test_weights_equal_count_params(cell, options):
    model = tutorial_model(cell, **options)
    c = cost(model, 50, 32)
    assert [row.weights for row in c.layers] == [layer.count_params() for layer in model.layers]
    assert c.total.weights == model.count_params()


def test_gru_has_a_quarter_fewer_gate_weights_than_lstm():
    lstm, gru = cost(tutorial_model(), 200, 32), cost(tutorial_model(layers.GRU), 200, 32)
    gru_before = cost(tutorial_model(layers.GRU, reset_after=False), 200, 32)
    lstm_gates = 4 * (128 * 64 + 64 * 64)  # kernel and recurrent kernel of LSTM(64)
    gru_gates = 3 * (128 * 64 + 64 * 64)
    assert gru_gates == 0.75 * lstm_gates
    assert lstm.layers[1].weights == lstm_gates + 4 * 64
    assert gru.layers[1].weights == gru_gates + 2 * 3 * 64  # reset_after: two bias rows
    assert gru_before.layers[1].weights == gru_gates + 3 * 64 == 0.75 * lstm.layers[1].weights


# -- the activations against what the caches hold -------------------------------------------------
def _arrays(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays(item)


def _held(layer):
    """The arrays a layer (and the layers inside it) keeps for its backward."""
    yield from _arrays(layer.cache)
    if getattr(layer, "logits", None) is not None:
        yield layer.logits
    for inner in ("layer", "forward_layer", "backward_layer"):
        if hasattr(layer, inner):
            yield from _held(getattr(layer, inner))


def measured_bytes(model, x):
    """Bytes each layer's cache holds after a training forward, not counting its weights nor
    memory that an earlier layer's cache (or another array of its own) already covers."""
    model._forward(x, training=True)
    covered, per_layer = [], []  # covered: [low, high) byte ranges already counted
    for layer in model.layers:
        weights = list(layer.params.values())
        for inner in ("layer", "forward_layer", "backward_layer"):
            weights += list(getattr(layer, inner).params.values()) if hasattr(layer, inner) else []
        total = 0
        for array in _held(layer):
            if array.nbytes == 0 or any(np.shares_memory(array, w) for w in weights):
                continue
            low, high = byte_bounds(array)
            total += _uncovered(low, high, covered)
            covered.append((low, high))
        per_layer.append(total)
    return per_layer


def _uncovered(low, high, covered):
    """How many bytes of [low, high) no range in `covered` holds."""
    pieces = [(low, high)]
    for c_low, c_high in covered:
        pieces = [part for a, b in pieces
                  for part in ((a, min(b, c_low)), (max(a, c_high), b)) if part[0] < part[1]]
    return sum(b - a for a, b in pieces)


def _ids(rng, batch, steps):
    return rng.integers(1, 50, size=(batch, steps)).astype(np.intp)


MODELS = {
    "tutorial": lambda: tutorial_model(),
    "gru": lambda: tutorial_model(layers.GRU),
    "gru_reset_before": lambda: tutorial_model(layers.GRU, reset_after=False),
    "simple_rnn": lambda: tutorial_model(layers.SimpleRNN),
    "recurrent_dropout": lambda: models.Sequential([
        layers.Embedding(50, 6), layers.SimpleRNN(5, return_sequences=True, recurrent_dropout=0.3),
        layers.LSTM(4, recurrent_dropout=0.3, dropout=0.1), layers.Dense(2)]),
    "wrappers": lambda: models.Sequential([
        layers.Embedding(50, 6), layers.Dropout(0.5),
        Bidirectional(layers.GRU(5, return_sequences=True)),
        layers.LSTM(3, return_sequences=True, go_backwards=True),
        TimeDistributed(layers.Dense(2, activation="softmax")),
        Bidirectional(layers.SimpleRNN(4), merge_mode="sum"), layers.Dense(1)]),
    "simple_layers": lambda: models.Sequential([
        layers.Embedding(50, 6), layers.Activation("tanh"), layers.LSTM(3, return_sequences=True),
        layers.Dense(4), layers.Activation("relu"), layers.GRU(2, return_sequences=True),
        layers.Flatten(), layers.Dense(1, activation="sigmoid")]),
}


@pytest.mark.parametrize("kernels", ["fused", "reference"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_activations_equal_the_caches(name, kernels, kernels_setting, rng):
    kernels_setting(kernels)
    model = MODELS[name]()
    batch, steps = 3, 5
    model.build((None, steps))
    c = cost(model, steps, batch)
    measured = measured_bytes(model, _ids(rng, batch, steps))
    assert [row.activation_bytes for row in c.layers] == measured


def test_tutorial_model_activations_at_its_demo_size(rng):
    """Reviews of 50 words, batch 32: the caches of a real training forward."""
    model = tutorial_model()
    c = cost(model, 50, 32)
    ids = rng.integers(1, 20000, size=(32, 50)).astype(np.intp)
    assert [row.activation_bytes for row in c.layers] == measured_bytes(model, ids)


def test_unknown_layer_gets_a_row_and_the_totals_say_so():
    from bptt.layers.base import Layer

    class Doubler(Layer):
        def forward(self, x, training=False):
            return 2 * x

        def backward(self, dy):
            return 2 * dy

    model = models.Sequential([layers.Embedding(50, 4, name="ids"), Doubler(name="doubler"),
                               layers.LSTM(3, name="cell")])
    model.build((None, None))
    c = cost(model, 5, 2)
    assert not c["doubler"].known and c["doubler"].weights == 0
    assert "doubler" in c.total.note
    assert c.total.forward_flops == c["cell"].forward_flops  # the Embedding's is 0
    table = str(c)
    assert "doubler" in table and "?" in table and "excluding doubler" in table


def test_table_and_rows():
    c = cost(tutorial_model(), 200, 32)
    rows = c.rows()
    assert [row["name"] for row in rows][-1] == "total"
    assert rows[1]["forward_flops"] == 630_784_000
    table = str(c)
    assert "batch 32, 200 timesteps, float32" in table
    assert "630.8 M" in table and "2,621,857" in table


def test_bad_input_says_what_was_expected():
    with pytest.raises(ValueError, match="positive int `timesteps`"):
        cost(tutorial_model(), 0, 32)
    model = models.Sequential([layers.Embedding(50, 4), layers.LSTM(3)])
    with pytest.raises(ValueError, match="model.build"):
        cost(model, 5, 2)
