"""Pictures (needs matplotlib: bptt[plot]): the gradient through time, and the gates and states
over the words of a text."""
import numpy as np

GATES = {"i", "f", "o", "z", "r"}  # values in (0, 1): one fixed colour scale


def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("Plots need matplotlib: pip install 'bptt[plot]'.") from error
    return plt


def plot_gates(traces, words, names=("f", "c_t"), units=None, sample=0, fig=None):
    """Heatmaps of gate_activations' output over the words of one sequence.

    traces: {name: (B, T, H)} from gate_activations; words: the T tokens of row `sample`, in
    the order the layer read them; names: which gates or states to draw, one panel each;
    units: the unit indices to show (rows), all by default. Gates in (0, 1) share the scale
    0..1; a candidate or state gets a scale symmetric about 0. Returns the figure.
    """
    plt = _pyplot()
    missing = [name for name in names if name not in traces]
    if missing:
        raise ValueError(f"plot_gates: no {missing} in the traces, which hold {sorted(traces)}; "
                         "pass names from those.")
    steps = next(iter(traces.values())).shape[1]
    if len(words) != steps:
        raise ValueError(f"plot_gates: {len(words)} words for a sequence of {steps} steps; "
                         "pass one word per step (padding included, or trim the input).")
    units = np.arange(traces[names[0]].shape[2]) if units is None else np.asarray(units)
    if fig is None:
        fig = plt.figure(figsize=(max(6, 0.28 * steps + 2), 1.2 + 0.16 * len(units) * len(names)))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        values = traces[name][sample][:, units].T  # (units, T)
        if name in GATES:
            scale = {"vmin": 0.0, "vmax": 1.0, "cmap": "viridis"}
        else:
            bound = float(np.abs(values).max()) or 1.0
            scale = {"vmin": -bound, "vmax": bound, "cmap": "RdBu_r"}
        image = ax.imshow(values, aspect="auto", interpolation="nearest", **scale)
        ax.set_yticks(range(len(units)), [str(u) for u in units], fontsize=6)
        ax.set_ylabel(f"{name}\nunit", fontsize=8)
        fig.colorbar(image, ax=ax, pad=0.01)
    axes[-1].set_xticks(range(steps), list(words), rotation=90, fontsize=7)
    return fig


def plot_gradient_through_time(flows, ax=None, log=True):
    """Plot {name: (T,)} from gradient_through_time, one line per layer; returns the axes."""
    plt = _pyplot()
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
