"""model.save / load_model and save_weights / load_weights: a zip of JSON and arrays, no pickle."""
import json
import zipfile

import numpy as np
import pytest

from bptt import layers, models, optimizers
from bptt.utils import set_random_seed


def small_model():
    return models.Sequential([
        layers.Input(shape=(6,)),
        layers.Embedding(20, 4),
        layers.Bidirectional(layers.GRU(3, return_sequences=True)),
        layers.LSTM(5, return_sequences=True, dropout=0.1),
        layers.TimeDistributed(layers.Dense(4, activation="relu")),
        layers.SimpleRNN(3),
        layers.Dropout(0.2),
        layers.Dense(1, activation="sigmoid"),
    ])


def data(rng, n=24):
    x = rng.integers(0, 20, size=(n, 6))
    return x, (x[:, -1] > 9).astype("float32")


def test_round_trip_architecture_weights_compile_and_optimizer_state(tmp_path, rng):
    set_random_seed(3)
    x, y = data(rng)
    model = small_model()
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "model.bptt"
    model.save(path)

    loaded = models.load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    assert loaded.get_layer(model.layers[2].name).dropout == pytest.approx(0.1)
    # Training on from the file gives exactly what training on in memory gives.
    set_random_seed(9)
    model.train_on_batch(x, y)
    set_random_seed(9)
    loaded.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_file_is_json_and_arrays_and_loads_without_pickle(tmp_path, rng, monkeypatch):
    model = small_model()
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    path = tmp_path / "m.bptt"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        config = json.loads(archive.read("config.json"))
    assert names == {"config.json", "model.weights.npz", "manifest.json"}
    assert config["format"] == "bptt.model" and config["class_name"] == "Sequential"
    assert [w["shape"] for w in config["weights"]] == [list(w.shape) for w in model.weights]
    # Any attempt to unpickle while loading fails the test.
    import pickle
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle used"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle used"))
    loaded = models.load_model(path, compile=False)
    assert not loaded.compiled


def test_save_weights_load_weights(tmp_path, rng):
    x, _ = data(rng)
    a, b = small_model(), small_model()
    path = tmp_path / "w.weights.npz"
    a.save_weights(path)
    b.load_weights(path)
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))
    other = models.Sequential([layers.Input(shape=(6,)), layers.Embedding(20, 4),
                               layers.LSTM(2), layers.Dense(1)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="weight arrays"):
        other.load_weights(path)
    for w0, w1 in zip(before, other.get_weights()):
        np.testing.assert_array_equal(w0, w1)


def test_not_a_model_file(tmp_path):
    bad = tmp_path / "bad.bptt"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a bptt model file"):
        models.load_model(bad)
