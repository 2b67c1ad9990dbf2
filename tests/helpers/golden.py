"""Reading the Keras golden files of tests/data/ (written by tests/data/make_keras_golden*.py):
inputs x_<i>, targets y_<i>, weights w<step>_<i> after each training step."""
from pathlib import Path

import numpy as np

DATA = Path(__file__).parents[1] / "data"


def load_golden(name):
    """(the file's arrays by key, the inputs in order, the targets in order) of
    tests/data/keras_golden_<name>.npz."""
    golden = dict(np.load(DATA / f"keras_golden_{name}.npz", allow_pickle=False))
    count = lambda prefix: sum(k.startswith(prefix) for k in golden)  # noqa: E731
    xs = [golden[f"x_{i}"] for i in range(count("x_"))]
    ys = [golden[f"y_{i}"] for i in range(count("y_"))]
    return golden, xs, ys


def golden_weights(golden, step):
    """Keras' weights after `step` training steps (0: the initial ones), get_weights() order."""
    return [golden[f"w{step}_{i}"] for i in range(sum(k.startswith("w0_") for k in golden))]
