"""The model file: a zip archive of JSON and NumPy arrays. Never a pickle, in or out.

    config.json          {"format": "bptt.model", "format_version": 1, "bptt_version": ...,
                          "class_name": "Sequential", "config": <model.get_config()>,
                          "compile_config": {"optimizer": {...}, "loss": {...},
                                             "metrics": [...]} or null,
                          "weights": [{"name": "lstm/kernel", "shape": [...], "dtype": ...}]}
    model.weights.npz    one array per weight, keys "0000", "0001", ... in get_weights() order
    optimizer.npz        the optimizer's state (iterations, slots), when compiled and trained

`save_weights` writes just a .npz of the weights (same keys) beside a JSON list of their names.
Every array is read with allow_pickle=False.
"""
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from bptt import __version__, losses, optimizers

FORMAT = "bptt.model"
FORMAT_VERSION = 1


def _weight_manifest(model):
    return [
        {"name": name, "shape": list(value.shape), "dtype": str(value.dtype)}
        for name, value in zip(model.weight_names(), model.weights)
    ]


def _npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _load_npz(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _atomic_write(filepath, write):
    directory = os.path.dirname(os.path.abspath(filepath)) or "."
    os.makedirs(directory, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _compile_config(model):
    if not model.compiled:
        return None
    return {
        "optimizer": {"class_name": type(model.optimizer).__name__,
                      "config": model.optimizer.get_config()},
        "loss": _structure(model._compile_args["loss"], _loss_config),
        "loss_weights": model._compile_args["loss_weights"],
        "metrics": _structure(model._compile_args["metrics"], _metric_name),
        "weighted_metrics": _structure(model._compile_args["weighted_metrics"], _metric_name),
    }


def _structure(spec, leaf):
    """compile's argument (one item, a list or a dict, nested once) with each item as JSON."""
    if isinstance(spec, dict):
        return {key: _structure(value, leaf) for key, value in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_structure(value, leaf) for value in spec]
    return None if spec is None else leaf(spec)


def _loss_config(loss):
    loss = losses.get(loss)
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def _metric_name(metric):
    return metric if isinstance(metric, str) else getattr(metric, "name", None) or \
        getattr(metric, "__name__")


def _compile_from(config, leaf):
    if isinstance(config, dict) and "class_name" not in config:
        return {key: _compile_from(value, leaf) for key, value in config.items()}
    if isinstance(config, list):
        return [_compile_from(value, leaf) for value in config]
    return None if config is None else leaf(config)


def save_model(model, filepath):
    filepath = os.fspath(filepath)
    if not model.built:
        raise ValueError("The model is not built yet: fit it, call it on data, or start it with "
                         "layers.Input(shape=...) before saving.")
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "bptt_version": __version__,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile_config": _compile_config(model),
        "weights": _weight_manifest(model),
    }
    weights = {f"{i:04d}": w for i, w in enumerate(model.get_weights())}
    optimizer_state = None
    if model.compiled and model.optimizer.iterations > 0:
        optimizer_state = model.optimizer.get_state(model.weights)

    def write(path):
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr("config.json", json.dumps(config, indent=2))
            archive.writestr("model.weights.npz", _npz_bytes(weights))
            if optimizer_state is not None:
                archive.writestr("optimizer.npz", _npz_bytes(optimizer_state))

    _atomic_write(filepath, write)


def _read_archive(filepath):
    if not zipfile.is_zipfile(filepath):
        raise ValueError(f"{filepath!r} is not a bptt model file (expected a zip archive written "
                         "by model.save).")
    with zipfile.ZipFile(filepath) as archive:
        names = set(archive.namelist())
        if "config.json" not in names or "model.weights.npz" not in names:
            raise ValueError(f"{filepath!r} is not a bptt model file: it lacks config.json or "
                             "model.weights.npz.")
        config = json.loads(archive.read("config.json"))
        weights = _load_npz(archive.read("model.weights.npz"))
        optimizer_state = (_load_npz(archive.read("optimizer.npz"))
                           if "optimizer.npz" in names else None)
    if config.get("format") != FORMAT or config.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{filepath!r}: unknown format {config.get('format')!r} "
                         f"version {config.get('format_version')!r}.")
    return config, weights, optimizer_state


def load_model(filepath, compile=True):
    from bptt.models import Functional, Sequential

    config, weights, optimizer_state = _read_archive(os.fspath(filepath))
    kinds = {"Sequential": Sequential, "Functional": Functional}
    if config["class_name"] not in kinds:
        raise ValueError(f"Unknown model class {config['class_name']!r}: a bptt model file holds "
                         f"one of {sorted(kinds)}.")
    model = kinds[config["class_name"]].from_config(config["config"])
    model.set_weights([weights[f"{i:04d}"] for i in range(len(weights))])
    compile_config = config.get("compile_config")
    if compile and compile_config:
        model.compile(optimizer=optimizers.get(compile_config["optimizer"]),
                      loss=_compile_from(compile_config["loss"], losses.get),
                      loss_weights=compile_config.get("loss_weights"),
                      metrics=compile_config["metrics"],
                      weighted_metrics=compile_config.get("weighted_metrics"))
        if optimizer_state is not None:
            model.optimizer.set_state(model.weights, optimizer_state)
    return model


def save_weights(model, filepath):
    if not model.built:
        raise ValueError("The model is not built yet, so it has no weights to save.")
    arrays = {f"{i:04d}": w for i, w in enumerate(model.get_weights())}
    names = np.array([w["name"] for w in _weight_manifest(model)])
    arrays["names"] = names

    def write(path):
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    _atomic_write(os.fspath(filepath), write)


def load_weights(model, filepath):
    with np.load(os.fspath(filepath), allow_pickle=False) as npz:
        keys = sorted(k for k in npz.files if k != "names")
        weights = [npz[k] for k in keys]
    model.set_weights(weights)
