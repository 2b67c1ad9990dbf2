"""BatchNormalization and LayerNormalization against PyTorch's batch_norm / layer_norm, finite
differences, Keras' moving statistics, masked batch statistics and the non-trainable weights."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bptt import layers
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward

TOL = {np.dtype("float32"): 2e-5, np.dtype("float64"): 1e-10}


def set_random_weights(layer, rng):
    """Random gamma, beta, moving_mean; a positive moving_variance."""
    layer.set_weights([rng.uniform(0.5, 2.0, w.shape) if name.endswith("moving_variance")
                       else rng.normal(0, 0.7, w.shape)
                       for name, w in zip(layer.weight_names(), layer.get_weights())])


def assert_close(actual, expected, dtype, name):
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype] * scale,
                               err_msg=name)


def torch_batch_norm(x, axis, gamma, beta, moving_mean, moving_variance, dy, training, epsilon):
    """(y, dx, dgamma, dbeta) of F.batch_norm with the channels (Keras' axis) moved to axis 1."""
    x_t = torch.tensor(x, requires_grad=True)
    weights = [None if w is None else torch.tensor(w, requires_grad=True) for w in (gamma, beta)]
    stats = [None if training else torch.tensor(s) for s in (moving_mean, moving_variance)]
    y = F.batch_norm(x_t.movedim(axis, 1), *stats, *weights, training=training, eps=epsilon)
    y = y.movedim(1, axis)
    (y * torch.tensor(dy)).sum().backward()
    return (y.detach().numpy(), x_t.grad.numpy(),
            *[None if w is None else w.grad.numpy() for w in weights])


BN_CASES = [((4, 3), -1), ((5, 7, 3), -1), ((2, 7, 4), 1), ((3, 2, 5, 2), 2), ((1, 6, 2), -1)]


@pytest.mark.parametrize("shape, axis", BN_CASES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)])
def test_batch_norm_matches_torch(shape, axis, training, center, scale, floatx, rng):
    layer = layers.BatchNormalization(axis=axis, center=center, scale=scale, epsilon=0.01)
    layer.build((None,) + shape[1:])
    set_random_weights(layer, rng)
    before = {key: value.copy() for key, value in layer.params.items()}
    x = rng.normal(1.0, 2.0, size=shape).astype(floatx)
    dy = rng.normal(size=shape).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy, training=training)
    ref = torch_batch_norm(x, axis, before.get("gamma"), before.get("beta"),
                           before["moving_mean"], before["moving_variance"], dy, training, 0.01)
    assert y.dtype == dx.dtype == floatx
    for name, actual, expected in [("y", y, ref[0]), ("dx", dx, ref[1]),
                                   ("dgamma", grads.get("gamma"), ref[2]),
                                   ("dbeta", grads.get("beta"), ref[3])]:
        if expected is None:
            assert actual is None, name
        else:
            assert_close(actual, expected, floatx, name)


@pytest.mark.parametrize("shape, axis", BN_CASES)
def test_batch_norm_moving_statistics(shape, axis, floatx, rng):
    """Keras: moving = moving * momentum + batch * (1 - momentum), with the batch's biased
    variance (PyTorch's running_var uses the unbiased one, so it is no oracle here)."""
    layer = layers.BatchNormalization(axis=axis, momentum=0.9)
    layer.build((None,) + shape[1:])
    set_random_weights(layer, rng)
    moving_mean, moving_variance = (layer.params[k].astype(np.float64).copy()
                                    for k in ("moving_mean", "moving_variance"))
    reduce = tuple(a for a in range(len(shape)) if a != axis % len(shape))
    for _ in range(3):
        x = rng.normal(-1.0, 3.0, size=shape).astype(floatx)
        layer.forward(x, training=True)
        x64 = x.astype(np.float64)
        moving_mean = moving_mean * 0.9 + x64.mean(axis=reduce) * 0.1
        moving_variance = moving_variance * 0.9 + x64.var(axis=reduce) * 0.1
    assert_close(layer.params["moving_mean"], moving_mean, floatx, "moving_mean")
    assert_close(layer.params["moving_variance"], moving_variance, floatx, "moving_variance")
    frozen = {key: value.copy() for key, value in layer.params.items()}
    layer.forward(x, training=False)
    layer.trainable = False  # as Keras: a frozen layer normalizes with its moving statistics
    y = layer.forward(x, training=True)
    for key, value in frozen.items():
        np.testing.assert_array_equal(layer.params[key], value, err_msg=key)
    np.testing.assert_array_equal(y, layer.forward(x, training=False))


