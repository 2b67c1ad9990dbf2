"""The gradient that flows back through time, from the model's own backward pass."""
import numpy as np

from bptt.layers.recurrent import _Recurrent


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
