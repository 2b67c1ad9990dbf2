"""ReduceLROnPlateau, LearningRateScheduler, LambdaCallback and CSVLogger: Keras 3's rules
(keras/src/callbacks/*.py) driven epoch by epoch, then inside a real fit."""
import csv
import types

import numpy as np
import pytest

from bptt import callbacks, layers, models, optimizers


def driven(callback, values, lr=1.0, monitor="val_loss"):
    """Run the epoch hooks over `values` of `monitor`; the learning rate each epoch logged."""
    optimizer = optimizers.SGD(learning_rate=lr)
    callback.set_model(types.SimpleNamespace(optimizer=optimizer))
    callback.on_train_begin()
    logged = []
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    return logged, optimizer.learning_rate


def test_reduce_lr_on_plateau_patience_and_cooldown():
    # patience 2: two epochs without improvement cut the rate; the cooldown epoch after a cut
    # resets the wait, then counting starts again (Keras' order of the checks).
    callback = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_delta=0)
    logged, final = driven(callback, [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95])
    assert logged == [1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25]  # the rate during each epoch
    assert final == 0.125


def test_reduce_lr_on_plateau_min_delta_and_mode_max():
    # an improvement smaller than min_delta does not count
    callback = callbacks.ReduceLROnPlateau(factor=0.1, patience=1, min_delta=0.1)
    assert driven(callback, [1.0, 0.95, 0.5])[1] == pytest.approx(0.1)
    # accuracy goes up: a fall is no improvement
    callback = callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1)
    assert driven(callback, [0.5, 0.6, 0.55], monitor="val_accuracy")[1] == 0.5


def test_reduce_lr_on_plateau_never_goes_below_min_lr():
    callback = callbacks.ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.05)
    logged, final = driven(callback, [1.0] * 5)
    # epoch 0 sets the best; each later epoch is a plateau: 1 -> 0.1 -> max(0.01, 0.05), then
    # 0.05 is not above min_lr and stays
    assert logged == pytest.approx([1.0, 1.0, 0.1, 0.05, 0.05]) and final == pytest.approx(0.05)


def test_reduce_lr_on_plateau_refuses_a_factor_of_one_or_more():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_warns_when_the_quantity_is_missing():
    callback = callbacks.ReduceLROnPlateau(monitor="val_mae")
    with pytest.warns(UserWarning, match="val_mae"):
        driven(callback, [1.0])


def test_learning_rate_scheduler_both_signatures_and_its_check():
    two = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    assert driven(two, [0, 0, 0], lr=0.8)[0] == [0.8, 0.4, 0.2]
    one = callbacks.LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1))
    assert driven(one, [0, 0, 0])[0] == pytest.approx([0.1, 0.2, 0.3])
    bad = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    with pytest.raises(ValueError, match="should be a float"):
        driven(bad, [0])


def tiny_model():
    model = models.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


def data():
    x = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
    return x, x.sum(axis=1, keepdims=True)


def test_scheduler_sets_the_rate_fit_uses_and_history_records_it(kernels_setting):
    kernels_setting("reference")
    x, y = data()
    model = tiny_model()
    before = model.get_weights()
    frozen = callbacks.LearningRateScheduler(lambda epoch, lr: 0.0)
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[frozen])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # a rate of 0 leaves SGD's weights alone
    assert history.history["learning_rate"] == [0.0, 0.0]
    rising = callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 * (epoch + 1))
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[rising])
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.02, 0.03])
    assert not np.array_equal(before[0], model.get_weights()[0])


def test_lambda_callback_calls_each_hook_given(kernels_setting):
    kernels_setting("reference")
    x, y = data()
    seen = []
    callback = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append("begin"),
        on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs))),
        on_train_batch_end=lambda batch, logs: seen.append(batch),
        on_train_end=lambda logs: seen.append("end"),
        on_test_end=lambda logs: seen.append("test"))
    tiny_model().fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[callback],
                     validation_split=0.25)
    epoch_logs = ["loss", "val_loss"]
    assert seen == ["begin", 0, 1, "test", (0, epoch_logs), 0, 1, "test", (1, epoch_logs),
                    "end"]


def test_csv_logger_writes_one_row_per_epoch_and_appends(tmp_path, kernels_setting):
    kernels_setting("reference")
    x, y = data()
    path = tmp_path / "log.csv"
    model = tiny_model()
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0,
                        callbacks=[callbacks.CSVLogger(path)])
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    # no validation: Keras adds the val_ columns anyway, filled with NA
    assert list(rows[0]) == ["epoch", "loss", "val_loss"]
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert [float(row["loss"]) for row in rows] == pytest.approx(history.history["loss"])
    assert {row["val_loss"] for row in rows} == {"NA"}
    model.fit(x, y, epochs=1, batch_size=4, verbose=0,
              callbacks=[callbacks.CSVLogger(path, separator=",", append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("epoch") and lines[3].startswith("0,")


# -- NaN is never an improvement (Keras 2's rule; Keras 3.15 takes a first NaN as the best) --

def test_reduce_lr_on_plateau_counts_a_nan_as_no_improvement():
    callback = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0)
    logged, final = driven(callback, [float("nan"), 1.0, float("nan"), 0.9])
    # patience 1: each NaN epoch is one without improvement, so each cuts the rate (a first
    # NaN taken as the best would have left 1.0 and then 0.9 no better than NaN: no cut at 2)
    assert logged == [1, 0.5, 0.5, 0.25] and final == 0.25
    assert callback.best == 0.9


def test_early_stopping_never_takes_nan_as_the_best():
    net = types.SimpleNamespace(stop_training=False, get_weights=lambda: [])
    callback = callbacks.EarlyStopping(monitor="val_loss", patience=2)
    callback.set_model(net)
    callback.on_train_begin()
    for epoch, value in enumerate([float("nan"), 0.8, 0.9]):
        callback.on_epoch_end(epoch, {"val_loss": value})
    assert callback.best == 0.8 and callback.best_epoch == 1 and not net.stop_training
    callback.on_epoch_end(3, {"val_loss": float("nan")})
    assert net.stop_training  # two epochs since 0.8, a NaN among them


def test_model_checkpoint_best_only_skips_a_nan_epoch(tmp_path):
    saved = []
    net = types.SimpleNamespace(save=saved.append, save_weights=saved.append)
    callback = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.bptt"), save_best_only=True)
    callback.set_model(net)
    for epoch, value in enumerate([float("nan"), 0.7, float("nan"), 0.6]):
        callback.on_epoch_end(epoch, {"val_loss": value})
    assert [path.rsplit("/", 1)[1] for path in saved] == ["m-2.bptt", "m-4.bptt"]
    assert callback.best == 0.6
