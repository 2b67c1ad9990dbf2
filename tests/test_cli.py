"""The `bptt` command: summary, predict and info on a saved model."""
import numpy as np

from bptt import cli, layers, models


def _sentiment_model(path):
    model = models.Sequential([layers.Input(shape=(20,)), layers.Embedding(300, 4),
                               layers.GRU(3), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.save(path)
    return model


def test_summary_and_predict(tmp_path, capsys):
    path = tmp_path / "m.bptt"
    model = _sentiment_model(path)
    assert cli.main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Total params: {model.count_params():,}" in out
    assert cli.main(["predict", str(path), "a great film", "an awful film"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].endswith("a great film")
    from bptt.datasets import imdb
    expected = model.predict(imdb.encode(["a great film"], num_words=300, maxlen=20), verbose=0)
    assert float(lines[0].split()[0]) == round(float(expected[0, 0]), 3)


def test_info(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "bptt" in out and "kernels" in out and "openblas" in out.lower()
