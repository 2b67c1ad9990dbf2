"""The gates' values of an LSTM or GRU layer, step by step."""
import numpy as np

from bptt import backend

GATE_NAMES = {"lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}


def gate_activations(model, x, layer=None):
    """The gate values of an LSTM or GRU layer on inputs x, step by step.

    `layer` is a name, an index into model.layers, or None for the first LSTM/GRU. Returns
    {gate: (B, T, H)}, steps in the order the layer reads them (reversed for go_backwards, like
    its output sequence). Computed with the reference kernels, whose cache keeps the
    gates after their activations.
    """
    layers = model.layers
    if layer is None:
        index = next((i for i, l in enumerate(layers) if getattr(l, "cell", None) in GATE_NAMES),
                     None)
        if index is None:
            raise ValueError("The model has no LSTM or GRU layer to trace.")
    elif isinstance(layer, int):
        index = layer
    else:
        index = [l.name for l in layers].index(layer)
    target = layers[index]
    if getattr(target, "cell", None) not in GATE_NAMES:
        raise ValueError(f"Layer '{target.name}' ({type(target).__name__}) has no gates: "
                         "pass an LSTM or GRU layer.")
    x = np.asarray(x)
    model._ensure_built(x)
    for before in layers[:index]:
        x = before.forward(x, training=False)
    previous = backend.get_kernels()
    backend.set_kernels("reference")
    try:
        target.forward(x, training=False)
    finally:
        backend.set_kernels(previous)
    gates = target.cache[-1].gates  # (T, B, G*H), in the order the layer reads the steps
    units = target.units
    return {name: np.ascontiguousarray(gates[:, :, g * units:(g + 1) * units].transpose(1, 0, 2))
            for g, name in enumerate(GATE_NAMES[target.cell])}
