"""Taking model files apart and putting them back together, to craft damaged or hostile ones."""
import hashlib
import io
import json
import zipfile

import numpy as np

from bptt import layers, models, optimizers


def small_model(seed=None):
    """A compiled Sequential with an Embedding, an LSTM with dropout, a GRU and a Dense."""
    model = models.Sequential([
        layers.Input(shape=(5,)),
        layers.Embedding(12, 3),
        layers.LSTM(4, return_sequences=True, dropout=0.2, recurrent_dropout=0.1, seed=seed),
        layers.GRU(3),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def data(rng, n=16):
    x = rng.integers(0, 12, size=(n, 5))
    return x, (x[:, -1] > 5).astype("float32")


def entries(path):
    """{name: bytes} of a zip file, in its order."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def npz_arrays(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def manifest(contents):
    """A manifest.json for the entries, computed here from the format's description."""
    listed = {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
              for name, data in contents.items() if name != "manifest.json"}
    return json.dumps({"format": "bptt.manifest", "algorithm": "sha256",
                       "entries": listed}).encode()


def write(path, contents, remanifest=True, compression=zipfile.ZIP_STORED):
    """A zip of `contents`; with remanifest, its manifest.json made to match (as a crafter
    would), without, the entries' manifest as given."""
    contents = dict(contents)
    if remanifest and "manifest.json" in contents:
        contents["manifest.json"] = manifest(contents)
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


def edit_config(contents, edit):
    """`contents` with config.json changed by edit(config) (in place)."""
    config = json.loads(contents["config.json"])
    edit(config)
    return {**contents, "config.json": json.dumps(config).encode()}


def find_layer(config, class_name):
    """The config dict of the first layer of that class in a Sequential's config.json."""
    return next(layer["config"] for layer in config["config"]["layers"]
                if layer["class_name"] == class_name)
