"""Forecast a temperature-like series from several weather-like features (keras-io:
"Timeseries forecasting for weather prediction").

keras.utils.timeseries_dataset_from_array with sampling_rate builds the training and
validation windows, fed straight to fit; functional Input -> LSTM -> Dense; Adam with a
learning rate; EarlyStopping and ModelCheckpoint(save_best_only) on val_loss into a temporary
directory. The "weather" is seven noisy sine waves with different periods.
"""
import os
import tempfile

import numpy as np

import keras

rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

n_rows = 1200
t = np.arange(n_rows, dtype="float32")
periods = np.array([144, 72, 288, 48, 96, 200, 36], dtype="float32")
features = np.sin(2 * np.pi * t[:, None] / periods) + 0.1 * rng.normal(size=(n_rows, 7))
features = features.astype("float32")

split_fraction = 0.7
train_split = int(split_fraction * n_rows)
features = (features - features[:train_split].mean(axis=0)) / features[:train_split].std(axis=0)
train_data, val_data = features[:train_split], features[train_split:]

step = 6
past = 60
future = 12
batch_size = 32
sequence_length = past // step

start = past + future
x_train = train_data
y_train = features[start:start + train_split, 1]
dataset_train = keras.utils.timeseries_dataset_from_array(
    x_train, y_train, sequence_length=sequence_length, sampling_rate=step,
    batch_size=batch_size)

x_end = len(val_data) - past - future
x_val = val_data[:x_end]
y_val = features[train_split + past + future:, 1]
dataset_val = keras.utils.timeseries_dataset_from_array(
    x_val, y_val, sequence_length=sequence_length, sampling_rate=step, batch_size=batch_size)

for inputs, targets in dataset_train:
    break
print("Input shape:", tuple(inputs.shape), "Target shape:", tuple(targets.shape))

inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
lstm_out = keras.layers.LSTM(16)(inputs)
outputs = keras.layers.Dense(1)(lstm_out)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
model.summary()

path_checkpoint = os.path.join(tempfile.mkdtemp(), "model_checkpoint.keras")
es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
modelckpt_callback = keras.callbacks.ModelCheckpoint(
    monitor="val_loss", filepath=path_checkpoint, verbose=1, save_best_only=True)

history = model.fit(dataset_train, epochs=2, validation_data=dataset_val,
                    callbacks=[es_callback, modelckpt_callback])
print("checkpoint written:", os.path.exists(path_checkpoint))
print("RESULT weather_forecasting", history.history["val_loss"][-1])
