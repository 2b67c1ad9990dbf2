"""Stacked GRUs with recurrent dropout on a climate-like series (Deep Learning with Python,
temperature-forecasting chapter: "stacked GRU with dropout regularization").

timeseries_dataset_from_array with start_index / end_index / shuffle to cut one array into
train, validation and test windows whose target lies `delay` steps ahead; GRU(recurrent_dropout,
return_sequences=True) -> GRU(recurrent_dropout) -> Dropout -> Dense; rmsprop, mse, metrics
["mae"]; ModelCheckpoint(save_best_only=True) to a .keras file, then load_model and evaluate
on the test windows. The "climate" is a daily cycle plus a slower one plus noise.
"""
import os
import tempfile

import numpy as np

import keras
from keras import layers

rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

n_rows = 1500
hours = np.arange(n_rows) / 6.0
temperature = (10 + 8 * np.sin(2 * np.pi * hours / 24) + 3 * np.sin(2 * np.pi * hours / 200)
               + rng.normal(scale=0.5, size=n_rows))
pressure = 1000 + 5 * np.cos(2 * np.pi * hours / 100) + rng.normal(size=n_rows)
humidity = 60 - 2 * temperature + rng.normal(size=n_rows)
raw_data = np.stack([temperature, pressure, humidity], axis=1).astype("float32")

num_train_samples = int(0.5 * n_rows)
num_val_samples = int(0.25 * n_rows)
mean = raw_data[:num_train_samples].mean(axis=0)
std = raw_data[:num_train_samples].std(axis=0)
raw_data = (raw_data - mean) / std

sampling_rate = 6
sequence_length = 12
delay = sampling_rate * (sequence_length + 6 - 1)
batch_size = 32

train_dataset = keras.utils.timeseries_dataset_from_array(
    raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
    sequence_length=sequence_length, shuffle=True, batch_size=batch_size,
    start_index=0, end_index=num_train_samples)
val_dataset = keras.utils.timeseries_dataset_from_array(
    raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
    sequence_length=sequence_length, shuffle=True, batch_size=batch_size,
    start_index=num_train_samples, end_index=num_train_samples + num_val_samples)
test_dataset = keras.utils.timeseries_dataset_from_array(
    raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
    sequence_length=sequence_length, shuffle=True, batch_size=batch_size,
    start_index=num_train_samples + num_val_samples)

for samples, targets in train_dataset:
    print("samples shape:", tuple(samples.shape), "targets shape:", tuple(targets.shape))
    break

inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
x = layers.GRU(16, recurrent_dropout=0.5, return_sequences=True)(inputs)
x = layers.GRU(16, recurrent_dropout=0.5)(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)

checkpoint_path = os.path.join(tempfile.mkdtemp(), "jena_stacked_gru_dropout.keras")
callbacks = [keras.callbacks.ModelCheckpoint(checkpoint_path, save_best_only=True)]
model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
history = model.fit(train_dataset, epochs=2, validation_data=val_dataset, callbacks=callbacks)

model = keras.models.load_model(checkpoint_path)
test_mae = model.evaluate(test_dataset)[1]
print(f"Test MAE: {test_mae:.2f}")
print("RESULT jena_stacked_gru", test_mae)
