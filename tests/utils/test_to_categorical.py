"""to_categorical and normalize as Keras 3.15 gives them for NumPy input (its docstring example,
and its rules: float64 one-hot, a trailing axis of 1 dropped, num_classes None or 0 inferred as
max + 1, NumPy's indexing for out-of-range ids)."""
import numpy as np
import pytest

from bptt.utils import normalize, to_categorical


def test_keras_docstring_example():
    np.testing.assert_array_equal(to_categorical([0, 1, 2, 3], num_classes=4), np.eye(4))


def test_float64_like_keras_whatever_floatx(floatx):
    assert to_categorical([1, 0]).dtype == np.float64


def test_num_classes_inferred_from_the_largest_label():
    np.testing.assert_array_equal(to_categorical([2, 0]), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(to_categorical([1], num_classes=0), [[0, 1]])  # 0 is unset


def test_trailing_axis_of_one_is_dropped():
    out = to_categorical(np.array([[1], [2]]), num_classes=3)
    np.testing.assert_array_equal(out, [[0, 1, 0], [0, 0, 1]])
    assert to_categorical(np.array([1]), num_classes=3).shape == (1, 3)  # 1-D stays


def test_higher_rank_labels_get_a_last_class_axis():
    labels = np.array([[0, 2], [1, 1]])
    out = to_categorical(labels)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[0, 1], [0, 0, 1])
    np.testing.assert_array_equal(out[1, 0], [0, 1, 0])


def test_a_scalar_label_is_one_vector():
    np.testing.assert_array_equal(to_categorical(3, 5), [0, 0, 0, 1, 0])


def test_float_labels_are_truncated_to_int_as_keras():
    np.testing.assert_array_equal(to_categorical([1.7, 0.2], 2), [[0, 1], [1, 0]])


def test_a_label_beyond_num_classes_raises_index_error():
    with pytest.raises(IndexError, match="label 5 is outside num_classes=3"):
        to_categorical([0, 5], num_classes=3)
    with pytest.raises(IndexError):
        to_categorical([-4], num_classes=3)


def test_a_negative_label_counts_from_the_end_as_numpy_indexing_does():
    np.testing.assert_array_equal(to_categorical([-1], num_classes=3), [[0, 0, 1]])


def test_no_labels_need_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([])
    assert to_categorical([], num_classes=2).shape == (0, 2)


# --- normalize --------------------------------------------------------------------------------

def test_normalize_l2_rows_and_zero_rows():
    np.testing.assert_allclose(normalize(np.array([[3.0, 4.0], [0.0, 0.0]])),
                               [[0.6, 0.8], [0.0, 0.0]])


def test_normalize_l1_and_axis():
    x = np.array([[1.0, 3.0], [3.0, 1.0]])
    np.testing.assert_allclose(normalize(x, order=1), [[0.25, 0.75], [0.75, 0.25]])
    np.testing.assert_allclose(normalize(np.array([[3.0], [4.0]]), axis=0), [[0.6], [0.8]])


def test_normalize_dtypes():
    assert normalize(np.array([[3, 4]])).dtype == np.float64  # NumPy's int / float
    assert normalize(np.array([[3, 4]], dtype="float32")).dtype == np.float32
    out = normalize([[3, 4]])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8]])
