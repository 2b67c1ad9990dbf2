"""Initializers: Keras' classes, names and maths (exact values, limits, moments,
orthogonality), seeds as Keras 3 treats them, lookup, configs, and saving a model built with them.

Expected values come from the definitions in Keras' documentation (keras/src/initializers),
written out here, never from bptt's code."""
import json
import zipfile

import numpy as np
import pytest

from bptt import initializers, layers, models
from bptt.utils import set_random_seed

TRUNCATION = 0.87962566103423978  # stddev of a unit normal truncated at +-2
BIG = (400, 600)  # fan_in 400, fan_out 600: enough draws for the moments to 2-3 %


# -- exact values -------------------------------------------------------------------------------
def test_zeros_ones_constant_are_exact_in_the_dtype_asked():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3), "float32"))
    np.testing.assert_array_equal(initializers.Ones()((4,), "float64"), np.ones(4))
    c = initializers.Constant(0.1)((2, 2), "float64")
    assert c.dtype == np.float64 and np.all(c == 0.1)
    assert initializers.Constant(3)((2,)).dtype == np.float32  # floatx by default
    matrix = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(initializers.Constant(matrix)((3, 2), "float64"), matrix)
    with pytest.raises(ValueError, match=r"does not broadcast to the weight's shape \(4, 2\)"):
        initializers.Constant(matrix)((4, 2))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_identity_is_gain_times_the_rectangular_eye(shape):
    value = initializers.Identity(gain=2.5)(shape, "float64")
    expected = np.zeros(shape)
    for i in range(min(shape)):
        expected[i, i] = 2.5
    np.testing.assert_array_equal(value, expected)
    with pytest.raises(ValueError, match="2D matrices"):
        initializers.Identity()((3,))


# -- distributions ------------------------------------------------------------------------------
def test_random_uniform_and_normal_follow_their_arguments():
    u = initializers.RandomUniform(minval=-0.3, maxval=0.7, seed=1)(BIG, "float64")
    assert u.min() >= -0.3 and u.max() < 0.7
    assert u.mean() == pytest.approx(0.2, abs=0.01)
    assert u.var() == pytest.approx(1.0 / 12, rel=0.03)  # (b - a)^2 / 12
    n = initializers.RandomNormal(mean=1.0, stddev=0.2, seed=2)(BIG, "float64")
    assert n.mean() == pytest.approx(1.0, abs=0.002) and n.std() == pytest.approx(0.2, rel=0.02)
    defaults = initializers.RandomUniform(seed=3)((50, 50), "float64")
    assert defaults.min() >= -0.05 and defaults.max() < 0.05


def test_truncated_normal_stays_within_two_stddev():
    t = initializers.TruncatedNormal(mean=0.5, stddev=0.1, seed=4)(BIG, "float64")
    assert np.abs(t - 0.5).max() <= 0.2
    assert t.std() == pytest.approx(0.1 * TRUNCATION, rel=0.02)


# (class, scale, fan used): Keras' VarianceScaling settings of each named initializer
VARIANCE_SCALING = [
    (initializers.GlorotUniform, 1.0, "avg", "uniform"),
    (initializers.GlorotNormal, 1.0, "avg", "normal"),
    (initializers.HeUniform, 2.0, "in", "uniform"),
    (initializers.HeNormal, 2.0, "in", "normal"),
    (initializers.LecunUniform, 1.0, "in", "uniform"),
    (initializers.LecunNormal, 1.0, "in", "normal"),
]


@pytest.mark.parametrize("cls, scale, fan, kind", VARIANCE_SCALING)
def test_variance_scaling_family_limits_and_spread(cls, scale, fan, kind):
    n = {"in": BIG[0], "avg": (BIG[0] + BIG[1]) / 2}[fan]
    w = cls(seed=5)(BIG, "float64")
    if kind == "uniform":
        limit = np.sqrt(3 * scale / n)  # e.g. Glorot: sqrt(6 / (fan_in + fan_out))
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
        assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.03)
    else:
        stddev = np.sqrt(scale / n)  # the truncated draw's stddev is the intended one
        assert np.abs(w).max() <= 2 * stddev / TRUNCATION
        assert w.std() == pytest.approx(stddev, rel=0.03)
    assert abs(w.mean()) < 0.02 * np.sqrt(scale / n)


