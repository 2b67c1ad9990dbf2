"""bptt.losses: values and gradients against PyTorch, finite differences (float64) and the
numbers in Keras' own docstrings (keras/src/losses/losses.py)."""
import warnings

import numpy as np
import pytest
import torch

from bptt import losses
from bptt.ops.activations import sigmoid, softmax
from tests.helpers import assert_close
from tests.helpers.gradcheck import assert_grad_close, numerical_grad

B, T, C = 5, 3, 4


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def distributions(rng, shape):
    return softmax(rng.standard_normal(shape))


def torch_value_and_grad(f, y_pred):
    x = torch.tensor(y_pred, requires_grad=True)
    value = f(x)
    value.backward()
    return value.item(), x.grad.numpy()


def check_against(loss, y_true, y_pred, f_torch, logits=False, **kwargs):
    method = loss.value_and_grad_logits if logits else loss.value_and_grad
    value, grad = method(y_true, y_pred, **kwargs)
    expected_value, expected_grad = torch_value_and_grad(f_torch, y_pred)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    assert_close(grad, expected_grad, "dy_pred")


def check_finite_differences(loss, y_true, y_pred, logits=False, **kwargs):
    method = loss.value_and_grad_logits if logits else loss.value_and_grad
    _, grad = method(y_true, y_pred, **kwargs)
    numeric = numerical_grad(lambda: method(y_true, y_pred, **kwargs)[0], y_pred)
    assert_grad_close(grad, numeric)


# -- Keras' docstring numbers -------------------------------------------------------------------
def test_keras_docstring_binary_crossentropy():
    y_true, y_pred = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert round(bce(y_true, y_pred), 4) == 0.8655  # Keras prints 0.8654 (truncated)
    assert abs(bce(y_true, y_pred, sample_weight=[0.8, 0.2]) - 0.243) < 1e-3
    assert abs(losses.BinaryCrossentropy(from_logits=True, reduction="sum")(y_true, y_pred) - 1.730) < 1e-3
    np.testing.assert_allclose(
        losses.BinaryCrossentropy(from_logits=True, reduction=None)(y_true, y_pred),
        [0.235, 1.496], atol=1e-3)
    # rank-1 y_true and y_pred: one mean over the last axis, then no further reduction
    assert abs(bce(np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8])) - 0.8654) < 1e-3
    np.testing.assert_allclose(
        losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]), [0.916, 0.714], atol=1e-3)


@pytest.mark.parametrize("loss, y_true", [
    (losses.CategoricalCrossentropy, [[0, 1, 0], [0, 0, 1]]),
    (losses.SparseCategoricalCrossentropy, [1, 2]),
])
def test_keras_docstring_categorical_crossentropies(loss, y_true):
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert abs(loss()(y_true, y_pred) - 1.177) < 1e-3
    assert abs(loss()(y_true, y_pred, sample_weight=np.array([0.3, 0.7])) - 0.814) < 1e-3
    assert abs(loss(reduction="sum")(y_true, y_pred) - 2.354) < 1e-3
    np.testing.assert_allclose(loss(reduction=None)(y_true, y_pred), [0.0513, 2.303], atol=1e-3)


# -- against PyTorch where the reductions coincide ----------------------------------------------
@pytest.mark.parametrize("label_shape", [(B,), (B, 1)])
def test_binary_crossentropy_matches_bceloss(rng, label_shape):
    y_true = rng.integers(0, 2, label_shape)
    y_pred = probabilities(rng, (B, 1))
    target = torch.tensor(y_true.reshape(B, 1), dtype=torch.float64)
    check_against(losses.BinaryCrossentropy(), y_true, y_pred,
                  lambda x: torch.nn.BCELoss()(x, target))


@pytest.mark.parametrize("shape", [(B, 1), (B, T, 2)])
def test_binary_crossentropy_logits_match_bcewithlogits(rng, shape):
    y_true = rng.integers(0, 2, shape).astype(np.float64)
    logits = 3 * rng.standard_normal(shape)
    target = torch.tensor(y_true)
    f = lambda x: torch.nn.BCEWithLogitsLoss()(x, target)  # noqa: E731
    check_against(losses.BinaryCrossentropy(), y_true, logits, f, logits=True)
    check_against(losses.BinaryCrossentropy(from_logits=True), y_true, logits, f)


