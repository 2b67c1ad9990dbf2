"""Resuming from a model file is exact: fit(2 epochs) equals fit(1), save, load, fit(1) bit for
bit, with shuffling and dropout, because the file keeps the random generators' states."""
import numpy as np
import pytest

from bptt import backend, layers, models, optimizers
from bptt.utils import set_random_seed
from tests.helpers import model_files as mf


def functional_model(seed):
    inputs = layers.Input(shape=(5,))
    x = layers.Embedding(12, 3)(inputs)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True, dropout=0.2,
                                         recurrent_dropout=0.2, seed=seed))(x)
    x = layers.Dropout(0.25, seed=None if seed is None else seed + 1)(x)
    x = layers.GRU(2)(x)
    model = models.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer=optimizers.RMSprop(0.01), loss="binary_crossentropy")
    return model


@pytest.mark.parametrize("build, seed", [(mf.small_model, None), (mf.small_model, 3),
                                         (functional_model, None), (functional_model, 7)])
def test_fit_save_load_fit_equals_fit_in_one_go(tmp_path, rng, build, seed):
    x, y = mf.data(rng, 32)
    set_random_seed(1)
    whole = build(seed)
    whole.fit(x, y, epochs=2, batch_size=8, shuffle=True, verbose=0)

    set_random_seed(1)
    first = build(seed)
    first.fit(x, y, epochs=1, batch_size=8, shuffle=True, verbose=0)
    first.save(tmp_path / "m.bptt")
    backend.global_rng().random(10)  # other draws between saving and loading
    resumed = models.load_model(tmp_path / "m.bptt")
    resumed.fit(x, y, epochs=1, batch_size=8, shuffle=True, verbose=0)

    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    # and the weights did depend on the draws: another shuffle gives others
    set_random_seed(2)
    other = build(seed)
    other.set_weights(first.get_weights())
    other.fit(x, y, epochs=1, batch_size=8, shuffle=True, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(other.get_weights(),
                                                           resumed.get_weights()))


def test_a_seeded_layer_draws_on_where_it_was(tmp_path, rng):
    set_random_seed(4)
    model = mf.small_model(seed=5)
    model.fit(*mf.data(rng), epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.bptt")
    loaded = models.load_model(tmp_path / "m.bptt", compile=False)
    lstm, twin = model.layers[1], loaded.layers[1]
    assert lstm._rng is not twin._rng
    np.testing.assert_array_equal(lstm.rng().random(6), twin.rng().random(6))


def test_compile_false_leaves_the_global_generator_alone(tmp_path, rng):
    set_random_seed(4)
    model = mf.small_model()
    model.fit(*mf.data(rng), epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.bptt")
    saved_state = backend.global_rng().bit_generator.state
    set_random_seed(99)
    before = backend.global_rng().bit_generator.state
    models.load_model(tmp_path / "m.bptt", compile=False)
    assert backend.global_rng().bit_generator.state == before
    models.load_model(tmp_path / "m.bptt")
    assert backend.global_rng().bit_generator.state == saved_state
