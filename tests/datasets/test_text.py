"""The tokenizer on small texts whose ids are worked out by hand."""
import numpy as np
import pytest

from bptt.datasets.text import (Tokenizer, check_conventions, rank_words, ranks_to_ids,
                                text_to_word_sequence)

TEXTS = ["the film, the end", "a film"]
# counts: film 2, the 2, a 1, end 1 -> ranks (ties alphabetical): film 1, the 2, a 3, end 4
# ids with the defaults (rank + 3): film 4, the 5, a 6, end 7


def test_text_to_word_sequence():
    text = "A GREAT<br />film, isn\u2019t it? Rated 10/10... 'quoted' caf\u00e9 o'brien's_x"
    assert text_to_word_sequence(text) == [
        "a", "great", "film", "isn't", "it", "rated", "10", "10", "quoted", "caf\u00e9",
        "o'brien's", "x"]
    assert text_to_word_sequence("<br /><br />") == []
    assert text_to_word_sequence("line<br/>break<br>here") == ["line", "break", "here"]


def test_rank_words_breaks_ties_alphabetically():
    assert rank_words({"b": 2, "a": 2, "c": 5, "d": 1}) == {"c": 1, "a": 2, "b": 3, "d": 4}


def test_fit_and_encode_with_defaults():
    tok = Tokenizer().fit_on_texts(TEXTS)
    assert tok.word_index == {"film": 1, "the": 2, "a": 3, "end": 4}
    # 'of' was never seen: out of vocabulary (2)
    assert tok.texts_to_sequences(["The end of the film", ""]) == [[1, 5, 7, 2, 5, 4], [1]]


def test_num_words_counts_reserved_ids():
    tok = Tokenizer(num_words=6).fit_on_texts(TEXTS)  # keeps ids 4, 5: film, the
    assert tok.texts_to_sequences(["a film the end"]) == [[1, 2, 4, 5, 2]]


def test_skip_top_skips_the_most_frequent_words_only():
    tok = Tokenizer(skip_top=1).fit_on_texts(TEXTS)  # 'film' (rank 1) is skipped
    assert tok.texts_to_sequences(["film the"]) == [[1, 2, 5]]


def test_no_start_no_oov_and_index_from():
    tok = Tokenizer(start_char=None, oov_char=None, index_from=0).fit_on_texts(TEXTS)
    assert tok.texts_to_sequences(["the unknown film", "nothing known"]) == [[2, 1], []]


def test_encode_pads_in_front_like_load_data():
    tok = Tokenizer().fit_on_texts(TEXTS)
    x = tok.encode(["the end", "a film the end the"], maxlen=4)
    np.testing.assert_array_equal(x, [[0, 1, 5, 7], [4, 5, 7, 5]])
    assert x.dtype == np.int32
    ragged = tok.encode(["the end", "film"])
    assert ragged.dtype == object and ragged.tolist() == [[1, 5, 7], [1, 4]]


def test_decode_round_trip_and_oov_token():
    tok = Tokenizer().fit_on_texts(TEXTS)
    sequences = tok.texts_to_sequences(["The film, the END!", "the sequel"])
    assert tok.sequences_to_texts(sequences) == ["the film the end", "the ?"]
    assert tok.sequence_to_text([0, 0, 1, 6, 2, 99], oov_token="<oov>") == "a <oov> <oov>"
    assert tok.sequences_to_texts(np.array([[0, 1, 4], [1, 5, 4]])) == ["film", "the film"]


def test_tokenizer_from_a_word_index():
    fitted = Tokenizer().fit_on_texts(TEXTS)
    rebuilt = Tokenizer(word_index=fitted.word_index)
    assert rebuilt.texts_to_sequences(TEXTS) == fitted.texts_to_sequences(TEXTS)
    with pytest.raises(ValueError, match="distinct rank 1, 2, ..., n"):
        Tokenizer(word_index={"a": 1, "b": 3})


def test_ranks_to_ids_flat_layout():
    # three sequences: [5, 0], [], [1, 2, 3]; rank 0 = unseen
    ranks, offsets = [5, 0, 1, 2, 3], [0, 2, 2, 5]
    ids, out_offsets = ranks_to_ids(ranks, offsets, num_words=7, skip_top=1)
    # ranks 1 (skip_top) and 5 (id 8 >= 7) and 0 (unseen) become 2; start 1 in front of each
    np.testing.assert_array_equal(ids, [1, 2, 2, 1, 1, 2, 5, 6])
    np.testing.assert_array_equal(out_offsets, [0, 3, 4, 8])
    ids, out_offsets = ranks_to_ids(ranks, offsets, num_words=7, skip_top=1, oov_char=None)
    np.testing.assert_array_equal(ids, [1, 1, 1, 5, 6])
    np.testing.assert_array_equal(out_offsets, [0, 1, 2, 5])


def test_texts_must_be_a_list():
    with pytest.raises(TypeError, match=r"wrap it: \[text\]"):
        Tokenizer().fit_on_texts(TEXTS).texts_to_sequences("a film")


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_words=3), "num_words counts every id.*int >= 5.*got 3"),
    (dict(num_words=4), "int >= 5 to keep at least one word; got 4"),
    (dict(num_words=2.5), "num_words"),
    (dict(skip_top=-1), "skip_top must be an int >= 0, got -1"),
    (dict(oov_char=4), r"oov_char must be None or an int in \[0, index_from=3\]"),
    (dict(start_char=True), "start_char must be None or an int"),
    (dict(index_from=-1), "index_from must be an int >= 0, got -1"),
])
def test_bad_conventions_say_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_conventions(**kwargs)
    with pytest.raises(ValueError, match=message):
        Tokenizer(**kwargs)