def test_sparse_crossentropy_logits_match_crossentropyloss_on_sequences(rng):
    labels = rng.integers(0, C, (B, T))
    logits = rng.standard_normal((B, T, C))
    target = torch.tensor(labels)
    # torch wants classes on axis 1; both take the mean over all B * T positions
    f = lambda x: torch.nn.CrossEntropyLoss()(x.permute(0, 2, 1), target)  # noqa: E731
    check_against(losses.SparseCategoricalCrossentropy(), labels, logits, f, logits=True)
    check_against(losses.SparseCategoricalCrossentropy(from_logits=True), labels, logits, f)


def test_sparse_crossentropy_matches_nllloss_on_probabilities(rng):
    labels = rng.integers(0, C, B)
    y_pred = distributions(rng, (B, C))
    value, _ = losses.SparseCategoricalCrossentropy().value_and_grad(labels, y_pred)
    expected = torch.nn.NLLLoss()(torch.log(torch.tensor(y_pred)), torch.tensor(labels)).item()
    np.testing.assert_allclose(value, expected, rtol=1e-12)

    # Keras (TF) takes the softmax-crossentropy of log(clip(p)): -log(p_y / sum p); its gradient
    # is that of the renormalised probabilities, which NLLLoss does not have.
    def keras_formula(x):
        log_p = torch.log(torch.clamp(x, 1e-7, 1 - 1e-7))
        return torch.nn.CrossEntropyLoss()(log_p, torch.tensor(labels))

    check_against(losses.SparseCategoricalCrossentropy(), labels, y_pred, keras_formula)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_categorical_crossentropy_logits_match_crossentropyloss(rng, label_smoothing):
    labels = rng.integers(0, C, B)
    one_hot = np.eye(C)[labels]
    logits = rng.standard_normal((B, C))
    torch_loss = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    f = lambda x: torch_loss(x, torch.tensor(labels))  # noqa: E731
    check_against(losses.CategoricalCrossentropy(label_smoothing=label_smoothing), one_hot, logits, f,
                  logits=True)


def test_categorical_crossentropy_on_probabilities_matches_keras_formula(rng):
    y_true = distributions(rng, (B, T, C))  # soft labels
    y_pred = rng.uniform(0.05, 1.0, (B, T, C))  # not normalised: Keras renormalises

    def keras_formula(x):
        q = torch.clamp(x / x.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)
        return -(torch.tensor(y_true) * torch.log(q)).sum(-1).mean()

    check_against(losses.CategoricalCrossentropy(), y_true, y_pred, keras_formula)


@pytest.mark.parametrize("loss, torch_loss", [
    (losses.MeanSquaredError, torch.nn.MSELoss), (losses.MeanAbsoluteError, torch.nn.L1Loss)])
@pytest.mark.parametrize("shape", [(B, 1), (B, C), (B, T, C)])
def test_regression_losses_match_torch(rng, loss, torch_loss, shape):
    y_true, y_pred = rng.standard_normal(shape), rng.standard_normal(shape)
    check_against(loss(), y_true, y_pred, lambda x: torch_loss()(x, torch.tensor(y_true)))


# -- finite differences in float64 --------------------------------------------------------------
@pytest.mark.parametrize("case", [
    "bce", "bce_logits", "bce_smoothing", "cce", "cce_logits", "cce_smoothing", "scce",
    "scce_logits", "mse", "mae",
])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_match_finite_differences(rng, case, weighted):
    shape = (B, T, C)  # every loss here gives values of shape (B, T)
    kwargs = {"sample_weight": rng.uniform(0, 2, (B, T))} if weighted else {}
    logits = case.endswith("_logits")
    if case.startswith("bce"):
        loss = losses.BinaryCrossentropy(label_smoothing=0.1 if "smoothing" in case else 0.0)
        y_true = rng.integers(0, 2, shape)
    elif case.startswith("cce"):
        loss = losses.CategoricalCrossentropy(label_smoothing=0.1 if "smoothing" in case else 0.0)
        y_true = np.eye(C)[rng.integers(0, C, (B, T))]
    elif case.startswith("scce"):
        loss = losses.SparseCategoricalCrossentropy()
        y_true = rng.integers(0, C, (B, T))
    else:
        loss = {"mse": losses.MeanSquaredError, "mae": losses.MeanAbsoluteError}[case]()
        y_true = rng.standard_normal(shape)
    if logits or case in ("mse", "mae"):
        y_pred = rng.standard_normal(shape)
    elif case.startswith("bce"):
        y_pred = probabilities(rng, shape)
    else:
        y_pred = rng.uniform(0.05, 0.9, shape)
    check_finite_differences(loss, y_true, y_pred, logits=logits, **kwargs)


