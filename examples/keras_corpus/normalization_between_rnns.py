"""Normalization between stacked recurrent layers, every weight from a constant initializer
(Keras' own recurrent-layer tests build their golden values with constant initializers; the
LayerNormalization / BatchNormalization between RNN layers is a common deep-stack recipe).

GRU -> LayerNormalization -> LSTM -> BatchNormalization -> LSTM -> Dense, each weight set by
keras.initializers.Constant; no dropout and shuffle=False, so two runs of this program (on any
backend that follows Keras' maths) print the same loss.
"""
import numpy as np

import keras
from keras import layers
from keras.initializers import Constant

timesteps, features = 8, 3
t = np.arange(64)[:, None] + np.arange(timesteps)[None, :]  # (N, T)
x = np.stack([np.sin(t / 3.0), np.cos(t / 5.0), (t % 7) / 7.0], axis=-1).astype("float32")
y = np.sin((t[:, -1] + 1) / 3.0).astype("float32")[:, None]


def recurrent_weights(scale):
    return dict(kernel_initializer=Constant(0.1 * scale),
                recurrent_initializer=Constant(-0.05 * scale),
                bias_initializer=Constant(0.01))


model = keras.Sequential([
    keras.Input(shape=(timesteps, features)),
    layers.GRU(6, return_sequences=True, **recurrent_weights(1.0)),
    layers.LayerNormalization(),
    layers.LSTM(5, return_sequences=True, **recurrent_weights(0.7)),
    layers.BatchNormalization(),
    layers.LSTM(4, **recurrent_weights(1.3)),
    layers.Dense(1, kernel_initializer=Constant(0.2), bias_initializer=Constant(0.0)),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
model.summary()
history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False)
print("predictions:", model.predict(x[:3], verbose=0).ravel().tolist())
print("RESULT normalization_between_rnns", history.history["loss"][-1])
