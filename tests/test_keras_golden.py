"""Golden values from Keras 3 itself (tests/data/make_keras_golden.py, run with Keras 3.15.1 /
TensorFlow 2.21.0): the same model with Keras' own initial weights must give Keras'
predictions, loss, and weights after each of three training steps, with Adam, RMSprop and
SGD (Nesterov momentum), and with each kind of gradient clipping on an embedding."""
from pathlib import Path

import numpy as np
import pytest

from bptt import layers as L
from bptt import models, optimizers
from tests.helpers.golden import golden_weights

DATA = Path(__file__).parent / "data"

CASES = {
    "sentiment": lambda: (
        [L.Input(shape=(7,)), L.Embedding(50, 8), L.LSTM(6, return_sequences=True), L.GRU(5),
         L.Dense(1, activation="sigmoid")],
        optimizers.Adam(learning_rate=0.01), "binary_crossentropy"),
    "tagging": lambda: (
        [L.Input(shape=(6,)), L.Embedding(30, 5),
         L.Bidirectional(L.SimpleRNN(4, return_sequences=True)),
         L.GRU(3, reset_after=False, return_sequences=True, go_backwards=True),
         L.TimeDistributed(L.Dense(3, activation="softmax"))],
        optimizers.RMSprop(learning_rate=0.01), "sparse_categorical_crossentropy"),
    "regression": lambda: (
        [L.Input(shape=(6, 3)), L.LSTM(4, return_sequences=True, go_backwards=True),
         L.Dense(2, activation="tanh"), L.Bidirectional(L.GRU(3), merge_mode="ave"), L.Dense(2)],
        optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True), "mse"),
}
# An embedding looked up with many repeats under each kind of clipping: TF clips its gradient
# slice by slice (bptt.optimizers.base.RowGradient), which the summed gradient would not match.
CLIPPED = {
    "clipnorm": lambda: optimizers.Adam(learning_rate=0.05, clipnorm=0.02),
    "global_clipnorm": lambda: optimizers.RMSprop(learning_rate=0.01, global_clipnorm=0.05),
    "clipvalue": lambda: optimizers.SGD(learning_rate=0.5, momentum=0.5, clipvalue=0.002),
}
for _name, _optimizer in CLIPPED.items():
    CASES[_name] = (lambda optimizer: lambda: (
        [L.Input(shape=(7,)), L.Embedding(6, 4), L.LSTM(5), L.Dense(1, activation="sigmoid")],
        optimizer(), "binary_crossentropy"))(_optimizer)


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras(case):
    golden = dict(np.load(DATA / f"keras_golden_{case}.npz", allow_pickle=False))
    layer_list, optimizer, loss = CASES[case]()
    model = models.Sequential(layer_list)
    model.compile(optimizer=optimizer, loss=loss)
    assert [w.shape for w in model.get_weights()] == [w.shape for w in golden_weights(golden, 0)]
    model.set_weights(golden_weights(golden, 0))
    x, y = golden["x"], golden["y"]
    np.testing.assert_allclose(model.predict(x, verbose=0), golden["pred"], atol=2e-6)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(float(golden["loss"]), abs=2e-6)
    for step in range(3):
        loss_value = model.train_on_batch(x, y)
        assert loss_value == pytest.approx(float(golden[f"train_loss_{step}"]), abs=1e-5), step
        for index, (ours, theirs) in enumerate(zip(model.get_weights(),
                                                   golden_weights(golden, step + 1))):
            np.testing.assert_allclose(ours, theirs, atol=1e-5,
                                       err_msg=f"step {step + 1}, weight {index}")
