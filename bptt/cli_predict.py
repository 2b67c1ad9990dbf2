"""`bptt predict MODEL TEXT ...`: score texts with a saved model that reads word ids.

Each text is encoded as bptt.datasets.imdb encodes reviews (num_words: the input_dim of the
model's Embedding; maxlen: its input length, 50 where that is not fixed). Each text's scores
come on one line, the text last, under a `#` line saying what they are, read from the
activation and width of the output's last layer:

    one sigmoid unit            P(positive)
    one unit, other activation  the raw value, labelled as not a probability
    softmax over K units        each class's probability (i:p), then the top class
    K sigmoid units             each unit's probability (independent labels)
    K units, other activation   the raw values (i:v), then the index of the largest

A model with several outputs gets one such block per output, named.
"""
import sys

import numpy as np

DEFAULT_MAXLEN = 50  # for a model whose input length is not fixed (the tutorial's length)


class InputError(Exception):
    """Bad usage or input (arguments, model file, texts): the command exits with status 2."""


# --- texts -----------------------------------------------------------------------------------

def read_texts(arguments, file):
    """The texts to score: the arguments, then the lines of `file` ('-': stdin); stdin's lines
    when neither is given. Refuses an empty text, and a file or stdin with no line of text."""
    texts = []
    for number, text in enumerate(arguments, start=1):
        if not text.strip():
            raise InputError(f"text {number} is empty: give a text with words, e.g. "
                             "bptt predict MODEL \"a great film\"")
        texts.append((f"text {number}", text))
    if file is None and not arguments:
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("no text to score: give texts after MODEL, --file FILE, or one text "
                             "per line on stdin")
        file = "-"
    if file is not None:
        texts += _lines(file)
    return [_check_words(where, text) for where, text in texts]


def _lines(file):
    """(where, line) for each line of `file` that holds more than spaces."""
    name = "stdin" if file == "-" else repr(file)
    try:
        if file == "-":
            content = sys.stdin.read()
        else:
            with open(file, encoding="utf-8") as handle:
                content = handle.read()
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text: give a text file, one text per line")
    except OSError as error:
        raise InputError(f"cannot read texts from {name}: {error.strerror or error}")
    lines = [(f"{name} line {number}", line)
             for number, line in enumerate(content.splitlines(), start=1) if line.strip()]
    if not lines:
        raise InputError(f"{name} holds no text (it is empty or blank): put one text per line")
    return lines


def _check_words(where, text):
    from bptt.datasets.text import text_to_word_sequence

    if not text_to_word_sequence(text):
        raise InputError(f"{where} ({text.strip()!r}) has no words to score")
    return text


# --- the model --------------------------------------------------------------------------------

def word_ids_input(model, feeder, refusal):
    """(input_dim of the first Embedding, the input's length or None) of a model that reads word
    ids (batch, words) through an Embedding; an InputError otherwise. `feeder` names what feeds
    the ids ("bptt predict"); refusal(shape, layer type name) says why a model does not fit."""
    from bptt.layers import Embedding, InputLayer
    from bptt.models import Functional

    if isinstance(model, Functional):
        if len(model.inputs) != 1:
            raise InputError(f"the model takes {len(model.inputs)} inputs; {feeder} feeds it "
                             "one array of word ids")
        shape = model.inputs[0].shape
    else:
        shape = getattr(model, "_build_input_shape", None)  # None: never built, no input shape
    first = next((layer for layer in model.layers if not isinstance(layer, InputLayer)), None)
    if shape is None or len(shape) != 2 or not isinstance(first, Embedding):
        raise InputError(refusal(shape, type(first).__name__))
    return first.input_dim, shape[1]


def _word_ids_input(model):
    """(num_words, maxlen) of a model that reads word ids through an Embedding."""
    num_words, maxlen = word_ids_input(model, "bptt predict", lambda shape, name: (
        f"bptt predict needs a model that reads word ids (batch, words) through an Embedding "
        f"first, as examples/sentiment.py builds; this one takes {shape} into {name}"))
    return num_words, maxlen or DEFAULT_MAXLEN


def _outputs(model):
    """[(name, activation, units, last layer)] for each output of the model; a name where there
    are several, an activation name or None where the last layer has none (Flatten, pooling)."""
    from bptt.models import Functional

    if isinstance(model, Functional):
        found = [(name, tensor.node.layer, tensor.shape)
                 for name, tensor in zip(model.output_names, model.outputs)]
    else:
        found = [(None, model.layers[-1], model.output_shape)]
    outputs = []
    for name, layer, shape in found:
        if len(shape) != 2:
            raise InputError(
                f"the model's output{f' {name!r}' if name else ''} has shape {shape}, one row per "
                "word; bptt predict scores whole texts, one row of outputs per text")
        activation = layer.get_config().get("activation")  # a name, as saved
        outputs.append((name, getattr(activation, "__name__", activation), shape[1], layer))
    return outputs


# --- printing ---------------------------------------------------------------------------------

def print_scores(model, texts):
    """Encode the texts, run the model, and print what each output says about each text."""
    from bptt.datasets import imdb

    num_words, maxlen = _word_ids_input(model)
    outputs = _outputs(model)
    ids = imdb.encode(texts, num_words=num_words, maxlen=maxlen)  # (N, maxlen)
    values = model.predict(ids, verbose=0)
    if isinstance(values, dict):
        values = [values[output[0]] for output in outputs]
    elif not isinstance(values, (list, tuple)):
        values = [values]
    for (name, activation, units, layer), value in zip(outputs, values):
        header, rows = _describe(activation, units, np.asarray(value), layer)
        print(f"# {f'output {name!r}: ' if len(outputs) > 1 else ''}{header}")
        for row, text in zip(rows, texts):
            print(f"{row}  {text}")


def _describe(activation, units, values, layer):
    """(header, one row per text) for the (N, units) values of an output."""
    if activation is None:  # nothing says what the numbers are: print them, say only that
        return (f"raw output of a {type(layer).__name__} layer, which has no activation",
                [_indexed(row, "{:.4g}") if units > 1 else f"{row[0]:.4g}" for row in values])
    if units == 1 and activation == "sigmoid":
        return "P(positive) (one sigmoid unit)", [f"{v:.3f}" for v in values[:, 0]]
    if units == 1:
        return (f"raw output, not a probability (one {activation} unit)",
                [f"{v:.4g}" for v in values[:, 0]])
    if activation == "sigmoid":
        return (f"P(label i) for each of {units} independent sigmoid units",
                [_indexed(row, "{:.3f}") for row in values])
    top = values.argmax(axis=1)
    if activation == "softmax":
        return (f"probability of each of {units} classes (softmax), then the top class",
                [f"{_indexed(row, '{:.3f}')}  top {k}" for row, k in zip(values, top)])
    return (f"raw outputs, not probabilities ({units} {activation} units), then the largest",
            [f"{_indexed(row, '{:.4g}')}  top {k}" for row, k in zip(values, top)])


def _indexed(row, number):
    return " ".join(f"{i}:{number.format(v)}" for i, v in enumerate(row))
