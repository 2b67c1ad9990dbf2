"""The gates' values and the states of a recurrent layer, step by step."""
import numpy as np

from bptt import backend
from bptt.layers.wrappers import Bidirectional

GATE_NAMES = {"lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}
STATE_NAMES = {"simple_rnn": ("h_t",), "lstm": ("h_t", "c_t"), "gru": ("h_t",)}


def gate_activations(model, x, layer=None):
    """The gate values and states of a recurrent layer on inputs x, step by step.

    `layer` is a name, an index into model.layers, or None for the first LSTM/GRU (a SimpleRNN,
    which has no gate, must be named); one direction of a Bidirectional layer is named as
    diagnostics.gradient_flow labels it, '<wrapper name>/forward' or '<wrapper name>/backward'.
    Returns {name: (B, T, H)}:

        LSTM  i, f, c, o   the gates after their activations (c is the candidate act(.), not
                           the cell state), h_t the hidden state, c_t the cell state
        GRU   z, r, h      the gates (h is the candidate), h_t the hidden state
        SimpleRNN          h_t only

    Steps in the order the layer reads them (reversed for go_backwards, like its output
    sequence). h_t and c_t are the states the forward pass computed: without a mask h_t is the
    return_sequences output. The layers before it run with the masks they produce; at a masked
    step the states are held (Keras), while the output sequence repeats the last output (zeros
    before a row's first real step). Computed with the reference kernels, whose cache keeps
    the gates after their activations and the states.
    """
    layers = model.layers
    direction = None
    if isinstance(layer, str) and layer.rpartition("/")[2] in ("forward", "backward"):
        wrapper, _, direction = layer.rpartition("/")
        if not isinstance(_find(layers, wrapper), Bidirectional):
            raise ValueError(f"'{layer}' names a direction of a Bidirectional layer, but "
                             f"'{wrapper}' is not one; the model's layers are "
                             f"{[l.name for l in layers]}.")
        layer = wrapper
    if layer is None:
        index = next((i for i, l in enumerate(layers) if getattr(l, "cell", None) in GATE_NAMES),
                     None)
        if index is None:
            raise ValueError("The model has no LSTM or GRU layer to trace; for a SimpleRNN's "
                             "states, name it: gate_activations(model, x, layer='<name>').")
    elif isinstance(layer, int):
        index = layer
    else:
        index = layers.index(_find(layers, layer))
    wrapper = layers[index] if direction else None
    target = getattr(wrapper, f"{direction}_layer") if direction else layers[index]
    if getattr(target, "cell", None) not in STATE_NAMES:
        raise ValueError(f"Layer '{target.name}' ({type(target).__name__}) is not recurrent: "
                         "pass a SimpleRNN, LSTM or GRU layer.")
    x = np.asarray(x)
    model._ensure_built(x)
    call = getattr(model, "_call", None)  # Sequential's: one layer and the mask it passes on
    mask = None
    previous = backend.get_kernels()
    backend.set_kernels("reference")
    try:
        for before in layers[:index]:
            if call is None:
                x = before.forward(x, training=False)
            else:
                x, mask = call(before, x, mask, training=False)
        (wrapper or target).forward(x, training=False, **({} if mask is None else {"mask": mask}))
    finally:
        backend.set_kernels(previous)
    cache = target.cache[-1]
    traces = {}
    for g, name in enumerate(GATE_NAMES.get(target.cell, ())):
        block = cache.gates[:, :, g * target.units:(g + 1) * target.units]  # (T, B, H)
        traces[name] = block
    traces["h_t"] = cache.hs  # (T, B, H) the states after each step
    if target.cell == "lstm":
        traces["c_t"] = cache.cs  # (T, B, H)
    return {name: np.ascontiguousarray(value.transpose(1, 0, 2)) for name, value in traces.items()}


def _find(layers, name):
    """The layer of that name, or a ValueError listing the names there are."""
    for layer in layers:
        if layer.name == name:
            return layer
    raise ValueError(f"No layer named '{name}'; the model's layers are "
                     f"{[l.name for l in layers]}.")
