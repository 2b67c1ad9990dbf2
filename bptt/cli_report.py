"""`bptt report MODEL --data imdb|udpos`: one self-contained HTML page on a saved model.

The page (bptt.report) holds the model's summary, its training curves (from --history, the CSV
that bptt.callbacks.CSVLogger wrote during fit), the gradient flowing back through time in each
recurrent layer and the gates over the words of a few test examples of the data:

    imdb   test reviews of bptt.datasets.imdb, encoded as `bptt predict` encodes texts
           (num_words: the input_dim of the model's Embedding; maxlen: its input length, 50
           where that is not fixed), short ones first so that a whole review is shown; their
           labels give the loss. The model gives one score per review: one sigmoid unit, or a
           softmax over 2 classes.
    udpos  test sentences of bptt.datasets.udpos, as examples/tagging.py encodes them (words
           lowercased when the Embedding's input_dim is the lowercased vocabulary's size);
           their tags give the loss. The model gives a softmax over the 18 tag ids per word.

The page is written to --out (MODEL with .html by default) through a temporary file, so an old
page stays whole if anything fails. Needs matplotlib: pip install 'bptt[plot]'.
"""
import argparse
import os

import numpy as np

from bptt.cli_predict import DEFAULT_MAXLEN, InputError, word_ids_input

DATA = ("imdb", "udpos")


# --- arguments --------------------------------------------------------------------------------

def count(text):
    """argparse type of --examples: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of examples >= 1, got {text!r}")
    return value


def output_path(model_path, out):
    """Where the page goes: --out, or the model's path with .html; its folder must exist."""
    path = out if out is not None else os.path.splitext(model_path)[0] + ".html"
    if os.path.isdir(path):
        raise InputError(f"--out {path!r} is a folder: give the path of the HTML file to write, "
                         f"e.g. {os.path.join(path, 'report.html')!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {path!r}: the folder {folder!r} does not exist; create "
                         "it or give --out in an existing folder")
    return path


def history(path):
    """The History in a CSVLogger file, or None without --history."""
    from bptt.report import read_csv_history

    if path is None:
        return None
    if os.path.isdir(path):
        raise InputError(f"--history {path!r} is a folder: give the CSV file that "
                         "bptt.callbacks.CSVLogger wrote")
    try:
        return read_csv_history(path)
    except UnicodeDecodeError:
        raise InputError(f"--history {path!r} is not UTF-8 text: give the CSV file that "
                         "bptt.callbacks.CSVLogger wrote")
    except OSError as error:
        raise InputError(f"cannot read --history {path!r}: {error.strerror or error}")
    except ValueError as error:
        raise InputError(f"--history: {error}")


# --- does the model fit the data? --------------------------------------------------------------

def _word_ids_input(model, data):
    """(input_dim of the first Embedding, fixed input length or None) of a model that reads word
    ids (batch, words); an InputError otherwise."""
    return word_ids_input(model, f"--data {data}", lambda shape, name: (
        f"--data {data} feeds word ids (batch, words), which the model must read through an "
        f"Embedding first (as examples/{'sentiment' if data == 'imdb' else 'tagging'}.py "
        f"builds it); this model takes {shape} into {name}: give a model trained on {data}"))


def _output(model):
    """(output shape, last layer's activation name) of a one-output model."""
    from bptt.models import Functional

    if isinstance(model, Functional):
        if len(model.outputs) != 1:
            raise InputError(f"the model has {len(model.outputs)} outputs; bptt report reads "
                             "models with one")
        tensor = model.outputs[0]
        shape, layer = tensor.shape, tensor.node.layer
    else:
        shape, layer = model.output_shape, model.layers[-1]
    while hasattr(layer, "layer") and "activation" not in layer.get_config():
        layer = layer.layer  # TimeDistributed(Dense(...)): the wrapped layer's activation
    activation = layer.get_config().get("activation")
    return tuple(shape), getattr(activation, "__name__", activation)


def _compile_for_imdb(model):
    shape, activation = _output(model)
    if shape[1:] == (1,) and activation == "sigmoid":
        model.compile(loss="binary_crossentropy")
    elif len(shape) == 2 and shape[1] == 2 and activation == "softmax":
        model.compile(loss="sparse_categorical_crossentropy")
    else:
        raise InputError(
            f"--data imdb needs a model that gives one score per review, one sigmoid unit "
            f"(output (None, 1)) or a softmax over 2 classes (None, 2); this one gives {shape} "
            f"with activation {activation}: give a sentiment model (examples/sentiment.py)")


def _compile_for_udpos(model, tags):
    shape, activation = _output(model)
    if len(shape) != 3 or shape[2] != len(tags) or activation != "softmax":
        raise InputError(
            f"--data udpos needs a tagger with a softmax over the {len(tags)} tag ids for each "
            f"word, output (None, None, {len(tags)}); this one gives {shape} with activation "
            f"{activation}: give a model trained as examples/tagging.py trains one")
    model.compile(loss="sparse_categorical_crossentropy")


# --- the examples -----------------------------------------------------------------------------