@pytest.mark.parametrize("shape, axis", [((4, 3), -1), ((2, 5, 3), 1), ((2, 2, 3, 2), -2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_finite_differences(shape, axis, training, float64, rng):
    """Every weight: in inference the moving statistics get their true gradient; in training y
    does not depend on them and both sides are zero."""
    layer = layers.BatchNormalization(axis=axis, epsilon=0.05)
    layer.build((None,) + shape[1:])
    set_random_weights(layer, rng)
    check_layer_by_finite_differences(layer, rng.normal(size=shape), rng.normal(size=shape),
                                      training=training)
    if training:
        assert not layer.grads["moving_mean"].any() and not layer.grads["moving_variance"].any()


def test_batch_norm_weights_and_non_trainable_statistics():
    layer = layers.BatchNormalization()
    layer.build((None, 10, 4))
    names = [name.split("/")[-1] for name in layer.weight_names()]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance"]  # Keras' order
    gamma, beta, mean, variance = layer.get_weights()
    assert all(w.shape == (4,) and w.dtype == np.float32 for w in (gamma, beta, mean, variance))
    assert (gamma == 1).all() and (beta == 0).all() and (mean == 0).all() and (variance == 1).all()
    assert layer.non_trainable == {"moving_mean", "moving_variance"}
    p = layer.params
    assert [id(w) for w in layer.trainable_weights] == [id(p["gamma"]), id(p["beta"])]
    assert ([id(w) for w in layer.non_trainable_weights]
            == [id(p["moving_mean"]), id(p["moving_variance"])])
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    bare = layers.BatchNormalization(center=False, scale=False)
    bare.build((None, 3))
    assert [n.split("/")[-1] for n in bare.weight_names()] == ["moving_mean", "moving_variance"]
    assert bare.trainable_weights == []


def test_batch_norm_config():
    layer = layers.BatchNormalization(axis=1, momentum=0.9)
    config = layer.get_config()
    for key, value in dict(axis=1, momentum=0.9, epsilon=1e-3, center=True, scale=True,
                           beta_initializer="zeros", gamma_initializer="ones",
                           moving_mean_initializer="zeros", moving_variance_initializer="ones",
                           renorm=False, synchronized=False, gamma_regularizer=None).items():
        assert config[key] == value, key
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is layers.BatchNormalization and clone.get_config() == config
    assert layers.BatchNormalization().get_config()["momentum"] == 0.99


# Masks (B, T): pre-padding, post-padding, a full row and a row of padding only, as Keras' tests.
MASK = np.array([[0, 0, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)
KERAS_EPSILON = 1e-7  # Keras' backend epsilon, in the divisor of its masked moments


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)])
def test_batch_norm_masked_finite_differences(axis, center, scale, float64, rng):
    """The masked training forward, input and every weight; dy is non-zero at padding too, whose
    outputs are normalized with the real steps' moments."""
    layer = layers.BatchNormalization(axis=axis, center=center, scale=scale, epsilon=0.05)
    layer.build((None, 5, 3))
    set_random_weights(layer, rng)
    x, dy = rng.normal(1.0, 2.0, size=(4, 5, 3)), rng.normal(size=(4, 5, 3))
    check_layer_by_finite_differences(layer, x, dy, training=True, mask=MASK)


def keras_masked_moments(x, mask, epsilon):
    """Keras' masked moments from PyTorch's batch_norm on the real steps only (B*T, C) -> (N, C):
    its running statistics (momentum 1) are the batch mean and unbiased variance; Keras divides
    by N + epsilon instead of N, so mean_k = mean N / (N + e) and
    var_k = (N var_biased + N (mean - mean_k)^2) / (N + e)."""
    real = torch.tensor(x[mask])  # (N, C)
    n = real.shape[0]
    mean, unbiased = torch.zeros(real.shape[1:], dtype=real.dtype), torch.zeros(real.shape[1:],
                                                                                 dtype=real.dtype)
    F.batch_norm(real, mean, unbiased, training=True, momentum=1.0)
    mean, biased = mean.double().numpy(), unbiased.double().numpy() * (n - 1) / n
    mean_k = mean * n / (n + epsilon)
    return mean_k, (n * biased + n * (mean - mean_k) ** 2) / (n + epsilon)


def test_batch_norm_masked_moments_match_torch_on_real_steps(floatx, rng):
    """One training step with a mask: the moving statistics move towards the moments of the
    real steps only, and every step (padding too) is normalized with them."""
    layer = layers.BatchNormalization(momentum=0.9, epsilon=0.01)
    layer.build((None, 5, 3))
    set_random_weights(layer, rng)
    before = {key: value.astype(np.float64) for key, value in layer.params.items()}
    x = rng.normal(1.0, 2.0, size=(4, 5, 3)).astype(floatx)
    x[~MASK] = 50.0  # padding far off: any leak into the moments would show
    y = layer.forward(x, training=True, mask=MASK)
    mean, variance = keras_masked_moments(x, MASK, KERAS_EPSILON)
    assert_close(layer.params["moving_mean"], 0.9 * before["moving_mean"] + 0.1 * mean, floatx,
                 "moving_mean")
    assert_close(layer.params["moving_variance"], 0.9 * before["moving_variance"] + 0.1 * variance,
                 floatx, "moving_variance")
    gamma, beta = (torch.tensor(layer.params[k]) for k in ("gamma", "beta"))
    for where in (MASK, ~MASK):  # real steps, then padding, normalized with the same moments
        expected = F.batch_norm(torch.tensor(x[where]), torch.tensor(mean).to(gamma.dtype),
                                torch.tensor(variance).to(gamma.dtype), gamma, beta,
                                training=False, eps=0.01)
        assert_close(y[where], expected.numpy(), floatx, "y")
    # PyTorch's own batch statistics on the real steps: equal up to Keras' epsilon (~1e-8).
    plain = F.batch_norm(torch.tensor(x[MASK]), None, None, gamma, beta, training=True, eps=0.01)
    np.testing.assert_allclose(y[MASK], plain.numpy(), rtol=2e-5, atol=2e-5)


def torch_masked_batch_norm(x, mask, gamma, beta, dy, epsilon):
    """Keras' masked training forward written in PyTorch; autograd gives (dx, dgamma, dbeta)."""
    x_t, gamma_t, beta_t = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    real = torch.tensor(mask)[..., None].expand(x_t.shape)  # (B, T, C)
    count = real.to(x_t.dtype).sum(dim=(0, 1)) + KERAS_EPSILON
    mean = torch.where(real, x_t, 0).sum(dim=(0, 1)) / count
    variance = torch.where(real, (x_t - mean) ** 2, 0).sum(dim=(0, 1)) / count
    y = (x_t - mean) / torch.sqrt(variance + epsilon) * gamma_t + beta_t
    (y * torch.tensor(dy)).sum().backward()
    return y.detach().numpy(), x_t.grad.numpy(), gamma_t.grad.numpy(), beta_t.grad.numpy()


def test_batch_norm_masked_backward_matches_torch_autograd(floatx, rng):
    layer = layers.BatchNormalization(epsilon=0.01)
    layer.build((None, 5, 3))
    set_random_weights(layer, rng)
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    x = rng.normal(1.0, 2.0, size=(4, 5, 3)).astype(floatx)
    dy = rng.normal(size=(4, 5, 3)).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy, training=True, mask=MASK)
    ref = torch_masked_batch_norm(x, MASK, gamma, beta, dy, 0.01)
    assert y.dtype == dx.dtype == floatx
    for name, actual, expected in zip(("y", "dx", "dgamma", "dbeta"),
                                      (y, dx, grads["gamma"], grads["beta"]), ref):
        assert_close(actual, expected, floatx, name)


def test_batch_norm_mask_passes_through_and_is_ignored_in_inference(rng):
    layer = layers.BatchNormalization()
    layer.build((None, 5, 3))
    set_random_weights(layer, rng)
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    assert layer.supports_masking and layer.compute_mask(x, MASK) is MASK
    plain = layer.forward(x, training=False)
    np.testing.assert_array_equal(layer.forward(x, training=False, mask=MASK), plain)
    np.testing.assert_array_equal(layer.infer(x, mask=MASK), plain)
    layer.trainable = False  # frozen: the moving statistics, the mask plays no part
    frozen = [w.copy() for w in layer.get_weights()]
    np.testing.assert_array_equal(layer.forward(x, training=True, mask=MASK), plain)
    for w, w0 in zip(layer.get_weights(), frozen):
        np.testing.assert_array_equal(w, w0)
    with pytest.raises(ValueError, match="one dimension less than the inputs"):
        layer.forward(x, training=True, mask=MASK[:, :, None])
    with pytest.raises(ValueError, match=r"leading sizes \(4, 5\)"):
        layer.forward(x, training=True, mask=MASK[:, :4])


def test_masked_batch_norm_in_a_model_skips_padding(rng):
    """Masking -> BatchNormalization: one training step moves the statistics with real steps."""
    from bptt import models

    x = rng.normal(2.0, 3.0, size=(4, 5, 3)).astype("float32")
    x[~MASK] = 0.0
    model = models.Sequential([layers.Input(shape=(5, 3)), layers.Masking(),
                               layers.BatchNormalization(), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(x, rng.normal(size=(4, 5, 2)).astype("float32"))
    bn = next(layer for layer in model.layers if isinstance(layer, layers.BatchNormalization))
    x64 = x[MASK].astype(np.float64)  # (N, C)
    np.testing.assert_allclose(bn.params["moving_mean"], 0.01 * x64.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.params["moving_variance"], 0.99 + 0.01 * x64.var(axis=0),
                               rtol=1e-5)


def torch_layer_norm(x, axes, gamma, beta, dy, epsilon):
    """F.layer_norm over `axes` (moved to the end, in order), with gamma / beta of their sizes."""
    x_t = torch.tensor(x, requires_grad=True)
    weights = [None if w is None else torch.tensor(w, requires_grad=True) for w in (gamma, beta)]
    rest = [a for a in range(x.ndim) if a not in axes]
    order = rest + list(axes)
    moved = x_t.permute(order)
    y = F.layer_norm(moved, moved.shape[len(rest):], *weights, eps=epsilon)
    y = y.permute(list(np.argsort(order)))
    (y * torch.tensor(dy)).sum().backward()
    return (y.detach().numpy(), x_t.grad.numpy(),
            *[None if w is None else w.grad.numpy() for w in weights])


LN_CASES = [((4, 5), -1, (1,)), ((3, 6, 5), -1, (2,)), ((3, 6, 5), 1, (1,)),
            ((2, 4, 3), [-2, -1], (1, 2)), ((2, 3, 4, 5), [3, 1], (1, 3)), ((1, 1, 7), -1, (2,))]


@pytest.mark.parametrize("shape, axis, axes", LN_CASES)
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)])
def test_layer_norm_matches_torch(shape, axis, axes, center, scale, floatx, rng):
    layer = layers.LayerNormalization(axis=axis, center=center, scale=scale)
    layer.build((None,) + shape[1:])
    set_random_weights(layer, rng)
    x = rng.normal(0.5, 2.0, size=shape).astype(floatx)
    dy = rng.normal(size=shape).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy, training=True)
    ref = torch_layer_norm(x, axes, layer.params.get("gamma"), layer.params.get("beta"), dy, 1e-3)
    assert y.dtype == dx.dtype == floatx
    for name, actual, expected in [("y", y, ref[0]), ("dx", dx, ref[1]),
                                   ("dgamma", grads.get("gamma"), ref[2]),
                                   ("dbeta", grads.get("beta"), ref[3])]:
        if expected is None:
            assert actual is None, name
        else:
            assert_close(actual, expected, floatx, name)


