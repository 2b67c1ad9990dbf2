"""Character-level text generation (keras-io: "Character-level text generation with LSTM").

Sequential built from a list that starts with keras.Input, one LSTM, a softmax Dense over the
characters; keras.optimizers.RMSprop(learning_rate=...); fit one epoch at a time, then sample
new characters one predict(verbose=0) call at a time with a temperature.
"""
import numpy as np

import keras
from keras import layers

text = (
    "it is a truth universally acknowledged, that a single man in possession of a good "
    "fortune, must be in want of a wife. however little known the feelings or views of such "
    "a man may be on his first entering a neighbourhood, this truth is so well fixed in the "
    "minds of the surrounding families, that he is considered the rightful property of some "
    "one or other of their daughters."
)
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)

chars = sorted(set(text))
char_indices = {c: i for i, c in enumerate(chars)}
indices_char = {i: c for i, c in enumerate(chars)}

maxlen = 12
step = 3
sentences = [text[i:i + maxlen] for i in range(0, len(text) - maxlen, step)]
next_chars = [text[i + maxlen] for i in range(0, len(text) - maxlen, step)]
x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
y = np.zeros((len(sentences), len(chars)), dtype=bool)
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1

model = keras.Sequential([
    keras.Input(shape=(maxlen, len(chars))),
    layers.LSTM(32),
    layers.Dense(len(chars), activation="softmax"),
])
optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
model.compile(loss="categorical_crossentropy", optimizer=optimizer)


def sample(preds, temperature=1.0):
    preds = np.log(np.asarray(preds).astype("float64") + 1e-12) / temperature
    probs = np.exp(preds) / np.sum(np.exp(preds))
    return int(np.argmax(rng.multinomial(1, probs, 1)))


for epoch in range(2):
    history = model.fit(x, y, batch_size=32, epochs=1)
    for diversity in [0.5, 1.0]:
        sentence = text[:maxlen]
        generated = ""
        for _ in range(10):
            x_pred = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.0
            preds = model.predict(x_pred, verbose=0)[0]
            next_char = indices_char[sample(preds, diversity)]
            sentence = sentence[1:] + next_char
            generated += next_char
        print(f"epoch {epoch} diversity {diversity}: {generated!r}")

print("RESULT char_text_generation", history.history["loss"][-1])
