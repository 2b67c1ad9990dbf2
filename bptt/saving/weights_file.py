"""model.save_weights(path) and model.load_weights(path): the weights alone, as a .npz.

    0000.npy, 0001.npy, ...   the weights in get_weights() order
    names.npy                 their names ('lstm/kernel', ...), for people reading the file
    manifest.json             the SHA-256 digest of every other member (files before it lack it)

It stays a .npz that `np.load(path)` opens. Loading matches arrays to the model's weights by
order and shape, as two models of the same architecture name their layers differently; arrays
must be float32 or float64 (a float64 array loads into a float32 weight rounded, as Keras
assigns it), and are read within the limits of bptt.saving.archive.
"""
import io
import os
import zipfile

import numpy as np

from bptt.saving import archive, files, manifest
from bptt.saving.errors import ModelFileError


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def save_weights(model, filepath):
    if not model.built:
        raise ValueError("The model is not built yet, so it has no weights to save.")
    members = {f"{i:04d}.npy": npy_bytes(w) for i, w in enumerate(model.weights)}
    members["names.npy"] = npy_bytes(np.array(model.weight_names(), dtype=str))
    members[manifest.NAME] = manifest.make(members)

    def write(handle):
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as out:
            for name, data in members.items():
                out.writestr(name, data)

    files.write_atomically(filepath, write)


def read_weights_file(filepath):
    """The weight arrays of a weights file, in order, every member checked."""
    what = repr(os.fspath(filepath))
    with archive.Archive(os.fspath(filepath), what, "bptt weights file") as zipped:
        names = zipped.names()
        listed = None
        if manifest.NAME in names:
            listed = zipped.read_json(manifest.NAME)
            manifest.check_names(listed, names, what)
        keys = sorted(name[:-4] for name in names if name.endswith(".npy") and name != "names.npy")
        expected = [f"{i:04d}" for i in range(len(keys))]
        extra = sorted(set(names) - {f"{k}.npy" for k in expected} - {"names.npy", manifest.NAME})
        if keys != expected or extra:
            raise ModelFileError(f"{what} is not a bptt weights file: it holds {sorted(names)[:8]}"
                                 f"{'...' if len(names) > 8 else ''}, expected 0000.npy, "
                                 "0001.npy, ... and names.npy (written by model.save_weights).")
        arrays = []
        for name in [f"{k}.npy" for k in expected] + (["names.npy"] if "names.npy" in names
                                                      else []):
            data = zipped.read(name)
            if listed is not None:
                manifest.verify(listed, name, data, what)
            array = archive.read_npy(data, f"{what}: {name}",
                                     "text" if name == "names.npy" else archive.FLOATS)
            if name != "names.npy":
                arrays.append(array)
    return arrays


def load_weights(model, filepath):
    """Set the model's weights from the file, after checking every array; on any error the
    model is left as it was."""
    what = repr(os.fspath(filepath))
    arrays = read_weights_file(filepath)
    shapes = [w.shape for w in model.weights]
    if len(arrays) != len(shapes):
        raise ModelFileError(f"{what} holds {len(arrays)} weight arrays, model "
                             f"'{model.name}' has {len(shapes)} (shapes {shapes}); was it saved "
                             "from a model of another architecture?")
    for index, (array, shape) in enumerate(zip(arrays, shapes)):
        if array.shape != shape:
            raise ModelFileError(f"{what}: weight array {index} has shape {array.shape}, weight "
                                 f"{index} of model '{model.name}' "
                                 f"({model.weight_names()[index]}) has shape {shape}.")
    model.set_weights(arrays)
