"""The gradient that flows back through time, read from the model's own backward pass.

Letters: B batch, T time, D a layer's input features, H its units.

For a recurrent layer, at every step t (in the order of the input, for go_backwards too):

    dL/dx_t   the gradient of the loss with respect to the layer's input at t
    dL/dh_t   the whole gradient reaching the hidden state computed at step t: what comes from
              the output at t (return_sequences; the last output otherwise) plus what comes
              back from step t+1 (for an LSTM through its four gates, for a GRU through the
              mix and the gates, for a SimpleRNN through act and the recurrent kernel)
    dL/dc_t   (LSTM) the whole gradient reaching the cell state computed at step t: from
              c_{t+1} (times f_{t+1}: the highway) plus through h_t = o_t * act(c_t)

Each is what the reference BPTT (bptt/ops) computes in its loop, recorded there with the ops'
`record` argument: there is no second implementation of the backward pass here. With a mask,
dL/dh_t and dL/dc_t are zero at a padding step: Keras' loop discards what such a step computes.

The forward and backward passes run with the reference kernels and training=False (no dropout),
the states of stateful layers are put back afterwards, and no weight changes: the layers'
grads are filled and left there. Sequential models only: the layers are walked in order.
"""
import functools

import numpy as np

from bptt import backend
from bptt.layers.recurrent import _Recurrent
from bptt.layers.wrappers import Bidirectional


def recurrent_layers(model):
    """[(label, layer)]: every recurrent layer, and each direction of a Bidirectional, labelled
    '<wrapper name>/forward' and '<wrapper name>/backward'."""
    found = []
    for layer in model.layers:
        if isinstance(layer, _Recurrent):
            found.append((layer.name, layer))
        elif isinstance(layer, Bidirectional):
            found.append((f"{layer.name}/forward", layer.forward_layer))
            found.append((f"{layer.name}/backward", layer.backward_layer))
    return found


def state_gradients(model, x, y, sample_weight=None):
    """The per-step gradients themselves: {label: {"x": (B, T, D), "h": (B, T, H), "c": (B, T, H)}}.

    "c" only for an LSTM; "x" only for a layer directly in the model (not for each direction of
    a Bidirectional, whose input gradient is the sum of both). Steps in the input's time order.
    """
    if not hasattr(model, "_backward"):
        raise TypeError(f"The gradient through time is read from a Sequential model's backward "
                        f"pass; got a {type(model).__name__}. Rebuild the stack as "
                        "bptt.models.Sequential to trace it.")
    model._require_compiled("gradient_through_time")
    (x,), (y,), sample_weights = model._prepare(x, y, sample_weight, "gradient_through_time")
    sample_weight = None if sample_weights is None else sample_weights[0]
    tracked = recurrent_layers(model)
    steps = {label: {} for label, _ in tracked}  # label -> {"h": [T arrays], "c": ...}
    kept = [(layer, list(layer.states)) for _, layer in tracked
            if layer.stateful and layer.states is not None]
    previous = backend.get_kernels()
    backend.set_kernels("reference")
    try:
        y_pred = model._forward(x, training=False)
        for label, layer in tracked:
            forward, backward = layer.functions
            T = layer.cache[-1].hs.shape[0]
            recorder = functools.partial(_record, steps[label], T)
            layer.functions = (forward, functools.partial(backward, record=recorder))
        (_, dout), from_logits = model._loss_and_grad(y, y_pred, sample_weight)
        inputs = {}

        def input_gradient(layer, dx):
            if isinstance(layer, _Recurrent) and dx is not None:
                inputs[layer.name] = dx

        model._backward(dout, from_logits, on_layer=input_gradient)
    finally:
        backend.set_kernels(previous)
        for layer, states in kept:
            layer.states = states
    gradients = {}
    for label, layer in tracked:
        per_state = {name: _batch_major(arrays, layer.go_backwards)
                     for name, arrays in steps[label].items()}
        if label in inputs:
            per_state["x"] = inputs[label]
        gradients[label] = per_state
    return gradients


def _record(store, T, t, dh, dc=None):
    """The ops' record(t, dh[, dc]), keeping a copy of each gradient."""
    store.setdefault("h", [None] * T)[t] = np.array(dh)
    if dc is not None:
        store.setdefault("c", [None] * T)[t] = np.array(dc)


def _batch_major(arrays, go_backwards):
    """T arrays (B, H) in the order the loop read the steps -> (B, T, H) in the input's order."""
    return np.stack(arrays[::-1] if go_backwards else arrays, axis=1)  # (B, T, H)


def gradient_flow(model, x, y, sample_weight=None):
    """{label: {"x": (T,), "h": (T,), "c": (T,)}}: at each step, the mean over the batch of the
    L2 norms |dL/dx_t|, |dL/dh_t| and (LSTM) |dL/dc_t| (see the module docstring and
    state_gradients for which keys each layer has)."""
    return {label: {name: np.linalg.norm(grad, axis=-1).mean(axis=0) for name, grad in per.items()}
            for label, per in state_gradients(model, x, y, sample_weight).items()}


def gradient_through_time(model, x, y, sample_weight=None):
    """Mean over the batch of |dL/dx_t| at each timestep t, for every recurrent layer's input.

    x, y are a batch as for `model.evaluate`; the loss is the compiled one. Returns
    {layer name: array of shape (T,)}, in time order (for go_backwards layers too).
    gradient_flow adds |dL/dh_t| and |dL/dc_t|.
    """
    return {label: per["x"] for label, per in gradient_flow(model, x, y, sample_weight).items()
            if "x" in per}
