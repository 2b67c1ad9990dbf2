"""What happens inside: the gradient that flows back through time, and the gates' values.

    gradient_through_time(model, x, y)   {layer name: (T,) mean |dL/dx_t|} for each recurrent
                                         layer: how much the loss still feels step t
    gate_activations(model, x, layer)    {gate name: (B, T, H)}: LSTM i, f, c, o (c is the
                                         candidate tanh(.)) or GRU z, r, h (h the candidate)
    plot_gradient_through_time(...)      the same as a picture (needs matplotlib: bptt[plot])

BPTT multiplies the gradient by one Jacobian per step it goes back. For a SimpleRNN that
Jacobian is diag(1 - h_t^2) @ recurrent_kernel^T, whose norm is usually below 1, so |dL/dx_t|
shrinks geometrically with the distance from the end: the vanishing gradient. An LSTM's cell
state passes the gradient back multiplied only by the forget gate f_t (dc_{t-1} = dc_t * f_t),
so with f near 1 it survives many steps.

Nothing here changes a weight: the backward pass fills the layers' grads and stops there.
"""
import numpy as np

from bptt import backend
from bptt.layers.recurrent import _Recurrent

GATE_NAMES = {"lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}


def gradient_through_time(model, x, y, sample_weight=None):
    """Mean over the batch of |dL/dx_t| at each timestep t, for every recurrent layer's input.

    x, y are a batch as for `model.evaluate`; the loss is the compiled one. Returns
    {layer name: array of shape (T,)}, in time order (for go_backwards layers too).
    """
    model._require_compiled("gradient_through_time")
    (x,), (y,), sample_weights = model._prepare(x, y, sample_weight, "gradient_through_time")
    sample_weight = None if sample_weights is None else sample_weights[0]
    y_pred = model._forward(x, training=False)
    (_, dout), from_logits = model._loss_and_grad(y, y_pred, sample_weight)
    flows = {}

    def record(layer, dx):
        if isinstance(layer, _Recurrent) and dx is not None:
            flows[layer.name] = np.linalg.norm(dx, axis=-1).mean(axis=0)  # (T,)

    model._backward(dout, from_logits, on_layer=record)
    return flows


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


def plot_gradient_through_time(flows, ax=None, log=True):
    """Plot {name: (T,)} from gradient_through_time, one line per layer; returns the axes."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("Plots need matplotlib: pip install 'bptt[plot]'.") from error
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for name, norms in flows.items():
        ax.plot(np.arange(1, len(norms) + 1), norms, label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("timestep t (the last one is nearest the loss)")
    ax.set_ylabel("mean |dL/dx_t|")
    ax.set_title("Gradient flowing back through time")
    ax.legend()
    return ax
