"""bptt.metrics against hand-counted examples and the numbers in Keras' docstrings
(keras/src/metrics/{reduction,accuracy,regression}_metrics.py)."""
import numpy as np
import pytest

from bptt import metrics


# -- Keras' docstring numbers -------------------------------------------------------------------
def test_keras_docstring_mean():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0


@pytest.mark.parametrize("metric, y_true, y_pred, weights, expected", [
    (metrics.Accuracy, [[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0], (0.75, 0.5)),
    (metrics.BinaryAccuracy, [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], [1, 0, 0, 1], (0.75, 0.5)),
    (metrics.CategoricalAccuracy, [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
     [0.7, 0.3], (0.5, 0.3)),
    (metrics.SparseCategoricalAccuracy, [[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]],
     [0.7, 0.3], (0.5, 0.3)),
    (metrics.MeanAbsoluteError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0], (0.25, 0.5)),
    (metrics.MeanSquaredError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], None, (0.25, None)),
])
def test_keras_docstring_examples(metric, y_true, y_pred, weights, expected):
    m = metric()
    m.update_state(y_true, y_pred)
    assert m.result() == pytest.approx(expected[0])
    if weights is not None:
        m.reset_state()
        m.update_state(y_true, y_pred, sample_weight=weights)
        assert m.result() == pytest.approx(expected[1])


# -- accumulation -------------------------------------------------------------------------------
def test_accumulates_weighted_sum_over_sum_of_weights_across_batches():
    m = metrics.BinaryAccuracy()
    m.update_state([1, 0, 1], [[0.9], [0.2], [0.1]])  # 2 right of 3
    m.update_state([0, 0], [[0.7], [0.3]])  # 1 right of 2
    assert m.result() == pytest.approx(3 / 5)  # not the mean of the batch means (0.583)
    m.update_state([1, 1], [[0.9], [0.9]], sample_weight=[2.0, 0.5])  # 2.5 right of 2.5
    assert m.result() == pytest.approx((3 + 2.5) / (5 + 2.5))
    m.reset_state()
    assert m.result() == 0.0


def test_mean_of_scalar_values_with_a_scalar_weight():
    # how a model's loss tracker accumulates batch losses weighted by the batch size
    m = metrics.Mean(name="loss")
    m.update_state(0.5, sample_weight=32)
    m.update_state(1.0, sample_weight=8)
    assert m.result() == pytest.approx((0.5 * 32 + 1.0 * 8) / 40)


def test_binary_threshold_is_strict():
    assert metrics.binary_accuracy([[0], [1]], [[0.5], [0.5]]).tolist() == [1.0, 0.0]
    assert metrics.BinaryAccuracy(threshold=0.3)([[1]], [[0.4]]) == 1.0
    with pytest.raises(ValueError, match="threshold"):
        metrics.BinaryAccuracy(threshold=1.0)


def test_sequence_outputs_average_over_time_per_sample(rng):
    labels = np.array([[0, 1, 2], [2, 2, 2]])
    y_pred = np.eye(3)[[[0, 1, 1], [2, 0, 0]]]  # sample 0: 2 of 3 right, sample 1: 1 of 3
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(labels, y_pred)
    assert m.result() == pytest.approx((2 / 3 + 1 / 3) / 2)
    m.reset_state()
    m.update_state(labels, y_pred, sample_weight=[3.0, 1.0])  # one weight per sequence
    assert m.result() == pytest.approx((3 * 2 / 3 + 1 / 3) / 4)
    m.reset_state()
    m.update_state(labels, y_pred, mask=np.array([[1, 1, 0], [1, 0, 0]], bool))
    # Keras' per-sample means of (value * mask), divided by the sum of per-sample mask means
    assert m.result() == pytest.approx((2 / 3 + 1 / 3) / (2 / 3 + 1 / 3))


# -- 'accuracy' as compile resolves it ----------------------------------------------------------
@pytest.mark.parametrize("y_true_shape, y_pred_shape, kind", [
    ((8,), (8, 1), metrics.BinaryAccuracy),
    ((8, 1), (8, 1), metrics.BinaryAccuracy),
    ((8, 20, 1), (8, 20, 1), metrics.BinaryAccuracy),
    ((8,), (8, 5), metrics.SparseCategoricalAccuracy),
    ((8, 1), (8, 5), metrics.SparseCategoricalAccuracy),
    ((8, 20), (8, 20, 5), metrics.SparseCategoricalAccuracy),
    ((8, 5), (8, 5), metrics.CategoricalAccuracy),
])
@pytest.mark.parametrize("name", ["accuracy", "acc", "Accuracy"])
def test_accuracy_resolves_from_shapes_and_keeps_its_name(y_true_shape, y_pred_shape, kind, name):
    y_true, y_pred = np.zeros(y_true_shape), np.full(y_pred_shape, 0.2)
    direct = metrics.get(name, y_true=y_true, y_pred=y_pred)
    assert type(direct) is kind and direct.name == name
    from_output = metrics.get(name, loss="binary_crossentropy", output_shape=(None,) + y_pred_shape[1:])
    if y_pred_shape[-1] == 1:  # the output alone says binary, whatever the labels
        assert type(from_output) is kind and from_output.name == name
    else:
        assert isinstance(from_output, metrics.AutoAccuracy)
    lazy = metrics.get(name)
    assert isinstance(lazy, metrics.AutoAccuracy) and lazy.name == name
    lazy.update_state(y_true, y_pred)
    assert type(lazy.resolved) is kind
    assert lazy.result() == direct(y_true, y_pred)


def test_auto_accuracy_counts_like_the_metric_it_becomes():
    m = metrics.get("accuracy")
    assert m.result() == 0.0
    m.update_state([1, 0, 1, 1], [[0.8], [0.4], [0.3], [0.9]])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([1], [[0.1]])
    assert m.result() == 0.0


# -- lookup -------------------------------------------------------------------------------------
def test_get_names_metrics_as_keras_logs_them():
    assert metrics.get("mae").name == "mae" and isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert metrics.get("mse").name == "mse"
    assert metrics.get("mean_squared_error").name == "mean_squared_error"
    assert isinstance(metrics.get("binary_accuracy"), metrics.BinaryAccuracy)
    assert metrics.get("binary_accuracy").name == "binary_accuracy"
    assert metrics.get("SparseCategoricalAccuracy").name == "SparseCategoricalAccuracy"
    instance = metrics.BinaryAccuracy(name="bin")
    assert metrics.get(instance) is instance
    assert metrics.get(metrics.categorical_accuracy).name == "categorical_accuracy"
    assert isinstance(metrics.get(metrics.CategoricalAccuracy), metrics.CategoricalAccuracy)
    restored = metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.7, "name": "b"}})
    assert restored.threshold == 0.7 and restored.name == "b"
    with pytest.raises(ValueError, match="binary_accuracy"):
        metrics.get("binary_acuracy")


def test_crossentropy_metrics_are_the_mean_per_sample_loss():
    m = metrics.get("binary_crossentropy")
    m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    assert m.result() == pytest.approx((0.916 + 0.714) / 2, abs=1e-3)
    m = metrics.SparseCategoricalCrossentropy()
    m.update_state([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert m.result() == pytest.approx(1.177, abs=1e-3)


def test_config_round_trip():
    m = metrics.BinaryAccuracy(name="b", threshold=0.4)
    assert metrics.BinaryAccuracy.from_config(m.get_config()).get_config() == m.get_config()