def test_glorot_uniform_limit_of_an_lstm_kernel_and_a_conv_kernel():
    # An LSTM kernel (I, 4H) is one matrix: fans I and 4H.
    w = initializers.GlorotUniform(seed=6)((10, 4 * 30), "float64")
    assert np.abs(w).max() <= np.sqrt(6 / (10 + 120))
    # A Conv1D kernel (k, in, out): fans in * k and out * k.
    assert initializers.compute_fans((3, 4, 5)) == (12, 15)
    w = initializers.GlorotUniform(seed=6)((3, 4, 5), "float64")
    assert np.abs(w).max() <= np.sqrt(6 / (12 + 15))


@pytest.mark.parametrize("shape", [(5, 5), (3, 8), (8, 3), (64, 256), (2, 3, 4)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape):
    q = initializers.Orthogonal(gain=1.5, seed=7)(shape, "float64").reshape(-1, shape[-1])
    rows, cols = q.shape
    gram = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(gram, 1.5 ** 2 * np.eye(min(rows, cols)), atol=1e-12)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((4,))


# -- seeds --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [initializers.RandomUniform, initializers.RandomNormal,
                                 initializers.TruncatedNormal, initializers.GlorotUniform,
                                 initializers.HeNormal, initializers.Orthogonal])
def test_an_instance_gives_the_same_values_on_every_call_as_keras(cls):
    seeded = cls(seed=11)
    np.testing.assert_array_equal(seeded((6, 4)), seeded((6, 4)))
    np.testing.assert_array_equal(seeded((6, 4)), cls(seed=11)((6, 4)))
    assert not np.array_equal(seeded((6, 4)), cls(seed=12)((6, 4)))
    # Keras documents the same for an unseeded instance: its seed is drawn once.
    unseeded = cls()
    np.testing.assert_array_equal(unseeded((6, 4)), unseeded((6, 4)))


def test_unseeded_instances_follow_set_random_seed():
    set_random_seed(21)
    first = initializers.GlorotUniform()((3, 3))
    set_random_seed(21)
    np.testing.assert_array_equal(initializers.GlorotUniform()((3, 3)), first)


def test_a_name_draws_from_the_layers_generator():
    a, b = layers.Dense(4, kernel_initializer="glorot_uniform"), layers.Dense(4)
    a.build((None, 3)), b.build((None, 3))
    assert not np.array_equal(a.get_weights()[0], b.get_weights()[0])
    set_random_seed(5)
    first = layers.LSTM(3)
    first.build((None, 2, 4))
    set_random_seed(5)
    again = layers.LSTM(3)
    again.build((None, 2, 4))
    for x, y in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(x, y)


def test_one_seeded_instance_in_two_layers_gives_both_the_same_weights():
    init = initializers.GlorotUniform(seed=3)
    a, b = layers.Dense(4, kernel_initializer=init), layers.Dense(4, kernel_initializer=init)
    a.build((None, 3)), b.build((None, 3))
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])


# -- lookup and configs -------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("GlorotUniform", initializers.GlorotUniform),
    ("constant", initializers.Constant), ("Constant", initializers.Constant),
    ("orthogonal", initializers.Orthogonal), ("he_normal", initializers.HeNormal),
    ("uniform", initializers.RandomUniform), ("normal", initializers.RandomNormal),
    ("zeros", initializers.Zeros), ("one", initializers.Ones),
    ("truncated_normal", initializers.TruncatedNormal), ("lecun_uniform", initializers.LecunUniform),
    ("variance_scaling", initializers.VarianceScaling), ("IdentityInitializer", initializers.Identity),
])
def test_get_resolves_keras_names(name, cls):
    assert type(initializers.get(name)) is cls
    assert initializers.glorot_uniform is initializers.GlorotUniform  # Keras' lowercase aliases


