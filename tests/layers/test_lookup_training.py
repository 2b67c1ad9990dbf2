"""An Embedding followed by an LSTM in training (bptt.layers.lookup_training): the loss, every
gradient and the weights after a few Adam steps equal the two layers run one after the other,
and the pair runs one by one where the path does not apply."""
import numpy as np
import pytest

from bptt import layers, losses, models, optimizers
from bptt.layers import lookup_training
from tests.helpers import assert_close

VOCABULARY = 30
STEPS = 3


@pytest.fixture(autouse=True)
def fused(kernels_setting):
    """The path is part of the fused kernels: every test here starts from them, also in the
    suite's run under BPTT_KERNELS=reference."""
    kernels_setting("fused")


def model(lstm, mask_zero=False, batch_size=None, vocabulary=VOCABULARY, steps=9, dense=None,
          seed=3):
    net = models.Sequential([
        layers.Input(shape=(steps,), dtype="int32", batch_size=batch_size),
        layers.Embedding(vocabulary, 6, mask_zero=mask_zero), lstm,
        dense or layers.Dense(vocabulary)])
    net.build((batch_size, steps))
    weights = np.random.default_rng(seed)
    net.set_weights([weights.normal(scale=0.5, size=w.shape) for w in net.get_weights()])
    net.compile(optimizer=optimizers.Adam(learning_rate=0.05),
                loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    return net


def fused_pass(net):
    """Whether the net's last training pass ran the Embedding and the LSTM as one."""
    return isinstance(net.layers[1].cache[0], lookup_training.ProjectedRows)


def train(net, batches, monkeypatch, fused):
    """The losses and every layer's gradients (copies) of each step, the weights after."""
    record = []
    with monkeypatch.context() as patch:
        if not fused:
            patch.setattr(lookup_training, "VOCABULARY_SHARE", 0)  # never pays: one by one
        for x, y in batches:
            loss = net.train_on_batch(x, y)
            assert fused_pass(net) == fused
            grads = {f"{type(layer).__name__}/{key}": np.array(value)
                     for layer in net.layers for key, value in layer.grads.items()}
            squares = net.layers[0].grad_squares["embeddings"]
            grads["embedding squares"] = np.array(squares)
            record.append((loss, grads))
    return record, net.get_weights()


def batches(rng, batch, steps, targets_per_step, count=STEPS):
    """Ids from 0 to 19 only: rows 20 .. 29 of the table are never looked up, and with
    batch * steps lookups of 20 ids most repeat."""
    out = []
    for _ in range(count):
        x = rng.integers(0, 20, size=(batch, steps))
        y = rng.integers(0, VOCABULARY, size=(batch, steps) if targets_per_step else (batch,))
        out.append((x, y))
    return out


def assert_same_training(make, data, monkeypatch, dtype):
    tol = 1e-12 if dtype == np.float64 else None  # float32: the project's tolerance
    together, weights_together = train(make(), data, monkeypatch, fused=True)
    apart, weights_apart = train(make(), data, monkeypatch, fused=False)
    for step, ((loss, grads), (loss_apart, grads_apart)) in enumerate(zip(together, apart)):
        assert_close(np.float64(loss), np.float64(loss_apart), f"loss at step {step}", tol=tol)
        assert grads.keys() == grads_apart.keys()
        for key in grads:
            assert_close(grads[key], grads_apart[key], f"{key} at step {step}", tol=tol)
    for index, (w, w_apart) in enumerate(zip(weights_together, weights_apart)):
        assert_close(w, w_apart, f"weight {index} after {len(data)} Adam steps", tol=tol)


@pytest.mark.parametrize("options", [
    {"return_sequences": True},
    {"return_sequences": False},
    {"return_sequences": True, "go_backwards": True},
    {"return_sequences": False, "go_backwards": True},
    {"return_sequences": True, "use_bias": False},
])
def test_training_equals_the_layers_one_by_one(floatx, rng, monkeypatch, options):
    data = batches(rng, 40, 9, targets_per_step=options["return_sequences"])
    assert_same_training(lambda: model(layers.LSTM(5, **options)), data, monkeypatch, floatx)


def test_a_stateful_layer_carries_its_states_the_same_way(floatx, rng, monkeypatch):
    data = batches(rng, 40, 9, targets_per_step=True, count=4)
    make = lambda: model(layers.LSTM(5, stateful=True, return_sequences=True), batch_size=40)
    assert_same_training(make, data, monkeypatch, floatx)


def test_fit_takes_the_path_and_matches(float64, rng, monkeypatch):
    x, y = batches(rng, 80, 9, targets_per_step=True, count=1)[0]
    results = []
    for share in (lookup_training.VOCABULARY_SHARE, 0):
        with monkeypatch.context() as patch:
            patch.setattr(lookup_training, "VOCABULARY_SHARE", share)
            net = model(layers.LSTM(5, return_sequences=True))
            history = net.fit(x, y, batch_size=40, epochs=2, shuffle=False, verbose=0)
            assert fused_pass(net) == (share > 0)
            results.append((history.history["loss"], net.get_weights()))
    (losses_together, weights_together), (losses_apart, weights_apart) = results
    assert_close(np.array(losses_together), np.array(losses_apart), "losses", tol=1e-12)
    for w, w_apart in zip(weights_together, weights_apart):
        assert_close(w, w_apart, "weights after fit", tol=1e-12)


def test_the_path_applies_where_it_pays_and_fits():
    net = model(layers.LSTM(5))
    embedding, lstm = net.layers[0], net.layers[1]
    ids = np.zeros((40, 9), int)
    assert lookup_training.applies(embedding, lstm, ids)
    assert not lookup_training.applies(embedding, lstm, ids[:3])  # 27 lookups, 30 rows
    assert not lookup_training.applies(embedding, lstm, ids, mask=ids > 0)
    assert not lookup_training.applies(embedding, net.layers[2], ids)  # not an LSTM


@pytest.mark.parametrize("case", ["mask_zero", "dropout", "recurrent_dropout", "gru",
                                  "reference kernels", "few lookups"])
def test_where_it_does_not_apply_the_layers_run_one_by_one(float64, rng, monkeypatch,
                                                           kernels_setting, case):
    if case == "reference kernels":
        kernels_setting("reference")
    recurrent = {
        "dropout": lambda: layers.LSTM(5, return_sequences=True, dropout=0.3, seed=1),
        "recurrent_dropout": lambda: layers.LSTM(5, return_sequences=True,
                                                 recurrent_dropout=0.3, seed=1),
        "gru": lambda: layers.GRU(5, return_sequences=True),
    }.get(case, lambda: layers.LSTM(5, return_sequences=True))
    batch = 3 if case == "few lookups" else 40
    data = batches(rng, batch, 9, targets_per_step=True)
    runs = []
    for share in (lookup_training.VOCABULARY_SHARE, 0):
        with monkeypatch.context() as patch:
            patch.setattr(lookup_training, "VOCABULARY_SHARE", share)
            net = model(recurrent(), mask_zero=case == "mask_zero")
            step_losses = []
            for x, y in data:
                step_losses.append(net.train_on_batch(x, y))
                assert not isinstance(net.layers[1].cache[0], lookup_training.ProjectedRows)
            runs.append((step_losses, net.get_weights()))
    (losses_first, weights_first), (losses_apart, weights_apart) = runs
    np.testing.assert_array_equal(losses_first, losses_apart)  # the same code ran: same bits
    for w, w_apart in zip(weights_first, weights_apart):
        np.testing.assert_array_equal(w, w_apart)


def test_the_sentiment_model_runs_its_layers_one_by_one(rng):
    """The tutorial's Embedding(20000, 128) in front of an LSTM: a batch of 32 reviews of 200
    words looks up 6,400 ids, fewer than the table's rows, so the path does not pay there."""
    net = models.Sequential([layers.Input(shape=(200,), dtype="int32"),
                             layers.Embedding(20000, 128), layers.LSTM(4),
                             layers.Dense(1, activation="sigmoid")])
    net.compile(optimizer="adam", loss="binary_crossentropy")
    x = rng.integers(0, 20000, size=(32, 200))
    assert not lookup_training.applies(net.layers[0], net.layers[1], x)
    net.train_on_batch(x, rng.integers(0, 2, size=(32,)).astype("float32"))
    assert isinstance(net.layers[1].cache[0], np.ndarray)  # the LSTM projected the vectors


def test_bad_ids_get_the_embeddings_error():
    net = model(layers.LSTM(5))
    with pytest.raises(ValueError, match="outside \\[0, input_dim\\)"):
        net.train_on_batch(np.full((40, 9), VOCABULARY), np.zeros(40, int))
