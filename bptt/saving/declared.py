"""What a model file declares, checked before anything is built from it.

config.json says which weights the model has ("weights": name, shape, dtype of each, in
get_weights order) and model.weights.npz holds them; the two must agree entry by entry before
the model is built, and the built model must then have exactly those weights. The layers' float
types must be ones bptt computes in (float32, float64): a file is not trusted to choose another;
and a config may describe at most MAX_OBJECTS layers and other objects.
"""
import numpy as np

from bptt.saving.errors import ModelFileError

FORMAT = "bptt.model"
FORMAT_VERSION = 2  # 2: with manifest.json and random_state; 1: without
FLOAT_NAMES = ("float32", "float64")
MODEL_CLASSES = ("Sequential", "Functional")
MAX_OBJECTS = 50_000  # layers, initializers, ... in one model config (large models: hundreds)


def check_header(config, has_manifest, what):
    """config.json's own fields: format, version, model class, the weight list."""
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{what} is not a bptt model file (its config.json has no "
                             f"'format': {FORMAT!r}).")
    version = config.get("format_version")
    if version not in range(1, FORMAT_VERSION + 1) or isinstance(version, bool):
        raise ModelFileError(f"{what}: format_version {version!r} is not one this bptt reads "
                             f"(1 to {FORMAT_VERSION}); a newer bptt may have written it.")
    if version >= 2 and not has_manifest:
        raise ModelFileError(f"{what}: format_version {version} files carry manifest.json, "
                             "and this one has none; the file is damaged.")
    if config.get("class_name") not in MODEL_CLASSES:
        raise ModelFileError(f"{what}: unknown model class {config.get('class_name')!r}; a bptt "
                             f"model file holds one of {list(MODEL_CLASSES)}.")
    if not isinstance(config.get("config"), dict):
        raise ModelFileError(f"{what}: config.json has no model config.")
    weights = config.get("weights")
    if not isinstance(weights, list):
        raise ModelFileError(f"{what}: config.json has no list of weights.")
    for index, entry in enumerate(weights):
        ok = (isinstance(entry, dict) and set(entry) == {"name", "shape", "dtype"}
              and isinstance(entry["name"], str) and entry["dtype"] in FLOAT_NAMES
              and isinstance(entry["shape"], list)
              and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                      for n in entry["shape"]))
        if not ok:
            raise ModelFileError(f"{what}: weight {index} of config.json is {entry!r}; expected "
                                 "{'name': str, 'shape': [int >= 0, ...], 'dtype': 'float32' or "
                                 "'float64'}.")
    check_objects(config["config"], what)


def check_arrays(declared, arrays, what):
    """model.weights.npz holds exactly the declared weights: keys 0000, 0001, ..., each with its
    declared shape and dtype."""
    keys = [f"{i:04d}" for i in range(len(declared))]
    if sorted(arrays) != sorted(keys):
        raise ModelFileError(f"{what}: config.json declares {len(declared)} weights, "
                             f"model.weights.npz holds arrays {sorted(arrays)[:8]}"
                             f"{'...' if len(arrays) > 8 else ''}; they do not match.")
    for key, entry in zip(keys, declared):
        array = arrays[key]
        if list(array.shape) != entry["shape"] or array.dtype != np.dtype(entry["dtype"]):
            raise ModelFileError(
                f"{what}: weight {entry['name']!r} is declared {entry['dtype']} of shape "
                f"{tuple(entry['shape'])}, its array is {array.dtype} of shape {array.shape}.")
    return [arrays[key] for key in keys]


def check_built(model, declared, what):
    """The model built from the config has the declared weights, names, shapes and dtypes."""
    built = [{"name": name, "shape": list(w.shape), "dtype": str(w.dtype)}
             for name, w in zip(model.weight_names(), model.weights)]
    if built != declared:
        first = next((i for i, (a, b) in enumerate(zip(built, declared)) if a != b),
                     min(len(built), len(declared)))
        raise ModelFileError(
            f"{what}: the model its config describes has {len(built)} weights, config.json "
            f"lists {len(declared)}; they differ from weight {first} on (built: "
            f"{built[first] if first < len(built) else None}, listed: "
            f"{declared[first] if first < len(declared) else None}).")


def check_objects(config, what):
    """The model config describes at most MAX_OBJECTS objects (building each costs time and
    memory the file's size does not bound), and every layer's dtype is float32 or float64
    (or unset); an InputLayer may take any numeric dtype (ids are integers) or 'string'."""
    stack, objects = [(config, None)], 0
    while stack:
        node, owner = stack.pop()
        if isinstance(node, dict):
            if "config" in node and "class_name" in node:
                owner = node["class_name"]
                objects += 1
                if objects > MAX_OBJECTS:
                    raise ModelFileError(f"{what}: its model config describes more than "
                                         f"{MAX_OBJECTS:,} layers and other objects.")
            if "dtype" in node and not _dtype_ok(node["dtype"], owner):
                raise ModelFileError(f"{what}: a layer of class {owner} has dtype "
                                     f"{node['dtype']!r}; bptt's layers compute in "
                                     f"{' or '.join(FLOAT_NAMES)}.")
            stack.extend((value, owner) for key, value in node.items() if key != "dtype")
        elif isinstance(node, list):
            stack.extend((value, owner) for value in node)


def _dtype_ok(dtype, owner):
    if dtype is None or dtype in FLOAT_NAMES:
        return True
    if owner != "InputLayer" or not isinstance(dtype, str):
        return False
    if dtype == "string":  # Keras' name for text inputs (a TextVectorization behind them)
        return True
    try:
        return np.dtype(dtype).kind in "biuf"
    except TypeError:
        return False
