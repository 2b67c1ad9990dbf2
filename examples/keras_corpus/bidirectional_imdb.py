"""Two stacked Bidirectional LSTMs over word ids (keras-io: "Bidirectional LSTM on IMDB").

Functional API on a variable-length int input, Embedding, Bidirectional(return_sequences=True)
feeding a second Bidirectional, pad_sequences on ragged lists, validation_data. The reviews are
random word ids; a review is positive when it holds more "good" words (ids < 50) than "bad" ones.
"""
import numpy as np

import keras
from keras import layers

max_features = 200
maxlen = 20
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)


def make_reviews(n):
    reviews = [list(rng.integers(1, max_features, size=rng.integers(5, 30))) for _ in range(n)]
    labels = np.array([int(sum(w < 50 for w in r) > sum(w >= 150 for w in r)) for r in reviews])
    return reviews, labels


x_train, y_train = make_reviews(160)
x_val, y_val = make_reviews(40)
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(max_features, 16)(inputs)
x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(8))(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
print("RESULT bidirectional_imdb", history.history["val_loss"][-1])
