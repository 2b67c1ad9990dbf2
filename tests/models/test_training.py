"""The one training loop fed by datasets: Python generators, PyDataset-style objects,
re-iterables and tf.data-style datasets give the same steps as the same batches as arrays."""
import random

import numpy as np
import pytest

from bptt import layers, models, optimizers


def _model(seed_weights=None):
    model = models.Sequential([layers.Input((5, 2)), layers.GRU(3), layers.Dense(1)])
    if seed_weights is not None:
        model.set_weights(seed_weights)
    model.compile(optimizer=optimizers.SGD(0.05, momentum=0.5), loss="mse", metrics=["mae"])
    return model


def _data(rng, n=12):
    return rng.normal(size=(n, 5, 2)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


class Batches:
    """A PyDataset-style object: len() batches, batch i by index, a hook after each epoch."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


class FakeTFDataset:
    """What bptt reads from a tf.data.Dataset: as_numpy_iterator() over (x, y) tuples."""

    def __init__(self, x, y, batch_size):
        self.batches = [(x[i:i + batch_size], y[i:i + batch_size])
                        for i in range(0, len(x), batch_size)]

    def as_numpy_iterator(self):
        return iter(self.batches)

    def __iter__(self):
        raise AssertionError("a tf.data.Dataset is read through as_numpy_iterator()")

    def __len__(self):
        return len(self.batches)


def _generator(x, y, batch_size, repeat):
    for _ in range(repeat):
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]


@pytest.mark.parametrize("kind", ["generator", "pydataset", "tf_dataset", "list_of_batches"])
def test_datasets_train_as_the_same_arrays(kind, rng):
    x, y = _data(rng)
    reference = _model()
    weights = reference.get_weights()
    expected = reference.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    model = _model(weights)
    if kind == "generator":
        data, extra = _generator(x, y, 4, repeat=2), {"steps_per_epoch": 3}
    elif kind == "pydataset":
        data, extra = Batches(x, y, 4), {}
    elif kind == "tf_dataset":
        data, extra = FakeTFDataset(x, y, 4), {}
    else:
        data, extra = _ReIterable(list(_generator(x, y, 4, repeat=1))), {}
    history = model.fit(data, epochs=2, verbose=0, shuffle=False, **extra).history
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-6)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    if kind == "pydataset":
        assert data.epochs_ended == 2


class _ReIterable:
    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def test_evaluate_predict_and_validation_on_datasets(rng):
    x, y = _data(rng)
    model = _model()
    expected_eval = model.evaluate(x, y, batch_size=4, verbose=0)
    assert model.evaluate(Batches(x, y, 4), verbose=0) == pytest.approx(expected_eval, rel=1e-6)
    # the same batches as the arrays' (float32 sums over other row counts may differ in an ulp)
    np.testing.assert_allclose(model.predict(Batches(x, y, 4), verbose=0),
                               model.predict(x, batch_size=4, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(
        model.predict((xb for xb, _ in _generator(x, y, 5, 1)), verbose=0),
        model.predict(x, batch_size=5, verbose=0), rtol=1e-6)
    history = model.fit(Batches(x, y, 4), validation_data=FakeTFDataset(x, y, 6), verbose=0)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]


def test_generator_runs_on_across_epochs_and_warns_when_it_runs_out(rng):
    x, y = _data(rng)
    model = _model()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(_generator(x, y, 4, repeat=1), epochs=3, steps_per_epoch=2,
                            verbose=0)
    assert history.history["loss"][0] != history.history["loss"][1]  # epoch 2: the 3rd batch


def test_dataset_errors_are_clear(rng):
    x, y = _data(rng)
    model = _model()
    with pytest.raises(ValueError, match="validation_split is only supported for NumPy"):
        model.fit(Batches(x, y, 4), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="do not pass y"):
        model.fit(Batches(x, y, 4), y, verbose=0)
    with pytest.raises(ValueError, match="without targets"):
        model.fit(iter([x[:4], x[4:8]]), verbose=0)
    before = model.get_weights()
    with pytest.raises(ValueError, match="expects inputs of shape"):
        model.fit(iter([(x[:, :, :1], y)]), verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_fit_shuffles_a_pydatasets_batches_as_keras_does(rng):
    """Keras' PyDataset adapter visits the batches of epoch e in the order
    random.Random(e).shuffle gives, calling on_epoch_begin / on_epoch_end around each epoch."""
    x, y = _data(rng, n=16)
    reference = _model()
    weights = reference.get_weights()
    for epoch in range(3):
        order = list(range(4))
        random.Random(epoch).shuffle(order)
        for index in order:
            reference.train_on_batch(x[index * 4:(index + 1) * 4], y[index * 4:(index + 1) * 4])
    data = Batches(x, y, 4)
    model = _model(weights)
    model.fit(data, epochs=3, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert data.epochs_ended == 3


def test_class_weight_weighs_dataset_batches_as_arrays(rng):
    x, _ = _data(rng)
    y = (rng.random((12, 1)) > 0.5).astype("float32")
    reference = _model()
    weights = reference.get_weights()
    expected = reference.fit(x, y, batch_size=4, shuffle=False, verbose=0,
                             class_weight={0: 1.0, 1: 3.0}).history["loss"]
    model = _model(weights)
    got = model.fit(Batches(x, y, 4), shuffle=False, verbose=0,
                    class_weight={0: 1.0, 1: 3.0}).history["loss"]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
