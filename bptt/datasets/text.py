"""Text to word ids and back, with the conventions of Keras' IMDB data.

Cleaning: lowercase, '<br />' line breaks out, then words are runs of letters and digits,
with apostrophes kept inside a word ("don't", "o'brien"): `text_to_word_sequence`.

Ranks: every word seen when fitting gets a rank by frequency, 1 the most frequent, ties broken
alphabetically (so the ranks are the same on every machine).

Ids, as `keras.datasets.imdb.load_data` gives them (defaults in brackets):
    0                       padding (added by `pad_sequences`, never by the tokenizer)
    start_char [1]          the first id of every sequence (None: no start id)
    oov_char [2]            a word out of the vocabulary (None: such words are dropped)
    rank + index_from [3]   a word: the most frequent one is 4
A word is out of the vocabulary when it was never seen while fitting, when its id is
>= num_words (num_words counts every id, 0..index_from included, like Keras), or when it is one
of the `skip_top` most frequent words.
"""
import re
from collections import Counter

import numpy as np

from bptt.utils.sequence import pad_sequences

_LINE_BREAK = re.compile(r"<br\s*/?>")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # letters/digits, apostrophes only inside a word


def text_to_word_sequence(input_text):
    """'A great<br />film, isn\u2019t it?' -> ['a', 'great', 'film', "isn't", 'it']."""
    # typographic apostrophes as "'" (str.replace: much faster than translate here)
    text = input_text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("\u00b4", "'")
    return _WORD.findall(_LINE_BREAK.sub(" ", text))


def rank_words(word_counts):
    """{word: count} -> {word: rank}: rank 1 is the most frequent, ties alphabetical."""
    ordered = sorted(word_counts.items(), key=lambda item: (-item[1], item[0]))
    return {word: rank for rank, (word, _) in enumerate(ordered, start=1)}


