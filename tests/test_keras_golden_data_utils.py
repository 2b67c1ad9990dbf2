"""Golden values from Keras 3 itself for the data utilities (tests/data/
make_keras_data_utils_golden.py, run with Keras 3.15.1 / TensorFlow 2.21.0):
timeseries_dataset_from_array's batches (the windows of a shuffled pass as a set, since the
order comes from TensorFlow's shuffle buffer), its argument errors and list dtypes,
to_categorical, and TextVectorization's vocabularies and ids on text with Unicode, punctuation
and every kind of whitespace."""
import ast
from pathlib import Path

import numpy as np
import pytest

from bptt.layers import TextVectorization
from bptt.utils import timeseries_dataset_from_array, to_categorical

GOLDEN = np.load(Path(__file__).parent / "data" / "keras_golden_data_utils.npz")
TIMESERIES = sorted({key.split("/")[0] for key in GOLDEN.files
                     if key.startswith("ts_") and key.endswith("/x0")})
# The TextVectorization cases: their constructor arguments, written by the script as literals.
TEXT_CASES = {key.split("/")[0]: ast.literal_eval(str(GOLDEN[key])) for key in GOLDEN.files
              if key.startswith("tv_") and key.endswith("/kwargs")}


def timeseries_case(name):
    prefix = f"{name}/arg_"
    kwargs = {key[len(prefix):]: GOLDEN[key].item() for key in GOLDEN.files
              if key.startswith(prefix)}
    if kwargs.get("batch_size") == -1:
        kwargs["batch_size"] = None
    targets = GOLDEN[f"{name}/targets"] if f"{name}/targets" in GOLDEN.files else None
    return timeseries_dataset_from_array(GOLDEN[f"{name}/data"], targets, **kwargs), targets


def one_pass(dataset, targets, batched):
    xs, ys, sizes = [], [], []
    for element in dataset:
        x, y = element if targets is not None else (element, None)
        xs.append(x)
        ys.append(y)
        sizes.append(len(x) if batched else 1)
    stack = np.concatenate if batched else np.stack
    return (stack(xs) if xs else np.zeros((0,))), (stack(ys) if targets is not None else None), \
        np.array(sizes, dtype="int64")


def test_the_file_is_from_keras_3_15():
    assert str(GOLDEN["keras_version"]).startswith("3.15")


@pytest.mark.parametrize("name", TIMESERIES)
def test_timeseries_batches_equal_keras(name):
    dataset, targets = timeseries_case(name)
    assert len(dataset) == GOLDEN[f"{name}/len"]
    shuffled = f"{name}/x1" in GOLDEN.files
    for epoch in range(2 if shuffled else 1):
        x, y, sizes = one_pass(dataset, targets, dataset.batch_size is not None)
        want_x = GOLDEN[f"{name}/x{epoch}"]
        np.testing.assert_array_equal(sizes, GOLDEN[f"{name}/sizes{epoch}"])
        assert x.dtype == want_x.dtype
        if shuffled:  # the same windows with the same targets, in another order
            pairs = sorted(zip(map(tuple, x), y.tolist()))
            want = sorted(zip(map(tuple, want_x), GOLDEN[f"{name}/y{epoch}"].tolist()))
            assert pairs == want
            continue
        np.testing.assert_array_equal(x, want_x)
        if targets is not None:
            np.testing.assert_array_equal(y, GOLDEN[f"{name}/y{epoch}"])
            assert y.dtype == GOLDEN[f"{name}/y{epoch}"].dtype


def test_timeseries_list_dtypes_equal_keras():
    x, y = next(iter(timeseries_dataset_from_array([1.0, 2.0, 3.0, 4.0], [0, 1, 2, 3], 2)))
    assert [x.dtype.name, y.dtype.name] == GOLDEN["ts_lists/dtypes"].tolist()


def test_timeseries_refuses_what_keras_refuses():
    for kwargs, raised in zip(GOLDEN["ts_errors/kwargs"], GOLDEN["ts_errors/raised"]):
        kwargs = ast.literal_eval(str(kwargs))
        if raised == "none":
            timeseries_dataset_from_array(np.arange(10), None, 2, **kwargs)
        else:
            with pytest.raises(ValueError):
                timeseries_dataset_from_array(np.arange(10), None, 2, **kwargs)


@pytest.mark.parametrize("name", ["column", "negative", "scalar", "grid", "zero_classes",
                                  "floats"])
def test_to_categorical_equals_keras(name):
    num_classes = GOLDEN[f"cat_{name}/num_classes"].item()
    out = to_categorical(GOLDEN[f"cat_{name}/labels"], None if num_classes == -1 else num_classes)
    want = GOLDEN[f"cat_{name}/out"]
    assert out.dtype == want.dtype and out.shape == want.shape
    np.testing.assert_array_equal(out, want)


def test_to_categorical_raises_keras_error_class():
    with pytest.raises(IndexError) as error:
        to_categorical([0, 5], 3)
    assert type(error.value).__name__ == GOLDEN["cat_too_large/raised"].item()


@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_text_vectorization_equals_keras(name):
    layer = TextVectorization(**TEXT_CASES[name])
    layer.adapt(GOLDEN["tv/texts"])
    assert layer.get_vocabulary() == GOLDEN[f"{name}/vocabulary"].tolist()
    ids = layer(GOLDEN["tv/call_texts"])
    assert ids.dtype == GOLDEN[f"{name}/ids"].dtype
    np.testing.assert_array_equal(ids, GOLDEN[f"{name}/ids"])


def test_text_vectorization_without_split_equals_keras():
    layer = TextVectorization(split=None, standardize=None)
    layer.adapt(np.array(["x y", "x y", "z", ""]))
    assert layer.get_vocabulary() == GOLDEN["tv_unsplit/vocabulary"].tolist()
    np.testing.assert_array_equal(layer(np.array([["x y"], ["q"], ["z"]])),
                                  GOLDEN["tv_unsplit/ids"])


def test_text_vectorization_given_vocabulary_and_config_keys_equal_keras():
    layer = TextVectorization(vocabulary=["", "[UNK]", "earth", "wind"])
    np.testing.assert_array_equal(layer(np.array(["Wind, EARTH and fire"])),
                                  GOLDEN["tv_given/ids"])
    # bptt adds one key Keras' constructor also takes: has_input_vocabulary
    assert set(GOLDEN["tv/config_keys"].tolist()) <= set(layer.get_config())
