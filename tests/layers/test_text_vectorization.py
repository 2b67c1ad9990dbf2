"""TextVectorization against Keras' docstring examples and its rules worked out by hand: the
vocabulary order (count, then the token, both descending), ASCII-only lowercasing, Keras'
punctuation pattern (the ASCII punctuation), the ASCII whitespace split, padding and
truncation; vocabularies set by hand; configs; the errors."""
import json
import string

import numpy as np
import pytest

from bptt import layers
from bptt.layers import TextVectorization


def adapted(texts, **kwargs):
    layer = TextVectorization(**kwargs)
    layer.adapt(texts)
    return layer


# --- Keras' docstring examples ---------------------------------------------------------------

def test_keras_example_adapt_then_call():
    layer = adapted(["foo bar", "bar baz", "baz bada boom"], max_tokens=5000,
                    output_sequence_length=4)
    ids = layer([["foo qux bar"], ["qux baz"]])
    np.testing.assert_array_equal(ids, [[4, 1, 3, 0], [1, 2, 0, 0]])
    assert ids.dtype == np.int64


def test_keras_example_given_vocabulary():
    layer = TextVectorization(max_tokens=5000, output_sequence_length=4,
                              vocabulary=["earth", "wind", "and", "fire"])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]


# --- the vocabulary adapt builds ------------------------------------------------------------

