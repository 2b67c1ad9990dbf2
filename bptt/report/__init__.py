"""One self-contained HTML page that shows a model's insides: its summary, the training curves,
the gradient flowing back through time in each recurrent layer, and the gates over the words of
a few examples. The page loads nothing (no network, no other file: its pictures are inline
PNGs) and can be mailed or archived as it is. Needs matplotlib (pip install 'bptt[plot]').

    from bptt import report
    report.write_report("model.html", model, x, y, words=words, history=history)

`bptt report MODEL --data imdb|udpos` writes one for a saved model, and
bptt.callbacks.HTMLReport at the end of fit.

    page.py     the page: its sections, escaping, the atomic write
    figures.py  the pictures (training curves, gradient flow, gate heatmaps) as PNG bytes
    history.py  the training history, from fit's logs or a CSVLogger file
"""
from bptt.report.history import History, read_csv_history
from bptt.report.page import render, write


def write_report(path, model, x, y=None, words=None, titles=None, history=None, source="",
                 notes=(), no_history="No training history was given."):
    """Write the report on `model` to `path` (atomically) and return the path.

    x: (N, T) a batch of examples the model takes; y: their targets (for the gradient through
    time), or None; words: per example, T labels (the words the steps read), None for a step
    not to show (padding), or None for step numbers; titles: one line per example; history: a
    History (the training curves), or None, when the page says `no_history`; source and notes:
    lines for the top of the page. A model that is not Sequential gets its summary and curves,
    and a sentence where the gradient and the gates would be.
    """
    return write(path, render(model, x, y=y, words=words, titles=titles, history=history,
                              source=source, notes=notes, no_history=no_history))


__all__ = ["History", "read_csv_history", "render", "write", "write_report"]
