"""Batches made on the fly: a keras.utils.PyDataset and a plain Python generator fed to fit
(keras-io guide "Training & evaluation with the built-in methods": "Using a PyDataset
instance" and generator inputs with steps_per_epoch).

A PyDataset subclass (calls super().__init__(**kwargs), defines __len__ and __getitem__)
for training and validation; an endless generator with steps_per_epoch and evaluate(steps=);
predict on a PyDataset that yields inputs only. GRU regression: a noisy wave's amplitude.
"""
import math

import numpy as np

import keras
from keras import layers

keras.utils.set_random_seed(0)
timesteps = 16


def make_batch(rng, size):
    amplitude = rng.uniform(0.5, 2.0, size=(size, 1)).astype("float32")
    phase = rng.uniform(0, 2 * np.pi, size=(size, 1))
    t = np.arange(timesteps)[None, :]
    x = amplitude * np.sin(t / 2.0 + phase) + 0.05 * rng.normal(size=(size, timesteps))
    return x[..., None].astype("float32"), amplitude


class WaveDataset(keras.utils.PyDataset):
    def __init__(self, n_samples, batch_size, seed, with_targets=True, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = make_batch(np.random.default_rng(seed), n_samples)
        self.batch_size = batch_size
        self.with_targets = with_targets

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        low = idx * self.batch_size
        high = min(low + self.batch_size, len(self.x))
        if self.with_targets:
            return self.x[low:high], self.y[low:high]
        return (self.x[low:high],)


def wave_generator(seed, batch_size):
    rng = np.random.default_rng(seed)
    while True:
        yield make_batch(rng, batch_size)


model = keras.Sequential([
    keras.Input(shape=(timesteps, 1)),
    layers.GRU(16),
    layers.Dense(1),
])
model.compile(optimizer="adam", loss="mse", metrics=["mae"])

history = model.fit(WaveDataset(128, 32, seed=1), epochs=2,
                    validation_data=WaveDataset(32, 32, seed=2))
model.fit(wave_generator(seed=3, batch_size=32), steps_per_epoch=4, epochs=1)
loss, mae = model.evaluate(wave_generator(seed=4, batch_size=32), steps=2)
predictions = model.predict(WaveDataset(40, 16, seed=5, with_targets=False))
print("predictions:", predictions.shape)
print("RESULT pydataset_generator", loss)
