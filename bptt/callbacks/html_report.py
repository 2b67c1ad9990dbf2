"""HTMLReport: at the end of fit, one self-contained HTML page on the trained model (see
bptt.report): its summary, the training curves of this fit, the gradient through time on the
examples given, and the gates over their words.

    model.fit(x_train, y_train, epochs=5, validation_split=0.1,
              callbacks=[callbacks.HTMLReport("model.html", x_test[:3], y_test[:3])])
"""
import os

import numpy as np

from bptt.callbacks.base import Callback


class HTMLReport(Callback):
    """Write the report on the model to `path` when fit ends.

    x: a few examples (N, T), one batch the model takes (the gates are drawn for each of them:
    keep N small); y: their targets, for the gradient through time (None: the page says there
    is none); words: per example, T labels for its steps (None for a step not to show, as
    padding), or None for step numbers; titles: a line per example. The report only reads the
    model: the weights, the optimizer and the random draws are as without it. Put it after an
    EarlyStopping(restore_best_weights=True) in the list, so that it reports the weights
    restored.
    `self.history` holds the epochs' logs drawn as the training curves.
    """

    def __init__(self, path, x, y=None, words=None, titles=None):
        super().__init__()
        from bptt.report import figures

        figures.require_matplotlib()  # before fit, not after hours of training
        self.path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise ValueError(f"HTMLReport({path!r}): the folder {folder!r} does not exist; "
                             "create it or give a path in an existing folder.")
        self.x = np.asarray(x)
        if self.x.ndim < 2 or len(self.x) == 0:
            raise ValueError(f"HTMLReport(x=...) takes a batch of examples, (N, T) or "
                             f"(N, T, D) with N >= 1; got shape {self.x.shape}.")
        self.y = y
        self.words = None if words is None else [list(row) for row in words]
        if self.words is not None and (len(self.words) != len(self.x) or any(
                len(row) != self.x.shape[1] for row in self.words)):
            raise ValueError(f"HTMLReport(words=...) takes one label per step for each example: "
                             f"{len(self.x)} lists of {self.x.shape[1]}; got "
                             f"{[len(row) for row in self.words]} labels.")
        self.titles = None if titles is None else [str(title) for title in titles]
        if self.titles is not None and len(self.titles) != len(self.x):
            raise ValueError(f"HTMLReport(titles=...) takes one title per example: "
                             f"{len(self.x)}; got {len(self.titles)}.")
        self.history = None

    def on_train_begin(self, logs=None):
        from bptt.report import History

        self.history = History()

    def on_epoch_end(self, epoch, logs=None):
        self.history.add(epoch, logs)

    def on_train_end(self, logs=None):
        from bptt.report import write_report

        epochs = len(self.history.epochs)
        write_report(self.path, self.model, self.x, self.y, words=self.words, titles=self.titles,
                     history=self.history,
                     source=f"At the end of fit, after {epochs} epoch{'s' * (epochs != 1)}.",
                     no_history="fit ended before its first epoch did: no curve to draw.")