def imdb_examples(model, wanted):
    """x (N, maxlen), y (N,), words and titles of `wanted` test reviews, and a note."""
    from bptt.cli_predict import _describe, _outputs
    from bptt.datasets import imdb
    from bptt.datasets.text import text_to_word_sequence

    num_words, maxlen = _word_ids_input(model, "imdb")
    _compile_for_imdb(model)
    maxlen = maxlen or DEFAULT_MAXLEN
    (_, _), (texts, labels) = imdb.load_texts()
    tokens = [text_to_word_sequence(text) for text in texts]
    whole = [row for row, words in enumerate(tokens) if 10 <= len(words) + 1 <= maxlen]
    rows = _alternate(whole, labels, wanted)
    if len(rows) < wanted:  # too few short reviews: the shortest others, cut as predict cuts
        others = sorted(set(range(len(texts))) - set(rows), key=lambda row: len(tokens[row]))
        rows += others[:wanted - len(rows)]
    tokenizer = imdb.get_tokenizer(num_words)
    x = tokenizer.encode([texts[row] for row in rows], maxlen=maxlen)  # (N, maxlen)
    y = labels[rows]
    words = []
    for row, ids in zip(rows, x):
        read = (["<start>"] + tokens[row])[-maxlen:]  # what the kept ids stand for
        shown = [f"({word})" if i == 2 else word for word, i in zip(read, ids[-len(read):])]
        words.append([None] * (maxlen - len(read)) + shown)
    (_, activation, units, layer), = _outputs(model)
    header, scores = _describe(activation, units, model.predict(x, verbose=0), layer)
    titles = []
    for row, label, score in zip(rows, y, scores):
        length = len(tokens[row])
        cut = f", cut to its last {maxlen - 1}" if length >= maxlen else ""
        titles.append(f"Test review {row + 1} ({'positive' if label else 'negative'}, "
                      f"{length} words{cut}); the model's {header}: {score}")
    note = (f"Data: {len(rows)} test reviews of bptt.datasets.imdb, encoded as bptt predict "
            f"encodes texts (num_words {num_words}, maxlen {maxlen}); words in parentheses are "
            "out of the model's vocabulary (id 2).")
    return x, y, words, titles, note


def _alternate(rows, labels, wanted):
    """Up to `wanted` of the rows, positive and negative in turn while both last."""
    by_label = [[row for row in rows if labels[row] == label] for label in (1, 0)]
    chosen = []
    while len(chosen) < wanted and any(by_label):
        for group in by_label:
            if group and len(chosen) < wanted:
                chosen.append(group.pop(0))
    return chosen


def udpos_examples(model, wanted):
    """x (N, T), y (N, T), words and titles of `wanted` test sentences, and a note."""
    from bptt.datasets import udpos

    input_dim, length = _word_ids_input(model, "udpos")
    cased = udpos.load_ids()
    lowered = udpos.load_ids(lowercase=True)
    lowercase = input_dim == len(lowered[3][0]) != len(cased[3][0])
    num_words = input_dim if input_dim < len((lowered if lowercase else cased)[3][0]) else None
    (_, _), (_, _), (x_test, y_test), (vocabulary, tags) = udpos.load_ids(
        num_words=num_words, lowercase=lowercase)
    _compile_for_udpos(model, tags)
    (_, _), (_, _), (forms, _) = udpos.load_data(lowercase=lowercase)
    longest = length or 40
    rows = [row for row, sentence in enumerate(x_test) if 5 <= len(sentence) <= longest][:wanted]
    if not rows:
        raise InputError(f"the model reads sentences of {length} words, and no test sentence of "
                         "udpos has 5 to that many: give a tagger whose input length is not fixed")
    steps = length or max(len(x_test[row]) for row in rows)
    x = np.zeros((len(rows), steps), dtype="int32")
    y = np.zeros((len(rows), steps), dtype="int32")
    words, titles = [], []
    for i, row in enumerate(rows):
        n = len(x_test[row])
        x[i, :n], y[i, :n] = x_test[row], y_test[row]
        words.append([f"({w})" if k == 1 else w for w, k in zip(forms[row], x_test[row])]
                     + [None] * (steps - n))
    guesses = np.asarray(model.predict(x, verbose=0)).argmax(axis=-1)  # (N, T)
    for i, row in enumerate(rows):
        n = len(x_test[row])
        wrong = [f"{forms[row][t]} {tags[y[i, t]]}, said {tags[guesses[i, t]]}"
                 for t in range(n) if guesses[i, t] != y[i, t]]
        missed = "; ".join(wrong[:5]) + ("; ..." if len(wrong) > 5 else "")
        titles.append(f"Test sentence {row + 1}: {n - len(wrong)} of {n} words tagged right"
                      + (f"; missed: {missed}" if wrong else ""))
    note = (f"Data: {len(rows)} test sentences of bptt.datasets.udpos, words "
            f"{'lowercased, ' if lowercase else ''}as ids of its training vocabulary"
            f"{f' cut to {num_words} ids' if num_words else ''}; words in parentheses are out "
            "of the model's vocabulary (id 1).")
    return x, y, words, titles, note


EXAMPLES = {"imdb": imdb_examples, "udpos": udpos_examples}


def run(args, load):
    """The command: check everything cheap first, then load, trace, draw and write."""
    from bptt.report import figures, write_report

    figures.require_matplotlib()
    path = output_path(args.model, args.out)
    curves = history(args.history)
    model = load(args.model)
    x, y, words, titles, note = EXAMPLES[args.data](model, args.examples)
    no_history = ("No training history was given: pass --history FILE, the CSV that "
                  "bptt.callbacks.CSVLogger wrote during fit.")
    write_report(path, model, x, y, words=words, titles=titles, history=curves,
                 source=f"Model file: {os.path.abspath(args.model)}", notes=[note],
                 no_history=no_history)
    print(f"wrote {path}")
