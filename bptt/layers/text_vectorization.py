"""Keras' TextVectorization in "int" mode: strings -> standardize -> split -> integer ids.

Vocabulary: index 0 is "" (padding, the mask token), 1 is "[UNK]" (every unknown token), then
the learned or given tokens. `adapt` counts every token occurrence and orders the tokens by
count, most frequent first, ties by the token itself in reverse (UTF-8 byte order, which is
code point order), keeping max_tokens - 2 of them; "" and "[UNK]" are never learned.

Standardization, as Keras' TensorFlow ops do it: "lower" lowercases the ASCII letters A-Z only
(tf.strings.lower's default encoding), so "ÉCOLE" becomes "École"; "strip_punctuation" removes
the ASCII punctuation characters with Keras' own pattern (below). "whitespace" splits on runs of
the ASCII whitespace characters (space, \\t, \\n, \\v, \\f, \\r), not on Unicode spaces such as
"\\xa0"; "character" splits into code points.

Output: int64 ids (B, T), T = output_sequence_length (padded with 0 or truncated at the end),
else the longest sequence in the batch. The layer has no weights and passes no gradient (its
input is text): it prepares data before a model, or is the first layer of one.

Callables: `standardize` gets a NumPy array of str (the input's shape) and returns one of the
same shape; `split` gets the 1-D array of standardized strings and returns one sequence of
tokens per string. Keras' other output modes, ngrams, sparse and ragged outputs are not here.
"""
import collections
import os
import re

import numpy as np

from bptt.layers.base import Layer

MASK_TOKEN = ""
OOV_TOKEN = "[UNK]"
_TOKEN_START = 2  # ids 0 and 1 are the mask and OOV tokens
# Keras' pattern (text_vectorization.py), the ASCII punctuation characters.
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_WHITESPACE_RUN = re.compile(r"[ \t\n\v\f\r]+")
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _check_choice(name, value, choices):
    if value is not None and not callable(value) and value not in choices:
        raise ValueError(f"TextVectorization {name} must be None, a callable or one of "
                         f"{choices}; got {name}={value!r}.")


