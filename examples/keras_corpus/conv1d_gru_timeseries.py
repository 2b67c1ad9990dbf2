"""A 1D convnet shortens a long series before a GRU reads it (Deep Learning with Python, first
edition, "Combining CNNs and RNNs to process long sequences").

Sequential: Conv1D(relu) -> MaxPooling1D -> Conv1D(relu) -> GRU(dropout, recurrent_dropout)
-> Dense(1); rmsprop with mae as the loss; a validation split. The series: the mean of the
next few steps of a noisy two-frequency wave, predicted from the last 60 steps.
"""
import numpy as np

import keras
from keras import layers

rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

n_samples, lookback, n_features = 160, 60, 2
t = np.arange(n_samples)[:, None] * 3 + np.arange(lookback + 5)[None, :]  # (N, T + 5)
wave = np.sin(t / 7.0) + 0.5 * np.sin(t / 2.3) + 0.1 * rng.normal(size=t.shape)
x = np.stack([wave[:, :lookback], np.cos(t[:, :lookback] / 7.0)], axis=-1).astype("float32")
y = wave[:, lookback:].mean(axis=1).astype("float32")

model = keras.Sequential()
model.add(keras.Input(shape=(None, n_features)))
model.add(layers.Conv1D(16, 5, activation="relu"))
model.add(layers.MaxPooling1D(3))
model.add(layers.Conv1D(16, 5, activation="relu"))
model.add(layers.GRU(16, dropout=0.1, recurrent_dropout=0.5))
model.add(layers.Dense(1))
model.summary()

model.compile(optimizer=keras.optimizers.RMSprop(), loss="mae")
history = model.fit(x, y, epochs=2, batch_size=32, validation_split=0.2)
print("RESULT conv1d_gru_timeseries", history.history["val_loss"][-1])
