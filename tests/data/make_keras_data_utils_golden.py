"""Writes tests/data/keras_golden_data_utils.npz: what Keras 3 itself gives for
timeseries_dataset_from_array, to_categorical and TextVectorization on fixed inputs.

Run it where Keras is installed (never part of `make test`, which only reads the file):
    python tests/data/make_keras_data_utils_golden.py   # keras 3.15.1, tensorflow-cpu 2.21.0

Keys are "<case>/<what>"; strings are stored as unicode arrays and nothing is pickled.
tests/test_keras_golden_data_utils.py rebuilds every case with bptt from the inputs stored here.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = {}


def timeseries_cases(rng):
    """(name, data, targets, kwargs); the test passes the same arguments to bptt."""
    yield "ts_docstring", np.arange(99, dtype="float32") * 1.5, None, dict(
        sequence_length=10, sampling_rate=2, sequence_stride=3, batch_size=4)
    yield "ts_cut", rng.normal(size=(40, 3)), rng.integers(0, 9, size=(40, 2)), dict(
        sequence_length=5, sequence_stride=2, sampling_rate=3, start_index=4, end_index=35,
        batch_size=3)
    yield "ts_short_targets", np.arange(30, dtype="int64"), np.arange(7) * 10, dict(
        sequence_length=4, batch_size=5)
    yield "ts_unbatched", rng.normal(size=(12, 2)).astype("float32"), np.arange(12.0), dict(
        sequence_length=3, sequence_stride=2, batch_size=None)
    yield "ts_too_long", np.arange(10.0), None, dict(sequence_length=20)
    yield "ts_shuffled", np.arange(50), np.arange(50) * 2, dict(
        sequence_length=3, batch_size=4, shuffle=True, seed=7)


def record_timeseries(name, data, targets, kwargs):
    OUT[f"{name}/data"] = data
    if targets is not None:
        OUT[f"{name}/targets"] = targets
    for key, value in kwargs.items():
        OUT[f"{name}/arg_{key}"] = np.array(-1 if value is None else value)
    dataset = keras.utils.timeseries_dataset_from_array(data, targets, **kwargs)
    OUT[f"{name}/len"] = np.array(len(dataset))
    for epoch in range(2 if kwargs.get("shuffle") else 1):
        xs, ys, sizes = [], [], []
        for element in dataset:
            x, y = element if targets is not None else (element, None)
            xs.append(x.numpy())
            sizes.append(len(x) if kwargs.get("batch_size", 128) is not None else 1)
            if y is not None:
                ys.append(y.numpy())
        stack = np.concatenate if kwargs.get("batch_size", 128) is not None else np.stack
        OUT[f"{name}/x{epoch}"] = stack(xs) if xs else np.zeros((0,))
        OUT[f"{name}/sizes{epoch}"] = np.array(sizes, dtype="int64")
        if targets is not None:
            OUT[f"{name}/y{epoch}"] = stack(ys)


def record_list_dtypes():
    x, y = next(iter(keras.utils.timeseries_dataset_from_array(
        [1.0, 2.0, 3.0, 4.0], [0, 1, 2, 3], sequence_length=2)))
    OUT["ts_lists/dtypes"] = np.array([x.dtype.name, y.dtype.name])


def record_timeseries_errors():
    """Which arguments Keras refuses (ValueError) on data of length 10."""
    bad = [dict(start_index=-1), dict(start_index=10), dict(start_index=5, end_index=5),
           dict(end_index=10), dict(end_index=-2), dict(sampling_rate=0),
           dict(sampling_rate=10), dict(sequence_stride=0), dict(sequence_stride=10)]
    names = []
    for kwargs in bad:
        try:
            keras.utils.timeseries_dataset_from_array(np.arange(10), None, 2, **kwargs)
            names.append("none")
        except Exception as error:  # noqa: BLE001 - the class name is the record
            names.append(type(error).__name__)
    OUT["ts_errors/kwargs"] = np.array([repr(kwargs) for kwargs in bad])
    OUT["ts_errors/raised"] = np.array(names)


def record_to_categorical():
    cases = {"column": ([[1], [2], [0]], None), "negative": ([0, -1, 2], 3),
             "scalar": (3, 5), "grid": ([[0, 2], [1, 1]], None), "zero_classes": ([1, 2], 0),
             "floats": ([1.7, 0.2], 2)}
    for name, (labels, num_classes) in cases.items():
        out = keras.utils.to_categorical(labels, num_classes)
        OUT[f"cat_{name}/labels"] = np.array(labels)
        OUT[f"cat_{name}/num_classes"] = np.array(-1 if num_classes is None else num_classes)
        OUT[f"cat_{name}/out"] = out
    try:
        keras.utils.to_categorical([0, 5], 3)
        OUT["cat_too_large/raised"] = np.array("none")
    except Exception as error:  # noqa: BLE001
        OUT["cat_too_large/raised"] = np.array(type(error).__name__)


TEXTS = np.array([
    "The cat sat on the mat.", "THE DOG ate the cat's dinner!", "Straße, STRASSE; École & ÉCOLE",
    "tabs\tand\nnew\x0blines\x0cand\rreturns", "no\xa0break and em\u2003space",
    "¿Qué? «quotes» a—b (brackets) [square] {curly} back\\slash", "the  the  THE", "",
    "under_score hyphen-ated 3.14 e-mail@example.com it's",
])
CALL_TEXTS = np.array(["the cat and the dog", "unknown words only", "", "École straße",
                       "sat on the mat sat on the mat sat on the mat"])
TEXT_CASES = {
    "tv_default": dict(),
    "tv_capped": dict(max_tokens=8, output_sequence_length=6),
    "tv_lower": dict(standardize="lower", output_sequence_length=4),
    "tv_strip": dict(standardize="strip_punctuation"),
    "tv_raw": dict(standardize=None, max_tokens=12),
    "tv_character": dict(split="character", output_sequence_length=12),
}


def record_text_vectorization():
    OUT["tv/texts"] = TEXTS
    OUT["tv/call_texts"] = CALL_TEXTS
    for name, kwargs in TEXT_CASES.items():
        OUT[f"{name}/kwargs"] = np.array(repr(kwargs))
        layer = keras.layers.TextVectorization(**kwargs)
        layer.adapt(TEXTS)
        OUT[f"{name}/vocabulary"] = np.array(layer.get_vocabulary(), dtype=str)
        OUT[f"{name}/ids"] = np.asarray(layer(CALL_TEXTS))
    unsplit = keras.layers.TextVectorization(split=None, standardize=None)
    unsplit.adapt(np.array(["x y", "x y", "z", ""]))
    OUT["tv_unsplit/vocabulary"] = np.array(unsplit.get_vocabulary(), dtype=str)
    OUT["tv_unsplit/ids"] = np.asarray(unsplit(np.array([["x y"], ["q"], ["z"]])))
    given = keras.layers.TextVectorization(vocabulary=["", "[UNK]", "earth", "wind"])
    OUT["tv_given/ids"] = np.asarray(given(np.array(["Wind, EARTH and fire"])))
    OUT["tv/config_keys"] = np.array(sorted(given.get_config()), dtype=str)


def main():
    rng = np.random.default_rng(20240607)
    for name, data, targets, kwargs in timeseries_cases(rng):
        record_timeseries(name, data, targets, kwargs)
    record_list_dtypes()
    record_timeseries_errors()
    record_to_categorical()
    record_text_vectorization()
    OUT["keras_version"] = np.array(keras.__version__)
    path = os.path.join(HERE, "keras_golden_data_utils.npz")
    np.savez(path, **OUT)
    print("wrote", path, len(OUT), "arrays")


if __name__ == "__main__":
    main()
