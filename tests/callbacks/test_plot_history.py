"""PlotHistory: a PNG after every epoch, one panel per quantity with its train and val_ curves;
a clear message without matplotlib."""
import struct
import sys

import numpy as np
import pytest

from bptt import callbacks, layers, models

pytest.importorskip("matplotlib", reason="PlotHistory draws with matplotlib (bptt[plot])")


def png_size(path):
    """(width, height) from the PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def small_model(rng):
    model = models.Sequential([layers.LSTM(3), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x = rng.normal(size=(20, 4, 2)).astype("float32")
    y = (x[:, -1, :1] > 0).astype("float32")
    return model, x, y


class Seen(callbacks.Callback):
    """What the file held at each epoch end, after the PlotHistory before it wrote it."""

    def __init__(self, path):
        super().__init__()
        self.path, self.sizes, self.contents = path, [], []

    def on_epoch_end(self, epoch, logs=None):
        self.sizes.append(png_size(self.path))
        self.contents.append(self.path.read_bytes())


def test_fit_writes_a_panel_per_metric_with_validation(tmp_path, rng):
    model, x, y = small_model(rng)
    path = tmp_path / "curves.png"
    plot = callbacks.PlotHistory(path, dpi=50)
    seen = Seen(path)
    model.fit(x, y, epochs=3, batch_size=5, validation_split=0.25, verbose=0,
              callbacks=[plot, seen])
    assert len(set(seen.contents)) == 3  # rewritten at every epoch, one more point each time
    assert plot.panels() == ["loss", "accuracy"]
    axes = plot.figure.axes
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    for ax in axes:
        assert [line.get_label() for line in ax.get_lines()] == ["train", "validation"]
        assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    np.testing.assert_allclose(axes[0].get_lines()[1].get_ydata(),
                               model.history.history["val_loss"])
    # two panels side by side at 4.5 x 3.5 inches each, 50 dots per inch
    assert png_size(path) == (450, 175)
    assert not [p for p in tmp_path.iterdir() if p.name != "curves.png"]  # no temporary left


def test_without_validation_only_train_curves(tmp_path, rng):
    model, x, y = small_model(rng)
    path = tmp_path / "curves.png"
    plot = callbacks.PlotHistory(path, metrics=["loss"], dpi=50)
    model.fit(x, y, epochs=2, batch_size=5, verbose=0, callbacks=[plot])
    assert len(plot.figure.axes) == 1
    assert [line.get_label() for line in plot.figure.axes[0].get_lines()] == ["train"]
    assert png_size(path) == (225, 175)


def test_panels_wrap_into_rows(tmp_path):
    plot = callbacks.PlotHistory(tmp_path / "c.png", columns=2, dpi=20)
    plot.on_train_begin()
    for epoch in range(2):
        plot.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "accuracy": 0.5, "mae": 0.3,
                                  "val_loss": 2.0, "val_accuracy": 0.4, "val_mae": 0.2})
    assert len(plot.figure.axes) == 3
    assert png_size(tmp_path / "c.png") == (2 * 90, 2 * 70)  # 2 columns, 2 rows


def test_a_failed_write_leaves_the_old_picture(monkeypatch, tmp_path):
    from matplotlib.figure import Figure

    path = tmp_path / "curves.png"
    path.write_bytes(b"the old picture")

    def broken_savefig(self, fname, **kwargs):
        with open(fname, "wb") as handle:
            handle.write(b"half a PNG")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    plot = callbacks.PlotHistory(path)
    with pytest.raises(OSError, match="disk full"):
        plot.on_epoch_end(0, {"loss": 1.0})
    assert path.read_bytes() == b"the old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # the temporary is gone


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'bptt\[plot\]'"):
        callbacks.PlotHistory(tmp_path / "curves.png")


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="list of log names"):
        callbacks.PlotHistory(tmp_path / "c.png", metrics="loss")
    with pytest.raises(ValueError, match="positive int"):
        callbacks.PlotHistory(tmp_path / "c.png", columns=0)
