"""timeseries_dataset_from_array against Keras' docstring examples and windows worked out by hand
from Keras' rule: windows start at p = 0, k, 2k, ... while p + (L - 1) * r stays inside
data[start_index:end_index] (and p < len(targets)); window p's target is
targets[start_index + p]."""
import tracemalloc

import numpy as np
import pytest

from bptt import utils
from bptt.utils import timeseries_dataset_from_array


def batches(dataset):
    return [tuple(np.asarray(part) for part in b) if isinstance(b, tuple) else np.asarray(b)
            for b in dataset]


# --- Keras' docstring examples -------------------------------------------------------------

def test_keras_example_1_windows_with_stride_and_sampling_rate():
    dataset = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10,
                                            sampling_rate=2, sequence_stride=3, batch_size=4)
    windows = np.concatenate(batches(dataset))
    np.testing.assert_array_equal(windows[0], [0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
    np.testing.assert_array_equal(windows[1], [3, 5, 7, 9, 11, 13, 15, 17, 19, 21])
    np.testing.assert_array_equal(windows[2], [6, 8, 10, 12, 14, 16, 18, 20, 22, 24])
    np.testing.assert_array_equal(windows[-1], [78, 80, 82, 84, 86, 88, 90, 92, 94, 96])
    assert len(windows) == 27  # starts 0, 3, ..., 78: the next (81) would end at 99
    assert len(dataset) == 7  # 6 batches of 4 and one of 3


def test_keras_example_2_next_step_regression():
    data = np.random.default_rng(0).normal(size=50)
    dataset = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    inputs, targets = next(iter(dataset))
    np.testing.assert_array_equal(inputs[0], data[:10])
    assert targets[0] == data[10]
    np.testing.assert_array_equal(inputs[-1], data[30:40])  # 31 windows: starts 0..30
    assert targets[-1] == data[40] and len(inputs) == 31


def test_keras_example_3_many_to_many_from_two_datasets():
    x, y = np.arange(100), np.arange(100) * 2
    inputs = timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20)
    targets = timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20)
    for batch_x, batch_y in zip(inputs, targets):
        np.testing.assert_array_equal(batch_x[0], x[:20])
        np.testing.assert_array_equal(batch_y[1], y[20:40])
        assert batch_x.shape == (5, 20)


# --- worked out by hand --------------------------------------------------------------------

def test_start_and_end_index_cut_data_and_targets_alike():
    # data[2:8] = 2..7 holds windows starting at 2, 3, 4, 5; targets[2 + p].
    dataset = timeseries_dataset_from_array(np.arange(10), np.arange(100, 110), 3,
                                            start_index=2, end_index=8, batch_size=2)
    (x1, y1), (x2, y2) = batches(dataset)
    np.testing.assert_array_equal(x1, [[2, 3, 4], [3, 4, 5]])
    np.testing.assert_array_equal(y1, [102, 103])
    np.testing.assert_array_equal(x2, [[4, 5, 6], [5, 6, 7]])
    np.testing.assert_array_equal(y2, [104, 105])


