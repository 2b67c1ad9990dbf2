"""The LSTM's clipboard, read word by word: what the forget gate wipes and what the cell carries.

A small sentiment model (the setup of examples/sentiment.py, smaller: one LSTM of 32 units)
is trained for one epoch on IMDB reviews cut to their last 50 words. Then the short test review
that it classifies correctly with the most confidence is traced with
bptt.diagnostics.gate_activations, and plot_gates draws over its words the forget gate f_t and
the cell state c_t of the 16 units whose cell state ends farthest from 0 (what the cell carries
to the end, where the Dense layer reads h_T = o_T * tanh(c_T)). It prints the word that
changes those cells most, and the forget gates before and after it.

    .venv/bin/python examples/clipboard.py [--out docs/images/clipboard.png] [--quick]

--quick trains on 2,000 reviews instead of 25,000 (a check that it runs, not a good picture).
"""
import argparse
import sys

import numpy as np

from bptt import diagnostics, layers, models
from bptt.datasets import imdb
from bptt.utils import set_random_seed

NUM_WORDS, MAXLEN, UNITS, SHOWN = 20000, 50, 32, 16


def words_of(ids, index):
    """One token per id: '<start>' for 1, '?' for an out-of-vocabulary word."""
    names = {1: "<start>", 2: "?"}
    return [names.get(int(i), index.get(int(i), "?")) for i in ids]


def pick_review(model, x, y, low=20, high=45):
    """Of the first 200 reviews of low..high words (all of each within MAXLEN), the one the model
    gets right with the most confidence -> (its ids without padding, its label, P(positive))."""
    lengths = (x != 0).sum(axis=1)
    candidates = np.flatnonzero((lengths >= low) & (lengths <= high))[:200]
    p = model.predict(x[candidates], verbose=0)[:, 0]
    confidence = np.where(y[candidates] == 1, p, 1 - p)  # P(the true class)
    row = candidates[int(np.argmax(confidence))]
    prob = float(p[int(np.argmax(confidence))])
    return x[row][x[row] != 0], int(y[row]), prob


def strongest_units(cell_states, count):
    """The `count` units whose final cell state is largest in magnitude, in unit order."""
    return np.sort(np.argsort(-np.abs(cell_states[-1]))[:count])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/clipboard.png")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        sys.exit("This example draws a picture: pip install matplotlib")
    set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=NUM_WORDS, maxlen=MAXLEN)
    if args.quick:
        x_train, y_train = x_train[:2000], y_train[:2000]
    model = models.Sequential([layers.Embedding(NUM_WORDS, 32), layers.LSTM(UNITS, name="lstm"),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=1, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    ids, label, prob = pick_review(model, x_test, y_test)
    index = {rank + 3: word for word, rank in imdb.get_word_index().items()}
    words = words_of(ids, index)
    traces = diagnostics.gate_activations(model, ids[None], layer="lstm")
    units = strongest_units(traces["c_t"][0], SHOWN)
    fig = diagnostics.plot_gates(traces, words, names=("f", "c_t"), units=units)
    fig.suptitle(f"LSTM({UNITS}) after 1 epoch (test accuracy {accuracy:.3f}): a "
                 f"{'positive' if label else 'negative'} review, P(positive) = {prob:.3f}",
                 fontsize=9)
    fig.savefig(args.out, dpi=80, bbox_inches="tight")
    print(f"test accuracy {accuracy:.4f}; review ({'positive' if label else 'negative'}, "
          f"P(positive) {prob:.3f}): {' '.join(words)}")
    print(f"units shown: {units.tolist()}; mean f over the review per unit: "
          + " ".join(f"{v:.2f}" for v in traces['f'][0][:, units].mean(axis=0)))
    print(f"c_T of those units: " + " ".join(f"{v:+.2f}" for v in traces['c_t'][0, -1, units]))
    c, f = traces["c_t"][0][:, units], traces["f"][0][:, units]  # (T, shown)
    change = np.abs(np.diff(c, axis=0, prepend=0)).sum(axis=1)  # (T,) how much each word writes
    k = int(np.argmax(change))
    print(f"the word that changes the shown cells most: {words[k]!r} (word {k + 1}); mean f of "
          f"the shown units before it {f[:k].mean():.2f}, after it {f[k + 1:].mean():.2f}; "
          f"mean |c_t| just before it {np.abs(c[k - 1]).mean():.2f}, after it "
          f"{np.abs(c[k]).mean():.2f}, at the end {np.abs(c[-1]).mean():.2f}")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
