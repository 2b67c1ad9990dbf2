"""The random generators a model's training draws from, as JSON, and back.

fit draws its shuffle order, and the layers without a seed their dropout masks, from the global
generator (bptt.backend.global_rng()); a layer given a `seed` draws from its own. A model file
keeps the state of each layer's own generator, named by the attributes that lead to the layer
('_layers[2]/forward_layer'), and the global generator's; load_model puts them back, so
that training on from a file draws what training on in memory would have drawn.

A state is numpy's PCG64 state dict, {'bit_generator': 'PCG64', 'state': {'state': int,
'inc': int}, 'has_uint32': 0|1, 'uinteger': int}, checked field by field before use.
"""
import numpy as np

from bptt import backend
from bptt.saving.errors import ModelFileError


def _layers_within(model):
    """(path, layer) for the model's layers and the layers inside them, in a fixed order."""
    from bptt.layers import Layer

    found, visited = [], {id(model)}

    def walk(layer, path):
        for key in sorted(vars(layer)):
            value = vars(layer)[key]
            many = isinstance(value, (list, tuple))
            for index, item in enumerate(value if many else [value]):
                if isinstance(item, Layer) and id(item) not in visited:
                    visited.add(id(item))
                    item_path = f"{path}{key}[{index}]" if many else f"{path}{key}"
                    found.append((item_path, item))
                    walk(item, item_path + "/")

    walk(model, "")
    return found


def _own_generators(model):
    """{path: generator} of each layer with a generator of its own (a seed)."""
    return {path: layer.__dict__["_rng"] for path, layer in _layers_within(model)
            if isinstance(layer.__dict__.get("_rng"), np.random.Generator)}


def _state(generator):
    state = generator.bit_generator.state
    return state if state.get("bit_generator") == "PCG64" else None


def collect(model):
    """{'global': state, 'layers': {path: state}} for the file."""
    layers, seen = {}, set()
    for path, generator in _own_generators(model).items():
        if id(generator) not in seen and _state(generator) is not None:
            seen.add(id(generator))  # a generator shared by a wrapper and its layer: once
            layers[path] = _state(generator)
    return {"global": _state(backend.global_rng()), "layers": layers}


def _is_int(value, below):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < below


def checked(state, what):
    """`state` if it is a valid PCG64 state, else ModelFileError."""
    ok = (isinstance(state, dict)
          and set(state) == {"bit_generator", "state", "has_uint32", "uinteger"}
          and state["bit_generator"] == "PCG64"
          and isinstance(state["state"], dict) and set(state["state"]) == {"state", "inc"}
          and all(_is_int(v, 2**128) for v in state["state"].values())
          and state["has_uint32"] in (0, 1) and _is_int(state["uinteger"], 2**32))
    if not ok:
        raise ModelFileError(f"{what}: not a random generator state (numpy's PCG64 state).")
    return state


def check(random_state, model, what):
    """The file's generator states, checked against the model built from it: [(generator,
    state)] for the layers, and the global state (or None)."""
    if random_state is None:
        return [], None
    if not isinstance(random_state, dict) or set(random_state) - {"global", "layers"} or \
            not isinstance(random_state.get("layers", {}), dict):
        raise ModelFileError(f"{what}: 'random_state' is not {{'global': ..., 'layers': ...}}.")
    generators = _own_generators(model)
    pairs = []
    for path, state in random_state.get("layers", {}).items():
        if path not in generators:
            raise ModelFileError(f"{what}: random_state names a layer {path!r} with a seed, "
                                 "which the model built from the file does not have.")
        pairs.append((generators[path], checked(state, f"{what}: random_state of {path!r}")))
    state = random_state.get("global")
    return pairs, None if state is None else checked(state, f"{what}: the global random state")


def restore(pairs, global_state):
    for generator, state in pairs:
        generator.bit_generator.state = state
    if global_state is not None:
        backend.global_rng().bit_generator.state = global_state