def test_gradients_with_a_mask_and_ignore_class(rng):
    labels = rng.integers(0, C, (B, T))
    labels[0, 1] = labels[3, 2] = -1
    y_pred = rng.uniform(0.05, 0.9, (B, T, C))
    mask = rng.random((B, T)) > 0.3
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    check_finite_differences(loss, labels, y_pred, mask=mask, sample_weight=rng.uniform(0, 2, (B, T)))
    value, grad = loss.value_and_grad(labels, y_pred, mask=mask)
    assert np.all(grad[0, 1] == 0) and np.all(grad[~mask] == 0)


def test_logits_path_is_the_chain_rule_through_sigmoid_and_softmax(rng):
    # Away from clipping, the loss of sigmoid(x) equals the loss from x, and dx = dp * dp/dx.
    y_true = rng.integers(0, 2, (B, 1))
    x = rng.standard_normal((B, 1))
    bce = losses.BinaryCrossentropy()
    value_p, dp = bce.value_and_grad(y_true, sigmoid(x))
    value_x, dx = bce.value_and_grad_logits(y_true, x)
    np.testing.assert_allclose(value_p, value_x, rtol=1e-12)
    assert_close(dx, dp * sigmoid(x) * (1 - sigmoid(x)))

    labels = rng.integers(0, C, (B,))
    x = rng.standard_normal((B, C))
    p = softmax(x)
    scce = losses.SparseCategoricalCrossentropy()
    value_p, dp = scce.value_and_grad(labels, p)
    value_x, dx = scce.value_and_grad_logits(labels, x)
    np.testing.assert_allclose(value_p, value_x, rtol=1e-12)
    assert_close(dx, p * (dp - (dp * p).sum(-1, keepdims=True)))


# -- reduction and sample weights ---------------------------------------------------------------
def test_sum_over_batch_size_divides_by_the_number_of_values_not_the_weights(rng):
    y_true, y_pred = rng.standard_normal((B, C)), rng.standard_normal((B, C))
    w = rng.uniform(0, 3, B)
    per_sample = losses.mean_squared_error(y_true, y_pred)
    mse = losses.MeanSquaredError()
    np.testing.assert_allclose(mse(y_true, y_pred, sample_weight=w), (per_sample * w).sum() / B)
    np.testing.assert_allclose(mse(y_true, y_pred, sample_weight=w[:, None]), (per_sample * w).sum() / B)
    np.testing.assert_allclose(
        losses.MeanSquaredError(reduction="mean_with_sample_weight")(y_true, y_pred, sample_weight=w),
        (per_sample * w).sum() / w.sum())
    np.testing.assert_allclose(
        losses.MeanSquaredError(reduction="sum")(y_true, y_pred, sample_weight=w), (per_sample * w).sum())
    assert mse(y_true, y_pred, sample_weight=np.zeros(B)) == 0.0


def test_sequence_outputs_reduce_over_batch_and_time(rng):
    labels = rng.integers(0, C, (B, T))
    logits = rng.standard_normal((B, T, C))
    per_position = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    assert per_position.shape == (B, T)
    w = rng.uniform(0, 2, (B, T))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(loss(labels, logits, sample_weight=w), (per_position * w).sum() / (B * T))
    # binary outputs (B, T, 1) with labels (B, T): mean over time per sample, then over the batch
    y = rng.integers(0, 2, (B, T))
    p = probabilities(rng, (B, T, 1))
    assert losses.binary_crossentropy(y, p).shape == (B,)
    np.testing.assert_allclose(losses.BinaryCrossentropy()(y, p),
                               losses.BinaryCrossentropy()(y[..., None], p))


