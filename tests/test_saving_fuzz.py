"""Fuzzing the model file: thousands of damaged copies of one file, each refused with
ModelFileError or loaded as exactly the saved model, never anything in between."""
import io
import json
import struct
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from bptt import backend, models
from bptt.saving import ModelFileError, random_state
from bptt.utils import set_random_seed
from tests.helpers import model_files as mf


def snapshot(model):
    """What a load must reproduce: config, weights, optimizer state, generator states."""
    state = model.optimizer.get_state(model.weights) if model.compiled else {}
    return (json.dumps(model.get_config(), sort_keys=True),
            [w.tobytes() for w in model.weights], [str(w.dtype) for w in model.weights],
            {k: v.tobytes() for k, v in state.items()},
            json.dumps(random_state.collect(model), sort_keys=True))


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    set_random_seed(11)
    model = mf.small_model(seed=3)
    x, y = mf.data(np.random.default_rng(0))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path_factory.mktemp("fuzz") / "model.bptt"
    model.save(path)
    reference = snapshot(models.load_model(path))
    return path.read_bytes(), mf.entries(path), reference


def _zip(contents):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _flip(data, rng, count):
    data = bytearray(data)
    for _ in range(count):
        data[int(rng.integers(len(data)))] = int(rng.integers(256))
    return bytes(data)


def _mutate_npz_headers(npz, rng):
    """Change bytes in the first 128 bytes (magic and header) of one member of a .npz."""
    members = mf.entries(io.BytesIO(npz))
    name = list(members)[int(rng.integers(len(members)))]
    data = bytearray(members[name])
    for _ in range(int(rng.integers(1, 4))):
        data[int(rng.integers(min(128, len(data))))] = int(rng.integers(32, 127))
    return _zip({**members, name: bytes(data)})


def _find_all(data, part):
    at = data.find(part)
    while at >= 0:
        yield at
        at = data.find(part, at + 1)


def mutations(raw, contents, rng):
    """(kind, bytes of a damaged file), seeded."""
    names = list(contents)
    kinds = ["zip bytes", "truncate", "config bytes", "array headers", "swap entries",
             "insert", "delete", "config values", "zip sizes"]
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        fields = [struct.pack("<III", info.CRC, info.compress_size, info.file_size)
                  for info in archive.infolist()]
    size_fields = [(at, field) for field in fields for at in _find_all(raw, field)]
    while True:
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind == "zip bytes":
            yield kind, _flip(raw, rng, int(rng.integers(1, 9)))
        elif kind == "truncate":
            yield kind, raw[:int(rng.integers(len(raw)))]
        elif kind == "config bytes":
            yield kind, _zip({**contents, "config.json": _flip(contents["config.json"], rng,
                                                               int(rng.integers(1, 4)))})
        elif kind == "array headers":
            name = ["model.weights.npz", "optimizer.npz"][int(rng.integers(2))]
            yield kind, _zip({**contents, name: _mutate_npz_headers(contents[name], rng)})
        elif kind == "swap entries":
            a, b = rng.choice(len(names), size=2, replace=False)
            swapped = dict(contents)
            swapped[names[a]], swapped[names[b]] = contents[names[b]], contents[names[a]]
            yield kind, _zip(swapped)
        elif kind == "insert":
            at = int(rng.integers(len(raw)))
            yield kind, raw[:at] + bytes(rng.integers(256, size=int(rng.integers(1, 9)),
                                                      dtype=np.uint8)) + raw[at:]
        elif kind == "zip sizes":  # an entry's sizes, in its local header or the directory
            at, field = size_fields[int(rng.integers(len(size_fields)))]
            crc, *sizes = struct.unpack("<III", field)
            size = int(rng.integers(2**32))
            if rng.integers(2):  # both, as a stored entry's are
                sizes = [size, size]
            else:
                sizes[int(rng.integers(2))] = size
            yield kind, raw[:at] + struct.pack("<III", crc, *sizes) + raw[at + 12:]
        elif kind == "delete":
            at = int(rng.integers(len(raw)))
            yield kind, raw[:at] + raw[at + int(rng.integers(1, 9)):]
        else:  # a value of config.json changed, with the manifest left as it was
            config = json.loads(contents["config.json"])
            model_layers = config["config"]["layers"]
            layer = model_layers[int(rng.integers(1, len(model_layers)))]
            key = sorted(layer["config"])[int(rng.integers(len(layer["config"])))]
            layer["config"][key] = [0, 1, -1, 10**9, None, "x", 0.5, True][int(rng.integers(8))]
            yield kind, _zip({**contents, "config.json": json.dumps(config).encode()})


