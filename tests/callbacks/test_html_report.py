"""HTMLReport: the page is written when fit ends, with this fit's curves, and the training is
exactly as without it."""
import sys

import numpy as np
import pytest

from bptt import callbacks, layers, models
from bptt.utils import set_random_seed
from tests.report.helpers import images, section, tagging_data

pytest.importorskip("matplotlib", reason="HTMLReport draws with matplotlib (bptt[plot])")


def dropout_tagger():
    """A tagger whose training draws random numbers (dropout), so that a report drawing any
    would show in the weights after the next fit."""
    model = models.Sequential([
        layers.Input(shape=(None,)), layers.Embedding(12, 4, mask_zero=True),
        layers.LSTM(3, return_sequences=True, dropout=0.3, recurrent_dropout=0.2),
        layers.Dropout(0.2), layers.TimeDistributed(layers.Dense(4, activation="softmax"))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class NotYet(callbacks.Callback):
    """Records, at each epoch end, whether the page exists already."""

    def __init__(self, path):
        super().__init__()
        self.path, self.seen = path, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.path.exists())


def test_the_page_is_written_when_fit_ends(tmp_path, rng):
    x, y = tagging_data(rng)
    path = tmp_path / "model.html"
    set_random_seed(1)
    model = dropout_tagger()
    words = [[f"w{i}" if i else None for i in row] for row in x[:2]]
    page = callbacks.HTMLReport(path, x[:2], y[:2], words=words, titles=["one", "two"])
    watch = NotYet(path)
    fitted = model.fit(x, y, epochs=3, batch_size=2, validation_split=0.34, verbose=0,
                       callbacks=[page, watch])
    assert watch.seen == [False, False, False] and path.exists()
    html = path.read_text(encoding="utf-8")
    assert "after 3 epochs" in html and "<h3>one</h3>" in html and "<h3>two</h3>" in html
    assert len(images(section(html, "training"))) == 1
    assert page.history.epochs == [1, 2, 3]
    np.testing.assert_allclose(page.history.values["val_loss"], fitted.history["val_loss"])
    assert len(images(section(html, "gradient"))) == 1
    assert len(images(section(html, "gates"))) == 2


def test_training_is_exactly_as_without_it(tmp_path, rng):
    x, y = tagging_data(rng)
    runs = []
    for report in (False, True):
        set_random_seed(7)
        model = dropout_tagger()
        extra = [callbacks.HTMLReport(tmp_path / "m.html", x[:2], y[:2])] if report else []
        model.fit(x, y, epochs=2, batch_size=2, verbose=0, callbacks=extra)
        after_first = [w.copy() for w in model.get_weights()]
        model.fit(x, y, epochs=1, batch_size=2, verbose=0)  # the next random draws too
        runs.append((after_first, model.get_weights()))
    assert (tmp_path / "m.html").exists()
    for without, with_report in zip(runs[0], runs[1]):
        assert len(without) == len(with_report)
        for a, b in zip(without, with_report):
            np.testing.assert_array_equal(a, b)


def test_bad_arguments_say_what_was_expected(tmp_path):
    x = np.ones((2, 5), dtype="int32")
    with pytest.raises(ValueError, match="does not exist"):
        callbacks.HTMLReport(tmp_path / "no" / "m.html", x)
    with pytest.raises(ValueError, match=r"\(N, T\).*got shape \(5,\)"):
        callbacks.HTMLReport(tmp_path / "m.html", x[0])
    with pytest.raises(ValueError, match=r"2 lists of 5; got \[5, 4\]"):
        callbacks.HTMLReport(tmp_path / "m.html", x, words=[list("abcde"), list("abcd")])
    with pytest.raises(ValueError, match="one title per example: 2; got 1"):
        callbacks.HTMLReport(tmp_path / "m.html", x, titles=["one"])


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'bptt\[plot\]'"):
        callbacks.HTMLReport(tmp_path / "m.html", np.ones((1, 3)))
