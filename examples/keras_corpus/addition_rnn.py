"""Learn to add two numbers written as strings (keras-io: "Sequence to sequence learning for
performing number addition").

Sequential encoder LSTM, RepeatVector, a decoder LSTM with return_sequences=True and a softmax
Dense applied at every output step; one-hot bool arrays; summary(); a fit per "iteration" with
validation_data and a look at a few predictions decoded back to text.
"""
import numpy as np

import keras
from keras import layers

DIGITS = 2
MAXLEN = DIGITS + 1 + DIGITS
CHARS = "0123456789+ "
char_index = {c: i for i, c in enumerate(CHARS)}
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)


def one_hot(text, rows):
    x = np.zeros((rows, len(CHARS)), dtype=bool)
    for i, c in enumerate(text):
        x[i, char_index[c]] = True
    return x


def decode(x):
    return "".join(CHARS[i] for i in x.argmax(axis=-1))


questions, answers = [], []
while len(questions) < 300:
    a, b = (int(rng.integers(0, 10 ** DIGITS)) for _ in range(2))
    query = f"{a}+{b}".ljust(MAXLEN)[::-1]  # reversed input: shorter paths to the answer
    questions.append(query)
    answers.append(str(a + b).ljust(DIGITS + 1))

x = np.stack([one_hot(q, MAXLEN) for q in questions])
y = np.stack([one_hot(a, DIGITS + 1) for a in answers])
split_at = len(x) - len(x) // 10
x_train, x_val = x[:split_at], x[split_at:]
y_train, y_val = y[:split_at], y[split_at:]

model = keras.Sequential()
model.add(keras.Input(shape=(MAXLEN, len(CHARS))))
model.add(layers.LSTM(32))
model.add(layers.RepeatVector(DIGITS + 1))
model.add(layers.LSTM(32, return_sequences=True))
model.add(layers.Dense(len(CHARS), activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()

for iteration in range(1, 3):
    history = model.fit(x_train, y_train, batch_size=32, epochs=1,
                        validation_data=(x_val, y_val))
    for i in range(3):
        row_x, row_y = x_val[np.array([i])], y_val[np.array([i])]
        guess = decode(model.predict(row_x, verbose=0)[0])
        print("Q", decode(row_x[0])[::-1], "T", decode(row_y[0]), "guess", guess)

print("RESULT addition_rnn", history.history["val_loss"][-1])
