"""The report page: each section there, pictures that decode, nothing loaded from anywhere,
every text escaped, and an atomic write."""
import os
import re

import numpy as np
import pytest

from bptt import diagnostics, layers, models, report
from tests.report.helpers import history_of, images, section, tagger, tagging_data

pytest.importorskip("matplotlib", reason="the report draws with matplotlib (bptt[plot])")


@pytest.fixture
def trained(rng):
    model = tagger()
    x, y = tagging_data(rng)
    fitted = model.fit(x, y, epochs=2, batch_size=3, validation_split=0.34, verbose=0)
    return model, x, y, history_of(fitted)


def test_each_section_holds_what_it_says(trained):
    model, x, y, history = trained
    words = [[f"w{i}" if i else None for i in row] for row in x[:2]]
    page = report.render(model, x[:2], y[:2], words=words, titles=["first", "second"],
                         history=history, source="the model file")
    from bptt.summary import summary_text

    assert summary_text(model).splitlines()[1] in section(page, "summary")  # the table's top
    assert f"{model.count_params():,}" in section(page, "summary")
    training = section(page, "training")
    assert len(images(training)) == 1 and "2 epochs" in training
    gradient = section(page, "gradient")
    assert len(images(gradient)) == 1
    flows = diagnostics.gradient_flow(model, x[:2], y[:2])
    assert list(flows) == ["both/forward", "both/backward", "gru"]
    for label, per_state in flows.items():  # the table's row: first and last |dL/dh_t|
        assert (f"<td>{label}</td><td>{x.shape[1]}</td><td>{per_state['h'][0]:.3g}</td>"
                f"<td>{per_state['h'][-1]:.3g}</td>") in gradient
    gates = section(page, "gates")
    assert gates.count("<h3>") == 2 and "<h3>first</h3>" in gates
    assert len(images(gates)) == 2 * 3  # each example, each of the three recurrent layers
    assert "No training history" not in page and "the model file" in page


def test_every_picture_decodes_to_something_drawn(trained):
    model, x, y, history = trained
    page = report.render(model, x[:1], y[:1], history=history)
    pictures = images(page)
    assert len(pictures) == 1 + 1 + 3
    for picture in pictures:
        assert picture.ndim == 3 and min(picture.shape[:2]) > 50
        assert len(np.unique(picture.reshape(-1, picture.shape[2]), axis=0)) > 20


def test_the_page_refers_to_nothing_outside_itself(trained):
    model, x, y, history = trained
    page = report.render(model, x[:2], y[:2], history=history)
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", page).replace("</", "<")
    assert not re.search(r"https?:|ftp:|file:|//", text)
    for tag in ("<script", "<link", "<iframe", "<object", "<embed", "@import", "url("):
        assert tag not in page.lower(), tag
    sources = re.findall(r'\bsrc="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert all(h.startswith("#") for h in re.findall(r'\bhref="([^"]*)"', page))


def test_every_text_is_escaped(rng):
    model = models.Sequential([layers.Input(shape=(None,)), layers.Embedding(12, 4),
                               layers.LSTM(3, name='l<b>"&'), layers.Dense(1)],
                              name='<i>"x" & y</i>')
    model.compile(optimizer="adam", loss="mse")
    x = rng.integers(1, 12, size=(1, 4))
    history = report.History()
    history.add(0, {"loss<script>": 1.0})
    page = report.render(model, x, np.zeros((1, 1)), words=[["<a>", "b&", '"c"', "d"]],
                         titles=["<script>alert(1)</script>"], history=history,
                         source="<source>", notes=["<note>"], no_history="unused")
    assert "&lt;i&gt;&quot;x&quot; &amp; y&lt;/i&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "l&lt;b&gt;&quot;&amp;" in page and "&lt;source&gt;" in page
    assert "loss&lt;script&gt;" in page and "&lt;note&gt;" in page
    for raw in ('<i>"x"', "<script>", "<source>", "<note>", "l<b>", "<a>"):
        assert raw not in page, raw


def test_what_cannot_be_drawn_is_said(rng):
    x, y = tagging_data(rng, rows=2)
    model = tagger()
    page = report.render(model, x, None, no_history="No history: pass --history.")
    assert "No history: pass --history." in section(page, "training")
    assert "No targets were given" in section(page, "gradient")
    assert len(images(section(page, "gates"))) == 2 * 3  # gates need no targets
    uncompiled = models.Sequential([layers.Input(shape=(None,)), layers.Embedding(12, 3),
                                    layers.LSTM(2), layers.Dense(1)])
    page = report.render(uncompiled, x, np.zeros((2, 1)))
    assert "not compiled" in section(page, "gradient")
    assert len(images(section(page, "gates"))) == 2
    words = layers.Input(shape=(None,))
    functional = models.Model(words, layers.Dense(1)(layers.LSTM(2)(
        layers.Embedding(12, 3)(words))))
    functional.compile(optimizer="adam", loss="mse")
    page = report.render(functional, x, np.zeros((2, 1)))
    assert "Sequential" in section(page, "gradient") and "Sequential" in section(page, "gates")
    plain = models.Sequential([layers.Input(shape=(None,)), layers.Embedding(12, 3),
                               layers.GlobalAveragePooling1D(), layers.Dense(1)])
    plain.compile(optimizer="adam", loss="mse")
    page = report.render(plain, x, np.zeros((2, 1)))
    assert "no recurrent layer" in section(page, "gradient")
    assert "no recurrent layer" in section(page, "gates")


def test_padding_is_left_out_and_a_backward_layer_is_shown_in_the_texts_order(rng,
                                                                                monkeypatch):
    model = tagger()
    x, y = tagging_data(rng, rows=1)
    x[0, 4:] = 0
    drawn = []
    monkeypatch.setattr(report.figures, "gates",
                        lambda traces, words, cell, title: drawn.append((traces, words, title))
                        or b"\x89PNG\r\n\x1a\n")
    report.render(model, x, y, words=[[f"w{t}" if i else None for t, i in enumerate(x[0])]])
    (forward, words, _), (backward, _, title), _ = drawn
    assert words == ["w0", "w1", "w2", "w3"] and "both/backward" in title
    traced = diagnostics.gate_activations(model, x, layer="both/backward")  # reading order
    np.testing.assert_array_equal(backward["f"][0], traced["f"][0, ::-1][:4])
    assert forward["h_t"].shape == (1, 4, 3)


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    path.write_text("the old page")

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        report.write(path, "<!DOCTYPE html>")
    assert path.read_text() == "the old page"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temporary left
    monkeypatch.undo()
    assert report.write(path, "new") == os.fspath(path) and path.read_text() == "new"