def test_short_targets_limit_the_windows():
    (x, y), = batches(timeseries_dataset_from_array(np.arange(10), np.arange(3), 3))
    np.testing.assert_array_equal(x, [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y, [0, 1, 2])


def test_targets_too_short_for_a_start_index_is_an_error():
    with pytest.raises(ValueError, match="targets has 6 entries"):
        timeseries_dataset_from_array(np.arange(10), np.arange(6), 3, start_index=3)


def test_features_and_target_vectors_keep_their_axes():
    data = np.arange(24, dtype="float32").reshape(12, 2)  # (T, F)
    targets = np.arange(36).reshape(12, 3)
    x, y = next(iter(timeseries_dataset_from_array(data, targets, 4, batch_size=5)))
    assert x.shape == (5, 4, 2) and x.dtype == np.float32
    assert y.shape == (5, 3) and y.dtype == targets.dtype
    np.testing.assert_array_equal(x[1], data[1:5])
    np.testing.assert_array_equal(y[4], targets[4])


def test_no_targets_yields_arrays_and_the_last_batch_is_smaller():
    parts = batches(timeseries_dataset_from_array(np.arange(7), None, 2, batch_size=4))
    assert all(isinstance(part, np.ndarray) for part in parts)
    np.testing.assert_array_equal(parts[0], [[0, 1], [1, 2], [2, 3], [3, 4]])
    np.testing.assert_array_equal(parts[1], [[4, 5], [5, 6]])


def test_batch_size_none_yields_single_windows():
    dataset = timeseries_dataset_from_array(np.arange(6), np.arange(6) * 10, 3, batch_size=None)
    assert len(dataset) == 4
    x, y = batches(dataset)[2]
    np.testing.assert_array_equal(x, [2, 3, 4])
    assert y.shape == () and y == 20


def test_python_lists_get_tensorflows_default_dtypes():
    x, y = next(iter(timeseries_dataset_from_array([1.0, 2, 3, 4], [0, 1, 2, 3], 2)))
    assert x.dtype == np.float32 and y.dtype == np.int32
    x = next(iter(timeseries_dataset_from_array([1, 2, 3, 4], None, 2)))
    assert x.dtype == np.int32


def test_windows_longer_than_the_data_give_an_empty_dataset():
    dataset = timeseries_dataset_from_array(np.arange(10), None, sequence_length=20)
    assert len(dataset) == 0 and list(dataset) == []


def test_end_index_zero_is_not_checked_and_leaves_no_windows():
    # Keras tests `if end_index:`, so 0 passes the checks and then cuts the data to nothing.
    assert len(timeseries_dataset_from_array(np.arange(10), None, 2, end_index=0)) == 0


def test_it_is_re_iterable_and_take_keeps_the_first_batches():
    dataset = timeseries_dataset_from_array(np.arange(20), np.arange(20), 3, batch_size=4)
    first, second = batches(dataset), batches(dataset)
    assert len(first) == len(dataset) == 5
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
    taken = dataset.take(2)
    assert len(taken) == 2 and len(batches(taken)) == 2 and len(batches(taken)) == 2
    np.testing.assert_array_equal(batches(taken)[1][0], first[1][0])
    assert len(dataset.take(-1)) == 5 and len(dataset.take(99)) == 5
    assert len(list(dataset.as_numpy_iterator())) == 5


def test_windows_are_gathered_per_batch_not_all_at_once():
    data = np.zeros((20_000, 16), dtype="float32")  # all windows: 20k x 200 x 16 x 4 B = 256 MB
    tracemalloc.start()
    dataset = timeseries_dataset_from_array(data, None, sequence_length=200, batch_size=32)
    x = next(iter(dataset))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert x.shape == (32, 200, 16)
    assert peak < 8 * 2**20, peak


# --- edge cases, each as Keras 3.15 gives it ----------------------------------------------

def test_data_exactly_one_window_long_gives_one_window():
    (x,) = batches(timeseries_dataset_from_array(np.arange(3), None, 3))
    np.testing.assert_array_equal(x, [[0, 1, 2]])


def test_a_stride_past_the_last_start_keeps_only_the_first_window():
    (x,) = batches(timeseries_dataset_from_array(np.arange(6), None, 3, sequence_stride=5))
    np.testing.assert_array_equal(x, [[0, 1, 2]])  # the next start, 5, has no room


def test_with_a_sampling_rate_the_target_still_goes_with_the_window_start():
    (x, y), = batches(timeseries_dataset_from_array(np.arange(10), np.arange(100, 110), 3,
                                                    sampling_rate=2, batch_size=8))
    np.testing.assert_array_equal(x, [[0, 2, 4], [1, 3, 5], [2, 4, 6], [3, 5, 7], [4, 6, 8],
                                      [5, 7, 9]])
    np.testing.assert_array_equal(y, [100, 101, 102, 103, 104, 105])  # not the window's end


def test_end_index_holds_the_last_sampled_step_below_it():
    (x,) = batches(timeseries_dataset_from_array(np.arange(20), None, 3, sampling_rate=2,
                                                 end_index=10, batch_size=10))
    assert x[-1].tolist() == [5, 7, 9] and len(x) == 6  # start 6 would need data[10]


def test_targets_longer_than_the_data_are_cut_to_the_windows():
    (x, y), = batches(timeseries_dataset_from_array(np.arange(5), np.arange(10, 20), 2,
                                                    batch_size=10))
    np.testing.assert_array_equal(x, [[0, 1], [1, 2], [2, 3], [3, 4]])
    np.testing.assert_array_equal(y, [10, 11, 12, 13])


def test_a_start_index_with_no_room_left_gives_an_empty_dataset():
    dataset = timeseries_dataset_from_array(np.arange(10), None, 3, start_index=8)
    assert len(dataset) == 0 and batches(dataset) == []


def test_a_seed_without_shuffle_leaves_the_order_alone():
    (x,) = batches(timeseries_dataset_from_array(np.arange(6), None, 2, seed=3))
    np.testing.assert_array_equal(x[:, 0], [0, 1, 2, 3, 4])


def test_windows_of_a_grid_keep_its_axes_and_a_stride_skips_starts():
    data = np.arange(24).reshape(6, 2, 2)  # (T, 2, 2)
    (x,) = batches(timeseries_dataset_from_array(data, None, 2, sequence_stride=2,
                                                 batch_size=5))
    assert x.shape == (3, 2, 2, 2)
    np.testing.assert_array_equal(x[1], data[2:4])


def test_batch_size_none_yields_windows_without_a_batch_axis():
    x, y = batches(timeseries_dataset_from_array(np.arange(8).reshape(4, 2), np.arange(4), 3,
                                                 batch_size=None))[1]
    np.testing.assert_array_equal(x, [[2, 3], [4, 5], [6, 7]])  # (L, F)
    assert y.shape == () and y == 1


# --- shuffle ---------------------------------------------------------------------------------

def starts_of(dataset):
    return [int(w) for b in dataset for w in np.asarray(b)[:, 0]]


def test_shuffle_gives_every_window_once_per_pass_in_a_new_order():
    dataset = timeseries_dataset_from_array(np.arange(60), None, 3, batch_size=4, shuffle=True,
                                            seed=3)
    first, second = starts_of(dataset), starts_of(dataset)
    assert sorted(first) == sorted(second) == list(range(58))
    assert first != second and first != list(range(58))


def test_shuffle_with_a_seed_repeats_pass_for_pass():
    make = lambda: timeseries_dataset_from_array(np.arange(60), np.arange(60), 3, batch_size=4,
                                                 shuffle=True, seed=11)
    a, b = make(), make()
    assert [starts_of([x for x, _ in a]) for _ in range(3)] == \
        [starts_of([x for x, _ in b]) for _ in range(3)]
    for x, y in a:  # targets still follow their windows
        np.testing.assert_array_equal(y, x[:, 0])


def test_shuffle_is_keras_permutation_then_a_buffer_of_batch_size_times_8():
    # Keras permutes the starts with RandomState(seed).shuffle, then tf.data's buffer of
    # batch_size * 8 draws from the next 8 waiting windows: output k comes from the first
    # k + 8 windows of that permutation.
    permutation = np.arange(40)
    np.random.RandomState(5).shuffle(permutation)
    position = {int(start): i for i, start in enumerate(permutation)}
    dataset = timeseries_dataset_from_array(np.arange(42), None, 3, batch_size=1, shuffle=True,
                                            seed=5)
    for _ in range(3):
        out = starts_of(dataset)
        assert sorted(out) == list(range(40))
        assert all(position[start] < k + 8 for k, start in enumerate(out))


def test_shuffle_without_seed_follows_set_random_seed():
    def first_pass():
        utils.set_random_seed(4)
        return starts_of(timeseries_dataset_from_array(np.arange(80), None, 2, batch_size=8,
                                                       shuffle=True))
    assert first_pass() == first_pass()


def test_shuffled_single_windows_come_once_each_keep_their_targets_and_repeat_by_seed():
    make = lambda: timeseries_dataset_from_array(np.arange(30), np.arange(30), 3,
                                                 batch_size=None, shuffle=True, seed=1)
    dataset = make()
    first = [int(x[0]) for x, _ in dataset]
    second = [int(x[0]) for x, _ in dataset]
    assert sorted(first) == list(range(28)) and first != second and first != sorted(first)
    assert all(int(x[0]) == int(y) for x, y in dataset)
    assert [int(x[0]) for x, _ in make()] == first  # a new dataset, the same seed


# --- argument errors (Keras' checks) ---------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(start_index=-1), "start_index must be 0 or more"),
    (dict(start_index=10), "start_index must be below the data length 10"),
    (dict(start_index=5, end_index=5), "end_index must be above start_index"),
    (dict(start_index=2, end_index=1), "end_index must be above start_index"),
    (dict(end_index=10), "end_index must be below the data length 10"),
    (dict(end_index=-2), "end_index must be above 0"),
    (dict(sampling_rate=0), "sampling_rate must be above 0"),
    (dict(sampling_rate=-1), "sampling_rate must be above 0"),
    (dict(sampling_rate=10), "sampling_rate must be below the data length"),
    (dict(sequence_stride=0), "sequence_stride must be above 0"),
    (dict(sequence_stride=10), "sequence_stride must be below the data length"),
    (dict(sequence_stride=11), "sequence_stride must be below the data length 10"),
    (dict(sequence_length=0), "sequence_length must be a whole number"),
    (dict(batch_size=0), "batch_size must be 1 or more"),
])
def test_bad_arguments(kwargs, match):
    arguments = dict(sequence_length=2) | kwargs
    with pytest.raises(ValueError, match=match):
        timeseries_dataset_from_array(np.arange(10), None, **arguments)


def test_start_index_zero_is_accepted():
    assert len(timeseries_dataset_from_array(np.arange(10), None, 2, start_index=0)) == 1


# --- with fit ----------------------------------------------------------------------------------

def test_fit_and_evaluate_take_the_dataset():
    from bptt import layers, models

    series = np.sin(np.arange(200) / 5.0).astype("float32")[:, None]  # (T, 1)
    dataset = timeseries_dataset_from_array(series[:-5], series[5:, 0], sequence_length=5,
                                            batch_size=32)
    model = models.Sequential([layers.Input((5, 1)), layers.SimpleRNN(4), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    x, y = (np.concatenate(parts) for parts in zip(*dataset))
    assert np.isclose(model.evaluate(dataset, verbose=0), model.evaluate(x, y, verbose=0),
                      rtol=1e-5)
