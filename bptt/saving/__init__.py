"""Model files: `model.save(path)` / `load_model(path)` and `save_weights` / `load_weights`.

A model file is a zip archive of JSON and NumPy arrays, never a pickle:

    config.json          {"format": "bptt.model", "format_version": 2, "bptt_version": ...,
                          "class_name": "Sequential", "config": <model.get_config()>,
                          "compile_config": {"optimizer": {...}, "loss": {...},
                                             "metrics": [...]} or null,
                          "weights": [{"name": "lstm/kernel", "shape": [...], "dtype": ...}],
                          "random_state": {"global": <state>, "layers": {<path>: <state>}}}
    model.weights.npz    one array per weight, keys "0000", "0001", ... in get_weights() order
    optimizer.npz        the optimizer's state (iterations, slots), when compiled and trained
    manifest.json        the SHA-256 digest of each entry above (manifest.py)

Saving writes the file whole or not at all (files.py): a temporary file beside the target,
synced to disk, then renamed over it; created as open() creates files (0666 less the umask).
An optimizer setting a file cannot hold (a learning rate that is a Python callable) raises a
ValueError before anything is written.

Loading trusts nothing in the file. Entries must lie within the file and are inflated only up
to checked sizes (64 times their compressed bytes, 16 MB for JSON), and arrays are read only in
float32 / float64 with shapes their bytes back (archive.py); the manifest's digests are checked
when there is one (files of format_version 1 have none, and still load); the declared weights
must match the arrays, the layers' dtypes be float32 / float64, and the config describe at most
50,000 layers and other objects (declared.py), before the model is built; it is built without initializing its weights
(initializers.skip_initialization), within the memory of the arrays it will receive, and must
then have exactly the declared weights. Whatever is wrong, load_model and load_weights raise
`ModelFileError` (a ValueError) saying what, and leave no model half-set.

Random state (random_state.py): the file keeps the state of each seeded layer's generator and of
the global generator (bptt.backend.global_rng(), from which fit shuffles and unseeded dropout
draws). load_model restores the layers' generators, and, when it compiles the model
(compile=True and the file has compile settings), the global generator too: this changes the
random draws of the whole process from then on, so that fit on the loaded model continues the
saved run bit for bit (fit(2 epochs) == fit(1), save, load, fit(1), with shuffle and dropout).
"""
from bptt.saving.errors import ModelFileError
from bptt.saving.model_file import load_model, save_model
from bptt.saving.weights_file import load_weights, save_weights

__all__ = ["ModelFileError", "save_model", "load_model", "save_weights", "load_weights"]