def test_a_per_sample_weight_for_per_timestep_losses_is_refused(rng):
    labels = rng.integers(0, C, (B, T))
    logits = rng.standard_normal((B, T, C))
    with pytest.raises(ValueError, match=r"\(5,\).*\(5, 3\).*repeat"):
        losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits, sample_weight=np.ones(B))


def test_a_mask_averages_over_the_unmasked_values(rng):
    labels = rng.integers(0, C, (B, T))
    logits = rng.standard_normal((B, T, C))
    mask = rng.random((B, T)) > 0.4
    per_position = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    value, _ = losses.SparseCategoricalCrossentropy(from_logits=True).value_and_grad_logits(
        labels, logits, mask=mask)
    np.testing.assert_allclose(value, per_position[mask].mean())


# -- shapes, labels and errors ------------------------------------------------------------------
def test_binary_labels_of_shape_b_and_b1_and_int_or_float_agree(rng):
    y = rng.integers(0, 2, B)
    p = probabilities(rng, (B, 1))
    bce = losses.BinaryCrossentropy()
    label_forms = (y, y[:, None], y.astype(np.float32), y.astype(bool))
    results = [bce.value_and_grad(labels, p) for labels in label_forms]
    for value, grad in results[1:]:
        assert value == results[0][0] and np.array_equal(grad, results[0][1])
    assert results[0][1].shape == (B, 1)


def test_sparse_labels_of_shape_b1_and_float(rng):
    labels = rng.integers(0, C, B)
    p = distributions(rng, (B, C))
    loss = losses.SparseCategoricalCrossentropy()
    assert loss(labels[:, None], p) == loss(labels.astype(np.float32), p) == loss(labels, p)


@pytest.mark.parametrize("loss, y_true, y_pred", [
    (losses.BinaryCrossentropy(), np.zeros((B, 2)), np.full((B, 3), 0.5)),
    (losses.CategoricalCrossentropy(), np.zeros(B), np.full((B, C), 0.25)),
    (losses.SparseCategoricalCrossentropy(), np.zeros((B, 2)), np.full((B, C), 0.25)),
    (losses.MeanSquaredError(), np.zeros((B, 3)), np.zeros((B, 2))),
])
def test_incompatible_shapes_name_both(loss, y_true, y_pred):
    with pytest.raises(ValueError) as error:
        loss.value_and_grad(y_true, y_pred)
    assert str(y_true.shape) in str(error.value) and str(y_pred.shape) in str(error.value)


def test_categorical_with_integer_labels_suggests_sparse():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.zeros(B), np.full((B, C), 0.25))


def test_sparse_label_out_of_range():
    with pytest.raises(ValueError, match=r"label 4 .*\[0, 4\)"):
        losses.SparseCategoricalCrossentropy()([0, 4], np.full((2, C), 0.25))


# -- numerics -----------------------------------------------------------------------------------
@pytest.fixture
def strict():
    # underflow to 0 is the right answer (exp(-1e4)); overflow, log(0) and 0/0 are not
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_are_finite_and_warning_free(strict, dtype):
    y = np.array([[0], [1], [0], [1]])
    for p in ([[0.0], [0.0], [1.0], [1.0]], [[1e-30], [1e-30], [1 - 1e-16], [1 - 1e-16]]):
        value, grad = losses.BinaryCrossentropy().value_and_grad(y, np.array(p, dtype))
        assert np.isfinite(value) and np.isfinite(grad).all() and grad.dtype == dtype
    for x in (30.0, 1e4, 1e30):  # beyond ~1e38 the float32 loss itself is inf
        logits = np.array([[-x], [-x], [x], [x]], dtype)
        value, grad = losses.BinaryCrossentropy().value_and_grad_logits(y, logits)
        assert np.isfinite(value) and np.isfinite(grad).all()
        logits = np.array([[x, -x, 0.0], [0.0, x, -x]], dtype)
        for loss, labels in ((losses.CategoricalCrossentropy(), np.eye(3)[[2, 0]]),
                             (losses.SparseCategoricalCrossentropy(), np.array([2, 0]))):
            value, grad = loss.value_and_grad_logits(labels, logits / 2)
            assert np.isfinite(value) and np.isfinite(grad).all() and grad.dtype == dtype
            value, grad = loss.value_and_grad(labels, np.array([[1, 0, 0], [0, 1, 0]], dtype))
            assert np.isfinite(value) and np.isfinite(grad).all()


