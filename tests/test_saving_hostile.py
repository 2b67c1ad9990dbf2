"""Model files that are damaged or crafted: every one is refused with ModelFileError, quickly,
at a cost in memory bounded by the file's size, and nothing is built from what the file does
not back."""
import io
import json
import struct
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import bptt
from bptt import models
from bptt.saving import ModelFileError
from bptt.utils import set_random_seed
from tests.helpers import model_files as mf

DATA = "tests/data"


@pytest.fixture
def saved(tmp_path, rng):
    """A trained small model saved to a file: (model, path, entries)."""
    set_random_seed(5)
    model = mf.small_model()
    x, y = mf.data(rng)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "model.bptt"
    model.save(path)
    return model, path, mf.entries(path)


def refused(path, match=None, seconds=1.0, megabytes=4.0):
    """load_model(path) raises ModelFileError within `seconds` and `megabytes` of Python-side
    allocations (tracemalloc sees NumPy's too); returns the message."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match=match) as error:
            models.load_model(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"refused in {elapsed:.2f} s"
    assert peak < megabytes * 2**20, f"peak {peak / 2**20:.1f} MB"
    return str(error.value)


def test_one_exported_error_type():
    assert bptt.ModelFileError is ModelFileError is bptt.saving.ModelFileError
    assert issubclass(ModelFileError, ValueError)


# -- huge layers declared by a few kilobytes --------------------------------------------------
def test_config_declaring_huge_lstm_is_refused_before_building(saved, tmp_path):
    _, _, contents = saved
    crafted = mf.edit_config(contents, lambda c: mf.find_layer(c, "LSTM").update(units=100000))
    message = refused(mf.write(tmp_path / "lstm.bptt", crafted))
    assert "larger than the arrays" in message


def test_config_declaring_huge_embedding_is_refused(saved, tmp_path):
    _, _, contents = saved
    crafted = mf.edit_config(contents, lambda c: mf.find_layer(c, "Embedding").update(
        input_dim=10**6, output_dim=10**4))
    refused(mf.write(tmp_path / "embedding.bptt", crafted), "larger than the arrays")


def test_weight_list_and_array_headers_declaring_huge_shapes_are_refused(saved, tmp_path):
    """The crafter also declares the huge weights and writes array headers claiming them: the
    bytes after each header do not back the shape."""
    _, _, contents = saved

    def edit(config):
        mf.find_layer(config, "Embedding").update(input_dim=10**6, output_dim=10**4)
        config["weights"][0]["shape"] = [10**6, 10**4]

    crafted = mf.edit_config(contents, edit)
    arrays = mf.npz_arrays(contents["model.weights.npz"])
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**4)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as npz:
        for key, array in arrays.items():
            npz.writestr(f"{key}.npy", header.getvalue() + array.tobytes() if key == "0000"
                         else _npy(array))
    crafted["model.weights.npz"] = buffer.getvalue()
    refused(mf.write(tmp_path / "headers.bptt", crafted), "bytes follow it")


def test_a_config_of_too_many_layers_is_refused_before_building(saved, tmp_path):
    _, _, contents = saved

    def edit(config):
        config["config"]["layers"] += [{"class_name": "Dropout", "config": {"rate": 0.0}}] * 60000

    crafted = mf.edit_config(contents, edit)
    # reading its 3 MB of JSON under tracemalloc is what takes the time here
    refused(mf.write(tmp_path / "many.bptt", crafted), "more than 50,000", seconds=4,
            megabytes=64)


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# -- deflate bombs ----------------------------------------------------------------------------
def _bomb_zip(path, contents, name, payload_mb, prefix=b""):
    """`contents` with entry `name` replaced by `prefix` and payload_mb MB of one byte,
    deflated (~1000:1)."""
    with zipfile.ZipFile(path, "w") as archive:
        for entry, data in contents.items():
            if entry != name:
                archive.writestr(entry, data)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as stream:
            stream.write(prefix)
            chunk = b" " * (1 << 20)
            for _ in range(payload_mb):
                stream.write(chunk)
    return path


def test_deflate_bomb_config_is_refused_without_inflating(saved, tmp_path):
    _, _, contents = saved
    path = _bomb_zip(tmp_path / "bomb.bptt", contents, "config.json", 100)
    assert path.stat().st_size < 1 << 20
    refused(path, "would expand to")


def test_deflate_bomb_weights_are_refused_without_inflating(saved, tmp_path):
    _, _, contents = saved
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (25 * 2**20,)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as npz:
        npz.writestr("0000.npy", header.getvalue() + bytes(100 << 20))
    refused(mf.write(tmp_path / "npz-bomb.bptt", {**contents, "model.weights.npz":
                                                  buffer.getvalue()}), "would expand to")


def test_entry_longer_than_its_declared_size_is_cut_and_refused(saved, tmp_path):
    """A header that understates an entry's size: reading stops at the stated size."""
    _, _, contents = saved
    path = mf.write(tmp_path / "liar.bptt", contents, compression=zipfile.ZIP_DEFLATED)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("config.json")
    size = info.file_size.to_bytes(4, "little")
    smaller = (info.file_size // 2).to_bytes(4, "little")
    raw = raw.replace(info.CRC.to_bytes(4, "little") + info.compress_size.to_bytes(4, "little")
                      + size, info.CRC.to_bytes(4, "little")
                      + info.compress_size.to_bytes(4, "little") + smaller)
    path.write_bytes(bytes(raw))
    refused(path)


def test_a_stored_entry_claiming_more_bytes_than_the_file_has_is_refused(saved, tmp_path):
    """2 GB claimed by a 15 KB file: nothing is allocated for it."""
    _, _, contents = saved
    path = mf.write(tmp_path / "claims.bptt", contents)
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("model.weights.npz")
    sizes = struct.pack("<III", info.CRC, info.compress_size, info.file_size)
    assert raw.count(sizes) == 2  # the local header and the central directory
    path.write_bytes(raw.replace(sizes, struct.pack("<III", info.CRC, 2**31, 2**31)))
    refused(path, "past the end of the file")


# -- what the file declares must match what it holds -------------------------------------------
@pytest.mark.parametrize("edit, match", [
    (lambda c: c["weights"][0].update(name="other/embeddings"), "differ from weight 0"),
    (lambda c: c["weights"].pop(), "declares"),
    (lambda c: c["weights"][1].update(shape=[4, 16]), "declared float32 of shape"),
    (lambda c: c["weights"][1].update(dtype="float64"), "declared float64"),
    (lambda c: c["weights"][1].update(dtype="int32"), "expected"),
    (lambda c: mf.find_layer(c, "LSTM").update(units=5), "larger than the arrays|differ"),
    (lambda c: mf.find_layer(c, "GRU").update(use_bias=False), "differ from weight"),
])
def test_declared_weights_are_checked_against_arrays_and_model(saved, tmp_path, edit, match):
    _, _, contents = saved
    refused(mf.write(tmp_path / "edited.bptt", mf.edit_config(contents, edit)), match)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float16", "complex64", "bool"])
def test_arrays_of_other_dtypes_are_refused_not_cast(saved, tmp_path, dtype):
    model, _, contents = saved
    arrays = mf.npz_arrays(contents["model.weights.npz"])
    arrays["0001"] = np.ones_like(arrays["0001"]).astype(dtype)
    crafted = {**contents, "model.weights.npz": mf.npz_bytes(arrays)}
    refused(mf.write(tmp_path / "ints.bptt", crafted), "dtype")


@pytest.mark.parametrize("dtype", ["bool", "object", "int32", "float16", "mixed_float16"])
def test_a_layer_dtype_other_than_float32_or_float64_is_refused(saved, tmp_path, dtype):
    _, _, contents = saved
    crafted = mf.edit_config(contents, lambda c: mf.find_layer(c, "Dropout").update(dtype=dtype))
    refused(mf.write(tmp_path / "dtype.bptt", crafted), "bptt's layers compute in")


def test_optimizer_state_of_the_wrong_shape_or_dtype_is_refused(saved, tmp_path):
    _, _, contents = saved
    state = mf.npz_arrays(contents["optimizer.npz"])
    bad_shape = {**state, "0/momentum": state["0/momentum"][:-1]}
    refused(mf.write(tmp_path / "a.bptt", {**contents, "optimizer.npz": mf.npz_bytes(bad_shape)}),
            "optimizer state")
    bad_iterations = {**state, "iterations": np.asarray(-1, dtype=np.int64)}
    refused(mf.write(tmp_path / "b.bptt",
                     {**contents, "optimizer.npz": mf.npz_bytes(bad_iterations)}), "iterations")
    float_iterations = {**state, "iterations": np.asarray(2.0)}
    refused(mf.write(tmp_path / "c.bptt",
                     {**contents, "optimizer.npz": mf.npz_bytes(float_iterations)}), "dtype")


# -- the manifest ---------------------------------------------------------------------------------
def test_entries_mixed_from_two_saves_are_refused(saved, tmp_path, rng):
    """Zip's CRCs hold (each entry is intact), but the weights come from another save."""
    model, _, contents = saved
    x, y = mf.data(rng)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "later.bptt")
    later = mf.entries(tmp_path / "later.bptt")
    mixed = {**contents, "model.weights.npz": later["model.weights.npz"]}
    refused(mf.write(tmp_path / "mixed.bptt", mixed, remanifest=False), "SHA-256")


