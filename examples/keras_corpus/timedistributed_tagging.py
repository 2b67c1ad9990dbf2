"""Tag every word of a sentence (the part-of-speech / named-entity tagger pattern:
Embedding(mask_zero=True) -> Bidirectional(LSTM, return_sequences=True) ->
TimeDistributed(Dense(softmax))).

Ragged sentences post-padded with pad_sequences(padding="post"), per-step integer tags padded
the same way, sparse_categorical_crossentropy computed only at real words because the mask
travels from the Embedding to the loss; predict then argmax per word. The "language": a word's
tag is its id modulo 5, except that a word after id 1 takes tag 4.
"""
import numpy as np

import keras
from keras import layers

vocab_size = 80
n_tags = 5
maxlen = 15
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

sentences, tags = [], []
for _ in range(160):
    words = rng.integers(1, vocab_size, size=rng.integers(3, maxlen + 1))
    word_tags = words % n_tags
    word_tags[1:][words[:-1] == 1] = 4
    sentences.append(words.tolist())
    tags.append(word_tags.tolist())

x = keras.utils.pad_sequences(sentences, maxlen=maxlen, padding="post")
y = keras.utils.pad_sequences(tags, maxlen=maxlen, padding="post")

model = keras.Sequential([
    keras.Input(shape=(maxlen,)),
    layers.Embedding(vocab_size, 16, mask_zero=True),
    layers.Bidirectional(layers.LSTM(16, return_sequences=True)),
    layers.TimeDistributed(layers.Dense(n_tags, activation="softmax")),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
history = model.fit(x, y, batch_size=32, epochs=2, validation_split=0.2)

predicted = model.predict(x[:2]).argmax(axis=-1)
for words, guess in zip(sentences[:2], predicted):
    print(list(zip(words, guess[:len(words)].tolist())))
print("RESULT timedistributed_tagging", history.history["val_loss"][-1])
