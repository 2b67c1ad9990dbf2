"""model.save(path) and load_model(path): the model file, written whole and read with care."""
import io
import json
import os
import zipfile

import numpy as np

from bptt import __version__, initializers, losses, optimizers
from bptt.initializers.skipping import WeightBudgetExceeded
from bptt.saving import archive, declared, files, manifest, random_state
from bptt.saving.compile_config import compile_config, compile_from
from bptt.saving.errors import ModelFileError

ENTRIES = ("config.json", "model.weights.npz", "optimizer.npz", manifest.NAME)


def npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def save_model(model, filepath):
    if not model.built:
        raise ValueError("The model is not built yet: fit it, call it on data, or start it with "
                         "layers.Input(shape=...) before saving.")
    # Everything is put together in memory first: an error (an optimizer setting that cannot
    # be saved, say) is raised before the file is touched.
    config = {
        "format": declared.FORMAT,
        "format_version": declared.FORMAT_VERSION,
        "bptt_version": __version__,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile_config": compile_config(model),
        "weights": [{"name": name, "shape": list(w.shape), "dtype": str(w.dtype)}
                    for name, w in zip(model.weight_names(), model.weights)],
        "random_state": random_state.collect(model),
    }
    entries = {
        "config.json": json.dumps(config, indent=2).encode(),
        "model.weights.npz": npz_bytes({f"{i:04d}": w for i, w in enumerate(model.weights)}),
    }
    if model.compiled and model.optimizer.iterations > 0:
        entries["optimizer.npz"] = npz_bytes(model.optimizer.get_state(model.weights))
    entries[manifest.NAME] = manifest.make(entries)
    files.write_atomically(filepath, lambda handle: write_zip(handle, entries))


def write_zip(handle, entries):
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as out:
        for name, data in entries.items():
            out.writestr(name, data)


def load_model(filepath, compile=True):
    """The model saved at `filepath`. See bptt.saving for what is checked and restored."""
    from bptt.models import Functional, Sequential

    what = repr(os.fspath(filepath))
    config, weights, optimizer_state = read_model_file(filepath, what)
    kind = {"Sequential": Sequential, "Functional": Functional}[config["class_name"]]
    budget = sum(w.nbytes for w in weights)
    try:
        with initializers.skip_initialization(budget_bytes=budget):
            model = kind.from_config(config["config"])
    except WeightBudgetExceeded as error:
        raise ModelFileError(f"{what}: its config describes weights larger than the arrays it "
                             f"holds ({error}).") from None
    except Exception as error:  # any layer's check of its arguments, or a broken graph
        raise ModelFileError(f"{what}: its model config cannot be built "
                             f"({type(error).__name__}: {error}).") from error
    declared.check_built(model, config["weights"], what)
    model.set_weights(weights)
    generators, global_state = random_state.check(config.get("random_state"), model, what)
    compile_settings = config.get("compile_config")
    if compile and compile_settings:
        try:
            model.compile(optimizer=optimizers.get(compile_settings["optimizer"]),
                          loss=compile_from(compile_settings["loss"], losses.get),
                          loss_weights=compile_settings.get("loss_weights"),
                          metrics=compile_settings["metrics"],
                          weighted_metrics=compile_settings.get("weighted_metrics"))
            if optimizer_state is not None:
                model.optimizer.set_state(model.weights, optimizer_state)
        except Exception as error:
            raise ModelFileError(f"{what}: its compile settings or optimizer state cannot be "
                                 f"restored ({type(error).__name__}: {error}).") from error
    random_state.restore(generators, global_state if compile and compile_settings else None)
    return model


def read_model_file(filepath, what):
    """(config, weight arrays in order, optimizer state or None), every part checked."""
    with archive.Archive(os.fspath(filepath), what, "bptt model file") as zipped:
        names = zipped.names()
        unknown = sorted(set(names) - set(ENTRIES))
        if unknown or "config.json" not in names or "model.weights.npz" not in names:
            raise ModelFileError(
                f"{what} is not a bptt model file: it holds {sorted(names)[:8]}"
                f"{'...' if len(names) > 8 else ''}, expected "
                f"config.json, model.weights.npz and optionally optimizer.npz, {manifest.NAME}.")
        listed = None
        if manifest.NAME in names:
            listed = zipped.read_json(manifest.NAME)
            manifest.check_names(listed, names, what)

        def read(name, limit=None):
            data = zipped.read(name, limit)
            if listed is not None:
                manifest.verify(listed, name, data, what)
            return data

        config = archive.parse_json(read("config.json", archive.JSON_LIMIT),
                                    f"{what}: config.json")
        declared.check_header(config, listed is not None, what)
        weights = declared.check_arrays(
            config["weights"], archive.read_npz(read("model.weights.npz"),
                                                f"{what}: model.weights.npz"), what)
        optimizer_state = None
        if "optimizer.npz" in names:
            optimizer_state = archive.read_npz(read("optimizer.npz"), f"{what}: optimizer.npz",
                                               {"iterations": (np.dtype("int64"),)})
            iterations = optimizer_state.get("iterations")
            if iterations is None or iterations.shape != () or int(iterations) < 0:
                raise ModelFileError(f"{what}: optimizer.npz has no valid 'iterations' "
                                     "(a count >= 0).")
    return config, weights, optimizer_state