def test_a_file_of_the_current_format_without_its_manifest_is_refused(saved, tmp_path):
    _, _, contents = saved
    contents = {k: v for k, v in contents.items() if k != "manifest.json"}
    refused(mf.write(tmp_path / "bare.bptt", contents), "manifest")


def test_an_entry_the_manifest_does_not_list_is_refused(saved, tmp_path):
    _, _, contents = saved
    manifest = json.loads(contents["manifest.json"])
    del manifest["entries"]["optimizer.npz"]
    crafted = {**contents, "manifest.json": json.dumps(manifest).encode()}
    refused(mf.write(tmp_path / "unlisted.bptt", crafted, remanifest=False), "manifest lists")


# -- files of format version 1 (no manifest) still load ---------------------------------------
def test_a_version_1_model_file_still_loads():
    """tests/data/bptt_model_v1.bptt was written by bptt before the manifest existed; its
    predictions were recorded then."""
    expected = np.load(f"{DATA}/bptt_model_v1_expected.npz")
    with zipfile.ZipFile(f"{DATA}/bptt_model_v1.bptt") as archive:
        assert json.loads(archive.read("config.json"))["format_version"] == 1
        assert "manifest.json" not in archive.namelist()
    model = models.load_model(f"{DATA}/bptt_model_v1.bptt")
    stored = mf.npz_arrays(mf.entries(f"{DATA}/bptt_model_v1.bptt")["model.weights.npz"])
    for index, weight in enumerate(model.weights):
        np.testing.assert_array_equal(weight, stored[f"{index:04d}"])
    # recorded with the fused kernels; the reference kernels may differ in the last bit
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["predictions"],
                               rtol=1e-6)
    assert model.optimizer.iterations == int(expected["iterations"])


