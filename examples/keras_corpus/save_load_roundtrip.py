"""Save a trained recurrent model, load it back, keep training (keras-io guide "Save, serialize,
and export models": the whole-model .keras file, and config + weights separately).

model.save("....keras") then keras.models.load_model gives the same predictions and resumes
training with the restored optimizer; get_config() -> keras.Sequential.from_config() plus
set_weights(get_weights()) gives the same model again; named layers are found by get_layer.
"""
import os
import tempfile

import numpy as np

import keras
from keras import layers

rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

x = rng.integers(1, 50, size=(96, 10))
y = (x[:, :3].sum(axis=1) > 75).astype("float32")

model = keras.Sequential([
    keras.Input(shape=(10,), dtype="int32"),
    layers.Embedding(50, 8, name="embedding"),
    layers.GRU(8, return_sequences=True, name="gru"),
    layers.LSTM(8, name="lstm"),
    layers.Dense(1, activation="sigmoid", name="classifier"),
], name="reviews")
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=32, epochs=1)
before = model.predict(x, verbose=0)

path = os.path.join(tempfile.mkdtemp(), "reviews.keras")
model.save(path)
restored = keras.models.load_model(path)
after = restored.predict(x, verbose=0)
print("restored layers:", [layer.name for layer in restored.layers])
print("GRU units after loading:", restored.get_layer("gru").units)
restored.fit(x, y, batch_size=32, epochs=1)

clone = keras.Sequential.from_config(model.get_config())
clone.set_weights(model.get_weights())
cloned = clone.predict(x, verbose=0)

difference = float(max(np.max(np.abs(before - after)), np.max(np.abs(before - cloned))))
print("RESULT save_load_roundtrip", difference)