def test_get_takes_instances_classes_dicts_and_callables():
    init = initializers.Constant(0.1)
    assert initializers.get(init) is init
    assert type(initializers.get(initializers.HeUniform)) is initializers.HeUniform
    restored = initializers.get({"class_name": "RandomNormal",
                                 "config": {"mean": 1.0, "stddev": 0.5, "seed": 3}})
    np.testing.assert_array_equal(restored((2, 2)), initializers.RandomNormal(1.0, 0.5, 3)((2, 2)))
    fn = initializers.get(lambda shape, dtype=None: np.full(shape, 0.5))
    np.testing.assert_array_equal(fn((2,), "float64", None), [0.5, 0.5])
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_unifrom")


ALL = [initializers.Zeros(), initializers.Ones(), initializers.Constant(0.25),
       initializers.Identity(gain=2.0), initializers.RandomUniform(-1, 1, seed=1),
       initializers.RandomNormal(0.5, 2.0, seed=2), initializers.TruncatedNormal(seed=3),
       initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=4),
       initializers.GlorotUniform(seed=5), initializers.GlorotNormal(seed=6),
       initializers.HeUniform(seed=7), initializers.HeNormal(seed=8),
       initializers.LecunUniform(seed=9), initializers.LecunNormal(seed=10),
       initializers.Orthogonal(gain=0.5, seed=11)]


@pytest.mark.parametrize("init", ALL, ids=lambda i: type(i).__name__)
def test_config_round_trip_gives_the_same_values(init):
    config = json.loads(json.dumps(initializers.serialize(init)))
    restored = initializers.deserialize(config)
    assert type(restored) is type(init) and restored.get_config() == init.get_config()
    np.testing.assert_array_equal(restored((4, 4), "float64"), init((4, 4), "float64"))


def test_keras_config_keys():
    assert initializers.GlorotUniform(seed=1).get_config() == {
        "seed": 1, "input_axes": None, "output_axes": None}
    assert initializers.Orthogonal().get_config() == {"seed": None, "gain": 1.0}
    assert initializers.Constant(np.float32(2)).get_config() == {"value": 2.0}


# -- in layers and saved models -----------------------------------------------------------------
def test_every_weight_of_a_recurrent_model_can_take_an_instance(tmp_path):
    matrix = np.arange(12.0).reshape(6, 2)
    model = models.Sequential([
        layers.Input(shape=(5,)),
        layers.Embedding(6, 2, embeddings_initializer=initializers.Constant(matrix)),
        layers.Bidirectional(layers.LSTM(3, return_sequences=True,
                                         kernel_initializer=initializers.GlorotUniform(seed=1),
                                         recurrent_initializer=initializers.Identity(),
                                         bias_initializer=initializers.Constant(0.1))),
        layers.GRU(2, kernel_initializer=initializers.Orthogonal(seed=2)),
        layers.Dense(1, kernel_initializer=initializers.Constant(0.1),
                     bias_initializer="zeros"),
    ])
    embedding, bidirectional, gru, dense = model.layers[-4:]
    np.testing.assert_array_equal(embedding.get_weights()[0], matrix.astype("float32"))
    forward_kernel, forward_recurrent, forward_bias = bidirectional.get_weights()[:3]
    np.testing.assert_array_equal(forward_recurrent, np.eye(3, 12, dtype="float32"))
    # unit_forget_bias (Keras' default): the forget gate's block (i, f, c, o) starts at one
    np.testing.assert_array_equal(forward_bias, np.float32([0.1] * 3 + [1.0] * 3 + [0.1] * 6))
    assert np.all(dense.get_weights()[0] == np.float32(0.1))
    path = tmp_path / "model.bptt"
    model.save(path)

    with zipfile.ZipFile(path) as archive:
        saved = archive.read("config.json").decode()
    assert '"class_name": "Constant"' in saved and '"class_name": "Orthogonal"' in saved
    loaded = models.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    loaded_dense = loaded.layers[-1]
    assert isinstance(initializers.get(loaded_dense.kernel_initializer), initializers.Constant)
    # The architecture alone rebuilds every seeded or constant weight: all but the GRU's
    # recurrent kernel, drawn by name ('orthogonal') from the global generator.
    rebuilt = models.Sequential.from_config(json.loads(saved)["config"])
    names = model.weight_names()
    assert names == rebuilt.weight_names()
    for name, a, b in zip(names, model.get_weights(), rebuilt.get_weights()):
        if name != f"{gru.name}/recurrent_kernel":
            np.testing.assert_array_equal(a, b, err_msg=name)
