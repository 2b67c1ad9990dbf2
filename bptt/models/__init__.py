"""Models with Keras' API: `Sequential` (a stack of layers) and the functional `Model`
(a graph of layer calls from Inputs to outputs), trained by one loop (training.py).

    from bptt import layers, models
    model = models.Sequential([layers.Embedding(20000, 128), layers.LSTM(64),
                               layers.Dense(1, activation="sigmoid")])
"""
from bptt.models.functional import Functional, Model
from bptt.models.sequential import Sequential


def load_model(filepath, compile=True, custom_objects=None, safe_mode=True):
    """Load a model written by `model.save(path)`: architecture, weights, compile settings,
    optimizer state and the seeded layers' random generators. With compile=True (and a file
    saved compiled) it also restores the global random generator to its state at saving, so
    that fit continues the saved run exactly. A file that cannot be read raises
    bptt.ModelFileError (a ValueError); see bptt.saving for what is checked."""
    from bptt import saving

    return saving.load_model(filepath, compile=compile)


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Keras' models.save_model(model, path): the same as model.save(path)."""
    model.save(filepath)


def model_from_json(json_string, custom_objects=None):
    """A model (new weights) from model.to_json()."""
    import json

    from bptt.models.functional import Functional

    spec = json.loads(json_string)
    kinds = {"Sequential": Sequential, "Functional": Functional, "Model": Functional}
    if spec.get("class_name") not in kinds:
        raise ValueError(f"model_from_json expects the JSON of model.to_json(), with class_name "
                         f"one of {sorted(kinds)}; got {spec.get('class_name')!r}.")
    return kinds[spec["class_name"]].from_config(spec["config"])


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialized weights (as Keras)."""
    if input_tensors is not None or clone_function is not None:
        raise NotImplementedError("clone_model's input_tensors and clone_function are not "
                                  "supported by bptt; call clone_model(model) and set weights.")
    config = model.get_config()
    return type(model).from_config(config)


__all__ = ["Model", "Sequential", "Functional", "load_model", "save_model", "model_from_json",
           "clone_model"]
