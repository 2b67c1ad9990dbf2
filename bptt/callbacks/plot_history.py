"""PlotHistory: the training curves as a picture, rewritten at the end of every epoch.

    model.fit(x, y, epochs=10, validation_split=0.1,
              callbacks=[callbacks.PlotHistory("curves.png")])

One panel per quantity in the epoch logs (loss, accuracy, ...), with its training curve and, when
fit validates, its val_ curve beside it. The file is written to a temporary name in the same
folder and then renamed over the old one, so a viewer that reloads it never sees half a PNG.
Needs matplotlib (pip install 'bptt[plot]'); draws without a display (matplotlib's Agg canvas,
whatever pyplot's backend is).
"""
import math
import os

from bptt.callbacks.base import Callback


def _require_matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "PlotHistory draws with matplotlib, which is not installed: "
            "pip install 'bptt[plot]'.") from error
    return Figure, FigureCanvasAgg


class PlotHistory(Callback):
    """Write the per-epoch training curves to `path` (PNG, or any format matplotlib knows from
    the file's extension) at the end of every epoch.

    metrics: the quantities to draw, by their log names without "val_" (e.g. ["loss"]); None
    draws every one the logs have. columns: panels per row. `self.history` holds the values
    drawn, {name: [value per epoch]}, and `self.figure` the last figure."""

    def __init__(self, path, metrics=None, columns=3, title=None, dpi=100):
        super().__init__()
        self._figure_class, self._canvas_class = _require_matplotlib()
        self.path = os.fspath(path)
        extension = os.path.splitext(self.path)[1].lstrip(".").lower()
        self.format = extension or "png"
        if metrics is not None and (isinstance(metrics, str) or not all(
                isinstance(name, str) for name in metrics)):
            raise ValueError(f"PlotHistory(metrics=...) takes a list of log names such as "
                             f"['loss', 'accuracy'], got {metrics!r}.")
        if not isinstance(columns, int) or columns < 1:
            raise ValueError(f"PlotHistory(columns=...) takes a positive int, got {columns!r}.")
        self.metrics = None if metrics is None else list(metrics)
        self.columns, self.title, self.dpi = columns, title, dpi
        self.epochs, self.history, self.figure = [], {}, None

    def on_train_begin(self, logs=None):
        self.epochs, self.history = [], {}

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch + 1)  # as the progress bar counts them
        for key, value in (logs or {}).items():
            values = self.history.setdefault(key, [math.nan] * (len(self.epochs) - 1))
            values.append(float(value))
        for values in self.history.values():  # a key missing this epoch
            values.extend([math.nan] * (len(self.epochs) - len(values)))
        self.write()

    def panels(self):
        """The quantities drawn, one panel each: the logs' names without their "val_", the loss
        first, or the order of `metrics`."""
        names = []
        for key in self.history:
            name = key[4:] if key.startswith("val_") else key
            if name not in names and (self.metrics is None or name in self.metrics):
                names.append(name)
        order = self.metrics or ["loss"]
        return sorted(names, key=lambda name: order.index(name) if name in order else len(order))

    def write(self):
        """Draw the curves so far and replace the file with them."""
        from matplotlib.ticker import MaxNLocator  # (matplotlib is there: __init__ checked)

        names = self.panels()
        columns = max(1, min(self.columns, len(names)))
        rows = max(1, math.ceil(len(names) / columns))
        figure = self._figure_class(figsize=(4.5 * columns, 3.5 * rows), dpi=self.dpi)
        self._canvas_class(figure)
        for index, name in enumerate(names):
            ax = figure.add_subplot(rows, columns, index + 1)
            for key, label, style in ((name, "train", "-o"), (f"val_{name}", "validation", "-s")):
                if key in self.history:
                    ax.plot(self.epochs, self.history[key], style, markersize=3, label=label)
            ax.set_title(name)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs, not 1.2, 1.4
            ax.grid(alpha=0.3)
            ax.legend()
        if self.title:
            figure.suptitle(self.title)
        figure.tight_layout()
        folder = os.path.dirname(os.path.abspath(self.path))
        temporary = os.path.join(folder, f".{os.path.basename(self.path)}.{os.getpid()}.tmp")
        try:
            figure.savefig(temporary, format=self.format)
            os.replace(temporary, self.path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        self.figure = figure
