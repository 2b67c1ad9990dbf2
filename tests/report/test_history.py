"""The training history from a CSVLogger file: the same numbers as fit's History, and clear
errors for a file that is not one."""
import math

import numpy as np
import pytest

from bptt import callbacks, layers, models
from bptt.report import History, read_csv_history


def test_a_csv_logger_file_gives_fits_history(tmp_path, rng):
    model = models.Sequential([layers.LSTM(3), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x = rng.normal(size=(12, 4, 2)).astype("float32")
    y = (x[:, -1, :1] > 0).astype("float32")
    fitted = model.fit(x, y, epochs=3, batch_size=4, validation_split=0.25, verbose=0,
                       callbacks=[callbacks.CSVLogger(tmp_path / "log.csv")])
    history = read_csv_history(tmp_path / "log.csv")
    assert history.epochs == [1, 2, 3]
    assert set(history.values) == set(fitted.history)
    for key, values in fitted.history.items():
        np.testing.assert_allclose(history.values[key], values, rtol=1e-6)


def test_na_and_missing_keys_read_nan(tmp_path):
    (tmp_path / "log.csv").write_text("epoch,loss,val_loss\n0,0.5,NA\n1,0.25,0.75\n")
    history = read_csv_history(tmp_path / "log.csv")
    assert history.values["loss"] == [0.5, 0.25]
    assert math.isnan(history.values["val_loss"][0]) and history.values["val_loss"][1] == 0.75
    more = History()
    more.add(0, {"loss": 1.0})
    more.add(1, {"loss": 0.5, "lr": 0.1, "outputs": [1, 2]})
    assert more.epochs == [1, 2] and more.values["loss"] == [1.0, 0.5]
    assert math.isnan(more.values["lr"][0]) and "outputs" not in more.values


@pytest.mark.parametrize("content, words", [
    ("", "is empty"),
    ("loss,accuracy\n0.5,0.5\n", "not a CSVLogger header"),
    ("epoch,loss\n", "no epoch"),
    ("epoch,loss\n0,0.5,1\n", "line 2 has 3 values for the 2 columns"),
    ("epoch,loss\nfirst,0.5\n", "not a whole number"),
    ("epoch,loss\n0,low\n", "loss is 'low', not a number"),
])
def test_a_file_that_is_not_a_csv_logger_log_says_so(tmp_path, content, words):
    (tmp_path / "log.csv").write_text(content)
    with pytest.raises(ValueError, match=words):
        read_csv_history(tmp_path / "log.csv")
