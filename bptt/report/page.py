"""The report as one HTML page: every text escaped, every picture an inline PNG (a data: URI),
the style inline; the page loads nothing from anywhere and runs no script."""
import base64
import datetime
import html
import os

import numpy as np

from bptt.diagnostics.flow import recurrent_layers
from bptt.report import figures

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 2em;
       color: #222; background: #fff; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc;
     padding-bottom: 0.2em; margin-top: 2em; } h3 { font-size: 1.05em; margin-bottom: 0.3em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em;
      line-height: 1.2; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { color: #555; font-style: italic; }
.meta { color: #555; font-size: 0.9em; margin: 0; }
nav a { margin-right: 1em; }
"""

SECTIONS = (("summary", "Model summary"), ("training", "Training curves"),
            ("gradient", "Gradient flow through time"), ("gates", "Gates over the words"))


def esc(text):
    """Text made safe for HTML, in an element or an attribute."""
    return html.escape(str(text), quote=True)


def image(png_bytes, alt):
    data = base64.b64encode(png_bytes).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def note(text):
    return f'<p class="note">{esc(text)}</p>'


# --- the sections -----------------------------------------------------------------------------

def summary_section(model):
    from bptt.summary import summary_text

    return f"<pre>{esc(summary_text(model))}</pre>"


def training_section(history, no_history):
    if not history:
        return note(no_history)
    last = {key: values[-1] for key, values in history.values.items()}
    figures_text = ", ".join(f"{key} {value:.4g}" for key, value in sorted(last.items()))
    return (image(figures.training_curves(history.epochs, history.values),
                  "loss and metrics per epoch, train and validation")
            + f'<p class="meta">{len(history.epochs)} epochs; after the last: '
              f"{esc(figures_text)}</p>")


def gradient_section(model, x, y):
    """The mean |dL/dh_t| (and |dL/dc_t|, |dL/dx_t|) per step, per recurrent layer."""
    from bptt.diagnostics import gradient_flow

    if not recurrent_layers(model):
        return note("The model has no recurrent layer: there is no gradient through time.")
    if y is None:
        return note("No targets were given, so there is no loss to differentiate: give y to "
                    "see the gradient flowing back through time.")
    if not hasattr(model, "_backward"):
        return note(f"The gradient through time is read from a Sequential model's backward "
                    f"pass; this model is a {type(model).__name__}.")
    if not getattr(model, "compiled", False):
        return note("The model is not compiled, so there is no loss to differentiate: "
                    "compile it (model.compile(loss=...)) to see the gradient through time.")
    try:
        flows = gradient_flow(model, x, y)
    except ValueError as error:
        return note(f"The gradient could not be traced: {error}")
    rows = []
    for label, per_state in flows.items():
        norms = per_state["h"]
        ratio = norms[-1] / norms[0] if norms[0] > 0 else float("inf")
        rows.append(f"<tr><td>{esc(label)}</td><td>{len(norms)}</td><td>{norms[0]:.3g}</td>"
                    f"<td>{norms[-1]:.3g}</td><td>{ratio:.3g}</td></tr>")
    table = ("<table><tr><th>layer</th><th>steps T</th><th>|dL/dh_1|</th><th>|dL/dh_T|</th>"
             "<th>last / first</th></tr>" + "".join(rows) + "</table>")
    loss = getattr(model, "loss", None)
    loss_name = getattr(loss, "__name__", None) or getattr(loss, "name", None) or loss
    explain = (f"The mean over {len(x)} examples of the size (L2 norm) of the gradient of the "
               f"loss ({loss_name}) with respect to each step's hidden state, as BPTT carries "
               "it back from the end; |dL/dc_t| for an LSTM's cell state. A curve that falls "
               "steeply towards step 1 is a vanishing gradient: the first words barely move "
               "the weights.")
    return (f'<p class="meta">{esc(explain)}</p>'
            + image(figures.gradient_flow(flows), "mean gradient size per step, per layer")
            + table)


def gates_section(model, x, words, titles):
    """Heatmaps of each recurrent layer's gates and states over the words of each example."""
    from bptt.diagnostics import gate_activations

    found = recurrent_layers(model)
    if not found:
        return note("The model has no recurrent layer: there are no gates to show.")
    if not hasattr(model, "_call"):
        return note(f"Gates are traced through a Sequential model's layers in order; this "
                    f"model is a {type(model).__name__}.")
    kept = [(layer, list(layer.states)) for _, layer in found
            if layer.stateful and layer.states is not None]
    traced = {}
    try:
        for label, layer in found:
            traces = gate_activations(model, x, layer=label)
            if layer.go_backwards:  # as the layer read them -> in the text's order
                traces = {name: value[:, ::-1] for name, value in traces.items()}
            traced[label] = (layer.cell, traces)
    except ValueError as error:
        return note(f"The gates could not be traced: {error}")
    finally:
        for layer, states in kept:
            layer.states = states
    parts = [f'<p class="meta">{esc(_explain_gates(traced))}</p>']
    for row in range(len(x)):
        steps = [t for t, word in enumerate(words[row]) if word is not None]
        shown = [str(words[row][t]) for t in steps]
        parts.append(f"<h3>{esc(titles[row])}</h3>")
        if not steps:
            parts.append(note("This example has no word to show."))
            continue
        for label, (cell, traces) in traced.items():
            one = {name: value[row:row + 1, steps] for name, value in traces.items()}
            title = f"{label} ({cell})"
            parts.append(image(figures.gates(one, shown, cell, title),
                               f"gates and states of {label} over the words of example {row + 1}"))
    return "\n".join(parts)


def _explain_gates(traced):
    cells = sorted({cell for cell, _ in traced.values()})
    legend = "; ".join(f"{cell}: {figures.legend_text(cell)}" for cell in cells)
    return (f"Each heatmap is one layer on one example: a row per unit (the up to "
            f"{figures.MOST_UNITS} units whose state ends farthest from 0), a column per word, "
            f"padding left out; a backward layer's steps are shown in the text's order. "
            f"Panels, top to bottom: {legend}.")


# --- the page ---------------------------------------------------------------------------------

def render(model, x, y=None, words=None, titles=None, history=None, source="", notes=(),
           no_history="No training history was given."):
    """The page as a str. x: (N, T) the examples (one batch the model takes); y: their targets,
    or None; words: per example, T labels, None for a step not to show (padding); titles: a
    line per example; history: a report.history.History; source: what the model is (shown
    under the title); notes: more lines for the top of the page."""
    import bptt

    figures.require_matplotlib()
    x = np.asarray(x)
    if words is None:
        words = [[str(t + 1) for t in range(x.shape[1])] for _ in range(len(x))]
    if titles is None:
        titles = [f"Example {row + 1}" for row in range(len(x))]
    bodies = {"summary": summary_section(model),
              "training": training_section(history, no_history),
              "gradient": gradient_section(model, x, y),
              "gates": gates_section(model, x, words, titles)}
    written = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = [f"<h1>Model {esc(model.name)}</h1>"]
    for line in [source, *notes]:
        if line:
            head.append(f'<p class="meta">{esc(line)}</p>')
    head.append(f'<p class="meta">Written by bptt {esc(bptt.__version__)} on {written}.</p>')
    nav = "<nav>" + "".join(f'<a href="#{key}">{esc(name)}</a>' for key, name in SECTIONS) \
        + "</nav>"
    sections = "\n".join(f'<section id="{key}"><h2>{esc(name)}</h2>\n{bodies[key]}\n</section>'
                         for key, name in SECTIONS)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{esc(model.name)}: bptt report</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n{''.join(head)}\n{nav}\n{sections}\n</body>\n</html>\n")


def write(path, page):
    """Write the page to `path` through a temporary file in the same folder, renamed over it:
    a reader never sees half a page, and an old page stays whole if writing fails."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(page)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path