def test_probabilities_are_clipped_at_epsilon_as_keras():
    # -log(1e-7) = 16.118: Keras' value for a confident wrong prediction from probabilities
    value, grad = losses.BinaryCrossentropy().value_and_grad(np.array([[1]]), np.array([[0.0]]))
    np.testing.assert_allclose(value, -np.log(1e-7), rtol=1e-9)
    assert grad[0, 0] == 0  # clipped: no gradient, as tf.clip_by_value
    # from the logits the loss keeps growing and the gradient stays: this is what Keras' TF
    # backend computes for a sigmoid output layer
    value, grad = losses.BinaryCrossentropy().value_and_grad_logits(np.array([[1]]), np.array([[-30.0]]))
    np.testing.assert_allclose(value, 30.0, rtol=1e-9)
    np.testing.assert_allclose(grad, [[-1.0]], rtol=1e-9)


@pytest.mark.parametrize("loss, labels", [
    (losses.BinaryCrossentropy(label_smoothing=0.1), lambda rng: rng.integers(0, 2, (B, T, C))),
    (losses.CategoricalCrossentropy(), lambda rng: np.eye(C)[rng.integers(0, C, (B, T))]),
    (losses.SparseCategoricalCrossentropy(), lambda rng: rng.integers(0, C, (B, T))),
    (losses.MeanSquaredError(), lambda rng: rng.standard_normal((B, T, C))),
    (losses.MeanAbsoluteError(), lambda rng: rng.standard_normal((B, T, C))),
])
def test_float32_in_float32_out(rng, loss, labels):
    y_true = labels(rng)
    y_pred = rng.uniform(0.05, 0.9, (B, T, C))
    weights = rng.uniform(0, 2, (B, T))
    methods = [loss.value_and_grad] + ([loss.value_and_grad_logits] if hasattr(loss, "from_logits") else [])
    for method in methods:
        value, grad = method(y_true, y_pred.astype(np.float32), sample_weight=weights)
        assert grad.dtype == np.float32 and isinstance(value, float)
        value64, grad64 = method(y_true, y_pred, sample_weight=weights)
        np.testing.assert_allclose(value, value64, rtol=1e-6)
        np.testing.assert_allclose(grad, grad64, rtol=1e-5, atol=1e-7)


# -- lookup and config --------------------------------------------------------------------------
def test_get_names_as_keras():
    assert isinstance(losses.get("binary_crossentropy"), losses.BinaryCrossentropy)
    assert losses.get("mse").name == "mse"
    assert losses.get("MSE").name == "MSE"
    assert losses.get("mae").name == "mae"
    assert losses.get("BinaryCrossentropy").name == "binary_crossentropy"
    assert isinstance(losses.get("sparse_categorical_crossentropy"), losses.SparseCategoricalCrossentropy)
    assert isinstance(losses.get(losses.categorical_crossentropy), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.MeanAbsoluteError), losses.MeanAbsoluteError)
    loss = losses.BinaryCrossentropy(from_logits=True)
    assert losses.get(loss) is loss
    restored = losses.get({"class_name": "BinaryCrossentropy", "config": loss.get_config()})
    assert restored.get_config() == loss.get_config() and restored.from_logits
    with pytest.raises(ValueError, match="binary_crossentropy"):
        losses.get("binary_cross_entropy")


@pytest.mark.parametrize("loss", [
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.CategoricalCrossentropy(label_smoothing=0.2, reduction="sum"),
    losses.SparseCategoricalCrossentropy(ignore_class=0),
    losses.MeanSquaredError(name="m"),
    losses.MeanAbsoluteError(),
])
def test_config_round_trip(loss):
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()
