"""plot_gates: one heatmap per gate or state, the words on the x axis."""
import sys

import numpy as np
import pytest

from bptt import diagnostics


def traces(rng):
    return {"f": rng.uniform(size=(2, 4, 5)), "c_t": rng.normal(size=(2, 4, 5))}


def test_one_panel_per_name_with_the_words_below(rng):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    words = ["a", "fine", "film", "."]
    data = traces(rng)
    fig = diagnostics.plot_gates(data, words, names=("f", "c_t"), units=[0, 3], sample=1)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2
    assert [label.get_text() for label in panels[-1].get_xticklabels()] == words
    np.testing.assert_array_equal(panels[0].images[0].get_array(), data["f"][1][:, [0, 3]].T)
    assert panels[0].images[0].get_clim() == (0.0, 1.0)
    low, high = panels[1].images[0].get_clim()
    matplotlib.pyplot.close(fig)
    assert low == -high == -np.abs(data["c_t"][1][:, [0, 3]]).max()


def test_bad_names_and_word_counts_say_what_to_pass(rng):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="no \\['g'\\]"):
        diagnostics.plot_gates(traces(rng), list("abcd"), names=("g",))
    with pytest.raises(ValueError, match="3 words for a sequence of 4 steps"):
        diagnostics.plot_gates(traces(rng), list("abc"))


def test_without_matplotlib_the_error_names_the_install(rng, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install"):
        diagnostics.plot_gates(traces(rng), list("abcd"))