def test_most_frequent_first_and_ties_by_token_descending():
    # counts: a 2, b 2, c 2, d 1 -> c, b, a (ties, reverse order), then d
    layer = adapted(["b a c", "a b", "c d"])
    assert layer.get_vocabulary() == ["", "[UNK]", "c", "b", "a", "d"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["c", "b", "a", "d"]
    assert layer.vocabulary_size() == 6


def test_ties_compare_code_points():
    # "é" (U+00E9) sorts after every ASCII letter, "z" after "a"
    assert adapted(["a é z"]).get_vocabulary()[2:] == ["é", "z", "a"]


def test_max_tokens_keeps_the_most_frequent_minus_the_two_special_tokens():
    layer = adapted(["a a a b b c d"], max_tokens=4)
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b"]
    np.testing.assert_array_equal(layer(["d a c"]), [[1, 2, 1]])


def test_special_tokens_are_never_learned():
    layer = adapted(["[UNK] x x"], standardize=None)
    assert layer.get_vocabulary() == ["", "[UNK]", "x"]


def test_adapt_on_batches_counts_over_all_and_steps_stops_early():
    def texts():
        yield np.array(["a b"])
        yield ["b c", "c"]
        yield ["d d d d"]

    assert adapted(texts()).get_vocabulary()[2:] == ["d", "c", "b", "a"]
    layer = TextVectorization()
    layer.adapt(texts(), steps=2)
    assert layer.get_vocabulary()[2:] == ["c", "b", "a"]
    layer.adapt(["e"])  # a second adapt starts counting again
    assert layer.get_vocabulary()[2:] == ["e"]


def test_adapt_accepts_a_column_of_strings_and_bytes():
    assert adapted(np.array([["foo bar"], ["bar"]])).get_vocabulary()[2:] == ["bar", "foo"]
    assert adapted(np.array([b"caf\xc3\xa9 caf\xc3\xa9", b"x"])).get_vocabulary()[2:] == \
        ["café", "x"]


# --- standardize and split ---------------------------------------------------------------------

def test_lowercasing_is_ascii_only_as_tensorflows_default():
    layer = adapted(["ÉCOLE Straße STRASSE"])
    assert sorted(layer.get_vocabulary()[2:]) == ["strasse", "straße", "École"]


def test_every_ascii_punctuation_character_is_stripped_and_no_other():
    layer = adapted(["it's" + string.punctuation + "ok ¿qué? «x» a—b"])
    assert sorted(layer.get_vocabulary()[2:]) == sorted(["itsok", "¿qué", "«x»", "a—b"])


def test_standardize_options():
    text = ["Hello, World!"]
    assert adapted(text, standardize="lower").get_vocabulary()[2:] == ["world!", "hello,"]
    assert adapted(text, standardize="strip_punctuation").get_vocabulary()[2:] == \
        ["World", "Hello"]
    assert adapted(text, standardize=None).get_vocabulary()[2:] == ["World!", "Hello,"]


def test_whitespace_is_the_six_ascii_characters():
    layer = adapted(["a\tb\nc\x0bd\x0ce\rf  g", "x\xa0y p\u2003q"])
    assert sorted(layer.get_vocabulary()[2:]) == sorted(list("abcdefg") +
                                                         ["x\xa0y", "p\u2003q"])


def test_character_split_keeps_spaces_as_tokens():
    layer = adapted(["ab  ba"], split="character")
    assert layer.get_vocabulary()[2:] == ["b", "a", " "]  # 2 each: by the character, descending
    np.testing.assert_array_equal(layer(["ab a"]), [[3, 2, 4, 3]])


def test_split_none_makes_each_string_one_token():
    layer = adapted(["x y", "x y", "z"], split=None, standardize=None)
    assert layer.get_vocabulary()[2:] == ["x y", "z"]
    np.testing.assert_array_equal(layer(["x y", "q", ""]), [2, 1, 0])
    np.testing.assert_array_equal(layer([["z"], ["x y"]]), [[3], [2]])
    padded = TextVectorization(split=None, output_sequence_length=3, vocabulary=["a"])
    np.testing.assert_array_equal(padded([["a"], ["b"]]), [[2, 0, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"\(batch, 1\)"):
        padded(["a", "b"])


def test_callable_standardize_and_split():
    def upper(strings):
        assert isinstance(strings, np.ndarray) and strings.dtype.kind == "U"
        return np.char.upper(strings)

    def by_dash(strings):
        return [s.split("-") for s in strings]

    layer = adapted(["a-b-b", "c"], standardize=upper, split=by_dash)
    assert layer.get_vocabulary()[2:] == ["B", "C", "A"]
    np.testing.assert_array_equal(layer(["b-a-z"]), [[2, 4, 1]])


# --- calling -------------------------------------------------------------------------------------

def test_padding_truncation_and_unknown_tokens():
    layer = adapted(["a b c"], output_sequence_length=2)  # ids: c 2, b 3, a 4
    np.testing.assert_array_equal(layer(["a b c", "", "zz"]), [[4, 3], [0, 0], [1, 0]])
    free = adapted(["a b c"])
    np.testing.assert_array_equal(free(["a", "c b a b"]), [[4, 0, 0, 0], [2, 3, 4, 3]])
    assert free([""]).shape == (1, 0)


def test_a_single_string_gives_one_row():
    np.testing.assert_array_equal(adapted(["a b c"])("c a"), [2, 4])


def test_input_must_be_one_string_per_example():
    with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
        adapted(["a"])([["a", "b"], ["c", "d"]])
    with pytest.raises(TypeError, match="expects strings"):
        adapted(["a"])(np.array([[1, 2]]))


def test_no_weights_no_gradient_and_output_shape():
    layer = adapted(["a b"], output_sequence_length=7)
    assert layer.get_weights() == [] and layer.count_params() == 0
    layer(["a"])
    assert layer.backward(np.ones((1, 7))) is None
    assert layer.compute_output_shape((None,)) == (None, 7)


def test_first_layer_of_a_functional_model_on_string_input():
    from bptt import Input, Model

    vectorize = adapted(["a b c", "a b"], output_sequence_length=4)
    inputs = Input(shape=(1,), dtype="string")
    ids = vectorize(inputs)
    assert ids.shape == (None, 4) and ids.dtype == "int64"
    embedding, rnn, dense = layers.Embedding(6, 3), layers.SimpleRNN(2), layers.Dense(1)
    model = Model(inputs, dense(rnn(embedding(ids))))
    id_inputs = Input(shape=(4,))
    on_ids = Model(id_inputs, dense(rnn(embedding(id_inputs))))  # the same layers
    texts = np.array([["a b"], ["c zz"]])
    np.testing.assert_allclose(model.predict(texts, verbose=0),
                               on_ids.predict(vectorize(texts), verbose=0))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(texts, np.array([[1.0], [0.0]]), epochs=1, verbose=0)


# --- vocabularies given ----------------------------------------------------------------------

def test_set_vocabulary_with_or_without_special_tokens():
    layer = TextVectorization()
    layer.set_vocabulary(["", "[UNK]", "x", "y"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    layer.set_vocabulary(np.array(["y", "x"]))
    np.testing.assert_array_equal(layer(["x y w"]), [[3, 2, 1]])
    layer.adapt(["q"])  # set_vocabulary does not freeze the layer, as in Keras
    assert layer.get_vocabulary() == ["", "[UNK]", "q"]


def test_vocabulary_from_a_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("alpha\nbeta\r\nga\x0bmma\n".encode("utf-8"))
    layer = TextVectorization(vocabulary=str(path))
    assert layer.get_vocabulary() == ["", "[UNK]", "alpha", "beta", "ga\x0bmma"]
    with pytest.raises(ValueError, match="does not exist"):
        TextVectorization(vocabulary=str(tmp_path / "missing.txt"))


@pytest.mark.parametrize("vocabulary, match", [
    (["a", "b", "a"], "repeats"),
    (["a", ""], "padding token"),
    ([], "empty vocabulary"),
    (["a", "b", "c"], "above max_tokens=4"),
])
def test_bad_vocabularies(vocabulary, match):
    with pytest.raises(ValueError, match=match):
        TextVectorization(max_tokens=4, vocabulary=vocabulary)


def test_a_layer_given_its_vocabulary_cannot_adapt():
    with pytest.raises(ValueError, match="Cannot adapt"):
        TextVectorization(vocabulary=["a"]).adapt(["b"])


# --- config ------------------------------------------------------------------------------------

def test_config_round_trip_keeps_the_vocabulary_and_the_ids():
    layer = adapted(["the cat sat", "the dog"], max_tokens=10, output_sequence_length=5,
                    standardize="lower", split="whitespace", name="tv")
    config = layer.get_config()
    json.dumps(config)
    assert config["vocabulary_size"] == 6 and config["vocabulary"][0] == "the"
    for key in ("max_tokens", "standardize", "split", "ngrams", "output_mode",
                "output_sequence_length", "pad_to_max_tokens", "sparse", "ragged",
                "vocabulary", "idf_weights", "encoding", "vocabulary_size", "name"):
        assert key in config
    again = TextVectorization.from_config(config)
    text = ["The cat and the dog", "sat"]
    np.testing.assert_array_equal(again(text), layer(text))
    assert again.get_config() == config
    again.adapt(["new words"])  # an adapted layer stays adaptable after the round trip
    rebuilt = layers.deserialize(layers.serialize(layer))
    assert rebuilt.get_vocabulary() == layer.get_vocabulary()


# --- argument errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    (dict(output_mode="multi_hot"), NotImplementedError, "output_mode='int' only"),
    (dict(output_mode="binary"), NotImplementedError, "multi_hot"),
    (dict(output_mode="tf_idf"), NotImplementedError, "tf_idf"),
    (dict(output_mode="bogus"), ValueError, "output_mode must be one of"),
    (dict(ngrams=2), NotImplementedError, "ngrams=2"),
    (dict(ngrams="2"), ValueError, "ngrams must be"),
    (dict(standardize="upper"), ValueError, "standardize must be"),
    (dict(split="comma"), ValueError, "split must be"),
    (dict(max_tokens=1), ValueError, "max_tokens must be None or above 1"),
    (dict(pad_to_max_tokens=True), ValueError, "needs max_tokens"),
    (dict(output_sequence_length=2.5), ValueError, "output_sequence_length must be"),
    (dict(ragged=True), ValueError, "dense NumPy"),
    (dict(idf_weights=[1.0]), ValueError, "tf_idf"),
    (dict(max_token=5), TypeError, "max_token"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        TextVectorization(**kwargs)


def test_adapt_refuses_a_bare_string():
    with pytest.raises(ValueError, match="wrap it in a list"):
        TextVectorization().adapt("some text")
