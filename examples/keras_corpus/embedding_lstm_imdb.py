"""Embedding + LSTM sentiment classifier in the book's first-edition style (Deep Learning with
Python, "Understanding recurrent neural networks": the LSTM on IMDB).

`from keras.models import Sequential`, `from keras.layers import ...`,
`from keras.preprocessing import sequence` and sequence.pad_sequences(maxlen=...) on ragged
lists; rmsprop, binary_crossentropy, metrics=["acc"], validation_split; the history's keys.
The reviews are random word ids whose label depends on a few "sentiment" words.
"""
import numpy as np

from keras.layers import LSTM, Dense, Embedding
from keras.models import Sequential
from keras.preprocessing import sequence
from keras.utils import set_random_seed

max_features = 300
maxlen = 25
rng = np.random.default_rng(1)
set_random_seed(0)

reviews, labels = [], []
for _ in range(200):
    label = int(rng.integers(0, 2))
    words = list(rng.integers(10, max_features, size=rng.integers(8, 40)))
    for _ in range(3):  # ids 1-4 are "good" words, 5-9 "bad" ones
        words.insert(int(rng.integers(0, len(words))), int(rng.integers(1, 5) if label else
                                                         rng.integers(5, 10)))
    reviews.append(words)
    labels.append(label)

input_train = sequence.pad_sequences(reviews, maxlen=maxlen)
y_train = np.array(labels)
print("input_train shape:", input_train.shape)

model = Sequential()
model.add(Embedding(max_features, 16))
model.add(LSTM(16))
model.add(Dense(1, activation="sigmoid"))
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(input_train, y_train, epochs=2, batch_size=32, validation_split=0.2)
print("history keys:", sorted(history.history))
print("RESULT embedding_lstm_imdb", history.history["val_acc"][-1])