def test_fuzzed_model_files_are_refused_or_identical(original, tmp_path):
    raw, contents, reference = original
    rng = np.random.default_rng(2026)
    path = tmp_path / "fuzzed.bptt"
    outcomes = {}
    start = time.perf_counter()
    tracemalloc.start()  # no damaged file may cost more memory than a few times its size
    for _, (kind, data) in zip(range(1200), mutations(raw, contents, rng)):
        path.write_bytes(data)
        try:
            loaded = models.load_model(path)
        except ModelFileError:
            outcomes[kind, "refused"] = outcomes.get((kind, "refused"), 0) + 1
            continue
        assert snapshot(loaded) == reference, kind  # loaded: then exactly the saved model
        outcomes[kind, "identical"] = outcomes.get((kind, "identical"), 0) + 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    elapsed = time.perf_counter() - start
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MB"
    assert sum(outcomes.values()) == 1200
    # every kind of damage was tried, and most were refused
    assert {kind for kind, _ in outcomes} >= {"zip bytes", "truncate", "config bytes",
                                              "array headers", "swap entries", "config values",
                                              "zip sizes"}
    assert sum(n for (_, outcome), n in outcomes.items() if outcome == "refused") > 900
    assert elapsed < 30, elapsed


def _crafted(contents, rng):
    """A file whose manifest matches its damage: changed config values, bytes of config.json,
    or of the arrays' headers."""
    values = [0, 1, -1, 2, 10**6, 10**12, -(10**9), None, "x", "", 0.5, -0.5, 1e308, True,
              [], {}, [1, 2], {"class_name": "Zeros", "config": {}}, "float64", "relu"]
    kind = ["config values", "config bytes", "array headers"][int(rng.integers(3))]
    if kind == "config values":
        config = json.loads(contents["config.json"])
        layers = config["config"]["layers"]
        layer = layers[int(rng.integers(len(layers)))]["config"]
        key = sorted(layer)[int(rng.integers(len(layer)))]
        layer[key] = values[int(rng.integers(len(values)))]
        return kind, {**contents, "config.json": json.dumps(config).encode()}
    if kind == "config bytes":
        return kind, {**contents, "config.json": _flip(contents["config.json"], rng, 2)}
    name = ["model.weights.npz", "optimizer.npz"][int(rng.integers(2))]
    return kind, {**contents, name: _mutate_npz_headers(contents[name], rng)}


def test_crafted_files_with_a_matching_manifest_load_or_are_refused(original, tmp_path):
    """A crafter can write a manifest that matches (or, as in files of format version 1, none):
    the damage then either describes a model, which loads (a different one: that is what the
    file says), or is refused with ModelFileError; no other exception escapes, none takes
    long."""
    _, contents, _ = original
    rng = np.random.default_rng(7)
    path = tmp_path / "crafted.bptt"
    start = time.perf_counter()
    outcomes = {}
    for _ in range(600):
        kind, crafted = _crafted(contents, rng)
        mf.write(path, crafted)
        try:
            models.load_model(path)
            outcome = "loaded"
        except ModelFileError:
            outcome = "refused"
        outcomes[kind, outcome] = outcomes.get((kind, outcome), 0) + 1
    assert {kind for kind, outcome in outcomes if outcome == "refused"} == {
        "config values", "config bytes", "array headers"}, outcomes
    assert sum(n for (_, outcome), n in outcomes.items() if outcome == "loaded") > 0
    assert time.perf_counter() - start < 30
