"""predict, evaluate and model(x) called from two threads on one model give what the same calls
give one after the other (bptt.models.training.one_call_at_a_time)."""
import threading

import numpy as np
import pytest

from bptt import layers, models


def sequential():
    net = models.Sequential([layers.Input((7,), dtype="int32"), layers.Embedding(30, 6),
                             layers.LSTM(5, return_sequences=True), layers.GRU(4),
                             layers.Dense(3, activation="softmax")])
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    return net


def functional():
    ids = layers.Input((7,), dtype="int32")
    x = layers.Embedding(30, 6, mask_zero=True)(ids)
    x = layers.Bidirectional(layers.LSTM(4))(x)
    out = layers.Dense(3, activation="softmax")(x)
    net = models.Model(ids, out)
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    return net


def in_two_threads(calls):
    """Run `calls` (functions of no argument) split over two threads, started together, each
    one after another; their answers, in the order of `calls`."""
    answers = [None] * len(calls)
    start = threading.Barrier(2)
    errors = []

    def work(indices):
        start.wait()
        try:
            for i in indices:
                answers[i] = calls[i]()
        except BaseException as error:  # noqa: BLE001 (reported to the test below)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(range(k, len(calls), 2),)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return answers


@pytest.mark.parametrize("make", [sequential, functional])
def test_calls_from_two_threads_equal_the_same_calls_one_after_another(make, rng):
    net = make()
    batches = [rng.integers(0, 30, size=(n, 7)) for n in (5, 17, 8, 33, 2, 12) * 4]
    targets = [rng.integers(0, 3, size=(len(x), 1)) for x in batches]
    kinds = ("predict", "evaluate", "call")

    def call(i):
        x, y = batches[i], targets[i]
        kind = kinds[i % 3]
        if kind == "predict":
            return lambda: net.predict(x, batch_size=4, verbose=0)
        if kind == "evaluate":
            return lambda: np.array(net.evaluate(x, y, batch_size=4, verbose=0))
        return lambda: net(x)

    calls = [call(i) for i in range(len(batches))]
    alone = [c() for c in calls]
    for _ in range(3):
        together = in_two_threads(calls)
        for i, (a, b) in enumerate(zip(alone, together)):
            np.testing.assert_array_equal(np.asarray(b), np.asarray(a),
                                          err_msg=f"call {i} ({kinds[i % 3]})")