class TextVectorization(Layer):
    output_dtype = "int64"  # the dtype of its symbolic outputs, as Keras'

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        _check_choice("standardize", standardize, _STANDARDIZE)
        _check_choice("split", split, _SPLIT)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"TextVectorization output_mode must be one of {_OUTPUT_MODES}; "
                             f"got output_mode={output_mode!r}.")
        if output_mode != "int":
            raise NotImplementedError(
                f"TextVectorization(output_mode={output_mode!r}) is not supported: bptt has "
                "output_mode='int' only. Take the ids and one-hot them with "
                "utils.to_categorical, or feed them to an Embedding layer.")
        if not (ngrams is None or isinstance(ngrams, int)
                or isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams)):
            raise ValueError(f"ngrams must be None, an int or a tuple of ints; got "
                             f"ngrams={ngrams!r}.")
        if ngrams is not None:
            raise NotImplementedError(
                f"TextVectorization(ngrams={ngrams!r}) is not supported: bptt splits into single "
                "tokens only (ngrams=None); a recurrent layer sees the word order itself.")
        if output_sequence_length is not None and (
                not isinstance(output_sequence_length, (int, np.integer))
                or isinstance(output_sequence_length, bool) or output_sequence_length < 0):
            raise ValueError(f"output_sequence_length must be None or an int of 0 or more; got "
                             f"output_sequence_length={output_sequence_length!r}.")
        if sparse or ragged:
            raise ValueError("TextVectorization sparse=True and ragged=True need TensorFlow "
                             "tensors; bptt returns dense NumPy arrays (ragged rows padded "
                             "with 0). Leave both False.")
        if idf_weights is not None:
            raise ValueError("idf_weights are for output_mode='tf_idf' only; got idf_weights "
                             "with output_mode='int'.")
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"max_tokens must be None or above 1; got max_tokens={max_tokens}.")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("pad_to_max_tokens=True needs max_tokens to be set.")
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("vocabulary_size", None)  # written by get_config, as Keras' is
        super().__init__(name=name, **kwargs)
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.output_sequence_length = (None if output_sequence_length is None
                                       else int(output_sequence_length))
        self.pad_to_max_tokens = pad_to_max_tokens
        self.encoding = encoding
        self._tokens = []
        self._index = {}
        self._counts = collections.Counter()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # -- vocabulary -------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in id order: ["", "[UNK]", tokens...] (tokens only when
        include_special_tokens=False)."""
        special = [MASK_TOKEN, OOV_TOKEN] if include_special_tokens else []
        return special + list(self._tokens)

    def vocabulary_size(self):
        """The number of ids, padding and OOV included."""
        return _TOKEN_START + len(self._tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Use these tokens (a list or 1-D array, with or without "" and "[UNK]" in front, or
        the path of a text file with one token per line) instead of adapting."""
        if idf_weights is not None:
            raise ValueError("idf_weights are for output_mode='tf_idf' only.")
        if isinstance(vocabulary, str):  # a file: every line is a token, as Keras reads it
            if not os.path.isfile(vocabulary):
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
            with open(vocabulary, encoding=self.encoding, newline="") as text:
                lines = text.read().split("\n")  # lines end at \n only, as TensorFlow's reader
            if lines and lines[-1] == "":
                lines.pop()
            tokens = [line[:-1] if line.endswith("\r") else line for line in lines]
        else:
            tokens = [str(token) for token in self._strings(np.asarray(vocabulary)).ravel()]
            if not tokens:
                raise ValueError("Cannot set an empty vocabulary.")
            if tokens[:_TOKEN_START] == [MASK_TOKEN, OOV_TOKEN]:
                tokens = tokens[_TOKEN_START:]
            repeated = [token for token, n in collections.Counter(tokens).items() if n > 1]
            if repeated:
                raise ValueError(f"The vocabulary repeats {repeated}: each token must appear "
                                 "once.")
            if MASK_TOKEN in tokens:
                raise ValueError(
                    f"The vocabulary has the padding token '' at position "
                    f"{tokens.index(MASK_TOKEN)}: leave '' and '[UNK]' out, or put them first "
                    "in that order.")
        if self.max_tokens is not None and _TOKEN_START + len(tokens) > self.max_tokens:
            raise ValueError(f"The vocabulary has {_TOKEN_START + len(tokens)} entries with "
                             f"'' and '[UNK]', above max_tokens={self.max_tokens}.")
        self._tokens = tokens
        self._index = {token: index for index, token in enumerate(tokens, _TOKEN_START)}

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from `data`: a list or array of strings (one batch), or any
        other iterable of batches of strings (a generator, a dataset); `steps` batches at most
        from an iterable."""
        self.reset_state()
        if isinstance(data, (str, bytes)):
            raise ValueError("adapt expects a list or array of strings (or an iterable of "
                             f"batches of them), got one {type(data).__name__}: wrap it in a "
                             "list.")
        if isinstance(data, (list, tuple, np.ndarray)) or not hasattr(data, "__iter__"):
            self.update_state(data)
        else:
            for index, batch in enumerate(data):
                if steps is not None and index >= steps:
                    break
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        """Count the tokens of one batch of strings."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}': it was given its vocabulary "
                             "with the `vocabulary` argument.")
        for tokens in self._tokenize(data):
            self._counts.update(tokens)

    def finalize_state(self):
        """Make the vocabulary from the counts (see the module docstring for the order)."""
        if self._has_input_vocabulary or not self._counts:
            return
        for special in (MASK_TOKEN, OOV_TOKEN):
            self._counts.pop(special, None)
        ranked = sorted(self._counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens:
            ranked = ranked[:self.max_tokens - _TOKEN_START]
        self._tokens = [token for token, _ in ranked]
        self._index = {token: index for index, token in enumerate(self._tokens, _TOKEN_START)}
        self.reset_state()

    def reset_state(self):
        self._counts = collections.Counter()

    # -- text to tokens ---------------------------------------------------------------------
    def _strings(self, values):
        """A NumPy array of str from str, bytes or an object array of either."""
        if values.dtype.kind == "U" or values.size == 0:
            return values.astype(str, copy=False)
        if values.dtype.kind == "S":
            return np.char.decode(values, self.encoding)
        if values.dtype.kind == "O":
            flat = [v.decode(self.encoding) if isinstance(v, bytes) else v for v in values.flat]
            if all(isinstance(v, str) for v in flat):
                return np.array(flat, dtype=str).reshape(values.shape)
        raise TypeError(f"TextVectorization expects strings, got an array of dtype "
                        f"{values.dtype}: pass text (str), not ids or numbers.")

    def _standardized(self, inputs):
        if hasattr(inputs, "numpy") and callable(inputs.numpy):  # an eager tensor
            inputs = inputs.numpy()
        strings = self._strings(np.asarray(inputs))
        if callable(self.standardize):
            return self._strings(np.asarray(self.standardize(strings)))
        lower = self.standardize in ("lower", "lower_and_strip_punctuation")
        strip = self.standardize in ("strip_punctuation", "lower_and_strip_punctuation")
        out = [_PUNCTUATION.sub("", s.translate(_ASCII_LOWER) if lower else s) if strip
               else (s.translate(_ASCII_LOWER) if lower else s) for s in strings.flat]
        return np.array(out, dtype=str).reshape(strings.shape)

    def _tokenize(self, inputs):
        """One list of tokens per example: with split=None each string is a token; otherwise
        the input is (B,) or (B, 1) and each string is split."""
        strings = self._standardized(inputs)
        if self.split is None:
            return [[str(s)] for s in strings.flat]
        if strings.ndim > 1 and strings.shape[-1] == 1:
            strings = strings[..., 0]
        if strings.ndim > 1:
            raise ValueError(
                f"TextVectorization splits one string per example: the input must be 1-D "
                f"(batch,) or (batch, 1); got shape {strings.shape}.")
        strings = strings.reshape(-1)  # (B,)
        if self.split == "whitespace":
            return [[token for token in _ASCII_WHITESPACE_RUN.split(s) if token]
                    for s in strings]
        if self.split == "character":
            return [list(s) for s in strings]
        split = list(self.split(strings))
        if len(split) != len(strings):
            raise ValueError(f"The split callable returned {len(split)} token lists for "
                             f"{len(strings)} strings: it must return one per string.")
        return [[token.decode(self.encoding) if isinstance(token, bytes) else str(token)
                 for token in tokens] for tokens in split]

    def _ids(self, tokens):
        return [0 if token == MASK_TOKEN else self._index.get(token, 1) for token in tokens]

    # -- the layer --------------------------------------------------------------------------
    def build(self, input_shape=None):
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.built = True

    def forward(self, x, training=False):
        """Strings (B,) or (B, 1) -> int64 ids (B, T); a single string -> (T,)."""
        x = np.asarray(x.numpy() if hasattr(x, "numpy") and callable(x.numpy) else x)
        if self.split is None:
            return self._forward_unsplit(x)
        ids = [self._ids(tokens) for tokens in self._tokenize(x)]
        length = self.output_sequence_length
        if length is None:
            length = max((len(row) for row in ids), default=0)
        out = np.zeros((len(ids), length), dtype=np.int64)  # (B, T), 0 = padding
        for row, row_ids in zip(out, ids):
            row_ids = row_ids[:length]
            row[:len(row_ids)] = row_ids
        return out[0] if x.ndim == 0 else out

    def _forward_unsplit(self, x):
        """split=None: each string is one token and the ids keep the input's shape."""
        strings = self._standardized(x)
        ids = np.array(self._ids(strings.flat), dtype=np.int64).reshape(strings.shape)
        length = self.output_sequence_length
        if length is None:
            return ids
        if ids.ndim < 2:
            raise ValueError(
                "TextVectorization(split=None, output_sequence_length=...) pads the last axis, "
                f"so give the strings as (batch, 1) or (batch, k); got shape {strings.shape} "
                "(Keras would pad or cut the batch axis here).")
        ids = ids[..., :length]
        return np.pad(ids, [(0, 0)] * (ids.ndim - 1) + [(0, length - ids.shape[-1])])

    def backward(self, dy):
        return None  # text has no gradient

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_sequence_length)

    def get_config(self):
        """Keras' keys; `vocabulary` is the current vocabulary (adapted or given, without ""
        and "[UNK]"), so from_config rebuilds a layer that maps text to the same ids."""
        config = super().get_config()
        config.update(
            max_tokens=self.max_tokens, standardize=self.standardize, split=self.split,
            ngrams=None, output_mode="int", output_sequence_length=self.output_sequence_length,
            pad_to_max_tokens=self.pad_to_max_tokens, sparse=False, ragged=False,
            vocabulary=list(self._tokens) if self._tokens else None, idf_weights=None,
            encoding=self.encoding, vocabulary_size=self.vocabulary_size(),
            has_input_vocabulary=self._has_input_vocabulary)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
