"""PyDataset / Sequence as Keras 3 defines them: the constructor's arguments kept, batches by
index, iteration in index order (endless when num_batches is None), the epoch hooks, and fit /
predict reading one."""
import itertools
import math
import warnings

import numpy as np
import pytest

from bptt import layers, models, utils
from tests.helpers import assert_close


class Batches(utils.PyDataset):
    def __init__(self, x, y=None, batch_size=4, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return (self.x[part],) if self.y is None else (self.x[part], self.y[part])

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_sequence_is_the_same_class():
    assert utils.Sequence is utils.PyDataset


def test_constructor_arguments_are_kept_with_keras_defaults():
    dataset = Batches(np.arange(8), workers=4, use_multiprocessing=True, max_queue_size=3)
    assert (dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size) == (4, True, 3)
    plain = Batches(np.arange(8))
    assert (plain.workers, plain.use_multiprocessing, plain.max_queue_size) == (1, False, 10)


def test_a_subclass_that_skips_super_init_is_warned_and_gets_the_defaults():
    class NoSuper(utils.PyDataset):
        def __init__(self):
            self.n = 3

    dataset = NoSuper()
    with pytest.warns(UserWarning, match=r"super\(\).__init__"):
        assert dataset.workers == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once filled in, no second warning
        assert dataset.max_queue_size == 10


def test_iteration_gives_the_batches_in_index_order():
    dataset = Batches(np.arange(10), np.arange(10) * 2, batch_size=4)
    assert dataset.num_batches == len(dataset) == 3
    parts = list(dataset)
    assert len(parts) == 3
    np.testing.assert_array_equal(parts[2][0], [8, 9])
    np.testing.assert_array_equal(parts[1][1], [8, 10, 12, 14])


def test_num_batches_none_iterates_endlessly():
    class Endless(utils.PyDataset):
        num_batches = None

        def __getitem__(self, index):
            return np.full((2, 1), index)

    first = list(itertools.islice(iter(Endless()), 5))
    assert [int(batch[0, 0]) for batch in first] == [0, 1, 2, 3, 4]


def test_the_base_class_says_what_to_write():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        utils.PyDataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        utils.PyDataset().num_batches
    hooks = utils.PyDataset()
    assert hooks.on_epoch_begin() is None and hooks.on_epoch_end() is None


def test_fit_reads_every_batch_and_calls_on_epoch_end_per_epoch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3, 2)).astype("float32")
    y = rng.normal(size=(10, 1)).astype("float32")
    model = models.Sequential([layers.Input((3, 2)), layers.GRU(3), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    train = Batches(x, y, batch_size=4)
    model.fit(train, epochs=2, verbose=0)
    assert train.epochs_ended == 2
    assert np.isclose(model.evaluate(Batches(x, y, batch_size=4), verbose=0),
                      model.evaluate(x, y, batch_size=4, verbose=0), rtol=1e-6)
    predictions = model.predict(Batches(x, batch_size=3), verbose=0)
    # batches of 3 against one of 10: float32 products summed in another order (rtol alone
    # fails on an output near 0)
    assert_close(predictions, model.predict(x, verbose=0), "predictions")
    assert predictions.shape == (10, 1)


def test_sample_weights_in_the_third_place():
    x = np.ones((4, 2, 1), dtype="float32")
    y = np.array([[0.0], [0.0], [1.0], [1.0]], dtype="float32")

    class Weighted(utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return x, y, np.array([1.0, 1.0, 0.0, 0.0], dtype="float32")

    model = models.Sequential([layers.Input((2, 1)), layers.SimpleRNN(2), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    prediction = model.predict(x, verbose=0)
    # Keras' weighted mean over the batch: sum(w * err) / batch size.
    expected = np.sum(np.array([1, 1, 0, 0]) * (prediction[:, 0] - y[:, 0]) ** 2) / 4
    assert np.isclose(model.evaluate(Weighted(), verbose=0), expected, rtol=1e-5)
