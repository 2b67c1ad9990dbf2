"""What a layer called at several nodes of one graph needs.

A layer keeps one cache, so what its forward set at each node is set aside (state_of before and
after, changed) and put back before that node's backward (restore); its weight gradients are
summed over its nodes (accumulate), a model used as a layer contributing its own layers'
(leaf_layers).
"""
import numpy as np

from bptt.layers import Layer
from bptt.models.training import Trainer


def layers_inside(value):
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, Layer)]
    return []


def state_of(layer, seen=None):
    """Shallow copies of the attributes of `layer` and every layer inside it."""
    seen = set() if seen is None else seen
    seen.add(id(layer))
    states = [(layer, dict(vars(layer)))]
    for value in list(vars(layer).values()):
        for inner in layers_inside(value):
            if id(inner) not in seen:
                states.extend(state_of(inner, seen))
    return states


def changed(before, after):
    """What a forward pass set: per object, the attributes it rebound."""
    old = {id(obj): attrs for obj, attrs in before}
    missing = object()
    return [(obj, {key: value for key, value in attrs.items()
                   if old.get(id(obj), {}).get(key, missing) is not value})
            for obj, attrs in after]


def restore(saved):
    for obj, attrs in saved:
        vars(obj).update(attrs)


def leaf_layers(layer):
    """The layers that hold gradients: a model's own layers (recursively), else the layer."""
    if isinstance(layer, Trainer):
        return [leaf for inner in layer._unique_layers() for leaf in leaf_layers(inner)]
    return [layer] if layer.params else []


def accumulate(total, layer):
    """Adds what one backward of `layer` left to `total` (copies: the fused Embedding reuses its
    buffers). An Embedding's per-lookup parts (optimizers.RowGradient) add up as TensorFlow's
    slices of two lookups would: squares summed, rows joined, lookups concatenated."""
    def add(attribute, key, value, combine):
        entries = total.setdefault(attribute, {})
        entries[key] = np.array(value, copy=True) if key not in entries \
            else combine(entries[key], value)

    for key, grad in layer.grads.items():
        add("grads", key, grad, np.add)
    for key, squares in getattr(layer, "grad_squares", {}).items():
        add("grad_squares", key, squares, np.add)
    for key, rows in getattr(layer, "grad_rows", {}).items():
        if rows is not None:
            add("grad_rows", key, rows, np.logical_or)
    for key, lookups in getattr(layer, "grad_lookups", {}).items():
        if lookups is not None:
            entries = total.setdefault("grad_lookups", {})
            ids, dy = (np.array(part, copy=True) for part in lookups)
            entries[key] = (ids, dy) if key not in entries else (
                np.concatenate([entries[key][0], ids]), np.concatenate([entries[key][1], dy]))
