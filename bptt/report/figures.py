"""The report's pictures, each drawn on its own matplotlib Figure (no pyplot window, no global
state) and returned as the bytes of a PNG, ready to be put inline in the page."""
import io
import math
import os
import tempfile

import numpy as np

from bptt.diagnostics.plots import GATES

INSTALL_HINT = "The report draws its pictures with matplotlib, which is not installed: " \
               "pip install 'bptt[plot]'."

# Which gates and states each cell's heatmap shows, one panel each.
PANELS = {"lstm": ("i", "f", "o", "c_t"), "gru": ("z", "r", "h_t"), "simple_rnn": ("h_t",)}
MOST_UNITS = 12  # rows of a heatmap: the units whose state ends farthest from 0
DPI = 100  # the heatmaps' word labels are small (plot_gates draws them at 7 points)


def require_matplotlib():
    """matplotlib's Figure and Agg canvas, or an ImportError whose message is INSTALL_HINT."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return Figure, FigureCanvasAgg


def png(figure):
    """The figure as PNG bytes, cropped to what is drawn."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _figure(width, height):
    Figure, FigureCanvasAgg = require_matplotlib()
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def training_curves(epochs, history):
    """PNG of the per-epoch curves, drawn by callbacks.PlotHistory (one panel per quantity,
    train and validation side by side). epochs: [1, 2, ...]; history: {log key: [value]}."""
    require_matplotlib()
    from bptt.callbacks.plot_history import PlotHistory

    with tempfile.TemporaryDirectory() as folder:
        plot = PlotHistory(os.path.join(folder, "curves.png"), dpi=DPI)
        plot.epochs, plot.history = list(epochs), {k: list(v) for k, v in history.items()}
        plot.write()
        with open(plot.path, "rb") as handle:
            return handle.read()


def gradient_flow(flows):
    """PNG of gradient_flow's {label: {"x", "h", "c": (T,)}}: one panel per recurrent layer,
    the mean |dL/dh_t|, |dL/dc_t| and |dL/dx_t| over the steps, on a log scale."""
    columns = min(2, len(flows))
    rows = math.ceil(len(flows) / columns)
    figure = _figure(5.2 * columns, 3.0 * rows)
    names = {"h": "|dL/dh_t|", "c": "|dL/dc_t| (cell state)", "x": "|dL/dx_t| (input)"}
    for index, (label, per_state) in enumerate(flows.items()):
        ax = figure.add_subplot(rows, columns, index + 1)
        for key, name in names.items():
            if key in per_state:
                norms = np.asarray(per_state[key], dtype=float)
                steps = np.arange(1, len(norms) + 1)
                ax.plot(steps, norms, marker="." if len(norms) <= 60 else None, label=name)
        if any(np.any(np.asarray(v) > 0) for v in per_state.values()):
            ax.set_yscale("log")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("step t (the last is nearest the loss)", fontsize=8)
        ax.set_ylabel("mean over the examples", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return png(figure)


def strongest_units(traces, count=MOST_UNITS):
    """Up to `count` units whose last state (c_t for an LSTM, else h_t) is largest in size,
    in unit order: the ones that carry the most to the end of the text."""
    final = traces["c_t"] if "c_t" in traces else traces["h_t"]  # (1, T, H)
    return np.sort(np.argsort(-np.abs(final[0, -1]))[:count])


def gates(traces, words, cell, title):
    """PNG of diagnostics.plot_gates for one example: traces {name: (1, T, H)} and its T words;
    the panels PANELS[cell] over the units strongest_units picks."""
    from bptt.diagnostics import plot_gates

    names = PANELS[cell]
    units = strongest_units(traces)
    steps = len(words)
    figure = _figure(max(5.0, 0.16 * steps + 2), 0.8 + 0.13 * len(units) * len(names))
    plot_gates(traces, words, names=names, units=units, fig=figure)
    figure.suptitle(title, fontsize=9)
    return png(figure)


def legend_text(cell):
    """What the panels of a cell's heatmap are, in words."""
    meaning = {"i": "input gate i_t", "f": "forget gate f_t", "o": "output gate o_t",
               "c_t": "cell state c_t", "z": "update gate z_t", "r": "reset gate r_t",
               "h_t": "hidden state h_t"}
    parts = [meaning[name] + (" (0..1)" if name in GATES else " (scale symmetric about 0)")
             for name in PANELS[cell]]
    return ", ".join(parts)
