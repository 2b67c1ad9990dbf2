"""pad_sequences against Keras' docstring examples and cases worked out by hand."""
import numpy as np
import pytest

from bptt.utils import pad_sequences

SEQUENCES = [[1], [2, 3], [4, 5, 6]]


# --- Keras' docstring examples ---------------------------------------------------------------

def test_keras_default_pads_in_front():
    x = pad_sequences(SEQUENCES)
    np.testing.assert_array_equal(x, [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    assert x.dtype == np.int32


def test_keras_value():
    np.testing.assert_array_equal(pad_sequences(SEQUENCES, value=-1),
                                  [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])


def test_keras_padding_post():
    np.testing.assert_array_equal(pad_sequences(SEQUENCES, padding="post"),
                                  [[1, 0, 0], [2, 3, 0], [4, 5, 6]])


def test_keras_maxlen_truncates_in_front():
    np.testing.assert_array_equal(pad_sequences(SEQUENCES, maxlen=2), [[0, 1], [2, 3], [5, 6]])


# --- worked out by hand ----------------------------------------------------------------------

@pytest.mark.parametrize("padding, truncating, expected", [
    ("pre", "pre", [[0, 0, 0, 7], [3, 4, 5, 6]]),
    ("pre", "post", [[0, 0, 0, 7], [1, 2, 3, 4]]),
    ("post", "pre", [[7, 0, 0, 0], [3, 4, 5, 6]]),
    ("post", "post", [[7, 0, 0, 0], [1, 2, 3, 4]]),
])
def test_padding_and_truncating_sides(padding, truncating, expected):
    x = pad_sequences([[7], [1, 2, 3, 4, 5, 6]], maxlen=4, padding=padding,
                      truncating=truncating)
    np.testing.assert_array_equal(x, expected)


def test_empty_sequences_become_rows_of_value():
    x = pad_sequences([[], [1, 2], []], value=9)
    np.testing.assert_array_equal(x, [[9, 9], [1, 2], [9, 9]])


def test_all_empty_and_no_sequences():
    assert pad_sequences([[], []]).shape == (2, 0)
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([], maxlen=5).shape == (0, 5)


def test_maxlen_longer_than_every_sequence_and_zero():
    np.testing.assert_array_equal(pad_sequences([[1, 2]], maxlen=4), [[0, 0, 1, 2]])
    assert pad_sequences([[1, 2], [3]], maxlen=0).shape == (2, 0)


def test_dtype_and_float_value():
    x = pad_sequences([[0.5], [1.5, 2.5]], dtype="float32", value=-1.0)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, [[-1.0, 0.5], [1.5, 2.5]])


def test_int_dtype_casts_floats_as_keras():
    np.testing.assert_array_equal(pad_sequences([[1.7, 2.2]]), [[1, 2]])


def test_feature_vectors_keep_their_shape():
    seqs = [np.ones((1, 3)), np.arange(6).reshape(2, 3)]  # (T_i, 3)
    x = pad_sequences(seqs, dtype="float64")
    assert x.shape == (2, 2, 3)
    np.testing.assert_array_equal(x[0], [[0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(x[1], np.arange(6).reshape(2, 3))


def test_numpy_rows_and_strings():
    np.testing.assert_array_equal(pad_sequences(np.array([[1, 2, 3]]), maxlen=2), [[2, 3]])
    x = pad_sequences([["a"], ["b", "c"]], dtype=object, value="<pad>")
    assert x.tolist() == [["<pad>", "a"], ["b", "c"]]


# --- errors name what was expected -----------------------------------------------------------

def test_bad_padding_and_truncating():
    with pytest.raises(ValueError, match=r'padding must be "pre" or "post", got \'middle\''):
        pad_sequences(SEQUENCES, padding="middle")
    with pytest.raises(ValueError, match=r'truncating must be "pre" or "post", got \'end\''):
        pad_sequences(SEQUENCES, truncating="end")


def test_bad_maxlen():
    with pytest.raises(ValueError, match="maxlen must be None or an int >= 0, got -1"):
        pad_sequences(SEQUENCES, maxlen=-1)
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences(SEQUENCES, maxlen=2.5)


def test_not_a_list_of_sequences():
    with pytest.raises(ValueError, match="wrap a generator in list"):
        pad_sequences(s for s in SEQUENCES)
    with pytest.raises(ValueError, match="position 1 is 5"):
        pad_sequences([[1], 5])


def test_inconsistent_element_shapes():
    with pytest.raises(ValueError, match="position 1 is different from expected shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))], dtype="float32")


def test_string_value_needs_object_dtype():
    with pytest.raises(ValueError, match="use dtype=object"):
        pad_sequences([["a"]], value="<pad>")