def test_a_version_1_weights_file_still_loads():
    expected = np.load(f"{DATA}/bptt_model_v1_expected.npz")
    model = models.load_model(f"{DATA}/bptt_model_v1.bptt", compile=False)
    for weight in model.weights:
        weight[...] = 0
    model.load_weights(f"{DATA}/bptt_weights_v1.weights.npz")
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["predictions"],
                               rtol=1e-6)


# -- all sorts of broken files: one error type, a message that says what -----------------------
def _broken_files(contents):
    config = json.loads(contents["config.json"])
    yield "empty", b""
    yield "not a zip", b"PK\x03\x04 but nothing else"
    yield "text", b"hello"
    yield "no config", {k: v for k, v in contents.items() if k != "config.json"}
    yield "no weights", {k: v for k, v in contents.items() if k != "model.weights.npz"}
    yield "extra entry", {**contents, "evil.pkl": b"\x80\x04."}
    yield "config not JSON", {**contents, "config.json": b"{not json"}
    yield "config not UTF-8", {**contents, "config.json": b"\xff\xfe{}"}
    yield "deep JSON", {**contents, "config.json": b"[" * 100000 + b"]" * 100000}
    yield "config a list", {**contents, "config.json": b"[1, 2]"}
    yield "other format", {**contents, "config.json": json.dumps(
        {**config, "format": "x"}).encode()}
    yield "future version", {**contents, "config.json": json.dumps(
        {**config, "format_version": 99}).encode()}
    yield "unknown class", {**contents, "config.json": json.dumps(
        {**config, "class_name": "Pickle"}).encode()}
    yield "unknown layer", {**contents, "config.json": json.dumps(
        {**config, "config": {**config["config"], "layers": [{"class_name": "Lambda",
                                                             "config": {}}]}}).encode()}
    yield "weights not npz", {**contents, "model.weights.npz": b"garbage"}
    yield "random_state garbage", {**contents, "config.json": json.dumps(
        {**config, "random_state": {"global": {"bit_generator": "MT19937"}}}).encode()}
    yield "random_state of a layer not there", {**contents, "config.json": json.dumps(
        {**config, "random_state": {"layers": {"_layers[9]": config["random_state"]["global"]},
                                    "global": None}}).encode()}


def test_broken_files_raise_model_file_error(saved, tmp_path):
    _, _, contents = saved
    for index, (name, broken) in enumerate(_broken_files(contents)):
        path = tmp_path / f"broken{index}.bptt"
        if isinstance(broken, bytes):
            path.write_bytes(broken)
        else:
            mf.write(path, broken)
        with pytest.raises(ModelFileError) as error:
            models.load_model(path)
        assert repr(str(path)) in str(error.value), name
    for missing in (tmp_path / "absent.bptt", tmp_path):
        with pytest.raises(ModelFileError, match="cannot be opened"):
            models.load_model(missing)


def test_broken_weights_files_raise_model_file_error(saved, tmp_path):
    model, _, _ = saved
    path = tmp_path / "w.weights.npz"
    model.save_weights(path)
    good = mf.entries(path)
    arrays = {k[:-4]: np.load(io.BytesIO(v)) for k, v in good.items() if k.endswith(".npy")}
    before = model.get_weights()
    cases = {
        "not a zip": b"nope",
        "ints": {**good, "0000.npy": _npy(arrays["0000"].astype(np.int32))},
        "digest": {**good, "0001.npy": _npy(arrays["0001"] + 1)},
        "gap": {k: v for k, v in good.items() if k != "0001.npy"},
        "object names": {**good, "names.npy": _npy(np.array(["a"], dtype=object))},
    }
    for name, broken in cases.items():
        target = tmp_path / f"{name}.weights.npz"
        if isinstance(broken, bytes):
            target.write_bytes(broken)
        else:
            mf.write(target, broken, remanifest=name != "digest")
        with pytest.raises(ModelFileError):
            model.load_weights(target)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