@pytest.mark.parametrize("shape, axis, axes", LN_CASES)
def test_layer_norm_finite_differences(shape, axis, axes, float64, rng):
    layer = layers.LayerNormalization(axis=axis, epsilon=0.05)
    layer.build((None,) + shape[1:])
    set_random_weights(layer, rng)
    check_layer_by_finite_differences(layer, rng.normal(size=shape), rng.normal(size=shape))


def test_layer_norm_weights_and_config():
    layer = layers.LayerNormalization(axis=[1, 2])
    layer.build((None, 6, 4))
    assert [n.split("/")[-1] for n in layer.weight_names()] == ["gamma", "beta"]
    assert [w.shape for w in layer.get_weights()] == [(6, 4), (6, 4)]
    config = layers.LayerNormalization().get_config()
    for key, value in dict(axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                           beta_initializer="zeros", gamma_initializer="ones").items():
        assert config[key] == value, key
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is layers.LayerNormalization and clone.get_config() == layer.get_config()
    assert len(layer.trainable_weights) == 2


@pytest.mark.parametrize("make, error, match", [
    (lambda: layers.BatchNormalization(axis=[1]), TypeError, "int `axis`"),
    (lambda: layers.BatchNormalization(renorm=True), NotImplementedError, "renorm"),
    (lambda: layers.BatchNormalization(synchronized=True), NotImplementedError, "synchronized"),
    (lambda: layers.BatchNormalization(gamma_regularizer="l2"), NotImplementedError,
     "gamma_regularizer"),
    (lambda: layers.BatchNormalization(momentun=0.9), TypeError, "momentun"),
    (lambda: layers.LayerNormalization(axis="last"), TypeError, "axis"),
    (lambda: layers.LayerNormalization(rms_scaling=True), NotImplementedError, "rms_scaling"),
    (lambda: layers.LayerNormalization(beta_constraint="non_neg"), NotImplementedError,
     "beta_constraint"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("cls", [layers.BatchNormalization, layers.LayerNormalization])
def test_bad_inputs(cls, rng):
    with pytest.raises(ValueError, match="out of range"):
        cls(axis=3).build((None, 5, 4))
    with pytest.raises(ValueError, match="known size"):
        cls(axis=0).build((None, 5, 4))
    layer = cls()
    layer.build((None, 5, 4))
    with pytest.raises(ValueError, match=r"built for inputs of shape \(None, 5, 4\)"):
        layer.forward(rng.normal(size=(2, 5, 3)).astype("float32"))
    with pytest.raises(ValueError, match="built for inputs"):
        layer.forward(rng.normal(size=(2, 4)).astype("float32"))
    # Another time length is fine: only the normalized axis is fixed, as in Keras.
    assert layer.forward(rng.normal(size=(2, 9, 4)).astype("float32")).shape == (2, 9, 4)
    with pytest.raises(ValueError, match="duplicate"):
        layers.LayerNormalization(axis=[2, -1]).build((None, 5, 4))


def test_fit_leaves_the_moving_statistics_to_forward(rng):
    """In a model, only forward moves moving_mean / moving_variance: the optimizer (here with a
    weight decay that would shrink every weight it is given) never sees them."""
    from bptt import models, optimizers

    x = rng.normal(2.0, 3.0, size=(8, 5, 3)).astype("float32")
    y = rng.normal(size=(8, 5, 2)).astype("float32")
    model = models.Sequential([layers.Input(shape=(5, 3)), layers.BatchNormalization(),
                               layers.Dense(2)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1, weight_decay=0.5), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    bn = next(layer for layer in model.layers if isinstance(layer, layers.BatchNormalization))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(bn.params["moving_mean"], 0.01 * x64.mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(bn.params["moving_variance"],
                               0.99 + 0.01 * x64.var(axis=(0, 1)), rtol=1e-5)
    assert not np.allclose(bn.params["gamma"], 1)  # gamma did train
