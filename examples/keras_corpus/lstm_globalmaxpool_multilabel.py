"""Multi-label comment classifier: a Bidirectional LSTM's whole sequence, max-pooled over time
(the common "Embedding -> Bidirectional(LSTM, return_sequences=True) -> GlobalMaxPooling1D"
text classifier, with the 1D pooling head of keras-io's "Text classification from scratch").

GlobalMaxPooling1D over the (batch, time, 2 * units) sequence; six independent sigmoid outputs
with binary_crossentropy and metrics=["binary_accuracy"]; Dropout; predict on a few comments.
"""
import numpy as np

import keras
from keras import layers

vocab_size = 400
maxlen = 30
n_labels = 6
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

# A comment carries label k when one of the ids 10k..10k+9 occurs in it.
x = rng.integers(60, vocab_size, size=(192, maxlen))
y = np.zeros((192, n_labels), dtype="float32")
for i in range(len(x)):
    for k in rng.choice(n_labels, size=rng.integers(0, 3), replace=False):
        x[i, rng.integers(0, maxlen)] = 10 * k + rng.integers(0, 10)
        y[i, k] = 1.0

inputs = keras.Input(shape=(maxlen,), dtype="int32")
x_emb = layers.Embedding(vocab_size, 16)(inputs)
h = layers.Bidirectional(layers.LSTM(12, return_sequences=True))(x_emb)
h = layers.GlobalMaxPooling1D()(h)
h = layers.Dense(16, activation="relu")(h)
h = layers.Dropout(0.1)(h)
outputs = layers.Dense(n_labels, activation="sigmoid")(h)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["binary_accuracy"])

history = model.fit(x, y, batch_size=32, epochs=2, validation_split=0.1)
probabilities = model.predict(x[:4])
print("predicted labels:", (probabilities > 0.5).astype(int).tolist())
print("RESULT lstm_globalmaxpool_multilabel", history.history["loss"][-1])
