"""Cells inside the generic RNN layer (keras-io guide "Working with RNNs": "RNN layers and RNN
cells" and the LSTM(units) vs RNN(LSTMCell(units)) comparison on image rows).

LSTM(units) and RNN(LSTMCell(units)) built by the same function, each followed by
BatchNormalization and Dense logits; SparseCategoricalCrossentropy(from_logits=True)
with "sgd"; the cell model takes the layer model's weights by set_weights(get_weights()) and
must predict the same; then RNN([GRUCell, GRUCell]) stacks two cells in one layer and
RNN(SimpleRNNCell, return_sequences=True) feeds it. "Images": 8x8 class patterns plus noise,
read row by row.
"""
import numpy as np

import keras

rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

input_dim = 8
units = 16
output_size = 4
patterns = rng.random((output_size, input_dim, input_dim))
y_train = rng.integers(0, output_size, size=160)
x_train = (patterns[y_train] + 0.3 * rng.normal(size=(160, input_dim, input_dim)))
x_train = x_train.astype("float32")


def build_model(allow_fused_layer=True):
    if allow_fused_layer:
        lstm_layer = keras.layers.LSTM(units)
    else:
        lstm_layer = keras.layers.RNN(keras.layers.LSTMCell(units))
    return keras.models.Sequential([
        keras.Input(shape=(None, input_dim)),
        lstm_layer,
        keras.layers.BatchNormalization(),
        keras.layers.Dense(output_size),
    ])


model = build_model(allow_fused_layer=True)
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer="sgd", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=32, epochs=1)

cell_model = build_model(allow_fused_layer=False)
cell_model.set_weights(model.get_weights())
difference = np.max(np.abs(model.predict(x_train[:8]) - cell_model.predict(x_train[:8])))
print("LSTM vs RNN(LSTMCell), same weights, largest difference:", difference)

stacked = keras.Sequential([
    keras.Input(shape=(None, input_dim)),
    keras.layers.RNN(keras.layers.SimpleRNNCell(units), return_sequences=True),
    keras.layers.RNN([keras.layers.GRUCell(units), keras.layers.GRUCell(units)]),
    keras.layers.Dense(output_size),
])
stacked.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                optimizer="sgd", metrics=["accuracy"])
history = stacked.fit(x_train, y_train, batch_size=32, epochs=2)
print("stacked cells' weights:", [w.shape for w in stacked.get_weights()])
print("RESULT rnn_cells", history.history["loss"][-1])