def check_conventions(num_words=None, skip_top=0, start_char=1, oov_char=2, index_from=3):
    """Raise a ValueError naming what was expected if the id conventions do not fit together."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if not is_int(index_from) or index_from < 0:
        raise ValueError(f"index_from must be an int >= 0, got {index_from!r}.")
    for name, v in (("start_char", start_char), ("oov_char", oov_char)):
        if v is not None and (not is_int(v) or not 0 <= v <= index_from):
            raise ValueError(
                f"{name} must be None or an int in [0, index_from={index_from}] (ids above "
                f"index_from are words), got {v!r}."
            )
    if num_words is not None and (not is_int(num_words) or num_words < index_from + 2):
        raise ValueError(
            f"num_words counts every id, the reserved 0..index_from={index_from} included, so "
            f"it must be None or an int >= {index_from + 2} to keep at least one word; "
            f"got {num_words!r}."
        )
    if not is_int(skip_top) or skip_top < 0:
        raise ValueError(f"skip_top must be an int >= 0, got {skip_top!r}.")


def ranks_to_ids(ranks, offsets, num_words=None, skip_top=0, start_char=1, oov_char=2,
                 index_from=3):
    """Word ranks of many sequences, stored flat, -> their ids under the conventions above.

    Args:
        ranks: (L,) int, the ranks of all sequences one after another; 0 = never seen.
        offsets: (N + 1,) int, sequence i is ranks[offsets[i]:offsets[i + 1]].

    Returns:
        (ids, offsets): (L',) int32 ids and (N + 1,) int64 offsets in the same layout, with a
        start id in front of each sequence and out-of-vocabulary words replaced or dropped.
    """
    check_conventions(num_words, skip_top, start_char, oov_char, index_from)
    ranks = np.asarray(ranks, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    ids = ranks + index_from  # (L,)
    oov = (ranks == 0) | (ranks <= skip_top)
    if num_words is not None:
        oov |= ids >= num_words
    if oov_char is None:
        kept_before = np.concatenate([[0], np.cumsum(~oov)])  # (L + 1,)
        ids, offsets = ids[~oov], kept_before[offsets]
    else:
        ids[oov] = oov_char
    if start_char is not None:
        ids = np.insert(ids, offsets[:-1], start_char)
        offsets = offsets + np.arange(len(offsets))
    return ids.astype(np.int32), offsets


def _check_texts(texts):
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, got one str; wrap it: [text].")
    return list(texts)


class Tokenizer:
    """Words -> ids and back, the way `bptt.datasets.imdb` encodes its reviews.

    Build it from texts (`fit_on_texts`) or from a ready {word: rank} index (`word_index=`,
    e.g. `imdb.get_word_index()`). Unlike `keras.preprocessing.text.Tokenizer`, ids follow
    the IMDB conventions (start id, out-of-vocabulary id, ids = rank + index_from); see the
    module docstring.

    >>> tok = Tokenizer(num_words=6).fit_on_texts(["the film, the end", "a film"])
    >>> tok.word_index
    {'film': 1, 'the': 2, 'a': 3, 'end': 4}
    >>> tok.texts_to_sequences(["The end of the film"])
    [[1, 5, 2, 2, 5, 4]]
    >>> tok.sequences_to_texts([[0, 1, 5, 2, 4]])
    ['the ? film']
    """

    def __init__(self, num_words=None, skip_top=0, start_char=1, oov_char=2, index_from=3,
                 word_index=None):
        check_conventions(num_words, skip_top, start_char, oov_char, index_from)
        self.num_words = num_words
        self.skip_top = skip_top
        self.start_char = start_char
        self.oov_char = oov_char
        self.index_from = index_from
        self.word_index = {}
        self._index_word = []  # word of rank r at position r - 1
        if word_index is not None:
            self._set_word_index(word_index)

    def _set_word_index(self, word_index):
        ranks = sorted(word_index.values())
        if ranks != list(range(1, len(ranks) + 1)):
            raise ValueError("word_index must map each word to a distinct rank 1, 2, ..., n.")
        self.word_index = dict(word_index)
        self._index_word = sorted(word_index, key=word_index.get)

    def fit_on_texts(self, texts):
        """Rank the words of `texts` by frequency (replacing any index); returns self."""
        counts = Counter()
        for text in _check_texts(texts):
            counts.update(text_to_word_sequence(text))
        self._set_word_index(rank_words(counts))
        return self

    def texts_to_sequences(self, texts):
        """['a great film'] -> [[start, id('a'), id('great'), id('film')]], lists of ints."""
        words = [text_to_word_sequence(text) for text in _check_texts(texts)]
        lengths = [len(w) for w in words]
        ranks = [self.word_index.get(word, 0) for ws in words for word in ws]
        offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        ids, offsets = ranks_to_ids(ranks, offsets, self.num_words, self.skip_top,
                                    self.start_char, self.oov_char, self.index_from)
        ids = ids.tolist()
        return [ids[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]

    def encode(self, texts, maxlen=None):
        """texts -> (N, maxlen) int32, padded in front as `pad_sequences` does; with
        maxlen=None, an object array of lists as `imdb.load_data` returns."""
        sequences = self.texts_to_sequences(texts)
        if maxlen is not None:
            return pad_sequences(sequences, maxlen=maxlen)
        out = np.empty(len(sequences), dtype=object)
        for i, s in enumerate(sequences):
            out[i] = s
        return out

    def sequence_to_text(self, sequence, oov_token="?"):
        """Ids -> 'words joined by spaces'; padding and start ids are left out, and ids with
        no word (out of vocabulary, or reserved) read `oov_token`."""
        words = []
        for i in np.asarray(sequence, dtype=np.int64).ravel().tolist():
            if i == 0 or i == self.start_char:
                continue
            rank = i - self.index_from
            words.append(self._index_word[rank - 1] if 1 <= rank <= len(self._index_word)
                         else oov_token)
        return " ".join(words)

    def sequences_to_texts(self, sequences, oov_token="?"):
        """A list of id sequences (or an (N, T) array) -> a list of strings."""
        return [self.sequence_to_text(s, oov_token) for s in sequences]
